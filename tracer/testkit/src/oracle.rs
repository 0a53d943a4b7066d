//! Tools and oracles: whether a program is installed, the one policy for a missing oracle,
//! the gate of privileged tests, and where the conformance corpus is.
//!
//! Under `cargo xtask test` (and CI), `TRACER_REQUIRE_PRIVILEGED_TESTS` is set: a missing
//! oracle (tcpdump, tshark, the corpus) or missing privileges fail the test. Only a plain
//! `cargo test` may skip, and it says so.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Mutex, MutexGuard},
};

/// Privileged tests load programs and compare kernel-wide state: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Whether `cmd` is on the PATH.
pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `cmd` is on the PATH (for comparisons that need an optional tool).
pub fn tool_available(cmd: &str) -> bool {
    have(cmd)
}

/// Whether this run must have every oracle: `cargo xtask test` (and CI) sets
/// `TRACER_REQUIRE_PRIVILEGED_TESTS`.
pub fn oracles_required() -> bool {
    std::env::var_os("TRACER_REQUIRE_PRIVILEGED_TESTS").is_some()
}

/// The one policy for a missing oracle: fails the test under `cargo xtask test`, else
/// prints why the test is skipped and returns false (the caller returns).
pub fn missing_oracle(what: &str) -> bool {
    if oracles_required() {
        panic!(
            "{what}: required under `cargo xtask test` (TRACER_REQUIRE_PRIVILEGED_TESTS is set)"
        );
    }
    eprintln!("SKIPPED: {what}; `cargo xtask test` requires it");
    false
}

/// Whether `tool --version` runs; when it does not, [`missing_oracle`].
pub fn require_tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok || missing_oracle(&format!("{tool} does not run (is it installed?)"))
}

/// Returns the serialisation guard when the test can run (root, `ip` and `tools` present);
/// otherwise skips with a notice, or fails under `cargo xtask test`.
pub fn privileged(tools: &[&str]) -> Option<MutexGuard<'static, ()>> {
    // SAFETY: plain libc call.
    let root = unsafe { libc::geteuid() } == 0;
    let missing: Vec<&str> = ["ip"]
        .iter()
        .chain(tools)
        .copied()
        .filter(|t| !have(t))
        .collect();
    let why = if !root {
        Some("not root".to_string())
    } else if !missing.is_empty() {
        Some(format!("missing {}", missing.join(", ")))
    } else {
        None
    };
    if let Some(why) = why {
        if oracles_required() {
            panic!("privileged test cannot run: {why}");
        }
        eprintln!("SKIPPED (privileged test): {why}; `sudo -E cargo xtask test` runs it");
        return None;
    }
    Some(SERIAL.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Where the conformance corpus is: `TRACER_CONFORMANCE`, else `shared/conformance` beside
/// the repository or in it, else where these machines keep it (`/work/shared/conformance`),
/// so that a clone anywhere (CI's clean checkout) still runs the comparisons instead of
/// skipping. `None` when none of them holds the corpus's README.
pub fn corpus_location() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TRACER_CONFORMANCE") {
        return Some(PathBuf::from(p));
    }
    // This crate is tracer/testkit in the workspace.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        root.join("../shared/conformance"),
        root.join("shared/conformance"),
        PathBuf::from("/work/shared/conformance"),
    ]
    .into_iter()
    .find(|p| p.join("README.md").exists())
}

/// The conformance corpus, holding pcaps: a folder without any fails the test (whoever
/// named it); no folder at all is a [`missing_oracle`] (`None`: skip).
pub fn corpus_dir() -> Option<PathBuf> {
    let Some(dir) = corpus_location() else {
        missing_oracle("the conformance corpus was not found (set TRACER_CONFORMANCE)");
        return None;
    };
    let pcaps = std::fs::read_dir(dir.join("pcaps"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "pcap"))
                .count()
        })
        .unwrap_or(0);
    assert!(
        pcaps > 0,
        "the conformance corpus {} holds no pcaps/*.pcap",
        dir.display()
    );
    Some(dir)
}
