//! The targets of the capture path, each the same calls `tracer -r` or the live loop makes:
//! the pcap/pcapng reader ([`pcap_reader`]), the ring record decoder ([`live_record`]),
//! the filter parser and its two readings ([`filter`]), the printer in every output mode
//! ([`printer`]) and the connection tracker with its text and JSON lines ([`conn`]).
//!
//! Each one asserts what must hold whatever the input: no panic (libFuzzer's finding),
//! every printed line ends in a newline, every JSON line parses, and the filter's compiled
//! program agrees with its expression tree.

use std::cell::RefCell;
use std::io::Cursor;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use tracer::conn::{
    Event, RecordPrinter, RecordSelect, Sockets, TimeBase, Tracker, TrackerOptions,
};
use tracer::filter::{packet_fields, Filter};
use tracer::live::clock::WallClock;
use tracer::live::csum::TxOffloads;
use tracer::live::iface::Interface;
use tracer::live::record::RecordDecoder;
use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::pcap::PcapReader;
use tracer::print::{PrintOptions, Printer};
use tracer_common::{parse_record, Record, RECORD_VERSION};

use crate::NoNames;

/// Every output mode of the printer: the verbosities, names, quiet, hex and ASCII dumps,
/// link headers, absolute sequence numbers and every timestamp style.
pub fn every_mode() -> Vec<PrintOptions> {
    let o = |f: &dyn Fn(&mut PrintOptions)| {
        let mut p = PrintOptions {
            numeric: 2,
            ..Default::default()
        };
        f(&mut p);
        p
    };
    let mut v = vec![
        o(&|_| {}),
        o(&|p| p.numeric = 0),
        o(&|p| p.verbose = 1),
        o(&|p| p.verbose = 2),
        o(&|p| p.verbose = 3),
        o(&|p| p.quiet = true),
        o(&|p| p.hex = 1),
        o(&|p| p.hex = 2),
        o(&|p| p.hex_ascii = 1),
        o(&|p| p.hex_ascii = 2),
        o(&|p| p.ascii = true),
        o(&|p| p.link_header = true),
        o(&|p| p.absolute_seq = true),
        o(&|p| {
            p.link_header = true;
            p.verbose = 3;
            p.hex_ascii = 2;
            p.numeric = 0;
        }),
    ];
    for t in 1..=5 {
        v.push(o(&|p| p.timestamp = t));
    }
    v
}

fn printers(modes: Vec<PrintOptions>) -> Vec<Printer> {
    modes
        .into_iter()
        .map(|o| {
            let mut p = Printer::with_resolver(o, Arc::new(NoNames));
            p.set_lookup_bound(Duration::ZERO);
            p
        })
        .collect()
}

fn print_checked(p: &mut Printer, pkt: &Packet, out: &mut Vec<u8>) {
    out.clear();
    p.print(pkt, out);
    assert!(out.ends_with(b"\n"), "a packet line without its newline");
}

fn json_checked(line: &[u8]) {
    if line.is_empty() {
        return;
    }
    assert!(line.ends_with(b"\n"), "a JSON line without its newline");
    for l in line[..line.len() - 1].split(|&b| b == b'\n') {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(l) {
            panic!("not JSON ({e}): {}", String::from_utf8_lossy(l));
        }
    }
}

/// The link types `tracer -r` reads, in the order byte values pick them.
pub const LINKS: [LinkType; 13] = [
    LinkType::Ethernet,
    LinkType::Null { big_endian: false },
    LinkType::Null { big_endian: true },
    LinkType::Loop,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Ppp,
    LinkType::PppHdlc,
    LinkType::CHdlc,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Ethernet,
];

thread_local! {
    static ALL_MODES: RefCell<Vec<Printer>> = RefCell::new(printers(every_mode()));
}

/// Input: byte 0 picks the link type, bytes 1-2 the wire length beyond the captured bytes
/// (0xffff: shorter than captured, as a file may say), bytes 3-6 the timestamp's
/// nanoseconds (any value, invalid ones included); the rest is the captured frame. Printed
/// in every mode.
pub fn printer(data: &[u8]) {
    if data.len() < 7 {
        return;
    }
    let link = LINKS[data[0] as usize % LINKS.len()];
    let extra = u16::from_le_bytes([data[1], data[2]]);
    let nsec = u32::from_le_bytes([data[3], data[4], data[5], data[6]]);
    let frame = &data[7..];
    let wire_len = if extra == 0xffff {
        (frame.len() as u32) / 2
    } else {
        frame.len() as u32 + extra as u32
    };
    let pkt = Packet {
        ts: Timestamp::new(1_700_000_000 + (data[0] as i64), nsec),
        link,
        data: frame,
        wire_len,
    };
    let mut out = Vec::new();
    ALL_MODES.with(|p| {
        for pr in p.borrow_mut().iter_mut() {
            print_checked(pr, &pkt, &mut out);
        }
    });
}

thread_local! {
    static READER_PRINTERS: RefCell<Vec<Printer>> = RefCell::new(printers(vec![
        PrintOptions { numeric: 2, verbose: 1, ..Default::default() },
        PrintOptions { numeric: 2, hex_ascii: 2, link_header: true, ..Default::default() },
    ]));
}

/// Input: a whole capture file (pcap in either byte order and resolution, or pcapng).
/// Read as `tracer -r` reads it: every packet until the end or the first error, each
/// printed, with the `tcp` filter run over it.
pub fn pcap_reader(data: &[u8]) {
    let Ok(mut r) = PcapReader::from_reader(Cursor::new(data.to_vec())) else {
        return;
    };
    let _ = (r.format(), r.snaplen(), r.link_type(), r.linktype_number());
    let tcp = Filter::parse_without_lookups("tcp port 80 or tcp[13] & 2 != 0").expect("filter");
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(next) = r.next_packet() {
        let Ok(pkt) = next else {
            break;
        };
        n += 1;
        assert!(n <= data.len(), "more packets than bytes");
        let _ = tcp.matches(&pkt);
        READER_PRINTERS.with(|p| {
            for pr in p.borrow_mut().iter_mut() {
                print_checked(pr, &pkt, &mut out);
            }
        });
    }
    let _ = r.packets_read();
}

/// Interfaces the record decoder knows: an Ethernet device that offloads nothing (so
/// records take the software segmentation and checksum paths), one that offloads all,
/// loopback and a layer-3 tun device.
fn decoder(cooked: bool) -> RecordDecoder {
    const UP_RUNNING: u32 = 0x41;
    let ifaces = [
        Interface::new("fz0", 1, UP_RUNNING, 1),
        Interface::new("fz1", 2, UP_RUNNING, 1),
        Interface::new("lo", 3, UP_RUNNING | 0x8, 772),
        Interface::new("fztun", 4, UP_RUNNING, 65534),
    ];
    let mut d = RecordDecoder::new(WallClock::measure(), cooked, &ifaces);
    d.set_offloads(1, TxOffloads::default());
    d.set_offloads(2, TxOffloads::OFFLOADED);
    d
}

struct LiveState {
    decoders: [RecordDecoder; 2],
    printers: Vec<Printer>,
    records: [RecordPrinter; 2],
    sockets: Sockets,
}

thread_local! {
    static LIVE: RefCell<LiveState> = RefCell::new(LiveState {
        decoders: [decoder(false), decoder(true)],
        printers: printers(vec![
            PrintOptions { numeric: 2, ..Default::default() },
            PrintOptions { numeric: 2, verbose: 2, hex_ascii: 2, link_header: true, ..Default::default() },
        ]),
        records: [false, true].map(|json| {
            let select = RecordSelect { conns: true, http: true, states: true, retrans: true };
            let ifnames = vec![(1, "fz0".to_string()), (4, "fztun".to_string())];
            RecordPrinter::with_resolver(&PrintOptions::default(), json, select, ifnames, Arc::new(NoNames))
        }),
        sockets: Sockets::new(),
    });
}

/// Input: byte 0 picks the decoder (bit 0: `-i any`'s cooked framing) and the record kind
/// (bits 1-3, written into the record's prefix with this build's version so the fuzzer
/// need not find them); the rest is one ring record, as the kernel writes it. Decoded as
/// the live loop decodes it and printed as text and JSON.
pub fn live_record(data: &[u8]) {
    if data.len() < 17 {
        return;
    }
    let mut rec = data[1..].to_vec();
    let kind = 1 + ((data[0] >> 1) & 7) as u16 % 6;
    rec[0..2].copy_from_slice(&kind.to_ne_bytes());
    rec[2..4].copy_from_slice(&RECORD_VERSION.to_ne_bytes());
    let Some(r) = parse_record(&rec) else {
        return;
    };
    LIVE.with(|l| {
        let l = &mut *l.borrow_mut();
        let tb = TimeBase::Monotonic(l.decoders[0].clock);
        let mut out = Vec::new();
        match r {
            Record::Packet(h, frame) => {
                let (printers, records) = (&mut l.printers, &mut l.records);
                let d = &mut l.decoders[(data[0] & 1) as usize];
                let mut n = 0u32;
                let _ = d.decode(&h, frame, |pkt| {
                    n += 1;
                    assert!(n <= 65536, "more segments than a GSO packet holds");
                    for p in printers.iter_mut() {
                        print_checked(p, pkt, &mut out);
                    }
                    out.clear();
                    records[1].packet_json(pkt, Some(h.ifindex), None, &mut out);
                    json_checked(&out);
                    ControlFlow::Continue(())
                });
            }
            Record::Conn(c) => events(l, Event::Conn(c), &tb),
            Record::Http(h) => events(l, Event::Http(h), &tb),
            Record::Sock(s) => events(l, Event::Sock(s), &tb),
        }
    });
}

fn events(l: &mut LiveState, e: Event, tb: &TimeBase) {
    let mut out = Vec::new();
    for (json, p) in l.records.iter_mut().enumerate() {
        out.clear();
        p.event(&e, tb, &mut out, &mut l.sockets);
        if json == 1 {
            json_checked(&out);
        } else {
            assert!(out.is_empty() || out.ends_with(b"\n"));
        }
    }
}

/// Input: a filter expression (up to the first NUL byte; the bytes after it are a frame
/// the filter is run on, in each link type). Parsed without name lookups; when it parses,
/// its normalised text must parse again to the same program, and on every fully captured
/// packet the compiled program (the kernel's reading) and the expression tree must agree.
pub fn filter(data: &[u8]) {
    let (expr, frame) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(expr) = std::str::from_utf8(expr) else {
        return;
    };
    if expr.len() > 2000 {
        return;
    }
    let Ok(f) = Filter::parse_without_lookups(expr) else {
        return;
    };
    let _ = f.placement();
    let text = f.to_string();
    if !text.is_empty() {
        let again = Filter::parse_without_lookups(&text)
            .unwrap_or_else(|e| panic!("{expr:?} prints as {text:?}, which does not parse: {e}"));
        assert_eq!(
            again.program(),
            f.program(),
            "{expr:?} and its text {text:?} differ"
        );
    }
    for link in [LinkType::Ethernet, LinkType::Raw, LinkType::LinuxSll2] {
        for cut in [frame.len(), frame.len() * 3 / 4, frame.len() / 2] {
            let pkt = Packet {
                ts: Timestamp::new(1_700_000_000, 0),
                link,
                data: &frame[..cut],
                wire_len: frame.len() as u32,
            };
            let m = f.matches(&pkt);
            if let Some((program, tree)) = f.both_readings(&pkt) {
                assert_eq!(program, tree, "{expr:?}: the program and the tree disagree");
                assert_eq!(m, program, "{expr:?}: matches disagrees with the program");
            }
        }
    }
}

/// One packet of [`conn`]'s input: 12 bytes of header, then the payload.
const CONN_HEADER: usize = 12;

/// Input: a sequence of packets on three connections' address pairs (IPv4, IPv6, and one
/// that reuses the first's ports), each `[flow/dir, µs since the last (u16), seq delta
/// (u16), ack delta (u16), flags, window (u16), payload kind, payload length]` then the
/// payload: raw bytes, or an HTTP request or response line the tracker pairs. Run through
/// the tracker as `tracer -r --conn --http` runs it (idle and linger timers short enough
/// to fire), every record printed as text and JSON.
pub fn conn(data: &[u8]) {
    thread_local! {
        static OUT: RefCell<[RecordPrinter; 2]> = RefCell::new([false, true].map(|json| {
            let select = RecordSelect { conns: true, http: true, states: false, retrans: false };
            RecordPrinter::with_resolver(&PrintOptions::default(), json, select, Vec::new(), Arc::new(NoNames))
        }));
    }
    let mut t = Tracker::new(TrackerOptions {
        idle_ns: 50_000_000,
        linger_ns: 5_000_000,
        http: true,
    });
    let mut sockets = Sockets::new();
    let mut events: Vec<Event> = Vec::new();
    let mut now: u64 = 1_700_000_000_000_000_000;
    let mut seq = [[1000u32; 2]; 3];
    let mut rest = data;
    let mut n = 0;
    while rest.len() >= CONN_HEADER && n < 2000 {
        n += 1;
        let h = &rest[..CONN_HEADER];
        let plen = (h[11] as usize).min(rest.len() - CONN_HEADER);
        let raw = &rest[CONN_HEADER..CONN_HEADER + plen];
        rest = &rest[CONN_HEADER + plen..];
        let flow = (h[0] & 3) as usize % 3;
        let dir = ((h[0] >> 2) & 1) as usize;
        now += u16::from_le_bytes([h[1], h[2]]) as u64 * 1000;
        seq[flow][dir] = seq[flow][dir].wrapping_add(u16::from_le_bytes([h[3], h[4]]) as u32);
        seq[flow][1 - dir] =
            seq[flow][1 - dir].wrapping_add(u16::from_le_bytes([h[5], h[6]]) as u32);
        let payload: Vec<u8> = match h[10] % 4 {
            0 => raw.to_vec(),
            1 => [b"GET /".as_slice(), raw, b" HTTP/1.1\r\n\r\n"].concat(),
            2 => [b"HTTP/1.1 ".as_slice(), raw, b" OK\r\n\r\n"].concat(),
            _ => [b"HTTP/1.0 200".as_slice(), raw].concat(),
        };
        let (a, b) = ([10u8, 79, 0, 1], [10u8, 79, 0, 2]);
        let (a6, b6) = (
            [0xfdu8, 0x79, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xfdu8, 0x79, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        );
        let ports = [(40000u16, 80u16), (40001, 8080), (40000, 80)];
        let (mut sp, mut dp) = ports[flow];
        if dir == 1 {
            std::mem::swap(&mut sp, &mut dp);
        }
        let (mut src, mut dst): (&[u8], &[u8]) = if flow == 1 { (&a6, &b6) } else { (&a, &b) };
        if dir == 1 {
            std::mem::swap(&mut src, &mut dst);
        }
        let frame = crate::tcp_frame(&crate::Segment {
            src,
            dst,
            sport: sp,
            dport: dp,
            seq: seq[flow][dir],
            ack: seq[flow][1 - dir],
            flags: h[7],
            window: u16::from_le_bytes([h[8], h[9]]),
            payload: &payload,
        });
        let pkt = Packet {
            ts: Timestamp::from_nanos(now as i128),
            link: LinkType::Ethernet,
            data: &frame,
            wire_len: frame.len() as u32,
        };
        let fields = packet_fields(&pkt);
        if !fields.has(tracer_common::fields::bit::TCP) {
            continue;
        }
        t.packet(pkt.data, &fields, 0, now, &mut |e| events.push(e));
    }
    t.advance(now + 10_000_000, &mut |e| events.push(e));
    t.finish_all(&mut |e| events.push(e));
    let mut out = Vec::new();
    OUT.with(|o| {
        let o = &mut *o.borrow_mut();
        for e in &events {
            for (json, p) in o.iter_mut().enumerate() {
                out.clear();
                p.event(e, &TimeBase::Wall, &mut out, &mut sockets);
                assert!(!out.is_empty(), "a record printed nothing");
                if json == 1 {
                    json_checked(&out);
                } else {
                    assert!(out.ends_with(b"\n"));
                }
            }
        }
    });
}
