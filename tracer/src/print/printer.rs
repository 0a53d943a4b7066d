//! [`Printer`]: one packet in, tcpdump's line out; the dispatch on the link type.

use std::sync::Arc;
use std::time::Duration;

use super::ctx::Ctx;
use super::names::{self, Resolver, SystemResolver};
use super::options::PrintOptions;
use super::{chdlc, ctx, ether, hexdump, ip, null, ppp, seq, sll, time, write, xid};
use crate::packet::{LinkType, Packet};

/// libpcap's MAXIMUM_SNAPLEN: tcpdump rejects larger caplen/len as invalid headers.
const MAXIMUM_SNAPLEN: u32 = 262_144;

/// Turns packets into tcpdump lines; keeps the state tcpdump keeps between packets
/// (relative sequence numbers, previous timestamp, name caches).
pub struct Printer {
    opts: PrintOptions,
    names: names::Names,
    seq: seq::SeqTable,
    nfs: xid::XidMap,
    clock: time::Clock,
}

impl Printer {
    /// A printer that resolves names through this machine ([`SystemResolver`]).
    pub fn new(opts: PrintOptions) -> Printer {
        Printer::with_resolver(opts, Arc::new(SystemResolver))
    }

    /// A printer with its own source of host, port and interface names (for tests, or to
    /// print `-i any` captures with another machine's interface names).
    pub fn with_resolver(opts: PrintOptions, resolver: Arc<dyn Resolver>) -> Printer {
        Printer {
            names: names::Names::new(opts.numeric, resolver),
            seq: seq::SeqTable::default(),
            nfs: xid::XidMap::default(),
            clock: time::Clock::new(opts.timestamp),
            opts,
        }
    }

    /// Changes how long a packet may wait for a new host name (default [`LOOKUP_BOUND`]).
    pub fn set_lookup_bound(&mut self, bound: Duration) {
        self.names.set_bound(bound);
    }

    /// Appends the full text tcpdump prints for `pkt` (newline included) to `out`.
    pub fn print(&mut self, pkt: &Packet, out: &mut Vec<u8>) {
        let caplen = pkt.data.len() as u64;
        let len = pkt.wire_len as u64;
        // pretty_print_packet's sanity checks.
        let mut invalid = false;
        fn note(invalid: &mut bool, out: &mut Vec<u8>, s: &str) {
            if !*invalid {
                *invalid = true;
                out.extend_from_slice(b"[Invalid header:");
            } else {
                out.push(b',');
            }
            out.extend_from_slice(s.as_bytes());
        }
        if caplen == 0 {
            invalid = true;
            out.extend_from_slice(b"[Invalid header: caplen==0");
        }
        if len == 0 {
            note(&mut invalid, out, " len==0");
        } else if len < caplen {
            note(&mut invalid, out, " len(");
            write::dec(out, len);
            out.extend_from_slice(b") < caplen(");
            write::dec(out, caplen);
            out.push(b')');
        }
        if caplen > MAXIMUM_SNAPLEN as u64 {
            note(&mut invalid, out, " caplen(");
            write::dec(out, caplen);
            out.extend_from_slice(b") > 262144");
        }
        if len > MAXIMUM_SNAPLEN as u64 {
            note(&mut invalid, out, " len(");
            write::dec(out, len);
            out.extend_from_slice(b") > 262144");
        }
        if invalid {
            out.extend_from_slice(b"]\n");
            return;
        }

        self.clock.print(out, pkt.ts);

        let mut c = Ctx {
            d: pkt.data,
            snapend: pkt.data.len(),
            proto: "",
            out,
            opts: &self.opts,
            names: &mut self.names,
            seq: &mut self.seq,
            nfs: &mut self.nfs,
            ll_hdr_len: 0,
            depth: 0,
            ip_print: ip::print,
        };
        let r = match pkt.link {
            LinkType::Ethernet => ether::if_print(&mut c, pkt.wire_len),
            LinkType::Null { .. } | LinkType::Loop => null::if_print(&mut c, pkt.wire_len),
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => {
                sll::raw_if_print(&mut c, pkt.wire_len)
            }
            LinkType::Ppp => ppp::if_print(&mut c, pkt.wire_len),
            LinkType::PppHdlc => ppp::hdlc_if_print(&mut c, pkt.wire_len),
            LinkType::CHdlc => chdlc::if_print(&mut c, pkt.wire_len),
            LinkType::LinuxSll => sll::sll_if_print(&mut c, pkt.wire_len),
            LinkType::LinuxSll2 => sll::sll2_if_print(&mut c, pkt.wire_len),
        };
        let hdrlen = match r {
            Ok(()) => c.ll_hdr_len,
            Err(ctx::Trunc) => {
                c.trunc();
                0
            }
        };
        let d = pkt.data;
        if self.opts.hex_ascii > 0 {
            if self.opts.hex_ascii > 1 {
                hexdump::hex_ascii(out, d);
            } else if d.len() > hdrlen {
                hexdump::hex_ascii(out, &d[hdrlen..]);
            }
        } else if self.opts.hex > 0 {
            if self.opts.hex > 1 {
                hexdump::hex(out, d);
            } else if d.len() > hdrlen {
                hexdump::hex(out, &d[hdrlen..]);
            }
        } else if self.opts.ascii && d.len() > hdrlen {
            hexdump::ascii(out, &d[hdrlen..]);
        }
        out.push(b'\n');
    }
}
