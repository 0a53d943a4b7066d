//! Shared driver of the fuzz targets: the input becomes a TCP segment to or from one of
//! the application ports and is printed in every verbosity (and with names, and `-X
//! -vvv`, which changes telnet's output), so each application printer sees arbitrary
//! payloads, cut anywhere.
//!
//! Input layout: byte 0 picks the port (`ports[b % len]`), the direction (bit 7) and IPv6
//! (bit 6); byte 1 is how much of the segment is captured (255: all of it, else that
//! share of it); the rest is the payload.

pub mod targets;

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use tracer::checksum;
use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::print::{PrintOptions, Printer, Resolver};

/// Resolves nothing: the targets never wait for a name.
pub struct NoNames;

impl Resolver for NoNames {
    fn host(&self, _a: std::net::IpAddr) -> Option<String> {
        None
    }
    fn tcp_port(&self, _p: u16) -> Option<String> {
        None
    }
    fn if_name(&self, _i: u32) -> Option<String> {
        None
    }
}

fn options() -> Vec<PrintOptions> {
    let mut v = Vec::new();
    for (numeric, verbose, hex_ascii) in [
        (2, 0, 0),
        (2, 1, 0),
        (2, 2, 0),
        (2, 3, 0),
        (0, 1, 0),
        (2, 3, 1),
    ] {
        v.push(PrintOptions {
            numeric,
            verbose,
            hex_ascii,
            ..Default::default()
        });
    }
    v
}

thread_local! {
    static PRINTERS: RefCell<Vec<Printer>> = RefCell::new(
        options()
            .into_iter()
            .map(|o| {
                let mut p = Printer::with_resolver(o, Arc::new(NoNames));
                p.set_lookup_bound(Duration::ZERO);
                p
            })
            .collect(),
    );
}

/// One TCP segment to frame: the addresses (4 or 16 bytes each), ports, sequence and
/// acknowledgment numbers, flags (the 8 bits of byte 13), window and payload.
pub struct Segment<'a> {
    pub src: &'a [u8],
    pub dst: &'a [u8],
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload: &'a [u8],
}

/// The Ethernet frame of `s`, with correct IP and TCP checksums.
pub fn tcp_frame(s: &Segment) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20 + s.payload.len());
    tcp.extend_from_slice(&s.sport.to_be_bytes());
    tcp.extend_from_slice(&s.dport.to_be_bytes());
    tcp.extend_from_slice(&s.seq.to_be_bytes());
    tcp.extend_from_slice(&s.ack.to_be_bytes());
    tcp.extend_from_slice(&[0x50, s.flags]);
    tcp.extend_from_slice(&s.window.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]);
    tcp.extend_from_slice(s.payload);
    let mut f = vec![2, 0x79, 0, 0, 0, 2, 2, 0x79, 0, 0, 0, 1];
    let c = checksum::finish(checksum::add(
        checksum::pseudo_header(s.src, s.dst, 6, tcp.len() as u32),
        &tcp,
    ));
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    if s.src.len() == 16 {
        f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
        f.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        f.extend_from_slice(&[6, 64]);
        f.extend_from_slice(s.src);
        f.extend_from_slice(s.dst);
    } else {
        let total = (20 + tcp.len()) as u16;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
        ip.extend_from_slice(s.src);
        ip.extend_from_slice(s.dst);
        let c = checksum::of(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
    }
    f.extend_from_slice(&tcp);
    f
}

/// The Ethernet frame of a TCP segment (PSH|ACK, window 502) carrying `payload`, between
/// 10.79.0.1 and 10.79.0.2 (or fd79::1 and fd79::2).
pub fn frame(sport: u16, dport: u16, payload: &[u8], v6: bool) -> Vec<u8> {
    let (s4, d4) = ([10u8, 79, 0, 1], [10u8, 79, 0, 2]);
    let mut s6 = [0u8; 16];
    s6[0] = 0xfd;
    s6[1] = 0x79;
    let mut d6 = s6;
    s6[15] = 1;
    d6[15] = 2;
    let (src, dst): (&[u8], &[u8]) = if v6 { (&s6, &d6) } else { (&s4, &d4) };
    tcp_frame(&Segment {
        src,
        dst,
        sport,
        dport,
        seq: 1000,
        ack: 2000,
        flags: 0x18,
        window: 0x01f6,
        payload,
    })
}

/// Prints the segment described by `data` (see the module doc) in every mode.
pub fn run(data: &[u8], ports: &[u16]) {
    if data.len() < 2 || data.len() > 65_000 {
        return;
    }
    let port = ports[(data[0] & 0x3f) as usize % ports.len()];
    let (sport, dport) = if data[0] & 0x80 != 0 {
        (port, 40000)
    } else {
        (40000, port)
    };
    let f = frame(sport, dport, &data[2..], data[0] & 0x40 != 0);
    let cut = if data[1] == 255 {
        f.len()
    } else {
        f.len() * data[1] as usize / 255
    };
    let pkt = Packet {
        ts: Timestamp::new(1_700_000_000, 0),
        link: LinkType::Ethernet,
        data: &f[..cut],
        wire_len: f.len() as u32,
    };
    let mut out = Vec::new();
    PRINTERS.with(|p| {
        for pr in p.borrow_mut().iter_mut() {
            out.clear();
            pr.print(&pkt, &mut out);
            assert!(out.ends_with(b"\n"));
        }
    });
}

/// Every application port print-tcp.c dispatches on, for the catch-all target.
pub const APP_PORTS: &[u16] = &[
    23, 25, 43, 179, 1723, 6379, 22, 139, 445, 10288, 6633, 6653, 21, 80, 8080, 554, 8554, 53, 639,
    323, 646, 2049,
];
