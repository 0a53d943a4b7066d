//! The TCP sockets of this network namespace, as `ss` lists them: a netlink `sock_diag`
//! dump (`SOCK_DIAG_BY_FAMILY`, every state, IPv4 and IPv6), and the processes holding them
//! (`/proc/PID/fd` links to `socket:[INODE]`, as `ss -p` finds them).

use std::{
    collections::HashMap,
    fs, io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
};

pub use tracer_common::tcp_state::{name as state_name, NAMES as STATE_NAMES};

/// This namespace's interface addresses, as (4 or 6, address with IPv4 in the first four
/// bytes); empty if they cannot be listed.
pub fn local_addresses() -> Vec<(u8, [u8; 16])> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut p = list;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() {
            let mut a = [0u8; 16];
            // SAFETY: ifa_addr points to a sockaddr of the family it names.
            match i32::from(unsafe { (*ifa.ifa_addr).sa_family }) {
                libc::AF_INET => {
                    let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                    a[..4].copy_from_slice(&sin.sin_addr.s_addr.to_ne_bytes());
                    out.push((4, a));
                }
                libc::AF_INET6 => {
                    let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                    a = sin6.sin6_addr.s6_addr;
                    out.push((6, a));
                }
                _ => {}
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: the list getifaddrs allocated, freed once.
    unsafe { libc::freeifaddrs(list) };
    out
}

/// One socket of the dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    /// 4 or 6.
    pub family: u8,
    pub state: u8,
    /// IPv4 in the first four bytes.
    pub local: [u8; 16],
    pub local_port: u16,
    pub remote: [u8; 16],
    pub remote_port: u16,
    pub inode: u32,
}

const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_DONE: u16 = 3;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const IPPROTO_TCP: u8 = 6;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Every TCP socket of this network namespace.
pub fn tcp_sockets() -> io::Result<Vec<Socket>> {
    let mut out = Vec::new();
    for family in [AF_INET, AF_INET6] {
        dump(family, &mut out)?;
    }
    Ok(out)
}

fn dump(family: u8, out: &mut Vec<Socket>) -> io::Result<()> {
    // SAFETY: plain syscall; the fd is owned below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // nlmsghdr (16) + inet_diag_req_v2 (56).
    let mut req = [0u8; 72];
    req[0..4].copy_from_slice(&72u32.to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    req[16] = family;
    req[17] = IPPROTO_TCP;
    // Every state.
    req[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
    // SAFETY: sending our buffer on our socket.
    let sent = unsafe {
        libc::send(
            sock.as_raw_fd(),
            req.as_ptr() as *const libc::c_void,
            req.len(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: receiving into our buffer.
        let n = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n == 0 {
            return Ok(());
        }
        let mut o = 0;
        while o + 16 <= n {
            let len = u32::from_ne_bytes(buf[o..o + 4].try_into().unwrap()) as usize;
            let ty = u16::from_ne_bytes(buf[o + 4..o + 6].try_into().unwrap());
            if len < 16 || o + len > n {
                return Ok(());
            }
            match ty {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR => {
                    let errno = i32::from_ne_bytes(buf[o + 16..o + 20].try_into().unwrap());
                    return Err(io::Error::from_raw_os_error(-errno));
                }
                SOCK_DIAG_BY_FAMILY => {
                    if let Some(s) = parse_msg(&buf[o + 16..o + len]) {
                        out.push(s);
                    }
                }
                _ => {}
            }
            o += (len + 3) & !3;
        }
    }
}

/// An `inet_diag_msg`.
fn parse_msg(m: &[u8]) -> Option<Socket> {
    if m.len() < 72 {
        return None;
    }
    let family = match m[0] {
        AF_INET => 4,
        AF_INET6 => 6,
        _ => return None,
    };
    let mut local = [0u8; 16];
    let mut remote = [0u8; 16];
    local.copy_from_slice(&m[8..24]);
    remote.copy_from_slice(&m[24..40]);
    if family == 4 {
        local[4..].fill(0);
        remote[4..].fill(0);
    }
    Some(Socket {
        family,
        state: m[1],
        local,
        local_port: u16::from_be_bytes([m[4], m[5]]),
        remote,
        remote_port: u16::from_be_bytes([m[6], m[7]]),
        inode: u32::from_ne_bytes(m[68..72].try_into().unwrap()),
    })
}

/// Sockets per state.
pub fn count_states(sockets: &[Socket]) -> [u64; 13] {
    let mut c = [0u64; 13];
    for s in sockets {
        if let Some(n) = c.get_mut(s.state as usize) {
            *n += 1;
        }
    }
    c
}

/// A process holding a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub comm: String,
    /// Its cgroup (v2) path.
    pub cgroup: Option<String>,
}

/// The process holding each socket inode (the first one found, as `ss -p` lists it first).
pub fn socket_holders() -> HashMap<u32, Holder> {
    let mut out = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let mut holder: Option<Holder> = None;
        for fd in fds.flatten() {
            let Ok(link) = fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = link
                .to_str()
                .and_then(|l| l.strip_prefix("socket:["))
                .and_then(|l| l.strip_suffix(']'))
                .and_then(|l| l.parse::<u32>().ok())
            else {
                continue;
            };
            let h = holder.get_or_insert_with(|| Holder {
                pid,
                comm: fs::read_to_string(p.path().join("comm"))
                    .map(|c| c.trim_end().to_string())
                    .unwrap_or_default(),
                cgroup: cgroup_of(pid),
            });
            out.entry(inode).or_insert_with(|| h.clone());
        }
    }
    out
}

/// A process's cgroup v2 path (`0::/path` in /proc/PID/cgroup).
pub fn cgroup_of(pid: u32) -> Option<String> {
    let s = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

/// cgroup v2 paths by id (the id is the cgroup directory's inode number).
#[derive(Default)]
pub struct CgroupNames {
    known: HashMap<u64, Option<String>>,
}

impl CgroupNames {
    /// The path of cgroup `id` under /sys/fs/cgroup (looked up once; rescanned on a miss).
    pub fn path(&mut self, id: u64) -> Option<&str> {
        if !self.known.contains_key(&id) {
            let mut found = HashMap::new();
            scan_cgroups(std::path::Path::new("/sys/fs/cgroup"), "", 0, &mut found);
            for (k, v) in found {
                self.known.insert(k, Some(v));
            }
            self.known.entry(id).or_insert(None);
        }
        self.known.get(&id).and_then(|p| p.as_deref())
    }
}

fn scan_cgroups(dir: &std::path::Path, rel: &str, depth: u32, out: &mut HashMap<u64, String>) {
    use std::os::unix::fs::MetadataExt;
    if depth > 16 {
        return;
    }
    if let Ok(m) = fs::metadata(dir) {
        out.insert(
            m.ino(),
            if rel.is_empty() {
                "/".to_string()
            } else {
                rel.to_string()
            },
        );
    }
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            let name = e.file_name();
            let name = name.to_string_lossy();
            scan_cgroups(&e.path(), &format!("{rel}/{name}"), depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listening_socket_of_this_process_is_listed_with_its_holder() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let socks = tcp_sockets().unwrap();
        let s = socks
            .iter()
            .find(|s| s.local_port == port && s.state == 10)
            .expect("the listener");
        assert_eq!((s.family, &s.local[..4]), (4, &[127, 0, 0, 1][..]));
        let holders = socket_holders();
        assert_eq!(
            holders.get(&s.inode).map(|h| h.pid),
            Some(std::process::id())
        );
        assert!(count_states(&socks)[10] >= 1);
        assert_eq!(state_name(10), "LISTEN");
        assert_eq!(state_name(200), "UNKNOWN");
    }
}
