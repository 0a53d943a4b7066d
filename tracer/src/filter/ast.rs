//! The parsed filter: primitives that each become one kernel instruction, combined by
//! `not`/`and`/`or`. Kept public so the loader can log it and tests can check the compiled
//! program against a direct evaluation.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use tracer_common::fields::{bit, PacketFields};
use tracer_common::filter::{cmp, dir, FilterInsn, FilterOp, NotCaptured};

/// Which address or port of the packet a primitive looks at.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// `src or dst`: either one (the default).
    Any,
    Src,
    Dst,
    /// `src and dst`: both.
    Both,
}

/// A comparison of `len` or of the TCP flags byte.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The comparison with its operands swapped (`5 < x` is `x > 5`).
    pub fn swapped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            c => c,
        }
    }

    pub fn eval(self, x: u32, y: u32) -> bool {
        match self {
            Cmp::Eq => x == y,
            Cmp::Ne => x != y,
            Cmp::Lt => x < y,
            Cmp::Le => x <= y,
            Cmp::Gt => x > y,
            Cmp::Ge => x >= y,
        }
    }

    fn code(self) -> u8 {
        match self {
            Cmp::Eq => cmp::EQ,
            Cmp::Ne => cmp::NE,
            Cmp::Lt => cmp::LT,
            Cmp::Le => cmp::LE,
            Cmp::Gt => cmp::GT,
            Cmp::Ge => cmp::GE,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// One test, with libpcap 1.10's meaning (see `tracer_common::fields` for the details).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Prim {
    /// `ip`.
    Ip,
    /// `ip6`.
    Ip6,
    /// `tcp`: `ip proto 6 or ip6 proto 6`.
    Tcp,
    /// `host`/`net` on IPv4: `(address & mask) == addr`.
    Host4 {
        dir: Dir,
        addr: Ipv4Addr,
        mask: Ipv4Addr,
    },
    /// `host`/`net` on IPv6 with a prefix length.
    Host6 {
        dir: Dir,
        addr: Ipv6Addr,
        prefix: u8,
    },
    /// `port`/`portrange`: `lo <= port <= hi`, TCP only.
    Port { dir: Dir, lo: u16, hi: u16 },
    /// `less`, `greater`, `len OP n`: the frame length on the wire.
    Len { cmp: Cmp, value: u32 },
    /// `tcp[13] & mask OP value` (IPv4 only, like libpcap).
    TcpFlags { mask: u8, cmp: Cmp, value: u32 },
}

/// A whole filter expression. `and`/`or` chains are flat lists evaluated left to right.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// Always true or always false (a constant relation such as `1 = 1`).
    Const(bool),
    Prim(Prim),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

fn v6_mask(prefix: u8) -> [u8; 16] {
    let mut m = [0u8; 16];
    for (i, b) in m.iter_mut().enumerate() {
        let bits = (prefix as i32 - 8 * i as i32).clamp(0, 8);
        *b = if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
    }
    m
}

fn dir_code(d: Dir) -> u8 {
    match d {
        Dir::Any => dir::ANY,
        Dir::Src => dir::SRC,
        Dir::Dst => dir::DST,
        Dir::Both => dir::BOTH,
    }
}

fn by_dir(d: Dir, s: bool, t: bool) -> bool {
    match d {
        Dir::Any => s || t,
        Dir::Src => s,
        Dir::Dst => t,
        Dir::Both => s && t,
    }
}

impl Prim {
    /// The kernel instruction for this test, jumping to `jt` when true and `jf` when false.
    pub fn insn(&self, jt: u16, jf: u16) -> FilterInsn {
        let mut i = match *self {
            Prim::Ip => FilterInsn::new(FilterOp::Ip),
            Prim::Ip6 => FilterInsn::new(FilterOp::Ip6),
            Prim::Tcp => FilterInsn::new(FilterOp::Tcp),
            Prim::Host4 { dir, addr, mask } => {
                let mut i = FilterInsn::new(FilterOp::Host4);
                i.dir = dir_code(dir);
                let m = u32::from(mask);
                i.addr[..4].copy_from_slice(&(u32::from(addr) & m).to_be_bytes());
                i.mask[..4].copy_from_slice(&m.to_be_bytes());
                i
            }
            Prim::Host6 { dir, addr, prefix } => {
                let mut i = FilterInsn::new(FilterOp::Host6);
                i.dir = dir_code(dir);
                i.mask = v6_mask(prefix);
                let masked = u128::from(addr) & u128::from_be_bytes(i.mask);
                i.addr = masked.to_be_bytes();
                i
            }
            Prim::Port { dir, lo, hi } => {
                let mut i = FilterInsn::new(FilterOp::Port);
                i.dir = dir_code(dir);
                i.a = lo as u32;
                i.b = hi as u32;
                i
            }
            Prim::Len { cmp, value } => {
                let mut i = FilterInsn::new(FilterOp::Len);
                i.cmp = cmp.code();
                i.a = value;
                i
            }
            Prim::TcpFlags { mask, cmp, value } => {
                let mut i = FilterInsn::new(FilterOp::TcpFlags);
                i.cmp = cmp.code();
                i.a = mask as u32;
                i.b = value;
                i
            }
        };
        i.jt = jt;
        i.jf = jf;
        i
    }

    /// Decides the test on a packet's fields, written out independently of the kernel's
    /// `eval_insn` so tests can cross-check the two.
    pub fn eval(&self, f: &PacketFields) -> Result<bool, NotCaptured> {
        let vlan = f.has(bit::VLAN_IN_BAND);
        Ok(match *self {
            Prim::Ip => f.ip_version == 4 && !vlan,
            Prim::Ip6 => f.ip_version == 6 && !vlan,
            Prim::Tcp => f.has(bit::PCAP_TCP) && !vlan,
            Prim::Host4 { dir, addr, mask } => {
                if f.ip_version != 4 || vlan {
                    return Ok(false);
                }
                if !f.has(bit::ADDRS_CAPTURED) {
                    return Err(NotCaptured);
                }
                let (a, m) = (u32::from(addr), u32::from(mask));
                let get = |x: &[u8; 16]| u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
                by_dir(dir, get(&f.saddr) & m == a & m, get(&f.daddr) & m == a & m)
            }
            Prim::Host6 { dir, addr, prefix } => {
                if f.ip_version != 6 || vlan {
                    return Ok(false);
                }
                if !f.has(bit::ADDRS_CAPTURED) {
                    return Err(NotCaptured);
                }
                let m = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
                let a = u128::from(addr) & m;
                let s = u128::from_be_bytes(f.saddr) & m == a;
                let d = u128::from_be_bytes(f.daddr) & m == a;
                by_dir(dir, s, d)
            }
            Prim::Port { dir, lo, hi } => {
                if !f.has(bit::PCAP_PORTS) || vlan {
                    return Ok(false);
                }
                if !f.has(bit::PORTS_CAPTURED) {
                    return Err(NotCaptured);
                }
                let r = lo..=hi;
                by_dir(dir, r.contains(&f.sport), r.contains(&f.dport))
            }
            Prim::Len { cmp, value } => cmp.eval(f.wire_len, value),
            Prim::TcpFlags { mask, cmp, value } => {
                if !f.has(bit::PCAP_TCPHDR) || vlan {
                    return Ok(false);
                }
                if !f.has(bit::FLAGS_CAPTURED) {
                    return Err(NotCaptured);
                }
                cmp.eval((f.tcp_flags & mask) as u32, value)
            }
        })
    }
}

impl Expr {
    /// Evaluates left to right with short circuits; a test whose bytes were not captured
    /// ends the evaluation, as a failed load ends libpcap's filter program.
    pub fn eval(&self, f: &PacketFields) -> Result<bool, NotCaptured> {
        Ok(match self {
            Expr::Const(b) => *b,
            Expr::Prim(p) => p.eval(f)?,
            Expr::Not(e) => !e.eval(f)?,
            Expr::And(es) => {
                for e in es {
                    if !e.eval(f)? {
                        return Ok(false);
                    }
                }
                true
            }
            Expr::Or(es) => {
                for e in es {
                    if e.eval(f)? {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    /// Number of primitives, i.e. of kernel instructions.
    pub fn prim_count(&self) -> usize {
        match self {
            Expr::Const(_) => 0,
            Expr::Prim(_) => 1,
            Expr::Not(e) => e.prim_count(),
            Expr::And(es) | Expr::Or(es) => es.iter().map(Expr::prim_count).sum(),
        }
    }

    /// Nesting depth (a primitive is 1), computed without recursion.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            max = max.max(d);
            match e {
                Expr::Not(x) => stack.push((x, d + 1)),
                Expr::And(es) | Expr::Or(es) => stack.extend(es.iter().map(|x| (x, d + 1))),
                Expr::Const(_) | Expr::Prim(_) => {}
            }
        }
        max
    }

    /// `a and b`, flattening chains (evaluation order and short circuits are unchanged).
    pub(crate) fn and(a: Expr, b: Expr) -> Expr {
        Expr::join(a, b, true)
    }

    /// `a or b`, flattening chains.
    pub(crate) fn or(a: Expr, b: Expr) -> Expr {
        Expr::join(a, b, false)
    }

    fn join(a: Expr, b: Expr, is_and: bool) -> Expr {
        // Appends to an existing chain in place, so long `or` lists build in linear time.
        let mut v = match a {
            Expr::And(es) if is_and => es,
            Expr::Or(es) if !is_and => es,
            e => vec![e],
        };
        match b {
            Expr::And(es) if is_and => v.extend(es),
            Expr::Or(es) if !is_and => v.extend(es),
            e => v.push(e),
        }
        if is_and {
            Expr::And(v)
        } else {
            Expr::Or(v)
        }
    }

    /// Folds constants and double negations away, so that the result is either a lone
    /// `Const` or free of them. `x and false` is false even if `x` cannot be decided (the
    /// packet is rejected either way); `x or true` is true, as libpcap's optimizer makes it.
    pub(crate) fn simplify(self) -> Expr {
        match self {
            Expr::Not(e) => match e.simplify() {
                Expr::Const(b) => Expr::Const(!b),
                Expr::Not(inner) => *inner,
                e => Expr::Not(Box::new(e)),
            },
            Expr::And(es) => Expr::fold_list(es, true),
            Expr::Or(es) => Expr::fold_list(es, false),
            e => e,
        }
    }

    fn fold_list(es: Vec<Expr>, is_and: bool) -> Expr {
        let mut out = Vec::new();
        for e in es {
            match e.simplify() {
                // The neutral element drops out; the absorbing one decides the list.
                Expr::Const(b) if b == is_and => {}
                Expr::Const(b) => return Expr::Const(b),
                e => out.push(e),
            }
        }
        match out.len() {
            0 => Expr::Const(is_and),
            1 => out.pop().unwrap_or(Expr::Const(is_and)),
            _ => out
                .into_iter()
                .reduce(|a, b| Expr::join(a, b, is_and))
                .unwrap_or(Expr::Const(is_and)),
        }
    }
}

fn dir_prefix(d: Dir) -> &'static str {
    match d {
        Dir::Any => "",
        Dir::Src => "src ",
        Dir::Dst => "dst ",
        Dir::Both => "src and dst ",
    }
}

impl fmt::Display for Prim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Prim::Ip => f.write_str("ip"),
            Prim::Ip6 => f.write_str("ip6"),
            Prim::Tcp => f.write_str("tcp"),
            Prim::Host4 { dir, addr, mask } => {
                let m = u32::from(mask);
                let d = dir_prefix(dir);
                if m == u32::MAX {
                    write!(f, "{d}host {addr}")
                } else if m.leading_ones() + m.trailing_zeros() == 32 {
                    write!(f, "{d}net {addr}/{}", m.leading_ones())
                } else {
                    write!(f, "{d}net {addr} mask {mask}")
                }
            }
            Prim::Host6 { dir, addr, prefix } => {
                let d = dir_prefix(dir);
                if prefix == 128 {
                    write!(f, "{d}host {addr}")
                } else {
                    write!(f, "{d}net {addr}/{prefix}")
                }
            }
            Prim::Port { dir, lo, hi } => {
                let d = dir_prefix(dir);
                if lo == hi {
                    write!(f, "{d}port {lo}")
                } else {
                    write!(f, "{d}portrange {lo}-{hi}")
                }
            }
            Prim::Len { cmp, value } => match cmp {
                Cmp::Le => write!(f, "less {value}"),
                Cmp::Ge => write!(f, "greater {value}"),
                c => write!(f, "len {} {value}", c.symbol()),
            },
            Prim::TcpFlags { mask, cmp, value } => {
                if mask == 0xff {
                    write!(f, "tcp[tcpflags] {} {value:#x}", cmp.symbol())
                } else {
                    write!(f, "tcp[tcpflags] & {mask:#x} {} {value:#x}", cmp.symbol())
                }
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Const(true) => f.write_str("1 = 1"),
            Expr::Const(false) => f.write_str("1 = 0"),
            Expr::Prim(p) => p.fmt(f),
            Expr::Not(e) => match **e {
                Expr::And(_) | Expr::Or(_) => write!(f, "not ({e})"),
                _ => write!(f, "not {e}"),
            },
            Expr::And(es) | Expr::Or(es) => {
                let op = if matches!(self, Expr::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    match e {
                        Expr::And(_) | Expr::Or(_) => write!(f, "({e})")?,
                        _ => write!(f, "{e}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u16) -> Expr {
        Expr::Prim(Prim::Port {
            dir: Dir::Any,
            lo: n,
            hi: n,
        })
    }

    #[test]
    fn chains_flatten_and_constants_fold() {
        let e = Expr::and(Expr::and(p(1), p(2)), p(3));
        assert_eq!(e, Expr::And(vec![p(1), p(2), p(3)]));
        let e = Expr::or(p(1), Expr::Const(true)).simplify();
        assert_eq!(e, Expr::Const(true));
        let e = Expr::and(p(1), Expr::Const(true)).simplify();
        assert_eq!(e, p(1));
        let e = Expr::and(Expr::Const(false), p(2)).simplify();
        assert_eq!(e, Expr::Const(false));
        let e = Expr::Not(Box::new(Expr::Not(Box::new(p(4))))).simplify();
        assert_eq!(e, p(4));
        let e = Expr::or(Expr::Const(false), Expr::and(p(1), Expr::Const(true))).simplify();
        assert_eq!(e, p(1));
    }

    #[test]
    fn display_parenthesizes_mixed_chains() {
        let e = Expr::and(Expr::or(p(1), p(2)), Expr::Not(Box::new(p(3))));
        assert_eq!(e.to_string(), "(port 1 or port 2) and not port 3");
        let e = Expr::Not(Box::new(Expr::or(p(1), p(2))));
        assert_eq!(e.to_string(), "not (port 1 or port 2)");
    }

    #[test]
    fn display_of_primitives() {
        let h = |m: [u8; 4]| Prim::Host4 {
            dir: Dir::Src,
            addr: Ipv4Addr::new(10, 0, 0, 0),
            mask: m.into(),
        };
        assert_eq!(h([255; 4]).to_string(), "src host 10.0.0.0");
        assert_eq!(h([255, 0, 0, 0]).to_string(), "src net 10.0.0.0/8");
        assert_eq!(
            h([255, 0, 255, 0]).to_string(),
            "src net 10.0.0.0 mask 255.0.255.0"
        );
        let n6 = Prim::Host6 {
            dir: Dir::Both,
            addr: "fd77::".parse().unwrap(),
            prefix: 16,
        };
        assert_eq!(n6.to_string(), "src and dst net fd77::/16");
        let r = Prim::Port {
            dir: Dir::Dst,
            lo: 1,
            hi: 9,
        };
        assert_eq!(r.to_string(), "dst portrange 1-9");
        let fl = Prim::TcpFlags {
            mask: 0x12,
            cmp: Cmp::Ne,
            value: 0,
        };
        assert_eq!(fl.to_string(), "tcp[tcpflags] & 0x12 != 0x0");
    }

    #[test]
    fn v6_masks() {
        assert_eq!(v6_mask(0), [0; 16]);
        assert_eq!(v6_mask(128), [0xff; 16]);
        let m = v6_mask(20);
        assert_eq!(&m[..4], &[0xff, 0xff, 0xf0, 0]);
    }
}
