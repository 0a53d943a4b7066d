//! `-x`, `-X`, `-A` dumps (tcpdump's print-ascii.c), written straight into the output.

use super::write;

/// `hex_print`: `\n\t0x0000:  4500 003c ...`, 16 bytes per row.
pub(crate) fn hex(out: &mut Vec<u8>, data: &[u8]) {
    for (row, chunk) in data.chunks(16).enumerate() {
        out.extend_from_slice(b"\n\t0x");
        write::hex(out, (row * 16) as u64, 4);
        out.extend_from_slice(b": ");
        let mut pairs = chunk.chunks_exact(2);
        for p in &mut pairs {
            out.push(b' ');
            write::hex2(out, p[0]);
            write::hex2(out, p[1]);
        }
        if let [b] = pairs.remainder() {
            out.push(b' ');
            write::hex2(out, *b);
        }
    }
}

#[inline]
fn graph(c: u8) -> u8 {
    if c > 0x20 && c <= 0x7e {
        c
    } else {
        b'.'
    }
}

/// `hex_and_ascii_print`: hex columns padded to 40 characters, two spaces, then ASCII.
pub(crate) fn hex_ascii(out: &mut Vec<u8>, data: &[u8]) {
    for (row, chunk) in data.chunks(16).enumerate() {
        out.extend_from_slice(b"\n\t0x");
        write::hex(out, (row * 16) as u64, 4);
        out.extend_from_slice(b": ");
        let start = out.len();
        let mut pairs = chunk.chunks_exact(2);
        for p in &mut pairs {
            out.push(b' ');
            write::hex2(out, p[0]);
            write::hex2(out, p[1]);
        }
        if let [b] = pairs.remainder() {
            out.push(b' ');
            write::hex2(out, *b);
        }
        for _ in (out.len() - start)..40 {
            out.push(b' ');
        }
        out.extend_from_slice(b"  ");
        for &c in chunk {
            out.push(graph(c));
        }
    }
}

/// `ascii_print` (`-A`): printable bytes, newlines and tabs as is, CRs dropped before
/// line ends, everything else as `.`.
pub(crate) fn ascii(out: &mut Vec<u8>, data: &[u8]) {
    out.push(b'\n');
    let mut i = 0;
    let n = data.len();
    while i < n {
        let s = data[i];
        i += 1;
        let left = n - i;
        if s == b'\r' {
            if left > 1 && data[i] != b'\n' {
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
    }
}
