//! Privileged end-to-end tests of connection analytics in the kernel (`--conn`, `--http`):
//! what the flow table does when it is full, on two interfaces, beside `-w`, and `--json`
//! packets. The comparison with tshark's analysis is in `e2e_conn_oracle.rs`.

mod common;
mod support;

use std::time::Duration;

use common::*;
use serde_json::Value;
use support::craft;

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// The JSON objects of a `--json` output, each line checked to be one object.
fn objects(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_type<'a>(objs: &'a [Value], t: &str) -> Vec<&'a Value> {
    objs.iter().filter(|o| o["type"] == t).collect()
}

/// A number in a line of the exit summary, e.g. `summary_number(err, "connections evicted")`.
fn summary_number(err: &str, text: &str) -> u64 {
    err.lines()
        .find(|l| l.contains(text))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_full_flow_table_evicts_and_counts_every_connection() {
    let Some(_serial) = privileged(&["nginx", "python3", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("cfull");
    let _nginx = Nginx::start_in_memory(&net.b, &["10.77.0.2:80"], 80);
    let tracer = start_tracer(
        &net.b,
        &[
            "-i",
            "veth-b",
            "--conn",
            "--json",
            "--kernel-stats",
            "--max-conns",
            "16",
            "port",
            "80",
        ],
    );
    // 64 connections open at once, each with one request, closed together.
    net.a.sh(r#"python3 - <<'EOF'
import socket
socks = []
for i in range(64):
    s = socket.create_connection(('10.77.0.2', 80), timeout=5)
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    socks.append(s)
for s in socks:
    s.recv(4096)
for s in socks:
    s.close()
EOF"#);
    await_flow_table(tracer.child.id(), FlowTable::NoneClosed);
    let (status, out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let objs = objects(&out);
    let conns = of_type(&objs, "conn").len() as u64;
    let evicted = summary_number(&err, "connections evicted");
    let created = kernel_counter(&err, "connections created").expect("kernel stats");
    assert!(
        evicted > 0,
        "64 connections in a table of 16 evicted none: {err}"
    );
    // Every entry the table held either gave a record or is counted as evicted.
    assert_eq!(conns + evicted, created, "{err}\n{out}");
    assert_eq!(summary_number(&err, "records lost"), 0, "{err}");
}

#[test]
fn a_connection_seen_on_two_interfaces_counts_once_on_each() {
    let Some(_serial) = privileged(&["nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = Routed::new("c2if");
    let _nginx = Nginx::start(&net.server, &["10.78.1.2:80"], 80);
    for ifaces in [&["-i", "r-c", "-i", "r-s"][..], &["-i", "any"][..]] {
        let mut args = ifaces.to_vec();
        args.extend(["--conn", "--http", "--json", "port", "80"]);
        let tracer = start_tracer(&net.router, &args);
        net.client
            .sh("curl -s -o /dev/null --max-time 5 http://10.78.1.2/index.html");
        await_flow_table(tracer.child.id(), FlowTable::Empty);
        let (status, out, err) = tracer.interrupt(SECS(10));
        assert!(status.success(), "tracer failed: {err}");
        let objs = objects(&out);
        let conns = of_type(&objs, "conn");
        assert_eq!(
            conns.len(),
            2,
            "{ifaces:?}: one record per interface: {out}"
        );
        let mut names: Vec<&str> = conns.iter().map(|c| c["iface"].as_str().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["r-c", "r-s"], "{out}");
        // The same packets crossed both: every count agrees.
        for k in [
            "client",
            "client_port",
            "server",
            "server_port",
            "packets_c2s",
            "packets_s2c",
            "bytes_c2s",
            "bytes_s2c",
            "http_requests",
            "close",
        ] {
            assert_eq!(conns[0][k], conns[1][k], "{k}: {out}");
        }
        assert_eq!(conns[0]["close"], "fin");
        let http = of_type(&objs, "http");
        assert_eq!(http.len(), 2, "{out}");
        assert!(http
            .iter()
            .all(|h| h["status"] == 200 && h["uri"] == "/index.html"));
    }
}

#[test]
fn conn_records_beside_a_written_file_of_the_same_packets() {
    let Some(_serial) = privileged(&["nginx", "curl", "tcpdump", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("cw");
    let _nginx = Nginx::start(&net.b, &["10.77.0.2:80"], 80);
    let dir = TempDir::new("connw");
    let file = dir.join("conn.pcap");
    let tracer = start_tracer(
        &net.b,
        &[
            "-i",
            "veth-b",
            "--conn",
            "--json",
            "-w",
            file.to_str().unwrap(),
            "port",
            "80",
        ],
    );
    for _ in 0..3 {
        net.a
            .sh("curl -s -o /dev/null --max-time 5 http://10.77.0.2/big.html");
    }
    await_flow_table(tracer.child.id(), FlowTable::Empty);
    let (status, out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let objs = objects(&out);
    let conns = of_type(&objs, "conn");
    assert_eq!(conns.len(), 3, "{out}");
    let in_records: u64 = conns
        .iter()
        .map(|c| c["packets_c2s"].as_u64().unwrap() + c["packets_s2c"].as_u64().unwrap())
        .sum();
    // The file holds exactly the packets the records counted.
    let dump = std::process::Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&dump.stdout).lines().count() as u64;
    assert_eq!(lines, in_records, "{out}");
    assert_eq!(summary_count(&err, "captured"), Some(in_records), "{err}");
}

#[test]
fn json_prints_one_object_per_packet_tcpdump_prints() {
    let Some(_serial) = privileged(&["nginx", "curl", "tcpdump", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("cj");
    let _nginx = Nginx::start(&net.b, &["10.77.0.2:80"], 80);
    let tracer = start_tracer(&net.b, &["-i", "veth-b", "--json", "port", "80"]);
    let tcpdump = start_tcpdump(&net.b, &["-i", "veth-b", "-nn", "port", "80"]);
    net.a
        .sh("curl -s -o /dev/null --max-time 5 http://10.77.0.2/index.html");
    let (dumps, ours) = stop_captures(vec![tcpdump], vec![tracer]);
    let printed = packets(dumps[0].out.trim_end());
    let objs = objects(&ours[0].out);
    assert_eq!(objs.len(), printed.len(), "{}", ours[0].out);
    for (o, p) in objs.iter().zip(&printed) {
        assert_eq!(o["type"], "packet");
        assert_eq!(o["iface"], "veth-b");
        // tcpdump's "Flags [S.]" and the object's flags agree.
        let flags = o["flags"].as_str().unwrap();
        assert!(
            p.text.contains(&format!("Flags [{flags}]")),
            "{o} vs {}",
            p.text
        );
        let len = o["len"].as_u64().unwrap();
        assert!(
            p.text.contains(&format!("length {len}")),
            "{o} vs {}",
            p.text
        );
    }
}

/// Sends the frames of a file (one hex line each) out of an interface, as they are.
const SEND_FRAMES: &str = r#"
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in open(sys.argv[2]):
    s.send(bytes.fromhex(line.strip()))
"#;

#[test]
fn malformed_packets_in_the_kernel_are_counted_never_fatal() {
    let Some(_serial) = privileged(&["python3", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("cbad");
    let tracer = start_tracer(
        &net.b,
        &[
            "-i",
            "veth-b",
            "--conn",
            "--http",
            "--json",
            "--kernel-stats",
            "port",
            "80",
        ],
    );
    let (c, srv) = ([10, 77, 0, 1], [10, 77, 0, 2]);
    let tcp = |flags: u8, payload: &[u8]| craft::tcp(40000, 80, 7, 1, flags, &[], payload);
    let ip = |t: &[u8]| craft::ipv4(c, srv, 6, &[], t);
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let good = ip(&tcp(0x18, b"GET /x HTTP/1.1\r\n\r\n"));
    // TCP headers cut at every length (IP says more follows).
    for cut in 20..40 {
        frames.push(good[..cut].to_vec());
    }
    // Absurd IP total lengths, every data offset, fragments.
    for total in [0u16, 10, 39, 65535] {
        let mut p = good.clone();
        p[2..4].copy_from_slice(&total.to_be_bytes());
        frames.push(p);
    }
    for off in 0..16u8 {
        let mut p = good.clone();
        p[20 + 12] = off << 4;
        frames.push(p);
    }
    for frag in [0x2000u16, 0x0010, 0x2010] {
        let mut p = good.clone();
        p[6..8].copy_from_slice(&frag.to_be_bytes());
        frames.push(p);
    }
    // Not HTTP on port 80.
    for payload in [
        &b"\x00\x01binary"[..],
        b"GET",
        b"HTTP/1.1 xyz",
        &[0xff; 1000],
    ] {
        frames.push(ip(&tcp(0x18, payload)));
    }
    let lines: String = frames
        .iter()
        .map(|f| {
            let eth = craft::eth(0x0800, f);
            let mut eth = eth;
            eth[..6].copy_from_slice(&[0x02, 0x77, 0, 0, 0, 2]);
            eth[6..12].copy_from_slice(&[0x02, 0x77, 0, 0, 0, 1]);
            eth.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n"
        })
        .collect();
    let dir = TempDir::new("cbad");
    let file = dir.join("frames.hex");
    std::fs::write(&file, lines).unwrap();
    let script = dir.join("send.py");
    std::fs::write(&script, SEND_FRAMES).unwrap();
    net.a.sh(&format!(
        "python3 {} veth-a {}",
        script.display(),
        file.display()
    ));
    std::thread::sleep(Duration::from_millis(300));
    let (status, out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    for o in objects(&out) {
        assert!(o["type"] == "conn" || o["type"] == "http", "{o}");
    }
    // Each injected frame was looked at, counted in a connection or as untrackable.
    let seen = kernel_counter(&err, "tcp").unwrap_or(0);
    let tracked = kernel_counter(&err, "packets tracked").unwrap_or(0);
    let untrackable = kernel_counter(&err, "untrackable").unwrap_or(0);
    assert!(untrackable > 0, "{err}");
    assert_eq!(
        tracked + untrackable,
        kernel_counter(&err, "matched").unwrap(),
        "every matched packet is tracked or counted untrackable: {err}"
    );
    assert!(seen > 0, "{err}");
    assert_eq!(summary_number(&err, "records lost"), 0, "{err}");
    assert!(!err.contains("malformed records"), "{err}");
}

/// Holds the flow-table entry of tracer `pid`'s only connection locked, as a CPU that stopped
/// running inside its update would: the entry is rewritten from userspace with its lock word
/// set (an LRU map's update replaces the element, so the kernel sees the new one).
fn lock_the_entry(pid: u32) -> bool {
    let Some(mut conns) = flow_table(pid) else {
        return false;
    };
    let entries: Vec<_> = conns.iter().filter_map(Result::ok).collect();
    if let [(key, entry)] = entries[..] {
        let locked = tracer_common::ConnEntry { lock: 1, ..entry };
        conns.insert(key, locked, 0).expect("rewrite the entry");
        return true;
    }
    false
}

/// A packet whose connection's entry stays locked waits for the lock (`lock waited`) for a
/// bounded time, then gives its update up and is counted (`lock busy`, and in the summary's
/// "dropped by kernel"): every packet the filter accepted is either in its connection or
/// counted, and the capture goes on.
#[test]
fn a_packet_whose_entry_stays_locked_waits_a_bounded_time_and_is_counted() {
    let Some(_serial) = privileged(&["nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("clock");
    let dir = TempDir::new("clock");
    let tracer = start_tracer(
        &net.b,
        &["-i", "veth-b", "--conn", "--kernel-stats", "port", "7000"],
    );
    let server = Proc::spawn("nc -l", {
        let mut c = net.b.cmd("bash");
        c.args(["-c", "timeout 20 nc -l 10.77.0.2 7000 > /dev/null"]);
        c
    });
    wait_listening(&net.b, 7000);
    // The client says one line, waits for `go`, says two more and closes.
    let go = dir.join("go");
    let client = Proc::spawn("client", {
        let mut c = net.a.cmd("bash");
        c.args([
            "-c",
            &format!(
                "exec 3<>/dev/tcp/10.77.0.2/7000; echo one >&3; \
                 for i in $(seq 500); do [ -e {go} ] && break; sleep 0.02; done; \
                 echo two >&3; sleep 0.2; echo three >&3; sleep 0.2; exec 3>&-",
                go = go.display()
            ),
        ]);
        c
    });
    // The entry exists once the first packets are in.
    let deadline = std::time::Instant::now() + SECS(5);
    while !lock_the_entry(tracer.child.id()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no flow-table entry to lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(&go, "").unwrap();
    let started = std::time::Instant::now();
    let _ = client.wait(SECS(15));
    let _ = server.wait(SECS(15));
    let load = started.elapsed();
    let (status, _out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let n = |name: &str| kernel_counter(&err, name).unwrap_or_else(|| panic!("no '{name}': {err}"));
    let (waited, busy) = (n("lock waited"), n("lock busy"));
    // two, three, the FINs and their ACKs: each one waited, and the lock never came free.
    assert!(busy >= 3, "{err}");
    assert_eq!(waited, busy, "every wait ended at the bound: {err}");
    assert_eq!(
        n("packets tracked") + busy,
        n("matched"),
        "a packet is in its connection or counted: {err}"
    );
    assert!(
        summary_count(&err, "dropped by kernel").unwrap_or(0) >= busy,
        "the lost updates are in the summary: {err}"
    );
    // Each wait is bounded (20 ms): the few of them cost well under the 15 s allowed.
    assert!(load < SECS(10), "the exchange took {load:?}");
}

#[test]
fn connections_whose_kernel_timer_is_refused_are_ended_by_tracer_while_it_runs() {
    let Some(_serial) = privileged(&["nginx", "curl", "python3", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("ctmr");
    let _nginx = Nginx::start(&net.b, &["10.77.0.2:80"], 80);
    // The kernel refuses a timer when it cannot allocate one (seen on 6.18 in bursts of new
    // connections); the flag makes it refuse them all.
    let tracer = start_tracer(
        &net.b,
        &[
            "-i",
            "veth-b",
            "--conn",
            "--http",
            "--json",
            "--kernel-stats",
            "--conn-idle",
            "3",
            "--test-refuse-kernel-timers",
            "port",
            "80",
        ],
    );
    for _ in 0..3 {
        net.a
            .sh("curl -s -o /dev/null --max-time 5 http://10.77.0.2/index.html");
    }
    // One connection stays open and silent past the idle time (its close comes after
    // tracer stopped).
    let mut cmd = net.a.cmd("python3");
    cmd.args([
        "-c",
        "import socket,sys,time\n\
         s=socket.create_connection(('10.77.0.2',80),timeout=5)\n\
         s.sendall(b'GET /index.html HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n\
         s.recv(65536)\n\
         print('answered',file=sys.stderr,flush=True)\n\
         time.sleep(20)\n",
    ]);
    let mut idle = Proc::spawn("idle client", cmd);
    idle.wait_for_stderr("answered", SECS(5));
    // Closed ones end 2 s after their close, the idle one 3 s after its last packet; tracer
    // looks for them every second.
    let pid = tracer.child.id();
    await_flow_table(pid, FlowTable::Empty);
    let left = flow_table(pid).map(|t| t.keys().count());
    let (status, out, err) = tracer.interrupt(SECS(10));
    drop(idle);
    assert!(status.success(), "tracer failed: {err}");
    assert_eq!(
        left,
        Some(0),
        "entries left in the flow table while tracer ran: {err}\n{out}"
    );
    let objs = objects(&out);
    let conns = of_type(&objs, "conn");
    let mut closes: Vec<&str> = conns.iter().map(|c| c["close"].as_str().unwrap()).collect();
    closes.sort();
    assert_eq!(closes, ["fin", "fin", "fin", "idle"], "{out}");
    for c in &conns {
        assert_eq!(c["http_requests"], 1, "{c}");
        assert_eq!(c["handshake_rtt_us"].is_u64(), true, "{c}");
    }
    let http = of_type(&objs, "http");
    assert_eq!(http.len(), 4, "{out}");
    assert!(http.iter().all(|h| h["status"] == 200), "{out}");
    let n = |name: &str| kernel_counter(&err, name).unwrap_or_else(|| panic!("no '{name}': {err}"));
    assert_eq!(n("connections created"), 4, "{err}");
    assert_eq!(n("timers refused"), 4, "each entry counted once: {err}");
    assert_eq!(n("ended by tracer"), 4, "{err}");
    assert_eq!(n("ended"), 4, "{err}");
    assert!(
        err.contains("4 connection timers refused by the kernel (no memory): tracer ended 4 of those connections itself"),
        "{err}"
    );
    assert!(!err.contains("evicted"), "{err}");
}
