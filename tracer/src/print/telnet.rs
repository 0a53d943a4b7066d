//! Telnet (tcpdump's print-telnet.c): the IAC commands at the start of a segment,
//! ` [telnet WILL ECHO, DO SUPPRESS GO AHEAD, SB TERMINAL TYPE SEND SE]`; with `-X -vvv`
//! each command as a hex dump instead.

use super::ctx::{Ctx, R};

const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const TELCMD_FIRST: u8 = 236;

const TELCMDS: [&str; 20] = [
    "EOF", "SUSP", "ABORT", "EOR", "SE", "NOP", "DMARK", "BRK", "IP", "AO", "AYT", "EC", "EL",
    "GA", "SB", "WILL", "WONT", "DO", "DONT", "IAC",
];

const TELOPTS: [&str; 40] = [
    "BINARY",
    "ECHO",
    "RCP",
    "SUPPRESS GO AHEAD",
    "NAME",
    "STATUS",
    "TIMING MARK",
    "RCTE",
    "NAOL",
    "NAOP",
    "NAOCRD",
    "NAOHTS",
    "NAOHTD",
    "NAOFFD",
    "NAOVTS",
    "NAOVTD",
    "NAOLFD",
    "EXTEND ASCII",
    "LOGOUT",
    "BYTE MACRO",
    "DATA ENTRY TERMINAL",
    "SUPDUP",
    "SUPDUP OUTPUT",
    "SEND LOCATION",
    "TERMINAL TYPE",
    "END OF RECORD",
    "TACACS UID",
    "OUTPUT MARKING",
    "TTYLOC",
    "3270 REGIME",
    "X.3 PAD",
    "NAWS",
    "TSPEED",
    "LFLOW",
    "LINEMODE",
    "XDISPLOC",
    "OLD-ENVIRON",
    "AUTHENTICATION",
    "ENCRYPT",
    "NEW-ENVIRON",
];

const CMDS: &[Option<&str>] = &[Some("IS"), Some("SEND"), Some("INFO")];
const AUTHCMD: &[Option<&str>] = &[Some("IS"), Some("SEND"), Some("REPLY"), Some("NAME")];
const AUTHTYPE: &[Option<&str>] = &[
    Some("NULL"),
    Some("KERBEROS_V4"),
    Some("KERBEROS_V5"),
    Some("SPX"),
    Some("MINK"),
    Some("SRP"),
    Some("RSA"),
    Some("SSL"),
    None,
    None,
    Some("LOKI"),
    Some("SSA"),
    Some("KEA_SJ"),
    Some("KEA_SJ_INTEG"),
    Some("DSS"),
    Some("NTLM"),
];
const ENCCMD: &[Option<&str>] = &[
    Some("IS"),
    Some("SUPPORT"),
    Some("REPLY"),
    Some("START"),
    Some("END"),
    Some("REQUEST-START"),
    Some("REQUEST-END"),
    Some("END_KEYID"),
    Some("DEC_KEYID"),
];
const ENCTYPE: &[Option<&str>] = &[
    Some("NULL"),
    Some("DES_CFB64"),
    Some("DES_OFB64"),
    Some("DES3_CFB64"),
    Some("DES3_OFB64"),
    None,
    Some("CAST5_40_CFB64"),
    Some("CAST5_40_OFB64"),
    Some("CAST128_CFB64"),
    Some("CAST128_OFB64"),
];

/// `printf("%#x", x)`: `0` for zero, else `0x...`.
fn alt_hex(c: &mut Ctx, x: u32) {
    if x != 0 {
        c.s("0x");
    }
    c.hex(x, 1);
}

/// `STR_OR_ID(x, tab)`.
fn str_or_id(c: &mut Ctx, x: u32, tab: &[Option<&str>]) {
    match tab.get(x as usize) {
        Some(Some(s)) => c.s(s),
        _ => alt_hex(c, x),
    }
}

/// `telnet_parse`: the length of the command at `sp`, None if it is not one (tcpdump's
/// `pktend`); prints it if `print`.
fn parse(c: &mut Ctx, sp: usize, length: u32, print: bool) -> R<Option<usize>> {
    let osp = sp;
    let mut sp = sp;
    let mut length = length;
    macro_rules! fetch {
        () => {{
            if length < 1 {
                return Ok(None);
            }
            let v = c.u8(sp)?;
            sp += 1;
            length -= 1;
            v
        }};
    }
    let ch = fetch!();
    if ch != IAC {
        return Ok(None);
    }
    let ch = fetch!();
    if ch == IAC {
        if print {
            c.s("IAC IAC");
        }
        return Ok(Some(sp - osp));
    }
    if ch < TELCMD_FIRST {
        return Ok(None);
    }
    let i = (ch - TELCMD_FIRST) as usize;
    match ch {
        DONT | DO | WONT | WILL | SB => {
            let x = fetch!();
            if print {
                c.s(TELCMDS[i]);
                c.b(b' ');
                match TELOPTS.get(x as usize) {
                    Some(o) => c.s(o),
                    None => alt_hex(c, x as u32),
                }
            }
            if ch != SB {
                return Ok(Some(sp - osp));
            }
            // IAC SB .... IAC SE
            let mut p = sp;
            while length as usize > p + 1 - sp {
                if c.u8(p)? == IAC && c.u8(p + 1)? == SE {
                    break;
                }
                p += 1;
            }
            if c.u8(p)? != IAC {
                return Ok(None);
            }
            let (t1, t2): (&[Option<&str>], Option<&[Option<&str>]>) = match x {
                37 => (AUTHCMD, Some(AUTHTYPE)),
                38 => (ENCCMD, Some(ENCTYPE)),
                _ => (CMDS, None),
            };
            if p > sp {
                let v = fetch!();
                if print {
                    c.b(b' ');
                    str_or_id(c, v as u32, t1);
                }
                if let Some(t2) = t2 {
                    if p > sp {
                        let v = fetch!();
                        if print {
                            c.b(b' ');
                            str_or_id(c, v as u32, t2);
                        }
                    }
                }
            }
            while p > sp {
                let v = fetch!();
                if print {
                    c.b(b' ');
                    alt_hex(c, v as u32);
                }
            }
            if print {
                c.s(" SE");
            }
            sp += 2;
        }
        _ => {
            if print {
                c.s(TELCMDS[i]);
            }
        }
    }
    Ok(Some(sp - osp))
}

/// `telnet_print`.
pub(crate) fn print(c: &mut Ctx, sp: usize, length: u32) -> R<()> {
    c.proto = "telnet";
    let osp = sp;
    let mut sp = sp;
    let mut length = length;
    let mut first = true;
    let hexmode = c.opts.hex_ascii > 0 && c.opts.verbose > 2;
    while length > 0 && c.u8(sp)? == IAC {
        let Some(l) = parse(c, sp, length, false)? else {
            break;
        };
        if hexmode {
            if first {
                c.s("\nTelnet:");
            }
            c.hex_print_off("\n", sp, l as u32, (sp - osp) as u32)?;
            if l > 8 {
                c.s("\n\t\t\t\t");
            } else {
                for _ in 0..(8 - l) * 3 {
                    c.b(b' ');
                }
                c.b(b'\t');
            }
        } else {
            c.s(if first { " [telnet " } else { ", " });
        }
        parse(c, sp, length, true)?;
        first = false;
        sp += l;
        length = length.wrapping_sub(l as u32);
    }
    if !first {
        c.s(if hexmode { "\n" } else { "]" });
    }
    Ok(())
}
