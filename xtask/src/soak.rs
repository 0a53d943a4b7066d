//! `cargo xtask soak --minutes N`: tracer left running under continuous wrk -> nginx load, as
//! in production, in three modes at once on the server's end of a veth pair: text, `-w` with
//! rotation (`-C`/`-W`), and `--conn --http --json`. Every `--sample-seconds` it samples each
//! tracer's VmRSS, its open descriptors and its lost records (SIGUSR1 makes tracer print its
//! counts so far, as tcpdump does). The verdict: RSS flat after warm-up (within 5%), the
//! descriptor count constant, no record lost.
//!
//! Descriptors are counted as those held across a 100 ms window (in at least three of five
//! reads of `/proc/PID/fd`): tracer's once-a-second look at the host's sockets (`--conn`: a
//! netlink socket, `/proc` directories) opens descriptors for a few milliseconds, and a
//! rotation closes its file a few milliseconds before it opens the next (tcpdump's order),
//! which a single read catches now and then; a leak is held and counted. When the count
//! changes, the descriptors that came or went are printed.
//!
//! The namespaces and nginx are the benchmark's (`bench.rs`); the guards are the test kit's.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::Stdio,
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};

use tracer_testkit::{status_kib, summary_count, Proc, Stdout, TempDir};

use crate::bench::{self, Link, Setup, PORT};

/// RSS may move this much (relative) between the end of warm-up and the end of the run.
const RSS_FLAT: f64 = 0.05;

#[derive(clap::Args)]
pub struct SoakArgs {
    /// Minutes of load.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    minutes: u32,
    /// Seconds between samples.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=600))]
    sample_seconds: u32,
    /// Minutes of warm-up before RSS must stay flat (default: a tenth of the run, at least
    /// one minute).
    #[arg(long)]
    warmup_minutes: Option<u32>,
    /// wrk connections (one wrk thread).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    connections: u32,
    /// `-C` of the rotating `-w` tracer (millions of bytes per file); `-W 3` files.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10000))]
    file_mb: u32,
    /// Also write the markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One tracer under soak.
struct Subject {
    label: &'static str,
    proc: Proc,
    samples: Vec<Sample>,
}

#[derive(Clone, Debug, Default)]
struct Sample {
    at_s: u64,
    rss_kib: u64,
    fds: u64,
    /// The held descriptors, as `N -> target`.
    fd_targets: Vec<String>,
    /// Packets dropped by kernel + records lost, so far.
    lost: u64,
    /// Packets captured so far.
    captured: u64,
}

pub fn run(tracer: &Path, args: SoakArgs) -> Result<()> {
    // SAFETY: plain libc call.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the soak creates network namespaces and loads BPF programs: run it as root");
    }
    ensure!(tracer.exists(), "no tracer binary at {}", tracer.display());
    bench::catch_signals();
    let scratch = TempDir::try_new("soak")?;
    let setup = Setup::new(Link::Veth)?;
    let rot_dir = scratch.join("rotation");
    fs::create_dir_all(&rot_dir)?;
    let port = PORT.to_string();
    let iface = setup.iface;
    let file_mb = args.file_mb.to_string();
    let rot_file = rot_dir.join("soak.pcap");
    let modes: [(&'static str, Vec<String>); 3] = [
        (
            "text (`-nn`)",
            vec!["-i".into(), iface.into(), "-nn".into()],
        ),
        (
            "`-w` rotating (`-C N -W 3`)",
            vec![
                "-i".into(),
                iface.into(),
                "-w".into(),
                rot_file.display().to_string(),
                "-C".into(),
                file_mb.clone(),
                "-W".into(),
                "3".into(),
            ],
        ),
        (
            "`--conn --http --json`",
            vec![
                "-i".into(),
                iface.into(),
                "--conn".into(),
                "--http".into(),
                "--json".into(),
                // Which counter a loss is in (lock busy, late update, ring full...).
                "--kernel-stats".into(),
            ],
        ),
    ];
    let mut subjects = Vec::new();
    for (label, mode_args) in modes {
        let mut c = setup.server().cmd(tracer);
        c.args(&mode_args).args(["port", &port]);
        let mut proc = Proc::try_spawn(label, c, Stdout::To(Stdio::null()))?;
        proc.try_wait_for_stderr("listening on", Duration::from_secs(30))?;
        subjects.push(Subject {
            label,
            proc,
            samples: Vec::new(),
        });
    }

    let total = Duration::from_secs(args.minutes as u64 * 60);
    let wrk = setup.wrk_in_background(total, args.connections)?;
    let started = Instant::now();
    let every = Duration::from_secs(args.sample_seconds as u64);
    let mut next = started;
    while started.elapsed() < total {
        bench::check_stop()?;
        let now = Instant::now();
        if now >= next {
            let at_s = started.elapsed().as_secs();
            for s in &mut subjects {
                let sample = sample(&mut s.proc, at_s).with_context(|| s.label)?;
                if let Some(first) = s.samples.first() {
                    if first.fds != sample.fds {
                        let came: Vec<&String> = sample
                            .fd_targets
                            .iter()
                            .filter(|t| !first.fd_targets.contains(t))
                            .collect();
                        let went: Vec<&String> = first
                            .fd_targets
                            .iter()
                            .filter(|t| !sample.fd_targets.contains(t))
                            .collect();
                        eprintln!(
                            "soak: {}: {} descriptors (first sample {}): new {came:?}, gone {went:?}",
                            s.label, sample.fds, first.fds
                        );
                    }
                }
                s.samples.push(sample);
            }
            let line: Vec<String> = subjects
                .iter()
                .map(|s| {
                    let l = s.samples.last().expect("just sampled");
                    format!(
                        "{}: rss {:.1} MiB fds {} lost {}",
                        s.label,
                        l.rss_kib as f64 / 1024.0,
                        l.fds,
                        l.lost
                    )
                })
                .collect();
            eprintln!("soak: {at_s:>5} s  {}", line.join("  |  "));
            next += every;
        }
        thread::sleep(
            next.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(500)),
        );
    }
    let (rps, wrk_errors) = wrk.finish()?;
    // The last records drain; the summary is the final word on losses.
    thread::sleep(Duration::from_secs(2));
    let mut finals = Vec::new();
    let mut kernel_lines: Vec<String> = Vec::new();
    for s in subjects.iter_mut() {
        let last = sample(&mut s.proc, started.elapsed().as_secs())?;
        s.samples.push(last);
    }
    for s in subjects {
        let (status, _, err) = s
            .proc
            .try_interrupt(Duration::from_secs(60))
            .with_context(|| s.label)?;
        ensure!(status.success(), "{} failed ({status}): {err}", s.label);
        let lost = summary_count(&err, "dropped by kernel").unwrap_or(0)
            + summary_count(&err, "records lost").unwrap_or(0);
        let kernel: Vec<String> = err
            .lines()
            .filter(|l| l.starts_with("kernel:"))
            .map(|l| format!("{}: {l}", s.label))
            .collect();
        kernel_lines.extend(kernel);
        finals.push((s.label, s.samples, lost));
    }
    let files: Vec<String> = {
        let mut v: Vec<String> = fs::read_dir(&rot_dir)?
            .flatten()
            .map(|e| {
                format!(
                    "{} ({:.1} MB)",
                    e.file_name().to_string_lossy(),
                    e.metadata().map(|m| m.len()).unwrap_or(0) as f64 / 1e6
                )
            })
            .collect();
        v.sort();
        v
    };

    let warmup = Duration::from_secs(
        args.warmup_minutes
            .map(|m| m as u64 * 60)
            .unwrap_or((total.as_secs() / 10).max(60)),
    );
    let mut report = String::new();
    writeln!(
        report,
        "{}\nSoak (`cargo xtask soak --minutes {}`): wrk -t1 -c{} for {} min over a veth pair, {rps:.0} req/s{}; three tracers at once on the server's end, sampled every {} s. RSS after warm-up ({} s) vs at the end; descriptors over the whole run; lost = packets dropped by kernel + records lost (exit summary).\n",
        bench::machine_line().trim_end(),
        args.minutes,
        args.connections,
        args.minutes,
        if wrk_errors { " (wrk reported errors)" } else { "" },
        args.sample_seconds,
        warmup.as_secs()
    )?;
    writeln!(
        report,
        "| mode | packets | RSS after warm-up | RSS at end | RSS min..max after warm-up | change | fds | lost |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let mut failures = Vec::new();
    for (label, samples, lost) in &finals {
        let after: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at_s >= warmup.as_secs())
            .collect();
        let (Some(first), Some(last)) = (after.first(), after.last()) else {
            bail!("{label}: no sample after the warm-up: run longer than {warmup:?}");
        };
        let min = after.iter().map(|s| s.rss_kib).min().unwrap_or(0);
        let max = after.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        let change = (last.rss_kib as f64 - first.rss_kib as f64) / first.rss_kib.max(1) as f64;
        let spread = (max - min) as f64 / min.max(1) as f64;
        let fd_min = samples.iter().map(|s| s.fds).min().unwrap_or(0);
        let fd_max = samples.iter().map(|s| s.fds).max().unwrap_or(0);
        let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
        writeln!(
            report,
            "| {label} | {} | {} | {} | {}..{} | {:+.1}% | {} | {lost} |",
            last.captured,
            mib(first.rss_kib),
            mib(last.rss_kib),
            mib(min),
            mib(max),
            change * 100.0,
            if fd_min == fd_max {
                fd_min.to_string()
            } else {
                format!("{fd_min}..{fd_max}")
            }
        )?;
        if spread > RSS_FLAT {
            failures.push(format!(
                "{label}: RSS moved {:.1}% after warm-up (more than {:.0}%)",
                spread * 100.0,
                RSS_FLAT * 100.0
            ));
        }
        if fd_min != fd_max {
            failures.push(format!("{label}: descriptors went {fd_min}..{fd_max}"));
        }
        if *lost > 0 {
            failures.push(format!("{label}: {lost} lost"));
        }
    }
    writeln!(report, "\nRotated files at the end: {}", files.join(", "))?;
    for l in &kernel_lines {
        writeln!(report, "\n{l}")?;
    }
    println!("{report}");
    if let Some(out) = &args.out {
        fs::write(out, &report).with_context(|| format!("{}", out.display()))?;
    }
    if !failures.is_empty() {
        bail!("soak failed: {}", failures.join("; "));
    }
    Ok(())
}

/// VmRSS, open descriptors and (through SIGUSR1) the counts so far of one tracer.
fn sample(p: &mut Proc, at_s: u64) -> Result<Sample> {
    let pid = p.child.id();
    let rss_kib = status_kib(pid, "VmRSS:").context("no VmRSS: did tracer exit?")?;
    let fd_targets = held_descriptors(pid)?;
    let line = p.ask_counts(Duration::from_secs(5))?;
    let lost = summary_count(&line, "dropped by kernel").unwrap_or(0)
        + summary_count(&line, "records lost").unwrap_or(0);
    let captured = summary_count(&line, "captured").unwrap_or(0);
    Ok(Sample {
        at_s,
        rss_kib,
        fds: fd_targets.len() as u64,
        fd_targets,
        lost,
        captured,
    })
}

/// The descriptors of `pid` open in at least three of five reads 25 ms apart, by number (a
/// rotated file keeps its number and changes its target), as `N -> target` as last seen
/// (see the module doc). A descriptor held for less than ~50 ms is in at most two reads; one
/// held but closed and opened again in a rotation's few milliseconds is missing from at
/// most one; a leaked one is in all five.
fn held_descriptors(pid: u32) -> Result<Vec<String>> {
    let mut seen: std::collections::BTreeMap<u32, (u32, String)> = Default::default();
    for i in 0..5 {
        if i > 0 {
            thread::sleep(Duration::from_millis(25));
        }
        for e in fs::read_dir(format!("/proc/{pid}/fd"))? {
            let e = e?;
            let Ok(n) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            // A descriptor closed between the listing and the readlink is not there.
            if let Ok(t) = fs::read_link(e.path()) {
                let s = seen.entry(n).or_default();
                s.0 += 1;
                s.1 = t.display().to_string();
            }
        }
    }
    Ok(seen
        .into_iter()
        .filter(|(_, (count, _))| *count >= 3)
        .map(|(n, (_, t))| format!("{n} -> {t}"))
        .collect())
}
