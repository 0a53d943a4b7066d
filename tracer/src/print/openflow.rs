//! OpenFlow (tcpdump's print-openflow.c): `: OpenFlow` and, for every message of the
//! segment, `version 1.0, type FLOW_MOD, length 80, xid 0x00000001` with tcpdump's length
//! checks (` (invalid)`, ` (too short!)`, ` (end of TCP payload)`). With `-v` tcpdump
//! decodes the message bodies (print-openflow-1.0.c, print-openflow-1.3.c); of those only
//! the HELLO/ECHO data form is ported here, so other bodies print nothing at `-v`.

use super::ctx::{Ctx, Trunc, R};
use super::util::Tok;

const OFVER: &Tok = &[
    (1, "1.0"),
    (2, "1.1"),
    (3, "1.2"),
    (4, "1.3"),
    (5, "1.4"),
    (6, "1.5"),
];

#[derive(Clone, Copy, PartialEq)]
enum Req {
    None,
    Fix(u16),
    Min(u16),
}

/// How a message body is decoded with `-v`.
#[derive(Clone, Copy, PartialEq)]
enum Dec {
    /// No decoder: the body is only bounds-checked.
    No,
    /// `of_data_print`.
    Data,
    /// A decoder of print-openflow-1.x.c that is not ported.
    Other,
}

/// `of10_msgtypeinfo`.
const OF10: [(&str, Dec, Req); 22] = [
    ("HELLO", Dec::Data, Req::Min(0)),
    ("ERROR", Dec::Other, Req::Min(4)),
    ("ECHO_REQUEST", Dec::Data, Req::Min(0)),
    ("ECHO_REPLY", Dec::Data, Req::Min(0)),
    ("VENDOR", Dec::Other, Req::Min(4)),
    ("FEATURES_REQUEST", Dec::No, Req::Fix(0)),
    ("FEATURES_REPLY", Dec::Other, Req::Min(24)),
    ("GET_CONFIG_REQUEST", Dec::No, Req::Fix(0)),
    ("GET_CONFIG_REPLY", Dec::Other, Req::Fix(4)),
    ("SET_CONFIG", Dec::Other, Req::Fix(4)),
    ("PACKET_IN", Dec::Other, Req::Min(10)),
    ("FLOW_REMOVED", Dec::Other, Req::Fix(80)),
    ("PORT_STATUS", Dec::Other, Req::Fix(56)),
    ("PACKET_OUT", Dec::Other, Req::Min(8)),
    ("FLOW_MOD", Dec::Other, Req::Min(64)),
    ("PORT_MOD", Dec::Other, Req::Fix(24)),
    ("STATS_REQUEST", Dec::Other, Req::Min(4)),
    ("STATS_REPLY", Dec::Other, Req::Min(4)),
    ("BARRIER_REQUEST", Dec::No, Req::Fix(0)),
    ("BARRIER_REPLY", Dec::No, Req::Fix(0)),
    ("QUEUE_GET_CONFIG_REQUEST", Dec::Other, Req::Fix(4)),
    ("QUEUE_GET_CONFIG_REPLY", Dec::Other, Req::Min(8)),
];

/// `of13_msgtypeinfo`.
const OF13: [(&str, Dec, Req); 30] = [
    ("HELLO", Dec::Other, Req::Min(0)),
    ("ERROR", Dec::Other, Req::Min(4)),
    ("ECHO_REQUEST", Dec::Data, Req::Min(0)),
    ("ECHO_REPLY", Dec::Data, Req::Min(0)),
    ("EXPERIMENTER", Dec::Other, Req::Min(8)),
    ("FEATURES_REQUEST", Dec::No, Req::Fix(0)),
    ("FEATURES_REPLY", Dec::Other, Req::Fix(24)),
    ("GET_CONFIG_REQUEST", Dec::No, Req::Fix(0)),
    ("GET_CONFIG_REPLY", Dec::Other, Req::Fix(4)),
    ("SET_CONFIG", Dec::Other, Req::Fix(4)),
    ("PACKET_IN", Dec::No, Req::None),
    ("FLOW_REMOVED", Dec::No, Req::None),
    ("PORT_STATUS", Dec::Other, Req::Fix(72)),
    ("PACKET_OUT", Dec::No, Req::None),
    ("FLOW_MOD", Dec::No, Req::None),
    ("GROUP_MOD", Dec::No, Req::None),
    ("PORT_MOD", Dec::Other, Req::Fix(32)),
    ("TABLE_MOD", Dec::Other, Req::Fix(8)),
    ("MULTIPART_REQUEST", Dec::No, Req::None),
    ("MULTIPART_REPLY", Dec::No, Req::None),
    ("BARRIER_REQUEST", Dec::No, Req::Fix(0)),
    ("BARRIER_REPLY", Dec::No, Req::Fix(0)),
    ("QUEUE_GET_CONFIG_REQUEST", Dec::Other, Req::Fix(8)),
    ("QUEUE_GET_CONFIG_REPLY", Dec::No, Req::None),
    ("ROLE_REQUEST", Dec::Other, Req::Fix(16)),
    ("ROLE_REPLY", Dec::Other, Req::Fix(16)),
    ("GET_ASYNC_REQUEST", Dec::No, Req::Fix(0)),
    ("GET_ASYNC_REPLY", Dec::Other, Req::Fix(24)),
    ("SET_ASYNC", Dec::Other, Req::Fix(24)),
    ("METER_MOD", Dec::No, Req::None),
];

fn tcheck(c: &Ctx, cp: usize, len: u32) -> R<()> {
    if c.ttest(cp, len as usize) {
        Ok(())
    } else {
        Err(Trunc)
    }
}

/// `of_message_print`: the body after the 8-byte header.
fn message(c: &mut Ctx, cp: usize, len: u16, mti: Option<(&str, Dec, Req)>) -> R<()> {
    let len32 = len as u32;
    let Some((_, dec, req)) = mti else {
        return tcheck(c, cp, len32);
    };
    let bad = match req {
        Req::Fix(v) => len != v,
        Req::Min(v) => len < v,
        Req::None => false,
    };
    if bad {
        c.invalid();
        return tcheck(c, cp, len32);
    }
    if c.opts.verbose == 0 || dec != Dec::Data {
        return tcheck(c, cp, len32);
    }
    // of_data_print
    if len == 0 {
        return Ok(());
    }
    c.s("\n\t data (");
    c.num(len);
    c.s(" octets)");
    if c.opts.verbose >= 2 {
        c.hex_and_ascii_print("\n\t  ", cp, len32)
    } else {
        tcheck(c, cp, len32)
    }
}

/// `openflow_print`.
pub(crate) fn print(c: &mut Ctx, cp: usize, len: u32) -> R<()> {
    c.proto = "openflow";
    c.s(": OpenFlow");
    let mut cp = cp;
    let mut len = len;
    while len != 0 {
        let version = c.u8(cp)?;
        cp += 1;
        len -= 1;
        c.s("\n\tversion ");
        c.tok(OFVER, "unknown (0x%02x)", version as u32);
        if len < 1 {
            return partial(c, cp, len);
        }
        let t = c.u8(cp)?;
        cp += 1;
        len -= 1;
        let mti = match version {
            1 => OF10.get(t as usize).copied(),
            4 => OF13.get(t as usize).copied(),
            _ => None,
        };
        match mti {
            Some((name, _, _)) => {
                c.s(", type ");
                c.s(name);
            }
            None => {
                c.s(", type unknown (0x");
                c.hex(t, 2);
                c.b(b')');
            }
        }
        if len < 2 {
            return partial(c, cp, len);
        }
        let length = c.be16(cp)?;
        cp += 2;
        len -= 2;
        c.s(", length ");
        c.num(length);
        if length < 8 {
            c.s(" (too short!)");
        }
        if len < 4 {
            return partial(c, cp, len);
        }
        let xid = c.be32(cp)?;
        c.s(", xid 0x");
        c.hex(xid, 8);
        cp += 4;
        len -= 4;
        if length < 8 {
            c.invalid();
            return tcheck(c, cp, len);
        }
        message(c, cp, length - 8, mti)?;
        if (length - 8) as u32 > len {
            break;
        }
        cp += (length - 8) as usize;
        len -= (length - 8) as u32;
    }
    Ok(())
}

fn partial(c: &mut Ctx, cp: usize, len: u32) -> R<()> {
    c.s(" (end of TCP payload)");
    tcheck(c, cp, len)
}
