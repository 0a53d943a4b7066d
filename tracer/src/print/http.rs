//! Payload decoders tcp_print hands segments to by port. Ported: the text protocols
//! (HTTP 80/8080, RTSP 554/8554, FTP 21, SMTP 25, WHOIS 43 via tcpdump's
//! `txtproto_print`) and the SSH version banner (22). tcpdump also decodes telnet,
//! BGP, PPTP, RESP/redis, BEEP, OpenFlow, DNS, MSDP, RPKI-RTR, LDP and NFS by port; those
//! decoders are not ported, so for those ports only the TCP summary is printed (and the
//! first matching port still takes precedence, as in tcpdump, so e.g. 22 <-> 80 is SSH).

use super::ctx::{Ctx, R};

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

/// `fetch_token`: index after the token and following blanks, 0 if none; token in `tok`.
fn fetch_token(c: &Ctx, p: usize, idx: usize, len: usize, tok: &mut Vec<u8>) -> usize {
    tok.clear();
    let mut idx = idx;
    while idx < len {
        if !c.ttest(p + idx, 1) {
            return 0;
        }
        let ch = c.d[p + idx];
        if ch & 0x80 != 0 {
            return 0;
        }
        if ch == b' ' || ch == b'\t' || ch == b'\r' || ch == b'\n' {
            break;
        }
        if !(0x20..=0x7e).contains(&ch) {
            return 0;
        }
        if tok.len() + 2 > 129 {
            return 0;
        }
        tok.push(ch);
        idx += 1;
    }
    if tok.is_empty() {
        return 0;
    }
    while idx < len {
        if !c.ttest(p + idx, 1) {
            break;
        }
        let ch = c.d[p + idx];
        if ch == b'\r' || ch == b'\n' {
            break;
        }
        if !(0x20..=0x7e).contains(&ch) {
            break;
        }
        if ch != b' ' && ch != b'\t' {
            break;
        }
        idx += 1;
    }
    idx
}

/// `print_txt_line`: index after the line ending, 0 to stop.
fn txt_line(c: &mut Ctx, prefix: &str, p: usize, idx: usize, len: usize) -> R<usize> {
    let start = idx;
    let mut idx = idx;
    while idx < len {
        let ch = c.u8(p + idx)?;
        if ch == b'\n' {
            let l = idx - start;
            c.s(prefix);
            let d = c.d;
            c.out.extend_from_slice(&d[p + start..p + start + l]);
            return Ok(idx + 1);
        } else if ch == b'\r' {
            if idx + 1 >= len {
                return Ok(0);
            }
            if c.u8(p + idx + 1)? == b'\n' {
                let l = idx - start;
                c.s(prefix);
                let d = c.d;
                c.out.extend_from_slice(&d[p + start..p + start + l]);
                return Ok(idx + 2);
            }
            return Ok(0);
        } else if !(0x20..=0x7e).contains(&ch) && ch != b'\t' {
            return Ok(0);
        }
        idx += 1;
    }
    c.s(prefix);
    let d = c.d;
    c.out.extend_from_slice(&d[p + start..p + idx]);
    c.trunc();
    Ok(0)
}

/// `txtproto_print`: `HTTP: GET / HTTP/1.1` (first line), or with `-v` the length and
/// every text line.
fn txtproto(c: &mut Ctx, p: usize, len: u32, cmds: Option<&[&str]>) -> R<()> {
    let len = len as usize;
    let mut print_this = false;
    if let Some(cmds) = cmds {
        let mut tok = Vec::new();
        let idx = fetch_token(c, p, 0, len, &mut tok);
        if idx != 0 {
            if cmds.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(&tok)) {
                print_this = true;
            }
            // Response code as the second token.
            let idx = fetch_token(c, p, idx, len, &mut tok);
            if idx != 0 && tok.len() == 3 && tok.iter().all(|b| b.is_ascii_digit()) {
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
