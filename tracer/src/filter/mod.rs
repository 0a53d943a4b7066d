//! pcap-filter expressions: parsed, compiled to the kernel's instruction list
//! ([`tracer_common::FilterInsn`]), and run on captured packets.
//!
//! The kernel decides the filter, so a packet the user did not ask for never reaches the ring
//! buffer; `tracer -r` runs the same instructions over the same extracted fields. The language
//! is the subset of pcap-filter(7) that tests IP addresses, TCP ports, TCP flags and lengths,
//! with libpcap 1.10's grammar and meaning:
//!
//! - primitives: `[ip|ip6] [src|dst|src or dst|src and dst] host|net ADDR`, `net A/len`,
//!   `net A mask M`, `net 10` / `net 10.0` short forms, bare `src ADDR` / `dst ADDR`,
//!   `[tcp] [src|dst|...] port|portrange P`, `ip`, `ip6`, `tcp`, `less N`, `greater N`,
//!   `len OP N`, `tcp[tcpflags]` / `tcp[13]` (optionally `& MASK`) `OP VALUE`, constant
//!   relations, host names (every address), service names (/etc/services), network names
//!   (/etc/networks);
//! - `not`/`!` binds tightest, `and`/`&&` and `or`/`||` are equal and group left to right;
//!   a bare value after `and`/`or` repeats the previous qualifiers (`port 80 or 443`);
//! - refused with "not supported by tracer": other protocols (`udp`, `icmp`, `arp`, `ether`,
//!   ...), `vlan`, `mpls`, `proto`, `gateway`, `broadcast`, `inbound`, ..., loads other than
//!   `tcp[13]`, arithmetic on packet data other than `tcp[13] & MASK`.
//!
//! Known differences from libpcap: `port` matches TCP ports only (libpcap also UDP/SCTP
//! ones) and `host`/`net` do not look into ARP/RARP, which only matters for packets the
//! tracer never traces; contradictions libpcap's optimizer finds (`ip and ip6`) are accepted
//! and match nothing, where tcpdump refuses them (a constant false like `1 = 0` is refused
//! here too); on a capture cut inside the headers a test reads, libpcap's loads are made in
//! libpcap's order, including its optimizer's grouping of same-field comparisons in `or`
//! chains, but not every other optimizer reordering.

mod ast;
mod compile;
mod error;
mod lexer;
mod names;
mod parser;
mod run;

pub use ast::{Cmp, Dir, Expr, Prim};
pub use compile::{check as check_program, MAX_USERSPACE_INSNS};
pub use error::{FilterError, Location};

use crate::packet::Packet;
use std::fmt;
use tracer_common::filter::{FilterInsn, MAX_FILTER_INSNS};

/// The filter fields of a packet of any supported link type (the same extraction the
/// filter uses; the kernel runs it on Ethernet frames).
pub fn packet_fields(pkt: &Packet) -> tracer_common::PacketFields {
    run::frame_fields(pkt).0
}

/// Where a filter runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Nothing to test: the kernel program is empty and every TCP packet is delivered.
    AcceptAll,
    /// The kernel runs the whole program; delivered packets need no second look.
    Kernel,
    /// More than [`MAX_FILTER_INSNS`] instructions: the kernel gets an empty program
    /// (accept all) and userspace must call [`Filter::matches`] on every packet. The kernel
    /// must then capture the headers the filter reads, or `matches` rejects packets whose
    /// tested bytes were cut (as libpcap rejects them).
    Userspace,
}

/// A compiled filter expression.
#[derive(Clone, Debug)]
pub struct Filter {
    source: String,
    expr: Expr,
    program: Vec<FilterInsn>,
    placement: Placement,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::accept_all()
    }
}

impl Filter {
    /// The filter of an empty expression: every packet matches.
    pub fn accept_all() -> Filter {
        Filter {
            source: String::new(),
            expr: Expr::Const(true),
            program: Vec::new(),
            placement: Placement::AcceptAll,
        }
    }

    /// Parses and compiles a pcap-filter expression; host, port and network names are
    /// looked up now, like tcpdump does.
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        Filter::parse_with(expr, &names::SystemNames)
    }

    /// [`Filter::parse`] without the machine's resolver and files: only `localhost`, a few
    /// service names (ssh, http, https, domain) and the network `loopnet` are known. For
    /// inputs that must not trigger lookups (the fuzz targets).
    pub fn parse_without_lookups(expr: &str) -> Result<Filter, FilterError> {
        Filter::parse_with(expr, &names::FixedNames)
    }

    /// The filter of the command line's trailing words, joined by spaces as tcpdump does.
    pub fn from_args<I, S>(args: I) -> Result<Filter, FilterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let words: Vec<String> = args.into_iter().map(|s| s.as_ref().to_string()).collect();
        Filter::parse(&words.join(" "))
    }

    fn parse_with(src: &str, names: &dyn names::Names) -> Result<Filter, FilterError> {
        let expr = parser::parse(src, names)?;
        let too_complex = |why: String| FilterError::TooComplex {
            why,
            at: Location {
                column: 1,
                expr: src.to_string(),
            },
        };
        // The parser bounds nesting, so the recursive passes below are safe.
        let n = expr.prim_count();
        if n > MAX_USERSPACE_INSNS {
            return Err(too_complex(format!(
                "{n} primitives, at most {MAX_USERSPACE_INSNS} can be evaluated"
            )));
        }
        let expr = expr.simplify();
        if expr == Expr::Const(false) {
            return Err(FilterError::RejectsAll {
                expr: src.to_string(),
            });
        }
        let program = compile::compile(&expr);
        let placement = if program.is_empty() {
            Placement::AcceptAll
        } else if program.len() <= MAX_FILTER_INSNS as usize {
            Placement::Kernel
        } else {
            Placement::Userspace
        };
        Ok(Filter {
            source: src.to_string(),
            expr,
            program,
            placement,
        })
    }

    /// The instructions to load into the kernel's `FILTER` array; empty accepts every TCP
    /// packet (no filter, or one too large for the kernel: see [`Filter::placement`]).
    pub fn kernel_program(&self) -> &[FilterInsn] {
        match self.placement {
            Placement::Kernel => &self.program,
            _ => &[],
        }
    }

    /// The whole compiled program, whatever its size (what [`Filter::matches`] runs).
    pub fn program(&self) -> &[FilterInsn] {
        &self.program
    }

    /// Whether the kernel filters, or userspace must.
    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// The expression as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed, normalised expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Whether the filter selects `pkt`, exactly as libpcap's filter would on the captured
    /// bytes (a test reading past them rejects the packet). Allocates nothing.
    pub fn matches(&self, pkt: &Packet) -> bool {
        if self.program.is_empty() {
            return true;
        }
        let (f, frame) = run::frame_fields(pkt);
        if run::fully_captured(&f, &frame) {
            tracer_common::filter::run(&self.program, &f)
        } else {
            run::eval_cut(&self.expr, &f, &frame).unwrap_or(false)
        }
    }

    /// The two readings of the filter on `pkt`: the compiled program (what the kernel runs)
    /// and the expression tree (what [`Filter::matches`] falls back to on a cut packet), or
    /// `None` when the packet is cut inside the bytes the filter tests (where only the tree
    /// applies). They must agree; the fuzz target `filter` checks that they do.
    pub fn both_readings(&self, pkt: &Packet) -> Option<(bool, bool)> {
        let (f, frame) = run::frame_fields(pkt);
        if !run::fully_captured(&f, &frame) {
            return None;
        }
        let program = self.program.is_empty() || tracer_common::filter::run(&self.program, &f);
        let tree = run::eval_cut(&self.expr, &f, &frame).ok()?;
        Some((program, tree))
    }
}

impl fmt::Display for Filter {
    /// The normalised expression; empty for a filter that accepts everything.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expr {
            Expr::Const(true) => Ok(()),
            ref e => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{LinkType, Timestamp};

    fn ipv4_tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut p = vec![0u8; 54];
        p[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        p[14] = 0x45;
        p[23] = 6;
        p[26..30].copy_from_slice(&[10, 0, 0, 1]);
        p[30..34].copy_from_slice(&[10, 0, 0, 2]);
        p[34..36].copy_from_slice(&sport.to_be_bytes());
        p[36..38].copy_from_slice(&dport.to_be_bytes());
        p[46] = 0x50;
        p[47] = flags;
        p
    }

    fn pkt(link: LinkType, data: &[u8], wire_len: u32) -> Packet<'_> {
        Packet {
            ts: Timestamp::default(),
            link,
            data,
            wire_len,
        }
    }

    #[test]
    fn empty_expression_accepts_all() {
        let f = Filter::parse("  ").unwrap();
        assert_eq!(f.placement(), Placement::AcceptAll);
        assert!(f.kernel_program().is_empty());
        assert_eq!(f.to_string(), "");
        assert!(f.matches(&pkt(LinkType::Ethernet, &[], 0)));
        assert_eq!(Filter::default().placement(), Placement::AcceptAll);
    }

    #[test]
    fn args_join_like_tcpdump() {
        let f = Filter::from_args(["tcp", "port 80", "or", "443"]).unwrap();
        assert_eq!(f.to_string(), "port 80 or port 443");
        assert_eq!(f.source(), "tcp port 80 or 443");
        assert_eq!(f.placement(), Placement::Kernel);
        assert_eq!(f.kernel_program().len(), 2);
    }

    #[test]
    fn every_link_type() {
        let eth = ipv4_tcp(40000, 80, 0x02);
        let f = Filter::parse("dst port 80 and host 10.0.0.2 and tcp[tcpflags] = tcp-syn").unwrap();
        assert!(f.matches(&pkt(LinkType::Ethernet, &eth, 54)));
        let raw = &eth[14..];
        assert!(f.matches(&pkt(LinkType::Raw, raw, 40)));
        let mut sll = vec![0u8; 16];
        sll[14..16].copy_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(raw);
        assert!(f.matches(&pkt(LinkType::LinuxSll, &sll, 56)));
        let mut sll2 = vec![0u8; 20];
        sll2[0..2].copy_from_slice(&0x0800u16.to_be_bytes());
        sll2.extend_from_slice(raw);
        assert!(f.matches(&pkt(LinkType::LinuxSll2, &sll2, 60)));
        let with = |hdr: &[u8]| [hdr, raw].concat();
        let null_le = with(&2u32.to_le_bytes());
        let null_be = with(&2u32.to_be_bytes());
        let ppp = with(&[0xff, 0x03, 0x00, 0x21]);
        let chdlc = with(&[0x0f, 0x00, 0x08, 0x00]);
        let others = [
            (LinkType::Null { big_endian: false }, &null_le),
            (LinkType::Null { big_endian: true }, &null_be),
            (LinkType::Loop, &null_be),
            (LinkType::Ppp, &ppp),
            (LinkType::PppHdlc, &ppp),
            (LinkType::CHdlc, &chdlc),
        ];
        for (l, d) in others {
            assert!(f.matches(&pkt(l, d, d.len() as u32)), "{l:?}");
        }
        assert!(f.matches(&pkt(LinkType::Ipv4, raw, 40)));
        // The family in the other byte order than the file's: libpcap's `ip` fails.
        let ip = Filter::parse("ip").unwrap();
        assert!(!ip.matches(&pkt(LinkType::Null { big_endian: false }, &null_be, 44)));
        assert!(!ip.matches(&pkt(LinkType::Ipv6, raw, 40)));
        let g = Filter::parse("port 81").unwrap();
        for (l, d) in [
            (LinkType::Ethernet, &eth[..]),
            (LinkType::Raw, raw),
            (LinkType::LinuxSll, &sll),
            (LinkType::LinuxSll2, &sll2),
        ]
        .into_iter()
        .chain(others.map(|(l, d)| (l, &d[..])))
        {
            assert!(!g.matches(&pkt(l, d, d.len() as u32)));
        }
    }

    #[test]
    fn truncated_packets_reject_like_libpcap() {
        let eth = ipv4_tcp(40000, 80, 0x02);
        // Ports captured, flags not: a flags test rejects, whatever `not` says.
        let cut = &eth[..14 + 20 + 10];
        let flags = Filter::parse("not tcp[13] & 4 != 0").unwrap();
        assert!(flags.matches(&pkt(LinkType::Ethernet, &eth, 54)));
        assert!(!flags.matches(&pkt(LinkType::Ethernet, cut, 54)));
        // A matching source port decides before the destination port is loaded.
        let cut = &eth[..14 + 20 + 2];
        let src = Filter::parse("port 40000").unwrap();
        assert!(src.matches(&pkt(LinkType::Ethernet, cut, 54)));
        let dst = Filter::parse("port 80").unwrap();
        assert!(!dst.matches(&pkt(LinkType::Ethernet, cut, 54)));
        // Only the Ethernet header: `tcp` cannot load the protocol byte.
        let cut = &eth[..14];
        assert!(!Filter::parse("not tcp")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, cut, 54)));
        assert!(Filter::parse("ip")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, cut, 54)));
        // Nothing at all: only the length can be tested.
        assert!(!Filter::parse("not ip")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, &[], 54)));
        assert!(Filter::parse("greater 50")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, &[], 54)));
    }

    #[test]
    fn truncated_or_chains_compare_a_field_before_loading_the_next() {
        let eth = ipv4_tcp(40000, 80, 0x02);
        let cut = &eth[..14 + 20 + 2];
        // libpcap's optimizer tests the source port against 80 and 40000 before it loads
        // the destination port; a host test in between keeps the order of the expression.
        assert!(Filter::parse("port 80 or 40000").unwrap().matches(&pkt(
            LinkType::Ethernet,
            cut,
            54
        )));
        assert!(!Filter::parse("port 80 or host 10.9.9.9 or port 40000")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, cut, 54)));
        assert!(!Filter::parse("not port 80 and not port 40000")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, cut, 54)));
        // Source address captured, destination not.
        let cut = &eth[..14 + 16];
        assert!(Filter::parse("host 10.9.9.9 or 10.0.0.1")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, cut, 54)));
        assert!(!Filter::parse("host 10.9.9.9 or net 10.0.0.0/8")
            .unwrap()
            .matches(&pkt(LinkType::Ethernet, cut, 54)));
    }

    #[test]
    fn large_filters_fall_back_to_userspace() {
        let words: Vec<String> = (1..=600).map(|p| format!("port {p}")).collect();
        let f = Filter::parse(&words.join(" or ")).unwrap();
        assert_eq!(f.placement(), Placement::Userspace);
        assert!(f.kernel_program().is_empty());
        assert_eq!(f.program().len(), 600);
        assert_eq!(check_program(f.program()), Ok(()));
        let eth = ipv4_tcp(40000, 80, 0x02);
        assert!(f.matches(&pkt(LinkType::Ethernet, &eth, 54)));
        let eth = ipv4_tcp(40000, 8080, 0x02);
        assert!(!f.matches(&pkt(LinkType::Ethernet, &eth, 54)));
        let words: Vec<String> = (1..=MAX_FILTER_INSNS)
            .map(|p| format!("port {p}"))
            .collect();
        let f = Filter::parse(&words.join(" or ")).unwrap();
        assert_eq!(f.placement(), Placement::Kernel);
    }

    #[test]
    fn constant_filters() {
        let f = Filter::parse("1 = 1 and 2 > 1").unwrap();
        assert_eq!(f.placement(), Placement::AcceptAll);
        let f = Filter::parse("port 80 and 2 > 1").unwrap();
        assert_eq!(f.to_string(), "port 80");
        assert_eq!(
            Filter::parse("port 80 and 1 = 0").unwrap_err().to_string(),
            "filter: 'port 80 and 1 = 0' rejects all packets"
        );
    }
}
