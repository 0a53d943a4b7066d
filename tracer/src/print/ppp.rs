//! PPP (tcpdump's print-ppp.c): LINKTYPE_PPP and LINKTYPE_PPP_HDLC (`PPP_SERIAL`).
//!
//! The PPP header (address and control, either maybe compressed away, and a one- or
//! two-byte protocol) is followed by IPv4, IPv6, or one of the control protocols, which
//! print their code, id and length (`LCP, Conf-Request (0x01), id 1, length 20`) and with
//! `-v` their options. Ported from tcpdump: the control protocols' header line in every
//! mode, the `-v`/`-vv` body of every code, and the option lists of LCP (every option
//! name; the values of Vend-Ext, MRU, ACCM, Auth-Prot, Qual-Prot, Magic-Num, Call-Back,
//! MRRU, End-Disc and Link-Disc), IPCP and IP6CP. Not ported (see `print/mod.rs`): the
//! option lists of CCP and BACP, and the PAP, CHAP, BAP, multilink, IPX, OSI, MPLS and
//! HDLC-escaped payloads, which print their protocol name and a hex dump.

use super::ctx::{Ctx, R};
use super::util::lookup;
use super::{chdlc, ip, ip6};

const PPP_HDRLEN: usize = 4;

const PPP_IP: u32 = 0x0021;
const PPP_IPV6: u32 = 0x0057;
const PPP_VJNC: u32 = 0x002f;
const PPP_COMP: u32 = 0x00fd;
const PPP_IPCP: u32 = 0x8021;
const PPP_OSICP: u32 = 0x8023;
const PPP_IPV6CP: u32 = 0x8057;
const PPP_CCP: u32 = 0x80fd;
const PPP_MPLSCP: u32 = 0x8281;
const PPP_LCP: u32 = 0xc021;
const PPP_PAP: u32 = 0xc023;
const PPP_LQM: u32 = 0xc025;
const PPP_SPAP: u32 = 0xc027;
const PPP_BACP: u32 = 0xc02b;
const PPP_SPAP_OLD: u32 = 0xc123;
const PPP_CHAP: u32 = 0xc223;
const PPP_EAP: u32 = 0xc227;

/// `ppptype2str`.
const PPPTYPE2STR: &[(u32, &str)] = &[
    (PPP_IP, "IP"),
    (0x0023, "OSI"),
    (0x0025, "NS"),
    (0x0027, "DECNET"),
    (0x0029, "APPLE"),
    (0x002b, "IPX"),
    (0x002d, "VJC IP"),
    (PPP_VJNC, "VJNC IP"),
    (0x0031, "BRPDU"),
    (0x0033, "STII"),
    (0x0035, "VINES"),
    (0x0281, "MPLS"),
    (0x0283, "MPLS"),
    (PPP_COMP, "Compressed"),
    (0x003d, "MLPPP"),
    (PPP_IPV6, "IP6"),
    (0x0201, "HELLO"),
    (0x0231, "LUXCOM"),
    (0x0233, "SNS"),
    (PPP_IPCP, "IPCP"),
    (PPP_OSICP, "OSICP"),
    (0x8025, "NSCP"),
    (0x8027, "DECNETCP"),
    (0x8029, "APPLECP"),
    (0x802b, "IPXCP"),
    (0x8033, "STIICP"),
    (0x8035, "VINESCP"),
    (PPP_IPV6CP, "IP6CP"),
    (PPP_MPLSCP, "MPLSCP"),
    (PPP_LCP, "LCP"),
    (PPP_PAP, "PAP"),
    (PPP_LQM, "LQM"),
    (PPP_CHAP, "CHAP"),
    (PPP_EAP, "EAP"),
    (PPP_SPAP, "SPAP"),
    (PPP_SPAP_OLD, "Old-SPAP"),
    (PPP_BACP, "BACP"),
    (0xc02d, "BAP"),
    (0xc03d, "MLPPP-CP"),
    (PPP_CCP, "CCP"),
];

/// `cpcodes`: the control protocols' codes.
const CPCODES: &[(u32, &str)] = &[
    (0, "Vendor-Extension"),
    (1, "Conf-Request"),
    (2, "Conf-Ack"),
    (3, "Conf-Nack"),
    (4, "Conf-Reject"),
    (5, "Term-Request"),
    (6, "Term-Ack"),
    (7, "Code-Reject"),
    (8, "Prot-Reject"),
    (9, "Echo-Request"),
    (10, "Echo-Reply"),
    (11, "Disc-Req"),
    (12, "Ident"),
    (13, "Time-Rem"),
    (14, "Reset-Req"),
    (15, "Reset-Ack"),
];

/// `lcpconfopts`, indexed by option number.
const LCPCONFOPTS: [&str; 31] = [
    "Vend-Ext",
    "MRU",
    "ACCM",
    "Auth-Prot",
    "Qual-Prot",
    "Magic-Num",
    "deprecated(6)",
    "PFC",
    "ACFC",
    "FCS-Alt",
    "SDP",
    "Num-Mode",
    "deprecated(12)",
    "Call-Back",
    "deprecated(14)",
    "deprecated(15)",
    "deprecated(16)",
    "MRRU",
    "12-Bit seq #",
    "End-Disc",
    "Proprietary",
    "DCE-Id",
    "MP+",
    "Link-Disc",
    "LCP-Auth-Opt",
    "COBS",
    "Prefix-elision",
    "Multilink-header-Form",
    "I18N",
    "SDL-over-SONET/SDH",
    "PPP-Muxing",
];

/// `ppp_callback_values`.
const CALLBACK_VALUES: &[(u32, &str)] = &[
    (0, "UserAuth"),
    (1, "DialString"),
    (2, "LocalID"),
    (3, "E.164"),
    (4, "X.500"),
    (6, "CBCP"),
];

/// `authalg_values`.
const AUTHALG_VALUES: &[(u32, &str)] = &[(5, "MD5"), (0x80, "MS-CHAPv1"), (0x81, "MS-CHAPv2")];

/// `ppp_ml_epd_class_values`: the End-Disc classes.
const MLEPD_CLASS: &[(u32, &str)] = &[
    (0, "Null"),
    (1, "Local"),
    (2, "IPv4"),
    (3, "MAC"),
    (4, "Magic-Num-Block"),
    (5, "PSNDN"),
];

/// `ipcpopt_compproto_subopt_values`.
const IPHC_SUBOPTS: &[(u32, &str)] = &[(1, "RTP-Compression"), (2, "Enhanced RTP-Compression")];

/// `ipcpopt_values`.
const IPCPOPT_VALUES: &[(u32, &str)] = &[
    (1, "IP-Addrs"),
    (2, "IP-Comp"),
    (3, "IP-Addr"),
    (4, "Home-Addr"),
    (0x81, "Pri-DNS"),
    (0x82, "Pri-NBNS"),
    (0x83, "Sec-DNS"),
    (0x84, "Sec-NBNS"),
];

/// `ipcpopt_compproto_values`.
const IPCP_COMPPROTO: &[(u32, &str)] = &[(0x002d, "VJ-Comp"), (0x0061, "IP Header Compression")];

/// `ip6cpopt_values`.
const IP6CPOPT_VALUES: &[(u32, &str)] = &[(1, "Interface-ID")];

fn name(t: &[(u32, &'static str)], v: u32, fallback: &'static str) -> &'static str {
    lookup(t, v).unwrap_or(fallback)
}

/// A control protocol's option printer: the bytes the option takes, 0 to stop the list.
type OptionPrinter = fn(&mut Ctx, usize, u32) -> R<u32>;

/// `ppp_if_print` (LINKTYPE_PPP): the link header is taken to be 4 bytes for `-x`.
pub(crate) fn if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "ppp";
    let caplen = c.d.len();
    if caplen < PPP_HDRLEN {
        c.trunc();
        c.ll_hdr_len = caplen;
        return Ok(());
    }
    c.ll_hdr_len = PPP_HDRLEN;
    ppp_print(c, 0, wire_len)
}

/// `ppp_print`: address and control (or pppd's direction), the protocol, the payload.
fn ppp_print(c: &mut Ctx, at: usize, olen: u32) -> R<()> {
    c.proto = "ppp";
    let mut p = at;
    let mut length = olen;
    if length < 2 {
        c.trunc();
        return Ok(());
    }
    match c.be16(p)? {
        0x0003 | 0x0103 | 0xff03 => {
            if c.opts.link_header {
                match c.u8(p)? {
                    0x00 => c.s("In  "),
                    0x01 => c.s("Out "),
                    _ => {}
                }
            }
            p += 2;
            length -= 2;
        }
        _ => {}
    }
    if length < 2 {
        c.trunc();
        return Ok(());
    }
    let proto = if c.u8(p)? % 2 == 1 {
        let v = c.u8(p)? as u32;
        p += 1;
        length -= 1;
        v
    } else {
        let v = c.be16(p)? as u32;
        p += 2;
        length -= 2;
        v
    };
    if c.opts.link_header {
        let typestr = name(PPPTYPE2STR, proto, "unknown");
        c.s(typestr);
        c.s(" (0x");
        c.hex(proto, 4);
        c.s("), length ");
        c.num(olen);
        if typestr == "unknown" {
            return Ok(());
        }
        c.s(": ");
    }
    handle_ppp(c, proto, p, length)
}

/// `handle_ppp`: the payload by PPP protocol.
fn handle_ppp(c: &mut Ctx, proto: u32, p: usize, length: u32) -> R<()> {
    match proto {
        PPP_LCP | PPP_IPCP | PPP_OSICP | PPP_MPLSCP | PPP_IPV6CP | PPP_CCP | PPP_BACP => {
            handle_ctrl_proto(c, proto, p, length)
        }
        0x0800 | PPP_VJNC | PPP_IP => ip::print(c, p, length),
        0x86dd | PPP_IPV6 => ip6::print(c, p, length),
        PPP_COMP => {
            c.s("compressed PPP data");
            Ok(())
        }
        _ => {
            // tcpdump's fallback; also, in this printer, for the protocols whose decoders
            // are not ported (PAP, CHAP, BAP, multilink, IPX, OSI, MPLS, HDLC escapes).
            match lookup(PPPTYPE2STR, proto) {
                Some(n) => c.s(n),
                None => {
                    c.s("unknown PPP protocol (0x");
                    c.hex(proto, 4);
                    c.b(b')');
                }
            }
            c.b(b' ');
            c.unknown_data(p, "\n\t", length);
            Ok(())
        }
    }
}

/// `handle_ctrl_proto`: LCP, IPCP, IP6CP, CCP, BACP, OSICP, MPLSCP.
fn handle_ctrl_proto(c: &mut Ctx, proto: u32, pptr: usize, length: u32) -> R<()> {
    let typestr = name(PPPTYPE2STR, proto, "");
    c.s(typestr);
    c.s(", ");
    if length < 4 {
        c.s("[|");
        c.s(typestr);
        c.b(b']');
        return Ok(());
    }
    let mut tptr = pptr;
    c.bytes(tptr, 2)?;
    let code = c.u8(tptr)? as u32;
    tptr += 1;
    c.s(name(CPCODES, code, "Unknown Opcode"));
    c.s(" (0x");
    c.hex(code, 2);
    c.s("), id ");
    c.num(c.u8(tptr)?);
    c.s(", length ");
    c.num(length + 2);
    tptr += 1;
    if c.opts.verbose == 0 {
        return Ok(());
    }
    let len = c.be16(tptr)? as u32;
    tptr += 2;
    if len < 4 {
        c.s("\n\tencoded length ");
        c.num(len);
        c.s(" (< 4))");
        return Ok(());
    }
    if len > length {
        c.s("\n\tencoded length ");
        c.num(len);
        c.s(" (> packet length ");
        c.num(length);
        c.s("))");
        return Ok(());
    }
    let length = len;
    c.s("\n\tencoded length ");
    c.num(len);
    c.s(" (=Option(s) length ");
    c.num(len - 4);
    c.b(b')');
    if length == 4 {
        return Ok(());
    }
    if c.opts.verbose > 1 {
        c.unknown_data(pptr.wrapping_sub(2), "\n\t", 6);
    }
    match code {
        0 | 5 | 6 | 7 => {}
        13 => {
            if length >= 12 {
                let magic = c.be32(tptr)?;
                c.s("\n\t  Magic-Num 0x");
                c.hex(magic, 8);
                let secs = c.be32(tptr + 4)?;
                c.s(", Seconds-Remaining ");
                c.num(secs);
                c.b(b's');
            }
        }
        1..=4 => {
            let pfunc: Option<OptionPrinter> = match proto {
                PPP_LCP => Some(lcp_option),
                PPP_IPCP => Some(ipcp_option),
                PPP_IPV6CP => Some(ip6cp_option),
                // CCP's and BACP's options are not ported; OSICP's and MPLSCP's tcpdump
                // does not decode either.
                _ => None,
            };
            if let Some(pfunc) = pfunc {
                let mut x = len - 4;
                loop {
                    let j = pfunc(c, tptr, len)?;
                    if j == 0 {
                        break;
                    }
                    if x < j {
                        c.s(" [remaining options length ");
                        c.num(x);
                        c.s(" < ");
                        c.num(j);
                        c.b(b']');
                        c.invalid();
                        break;
                    }
                    x -= j;
                    tptr += j as usize;
                    if x == 0 {
                        break;
                    }
                }
            }
        }
        8 => {
            if length >= 6 {
                let rp = c.be16(tptr)? as u32;
                c.s("\n\t  Rejected ");
                c.s(name(PPPTYPE2STR, rp, "unknown"));
                c.s(" Protocol (0x");
                c.hex(rp, 4);
                c.b(b')');
                if len > 6 {
                    c.s("\n\t  Rejected Packet");
                    c.unknown_data(tptr + 2, "\n\t    ", len - 6);
                }
            }
        }
        12 => {
            if length >= 8 {
                let magic = c.be32(tptr)?;
                c.s("\n\t  Magic-Num 0x");
                c.hex(magic, 8);
                if len > 8 {
                    c.s("\n\t  Message\n\t    ");
                    // tcpdump prints `len - 4` bytes of the 8-byte shorter message.
                    if c.printn(tptr + 4, len - 4) {
                        c.s("[|");
                        c.s(typestr);
                        c.b(b']');
                    }
                }
            }
        }
        9..=11 => {
            if length >= 8 {
                let magic = c.be32(tptr)?;
                c.s("\n\t  Magic-Num 0x");
                c.hex(magic, 8);
                if len > 8 {
                    c.s("\n\t  -----trailing data-----");
                    c.bytes(tptr + 4, (len - 8) as usize)?;
                    c.unknown_data(tptr + 4, "\n\t  ", len - 8);
                }
            }
        }
        _ => {
            if c.opts.verbose <= 1 {
                c.unknown_data(pptr.wrapping_sub(2), "\n\t  ", length + 2);
            }
        }
    }
    Ok(())
}

/// `print_lcp_config_options`: one option; the bytes it takes, 0 to stop.
fn lcp_option(c: &mut Ctx, p: usize, length: u32) -> R<u32> {
    if length < 2 {
        return Ok(0);
    }
    if !c.ttest(p, 2) {
        c.s("[|lcp]");
        return Ok(0);
    }
    let opt = c.u8(p)? as u32;
    let len = c.u8(p + 1)? as u32;
    if length < len {
        return Ok(0);
    }
    let known = LCPCONFOPTS.get(opt as usize).copied();
    if len < 2 {
        match known {
            Some(n) => {
                option_head(c, n, opt, len);
                c.s(" (length bogus, should be >= 2)");
            }
            None => unknown_lcp(c, opt),
        }
        return Ok(0);
    }
    let Some(n) = known else {
        unknown_lcp(c, opt);
        return Ok(len);
    };
    option_head(c, n, opt, len);
    let bogus = |c: &mut Ctx, why: &str| {
        c.s(" (length bogus, should be ");
        c.s(why);
        c.b(b')');
    };
    match opt {
        0 => {
            if len < 6 {
                bogus(c, ">= 6");
                return Ok(len);
            }
            let oui = (c.be16(p + 2)? as u32) << 8 | c.u8(p + 4)? as u32;
            c.s(": Vendor: ");
            c.s(lookup(super::tables::OUI_NAMES, oui).unwrap_or("Unknown"));
            c.s(" (");
            c.num(oui);
            c.b(b')');
        }
        1 | 17 => {
            if len != 4 {
                bogus(c, "= 4");
                return Ok(if opt == 1 { len } else { 0 });
            }
            let v = c.be16(p + 2)?;
            c.s(": ");
            c.num(v);
        }
        2 | 5 => {
            if len != 6 {
                bogus(c, "= 6");
                return Ok(if opt == 2 { len } else { 0 });
            }
            let v = c.be32(p + 2)?;
            c.s(": 0x");
            c.hex(v, 8);
        }
        3 => {
            if len < 4 {
                bogus(c, ">= 4");
                return Ok(len);
            }
            let ap = c.be16(p + 2)? as u32;
            c.s(": ");
            match lookup(PPPTYPE2STR, ap) {
                Some(n) => c.s(n),
                // tcpdump's format string lacks its `%`.
                None => c.s("Unknown Auth Proto (0x04x)"),
            }
            match ap {
                PPP_CHAP => {
                    let alg = c.u8(p + 4)? as u32;
                    c.s(", ");
                    match lookup(AUTHALG_VALUES, alg) {
                        Some(n) => c.s(n),
                        None => {
                            c.s("Unknown Auth Alg ");
                            c.num(alg);
                        }
                    }
                }
                PPP_PAP | PPP_EAP | PPP_SPAP | PPP_SPAP_OLD => {}
                _ => {
                    c.unknown_data(p, "\n\t", len);
                }
            }
        }
        4 => {
            if len < 4 {
                bogus(c, ">= 4");
                return Ok(0);
            }
            if c.be16(p + 2)? as u32 == PPP_LQM {
                c.s(": LQR");
            } else {
                c.s(": unknown");
            }
        }
        7 | 8 => {}
        13 => {
            if len < 3 {
                bogus(c, ">= 3");
                return Ok(0);
            }
            let op = c.u8(p + 2)? as u32;
            c.s(": : Callback Operation ");
            c.s(name(CALLBACK_VALUES, op, "Unknown"));
            c.s(" (");
            c.num(op);
            c.b(b')');
        }
        19 => {
            if len < 3 {
                bogus(c, ">= 3");
                return Ok(0);
            }
            match c.u8(p + 2)? {
                2 => {
                    if len != 7 {
                        bogus(c, "= 7");
                        return Ok(0);
                    }
                    c.bytes(p + 3, 4)?;
                    c.s(": IPv4 ");
                    c.ipaddr(p + 3)?;
                }
                3 => {
                    if len != 9 {
                        bogus(c, "= 9");
                        return Ok(0);
                    }
                    let mac = c.bytes(p + 3, 6)?;
                    c.s(": MAC ");
                    c.names.write_mac(c.out, mac);
                }
                class => match lookup(MLEPD_CLASS, class as u32) {
                    Some(n) => {
                        c.s(": ");
                        c.s(n);
                    }
                    None => {
                        c.s(": Unknown class ");
                        c.num(class);
                    }
                },
            }
        }
        23 => {
            if len != 4 {
                bogus(c, "= 4");
                return Ok(0);
            }
            let v = c.be16(p + 2)?;
            c.s(": 0x");
            c.hex(v, 4);
        }
        _ => {
            if c.opts.verbose < 2 {
                c.unknown_data(p + 2, "\n\t    ", len - 2);
            }
        }
    }
    if c.opts.verbose > 1 {
        c.unknown_data(p + 2, "\n\t    ", len - 2);
    }
    Ok(len)
}

fn option_head(c: &mut Ctx, name: &str, opt: u32, len: u32) {
    c.s("\n\t  ");
    c.s(name);
    c.s(" Option (0x");
    c.hex(opt, 2);
    c.s("), length ");
    c.num(len);
}

fn unknown_lcp(c: &mut Ctx, opt: u32) {
    c.s("\n\tunknown LCP option 0x");
    c.hex(opt, 2);
}

/// `print_ipcp_config_options`.
fn ipcp_option(c: &mut Ctx, p: usize, length: u32) -> R<u32> {
    // tcpdump steps `p` over IPHC's parameters before its `-vv` dump of the option.
    let mut p = p;
    if length < 2 {
        return Ok(0);
    }
    if !c.ttest(p, 2) {
        c.s("[|ipcp]");
        return Ok(0);
    }
    let opt = c.u8(p)? as u32;
    let len = c.u8(p + 1)? as u32;
    if length < len {
        return Ok(0);
    }
    option_head(c, name(IPCPOPT_VALUES, opt, "unknown"), opt, len);
    if len < 2 {
        c.s(" (length bogus, should be >= 2)");
        return Ok(0);
    }
    match opt {
        1 => {
            if len != 10 {
                c.s(" (length bogus, should be = 10)");
                return Ok(len);
            }
            c.bytes(p + 2, 8)?;
            c.s(": src ");
            c.ipaddr(p + 2)?;
            c.s(", dst ");
            c.ipaddr(p + 6)?;
        }
        2 => {
            if len < 4 {
                c.s(" (length bogus, should be >= 4)");
                return Ok(0);
            }
            let cp = c.be16(p + 2)? as u32;
            c.s(": ");
            c.s(name(IPCP_COMPPROTO, cp, "Unknown"));
            c.s(" (0x");
            c.hex(cp, 2);
            c.s("):");
            if cp == 0x0061 {
                const MINLEN: u32 = 14;
                if len < MINLEN {
                    c.s(" (length bogus, should be >= 14)");
                    return Ok(0);
                }
                if !c.ttest(p + 2, MINLEN as usize) {
                    c.s("[|ipcp]");
                    return Ok(0);
                }
                for (k, label) in [
                    "\n\t    TCP Space ",
                    ", non-TCP Space ",
                    ", maxPeriod ",
                    ", maxTime ",
                    ", maxHdr ",
                ]
                .into_iter()
                .enumerate()
                {
                    c.s(label);
                    c.num(c.be16(p + 4 + 2 * k)?);
                }
                if len > MINLEN {
                    let mut total = len - MINLEN;
                    p += MINLEN as usize;
                    c.s("\n\t      Suboptions, length ");
                    c.num(total);
                    while total >= 2 {
                        if !c.ttest(p, 2) {
                            c.s("[|ipcp]");
                            return Ok(0);
                        }
                        let (so, sl) = (c.u8(p)? as u32, c.u8(p + 1)? as u32);
                        if so == 0 || sl == 0 {
                            break;
                        }
                        c.s("\n\t\t");
                        c.s(name(IPHC_SUBOPTS, so, "Unknown"));
                        c.s(" Suboption #");
                        c.num(so);
                        c.s(", length ");
                        c.num(sl);
                        if total < sl {
                            c.s(" [remaining suboptions length ");
                            c.num(total);
                            c.s(" < ");
                            c.num(sl);
                            c.b(b']');
                            c.invalid();
                            break;
                        }
                        total -= sl;
                        p += sl as usize;
                    }
                }
            }
        }
        3 | 4 | 0x81..=0x84 => {
            if len != 6 {
                c.s(" (length bogus, should be = 6)");
                return Ok(0);
            }
            c.bytes(p + 2, 4)?;
            c.s(": ");
            c.ipaddr(p + 2)?;
        }
        _ => {
            if c.opts.verbose < 2 {
                c.unknown_data(p + 2, "\n\t    ", len - 2);
            }
        }
    }
    if c.opts.verbose > 1 {
        c.unknown_data(p + 2, "\n\t    ", len - 2);
    }
    Ok(len)
}

/// `print_ip6cp_config_options`.
fn ip6cp_option(c: &mut Ctx, p: usize, length: u32) -> R<u32> {
    if length < 2 {
        return Ok(0);
    }
    if !c.ttest(p, 2) {
        c.s("[|ip6cp]");
        return Ok(0);
    }
    let opt = c.u8(p)? as u32;
    let len = c.u8(p + 1)? as u32;
    if length < len {
        return Ok(0);
    }
    option_head(c, name(IP6CPOPT_VALUES, opt, "unknown"), opt, len);
    if len < 2 {
        c.s(" (length bogus, should be >= 2)");
        return Ok(0);
    }
    match opt {
        1 => {
            if len != 10 {
                c.s(" (length bogus, should be = 10)");
                return Ok(len);
            }
            c.bytes(p + 2, 8)?;
            c.s(": ");
            for k in 0..4 {
                if k > 0 {
                    c.b(b':');
                }
                c.hex(c.be16(p + 2 + 2 * k)?, 4);
            }
        }
        _ => {
            if c.opts.verbose < 2 {
                c.unknown_data(p + 2, "\n\t    ", len - 2);
            }
        }
    }
    if c.opts.verbose > 1 {
        c.unknown_data(p + 2, "\n\t    ", len - 2);
    }
    Ok(len)
}

/// `ppp_hdlc_if_print` (LINKTYPE_PPP_HDLC): PPP in HDLC-like framing, Cisco HDLC when the
/// address says so, else the unknown address and control.
pub(crate) fn hdlc_if_print(c: &mut Ctx, wire_len: u32) -> R<()> {
    c.proto = "ppp_hdlc";
    let caplen = c.d.len();
    if caplen < 2 {
        c.trunc();
        c.ll_hdr_len = caplen;
        return Ok(());
    }
    let mut length = wire_len;
    match c.u8(0)? {
        0xff => {
            if caplen < 4 {
                c.trunc();
                c.ll_hdr_len = caplen;
                return Ok(());
            }
            if c.opts.link_header {
                eflag_head(c, length)?;
            }
            length = length.wrapping_sub(2);
            let proto = c.be16(2)? as u32;
            length = length.wrapping_sub(2);
            c.ll_hdr_len = 4;
            match lookup(PPPTYPE2STR, proto) {
                Some(n) => c.s(n),
                None => {
                    c.s("unknown PPP protocol (0x");
                    c.hex(proto, 4);
                    c.b(b')');
                }
            }
            c.s(": ");
            handle_ppp(c, proto, 4, length)
        }
        chdlc::UNICAST | chdlc::BCAST => chdlc::if_print(c, wire_len),
        _ => {
            if caplen < 4 {
                c.trunc();
                c.ll_hdr_len = caplen;
                return Ok(());
            }
            if c.opts.link_header {
                eflag_head(c, length)?;
            }
            c.ll_hdr_len = 2;
            c.s("unknown addr ");
            c.hex(c.u8(2)?, 2);
            c.s("; ctrl ");
            c.hex(c.u8(3)?, 2);
            Ok(())
        }
    }
}

fn eflag_head(c: &mut Ctx, length: u32) -> R<()> {
    c.hex(c.u8(0)?, 2);
    c.b(b' ');
    c.hex(c.u8(1)?, 2);
    c.b(b' ');
    c.num(length);
    c.b(b' ');
    Ok(())
}
