//! RPKI-RTR (tcpdump's print-rpki-rtr.c): `, RPKI-RTR`, and with `-v` every PDU of the
//! segment (serial notify/query, reset, cache response/reset, IPv4/IPv6 prefixes, end of
//! data, error reports with the erroneous PDU decoded one level deep).

use super::ctx::{Ctx, Trunc, R};
use super::util::Tok;

const PDU: &Tok = &[
    (0, "Serial Notify"),
    (1, "Serial Query"),
    (2, "Reset Query"),
    (3, "Cache Response"),
    (4, "IPV4 Prefix"),
    (6, "IPV6 Prefix"),
    (7, "End of Data"),
    (8, "Cache Reset"),
    (10, "Error Report"),
];

const ERROR_CODES: &Tok = &[
    (0, "Corrupt Data"),
    (1, "Internal Error"),
    (2, "No Data Available"),
    (3, "Invalid Request"),
    (4, "Unsupported Protocol Version"),
    (5, "Unsupported PDU Type"),
    (6, "Withdrawal of Unknown Record"),
    (7, "Duplicate Announcement Received"),
];

/// `indent_string`: a newline, a tab per 8 columns, then spaces.
fn indent(c: &mut Ctx, n: u32) {
    c.b(b'\n');
    for _ in 0..n / 8 {
        c.b(b'\t');
    }
    for _ in 0..n % 8 {
        c.b(b' ');
    }
}

fn tcheck(c: &Ctx, off: usize, len: usize) -> R<()> {
    if c.ttest(off, len) {
        Ok(())
    } else {
        Err(Trunc)
    }
}

/// `rpki_rtr_pdu_print`: the bytes taken.
fn pdu(c: &mut Ctx, tptr: usize, len: u32, recurse: bool, ind: u32) -> R<u32> {
    let ver = c.u8(tptr)?;
    if ver != 0 {
        indent(c, 8);
        c.s("RPKI-RTRv");
        c.num(ver);
        c.s(" (unknown)");
        return Ok(len);
    }
    let invalid = |c: &mut Ctx| -> R<u32> {
        c.invalid();
        tcheck(c, tptr, len as usize)?;
        Ok(len)
    };
    if len < 8 {
        c.b(b'(');
        c.num(len);
        c.s(" bytes is too few to decode)");
        return invalid(c);
    }
    tcheck(c, tptr, 8)?;
    let t = c.u8(tptr + 1)?;
    let pdu_len = c.be32(tptr + 4)?;
    let mut hexdump = false;
    indent(c, 8);
    c.s("RPKI-RTRv");
    c.num(ver);
    c.s(", ");
    c.tok(PDU, "Unknown", t as u32);
    c.s(" PDU (");
    c.num(t);
    c.s("), length: ");
    c.num(pdu_len);
    if pdu_len < 8 || pdu_len > len {
        return invalid(c);
    }
    match t {
        0 | 1 | 7 => {
            if pdu_len != 12 {
                return invalid(c);
            }
            let (sid, serial) = (c.be16(tptr + 2)?, c.be32(tptr + 8)?);
            indent(c, ind + 2);
            c.s("Session ID: 0x");
            c.hex(sid, 4);
            c.s(", Serial: ");
            c.num(serial);
        }
        2 | 8 => {
            if pdu_len != 8 {
                return invalid(c);
            }
        }
        3 => {
            if pdu_len != 8 {
                return invalid(c);
            }
            let sid = c.be16(tptr + 2)?;
            indent(c, ind + 2);
            c.s("Session ID: 0x");
            c.hex(sid, 4);
        }
        4 | 6 => {
            let v6 = t == 6;
            if pdu_len != if v6 { 32 } else { 20 } {
                return invalid(c);
            }
            let alen = if v6 { 16 } else { 4 };
            c.bytes(tptr + 12, alen)?;
            let (pl, ml) = (c.u8(tptr + 9)?, c.u8(tptr + 10)?);
            let asn = c.be32(tptr + 12 + alen)?;
            let flags = c.u8(tptr + 8)?;
            indent(c, ind + 2);
            if v6 {
                c.s("IPv6 Prefix ");
                c.ip6addr(tptr + 12)?;
            } else {
                c.s("IPv4 Prefix ");
                c.ipaddr(tptr + 12)?;
            }
            c.b(b'/');
            c.num(pl);
            c.b(b'-');
            c.num(ml);
            c.s(", origin-as ");
            c.num(asn);
            c.s(", flags 0x");
            c.hex(flags, 2);
        }
        10 => {
            let mut tlen: u32 = 8;
            if pdu_len < tlen + 4 {
                return invalid(c);
            }
            tcheck(c, tptr, (tlen + 4) as usize)?;
            let enc = c.be32(tptr + 8)?;
            tlen += 4;
            let code = c.be16(tptr + 2)?;
            indent(c, ind + 2);
            c.s("Error code: ");
            c.tok(ERROR_CODES, "Unknown", code as u32);
            c.s(" (");
            c.num(code);
            c.s("), Encapsulated PDU length: ");
            c.num(enc);
            // tcpdump adds these lengths as u_int: the sums wrap, as here.
            if enc != 0 {
                if pdu_len < tlen.wrapping_add(enc) {
                    return invalid(c);
                }
                if !recurse {
                    tcheck(c, tptr, tlen.wrapping_add(enc) as usize)?;
                } else {
                    indent(c, ind + 4);
                    c.s("-----encapsulated PDU-----");
                    pdu(c, tptr + tlen as usize, enc, false, ind + 2)?;
                }
                tlen = tlen.wrapping_add(enc);
            }
            if pdu_len < tlen.wrapping_add(4) {
                return invalid(c);
            }
            tcheck(c, tptr, tlen.wrapping_add(4) as usize)?;
            let text_length = c.be32(tptr + tlen as usize)?;
            tlen = tlen.wrapping_add(4);
            if text_length != 0 {
                if pdu_len < tlen.wrapping_add(text_length) {
                    return invalid(c);
                }
                indent(c, ind + 2);
                c.s("Error text: ");
                c.printjn(tptr + tlen as usize, text_length)?;
            }
        }
        _ => {
            tcheck(c, tptr, pdu_len as usize)?;
            hexdump = true;
        }
    }
    if c.opts.verbose > 1 || (c.opts.verbose > 0 && hexdump) {
        c.unknown_data(tptr, "\n\t  ", pdu_len);
    }
    Ok(pdu_len)
}

/// `rpki_rtr_print`.
pub(crate) fn print(c: &mut Ctx, pptr: usize, len: u32) -> R<()> {
    c.proto = "rpki_rtr";
    if c.opts.verbose == 0 {
        c.s(", RPKI-RTR");
        return Ok(());
    }
    let mut pptr = pptr;
    let mut len = len;
    while len != 0 {
        let n = pdu(c, pptr, len, true, 8)?;
        len -= n;
        pptr += n as usize;
    }
    Ok(())
}
