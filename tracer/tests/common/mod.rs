//! Test harness for privileged end-to-end tests: network namespaces and processes that clean
//! up in Drop, ready-signal waits, and comparison of tracer's output with real tcpdump's.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU32, Ordering},
        mpsc, Mutex, MutexGuard,
    },
    thread,
    time::{Duration, Instant},
};

/// Privileged tests load programs and compare kernel-wide state: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The tracer binary under test.
pub fn tracer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tracer"))
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Returns the serialisation guard when the test can run (root, tools present); otherwise
/// skips with a notice, or fails when `TRACER_REQUIRE_PRIVILEGED_TESTS` is set (`cargo xtask test`).
pub fn privileged(tools: &[&str]) -> Option<MutexGuard<'static, ()>> {
    // SAFETY: plain libc call.
    let root = unsafe { libc::geteuid() } == 0;
    let missing: Vec<&str> = ["ip"]
        .iter()
        .chain(tools)
        .copied()
        .filter(|t| !have(t))
        .collect();
    let required = std::env::var_os("TRACER_REQUIRE_PRIVILEGED_TESTS").is_some();
    let why = if !root {
        Some("not root".to_string())
    } else if !missing.is_empty() {
        Some(format!("missing {}", missing.join(", ")))
    } else {
        None
    };
    if let Some(why) = why {
        if required {
            panic!("privileged test cannot run: {why}");
        }
        eprintln!("SKIPPED (privileged test): {why}; `sudo -E cargo xtask test` runs it");
        return None;
    }
    Some(SERIAL.lock().unwrap_or_else(|e| e.into_inner()))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Three namespaces in a line, the middle one routing: `client` 10.78.0.1 on `c-r`,
/// `router` 10.78.0.2 on `r-c` and 10.78.1.1 on `r-s`, `server` 10.78.1.2 on `s-r`. Offloads
/// off as in [`VethPair`].
pub struct Routed {
    pub client: NetNs,
    pub router: NetNs,
    pub server: NetNs,
}

impl Routed {
    pub fn new(tag: &str) -> Routed {
        let client = NetNs::new(&format!("{tag}c"));
        let router = NetNs::new(&format!("{tag}r"));
        let server = NetNs::new(&format!("{tag}s"));
        client.ip(&[
            "link",
            "add",
            "c-r",
            "type",
            "veth",
            "peer",
            "name",
            "r-c",
            "netns",
            &router.name,
        ]);
        server.ip(&[
            "link",
            "add",
            "s-r",
            "type",
            "veth",
            "peer",
            "name",
            "r-s",
            "netns",
            &router.name,
        ]);
        for (ns, dev, addr) in [
            (&client, "c-r", "10.78.0.1/24"),
            (&router, "r-c", "10.78.0.2/24"),
            (&router, "r-s", "10.78.1.1/24"),
            (&server, "s-r", "10.78.1.2/24"),
        ] {
            ns.ip(&["addr", "add", addr, "dev", dev]);
            ns.ip(&["link", "set", dev, "up"]);
            let _ = ns
                .cmd("ethtool")
                .args([
                    "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        client.ip(&["route", "add", "default", "via", "10.78.0.2"]);
        server.ip(&["route", "add", "default", "via", "10.78.1.1"]);
        router.sh("sysctl -qw net.ipv4.ip_forward=1");
        Routed {
            client,
            router,
            server,
        }
    }
}

/// A network namespace with `lo` up, deleted (with everything in it) on drop.
pub struct NetNs {
    pub name: String,
}

/// The pid in a name this kit made (`...-PID-N`), if that process is gone.
fn dead_owner(name: &str) -> bool {
    let mut parts = name.rsplit('-');
    let (Some(n), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    n.parse::<u64>().is_ok()
        && pid
            .parse::<u32>()
            .is_ok_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

/// Once per test process: removes the namespaces (`trt-*`) and scratch folders
/// (`tracer-*` in the temp dir) of earlier runs that were killed before their guards ran.
/// Only those whose creating process is gone: a run going on beside is left alone.
fn clean_up_after_aborted_runs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let name = line.split_whitespace().next().unwrap_or("");
                if name.starts_with("trt-") && dead_owner(name) {
                    eprintln!("removing namespace {name}, left by an aborted run");
                    let _ = Command::new("ip").args(["netns", "del", name]).status();
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("tracer-") && dead_owner(&name) && e.path().is_dir() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    });
}

impl NetNs {
    pub fn new(tag: &str) -> NetNs {
        clean_up_after_aborted_runs();
        let name = format!(
            "trt-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = NetNs { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NS ARGS`.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args));
    }

    /// A command run inside the namespace.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs a shell snippet inside the namespace to completion; returns stdout.
    pub fn sh(&self, script: &str) -> String {
        let out = self
            .cmd("bash")
            .args(["-c", script])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Two namespaces joined by a veth pair, MTU 1500, with offloads off so checksums are
/// final on the wire (like the conformance captures): `a` is 10.77.0.1/fd77::1 on `veth-a`,
/// `b` is 10.77.0.2/fd77::2 on `veth-b`.
pub struct VethPair {
    pub a: NetNs,
    pub b: NetNs,
}

impl VethPair {
    pub fn new(tag: &str) -> VethPair {
        let a = NetNs::new(&format!("{tag}a"));
        let b = NetNs::new(&format!("{tag}b"));
        a.ip(&[
            "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b", "netns", &b.name,
        ]);
        for (ns, dev, v4, v6, mac) in [
            (
                &a,
                "veth-a",
                "10.77.0.1/24",
                "fd77::1/64",
                "02:77:00:00:00:01",
            ),
            (
                &b,
                "veth-b",
                "10.77.0.2/24",
                "fd77::2/64",
                "02:77:00:00:00:02",
            ),
        ] {
            ns.ip(&["link", "set", dev, "address", mac]);
            ns.ip(&["addr", "add", v4, "dev", dev]);
            ns.ip(&["addr", "add", v6, "dev", dev, "nodad"]);
            ns.ip(&["link", "set", dev, "up"]);
            let _ = ns
                .cmd("ethtool")
                .args([
                    "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        // Neighbours known up front: no ARP/ND packets in the middle of a capture.
        a.ip(&[
            "neigh",
            "add",
            "10.77.0.2",
            "lladdr",
            "02:77:00:00:00:02",
            "dev",
            "veth-a",
        ]);
        b.ip(&[
            "neigh",
            "add",
            "10.77.0.1",
            "lladdr",
            "02:77:00:00:00:01",
            "dev",
            "veth-b",
        ]);
        a.ip(&[
            "neigh",
            "add",
            "fd77::2",
            "lladdr",
            "02:77:00:00:00:02",
            "dev",
            "veth-a",
        ]);
        b.ip(&[
            "neigh",
            "add",
            "fd77::1",
            "lladdr",
            "02:77:00:00:00:01",
            "dev",
            "veth-b",
        ]);
        VethPair { a, b }
    }
}

/// Two namespaces joined by a layer-3 link: `tun0` in each (no Ethernet header, like
/// WireGuard or a VPN's tun), with a thread of this process carrying packets between the two
/// devices. `a` is 10.79.0.1/fd79::1, `b` is 10.79.0.2/fd79::2. The devices live as long as
/// the thread holds them: dropping stops it, then deletes the namespaces.
pub struct TunPair {
    pub a: NetNs,
    pub b: NetNs,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    wire: Option<thread::JoinHandle<()>>,
}

impl TunPair {
    pub fn new(tag: &str) -> TunPair {
        use std::sync::{atomic::AtomicBool, Arc};
        let a = NetNs::new(&format!("{tag}a"));
        let b = NetNs::new(&format!("{tag}b"));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let names = [a.name.clone(), b.name.clone()];
        let flag = stop.clone();
        let wire = thread::spawn(move || {
            // setns(2) moves only this thread: each tun device is made in its namespace.
            let opened: Result<Vec<std::fs::File>, String> =
                names.iter().map(|ns| open_tun_in(ns)).collect();
            let tuns = match opened {
                Ok(t) => {
                    let _ = ready_tx.send(Ok(()));
                    t
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            tun_wire(&tuns, &flag);
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("tun wire thread")
            .unwrap_or_else(|e| panic!("tun devices: {e}"));
        for (ns, v4, peer4, v6) in [
            (&a, "10.79.0.1/32", "10.79.0.2/32", "fd79::1/64"),
            (&b, "10.79.0.2/32", "10.79.0.1/32", "fd79::2/64"),
        ] {
            ns.ip(&["addr", "add", v4, "peer", peer4, "dev", "tun0"]);
            // IPv6: an on-link prefix (a `peer` address gets no route to the peer).
            ns.ip(&["addr", "add", v6, "dev", "tun0", "nodad"]);
            ns.ip(&["link", "set", "tun0", "up"]);
        }
        TunPair {
            a,
            b,
            stop,
            wire: Some(wire),
        }
    }
}

impl Drop for TunPair {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.wire.take() {
            let _ = w.join();
        }
    }
}

/// Opens /dev/net/tun in namespace `ns` as `tun0` (IFF_TUN | IFF_NO_PI). Moves the calling
/// thread into `ns`.
fn open_tun_in(ns: &str) -> Result<std::fs::File, String> {
    use std::os::fd::AsRawFd;
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
    let nsf = std::fs::File::open(format!("/run/netns/{ns}")).map_err(|e| format!("{ns}: {e}"))?;
    // SAFETY: setns on a namespace fd we hold; affects this thread only.
    if unsafe { libc::setns(nsf.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns {ns}: {}", std::io::Error::last_os_error()));
    }
    let tun = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .map_err(|e| format!("/dev/net/tun: {e}"))?;
    let mut ifr = [0u8; 40];
    ifr[..4].copy_from_slice(b"tun0");
    ifr[16..18].copy_from_slice(&((libc::IFF_TUN | libc::IFF_NO_PI) as u16).to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes a struct ifreq, which ifr is large enough for.
    if unsafe { libc::ioctl(tun.as_raw_fd(), TUNSETIFF, ifr.as_mut_ptr()) } != 0 {
        return Err(format!("TUNSETIFF: {}", std::io::Error::last_os_error()));
    }
    Ok(tun)
}

/// Copies every packet read from one tun device to the other until `stop`.
fn tun_wire(tuns: &[std::fs::File], stop: &std::sync::atomic::AtomicBool) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [
            libc::pollfd {
                fd: tuns[0].as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: tuns[1].as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on two valid pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, 50) } <= 0 {
            continue;
        }
        for (i, f) in fds.iter().enumerate() {
            if f.revents & libc::POLLIN != 0 {
                if let Ok(n) = (&tuns[i]).read(&mut buf) {
                    let _ = (&tuns[1 - i]).write(&buf[..n]);
                }
            }
        }
    }
}

/// A child process, killed on drop; its stdout and stderr are collected by threads.
pub struct Proc {
    pub child: Child,
    stdout: Option<thread::JoinHandle<Vec<u8>>>,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
    name: String,
}

impl Proc {
    /// Spawns `cmd` with piped output.
    pub fn spawn(name: &str, mut cmd: Command) -> Proc {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let mut out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let stdout = thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        });
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            child,
            stdout: Some(stdout),
            stderr_lines: rx,
            stderr_seen: Vec::new(),
            name: name.to_string(),
        }
    }

    /// Waits until a stderr line contains `needle` (the ready signal), or panics with what
    /// the process said.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr_seen.iter().any(|l| l.contains(needle)) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => self.stderr_seen.push(line),
                Err(_) => panic!(
                    "{}: no '{needle}' within {timeout:?}; stderr:\n{}",
                    self.name,
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: plain libc call on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Sends SIGINT and waits (bounded) for the exit; returns (status, stdout, stderr).
    pub fn interrupt(self, timeout: Duration) -> (std::process::ExitStatus, String, String) {
        self.signal(libc::SIGINT);
        self.wait(timeout)
    }

    /// Waits (bounded) for the exit; kills after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> (std::process::ExitStatus, String, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("{} did not exit within {timeout:?}", self.name);
            }
            thread::sleep(Duration::from_millis(20));
        };
        let out = self.stdout.take().unwrap().join().unwrap_or_default();
        // Collect the rest of stderr.
        let end = Instant::now() + Duration::from_secs(2);
        while let Ok(line) = self
            .stderr_lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.stderr_seen.push(line);
        }
        (
            status,
            String::from_utf8_lossy(&out).into_owned(),
            self.stderr_seen.join("\n"),
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts tracer in `ns` with `args` and waits for its "listening on" line.
pub fn start_tracer(ns: &NetNs, args: &[&str]) -> Proc {
    let mut c = ns.cmd(tracer_bin());
    c.args(args);
    let mut p = Proc::spawn("tracer", c);
    p.wait_for_stderr("listening on", Duration::from_secs(30));
    p
}

/// Starts real tcpdump in `ns` with `args` (`-l` added) and waits for "listening on".
pub fn start_tcpdump(ns: &NetNs, args: &[&str]) -> Proc {
    let mut c = ns.cmd("tcpdump");
    c.arg("-l").args(args);
    let mut p = Proc::spawn("tcpdump", c);
    p.wait_for_stderr("listening on", Duration::from_secs(10));
    p
}

/// One printed packet: its first line split into timestamp and the rest, plus any
/// continuation lines (`-v`, `-X`).
#[derive(Debug, Clone, PartialEq)]
pub struct Printed {
    pub micros_of_day: Option<i64>,
    pub text: String,
}

/// Splits tcpdump-format output into packets (a packet starts with a timestamp).
pub fn packets(out: &str) -> Vec<Printed> {
    let mut v: Vec<Printed> = Vec::new();
    for line in out.lines() {
        let ts = parse_time_of_day(line);
        match (ts, v.last_mut()) {
            (Some((us, rest)), _) => v.push(Printed {
                micros_of_day: Some(us),
                text: rest.to_string(),
            }),
            (None, Some(last)) => {
                last.text.push('\n');
                last.text.push_str(line);
            }
            (None, None) => v.push(Printed {
                micros_of_day: None,
                text: line.to_string(),
            }),
        }
    }
    v
}

/// `HH:MM:SS.uuuuuu rest` → (microseconds of the day, rest).
fn parse_time_of_day(line: &str) -> Option<(i64, &str)> {
    let (ts, rest) = line.split_once(' ')?;
    let b = ts.as_bytes();
    if b.len() != 15 || b[2] != b':' || b[5] != b':' || b[8] != b'.' {
        return None;
    }
    let n = |s: &str| s.parse::<i64>().ok();
    let (h, m, s, u) = (n(&ts[0..2])?, n(&ts[3..5])?, n(&ts[6..8])?, n(&ts[9..15])?);
    Some((((h * 60 + m) * 60 + s) * 1_000_000 + u, rest))
}

/// Asserts tracer printed what tcpdump printed: the same packets in the same order with
/// equal text, and timestamps at most `tolerance_us` apart.
pub fn assert_same_as_tcpdump(tracer_out: &str, tcpdump_out: &str, tolerance_us: i64) {
    // tcpdump sometimes ends its output with an empty line when interrupted.
    let ours = packets(tracer_out.trim_end());
    let theirs = packets(tcpdump_out.trim_end());
    let diff = || {
        format!(
            "--- tcpdump ({} packets)\n{tcpdump_out}\n--- tracer ({} packets)\n{tracer_out}",
            theirs.len(),
            ours.len()
        )
    };
    assert!(!theirs.is_empty(), "tcpdump printed nothing\n{}", diff());
    assert_eq!(ours.len(), theirs.len(), "packet counts differ\n{}", diff());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            a.text,
            b.text,
            "packet {} differs (tracer left, tcpdump right)\n{}",
            i + 1,
            diff()
        );
        let (Some(x), Some(y)) = (a.micros_of_day, b.micros_of_day) else {
            panic!("packet {} has no timestamp\n{}", i + 1, diff());
        };
        assert!(
            (x - y).abs() <= tolerance_us,
            "packet {}: timestamps {} us apart (limit {tolerance_us})\n{}",
            i + 1,
            (x - y).abs(),
            diff()
        );
    }
}

/// The netcat chat of the classic walkthrough, on `addr` port `port` inside `ns`: the client
/// says "hello world!" and "how's it going?", the server answers "pretty good!", then the
/// client closes. Bounded in time.
pub fn nc_chat(ns_server: &NetNs, ns_client: &NetNs, listen: &str, connect: &str, port: u16) {
    let mut server = ns_server.cmd("bash");
    server.args([
        "-c",
        &format!("(sleep 0.6; printf 'pretty good!\\n'; sleep 1) | timeout 5 nc -l {listen} {port} > /dev/null"),
    ]);
    let server = Proc::spawn("nc -l", server);
    thread::sleep(Duration::from_millis(200));
    ns_client.sh(&format!(
        "(printf 'hello world!\\n'; sleep 0.3; printf \"how's it going?\\n\"; sleep 0.6) | timeout 5 nc -N {connect} {port} > /dev/null"
    ));
    let _ = server.wait(Duration::from_secs(8));
}

/// `tracer`/`tcpdump` summary: the number before `text` (e.g. "packets captured").
pub fn summary_count(stderr: &str, text: &str) -> Option<u64> {
    stderr.lines().find_map(|l| {
        let l = l.trim();
        let (n, rest) = l.split_once(' ')?;
        let rest = rest
            .trim_start_matches("packets ")
            .trim_start_matches("packet ");
        if rest.starts_with(text) {
            n.parse().ok()
        } else {
            None
        }
    })
}

/// The BPF program and link ids a process holds open, from `/proc/PID/fdinfo`.
pub fn bpf_objects_of(pid: u32) -> (Vec<u64>, Vec<u64>) {
    let mut progs = Vec::new();
    let mut links = Vec::new();
    let dir = format!("/proc/{pid}/fdinfo");
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let Ok(info) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        let field = |name: &str| -> Option<u64> {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
        };
        if let Some(id) = field("link_id:") {
            links.push(id);
        } else if let Some(id) = field("prog_id:") {
            progs.push(id);
        }
    }
    progs.sort();
    progs.dedup();
    (progs, links)
}

/// Whether a BPF object with this id still exists (`bpftool prog|link show id N`).
pub fn bpf_object_exists(kind: &str, id: u64) -> bool {
    Command::new("bpftool")
        .args([kind, "show", "id", &id.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `cmd` is on the PATH (for comparisons that need an optional tool).
pub fn tool_available(cmd: &str) -> bool {
    have(cmd)
}

/// A scratch directory, removed with everything in it on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        clean_up_after_aborted_runs();
        let path = std::env::temp_dir().join(format!(
            "tracer-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Waits (bounded, without sending a packet) until a TCP socket in `ns` listens on `port`.
pub fn wait_listening(ns: &NetNs, port: u16) {
    ns.sh(&format!(
        "for i in $(seq 100); do [ -n \"$(ss -Hltn 'sport = :{port}')\" ] && exit 0; sleep 0.05; done; \
         echo 'nothing listens on port {port}' >&2; exit 1"
    ));
}

/// The body of nginx's `/` page.
pub const SMALL_PAGE: &str = "hello from nginx\n";
/// The size of nginx's `/big.html` page: several full-sized segments.
pub const BIG_PAGE_LEN: usize = 6000;

/// nginx in one process (`master_process off`, so no worker outlives it), serving
/// [`SMALL_PAGE`] at `/` and [`BIG_PAGE_LEN`] bytes at `/big.html`; stopped on drop.
pub struct Nginx {
    proc: Option<Proc>,
    _dir: TempDir,
}

impl Nginx {
    /// Starts nginx in `ns` listening on each of `listen` (`10.77.0.2:80`, `[fd77::2]:80`)
    /// and waits until it accepts connections on `port`.
    pub fn start(ns: &NetNs, listen: &[&str], port: u16) -> Nginx {
        Nginx::start_with(ns, listen, port, "")
    }

    /// As [`Nginx::start`], but `/` answers [`SMALL_PAGE`] from memory (`return 200`): no
    /// open and fstat per request, so a load test pushes about twice the packets.
    pub fn start_in_memory(ns: &NetNs, listen: &[&str], port: u16) -> Nginx {
        let page = SMALL_PAGE.replace('\n', "\\n");
        Nginx::start_with(
            ns,
            listen,
            port,
            &format!("location = / {{ return 200 '{page}'; }} "),
        )
    }

    /// nginx's pid (one process: `master_process off`).
    pub fn pid(&self) -> u32 {
        self.proc.as_ref().map_or(0, |p| p.child.id())
    }

    fn start_with(ns: &NetNs, listen: &[&str], port: u16, locations: &str) -> Nginx {
        let dir = TempDir::new("nginx");
        let www = dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(www.join("index.html"), SMALL_PAGE).unwrap();
        let big: String = (0..BIG_PAGE_LEN)
            .map(|i| {
                if i % 64 == 63 {
                    '\n'
                } else {
                    (b'a' + (i % 26) as u8) as char
                }
            })
            .collect();
        std::fs::write(www.join("big.html"), big).unwrap();
        let listens: String = listen.iter().map(|l| format!("listen {l}; ")).collect();
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "worker_processes 1;\nmaster_process off;\ndaemon off;\npid {d}/nginx.pid;\n\
                 error_log {d}/error.log;\nevents {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n\
                 fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
                 server {{ {listens} root {www}; {locations}}}\n}}\n",
                d = dir.path.display(),
                www = www.display(),
            ),
        )
        .unwrap();
        let mut c = ns.cmd("nginx");
        c.arg("-e").arg(dir.join("error.log")).arg("-c").arg(&conf);
        let proc = Proc::spawn("nginx", c);
        wait_listening(ns, port);
        Nginx {
            proc: Some(proc),
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            // SIGTERM: nginx's fast shutdown; SIGKILL (Proc's drop) if it does not exit.
            p.signal(libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = p.child.try_wait() {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// What one capture printed and how it ended.
pub struct Captured {
    pub status: std::process::ExitStatus,
    pub out: String,
    pub err: String,
}

/// Lets the last packets reach both tools, then stops every tcpdump and then every tracer
/// (SIGINT, bounded). Tracer must exit successfully, and tcpdump must have lost nothing
/// (or its output is no reference).
pub fn stop_captures(tcpdumps: Vec<Proc>, tracers: Vec<Proc>) -> (Vec<Captured>, Vec<Captured>) {
    thread::sleep(Duration::from_millis(300));
    for p in tcpdumps.iter().chain(&tracers) {
        p.signal(libc::SIGINT);
    }
    let finish = |procs: Vec<Proc>| -> Vec<Captured> {
        procs
            .into_iter()
            .map(|p| {
                let (status, out, err) = p.wait(Duration::from_secs(10));
                Captured { status, out, err }
            })
            .collect()
    };
    let dumps = finish(tcpdumps);
    let ours = finish(tracers);
    for t in &ours {
        assert!(
            t.status.success(),
            "tracer failed ({}): {}",
            t.status,
            t.err
        );
    }
    (dumps, ours)
}

/// A netcat chat on a schedule, not waited for (see [`Chat::wait`]): the server listens at
/// once; the client connects and says "hello world!" `start` seconds from now, says
/// "how's it going?" 0.3 s later and closes 0.9 s after `start`; the server answers
/// "pretty good!" `reply` seconds from now. Chats whose packet bursts are far apart in
/// time give an order no capture tool can disagree on.
pub struct Chat {
    server: Proc,
    client: Proc,
}

impl Chat {
    pub fn spawn(
        server_ns: &NetNs,
        client_ns: &NetNs,
        listen: &str,
        connect: &str,
        port: u16,
        start: f64,
        reply: f64,
    ) -> Chat {
        let mut s = server_ns.cmd("bash");
        s.args([
            "-c",
            &format!(
                "(sleep {reply}; printf 'pretty good!\\n'; sleep 1) | timeout 6 nc -l {listen} {port} > /dev/null"
            ),
        ]);
        let server = Proc::spawn("nc -l", s);
        let mut c = client_ns.cmd("bash");
        c.args([
            "-c",
            &format!(
                "sleep {start}; (printf 'hello world!\\n'; sleep 0.3; printf \"how's it going?\\n\"; sleep 0.6) \
                 | timeout 6 nc -N {connect} {port} > /dev/null"
            ),
        ]);
        let client = Proc::spawn("nc", c);
        Chat { server, client }
    }

    /// Waits (bounded) for both ends.
    pub fn wait(self) {
        let _ = self.client.wait(Duration::from_secs(10));
        let _ = self.server.wait(Duration::from_secs(10));
    }
}

/// Merges the outputs of several tcpdumps into one, ordered by timestamp (stable).
pub fn merge_by_time(outputs: &[&str]) -> String {
    let mut all: Vec<Printed> = outputs.iter().flat_map(|o| packets(o.trim_end())).collect();
    all.sort_by_key(|p| p.micros_of_day);
    let mut s = String::new();
    for p in all {
        if let Some(us) = p.micros_of_day {
            let (secs, micros) = (us / 1_000_000, us % 1_000_000);
            s.push_str(&format!(
                "{:02}:{:02}:{:02}.{:06} ",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                micros
            ));
        }
        s.push_str(&p.text);
        s.push('\n');
    }
    s
}
