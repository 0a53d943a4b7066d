//! Timestamps (tcpdump's `ts_print`), microsecond precision like tcpdump on a
//! microsecond pcap. Local time honours `TZ` through the C library; the formatted
//! date and time of day are cached per second, so a packet only formats its fraction.
//! A classic pcap record's out-of-range time prints as libpcap hands it to tcpdump
//! ([`Timestamp::tv`]): the fraction as is (`22:13:20.1000000`, `%06u` of a negative count
//! wraps), seconds past 2^31 as `[Error converting time]`, and `-ttt` deltas from those.

use super::write;
use crate::packet::Timestamp;

#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Tv {
    sec: i64,
    usec: i64,
}

pub(crate) struct Clock {
    tflag: u8,
    /// Second of the cached local time, and its "YYYY-MM-DD HH:MM:SS" text.
    cached_sec: Option<i64>,
    cached: [u8; 19],
    cached_ok: bool,
    tv_ref: Tv,
}

impl Clock {
    pub fn new(tflag: u8) -> Clock {
        if tflag == 0 || tflag == 4 {
            extern "C" {
                fn tzset();
            }
            // SAFETY: tzset only reads TZ and initialises libc's zone state.
            unsafe { tzset() };
        }
        Clock {
            tflag,
            cached_sec: None,
            cached: [0; 19],
            cached_ok: false,
            tv_ref: Tv::default(),
        }
    }

    fn local(&mut self, sec: i64) -> bool {
        if self.cached_sec == Some(sec) {
            return self.cached_ok;
        }
        self.cached_sec = Some(sec);
        let t: libc::time_t = sec as libc::time_t;
        // SAFETY: localtime_r writes into the zeroed tm we own.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let ok = !unsafe { libc::localtime_r(&t, &mut tm) }.is_null();
        self.cached_ok = ok;
        if ok {
            let mut v = Vec::with_capacity(19);
            write::dec_pad(&mut v, (tm.tm_year as i64 + 1900) as u64, 4);
            v.push(b'-');
            write::dec_pad(&mut v, (tm.tm_mon + 1) as u64, 2);
            v.push(b'-');
            write::dec_pad(&mut v, tm.tm_mday as u64, 2);
            v.push(b' ');
            write::dec_pad(&mut v, tm.tm_hour as u64, 2);
            v.push(b':');
            write::dec_pad(&mut v, tm.tm_min as u64, 2);
            v.push(b':');
            write::dec_pad(&mut v, tm.tm_sec as u64, 2);
            let n = v.len().min(19);
            self.cached = [b' '; 19];
            self.cached[19 - n..].copy_from_slice(&v[v.len() - n..]);
            if v.len() != 19 {
                // Years outside 1000..9999 cannot happen below 2^31 seconds; keep text as is.
                self.cached_ok = false;
            }
        }
        self.cached_ok
    }

    /// `ts_date_hmsfrac_print` in local time.
    fn local_print(&mut self, out: &mut Vec<u8>, sec: i64, usec: i64, date: bool) {
        if (sec as u64 as u32) & 0x8000_0000 != 0 || !self.local(sec) {
            out.extend_from_slice(b"[Error converting time]");
            return;
        }
        if date {
            out.extend_from_slice(&self.cached);
        } else {
            out.extend_from_slice(&self.cached[11..]);
        }
        out.push(b'.');
        write::dec_pad(out, usec as u32 as u64, 6);
    }

    /// `ts_date_hmsfrac_print` in UTC without date (for deltas).
    fn utc_hms(out: &mut Vec<u8>, sec: i64, usec: i64) {
        if (sec as u64 as u32) & 0x8000_0000 != 0 {
            out.extend_from_slice(b"[Error converting time]");
            return;
        }
        let day = sec.rem_euclid(86400);
        write::dec_pad(out, (day / 3600) as u64, 2);
        out.push(b':');
        write::dec_pad(out, (day / 60 % 60) as u64, 2);
        out.push(b':');
        write::dec_pad(out, (day % 60) as u64, 2);
        out.push(b'.');
        write::dec_pad(out, usec as u32 as u64, 6);
    }

    pub fn print(&mut self, out: &mut Vec<u8>, ts: Timestamp) {
        let tv = match ts.tv {
            Some(t) => Tv {
                sec: t.sec,
                usec: t.usec,
            },
            None => Tv {
                sec: ts.sec,
                usec: (ts.nsec / 1000) as i64,
            },
        };
        match self.tflag {
            0 => {
                self.local_print(out, tv.sec, tv.usec, false);
                out.push(b' ');
            }
            1 => {}
            2 => {
                let s = tv.sec as u64 as u32;
                if s & 0x8000_0000 != 0 {
                    out.extend_from_slice(b"[Error converting time]");
                } else {
                    write::dec(out, s as u64);
                    out.push(b'.');
                    write::dec_pad(out, tv.usec as u32 as u64, 6);
                }
                out.push(b' ');
            }
            3 | 5 => {
                if self.tv_ref.sec == 0 && self.tv_ref.usec == 0 {
                    self.tv_ref = tv;
                }
                let negative = tv < self.tv_ref;
                let (a, b) = if negative {
                    (self.tv_ref, tv)
                } else {
                    (tv, self.tv_ref)
                };
                let mut sec = a.sec.wrapping_sub(b.sec);
                let mut usec = a.usec - b.usec;
                if usec < 0 {
                    sec -= 1;
                    usec += 1_000_000;
                }
                out.push(if negative { b'-' } else { b' ' });
                Self::utc_hms(out, sec, usec);
                out.push(b' ');
                if self.tflag == 3 {
                    self.tv_ref = tv;
                }
            }
            _ => {
                self.local_print(out, tv.sec, tv.usec, true);
                out.push(b' ');
            }
        }
    }
}
