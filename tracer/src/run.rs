//! The two ways tracer runs: live from the kernel rings, or offline from a capture file.
//! Both turn their input into [`Packet`]s and hand them to the same [`Sink`].

use std::{
    io::{self, IsTerminal, Write},
    ops::ControlFlow,
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
        record::RecordDecoder,
        Live, LiveOptions,
    },
    packet::{LinkType, Packet},
    pcap::{linktype_name, Format, PcapReader, PcapWriter},
    print::{ParallelPrinter, Printer},
};
use tracer_common::PacketFields;

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

/// Where packets go: printed, written to a file, or both.
struct Sink {
    printer: Option<Printer>,
    /// `-r` of a file into a pipe or a file: print on every core (see [`ParallelPrinter`]).
    parallel: Option<ParallelPrinter>,
    out: io::BufWriter<io::Stdout>,
    line: Vec<u8>,
    writer: Option<PcapWriter>,
    flush_each_packet: bool,
    flush_file_each_packet: bool,
    filter: Filter,
    /// Run the filter here: the kernel could not take it (or there is no kernel: -r).
    filter_in_userspace: bool,
    /// Packets printed or written (tcpdump's "captured").
    captured: u64,
    /// Packets that passed the userspace filter.
    matched: u64,
    limit: Option<u64>,
    /// Standard output was closed by its reader.
    closed: bool,
    /// `-s`: packets are cut to this many bytes (after a userspace filter saw them whole).
    snaplen: u32,
}

impl Sink {
    fn new(args: &Args, filter: Filter, filter_in_userspace: bool, link: LinkType) -> Result<Sink> {
        let writer = match &args.write {
            Some(path) => {
                let format = if args.pcapng {
                    Format::Pcapng
                } else {
                    Format::from_path(path)
                };
                Some(
                    PcapWriter::create(path, format, link, args.snaplen())
                        .with_context(|| format!("{}", path.display()))?,
                )
            }
            None => None,
        };
        let print = writer.is_none() || args.print;
        let stdout = io::stdout();
        let tty = stdout.is_terminal();
        let flush_each_packet = args.line_buffered || (tty && print);
        // Batches delay output: not where lines must come as packets come (a terminal, -l,
        // or a capture streamed into stdin).
        let reads_whole_file = args.read.as_ref().is_some_and(|p| p.as_os_str() != "-");
        let parallel = if print && reads_whole_file && !flush_each_packet {
            ParallelPrinter::new(&args.print_options())
        } else {
            None
        };
        Ok(Sink {
            printer: (print && parallel.is_none()).then(|| Printer::new(args.print_options())),
            parallel,
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
            closed: false,
            // Files are printed whole (tcpdump ignores -s with -r); live records are cut
            // here only when the kernel kept more for a userspace filter.
            snaplen: if args.read.is_some() {
                u32::MAX
            } else {
                args.snaplen()
            },
        })
    }

    /// Takes one packet (with its fields, where the caller extracted them already);
    /// `Break` once `-c` is reached.
    fn packet(&mut self, pkt: &Packet, fields: Option<&PacketFields>) -> Result<ControlFlow<()>> {
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
            w.write(pkt)?;
            if self.flush_file_each_packet {
                w.flush()?;
            }
        }
        let mut written = Ok(());
        if let Some(pp) = &mut self.parallel {
            let f = match fields {
                Some(f) => *f,
                None => crate::filter::packet_fields(pkt),
            };
            written = pp.push(pkt, &f, &mut self.out);
        } else if let Some(p) = &mut self.printer {
            self.line.clear();
            p.print(pkt, &mut self.line);
            written = self.out.write_all(&self.line);
            if written.is_ok() && self.flush_each_packet {
                written = self.out.flush();
            }
        }
        match written {
            Ok(()) => {}
            // The reader went away (`tracer ... | head`): the capture ends, quietly.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                return Ok(ControlFlow::Break(()));
            }
            Err(e) => return Err(e.into()),
        }
        self.captured += 1;
        if self.limit.is_some_and(|n| self.captured >= n) {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(w) = &mut self.writer {
            w.flush()?;
        }
        let printed = match &mut self.parallel {
            Some(pp) if !self.closed => pp.finish(&mut self.out),
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
    let mut sink = Sink::new(args, filter, true, link)?;
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
                if sink.packet(&pkt, Some(&fields))?.is_break() {
                    break;
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    sink.flush()?;
    if let Some(e) = failure {
        bail!("{}: {e}", path.display());
    }
    Ok(())
}

/// The interfaces `-i` names (none: tcpdump's default; `any`: every up one).
fn resolve_interfaces(args: &Args) -> Result<(Vec<Interface>, bool)> {
    if args.interfaces.iter().any(|i| i == "any") {
        let all: Vec<Interface> = iface::list()
            .into_iter()
            .filter(|i| i.is_up() && i.has_ethernet_framing())
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
    Ok((out, false))
}

/// Live capture until a signal, `-c`, or an error.
pub async fn live(args: &Args) -> Result<()> {
    let filter = Filter::parse(&args.filter_text())?;
    let (interfaces, cooked) = resolve_interfaces(args)?;
    let kernel_filter = filter.kernel_program().to_vec();
    let filter_in_userspace = filter.placement() == Placement::Userspace;
    let mut decoder = RecordDecoder::new(WallClock::measure(), cooked, &interfaces);
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
    };
    let link = if cooked {
        LinkType::LinuxSll2
    } else {
        LinkType::Ethernet
    };
    let mut sink = Sink::new(args, filter, filter_in_userspace, link)?;

    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let (live, mut rings) = Live::start(&opts)?;

    let names: Vec<&str> = if cooked {
        vec!["any"]
    } else {
        interfaces.iter().map(|i| i.name.as_str()).collect()
    };
    let prefix = if args.verbose == 0 && args.write.is_none() {
        "tracer: verbose output suppressed, use -v[v]... for full protocol decode\n"
    } else {
        "tracer: "
    };
    let (linkname, linkdesc) = if cooked {
        ("LINUX_SLL2", "Linux cooked v2")
    } else {
        ("EN10MB", "Ethernet")
    };
    let hooks: Vec<String> = live
        .attachments
        .iter()
        .map(|a| format!("{} {}", a.iface, a.hook))
        .collect();
    eprintln!(
        "{prefix}listening on {}, link-type {linkname} ({linkdesc}), snapshot length {} bytes",
        names.join(", "),
        args.snaplen()
    );
    if args.verbose > 0 {
        eprintln!("tracer: kernel hooks: {}", hooks.join(", "));
    }

    decoder.clock.refresh();
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_clock = monotonic_ns();
    let mut interrupted = false;
    let mut failure: Option<anyhow::Error> = None;
    loop {
        let mut stop = false;
        tokio::select! {
            r = rings.readable() => r.context("waiting for the ring buffers")?,
            _ = tick.tick() => {}
            _ = sigint.recv() => { stop = true; interrupted = true; }
            _ = sigterm.recv() => { stop = true; interrupted = true; }
        }
        let now = monotonic_ns();
        if now - last_clock > 1_000_000_000 {
            // Follow wall-clock steps (NTP, settimeofday) and offload changes.
            decoder.clock.refresh();
            decoder.refresh_offloads(&interfaces);
            last_clock = now;
        }
        rings.drain();
        let flow = rings.emit(now, stop, |h, frame| {
            decoder.decode(h, frame, |pkt| match sink.packet(pkt, None) {
                Ok(flow) => flow,
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            })
        });
        if let Err(e) = sink.flush() {
            failure.get_or_insert(e);
        }
        if stop || flow.is_break() || failure.is_some() || sink.closed {
            break;
        }
    }
    // Everything accepted so far has been counted; report like tcpdump.
    let counters = live.counters();
    drop(live);
    if let Some(e) = failure {
        return Err(e);
    }
    let received = if filter_in_userspace {
        sink.matched + counters.lost()
    } else {
        counters.matched
    };
    let mut err = io::stderr().lock();
    if interrupted {
        writeln!(err)?;
    }
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
    if counters.cut_to_max > 0 {
        writeln!(
            err,
            "{} packet{} cut to {} bytes (tracer's largest record)",
            counters.cut_to_max,
            plural(counters.cut_to_max),
            tracer_common::MAX_CAPTURE
        )?;
    }
    if args.kernel_stats {
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
    }
    if rings.malformed() > 0 {
        writeln!(err, "{} malformed records ignored", rings.malformed())?;
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
        if !i.has_ethernet_framing() {
            tags.push("unsupported link type");
        }
        println!("{}.{} [{}]", n + 1, i.name, tags.join(", "));
    }
    println!(
        "{}.any (Pseudo-device that captures on all interfaces) [Up, Running]",
        iface::list().len() + 1
    );
}
