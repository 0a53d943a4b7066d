//! tcpdump 4.99's text output for TCP over IPv4/IPv6.
//!
//! The modules mirror tcpdump's printers: `ether`, `sll` (Linux cooked and raw IP),
//! `null` (BSD loopback), `ppp` (PPP, PPP in HDLC framing, the PPP control protocols) and
//! `chdlc` (Cisco HDLC, SLARP) for the link layers, `ip`,
//! `ip6`, `tcp`, `tcp_options`, the application printers `tcp` hands the payload to by
//! port (print-tcp.c's table, in its order): `telnet` (23), `txtproto` with its users
//! SMTP (25), WHOIS (43) and FTP (21), `bgp` (179), `pptp` (1723), `resp` (6379, Redis),
//! `ssh` (22), `beep` (10288), `openflow` (6633, 6653, message headers), `http` (80, 8080), `rtsp` (554, 8554), `domain` (53, DNS
//! over TCP), `msdp` (639), `rpki_rtr` (323), `ldp` (646) and `nfs` (2049, NFS over
//! TCP, with parsenfsfh.c's file handle guesses); plus [`seq`] (relative
//! sequence numbers), [`names`] (host/port names), `util` (tcpdump's util-print.c
//! helpers), `time` (timestamps) and `hexdump` (`-x`/`-X`/`-A`). Each printer follows its
//! C counterpart's control flow, including where tcpdump bails out, so truncated and
//! malformed packets print the same markers.
//!
//! The hot path does not allocate: everything is written straight into the caller's
//! buffer, names and local times are cached.
//!
//! Where this is not byte-identical to tcpdump 4.99.3 (all outside the golden corpora):
//! * OpenFlow (6633, 6653) prints tcpdump's message headers and length checks, but with
//!   `-v` tcpdump also decodes the message bodies (print-openflow-1.0.c, -1.3.c: ports,
//!   matches, actions, statistics, the frames of PACKET_IN/OUT); of those only the
//!   HELLO/ECHO data form is ported, so other bodies print nothing at `-v`. (SMB/NetBIOS,
//!   139 and 445, print the TCP summary in both: Debian builds tcpdump without its SMB
//!   printer.)
//! * NFS replies are decoded through the call tcpdump's 64-entry xid map remembers; each
//!   printer has its own map, so `-r` on several cores (one printer per group of
//!   conversations) can decode a reply tcpdump would not, or the other way round, when an
//!   xid is reused across TCP connections between the same hosts or more than 64 calls
//!   of other conversations come between a call and its reply;
//! * the data packet an MSDP SA carries (`-vv`) goes through this IP printer, so only a
//!   TCP one is decoded like tcpdump's (see below), and one nested more than
//!   `msdp::MAX_DEPTH` deep is skipped;
//! * non-IP ethertypes (ARP, MPLS, 802.3/LLC, MACsec, ...) print tcpdump's raw-data
//!   fallback instead of their decoders, non-TCP IP protocols print the generic
//!   `ip-proto-N LEN` form, and an IPv6 mobility header ends the line; likewise the ISO,
//!   AppleTalk and IPX families of BSD loopback print like an unknown family, the PPP
//!   payloads of PAP, CHAP, BAP, multilink, IPX, OSI, MPLS and HDLC escapes (protocols
//!   0x7eXX) print their protocol name and a hex dump, the option lists of CCP and BACP are
//!   not printed at `-v`, and Cisco HDLC's MPLS and OSI payloads print nothing after the
//!   `-e` header (`unknown CHDLC protocol` without it). `tracer -r` prints only TCP
//!   packets, so none of these reaches its output;
//! * a reverse lookup slower than [`LOOKUP_BOUND`] prints the address numerically
//!   (tcpdump would block and print the name); this includes addresses inside payloads
//!   (BGP next hops and prefixes, LDP and RPKI-RTR addresses) without `-n`;
//! * conversations idle past the sequence table's bound ([`SEQ_TABLE_GENERATION`]) restart
//!   with absolute numbers (tcpdump's table never forgets);
//! * `-AA`, `-b` (asdot AS numbers), `-T` (forced packet types) and `-M secret` have no
//!   option here (md5 options print tcpdump's "shared secret not supplied with -M, can't
//!   check - ..." form).

mod beep;
mod bgp;
mod chdlc;
mod ctx;
mod domain;
mod ether;
mod hexdump;
mod http;
mod ip;
mod ip6;
mod ldp;
mod mptcp;
mod msdp;
pub mod names;
mod nfs;
mod null;
mod openflow;
mod options;
mod parallel;
mod ppp;
mod pptp;
mod printer;
mod resp;
mod rpki_rtr;
mod rtsp;
pub mod seq;
mod sll;
mod ssh;
mod tables;
mod tcp;
mod tcp_options;
mod telnet;
pub(crate) mod time;
mod txtproto;
mod util;
pub(crate) mod write;
mod xid;

pub use names::{Resolver, SystemResolver, LOOKUP_BOUND};
pub use options::PrintOptions;
pub use parallel::ParallelPrinter;
pub use printer::Printer;
pub use seq::GENERATION as SEQ_TABLE_GENERATION;
pub(crate) use tcp::flag_letters as tcp_flags;
