//! Kernel side of tracer: an XDP program (ingress) and a TC classifier (egress, or ingress
//! where XDP cannot attach) that parse Ethernet/802.1Q, IPv4/IPv6 and TCP, decide the user's
//! filter, and push `PacketRecordHeader` + frame bytes into a per-CPU ring buffer.
//!
//! Every packet the filter accepts is either delivered or counted as lost in `COUNTERS`.
//! Programs never change a packet's fate: XDP returns XDP_PASS, TC returns TC_ACT_UNSPEC
//! (TCX_NEXT), so programs attached after ours still run.
#![no_std]
#![no_main]
// Atomic exchange for the flow table's locks: the target has no `compare_exchange`, and the
// bitcode of a cmpxchg is one bpf-linker's LLVM cannot read.
#![feature(core_intrinsics)]
#![allow(internal_features)]

mod conn;
mod sock;

use core::ffi::c_void;

use aya_ebpf::{
    bindings::xdp_action,
    btf_maps::{Array, ArrayOfMaps, HashMap, PerCpuArray, ProgramArray, RingBuf},
    helpers::generated::{
        bpf_get_smp_processor_id, bpf_ktime_get_ns, bpf_loop, bpf_ringbuf_query,
        bpf_skb_load_bytes, bpf_skb_load_bytes_relative, bpf_xdp_get_buff_len, bpf_xdp_load_bytes,
    },
    macros::{btf_map, classifier, xdp},
    programs::{TcContext, XdpContext},
};
use aya_log_ebpf::warn;
use tracer_common::{
    config_flag,
    conn::{PendingRequest, Segment, HTTP_HEAD_MAX},
    counter, direction, extract_fields_with,
    fields::{bit, ipv6_ext_step, walk, Ipv6Walk, Ipv6Walker, PacketBytes, MAX_IPV6_EXT_HEADERS},
    filter::{eval_insn, next_pc, ACCEPT, MAX_FILTER_INSNS, REJECT},
    software_tx, Config, FilterInsn, PacketFields, PacketRecordHeader, MAX_RINGS,
    MAX_SOFTWARE_TX_INTERFACES, RECORD_FLAG_SYNTHETIC_ETHERNET, RECORD_FLAG_VLAN_OFFLOADED,
    RECORD_VERSION,
};

/// Settings written by the loader before attaching.
#[btf_map]
pub(crate) static CONFIG: Array<Config, 1> = Array::new();

/// The compiled filter (`Config::filter_len` valid entries).
#[btf_map]
static FILTER: Array<FilterInsn, { MAX_FILTER_INSNS as usize }> = Array::new();

/// Interfaces (by index) where the kernel splits GSO packets or completes checksums after the
/// egress hook (`tracer_common::software_tx` flags): the affected packets are captured whole,
/// whatever the snaplen, so userspace can do the same before cutting them to the snaplen.
#[btf_map]
static SOFTWARE_TX: HashMap<u32, u8, { MAX_SOFTWARE_TX_INTERFACES as usize }> = HashMap::new();

/// Per-CPU counters, indexed by `tracer_common::counter::*`.
#[btf_map]
static COUNTERS: PerCpuArray<u64, { counter::COUNT as usize }> = PerCpuArray::new();

/// One ring buffer per CPU, created and inserted by the loader at the size it chose (`-B`);
/// the inner definition here is only the template the kernel checks them against.
#[btf_map]
pub(crate) static RINGS: ArrayOfMaps<RingBuf<u8, 4096>, { MAX_RINGS as usize }> =
    ArrayOfMaps::new();

const TC_ACT_UNSPEC: i32 = -1;
const HEADER_LEN: usize = core::mem::size_of::<PacketRecordHeader>();

#[inline(always)]
pub(crate) fn count(idx: u32) {
    count_n(idx, 1);
}

#[inline(always)]
pub(crate) fn count_n(idx: u32, n: u64) {
    if let Some(c) = COUNTERS.get_ptr_mut(idx) {
        // SAFETY: per-CPU slot, only this CPU writes it while the program runs.
        unsafe { *c += n };
    }
}

/// Frame bytes copied up front for parsing: enough for Ethernet + two VLAN tags + IPv6 +
/// common extension headers + TCP. Reads past it go through the load helpers.
const WINDOW: usize = 256;

/// Bytes past WINDOW in the parse buffer: a masked offset may read this far beyond it.
const WINDOW_SLACK: usize = 96;

/// Per-CPU parse buffer.
#[repr(C)]
pub struct Window {
    bytes: [u8; WINDOW + WINDOW_SLACK],
}

#[btf_map]
pub(crate) static SCRATCH: PerCpuArray<Window, 1> = PerCpuArray::new();

/// Reads of one frame, from the copied window only: headers past the first WINDOW bytes are
/// not parsed in the kernel (such a packet is not recognised as TCP).
pub(crate) struct FrameBytes<'a> {
    window: &'a Window,
    /// Bytes of the window that hold frame data.
    copied: usize,
}

impl FrameBytes<'_> {
    /// `tracer_common::conn::copy_request` for the window: one fixed-size copy from the
    /// payload's start (a masked offset), of which `raw_len` bytes count.
    #[inline(always)]
    pub(crate) fn copy_request(&self, s: &Segment, raw_len: u8, p: &mut PendingRequest) {
        let off = s.payload_off as usize & (WINDOW - 1);
        // SAFETY: off + HTTP_HEAD_MAX <= WINDOW - 1 + WINDOW_SLACK: inside the window.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.window.bytes.as_ptr().add(off),
                p.raw.as_mut_ptr(),
                HTTP_HEAD_MAX,
            )
        };
        p.raw_len = raw_len;
    }
}

const _: () = assert!(HTTP_HEAD_MAX <= WINDOW_SLACK);

impl PacketBytes for FrameBytes<'_> {
    #[inline(always)]
    fn available(&self) -> usize {
        self.copied
    }

    #[inline(always)]
    fn u8_at(&self, off: usize) -> Option<u8> {
        if off >= self.copied {
            return None;
        }
        Some(self.window.bytes[off & (WINDOW - 1)])
    }

    #[inline(always)]
    fn be16_at(&self, off: usize) -> Option<u16> {
        if off + 2 > self.copied {
            return None;
        }
        let i = off & (WINDOW - 1);
        Some(u16::from_be_bytes([
            self.window.bytes[i],
            self.window.bytes[i + 1],
        ]))
    }

    /// Without a branch per byte: whole words from the masked offset (inside the slack);
    /// the caller keeps only the bytes below `available()`.
    #[inline(always)]
    fn be_words<const W: usize>(&self, off: usize) -> [u64; W] {
        let i = off & (WINDOW - 1);
        let mut w = [0u64; W];
        let mut k = 0;
        while k < W {
            let mut b = [0u8; 8];
            let mut j = 0;
            while j < 8 {
                b[j] = self.window.bytes[i + 8 * k + j];
                j += 1;
            }
            w[k] = u64::from_be_bytes(b);
            k += 1;
        }
        w
    }

    #[inline(always)]
    fn bytes_at<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        if off + N > self.copied {
            return None;
        }
        let i = off & (WINDOW - 1);
        let mut out = [0u8; N];
        let mut k = 0;
        while k < N {
            out[k] = self.window.bytes[i + k];
            k += 1;
        }
        Some(out)
    }
}

/// Context of the IPv6 extension-header walk run by `bpf_loop`.
#[repr(C)]
struct WalkRun {
    walk: Ipv6Walk,
    copied: u32,
}

/// One step of the walk (shared with userspace: `ipv6_ext_step`). Returns 1 to stop.
unsafe extern "C" fn ipv6_walk_step(_index: u32, ctx: *mut c_void) -> i64 {
    // SAFETY: bpf_loop hands back the pointer we gave it: a WalkRun on our stack.
    let run = unsafe { &mut *(ctx as *mut WalkRun) };
    let Some(window) = SCRATCH.get(0) else {
        run.walk.state = walk::OTHER;
        return 1;
    };
    let frame = FrameBytes {
        window,
        copied: run.copied as usize,
    };
    if ipv6_ext_step(&frame, &mut run.walk) {
        0
    } else {
        1
    }
}

/// Runs the IPv6 extension-header walk with `bpf_loop`, so the verifier checks one step
/// instead of every path through an unrolled chain.
struct BpfLoopWalker {
    copied: u32,
}

impl Ipv6Walker for BpfLoopWalker {
    #[inline(always)]
    fn walk<P: PacketBytes + ?Sized>(&self, _pkt: &P, w: &mut Ipv6Walk) {
        let mut run = WalkRun {
            walk: *w,
            copied: self.copied,
        };
        // SAFETY: the callback only touches `run` through the pointer, within this call.
        unsafe {
            bpf_loop(
                MAX_IPV6_EXT_HEADERS + 1,
                ipv6_walk_step as *mut c_void,
                &mut run as *mut WalkRun as *mut c_void,
                0,
            )
        };
        *w = run.walk;
        if w.state == walk::WALKING {
            w.state = walk::OTHER;
        }
    }
}

/// State of one filter run, shared with the `bpf_loop` callback through its context pointer.
#[repr(C)]
struct FilterRun {
    fields: PacketFields,
    pc: u32,
    verdict: u32,
}

/// One step of the filter: evaluate instruction `pc`, follow its jump. Returns 1 to stop.
unsafe extern "C" fn filter_step(_index: u32, ctx: *mut c_void) -> i64 {
    // SAFETY: bpf_loop hands back the pointer we gave it: a FilterRun on our stack.
    let run = unsafe { &mut *(ctx as *mut FilterRun) };
    let Some(insn) = FILTER.get(run.pc) else {
        run.verdict = REJECT as u32;
        return 1;
    };
    let next = match eval_insn(insn, &run.fields) {
        Ok(r) => next_pc(insn, r),
        Err(_) => REJECT,
    };
    if next == ACCEPT || next == REJECT {
        run.verdict = next as u32;
        return 1;
    }
    if next as u32 <= run.pc {
        // Jumps only go forward; anything else is a loader bug.
        run.verdict = REJECT as u32;
        return 1;
    }
    run.pc = next as u32;
    0
}

#[inline(always)]
pub(crate) fn filter_accepts(fields: &PacketFields, filter_len: u32) -> bool {
    if filter_len == 0 {
        return true;
    }
    let mut run = FilterRun {
        fields: *fields,
        pc: 0,
        verdict: REJECT as u32,
    };
    let n = if filter_len > MAX_FILTER_INSNS {
        MAX_FILTER_INSNS
    } else {
        filter_len
    };
    // SAFETY: the callback only touches `run` through the pointer, within this call.
    unsafe {
        bpf_loop(
            n,
            filter_step as *mut c_void,
            &mut run as *mut FilterRun as *mut c_void,
            0,
        )
    };
    run.verdict == ACCEPT as u32
}

/// Where the frame bytes of a record come from.
trait FrameSource {
    /// Copies frame bytes `[0, len)` to `dst`. `len` is in `[1, MAX]` (see `bounded_len`);
    /// `dst` has room for `MAX + SLACK` bytes.
    fn copy<const MAX: usize>(&self, dst: *mut u8, len: u32) -> i64;
    /// Reports a CPU without a ring (a loader bug: it creates one per possible CPU).
    fn warn_no_ring(&self, cpu: u32);
    /// The hook sees received frames before the kernel moves their VLAN tag to metadata.
    fn tag_untagged_before_taps(&self) -> bool {
        false
    }
    /// Tail-calls the tracker program for this hook type (returns only if that fails).
    fn enter_tracker(&self);
}

struct Xdp<'a>(&'a XdpContext);
/// Where a TC context's frame bytes start.
#[derive(Clone, Copy, PartialEq)]
enum TcFrame {
    /// At the data pointer: the Ethernet header is there.
    AtData,
    /// The data starts past the Ethernet header (see `mac_shift`): it is read from the MAC
    /// header.
    MacShifted,
    /// A layer-3 device: no link header at all. A zero-address Ethernet header with this
    /// ethertype (network order) is put in front (`RECORD_FLAG_SYNTHETIC_ETHERNET`).
    Synthetic(u16),
}

/// A TC context and where its frame starts.
struct Tc<'a> {
    ctx: &'a TcContext,
    frame: TcFrame,
}

impl FrameSource for Xdp<'_> {
    #[inline(always)]
    fn copy<const MAX: usize>(&self, dst: *mut u8, len: u32) -> i64 {
        let len = bounded_len::<MAX>(len);
        // SAFETY: dst has room for MAX bytes and len <= MAX.
        unsafe { bpf_xdp_load_bytes(self.0.ctx, 0, dst as *mut c_void, len) }
    }

    fn warn_no_ring(&self, cpu: u32) {
        warn!(self.0, "no ring buffer for cpu {}: record lost", cpu);
    }

    fn tag_untagged_before_taps(&self) -> bool {
        true
    }

    fn enter_tracker(&self) {
        // SAFETY: a tail call with our own context.
        unsafe { XDP_TRACKER.tail_call(self.0, 0) };
    }
}

impl FrameSource for Tc<'_> {
    #[inline(always)]
    fn copy<const MAX: usize>(&self, dst: *mut u8, len: u32) -> i64 {
        let skb = self.ctx.skb.skb as *mut c_void;
        match self.frame {
            TcFrame::AtData => {
                let len = bounded_len::<MAX>(len);
                // SAFETY: dst has room for MAX bytes and len <= MAX.
                return unsafe { bpf_skb_load_bytes(skb, 0, dst as *mut c_void, len) };
            }
            TcFrame::Synthetic(ethertype_be) => {
                // Word stores, not a byte loop (which LLVM would turn into a memset call).
                // SAFETY: dst has room for MAX + SLACK >= 16 bytes.
                unsafe {
                    core::ptr::write_unaligned(dst as *mut u64, 0);
                    core::ptr::write_unaligned(dst.add(8) as *mut u32, 0);
                    core::ptr::write_unaligned(dst.add(12) as *mut u16, ethertype_be);
                }
                if len <= ETH_HLEN {
                    return 0;
                }
                let rest = bounded_len::<MAX>(len - ETH_HLEN);
                // SAFETY: dst + 14 has room for MAX + SLACK - 14 >= MAX bytes and rest <= MAX.
                return unsafe {
                    bpf_skb_load_bytes(skb, 0, dst.add(ETH_HLEN as usize) as *mut c_void, rest)
                };
            }
            TcFrame::MacShifted => {}
        }
        // The Ethernet header from the MAC header, the rest from the data pointer.
        let mac = if len < ETH_HLEN { len } else { ETH_HLEN };
        let mac = bounded_len::<16>(mac);
        // SAFETY: dst has room for MAX + SLACK >= 16 bytes and mac <= 16.
        let r = unsafe {
            bpf_skb_load_bytes_relative(skb, 0, dst as *mut c_void, mac, BPF_HDR_START_MAC)
        };
        if r < 0 || len <= ETH_HLEN {
            return r;
        }
        let rest = bounded_len::<MAX>(len - ETH_HLEN);
        // SAFETY: dst + 14 has room for MAX + SLACK - 14 >= MAX bytes and rest <= MAX.
        unsafe { bpf_skb_load_bytes(skb, 0, dst.add(ETH_HLEN as usize) as *mut c_void, rest) }
    }

    fn warn_no_ring(&self, cpu: u32) {
        warn!(self.ctx, "no ring buffer for cpu {}: record lost", cpu);
    }

    fn enter_tracker(&self) {
        // SAFETY: a tail call with our own context.
        unsafe { TC_TRACKER.tail_call(self.ctx, 0) };
    }
}

const ETH_HLEN: u32 = 14;
const BPF_HDR_START_MAC: u32 = 0;
/// Extra room past MAX in every buffer a `FrameSource` copies into.
const SLACK: usize = 16;

/// At TC ingress the kernel pushes the MAC header back before running the program, by
/// `skb->mac_len`; after generic XDP copied the skb (e.g. on `lo`), `mac_len` can be 0 and
/// the data then starts at the network header. Detect that from the first bytes against
/// `skb->protocol`.
#[inline(always)]
fn mac_shift(ctx: &TcContext) -> bool {
    let skb = ctx.skb.skb;
    // Not zeroed: the helper writes it (a zeroed array costs a memset call, a byte loop in
    // BPF, on every packet).
    let mut b = core::mem::MaybeUninit::<[u8; 16]>::uninit();
    // SAFETY: helper call into a 16-byte stack buffer.
    if unsafe { bpf_skb_load_bytes(skb as *const c_void, 0, b.as_mut_ptr() as *mut c_void, 14) } < 0
    {
        return false;
    }
    // SAFETY: the helper succeeded: the first 14 bytes are written, and only they are read.
    let b = unsafe { b.assume_init() };
    // SAFETY: reading a field of our own context.
    let proto = u16::from_be(unsafe { (*skb).protocol } as u16);
    let ethertype = u16::from_be_bytes([b[12], b[13]]);
    if ethertype == proto || ethertype == 0x8100 || ethertype == 0x88a8 {
        return false;
    }
    let version = b[0] >> 4;
    (proto == 0x0800 && version == 4) || (proto == 0x86dd && version == 6)
}

/// `len` (known to be in `[1, MAX]`, MAX a power of two) in a form the verifier can see is in
/// `[1, MAX]`, as helper length arguments must be. The mask does it; black_box keeps LLVM
/// from proving the mask redundant and dropping it (or passing an unclamped copy instead).
#[inline(always)]
fn bounded_len<const MAX: usize>(len: u32) -> u32 {
    (core::hint::black_box(len).wrapping_sub(1) & (MAX as u32 - 1)) + 1
}

/// Reserves a `HEADER_LEN + TIER` slot, fills it, submits it. `caplen <= TIER` is checked
/// here again so the verifier sees the bound on the copy length.
#[inline(always)]
fn emit<const TIER: usize, S: FrameSource>(
    ring: &RingBuf<u8, 4096>,
    src: &S,
    hdr: &PacketRecordHeader,
    caplen: u32,
    wakeup_bytes: u64,
) {
    let Some(mut slot) = ring.reserve_bytes(HEADER_LEN + TIER + SLACK, 0) else {
        count(counter::RING_FULL);
        return;
    };
    // SAFETY: the slot is HEADER_LEN + TIER + SLACK bytes; the header goes first.
    unsafe { core::ptr::write_unaligned(slot.as_mut_ptr() as *mut PacketRecordHeader, *hdr) };
    // SAFETY: the frame bytes get TIER + SLACK bytes after the header.
    let dst = unsafe { slot.as_mut_ptr().add(HEADER_LEN) };
    if src.copy::<TIER>(dst, caplen) < 0 {
        slot.discard(0);
        count(counter::COPY_FAILED);
        return;
    }
    slot.submit(wakeup_flags(ring, wakeup_bytes));
    count(counter::SUBMITTED);
}

const BPF_RB_AVAIL_DATA: u64 = 0;
const BPF_RB_NO_WAKEUP: u64 = 1;
const BPF_RB_FORCE_WAKEUP: u64 = 2;

/// Wakeup batching: the reader polls on a short timer anyway, so a record only wakes it
/// once the ring holds `wakeup_bytes` (0: the kernel's default, wake when the reader has
/// caught up).
#[inline(always)]
pub(crate) fn wakeup_flags(ring: &RingBuf<u8, 4096>, wakeup_bytes: u64) -> u64 {
    if wakeup_bytes == 0 {
        return 0;
    }
    // The map pointer is the address of the map definition (what the helpers take).
    let map = ring as *const RingBuf<u8, 4096> as *mut c_void;
    // SAFETY: plain helper call on a ring buffer map.
    if unsafe { bpf_ringbuf_query(map, BPF_RB_AVAIL_DATA) } >= wakeup_bytes {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    }
}

/// Parses the frame head in `window` and decides the filter; counts TCP packets. A BPF
/// subprogram of its own, so its stack frame is gone before the connection tracker (another
/// subprogram) runs: the verifier adds up the frames along a call chain.
#[inline(never)]
fn parse_and_filter(
    window: &Window,
    copied: u32,
    wire_len: u32,
    untag: u32,
    fields: &mut PacketFields,
) -> bool {
    let frame = FrameBytes {
        window,
        copied: copied as usize,
    };
    *fields = extract_fields_with(&frame, wire_len, &BpfLoopWalker { copied });
    if untag != 0 {
        // On receive the kernel moves an 802.1Q tag into metadata before libpcap's filter
        // runs, so live `port 80` matches tagged traffic (in files it needs `vlan`). XDP
        // still sees the tag in the frame: decide as the live capture would. (With two
        // tags, libpcap would still see the inner one; tracer ignores both.)
        fields.bits &= !bit::VLAN_IN_BAND;
    }
    if !fields.has(bit::TCP) {
        return false;
    }
    count(counter::TCP);
    let Some(cfg) = CONFIG.get(0) else {
        return false;
    };
    filter_accepts(fields, cfg.filter_len)
}

/// The common path: copy the head of the frame, parse, filter; then count the packet into its
/// connection and/or reserve a record and copy the frame. `segs`: the wire segments the packet
/// becomes (a GSO packet the kernel splits after the egress hook).
#[inline(always)]
fn capture<S: FrameSource>(src: &S, hdr: PacketRecordHeader, whole: bool, segs: u32) {
    count(counter::SEEN);
    let Some(window) = SCRATCH.get_ptr_mut(0) else {
        return;
    };
    let mut copied = hdr.wire_len;
    if copied > WINDOW as u32 {
        copied = WINDOW as u32;
    }
    if copied == 0 {
        return;
    }
    // SAFETY: the window buffer is WINDOW + WINDOW_SLACK bytes (>= WINDOW + SLACK).
    if src.copy::<WINDOW>(unsafe { (*window).bytes.as_mut_ptr() }, copied) < 0 {
        return;
    }
    let mut fields = PacketFields::EMPTY;
    // SAFETY: per-CPU map value, valid for the program run.
    let window = unsafe { &*window };
    let untag = src.tag_untagged_before_taps() as u32;
    if !parse_and_filter(window, copied, hdr.wire_len, untag, &mut fields) {
        return;
    }
    let Some(cfg) = CONFIG.get(0) else {
        return;
    };
    let frame = FrameBytes {
        window,
        copied: copied as usize,
    };
    count(counter::MATCHED);
    // SAFETY: plain helper call.
    let now = unsafe { bpf_ktime_get_ns() };
    let (flags, ifindex) = (cfg.flags, hdr.ifindex);
    if flags & config_flag::PACKETS != 0 {
        emit_packet(src, hdr, cfg, whole, now);
    }
    if flags & config_flag::CONNS != 0 {
        // The tracker is a program of its own, entered by a tail call: the verifier checks it
        // once, not once per state this path can reach it in. It finds the frame head in
        // SCRATCH and the rest in TRACK_ARGS (both per CPU; nothing runs in between).
        let Some(args) = TRACK_ARGS.get_ptr_mut(0) else {
            return;
        };
        // SAFETY: per-CPU map value, valid for this run.
        unsafe {
            (*args).fields = fields;
            (*args).copied = frame.copied as u32;
            (*args).ifindex = ifindex;
            (*args).segs = segs;
            (*args).now = now;
        }
        src.enter_tracker();
        // Only back here if the tail call failed.
        count(counter::TRACKER_UNREACHABLE);
    }
}

/// What the packet path hands the tracker program.
#[repr(C)]
pub(crate) struct TrackArgs {
    pub fields: PacketFields,
    pub copied: u32,
    pub ifindex: u32,
    pub segs: u32,
    pub _pad: u32,
    pub now: u64,
}

#[btf_map]
pub(crate) static TRACK_ARGS: PerCpuArray<TrackArgs, 1> = PerCpuArray::new();

/// The tracker programs, one array per program type (a program array holds programs of one
/// type): slot 0 of each.
#[btf_map]
static XDP_TRACKER: ProgramArray<1> = ProgramArray::new();
#[btf_map]
static TC_TRACKER: ProgramArray<1> = ProgramArray::new();

/// Tail call target: the connection tracker for XDP.
#[xdp(frags)]
pub fn tracer_xdp_conns(_ctx: XdpContext) -> u32 {
    conn::track_from_args();
    xdp_action::XDP_PASS
}

/// Tail call target: the connection tracker for TC.
#[classifier]
pub fn tracer_tc_conns(_ctx: TcContext) -> i32 {
    conn::track_from_args();
    TC_ACT_UNSPEC
}

/// Reserves a record for the packet in this CPU's ring and copies the frame into it.
#[inline(always)]
fn emit_packet<S: FrameSource>(
    src: &S,
    mut hdr: PacketRecordHeader,
    cfg: &Config,
    whole: bool,
    now: u64,
) {
    let mut caplen = hdr.wire_len;
    if caplen > cfg.snaplen && !whole {
        caplen = cfg.snaplen;
    }
    if caplen > tracer_common::MAX_CAPTURE {
        caplen = tracer_common::MAX_CAPTURE;
        count(counter::CUT_TO_MAX);
    }
    if caplen == 0 {
        // A snaplen of 0 never reaches the kernel (userspace maps it to 262144).
        return;
    }
    hdr.cap_len = caplen;
    hdr.timestamp_ns = now;

    // SAFETY: plain helper call.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    let nr = if cfg.nr_rings == 0 { 1 } else { cfg.nr_rings };
    let Some(ring) = RINGS.get(cpu % nr) else {
        count(counter::NO_RING);
        src.warn_no_ring(cpu);
        return;
    };
    let wakeup = cfg.wakeup_bytes;
    // The verifier needs a constant reservation size: pick the smallest tier that fits.
    if caplen <= 128 {
        emit::<128, S>(ring, src, &hdr, caplen, wakeup)
    } else if caplen <= 256 {
        emit::<256, S>(ring, src, &hdr, caplen, wakeup)
    } else if caplen <= 512 {
        emit::<512, S>(ring, src, &hdr, caplen, wakeup)
    } else if caplen <= 1024 {
        emit::<1024, S>(ring, src, &hdr, caplen, wakeup)
    } else if caplen <= 2048 {
        emit::<2048, S>(ring, src, &hdr, caplen, wakeup)
    } else if caplen <= 4096 {
        emit::<4096, S>(ring, src, &hdr, caplen, wakeup)
    } else {
        emit::<65536, S>(ring, src, &hdr, caplen, wakeup)
    }
}

#[inline(always)]
fn new_header(ifindex: u32, wire_len: u32, dir: u8) -> PacketRecordHeader {
    PacketRecordHeader {
        kind: tracer_common::kind::PACKET,
        version: RECORD_VERSION,
        ifindex,
        // Stamped in `capture` once the filter accepts (no clock read for the rest).
        timestamp_ns: 0,
        wire_len,
        cap_len: 0,
        direction: dir,
        flags: 0,
        vlan_tci: 0,
        vlan_proto: 0,
        gso_size: 0,
    }
}

/// Ingress: every received frame, before the stack sees it (generic mode on `lo`).
#[xdp(frags)]
pub fn tracer_xdp(ctx: XdpContext) -> u32 {
    // SAFETY: plain helper call on our context.
    let wire_len = unsafe { bpf_xdp_get_buff_len(ctx.ctx) } as u32;
    // SAFETY: reading the context's ingress_ifindex field.
    let ifindex = unsafe { (*ctx.ctx).ingress_ifindex };
    let hdr = new_header(ifindex, wire_len, direction::IN);
    capture(&Xdp(&ctx), hdr, false, 1);
    xdp_action::XDP_PASS
}

/// `l3`: the interface has no link-layer header (a constant at every call site).
#[inline(always)]
fn tc_capture(ctx: &TcContext, dir: u8, l3: bool) {
    let skb = ctx.skb.skb;
    // SAFETY: reading fields of our own __sk_buff context.
    let (len, ifindex, vlan_present, vlan_tci, vlan_proto) = unsafe {
        (
            (*skb).len,
            (*skb).ifindex,
            (*skb).vlan_present,
            (*skb).vlan_tci,
            (*skb).vlan_proto,
        )
    };
    let frame = if l3 {
        // SAFETY: reading a field of our own context.
        TcFrame::Synthetic(unsafe { (*skb).protocol } as u16)
    } else if dir == direction::IN && mac_shift(ctx) {
        TcFrame::MacShifted
    } else {
        TcFrame::AtData
    };
    let wire_len = if frame == TcFrame::AtData {
        len
    } else {
        len + ETH_HLEN
    };
    let mut hdr = new_header(ifindex, wire_len, dir);
    if l3 {
        hdr.flags |= RECORD_FLAG_SYNTHETIC_ETHERNET;
    }
    if vlan_present != 0 {
        hdr.flags |= RECORD_FLAG_VLAN_OFFLOADED;
        hdr.vlan_tci = vlan_tci as u16;
        hdr.vlan_proto = u16::from_be(vlan_proto as u16);
    }
    // SAFETY: reading fields of our own context.
    let (gso_size, gso_segs) = unsafe { ((*skb).gso_size, (*skb).gso_segs) };
    let mut whole = false;
    let mut segs = 1;
    if dir == direction::OUT {
        hdr.gso_size = gso_size as u16;
        if let Some(flags) = SOFTWARE_TX.get_ptr(ifindex) {
            // SAFETY: a map value pointer, valid for this run.
            let flags = unsafe { *flags };
            let split = gso_size != 0 && flags & software_tx::SEGMENTS != 0;
            whole = flags & software_tx::CHECKSUMS != 0 || split;
            if split && gso_segs > 1 {
                segs = gso_segs;
            }
        }
    }
    capture(&Tc { ctx, frame }, hdr, whole, segs);
}

/// Egress: every frame the interface sends (TCX link, clsact as a fallback).
#[classifier]
pub fn tracer_tc_egress(ctx: TcContext) -> i32 {
    tc_capture(&ctx, direction::OUT, false);
    TC_ACT_UNSPEC
}

/// Egress of a layer-3 interface (tun): packets start at the IP header.
#[classifier]
pub fn tracer_tc_egress_l3(ctx: TcContext) -> i32 {
    tc_capture(&ctx, direction::OUT, true);
    TC_ACT_UNSPEC
}

/// Ingress of a layer-3 interface (tun): packets start at the IP header.
#[classifier]
pub fn tracer_tc_ingress_l3(ctx: TcContext) -> i32 {
    tc_capture(&ctx, direction::IN, true);
    TC_ACT_UNSPEC
}

/// Ingress through TC, for interfaces where XDP cannot attach (another XDP program owns it).
#[classifier]
pub fn tracer_tc_ingress(ctx: TcContext) -> i32 {
    tc_capture(&ctx, direction::IN, false);
    TC_ACT_UNSPEC
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";
