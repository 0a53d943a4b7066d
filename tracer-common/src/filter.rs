//! The compiled filter: a list of tests with forward jumps, like classic BPF.
//!
//! Userspace compiles a pcap-filter expression into at most [`MAX_FILTER_INSNS`] of these and
//! writes them into the `FILTER` array; the kernel runs them with [`eval_insn`] from a
//! `bpf_loop` callback, and `tracer -r` runs the same code through [`run`]. Jumps only go
//! forward, so every run ends within `len` steps.

use crate::fields::{bit, PacketFields};

/// Most instructions the kernel program will run for one packet.
pub const MAX_FILTER_INSNS: u32 = 512;

/// Jump target: accept the packet.
pub const ACCEPT: u16 = 0xffff;
/// Jump target: reject the packet.
pub const REJECT: u16 = 0xfffe;

/// What an instruction tests.
#[repr(u8)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FilterOp {
    /// `ip`: the ethertype is IPv4.
    Ip = 1,
    /// `ip6`: the ethertype is IPv6.
    Ip6 = 2,
    /// `tcp`: libpcap's `ip proto 6 or ip6 proto 6`.
    Tcp = 3,
    /// `[src|dst] host/net` on IPv4: `addr[..4]` and `mask[..4]`, `addr` pre-masked.
    Host4 = 4,
    /// `[src|dst] host/net` on IPv6: `addr` and `mask`, `addr` pre-masked.
    Host6 = 5,
    /// `[src|dst] port/portrange`: `a <= port <= b`.
    Port = 6,
    /// `less`/`greater`: `wire_len cmp a`.
    Len = 7,
    /// `tcp[tcpflags] & a cmp b` (`a` = 0xff without a mask).
    TcpFlags = 8,
}

impl FilterOp {
    pub fn from_u8(v: u8) -> Option<FilterOp> {
        Some(match v {
            1 => FilterOp::Ip,
            2 => FilterOp::Ip6,
            3 => FilterOp::Tcp,
            4 => FilterOp::Host4,
            5 => FilterOp::Host6,
            6 => FilterOp::Port,
            7 => FilterOp::Len,
            8 => FilterOp::TcpFlags,
            _ => return None,
        })
    }
}

/// `FilterInsn::dir`: which address or port a test looks at.
pub mod dir {
    /// `src or dst` (the default).
    pub const ANY: u8 = 0;
    pub const SRC: u8 = 1;
    pub const DST: u8 = 2;
    /// `src and dst`.
    pub const BOTH: u8 = 3;
}

/// `FilterInsn::cmp`: the comparison of `Len` and `TcpFlags`.
pub mod cmp {
    pub const EQ: u8 = 0;
    pub const NE: u8 = 1;
    pub const LT: u8 = 2;
    pub const LE: u8 = 3;
    pub const GT: u8 = 4;
    pub const GE: u8 = 5;
}

/// One test: on true go to `jt`, on false to `jf` (an index, [`ACCEPT`] or [`REJECT`]).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FilterInsn {
    /// [`FilterOp`] as `u8`.
    pub op: u8,
    /// `dir::*`.
    pub dir: u8,
    /// `cmp::*`.
    pub cmp: u8,
    pub _pad: u8,
    pub jt: u16,
    pub jf: u16,
    pub a: u32,
    pub b: u32,
    pub addr: [u8; 16],
    pub mask: [u8; 16],
}

const _: () = assert!(core::mem::size_of::<FilterInsn>() == 48);

impl FilterInsn {
    pub const fn new(op: FilterOp) -> FilterInsn {
        FilterInsn {
            op: op as u8,
            dir: dir::ANY,
            cmp: cmp::EQ,
            _pad: 0,
            jt: ACCEPT,
            jf: REJECT,
            a: 0,
            b: 0,
            addr: [0; 16],
            mask: [0; 16],
        }
    }
}

/// A test could not be decided because the bytes it reads were not captured. libpcap's
/// filter machine rejects the whole packet on such a load; so do we.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NotCaptured;

#[inline(always)]
fn compare(c: u8, x: u32, y: u32) -> bool {
    match c {
        cmp::EQ => x == y,
        cmp::NE => x != y,
        cmp::LT => x < y,
        cmp::LE => x <= y,
        cmp::GT => x > y,
        _ => x >= y,
    }
}

#[inline(always)]
fn masked_eq<const N: usize>(a: &[u8; 16], want: &[u8; 16], mask: &[u8; 16]) -> bool {
    let mut i = 0;
    while i < N {
        if a[i] & mask[i] != want[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[inline(always)]
fn by_dir(d: u8, s: bool, t: bool) -> bool {
    match d {
        dir::SRC => s,
        dir::DST => t,
        dir::BOTH => s && t,
        _ => s || t,
    }
}

/// Evaluates one instruction's test against a packet's fields.
#[inline(always)]
pub fn eval_insn(insn: &FilterInsn, f: &PacketFields) -> Result<bool, NotCaptured> {
    let vlan = f.has(bit::VLAN_IN_BAND);
    Ok(match insn.op {
        1 => f.ip_version == 4 && !vlan,
        2 => f.ip_version == 6 && !vlan,
        3 => f.has(bit::PCAP_TCP) && !vlan,
        4 | 5 => {
            let want = if insn.op == 4 { 4 } else { 6 };
            if f.ip_version != want || vlan {
                return Ok(false);
            }
            if !f.has(bit::ADDRS_CAPTURED) {
                return Err(NotCaptured);
            }
            let (s, d) = if want == 4 {
                (
                    masked_eq::<4>(&f.saddr, &insn.addr, &insn.mask),
                    masked_eq::<4>(&f.daddr, &insn.addr, &insn.mask),
                )
            } else {
                (
                    masked_eq::<16>(&f.saddr, &insn.addr, &insn.mask),
                    masked_eq::<16>(&f.daddr, &insn.addr, &insn.mask),
                )
            };
            by_dir(insn.dir, s, d)
        }
        6 => {
            if !f.has(bit::PCAP_PORTS) || vlan {
                return Ok(false);
            }
            if !f.has(bit::PORTS_CAPTURED) {
                return Err(NotCaptured);
            }
            let s = insn.a <= f.sport as u32 && f.sport as u32 <= insn.b;
            let d = insn.a <= f.dport as u32 && f.dport as u32 <= insn.b;
            by_dir(insn.dir, s, d)
        }
        7 => compare(insn.cmp, f.wire_len, insn.a),
        8 => {
            if !f.has(bit::PCAP_TCPHDR) || vlan {
                return Ok(false);
            }
            if !f.has(bit::FLAGS_CAPTURED) {
                return Err(NotCaptured);
            }
            compare(insn.cmp, f.tcp_flags as u32 & insn.a, insn.b)
        }
        _ => false,
    })
}

/// The next program counter after `insn` decided `result`.
#[inline(always)]
pub fn next_pc(insn: &FilterInsn, result: bool) -> u16 {
    if result {
        insn.jt
    } else {
        insn.jf
    }
}

/// Runs a whole program; an empty program accepts.
pub fn run(prog: &[FilterInsn], f: &PacketFields) -> bool {
    let mut pc: usize = 0;
    if prog.is_empty() {
        return true;
    }
    loop {
        let Some(insn) = prog.get(pc) else {
            return false;
        };
        let r = match eval_insn(insn, f) {
            Ok(r) => r,
            Err(NotCaptured) => return false,
        };
        match next_pc(insn, r) {
            ACCEPT => return true,
            REJECT => return false,
            n if (n as usize) > pc => pc = n as usize,
            // A backward or self jump is a compiler bug; refuse rather than loop.
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> PacketFields {
        let mut f = PacketFields::EMPTY;
        f.ip_version = 4;
        f.saddr[..4].copy_from_slice(&[10, 77, 0, 1]);
        f.daddr[..4].copy_from_slice(&[10, 77, 0, 2]);
        f.sport = 40001;
        f.dport = 80;
        f.tcp_flags = 0x02;
        f.wire_len = 74;
        f.bits = bit::TCP
            | bit::PCAP_TCP
            | bit::PCAP_PORTS
            | bit::PORTS_CAPTURED
            | bit::PCAP_TCPHDR
            | bit::FLAGS_CAPTURED
            | bit::ADDRS_CAPTURED;
        f
    }

    fn port(p: u16, d: u8) -> FilterInsn {
        let mut i = FilterInsn::new(FilterOp::Port);
        i.a = p as u32;
        i.b = p as u32;
        i.dir = d;
        i
    }

    #[test]
    fn empty_program_accepts() {
        assert!(run(&[], &fields()));
    }

    #[test]
    fn port_direction() {
        let f = fields();
        assert!(run(&[port(80, dir::ANY)], &f));
        assert!(run(&[port(80, dir::DST)], &f));
        assert!(!run(&[port(80, dir::SRC)], &f));
        assert!(!run(&[port(80, dir::BOTH)], &f));
    }

    #[test]
    fn host_and_net() {
        let f = fields();
        let mut h = FilterInsn::new(FilterOp::Host4);
        h.addr[..4].copy_from_slice(&[10, 77, 0, 0]);
        h.mask[..4].copy_from_slice(&[255, 255, 0, 0]);
        h.dir = dir::BOTH;
        assert!(run(&[h], &f));
        h.addr[..4].copy_from_slice(&[10, 78, 0, 0]);
        assert!(!run(&[h], &f));
        let mut h6 = FilterInsn::new(FilterOp::Host6);
        h6.mask = [0xff; 16];
        assert!(!run(&[h6], &f), "an IPv6 host never matches IPv4");
    }

    #[test]
    fn or_by_jumps_and_not_by_swapped_targets() {
        let f = fields();
        // port 81 or port 80
        let mut a = port(81, dir::ANY);
        a.jf = 1;
        let b = port(80, dir::ANY);
        assert!(run(&[a, b], &f));
        // not port 80
        let mut n = port(80, dir::ANY);
        n.jt = REJECT;
        n.jf = ACCEPT;
        assert!(!run(&[n], &f));
    }

    #[test]
    fn tcpflags_and_len() {
        let f = fields();
        let mut syn = FilterInsn::new(FilterOp::TcpFlags);
        syn.a = 0x02;
        syn.b = 0;
        syn.cmp = cmp::NE;
        assert!(run(&[syn], &f));
        let mut less = FilterInsn::new(FilterOp::Len);
        less.a = 60;
        less.cmp = cmp::LE;
        assert!(!run(&[less], &f));
    }

    #[test]
    fn uncaptured_bytes_reject_the_packet() {
        let mut f = fields();
        f.bits &= !bit::PORTS_CAPTURED;
        let mut a = port(80, dir::ANY);
        a.jt = ACCEPT;
        a.jf = ACCEPT;
        assert!(!run(&[a], &f));
    }

    #[test]
    fn backward_jump_is_refused() {
        let mut a = port(80, dir::ANY);
        a.jt = 0;
        assert!(!run(&[a], &fields()));
    }
}
