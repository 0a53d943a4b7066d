//! `tracer -r FILE --conn --http --json` against the tshark oracle (tests/support/tshark.rs,
//! whose doc comment is the contract): every capture of the conformance corpus and every
//! capture in tests/data/conn/ (described in its README.md), compared to the microsecond
//! (2 us).
//!
//! The `oracle_*` tests check the oracle itself (on hand-made tshark output, and that the
//! captures show what they were made for); they need no tracer feature.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::tshark::{self, Params, Records};

/// Offline, tracer and tshark read the same timestamps.
const TOLERANCE_US: i64 = 2;

/// HTTP ports beyond tshark's own (80 and 8080 cover every capture here).
const HTTP_PORTS: &[u16] = &[];

fn conn_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conn")
}

/// tests/data/conn/*.pcap, sorted.
fn conn_pcaps() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(conn_dir())
        .expect("tests/data/conn")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 12,
        "tests/data/conn holds {} captures, expected 12",
        v.len()
    );
    v
}

/// Every pcap of the conformance corpus; it must be found (no silent skip).
fn corpus_pcaps() -> Vec<PathBuf> {
    assert!(
        support::corpus_dir().is_some(),
        "conformance corpus not found (set TRACER_CONFORMANCE, or put shared/conformance beside the repository)"
    );
    let v: Vec<PathBuf> = support::corpus_pcaps()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert!(!v.is_empty(), "the conformance corpus holds no pcap");
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The options a capture is read with: idle-gap.pcap is made for `--conn-idle 1`.
fn idle_secs(pcap: &Path) -> Option<i64> {
    (name(pcap) == "idle-gap.pcap").then_some(1)
}

/// What tracer prints for `pcap`, parsed; Err with its stderr when it fails.
fn try_tracer(pcap: &Path) -> Result<Records, String> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tracer"));
    c.arg("-r").arg(pcap).args(["--conn", "--http", "--json"]);
    if let Some(s) = idle_secs(pcap) {
        c.args(["--conn-idle", &s.to_string()]);
    }
    let out = c.output().expect("run tracer");
    if !out.status.success() {
        return Err(format!(
            "{c:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(tshark::parse_tracer_json(&String::from_utf8_lossy(
        &out.stdout,
    )))
}

fn tracer(pcap: &Path) -> Records {
    try_tracer(pcap).unwrap_or_else(|e| panic!("{e}"))
}

fn oracle(pcap: &Path) -> Records {
    let params = idle_secs(pcap).map(Params::idle_secs).unwrap_or_default();
    tshark::expected(pcap, HTTP_PORTS, &params)
}

/// Compares every capture, then fails once with the report of each that differs.
fn compare_all(pcaps: &[PathBuf]) {
    let mut failures = Vec::new();
    for p in pcaps {
        let exp = oracle(p);
        match try_tracer(p) {
            Err(e) => failures.push(format!("{}: {e}", p.display())),
            Ok(got) => {
                if let Some(d) = tshark::diff(&exp, &got, TOLERANCE_US) {
                    failures.push(format!("{}: {d}", p.display()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ from the tshark oracle:\n\n{}",
        failures.len(),
        pcaps.len(),
        failures.join("\n")
    );
}

#[test]
fn every_corpus_capture_gives_tsharks_connections_and_exchanges() {
    let pcaps = corpus_pcaps();
    if !tshark::require() {
        return;
    }
    compare_all(&pcaps);
}

#[test]
fn every_conn_capture_gives_tsharks_connections_and_exchanges() {
    let pcaps = conn_pcaps();
    if !tshark::require() {
        return;
    }
    compare_all(&pcaps);
}

/// A known difference from tshark, on purpose: two pipelined requests in ONE segment.
/// tshark's HTTP dissector finds both (`http.request.method` = "GET GET" on one frame);
/// tracer looks for a request only at the start of a segment, so it counts one request
/// (GET /a.txt), pairs it with the first response, and prints the second response as an
/// orphan (no request seen: method, uri and latency null). The oracle's rule "one request per
/// frame, the first" is this behaviour; here it is spelled out record by record.
#[test]
fn pipelined_requests_in_one_segment_count_as_the_first_only() {
    let pcap = conn_dir().join("pipelined-onesegment.pcap");
    if !tshark::require() {
        return;
    }
    // what tshark itself shows: one frame with two requests, two responses
    let frames = tshark::frames(&tshark::run(&pcap, HTTP_PORTS));
    let req: Vec<_> = frames.iter().filter(|f| !f.methods.is_empty()).collect();
    assert_eq!(req.len(), 1, "one request frame");
    assert_eq!(req[0].methods, ["GET", "GET"]);
    assert_eq!(req[0].uris, ["/a.txt", "/b.txt"]);
    let resp: Vec<_> = frames.iter().filter(|f| !f.codes.is_empty()).collect();
    assert_eq!(resp.len(), 2, "two response frames");

    // what tracer must print
    let exp = oracle(&pcap);
    assert_eq!(exp.conns.len(), 1);
    assert_eq!(
        exp.conns[0].http_requests, 1,
        "tshark saw 2 requests, tracer counts 1"
    );
    assert_eq!(exp.http.len(), 2);
    let (a, orphan) = (&exp.http[0], &exp.http[1]);
    assert_eq!(
        (a.method.as_deref(), a.uri.as_deref(), a.status),
        (Some("GET"), Some("/a.txt"), Some(200))
    );
    assert_eq!(a.ts_us, req[0].time_us);
    assert_eq!(a.latency_us, Some(resp[0].time_us - req[0].time_us));
    assert_eq!(
        (
            orphan.method.as_deref(),
            orphan.uri.as_deref(),
            orphan.status,
            orphan.latency_us
        ),
        (None, None, Some(200), None)
    );
    assert_eq!(orphan.ts_us, resp[1].time_us);

    let got = tracer(&pcap);
    assert_eq!(got.conns.len(), 1, "{got:?}");
    assert_eq!(got.conns[0].http_requests, 1, "{got:?}");
    assert_eq!(got.http.len(), 2, "{got:?}");
    tshark::assert_same("pipelined-onesegment.pcap", &exp, &got, TOLERANCE_US);
}

// ------------------------------------------------------------------------ the oracle itself

/// Where tshark pairs a response with the same request as FIFO, its http.time is the FIFO
/// latency; and each capture shows what it was made for (tests/data/conn/README.md).
#[test]
fn oracle_on_the_conn_captures_shows_what_each_is_for() {
    if !tshark::require() {
        return;
    }
    let mut agreements = 0;
    for p in conn_pcaps().iter().chain(&corpus_pcaps()) {
        let r = oracle(p);
        let bad = tshark::tshark_pairing_disagreements(&r, TOLERANCE_US);
        assert!(bad.is_empty(), "{}: {bad:#?}", p.display());
        agreements += tshark::tshark_pairing_agreements(&r);
    }
    assert!(
        agreements >= 100,
        "only {agreements} responses paired alike"
    );

    let r = |n: &str| oracle(&conn_dir().join(n));
    let sum = |r: &Records, f: fn(&tshark::Conn) -> u64| r.conns.iter().map(f).sum::<u64>();

    let loss = r("loss.pcap");
    assert_eq!(loss.conns.len(), 3);
    assert!(sum(&loss, |c| c.retrans_s2c) >= 3, "{loss:#?}");
    assert!(loss
        .http
        .iter()
        .all(|h| h.status == Some(200) && h.latency_us.is_some()));

    let delay = r("delay.pcap");
    assert_eq!(delay.conns.len(), 3);
    for c in &delay.conns {
        let rtt = c.handshake_rtt_us.unwrap();
        assert!((40_000..100_000).contains(&rtt), "{c:?}");
    }
    assert_eq!(delay.http.len(), 3);
    assert!(delay.http.iter().all(|h| h.latency_us.unwrap() >= 40_000));

    let zw = r("zerowin.pcap");
    assert_eq!(zw.conns.len(), 1);
    assert!(zw.conns[0].zero_windows >= 2, "{zw:#?}");
    assert_eq!(zw.conns[0].close, "rst");

    let rst = r("rst.pcap");
    assert_eq!(rst.conns.len(), 4);
    assert!(
        rst.conns.iter().all(|c| c.close == "rst" && c.rsts == 1),
        "{rst:#?}"
    );
    assert_eq!(rst.conns[0].handshake_rtt_us, None, "refused: no SYN/ACK");

    let v6 = r("ipv6-http.pcap");
    assert!(v6
        .conns
        .iter()
        .all(|c| c.family == 6 && c.client == "fd77::1"));
    assert_eq!(v6.http.len(), 5);
    assert_eq!(v6.conns.iter().map(|c| c.http_requests).max(), Some(3));
    assert!(v6.http.iter().any(|h| h.status == Some(404)));

    let pipe = r("pipelined.pcap");
    assert_eq!(pipe.conns.len(), 1);
    assert_eq!(pipe.conns[0].http_requests, 3);
    let uris: Vec<_> = pipe
        .http
        .iter()
        .map(|h| h.uri.as_deref().unwrap())
        .collect();
    assert_eq!(uris, ["/a.txt", "/b.txt", "/c.txt"]);
    assert!(pipe.http.iter().all(|h| h.status == Some(200)));
    // tshark 4.0 pairs the first response with the newest request, the others with none
    assert_eq!(tshark::tshark_pairing_agreements(&pipe), 0);

    let many = r("many-short.pcap");
    assert_eq!(many.conns.len(), 100);
    assert_eq!(many.http.len(), 100);
    assert!(many
        .conns
        .iter()
        .all(|c| c.close == "fin" && c.http_requests == 1));

    let mid = r("midstream.pcap");
    assert_eq!(mid.conns.len(), 3);
    assert!(mid.conns.iter().all(|c| c.handshake_rtt_us.is_none()));
    let mut closes: Vec<_> = mid.conns.iter().map(|c| c.close.as_str()).collect();
    closes.sort();
    assert_eq!(closes, ["fin", "open", "open"]);

    let ka = r("keepalive.pcap");
    assert_eq!(ka.conns.len(), 1);
    assert_eq!(
        ka.conns[0].retrans_c2s, 0,
        "keep-alives are not retransmissions"
    );
    assert_eq!(ka.conns[0].close, "fin");

    let reuse = r("reuse.pcap");
    assert_eq!(reuse.conns.len(), 2);
    assert_eq!(reuse.conns[0].client_port, 40777);
    assert_eq!(reuse.conns[1].client_port, 40777);

    let gap = conn_dir().join("idle-gap.pcap");
    let one = tshark::expected(&gap, HTTP_PORTS, &Params::default());
    assert_eq!(one.conns.len(), 1);
    let two = oracle(&gap);
    assert_eq!(two.conns.len(), 2);
    assert_eq!(two.conns[0].close, "idle");
    assert_eq!(two.conns[1].close, "fin");
    assert_eq!(two.conns[1].handshake_rtt_us, None);
    assert_eq!(
        two.conns
            .iter()
            .map(|c| c.packets_c2s + c.packets_s2c)
            .sum::<u64>(),
        one.conns[0].packets_c2s + one.conns[0].packets_s2c
    );
}

/// One line of tshark output from (field, value) pairs; the other fields empty.
fn line(kv: &[(&str, &str)]) -> String {
    let mut cols = vec![""; tshark::FIELDS.len()];
    for (k, v) in kv {
        let i = tshark::FIELDS
            .iter()
            .position(|f| f == k)
            .unwrap_or_else(|| panic!("{k} is not asked of tshark"));
        cols[i] = v;
    }
    cols.join("\t")
}

const C: &str = "10.0.0.1";
const S: &str = "10.0.0.2";

/// A frame of stream `stream` at `t` seconds (decimal text), c2s or s2c, with `flags`,
/// `len` and more fields.
fn fr(
    no: u32,
    t: &str,
    stream: &str,
    c2s: bool,
    flags: &str,
    len: &str,
    more: &[(&str, &str)],
) -> String {
    let no = no.to_string();
    let (src, sp, dst, dp) = if c2s {
        (C, "40000", S, "80")
    } else {
        (S, "80", C, "40000")
    };
    let mut kv = vec![
        ("frame.number", no.as_str()),
        ("frame.time_epoch", t),
        ("tcp.stream", stream),
        ("ip.src", src),
        ("tcp.srcport", sp),
        ("ip.dst", dst),
        ("tcp.dstport", dp),
        ("tcp.flags", flags),
        ("tcp.len", len),
    ];
    kv.extend_from_slice(more);
    line(&kv)
}

#[test]
fn oracle_times_are_parsed_exactly() {
    assert_eq!(
        tshark::parse_decimal_us("1795329380.000274000"),
        Ok(1_795_329_380_000_274)
    );
    assert_eq!(tshark::parse_decimal_us("0.040852999"), Ok(40_852));
    assert_eq!(tshark::parse_decimal_us("12"), Ok(12_000_000));
    assert_eq!(tshark::parse_decimal_us("-0.5"), Ok(-500_000));
    assert!(tshark::parse_decimal_us("1e3").is_err());
    assert!(tshark::parse_decimal_us("").is_err());
    let t = 1_795_329_380_000_274;
    assert_eq!(tshark::format_rfc3339(t), "2026-11-22T06:36:20.000274Z");
    assert_eq!(
        tshark::parse_rfc3339_us("2026-11-22T06:36:20.000274Z"),
        Ok(t)
    );
    assert_eq!(
        tshark::parse_rfc3339_us("2026-12-02T08:00:00.000000Z"),
        Ok(1_796_198_400_000_000)
    );
    assert_eq!(tshark::format_rfc3339(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(
        tshark::parse_rfc3339_us("2024-02-29T23:59:59.999999Z"),
        Ok(1_709_251_199_999_999)
    );
    assert!(tshark::parse_rfc3339_us("2026-12-02T08:00:00.000Z").is_err());
    assert!(tshark::parse_rfc3339_us("2026-12-02 08:00:00.000000Z").is_err());
}

#[test]
fn oracle_derives_a_plain_http_connection() {
    let tsv = [
        // a frame without tcp.stream (not TCP for tshark): ignored
        line(&[("frame.number", "1"), ("frame.time_epoch", "99.0")]),
        fr(2, "100.000100", "0", true, "0x0002", "0", &[]),
        fr(3, "100.000150", "0", false, "0x0012", "0", &[]),
        fr(
            4,
            "100.000170",
            "0",
            true,
            "0x0010",
            "0",
            &[("tcp.analysis.initial_rtt", "0.000070000")],
        ),
        fr(
            5,
            "100.000200",
            "0",
            true,
            "0x0018",
            "80",
            &[
                ("tcp.analysis.initial_rtt", "0.000070000"),
                ("http.request.method", "GET"),
                ("http.request.uri", "/index.html?a=1,2"),
            ],
        ),
        fr(
            6,
            "100.000400",
            "0",
            false,
            "0x0018",
            "1448",
            &[
                ("http.response.code", "200"),
                ("http.time", "0.000200000"),
                ("http.request_in", "5"),
            ],
        ),
        // a retransmission of the response: counted as such, not as a response
        fr(
            7,
            "100.200400",
            "0",
            false,
            "0x0018",
            "1448",
            &[
                ("tcp.analysis.retransmission", "1"),
                ("tcp.analysis.fast_retransmission", "1"),
                ("http.response.code", "200"),
            ],
        ),
        fr(
            8,
            "100.300000",
            "0",
            false,
            "0x0010",
            "0",
            &[("tcp.analysis.zero_window", "1")],
        ),
        fr(9, "100.400000", "0", true, "0x0011", "0", &[]),
        fr(10, "100.400050", "0", false, "0x0011", "0", &[]),
        fr(11, "100.400060", "0", true, "0x0010", "0", &[]),
    ]
    .join("\n");
    let r = tshark::derive(&tsv, &Params::default());
    assert_eq!(r.conns.len(), 1);
    let c = &r.conns[0];
    assert_eq!(
        c.to_json(),
        r#"{"bytes_c2s":80,"bytes_s2c":2896,"client":"10.0.0.1","client_port":40000,"close":"fin","duration_us":399960,"end":"1970-01-01T00:01:40.400060Z","family":4,"handshake_rtt_us":70,"http_requests":1,"iface":null,"packets_c2s":5,"packets_s2c":5,"retrans_c2s":0,"retrans_s2c":1,"rsts":0,"server":"10.0.0.2","server_port":80,"start":"1970-01-01T00:01:40.000100Z","type":"conn","zero_windows":1}"#
    );
    assert_eq!(r.http.len(), 1);
    let h = &r.http[0];
    assert_eq!(h.ts_us, 100_000_200);
    assert_eq!(h.uri.as_deref(), Some("/index.html?a=1,2"));
    assert_eq!((h.status, h.latency_us), (Some(200), Some(200)));
    assert_eq!((h.request_frame, h.response_frame), (Some(5), Some(6)));
    assert_eq!(
        (h.tshark_request_in, h.tshark_time_us),
        (Some(5), Some(200))
    );
    assert_eq!(tshark::tshark_pairing_agreements(&r), 1);
    assert!(tshark::tshark_pairing_disagreements(&r, 2).is_empty());
}

#[test]
fn oracle_pairs_pipelined_requests_first_in_first_out() {
    let long = format!("/{}", "x".repeat(100));
    let tsv = [
        fr(1, "1.000", "0", true, "0x0002", "0", &[]),
        fr(2, "1.010", "0", false, "0x0012", "0", &[]),
        fr(
            3,
            "1.020",
            "0",
            true,
            "0x0018",
            "50",
            &[("http.request.method", "GET"), ("http.request.uri", "/a")],
        ),
        // two requests in one segment: the first one only
        fr(
            4,
            "1.025",
            "0",
            true,
            "0x0018",
            "99",
            &[
                ("http.request.method", "GET POST"),
                ("http.request.uri", "/b /c"),
            ],
        ),
        // a retransmitted request: not a request
        fr(
            5,
            "1.026",
            "0",
            true,
            "0x0018",
            "50",
            &[
                ("tcp.analysis.spurious_retransmission", "1"),
                ("http.request.method", "GET"),
                ("http.request.uri", "/a"),
            ],
        ),
        fr(
            6,
            "1.027",
            "0",
            true,
            "0x0018",
            "50",
            &[("http.request.method", "HEAD"), ("http.request.uri", &long)],
        ),
        // tshark 4.0 pairs the first response with the newest request
        fr(
            7,
            "1.040",
            "0",
            false,
            "0x0018",
            "100",
            &[
                ("http.response.code", "200"),
                ("http.time", "0.013000000"),
                ("http.request_in", "6"),
            ],
        ),
        fr(
            8,
            "1.045",
            "0",
            false,
            "0x0018",
            "100",
            &[("http.response.code", "404 200")],
        ),
        // out of order: not a response either
        fr(
            9,
            "1.046",
            "0",
            false,
            "0x0018",
            "100",
            &[
                ("tcp.analysis.out_of_order", "1"),
                ("http.response.code", "500"),
            ],
        ),
    ]
    .join("\n");
    let r = tshark::derive(&tsv, &Params::default());
    assert_eq!(r.conns.len(), 1);
    assert_eq!(r.conns[0].http_requests, 3);
    assert_eq!(r.conns[0].retrans_c2s, 1);
    assert_eq!(r.conns[0].retrans_s2c, 1);
    assert_eq!(
        r.conns[0].handshake_rtt_us, None,
        "no frame shows initial_rtt"
    );
    assert_eq!(r.conns[0].close, "open");
    let got: Vec<_> = r
        .http
        .iter()
        .map(|h| (h.ts_us, h.uri.clone(), h.status, h.latency_us))
        .collect();
    let mut cut = long.clone();
    cut.truncate(64);
    assert_eq!(
        got,
        [
            (1_020_000, Some("/a".to_string()), Some(200), Some(20_000)),
            (1_025_000, Some("/b".to_string()), Some(404), Some(20_000)),
            (1_027_000, Some(cut), None, None),
        ]
    );
    assert_eq!(r.http[1].method.as_deref(), Some("GET"));
    assert_eq!(r.http[2].method.as_deref(), Some("HEAD"));
    assert_eq!(tshark::tshark_pairing_agreements(&r), 0);
}

#[test]
fn oracle_splits_streams_on_idle_and_linger_and_finds_the_client() {
    let tsv = [
        // stream 0, no handshake seen: the first frame's source is the client (here the
        // server's port 80 end, since it speaks first)
        fr(1, "10.0", "0", false, "0x0018", "5", &[]),
        fr(2, "10.1", "0", true, "0x0010", "0", &[]),
        // 1.5 s of silence: with idle 1 s, a new connection
        fr(
            3,
            "11.6",
            "0",
            true,
            "0x0018",
            "7",
            &[("http.response.code", "200")],
        ),
        fr(4, "11.7", "0", false, "0x0014", "0", &[]),
        // 2.5 s after the RST (linger 2 s): yet another connection
        fr(5, "14.2", "0", false, "0x0010", "0", &[]),
        // stream 1: only the SYN/ACK was captured: its destination is the client
        fr(6, "20.0", "1", false, "0x0012", "0", &[]),
        fr(7, "20.1", "1", true, "0x0004", "0", &[]),
        // stream 2: IPv6; FIN from one end, then RST: "rst"
        line(&[
            ("frame.number", "8"),
            ("frame.time_epoch", "30.0"),
            ("tcp.stream", "2"),
            ("ipv6.src", "fd77:0:0:0::1"),
            ("tcp.srcport", "5555"),
            ("ipv6.dst", "fd77::2"),
            ("tcp.dstport", "6666"),
            ("tcp.flags", "0x0011"),
        ]),
        line(&[
            ("frame.number", "9"),
            ("frame.time_epoch", "30.5"),
            ("tcp.stream", "2"),
            ("ipv6.src", "fd77::2"),
            ("tcp.srcport", "6666"),
            ("ipv6.dst", "fd77::1"),
            ("tcp.dstport", "5555"),
            ("tcp.flags", "0x0004"),
        ]),
    ]
    .join("\n");
    let r = tshark::derive(&tsv, &Params::idle_secs(1));
    let got: Vec<_> = r
        .conns
        .iter()
        .map(|c| {
            (
                c.start_us,
                format!("{}:{}", c.client, c.client_port),
                c.packets_c2s,
                c.packets_s2c,
                c.rsts,
                c.close.as_str(),
                c.family,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (10_000_000, "10.0.0.2:80".to_string(), 1, 1, 0, "idle", 4),
            (11_600_000, "10.0.0.1:40000".to_string(), 1, 1, 1, "rst", 4),
            (14_200_000, "10.0.0.2:80".to_string(), 1, 0, 0, "open", 4),
            (20_000_000, "10.0.0.1:40000".to_string(), 1, 1, 1, "rst", 4),
            (30_000_000, "fd77::1:5555".to_string(), 1, 1, 1, "rst", 6),
        ]
    );
    // the orphan response (no request seen) of the second part
    assert_eq!(r.http.len(), 1);
    assert_eq!(r.http[0].ts_us, 11_600_000);
    assert_eq!(
        (r.http[0].method.as_ref(), r.http[0].status),
        (None, Some(200))
    );
    // default idle (300 s): stream 0 splits only after the RST (linger)
    let r = tshark::derive(&tsv, &Params::default());
    assert_eq!(r.conns.len(), 4);
    assert_eq!(r.conns[0].close, "rst");
    assert_eq!(r.conns[0].packets_c2s + r.conns[0].packets_s2c, 4);
}

#[test]
fn oracle_closes_with_fin_before_a_later_rst() {
    let tsv = [
        fr(1, "1.0", "0", true, "0x0011", "0", &[]),
        fr(2, "1.1", "0", false, "0x0011", "0", &[]),
        fr(3, "1.2", "0", true, "0x0004", "0", &[]),
        // within the linger time: still this connection
        fr(4, "2.9", "0", true, "0x0004", "0", &[]),
    ]
    .join("\n");
    let r = tshark::derive(&tsv, &Params::default());
    assert_eq!(r.conns.len(), 1);
    assert_eq!((r.conns[0].close.as_str(), r.conns[0].rsts), ("fin", 2));
}

#[test]
fn oracle_reads_tracer_json_and_reports_every_difference() {
    let tsv = [
        fr(1, "100.000100", "0", true, "0x0002", "0", &[]),
        fr(2, "100.000150", "0", false, "0x0012", "0", &[]),
        fr(
            3,
            "100.000170",
            "0",
            true,
            "0x0010",
            "0",
            &[("tcp.analysis.initial_rtt", "0.000070000")],
        ),
        fr(
            4,
            "100.000200",
            "0",
            true,
            "0x0018",
            "80",
            &[("http.request.method", "GET"), ("http.request.uri", "/")],
        ),
        fr(
            5,
            "100.000400",
            "0",
            false,
            "0x0018",
            "100",
            &[("http.response.code", "200")],
        ),
    ]
    .join("\n");
    let exp = tshark::derive(&tsv, &Params::default());
    let conn = exp.conns[0].to_json();
    let http = exp.http[0].to_json();
    let out = format!("{{\"type\":\"packet\",\"n\":1}}\n{conn}\n{http}\n");
    let got = tshark::parse_tracer_json(&out);
    assert_eq!(tshark::diff(&exp, &got, 2), None);

    // 2 us apart is within the tolerance; the changed fields are each reported
    let shifted = conn
        .replace("00:01:40.000100Z", "00:01:40.000102Z")
        .replace("\"packets_s2c\":2", "\"packets_s2c\":3")
        .replace("\"close\":\"open\"", "\"close\":\"fin\"");
    let http2 = http
        .replace("\"status\":200", "\"status\":404")
        .replace("\"latency_us\":200", "\"latency_us\":250");
    let extra = http.replace("00:01:40.000200Z", "00:01:41.000000Z");
    let got = tshark::parse_tracer_json(&format!("{shifted}\n{http2}\n{extra}\n"));
    let d = tshark::diff(&exp, &got, 2).expect("differences");
    for want in [
        "packets_s2c: expected 2, got 3",
        "close: expected \"open\", got \"fin\"",
        "status: expected Some(200), got Some(404)",
        "latency_us: expected Some(200), got Some(250)",
        "unexpected in tracer's output",
        "00:01:41.000000Z",
        "5 differences",
    ] {
        assert!(d.contains(want), "no {want:?} in:\n{d}");
    }
    assert!(!d.contains("start:"), "{d}");

    // 3 us apart: the connection no longer matches; both sides are listed
    let far = conn.replace("00:01:40.000100Z", "00:01:40.000103Z");
    let got = tshark::parse_tracer_json(&format!("{far}\n{http}\n"));
    let d = tshark::diff(&exp, &got, 2).expect("differences");
    assert!(
        d.contains("missing in tracer's output") && d.contains("unexpected in tracer's output"),
        "{d}"
    );
}
