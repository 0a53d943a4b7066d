//! wrk, the load: one thread, keep-alive or one connection per request, bounded in time.

use std::{
    io::Read,
    process::{Child, Stdio},
    time::Duration,
};

use anyhow::{ensure, Context, Result};

use crate::ns::NetNs;

/// A wrk run in `ns` against `url`: `wrk -t1 -cN -dSs`, with `Connection: close` when
/// `close` (one connection per request).
pub struct Wrk {
    child: Child,
}

impl Wrk {
    /// Starts wrk in the background for `duration` (killed 60 s past it, or on drop).
    pub fn start(
        ns: &NetNs,
        url: &str,
        duration: Duration,
        connections: u32,
        close: bool,
    ) -> Result<Wrk> {
        let secs = duration.as_secs().max(1);
        let mut cmd = ns.cmd("timeout");
        cmd.arg((secs + 60).to_string())
            .args(["wrk", "-t1"])
            .arg(format!("-c{connections}"))
            .arg(format!("-d{secs}s"));
        if close {
            cmd.args(["-H", "Connection: close"]);
        }
        cmd.arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let child = cmd.spawn().context("cannot run wrk")?;
        Ok(Wrk { child })
    }

    /// Runs wrk to its end: (requests/s, whether it reported errors).
    pub fn run(
        ns: &NetNs,
        url: &str,
        duration: Duration,
        connections: u32,
        close: bool,
    ) -> Result<(f64, bool)> {
        Wrk::start(ns, url, duration, connections, close)?.finish()
    }

    /// Waits for wrk to end; (requests/s, whether it reported errors).
    pub fn finish(mut self) -> Result<(f64, bool)> {
        let mut text = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut text)?;
        }
        let status = self.child.wait()?;
        ensure!(status.success(), "wrk failed ({status}): {text}");
        parse_wrk(&text)
    }
}

impl Drop for Wrk {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// wrk's report: (requests/s, whether it reported errors).
pub fn parse_wrk(text: &str) -> Result<(f64, bool)> {
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk's output: {text}"))?;
    let errors = text.contains("Socket errors") || text.contains("Non-2xx");
    Ok((rps, errors))
}
