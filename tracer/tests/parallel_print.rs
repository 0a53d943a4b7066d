//! `tracer -r` prints on every core (`print::ParallelPrinter`): its output must be byte for
//! byte what one `Printer` prints, across batch boundaries and for any number of workers.

use tracer::filter::packet_fields;
use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::pcap::PcapReader;
use tracer::print::{ParallelPrinter, PrintOptions, Printer};

mod support;

/// Every corpus packet, repeated `times` times (later copies shifted in time): many
/// batches, and conversations that come back in later batches.
fn looped_corpus(times: usize) -> Vec<(Timestamp, LinkType, Vec<u8>, u32)> {
    let mut one = Vec::new();
    let files = support::corpus_pcaps();
    assert!(
        !files.is_empty(),
        "conformance corpus not found: set TRACER_CONFORMANCE"
    );
    for (f, _) in files {
        let mut r = PcapReader::open(&f).unwrap();
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            one.push((p.ts, p.link, p.data.to_vec(), p.wire_len));
        }
    }
    let mut all = Vec::new();
    for k in 0..times {
        for (ts, link, data, wire_len) in &one {
            let ts = Timestamp::from_nanos(ts.as_nanos() + k as i128 * 1_000_000_000);
            all.push((ts, *link, data.clone(), *wire_len));
        }
    }
    all
}

#[test]
fn parallel_printing_prints_what_one_printer_prints() {
    let packets = looped_corpus(150);
    assert!(
        packets.len() > 3 * 4096,
        "{} packets: too few batches",
        packets.len()
    );
    std::env::set_var("TZ", "UTC");
    let pkts: Vec<Packet> = packets
        .iter()
        .map(|(ts, link, data, wire_len)| Packet {
            ts: *ts,
            link: *link,
            data,
            wire_len: *wire_len,
        })
        .collect();
    let modes = [
        PrintOptions {
            numeric: 2,
            ..Default::default()
        },
        PrintOptions {
            numeric: 2,
            verbose: 2,
            ..Default::default()
        },
        PrintOptions {
            numeric: 2,
            hex_ascii: 1,
            link_header: true,
            timestamp: 4,
            ..Default::default()
        },
        PrintOptions {
            numeric: 2,
            absolute_seq: true,
            quiet: true,
            ..Default::default()
        },
    ];
    for opts in modes {
        let mut one = Printer::new(opts.clone());
        let mut expected = Vec::new();
        for pkt in &pkts {
            one.print(pkt, &mut expected);
        }
        for workers in [2, 3, 8] {
            let mut par = ParallelPrinter::with_workers(&opts, workers).expect("parallel");
            let mut got = Vec::new();
            for pkt in &pkts {
                par.push(pkt, &packet_fields(pkt), &mut got).unwrap();
            }
            par.finish(&mut got).unwrap();
            assert!(
                got == expected,
                "{workers} workers, {opts:?}: output differs from one printer's"
            );
        }
    }
}
