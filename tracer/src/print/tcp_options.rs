//! TCP options exactly as tcp_print's option loop prints them, MPTCP included
//! (print-mptcp.c), with tcpdump's `[len N]`, `[bad opt]` and truncation quirks.

use super::ctx::{Ctx, R};
use super::mptcp;

/// Context the option printer needs from the TCP header.
pub(crate) struct Opts {
    pub flags: u8,
    pub rev: bool,
    pub thseq: u32,
    pub thack: u32,
    /// TCP payload length (for the md5 signature's capture check).
    pub payload_len: u32,
    /// TCP header offset.
    pub tp: usize,
}

fn name(opt: u8) -> Option<&'static str> {
    Some(match opt {
        0 => "eol",
        1 => "nop",
        2 => "mss",
        3 => "wscale",
        4 => "sackOK",
        5 => "sack",
        6 => "echo",
        7 => "echoreply",
        8 => "TS",
        11 => "cc",
        12 => "ccnew",
        13 => "",
        19 => "md5",
        20 => "scps",
        28 => "uto",
        29 => "tcp-ao",
        30 => "mptcp",
        34 => "tfo",
        254 => "exp",
        _ => return None,
    })
}

/// How the option loop ended early.
enum Stop {
    Bad,
    Trunc,
}

/// Prints `, options [...]`. Ok(true): go on with `, length`; Ok(false): tcp_print
/// returned (after `[bad opt]` or a truncation marker).
pub(crate) fn print(c: &mut Ctx, start: usize, hlen: usize, o: &Opts) -> R<bool> {
    c.s(", options [");
    let mut ch = false;
    let r = options(c, start, hlen, o, &mut ch)?;
    match r {
        None => {
            c.b(b']');
            Ok(true)
        }
        Some(Stop::Bad) => {
            c.s("[bad opt]");
            if ch {
                c.b(b']');
            }
            Ok(false)
        }
        Some(Stop::Trunc) => {
            c.trunc();
            if ch {
                c.b(b'>');
            }
            Ok(false)
        }
    }
}

fn fastopen(c: &mut Ctx, cp: usize, datalen: usize, exp: bool) -> R<()> {
    if exp {
        c.s("tfo");
    }
    if datalen == 0 {
        c.s(" cookiereq");
    } else if !datalen.is_multiple_of(2) || !(4..=16).contains(&datalen) {
        c.invalid();
    } else {
        c.s(" cookie ");
        for i in 0..datalen {
            let b = c.u8(cp + i)?;
            c.hex(b, 2);
        }
    }
    Ok(())
}

fn options(c: &mut Ctx, start: usize, hlen: usize, o: &Opts, ch: &mut bool) -> R<Option<Stop>> {
    let mut hlen = hlen;
    let mut cp = start;
    macro_rules! lencheck {
        ($l:expr) => {{
            let l: usize = $l;
            if l > hlen {
                return Ok(Some(Stop::Bad));
            }
            if !c.ttest(cp, l) {
                return Ok(Some(Stop::Trunc));
            }
        }};
    }
    while hlen > 0 {
        if *ch {
            c.b(b',');
        }
        let opt = c.u8(cp)?;
        cp += 1;
        let len: usize;
        if opt == 0 || opt == 1 {
            len = 1;
        } else {
            len = c.u8(cp)? as usize;
            cp += 1;
            if len < 2 || len > hlen {
                return Ok(Some(Stop::Bad));
            }
            hlen -= 1;
        }
        hlen -= 1;
        let mut datalen: usize = 0;
        match name(opt) {
            Some(n) => c.s(n),
            None => {
                c.s("unknown-");
                c.num(opt);
            }
        }
        match opt {
            2 => {
                datalen = 2;
                lencheck!(datalen);
                c.b(b' ');
                let v = c.be16(cp)?;
                c.num(v);
            }
            3 => {
                datalen = 1;
                lencheck!(datalen);
                c.b(b' ');
                let v = c.u8(cp)?;
                c.num(v);
            }
            5 => {
                datalen = len - 2;
                if !datalen.is_multiple_of(8) {
                    c.s(" invalid sack");
                } else {
                    c.b(b' ');
                    c.num((datalen / 8) as u32);
                    c.b(b' ');
                    let mut i = 0;
                    while i < datalen {
                        lencheck!(i + 4);
                        let mut s = c.be32(cp + i)?;
                        lencheck!(i + 8);
                        let mut e = c.be32(cp + i + 4)?;
                        if o.rev {
                            s = s.wrapping_sub(o.thseq);
                            e = e.wrapping_sub(o.thseq);
                        } else {
                            s = s.wrapping_sub(o.thack);
                            e = e.wrapping_sub(o.thack);
                        }
                        c.b(b'{');
                        c.num(s);
                        c.b(b':');
                        c.num(e);
                        c.b(b'}');
                        i += 8;
                    }
                }
            }
            11 | 12 | 13 | 6 | 7 => {
                datalen = 4;
                lencheck!(datalen);
                c.b(b' ');
                let v = c.be32(cp)?;
                c.num(v);
            }
            8 => {
                datalen = 8;
                lencheck!(datalen);
                c.s(" val ");
                let v = c.be32(cp)?;
                c.num(v);
                c.s(" ecr ");
                let v = c.be32(cp + 4)?;
                c.num(v);
            }
            19 => {
                datalen = 16;
                lencheck!(datalen);
                c.b(b' ');
                // tcpdump (built with libcrypto) tries to verify the signature and, with
                // no -M secret, says why it cannot.
                let data = o.tp + ((c.u8(o.tp + 12)? >> 4) as usize) * 4;
                if data + o.payload_len as usize > c.snapend {
                    c.s("snaplen too short, ");
                } else {
                    c.s("shared secret not supplied with -M, ");
                }
                c.s("can't check - ");
                for i in 0..16 {
                    let b = c.u8(cp + i)?;
                    c.hex(b, 2);
                }
            }
            20 => {
                datalen = 2;
                lencheck!(datalen);
                c.s(" cap ");
                let a = c.u8(cp)?;
                c.hex(a, 2);
                c.s(" id ");
                let b = c.u8(cp + 1)?;
                c.num(b);
            }
            29 => {
                datalen = len - 2;
                if datalen < 2 {
                    c.invalid();
                } else {
                    lencheck!(1);
                    c.s(" keyid ");
                    let v = c.u8(cp)?;
                    c.num(v);
                    lencheck!(2);
                    c.s(" rnextkeyid ");
                    let v = c.u8(cp + 1)?;
                    c.num(v);
                    if datalen > 2 {
                        c.s(" mac 0x");
                        for i in 2..datalen {
                            lencheck!(i + 1);
                            let v = c.u8(cp + i)?;
                            c.hex(v, 2);
                        }
                    }
                }
            }
            0 | 1 | 4 => {}
            28 => {
                datalen = 2;
                lencheck!(datalen);
                let mut v = c.be16(cp)? as u32;
                c.s(" 0x");
                c.hex(v, 1);
                if v & 1 != 0 {
                    v = (v >> 1) * 60;
                } else {
                    v >>= 1;
                }
                c.b(b' ');
                c.num(v);
            }
            30 => {
                datalen = len - 2;
                lencheck!(datalen);
                let saved = c.snapend;
                let end = (cp - 2 + len).min(c.snapend);
                c.snapend = end;
                let r = mptcp::print(c, cp - 2, len, o.flags);
                c.snapend = saved;
                if !r? {
                    return Ok(Some(Stop::Bad));
                }
            }
            34 => {
                datalen = len - 2;
                lencheck!(datalen);
                c.b(b' ');
                fastopen(c, cp, datalen, false)?;
            }
            254 => {
                datalen = len - 2;
                lencheck!(datalen);
                if datalen < 2 {
                    return Ok(Some(Stop::Bad));
                }
                let magic = c.be16(cp)?;
                c.b(b'-');
                if magic == 0xf989 {
                    fastopen(c, cp + 2, datalen - 2, true)?;
                } else {
                    c.hex(magic, 4);
                }
            }
            _ => {
                datalen = len - 2;
                if datalen > 0 {
                    c.s(" 0x");
                }
                for i in 0..datalen {
                    lencheck!(i + 1);
                    let v = c.u8(cp + i)?;
                    c.hex(v, 2);
                }
            }
        }
        cp += datalen;
        hlen -= datalen;
        datalen += 1;
        if opt != 0 && opt != 1 {
            datalen += 1;
        }
        if datalen != len {
            c.s("[len ");
            c.num(len as u32);
            c.b(b']');
        }
        *ch = true;
        if opt == 0 {
            break;
        }
    }
    Ok(None)
}
