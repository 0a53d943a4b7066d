//! Records and logic shared by the kernel programs (`tracer-ebpf`) and userspace (`tracer`).
//!
//! Everything here is `no_std`, `#[repr(C)]` and free of padding the compiler could choose:
//! the same bytes are written by BPF and read by the loader.
#![no_std]

#[cfg(test)]
extern crate std;

pub mod conn;
pub mod fields;
pub mod filter;

pub use fields::{
    extract_fields, extract_fields_with, extract_network_fields, PacketBytes, PacketFields,
};
pub use filter::{FilterInsn, FilterOp};

/// Stable record kinds, found in the first two bytes of every ring record.
pub mod kind {
    /// A captured packet: [`super::PacketRecordHeader`] followed by `cap_len` frame bytes.
    pub const PACKET: u16 = 1;
    /// A connection that ended: [`super::ConnRecord`].
    pub const CONN: u16 = 2;
    /// An HTTP exchange: [`super::HttpRecord`].
    pub const HTTP: u16 = 3;
    /// A TCP state change of a socket of tracer's network namespace: [`super::SockRecord`].
    pub const STATE: u16 = 4;
    /// A retransmitted skb of such a socket: [`super::SockRecord`].
    pub const RETRANS: u16 = 5;
    /// The process that sends or receives on such a socket, the first time it does (or
    /// when it is another process than before): [`super::SockRecord`], never printed.
    pub const OWNER: u16 = 6;
}

/// TCP header flag bits (byte 13 of the header): the one definition for the kernel, the
/// connection rules, the printer, the filter's names (`tcp-syn`) and the GSO split.
pub mod tcp_flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Version of the record layout; bumped on any incompatible change.
pub const RECORD_VERSION: u16 = 4;

/// The first 16 bytes of every record, whatever its kind.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RecordPrefix {
    /// `kind::*`.
    pub kind: u16,
    /// [`RECORD_VERSION`].
    pub version: u16,
    /// Interface index of the hook.
    pub ifindex: u32,
    /// CLOCK_MONOTONIC when the record was written: records are merged in this order.
    pub timestamp_ns: u64,
}

const _: () = assert!(core::mem::size_of::<RecordPrefix>() == 16);

/// Which hook saw the packet.
pub mod direction {
    /// Received by the interface (XDP).
    pub const IN: u8 = 0;
    /// Sent by the interface (TC egress).
    pub const OUT: u8 = 1;
}

/// `PacketRecordHeader::flags`: the hook found an 802.1Q tag outside the frame bytes
/// (TC with VLAN offload); userspace reinserts it the way libpcap does.
pub const RECORD_FLAG_VLAN_OFFLOADED: u8 = 1;
/// `PacketRecordHeader::flags`: the interface carries no link-layer header (tun and other
/// layer-3 devices); the kernel put a 14-byte Ethernet header (zero addresses, the packet's
/// ethertype) in front of the IP packet so one parser serves every interface, and counted
/// it in `wire_len` and `cap_len`. Userspace takes it off again (LINKTYPE_RAW).
pub const RECORD_FLAG_SYNTHETIC_ETHERNET: u8 = 2;

/// Header of a packet record in the ring buffer. The frame bytes follow it directly,
/// starting at the link-layer (Ethernet) header.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PacketRecordHeader {
    /// [`kind::PACKET`].
    pub kind: u16,
    /// [`RECORD_VERSION`].
    pub version: u16,
    /// Interface index of the hook.
    pub ifindex: u32,
    /// `bpf_ktime_get_ns()` (CLOCK_MONOTONIC) when the hook ran.
    pub timestamp_ns: u64,
    /// Frame length as the hook saw it, link header included (pcap's `len`).
    pub wire_len: u32,
    /// Frame bytes that follow this header (pcap's `caplen`).
    pub cap_len: u32,
    /// [`direction::IN`] or [`direction::OUT`].
    pub direction: u8,
    /// `RECORD_FLAG_*`.
    pub flags: u8,
    /// The offloaded VLAN TCI when [`RECORD_FLAG_VLAN_OFFLOADED`] is set.
    pub vlan_tci: u16,
    /// The offloaded VLAN TPID (host order) when [`RECORD_FLAG_VLAN_OFFLOADED`] is set.
    pub vlan_proto: u16,
    /// Egress: the segment size of a GSO packet (0 for a plain packet). A device without TSO
    /// gets it split in software after the hook and before the packet taps.
    pub gso_size: u16,
}

const _: () = assert!(core::mem::size_of::<PacketRecordHeader>() == 32);

/// The kernel's `struct bpf_timer`: the kernel finds the timer in a map value by this BTF
/// type name, so the name must stay as it is.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct bpf_timer {
    pub opaque: [u64; 2],
}

/// A value of the kernel's flow table (`CONNS`): a lock word (taken with an atomic exchange;
/// `bpf_spin_lock` is not allowed in LRU maps), the entry's timer (linger after close, idle
/// expiry), and the connection.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConnEntry {
    pub lock: u64,
    pub timer: bpf_timer,
    pub state: conn::ConnState,
}

const _: () = assert!(core::mem::size_of::<ConnEntry>() == 184);

/// One connection, when it ended (or at exit, still open). Its times are the hook's clock.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConnRecord {
    /// [`kind::CONN`].
    pub kind: u16,
    pub version: u16,
    pub ifindex: u32,
    /// When the record was written.
    pub timestamp_ns: u64,
    pub key: conn::ConnKey,
    pub state: conn::ConnState,
}

const _: () = assert!(core::mem::size_of::<ConnRecord>() == 224);

/// One HTTP exchange: a request and its response, or one of them alone.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HttpRecord {
    /// [`kind::HTTP`].
    pub kind: u16,
    pub version: u16,
    pub ifindex: u32,
    /// When the record was written.
    pub timestamp_ns: u64,
    pub key: conn::ConnKey,
    /// The end of `key` that is the client.
    pub client: u8,
    /// The request's method code (`conn::http_method_name`); 0: no request seen.
    pub method: u8,
    pub method_len: u8,
    /// Bytes of `raw` copied.
    pub raw_len: u8,
    /// The response's status code; 0: no response seen.
    pub status: u16,
    pub _pad2: u16,
    /// First packet of the request (0: none).
    pub request_ns: u64,
    /// First packet of the response (0: none).
    pub response_ns: u64,
    /// The request's first payload bytes (`conn::request_uri` finds the URI in them).
    pub raw: [u8; conn::HTTP_HEAD_MAX],
}

const _: () = assert!(core::mem::size_of::<HttpRecord>() == 88 + conn::HTTP_HEAD_MAX);

impl HttpRecord {
    /// An exchange of connection `key` (`client`: which end of the key is the client)
    /// with neither side filled in yet, timestamped `now`.
    pub fn empty(key: &conn::ConnKey, client: u8, now: u64) -> HttpRecord {
        HttpRecord {
            kind: kind::HTTP,
            version: RECORD_VERSION,
            ifindex: key.ifindex,
            timestamp_ns: now,
            key: *key,
            client,
            method: 0,
            method_len: 0,
            raw_len: 0,
            status: 0,
            _pad2: 0,
            request_ns: 0,
            response_ns: 0,
            raw: [0; conn::HTTP_HEAD_MAX],
        }
    }

    /// Takes the request's side of the exchange from its pending slot.
    pub fn set_request(&mut self, p: &conn::PendingRequest) {
        self.method = p.method;
        self.method_len = p.method_len;
        self.raw_len = p.raw_len;
        self.raw = p.raw;
        self.request_ns = p.ts_ns;
    }

    /// The request's URI (see `conn::request_uri`).
    pub fn uri(&self) -> &[u8] {
        let raw = &self.raw[..(self.raw_len as usize).min(self.raw.len())];
        conn::request_uri(raw, self.method_len)
    }
}

/// Offsets of kernel struct members the socket programs read (from the kernel's BTF, by the
/// loader: Rust has no CO-RE relocations), and what they report.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SockOffsets {
    /// In `struct sock`.
    pub daddr: u16,
    pub rcv_saddr: u16,
    pub dport: u16,
    /// `inet_sock.inet_sport` (network order; what the kernel's tracepoint reports: the port
    /// number of `sock_common` is already released at CLOSE).
    pub sport: u16,
    pub family: u16,
    pub state: u16,
    pub net: u16,
    pub v6_daddr: u16,
    pub v6_rcv_saddr: u16,
    pub protocol: u16,
    /// In `struct net`: the namespace's inode number.
    pub net_ns_inum: u16,
    /// In `struct tcp_sock`.
    pub srtt_us: u16,
    pub total_retrans: u16,
    pub bytes_acked: u16,
    pub bytes_received: u16,
    /// In `struct sk_buff`: `head` (a pointer) and `end` (the offset of the
    /// `skb_shared_info` from `head`); in `struct skb_shared_info`: `gso_segs`.
    pub skb_head: u16,
    pub skb_end: u16,
    pub gso_segs: u16,
    /// The inode number of tracer's network namespace: sockets of others are not reported.
    pub netns: u32,
    /// `sock_flag::*`.
    pub flags: u32,
}

const _: () = assert!(core::mem::size_of::<SockOffsets>() == 44);

/// `SockOffsets::flags`.
pub mod sock_flag {
    /// Report state changes.
    pub const STATES: u32 = 1;
    /// Report retransmissions.
    pub const RETRANS: u32 = 2;
    /// Report the processes sending and receiving on sockets (`--process`).
    pub const OWNERS: u32 = 4;
}

/// The kernel's TCP states (`include/net/tcp_states.h`), as `SockRecord` and `sock_diag`
/// carry them.
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
    pub const NEW_SYN_RECV: u8 = 12;

    /// The states' names (the kernel's `TCP_*` without the prefix), by number.
    pub const NAMES: [&str; 13] = [
        "UNKNOWN",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
        "NEW_SYN_RECV",
    ];

    /// The name of state `s` (`UNKNOWN` beyond the table).
    pub fn name(s: u8) -> &'static str {
        match NAMES.get(s as usize) {
            Some(n) => n,
            None => NAMES[0],
        }
    }
}

/// `SockRecord::flags`.
pub mod sock_rec {
    /// `tgid`, `comm`, `cgroup` are known.
    pub const OWNER: u32 = 1;
    /// `prev_ns` is the time of the socket's previous state change.
    pub const PREV: u32 = 2;
    /// The kernel's counters (`srtt_us`, ...) were read: a change to CLOSE.
    pub const COUNTERS: u32 = 4;
}

/// A socket's state change ([`kind::STATE`]), retransmission ([`kind::RETRANS`]) or owner
/// ([`kind::OWNER`]), from the
/// kernel's socket tracepoints. Local is this host's end.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SockRecord {
    pub kind: u16,
    pub version: u16,
    /// 0: sockets have no interface.
    pub ifindex: u32,
    pub timestamp_ns: u64,
    /// IPv4 in the first four bytes.
    pub local: [u8; 16],
    pub remote: [u8; 16],
    pub local_port: u16,
    pub remote_port: u16,
    /// 4 or 6.
    pub family: u8,
    /// The kernel's TCP_* state numbers (for a retransmission: the socket's state, twice).
    pub oldstate: u8,
    pub newstate: u8,
    pub _pad: u8,
    /// `sock_rec::*`.
    pub flags: u32,
    /// The owning process (`ss -p`'s pid).
    pub tgid: u32,
    /// Its cgroup (v2) id.
    pub cgroup: u64,
    pub comm: [u8; 16],
    pub prev_ns: u64,
    /// The kernel's socket cookie (`ss -e`'s `sk:` id).
    pub cookie: u64,
    /// At CLOSE: smoothed RTT in microseconds, retransmitted segments, bytes the peer
    /// acknowledged, bytes received.
    pub srtt_us: u32,
    pub total_retrans: u32,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    /// A retransmission's error (0: sent).
    pub err: i32,
    /// A retransmission's segments: the skb's `gso_segs` (`tcp_skb_pcount`), what the
    /// kernel adds to its `TcpRetransSegs` and `total_retrans` counters.
    pub segs: u32,
}

const _: () = assert!(core::mem::size_of::<SockRecord>() == 136);

/// A record of connection analytics (from the kernel, or from userspace's tracker over a
/// file), or of one of the host's sockets (from the kernel): what the record printers take.
#[derive(Copy, Clone, Debug)]
pub enum Event {
    Conn(ConnRecord),
    Http(HttpRecord),
    /// A state change or a retransmission (see `kind`).
    Sock(SockRecord),
}

/// A ring record of any kind.
#[derive(Copy, Clone, Debug)]
pub enum Record<'a> {
    Packet(PacketRecordHeader, &'a [u8]),
    Conn(ConnRecord),
    Http(HttpRecord),
    /// A state change or a retransmission (see `kind`).
    Sock(SockRecord),
}

impl RecordPrefix {
    /// The prefix of a record of a kind and version this build understands, with a length
    /// that fits its kind.
    pub fn parse(rec: &[u8]) -> Option<RecordPrefix> {
        if rec.len() < core::mem::size_of::<RecordPrefix>() {
            return None;
        }
        // SAFETY: length checked; any bit pattern is valid.
        let p = unsafe { core::ptr::read_unaligned(rec.as_ptr() as *const RecordPrefix) };
        if p.version != RECORD_VERSION {
            return None;
        }
        let min = match p.kind {
            kind::PACKET => core::mem::size_of::<PacketRecordHeader>(),
            kind::CONN => core::mem::size_of::<ConnRecord>(),
            kind::HTTP => core::mem::size_of::<HttpRecord>(),
            kind::STATE | kind::RETRANS | kind::OWNER => core::mem::size_of::<SockRecord>(),
            _ => return None,
        };
        (rec.len() >= min).then_some(p)
    }
}

/// Reads a record of any kind (see [`RecordPrefix::parse`]).
pub fn parse_record(rec: &[u8]) -> Option<Record<'_>> {
    let p = RecordPrefix::parse(rec)?;
    Some(match p.kind {
        kind::PACKET => {
            let (h, frame) = PacketRecordHeader::parse(rec)?;
            Record::Packet(h, frame)
        }
        // SAFETY: parse checked the length; any bit pattern is valid for these repr(C) types.
        kind::CONN => {
            Record::Conn(unsafe { core::ptr::read_unaligned(rec.as_ptr() as *const ConnRecord) })
        }
        kind::HTTP => {
            Record::Http(unsafe { core::ptr::read_unaligned(rec.as_ptr() as *const HttpRecord) })
        }
        _ => Record::Sock(unsafe { core::ptr::read_unaligned(rec.as_ptr() as *const SockRecord) }),
    })
}

/// Capture sizes the kernel can reserve in a ring buffer. A reservation needs a size known
/// to the verifier, so the kernel picks the smallest tier that holds the bytes it keeps.
pub const SLOT_TIERS: [u32; 7] = [128, 256, 512, 1024, 2048, 4096, 65536];
/// The most frame bytes a single record can carry.
pub const MAX_CAPTURE: u32 = SLOT_TIERS[SLOT_TIERS.len() - 1];

/// Most ring buffers the kernel can shard records over (one per possible CPU).
pub const MAX_RINGS: u32 = 1024;

/// Runtime settings the loader writes into the `CONFIG` array (index 0).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Bytes of each frame to keep (tcpdump's `-s`), capped at [`MAX_CAPTURE`].
    pub snaplen: u32,
    /// Number of valid instructions in `FILTER`; 0 accepts every TCP packet.
    pub filter_len: u32,
    /// Number of ring buffers in `RINGS`; a record goes to ring `cpu % nr_rings`.
    pub nr_rings: u32,
    /// `CONFIG_FLAG_*`.
    pub flags: u32,
    /// A submit wakes the reader only once a ring holds at least this many bytes
    /// (0: wake on every record). The reader also polls on a short timer.
    pub wakeup_bytes: u64,
    /// A connection without packets for this long ends (`close::IDLE`).
    pub conn_idle_ns: u64,
    /// A closed connection's record is taken this long after its close, so the packets that
    /// trail a close (the last ACK, a retransmitted FIN) still count.
    pub conn_linger_ns: u64,
}

const _: () = assert!(core::mem::size_of::<Config>() == 40);

/// `Config::flags`.
pub mod config_flag {
    /// Send a record per accepted packet.
    pub const PACKETS: u32 = 1;
    /// Track connections in `CONNS` (one record per connection).
    pub const CONNS: u32 = 2;
    /// Pair HTTP requests and responses (one record per exchange; needs `CONNS`).
    pub const HTTP: u32 = 4;
    /// The loader is reading the tables at exit: timers no longer take records.
    pub const STOPPING: u32 = 8;
    /// Tests only: act as if the kernel refused every entry's timer, as it does when it
    /// cannot allocate one, so that the loader's fallback runs.
    pub const REFUSE_TIMERS: u32 = 16;
}

/// Most interfaces the `SOFTWARE_TX` map can mark.
pub const MAX_SOFTWARE_TX_INTERFACES: u32 = 256;

/// `SOFTWARE_TX` values: what a device leaves to the kernel after the egress hook and
/// before the packet taps, so that the hook must capture whole packets for userspace to do
/// the same.
pub mod software_tx {
    /// Splits TCP GSO packets (no TSO): capture GSO packets whole.
    pub const SEGMENTS: u8 = 1;
    /// Completes TCP checksums (no checksum offload): capture TCP packets whole.
    pub const CHECKSUMS: u8 = 2;
}

/// Counters kept per CPU in the `COUNTERS` array; userspace sums them.
pub mod counter {
    /// Packets the programs looked at.
    pub const SEEN: u32 = 0;
    /// Of those, TCP over IPv4/IPv6 (what the tracer traces).
    pub const TCP: u32 = 1;
    /// Of those, accepted by the filter (tcpdump's "received by filter").
    pub const MATCHED: u32 = 2;
    /// Accepted but lost: the ring had no room (tcpdump's "dropped by kernel").
    pub const RING_FULL: u32 = 3;
    /// Accepted but lost: no ring was configured for the CPU.
    pub const NO_RING: u32 = 4;
    /// Accepted but lost: the frame bytes could not be copied.
    pub const COPY_FAILED: u32 = 5;
    /// Accepted and delivered (records submitted).
    pub const SUBMITTED: u32 = 6;
    /// Records whose capture was cut to [`super::MAX_CAPTURE`] below the snaplen.
    pub const CUT_TO_MAX: u32 = 7;
    /// Accepted packets counted into a connection, in wire segments (a GSO packet the kernel
    /// splits after the hook counts as its segments).
    pub const TRACKED: u32 = 8;
    /// Accepted packets with no TCP segment to track (fragments, cut headers).
    pub const UNTRACKABLE: u32 = 9;
    /// Connections inserted into the flow table.
    pub const CONN_CREATED: u32 = 10;
    /// Connections whose record was taken (and entry deleted, or restarted on a reused port).
    pub const CONN_ENDED: u32 = 11;
    /// Connections that could not be inserted (the kernel refused the element).
    pub const CONN_INSERT_FAILED: u32 = 12;
    /// Packet updates lost: the entry stayed locked by another CPU for the whole wait bound.
    pub const LOCK_BUSY: u32 = 13;
    /// Packet updates lost: the entry was being deleted when the packet came.
    pub const LATE_UPDATE: u32 = 14;
    /// Connection and HTTP records submitted.
    pub const RECORDS: u32 = 15;
    /// Connection and HTTP records lost: the ring had no room.
    pub const RECORDS_LOST: u32 = 16;
    /// HTTP requests that found every pending slot of their connection taken.
    pub const HTTP_OVERFLOW: u32 = 17;
    /// HTTP table entries inserted.
    pub const HTTP_CREATED: u32 = 18;
    /// HTTP table entries deleted with their connection.
    pub const HTTP_DELETED: u32 = 19;
    /// HTTP requests lost: their table entry could not be inserted.
    pub const HTTP_INSERT_FAILED: u32 = 20;
    /// Packet updates lost: the tail call into the tracker program failed.
    pub const TRACKER_UNREACHABLE: u32 = 21;
    /// Packet updates that found their entry locked past the first spin and waited for it
    /// (its holder was not running: a descheduled vCPU, a hard interrupt). Not lost.
    pub const LOCK_WAITED: u32 = 22;
    /// Entries the kernel refused a timer (`bpf_timer_init` found no memory: an allocation
    /// in softirq context, charged to the loader's memory cgroup). Marked
    /// `state::NO_TIMER`; later packets try again, and the loader ends those still without one.
    pub const TIMER_REFUSED: u32 = 23;
    /// Number of counters.
    pub const COUNT: u32 = 24;
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all of these are `#[repr(C)]`, `Copy`, and have no implicit padding.
    unsafe impl aya::Pod for super::PacketRecordHeader {}
    unsafe impl aya::Pod for super::Config {}
    unsafe impl aya::Pod for super::FilterInsn {}
    unsafe impl aya::Pod for super::ConnEntry {}
    unsafe impl aya::Pod for super::conn::ConnKey {}
    unsafe impl aya::Pod for super::conn::HttpState {}
    unsafe impl aya::Pod for super::SockOffsets {}
}

impl PacketRecordHeader {
    /// Reads a header from the start of a ring record, if the record is long enough and
    /// carries a packet of the version this build understands.
    pub fn parse(record: &[u8]) -> Option<(PacketRecordHeader, &[u8])> {
        // Same layout start as every record.
        const _: () = assert!(core::mem::offset_of!(PacketRecordHeader, timestamp_ns) == 8);
        const N: usize = core::mem::size_of::<PacketRecordHeader>();
        if record.len() < N {
            return None;
        }
        // SAFETY: the length was checked; read_unaligned accepts any alignment, and every
        // bit pattern is a valid PacketRecordHeader.
        let h = unsafe { core::ptr::read_unaligned(record.as_ptr() as *const PacketRecordHeader) };
        if h.kind != kind::PACKET || h.version != RECORD_VERSION {
            return None;
        }
        let frame = record.get(N..N + h.cap_len as usize)?;
        Some((h, frame))
    }

    /// The header as bytes, as the kernel writes it.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: repr(C) without padding; any byte view of it is valid.
        unsafe {
            core::slice::from_raw_parts(
                self as *const Self as *const u8,
                core::mem::size_of::<Self>(),
            )
        }
    }
}

/// The smallest slot tier that holds `len` bytes, or the largest tier.
pub const fn slot_for(len: u32) -> u32 {
    let mut i = 0;
    while i < SLOT_TIERS.len() {
        if len <= SLOT_TIERS[i] {
            return SLOT_TIERS[i];
        }
        i += 1;
    }
    MAX_CAPTURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_through_bytes() {
        let h = PacketRecordHeader {
            kind: kind::PACKET,
            version: RECORD_VERSION,
            ifindex: 7,
            timestamp_ns: 0x0102_0304_0506_0708,
            wire_len: 1514,
            cap_len: 3,
            direction: direction::OUT,
            flags: RECORD_FLAG_VLAN_OFFLOADED,
            vlan_tci: 42,
            vlan_proto: 0x8100,
            gso_size: 1448,
        };
        let mut rec = [0u8; 40];
        rec[..32].copy_from_slice(h.as_bytes());
        rec[32..35].copy_from_slice(&[1, 2, 3]);
        let (back, frame) = PacketRecordHeader::parse(&rec).unwrap();
        assert_eq!(back, h);
        assert_eq!(frame, &[1, 2, 3]);
        // Stable layout: kind at 0, version at 2, ifindex at 4, timestamp at 8.
        assert_eq!(&rec[0..2], &1u16.to_ne_bytes());
        assert_eq!(&rec[4..8], &7u32.to_ne_bytes());
        assert_eq!(&rec[8..16], &0x0102_0304_0506_0708u64.to_ne_bytes());
    }

    #[test]
    fn short_or_foreign_records_are_refused() {
        assert!(PacketRecordHeader::parse(&[0u8; 8]).is_none());
        let mut rec = [0u8; 32];
        rec[0] = 9; // unknown kind
        assert!(PacketRecordHeader::parse(&rec).is_none());
        rec[0] = 1;
        rec[2] = 1;
        rec[20] = 5; // cap_len 5 but nothing follows
        assert!(PacketRecordHeader::parse(&rec).is_none());
    }

    #[test]
    fn slot_tiers_round_up() {
        assert_eq!(slot_for(0), 128);
        assert_eq!(slot_for(128), 128);
        assert_eq!(slot_for(129), 256);
        assert_eq!(slot_for(1514), 2048);
        assert_eq!(slot_for(70000), MAX_CAPTURE);
    }
}
