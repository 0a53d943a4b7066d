//! TCP options exactly as tcp_print's option loop prints them, MPTCP included
//! (print-mptcp.c), with tcpdump's `[len N]`, `[bad opt]` and truncation quirks.

use super::ctx::{Ctx, R};
use tracer_common::tcp_flag::{ACK as TH_ACK, SYN as TH_SYN};

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
                let r = mptcp(c, cp - 2, len, o.flags);
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

/// `mptcp_print`: false means `[bad opt]`.
fn mptcp(c: &mut Ctx, opt: usize, len: usize, flags: u8) -> R<bool> {
    c.proto = "mptcp";
    if len < 3 {
        return Ok(false);
    }
    let sub = ((c.u8(opt + 2)? >> 4) & 0xf).min(8);
    c.b(b' ');
    c.num(len as u32);
    c.b(b' ');
    c.s([
        "capable",
        "join",
        "dss",
        "add-addr",
        "rem-addr",
        "prio",
        "fail",
        "fast-close",
        "unknown",
    ][sub as usize]);
    match sub {
        0 => {
            if !((len == 12 || len == 4) && flags & TH_SYN != 0)
                && !((len == 20 || len == 22) && flags & (TH_SYN | TH_ACK) == TH_ACK)
            {
                return Ok(false);
            }
            let version = c.u8(opt + 2)? & 0xf;
            if version <= 1 {
                c.s(" v");
                c.num(version);
            } else {
                c.s(" Unknown Version (");
                c.num(version);
                c.b(b')');
                return Ok(true);
            }
            if c.u8(opt + 3)? & 0x80 != 0 {
                c.s(" csum");
            }
            if len == 12 || len >= 20 {
                c.s(" {0x");
                let k = c.be64(opt + 4)?;
                c.hex(k, 1);
                if len >= 20 {
                    c.s(",0x");
                    let k = c.be64(opt + 12)?;
                    c.hex(k, 1);
                }
                c.b(b'}');
            }
            Ok(true)
        }
        1 => {
            if !((len == 12 && flags & TH_SYN != 0)
                || (len == 16 && flags & (TH_SYN | TH_ACK) == (TH_SYN | TH_ACK))
                || (len == 24 && flags & TH_ACK != 0))
            {
                return Ok(false);
            }
            if len != 24 {
                if c.u8(opt + 2)? & 1 != 0 {
                    c.s(" backup");
                }
                c.s(" id ");
                let id = c.u8(opt + 3)?;
                c.num(id);
            }
            match len {
                12 => {
                    c.s(" token 0x");
                    let t = c.be32(opt + 4)?;
                    c.hex(t, 1);
                    c.s(" nonce 0x");
                    let n = c.be32(opt + 8)?;
                    c.hex(n, 1);
                }
                16 => {
                    c.s(" hmac 0x");
                    let m = c.be64(opt + 4)?;
                    c.hex(m, 1);
                    c.s(" nonce 0x");
                    let n = c.be32(opt + 12)?;
                    c.hex(n, 1);
                }
                24 => {
                    c.s(" hmac 0x");
                    for i in 0..20 {
                        let b = c.d[opt + 4 + i];
                        c.hex(b, 2);
                    }
                }
                _ => {}
            }
            Ok(true)
        }
        2 => {
            if len < 4 || flags & TH_SYN != 0 {
                return Ok(false);
            }
            let f = c.u8(opt + 3)?;
            if f & 0x10 != 0 {
                c.s(" fin");
            }
            let mut p = opt + 4;
            let mut l = len - 4;
            if f & 0x01 != 0 {
                c.s(" ack ");
                if f & 0x02 != 0 {
                    if l < 8 {
                        return Ok(false);
                    }
                    let v = c.be64(p)?;
                    c.num(v);
                    p += 8;
                    l -= 8;
                } else {
                    if l < 4 {
                        return Ok(false);
                    }
                    let v = c.be32(p)?;
                    c.num(v);
                    p += 4;
                    l -= 4;
                }
            }
            if f & 0x04 != 0 {
                c.s(" seq ");
                if f & 0x08 != 0 {
                    if l < 8 {
                        return Ok(false);
                    }
                    let v = c.be64(p)?;
                    c.num(v);
                    p += 8;
                    l -= 8;
                } else {
                    if l < 4 {
                        return Ok(false);
                    }
                    let v = c.be32(p)?;
                    c.num(v);
                    p += 4;
                    l -= 4;
                }
                if l < 4 {
                    return Ok(false);
                }
                c.s(" subseq ");
                let v = c.be32(p)?;
                c.num(v);
                p += 4;
                l -= 4;
                if l < 2 {
                    return Ok(false);
                }
                c.s(" len ");
                let v = c.be16(p)?;
                c.num(v);
                p += 2;
                l -= 2;
                if l >= 2 {
                    c.s(" csum 0x");
                    let v = c.be16(p)?;
                    c.hex(v, 1);
                    l -= 2;
                }
            }
            Ok(l == 0)
        }
        3 => {
            if ![8, 10, 16, 18, 20, 22, 28, 30].contains(&len) {
                return Ok(false);
            }
            c.b(b' ');
            let se = c.u8(opt + 2)? & 0xf;
            c.s(match se {
                6 => "v0-ip6",
                4 => "v0-ip4",
                1 => "v1-echo",
                0 => "v1",
                _ => "[bad version/echo]",
            });
            c.s(" id ");
            let id = c.u8(opt + 3)?;
            c.num(id);
            if [8, 10, 16, 18].contains(&len) {
                c.b(b' ');
                c.ipaddr(opt + 4)?;
                if len == 10 || len == 18 {
                    c.b(b':');
                    let p = c.be16(opt + 8)?;
                    c.num(p);
                }
                if len == 16 {
                    c.s(" hmac 0x");
                    let m = c.be64(opt + 8)?;
                    c.hex(m, 1);
                }
                if len == 18 {
                    c.s(" hmac 0x");
                    let m = c.be64(opt + 10)?;
                    c.hex(m, 1);
                }
            } else {
                c.b(b' ');
                c.ip6addr(opt + 4)?;
                if len == 22 || len == 30 {
                    c.b(b':');
                    let p = c.be16(opt + 20)?;
                    c.num(p);
                }
                if len == 28 {
                    c.s(" hmac 0x");
                    let m = c.be64(opt + 20)?;
                    c.hex(m, 1);
                }
                if len == 30 {
                    c.s(" hmac 0x");
                    let m = c.be64(opt + 22)?;
                    c.hex(m, 1);
                }
            }
            Ok(true)
        }
        4 => {
            if len < 4 {
                return Ok(false);
            }
            c.s(" id");
            for i in 0..len - 3 {
                c.b(b' ');
                let v = c.u8(opt + 3 + i)?;
                c.num(v);
            }
            Ok(true)
        }
        5 => {
            if len != 3 && len != 4 {
                return Ok(false);
            }
            if c.u8(opt + 2)? & 1 != 0 {
                c.s(" backup");
            } else {
                c.s(" non-backup");
            }
            if len == 4 {
                c.s(" id ");
                let v = c.u8(opt + 3)?;
                c.num(v);
            }
            Ok(true)
        }
        6 => {
            if len != 12 {
                return Ok(false);
            }
            c.s(" seq ");
            let v = c.be64(opt + 4)?;
            c.num(v);
            Ok(true)
        }
        7 => {
            if len != 12 {
                return Ok(false);
            }
            c.s(" key 0x");
            let v = c.be64(opt + 4)?;
            c.hex(v, 1);
            Ok(true)
        }
        _ => Ok(true),
    }
}
