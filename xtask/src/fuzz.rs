//! `cargo xtask fuzz --seconds N`: every cargo-fuzz target of `tracer/fuzz` (the capture
//! path: `pcap_reader`, `live_record`, `filter`, `printer`, `conn`; and each application
//! printer) run for N seconds, one after the other, from the seeds `seed.py` makes plus the
//! committed `regressions/<target>/` inputs (earlier findings, replayed first). Any crash,
//! failed assertion, leak or timeout fails the run and names the input libFuzzer saved.
//!
//! Built once with the pinned nightly (`-Z sanitizer=address`, as `cargo fuzz build -O`),
//! then the target binaries are run directly: `cargo fuzz run` would rebuild each time.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{bail, Context, Result};

use crate::{status, target_dir, works, workspace_root, KERNEL_TOOLCHAIN};

const CARGO_FUZZ_VERSION: &str = "0.13.2";

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Seconds per target.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=86400))]
    pub seconds: u32,
    /// Targets to run (comma-separated; default: every target of tracer/fuzz/Cargo.toml).
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
}

fn fuzz_dir() -> PathBuf {
    workspace_root().join("tracer/fuzz")
}

/// The `[[bin]]` names of the fuzz crate, in its order.
fn all_targets() -> Result<Vec<String>> {
    let toml = fs::read_to_string(fuzz_dir().join("Cargo.toml"))?;
    let mut out = Vec::new();
    let mut in_bin = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin {
            if let Some(v) = line.strip_prefix("name = ") {
                out.push(v.trim_matches('"').to_string());
            }
        }
    }
    Ok(out)
}

fn ensure_cargo_fuzz() -> Result<()> {
    if works("cargo", &["fuzz", "--version"]) {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION} (about a minute)");
    status(Command::new("cargo").args([
        "install",
        "cargo-fuzz",
        "--version",
        CARGO_FUZZ_VERSION,
        "--locked",
    ]))
}

/// One target's outcome.
struct Outcome {
    target: String,
    runs: u64,
    seconds: f64,
    corpus: usize,
    failure: Option<String>,
}

pub fn run(a: &FuzzArgs) -> Result<()> {
    ensure_cargo_fuzz()?;
    let dir = fuzz_dir();
    let targets = if a.targets.is_empty() {
        all_targets()?
    } else {
        let known = all_targets()?;
        for t in &a.targets {
            if !known.contains(t) {
                bail!("no fuzz target {t:?} (targets: {})", known.join(", "));
            }
        }
        a.targets.clone()
    };
    // The corpus where the tests find it (the test kit's one lookup); without it the seeds
    // come from the repository's own captures.
    let mut seed = Command::new("python3");
    seed.arg("seed.py").current_dir(&dir);
    match tracer_testkit::corpus_location() {
        Some(corpus) => seed.env("TRACER_CONFORMANCE", corpus),
        None => seed.env_remove("TRACER_CONFORMANCE"),
    };
    status(&mut seed)?;
    let tdir = target_dir().join("fuzz");
    status(
        Command::new("cargo")
            .arg(format!("+{KERNEL_TOOLCHAIN}"))
            .args(["fuzz", "build", "-O", "--target-dir"])
            .arg(&tdir)
            .current_dir(&dir),
    )?;
    let bin_dir = tdir.join("x86_64-unknown-linux-gnu/release");
    let logs = tdir.join("logs");
    fs::create_dir_all(&logs)?;
    let mut outcomes = Vec::new();
    for t in &targets {
        outcomes.push(run_one(&dir, &bin_dir.join(t), &logs, t, a.seconds)?);
    }
    let mut table = String::from("target        seconds        runs     runs/s  corpus  result\n");
    let (mut total_s, mut total_runs) = (0.0, 0u64);
    for o in &outcomes {
        total_s += o.seconds;
        total_runs += o.runs;
        let _ = writeln!(
            table,
            "{:<12} {:>8.0} {:>11} {:>10.0} {:>7}  {}",
            o.target,
            o.seconds,
            o.runs,
            o.runs as f64 / o.seconds.max(1e-9),
            o.corpus,
            o.failure.as_deref().unwrap_or("ok")
        );
    }
    let _ = writeln!(table, "{:<12} {:>8.0} {:>11}", "total", total_s, total_runs);
    print!("{table}");
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    if !failed.is_empty() {
        bail!(
            "{} fuzz target(s) failed: {} (logs in {})",
            failed.len(),
            failed
                .iter()
                .map(|o| o.target.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            logs.display()
        );
    }
    Ok(())
}

fn run_one(dir: &Path, bin: &Path, logs: &Path, t: &str, seconds: u32) -> Result<Outcome> {
    let corpus = dir.join("corpus").join(t);
    let artifacts = dir.join("artifacts").join(t);
    fs::create_dir_all(&corpus)?;
    fs::create_dir_all(&artifacts)?;
    let log_path = logs.join(format!("{t}.log"));
    let log = fs::File::create(&log_path)?;
    let mut cmd = Command::new(bin);
    cmd.arg(&corpus);
    let regressions = dir.join("regressions").join(t);
    if regressions.is_dir() {
        cmd.arg(&regressions);
    }
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-max_len=70000")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log);
    eprintln!("xtask: fuzzing {t} for {seconds} s");
    let start = Instant::now();
    let s = cmd
        .status()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let secs = start.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    let runs = text
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let failure = (!s.success()).then(|| {
        let input = text
            .lines()
            .find_map(|l| l.split("Test unit written to ").nth(1))
            .unwrap_or("no input saved");
        let why = text
            .lines()
            .find(|l| l.contains("panicked") || l.contains("ERROR: "))
            .unwrap_or("")
            .trim();
        format!("FAILED ({s}): {why}; input {input}")
    });
    if let Some(f) = &failure {
        eprintln!("xtask: {t}: {f}\n--- {} (tail)", log_path.display());
        let lines: Vec<&str> = text.lines().collect();
        for l in &lines[lines.len().saturating_sub(30)..] {
            eprintln!("{l}");
        }
    }
    Ok(Outcome {
        target: t.to_string(),
        runs,
        seconds: secs,
        corpus: fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0),
        failure,
    })
}
