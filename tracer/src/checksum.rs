//! The Internet checksum (RFC 1071), defined once: the printer verifies it (`-v`), the live
//! decoder completes the partial sums the kernel leaves to a device and sums the segments
//! it splits from a GSO packet, and the tests and fuzz targets craft packets with it.

/// The ones-complement sum of `data` (big-endian 16-bit words, an odd last byte padded
/// with a zero) added to `sum`, unfolded. 32-bit words are added (2^16 = 1 modulo 0xffff,
/// so folding gives the same 16-bit sum with half the additions); a u64 cannot overflow on
/// any packet.
pub fn add(mut sum: u64, data: &[u8]) -> u64 {
    let mut quads = data.chunks_exact(4);
    for w in &mut quads {
        sum += u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as u64;
    }
    let mut pairs = quads.remainder().chunks_exact(2);
    for w in &mut pairs {
        sum += u16::from_be_bytes([w[0], w[1]]) as u64;
    }
    if let [b] = pairs.remainder() {
        sum += (*b as u64) << 8;
    }
    sum
}

/// `sum` folded to 16 bits with end-around carries, not complemented: the partial
/// (pseudo-header) sum the kernel stores in a checksum field it leaves to the device.
pub fn fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The checksum of a sum: folded and complemented (`in_cksum`). Over data that includes a
/// correct checksum field it is 0.
pub fn finish(sum: u64) -> u16 {
    !fold(sum)
}

/// The checksum of `data` alone (an IPv4 header, a crafted segment).
pub fn of(data: &[u8]) -> u16 {
    finish(add(0, data))
}

/// The sum of a TCP/UDP pseudo-header: both addresses (4 or 16 bytes each), the protocol
/// and the upper-layer length (IPv4's 16-bit field or IPv6's 32-bit one: the same sum).
pub fn pseudo_header(src: &[u8], dst: &[u8], proto: u8, len: u32) -> u64 {
    add(add(0, src), dst) + proto as u64 + (len >> 16) as u64 + (len & 0xffff) as u64
}

/// The TCP pseudo-header sum of a segment of `tcp_len` bytes, with the addresses read from
/// the IP header at the start of `ip` (version 4 or 6); `None` for another version or a
/// header too short to hold them.
pub fn tcp_pseudo_header(ip: &[u8], version: u8, tcp_len: u32) -> Option<u64> {
    let (src, dst) = match version {
        4 => (ip.get(12..16)?, ip.get(16..20)?),
        6 => (ip.get(8..24)?, ip.get(24..40)?),
        _ => return None,
    };
    Some(pseudo_header(src, dst, 6, tcp_len))
}

/// `in_cksum_shouldbe`: the value the checksum field should have held, from the field and
/// the checksum computed over the data with it.
pub fn shouldbe(field: u16, computed: u16) -> u16 {
    let mut s = field as u32 + computed as u32;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    #[test]
    fn sums_as_rfc_1071_says() {
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(add(0, &d)), 0xddf2);
        assert_eq!(of(&d), !0xddf2);
    }

    #[test]
    fn word_size_and_odd_lengths_do_not_change_the_sum() {
        let d: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let mut by_pairs: u64 = 0;
        for c in d.chunks(2) {
            by_pairs += (u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])) as u64;
        }
        assert_eq!(fold(add(0, &d)), fold(by_pairs));
        // A correct checksum makes the whole sum 0xffff (in_cksum 0).
        let mut hdr = [
            0x45u8, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let zeroed = hdr;
        let c = of(&hdr);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(of(&hdr), 0);
        // With the field zeroed, the computed checksum is what the field should hold.
        assert_eq!(shouldbe(0, of(&zeroed)), c);
    }
}
