//! The `tracer` binary reading capture files: the whole path (reader, filter, printer,
//! output) against tcpdump 4.99.3's golden files and against tcpdump run here.

use std::{path::PathBuf, process::Command};

mod support;

fn corpus() -> Option<PathBuf> {
    support::corpus_dir()
}

fn tracer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tracer"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run tracer")
}

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

fn first_difference(ours: &str, theirs: &str) -> String {
    for (i, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  tracer:  {a}\n  tcpdump: {b}", i + 1);
        }
    }
    format!(
        "line counts differ: tracer {}, tcpdump {}",
        ours.lines().count(),
        theirs.lines().count()
    )
}

#[test]
fn reading_every_corpus_file_prints_the_golden_text_in_all_ten_modes() {
    if corpus().is_none() {
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for (pcap, golden) in support::corpus_pcaps() {
        let name = pcap.file_stem().unwrap().to_string_lossy().into_owned();
        for (mode, flags) in MODES {
            let want = std::fs::read_to_string(golden.join(format!("{name}.{mode}.txt"))).unwrap();
            let mut args = vec!["-r", pcap.to_str().unwrap()];
            args.extend_from_slice(flags);
            let out = tracer(&args);
            assert!(
                out.status.success(),
                "{name} {mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = String::from_utf8_lossy(&out.stdout);
            compared += 1;
            if got != want {
                failures.push(format!("{name}.{mode}: {}", first_difference(&got, &want)));
            }
        }
    }
    assert_eq!(compared, 80, "expected 8 captures x 10 modes");
    assert!(
        failures.is_empty(),
        "{} of 80 differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `tracer -r` on the application corpus (tests/data/app): DNS, RESP, BGP, the text
/// protocols, ... from real servers and crafted payloads, byte for byte tcpdump's text in
/// every mode with a golden file (`-nn`, `-v`, `-vv`, `-vvv`, `-X`, and no flags).
#[test]
fn reading_the_app_captures_prints_the_golden_text_in_every_mode() {
    let cases = support::app_golden_cases();
    assert!(
        cases.len() >= 40,
        "app corpus missing: {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for (pcap, mode, flags, want) in &cases {
        let mut args = vec!["-r", pcap.to_str().unwrap()];
        args.extend_from_slice(flags);
        let out = tracer(&args);
        let name = pcap.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            out.status.success(),
            "{name} {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if out.stdout != *want {
            let (got, want) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(want),
            );
            failures.push(format!("{name}.{mode}: {}", first_difference(&got, &want)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn reading_a_file_announces_it_like_tcpdump_on_stderr() {
    let Some(root) = corpus() else { return };
    let out = tracer(&[
        "-r",
        root.join("pcaps/any-iface.pcap").to_str().unwrap(),
        "-nn",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("reading from file ")
            && err.contains("link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144"),
        "{err}"
    );
}

/// Filter expressions for the table test: each is run through `tracer -r` and `tcpdump -r`
/// over every corpus capture, and the printed text must be identical.
const EXPRESSIONS: &[&str] = &[
    "tcp",
    "ip",
    "ip6",
    "port 43981",
    "port 80",
    "port 8080 or port 8081",
    "src port 43981",
    "dst port 80",
    "portrange 40000-40010",
    "src portrange 40000-60000",
    "host 127.0.0.1",
    "host 10.77.0.1",
    "src host 10.77.0.2",
    "dst host 10.77.0.2",
    "host fd77::2",
    "src host fd77::1 and dst port 43981",
    "net 10.77.0.0/24",
    "net 10.77.0.0 mask 255.255.255.0",
    "net fd77::/64",
    "net 127",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0",
    "tcp[tcpflags] & tcp-push != 0 and port 80",
    "tcp[13] & 2 != 0",
    "tcp[tcpflags] == tcp-ack",
    "less 60",
    "greater 100",
    "greater 1000 or less 54",
    "not port 80",
    "! tcp[tcpflags] & tcp-ack != 0",
    "port 80 and not host 10.77.0.2",
    "port 43981 or 80",
    "host 10.77.0.1 or 10.77.0.2 and port 80",
    "(port 8080 or port 8081) and ip",
    "ip and tcp and not (port 80 or port 8080)",
    "src or dst port 43982",
    "src and dst host 127.0.0.1",
    "tcp port 80 && tcp[tcpflags] & tcp-fin != 0 || port 8081",
];

#[test]
fn filters_print_exactly_what_tcpdump_prints_on_the_corpus() {
    if corpus().is_none() {
        return;
    }
    if !support::require_tool("tcpdump") {
        return;
    }
    assert!(EXPRESSIONS.len() >= 30);
    let mut failures = Vec::new();
    let mut nonempty = 0;
    for expr in EXPRESSIONS {
        for (pcap, _) in support::corpus_pcaps() {
            let file = pcap.to_str().unwrap();
            let theirs = Command::new("tcpdump")
                .args(["-r", file, "-nn", "-v", expr])
                .env("TZ", "UTC")
                .output()
                .unwrap();
            assert!(theirs.status.success(), "tcpdump refused '{expr}'");
            let ours = tracer(&["-r", file, "-nn", "-v", expr]);
            assert!(
                ours.status.success(),
                "tracer refused '{expr}': {}",
                String::from_utf8_lossy(&ours.stderr)
            );
            let (a, b) = (
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&theirs.stdout),
            );
            if !b.is_empty() {
                nonempty += 1;
            }
            if a != b {
                failures.push(format!(
                    "'{expr}' on {}: {}",
                    pcap.file_name().unwrap().to_string_lossy(),
                    first_difference(&a, &b)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The table must select something: most (expression, capture) pairs print packets.
    assert!(
        nonempty > EXPRESSIONS.len() * 2,
        "only {nonempty} non-empty outputs"
    );
}

#[test]
fn bad_filter_is_one_line_pointing_at_the_token() {
    let Some(root) = corpus() else { return };
    let out = tracer(&[
        "-r",
        root.join("pcaps/lo-nc.pcap").to_str().unwrap(),
        "port",
        "80",
        "and",
        "foo",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("reading from file"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("tracer: ") && lines[0].contains("foo"),
        "{err}"
    );
    let out = tracer(&["-r", root.join("pcaps/lo-nc.pcap").to_str().unwrap(), "udp"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not supported"),
        "{err}"
    );
}

#[test]
fn truncated_file_prints_what_was_readable_then_one_error_line() {
    let Some(root) = corpus() else { return };
    let whole = std::fs::read(root.join("pcaps/lo-nc.pcap")).unwrap();
    let dir = tracer_testkit::TempDir::new("cli");
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..500]).unwrap();
    let out = tracer(&["-r", cut.to_str().unwrap(), "-nn"]);
    assert_eq!(out.status.code(), Some(1));
    let got = String::from_utf8_lossy(&out.stdout);
    let golden = std::fs::read_to_string(root.join("golden/lo-nc.nn.txt")).unwrap();
    assert!(
        !got.is_empty() && golden.starts_with(&*got),
        "a prefix of the golden text:\n{got}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("tracer: ") && last.contains("truncated"),
        "{err}"
    );
}

#[test]
fn count_limit_applies_to_files() {
    let Some(root) = corpus() else { return };
    let out = tracer(&[
        "-r",
        root.join("pcaps/lo-nc.pcap").to_str().unwrap(),
        "-nn",
        "-c",
        "3",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn bad_flags_are_one_line_errors() {
    for args in [
        &["-Z"][..],
        &["-c", "x"],
        &["-Q", "sideways"],
        &["-s", "-5"],
    ] {
        let out = tracer(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("tracer: "), "{err}");
    }
}
