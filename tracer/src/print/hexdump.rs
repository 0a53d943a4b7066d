//! `-x`, `-X`, `-A` dumps (tcpdump's print-ascii.c), written straight into the output.

const HEXD: &[u8; 16] = b"0123456789abcdef";

/// Formats `\n\t0xOOOO: ` plus the hex groups of one row into `row`; returns the
/// length and where the hex groups start (offsets past 0xffff take more digits, as
/// with tcpdump's `%04x`).
#[inline]
fn hex_row(row: &mut [u8; 96], off: usize, chunk: &[u8]) -> (usize, usize) {
    row[..4].copy_from_slice(b"\n\t0x");
    let digits = ((usize::BITS - (off | 1).leading_zeros()) as usize)
        .div_ceil(4)
        .max(4);
    for k in 0..digits {
        row[4 + k] = HEXD[(off >> (4 * (digits - 1 - k))) & 0xf];
    }
    let mut n = 4 + digits;
    row[n] = b':';
    row[n + 1] = b' ';
    n += 2;
    let prefix = n;
    for (i, &b) in chunk.iter().enumerate() {
        if i % 2 == 0 {
            row[n] = b' ';
            n += 1;
        }
        row[n] = HEXD[(b >> 4) as usize];
        row[n + 1] = HEXD[(b & 0xf) as usize];
        n += 2;
    }
    (n, prefix)
}

/// `hex_print`: `\n\t0x0000:  4500 003c ...`, 16 bytes per row.
pub(crate) fn hex(out: &mut Vec<u8>, data: &[u8]) {
    let mut row = [b' '; 96];
    for (r, chunk) in data.chunks(16).enumerate() {
        let (n, _) = hex_row(&mut row, r * 16, chunk);
        out.extend_from_slice(&row[..n]);
    }
}

/// `hex_and_ascii_print`: hex columns padded to 40 characters, two spaces, then ASCII.
pub(crate) fn hex_ascii(out: &mut Vec<u8>, data: &[u8]) {
    let mut row = [b' '; 96];
    for (r, chunk) in data.chunks(16).enumerate() {
        let (n, prefix) = hex_row(&mut row, r * 16, chunk);
        let mut n = n;
        while n < prefix + 42 {
            row[n] = b' ';
            n += 1;
        }
        for &c in chunk {
            row[n] = if c > 0x20 && c <= 0x7e { c } else { b'.' };
            n += 1;
        }
        out.extend_from_slice(&row[..n]);
    }
}

/// `ascii_print` (`-A`): printable bytes, newlines and tabs as is, CRs dropped before
/// line ends, everything else as `.`.
pub(crate) fn ascii(out: &mut Vec<u8>, data: &[u8]) {
    out.reserve(data.len() + 1);
    out.push(b'\n');
    let n = data.len();
    for (i, &s) in data.iter().enumerate() {
        let left = n - i - 1;
        if s == b'\r' {
            if left > 1 && data[i + 1] != b'\n' {
                out.push(b'.');
            }
        } else if (s > 0x20 && s <= 0x7e) || s == b'\t' || s == b' ' || s == b'\n' {
            out.push(s);
        } else {
            out.push(b'.');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_length_rows_pad_the_ascii_column() {
        let mut o = Vec::new();
        hex_ascii(&mut o, b"Hello, World!\n");
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "\n\t0x0000:  4865 6c6c 6f2c 2057 6f72 6c64 210a       Hello,.World!."
        );
        let mut o = Vec::new();
        hex(&mut o, b"abc");
        assert_eq!(String::from_utf8(o).unwrap(), "\n\t0x0000:  6162 63");
        let big = vec![0x41u8; 0x10010];
        let mut o = Vec::new();
        hex_ascii(&mut o, &big);
        let tail = String::from_utf8(o).unwrap();
        assert!(tail
            .ends_with("\n\t0x10000:  4141 4141 4141 4141 4141 4141 4141 4141  AAAAAAAAAAAAAAAA"));
    }
}
