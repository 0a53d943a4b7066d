//! Reading the per-CPU ring buffers and merging their records into timestamp order.
//!
//! Each CPU's ring is ordered by time, but two rings interleave: a record stamped earlier on
//! one CPU can become visible after a later one on another. tcpdump prints in capture order
//! (and relative sequence numbers depend on it), so records are held until no ring can still
//! deliver an earlier one: every ring has shown a record at least as new, or the record is
//! older than a small reorder window (a producer stamps, reserves and submits within
//! microseconds, with bottom halves disabled).

use std::{
    io,
    ops::ControlFlow,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
};

use aya::maps::{MapData, RingBuf};
use tokio::io::unix::AsyncFd;
use tracer_common::{parse_record, Record, RecordPrefix};

/// How long a record may wait for an earlier one from another ring.
pub const REORDER_WINDOW_NS: u64 = 2_000_000;

#[derive(Copy, Clone, Debug)]
struct Pending {
    ts: u64,
    off: usize,
    len: usize,
}

/// An epoll set over the ring fds, so one readiness wait covers every ring.
struct EpollSet(OwnedFd);

impl AsRawFd for EpollSet {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl EpollSet {
    fn new(fds: &[RawFd]) -> io::Result<EpollSet> {
        // SAFETY: plain syscall; the returned fd is owned below.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: ep is a fresh fd that nothing else owns.
        let set = EpollSet(unsafe { OwnedFd::from_raw_fd(ep) });
        for (i, &fd) in fds.iter().enumerate() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: valid epoll fd, valid ring fd, ev lives across the call.
            if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(set)
    }
}

/// Every ring of a capture, read in timestamp order.
pub struct RingSet {
    rings: Vec<RingBuf<MapData>>,
    ready: AsyncFd<EpollSet>,
    merger: Merger,
}

impl RingSet {
    pub fn new(rings: Vec<RingBuf<MapData>>) -> io::Result<RingSet> {
        let fds: Vec<RawFd> = rings.iter().map(|r| r.as_raw_fd()).collect();
        // SAFETY: the epoll fd is owned by EpollSet and lives exactly as long as the AsyncFd.
        let ready = unsafe {
            AsyncFd::register_with_interest(EpollSet::new(&fds)?, tokio::io::Interest::READABLE)?
        };
        Ok(RingSet {
            merger: Merger::new(rings.len()),
            rings,
            ready,
        })
    }

    /// Waits until some ring has data (the kernel woke us).
    pub async fn readable(&self) -> io::Result<()> {
        let mut guard = self.ready.readable().await?;
        guard.clear_ready();
        Ok(())
    }

    /// Records seen in the rings that were not records of a kind and version this build reads.
    pub fn malformed(&self) -> u64 {
        self.merger.malformed
    }

    /// Moves every committed record out of the rings, into the merge buffer.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        for (i, ring) in self.rings.iter_mut().enumerate() {
            while let Some(item) = ring.next() {
                self.merger.push(i, &item);
                n += 1;
            }
        }
        n
    }

    /// See [`Merger::emit`].
    pub fn emit(
        &mut self,
        now_ns: u64,
        all: bool,
        f: impl FnMut(Record<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        self.merger.emit(now_ns, all, f)
    }
}

/// Holds drained records until they can be handed out in timestamp order.
pub struct Merger {
    /// Newest timestamp seen in each ring.
    newest: Vec<u64>,
    /// Bytes of drained records not yet handed out.
    arena: Vec<u8>,
    pending: Vec<Pending>,
    /// Reused by `compact`.
    order: Vec<usize>,
    /// Records that did not parse as records of this version (never expected).
    malformed: u64,
}

impl Merger {
    pub fn new(nr_rings: usize) -> Merger {
        Merger {
            newest: vec![0; nr_rings],
            arena: Vec::with_capacity(1 << 20),
            pending: Vec::with_capacity(4096),
            order: Vec::new(),
            malformed: 0,
        }
    }

    /// Takes a copy of one record read from ring `ring`.
    pub fn push(&mut self, ring: usize, rec: &[u8]) {
        let Some(h) = RecordPrefix::parse(rec) else {
            self.malformed += 1;
            return;
        };
        let off = self.arena.len();
        self.arena.extend_from_slice(rec);
        self.pending.push(Pending {
            ts: h.timestamp_ns,
            off,
            len: rec.len(),
        });
        if h.timestamp_ns > self.newest[ring] {
            self.newest[ring] = h.timestamp_ns;
        }
    }

    /// Hands out, oldest first, every held record that no ring can still precede
    /// (all of them when `all`, at the end of a capture). `f` may stop early by returning
    /// `Break`; the records not handed out stay for the next call.
    pub fn emit(
        &mut self,
        now_ns: u64,
        all: bool,
        mut f: impl FnMut(Record<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if self.pending.is_empty() {
            return ControlFlow::Continue(());
        }
        self.pending.sort_by_key(|p| p.ts);
        let horizon = if all || self.newest.len() == 1 {
            u64::MAX
        } else {
            let by_rings = self.newest.iter().copied().min().unwrap_or(0);
            by_rings.max(now_ns.saturating_sub(REORDER_WINDOW_NS))
        };
        let mut done = 0;
        let mut flow = ControlFlow::Continue(());
        for p in &self.pending {
            if p.ts > horizon {
                break;
            }
            done += 1;
            let rec = &self.arena[p.off..p.off + p.len];
            if let Some(r) = parse_record(rec) {
                if f(r).is_break() {
                    flow = ControlFlow::Break(());
                    break;
                }
            }
        }
        self.pending.drain(..done);
        self.compact();
        flow
    }

    /// Drops handed-out bytes from the arena, keeping the still-pending records.
    fn compact(&mut self) {
        if self.pending.is_empty() {
            self.arena.clear();
            return;
        }
        // Move the remaining records (usually few) to the front, in pending order.
        let mut write = 0;
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(0..self.pending.len());
        order.sort_by_key(|&i| self.pending[i].off);
        for &i in &order {
            let p = &mut self.pending[i];
            self.arena.copy_within(p.off..p.off + p.len, write);
            p.off = write;
            write += p.len;
        }
        self.arena.truncate(write);
        self.order = order;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracer_common::{direction, kind, PacketRecordHeader, RECORD_VERSION};

    fn record(ts: u64, byte: u8) -> Vec<u8> {
        let h = PacketRecordHeader {
            kind: kind::PACKET,
            version: RECORD_VERSION,
            ifindex: 1,
            timestamp_ns: ts,
            wire_len: 1,
            cap_len: 1,
            direction: direction::IN,
            flags: 0,
            vlan_tci: 0,
            vlan_proto: 0,
            gso_size: 0,
        };
        let mut v = h.as_bytes().to_vec();
        v.push(byte);
        v
    }

    fn collect(m: &mut Merger, now: u64, all: bool) -> Vec<(u64, u8)> {
        let mut out = vec![];
        let _ = m.emit(now, all, |r| {
            if let Record::Packet(h, f) = r {
                out.push((h.timestamp_ns, f[0]));
            }
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn one_ring_emits_everything_at_once() {
        let mut m = Merger::new(1);
        m.push(0, &record(10, 1));
        m.push(0, &record(20, 2));
        assert_eq!(collect(&mut m, 0, false), vec![(10, 1), (20, 2)]);
    }

    #[test]
    fn records_wait_for_the_slower_ring_then_come_out_in_time_order() {
        let mut m = Merger::new(2);
        m.push(0, &record(100, 1));
        m.push(0, &record(300, 3));
        m.push(1, &record(200, 2));
        // Ring 1 has shown 200: 100 and 200 are safe, 300 must wait.
        assert_eq!(collect(&mut m, 0, false), vec![(100, 1), (200, 2)]);
        m.push(1, &record(250, 4));
        assert_eq!(collect(&mut m, 0, false), vec![(250, 4)]);
        // Past the reorder window, 300 goes out although ring 1 stayed quiet.
        assert_eq!(
            collect(&mut m, 300 + REORDER_WINDOW_NS, false),
            vec![(300, 3)]
        );
    }

    #[test]
    fn all_flushes_and_break_keeps_the_rest() {
        let mut m = Merger::new(2);
        for (i, ts) in [5u64, 1, 3].iter().enumerate() {
            m.push(0, &record(*ts, i as u8));
        }
        let mut got = vec![];
        let flow = m.emit(0, true, |r| {
            if let Record::Packet(h, _) = r {
                got.push(h.timestamp_ns);
            }
            if got.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert!(flow.is_break());
        assert_eq!(got, vec![1, 3]);
        assert_eq!(collect(&mut m, 0, true), vec![(5, 0)]);
    }

    #[test]
    fn foreign_records_are_counted_not_emitted() {
        let mut m = Merger::new(1);
        m.push(0, &[0u8; 4]);
        assert_eq!(m.malformed, 1);
        assert!(collect(&mut m, 0, true).is_empty());
    }
}
