//! The packet fields a filter decides on, extracted by one function that the kernel program
//! (over packet memory) and userspace (over a captured byte slice) both run, so the kernel and
//! `tracer -r` agree on every packet.
//!
//! Semantics follow libpcap 1.10's generated code for the primitives we support, quirks
//! included: `tcp` on IPv6 looks only at the fixed header's next-header (or one fragment
//! header), port primitives on IPv6 need TCP directly after the fixed header, `tcp[...]`
//! reads only IPv4, and an in-band 802.1Q tag hides the network layer from `ip`, `ip6`,
//! `tcp`, `host`, `port` (libpcap needs the `vlan` keyword for those).

/// Bounds-checked reads from a frame that starts at its Ethernet header.
pub trait PacketBytes {
    /// One byte at `off`, or `None` past the end of what is available.
    fn u8_at(&self, off: usize) -> Option<u8>;

    /// How many bytes are available from offset 0.
    fn available(&self) -> usize;

    /// A big-endian `u16` at `off`.
    #[inline(always)]
    fn be16_at(&self, off: usize) -> Option<u16> {
        let hi = self.u8_at(off)?;
        let lo = self.u8_at(off + 1)?;
        Some(((hi as u16) << 8) | lo as u16)
    }

    /// `W` big-endian words from `off` (byte `off` in the top byte of word 0), with zero
    /// bytes past what is available. The kernel reads them without a branch per byte; only
    /// the bytes below `available()` count.
    #[inline(always)]
    fn be_words<const W: usize>(&self, off: usize) -> [u64; W] {
        let mut w = [0u64; W];
        let mut i = 0;
        while i < 8 * W {
            match self.u8_at(off + i) {
                Some(x) => w[i / 8] |= (x as u64) << (56 - 8 * (i % 8)),
                None => break,
            }
            i += 1;
        }
        w
    }

    /// `N` bytes at `off`.
    #[inline(always)]
    fn bytes_at<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = self.u8_at(off + i)?;
            i += 1;
        }
        Some(out)
    }
}

impl PacketBytes for [u8] {
    #[inline]
    fn u8_at(&self, off: usize) -> Option<u8> {
        self.get(off).copied()
    }

    #[inline]
    fn available(&self) -> usize {
        self.len()
    }
}

/// `PacketFields::bits`.
pub mod bit {
    /// IPv4 protocol 6, or IPv6 whose extension-header chain reaches TCP: the packets the
    /// tracer traces at all.
    pub const TCP: u16 = 1 << 0;
    /// libpcap's `tcp` primitive matches.
    pub const PCAP_TCP: u16 = 1 << 1;
    /// libpcap's port primitives apply (IPv4 TCP with fragment offset 0, or IPv6 whose fixed
    /// header says TCP).
    pub const PCAP_PORTS: u16 = 1 << 2;
    /// `sport`/`dport` were within the captured bytes.
    pub const PORTS_CAPTURED: u16 = 1 << 3;
    /// libpcap's `tcp[...]` loads apply (IPv4 TCP with fragment offset 0).
    pub const PCAP_TCPHDR: u16 = 1 << 4;
    /// `tcp_flags` was within the captured bytes.
    pub const FLAGS_CAPTURED: u16 = 1 << 5;
    /// `saddr`/`daddr` were within the captured bytes.
    pub const ADDRS_CAPTURED: u16 = 1 << 6;
    /// The frame carries an 802.1Q/802.1ad tag in its bytes.
    pub const VLAN_IN_BAND: u16 = 1 << 7;
    /// A non-first fragment: protocol TCP, but no TCP header in it.
    pub const FRAGMENT: u16 = 1 << 8;
    /// A first fragment (IPv4 MF, or an IPv6 fragment header with M set and offset 0): the
    /// TCP header is here, the rest of the segment is not. Filters still see it as TCP
    /// (libpcap does); connection tracking skips it, as tshark does.
    pub const MORE_FRAGMENTS: u16 = 1 << 9;
}

/// What the filter looks at, for one packet. 8-byte aligned, so the addresses can be read
/// as words (the connection key does).
#[repr(C, align(8))]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PacketFields {
    /// Source address: IPv4 in the first four bytes, network order.
    pub saddr: [u8; 16],
    /// Destination address, as `saddr`.
    pub daddr: [u8; 16],
    /// Frame length on the wire (pcap's `len`), for `less`/`greater`.
    pub wire_len: u32,
    /// Offset of the IP header in the frame.
    pub l3_offset: u16,
    /// Offset of the TCP header in the frame (when `bit::TCP` and not `bit::FRAGMENT`).
    pub l4_offset: u16,
    pub sport: u16,
    pub dport: u16,
    /// 4, 6, or 0 when the ethertype is neither.
    pub ip_version: u8,
    pub tcp_flags: u8,
    /// `bit::*`.
    pub bits: u16,
}

const _: () = assert!(core::mem::size_of::<PacketFields>() == 48);

impl PacketFields {
    pub const EMPTY: PacketFields = PacketFields {
        saddr: [0; 16],
        daddr: [0; 16],
        wire_len: 0,
        l3_offset: 0,
        l4_offset: 0,
        sport: 0,
        dport: 0,
        ip_version: 0,
        tcp_flags: 0,
        bits: 0,
    };

    #[inline(always)]
    pub fn has(&self, b: u16) -> bool {
        self.bits & b != 0
    }
}

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
const IPPROTO_TCP: u8 = 6;
/// IPv6 extension headers walked before giving up (tcpdump walks them too).
pub const MAX_IPV6_EXT_HEADERS: u32 = 6;

/// Extracts the filter fields of an Ethernet frame whose wire length is `wire_len`.
#[inline(always)]
pub fn extract_fields<P: PacketBytes + ?Sized>(pkt: &P, wire_len: u32) -> PacketFields {
    extract_fields_with(pkt, wire_len, &PlainLoop)
}

/// [`extract_fields`] with the IPv6 extension-header walk run by `walker`.
#[inline(always)]
pub fn extract_fields_with<P: PacketBytes + ?Sized, W: Ipv6Walker>(
    pkt: &P,
    wire_len: u32,
    walker: &W,
) -> PacketFields {
    let mut f = PacketFields::EMPTY;
    f.wire_len = wire_len;
    let Some(mut ethertype) = pkt.be16_at(12) else {
        return f;
    };
    let mut l3 = 14usize;
    // Up to two tags (802.1ad outer, 802.1Q inner).
    let mut tags = 0;
    while tags < 2 && (ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD) {
        f.bits |= bit::VLAN_IN_BAND;
        let Some(t) = pkt.be16_at(l3 + 2) else {
            return f;
        };
        ethertype = t;
        l3 += 4;
        tags += 1;
    }
    extract_network(pkt, l3, ethertype, &mut f, walker);
    f
}

/// Extracts the filter fields of a frame whose network header starts at `l3` and whose
/// link layer says `ethertype` (for link types other than Ethernet: raw IP, Linux cooked).
#[inline(always)]
pub fn extract_network_fields<P: PacketBytes + ?Sized>(
    pkt: &P,
    l3: usize,
    ethertype: u16,
    wire_len: u32,
) -> PacketFields {
    let mut f = PacketFields::EMPTY;
    f.wire_len = wire_len;
    extract_network(pkt, l3, ethertype, &mut f, &PlainLoop);
    f
}

#[inline(always)]
fn extract_network<P: PacketBytes + ?Sized, W: Ipv6Walker>(
    pkt: &P,
    l3: usize,
    ethertype: u16,
    f: &mut PacketFields,
    walker: &W,
) {
    f.l3_offset = l3 as u16;
    if ethertype == ETH_P_IP {
        f.ip_version = 4;
        extract_ipv4(pkt, l3, f);
    } else if ethertype == ETH_P_IPV6 {
        f.ip_version = 6;
        extract_ipv6(pkt, l3, f, walker);
    }
}

#[inline(always)]
fn extract_ipv4<P: PacketBytes + ?Sized>(pkt: &P, l3: usize, f: &mut PacketFields) {
    let Some(proto) = pkt.u8_at(l3 + 9) else {
        return;
    };
    if let (Some(s), Some(d)) = (pkt.bytes_at::<4>(l3 + 12), pkt.bytes_at::<4>(l3 + 16)) {
        f.saddr[..4].copy_from_slice(&s);
        f.daddr[..4].copy_from_slice(&d);
        f.bits |= bit::ADDRS_CAPTURED;
    }
    if proto != IPPROTO_TCP {
        return;
    }
    f.bits |= bit::TCP | bit::PCAP_TCP;
    let Some(frag) = pkt.be16_at(l3 + 6) else {
        return;
    };
    if frag & 0x1fff != 0 {
        f.bits |= bit::FRAGMENT;
        return;
    }
    if frag & 0x2000 != 0 {
        f.bits |= bit::MORE_FRAGMENTS;
    }
    f.bits |= bit::PCAP_PORTS | bit::PCAP_TCPHDR;
    let Some(vihl) = pkt.u8_at(l3) else {
        return;
    };
    // libpcap takes the header length from IHL as it is, even when it is too small.
    let l4 = l3 + ((vihl & 0x0f) as usize) * 4;
    f.l4_offset = l4 as u16;
    read_tcp(pkt, l4, f);
}

/// Where a walk along an IPv6 extension-header chain stands.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Walk {
    /// Offset of the header `nh` names.
    pub off: u32,
    /// The next-header value to look at.
    pub nh: u8,
    /// `walk::*`.
    pub state: u8,
    /// 1 once a fragment header with offset 0 and the M flag was passed.
    pub more_fragments: u8,
    pub _pad: u8,
}

/// `Ipv6Walk::state`.
pub mod walk {
    /// Still walking.
    pub const WALKING: u8 = 0;
    /// `off` is the TCP header.
    pub const TCP: u8 = 1;
    /// A non-first fragment of a TCP packet: no TCP header here.
    pub const TCP_FRAGMENT: u8 = 2;
    /// Not TCP, or the chain could not be read.
    pub const OTHER: u8 = 3;
}

/// Looks at one header of the chain and advances; false once the walk has ended.
#[inline(always)]
pub fn ipv6_ext_step<P: PacketBytes + ?Sized>(pkt: &P, w: &mut Ipv6Walk) -> bool {
    let off = w.off as usize;
    match w.nh {
        IPPROTO_TCP => {
            w.state = walk::TCP;
            return false;
        }
        // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
        0 | 43 | 60 => {
            let (Some(next), Some(len)) = (pkt.u8_at(off), pkt.u8_at(off + 1)) else {
                w.state = walk::OTHER;
                return false;
            };
            w.nh = next;
            w.off += (len as u32 + 1) * 8;
        }
        // Fragment: 8 bytes; a non-first fragment has no TCP header.
        44 => {
            let (Some(next), Some(fo)) = (pkt.u8_at(off), pkt.be16_at(off + 2)) else {
                w.state = walk::OTHER;
                return false;
            };
            if fo & 0xfff8 != 0 {
                w.state = if next == IPPROTO_TCP {
                    walk::TCP_FRAGMENT
                } else {
                    walk::OTHER
                };
                return false;
            }
            if fo & 1 != 0 {
                w.more_fragments = 1;
            }
            w.nh = next;
            w.off += 8;
        }
        // Authentication header: (len + 2) * 4 bytes.
        51 => {
            let (Some(next), Some(len)) = (pkt.u8_at(off), pkt.u8_at(off + 1)) else {
                w.state = walk::OTHER;
                return false;
            };
            w.nh = next;
            w.off += (len as u32 + 2) * 4;
        }
        _ => {
            w.state = walk::OTHER;
            return false;
        }
    }
    true
}

/// Runs [`ipv6_ext_step`] until the walk ends, at most `MAX_IPV6_EXT_HEADERS + 1` times.
/// The kernel runs the same steps from a `bpf_loop` callback instead.
pub trait Ipv6Walker {
    fn walk<P: PacketBytes + ?Sized>(&self, pkt: &P, w: &mut Ipv6Walk);
}

/// The plain loop, for userspace.
pub struct PlainLoop;

impl Ipv6Walker for PlainLoop {
    #[inline(always)]
    fn walk<P: PacketBytes + ?Sized>(&self, pkt: &P, w: &mut Ipv6Walk) {
        let mut i = 0;
        while i <= MAX_IPV6_EXT_HEADERS && ipv6_ext_step(pkt, w) {
            i += 1;
        }
        if w.state == walk::WALKING {
            w.state = walk::OTHER;
        }
    }
}

#[inline(always)]
fn extract_ipv6<P: PacketBytes + ?Sized, W: Ipv6Walker>(
    pkt: &P,
    l3: usize,
    f: &mut PacketFields,
    walker: &W,
) {
    let Some(first_nh) = pkt.u8_at(l3 + 6) else {
        return;
    };
    if let (Some(s), Some(d)) = (pkt.bytes_at::<16>(l3 + 8), pkt.bytes_at::<16>(l3 + 24)) {
        f.saddr = s;
        f.daddr = d;
        f.bits |= bit::ADDRS_CAPTURED;
    }
    // libpcap's `ip6 proto 6`: TCP in the fixed header, or right after one fragment header.
    if first_nh == IPPROTO_TCP || (first_nh == 44 && pkt.u8_at(l3 + 40) == Some(IPPROTO_TCP)) {
        f.bits |= bit::PCAP_TCP;
    }
    let mut w = Ipv6Walk {
        off: (l3 + 40) as u32,
        nh: first_nh,
        state: walk::WALKING,
        more_fragments: 0,
        _pad: 0,
    };
    if first_nh == IPPROTO_TCP {
        w.state = walk::TCP;
    } else {
        walker.walk(pkt, &mut w);
    }
    match w.state {
        walk::TCP => {}
        walk::TCP_FRAGMENT => {
            f.bits |= bit::TCP | bit::FRAGMENT;
            return;
        }
        _ => return,
    }
    let off = w.off as usize;
    f.bits |= bit::TCP;
    if w.more_fragments != 0 {
        f.bits |= bit::MORE_FRAGMENTS;
    }
    f.l4_offset = off as u16;
    if first_nh == IPPROTO_TCP {
        f.bits |= bit::PCAP_PORTS;
        read_tcp(pkt, off, f);
    } else if let (Some(s), Some(d)) = (pkt.be16_at(off), pkt.be16_at(off + 2)) {
        // Ports of the TCP header past extension headers: kept for the tracer's own use,
        // but PCAP_PORTS stays clear as libpcap's port primitives would not see them.
        f.sport = s;
        f.dport = d;
        f.bits |= bit::PORTS_CAPTURED;
    }
}

#[inline(always)]
fn read_tcp<P: PacketBytes + ?Sized>(pkt: &P, l4: usize, f: &mut PacketFields) {
    if let (Some(s), Some(d)) = (pkt.be16_at(l4), pkt.be16_at(l4 + 2)) {
        f.sport = s;
        f.dport = d;
        f.bits |= bit::PORTS_CAPTURED;
    }
    if let Some(flags) = pkt.u8_at(l4 + 13) {
        f.tcp_flags = flags;
        f.bits |= bit::FLAGS_CAPTURED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(ethertype: u16) -> [u8; 14] {
        let mut e = [0u8; 14];
        e[12..14].copy_from_slice(&ethertype.to_be_bytes());
        e
    }

    fn ipv4_tcp(ihl: u8, frag: u16, proto: u8) -> [u8; 74] {
        let mut p = [0u8; 74];
        p[..14].copy_from_slice(&eth(ETH_P_IP));
        p[14] = 0x40 | ihl;
        p[14 + 6..14 + 8].copy_from_slice(&frag.to_be_bytes());
        p[14 + 9] = proto;
        p[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 1]);
        p[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 2]);
        let l4 = 14 + ihl as usize * 4;
        p[l4..l4 + 2].copy_from_slice(&40000u16.to_be_bytes());
        p[l4 + 2..l4 + 4].copy_from_slice(&80u16.to_be_bytes());
        p[l4 + 13] = 0x12;
        p
    }

    #[test]
    fn ipv4_tcp_fields() {
        let p = ipv4_tcp(5, 0x4000, 6);
        let f = extract_fields(&p[..], 74);
        assert_eq!(f.ip_version, 4);
        assert_eq!(&f.saddr[..4], &[10, 0, 0, 1]);
        assert_eq!((f.sport, f.dport, f.tcp_flags), (40000, 80, 0x12));
        assert_eq!(f.l4_offset, 34);
        for b in [
            bit::TCP,
            bit::PCAP_TCP,
            bit::PCAP_PORTS,
            bit::PCAP_TCPHDR,
            bit::FLAGS_CAPTURED,
        ] {
            assert!(f.has(b));
        }
    }

    #[test]
    fn ipv4_options_move_the_tcp_header() {
        let p = ipv4_tcp(6, 0, 6);
        let f = extract_fields(&p[..], 74);
        assert_eq!(f.l4_offset, 38);
        assert_eq!(f.dport, 80);
    }

    #[test]
    fn non_first_fragment_is_tcp_without_ports() {
        let p = ipv4_tcp(5, 0x0080, 6);
        let f = extract_fields(&p[..], 74);
        assert!(f.has(bit::TCP) && f.has(bit::FRAGMENT));
        assert!(!f.has(bit::PCAP_PORTS) && !f.has(bit::PORTS_CAPTURED));
    }

    #[test]
    fn udp_is_not_traced() {
        let p = ipv4_tcp(5, 0, 17);
        let f = extract_fields(&p[..], 74);
        assert!(!f.has(bit::TCP));
        assert!(f.has(bit::ADDRS_CAPTURED));
    }

    #[test]
    fn truncated_tcp_header_keeps_ports_but_not_flags() {
        let p = ipv4_tcp(5, 0, 6);
        let f = extract_fields(&p[..14 + 20 + 10], 74);
        assert!(f.has(bit::PORTS_CAPTURED) && !f.has(bit::FLAGS_CAPTURED));
    }

    #[test]
    fn vlan_tag_is_skipped_and_noted() {
        let inner = ipv4_tcp(5, 0, 6);
        let mut p = [0u8; 78];
        p[..12].copy_from_slice(&inner[..12]);
        p[12..14].copy_from_slice(&ETH_P_8021Q.to_be_bytes());
        p[14..16].copy_from_slice(&5u16.to_be_bytes());
        p[16..].copy_from_slice(&inner[12..]);
        let f = extract_fields(&p[..], 78);
        assert!(f.has(bit::VLAN_IN_BAND) && f.has(bit::TCP));
        assert_eq!((f.l3_offset, f.dport), (18, 80));
    }

    fn ipv6(nh: u8, ext: &[u8], tcp: bool) -> [u8; 128] {
        let mut p = [0u8; 128];
        p[..14].copy_from_slice(&eth(ETH_P_IPV6));
        p[14] = 0x60;
        p[14 + 6] = nh;
        p[14 + 8] = 0xfd;
        p[14 + 24] = 0xfd;
        p[54..54 + ext.len()].copy_from_slice(ext);
        if tcp {
            let l4 = 54 + ext.len();
            p[l4..l4 + 2].copy_from_slice(&1234u16.to_be_bytes());
            p[l4 + 2..l4 + 4].copy_from_slice(&80u16.to_be_bytes());
        }
        p
    }

    #[test]
    fn ipv6_direct_tcp_has_pcap_ports_but_no_tcp_loads() {
        let p = ipv6(6, &[], true);
        let f = extract_fields(&p[..], 128);
        assert!(f.has(bit::TCP) && f.has(bit::PCAP_TCP) && f.has(bit::PCAP_PORTS));
        assert!(!f.has(bit::PCAP_TCPHDR));
        assert_eq!(f.dport, 80);
    }

    #[test]
    fn ipv6_hop_by_hop_is_traced_but_hidden_from_pcap_tcp() {
        let p = ipv6(0, &[6, 0, 5, 2, 0, 0, 1, 0], true);
        let f = extract_fields(&p[..], 128);
        assert!(f.has(bit::TCP));
        assert!(!f.has(bit::PCAP_TCP) && !f.has(bit::PCAP_PORTS));
        assert_eq!(f.l4_offset, 62);
        assert_eq!(f.dport, 80);
    }

    #[test]
    fn ipv6_fragment_header_counts_for_pcap_tcp() {
        let p = ipv6(44, &[6, 0, 0, 0, 0, 0, 0, 1], true);
        let f = extract_fields(&p[..], 128);
        assert!(f.has(bit::TCP) && f.has(bit::PCAP_TCP) && !f.has(bit::PCAP_PORTS));
        let p = ipv6(44, &[6, 0, 0, 0x10, 0, 0, 0, 1], false);
        let f = extract_fields(&p[..], 128);
        assert!(f.has(bit::TCP) && f.has(bit::FRAGMENT));
    }

    #[test]
    fn empty_and_short_frames_yield_nothing() {
        assert_eq!(extract_fields(&[][..], 0).bits, 0);
        assert_eq!(extract_fields(&eth(ETH_P_IP)[..], 14).bits, 0);
    }
}
