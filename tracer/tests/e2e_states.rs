//! The host's own sockets, live: `--states` (the kernel's state changes with their owners),
//! `--retrans`, `--stats-interval`, and the kernel's counters joined to `--conn` records.
//! The oracles: the scripts' own pids, `ss -tanp` snapshots taken while the sockets wait in
//! known states, `nstat`'s retransmission counter, and `ss -tan` counts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SECS: fn(u64) -> Duration = Duration::from_secs;
const PORT: u16 = 45678;

fn objects(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A server process and a client process on 127.0.0.1:PORT, client closing first. Each
/// writes its pid to DIR/server.pid and DIR/client.pid, and waits at two points for the test
/// (DIR/go1: connected; DIR/go2: the client has closed, the server has not), so that `ss`
/// sees the sockets in known states.
const PAIR: &str = r#"
import os, socket, sys, time
d = sys.argv[1]
def wait(name):
    for _ in range(400):
        if os.path.exists(os.path.join(d, name)): return
        time.sleep(0.025)
    sys.exit("no " + name)
def put(name, text):
    with open(os.path.join(d, name + ".tmp"), "w") as f: f.write(text)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
if sys.argv[2] == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", PORT)); s.listen(1)
    put("server.pid", str(os.getpid()))
    c, _ = s.accept()
    while c.recv(100): pass          # until the client's FIN
    wait("go2")
    c.close(); s.close()
    put("server.done", "")
else:
    wait("server.pid")
    c = socket.create_connection(("127.0.0.1", PORT))
    put("client.pid", str(os.getpid()))
    c.sendall(b"hello")
    wait("go1")
    c.close()
    put("client.closed", "")
    wait("server.done")
    time.sleep(0.1)
"#;

struct Pair {
    dir: TempDir,
    server: Proc,
    client: Proc,
}

impl Pair {
    fn start(ns: &NetNs, tag: &str) -> Pair {
        let dir = TempDir::new(tag);
        let script = dir.join("pair.py");
        std::fs::write(&script, PAIR.replace("PORT", &PORT.to_string())).unwrap();
        let run = |role: &str| {
            let mut c = ns.cmd("python3");
            c.arg(&script).arg(&dir.path).arg(role);
            Proc::spawn(&format!("{tag} {role}"), c)
        };
        let server = run("server");
        let client = run("client");
        Pair {
            dir,
            server,
            client,
        }
    }

    fn wait_file(&self, name: &str) {
        let deadline = Instant::now() + SECS(10);
        while !self.dir.join(name).exists() {
            assert!(Instant::now() < deadline, "no {name}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self, who: &str) -> u64 {
        self.wait_file(&format!("{who}.pid"));
        std::fs::read_to_string(self.dir.join(&format!("{who}.pid")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn go(&self, name: &str) {
        std::fs::write(self.dir.join(name), "").unwrap();
    }

    fn finish(self) {
        let _ = self.client.wait(SECS(10));
        let _ = self.server.wait(SECS(10));
    }
}

/// `ss -tanp` lines for PORT: (state, local port, pid).
fn ss_snapshot(ns: &NetNs) -> Vec<(String, u16, Option<u64>)> {
    ns.sh("ss -tanpH")
        .lines()
        .filter(|l| l.contains(&format!(":{PORT}")))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let lport = f[3].rsplit(':').next().unwrap().parse().unwrap();
            let pid = l
                .split("pid=")
                .nth(1)
                .and_then(|p| p.split(',').next())
                .and_then(|p| p.parse().ok());
            (f[0].to_string(), lport, pid)
        })
        .collect()
}

fn transitions(objs: &[Value]) -> Vec<(String, String, u64, Option<u64>)> {
    objs.iter()
        .filter(|o| o["type"] == "state")
        .map(|o| {
            (
                o["old"].as_str().unwrap().to_string(),
                o["new"].as_str().unwrap().to_string(),
                o["local_port"].as_u64().unwrap(),
                o["pid"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn a_closing_pair_shows_every_state_with_its_owner_and_nothing_of_another_namespace() {
    let Some(_serial) = privileged(&["python3", "ss"]) else {
        return;
    };
    let a = NetNs::new("sta");
    let b = NetNs::new("stb");
    let port = PORT.to_string();
    let tracer = start_tracer(&a, &["--states", "--json", "port", &port]);
    let pa = Pair::start(&a, "pa");
    let pb = Pair::start(&b, "pb");
    let (server, client) = (pa.pid("server"), pa.pid("client"));
    let (server_b, client_b) = (pb.pid("server"), pb.pid("client"));
    // Connected: ss sees both ends established, with their owners.
    let snap1 = ss_snapshot(&a);
    pa.go("go1");
    pb.go("go1");
    pa.wait_file("client.closed");
    // The client has closed, the server not yet: FIN-WAIT-2 and CLOSE-WAIT.
    let deadline = Instant::now() + SECS(5);
    let snap2 = loop {
        let s = ss_snapshot(&a);
        if s.iter().any(|x| x.0 == "FIN-WAIT-2") || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    pa.go("go2");
    pb.go("go2");
    pa.finish();
    pb.finish();
    std::thread::sleep(Duration::from_millis(300));
    let (status, out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let objs = objects(&out);
    let t = transitions(&objs);
    let show = || format!("{t:#?}\n{out}");

    // Exactly one of each, with the owners the issue names.
    let one = |old: &str, new: &str| -> (u64, Option<u64>) {
        let m: Vec<_> = t.iter().filter(|x| x.0 == old && x.1 == new).collect();
        assert_eq!(m.len(), 1, "{old} -> {new}: {}", show());
        (m[0].2, m[0].3)
    };
    let (_, p) = one("CLOSE", "LISTEN");
    assert_eq!(p, Some(server), "listen(): {}", show());
    let (cport, p) = one("SYN_SENT", "ESTABLISHED");
    assert_eq!(p, Some(client), "{}", show());
    let (port_c, p) = one("ESTABLISHED", "FIN_WAIT1");
    assert_eq!(
        (port_c, p),
        (cport, Some(client)),
        "the client's close(): {}",
        show()
    );
    let (port_c, _) = one("FIN_WAIT1", "FIN_WAIT2");
    assert_eq!(port_c, cport);
    let (port_s, _) = one("ESTABLISHED", "CLOSE_WAIT");
    assert_eq!(port_s, PORT as u64);
    let (port_s, p) = one("CLOSE_WAIT", "LAST_ACK");
    assert_eq!(
        (port_s, p),
        (PORT as u64, Some(server)),
        "the server's close(): {}",
        show()
    );
    let (port_s, p) = one("LAST_ACK", "CLOSE");
    assert_eq!((port_s, p), (PORT as u64, Some(server)), "{}", show());
    let (_, p) = one("LISTEN", "CLOSE");
    assert_eq!(p, Some(server), "{}", show());
    // The other namespace ran the same script on the same addresses: none of it here.
    for o in &objs {
        let pid = o["pid"].as_u64();
        assert!(
            pid != Some(server_b) && pid != Some(client_b),
            "a socket of the other namespace: {o}"
        );
    }
    assert_eq!(
        t.len(),
        12,
        "listener 2; client 5 (its first, CLOSE -> SYN_SENT, before connect() picks the port, \
         FIN_WAIT2 -> CLOSE when TIME_WAIT takes over); accepted socket 5 (born LISTEN -> SYN_RECV, \
         the listener's state copied): {}",
        show()
    );
    // The time in the old state: known after the first change of each socket.
    for o in objs
        .iter()
        .filter(|o| o["old"] != "CLOSE" && o["new"] != "SYN_RECV")
    {
        assert!(o["ms_in_old"].is_number(), "{o}");
    }

    // ss agrees: at the pauses, the states tracer's sequence puts each socket in.
    let estab: Vec<_> = snap1.iter().filter(|x| x.0 == "ESTAB").collect();
    assert_eq!(estab.len(), 2, "{snap1:?}");
    assert!(
        snap1
            .iter()
            .any(|x| x.0 == "ESTAB" && x.1 as u64 == cport && x.2 == Some(client)),
        "{snap1:?}"
    );
    assert!(
        snap1.iter().any(|x| x.0 == "LISTEN" && x.2 == Some(server)),
        "{snap1:?}"
    );
    assert!(
        snap2
            .iter()
            .any(|x| x.0 == "FIN-WAIT-2" && x.1 as u64 == cport),
        "{snap2:?}"
    );
    assert!(
        snap2
            .iter()
            .any(|x| x.0 == "CLOSE-WAIT" && x.1 == PORT && x.2 == Some(server)),
        "{snap2:?}"
    );
}

#[test]
fn socket_counts_match_ss() {
    let Some(_serial) = privileged(&["python3", "ss"]) else {
        return;
    };
    let ns = NetNs::new("stc");
    // A listener and three established pairs, held while tracer counts.
    let dir = TempDir::new("stc");
    let ready = dir.join("ready");
    let done = dir.join("done");
    let mut c = ns.cmd("python3");
    c.args([
        "-c",
        &format!(
            "import socket, os, time\n\
             l = socket.socket(); l.bind(('127.0.0.1', {PORT})); l.listen(8)\n\
             pairs = [(socket.create_connection(('127.0.0.1', {PORT})), l.accept()[0]) for _ in range(3)]\n\
             open('{}', 'w').close()\n\
             for _ in range(400):\n    \
                 if os.path.exists('{}'): break\n    \
                 time.sleep(0.025)\n",
            ready.display(),
            done.display()
        ),
    ]);
    let holder = Proc::spawn("holder", c);
    let deadline = Instant::now() + SECS(10);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "the sockets were not set up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut t = ns.cmd(tracer_bin());
    t.args(["--stats-interval", "1", "--json", "-c", "2"]);
    let out = t.output().unwrap();
    let ss = ns.sh("ss -tanH");
    std::fs::write(&done, "").unwrap();
    let _ = holder.wait(SECS(10));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objs = objects(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(objs.len(), 2);
    let count = |state: &str| ss.lines().filter(|l| l.starts_with(state)).count() as u64;
    for o in &objs {
        assert_eq!(o["type"], "sockets");
        assert_eq!(
            o["states"]["ESTABLISHED"].as_u64(),
            Some(count("ESTAB")),
            "{o}\n{ss}"
        );
        assert_eq!(
            o["states"]["LISTEN"].as_u64(),
            Some(count("LISTEN")),
            "{o}\n{ss}"
        );
        assert_eq!(
            o["total"].as_u64(),
            Some(ss.lines().count() as u64),
            "{o}\n{ss}"
        );
    }
    assert_eq!(objs[0]["states"]["ESTABLISHED"].as_u64(), Some(6));
}

/// nstat's value of a counter in `ns` (absolute, `-a`).
fn nstat(ns: &NetNs, name: &str) -> u64 {
    ns.sh("nstat -az")
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn retransmissions_come_from_the_kernel_with_their_sockets() {
    let Some(_serial) = privileged(&["python3", "nft", "nstat", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("strt");
    // The receiver drops one data packet in ten at random: the sender retransmits.
    net.b.sh(
        "nft add table inet loss && \
         nft add chain inet loss in '{ type filter hook input priority 0; }' && \
         nft add rule inet loss in tcp dport 5001 meta length gt 100 numgen random mod 10 == 0 drop",
    );
    let dir = TempDir::new("strt");
    let sink = dir.join("sink.py");
    std::fs::write(
        &sink,
        "import socket\ns = socket.socket(); s.bind(('10.77.0.2', 5001)); s.listen(1)\n\
         c, _ = s.accept()\nwhile c.recv(65536): pass\n",
    )
    .unwrap();
    let mut c = net.b.cmd("python3");
    c.arg(&sink);
    let server = Proc::spawn("sink", c);
    wait_listening(&net.b, 5001);
    let before = nstat(&net.a, "TcpRetransSegs");
    let tracer = start_tracer(&net.a, &["--retrans", "--json", "port", "5001"]);
    net.a.sh(
        "python3 -c \"import socket; s = socket.create_connection(('10.77.0.2', 5001)); \
         s.sendall(b'x' * 2000000); s.close()\"",
    );
    let _ = server.wait(SECS(20));
    std::thread::sleep(Duration::from_millis(300));
    let (status, out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let retrans_segs = nstat(&net.a, "TcpRetransSegs") - before;
    let objs = objects(&out);
    assert!(!objs.is_empty() && retrans_segs > 0, "no loss? {err}");
    // One record per retransmitted skb; its segments are what the kernel counts.
    let mut segs = 0;
    for o in &objs {
        assert_eq!(o["type"], "retrans", "{o}");
        assert_eq!(o["remote_port"].as_u64(), Some(5001), "{o}");
        assert_eq!(o["local"], "10.77.0.1", "{o}");
        assert!(o["pid"].is_u64(), "the sender's socket has its owner: {o}");
        // -EBUSY: the original still sits in the host's queues; the kernel tries later
        // and counts nothing.
        match o["err"].as_i64() {
            Some(0) => segs += o["segs"].as_u64().unwrap(),
            Some(-16) => {}
            _ => panic!("{o}"),
        }
    }
    assert_eq!(segs, retrans_segs, "{} records", objs.len());
}

#[test]
fn conn_records_of_the_hosts_sockets_carry_the_owner_and_the_kernels_counters() {
    let Some(_serial) = privileged(&["nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("stk");
    let nginx = Nginx::start(&net.b, &["10.77.0.2:80"], 80);
    let tracer = start_tracer(&net.b, &["-i", "veth-b", "--conn", "--json", "port", "80"]);
    for _ in 0..3 {
        net.a
            .sh("curl -s -o /dev/null --max-time 5 http://10.77.0.2/index.html");
    }
    std::thread::sleep(Duration::from_millis(2600));
    let (status, out, err) = tracer.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let conns: Vec<Value> = objects(&out)
        .into_iter()
        .filter(|o| o["type"] == "conn")
        .collect();
    assert_eq!(conns.len(), 3, "{out}");
    let pid = nginx.pid() as u64;
    for c in &conns {
        // nginx's socket: its process, and the kernel's own view of the same connection.
        assert_eq!(c["pid"].as_u64(), Some(pid), "{c}");
        assert_eq!(c["comm"], "nginx", "{c}");
        assert!(c["srtt_us"].as_u64().is_some_and(|s| s > 0), "{c}");
        assert_eq!(
            c["kernel_retrans"].as_u64(),
            c["retrans_s2c"].as_u64(),
            "{c}"
        );
        // The kernel counts the FIN in the bytes received, and in the bytes acknowledged.
        assert_eq!(
            c["bytes_received"].as_u64(),
            c["bytes_c2s"].as_u64().map(|b| b + 1),
            "{c}"
        );
        assert_eq!(
            c["bytes_acked"].as_u64(),
            c["bytes_s2c"].as_u64().map(|b| b + 1),
            "{c}"
        );
    }
}

#[test]
fn process_flag_names_the_owner_of_every_packet_on_both_ends() {
    let Some(_serial) = privileged(&["nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("stp");
    let nginx = Nginx::start(&net.b, &["10.77.0.2:80"], 80);
    let server_side = start_tracer(&net.b, &["-i", "veth-b", "-nn", "--process", "port", "80"]);
    let client_side = start_tracer(
        &net.a,
        &["-i", "veth-a", "--json", "--process", "port", "80"],
    );
    let mut curls = Vec::new();
    for _ in 0..3 {
        let mut c = net.a.cmd("curl");
        c.args([
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "5",
            "http://10.77.0.2/",
        ]);
        let p = Proc::spawn("curl", c);
        curls.push(p.child.id() as u64);
        let (status, _, err) = p.wait(SECS(10));
        assert!(status.success(), "curl: {err}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let (status, out, err) = server_side.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    // nginx's end: each packet line is followed by nginx's process line, from the SYN on
    // (the listener's until nginx reads the accepted socket, then that socket's: both nginx).
    // Without the newline tcpdump prints on SIGINT.
    let text = out.strip_suffix("\n\n").expect("the interrupt's newline");
    let lines: Vec<&str> = text.lines().collect();
    let expected = format!("    Process (pid {}, cmd nginx", nginx.pid());
    let packets = lines.iter().filter(|l| !l.starts_with(' ')).count();
    assert!(packets >= 3 * 9, "{out}");
    for (i, l) in lines.iter().enumerate() {
        if !l.starts_with(' ') {
            let next = lines.get(i + 1).copied().unwrap_or("");
            assert!(
                next.starts_with(&expected),
                "line {}: {l}\n{next}\n{out}",
                i + 1
            );
        }
    }
    // curl's end: every packet of a connection names the curl that made it.
    let (status, out, err) = client_side.interrupt(SECS(10));
    assert!(status.success(), "tracer failed: {err}");
    let mut by_port = std::collections::BTreeMap::<u64, Vec<Option<u64>>>::new();
    for o in objects(&out) {
        assert_eq!(o["type"], "packet", "{o}");
        let port = if o["dst_port"] == 80 {
            &o["src_port"]
        } else {
            &o["dst_port"]
        };
        by_port
            .entry(port.as_u64().unwrap())
            .or_default()
            .push(o["pid"].as_u64());
        if o["pid"].is_u64() {
            assert_eq!(o["comm"], "curl", "{o}");
        }
    }
    let mut owners: Vec<u64> = by_port
        .values()
        .map(|pids| {
            assert!(pids.iter().all(|p| *p == pids[0]), "{pids:?}\n{out}");
            pids[0].unwrap_or_else(|| panic!("no owner: {out}"))
        })
        .collect();
    owners.sort();
    curls.sort();
    assert_eq!(owners, curls, "one connection per curl, named by it: {out}");
}
