//! Privileged end-to-end parity tests: tracer and real tcpdump capture the same live traffic
//! (curl -> nginx, netcat chats) side by side in namespaces the tests create, in several
//! printing modes, on several interfaces and directions; capture files written live are read
//! back by tracer, tcpdump and tshark. `sudo -E cargo xtask test` runs them; plain
//! `cargo test` as a normal user skips them with a notice.

mod common;

use std::{
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use common::*;

/// Timestamps of one packet in tracer's and tcpdump's output may differ by this much.
const TOLERANCE_US: i64 = 1000;

/// Two pages over one keep-alive connection, then the same over IPv6.
const V4_PAGES: &str =
    "curl -sS --max-time 5 -o /dev/null -o /dev/null http://10.77.0.2/ http://10.77.0.2/big.html";
const V6_PAGES: &str = "curl -sS --max-time 5 -g -o /dev/null -o /dev/null \
                        'http://[fd77::2]/' 'http://[fd77::2]/big.html'";

/// nginx in `b` on port 80 of both its addresses.
fn web(net: &VethPair) -> Nginx {
    Nginx::start(&net.b, &["10.77.0.2:80", "[fd77::2]:80"], 80)
}

/// Runs tracer and tcpdump with the same arguments in `ns` around `traffic`.
fn side_by_side(ns: &NetNs, args: &[&str], traffic: impl FnOnce()) -> (Captured, Captured) {
    side_by_side_as(ns, &[], args, traffic)
}

/// [`side_by_side`] with `ours` (tracer's own flags, `--kernel-stats`) given to tracer only.
fn side_by_side_as(
    ns: &NetNs,
    ours: &[&str],
    args: &[&str],
    traffic: impl FnOnce(),
) -> (Captured, Captured) {
    let tracer = start_tracer(ns, &[ours, args].concat());
    let tcpdump = start_tcpdump(ns, args);
    traffic();
    let (mut dumps, mut ours) = stop_captures(vec![tcpdump], vec![tracer]);
    (ours.remove(0), dumps.remove(0))
}

fn assert_contains(out: &str, needles: &[&str]) {
    for n in needles {
        assert!(out.contains(n), "no '{n}' in:\n{out}");
    }
}

fn curl_both_families(net: &VethPair) {
    net.a.sh(V4_PAGES);
    net.a.sh(V6_PAGES);
}

#[test]
fn curl_nginx_verbose_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("httpv");
    let _web = web(&net);
    let (t, d) = side_by_side(&net.a, &["-i", "veth-a", "-nn", "-v", "port", "80"], || {
        curl_both_families(&net)
    });
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
    // The traffic is what the test means: HTTP decoded both ways, both families, large
    // segments, and (offloads off) checksums final on the wire, outgoing ones included.
    assert_contains(
        &t.out,
        &[
            "GET / HTTP/1.1",
            "GET /big.html HTTP/1.1",
            "HTTP/1.1 200 OK",
            "Content-Length: 6000",
            "IP6 (flowlabel",
            "length 1448",
            "cksum 0x",
        ],
    );
    assert!(
        !d.out.contains("incorrect"),
        "offloads are off: tcpdump should see final checksums\n{}",
        d.out
    );
}

#[test]
fn curl_nginx_hex_ascii_prints_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("httpx");
    let _web = web(&net);
    let (t, d) = side_by_side(&net.a, &["-i", "veth-a", "-nn", "-X", "port", "80"], || {
        curl_both_families(&net)
    });
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
    assert_contains(
        &t.out,
        &["IP6 fd77::1.", "IP 10.77.0.2.80 > ", "HTTP/1.1.200"],
    );
}

/// With checksum offload on, both tools see the partial checksums the stack leaves for the
/// device ("incorrect" in tcpdump's words): tracer must not complete them.
#[test]
fn offloaded_checksums_stay_partial_like_tcpdump_sees_them() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("csum");
    net.a.sh("ethtool -K veth-a tx on >/dev/null");
    let _web = web(&net);
    let (t, d) = side_by_side(&net.a, &["-i", "veth-a", "-nn", "-v", "port", "80"], || {
        curl_both_families(&net)
    });
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
    assert!(
        d.out.contains("incorrect"),
        "tx offload on: tcpdump should see partial checksums\n{}",
        d.out
    );
}

/// Magic number at the start of a capture file.
fn magic(path: &Path) -> [u8; 4] {
    let b = std::fs::read(path).unwrap();
    assert!(b.len() >= 4, "{} is too short", path.display());
    [b[0], b[1], b[2], b[3]]
}

const PCAP_MAGIC: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

fn run_bounded(mut cmd: Command) -> Output {
    let name = format!("{:?}", cmd.get_program());
    cmd.stdin(std::process::Stdio::null());
    let p = Proc::spawn(&name, cmd);
    let (status, out, err) = p.wait(Duration::from_secs(20));
    Output {
        status,
        stdout: out.into_bytes(),
        stderr: err.into_bytes(),
    }
}

/// `tracer -nn -r FILE`: stdout, checking the one stderr line.
fn tracer_reads(path: &Path) -> String {
    let mut c = Command::new(tracer_bin());
    c.arg("-nn").arg("-r").arg(path);
    let out = run_bounded(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tracer -r failed: {err}");
    assert_eq!(
        err.trim(),
        format!(
            "reading from file {}, link-type EN10MB (Ethernet), snapshot length 262144",
            path.display()
        )
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `tcpdump -nn -r FILE`: stdout.
fn tcpdump_reads(path: &Path) -> String {
    let mut c = Command::new("tcpdump");
    c.arg("-nn").arg("-r").arg(path);
    let out = run_bounded(c);
    assert!(
        out.status.success(),
        "tcpdump -r failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `tshark -r FILE`: must succeed without any warning but the one about running as root,
/// and dissect nothing as malformed. Returns the number of packets.
fn tshark_reads(path: &Path) -> usize {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(path);
    let out = run_bounded(c);
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tshark -r failed: {err}");
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.starts_with("Running as user \"root\""),
            "tshark warned: {err}"
        );
    }
    assert!(!text.contains("Malformed"), "tshark:\n{text}");
    text.lines().count()
}

#[test]
fn pcap_written_live_reads_back_like_the_live_print_and_like_tcpdump() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool", "tshark"]) else {
        return;
    };
    let net = VethPair::new("wpcap");
    let dir = TempDir::new("wpcap");
    let file = dir.join("chat.pcap");
    let f = file.to_str().unwrap();
    let tracer = start_tracer(
        &net.a,
        &["-i", "veth-a", "-nn", "-w", f, "--print", "port", "43981"],
    );
    let tcpdump = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    nc_chat(&net.b, &net.a, "10.77.0.2", "10.77.0.2", 43981);
    let (dumps, ours) = stop_captures(vec![tcpdump], vec![tracer]);
    let (live, dump) = (&ours[0], &dumps[0]);
    // --print prints what tcpdump prints, while the file is written.
    assert_same_as_tcpdump(&live.out, &dump.out, TOLERANCE_US);
    assert_eq!(packets(&live.out).len(), 12, "{}", live.out);
    assert_eq!(magic(&file), PCAP_MAGIC);

    // Read back by tracer: exactly the live print, timestamps included.
    let ours_read = tracer_reads(&file);
    assert_eq!(ours_read, live.out, "tracer -r differs from the live print");
    // Read back by tcpdump: what tcpdump printed live, and what tracer -r prints.
    let theirs_read = tcpdump_reads(&file);
    assert_same_as_tcpdump(&theirs_read, &dump.out, TOLERANCE_US);
    assert_eq!(theirs_read, ours_read, "tcpdump -r and tracer -r differ");
    assert_eq!(tshark_reads(&file), 12);
}

/// Checks a pcapng file tracer wrote live against what tcpdump printed live.
fn check_pcapng(file: &Path, live: &Captured, dump_out: &str) {
    assert!(
        live.out.is_empty(),
        "-w without --print printed:\n{}",
        live.out
    );
    assert_eq!(magic(file), PCAPNG_MAGIC, "{}", file.display());
    let n = packets(dump_out).len();
    assert_eq!(
        summary_count(&live.err, "captured"),
        Some(n as u64),
        "{}",
        live.err
    );
    let ours_read = tracer_reads(file);
    assert_same_as_tcpdump(&ours_read, dump_out, TOLERANCE_US);
    let theirs_read = tcpdump_reads(file);
    assert_eq!(theirs_read, ours_read, "tcpdump -r and tracer -r differ");
    assert_eq!(tshark_reads(file), n, "{}", file.display());
}

#[test]
fn pcapng_by_flag_reads_back_like_tcpdump_saw_it() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool", "tshark"]) else {
        return;
    };
    let net = VethPair::new("wngf");
    let _web = web(&net);
    let dir = TempDir::new("wngf");
    // --pcapng wins over the .pcap name.
    let file = dir.join("by-flag.pcap");
    let f = file.to_str().unwrap();
    let tracer = start_tracer(
        &net.a,
        &["-i", "veth-a", "-nn", "--pcapng", "-w", f, "port", "80"],
    );
    let tcpdump = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "port", "80"]);
    curl_both_families(&net);
    let (dumps, ours) = stop_captures(vec![tcpdump], vec![tracer]);
    assert!(
        packets(&dumps[0].out).len() > 20,
        "too little traffic:\n{}",
        dumps[0].out
    );
    check_pcapng(&file, &ours[0], &dumps[0].out);
}

#[test]
fn pcapng_by_file_name_from_two_interfaces_reads_back_like_tcpdump_saw_it() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool", "tshark"]) else {
        return;
    };
    let net = VethPair::new("wngn");
    let dir = TempDir::new("wngn");
    let file = dir.join("two.pcapng");
    let f = file.to_str().unwrap();
    let tracer = start_tracer(
        &net.a,
        &["-i", "lo", "-i", "veth-a", "-nn", "-w", f, "port", "43981"],
    );
    let dlo = start_tcpdump(&net.a, &["-i", "lo", "-nn", "port", "43981"]);
    let dveth = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    staggered_chats(&net, 43981);
    let (dumps, ours) = stop_captures(vec![dlo, dveth], vec![tracer]);
    let union = merge_by_time(&[&dumps[0].out, &dumps[1].out]);
    assert_eq!(packets(&union).len(), 24, "{union}");
    check_pcapng(&file, &ours[0], &union);
}

/// A chat across the veth pair and one on `a`'s loopback, interleaved in time with bursts
/// at least 150 ms apart (see [`Chat`]).
fn staggered_chats(net: &VethPair, port: u16) {
    let veth = Chat::spawn(&net.b, &net.a, "10.77.0.2", "10.77.0.2", port, 0.2, 0.8);
    let lo = Chat::spawn(&net.a, &net.a, "127.0.0.1", "127.0.0.1", port, 0.35, 0.95);
    veth.wait();
    lo.wait();
}

fn any_interface(link_header: bool) {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new(if link_header { "anye" } else { "any" });
    let mut args = vec!["-i", "any", "-nn"];
    if link_header {
        args.push("-e");
    }
    args.extend(["port", "43981"]);
    let (t, d) = side_by_side(&net.a, &args, || staggered_chats(&net, 43981));
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
    // Both chats, each packet once: loopback's only as incoming, like libpcap shows them.
    assert_eq!(packets(&t.out).len(), 24, "{}", t.out);
    if link_header {
        assert_contains(
            &t.out,
            &[
                "lo    In  ifindex 1 00:00:00:00:00:00 ethertype IPv4 (0x0800), length ",
                "veth-a Out ifindex ",
                " 02:77:00:00:00:01 ethertype IPv4 (0x0800), length ",
                "veth-a In  ifindex ",
            ],
        );
    } else {
        assert_contains(
            &t.out,
            &[
                "lo    In  IP 127.0.0.1.",
                "veth-a Out IP 10.77.0.1.",
                "veth-a In  IP 10.77.0.2.",
            ],
        );
    }
}

#[test]
fn any_interface_prints_what_tcpdump_prints() {
    any_interface(false);
}

#[test]
fn any_interface_with_link_headers_prints_what_tcpdump_prints() {
    any_interface(true);
}

#[test]
fn direction_in_and_out_print_what_tcpdump_prints() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("dir");
    let args = |q| vec!["-i", "veth-a", "-Q", q, "-nn", "port", "43981"];
    // -Q in attaches only XDP, -Q out only TC egress: both tracers get their usual hooks.
    let tin = start_tracer(&net.a, &args("in"));
    let tout = start_tracer(&net.a, &args("out"));
    let din = start_tcpdump(&net.a, &args("in"));
    let dout = start_tcpdump(&net.a, &args("out"));
    nc_chat(&net.b, &net.a, "10.77.0.2", "10.77.0.2", 43981);
    let (dumps, ours) = stop_captures(vec![din, dout], vec![tin, tout]);
    assert_same_as_tcpdump(&ours[0].out, &dumps[0].out, TOLERANCE_US);
    assert_same_as_tcpdump(&ours[1].out, &dumps[1].out, TOLERANCE_US);
    let (inbound, outbound) = (packets(&ours[0].out), packets(&ours[1].out));
    assert!(
        inbound
            .iter()
            .all(|p| p.text.starts_with("IP 10.77.0.2.43981 > ")),
        "{}",
        ours[0].out
    );
    assert!(
        outbound.iter().all(|p| p.text.starts_with("IP 10.77.0.1.")),
        "{}",
        ours[1].out
    );
    assert_eq!(inbound.len() + outbound.len(), 12);
}

#[test]
fn two_interfaces_print_the_time_ordered_union_of_two_tcpdumps() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("twoif");
    let tracer = start_tracer(
        &net.a,
        &["-i", "lo", "-i", "veth-a", "-nn", "port", "43981"],
    );
    // tcpdump takes one interface: one per interface, merged by time below.
    let dlo = start_tcpdump(&net.a, &["-i", "lo", "-nn", "port", "43981"]);
    let dveth = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "port", "43981"]);
    staggered_chats(&net, 43981);
    let (dumps, ours) = stop_captures(vec![dlo, dveth], vec![tracer]);
    let union = merge_by_time(&[&dumps[0].out, &dumps[1].out]);
    assert_same_as_tcpdump(&ours[0].out, &union, TOLERANCE_US);
    let printed = packets(&ours[0].out);
    assert_eq!(printed.len(), 24, "{}", ours[0].out);
    // The two chats really interleave: the output switches interface several times.
    let switches = printed
        .windows(2)
        .filter(|w| w[0].text.contains("127.0.0.1") != w[1].text.contains("127.0.0.1"))
        .count();
    assert!(switches >= 4, "not interleaved:\n{}", ours[0].out);
}

#[test]
fn names_are_resolved_like_tcpdump_by_default_and_with_n() {
    let Some(_serial) = privileged(&["tcpdump", "nc", "nginx", "curl"]) else {
        return;
    };
    let ns = NetNs::new("names");
    let _web = Nginx::start(&ns, &["127.0.0.1:80"], 80);
    for numeric in [false, true] {
        let mut args = vec!["-i", "lo"];
        if numeric {
            args.push("-n");
        }
        args.extend(["port", "43981", "or", "port", "80"]);
        let (t, d) = side_by_side(&ns, &args, || {
            nc_chat(&ns, &ns, "127.0.0.1", "127.0.0.1", 43981);
            ns.sh("curl -sS --max-time 5 -o /dev/null http://127.0.0.1/");
        });
        assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
        if numeric {
            // -n: numeric addresses (and, in tcpdump 4.99, numeric ports).
            assert_contains(&t.out, &["IP 127.0.0.1.43981 > ", "127.0.0.1.80: "]);
        } else {
            assert_contains(
                &t.out,
                &["IP localhost.43981 > localhost.", "localhost.http: "],
            );
            assert!(!t.out.contains("127.0.0.1"), "{}", t.out);
        }
        assert_contains(&t.out, &["HTTP: GET / HTTP/1.1"]);
    }
}

/// A small Ethernet/IPv4/TCP frame for hand-made capture files.
fn tcp_frame(seq: u32, payload: &[u8]) -> Vec<u8> {
    let b = etherparse::PacketBuilder::ethernet2([2, 0x77, 0, 0, 0, 1], [2, 0x77, 0, 0, 0, 2])
        .ipv4([10, 77, 0, 1], [10, 77, 0, 2], 64)
        .tcp(40000, 43981, seq, 502)
        .ack(1)
        .psh();
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

/// A classic pcap of five packets; returns the file and the offset where each record starts.
fn five_packet_pcap() -> (Vec<u8>, Vec<usize>) {
    // Magic, version 2.4, zone, sigfigs, snaplen, LINKTYPE_ETHERNET.
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 262_144, 1] {
        file.extend_from_slice(&v.to_le_bytes());
    }
    let mut starts = Vec::new();
    let mut seq = 1000;
    for i in 0..5u32 {
        let payload = vec![b'a' + i as u8; 10 + 20 * i as usize];
        let frame = tcp_frame(seq, &payload);
        seq += payload.len() as u32;
        starts.push(file.len());
        for v in [
            1_700_000_000 + i,
            1000 * i,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            file.extend_from_slice(&v.to_le_bytes());
        }
        file.extend_from_slice(&frame);
    }
    (file, starts)
}

/// `tracer -nn -r` of damaged files: the packets before the damage, printed as tcpdump prints
/// them, then exactly one error line, and a nonzero exit. Needs no privileges.
#[test]
fn corrupt_capture_file_prints_the_packets_before_the_damage_then_one_error_line() {
    let dir = TempDir::new("corrupt");
    let (good, starts) = five_packet_pcap();
    let mut cases: Vec<(&str, Vec<u8>, usize)> = Vec::new();
    // Cut inside the last packet's bytes, inside the fourth record's header.
    cases.push(("cut-data", good[..good.len() - 7].to_vec(), 4));
    cases.push(("cut-header", good[..starts[3] + 9].to_vec(), 3));
    // The third record claims 4 GiB of captured bytes.
    let mut huge = good.clone();
    huge[starts[2] + 8..starts[2] + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(("huge-caplen", huge, 2));
    // Not a capture file at all, and an empty one.
    cases.push(("garbage", b"this is not a capture file\n".to_vec(), 0));
    cases.push(("empty", Vec::new(), 0));

    let full = dir.join("good.pcap");
    std::fs::write(&full, &good).unwrap();
    let all = tracer_reads(&full);
    assert_eq!(all.lines().count(), 5, "{all}");

    for (name, bytes, good_packets) in cases {
        let path = dir.join(&format!("{name}.pcap"));
        std::fs::write(&path, &bytes).unwrap();
        let mut c = Command::new(tracer_bin());
        c.arg("-nn").arg("-r").arg(&path);
        let out = run_bounded(c);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        let expected: String = all
            .lines()
            .take(good_packets)
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            stdout, expected,
            "{name}: not the packets before the damage"
        );
        let mut err_lines: Vec<&str> = stderr.lines().collect();
        if err_lines
            .first()
            .is_some_and(|l| l.starts_with("reading from file "))
        {
            err_lines.remove(0);
        }
        assert_eq!(err_lines.len(), 1, "{name}: not one error line:\n{stderr}");
        assert!(err_lines[0].starts_with("tracer: "), "{name}: {stderr}");
        // tcpdump prints the same packets before its own error.
        if tool_available("tcpdump") {
            let mut c = Command::new("tcpdump");
            c.arg("-nn").arg("-r").arg(&path);
            let theirs = run_bounded(c);
            assert!(!theirs.status.success(), "{name}: tcpdump read it all");
            assert_eq!(String::from_utf8_lossy(&theirs.stdout), stdout, "{name}");
        }
    }
}

/// On a device without TCP segmentation offload the TC egress hook sees the stack's GSO
/// packet (one "length 6241" segment), and `validate_xmit_skb` segments it in software only
/// after that, before the packet taps: tcpdump prints five segments of at most 1448 bytes.
/// tracer captures such packets whole and splits them the same way (`live::gso`). On
/// devices with TSO both print the large packet.
#[test]
fn egress_gso_packets_print_as_the_segments_tcpdump_sees() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("gso");
    // Software GSO on, TSO off (VethPair turns both off): the stack then builds GSO packets
    // that the device cannot take, and the kernel splits them after the egress hook.
    net.b.sh("ethtool -K veth-b gso on tso off >/dev/null");
    let features = net.b.sh("ethtool -k veth-b");
    assert!(
        features.contains("generic-segmentation-offload: on")
            && features.contains("tcp-segmentation-offload: off"),
        "GSO without TSO could not be set up:\n{features}"
    );
    let _web = web(&net);
    // The server's end: its responses are egress there.
    let (t, d) = side_by_side_as(
        &net.b,
        &["--kernel-stats"],
        &["-i", "veth-b", "-nn", "port", "80"],
        || {
            net.a.sh(V4_PAGES);
        },
    );
    // tracer split GSO packets: its hook matched fewer packets than it printed.
    let matched = kernel_counter(&t.err, "matched").expect("kernel stats");
    let captured = summary_count(&t.err, "captured").expect("summary");
    assert!(
        matched < captured,
        "no GSO packet split: {matched} matched, {captured} captured\n{}",
        t.err
    );
    // tcpdump sees the segments (none longer than one MSS); unsplit, tracer would print the
    // hook's GSO packets ("length 6241") and differ.
    let segments = packets(&d.out);
    assert!(
        segments
            .iter()
            .filter(|p| p.text.contains("length 1448"))
            .count()
            >= 4,
        "no full-sized segments: the load did not make GSO packets\n{}",
        d.out
    );
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
    // The summary counts segments, as tcpdump's does, not the GSO packets the kernel matched.
    for what in ["captured", "received by filter"] {
        assert_eq!(
            summary_count(&t.err, what),
            summary_count(&d.err, what),
            "packets {what}: tracer\n{}\ntcpdump\n{}",
            t.err,
            d.err
        );
    }
}

/// With GRO on, XDP would see each segment as it arrives while the packet taps (after GRO)
/// see the merged packet: tcpdump prints one "length 6241" segment. tracer then captures
/// ingress with TCX, which runs after GRO, and prints what tcpdump prints.
#[test]
fn ingress_gro_merged_packets_print_as_tcpdump_sees_them() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("gro");
    net.a.sh("ethtool -K veth-a gro on >/dev/null");
    // The sender may build large packets (so that GRO has segments to merge on veth).
    net.b.sh("ethtool -K veth-b gso on >/dev/null");
    let _web = web(&net);
    let (t, d) = side_by_side(&net.a, &["-i", "veth-a", "-nn", "port", "80"], || {
        net.a.sh(V4_PAGES);
    });
    // The merge happened: tcpdump saw at least one packet longer than one segment.
    let merged = packets(&d.out)
        .iter()
        .filter_map(|p| {
            let after = p.text.split(", length ").nth(1)?;
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        })
        .filter(|&n| n > 1448)
        .count();
    assert!(merged > 0, "GRO merged nothing:\n{}", d.out);
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
}

/// On a device that checksums in software, tracer completes the partial checksums of
/// outgoing segments in userspace, which needs the whole segment: the kernel captures them
/// whole and userspace cuts them to the snap length afterwards, so the hex dump of a cut
/// segment shows the final checksum, as tcpdump's does.
#[test]
fn cut_egress_segments_dump_the_checksum_tcpdump_sees() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool"]) else {
        return;
    };
    let net = VethPair::new("cutck");
    let _web = web(&net);
    let (t, d) = side_by_side(
        &net.a,
        &["-i", "veth-a", "-nn", "-s", "60", "-X", "port", "80"],
        || {
            net.a.sh(V4_PAGES);
        },
    );
    assert_same_as_tcpdump(&t.out, &d.out, TOLERANCE_US);
}

/// `ethtool -K` while tracer runs: checksum offload turned off after the start. tracer reads
/// the offloads again every second and tells the kernel (its SOFTWARE_TX map) to capture the
/// outgoing segments whole, so the cut hex dumps show the checksums the kernel completes,
/// as tcpdump's do.
#[test]
fn offloads_changed_while_capturing_reach_the_kernel_too() {
    let Some(_serial) = privileged(&["tcpdump", "nginx", "curl", "ethtool", "bpftool"]) else {
        return;
    };
    let net = VethPair::new("offchg");
    net.a.sh("ethtool -K veth-a tx on >/dev/null");
    let _web = web(&net);
    let args = ["-i", "veth-a", "-nn", "-s", "60", "-X", "port", "80"];
    let tracer = start_tracer(&net.a, &args);
    let ifindex: u32 = net
        .a
        .sh("cat /sys/class/net/veth-a/ifindex")
        .trim()
        .parse()
        .unwrap();
    // The flags the kernel holds for veth-a (tracer_common::software_tx), 0 when none.
    let software_tx = || -> u64 {
        let out = std::process::Command::new("bpftool")
            .args(["-j", "map", "dump", "name", "SOFTWARE_TX"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("formatted"))
            .find(|f| f.get("key").and_then(|k| k.as_u64()) == Some(ifindex as u64))
            .and_then(|f| f.get("value")?.as_u64())
            .unwrap_or(0)
    };
    let checksums = tracer_common::software_tx::CHECKSUMS as u64;
    assert_eq!(
        software_tx() & checksums,
        0,
        "checksums offloaded, yet the kernel captures veth-a's packets whole for them"
    );
    net.a.sh("ethtool -K veth-a tx off >/dev/null");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while software_tx() & checksums == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the kernel's SOFTWARE_TX map did not follow `ethtool -K veth-a tx off` within 5 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let tcpdump = start_tcpdump(&net.a, &args);
    net.a.sh(V4_PAGES);
    let (d, t) = stop_captures(vec![tcpdump], vec![tracer]);
    assert_same_as_tcpdump(&t[0].out, &d[0].out, TOLERANCE_US);
}

#[test]
fn only_same_microsecond_packets_going_opposite_ways_may_print_in_either_order() {
    let a = "12:00:00.000010 IP 10.0.0.1.5 > 10.0.0.2.80: Flags [.], ack 2, win 1, length 0";
    let b = "12:00:00.000010 IP 10.0.0.2.80 > 10.0.0.1.5: Flags [.], ack 2, win 1, length 0";
    let c = "12:00:00.000011 IP 10.0.0.2.80 > 10.0.0.1.5: Flags [F.], seq 1, win 1, length 0";
    let same_way = "12:00:00.000010 IP 10.0.0.1.5 > 10.0.0.2.80: Flags [P.], seq 1:2, length 1";
    let lines = |v: &[&str]| v.join("\n");
    // Swapped: accepted, and the rest still checked.
    assert_same_as_tcpdump(&lines(&[b, a, c]), &lines(&[a, b, c]), 5);
    let refused = |ours: &[&str], theirs: &[&str]| {
        let (o, t) = (lines(ours), lines(theirs));
        std::panic::catch_unwind(|| assert_same_as_tcpdump(&o, &t, 5)).is_err()
    };
    // Another microsecond, or the same way: the order is tcpdump's.
    assert!(refused(&[c, b], &[b, c]));
    assert!(refused(&[same_way, a], &[a, same_way]));
    // A swap does not excuse a different packet.
    assert!(refused(&[b, a, a], &[a, b, c]));
}
