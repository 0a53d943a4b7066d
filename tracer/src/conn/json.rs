//! The small pieces of JSON output: strings, addresses, RFC 3339 times. Written by hand into
//! the output buffer (one object per line, no allocation per record).

use crate::packet::Timestamp;
use crate::print::write;

/// Appends `s` as a JSON string. Bytes outside printable ASCII become `\u00XX` (the URI of a
/// request is bytes, not necessarily UTF-8).
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
        }
    }
    out.push(b'"');
}

/// `"key":` (keys are plain ASCII).
pub fn key(out: &mut Vec<u8>, k: &str) {
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"key":N`
pub fn num(out: &mut Vec<u8>, k: &str, v: u64) {
    out.push(b',');
    key(out, k);
    write::dec(out, v);
}

/// `,"key":N` or `,"key":null`
pub fn opt_num(out: &mut Vec<u8>, k: &str, v: Option<u64>) {
    out.push(b',');
    key(out, k);
    match v {
        Some(v) => write::dec(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// An address as a JSON string, numeric (IPv4 in the first four bytes for family 4).
pub fn addr(out: &mut Vec<u8>, family: u32, a: &[u8; 16]) {
    out.push(b'"');
    if family == 4 {
        write::ipv4(out, &[a[0], a[1], a[2], a[3]]);
    } else {
        write::ipv6(out, a);
    }
    out.push(b'"');
}

/// `2026-12-02T08:00:00.000000Z` (UTC, microseconds).
pub fn time(out: &mut Vec<u8>, ts: Timestamp) {
    let days = ts.sec.div_euclid(86400);
    let secs = ts.sec.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    out.push(b'"');
    if y < 0 {
        out.push(b'-');
    }
    write::dec_pad(out, y.unsigned_abs(), 4);
    out.push(b'-');
    write::dec_pad(out, m as u64, 2);
    out.push(b'-');
    write::dec_pad(out, d as u64, 2);
    out.push(b'T');
    write::dec_pad(out, (secs / 3600) as u64, 2);
    out.push(b':');
    write::dec_pad(out, (secs / 60 % 60) as u64, 2);
    out.push(b':');
    write::dec_pad(out, (secs % 60) as u64, 2);
    out.push(b'.');
    write::dec_pad(out, (ts.nsec / 1000) as u64, 6);
    out.extend_from_slice(b"Z\"");
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(sec: i64, nsec: u32) -> String {
        let mut v = vec![];
        time(&mut v, Timestamp::new(sec, nsec));
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn times_are_rfc3339_utc_microseconds() {
        assert_eq!(t(0, 0), "\"1970-01-01T00:00:00.000000Z\"");
        assert_eq!(
            t(1_764_662_400, 123_456_789),
            "\"2025-12-02T08:00:00.123456Z\""
        );
        assert_eq!(t(951_782_400, 0), "\"2000-02-29T00:00:00.000000Z\"");
        assert_eq!(t(-1, 999_999_000), "\"1969-12-31T23:59:59.999999Z\"");
    }

    #[test]
    fn strings_escape_quotes_and_bytes() {
        let mut v = vec![];
        string(&mut v, b"/a\"b\\c\x01\xff");
        assert_eq!(v, b"\"/a\\\"b\\\\c\\u0001\\u00ff\"");
    }
}
