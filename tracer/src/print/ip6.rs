//! IPv6 (tcpdump's print-ip6.c, print-ip6opts.c, print-frag6.c, print-rt6.c): the `-v`
//! header part, the extension header chain (hop-by-hop, destination options, routing,
//! fragment), and the hand-off to TCP.

use super::ctx::{Ctx, R};
use super::ip::{demux, ipproto_name};
use super::tcp::IpRef;
use crate::checksum;

/// `nextproto6_cksum`: pseudo-header (with the routing header's final destination) plus
/// `len` captured bytes at `at`.
pub(crate) fn pseudo_cksum(c: &Ctx, ip6: usize, at: usize, len: usize, proto: u8) -> R<u16> {
    let src = c.bytes(ip6 + 8, 16)?;
    let nh = c.u8(ip6 + 6)?;
    let dst = match nh {
        0 | 60 | 62 | 135 | 44 | 43 => finddst(c, ip6)?,
        _ => c.bytes(ip6 + 24, 16)?,
    };
    let sum = checksum::pseudo_header(src, dst, proto, len as u32);
    Ok(checksum::finish(checksum::add(sum, &c.d[at..at + len])))
}

/// `ip6_finddst`: the last address of a type 0/2/4 routing header, else the destination.
fn finddst<'p>(c: &Ctx<'p, '_>, ip6: usize) -> R<&'p [u8]> {
    let mut dst = ip6 + 24;
    let mut cp = ip6;
    let mut advance = 40;
    let mut nh = c.u8(ip6 + 6)?;
    while cp < c.snapend {
        cp += advance;
        match nh {
            0 | 60 | 62 | 135 => {
                advance = ((c.u8(cp + 1)? as usize) + 1) << 3;
                nh = c.u8(cp)?;
            }
            44 => {
                advance = 8;
                nh = c.u8(cp)?;
            }
            43 => {
                if !c.ttest(cp, 4) {
                    break;
                }
                let len = c.u8(cp + 1)? as usize;
                match c.u8(cp + 2)? {
                    0 | 2 => {
                        if len % 2 == 1 {
                            break;
                        }
                        let mut p = cp + 8;
                        let mut ok = true;
                        for _ in 0..len / 2 {
                            if !c.ttest(p, 16) {
                                ok = false;
                                break;
                            }
                            dst = p;
                            p += 16;
                        }
                        if !ok {
                            break;
                        }
                    }
                    4 => {
                        if len % 2 == 1 {
                            break;
                        }
                        if !c.ttest(cp + 8, 16) {
                            break;
                        }
                        dst = cp + 8;
                    }
                    _ => {}
                }
                break;
            }
            _ => break,
        }
    }
    c.bytes(dst, 16)
}

/// `ip6_sopt_print`: home-address sub-options.
fn sopt_print(c: &mut Ctx, bp: usize, len: usize) -> R<bool> {
    let mut i = 0;
    while i < len {
        let t = c.u8(bp + i)?;
        let optlen = if t == 0 {
            1
        } else if i + 1 < len {
            c.u8(bp + i + 1)? as usize + 2
        } else {
            return Ok(false);
        };
        if i + optlen > len {
            return Ok(false);
        }
        match t {
            0 => c.s(", pad1"),
            1 => {
                if len - i < 2 {
                    c.s(", padn: trunc");
                    return Ok(false);
                }
                c.s(", padn");
            }
            _ => {
                if len - i < 2 {
                    c.s(", sopt_type ");
                    c.num(t);
                    c.s(": trunc)");
                    return Ok(false);
                }
                c.s(", sopt_type 0x");
                c.hex(t, 2);
                c.s(": len=");
                let l = c.u8(bp + i + 1)?;
                c.num(l);
            }
        }
        i += optlen;
    }
    Ok(true)
}

/// `ip6_opt_process`; Ok(false) is tcpdump's -1 (truncated/invalid option).
fn opt_process(c: &mut Ctx, bp: usize, len: usize, hbh: Option<(&mut bool, &mut u32)>) -> R<bool> {
    if len == 0 {
        return Ok(true);
    }
    let v = c.opts.verbose > 0;
    let mut found_jumbo = false;
    let mut hbh = hbh;
    let mut i = 0;
    while i < len {
        let t = c.u8(bp + i)?;
        let optlen = if t == 0 {
            1
        } else if i + 1 < len {
            c.u8(bp + i + 1)? as usize + 2
        } else {
            return Ok(false);
        };
        if i + optlen > len {
            return Ok(false);
        }
        match t {
            0 => {
                if v {
                    c.s("(pad1)");
                }
            }
            1 => {
                if len - i < 2 {
                    c.s("(padn: trunc)");
                    return Ok(false);
                }
                if v {
                    c.s("(padn)");
                }
            }
            5 => {
                if len - i < 4 {
                    c.s("(rtalert: trunc)");
                    return Ok(false);
                }
                let l = c.u8(bp + i + 1)?;
                if l != 2 {
                    c.s("(rtalert: invalid len ");
                    c.num(l);
                    c.b(b')');
                    return Ok(false);
                }
                if v {
                    c.s("(rtalert: 0x");
                    let x = c.be16(bp + i + 2)?;
                    c.hex(x, 4);
                    c.s(") ");
                }
            }
            0xc2 => {
                if len - i < 6 {
                    c.s("(jumbo: trunc)");
                    return Ok(false);
                }
                let l = c.u8(bp + i + 1)?;
                if l != 4 {
                    c.s("(jumbo: invalid len ");
                    c.num(l);
                    c.b(b')');
                    return Ok(false);
                }
                let jumbolen = c.be32(bp + i + 2)?;
                if found_jumbo {
                    if v {
                        c.s("(jumbo: ");
                        c.num(jumbolen);
                        c.s(" - already seen) ");
                    }
                } else {
                    found_jumbo = true;
                    match hbh.as_mut() {
                        None => {
                            if v {
                                c.s("(jumbo: ");
                                c.num(jumbolen);
                                c.s(" - not a hop-by-hop option) ");
                            }
                        }
                        Some((fj, pl)) => {
                            if **pl != 0 {
                                if v {
                                    c.s("(jumbo: ");
                                    c.num(jumbolen);
                                    c.s(" - payload len != 0) ");
                                }
                            } else if jumbolen < 65536 {
                                if v {
                                    c.s("(jumbo: ");
                                    c.num(jumbolen);
                                    c.s(" - < 65536) ");
                                }
                            } else {
                                if v {
                                    c.s("(jumbo: ");
                                    c.num(jumbolen);
                                    c.s(") ");
                                }
                                **fj = true;
                                **pl = jumbolen;
                            }
                        }
                    }
                }
            }
            0xc9 => {
                if len - i < 18 {
                    c.s("(homeaddr: trunc)");
                    return Ok(false);
                }
                let l = c.u8(bp + i + 1)?;
                if (l as usize) < 16 {
                    c.s("(homeaddr: invalid len ");
                    c.num(l);
                    c.b(b')');
                    return Ok(false);
                }
                if v {
                    c.s("(homeaddr: ");
                    c.ip6addr(bp + i + 2)?;
                    if l as usize > 16 && !sopt_print(c, bp + i + 18, optlen - 18)? {
                        return Ok(false);
                    }
                    c.b(b')');
                }
            }
            _ => {
                if len - i < 2 {
                    c.s("(type ");
                    c.num(t);
                    c.s(": trunc)");
                    return Ok(false);
                }
                if v {
                    c.s("(opt_type 0x");
                    c.hex(t, 2);
                    c.s(": len=");
                    let l = c.u8(bp + i + 1)?;
                    c.num(l);
                    c.b(b')');
                }
            }
        }
        i += optlen;
    }
    if v {
        c.b(b' ');
    }
    Ok(true)
}

/// `hbhopt_process`: returns the header length, or None after printing ` [|hbhopt]`.
fn hbhopt(c: &mut Ctx, cp: usize, found_jumbo: &mut bool, plen: &mut u32) -> R<Option<usize>> {
    c.proto = "hbhopt";
    let hbhlen = ((c.u8(cp + 1)? as usize) + 1) << 3;
    if !c.ttest(cp, hbhlen) {
        c.trunc();
        return Ok(None);
    }
    c.s("HBH ");
    if !opt_process(c, cp + 2, hbhlen - 2, Some((found_jumbo, plen)))? {
        c.trunc();
        return Ok(None);
    }
    Ok(Some(hbhlen))
}

/// `dstopt_process`.
fn dstopt(c: &mut Ctx, cp: usize) -> R<Option<usize>> {
    c.proto = "dstopt";
    let len = ((c.u8(cp + 1)? as usize) + 1) << 3;
    if !c.ttest(cp, len) {
        c.trunc();
        return Ok(None);
    }
    c.s("DSTOPT ");
    if c.opts.verbose > 0 && !opt_process(c, cp + 2, len - 2, None)? {
        c.trunc();
        return Ok(None);
    }
    Ok(Some(len))
}

/// `frag6_print`.
fn frag6(c: &mut Ctx, cp: usize, ip6: usize) -> R<Option<usize>> {
    c.proto = "frag6";
    let plen = c.be16(ip6 + 4)? as u64;
    let rest = 40u64
        .wrapping_add(plen)
        .wrapping_sub((cp - ip6) as u64)
        .wrapping_sub(8);
    if c.opts.verbose > 0 {
        let ident = c.be32(cp + 4)?;
        let off = c.be16(cp + 2)? & 0xfff8;
        c.s("frag (0x");
        c.hex(ident, 8);
        c.b(b':');
        c.num(off);
        c.b(b'|');
        c.num(rest);
        c.b(b')');
    } else {
        let off = c.be16(cp + 2)? & 0xfff8;
        c.s("frag (");
        c.num(off);
        c.b(b'|');
        c.num(rest);
        c.b(b')');
    }
    if c.be16(cp + 2)? & 0xfff8 != 0 {
        return Ok(None);
    }
    c.b(b' ');
    Ok(Some(8))
}

/// `rt6_print`.
fn rt6(c: &mut Ctx, cp: usize) -> R<Option<usize>> {
    c.proto = "rt6";
    c.proto_caps();
    let len0 = c.u8(cp + 1)? as usize;
    c.s(" (len=");
    c.num(len0 as u32);
    let ty = c.u8(cp + 2)?;
    c.s(", type=");
    c.num(ty);
    if ty == 0 {
        c.s(" [Deprecated]");
    }
    let sl = c.u8(cp + 3)?;
    c.s(", segleft=");
    c.num(sl);
    match ty {
        0 | 2 => {
            let rsv = c.be32(cp + 4)?;
            if rsv != 0 || c.opts.verbose > 0 {
                c.s(", rsv=0x");
                c.hex(rsv, 1);
            }
        }
        4 => {
            let le = c.u8(cp + 4)?;
            c.s(", last-entry=");
            c.num(le);
            let fl = c.u8(cp + 5)?;
            if fl != 0 || c.opts.verbose > 0 {
                c.s(", flags=0x");
                c.hex(fl, 1);
            }
            let tag = c.be16(cp + 6)?;
            c.s(", tag=");
            c.hex(tag, 1);
        }
        _ => {
            c.s(" (unknown type)");
            c.invalid();
            return Ok(None);
        }
    }
    if len0 % 2 == 1 {
        c.s(" (invalid length ");
        c.num(len0 as u32);
        c.b(b')');
        c.invalid();
        return Ok(None);
    }
    let mut p = cp + 8;
    for i in 0..len0 / 2 {
        c.bytes(p, 16)?;
        c.s(", [");
        c.num(i as u32);
        c.b(b']');
        c.ip6addr(p)?;
        p += 16;
    }
    c.s(") ");
    Ok(Some((len0 + 1) << 3))
}

fn addrs(c: &mut Ctx, ip6: usize) -> R<()> {
    c.ip6addr(ip6 + 8)?;
    c.s(" > ");
    c.ip6addr(ip6 + 24)
}

/// `ip6_print`: `ip6` is the header's offset, `length` what the link layer says is left.
pub(crate) fn print(c: &mut Ctx, ip6: usize, length: u32) -> R<()> {
    c.proto = "ip6";
    if !c.ttest(ip6, 40) {
        c.trunc();
        return Ok(());
    }
    if length < 40 {
        c.s("truncated-ip6 ");
        c.num(length);
        return Ok(());
    }
    if !c.opts.link_header {
        c.s("IP6 ");
    }
    let ver = c.u8(ip6)? >> 4;
    if ver != 6 {
        c.s("version error: ");
        c.num(ver);
        c.s(" != 6");
        return Ok(());
    }
    let mut payload_len = c.be16(ip6 + 4)? as u32;
    let mut len: u32 = if payload_len != 0 {
        let l = payload_len + 40;
        if length < l {
            c.s("truncated-ip6 - ");
            c.num(l - length);
            c.s(" bytes missing!");
        }
        l
    } else {
        length.wrapping_add(40)
    };
    let mut nh = c.u8(ip6 + 6)?;
    if c.opts.verbose > 0 {
        let flow = c.be32(ip6)?;
        c.b(b'(');
        if flow & 0x0ff0_0000 != 0 {
            c.s("class 0x");
            c.hex((flow & 0x0ff0_0000) >> 20, 2);
            c.s(", ");
        }
        if flow & 0x000f_ffff != 0 {
            c.s("flowlabel 0x");
            c.hex(flow & 0x000f_ffff, 5);
            c.s(", ");
        }
        c.s("hlim ");
        let hl = c.u8(ip6 + 7)?;
        c.num(hl);
        c.s(", next-header ");
        c.s(ipproto_name(nh));
        c.s(" (");
        c.num(nh);
        c.s(") payload length: ");
        c.num(payload_len);
        c.s(") ");
    }
    let saved = c.push_snaplen(ip6, len as usize);
    let mut cp = ip6;
    let mut advance: usize = 40;
    let mut total_advance: u32 = 0;
    let mut found_ext = false;
    let mut found_jumbo = false;
    let mut found_hbh = false;
    let mut fragmented = false;
    let mut ph: u16 = 255;
    let r = (|| -> R<()> {
        while cp < c.snapend && advance > 0 {
            if (len as usize) < advance {
                c.trunc();
                return Ok(());
            }
            cp += advance;
            len -= advance as u32;
            total_advance += advance as u32;
            if cp == ip6 + 40 && !matches!(nh, 6 | 17 | 33 | 132) {
                addrs(c, ip6)?;
                c.s(": ");
            }
            match nh {
                0 => {
                    if found_hbh {
                        c.s("[The Hop-by-Hop Options header was already found]");
                        c.invalid();
                        return Ok(());
                    }
                    if ph != 255 {
                        c.s("[The Hop-by-Hop Options header don't follow the IPv6 header]");
                        c.invalid();
                        return Ok(());
                    }
                    let a = hbhopt(c, cp, &mut found_jumbo, &mut payload_len)?;
                    if payload_len == 0 && !found_jumbo {
                        c.s("[No valid Jumbo Payload Hop-by-Hop option found]");
                        c.invalid();
                        return Ok(());
                    }
                    let Some(a) = a else { return Ok(()) };
                    advance = a;
                    found_ext = true;
                    found_hbh = true;
                    nh = c.u8(cp)?;
                }
                60 => {
                    let Some(a) = dstopt(c, cp)? else {
                        return Ok(());
                    };
                    advance = a;
                    found_ext = true;
                    nh = c.u8(cp)?;
                }
                44 => {
                    let a = frag6(c, cp, ip6)?;
                    match a {
                        Some(a) if c.snapend > cp + a => advance = a,
                        _ => return Ok(()),
                    }
                    found_ext = true;
                    nh = c.u8(cp)?;
                    fragmented = true;
                }
                43 => {
                    if !c.ttest(cp, 1) {
                        c.trunc();
                        return Ok(());
                    }
                    let Some(a) = rt6(c, cp)? else {
                        return Ok(());
                    };
                    advance = a;
                    found_ext = true;
                    nh = c.u8(cp)?;
                }
                62 | 135 => {
                    // Mobility header: tcpdump decodes it and stops; the decoder is not
                    // ported, so this prints nothing for it.
                    return Ok(());
                }
                _ => {
                    if found_jumbo {
                        len = payload_len.wrapping_add(40);
                        if len < total_advance {
                            c.trunc();
                            return Ok(());
                        }
                        if length < len {
                            c.s("truncated-ip6 - ");
                            c.num(len - length);
                            c.s(" bytes missing!");
                        }
                        change_snaplen(c, ip6, len as usize);
                        len -= total_advance;
                    } else if payload_len == 0 {
                        if found_ext {
                            c.trunc();
                            return Ok(());
                        }
                        len = 40;
                        change_snaplen(c, ip6, 40);
                        len -= total_advance;
                    }
                    let ipr = IpRef {
                        at: ip6,
                        v6: true,
                        pseudo_cksum,
                    };
                    return demux(c, cp, len, ipr, fragmented, nh);
                }
            }
            ph = nh as u16;
            c.proto = "ip6";
        }
        Ok(())
    })();
    c.pop_snaplen(saved);
    r
}

fn change_snaplen(c: &mut Ctx, at: usize, len: usize) {
    if at <= c.snapend && len <= c.snapend - at {
        c.snapend = at + len;
    }
}
