//! `--metrics ADDR:PORT`: Prometheus/OpenMetrics metrics of the connection analytics, served
//! at `http://ADDR:PORT/metrics` (other paths answer 404, other methods than GET and HEAD
//! 405). The exposition is OpenMetrics 1.0 text (content type `application/openmetrics-text;
//! version=1.0.0; charset=utf-8`), unless the request's `Accept` names `text/plain` and not
//! `application/openmetrics-text`: then it is Prometheus text 0.0.4, the format `promtool
//! check metrics` reads (`curl -H 'Accept: text/plain' http://ADDR:PORT/metrics | promtool
//! check metrics`). Prometheus itself asks for OpenMetrics first.
//!
//! With `--metrics`, connections and HTTP exchanges are tracked in the kernel as with `--conn
//! --http`, whether or not those flags are given (they only decide what is printed). Every
//! record the kernel sends goes through [`Metrics::record`]; the live loop pushes the kernel's
//! running totals once a second ([`KernelFeed`]).
//!
//! # Names
//!
//! No label names a connection (client addresses and ports are the JSON's job): `server_port`
//! is the port of the connection's server end (`ConnKey::port[state.server()]`).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `tracer_connections_total` | counter | `server_port` | connection records (connections that ended: FIN, RST, idle, a reused port pair) |
//! | `tracer_retransmits_total` | counter | `server_port`, `direction` | retransmitted packets (`c2s`/`s2c`, as `retrans_*` in the JSON) |
//! | `tracer_resets_total` | counter | `server_port` | packets with RST, both ways |
//! | `tracer_zero_windows_total` | counter | `server_port` | zero-window packets, both ways |
//! | `tracer_bytes_total` | counter | `server_port`, `direction` | TCP payload bytes |
//! | `tracer_handshake_rtt_seconds` | histogram | `server_port` | handshake time of each connection that had one (`handshake_rtt_us`) |
//! | `tracer_http_request_duration_seconds` | histogram | `server_port`, `method`, `status_class` | first packet of the request to first packet of the response (`latency_us`) |
//! | `tracer_http_unpaired_total` | counter | `server_port`, `side` | HTTP records with one side only: `side="request"` a request never answered (reported when its connection ends), `side="response"` a response with no request (the request was not seen, or overflowed) |
//! | `tracer_tcp_state_transitions_total` | counter | `old`, `new` | socket state changes (`--states`) |
//! | `tracer_tcp_sockets` | gauge | `state` | sockets in each state (`--states`) |
//! | `tracer_records_lost_total` | counter | | records the kernel's rings had no room for |
//! | `tracer_conn_evictions_total` | counter | | connections evicted from the full flow table, without a record |
//! | `tracer_conn_timers_refused_total` | counter | | connections the kernel refused a timer (no memory); their records still come, from tracer, up to a second late |
//!
//! `method` is the request's method token (one of tshark's list, so the label set is bounded);
//! `status_class` is `1xx` ... `5xx`, or `other` for a status outside 100-599. State names are
//! the kernel's without `TCP_` (`ESTABLISHED`, `SYN_SENT`, ..., `NEW_SYN_RECV`); a name outside
//! that list is counted as `UNKNOWN`.
//!
//! # Buckets (seconds, plus `+Inf`)
//!
//! - handshake: 50 us, 100 us, 250 us, 500 us, 1 ms, 2.5 ms, 5 ms, 10 ms, 25 ms, 50 ms, 100 ms,
//!   250 ms, 500 ms, 1 s, 2.5 s, 5 s, 10 s (a veth or LAN to an intercontinental path with
//!   SYN retransmissions);
//! - HTTP: 100 us, 250 us, 500 us, 1 ms, 2.5 ms, 5 ms, 10 ms, 25 ms, 50 ms, 100 ms, 250 ms,
//!   500 ms, 1 s, 2.5 s, 5 s, 10 s, 30 s.
//!
//! # What is exact
//!
//! The record-based metrics are exact sums of the records tracer printed with `--conn --http`
//! (a connection seen on two captured interfaces counts once per interface, as its records
//! do); a record lost in a full ring is missing from them and counted in
//! `tracer_records_lost_total`, which follows the kernel's total each second.
//! `tracer_conn_evictions_total` is the exit summary's count (connections created, less those
//! ended, less the entries in the table) taken during the run: refreshed at most every
//! [`EVICTION_REFRESH`] and only when it can have grown, read so that it is a lower bound
//! (it never counts a connection that was not evicted, and catches up at the next refresh).
//! Counters that follow kernel totals never go down.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    body::Incoming, header, server::conn::http1, service::service_fn, Method, Request, Response,
    StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};
use tokio::io::{AsyncRead, AsyncWrite};
use tracer_common::{conn::http_method_name, ConnRecord, HttpRecord};

use crate::{conn::Event, live::Live};

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the Prometheus text format (for an `Accept: text/plain` without
/// OpenMetrics).
pub const TEXT_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Handshake buckets (seconds).
pub const HANDSHAKE_BUCKETS: [f64; 17] = [
    50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];
/// HTTP duration buckets (seconds).
pub const HTTP_BUCKETS: [f64; 17] = [
    100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0,
];

/// The most often the flow table's entries are counted for `tracer_conn_evictions_total`.
pub const EVICTION_REFRESH: Duration = Duration::from_secs(5);

/// A state name as a label value: the kernel's name (with or without `TCP_`), else `UNKNOWN`.
fn state_name(s: &str) -> &'static str {
    let s = s.strip_prefix("TCP_").unwrap_or(s);
    tracer_common::tcp_state::NAMES
        .iter()
        .find(|n| **n == s)
        .copied()
        .unwrap_or("UNKNOWN")
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortLabels {
    server_port: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortDirLabels {
    server_port: u16,
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    server_port: u16,
    method: &'static str,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UnpairedLabels {
    server_port: u16,
    side: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    old: &'static str,
    new: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn handshake_histogram() -> Histogram {
    Histogram::new(HANDSHAKE_BUCKETS)
}

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

/// One server port's metrics, as handles into the families (they share the families' values):
/// a connection record costs one map lookup, then atomic additions.
struct PortSet {
    connections: Counter,
    retrans: [Counter; 2],
    resets: Counter,
    zero_windows: Counter,
    bytes: [Counter; 2],
    handshake: Histogram,
}

/// The metrics, registered under their fixed names.
pub struct Metrics {
    registry: Registry,
    connections: Family<PortLabels, Counter>,
    retransmits: Family<PortDirLabels, Counter>,
    resets: Family<PortLabels, Counter>,
    zero_windows: Family<PortLabels, Counter>,
    bytes: Family<PortDirLabels, Counter>,
    handshake: HistogramFamily<PortLabels>,
    http: HistogramFamily<HttpLabels>,
    http_unpaired: Family<UnpairedLabels, Counter>,
    transitions: Family<TransitionLabels, Counter>,
    sockets: Family<StateLabels, Gauge>,
    records_lost: Counter,
    evictions: Counter,
    timers_refused: Counter,
    ports: Mutex<HashMap<u16, Arc<PortSet>>>,
    /// States [`Metrics::set_sockets`] has set: those missing from a later call go to 0.
    socket_states: Mutex<Vec<&'static str>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// `c2s`/`s2c`: the direction labels, indexed 0 = from the client.
const DIRECTIONS: [&str; 2] = ["c2s", "s2c"];

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

fn method_name(code: u8) -> &'static str {
    http_method_name(code)
        .and_then(|m| std::str::from_utf8(m).ok())
        .unwrap_or("OTHER")
}

fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::default();
        let m = Metrics {
            connections: Family::default(),
            retransmits: Family::default(),
            resets: Family::default(),
            zero_windows: Family::default(),
            bytes: Family::default(),
            handshake: Family::new_with_constructor(handshake_histogram as fn() -> Histogram),
            http: Family::new_with_constructor(http_histogram as fn() -> Histogram),
            http_unpaired: Family::default(),
            transitions: Family::default(),
            sockets: Family::default(),
            records_lost: Counter::default(),
            evictions: Counter::default(),
            timers_refused: Counter::default(),
            ports: Mutex::new(HashMap::new()),
            socket_states: Mutex::new(Vec::new()),
            registry: Registry::default(),
        };
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "tracer_connections",
            "TCP connections that ended (one per connection record)",
            m.connections.clone(),
        );
        registry.register(
            "tracer_retransmits",
            "Retransmitted TCP packets, by direction (c2s: from the client)",
            m.retransmits.clone(),
        );
        registry.register(
            "tracer_resets",
            "TCP packets with RST, both directions",
            m.resets.clone(),
        );
        registry.register(
            "tracer_zero_windows",
            "TCP zero-window packets, both directions",
            m.zero_windows.clone(),
        );
        registry.register(
            "tracer_bytes",
            "TCP payload bytes, by direction (c2s: from the client)",
            m.bytes.clone(),
        );
        registry.register_with_unit(
            "tracer_handshake_rtt",
            "TCP handshake time: the last SYN before the first pure ACK, to that ACK",
            Unit::Seconds,
            m.handshake.clone(),
        );
        registry.register_with_unit(
            "tracer_http_request_duration",
            "HTTP/1.x request to response: first packet of the request to first packet of the response",
            Unit::Seconds,
            m.http.clone(),
        );
        registry.register(
            "tracer_http_unpaired",
            "HTTP records with one side only (side=request: never answered; side=response: no request seen)",
            m.http_unpaired.clone(),
        );
        registry.register(
            "tracer_tcp_state_transitions",
            "TCP socket state changes",
            m.transitions.clone(),
        );
        registry.register(
            "tracer_tcp_sockets",
            "TCP sockets in each state",
            m.sockets.clone(),
        );
        registry.register(
            "tracer_records_lost",
            "Records the kernel had no ring space for",
            m.records_lost.clone(),
        );
        registry.register(
            "tracer_conn_evictions",
            "Connections evicted from the full flow table, without a record",
            m.evictions.clone(),
        );
        registry.register(
            "tracer_conn_timers_refused",
            "Connections the kernel refused a timer (no memory), ended by tracer instead",
            m.timers_refused.clone(),
        );
        Arc::new(Metrics { registry, ..m })
    }

    /// The handles of one server port's metrics, made on its first record.
    fn port(&self, port: u16) -> Arc<PortSet> {
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        ports
            .entry(port)
            .or_insert_with(|| {
                let p = PortLabels { server_port: port };
                let dir = |d: usize| PortDirLabels {
                    server_port: port,
                    direction: DIRECTIONS[d],
                };
                Arc::new(PortSet {
                    connections: self.connections.get_or_create_owned(&p),
                    retrans: [0, 1].map(|d| self.retransmits.get_or_create_owned(&dir(d))),
                    resets: self.resets.get_or_create_owned(&p),
                    zero_windows: self.zero_windows.get_or_create_owned(&p),
                    bytes: [0, 1].map(|d| self.bytes.get_or_create_owned(&dir(d))),
                    handshake: self.handshake.get_or_create_owned(&p),
                })
            })
            .clone()
    }

    /// Counts one record: a connection, an HTTP exchange, a socket's state change
    /// (retransmission records are counted by the connections' own counters).
    pub fn record(&self, e: &Event) {
        match e {
            Event::Conn(c) => self.conn(c),
            Event::Http(h) => self.http(h),
            Event::Sock(s) if s.kind == tracer_common::kind::STATE => self.state_transition(
                crate::live::sockdiag::state_name(s.oldstate),
                crate::live::sockdiag::state_name(s.newstate),
            ),
            Event::Sock(_) => {}
        }
    }

    fn conn(&self, c: &ConnRecord) {
        let st = &c.state;
        let (client, server) = ((st.client & 1) as usize, (st.server() & 1) as usize);
        let p = self.port(c.key.port[server]);
        let flows = [&st.flow[client], &st.flow[server]];
        p.connections.inc();
        for (f, (retrans, bytes)) in flows.iter().zip(p.retrans.iter().zip(&p.bytes)) {
            retrans.inc_by(f.retrans as u64);
            bytes.inc_by(f.bytes);
        }
        p.resets.inc_by(flows[0].rsts as u64 + flows[1].rsts as u64);
        p.zero_windows
            .inc_by(flows[0].zero_windows as u64 + flows[1].zero_windows as u64);
        if let Some(ns) = st.handshake_rtt_ns() {
            p.handshake.observe(seconds(ns));
        }
    }

    fn http(&self, h: &HttpRecord) {
        let server_port = h.key.port[((h.client ^ 1) & 1) as usize];
        let side = match (h.request_ns != 0, h.response_ns != 0) {
            (true, true) => {
                self.http
                    .get_or_create(&HttpLabels {
                        server_port,
                        method: method_name(h.method),
                        status_class: status_class(h.status),
                    })
                    .observe(seconds(h.response_ns.saturating_sub(h.request_ns)));
                return;
            }
            (true, false) => "request",
            (false, _) => "response",
        };
        self.http_unpaired
            .get_or_create(&UnpairedLabels { server_port, side })
            .inc();
    }

    /// Counts one socket state change (kernel state names, with or without `TCP_`).
    pub fn state_transition(&self, old: &str, new: &str) {
        self.transitions
            .get_or_create(&TransitionLabels {
                old: state_name(old),
                new: state_name(new),
            })
            .inc();
    }

    /// Sets the socket gauge: each state given to its count, states given before and missing
    /// now to 0.
    pub fn set_sockets(&self, counts: &[(&'static str, u64)]) {
        let mut seen = self.socket_states.lock().unwrap_or_else(|e| e.into_inner());
        for (state, n) in counts {
            let state = state.strip_prefix("TCP_").unwrap_or(state);
            self.sockets
                .get_or_create(&StateLabels { state })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
            if !seen.contains(&state) {
                seen.push(state);
            }
        }
        for state in seen.iter() {
            if !counts
                .iter()
                .any(|(s, _)| s.strip_prefix("TCP_").unwrap_or(s) == *state)
            {
                self.sockets.get_or_create(&StateLabels { state }).set(0);
            }
        }
    }

    /// The kernel's running total of records lost (never goes down).
    pub fn set_records_lost(&self, total: u64) {
        follow(&self.records_lost, total);
    }

    /// The kernel's running total of connection timers refused (never goes down).
    pub fn set_timers_refused(&self, total: u64) {
        follow(&self.timers_refused, total);
    }

    /// The running total of connections evicted from the flow table (never goes down).
    pub fn set_conn_evictions(&self, total: u64) {
        follow(&self.evictions, total);
    }

    /// The exposition, OpenMetrics text ending in `# EOF`.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(8192);
        // Writing into a String cannot fail; a label value never holds what the encoder
        // refuses.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }

    /// The same samples in the Prometheus text format 0.0.4 (counters' HELP and TYPE name
    /// the `_total` series; no `# UNIT`, no `# EOF`).
    pub fn encode_prometheus_text(&self) -> String {
        let mut s = String::with_capacity(8192);
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut s, &self.registry);
        s
    }
}

/// Moves a counter up to a running total kept elsewhere.
fn follow(c: &Counter, total: u64) {
    c.inner().fetch_max(total, Ordering::Relaxed);
}

/// Pushes the kernel's running totals into the metrics (the live loop calls
/// [`KernelFeed::tick`] about once a second).
pub struct KernelFeed {
    metrics: Arc<Metrics>,
    /// The most keys read from the flow table in one count (a table being changed while it is
    /// walked may hand a key twice).
    max_keys: usize,
    next_count_ns: u64,
    /// When the socket gauge is read next (a sock_diag dump).
    next_sockets_ns: u64,
}

/// How often `tracer_tcp_sockets` is refreshed: a dump of every socket of the namespace.
const SOCKETS_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

impl KernelFeed {
    pub fn new(metrics: Arc<Metrics>, max_conns: u32) -> KernelFeed {
        KernelFeed {
            metrics,
            max_keys: (max_conns as usize).saturating_mul(2).saturating_add(64),
            next_count_ns: 0,
            next_sockets_ns: 0,
        }
    }

    /// Reads the kernel's counters (and at most every [`EVICTION_REFRESH`], the flow table's
    /// entries) at `now` (CLOCK_MONOTONIC ns).
    pub fn tick(&mut self, live: &Live, now: u64) {
        let before = live.counters();
        self.metrics.set_records_lost(before.records_lost);
        self.metrics.set_timers_refused(before.timer_refused);
        if now >= self.next_sockets_ns {
            self.next_sockets_ns = now + SOCKETS_REFRESH.as_nanos() as u64;
            if let Ok(socks) = crate::live::sockdiag::tcp_sockets() {
                let counts = crate::live::sockdiag::count_states(&socks);
                let named: Vec<(&'static str, u64)> = crate::live::sockdiag::STATE_NAMES
                    .iter()
                    .zip(counts)
                    .skip(1)
                    .map(|(n, c)| (*n, c))
                    .collect();
                self.metrics.set_sockets(&named);
            }
        }
        if now < self.next_count_ns {
            return;
        }
        self.next_count_ns = now + EVICTION_REFRESH.as_nanos() as u64;
        // evicted = created - ended - entries. Connections in the table now number at most
        // created - ended: when that is no more than the count already shown, nothing new
        // can have been evicted, and the table need not be walked.
        let live_at_most = before.conn_created.saturating_sub(before.conn_ended);
        if live_at_most <= self.metrics.evictions.get() {
            return;
        }
        let Ok(entries) = live.conn_entries(self.max_keys) else {
            return;
        };
        // `created` read before the walk and `ended` after it: a lower bound.
        let after = live.counters();
        self.metrics.set_conn_evictions(
            before
                .conn_created
                .saturating_sub(after.conn_ended.saturating_add(entries)),
        );
    }
}

/// Binds `addr` for `--metrics` and starts serving on the current tokio runtime; a failed
/// bind is one error line (`--metrics ADDR: reason`).
pub fn start(addr: SocketAddr) -> Result<Arc<Metrics>> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(tokio::net::TcpListener::from_std)
        .with_context(|| format!("--metrics {addr}"))?;
    let metrics = Metrics::new();
    tokio::spawn(serve(listener, metrics.clone()));
    Ok(metrics)
}

/// Connections served at once; more are closed as they come.
const MAX_CONNECTIONS: usize = 64;
/// A client gets this long to send its request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection kept alive is closed (after the request in flight, if any) this long after
/// it opened, and at most [`SHUTDOWN_GRACE`] later whatever it does.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `GET /metrics` on `listener` until the runtime ends. Errors of one connection
/// (malformed requests, resets, timeouts) end that connection only.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors or memory, or a connection reset before it was taken:
                // try again a little later.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        open.fetch_add(1, Ordering::Relaxed);
        let (metrics, open) = (metrics.clone(), open.clone());
        tokio::spawn(async move {
            serve_connection(TokioIo::new(stream), metrics).await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// One HTTP/1.1 connection.
async fn serve_connection<I>(io: TokioIo<I>, metrics: Arc<Metrics>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let metrics = metrics.clone();
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        async move {
            Ok::<_, Infallible>(respond(
                &metrics,
                req.method(),
                req.uri().path(),
                accept.as_deref(),
            ))
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        // A client may shut its side down once its request is sent (`nc -N`).
        .half_close(true)
        .max_buf_size(16 * 1024)
        .serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = tokio::time::sleep(CONNECTION_LIFETIME) => conn.as_mut().graceful_shutdown(),
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
}

/// Whether an `Accept` header asks for the Prometheus text format rather than OpenMetrics.
fn wants_prometheus_text(accept: Option<&str>) -> bool {
    let Some(a) = accept.map(str::to_ascii_lowercase) else {
        return false;
    };
    a.contains("text/plain") && !a.contains("application/openmetrics-text")
}

/// The answer to one request.
fn respond(
    metrics: &Metrics,
    method: &Method,
    path: &str,
    accept: Option<&str>,
) -> Response<Full<Bytes>> {
    let (status, content_type, body) = if path != "/metrics" {
        (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"not found: the metrics are at /metrics\n"),
        )
    } else if method == Method::GET || method == Method::HEAD {
        let text = wants_prometheus_text(accept);
        let body = if method == Method::HEAD {
            Bytes::new()
        } else if text {
            Bytes::from(metrics.encode_prometheus_text())
        } else {
            Bytes::from(metrics.encode())
        };
        let ct = if text {
            TEXT_CONTENT_TYPE
        } else {
            CONTENT_TYPE
        };
        (StatusCode::OK, ct, body)
    } else {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"method not allowed: GET /metrics\n"),
        )
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        h.insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        collections::{BTreeMap, BTreeSet},
        io::Write as _,
        process::{Command, Stdio},
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tracer_common::{
        conn::{state, ConnKey, ConnState},
        kind, RECORD_VERSION,
    };

    const CLIENT_PORT: u16 = 40000;

    /// A connection key with the client at end `client` (port 40000) and the server (port
    /// `server_port`) at the other end.
    fn key(client: u8, server_port: u16) -> ConnKey {
        let mut port = [server_port; 2];
        port[client as usize] = CLIENT_PORT;
        ConnKey {
            addr: [[1, 0], [2, 0]],
            port,
            ifindex: 1,
            family: 4,
            _pad: 0,
        }
    }

    /// A connection record: `c2s`/`s2c` are (packets, bytes, retrans, rsts, zero windows).
    fn conn(
        client: u8,
        server_port: u16,
        c2s: (u64, u64, u32, u32, u32),
        s2c: (u64, u64, u32, u32, u32),
        rtt_ns: Option<u64>,
    ) -> Event {
        let mut st = ConnState::EMPTY;
        st.client = client;
        for (side, (packets, bytes, retrans, rsts, zw)) in [(client, c2s), (client ^ 1, s2c)] {
            let f = &mut st.flow[side as usize];
            f.packets = packets;
            f.bytes = bytes;
            f.retrans = retrans;
            f.rsts = rsts;
            f.zero_windows = zw;
        }
        if let Some(ns) = rtt_ns {
            st.bits |= state::SAW_SYN_ACK;
            st.first_rtt_ns = ns;
        }
        Event::Conn(ConnRecord {
            kind: kind::CONN,
            version: RECORD_VERSION,
            ifindex: 1,
            timestamp_ns: 1,
            key: key(client, server_port),
            state: st,
        })
    }

    /// An HTTP record; 0 for a side not seen.
    fn http(server_port: u16, method: u8, status: u16, request_ns: u64, response_ns: u64) -> Event {
        let mut h = tracer_common::HttpRecord::empty(&key(1, server_port), 1, 1);
        h.method = method;
        h.status = status;
        h.request_ns = request_ns;
        h.response_ns = response_ns;
        Event::Http(h)
    }

    /// Labels `a="x",b="y"` in one order (sorted by name), `le` values as numbers (the two
    /// formats spell them differently: `0.00005` and `5e-05`, `1.0` and `1`).
    fn norm(labels: &str) -> String {
        let mut v: Vec<(&str, String)> = labels
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').expect("label");
                let v = v.trim_matches('"');
                let v = match (k, v) {
                    ("le", "+Inf") => "inf".to_string(),
                    ("le", x) => x.parse::<f64>().expect("le").to_string(),
                    _ => v.to_string(),
                };
                (k, v)
            })
            .collect();
        v.sort();
        v.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The samples of an exposition: (name, normalised labels) -> value.
    fn samples(text: &str) -> BTreeMap<(String, String), f64> {
        let mut m = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, l.trim_end_matches('}')),
                None => (series, ""),
            };
            let old = m.insert((name.to_string(), norm(labels)), value.parse().unwrap());
            assert!(old.is_none(), "{line} twice");
        }
        m
    }

    fn fed() -> Arc<Metrics> {
        let m = Metrics::new();
        m.record(&conn(
            0,
            8080,
            (6, 80, 1, 0, 0),
            (4, 153, 2, 1, 0),
            Some(70_000),
        ));
        m.record(&conn(
            1,
            8080,
            (7, 100, 0, 1, 3),
            (5, 300, 0, 0, 1),
            Some(2_000_000),
        ));
        // A refused connection: no handshake time.
        m.record(&conn(0, 9090, (1, 0, 0, 0, 0), (1, 0, 0, 1, 0), None));
        m.record(&http(8080, 1, 200, 1_000_000, 1_082_000));
        m.record(&http(8080, 1, 404, 1_000_000, 1_500_000));
        m.record(&http(8080, 8, 503, 1_000_000, 3_000_000_000));
        m.record(&http(8080, 1, 0, 1_000_000, 0));
        m.record(&http(8080, 0, 200, 0, 5_000_000));
        m.state_transition("SYN_SENT", "ESTABLISHED");
        m.state_transition("TCP_ESTABLISHED", "FIN_WAIT1");
        m.state_transition("ESTABLISHED", "FIN_WAIT1");
        m.state_transition("bogus", "CLOSE");
        m.set_sockets(&[("ESTABLISHED", 3), ("LISTEN", 1)]);
        m.set_records_lost(4);
        m.set_conn_evictions(2);
        m
    }

    #[test]
    fn the_exposition_has_exactly_the_names_and_labels() {
        let text = fed().encode();
        assert!(text.ends_with("# EOF\n"), "{text}");
        let s = samples(&text);
        let names: BTreeSet<&str> = s.keys().map(|(n, _)| n.as_str()).collect();
        let mut expected: BTreeSet<String> = [
            "tracer_connections_total",
            "tracer_retransmits_total",
            "tracer_resets_total",
            "tracer_zero_windows_total",
            "tracer_bytes_total",
            "tracer_http_unpaired_total",
            "tracer_tcp_state_transitions_total",
            "tracer_tcp_sockets",
            "tracer_records_lost_total",
            "tracer_conn_evictions_total",
            "tracer_conn_timers_refused_total",
        ]
        .map(String::from)
        .into();
        for h in [
            "tracer_handshake_rtt_seconds",
            "tracer_http_request_duration_seconds",
        ] {
            for suffix in ["_bucket", "_sum", "_count"] {
                expected.insert(format!("{h}{suffix}"));
            }
        }
        assert_eq!(
            names,
            expected.iter().map(String::as_str).collect(),
            "{text}"
        );
        let families: BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .collect();
        assert_eq!(
            families,
            [
                "tracer_connections counter",
                "tracer_retransmits counter",
                "tracer_resets counter",
                "tracer_zero_windows counter",
                "tracer_bytes counter",
                "tracer_handshake_rtt_seconds histogram",
                "tracer_http_request_duration_seconds histogram",
                "tracer_http_unpaired counter",
                "tracer_tcp_state_transitions counter",
                "tracer_tcp_sockets gauge",
                "tracer_records_lost counter",
                "tracer_conn_evictions counter",
                "tracer_conn_timers_refused counter",
            ]
            .into(),
            "{text}"
        );
        let v = |name: &str, labels: &str| -> f64 {
            *s.get(&(name.to_string(), norm(labels)))
                .unwrap_or_else(|| panic!("no {name}{{{labels}}} in\n{text}"))
        };
        assert_eq!(v("tracer_connections_total", r#"server_port="8080""#), 2.0);
        assert_eq!(v("tracer_connections_total", r#"server_port="9090""#), 1.0);
        let c2s = r#"server_port="8080",direction="c2s""#;
        let s2c = r#"server_port="8080",direction="s2c""#;
        assert_eq!(v("tracer_retransmits_total", c2s), 1.0);
        assert_eq!(v("tracer_retransmits_total", s2c), 2.0);
        assert_eq!(v("tracer_bytes_total", c2s), 180.0);
        assert_eq!(v("tracer_bytes_total", s2c), 453.0);
        assert_eq!(v("tracer_resets_total", r#"server_port="8080""#), 2.0);
        assert_eq!(v("tracer_resets_total", r#"server_port="9090""#), 1.0);
        assert_eq!(v("tracer_zero_windows_total", r#"server_port="8080""#), 4.0);
        let p = r#"server_port="8080""#;
        assert_eq!(v("tracer_handshake_rtt_seconds_count", p), 2.0);
        assert!((v("tracer_handshake_rtt_seconds_sum", p) - 0.00207).abs() < 1e-9);
        // 70 us is in the 100 us bucket, 2 ms in the 2.5 ms one.
        let buckets = s
            .keys()
            .filter(|(n, l)| n == "tracer_handshake_rtt_seconds_bucket" && l.ends_with(&norm(p)))
            .count();
        assert_eq!(buckets, HANDSHAKE_BUCKETS.len() + 1);
        let bucket = |le: &str| {
            v(
                "tracer_handshake_rtt_seconds_bucket",
                &format!(r#"le="{le}",{p}"#),
            )
        };
        assert_eq!(bucket("0.00005"), 0.0);
        assert_eq!(bucket("0.0001"), 1.0);
        assert_eq!(bucket("0.001"), 1.0);
        assert_eq!(bucket("0.0025"), 2.0);
        assert_eq!(bucket("+Inf"), 2.0);
        assert_eq!(
            v(
                "tracer_handshake_rtt_seconds_count",
                r#"server_port="9090""#
            ),
            0.0
        );
        let h = |labels: &str| v("tracer_http_request_duration_seconds_count", labels);
        assert_eq!(
            h(r#"server_port="8080",method="GET",status_class="2xx""#),
            1.0
        );
        assert_eq!(
            h(r#"server_port="8080",method="GET",status_class="4xx""#),
            1.0
        );
        assert_eq!(
            h(r#"server_port="8080",method="POST",status_class="5xx""#),
            1.0
        );
        assert!(
            (v(
                "tracer_http_request_duration_seconds_sum",
                r#"server_port="8080",method="POST",status_class="5xx""#
            ) - 2.999)
                .abs()
                < 1e-9
        );
        assert_eq!(
            v(
                "tracer_http_unpaired_total",
                r#"server_port="8080",side="request""#
            ),
            1.0
        );
        assert_eq!(
            v(
                "tracer_http_unpaired_total",
                r#"server_port="8080",side="response""#
            ),
            1.0
        );
        let t = |old: &str, new: &str| {
            v(
                "tracer_tcp_state_transitions_total",
                &format!(r#"old="{old}",new="{new}""#),
            )
        };
        assert_eq!(t("SYN_SENT", "ESTABLISHED"), 1.0);
        assert_eq!(t("ESTABLISHED", "FIN_WAIT1"), 2.0);
        assert_eq!(t("UNKNOWN", "CLOSE"), 1.0);
        assert_eq!(v("tracer_tcp_sockets", r#"state="ESTABLISHED""#), 3.0);
        assert_eq!(v("tracer_tcp_sockets", r#"state="LISTEN""#), 1.0);
        assert_eq!(v("tracer_records_lost_total", ""), 4.0);
        assert_eq!(v("tracer_conn_evictions_total", ""), 2.0);
        // No label names a connection, and only the listed label names occur.
        let allowed = [
            "server_port",
            "direction",
            "method",
            "status_class",
            "side",
            "old",
            "new",
            "state",
            "le",
        ];
        for (name, labels) in s.keys() {
            assert!(!labels.contains("40000"), "{name}{{{labels}}}");
            for l in labels.split(',').filter(|l| !l.is_empty()) {
                let k = l.split_once('=').unwrap().0;
                assert!(allowed.contains(&k), "{name}{{{labels}}}");
            }
        }
    }

    #[test]
    fn kernel_totals_never_go_down_and_gauges_follow() {
        let m = fed();
        m.set_records_lost(3);
        m.set_conn_evictions(1);
        let s = samples(&m.encode());
        let get = |n: &str, l: &str| s[&(n.to_string(), norm(l))];
        assert_eq!(get("tracer_records_lost_total", ""), 4.0);
        assert_eq!(get("tracer_conn_evictions_total", ""), 2.0);
        m.set_timers_refused(5);
        m.set_timers_refused(2);
        m.set_records_lost(10);
        m.set_conn_evictions(7);
        m.set_sockets(&[("TCP_ESTABLISHED", 5), ("TIME_WAIT", 2)]);
        let s = samples(&m.encode());
        let get = |n: &str, l: &str| s[&(n.to_string(), norm(l))];
        assert_eq!(get("tracer_records_lost_total", ""), 10.0);
        assert_eq!(get("tracer_conn_evictions_total", ""), 7.0);
        assert_eq!(get("tracer_conn_timers_refused_total", ""), 5.0);
        assert_eq!(get("tracer_tcp_sockets", r#"state="ESTABLISHED""#), 5.0);
        assert_eq!(get("tracer_tcp_sockets", r#"state="TIME_WAIT""#), 2.0);
        // LISTEN was given before and not now.
        assert_eq!(get("tracer_tcp_sockets", r#"state="LISTEN""#), 0.0);
    }

    #[test]
    fn an_empty_exposition_is_well_formed() {
        // Labelled families appear with their first sample; the three totals at once.
        let text = Metrics::new().encode();
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(
            samples(&text).into_keys().collect::<Vec<_>>(),
            [
                ("tracer_conn_evictions_total".into(), String::new()),
                ("tracer_conn_timers_refused_total".into(), String::new()),
                ("tracer_records_lost_total".into(), String::new())
            ]
        );
    }

    #[test]
    fn both_formats_carry_the_same_samples() {
        let m = fed();
        let (om, text) = (m.encode(), m.encode_prometheus_text());
        assert_eq!(samples(&om), samples(&text));
        assert!(
            text.contains("# TYPE tracer_connections_total counter\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"));
    }

    /// promtool (Debian's `prometheus` package), or None with a notice when it may be skipped.
    fn promtool() -> Option<&'static str> {
        let found = Command::new("promtool")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if found {
            return Some("promtool");
        }
        if std::env::var_os("TRACER_REQUIRE_PRIVILEGED_TESTS").is_some() {
            panic!("promtool is required (TRACER_REQUIRE_PRIVILEGED_TESTS is set) but does not run (apt-get install prometheus)");
        }
        eprintln!("SKIPPED: promtool not found (apt-get install prometheus); `cargo xtask test` requires it");
        None
    }

    #[test]
    fn promtool_accepts_the_exposition() {
        let Some(tool) = promtool() else {
            return;
        };
        for text in [
            Metrics::new().encode_prometheus_text(),
            fed().encode_prometheus_text(),
        ] {
            let mut child = Command::new(tool)
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
            assert!(
                out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
                "promtool check metrics: {}\n{}{}\n--- exposition\n{text}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    #[test]
    fn routes() {
        let m = Metrics::new();
        let ct = |accept: Option<&str>| {
            let r = respond(&m, &Method::GET, "/metrics", accept);
            assert_eq!(r.status(), StatusCode::OK);
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(ct(None), CONTENT_TYPE);
        assert_eq!(ct(Some("*/*")), CONTENT_TYPE);
        // Prometheus's own Accept.
        assert_eq!(
            ct(Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")),
            CONTENT_TYPE
        );
        assert_eq!(ct(Some("text/plain")), TEXT_CONTENT_TYPE);
        assert_eq!(ct(Some("Text/Plain;version=0.0.4")), TEXT_CONTENT_TYPE);
        assert_eq!(
            respond(&m, &Method::HEAD, "/metrics", None).status(),
            StatusCode::OK
        );
        assert_eq!(
            respond(&m, &Method::GET, "/", None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(&m, &Method::GET, "/metrics/x", None).status(),
            StatusCode::NOT_FOUND
        );
        let r = respond(&m, &Method::POST, "/metrics", None);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    }

    /// Sends `request` over an in-memory connection and returns what the server answered
    /// before it closed (or 2 s passed).
    async fn exchange(m: &Arc<Metrics>, request: &[u8]) -> String {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let task = tokio::spawn(serve_connection(TokioIo::new(server), m.clone()));
        client.write_all(request).await.unwrap();
        let _ = client.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), client.read_to_end(&mut out)).await;
        drop(client);
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn bad_requests_get_an_error_and_the_next_connection_is_served() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let m = fed();
            let ok = exchange(&m, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
            assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
            assert!(ok.contains(CONTENT_TYPE), "{ok}");
            assert!(ok.contains("tracer_connections_total{server_port=\"8080\"} 2\n"));
            assert!(ok.ends_with("# EOF\n"), "{ok}");
            let long_header = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(100_000));
            for bad in [
                &b"\x00\x01\x02garbage\r\n\r\n"[..],
                b"GET\r\n\r\n",
                b"GET /metrics HTTP/9.9\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nHost",
                long_header.as_bytes(),
                b"",
            ] {
                let r = exchange(&m, bad).await;
                assert!(
                    r.is_empty() || r.starts_with("HTTP/1.1 4"),
                    "{:?} -> {r}",
                    String::from_utf8_lossy(&bad[..bad.len().min(40)])
                );
            }
            let nf = exchange(&m, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
            assert!(nf.starts_with("HTTP/1.1 404"), "{nf}");
            // Two requests on one connection (keep-alive), then the server still answers.
            let two = exchange(
                &m,
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert_eq!(two.matches("HTTP/1.1 200 OK").count(), 2, "{two}");
        });
    }
}
