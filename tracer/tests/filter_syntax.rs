//! The grammar against real tcpdump: an expression tcpdump compiles (`tcpdump -d`) must
//! parse here or be refused as "not supported by tracer"; one tcpdump refuses must be
//! refused here too. Every error is one line that names a column.

mod support;

use std::process::Command;
use tracer::filter::{Filter, FilterError};

const EXPRESSIONS: &[&str] = &[
    // Primitives and qualifiers.
    "",
    "tcp",
    "ip",
    "ip6",
    "ip and tcp",
    "ip6 and tcp",
    "host 10.0.0.1",
    "src host 10.0.0.1",
    "dst host 10.0.0.1",
    "src or dst host 10.0.0.1",
    "dst or src host 10.0.0.1",
    "src and dst host 10.0.0.1",
    "dst and src host 10.0.0.1",
    "src 10.0.0.1",
    "dst 80",
    "ip src 10.0.0.1",
    "ip host 10.0.0.1",
    "ip6 host fd77::1",
    "ip6 src net fd77::/16",
    "host ::1",
    "host ::ffff:1.2.3.4",
    "net 10",
    "net 10.0",
    "net 1.2.3",
    "host 10.0",
    "host 300",
    "host 010.0.0.1",
    "net 10.0.0.0/8",
    "net 10.0.0.0 mask 255.0.0.0",
    "net 10.0 mask 255.255.0.0",
    "net fd77::/16",
    "net 0.0.0.0/0",
    "net loopback",
    "port 80",
    "port 0x50",
    "port 0120",
    "src port 80",
    "tcp port 80",
    "tcp src port 80",
    "tcp src or dst port 80",
    "src and dst port 80",
    "port http",
    "port domain",
    "tcp port domain",
    "portrange 80-90",
    "portrange 30-20",
    "portrange 80",
    "portrange http-8080",
    "portrange bootps-80",
    "tcp portrange bootps-80",
    "dst portrange 1-1023",
    "host localhost",
    "ip host localhost",
    "less 100",
    "greater 100",
    "less tcp-syn",
    "less icmp6-echo",
    "len <= 100",
    "len >= 100 and len < 200",
    "tcp[13] & 2 != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[tcpflags]&tcp-syn!=0",
    "tcp[13] == 2",
    "tcp[13]=2",
    "tcp [13] = 2",
    "tcp[13:1] = 2",
    "tcp[(13)] = 2",
    "tcp[12+1] = 2",
    "0x12 & tcp[13] = 0x12",
    "tcp[13] > 0x10",
    "(tcp[13] & 2) != 0",
    "((tcp[13] & 2)) != 0",
    "(tcp[13] & 2 != 0)",
    "(tcp[13]) & 2 != 0",
    "1 = 1",
    "(2) = 2",
    "2 ^ 3 & 1 = 3",
    "6 ^ 3 | 1 = 5",
    // Precedence and qualifier abbreviation.
    "not tcp",
    "! tcp",
    "not not tcp",
    "port 80 or port 443 and host 10.0.0.1",
    "port 80 and (port 443 or host 10.0.0.1)",
    "port 80 && port 443 || less 60",
    "host 1.2.3.4 or 1.2.3.5",
    "host 1.2.3.4 and not 1.2.3.5",
    "host 1.2.3.4 and not not 1.2.3.5",
    "host 1.2.3.4 and not (1.2.3.5)",
    "not host 1.2.3.4 or 1.2.3.5",
    "(host 1.2.3.4 or 1.2.3.5)",
    "host 1.2.3.4 or (1.2.3.5 or (1.2.3.6))",
    "host 1.2.3.4 or (1.2.3.5 or 1.2.3.6 and 1.2.3.7)",
    "host 1.2.3.4 and ((tcp) or 1.2.3.5)",
    "host 1.2.3.4 or (not 1.2.3.5)",
    "host not 1.2.3.4",
    "port 80 or 443",
    "port 80 or 443 or less 100",
    "port (80)",
    "port ((80))",
    "port (80 or 443)",
    "port ((80) or 443)",
    "port (80 or (443))",
    "port 80 or (443)",
    "port 80 or (443 and 8080)",
    "port 80 or (443) and 8080",
    "port 80 or (port 443) or 8080",
    "port 80 or not 443 and 8080",
    "port 80 or 2 = 2",
    "port 80 or (2) = 2",
    "port 80 or 2 + 1 = 3",
    "tcp dst port 80 or 443",
    "src host 1.2.3.4 and dst 1.2.3.5",
    "ip src host 1.2.3.4 or 1.2.3.5",
    "tcp and (port 80 or 8080)",
    "host 1.2.3.4 or not (tcp)",
    "(tcp[13] & 2) != 0 and port 80",
    "port 80 or tcp[13] = 2",
    "host \\1.2.3.4",
    // tcpdump refuses these.
    "80",
    "host",
    "port 80 and",
    "not",
    "()",
    "(port 80",
    "port 80)",
    "tcp or 80",
    "port 80 and tcp or 443",
    "(host 1.2.3.4) or 1.2.3.5",
    "not (port 80) or 443",
    "len > 100 or 200",
    "tcp[13] & 2 != 0 or 80",
    "host 1.2.3.4 or ((1.2.3.5))",
    "host 1.2.3.4 or (1.2.3.5 and tcp)",
    "host 1.2.3.4 and (tcp or 1.2.3.5)",
    "host 1.2.3.4 and (not tcp or 1.2.3.5)",
    "host 1.2.3.4 ! 1.2.3.5",
    "ip 10.0.0.1",
    "net 10/8",
    "net 10 mask 255.0.0.0",
    "host fd77::1 mask ffff::",
    "less (100)",
    "len",
    "tcp[13]",
    "tcp[13] & 2",
    "tcp[14-1] = 2",
    "tcp-syn",
    "tcp host 1.2.3.4",
    "tcp net 10.0.0.0/8",
    "ip port 80",
    "ip6 host 1.2.3.4",
    "ip host fd77::1",
    "ip6 host localhost",
    "port 1.2.3.4",
    "port fd77::1",
    "portrange 1.2.3.4",
    "port 70000",
    "portrange 70000-70001",
    "portrange 20--30",
    "port 089",
    "port 0x",
    "port 80and",
    "port nosuchport",
    "tcp port bootps",
    "host foo.invalid",
    "host 256.1.1.1",
    "host 0x7f.0.0.1",
    "host 1.2.3.4.5",
    "host 4294967296",
    "net 10.1.2.3/8",
    "net 10.0.0.0/33",
    "net fd77::1/16",
    "net fd77::/129",
    "host 10.0.0.0/8",
    "src 10.0.0.0/8",
    "host fd77::/16",
    "host 1::2::3",
    "2/0 = 1",
    "1 << 32 = 0",
    "tcp[13:3] = 1",
    "port 80 # comment",
    // tcpdump compiles these; tracer refuses them as not supported.
    "udp",
    "icmp",
    "arp",
    "udp port 53",
    "ether host 1:2:3:4:5:6",
    "host 1:2:3:4:5:6",
    "vlan",
    "vlan and tcp",
    "mpls",
    "ip proto 6",
    "proto 6",
    "ip[0] = 0x45",
    "ether[0] = 1",
    "tcp[13:2] & 1 = 1",
    "tcp[0:2] = 80",
    "len - 14 > 50",
    "len = len",
    "tcp[13] & tcp[13] = 2",
    "broadcast",
    "inbound",
    "port bootps",
    "portrange bootps-ntp",
];

fn tcpdump_accepts(expr: &str) -> Option<(bool, String)> {
    let out = Command::new("tcpdump")
        .args(["-d", "--", expr])
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    Some((out.status.success(), err))
}

#[test]
fn grammar_agrees_with_tcpdump() {
    if !support::require_tool("tcpdump") {
        return;
    }
    let mut bad = Vec::new();
    let (mut same, mut unsupported) = (0, 0);
    for expr in EXPRESSIONS {
        let Some((theirs, why)) = tcpdump_accepts(expr) else {
            continue;
        };
        let ours = Filter::parse(expr);
        match (&ours, theirs) {
            (Ok(_), true) | (Err(_), false) => same += 1,
            (Err(FilterError::Unsupported { .. }), true) => unsupported += 1,
            _ => bad.push(format!(
                "'{expr}': tcpdump {} ({}), tracer {:?}",
                if theirs { "accepts" } else { "refuses" },
                why.lines().last().unwrap_or(""),
                ours.as_ref().map(|f| f.to_string()),
            )),
        }
        if let Err(e) = &ours {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.starts_with("filter: "), "{text}");
            let located =
                matches!(e, FilterError::RejectsAll { .. }) || text.contains(" at column ");
            assert!(located, "{text}");
        }
    }
    println!(
        "{} expressions: {same} decided alike, {unsupported} refused as not supported",
        EXPRESSIONS.len()
    );
    assert!(bad.is_empty(), "disagreements:\n{}", bad.join("\n"));
}

#[test]
fn error_lines_point_at_the_token() {
    let e = Filter::parse("port 80 and foo").unwrap_err();
    assert_eq!(
        e.to_string(),
        "filter: unknown port 'foo' at column 13 in 'port 80 and foo'"
    );
    let e = Filter::parse("port 80 and 443 or").unwrap_err();
    assert_eq!(
        e.to_string(),
        "filter: unexpected end at column 19 in 'port 80 and 443 or': expected a primitive such as 'host', 'port', 'tcp' or 'less'"
    );
    let e = Filter::parse("tcp and udp port 53").unwrap_err();
    assert_eq!(
        e.to_string(),
        "filter: 'udp' at column 9 in 'tcp and udp port 53' is not supported by tracer: tracer only sees TCP packets, so 'udp' could never match (use 'tcp', 'host', 'port', ...)"
    );
    let e = Filter::parse("host 10.0.0.1 and less x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "filter: unexpected 'x' at column 24 in 'host 10.0.0.1 and less x': expected a number (the frame length)"
    );
}
