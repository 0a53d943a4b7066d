//! The tshark oracle for `tracer --conn --http --json`: runs tshark 4.0 over a capture and
//! derives, by the rules below, the connection and HTTP records tracer must print; parses
//! tracer's JSON lines into the same structs; compares the two with a readable diff.
//!
//! # The contract (what the implementation follows)
//!
//! **tshark run.** [`command`]:
//!
//! ```text
//! tshark -r F -n -o tcp.desegment_tcp_streams:FALSE -o tcp.analyze_sequence_numbers:TRUE
//!        -o ip.defragment:FALSE -o ipv6.defragment:FALSE -T fields -E separator=/t -E occurrence=a -E aggregator=/s [-d tcp.port==P,http ...]
//!        -e FIELD ... (see FIELDS)
//! ```
//!
//! No IP reassembly: the tracker sees packets as the kernel hooks do, one at a time (tshark
//! would otherwise put a reassembled segment in the last fragment's frame). A first
//! fragment then counts in its stream without a payload length, as tshark shows it.
//! `-d tcp.port==P,http` for each HTTP port the caller names that is not already one of
//! tshark's HTTP ports. `-E aggregator=/s` (a space between the occurrences of one field)
//! only makes the output unambiguous: a URI may hold a comma, the default aggregator, but
//! never a space. Frames without `tcp.stream` are ignored. Times are parsed from their
//! decimal text, never through f64, and truncated to the microsecond (pcap timestamps are
//! microseconds, so nothing is lost).
//!
//! **Connections.** A connection is one `tcp.stream`, split further (see [`Params`]):
//! (a) *idle*: when the gap between consecutive frames of a stream is >= `idle_us` (default
//! 300 s), the earlier part ends (close "idle", unless it had already closed) and the later
//! part is a new connection; (b) *linger*: once a connection has closed (see close), a frame
//! more than `linger_us` (default 2 s) after the closing frame starts a new connection.
//!
//! - start/end: the first/last frame time of the connection; `duration_us` = end - start.
//! - client: the source of the first frame with SYN and not ACK; if there is none, the
//!   destination of the first frame with SYN and ACK; if neither, the source of the first
//!   frame. The server is the other end. c2s = frames whose source is the client end
//!   (address and port), s2c = the others.
//! - packets_c2s/s2c: frames per direction; bytes_c2s/s2c: sum of `tcp.len` (0 if absent).
//! - retrans_c2s/s2c: frames per direction carrying any of `tcp.analysis.retransmission`,
//!   `fast_retransmission`, `spurious_retransmission`, `out_of_order` (a frame counts once).
//! - handshake_rtt_us: `tcp.analysis.initial_rtt` as shown on the first frame of the
//!   connection that shows it, if the connection has a frame with SYN and ACK; else null
//!   (null too if no frame shows it).
//! - rsts: frames with RST; zero_windows: frames with `tcp.analysis.zero_window`.
//! - close: the first closing event: "rst" when a frame with RST comes before both ends have
//!   sent a FIN; "fin" when both ends have sent a FIN (first); "idle" from rule (a); "open"
//!   if none of these happened by the end of the capture. The closing frame is the RST or
//!   the second end's first FIN.
//! - iface: `frame.interface_name` of the first frame (pcapng); else, for Linux cooked v2
//!   captures, the name of `sll.ifindex` on the reading machine (as tcpdump prints it);
//!   else null.
//!
//! **HTTP.** Requests are frames with `http.request.method`, responses frames with
//! `http.response.code`, both only among frames NOT carrying any of the four retransmission
//! flags (tshark hands spurious and fast retransmissions to HTTP again, and 4.0 would count a
//! retransmitted request twice). One request and one response per frame at most: the first
//! occurrence (a segment holding two pipelined requests counts as one). A frame with both
//! (never seen in practice) is taken as its response first. `http_requests` of a connection
//! = its request frames. Pairing per connection, first in first out: each response goes to
//! the oldest unanswered request; a response with no unanswered request is an orphan
//! (method, uri, latency null); requests still unanswered at the end of their connection
//! have status and latency null. `ts` = the request's time (the response's for an orphan);
//! `latency_us` = response time - request time; `uri` = the first 64 bytes of
//! `http.request.uri` (cut back to a character boundary); iface as the connection's.
//! For each response tshark's own `http.time` and `http.request_in` are kept too
//! ([`Http::tshark_time_us`], [`Http::tshark_request_in`]): tshark 4.0 attaches a response to
//! the newest request (so it differs from FIFO when requests are pipelined), and
//! [`tshark_pairing_disagreements`] checks that where the two pairings agree, `http.time`
//! equals the FIFO latency.
//!
//! **Comparison** ([`diff`], [`assert_same`]): connections match by (family, client,
//! client_port, server, server_port) and start within the tolerance; exchanges by
//! (connection, ts): the connection's addresses and ports and ts within the tolerance (ts
//! lies inside its connection, so this names the connection). Counts must be equal and
//! every field equal, times (start, end, ts) within the tolerance, durations (duration_us,
//! handshake_rtt_us, latency_us: a difference of two times) within twice it.
#![allow(dead_code)]

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

/// The fields asked of tshark, in column order.
pub const FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "tcp.stream",
    "ip.src",
    "ipv6.src",
    "tcp.srcport",
    "ip.dst",
    "ipv6.dst",
    "tcp.dstport",
    "tcp.flags",
    "tcp.len",
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.out_of_order",
    "tcp.analysis.initial_rtt",
    "tcp.analysis.zero_window",
    "tcp.analysis.keep_alive",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "http.time",
    "http.request_in",
    "frame.interface_name",
    "sll.ifindex",
];

/// tshark 4.0's default HTTP ports (`http.tcp.port`): no `-d` needed for these.
pub const TSHARK_HTTP_PORTS: &[u16] = &[80, 3128, 3132, 5985, 8080, 8088, 11371, 1900, 2869, 2710];

/// How many bytes of a request URI are kept.
pub const URI_MAX: usize = 64;

const FIN: u16 = 0x01;
const SYN: u16 = 0x02;
const RST: u16 = 0x04;
const ACK: u16 = 0x10;

/// The splitting parameters (tracer's `--conn-idle SECONDS` sets `idle_us`).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub idle_us: i64,
    pub linger_us: i64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            idle_us: 300_000_000,
            linger_us: 2_000_000,
        }
    }
}

impl Params {
    /// Default linger, `idle_s` seconds of idle.
    pub fn idle_secs(idle_s: i64) -> Params {
        Params {
            idle_us: idle_s * 1_000_000,
            ..Params::default()
        }
    }
}

/// One `{"type":"conn"}` record. Times are microseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    pub start_us: i64,
    pub end_us: i64,
    pub duration_us: i64,
    pub family: u8,
    pub client: String,
    pub client_port: u16,
    pub server: String,
    pub server_port: u16,
    pub packets_c2s: u64,
    pub packets_s2c: u64,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    pub retrans_c2s: u64,
    pub retrans_s2c: u64,
    pub handshake_rtt_us: Option<i64>,
    pub rsts: u64,
    pub zero_windows: u64,
    pub http_requests: u64,
    pub close: String,
    pub iface: Option<String>,
}

/// One `{"type":"http"}` record, plus what the oracle knows of its frames (None when parsed
/// from tracer's output; never compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub ts_us: i64,
    pub client: String,
    pub client_port: u16,
    pub server: String,
    pub server_port: u16,
    pub method: Option<String>,
    pub uri: Option<String>,
    pub status: Option<u16>,
    pub latency_us: Option<i64>,
    pub iface: Option<String>,
    /// The request's and the response's frame numbers.
    pub request_frame: Option<u64>,
    pub response_frame: Option<u64>,
    /// tshark's `http.time` and `http.request_in` on the response frame.
    pub tshark_time_us: Option<i64>,
    pub tshark_request_in: Option<u64>,
}

/// Everything one capture gives: connections in order of start, exchanges in order of ts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    pub conns: Vec<Conn>,
    pub http: Vec<Http>,
}

// ---------------------------------------------------------------------------------- tshark

/// Whether tshark runs here.
pub fn available() -> bool {
    Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// True when tshark is there; otherwise [`super::missing_oracle`].
pub fn require() -> bool {
    available() || super::missing_oracle("tshark does not run (apt-get install tshark)")
}

/// The tshark command line of the contract, `http_ports` being the HTTP ports beyond tshark's own.
pub fn command(pcap: &Path, http_ports: &[u16]) -> Command {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(pcap).args([
        "-n",
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        "-o",
        "tcp.analyze_sequence_numbers:TRUE",
        "-o",
        "ip.defragment:FALSE",
        "-o",
        "ipv6.defragment:FALSE",
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=/s",
    ]);
    for p in http_ports {
        if !TSHARK_HTTP_PORTS.contains(p) {
            c.arg("-d").arg(format!("tcp.port=={p},http"));
        }
    }
    for f in FIELDS {
        c.arg("-e").arg(f);
    }
    c.env("LC_ALL", "C");
    c
}

/// tshark's field output for `pcap` (panics if tshark fails).
pub fn run(pcap: &Path, http_ports: &[u16]) -> String {
    let mut c = command(pcap, http_ports);
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark printed UTF-8")
}

/// The records tracer must print for `pcap`.
pub fn expected(pcap: &Path, http_ports: &[u16], params: &Params) -> Records {
    derive(&run(pcap, http_ports), params)
}

// ---------------------------------------------------------------------------------- frames

/// One TCP frame of tshark's output (only frames with `tcp.stream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub number: u64,
    pub time_us: i64,
    pub stream: u64,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    pub flags: u16,
    pub len: u64,
    /// Any of retransmission, fast_retransmission, spurious_retransmission, out_of_order.
    pub retrans: bool,
    pub initial_rtt_us: Option<i64>,
    pub zero_window: bool,
    pub keep_alive: bool,
    /// Every `http.request.method` / `http.request.uri` / `http.response.code` of the frame.
    pub methods: Vec<String>,
    pub uris: Vec<String>,
    pub codes: Vec<u16>,
    pub http_time_us: Option<i64>,
    pub request_in: Option<u64>,
    pub iface: Option<String>,
}

impl Frame {
    fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

/// Parses tshark's field output (columns in [`FIELDS`] order).
pub fn frames(tsv: &str) -> Vec<Frame> {
    let col = |name: &str| FIELDS.iter().position(|f| *f == name).unwrap();
    let mut v = Vec::new();
    for (i, line) in tsv.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| cols.get(col(name)).copied().unwrap_or("").trim();
        // occurrences of one field: space separated (-E aggregator=/s)
        let all =
            |name: &str| -> Vec<&str> { get(name).split(' ').filter(|s| !s.is_empty()).collect() };
        let first = |name: &str| all(name).first().copied();
        let last = |name: &str| all(name).last().copied();
        let ctx = || format!("tshark output line {}: {line:?}", i + 1);
        if first("tcp.stream").is_none() {
            continue;
        }
        let num = |s: &str| -> u64 {
            s.parse()
                .unwrap_or_else(|_| panic!("bad number {s:?} in {}", ctx()))
        };
        let addr = |v4: &str, v6: &str| -> IpAddr {
            // the innermost header carries the TCP segment: the last occurrence
            let s = last(v6)
                .or_else(|| last(v4))
                .unwrap_or_else(|| panic!("no address in {}", ctx()));
            s.parse()
                .unwrap_or_else(|_| panic!("bad address {s:?} in {}", ctx()))
        };
        let present = |name: &str| first(name).is_some();
        let flags = first("tcp.flags").unwrap_or("0x0");
        let flags = u16::from_str_radix(flags.trim_start_matches("0x"), 16)
            .unwrap_or_else(|_| panic!("bad tcp.flags {flags:?} in {}", ctx()));
        let time = |name: &str| {
            first(name).map(|s| parse_decimal_us(s).unwrap_or_else(|e| panic!("{e} in {}", ctx())))
        };
        let iface = first("frame.interface_name")
            .map(str::to_string)
            .or_else(|| first("sll.ifindex").and_then(|i| interface_name(num(i) as u32)));
        v.push(Frame {
            number: num(
                first("frame.number").unwrap_or_else(|| panic!("no frame.number in {}", ctx()))
            ),
            time_us: time("frame.time_epoch")
                .unwrap_or_else(|| panic!("no frame.time_epoch in {}", ctx())),
            stream: num(first("tcp.stream").unwrap()),
            src: addr("ip.src", "ipv6.src"),
            sport: num(last("tcp.srcport").unwrap_or_else(|| panic!("no tcp.srcport in {}", ctx())))
                as u16,
            dst: addr("ip.dst", "ipv6.dst"),
            dport: num(last("tcp.dstport").unwrap_or_else(|| panic!("no tcp.dstport in {}", ctx())))
                as u16,
            flags,
            len: first("tcp.len").map(num).unwrap_or(0),
            retrans: present("tcp.analysis.retransmission")
                || present("tcp.analysis.fast_retransmission")
                || present("tcp.analysis.spurious_retransmission")
                || present("tcp.analysis.out_of_order"),
            initial_rtt_us: time("tcp.analysis.initial_rtt"),
            zero_window: present("tcp.analysis.zero_window"),
            keep_alive: present("tcp.analysis.keep_alive"),
            methods: all("http.request.method")
                .into_iter()
                .map(str::to_string)
                .collect(),
            uris: all("http.request.uri")
                .into_iter()
                .map(str::to_string)
                .collect(),
            codes: all("http.response.code")
                .into_iter()
                .map(|c| {
                    c.parse()
                        .unwrap_or_else(|_| panic!("bad http.response.code {c:?} in {}", ctx()))
                })
                .collect(),
            http_time_us: time("http.time"),
            request_in: first("http.request_in").map(num),
            iface,
        });
    }
    v
}

/// The name of interface `index` on this machine (`if_indextoname`).
fn interface_name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    Some(
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

// ---------------------------------------------------------------------------------- derivation

/// A connection being built: its frames, and when and how it closed.
struct Part<'a> {
    frames: Vec<&'a Frame>,
    fin_ends: BTreeSet<(IpAddr, u16)>,
    close: Option<(&'static str, i64)>,
}

impl<'a> Part<'a> {
    fn new() -> Part<'a> {
        Part {
            frames: Vec::new(),
            fin_ends: BTreeSet::new(),
            close: None,
        }
    }

    fn push(&mut self, f: &'a Frame) {
        self.frames.push(f);
        if self.close.is_some() {
            return;
        }
        if f.has(RST) {
            // a RST in the same frame as the second FIN: the RST came first
            self.close = Some(("rst", f.time_us));
        } else if f.has(FIN) {
            self.fin_ends.insert((f.src, f.sport));
            if self.fin_ends.len() >= 2 {
                self.close = Some(("fin", f.time_us));
            }
        }
    }
}

/// Derives the records from tshark's field output by the rules of the module doc.
pub fn derive(tsv: &str, params: &Params) -> Records {
    let all = frames(tsv);
    let mut streams: Vec<u64> = all.iter().map(|f| f.stream).collect();
    streams.sort();
    streams.dedup();
    let mut parts: Vec<(Part, &'static str)> = Vec::new();
    for s in streams {
        let mut cur = Part::new();
        let mut last_t: Option<i64> = None;
        for f in all.iter().filter(|f| f.stream == s) {
            if let Some(lt) = last_t {
                if f.time_us - lt >= params.idle_us {
                    let done = std::mem::replace(&mut cur, Part::new());
                    parts.push((done, "idle"));
                } else if let Some((_, tc)) = cur.close {
                    if f.time_us - tc > params.linger_us {
                        let done = std::mem::replace(&mut cur, Part::new());
                        parts.push((done, "open"));
                    }
                }
            }
            cur.push(f);
            last_t = Some(f.time_us);
        }
        if !cur.frames.is_empty() {
            parts.push((cur, "open"));
        }
    }
    let mut rec = Records::default();
    for (part, otherwise) in &parts {
        let (conn, http) = build(part, otherwise);
        rec.conns.push(conn);
        rec.http.extend(http);
    }
    rec.conns.sort_by_key(|c| c.start_us);
    rec.http.sort_by_key(|h| h.ts_us);
    rec
}

fn build(part: &Part, otherwise: &'static str) -> (Conn, Vec<Http>) {
    let fs = &part.frames;
    let (client, cport) = fs
        .iter()
        .find(|f| f.has(SYN) && !f.has(ACK))
        .map(|f| (f.src, f.sport))
        .or_else(|| {
            fs.iter()
                .find(|f| f.has(SYN) && f.has(ACK))
                .map(|f| (f.dst, f.dport))
        })
        .unwrap_or((fs[0].src, fs[0].sport));
    let (server, sport) = fs
        .iter()
        .find_map(|f| {
            if (f.src, f.sport) == (client, cport) {
                Some((f.dst, f.dport))
            } else if (f.dst, f.dport) == (client, cport) {
                Some((f.src, f.sport))
            } else {
                None
            }
        })
        .unwrap();
    let c2s = |f: &Frame| (f.src, f.sport) == (client, cport);
    let count = |pred: &dyn Fn(&Frame) -> bool| fs.iter().filter(|f| pred(f)).count() as u64;
    let bytes = |dir: bool| fs.iter().filter(|f| c2s(f) == dir).map(|f| f.len).sum();
    let has_synack = fs.iter().any(|f| f.has(SYN) && f.has(ACK));
    let iface = fs[0].iface.clone();
    let (start, end) = (fs[0].time_us, fs[fs.len() - 1].time_us);

    // HTTP, first in first out
    let mut http = Vec::new();
    let mut waiting: VecDeque<&Frame> = VecDeque::new();
    let mut requests = 0;
    let exchange = |req: Option<&Frame>, resp: Option<&Frame>| Http {
        ts_us: req.or(resp).unwrap().time_us,
        client: client.to_string(),
        client_port: cport,
        server: server.to_string(),
        server_port: sport,
        method: req.map(|r| r.methods[0].clone()),
        uri: req.and_then(|r| r.uris.first()).map(|u| cut(u, URI_MAX)),
        status: resp.map(|r| r.codes[0]),
        latency_us: match (req, resp) {
            (Some(q), Some(r)) => Some(r.time_us - q.time_us),
            _ => None,
        },
        iface: iface.clone(),
        request_frame: req.map(|r| r.number),
        response_frame: resp.map(|r| r.number),
        tshark_time_us: resp.and_then(|r| r.http_time_us),
        tshark_request_in: resp.and_then(|r| r.request_in),
    };
    for f in fs.iter().filter(|f| !f.retrans) {
        if !f.codes.is_empty() {
            http.push(exchange(waiting.pop_front(), Some(f)));
        }
        if !f.methods.is_empty() {
            requests += 1;
            waiting.push_back(f);
        }
    }
    for q in waiting {
        http.push(exchange(Some(q), None));
    }

    let conn = Conn {
        start_us: start,
        end_us: end,
        duration_us: end - start,
        family: if client.is_ipv4() { 4 } else { 6 },
        client: client.to_string(),
        client_port: cport,
        server: server.to_string(),
        server_port: sport,
        packets_c2s: count(&|f| c2s(f)),
        packets_s2c: count(&|f| !c2s(f)),
        bytes_c2s: bytes(true),
        bytes_s2c: bytes(false),
        retrans_c2s: count(&|f| f.retrans && c2s(f)),
        retrans_s2c: count(&|f| f.retrans && !c2s(f)),
        handshake_rtt_us: if has_synack {
            fs.iter().find_map(|f| f.initial_rtt_us)
        } else {
            None
        },
        rsts: count(&|f| f.has(RST)),
        zero_windows: count(&|f| f.zero_window),
        http_requests: requests,
        close: part.close.map(|(c, _)| c).unwrap_or(otherwise).to_string(),
        iface,
    };
    (conn, http)
}

/// The first `max` bytes of `s`, cut back to a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    s[..n].to_string()
}

/// Where tshark's own pairing (`http.request_in`) names the same request as FIFO, its
/// `http.time` must be the FIFO latency within `tol_us`: one message per disagreement.
pub fn tshark_pairing_disagreements(rec: &Records, tol_us: i64) -> Vec<String> {
    let mut v = Vec::new();
    for h in &rec.http {
        let (Some(req), Some(latency)) = (h.request_frame, h.latency_us) else {
            continue;
        };
        if h.tshark_request_in != Some(req) {
            continue;
        }
        match h.tshark_time_us {
            Some(t) if (t - latency).abs() <= tol_us => {}
            t => v.push(format!(
                "response frame {:?} (request frame {req}): http.time {t:?} us, FIFO latency {latency} us",
                h.response_frame
            )),
        }
    }
    v
}

/// How many responses tshark pairs with the same request as FIFO does.
pub fn tshark_pairing_agreements(rec: &Records) -> usize {
    rec.http
        .iter()
        .filter(|h| h.request_frame.is_some() && h.tshark_request_in == h.request_frame)
        .count()
}

// ---------------------------------------------------------------------------------- times

/// `"1795329380.000274000"` (or `"-0.5"`) -> microseconds, truncated; exact, no f64.
pub fn parse_decimal_us(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let bad = || format!("bad time {s:?}");
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let secs: i64 = int.parse().map_err(|_| bad())?;
    let mut micros = 0i64;
    for i in 0..6 {
        micros = micros * 10 + frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as i64);
    }
    let us = secs.checked_mul(1_000_000).ok_or_else(bad)? + micros;
    Ok(if neg { -us } else { us })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `"2026-12-02T08:00:00.000000Z"` (exactly 6 fraction digits, UTC) -> microseconds.
pub fn parse_rfc3339_us(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let bad = || format!("not a YYYY-MM-DDTHH:MM:SS.ffffffZ time: {s:?}");
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let t = &s[r];
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, mo, d, h, mi, se, us) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
        n(20..26)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    Ok(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000_000 + se * 1_000_000 + us)
}

/// Microseconds -> `"2026-12-02T08:00:00.000000Z"`.
pub fn format_rfc3339(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (days, sod) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

// ---------------------------------------------------------------------------------- tracer JSON

/// Parses `tracer --conn --http --json` output: one JSON object per line; "conn" and "http"
/// records are kept, other types (e.g. "packet") ignored. Panics on a line that is not a
/// JSON object or a record missing a field.
pub fn parse_tracer_json(out: &str) -> Records {
    let mut rec = Records::default();
    for (i, line) in out.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let ctx = || format!("tracer output line {}: {line}", i + 1);
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", ctx()));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("not a JSON object: {}", ctx()));
        let field = |k: &str| {
            obj.get(k)
                .unwrap_or_else(|| panic!("no {k:?} in {}", ctx()))
        };
        let u = |k: &str| {
            field(k)
                .as_u64()
                .unwrap_or_else(|| panic!("{k:?} is not a count in {}", ctx()))
        };
        let i64_ = |k: &str| {
            field(k)
                .as_i64()
                .unwrap_or_else(|| panic!("{k:?} is not an integer in {}", ctx()))
        };
        let opt_i64 = |k: &str| match field(k) {
            Value::Null => None,
            x => Some(
                x.as_i64()
                    .unwrap_or_else(|| panic!("{k:?} is not an integer or null in {}", ctx())),
            ),
        };
        let s = |k: &str| {
            field(k)
                .as_str()
                .unwrap_or_else(|| panic!("{k:?} is not a string in {}", ctx()))
                .to_string()
        };
        let opt_s = |k: &str| match field(k) {
            Value::Null => None,
            x => Some(
                x.as_str()
                    .unwrap_or_else(|| panic!("{k:?} is not a string or null in {}", ctx()))
                    .to_string(),
            ),
        };
        let time =
            |k: &str| parse_rfc3339_us(&s(k)).unwrap_or_else(|e| panic!("{k:?}: {e} in {}", ctx()));
        let port = |k: &str| {
            u16::try_from(u(k)).unwrap_or_else(|_| panic!("{k:?} is not a port in {}", ctx()))
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("conn") => rec.conns.push(Conn {
                start_us: time("start"),
                end_us: time("end"),
                duration_us: i64_("duration_us"),
                family: u8::try_from(u("family"))
                    .unwrap_or_else(|_| panic!("bad family in {}", ctx())),
                client: s("client"),
                client_port: port("client_port"),
                server: s("server"),
                server_port: port("server_port"),
                packets_c2s: u("packets_c2s"),
                packets_s2c: u("packets_s2c"),
                bytes_c2s: u("bytes_c2s"),
                bytes_s2c: u("bytes_s2c"),
                retrans_c2s: u("retrans_c2s"),
                retrans_s2c: u("retrans_s2c"),
                handshake_rtt_us: opt_i64("handshake_rtt_us"),
                rsts: u("rsts"),
                zero_windows: u("zero_windows"),
                http_requests: u("http_requests"),
                close: s("close"),
                iface: opt_s("iface"),
            }),
            Some("http") => rec.http.push(Http {
                ts_us: time("ts"),
                client: s("client"),
                client_port: port("client_port"),
                server: s("server"),
                server_port: port("server_port"),
                method: opt_s("method"),
                uri: opt_s("uri"),
                status: opt_i64("status").map(|c| {
                    u16::try_from(c).unwrap_or_else(|_| panic!("bad status in {}", ctx()))
                }),
                latency_us: opt_i64("latency_us"),
                iface: opt_s("iface"),
                request_frame: None,
                response_frame: None,
                tshark_time_us: None,
                tshark_request_in: None,
            }),
            Some(_) => {}
            None => panic!("no \"type\" in {}", ctx()),
        }
    }
    rec
}

impl Conn {
    /// The record as tracer prints it.
    pub fn to_json(&self) -> String {
        json!({
            "type": "conn", "start": format_rfc3339(self.start_us), "end": format_rfc3339(self.end_us),
            "duration_us": self.duration_us, "family": self.family,
            "client": self.client, "client_port": self.client_port,
            "server": self.server, "server_port": self.server_port,
            "packets_c2s": self.packets_c2s, "packets_s2c": self.packets_s2c,
            "bytes_c2s": self.bytes_c2s, "bytes_s2c": self.bytes_s2c,
            "retrans_c2s": self.retrans_c2s, "retrans_s2c": self.retrans_s2c,
            "handshake_rtt_us": self.handshake_rtt_us, "rsts": self.rsts,
            "zero_windows": self.zero_windows, "http_requests": self.http_requests,
            "close": self.close, "iface": self.iface,
        })
        .to_string()
    }

    fn label(&self) -> String {
        format!(
            "conn {} {}:{} > {}:{} start {}",
            self.family,
            self.client,
            self.client_port,
            self.server,
            self.server_port,
            format_rfc3339(self.start_us)
        )
    }
}

impl Http {
    /// The record as tracer prints it.
    pub fn to_json(&self) -> String {
        json!({
            "type": "http", "ts": format_rfc3339(self.ts_us),
            "client": self.client, "client_port": self.client_port,
            "server": self.server, "server_port": self.server_port,
            "method": self.method, "uri": self.uri, "status": self.status,
            "latency_us": self.latency_us, "iface": self.iface,
        })
        .to_string()
    }

    fn label(&self) -> String {
        format!(
            "http {}:{} > {}:{} ts {}",
            self.client,
            self.client_port,
            self.server,
            self.server_port,
            format_rfc3339(self.ts_us)
        )
    }

    fn tuple(&self) -> (String, u16, String, u16) {
        (
            self.client.clone(),
            self.client_port,
            self.server.clone(),
            self.server_port,
        )
    }
}

// ---------------------------------------------------------------------------------- comparison

/// Compares field by field; pushes "name: expected X, got Y" for each difference.
struct Fields<'a> {
    out: &'a mut Vec<String>,
    tol_us: i64,
}

impl Fields<'_> {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, name: &str, e: &T, g: &T) {
        if e != g {
            self.out.push(format!("{name}: expected {e:?}, got {g:?}"));
        }
    }

    fn time(&mut self, name: &str, e: i64, g: i64, tol: i64) {
        if (e - g).abs() > tol {
            self.out.push(format!(
                "{name}: expected {}, got {} ({} us apart, limit {tol})",
                format_rfc3339(e),
                format_rfc3339(g),
                g - e
            ));
        }
    }

    fn dur(&mut self, name: &str, e: Option<i64>, g: Option<i64>) {
        let tol = 2 * self.tol_us;
        match (e, g) {
            (Some(a), Some(b)) if (a - b).abs() <= tol => {}
            (None, None) => {}
            _ => self.out.push(format!(
                "{name}: expected {e:?}, got {g:?} (limit {tol} us)"
            )),
        }
    }
}

fn conn_fields(e: &Conn, g: &Conn, tol_us: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut f = Fields {
        out: &mut out,
        tol_us,
    };
    f.time("start", e.start_us, g.start_us, tol_us);
    f.time("end", e.end_us, g.end_us, tol_us);
    f.dur("duration_us", Some(e.duration_us), Some(g.duration_us));
    f.eq("packets_c2s", &e.packets_c2s, &g.packets_c2s);
    f.eq("packets_s2c", &e.packets_s2c, &g.packets_s2c);
    f.eq("bytes_c2s", &e.bytes_c2s, &g.bytes_c2s);
    f.eq("bytes_s2c", &e.bytes_s2c, &g.bytes_s2c);
    f.eq("retrans_c2s", &e.retrans_c2s, &g.retrans_c2s);
    f.eq("retrans_s2c", &e.retrans_s2c, &g.retrans_s2c);
    f.dur("handshake_rtt_us", e.handshake_rtt_us, g.handshake_rtt_us);
    f.eq("rsts", &e.rsts, &g.rsts);
    f.eq("zero_windows", &e.zero_windows, &g.zero_windows);
    f.eq("http_requests", &e.http_requests, &g.http_requests);
    f.eq("close", &e.close, &g.close);
    f.eq("iface", &e.iface, &g.iface);
    out
}

fn http_fields(e: &Http, g: &Http, tol_us: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut f = Fields {
        out: &mut out,
        tol_us,
    };
    f.time("ts", e.ts_us, g.ts_us, tol_us);
    f.eq("method", &e.method, &g.method);
    f.eq("uri", &e.uri, &g.uri);
    f.eq("status", &e.status, &g.status);
    f.dur("latency_us", e.latency_us, g.latency_us);
    f.eq("iface", &e.iface, &g.iface);
    out
}

/// Pairs `exp` with `got` greedily: same key, `time` within `tol`, nearest first (the first
/// of `got` on a tie). `got` is grouped by key first: a load of thousands of exchanges
/// pairs in linear time.
fn pair<T, K: Eq + std::hash::Hash>(
    exp: &[T],
    got: &[T],
    key: impl Fn(&T) -> K,
    time: impl Fn(&T) -> i64,
    tol: i64,
) -> Vec<Option<usize>> {
    let mut by_key: std::collections::HashMap<K, Vec<usize>> = std::collections::HashMap::new();
    for (j, g) in got.iter().enumerate() {
        by_key.entry(key(g)).or_default().push(j);
    }
    let mut used = vec![false; got.len()];
    exp.iter()
        .map(|e| {
            let t = time(e);
            let best = by_key.get(&key(e)).and_then(|js| {
                js.iter()
                    .copied()
                    .filter(|&j| !used[j] && (time(&got[j]) - t).abs() <= tol)
                    .min_by_key(|&j| (time(&got[j]) - t).abs())
            });
            if let Some(j) = best {
                used[j] = true;
            }
            best
        })
        .collect()
}

/// None when `got` (tracer) equals `exp` (the oracle) by the contract's comparison, else a
/// report of every differing field of every record and of what is missing on either side.
pub fn diff(exp: &Records, got: &Records, tol_us: i64) -> Option<String> {
    compare(exp, got, tol_us).1
}

/// [`diff`], with the number of differences (fields that differ, records missing or extra).
pub fn compare(exp: &Records, got: &Records, tol_us: i64) -> (usize, Option<String>) {
    let mut report = String::new();
    let mut n = 0;
    let conn_key = |c: &Conn| {
        (
            c.family,
            c.client.clone(),
            c.client_port,
            c.server.clone(),
            c.server_port,
        )
    };
    let cp = pair(&exp.conns, &got.conns, conn_key, |c| c.start_us, tol_us);
    for (e, m) in exp.conns.iter().zip(&cp) {
        if let Some(j) = m {
            let d = conn_fields(e, &got.conns[*j], tol_us);
            if !d.is_empty() {
                n += d.len();
                let _ = writeln!(report, "{}:", e.label());
                for l in d {
                    let _ = writeln!(report, "    {l}");
                }
            }
        }
    }
    let hp = pair(&exp.http, &got.http, |h| h.tuple(), |h| h.ts_us, tol_us);
    for (e, m) in exp.http.iter().zip(&hp) {
        if let Some(j) = m {
            let d = http_fields(e, &got.http[*j], tol_us);
            if !d.is_empty() {
                n += d.len();
                let _ = writeln!(report, "{}:", e.label());
                for l in d {
                    let _ = writeln!(report, "    {l}");
                }
            }
        }
    }
    let missing: Vec<String> = exp
        .conns
        .iter()
        .zip(&cp)
        .filter(|(_, m)| m.is_none())
        .map(|(c, _)| c.to_json())
        .chain(
            exp.http
                .iter()
                .zip(&hp)
                .filter(|(_, m)| m.is_none())
                .map(|(h, _)| h.to_json()),
        )
        .collect();
    let used_c: BTreeSet<usize> = cp.iter().flatten().copied().collect();
    let used_h: BTreeSet<usize> = hp.iter().flatten().copied().collect();
    let extra: Vec<String> = got
        .conns
        .iter()
        .enumerate()
        .filter(|(j, _)| !used_c.contains(j))
        .map(|(_, c)| c.to_json())
        .chain(
            got.http
                .iter()
                .enumerate()
                .filter(|(j, _)| !used_h.contains(j))
                .map(|(_, h)| h.to_json()),
        )
        .collect();
    if !missing.is_empty() {
        n += missing.len();
        let _ = writeln!(
            report,
            "missing in tracer's output (expected, not printed):"
        );
        for l in &missing {
            let _ = writeln!(report, "    {l}");
        }
    }
    if !extra.is_empty() {
        n += extra.len();
        let _ = writeln!(
            report,
            "unexpected in tracer's output (printed, not expected):"
        );
        for l in &extra {
            let _ = writeln!(report, "    {l}");
        }
    }
    if n == 0 {
        return (0, None);
    }
    (
        n,
        Some(format!(
            "{n} differences (tolerance {tol_us} us); expected {} connections and {} exchanges, tracer printed {} and {}:\n{report}",
            exp.conns.len(),
            exp.http.len(),
            got.conns.len(),
            got.http.len()
        )),
    )
}

/// Panics with [`diff`]'s report (prefixed with `what`) unless the records agree.
pub fn assert_same(what: &str, exp: &Records, got: &Records, tol_us: i64) {
    if let Some(d) = diff(exp, got, tol_us) {
        panic!("{what}: tracer differs from the tshark oracle: {d}");
    }
}
