//! IPv4 (tcpdump's print-ip.c): the `-v` header line, options, header checksum,
//! fragments, and the hand-off to TCP.

use super::ctx::{Ctx, Trunc, R};
use super::tables::PROTO_NAMES;
use super::tcp::{self, IpRef};
use crate::checksum;

/// `ipproto_values`: protocol names in `-v` output.
pub(crate) fn ipproto_name(p: u8) -> &'static str {
    match p {
        0 => "Options",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        8 => "EGP",
        9 => "IGRP",
        17 => "UDP",
        33 => "DCCP",
        41 => "IPv6",
        43 => "Routing",
        44 => "Fragment",
        46 => "RSVP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        55 => "Mobile IP",
        58 => "ICMPv6",
        62 => "Mobile IP (old)",
        88 => "EIGRP",
        89 => "OSPF",
        103 => "PIM",
        108 => "Compressed IP",
        112 => "VRRP",
        113 => "PGM",
        132 => "SCTP",
        135 => "Mobility",
        143 => "Ethernet",
        _ => "unknown",
    }
}

/// `ip_finddst`: the final destination (last source-route hop) for the pseudo-header.
fn finddst(c: &Ctx, ip: usize) -> R<[u8; 4]> {
    let hl = ((c.u8(ip)? & 0x0f) as usize) * 4;
    let dst = c.bytes(ip + 16, 4)?;
    let mut res = [dst[0], dst[1], dst[2], dst[3]];
    if hl < 20 {
        return Ok(res);
    }
    let mut length = hl - 20;
    let mut cp = ip + 20;
    while length != 0 {
        let tt = c.u8(cp)?;
        let len;
        if tt == 0 {
            break;
        } else if tt == 1 {
            len = 1;
        } else {
            len = c.u8(cp + 1)? as usize;
            if len < 2 {
                break;
            }
        }
        if length < len || !c.ttest(cp, len) {
            break;
        }
        if (tt == 137 || tt == 131) && len >= 7 {
            let a = c.bytes(cp + len - 4, 4)?;
            res = [a[0], a[1], a[2], a[3]];
            return Ok(res);
        }
        cp += len;
        length -= len;
    }
    Ok(res)
}

/// `nextproto4_cksum` over `len` bytes at `at` (already known to be captured).
pub(crate) fn pseudo_cksum(c: &Ctx, ip: usize, at: usize, len: usize, proto: u8) -> R<u16> {
    let src = c.bytes(ip + 12, 4)?;
    let dst = if c.u8(ip)? & 0x0f == 5 {
        let d = c.bytes(ip + 16, 4)?;
        [d[0], d[1], d[2], d[3]]
    } else {
        finddst(c, ip)?
    };
    let sum = checksum::pseudo_header(src, &dst, proto, (len as u16) as u32);
    Ok(checksum::finish(checksum::add(sum, &c.d[at..at + len])))
}

/// `ip_printroute`: RR, SSRR, LSRR.
fn printroute(c: &mut Ctx, cp: usize, length: usize) -> R<bool> {
    if length < 3 {
        c.s(" [bad length ");
        c.num(length as u32);
        c.b(b']');
        return Ok(true);
    }
    if (length + 1) & 3 != 0 {
        c.s(" [bad length ");
        c.num(length as u32);
        c.b(b']');
    }
    let ptr_raw = c.u8(cp + 2)?;
    // A u_int in tcpdump: a pointer byte of 0 wraps to 0xffffffff (then every address
    // gets its comma).
    let ptr = (ptr_raw as u32).wrapping_sub(1);
    if ptr < 3 || (ptr.wrapping_add(1) & 3) != 0 || ptr > length as u32 + 1 {
        c.s(" [bad ptr ");
        c.num(ptr_raw);
        c.b(b']');
    }
    let mut len = 3;
    while len < length {
        if !c.ttest(cp + len, 4) {
            return Ok(false);
        }
        c.b(b' ');
        c.ipaddr(cp + len)?;
        if ptr > len as u32 {
            c.b(b',');
        }
        len += 4;
    }
    Ok(true)
}

/// `ip_printts`: the timestamp option.
fn printts(c: &mut Ctx, cp: usize, length: usize) -> R<bool> {
    if length < 4 {
        c.s("[bad length ");
        c.num(length as u32);
        c.b(b']');
        return Ok(true);
    }
    c.s(" TS{");
    let flg = c.u8(cp + 3)?;
    let hoplen = if flg & 0xf != 0 { 8 } else { 4 };
    if (length - 4) & (hoplen - 1) != 0 {
        c.s("[bad length ");
        c.num(length as u32);
        c.b(b']');
    }
    let ptr_raw = c.u8(cp + 2)?;
    let ptr = ptr_raw as i32 - 1;
    let mut len: usize = 0;
    if ptr < 4 || ((ptr - 4) & (hoplen as i32 - 1)) != 0 || ptr > length as i32 + 1 {
        c.s("[bad ptr ");
        c.num(ptr_raw);
        c.b(b']');
    }
    let known = match flg & 0xf {
        0 => {
            c.s("TSONLY");
            true
        }
        1 => {
            c.s("TS+ADDR");
            true
        }
        3 => {
            c.s("PRESPEC");
            true
        }
        t => {
            c.s("[bad ts type ");
            c.num(t);
            c.b(b']');
            false
        }
    };
    if known {
        let mut ty = " ";
        len = 4;
        while len < length {
            if ptr == len as i32 {
                ty = " ^ ";
            }
            if !c.ttest(cp + len, hoplen) {
                return Ok(false);
            }
            c.s(ty);
            let v = c.be32(cp + len + hoplen - 4)?;
            c.num(v);
            c.b(b'@');
            if hoplen == 8 {
                c.ipaddr(cp + len)?;
            }
            ty = " ";
            len += hoplen;
        }
    }
    if ptr == len as i32 {
        c.s(" ^ ");
    }
    if flg >> 4 != 0 {
        c.s(" [");
        c.num(flg >> 4);
        c.s(" hops not recorded]} ");
    } else {
        c.b(b'}');
    }
    Ok(true)
}

fn option_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "EOL",
        1 => "NOP",
        68 => "timestamp",
        130 => "security",
        7 => "RR",
        137 => "SSRR",
        131 => "LSRR",
        148 => "RA",
        82 => "traceroute",
        _ => return None,
    })
}

/// `ip_optprint`; Ok(false) when an option runs past the captured data.
fn optprint(c: &mut Ctx, mut cp: usize, mut length: usize) -> R<bool> {
    let mut sep = "";
    while length > 0 {
        c.s(sep);
        sep = ",";
        let code = c.u8(cp)?;
        match option_name(code) {
            Some(n) => c.s(n),
            None => {
                c.s("unknown ");
                c.num(code);
            }
        }
        let option_len = if code == 0 || code == 1 {
            1
        } else {
            let l = c.u8(cp + 1)? as usize;
            if l < 2 {
                c.s(" [bad length ");
                c.num(l as u32);
                c.b(b']');
                return Ok(true);
            }
            l
        };
        if option_len > length {
            c.s(" [bad length ");
            c.num(option_len as u32);
            c.b(b']');
            return Ok(true);
        }
        if !c.ttest(cp, option_len) {
            return Ok(false);
        }
        match code {
            0 => return Ok(true),
            68 if !printts(c, cp, option_len)? => {
                return Ok(false);
            }
            7 | 137 | 131 if !printroute(c, cp, option_len)? => {
                return Ok(false);
            }
            148 => {
                if option_len < 4 {
                    c.s(" [bad length ");
                    c.num(option_len as u32);
                    c.b(b']');
                } else {
                    if !c.ttest(cp + 3, 1) {
                        return Ok(false);
                    }
                    let v = c.be16(cp + 2)?;
                    if v != 0 {
                        c.s(" value ");
                        c.num(v);
                    }
                }
            }
            _ => {}
        }
        cp += option_len;
        length -= option_len;
    }
    Ok(true)
}

fn addrs(c: &mut Ctx, ip: usize) -> R<()> {
    c.ipaddr(ip + 12)?;
    c.s(" > ");
    c.ipaddr(ip + 16)
}

/// `ip_print`: `ip` is the header's offset, `length` what the link layer says is left.
pub(crate) fn print(c: &mut Ctx, ip: usize, length: u32) -> R<()> {
    c.proto = "ip";
    let vhl = c.u8(ip)?;
    if vhl >> 4 != 4 {
        if vhl >> 4 == 6 {
            c.s("IP6, wrong link-layer encapsulation");
        } else {
            c.s("IP");
            c.num(vhl >> 4);
        }
        c.invalid();
        return Ok(());
    }
    if !c.opts.link_header {
        c.s("IP ");
    }
    if !c.ttest(ip, 20) {
        c.trunc();
        return Ok(());
    }
    if length < 20 {
        c.s("truncated-ip ");
        c.num(length);
        return Ok(());
    }
    let hlen = ((vhl & 0x0f) as u32) * 4;
    if hlen < 20 {
        c.s("bad-hlen ");
        c.num(hlen);
        return Ok(());
    }
    let mut len = c.be16(ip + 2)? as u32;
    if length < len {
        c.s("truncated-ip - ");
        c.num(len - length);
        c.s(" bytes missing! ");
    }
    if len < hlen {
        c.s("bad-len ");
        c.num(len);
        return Ok(());
    }
    let saved = c.push_snaplen(ip, len as usize);
    let r = print_body(c, ip, hlen, &mut len);
    c.pop_snaplen(saved);
    r
}

fn print_body(c: &mut Ctx, ip: usize, hlen: u32, len: &mut u32) -> R<()> {
    *len -= hlen;
    let off = c.be16(ip + 6)?;
    let proto = c.u8(ip + 9)?;
    if c.opts.verbose > 0 {
        let tos = c.u8(ip + 1)?;
        c.s("(tos 0x");
        c.hex(tos, 1);
        match tos & 3 {
            1 => c.s(",ECT(1)"),
            2 => c.s(",ECT(0)"),
            3 => c.s(",CE"),
            _ => {}
        }
        let ttl = c.u8(ip + 8)?;
        if ttl >= 1 {
            c.s(", ttl ");
            c.num(ttl);
        }
        let id = c.be16(ip + 4)?;
        c.s(", id ");
        c.num(id);
        c.s(", offset ");
        c.num(((off & 0x1fff) as u32) * 8);
        c.s(", flags [");
        let mut any = false;
        for (bit, name) in [(0x2000u16, "+"), (0x4000, "DF"), (0x8000, "rsvd")] {
            if off & bit != 0 {
                // bittok2str: names separated by ", "
                if any {
                    c.s(", ");
                }
                c.s(name);
                any = true;
            }
        }
        if !any {
            c.s("none");
        }
        c.s("], proto ");
        c.s(ipproto_name(proto));
        c.s(" (");
        c.num(proto);
        c.s("), length ");
        let tl = c.be16(ip + 2)?;
        c.num(tl);
        let mut truncated = false;
        if hlen > 20 {
            c.s(", options (");
            if !optprint(c, ip + 20, hlen as usize - 20)? {
                c.s(" [truncated-option]");
                truncated = true;
            }
            c.b(b')');
        }
        if ip + hlen as usize <= c.snapend {
            let sum = checksum::of(&c.d[ip..ip + hlen as usize]);
            if sum != 0 {
                let ip_sum = c.be16(ip + 10)?;
                c.s(", bad cksum ");
                c.hex(ip_sum, 1);
                c.s(" (->");
                c.hex(checksum::shouldbe(ip_sum, sum), 1);
                c.s(")!");
            }
        }
        c.s(")\n    ");
        if truncated {
            addrs(c, ip)?;
            c.s(": ");
            c.trunc();
            return Ok(());
        }
    }
    if off & 0x1fff == 0 {
        if proto != 6 && proto != 17 && proto != 132 && proto != 33 {
            addrs(c, ip)?;
            c.s(": ");
        }
        if !c.ttest(ip, hlen as usize) {
            c.s(" [remaining caplen(");
            let a = c.avail(ip) as u32;
            c.num(a);
            c.s(") < header length(");
            c.num(hlen);
            c.s(")]");
            return Err(Trunc);
        }
        let ipr = IpRef {
            at: ip,
            v6: false,
            pseudo_cksum,
        };
        demux(c, ip + hlen as usize, *len, ipr, off & 0x2000 != 0, proto)
    } else {
        addrs(c, ip)?;
        c.b(b':');
        match PROTO_NAMES[proto as usize] {
            Some(n) if c.opts.numeric == 0 => {
                c.b(b' ');
                c.s(n);
            }
            _ => {
                c.s(" ip-proto-");
                c.num(proto);
            }
        }
        Ok(())
    }
}

/// `ip_demux_print`, reduced to TCP (other protocols print tcpdump's generic form).
pub(crate) fn demux(c: &mut Ctx, at: usize, len: u32, ipr: IpRef, frag: bool, nh: u8) -> R<()> {
    match nh {
        6 => tcp::print(c, at, len, ipr, frag),
        59 => {
            c.s("no next header");
            Ok(())
        }
        _ => {
            match PROTO_NAMES[nh as usize] {
                Some(n) if c.opts.numeric == 0 => {
                    c.b(b' ');
                    c.s(n);
                }
                _ => {
                    c.s(" ip-proto-");
                    c.num(nh);
                }
            }
            c.b(b' ');
            c.num(len);
            Ok(())
        }
    }
}
