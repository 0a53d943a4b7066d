//! tcpdump's `txtproto_print` (util-print.c) and its plain users, print-ftp.c,
//! print-smtp.c and print-whois.c: `FTP: 220 ready` (first line), or with `-v` the length
//! and every text line of the segment. HTTP and RTSP use it with a command table
//! (`http`, `rtsp`).

use super::ctx::{Ctx, Trunc, R};

/// `ftp_print`.
pub(crate) fn ftp(c: &mut Ctx, p: usize, len: u32) -> R<()> {
    c.proto = "ftp";
    print(c, p, len, None)
}

/// `smtp_print`.
pub(crate) fn smtp(c: &mut Ctx, p: usize, len: u32) -> R<()> {
    c.proto = "smtp";
    print(c, p, len, None)
}

/// `whois_print`.
pub(crate) fn whois(c: &mut Ctx, p: usize, len: u32) -> R<()> {
    c.proto = "whois";
    print(c, p, len, None)
}

/// The bytes from `p + idx` up to `p + len`, cut at the end of the captured data.
#[inline]
fn window<'p>(c: &Ctx<'p, '_>, p: usize, idx: usize, len: usize) -> &'p [u8] {
    let end = (p + len).min(c.snapend);
    c.d.get(p + idx..end).unwrap_or(&[])
}

/// `fetch_token`: index after the token and following blanks, 0 if none; the token is
/// `d[p + tok.0 .. p + tok.0 + tok.1]` (a range of the packet: no copy, no allocation).
fn fetch_token(c: &Ctx, p: usize, idx: usize, len: usize, tok: &mut (usize, usize)) -> usize {
    *tok = (idx, 0);
    let w = window(c, p, idx, len);
    let mut i = 0;
    loop {
        if idx + i >= len {
            break;
        }
        // Past the captured data: tcpdump gives up on the token.
        let Some(&ch) = w.get(i) else {
            return 0;
        };
        if ch & 0x80 != 0 {
            return 0;
        }
        if ch == b' ' || ch == b'\t' || ch == b'\r' || ch == b'\n' {
            break;
        }
        if !(0x20..=0x7e).contains(&ch) {
            return 0;
        }
        // tcpdump's token buffer holds 128 bytes and its terminator.
        if i + 2 > 129 {
            return 0;
        }
        i += 1;
    }
    if i == 0 {
        return 0;
    }
    tok.1 = i;
    // Skip the spaces after the token, stopping at the end of the captured data. (tcpdump
    // tests "printable" before "blank" here, so a tab ends the skip.)
    while let Some(&ch) = w.get(i) {
        if idx + i >= len || ch != b' ' {
            break;
        }
        i += 1;
    }
    idx + i
}

/// `print_txt_line`: index after the line ending, 0 to stop.
fn txt_line(c: &mut Ctx, prefix: &str, p: usize, idx: usize, len: usize) -> R<usize> {
    let w = window(c, p, idx, len);
    let mut i = 0;
    while idx + i < len {
        // Past the captured data: tcpdump's GET_U_1 longjmps out ([|proto] at the top).
        let ch = *w.get(i).ok_or(Trunc)?;
        if ch == b'\n' {
            c.s(prefix);
            c.out.extend_from_slice(&w[..i]);
            return Ok(idx + i + 1);
        } else if ch == b'\r' {
            if idx + i + 1 >= len {
                return Ok(0);
            }
            if *w.get(i + 1).ok_or(Trunc)? == b'\n' {
                c.s(prefix);
                c.out.extend_from_slice(&w[..i]);
                return Ok(idx + i + 2);
            }
            return Ok(0);
        } else if !(0x20..=0x7e).contains(&ch) && ch != b'\t' {
            return Ok(0);
        }
        i += 1;
    }
    c.s(prefix);
    c.out.extend_from_slice(&w[..i]);
    c.trunc();
    Ok(0)
}

/// `txtproto_print`: `HTTP: GET / HTTP/1.1` (first line), or with `-v` the length and
/// every text line.
pub(crate) fn print(c: &mut Ctx, p: usize, len: u32, cmds: Option<&[&str]>) -> R<()> {
    let len = len as usize;
    let mut print_this = false;
    if let Some(cmds) = cmds {
        let mut tok = (0, 0);
        let idx = fetch_token(c, p, 0, len, &mut tok);
        if idx != 0 {
            let word = &c.d[p + tok.0..p + tok.0 + tok.1];
            if cmds.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(word)) {
                print_this = true;
            }
            // Response code as the second token.
            let idx = fetch_token(c, p, idx, len, &mut tok);
            let word = &c.d[p + tok.0..p + tok.0 + tok.1];
            if idx != 0 && word.len() == 3 && word.iter().all(|b| b.is_ascii_digit()) {
                print_this = true;
            }
        }
    } else {
        print_this = true;
    }
    c.proto_caps();
    if print_this {
        if c.opts.verbose > 0 {
            c.s(", length: ");
            c.num(len as u32);
            let mut idx = 0;
            while idx < len {
                let eol = txt_line(c, "\n\t", p, idx, len)?;
                if eol == 0 {
                    break;
                }
                idx = eol;
            }
        } else {
            txt_line(c, ": ", p, 0, len)?;
        }
    }
    Ok(())
}
