//! TCP checksums of outgoing packets, as the packet taps see them.
//!
//! The TCP stack hands every segment to the device with `CHECKSUM_PARTIAL`: the checksum
//! field holds only the folded pseudo-header sum, and the device (or the kernel, in
//! `validate_xmit_skb`, for a device without checksum offload) completes it. The TC egress
//! hook runs before that; libpcap's packet socket runs after it. So on a device that
//! checksums in software (`ethtool -K dev tx off`), tcpdump sees final checksums where the
//! egress program saw partial ones, and on a device that offloads, both see the partial
//! value (tcpdump's familiar "incorrect" checksums). [`TxOffloads`] says which a device
//! does; [`finalize`] completes a partial checksum the way the kernel would.
//!
//! Only a whole captured segment can be summed: on such devices the kernel program captures
//! outgoing TCP packets whole (`SOFTWARE_TX`), and userspace cuts them to the snap length
//! after completing the checksum.

use std::io;

use crate::checksum;

use tracer_common::fields::{bit, extract_fields};

use super::ethtool::Features;

/// Which TCP checksums and segmentations a device does itself (`ethtool -k`'s
/// `tx-checksum-*` and `tx-tcp*-segmentation` features). The kernel does the others in
/// software before the packet taps.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TxOffloads {
    /// `tx-checksum-ip-generic` (NETIF_F_HW_CSUM): any protocol.
    pub generic: bool,
    /// `tx-checksum-ipv4` (NETIF_F_IP_CSUM).
    pub ipv4: bool,
    /// `tx-checksum-ipv6` (NETIF_F_IPV6_CSUM): IPv6 without extension headers only.
    pub ipv6: bool,
    /// `tx-tcp-segmentation` (NETIF_F_TSO).
    pub tso4: bool,
    /// `tx-tcp6-segmentation` (NETIF_F_TSO6).
    pub tso6: bool,
    /// `tx-tcp-ecn-segmentation` (NETIF_F_TSO_ECN): GSO packets with CWR set.
    pub tso_ecn: bool,
}

impl TxOffloads {
    /// What a device whose features cannot be read is assumed to do: offload everything,
    /// so records are left as the egress hook saw them.
    pub const OFFLOADED: TxOffloads = TxOffloads {
        generic: true,
        ipv4: true,
        ipv6: true,
        tso4: true,
        tso6: true,
        tso_ecn: true,
    };

    /// Whether the kernel splits a TCP GSO packet in software before the taps
    /// (`netif_needs_gso`): the device lacks TSO for its IP version, or for ECN (CWR set).
    pub fn segments_in_software(&self, ip_version: u8, cwr: bool) -> bool {
        let tso = match ip_version {
            4 => self.tso4,
            6 => self.tso6,
            _ => return false,
        };
        !tso || (cwr && !self.tso_ecn)
    }

    /// Whether the kernel completes some TCP checksums for this device (it then needs the
    /// whole packet captured to do the same).
    pub fn any_software_checksum(&self) -> bool {
        !(self.generic || self.ipv4 && self.ipv6)
    }

    /// Whether the kernel splits some TCP GSO packets for this device (it then needs whole
    /// GSO packets captured to split them as it will).
    pub fn any_software_segmentation(&self) -> bool {
        !(self.tso4 && self.tso6 && self.tso_ecn)
    }

    /// Whether the kernel completes this packet's checksum in software before the taps
    /// (`can_checksum_protocol` and `skb_csum_hwoffload_help`).
    fn in_software(&self, ip_version: u8, ipv6_ext_headers: bool) -> bool {
        if self.generic {
            return false;
        }
        match ip_version {
            4 => !self.ipv4,
            6 => !self.ipv6 || ipv6_ext_headers,
            _ => false,
        }
    }

    /// Reads the device's active features with the ethtool ioctls.
    pub fn of_device(name: &str) -> io::Result<TxOffloads> {
        let f = Features::of_device(name)?;
        Ok(TxOffloads {
            generic: f.on("tx-checksum-ip-generic"),
            ipv4: f.on("tx-checksum-ipv4"),
            ipv6: f.on("tx-checksum-ipv6"),
            tso4: f.on("tx-tcp-segmentation"),
            tso6: f.on("tx-tcp6-segmentation"),
            tso_ecn: f.on("tx-tcp-ecn-segmentation"),
        })
    }
}

/// Completes the TCP checksum of an outgoing Ethernet frame the way the kernel does before
/// the packet taps: only when `tx` says the device leaves it to software, the whole segment
/// was captured, and the field holds the partial (pseudo-header) sum. Returns whether the
/// frame changed.
pub fn finalize(frame: &mut [u8], wire_len: u32, tx: TxOffloads) -> bool {
    match completed(frame, wire_len, tx) {
        Some((at, sum)) => {
            frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
            true
        }
        None => false,
    }
}

/// What [`finalize`] would write, and where, without touching the frame.
pub fn completed(frame: &[u8], wire_len: u32, tx: TxOffloads) -> Option<(usize, u16)> {
    if frame.len() as u64 != wire_len as u64 {
        return None;
    }
    let f = extract_fields(frame, wire_len);
    if !f.has(bit::TCP) || f.has(bit::FRAGMENT) {
        return None;
    }
    let (l3, l4) = (f.l3_offset as usize, f.l4_offset as usize);
    let be16 = |at: usize| -> Option<usize> {
        Some(u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]) as usize)
    };
    let end = match f.ip_version {
        4 => {
            let end = l3 + be16(l3 + 2)?;
            if !tx.in_software(4, false) || end > frame.len() || end < l4 + 20 {
                return None;
            }
            end
        }
        6 => {
            let end = l3 + 40 + be16(l3 + 4)?;
            if !tx.in_software(6, l4 != l3 + 40) || end > frame.len() || end < l4 + 20 {
                return None;
            }
            end
        }
        _ => return None,
    };
    let pseudo = checksum::tcp_pseudo_header(&frame[l3..], f.ip_version, (end - l4) as u32)?;
    let at = l4 + 16;
    let field = u16::from_be_bytes([frame[at], frame[at + 1]]);
    if field != checksum::fold(pseudo) {
        return None;
    }
    // `skb_checksum_help`: the sum of the segment as it is (its field holding the
    // pseudo-header sum), complemented.
    let sum = checksum::of(&frame[l4..end]);
    (sum != field).then_some((at, sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with a TCP segment (checksum correct) built by etherparse.
    fn frame(v6: bool, payload: &[u8]) -> Vec<u8> {
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let b = if v6 {
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s[0] = 0xfd;
            s[15] = 1;
            d[0] = 0xfd;
            d[15] = 2;
            b.ipv6(s, d, 64)
        } else {
            b.ipv4([10, 77, 0, 1], [10, 77, 0, 2], 64)
        };
        let b = b.tcp(40000, 80, 12345, 64240).ack(1).psh();
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    /// Replaces the checksum with the partial value the stack leaves for the device.
    fn make_partial(f: &mut [u8], v6: bool) -> u16 {
        let l4 = if v6 { 14 + 40 } else { 14 + 20 };
        let len = (f.len() - l4) as u32;
        let addrs = if v6 { &f[22..54] } else { &f[26..34] };
        let half = addrs.len() / 2;
        let partial = checksum::fold(checksum::pseudo_header(
            &addrs[..half],
            &addrs[half..],
            6,
            len,
        ));
        let good = u16::from_be_bytes([f[l4 + 16], f[l4 + 17]]);
        f[l4 + 16..l4 + 18].copy_from_slice(&partial.to_be_bytes());
        good
    }

    const SOFTWARE: TxOffloads = TxOffloads {
        generic: false,
        ipv4: false,
        ipv6: false,
        tso4: false,
        tso6: false,
        tso_ecn: false,
    };

    #[test]
    fn partial_checksums_are_completed_like_the_kernel() {
        for v6 in [false, true] {
            for payload in [&b""[..], b"odd", b"GET / HTTP/1.1\r\n\r\n"] {
                let good = frame(v6, payload);
                let mut f = good.clone();
                make_partial(&mut f, v6);
                assert_ne!(f, good);
                let n = f.len() as u32;
                assert!(finalize(&mut f, n, SOFTWARE));
                assert_eq!(f, good, "v6 {v6}, payload {payload:?}");
            }
        }
    }

    #[test]
    fn offloading_devices_and_cut_frames_are_left_alone() {
        for v6 in [false, true] {
            let mut f = frame(v6, b"data");
            make_partial(&mut f, v6);
            let before = f.clone();
            let n = f.len() as u32;
            assert!(!finalize(&mut f, n, TxOffloads::OFFLOADED));
            let only_other = TxOffloads {
                generic: false,
                ipv4: !v6,
                ipv6: v6,
                ..SOFTWARE
            };
            assert!(!finalize(&mut f, n, only_other));
            // Cut by the snap length: the segment cannot be summed.
            assert!(!finalize(&mut f, n + 10, SOFTWARE));
            assert_eq!(f, before);
        }
    }

    #[test]
    fn final_checksums_are_left_alone() {
        for v6 in [false, true] {
            let good = frame(v6, b"hello");
            let mut f = good.clone();
            let n = f.len() as u32;
            assert!(!finalize(&mut f, n, SOFTWARE));
            assert_eq!(f, good);
        }
    }

    #[test]
    fn loopback_features_are_readable() {
        // lo offloads every checksum.
        let tx = TxOffloads::of_device("lo").expect("ethtool features of lo");
        assert!(tx.generic, "{tx:?}");
        assert!(TxOffloads::of_device("nosuch0").is_err());
    }
}
