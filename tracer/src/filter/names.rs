//! Name lookups the way libpcap does them: host names through getaddrinfo (every address,
//! IPv4 and IPv6), port names through /etc/services, network names through /etc/networks.
//! Behind a trait so parser tests do not depend on the machine's files.

use std::net::{IpAddr, ToSocketAddrs};

/// The lookups a filter expression may need while it is parsed.
pub(crate) trait Names {
    /// Every address of a host name, in resolver order; empty if unknown.
    fn host(&self, name: &str) -> Vec<IpAddr>;
    /// The TCP and UDP ports of a service name (`getservbyname(name, "tcp"/"udp")`).
    fn service(&self, name: &str) -> (Option<u16>, Option<u16>);
    /// A network number (`getnetbyname`, host order, not left-justified).
    fn network(&self, name: &str) -> Option<u32>;
}

/// The machine's resolver and files.
pub(crate) struct SystemNames;

impl Names for SystemNames {
    fn host(&self, name: &str) -> Vec<IpAddr> {
        // std's lookup is getaddrinfo(AF_UNSPEC, SOCK_STREAM), as pcap_nametoaddrinfo's.
        let mut out: Vec<IpAddr> = Vec::new();
        if let Ok(addrs) = (name, 0u16).to_socket_addrs() {
            for a in addrs {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
        }
        out
    }

    fn service(&self, name: &str) -> (Option<u16>, Option<u16>) {
        let text = std::fs::read_to_string("/etc/services").unwrap_or_default();
        services_lookup(&text, name)
    }

    fn network(&self, name: &str) -> Option<u32> {
        let text = std::fs::read_to_string("/etc/networks").unwrap_or_default();
        networks_lookup(&text, name)
    }
}

/// No resolver, no files: every name is unknown except `localhost` and the services of a
/// short fixed table. For inputs that must not reach the network or the machine's files
/// (the fuzz targets).
pub(crate) struct FixedNames;

const FIXED_SERVICES: &str =
    "ssh 22/tcp\nhttp 80/tcp www\nhttp 80/udp\nhttps 443/tcp\ndomain 53/tcp\ndomain 53/udp\n";

impl Names for FixedNames {
    fn host(&self, name: &str) -> Vec<IpAddr> {
        match name {
            "localhost" => vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            _ => Vec::new(),
        }
    }

    fn service(&self, name: &str) -> (Option<u16>, Option<u16>) {
        services_lookup(FIXED_SERVICES, name)
    }

    fn network(&self, name: &str) -> Option<u32> {
        networks_lookup("loopnet 127\n", name)
    }
}

/// The first `name port/proto aliases...` line naming `name` (or an alias) for tcp and udp.
pub(crate) fn services_lookup(text: &str, name: &str) -> (Option<u16>, Option<u16>) {
    let (mut tcp, mut udp) = (None, None);
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(first), Some(pp)) = (words.next(), words.next()) else {
            continue;
        };
        if first != name && !words.any(|a| a == name) {
            continue;
        }
        let Some((port, proto)) = pp.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        match proto {
            "tcp" if tcp.is_none() => tcp = Some(port),
            "udp" if udp.is_none() => udp = Some(port),
            _ => {}
        }
    }
    (tcp, udp)
}

/// `getnetbyname`: the number of the first `name number aliases...` line naming `name`.
pub(crate) fn networks_lookup(text: &str, name: &str) -> Option<u32> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(first), Some(num)) = (words.next(), words.next()) else {
            continue;
        };
        if first == name || words.any(|a| a == name) {
            return inet_network(num);
        }
    }
    None
}

/// `inet_network`: up to four dot-separated parts, combined most significant first
/// (`127` is 0x7f, `169.254.0.0` is 0xa9fe0000).
fn inet_network(s: &str) -> Option<u32> {
    let mut v: u32 = 0;
    for (n, part) in s.split('.').enumerate() {
        let p = if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()?
        } else if part.len() > 1 && part.starts_with('0') {
            u32::from_str_radix(&part[1..], 8).ok()?
        } else {
            part.parse::<u32>().ok()?
        };
        if p > 255 || n == 4 {
            return None;
        }
        v = (v << 8) | p;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: &str = "\
# comment
domain\t\t53/tcp\t\t\t\t# Domain Name Server
domain\t\t53/udp
bootps\t\t67/udp
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
shell\t\t514/tcp\t\tcmd syslog\t# no passwords used
syslog\t\t514/udp
";

    #[test]
    fn services_by_name_and_alias() {
        assert_eq!(services_lookup(SERVICES, "http"), (Some(80), None));
        assert_eq!(services_lookup(SERVICES, "www"), (Some(80), None));
        assert_eq!(services_lookup(SERVICES, "domain"), (Some(53), Some(53)));
        assert_eq!(services_lookup(SERVICES, "bootps"), (None, Some(67)));
        assert_eq!(services_lookup(SERVICES, "syslog"), (Some(514), Some(514)));
        assert_eq!(services_lookup(SERVICES, "nope"), (None, None));
    }

    #[test]
    fn networks_like_getnetbyname() {
        let text = "default\t0.0.0.0\nloopback\t127.0.0.0\nshort 10 ten\n";
        assert_eq!(networks_lookup(text, "loopback"), Some(0x7f00_0000));
        assert_eq!(networks_lookup(text, "ten"), Some(10));
        assert_eq!(networks_lookup(text, "default"), Some(0));
        assert_eq!(networks_lookup(text, "nope"), None);
    }
}
