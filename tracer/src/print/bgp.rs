//! BGP (tcpdump's print-bgp.c): `: BGP`, and with `-v` every message of the segment:
//! OPEN with its capabilities, UPDATE with withdrawn routes, path attributes (AS paths,
//! communities, MP_REACH/MP_UNREACH for IPv4/IPv6 unicast, multicast, labeled, VPN, RT
//! constraint, MDT, multicast VPN, L2VPN/VPLS and NSAP families, extended and large
//! communities, PMSI tunnels, AIGP, ATTR_SET) and NLRI, NOTIFICATION (with RFC 9003 shutdown
//! communications), KEEPALIVE and ROUTE-REFRESH. `-vv` adds hex dumps as tcpdump does.
//!
//! tcpdump formats several NLRI decoders into a buffer of `MAXHOSTNAMELEN + 100` bytes
//! and prints it only when the decoder succeeds; here they write straight into the output
//! and are cut back ([`buffered`]) to what that buffer would have held, or to nothing.
//! `-b` (asdot) is not an option of this tracer, so AS numbers are plain decimals.

use super::ctx::{Ctx, R};
use super::util::Tok;
use super::write;

const BGP_SIZE: usize = 19;
const BGP_OPEN_SIZE: usize = 29;
const BGP_NOTIFICATION_SIZE: usize = 21;
const BGP_ROUTE_REFRESH_SIZE: usize = 23;
const BGP_VPN_RD_LEN: usize = 8;
/// `char buf[MAXHOSTNAMELEN + 100]`: at most this many characters of a buffered decode.
const BUF_CHARS: usize = 64 + 100 - 1;

const MSG: &Tok = &[
    (1, "Open"),
    (2, "Update"),
    (3, "Notification"),
    (4, "Keepalive"),
    (5, "Route Refresh"),
];

const ATTR: &Tok = &[
    (1, "Origin"),
    (2, "AS Path"),
    (17, "AS4 Path"),
    (3, "Next Hop"),
    (4, "Multi Exit Discriminator"),
    (5, "Local Preference"),
    (6, "Atomic Aggregate"),
    (7, "Aggregator"),
    (18, "Aggregator4"),
    (8, "Community"),
    (9, "Originator ID"),
    (10, "Cluster List"),
    (11, "DPA"),
    (12, "Advertisers"),
    (13, "RCID Path / Cluster ID"),
    (14, "Multi-Protocol Reach NLRI"),
    (15, "Multi-Protocol Unreach NLRI"),
    (16, "Extended Community"),
    (22, "PMSI Tunnel"),
    (23, "Tunnel Encapsulation"),
    (24, "Traffic Engineering"),
    (25, "IPv6 Extended Community"),
    (26, "Accumulated IGP Metric"),
    (27, "PE Distinguisher Label"),
    (28, "Entropy Label"),
    (32, "Large Community"),
    (128, "Attribute Set"),
    (255, "Reserved for development"),
];

const SEG_OPEN: &Tok = &[(2, ""), (1, "{ "), (3, "( "), (4, "({ ")];
const SEG_CLOSE: &Tok = &[(2, ""), (1, "}"), (3, ")"), (4, "})")];

const OPT: &Tok = &[
    (1, "Authentication Information"),
    (2, "Capabilities Advertisement"),
];

const CAPCODE: &Tok = &[
    (1, "Multiprotocol Extensions"),
    (2, "Route Refresh"),
    (3, "Cooperative Route Filtering"),
    (4, "Multiple Routes to a Destination"),
    (5, "Extended Next Hop Encoding"),
    (8, "Multiple Labels"),
    (64, "Graceful Restart"),
    (65, "32-Bit AS Number"),
    (67, "Dynamic Capability"),
    (68, "Multisession BGP"),
    (69, "Multiple Paths"),
    (70, "Enhanced Route Refresh"),
    (71, "Long-lived Graceful Restart"),
    (128, "Route Refresh (Cisco)"),
];

const NOTIFY_MAJOR: &Tok = &[
    (1, "Message Header Error"),
    (2, "OPEN Message Error"),
    (3, "UPDATE Message Error"),
    (4, "Hold Timer Expired"),
    (5, "Finite State Machine Error"),
    (6, "Cease"),
    (7, "Capability Message Error"),
];

const NOTIFY_CEASE: &Tok = &[
    (1, "Maximum Number of Prefixes Reached"),
    (2, "Administrative Shutdown"),
    (3, "Peer Unconfigured"),
    (4, "Administrative Reset"),
    (5, "Connection Rejected"),
    (6, "Other Configuration Change"),
    (7, "Connection Collision Resolution"),
];

const NOTIFY_MSG: &Tok = &[
    (1, "Connection Not Synchronized"),
    (2, "Bad Message Length"),
    (3, "Bad Message Type"),
];

const NOTIFY_OPEN: &Tok = &[
    (1, "Unsupported Version Number"),
    (2, "Bad Peer AS"),
    (3, "Bad BGP Identifier"),
    (4, "Unsupported Optional Parameter"),
    (5, "Authentication Failure"),
    (6, "Unacceptable Hold Time"),
    (7, "Capability Message Error"),
];

const NOTIFY_UPDATE: &Tok = &[
    (1, "Malformed Attribute List"),
    (2, "Unrecognized Well-known Attribute"),
    (3, "Missing Well-known Attribute"),
    (4, "Attribute Flags Error"),
    (5, "Attribute Length Error"),
    (6, "Invalid ORIGIN Attribute"),
    (7, "AS Routing Loop"),
    (8, "Invalid NEXT_HOP Attribute"),
    (9, "Optional Attribute Error"),
    (10, "Invalid Network Field"),
    (11, "Malformed AS_PATH"),
];

const NOTIFY_FSM: &Tok = &[
    (0, "Unspecified Error"),
    (1, "In OpenSent State"),
    (2, "In OpenConfirm State"),
    (3, "In Established State"),
];

const NOTIFY_CAP: &Tok = &[
    (1, "Invalid Action Value"),
    (2, "Invalid Capability Length"),
    (3, "Malformed Capability Value"),
    (4, "Unsupported Capability Code"),
];

const ORIGIN: &Tok = &[(0, "IGP"), (1, "EGP"), (2, "Incomplete")];

const PMSI_TUNNEL: &Tok = &[
    (1, "RSVP-TE P2MP LSP"),
    (2, "LDP P2MP LSP"),
    (3, "PIM-SSM Tree"),
    (4, "PIM-SM Tree"),
    (5, "PIM-Bidir Tree"),
    (6, "Ingress Replication"),
    (7, "LDP MP2MP LSP"),
];

const PMSI_FLAG: &Tok = &[(0x01, "Leaf Information required")];

const AIGP: &Tok = &[(1, "AIGP")];

const SAFI: &Tok = &[
    (0, "Reserved"),
    (1, "Unicast"),
    (2, "Multicast"),
    (3, "Unicast+Multicast"),
    (4, "labeled Unicast"),
    (64, "Tunnel"),
    (65, "VPLS"),
    (66, "MDT"),
    (70, "EVPN"),
    (128, "labeled VPN Unicast"),
    (129, "labeled VPN Multicast"),
    (130, "labeled VPN Unicast+Multicast"),
    (132, "Route Target Routing Information"),
    (5, "Multicast VPN"),
];

/// af.c's `af_values`.
pub(crate) const AF_VALUES: &Tok = &[
    (0, "Reserved"),
    (1, "IPv4"),
    (2, "IPv6"),
    (3, "NSAP"),
    (4, "HDLC"),
    (5, "BBN 1822"),
    (6, "802"),
    (7, "E.163"),
    (8, "E.164"),
    (9, "F.69"),
    (10, "X.121"),
    (11, "Novell IPX"),
    (12, "Appletalk"),
    (13, "Decnet IV"),
    (14, "Banyan Vines"),
    (15, "E.164 with NSAP subaddress"),
    (196, "Layer-2 VPN"),
    (25, "VPLS"),
];

const EXTD_COMM_FLAG: &Tok = &[(0x8000, "vendor-specific"), (0x4000, "non-transitive")];

const EXTD_COMM_SUBTYPE: &Tok = &[
    (0x0002, "target"),
    (0x0102, "target"),
    (0x0202, "target"),
    (0x0003, "origin"),
    (0x0103, "origin"),
    (0x0203, "origin"),
    (0x4004, "link-BW"),
    (0x0005, "ospf-domain"),
    (0x0105, "ospf-domain"),
    (0x0205, "ospf-domain"),
    (0x8005, "ospf-domain"),
    (0x0306, "ospf-route-type"),
    (0x8000, "ospf-route-type"),
    (0x030c, "encapsulation"),
    (0x0107, "ospf-router-id"),
    (0x8001, "ospf-router-id"),
    (0x800a, "layer2-info"),
    (0x8800, "eigrp-general-route (flag, tag)"),
    (0x8801, "eigrp-route-metric (AS, delay)"),
    (
        0x8802,
        "eigrp-route-metric (reliability, nexthop, bandwidth)",
    ),
    (0x8803, "eigrp-route-metric (load, MTU)"),
    (0x8804, "eigrp-external-route (remote-AS, remote-ID)"),
    (0x8805, "eigrp-external-route (remote-proto, remote-metric)"),
    (0x0009, "source-AS"),
    (0x010b, "vrf-route-import"),
    (0x000a, "l2vpn-id"),
    (0xf10a, "l2vpn-id"),
];

const ENCAP_TUNNEL: &Tok = &[
    (1, "L2TPv3 over IP"),
    (2, "GRE"),
    (3, "Transmit Tunnel"),
    (4, "IPsec"),
    (5, "IP in IP with IPsec"),
    (6, "MPLS in IP with IPsec"),
    (7, "IP in IP"),
    (8, "VXLAN"),
    (9, "NVGRE"),
    (10, "MPLS"),
    (11, "MPLS in GRE"),
    (12, "VXLAN GPE"),
    (13, "MPLS in UDP"),
    (14, "IPv6"),
    (15, "SR TE"),
    (16, "Bare"),
    (17, "SR"),
];

const OSPF_RTYPE: &Tok = &[
    (1, "Router"),
    (2, "Network"),
    (3, "Summary"),
    (5, "External"),
    (7, "NSSA External"),
    (129, "MPLS-VPN Sham"),
];

const ADD_PATH_RECVSEND: &Tok = &[(1, "Receive"), (2, "Send"), (3, "Both")];

const MCAST_VPN_ROUTE_TYPE: &Tok = &[
    (1, "Intra-AS I-PMSI"),
    (2, "Inter-AS I-PMSI"),
    (3, "S-PMSI"),
    (4, "Intra-AS Segment-Leaf"),
    (5, "Source-Active"),
    (6, "Shared Tree Join"),
    (7, "Source Tree Join"),
];

/// l2vpn.c's `l2vpn_encaps_values`.
pub(crate) const L2VPN_ENCAPS: &Tok = &[
    (0, "Reserved"),
    (1, "Frame Relay"),
    (2, "ATM AAL5 SDU VCC transport"),
    (3, "ATM transparent cell transport"),
    (4, "Ethernet (VLAN) Tagged Mode"),
    (5, "Ethernet Raw Mode"),
    (6, "Cisco HDLC"),
    (7, "PPP"),
    (8, "SONET/SDH Circuit Emulation Service over MPLS"),
    (9, "ATM n-to-one VCC cell transport"),
    (10, "ATM n-to-one VPC cell transport"),
    (11, "IP layer 2 transport"),
    (15, "Frame Relay Port mode"),
    (17, "Structure-agnostic E1 over packet"),
    (18, "Structure-agnostic T1 (DS1) over packet"),
    (19, "VPLS"),
    (20, "Structure-agnostic T3 (DS3) over packet"),
    (21, "Nx64kbit/s Basic Service using Structure-aware"),
    (25, "Frame Relay DLCI"),
    (40, "Structure-agnostic E3 over packet"),
    (
        41,
        "Octet-aligned playload for Structure-agnostic DS1 circuits",
    ),
    (42, "E1 Nx64kbit/s with CAS using Structure-aware"),
    (43, "DS1 (ESF) Nx64kbit/s with CAS using Structure-aware"),
    (44, "DS1 (SF) Nx64kbit/s with CAS using Structure-aware"),
];

const AFNUM_INET: u16 = 1;
const AFNUM_INET6: u16 = 2;
const AFNUM_NSAP: u16 = 3;
const AFNUM_VPLS: u16 = 25;
const AFNUM_L2VPN: u16 = 196;

/// The (AFI, SAFI) pairs tcpdump decodes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fam {
    Inet,
    InetLab,
    InetRt,
    InetVpn,
    McastVpn,
    InetMdt,
    Inet6,
    Inet6Lab,
    Inet6Vpn,
    Nsap,
    NsapVpn,
    L2vpn,
}

fn family(af: u16, safi: u8) -> Option<Fam> {
    use Fam::*;
    Some(match (af, safi) {
        (AFNUM_INET, 1..=3) => Inet,
        (AFNUM_INET, 4) => InetLab,
        (AFNUM_INET, 132) => InetRt,
        (AFNUM_INET, 128..=130) => InetVpn,
        (AFNUM_INET, 5) => McastVpn,
        (AFNUM_INET, 66) => InetMdt,
        (AFNUM_INET6, 1..=3) => Inet6,
        (AFNUM_INET6, 4) => Inet6Lab,
        (AFNUM_INET6, 128..=130) => Inet6Vpn,
        (AFNUM_NSAP, 1..=3) => Nsap,
        (AFNUM_NSAP, 128..=130) => NsapVpn,
        (AFNUM_L2VPN, 128..=130) | (AFNUM_VPLS, 65) => L2vpn,
        _ => return None,
    })
}

/// Runs a buffered decoder: on success (a non-negative result) the output stays, cut to
/// what tcpdump's buffer of `cap` characters holds; on failure (negative, or a read past
/// the data) nothing of it stays.
pub(crate) fn buffered(c: &mut Ctx, cap: usize, f: impl FnOnce(&mut Ctx) -> R<i32>) -> R<i32> {
    let mark = c.out.len();
    match f(c) {
        Ok(v) if v >= 0 => {
            if c.out.len() > mark + cap {
                c.out.truncate(mark + cap);
            }
            Ok(v)
        }
        Ok(v) => {
            c.out.truncate(mark);
            Ok(v)
        }
        Err(t) => {
            c.out.truncate(mark);
            Err(t)
        }
    }
}

/// An IPv4 address from a local copy (`ipaddr_string`): a name unless `-n`.
fn v4(c: &mut Ctx, a: [u8; 4]) {
    c.names.write_v4(c.out, a);
}

fn v6(c: &mut Ctx, a: [u8; 16]) {
    c.names.write_v6(c.out, a);
}

/// Copies `n` packet bytes at `off` into a zeroed array and masks the last one to `plen`
/// bits, as the prefix decoders do.
fn prefix_bytes<const N: usize>(c: &Ctx, off: usize, plen: u32) -> R<[u8; N]> {
    let n = plen.div_ceil(8) as usize;
    let mut a = [0u8; N];
    a[..n].copy_from_slice(c.bytes(off, n)?);
    if !plen.is_multiple_of(8) {
        a[n - 1] &= ((0xff00u32 >> (plen % 8)) & 0xff) as u8;
    }
    Ok(a)
}

fn label_bos(c: &mut Ctx, label: u32, bos: u8) {
    c.s(", label:");
    c.num(label >> 4);
    c.s(if bos & 1 == 0 {
        " (BOGUS: Bottom of Stack NOT set!)"
    } else {
        " (bottom)"
    });
}

fn be24(c: &Ctx, off: usize) -> R<u32> {
    let b = c.bytes(off, 3)?;
    Ok((b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32)
}

/// `decode_prefix4`: `a.b.c.d/len`; -1 illegal length, -2 too short.
pub(crate) fn decode_prefix4(c: &mut Ctx, pptr: usize, itemlen: u32) -> R<i32> {
    if itemlen < 1 {
        return Ok(-2);
    }
    let plen = c.u8(pptr)? as u32;
    if plen > 32 {
        return Ok(-1);
    }
    let plenbytes = plen.div_ceil(8);
    if itemlen - 1 < plenbytes {
        return Ok(-2);
    }
    let a = prefix_bytes::<4>(c, pptr + 1, plen)?;
    v4(c, a);
    c.b(b'/');
    c.num(plen);
    Ok(1 + plenbytes as i32)
}

/// `decode_labeled_prefix4`: -1 illegal, -2 truncated, -3 too short.
fn decode_labeled_prefix4(c: &mut Ctx, pptr: usize, itemlen: u32) -> R<i32> {
    if !c.ttest(pptr, 4) {
        return Ok(-2);
    }
    if itemlen < 4 {
        return Ok(-3);
    }
    let plen = c.u8(pptr)? as u32;
    if plen < 24 {
        return Ok(-1);
    }
    let plen = plen - 24;
    if plen > 32 {
        return Ok(-1);
    }
    let plenbytes = plen.div_ceil(8);
    if itemlen - 4 < plenbytes {
        return Ok(-3);
    }
    let a = prefix_bytes::<4>(c, pptr + 4, plen)?;
    let label = be24(c, pptr + 1)?;
    let bos = c.u8(pptr + 3)?;
    v4(c, a);
    c.b(b'/');
    c.num(plen);
    label_bos(c, label, bos);
    Ok(4 + plenbytes as i32)
}

/// `bgp_vpn_ip_print`: an IPv4 or IPv6 address by its length in bits (into a 40-byte
/// static buffer).
fn vpn_ip(c: &mut Ctx, pptr: usize, addr_length: u32) -> R<()> {
    let mark = c.out.len();
    match addr_length {
        32 => c.ipaddr(pptr)?,
        128 => c.ip6addr(pptr)?,
        _ => {
            c.s("bogus address length ");
            c.num(addr_length);
        }
    }
    if c.out.len() > mark + 39 {
        c.out.truncate(mark + 39);
    }
    Ok(())
}

/// `bgp_vpn_sg_print`: `, Source S, Group G`; the bytes read.
fn vpn_sg(c: &mut Ctx, pptr: usize) -> R<u32> {
    let mut pptr = pptr;
    let mut total = 0u32;
    let addr_length = c.u8(pptr)? as u32;
    pptr += 1;
    if !c.ttest(pptr, (addr_length >> 3) as usize) {
        return Ok(total);
    }
    total += (addr_length >> 3) + 1;
    if addr_length != 0 {
        c.s(", Source ");
        vpn_ip(c, pptr, addr_length)?;
        pptr += (addr_length >> 3) as usize;
    }
    let addr_length = c.u8(pptr)? as u32;
    pptr += 1;
    if !c.ttest(pptr, (addr_length >> 3) as usize) {
        return Ok(total);
    }
    total += (addr_length >> 3) + 1;
    if addr_length != 0 {
        c.s(", Group ");
        vpn_ip(c, pptr, addr_length)?;
    }
    Ok(total)
}

/// `bgp_vpn_rd_print`: an RFC 4364 route distinguisher (all reads before any output).
pub(crate) fn vpn_rd(c: &mut Ctx, pptr: usize) -> R<()> {
    match c.be16(pptr)? {
        0 => {
            let (a, n) = (c.be16(pptr + 2)?, c.be32(pptr + 4)?);
            let q = c.bytes(pptr + 4, 4)?;
            c.num(a);
            c.b(b':');
            c.num(n);
            c.s(" (= ");
            write::ipv4(c.out, q);
            c.b(b')');
        }
        1 => {
            let q = c.bytes(pptr + 2, 4)?;
            let n = c.be16(pptr + 6)?;
            write::ipv4(c.out, q);
            c.b(b':');
            c.num(n);
        }
        2 => {
            let a = c.be32(pptr + 2)?;
            let n = c.be16(pptr + 6)?;
            let q = c.bytes(pptr + 2, 4)?;
            c.num(a);
            c.b(b':');
            c.num(n);
            c.s(" (");
            write::ipv4(c.out, q);
            c.b(b':');
            c.num(n);
            c.b(b')');
        }
        _ => c.s("unknown RD format"),
    }
    Ok(())
}

/// `bgp_extended_community_print`.
fn extended_community(c: &mut Ctx, pptr: usize) -> R<()> {
    let t = c.be16(pptr)?;
    match t {
        0x0002 | 0x0003 | 0x000a => {
            let (a, n) = (c.be16(pptr + 2)?, c.be32(pptr + 4)?);
            c.bytes(pptr + 4, 4)?;
            c.num(a);
            c.b(b':');
            c.num(n);
            c.s(" (= ");
            c.ipaddr(pptr + 4)?;
            c.b(b')');
        }
        0x0102 | 0x0103 | 0xf10a | 0x010b => {
            c.bytes(pptr + 2, 4)?;
            let n = c.be16(pptr + 6)?;
            c.ipaddr(pptr + 2)?;
            c.b(b':');
            c.num(n);
        }
        0x0202 | 0x0203 => {
            let (a, n) = (c.be32(pptr + 2)?, c.be16(pptr + 6)?);
            c.num(a);
            c.b(b':');
            c.num(n);
        }
        0x4004 => {
            let bw = f32::from_bits(c.be32(pptr + 4)?);
            let v = bw * 8.0 / 1_000_000.0;
            c.s("bandwidth: ");
            if v.is_nan() {
                // glibc's %f of a NaN: its sign, then "nan".
                c.s(if v.is_sign_negative() { "-nan" } else { "nan" });
            } else if v.is_infinite() {
                c.s(if v < 0.0 { "-inf" } else { "inf" });
            } else {
                use std::io::Write;
                let _ = write!(c.out, "{:.3}", v as f64);
            }
            c.s(" Mbps");
        }
        0x0005 | 0x0105 | 0x0205 | 0x8005 | 0x0107 | 0x8001 => c.ipaddr(pptr + 2)?,
        0x0306 | 0x8000 => {
            c.bytes(pptr + 2, 4)?;
            let rt = c.u8(pptr + 6)?;
            let opts = c.u8(pptr + 7)?;
            c.s("area:");
            c.ipaddr(pptr + 2)?;
            c.s(", router-type:");
            c.tok(OSPF_RTYPE, "unknown (0x%02x)", rt as u32);
            c.s(", metric-type:");
            if opts & 1 != 0 {
                c.s("E2");
            }
            if rt == 5 || rt == 7 {
                c.s("E1");
            }
        }
        0x800a => {
            let (e, f, mtu) = (c.u8(pptr + 2)?, c.u8(pptr + 3)?, c.be16(pptr + 4)?);
            c.tok(L2VPN_ENCAPS, "unknown encaps", e as u32);
            c.s(" Control Flags [0x");
            c.hex(f, 2);
            c.s("]:MTU ");
            c.num(mtu);
        }
        0x0009 => {
            let a = c.be16(pptr + 2)?;
            c.s("AS ");
            c.num(a);
        }
        0x030c => {
            let t = c.be16(pptr + 6)?;
            c.s("Tunnel type: ");
            c.tok(ENCAP_TUNNEL, "unknown encaps", t as u32);
        }
        _ => {
            let b = c.bytes(pptr + 2, 6)?;
            for &x in b {
                write::hex2(c.out, x);
            }
        }
    }
    Ok(())
}

/// `bgp_rt_prefix_print` of a local 8-byte route target.
fn rt_prefix(c: &mut Ctx, rt: &[u8; 8], plen: u32) {
    let mark = c.out.len();
    if plen == 0 {
        c.s("route-target: 0:0/0");
        return;
    }
    // The hex form, "0000 0000 0000 0000" at most.
    let mut hex = [0u8; 20];
    let mut hl = 0;
    let octets = plen.div_ceil(8) as usize;
    for (i, &b) in rt.iter().enumerate().take(octets) {
        const H: &[u8; 16] = b"0123456789abcdef";
        hex[hl] = H[(b >> 4) as usize];
        hex[hl + 1] = H[(b & 0xf) as usize];
        hl += 2;
        if i % 2 == 1 && i < octets - 1 {
            hex[hl] = b' ';
            hl += 1;
        }
    }
    let hex = &hex[..hl];
    let be16 = |o: usize| u16::from_be_bytes([rt[o], rt[o + 1]]);
    let be32 = |o: usize| u32::from_be_bytes([rt[o], rt[o + 1], rt[o + 2], rt[o + 3]]);
    if plen < 16 {
        c.s("route-target: partial-type: (");
        c.out.extend_from_slice(hex);
        c.b(b'/');
        c.num(plen);
        c.b(b')');
    } else {
        match be16(0) {
            0x0002 => {
                c.s("route-target: ");
                c.num(be16(2));
                c.b(b':');
                c.num(be32(4));
            }
            0x0102 => {
                c.s("route-target: ");
                write::ipv4(c.out, &rt[2..6]);
                c.b(b':');
                c.num(be16(6));
            }
            0x0202 => {
                c.s("route-target: ");
                c.num(be32(2));
                c.b(b':');
                c.num(be16(6));
            }
            t => {
                c.s("route target: unknown-type(");
                c.hex(t, 4);
                c.s(") (");
                c.out.extend_from_slice(hex);
                c.b(b'/');
                c.num(plen);
                c.b(b')');
                return;
            }
        }
        c.b(b'/');
        c.num(plen);
        c.s(" (");
        c.out.extend_from_slice(hex);
        c.b(b')');
    }
    if c.out.len() > mark + 60 {
        c.out.truncate(mark + 60);
    }
}

/// `decode_rt_routing_info` (prints directly).
fn decode_rt_routing_info(c: &mut Ctx, pptr: usize) -> R<i32> {
    let plen = c.u8(pptr)? as u32;
    if plen == 0 {
        c.s("\n\t      default route target");
        return Ok(1);
    }
    if plen < 32 {
        c.s("\n\t      (illegal prefix length)");
        return Ok(-1);
    }
    let origin = c.be32(pptr + 1)?;
    let plen = plen - 32;
    if plen > 64 {
        c.s("\n\t      (illegal prefix length)");
        return Ok(-1);
    }
    let rt = prefix_bytes::<8>(c, pptr + 5, plen)?;
    c.s("\n\t      origin AS: ");
    c.num(origin);
    c.s(", ");
    rt_prefix(c, &rt, plen);
    Ok(5 + plen.div_ceil(8) as i32)
}

/// `decode_labeled_vpn_prefix4`.
fn decode_labeled_vpn_prefix4(c: &mut Ctx, pptr: usize) -> R<i32> {
    let plen = c.u8(pptr)? as u32;
    if plen < 24 + 64 {
        return Ok(-1);
    }
    let plen = plen - (24 + 64);
    if plen > 32 {
        return Ok(-1);
    }
    let a = prefix_bytes::<4>(c, pptr + 12, plen)?;
    c.s("RD: ");
    vpn_rd(c, pptr + 4)?;
    let label = be24(c, pptr + 1)?;
    let bos = c.u8(pptr + 3)?;
    c.s(", ");
    v4(c, a);
    c.b(b'/');
    c.num(plen);
    label_bos(c, label, bos);
    Ok(12 + plen.div_ceil(8) as i32)
}

/// `decode_mdt_vpn_nlri`.
fn decode_mdt_vpn_nlri(c: &mut Ctx, pptr: usize) -> R<i32> {
    if c.u8(pptr)? != 16 * 8 {
        return Ok(-1);
    }
    let pptr = pptr + 1;
    if !c.ttest(pptr, 8) {
        return Ok(-2);
    }
    c.s("RD: ");
    vpn_rd(c, pptr)?;
    c.bytes(pptr + 8, 8)?;
    c.s(", VPN IP Address: ");
    c.ipaddr(pptr + 8)?;
    c.s(", MC Group Address: ");
    c.ipaddr(pptr + 12)?;
    Ok(16 + 1)
}

/// `decode_multicast_vpn`.
fn decode_multicast_vpn(c: &mut Ctx, pptr: usize) -> R<i32> {
    let route_type = c.u8(pptr)?;
    let route_length = c.u8(pptr + 1)?;
    let pptr = pptr + 2;
    c.s("Route-Type: ");
    c.tok(MCAST_VPN_ROUTE_TYPE, "Unknown", route_type as u32);
    c.s(" (");
    c.num(route_type);
    c.s("), length: ");
    c.num(route_length);
    match route_type {
        1 => {
            if !c.ttest(pptr, BGP_VPN_RD_LEN) {
                return Ok(-2);
            }
            c.s(", RD: ");
            vpn_rd(c, pptr)?;
            c.s(", Originator ");
            let bits = (route_length as u32).wrapping_sub(BGP_VPN_RD_LEN as u32) << 3;
            vpn_ip(c, pptr + BGP_VPN_RD_LEN, bits)?;
        }
        2 | 6 | 7 => {
            if !c.ttest(pptr, BGP_VPN_RD_LEN + 4) {
                return Ok(-2);
            }
            let sas = c.be32(pptr + BGP_VPN_RD_LEN)?;
            c.s(", RD: ");
            vpn_rd(c, pptr)?;
            c.s(", Source-AS ");
            c.num(sas);
            if route_type != 2 {
                vpn_sg(c, pptr + BGP_VPN_RD_LEN + 4)?;
            }
        }
        3 => {
            if !c.ttest(pptr, BGP_VPN_RD_LEN) {
                return Ok(-2);
            }
            c.s(", RD: ");
            vpn_rd(c, pptr)?;
            let pptr = pptr + BGP_VPN_RD_LEN;
            let sg_length = vpn_sg(c, pptr)?;
            let addr_length = (route_length as u32).wrapping_sub(sg_length);
            if !c.ttest(pptr, addr_length as usize) {
                return Ok(-2);
            }
            c.s(", Originator ");
            vpn_ip(c, pptr, addr_length.wrapping_shl(3))?;
        }
        5 => {
            if !c.ttest(pptr, BGP_VPN_RD_LEN) {
                return Ok(-2);
            }
            c.s(", RD: ");
            vpn_rd(c, pptr)?;
            vpn_sg(c, pptr + BGP_VPN_RD_LEN)?;
        }
        _ => {}
    }
    Ok(route_length as i32 + 2)
}

/// `decode_labeled_vpn_l2`.
fn decode_labeled_vpn_l2(c: &mut Ctx, pptr: usize) -> R<i32> {
    let plen = c.be16(pptr)? as u32;
    let mut tlen = plen;
    let mut pptr = pptr + 2;
    if plen == 12 {
        if !c.ttest(pptr, 12) {
            return Ok(-2);
        }
        c.bytes(pptr + 8, 4)?;
        c.s("RD: ");
        vpn_rd(c, pptr)?;
        c.s(", BGPNH: ");
        c.ipaddr(pptr + 8)?;
        return Ok(plen as i32 + 2);
    }
    if plen <= 17 {
        return Ok(-2);
    }
    if !c.ttest(pptr, 15) {
        return Ok(-2);
    }
    let (ce, off, base) = (
        c.be16(pptr + 8)?,
        c.be16(pptr + 10)?,
        be24(c, pptr + 12)? >> 4,
    );
    // tcpdump's UPDATE_BUF_BUFLEN: `room` is what is left of its 164-byte buffer; once
    // a piece overflows it, later pieces are skipped (and so is one `pptr++`).
    let mut room: usize = 64 + 100;
    let piece = |c: &mut Ctx, room: &mut usize, f: &mut dyn FnMut(&mut Ctx)| {
        let before = c.out.len();
        f(c);
        let n = c.out.len() - before;
        *room = room.saturating_sub(n);
    };
    let rd_start = c.out.len();
    c.s("RD: ");
    vpn_rd(c, pptr)?;
    c.s(", CE-ID: ");
    c.num(ce);
    c.s(", Label-Block Offset: ");
    c.num(off);
    c.s(", Label Base ");
    c.num(base);
    let n = c.out.len() - rd_start;
    room = room.saturating_sub(n);
    pptr += 15;
    tlen -= 15;
    while tlen != 0 {
        if tlen < 3 {
            if room != 0 {
                piece(c, &mut room, &mut |c| c.s("\n\t\tran past the end"));
            }
            return Ok(plen as i32 + 2);
        }
        let tlv_type = c.u8(pptr)?;
        let tlv_len = c.be16(pptr + 1)? as u32;
        let mut ttlv_len = tlv_len.div_ceil(8);
        pptr += 3;
        if tlv_type == 1 {
            if room != 0 {
                piece(c, &mut room, &mut |c| {
                    c.s("\n\t\tcircuit status vector (");
                    c.num(tlv_type);
                    c.s(") length: ");
                    c.num(tlv_len);
                    c.s(": 0x");
                });
            }
            while ttlv_len != 0 {
                if tlen < 1 {
                    if room != 0 {
                        piece(c, &mut room, &mut |c| c.s(" (ran past the end)"));
                    }
                    return Ok(plen as i32 + 2);
                }
                if !c.ttest(pptr, 1) {
                    return Ok(-2);
                }
                if room != 0 {
                    let b = c.u8(pptr)?;
                    piece(c, &mut room, &mut |c| write::hex2(c.out, b));
                    pptr += 1;
                }
                ttlv_len -= 1;
                tlen -= 1;
            }
        } else {
            if room != 0 {
                piece(c, &mut room, &mut |c| {
                    c.s("\n\t\tunknown TLV #");
                    c.num(tlv_type);
                    c.s(", length: ");
                    c.num(tlv_len);
                });
            }
            if tlen < ttlv_len {
                if room != 0 {
                    piece(c, &mut room, &mut |c| c.s(" (ran past the end)"));
                }
                return Ok(plen as i32 + 2);
            }
            tlen -= ttlv_len;
        }
    }
    Ok(plen as i32 + 2)
}

/// `decode_prefix6`.
pub(crate) fn decode_prefix6(c: &mut Ctx, pd: usize, itemlen: u32) -> R<i32> {
    if itemlen < 1 {
        return Ok(-2);
    }
    let plen = c.u8(pd)? as u32;
    if plen > 128 {
        return Ok(-1);
    }
    let plenbytes = plen.div_ceil(8);
    if itemlen - 1 < plenbytes {
        return Ok(-2);
    }
    let a = prefix_bytes::<16>(c, pd + 1, plen)?;
    v6(c, a);
    c.b(b'/');
    c.num(plen);
    Ok(1 + plenbytes as i32)
}

/// `decode_labeled_prefix6`.
fn decode_labeled_prefix6(c: &mut Ctx, pptr: usize, itemlen: u32) -> R<i32> {
    if !c.ttest(pptr, 4) {
        return Ok(-2);
    }
    if itemlen < 4 {
        return Ok(-3);
    }
    let plen = c.u8(pptr)? as u32;
    if plen < 24 {
        return Ok(-1);
    }
    let plen = plen - 24;
    if plen > 128 {
        return Ok(-1);
    }
    let a = prefix_bytes::<16>(c, pptr + 4, plen)?;
    let label = be24(c, pptr + 1)?;
    let bos = c.u8(pptr + 3)?;
    v6(c, a);
    c.b(b'/');
    c.num(plen);
    label_bos(c, label, bos);
    Ok(4 + plen.div_ceil(8) as i32)
}

/// `decode_labeled_vpn_prefix6`.
fn decode_labeled_vpn_prefix6(c: &mut Ctx, pptr: usize) -> R<i32> {
    let plen = c.u8(pptr)? as u32;
    if plen < 24 + 64 {
        return Ok(-1);
    }
    let plen = plen - (24 + 64);
    if plen > 128 {
        return Ok(-1);
    }
    let a = prefix_bytes::<16>(c, pptr + 12, plen)?;
    c.s("RD: ");
    vpn_rd(c, pptr + 4)?;
    let label = be24(c, pptr + 1)?;
    let bos = c.u8(pptr + 3)?;
    c.s(", ");
    v6(c, a);
    c.b(b'/');
    c.num(plen);
    label_bos(c, label, bos);
    Ok(12 + plen.div_ceil(8) as i32)
}

/// `isonsap_string`.
fn isonsap(c: &mut Ctx, nsap: &[u8]) {
    if nsap.is_empty() || nsap.len() > 20 {
        c.s("isonsap_string: illegal length");
        return;
    }
    for (i, &b) in nsap.iter().enumerate() {
        write::hex2(c.out, b);
        if i & 1 == 0 && i + 1 < nsap.len() {
            c.b(b'.');
        }
    }
}

/// `GET_ISONSAP_STRING`.
fn isonsap_at(c: &mut Ctx, off: usize, len: u32) -> R<()> {
    let b = c.bytes(off, len as usize)?;
    isonsap(c, b);
    Ok(())
}

/// `decode_clnp_prefix`.
fn decode_clnp_prefix(c: &mut Ctx, pptr: usize) -> R<i32> {
    let plen = c.u8(pptr)? as u32;
    if plen > 152 {
        return Ok(-1);
    }
    let a = prefix_bytes::<19>(c, pptr + 4, plen)?;
    let n = plen.div_ceil(8) as usize;
    isonsap(c, &a[..n]);
    c.b(b'/');
    c.num(plen);
    Ok(1 + n as i32)
}

/// `decode_labeled_vpn_clnp_prefix`.
fn decode_labeled_vpn_clnp_prefix(c: &mut Ctx, pptr: usize) -> R<i32> {
    let plen = c.u8(pptr)? as u32;
    if plen < 24 + 64 {
        return Ok(-1);
    }
    let plen = plen - (24 + 64);
    if plen > 152 {
        return Ok(-1);
    }
    let a = prefix_bytes::<19>(c, pptr + 12, plen)?;
    let n = plen.div_ceil(8) as usize;
    c.s("RD: ");
    vpn_rd(c, pptr + 4)?;
    let label = be24(c, pptr + 1)?;
    let bos = c.u8(pptr + 3)?;
    c.s(", ");
    isonsap(c, &a[..n]);
    c.b(b'/');
    c.num(plen);
    label_bos(c, label, bos);
    Ok(12 + n as i32)
}

/// `bgp_attr_get_as_size`: 2 if the path parses with 2-byte AS numbers, else 4.
fn as_size(c: &Ctx, atype: u8, pptr: usize, len: u32) -> R<usize> {
    if atype == 17 {
        return Ok(4);
    }
    let end = pptr + len as usize;
    let mut t = pptr;
    while t < end {
        let st = c.u8(t)?;
        if !(1..=4).contains(&st) {
            return Ok(4);
        }
        t += 2 + c.u8(t + 1)? as usize * 2;
    }
    Ok(if t == end { 2 } else { 4 })
}

/// `check_add_path`: whether the NLRI look like they carry path identifiers.
fn check_add_path(c: &Ctx, pptr: usize, length: u32, max_plen: u32) -> R<bool> {
    if length < 5 {
        return Ok(false);
    }
    let length = length as u64;
    let mut off: u64 = 0;
    while off < length {
        off += 4;
        if !c.ttest(pptr + off as usize, 1) {
            break;
        }
        let pl = c.u8(pptr + off as usize)? as u32;
        if pl > max_plen {
            return Ok(false);
        }
        off += 1 + pl.div_ceil(8) as u64;
    }
    if off > length {
        return Ok(false);
    }
    off = 0;
    while off < length {
        if !c.ttest(pptr + off as usize, 1) {
            break;
        }
        let pl = c.u8(pptr + off as usize)? as u32;
        if pl < 1 || pl > max_plen {
            return Ok(true);
        }
        off += 1 + pl.div_ceil(8) as u64;
    }
    Ok(off > length)
}

/// What `bgp_mp_af_print` found: the family (None after the dump of one without a
/// decoder, tcpdump's -1), or `Err` for its -2.
type MpAf = Result<Option<(u16, u8, Fam)>, ()>;

/// `bgp_mp_af_print`: Ok(Some(..)) for a family with a decoder, Ok(None) (-1) after a dump
/// for one without, Err(()) for tcpdump's -2.
fn mp_af(c: &mut Ctx, tptr: usize, tlen: u32) -> R<MpAf> {
    let af = c.be16(tptr)?;
    let safi = c.u8(tptr + 2)?;
    c.s("\n\t    AFI: ");
    c.tok(AF_VALUES, "Unknown AFI", af as u32);
    c.s(" (");
    c.num(af);
    c.s("), ");
    if safi > 128 {
        c.s("vendor specific ");
    }
    c.s("SAFI: ");
    c.tok(SAFI, "Unknown SAFI", safi as u32);
    c.s(" (");
    c.num(safi);
    c.b(b')');
    match family(af, safi) {
        Some(f) => Ok(Ok(Some((af, safi, f)))),
        None => {
            if !c.ttest(tptr, tlen as usize) {
                return Ok(Err(()));
            }
            c.s("\n\t    no AFI ");
            c.num(af);
            c.s(" / SAFI ");
            c.num(safi);
            c.s(" decoder");
            if c.opts.verbose <= 1 {
                c.unknown_data(tptr, "\n\t    ", tlen);
            }
            Ok(Ok(None))
        }
    }
}

/// A buffered decoder printed as `\n\t      BUF`, or the illegal-length line for -1.
fn nlri_line(c: &mut Ctx, illegal: &str, f: impl FnOnce(&mut Ctx) -> R<i32>) -> R<i32> {
    let mark = c.out.len();
    c.s("\n\t      ");
    let lead = c.out.len();
    let r = buffered(c, BUF_CHARS, f);
    match r {
        Ok(v) if v >= 0 => Ok(v),
        Ok(v) => {
            c.out.truncate(mark);
            if v == -1 {
                c.s(illegal);
            }
            Ok(v)
        }
        Err(t) => {
            let _ = lead;
            c.out.truncate(mark);
            Err(t)
        }
    }
}

const ILLEGAL_PFX: &str = "\n\t    (illegal prefix length)";

/// `bgp_nlri_print`: one NLRI of the family; the bytes it took, or a negative code.
fn nlri(c: &mut Ctx, fam: Fam, tptr: usize, len: u32, ap4: bool, ap6: bool) -> R<i32> {
    use Fam::*;
    let mut tptr = tptr;
    Ok(match fam {
        Inet | Inet6 => {
            let ap = if fam == Inet { ap4 } else { ap6 };
            let mut path_id = 0;
            if ap {
                path_id = c.be32(tptr)?;
                tptr += 4;
            }
            let mut advance = nlri_line(c, ILLEGAL_PFX, |c| {
                if fam == Inet {
                    decode_prefix4(c, tptr, len)
                } else {
                    decode_prefix6(c, tptr, len)
                }
            })?;
            if advance == -2 {
                return Ok(-2);
            }
            if ap {
                c.s("   Path Id: ");
                c.num(path_id);
                advance += 4;
            }
            advance
        }
        InetLab | Inet6Lab => {
            let advance = nlri_line(c, ILLEGAL_PFX, |c| {
                if fam == InetLab {
                    decode_labeled_prefix4(c, tptr, len)
                } else {
                    decode_labeled_prefix6(c, tptr, len)
                }
            })?;
            if advance == -2 {
                return Ok(-2);
            }
            advance
        }
        InetVpn => nlri_line(c, ILLEGAL_PFX, |c| decode_labeled_vpn_prefix4(c, tptr))?,
        Inet6Vpn => nlri_line(c, ILLEGAL_PFX, |c| decode_labeled_vpn_prefix6(c, tptr))?,
        InetRt => decode_rt_routing_info(c, tptr)?,
        McastVpn => nlri_line(c, ILLEGAL_PFX, |c| decode_multicast_vpn(c, tptr))?,
        InetMdt => nlri_line(c, ILLEGAL_PFX, |c| decode_mdt_vpn_nlri(c, tptr))?,
        L2vpn => nlri_line(c, "\n\t    (illegal length)", |c| {
            decode_labeled_vpn_l2(c, tptr)
        })?,
        Nsap => nlri_line(c, ILLEGAL_PFX, |c| decode_clnp_prefix(c, tptr))?,
        NsapVpn => nlri_line(c, ILLEGAL_PFX, |c| decode_labeled_vpn_clnp_prefix(c, tptr))?,
    })
}

/// The MP_REACH next hops of a family; false for tcpdump's `goto trunc`.
fn next_hops(c: &mut Ctx, fam: Fam, tptr: &mut usize, tlen: &mut u32, nhlen: u8) -> R<bool> {
    use Fam::*;
    let mut tnhlen = nhlen as u32;
    let mut nnh = 0;
    c.s("\n\t    nexthop: ");
    while tnhlen != 0 {
        if nnh > 0 {
            c.s(", ");
        }
        nnh += 1;
        let need: u32 = match fam {
            Inet | InetLab | InetRt | McastVpn | InetMdt | L2vpn => 4,
            InetVpn => 12,
            Inet6 | Inet6Lab => 16,
            Inet6Vpn => 24,
            Nsap => 0,
            NsapVpn => 9,
        };
        if tnhlen < need {
            c.s("invalid len");
            *tptr += tnhlen as usize;
            *tlen = tlen.wrapping_sub(tnhlen);
            tnhlen = 0;
            continue;
        }
        match fam {
            Inet | InetLab | InetRt | McastVpn | InetMdt | L2vpn => c.ipaddr(*tptr)?,
            InetVpn => {
                c.bytes(*tptr + 8, 4)?;
                c.s("RD: ");
                vpn_rd(c, *tptr)?;
                c.s(", ");
                c.ipaddr(*tptr + 8)?;
            }
            Inet6 | Inet6Lab => c.ip6addr(*tptr)?,
            Inet6Vpn => {
                c.bytes(*tptr + 8, 16)?;
                c.s("RD: ");
                vpn_rd(c, *tptr)?;
                c.s(", ");
                c.ip6addr(*tptr + 8)?;
            }
            Nsap => {
                isonsap_at(c, *tptr, tnhlen)?;
                *tptr += tnhlen as usize;
                *tlen = tlen.wrapping_sub(tnhlen);
                tnhlen = 0;
                continue;
            }
            NsapVpn => {
                if !c.ttest(*tptr, tnhlen as usize) {
                    return Ok(false);
                }
                let base = *tptr + BGP_VPN_RD_LEN;
                c.s("RD: ");
                vpn_rd(c, *tptr)?;
                c.s(", ");
                isonsap_at(c, base, tnhlen - BGP_VPN_RD_LEN as u32)?;
                if c.be32(base)? == 0x4700_0601 {
                    c.bytes(base + 4, 4)?;
                    c.s(" = ");
                    c.ipaddr(base + 4)?;
                } else if be24(c, base)? == 0x35_0000 {
                    c.bytes(base + 3, 16)?;
                    c.s(" = ");
                    c.ip6addr(base + 3)?;
                }
                *tptr += tnhlen as usize;
                *tlen = tlen.wrapping_sub(tnhlen);
                tnhlen = 0;
                continue;
            }
        }
        *tptr += need as usize;
        *tlen = tlen.wrapping_sub(need);
        tnhlen -= need;
    }
    Ok(true)
}

fn attr_flags(c: &mut Ctx, aflags: u8) {
    c.s(", Flags [");
    if aflags & 0x80 != 0 {
        c.b(b'O');
    }
    if aflags & 0x40 != 0 {
        c.b(b'T');
    }
    if aflags & 0x20 != 0 {
        c.b(b'P');
    }
    if aflags & 0x10 != 0 {
        c.b(b'E');
    }
    if aflags & 0xf != 0 {
        c.b(b'+');
        c.hex(aflags & 0xf, 1);
    }
    c.b(b']');
}

/// `bgp_attr_print`: false is tcpdump's `return 0` (the caller prints ` [|bgp]`).
fn attr(c: &mut Ctx, atype: u8, pptr: usize, len: u32, level: u32) -> R<bool> {
    let mut len = len;
    let mut tptr = pptr;
    let mut tlen = len;
    macro_rules! trunc {
        () => {
            return Ok(false)
        };
    }
    match atype {
        1 => {
            if len != 1 {
                c.s("invalid len");
            } else {
                let v = c.u8(tptr)?;
                c.tok(ORIGIN, "Unknown Origin Typecode", v as u32);
            }
        }
        2 | 17 => {
            if !len.is_multiple_of(2) {
                c.s("invalid len");
            } else if len == 0 {
                c.s("empty");
            } else {
                let sz = as_size(c, atype, pptr, len)?;
                let end = pptr + len as usize;
                while tptr < end {
                    let st = c.u8(tptr)?;
                    c.tok(SEG_OPEN, "?", st as u32);
                    let n = c.u8(tptr + 1)? as usize * sz;
                    let mut i = 0;
                    while i < c.u8(tptr + 1)? as usize * sz {
                        if !c.ttest(tptr + 2 + i, sz) {
                            trunc!();
                        }
                        let v = if sz == 2 {
                            c.be16(tptr + i + 2)? as u32
                        } else {
                            c.be32(tptr + i + 2)?
                        };
                        c.num(v);
                        c.b(b' ');
                        i += sz;
                    }
                    let st = c.u8(tptr)?;
                    c.tok(SEG_CLOSE, "?", st as u32);
                    tptr += 2 + n;
                }
            }
        }
        3 => {
            if len != 4 {
                c.s("invalid len");
            } else {
                c.ipaddr(tptr)?;
            }
        }
        4 | 5 => {
            if len != 4 {
                c.s("invalid len");
            } else {
                let v = c.be32(tptr)?;
                c.num(v);
            }
        }
        6 => {
            if len != 0 {
                c.s("invalid len");
            }
        }
        7 => {
            if len != 6 && len != 8 {
                c.s("invalid len");
            } else {
                if !c.ttest(tptr, len as usize) {
                    trunc!();
                }
                let (a, o) = if len == 6 {
                    (c.be16(tptr)? as u32, tptr + 2)
                } else {
                    (c.be32(tptr)?, tptr + 4)
                };
                c.s(" AS #");
                c.num(a);
                c.s(", origin ");
                c.ipaddr(o)?;
            }
        }
        18 => {
            if len != 8 {
                c.s("invalid len");
            } else {
                let a = c.be32(tptr)?;
                c.bytes(tptr + 4, 4)?;
                c.s(" AS #");
                c.num(a);
                c.s(", origin ");
                c.ipaddr(tptr + 4)?;
            }
        }
        8 => {
            if !len.is_multiple_of(4) {
                c.s("invalid len");
            } else {
                while tlen != 0 {
                    if !c.ttest(tptr, 4) || tlen < 4 {
                        trunc!();
                    }
                    let comm = c.be32(tptr)?;
                    match comm {
                        0xffff_ff01 => c.s(" NO_EXPORT"),
                        0xffff_ff02 => c.s(" NO_ADVERTISE"),
                        0xffff_ff03 => c.s(" NO_EXPORT_SUBCONFED"),
                        _ => {
                            c.num(comm >> 16);
                            c.b(b':');
                            c.num(comm & 0xffff);
                            if tlen > 4 {
                                c.s(", ");
                            }
                        }
                    }
                    tlen -= 4;
                    tptr += 4;
                }
            }
        }
        9 => {
            if len != 4 {
                c.s("invalid len");
            } else {
                c.ipaddr(tptr)?;
            }
        }
        10 => {
            if !len.is_multiple_of(4) {
                c.s("invalid len");
            } else {
                while tlen != 0 {
                    if tlen < 4 {
                        trunc!();
                    }
                    c.ipaddr(tptr)?;
                    if tlen > 4 {
                        c.s(", ");
                    }
                    tlen -= 4;
                    tptr += 4;
                }
            }
        }
        14 => {
            if !c.ttest(tptr, 3) || tlen < 3 {
                trunc!();
            }
            let (af, safi, fam) = match mp_af(c, tptr, tlen)? {
                Err(()) => trunc!(),
                Ok(None) => return done(c, pptr, len),
                Ok(Some(v)) => v,
            };
            let _ = (af, safi);
            tptr += 3;
            tlen -= 3;
            if !c.ttest(tptr, 1) || tlen < 1 {
                trunc!();
            }
            let nhlen = c.u8(tptr)?;
            tptr += 1;
            tlen -= 1;
            if nhlen != 0 {
                if tlen < nhlen as u32 {
                    trunc!();
                }
                if !next_hops(c, fam, &mut tptr, &mut tlen, nhlen)? {
                    trunc!();
                }
            }
            c.s(", nh-length: ");
            c.num(nhlen);
            if tlen < 1 {
                trunc!();
            }
            let mut snpa = c.u8(tptr)?;
            tptr += 1;
            tlen -= 1;
            if snpa != 0 {
                c.s("\n\t    ");
                c.num(snpa);
                c.s(" SNPA");
                while snpa != 0 {
                    if tlen < 1 {
                        trunc!();
                    }
                    let snpalen = c.u8(tptr)?;
                    c.s("\n\t      ");
                    c.num(snpalen);
                    c.s(" bytes");
                    tptr += 1;
                    tlen -= 1;
                    if tlen < snpalen as u32 || !c.ttest(tptr, snpalen as usize) {
                        trunc!();
                    }
                    tptr += snpalen as usize;
                    tlen -= snpalen as u32;
                    snpa -= 1;
                }
            } else {
                c.s(", no SNPA");
            }
            if !nlris(c, fam, pptr, tptr, len)? {
                trunc!();
            }
        }
        15 => {
            if !c.ttest(tptr, 3) {
                trunc!();
            }
            let fam = match mp_af(c, tptr, tlen)? {
                Err(()) => trunc!(),
                Ok(None) => return done(c, pptr, len),
                Ok(Some(v)) => v.2,
            };
            if len == 3 {
                c.s("\n\t      End-of-Rib Marker (empty NLRI)");
            }
            tptr += 3;
            if !nlris(c, fam, pptr, tptr, len)? {
                trunc!();
            }
        }
        16 => {
            if !len.is_multiple_of(8) {
                c.s("invalid len");
            } else {
                while tlen != 0 {
                    if !c.ttest(tptr, 2) || tlen < 2 {
                        trunc!();
                    }
                    let ec = c.be16(tptr)?;
                    c.s("\n\t    ");
                    c.tok(
                        EXTD_COMM_SUBTYPE,
                        "unknown extd community typecode",
                        ec as u32,
                    );
                    c.s(" (0x");
                    c.hex(ec, 4);
                    c.s("), Flags [");
                    c.bittok(EXTD_COMM_FLAG, "none", ec as u32);
                    c.b(b']');
                    if !c.ttest(tptr, 8) || tlen < 8 {
                        trunc!();
                    }
                    c.s(": ");
                    extended_community(c, tptr)?;
                    tlen -= 8;
                    tptr += 8;
                }
            }
        }
        22 => {
            if !c.ttest(tptr, 5) || tlen < 5 {
                trunc!();
            }
            let flags = c.u8(tptr)?;
            let tt = c.u8(tptr + 1)?;
            let label = be24(c, tptr + 2)? >> 4;
            c.s("\n\t    Tunnel-type ");
            c.tok(PMSI_TUNNEL, "Unknown", tt as u32);
            c.s(" (");
            c.num(tt);
            c.s("), Flags [");
            c.bittok(PMSI_FLAG, "none", flags as u32);
            c.s("], MPLS Label ");
            c.num(label);
            tptr += 5;
            tlen -= 5;
            match tt {
                3..=5 => {
                    c.bytes(tptr, 8)?;
                    c.s(if tt == 3 {
                        "\n\t      Root-Node "
                    } else {
                        "\n\t      Sender "
                    });
                    c.ipaddr(tptr)?;
                    c.s(", P-Group ");
                    c.ipaddr(tptr + 4)?;
                }
                6 => {
                    c.bytes(tptr, 4)?;
                    c.s("\n\t      Tunnel-Endpoint ");
                    c.ipaddr(tptr)?;
                }
                1 | 2 | 7 => {
                    c.bytes(tptr, 4)?;
                    let id = c.be32(tptr + 4)?;
                    c.s(if tt == 1 {
                        "\n\t      Extended-Tunnel-ID "
                    } else {
                        "\n\t      Root-Node "
                    });
                    c.ipaddr(tptr)?;
                    c.s(if tt == 1 {
                        ", P2MP-ID 0x"
                    } else {
                        ", LSP-ID 0x"
                    });
                    c.hex(id, 8);
                }
                _ => {
                    if c.opts.verbose <= 1 {
                        c.unknown_data(tptr, "\n\t      ", tlen);
                    }
                }
            }
        }
        26 => {
            while tlen >= 3 {
                let t = c.u8(tptr)?;
                let mut length = c.be16(tptr + 1)?;
                tptr += 3;
                tlen -= 3;
                c.s("\n\t    ");
                c.tok(AIGP, "Unknown", t as u32);
                c.s(" TLV (");
                c.num(t);
                c.s("), length ");
                c.num(length);
                if length < 3 {
                    trunc!();
                }
                length -= 3;
                if tlen < length as u32 {
                    trunc!();
                }
                if t == 1 {
                    if length < 8 {
                        trunc!();
                    }
                    let m = c.be64(tptr)?;
                    c.s(", metric ");
                    c.num(m);
                } else if c.opts.verbose <= 1 {
                    c.unknown_data(tptr, "\n\t      ", length as u32);
                }
                tptr += length as usize;
                tlen -= length as u32;
            }
        }
        128 => {
            if !c.ttest(tptr, 4) || len < 4 {
                trunc!();
            }
            let oas = c.be32(tptr)?;
            c.s("\n\t    Origin AS: ");
            c.num(oas);
            tptr += 4;
            len -= 4;
            while len != 0 {
                if !c.ttest(tptr, 2) {
                    trunc!();
                }
                if len < 2 {
                    c.s(" [path attr too short]");
                    break;
                }
                let aflags = c.u8(tptr)?;
                let at = c.u8(tptr + 1)?;
                tptr += 2;
                len -= 2;
                let alenlen = if aflags & 0x10 != 0 { 2 } else { 1 };
                if !c.ttest(tptr, alenlen) {
                    trunc!();
                }
                if len < alenlen as u32 {
                    c.s(" [path attr too short]");
                    break;
                }
                let alen = if alenlen == 2 {
                    c.be16(tptr)? as u32
                } else {
                    c.u8(tptr)? as u32
                };
                tptr += alenlen;
                len -= alenlen as u32;
                c.s("\n\t      ");
                c.tok(ATTR, "Unknown Attribute", at as u32);
                c.s(" (");
                c.num(at);
                c.s("), length: ");
                c.num(alen);
                if aflags != 0 {
                    attr_flags(c, aflags);
                }
                c.s(": ");
                if len < alen {
                    c.s(" [path attr too short]");
                    break;
                }
                if level == 10 {
                    c.s("(too many nested levels, not recursing)");
                } else if !attr(c, at, tptr, alen, level + 1)? {
                    return Ok(false);
                }
                tptr += alen as usize;
                len -= alen;
            }
        }
        32 => {
            if len == 0 || !len.is_multiple_of(12) {
                c.s("invalid len");
            } else {
                c.s("\n\t    ");
                while len != 0 {
                    let (a, b, d) = (c.be32(tptr)?, c.be32(tptr + 4)?, c.be32(tptr + 8)?);
                    c.num(a);
                    c.b(b':');
                    c.num(b);
                    c.b(b':');
                    c.num(d);
                    if len > 12 {
                        c.s(", ");
                    }
                    tptr += 12;
                    len -= 12;
                }
            }
        }
        _ => {
            if !c.ttest(pptr, len as usize) {
                trunc!();
            }
            c.s("\n\t    no Attribute ");
            c.num(atype);
            c.s(" decoder");
            if c.opts.verbose <= 1 {
                c.unknown_data(pptr, "\n\t    ", len);
            }
        }
    }
    done(c, pptr, len)
}

/// The `done:` tail of bgp_attr_print: the `-vv` hex dump of the attribute.
fn done(c: &mut Ctx, pptr: usize, len: u32) -> R<bool> {
    if c.opts.verbose > 1 && len != 0 {
        if !c.ttest(pptr, len as usize) {
            return Ok(false);
        }
        c.unknown_data(pptr, "\n\t    ", len);
    }
    Ok(true)
}

/// The NLRI loop of MP_REACH / MP_UNREACH; false for `goto trunc`.
fn nlris(c: &mut Ctx, fam: Fam, pptr: usize, tptr: usize, len: u32) -> R<bool> {
    let mut tptr = tptr;
    let rest = len.wrapping_sub((tptr - pptr) as u32);
    let ap4 = check_add_path(c, tptr, rest, 32)?;
    let ap6 = check_add_path(c, tptr, rest, 128)?;
    let end = pptr + len as usize;
    while tptr < end {
        let advance = nlri(c, fam, tptr, len, ap4, ap6)?;
        if advance == -2 {
            return Ok(false);
        }
        if advance < 0 {
            break;
        }
        tptr += advance as usize;
    }
    Ok(true)
}

/// `bgp_capabilities_print`.
fn capabilities(c: &mut Ctx, opt: usize, caps_len: u32) -> R<()> {
    let mut i = 0usize;
    while (i as u32) < caps_len {
        if !c.ttest(opt + i, 2) {
            c.trunc();
            return Ok(());
        }
        let cap_type = c.u8(opt + i)?;
        let cap_len = c.u8(opt + i + 1)? as u32;
        c.s("\n\t      ");
        c.tok(CAPCODE, "Unknown", cap_type as u32);
        c.s(" (");
        c.num(cap_type);
        c.s("), length: ");
        c.num(cap_len);
        if !c.ttest(opt + 2 + i, cap_len as usize) {
            c.trunc();
            return Ok(());
        }
        let afi_safi = |c: &mut Ctx, o: usize| -> R<()> {
            let af = c.be16(o)?;
            let safi = c.u8(o + 2)?;
            c.s("AFI ");
            c.tok(AF_VALUES, "Unknown", af as u32);
            c.s(" (");
            c.num(af);
            c.s("), SAFI ");
            c.tok(SAFI, "Unknown", safi as u32);
            c.s(" (");
            c.num(safi);
            c.b(b')');
            Ok(())
        };
        match cap_type {
            1 => {
                if cap_len < 4 {
                    c.s(" (too short, < 4)");
                    return Ok(());
                }
                let af = c.be16(opt + i + 2)?;
                let safi = c.u8(opt + i + 5)?;
                c.s("\n\t\tAFI ");
                c.tok(AF_VALUES, "Unknown", af as u32);
                c.s(" (");
                c.num(af);
                c.s("), SAFI ");
                c.tok(SAFI, "Unknown", safi as u32);
                c.s(" (");
                c.num(safi);
                c.b(b')');
            }
            8 => {
                let mut off = 2;
                let mut t = cap_len;
                while t >= 4 {
                    let o = opt + i + off;
                    c.be16(o)?;
                    c.u8(o + 2)?;
                    let n = c.u8(o + 3)?;
                    c.s("\n\t\t");
                    afi_safi(c, o)?;
                    c.s(", Count: ");
                    c.num(n);
                    t -= 4;
                    off += 4;
                }
            }
            64 => {
                if cap_len < 2 {
                    c.s(" (too short, < 2)");
                    return Ok(());
                }
                let f = c.u8(opt + i + 2)?;
                let tm = c.be16(opt + i + 2)? & 0xfff;
                c.s("\n\t\tRestart Flags: [");
                c.s(if f & 0x80 != 0 { "R" } else { "none" });
                c.s("], Restart Time ");
                c.num(tm);
                c.b(b's');
                let mut t = cap_len - 2;
                let mut off = 4;
                while t >= 4 {
                    let o = opt + i + off;
                    c.be16(o)?;
                    c.u8(o + 2)?;
                    let fw = c.u8(o + 3)?;
                    c.s("\n\t\t  ");
                    afi_safi(c, o)?;
                    c.s(", Forwarding state preserved: ");
                    c.s(if fw & 0x80 != 0 { "yes" } else { "no" });
                    t -= 4;
                    off += 4;
                }
            }
            2 | 71 | 128 => {}
            65 => {
                if cap_len < 4 {
                    c.s(" (too short, < 4)");
                    return Ok(());
                }
                let a = c.be32(opt + i + 2)?;
                c.s("\n\t\t 4 Byte AS ");
                c.num(a);
            }
            69 => {
                if cap_len == 0 {
                    c.s(" (bogus)");
                } else {
                    let mut t = cap_len;
                    let mut off = 2;
                    while t != 0 {
                        if t < 4 {
                            c.invalid();
                            break;
                        }
                        let o = opt + i + off;
                        c.be16(o)?;
                        c.u8(o + 2)?;
                        let sr = c.u8(o + 3)?;
                        c.s("\n\t\t");
                        afi_safi(c, o)?;
                        c.s(", Send/Receive: ");
                        c.tok(ADD_PATH_RECVSEND, "Bogus (0x%02x)", sr as u32);
                        t -= 4;
                        off += 4;
                    }
                }
            }
            _ => {
                c.s("\n\t\tno decoder for Capability ");
                c.num(cap_type);
                if c.opts.verbose <= 1 {
                    c.unknown_data(opt + i + 2, "\n\t\t", cap_len);
                }
            }
        }
        if c.opts.verbose > 1 && cap_len != 0 {
            c.unknown_data(opt + i + 2, "\n\t\t", cap_len);
        }
        i += 2 + cap_len as usize;
    }
    Ok(())
}

/// `bgp_open_print`.
fn open(c: &mut Ctx, dat: usize, length: u32) -> R<()> {
    if !c.ttest(dat, BGP_OPEN_SIZE) || (length as usize) < BGP_OPEN_SIZE {
        c.trunc();
        return Ok(());
    }
    let ver = c.u8(dat + 19)?;
    c.s("\n\t  Version ");
    c.num(ver);
    c.s(", ");
    let myas = c.be16(dat + 20)?;
    c.s("my AS ");
    c.num(myas);
    c.s(", ");
    let hold = c.be16(dat + 22)?;
    c.s("Holdtime ");
    c.num(hold);
    c.s("s, ");
    c.s("ID ");
    c.ipaddr(dat + 24)?;
    let optslen = c.u8(dat + 28)? as u32;
    c.s("\n\t  Optional parameters, length: ");
    c.num(optslen);
    let opt = dat + BGP_OPEN_SIZE;
    let length = length - BGP_OPEN_SIZE as u32;
    let mut i = 0u32;
    while i < optslen {
        if !c.ttest(opt + i as usize, 2) || length < 2 + i {
            c.trunc();
            return Ok(());
        }
        let opt_type = c.u8(opt + i as usize)?;
        let opt_len = c.u8(opt + i as usize + 1)? as u32;
        if 2 + i + opt_len > optslen {
            c.s("\n\t     Option ");
            c.num(opt_type);
            c.s(", length: ");
            c.num(opt_len);
            c.s(", goes past the end of the options");
            break;
        }
        c.s("\n\t    Option ");
        c.tok(OPT, "Unknown", opt_type as u32);
        c.s(" (");
        c.num(opt_type);
        c.s("), length: ");
        c.num(opt_len);
        if opt_type == 2 {
            capabilities(c, opt + 2 + i as usize, opt_len)?;
        } else {
            c.s("\n\t      no decoder for option ");
            c.num(opt_type);
        }
        i += 2 + opt_len;
    }
    Ok(())
}

/// `bgp_update_print`.
fn update(c: &mut Ctx, dat: usize, length: u32) -> R<()> {
    if upd(c, dat, length)?.is_err() {
        c.trunc();
    }
    Ok(())
}

fn upd(c: &mut Ctx, dat: usize, length: u32) -> R<Result<(), ()>> {
    macro_rules! trunc {
        () => {
            return Ok(Err(()))
        };
    }
    if !c.ttest(dat, BGP_SIZE) || (length as usize) < BGP_SIZE {
        trunc!();
    }
    let mut p = dat + BGP_SIZE;
    let mut length = length - BGP_SIZE as u32;
    if !c.ttest(p, 2) || length < 2 {
        trunc!();
    }
    let mut wlen = c.be16(p)? as u32;
    p += 2;
    length -= 2;
    if wlen > 1 {
        if !c.ttest(p, wlen as usize) || length < wlen {
            trunc!();
        }
        c.s("\n\t  Withdrawn routes:");
        let add_path = check_add_path(c, p, wlen, 32)?;
        let mut path_id = 0;
        while wlen != 0 {
            if add_path {
                if wlen < 4 {
                    p += wlen as usize;
                    length -= wlen;
                    break;
                }
                path_id = c.be32(p)?;
                p += 4;
                length -= 4;
                wlen -= 4;
            }
            let mark = c.out.len();
            c.s("\n\t    ");
            let w = buffered(c, BUF_CHARS, |c| decode_prefix4(c, p, wlen))
                .inspect_err(|_| c.out.truncate(mark))?;
            if w == -1 {
                c.out.truncate(mark);
                c.s("\n\t    (illegal prefix length)");
                break;
            } else if w == -2 {
                c.out.truncate(mark);
                trunc!();
            }
            if add_path {
                c.s("   Path Id: ");
                c.num(path_id);
            }
            p += w as usize;
            length -= w as u32;
            wlen -= w as u32;
        }
    } else {
        if !c.ttest(p, wlen as usize) || length < wlen {
            trunc!();
        }
        p += wlen as usize;
        length -= wlen;
    }
    if !c.ttest(p, 2) || length < 2 {
        trunc!();
    }
    let mut len = c.be16(p)? as u32;
    p += 2;
    length -= 2;
    if wlen == 0 && len == 0 && length == 0 {
        c.s("\n\t  End-of-Rib Marker (empty NLRI)");
        return Ok(Ok(()));
    }
    if len != 0 {
        if length < len {
            trunc!();
        }
        while len != 0 {
            if !c.ttest(p, 2) || length < 2 {
                trunc!();
            }
            if len < 2 {
                c.s("\n\t  [path attrs too short]");
                p += len as usize;
                length -= len;
                break;
            }
            let aflags = c.u8(p)?;
            let atype = c.u8(p + 1)?;
            p += 2;
            len -= 2;
            length -= 2;
            let alenlen: u32 = if aflags & 0x10 != 0 { 2 } else { 1 };
            if !c.ttest(p, alenlen as usize) || length < alenlen {
                trunc!();
            }
            if len < alenlen {
                c.s("\n\t  [path attrs too short]");
                p += len as usize;
                length -= len;
                break;
            }
            let alen = if alenlen == 2 {
                c.be16(p)? as u32
            } else {
                c.u8(p)? as u32
            };
            p += alenlen as usize;
            len -= alenlen;
            length -= alenlen;
            c.s("\n\t  ");
            c.tok(ATTR, "Unknown Attribute", atype as u32);
            c.s(" (");
            c.num(atype);
            c.s("), length: ");
            c.num(alen);
            if aflags != 0 {
                attr_flags(c, aflags);
                c.s(": ");
            }
            if len < alen {
                c.s(" [path attrs too short]");
                p += len as usize;
                length -= len;
                break;
            }
            if length < alen {
                trunc!();
            }
            if !attr(c, atype, p, alen, 0)? {
                trunc!();
            }
            p += alen as usize;
            len -= alen;
            length -= alen;
        }
    }
    if length != 0 {
        let add_path = check_add_path(c, p, length, 32)?;
        c.s("\n\t  Updated routes:");
        while length != 0 {
            let mut path_id = 0;
            if add_path {
                if !c.ttest(p, 4) || length < 4 {
                    trunc!();
                }
                path_id = c.be32(p)?;
                p += 4;
                length -= 4;
            }
            let mark = c.out.len();
            c.s("\n\t    ");
            let i = buffered(c, BUF_CHARS, |c| decode_prefix4(c, p, length))
                .inspect_err(|_| c.out.truncate(mark))?;
            if i == -1 {
                c.out.truncate(mark);
                c.s("\n\t    (illegal prefix length)");
                break;
            } else if i == -2 {
                c.out.truncate(mark);
                trunc!();
            }
            if add_path {
                c.s("   Path Id: ");
                c.num(path_id);
            }
            p += i as usize;
            length -= i as u32;
        }
    }
    Ok(Ok(()))
}

/// `bgp_notification_print`.
fn notification(c: &mut Ctx, dat: usize, length: u32) -> R<()> {
    if !c.ttest(dat, BGP_NOTIFICATION_SIZE) {
        c.trunc();
        return Ok(());
    }
    if (length as usize) < BGP_NOTIFICATION_SIZE {
        return Ok(());
    }
    let major = c.u8(dat + 19)?;
    let minor = c.u8(dat + 20)?;
    c.s(", ");
    c.tok(NOTIFY_MAJOR, "Unknown Error", major as u32);
    c.s(" (");
    c.num(major);
    c.b(b')');
    let sub = |c: &mut Ctx, lead: &str, t: &Tok| {
        c.s(lead);
        c.tok(t, "Unknown", minor as u32);
        c.s(" (");
        c.num(minor);
        c.b(b')');
    };
    match major {
        1 => sub(c, ", subcode ", NOTIFY_MSG),
        2 => sub(c, ", subcode ", NOTIFY_OPEN),
        3 => sub(c, ", subcode ", NOTIFY_UPDATE),
        5 => sub(c, " subcode ", NOTIFY_FSM),
        7 => sub(c, " subcode ", NOTIFY_CAP),
        6 => {
            sub(c, ", subcode ", NOTIFY_CEASE);
            let tptr = dat + BGP_NOTIFICATION_SIZE;
            if minor == 1 && length as usize >= BGP_NOTIFICATION_SIZE + 7 {
                let af = c.be16(tptr)?;
                let safi = c.u8(tptr + 2)?;
                let max = c.be32(tptr + 3)?;
                c.s(", AFI ");
                c.tok(AF_VALUES, "Unknown", af as u32);
                c.s(" (");
                c.num(af);
                c.s("), SAFI ");
                c.tok(SAFI, "Unknown", safi as u32);
                c.s(" (");
                c.num(safi);
                c.s("), Max Prefixes: ");
                c.num(max);
            }
            if (minor == 2 || minor == 4) && length as usize > BGP_NOTIFICATION_SIZE {
                let scl = c.u8(tptr)? as u32;
                let mut rem: u32 = 0;
                if scl > length - (BGP_NOTIFICATION_SIZE as u32 + 1) {
                    c.s(", invalid Shutdown Communication length");
                } else if scl == 0 {
                    c.s(", empty Shutdown Communication");
                    rem += 1;
                } else {
                    c.s(", Shutdown Communication (length: ");
                    c.num(scl);
                    c.s("): \"");
                    c.printjn(tptr + 1, scl)?;
                    c.b(b'"');
                    rem += scl + 1;
                }
                let left = length.wrapping_sub(rem + BGP_NOTIFICATION_SIZE as u32);
                if left > 0 {
                    c.s(", Data: (length: ");
                    c.num(left);
                    c.b(b')');
                    c.hex_print("\n\t\t", tptr + rem as usize, left)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `bgp_route_refresh_print`.
fn route_refresh(c: &mut Ctx, pptr: usize, len: u32) -> R<()> {
    if !c.ttest(pptr, BGP_ROUTE_REFRESH_SIZE) {
        c.trunc();
        return Ok(());
    }
    if (len as usize) < BGP_ROUTE_REFRESH_SIZE {
        return Ok(());
    }
    let af = c.be16(pptr + 19)?;
    let safi = c.u8(pptr + 22)?;
    c.s("\n\t  AFI ");
    c.tok(AF_VALUES, "Unknown", af as u32);
    c.s(" (");
    c.num(af);
    c.s("), SAFI ");
    c.tok(SAFI, "Unknown", safi as u32);
    c.s(" (");
    c.num(safi);
    c.b(b')');
    if c.opts.verbose > 1 {
        if !c.ttest(pptr, len as usize) {
            c.trunc();
            return Ok(());
        }
        c.unknown_data(pptr, "\n\t  ", len);
    }
    Ok(())
}

/// `bgp_pdu_print`.
fn pdu(c: &mut Ctx, dat: usize, length: u32) -> R<()> {
    let t = c.u8(dat + 18)?;
    c.s("\n\t");
    c.tok(MSG, "Unknown", t as u32);
    c.s(" Message (");
    c.num(t);
    c.s("), length: ");
    c.num(length);
    match t {
        1 => open(c, dat, length)?,
        2 => update(c, dat, length)?,
        3 => notification(c, dat, length)?,
        4 => {}
        5 => route_refresh(c, dat, length)?,
        _ => {
            if !c.ttest(dat, length as usize) {
                c.trunc();
                return Ok(());
            }
            c.s("\n\t  no Message ");
            c.num(t);
            c.s(" decoder");
            c.unknown_data(dat, "\n\t  ", length);
        }
    }
    Ok(())
}

/// `bgp_print`: every message of the segment (found by its marker) with `-v`.
pub(crate) fn print(c: &mut Ctx, dat: usize, _length: u32) -> R<()> {
    c.proto = "bgp";
    c.s(": BGP");
    if c.opts.verbose < 1 {
        return Ok(());
    }
    let mut p = dat;
    let mut start = p;
    while p < c.snapend {
        if c.u8(p)? != 0xff {
            p += 1;
            continue;
        }
        if !c.ttest(p, 16) {
            break;
        }
        if c.bytes(p, 16)?.iter().any(|&b| b != 0xff) {
            p += 1;
            continue;
        }
        if !c.ttest(p, BGP_SIZE) {
            c.trunc();
            return Ok(());
        }
        if start != p {
            c.trunc();
        }
        let hlen = c.be16(p + 16)?;
        if (hlen as usize) < BGP_SIZE {
            c.s("\nmessage length ");
            c.num(hlen);
            c.s(" < 19");
            c.invalid();
            break;
        }
        if c.ttest(p, hlen as usize) {
            pdu(c, p, hlen as u32)?;
            p += hlen as usize;
            start = p;
        } else {
            let t = c.u8(p + 18)?;
            c.s("\n[|BGP ");
            c.tok(MSG, "Unknown Message Type", t as u32);
            c.b(b']');
            break;
        }
    }
    Ok(())
}
