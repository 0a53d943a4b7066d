//! One captured packet, as every part of the tracer sees it: the kernel ring records and pcap
//! files both become a [`Packet`], and one printer and one filter work on that.

/// When the packet was captured: wall-clock seconds and nanoseconds since the Unix epoch.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub sec: i64,
    /// Below 1e9: a classic pcap record's fraction of a second or more is carried into `sec`.
    pub nsec: u32,
    /// The time as tcpdump sees it, when that is not `sec`/`nsec`: set for a classic pcap
    /// record whose fraction is a second or more, or whose seconds do not fit in 31 bits
    /// (libpcap's `struct pcap_timeval` holds them as signed 32-bit numbers). tcpdump prints
    /// that time as it is (`12:00:00.1500000`) and takes its deltas (`-ttt`) from it.
    pub tv: Option<Timeval>,
}

/// A `struct timeval` as libpcap hands it to tcpdump: seconds and microseconds, either
/// possibly out of range (negative, or a microsecond count of a second or more).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

impl Timestamp {
    /// A timestamp from seconds and nanoseconds below one second.
    pub const fn new(sec: i64, nsec: u32) -> Timestamp {
        Timestamp {
            sec,
            nsec,
            tv: None,
        }
    }

    pub fn from_nanos(ns: i128) -> Timestamp {
        Timestamp::new(
            ns.div_euclid(1_000_000_000) as i64,
            ns.rem_euclid(1_000_000_000) as u32,
        )
    }

    /// The timestamp of a classic pcap record header: its seconds and its fraction, in
    /// microseconds or (`nanos`) nanoseconds, as the file holds them.
    pub fn from_pcap_record(sec: u32, frac: u32, nanos: bool) -> Timestamp {
        let (per_sec, unit) = if nanos {
            (1_000_000_000, 1)
        } else {
            (1_000_000, 1000)
        };
        // A fraction of a second or more is carried into the seconds, not kept out of range.
        let mut ts = Timestamp::new(
            i64::from(sec) + i64::from(frac / per_sec),
            (frac % per_sec) * unit,
        );
        if frac >= per_sec || sec >= 0x8000_0000 {
            // libpcap reads both as signed 32-bit numbers, and scales nanoseconds down to
            // microseconds for tcpdump by a signed division.
            let f = i64::from(frac as i32);
            ts.tv = Some(Timeval {
                sec: i64::from(sec as i32),
                usec: if nanos { f / 1000 } else { f },
            });
        }
        ts
    }

    pub fn as_nanos(&self) -> i128 {
        self.sec as i128 * 1_000_000_000 + self.nsec as i128
    }
}

/// The link-layer header the packet bytes start with (pcap LINKTYPE_* values).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1): 14-byte Ethernet header, maybe 802.1Q tags.
    Ethernet,
    /// LINKTYPE_NULL (0): BSD loopback, a 4-byte address family (2 IPv4; 24, 28 or 30 IPv6)
    /// in the byte order of the host that captured, which libpcap's filter takes to be
    /// the file's (`big_endian`); tcpdump's printer guesses it from the value.
    Null { big_endian: bool },
    /// LINKTYPE_LOOP (108): OpenBSD loopback, the address family in network byte order.
    Loop,
    /// LINKTYPE_RAW (101): the packet starts at the IPv4 or IPv6 header.
    Raw,
    /// LINKTYPE_IPV4 (228): raw IPv4 only.
    Ipv4,
    /// LINKTYPE_IPV6 (229): raw IPv6 only.
    Ipv6,
    /// LINKTYPE_PPP (9): PPP, address and control (maybe compressed away) and protocol.
    Ppp,
    /// LINKTYPE_PPP_HDLC (50, `PPP_SERIAL`): PPP in HDLC-like framing, or Cisco HDLC.
    PppHdlc,
    /// LINKTYPE_C_HDLC (104): Cisco HDLC, address, control and an ethertype.
    CHdlc,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1, 16-byte header.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2, 20-byte header (`-i any`).
    LinuxSll2,
}

impl LinkType {
    /// The pcap LINKTYPE_* number.
    pub fn linktype(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::Null { .. } => 0,
            LinkType::Loop => 108,
            LinkType::Raw => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Ppp => 9,
            LinkType::PppHdlc => 50,
            LinkType::CHdlc => 104,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
        }
    }

    /// The link type of a pcap LINKTYPE_* number, if the tracer reads it; NULL's family is
    /// taken to be in this host's byte order (see [`LinkType::from_linktype_in`]).
    /// DLT_RAW's platform values 12 and 14 are read as RAW, like libpcap does.
    pub fn from_linktype(v: u32) -> Option<LinkType> {
        LinkType::from_linktype_in(v, cfg!(target_endian = "big"))
    }

    /// [`LinkType::from_linktype`] for a file (or pcapng section) in this byte order.
    pub fn from_linktype_in(v: u32, big_endian: bool) -> Option<LinkType> {
        Some(match v {
            1 => LinkType::Ethernet,
            0 => LinkType::Null { big_endian },
            108 => LinkType::Loop,
            101 | 12 | 14 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            9 => LinkType::Ppp,
            50 => LinkType::PppHdlc,
            104 => LinkType::CHdlc,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }
}

/// A captured packet borrowed from a ring record or a file buffer.
#[derive(Copy, Clone, Debug)]
pub struct Packet<'a> {
    pub ts: Timestamp,
    pub link: LinkType,
    /// The captured bytes, starting at the link-layer header.
    pub data: &'a [u8],
    /// Length of the packet on the wire (pcap's `len`); `data.len()` is the captured length.
    pub wire_len: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_record_times_keep_what_tcpdump_sees() {
        let ok = Timestamp::from_pcap_record(1_700_000_000, 999_999, false);
        assert_eq!(ok, Timestamp::new(1_700_000_000, 999_999_000));
        let us = Timestamp::from_pcap_record(1_700_000_000, 1_500_000, false);
        assert_eq!((us.sec, us.nsec), (1_700_000_001, 500_000_000));
        assert_eq!(
            us.tv,
            Some(Timeval {
                sec: 1_700_000_000,
                usec: 1_500_000
            })
        );
        // libpcap's signed 32-bit fields, and its signed division of nanoseconds.
        let neg = Timestamp::from_pcap_record(5, u32::MAX, false);
        assert_eq!(neg.tv, Some(Timeval { sec: 5, usec: -1 }));
        let ns = Timestamp::from_pcap_record(5, 3_000_000_000, true);
        assert_eq!(
            ns.tv,
            Some(Timeval {
                sec: 5,
                usec: -1_294_967
            })
        );
        let late = Timestamp::from_pcap_record(0x8000_0005, 7, false);
        assert_eq!((late.sec, late.nsec), (0x8000_0005, 7_000));
        assert_eq!(
            late.tv,
            Some(Timeval {
                sec: -0x7fff_fffb,
                usec: 7
            })
        );
    }

    #[test]
    fn link_types_round_trip_their_numbers() {
        for v in [0, 1, 9, 50, 101, 104, 108, 113, 228, 229, 276] {
            assert_eq!(LinkType::from_linktype(v).unwrap().linktype(), v);
        }
        assert_eq!(LinkType::from_linktype(12), Some(LinkType::Raw));
        assert_eq!(
            LinkType::from_linktype_in(0, true),
            Some(LinkType::Null { big_endian: true })
        );
        assert_eq!(LinkType::from_linktype(117), None);
    }
}
