//! Connection analytics: what the kernel's flow table (and `tracer -r`'s table) keeps per TCP
//! connection, and the one set of functions that updates it, so a file and a live capture of
//! the same packets give the same answers.
//!
//! The rules are tshark 4.0's TCP analysis (epan/dissectors/packet-tcp.c,
//! `tcp_analyze_sequence_number` and `dissect_tcp`), ported literally over absolute sequence
//! numbers, as tshark runs it: a `nextseq` or `lastack` of 0 means "not known yet", windows are
//! compared unscaled. A packet counts as a retransmission when tshark would flag it
//! `retransmission`, `fast_retransmission`, `spurious_retransmission` or `out_of_order` (any of
//! them; keep-alives excluded). Differences, on purpose:
//! - tshark stops adding segments to its unacked list past 10000 (then a SYN/FIN no longer
//!   advances `nextseq`); this tracker has no such list and always advances.
//! - A connection ends here (and a new one starts with its next packet) `linger` after its
//!   close (both FINs, or an RST) and after `idle` without packets; tshark's streams never end.
//! - HTTP requests and responses are recognised only at the start of a segment that is not a
//!   retransmission or keep-alive (two messages in one segment count once).
//!
//! Drivers: the kernel (`tracer-ebpf`, entries in an LRU hash, a lock and a `bpf_timer` per
//! entry) and userspace (`tracer::conn::Tracker`, for `-r`). Both call [`read_segment`],
//! [`ConnKey::of`], [`ConnState::starts_new_connection`], [`ConnState::update`],
//! [`http_start`], [`HttpState`] and [`ConnState::on_timer`], in that order.

use crate::fields::{bit, PacketBytes, PacketFields};

pub use crate::tcp_flag;
use tcp_flag::{ACK, FIN, RST, SYN};

/// `Segment::bits`.
pub mod seg {
    /// The payload length is known (tshark's `tcp.len`): the IP lengths hold the TCP header.
    pub const HAVE_SEGLEN: u8 = 1;
    /// The data offset is at least 20 bytes. Below that tshark gives up after its sequence
    /// analysis: no flags, no handshake timing for the packet.
    pub const HLEN_OK: u8 = 2;
}

/// The TCP header fields the tracker needs, with the payload length taken from the IP
/// header's lengths (so a snap-length cut does not change it).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub seq: u32,
    pub ack: u32,
    /// TCP payload bytes (valid with [`seg::HAVE_SEGLEN`]).
    pub seglen: u32,
    /// Offset of the payload in the frame.
    pub payload_off: u32,
    pub window: u16,
    pub flags: u8,
    /// `seg::*`.
    pub bits: u8,
}

impl Segment {
    #[inline(always)]
    pub fn has(&self, b: u8) -> bool {
        self.bits & b != 0
    }

    /// The flags as tshark's display sees them (none when the header length is bogus).
    #[inline(always)]
    pub fn shown_flags(&self) -> u8 {
        if self.has(seg::HLEN_OK) {
            self.flags
        } else {
            0
        }
    }
}

/// Reads the segment of a TCP packet whose fields `f` were extracted from `pkt`: `None` for
/// what tshark (without IP reassembly) puts in no TCP stream: non-first fragments, a header
/// cut before the window field, an IPv4 header length below 20, IPv6 jumbograms. A first
/// fragment has no payload length (tshark's "fragmented": counted, not analysed).
#[inline(always)]
pub fn read_segment<P: PacketBytes + ?Sized>(pkt: &P, f: &PacketFields) -> Option<Segment> {
    if !f.has(bit::TCP) || f.has(bit::FRAGMENT) || !f.has(bit::PORTS_CAPTURED) {
        return None;
    }
    let l3 = f.l3_offset as usize;
    let l4 = f.l4_offset as usize;
    let seq = be32(pkt, l4 + 4)?;
    let ack = be32(pkt, l4 + 8)?;
    let off = pkt.u8_at(l4 + 12)?;
    let flags = pkt.u8_at(l4 + 13)?;
    let window = pkt.be16_at(l4 + 14)?;
    // The bytes IP says follow the TCP header's start.
    let reported: u32 = if f.ip_version == 4 {
        let ihl = ((pkt.u8_at(l3)? & 0x0f) as u32) * 4;
        let total = pkt.be16_at(l3 + 2)? as u32;
        if ihl < 20 || total < ihl {
            return None;
        }
        total - ihl
    } else {
        let plen = pkt.be16_at(l3 + 4)? as u32;
        let ext = (l4 - (l3 + 40)) as u32;
        if plen == 0 || plen < ext {
            return None;
        }
        plen - ext
    };
    let hlen = ((off >> 4) as u32) * 4;
    let mut bits = 0;
    let mut seglen = 0;
    if reported >= hlen && !f.has(bit::MORE_FRAGMENTS) {
        seglen = reported - hlen;
        bits |= seg::HAVE_SEGLEN;
    }
    if hlen >= 20 {
        bits |= seg::HLEN_OK;
    }
    Some(Segment {
        seq,
        ack,
        seglen,
        payload_off: (l4 as u32) + hlen,
        window,
        flags,
        bits,
    })
}

#[inline(always)]
fn be32<P: PacketBytes + ?Sized>(pkt: &P, off: usize) -> Option<u32> {
    let hi = pkt.be16_at(off)? as u32;
    let lo = pkt.be16_at(off + 2)? as u32;
    Some((hi << 16) | lo)
}

/// A connection, direction-normalised (end 0 is the lower of the two (address, port) pairs,
/// compared as words: any fixed order will do). One connection per interface: a packet seen
/// on two interfaces counts on each.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey {
    /// Each end's address bytes as two native-endian words (IPv4 in the first four bytes).
    pub addr: [[u64; 2]; 2],
    pub port: [u16; 2],
    pub ifindex: u32,
    /// 4 or 6.
    pub family: u32,
    pub _pad: u32,
}

const _: () = assert!(core::mem::size_of::<ConnKey>() == 48);

/// An address's bytes as two words, and back.
#[inline(always)]
fn words(a: &[u8; 16]) -> [u64; 2] {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&a[..8]);
    hi.copy_from_slice(&a[8..]);
    [u64::from_ne_bytes(lo), u64::from_ne_bytes(hi)]
}

impl ConnKey {
    /// The key of a packet's connection and the end (0 or 1) that sent it.
    #[inline(always)]
    pub fn of(f: &PacketFields, ifindex: u32) -> (ConnKey, u8) {
        ConnKey::of_ends(f.ip_version, &f.saddr, f.sport, &f.daddr, f.dport, ifindex)
    }

    /// The key of the connection between `(a, pa)` and `(b, pb)`, and the end that `a` is.
    #[inline(always)]
    pub fn of_ends(
        family: u8,
        a: &[u8; 16],
        pa: u16,
        b: &[u8; 16],
        pb: u16,
        ifindex: u32,
    ) -> (ConnKey, u8) {
        let (s, d) = (words(a), words(b));
        let side = ((s[0], s[1], pa) > (d[0], d[1], pb)) as usize;
        let mut key = ConnKey {
            addr: [s, d],
            port: [pa, pb],
            ifindex,
            family: family as u32,
            _pad: 0,
        };
        if side == 1 {
            key.addr = [d, s];
            key.port = [pb, pa];
        }
        (key, side as u8)
    }

    /// The address of end `i` as bytes.
    pub fn addr_bytes(&self, i: usize) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.addr[i & 1][0].to_ne_bytes());
        b[8..].copy_from_slice(&self.addr[i & 1][1].to_ne_bytes());
        b
    }
}

/// `Flow::flags`.
pub mod flow {
    /// `base_seq` is set (tshark's TCP_S_BASE_SEQ_SET).
    pub const BASE_SET: u8 = 1;
    /// This end sent a FIN.
    pub const FIN: u8 = 2;
}

/// One direction of a connection: tshark's per-flow analysis state and the counters.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub packets: u64,
    /// TCP payload bytes.
    pub bytes: u64,
    /// tshark's `nextseq` (0: not known).
    pub nextseq: u32,
    /// tshark's `maxseqtobeacked` (0: not known).
    pub maxseqtobeacked: u32,
    /// The ack number this end sent last (0: not known).
    pub lastack: u32,
    /// tshark's `base_seq` (the ISN, or the first seq - 1).
    pub base_seq: u32,
    /// The window this end advertised last, unscaled (u32::MAX before any).
    pub window: u32,
    pub retrans: u32,
    pub zero_windows: u32,
    pub rsts: u32,
    /// `flow::*`.
    pub flags: u8,
    pub _pad: [u8; 7],
}

const _: () = assert!(core::mem::size_of::<Flow>() == 56);

/// `ConnState::close`: why a connection ended.
pub mod close {
    /// Still open.
    pub const OPEN: u8 = 0;
    /// Both ends sent a FIN.
    pub const FIN: u8 = 1;
    /// An RST came before both FINs.
    pub const RST: u8 = 2;
    /// No packet for the idle time.
    pub const IDLE: u8 = 3;

    pub fn name(c: u8) -> &'static str {
        match c {
            FIN => "fin",
            RST => "rst",
            IDLE => "idle",
            _ => "open",
        }
    }
}

/// `ConnState::role`: how the client was decided.
pub mod role {
    /// No packet yet.
    pub const NONE: u8 = 0;
    /// The sender of the first packet seen.
    pub const FIRST_PACKET: u8 = 1;
    /// The receiver of a SYN-ACK (no SYN seen before it).
    pub const SYN_ACK: u8 = 2;
    /// The sender of the first SYN.
    pub const SYN: u8 = 3;
}

/// `ConnState::bits`.
pub mod state {
    /// A SYN-ACK was seen (the handshake time is reported only then).
    pub const SAW_SYN_ACK: u8 = 1;
    /// The record was taken: the entry is going away, updates no longer count.
    pub const FINISHED: u8 = 2;
    /// The kernel refused the entry a timer: no callback will end it, the loader must.
    pub const NO_TIMER: u8 = 4;
}

/// Everything kept per connection. Times are in the driver's clock (kernel: CLOCK_MONOTONIC
/// nanoseconds; files: Unix-epoch nanoseconds).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConnState {
    pub first_ns: u64,
    pub last_ns: u64,
    /// The most recent SYN (tshark's `ts_mru_syn`; 0: none).
    pub mru_syn_ns: u64,
    /// tshark's `ts_first_rtt`: first pure ACK after a SYN, minus that SYN (0: none).
    pub first_rtt_ns: u64,
    /// When the connection closed (0: open).
    pub closed_ns: u64,
    /// Indexed by end (0/1 as in [`ConnKey`]).
    pub flow: [Flow; 2],
    pub http_requests: u32,
    /// The end that is the client.
    pub client: u8,
    /// `role::*`.
    pub role: u8,
    /// `close::*`.
    pub close: u8,
    /// `state::*`.
    pub bits: u8,
}

const _: () = assert!(core::mem::size_of::<ConnState>() == 160);

/// `Update::flags`: what the packet was.
pub mod upd {
    /// Counted as a retransmission (any of tshark's four flags).
    pub const RETRANS: u8 = 1;
    /// A keep-alive (tshark's rule).
    pub const KEEP_ALIVE: u8 = 2;
    /// A zero-window probe.
    pub const ZERO_WINDOW_PROBE: u8 = 4;
    /// A zero-window advertisement.
    pub const ZERO_WINDOW: u8 = 8;
    /// This packet closed the connection (the driver starts the linger timer).
    pub const CLOSED_NOW: u8 = 16;
    /// Analysed (tshark knows its payload length).
    pub const ANALYSED: u8 = 32;
}

/// What [`ConnState::on_timer`] decided.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimerVerdict {
    /// Take the record now, with this close reason.
    Finish(u8),
    /// Look again after this many nanoseconds.
    Rearm(u64),
}

#[inline(always)]
fn lt_seq(x: u32, y: u32) -> bool {
    (x.wrapping_sub(y) as i32) < 0
}

#[inline(always)]
fn gt_seq(x: u32, y: u32) -> bool {
    (y.wrapping_sub(x) as i32) < 0
}

#[inline(always)]
fn le_seq(x: u32, y: u32) -> bool {
    (x.wrapping_sub(y) as i32) <= 0
}

impl Flow {
    pub const EMPTY: Flow = Flow {
        packets: 0,
        bytes: 0,
        nextseq: 0,
        maxseqtobeacked: 0,
        lastack: 0,
        base_seq: 0,
        window: u32::MAX,
        retrans: 0,
        zero_windows: 0,
        rsts: 0,
        flags: 0,
        _pad: [0; 7],
    };
}

impl ConnState {
    pub const EMPTY: ConnState = ConnState {
        first_ns: 0,
        last_ns: 0,
        mru_syn_ns: 0,
        first_rtt_ns: 0,
        closed_ns: 0,
        flow: [Flow::EMPTY; 2],
        http_requests: 0,
        client: 0,
        role: role::NONE,
        close: close::OPEN,
        bits: 0,
    };

    /// Resets to a new connection whose first packet comes at `ts`. Field by field, with
    /// volatile stores: LLVM would merge plain zero stores into a memset call, which the BPF
    /// target can only make as a byte loop.
    #[inline(always)]
    pub fn start(&mut self, ts: u64) {
        fn set<T>(dst: &mut T, v: T) {
            // SAFETY: a plain store through a valid &mut.
            unsafe { core::ptr::write_volatile(dst, v) }
        }
        set(&mut self.first_ns, ts);
        set(&mut self.last_ns, ts);
        set(&mut self.mru_syn_ns, 0);
        set(&mut self.first_rtt_ns, 0);
        set(&mut self.closed_ns, 0);
        let mut i = 0;
        while i < 2 {
            let f = &mut self.flow[i];
            set(&mut f.packets, 0);
            set(&mut f.bytes, 0);
            set(&mut f.nextseq, 0);
            set(&mut f.maxseqtobeacked, 0);
            set(&mut f.lastack, 0);
            set(&mut f.base_seq, 0);
            set(&mut f.window, u32::MAX);
            set(&mut f.retrans, 0);
            set(&mut f.zero_windows, 0);
            set(&mut f.rsts, 0);
            set(&mut f.flags, 0);
            i += 1;
        }
        set(&mut self.http_requests, 0);
        set(&mut self.client, 0);
        set(&mut self.role, role::NONE);
        set(&mut self.close, close::OPEN);
        set(&mut self.bits, 0);
    }

    /// tshark opens a new conversation on a SYN whose sequence number differs from the base of
    /// its direction (a reused port pair): the driver then takes the old record first and
    /// [`start`](Self::start)s again.
    #[inline(always)]
    pub fn starts_new_connection(&self, side: u8, s: &Segment) -> bool {
        let f = &self.flow[(side & 1) as usize];
        s.flags & (SYN | ACK) == SYN && f.flags & flow::BASE_SET != 0 && s.seq != f.base_seq
    }

    /// Counts one packet sent by end `side` at `ts` (`segs` wire segments: more than one for a
    /// GSO packet the kernel will split after the hook). Returns `upd::*` flags.
    #[inline(always)]
    pub fn update(&mut self, ts: u64, side: u8, s: &Segment, segs: u32) -> u8 {
        let side = (side & 1) as usize;
        let segs = if segs == 0 { 1 } else { segs };
        let shown = s.shown_flags();
        if self.role == role::NONE {
            self.client = side as u8;
            self.role = role::FIRST_PACKET;
        }
        if shown & (SYN | ACK) == SYN && self.role != role::SYN {
            self.client = side as u8;
            self.role = role::SYN;
        } else if shown & (SYN | ACK) == (SYN | ACK) && self.role == role::FIRST_PACKET {
            self.client = (side ^ 1) as u8;
            self.role = role::SYN_ACK;
        }
        if ts > self.last_ns {
            self.last_ns = ts;
        }

        let mut out = 0;
        // dissect_tcp, before the analysis: the sequence bases.
        if s.flags & (SYN | ACK) == SYN {
            let f = &mut self.flow[side];
            if f.flags & flow::BASE_SET != 0 && s.seq == f.base_seq {
                // A retransmitted SYN: tshark restores nextseq (issue 17616).
                f.nextseq = f.maxseqtobeacked;
            }
        }
        if s.flags & (SYN | ACK) == (SYN | ACK) {
            let f = &mut self.flow[side];
            if f.flags & flow::BASE_SET != 0 && s.seq != f.base_seq {
                f.base_seq = s.seq;
            }
        }
        if s.has(seg::HAVE_SEGLEN) {
            out |= upd::ANALYSED;
            {
                let f = &mut self.flow[side];
                if f.flags & flow::BASE_SET == 0 {
                    f.base_seq = if s.flags & SYN != 0 {
                        s.seq
                    } else {
                        s.seq.wrapping_sub(1)
                    };
                    f.flags |= flow::BASE_SET;
                }
            }
            {
                let r = &mut self.flow[side ^ 1];
                if r.flags & flow::BASE_SET == 0 && s.flags & ACK != 0 {
                    r.base_seq = s.ack.wrapping_sub(1);
                    r.flags |= flow::BASE_SET;
                }
            }
            out |= self.analyse(side, s);
        }

        // The counters.
        let f = &mut self.flow[side];
        f.packets += segs as u64;
        if s.has(seg::HAVE_SEGLEN) {
            f.bytes += s.seglen as u64;
        }
        if out & upd::RETRANS != 0 {
            f.retrans += segs;
        }
        if out & upd::ZERO_WINDOW != 0 {
            f.zero_windows += segs;
        }
        if shown & RST != 0 {
            f.rsts += 1;
        }
        if shown & FIN != 0 {
            f.flags |= flow::FIN;
        }

        // dissect_tcp after the header checks: handshake timing.
        if shown & (SYN | ACK) == (SYN | ACK) {
            self.bits |= state::SAW_SYN_ACK;
        }
        if shown & (SYN | ACK) == SYN {
            self.mru_syn_ns = ts;
        }
        if shown & (SYN | ACK) == ACK && self.mru_syn_ns != 0 && self.first_rtt_ns == 0 {
            self.first_rtt_ns = ts.wrapping_sub(self.mru_syn_ns);
        }

        if self.close == close::OPEN {
            let both_fins = self.flow[0].flags & self.flow[1].flags & flow::FIN != 0;
            if shown & RST != 0 {
                self.close = close::RST;
            } else if both_fins {
                self.close = close::FIN;
            }
            if self.close != close::OPEN {
                self.closed_ns = ts;
                out |= upd::CLOSED_NOW;
            }
        }
        out
    }

    /// `tcp_analyze_sequence_number` for a packet of end `side`: the flags this tracker
    /// needs, and the flow state tshark carries to the next packet.
    #[inline(always)]
    fn analyse(&mut self, side: usize, s: &Segment) -> u8 {
        let (seq, ack, seglen, flags) = (s.seq, s.ack, s.seglen, s.flags);
        let window = s.window as u32;
        let rev_window = self.flow[side ^ 1].window;
        let rev_lastack = self.flow[side ^ 1].lastack;
        let mut out = 0;
        let fwd_nextseq = self.flow[side].nextseq;

        if seglen == 1 && seq == fwd_nextseq && rev_window == 0 {
            out |= upd::ZERO_WINDOW_PROBE;
        } else {
            if window == 0 && flags & (RST | FIN | SYN) == 0 {
                out |= upd::ZERO_WINDOW;
            }
            if (seglen == 0 || seglen == 1)
                && seq == fwd_nextseq.wrapping_sub(1)
                && flags & (SYN | FIN | RST) == 0
            {
                out |= upd::KEEP_ALIVE;
            }
        }

        // ACKED LOST PACKET moves the other direction's maxseqtobeacked.
        {
            let r = &mut self.flow[side ^ 1];
            if r.maxseqtobeacked != 0
                && gt_seq(ack, r.maxseqtobeacked)
                && flags & ACK != 0
                && lt_seq(r.maxseqtobeacked, r.nextseq)
            {
                r.maxseqtobeacked = r.nextseq;
            }
        }

        if (seglen > 0 || flags & (SYN | FIN) != 0) && out & upd::KEEP_ALIVE == 0 {
            let mut not_advanced = fwd_nextseq != 0 && lt_seq(seq, fwd_nextseq);
            if seglen > 1 && fwd_nextseq.wrapping_sub(1) == seq {
                not_advanced = false;
            }
            let spurious =
                seglen > 0 && rev_lastack != 0 && le_seq(seq.wrapping_add(seglen), rev_lastack);
            if spurious || not_advanced {
                out |= upd::RETRANS;
            }
        }

        let f = &mut self.flow[side];
        let mut nextseq = seq.wrapping_add(seglen);
        if flags & (SYN | FIN) != 0 {
            nextseq = nextseq.wrapping_add(1);
        }
        let zwp = out & upd::ZERO_WINDOW_PROBE != 0;
        if (gt_seq(nextseq, f.nextseq) || f.nextseq == 0) && !zwp {
            f.nextseq = nextseq;
        }
        if (seq == f.maxseqtobeacked || f.maxseqtobeacked == 0) && !zwp {
            f.maxseqtobeacked = f.nextseq;
        }
        f.window = window;
        f.lastack = ack;
        out
    }

    /// The handshake time: tshark's initial RTT, when a SYN-ACK was seen.
    pub fn handshake_rtt_ns(&self) -> Option<u64> {
        (self.bits & state::SAW_SYN_ACK != 0 && self.first_rtt_ns != 0).then_some(self.first_rtt_ns)
    }

    /// The end that is the server.
    pub fn server(&self) -> u8 {
        self.client ^ 1
    }

    /// What the entry's timer decides at `now`: a closed connection ends `linger_ns` after
    /// its close, an open one after `idle_ns` without packets.
    #[inline(always)]
    pub fn on_timer(&self, now: u64, idle_ns: u64, linger_ns: u64) -> TimerVerdict {
        if self.close != close::OPEN {
            let due = self.closed_ns.wrapping_add(linger_ns);
            if now >= due {
                TimerVerdict::Finish(self.close)
            } else {
                TimerVerdict::Rearm(due - now)
            }
        } else {
            let due = self.last_ns.wrapping_add(idle_ns);
            if now >= due {
                TimerVerdict::Finish(close::IDLE)
            } else {
                TimerVerdict::Rearm(due - now)
            }
        }
    }
}

/// Whether the packet may start an HTTP message: payload, and neither a retransmission nor
/// a keep-alive (tshark hands neither to HTTP).
#[inline(always)]
pub fn http_candidate(s: &Segment, update_flags: u8) -> bool {
    s.has(seg::HAVE_SEGLEN) && s.seglen > 0 && update_flags & (upd::RETRANS | upd::KEEP_ALIVE) == 0
}

/// Request methods tshark's HTTP dissector recognises (is_http_request_or_reply); a method's
/// code is its index here plus one. Only used at compile time: the tables below are what the
/// programs read (a table of slices would put pointers in .rodata, which BPF cannot relocate).
const METHOD_NAMES: &[&[u8]] = &[
    b"GET",
    b"PUT",
    b"COPY",
    b"HEAD",
    b"LOCK",
    b"MOVE",
    b"POLL",
    b"POST",
    b"BCOPY",
    b"BMOVE",
    b"MKCOL",
    b"TRACE",
    b"PATCH",
    b"LABEL",
    b"MERGE",
    b"DELETE",
    b"SEARCH",
    b"UNLOCK",
    b"REPORT",
    b"UPDATE",
    b"NOTIFY",
    b"BDELETE",
    b"CONNECT",
    b"OPTIONS",
    b"CHECKIN",
    b"PROPFIND",
    b"CHECKOUT",
    b"CCM_POST",
    b"SUBSCRIBE",
    b"PROPPATCH",
    b"BPROPFIND",
    b"BPROPPATCH",
    b"UNCHECKOUT",
    b"MKACTIVITY",
    b"MKWORKSPACE",
    b"RPC_CONNECT",
    b"RPC_IN_DATA",
    b"UNSUBSCRIBE",
    b"RPC_OUT_DATA",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    b"SSTP_DUPLEX_POST",
];

/// The longest method name.
const METHOD_MAX: usize = 16;

/// [`METHOD_NAMES`] as fixed-size, zero-padded arrays.
const HTTP_METHODS: [[u8; METHOD_MAX]; METHOD_NAMES.len()] = {
    let mut t = [[0u8; METHOD_MAX]; METHOD_NAMES.len()];
    let mut i = 0;
    while i < METHOD_NAMES.len() {
        assert!(METHOD_NAMES[i].len() <= METHOD_MAX);
        let mut k = 0;
        while k < METHOD_NAMES[i].len() {
            t[i][k] = METHOD_NAMES[i][k];
            k += 1;
        }
        i += 1;
    }
    t
};

/// The length of each method.
const HTTP_METHOD_LENS: [u8; METHOD_NAMES.len()] = {
    let mut t = [0u8; METHOD_NAMES.len()];
    let mut i = 0;
    while i < METHOD_NAMES.len() {
        t[i] = METHOD_NAMES[i].len() as u8;
        i += 1;
    }
    t
};

/// Each method packed as a [`Head`] packs the payload: compared a word at a time.
const HTTP_METHOD_WORDS: [[u64; HEAD_WORDS]; METHOD_NAMES.len()] = {
    let mut t = [[0u64; HEAD_WORDS]; METHOD_NAMES.len()];
    let mut i = 0;
    while i < METHOD_NAMES.len() {
        let mut k = 0;
        while k < METHOD_NAMES[i].len() {
            t[i][k / 8] |= (METHOD_NAMES[i][k] as u64) << (56 - 8 * (k % 8));
            k += 1;
        }
        i += 1;
    }
    t
};

/// The method with code `m`, if any.
pub fn http_method_name(m: u8) -> Option<&'static [u8]> {
    let i = (m as usize).checked_sub(1)?;
    if i >= HTTP_METHODS.len() {
        return None;
    }
    Some(&HTTP_METHODS[i][..HTTP_METHOD_LENS[i] as usize])
}

/// How an HTTP message starts, if the segment starts one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HttpStart {
    None,
    /// A request: its method's code and length, and how many bytes from the payload's start
    /// there are to copy (up to [`HTTP_HEAD_MAX`]: the method, its space and the URI's first
    /// 64 bytes; see [`request_uri`]).
    Request {
        method: u8,
        method_len: u8,
        raw_len: u8,
    },
    /// A response and its status code.
    Response {
        status: u16,
    },
}

/// Words of [`Head`].
const HEAD_WORDS: usize = 3;
// http_start compares the words one by one.
const _: () = assert!(HEAD_WORDS == 3);
/// Payload bytes [`Head`] holds: the longest method and its space fit.
const HEAD_BYTES: usize = HEAD_WORDS * 8;
const _: () = assert!(METHOD_MAX < HEAD_BYTES);

/// The first bytes of a payload packed big-endian into words (byte 0 is the top byte of
/// word 0), zero past the segment or the captured bytes: in registers, so the kernel's
/// verifier sees no memory access per byte.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Head {
    w: [u64; HEAD_WORDS],
}

impl Head {
    /// Byte `i` (0 past the end).
    #[inline(always)]
    pub fn byte(&self, i: usize) -> u8 {
        if i >= HEAD_BYTES {
            return 0;
        }
        (self.w[i / 8] >> (56 - 8 * (i % 8))) as u8
    }

    /// The words with only the first `n` bytes kept.
    #[inline(always)]
    fn first(&self, n: usize) -> [u64; HEAD_WORDS] {
        let mut out = self.w;
        let mut k = 0;
        while k < HEAD_WORDS {
            let keep = n.saturating_sub(8 * k);
            out[k] &= if keep >= 8 {
                u64::MAX
            } else if keep == 0 {
                0
            } else {
                u64::MAX << (64 - 8 * keep)
            };
            k += 1;
        }
        out
    }
}

/// Payload bytes of the segment that are there to read (captured, and inside the segment).
#[inline(always)]
fn payload_avail<P: PacketBytes + ?Sized>(pkt: &P, s: &Segment) -> usize {
    let off = s.payload_off as usize;
    (s.seglen as usize).min(pkt.available().saturating_sub(off))
}

/// Reads the first [`HEAD_BYTES`] of the segment's payload.
#[inline(always)]
pub fn payload_head<P: PacketBytes + ?Sized>(pkt: &P, s: &Segment) -> Head {
    let h = Head {
        w: pkt.be_words::<HEAD_WORDS>(s.payload_off as usize),
    };
    Head {
        w: h.first(payload_avail(pkt, s).min(HEAD_BYTES)),
    }
}

/// Looks at the start of the segment's payload: a method token and a space (a request), or
/// `HTTP/1.x NNN` (a response).
#[inline(always)]
pub fn http_start<P: PacketBytes + ?Sized>(pkt: &P, s: &Segment) -> HttpStart {
    let h = payload_head(pkt, s);
    const VERSION: u64 = u64::from_be_bytes(*b"HTTP/1.\0");
    if h.w[0] & !0xff == VERSION {
        let (a, b, c) = (h.byte(9), h.byte(10), h.byte(11));
        if h.byte(8) == b' ' && a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() {
            let status = (a - b'0') as u16 * 100 + (b - b'0') as u16 * 10 + (c - b'0') as u16;
            return HttpStart::Response { status };
        }
        return HttpStart::None;
    }
    // The method ends at the first space.
    let mut sp = 0;
    while sp <= METHOD_MAX {
        let b = h.byte(sp);
        if b == b' ' {
            break;
        }
        if b == 0 {
            return HttpStart::None;
        }
        sp += 1;
    }
    if sp == 0 || sp > METHOD_MAX {
        return HttpStart::None;
    }
    let words = h.first(sp);
    let mut method = 0;
    let mut i = 0;
    while i < HTTP_METHOD_WORDS.len() {
        // Word by word: `==` on the arrays would be a memcmp call (a byte loop in BPF).
        let m = &HTTP_METHOD_WORDS[i];
        if HTTP_METHOD_LENS[i] as usize == sp
            && m[0] == words[0]
            && m[1] == words[1]
            && m[2] == words[2]
        {
            method = (i + 1) as u8;
            break;
        }
        i += 1;
    }
    if method == 0 {
        return HttpStart::None;
    }
    HttpStart::Request {
        method,
        method_len: sp as u8,
        raw_len: payload_avail(pkt, s).min(HTTP_HEAD_MAX) as u8,
    }
}

/// The URI of a request from the bytes copied from its payload's start (`raw`, after a
/// method of `method_len` bytes and its space): up to 64 bytes, ended by a space, CR or LF.
pub fn request_uri(raw: &[u8], method_len: u8) -> &[u8] {
    let from = (method_len as usize + 1).min(raw.len());
    let rest = &raw[from..];
    let rest = &rest[..rest.len().min(HTTP_URI_MAX)];
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Requests one connection can have outstanding for pairing (pipelining depth).
pub const HTTP_PENDING: usize = 4;
/// URI bytes kept per request.
pub const HTTP_URI_MAX: usize = 64;
/// Payload bytes copied per request: the longest method, its space and the URI's bytes.
pub const HTTP_HEAD_MAX: usize = 88;
const _: () =
    assert!(HTTP_HEAD_MAX >= METHOD_MAX + 1 + HTTP_URI_MAX && HTTP_HEAD_MAX.is_multiple_of(8));

/// A request waiting for its response.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PendingRequest {
    pub ts_ns: u64,
    /// Its number on the connection (0, 1, ...).
    pub number: u32,
    pub method: u8,
    pub method_len: u8,
    /// Bytes of `raw` that were copied.
    pub raw_len: u8,
    /// 1 while waiting.
    pub valid: u8,
    /// The payload's first bytes (see [`request_uri`]).
    pub raw: [u8; HTTP_HEAD_MAX],
}

const _: () = assert!(core::mem::size_of::<PendingRequest>() == 16 + HTTP_HEAD_MAX);

/// Per-connection HTTP pairing: responses go to requests first-in-first-out.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HttpState {
    /// Requests seen (the next request's number).
    pub requests: u32,
    /// Requests answered or given up (the next response's number).
    pub answered: u32,
    pub pending: [PendingRequest; HTTP_PENDING],
}

const _: () = assert!(
    core::mem::size_of::<HttpState>() == 8 + core::mem::size_of::<PendingRequest>() * HTTP_PENDING
);

/// Where a response found its request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResponseMatch {
    /// The request waits in this slot (the caller reads it, then calls [`HttpState::release`]).
    Slot(usize),
    /// No request was outstanding (it came before the capture, or was not recognised).
    Orphan,
    /// Its request did not fit in the pending slots (more than [`HTTP_PENDING`] outstanding).
    Overflowed,
}

impl PendingRequest {
    pub const EMPTY: PendingRequest = PendingRequest {
        ts_ns: 0,
        number: 0,
        method: 0,
        method_len: 0,
        raw_len: 0,
        valid: 0,
        raw: [0; HTTP_HEAD_MAX],
    };
}

impl HttpState {
    pub const EMPTY: HttpState = HttpState {
        requests: 0,
        answered: 0,
        pending: [PendingRequest::EMPTY; HTTP_PENDING],
    };

    /// Registers a request; returns its slot, or `None` when every slot is taken (the
    /// request is still numbered, so later responses pair correctly).
    #[inline(always)]
    pub fn request(&mut self, ts: u64, method: u8, method_len: u8) -> Option<usize> {
        let n = self.requests;
        self.requests = n.wrapping_add(1);
        if n.wrapping_sub(self.answered) >= HTTP_PENDING as u32 {
            return None;
        }
        let i = (n as usize) % HTTP_PENDING;
        let p = &mut self.pending[i];
        p.ts_ns = ts;
        p.number = n;
        p.method = method;
        p.method_len = method_len;
        p.raw_len = 0;
        p.valid = 1;
        Some(i)
    }

    /// Pairs a response with the oldest unanswered request.
    #[inline(always)]
    pub fn response(&mut self) -> ResponseMatch {
        if self.answered == self.requests {
            return ResponseMatch::Orphan;
        }
        let n = self.answered;
        self.answered = n.wrapping_add(1);
        let i = (n as usize) % HTTP_PENDING;
        let p = &self.pending[i];
        if p.valid != 0 && p.number == n {
            ResponseMatch::Slot(i)
        } else {
            ResponseMatch::Overflowed
        }
    }

    /// Frees a slot once its request was reported.
    #[inline(always)]
    pub fn release(&mut self, i: usize) {
        self.pending[i % HTTP_PENDING].valid = 0;
    }

    /// The slot of the `k`-th oldest unanswered request (k < HTTP_PENDING), if it is kept.
    #[inline(always)]
    pub fn unanswered(&self, k: u32) -> Option<usize> {
        let n = self.answered.wrapping_add(k);
        if n.wrapping_sub(self.answered) >= self.requests.wrapping_sub(self.answered) {
            return None;
        }
        let i = (n as usize) % HTTP_PENDING;
        let p = &self.pending[i];
        (p.valid != 0 && p.number == n).then_some(i)
    }
}

/// Copies a request's first payload bytes into its pending slot (the kernel copies the same
/// bytes its own way).
#[inline(always)]
pub fn copy_request<P: PacketBytes + ?Sized>(
    pkt: &P,
    s: &Segment,
    raw_len: u8,
    p: &mut PendingRequest,
) {
    let len = (raw_len as usize).min(HTTP_HEAD_MAX);
    let off = s.payload_off as usize;
    let mut k = 0;
    while k < len {
        match pkt.u8_at(off + k) {
            Some(b) => p.raw[k] = b,
            None => break,
        }
        k += 1;
    }
    p.raw_len = k as u8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::extract_fields;
    use std::{vec, vec::Vec};

    /// An Ethernet/IPv4/TCP frame with `payload`.
    #[allow(clippy::too_many_arguments)]
    fn frame(
        src: u8,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        win: u16,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut p = vec![0u8; 14 + 20 + 20];
        p[12] = 0x08;
        p[14] = 0x45;
        let total = (40 + payload.len()) as u16;
        p[16..18].copy_from_slice(&total.to_be_bytes());
        p[14 + 9] = 6;
        let (s, d) = if src == 1 {
            ([10, 0, 0, 1], [10, 0, 0, 2])
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1])
        };
        p[26..30].copy_from_slice(&s);
        p[30..34].copy_from_slice(&d);
        p[34..36].copy_from_slice(&sport.to_be_bytes());
        p[36..38].copy_from_slice(&dport.to_be_bytes());
        p[38..42].copy_from_slice(&seq.to_be_bytes());
        p[42..46].copy_from_slice(&ack.to_be_bytes());
        p[46] = 0x50;
        p[47] = flags;
        p[48..50].copy_from_slice(&win.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    struct Conn {
        st: ConnState,
        http: HttpState,
        events: Vec<(u8, Option<u64>, u16)>,
    }

    impl Conn {
        fn new() -> Conn {
            Conn {
                st: ConnState::EMPTY,
                http: HttpState::EMPTY,
                events: vec![],
            }
        }

        /// Client is 10.0.0.1:40000, server 10.0.0.2:80.
        #[allow(clippy::too_many_arguments)]
        fn pkt(
            &mut self,
            ts: u64,
            from_client: bool,
            seq: u32,
            ack: u32,
            flags: u8,
            win: u16,
            payload: &[u8],
        ) -> u8 {
            let f = if from_client {
                frame(1, 40000, 80, seq, ack, flags, win, payload)
            } else {
                frame(2, 80, 40000, seq, ack, flags, win, payload)
            };
            let fields = extract_fields(&f[..], f.len() as u32);
            let s = read_segment(&f[..], &fields).unwrap();
            let (_, side) = ConnKey::of(&fields, 1);
            if self.st.role == role::NONE {
                self.st.start(ts);
            }
            let u = self.st.update(ts, side, &s, 1);
            if http_candidate(&s, u) {
                match http_start(&f[..], &s) {
                    HttpStart::Request {
                        method,
                        method_len,
                        raw_len,
                    } => {
                        self.st.http_requests += 1;
                        if let Some(i) = self.http.request(ts, method, method_len) {
                            copy_request(&f[..], &s, raw_len, &mut self.http.pending[i]);
                        }
                    }
                    HttpStart::Response { status } => match self.http.response() {
                        ResponseMatch::Slot(i) => {
                            let p = self.http.pending[i];
                            self.http.release(i);
                            self.events.push((p.method, Some(ts - p.ts_ns), status));
                        }
                        _ => self.events.push((0, None, status)),
                    },
                    HttpStart::None => {}
                }
            }
            u
        }
    }

    const C: bool = true;
    const S: bool = false;

    #[test]
    fn handshake_data_and_fin_close() {
        let mut c = Conn::new();
        c.pkt(1000, C, 100, 0, SYN, 64240, b"");
        c.pkt(1500, S, 900, 101, SYN | ACK, 65160, b"");
        c.pkt(1800, C, 101, 901, ACK, 502, b"");
        c.pkt(
            2000,
            C,
            101,
            901,
            ACK | 0x08,
            502,
            b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        c.pkt(2100, S, 901, 138, ACK, 509, b"");
        c.pkt(
            2600,
            S,
            901,
            138,
            ACK | 0x08,
            509,
            b"HTTP/1.1 200 OK\r\n\r\n",
        );
        c.pkt(3000, C, 138, 920, FIN | ACK, 502, b"");
        let u = c.pkt(3100, S, 920, 139, FIN | ACK, 509, b"");
        assert!(u & upd::CLOSED_NOW != 0);
        c.pkt(3200, C, 139, 921, ACK, 502, b"");
        let st = &c.st;
        assert_eq!(st.client, 0);
        assert_eq!(st.role, role::SYN);
        assert_eq!(st.handshake_rtt_ns(), Some(800));
        assert_eq!((st.flow[0].packets, st.flow[1].packets), (5, 4));
        assert_eq!((st.flow[0].bytes, st.flow[1].bytes), (37, 19));
        assert_eq!((st.flow[0].retrans, st.flow[1].retrans), (0, 0));
        assert_eq!(st.close, close::FIN);
        assert_eq!(st.closed_ns, 3100);
        assert_eq!(st.http_requests, 1);
        assert_eq!(c.events, vec![(1, Some(600), 200)]);
        assert_eq!(st.on_timer(3200, 300, 2000), TimerVerdict::Rearm(1900));
        assert_eq!(
            st.on_timer(5100, 300, 2000),
            TimerVerdict::Finish(close::FIN)
        );
    }

    #[test]
    fn retransmitted_data_and_syn_count_keepalives_do_not() {
        let mut c = Conn::new();
        c.pkt(1, C, 100, 0, SYN, 100, b"");
        assert_eq!(
            c.pkt(2, C, 100, 0, SYN, 100, b"") & upd::RETRANS,
            upd::RETRANS
        );
        c.pkt(3, S, 900, 101, SYN | ACK, 100, b"");
        c.pkt(4, C, 101, 901, ACK, 100, b"");
        c.pkt(5, C, 101, 901, ACK, 100, b"hello");
        assert_eq!(
            c.pkt(6, C, 101, 901, ACK, 100, b"hello") & upd::RETRANS,
            upd::RETRANS
        );
        // A keep-alive: one byte before nextseq, 0 or 1 byte long.
        let u = c.pkt(7, C, 105, 901, ACK, 100, b"");
        assert!(u & upd::KEEP_ALIVE != 0 && u & upd::RETRANS == 0);
        let u = c.pkt(8, C, 105, 901, ACK, 100, b"x");
        assert!(u & upd::KEEP_ALIVE != 0 && u & upd::RETRANS == 0);
        assert_eq!(c.st.flow[0].retrans, 2);
        // A new segment that starts one byte early but adds data is not a retransmission.
        assert_eq!(c.pkt(9, C, 105, 901, ACK, 100, b"oworld") & upd::RETRANS, 0);
    }

    #[test]
    fn spurious_retransmission_of_acked_data() {
        let mut c = Conn::new();
        c.pkt(1, C, 100, 0, SYN, 100, b"");
        c.pkt(2, S, 900, 101, SYN | ACK, 100, b"");
        c.pkt(3, C, 101, 901, ACK, 100, b"abc");
        c.pkt(4, S, 901, 104, ACK, 100, b"");
        assert_eq!(
            c.pkt(5, C, 101, 901, ACK, 100, b"abc") & upd::RETRANS,
            upd::RETRANS
        );
    }

    #[test]
    fn zero_windows_and_probes() {
        let mut c = Conn::new();
        c.pkt(1, C, 100, 0, SYN, 100, b"");
        c.pkt(2, S, 900, 101, SYN | ACK, 100, b"");
        c.pkt(3, C, 101, 901, ACK, 100, b"abcd");
        assert!(c.pkt(4, S, 901, 105, ACK, 0, b"") & upd::ZERO_WINDOW != 0);
        // A SYN/FIN/RST with window 0 is not a zero-window advertisement.
        let u = c.pkt(5, C, 105, 901, ACK, 100, b"e");
        assert!(u & upd::ZERO_WINDOW_PROBE != 0 && u & upd::RETRANS == 0);
        // The probe did not advance nextseq: the same probe again is a probe again.
        let u = c.pkt(6, C, 105, 901, ACK, 100, b"e");
        assert!(u & upd::ZERO_WINDOW_PROBE != 0 && u & upd::RETRANS == 0);
        assert_eq!(c.st.flow[1].zero_windows, 1);
    }

    #[test]
    fn refused_connection_has_no_handshake_time_and_closes_by_rst() {
        let mut c = Conn::new();
        c.pkt(10, C, 100, 0, SYN, 100, b"");
        let u = c.pkt(20, S, 0, 101, RST | ACK, 0, b"");
        assert!(u & upd::CLOSED_NOW != 0);
        assert_eq!(c.st.close, close::RST);
        assert_eq!(c.st.first_rtt_ns, 10); // tshark sets initial_rtt from the RST...
        assert_eq!(c.st.handshake_rtt_ns(), None); // ...but no SYN-ACK was seen.
        assert_eq!(c.st.flow[1].rsts, 1);
        assert_eq!(c.st.flow[1].zero_windows, 0);
    }

    #[test]
    fn without_a_syn_the_first_sender_is_the_client_and_a_syn_ack_decides_otherwise() {
        let mut c = Conn::new();
        c.pkt(1, S, 900, 101, ACK, 100, b"data");
        assert_eq!((c.st.client, c.st.role), (1, role::FIRST_PACKET));
        let mut c = Conn::new();
        c.pkt(1, S, 900, 101, SYN | ACK, 100, b"");
        assert_eq!((c.st.client, c.st.role), (0, role::SYN_ACK));
    }

    #[test]
    fn a_syn_with_another_sequence_number_starts_a_new_connection() {
        let mut c = Conn::new();
        c.pkt(1, C, 100, 0, SYN, 100, b"");
        let f = frame(1, 40000, 80, 5000, 0, SYN, 100, b"");
        let fields = extract_fields(&f[..], f.len() as u32);
        let s = read_segment(&f[..], &fields).unwrap();
        assert!(c.st.starts_new_connection(0, &s));
        let f = frame(1, 40000, 80, 100, 0, SYN, 100, b"");
        let s = read_segment(&f[..], &extract_fields(&f[..], f.len() as u32)).unwrap();
        assert!(!c.st.starts_new_connection(0, &s));
    }

    #[test]
    fn pipelined_requests_pair_first_in_first_out() {
        let mut c = Conn::new();
        c.pkt(1, C, 100, 0, SYN, 100, b"");
        c.pkt(2, S, 900, 101, SYN | ACK, 100, b"");
        c.pkt(3, C, 101, 901, ACK, 100, b"");
        c.pkt(10, C, 101, 901, ACK, 100, b"GET /a HTTP/1.1\r\n\r\n");
        c.pkt(20, C, 120, 901, ACK, 100, b"HEAD /b HTTP/1.1\r\n\r\n");
        c.pkt(30, S, 901, 140, ACK, 100, b"HTTP/1.1 200 OK\r\n\r\n");
        c.pkt(50, S, 920, 140, ACK, 100, b"HTTP/1.1 404 Not Found\r\n\r\n");
        c.pkt(60, S, 947, 140, ACK, 100, b"HTTP/1.1 500 x\r\n\r\n");
        assert_eq!(
            c.events,
            vec![(1, Some(20), 200), (4, Some(30), 404), (0, None, 500)]
        );
        assert_eq!(c.st.http_requests, 2);
    }

    #[test]
    fn more_outstanding_requests_than_slots_still_pair_by_number() {
        let mut h = HttpState::EMPTY;
        for i in 0..6u64 {
            let got = h.request(i, 1, 3);
            assert_eq!(got.is_some(), i < HTTP_PENDING as u64);
        }
        for _ in 0..HTTP_PENDING {
            match h.response() {
                ResponseMatch::Slot(i) => h.release(i),
                m => panic!("{m:?}"),
            }
        }
        assert_eq!(h.response(), ResponseMatch::Overflowed);
        assert_eq!(h.response(), ResponseMatch::Overflowed);
        assert_eq!(h.response(), ResponseMatch::Orphan);
    }

    /// The method code and URI a payload starts (copied and cut as the drivers do), from a
    /// frame cut `cut` bytes short.
    fn request_of(payload: &[u8], cut: usize) -> Option<(u8, Vec<u8>)> {
        let f = frame(1, 1, 2, 1, 1, ACK, 1, payload);
        let s = read_segment(&f[..], &extract_fields(&f[..], f.len() as u32)).unwrap();
        let f = &f[..f.len() - cut];
        match http_start(f, &s) {
            HttpStart::Request {
                method,
                method_len,
                raw_len,
            } => {
                let mut p = PendingRequest::EMPTY;
                copy_request(f, &s, raw_len, &mut p);
                let raw = &p.raw[..p.raw_len as usize];
                Some((method, request_uri(raw, method_len).to_vec()))
            }
            _ => None,
        }
    }

    fn start_of(payload: &[u8]) -> HttpStart {
        let f = frame(1, 1, 2, 1, 1, ACK, 1, payload);
        let s = read_segment(&f[..], &extract_fields(&f[..], f.len() as u32)).unwrap();
        http_start(&f[..], &s)
    }

    #[test]
    fn http_starts_need_a_known_method_and_a_space_or_a_status_line() {
        assert_eq!(
            request_of(b"GET /x?y=1 HTTP/1.1\r\n", 0),
            Some((1, b"/x?y=1".to_vec()))
        );
        assert_eq!(request_of(b"GETX / HTTP/1.1\r\n", 0), None);
        assert_eq!(request_of(b"get / HTTP/1.1\r\n", 0), None);
        assert_eq!(request_of(b"GET", 0), None);
        assert_eq!(request_of(b"GET ", 0), Some((1, vec![])));
        assert_eq!(
            start_of(b"HTTP/1.0 302 Found\r\n"),
            HttpStart::Response { status: 302 }
        );
        assert_eq!(start_of(b"HTTP/1.1 2x0\r\n"), HttpStart::None);
        assert_eq!(
            start_of(b"HTTP/1.1 200"),
            HttpStart::Response { status: 200 }
        );
        assert_eq!(start_of(b"HTTP/1.1 20"), HttpStart::None);
        assert_eq!(start_of(b"\x00\x01\x02 binary"), HttpStart::None);
        assert_eq!(start_of(b"HTTP/2 200"), HttpStart::None);
        // Both 16-byte methods, whose space is the 17th byte.
        assert_eq!(
            request_of(b"BASELINE-CONTROL /b HTTP/1.1\r\n", 0),
            Some((41, b"/b".to_vec()))
        );
        assert_eq!(
            request_of(b"SSTP_DUPLEX_POST /s HTTP/1.1\r\n", 0).map(|r| r.0),
            Some(42)
        );
        // A long URI is cut to 64 bytes.
        let long = [b"GET /".as_slice(), &[b'a'; 100], b" HTTP/1.1\r\n"].concat();
        let (m, uri) = request_of(&long, 0).unwrap();
        assert_eq!((m, uri.len()), (1, 64));
        // A cut capture ends the URI where the bytes end.
        assert_eq!(
            request_of(b"POST /abcdef HTTP/1.1\r\n", 16),
            Some((8, b"/a".to_vec()))
        );
        // So does a method the capture cut.
        assert_eq!(request_of(b"POST /abcdef HTTP/1.1\r\n", 21), None);
        for (i, m) in METHOD_NAMES.iter().enumerate() {
            assert_eq!(http_method_name(i as u8 + 1), Some(*m));
            let mut p = m.to_vec();
            p.extend_from_slice(b" /");
            assert_eq!(
                request_of(&p, 0),
                Some((i as u8 + 1, b"/".to_vec())),
                "{m:?}"
            );
        }
        assert_eq!(http_method_name(0), None);
        assert_eq!(http_method_name(METHOD_NAMES.len() as u8 + 1), None);
    }

    #[test]
    fn segments_take_their_length_from_ip_and_skip_fragments_and_short_headers() {
        let f = frame(1, 1, 2, 7, 9, ACK, 5, b"abcdef");
        let fields = extract_fields(&f[..], f.len() as u32);
        let s = read_segment(&f[..60], &fields).unwrap(); // cut by a snaplen
        assert_eq!(
            (s.seq, s.ack, s.seglen, s.window, s.payload_off),
            (7, 9, 6, 5, 54)
        );
        assert!(s.has(seg::HAVE_SEGLEN) && s.has(seg::HLEN_OK));
        assert!(read_segment(&f[..14 + 20 + 14], &fields).is_none());
        let mut mf = f.clone();
        mf[20] = 0x20; // MF
        let fields = extract_fields(&mf[..], mf.len() as u32);
        assert!(fields.has(bit::MORE_FRAGMENTS));
        let s = read_segment(&mf[..], &fields).unwrap();
        assert!(!s.has(seg::HAVE_SEGLEN) && s.has(seg::HLEN_OK));
        let mut later = f.clone();
        later[21] = 0x10; // offset 128
        assert!(
            read_segment(&later[..], &extract_fields(&later[..], later.len() as u32)).is_none()
        );
        // A data offset above the IP length: tshark's short segment (no payload length).
        let mut big = f.clone();
        big[46] = 0xf0;
        let s = read_segment(&big[..], &extract_fields(&big[..], big.len() as u32)).unwrap();
        assert!(!s.has(seg::HAVE_SEGLEN) && s.has(seg::HLEN_OK));
        // A data offset below 20: analysed, but no flags shown.
        let mut small = f.clone();
        small[46] = 0x40;
        let s = read_segment(&small[..], &extract_fields(&small[..], small.len() as u32)).unwrap();
        assert_eq!(s.seglen, 10);
        assert!(!s.has(seg::HLEN_OK));
        assert_eq!(s.shown_flags(), 0);
    }

    #[test]
    fn keys_are_the_same_both_ways() {
        let a = frame(1, 40000, 80, 1, 1, ACK, 1, b"");
        let b = frame(2, 80, 40000, 1, 1, ACK, 1, b"");
        let (ka, sa) = ConnKey::of(&extract_fields(&a[..], a.len() as u32), 3);
        let (kb, sb) = ConnKey::of(&extract_fields(&b[..], b.len() as u32), 3);
        assert_eq!(ka, kb);
        assert_ne!(sa, sb);
        assert_eq!(ka.family, 4);
    }
}
