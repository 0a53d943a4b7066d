//! Test-only helpers: a tiny classic-pcap reader/writer, the conformance corpus location,
//! running the printer and real tcpdump, and a readable first-difference report.

#![allow(dead_code)]

pub mod craft;
pub mod tshark;

use std::path::{Path, PathBuf};
use std::process::Command;

use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::print::{PrintOptions, Printer};

/// One record of a classic pcap file.
pub struct Record {
    pub ts: Timestamp,
    pub wire_len: u32,
    pub data: Vec<u8>,
}

/// A whole classic pcap file (little- or big-endian, micro- or nanosecond).
pub struct Pcap {
    pub link: LinkType,
    pub records: Vec<Record>,
}

pub fn read_pcap(path: &Path) -> Pcap {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let magic_le = u32::from_le_bytes(b[0..4].try_into().unwrap());
    let (be, nano) = match magic_le {
        0xa1b2c3d4 => (false, false),
        0xa1b23c4d => (false, true),
        0xd4c3b2a1 => (true, false),
        0x4d3cb2a1 => (true, true),
        m => panic!("{}: not a classic pcap (magic {m:08x})", path.display()),
    };
    let u32_at = |o: usize| {
        let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
        if be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    let link = LinkType::from_linktype_in(u32_at(20) & 0x0fff_ffff, be).expect("known link type");
    let mut records = Vec::new();
    let mut o = 24;
    while o + 16 <= b.len() {
        let sec = u32_at(o) as i64;
        let frac = u32_at(o + 4);
        let incl = u32_at(o + 8) as usize;
        let orig = u32_at(o + 12);
        o += 16;
        let end = (o + incl).min(b.len());
        records.push(Record {
            ts: Timestamp::from_pcap_record(sec as u32, frac, nano),
            wire_len: orig,
            data: b[o..end].to_vec(),
        });
        o = end;
    }
    Pcap { link, records }
}

/// Writes a little-endian microsecond pcap.
pub fn write_pcap(path: &Path, link: LinkType, records: &[Record]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&262144u32.to_le_bytes());
    b.extend_from_slice(&link.linktype().to_le_bytes());
    for r in records {
        b.extend_from_slice(&(r.ts.sec as u32).to_le_bytes());
        b.extend_from_slice(&(r.ts.nsec / 1000).to_le_bytes());
        b.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        b.extend_from_slice(&r.wire_len.to_le_bytes());
        b.extend_from_slice(&r.data);
    }
    std::fs::write(path, b).unwrap();
}

/// Whether this run must have every oracle: `cargo xtask test` (and CI) sets
/// `TRACER_REQUIRE_PRIVILEGED_TESTS`. Then a missing oracle (tcpdump, tshark, the corpus)
/// fails the test; only a plain `cargo test` may skip, and it says so.
pub fn oracles_required() -> bool {
    std::env::var_os("TRACER_REQUIRE_PRIVILEGED_TESTS").is_some()
}

/// The one policy for a missing oracle: fails the test under `cargo xtask test`, else
/// prints why the test is skipped and returns false (the caller returns).
pub fn missing_oracle(what: &str) -> bool {
    if oracles_required() {
        panic!(
            "{what}: required under `cargo xtask test` (TRACER_REQUIRE_PRIVILEGED_TESTS is set)"
        );
    }
    eprintln!("SKIPPED: {what}; `cargo xtask test` requires it");
    false
}

/// Whether `tool --version` runs; when it does not, [`missing_oracle`].
pub fn require_tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok || missing_oracle(&format!("{tool} does not run (is it installed?)"))
}

/// Where the conformance corpus is: `TRACER_CONFORMANCE`, else `shared/conformance` beside
/// the repository, else where these machines keep it (`/work/shared/conformance`), so that
/// a clone anywhere (CI's clean checkout) still runs the comparisons instead of skipping.
fn corpus_location() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TRACER_CONFORMANCE") {
        return Some(PathBuf::from(p));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        here.join("../../shared/conformance"),
        here.join("../shared/conformance"),
        PathBuf::from("/work/shared/conformance"),
    ]
    .into_iter()
    .find(|p| p.join("README.md").exists())
}

/// The conformance corpus, holding pcaps: a folder without any fails the test (whoever
/// named it); no folder at all is a [`missing_oracle`] (`None`: skip).
pub fn corpus_dir() -> Option<PathBuf> {
    let Some(dir) = corpus_location() else {
        missing_oracle("the conformance corpus was not found (set TRACER_CONFORMANCE)");
        return None;
    };
    let pcaps = std::fs::read_dir(dir.join("pcaps"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "pcap"))
                .count()
        })
        .unwrap_or(0);
    assert!(
        pcaps > 0,
        "the conformance corpus {} holds no pcaps/*.pcap",
        dir.display()
    );
    Some(dir)
}

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
