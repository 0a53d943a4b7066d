//! Network interfaces: which exist, which tcpdump would pick by default, and their names.

use std::{collections::HashMap, ffi::CStr, fs, path::Path};

/// ARPHRD_ETHER: Ethernet framing (veth, physical NICs, bridges).
pub const ARPHRD_ETHER: u16 = 1;
/// ARPHRD_LOOPBACK: `lo`, which also carries (all-zero) Ethernet headers.
pub const ARPHRD_LOOPBACK: u16 = 772;

/// Hardware types whose frames start at the IP header, which libpcap captures as
/// LINKTYPE_RAW: ARPHRD_NONE (tun, WireGuard), ARPHRD_RAWIP, ARPHRD_TUNNEL (ipip),
/// ARPHRD_TUNNEL6 (ip6tnl), ARPHRD_SIT.
pub const ARPHRD_LAYER3: [u16; 5] = [65534, 519, 768, 769, 776];

const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_RUNNING: u32 = 0x40;

/// One interface as `/sys/class/net` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    flags: u32,
    /// ARPHRD_* hardware type.
    pub hw_type: u16,
}

impl Interface {
    /// An interface described by hand (`flags` as `/sys/class/net/*/flags`): what the fuzz
    /// targets and tests hand the record decoder instead of a real device.
    pub fn new(name: &str, index: u32, flags: u32, hw_type: u16) -> Interface {
        Interface {
            name: name.to_string(),
            index,
            flags,
            hw_type,
        }
    }

    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    pub fn is_running(&self) -> bool {
        self.flags & IFF_RUNNING != 0
    }

    pub fn is_loopback(&self) -> bool {
        self.flags & IFF_LOOPBACK != 0
    }

    /// Frames on this interface start with an Ethernet header (what the kernel programs parse).
    pub fn has_ethernet_framing(&self) -> bool {
        self.hw_type == ARPHRD_ETHER || self.hw_type == ARPHRD_LOOPBACK
    }

    /// Frames on this interface start at the IP header (tun and other layer-3 devices).
    pub fn is_layer3(&self) -> bool {
        ARPHRD_LAYER3.contains(&self.hw_type)
    }

    /// tracer can capture on it.
    pub fn is_supported(&self) -> bool {
        self.has_ethernet_framing() || self.is_layer3()
    }

    /// Reads one interface by name.
    pub fn by_name(name: &str) -> Option<Interface> {
        read_interface(&Path::new("/sys/class/net").join(name), name)
    }
}

fn read_number(dir: &Path, file: &str) -> Option<u32> {
    let s = fs::read_to_string(dir.join(file)).ok()?;
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn read_interface(dir: &Path, name: &str) -> Option<Interface> {
    Some(Interface {
        name: name.to_string(),
        index: read_number(dir, "ifindex")?,
        flags: read_number(dir, "flags")?,
        hw_type: read_number(dir, "type")? as u16,
    })
}

/// Every interface of this network namespace, by index.
pub fn list() -> Vec<Interface> {
    let mut all: Vec<Interface> = fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            read_interface(&e.path(), &name)
        })
        .collect();
    all.sort_by_key(|i| i.index);
    all
}

/// The interface tcpdump would capture on without `-i`: libpcap sorts up-and-running
/// interfaces first and loopback after the others; tcpdump takes the first.
pub fn default_interface() -> Option<Interface> {
    let all = list();
    let rank = |i: &Interface| (!(i.is_up() && i.is_running()), i.is_loopback());
    all.iter()
        .filter(|i| i.is_up())
        .min_by_key(|i| (rank(i), i.index))
        .cloned()
}

/// Maps interface indexes to names, remembering each answer.
#[derive(Default)]
pub struct IfNames {
    names: HashMap<u32, String>,
}

impl IfNames {
    pub fn name(&mut self, index: u32) -> &str {
        self.names.entry(index).or_insert_with(|| {
            let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
            // SAFETY: buf has IF_NAMESIZE bytes as if_indextoname requires.
            let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
            if p.is_null() {
                format!("if{index}")
            } else {
                // SAFETY: if_indextoname wrote a NUL-terminated name into buf.
                unsafe { CStr::from_ptr(buf.as_ptr()) }
                    .to_string_lossy()
                    .into_owned()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_its_type() {
        let lo = list().into_iter().find(|i| i.name == "lo").expect("lo");
        assert!(lo.is_loopback());
        assert_eq!(lo.hw_type, ARPHRD_LOOPBACK);
        assert!(lo.has_ethernet_framing());
        assert_eq!(IfNames::default().name(lo.index), "lo");
    }

    #[test]
    fn unknown_index_gets_a_placeholder_name() {
        assert_eq!(IfNames::default().name(999_999), "if999999");
    }
}
