//! Privileged: live capture-file rotation beside real tcpdump (`-Z root`) on the same veth,
//! `-C 1 -W 3` under a bulk transfer and `-G 1` under a paced chat: the same file names and
//! sizes, every file read by tshark without a warning, the same packets in all.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Files of a directory: name → size.
fn sizes(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

/// `tshark -n -r FILE` exits 0 without a warning (the root notice aside); its packet count.
fn tshark_packets(file: &Path) -> usize {
    let o = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .expect("tshark");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success()
            && err
                .lines()
                .all(|l| l.starts_with("Running as user \"root\"")),
        "tshark -r {}: {}\n{err}",
        file.display(),
        o.status
    );
    String::from_utf8_lossy(&o.stdout).lines().count()
}

/// A capture lost nothing: none dropped, and (tcpdump) every packet the filter took was
/// written before the capture stopped. Otherwise tcpdump's files are no reference.
fn assert_lossless(c: &Captured, who: &str) {
    assert_eq!(
        summary_count(&c.err, "dropped by kernel"),
        Some(0),
        "{who}: {}",
        c.err
    );
    if who == "tcpdump" {
        assert_eq!(
            summary_count(&c.err, "captured"),
            summary_count(&c.err, "received by filter"),
            "{who}: {}",
            c.err
        );
    }
}

#[test]
fn size_ring_on_a_bulk_transfer_has_tcpdumps_names_and_sizes() {
    let Some(_serial) = privileged(&["tcpdump", "tshark", "nc", "python3", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("rotc");
    let ours = TempDir::new("rotc-tracer");
    let theirs = TempDir::new("rotc-tcpdump");
    // The client's segments only: one direction on one interface, one order for both tools.
    let filter = ["src", "host", "10.77.0.1", "and", "tcp", "port", "43991"];
    let args = |dir: &TempDir| -> Vec<String> {
        let mut v: Vec<String> = ["-i", "veth-a", "-w"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.push(dir.join("out").to_string_lossy().into_owned());
        v.extend(["-C", "1", "-W", "3"].map(String::from));
        v.extend(filter.map(String::from));
        v
    };
    let a = args(&ours);
    let b = args(&theirs);
    let tracer = start_tracer(&net.a, &a.iter().map(String::as_str).collect::<Vec<_>>());
    // --immediate-mode: no packet waits in a 1 s block when the capture is stopped.
    let mut td: Vec<&str> = vec!["-Z", "root", "-B", "16384", "--immediate-mode"];
    td.extend(b.iter().map(String::as_str));
    let tcpdump = start_tcpdump(&net.a, &td);
    // 4.5 MB, paced at about 4 MB/s so no capture falls behind: five files, a ring of three.
    let mut server = net.b.cmd("bash");
    server.args(["-c", "timeout 20 nc -l 10.77.0.2 43991 > /dev/null"]);
    let server = Proc::spawn("nc -l", server);
    wait_listening(&net.b, 43991);
    net.a.sh(r#"timeout 20 python3 -c '
import socket, time
s = socket.create_connection(("10.77.0.2", 43991))
chunk = bytes(16384)
for _ in range(275):
    s.sendall(chunk)
    time.sleep(0.004)
s.close()
'"#);
    let _ = server.wait(Duration::from_secs(20));
    let (dumps, tracers) = stop_captures(vec![tcpdump], vec![tracer]);
    assert_lossless(&dumps[0], "tcpdump");
    assert_lossless(&tracers[0], "tracer");
    assert_eq!(
        summary_count(&tracers[0].err, "captured"),
        summary_count(&dumps[0].err, "captured"),
        "tracer: {}\ntcpdump: {}",
        tracers[0].err,
        dumps[0].err
    );
    let (x, y) = (sizes(&ours.path), sizes(&theirs.path));
    assert_eq!(
        y.keys().collect::<Vec<_>>(),
        ["out0", "out1", "out2"],
        "tcpdump's ring: {y:?}"
    );
    assert_eq!(x, y, "file sizes: tracer left, tcpdump right");
    for name in x.keys() {
        assert_eq!(
            tshark_packets(&ours.path.join(name)),
            tshark_packets(&theirs.path.join(name)),
            "{name}"
        );
    }
}

#[test]
fn time_rotation_on_a_paced_chat_has_tcpdumps_names_and_sizes() {
    let Some(_serial) = privileged(&["tcpdump", "tshark", "nc", "python3", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("rotg");
    let ours = TempDir::new("rotg-tracer");
    let theirs = TempDir::new("rotg-tcpdump");
    let filter = ["src", "host", "10.77.0.1", "and", "tcp", "port", "43992"];
    let name = |d: &TempDir| d.join("out-%M%S").to_string_lossy().into_owned();
    let (a, b) = (name(&ours), name(&theirs));
    let mut targs = vec!["-i", "veth-a", "-w", &a, "-G", "1"];
    targs.extend(filter);
    let tracer = start_tracer(&net.a, &targs);
    // --immediate-mode: tcpdump sees each packet as it comes (not in 1 s blocks), so both
    // look at the clock within milliseconds of each other.
    let mut dargs = vec![
        "-Z",
        "root",
        "--immediate-mode",
        "-i",
        "veth-a",
        "-w",
        &b,
        "-G",
        "1",
    ];
    dargs.extend(filter);
    let tcpdump = start_tcpdump(&net.a, &dargs);
    let mut server = net.b.cmd("bash");
    server.args(["-c", "timeout 20 nc -l 10.77.0.2 43992 > /dev/null"]);
    let server = Proc::spawn("nc -l", server);
    wait_listening(&net.b, 43992);
    // Connect, eight lines and the close, each at .25 or .75 of a wall-clock second: far
    // from the second boundaries where both tools open their next file.
    net.a.sh(r#"timeout 20 python3 -c '
import socket, time
def pace():
    f = time.time() % 1
    time.sleep((0.25 - f) % 0.5 or 0.5)
pace()
s = socket.create_connection(("10.77.0.2", 43992))
for i in range(8):
    pace()
    s.sendall(b"line %d\n" % i)
pace()
s.close()
'"#);
    let _ = server.wait(Duration::from_secs(20));
    let (dumps, tracers) = stop_captures(vec![tcpdump], vec![tracer]);
    assert_lossless(&dumps[0], "tcpdump");
    let captured = summary_count(&dumps[0].err, "captured");
    assert_eq!(summary_count(&tracers[0].err, "captured"), captured);
    let (x, y) = (sizes(&ours.path), sizes(&theirs.path));
    for (who, files) in [("tracer", &x), ("tcpdump", &y)] {
        for n in files.keys() {
            let digits = n.strip_prefix("out-").unwrap_or("");
            assert!(
                digits.len() == 4 && digits.bytes().all(|c| c.is_ascii_digit()),
                "{who}: {n}"
            );
        }
        // Only the file opened at start, before the first packet, may be a bare header.
        let empty = files.values().filter(|&&s| s == 24).count();
        assert!(empty <= 1, "{who}: {files:?}");
    }
    let with_packets = |m: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
        m.iter()
            .filter(|(_, &s)| s > 24)
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    let (px, py) = (with_packets(&x), with_packets(&y));
    // Five seconds of traffic at two packets a second (with the handshake and close).
    assert!(py.len() >= 4, "tcpdump's files: {y:?}");
    assert_eq!(px, py, "files with packets: tracer left, tcpdump right");
    let mut total = 0;
    for n in x.keys() {
        total += tshark_packets(&ours.path.join(n));
    }
    for n in y.keys() {
        tshark_packets(&theirs.path.join(n));
    }
    assert_eq!(Some(total as u64), captured);
}
