//! MPTCP options (tcpdump's print-mptcp.c): the subtype table and one printer per subtype,
//! each returning false where tcpdump prints `[bad opt]`.

use super::ctx::{Ctx, R};
use tracer_common::tcp_flag::{ACK as TH_ACK, SYN as TH_SYN};

/// One subtype's printer: `(ctx, option offset, option length, TCP flags)`.
type SubPrint = fn(&mut Ctx, usize, usize, u8) -> R<bool>;

/// `mptcp_options[]`, by subtype (the last entry for every subtype above 7).
const SUBTYPES: [(&str, SubPrint); 9] = [
    ("capable", capable),
    ("join", join),
    ("dss", dss),
    ("add-addr", add_addr),
    ("rem-addr", remove_addr),
    ("prio", prio),
    ("fail", fail),
    ("fast-close", fast_close),
    ("unknown", unknown),
];

/// `mptcp_print`: false means `[bad opt]`.
pub(crate) fn print(c: &mut Ctx, opt: usize, len: usize, flags: u8) -> R<bool> {
    c.proto = "mptcp";
    if len < 3 {
        return Ok(false);
    }
    let sub = ((c.u8(opt + 2)? >> 4) & 0xf).min(8);
    let (name, print) = SUBTYPES[sub as usize];
    c.b(b' ');
    c.num(len as u32);
    c.b(b' ');
    c.s(name);
    print(c, opt, len, flags)
}

fn unknown(_c: &mut Ctx, _opt: usize, _len: usize, _flags: u8) -> R<bool> {
    Ok(true)
}

/// `label` and the 64-bit number at `at` in hex (keys, HMACs).
fn hex64(c: &mut Ctx, label: &str, at: usize) -> R<()> {
    c.s(label);
    let v = c.be64(at)?;
    c.hex(v, 1);
    Ok(())
}

/// `mp_capable_print`.
fn capable(c: &mut Ctx, opt: usize, len: usize, flags: u8) -> R<bool> {
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

/// `mp_join_print`.
fn join(c: &mut Ctx, opt: usize, len: usize, flags: u8) -> R<bool> {
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
            hex64(c, " hmac 0x", opt + 4)?;
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

/// One DSS number at `p` (8 bytes when `wide`, else 4), if the `l` bytes left hold it.
fn dss_number(c: &mut Ctx, p: &mut usize, l: &mut usize, wide: bool) -> R<bool> {
    let n = if wide { 8 } else { 4 };
    if *l < n {
        return Ok(false);
    }
    if wide {
        let v = c.be64(*p)?;
        c.num(v);
    } else {
        let v = c.be32(*p)?;
        c.num(v);
    }
    *p += n;
    *l -= n;
    Ok(true)
}

/// `mp_dss_print`.
fn dss(c: &mut Ctx, opt: usize, len: usize, flags: u8) -> R<bool> {
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
        if !dss_number(c, &mut p, &mut l, f & 0x02 != 0)? {
            return Ok(false);
        }
    }
    if f & 0x04 != 0 {
        c.s(" seq ");
        if !dss_number(c, &mut p, &mut l, f & 0x08 != 0)? {
            return Ok(false);
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

/// `add_addr_print`.
fn add_addr(c: &mut Ctx, opt: usize, len: usize, _flags: u8) -> R<bool> {
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
    // The IPv4 forms: 8 (address), 10 (+ port), 16 (+ HMAC), 18 (+ port + HMAC); the IPv6
    // ones are 12 bytes longer.
    let v4 = [8, 10, 16, 18].contains(&len);
    let form = if v4 { len } else { len - 12 };
    c.b(b' ');
    let mut at = opt + 4;
    if v4 {
        c.ipaddr(at)?;
        at += 4;
    } else {
        c.ip6addr(at)?;
        at += 16;
    }
    if form == 10 || form == 18 {
        c.b(b':');
        let p = c.be16(at)?;
        c.num(p);
        at += 2;
    }
    if form >= 16 {
        hex64(c, " hmac 0x", at)?;
    }
    Ok(true)
}

/// `remove_addr_print`.
fn remove_addr(c: &mut Ctx, opt: usize, len: usize, _flags: u8) -> R<bool> {
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

/// `mp_prio_print`.
fn prio(c: &mut Ctx, opt: usize, len: usize, _flags: u8) -> R<bool> {
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

/// `mp_fail_print`.
fn fail(c: &mut Ctx, opt: usize, len: usize, _flags: u8) -> R<bool> {
    if len != 12 {
        return Ok(false);
    }
    c.s(" seq ");
    let v = c.be64(opt + 4)?;
    c.num(v);
    Ok(true)
}

/// `mp_fast_close_print`.
fn fast_close(c: &mut Ctx, opt: usize, len: usize, _flags: u8) -> R<bool> {
    if len != 12 {
        return Ok(false);
    }
    hex64(c, " key 0x", opt + 4)?;
    Ok(true)
}
