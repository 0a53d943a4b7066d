//! Privileged end-to-end tests: real traffic in namespaces the tests create, tracer and real
//! tcpdump capturing side by side. `sudo -E cargo xtask test` runs them; plain `cargo test`
//! as a normal user skips them with a notice.

mod common;

use std::time::Duration;

use common::*;

const SECS: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn lo_netcat_chat_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "nc"]) else {
        return;
    };
    let ns = NetNs::new("lo");
    let mut tracer = start_tracer(&ns, &["-i", "lo", "-nn", "port", "43981"]);
    let mut tcpdump = start_tcpdump(&ns, &["-i", "lo", "-nn", "port", "43981"]);
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, dump, _) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "tracer failed: {err}");
    assert_same_as_tcpdump(&out, &dump, 1000);
    // The chat: handshake, 3 data segments with their ACKs, FIN/FIN/ACK.
    assert_eq!(packets(&out).len(), 12, "{out}");
    assert_eq!(summary_count(&err, "captured"), Some(12), "{err}");
    assert_eq!(summary_count(&err, "dropped by kernel"), Some(0), "{err}");
}

#[test]
fn veth_netcat_chat_prints_what_tcpdump_prints_in_both_directions() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("veth");
    // Both hooks on the client's end: XDP sees the server's packets, TC egress the client's.
    let mut tracer = start_tracer(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    let mut tcpdump = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    nc_chat(&net.b, &net.a, "10.77.0.2", "10.77.0.2", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, dump, _) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "tracer failed: {err}");
    assert_same_as_tcpdump(&out, &dump, 1000);
    assert_eq!(packets(&out).len(), 12, "{out}");
}

#[test]
fn ipv6_over_veth_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("v6");
    let mut tracer = start_tracer(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    let mut tcpdump = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    nc_chat(&net.b, &net.a, "fd77::2", "fd77::2", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, dump, _) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "tracer failed: {err}");
    assert_same_as_tcpdump(&out, &dump, 1000);
}

#[test]
fn count_limit_stops_after_n_packets_with_the_summary() {
    let Some(_serial) = privileged(&["nc"]) else {
        return;
    };
    let ns = NetNs::new("cnt");
    let tracer = start_tracer(&ns, &["-i", "lo", "-nn", "-c", "3", "port", "43981"]);
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    let (status, out, err) = tracer.wait(SECS(10));
    assert!(status.success(), "{err}");
    assert_eq!(packets(&out).len(), 3, "{out}");
    assert_eq!(summary_count(&err, "captured"), Some(3), "{err}");
    // -c ends without the newline tcpdump prints after a signal.
    assert!(err.contains("\n3 packets captured"), "{err}");
}

#[test]
fn sigterm_ends_the_capture_with_the_summary() {
    let Some(_serial) = privileged(&[]) else {
        return;
    };
    let ns = NetNs::new("term");
    let tracer = start_tracer(&ns, &["-i", "lo", "-nn"]);
    tracer.signal(libc::SIGTERM);
    let (status, _, err) = tracer.wait(SECS(10));
    assert!(status.success(), "{err}");
    assert_eq!(summary_count(&err, "captured"), Some(0), "{err}");
    assert_eq!(summary_count(&err, "dropped by kernel"), Some(0), "{err}");
}

#[test]
fn missing_interface_is_one_clear_line() {
    let Some(_serial) = privileged(&[]) else {
        return;
    };
    let ns = NetNs::new("noif");
    let out = ns
        .cmd(tracer_bin())
        .args(["-i", "nosuch0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim(), "tracer: nosuch0: No such device exists");
}

#[test]
fn kill_9_leaves_no_program_attached() {
    let Some(_serial) = privileged(&["bpftool", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("kill");
    let tracer = start_tracer(&net.a, &["-i", "lo", "-i", "veth-a", "-nn"]);
    let (progs, links) = bpf_objects_of(tracer.child.id());
    // TCX ingress on lo, native XDP on veth-a, TCX egress on veth-a.
    assert_eq!(links.len(), 3, "links held by tracer: {links:?}");
    assert!(!progs.is_empty(), "no programs held by tracer");
    let xdp = net.a.sh("ip -d link show dev veth-a");
    assert!(xdp.contains("prog/xdp"), "XDP not attached: {xdp}");

    tracer.signal(libc::SIGKILL);
    let _ = tracer.wait(SECS(5));
    // The proof: `bpftool link show id N` / `bpftool prog show id N` fail for every object
    // tracer held, and no interface of the namespace has an XDP program. The kernel frees
    // them asynchronously once the last fd closes: poll a little.
    let deadline = std::time::Instant::now() + SECS(5);
    loop {
        let live_links: Vec<u64> = links
            .iter()
            .copied()
            .filter(|&id| bpf_object_exists("link", id))
            .collect();
        let live_progs: Vec<u64> = progs
            .iter()
            .copied()
            .filter(|&id| bpf_object_exists("prog", id))
            .collect();
        let xdp = net
            .a
            .sh("ip -d link show dev veth-a; ip -d link show dev lo");
        if live_links.is_empty() && live_progs.is_empty() && !xdp.contains("prog/xdp") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still attached after kill -9: links {live_links:?}, programs {live_progs:?}\n{xdp}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// wrk -> nginx on loopback as fast as nginx answers: every packet tcpdump counts, tracer
/// counts too, none dropped.
#[test]
fn load_on_lo_loses_nothing_and_counts_like_tcpdump() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "wrk"]) else {
        return;
    };
    let ns = NetNs::new("load");
    // One nginx process, stopped (worker included) and its directory removed on drop.
    let nginx = Nginx::start_in_memory(&ns, &["127.0.0.1:8080"], 8080);

    let mut tracer = {
        let mut c = ns.cmd(tracer_bin());
        c.args(["-i", "lo", "-nn", "port", "8080"]);
        let mut p = Proc::spawn("tracer", c);
        p.wait_for_stderr("listening on", SECS(30));
        p
    };
    // tcpdump writes to /dev/null: printing text it would drop packets itself.
    let mut tcpdump = start_tcpdump(&ns, &["-i", "lo", "-nn", "-w", "/dev/null", "port", "8080"]);
    let wrk = ns.sh("timeout 30 wrk -t1 -c32 -d5s http://127.0.0.1:8080/ 2>&1");
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, _, dump_err) = tcpdump.interrupt(SECS(10));
    let (status, out, err) = tracer.interrupt(SECS(30));
    drop(nginx);
    assert!(status.success(), "{err}");

    let theirs = summary_count(&dump_err, "captured").expect("tcpdump summary");
    let their_drops = summary_count(&dump_err, "dropped by kernel").unwrap_or(0);
    let ours = summary_count(&err, "captured").expect("tracer summary");
    let dropped = summary_count(&err, "dropped by kernel").expect("tracer drops");
    // The blank line is the newline tcpdump prints on SIGINT.
    let lines = out
        .strip_suffix("\n\n")
        .expect("the interrupt's newline")
        .lines()
        .count() as u64;
    eprintln!("wrk: {wrk}\ntracer: {err}\ntcpdump: {dump_err}");
    assert_eq!(dropped, 0, "tracer dropped records:\n{err}");
    assert_eq!(
        their_drops, 0,
        "tcpdump dropped packets, counts not comparable:\n{dump_err}"
    );
    assert_eq!(ours, theirs, "tracer and tcpdump counted different packets");
    assert_eq!(lines, ours, "every captured packet printed one line");
    assert!(
        ours > 100_000,
        "the load was too light to mean anything: {ours} packets"
    );
}

/// A filter too big for the kernel (over 512 tests) runs in userspace; with a small `-s`
/// it still sees whole headers, and prints what the kernel-placed equivalent prints.
#[test]
fn userspace_filter_under_small_snaplen_prints_like_the_kernel_filter() {
    let Some(_serial) = privileged(&["nc"]) else {
        return;
    };
    let ns = NetNs::new("ufil");
    let mut big: Vec<String> = (1..=600).map(|p| format!("port {p}")).collect();
    big.push("port 43981".into());
    let big = big.join(" or ");
    let mut user = start_tracer(&ns, &["-i", "lo", "-nn", "-x", "-s", "60", &big]);
    let mut kernel = start_tracer(&ns, &["-i", "lo", "-nn", "-x", "-s", "60", "port", "43981"]);
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    drain(&mut [], &mut [&mut user, &mut kernel]);
    let (s1, a, e1) = user.interrupt(SECS(5));
    let (s2, b, e2) = kernel.interrupt(SECS(5));
    assert!(s1.success() && s2.success(), "{e1}\n{e2}");
    assert_eq!(packets(&a).len(), 12, "{a}");
    assert_same_as_tcpdump(&a, &b, 1000);
}

/// Without `-i`, tracer listens where tcpdump would: the first up, non-loopback interface
/// (here veth-a, the namespace's only one besides lo).
#[test]
fn default_interface_is_the_first_up_non_loopback_one_like_tcpdump() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("dflt");
    let tracer = start_tracer(&net.a, &["-nn"]);
    let tcpdump = start_tcpdump(&net.a, &["-nn"]);
    let (_, _, dump_err) = tcpdump.interrupt(SECS(5));
    let (status, _, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "{err}");
    let listening = |s: &str| {
        s.lines()
            .find_map(|l| l.split("listening on ").nth(1))
            .and_then(|r| r.split(',').next())
            .map(str::to_string)
    };
    assert_eq!(listening(&err), listening(&dump_err), "{err}\n{dump_err}");
    assert_eq!(listening(&err).as_deref(), Some("veth-a"));
}

/// SIGUSR1 prints the counts so far on one stderr line, tcpdump's format, and the capture
/// goes on.
#[test]
fn sigusr1_prints_the_counts_so_far_like_tcpdump() {
    let Some(_serial) = privileged(&["tcpdump", "nc"]) else {
        return;
    };
    let ns = NetNs::new("usr1");
    let mut tracer = start_tracer(&ns, &["-i", "lo", "-nn", "port", "43981"]);
    let mut tcpdump = start_tcpdump(&ns, &["-i", "lo", "-nn", "port", "43981"]);
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    tracer.signal(libc::SIGUSR1);
    tcpdump.signal(libc::SIGUSR1);
    tracer.wait_for_stderr("packets captured, ", SECS(5));
    tcpdump.wait_for_stderr("packets captured, ", SECS(5));
    assert!(
        matches!(tracer.child.try_wait(), Ok(None)),
        "SIGUSR1 ended tracer"
    );
    let (_, _, dump_err) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "{err}");
    let shape = |l: &str, prog: &str| -> Option<Vec<u64>> {
        let rest = l.strip_prefix(&format!("{prog}: "))?;
        let parts: Vec<&str> = rest.split(", ").collect();
        let words = [
            "packets captured",
            "packets received by filter",
            "packets dropped by kernel",
        ];
        (parts.len() == 3).then_some(())?;
        parts
            .iter()
            .zip(words)
            .map(|(p, w)| p.strip_suffix(w)?.trim().parse().ok())
            .collect()
    };
    let ours: Vec<Vec<u64>> = err.lines().filter_map(|l| shape(l, "tracer")).collect();
    let theirs: Vec<Vec<u64>> = dump_err
        .lines()
        .filter_map(|l| shape(l, "tcpdump"))
        .collect();
    assert_eq!(
        theirs.len(),
        1,
        "tcpdump's SIGUSR1 line changed: {dump_err}"
    );
    assert_eq!(ours.len(), 1, "no line of tcpdump's shape: {err}");
    // Nothing came after the signal: the counts so far are the final ones.
    let n = packets(&out).len() as u64;
    assert_eq!(ours[0], [n, n, 0], "{err}");
    assert_eq!(summary_count(&err, "captured"), Some(n), "{err}");
}

/// Without root, live capture ends at once with one line that says what it needs (the EPERM
/// found down the load error's chain of causes), not the loader's error text.
#[test]
fn live_capture_without_root_says_what_it_needs_in_one_line() {
    let Some(_serial) = privileged(&["setpriv"]) else {
        return;
    };
    // A copy anyone may run: nobody cannot reach into root's build folders.
    let dir = TempDir::new("noroot");
    let bin = dir.join("tracer");
    std::fs::copy(tracer_bin(), &bin).unwrap();
    std::process::Command::new("chmod")
        .args(["755"])
        .arg(&dir.path)
        .arg(&bin)
        .status()
        .unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["-i", "lo", "-c", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        "tracer: live capture needs root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): run it with sudo, or read a file with -r"
    );
    assert!(out.stdout.is_empty());
}
