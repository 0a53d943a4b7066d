//! SSH (tcpdump's print-ssh.c): the `SSH-...` version banner.

use super::ctx::{Ctx, R};

/// `ssh_print`: the `SSH-...` version line, if that is what the segment starts with.
pub(crate) fn print(c: &mut Ctx, p: usize, len: u32) -> R<()> {
    c.proto = "ssh";
    let len = len as usize;
    for (i, want) in b"SSH-".iter().enumerate() {
        if c.u8(p + i)? != *want {
            return Ok(());
        }
    }
    let mut idx = 4;
    while idx < len {
        let ch = c.u8(p + idx)?;
        if ch == b'\n' {
            break;
        } else if ch == b'\r' {
            if idx + 1 >= len {
                return Ok(());
            }
            if c.u8(p + idx + 1)? == b'\n' {
                break;
            }
            return Ok(());
        } else if !(0x20..=0x7e).contains(&ch) {
            return Ok(());
        }
        idx += 1;
    }
    if idx >= len {
        return Ok(());
    }
    c.s(": ");
    c.proto_caps();
    c.s(": ");
    let d = c.d;
    c.out.extend_from_slice(&d[p..p + idx]);
    Ok(())
}
