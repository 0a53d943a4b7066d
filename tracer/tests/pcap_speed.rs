//! Read and write throughput on a large file (ignored by default; run in release mode):
//!
//! ```text
//! cargo test --release -p tracer --test pcap_speed -- --ignored --nocapture
//! ```
//!
//! `PCAP_SPEED_PACKETS` sets the file size (default 1,000,000 packets).

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use tracer::packet::{Packet, Timestamp};
use tracer::pcap::{Format, PcapReader, PcapWriter};

/// The conformance corpus (tests/support: one lookup, one policy); these tests need it
/// even under a plain `cargo test`.
fn corpus() -> PathBuf {
    support::corpus_dir().expect("the conformance corpus (set TRACER_CONFORMANCE)")
}

/// Reads a file once and returns (packets, bytes) so the work cannot be optimized away.
fn read_through(path: &Path) -> (u64, u64) {
    let mut r = PcapReader::open(path).unwrap();
    let (mut n, mut bytes) = (0u64, 0u64);
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        n += 1;
        bytes += p.data.len() as u64 + u64::from(p.data[0]);
    }
    (n, bytes)
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn read_and_write_throughput() {
    let total: u64 = std::env::var("PCAP_SPEED_PACKETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut sample = Vec::new();
    for name in ["lo-nc", "veth-http", "rst", "ipv6-nc", "crafted"] {
        let mut r = PcapReader::open(corpus().join(format!("pcaps/{name}.pcap"))).unwrap();
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            sample.push((p.link, p.data.to_vec(), p.wire_len));
        }
    }
    let dir = tracer_testkit::TempDir::new("pcap-speed");
    for (format, ext) in [(Format::Pcap, "pcap"), (Format::Pcapng, "pcapng")] {
        let path = dir.join(format!("speed.{ext}"));
        let start = Instant::now();
        let mut w = PcapWriter::create(&path, format, sample[0].0, 0).unwrap();
        for i in 0..total {
            let (link, data, wire_len) = &sample[i as usize % sample.len()];
            let ts = Timestamp::from_nanos(1_700_000_000_000_000_000 + i128::from(i) * 1000);
            w.write(&Packet {
                ts,
                link: *link,
                data,
                wire_len: *wire_len,
            })
            .unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let write_s = start.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path).unwrap().len();

        read_through(&path); // warm the page cache
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let (n, _) = read_through(&path);
            best = best.min(start.elapsed().as_secs_f64());
            assert_eq!(n, total);
        }
        println!(
            "{format}: {total} packets, {:.0} MB: read {:.1} M packets/s ({:.0} MB/s), \
             write {:.1} M packets/s",
            size as f64 / 1e6,
            total as f64 / best / 1e6,
            size as f64 / best / 1e6,
            total as f64 / write_s / 1e6,
        );
        std::fs::remove_file(&path).unwrap();
    }
}
