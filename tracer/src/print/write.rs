//! Allocation-free formatting into the output buffer: the hot path formats every number
//! itself instead of going through `format!`, which would allocate per field.

/// Appends `v` in decimal (`%u`).
#[inline]
pub(crate) fn dec(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` in decimal, zero-padded to `width` digits (`%0Nu`).
#[inline]
pub(crate) fn dec_pad(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `v` in lowercase hex, at least `width` digits (`%0Nx`; width 0 or 1 is `%x`).
#[inline]
pub(crate) fn hex(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends one byte as two hex digits (`%02x`).
#[inline]
pub(crate) fn hex2(out: &mut Vec<u8>, b: u8) {
    out.push(HEX[(b >> 4) as usize]);
    out.push(HEX[(b & 0xf) as usize]);
}

/// Appends `s` left-justified in a field of `width` bytes (`%-Ns`).
pub(crate) fn left(out: &mut Vec<u8>, s: &[u8], width: usize) {
    out.extend_from_slice(s);
    for _ in s.len()..width {
        out.push(b' ');
    }
}

/// Appends `s` right-justified in a field of `width` bytes (`%Ns`).
pub(crate) fn right(out: &mut Vec<u8>, s: &[u8], width: usize) {
    for _ in s.len()..width {
        out.push(b' ');
    }
    out.extend_from_slice(s);
}

/// Appends an IPv4 address in dotted quad.
#[inline]
pub(crate) fn ipv4(out: &mut Vec<u8>, a: &[u8]) {
    dec(out, a[0] as u64);
    out.push(b'.');
    dec(out, a[1] as u64);
    out.push(b'.');
    dec(out, a[2] as u64);
    out.push(b'.');
    dec(out, a[3] as u64);
}

/// Appends an IPv6 address the way tcpdump's `addrtostr6` does (RFC 5952 style, the same
/// as inet_ntop: longest run of two or more zero groups becomes `::`, IPv4-mapped and
/// IPv4-compatible forms keep a dotted quad tail).
pub(crate) fn ipv6(out: &mut Vec<u8>, a: &[u8]) {
    let mut words = [0u16; 8];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }
    // Longest run of zero words (first one wins on ties), only if at least 2 long.
    let (mut best, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = usize::MAX;
    }
    for (i, w) in words.iter().enumerate() {
        if best != usize::MAX && i >= best && i < best + best_len {
            if i == best {
                out.push(b':');
            }
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        // Embedded IPv4: ::a.b.c.d or ::ffff:a.b.c.d
        if i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            ipv4(out, &a[12..16]);
            break;
        }
        hex(out, *w as u64, 1);
    }
    if best != usize::MAX && best + best_len == 8 {
        out.push(b':');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let a: std::net::Ipv6Addr = s.parse().unwrap();
        let mut out = Vec::new();
        ipv6(&mut out, &a.octets());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ipv6_text_matches_inet_ntop_forms() {
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("fd77::1"), "fd77::1");
        assert_eq!(v6("fe80::1:0:0:2"), "fe80::1:0:0:2");
        assert_eq!(v6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(v6("::ffff:10.1.2.3"), "::ffff:10.1.2.3");
        assert_eq!(v6("::10.1.2.3"), "::10.1.2.3");
        assert_eq!(v6("1::"), "1::");
    }

    #[test]
    fn numbers_format_like_printf() {
        let mut o = Vec::new();
        dec(&mut o, 0);
        o.push(b' ');
        dec(&mut o, 4294967295);
        o.push(b' ');
        hex(&mut o, 0x1a, 4);
        o.push(b' ');
        dec_pad(&mut o, 42, 6);
        assert_eq!(o, b"0 4294967295 001a 000042");
    }
}
