//! Test-only helpers: capture files read and written through `tracer::pcap`, the conformance corpus location,
//! running the printer and real tcpdump, and a readable first-difference report.

#![allow(dead_code)]

pub mod craft;
pub mod tshark;

use std::path::{Path, PathBuf};
use std::process::Command;

use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::pcap::{Format, PcapReader, PcapWriter};
use tracer::print::{PrintOptions, Printer};

/// One packet of a capture file, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub ts: Timestamp,
    pub wire_len: u32,
    pub data: Vec<u8>,
}

/// A whole capture file.
pub struct Pcap {
    pub link: LinkType,
    pub records: Vec<Record>,
}

/// Reads every packet of a pcap or pcapng file with tracer's own reader (`tracer::pcap`: the
/// one `-r` uses); the file must have one known link type and no error.
pub fn read_pcap(path: &Path) -> Pcap {
    let mut r = PcapReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut link = r.link_type();
    let mut records = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        link.get_or_insert(p.link);
        assert_eq!(
            Some(p.link),
            link,
            "{}: more than one link type",
            path.display()
        );
        records.push(Record {
            ts: p.ts,
            wire_len: p.wire_len,
            data: p.data.to_vec(),
        });
    }
    Pcap {
        link: link.unwrap_or_else(|| panic!("{}: no known link type", path.display())),
        records,
    }
}

/// Writes a classic microsecond pcap (tcpdump's default) with tracer's writer.
pub fn write_pcap(path: &Path, link: LinkType, records: &[Record]) {
    let mut w = PcapWriter::create(path, Format::Pcap, link, 0)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for r in records {
        w.write(&Packet {
            ts: r.ts,
            link,
            data: &r.data,
            wire_len: r.wire_len,
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    w.flush()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[allow(unused_imports)] // each test binary uses a part
pub use tracer_testkit::{corpus_dir, missing_oracle, oracles_required, require_tool};

/// Every corpus pcap with the folder holding its golden files.
pub fn corpus_pcaps() -> Vec<(PathBuf, PathBuf)> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for (sub, golden) in [("pcaps", "golden"), ("seeds", "seeds/golden")] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
            .collect();
        files.sort();
        for f in files {
            v.push((f, dir.join(golden)));
        }
    }
    v
}

/// Golden modes of the application-printer corpus (`tests/data/app`): file suffix and
/// tcpdump flags. `default` (no flags: port and host names) exists only for some captures.
pub const APP_MODES: [(&str, &[&str]); 6] = [
    ("nn", &["-nn"]),
    ("v", &["-nn", "-v"]),
    ("vv", &["-nn", "-vv"]),
    ("vvv", &["-nn", "-vvv"]),
    ("X", &["-nn", "-X"]),
    ("default", &[]),
];

/// The application-printer corpus: every `tests/data/app/*.pcap` with its golden folder.
pub fn app_pcaps() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/app");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().map(|f| (f, dir.join("golden"))).collect()
}

/// Every (pcap, mode, flags, golden text) of the application corpus that has a golden file.
pub fn app_golden_cases() -> Vec<(PathBuf, &'static str, &'static [&'static str], Vec<u8>)> {
    let mut v = Vec::new();
    for (pcap, golden) in app_pcaps() {
        let name = pcap.file_stem().unwrap().to_string_lossy().to_string();
        for (mode, flags) in APP_MODES {
            if let Ok(text) = std::fs::read(golden.join(format!("{name}.{mode}.txt"))) {
                v.push((pcap.clone(), mode, flags, text));
            }
        }
    }
    v
}

/// tcpdump-style flags -> PrintOptions.
pub fn options(flags: &[&str]) -> PrintOptions {
    let mut o = PrintOptions::default();
    for f in flags {
        let f = f.trim_start_matches('-');
        for ch in f.chars() {
            match ch {
                'n' => o.numeric += 1,
                'v' => o.verbose += 1,
                'x' => o.hex += 1,
                'X' => o.hex_ascii += 1,
                'A' => o.ascii = true,
                'S' => o.absolute_seq = true,
                'q' => o.quiet = true,
                'e' => o.link_header = true,
                't' => o.timestamp += 1,
                _ => panic!("unknown flag {ch}"),
            }
        }
    }
    o
}

/// Runs the printer over a pcap file.
pub fn print_file(path: &Path, flags: &[&str]) -> Vec<u8> {
    let p = read_pcap(path);
    let mut pr = Printer::new(options(flags));
    let mut out = Vec::new();
    for r in &p.records {
        pr.print(
            &Packet {
                ts: r.ts,
                link: p.link,
                data: &r.data,
                wire_len: r.wire_len,
            },
            &mut out,
        );
    }
    out
}

/// `TZ=UTC tcpdump -r path flags`, stdout only.
pub fn tcpdump(path: &Path, flags: &[&str]) -> Vec<u8> {
    let o = Command::new("tcpdump")
        .env("TZ", "UTC")
        .arg("-r")
        .arg(path)
        .args(flags)
        .output()
        .expect("run tcpdump");
    o.stdout
}

/// None if equal, else a report of the first differing lines with some context.
pub fn diff(expected: &[u8], got: &[u8]) -> Option<String> {
    if expected == got {
        return None;
    }
    let e = String::from_utf8_lossy(expected);
    let g = String::from_utf8_lossy(got);
    let el: Vec<&str> = e.split('\n').collect();
    let gl: Vec<&str> = g.split('\n').collect();
    let mut i = 0;
    while i < el.len() && i < gl.len() && el[i] == gl[i] {
        i += 1;
    }
    let mut s = format!("first difference at line {}:\n", i + 1);
    for l in &el[i.saturating_sub(2)..i] {
        s += &format!("    {l}\n");
    }
    for l in el.iter().skip(i).take(3) {
        s += &format!("  - {l}\n");
    }
    for l in gl.iter().skip(i).take(3) {
        s += &format!("  + {l}\n");
    }
    Some(s)
}
