//! The kernel's connection tracker: the flow table (`CONNS`, an LRU hash sized by the loader),
//! HTTP pairing state (`HTTP`), and the records they send. The rules live in
//! `tracer_common::conn`; this module only stores, locks and emits.
//!
//! Both directions of a connection can be processed on two CPUs at once, so every entry has a
//! lock word taken with an atomic exchange (`bpf_spin_lock` is not allowed in LRU maps). Our
//! programs run with bottom halves disabled and so does the timer callback: a lock holder is
//! always on another CPU, busy for well under a microsecond, so a short spin gets the lock.
//! The holder can still stop running while it holds it: a hard interrupt on its CPU, or, in a
//! VM, its vCPU descheduled by the host for up to milliseconds. A packet that finds the lock
//! taken past the short spin waits for it in a `bpf_loop` for up to [`LOCK_WAIT_NS`] (counted
//! as `LOCK_WAITED`, nothing lost), as a kernel spinlock would wait, but bounded; only past
//! that is the update counted (`LOCK_BUSY`) and skipped. The timer callback never waits: it
//! looks again later.
//!
//! Each entry carries a `bpf_timer`: armed for the idle time when the entry is created, for the
//! linger time when the connection closes. Its callback takes the record, flushes unanswered
//! HTTP requests, and deletes the entry. The kernel allocates the timer on first use and may
//! refuse (no memory): such an entry is marked `NO_TIMER`, its later packets try again, and
//! the loader ends it if it is still without one when it is due (`Live::end_timerless`).

use core::{
    ffi::c_void,
    intrinsics::{atomic_xchg, AtomicOrdering},
};

use aya_ebpf::{
    bindings::{bpf_timer as kernel_timer, BPF_NOEXIST},
    btf_maps::{Array, LruHashMap},
    helpers::generated::{
        bpf_get_smp_processor_id, bpf_ktime_get_ns, bpf_loop, bpf_map_delete_elem, bpf_timer_init,
        bpf_timer_set_callback, bpf_timer_start,
    },
    macros::btf_map,
};
use tracer_common::{
    config_flag,
    conn::{
        http_candidate, http_start, read_segment, state, upd, ConnKey, ConnState, HttpStart,
        HttpState, PendingRequest, ResponseMatch, Segment, TimerVerdict, HTTP_PENDING,
    },
    counter, kind, Config, ConnEntry, ConnRecord, HttpRecord, PacketFields, RECORD_VERSION,
};

use crate::{count, count_n, wakeup_flags, FrameBytes, CONFIG, RINGS, SCRATCH, TRACK_ARGS};

/// Placeholder size: the loader sets the real one (`--max-conns`).
const DEFAULT_ENTRIES: usize = 65536;

/// The flow table.
#[btf_map]
static CONNS: LruHashMap<ConnKey, ConnEntry, DEFAULT_ENTRIES> = LruHashMap::new();

/// HTTP requests waiting for their responses, per connection (sized 1 without `--http`).
#[btf_map]
static HTTP: LruHashMap<ConnKey, HttpState, DEFAULT_ENTRIES> = LruHashMap::new();

/// Never written: the all-zero values new entries are inserted from. Plain words, not a
/// `ConnEntry`: the verifier refuses a helper reading a value whose type holds a `bpf_timer`.
#[btf_map]
static CONN_ZERO: Array<[u64; core::mem::size_of::<ConnEntry>() / 8], 1> = Array::new();
#[btf_map]
static HTTP_ZERO: Array<HttpState, 1> = Array::new();

const EEXIST: i32 = 17;
const EBUSY: i64 = 16;
const CLOCK_MONOTONIC: u64 = 1;
/// Attempts at the lock inline, enough for a holder that is running (see the module doc).
const LOCK_SPINS: u32 = 64;
/// The longest a packet update waits for a holder that stopped running. A host deschedules a
/// vCPU for a few milliseconds at most; the kernel's own resilient spinlock waits 250 ms.
const LOCK_WAIT_NS: u64 = 20_000_000;
/// `bpf_loop` iterations of that wait (the helper's maximum is 1 << 23); the clock is read
/// every [`LOCK_CLOCK_EVERY`] of them.
const LOCK_WAIT_LOOPS: u32 = 1 << 23;
const LOCK_CLOCK_EVERY: u64 = 256;
/// A timer that found its entry locked looks again this much later.
const TIMER_RETRY_NS: u64 = 100_000;

#[inline(always)]
fn try_lock(word: *mut u64) -> bool {
    // SAFETY: `word` points at an entry's lock in a map value.
    unsafe { atomic_xchg::<u64, { AtomicOrdering::Acquire }>(word, 1) == 0 }
}

/// The short spin: true when it got the lock.
#[inline(always)]
fn spin_lock(word: *mut u64) -> bool {
    let mut i = 0;
    while i < LOCK_SPINS {
        if try_lock(word) {
            return true;
        }
        i += 1;
    }
    false
}

/// The state of [`lock`]'s wait loop, on its stack.
#[repr(C)]
struct LockWait {
    word: *mut u64,
    deadline: u64,
    got: u64,
}

/// One step of the wait: 1 (stop) once the lock is ours or the deadline passed.
extern "C" fn lock_wait_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `ctx` is the `LockWait` [`lock`] passed to `bpf_loop`.
    let w = unsafe { &mut *(ctx as *mut LockWait) };
    if try_lock(w.word) {
        w.got = 1;
        return 1;
    }
    // SAFETY: plain helper call.
    if i % LOCK_CLOCK_EVERY == LOCK_CLOCK_EVERY - 1 && unsafe { bpf_ktime_get_ns() } > w.deadline {
        return 1;
    }
    0
}

/// Takes a packet update's lock: the short spin, then the bounded wait. False: `LOCK_BUSY`.
#[inline(always)]
fn lock(word: *mut u64) -> bool {
    if spin_lock(word) {
        return true;
    }
    count(counter::LOCK_WAITED);
    let mut w = LockWait {
        word,
        // SAFETY: plain helper call.
        deadline: unsafe { bpf_ktime_get_ns() } + LOCK_WAIT_NS,
        got: 0,
    };
    // SAFETY: the callback reads `w` only while this call runs.
    unsafe {
        bpf_loop(
            LOCK_WAIT_LOOPS,
            lock_wait_step as *mut c_void,
            &mut w as *mut LockWait as *mut c_void,
            0,
        )
    };
    // The callback wrote through a pointer the compiler cannot see.
    unsafe { core::ptr::read_volatile(&w.got) == 1 }
}

#[inline(always)]
fn unlock(word: *mut u64) {
    // SAFETY: as in `lock`.
    unsafe { atomic_xchg::<u64, { AtomicOrdering::Release }>(word, 0) };
}

#[inline(always)]
fn timer(entry: *mut ConnEntry) -> *mut kernel_timer {
    // SAFETY: same layout (two u64), and the kernel knows the field by its BTF name.
    unsafe { &mut (*entry).timer as *mut _ as *mut kernel_timer }
}

/// The tracker programs' body: the packet the packet path left in SCRATCH and TRACK_ARGS.
#[inline(always)]
pub fn track_from_args() {
    let (Some(args), Some(window)) = (TRACK_ARGS.get(0), SCRATCH.get(0)) else {
        return;
    };
    let frame = FrameBytes {
        window,
        copied: args.copied as usize,
    };
    track(&frame, &args.fields, args.ifindex, args.segs, args.now);
}

/// Counts one accepted packet into its connection (`segs` wire segments).
#[inline(always)]
fn track(frame: &FrameBytes, fields: &PacketFields, ifindex: u32, segs: u32, now: u64) {
    let Some(cfg) = CONFIG.get(0) else {
        return;
    };
    let Some(seg) = read_segment(frame, fields) else {
        count(counter::UNTRACKABLE);
        return;
    };
    let (key, side) = ConnKey::of(fields, ifindex);
    let entry = match CONNS.get_ptr_mut(&key) {
        Some(e) => e,
        None => {
            let Some(zero) = CONN_ZERO.get_ptr(0) else {
                return;
            };
            // SAFETY: a map value pointer, valid for this run, as many bytes as a ConnEntry.
            match CONNS.insert(
                &key,
                unsafe { &*(zero as *const ConnEntry) },
                BPF_NOEXIST as u64,
            ) {
                Ok(()) => count(counter::CONN_CREATED),
                Err(e) if e == -EEXIST => {}
                Err(_) => {
                    count(counter::CONN_INSERT_FAILED);
                    return;
                }
            }
            let Some(e) = CONNS.get_ptr_mut(&key) else {
                count(counter::CONN_INSERT_FAILED);
                return;
            };
            e
        }
    };
    // SAFETY: a map value pointer, valid for this run; the fields are ours under the lock.
    let lock_word = unsafe { &mut (*entry).lock as *mut u64 };
    if !lock(lock_word) {
        count(counter::LOCK_BUSY);
        return;
    }
    // SAFETY: as above.
    let st = unsafe { &mut (*entry).state };
    if st.bits & state::FINISHED != 0 {
        unlock(lock_word);
        count(counter::LATE_UPDATE);
        return;
    }
    if st.first_ns == 0 {
        // The first packet of a new entry: whoever locks it first sets it up.
        st.start(now);
        arm_timer(entry, cfg.conn_idle_ns, cfg);
    } else if st.starts_new_connection(side, &seg) {
        // A reused port pair: the old connection ends here.
        emit_conn(&key, st, now, cfg);
        if cfg.flags & config_flag::HTTP != 0 {
            http_finish(&key, st.client, now, cfg);
        }
        count(counter::CONN_ENDED);
        st.start(now);
        arm_timer(entry, cfg.conn_idle_ns, cfg);
    }
    let u = st.update(now, side, &seg, segs);
    // Wire segments, as the connection's packet counts take them.
    count_n(counter::TRACKED, segs.max(1) as u64);
    if http_candidate(&seg, u) {
        match http_start(frame, &seg) {
            HttpStart::Request {
                method,
                method_len,
                raw_len,
            } if side == st.client => {
                st.http_requests += 1;
                if cfg.flags & config_flag::HTTP != 0 {
                    http_request(frame, &seg, &key, method, method_len, raw_len, now);
                }
            }
            HttpStart::Response { status } if side != st.client => {
                if cfg.flags & config_flag::HTTP != 0 {
                    http_response(&key, st.client, status, now, cfg);
                }
            }
            _ => {}
        }
    }
    if u & upd::CLOSED_NOW != 0 {
        arm_timer(entry, cfg.conn_linger_ns, cfg);
    } else if st.bits & state::NO_TIMER != 0 {
        // Refused before: try again, for what is left of the wait.
        let left = match st.on_timer(now, cfg.conn_idle_ns, cfg.conn_linger_ns) {
            TimerVerdict::Rearm(ns) => ns,
            TimerVerdict::Finish(_) => 1,
        };
        arm_timer(entry, left, cfg);
    }
    unlock(lock_word);
}

/// Starts the entry's timer to fire in `ns`, setting it up first if it has none (a new
/// entry, or one refused before). The kernel allocates a timer on its first use and can
/// refuse (no memory in softirq context): the entry is then marked `NO_TIMER`, counted once
/// as `TIMER_REFUSED`, and ended by a later packet's retry or by the loader. Under the lock.
#[inline(always)]
fn arm_timer(entry: *mut ConnEntry, ns: u64, cfg: &Config) {
    let t = timer(entry);
    let armed = cfg.flags & config_flag::REFUSE_TIMERS == 0
        // SAFETY: the timer of a CONNS value; CONNS is the map holding it. -EBUSY: it has
        // one already.
        && unsafe {
            let r = bpf_timer_init(t, &CONNS as *const _ as *mut c_void, CLOCK_MONOTONIC);
            (r == 0 || r == -EBUSY)
                && bpf_timer_set_callback(t, conn_timer as *mut c_void) == 0
                && bpf_timer_start(t, ns, 0) == 0
        };
    // SAFETY: a map value pointer, valid for this run, its fields ours under the lock.
    let st = unsafe { &mut (*entry).state };
    if armed {
        st.bits &= !state::NO_TIMER;
    } else {
        refused(st);
    }
}

/// Marks the entry as without a timer, counted once per entry.
#[inline(always)]
fn refused(st: &mut ConnState) {
    if st.bits & state::NO_TIMER == 0 {
        st.bits |= state::NO_TIMER;
        count(counter::TIMER_REFUSED);
    }
}

/// The entry's timer: end the connection (idle, or linger after its close) or look again.
unsafe extern "C" fn conn_timer(map: *mut c_void, key: *mut ConnKey, entry: *mut ConnEntry) -> i32 {
    let Some(cfg) = CONFIG.get(0) else {
        return 0;
    };
    if cfg.flags & config_flag::STOPPING != 0 {
        // The loader reads what is left.
        return 0;
    }
    // SAFETY: the kernel hands us the entry's key and value.
    let (key, lock_word) = unsafe { (&*key, &mut (*entry).lock as *mut u64) };
    if !spin_lock(lock_word) {
        // SAFETY: the timer of this entry.
        unsafe { bpf_timer_start(timer(entry), TIMER_RETRY_NS, 0) };
        return 0;
    }
    // SAFETY: as above, under the lock.
    let st = unsafe { &mut (*entry).state };
    // SAFETY: plain helper call.
    let now = unsafe { bpf_ktime_get_ns() };
    match st.on_timer(now, cfg.conn_idle_ns, cfg.conn_linger_ns) {
        TimerVerdict::Rearm(ns) => {
            // SAFETY: the timer of this entry.
            if unsafe { bpf_timer_start(timer(entry), ns, 0) } != 0 {
                refused(st);
            }
            unlock(lock_word);
        }
        TimerVerdict::Finish(reason) => {
            st.close = reason;
            st.bits |= state::FINISHED;
            emit_conn(key, st, now, cfg);
            if cfg.flags & config_flag::HTTP != 0 {
                http_finish(key, st.client, now, cfg);
            }
            unlock(lock_word);
            // SAFETY: deleting this callback's own element is allowed (the kernel does not
            // wait for a running callback of the timer it frees).
            unsafe { bpf_map_delete_elem(map, key as *const ConnKey as *const c_void) };
            count(counter::CONN_ENDED);
        }
    }
    0
}

#[inline(always)]
fn ring() -> Option<&'static aya_ebpf::btf_maps::RingBuf<u8, 4096>> {
    let cfg = CONFIG.get(0)?;
    // SAFETY: plain helper call.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    let nr = if cfg.nr_rings == 0 { 1 } else { cfg.nr_rings };
    RINGS.get(cpu % nr)
}

/// Sends the connection's record.
#[inline(always)]
fn emit_conn(key: &ConnKey, st: &ConnState, now: u64, cfg: &Config) {
    let Some(ring) = ring() else {
        count(counter::RECORDS_LOST);
        return;
    };
    let Some(mut slot) = ring.reserve_bytes(core::mem::size_of::<ConnRecord>(), 0) else {
        count(counter::RECORDS_LOST);
        return;
    };
    let r = slot.as_mut_ptr() as *mut ConnRecord;
    // SAFETY: the slot holds a ConnRecord.
    unsafe {
        (*r).kind = kind::CONN;
        (*r).version = RECORD_VERSION;
        (*r).ifindex = key.ifindex;
        (*r).timestamp_ns = now;
        (*r).key = *key;
        (*r).state = *st;
    }
    slot.submit(wakeup_flags(ring, cfg.wakeup_bytes));
    count(counter::RECORDS);
}

/// Sends an HTTP exchange: `req` and/or a response (`status` 0: none).
#[inline(always)]
fn emit_http(
    key: &ConnKey,
    client: u8,
    req: Option<&PendingRequest>,
    status: u16,
    response_ns: u64,
    now: u64,
    cfg: &Config,
) {
    let Some(ring) = ring() else {
        count(counter::RECORDS_LOST);
        return;
    };
    let Some(mut slot) = ring.reserve_bytes(core::mem::size_of::<HttpRecord>(), 0) else {
        count(counter::RECORDS_LOST);
        return;
    };
    let r = slot.as_mut_ptr() as *mut HttpRecord;
    // SAFETY: the slot holds an HttpRecord.
    unsafe {
        (*r).kind = kind::HTTP;
        (*r).version = RECORD_VERSION;
        (*r).ifindex = key.ifindex;
        (*r).timestamp_ns = now;
        (*r).key = *key;
        (*r).client = client;
        // Volatile: merged zero stores would become a memset call.
        core::ptr::write_volatile(&mut (*r)._pad2, 0);
        (*r).status = status;
        (*r).response_ns = response_ns;
        match req {
            Some(p) => {
                (*r).method = p.method;
                (*r).method_len = p.method_len;
                (*r).raw_len = p.raw_len;
                (*r).request_ns = p.ts_ns;
                // Non-overlapping: an inlined memcpy (a plain assignment becomes memmove,
                // which BPF can only call as a byte loop).
                core::ptr::copy_nonoverlapping(&p.raw, &mut (*r).raw, 1);
            }
            None => {
                // raw_len 0: the bytes are not read.
                (*r).method = 0;
                (*r).method_len = 0;
                (*r).raw_len = 0;
                (*r).request_ns = 0;
            }
        }
    }
    slot.submit(wakeup_flags(ring, cfg.wakeup_bytes));
    count(counter::RECORDS);
}

#[inline(always)]
fn http_request(
    frame: &FrameBytes,
    seg: &Segment,
    key: &ConnKey,
    method: u8,
    method_len: u8,
    raw_len: u8,
    now: u64,
) {
    let hs = match HTTP.get_ptr_mut(key) {
        Some(h) => h,
        None => {
            let Some(zero) = HTTP_ZERO.get_ptr(0) else {
                return;
            };
            // SAFETY: a map value pointer, valid for this run.
            match HTTP.insert(key, unsafe { &*zero }, BPF_NOEXIST as u64) {
                Ok(()) => count(counter::HTTP_CREATED),
                Err(e) if e == -EEXIST => {}
                Err(_) => {
                    count(counter::HTTP_INSERT_FAILED);
                    return;
                }
            }
            let Some(h) = HTTP.get_ptr_mut(key) else {
                count(counter::HTTP_INSERT_FAILED);
                return;
            };
            h
        }
    };
    // SAFETY: an HTTP value, guarded by the connection's lock.
    let hs = unsafe { &mut *hs };
    match hs.request(now, method, method_len) {
        Some(i) => frame.copy_request(seg, raw_len, &mut hs.pending[i & (HTTP_PENDING - 1)]),
        None => count(counter::HTTP_OVERFLOW),
    }
}

#[inline(always)]
fn http_response(key: &ConnKey, client: u8, status: u16, now: u64, cfg: &Config) {
    let Some(hs) = HTTP.get_ptr_mut(key) else {
        emit_http(key, client, None, status, now, now, cfg);
        return;
    };
    // SAFETY: an HTTP value, guarded by the connection's lock.
    let hs = unsafe { &mut *hs };
    match hs.response() {
        ResponseMatch::Slot(i) => {
            let i = i & (HTTP_PENDING - 1);
            emit_http(key, client, Some(&hs.pending[i]), status, now, now, cfg);
            hs.release(i);
        }
        ResponseMatch::Orphan | ResponseMatch::Overflowed => {
            emit_http(key, client, None, status, now, now, cfg)
        }
    }
}

/// Reports the requests still unanswered when a connection ends, and drops its HTTP state.
#[inline(always)]
fn http_finish(key: &ConnKey, client: u8, now: u64, cfg: &Config) {
    let Some(hs) = HTTP.get_ptr_mut(key) else {
        return;
    };
    // SAFETY: an HTTP value, guarded by the connection's lock.
    let hs = unsafe { &mut *hs };
    let mut k = 0;
    while k < HTTP_PENDING as u32 {
        if let Some(i) = hs.unanswered(k) {
            emit_http(
                key,
                client,
                Some(&hs.pending[i & (HTTP_PENDING - 1)]),
                0,
                0,
                now,
                cfg,
            );
        }
        k += 1;
    }
    if HTTP.remove(key).is_ok() {
        count(counter::HTTP_DELETED);
    }
}
