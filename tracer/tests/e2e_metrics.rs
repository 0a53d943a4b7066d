//! `--metrics ADDR:PORT` end to end: a real Prometheus (Debian's `prometheus`, started here
//! inside the server's namespace, scraping every second) reads tracer's exposition during 20
//! one-shot curls to nginx and its query API must count them; `promtool check metrics` must
//! accept the exposition; and what bad input does to the endpoint and the flag.

mod common;

use std::{
    io::Write,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use common::*;
use serde_json::Value;

/// Where tracer serves its metrics and where Prometheus listens (the server's namespace).
const METRICS: &str = "10.77.0.2:9464";
const PROMETHEUS: &str = "10.77.0.2:9090";

/// A Prometheus server scraping `target` every second, with its storage in a scratch
/// directory; killed (and the directory removed) on drop.
struct Prometheus {
    _proc: Proc,
    _dir: TempDir,
}

impl Prometheus {
    fn start(ns: &NetNs, target: &str) -> Prometheus {
        let dir = TempDir::new("prometheus");
        let conf = dir.join("prometheus.yml");
        std::fs::write(
            &conf,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: tracer\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let mut c = ns.cmd("prometheus");
        c.arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={PROMETHEUS}"))
            .arg("--log.level=warn");
        let mut proc = Proc::spawn("prometheus", c);
        // Ready: /-/ready answers 200 (bounded; a Prometheus that exits says why).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = proc.child.try_wait() {
                let (_, _, err) = proc.wait(Duration::from_secs(2));
                panic!("prometheus exited ({status}) before it was ready:\n{err}");
            }
            if curl(
                ns,
                &[
                    "-sf",
                    "-o",
                    "/dev/null",
                    &format!("http://{PROMETHEUS}/-/ready"),
                ],
            )
            .is_some()
            {
                return Prometheus {
                    _proc: proc,
                    _dir: dir,
                };
            }
            assert!(
                Instant::now() < deadline,
                "prometheus was not ready within 60 s"
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// The value of an instant query's single result (None: no result yet).
    fn query(&self, ns: &NetNs, q: &str) -> Option<f64> {
        let out = curl(
            ns,
            &[
                "-sf",
                "-G",
                "--data-urlencode",
                &format!("query={q}"),
                &format!("http://{PROMETHEUS}/api/v1/query"),
            ],
        )?;
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(v["status"], "success", "{q}: {out}");
        let result = v["data"]["result"].as_array()?;
        assert!(result.len() <= 1, "{q}: {out}");
        result.first()?["value"][1].as_str()?.parse().ok()
    }
}

/// `curl ARGS` inside `ns`, bounded to 10 s: its stdout when it succeeded.
fn curl(ns: &NetNs, args: &[&str]) -> Option<String> {
    let out = ns
        .cmd("curl")
        .args(["--max-time", "10"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("curl");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `promtool check metrics` over `text`: (success, what it said).
fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && said.trim().is_empty(), said)
}

#[test]
fn prometheus_counts_twenty_curls() {
    let Some(_serial) = privileged(&["nginx", "curl", "ethtool", "prometheus", "promtool"]) else {
        return;
    };
    let net = VethPair::new("metr");
    let _nginx = Nginx::start(&net.b, &["10.77.0.2:8080"], 8080);
    let mut tracer = start_tracer(
        &net.b,
        &["-i", "veth-b", "--metrics", METRICS, "port", "8080"],
    );
    tracer.wait_for_stderr("serving metrics at", Duration::from_secs(5));
    let prom = Prometheus::start(&net.b, METRICS);
    // The target is scraped before the traffic: the counters start from their first sample.
    let deadline = Instant::now() + Duration::from_secs(30);
    while prom.query(&net.b, r#"up{job="tracer"}"#) != Some(1.0) {
        assert!(Instant::now() < deadline, "prometheus never scraped tracer");
        thread::sleep(Duration::from_millis(250));
    }

    net.a.sh(
        "for i in $(seq 20); do curl -sf --max-time 5 -o /dev/null http://10.77.0.2:8080/ || exit 1; done",
    );

    // Connection records come 2 s after each close, and Prometheus scrapes each second.
    let queries = [
        r#"sum(tracer_connections_total{server_port="8080"})"#,
        r#"sum(tracer_http_request_duration_seconds_count{server_port="8080"})"#,
        r#"sum(tracer_http_request_duration_seconds_count{server_port="8080",method="GET",status_class="2xx"})"#,
        r#"sum(tracer_handshake_rtt_seconds_count{server_port="8080"})"#,
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let values = loop {
        let values: Vec<Option<f64>> = queries.iter().map(|q| prom.query(&net.b, q)).collect();
        for (q, v) in queries.iter().zip(&values) {
            assert!(v.unwrap_or(0.0) <= 20.0, "{q} = {v:?}: more than 20");
        }
        if values.iter().all(|v| *v == Some(20.0)) {
            break values;
        }
        assert!(
            Instant::now() < deadline,
            "within 30 s of the curls: {:?}",
            queries.iter().zip(&values).collect::<Vec<_>>()
        );
        thread::sleep(Duration::from_millis(250));
    };
    for (q, v) in queries.iter().zip(&values) {
        eprintln!("prometheus: {q} = {}", v.unwrap());
    }
    for q in [
        r#"sum(tracer_http_unpaired_total)"#,
        r#"tracer_records_lost_total"#,
        r#"tracer_conn_evictions_total"#,
    ] {
        let v = prom.query(&net.b, q).unwrap_or(0.0);
        assert_eq!(v, 0.0, "{q}");
    }
    // Prometheus took the OpenMetrics exposition without complaint.
    let targets = curl(
        &net.b,
        &["-sf", &format!("http://{PROMETHEUS}/api/v1/targets")],
    )
    .expect("targets");
    let t: Value = serde_json::from_str(&targets).unwrap();
    let active = &t["data"]["activeTargets"][0];
    assert_eq!(active["health"], "up", "{targets}");
    assert_eq!(active["lastError"], "", "{targets}");
    // Only OpenMetrics carries units: Prometheus parsed that format.
    let meta = curl(
        &net.b,
        &[
            "-sf",
            &format!("http://{PROMETHEUS}/api/v1/metadata?metric=tracer_handshake_rtt_seconds"),
        ],
    )
    .expect("metadata");
    let m: Value = serde_json::from_str(&meta).unwrap();
    let m = &m["data"]["tracer_handshake_rtt_seconds"][0];
    assert_eq!(
        (&m["type"], &m["unit"]),
        (&"histogram".into(), &"seconds".into()),
        "{meta}"
    );

    // The exposition as Prometheus gets it, and in the text format promtool reads.
    let om = curl(
        &net.b,
        &[
            "-sf",
            "-D",
            "-",
            "-H",
            "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
            &format!("http://{METRICS}/metrics"),
        ],
    )
    .expect("GET /metrics");
    assert!(
        om.to_ascii_lowercase().contains(
            "content-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"
        ),
        "{om}"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(
        om.contains("tracer_connections_total{server_port=\"8080\"} 20\n"),
        "{om}"
    );
    let text = curl(
        &net.b,
        &[
            "-sf",
            "-H",
            "Accept: text/plain",
            &format!("http://{METRICS}/metrics"),
        ],
    )
    .expect("GET /metrics as text");
    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool check metrics: {said}\n--- exposition\n{text}");
    eprintln!(
        "promtool check metrics: accepted ({} lines)",
        text.lines().count()
    );

    drop(prom);
    let (status, out, err) = tracer.interrupt(Duration::from_secs(15));
    assert!(status.success(), "tracer: {status}\n{err}");
    assert!(out.is_empty(), "--metrics alone printed:\n{out}");
}

/// tracer's stderr lines, without the empty ones.
fn lines(s: &str) -> Vec<&str> {
    s.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn bad_requests_leave_the_endpoint_serving_and_bad_addresses_are_one_line() {
    let Some(_serial) = privileged(&["curl", "nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("metb");
    let mut tracer = start_tracer(
        &net.b,
        &["-i", "veth-b", "--metrics", METRICS, "port", "8080"],
    );
    tracer.wait_for_stderr("serving metrics at", Duration::from_secs(5));
    let url = format!("http://{METRICS}");
    let status_of = |args: &[&str]| -> String {
        let mut a = vec!["-s", "-o", "/dev/null", "-w", "%{http_code}"];
        a.extend_from_slice(args);
        curl(&net.a, &a).unwrap_or_else(|| "failed".into())
    };
    assert_eq!(status_of(&[&format!("{url}/metrics")]), "200");
    assert_eq!(status_of(&[&format!("{url}/")]), "404");
    assert_eq!(status_of(&[&format!("{url}/metrics/../x")]), "404");
    assert_eq!(status_of(&["-X", "POST", &format!("{url}/metrics")]), "405");
    assert_eq!(status_of(&["-I", &format!("{url}/metrics")]), "200");
    // Garbage, a request line cut short, a header too large, a connection that says nothing,
    // a request held half-sent: each ends its own connection only.
    net.a.sh(
        "host=10.77.0.2; port=9464; \
         printf '\\000\\001\\002garbage\\r\\n\\r\\n' | timeout 5 nc -N -w 2 $host $port > /dev/null; \
         printf 'GET /metrics HTTP/9.9\\r\\n\\r\\n' | timeout 5 nc -N -w 2 $host $port > /dev/null; \
         printf 'GET\\r\\n\\r\\n' | timeout 5 nc -N -w 2 $host $port > /dev/null; \
         printf 'GET /metrics HTTP/1.1\\r\\nX: %s\\r\\n\\r\\n' \"$(head -c 200000 /dev/zero | tr '\\0' a)\" \
           | timeout 5 nc -N -w 2 $host $port > /dev/null; \
         timeout 5 nc -z -w 2 $host $port; \
         (printf 'GET /metr'; sleep 0.5) | timeout 5 nc -w 1 $host $port > /dev/null; \
         head -c 65536 /dev/urandom | timeout 5 nc -N -w 2 $host $port > /dev/null; \
         true"
    );
    assert!(
        matches!(tracer.child.try_wait(), Ok(None)),
        "tracer exited after bad requests"
    );
    let body =
        curl(&net.a, &["-sf", &format!("{url}/metrics")]).expect("GET /metrics after garbage");
    assert!(body.ends_with("# EOF\n"), "{body}");

    // The address in use (by the tracer above): one line, exit 1, before anything is loaded.
    let run = |addr: &str| {
        let mut c = net.b.cmd(tracer_bin());
        c.args(["-i", "veth-b", "--metrics", addr, "port", "8080"]);
        let (status, _, err) = Proc::spawn("tracer", c).wait(Duration::from_secs(20));
        (status, err)
    };
    let (status, err) = run(METRICS);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(
        lines(&err),
        [format!(
            "tracer: --metrics {METRICS}: Address already in use (os error 98)"
        )],
        "{err}"
    );
    // An address this namespace does not have.
    let (status, err) = run("1.2.3.4:9");
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(
        lines(&err),
        ["tracer: --metrics 1.2.3.4:9: Cannot assign requested address (os error 99)"],
        "{err}"
    );

    assert!(matches!(tracer.child.try_wait(), Ok(None)));
    let body = curl(&net.a, &["-sf", &format!("{url}/metrics")]).expect("GET /metrics at the end");
    assert!(
        body.contains("# TYPE tracer_records_lost counter"),
        "{body}"
    );
    let (status, out, err) = tracer.interrupt(Duration::from_secs(15));
    assert!(status.success(), "tracer: {status}\n{err}");
    assert!(out.is_empty(), "{out}");
}

/// Values the flag refuses before anything runs (no privilege needed, no socket opened).
#[test]
fn malformed_metrics_addresses_are_one_line_errors() {
    for bad in [
        "10.77.0.2",
        "10.77.0.2:",
        "10.77.0.2:70000",
        "nowhere:9464",
        "",
        ":9464",
    ] {
        let out = Command::new(tracer_bin())
            .args(["-i", "lo", "--metrics", bad])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad:?}: {err}");
        let l = lines(&err);
        assert_eq!(l.len(), 1, "{bad:?}: {err}");
        assert!(
            l[0].starts_with("tracer: ") && l[0].contains("--metrics"),
            "{bad:?}: {err}"
        );
    }
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conn/delay.pcap");
    let out = Command::new(tracer_bin())
        .arg("-r")
        .arg(&data)
        .args(["--metrics", "127.0.0.1:9464"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        lines(&err),
        ["tracer: --metrics serves a live capture's metrics: it does not take -r"],
        "{err}"
    );
}

/// A sample's value in an exposition (`name{labels}` exactly as written, or a bare name).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn summary_number(err: &str, text: &str) -> u64 {
    err.lines()
        .find(|l| l.contains(text))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_full_flow_table_shows_its_evictions_and_conn_prints_without_http() {
    let Some(_serial) = privileged(&["nginx", "python3", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("mevi");
    let _nginx = Nginx::start_in_memory(&net.b, &["10.77.0.2:80"], 80);
    // --conn with --metrics: connection records printed; HTTP is tracked for the metrics
    // and not printed.
    let mut tracer = start_tracer(
        &net.b,
        &[
            "-i",
            "veth-b",
            "--metrics",
            METRICS,
            "--conn",
            "--json",
            "--max-conns",
            "16",
            "port",
            "80",
        ],
    );
    tracer.wait_for_stderr("serving metrics at", Duration::from_secs(5));
    // 64 connections, each answered before the next opens (its entry is the table's newest
    // for its whole exchange), all left open, then closed together: their closes find most
    // entries evicted.
    net.a.sh(r#"python3 - <<'EOF'
import socket
socks = []
for i in range(64):
    s = socket.create_connection(('10.77.0.2', 80), timeout=5)
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    s.recv(4096)
    socks.append(s)
for s in socks:
    s.close()
EOF"#);
    // Quiet: the records come 2 s after the closes, the table's entries are counted every
    // 5 s; wait until the metrics have stood still for longer than that.
    let read = || {
        let t = curl(&net.b, &["-sf", &format!("http://{METRICS}/metrics")]).expect("GET /metrics");
        (
            sample(&t, "tracer_conn_evictions_total").expect("evictions"),
            sample(&t, r#"tracer_connections_total{server_port="80"}"#).unwrap_or(0.0),
            sample(&t, r#"tracer_http_request_duration_seconds_count{server_port="80",method="GET",status_class="2xx"}"#)
                .unwrap_or(0.0),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = read();
    let mut since = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(500));
        let now = read();
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > Duration::from_secs(7) && now.0 > 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "metrics never settled: {now:?}");
    }
    let (evicted_metric, conns_metric, http_metric) = last;
    let (status, out, err) = tracer.interrupt(Duration::from_secs(15));
    assert!(status.success(), "tracer: {status}\n{err}");
    let objs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(objs.iter().all(|o| o["type"] == "conn"), "{out}");
    let evicted = summary_number(&err, "connections evicted");
    eprintln!(
        "metrics: {conns_metric} connections, {evicted_metric} evicted, {http_metric} GET 2xx; exit: {} records, {evicted} evicted",
        objs.len()
    );
    assert!(evicted > 0, "{err}");
    assert_eq!(evicted_metric, evicted as f64, "{err}");
    // The records sent during the run; those printed at exit (`open`: still in the table)
    // came after the last scrape.
    let ended = objs.iter().filter(|o| o["close"] != "open").count();
    assert_eq!(conns_metric, ended as f64, "{out}");
    // Every exchange was paired while its connection's entry was fresh.
    assert_eq!(http_metric, 64.0, "{err}");
}
