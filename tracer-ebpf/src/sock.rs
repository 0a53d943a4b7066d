//! The host's own TCP sockets: state changes (`sock:inet_sock_set_state`) and retransmissions
//! (`tcp:tcp_retransmit_skb`) through BTF tracepoints (no tracefs needed), and the process
//! owning each socket.
//!
//! Fields of `struct sock`/`struct tcp_sock` are read with `bpf_probe_read_kernel` at offsets
//! the loader found in the kernel's BTF (`SockOffsets`): Rust has no CO-RE relocations.
//!
//! Owners: a state change made by a system call (connect: SYN_SENT, listen: LISTEN, close or
//! shutdown: FIN_WAIT1, LAST_ACK, and closing a listening or connecting socket: CLOSE) runs in
//! the owner's process, which is then remembered per socket (`OWNERS`, by socket cookie);
//! `accept()` (fexit of `inet_csk_accept`) names the owner of an accepted socket. Changes the
//! network makes (softirq: ESTABLISHED, CLOSE_WAIT, FIN_WAIT2, ...) run in whatever process
//! was interrupted, so they take the remembered owner, or none.

use core::ffi::c_void;

use aya_ebpf::{
    btf_maps::{Array, LruHashMap},
    helpers::generated::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_get_smp_processor_id, bpf_get_socket_cookie, bpf_ktime_get_ns, bpf_probe_read_kernel,
    },
    macros::{btf_map, btf_tracepoint, fexit},
    programs::{BtfTracePointContext, FExitContext},
};
use tracer_common::{
    fields::bit, kind, sock_flag, sock_rec, tcp_state, PacketFields, SockOffsets, SockRecord,
    RECORD_VERSION,
};

use crate::{filter_accepts, wakeup_flags, CONFIG, RINGS};

/// Offsets and settings, written by the loader.
#[btf_map]
static SOCK_CFG: Array<SockOffsets, 1> = Array::new();

/// The process that owns a socket, by socket cookie.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct Owner {
    tgid: u32,
    _pad: u32,
    cgroup: u64,
    comm: [u8; 16],
}

#[btf_map]
static OWNERS: LruHashMap<u64, Owner, 65536> = LruHashMap::new();

/// When each socket last changed state, by socket cookie.
#[btf_map]
static LAST_CHANGE: LruHashMap<u64, u64, 65536> = LruHashMap::new();

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const IPPROTO_TCP: u16 = 6;

const TCP_SYN_SENT: i32 = tcp_state::SYN_SENT as i32;
const TCP_FIN_WAIT1: i32 = tcp_state::FIN_WAIT1 as i32;
const TCP_CLOSE: i32 = tcp_state::CLOSE as i32;
const TCP_LAST_ACK: i32 = tcp_state::LAST_ACK as i32;
const TCP_LISTEN: i32 = tcp_state::LISTEN as i32;

/// A `T` at `base + off` in kernel memory (zero if it cannot be read). Not zero-filled
/// first: that would be a memset call; the helper zeroes the buffer when it fails.
#[inline(always)]
fn read<T: Copy>(base: u64, off: u16) -> T {
    let mut v = core::mem::MaybeUninit::<T>::uninit();
    // SAFETY: probe_read copes with any address, and fills all of `v` (zeroes on failure).
    unsafe {
        bpf_probe_read_kernel(
            v.as_mut_ptr() as *mut c_void,
            core::mem::size_of::<T>() as u32,
            (base + off as u64) as *const c_void,
        );
        v.assume_init()
    }
}

/// The socket's ends, if it is a TCP socket of tracer's network namespace (and the filter's
/// host and port parts accept it). Filled straight into a record.
#[inline(always)]
fn socket_ends(sk: u64, o: &SockOffsets, r: &mut SockRecord) -> bool {
    if read::<u16>(sk, o.protocol) != IPPROTO_TCP {
        return false;
    }
    let net: u64 = read(sk, o.net);
    if net == 0 || read::<u32>(net, o.net_ns_inum) != o.netns {
        return false;
    }
    let family: u16 = read(sk, o.family);
    r.local_port = u16::from_be(read::<u16>(sk, o.sport));
    r.remote_port = u16::from_be(read::<u16>(sk, o.dport));
    if family == AF_INET {
        r.family = 4;
        // IPv4 in the first four bytes, as words: byte-wise zeroing would be a memset call.
        let l: u32 = read(sk, o.rcv_saddr);
        let d: u32 = read(sk, o.daddr);
        put_words(&mut r.local, [l as u64, 0]);
        put_words(&mut r.remote, [d as u64, 0]);
    } else if family == AF_INET6 {
        r.family = 6;
        put_words(&mut r.local, read(sk, o.v6_rcv_saddr));
        put_words(&mut r.remote, read(sk, o.v6_daddr));
    } else {
        return false;
    }
    // The filter decides on the socket as on a packet from this host: local is the source.
    // (One literal: starting from EMPTY and overwriting would be a memset call.)
    let f = PacketFields {
        saddr: r.local,
        daddr: r.remote,
        wire_len: 0,
        l3_offset: 0,
        l4_offset: 0,
        sport: r.local_port,
        dport: r.remote_port,
        ip_version: r.family,
        tcp_flags: 0,
        bits: bit::TCP
            | bit::PCAP_TCP
            | bit::PCAP_PORTS
            | bit::PORTS_CAPTURED
            | bit::ADDRS_CAPTURED,
    };
    let Some(cfg) = CONFIG.get(0) else {
        return false;
    };
    filter_accepts(&f, cfg.filter_len)
}

/// Stores 16 bytes as two little-endian words (this target's order), one by one: a whole
/// array store may become a memmove call.
#[inline(always)]
fn put_words(dst: &mut [u8; 16], w: [u64; 2]) {
    let p = dst.as_mut_ptr() as *mut u64;
    // SAFETY: 16 bytes; unaligned stores are allowed.
    unsafe {
        core::ptr::write_volatile(p, w[0]);
        core::ptr::write_volatile(p.add(1), w[1]);
    }
}

/// The 16 bytes of an array as words.
#[inline(always)]
fn words_of(a: &[u8; 16]) -> [u64; 2] {
    let p = a.as_ptr() as *const u64;
    // SAFETY: 16 bytes; unaligned loads are allowed.
    unsafe {
        [
            core::ptr::read_volatile(p),
            core::ptr::read_volatile(p.add(1)),
        ]
    }
}

#[inline(always)]
fn current_owner() -> Owner {
    let mut comm = core::mem::MaybeUninit::<[u8; 16]>::uninit();
    // SAFETY: a 16-byte buffer the helper fills (NUL-padded; zeroed if it fails).
    let comm = unsafe {
        bpf_get_current_comm(comm.as_mut_ptr() as *mut c_void, 16);
        comm.assume_init()
    };
    Owner {
        // SAFETY: plain helper calls.
        tgid: (unsafe { bpf_get_current_pid_tgid() } >> 32) as u32,
        _pad: 0,
        cgroup: unsafe { bpf_get_current_cgroup_id() },
        comm,
    }
}

#[inline(always)]
fn set_owner(r: &mut SockRecord, o: &Owner) {
    r.flags |= sock_rec::OWNER;
    r.tgid = o.tgid;
    r.cgroup = o.cgroup;
    put_words(&mut r.comm, words_of(&o.comm));
}

/// Whether a change to `new` from `old` is made by a system call of the socket's owner.
#[inline(always)]
fn in_owner_context(old: i32, new: i32) -> bool {
    match new {
        TCP_SYN_SENT | TCP_LISTEN | TCP_FIN_WAIT1 | TCP_LAST_ACK => true,
        TCP_CLOSE => old == TCP_LISTEN || old == TCP_SYN_SENT,
        _ => false,
    }
}

#[inline(always)]
fn ring() -> Option<&'static aya_ebpf::btf_maps::RingBuf<u8, 4096>> {
    let cfg = CONFIG.get(0)?;
    // SAFETY: plain helper call.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    let nr = if cfg.nr_rings == 0 { 1 } else { cfg.nr_rings };
    RINGS.get(cpu % nr)
}

/// Starts a record in this CPU's ring; `None` when there is no room (counted).
#[inline(always)]
fn start_record(
    kind: u16,
) -> Option<(
    aya_ebpf::maps::ring_buf::RingBufBytes<'static>,
    &'static aya_ebpf::btf_maps::RingBuf<u8, 4096>,
)> {
    let ring = ring()?;
    let Some(mut slot) = ring.reserve_bytes(core::mem::size_of::<SockRecord>(), 0) else {
        crate::count(tracer_common::counter::RECORDS_LOST);
        return None;
    };
    let r = slot.as_mut_ptr() as *mut SockRecord;
    // Volatile zero stores: merged, they would become memset calls.
    fn zero<T: Default>(p: &mut T) {
        // SAFETY: a plain store through a valid &mut.
        unsafe { core::ptr::write_volatile(p, T::default()) }
    }
    // SAFETY: the slot holds a SockRecord; every field is written here or by the caller.
    unsafe {
        (*r).kind = kind;
        (*r).version = RECORD_VERSION;
        (*r).timestamp_ns = bpf_ktime_get_ns();
        let r = &mut *r;
        zero(&mut r.ifindex);
        zero(&mut r._pad);
        zero(&mut r.flags);
        zero(&mut r.tgid);
        zero(&mut r.cgroup);
        put_words(&mut r.comm, [0, 0]);
        zero(&mut r.prev_ns);
        zero(&mut r.srtt_us);
        zero(&mut r.total_retrans);
        zero(&mut r.bytes_acked);
        zero(&mut r.bytes_received);
        zero(&mut r.err);
        zero(&mut r.segs);
    }
    Some((slot, ring))
}

/// `sock:inet_sock_set_state(sk, oldstate, newstate)`.
#[btf_tracepoint(function = "inet_sock_set_state")]
pub fn tracer_sock_state(ctx: BtfTracePointContext) -> i32 {
    let Some(o) = SOCK_CFG.get(0) else {
        return 0;
    };
    if o.flags & sock_flag::STATES == 0 {
        return 0;
    }
    let sk_ptr: *mut c_void = ctx.arg(0);
    let (old, new): (i32, i32) = (ctx.arg(1), ctx.arg(2));
    let sk = sk_ptr as u64;
    let Some((mut slot, ring)) = start_record(kind::STATE) else {
        return 0;
    };
    let r = slot.as_mut_ptr() as *mut SockRecord;
    // SAFETY: the slot holds a SockRecord.
    let rec = unsafe { &mut *r };
    if !socket_ends(sk, o, rec) {
        slot.discard(0);
        return 0;
    }
    rec.oldstate = old as u8;
    rec.newstate = new as u8;
    // SAFETY: the tracepoint's socket, a BTF pointer the helper accepts.
    let cookie = unsafe { bpf_get_socket_cookie(sk_ptr) };
    rec.cookie = cookie;
    if in_owner_context(old, new) {
        let owner = current_owner();
        set_owner(rec, &owner);
        let _ = OWNERS.insert(cookie, owner, 0);
    } else if let Some(owner) = OWNERS.get_ptr(cookie) {
        // SAFETY: a map value pointer, valid for this run.
        set_owner(rec, unsafe { &*owner });
    }
    let now = rec.timestamp_ns;
    if let Some(prev) = LAST_CHANGE.get_ptr(cookie) {
        rec.flags |= sock_rec::PREV;
        // SAFETY: as above.
        rec.prev_ns = unsafe { *prev };
    }
    if new == TCP_CLOSE {
        if old != TCP_LISTEN && old != TCP_SYN_SENT && old != TCP_CLOSE {
            // A connection that was (at least) established: the kernel's own counters.
            rec.flags |= sock_rec::COUNTERS;
            rec.srtt_us = read::<u32>(sk, o.srtt_us) >> 3;
            rec.total_retrans = read(sk, o.total_retrans);
            rec.bytes_acked = read(sk, o.bytes_acked);
            rec.bytes_received = read(sk, o.bytes_received);
        }
        let _ = OWNERS.remove(cookie);
        let _ = LAST_CHANGE.remove(cookie);
    } else {
        let _ = LAST_CHANGE.insert(cookie, now, 0);
    }
    let cfg = CONFIG.get(0);
    slot.submit(wakeup_flags(ring, cfg.map_or(0, |c| c.wakeup_bytes)));
    crate::count(tracer_common::counter::RECORDS);
    0
}

/// `tcp:tcp_retransmit_skb(sk, skb, err)`.
#[btf_tracepoint(function = "tcp_retransmit_skb")]
pub fn tracer_sock_retrans(ctx: BtfTracePointContext) -> i32 {
    let Some(o) = SOCK_CFG.get(0) else {
        return 0;
    };
    if o.flags & sock_flag::RETRANS == 0 {
        return 0;
    }
    let sk_ptr: *mut c_void = ctx.arg(0);
    let skb: u64 = ctx.arg(1);
    let err: i32 = ctx.arg(2);
    let sk = sk_ptr as u64;
    let Some((mut slot, ring)) = start_record(kind::RETRANS) else {
        return 0;
    };
    let r = slot.as_mut_ptr() as *mut SockRecord;
    // SAFETY: the slot holds a SockRecord.
    let rec = unsafe { &mut *r };
    if !socket_ends(sk, o, rec) {
        slot.discard(0);
        return 0;
    }
    let state: u8 = read(sk, o.state);
    rec.oldstate = state;
    rec.newstate = state;
    rec.err = err;
    // tcp_skb_pcount(skb): skb_shinfo(skb)->gso_segs, the shared info at head + end.
    let head: u64 = read(skb, o.skb_head);
    let end: u32 = read(skb, o.skb_end);
    rec.segs = u32::from(read::<u16>(head + u64::from(end), o.gso_segs));
    // SAFETY: the tracepoint's socket.
    let cookie = unsafe { bpf_get_socket_cookie(sk_ptr) };
    rec.cookie = cookie;
    if let Some(owner) = OWNERS.get_ptr(cookie) {
        // SAFETY: a map value pointer, valid for this run.
        set_owner(rec, unsafe { &*owner });
    }
    let cfg = CONFIG.get(0);
    slot.submit(wakeup_flags(ring, cfg.map_or(0, |c| c.wakeup_bytes)));
    crate::count(tracer_common::counter::RECORDS);
    0
}

/// A process sends or receives on `sk`: the first time a socket is used by this process,
/// remember it as the owner and say so (a record of [`kind::OWNER`]). This names the owner
/// of an accepted socket at its first read, where the accept() hook is unavailable, and of
/// any socket older than the capture.
#[inline(always)]
fn note_user(sk_ptr: *mut c_void) -> i32 {
    let Some(o) = SOCK_CFG.get(0) else {
        return 0;
    };
    if o.flags & sock_flag::OWNERS == 0 {
        return 0;
    }
    let sk = sk_ptr as u64;
    // Most sends and receives of the host are of sockets already known (or not TCP): two
    // reads and a lookup.
    if read::<u16>(sk, o.protocol) != IPPROTO_TCP {
        return 0;
    }
    // SAFETY: the tracepoint's socket, a BTF pointer the helper accepts.
    let cookie = unsafe { bpf_get_socket_cookie(sk_ptr) };
    // SAFETY: plain helper call.
    let tgid = (unsafe { bpf_get_current_pid_tgid() } >> 32) as u32;
    if let Some(known) = OWNERS.get_ptr(cookie) {
        // SAFETY: a map value pointer, valid for this run.
        if unsafe { (*known).tgid } == tgid {
            return 0;
        }
    }
    let Some((mut slot, ring)) = start_record(kind::OWNER) else {
        return 0;
    };
    let r = slot.as_mut_ptr() as *mut SockRecord;
    // SAFETY: the slot holds a SockRecord.
    let rec = unsafe { &mut *r };
    if !socket_ends(sk, o, rec) {
        slot.discard(0);
        return 0;
    }
    let state: u8 = read(sk, o.state);
    rec.oldstate = state;
    rec.newstate = state;
    rec.cookie = cookie;
    let owner = current_owner();
    set_owner(rec, &owner);
    let _ = OWNERS.insert(cookie, owner, 0);
    let cfg = CONFIG.get(0);
    slot.submit(wakeup_flags(ring, cfg.map_or(0, |c| c.wakeup_bytes)));
    crate::count(tracer_common::counter::RECORDS);
    0
}

/// `sock:sock_send_length(sk, ret, flags)`: a sendmsg() returned.
#[btf_tracepoint(function = "sock_send_length")]
pub fn tracer_sock_send(ctx: BtfTracePointContext) -> i32 {
    note_user(ctx.arg(0))
}

/// `sock:sock_recv_length(sk, ret, flags)`: a recvmsg() returned.
#[btf_tracepoint(function = "sock_recv_length")]
pub fn tracer_sock_recv(ctx: BtfTracePointContext) -> i32 {
    note_user(ctx.arg(0))
}

/// `inet_csk_accept(sk, arg)` returned an accepted socket: its owner is the caller.
#[fexit(function = "inet_csk_accept")]
pub fn tracer_sock_accept(ctx: FExitContext) -> i32 {
    let Some(o) = SOCK_CFG.get(0) else {
        return 0;
    };
    if o.flags & sock_flag::STATES == 0 {
        return 0;
    }
    let new_sk: *mut c_void = ctx.arg(2);
    if new_sk.is_null() {
        return 0;
    }
    // SAFETY: the function's returned socket (non-null), a BTF pointer.
    let cookie = unsafe { bpf_get_socket_cookie(new_sk) };
    let _ = OWNERS.insert(cookie, current_owner(), 0);
    0
}
