//! PPTP control messages (tcpdump's print-pptp.c): `: pptp CTRL_MSGTYPE=SCCRQ
//! PROTO_VER(1.0) ...`, every field of the fifteen RFC 2637 control messages. Each field
//! is read before any of its text is written, as tcpdump's `ND_PRINT` evaluates its
//! arguments first, so truncation cuts the line at the same place.

use super::ctx::{Ctx, R};
use super::util::Tok;

const MSG_TYPE: [&str; 16] = [
    "NOT_DEFINED",
    "SCCRQ",
    "SCCRP",
    "StopCCRQ",
    "StopCCRP",
    "ECHORQ",
    "ECHORP",
    "OCRQ",
    "OCRP",
    "ICRQ",
    "ICRP",
    "ICCN",
    "CCRQ",
    "CDN",
    "WEN",
    "SLI",
];

const BTYPE: &Tok = &[(1, "A"), (2, "D"), (3, "Any")];
const FTYPE: &Tok = &[(1, "A"), (2, "S"), (3, "E")];
const ERRCODE: &Tok = &[
    (0, "None"),
    (1, "Not-Connected"),
    (2, "Bad-Format"),
    (3, "Bad-Value"),
    (4, "No-Resource"),
    (5, "Bad-Call-ID"),
    (6, "PAC-Error"),
];
const SCCRP: &Tok = &[
    (1, "Successful channel establishment"),
    (2, "General error"),
    (3, "Command channel already exists"),
    (
        4,
        "Requester is not authorized to establish a command channel",
    ),
    (5, "The protocol version of the requester is not supported"),
];
const ECHORP: &Tok = &[(1, "OK"), (2, "General Error")];
const OCRP: &Tok = &[
    (1, "Connected"),
    (2, "General Error"),
    (3, "No Carrier"),
    (4, "Busy"),
    (5, "No Dial Tone"),
    (6, "Time-out"),
    (7, "Do Not Accept"),
];
const ICRP: &Tok = &[(1, "Connect"), (2, "General Error"), (3, "Do Not Accept")];
const CDN: &Tok = &[
    (1, "Lost Carrier"),
    (2, "General Error"),
    (3, "Admin Shutdown"),
    (4, "Request"),
];

/// ` NAME(%u)` of a 16-bit field.
fn u16f(c: &mut Ctx, name: &str, off: usize) -> R<()> {
    let v = c.be16(off)?;
    c.s(name);
    c.num(v);
    c.b(b')');
    Ok(())
}

/// ` NAME(%u)` of a 32-bit field.
fn u32f(c: &mut Ctx, name: &str, off: usize) -> R<()> {
    let v = c.be32(off)?;
    c.s(name);
    c.num(v);
    c.b(b')');
    Ok(())
}

/// `PRINT_RESERVED_IF_NOT_ZERO_1/2`.
fn reserved(c: &mut Ctx, off: usize, two: bool) -> R<()> {
    let v = if two {
        c.be16(off)? as u32
    } else {
        c.u8(off)? as u32
    };
    if v != 0 {
        c.s(" [ERROR: reserved=");
        c.num(v);
        c.s(" must be zero]");
    }
    Ok(())
}

fn proto_ver(c: &mut Ctx, off: usize) -> R<()> {
    let v = c.be16(off)?;
    c.s(" PROTO_VER(");
    c.num(v >> 8);
    c.b(b'.');
    c.num(v & 0xff);
    c.b(b')');
    Ok(())
}

fn framing_cap(c: &mut Ctx, off: usize) -> R<()> {
    c.s(" FRAME_CAP(");
    let v = c.be32(off)?;
    if v & 1 != 0 {
        c.b(b'A');
    }
    if v & 2 != 0 {
        c.b(b'S');
    }
    c.b(b')');
    Ok(())
}

fn bearer_cap(c: &mut Ctx, off: usize) -> R<()> {
    let v = c.be32(off)?;
    c.s(" BEARER_CAP(");
    if v & 2 != 0 {
        c.b(b'D');
    }
    if v & 1 != 0 {
        c.b(b'A');
    }
    c.b(b')');
    Ok(())
}

fn tokf(c: &mut Ctx, name: &str, t: &Tok, off: usize) -> R<()> {
    let v = c.be32(off)?;
    c.s(name);
    c.tok(t, "?", v);
    c.b(b')');
    Ok(())
}

fn text(c: &mut Ctx, name: &str, off: usize, n: u32) -> R<()> {
    c.s(name);
    c.printjnp(off, n)?;
    c.b(b')');
    Ok(())
}

fn err_code(c: &mut Ctx, off: usize) -> R<()> {
    let v = c.u8(off)?;
    c.s(" ERR_CODE(");
    c.num(v);
    if c.opts.verbose > 0 {
        let v = c.u8(off)?;
        c.b(b':');
        c.tok(ERRCODE, "?", v as u32);
    }
    c.b(b')');
    Ok(())
}

fn result_code(c: &mut Ctx, off: usize, t: &Tok) -> R<()> {
    let v = c.u8(off)?;
    c.s(" RESULT_CODE(");
    c.num(v);
    if c.opts.verbose > 0 {
        c.b(b':');
        c.tok(t, "?", v as u32);
    }
    c.b(b')');
    Ok(())
}

/// `pptp_print`.
pub(crate) fn print(c: &mut Ctx, dat: usize) -> R<()> {
    c.proto = "pptp";
    c.s(": pptp");
    let v = c.opts.verbose > 0;
    if v {
        let l = c.be16(dat)?;
        c.s(" Length=");
        c.num(l);
        match c.be16(dat + 2)? {
            1 => c.s(" CTRL-MSG"),
            2 => c.s(" MGMT-MSG"),
            _ => c.s(" UNKNOWN-MSG-TYPE"),
        }
    }
    let mc = c.be32(dat + 4)?;
    if mc != 0x1a2b_3c4d {
        c.s(" UNEXPECTED Magic-Cookie!!(");
        c.hex(mc, 8);
        c.b(b')');
    }
    if v || mc != 0x1a2b_3c4d {
        c.s(" Magic-Cookie=");
        c.hex(mc, 8);
    }
    let t = c.be16(dat + 8)?;
    if let Some(name) = MSG_TYPE.get(t as usize) {
        c.s(" CTRL_MSGTYPE=");
        c.s(name);
    } else {
        c.s(" UNKNOWN_CTRL_MSGTYPE(");
        c.num(t);
        c.b(b')');
    }
    reserved(c, dat + 10, true)?;
    let d = dat + 12;
    match t {
        1 | 2 => {
            proto_ver(c, d)?;
            if t == 1 {
                reserved(c, d + 2, true)?;
            } else {
                result_code(c, d + 2, SCCRP)?;
                err_code(c, d + 3)?;
            }
            framing_cap(c, d + 4)?;
            bearer_cap(c, d + 8)?;
            u16f(c, " MAX_CHAN(", d + 12)?;
            u16f(c, " FIRM_REV(", d + 14)?;
            text(c, " HOSTNAME(", d + 16, 64)?;
            text(c, " VENDOR(", d + 80, 64)?;
        }
        3 => {
            let r = c.u8(d)?;
            c.s(" REASON(");
            c.num(r);
            if v {
                let r = c.u8(d)?;
                c.s(match r {
                    1 => ":None",
                    2 => ":Stop-Protocol",
                    3 => ":Stop-Local-Shutdown",
                    _ => ":?",
                });
            }
            c.b(b')');
            reserved(c, d + 1, false)?;
            reserved(c, d + 2, true)?;
        }
        4 => {
            result_code(c, d, ECHORP)?;
            err_code(c, d + 1)?;
            reserved(c, d + 2, true)?;
        }
        5 => u32f(c, " ID(", d)?,
        6 => {
            u32f(c, " ID(", d)?;
            result_code(c, d + 4, ECHORP)?;
            err_code(c, d + 5)?;
            reserved(c, d + 6, true)?;
        }
        7 => {
            u16f(c, " CALL_ID(", d)?;
            u16f(c, " CALL_SER_NUM(", d + 2)?;
            u32f(c, " MIN_BPS(", d + 4)?;
            u32f(c, " MAX_BPS(", d + 8)?;
            tokf(c, " BEARER_TYPE(", BTYPE, d + 12)?;
            tokf(c, " FRAME_TYPE(", FTYPE, d + 16)?;
            u16f(c, " RECV_WIN(", d + 20)?;
            u16f(c, " PROC_DELAY(", d + 22)?;
            u16f(c, " PHONE_NO_LEN(", d + 24)?;
            reserved(c, d + 26, true)?;
            c.s(" PHONE_NO(");
            let n = c.be16(d + 24)?.min(64);
            c.printjnp(d + 28, n as u32)?;
            c.b(b')');
            text(c, " SUB_ADDR(", d + 92, 64)?;
        }
        8 => {
            u16f(c, " CALL_ID(", d)?;
            u16f(c, " PEER_CALL_ID(", d + 2)?;
            result_code(c, d + 4, OCRP)?;
            err_code(c, d + 5)?;
            u16f(c, " CAUSE_CODE(", d + 6)?;
            u32f(c, " CONN_SPEED(", d + 8)?;
            u16f(c, " RECV_WIN(", d + 12)?;
            u16f(c, " PROC_DELAY(", d + 14)?;
            u32f(c, " PHY_CHAN_ID(", d + 16)?;
        }
        9 => {
            u16f(c, " CALL_ID(", d)?;
            u16f(c, " CALL_SER_NUM(", d + 2)?;
            tokf(c, " BEARER_TYPE(", BTYPE, d + 4)?;
            u32f(c, " PHY_CHAN_ID(", d + 8)?;
            u16f(c, " DIALED_NO_LEN(", d + 12)?;
            u16f(c, " DIALING_NO_LEN(", d + 14)?;
            c.s(" DIALED_NO(");
            let n = c.be16(d + 12)?.min(64);
            c.printjnp(d + 16, n as u32)?;
            c.b(b')');
            c.s(" DIALING_NO(");
            let n = c.be16(d + 14)?.min(64);
            c.printjnp(d + 80, n as u32)?;
            c.b(b')');
            text(c, " SUB_ADDR(", d + 144, 64)?;
        }
        10 => {
            u16f(c, " CALL_ID(", d)?;
            u16f(c, " PEER_CALL_ID(", d + 2)?;
            result_code(c, d + 4, ICRP)?;
            err_code(c, d + 5)?;
            u16f(c, " RECV_WIN(", d + 6)?;
            u16f(c, " PROC_DELAY(", d + 8)?;
            reserved(c, d + 10, true)?;
        }
        11 => {
            u16f(c, " PEER_CALL_ID(", d)?;
            reserved(c, d + 2, true)?;
            u32f(c, " CONN_SPEED(", d + 4)?;
            u16f(c, " RECV_WIN(", d + 8)?;
            u16f(c, " PROC_DELAY(", d + 10)?;
            tokf(c, " FRAME_TYPE(", FTYPE, d + 12)?;
        }
        12 => {
            u16f(c, " CALL_ID(", d)?;
            reserved(c, d + 2, true)?;
        }
        13 => {
            u16f(c, " CALL_ID(", d)?;
            result_code(c, d + 2, CDN)?;
            err_code(c, d + 3)?;
            u16f(c, " CAUSE_CODE(", d + 4)?;
            reserved(c, d + 6, true)?;
            text(c, " CALL_STATS(", d + 8, 128)?;
        }
        14 => {
            u16f(c, " PEER_CALL_ID(", d)?;
            reserved(c, d + 2, true)?;
            for (k, name) in [
                " CRC_ERR(",
                " FRAMING_ERR(",
                " HARDWARE_OVERRUN(",
                " BUFFER_OVERRUN(",
                " TIMEOUT_ERR(",
                " ALIGN_ERR(",
            ]
            .into_iter()
            .enumerate()
            {
                u32f(c, name, d + 4 + 4 * k)?;
            }
        }
        15 => {
            u16f(c, " PEER_CALL_ID(", d)?;
            reserved(c, d + 2, true)?;
            let a = c.be32(d + 4)?;
            c.s(" SEND_ACCM(0x");
            c.hex(a, 8);
            c.b(b')');
            let b = c.be32(d + 8)?;
            c.s(" RECV_ACCM(0x");
            c.hex(b, 8);
            c.b(b')');
        }
        _ => {}
    }
    Ok(())
}
