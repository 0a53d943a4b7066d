//! Test harness for privileged end-to-end tests: tracer and tcpdump started side by side in
//! the test kit's namespaces (`tracer-testkit`, shared with `cargo xtask bench`), and
//! comparison of tracer's output with real tcpdump's.
#![allow(dead_code, unused_imports)] // each test binary uses a part

pub use tracer_testkit::{
    kernel_counter, privileged, summary_count, tool_available, wait_listening, NetNs, Nginx, Proc,
    Routed, TempDir, TunPair, VethPair, BIG_PAGE_LEN, SMALL_PAGE,
};

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// The tracer binary under test.
pub fn tracer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tracer"))
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

/// Once the traffic is over, waits until every tracer has handled what its kernel filter
/// matched ([`Proc::await_drained`]) and then until the tcpdumps beside them have handled
/// as many packets as the tracers together (5 s at most each). tcpdump (TPACKET_V3) hands
/// over a block of packets when it fills or its 1 s timeout passes, and does not read a
/// partly filled block after SIGINT: without this its last packets are lost. When the
/// counts never agree the caller's comparison of the outputs says why.
pub fn drain(tcpdumps: &mut [&mut Proc], tracers: &mut [&mut Proc]) {
    let mut target = 0;
    for p in tracers.iter_mut() {
        target += p.await_drained(Duration::from_secs(5)).unwrap_or(0);
    }
    if tcpdumps.is_empty() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let theirs: u64 = tcpdumps
            .iter_mut()
            .map(|p| {
                p.ask_packet_counts(Duration::from_secs(5))
                    .map_or(0, |c| c.0)
            })
            .sum();
        if theirs >= target {
            return;
        }
        if Instant::now() >= deadline {
            eprintln!("tcpdump: {theirs} packets handled within 5 s, tracer {target}");
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
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
///
/// One exception to the order: two packets going opposite ways that tcpdump stamped in the
/// same microsecond (the last ACKs of a simultaneous close) may come in either order. They
/// were handled on two CPUs at once, and tcpdump's order between them is the order in which
/// those CPUs took its socket's ring lock, after the hooks tracer reads them at; a second
/// tcpdump beside the first can print them the other way round too. Packets one way come
/// from one sender's queue and stay strictly ordered.
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
    // tcpdump's packet matched to each of ours.
    let mut order: Vec<usize> = (0..theirs.len()).collect();
    let mut i = 0;
    while i + 1 < ours.len() {
        let (a, b) = (&theirs[i], &theirs[i + 1]);
        if ours[i].text != a.text
            && ours[i].text == b.text
            && ours[i + 1].text == a.text
            && a.micros_of_day.is_some()
            && a.micros_of_day == b.micros_of_day
            && opposite_ways(&a.text, &b.text)
        {
            order.swap(i, i + 1);
            i += 2;
        } else {
            i += 1;
        }
    }
    for (i, (a, &j)) in ours.iter().zip(&order).enumerate() {
        let b = &theirs[j];
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

/// Whether two printed packets go opposite ways: the `src > dst` of the first is the
/// `dst > src` of the second (the first such pair of a line: addresses, or with -e the
/// link-layer addresses).
fn opposite_ways(a: &str, b: &str) -> bool {
    fn ends(t: &str) -> Option<(&str, &str)> {
        let (before, after) = t.split_once(" > ")?;
        let src = before.rsplit(char::is_whitespace).next()?;
        let dst = after.split([':', ',', ' ']).next()?;
        Some((src, dst))
    }
    match (ends(a), ends(b)) {
        (Some((s1, d1)), Some((s2, d2))) => s1 == d2 && d1 == s2 && s1 != d1,
        _ => false,
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
    wait_listening(ns_server, port);
    ns_client.sh(&format!(
        "(printf 'hello world!\\n'; sleep 0.3; printf \"how's it going?\\n\"; sleep 0.6) | timeout 5 nc -N {connect} {port} > /dev/null"
    ));
    let _ = server.wait(Duration::from_secs(8));
}

/// The `/proc/PID/fdinfo` texts of a process's open descriptors.
fn fdinfos(pid: u32) -> impl Iterator<Item = String> {
    std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
}

/// A numeric field (`prog_id:`, `link_id:`, `map_id:`) of an fdinfo text.
fn fdinfo_field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
}

/// The BPF program and link ids a process holds open, from `/proc/PID/fdinfo`.
pub fn bpf_objects_of(pid: u32) -> (Vec<u64>, Vec<u64>) {
    let mut progs = Vec::new();
    let mut links = Vec::new();
    for info in fdinfos(pid) {
        if let Some(id) = fdinfo_field(&info, "link_id:") {
            links.push(id);
        } else if let Some(id) = fdinfo_field(&info, "prog_id:") {
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

/// What one capture printed and how it ended.
pub struct Captured {
    pub status: std::process::ExitStatus,
    pub out: String,
    pub err: String,
}

/// Waits until every tool has handled what its kernel queue took ([`drain`]),
/// then stops every tcpdump and then every tracer (SIGINT, bounded). Tracer must exit
/// successfully, and tcpdump must have lost nothing (or its output is no reference).
pub fn stop_captures(
    mut tcpdumps: Vec<Proc>,
    mut tracers: Vec<Proc>,
) -> (Vec<Captured>, Vec<Captured>) {
    drain(
        &mut tcpdumps.iter_mut().collect::<Vec<_>>(),
        &mut tracers.iter_mut().collect::<Vec<_>>(),
    );
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

/// The kernel flow table (`CONNS`) of the tracer process `pid`, opened through the map ids
/// it holds (`/proc/PID/fdinfo`); `None` when it holds none (no `--conn`, or not yet loaded).
pub fn flow_table(
    pid: u32,
) -> Option<
    aya::maps::HashMap<aya::maps::MapData, tracer_common::conn::ConnKey, tracer_common::ConnEntry>,
> {
    use aya::maps::{HashMap, Map, MapData};
    map_ids_of(pid).into_iter().find_map(|id| {
        let data = MapData::from_id(id).ok()?;
        let name = data.info().ok()?.name_as_str().map(str::to_owned);
        if name.as_deref() != Some("CONNS") {
            return None;
        }
        HashMap::try_from(Map::from_map_data(data).ok()?).ok()
    })
}

/// What [`await_flow_table`] waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FlowTable {
    /// No entry left: every connection closed and its entry's timer, the linger time (2 s)
    /// after the close, sent its record and deleted it.
    Empty,
    /// No closed connection left (as [`FlowTable::Empty`] for those); the open ones (an
    /// entry a full table's evictions recreated mid-stream) come out in the exit's table
    /// dump.
    NoneClosed,
}

/// Waits (10 s at most) until tracer `pid`'s flow table is as `until` says. The records are
/// then in the rings, which tracer empties before it exits.
pub fn await_flow_table(pid: u32, until: FlowTable) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = flow_table(pid).map(|t| {
            t.iter()
                .filter_map(Result::ok)
                .filter(|(_, e)| until == FlowTable::Empty || e.state.closed_ns != 0)
                .count()
        });
        if left == Some(0) {
            return;
        }
        if Instant::now() >= deadline {
            eprintln!("flow table of tracer {pid}: {left:?} entries left after 10 s ({until:?})");
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The BPF map ids a process holds open, from `/proc/PID/fdinfo`.
pub fn map_ids_of(pid: u32) -> Vec<u32> {
    let mut ids: Vec<u32> = fdinfos(pid)
        .filter_map(|info| fdinfo_field(&info, "map_id:"))
        .filter_map(|id| u32::try_from(id).ok())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
