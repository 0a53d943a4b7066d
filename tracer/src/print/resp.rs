//! Redis RESP (tcpdump's print-resp.c): `: RESP "set" "k" "v"`, pipelined commands,
//! inline commands, and the ` null` / ` empty` / ` invalid` / length markers.
//!
//! tcpdump parses nested arrays by recursion; here the nesting is a counter stack, so a
//! crafted segment of 16 000 nested `*1\r\n` cannot exhaust a thread's stack. The output
//! is the same: every level shares one cursor, and a failure anywhere ends the whole
//! segment with ` [|resp]`, as tcpdump's `-1` bubbling up does.

use super::ctx::{Ctx, R};

/// tcpdump's `goto trunc` (`return -1`) inside the RESP parsers.
struct Fail;

type P<T> = R<Result<T, Fail>>;

macro_rules! tr {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(Fail) => return Ok(Err(Fail)),
        }
    };
}

/// The cursor: `bp` and the bytes left of the segment (`length_cur`).
struct Cur {
    bp: usize,
    len: i64,
}

/// `resp_print`.
pub(crate) fn print(c: &mut Ctx, bp: usize, length: u32) -> R<()> {
    c.proto = "resp";
    c.s(": RESP");
    let mut cur = Cur {
        bp,
        len: length as i64,
    };
    while cur.len > 0 {
        if parse(c, &mut cur)?.is_err() {
            c.trunc();
            return Ok(());
        }
    }
    Ok(())
}

/// Small inline stack of the element counts of the open arrays.
struct Stack {
    inline: [i32; 32],
    n: usize,
    more: Vec<i32>,
}

impl Stack {
    fn push(&mut self, v: i32) {
        if self.n < self.inline.len() {
            self.inline[self.n] = v;
        } else {
            self.more.push(v);
        }
        self.n += 1;
    }
    fn top(&mut self) -> Option<&mut i32> {
        if self.n == 0 {
            None
        } else if self.n <= self.inline.len() {
            Some(&mut self.inline[self.n - 1])
        } else {
            self.more.last_mut()
        }
    }
    fn pop(&mut self) {
        if self.n > self.inline.len() {
            self.more.pop();
        }
        self.n -= 1;
    }
}

/// `resp_parse`: one item (a whole array with its elements) at the cursor.
fn parse(c: &mut Ctx, cur: &mut Cur) -> P<()> {
    let mut st = Stack {
        inline: [0; 32],
        n: 0,
        more: Vec::new(),
    };
    loop {
        if cur.len < 1 {
            return Ok(Err(Fail));
        }
        let op = c.u8(cur.bp)?;
        match op {
            b'+' | b':' | b'-' => tr!(string_error_integer(c, cur)),
            b'$' => tr!(bulk_string(c, cur)),
            b'*' => {
                // resp_print_bulk_array's header; its elements are the next items.
                cur.bp += 1;
                cur.len -= 1;
                let array_len = get_length(c, cur)?;
                if array_len > 0 {
                    st.push(array_len);
                    continue;
                }
                match array_len {
                    0 => c.s(" empty"),
                    -1 => c.s(" null"),
                    -2 => return Ok(Err(Fail)),
                    -3 => c.s(" length too large"),
                    -4 => c.s(" length negative and not -1"),
                    _ => c.s(" invalid"),
                }
            }
            _ => tr!(inline(c, cur)),
        }
        // One item done: it completes an element of the innermost open array.
        loop {
            match st.top() {
                None => return Ok(Ok(())),
                Some(t) => {
                    *t -= 1;
                    if *t > 0 {
                        break;
                    }
                }
            }
            st.pop();
        }
    }
}

/// `FIND_CRLF`: advance `p`/`len` to a `\r\n`.
fn find_crlf(c: &Ctx, p: &mut usize, len: &mut i64) -> P<()> {
    loop {
        if *len < 2 || !c.ttest(*p, 2) {
            return Ok(Err(Fail));
        }
        if c.u8(*p)? == b'\r' && c.u8(*p + 1)? == b'\n' {
            return Ok(Ok(()));
        }
        *p += 1;
        *len -= 1;
    }
}

/// `RESP_PRINT_SEGMENT`: ` "text"`.
fn segment(c: &mut Ctx, bp: usize, len: i64) -> P<()> {
    c.s(" \"");
    if c.printn(bp, len as u32) {
        return Ok(Err(Fail));
    }
    c.b(b'"');
    Ok(Ok(()))
}

/// `resp_print_string_error_integer`.
fn string_error_integer(c: &mut Ctx, cur: &mut Cur) -> P<()> {
    let bp = cur.bp + 1;
    let mut len = cur.len - 1;
    let mut p = bp;
    tr!(find_crlf(c, &mut p, &mut len));
    let n = (p - bp) as i64;
    tr!(segment(c, bp, n));
    let ret = 1 + n + 2;
    cur.bp += ret as usize;
    cur.len -= ret;
    Ok(Ok(()))
}

/// `resp_print_bulk_string`.
fn bulk_string(c: &mut Ctx, cur: &mut Cur) -> P<()> {
    let mut w = Cur {
        bp: cur.bp + 1,
        len: cur.len - 1,
    };
    let string_len = get_length(c, &mut w)?;
    if string_len >= 0 {
        if string_len == 0 {
            c.s(" empty");
        } else {
            let n = string_len as i64;
            if w.len < n || !c.ttest(w.bp, n as usize) {
                return Ok(Err(Fail));
            }
            tr!(segment(c, w.bp, n));
            w.bp += n as usize;
            w.len -= n;
        }
        tr!(find_crlf(c, &mut w.bp, &mut w.len));
        w.bp += 2;
        w.len -= 2;
    } else {
        match string_len {
            -1 => c.s(" null"),
            -2 => return Ok(Err(Fail)),
            -3 => c.s(" length too large"),
            -4 => c.s(" length negative and not -1"),
            _ => c.s(" invalid"),
        }
    }
    let ret = cur.len - w.len;
    cur.bp += ret as usize;
    cur.len = w.len;
    Ok(Ok(()))
}

/// `CONSUME_CR_OR_LF`.
fn consume_cr_or_lf(c: &Ctx, p: &mut usize, len: &mut i64) -> P<()> {
    let mut found = false;
    loop {
        if *len == 0 || !c.ttest(*p, 1) {
            if found {
                return Ok(Ok(()));
            }
            return Ok(Err(Fail));
        }
        let ch = c.u8(*p)?;
        if ch != b'\r' && ch != b'\n' {
            return Ok(Ok(()));
        }
        found = true;
        *p += 1;
        *len -= 1;
    }
}

/// `resp_print_inline`.
fn inline(c: &mut Ctx, cur: &mut Cur) -> P<()> {
    let mut len = cur.len;
    let mut bp = cur.bp;
    tr!(consume_cr_or_lf(c, &mut bp, &mut len));
    let mut p = bp;
    loop {
        if len < 1 {
            return Ok(Err(Fail));
        }
        let ch = c.u8(p)?;
        if ch == b'\r' || ch == b'\n' {
            break;
        }
        p += 1;
        len -= 1;
    }
    tr!(segment(c, bp, (p - bp) as i64));
    tr!(consume_cr_or_lf(c, &mut p, &mut len));
    let ret = cur.len - len;
    cur.bp += ret as usize;
    cur.len = len;
    Ok(Ok(()))
}

/// `resp_get_length`: the length at the cursor (moved past it); -1 null, -2 truncated,
/// -3 too large, -4 negative, -5 invalid.
fn get_length(c: &Ctx, cur: &mut Cur) -> R<i32> {
    let start = cur.bp;
    let mut bp = cur.bp;
    let mut len = cur.len;
    let done = |cur: &mut Cur, bp: usize, v: i32| {
        cur.len -= (bp - start) as i64;
        cur.bp = bp;
        Ok(v)
    };
    if len == 0 {
        return done(cur, bp, -2);
    }
    let mut too_large = false;
    let mut neg = false;
    if c.u8(bp)? == b'-' {
        neg = true;
        bp += 1;
        len -= 1;
    }
    let mut result: i32 = 0;
    let mut saw_digit = false;
    loop {
        if len == 0 {
            return done(cur, bp, -2);
        }
        let ch = c.u8(bp)?;
        if !ch.is_ascii_digit() {
            if !saw_digit {
                return done(cur, bp + 1, -5);
            }
            break;
        }
        let d = (ch - b'0') as i32;
        if result > i32::MAX / 10 {
            too_large = true;
        } else {
            result *= 10;
            if result == (i32::MAX / 10) * 10 && d > i32::MAX % 10 {
                too_large = true;
            } else {
                result += d;
            }
        }
        bp += 1;
        len -= 1;
        saw_digit = true;
    }
    if c.u8(bp)? != b'\r' {
        return done(cur, bp + 1, -5);
    }
    bp += 1;
    len -= 1;
    if len == 0 {
        return done(cur, bp, -2);
    }
    if c.u8(bp)? != b'\n' {
        return done(cur, bp + 1, -5);
    }
    bp += 1;
    if neg {
        if too_large || result != 1 {
            return done(cur, bp, -4);
        }
        result = -1;
    }
    done(cur, bp, if too_large { -3 } else { result })
}
