//! Linux cooked captures (print-sll.c) and raw IP (print-raw.c).
//!
//! SLL2 is what `-i any` writes: tcpdump prints the interface name (looked up on the
//! machine reading the file, via `if_indextoname`) and the direction before everything
//! else, e.g. `lo    In  IP ...`.

use super::ctx::{Ctx, R};
use super::ether::{ethertype_name, ethertype_print, ETHERTYPE_8021Q};
use super::{ip, ip6};

fn pkttype(t: u32) -> &'static str {
    match t {
        0 => "In",
        1 => "B",
        2 => "M",
        3 => "P",
        4 => "Out",
        _ => "?",
    }
}

/// The `-e` tail shared by `sll_print` and `sll2_print`: address, ethertype, length.
fn addr_type_len(c: &mut Ctx, halen: u32, addr_at: usize, proto: u16, length: u32) -> R<()> {
    if halen == 6 {
        let a = c.bytes(addr_at, 6)?;
        c.names.write_mac(c.out, a);
        c.b(b' ');
    }
    if !c.opts.quiet {
        if proto <= 1500 {
            match proto {
                1 => c.s("802.3"),
                4 => c.s("802.2"),
                _ => {
                    c.s("ethertype Unknown (0x");
                    c.hex(proto, 4);
                    c.b(b')');
                }
            }
        } else {
            c.s("ethertype ");
            c.s(ethertype_name(proto).unwrap_or("Unknown"));
            c.s(" (0x");
            c.hex(proto, 4);
            c.b(b')');
        }
        c.s(", length ");
        c.num(length);
        c.s(": ");
    }
    Ok(())
}

fn sll_print(c: &mut Ctx, length: u32) -> R<()> {
    c.proto = "sll";
    let t = c.be16(0)? as u32;
    crate::print::write::right(c.out, pkttype(t).as_bytes(), 3);
    c.b(b' ');
    let halen = c.be16(4)? as u32;
    let proto = c.be16(14)?;
    addr_type_len(c, halen, 6, proto, length)
}

fn sll2_print(c: &mut Ctx, length: u32) -> R<()> {
    c.proto = "sll2";
    c.s("ifindex ");
    let idx = c.be32(4)?;
    c.num(idx);
    c.b(b' ');
    let halen = c.u8(11)? as u32;
    let proto = c.be16(0)?;
    addr_type_len(c, halen, 12, proto, length)
}

/// The payload after a cooked header: 802.1Q tags, then IP (`recurse:` in print-sll.c).
fn payload(
    c: &mut Ctx,
    mut p: usize,
    mut proto: u16,
    mut length: u32,
    mut caplen: u32,
    header: fn(&mut Ctx, u32) -> R<()>,
    hdr_len: u32,
) -> R<()> {
    loop {
        if proto <= 1500 {
            // Novell 802.3 / 802.2 LLC / unknown: not decoded here, raw data like tcpdump's
            // fallback.
            super::util::default_print(c, p, caplen);
            break;
        } else if proto == ETHERTYPE_8021Q {
            if caplen < 4 {
                c.proto = "vlan";
                c.trunc();
                c.ll_hdr_len = p + caplen as usize;
                return Ok(());
            }
            if c.opts.link_header {
                let tag = c.be16(p)?;
                c.s("vlan ");
                c.num(tag & 0xfff);
                c.s(", p ");
                c.num(tag >> 13);
                if tag & 0x1000 != 0 {
                    c.s(", DEI");
                }
                c.s(", ");
            }
            proto = c.be16(p + 2)?;
            if proto <= 1500 {
                proto = 4;
            }
            if !c.opts.quiet {
                c.s("ethertype ");
                c.s(ethertype_name(proto).unwrap_or("Unknown"));
                c.s(", ");
            }
            p += 4;
            length = length.wrapping_sub(4);
            caplen -= 4;
        } else {
            if !ethertype_print(c, proto, p, length)? {
                if !c.opts.link_header {
                    header(c, length.wrapping_add(hdr_len))?;
                }
                super::util::default_print(c, p, caplen);
            }
            break;
        }
    }
    c.ll_hdr_len = p;
    Ok(())
}

/// `sll_if_print` (LINKTYPE_LINUX_SLL).
pub(crate) fn sll_if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "sll";
    if !c.ttest(0, 16) {
        return Err(super::ctx::Trunc);
    }
    if c.opts.link_header {
        sll_print(c, wire_len)?;
    }
    let proto = c.be16(14)?;
    let caplen = c.d.len() as u32 - 16;
    payload(
        c,
        16,
        proto,
        wire_len.wrapping_sub(16),
        caplen,
        sll_print,
        16,
    )
}

/// `sll2_if_print` (LINKTYPE_LINUX_SLL2, `-i any`).
pub(crate) fn sll2_if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "sll2";
    if !c.ttest(0, 20) {
        return Err(super::ctx::Trunc);
    }
    let idx = c.be32(4)?;
    c.names.write_ifname(c.out, idx);
    c.b(b' ');
    let t = c.u8(10)? as u32;
    crate::print::write::left(c.out, pkttype(t).as_bytes(), 3);
    c.b(b' ');
    if c.opts.link_header {
        sll2_print(c, wire_len)?;
    }
    let proto = c.be16(0)?;
    let caplen = c.d.len() as u32 - 20;
    payload(
        c,
        20,
        proto,
        wire_len.wrapping_sub(20),
        caplen,
        sll2_print,
        20,
    )
}

/// `raw_if_print` (LINKTYPE_RAW): `ip: ` with `-e`, then IPv4 or IPv6 by version nibble.
pub(crate) fn raw_if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "raw";
    c.ll_hdr_len = 0;
    if c.opts.link_header {
        c.s("ip: ");
    }
    c.proto = "ipn";
    if wire_len < 1 {
        c.s("truncated-ip ");
        c.num(wire_len);
        return Ok(());
    }
    match c.u8(0)? & 0xf0 {
        0x40 => ip::print(c, 0, wire_len),
        0x60 => ip6::print(c, 0, wire_len),
        v => {
            c.s("unknown ip ");
            c.num(v >> 4);
            Ok(())
        }
    }
}
