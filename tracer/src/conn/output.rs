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
    kind, sock_rec, ConnRecord, HttpRecord, SockRecord,
};

use super::{
    json,
    sockets::{Owner, SockEnd, Sockets},
};
use crate::live::sockdiag::{state_name, STATE_NAMES};
use crate::{
    live::clock::WallClock,
    packet::{Packet, Timestamp},
    print::{names::Names, time::Clock, write, PrintOptions, Resolver, SystemResolver},
};
use tracer_common::Event;

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

/// Which records are printed (the others are only taken in: socket records feed the owners
/// and counters of connection records).
#[derive(Copy, Clone, Debug, Default)]
pub struct RecordSelect {
    pub conns: bool,
    pub http: bool,
    pub states: bool,
    pub retrans: bool,
}

/// Formats records as lines.
pub struct RecordPrinter {
    select: RecordSelect,
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
    pub fn new(
        opts: &PrintOptions,
        json: bool,
        select: RecordSelect,
        ifnames: Vec<(u32, String)>,
    ) -> RecordPrinter {
        RecordPrinter::with_resolver(opts, json, select, ifnames, Arc::new(SystemResolver))
    }

    pub fn with_resolver(
        opts: &PrintOptions,
        json: bool,
        select: RecordSelect,
        ifnames: Vec<(u32, String)>,
        resolver: Arc<dyn Resolver>,
    ) -> RecordPrinter {
        RecordPrinter {
            select,
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

    /// Appends the line (newline included) of one record, if it is one that is printed;
    /// `sockets` knows the host's own sockets (and learns from socket records).
    pub fn event(&mut self, e: &Event, tb: &TimeBase, out: &mut Vec<u8>, sockets: &mut Sockets) {
        match e {
            Event::Conn(r) if self.select.conns => {
                let end = sockets.for_conn(&r.key, r.state.server() as usize);
                self.conn(r, tb, out, end)
            }
            Event::Http(r) if self.select.http => self.http(r, tb, out),
            Event::Sock(r) => {
                sockets.observe(r);
                let wanted = match r.kind {
                    kind::STATE => self.select.states,
                    kind::RETRANS => self.select.retrans,
                    _ => false,
                };
                if wanted {
                    let owner = sockets.owner_of_record(r);
                    self.sock(r, tb, out, owner.as_ref())
                }
            }
            _ => {}
        }
    }

    /// A socket's `IP local.p > remote.q: ` (its own view: this host first).
    fn sock_ends(&mut self, out: &mut Vec<u8>, r: &SockRecord) {
        out.extend_from_slice(if r.family == 4 { b"IP " } else { b"IP6 " });
        self.addr_port(out, r.family, &r.local, r.local_port);
        out.extend_from_slice(b" > ");
        self.addr_port(out, r.family, &r.remote, r.remote_port);
        out.extend_from_slice(b": ");
    }

    fn addr_port(&mut self, out: &mut Vec<u8>, family: u8, a: &[u8; 16], port: u16) {
        if family == 4 {
            self.names.write_v4(out, [a[0], a[1], a[2], a[3]]);
        } else {
            self.names.write_v6(out, *a);
        }
        out.push(b'.');
        self.names.write_tcp_port(out, port);
    }

    /// A state change (like bcc's tcpstates) or a retransmission (like tcpretrans).
    fn sock(&mut self, r: &SockRecord, tb: &TimeBase, out: &mut Vec<u8>, who: Option<&Owner>) {
        let owner = who.map(|o| (o.pid, o.comm.as_bytes()));
        let cgroup = who.and_then(|o| o.cgroup.as_deref());
        let in_old =
            (r.flags & sock_rec::PREV != 0 && r.prev_ns != 0 && r.timestamp_ns >= r.prev_ns)
                .then(|| r.timestamp_ns - r.prev_ns);
        let counters = r.flags & sock_rec::COUNTERS != 0;
        let state = r.kind == kind::STATE;
        if self.json {
            out.extend_from_slice(if state {
                b"{\"type\":\"state\",\"ts\":"
            } else {
                b"{\"type\":\"retrans\",\"ts\":"
            });
            json::time(out, tb.ts(r.timestamp_ns));
            json::num(out, "family", r.family as u64);
            out.extend_from_slice(b",\"local\":");
            json::addr(out, r.family as u32, &r.local);
            json::num(out, "local_port", r.local_port as u64);
            out.extend_from_slice(b",\"remote\":");
            json::addr(out, r.family as u32, &r.remote);
            json::num(out, "remote_port", r.remote_port as u64);
            if state {
                out.extend_from_slice(b",\"old\":");
                json::string(out, state_name(r.oldstate).as_bytes());
                out.extend_from_slice(b",\"new\":");
                json::string(out, state_name(r.newstate).as_bytes());
                out.extend_from_slice(b",\"ms_in_old\":");
                match in_old {
                    Some(ns) => {
                        write::dec(out, ns / 1_000_000);
                        out.push(b'.');
                        write::dec_pad(out, ns / 1000 % 1000, 3);
                    }
                    None => out.extend_from_slice(b"null"),
                }
            } else {
                out.extend_from_slice(b",\"state\":");
                json::string(out, state_name(r.newstate).as_bytes());
                json::num(out, "segs", r.segs as u64);
                out.extend_from_slice(b",\"err\":");
                if r.err < 0 {
                    out.push(b'-');
                }
                write::dec(out, r.err.unsigned_abs() as u64);
            }
            json::opt_num(out, "pid", owner.map(|(p, _)| p as u64));
            out.extend_from_slice(b",\"comm\":");
            match owner {
                Some((_, c)) => json::string(out, c),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"cgroup\":");
            match cgroup {
                Some(c) => json::string(out, c.as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
            if state {
                json::num(out, "cookie", r.cookie);
                if counters {
                    json::num(out, "srtt_us", r.srtt_us as u64);
                    json::num(out, "kernel_retrans", r.total_retrans as u64);
                    json::num(out, "bytes_acked", r.bytes_acked);
                    json::num(out, "bytes_received", r.bytes_received);
                }
            }
            out.extend_from_slice(b"}\n");
            return;
        }
        self.clock.print(out, tb.ts(r.timestamp_ns));
        self.sock_ends(out, r);
        if state {
            out.extend_from_slice(b"state ");
            out.extend_from_slice(state_name(r.oldstate).as_bytes());
            out.extend_from_slice(b" -> ");
            out.extend_from_slice(state_name(r.newstate).as_bytes());
            if let Some(ns) = in_old {
                out.extend_from_slice(b", ");
                millis(out, ns);
                out.extend_from_slice(b" ms in ");
                out.extend_from_slice(state_name(r.oldstate).as_bytes());
            }
        } else {
            out.extend_from_slice(b"retrans ");
            out.extend_from_slice(state_name(r.newstate).as_bytes());
            if r.segs != 1 {
                out.extend_from_slice(b", ");
                write::dec(out, r.segs as u64);
                out.extend_from_slice(b" segments");
            }
            if r.err != 0 {
                out.extend_from_slice(b", err ");
                if r.err < 0 {
                    out.push(b'-');
                }
                write::dec(out, r.err.unsigned_abs() as u64);
            }
        }
        if let Some((pid, comm)) = owner {
            out.extend_from_slice(b", pid ");
            write::dec(out, pid as u64);
            out.push(b' ');
            out.extend_from_slice(comm);
        }
        if let Some(c) = cgroup {
            out.extend_from_slice(b", cgroup ");
            out.extend_from_slice(c.as_bytes());
        }
        if state && counters {
            out.extend_from_slice(b", srtt ");
            millis(out, r.srtt_us as u64 * 1000);
            out.extend_from_slice(b" ms, kernel retrans ");
            write::dec(out, r.total_retrans as u64);
        }
        out.push(b'\n');
    }

    /// The socket counts of the namespace (`--stats-interval`), like `ss -s`'s TCP line and
    /// ss's state table.
    pub fn sockets_summary(&mut self, ts: Timestamp, counts: &[u64; 13], out: &mut Vec<u8>) {
        let total: u64 = counts[1..].iter().sum();
        if self.json {
            out.extend_from_slice(b"{\"type\":\"sockets\",\"ts\":");
            json::time(out, ts);
            json::num(out, "total", total);
            out.extend_from_slice(b",\"states\":{");
            for (i, name) in STATE_NAMES.iter().enumerate().skip(1) {
                if i > 1 {
                    out.push(b',');
                }
                json::key(out, name);
                write::dec(out, counts[i]);
            }
            out.extend_from_slice(b"}}\n");
            return;
        }
        self.clock.print(out, ts);
        out.extend_from_slice(b"tcp sockets ");
        write::dec(out, total);
        for (i, name) in STATE_NAMES.iter().enumerate().skip(1) {
            out.extend_from_slice(b", ");
            out.extend_from_slice(name.as_bytes());
            out.push(b' ');
            write::dec(out, counts[i]);
        }
        out.push(b'\n');
    }

    /// ptcpdump's line for a packet's process (`--process`), after the packet's text.
    pub fn process_line(owner: &Owner, out: &mut Vec<u8>) {
        out.extend_from_slice(b"    Process (pid ");
        write::dec(out, owner.pid as u64);
        out.extend_from_slice(b", cmd ");
        out.extend_from_slice(owner.comm.as_bytes());
        if let Some(c) = &owner.cgroup {
            out.extend_from_slice(b", cgroup ");
            out.extend_from_slice(c.as_bytes());
        }
        out.extend_from_slice(b")\n");
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

    fn conn(&mut self, r: &ConnRecord, tb: &TimeBase, out: &mut Vec<u8>, end: Option<&SockEnd>) {
        let owner = end.and_then(|e| e.owner.as_ref());
        let kc = end.and_then(|e| e.counters);
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
            // The host's own socket of the connection, where there is one.
            json::opt_num(out, "pid", owner.map(|o| o.pid as u64));
            out.extend_from_slice(b",\"comm\":");
            match owner {
                Some(o) => json::string(out, o.comm.as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"cgroup\":");
            match owner.and_then(|o| o.cgroup.as_deref()) {
                Some(c) => json::string(out, c.as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
            json::opt_num(out, "srtt_us", kc.map(|k| k.srtt_us as u64));
            json::opt_num(out, "kernel_retrans", kc.map(|k| k.retrans as u64));
            json::opt_num(out, "bytes_acked", kc.map(|k| k.bytes_acked));
            json::opt_num(out, "bytes_received", kc.map(|k| k.bytes_received));
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
        if let Some(o) = owner {
            out.extend_from_slice(b", pid ");
            write::dec(out, o.pid as u64);
            out.push(b' ');
            out.extend_from_slice(o.comm.as_bytes());
        }
        if let Some(k) = kc {
            out.extend_from_slice(b", srtt ");
            millis(out, k.srtt_us as u64 * 1000);
            out.extend_from_slice(b" ms, kernel retrans ");
            write::dec(out, k.retrans as u64);
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
    /// the capture cut them off), and with `--process` the owning process.
    pub fn packet_json(
        &mut self,
        pkt: &Packet,
        ifindex: Option<u32>,
        owner: Option<Option<&Owner>>,
        out: &mut Vec<u8>,
    ) {
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
        if let Some(owner) = owner {
            json::opt_num(out, "pid", owner.map(|o| o.pid as u64));
            out.extend_from_slice(b",\"comm\":");
            match owner {
                Some(o) => json::string(out, o.comm.as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"cgroup\":");
            match owner.and_then(|o| o.cgroup.as_deref()) {
                Some(c) => json::string(out, c.as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
        }
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
