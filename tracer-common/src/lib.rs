//! Records and logic shared by the kernel programs (`tracer-ebpf`) and userspace (`tracer`).
//!
//! Everything here is `no_std`, `#[repr(C)]` and free of padding the compiler could choose:
//! the same bytes are written by BPF and read by the loader.
#![no_std]

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
}

/// Version of the record layout; bumped on any incompatible change.
pub const RECORD_VERSION: u16 = 2;

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
}

const _: () = assert!(core::mem::size_of::<Config>() == 24);

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
    /// Number of counters.
    pub const COUNT: u32 = 8;
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all of these are `#[repr(C)]`, `Copy`, and have no implicit padding.
    unsafe impl aya::Pod for super::PacketRecordHeader {}
    unsafe impl aya::Pod for super::Config {}
    unsafe impl aya::Pod for super::FilterInsn {}
}

impl PacketRecordHeader {
    /// Reads a header from the start of a ring record, if the record is long enough and
    /// carries a packet of the version this build understands.
    pub fn parse(record: &[u8]) -> Option<(PacketRecordHeader, &[u8])> {
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
