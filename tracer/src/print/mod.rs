//! tcpdump 4.99's text output for TCP over IPv4/IPv6.

use crate::packet::Packet;

/// Output flags, named after tcpdump's own and counted the same way (`-nn` is `numeric: 2`).
#[derive(Clone, Debug, Default)]
pub struct PrintOptions {
    /// `-n` count: 1 = numeric hosts, 2 = numeric hosts and ports.
    pub numeric: u8,
    /// `-v` count.
    pub verbose: u8,
    /// `-x` count (2 = `-xx`: include the link header).
    pub hex: u8,
    /// `-X` count (2 = `-XX`).
    pub hex_ascii: u8,
    /// `-A`.
    pub ascii: bool,
    /// `-S`: absolute sequence numbers.
    pub absolute_seq: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-e`: print the link-level header.
    pub link_header: bool,
    /// `-t` count: 0 default, 1 none, 2 epoch, 3 delta, 4 date, 5 since first.
    pub timestamp: u8,
}

/// Turns packets into tcpdump lines; keeps the state tcpdump keeps between packets
/// (relative sequence numbers, previous timestamp, name caches).
pub struct Printer {
    #[allow(dead_code)]
    opts: PrintOptions,
}

impl Printer {
    pub fn new(opts: PrintOptions) -> Printer {
        Printer { opts }
    }

    /// Appends the full text tcpdump prints for `pkt` (newline included) to `out`.
    pub fn print(&mut self, pkt: &Packet, out: &mut Vec<u8>) {
        // Interim: a debug line until the tcpdump printer lands.
        use std::io::Write;
        let f = tracer_common::extract_fields(pkt.data, pkt.wire_len);
        let _ = writeln!(
            out,
            "{}.{:09} {:?} len {} cap {} {}:{} > {}:{} flags {:#04x}",
            pkt.ts.sec,
            pkt.ts.nsec,
            pkt.link,
            pkt.wire_len,
            pkt.data.len(),
            f.saddr[3],
            f.sport,
            f.daddr[3],
            f.dport,
            f.tcp_flags
        );
    }
}
