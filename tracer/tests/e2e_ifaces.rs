//! Privileged end-to-end tests of interfaces as production has them: a captured interface
//! that is deleted, `-i any` while interfaces come and go, layer-3 (tun) links, and the end
//! of a capture on a signal. Real tcpdump runs beside tracer in every case.

mod common;

use std::time::{Duration, Instant};

use common::*;

const SECS: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn deleting_the_captured_interface_ends_the_capture_within_a_second_like_tcpdump() {
    let Some(_serial) = privileged(&["tcpdump", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("del");
    let tracer = start_tracer(&net.a, &["-i", "veth-a", "-nn"]);
    let tcpdump = start_tcpdump(&net.a, &["-i", "veth-a", "-nn"]);
    let deleted = Instant::now();
    net.a.ip(&["link", "del", "veth-a"]);
    let (status, out, err) = tracer.wait(SECS(5));
    let took = deleted.elapsed();
    let (dump_status, dump, dump_err) = tcpdump.wait(SECS(5));
    assert!(
        took < SECS(1),
        "tracer ended {took:?} after the deletion\n{err}"
    );
    // tcpdump: "tcpdump: pcap_loop: The interface disappeared", its summary, exit 1.
    assert!(
        dump_err.contains("The interface disappeared"),
        "tcpdump: {dump_err}"
    );
    assert_eq!(
        status.code(),
        dump_status.code(),
        "{err}\n--- tcpdump\n{dump_err}"
    );
    assert_eq!(status.code(), Some(1), "{err}");
    let named: Vec<&str> = err.lines().filter(|l| l.contains("disappeared")).collect();
    assert_eq!(
        named,
        ["tracer: veth-a: The interface disappeared"],
        "{err}"
    );
    assert_eq!(summary_count(&err, "captured"), Some(0), "{err}");
    assert_eq!(summary_count(&err, "dropped by kernel"), Some(0), "{err}");
    // Neither prints the newline that ends an interrupted capture.
    assert_eq!(out, dump, "stdout differs from tcpdump's");
}

/// Adds `dev` in `ns` with its peer `peer` in `other`, 10.80.N.1/2 and fd80:N::1/2, up.
fn add_veth(ns: &NetNs, other: &NetNs, dev: &str, peer: &str, n: u8) {
    ns.veth_to(dev, other, peer);
    for (side, d, host) in [(ns, dev, 1), (other, peer, 2)] {
        side.ip(&["addr", "add", &format!("10.80.{n}.{host}/24"), "dev", d]);
        side.ip(&[
            "addr",
            "add",
            &format!("fd80:{n}::{host}/64"),
            "dev",
            d,
            "nodad",
        ]);
        let _ = side
            .cmd("ethtool")
            .args([
                "-K", d, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
            ])
            .output();
        side.ip(&["link", "set", d, "up"]);
    }
}

/// Waits (bounded) until tracer (`pid`) holds `n` BPF links: one per hook it attached.
fn wait_links(pid: u32, n: usize, what: &str) {
    let deadline = Instant::now() + SECS(5);
    loop {
        let (_, links) = bpf_objects_of(pid);
        if links.len() == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: tracer holds {} links after 5 s, not {n}",
            links.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn any_captures_on_interfaces_created_after_start_and_lets_go_of_deleted_ones() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool"]) else {
        return;
    };
    let ns = NetNs::new("anyhot");
    let peer = NetNs::new("anypeer");
    let filter = ["-i", "any", "-nn", "port", "43981"];
    let mut tracer = start_tracer(&ns, &filter);
    let mut tcpdump = start_tcpdump(&ns, &filter);
    let pid = tracer.child.id();
    let (_, at_start) = bpf_objects_of(pid);
    let base = at_start.len();
    // Traffic on an interface that was there at the start (lo) before, between and after.
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    add_veth(&ns, &peer, "hot1", "hot1p", 1);
    // A veth gets two hooks: XDP for what arrives, TC egress for what leaves.
    wait_links(pid, base + 2, "hot1 created");
    nc_chat(&peer, &ns, "10.80.1.2", "10.80.1.2", 43981);
    ns.ip(&["link", "del", "hot1"]);
    wait_links(pid, base, "hot1 deleted");
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    add_veth(&ns, &peer, "hot2", "hot2p", 2);
    wait_links(pid, base + 2, "hot2 created");
    nc_chat(&peer, &ns, "fd80:2::2", "fd80:2::2", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, dump, _) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "tracer ended badly: {err}");
    assert_same_as_tcpdump(&out, &dump, 1000);
    // Four chats of 10-12 packets (data and FIN may share segments; lo's packets once, as
    // `lo In`, as libpcap shows them). The count equals tcpdump's (checked above).
    assert!(packets(&out).len() >= 4 * 10, "{out}");
    for dev in ["hot1", "hot2", "lo"] {
        let on_dev = |l: &&str| l.split_whitespace().nth(1) == Some(dev);
        assert!(out.lines().any(|l| on_dev(&l)), "nothing on {dev}:\n{out}");
    }
    assert_eq!(summary_count(&err, "dropped by kernel"), Some(0), "{err}");
}

/// Runs tracer and tcpdump with `args` on `tun0` in `net.a` across an IPv4 and an IPv6 chat
/// over the tun link; returns both outputs and tracer's stderr.
fn tun_side_by_side(net: &TunPair, args: &[&str]) -> (String, String, String) {
    let mut tracer = start_tracer(&net.a, args);
    let mut tcpdump = start_tcpdump(&net.a, args);
    nc_chat(&net.b, &net.a, "10.79.0.2", "10.79.0.2", 43981);
    nc_chat(&net.b, &net.a, "fd79::2", "fd79::2", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, dump, _) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "tracer failed: {err}");
    (out, dump, err)
}

#[test]
fn tun_capture_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "nc"]) else {
        return;
    };
    let net = TunPair::new("tun");
    for mode in [&["-nn"][..], &["-v"], &["-nn", "-vv", "-X"]] {
        let mut args = vec!["-i", "tun0"];
        args.extend_from_slice(mode);
        args.extend(["port", "43981"]);
        let (out, dump, err) = tun_side_by_side(&net, &args);
        assert_same_as_tcpdump(&out, &dump, 1000);
        assert_eq!(packets(&out).len(), 24, "{mode:?}\n{out}");
        assert!(
            err.contains("link-type RAW (Raw IP)"),
            "banner differs from tcpdump's: {err}"
        );
        assert_eq!(summary_count(&err, "dropped by kernel"), Some(0), "{err}");
    }
    // -i any frames tun packets as tcpdump does: Linux cooked v2, no link-layer address.
    let (out, dump, _) = tun_side_by_side(&net, &["-i", "any", "-nn", "-e", "port", "43981"]);
    assert_same_as_tcpdump(&out, &dump, 1000);
    assert_eq!(packets(&out).len(), 24, "{out}");
}

/// Bytes 20..24 of a classic pcap file: its link type.
fn file_linktype(path: &std::path::Path) -> u32 {
    let b = std::fs::read(path).unwrap();
    assert!(b.len() >= 24, "{}: no pcap header", path.display());
    u32::from_le_bytes([b[20], b[21], b[22], b[23]])
}

fn read_back(path: &std::path::Path) -> String {
    let out = std::process::Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(path)
        .output()
        .expect("tcpdump -r");
    assert!(
        out.status.success(),
        "tcpdump -r {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tun_capture_files_have_tcpdumps_link_type_and_packets() {
    let Some(_serial) = privileged(&["tcpdump", "nc"]) else {
        return;
    };
    let net = TunPair::new("tunw");
    let dir = TempDir::new("tunw");
    let (ours, theirs) = (dir.join("tracer.pcap"), dir.join("tcpdump.pcap"));
    let (ours_s, theirs_s) = (ours.to_str().unwrap(), theirs.to_str().unwrap());
    let (out, dump, _) = {
        let mut tracer = start_tracer(&net.a, &["-i", "tun0", "-w", ours_s, "port", "43981"]);
        let mut tcpdump = start_tcpdump(&net.a, &["-i", "tun0", "-w", theirs_s, "port", "43981"]);
        nc_chat(&net.b, &net.a, "10.79.0.2", "10.79.0.2", 43981);
        nc_chat(&net.b, &net.a, "fd79::2", "fd79::2", 43981);
        drain(&mut [&mut tcpdump], &mut [&mut tracer]);
        let (_, dump, _) = tcpdump.interrupt(SECS(5));
        let (status, out, err) = tracer.interrupt(SECS(5));
        assert!(status.success(), "tracer failed: {err}");
        (out, dump, err)
    };
    // With -w, neither writes anything to standard output.
    assert_eq!((out.as_str(), dump.as_str()), ("", ""));
    assert_eq!(file_linktype(&ours), file_linktype(&theirs));
    assert_eq!(file_linktype(&ours), 101, "LINKTYPE_RAW");
    let (a, b) = (read_back(&ours), read_back(&theirs));
    assert_same_as_tcpdump(&a, &b, 1000);
    assert_eq!(packets(&a).len(), 24, "{a}");
}

#[test]
fn an_interrupted_capture_ends_stdout_with_tcpdumps_newline() {
    let Some(_serial) = privileged(&["tcpdump", "nc"]) else {
        return;
    };
    let ns = NetNs::new("nl");
    // Nothing printed: stdout is exactly the newline, as tcpdump's is.
    let tracer = start_tracer(&ns, &["-i", "lo", "-nn", "port", "43982"]);
    let tcpdump = start_tcpdump(&ns, &["-i", "lo", "-nn", "port", "43982"]);
    let (_, dump, dump_err) = tcpdump.interrupt(SECS(5));
    let (status, out, err) = tracer.interrupt(SECS(5));
    assert!(status.success(), "{err}");
    assert_eq!(dump, "\n", "tcpdump's stdout changed: {dump_err}");
    assert_eq!(out, dump);
    // After packets: the last line, then the extra newline.
    let mut tracer = start_tracer(&ns, &["-i", "lo", "-nn", "port", "43981"]);
    let mut tcpdump = start_tcpdump(&ns, &["-i", "lo", "-nn", "port", "43981"]);
    nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
    drain(&mut [&mut tcpdump], &mut [&mut tracer]);
    let (_, dump, _) = tcpdump.interrupt(SECS(5));
    let (_, out, err) = tracer.interrupt(SECS(5));
    assert!(dump.ends_with("\n\n"), "tcpdump's stdout changed: {dump:?}");
    assert!(out.ends_with("\n\n") && !out.ends_with("\n\n\n"), "{out:?}");
    assert_same_as_tcpdump(&out, &dump, 1000);
    // The summary follows on stderr without a blank line before it.
    assert!(err.contains("\n12 packets captured"), "{err}");
}
