//! What tracer knows of the host's own sockets: the process owning each, and at its close the
//! kernel's own counters (smoothed RTT, retransmissions, bytes acknowledged and received).
//! Learnt from the kernel's socket records, and for sockets older than the capture from a
//! `sock_diag` dump with `/proc` (as `ss -p` finds owners); joined to connection records and,
//! with `--process`, to packet lines.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use tracer_common::{conn::ConnKey, kind, sock_rec, PacketFields, SockRecord};

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

/// Sockets by connection key (interface 0), each end apart (`[end 0, end 1]` of the key).
pub struct Sockets {
    ends: HashMap<ConnKey, [Option<SockEnd>; 2]>,
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
        if r.kind == kind::STATE && r.newstate == 7 {
            end.closed_ns = r.timestamp_ns.max(1);
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
        for s in socks {
            let Some(h) = holders.get(&s.inode) else {
                continue;
            };
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
                end.owner = Some(Owner {
                    pid: h.pid,
                    comm: h.comm.clone(),
                    cgroup: h.cgroup.clone(),
                });
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

    /// The owner of the socket that sent (or, arriving, receives) a packet; looks the
    /// socket up in `/proc` when nothing is known of it (at most once a second).
    pub fn for_packet(&mut self, f: &PacketFields) -> Option<&Owner> {
        let (key, side) = ConnKey::of(f, 0);
        let known = self
            .ends
            .get(&key)
            .is_some_and(|e| e.iter().flatten().any(|s| s.owner.is_some()));
        if !known && self.last_scan.is_none_or(|t| t.elapsed() >= RESCAN_EVERY) {
            self.scan();
        }
        let e = self.ends.get(&key)?;
        // The sender's socket first (on loopback both ends are here).
        e[side as usize]
            .as_ref()
            .and_then(|s| s.owner.as_ref())
            .or_else(|| {
                e[(side as usize) ^ 1]
                    .as_ref()
                    .and_then(|s| s.owner.as_ref())
            })
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
            _pad2: 0,
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
}
