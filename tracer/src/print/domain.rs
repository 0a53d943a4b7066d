//! DNS over TCP (tcpdump's print-domain.c, `domain_print` with `over_tcp`): the length
//! prefix check, header flags, questions, answers (`-vv`: authority and additional
//! sections too, `-vvv`: TTLs), EDNS options, compression pointers and bit labels.
//!
//! Offsets may run past the captured data exactly where tcpdump's pointers do; every read
//! is checked, and a `None` is tcpdump's `NULL` return (which ends the line with
//! ` [|domain]` at the top of the printer).

use super::ctx::{Ctx, R};
use super::util::Tok;
use super::write;

const NS_OPS: [&str; 16] = [
    "",
    " inv_q",
    " stat",
    " op3",
    " notify",
    " update",
    " op6",
    " op7",
    " op8",
    " updateA",
    " updateD",
    " updateDA",
    " updateM",
    " updateMA",
    " zoneInit",
    " zoneRef",
];

const NS_RESP: [&str; 24] = [
    "",
    " FormErr",
    " ServFail",
    " NXDomain",
    " NotImp",
    " Refused",
    " YXDomain",
    " YXRRSet",
    " NXRRSet",
    " NotAuth",
    " NotZone",
    " Resp11",
    " Resp12",
    " Resp13",
    " Resp14",
    " NoChange",
    " BadVers",
    "Resp17",
    " Resp18",
    " Resp19",
    " Resp20",
    "Resp21",
    " Resp22",
    " BadCookie",
];

const TYPE_MASK: u8 = 0xc0;
const TYPE_INDIR: u8 = 0xc0;
const TYPE_RESERVED: u8 = 0x80;
const TYPE_EDNS0: u8 = 0x40;
const EDNS0_ELT_BITLABEL: u8 = 0x01;
const MAXCDNAME: u32 = 255;

const T_A: u16 = 1;
const T_NS: u16 = 2;
const T_CNAME: u16 = 5;
const T_SOA: u16 = 6;
const T_PTR: u16 = 12;
const T_MX: u16 = 15;
const T_TXT: u16 = 16;
const T_AAAA: u16 = 28;
const T_SRV: u16 = 33;
const T_A6: u16 = 38;
const T_DNAME: u16 = 39;
const T_OPT: u16 = 41;
const T_UNSPECA: u16 = 104;
const T_TSIG: u16 = 250;
const T_URI: u16 = 256;
const C_IN: u16 = 1;

pub(crate) const NS_TYPE2STR: &Tok = &[
    (1, "A"),
    (2, "NS"),
    (3, "MD"),
    (4, "MF"),
    (5, "CNAME"),
    (6, "SOA"),
    (7, "MB"),
    (8, "MG"),
    (9, "MR"),
    (10, "NULL"),
    (11, "WKS"),
    (12, "PTR"),
    (13, "HINFO"),
    (14, "MINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (19, "X25"),
    (20, "ISDN"),
    (21, "RT"),
    (22, "NSAP"),
    (23, "NSAP_PTR"),
    (24, "SIG"),
    (25, "KEY"),
    (26, "PX"),
    (27, "GPOS"),
    (28, "AAAA"),
    (29, "LOC"),
    (30, "NXT"),
    (31, "EID"),
    (32, "NIMLOC"),
    (33, "SRV"),
    (34, "ATMA"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (38, "A6"),
    (39, "DNAME"),
    (40, "SINK"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (99, "SPF"),
    (100, "UINFO"),
    (101, "UID"),
    (102, "GID"),
    (103, "UNSPEC"),
    (104, "UNSPECA"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (253, "MAILB"),
    (254, "MAILA"),
    (255, "ANY"),
    (256, "URI"),
];

const NS_CLASS2STR: &Tok = &[(1, "IN"), (3, "CHAOS"), (4, "HS"), (255, "ANY")];

const EDNS_OPT2STR: &Tok = &[
    (1, "LLQ"),
    (2, "UL"),
    (3, "NSID"),
    (5, "DAU"),
    (6, "DHU"),
    (7, "N3U"),
    (8, "ECS"),
    (9, "EXPIRE"),
    (10, "COOKIE"),
    (11, "KEEPALIVE"),
    (12, "PADDING"),
    (13, "CHAIN"),
    (14, "KEY-TAG"),
    (16, "CLIENT-TAG"),
    (17, "SERVER-TAG"),
];

const DAU_ALG2STR: &Tok = &[
    (0, "DELETE"),
    (1, "RSAMD5"),
    (2, "DH"),
    (3, "DS"),
    (5, "RSASHA1"),
    (6, "DSA-NSEC3-SHA1"),
    (7, "RSASHA1-NSEC3-SHA1"),
    (8, "RSASHA256"),
    (10, "RSASHA512"),
    (12, "ECC-GOST"),
    (13, "ECDSAP256SHA256"),
    (14, "ECDSAP384SHA384"),
    (15, "ED25519"),
    (16, "ED448"),
    (252, "INDIRECT"),
    (253, "PRIVATEDNS"),
    (254, "PRIVATEOID"),
];

const DHU_ALG2STR: &Tok = &[
    (1, "SHA-1"),
    (2, "SHA-256"),
    (3, "GOST_R_34.11-94"),
    (4, "SHA-384"),
];

const N3U_ALG2STR: &Tok = &[(1, "SHA-1")];

fn ns_rcode(c: &mut Ctx, rcode: u32) {
    if let Some(s) = NS_RESP.get(rcode as usize) {
        c.s(s);
    } else {
        c.s(" Resp");
        c.num(rcode & 0xfff);
    }
}

/// `ns_nskip`: the offset after the name at `cp`.
fn ns_nskip(c: &Ctx, cp: usize) -> R<Option<usize>> {
    let mut cp = cp;
    if !c.ttest(cp, 1) {
        return Ok(None);
    }
    let mut i = c.u8(cp)?;
    cp += 1;
    while i != 0 {
        match i & TYPE_MASK {
            TYPE_INDIR => return Ok(Some(cp + 1)),
            TYPE_EDNS0 => {
                if i & !TYPE_MASK != EDNS0_ELT_BITLABEL {
                    return Ok(None);
                }
                if !c.ttest(cp, 1) {
                    return Ok(None);
                }
                let mut bitlen = c.u8(cp)? as usize;
                if bitlen == 0 {
                    bitlen = 256;
                }
                cp += 1;
                cp += bitlen.div_ceil(8);
            }
            TYPE_RESERVED => return Ok(None),
            _ => cp += i as usize,
        }
        if !c.ttest(cp, 1) {
            return Ok(None);
        }
        i = c.u8(cp)?;
        cp += 1;
    }
    Ok(Some(cp))
}

/// `blabel_print`: a bit-string label as `\[xHEX/BITS]`.
fn blabel_print(c: &mut Ctx, cp: usize) -> R<Option<usize>> {
    if !c.ttest(cp, 1) {
        return Ok(None);
    }
    let mut bitlen = c.u8(cp)? as u32;
    if bitlen == 0 {
        bitlen = 256;
    }
    let slen = bitlen.div_ceil(4);
    let lim = cp + 1 + slen as usize;
    c.s("\\[x");
    let mut bitp = cp + 1;
    let mut b = bitlen;
    while bitp < lim && b > 7 {
        let v = c.u8(bitp)?;
        write::hex2(c.out, v);
        b -= 8;
        bitp += 1;
    }
    if b > 4 {
        let tc = c.u8(bitp)? as u32;
        c.hex(tc & (0xff << (8 - b)), 2);
    } else if b > 0 {
        let tc = c.u8(bitp)? as u32;
        c.hex(((tc >> 4) & 0x0f) & (0x0f << (4 - b)), 1);
    }
    c.b(b'/');
    c.num(bitlen);
    c.b(b']');
    Ok(Some(lim))
}

/// `labellen`: the length of the label at `cp`, None (after a marker) if unusable.
fn labellen(c: &mut Ctx, cp: usize) -> R<Option<u32>> {
    if !c.ttest(cp, 1) {
        return Ok(None);
    }
    let i = c.u8(cp)?;
    match i & TYPE_MASK {
        TYPE_EDNS0 => {
            let elt = i & !TYPE_MASK;
            if elt != EDNS0_ELT_BITLABEL {
                c.s("<ELT ");
                c.num(elt);
                c.b(b'>');
                return Ok(None);
            }
            if !c.ttest(cp + 1, 1) {
                return Ok(None);
            }
            let mut bitlen = c.u8(cp + 1)? as u32;
            if bitlen == 0 {
                bitlen = 256;
            }
            Ok(Some(bitlen.div_ceil(8) + 1))
        }
        TYPE_INDIR | 0 => Ok(Some(i as u32)),
        _ => {
            c.s("<BAD LABEL TYPE>");
            Ok(None)
        }
    }
}

/// `fqdn_print`: a domain name at `cp`, compression pointers relative to `bp`; the offset
/// after the name where it was found (not where pointers led).
pub(crate) fn fqdn_print(c: &mut Ctx, cp: usize, bp: usize) -> R<Option<usize>> {
    let mut cp = cp;
    let Some(mut l) = labellen(c, cp)? else {
        return Ok(None);
    };
    if !c.ttest(cp, 1) {
        return Ok(None);
    }
    // tcpdump keeps this as `u_int` of a pointer difference: it may wrap (EDNS CHAIN).
    let mut max_offset = (cp as u64).wrapping_sub(bp as u64) as u32;
    let mut i = c.u8(cp)?;
    cp += 1;
    let mut rp: Option<usize> = None;
    let mut compress = false;
    if i & TYPE_MASK != TYPE_INDIR {
        rp = Some(cp + l as usize);
    }
    let mut name_chars: u32 = 0;
    if i != 0 {
        while i != 0 && cp < c.snapend {
            match i & TYPE_MASK {
                TYPE_INDIR => {
                    if !compress {
                        rp = Some(cp + 1);
                        compress = true;
                    }
                    if !c.ttest(cp, 1) {
                        return Ok(None);
                    }
                    let offset = ((i as u32) << 8 | c.u8(cp)? as u32) & 0x3fff;
                    if offset >= max_offset {
                        c.s("<BAD PTR>");
                        return Ok(None);
                    }
                    max_offset = offset;
                    cp = (bp as u64).wrapping_add(offset as u64) as usize;
                    if !c.ttest(cp, 1) {
                        return Ok(None);
                    }
                    i = c.u8(cp)?;
                    let Some(nl) = labellen(c, cp)? else {
                        return Ok(None);
                    };
                    l = nl;
                    cp += 1;
                    continue;
                }
                TYPE_EDNS0 => {
                    let elt = i & !TYPE_MASK;
                    if elt == EDNS0_ELT_BITLABEL {
                        if blabel_print(c, cp)?.is_none() {
                            return Ok(None);
                        }
                    } else {
                        c.s("<ELT ");
                        c.num(elt);
                        c.b(b'>');
                        return Ok(None);
                    }
                }
                TYPE_RESERVED => {
                    c.s("<BAD LABEL TYPE>");
                    return Ok(None);
                }
                _ => {
                    if name_chars + l <= MAXCDNAME {
                        if c.printn(cp, l) {
                            return Ok(None);
                        }
                    } else if name_chars < MAXCDNAME && c.printn(cp, MAXCDNAME - name_chars) {
                        return Ok(None);
                    }
                    name_chars += l;
                }
            }
            cp += l as usize;
            if name_chars <= MAXCDNAME {
                c.b(b'.');
            }
            name_chars += 1;
            if !c.ttest(cp, 1) {
                return Ok(None);
            }
            i = c.u8(cp)?;
            let Some(nl) = labellen(c, cp)? else {
                return Ok(None);
            };
            l = nl;
            cp += 1;
            if !compress {
                rp = rp.map(|r| r + l as usize + 1);
            }
        }
        if name_chars > MAXCDNAME {
            c.s("<DOMAIN NAME TOO LONG>");
        }
    } else {
        c.b(b'.');
    }
    Ok(rp)
}

/// `ns_cprint`: a `<character-string>`.
fn ns_cprint(c: &mut Ctx, cp: usize) -> R<Option<usize>> {
    if !c.ttest(cp, 1) {
        return Ok(None);
    }
    let i = c.u8(cp)? as u32;
    if c.printn(cp + 1, i) {
        return Ok(None);
    }
    Ok(Some(cp + 1 + i as usize))
}

/// `print_eopt_ecs`: EDNS client subnet `ADDR/SRC/SCOPE`.
fn eopt_ecs(c: &mut Ctx, cp: usize, data_len: u32) -> R<()> {
    if data_len < 4 {
        c.invalid();
        return Ok(());
    }
    let family = c.be16(cp)?;
    let src_len = c.u8(cp + 2)? as u32;
    let scope_len = c.u8(cp + 3)? as u32;
    let addr_bits = match family {
        1 => 32,
        2 => 128,
        _ => {
            c.invalid();
            return Ok(());
        }
    };
    if data_len - 4 > addr_bits / 8 {
        c.invalid();
        return Ok(());
    }
    if src_len > addr_bits || scope_len > addr_bits || src_len.div_ceil(8) != data_len - 4 {
        c.invalid();
        return Ok(());
    }
    let mut padded = [0u8; 16];
    let n = (data_len - 4) as usize;
    padded[..n].copy_from_slice(c.bytes(cp + 4, n)?);
    if family == 1 {
        write::ipv4(c.out, &padded[..4]);
    } else {
        write::ipv6(c.out, &padded);
    }
    c.b(b'/');
    c.num(src_len);
    c.b(b'/');
    c.num(scope_len);
    Ok(())
}

fn alg_list(c: &mut Ctx, cp: usize, data_len: u32, t: &Tok) -> R<()> {
    for i in 0..data_len as usize {
        if i > 0 {
            c.b(b' ');
        }
        let v = c.u8(cp + i)?;
        c.tok(t, "Alg_%u", v as u32);
    }
    Ok(())
}

/// `eopt_print`: one EDNS option.
fn eopt_print(c: &mut Ctx, cp: usize) -> R<Option<usize>> {
    let mut cp = cp;
    if !c.ttest(cp, 2) {
        return Ok(None);
    }
    let opt = c.be16(cp)?;
    cp += 2;
    c.tok(EDNS_OPT2STR, "Opt%u", opt as u32);
    if !c.ttest(cp, 2) {
        return Ok(None);
    }
    let data_len = c.be16(cp)? as u32;
    cp += 2;
    if !c.ttest(cp, data_len as usize) {
        return Ok(None);
    }
    if data_len > 0 {
        c.b(b' ');
        match opt {
            8 => eopt_ecs(c, cp, data_len)?,
            10 => {
                if data_len < 8 || (data_len > 8 && data_len < 16) || data_len > 40 {
                    c.invalid();
                } else {
                    for i in 0..data_len as usize {
                        if i == 8 {
                            c.b(b' ');
                        }
                        let v = c.u8(cp + i)?;
                        write::hex2(c.out, v);
                    }
                }
            }
            11 => {
                if data_len != 2 {
                    c.invalid();
                } else {
                    // "%0.1f" of v / 10.0 is exactly the decimal v/10.
                    let v = c.be16(cp)?;
                    c.num(v / 10);
                    c.b(b'.');
                    c.num(v % 10);
                    c.s(" sec");
                }
            }
            9 => {
                if data_len != 4 {
                    c.invalid();
                } else {
                    let v = c.be32(cp)?;
                    c.num(v);
                    c.s(" sec");
                }
            }
            12 => {
                c.b(b'(');
                c.num(data_len);
                c.b(b')');
            }
            14 => {
                if !data_len.is_multiple_of(2) {
                    c.invalid();
                } else {
                    let mut i = 0;
                    while i < data_len as usize {
                        if i > 0 {
                            c.b(b' ');
                        }
                        let v = c.be16(cp + i)?;
                        c.num(v);
                        i += 2;
                    }
                }
            }
            5 => alg_list(c, cp, data_len, DAU_ALG2STR)?,
            6 => alg_list(c, cp, data_len, DHU_ALG2STR)?,
            7 => alg_list(c, cp, data_len, N3U_ALG2STR)?,
            13 => {
                fqdn_print(c, cp, cp + data_len as usize)?;
            }
            _ => {
                for i in 0..data_len as usize {
                    let v = c.u8(cp + i)?;
                    write::hex2(c.out, v);
                }
            }
        }
    }
    Ok(Some(cp + data_len as usize))
}

/// `ns_qprint`: ` TYPE[ CLASS]? name`.
fn ns_qprint(c: &mut Ctx, cp: usize, bp: usize) -> R<Option<usize>> {
    let np = cp;
    let cp = match ns_nskip(c, cp)? {
        Some(cp) if c.ttest(cp, 4) => cp,
        _ => return Ok(None),
    };
    let t = c.be16(cp)?;
    c.b(b' ');
    c.tok(NS_TYPE2STR, "Type%u", t as u32);
    let class = c.be16(cp + 2)?;
    if class != C_IN {
        c.b(b' ');
        c.tok(NS_CLASS2STR, "(Class %u)", class as u32);
    }
    c.s("? ");
    Ok(fqdn_print(c, np, bp)?.map(|p| p + 4))
}

/// `ns_rprint`: one resource record.
fn ns_rprint(c: &mut Ctx, cp: usize, bp: usize) -> R<Option<usize>> {
    let cp = if c.opts.verbose > 0 {
        c.b(b' ');
        match fqdn_print(c, cp, bp)? {
            Some(p) => Some(p),
            None => return Ok(None),
        }
    } else {
        ns_nskip(c, cp)?
    };
    let mut cp = match cp {
        Some(p) if c.ttest(p, 10) => p,
        _ => return Ok(Some(c.snapend)),
    };
    let typ = c.be16(cp)?;
    cp += 2;
    let class = c.be16(cp)?;
    cp += 2;
    if class != C_IN && typ != T_OPT {
        c.b(b' ');
        c.tok(NS_CLASS2STR, "(Class %u)", class as u32);
    }
    let mut opt_flags = 0;
    if typ == T_OPT {
        cp += 2;
        opt_flags = c.be16(cp)?;
        cp += 2;
    } else if c.opts.verbose > 2 {
        c.s(" [");
        let ttl = c.be32(cp)?;
        super::util::unsigned_relts(c.out, ttl);
        c.b(b']');
        cp += 4;
    } else {
        cp += 4;
    }
    let len = c.be16(cp)?;
    cp += 2;
    let rp = cp + len as usize;
    c.b(b' ');
    c.tok(NS_TYPE2STR, "Type%u", typ as u32);
    if rp > c.snapend {
        return Ok(None);
    }
    macro_rules! q {
        ($e:expr) => {
            match $e {
                Some(v) => v,
                None => return Ok(None),
            }
        };
    }
    match typ {
        T_A => {
            if !c.ttest(cp, 4) {
                return Ok(None);
            }
            c.b(b' ');
            let a = c.bytes(cp, 4)?;
            write::ipv4(c.out, a);
        }
        T_NS | T_CNAME | T_PTR | T_DNAME => {
            c.b(b' ');
            q!(fqdn_print(c, cp, bp)?);
        }
        T_SOA => {
            if c.opts.verbose == 0 {
                return Ok(Some(rp));
            }
            c.b(b' ');
            cp = q!(fqdn_print(c, cp, bp)?);
            c.b(b' ');
            cp = q!(fqdn_print(c, cp, bp)?);
            if !c.ttest(cp, 20) {
                return Ok(None);
            }
            for k in 0..5 {
                let v = c.be32(cp + 4 * k)?;
                c.b(b' ');
                c.num(v);
            }
        }
        T_MX => {
            c.b(b' ');
            if !c.ttest(cp, 2) {
                return Ok(None);
            }
            q!(fqdn_print(c, cp + 2, bp)?);
            let v = c.be16(cp)?;
            c.b(b' ');
            c.num(v);
        }
        T_TXT => {
            while cp < rp {
                c.s(" \"");
                cp = q!(ns_cprint(c, cp)?);
                c.b(b'"');
            }
        }
        T_SRV => {
            c.b(b' ');
            if !c.ttest(cp, 6) {
                return Ok(None);
            }
            q!(fqdn_print(c, cp + 6, bp)?);
            let (port, pri, w) = (c.be16(cp + 4)?, c.be16(cp)?, c.be16(cp + 2)?);
            c.b(b':');
            c.num(port);
            c.b(b' ');
            c.num(pri);
            c.b(b' ');
            c.num(w);
        }
        T_AAAA => {
            if !c.ttest(cp, 16) {
                return Ok(None);
            }
            c.b(b' ');
            let a = c.bytes(cp, 16)?;
            write::ipv6(c.out, a);
        }
        T_A6 => {
            if !c.ttest(cp, 1) {
                return Ok(None);
            }
            let pbit = c.u8(cp)? as usize;
            let pbyte = (pbit & !7) / 8;
            if pbit > 128 {
                c.b(b' ');
                c.num(pbit as u32);
                c.s("(bad plen)");
                return Ok(Some(rp));
            } else if pbit < 128 {
                let mut a = [0u8; 16];
                a[pbyte..].copy_from_slice(c.bytes(cp + 1, 16 - pbyte)?);
                c.b(b' ');
                c.num(pbit as u32);
                c.b(b' ');
                write::ipv6(c.out, &a);
            }
            if pbit > 0 {
                c.b(b' ');
                q!(fqdn_print(c, cp + 1 + 16 - pbyte, bp)?);
            }
        }
        T_URI => {
            if !c.ttest(cp, len as usize) {
                return Ok(None);
            }
            let (p, w) = (c.be16(cp)?, c.be16(cp + 2)?);
            c.b(b' ');
            c.num(p);
            c.b(b' ');
            c.num(w);
            c.b(b' ');
            if c.printn(cp + 4, (len as u32).wrapping_sub(4)) {
                return Ok(None);
            }
        }
        T_OPT => {
            c.s(" UDPsize=");
            c.num(class);
            if opt_flags & 0x8000 != 0 {
                c.s(" DO");
            }
            if cp < rp {
                c.s(" [");
                while cp < rp {
                    cp = q!(eopt_print(c, cp)?);
                    if cp < rp {
                        c.b(b',');
                    }
                }
                c.b(b']');
            }
        }
        T_UNSPECA => {
            if !c.ttest(cp, len as usize) {
                return Ok(None);
            }
            if c.printn(cp, len as u32) {
                return Ok(None);
            }
        }
        T_TSIG => {
            if cp + len as usize > c.snapend {
                return Ok(None);
            }
            if c.opts.verbose == 0 {
                return Ok(Some(rp));
            }
            c.b(b' ');
            cp = q!(fqdn_print(c, cp, bp)?);
            cp += 6;
            for (k, name) in [" fudge=", " maclen=", " origid=", " error=", " otherlen="]
                .into_iter()
                .enumerate()
            {
                if !c.ttest(cp, 2) {
                    return Ok(None);
                }
                let v = c.be16(cp)?;
                c.s(name);
                c.num(v);
                cp += 2;
                if k == 1 {
                    cp += v as usize;
                }
            }
        }
        _ => {}
    }
    Ok(Some(rp))
}

/// Prints `count` records after `lead` (the first) and `,` (the others), tcpdump's loop
/// over a section; false if the section could not be printed whole (`goto trunc`).
fn section(
    c: &mut Ctx,
    cp: &mut usize,
    bp: usize,
    count: &mut u32,
    lead: &str,
    check_first: bool,
) -> R<bool> {
    if *count > 0 && (!check_first || *cp < c.snapend) {
        c.s(lead);
        match ns_rprint(c, *cp, bp)? {
            Some(p) => *cp = p,
            None => return Ok(false),
        }
        *count -= 1;
        while *cp < c.snapend && *count > 0 {
            c.b(b',');
            match ns_rprint(c, *cp, bp)? {
                Some(p) => *cp = p,
                None => return Ok(false),
            }
            *count -= 1;
        }
    }
    Ok(*count == 0)
}

/// `domain_print(ndo, bp, length, over_tcp = TRUE, is_mdns = FALSE)`.
pub(crate) fn print(c: &mut Ctx, bp: usize, length: u32) -> R<()> {
    c.proto = "domain";
    if length < 2 {
        c.s(" [DNS over TCP: length ");
        c.num(length);
        c.s(" < 2]");
        c.invalid();
        return Ok(());
    }
    let length = length - 2;
    let prefix = c.be16(bp)?;
    if prefix as u32 != length {
        c.s(" [prefix length(");
        c.num(prefix);
        c.s(") != length(");
        c.num(length);
        c.s(")]");
        c.invalid();
        return Ok(());
    }
    let bp = bp + 2;
    c.b(b' ');
    if body(c, bp, length)?.is_err() {
        c.trunc();
    }
    Ok(())
}

/// The message itself; `Ok(Err(()))` is tcpdump's `goto trunc`.
fn body(c: &mut Ctx, np: usize, length: u32) -> R<Result<(), ()>> {
    if length < 12 {
        let p = c.proto;
        c.s(p);
        c.s(" [length ");
        c.num(length);
        c.s(" < 12]");
        c.invalid();
        return Ok(Ok(()));
    }
    if !c.ttest(np, 12) {
        return Ok(Err(()));
    }
    let flags = c.be16(np + 2)?;
    let qdcount = c.be16(np + 4)? as u32;
    let mut ancount = c.be16(np + 6)? as u32;
    let mut nscount = c.be16(np + 8)? as u32;
    let mut arcount = c.be16(np + 10)? as u32;

    // Find the OPT record for the extended rcode.
    let mut rcode = (flags & 0xf) as u32;
    'scan: {
        let mut cp = np + 12;
        for _ in 0..qdcount {
            let Some(p) = ns_nskip(c, cp)? else {
                break 'scan;
            };
            cp = p + 4;
            if cp >= c.snapend {
                break 'scan;
            }
        }
        for _ in 0..ancount + nscount {
            let Some(p) = ns_nskip(c, cp)? else {
                break 'scan;
            };
            cp = p + 8;
            if cp + 2 > c.snapend {
                break 'scan;
            }
            let rdlen = c.be16(cp)? as usize;
            cp += 2 + rdlen;
            if cp >= c.snapend {
                break 'scan;
            }
        }
        for _ in 0..arcount {
            let Some(p) = ns_nskip(c, cp)? else {
                break 'scan;
            };
            cp = p;
            if cp + 2 > c.snapend {
                break 'scan;
            }
            let typ = c.be16(cp)?;
            cp += 4;
            if cp + 1 > c.snapend {
                break 'scan;
            }
            if typ == T_OPT {
                rcode |= (c.u8(cp)? as u32) << 4;
                break 'scan;
            }
            cp += 4;
            if cp + 2 > c.snapend {
                break 'scan;
            }
            let rdlen = c.be16(cp)? as usize;
            cp += 2 + rdlen;
            if cp >= c.snapend {
                break 'scan;
            }
        }
    }

    let opcode = ((flags >> 11) & 0xf) as usize;
    let id = c.be16(np)?;
    let bp = np;
    let vv = c.opts.verbose > 1;
    let mut cp = np + 12;
    if flags & 0x8000 != 0 {
        c.num(id);
        c.s(NS_OPS[opcode]);
        ns_rcode(c, rcode);
        if flags & 0x0400 != 0 {
            c.b(b'*');
        }
        if flags & 0x0080 == 0 {
            c.b(b'-');
        }
        if flags & 0x0200 != 0 {
            c.b(b'|');
        }
        if flags & 0x0020 != 0 {
            c.b(b'$');
        }
        if qdcount != 1 {
            c.s(" [");
            c.num(qdcount);
            c.s("q]");
        }
        for i in 0..qdcount {
            if i != 0 {
                c.b(b',');
            }
            if vv {
                c.s(" q:");
                match ns_qprint(c, cp, bp)? {
                    Some(p) => cp = p,
                    None => return Ok(Err(())),
                }
            } else {
                match ns_nskip(c, cp)? {
                    Some(p) => cp = p + 4,
                    None => return Ok(Err(())),
                }
            }
        }
        c.b(b' ');
        c.num(ancount);
        c.b(b'/');
        c.num(nscount);
        c.b(b'/');
        c.num(arcount);
        if !section(c, &mut cp, bp, &mut ancount, "", false)? {
            return Ok(Err(()));
        }
        if vv {
            if !section(c, &mut cp, bp, &mut nscount, " ns:", true)? {
                return Ok(Err(()));
            }
            if !section(c, &mut cp, bp, &mut arcount, " ar:", true)? {
                return Ok(Err(()));
            }
        }
    } else {
        c.num(id);
        c.s(NS_OPS[opcode]);
        if flags & 0x0100 != 0 {
            c.b(b'+');
        }
        if flags & 0x0010 != 0 {
            c.b(b'%');
        }
        if flags & 0x6cf != 0 {
            c.s(" [b2&3=0x");
            c.hex(flags, 1);
            c.b(b']');
        }
        if opcode == 1 {
            if qdcount != 0 {
                c.s(" [");
                c.num(qdcount);
                c.s("q]");
            }
            if ancount != 1 {
                c.s(" [");
                c.num(ancount);
                c.s("a]");
            }
        } else {
            if ancount != 0 {
                c.s(" [");
                c.num(ancount);
                c.s("a]");
            }
            if qdcount != 1 {
                c.s(" [");
                c.num(qdcount);
                c.s("q]");
            }
        }
        if nscount != 0 {
            c.s(" [");
            c.num(nscount);
            c.s("n]");
        }
        if arcount != 0 {
            c.s(" [");
            c.num(arcount);
            c.s("au]");
        }
        let mut qd = qdcount;
        if qd > 0 {
            match ns_qprint(c, cp, np)? {
                Some(p) => cp = p,
                None => return Ok(Err(())),
            }
            qd -= 1;
            while cp < c.snapend && qd > 0 {
                match ns_qprint(c, cp, np)? {
                    Some(p) => cp = p,
                    None => return Ok(Err(())),
                }
                qd -= 1;
            }
        }
        if qd > 0 {
            return Ok(Err(()));
        }
        if vv {
            if !section(c, &mut cp, bp, &mut ancount, "", false)? {
                return Ok(Err(()));
            }
            if !section(c, &mut cp, bp, &mut nscount, " ns:", true)? {
                return Ok(Err(()));
            }
            if !section(c, &mut cp, bp, &mut arcount, " ar:", true)? {
                return Ok(Err(()));
            }
        }
    }
    c.s(" (");
    c.num(length);
    c.b(b')');
    Ok(Ok(()))
}
