//! Packet builders for crafted edge cases (checksums computed, fields overridable).

#![allow(dead_code)]

use tracer::checksum;

/// A TCP header (options zero-padded to a multiple of 4 bytes) + payload.
pub fn tcp(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    opts: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut o = opts.to_vec();
    while !o.len().is_multiple_of(4) {
        o.push(0);
    }
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.push((((20 + o.len()) / 4) as u8) << 4);
    t.push(flags);
    t.extend_from_slice(&502u16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, if flags & 0x20 != 0 { 3 } else { 0 }]);
    t.extend_from_slice(&o);
    t.extend_from_slice(payload);
    t
}

/// IPv4 header + payload with correct header and TCP/UDP checksums.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    ipv4_full(src, dst, proto, opts, payload, 0x4000, 7)
}

pub fn ipv4_full(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    opts: &[u8],
    payload: &[u8],
    off: u16,
    id: u16,
) -> Vec<u8> {
    let hl = 20 + opts.len();
    assert!(hl.is_multiple_of(4) && hl <= 60);
    let total = hl + payload.len();
    let mut h = vec![0x40 | (hl / 4) as u8, 0];
    h.extend_from_slice(&(total as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&off.to_be_bytes());
    h.push(64);
    h.push(proto);
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(opts);
    let c = checksum::of(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let mut p = payload.to_vec();
    if proto == 6 && p.len() >= 20 && off & 0x1fff == 0 {
        let s = checksum::pseudo_header(&src, &dst, proto, p.len() as u32);
        let c = checksum::finish(checksum::add(s, &p));
        p[16..18].copy_from_slice(&c.to_be_bytes());
    }
    h.extend_from_slice(&p);
    h
}

/// IPv6 header + extension headers (`exts`: (next header value of this header's type,
/// bytes)) + upper payload, TCP checksum over the final destination `dst`.
pub fn ipv6(
    src: [u8; 16],
    dst: [u8; 16],
    first_nh: u8,
    exts: &[u8],
    upper_nh: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut p = payload.to_vec();
    if upper_nh == 6 && p.len() >= 20 {
        let s = checksum::pseudo_header(&src, &dst, 6, p.len() as u32);
        let c = checksum::finish(checksum::add(s, &p));
        p[16..18].copy_from_slice(&c.to_be_bytes());
    }
    let plen = exts.len() + p.len();
    let mut h = vec![0x60, 0x01, 0x23, 0x45];
    h.extend_from_slice(&(plen as u16).to_be_bytes());
    h.push(first_nh);
    h.push(64);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(exts);
    h.extend_from_slice(&p);
    h
}

pub const MAC_A: [u8; 6] = [0x02, 0x77, 0, 0, 0, 1];
pub const MAC_B: [u8; 6] = [0x00, 0x00, 0x0c, 0x12, 0x34, 0x56];

pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = MAC_B.to_vec();
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Ethernet with 802.1Q tags (tpid, tci) before the final type.
pub fn eth_vlan(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = MAC_B.to_vec();
    f.extend_from_slice(&MAC_A);
    for (tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn sll(pkttype: u16, proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&pkttype.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&proto.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn sll2(ifindex: u32, pkttype: u8, proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&proto.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&ifindex.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.push(pkttype);
    f.push(6);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

pub const A4: [u8; 4] = [10, 77, 0, 1];
pub const B4: [u8; 4] = [10, 77, 0, 2];
pub const A6: [u8; 16] = [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const B6: [u8; 16] = [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
