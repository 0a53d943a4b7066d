//! The relative sequence number table (tcpdump's `tcp_seq_hash4`/`tcp_seq_hash6`).
//!
//! tcpdump keys a conversation by (lower-port side address, other address, ports), records
//! the first seen seq/ack of each ACK-carrying segment's conversation, and prints later
//! seq/ack numbers relative to them; a SYN re-bases the entry. tcpdump never forgets a
//! conversation; this table is bounded: it keeps two generations of at most
//! [`GENERATION`] conversations each per address family, and when the young one fills up
//! the old one is dropped. A conversation untouched for that long is forgotten, and its
//! next segment prints absolute numbers and re-bases, exactly like a conversation tcpdump
//! sees for the first time mid-stream. Memory stays under about 2 x [`GENERATION`] entries
//! per family (roughly 30 MB at the bound).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Conversations per generation (two generations per address family).
pub const GENERATION: usize = 1 << 17;

/// A small fast hasher (FxHash, as in rustc) for fixed-size keys; the keys are not
/// attacker-chosen in a way that matters for a bounded, generational table.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxBuild = BuildHasherDefault<Fx>;

/// Initial seq/ack of one conversation (tcpdump's `th->seq`, `th->ack`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Base {
    pub seq: u32,
    pub ack: u32,
}

struct Generations<K> {
    young: HashMap<K, Base, FxBuild>,
    old: HashMap<K, Base, FxBuild>,
}

impl<K: Hash + Eq + Copy> Generations<K> {
    fn new() -> Self {
        Generations {
            young: HashMap::default(),
            old: HashMap::default(),
        }
    }

    fn insert(&mut self, k: K, b: Base) {
        if self.young.len() >= GENERATION && !self.young.contains_key(&k) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(k, b);
    }

    /// tcpdump's lookup-or-record: returns the conversation's base and whether the
    /// segment's numbers are to be made relative (found and not a SYN).
    fn lookup(&mut self, k: K, syn: bool, fresh: Base) -> (Base, bool) {
        if !syn {
            if let Some(b) = self.young.get(&k) {
                return (*b, true);
            }
            if let Some(b) = self.old.remove(&k) {
                self.insert(k, b);
                return (b, true);
            }
        } else {
            self.old.remove(&k);
        }
        self.insert(k, fresh);
        (fresh, false)
    }
}

/// Both families' tables.
pub(crate) struct SeqTable {
    v4: Generations<[u8; 12]>,
    v6: Generations<[u8; 36]>,
}

impl Default for SeqTable {
    fn default() -> Self {
        SeqTable {
            v4: Generations::new(),
            v6: Generations::new(),
        }
    }
}

impl SeqTable {
    /// Finds or records the conversation `src:sport -> dst:dport` the way tcp_print does,
    /// and returns `(seq, ack, thseq, thack, rev)` as tcpdump has them afterwards.
    pub fn relate(
        &mut self,
        src: &[u8],
        dst: &[u8],
        (sport, dport): (u16, u16),
        syn: bool,
        seq: u32,
        ack: u32,
    ) -> (u32, u32, u32, u32, bool) {
        let rev = sport > dport || (sport == dport && src > dst);
        let (a, b, port) = if rev {
            (dst, src, (dport as u32) << 16 | sport as u32)
        } else {
            (src, dst, (sport as u32) << 16 | dport as u32)
        };
        let fresh = if rev {
            Base {
                ack: seq,
                seq: ack.wrapping_sub(1),
            }
        } else {
            Base {
                seq,
                ack: ack.wrapping_sub(1),
            }
        };
        let (base, relative) = if a.len() == 4 {
            let mut k = [0u8; 12];
            k[..4].copy_from_slice(a);
            k[4..8].copy_from_slice(b);
            k[8..].copy_from_slice(&port.to_ne_bytes());
            self.v4.lookup(k, syn, fresh)
        } else {
            let mut k = [0u8; 36];
            k[..16].copy_from_slice(a);
            k[16..32].copy_from_slice(b);
            k[32..].copy_from_slice(&port.to_ne_bytes());
            self.v6.lookup(k, syn, fresh)
        };
        let (mut seq, mut ack) = (seq, ack);
        if relative {
            if rev {
                seq = seq.wrapping_sub(base.ack);
                ack = ack.wrapping_sub(base.seq);
            } else {
                seq = seq.wrapping_sub(base.seq);
                ack = ack.wrapping_sub(base.ack);
            }
        }
        (seq, ack, base.seq, base.ack, rev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_segment_prints_relative_and_syn_rebases() {
        let mut t = SeqTable::default();
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        assert_eq!(t.relate(&a, &b, (1000, 80), false, 500, 900).0, 500);
        let r = t.relate(&a, &b, (1000, 80), false, 510, 910);
        assert_eq!((r.0, r.1), (10, 11));
        // reverse direction uses the swapped base
        let r = t.relate(&b, &a, (80, 1000), false, 905, 520);
        assert_eq!((r.0, r.1), (6, 20));
        // SYN re-bases
        assert_eq!(t.relate(&a, &b, (1000, 80), true, 7, 9).0, 7);
    }

    #[test]
    fn table_stays_bounded_and_forgotten_conversations_restart_absolute() {
        let mut t = SeqTable::default();
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        t.relate(&a, &b, (1, 2), false, 100, 100);
        for i in 0..(2 * GENERATION as u32 + 5) {
            let x = i.to_be_bytes();
            t.relate(&x, &b, (3, 4), false, 1, 1);
        }
        assert!(t.v4.young.len() + t.v4.old.len() <= 2 * GENERATION);
        assert_eq!(t.relate(&a, &b, (1, 2), false, 150, 100).0, 150);
    }
}
