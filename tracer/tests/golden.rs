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
        return; // skipped (a plain `cargo test` without the corpus): support said so
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

/// The application printers (DNS, RESP, BGP, the text protocols, ...) on the captures of
/// `tests/data/app`: real servers in namespaces and crafted malformed payloads, against
/// the text tcpdump 4.99.3 printed for them, in every mode that has a golden file.
#[test]
fn app_corpus_matches_its_golden_files_in_every_mode() {
    set_utc();
    let cases = app_golden_cases();
    assert!(
        cases.len() >= 40,
        "app corpus missing: {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for (pcap, mode, flags, expected) in &cases {
        let got = print_file(pcap, flags);
        if let Some(d) = diff(expected, &got) {
            let name = pcap.file_stem().unwrap().to_string_lossy().to_string();
            failures.push(format!("{name}.{mode}: {d}"));
        }
    }
    eprintln!(
        "app golden: {} of {} (pcap, mode) pairs match",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

use std::path::PathBuf;
use support::craft::*;
use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::print::Printer;

/// Flag sets the golden files do not cover, compared against tcpdump run here.
const EXTRA_MODES: &[&[&str]] = &[
    &["-xx"],
    &["-XX"],
    &["-t"],
    &["-tt"],
    &["-ttt"],
    &["-ttttt"],
    &[],
    &["-n"],
    &["-v"],
    &["-e"],
    &["-nn", "-vvv", "-e", "-XX"],
    &["-nn", "-q", "-e"],
    &["-nn", "-S", "-vv"],
    &["-A", "-e", "-n"],
    &["-nn", "-x", "-e", "-ttt"],
    &["-nn", "-q", "-X"],
];

/// Modes for crafted packets: everything that changes what the decoders print.
const CRAFT_MODES: &[&[&str]] = &[
    &["-nn"],
    &["-nn", "-v"],
    &["-nn", "-vv"],
    &["-nn", "-x"],
    &["-nn", "-xx"],
    &["-nn", "-X"],
    &["-nn", "-XX"],
    &["-nn", "-A"],
    &["-nn", "-e"],
    &["-nn", "-q"],
    &["-nn", "-S", "-v"],
    &["-nn", "-q", "-e", "-v"],
    &["-n", "-v", "-e"],
];

fn temp_pcap(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tracer-golden-{}-{name}.pcap", std::process::id()))
}

fn records(frames: &[Vec<u8>]) -> Vec<Record> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record {
            ts: Timestamp {
                sec: 1_700_000_000 + i as i64,
                nsec: (i as u32 % 1000) * 1000,
                tv: None,
            },
            wire_len: f.len() as u32,
            data: f.clone(),
        })
        .collect()
}

/// Compares the printer with tcpdump on `path` in every mode; returns the mismatches.
fn against_tcpdump(label: &str, path: &std::path::Path, modes: &[&[&str]]) -> Vec<String> {
    let mut failures = Vec::new();
    for flags in modes {
        let expected = tcpdump(path, flags);
        let got = print_file(path, flags);
        if let Some(d) = diff(&expected, &got) {
            failures.push(format!("{label} {flags:?}: {d}"));
        }
    }
    failures
}

fn check_records(label: &str, link: LinkType, recs: &[Record], modes: &[&[&str]]) -> Vec<String> {
    let path = temp_pcap(label);
    write_pcap(&path, link, recs);
    let f = against_tcpdump(label, &path, modes);
    if std::env::var_os("TRACER_KEEP_PCAPS").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    f
}

fn report(failures: Vec<String>, what: &str) {
    if !failures.is_empty() {
        let n = failures.len();
        let shown: Vec<String> = failures.into_iter().take(40).collect();
        panic!("{n} {what} mismatches, first ones:\n{}", shown.join("\n"));
    }
}

#[test]
fn corpus_matches_tcpdump_in_modes_without_golden_files() {
    set_utc();
    if !require_tool("tcpdump") {
        return;
    }
    let mut failures = Vec::new();
    for (pcap, _) in corpus_pcaps() {
        let label = pcap.file_name().unwrap().to_string_lossy().to_string();
        failures.extend(against_tcpdump(&label, &pcap, EXTRA_MODES));
    }
    report(failures, "corpus");
}

fn opt(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![kind, data.len() as u8 + 2];
    v.extend_from_slice(data);
    v
}

/// TCP option lists covering every kind tcpdump names, odd lengths and bad lengths.
fn option_cases() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        [
            opt(2, &[5, 0xb4]),
            opt(3, &[7]),
            opt(4, &[]),
            vec![1, 1],
            opt(8, &[0, 0, 0, 1, 0, 0, 0, 2]),
        ]
        .concat(),
        [vec![1, 1], opt(5, &[0, 0, 0, 10, 0, 0, 0, 20])].concat(),
        opt(
            5,
            &[
                0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40, 0, 0, 0, 50, 0, 0, 0, 60,
            ],
        ),
        opt(5, &[0, 0, 0, 10, 0, 0, 0]),
        opt(6, &[1, 2, 3, 4]),
        opt(7, &[1, 2, 3, 4]),
        opt(11, &[0, 0, 1, 0]),
        opt(12, &[0, 0, 1, 0]),
        opt(13, &[0, 0, 1, 0]),
        opt(19, &[0xab; 16]),
        opt(20, &[0x12, 9]),
        opt(28, &[0x80, 0x13]),
        opt(28, &[0x00, 0x14]),
        opt(29, &[1, 2]),
        opt(29, &[1, 2, 0xde, 0xad, 0xbe, 0xef]),
        opt(29, &[1]),
        opt(34, &[]),
        opt(34, &[1, 2, 3, 4, 5, 6, 7, 8]),
        opt(34, &[1, 2, 3]),
        opt(254, &[0xf9, 0x89, 1, 2, 3, 4]),
        opt(254, &[0xf9, 0x89]),
        opt(254, &[0x12, 0x34, 9]),
        opt(254, &[0x12]),
        opt(99, &[]),
        opt(200, &[1, 2, 3]),
        vec![0, 1, 1, 1],
        vec![1, 0, 2, 4, 5, 0xb4],
        opt(2, &[5, 0xb4, 0]),
        opt(3, &[7, 7]),
        opt(8, &[0, 0, 0, 1]),
        vec![2, 9, 1, 1],
        vec![2, 1, 5, 0xb4],
        vec![1, 1, 1, 8],
        // MPTCP: capable (SYN 12, ACK 20), join SYN, DSS variants, add-addr, rem-addr, prio, fail, fast-close, unknown
        opt(30, &[0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8]),
        opt(30, &[0x00]),
        opt(
            30,
            &[
                0x21, 0x05, 0, 0, 0, 9, 0, 0, 0, 8, 0, 0, 0, 7, 0, 3, 0xaa, 0xbb,
            ],
        ),
        opt(30, &[0x20, 0x01, 0, 0, 0, 9]),
        opt(
            30,
            &[
                0x20, 0x1f, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 7, 0, 3,
            ],
        ),
        opt(30, &[0x30, 3, 10, 1, 2, 3]),
        opt(30, &[0x30, 3, 10, 1, 2, 3, 0x1f, 0x90]),
        opt(
            30,
            &[
                0x36, 4, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
            ],
        ),
        opt(30, &[0x40, 1, 2, 3]),
        opt(30, &[0x51, 4]),
        opt(30, &[0x60, 0, 0, 0, 0, 0, 0, 0, 0, 42]),
        opt(30, &[0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
        opt(30, &[0x90, 0]),
        opt(30, &[0x20, 0x01]),
    ];
    v.push(opt(30, &[0x10, 0x05, 0, 0, 0, 9, 0, 0, 0, 8]));
    // MPTCP join with an HMAC (SYN/ACK: 16, ACK: 24); add-addr with port and HMAC forms,
    // IPv4 (16, 18) and IPv6 (22, 28, 30).
    let a6 = [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    let hmac = [1, 2, 3, 4, 5, 6, 7, 8];
    v.push(opt(
        30,
        &[[0x11, 0x05].as_slice(), &hmac, &[0, 0, 0, 7]].concat(),
    ));
    v.push(opt(30, &[[0x10, 0x00].as_slice(), &[0xab; 20]].concat()));
    v.push(opt(
        30,
        &[[0x30, 3, 10, 1, 2, 3].as_slice(), &hmac].concat(),
    ));
    v.push(opt(
        30,
        &[[0x30, 3, 10, 1, 2, 3, 0x1f, 0x90].as_slice(), &hmac].concat(),
    ));
    v.push(opt(
        30,
        &[[0x36, 4].as_slice(), &a6, &[0x1f, 0x90]].concat(),
    ));
    v.push(opt(30, &[[0x36, 4].as_slice(), &a6, &hmac].concat()));
    v.push(opt(
        30,
        &[[0x36, 4].as_slice(), &a6, &[0x1f, 0x90], &hmac].concat(),
    ));
    v
}

fn crafted_frames() -> Vec<(LinkType, Vec<u8>)> {
    let mut f = Vec::new();
    let e4 = |seg: Vec<u8>| eth(0x0800, &ipv4(A4, B4, 6, &[], &seg));
    // Every option case on a SYN, an ACK and a SYN/ACK (MPTCP checks flags).
    for (i, o) in option_cases().into_iter().enumerate() {
        for flags in [0x02u8, 0x10, 0x12] {
            f.push((
                LinkType::Ethernet,
                e4(tcp(41000 + i as u16, 5000, 100, 200, flags, &o, &[])),
            ));
        }
    }
    // A connection with SACK in both directions and same-port ordering.
    f.push((
        LinkType::Ethernet,
        e4(tcp(7000, 7000, 1000, 0, 0x02, &[], &[])),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x0800,
            &ipv4(B4, A4, 6, &[], &tcp(7000, 7000, 5000, 1001, 0x12, &[], &[])),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        e4(tcp(
            7000,
            7000,
            1001,
            5001,
            0x10,
            &opt(5, &[0, 0, 0x13, 0x89, 0, 0, 0x17, 0x71]),
            &[],
        )),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x0800,
            &ipv4(
                B4,
                A4,
                6,
                &[],
                &tcp(
                    7000,
                    7000,
                    5001,
                    1001,
                    0x10,
                    &opt(5, &[0, 0, 0x03, 0xf0, 0, 0, 0x07, 0xd0]),
                    &[],
                ),
            ),
        ),
    ));
    // Payload decoders.
    let http_req = b"GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n".to_vec();
    let http_resp = b"HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 0\r\n\r\n".to_vec();
    for (sp, dp, p) in [
        (40000u16, 80u16, http_req.clone()),
        (80, 40000, http_resp.clone()),
        (40001, 8080, b"POST / HTTP/1.0\nA: b\n".to_vec()),
        (40002, 80, b"hello there no crlf".to_vec()),
        (40003, 80, b"GET /\r\x01bad\r\n".to_vec()),
        (
            40004,
            554,
            b"OPTIONS rtsp://x RTSP/1.0\r\nCSeq: 1\r\n\r\n".to_vec(),
        ),
        (21, 40005, b"220 ftp ready\r\n".to_vec()),
        (25, 40006, b"220 smtp ready\r\n250 ok\r\n".to_vec()),
        (22, 40007, b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()),
        (22, 40008, b"SSH-2.0-partial".to_vec()),
        (43, 40009, b"whois data\n".to_vec()),
        (40010, 80, vec![0x80, 0xff, 0, 1, 2]),
    ] {
        f.push((LinkType::Ethernet, e4(tcp(sp, dp, 1, 1, 0x18, &[], &p))));
    }
    // RST with payloads of several sizes and non-printables.
    f.push((
        LinkType::Ethernet,
        e4(tcp(40020, 9000, 1, 1, 0x04, &[], b"short\x01\x80\xff")),
    ));
    f.push((
        LinkType::Ethernet,
        e4(tcp(40021, 9000, 1, 1, 0x14, &[], &[b'a'; 31])),
    ));
    // IP options.
    for o in [
        vec![7, 11, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0],
        vec![68, 12, 5, 0, 0, 0, 0, 1, 0, 0, 0, 2],
        vec![68, 12, 13, 1, 10, 0, 0, 1, 0, 0, 0, 2],
        vec![68, 8, 5, 0x13, 0, 0, 0, 1],
        vec![68, 8, 5, 0x02, 0, 0, 0, 1],
        vec![131, 7, 4, 10, 77, 0, 9, 0],
        vec![137, 11, 4, 10, 77, 0, 9, 10, 77, 0, 10, 0],
        vec![148, 4, 0, 0],
        vec![148, 4, 0, 5],
        vec![130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        vec![1, 1, 1, 0],
        vec![99, 4, 0, 0],
        vec![7, 1, 0, 0],
        vec![7, 40, 4, 0],
        vec![82, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ] {
        f.push((
            LinkType::Ethernet,
            eth(
                0x0800,
                &ipv4(A4, B4, 6, &o, &tcp(40030, 80, 1, 0, 0x02, &[], &[])),
            ),
        ));
    }
    // TOS/ECN, TTL 0, rsvd flag, fragments.
    let mut p = ipv4_full(
        A4,
        B4,
        6,
        &[],
        &tcp(40040, 80, 1, 0, 0x02, &[], &[]),
        0x8000,
        9,
    );
    p[1] = 0x03;
    p[8] = 0;
    f.push((LinkType::Ethernet, eth(0x0800, &p)));
    let seg = tcp(40041, 80, 1, 1, 0x18, &[], &[b'z'; 40]);
    f.push((
        LinkType::Ethernet,
        eth(0x0800, &ipv4_full(A4, B4, 6, &[], &seg, 0x2000, 10)),
    ));
    f.push((
        LinkType::Ethernet,
        eth(0x0800, &ipv4_full(A4, B4, 6, &[], &seg[..24], 0x0003, 10)),
    ));
    // Non-TCP protocols reaching the printer.
    f.push((
        LinkType::Ethernet,
        eth(0x0800, &ipv4(A4, B4, 99, &[], &[1, 2, 3, 4])),
    ));
    // Wire length and IP length disagreements.
    let mut p = ipv4(A4, B4, 6, &[], &tcp(40050, 80, 1, 1, 0x18, &[], b"abcdef"));
    p[3] = p[3].wrapping_add(10);
    f.push((LinkType::Ethernet, eth(0x0800, &p)));
    let mut p = ipv4(A4, B4, 6, &[], &tcp(40051, 80, 1, 1, 0x18, &[], b"abcdef"));
    p[2] = 0;
    p[3] = 10;
    f.push((LinkType::Ethernet, eth(0x0800, &p)));
    let mut padded = e4(tcp(40052, 80, 1, 1, 0x10, &[], &[]));
    padded.resize(60, 0);
    f.push((LinkType::Ethernet, padded));
    let mut p = ipv4(A4, B4, 6, &[], &tcp(40053, 80, 1, 1, 0x10, &[], &[]));
    p[0] = 0x65;
    f.push((LinkType::Ethernet, eth(0x0800, &p)));
    p[0] = 0x55;
    f.push((LinkType::Ethernet, eth(0x0800, &p)));
    // VLAN tags.
    f.push((
        LinkType::Ethernet,
        eth_vlan(
            &[(0x8100, 0x2064)],
            0x0800,
            &ipv4(A4, B4, 6, &[], &tcp(40060, 80, 1, 0, 0x02, &[], &[])),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth_vlan(
            &[(0x88a8, 0x1005), (0x8100, 0xf00a)],
            0x86dd,
            &ipv6(A6, B6, 6, &[], 6, &tcp(40061, 80, 1, 0, 0x02, &[], &[])),
        ),
    ));
    // IPv6 extension headers.
    let seg6 = tcp(40070, 443, 1, 0, 0x02, &opt(2, &[5, 0xa0]), &[]);
    let hbh = vec![60, 0, 5, 2, 0, 0, 1, 0];
    let dst = vec![43, 0, 1, 2, 0, 0, 0xc9, 0];
    let dst_full = vec![
        43, 2, 0xc9, 16, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0,
    ];
    let mut rt0 = vec![44, 2, 0, 1, 0, 0, 0, 0];
    rt0.extend_from_slice(&B6);
    let frag = vec![6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(
                A6,
                B6,
                0,
                &[hbh.clone(), dst.clone(), rt0.clone(), frag.clone()].concat(),
                6,
                &seg6,
            ),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(
                A6,
                B6,
                60,
                &[dst_full.clone(), rt0.clone(), frag.clone()].concat(),
                6,
                &seg6,
            ),
        ),
    ));
    let mut rt4 = vec![6, 2, 4, 0, 0, 0, 0x12, 0x34];
    rt4.extend_from_slice(&B6);
    f.push((
        LinkType::Ethernet,
        eth(0x86dd, &ipv6(A6, B6, 43, &rt4, 6, &seg6)),
    ));
    let mut rt2 = vec![6, 2, 2, 1, 0, 0, 0, 0];
    rt2.extend_from_slice(&B6);
    f.push((
        LinkType::Ethernet,
        eth(0x86dd, &ipv6(A6, B6, 43, &rt2, 6, &seg6)),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(A6, B6, 43, &[6, 0, 9, 0, 0, 0, 0, 0], 6, &seg6),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(A6, B6, 44, &[6, 0, 0x01, 0x00, 0, 0, 0, 9], 6, &seg6),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(A6, B6, 0, &[6, 0, 0, 1, 0xc2, 4, 0, 1], 6, &seg6),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(
                A6,
                B6,
                0,
                &[0, 0, 1, 0, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0],
                6,
                &seg6,
            ),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(A6, B6, 0, &[6, 0, 0x3e, 2, 0, 0, 5, 3], 6, &seg6),
        ),
    ));
    f.push((
        LinkType::Ethernet,
        eth(
            0x86dd,
            &ipv6(A6, B6, 60, &[6, 0, 0x3e, 2, 0, 0, 0, 0], 6, &seg6),
        ),
    ));
    let mut v6zero = ipv6(A6, B6, 6, &[], 6, &seg6);
    v6zero[4] = 0;
    v6zero[5] = 0;
    f.push((LinkType::Ethernet, eth(0x86dd, &v6zero)));
    let mut v6bad = ipv6(A6, B6, 6, &[], 6, &seg6);
    v6bad[0] = 0x50;
    f.push((LinkType::Ethernet, eth(0x86dd, &v6bad)));
    f.push((
        LinkType::Ethernet,
        eth(0x86dd, &ipv6(A6, B6, 59, &[], 59, &[])),
    ));
    // Cooked captures.
    f.push((
        LinkType::LinuxSll,
        sll(
            4,
            0x0800,
            &ipv4(A4, B4, 6, &[], &tcp(40080, 80, 1, 0, 0x02, &[], &[])),
        ),
    ));
    f.push((
        LinkType::LinuxSll,
        sll(0, 0x86dd, &ipv6(A6, B6, 6, &[], 6, &seg6)),
    ));
    f.push((
        LinkType::LinuxSll,
        sll(
            1,
            0x8100,
            &[
                &[0x00u8, 0x05, 0x08, 0x00][..],
                &ipv4(A4, B4, 6, &[], &tcp(40081, 80, 1, 0, 0x02, &[], &[])),
            ]
            .concat(),
        ),
    ));
    f.push((
        LinkType::LinuxSll2,
        sll2(
            1,
            4,
            0x0800,
            &ipv4(A4, B4, 6, &[], &tcp(40082, 80, 1, 0, 0x02, &[], &[])),
        ),
    ));
    f.push((
        LinkType::LinuxSll2,
        sll2(77, 3, 0x86dd, &ipv6(A6, B6, 6, &[], 6, &seg6)),
    ));
    f.push((
        LinkType::LinuxSll2,
        sll2(
            1,
            2,
            0x8100,
            &[
                &[0x20u8, 0x05, 0x86, 0xdd][..],
                &ipv6(A6, B6, 6, &[], 6, &seg6),
            ]
            .concat(),
        ),
    ));
    f.push((
        LinkType::Raw,
        ipv4(A4, B4, 6, &[], &tcp(40090, 80, 1, 0, 0x02, &[], &[])),
    ));
    f.push((LinkType::Raw, ipv6(A6, B6, 6, &[], 6, &seg6)));
    f.push((LinkType::Raw, vec![0x10, 0, 0, 0]));
    f
}

#[test]
fn crafted_edge_cases_match_tcpdump() {
    set_utc();
    if !require_tool("tcpdump") {
        return;
    }
    let mut failures = Vec::new();
    for link in [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Raw,
    ] {
        let frames: Vec<Vec<u8>> = crafted_frames()
            .into_iter()
            .filter(|(l, _)| *l == link)
            .map(|(_, f)| f)
            .collect();
        let label = format!("crafted-{}", link.linktype());
        failures.extend(check_records(&label, link, &records(&frames), CRAFT_MODES));
    }
    report(failures, "crafted");
}

/// Every prefix of a packet as the captured part (wire length kept), so truncation hits
/// every header boundary and every byte in between.
fn all_prefixes(frame: &[u8]) -> Vec<Record> {
    (0..=frame.len())
        .map(|n| Record {
            ts: Timestamp {
                sec: 1_700_000_000,
                nsec: n as u32 * 1000,
                tv: None,
            },
            wire_len: frame.len() as u32,
            data: frame[..n].to_vec(),
        })
        .collect()
}

#[test]
fn truncation_at_every_byte_matches_tcpdump() {
    set_utc();
    if !require_tool("tcpdump") {
        return;
    }
    let http = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    let opts = [
        opt(2, &[5, 0xb4]),
        vec![1, 1],
        opt(5, &[0, 0, 0, 10, 0, 0, 0, 20]),
        opt(30, &[0x20, 0x05, 0, 0, 0, 9, 0, 0, 0, 8, 0, 0, 0, 7, 0, 3]),
        opt(19, &[0xab; 16]),
    ]
    .concat();
    let seg6 = tcp(
        40070,
        80,
        1,
        1,
        0x18,
        &opt(8, &[0, 0, 0, 1, 0, 0, 0, 2]),
        b"GET / HTTP/1.0\r\n\r\n",
    );
    let mut rt0 = vec![44, 2, 0, 1, 0, 0, 0, 0];
    rt0.extend_from_slice(&B6);
    let exts = [
        vec![60, 0, 5, 2, 0, 0, 1, 0],
        vec![43, 0, 1, 4, 0, 0, 0, 0],
        rt0,
        vec![6, 0, 0, 0, 1, 2, 3, 4],
    ]
    .concat();
    let cases: Vec<(&str, LinkType, Vec<u8>)> = vec![
        (
            "v4",
            LinkType::Ethernet,
            eth_vlan(
                &[(0x8100, 5)],
                0x0800,
                &ipv4(
                    A4,
                    B4,
                    6,
                    &[7, 7, 4, 0, 0, 0, 0, 0],
                    &tcp(40000, 80, 1, 1, 0x18, &opts, http),
                ),
            ),
        ),
        (
            "v6",
            LinkType::Ethernet,
            eth(0x86dd, &ipv6(A6, B6, 0, &exts, 6, &seg6)),
        ),
        (
            "rst",
            LinkType::LinuxSll2,
            sll2(
                1,
                0,
                0x0800,
                &ipv4(
                    A4,
                    B4,
                    6,
                    &[],
                    &tcp(
                        40001,
                        9,
                        1,
                        1,
                        0x14,
                        &[],
                        b"reset reason text here, long enough",
                    ),
                ),
            ),
        ),
        (
            "sll",
            LinkType::LinuxSll,
            sll(4, 0x86dd, &ipv6(A6, B6, 6, &[], 6, &seg6)),
        ),
        (
            "raw",
            LinkType::Raw,
            ipv4(
                A4,
                B4,
                6,
                &[],
                &tcp(
                    22,
                    40002,
                    1,
                    1,
                    0x18,
                    &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
                    b"SSH-2.0-x\r\n",
                ),
            ),
        ),
    ];
    let modes: &[&[&str]] = &[
        &["-nn", "-v", "-x"],
        &["-nn", "-e", "-XX"],
        &["-nn", "-q", "-A"],
        &["-nn", "-vv", "-X"],
    ];
    let mut failures = Vec::new();
    for (label, link, frame) in cases {
        failures.extend(check_records(
            &format!("prefix-{label}"),
            link,
            &all_prefixes(&frame),
            modes,
        ));
    }
    report(failures, "truncation");
}

/// Every flag combination the printer distinguishes.
fn all_option_sets() -> Vec<tracer::print::PrintOptions> {
    let mut v = Vec::new();
    for numeric in [0u8, 2] {
        for verbose in [0u8, 1, 2] {
            for dump in 0..6 {
                for (quiet, link_header, absolute_seq) in [
                    (false, false, false),
                    (true, true, false),
                    (false, true, true),
                ] {
                    let mut o = tracer::print::PrintOptions {
                        numeric,
                        verbose,
                        quiet,
                        link_header,
                        absolute_seq,
                        timestamp: dump as u8 % 6,
                        ..Default::default()
                    };
                    match dump {
                        1 => o.hex = 1,
                        2 => o.hex = 2,
                        3 => o.hex_ascii = 1,
                        4 => o.hex_ascii = 2,
                        5 => o.ascii = true,
                        _ => {}
                    }
                    v.push(o);
                }
            }
        }
    }
    v
}

struct NoNames;
impl tracer::print::Resolver for NoNames {
    fn host(&self, _a: std::net::IpAddr) -> Option<String> {
        Some("host.example".into())
    }
    fn tcp_port(&self, p: u16) -> Option<String> {
        (p == 80).then(|| "http".into())
    }
    fn if_name(&self, _i: u32) -> Option<String> {
        None
    }
}

#[test]
fn truncated_and_mutated_packets_never_panic() {
    let mut packets: Vec<(LinkType, Vec<u8>)> = crafted_frames();
    for (pcap, _) in corpus_pcaps() {
        let p = read_pcap(&pcap);
        for r in p.records {
            packets.push((p.link, r.data));
        }
    }
    // The application captures too (their prefixes are in them already for the crafted
    // ones; the huge nesting cases only get mutated).
    for (pcap, _) in app_pcaps() {
        let p = read_pcap(&pcap);
        for r in p.records {
            if r.data.len() == r.wire_len as usize && r.data.len() <= 1600 {
                packets.push((p.link, r.data));
            }
        }
    }
    let sets = all_option_sets();
    let mut printers: Vec<Printer> = sets
        .iter()
        .map(|o| Printer::with_resolver(o.clone(), std::sync::Arc::new(NoNames)))
        .collect();
    let mut out = Vec::new();
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut run = |link: LinkType, data: &[u8], wire: u32, printers: &mut [Printer]| {
        for pr in printers.iter_mut() {
            out.clear();
            pr.print(
                &Packet {
                    ts: Timestamp {
                        sec: 1_700_000_000,
                        nsec: 0,
                        tv: None,
                    },
                    link,
                    data,
                    wire_len: wire,
                },
                &mut out,
            );
            assert!(out.ends_with(b"\n"));
        }
    };
    for (link, data) in &packets {
        // Every prefix, in a few representative modes.
        for n in 0..=data.len() {
            run(*link, &data[..n], data.len() as u32, &mut printers[..6]);
        }
        // Random mutations in every mode.
        for _ in 0..24 {
            let mut m = data.clone();
            let flips = 1 + next() % 6;
            for _ in 0..flips {
                if m.is_empty() {
                    break;
                }
                let i = (next() % m.len() as u64) as usize;
                m[i] = next() as u8;
            }
            let cut = if next() % 3 == 0 {
                (next() % (m.len() as u64 + 1)) as usize
            } else {
                m.len()
            };
            let wire = match next() % 4 {
                0 => next() as u32 % 70000,
                _ => m.len() as u32,
            };
            run(*link, &m[..cut], wire, &mut printers);
        }
    }
}

/// Throughput of the printer over the corpus, looped (run with
/// `cargo test --release -p tracer --test golden -- --ignored --nocapture`).
#[test]
#[ignore]
fn printer_throughput_on_looped_corpus() {
    set_utc();
    let mut packets = Vec::new();
    for (pcap, _) in corpus_pcaps() {
        let p = read_pcap(&pcap);
        for r in p.records {
            packets.push((p.link, r));
        }
    }
    if packets.is_empty() {
        return; // skipped: support said so
    }
    for flags in [&["-nn"][..], &["-nn", "-v"], &["-nn", "-X"], &[]] {
        let mut pr = Printer::new(options(flags));
        let mut out = Vec::with_capacity(1 << 20);
        let (mut lines, mut bytes, mut lines_per_round) = (0usize, 0usize, 0usize);
        let start = std::time::Instant::now();
        let rounds = 20_000;
        // A steady 250k packets/s clock, as in one long capture.
        let mut n: i64 = 0;
        for _ in 0..rounds {
            for (link, r) in &packets {
                n += 1;
                let ts = Timestamp::from_nanos(1_700_000_000_000_000_000 + n as i128 * 4_000);
                pr.print(
                    &Packet {
                        ts,
                        link: *link,
                        data: &r.data,
                        wire_len: r.wire_len,
                    },
                    &mut out,
                );
            }
            if lines_per_round == 0 {
                lines_per_round = out.iter().filter(|&&b| b == b'\n').count();
            }
            lines += lines_per_round;
            bytes += out.len();
            out.clear();
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{flags:?}: {} packets, {lines} lines in {secs:.2}s = {:.0} packets/s, {:.0} lines/s, {:.0} MB/s",
            rounds * packets.len(),
            (rounds * packets.len()) as f64 / secs,
            lines as f64 / secs,
            bytes as f64 / secs / 1e6
        );
    }
}
