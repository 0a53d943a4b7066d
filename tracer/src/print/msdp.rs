//! MSDP (tcpdump's print-msdp.c): the TLVs of a segment, ` SA 1 entries`, ` SA-Request
//! for G`, ` Keepalive`, ` Notification`; with `-vv` the data packet an SA carries goes
//! through the IP printer as in tcpdump (nested at most [`MAX_DEPTH`] deep).

use super::ctx::{Ctx, R};

/// Encapsulated packets inside encapsulated packets: past this depth they are skipped
/// (tcpdump recurses without a bound).
pub(crate) const MAX_DEPTH: u8 = 4;

/// `msdp_print`.
pub(crate) fn print(c: &mut Ctx, sp: usize, length: u32) -> R<()> {
    c.proto = "msdp";
    c.s(": msdp");
    let mut sp = sp;
    let mut length = length;
    let t = c.u8(sp)?;
    let l = c.be16(sp + 1)?;
    if !(3..=1500).contains(&l) || t == 0 || t > 7 {
        c.trunc();
        return Ok(());
    }
    while length != 0 {
        let t = c.u8(sp)?;
        let len = c.be16(sp + 1)? as u32;
        if len > 1400 || c.opts.verbose > 0 {
            c.s(" [len ");
            c.num(len);
            c.b(b']');
        }
        if len < 3 || length < len {
            c.trunc();
            return Ok(());
        }
        sp += 3;
        length -= 3;
        match t {
            1 | 3 => {
                c.s(if t == 1 { " SA" } else { " SA-Response" });
                let n = c.u8(sp)? as u32;
                c.b(b' ');
                c.num(n);
                c.s(" entries");
                if n * 12 + 8 < len {
                    c.s(" [w/data]");
                    if c.opts.verbose > 1 {
                        c.b(b' ');
                        let at = sp + (n * 12 + 8) as usize - 3;
                        let l = len - (n * 12 + 8);
                        if c.depth < MAX_DEPTH {
                            c.depth += 1;
                            let r = (c.ip_print)(c, at, l);
                            c.depth -= 1;
                            r?;
                        }
                    }
                }
            }
            2 => {
                c.s(" SA-Request");
                c.bytes(sp + 1, 4)?;
                c.s(" for ");
                c.ipaddr(sp + 1)?;
            }
            4 => {
                c.s(" Keepalive");
                if len != 3 {
                    c.s("[len=");
                    c.num(len);
                    c.s("] ");
                }
            }
            5 => c.s(" Notification"),
            _ => {
                c.s(" [type=");
                c.num(t);
                c.s(" len=");
                c.num(len);
                c.b(b']');
            }
        }
        sp += (len - 3) as usize;
        length -= len - 3;
    }
    Ok(())
}
