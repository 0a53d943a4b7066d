//! The reader gets every conformance pcap right: packet count, link type, timestamps,
//! captured and wire lengths, checked against the README's table, tcpdump and tshark.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use tracer::packet::LinkType;
use tracer::pcap::{Format, PcapReader};

/// The conformance corpus (tests/support: one lookup, one policy); these tests need it
/// even under a plain `cargo test`.
fn corpus() -> PathBuf {
    support::corpus_dir().expect("the conformance corpus (set TRACER_CONFORMANCE)")
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["pcaps", "seeds"] {
        for e in std::fs::read_dir(corpus().join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "pcap") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 8, "corpus has only {files:?}");
    files
}

struct Read {
    ts: Vec<(i64, u32)>,
    caplen: Vec<usize>,
    wire_len: Vec<u32>,
    links: Vec<LinkType>,
}

fn read(path: &Path) -> Read {
    let mut r = PcapReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(r.format(), Format::Pcap);
    assert_eq!(r.snaplen(), 262_144);
    let mut out = Read {
        ts: vec![],
        caplen: vec![],
        wire_len: vec![],
        links: vec![],
    };
    while let Some(p) = r.next_packet() {
        let p = p.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.ts.push((p.ts.sec, p.ts.nsec));
        out.caplen.push(p.data.len());
        out.wire_len.push(p.wire_len);
        out.links.push(p.link);
        assert_eq!(Some(p.link), r.link_type());
    }
    out
}

#[test]
fn corpus_counts_and_link_types_match_the_readme() {
    let expected = [
        ("any-iface", 20, LinkType::LinuxSll2),
        ("crafted", 24, LinkType::Ethernet),
        ("ipv6-nc", 12, LinkType::Ethernet),
        ("lo-nc", 12, LinkType::Ethernet),
        ("rst", 10, LinkType::Ethernet),
        ("veth-http", 26, LinkType::Ethernet),
        ("nc-donuts", 10, LinkType::Raw),
        ("nc-hello", 8, LinkType::Raw),
    ];
    let files = corpus_files();
    for (name, count, link) in expected {
        let path = files
            .iter()
            .find(|p| p.file_stem().unwrap() == name)
            .unwrap_or_else(|| panic!("{name}.pcap missing from the corpus"));
        let got = read(path);
        assert_eq!(got.ts.len(), count, "{name}");
        assert!(got.links.iter().all(|&l| l == link), "{name}");
    }
}

#[test]
fn corpus_timestamps_and_link_types_match_tcpdump() {
    if !support::require_tool("tcpdump") {
        return;
    }
    for path in corpus_files() {
        let out = Command::new("tcpdump")
            .args(["-tt", "-nn", "-r"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let link_name = stderr
            .split("link-type ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no link-type in {stderr:?}"));
        let got = read(&path);
        let want_link = match link_name {
            "EN10MB" => LinkType::Ethernet,
            "RAW" => LinkType::Raw,
            "LINUX_SLL" => LinkType::LinuxSll,
            "LINUX_SLL2" => LinkType::LinuxSll2,
            other => panic!("unexpected link type {other}"),
        };
        assert!(
            got.links.iter().all(|&l| l == want_link),
            "{}",
            path.display()
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let tcpdump_ts: Vec<&str> = stdout
            .lines()
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let ours: Vec<String> = got
            .ts
            .iter()
            .map(|(s, ns)| format!("{s}.{:06}", ns / 1000))
            .collect();
        assert_eq!(ours, tcpdump_ts, "{}", path.display());
    }
}

#[test]
fn corpus_lengths_and_timestamps_match_tshark() {
    if !support::require_tool("tshark") {
        return;
    }
    for path in corpus_files() {
        let out = Command::new("tshark")
            .args(["-T", "fields", "-e", "frame.time_epoch"])
            .args(["-e", "frame.len", "-e", "frame.cap_len", "-r"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", path.display());
        let got = read(&path);
        let ours: Vec<String> = (0..got.ts.len())
            .map(|i| {
                let (s, ns) = got.ts[i];
                format!("{s}.{ns:09}\t{}\t{}", got.wire_len[i], got.caplen[i])
            })
            .collect();
        let theirs: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
        assert_eq!(ours, theirs, "{}", path.display());
    }
}
