//! BEEP (tcpdump's print-beep.c): the frame keyword, ` BEEP MSG` ... ` BEEP (payload or
//! undecoded)`.

use super::ctx::{Ctx, R};

/// `l_strnstart`: tcpdump's `strncmp(tstr1, str2, tl1)` over the first `tl1` captured
/// bytes. `"MSG"` and `"END"` are compared with their terminating NUL (tl1 is 4), so
/// they only match a NUL after the keyword, as in tcpdump.
fn strnstart(c: &Ctx, t: &[u8; 4], bp: usize, length: u32) -> bool {
    if !c.ttest(bp, 4) || 4 > length {
        return false;
    }
    for (i, &a) in t.iter().enumerate() {
        let b = c.d[bp + i];
        if a != b {
            return false;
        }
        if a == 0 {
            return true;
        }
    }
    true
}

/// `beep_print`.
pub(crate) fn print(c: &mut Ctx, bp: usize, length: u32) -> R<()> {
    c.proto = "beep";
    let kinds: [(&[u8; 4], &str); 7] = [
        (b"MSG\0", " BEEP MSG"),
        (b"RPY ", " BEEP RPY"),
        (b"ERR ", " BEEP ERR"),
        (b"ANS ", " BEEP ANS"),
        (b"NUL ", " BEEP NUL"),
        (b"SEQ ", " BEEP SEQ"),
        (b"END\0", " BEEP END"),
    ];
    for (t, s) in kinds {
        if strnstart(c, t, bp, length) {
            c.s(s);
            return Ok(());
        }
    }
    c.s(" BEEP (payload or undecoded)");
    Ok(())
}
