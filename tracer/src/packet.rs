//! One captured packet, as every part of the tracer sees it: the kernel ring records and pcap
//! files both become a [`Packet`], and one printer and one filter work on that.

/// When the packet was captured: wall-clock seconds and nanoseconds since the Unix epoch.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub sec: i64,
    pub nsec: u32,
}

impl Timestamp {
    pub fn from_nanos(ns: i128) -> Timestamp {
        Timestamp {
            sec: ns.div_euclid(1_000_000_000) as i64,
            nsec: ns.rem_euclid(1_000_000_000) as u32,
        }
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
    /// LINKTYPE_RAW (101): the packet starts at the IPv4 or IPv6 header.
    Raw,
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
            LinkType::Raw => 101,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
        }
    }

    /// The link type of a pcap LINKTYPE_* number, if the tracer reads it.
    /// DLT_RAW's platform values 12 and 14 are read as RAW, like libpcap does.
    pub fn from_linktype(v: u32) -> Option<LinkType> {
        Some(match v {
            1 => LinkType::Ethernet,
            101 | 12 | 14 => LinkType::Raw,
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
