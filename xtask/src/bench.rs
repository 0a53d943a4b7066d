//! `cargo xtask bench`: tracer against tcpdump on the same wrk -> nginx load, in network
//! namespaces of its own (on `lo`, and across a veth pair with the capture on the server's
//! end), then `tracer -r` against `tcpdump -r` on one large capture.
//!
//! Rounds are interleaved (every mode once per round, in a rotating order) so that a slow
//! moment of the machine spreads over all modes; the table shows medians over rounds. Every
//! number in it comes from the run it describes: wrk's `Requests/sec`, the capture's own exit
//! summary, `/proc/PID/stat` and `/proc/PID/status` of the capturing process.

use std::{
    fs::{self, File},
    io::{BufReader, Read},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use tracer_testkit::{
    kernel_counter, status_kib, summary_count, NetNs, Nginx, Proc, Stdout, TempDir, Wrk,
};

/// Port nginx serves on, in every namespace.
pub(crate) const PORT: u16 = 8080;
/// Where `--metrics` listens, in the server's namespace.
const METRICS_ADDR: &str = "127.0.0.1:9464";
/// A filter that matches none of the benchmark's packets.
const MISS_FILTER: &[&str] = &["port", "9"];
/// The offline comparison wants at least this many packets in its capture.
const OFFLINE_MIN_PACKETS: u64 = 500_000;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Interleaved rounds; the table shows medians over them.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
    /// Seconds of wrk load per run.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=60))]
    seconds: u32,
    /// wrk connections (one wrk thread, one nginx worker).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    connections: u32,
    /// Links to measure: `lo`, `veth` or both.
    #[arg(long, value_delimiter = ',', default_values = ["lo", "veth"])]
    links: Vec<Link>,
    /// Skip the offline (`-r`) comparison.
    #[arg(long)]
    no_offline: bool,
    /// Skip the live runs (offline comparison only).
    #[arg(long)]
    no_live: bool,
    /// Also write the markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Modes to measure (default: all): untraced, text, write, miss, conn, metrics, states,
    /// process, tcpdump-text, tcpdump-write, tcpdump-miss. `untraced` is always measured.
    #[arg(long, value_delimiter = ',')]
    modes: Vec<String>,
    /// wrk sends `Connection: close`: one connection per request, so the load is socket
    /// churn (what `--states` and `--process` see) rather than requests on kept connections.
    #[arg(long)]
    close: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Link {
    /// wrk and nginx in one namespace, over its `lo`.
    Lo,
    /// wrk in one namespace, nginx in another, over a veth pair; captured on nginx's end.
    Veth,
}

/// What runs beside the load.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Mode {
    Untraced,
    TracerText,
    TracerWrite,
    TracerMiss,
    /// `--conn --http --json`: connection and HTTP records from the kernel, no packets.
    TracerConn,
    /// `--metrics` alone: records counted into the metrics, nothing printed; scraped each
    /// second.
    TracerMetrics,
    /// `--states --retrans --json`: the namespace's socket state changes and
    /// retransmissions, no packet hooks.
    TracerStates,
    /// `--process -nn`: every packet's text, followed by its owning process.
    TracerProcess,
    TcpdumpText,
    TcpdumpWrite,
    TcpdumpMiss,
}

const MODES: [Mode; 11] = [
    Mode::Untraced,
    Mode::TracerText,
    Mode::TracerWrite,
    Mode::TracerMiss,
    Mode::TracerConn,
    Mode::TracerMetrics,
    Mode::TracerStates,
    Mode::TracerProcess,
    Mode::TcpdumpText,
    Mode::TcpdumpWrite,
    Mode::TcpdumpMiss,
];

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Untraced => "untraced",
            Mode::TracerText => "tracer -nn (text to /dev/null)",
            Mode::TracerWrite => "tracer -w file",
            Mode::TracerMiss => "tracer, filter matches nothing",
            Mode::TracerConn => "tracer --conn --http --json (records only)",
            Mode::TracerMetrics => "tracer --metrics (scraped each second)",
            Mode::TracerStates => "tracer --states --retrans --json (socket records)",
            Mode::TracerProcess => "tracer -nn --process (text + owner)",
            Mode::TcpdumpText => "tcpdump -nn (text to /dev/null)",
            Mode::TcpdumpWrite => "tcpdump -w file",
            Mode::TcpdumpMiss => "tcpdump, filter matches nothing",
        }
    }

    fn is_tracer(self) -> bool {
        matches!(
            self,
            Mode::TracerText
                | Mode::TracerWrite
                | Mode::TracerMiss
                | Mode::TracerConn
                | Mode::TracerMetrics
                | Mode::TracerStates
                | Mode::TracerProcess
        )
    }

    /// The name `--modes` takes.
    fn key(self) -> &'static str {
        match self {
            Mode::Untraced => "untraced",
            Mode::TracerText => "text",
            Mode::TracerWrite => "write",
            Mode::TracerMiss => "miss",
            Mode::TracerConn => "conn",
            Mode::TracerMetrics => "metrics",
            Mode::TracerStates => "states",
            Mode::TracerProcess => "process",
            Mode::TcpdumpText => "tcpdump-text",
            Mode::TcpdumpWrite => "tcpdump-write",
            Mode::TcpdumpMiss => "tcpdump-miss",
        }
    }
}

/// The modes `--modes` selects (all when empty), untraced always first.
fn selected_modes(names: &[String]) -> Result<Vec<Mode>> {
    for n in names {
        ensure!(
            MODES.iter().any(|m| m.key() == n),
            "--modes: unknown mode {n:?} (one of: {})",
            MODES.map(Mode::key).join(", ")
        );
    }
    Ok(MODES
        .into_iter()
        .filter(|m| names.is_empty() || *m == Mode::Untraced || names.iter().any(|n| n == m.key()))
        .collect())
}

/// One measured run.
#[derive(Clone, Debug, Default)]
struct Run {
    req_per_s: f64,
    /// Packets the capture reported captured, per second of load.
    captured_per_s: f64,
    /// Packets (records) the capture reported dropped by the kernel.
    lost: u64,
    /// CPU time of the capturing process over the load, in % of one core.
    cpu_percent: f64,
    /// VmHWM of the capturing process, in KiB.
    peak_rss_kib: u64,
    /// VmRSS 1 s into the load and at its end, in KiB: flat under a sustained load.
    rss_early_kib: u64,
    rss_end_kib: u64,
    /// tracer's `records submitted` kernel counter (the filter-miss proof).
    submitted: Option<u64>,
    /// `--conn`: connection and HTTP records sent by the kernel.
    conn_records: Option<u64>,
    /// `--metrics`: HTTP exchanges in the histogram's count at the end of the load.
    metrics_http: Option<u64>,
    /// tracer's kernel programs: average run time per packet (`kernel.bpf_stats_enabled`).
    kernel_ns_per_packet: Option<f64>,
    /// CPU time of the capturing process per packet captured.
    user_ns_per_packet: f64,
    /// Socket errors or non-2xx responses wrk reported.
    wrk_errors: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Ctrl-C ends the benchmark between runs, through the guards' Drop (namespaces deleted,
/// processes killed) instead of killing xtask with everything left behind.
pub(crate) fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

pub(crate) fn check_stop() -> Result<()> {
    if STOP.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(())
}

pub fn run(tracer: &Path, args: BenchArgs) -> Result<()> {
    // SAFETY: plain libc call.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the benchmark creates network namespaces and loads BPF programs: run `sudo -E cargo xtask bench`");
    }
    ensure!(tracer.exists(), "no tracer binary at {}", tracer.display());
    catch_signals();
    let scratch = TempDir::try_new("bench")?;
    let _stats = BpfStats::enable();
    let mut report = String::new();
    report.push_str(&machine_line());

    let setups: Vec<(Link, Setup)> = if args.no_live {
        Vec::new()
    } else {
        args.links
            .iter()
            .map(|&l| Setup::new(l).map(|s| (l, s)))
            .collect::<Result<_>>()?
    };
    if !args.no_live {
        let modes = selected_modes(&args.modes)?;
        let mut results: Vec<(Link, Mode, Vec<Run>)> = Vec::new();
        for &link in &args.links {
            for &mode in &modes {
                results.push((link, mode, Vec::new()));
            }
        }
        for (_, s) in &setups {
            // Warm-up: nginx's caches, the neighbour tables, wrk's first connections.
            s.wrk(1, args.connections, args.close)?;
        }
        for round in 0..args.rounds {
            for (link, setup) in &setups {
                for k in 0..modes.len() {
                    check_stop()?;
                    let mode = modes[(k + round as usize) % modes.len()];
                    let r = setup
                        .measure(tracer, mode, &args, &scratch)
                        .with_context(|| format!("{link:?} {}", mode.label()))?;
                    eprintln!(
                        "bench: round {} {link:?} {:<50} {:>9.0} req/s  {:>9.0} pkt/s  lost {}  cpu {:.0}%",
                        round + 1,
                        mode.label(),
                        r.req_per_s,
                        r.captured_per_s,
                        r.lost,
                        r.cpu_percent
                    );
                    results
                        .iter_mut()
                        .find(|(l, m, _)| l == link && *m == mode)
                        .expect("every (link, mode) has a slot")
                        .2
                        .push(r);
                }
            }
        }
        report.push_str(&live_table(&results, &args));
    }
    if !args.no_offline {
        // The capture is of the lo load: the live runs' lo setup, or one of its own.
        let own;
        let lo = match setups.iter().find(|(l, _)| *l == Link::Lo) {
            Some((_, s)) => s,
            None => {
                own = Setup::new(Link::Lo)?;
                &own
            }
        };
        let (pcap, packets) = lo.capture_for_offline(&scratch, args.connections)?;
        check_stop()?;
        report.push_str(&offline_table(
            tracer,
            &pcap,
            packets,
            &scratch,
            args.rounds.max(3),
        )?);
    }

    println!("{report}");
    if let Some(out) = &args.out {
        fs::write(out, &report).with_context(|| format!("{}", out.display()))?;
    }
    Ok(())
}

pub(crate) fn machine_line() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let tcpdump = output("tcpdump", &["--version"])
        .ok()
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_default();
    format!(
        "Machine: {cores} cores ({cpu}), Linux {kernel}; {tcpdump}; {}.\n\n",
        date.trim()
    )
}

fn output(cmd: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {cmd}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn live_table(results: &[(Link, Mode, Vec<Run>)], args: &BenchArgs) -> String {
    let mut s = format!(
        "Live: `wrk -t1 -c{} -d{}s{}` -> nginx (1 worker), {} interleaved rounds, medians. \
         Capture filter `port {PORT}` (every packet of the load), or `port 9` (none).\n\n\
         \"capture CPU\": user + system time of the capturing process over the load, in % of one \
         core (its kernel programs run in the load's own softirqs, counted in req/s). \
         \"cost/packet\": kernel programs' run time per packet (kernel.bpf_stats_enabled; tracer \
         only) + the capturing process's CPU time per captured packet. \
         \"RSS\": 1 s into the load -> at its end (peak).\n\n\
         | link | capture | req/s | vs untraced | packets/s captured | lost | capture CPU | cost/packet | RSS |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
        args.connections,
        args.seconds,
        if args.close {
            " -H 'Connection: close'"
        } else {
            ""
        },
        args.rounds
    );
    for &(link, mode, ref runs) in results {
        let base = results
            .iter()
            .find(|(l, m, _)| *l == link && *m == Mode::Untraced)
            .map(|(_, _, r)| median(r.iter().map(|r| r.req_per_s).collect()))
            .unwrap_or(f64::NAN);
        let req = median(runs.iter().map(|r| r.req_per_s).collect());
        let link_name = match link {
            Link::Lo => "lo",
            Link::Veth => "veth",
        };
        if mode == Mode::Untraced {
            s.push_str(&format!(
                "| {link_name} | {} | {req:.0} | 1.00x | | | | | |\n",
                mode.label()
            ));
            continue;
        }
        let pps = median(runs.iter().map(|r| r.captured_per_s).collect());
        let lost: Vec<u64> = runs.iter().map(|r| r.lost).collect();
        let lost = if lost.iter().all(|&l| l == 0) {
            "0".to_string()
        } else {
            lost.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let cpu = median(runs.iter().map(|r| r.cpu_percent).collect());
        let user_ns = median(runs.iter().map(|r| r.user_ns_per_packet).collect());
        let kernel_ns: Vec<f64> = runs.iter().filter_map(|r| r.kernel_ns_per_packet).collect();
        // tcpdump's kernel side (the packet tap's clone and copy) has no such counter: "?".
        let kernel = if kernel_ns.is_empty() {
            "?".to_string()
        } else {
            format!("{:.0}", median(kernel_ns))
        };
        let cost = match mode {
            Mode::TracerMiss => format!("{kernel} + 0 ns"),
            Mode::TcpdumpMiss => String::new(),
            _ => format!("{kernel} + {user_ns:.0} ns"),
        };
        let mib = |f: fn(&Run) -> u64| median(runs.iter().map(|r| f(r) as f64).collect()) / 1024.0;
        let rss = format!(
            "{:.1} -> {:.1} ({:.1}) MiB",
            mib(|r| r.rss_early_kib),
            mib(|r| r.rss_end_kib),
            mib(|r| r.peak_rss_kib)
        );
        let mut note = String::new();
        if mode == Mode::TracerMiss {
            let submitted: u64 = runs.iter().filter_map(|r| r.submitted).sum();
            note = format!(" ({submitted} records reserved)");
        }
        if mode == Mode::TracerStates {
            note = " (packets/s: socket records/s; kernel ns: per tracepoint run)".to_string();
        }
        if mode == Mode::TracerConn {
            let records = median(
                runs.iter()
                    .filter_map(|r| r.conn_records)
                    .map(|n| n as f64)
                    .collect(),
            );
            note = format!(" ({records:.0} records per run)");
        }
        if mode == Mode::TracerMetrics {
            let http = median(
                runs.iter()
                    .filter_map(|r| r.metrics_http)
                    .map(|n| n as f64)
                    .collect(),
            );
            note = format!(" ({http:.0} exchanges in the metrics per run)");
        }
        if runs.iter().any(|r| r.wrk_errors) {
            note.push_str(" (wrk reported errors)");
        }
        s.push_str(&format!(
            "| {link_name} | {}{note} | {req:.0} | {:.2}x | {pps:.0} | {lost} | {cpu:.0}% | {cost} | {rss} |\n",
            mode.label(),
            req / base
        ));
    }
    s.push('\n');
    s
}

/// The namespaces, nginx, and where to capture for one link. Field order is drop order:
/// nginx stops before its namespace goes.
pub(crate) struct Setup {
    _nginx: Nginx,
    /// Where wrk runs.
    client: NetNs,
    /// Where nginx runs and the capture listens (the same namespace as `client` on `lo`).
    server: Option<NetNs>,
    /// Interface of the capture, in the server's namespace.
    pub(crate) iface: &'static str,
    url: String,
}

impl Setup {
    pub(crate) fn new(link: Link) -> Result<Setup> {
        match link {
            Link::Lo => {
                let ns = NetNs::try_new("bench-lo")?;
                let nginx = Nginx::try_start_in_memory(&ns, &[&format!("127.0.0.1:{PORT}")], PORT)?;
                Ok(Setup {
                    _nginx: nginx,
                    client: ns,
                    server: None,
                    iface: "lo",
                    url: format!("http://127.0.0.1:{PORT}/"),
                })
            }
            Link::Veth => {
                let client = NetNs::try_new("bench-c")?;
                let server = NetNs::try_new("bench-s")?;
                client.try_veth_to("veth-c", &server, "veth-s")?;
                client.try_ip(&["addr", "add", "10.78.0.1/24", "dev", "veth-c"])?;
                server.try_ip(&["addr", "add", "10.78.0.2/24", "dev", "veth-s"])?;
                client.try_ip(&["link", "set", "veth-c", "up"])?;
                server.try_ip(&["link", "set", "veth-s", "up"])?;
                let nginx =
                    Nginx::try_start_in_memory(&server, &[&format!("10.78.0.2:{PORT}")], PORT)?;
                Ok(Setup {
                    _nginx: nginx,
                    client,
                    server: Some(server),
                    iface: "veth-s",
                    url: format!("http://10.78.0.2:{PORT}/"),
                })
            }
        }
    }

    pub(crate) fn server(&self) -> &NetNs {
        self.server.as_ref().unwrap_or(&self.client)
    }

    /// Runs wrk (bounded) and returns (requests/s, whether it reported errors).
    /// `close`: one connection per request (`Connection: close`).
    fn wrk(&self, seconds: u32, connections: u32, close: bool) -> Result<(f64, bool)> {
        let load = Duration::from_secs(seconds.into());
        Wrk::run(&self.client, &self.url, load, connections, close)
    }

    /// Starts wrk for `total` (the soak's load); [`Wrk::finish`] waits for it.
    pub(crate) fn wrk_in_background(&self, total: Duration, connections: u32) -> Result<Wrk> {
        Wrk::start(&self.client, &self.url, total, connections, false)
    }

    /// Starts the capture of `mode` (none when untraced) and waits for it to listen.
    fn start_capture(&self, tracer: &Path, mode: Mode, file: &Path) -> Result<Option<Proc>> {
        let port = PORT.to_string();
        let filter: Vec<&str> = if matches!(mode, Mode::TracerMiss | Mode::TcpdumpMiss) {
            MISS_FILTER.to_vec()
        } else {
            vec!["port", &port]
        };
        let write = matches!(mode, Mode::TracerWrite | Mode::TcpdumpWrite);
        let (mut cmd, name) = match mode {
            Mode::Untraced => return Ok(None),
            m if m.is_tracer() => {
                let mut c = self.server().cmd(tracer);
                c.arg("--kernel-stats");
                (c, "tracer")
            }
            _ => (self.server().cmd("tcpdump"), "tcpdump"),
        };
        if mode == Mode::TracerStates {
            // No packet hooks: no interface; the namespace's sockets on the server's port.
            cmd.args(["--states", "--retrans", "--json"]);
        } else {
            cmd.args(["-i", self.iface, "-nn"]);
        }
        if mode == Mode::TracerConn {
            cmd.args(["--conn", "--http", "--json"]);
        }
        if mode == Mode::TracerProcess {
            cmd.arg("--process");
        }
        if mode == Mode::TracerMetrics {
            cmd.args(["--metrics", METRICS_ADDR]);
        }
        if write {
            cmd.arg("-w").arg(file);
        }
        cmd.args(&filter);
        let stdout = if write {
            Stdio::null()
        } else {
            Stdio::from(File::create("/dev/null")?)
        };
        let mut p = Proc::try_spawn(name, cmd, Stdout::To(stdout))?;
        p.try_wait_for_stderr("listening on", Duration::from_secs(30))?;
        Ok(Some(p))
    }

    fn measure(
        &self,
        tracer: &Path,
        mode: Mode,
        args: &BenchArgs,
        scratch: &TempDir,
    ) -> Result<Run> {
        let file = scratch.join("capture.pcap");
        let _ = fs::remove_file(&file);
        settle();
        let capture = self.start_capture(tracer, mode, &file)?;
        let before = capture.as_ref().map(Proc::usage).unwrap_or_default();
        let sampler = capture.as_ref().map(|p| RssSampler::start(p.child.id()));
        // A Prometheus-like reader of --metrics: one scrape a second (bounded).
        let scraper = if mode == Mode::TracerMetrics {
            let mut c = self.server().cmd("bash");
            c.args([
                "-c",
                &format!(
                    "for i in $(seq {}); do curl -s -o /dev/null --max-time 1 http://{METRICS_ADDR}/metrics; sleep 1; done",
                    args.seconds + 5
                ),
            ]);
            Some(Proc::try_spawn("scraper", c, Stdout::To(Stdio::null()))?)
        } else {
            None
        };
        let started = Instant::now();
        let (req_per_s, wrk_errors) = self.wrk(args.seconds, args.connections, args.close)?;
        let load_s = started.elapsed().as_secs_f64();
        drop(scraper);
        let after = capture.as_ref().map(Proc::usage).unwrap_or_default();
        let (rss_early_kib, rss_end_kib) = sampler.map(RssSampler::stop).unwrap_or_default();
        let mut run = Run {
            req_per_s,
            wrk_errors,
            rss_early_kib,
            rss_end_kib,
            ..Run::default()
        };
        if let Some(p) = capture {
            // tcpdump hands over a TPACKET_V3 block when it fills or after 1 s, and does not
            // read a partly filled block after SIGINT: let the last block time out.
            thread::sleep(Duration::from_millis(1500));
            let peak = p.usage().1;
            if mode.is_tracer() {
                run.kernel_ns_per_packet = bpf_run_time_per_run(p.child.id());
            }
            if mode == Mode::TracerMetrics {
                let out = self
                    .server()
                    .cmd("curl")
                    .args(["-sf", "--max-time", "5"])
                    .arg(format!("http://{METRICS_ADDR}/metrics"))
                    .output()?;
                ensure!(out.status.success(), "GET /metrics failed after the load");
                run.metrics_http = Some(
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .filter(|l| l.starts_with("tracer_http_request_duration_seconds_count{"))
                        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
                        .sum(),
                );
            }
            let (status, _, err) = p.try_interrupt(Duration::from_secs(60))?;
            ensure!(status.success(), "capture failed ({status}): {err}");
            // Socket records (`--states`) are counted as "records printed".
            let captured = summary_count(&err, "captured")
                .or_else(|| summary_count(&err, "records printed"))
                .with_context(|| format!("no summary: {err}"))?;
            run.captured_per_s = captured as f64 / load_s;
            // With --conn: packets whose update was lost, and records lost.
            run.lost = summary_count(&err, "dropped by kernel").unwrap_or(0)
                + summary_count(&err, "records lost").unwrap_or(0);
            run.cpu_percent = (after.0 - before.0) / load_s * 100.0;
            if captured > 0 {
                run.user_ns_per_packet = (after.0 - before.0) * 1e9 / captured as f64;
            }
            run.peak_rss_kib = peak.max(after.1);
            run.submitted = kernel_counter(&err, "records submitted");
            run.conn_records = kernel_counter(&err, "records sent");
        }
        let _ = fs::remove_file(&file);
        Ok(run)
    }
    /// A capture of the load by real tcpdump (`-w`), at least [`OFFLINE_MIN_PACKETS`]
    /// packets, for the offline comparison.
    /// Returns the file and its packet count.
    fn capture_for_offline(&self, scratch: &TempDir, connections: u32) -> Result<(PathBuf, u64)> {
        let file = scratch.join("offline.pcap");
        let mut seconds = 6;
        for _ in 0..3 {
            check_stop()?;
            let _ = fs::remove_file(&file);
            let p = self
                .start_capture(Path::new("tracer"), Mode::TcpdumpWrite, &file)?
                .expect("tcpdump capture");
            self.wrk(seconds, connections, false)?;
            thread::sleep(Duration::from_millis(1500));
            let (status, _, err) = p.try_interrupt(Duration::from_secs(30))?;
            ensure!(status.success(), "tcpdump -w failed: {err}");
            // What tcpdump wrote: its own count, not a reader of ours.
            let n = summary_count(&err, "captured")
                .with_context(|| format!("tcpdump -w printed no summary: {err}"))?;
            if n >= OFFLINE_MIN_PACKETS {
                return Ok((file, n));
            }
            eprintln!("bench: offline capture has {n} packets, capturing longer");
            seconds *= 2;
        }
        bail!("could not capture {OFFLINE_MIN_PACKETS} packets for the offline comparison")
    }
}

/// Lets the previous run's after-effects pass before the next: dirty pages of a `-w` file
/// written back, BPF objects freed, sockets in TIME_WAIT timers.
fn settle() {
    let _ = Command::new("sync").status();
    thread::sleep(Duration::from_millis(1000));
}

/// VmRSS of a process, sampled every 200 ms on a thread of its own.
struct RssSampler {
    stop: std::sync::Arc<AtomicBool>,
    thread: thread::JoinHandle<(u64, u64)>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let start = Instant::now();
            let (mut early, mut last) = (0, 0);
            // Bounded: the load is at most 60 s; stop() ends it sooner.
            while !flag.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(120) {
                if let Some(kib) = status_kib(pid, "VmRSS:") {
                    if early == 0 && start.elapsed() >= Duration::from_secs(1) {
                        early = kib;
                    }
                    last = kib;
                }
                thread::sleep(Duration::from_millis(200));
            }
            (early, last)
        });
        RssSampler { stop, thread }
    }

    /// (VmRSS 1 s in, last VmRSS), in KiB.
    fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

/// Turns on the kernel's BPF run-time statistics for the benchmark's life and restores the
/// previous setting on drop. (They cost two clock reads per program run.)
struct BpfStats {
    previous: Option<String>,
}

const BPF_STATS: &str = "/proc/sys/kernel/bpf_stats_enabled";

impl BpfStats {
    fn enable() -> BpfStats {
        let previous = fs::read_to_string(BPF_STATS).ok();
        if fs::write(BPF_STATS, "1").is_err() {
            eprintln!("bench: cannot enable {BPF_STATS}: no kernel cost per packet");
        }
        BpfStats { previous }
    }
}

impl Drop for BpfStats {
    fn drop(&mut self) {
        if let Some(v) = &self.previous {
            let _ = fs::write(BPF_STATS, v.trim());
        }
    }
}

/// Average run time (ns) of the BPF programs process `pid` holds, over all their runs so
/// far, from `bpftool prog show id N` (`run_time_ns`, `run_cnt`).
fn bpf_run_time_per_run(pid: u32) -> Option<f64> {
    let mut ids = Vec::new();
    for e in fs::read_dir(format!("/proc/{pid}/fdinfo")).ok()?.flatten() {
        if let Ok(info) = fs::read_to_string(e.path()) {
            if let Some(id) = info
                .lines()
                .find_map(|l| l.strip_prefix("prog_id:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
    }
    ids.sort();
    ids.dedup();
    let (mut ns, mut runs) = (0u64, 0u64);
    for id in ids {
        let json = output("bpftool", &["prog", "show", "id", &id.to_string(), "-j"]).ok()?;
        let field = |name: &str| -> u64 {
            json.split(&format!("\"{name}\":"))
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        ns += field("run_time_ns");
        runs += field("run_cnt");
    }
    (runs > 0).then(|| ns as f64 / runs as f64)
}

/// Times `prog args -r file` with stdout to `out`; returns seconds.
fn timed(prog: &Path, args: &[&str], file: &Path, out: &Path) -> Result<f64> {
    timed_with(prog, args, &[], file, out)
}

/// Times `prog args -r file after` with stdout to `out`; returns seconds.
fn timed_with(prog: &Path, args: &[&str], after: &[&str], file: &Path, out: &Path) -> Result<f64> {
    let start = Instant::now();
    let status = Command::new(prog)
        .args(args)
        .arg("-r")
        .arg(file)
        .args(after)
        .stdout(File::create(out)?)
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", prog.display()))?;
    let t = start.elapsed().as_secs_f64();
    ensure!(status.success(), "{} -r failed ({status})", prog.display());
    Ok(t)
}

fn offline_table(
    tracer: &Path,
    pcap: &Path,
    packets: u64,
    scratch: &TempDir,
    rounds: u32,
) -> Result<String> {
    let size_mb = fs::metadata(pcap)?.len() as f64 / 1e6;
    let tcpdump = Path::new("tcpdump");
    let mut s = format!(
        "Offline: one capture of the lo load by `tcpdump -w` ({packets} packets, {size_mb:.0} MB), \
         read {rounds} times by each (interleaved, page cache warm), output to /dev/null; medians. \
         \"same output\": both outputs written to files once and compared byte for byte.\n\n\
         | mode | tracer -r | tcpdump -r | tracer packets/s | tcpdump packets/s | speed-up | same output |\n\
         |---|---:|---:|---:|---:|---:|---|\n"
    );
    let devnull = Path::new("/dev/null");
    for mode in [&["-nn"][..], &["-nn", "-v"][..], &["-nn", "-X"][..]] {
        check_stop()?;
        // Warm the page cache and check the outputs once.
        let ours = scratch.join("tracer.txt");
        let theirs = scratch.join("tcpdump.txt");
        timed(tracer, mode, pcap, &ours)?;
        timed(tcpdump, mode, pcap, &theirs)?;
        let same = files_equal(&ours, &theirs)?;
        let lines = count_lines(&theirs)?;
        let _ = fs::remove_file(&ours);
        let _ = fs::remove_file(&theirs);
        let (mut t, mut d) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            check_stop()?;
            t.push(timed(tracer, mode, pcap, devnull)?);
            d.push(timed(tcpdump, mode, pcap, devnull)?);
        }
        let (t, d) = (median(t), median(d));
        eprintln!(
            "bench: offline {}: tracer {t:.3} s, tcpdump {d:.3} s",
            mode.join(" ")
        );
        s.push_str(&format!(
            "| `{}` | {t:.3} s | {d:.3} s | {:.0} | {:.0} | {:.1}x | {} |\n",
            mode.join(" "),
            packets as f64 / t,
            packets as f64 / d,
            d / t,
            if same {
                format!("yes ({lines} lines)")
            } else {
                "NO".to_string()
            }
        ));
    }
    s.push('\n');
    s.push_str(&offline_conn_table(tracer, pcap, packets, scratch, rounds)?);
    Ok(s)
}

/// Connection analytics from the same file: `tracer -r --conn --http --json` against the
/// tool one would use otherwise, tshark's conversation table (when tshark is installed).
fn offline_conn_table(
    tracer: &Path,
    pcap: &Path,
    packets: u64,
    scratch: &TempDir,
    rounds: u32,
) -> Result<String> {
    let devnull = Path::new("/dev/null");
    let ours = scratch.join("conn.json");
    timed(tracer, &["--conn", "--http", "--json"], pcap, &ours)?;
    let text = fs::read_to_string(&ours)?;
    let conns = text
        .lines()
        .filter(|l| l.contains("\"type\":\"conn\""))
        .count();
    let exchanges = text
        .lines()
        .filter(|l| l.contains("\"type\":\"http\""))
        .count();
    let _ = fs::remove_file(&ours);
    let tshark = Path::new("tshark");
    let have_tshark = Command::new("tshark")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let (mut t, mut d) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        check_stop()?;
        t.push(timed(
            tracer,
            &["--conn", "--http", "--json"],
            pcap,
            devnull,
        )?);
        if have_tshark {
            d.push(timed_with(
                tshark,
                &["-n"],
                &["-q", "-z", "conv,tcp"],
                pcap,
                devnull,
            )?);
        }
    }
    let t = median(t);
    eprintln!("bench: offline --conn --http: tracer {t:.3} s");
    let mut s = format!(
        "Connection analytics from the same file ({conns} connections, {exchanges} HTTP exchanges), {rounds} reads each, medians:\n\n\
         | command | time | packets/s |\n|---|---:|---:|\n\
         | `tracer -r F --conn --http --json` | {t:.3} s | {:.0} |\n",
        packets as f64 / t
    );
    if have_tshark {
        let d = median(d);
        s.push_str(&format!(
            "| `tshark -n -r F -q -z conv,tcp` (conversation table only) | {d:.3} s | {:.0} |\n",
            packets as f64 / d
        ));
    }
    s.push('\n');
    Ok(s)
}

fn files_equal(a: &Path, b: &Path) -> Result<bool> {
    let (mut fa, mut fb) = (
        BufReader::with_capacity(1 << 20, File::open(a)?),
        BufReader::with_capacity(1 << 20, File::open(b)?),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn count_lines(path: &Path) -> Result<u64> {
    let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok(n);
        }
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
