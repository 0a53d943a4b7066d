//! The offline driver of `tracer_common::conn`: the kernel's flow table and timers, over the
//! packets of a file, in the file's clock. It makes the same calls in the same order as
//! `tracer-ebpf/src/conn.rs` (see there), so a file and a live capture of the same packets give
//! the same records:
//! - a new entry arms its timer for the idle time, a close re-arms it for the linger time, a
//!   reused port pair takes the old record and arms the idle time again;
//! - a timer that fires finishes the connection or re-arms itself (`ConnState::on_timer`);
//!   timers due at or before a packet's time fire before that packet.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
};

use tracer_common::{
    conn::{
        copy_request, http_candidate, http_start, read_segment, state, upd, ConnKey, ConnState,
        HttpStart, HttpState, ResponseMatch, TimerVerdict, HTTP_PENDING,
    },
    kind, ConnRecord, Event, HttpRecord, PacketFields, RECORD_VERSION,
};

/// What the tracker keeps and reports.
#[derive(Copy, Clone, Debug)]
pub struct TrackerOptions {
    pub idle_ns: u64,
    pub linger_ns: u64,
    /// Pair HTTP exchanges (`--http`).
    pub http: bool,
}

/// Counts of what did not become part of a record.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// TCP packets with no segment to track (fragments, headers cut before the window).
    pub untrackable: u64,
    /// HTTP requests that found all pending slots of their connection taken.
    pub http_overflow: u64,
}

struct Entry {
    st: ConnState,
    http: Option<Box<HttpState>>,
    /// The timer's generation: heap items of older generations are stale.
    timer: u64,
}

/// Connection tracking over a capture file.
pub struct Tracker {
    opts: TrackerOptions,
    conns: HashMap<ConnKey, Entry>,
    /// (due, generation, key).
    timers: BinaryHeap<Reverse<(u64, u64, ConnKey)>>,
    generation: u64,
    pub stats: TrackerStats,
}

impl Tracker {
    pub fn new(opts: TrackerOptions) -> Tracker {
        Tracker {
            opts,
            conns: HashMap::new(),
            timers: BinaryHeap::new(),
            generation: 0,
            stats: TrackerStats::default(),
        }
    }

    fn arm(&mut self, key: ConnKey, due: u64) {
        self.generation += 1;
        if let Some(e) = self.conns.get_mut(&key) {
            e.timer = self.generation;
        }
        self.timers.push(Reverse((due, self.generation, key)));
    }

    /// Fires every timer due at or before `now`.
    pub fn advance(&mut self, now: u64, emit: &mut impl FnMut(Event)) {
        while let Some(Reverse((due, generation, key))) = self.timers.peek().copied() {
            if due > now {
                break;
            }
            self.timers.pop();
            let Some(e) = self.conns.get_mut(&key) else {
                continue;
            };
            if e.timer != generation {
                continue;
            }
            match e.st.on_timer(due, self.opts.idle_ns, self.opts.linger_ns) {
                TimerVerdict::Rearm(ns) => self.arm(key, due + ns),
                TimerVerdict::Finish(reason) => {
                    let mut e = self.conns.remove(&key).expect("entry present");
                    e.st.close = reason;
                    e.st.bits |= state::FINISHED;
                    finish(&key, &e.st, e.http.as_deref(), due, emit);
                }
            }
        }
    }

    /// Counts one packet (its fields already extracted) seen at `now` on `ifindex`.
    pub fn packet(
        &mut self,
        data: &[u8],
        fields: &PacketFields,
        ifindex: u32,
        now: u64,
        emit: &mut impl FnMut(Event),
    ) {
        self.advance(now, emit);
        let Some(seg) = read_segment(data, fields) else {
            self.stats.untrackable += 1;
            return;
        };
        let (key, side) = ConnKey::of(fields, ifindex);
        let rearm = match self.conns.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                let mut st = ConnState::EMPTY;
                st.start(now);
                v.insert(Entry {
                    st,
                    http: None,
                    timer: 0,
                });
                true
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let e = o.get_mut();
                if e.st.starts_new_connection(side, &seg) {
                    // A reused port pair: the old connection ends here.
                    finish(&key, &e.st, e.http.as_deref(), now, emit);
                    e.http = None;
                    e.st.start(now);
                    true
                } else {
                    false
                }
            }
        };
        if rearm {
            self.arm(key, now + self.opts.idle_ns);
        }
        let e = self.conns.get_mut(&key).expect("entry present");
        let u = e.st.update(now, side, &seg, 1);
        if http_candidate(&seg, u) {
            match http_start(data, &seg) {
                HttpStart::Request {
                    method,
                    method_len,
                    raw_len,
                } if side == e.st.client => {
                    e.st.http_requests += 1;
                    if self.opts.http {
                        let hs = e.http.get_or_insert_with(|| Box::new(HttpState::EMPTY));
                        match hs.request(now, method, method_len) {
                            Some(i) => copy_request(data, &seg, raw_len, &mut hs.pending[i]),
                            None => self.stats.http_overflow += 1,
                        }
                    }
                }
                HttpStart::Response { status } if side != e.st.client && self.opts.http => {
                    let mut rec = HttpRecord::empty(&key, e.st.client, now);
                    rec.status = status;
                    rec.response_ns = now;
                    if let Some(hs) = e.http.as_deref_mut() {
                        if let ResponseMatch::Slot(i) = hs.response() {
                            rec.set_request(&hs.pending[i % HTTP_PENDING]);
                            hs.release(i);
                        }
                    }
                    emit(Event::Http(rec));
                }
                _ => {}
            }
        }
        if u & upd::CLOSED_NOW != 0 {
            let due = now + self.opts.linger_ns;
            self.arm(key, due);
        }
    }

    /// The end of the file: every connection still in the table is reported, in the order of
    /// its first packet (closed ones with their close reason, the rest `open`).
    pub fn finish_all(&mut self, emit: &mut impl FnMut(Event)) {
        let mut left: Vec<(ConnKey, Entry)> = self.conns.drain().collect();
        left.sort_by_key(|(k, e)| (e.st.first_ns, *k));
        for (key, e) in left {
            finish(&key, &e.st, e.http.as_deref(), e.st.last_ns, emit);
        }
        self.timers.clear();
    }
}

/// The records a connection ending at `now` leaves, as the kernel sends them: its own, then
/// those of the HTTP requests it left unanswered. The kernel's table dump and tracer's ending
/// of timerless entries use it too.
pub fn finish(
    key: &ConnKey,
    st: &ConnState,
    http: Option<&HttpState>,
    now: u64,
    emit: &mut impl FnMut(Event),
) {
    emit(Event::Conn(ConnRecord {
        kind: kind::CONN,
        version: RECORD_VERSION,
        ifindex: key.ifindex,
        timestamp_ns: now,
        key: *key,
        state: *st,
    }));
    if let Some(hs) = http {
        for k in 0..HTTP_PENDING as u32 {
            if let Some(i) = hs.unanswered(k) {
                let mut rec = HttpRecord::empty(key, st.client, now);
                rec.set_request(&hs.pending[i]);
                emit(Event::Http(rec));
            }
        }
    }
}
