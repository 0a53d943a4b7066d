//! Kernel records into the [`Packet`]s a libpcap capture on the same interface would have
//! produced: offloaded VLAN tags put back, outgoing GSO packets split where the device
//! leaves that to the kernel, partial checksums completed where the kernel completes them
//! (both happen after the egress hook, before the packet taps), and Linux cooked v2 framing
//! for `-i any`.

use std::ops::ControlFlow;

use tracer_common::{
    direction, PacketRecordHeader, RECORD_FLAG_SYNTHETIC_ETHERNET, RECORD_FLAG_VLAN_OFFLOADED,
};

use super::{
    clock::WallClock,
    csum::{self, TxOffloads},
    gso,
    iface::{self, Interface, ARPHRD_LOOPBACK},
};
use crate::packet::{LinkType, Packet, Timestamp};

/// What the decoder knows of one interface.
struct IfaceInfo {
    index: u32,
    name: String,
    hw_type: u16,
    /// Offloads of the device (re-read periodically: `ethtool -K` may change them).
    tx: TxOffloads,
}

impl IfaceInfo {
    fn new(i: &Interface) -> IfaceInfo {
        IfaceInfo {
            index: i.index,
            name: i.name.clone(),
            hw_type: if i.is_loopback() {
                ARPHRD_LOOPBACK
            } else {
                i.hw_type
            },
            // Loopback checksums and segments nothing itself either, but libpcap shows its
            // packets as received, after the whole trip: leave them be. Others are read by
            // `refresh_offloads`.
            tx: TxOffloads::OFFLOADED,
        }
    }
}

/// Turns kernel records into packets; keeps per-interface state and reusable buffers.
pub struct RecordDecoder {
    pub clock: WallClock,
    /// `-i any`: Linux cooked v2 framing, with the interface index and direction.
    cooked: bool,
    ifaces: Vec<IfaceInfo>,
    /// The frame with an offloaded VLAN tag put back.
    tagged: Vec<u8>,
    /// One software segment of a GSO packet.
    segment: Vec<u8>,
    /// The frame with its TCP checksum completed.
    checksummed: Vec<u8>,
    /// The frame in Linux cooked v2 framing.
    cooked_frame: Vec<u8>,
    /// Packets the software GSO split made beyond one per record: the kernel's "matched"
    /// counts a GSO packet once, the packet taps (and tcpdump's count) once per segment.
    pub extra_segments: u64,
}

impl RecordDecoder {
    pub fn new(clock: WallClock, cooked: bool, interfaces: &[Interface]) -> RecordDecoder {
        let mut d = RecordDecoder {
            clock,
            cooked,
            ifaces: interfaces.iter().map(IfaceInfo::new).collect(),
            tagged: Vec::with_capacity(2048),
            segment: Vec::with_capacity(2048),
            checksummed: Vec::with_capacity(2048),
            cooked_frame: Vec::with_capacity(2048),
            extra_segments: 0,
        };
        d.refresh_offloads(interfaces);
        d
    }

    /// An interface that appeared (`-i any`); returns its `software_tx` flags for the kernel.
    pub fn add_interface(&mut self, i: &Interface) -> u8 {
        self.remove_interface(i.index);
        self.ifaces.push(IfaceInfo::new(i));
        self.refresh_offloads(std::slice::from_ref(i));
        self.software_tx_interfaces()
            .into_iter()
            .find(|(index, _)| *index == i.index)
            .map_or(0, |(_, f)| f)
    }

    /// An interface that went away.
    pub fn remove_interface(&mut self, index: u32) {
        self.ifaces.retain(|i| i.index != index);
    }

    /// Reads (again) what each device offloads.
    pub fn refresh_offloads(&mut self, interfaces: &[Interface]) {
        for info in &mut self.ifaces {
            let lo = interfaces
                .iter()
                .any(|i| i.index == info.index && i.is_loopback());
            if !lo {
                info.tx = TxOffloads::of_device(&info.name).unwrap_or(TxOffloads::OFFLOADED);
            }
        }
    }

    /// Sets what interface `index`'s device offloads, as if read from it (the fuzz target
    /// `live_record` drives the software segmentation and checksum paths this way).
    pub fn set_offloads(&mut self, index: u32, tx: TxOffloads) {
        if let Some(i) = self.ifaces.iter_mut().find(|i| i.index == index) {
            i.tx = tx;
        }
    }

    /// Interfaces whose devices leave segmentation or checksums to the kernel, with the
    /// `tracer_common::software_tx` flags the kernel program needs to capture the affected
    /// packets whole.
    pub fn software_tx_interfaces(&self) -> Vec<(u32, u8)> {
        use tracer_common::software_tx::{CHECKSUMS, SEGMENTS};
        self.ifaces
            .iter()
            .filter(|i| i.tx != TxOffloads::OFFLOADED)
            .map(|i| {
                let mut flags = 0;
                if i.tx.any_software_segmentation() {
                    flags |= SEGMENTS;
                }
                if i.tx.any_software_checksum() {
                    flags |= CHECKSUMS;
                }
                (i.index, flags)
            })
            .filter(|(_, f)| *f != 0)
            .collect()
    }

    fn info(&self, ifindex: u32) -> Option<&IfaceInfo> {
        self.ifaces.iter().find(|i| i.index == ifindex)
    }

    /// Hands every packet the record stands for to `emit`, in order.
    pub fn decode(
        &mut self,
        h: &PacketRecordHeader,
        frame: &[u8],
        mut emit: impl FnMut(&Packet) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let ts = self.clock.to_wall(h.timestamp_ns);
        let mut tagged = std::mem::take(&mut self.tagged);
        let mut data: &[u8] = frame;
        let mut wire_len = h.wire_len;
        if h.flags & RECORD_FLAG_VLAN_OFFLOADED != 0 && frame.len() >= 12 {
            // libpcap puts an offloaded tag back in front of the ethertype.
            tagged.clear();
            tagged.extend_from_slice(&frame[..12]);
            tagged.extend_from_slice(&h.vlan_proto.to_be_bytes());
            tagged.extend_from_slice(&h.vlan_tci.to_be_bytes());
            tagged.extend_from_slice(&frame[12..]);
            wire_len += 4;
            data = &tagged;
        }
        let tx = match self.info(h.ifindex) {
            Some(i) if h.direction == direction::OUT => i.tx,
            _ => TxOffloads::OFFLOADED,
        };
        let mut flow = None;
        if h.gso_size != 0 && data.len() as u64 == wire_len as u64 && needs_split(data, tx) {
            let mut segment = std::mem::take(&mut self.segment);
            let mut segments = 0u64;
            flow = gso::segment(data, h.gso_size, &mut segment, |seg| {
                segments += 1;
                self.finish(ts, h, seg, seg.len() as u32, tx, &mut emit)
            });
            self.extra_segments += segments.saturating_sub(1);
            self.segment = segment;
        }
        let flow = match flow {
            Some(f) => f,
            None => self.finish(ts, h, data, wire_len, tx, &mut emit),
        };
        self.tagged = tagged;
        flow
    }

    /// Completes the checksum where the kernel would and frames the packet.
    fn finish(
        &mut self,
        ts: Timestamp,
        h: &PacketRecordHeader,
        data: &[u8],
        wire_len: u32,
        tx: TxOffloads,
        emit: &mut impl FnMut(&Packet) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut data = data;
        let mut checksummed = std::mem::take(&mut self.checksummed);
        if tx != TxOffloads::OFFLOADED {
            if let Some((at, sum)) = csum::completed(data, wire_len, tx) {
                checksummed.clear();
                checksummed.extend_from_slice(data);
                checksummed[at..at + 2].copy_from_slice(&sum.to_be_bytes());
                data = &checksummed;
            }
        }
        let flow = if self.cooked {
            self.cooked_frame(ts, h, data, wire_len, emit)
        } else if h.flags & RECORD_FLAG_SYNTHETIC_ETHERNET != 0 {
            // A layer-3 interface: the packet without the header the kernel put in front.
            emit(&Packet {
                ts,
                link: LinkType::Raw,
                data: data.get(14..).unwrap_or(&[]),
                wire_len: wire_len.saturating_sub(14),
            })
        } else {
            emit(&Packet {
                ts,
                link: LinkType::Ethernet,
                data,
                wire_len,
            })
        };
        self.checksummed = checksummed;
        flow
    }

    /// LINUX_SLL2: protocol (2), reserved (2), ifindex (4), ARPHRD type (2), packet type
    /// (1), address length (1), address (8); then the frame without its Ethernet header.
    fn cooked_frame(
        &mut self,
        ts: Timestamp,
        h: &PacketRecordHeader,
        data: &[u8],
        wire_len: u32,
        emit: &mut impl FnMut(&Packet) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let hw_type = self
            .info(h.ifindex)
            .map(|i| i.hw_type)
            .unwrap_or(iface::ARPHRD_ETHER);
        let out = &mut self.cooked_frame;
        out.clear();
        out.extend_from_slice(data.get(12..14).unwrap_or(&[0, 0]));
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&h.ifindex.to_be_bytes());
        out.extend_from_slice(&hw_type.to_be_bytes());
        out.push(if h.direction == direction::OUT { 4 } else { 0 });
        if h.flags & RECORD_FLAG_SYNTHETIC_ETHERNET != 0 {
            // No link-layer address.
            out.push(0);
            out.extend_from_slice(&[0; 8]);
        } else {
            out.push(6);
            out.extend_from_slice(data.get(6..12).unwrap_or(&[0; 6]));
            out.extend_from_slice(&[0, 0]);
        }
        out.extend_from_slice(data.get(14..).unwrap_or(&[]));
        emit(&Packet {
            ts,
            link: LinkType::LinuxSll2,
            data: out,
            wire_len: wire_len.saturating_sub(14) + 20,
        })
    }
}

/// Whether the device leaves this GSO packet's segmentation to the kernel.
fn needs_split(frame: &[u8], tx: TxOffloads) -> bool {
    let f = tracer_common::extract_fields(frame, frame.len() as u32);
    let cwr = f.tcp_flags & 0x80 != 0;
    tx.segments_in_software(f.ip_version, cwr)
}
