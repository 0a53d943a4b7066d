//! Live capture: loads the kernel programs, gives every CPU its own ring buffer, writes the
//! filter and settings into maps, attaches to the interfaces, and reads back records and
//! counters.
//!
//! Attachments are bpf links (XDP links, TCX) wherever the kernel has them, so they vanish
//! with the process, `kill -9` included. Only the legacy fallbacks (netlink XDP on kernels
//! without XDP links, clsact on kernels without TCX) would outlive a crash.

pub mod btf;
pub mod clock;
pub mod csum;
pub mod ethtool;
pub mod gso;
pub mod iface;
pub mod links;
pub mod rawhash;
pub mod record;
pub mod rings;
pub mod sockdiag;

use std::io;

use aya::{
    maps::{
        Array, ArrayOfMaps, HashMap, Map, MapData, MapError, PerCpuArray, ProgramArray, RingBuf,
    },
    programs::{
        tc::SchedClassifierLinkId,
        tc::{self, NlOptions, TcAttachOptions},
        xdp::XdpLinkId,
        BtfTracePoint, FExit, ProgramError, SchedClassifier, TcAttachType, Xdp, XdpMode,
    },
    Ebpf, EbpfError, EbpfLoader,
};
use thiserror::Error;
use tracer_common::{
    config_flag,
    conn::{close, state, ConnKey, HttpState, TimerVerdict},
    counter,
    filter::MAX_FILTER_INSNS,
    Config, ConnEntry, Event, FilterInsn, SockOffsets, MAX_RINGS,
};

use self::{iface::Interface, rawhash::RawHash, rings::RingSet};

/// The kernel object, built by `cargo xtask build-ebpf` and embedded by `build.rs`
/// (empty when it was not built).
static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/tracer.bpf.o"));

/// Which directions to capture (tcpdump's `-Q`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
    InOut,
}

impl Direction {
    fn wants_in(self) -> bool {
        self != Direction::Out
    }

    fn wants_out(self) -> bool {
        self != Direction::In
    }
}

/// What to capture and how.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    pub interfaces: Vec<Interface>,
    pub direction: Direction,
    /// Frame bytes to keep per packet.
    pub snaplen: u32,
    /// Size of each per-CPU ring buffer in bytes (rounded up to a power of two pages).
    pub ring_bytes: u32,
    /// The compiled filter; empty accepts every TCP packet.
    pub filter: Vec<FilterInsn>,
    /// Interfaces whose device leaves segmentation or checksums to the kernel, with
    /// `tracer_common::software_tx` flags: the kernel captures the affected outgoing packets
    /// whole so userspace can redo that work (see [`gso`], [`csum`]).
    pub software_tx: Vec<(u32, u8)>,
    /// Send a record per accepted packet (off with `--conn`/`--http` unless `-w`).
    pub packets: bool,
    /// Connection tracking in the kernel (`--conn`, `--http`).
    pub analytics: Option<AnalyticsOptions>,
    /// The host's own sockets (`tracer_common::sock_flag::*`; 0: not watched).
    pub sockets: u32,
}

/// What the kernel's connection tracker does.
#[derive(Copy, Clone, Debug)]
pub struct AnalyticsOptions {
    /// Pair HTTP exchanges too.
    pub http: bool,
    /// Size of the flow table (and of the HTTP table with `http`).
    pub max_conns: u32,
    pub idle_ns: u64,
    pub linger_ns: u64,
    /// Tests only: the kernel programs act as if every timer were refused.
    pub refuse_timers: bool,
}

/// Why live capture could not start.
#[derive(Debug, Error)]
pub enum LiveError {
    /// This build of tracer carries no kernel object.
    #[error("this tracer binary was built without its eBPF object: run `cargo xtask build-ebpf`, then rebuild (or use `cargo xtask run`)")]
    MissingObject,
    /// The process lacks the privileges to load BPF programs.
    #[error("live capture needs root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): run it with sudo, or read a file with -r")]
    Permission,
    /// Loading the object or creating its maps failed.
    #[error("cannot load the eBPF object: {0}")]
    Load(#[source] EbpfError),
    /// The kernel verifier (or loader) refused a program.
    #[error("the kernel refused program {program}: {detail}")]
    Program {
        program: &'static str,
        detail: String,
    },
    /// A map could not be set up.
    #[error("cannot set up map {map}: {source}")]
    Map {
        map: &'static str,
        #[source]
        source: MapError,
    },
    /// The named interface does not exist.
    #[error("{0}: No such device exists")]
    NoSuchInterface(String),
    /// The interface's frames do not start with an Ethernet header.
    #[error("{0}: unsupported link type (tracer captures Ethernet, loopback and layer-3 (tun, ipip, sit) interfaces)")]
    UnsupportedInterface(String),
    /// Attaching to an interface failed.
    #[error("{iface}: cannot attach the {hook} hook: {detail}")]
    Attach {
        iface: String,
        hook: &'static str,
        detail: String,
    },
    /// Creating the ring readers failed.
    #[error("cannot read the ring buffers: {0}")]
    Rings(#[source] io::Error),
    /// Watching the host's sockets needs the kernel's BTF and its socket tracepoints.
    #[error("cannot watch the host's TCP sockets: {0}")]
    Sockets(String),
}

/// How a program ended up attached to an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub iface: String,
    pub index: u32,
    /// e.g. `xdp (native)`, `xdp (generic)`, `tcx ingress`, `tcx egress`, `clsact egress`.
    pub hook: String,
}

/// Kernel counters summed over CPUs.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub seen: u64,
    pub tcp: u64,
    pub matched: u64,
    pub ring_full: u64,
    pub no_ring: u64,
    pub copy_failed: u64,
    pub submitted: u64,
    pub cut_to_max: u64,
    pub tracked: u64,
    pub untrackable: u64,
    pub conn_created: u64,
    pub conn_ended: u64,
    pub conn_insert_failed: u64,
    pub lock_busy: u64,
    pub late_update: u64,
    pub records: u64,
    pub records_lost: u64,
    pub http_overflow: u64,
    pub http_created: u64,
    pub http_deleted: u64,
    pub http_insert_failed: u64,
    pub tracker_unreachable: u64,
    pub lock_waited: u64,
    pub timer_refused: u64,
    /// Connections the loader ended because the kernel had refused their timers (counted in
    /// `conn_ended` too).
    pub ended_by_loader: u64,
}

impl Counters {
    /// Records the kernel accepted but could not deliver, for any reason.
    pub fn lost(&self) -> u64 {
        self.ring_full + self.no_ring + self.copy_failed
    }

    /// Accepted packets whose update of their connection was lost.
    pub fn updates_lost(&self) -> u64 {
        self.conn_insert_failed + self.lock_busy + self.late_update + self.tracker_unreachable
    }
}

/// What was left in the kernel's tables at exit.
#[derive(Debug, Default)]
pub struct TableDump {
    /// Records of the connections still in the flow table (open, or closed and waiting for
    /// their linger time), and of the HTTP requests they left unanswered.
    pub events: Vec<Event>,
    /// Entries in the flow table (including ones whose record was already sent).
    pub conns_left: u64,
    /// Entries in the HTTP table.
    pub http_left: u64,
}

/// A running capture: programs loaded and attached. Dropping it detaches everything.
pub struct Live {
    // Links are owned by the programs inside `ebpf`; dropping it detaches them.
    ebpf: Ebpf,
    pub attachments: Vec<Attachment>,
    /// The links behind `attachments`, by interface index.
    links: Vec<(u32, LinkHandle)>,
    hooks: Hooks,
    /// Programs loaded: name, instructions the verifier processed, time the load took.
    pub loaded: Vec<(&'static str, Option<u32>, std::time::Duration)>,
    /// What could not be set up but was not needed (printed with -v).
    pub notes: Vec<String>,
    /// With `--conn`: the idle and linger times the kernel's timers use.
    conn_times: Option<(u64, u64)>,
    timerless: TimerlessSweep,
}

/// What [`Live::end_timerless`] knows between its runs.
#[derive(Debug, Default)]
struct TimerlessSweep {
    /// `TIMER_REFUSED` as read before the last walk that found no timerless entry left.
    refused_seen: u64,
    /// The last walk left timerless entries that were not due yet.
    pending: bool,
    /// Connections and HTTP entries the loader ended and deleted.
    conns_ended: u64,
    http_deleted: u64,
}

fn program_error(program: &'static str, e: ProgramError) -> LiveError {
    if let ProgramError::LoadError {
        io_error,
        verifier_log,
    } = &e
    {
        if io_error.raw_os_error() == Some(libc::EPERM) && crate::live::not_root() {
            return LiveError::Permission;
        }
        return LiveError::Program {
            program,
            detail: format!("{io_error}\nverifier log:\n{verifier_log}"),
        };
    }
    LiveError::Program {
        program,
        detail: e.to_string(),
    }
}

/// Whether the process lacks root's capabilities (an EPERM is then about privileges, not
/// about something the kernel refuses to everyone).
pub(crate) fn not_root() -> bool {
    // SAFETY: plain libc call.
    unsafe { libc::geteuid() != 0 }
}

/// Whether a load failed with EPERM anywhere down its chain of causes (a map's creation, the
/// BTF load, a program's load: each keeps the syscall's `io::Error` as its source).
fn is_permission_error(e: &EbpfError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.raw_os_error() == Some(libc::EPERM) {
                return true;
            }
        }
        cause = err.source();
    }
    false
}

/// Rounds a ring size up to what the kernel accepts: a power of two, at least one page.
pub fn ring_size(bytes: u32) -> u32 {
    // SAFETY: plain libc call.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u32;
    bytes
        .max(page)
        .checked_next_power_of_two()
        .unwrap_or(1 << 31)
}

impl Live {
    /// Loads, configures and attaches; returns the capture and its ring readers.
    pub fn start(opts: &LiveOptions) -> Result<(Live, RingSet), LiveError> {
        if EBPF_OBJECT.is_empty() {
            return Err(LiveError::MissingObject);
        }
        for i in &opts.interfaces {
            if !i.is_supported() {
                return Err(LiveError::UnsupportedInterface(i.name.clone()));
            }
        }
        let (conns, http) = match &opts.analytics {
            Some(a) => (a.max_conns, if a.http { a.max_conns } else { 1 }),
            None => (1, 1),
        };
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("CONNS", conns)
            .map_max_entries("HTTP", http)
            .load(EBPF_OBJECT)
            .map_err(|e| {
                if is_permission_error(&e) {
                    LiveError::Permission
                } else {
                    LiveError::Load(e)
                }
            })?;
        // The logger owns the AYA_LOGS map fd: it must live as long as the programs.
        match aya_log::EbpfLogger::init(&mut ebpf) {
            Ok(logger) => spawn_kernel_log_reader(logger),
            Err(e) => eprintln!("tracer: kernel log unavailable: {e}"),
        }

        let rings = setup_maps(&mut ebpf, opts)?;
        let set = RingSet::new(rings).map_err(LiveError::Rings)?;

        let mut live = Live {
            ebpf,
            attachments: Vec::new(),
            links: Vec::new(),
            hooks: Hooks::default(),
            loaded: Vec::new(),
            notes: Vec::new(),
            conn_times: opts.analytics.as_ref().map(|a| (a.idle_ns, a.linger_ns)),
            timerless: TimerlessSweep::default(),
        };
        if opts.analytics.is_some() {
            live.load_trackers()?;
        }
        if opts.sockets != 0 {
            live.watch_sockets(opts)?;
        }
        live.attach_all(opts)?;
        Ok((live, set))
    }

    /// Attaches the socket programs (BTF tracepoints need no tracefs): state changes,
    /// retransmissions, and `accept()` for owners. Offsets into the kernel's structs come from
    /// its BTF; sockets of other network namespaces are left out by the programs.
    fn watch_sockets(&mut self, opts: &LiveOptions) -> Result<(), LiveError> {
        let kbtf = btf::Btf::kernel().map_err(|e| LiveError::Sockets(e.to_string()))?;
        let off = |st: &str, path: &str| -> Result<u16, LiveError> {
            let o = kbtf
                .offset(st, path)
                .map_err(|e| LiveError::Sockets(e.to_string()))?;
            u16::try_from(o).map_err(|_| LiveError::Sockets(format!("{st}.{path} at {o}")))
        };
        let netns = std::fs::metadata("/proc/self/ns/net")
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m) as u32)
            .map_err(|e| LiveError::Sockets(format!("/proc/self/ns/net: {e}")))?;
        let cfg = SockOffsets {
            daddr: off("sock", "__sk_common.skc_daddr")?,
            rcv_saddr: off("sock", "__sk_common.skc_rcv_saddr")?,
            dport: off("sock", "__sk_common.skc_dport")?,
            sport: off("inet_sock", "inet_sport")?,
            family: off("sock", "__sk_common.skc_family")?,
            state: off("sock", "__sk_common.skc_state")?,
            net: off("sock", "__sk_common.skc_net")?,
            v6_daddr: off("sock", "__sk_common.skc_v6_daddr")?,
            v6_rcv_saddr: off("sock", "__sk_common.skc_v6_rcv_saddr")?,
            protocol: off("sock", "sk_protocol")?,
            net_ns_inum: off("net", "ns.inum")?,
            srtt_us: off("tcp_sock", "srtt_us")?,
            total_retrans: off("tcp_sock", "total_retrans")?,
            bytes_acked: off("tcp_sock", "bytes_acked")?,
            bytes_received: off("tcp_sock", "bytes_received")?,
            skb_head: off("sk_buff", "head")?,
            skb_end: off("sk_buff", "end")?,
            gso_segs: off("skb_shared_info", "gso_segs")?,
            netns,
            flags: opts.sockets,
        };
        let mut m: Array<&mut MapData, SockOffsets> = typed_map(&mut self.ebpf, "SOCK_CFG")?;
        m.set(0, cfg, 0).map_err(map_err("SOCK_CFG"))?;
        let btf = aya::Btf::from_sys_fs().map_err(|e| LiveError::Sockets(e.to_string()))?;
        for (name, point) in [
            ("tracer_sock_state", "inet_sock_set_state"),
            ("tracer_sock_retrans", "tcp_retransmit_skb"),
            ("tracer_sock_send", "sock_send_length"),
            ("tracer_sock_recv", "sock_recv_length"),
        ] {
            if point.starts_with("sock_") && opts.sockets & tracer_common::sock_flag::OWNERS == 0 {
                // Every send and receive of the host: only for --process.
                continue;
            }
            let t = std::time::Instant::now();
            let p: &mut BtfTracePoint = self.program(name)?;
            p.load(point, &btf).map_err(|e| program_error(name, e))?;
            p.attach().map_err(|e| LiveError::Attach {
                iface: point.to_string(),
                hook: "tp_btf",
                detail: e.to_string(),
            })?;
            let n = p.info().ok().and_then(|i| i.verified_instruction_count());
            self.loaded.push((name, n, t.elapsed()));
        }
        // accept(): fexit needs BPF trampolines, which some kernels refuse (this one, in
        // integrity lockdown, answers EPERM). Without it the owners of accepted sockets come
        // from /proc (see conn::sockets).
        let name = "tracer_sock_accept";
        let p: &mut FExit = self.program(name)?;
        let attached = p
            .load("inet_csk_accept", &btf)
            .map_err(|e| e.to_string())
            .and_then(|()| p.attach().map(|_| ()).map_err(|e| e.to_string()));
        if let Err(e) = attached {
            self.notes.push(format!(
                "accept() hook unavailable ({e}): owners of accepted sockets come from /proc"
            ));
        }
        Ok(())
    }

    /// Loads the connection tracker programs and puts them where the packet programs
    /// tail-call them.
    fn load_trackers(&mut self) -> Result<(), LiveError> {
        for (name, array) in [
            ("tracer_xdp_conns", "XDP_TRACKER"),
            ("tracer_tc_conns", "TC_TRACKER"),
        ] {
            let t = std::time::Instant::now();
            let fd = if array == "XDP_TRACKER" {
                let p: &mut Xdp = self.program(name)?;
                p.load().map_err(|e| program_error(name, e))?;
                let n = p.info().ok().and_then(|i| i.verified_instruction_count());
                self.loaded.push((name, n, t.elapsed()));
                let p: &mut Xdp = self.program(name)?;
                p.fd().map_err(|e| program_error(name, e))?.try_clone()
            } else {
                let p: &mut SchedClassifier = self.program(name)?;
                p.load().map_err(|e| program_error(name, e))?;
                let n = p.info().ok().and_then(|i| i.verified_instruction_count());
                self.loaded.push((name, n, t.elapsed()));
                let p: &mut SchedClassifier = self.program(name)?;
                p.fd().map_err(|e| program_error(name, e))?.try_clone()
            }
            .map_err(|e| LiveError::Program {
                program: name,
                detail: e.to_string(),
            })?;
            let mut trackers: ProgramArray<&mut MapData> = typed_map(&mut self.ebpf, array)?;
            trackers.set(0, &fd, 0).map_err(map_err(array))?;
        }
        Ok(())
    }

    fn attach_all(&mut self, opts: &LiveOptions) -> Result<(), LiveError> {
        if opts.interfaces.is_empty() {
            // Only the host's sockets are watched.
            return Ok(());
        }
        self.hooks = Hooks {
            ingress: opts.direction.wants_in(),
            egress: opts.direction.wants_out(),
            analytics: opts.analytics.is_some(),
        };
        for i in &opts.interfaces {
            self.attach(i)?;
        }
        Ok(())
    }

    /// Loads a program the first time an interface needs it.
    fn ensure_loaded<T>(&mut self, name: &'static str) -> Result<(), LiveError>
    where
        T: LoadableClassifier,
        for<'a> &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = ProgramError>,
    {
        let p: &mut T = self.program(name)?;
        if p.is_loaded() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        p.load_it().map_err(|e| program_error(name, e))?;
        let n = p.verified();
        self.loaded.push((name, n, t.elapsed()));
        Ok(())
    }

    /// Attaches the hooks the capture wants to one interface (at start, or an interface
    /// that appeared under `-i any`).
    pub fn attach(&mut self, i: &Interface) -> Result<(), LiveError> {
        if !i.is_supported() {
            return Err(LiveError::UnsupportedInterface(i.name.clone()));
        }
        let hooks = self.hooks;
        if hooks.ingress {
            let (hook, link) = self.attach_ingress(i, hooks.analytics)?;
            self.push_attachment(i, hook, link);
        }
        // libpcap drops outgoing packets on loopback (each shows once, as incoming), so
        // loopback only ever gets the ingress hook.
        if hooks.egress && !i.is_loopback() {
            match self.attach_egress(i) {
                Ok((hook, link)) => self.push_attachment(i, hook, link),
                Err(e) => {
                    // Nothing half-attached stays behind.
                    self.detach(i.index);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn push_attachment(&mut self, i: &Interface, hook: String, link: LinkHandle) {
        self.attachments.push(Attachment {
            iface: i.name.clone(),
            index: i.index,
            hook,
        });
        self.links.push((i.index, link));
    }

    /// Lets go of an interface's hooks (it was deleted, or an attach failed half-way). The
    /// kernel already took down the links of a deleted interface; this closes their fds.
    pub fn detach(&mut self, index: u32) {
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.links)
            .into_iter()
            .partition(|(i, _)| *i == index);
        self.links = kept;
        self.attachments.retain(|a| a.index != index);
        for (_, link) in gone {
            let _ = match link {
                LinkHandle::Xdp(id) => self
                    .program::<Xdp>("tracer_xdp")
                    .and_then(|p| p.detach(id).map_err(|e| program_error("tracer_xdp", e))),
                LinkHandle::Tc(name, id) => self
                    .program::<SchedClassifier>(name)
                    .and_then(|p| p.detach(id).map_err(|e| program_error(name, e))),
            };
        }
    }

    /// The kernel's `software_tx` flags of one interface (0 removes the entry).
    pub fn set_software_tx(&mut self, ifindex: u32, flags: u8) -> Result<(), LiveError> {
        let mut m: HashMap<&mut MapData, u32, u8> = typed_map(&mut self.ebpf, "SOFTWARE_TX")?;
        if flags == 0 {
            let _ = m.remove(&ifindex);
            return Ok(());
        }
        m.insert(ifindex, flags, 0).map_err(map_err("SOFTWARE_TX"))
    }

    /// Whether the capture has hooks on this interface.
    pub fn is_attached(&self, index: u32) -> bool {
        self.links.iter().any(|(i, _)| *i == index)
    }

    fn program<T>(&mut self, name: &'static str) -> Result<&mut T, LiveError>
    where
        for<'a> &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = ProgramError>,
    {
        let p = self.ebpf.program_mut(name).ok_or(LiveError::Program {
            program: name,
            detail: "missing from the eBPF object".into(),
        })?;
        p.try_into().map_err(|e| program_error(name, e))
    }

    /// Native XDP where the driver has it and nothing merges received packets; otherwise
    /// TCX ingress. With GRO on, XDP would see the wire segments before they are merged while
    /// libpcap (and TCX ingress) see the merged packets: TCX prints what tcpdump prints.
    /// Generic XDP (all `lo` has) is the last resort: before running the program it copies
    /// every cloned or nonlinear skb into a fresh page, and TCP transmits clones, which halved
    /// loopback throughput in the benchmark even with a filter that matched nothing.
    fn attach_ingress(
        &mut self,
        i: &Interface,
        analytics: bool,
    ) -> Result<(String, LinkHandle), LiveError> {
        if i.is_layer3() {
            // No link header: only the TC programs that put one in front (XDP on tun is
            // generic-only and would copy every packet).
            let name = "tracer_tc_ingress_l3";
            self.ensure_loaded::<SchedClassifier>(name)?;
            let tc: &mut SchedClassifier = self.program(name)?;
            return attach_tc(tc, &i.name, TcAttachType::Ingress)
                .map(|(hook, id)| (hook, LinkHandle::Tc(name, id)))
                .map_err(|detail| LiveError::Attach {
                    iface: i.name.clone(),
                    hook: "ingress",
                    detail,
                });
        }
        let mut xdp_error = None;
        // Connection analytics time packets as the taps do: on receive, native XDP runs
        // before the driver batches packets into the stack (NAPI's gro_normal list), up to
        // hundreds of microseconds before libpcap stamps them; TCX ingress runs just after the
        // taps. Handshake and HTTP times then agree with tcpdump's.
        if !analytics && !i.is_loopback() && !merges_received_packets(&i.name) {
            self.ensure_loaded::<Xdp>("tracer_xdp")?;
            let xdp: &mut Xdp = self.program("tracer_xdp")?;
            match xdp.attach_to_if_index(i.index, XdpMode::Driver) {
                Ok(id) => return Ok(("xdp (native)".to_string(), LinkHandle::Xdp(id))),
                Err(e) => xdp_error = Some(e.to_string()),
            }
        }
        let name = "tracer_tc_ingress";
        self.ensure_loaded::<SchedClassifier>(name)?;
        let tc: &mut SchedClassifier = self.program(name)?;
        let tc_error = match attach_tc(tc, &i.name, TcAttachType::Ingress) {
            Ok((hook, id)) => {
                if let Some(e) = &xdp_error {
                    // Another XDP program owns the interface, or the driver has no XDP.
                    eprintln!(
                        "tracer: {}: XDP unavailable ({e}), capturing ingress with {hook}",
                        i.name
                    );
                }
                return Ok((hook, LinkHandle::Tc(name, id)));
            }
            Err(e) => e,
        };
        self.ensure_loaded::<Xdp>("tracer_xdp")?;
        let xdp: &mut Xdp = self.program("tracer_xdp")?;
        match xdp.attach_to_if_index(i.index, XdpMode::Skb) {
            Ok(id) => Ok(("xdp (generic)".to_string(), LinkHandle::Xdp(id))),
            Err(e) => Err(LiveError::Attach {
                iface: i.name.clone(),
                hook: "ingress",
                detail: format!(
                    "native XDP: {}; TC: {tc_error}; generic XDP: {e}",
                    xdp_error.as_deref().unwrap_or("not tried on loopback")
                ),
            }),
        }
    }

    fn attach_egress(&mut self, i: &Interface) -> Result<(String, LinkHandle), LiveError> {
        let name = if i.is_layer3() {
            "tracer_tc_egress_l3"
        } else {
            "tracer_tc_egress"
        };
        self.ensure_loaded::<SchedClassifier>(name)?;
        let tc: &mut SchedClassifier = self.program(name)?;
        attach_tc(tc, &i.name, TcAttachType::Egress)
            .map(|(hook, id)| (hook, LinkHandle::Tc(name, id)))
            .map_err(|detail| LiveError::Attach {
                iface: i.name.clone(),
                hook: "egress",
                detail,
            })
    }

    /// The kernel counter `i` (`counter::*`), summed over CPUs; 0 when it cannot be read.
    fn counter(&self, i: u32) -> u64 {
        self.ebpf
            .map("COUNTERS")
            .and_then(|map| PerCpuArray::<&MapData, u64>::try_from(map).ok())
            .and_then(|arr| arr.get(&i, 0).ok())
            .map(|v| v.iter().copied().sum())
            .unwrap_or(0)
    }

    /// Current kernel counters, summed over CPUs.
    pub fn counters(&self) -> Counters {
        let get = |i: u32| self.counter(i);
        Counters {
            seen: get(counter::SEEN),
            tcp: get(counter::TCP),
            matched: get(counter::MATCHED),
            ring_full: get(counter::RING_FULL),
            no_ring: get(counter::NO_RING),
            copy_failed: get(counter::COPY_FAILED),
            submitted: get(counter::SUBMITTED),
            cut_to_max: get(counter::CUT_TO_MAX),
            tracked: get(counter::TRACKED),
            untrackable: get(counter::UNTRACKABLE),
            conn_created: get(counter::CONN_CREATED),
            conn_ended: get(counter::CONN_ENDED) + self.timerless.conns_ended,
            conn_insert_failed: get(counter::CONN_INSERT_FAILED),
            lock_busy: get(counter::LOCK_BUSY),
            late_update: get(counter::LATE_UPDATE),
            records: get(counter::RECORDS),
            records_lost: get(counter::RECORDS_LOST),
            http_overflow: get(counter::HTTP_OVERFLOW),
            http_created: get(counter::HTTP_CREATED),
            http_deleted: get(counter::HTTP_DELETED) + self.timerless.http_deleted,
            http_insert_failed: get(counter::HTTP_INSERT_FAILED),
            tracker_unreachable: get(counter::TRACKER_UNREACHABLE),
            lock_waited: get(counter::LOCK_WAITED),
            timer_refused: get(counter::TIMER_REFUSED),
            ended_by_loader: self.timerless.conns_ended,
        }
    }

    /// Stops connection tracking for the exit: packets no longer update the tables and
    /// timers no longer take records, so [`Live::dump_tables`] reads a still picture.
    pub fn stop_tracking(&mut self) -> Result<(), LiveError> {
        let mut config: Array<&mut MapData, Config> = typed_map(&mut self.ebpf, "CONFIG")?;
        let mut cfg = config.get(&0, 0).map_err(map_err("CONFIG"))?;
        cfg.flags |= config_flag::STOPPING;
        config.set(0, cfg, 0).map_err(map_err("CONFIG"))
    }

    /// The entries of the flow table now (read key by key while the kernel changes it, so
    /// approximate; at most `max_keys` are read).
    pub fn conn_entries(&self, max_keys: usize) -> Result<u64, LiveError> {
        let conns: HashMap<&MapData, ConnKey, ConnEntry> = typed_map_ref(&self.ebpf, "CONNS")?;
        Ok(conns.keys().take(max_keys).filter(Result::is_ok).count() as u64)
    }

    /// The connections left in the flow table, in the order of their first packet, as the
    /// records the kernel would have sent (entries whose record was already sent are skipped),
    /// followed by each one's unanswered HTTP requests. `now` stamps the records.
    pub fn dump_tables(&self, now: u64) -> Result<TableDump, LiveError> {
        let mut dump = TableDump::default();
        let http: HashMap<&MapData, ConnKey, HttpState> = typed_map_ref(&self.ebpf, "HTTP")?;
        let mut left: Vec<(ConnKey, ConnEntry)> = Vec::new();
        RawHash::<ConnKey, ConnEntry>::open(&self.ebpf, "CONNS")?
            .for_each(|k, e| left.push((*k, *e)))?;
        dump.conns_left = left.len() as u64;
        dump.http_left = http.keys().filter(Result::is_ok).count() as u64;
        left.retain(|(_, e)| e.state.bits & state::FINISHED == 0 && e.state.first_ns != 0);
        left.sort_by_key(|(k, e)| (e.state.first_ns, *k));
        for (key, e) in left {
            let hs = http.get(&key, 0).ok();
            crate::conn::finish(&key, &e.state, hs.as_ref(), now, &mut |ev| {
                dump.events.push(ev)
            });
        }
        Ok(dump)
    }

    /// Ends the connections whose timer the kernel refused (`state::NO_TIMER`) once they are
    /// due, as the timer's callback would have: their records (the connection's, then its
    /// unanswered HTTP requests), the entries deleted. Walks the flow table only while such
    /// entries may exist: after the kernel counted a refusal, and until a walk finds none.
    /// An entry is taken with one lookup-and-delete, so the record is the entry's last state.
    pub fn end_timerless(&mut self, now: u64) -> Result<Vec<Event>, LiveError> {
        let mut events = Vec::new();
        let Some((idle_ns, linger_ns)) = self.conn_times else {
            return Ok(events);
        };
        let refused = self.counter(counter::TIMER_REFUSED);
        if refused == self.timerless.refused_seen && !self.timerless.pending {
            return Ok(events);
        }
        let conns = RawHash::<ConnKey, ConnEntry>::open(&self.ebpf, "CONNS")?;
        let http = RawHash::<ConnKey, HttpState>::open(&self.ebpf, "HTTP")?;
        let mut due = Vec::new();
        let mut pending = false;
        // In batches: the walk runs every second while refused entries exist, on a table of
        // up to --max-conns entries.
        conns.for_each(|key, e| {
            if e.state.bits & (state::NO_TIMER | state::FINISHED) != state::NO_TIMER
                || e.state.first_ns == 0
            {
                return;
            }
            match e.state.on_timer(now, idle_ns, linger_ns) {
                TimerVerdict::Finish(_) => due.push(*key),
                TimerVerdict::Rearm(_) => pending = true,
            }
        })?;
        for key in due {
            // Gone already (evicted), or changed since the walk: a packet may have given it a
            // timer; taken all the same, it ends here with what it holds.
            let Some(mut e) = conns.lookup_and_delete(&key)? else {
                continue;
            };
            if e.state.bits & state::FINISHED != 0 {
                continue;
            }
            e.state.close = match e.state.on_timer(now, idle_ns, linger_ns) {
                TimerVerdict::Finish(reason) => reason,
                TimerVerdict::Rearm(_) if e.state.close != close::OPEN => e.state.close,
                TimerVerdict::Rearm(_) => close::IDLE,
            };
            e.state.bits |= state::FINISHED;
            let hs = http.lookup_and_delete(&key)?;
            crate::conn::finish(&key, &e.state, hs.as_ref(), now, &mut |ev| events.push(ev));
            self.timerless.conns_ended += 1;
            self.timerless.http_deleted += u64::from(hs.is_some());
        }
        self.timerless.pending = pending;
        if !pending {
            self.timerless.refused_seen = refused;
        }
        Ok(events)
    }
}

/// A map of the object as its typed view, read-only.
fn typed_map_ref<'a, T>(ebpf: &'a Ebpf, name: &'static str) -> Result<T, LiveError>
where
    T: TryFrom<&'a Map, Error = MapError>,
{
    ebpf.map(name)
        .ok_or(LiveError::Map {
            map: name,
            source: MapError::InvalidName { name: name.into() },
        })?
        .try_into()
        .map_err(map_err(name))
}

/// A map of the object as its typed view.
fn typed_map<'a, T>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<T, LiveError>
where
    T: TryFrom<&'a mut Map, Error = MapError>,
{
    ebpf.map_mut(name)
        .ok_or(LiveError::Map {
            map: name,
            source: MapError::InvalidName { name: name.into() },
        })?
        .try_into()
        .map_err(map_err(name))
}

/// Whether the device merges received packets before the packet taps (GRO, hardware GRO,
/// LRO), so that XDP would see other packets than libpcap does.
fn merges_received_packets(dev: &str) -> bool {
    match ethtool::Features::of_device(dev) {
        Ok(f) => f.on("rx-gro") || f.on("rx-gro-hw") || f.on("rx-lro"),
        Err(_) => false,
    }
}

/// TCX where the kernel has it (links die with the process), clsact otherwise.
fn attach_tc(
    tc: &mut SchedClassifier,
    iface: &str,
    dir: TcAttachType,
) -> Result<(String, SchedClassifierLinkId), String> {
    let side = if dir == TcAttachType::Ingress {
        "ingress"
    } else {
        "egress"
    };
    match tc.attach_with_options(iface, dir, TcAttachOptions::TcxOrder(Default::default())) {
        Ok(id) => Ok((format!("tcx {side}"), id)),
        Err(tcx) => {
            // Pre-6.6 kernels: a clsact qdisc and a direct-action filter.
            let _ = tc::qdisc_add_clsact(iface);
            tc.attach_with_options(iface, dir, TcAttachOptions::Netlink(NlOptions::default()))
                .map(|id| (format!("clsact {side}"), id))
                .map_err(|nl| format!("TCX: {tcx}; clsact: {nl}"))
        }
    }
}

/// The two program types `ensure_loaded` loads.
trait LoadableClassifier {
    fn is_loaded(&self) -> bool;
    fn load_it(&mut self) -> Result<(), ProgramError>;
    fn verified(&self) -> Option<u32>;
}

impl LoadableClassifier for SchedClassifier {
    fn is_loaded(&self) -> bool {
        self.fd().is_ok()
    }
    fn load_it(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
    fn verified(&self) -> Option<u32> {
        self.info()
            .ok()
            .and_then(|i| i.verified_instruction_count())
    }
}

impl LoadableClassifier for Xdp {
    fn is_loaded(&self) -> bool {
        self.fd().is_ok()
    }
    fn load_it(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
    fn verified(&self) -> Option<u32> {
        self.info()
            .ok()
            .and_then(|i| i.verified_instruction_count())
    }
}

/// One link of the capture, to detach it when its interface goes.
enum LinkHandle {
    Xdp(XdpLinkId),
    Tc(&'static str, SchedClassifierLinkId),
}

/// Which hooks every captured interface gets.
#[derive(Copy, Clone, Debug, Default)]
struct Hooks {
    ingress: bool,
    egress: bool,
    analytics: bool,
}

fn map_err(map: &'static str) -> impl Fn(MapError) -> LiveError {
    move |source| LiveError::Map { map, source }
}

/// Fills CONFIG and FILTER and creates one ring per possible CPU in RINGS.
fn setup_maps(ebpf: &mut Ebpf, opts: &LiveOptions) -> Result<Vec<RingBuf<MapData>>, LiveError> {
    let nr_cpus = aya::util::nr_cpus().map_err(|(_, e)| LiveError::Rings(e))? as u32;
    let nr_rings = nr_cpus.clamp(1, MAX_RINGS);
    if opts.filter.len() > MAX_FILTER_INSNS as usize {
        return Err(LiveError::Map {
            map: "FILTER",
            source: MapError::OutOfBounds {
                index: opts.filter.len() as u32,
                max_entries: MAX_FILTER_INSNS,
            },
        });
    }

    let mut filter: Array<&mut MapData, FilterInsn> = typed_map(ebpf, "FILTER")?;
    for (i, insn) in opts.filter.iter().enumerate() {
        filter.set(i as u32, insn, 0).map_err(map_err("FILTER"))?;
    }

    let ring_bytes = ring_size(opts.ring_bytes);
    let mut rings = Vec::with_capacity(nr_rings as usize);
    {
        let mut outer: ArrayOfMaps<&mut MapData, MapData> = typed_map(ebpf, "RINGS")?;
        for cpu in 0..nr_rings {
            let obj = aya_obj::Map::new_from_params(
                aya_obj::generated::bpf_map_type::BPF_MAP_TYPE_RINGBUF as u32,
                0,
                0,
                ring_bytes,
                0,
            );
            let data = MapData::create(obj, &format!("tracer_ring{cpu}"), None)
                .map_err(map_err("RINGS"))?;
            outer.set(cpu, &data, 0).map_err(map_err("RINGS"))?;
            let ring = RingBuf::try_from(Map::RingBuf(data)).map_err(map_err("RINGS"))?;
            rings.push(ring);
        }
    }

    if !opts.software_tx.is_empty() {
        let mut software_tx: HashMap<&mut MapData, u32, u8> = typed_map(ebpf, "SOFTWARE_TX")?;
        for &(ifindex, flags) in opts
            .software_tx
            .iter()
            .take(tracer_common::MAX_SOFTWARE_TX_INTERFACES as usize)
        {
            software_tx
                .insert(ifindex, flags, 0)
                .map_err(map_err("SOFTWARE_TX"))?;
        }
    }

    let mut config: Array<&mut MapData, Config> = typed_map(ebpf, "CONFIG")?;
    let mut flags = 0;
    if opts.packets {
        flags |= config_flag::PACKETS;
    }
    let (mut idle, mut linger) = (0, 0);
    if let Some(a) = &opts.analytics {
        flags |= config_flag::CONNS;
        if a.http {
            flags |= config_flag::HTTP;
        }
        if a.refuse_timers {
            flags |= config_flag::REFUSE_TIMERS;
        }
        (idle, linger) = (a.idle_ns, a.linger_ns);
    }
    let cfg = Config {
        snaplen: opts.snaplen.min(tracer_common::MAX_CAPTURE),
        filter_len: opts.filter.len() as u32,
        nr_rings,
        flags,
        // Wake the reader early only when a ring is an eighth full; otherwise it finds the
        // records on its next poll (POLL_INTERVAL).
        wakeup_bytes: (ring_bytes / 8) as u64,
        conn_idle_ns: idle,
        conn_linger_ns: linger,
    };
    config.set(0, cfg, 0).map_err(map_err("CONFIG"))?;
    Ok(rings)
}

/// Forwards aya-log records from the kernel programs to stderr, for the program's life.
fn spawn_kernel_log_reader(logger: aya_log::EbpfLogger<&'static dyn log::Log>) {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, r: &log::Record) {
            eprintln!("tracer: kernel: {}", r.args());
        }
        fn flush(&self) {}
    }
    static STDERR: Stderr = Stderr;
    let _ = log::set_logger(&STDERR);
    log::set_max_level(log::LevelFilter::Warn);
    tokio::spawn(async move {
        // SAFETY: the logger owns its ring fd and is moved into the AsyncFd, which it outlives never.
        let registered = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(logger, tokio::io::Interest::READABLE)
        };
        let Ok(mut fd) = registered else {
            return;
        };
        loop {
            let Ok(mut guard) = fd.readable_mut().await else {
                return;
            };
            guard.get_inner_mut().flush();
            guard.clear_ready();
        }
    });
}
