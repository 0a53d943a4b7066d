//! Host, port, interface and MAC names, as tcpdump's addrtoname.c gives them.
//!
//! * `-n` or `-nn` (tcpdump 4.99.3 treats both the same here): everything numeric. Note that
//!   tcpdump 4.99.3 skips `/etc/services` entirely as soon as `-n` is given, so `-n` prints
//!   numeric ports too (`10.0.0.1.80`), unlike older tcpdumps; this printer does the same.
//! * no `-n`: hosts are reverse-resolved through the system resolver (NSS: `/etc/hosts`,
//!   then DNS), TCP ports come from `/etc/services` (first entry for a port wins), MACs get
//!   `/etc/ethers` names or an ` (oui Vendor)` suffix.
//!
//! Host lookups never stall output for long: each address is resolved once, on a worker
//! thread. The printer waits for a new address's answer at most [`LOOKUP_BOUND`], and only
//! when the worker has nothing else queued; otherwise (or on timeout) it prints the address
//! numerically and keeps going. When a late answer arrives, later packets use the name.
//! So the worst stall is one [`LOOKUP_BOUND`] per answer the worker produces, however slow
//! the resolver is. Results are cached for the printer's lifetime.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::seq::FxBuild;
use super::tables::OUI_NAMES;
use super::write;

/// Longest time one packet waits for the reverse lookup of a new address.
pub const LOOKUP_BOUND: Duration = Duration::from_millis(100);

/// Most host answers kept; past it the cache starts over (bounded RSS under sustained load).
pub const MAX_CACHED_HOSTS: usize = 65_536;

/// Where names come from. The default, [`SystemResolver`], asks the operating system;
/// tests inject fixed tables.
pub trait Resolver: Send + Sync + 'static {
    /// Reverse lookup of a host address (`gethostbyaddr`); `None` prints it numerically.
    fn host(&self, addr: IpAddr) -> Option<String>;
    /// The service name of a TCP port (`getservent`), `None` prints the number.
    fn tcp_port(&self, port: u16) -> Option<String>;
    /// The interface name of an ifindex (`if_indextoname`), for `-i any` captures.
    fn if_name(&self, index: u32) -> Option<String>;
    /// The `/etc/ethers` name of a MAC address (`ether_ntohost`).
    fn ether(&self, _mac: [u8; 6]) -> Option<String> {
        None
    }
}

/// Names from this machine: NSS reverse lookups, `/etc/services`, `if_indextoname`,
/// `/etc/ethers`.
#[derive(Default, Clone, Copy, Debug)]
pub struct SystemResolver;

fn services() -> &'static HashMap<u16, String> {
    static S: OnceLock<HashMap<u16, String>> = OnceLock::new();
    S.get_or_init(|| {
        let mut m = HashMap::new();
        if let Ok(text) = std::fs::read_to_string("/etc/services") {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("");
                let mut it = line.split_whitespace();
                let (Some(name), Some(pp)) = (it.next(), it.next()) else {
                    continue;
                };
                let Some((port, proto)) = pp.split_once('/') else {
                    continue;
                };
                if proto != "tcp" {
                    continue;
                }
                if let Ok(p) = port.parse::<u16>() {
                    m.entry(p).or_insert_with(|| name.to_string());
                }
            }
        }
        m
    })
}

fn ethers() -> &'static HashMap<[u8; 6], String> {
    static E: OnceLock<HashMap<[u8; 6], String>> = OnceLock::new();
    E.get_or_init(|| {
        let mut m = HashMap::new();
        if let Ok(text) = std::fs::read_to_string("/etc/ethers") {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("");
                let mut it = line.split_whitespace();
                let (Some(mac), Some(name)) = (it.next(), it.next()) else {
                    continue;
                };
                let mut a = [0u8; 6];
                let parts: Vec<&str> = mac.split(':').collect();
                if parts.len() != 6 {
                    continue;
                }
                let mut ok = true;
                for (i, p) in parts.iter().enumerate() {
                    match u8::from_str_radix(p, 16) {
                        Ok(v) => a[i] = v,
                        Err(_) => ok = false,
                    }
                }
                if ok {
                    m.entry(a).or_insert_with(|| name.to_string());
                }
            }
        }
        m
    })
}

impl Resolver for SystemResolver {
    fn host(&self, addr: IpAddr) -> Option<String> {
        // getnameinfo(NI_NAMEREQD) goes through the same NSS sources as tcpdump's
        // gethostbyaddr and is thread-safe.
        let mut host = [0 as libc::c_char; 1025];
        let rc = unsafe {
            match addr {
                IpAddr::V4(a) => {
                    let mut sa: libc::sockaddr_in = std::mem::zeroed();
                    sa.sin_family = libc::AF_INET as libc::sa_family_t;
                    sa.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
                    libc::getnameinfo(
                        &sa as *const _ as *const libc::sockaddr,
                        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                        host.as_mut_ptr(),
                        host.len() as libc::socklen_t,
                        std::ptr::null_mut(),
                        0,
                        libc::NI_NAMEREQD,
                    )
                }
                IpAddr::V6(a) => {
                    let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sa.sin6_addr.s6_addr = a.octets();
                    libc::getnameinfo(
                        &sa as *const _ as *const libc::sockaddr,
                        std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                        host.as_mut_ptr(),
                        host.len() as libc::socklen_t,
                        std::ptr::null_mut(),
                        0,
                        libc::NI_NAMEREQD,
                    )
                }
            }
        };
        if rc != 0 {
            return None;
        }
        let s = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
        Some(s.to_string_lossy().into_owned())
    }

    fn tcp_port(&self, port: u16) -> Option<String> {
        services().get(&port).cloned()
    }

    fn if_name(&self, index: u32) -> Option<String> {
        let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
        let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
        if p.is_null() {
            return None;
        }
        let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        Some(s.to_string_lossy().into_owned())
    }

    fn ether(&self, mac: [u8; 6]) -> Option<String> {
        ethers().get(&mac).cloned()
    }
}

enum Host {
    Name(Box<str>),
    Numeric,
    Pending,
}

struct Worker {
    tx: Sender<IpAddr>,
    rx: Receiver<(IpAddr, Option<String>)>,
    /// Requests sent and not answered yet.
    queued: usize,
}

/// Name caches of one printer.
pub(crate) struct Names {
    numeric: u8,
    resolver: Arc<dyn Resolver>,
    hosts: HashMap<IpAddr, Host, FxBuild>,
    ports: HashMap<u16, Option<Box<str>>, FxBuild>,
    ifnames: HashMap<u32, Box<str>, FxBuild>,
    macs: HashMap<[u8; 6], Box<str>, FxBuild>,
    worker: Option<Worker>,
    bound: Duration,
}

impl Names {
    pub fn new(numeric: u8, resolver: Arc<dyn Resolver>) -> Names {
        Names {
            numeric,
            resolver,
            hosts: HashMap::default(),
            ports: HashMap::default(),
            ifnames: HashMap::default(),
            macs: HashMap::default(),
            worker: None,
            bound: LOOKUP_BOUND,
        }
    }

    pub fn set_bound(&mut self, bound: Duration) {
        self.bound = bound;
    }

    fn take_answer(&mut self, addr: IpAddr, name: Option<String>) {
        let h = match name {
            Some(n) => Host::Name(n.into_boxed_str()),
            None => Host::Numeric,
        };
        self.hosts.insert(addr, h);
        if let Some(w) = self.worker.as_mut() {
            w.queued = w.queued.saturating_sub(1);
        }
    }

    fn drain(&mut self) {
        while let Some(Ok((a, n))) = self.worker.as_ref().map(|w| w.rx.try_recv()) {
            self.take_answer(a, n);
        }
    }

    fn start_worker(&mut self) -> bool {
        if self.worker.is_some() {
            return true;
        }
        let (tx, req_rx) = channel::<IpAddr>();
        let (ans_tx, rx) = channel();
        let resolver = self.resolver.clone();
        let spawned = std::thread::Builder::new()
            .name("tracer-names".into())
            .spawn(move || {
                while let Ok(a) = req_rx.recv() {
                    let n = resolver.host(a);
                    if ans_tx.send((a, n)).is_err() {
                        break;
                    }
                }
            });
        if spawned.is_err() {
            return false;
        }
        self.worker = Some(Worker { tx, rx, queued: 0 });
        true
    }

    /// Looks `addr` up (bounded, see the module doc); true if a name is cached now.
    fn resolve(&mut self, addr: IpAddr) {
        match self.hosts.get(&addr) {
            Some(Host::Pending) => {
                self.drain();
                return;
            }
            Some(_) => return,
            None => {}
        }
        if self.hosts.len() >= MAX_CACHED_HOSTS {
            // Bounded memory on a server that sees many peers: forget the answers (they are
            // looked up again when seen again), keep the lookups in flight.
            self.hosts.retain(|_, h| matches!(h, Host::Pending));
        }
        if !self.start_worker() {
            self.hosts.insert(addr, Host::Numeric);
            return;
        }
        let w = self.worker.as_mut().expect("worker started");
        if w.tx.send(addr).is_err() {
            self.hosts.insert(addr, Host::Numeric);
            return;
        }
        w.queued += 1;
        let backlog = w.queued > 1;
        self.hosts.insert(addr, Host::Pending);
        if backlog {
            self.drain();
            return;
        }
        let deadline = Instant::now() + self.bound;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let r = self
                .worker
                .as_ref()
                .expect("worker")
                .rx
                .recv_timeout(deadline - now);
            match r {
                Ok((a, n)) => {
                    self.take_answer(a, n);
                    if a == addr {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    self.worker = None;
                    self.hosts.insert(addr, Host::Numeric);
                    break;
                }
            }
        }
    }

    fn write_host(&mut self, out: &mut Vec<u8>, addr: IpAddr) -> bool {
        if self.numeric > 0 {
            return false;
        }
        self.resolve(addr);
        if let Some(Host::Name(n)) = self.hosts.get(&addr) {
            out.extend_from_slice(n.as_bytes());
            return true;
        }
        false
    }

    /// An IPv4 address: name unless `-n`.
    pub fn write_v4(&mut self, out: &mut Vec<u8>, a: [u8; 4]) {
        if !self.write_host(out, IpAddr::from(a)) {
            write::ipv4(out, &a);
        }
    }

    /// An IPv6 address: name unless `-n`.
    pub fn write_v6(&mut self, out: &mut Vec<u8>, a: [u8; 16]) {
        if !self.write_host(out, IpAddr::from(a)) {
            write::ipv6(out, &a);
        }
    }

    /// A TCP port (`tcpport_string`): service name unless `-n`.
    pub fn write_tcp_port(&mut self, out: &mut Vec<u8>, port: u16) {
        if self.numeric == 0 {
            let resolver = &self.resolver;
            let e = self
                .ports
                .entry(port)
                .or_insert_with(|| resolver.tcp_port(port).map(String::into_boxed_str));
            if let Some(n) = e {
                out.extend_from_slice(n.as_bytes());
                return;
            }
        }
        write::dec(out, port as u64);
    }

    /// An interface name for an ifindex (`if_indextoname`, `?` if unknown).
    pub fn write_ifname(&mut self, out: &mut Vec<u8>, index: u32) {
        let resolver = &self.resolver;
        let n = self.ifnames.entry(index).or_insert_with(|| {
            resolver
                .if_name(index)
                .unwrap_or_else(|| "?".to_string())
                .into_boxed_str()
        });
        write::left(out, n.as_bytes(), 5);
    }

    /// A MAC address (`etheraddr_string`): colon hex, plus `/etc/ethers` name or OUI
    /// vendor unless `-n`.
    pub fn write_mac(&mut self, out: &mut Vec<u8>, m: &[u8]) {
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&m[..6]);
        if self.numeric == 0 {
            if self.macs.len() >= MAX_CACHED_HOSTS && !self.macs.contains_key(&mac) {
                self.macs.clear();
            }
            let resolver = &self.resolver;
            let n = self.macs.entry(mac).or_insert_with(|| {
                if let Some(n) = resolver.ether(mac) {
                    return n.into_boxed_str();
                }
                let mut v = Vec::with_capacity(40);
                write_mac_hex(&mut v, &mac);
                let oui = (mac[0] as u32) << 16 | (mac[1] as u32) << 8 | mac[2] as u32;
                let name = OUI_NAMES
                    .iter()
                    .find(|(o, _)| *o == oui)
                    .map(|(_, n)| *n)
                    .unwrap_or("Unknown");
                v.extend_from_slice(b" (oui ");
                v.extend_from_slice(name.as_bytes());
                v.push(b')');
                String::from_utf8_lossy(&v).into_owned().into_boxed_str()
            });
            out.extend_from_slice(n.as_bytes());
        } else {
            write_mac_hex(out, &mac);
        }
    }
}

fn write_mac_hex(out: &mut Vec<u8>, m: &[u8; 6]) {
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        write::hex2(out, *b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Slow;
    impl Resolver for Slow {
        fn host(&self, _a: IpAddr) -> Option<String> {
            std::thread::sleep(Duration::from_millis(400));
            Some("slow.example".into())
        }
        fn tcp_port(&self, _p: u16) -> Option<String> {
            None
        }
        fn if_name(&self, _i: u32) -> Option<String> {
            None
        }
    }

    #[test]
    fn slow_reverse_lookup_falls_back_to_numeric_within_the_bound() {
        let mut n = Names::new(0, Arc::new(Slow));
        n.set_bound(Duration::from_millis(20));
        let t = Instant::now();
        let mut out = Vec::new();
        n.write_v4(&mut out, [10, 0, 0, 1]);
        n.write_v4(&mut out, [10, 0, 0, 2]);
        assert!(t.elapsed() < Duration::from_millis(300));
        assert_eq!(out, b"10.0.0.110.0.0.2");
        std::thread::sleep(Duration::from_millis(500));
        out.clear();
        n.write_v4(&mut out, [10, 0, 0, 1]);
        assert_eq!(out, b"slow.example");
    }
}
