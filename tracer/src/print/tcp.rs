//! TCP (tcpdump's print-tcp.c): ports, flags, relative sequence numbers, checksum,
//! options, length, and the payload hand-off to the application printers by port.

use super::ctx::{Ctx, Trunc, R};
use super::{
    beep, bgp, domain, http, ldp, msdp, nfs, openflow, pptp, resp, rpki_rtr, rtsp, ssh,
    tcp_options, telnet, txtproto,
};

use tracer_common::tcp_flag::{
    ACK as TH_ACK, CWR, ECE, FIN as TH_FIN, PSH, RST as TH_RST, SYN as TH_SYN, URG as TH_URG,
};

/// tcpdump's letter of each flag, in its order.
const FLAG_NAMES: [(u8, u8); 8] = [
    (TH_FIN, b'F'),
    (TH_SYN, b'S'),
    (TH_RST, b'R'),
    (PSH, b'P'),
    (TH_ACK, b'.'),
    (TH_URG, b'U'),
    (ECE, b'E'),
    (CWR, b'W'),
];

/// tcpdump's flag letters (`S.`, `FP.`), `none` for no flags.
pub(crate) fn flag_letters(out: &mut Vec<u8>, flags: u8) {
    if flags == 0 {
        out.extend_from_slice(b"none");
        return;
    }
    for (bit, ch) in FLAG_NAMES {
        if flags & bit != 0 {
            out.push(ch);
        }
    }
}

/// What tcp_print needs from the IP layer, which hands it down: the header's offset, its
/// version, and the layer's pseudo-header checksum (`nextproto4_cksum` or
/// `nextproto6_cksum`: over `len` bytes at `at` of the packet whose IP header is at `ip`,
/// for protocol `proto`), so that TCP never reaches back up into the IP printers.
#[derive(Clone, Copy)]
pub(crate) struct IpRef {
    pub at: usize,
    pub v6: bool,
    pub pseudo_cksum: PseudoCksum,
}

/// See [`IpRef::pseudo_cksum`]: `(ctx, ip, at, len, proto)`.
pub(crate) type PseudoCksum = fn(&Ctx, usize, usize, usize, u8) -> R<u16>;

impl IpRef {
    pub fn src_dst<'p>(&self, c: &Ctx<'p, '_>) -> R<(&'p [u8], &'p [u8])> {
        if self.v6 {
            Ok((c.bytes(self.at + 8, 16)?, c.bytes(self.at + 24, 16)?))
        } else {
            Ok((c.bytes(self.at + 12, 4)?, c.bytes(self.at + 16, 4)?))
        }
    }
}

fn addr(c: &mut Ctx, ipr: IpRef, dst: bool) -> R<()> {
    match (ipr.v6, dst) {
        (false, false) => c.ipaddr(ipr.at + 12),
        (false, true) => c.ipaddr(ipr.at + 16),
        (true, false) => c.ip6addr(ipr.at + 8),
        (true, true) => c.ip6addr(ipr.at + 24),
    }
}

fn port(c: &mut Ctx, p: u16) {
    c.names.write_tcp_port(c.out, p);
}

/// `tcp_print`: `tp` is the TCP header offset, `length` the IP payload length, `ipr` the
/// IP header.
pub(crate) fn print(c: &mut Ctx, tp: usize, length: u32, ipr: IpRef, fragmented: bool) -> R<()> {
    c.proto = "tcp";
    let iph = ipr.at;
    if !c.ttest(tp + 2, 2) {
        addr(c, ipr, false)?;
        c.s(" > ");
        addr(c, ipr, true)?;
        c.b(b':');
        c.trunc();
        return Ok(());
    }
    let sport = c.be16(tp)?;
    let dport = c.be16(tp + 2)?;
    let direct = if ipr.v6 {
        c.u8(iph + 6)? == 6
    } else {
        c.u8(iph + 9)? == 6
    };
    if direct {
        addr(c, ipr, false)?;
        c.b(b'.');
        port(c, sport);
        c.s(" > ");
        addr(c, ipr, true)?;
        c.b(b'.');
        port(c, dport);
        c.s(": ");
    } else {
        port(c, sport);
        c.s(" > ");
        port(c, dport);
        c.s(": ");
    }
    if !c.ttest(tp, 20) {
        c.trunc();
        return Ok(());
    }
    let hlen = ((c.u8(tp + 12)? >> 4) as u32) * 4;
    if hlen < 20 {
        c.s(" tcp ");
        c.num(length.wrapping_sub(hlen));
        c.s(" [bad hdr length ");
        c.num(hlen);
        c.s(" - too short, < 20]");
        return Ok(());
    }
    let mut seq = c.be32(tp + 4)?;
    let mut ack = c.be32(tp + 8)?;
    let win = c.be16(tp + 14)?;
    let urp = c.be16(tp + 18)?;
    if c.opts.quiet {
        c.s("tcp ");
        c.num(length.wrapping_sub(hlen));
        if hlen > length {
            c.s(" [bad hdr length ");
            c.num(hlen);
            c.s(" - too long, > ");
            c.num(length);
            c.b(b']');
        }
        return Ok(());
    }
    let flags = c.u8(tp + 13)?;
    c.s("Flags [");
    flag_letters(c.out, flags);
    c.b(b']');
    let (mut thseq, mut thack, mut rev) = (0, 0, false);
    if !c.opts.absolute_seq && flags & TH_ACK != 0 {
        let (src, dst) = ipr.src_dst(c)?;
        let r = c
            .seq
            .relate(src, dst, (sport, dport), flags & TH_SYN != 0, seq, ack);
        (seq, ack, thseq, thack, rev) = r;
    }
    if hlen > length {
        c.s(" [bad hdr length ");
        c.num(hlen);
        c.s(" - too long, > ");
        c.num(length);
        c.b(b']');
        return Ok(());
    }
    if c.opts.verbose > 0 && !fragmented && c.ttest(tp, length as usize) {
        let sum = (ipr.pseudo_cksum)(c, iph, tp, length as usize, 6)?;
        let tcp_sum = c.be16(tp + 16)?;
        c.s(", cksum 0x");
        c.hex(tcp_sum, 4);
        if sum != 0 {
            c.s(" (incorrect -> 0x");
            c.hex(crate::checksum::shouldbe(tcp_sum, sum), 4);
            c.b(b')');
        } else {
            c.s(" (correct)");
        }
    }
    let length = length - hlen;
    if c.opts.verbose > 1 || length > 0 || flags & (TH_SYN | TH_FIN | TH_RST) != 0 {
        c.s(", seq ");
        c.num(seq);
        if length > 0 {
            c.b(b':');
            c.num(seq.wrapping_add(length));
        }
    }
    if flags & TH_ACK != 0 {
        c.s(", ack ");
        c.num(ack);
    }
    c.s(", win ");
    c.num(win);
    if flags & TH_URG != 0 {
        c.s(", urg ");
        c.num(urp);
    }
    if hlen > 20 {
        let o = tcp_options::Opts {
            flags,
            rev,
            thseq,
            thack,
            payload_len: length,
            tp,
        };
        if !tcp_options::print(c, tp + 20, hlen as usize - 20, &o)? {
            return Ok(());
        }
    }
    c.s(", length ");
    c.num(length);
    if length == 0 {
        return Ok(());
    }
    if !c.ttest(tp, hlen as usize) {
        c.s(" [remaining caplen(");
        let a = c.avail(tp) as u32;
        c.num(a);
        c.s(") < header length(");
        c.num(hlen);
        c.s(")]");
        return Err(Trunc);
    }
    let bp = tp + hlen as usize;
    if flags & TH_RST != 0 && c.opts.verbose > 0 {
        rst_data(c, bp, length);
        return Ok(());
    }
    payload(c, bp, length, sport, dport, iph)
}

/// `print_tcp_rst_data`: up to 30 bytes of RST payload, escaped.
fn rst_data(c: &mut Ctx, sp: usize, length: u32) {
    let mut length = length as usize;
    c.s(if c.ttest(sp, length) {
        " [RST"
    } else {
        " [!RST"
    });
    if length > 30 {
        length = 30;
        c.b(b'+');
    }
    c.b(b' ');
    let mut p = sp;
    while length > 0 && p < c.snapend {
        let ch = c.d[p];
        p += 1;
        c.print_char(ch);
        length -= 1;
    }
    c.b(b']');
}

/// The port switch at the end of tcp_print: the first port in tcpdump's order that either
/// end uses picks the printer (so 22 <-> 80 is SSH). tcpdump 4.99.3 as Debian builds it has
/// no SMB printer (`--enable-smb` is off), so 139 and 445 fall through to the ports after
/// them. Ports tcpdump does not list (POP3, IMAP, SIP, ...) print only the TCP summary.
fn payload(c: &mut Ctx, bp: usize, length: u32, sport: u16, dport: u16, iph: usize) -> R<()> {
    let is = |p: u16| sport == p || dport == p;
    if is(23) {
        telnet::print(c, bp, length)
    } else if is(25) {
        c.s(": ");
        txtproto::smtp(c, bp, length)
    } else if is(43) {
        c.s(": ");
        txtproto::whois(c, bp, length)
    } else if is(179) {
        bgp::print(c, bp, length)
    } else if is(1723) {
        pptp::print(c, bp)
    } else if is(6379) {
        resp::print(c, bp, length)
    } else if is(22) {
        ssh::print(c, bp, length)
    } else if is(10288) {
        beep::print(c, bp, length)
    } else if is(6633) || is(6653) {
        openflow::print(c, bp, length)
    } else if is(21) {
        c.s(": ");
        txtproto::ftp(c, bp, length)
    } else if is(80) || is(8080) {
        c.s(": ");
        http::print(c, bp, length)
    } else if is(554) || is(8554) {
        c.s(": ");
        rtsp::print(c, bp, length)
    } else if is(53) {
        domain::print(c, bp, length)
    } else if is(639) {
        msdp::print(c, bp, length)
    } else if is(323) {
        rpki_rtr::print(c, bp, length)
    } else if is(646) {
        ldp::print(c, bp, length)
    } else if is(2049) && length >= 4 && c.ttest(bp, 4) {
        // NFS over TCP: the RPC record mark, then a call to or a reply from port 2049.
        let fraglen = (c.be32(bp)? & 0x7fff_ffff).min(length - 4);
        let rp = bp + 4;
        if c.ttest(rp + 4, 4) {
            let direction = c.be32(rp + 4)?;
            if dport == 2049 && direction == 0 {
                let xid = c.be32(rp)?;
                c.s(": NFS request xid ");
                c.num(xid);
                c.b(b' ');
                return nfs::request(c, rp, fraglen, iph);
            }
            if sport == 2049 && direction == 1 {
                let xid = c.be32(rp)?;
                c.s(": NFS reply xid ");
                c.num(xid);
                c.b(b' ');
                return nfs::reply(c, rp, fraglen, iph);
            }
        }
        Ok(())
    } else {
        Ok(())
    }
}
