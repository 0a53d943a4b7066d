//! The capture file formats, libpcap's snapshot length limit and the link-type names.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The snapshot length tcpdump uses by default and libpcap's sanity limit for captured lengths.
pub const MAX_SNAPLEN: u32 = 262_144;

/// A capture file format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Classic pcap with microsecond timestamps (magic a1b2c3d4), what `tcpdump -w` writes.
    Pcap,
    /// Classic pcap with nanosecond timestamps (magic a1b23c4d).
    PcapNanos,
    /// pcapng (writes nanosecond timestamps, `if_tsresol` 9, so no precision is lost).
    Pcapng,
}

impl Format {
    /// The format a `-w` file name asks for: pcapng for `.pcapng`/`.ntar` (any case), else the
    /// classic pcap tcpdump writes.
    pub fn from_path(path: impl AsRef<Path>) -> Format {
        let ext = path.as_ref().extension().and_then(|e| e.to_str());
        match ext {
            Some(e) if e.eq_ignore_ascii_case("pcapng") || e.eq_ignore_ascii_case("ntar") => {
                Format::Pcapng
            }
            _ => Format::Pcap,
        }
    }

    /// The format's name as [`FromStr`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNanos => "pcap-ns",
            Format::Pcapng => "pcapng",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    /// Parses a format flag: `pcap`, `pcap-ns` (or `nsecpcap`, editcap's name) or `pcapng`.
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "pcap" => Ok(Format::Pcap),
            "pcap-ns" | "nsecpcap" => Ok(Format::PcapNanos),
            "pcapng" => Ok(Format::Pcapng),
            _ => Err(format!(
                "unknown capture format {s:?} (expected pcap, pcap-ns or pcapng)"
            )),
        }
    }
}

/// libpcap's name and description of a LINKTYPE_* number, as tcpdump prints them in
/// `reading from file F, link-type EN10MB (Ethernet), ...`; `None` where tcpdump prints the
/// bare number.
pub fn linktype_name(linktype: u32) -> Option<(&'static str, &'static str)> {
    Some(match linktype {
        0 => ("NULL", "BSD loopback"),
        1 => ("EN10MB", "Ethernet"),
        6 => ("IEEE802", "Token ring"),
        9 => ("PPP", "PPP"),
        10 => ("FDDI", "FDDI"),
        12 | 101 => ("RAW", "Raw IP"),
        50 => ("PPP_SERIAL", "PPP over serial"),
        100 => ("ATM_RFC1483", "RFC 1483 LLC-encapsulated ATM"),
        104 => ("C_HDLC", "Cisco HDLC"),
        105 => ("IEEE802_11", "802.11"),
        108 => ("LOOP", "OpenBSD loopback"),
        113 => ("LINUX_SLL", "Linux cooked v1"),
        117 => ("PFLOG", "OpenBSD pflog file"),
        127 => ("IEEE802_11_RADIO", "802.11 plus radiotap header"),
        143 => ("DOCSIS", "DOCSIS"),
        189 => ("USB_LINUX", "USB with Linux header"),
        192 => ("PPI", "Per-Packet Information"),
        195 => ("IEEE802_15_4", "IEEE 802.15.4 with FCS"),
        220 => ("USB_LINUX_MMAPPED", "USB with padded Linux header"),
        228 => ("IPV4", "Raw IPv4"),
        229 => ("IPV6", "Raw IPv6"),
        239 => ("NFLOG", "Linux netfilter log messages"),
        249 => ("USBPCAP", "USB with USBPcap header"),
        253 => ("NETLINK", "Linux netlink"),
        276 => ("LINUX_SLL2", "Linux cooked v2"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_path_picks_pcapng_by_extension() {
        assert_eq!(Format::from_path("x.pcapng"), Format::Pcapng);
        assert_eq!(Format::from_path("/tmp/X.PCAPNG"), Format::Pcapng);
        assert_eq!(Format::from_path("x.ntar"), Format::Pcapng);
        assert_eq!(Format::from_path("x.pcap"), Format::Pcap);
        assert_eq!(Format::from_path("-"), Format::Pcap);
        assert_eq!(Format::from_path("pcapng"), Format::Pcap);
    }

    #[test]
    fn format_parses_flag_names() {
        for f in [Format::Pcap, Format::PcapNanos, Format::Pcapng] {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
        }
        assert_eq!("nsecpcap".parse::<Format>(), Ok(Format::PcapNanos));
        assert!("erf".parse::<Format>().is_err());
    }

    #[test]
    fn linktype_names_match_tcpdump() {
        assert_eq!(linktype_name(1), Some(("EN10MB", "Ethernet")));
        assert_eq!(linktype_name(276), Some(("LINUX_SLL2", "Linux cooked v2")));
        assert_eq!(linktype_name(14), None);
    }
}
