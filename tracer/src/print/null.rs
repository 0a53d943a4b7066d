//! BSD loopback (tcpdump's print-null.c): LINKTYPE_NULL and LINKTYPE_LOOP, a 4-byte
//! address family, then IPv4 or IPv6.
//!
//! tcpdump reads the family in this host's byte order and swaps it when its upper 16 bits
//! are set, so NULL captures of either byte order, and LOOP's network order, all print
//! alike. With `-e` the family comes first: `AF IPv4 (2), length 64: `.

use super::ctx::{Ctx, R};
use super::{ip, ip6};

const NULL_HDRLEN: usize = 4;

/// `bsd_af_values`: the families tcpdump names.
const BSD_AF_VALUES: &[(u32, &str)] = &[
    (2, "IPv4"),
    (7, "ISO"),
    (16, "Appletalk"),
    (23, "IPX"),
    (24, "IPv6"),
    (28, "IPv6"),
    (30, "IPv6"),
];

fn af_name(family: u32) -> Option<&'static str> {
    super::util::lookup(BSD_AF_VALUES, family)
}

/// `null_hdr_print`.
fn hdr_print(c: &mut Ctx, family: u32, length: u32) {
    if !c.opts.quiet {
        c.s("AF ");
        c.s(af_name(family).unwrap_or("Unknown"));
        c.s(" (");
        c.num(family);
        c.b(b')');
    } else if let Some(n) = af_name(family) {
        c.s(n);
    } else {
        c.s("Unknown AF ");
        c.num(family);
    }
    c.s(", length ");
    c.num(length);
    c.s(": ");
}

/// The family as tcpdump takes it: read in this host's byte order, swapped when the upper
/// 16 bits are set.
pub(crate) fn family(b: [u8; 4]) -> u32 {
    let f = u32::from_ne_bytes(b);
    if f & 0xffff_0000 != 0 {
        f.swap_bytes()
    } else {
        f
    }
}

/// `null_if_print` (LINKTYPE_NULL and LINKTYPE_LOOP).
pub(crate) fn if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "null";
    let b = c.bytes(0, NULL_HDRLEN)?;
    c.ll_hdr_len = NULL_HDRLEN;
    let family = family([b[0], b[1], b[2], b[3]]);
    if c.opts.link_header {
        hdr_print(c, family, wire_len);
    }
    let length = wire_len.wrapping_sub(NULL_HDRLEN as u32);
    match family {
        2 => ip::print(c, NULL_HDRLEN, length),
        24 | 28 | 30 => ip6::print(c, NULL_HDRLEN, length),
        // ISO, AppleTalk and IPX have decoders in tcpdump that this printer does not port:
        // their frames print like an unknown family.
        _ => {
            if !c.opts.link_header {
                hdr_print(c, family, length.wrapping_add(NULL_HDRLEN as u32));
            }
            super::util::default_print(c, NULL_HDRLEN, u32::MAX);
            Ok(())
        }
    }
}
