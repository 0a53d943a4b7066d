//! tcpdump's util-print.c helpers the application printers share: `tok2str` and
//! `bittok2str` over static tables, `nd_printn`/`nd_printjnp`, the relative-time form
//! (`5m1s`), `hex_print` and `print_unknown_data`. All write straight into the output.

use super::ctx::{Ctx, Trunc, R};
use super::write;

/// A `struct tok` table.
pub(crate) type Tok = [(u32, &'static str)];

/// The name of `v` in `t`, if any.
#[inline]
pub(crate) fn lookup(t: &Tok, v: u32) -> Option<&'static str> {
    t.iter().find(|e| e.0 == v).map(|e| e.1)
}

/// A one-conversion `printf`: `fmt` holds at most one `%[0][width](u|d|x|X|c)`, `%%` too.
pub(crate) fn fmt1(out: &mut Vec<u8>, fmt: &str, v: u64) {
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i < b.len() && b[i] == b'%' {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut zero = false;
        if i < b.len() && b[i] == b'0' {
            zero = true;
            i += 1;
        }
        let mut width = 0usize;
        while i < b.len() && b[i].is_ascii_digit() {
            width = width * 10 + (b[i] - b'0') as usize;
            i += 1;
        }
        // Length modifiers are irrelevant here.
        while i < b.len() && (b[i] == b'l' || b[i] == b'h' || b[i] == b'z') {
            i += 1;
        }
        let conv = b.get(i).copied().unwrap_or(b'u');
        i += 1;
        // Digits right-aligned in a stack buffer: no allocation.
        let mut tmp = [0u8; 24];
        let mut k = tmp.len();
        let mut put = |c: u8| {
            k -= 1;
            tmp[k] = c;
        };
        match conv {
            b'x' | b'X' => {
                let hex: &[u8; 16] = if conv == b'X' {
                    b"0123456789ABCDEF"
                } else {
                    b"0123456789abcdef"
                };
                let mut x = v;
                loop {
                    put(hex[(x & 0xf) as usize]);
                    x >>= 4;
                    if x == 0 {
                        break;
                    }
                }
            }
            b'd' | b'i' => {
                let s = v as u32 as i32;
                let mut x = (s as i64).unsigned_abs();
                loop {
                    put(b'0' + (x % 10) as u8);
                    x /= 10;
                    if x == 0 {
                        break;
                    }
                }
                if s < 0 {
                    put(b'-');
                }
            }
            b'c' => put(v as u8),
            _ => {
                let mut x = v;
                loop {
                    put(b'0' + (x % 10) as u8);
                    x /= 10;
                    if x == 0 {
                        break;
                    }
                }
            }
        }
        let digits = &tmp[k..];
        for _ in digits.len()..width {
            out.push(if zero { b'0' } else { b' ' });
        }
        out.extend_from_slice(digits);
    }
}

/// `tok2str(t, fmt, v)`.
#[inline]
pub(crate) fn tok2str(out: &mut Vec<u8>, t: &Tok, fmt: &str, v: u32) {
    match lookup(t, v) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => fmt1(out, fmt, v as u64),
    }
}

/// `bittok2str_internal`: the names of every token whose bits are all set in `v`,
/// separated by `sep`; `fmt` if none matched.
pub(crate) fn bittok2str_sep(out: &mut Vec<u8>, t: &Tok, fmt: &str, v: u32, sep: &str) {
    let mut any = false;
    for &(bits, name) in t {
        if bits != 0 && v & bits == bits {
            if any {
                out.extend_from_slice(sep.as_bytes());
            }
            out.extend_from_slice(name.as_bytes());
            any = true;
        }
    }
    if !any {
        fmt1(out, fmt, v as u64);
    }
}

/// `bittok2str`: comma separated.
#[inline]
pub(crate) fn bittok2str(out: &mut Vec<u8>, t: &Tok, fmt: &str, v: u32) {
    bittok2str_sep(out, t, fmt, v, ", ");
}

/// `unsigned_relts_print`: `1h2m3s`.
pub(crate) fn unsigned_relts(out: &mut Vec<u8>, secs: u32) {
    const L: [(&str, u32); 6] = [
        ("y", 31_536_000),
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ];
    if secs == 0 {
        out.extend_from_slice(b"0s");
        return;
    }
    let mut secs = secs;
    for (n, s) in L {
        if secs == 0 {
            break;
        }
        if secs >= s {
            write::dec(out, (secs / s) as u64);
            out.extend_from_slice(n.as_bytes());
            secs -= (secs / s) * s;
        }
    }
}

impl Ctx<'_, '_> {
    /// `nd_printn(s, n, snapend)`: up to `n` escaped bytes, stopping at the end of the
    /// captured data; true if it stopped early.
    pub fn printn(&mut self, s: usize, n: u32) -> bool {
        let mut n = n as usize;
        let mut s = s;
        while n > 0 && s < self.snapend {
            n -= 1;
            let ch = self.d[s];
            s += 1;
            self.print_char(ch);
        }
        n != 0
    }

    /// `nd_printjnp`: up to `n` escaped bytes or a NUL; past the data: truncated.
    pub fn printjnp(&mut self, s: usize, n: u32) -> R<()> {
        let mut n = n;
        let mut s = s;
        while n > 0 {
            let ch = self.u8(s)?;
            if ch == 0 {
                break;
            }
            self.print_char(ch);
            n -= 1;
            s += 1;
        }
        Ok(())
    }

    /// `nd_printjn`: `n` escaped bytes; past the data: truncated.
    pub fn printjn(&mut self, s: usize, n: u32) -> R<()> {
        for k in 0..n as usize {
            let ch = self.u8(s + k)?;
            self.print_char(ch);
        }
        Ok(())
    }

    /// `hex_print_with_offset`: `ident0x0000:  abcd ...`, 16 bytes a line; truncated
    /// (after printing what was captured) if `len` runs past the data.
    pub fn hex_print_off(&mut self, ident: &str, cp: usize, len: u32, oset: u32) -> R<()> {
        let cap = self.avail(cp) as u32;
        let (len, truncated) = if len > cap { (cap, true) } else { (len, false) };
        let mut oset = oset;
        let mut nshorts = len / 2;
        let mut i = 0u32;
        let mut p = cp;
        while nshorts != 0 {
            if i.is_multiple_of(8) {
                self.s(ident);
                self.s("0x");
                self.hex(oset, 4);
                self.s(": ");
                oset += 16;
            }
            i += 1;
            self.b(b' ');
            write::hex2(self.out, self.d[p]);
            write::hex2(self.out, self.d[p + 1]);
            p += 2;
            nshorts -= 1;
        }
        if len & 1 != 0 {
            if i.is_multiple_of(8) {
                self.s(ident);
                self.s("0x");
                self.hex(oset, 4);
                self.s(": ");
            }
            self.b(b' ');
            write::hex2(self.out, self.d[p]);
        }
        if truncated {
            return Err(Trunc);
        }
        Ok(())
    }

    /// `hex_and_ascii_print`: `ident0x0000:  abcd ...  ascii`, 16 bytes a line; truncated
    /// (after printing what was captured) if `len` runs past the data.
    pub fn hex_and_ascii_print(&mut self, ident: &str, cp: usize, len: u32) -> R<()> {
        let cap = self.avail(cp) as u32;
        let (len, truncated) = if len > cap { (cap, true) } else { (len, false) };
        let data = &self.d[cp..cp + len as usize];
        for (r, chunk) in data.chunks(16).enumerate() {
            self.s(ident);
            self.s("0x");
            self.hex((r * 16) as u64, 4);
            self.s(": ");
            let start = self.out.len();
            for pair in chunk.chunks(2) {
                self.b(b' ');
                for &b in pair {
                    write::hex2(self.out, b);
                }
            }
            while self.out.len() < start + 40 {
                self.b(b' ');
            }
            self.s("  ");
            for &ch in chunk {
                self.b(if (0x21..=0x7e).contains(&ch) {
                    ch
                } else {
                    b'.'
                });
            }
        }
        if truncated {
            return Err(Trunc);
        }
        Ok(())
    }

    /// `hex_print`.
    #[inline]
    pub fn hex_print(&mut self, ident: &str, cp: usize, len: u32) -> R<()> {
        self.hex_print_off(ident, cp, len, 0)
    }

    /// `print_unknown_data`: a hex dump of what was captured of `len` bytes; false (after
    /// a "Dissector error") if `cp` is past the data.
    pub fn unknown_data(&mut self, cp: usize, ident: &str, len: u32) -> bool {
        if cp > self.snapend {
            self.s(ident);
            self.s("Dissector error: print_unknown_data called with pointer past end of packet");
            return false;
        }
        let len = len.min(self.avail(cp) as u32);
        // Cannot run past the data after the cut above.
        let _ = self.hex_print(ident, cp, len);
        true
    }

    /// `tok2str` into the output.
    #[inline]
    pub fn tok(&mut self, t: &Tok, fmt: &str, v: u32) {
        tok2str(self.out, t, fmt, v);
    }

    /// `bittok2str` into the output.
    #[inline]
    pub fn bittok(&mut self, t: &Tok, fmt: &str, v: u32) {
        bittok2str(self.out, t, fmt, v);
    }
}

/// `ND_DEFAULTPRINT`: at most `caplen` captured bytes from `at` in hex and ASCII, unless
/// `-q`, `-x` or `-X` (tcpdump's `ndo_suppress_default_print`).
pub(crate) fn default_print(c: &mut Ctx, at: usize, caplen: u32) {
    if c.opts.quiet || c.opts.hex > 0 || c.opts.hex_ascii > 0 {
        return;
    }
    let end = c.snapend.min(at.saturating_add(caplen as usize));
    super::hexdump::hex_ascii(c.out, &c.d[at.min(end)..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt1_is_printf() {
        let mut o = Vec::new();
        fmt1(&mut o, "Opt%u", 7);
        fmt1(&mut o, " (%02x)", 5);
        fmt1(&mut o, " %d", 0xffff_ffff);
        fmt1(&mut o, " 0x%08x 100%%", 0xab);
        assert_eq!(o, b"Opt7 (05) -1 0x000000ab 100%");
        o.clear();
        unsigned_relts(&mut o, 32_230_861);
        o.push(b' ');
        unsigned_relts(&mut o, 2_147_483_648);
        assert_eq!(o, b"1y1w1d1h1m1s 68y5w3h14m8s");
    }
}
