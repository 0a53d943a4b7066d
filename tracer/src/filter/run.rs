//! Filtering a captured packet in userspace.
//!
//! A packet whose headers were captured completely runs the compiled program through the
//! kernel's own `eval_insn`, so `tracer -r` and the kernel agree. A packet cut short by the
//! snap length takes a slower path over the expression that makes libpcap's loads in
//! libpcap's order: the filter rejects the packet at the first load past the captured bytes,
//! and not at a load libpcap would never make (`src host A or port 80` is decided by the
//! source address alone when it matches, even if the ports were not captured). It also
//! copies the reordering of libpcap's optimizer that changes which loads happen
//! (`or_pullup`): in a run of host tests, or of port and flags tests, within an `or` chain
//! (or an `and` chain of negations) the comparisons of one value are pulled together, so
//! `port 80 or 8080` compares the source port with both before loading the destination
//! port. The model is checked against tcpdump on every prefix of the corpus packets.

use super::ast::{Cmp, Dir, Expr, Prim};
use crate::packet::{LinkType, Packet};
use tracer_common::fields::{bit, extract_fields, extract_network_fields, PacketFields};
use tracer_common::filter::{dir, eval_insn, FilterInsn, FilterOp, NotCaptured, ACCEPT, REJECT};

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const IPPROTO_TCP: u8 = 6;
const PPP_IP: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const IPPROTO_FRAGMENT: u8 = 44;

/// The captured bytes, with where the network header starts.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Frame<'a> {
    pub data: &'a [u8],
    pub l3: usize,
    /// The link layer's protocol field (or the IP version nibble) was captured.
    pub link_ok: bool,
}

fn be16(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]))
}

fn be32(d: &[u8], off: usize) -> Option<u32> {
    let b = d.get(off..off + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The fields of a frame whose `hdr`-byte link header says `ethertype` (0: not IP), and
/// whether that header was captured.
fn network_after(pkt: &Packet, hdr: usize, ethertype: u16) -> (PacketFields, usize, bool) {
    (
        extract_network_fields(pkt.data, hdr, ethertype, pkt.wire_len),
        hdr,
        pkt.data.len() >= hdr,
    )
}

/// The ethertype of a BSD address family: 2 is IPv4, and IPv6 is 24, 28 or 30 (OpenBSD,
/// FreeBSD, macOS), all of which libpcap's `ip6` accepts.
fn family_ethertype(family: Option<u32>) -> u16 {
    match family {
        Some(2) => ETH_P_IP,
        Some(24 | 28 | 30) => ETH_P_IPV6,
        _ => 0,
    }
}

/// Extracts the filter fields per link type, the way libpcap finds the network layer.
pub(crate) fn frame_fields<'a>(pkt: &Packet<'a>) -> (PacketFields, Frame<'a>) {
    let d = pkt.data;
    let (f, l3, link_ok) = match pkt.link {
        LinkType::Ethernet => {
            let f = extract_fields(d, pkt.wire_len);
            (f, f.l3_offset as usize, d.len() >= 14)
        }
        LinkType::Raw => {
            let et = match d.first().map(|b| b >> 4) {
                Some(4) => ETH_P_IP,
                Some(6) => ETH_P_IPV6,
                _ => 0,
            };
            (
                extract_network_fields(d, 0, et, pkt.wire_len),
                0,
                !d.is_empty(),
            )
        }
        LinkType::Null { big_endian } => {
            // libpcap compares the family in the file's byte order (tcpdump's printer
            // guesses the order instead).
            let family = d.get(..4).map(|b| {
                let b = [b[0], b[1], b[2], b[3]];
                if big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }
            });
            network_after(pkt, 4, family_ethertype(family))
        }
        LinkType::Loop => network_after(pkt, 4, family_ethertype(be32(d, 0))),
        LinkType::Ipv4 => (
            extract_network_fields(d, 0, ETH_P_IP, pkt.wire_len),
            0,
            true,
        ),
        LinkType::Ipv6 => (
            extract_network_fields(d, 0, ETH_P_IPV6, pkt.wire_len),
            0,
            true,
        ),
        LinkType::Ppp | LinkType::PppHdlc => {
            // The PPP protocol at offset 2, whatever the framing (libpcap does not look
            // for compressed address, control or protocol fields).
            let et = match be16(d, 2) {
                Some(PPP_IP) => ETH_P_IP,
                Some(PPP_IPV6) => ETH_P_IPV6,
                _ => 0,
            };
            network_after(pkt, 4, et)
        }
        LinkType::CHdlc => network_after(pkt, 4, be16(d, 2).unwrap_or(0)),
        LinkType::LinuxSll => {
            let et = be16(d, 14).unwrap_or(0);
            (
                extract_network_fields(d, 16, et, pkt.wire_len),
                16,
                d.len() >= 16,
            )
        }
        LinkType::LinuxSll2 => {
            let et = be16(d, 0).unwrap_or(0);
            (
                extract_network_fields(d, 20, et, pkt.wire_len),
                20,
                d.len() >= 2,
            )
        }
    };
    (
        f,
        Frame {
            data: d,
            l3,
            link_ok,
        },
    )
}

/// Whether every byte any supported test could load was captured, so that the fields alone
/// decide every instruction exactly.
pub(crate) fn fully_captured(f: &PacketFields, fr: &Frame) -> bool {
    if !fr.link_ok {
        return false;
    }
    if f.has(bit::VLAN_IN_BAND) || f.ip_version == 0 {
        // Only the link-layer protocol is ever loaded.
        return true;
    }
    let (n, l3) = (fr.data.len(), fr.l3);
    if f.ip_version == 4 {
        n >= l3 + 20 && (!f.has(bit::PCAP_PORTS) || n >= f.l4_offset as usize + 14)
    } else {
        n >= l3 + 40
            && (fr.data[l3 + 6] != IPPROTO_FRAGMENT || n > l3 + 40)
            && (!f.has(bit::PCAP_PORTS) || n >= l3 + 44)
    }
}

/// Evaluates `e` on a packet that was not [`fully_captured`], with libpcap's loads.
pub(crate) fn eval_cut(e: &Expr, f: &PacketFields, fr: &Frame) -> Result<bool, NotCaptured> {
    match e {
        Expr::Const(b) => Ok(*b),
        Expr::Prim(p) => eval_partial(&p.insn(ACCEPT, REJECT), f, fr),
        Expr::Not(x) => Ok(!eval_cut(x, f, fr)?),
        Expr::Or(xs) => chain(xs, false, f, fr),
        Expr::And(xs) => chain(xs, true, f, fr),
    }
}

/// Tests whose comparisons libpcap's optimizer pulls together when they follow each other
/// in a chain: a run of host tests, or a run of port and TCP-flags tests (their protocol
/// checks are the same, so nothing stands between the comparisons).
#[derive(Copy, Clone, PartialEq, Eq)]
enum RunKind {
    Host,
    Tcp,
}

/// The test of a chain element that can join a run (`not TEST` in an `and` chain). Only a
/// test that is one comparison per field, jumping out of the chain when true, is pulled:
/// not a port range (two comparisons), not `src and dst`, not a comparison libpcap
/// generates reversed (`!=`, `<`, `<=`), not a multi-word IPv6 address.
fn pullable(e: &Expr, is_and: bool) -> Option<(&Prim, RunKind)> {
    let p = match (e, is_and) {
        (Expr::Prim(p), false) => p,
        (Expr::Not(x), true) => match &**x {
            Expr::Prim(p) => p,
            _ => return None,
        },
        _ => return None,
    };
    match *p {
        Prim::Host4 { dir, .. } if dir != Dir::Both => Some((p, RunKind::Host)),
        Prim::Port { dir, lo, hi } if dir != Dir::Both && lo == hi => Some((p, RunKind::Tcp)),
        Prim::TcpFlags { mask, cmp, value } => {
            // `& m != 0` and `& m = 0` become one `jset`, which tcpdump's optimizer pulls
            // past; reversed `jeq`/`jgt`/`jge` (`!=`, `<`, `<=`) it does not.
            let jset = mask != 0xff && value == 0 && matches!(cmp, Cmp::Eq | Cmp::Ne);
            let straight = matches!(cmp, Cmp::Eq | Cmp::Gt | Cmp::Ge);
            (jset || straight).then_some((p, RunKind::Tcp))
        }
        _ => None,
    }
}

/// An `or` chain (`is_and` false) or an `and` chain, left to right; runs of pullable tests
/// are decided together by [`pulled_any`].
fn chain(xs: &[Expr], is_and: bool, f: &PacketFields, fr: &Frame) -> Result<bool, NotCaptured> {
    let mut i = 0;
    while i < xs.len() {
        let run = match pullable(&xs[i], is_and) {
            Some((_, kind)) => xs[i..]
                .iter()
                .take_while(|x| pullable(x, is_and).is_some_and(|(_, k)| k == kind))
                .count(),
            None => 0,
        };
        // In an `and` chain a run holds negations: one true test makes the chain false.
        let decided = if run == 0 {
            eval_cut(&xs[i], f, fr)? != is_and
        } else {
            pulled_any(&xs[i..i + run], is_and, f, fr)?
        };
        if decided {
            return Ok(!is_and);
        }
        i += run.max(1);
    }
    Ok(is_and)
}

/// A value a run compares: libpcap's optimizer groups comparisons by the value in its
/// accumulator, so a masked address or flags byte is a value of its own.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Value {
    Host { src: bool, mask: u32 },
    Port { src: bool },
    Flags { mask: u8 },
}

fn values_of(p: &Prim) -> [Option<Value>; 2] {
    let sides = |d: Dir| match d {
        Dir::Src => [Some(true), None],
        Dir::Dst => [Some(false), None],
        _ => [Some(true), Some(false)],
    };
    match *p {
        Prim::Host4 { dir, mask, .. } => sides(dir).map(|s| {
            s.map(|src| Value::Host {
                src,
                mask: u32::from(mask),
            })
        }),
        Prim::Port { dir, .. } => sides(dir).map(|s| s.map(|src| Value::Port { src })),
        // `jset` tests the raw byte; `and m; jeq v` tests the masked one.
        Prim::TcpFlags { mask, cmp, value } => {
            let raw = mask == 0xff || (matches!(cmp, Cmp::Eq | Cmp::Ne) && value == 0);
            let mask = if raw { 0xff } else { mask };
            [Some(Value::Flags { mask }), None]
        }
        _ => [None, None],
    }
}

/// Whether any test of a run is true, with the run's comparisons grouped by value in the
/// order the values first appear, each field loaded when first needed.
fn pulled_any(
    xs: &[Expr],
    is_and: bool,
    f: &PacketFields,
    fr: &Frame,
) -> Result<bool, NotCaptured> {
    if !fr.link_ok {
        return Err(NotCaptured);
    }
    if f.has(bit::VLAN_IN_BAND) || f.ip_version == 0 {
        return Ok(false);
    }
    let prims = || {
        xs.iter()
            .filter_map(|x| pullable(x, is_and))
            .map(|(p, _)| p)
    };
    let (d, l3) = (fr.data, fr.l3);
    let v4 = f.ip_version == 4;
    // The protocol checks, made when the first value needing them is compared.
    let (mut ports_ok, mut flags_ok) = (None, None);
    for (i, p) in prims().enumerate() {
        for value in values_of(p).into_iter().flatten() {
            // Each value is compared where it first appears, against all tests having it.
            if prims().take(i).any(|q| values_of(q).contains(&Some(value))) {
                continue;
            }
            let ok = match value {
                Value::Host { .. } => v4,
                Value::Port { .. } => match ports_ok {
                    Some(ok) => ok,
                    None => {
                        let ok = if v4 {
                            *d.get(l3 + 9).ok_or(NotCaptured)? == IPPROTO_TCP
                                && f.has(bit::PCAP_PORTS)
                        } else {
                            *d.get(l3 + 6).ok_or(NotCaptured)? == IPPROTO_TCP
                        };
                        *ports_ok.insert(ok)
                    }
                },
                Value::Flags { .. } => match flags_ok {
                    Some(ok) => ok,
                    None => {
                        let ok = v4 && {
                            d.get(l3 + 9).ok_or(NotCaptured)?;
                            f.has(bit::PCAP_TCPHDR)
                        };
                        *flags_ok.insert(ok)
                    }
                },
            };
            if !ok {
                continue;
            }
            let l4 = if v4 { f.l4_offset as usize } else { l3 + 40 };
            let loaded = match value {
                // A zero mask needs no load: libpcap's optimizer drops the comparison.
                Value::Host { mask: 0, .. } => Some(0),
                Value::Host { src, .. } => be32(d, if src { l3 + 12 } else { l3 + 16 }),
                Value::Port { src } => be16(d, if src { l4 } else { l4 + 2 }).map(u32::from),
                Value::Flags { .. } => d.get(l4 + 13).map(|&b| u32::from(b)),
            };
            let v = loaded.ok_or(NotCaptured)?;
            let hit = prims().any(|q| {
                values_of(q).contains(&Some(value))
                    && match *q {
                        Prim::Port { lo, .. } => v == lo as u32,
                        Prim::Host4 { addr, mask, .. } => {
                            let m = u32::from(mask);
                            v & m == u32::from(addr) & m
                        }
                        Prim::TcpFlags { mask, cmp, value } => cmp.eval(v & mask as u32, value),
                        _ => false,
                    }
            });
            if hit {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Decides `a` (source side) and `b` (destination side) in libpcap's order: the source
/// first, the destination only when still needed.
fn lazy_dir(
    d: u8,
    a: impl Fn() -> Result<bool, NotCaptured>,
    b: impl Fn() -> Result<bool, NotCaptured>,
) -> Result<bool, NotCaptured> {
    Ok(match d {
        dir::SRC => a()?,
        dir::DST => b()?,
        dir::BOTH => a()? && b()?,
        _ => a()? || b()?,
    })
}

/// One instruction on a packet cut short, loading what libpcap loads, in its order.
fn eval_partial(insn: &FilterInsn, f: &PacketFields, fr: &Frame) -> Result<bool, NotCaptured> {
    let op = FilterOp::from_u8(insn.op);
    if op == Some(FilterOp::Len) {
        return eval_insn(insn, f);
    }
    if !fr.link_ok {
        return Err(NotCaptured);
    }
    if f.has(bit::VLAN_IN_BAND) || f.ip_version == 0 {
        return eval_insn(insn, f);
    }
    let (d, l3) = (fr.data, fr.l3);
    let byte = |off: usize| d.get(off).copied().ok_or(NotCaptured);
    let v4 = f.ip_version == 4;
    match op {
        Some(FilterOp::Tcp) => {
            if v4 {
                byte(l3 + 9)?;
            } else if byte(l3 + 6)? == IPPROTO_FRAGMENT {
                byte(l3 + 40)?;
            }
            eval_insn(insn, f)
        }
        Some(op @ (FilterOp::Host4 | FilterOp::Host6)) => {
            let want6 = op == FilterOp::Host6;
            if want6 == v4 {
                return Ok(false);
            }
            let (src, dst, words) = if v4 {
                (l3 + 12, l3 + 16, 1)
            } else {
                (l3 + 8, l3 + 24, 4)
            };
            // libpcap compares 32-bit words in order and skips words the mask clears.
            let side = |base: usize| -> Result<bool, NotCaptured> {
                for w in 0..words {
                    let m = u32::from_be_bytes([
                        insn.mask[4 * w],
                        insn.mask[4 * w + 1],
                        insn.mask[4 * w + 2],
                        insn.mask[4 * w + 3],
                    ]);
                    if m == 0 {
                        continue;
                    }
                    let a = u32::from_be_bytes([
                        insn.addr[4 * w],
                        insn.addr[4 * w + 1],
                        insn.addr[4 * w + 2],
                        insn.addr[4 * w + 3],
                    ]);
                    if be32(d, base + 4 * w).ok_or(NotCaptured)? & m != a {
                        return Ok(false);
                    }
                }
                Ok(true)
            };
            lazy_dir(insn.dir, || side(src), || side(dst))
        }
        Some(FilterOp::Port) => {
            let l4 = if v4 {
                // The fragment offset and header length precede the protocol byte.
                if byte(l3 + 9)? != IPPROTO_TCP || !f.has(bit::PCAP_PORTS) {
                    return Ok(false);
                }
                f.l4_offset as usize
            } else {
                if byte(l3 + 6)? != IPPROTO_TCP {
                    return Ok(false);
                }
                l3 + 40
            };
            let side = |off: usize| -> Result<bool, NotCaptured> {
                let p = be16(d, off).ok_or(NotCaptured)? as u32;
                Ok(insn.a <= p && p <= insn.b)
            };
            lazy_dir(insn.dir, || side(l4), || side(l4 + 2))
        }
        Some(FilterOp::TcpFlags) => {
            if !v4 {
                return Ok(false);
            }
            byte(l3 + 9)?;
            if !f.has(bit::PCAP_TCPHDR) {
                return Ok(false);
            }
            byte(f.l4_offset as usize + 13)?;
            eval_insn(insn, f)
        }
        _ => eval_insn(insn, f),
    }
}
