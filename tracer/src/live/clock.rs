//! Kernel records carry CLOCK_MONOTONIC nanoseconds (`bpf_ktime_get_ns`); tcpdump prints wall
//! time. The offset between the two clocks only changes when the wall clock is stepped, so it
//! is measured at start and re-measured periodically.

use crate::packet::Timestamp;

fn now(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write into.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// CLOCK_MONOTONIC now, in nanoseconds (the kernel programs' clock).
pub fn monotonic_ns() -> u64 {
    now(libc::CLOCK_MONOTONIC) as u64
}

/// Converts monotonic timestamps to wall-clock ones.
#[derive(Copy, Clone, Debug)]
pub struct WallClock {
    offset_ns: i128,
    /// Width of the monotonic bracket around the wall-clock read that gave the offset:
    /// the offset is exact to within this.
    bracket_ns: i128,
}

/// A measurement whose bracket is this tight is taken without question.
const GOOD_BRACKET_NS: i128 = 50_000;

impl WallClock {
    /// Measures the offset, bracketing the wall-clock read between two monotonic reads and
    /// keeping the tightest of a few tries (a preempted try has a wide bracket).
    pub fn measure() -> WallClock {
        let mut best = WallClock {
            offset_ns: 0,
            bracket_ns: i128::MAX,
        };
        for _ in 0..9 {
            let a = now(libc::CLOCK_MONOTONIC);
            let w = now(libc::CLOCK_REALTIME);
            let b = now(libc::CLOCK_MONOTONIC);
            if b - a < best.bracket_ns {
                best = WallClock {
                    offset_ns: w - (a + (b - a) / 2),
                    bracket_ns: b - a,
                };
            }
            if best.bracket_ns <= GOOD_BRACKET_NS / 10 {
                break;
            }
        }
        best
    }

    /// Re-measures to follow wall-clock steps (NTP, settimeofday), keeping the current
    /// offset when the new measurement is less trustworthy than both it and the threshold.
    pub fn refresh(&mut self) {
        let m = WallClock::measure();
        if m.bracket_ns <= GOOD_BRACKET_NS || m.bracket_ns <= self.bracket_ns {
            *self = m;
        }
    }

    pub fn to_wall(&self, monotonic_ns: u64) -> Timestamp {
        Timestamp::from_nanos(monotonic_ns as i128 + self.offset_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_monotonic_now_is_wall_now() {
        let clock = WallClock::measure();
        let got = clock.to_wall(monotonic_ns()).as_nanos();
        let wall = now(libc::CLOCK_REALTIME);
        assert!((got - wall).abs() < 5_000_000, "off by {} ns", got - wall);
    }
}
