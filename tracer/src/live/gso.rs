//! Software segmentation of outgoing TCP GSO packets, as the packet taps see it.
//!
//! The TCP stack hands large "GSO" packets to the device. A device with TSO sends them as
//! they are (and the packet taps, tcpdump included, see them whole); for a device without
//! it, the kernel splits them in `validate_xmit_skb` — after the TC egress hook, before the
//! taps. So on such a device tcpdump prints MSS-sized segments where the egress hook saw one
//! packet. [`segment`] redoes that split exactly as `tcp_gso_segment` and
//! `inet_gso_segment`/`ipv6_gso_segment` do: each segment gets its share of the payload, the
//! headers with lengths, IPv4 id (+1 per segment) and header checksum updated, sequence
//! numbers advanced, FIN and PSH only on the last segment, CWR only on the first, and the
//! TCP checksum field set to the partial (pseudo-header) sum of its length — which
//! [`super::csum`] then completes where the device would not.

use std::ops::ControlFlow;

use crate::checksum;

use tracer_common::fields::{bit, extract_fields};

use tracer_common::tcp_flag::{CWR as TH_CWR, FIN as TH_FIN, PSH as TH_PSH};

/// Splits a whole captured GSO frame (Ethernet, IPv4/IPv6, TCP) into `gso_size`-byte
/// segments, handing each to `emit` (frame bytes, which are also its wire length). Returns
/// `None` when the frame is not one the kernel would split this way (not TCP, a fragment,
/// payload no larger than one segment, or headers that do not parse); `emit` is then not
/// called. `out` is reused scratch space.
pub fn segment(
    frame: &[u8],
    gso_size: u16,
    out: &mut Vec<u8>,
    mut emit: impl FnMut(&[u8]) -> ControlFlow<()>,
) -> Option<ControlFlow<()>> {
    let mss = gso_size as usize;
    let f = extract_fields(frame, frame.len() as u32);
    if mss == 0 || !f.has(bit::TCP) || f.has(bit::FRAGMENT) {
        return None;
    }
    let (l3, l4) = (f.l3_offset as usize, f.l4_offset as usize);
    let thlen = ((*frame.get(l4 + 12)? >> 4) as usize) * 4;
    let hdr_end = l4 + thlen;
    if thlen < 20 || hdr_end > frame.len() {
        return None;
    }
    // The payload ends where the IP header says, as the kernel sees it.
    let ip_end = match f.ip_version {
        4 => l3 + u16::from_be_bytes([frame[l3 + 2], frame[l3 + 3]]) as usize,
        6 => l3 + 40 + u16::from_be_bytes([frame[l3 + 4], frame[l3 + 5]]) as usize,
        _ => return None,
    };
    if ip_end > frame.len() || ip_end < hdr_end {
        return None;
    }
    let payload = &frame[hdr_end..ip_end];
    if payload.len() <= mss {
        return None;
    }
    let seq = u32::from_be_bytes(frame[l4 + 4..l4 + 8].try_into().ok()?);
    let flags = frame[l4 + 13];
    let id = u16::from_be_bytes([frame[l3 + 4], frame[l3 + 5]]);
    let n = payload.len().div_ceil(mss);
    for (i, chunk) in payload.chunks(mss).enumerate() {
        let (first, last) = (i == 0, i + 1 == n);
        out.clear();
        out.extend_from_slice(&frame[..hdr_end]);
        out.extend_from_slice(chunk);
        let tcp_len = thlen + chunk.len();
        if f.ip_version == 4 {
            let tot = (l4 - l3 + tcp_len) as u16;
            out[l3 + 2..l3 + 4].copy_from_slice(&tot.to_be_bytes());
            out[l3 + 4..l3 + 6].copy_from_slice(&id.wrapping_add(i as u16).to_be_bytes());
            out[l3 + 10..l3 + 12].copy_from_slice(&[0, 0]);
            let ihl = (l4 - l3).min(60);
            let csum = checksum::of(&out[l3..l3 + ihl]);
            out[l3 + 10..l3 + 12].copy_from_slice(&csum.to_be_bytes());
        } else {
            let plen = (l4 - (l3 + 40) + tcp_len) as u16;
            out[l3 + 4..l3 + 6].copy_from_slice(&plen.to_be_bytes());
        }
        // The version and the header's length were checked above: never the fallback.
        let pseudo =
            checksum::tcp_pseudo_header(&out[l3..], f.ip_version, tcp_len as u32).unwrap_or(0);
        let seg_seq = seq.wrapping_add((i * mss) as u32);
        out[l4 + 4..l4 + 8].copy_from_slice(&seg_seq.to_be_bytes());
        let mut fl = flags;
        if !last {
            fl &= !(TH_FIN | TH_PSH);
        }
        if !first {
            fl &= !TH_CWR;
        }
        out[l4 + 13] = fl;
        out[l4 + 16..l4 + 18].copy_from_slice(&checksum::fold(pseudo).to_be_bytes());
        if emit(out).is_break() {
            return Some(ControlFlow::Break(()));
        }
    }
    Some(ControlFlow::Continue(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 (or IPv6) + TCP frame with `payload` bytes, TCP checksum holding the
    /// partial sum as the stack leaves it.
    fn gso_frame(v6: bool, payload: usize, flags: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
        let l3 = f.len();
        if v6 {
            let mut ip = vec![0u8; 40];
            ip[0] = 0x60;
            ip[4..6].copy_from_slice(&((32 + payload) as u16).to_be_bytes());
            ip[6] = 6;
            ip[7] = 64;
            ip[8] = 0xfd;
            ip[23] = 1;
            ip[24] = 0xfd;
            ip[39] = 2;
            f.extend_from_slice(&ip);
        } else {
            let mut ip = vec![
                0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ];
            ip[2..4].copy_from_slice(&((20 + 32 + payload) as u16).to_be_bytes());
            f.extend_from_slice(&ip);
        }
        let mut tcp = vec![0u8; 32];
        tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&40000u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        tcp[12] = 8 << 4;
        tcp[13] = flags;
        tcp[20] = 1;
        tcp[21] = 1;
        tcp[22] = 8;
        tcp[23] = 10;
        f.extend_from_slice(&tcp);
        f.extend((0..payload).map(|i| (i % 251) as u8));
        let _ = l3;
        f
    }

    fn collect(frame: &[u8], mss: u16) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut segs = Vec::new();
        let _ = segment(frame, mss, &mut out, |s| {
            segs.push(s.to_vec());
            ControlFlow::Continue(())
        })?;
        Some(segs)
    }

    #[test]
    fn ipv4_gso_packet_splits_like_the_kernel() {
        let frame = gso_frame(false, 3000, 0x18 | TH_FIN | TH_CWR);
        let segs = collect(&frame, 1448).unwrap();
        assert_eq!(segs.len(), 3);
        let lens: Vec<usize> = segs.iter().map(|s| s.len() - 14 - 20 - 32).collect();
        assert_eq!(lens, vec![1448, 1448, 104]);
        for (i, s) in segs.iter().enumerate() {
            let l3 = 14;
            assert_eq!(
                u16::from_be_bytes([s[l3 + 2], s[l3 + 3]]) as usize,
                s.len() - 14
            );
            assert_eq!(
                u16::from_be_bytes([s[l3 + 4], s[l3 + 5]]),
                0x1234 + i as u16
            );
            assert_eq!(checksum::of(&s[l3..l3 + 20]), 0, "IP checksum valid");
            let seq = u32::from_be_bytes(s[l3 + 24..l3 + 28].try_into().unwrap());
            assert_eq!(seq, 0xffff_fff0u32.wrapping_add(i as u32 * 1448));
            let fl = s[l3 + 20 + 13];
            assert_eq!(fl & TH_FIN != 0, i == 2);
            assert_eq!(fl & TH_PSH != 0, i == 2);
            assert_eq!(fl & TH_CWR != 0, i == 0);
            assert_eq!(fl & 0x10, 0x10, "ACK kept");
            // The payload is the right slice.
            assert_eq!(s[14 + 52], ((i * 1448) % 251) as u8);
        }
    }

    #[test]
    fn segment_checksums_hold_the_partial_sum_the_kernel_leaves() {
        let frame = gso_frame(false, 2000, 0x10);
        let segs = collect(&frame, 1000).unwrap();
        let tx = super::super::csum::TxOffloads {
            generic: false,
            ipv4: false,
            ipv6: false,
            tso4: false,
            tso6: false,
            tso_ecn: false,
        };
        for s in &segs {
            // csum completes exactly the partial sums (it refuses anything else).
            let (at, sum) = super::super::csum::completed(s, s.len() as u32, tx).expect("partial");
            let mut done = s.clone();
            done[at..at + 2].copy_from_slice(&sum.to_be_bytes());
            let l4 = 14 + 20;
            let pseudo = checksum::pseudo_header(
                &done[14 + 12..14 + 16],
                &done[14 + 16..14 + 20],
                6,
                (done.len() - l4) as u32,
            );
            assert_eq!(
                checksum::finish(checksum::add(pseudo, &done[l4..])),
                0,
                "final checksum valid"
            );
        }
    }

    #[test]
    fn ipv6_gso_packet_splits_with_payload_lengths() {
        let frame = gso_frame(true, 2500, 0x18);
        let segs = collect(&frame, 1200).unwrap();
        assert_eq!(segs.len(), 3);
        for s in &segs {
            let plen = u16::from_be_bytes([s[14 + 4], s[14 + 5]]) as usize;
            assert_eq!(plen, s.len() - 14 - 40);
        }
    }

    #[test]
    fn packets_that_fit_one_segment_or_are_not_tcp_are_left_alone() {
        assert!(collect(&gso_frame(false, 1000, 0x10), 1448).is_none());
        let mut udp = gso_frame(false, 3000, 0x10);
        udp[14 + 9] = 17;
        assert!(collect(&udp, 1448).is_none());
        assert!(collect(&gso_frame(false, 3000, 0x10)[..100], 1448).is_none());
    }
}
