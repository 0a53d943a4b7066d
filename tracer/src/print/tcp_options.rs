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

/// Where one option's data is, for its printer: the data's offset, the option's length
/// byte, and the header bytes left after the kind and length bytes.
struct At {
    cp: usize,
    len: usize,
    hlen: usize,
}

impl At {
    /// tcp_print's `LENCHECK(l)`: the option's first `l` data bytes lie inside the header
    /// (else `[bad opt]`) and were captured (else truncation).
    fn check(&self, c: &Ctx, l: usize) -> Result<(), Stop> {
        if l > self.hlen {
            return Err(Stop::Bad);
        }
        if !c.ttest(self.cp, l) {
            return Err(Stop::Trunc);
        }
        Ok(())
    }
}

/// What one option's printer returns: the data bytes it took, or how the loop stops.
type Taken = R<Result<usize, Stop>>;

/// One option kind's printer.
type KindPrint = fn(&mut Ctx, &At, &Opts) -> Taken;

/// `LENCHECK` inside a kind's printer: stop the loop as tcpdump's goto does.
macro_rules! lencheck {
    ($c:expr, $at:expr, $l:expr) => {
        if let Err(stop) = $at.check($c, $l) {
            return Ok(Err(stop));
        }
    };
}

/// The printer of each option kind tcp_print knows (the others print their bytes).
fn printer_of(opt: u8) -> KindPrint {
    match opt {
        0 | 1 | 4 => no_data,
        2 => mss,
        3 => wscale,
        5 => sack,
        6 | 7 | 11 | 12 | 13 => number32,
        8 => timestamp,
        19 => md5,
        20 => scps,
        28 => uto,
        29 => tcp_ao,
        30 => mptcp_option,
        34 => tfo,
        254 => experimental,
        _ => unknown,
    }
}

/// eol, nop, sackOK: nothing after the kind.
fn no_data(_c: &mut Ctx, _at: &At, _o: &Opts) -> Taken {
    Ok(Ok(0))
}

fn mss(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    lencheck!(c, at, 2);
    c.b(b' ');
    let v = c.be16(at.cp)?;
    c.num(v);
    Ok(Ok(2))
}

fn wscale(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    lencheck!(c, at, 1);
    c.b(b' ');
    let v = c.u8(at.cp)?;
    c.num(v);
    Ok(Ok(1))
}

/// SACK blocks, relative to the sequence numbers of the other direction (unless `-S`).
fn sack(c: &mut Ctx, at: &At, o: &Opts) -> Taken {
    let datalen = at.len - 2;
    if !datalen.is_multiple_of(8) {
        c.s(" invalid sack");
        return Ok(Ok(datalen));
    }
    c.b(b' ');
    c.num((datalen / 8) as u32);
    c.b(b' ');
    let mut i = 0;
    while i < datalen {
        lencheck!(c, at, i + 4);
        let mut s = c.be32(at.cp + i)?;
        lencheck!(c, at, i + 8);
        let mut e = c.be32(at.cp + i + 4)?;
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
    Ok(Ok(datalen))
}

/// echo, echoreply, cc, ccnew, ccecho: one 32-bit number.
fn number32(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    lencheck!(c, at, 4);
    c.b(b' ');
    let v = c.be32(at.cp)?;
    c.num(v);
    Ok(Ok(4))
}

fn timestamp(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    lencheck!(c, at, 8);
    c.s(" val ");
    let v = c.be32(at.cp)?;
    c.num(v);
    c.s(" ecr ");
    let v = c.be32(at.cp + 4)?;
    c.num(v);
    Ok(Ok(8))
}

fn md5(c: &mut Ctx, at: &At, o: &Opts) -> Taken {
    lencheck!(c, at, 16);
    c.b(b' ');
    // tcpdump (built with libcrypto) tries to verify the signature and, with no -M
    // secret, says why it cannot.
    let data = o.tp + ((c.u8(o.tp + 12)? >> 4) as usize) * 4;
    if data + o.payload_len as usize > c.snapend {
        c.s("snaplen too short, ");
    } else {
        c.s("shared secret not supplied with -M, ");
    }
    c.s("can't check - ");
    for i in 0..16 {
        let b = c.u8(at.cp + i)?;
        c.hex(b, 2);
    }
    Ok(Ok(16))
}

fn scps(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    lencheck!(c, at, 2);
    c.s(" cap ");
    let a = c.u8(at.cp)?;
    c.hex(a, 2);
    c.s(" id ");
    let b = c.u8(at.cp + 1)?;
    c.num(b);
    Ok(Ok(2))
}

fn tcp_ao(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    let datalen = at.len - 2;
    if datalen < 2 {
        c.invalid();
        return Ok(Ok(datalen));
    }
    lencheck!(c, at, 1);
    c.s(" keyid ");
    let v = c.u8(at.cp)?;
    c.num(v);
    lencheck!(c, at, 2);
    c.s(" rnextkeyid ");
    let v = c.u8(at.cp + 1)?;
    c.num(v);
    if datalen > 2 {
        c.s(" mac 0x");
        for i in 2..datalen {
            lencheck!(c, at, i + 1);
            let v = c.u8(at.cp + i)?;
            c.hex(v, 2);
        }
    }
    Ok(Ok(datalen))
}

/// User timeout: minutes when the low bit is set, else seconds.
fn uto(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    lencheck!(c, at, 2);
    let mut v = c.be16(at.cp)? as u32;
    c.s(" 0x");
    c.hex(v, 1);
    if v & 1 != 0 {
        v = (v >> 1) * 60;
    } else {
        v >>= 1;
    }
    c.b(b' ');
    c.num(v);
    Ok(Ok(2))
}

/// MPTCP, printed within the option's bytes.
fn mptcp_option(c: &mut Ctx, at: &At, o: &Opts) -> Taken {
    let datalen = at.len - 2;
    lencheck!(c, at, datalen);
    let saved = c.snapend;
    let end = (at.cp - 2 + at.len).min(c.snapend);
    c.snapend = end;
    let r = mptcp::print(c, at.cp - 2, at.len, o.flags);
    c.snapend = saved;
    if !r? {
        return Ok(Err(Stop::Bad));
    }
    Ok(Ok(datalen))
}

fn tfo(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    let datalen = at.len - 2;
    lencheck!(c, at, datalen);
    c.b(b' ');
    fastopen(c, at.cp, datalen, false)?;
    Ok(Ok(datalen))
}

/// The experimental kind: TFO under its magic number, else the magic in hex.
fn experimental(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    let datalen = at.len - 2;
    lencheck!(c, at, datalen);
    if datalen < 2 {
        return Ok(Err(Stop::Bad));
    }
    let magic = c.be16(at.cp)?;
    c.b(b'-');
    if magic == 0xf989 {
        fastopen(c, at.cp + 2, datalen - 2, true)?;
    } else {
        c.hex(magic, 4);
    }
    Ok(Ok(datalen))
}

fn unknown(c: &mut Ctx, at: &At, _o: &Opts) -> Taken {
    let datalen = at.len - 2;
    if datalen > 0 {
        c.s(" 0x");
    }
    for i in 0..datalen {
        lencheck!(c, at, i + 1);
        let v = c.u8(at.cp + i)?;
        c.hex(v, 2);
    }
    Ok(Ok(datalen))
}

/// tcp_print's option loop: each option's kind, its printer, and `[len N]` where the bytes
/// taken differ from its length byte.
fn options(c: &mut Ctx, start: usize, hlen: usize, o: &Opts, ch: &mut bool) -> R<Option<Stop>> {
    let mut hlen = hlen;
    let mut cp = start;
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
        match name(opt) {
            Some(n) => c.s(n),
            None => {
                c.s("unknown-");
                c.num(opt);
            }
        }
        let at = At { cp, len, hlen };
        let mut datalen = match printer_of(opt)(c, &at, o)? {
            Ok(n) => n,
            Err(stop) => return Ok(Some(stop)),
        };
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
