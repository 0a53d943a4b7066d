//! Privileged end-to-end filter tests: the kernel decides the filter, and it must select on
//! live traffic exactly the packets tcpdump's filter selects; a filter that matches nothing
//! costs no ring traffic under load; bad filters are one-line errors.

mod common;

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    time::Duration,
};

use common::*;

/// Expressions over the traffic of [`mixed_traffic`]; each selects some of it, none all.
const EXPRESSIONS: &[&str] = &[
    "port 43981",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0",
    "tcp[tcpflags] = (tcp-syn|tcp-ack)",
    "tcp[13] & 4 != 0",
    "host 10.77.0.2 and not port 80",
    "ip6",
    "portrange 8000-9000",
    "greater 200",
    "less 80",
    "len > 1000 and src host 10.77.0.2",
    "net 10.77.0.0/24 and dst port 80",
    "src host fd77::1",
    "(port 80 or port 43981) and ip",
    "dst host 10.77.0.1 and tcp[tcpflags] & tcp-syn != 0",
    "src port 80 or 5555",
    "not port 80 and not port 43981",
    "ip6 and dst net fd77::/64 and tcp dst portrange 1-1024",
];

/// One run of varied TCP traffic across the pair, one flow at a time: HTTP over IPv4 and
/// IPv6 (small and full-sized segments), netcat chats on 43981 (IPv4) and 8080 (IPv6) with
/// SYN/FIN handshakes, connections refused with RST on IPv4 port 9 and IPv6 port 8500, and
/// a chat opened from `b` to a server in `a` (port 5555).
fn mixed_traffic(net: &VethPair) {
    net.a.sh(
        "curl -sS --max-time 5 -o /dev/null -o /dev/null http://10.77.0.2/ http://10.77.0.2/big.html",
    );
    net.a.sh(
        "curl -sS --max-time 5 -g -o /dev/null -o /dev/null 'http://[fd77::2]/' 'http://[fd77::2]/big.html'",
    );
    nc_chat(&net.b, &net.a, "10.77.0.2", "10.77.0.2", 43981);
    nc_chat(&net.b, &net.a, "fd77::2", "fd77::2", 8080);
    // Nothing listens there: SYN, then RST/ACK.
    net.a.sh("! timeout 5 nc -z -w 2 10.77.0.2 9");
    net.a.sh("! timeout 5 nc -z -w 2 fd77::2 8500");
    nc_chat(&net.a, &net.b, "10.77.0.1", "10.77.0.1", 5555);
}

/// One tracer and one tcpdump per expression, all on `veth-a` during the same traffic. The
/// first tracer gets XDP; the others share the interface through TC ingress, and every one
/// has its own TC egress program: each decides its filter in the kernel. tcpdump gets
/// `tcp and (EXPR)`: tracer traces TCP only.
#[test]
fn expressions_select_what_tcpdump_selects_on_the_same_live_traffic() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "nginx", "curl", "ethtool", "ss"]) else {
        return;
    };
    let net = VethPair::new("filt");
    let _web = Nginx::start(&net.b, &["10.77.0.2:80", "[fd77::2]:80"], 80);

    let tracer = |expr: &str| -> Proc {
        let mut c = net.a.cmd(tracer_bin());
        c.args(["-i", "veth-a", "-nn", "-B", "1024", expr]);
        Proc::spawn(&format!("tracer '{expr}'"), c)
    };
    // One after the other: the first takes XDP, the others TCX, and each loads and verifies
    // its programs alone (a dozen verifications at once on a loaded two-core machine can
    // take longer than the wait).
    let tracers: Vec<Proc> = EXPRESSIONS
        .iter()
        .map(|e| {
            let mut t = tracer(e);
            t.wait_for_stderr("listening on", Duration::from_secs(30));
            t
        })
        .collect();
    let mut tcpdumps: Vec<Proc> = EXPRESSIONS
        .iter()
        .map(|e| {
            let mut c = net.a.cmd("tcpdump");
            c.args(["-l", "-i", "veth-a", "-nn"])
                .arg(format!("tcp and ({e})"));
            Proc::spawn(&format!("tcpdump '{e}'"), c)
        })
        .collect();
    for d in &mut tcpdumps {
        d.wait_for_stderr("listening on", Duration::from_secs(10));
    }

    mixed_traffic(&net);
    let (dumps, ours) = stop_captures(tcpdumps, tracers);
    // Both ingress paths decided filters: XDP for the first tracer, TC for the others.
    assert!(!ours[0].err.contains("XDP unavailable"), "{}", ours[0].err);
    assert!(
        ours[1].err.contains("capturing ingress with tcx ingress"),
        "{}",
        ours[1].err
    );

    let mut failures = Vec::new();
    let mut total = 0;
    for ((expr, t), d) in EXPRESSIONS.iter().zip(&ours).zip(&dumps) {
        let r = catch_unwind(AssertUnwindSafe(|| {
            assert_same_as_tcpdump(&t.out, &d.out, 1000);
            let n = packets(&t.out).len() as u64;
            assert_eq!(summary_count(&t.err, "captured"), Some(n), "{}", t.err);
            assert_eq!(
                summary_count(&t.err, "dropped by kernel"),
                Some(0),
                "{}",
                t.err
            );
            n
        }));
        match r {
            Ok(n) => {
                eprintln!("{n:4} packets: {expr}");
                total += n;
            }
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("=== '{expr}':\n{msg}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions differ from tcpdump:\n{}",
        failures.len(),
        EXPRESSIONS.len(),
        failures.join("\n")
    );
    assert!(total > 200, "too little traffic: {total} packets in all");
}

/// The kernel counters line of `--kernel-stats`, as numbers by name.
fn kernel_stats(err: &str) -> Vec<(String, u64)> {
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("kernel: "))
        .unwrap_or_else(|| panic!("no kernel line in:\n{err}"));
    line.split(", ")
        .map(|part| {
            let (n, name) = part.split_once(' ').unwrap();
            (name.to_string(), n.parse().unwrap())
        })
        .collect()
}

/// wrk -> nginx on loopback for a few seconds with a filter no packet matches: the kernel
/// sees and parses every packet, and submits nothing.
#[test]
fn filter_matching_nothing_under_load_submits_no_record() {
    let Some(_serial) = privileged(&["nginx", "wrk", "ss"]) else {
        return;
    };
    let ns = NetNs::new("nomatch");
    let _web = Nginx::start(&ns, &["127.0.0.1:8080"], 8080);
    let tracer = start_tracer(&ns, &["-i", "lo", "-nn", "--kernel-stats", "port", "9"]);
    let wrk = ns.sh("timeout 20 wrk -t1 -c16 -d3s http://127.0.0.1:8080/ 2>&1");
    let (_, ours) = stop_captures(vec![], vec![tracer]);
    let t = &ours[0];
    let requests: u64 = wrk
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count from wrk:\n{wrk}"));
    let stats = kernel_stats(&t.err);
    let get = |name: &str| {
        stats
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no '{name}' in {stats:?}"))
    };
    let msg = format!("wrk: {wrk}\ntracer: {}", t.err);
    // Only the newline tcpdump prints when interrupted.
    assert_eq!(t.out, "\n", "printed packets:\n{}", t.out);
    assert_eq!(get("matched"), 0, "{msg}");
    assert_eq!(get("records submitted"), 0, "{msg}");
    assert_eq!(get("ring full"), 0, "{msg}");
    assert!(requests > 1000, "the load was too light: {msg}");
    // Every request is at least a request and a response segment, each seen once on lo.
    assert!(get("tcp") >= 2 * requests, "{msg}");
    assert!(get("packets seen") >= get("tcp"), "{msg}");
    assert_eq!(summary_count(&t.err, "captured"), Some(0), "{msg}");
}

/// Filters tracer cannot run, or that are not filters: one line on stderr, exit status 1,
/// nothing printed, nothing captured.
#[test]
fn unsupported_or_malformed_filters_are_one_line_and_exit_1() {
    let Some(_serial) = privileged(&[]) else {
        return;
    };
    let ns = NetNs::new("badf");
    for expr in [
        "udp",
        "ether host 02:77:00:00:00:01",
        "tcp[0:2] = 80",
        "vlan and port 80",
        "icmp or port 80",
        "port 80 and",
        "port 99999",
        "((port 80)",
        "tcp[tcpflags] & tcp-bogus != 0",
        "port 80 port 81",
    ] {
        let mut c = ns.cmd(tracer_bin());
        c.args(["-i", "lo", "-nn", expr]);
        let p = Proc::spawn("tracer", c);
        let (status, out, err) = p.wait(Duration::from_secs(10));
        assert_eq!(status.code(), Some(1), "'{expr}': {err}");
        assert!(out.is_empty(), "'{expr}' printed: {out}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "'{expr}': not one line:\n{err}");
        assert!(
            lines[0].starts_with("tracer: ") && lines[0].contains("filter"),
            "'{expr}': {err}"
        );
    }
}
