//! Writing what was read gives back the same packets, in every format, and the files the
//! writer makes are ones tcpdump and tshark read without complaint; files that Wireshark's
//! editcap and mergecap write read back to the same packets.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::pcap::{Format, PcapError, PcapReader, PcapWriter};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Owned {
    ts: Timestamp,
    link: u32,
    data: Vec<u8>,
    wire_len: u32,
}

impl Owned {
    fn packet(&self) -> Packet<'_> {
        Packet {
            ts: self.ts,
            link: LinkType::from_linktype(self.link).unwrap(),
            data: &self.data,
            wire_len: self.wire_len,
        }
    }
}

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
    assert!(!files.is_empty());
    files
}

/// A fresh scratch directory for one test, removed on drop (a failure included).
fn scratch(test: &str) -> tracer_testkit::TempDir {
    tracer_testkit::TempDir::new(&format!("pcap-{test}"))
}

fn read_all(path: &Path) -> (Format, Vec<Owned>) {
    let mut r = PcapReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push(Owned {
            ts: p.ts,
            link: p.link.linktype(),
            data: p.data.to_vec(),
            wire_len: p.wire_len,
        });
    }
    (r.format(), out)
}

/// Copies a capture with our reader and writer, as `tracer -r in -w out` would.
fn copy(from: &Path, to: &Path, format: Format, snaplen: u32) -> u64 {
    let mut r = PcapReader::open(from).unwrap();
    let link = r.link_type().unwrap();
    let snaplen = if snaplen == 0 { r.snaplen() } else { snaplen };
    let mut w = PcapWriter::create(to, format, link, snaplen).unwrap();
    while let Some(p) = r.next_packet() {
        w.write(&p.unwrap()).unwrap();
    }
    w.flush().unwrap();
    w.packets_written()
}

fn name(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Runs tshark on a file and asserts it succeeds with nothing on stderr but the warning it
/// always prints when run as root; returns its per-packet time, length and captured length.
fn tshark_clean(path: &Path) -> String {
    let out = Command::new("tshark")
        .args(["-T", "fields", "-e", "frame.time_epoch"])
        .args(["-e", "frame.len", "-e", "frame.cap_len", "-r"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("Running as user \"root\""))
        .collect();
    assert!(out.status.success(), "tshark {}: {stderr}", path.display());
    assert!(
        complaints.is_empty(),
        "tshark {}: {complaints:?}",
        path.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

fn tcpdump_text(path: &Path) -> String {
    let out = Command::new("tcpdump")
        .env("TZ", "UTC")
        .args(["-nn", "-r"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "tcpdump {}", path.display());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn roundtrip_in_every_format_keeps_every_packet() {
    let dir = scratch("roundtrip");
    for path in corpus_files() {
        let (_, original) = read_all(&path);
        for (format, ext) in [
            (Format::Pcap, "pcap"),
            (Format::PcapNanos, "ns.pcap"),
            (Format::Pcapng, "pcapng"),
        ] {
            let out = dir.join(format!("{}.{ext}", name(&path)));
            assert_eq!(copy(&path, &out, format, 0), original.len() as u64);
            let (got_format, copied) = read_all(&out);
            assert_eq!(got_format, format);
            assert_eq!(copied, original, "{} as {format}", path.display());
        }
        // The corpus is what tcpdump -w writes, and so is our classic pcap, byte for byte.
        let pcap = dir.join(format!("{}.pcap", name(&path)));
        assert_eq!(std::fs::read(&pcap).unwrap(), std::fs::read(&path).unwrap());
    }
}

#[test]
fn tshark_reads_written_files_without_complaint() {
    if !support::require_tool("tshark") {
        return;
    }
    let dir = scratch("tshark");
    for path in corpus_files() {
        let want = tshark_clean(&path);
        for (format, ext) in [
            (Format::Pcap, "pcap"),
            (Format::PcapNanos, "ns.pcap"),
            (Format::Pcapng, "pcapng"),
        ] {
            let out = dir.join(format!("{}.{ext}", name(&path)));
            copy(&path, &out, format, 0);
            assert_eq!(tshark_clean(&out), want, "{}", out.display());
        }
    }
}

#[test]
fn tcpdump_prints_written_files_like_the_originals() {
    if !support::require_tool("tcpdump") {
        return;
    }
    let dir = scratch("tcpdump");
    for path in corpus_files() {
        let want = tcpdump_text(&path);
        assert!(!want.is_empty());
        for (format, ext) in [(Format::Pcap, "pcap"), (Format::Pcapng, "pcapng")] {
            let out = dir.join(format!("{}.{ext}", name(&path)));
            copy(&path, &out, format, 0);
            assert_eq!(tcpdump_text(&out), want, "{}", out.display());
        }
    }
}

#[test]
fn editcap_outputs_read_back_to_the_same_packets() {
    if !support::require_tool("editcap") {
        return;
    }
    let dir = scratch("editcap");
    for path in corpus_files() {
        let (_, original) = read_all(&path);
        for (flag, format) in [
            ("pcapng", Format::Pcapng),
            ("nsecpcap", Format::PcapNanos),
            ("pcap", Format::Pcap),
            ("modpcap", Format::Pcap),
        ] {
            let out = dir.join(format!("{}.{flag}", name(&path)));
            let st = Command::new("editcap")
                .args(["-F", flag])
                .arg(&path)
                .arg(&out)
                .status()
                .unwrap();
            assert!(st.success(), "editcap -F {flag} {}", path.display());
            let (got_format, got) = read_all(&out);
            assert_eq!(got_format, format, "{}", out.display());
            assert_eq!(got, original, "{}", out.display());
        }
    }
}

#[test]
fn mergecap_interfaces_keep_their_link_types() {
    if !support::require_tool("mergecap") {
        return;
    }
    let dir = scratch("mergecap");
    let c = corpus();
    let inputs = [
        c.join("pcaps/lo-nc.pcap"),
        c.join("pcaps/any-iface.pcap"),
        c.join("seeds/nc-donuts.pcap"),
    ];
    let merged = dir.join("merged.pcapng");
    let st = Command::new("mergecap")
        .args(["-F", "pcapng", "-w"])
        .arg(&merged)
        .args(&inputs)
        .status()
        .unwrap();
    assert!(st.success());
    let mut want: Vec<Owned> = inputs.iter().flat_map(|p| read_all(p).1).collect();
    let (_, mut got) = read_all(&merged);
    assert_eq!(
        PcapReader::open(&merged).unwrap().link_type(),
        Some(LinkType::Ethernet)
    );
    want.sort();
    got.sort();
    assert_eq!(got, want);

    // Our pcapng writer describes one interface per link type, in order of appearance.
    let ours = dir.join("ours.pcapng");
    let mut w = PcapWriter::create(&ours, Format::Pcapng, LinkType::Ethernet, 0).unwrap();
    for p in &want {
        w.write(&p.packet()).unwrap();
    }
    w.flush().unwrap();
    let (_, back) = read_all(&ours);
    assert_eq!(back, want);
    if support::require_tool("tshark") {
        tshark_clean(&ours);
    }

    // Classic pcap holds one link type: a second one is an error, not a wrong file.
    let mut w =
        PcapWriter::create(dir.join("x.pcap"), Format::Pcap, LinkType::Ethernet, 0).unwrap();
    let sll2 = want.iter().find(|p| p.link == 276).unwrap();
    let e = w.write(&sll2.packet()).unwrap_err();
    assert!(
        matches!(
            e,
            PcapError::LinkMismatch {
                got: 276,
                file: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn snaplen_cut_keeps_the_wire_length() {
    let dir = scratch("snaplen");
    let path = corpus().join("pcaps/veth-http.pcap");
    let (_, original) = read_all(&path);
    for (format, ext) in [(Format::Pcap, "pcap"), (Format::Pcapng, "pcapng")] {
        let out = dir.join(format!("cut.{ext}"));
        copy(&path, &out, format, 68);
        let mut r = PcapReader::open(&out).unwrap();
        assert_eq!(r.snaplen(), 68);
        let mut n = 0;
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            let o = &original[n];
            assert_eq!(p.data, &o.data[..o.data.len().min(68)]);
            assert_eq!(p.wire_len, o.wire_len);
            assert_eq!(p.ts, o.ts);
            n += 1;
        }
        assert_eq!(n, original.len());
        assert!(original.iter().any(|o| o.data.len() > 68));
        if support::require_tool("tshark") {
            tshark_clean(&out);
        }
    }
}
