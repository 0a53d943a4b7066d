//! Ethernet (tcpdump's print-ether.c): `-e` MACs and ethertype, 802.1Q tags, then IP.

use super::ctx::{Ctx, R};
use super::tables::ETHERTYPE_NAMES;
use super::{ip, ip6};

pub(crate) const ETHERTYPE_IP: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
pub(crate) const ETHERTYPE_8021Q: u16 = 0x8100;
const ETHERTYPE_8021Q9100: u16 = 0x9100;
const ETHERTYPE_8021Q9200: u16 = 0x9200;
const ETHERTYPE_8021QINQ: u16 = 0x88a8;

/// `tok2str(ethertype_values, ...)`.
pub(crate) fn ethertype_name(t: u16) -> Option<&'static str> {
    ETHERTYPE_NAMES
        .iter()
        .find(|(v, _)| *v == t)
        .map(|(_, n)| *n)
}

/// `ether_type_print`.
fn type_print(c: &mut Ctx, t: u16) {
    if !c.opts.quiet {
        c.s("ethertype ");
        c.s(ethertype_name(t).unwrap_or("Unknown"));
        c.s(" (0x");
        c.hex(t, 4);
        c.b(b')');
    } else if let Some(n) = ethertype_name(t) {
        c.s(n);
    } else {
        c.s("Unknown Ethertype (0x");
        c.hex(t, 4);
        c.b(b')');
    }
}

fn addresses(c: &mut Ctx, at: usize) {
    let d = c.d;
    c.names.write_mac(c.out, &d[at + 6..at + 12]);
    c.s(" > ");
    c.names.write_mac(c.out, &d[at..at + 6]);
    c.s(", ");
}

/// `ethertype_print` for the types this printer decodes; false for the others.
pub(crate) fn ethertype_print(c: &mut Ctx, t: u16, at: usize, length: u32) -> R<bool> {
    match t {
        ETHERTYPE_IP => ip::print(c, at, length)?,
        ETHERTYPE_IPV6 => ip6::print(c, at, length)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `ether_if_print`: returns with `c.ll_hdr_len` set to the link header length.
pub(crate) fn if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "ether";
    let caplen = c.d.len() as u32;
    let mut length = wire_len;
    if caplen < 14 {
        c.trunc();
        c.ll_hdr_len = caplen as usize;
        return Ok(());
    }
    let mut caplen = caplen - 12;
    length = length.wrapping_sub(12);
    let mut p = 12usize;
    if c.opts.link_header {
        addresses(c, 0);
    }
    let mut t = c.be16(p)?;
    length = length.wrapping_sub(2);
    caplen -= 2;
    p += 2;
    let orig_length = wire_len;
    let mut printed_length = false;
    while matches!(
        t,
        ETHERTYPE_8021Q | ETHERTYPE_8021Q9100 | ETHERTYPE_8021Q9200 | ETHERTYPE_8021QINQ
    ) {
        if caplen < 4 {
            c.proto = "vlan";
            c.trunc();
            c.ll_hdr_len = p + caplen as usize;
            return Ok(());
        }
        if length < 4 {
            c.proto = "vlan";
            c.trunc();
            c.ll_hdr_len = p + length as usize;
            return Ok(());
        }
        if c.opts.link_header {
            let tag = c.be16(p)?;
            type_print(c, t);
            if !printed_length {
                c.s(", length ");
                c.num(orig_length);
                c.s(": ");
                printed_length = true;
            } else {
                c.s(", ");
            }
            c.s("vlan ");
            c.num(tag & 0xfff);
            c.s(", p ");
            c.num(tag >> 13);
            if tag & 0x1000 != 0 {
                c.s(", DEI");
            }
            c.s(", ");
        }
        t = c.be16(p + 2)?;
        p += 4;
        length -= 4;
        caplen -= 4;
    }
    c.ll_hdr_len = p;
    if c.opts.link_header {
        if t <= 1500 {
            // 802.3 length field: LLC payloads are not decoded by this printer.
            c.s("802.3");
            if !printed_length {
                c.s(", length ");
                c.num(length.min(t as u32));
                c.s(": ");
            }
        } else {
            type_print(c, t);
            if !printed_length {
                c.s(", length ");
                c.num(orig_length);
                c.s(": ");
            } else {
                c.s(", ");
            }
        }
    }
    if t > 1500 && ethertype_print(c, t, p, length)? {
        return Ok(());
    }
    // Not a type this printer decodes: tcpdump's raw-data fallback.
    if !c.opts.link_header && t > 1500 {
        addresses(c, 0);
        type_print(c, t);
        c.s(", length ");
        c.num(orig_length);
        c.s(": ");
    }
    super::util::default_print(c, p, caplen);
    Ok(())
}
