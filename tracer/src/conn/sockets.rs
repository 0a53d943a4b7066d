//! What tracer knows of the host's own sockets: the process owning each, and at its close the
//! kernel's own counters (smoothed RTT, retransmissions, bytes acknowledged and received).
//! Learnt from the kernel's socket records, and for sockets older than the capture from a
//! `sock_diag` dump with `/proc` (as `ss -p` finds owners); joined to connection records and,
//! with `--process`, to packet lines.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use tracer_common::{
    conn::{tcp_flag, ConnKey},
    kind, sock_rec, tcp_state as state, PacketFields, SockRecord,
};

use crate::live::sockdiag::{self, CgroupNames};

/// The process holding a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub comm: String,
    pub cgroup: Option<String>,
}

/// The kernel's counters of a socket, read when it closed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct KernelCounters {
    pub srtt_us: u32,
    pub retrans: u32,
    pub bytes_acked: u64,
    pub bytes_received: u64,
}

/// One socket: one end of a connection that is this host's.
#[derive(Clone, Debug, Default)]
pub struct SockEnd {
    pub owner: Option<Owner>,
    pub counters: Option<KernelCounters>,
    /// When it closed (monotonic ns; 0: open).
    closed_ns: u64,
}

/// Closed sockets are kept this long: connection records come 2 s after a close.
const KEEP_CLOSED_NS: u64 = 10_000_000_000;
/// A table bigger than this drops its closed sockets early.
const MAX_SOCKETS: usize = 1 << 17;
/// A socket nobody has heard of is looked up in `/proc` at most this often.
const RESCAN_EVERY: Duration = Duration::from_secs(1);

/// A connect() in progress: the kernel's SYN_SENT change comes before connect() picks the
/// local port, so the socket is known by its addresses and remote port until it is
/// established. Key: family, local address, remote address, remote port.
type Connecting = (u8, [u8; 16], [u8; 16], u16);

/// Sockets by connection key (interface 0), each end apart (`[end 0, end 1]` of the key).
pub struct Sockets {
    ends: HashMap<ConnKey, [Option<SockEnd>; 2]>,
    /// Sockets in SYN_SENT with their owners.
    connecting: HashMap<Connecting, Owner>,
    /// Listening sockets by (family, port): their address (zero: any) and owner. A SYN to
    /// one, and the SYN-ACK it sends, are the listener's.
    listeners: HashMap<(u8, u16), ([u8; 16], Owner)>,
    /// This namespace's own addresses (a SYN to a wildcard listener's port is the
    /// listener's only when it is addressed to this host, not forwarded through it).
    local_addrs: Vec<(u8, [u8; 16])>,
    cgroups: CgroupNames,
    last_scan: Option<Instant>,
}

fn comm_of(c: &[u8; 16]) -> String {
    let n = c.iter().position(|&b| b == 0).unwrap_or(c.len());
    String::from_utf8_lossy(&c[..n]).into_owned()
}

impl Default for Sockets {
    fn default() -> Self {
        Sockets::new()
    }
}

impl Sockets {
    pub fn new() -> Sockets {
        Sockets {
            ends: HashMap::new(),
            connecting: HashMap::new(),
            listeners: HashMap::new(),
            local_addrs: Vec::new(),
            cgroups: CgroupNames::default(),
            last_scan: None,
        }
    }

    /// Takes in what a socket record says.
    pub fn observe(&mut self, r: &SockRecord) {
        let (key, side) = ConnKey::of_ends(
            r.family,
            &r.local,
            r.local_port,
            &r.remote,
            r.remote_port,
            0,
        );
        let owner = (r.flags & sock_rec::OWNER != 0).then(|| Owner {
            pid: r.tgid,
            comm: comm_of(&r.comm),
            cgroup: self.cgroup_path(r.cgroup, r.tgid),
        });
        if r.kind == kind::STATE {
            self.note_transition(r, owner.as_ref());
        }
        if self.ends.len() > MAX_SOCKETS {
            self.ends
                .retain(|_, e| e.iter().flatten().any(|s| s.closed_ns == 0));
        }
        let e = &mut self.ends.entry(key).or_default()[side as usize];
        let end = e.get_or_insert_with(SockEnd::default);
        if owner.is_some() {
            end.owner = owner;
        }
        if r.kind == kind::STATE && r.flags & sock_rec::COUNTERS != 0 {
            end.counters = Some(KernelCounters {
                srtt_us: r.srtt_us,
                retrans: r.total_retrans,
                bytes_acked: r.bytes_acked,
                bytes_received: r.bytes_received,
            });
        }
        if r.kind == kind::STATE && r.newstate == state::CLOSE {
            end.closed_ns = r.timestamp_ns.max(1);
        }
    }

    /// Keeps the tables of connects in progress and of listeners up to date.
    fn note_transition(&mut self, r: &SockRecord, owner: Option<&Owner>) {
        let connecting = (r.family, r.local, r.remote, r.remote_port);
        if r.oldstate == state::SYN_SENT {
            self.connecting.remove(&connecting);
        }
        if r.newstate == state::SYN_SENT {
            if let Some(o) = owner {
                if self.connecting.len() >= MAX_SOCKETS {
                    self.connecting.clear();
                }
                self.connecting.insert(connecting, o.clone());
            }
        }
        if r.newstate == state::LISTEN {
            if let Some(o) = owner {
                self.listeners
                    .insert((r.family, r.local_port), (r.local, o.clone()));
            }
        } else if r.oldstate == state::LISTEN && r.newstate == state::CLOSE {
            self.listeners.remove(&(r.family, r.local_port));
        }
    }

    /// The path of cgroup `id` (of process `pid`): under /sys/fs/cgroup, else from
    /// /proc/PID/cgroup (a mount namespace may not show /sys/fs/cgroup).
    pub fn cgroup_path(&mut self, id: u64, pid: u32) -> Option<String> {
        self.cgroups
            .path(id)
            .map(str::to_string)
            .or_else(|| sockdiag::cgroup_of(pid))
    }

    /// Forgets sockets closed long enough ago (`now`: monotonic ns).
    pub fn expire(&mut self, now: u64) {
        self.ends.retain(|_, e| {
            for s in e.iter_mut() {
                if s.as_ref()
                    .is_some_and(|x| x.closed_ns != 0 && x.closed_ns + KEEP_CLOSED_NS < now)
                {
                    *s = None;
                }
            }
            e.iter().any(Option::is_some)
        });
    }

    /// Learns the owners of the sockets that exist now (from before the capture).
    pub fn scan(&mut self) {
        self.last_scan = Some(Instant::now());
        let Ok(socks) = sockdiag::tcp_sockets() else {
            return;
        };
        let holders = sockdiag::socket_holders();
        self.local_addrs = sockdiag::local_addresses();
        for s in socks {
            let Some(h) = holders.get(&s.inode) else {
                continue;
            };
            let owner = || Owner {
                pid: h.pid,
                comm: h.comm.clone(),
                cgroup: h.cgroup.clone(),
            };
            if s.state == state::LISTEN {
                self.listeners
                    .entry((s.family, s.local_port))
                    .or_insert_with(|| (s.local, owner()));
                continue;
            }
            let (key, side) = ConnKey::of_ends(
                s.family,
                &s.local,
                s.local_port,
                &s.remote,
                s.remote_port,
                0,
            );
            let e = &mut self.ends.entry(key).or_default()[side as usize];
            let end = e.get_or_insert_with(SockEnd::default);
            if end.owner.is_none() {
                end.owner = Some(owner());
            }
        }
    }

    /// The owner of the socket a record is about: the kernel's, else what this table knows,
    /// else (at most once a second) what `/proc` says now.
    pub fn owner_of_record(&mut self, r: &SockRecord) -> Option<Owner> {
        if r.flags & sock_rec::OWNER != 0 {
            return Some(Owner {
                pid: r.tgid,
                comm: comm_of(&r.comm),
                cgroup: self.cgroup_path(r.cgroup, r.tgid),
            });
        }
        let (key, side) = ConnKey::of_ends(
            r.family,
            &r.local,
            r.local_port,
            &r.remote,
            r.remote_port,
            0,
        );
        let known = |s: &Sockets| {
            s.ends
                .get(&key)
                .and_then(|e| e[side as usize].as_ref())
                .and_then(|s| s.owner.clone())
        };
        if let Some(o) = known(self) {
            return Some(o);
        }
        if self.last_scan.is_none_or(|t| t.elapsed() >= RESCAN_EVERY) {
            self.scan();
        }
        known(self)
    }

    /// The socket of a connection that is this host's: its server end when that is local
    /// (both are, on loopback), else its client end.
    pub fn for_conn(&self, key: &ConnKey, server: usize) -> Option<&SockEnd> {
        let k = ConnKey { ifindex: 0, ..*key };
        let e = self.ends.get(&k)?;
        e[server & 1].as_ref().or(e[(server & 1) ^ 1].as_ref())
    }

    /// The owner of the socket that sent (or, arriving, receives) a packet: the sender's
    /// socket first (on loopback both ends are here). A socket not yet known by its four
    /// addresses and ports is a connect()'s in progress (its SYN and the SYN-ACK back), else
    /// a listener's (its SYN, SYN-ACK, and the packets of an accepted connection before its
    /// process first reads or writes on it), else looked up in `/proc` (at most once a
    /// second).
    pub fn for_packet(&mut self, f: &PacketFields) -> Option<Owner> {
        if let Some(o) = self.known_owner(f) {
            return Some(o);
        }
        if let Some(o) = self.handshake_owner(f) {
            return Some(o);
        }
        if self.last_scan.is_none_or(|t| t.elapsed() >= RESCAN_EVERY) {
            self.scan();
            return self.known_owner(f);
        }
        None
    }

    fn known_owner(&self, f: &PacketFields) -> Option<Owner> {
        let (key, side) = ConnKey::of(f, 0);
        let e = self.ends.get(&key)?;
        e[side as usize]
            .as_ref()
            .and_then(|s| s.owner.as_ref())
            .or_else(|| {
                e[(side as usize) ^ 1]
                    .as_ref()
                    .and_then(|s| s.owner.as_ref())
            })
            .cloned()
    }

    /// The owner of a packet's socket from the connects in progress and the listeners.
    fn handshake_owner(&mut self, f: &PacketFields) -> Option<Owner> {
        let family = f.ip_version;
        let (syn, ack) = (
            f.tcp_flags & tcp_flag::SYN != 0,
            f.tcp_flags & tcp_flag::ACK != 0,
        );
        if syn {
            // A connect()'s SYN leaves it, its SYN-ACK comes back to it.
            let connecting = if ack {
                (family, f.daddr, f.saddr, f.sport)
            } else {
                (family, f.saddr, f.daddr, f.dport)
            };
            if let Some(o) = self.connecting.get(&connecting) {
                return Some(o.clone());
            }
        }
        // A listener's SYN and connections come to its port, its SYN-ACK and connections
        // leave from it. (A SYN-ACK from a port is never to a listener on the other end.)
        let to = (family, f.dport, f.daddr);
        let from = (family, f.sport, f.saddr);
        let order = if syn && ack { [from, from] } else { [to, from] };
        for (family, port, addr) in order {
            let Some((bound, owner)) = self.listeners.get(&(family, port)) else {
                continue;
            };
            let ours = if *bound == [0; 16] {
                if self.local_addrs.is_empty() {
                    self.local_addrs = sockdiag::local_addresses();
                }
                self.local_addrs.contains(&(family, addr))
            } else {
                *bound == addr
            };
            if ours {
                return Some(owner.clone());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracer_common::RECORD_VERSION;

    fn rec(local: u8, lport: u16, remote: u8, rport: u16, new: u8, pid: u32) -> SockRecord {
        let mut l = [0u8; 16];
        let mut r = [0u8; 16];
        l[..4].copy_from_slice(&[10, 0, 0, local]);
        r[..4].copy_from_slice(&[10, 0, 0, remote]);
        let mut comm = [0u8; 16];
        comm[..3].copy_from_slice(b"srv");
        SockRecord {
            kind: kind::STATE,
            version: RECORD_VERSION,
            ifindex: 0,
            timestamp_ns: 5,
            local: l,
            remote: r,
            local_port: lport,
            remote_port: rport,
            family: 4,
            oldstate: 9,
            newstate: new,
            _pad: 0,
            flags: sock_rec::OWNER | if new == 7 { sock_rec::COUNTERS } else { 0 },
            tgid: pid,
            cgroup: 0,
            comm,
            prev_ns: 0,
            cookie: 1,
            srtt_us: 52,
            total_retrans: 3,
            bytes_acked: 100,
            bytes_received: 200,
            err: 0,
            segs: 0,
        }
    }

    #[test]
    fn a_closed_socket_gives_its_owner_and_counters_to_its_connection() {
        let mut s = Sockets::new();
        s.observe(&rec(2, 80, 1, 40000, 9, 77));
        s.observe(&rec(2, 80, 1, 40000, 7, 77));
        let mut f = PacketFields::EMPTY;
        f.ip_version = 4;
        f.saddr[..4].copy_from_slice(&[10, 0, 0, 1]);
        f.daddr[..4].copy_from_slice(&[10, 0, 0, 2]);
        f.sport = 40000;
        f.dport = 80;
        let (key, client) = ConnKey::of(&f, 9);
        let end = s
            .for_conn(&key, (client ^ 1) as usize)
            .expect("the server's socket");
        assert_eq!(
            end.owner.as_ref().map(|o| (o.pid, o.comm.as_str())),
            Some((77, "srv"))
        );
        assert_eq!(end.counters.map(|c| (c.srtt_us, c.retrans)), Some((52, 3)));
        assert_eq!(s.for_packet(&f).map(|o| o.pid), Some(77));
        s.expire(5 + KEEP_CLOSED_NS + 1);
        assert!(s.for_conn(&key, 0).is_none());
    }

    fn packet(src: (u8, u16), dst: (u8, u16), flags: u8) -> PacketFields {
        let mut f = PacketFields::EMPTY;
        f.ip_version = 4;
        f.saddr[..4].copy_from_slice(&[10, 0, 0, src.0]);
        f.daddr[..4].copy_from_slice(&[10, 0, 0, dst.0]);
        f.sport = src.1;
        f.dport = dst.1;
        f.tcp_flags = flags;
        f
    }

    fn transition(mut r: SockRecord, old: u8, owner: bool) -> SockRecord {
        r.oldstate = old;
        if !owner {
            r.flags &= !sock_rec::OWNER;
        }
        r
    }

    #[test]
    fn a_connects_syn_and_syn_ack_are_its_own_before_it_has_a_port() {
        let mut s = Sockets::new();
        // connect() changes to SYN_SENT before it picks the local port.
        s.observe(&transition(
            rec(1, 0, 2, 80, state::SYN_SENT, 41),
            state::CLOSE,
            true,
        ));
        s.last_scan = Some(Instant::now());
        let syn = packet((1, 40000), (2, 80), tcp_flag::SYN);
        let syn_ack = packet((2, 80), (1, 40000), tcp_flag::SYN | tcp_flag::ACK);
        assert_eq!(s.for_packet(&syn).map(|o| o.pid), Some(41));
        assert_eq!(s.for_packet(&syn_ack).map(|o| o.pid), Some(41));
        // Another connect to another server is not it.
        let other = packet((1, 40001), (3, 80), tcp_flag::SYN);
        assert_eq!(s.for_packet(&other), None);
        // Established: known by its four-tuple from then on.
        s.observe(&transition(
            rec(1, 40000, 2, 80, state::ESTABLISHED, 41),
            state::SYN_SENT,
            false,
        ));
        assert!(s.connecting.is_empty());
        let ack = packet((1, 40000), (2, 80), tcp_flag::ACK);
        assert_eq!(
            s.for_packet(&ack),
            None,
            "no owner in softirq, none remembered"
        );
    }

    #[test]
    fn a_listeners_connections_are_its_own_until_the_accepted_socket_is_known() {
        let mut s = Sockets::new();
        s.local_addrs = vec![(4, {
            let mut a = [0; 16];
            a[..4].copy_from_slice(&[10, 0, 0, 2]);
            a
        })];
        s.last_scan = Some(Instant::now());
        // listen() on the wildcard address.
        let mut l = transition(rec(0, 80, 0, 0, state::LISTEN, 50), state::CLOSE, true);
        l.local = [0; 16];
        l.remote = [0; 16];
        s.observe(&l);
        let syn = packet((1, 40000), (2, 80), tcp_flag::SYN);
        let syn_ack = packet((2, 80), (1, 40000), tcp_flag::SYN | tcp_flag::ACK);
        let data = packet((1, 40000), (2, 80), tcp_flag::ACK | tcp_flag::PSH);
        for p in [&syn, &syn_ack, &data] {
            assert_eq!(s.for_packet(p).map(|o| o.pid), Some(50));
        }
        // Not to this host (forwarded through it): not the listener's.
        assert_eq!(
            s.for_packet(&packet((1, 40000), (9, 80), tcp_flag::SYN)),
            None
        );
        // A SYN-ACK to port 80 of the other end is not the local listener's.
        let out_syn_ack = packet((9, 443), (2, 80), tcp_flag::SYN | tcp_flag::ACK);
        assert_eq!(s.for_packet(&out_syn_ack), None);
        // The worker that reads the accepted socket owns it from then on.
        let mut o = rec(2, 80, 1, 40000, state::ESTABLISHED, 51);
        o.kind = kind::OWNER;
        o.oldstate = state::ESTABLISHED;
        s.observe(&o);
        assert_eq!(s.for_packet(&data).map(|o| o.pid), Some(51));
        // Closed: the listener is forgotten.
        s.observe(&transition(
            rec(0, 80, 0, 0, state::CLOSE, 50),
            state::LISTEN,
            true,
        ));
        assert_eq!(
            s.for_packet(&packet((1, 40002), (2, 80), tcp_flag::SYN)),
            None
        );
    }
}
