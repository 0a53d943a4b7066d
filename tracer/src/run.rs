//! The two ways tracer runs: live from the kernel rings, or offline from a capture file.
//! Both turn their input into [`Packet`]s and hand them to the same [`Sink`].

use std::{
    io::{self, IsTerminal, Write},
    ops::ControlFlow,
    sync::Arc,
    time::Duration,
};

use anyhow::{bail, Context, Result};
use tokio::signal::unix::{signal, SignalKind};

use crate::{
    cli::Args,
    filter::{Filter, Placement},
    live::{
        clock::{monotonic_ns, WallClock},
        iface::{self, Interface},
        links::{LinkEvent, LinkMonitor},
        record::RecordDecoder,
        rings::RingSet,
        Live, LiveOptions,
    },
    packet::{LinkType, Packet},
    pcap::{linktype_name, Format, PcapReader, RotatingWriter, Written},
    print::{ParallelPrinter, Printer},
};
use crate::{
    conn::{
        sockets::Owner, Event, RecordPrinter, RecordSelect, Sockets, TimeBase, Tracker,
        TrackerOptions, CLOSE_LINGER_NS,
    },
    live::{AnalyticsOptions, Counters, TableDump},
    metrics::{KernelFeed, Metrics},
    packet::Timestamp,
};
use tracer_common::{PacketFields, Record};

/// Default ring size per CPU: 8 MiB holds ~50k full-header records, a few hundred
/// milliseconds of a busy server's TCP headers.
const DEFAULT_RING_KIB: u32 = 8 * 1024;
/// How often the live loop looks at the rings without a wakeup (the kernel wakes it only
/// when a ring fills up, see `Config::wakeup_bytes`): the most a printed line lags.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// Bytes the kernel keeps when the filter runs in userspace (enough for its headers).
const USERSPACE_FILTER_MIN_CAPTURE: u32 = 256;
/// Output buffer: one large write per drain instead of one per line.
const OUTPUT_BUFFER: usize = 1 << 20;

/// How accepted packets are printed. (One per capture: the printers' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
enum Output {
    /// tcpdump's lines, one printer.
    Text(Printer),
    /// `-r` of a file into a pipe or a file: tcpdump's lines printed on every core (see
    /// [`ParallelPrinter`]).
    Parallel(ParallelPrinter),
    /// `--json`: one object per packet.
    Json(RecordPrinter),
    /// Not printed: `-w` alone, or `--conn`/`--http` (records instead).
    Silent,
}

/// Records instead of (or beside) packets: connections and HTTP exchanges (`--conn`,
/// `--http`; for `-r` with the tracker that makes them), the host's sockets (`--states`,
/// `--retrans`, `--stats-interval`), and what tracer knows of those sockets (also for
/// `--process`).
struct Records {
    printer: RecordPrinter,
    /// `-r`: the packets go through this; live, the kernel tracks them.
    tracker: Option<Tracker>,
    sockets: Sockets,
    events: Vec<Event>,
    /// Records printed.
    printed: u64,
}

/// Where packets go: printed, written to a file, counted into connections.
struct Sink {
    output: Output,
    records: Option<Records>,
    out: io::BufWriter<io::Stdout>,
    line: Vec<u8>,
    writer: Option<RotatingWriter>,
    flush_each_packet: bool,
    flush_file_each_packet: bool,
    filter: Filter,
    /// Run the filter here: the kernel could not take it (or there is no kernel: -r).
    filter_in_userspace: bool,
    /// Packets printed or written (tcpdump's "captured").
    captured: u64,
    /// Packets that passed the userspace filter.
    matched: u64,
    /// `-c`: packets, or records with `--conn`/`--http`.
    limit: Option<u64>,
    /// `--process`: name each packet's process.
    process: bool,
    /// Standard output was closed by its reader.
    closed: bool,
    /// `-s`: packets are cut to this many bytes (after a userspace filter saw them whole).
    snaplen: u32,
    /// `--metrics`: every record is counted here, printed or not.
    metrics: Option<Arc<Metrics>>,
}

impl Sink {
    fn new(
        args: &Args,
        filter: Filter,
        filter_in_userspace: bool,
        link: LinkType,
        ifnames: Vec<(u32, String)>,
    ) -> Result<Sink> {
        let writer = match &args.write {
            Some(path) => {
                let format = if args.pcapng {
                    Format::Pcapng
                } else {
                    Format::from_path(path)
                };
                // -C/-G/-W/-z: the file names and the rotation; errors name the file.
                Some(RotatingWriter::create(
                    path,
                    format,
                    link,
                    args.snaplen(),
                    args.rotation(),
                )?)
            }
            None => None,
        };
        let analytics = args.analytics();
        let records = args.tracking() || args.socket_records() || args.process;
        let print = (writer.is_none() || args.print) && args.packets();
        let stdout = io::stdout();
        let tty = stdout.is_terminal();
        let flush_each_packet = args.line_buffered || (tty && (print || records));
        // Batches delay output: not where lines must come as packets come (a terminal, -l,
        // or a capture streamed into stdin).
        let reads_whole_file = args.read.as_ref().is_some_and(|p| p.as_os_str() != "-");
        let opts = args.print_options();
        let output = if !print {
            Output::Silent
        } else if args.json {
            Output::Json(RecordPrinter::new(
                &opts,
                true,
                RecordSelect::default(),
                ifnames.clone(),
            ))
        } else {
            match (reads_whole_file && !flush_each_packet)
                .then(|| ParallelPrinter::new(&opts))
                .flatten()
            {
                Some(pp) => Output::Parallel(pp),
                None => Output::Text(Printer::new(opts.clone())),
            }
        };
        let select = RecordSelect {
            conns: args.conn,
            http: args.http,
            states: args.states,
            retrans: args.retrans,
        };
        let records = records.then(|| Records {
            printer: RecordPrinter::new(&opts, args.json, select, ifnames),
            sockets: Sockets::new(),
            tracker: (analytics && args.read.is_some()).then(|| {
                Tracker::new(TrackerOptions {
                    idle_ns: args.conn_idle.saturating_mul(1_000_000_000),
                    linger_ns: CLOSE_LINGER_NS,
                    http: args.http,
                })
            }),
            events: Vec::new(),
            printed: 0,
        });
        Ok(Sink {
            output,
            records,
            out: io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout),
            line: Vec::with_capacity(64 * 1024),
            writer,
            flush_each_packet,
            flush_file_each_packet: args.packet_buffered,
            filter,
            filter_in_userspace,
            captured: 0,
            matched: 0,
            limit: args.count,
            process: args.process,
            closed: false,
            // Files are printed whole (tcpdump ignores -s with -r); live records are cut
            // here only when the kernel kept more for a userspace filter.
            snaplen: if args.read.is_some() {
                u32::MAX
            } else {
                args.snaplen()
            },
            metrics: None,
        })
    }

    /// Writes `self.line`; `Break` once the reader has gone.
    fn write_line(&mut self) -> Result<ControlFlow<()>> {
        let mut written = self.out.write_all(&self.line);
        if written.is_ok() && self.flush_each_packet {
            written = self.out.flush();
        }
        match written {
            Ok(()) => Ok(ControlFlow::Continue(())),
            // The reader went away (`tracer ... | head`): the capture ends, quietly.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(ControlFlow::Break(()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Takes one packet (with its fields, where the caller extracted them already; the
    /// interface it came on, where known); `Break` once `-c` is reached.
    fn packet(
        &mut self,
        pkt: &Packet,
        fields: Option<&PacketFields>,
        ifindex: Option<u32>,
    ) -> Result<ControlFlow<()>> {
        if self.filter_in_userspace && !self.filter.matches(pkt) {
            return Ok(ControlFlow::Continue(()));
        }
        let cut;
        let pkt = if pkt.data.len() > self.snaplen as usize {
            cut = Packet {
                data: &pkt.data[..self.snaplen as usize],
                ..*pkt
            };
            &cut
        } else {
            pkt
        };
        self.matched += 1;
        if let Some(w) = &mut self.writer {
            if let Written::FileLimitReached(n) = w.write(pkt)? {
                // -G with -W: tcpdump's last words, counting the packet that ended it.
                eprintln!("Maximum file limit reached: {n}");
                self.captured += 1;
                return Ok(ControlFlow::Break(()));
            }
            if self.flush_file_each_packet {
                w.flush()?;
            }
        }
        if let Some(Records {
            tracker: Some(tracker),
            events,
            ..
        }) = self.records.as_mut()
        {
            let f = match fields {
                Some(f) => *f,
                None => crate::filter::packet_fields(pkt),
            };
            tracker.packet(
                pkt.data,
                &f,
                ifindex.unwrap_or(0),
                wall_ns(pkt.ts),
                &mut |e| events.push(e),
            );
            if self.print_events(&TimeBase::Wall)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        let flow = match &mut self.output {
            Output::Silent => ControlFlow::Continue(()),
            Output::Parallel(pp) => {
                let f = match fields {
                    Some(f) => *f,
                    None => crate::filter::packet_fields(pkt),
                };
                match pp.push(pkt, &f, &mut self.out) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                        self.closed = true;
                        ControlFlow::Break(())
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Output::Text(p) => {
                self.line.clear();
                p.print(pkt, &mut self.line);
                if let Some(owner) = self.process_of(pkt, fields) {
                    RecordPrinter::process_line(&owner, &mut self.line);
                }
                self.write_line()?
            }
            Output::Json(_) => {
                self.line.clear();
                let owner = self.process_of(pkt, fields);
                let want = self.process.then_some(owner.as_ref());
                if let Output::Json(p) = &mut self.output {
                    p.packet_json(pkt, ifindex, want, &mut self.line);
                }
                self.write_line()?
            }
        };
        if flow.is_break() {
            return Ok(flow);
        }
        self.captured += 1;
        let counts_records = self.records.as_ref().is_some_and(|r| r.tracker.is_some())
            || !matches!(
                self.output,
                Output::Text(_) | Output::Json(_) | Output::Parallel(_)
            );
        if !counts_records && self.limit.is_some_and(|n| self.captured >= n) {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    }

    /// `--process`: the owner of the packet's socket.
    fn process_of(&mut self, pkt: &Packet, fields: Option<&PacketFields>) -> Option<Owner> {
        if !self.process {
            return None;
        }
        let f = match fields {
            Some(f) => *f,
            None => crate::filter::packet_fields(pkt),
        };
        self.records.as_mut()?.sockets.for_packet(&f)
    }

    /// Takes one record (connection, HTTP exchange, socket).
    fn event(&mut self, e: Event, tb: &TimeBase) -> Result<ControlFlow<()>> {
        if let Some(m) = &self.metrics {
            m.record(&e);
        }
        match self.records.as_mut() {
            // The printer decides what is printed (RecordSelect); socket records also
            // teach it the owners of the host's sockets.
            Some(r) => r.events.push(e),
            None => return Ok(ControlFlow::Continue(())),
        }
        self.print_events(tb)
    }

    /// Prints the records collected so far; `Break` at `-c` or a closed reader.
    fn print_events(&mut self, tb: &TimeBase) -> Result<ControlFlow<()>> {
        let Some(r) = self.records.as_mut() else {
            return Ok(ControlFlow::Continue(()));
        };
        if r.events.is_empty() {
            return Ok(ControlFlow::Continue(()));
        }
        let events = std::mem::take(&mut r.events);
        for e in &events {
            let r = self.records.as_mut().expect("records");
            if self.limit.is_some_and(|n| r.printed >= n) {
                return Ok(ControlFlow::Break(()));
            }
            self.line.clear();
            r.printer.event(e, tb, &mut self.line, &mut r.sockets);
            if self.line.is_empty() {
                // Taken in, not printed.
                continue;
            }
            r.printed += 1;
            if self.write_line()?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        let r = self.records.as_mut().expect("records");
        r.events = events;
        r.events.clear();
        if self.limit.is_some_and(|n| r.printed >= n) {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    }

    /// `--stats-interval`: the namespace's sockets per state, now.
    fn sockets_summary(&mut self, ts: Timestamp) -> Result<ControlFlow<()>> {
        let socks = crate::live::sockdiag::tcp_sockets().context("counting sockets")?;
        let counts = crate::live::sockdiag::count_states(&socks);
        let Some(r) = self.records.as_mut() else {
            return Ok(ControlFlow::Continue(()));
        };
        if self.limit.is_some_and(|n| r.printed >= n) {
            return Ok(ControlFlow::Break(()));
        }
        self.line.clear();
        r.printer.sockets_summary(ts, &counts, &mut self.line);
        r.printed += 1;
        let reached = self.limit.is_some_and(|n| r.printed >= n);
        let flow = self.write_line()?;
        self.out.flush()?;
        Ok(if reached {
            ControlFlow::Break(())
        } else {
            flow
        })
    }

    /// The end of a file: the connections still open and their unanswered requests.
    fn finish_tracking(&mut self) -> Result<()> {
        if let Some(r) = self.records.as_mut() {
            if let Some(t) = r.tracker.as_mut() {
                let events = &mut r.events;
                t.finish_all(&mut |e| events.push(e));
            }
        }
        // The last records: a Break (-c, closed reader) has nothing left to stop.
        let _ = self.print_events(&TimeBase::Wall)?;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(w) = &mut self.writer {
            w.flush()?;
        }
        let printed = match &mut self.output {
            Output::Parallel(pp) if !self.closed => pp.finish(&mut self.out),
            _ => Ok(()),
        };
        match printed.and_then(|()| self.out.flush()) {
            // A closed pipe (`tracer ... | head`) ends the output, not with an error.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => Ok(r?),
        }
    }
}

/// A packet time as Unix-epoch nanoseconds (the offline tracker's clock).
fn wall_ns(ts: Timestamp) -> u64 {
    ts.as_nanos().clamp(0, u64::MAX as i128) as u64
}

/// The interface a file's packet came on, where its link header says (Linux cooked v2).
fn file_ifindex(pkt: &Packet) -> Option<u32> {
    match pkt.link {
        LinkType::LinuxSll2 => pkt
            .data
            .get(4..8)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        _ => None,
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `tracer -r FILE`.
pub fn offline(args: &Args) -> Result<()> {
    let path = args.read.as_ref().expect("offline needs -r");
    if args.metrics.is_some() {
        bail!("--metrics serves a live capture's metrics: it does not take -r");
    }
    for (on, flag) in [
        (args.states, "--states"),
        (args.retrans, "--retrans"),
        (args.process, "--process"),
        (args.stats_interval.is_some(), "--stats-interval"),
    ] {
        if on {
            bail!(
                "{flag} reports this host's sockets as they are: it needs a live capture, not -r"
            );
        }
    }
    let filter = Filter::parse(&args.filter_text())?;
    let mut reader = PcapReader::open(path)?;
    let linktype = reader.linktype_number().unwrap_or(1);
    let description = match linktype_name(linktype) {
        Some((name, desc)) => format!("{name} ({desc})"),
        None => format!("{linktype}"),
    };
    eprintln!(
        "reading from file {}, link-type {description}, snapshot length {}",
        path.display(),
        reader.snaplen()
    );
    // A file of another link type fails on its first packet, with the reader's error.
    let link = reader.link_type().unwrap_or(LinkType::Ethernet);
    let mut sink = Sink::new(args, filter, true, link, Vec::new())?;
    let mut failure = None;
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(pkt) => {
                let fields = crate::filter::packet_fields(&pkt);
                // The tracer traces TCP: other packets of a file are skipped, like the
                // kernel skips them.
                if !fields.has(tracer_common::fields::bit::TCP) {
                    continue;
                }
                if sink
                    .packet(&pkt, Some(&fields), file_ifindex(&pkt))?
                    .is_break()
                {
                    break;
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if !sink.closed {
        sink.finish_tracking()?;
    }
    sink.flush()?;
    if let Some(e) = failure {
        bail!("{}: {e}", path.display());
    }
    if let Some(t) = sink.records.as_ref().and_then(|r| r.tracker.as_ref()) {
        if t.stats.http_overflow > 0 {
            eprintln!(
                "tracer: {} HTTP request{} not paired (more than {} outstanding on one connection)",
                t.stats.http_overflow,
                plural(t.stats.http_overflow),
                tracer_common::conn::HTTP_PENDING
            );
        }
    }
    Ok(())
}

/// The interfaces `-i` names (none: tcpdump's default; `any`: every up one).
fn resolve_interfaces(args: &Args) -> Result<(Vec<Interface>, bool)> {
    if args.interfaces.iter().any(|i| i == "any") {
        let all: Vec<Interface> = iface::list()
            .into_iter()
            .filter(|i| i.is_up() && i.is_supported())
            .collect();
        if all.is_empty() {
            bail!("any: no up interface to capture on");
        }
        return Ok((all, true));
    }
    if args.interfaces.is_empty() {
        let Some(i) = iface::default_interface() else {
            bail!("no suitable device found (give one with -i)");
        };
        return Ok((vec![i], false));
    }
    let mut out = Vec::new();
    for name in &args.interfaces {
        match Interface::by_name(name) {
            Some(i) => out.push(i),
            None => bail!(crate::live::LiveError::NoSuchInterface(name.clone())),
        }
    }
    // Ethernet and layer-3 links together: one file, one link type, so Linux cooked v2
    // (what `-i any` writes).
    let mixed = out.iter().any(Interface::is_layer3) && !out.iter().all(Interface::is_layer3);
    Ok((out, mixed))
}

/// Live capture until a signal, `-c`, a vanished interface or an error: start, loop,
/// summary.
pub async fn live(args: &Args) -> Result<()> {
    let metrics = args.metrics.map(crate::metrics::start).transpose()?;
    let mut cap = LiveCapture::start(args, metrics)?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let end = cap.run(&mut sigint, &mut sigterm).await?;
    let printed_lines = matches!(cap.sink.output, Output::Text(_) | Output::Parallel(_));
    let (counters, dump) = cap.stop()?;
    if end == End::Interrupted && printed_lines && args.write.is_none() {
        // tcpdump: "We got interrupted, so perhaps we didn't manage to finish a line we
        // were printing. Print an extra newline, just in case." (Not with -w, even with
        // --print; and tcpdump has no --conn or --json to match.)
        let mut out = io::stdout().lock();
        let _ = out.write_all(b"\n").and_then(|()| out.flush());
    }
    let mut err = io::stderr().lock();
    if let End::Vanished(name) = &end {
        writeln!(err, "tracer: {name}: The interface disappeared")?;
    }
    summary(&mut err, args.kernel_stats, &cap, &counters, dump.as_ref())?;
    if let End::Vanished(_) = end {
        // tcpdump exits 1 here too, after its summary.
        drop(err);
        std::process::exit(1);
    }
    Ok(())
}

/// Why a live capture ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum End {
    /// SIGINT or SIGTERM.
    Interrupted,
    /// `-c`, or standard output closed.
    Done,
    /// A captured interface was deleted (or left the namespace).
    Vanished(String),
}

/// A running live capture and where its packets go.
struct LiveCapture {
    live: Live,
    rings: RingSet,
    decoder: RecordDecoder,
    interfaces: Vec<Interface>,
    sink: Sink,
    filter_in_userspace: bool,
    analytics: bool,
    /// `--stats-interval`.
    stats_every: Option<Duration>,
    /// Only socket records (no packet hooks).
    sockets_only: bool,
    /// `--metrics`: the kernel's totals, pushed each second.
    feed: Option<KernelFeed>,
    /// `-i any`: interfaces that appear get hooks, deleted ones are let go.
    any: bool,
    /// The kernel's link notifications (None when no interface is captured).
    link_events: Option<LinkMonitor>,
}

impl LiveCapture {
    /// Parses the filter, loads and attaches, prints tcpdump's banner.
    fn start(args: &Args, metrics: Option<Arc<Metrics>>) -> Result<LiveCapture> {
        let filter = Filter::parse(&args.filter_text())?;
        // Only socket records: no packet hooks, on no interface.
        let sockets_only = !args.packets() && !args.tracking();
        let (interfaces, cooked) = if sockets_only {
            (Vec::new(), false)
        } else {
            resolve_interfaces(args)?
        };
        if sockets_only && filter.placement() == Placement::Userspace {
            bail!(
                "--states and --retrans decide the filter in the kernel, and this filter needs {} instructions, more than the kernel's {}: shorten the expression",
                filter.program().len(),
                tracer_common::filter::MAX_FILTER_INSNS
            );
        }
        let kernel_filter = filter.kernel_program().to_vec();
        let filter_in_userspace = filter.placement() == Placement::Userspace;
        let analytics = args.tracking();
        if analytics && filter_in_userspace {
            bail!(
                "--conn, --http and --metrics count packets in the kernel, and this filter needs {} instructions, more than the kernel's {}: shorten the expression",
                filter.program().len(),
                tracer_common::filter::MAX_FILTER_INSNS
            );
        }
        let any = args.interfaces.iter().any(|i| i == "any");
        // Subscribed before attaching: an interface deleted meanwhile is still reported.
        let link_events = if interfaces.is_empty() {
            None
        } else {
            Some(LinkMonitor::open().context("subscribing to interface changes")?)
        };
        let decoder = RecordDecoder::new(WallClock::measure(), cooked, &interfaces);
        let opts = LiveOptions {
            interfaces: interfaces.clone(),
            direction: args.direction(),
            // A filter run in userspace must see the headers it tests even under a small -s
            // (libpcap filters before it cuts): the kernel keeps at least 256 bytes then, and
            // the sink cuts to the snaplen after the filter.
            snaplen: if filter_in_userspace {
                args.snaplen().max(USERSPACE_FILTER_MIN_CAPTURE)
            } else {
                args.snaplen()
            },
            ring_bytes: args
                .buffer_kib
                .unwrap_or(DEFAULT_RING_KIB)
                .saturating_mul(1024),
            filter: kernel_filter,
            software_tx: decoder.software_tx_interfaces(),
            packets: args.packets(),
            sockets: {
                let mut f = 0;
                // State changes also name the owners (of retransmissions, connections,
                // packets), printed or not.
                if args.states
                    || args.retrans
                    || args.conn
                    || args.process
                    || args.metrics.is_some()
                {
                    f |= tracer_common::sock_flag::STATES;
                }
                if args.retrans {
                    f |= tracer_common::sock_flag::RETRANS;
                }
                if args.process {
                    f |= tracer_common::sock_flag::OWNERS;
                }
                f
            },
            analytics: analytics.then(|| AnalyticsOptions {
                http: args.track_http(),
                max_conns: args.max_conns,
                idle_ns: args.conn_idle.saturating_mul(1_000_000_000),
                linger_ns: CLOSE_LINGER_NS,
                refuse_timers: args.test_refuse_kernel_timers,
            }),
        };
        let link = if cooked {
            LinkType::LinuxSll2
        } else if interfaces.iter().all(|i| i.is_layer3()) {
            LinkType::Raw
        } else {
            LinkType::Ethernet
        };
        let ifnames = interfaces
            .iter()
            .map(|i| (i.index, i.name.clone()))
            .collect();
        let mut sink = Sink::new(args, filter, filter_in_userspace, link, ifnames)?;
        sink.metrics.clone_from(&metrics);
        let (live, rings) = Live::start(&opts)?;
        if args.conn || args.process {
            // Owners of the sockets that exist already (the kernel reports later ones).
            if let Some(r) = sink.records.as_mut() {
                r.sockets.scan();
            }
        }

        let names: Vec<&str> = if any {
            vec!["any"]
        } else {
            interfaces.iter().map(|i| i.name.as_str()).collect()
        };
        let prefix = if args.verbose == 0 && args.write.is_none() && !analytics && !args.json {
            "tracer: verbose output suppressed, use -v[v]... for full protocol decode\n"
        } else {
            "tracer: "
        };
        let (linkname, linkdesc) = match link {
            LinkType::LinuxSll2 => ("LINUX_SLL2", "Linux cooked v2"),
            LinkType::Raw => ("RAW", "Raw IP"),
            _ => ("EN10MB", "Ethernet"),
        };
        if sockets_only {
            eprintln!("tracer: listening on the TCP sockets of this network namespace");
        } else {
            eprintln!(
                "{prefix}listening on {}, link-type {linkname} ({linkdesc}), snapshot length {} bytes",
                names.join(", "),
                args.snaplen()
            );
        }
        if analytics {
            eprintln!(
                "tracer: tracking connections in the kernel{} (flow table of {} entries)",
                if args.track_http() {
                    " with HTTP exchanges"
                } else {
                    ""
                },
                args.max_conns
            );
        }
        if let Some(addr) = args.metrics {
            eprintln!("tracer: serving metrics at http://{addr}/metrics");
        }
        if args.verbose > 0 {
            let hooks: Vec<String> = live
                .attachments
                .iter()
                .map(|a| format!("{} {}", a.iface, a.hook))
                .collect();
            eprintln!("tracer: kernel hooks: {}", hooks.join(", "));
        }
        if args.verbose > 0 {
            for n in &live.notes {
                eprintln!("tracer: {n}");
            }
        }
        if args.verbose > 1 {
            for (name, insns, took) in &live.loaded {
                eprintln!(
                    "tracer: {name}: verifier processed {} instructions in {} ms",
                    insns.map_or("?".to_string(), |n| n.to_string()),
                    took.as_millis()
                );
            }
        }
        Ok(LiveCapture {
            live,
            rings,
            decoder,
            interfaces,
            sink,
            filter_in_userspace,
            analytics,
            stats_every: args.stats_interval.map(Duration::from_secs),
            sockets_only,
            feed: metrics.map(|m| KernelFeed::new(m, args.max_conns)),
            any,
            link_events,
        })
    }

    /// Follows the kernel's interface changes: a deleted captured interface ends the
    /// capture (`Some(name)`), except under `-i any`, which lets it go and hooks new ones.
    fn interfaces_changed(&mut self, events: Vec<LinkEvent>) -> Option<String> {
        for e in events {
            match e {
                LinkEvent::Deleted { index, name } => {
                    if !self.interfaces.iter().any(|i| i.index == index) {
                        continue;
                    }
                    if !self.any {
                        return Some(name);
                    }
                    self.forget_interface(index);
                }
                LinkEvent::New { index, name, flags } => {
                    if !self.any || flags & (libc::IFF_UP as u32) == 0 {
                        continue;
                    }
                    if self.interfaces.iter().any(|i| i.index == index) {
                        continue;
                    }
                    self.adopt_interface(&name, index);
                }
            }
        }
        None
    }

    /// Hooks an interface that appeared under `-i any`.
    fn adopt_interface(&mut self, name: &str, index: u32) {
        let Some(i) = Interface::by_name(name).filter(|i| i.index == index) else {
            return; // gone again already
        };
        if !i.is_supported() || !i.is_up() {
            return;
        }
        match self.live.attach(&i) {
            Ok(()) => {
                let flags = self.decoder.add_interface(&i);
                if let Err(e) = self.live.set_software_tx(i.index, flags) {
                    eprintln!("tracer: {}: {e}", i.name);
                }
                self.interfaces.push(i);
            }
            // Deleted between the notification and the attach: nothing to capture there.
            Err(_) if Interface::by_name(name).is_none_or(|now| now.index != index) => {}
            Err(e) => eprintln!("tracer: {e}"),
        }
    }

    /// Reads each device's offloads again (`ethtool -K` may change them while tracer runs)
    /// and updates the decoder and the kernel's SOFTWARE_TX map together: the kernel must
    /// capture whole the outgoing packets the decoder will split or checksum.
    fn refresh_offloads(&mut self) {
        let before = self.decoder.software_tx_interfaces();
        self.decoder.refresh_offloads(&self.interfaces);
        let after = self.decoder.software_tx_interfaces();
        if before == after {
            return;
        }
        for (index, _) in &before {
            if !after.iter().any(|(i, _)| i == index) {
                let _ = self.live.set_software_tx(*index, 0);
            }
        }
        for (index, flags) in &after {
            if !before.contains(&(*index, *flags)) {
                if let Err(e) = self.live.set_software_tx(*index, *flags) {
                    eprintln!("tracer: interface {index}: {e}");
                }
            }
        }
    }

    /// Lets go of a deleted interface under `-i any`.
    fn forget_interface(&mut self, index: u32) {
        self.live.detach(index);
        let _ = self.live.set_software_tx(index, 0);
        self.decoder.remove_interface(index);
        self.interfaces.retain(|i| i.index != index);
    }

    /// After a lost notification (the socket overran): compare with what exists now.
    fn rescan_interfaces(&mut self) -> Option<String> {
        let now = iface::list();
        let mut events = Vec::new();
        for i in &self.interfaces {
            if !now.iter().any(|n| n.index == i.index) {
                events.push(LinkEvent::Deleted {
                    index: i.index,
                    name: i.name.clone(),
                });
            }
        }
        for n in now {
            events.push(LinkEvent::New {
                index: n.index,
                flags: if n.is_up() { libc::IFF_UP as u32 } else { 0 },
                name: n.name,
            });
        }
        self.interfaces_changed(events)
    }

    /// Reads the rings until a signal, `-c`, a closed reader, a vanished interface or an
    /// error.
    async fn run(
        &mut self,
        sigint: &mut tokio::signal::unix::Signal,
        sigterm: &mut tokio::signal::unix::Signal,
    ) -> Result<End> {
        self.decoder.clock.refresh();
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_clock = monotonic_ns();
        let mut next_stats = self.stats_every.map(|d| std::time::Instant::now() + d);
        if self.stats_every.is_some() {
            // The first picture at once.
            next_stats = Some(std::time::Instant::now());
        }
        let mut links = self.link_events.take();
        // tcpdump's SIGUSR1: the counts so far, on one line of stderr.
        let mut sigusr1 = signal(SignalKind::user_defined1())?;
        let mut sweep_failed = false;
        let end = loop {
            let mut stop = None;
            let mut changes = None;
            // Connections tracer ended itself (their kernel timer refused), to go after what
            // the rings hold.
            let mut ended = Vec::new();
            tokio::select! {
                r = self.rings.readable() => r.context("waiting for the ring buffers")?,
                _ = tick.tick() => {}
                _ = sigint.recv() => { stop = Some(End::Interrupted); }
                _ = sigterm.recv() => { stop = Some(End::Interrupted); }
                _ = sigusr1.recv() => { self.counts_so_far()?; }
                e = next_links(&mut links) => { changes = Some(e); }
            }
            match changes {
                Some(Ok(events)) => {
                    if let Some(name) = self.interfaces_changed(events) {
                        stop = Some(End::Vanished(name));
                    }
                }
                // Notifications were lost (ENOBUFS): look at what exists now.
                Some(Err(_)) => {
                    if let Some(name) = self.rescan_interfaces() {
                        stop = Some(End::Vanished(name));
                    }
                }
                None => {}
            }
            let now = monotonic_ns();
            if now - last_clock > 1_000_000_000 {
                // Follow wall-clock steps (NTP, settimeofday) and offload changes.
                self.decoder.clock.refresh();
                self.refresh_offloads();
                if let Some(r) = self.sink.records.as_mut() {
                    r.sockets.expire(now);
                }
                if let Some(feed) = &mut self.feed {
                    feed.tick(&self.live, now);
                }
                last_clock = now;
                match self.live.end_timerless(now) {
                    Ok(e) => ended = e,
                    // Said once; the connections then end at exit, as the table dump.
                    Err(e) if !sweep_failed => {
                        sweep_failed = true;
                        eprintln!("tracer: ending connections the kernel refused a timer: {e}");
                    }
                    Err(_) => {}
                }
            }
            let mut flow = self.deliver(now, stop.is_some())?;
            if flow.is_continue() && !ended.is_empty() {
                flow = self.sink_events(&ended)?;
            }
            if let (Some(at), Some(every)) = (next_stats, self.stats_every) {
                if std::time::Instant::now() >= at && flow.is_continue() {
                    next_stats = Some(at + every);
                    flow = self.sink.sockets_summary(self.decoder.clock.to_wall(now))?;
                }
            }
            if let Some(end) = stop {
                break end;
            }
            if flow.is_break() || self.sink.closed {
                break End::Done;
            }
        };
        self.link_events = links;
        Ok(end)
    }

    /// Moves what the rings hold to the sink (everything when `all`).
    fn deliver(&mut self, now: u64, all: bool) -> Result<ControlFlow<()>> {
        self.rings.drain();
        let mut failure: Option<anyhow::Error> = None;
        let (decoder, sink) = (&mut self.decoder, &mut self.sink);
        let tb = TimeBase::Monotonic(decoder.clock);
        let mut take = |r: Result<ControlFlow<()>>| match r {
            Ok(flow) => flow,
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        };
        let flow = self.rings.emit(now, all, |rec| match rec {
            Record::Packet(h, frame) => decoder.decode(&h, frame, |pkt| {
                take(sink.packet(pkt, None, Some(h.ifindex)))
            }),
            Record::Conn(c) => take(sink.event(Event::Conn(c), &tb)),
            Record::Http(h) => take(sink.event(Event::Http(h), &tb)),
            Record::Sock(s) => take(sink.event(Event::Sock(s), &tb)),
        });
        if let Err(e) = sink.flush() {
            failure.get_or_insert(e);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(flow),
        }
    }

    /// Records read from the kernel's tables, to the sink.
    fn sink_events(&mut self, events: &[Event]) -> Result<ControlFlow<()>> {
        let tb = TimeBase::Monotonic(self.decoder.clock);
        let mut flow = ControlFlow::Continue(());
        for e in events {
            flow = self.sink.event(*e, &tb)?;
            if flow.is_break() {
                break;
            }
        }
        self.sink.flush()?;
        Ok(flow)
    }

    /// SIGUSR1: the exit summary so far as one line, as tcpdump's `info(0)` prints it
    /// (`tracer: 5 packets captured, 5 packets received by filter, 0 packets dropped by
    /// kernel`).
    fn counts_so_far(&self) -> Result<()> {
        let mut buf = Vec::new();
        summary(&mut buf, false, self, &self.live.counters(), None)?;
        let text = String::from_utf8_lossy(&buf);
        let line: Vec<&str> = text.lines().collect();
        eprintln!("tracer: {}", line.join(", "));
        Ok(())
    }

    /// Ends the capture: with `--conn`/`--http`, stops the tracker, prints what the rings
    /// still hold and then what the tables still hold; returns the final counters.
    fn stop(&mut self) -> Result<(Counters, Option<TableDump>)> {
        let mut dump = None;
        if self.analytics && !self.sink.closed {
            self.live.stop_tracking()?;
            let now = monotonic_ns();
            // Read the tables first: a timer that was already running when tracking stopped
            // marks its entry finished (skipped here) and its record is in a ring.
            let d = self.live.dump_tables(now)?;
            // Everything goes: a Break (-c, closed reader) has nothing left to stop.
            let _ = self.deliver(now, true)?;
            let _ = self.sink_events(&d.events)?;
            dump = Some(d);
        }
        Ok((self.live.counters(), dump))
    }
}

/// The next batch of interface changes; never resolves without a monitor.
async fn next_links(m: &mut Option<LinkMonitor>) -> io::Result<Vec<LinkEvent>> {
    match m {
        Some(m) => m.next().await,
        None => std::future::pending().await,
    }
}

/// tcpdump's three lines, and what tracer adds to them.
fn summary(
    err: &mut impl Write,
    kernel_stats: bool,
    cap: &LiveCapture,
    counters: &Counters,
    dump: Option<&TableDump>,
) -> Result<()> {
    let sink = &cap.sink;
    if cap.sockets_only {
        let printed = sink.records.as_ref().map_or(0, |r| r.printed);
        writeln!(err, "{printed} record{} printed", plural(printed))?;
        writeln!(
            err,
            "{} record{} lost",
            counters.records_lost,
            plural(counters.records_lost)
        )?;
    } else if cap.analytics {
        writeln!(
            err,
            "{} packet{} captured",
            counters.tracked,
            plural(counters.tracked)
        )?;
        writeln!(
            err,
            "{} packet{} received by filter",
            counters.matched,
            plural(counters.matched)
        )?;
        let dropped = counters.updates_lost() + counters.lost();
        writeln!(
            err,
            "{} packet{} dropped by kernel",
            dropped,
            plural(dropped)
        )?;
        writeln!(
            err,
            "{} record{} lost",
            counters.records_lost,
            plural(counters.records_lost)
        )?;
        if let Some(d) = dump {
            let evicted = counters
                .conn_created
                .saturating_sub(counters.conn_ended + d.conns_left);
            if evicted > 0 {
                writeln!(
                    err,
                    "{evicted} connection{} evicted from the full flow table, without a record (raise --max-conns)",
                    plural(evicted)
                )?;
            }
            let http_evicted = counters
                .http_created
                .saturating_sub(counters.http_deleted + d.http_left);
            if http_evicted > 0 {
                writeln!(
                    err,
                    "{http_evicted} HTTP table entr{} evicted, with the requests they held",
                    if http_evicted == 1 { "y" } else { "ies" }
                )?;
            }
        }
        if counters.timer_refused > 0 {
            writeln!(
                err,
                "{} connection timer{} refused by the kernel (no memory): tracer ended {} of those connections itself",
                counters.timer_refused,
                plural(counters.timer_refused),
                counters.ended_by_loader
            )?;
        }
        if counters.http_overflow > 0 {
            writeln!(
                err,
                "{} HTTP request{} not paired (more than {} outstanding on one connection)",
                counters.http_overflow,
                plural(counters.http_overflow),
                tracer_common::conn::HTTP_PENDING
            )?;
        }
        if counters.http_insert_failed > 0 {
            writeln!(
                err,
                "{} HTTP request{} lost (the HTTP table refused an entry)",
                counters.http_insert_failed,
                plural(counters.http_insert_failed)
            )?;
        }
        if counters.untrackable > 0 {
            writeln!(
                err,
                "{} packet{} not tracked (IP fragments, or TCP headers cut short)",
                counters.untrackable,
                plural(counters.untrackable)
            )?;
        }
    } else {
        let received = if cap.filter_in_userspace {
            sink.matched + counters.lost()
        } else {
            counters.matched + cap.decoder.extra_segments
        };
        writeln!(
            err,
            "{} packet{} captured",
            sink.captured,
            plural(sink.captured)
        )?;
        writeln!(
            err,
            "{} packet{} received by filter",
            received,
            plural(received)
        )?;
        writeln!(
            err,
            "{} packet{} dropped by kernel",
            counters.lost(),
            plural(counters.lost())
        )?;
    }
    if counters.cut_to_max > 0 {
        writeln!(
            err,
            "{} packet{} cut to {} bytes (tracer's largest record)",
            counters.cut_to_max,
            plural(counters.cut_to_max),
            tracer_common::MAX_CAPTURE
        )?;
    }
    if kernel_stats {
        writeln!(
            err,
            "kernel: {} packets seen, {} tcp, {} matched, {} records submitted, {} ring full, {} no ring, {} copy failed",
            counters.seen,
            counters.tcp,
            counters.matched,
            counters.submitted,
            counters.ring_full,
            counters.no_ring,
            counters.copy_failed
        )?;
        if cap.analytics {
            writeln!(
                err,
                "kernel: {} packets tracked, {} untrackable, {} connections created, {} ended, {} ended by tracer, {} timers refused, {} insert failed, {} lock waited, {} lock busy, {} late, {} records sent, {} records lost, {} HTTP entries created, {} deleted, {} requests overflowed, {} insert failed",
                counters.tracked,
                counters.untrackable,
                counters.conn_created,
                counters.conn_ended,
                counters.ended_by_loader,
                counters.timer_refused,
                counters.conn_insert_failed,
                counters.lock_waited,
                counters.lock_busy,
                counters.late_update,
                counters.records,
                counters.records_lost,
                counters.http_created,
                counters.http_deleted,
                counters.http_overflow,
                counters.http_insert_failed
            )?;
        }
    }
    if cap.rings.malformed() > 0 {
        writeln!(err, "{} malformed records ignored", cap.rings.malformed())?;
    }
    Ok(())
}

/// `tracer -D`: the interfaces, numbered like tcpdump's list.
pub fn list_interfaces() {
    for (n, i) in iface::list().iter().enumerate() {
        let mut tags = Vec::new();
        if i.is_up() {
            tags.push("Up");
        }
        if i.is_running() {
            tags.push("Running");
        }
        if i.is_loopback() {
            tags.push("Loopback");
        }
        if !i.is_supported() {
            tags.push("unsupported link type");
        }
        println!("{}.{} [{}]", n + 1, i.name, tags.join(", "));
    }
    println!(
        "{}.any (Pseudo-device that captures on all interfaces) [Up, Running]",
        iface::list().len() + 1
    );
}
