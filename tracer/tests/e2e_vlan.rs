//! 802.1Q on a live interface. This kernel has no 8021q module (no VLAN devices), so tagged
//! frames are injected with a raw packet socket: from the peer (they arrive through XDP with
//! the tag in the frame, and the kernel moves it to metadata before libpcap sees them), and
//! from the traced end (they leave through TC egress with the tag in the frame).

mod common;

use std::time::Duration;

use common::*;

/// Sends tagged TCP SYNs: `inject.py IFACE DST_MAC SRC_MAC SRC_IP DST_IP FIRST_SPORT DPORT N`.
const INJECT: &str = r#"
import socket, struct, sys
iface, dmac, smac, sip, dip, sport, dport, n = sys.argv[1:9]
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src, dst = socket.inet_aton(sip), socket.inet_aton(dip)
for i in range(int(n)):
    tcp = struct.pack('!HHIIBBHHH', int(sport) + i, int(dport), 1000 + i, 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack('!H', csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 7 + i, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    eth = bytes.fromhex(dmac.replace(':', '')) + bytes.fromhex(smac.replace(':', '')) + struct.pack('!HHH', 0x8100, (3 << 13) | 5, 0x0800)
    s.send(eth + ip + tcp)
"#;

fn inject(ns: &NetNs, iface: &str, dmac: &str, smac: &str, sip: &str, dip: &str, sport: u16) {
    ns.sh(&format!(
        "python3 -c \"$INJECT\" {iface} {dmac} {smac} {sip} {dip} {sport} 7777 3",
    ));
}

#[test]
fn tagged_frames_print_like_tcpdump_with_link_headers() {
    let Some(_serial) = privileged(&["tcpdump", "python3", "ethtool"]) else {
        return;
    };
    std::env::set_var("INJECT", INJECT);
    let net = VethPair::new("vlan");
    // Unfiltered: every tagged TCP frame, in both directions.
    let mut tracer_all = start_tracer(&net.a, &["-i", "veth-a", "-nn", "-e"]);
    let mut tcpdump_all = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "-e", "vlan or tcp"]);
    // Filtered: live libpcap matches received tagged frames (the tag is metadata by then)
    // but not sent ones (the tag is still in the frame); tracer must select the same.
    let mut tracer_port = start_tracer(&net.a, &["-i", "veth-a", "-nn", "-e", "port", "7777"]);
    let mut tcpdump_port = start_tcpdump(&net.a, &["-i", "veth-a", "-nn", "-e", "port", "7777"]);

    let (a, b) = ("02:77:00:00:00:01", "02:77:00:00:00:02");
    inject(&net.b, "veth-b", a, b, "10.77.5.2", "10.77.5.1", 40001);
    std::thread::sleep(Duration::from_millis(100));
    inject(&net.a, "veth-a", b, a, "10.77.5.1", "10.77.5.2", 40011);
    drain(
        &mut [&mut tcpdump_all, &mut tcpdump_port],
        &mut [&mut tracer_all, &mut tracer_port],
    );

    let (_, dump_all, _) = tcpdump_all.interrupt(Duration::from_secs(5));
    let (_, dump_port, _) = tcpdump_port.interrupt(Duration::from_secs(5));
    let (s1, out_all, e1) = tracer_all.interrupt(Duration::from_secs(5));
    let (s2, out_port, e2) = tracer_port.interrupt(Duration::from_secs(5));
    assert!(s1.success() && s2.success(), "{e1}\n{e2}");

    assert_eq!(packets(&dump_all).len(), 6, "{dump_all}");
    assert!(
        dump_all.contains("vlan 5, p 3, ethertype IPv4"),
        "{dump_all}"
    );
    assert_same_as_tcpdump(&out_all, &dump_all, 1000);
    assert_eq!(packets(&dump_port).len(), 3, "{dump_port}");
    assert_same_as_tcpdump(&out_port, &dump_port, 1000);
}
