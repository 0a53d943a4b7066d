//! Lines for connection and HTTP records (text, or one JSON object each), and JSON objects for
//! packets (`--json` without `--conn`/`--http`).
//!
//! Text lines start with tcpdump's timestamp (the same `-t` flags) and name the ends like a
//! packet line, client first:
//!
//! ```text
//! 08:02:56.785962 IP 10.0.0.1.57218 > 10.0.0.2.80: conn fin, 0.903169 s, 7/5 packets, 97/6230 bytes, retrans 0/1, handshake 0.067 ms, rst 0, zero-window 0, http 1
//! 08:02:55.882941 IP 10.0.0.1.57218 > 10.0.0.2.80: http GET /index.html -> 200, 0.431 ms
//! ```
//!
//! A connection line's time is its last packet; an exchange's is its request's.

use std::sync::Arc;

use tracer_common::{
    conn::{close, http_method_name, read_segment, ConnKey, ConnState},
    fields::bit,
    ConnRecord, HttpRecord,
};

use super::{json, Event};
use crate::{
    live::clock::WallClock,
    packet::{Packet, Timestamp},
    print::{names::Names, time::Clock, write, PrintOptions, Resolver, SystemResolver},
};

/// The clock of a record's times.
#[derive(Copy, Clone, Debug)]
pub enum TimeBase {
    /// Kernel records: CLOCK_MONOTONIC nanoseconds, converted with the capture's clock.
    Monotonic(WallClock),
    /// Records of a file: Unix-epoch nanoseconds.
    Wall,
}

impl TimeBase {
    pub fn ts(&self, ns: u64) -> Timestamp {
        match self {
            TimeBase::Monotonic(c) => c.to_wall(ns),
            TimeBase::Wall => Timestamp::from_nanos(ns as i128),
        }
    }
}

/// Formats records as lines.
pub struct RecordPrinter {
    json: bool,
    names: Names,
    clock: Clock,
    /// Interface names by index: the captured ones (live), then any looked up on this
    /// machine (a Linux cooked v2 file's index, named as tcpdump names it when reading).
    ifnames: Vec<(u32, String)>,
    resolver: Arc<dyn Resolver>,
}

fn us(ns: u64) -> u64 {
    ns / 1000
}

impl RecordPrinter {
    pub fn new(opts: &PrintOptions, json: bool, ifnames: Vec<(u32, String)>) -> RecordPrinter {
        RecordPrinter::with_resolver(opts, json, ifnames, Arc::new(SystemResolver))
    }

    pub fn with_resolver(
        opts: &PrintOptions,
        json: bool,
        ifnames: Vec<(u32, String)>,
        resolver: Arc<dyn Resolver>,
    ) -> RecordPrinter {
        RecordPrinter {
            json,
            names: Names::new(opts.numeric, resolver.clone()),
            clock: Clock::new(opts.timestamp),
            ifnames,
            resolver,
        }
    }

    /// The name of interface `index` (0: none known).
    fn ifname(&mut self, index: u32) -> Option<&str> {
        if index == 0 {
            return None;
        }
        let at = match self.ifnames.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                let name = self.resolver.if_name(index)?;
                self.ifnames.push((index, name));
                self.ifnames.len() - 1
            }
        };
        Some(self.ifnames[at].1.as_str())
    }

    /// Appends the line (newline included) of one record.
    pub fn event(&mut self, e: &Event, tb: &TimeBase, out: &mut Vec<u8>) {
        match e {
            Event::Conn(r) => self.conn(r, tb, out),
            Event::Http(r) => self.http(r, tb, out),
        }
    }

    /// `IP a.p > b.q: ` with the client first.
    fn ends(&mut self, out: &mut Vec<u8>, key: &ConnKey, client: u8) {
        let (c, s) = ((client & 1) as usize, (client as usize & 1) ^ 1);
        out.extend_from_slice(if key.family == 4 { b"IP " } else { b"IP6 " });
        self.end(out, key, c);
        out.extend_from_slice(b" > ");
        self.end(out, key, s);
        out.extend_from_slice(b": ");
    }

    fn end(&mut self, out: &mut Vec<u8>, key: &ConnKey, i: usize) {
        let a = key.addr_bytes(i);
        if key.family == 4 {
            self.names.write_v4(out, [a[0], a[1], a[2], a[3]]);
        } else {
            self.names.write_v6(out, a);
        }
        out.push(b'.');
        self.names.write_tcp_port(out, key.port[i]);
    }

    fn iface_json(&mut self, out: &mut Vec<u8>, index: u32) {
        out.extend_from_slice(b",\"iface\":");
        match self.ifname(index) {
            Some(n) => json::string(out, n.as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
    }

    fn conn(&mut self, r: &ConnRecord, tb: &TimeBase, out: &mut Vec<u8>) {
        let st: &ConnState = &r.state;
        let (c, s) = ((st.client & 1) as usize, (st.server() & 1) as usize);
        let (fc, fs) = (&st.flow[c], &st.flow[s]);
        let duration = st.last_ns.saturating_sub(st.first_ns);
        let rtt = st.handshake_rtt_ns();
        let reason = close::name(st.close);
        if self.json {
            out.extend_from_slice(b"{\"type\":\"conn\",\"start\":");
            json::time(out, tb.ts(st.first_ns));
            out.extend_from_slice(b",\"end\":");
            json::time(out, tb.ts(st.last_ns));
            json::num(out, "duration_us", us(duration));
            json::num(out, "family", r.key.family as u64);
            out.extend_from_slice(b",\"client\":");
            json::addr(out, r.key.family, &r.key.addr_bytes(c));
            json::num(out, "client_port", r.key.port[c] as u64);
            out.extend_from_slice(b",\"server\":");
            json::addr(out, r.key.family, &r.key.addr_bytes(s));
            json::num(out, "server_port", r.key.port[s] as u64);
            json::num(out, "packets_c2s", fc.packets);
            json::num(out, "packets_s2c", fs.packets);
            json::num(out, "bytes_c2s", fc.bytes);
            json::num(out, "bytes_s2c", fs.bytes);
            json::num(out, "retrans_c2s", fc.retrans as u64);
            json::num(out, "retrans_s2c", fs.retrans as u64);
            json::opt_num(out, "handshake_rtt_us", rtt.map(us));
            json::num(out, "rsts", (fc.rsts + fs.rsts) as u64);
            json::num(
                out,
                "zero_windows",
                (fc.zero_windows + fs.zero_windows) as u64,
            );
            json::num(out, "http_requests", st.http_requests as u64);
            out.extend_from_slice(b",\"close\":");
            json::string(out, reason.as_bytes());
            self.iface_json(out, r.key.ifindex);
            out.extend_from_slice(b"}\n");
            return;
        }
        self.clock.print(out, tb.ts(st.last_ns));
        self.ends(out, &r.key, st.client);
        out.extend_from_slice(b"conn ");
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b", ");
        write::dec(out, duration / 1_000_000_000);
        out.push(b'.');
        write::dec_pad(out, duration / 1000 % 1_000_000, 6);
        out.extend_from_slice(b" s, ");
        pair(out, fc.packets, fs.packets);
        out.extend_from_slice(b" packets, ");
        pair(out, fc.bytes, fs.bytes);
        out.extend_from_slice(b" bytes, retrans ");
        pair(out, fc.retrans as u64, fs.retrans as u64);
        out.extend_from_slice(b", handshake ");
        match rtt {
            Some(ns) => {
                millis(out, ns);
                out.extend_from_slice(b" ms");
            }
            None => out.push(b'-'),
        }
        out.extend_from_slice(b", rst ");
        write::dec(out, (fc.rsts + fs.rsts) as u64);
        out.extend_from_slice(b", zero-window ");
        write::dec(out, (fc.zero_windows + fs.zero_windows) as u64);
        out.extend_from_slice(b", http ");
        write::dec(out, st.http_requests as u64);
        if let Some(n) = self.ifname(r.key.ifindex) {
            out.extend_from_slice(b", iface ");
            out.extend_from_slice(n.as_bytes());
        }
        out.push(b'\n');
    }

    fn http(&mut self, r: &HttpRecord, tb: &TimeBase, out: &mut Vec<u8>) {
        let (c, s) = ((r.client & 1) as usize, (r.client as usize & 1) ^ 1);
        let method = http_method_name(r.method);
        let uri = r.uri();
        let status = (r.status != 0).then_some(r.status);
        let latency = (method.is_some() && status.is_some())
            .then(|| r.response_ns.saturating_sub(r.request_ns));
        let ts = if method.is_some() {
            r.request_ns
        } else {
            r.response_ns
        };
        if self.json {
            out.extend_from_slice(b"{\"type\":\"http\",\"ts\":");
            json::time(out, tb.ts(ts));
            out.extend_from_slice(b",\"client\":");
            json::addr(out, r.key.family, &r.key.addr_bytes(c));
            json::num(out, "client_port", r.key.port[c] as u64);
            out.extend_from_slice(b",\"server\":");
            json::addr(out, r.key.family, &r.key.addr_bytes(s));
            json::num(out, "server_port", r.key.port[s] as u64);
            out.extend_from_slice(b",\"method\":");
            match method {
                Some(m) => json::string(out, m),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"uri\":");
            match method {
                Some(_) => json::string(out, uri),
                None => out.extend_from_slice(b"null"),
            }
            json::opt_num(out, "status", status.map(u64::from));
            json::opt_num(out, "latency_us", latency.map(us));
            self.iface_json(out, r.key.ifindex);
            out.extend_from_slice(b"}\n");
            return;
        }
        self.clock.print(out, tb.ts(ts));
        self.ends(out, &r.key, r.client);
        out.extend_from_slice(b"http ");
        match method {
            Some(m) => {
                out.extend_from_slice(m);
                out.push(b' ');
                for &b in uri {
                    out.push(if b.is_ascii_graphic() { b } else { b'.' });
                }
            }
            None => out.extend_from_slice(b"(request not seen)"),
        }
        out.extend_from_slice(b" -> ");
        match status {
            Some(code) => write::dec(out, code as u64),
            None => out.extend_from_slice(b"(no response)"),
        }
        if let Some(ns) = latency {
            out.extend_from_slice(b", ");
            millis(out, ns);
            out.extend_from_slice(b" ms");
        }
        out.push(b'\n');
    }

    /// One JSON object for a packet: its addresses, ports and TCP header fields (null where
    /// the capture cut them off).
    pub fn packet_json(&mut self, pkt: &Packet, ifindex: Option<u32>, out: &mut Vec<u8>) {
        let f = crate::filter::packet_fields(pkt);
        out.extend_from_slice(b"{\"type\":\"packet\",\"ts\":");
        json::time(out, pkt.ts);
        match ifindex {
            Some(i) => self.iface_json(out, i),
            None => out.extend_from_slice(b",\"iface\":null"),
        }
        json::num(out, "family", f.ip_version as u64);
        let addrs = f.has(bit::ADDRS_CAPTURED);
        out.extend_from_slice(b",\"src\":");
        if addrs {
            json::addr(out, f.ip_version as u32, &f.saddr);
        } else {
            out.extend_from_slice(b"null");
        }
        out.extend_from_slice(b",\"dst\":");
        if addrs {
            json::addr(out, f.ip_version as u32, &f.daddr);
        } else {
            out.extend_from_slice(b"null");
        }
        let ports = f.has(bit::PORTS_CAPTURED);
        json::opt_num(out, "src_port", ports.then_some(f.sport as u64));
        json::opt_num(out, "dst_port", ports.then_some(f.dport as u64));
        let seg = read_segment(pkt.data, &f);
        out.extend_from_slice(b",\"flags\":");
        match &seg {
            Some(s) => {
                out.push(b'"');
                crate::print::tcp_flags(out, s.flags);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        json::opt_num(out, "seq", seg.map(|s| s.seq as u64));
        json::opt_num(
            out,
            "ack",
            seg.filter(|s| s.flags & tracer_common::conn::tcp_flag::ACK != 0)
                .map(|s| s.ack as u64),
        );
        json::opt_num(out, "win", seg.map(|s| s.window as u64));
        json::opt_num(
            out,
            "len",
            seg.filter(|s| s.has(tracer_common::conn::seg::HAVE_SEGLEN))
                .map(|s| s.seglen as u64),
        );
        json::num(out, "wire_len", pkt.wire_len as u64);
        json::num(out, "caplen", pkt.data.len() as u64);
        out.extend_from_slice(b"}\n");
    }
}

fn pair(out: &mut Vec<u8>, a: u64, b: u64) {
    write::dec(out, a);
    out.push(b'/');
    write::dec(out, b);
}

/// Milliseconds with three decimals.
fn millis(out: &mut Vec<u8>, ns: u64) {
    let us = ns / 1000;
    write::dec(out, us / 1000);
    out.push(b'.');
    write::dec_pad(out, us % 1000, 3);
}
