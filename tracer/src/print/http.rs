//! Payload decoders tcp_print hands segments to by port. Ported: the text protocols
//! (HTTP 80/8080, RTSP 554/8554, FTP 21, SMTP 25, WHOIS 43 via tcpdump's
//! `txtproto_print`) and the SSH version banner (22). tcpdump also decodes telnet,
//! BGP, PPTP, RESP/redis, BEEP, OpenFlow, DNS, MSDP, RPKI-RTR, LDP and NFS by port; those
//! decoders are not ported, so for those ports only the TCP summary is printed (and the
//! first matching port still takes precedence, as in tcpdump, so e.g. 22 <-> 80 is SSH).

use super::ctx::{Ctx, Trunc, R};

const HTTP_CMDS: &[&str] = &[
    "GET",
    "PUT",
    "COPY",
    "HEAD",
    "LOCK",
    "MOVE",
    "POLL",
    "POST",
    "BCOPY",
    "BMOVE",
    "MKCOL",
    "TRACE",
    "LABEL",
    "MERGE",
    "DELETE",
    "SEARCH",
    "UNLOCK",
    "REPORT",
    "UPDATE",
    "NOTIFY",
    "BDELETE",
    "CONNECT",
    "OPTIONS",
    "CHECKIN",
    "PROPFIND",
    "CHECKOUT",
    "CCM_POST",
    "SUBSCRIBE",
    "PROPPATCH",
    "BPROPFIND",
    "BPROPPATCH",
    "UNCHECKOUT",
    "MKACTIVITY",
    "MKWORKSPACE",
    "UNSUBSCRIBE",
    "RPC_CONNECT",
    "VERSION-CONTROL",
    "BASELINE-CONTROL",
];

const RTSP_CMDS: &[&str] = &[
    "DESCRIBE",
    "ANNOUNCE",
    "GET_PARAMETER",
    "OPTIONS",
    "PAUSE",
    "PLAY",
    "RECORD",
    "REDIRECT",
    "SETUP",
    "SET_PARAMETER",
    "TEARDOWN",
];

/// The port switch at the end of tcp_print.
pub(crate) fn dispatch(c: &mut Ctx, bp: usize, len: u32, sport: u16, dport: u16) -> R<()> {
    let is = |p: u16| sport == p || dport == p;
    // Order matters: tcpdump takes the first port that matches.
    if is(23) {
        return Ok(()); // telnet: not ported
    }
    if is(25) {
        c.s(": ");
        c.proto = "smtp";
        return txtproto(c, bp, len, None);
    }
    if is(43) {
        c.s(": ");
        c.proto = "whois";
        return txtproto(c, bp, len, None);
    }
    if is(179) || is(1723) || is(6379) {
        return Ok(()); // bgp, pptp, resp: not ported
    }
    if is(22) {
        c.proto = "ssh";
        return ssh(c, bp, len);
    }
    if is(10288) || is(6633) || is(6653) {
        return Ok(()); // beep, openflow: not ported
    }
    if is(21) {
        c.s(": ");
        c.proto = "ftp";
        return txtproto(c, bp, len, None);
    }
    if is(80) || is(8080) {
        c.s(": ");
        c.proto = "http";
        return txtproto(c, bp, len, Some(HTTP_CMDS));
    }
    if is(554) || is(8554) {
        c.s(": ");
        c.proto = "rtsp";
        return txtproto(c, bp, len, Some(RTSP_CMDS));
    }
    // 53 domain, 639 msdp, 323 rpki-rtr, 646 ldp, 2049 nfs: not ported.
    Ok(())
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
fn txtproto(c: &mut Ctx, p: usize, len: u32, cmds: Option<&[&str]>) -> R<()> {
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

/// `ssh_print`: the `SSH-...` version line, if that is what the segment starts with.
fn ssh(c: &mut Ctx, p: usize, len: u32) -> R<()> {
    let len = len as usize;
    for (i, want) in b"SSH-".iter().enumerate() {
        if c.u8(p + i)? != *want {
            return Ok(());
        }
    }
    let mut idx = 4;
    while idx < len {
        let ch = c.u8(p + idx)?;
        if ch == b'\n' {
            break;
        } else if ch == b'\r' {
            if idx + 1 >= len {
                return Ok(());
            }
            if c.u8(p + idx + 1)? == b'\n' {
                break;
            }
            return Ok(());
        } else if !(0x20..=0x7e).contains(&ch) {
            return Ok(());
        }
        idx += 1;
    }
    if idx >= len {
        return Ok(());
    }
    c.s(": ");
    c.proto_caps();
    c.s(": ");
    let d = c.d;
    c.out.extend_from_slice(&d[p..p + idx]);
    Ok(())
}
