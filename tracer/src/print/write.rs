//! Allocation-free formatting into the output buffer: the hot path formats every number
//! itself instead of going through `format!`, which would allocate per field.

/// Appends `n` bytes produced by `fill`, which gets the `n` output slots to write
/// (all of them). Digits go straight into the buffer's spare capacity: no temporary,
/// no `memcpy` call for a few bytes.
#[inline(always)]
fn emit(out: &mut Vec<u8>, n: usize, fill: impl FnOnce(&mut [std::mem::MaybeUninit<u8>])) {
    out.reserve(n);
    let len = out.len();
    fill(&mut out.spare_capacity_mut()[..n]);
    // SAFETY: `fill` initialised all `n` slots after `len`, and `reserve` made room.
    unsafe { out.set_len(len + n) };
}

/// Number of decimal digits of `v`.
#[inline(always)]
fn digits(v: u64) -> usize {
    match v.checked_ilog10() {
        Some(l) => l as usize + 1,
        None => 1,
    }
}

/// Writes `v` in decimal right-aligned into all of `slots` (zero-padded on the left).
#[inline(always)]
fn fill_dec(slots: &mut [std::mem::MaybeUninit<u8>], v: u64) {
    let mut x = v;
    for s in slots.iter_mut().rev() {
        s.write(b'0' + (x % 10) as u8);
        x /= 10;
    }
}

/// Appends `v` in decimal (`%u`).
#[inline]
pub(crate) fn dec(out: &mut Vec<u8>, v: u64) {
    let n = digits(v);
    emit(out, n, |s| fill_dec(s, v));
}

/// Appends `v` in decimal, zero-padded to `width` digits (`%0Nu`).
#[inline]
pub(crate) fn dec_pad(out: &mut Vec<u8>, v: u64, width: usize) {
    let n = digits(v).max(width);
    emit(out, n, |s| fill_dec(s, v));
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `v` in lowercase hex, at least `width` digits (`%0Nx`; width 0 or 1 is `%x`).
#[inline]
pub(crate) fn hex(out: &mut Vec<u8>, v: u64, width: usize) {
    let n = ((64 - (v | 1).leading_zeros() as usize).div_ceil(4)).max(width);
    emit(out, n, |slots| {
        let mut x = v;
        for s in slots.iter_mut().rev() {
            s.write(HEX[(x & 0xf) as usize]);
            x >>= 4;
        }
    });
}

/// Appends one byte as two hex digits (`%02x`).
#[inline]
pub(crate) fn hex2(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
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
    let n = 3 + a[..4].iter().map(|&o| digits(o as u64)).sum::<usize>();
    emit(out, n, |slots| {
        let mut k = 0;
        for (i, &o) in a[..4].iter().enumerate() {
            if i > 0 {
                slots[k].write(b'.');
                k += 1;
            }
            let d = digits(o as u64);
            fill_dec(&mut slots[k..k + d], o as u64);
            k += d;
        }
    });
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
        o.push(b' ');
        hex(&mut o, 0, 1);
        hex(&mut o, 0xdeadbeef, 1);
        o.push(b' ');
        ipv4(&mut o, &[10, 0, 200, 255]);
        dec_pad(&mut o, 0, 2);
        assert_eq!(o, b"0 4294967295 001a 000042 0deadbeef 10.0.200.25500");
    }
}
