//! Privileged end-to-end tests of the application printers, live: real servers in a
//! namespace (unbound for DNS over TCP, redis-server, Python's smtpd, pyftpdlib, bird2 for
//! BGP, small text servers on the txtproto/RTSP ports) answer real clients, while tracer and
//! real tcpdump capture the client's end side by side in `-nn`, `-nn -v` and `-nn -vv`:
//! both must print the same lines. (`tracer -r` of the same protocols is checked against
//! tcpdump's golden output in tests/golden.rs, on tests/data/app/.)

mod common;

use std::{thread, time::Duration};

use common::*;

/// Timestamps of one packet in tracer's and tcpdump's output may differ by this much.
const TOLERANCE_US: i64 = 1000;

/// The printing modes of the acceptance.
const MODES: [&[&str]; 3] = [&["-nn"], &["-nn", "-v"], &["-nn", "-vv"]];

/// Debian's own Python: it has `smtpd` (3.11) and python3-pyftpdlib.
const PY: &str = "/usr/bin/python3";

/// Runs `traffic` once per mode with tracer and tcpdump capturing `veth-a` with `filter`
/// beside each other; asserts equal output, and that the application printer spoke
/// (`marker` appears in every mode's output).
fn each_mode(net: &VethPair, filter: &[&str], marker: &str, mut traffic: impl FnMut()) {
    for mode in MODES {
        let mut args = vec!["-i", "veth-a"];
        args.extend_from_slice(mode);
        args.extend_from_slice(filter);
        let tracer = start_tracer(&net.a, &args);
        let tcpdump = start_tcpdump(&net.a, &args);
        traffic();
        let (dumps, ours) = stop_captures(vec![tcpdump], vec![tracer]);
        let (t, d) = (&ours[0], &dumps[0]);
        // With -v tcpdump moves the application text to lines of its own: check once.
        assert!(
            mode.len() > 1 || d.out.contains(marker),
            "{mode:?}: tcpdump's output has no '{marker}' (the traffic did not happen?):\n{}\n{}",
            d.out,
            d.err
        );
        assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
    }
}

/// A server process in `ns` (`script` ends in `exec SERVER`, so the process Proc kills on
/// drop is the server itself), returned once its port listens.
fn server(ns: &NetNs, name: &str, script: &str, port: u16) -> Proc {
    let mut c = ns.cmd("bash");
    c.args(["-c", script]);
    let p = Proc::spawn(name, c);
    wait_listening(ns, port);
    p
}

#[test]
fn dns_over_tcp_from_unbound_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool", "unbound", "dig"]) else {
        return;
    };
    let net = VethPair::new("dns");
    let dir = TempDir::new("unbound");
    let conf = dir.join("unbound.conf");
    std::fs::write(
        &conf,
        format!(
            r#"server:
  interface: 10.77.0.2
  interface: fd77::2
  port: 53
  do-ip6: yes
  do-tcp: yes
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  use-syslog: no
  logfile: ""
  do-daemonize: no
  module-config: "iterator"
  nsid: "ascii_tracer-ns1"
  edns-tcp-keepalive: yes
  local-zone: "example.test." static
  local-data: "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300"
  local-data: "example.test. 3600 IN NS ns1.example.test."
  local-data: "example.test. 3600 IN MX 10 mail.example.test."
  local-data: "ns1.example.test. 3600 IN A 10.77.0.2"
  local-data: "www.example.test. 300 IN A 192.0.2.80"
  local-data: "www.example.test. 300 IN A 192.0.2.81"
  local-data: "www.example.test. 300 IN AAAA 2001:db8::80"
  local-data: "alias.example.test. 300 IN CNAME www.example.test."
  local-data: 'txt.example.test. 300 IN TXT "hello world" "v=spf1 -all"'
  local-data: "_sip._tcp.example.test. 300 IN SRV 10 60 5060 sip.example.test."
  local-zone: "2.0.192.in-addr.arpa." static
  local-data: "80.2.0.192.in-addr.arpa. 300 IN PTR www.example.test."
"#,
            d = dir.path.display()
        ),
    )
    .unwrap();
    let _unbound = server(
        &net.b,
        "unbound",
        &format!("exec unbound -d -c {}", conf.display()),
        53,
    );
    each_mode(&net, &["tcp", "port", "53"], "A? www.example.test.", || {
        net.a.sh(
            "for q in 'www.example.test A' 'www.example.test AAAA' 'example.test MX' \
             'example.test SOA' 'alias.example.test A' 'txt.example.test TXT' \
             '_sip._tcp.example.test SRV' 'nonexistent.example.test A' '-x 192.0.2.80'; do \
               timeout 10 dig +tcp +tries=1 +time=3 @10.77.0.2 $q > /dev/null || true; done; \
             timeout 10 dig +tcp +tries=1 +time=3 +nsid +cookie +keepalive +subnet=192.0.2.0/24 \
               @10.77.0.2 www.example.test A > /dev/null || true; \
             timeout 10 dig +tcp +tries=1 +time=3 +noedns +norecurse @fd77::2 example.test MX \
               > /dev/null || true",
        );
    });
}

#[test]
fn redis_resp_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool", "redis-server", "redis-cli", "nc"])
    else {
        return;
    };
    let net = VethPair::new("resp");
    let dir = TempDir::new("redis");
    let _redis = server(
        &net.b,
        "redis-server",
        &format!(
            "exec redis-server --bind 10.77.0.2 --port 6379 --save '' --appendonly no \
             --protected-mode no --dir {}",
            dir.path.display()
        ),
        6379,
    );
    each_mode(&net, &["tcp", "port", "6379"], "RESP \"set\"", || {
        net.a.sh("r='timeout 10 redis-cli -h 10.77.0.2 -p 6379'; \
             $r set test 1 > /dev/null; $r get test > /dev/null; $r get missing > /dev/null; \
             $r incr counter > /dev/null; $r rpush list a 'b c' '' > /dev/null; \
             $r lrange list 0 -1 > /dev/null; $r hset h f1 v1 > /dev/null; \
             $r hgetall h > /dev/null; $r bogus-command x > /dev/null || true; \
             $r set big \"$(head -c 3000 /dev/zero | tr '\\0' y)\" > /dev/null; \
             $r get big > /dev/null; \
             printf 'PING\\r\\nSET inline 42\\r\\nGET inline\\r\\n' \
               | timeout 5 nc -q 1 10.77.0.2 6379 > /dev/null || true");
    });
}

#[test]
fn smtp_and_ftp_text_protocols_print_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool", PY]) else {
        return;
    };
    let net = VethPair::new("txt");
    let dir = TempDir::new("ftp");
    std::fs::write(dir.join("hello.txt"), "hello\n").unwrap();
    let _smtpd = server(
        &net.b,
        "smtpd",
        &format!("exec {PY} -W ignore -m smtpd -n -c DebuggingServer 10.77.0.2:25"),
        25,
    );
    let _ftpd = server(
        &net.b,
        "pyftpdlib",
        &format!(
            "exec {PY} -c \"
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
import logging; logging.disable(logging.CRITICAL)
a = DummyAuthorizer(); a.add_user('user', 'secret', '{}', perm='elr')
h = FTPHandler; h.authorizer = a; h.banner = 'tracer ftp ready'
FTPServer(('10.77.0.2', 21), h).serve_forever()\"",
            dir.path.display()
        ),
        21,
    );
    let filter = ["tcp", "port", "25", "or", "tcp", "port", "21"];
    each_mode(&net, &filter, "SMTP: 250", || {
        net.a.sh(&format!(
            "timeout 20 {PY} - <<'EOF'
import ftplib, smtplib
s = smtplib.SMTP('10.77.0.2', 25, local_hostname='client.test', timeout=10)
s.ehlo('client.test'); s.noop()
s.sendmail('alice@client.test', ['bob@example.test'],
           'Subject: hello\\r\\n\\r\\nHi Bob,\\r\\n.leading dot\\r\\nbye\\r\\n')
s.quit()
f = ftplib.FTP(); f.connect('10.77.0.2', 21, timeout=10); f.login('user', 'secret')
f.pwd(); f.sendcmd('TYPE I'); f.size('hello.txt')
try: f.sendcmd('SITE BOGUS')
except ftplib.error_perm: pass
f.quit()
EOF"
        ));
    });
}

#[test]
fn text_ports_whois_rtsp_pop_imap_sip_print_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool", PY]) else {
        return;
    };
    let net = VethPair::new("txp");
    let dir = TempDir::new("textsrv");
    let script = dir.join("textsrv.py");
    std::fs::write(
        &script,
        r#"import socket, threading
answers = {43: b"% whois server\r\ndomain: example.test\r\n",
           554: b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, PLAY\r\n\r\n",
           110: b"+OK POP3 ready\r\n", 143: b"* OK IMAP4rev1 ready\r\n",
           5060: b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n"}
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.77.0.2", port)); s.listen(8)
    while True:
        c, _ = s.accept(); c.recv(4096); c.sendall(answers[port]); c.close()
for p in answers:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait(100)
"#,
    )
    .unwrap();
    let _srv = server(
        &net.b,
        "textsrv",
        &format!("exec {PY} {}", script.display()),
        5060,
    );
    wait_listening(&net.b, 43);
    each_mode(&net, &["tcp"], "RTSP: RTSP/1.0 200 OK", || {
        net.a.sh(&format!(
            "timeout 20 {PY} - <<'EOF'
import socket, time
reqs = {{43: b'example.test\\r\\n',
        554: b'OPTIONS rtsp://10.77.0.2/stream RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n',
        110: b'USER bob\\r\\n', 143: b'a1 CAPABILITY\\r\\n',
        5060: b'OPTIONS sip:bob@example.test SIP/2.0\\r\\nCSeq: 1 OPTIONS\\r\\n\\r\\n'}}
for p, r in reqs.items():
    s = socket.create_connection(('10.77.0.2', p), timeout=5)
    s.sendall(r)
    while s.recv(4096): pass
    s.close()
    time.sleep(0.05)
EOF"
        ));
    });
}

#[test]
fn bgp_session_between_two_birds_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool", "bird", "birdc"]) else {
        return;
    };
    let net = VethPair::new("bgp");
    let dir = TempDir::new("bird");
    let (conf_b, conf_a) = (dir.join("bird-b.conf"), dir.join("bird-a.conf"));
    std::fs::write(
        &conf_b,
        "router id 10.77.0.2;\nprotocol device {}\n\
         protocol static st4 { ipv4; route 198.51.100.0/24 blackhole; \
           route 10.200.0.0/16 blackhole { bgp_community.add((65002,100)); bgp_large_community.add((65002,1,2)); bgp_med = 50; }; }\n\
         protocol static st6 { ipv6; route 2001:db8:100::/48 blackhole; }\n\
         protocol bgp peer4 { local 10.77.0.2 as 65002; neighbor 10.77.0.1 as 65001; hold time 90; \
           ipv4 { import all; export all; }; ipv6 { import all; export all; }; }\n",
    )
    .unwrap();
    std::fs::write(
        &conf_a,
        "router id 10.77.0.1;\nprotocol device {}\n\
         protocol static st4 { ipv4; route 192.0.2.0/24 blackhole { bgp_community.add((65001,7)); bgp_path.prepend(65001); }; }\n\
         protocol bgp peer4 { local 10.77.0.1 as 65001; neighbor 10.77.0.2 as 65002; hold time 90; \
           ipv4 { import all; export all; add paths on; }; ipv6 { import all; export all; extended next hop on; }; \
           enable route refresh on; graceful restart on; }\n",
    )
    .unwrap();
    let ctl_a = dir.join("bird-a.ctl");
    let ctl_b = dir.join("bird-b.ctl");
    each_mode(&net, &["tcp", "port", "179"], ": BGP", || {
        // A fresh session per mode: both birds start inside the capture, and the session
        // ends (a NOTIFICATION, Cease) before it stops.
        let mut b = net.b.cmd("bird");
        b.args(["-f", "-c"]).arg(&conf_b).arg("-s").arg(&ctl_b);
        let bird_b = Proc::spawn("bird b", b);
        wait_listening(&net.b, 179);
        let mut a = net.a.cmd("bird");
        a.args(["-f", "-c"]).arg(&conf_a).arg("-s").arg(&ctl_a);
        let bird_a = Proc::spawn("bird a", a);
        let ctl = ctl_a.display();
        net.a.sh(&format!(
            "for i in $(seq 100); do birdc -s {ctl} show protocols peer4 2>/dev/null \
             | grep -q Established && exit 0; sleep 0.1; done; echo 'no BGP session' >&2; exit 1"
        ));
        // The UPDATEs and End-of-RIB markers follow the OPEN/KEEPALIVE exchange.
        thread::sleep(Duration::from_secs(2));
        net.a.sh(&format!(
            "birdc -s {ctl} reload in peer4 > /dev/null; sleep 1; \
             birdc -s {ctl} disable peer4 maintenance > /dev/null; sleep 1"
        ));
        for p in [bird_a, bird_b] {
            p.signal(libc::SIGTERM);
            let _ = p.wait(Duration::from_secs(5));
        }
    });
}
