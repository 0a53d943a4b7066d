//! Command line: tcpdump's flags, spelled and counted as tcpdump spells and counts them.

use std::{net::SocketAddr, path::PathBuf};

use clap::{ArgAction, Parser, ValueEnum};

use crate::{live::Direction, print::PrintOptions};

/// tcpdump's default snapshot length (`-s 0` means this too).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "tracer",
    version,
    about = "A kernel-accelerated TCP tracer that prints what tcpdump prints.",
    after_help = "Examples:\n  tracer -i eth0 -nn port 80\n  tracer -i any -v 'tcp[tcpflags] & tcp-syn != 0'\n  tracer -i lo -w trace.pcap port 43981\n  tracer -r trace.pcap -X host 10.0.0.1"
)]
pub struct Args {
    /// Interface to capture on (repeatable; `any` for every up interface).
    /// Default: the first up, non-loopback interface, like tcpdump.
    #[arg(short = 'i', value_name = "IFACE", action = ArgAction::Append)]
    pub interfaces: Vec<String>,

    /// Don't resolve host names (-nn: nor port names).
    #[arg(short = 'n', action = ArgAction::Count)]
    pub numeric: u8,

    /// Exit after this many packets.
    #[arg(short = 'c', value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Bytes of each packet to keep (0: 262144).
    #[arg(short = 's', value_name = "SNAPLEN")]
    pub snaplen: Option<u32>,

    /// Line-buffered output: flush after every packet.
    #[arg(short = 'l')]
    pub line_buffered: bool,

    /// Verbose: the IP header line, checksums (-vv, -vvv: more).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,

    /// Hex dump of each packet from the IP header (-xx: from the link header).
    #[arg(short = 'x', action = ArgAction::Count)]
    pub hex: u8,

    /// Hex and ASCII dump (-XX: from the link header).
    #[arg(short = 'X', action = ArgAction::Count)]
    pub hex_ascii: u8,

    /// ASCII dump of each packet.
    #[arg(short = 'A')]
    pub ascii: bool,

    /// Absolute TCP sequence numbers.
    #[arg(short = 'S')]
    pub absolute_seq: bool,

    /// Quiet: less protocol information.
    #[arg(short = 'q')]
    pub quiet: bool,

    /// Print the link-level header.
    #[arg(short = 'e')]
    pub link_header: bool,

    /// Timestamps: -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first.
    #[arg(short = 't', action = ArgAction::Count)]
    pub timestamp: u8,

    /// Read packets from a pcap or pcapng file (`-` for stdin).
    #[arg(short = 'r', value_name = "FILE")]
    pub read: Option<PathBuf>,

    /// Write packets to a capture file instead of printing them (`-` for stdout).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Write pcapng instead of pcap (also chosen by a `.pcapng` file name).
    #[arg(long)]
    pub pcapng: bool,

    /// Print packets even while writing them with -w.
    #[arg(long)]
    pub print: bool,

    /// With -w: before writing a packet, start a new file if the current one is larger
    /// than FILE_SIZE million bytes (1,000,000, not 1,048,576). Files after the first are
    /// named like it with 1, 2, ... appended (see -W).
    #[arg(short = 'C', value_name = "FILE_SIZE", allow_hyphen_values = true,
          value_parser = crate::pcap::rotate::parse_file_size)]
    pub file_size: Option<u64>,

    /// With -w: every SECONDS, start a new file on the next packet, its name the -w name
    /// through strftime(3) in local time (e.g. `cap-%H%M%S.pcap`). 0: never.
    #[arg(short = 'G', value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = crate::pcap::rotate::parse_seconds)]
    pub rotate_seconds: Option<u32>,

    /// With -C: a ring of FILECOUNT files (numbers zero-padded to one width, wrapping to 0).
    /// With -G alone: exit once FILECOUNT files are written.
    #[arg(short = 'W', value_name = "FILECOUNT", allow_hyphen_values = true,
          value_parser = crate::pcap::rotate::parse_file_count)]
    pub file_count: Option<u32>,

    /// With -C or -G: run `COMMAND FILE` (e.g. gzip) on each file a rotation closes, at
    /// nice 19, not waited for. The last file is left as it is.
    #[arg(short = 'z', value_name = "COMMAND")]
    pub post_rotate: Option<std::ffi::OsString>,

    /// With -w: flush the file after every packet.
    #[arg(short = 'U')]
    pub packet_buffered: bool,

    /// Direction to capture.
    #[arg(short = 'Q', value_name = "DIRECTION", value_enum)]
    pub direction: Option<DirectionArg>,

    /// Ring buffer size per CPU, in KiB (rounded up to a power of two).
    #[arg(short = 'B', value_name = "KiB", value_parser = clap::value_parser!(u32).range(4..=1_048_576))]
    pub buffer_kib: Option<u32>,

    /// At exit, also print the kernel's counters (packets seen, TCP, matched, records
    /// submitted, records lost by reason).
    #[arg(long)]
    pub kernel_stats: bool,

    /// One line per TCP connection, when it ends (FIN, RST, idle, or still open at exit),
    /// computed in the kernel: packets, bytes, retransmissions each way, handshake time,
    /// resets, zero windows. Replaces packet lines (with -w, packets are still written).
    #[arg(long)]
    pub conn: bool,

    /// One line per HTTP/1.x request and its response: method, URI, status, latency.
    #[arg(long)]
    pub http: bool,

    /// JSON objects instead of text, one per line: packets, or with --conn/--http their
    /// records (schema in the README).
    #[arg(long)]
    pub json: bool,

    /// Connections the kernel's flow table holds (least recently used ones are evicted,
    /// and counted, beyond that).
    #[arg(long, value_name = "N", default_value_t = crate::conn::DEFAULT_MAX_CONNS,
          value_parser = clap::value_parser!(u32).range(16..=16_777_216))]
    pub max_conns: u32,

    /// A connection with no packet for this many seconds ends (close reason "idle").
    #[arg(long, value_name = "SECS", default_value_t = crate::conn::DEFAULT_IDLE_SECS,
          value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub conn_idle: u64,

    /// Tests only: the kernel programs act as if the kernel refused every connection's
    /// timer, so that tracer's own ending of such connections can be checked.
    #[arg(long, hide = true)]
    pub test_refuse_kernel_timers: bool,

    /// Every TCP state change of this network namespace's sockets with the owning process,
    /// from the kernel's tracepoints (like bcc's tcpstates); the expression's host and port
    /// parts filter them (local is the source). No packet lines.
    #[arg(long)]
    pub states: bool,

    /// One line per retransmitted skb of this namespace's sockets, from the kernel's
    /// `tcp_retransmit_skb` tracepoint (like bcc's tcpretrans). No packet lines.
    #[arg(long)]
    pub retrans: bool,

    /// Name the process that owns each packet's socket: a `Process (pid N, cmd C)` line after
    /// the packet (as ptcpdump prints it); with --json, `pid`, `comm` and `cgroup` fields.
    #[arg(long)]
    pub process: bool,

    /// Every SECS seconds, this namespace's TCP sockets per state (like `ss -s` and ss's
    /// state table). No packet lines.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub stats_interval: Option<u64>,

    /// Serve Prometheus/OpenMetrics metrics of the connection analytics at
    /// http://ADDR:PORT/metrics. Tracks connections and HTTP exchanges in the kernel as
    /// --conn --http do; prints their records only with --conn/--http.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,

    /// List the interfaces tracer can capture on, and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,

    /// Filter expression (pcap-filter syntax), e.g. `port 80 and host 10.0.0.1`.
    #[arg(value_name = "EXPRESSION", num_args = 0.., allow_hyphen_values = false)]
    pub expression: Vec<String>,
}

/// `-Q` values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    In,
    Out,
    Inout,
}

impl Args {
    /// Parses the process arguments. Bad flags give one line (`tracer: ...`) and exit 1;
    /// `--help`/`--version` print as usual and exit 0.
    pub fn parse_or_exit() -> Args {
        match Args::try_parse() {
            Ok(a) => a,
            Err(e) => {
                use clap::error::ErrorKind;
                if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                    let _ = e.print();
                    std::process::exit(0);
                }
                eprintln!("tracer: {} (see tracer --help)", one_line(&e.to_string()));
                std::process::exit(1);
            }
        }
    }

    pub fn print_options(&self) -> PrintOptions {
        PrintOptions {
            numeric: self.numeric,
            verbose: self.verbose,
            hex: self.hex,
            hex_ascii: self.hex_ascii,
            ascii: self.ascii,
            absolute_seq: self.absolute_seq,
            quiet: self.quiet,
            link_header: self.link_header,
            timestamp: self.timestamp,
        }
    }

    pub fn snaplen(&self) -> u32 {
        match self.snaplen {
            None | Some(0) => DEFAULT_SNAPLEN,
            Some(n) => n,
        }
    }

    /// `-C`, `-G`, `-W`, `-z`: how `-w` files rotate.
    pub fn rotation(&self) -> crate::pcap::Rotation {
        crate::pcap::Rotation {
            file_size: self.file_size,
            file_count: self.file_count,
            seconds: self.rotate_seconds,
            post_rotate: self.post_rotate.clone(),
        }
    }

    pub fn direction(&self) -> Direction {
        match self.direction {
            None | Some(DirectionArg::Inout) => Direction::InOut,
            Some(DirectionArg::In) => Direction::In,
            Some(DirectionArg::Out) => Direction::Out,
        }
    }

    /// Connection or HTTP records instead of packet lines.
    pub fn analytics(&self) -> bool {
        self.conn || self.http
    }

    /// Records of the host's sockets (state changes, retransmissions, socket counts).
    pub fn socket_records(&self) -> bool {
        self.states || self.retrans || self.stats_interval.is_some()
    }

    /// Whether packets are printed or written (not only records or metrics).
    pub fn packets(&self) -> bool {
        self.write.is_some()
            || !(self.analytics() || self.socket_records() || self.metrics.is_some())
    }

    /// Connections tracked in the kernel: `--conn`, `--http` or `--metrics`.
    pub fn tracking(&self) -> bool {
        self.analytics() || self.metrics.is_some()
    }

    /// HTTP exchanges paired in the kernel: `--http` or `--metrics`.
    pub fn track_http(&self) -> bool {
        self.http || self.metrics.is_some()
    }

    /// The filter expression as tcpdump sees it: the words joined by spaces.
    pub fn filter_text(&self) -> String {
        self.expression.join(" ")
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn one_line(s: &str) -> String {
    let first = s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s);
    first.trim_start_matches("error: ").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("tracer").chain(v.iter().copied()))
    }

    #[test]
    fn tcpdump_style_flags_count_and_cluster() {
        let a = parse(&["-nnvvX", "-i", "lo", "-c", "5", "port", "43981"]).unwrap();
        assert_eq!((a.numeric, a.verbose, a.hex_ascii), (2, 2, 1));
        assert_eq!(a.interfaces, vec!["lo"]);
        assert_eq!(a.count, Some(5));
        assert_eq!(a.filter_text(), "port 43981");
    }

    #[test]
    fn flags_after_the_expression_still_count() {
        let a = parse(&["port", "80", "-nn", "-tttt"]).unwrap();
        assert_eq!((a.numeric, a.timestamp), (2, 4));
        assert_eq!(a.filter_text(), "port 80");
    }

    #[test]
    fn snaplen_zero_means_default() {
        assert_eq!(parse(&["-s", "0"]).unwrap().snaplen(), DEFAULT_SNAPLEN);
        assert_eq!(parse(&["-s", "96"]).unwrap().snaplen(), 96);
    }

    #[test]
    fn bad_flags_are_one_line_errors() {
        let e = parse(&["-Z"]).unwrap_err();
        let line = one_line(&e.to_string());
        assert!(line.contains("-Z"), "{line}");
        assert!(!line.contains('\n'));
        assert!(parse(&["-c", "0"]).is_err());
        assert!(parse(&["-Q", "sideways"]).is_err());
    }

    #[test]
    fn analytics_flags_and_their_bounds() {
        let a = parse(&[
            "--conn",
            "--http",
            "--json",
            "--max-conns",
            "1024",
            "port",
            "80",
        ])
        .unwrap();
        assert!(a.analytics() && a.json);
        assert_eq!((a.max_conns, a.conn_idle), (1024, 300));
        assert!(parse(&["--max-conns", "0"]).is_err());
        assert!(parse(&["--conn-idle", "0"]).is_err());
        assert!(!parse(&["--json"]).unwrap().analytics());
    }

    #[test]
    fn metrics_address() {
        let a = parse(&["--metrics", "10.0.0.1:9464", "port", "80"]).unwrap();
        assert_eq!(a.metrics, Some("10.0.0.1:9464".parse().unwrap()));
        assert!(a.tracking() && a.track_http() && !a.analytics());
        assert!(parse(&["--metrics", "[::1]:9464"]).is_ok());
        for bad in ["10.0.0.1", "localhost:9464", "10.0.0.1:99999", ":9464", ""] {
            let e = parse(&["--metrics", bad]).unwrap_err();
            let line = one_line(&e.to_string());
            assert!(line.contains("--metrics"), "{line}");
        }
        assert!(!parse(&["--conn"]).unwrap().track_http());
    }

    #[test]
    fn rotation_flags_and_tcpdumps_messages() {
        let a = parse(&["-w", "x", "-C", "2", "-W3", "-G", "60", "-z", "gzip"]).unwrap();
        let r = a.rotation();
        assert_eq!(r.file_size, Some(2_000_000));
        assert_eq!((r.file_count, r.seconds), (Some(3), Some(60)));
        assert_eq!(r.post_rotate.as_deref(), Some(std::ffi::OsStr::new("gzip")));
        for (flag, value, msg) in [
            ("-C", "0", "invalid file size 0"),
            ("-C", "-1", "invalid file size -1"),
            ("-C", "1k", "invalid file size 1k"),
            (
                "-C",
                "9223372036855",
                "file size 9223372036855 is too large",
            ),
            ("-W", "0", "invalid number of output files 0"),
            ("-G", "-1", "invalid number of seconds -1"),
        ] {
            let line = one_line(&parse(&[flag, value]).unwrap_err().to_string());
            assert!(line.ends_with(msg), "{line}");
            assert!(line.contains(flag), "{line}");
        }
        assert_eq!(parse(&["-G", "x"]).unwrap().rotation().seconds, Some(0));
        assert!(!parse(&["-G", "0", "-W", "2"]).unwrap().rotation().rotates());
    }

    #[test]
    fn several_interfaces() {
        let a = parse(&["-i", "lo", "-i", "veth0", "-Q", "in"]).unwrap();
        assert_eq!(a.interfaces, vec!["lo", "veth0"]);
        assert_eq!(a.direction(), Direction::In);
    }
}
