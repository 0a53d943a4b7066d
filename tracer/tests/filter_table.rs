//! The filter against real tcpdump: for every expression of the table and every pcap of the
//! conformance corpus, the packets `Filter::matches` selects must be exactly those
//! `tcpdump -r PCAP -w OUT EXPR` writes. Each pcap is also replayed cut at every snap length
//! up to 80 bytes, so truncated captures are rejected exactly where libpcap rejects them.
//! The compiled program is checked for shape and against a direct evaluation of the AST.

use std::path::{Path, PathBuf};
use std::process::Command;
use tracer::filter::{check_program, Filter};
use tracer::packet::{LinkType, Packet};
use tracer_common::fields::{extract_fields, extract_network_fields, PacketFields};

/// Expressions, chosen to select some but not all packets of most files.
const TABLE: &[&str] = &[
    "port 43981",
    "port 80",
    "port 8080",
    "port 43982",
    "src port 80",
    "dst port 43981",
    "tcp dst port 8081 or src port 8081",
    "host 10.77.0.1",
    "host fd77::2",
    "host 127.0.0.1",
    "host ::1",
    "dst host 127.0.0.2",
    "src host 10.77.0.2",
    "src and dst host 127.0.0.1",
    "net 10.77.0.0/16",
    "net 10.77.0.0 mask 255.255.255.0",
    "net 10",
    "host 10.77",
    "net fd77::/16",
    "src net fd77::2/127",
    "net 127",
    "ip host 127.0.0.1",
    "ip6 host fd77::1",
    "ip6 src host fd77::1 or ::1",
    "host localhost",
    "port http",
    "portrange 8000-8100",
    "src portrange 40000-65535",
    "portrange 43980-43990 and tcp[tcpflags] & tcp-push != 0",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[13] & 0x01 != 0",
    "tcp[tcpflags] & tcp-rst != 0",
    "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0 or tcp[13] = 0x12",
    "tcp[13] = 0x10",
    "tcp[13] & 0xc0 != 0",
    "tcp[tcpflags] & tcp-urg != 0",
    "! tcp[tcpflags] & tcp-ack != 0",
    "tcp[13] > 0x10",
    "0 = tcp[13]",
    "less 66",
    "greater 100",
    "len > 74",
    "less 54 or len = 66",
    "ip6",
    "ip",
    "not ip",
    "tcp",
    "ip and tcp",
    "ip6 and tcp",
    "not tcp",
    "host 10.77.0.2 and port 80 or port 8080",
    "host 10.77.0.2 and (port 80 or port 8080)",
    "port 80 or 8080 or 43981",
    "host 127.0.0.1 or 10.77.0.1",
    "src host 10.77.0.1 and dst 10.77.0.2",
    "not port 80 and not port 43981",
    "not (port 80 or 43981)",
    "port 80 and not 40001",
    "tcp port 80",
    "ip6 or port 80 and greater 200",
    "not (ip6 or port 80) and len >= 60",
    "port 12345 || port 59356 && !tcp[13] & 2 != 0",
    "(tcp[13] & 2) != 0 and (port 80 or (8080))",
    "1 = 1",
    "port 80 or host 10.77.0.9 or port 8080",
    "src port 80 or dst port 43981 or port 8080",
    "host 10.77.0.2 or port 80",
    "port 80 or tcp[13] = 2 or port 8080",
    "host fd77::1 or fd77::2",
    "net fd77::/16 or host ::1",
    "src and dst host 127.0.0.1 or port 80",
    "not host 10.77.0.1 and not host 127.0.0.1",
    "not (src port 43981 or dst port 80)",
    "tcp and (host 127.0.0.1 or 127.0.0.2) and not port 12345",
    "net 0.0.0.0/0 or port 80",
    "greater 60 and (port 80 or 8081) or less 60",
    "tcp[13] & 0x12 = 0x12 or port 80 and tcp[13] & 2 != 0",
    "tcp[13] = 2 or port 80 or port 8080",
    "tcp[13] & 2 != 0 or src port 8080 or dst port 80",
    "port 8080 or tcp[13] = 0x12 or host 10.77.0.2",
    "host 10.77.0.2 or 10.77.0.1 or port 80",
    "not port 80 and not tcp[13] = 0x10 and not port 8080",
    "portrange 1-100 or portrange 8000-9000",
    "dst port 8080 or src port 8080 or src port 55370",
    "dst host 10.77.0.2 or src net 10.77.0.0/24",
    "host 10.77.0.9 or net 10.77.0.0/24 or host 10.77.0.2",
    "port 80 or greater 100 or port 8080",
    "port 80 or tcp[13] != 0x10 or port 8080",
    "port 80 or tcp[13] & 0x10 = 0 or port 8080",
    "port 80 or tcp[13] < 0x11 or port 8080",
    "tcp[13] & 0x12 = 0x12 or port 8080 or tcp[13] & 2 != 0",
    "not port 80 and not port 8080 and not port 43981",
    "tcp[13] & 0x10 = 0 or port 80 or port 8080",
    "not tcp[13] & 2 != 0 and not port 80 and not port 8080",
    "port 8080 or tcp[13] & 0x10 = 0x10 or port 80",
    "port 80 or tcp[13] <= 0x10 or port 8080",
    "port 80 and 3 > 2",
];

fn packet<'a>(link: LinkType, r: &'a Rec) -> Packet<'a> {
    Packet {
        ts: r.ts,
        link,
        data: &r.data,
        wire_len: r.wire_len,
    }
}

/// The fields as the kernel would extract them (the link header decides the offsets).
fn fields(link: LinkType, r: &Rec) -> PacketFields {
    let d = &r.data[..];
    let be16 = |o: usize| {
        d.get(o..o + 2)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    };
    match link {
        LinkType::Ethernet => extract_fields(d, r.wire_len),
        LinkType::Raw => {
            let et = match d.first().map(|v| v >> 4) {
                Some(4) => 0x0800,
                Some(6) => 0x86dd,
                _ => 0,
            };
            extract_network_fields(d, 0, et, r.wire_len)
        }
        LinkType::LinuxSll => extract_network_fields(d, 16, be16(14), r.wire_len),
        LinkType::LinuxSll2 => extract_network_fields(d, 20, be16(0), r.wire_len),
        other => panic!("the filter corpus has no {other:?} captures"),
    }
}

mod support;

use support::{read_pcap, write_pcap, Pcap, Record as Rec};

fn corpus() -> Vec<PathBuf> {
    support::corpus_pcaps()
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// Every packet cut at each snap length up to 80 bytes, then whole.
fn truncations(recs: &[Rec]) -> Vec<Rec> {
    let mut out = Vec::new();
    for r in recs {
        for k in 0..=r.data.len().min(80) {
            let mut t = r.clone();
            t.data.truncate(k);
            out.push(t);
        }
        out.push(r.clone());
    }
    out
}

struct Case {
    name: String,
    path: PathBuf,
    link: LinkType,
    recs: Vec<Rec>,
}

fn cases(tmp: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    for path in corpus() {
        let Pcap {
            link,
            records: recs,
        } = read_pcap(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let cut = tmp.join(format!("cut-{name}"));
        let cut_recs = truncations(&recs);
        write_pcap(&cut, link, &cut_recs);
        v.push(Case {
            name: name.clone(),
            path: path.clone(),
            link,
            recs,
        });
        v.push(Case {
            name: format!("cut-{name}"),
            path: cut,
            link,
            recs: cut_recs,
        });
    }
    v
}

#[test]
fn filter_matches_tcpdump_on_the_corpus() {
    assert!(TABLE.len() >= 30);
    if !support::require_tool("tcpdump") {
        return;
    }
    // Removed on drop, a failed assertion included.
    let scratch = tracer_testkit::TempDir::new("filter-table");
    let tmp = &scratch.path;
    let cases = cases(tmp);
    assert!(!cases.is_empty(), "no corpus pcaps: set TRACER_CONFORMANCE");
    let out = tmp.join("out.pcap");
    let mut failures = Vec::new();
    let mut compared = 0;
    for expr in TABLE {
        let filter = Filter::parse(expr).unwrap_or_else(|e| panic!("{e}"));
        let mut counts = Vec::new();
        for c in &cases {
            let _ = std::fs::remove_file(&out);
            let st = Command::new("tcpdump")
                .args(["-r"])
                .arg(&c.path)
                .arg("-w")
                .arg(&out)
                .arg(expr)
                .output()
                .unwrap();
            assert!(
                st.status.success(),
                "tcpdump refused '{expr}' on {}: {}",
                c.name,
                String::from_utf8_lossy(&st.stderr)
            );
            let theirs = read_pcap(&out).records;
            let ours: Vec<Rec> = c
                .recs
                .iter()
                .filter(|r| filter.matches(&packet(c.link, r)))
                .cloned()
                .collect();
            compared += 1;
            if !c.name.starts_with("cut-") {
                counts.push(format!("{}:{}/{}", c.name, ours.len(), c.recs.len()));
            }
            if ours != theirs {
                let only_ours: Vec<usize> = c
                    .recs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| ours.contains(r) && !theirs.contains(r))
                    .map(|(i, _)| i)
                    .collect();
                let only_theirs: Vec<usize> = c
                    .recs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| theirs.contains(r) && !ours.contains(r))
                    .map(|(i, _)| i)
                    .collect();
                failures.push(format!(
                    "'{expr}' on {}: we select {} packets, tcpdump {}; only ours (index, caplen): {:?}; only tcpdump's: {:?}",
                    c.name,
                    ours.len(),
                    theirs.len(),
                    only_ours.iter().take(8).map(|&i| (i, c.recs[i].data.len())).collect::<Vec<_>>(),
                    only_theirs.iter().take(8).map(|&i| (i, c.recs[i].data.len())).collect::<Vec<_>>(),
                ));
            }
        }
        println!("{expr:60} {}", counts.join(" "));
    }
    println!(
        "compared {compared} (expression, pcap) pairs: {} expressions x {} pcaps",
        TABLE.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn programs_are_well_formed_and_agree_with_the_ast() {
    let scratch = tracer_testkit::TempDir::new("filter-ast");
    let cases = cases(&scratch.path);
    let mut checked = 0;
    for expr in TABLE {
        let filter = Filter::parse(expr).unwrap();
        let prog = filter.program();
        assert_eq!(check_program(prog), Ok(()), "'{expr}': {prog:?}");
        assert_eq!(filter.kernel_program(), prog, "'{expr}' fits the kernel");
        assert_eq!(
            prog.len(),
            filter
                .expr()
                .prim_count()
                .max(usize::from(!prog.is_empty()))
        );
        // The normalised text parses back to the same filter.
        let again = Filter::parse(&filter.to_string()).unwrap();
        assert_eq!(again.expr(), filter.expr(), "'{expr}' -> '{filter}'");
        for c in &cases {
            for r in &c.recs {
                let f = fields(c.link, r);
                let by_prog = tracer_common::filter::run(prog, &f);
                let by_ast = filter.expr().eval(&f).unwrap_or(false);
                assert_eq!(
                    by_prog,
                    by_ast,
                    "'{expr}' on {} ({} bytes)",
                    c.name,
                    r.data.len()
                );
                checked += 1;
            }
        }
    }
    println!("{checked} (expression, packet) evaluations agree");
}
