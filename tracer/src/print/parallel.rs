//! Printing a capture file on every core, with the output of one printer.
//!
//! A packet's text depends on earlier packets only through the relative sequence number
//! table, whose entries are per conversation, and through the clock of `-ttt` (delta to the
//! previous packet) and `-ttttt` (since the first). So, except in those two timestamp
//! modes, packets can be split by conversation: each worker has its own [`Printer`] and
//! sees every packet of its conversations in capture order, and the lines are written back
//! in capture order. The result is byte for byte what one printer prints.
//!
//! Packets go in batches through two stages: the caller's thread reads and filters (and
//! copies the frame bytes into the batch), while the workers print the previous batch, each
//! its share into its own buffer; the caller then writes the lines back in capture order.

use std::{
    io,
    sync::{mpsc, Arc},
    thread,
};

use tracer_common::PacketFields;

use super::options::PrintOptions;
use super::printer::Printer;
use crate::packet::{LinkType, Packet, Timestamp};

/// Packets per batch: big enough that handing a batch over is noise, small enough that it
/// stays in cache and output starts early.
const BATCH: usize = 4096;

/// Most workers used, whatever the machine has.
const MAX_WORKERS: usize = 8;

struct Queued {
    ts: Timestamp,
    link: LinkType,
    wire_len: u32,
    off: usize,
    len: usize,
    worker: usize,
}

#[derive(Default)]
struct Batch {
    arena: Vec<u8>,
    queued: Vec<Queued>,
}

impl Batch {
    fn with_capacity() -> Batch {
        Batch {
            arena: Vec::with_capacity(BATCH * 256),
            queued: Vec::with_capacity(BATCH),
        }
    }
}

/// One worker's lines for a batch: the text and the end offset of each of its packets.
#[derive(Default)]
struct Lines {
    out: Vec<u8>,
    ends: Vec<usize>,
}

struct Job {
    batch: Arc<Batch>,
    lines: Lines,
}

struct Worker {
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Lines>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Prints worker `me`'s share of every batch it is sent, until the sender goes away.
fn work(me: usize, mut printer: Printer, jobs: mpsc::Receiver<Job>, done: mpsc::Sender<Lines>) {
    while let Ok(Job { batch, mut lines }) = jobs.recv() {
        lines.out.clear();
        lines.ends.clear();
        for q in batch.queued.iter().filter(|q| q.worker == me) {
            let pkt = Packet {
                ts: q.ts,
                link: q.link,
                data: &batch.arena[q.off..q.off + q.len],
                wire_len: q.wire_len,
            };
            printer.print(&pkt, &mut lines.out);
            lines.ends.push(lines.out.len());
        }
        // The batch goes back to the caller only once every worker has let go of it.
        drop(batch);
        if done.send(lines).is_err() {
            return;
        }
    }
}

/// Several printers that together print what one [`Printer`] prints.
pub struct ParallelPrinter {
    workers: Vec<Worker>,
    /// The batch being filled.
    filling: Batch,
    /// The batch the workers are printing.
    printing: Option<Arc<Batch>>,
    /// Buffers for the workers' next batch.
    spare: Vec<Lines>,
}

impl ParallelPrinter {
    /// A printer on every core (at most [`MAX_WORKERS`]), or `None` where one printer must
    /// see every packet (`-ttt`, `-ttttt`) or the machine has one core.
    pub fn new(opts: &PrintOptions) -> Option<ParallelPrinter> {
        let n = thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_WORKERS);
        ParallelPrinter::with_workers(opts, n)
    }

    /// As [`ParallelPrinter::new`] with `n` workers.
    pub fn with_workers(opts: &PrintOptions, n: usize) -> Option<ParallelPrinter> {
        if n < 2 || matches!(opts.timestamp, 3 | 5) {
            return None;
        }
        let mut workers = Vec::with_capacity(n);
        for me in 0..n {
            let (jobs_tx, jobs_rx) = mpsc::channel();
            let (done_tx, done_rx) = mpsc::channel();
            let printer = Printer::new(opts.clone());
            let thread = thread::Builder::new()
                .name(format!("print{me}"))
                .spawn(move || work(me, printer, jobs_rx, done_tx))
                .ok()?;
            workers.push(Worker {
                jobs: jobs_tx,
                done: done_rx,
                thread: Some(thread),
            });
        }
        Some(ParallelPrinter {
            workers,
            filling: Batch::with_capacity(),
            printing: None,
            spare: Vec::with_capacity(n),
        })
    }

    /// Queues a packet; `fields` are its extracted fields (they name its conversation).
    /// Once a batch is full it goes to the workers, and the lines of the batch before it
    /// are written to `out`.
    pub fn push(
        &mut self,
        pkt: &Packet,
        fields: &PacketFields,
        out: &mut impl io::Write,
    ) -> io::Result<()> {
        let b = &mut self.filling;
        let off = b.arena.len();
        b.arena.extend_from_slice(pkt.data);
        b.queued.push(Queued {
            ts: pkt.ts,
            link: pkt.link,
            wire_len: pkt.wire_len,
            off,
            len: pkt.data.len(),
            worker: conversation(fields) % self.workers.len(),
        });
        if b.queued.len() >= BATCH {
            self.hand_over(out)?;
        }
        Ok(())
    }

    /// Prints and writes everything queued.
    pub fn finish(&mut self, out: &mut impl io::Write) -> io::Result<()> {
        if !self.filling.queued.is_empty() {
            self.hand_over(out)?;
        }
        match self.collect() {
            Some((batch, lines)) => Self::write(&batch, &lines, out),
            None => Ok(()),
        }
    }

    /// Sends the filling batch to the workers and writes the lines of the previous one.
    fn hand_over(&mut self, out: &mut impl io::Write) -> io::Result<()> {
        let previous = self.collect();
        let batch = Arc::new(std::mem::take(&mut self.filling));
        for w in &self.workers {
            // Two sets of buffers take turns: one is printed into, one is being written.
            let job = Job {
                batch: Arc::clone(&batch),
                lines: self.spare.pop().unwrap_or_default(),
            };
            if w.jobs.send(job).is_err() {
                return Err(io::Error::other("a printing thread ended"));
            }
        }
        self.printing = Some(batch);
        let Some((done, lines)) = previous else {
            self.filling = Batch::with_capacity();
            return Ok(());
        };
        let written = Self::write(&done, &lines, out);
        // Reuse the finished batch and buffers for the next round.
        self.spare = lines;
        self.filling = Arc::try_unwrap(done).unwrap_or_default();
        self.filling.arena.clear();
        self.filling.queued.clear();
        written
    }

    /// Waits for the workers to finish the batch they print; returns it with their lines.
    fn collect(&mut self) -> Option<(Arc<Batch>, Vec<Lines>)> {
        let batch = self.printing.take()?;
        let lines = self
            .workers
            .iter()
            .map(|w| w.done.recv().unwrap_or_default())
            .collect();
        Some((batch, lines))
    }

    /// Writes the lines of a printed batch in capture order.
    fn write(batch: &Batch, lines: &[Lines], out: &mut impl io::Write) -> io::Result<()> {
        let mut next = [0usize; MAX_WORKERS];
        let mut start = [0usize; MAX_WORKERS];
        for q in &batch.queued {
            let l = &lines[q.worker];
            let Some(&end) = l.ends.get(next[q.worker]) else {
                return Err(io::Error::other("a printing thread failed"));
            };
            out.write_all(&l.out[start[q.worker]..end])?;
            start[q.worker] = end;
            next[q.worker] += 1;
        }
        Ok(())
    }
}

impl Drop for ParallelPrinter {
    fn drop(&mut self) {
        let _ = self.collect();
        for w in &mut self.workers {
            // Closing the job channel ends the worker's loop.
            let (dead, _) = mpsc::channel();
            w.jobs = dead;
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// A number that is the same for both directions of a conversation (addresses and ports).
fn conversation(f: &PacketFields) -> usize {
    let end = |addr: &[u8; 16], port: u16| -> u64 {
        let mut h = u64::from(port).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for chunk in addr.chunks_exact(8) {
            let v = u64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
            h = (h ^ v)
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
                .rotate_left(29);
        }
        h
    };
    // Sum: symmetric in the two ends.
    let h = end(&f.saddr, f.sport).wrapping_add(end(&f.daddr, f.dport));
    (h ^ (h >> 32)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_of_a_conversation_go_to_one_worker() {
        let mut a = PacketFields::EMPTY;
        a.saddr[..4].copy_from_slice(&[10, 0, 0, 1]);
        a.daddr[..4].copy_from_slice(&[10, 0, 0, 2]);
        a.sport = 40000;
        a.dport = 80;
        let mut b = a;
        b.saddr = a.daddr;
        b.daddr = a.saddr;
        b.sport = a.dport;
        b.dport = a.sport;
        assert_eq!(conversation(&a), conversation(&b));
        let mut c = a;
        c.sport = 40001;
        assert_ne!(conversation(&a), conversation(&c));
    }

    #[test]
    fn delta_timestamps_keep_one_printer() {
        for t in [3, 5] {
            let opts = PrintOptions {
                timestamp: t,
                ..PrintOptions::default()
            };
            assert!(ParallelPrinter::with_workers(&opts, 4).is_none());
        }
        assert!(ParallelPrinter::with_workers(&PrintOptions::default(), 1).is_none());
        assert!(ParallelPrinter::with_workers(&PrintOptions::default(), 2).is_some());
    }
}
