//! Cisco HDLC (tcpdump's print-chdlc.c): LINKTYPE_C_HDLC, and the Cisco frames of
//! LINKTYPE_PPP_HDLC. A 4-byte header (address, control, ethertype), then IPv4, IPv6 or
//! SLARP; with `-e` the header comes first: `unicast, ethertype IPv4 (0x0800), length 52: `.
//! Not ported (see `print/mod.rs`): the MPLS and OSI payloads, which print like an
//! unknown protocol.

use super::ctx::{Ctx, R};
use super::ether::{ethertype_name, ETHERTYPE_IP, ETHERTYPE_IPV6};
use super::{ip, ip6, util};

pub(crate) const UNICAST: u8 = 0x0f;
pub(crate) const BCAST: u8 = 0x8f;
const CHDLC_HDRLEN: usize = 4;
const CHDLC_TYPE_SLARP: u16 = 0x8035;
const SLARP_MIN_LEN: u32 = 14;
const SLARP_MAX_LEN: u32 = 18;

/// `chdlc_if_print` / `chdlc_print`; returns with `c.ll_hdr_len` set for `-x`.
pub(crate) fn if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "chdlc";
    let length = wire_len;
    if (length as usize) < CHDLC_HDRLEN {
        c.trunc();
        c.ll_hdr_len = c.avail(0);
        return Ok(());
    }
    let proto = c.be16(2)?;
    c.ll_hdr_len = CHDLC_HDRLEN;
    if c.opts.link_header {
        match c.u8(0)? {
            UNICAST => c.s("unicast"),
            BCAST => c.s("bcast"),
            a => {
                c.s("0x");
                c.hex(a, 2);
            }
        }
        c.s(", ethertype ");
        c.s(ethertype_name(proto).unwrap_or("Unknown"));
        c.s(" (0x");
        c.hex(proto, 4);
        c.s("), length ");
        c.num(length);
        c.s(": ");
    }
    let length = length - CHDLC_HDRLEN as u32;
    let p = CHDLC_HDRLEN;
    match proto {
        ETHERTYPE_IP => ip::print(c, p, length),
        ETHERTYPE_IPV6 => ip6::print(c, p, length),
        CHDLC_TYPE_SLARP => slarp_print(c, p, length),
        _ => {
            if !c.opts.link_header {
                c.s("unknown CHDLC protocol (0x");
                c.hex(proto, 4);
                c.b(b')');
            }
            Ok(())
        }
    }
}

/// `chdlc_slarp_print`: Cisco's serial line address resolution and keepalives.
fn slarp_print(c: &mut Ctx, cp: usize, length: u32) -> R<()> {
    c.proto = "chdlc_slarp";
    c.s("SLARP (length: ");
    c.num(length);
    c.s("), ");
    if length < SLARP_MIN_LEN {
        c.trunc();
        return Ok(());
    }
    c.bytes(cp, SLARP_MIN_LEN as usize)?;
    let mut cp = cp;
    match c.be32(cp)? {
        0 => c.s("request"),
        1 => {
            c.s("reply ");
            c.ipaddr(cp + 4)?;
            c.b(b'/');
            c.ipaddr(cp + 8)?;
        }
        2 => {
            c.s("keepalive: mineseen=0x");
            c.hex(c.be32(cp + 4)?, 8);
            c.s(", yourseen=0x");
            c.hex(c.be32(cp + 8)?, 8);
            c.s(", reliability=0x");
            c.hex(c.be16(cp + 12)?, 4);
            if length >= SLARP_MAX_LEN {
                cp += SLARP_MIN_LEN as usize;
                let mut sec = c.be32(cp)? / 1000;
                let mut min = sec / 60;
                sec -= min * 60;
                let mut hrs = min / 60;
                min -= hrs * 60;
                let days = hrs / 24;
                hrs -= days * 24;
                c.s(", link uptime=");
                for (v, unit) in [(days, b'd'), (hrs, b'h'), (min, b'm'), (sec, b's')] {
                    c.num(v);
                    c.b(unit);
                }
            }
        }
        code => {
            c.s("0x");
            // `%02x` of the 32-bit code.
            util::fmt1(c.out, "%02x", code as u64);
            c.s(" unknown");
            if c.opts.verbose <= 1 {
                c.unknown_data(cp + 4, "\n\t", length - 4);
            }
        }
    }
    if SLARP_MAX_LEN < length && c.opts.verbose > 0 {
        c.s(", (trailing junk: ");
        c.num(length - SLARP_MAX_LEN);
        c.s(" bytes)");
    }
    if c.opts.verbose > 1 {
        c.unknown_data(cp + 4, "\n\t", length - 4);
    }
    Ok(())
}
