//! Tokens of the pcap-filter language, split the way libpcap 1.10's flex scanner splits them
//! (longest match wins, keywords before numbers before names), so that odd inputs such as
//! `20-30` (one name, used by `portrange`) or `tcp-syn` (the number 2) mean what they mean to
//! tcpdump.

use super::error::{FilterError, Location};
use std::net::Ipv6Addr;
use tracer_common::tcp_flag;

/// Reserved words that stand for tracer's supported qualifiers and primitives, or for
/// libpcap's others (which the parser refuses with "not supported by tracer").
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kw {
    Src,
    Dst,
    Host,
    Net,
    Mask,
    Port,
    Portrange,
    Ip,
    Ip6,
    Tcp,
    Less,
    Greater,
    Len,
    /// A libpcap protocol name other than ip/ip6/tcp (`udp`, `ether`, `arp`, ...).
    OtherProto(&'static str),
    /// A libpcap qualifier or primitive tracer lacks (`gateway`, `vlan`, `broadcast`, ...).
    Other(&'static str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Num(u32),
    /// A dotted IPv4 address or prefix of one to four parts (`10`, `10.0`, `1.2.3.4`).
    Hid,
    /// An IPv6 address.
    Hid6(Ipv6Addr),
    /// An Ethernet address.
    Eid,
    /// A name: a host, port, port range or network name.
    Id(String),
    Kw(Kw),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    Not,
    And,
    Or,
    End,
}

#[derive(Clone, Debug)]
pub(crate) struct Token<'a> {
    pub tok: Tok,
    /// The token as written.
    pub text: &'a str,
    /// 1-based character column.
    pub col: usize,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("src", Kw::Src),
    ("dst", Kw::Dst),
    ("host", Kw::Host),
    ("net", Kw::Net),
    ("mask", Kw::Mask),
    ("port", Kw::Port),
    ("portrange", Kw::Portrange),
    ("ip", Kw::Ip),
    ("ip6", Kw::Ip6),
    ("tcp", Kw::Tcp),
    ("less", Kw::Less),
    ("greater", Kw::Greater),
    ("len", Kw::Len),
];

/// libpcap's other protocol names: valid there, refused here.
const OTHER_PROTOS: &[&str] = &[
    "link", "ether", "ppp", "slip", "fddi", "tr", "wlan", "arp", "rarp", "sctp", "udp", "icmp",
    "igmp", "igrp", "pim", "vrrp", "carp", "radio", "icmp6", "ah", "esp", "atalk", "aarp",
    "decnet", "lat", "sca", "moprc", "mopdl", "iso", "esis", "es-is", "isis", "is-is", "l1", "l2",
    "iih", "lsp", "snp", "csnp", "psnp", "clnp", "stp", "ipx", "netbeui",
];

/// libpcap's other reserved words.
const OTHER_WORDS: &[&str] = &[
    "proto",
    "protochain",
    "gateway",
    "type",
    "subtype",
    "direction",
    "dir",
    "address1",
    "addr1",
    "address2",
    "addr2",
    "address3",
    "addr3",
    "address4",
    "addr4",
    "ra",
    "ta",
    "byte",
    "broadcast",
    "multicast",
    "inbound",
    "outbound",
    "ifindex",
    "vlan",
    "mpls",
    "pppoed",
    "pppoes",
    "geneve",
    "lane",
    "llc",
    "metac",
    "bcc",
    "oam",
    "oamf4",
    "oamf4ec",
    "oamf4sc",
    "sc",
    "ilmic",
    "vpi",
    "vci",
    "connectmsg",
    "metaconnect",
    "on",
    "ifname",
    "rnr",
    "rulenum",
    "srnr",
    "subrulenum",
    "reason",
    "rset",
    "action",
    "fisu",
    "lssu",
    "lsu",
    "sls",
    "opc",
    "dpc",
    "sio",
    "hfisu",
    "hlssu",
    "hsls",
    "hopc",
    "hdpc",
    "hsio",
];

/// Words the scanner turns into numbers (`tcp[tcpflags] & tcp-syn`).
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("tcpflags", 13),
    ("tcp-fin", tcp_flag::FIN as u32),
    ("tcp-syn", tcp_flag::SYN as u32),
    ("tcp-rst", tcp_flag::RST as u32),
    ("tcp-push", tcp_flag::PSH as u32),
    ("tcp-ack", tcp_flag::ACK as u32),
    ("tcp-urg", tcp_flag::URG as u32),
    ("tcp-ece", tcp_flag::ECE as u32),
    ("tcp-cwr", tcp_flag::CWR as u32),
    ("icmptype", 0),
    ("icmpcode", 1),
    ("icmp-echoreply", 0),
    ("icmp-unreach", 3),
    ("icmp-sourcequench", 4),
    ("icmp-redirect", 5),
    ("icmp-echo", 8),
    ("icmp-routeradvert", 9),
    ("icmp-routersolicit", 10),
    ("icmp-timxceed", 11),
    ("icmp-paramprob", 12),
    ("icmp-tstamp", 13),
    ("icmp-tstampreply", 14),
    ("icmp-ireq", 15),
    ("icmp-ireqreply", 16),
    ("icmp-maskreq", 17),
    ("icmp-maskreply", 18),
    ("icmp6type", 0),
    ("icmp6code", 1),
    ("icmp6-destinationunreach", 1),
    ("icmp6-packettoobig", 2),
    ("icmp6-timeexceeded", 3),
    ("icmp6-parameterproblem", 4),
    ("icmp6-echo", 128),
    ("icmp6-echoreply", 129),
    ("icmp6-multicastlistenerquery", 130),
    ("icmp6-multicastlistenerreportv1", 131),
    ("icmp6-multicastlistenerdone", 132),
    ("icmp6-routersolicit", 133),
    ("icmp6-routeradvert", 134),
    ("icmp6-neighborsolicit", 135),
    ("icmp6-neighboradvert", 136),
    ("icmp6-redirect", 137),
    ("icmp6-routerrenum", 138),
    ("icmp6-nodeinformationquery", 139),
    ("icmp6-nodeinformationresponse", 140),
    ("icmp6-ineighbordiscoverysolicit", 141),
    ("icmp6-ineighbordiscoveryadvert", 142),
    ("icmp6-multicastlistenerreportv2", 143),
    ("icmp6-homeagentdiscoveryrequest", 144),
    ("icmp6-homeagentdiscoveryreply", 145),
    ("icmp6-mobileprefixsolicit", 146),
    ("icmp6-mobileprefixadvert", 147),
    ("icmp6-certpathsolicit", 148),
    ("icmp6-certpathadvert", 149),
    ("icmp6-multicastrouteradvert", 151),
    ("icmp6-multicastroutersolicit", 152),
    ("icmp6-multicastrouterterm", 153),
];

fn keyword(word: &str) -> Option<Tok> {
    match word {
        "and" => return Some(Tok::And),
        "or" => return Some(Tok::Or),
        "not" => return Some(Tok::Not),
        _ => {}
    }
    if let Some(&(_, k)) = KEYWORDS.iter().find(|(w, _)| *w == word) {
        return Some(Tok::Kw(k));
    }
    if let Some(p) = OTHER_PROTOS.iter().find(|w| **w == word) {
        return Some(Tok::Kw(Kw::OtherProto(p)));
    }
    if let Some(p) = OTHER_WORDS.iter().find(|w| **w == word) {
        return Some(Tok::Kw(Kw::Other(p)));
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|&(_, v)| Tok::Num(v))
}

/// Splits `src` into tokens, ending with [`Tok::End`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let col = |i: usize| src[..i].chars().count() + 1;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let at = |i: usize| Location {
            column: col(i),
            expr: src.to_string(),
        };
        // Names, numbers and addresses first: an IPv6 address may start with ':'.
        if c.is_ascii_alphanumeric() || c == b':' || c == b'\\' {
            let (tok, len) = word_token(src, start).map_err(|why| FilterError::Invalid {
                token: src[start..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                why,
                at: at(start),
            })?;
            if len > 0 {
                out.push(Token {
                    tok,
                    text: &src[start..start + len],
                    col: col(start),
                });
                i += len;
                continue;
            }
        }
        let two = if i + 1 < b.len() {
            &b[i..i + 2]
        } else {
            &b[i..i + 1]
        };
        let (tok, len) = match two {
            b"&&" => (Tok::And, 2),
            b"||" => (Tok::Or, 2),
            b"!=" => (Tok::Ne, 2),
            b"==" => (Tok::Eq, 2),
            b">=" => (Tok::Ge, 2),
            b"<=" => (Tok::Le, 2),
            b">>" => (Tok::Shr, 2),
            b"<<" => (Tok::Shl, 2),
            _ => (
                match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b':' => Tok::Colon,
                    b'+' => Tok::Plus,
                    b'-' => Tok::Minus,
                    b'*' => Tok::Star,
                    b'/' => Tok::Slash,
                    b'%' => Tok::Percent,
                    b'&' => Tok::Amp,
                    b'|' => Tok::Pipe,
                    b'^' => Tok::Caret,
                    b'=' => Tok::Eq,
                    b'!' => Tok::Not,
                    b'<' => Tok::Lt,
                    b'>' => Tok::Gt,
                    _ => {
                        let ch = src[i..].chars().next().unwrap_or('?');
                        return Err(FilterError::IllegalChar { ch, at: at(i) });
                    }
                },
                1,
            ),
        };
        out.push(Token {
            tok,
            text: &src[start..start + len],
            col: col(start),
        });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        text: "",
        col: col(src.len()),
    });
    Ok(out)
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.'
}

/// The longest of the name, number/dotted-address and IPv6/Ethernet-address candidates at
/// `start`, ties going to keywords, then numbers, then addresses, then names (the order of
/// libpcap's scanner rules). Length 0: no such token starts here.
fn word_token(src: &str, start: usize) -> Result<(Tok, usize), String> {
    let b = &src.as_bytes()[start..];
    if b[0] == b'\\' {
        // `\name`: a name even if it looks like a keyword or number.
        let len = b[1..]
            .iter()
            .take_while(|&&c| !matches!(c, b' ' | b'!' | b'(' | b')' | b'\n' | b'\t'))
            .count();
        if len == 0 {
            return Ok((Tok::End, 0));
        }
        return Ok((
            Tok::Id(src[start + 1..start + 1 + len].to_string()),
            len + 1,
        ));
    }
    // Name: [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?
    let mut wlen = 0;
    if b[0].is_ascii_alphanumeric() {
        wlen = b.iter().take_while(|&&c| is_word_char(c)).count();
        while wlen > 1 && matches!(b[wlen - 1], b'-' | b'_') {
            wlen -= 1;
        }
    }
    // Number or dotted address: N(.N){0,3}, N = decimal or 0x-hex.
    let num_len = |s: &[u8]| -> usize {
        if s.len() >= 3 && s[0] == b'0' && (s[1] | 0x20) == b'x' && s[2].is_ascii_hexdigit() {
            2 + s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count()
        } else {
            s.iter().take_while(|c| c.is_ascii_digit()).count()
        }
    };
    let mut nlen = num_len(b);
    let mut parts = usize::from(nlen > 0);
    while nlen > 0 && parts < 4 && b.get(nlen) == Some(&b'.') {
        let more = num_len(&b[nlen + 1..]);
        if more == 0 {
            break;
        }
        nlen += 1 + more;
        parts += 1;
    }
    // IPv6 or Ethernet address: a run of hex digits, ':' and '.' with a ':' in it.
    let run = b
        .iter()
        .take_while(|&&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        .count();
    let run_text = &src[start..start + run];
    let mut alen = 0;
    let mut addr = None;
    if run_text.contains(':') {
        if let Ok(a) = run_text.parse::<Ipv6Addr>() {
            alen = run;
            addr = Some(Tok::Hid6(a));
        } else if is_mac(run_text) {
            alen = run;
            addr = Some(Tok::Eid);
        } else if run_text.matches(':').count() >= 2 {
            return Err(format!("'{run_text}' is not an IPv6 address"));
        }
    }
    let wtext = &src[start..start + wlen];
    let kw = if wlen > 0 { keyword(wtext) } else { None };
    let best = wlen.max(nlen).max(alen);
    if best == 0 {
        return Ok((Tok::End, 0));
    }
    if wlen == best {
        if let Some(k) = kw {
            return Ok((k, wlen));
        }
    }
    if nlen == best {
        if parts == 1 {
            return Ok((Tok::Num(parse_num(&src[start..start + nlen])?), nlen));
        }
        return Ok((Tok::Hid, nlen));
    }
    if alen == best {
        return Ok((addr.unwrap_or(Tok::Eid), alen));
    }
    if wlen == best && is_mac(wtext) {
        return Ok((Tok::Eid, wlen));
    }
    Ok((Tok::Id(wtext.to_string()), wlen))
}

/// An Ethernet address in one of libpcap's spellings (`0:1:2:3:4:5`, `00-01-...`,
/// `0001.0203.0405`).
fn is_mac(s: &str) -> bool {
    let hex = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|c| c.is_ascii_hexdigit())
    };
    for sep in [':', '-'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() == 6 && parts.iter().all(|p| hex(p, 2)) {
            return true;
        }
    }
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| p.len() == 4 && hex(p, 4))
}

/// A number as libpcap's `stou` reads it: `0x` hex, leading-zero octal, else decimal.
pub(crate) fn parse_num(s: &str) -> Result<u32, String> {
    let (digits, radix, kind) =
        if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            (h, 16, "hex")
        } else if s.len() > 1 && s.starts_with('0') {
            (&s[1..], 8, "octal")
        } else {
            (s, 10, "decimal")
        };
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c
            .to_digit(radix)
            .ok_or_else(|| format!("number {s} contains non-{kind} digit"))?;
        v = v * radix as u64 + d as u64;
        if v > u32::MAX as u64 {
            return Err(format!("number {s} overflows 32 bits"));
        }
    }
    Ok(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn longest_match_like_flex() {
        assert_eq!(toks("80"), [Tok::Num(80), Tok::End]);
        assert_eq!(toks("0x50 0120"), [Tok::Num(80), Tok::Num(80), Tok::End]);
        assert_eq!(toks("80and"), [Tok::Id("80and".into()), Tok::End]);
        assert_eq!(toks("20-30"), [Tok::Id("20-30".into()), Tok::End]);
        assert_eq!(toks("1.2.3.4"), [Tok::Hid, Tok::End]);
        assert_eq!(toks("1.2.3.4.5"), [Tok::Id("1.2.3.4.5".into()), Tok::End]);
        assert_eq!(
            toks("tcp-syn tcpflags"),
            [Tok::Num(2), Tok::Num(13), Tok::End]
        );
        assert_eq!(toks("tcpx"), [Tok::Id("tcpx".into()), Tok::End]);
        assert_eq!(toks("foo-"), [Tok::Id("foo".into()), Tok::Minus, Tok::End]);
        assert_eq!(toks("\\host"), [Tok::Id("host".into()), Tok::End]);
        assert_eq!(toks("0x"), [Tok::Id("0x".into()), Tok::End]);
    }

    #[test]
    fn ipv6_and_ethernet_addresses() {
        assert_eq!(toks("::1"), [Tok::Hid6(Ipv6Addr::LOCALHOST), Tok::End]);
        assert_eq!(
            toks("fd77::/16"),
            [
                Tok::Hid6("fd77::".parse().unwrap()),
                Tok::Slash,
                Tok::Num(16),
                Tok::End
            ]
        );
        assert_eq!(toks("1:2:3:4:5:6"), [Tok::Eid, Tok::End]);
        assert_eq!(
            toks("tcp[13:1]"),
            [
                Tok::Kw(Kw::Tcp),
                Tok::LBracket,
                Tok::Num(13),
                Tok::Colon,
                Tok::Num(1),
                Tok::RBracket,
                Tok::End
            ]
        );
        assert!(tokenize("host 1::2::3").is_err());
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("!=!&&||&|<<>>=<="),
            [
                Tok::Ne,
                Tok::Not,
                Tok::And,
                Tok::Or,
                Tok::Amp,
                Tok::Pipe,
                Tok::Shl,
                Tok::Shr,
                Tok::Eq,
                Tok::Le,
                Tok::End
            ]
        );
        let e = tokenize("port 80 # x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "filter: illegal character '#' at column 9 in 'port 80 # x'"
        );
    }

    #[test]
    fn numbers_like_stou() {
        assert_eq!(parse_num("4294967295"), Ok(u32::MAX));
        assert!(parse_num("4294967296").unwrap_err().contains("overflows"));
        assert!(parse_num("089").unwrap_err().contains("non-octal"));
        assert_eq!(parse_num("0"), Ok(0));
    }
}
