//! Every link type tracer reads that carries IP/TCP, against tcpdump 4.99.3 run here on
//! the captures of `tests/data/linktypes` (written by its `make.py`): BSD loopback (NULL
//! in both byte orders and with families in the other order, LOOP), raw IP (RAW, IPV4,
//! IPV6), PPP, PPP in HDLC framing, Cisco HDLC, Linux cooked v1 and v2, and captures whose
//! timestamps are out of range.
//!
//! The library printer must print every frame (IP and not) as tcpdump does; `tracer -r`
//! prints the TCP packets, so it is compared with `tcpdump -r FILE tcp`, alone and with
//! filters, on standard output and on the `reading from file` line of standard error.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every output mode the printer has: names, verbosity, dumps, `-e`, `-q`, `-S`, and all
/// timestamp forms.
const MODES: &[&[&str]] = &[
    &[],
    &["-n"],
    &["-nn"],
    &["-e"],
    &["-nn", "-e"],
    &["-nn", "-v"],
    &["-nn", "-vv"],
    &["-nn", "-vvv"],
    &["-nn", "-e", "-v"],
    &["-nn", "-e", "-vv"],
    &["-nn", "-x"],
    &["-nn", "-xx"],
    &["-nn", "-X"],
    &["-nn", "-XX"],
    &["-nn", "-A"],
    &["-nn", "-e", "-x"],
    &["-nn", "-e", "-XX"],
    &["-nn", "-q"],
    &["-nn", "-q", "-e"],
    &["-nn", "-q", "-X"],
    &["-nn", "-q", "-v", "-e"],
    &["-nn", "-S"],
    &["-nn", "-A", "-e", "-v"],
    &["-t"],
    &["-tt"],
    &["-ttt"],
    &["-tttt"],
    &["-ttttt"],
    &["-nn", "-e", "-ttt"],
];

/// Filters on the link header's protocol and on the IP and TCP headers behind it.
const FILTERS: &[&str] = &[
    "ip",
    "ip6",
    "tcp port 80",
    "port 443",
    "host 10.81.0.2",
    "src host fd81::1",
    "net 10.81.0.0/24",
    "not port 80",
    "tcp[tcpflags] & tcp-syn != 0",
    "ip6 and not port 80",
    "tcp[tcpflags] & tcp-fin != 0",
    "greater 70",
];

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/linktypes");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    v.sort();
    assert!(v.len() >= 14, "link-type corpus missing: {v:?}");
    v
}

fn require_tcpdump() {
    assert!(
        support::require_tool("tcpdump"),
        "tcpdump is the oracle of these tests and is not installed"
    );
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// `TZ=UTC tcpdump -r FILE FLAGS [EXPR]`: standard output and error.
fn tcpdump(path: &Path, flags: &[&str], expr: Option<&str>) -> (Vec<u8>, String) {
    let mut cmd = Command::new("tcpdump");
    cmd.env("TZ", "UTC").arg("-r").arg(path).args(flags);
    if let Some(e) = expr {
        cmd.arg(e);
    }
    let o = cmd.output().expect("run tcpdump");
    assert!(o.status.success(), "tcpdump {flags:?} {expr:?} failed");
    (o.stdout, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// tcpdump's standard error if it refuses `expr` on this file.
fn refused(path: &Path, expr: &str) -> Option<String> {
    let o = Command::new("tcpdump")
        .arg("-r")
        .arg(path)
        .arg(expr)
        .output()
        .expect("run tcpdump");
    (!o.status.success()).then(|| String::from_utf8_lossy(&o.stderr).into_owned())
}

/// `TZ=UTC tracer -r FILE FLAGS [EXPR]`: standard output and error.
fn tracer(path: &Path, flags: &[&str], expr: Option<&str>) -> (Vec<u8>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracer"));
    cmd.env("TZ", "UTC").arg("-r").arg(path).args(flags);
    if let Some(e) = expr {
        cmd.arg(e);
    }
    let o = cmd.output().expect("run tracer");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        o.status.success(),
        "tracer {flags:?} {expr:?} failed: {err}"
    );
    (o.stdout, err)
}

fn report(failures: &[String], what: &str) {
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(30).collect();
        panic!(
            "{} {what} mismatches, first ones:\n{}",
            failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn every_frame_of_every_link_type_prints_what_tcpdump_prints_in_every_mode() {
    require_tcpdump();
    let mut failures = Vec::new();
    for path in corpus() {
        for flags in MODES {
            let (want, _) = tcpdump(&path, flags, None);
            let got = support::print_file(&path, flags);
            if let Some(d) = support::diff(&want, &got) {
                failures.push(format!("{} {flags:?}: {d}", name(&path)));
            }
        }
    }
    report(&failures, "printer");
}

/// The `reading from file` line: tcpdump's, and the only line tracer writes for a file it
/// reads to the end.
fn announcement(stderr: &str) -> &str {
    stderr.lines().next().unwrap_or("")
}

#[test]
fn tracer_r_prints_the_tcp_packets_of_every_link_type_like_tcpdump() {
    require_tcpdump();
    let mut failures = Vec::new();
    let mut printed = 0;
    for path in corpus() {
        for flags in MODES {
            let (want, want_err) = tcpdump(&path, flags, Some("tcp"));
            let (got, got_err) = tracer(&path, flags, None);
            if !want.is_empty() {
                printed += 1;
            }
            if let Some(d) = support::diff(&want, &got) {
                failures.push(format!("{} {flags:?}: {d}", name(&path)));
            }
            if announcement(&got_err) != announcement(&want_err) || got_err.lines().count() != 1 {
                failures.push(format!(
                    "{} {flags:?}: stderr\n  tracer:  {got_err}\n  tcpdump: {want_err}",
                    name(&path)
                ));
            }
        }
    }
    report(&failures, "tracer -r");
    // Every capture but the one whose NULL families libpcap cannot match has TCP packets.
    assert!(
        printed >= MODES.len() * 13,
        "only {printed} outputs had packets"
    );
}

#[test]
fn filters_on_every_link_type_select_what_tcpdump_selects() {
    require_tcpdump();
    let mut failures = Vec::new();
    let (mut nonempty, mut refusals) = (0, 0);
    for path in corpus() {
        for expr in FILTERS {
            for flags in [&["-nn"][..], &["-nn", "-e", "-v"][..]] {
                let both = format!("tcp and ({expr})");
                let (got, _) = tracer(&path, flags, Some(expr));
                if let Some(err) = refused(&path, &both) {
                    // libpcap's optimizer proves IPv6 tests false on raw IPv4 (and IPv4
                    // tests on raw IPv6) and tcpdump refuses the filter; tracer's filter
                    // matches nothing.
                    assert!(
                        err.contains("expression rejects all packets") && got.is_empty(),
                        "{} '{expr}': tcpdump: {err}, tracer printed {} bytes",
                        name(&path),
                        got.len()
                    );
                    refusals += 1;
                    continue;
                }
                let (want, _) = tcpdump(&path, flags, Some(&both));
                if !want.is_empty() {
                    nonempty += 1;
                }
                if let Some(d) = support::diff(&want, &got) {
                    failures.push(format!("{} '{expr}' {flags:?}: {d}", name(&path)));
                }
            }
        }
    }
    report(&failures, "filter");
    // Per flag set: `ip6`, `src host fd81::1`, `ip6 and ...` on raw IPv4; `ip`, `host` and
    // `net` of IPv4 and the two `tcp[tcpflags]` tests (IPv4 only in libpcap) on raw IPv6.
    assert_eq!(
        refusals, 16,
        "tcpdump refused other filters than those proved false"
    );
    assert!(
        nonempty > FILTERS.len() * 20,
        "the filters selected too little: {nonempty}"
    );
}

/// Classic pcap records whose fraction is a second or more (micro- and nanosecond files),
/// or whose seconds are past 2^31: tcpdump prints the fraction as the file holds it
/// (`22:13:20.1000000`) and takes `-ttt` deltas from those values.
#[test]
fn out_of_range_timestamps_print_like_tcpdump_in_every_timestamp_mode() {
    require_tcpdump();
    let mut failures = Vec::new();
    for file in ["ts-overflow-us.pcap", "ts-overflow-ns.pcap"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/linktypes")
            .join(file);
        for flags in [
            &["-nn"][..],
            &["-nn", "-t"],
            &["-nn", "-tt"],
            &["-nn", "-ttt"],
            &["-nn", "-tttt"],
            &["-nn", "-ttttt"],
        ] {
            let (want, _) = tcpdump(&path, flags, None);
            let (got, _) = tracer(&path, flags, None);
            let text = String::from_utf8_lossy(&want);
            assert!(
                text.lines().count() == 9,
                "{file} {flags:?}: tcpdump printed\n{text}"
            );
            if let Some(d) = support::diff(&want, &got) {
                failures.push(format!("{file} {flags:?}: {d}"));
            }
        }
    }
    report(&failures, "timestamp");
}
