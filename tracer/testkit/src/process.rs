//! Child processes: killed on drop, stdout collected or sent where the caller says, stderr
//! read line by line so a ready line can be awaited; and the summaries tracer and tcpdump
//! print (`5 packets captured`, tracer's `kernel: ...` counters).

use std::{
    fs,
    io::{BufRead, BufReader, Read},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};

/// Where a child's standard output goes.
pub enum Stdout {
    /// Piped and collected; [`Proc::wait`] returns it.
    Collect,
    /// Handed to the child as it is (`/dev/null`, a file); nothing collected.
    To(Stdio),
}

/// A child process, killed on drop; its stderr lines are collected by a thread.
pub struct Proc {
    pub child: Child,
    stdout: Option<thread::JoinHandle<Vec<u8>>>,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
    name: String,
}

impl Proc {
    /// Spawns `cmd` with its stdin closed and its stderr read.
    pub fn try_spawn(name: &str, mut cmd: Command, stdout: Stdout) -> Result<Proc> {
        let collect = matches!(stdout, Stdout::Collect);
        cmd.stdin(Stdio::null())
            .stderr(Stdio::piped())
            .stdout(match stdout {
                Stdout::Collect => Stdio::piped(),
                Stdout::To(s) => s,
            });
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let stdout = collect.then(|| {
            let mut out = child.stdout.take().expect("piped");
            thread::spawn(move || {
                let mut v = Vec::new();
                let _ = out.read_to_end(&mut v);
                v
            })
        });
        let err = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Proc {
            child,
            stdout,
            stderr_lines: rx,
            stderr_seen: Vec::new(),
            name: name.to_string(),
        })
    }

    /// [`Proc::try_spawn`] with stdout collected, panicking.
    pub fn spawn(name: &str, cmd: Command) -> Proc {
        Proc::try_spawn(name, cmd, Stdout::Collect).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Waits until a stderr line contains `needle` (a ready line); an error, with what the
    /// process said, if it exits first or `timeout` passes.
    pub fn try_wait_for_stderr(&mut self, needle: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.stderr_seen.iter().any(|l| l.contains(needle)) {
            if let Ok(Some(status)) = self.child.try_wait() {
                // What it said before exiting.
                let end = Instant::now() + Duration::from_millis(500);
                while let Ok(l) = self
                    .stderr_lines
                    .recv_timeout(end.saturating_duration_since(Instant::now()))
                {
                    self.stderr_seen.push(l);
                }
                if self.stderr_seen.iter().any(|l| l.contains(needle)) {
                    break;
                }
                bail!(
                    "{} exited ({status}) without '{needle}'; stderr:\n{}",
                    self.name,
                    self.stderr_seen.join("\n")
                );
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "{}: no '{needle}' within {timeout:?}; stderr:\n{}",
                    self.name,
                    self.stderr_seen.join("\n")
                );
            }
            if let Ok(l) = self
                .stderr_lines
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                self.stderr_seen.push(l);
            }
        }
        Ok(())
    }

    /// [`Proc::try_wait_for_stderr`], panicking.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        self.try_wait_for_stderr(needle, timeout)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: plain libc call on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits (bounded) for the exit; returns (status, stdout, stderr). Past `timeout` the
    /// process is killed (on drop) and the error says so.
    pub fn try_wait(mut self, timeout: Duration) -> Result<(ExitStatus, String, String)> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().context("waitpid")? {
                break s;
            }
            ensure!(
                Instant::now() <= deadline,
                "{} did not exit within {timeout:?}",
                self.name
            );
            thread::sleep(Duration::from_millis(20));
        };
        let out = self
            .stdout
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        // The rest of stderr: the reader thread ends at the pipe's end.
        let end = Instant::now() + Duration::from_secs(2);
        while let Ok(line) = self
            .stderr_lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.stderr_seen.push(line);
        }
        Ok((
            status,
            String::from_utf8_lossy(&out).into_owned(),
            self.stderr_seen.join("\n"),
        ))
    }

    /// [`Proc::try_wait`], panicking.
    pub fn wait(self, timeout: Duration) -> (ExitStatus, String, String) {
        self.try_wait(timeout).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// SIGINT, then [`Proc::try_wait`].
    pub fn try_interrupt(self, timeout: Duration) -> Result<(ExitStatus, String, String)> {
        self.signal(libc::SIGINT);
        self.try_wait(timeout)
    }

    /// [`Proc::try_interrupt`], panicking.
    pub fn interrupt(self, timeout: Duration) -> (ExitStatus, String, String) {
        self.try_interrupt(timeout)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// tracer's (and tcpdump's) SIGUSR1: the counts so far, one stderr line
    /// (`tracer: 5 packets captured, 5 packets received by filter, ...`), returned one count
    /// per line like the exit summary.
    pub fn ask_counts(&mut self, timeout: Duration) -> Result<String> {
        self.stderr_seen.extend(self.stderr_lines.try_iter());
        let before = self.stderr_seen.len();
        self.signal(libc::SIGUSR1);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.stderr_seen[before..]
                .iter()
                .position(|l| l.contains(" captured, "))
            {
                // The answer goes to the caller, not into the stderr the exit returns (where
                // it would read as a second summary).
                let l = self.stderr_seen.remove(before + i);
                let counts = l.split_once(": ").map_or(l.as_str(), |(_, c)| c);
                return Ok(counts.split(", ").collect::<Vec<_>>().join("\n"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            ensure!(
                !left.is_zero(),
                "{}: no counts within {timeout:?} of SIGUSR1",
                self.name
            );
            if let Ok(l) = self.stderr_lines.recv_timeout(left) {
                self.stderr_seen.push(l);
            }
        }
    }

    /// The counts of [`Proc::ask_counts`] as (captured, received by filter, dropped by
    /// kernel).
    pub fn ask_packet_counts(&mut self, timeout: Duration) -> Result<(u64, u64, u64)> {
        let counts = self.ask_counts(timeout)?;
        let n = |what| summary_count(&counts, what).unwrap_or(0);
        Ok((
            n("captured"),
            n("received by filter"),
            n("dropped by kernel"),
        ))
    }

    /// Asks tracer for counts (SIGUSR1) until it has handled every packet its kernel filter
    /// matched (`captured + dropped by kernel == received by filter`), with the same counts
    /// on two asks in a row (a packet still on its way shows as a change). Its captured
    /// count when that held within `timeout` (a process that has exited has nothing left to
    /// drain: `Some(0)`), `None` when not; the caller's comparison of what was printed then
    /// says what is missing. (tcpdump's "received" also counts copies libpcap discards, lo's
    /// outgoing duplicates, so this rule is tracer's only.)
    pub fn await_drained(&mut self, timeout: Duration) -> Option<u64> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(0);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(now) = self.ask_packet_counts(left) else {
                break;
            };
            let (captured, received, dropped) = now;
            if captured + dropped == received && last == Some(now) {
                return Some(captured);
            }
            last = Some(now);
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "{}: not drained within {timeout:?} (last counts {last:?})",
            self.name
        );
        None
    }

    /// (user + system CPU seconds, VmHWM KiB) of the process so far.
    pub fn usage(&self) -> (f64, u64) {
        let pid = self.child.id();
        // SAFETY: plain libc call.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let cpu = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                // Fields after the parenthesised command name; utime and stime are 14 and 15.
                let rest = s.rsplit_once(')')?.1;
                let f: Vec<&str> = rest.split_whitespace().collect();
                let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
                Some(ticks as f64 / hz)
            })
            .unwrap_or(0.0);
        (cpu, status_kib(pid, "VmHWM:").unwrap_or(0))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `kB` field of `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A count of tracer's or tcpdump's summary: the number before `text` (`captured`,
/// `received by filter`, `dropped by kernel`; "packets"/"packet" may come between).
pub fn summary_count(stderr: &str, text: &str) -> Option<u64> {
    stderr.lines().find_map(|l| {
        let (n, rest) = l.trim().split_once(' ')?;
        let rest = rest
            .trim_start_matches("packets ")
            .trim_start_matches("packet ");
        rest.starts_with(text).then(|| n.parse().ok()).flatten()
    })
}

/// A counter of tracer's `--kernel-stats` lines (`kernel: 5 packets seen, ...`).
pub fn kernel_counter(stderr: &str, name: &str) -> Option<u64> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("kernel: "))
        .flat_map(|line| line.split(", "))
        .find_map(|part| {
            let (n, rest) = part.split_once(' ')?;
            (rest == name).then(|| n.parse().ok()).flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_kernel_counters_parse() {
        let err = "listening on lo\n\n12 packets captured\n1 packet received by filter\n0 packets dropped by kernel\n\
                   kernel: 40 packets seen, 30 tcp, 0 matched, 0 records submitted, 0 ring full, 0 no ring, 0 copy failed";
        assert_eq!(summary_count(err, "captured"), Some(12));
        assert_eq!(summary_count(err, "received by filter"), Some(1));
        assert_eq!(summary_count(err, "dropped by kernel"), Some(0));
        assert_eq!(summary_count(err, "records lost"), None);
        assert_eq!(kernel_counter(err, "records submitted"), Some(0));
        assert_eq!(kernel_counter(err, "tcp"), Some(30));
    }
}
