//! Reading pcap and pcapng files: one reused buffer, large reads, packets lent out of it.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::Path;

use super::error::PcapError;
use super::format::{linktype_name, Format, MAX_SNAPLEN};
use crate::packet::{LinkType, Packet, Timestamp};

/// Size of the read buffer, and so of each read: large reads keep the syscall cost per packet
/// negligible.
const BUF_SIZE: usize = 1 << 20;

/// No snaplen lets a record claim more than this: it bounds what a corrupt length can make
/// the reader allocate.
const HARD_MAX_CAPLEN: u32 = 16 << 20;

/// The largest pcapng block the reader loads (a maximal packet plus room for options);
/// unknown blocks of any size are skipped without loading them.
const MAX_BLOCK: u32 = HARD_MAX_CAPLEN + (1 << 20);

const PCAP_HEADER_LEN: usize = 24;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Reads every packet of a pcap or pcapng file.
///
/// [`next_packet`](Self::next_packet) lends each packet out of the reader's buffer, so a read
/// loop allocates nothing. After the last readable packet it returns at most one error, then
/// `None` forever.
pub struct PcapReader {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// `buf[start..end]` holds read bytes not consumed yet.
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    eof: bool,
    /// Multi-byte fields are big-endian (pcap header or current pcapng section).
    be: bool,
    format: Format,
    /// Classic pcap only: the one link type and record layout.
    classic: Classic,
    /// pcapng only: the interfaces of the current section, by id.
    ifaces: Vec<Iface>,
    /// Snaplen and link type of the file (first interface), for callers that write what they
    /// read.
    snaplen: u32,
    linktype: Option<u32>,
    packets: u64,
    /// An error met while looking ahead in `from_reader`, reported by the first `next_packet`.
    pending: Option<PcapError>,
    done: bool,
}

#[derive(Copy, Clone)]
struct Classic {
    link: Result<LinkType, u32>,
    nanos: bool,
    /// 16, or 24 for the modified (Kuznetsov) format.
    record_len: usize,
    max_caplen: u32,
}

#[derive(Copy, Clone)]
struct Iface {
    link: Result<LinkType, u32>,
    snaplen: u32,
    max_caplen: u32,
    res: Resolution,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset: i64,
}

/// `if_tsresol`: units of a pcapng timestamp.
#[derive(Copy, Clone)]
enum Resolution {
    Micro,
    Nano,
    /// 10^-p seconds, `div` = 10^p, p <= 19.
    Decimal {
        p: u32,
        div: u64,
    },
    /// 2^-b seconds, b <= 63.
    Binary(u32),
}

impl Resolution {
    fn from_tsresol(v: u8) -> Option<Resolution> {
        let n = u32::from(v & 0x7f);
        Some(if v & 0x80 != 0 {
            if n > 63 {
                return None;
            }
            Resolution::Binary(n)
        } else {
            match n {
                6 => Resolution::Micro,
                9 => Resolution::Nano,
                0..=19 => Resolution::Decimal {
                    p: n,
                    div: 10u64.pow(n),
                },
                _ => return None,
            }
        })
    }

    /// Splits a timestamp in these units into seconds and nanoseconds.
    #[inline]
    fn split(self, t: u64) -> (u64, u32) {
        match self {
            Resolution::Micro => (t / 1_000_000, (t % 1_000_000) as u32 * 1000),
            Resolution::Nano => (t / 1_000_000_000, (t % 1_000_000_000) as u32),
            Resolution::Decimal { p, div } => {
                let frac = t % div;
                let nsec = if p <= 9 {
                    frac * 10u64.pow(9 - p)
                } else {
                    frac / 10u64.pow(p - 9)
                };
                (t / div, nsec as u32)
            }
            Resolution::Binary(b) => {
                let frac = t & ((1u64 << b) - 1);
                (t >> b, ((u128::from(frac) * 1_000_000_000) >> b) as u32)
            }
        }
    }
}

/// Where `next_*` found a packet: everything but the borrow of the buffer.
struct Found {
    ts: Timestamp,
    link: LinkType,
    data: usize,
    caplen: usize,
    wire_len: u32,
}

/// The largest captured length a record may claim under this snaplen: libpcap's 262144, or
/// the snaplen if larger, within a hard bound.
fn max_caplen(snaplen: u32) -> u32 {
    snaplen.clamp(MAX_SNAPLEN, HARD_MAX_CAPLEN)
}

fn seconds(sec: u64, offset: i64) -> i64 {
    i64::try_from(sec)
        .unwrap_or(i64::MAX)
        .saturating_add(offset)
}

fn unsupported(packet: u64, offset: u64, linktype: u32) -> PcapError {
    PcapError::UnsupportedLinkType {
        packet,
        offset,
        linktype,
        name: linktype_name(linktype).map_or("unknown", |n| n.0),
    }
}

fn block_name(btype: u32) -> &'static str {
    match btype {
        SHB => "section header block",
        IDB => "interface description block",
        PB => "packet block",
        SPB => "simple packet block",
        EPB => "enhanced packet block",
        _ => "block",
    }
}

impl PcapReader {
    /// Opens a capture file, or standard input for `-`, and reads its header (for pcapng, up
    /// to the first interface description).
    pub fn open(path: impl AsRef<Path>) -> Result<PcapReader, PcapError> {
        let path = path.as_ref();
        let open_err = |source| PcapError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = if path == Path::new("-") {
            // Our own descriptor for fd 0, so reads bypass std's small stdin buffer.
            File::from(io::stdin().as_fd().try_clone_to_owned().map_err(open_err)?)
        } else {
            File::open(path).map_err(open_err)?
        };
        PcapReader::from_reader(file)
    }

    /// Reads a capture from any byte stream (a pipe, a socket, bytes in memory).
    pub fn from_reader<R: Read + Send + 'static>(src: R) -> Result<PcapReader, PcapError> {
        let mut r = PcapReader {
            src: Box::new(src),
            buf: vec![0; BUF_SIZE],
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
            be: false,
            format: Format::Pcap,
            classic: Classic {
                link: Err(0),
                nanos: false,
                record_len: 16,
                max_caplen: MAX_SNAPLEN,
            },
            ifaces: Vec::new(),
            snaplen: MAX_SNAPLEN,
            linktype: None,
            packets: 0,
            pending: None,
            done: false,
        };
        r.read_header()?;
        Ok(r)
    }

    /// The detected file format (for pcapng files whatever the timestamp resolution).
    pub fn format(&self) -> Format {
        self.format
    }

    /// The snapshot length of the file header or first interface; 262144 where the file says
    /// 0 (pcapng's "no limit").
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// The link type of the file header or first interface, if the tracer supports it; `None`
    /// for another link type or a pcapng file that describes no interface before its first
    /// packet.
    pub fn link_type(&self) -> Option<LinkType> {
        self.linktype
            .and_then(|l| LinkType::from_linktype_in(l, self.be))
    }

    /// The LINKTYPE_* number of the file header or first interface, supported or not.
    pub fn linktype_number(&self) -> Option<u32> {
        self.linktype
    }

    /// How many packets [`next_packet`](Self::next_packet) has returned.
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// The next packet, borrowed from the reader's buffer until the next call; after the last
    /// readable packet at most one `Err`, then `None`.
    #[inline]
    pub fn next_packet(&mut self) -> Option<Result<Packet<'_>, PcapError>> {
        if self.done {
            return None;
        }
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Some(Err(e));
        }
        let found = if self.format == Format::Pcapng {
            self.next_pcapng()
        } else {
            self.next_classic()
        };
        match found {
            Ok(Some(f)) => {
                self.packets += 1;
                Some(Ok(Packet {
                    ts: f.ts,
                    link: f.link,
                    data: &self.buf[f.data..f.data + f.caplen],
                    wire_len: f.wire_len,
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Makes `need` unconsumed bytes available in `buf[start..]`; `Ok(false)` if the input
    /// ends first (what it had stays available).
    #[inline]
    fn fill(&mut self, need: usize) -> Result<bool, PcapError> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        self.fill_slow(need)
    }

    #[cold]
    fn fill_slow(&mut self, need: usize) -> Result<bool, PcapError> {
        if self.start + need > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if need > self.buf.len() {
                // Callers bound `need` (MAX_BLOCK), so this stays a bounded allocation.
                self.buf.resize(need.next_power_of_two(), 0);
            }
        }
        while self.end - self.start < need {
            if self.eof {
                return Ok(false);
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(PcapError::Read {
                        offset: self.pos + (self.end - self.start) as u64,
                        source,
                    })
                }
            }
        }
        Ok(true)
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    fn avail(&self) -> u64 {
        (self.end - self.start) as u64
    }

    #[inline]
    fn u16_at(&self, at: usize) -> u16 {
        let b = [self.buf[at], self.buf[at + 1]];
        if self.be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    #[inline]
    fn u32_at(&self, at: usize) -> u32 {
        let b: [u8; 4] = self.buf[at..at + 4].try_into().unwrap();
        if self.be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn u64_at(&self, at: usize) -> u64 {
        let b: [u8; 8] = self.buf[at..at + 8].try_into().unwrap();
        if self.be {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    }

    fn truncated(&self, what: &'static str, offset: u64, need: u64) -> PcapError {
        PcapError::Truncated {
            what,
            packet: self.packets + 1,
            offset,
            need,
            have: self.pos + self.avail() - offset,
        }
    }

    fn bad_block(&self, offset: u64, reason: String) -> PcapError {
        PcapError::BadBlock {
            packet: self.packets + 1,
            offset,
            reason,
        }
    }

    fn read_header(&mut self) -> Result<(), PcapError> {
        if !self.fill(4)? {
            if self.end == self.start {
                return Err(PcapError::Empty);
            }
            return Err(PcapError::TruncatedHeader {
                format: "capture",
                have: self.avail(),
                need: 4,
            });
        }
        let magic: [u8; 4] = self.buf[0..4].try_into().unwrap();
        if u32::from_le_bytes(magic) == SHB {
            return self.read_pcapng_header();
        }
        let (be, nanos, record_len) = match u32::from_le_bytes(magic) {
            0xa1b2_c3d4 => (false, false, 16),
            0xd4c3_b2a1 => (true, false, 16),
            0xa1b2_3c4d => (false, true, 16),
            0x4d3c_b2a1 => (true, true, 16),
            0xa1b2_cd34 => (false, false, 24),
            0x34cd_b2a1 => (true, false, 24),
            _ => {
                return Err(PcapError::BadMagic {
                    magic: u32::from_be_bytes(magic),
                })
            }
        };
        self.be = be;
        if !self.fill(PCAP_HEADER_LEN)? {
            return Err(PcapError::TruncatedHeader {
                format: "pcap",
                have: self.avail(),
                need: PCAP_HEADER_LEN as u64,
            });
        }
        let (major, minor) = (self.u16_at(4), self.u16_at(6));
        if major != 2 {
            return Err(PcapError::UnsupportedVersion {
                format: "pcap",
                major,
                minor,
            });
        }
        let snaplen = self.u32_at(16);
        // The upper bits hold FCS information, not the link type.
        let linktype = self.u32_at(20) & 0xffff;
        self.consume(PCAP_HEADER_LEN);
        self.format = if nanos {
            Format::PcapNanos
        } else {
            Format::Pcap
        };
        self.snaplen = if snaplen == 0 { MAX_SNAPLEN } else { snaplen };
        self.linktype = Some(linktype);
        self.classic = Classic {
            link: LinkType::from_linktype_in(linktype, self.be).ok_or(linktype),
            nanos,
            record_len,
            max_caplen: max_caplen(snaplen),
        };
        Ok(())
    }

    fn read_pcapng_header(&mut self) -> Result<(), PcapError> {
        self.format = Format::Pcapng;
        // The magic matched, so `block_header` finds the section header block.
        let first = match self.block_header() {
            Ok(Some((btype, blen))) => self.meta_block(btype, blen),
            Ok(None) => Err(self.truncated(block_name(SHB), 0, 28)),
            Err(e) => Err(e),
        };
        match first {
            Ok(()) => {}
            Err(PcapError::Truncated { need, have, .. }) => {
                return Err(PcapError::TruncatedHeader {
                    format: "pcapng",
                    have,
                    need,
                })
            }
            Err(e) => return Err(e),
        }
        // Look ahead to the first interface so `link_type` and `snaplen` are known; an error
        // on the way belongs to the packet stream, after zero packets.
        while self.linktype.is_none() {
            match self.block_header() {
                Ok(Some((EPB | SPB | PB, _))) => break,
                Ok(Some((btype, blen))) => {
                    if let Err(e) = self.meta_block(btype, blen) {
                        self.pending = Some(e);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        Ok(())
    }

    /// The type and total length of the pcapng block at `start`, without consuming it;
    /// `None` at the clean end of the input. A Section Header Block sets the byte order.
    fn block_header(&mut self) -> Result<Option<(u32, u32)>, PcapError> {
        let offset = self.pos;
        if !self.fill(8)? {
            if self.end == self.start {
                return Ok(None);
            }
            return Err(self.truncated("block header", offset, 8));
        }
        if self.buf[self.start..self.start + 4] == SHB.to_le_bytes() {
            if !self.fill(12)? {
                return Err(self.truncated(block_name(SHB), offset, 12));
            }
            let s = self.start;
            let bom: [u8; 4] = self.buf[s + 8..s + 12].try_into().unwrap();
            self.be = if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
                false
            } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
                true
            } else {
                return Err(self.bad_block(
                    offset,
                    format!(
                        "section header byte-order magic is 0x{:08x}, not 0x1a2b3c4d",
                        u32::from_be_bytes(bom)
                    ),
                ));
            };
        }
        let s = self.start;
        let btype = self.u32_at(s);
        let blen = self.u32_at(s + 4);
        let min = match btype {
            SHB => 28,
            IDB => 20,
            EPB | PB => 32,
            SPB => 16,
            _ => 12,
        };
        if blen < min || !blen.is_multiple_of(4) {
            return Err(self.bad_block(
                offset,
                format!(
                    "{} length {blen} is not a multiple of 4 of at least {min}",
                    block_name(btype)
                ),
            ));
        }
        Ok(Some((btype, blen)))
    }

    /// Loads the whole block at `start` (bounded size) and checks its trailing length.
    fn load_block(&mut self, btype: u32, blen: u32) -> Result<usize, PcapError> {
        let offset = self.pos;
        if blen > MAX_BLOCK {
            return Err(self.bad_block(
                offset,
                format!(
                    "{} length {blen} exceeds the maximum {MAX_BLOCK}",
                    block_name(btype)
                ),
            ));
        }
        let len = blen as usize;
        if !self.fill(len)? {
            return Err(self.truncated(block_name(btype), offset, blen.into()));
        }
        let trailer = self.u32_at(self.start + len - 4);
        if trailer != blen {
            return Err(self.bad_block(
                offset,
                format!(
                    "{} trailing length {trailer} differs from its length {blen}",
                    block_name(btype)
                ),
            ));
        }
        Ok(self.start)
    }

    /// Handles a block that is not a packet: a section header, an interface description, or
    /// anything else, which is skipped without loading it.
    fn meta_block(&mut self, btype: u32, blen: u32) -> Result<(), PcapError> {
        match btype {
            SHB => {
                let s = self.load_block(btype, blen)?;
                let (major, minor) = (self.u16_at(s + 12), self.u16_at(s + 14));
                if major != 1 {
                    return Err(PcapError::UnsupportedVersion {
                        format: "pcapng",
                        major,
                        minor,
                    });
                }
                self.ifaces.clear();
                self.consume(blen as usize);
            }
            IDB => {
                let s = self.load_block(btype, blen)?;
                let iface = self.parse_idb(s, blen as usize)?;
                self.consume(blen as usize);
                if self.linktype.is_none() {
                    self.linktype = Some(match iface.link {
                        Ok(l) => l.linktype(),
                        Err(n) => n,
                    });
                    self.snaplen = iface.snaplen;
                }
                self.ifaces.push(iface);
            }
            _ => self.skip_block(btype, blen)?,
        }
        Ok(())
    }

    fn parse_idb(&self, s: usize, blen: usize) -> Result<Iface, PcapError> {
        let linktype = u32::from(self.u16_at(s + 8));
        let snaplen = self.u32_at(s + 12);
        let mut tsresol = 6u8;
        let mut offset = 0i64;
        let end = s + blen - 4;
        let mut at = s + 16;
        while at + 4 <= end {
            let code = self.u16_at(at);
            let len = usize::from(self.u16_at(at + 2));
            if code == 0 {
                break;
            }
            let value = at + 4;
            if value + len > end {
                return Err(self.bad_block(
                    self.pos,
                    format!("interface option {code} of length {len} runs past the block end"),
                ));
            }
            match code {
                9 if len >= 1 => tsresol = self.buf[value],
                14 if len >= 8 => offset = self.u64_at(value) as i64,
                _ => {}
            }
            at = value + ((len + 3) & !3);
        }
        let res = Resolution::from_tsresol(tsresol).ok_or_else(|| {
            self.bad_block(
                self.pos,
                format!("unsupported interface time stamp resolution if_tsresol 0x{tsresol:02x}"),
            )
        })?;
        let snaplen = if snaplen == 0 { MAX_SNAPLEN } else { snaplen };
        Ok(Iface {
            link: LinkType::from_linktype_in(linktype, self.be).ok_or(linktype),
            snaplen,
            max_caplen: max_caplen(snaplen),
            res,
            offset,
        })
    }

    /// Skips a block without loading it, reading through it with the normal buffer.
    fn skip_block(&mut self, btype: u32, blen: u32) -> Result<(), PcapError> {
        let offset = self.pos;
        let mut left = u64::from(blen) - 4;
        while left > 0 {
            if self.end == self.start && !self.fill(1)? {
                return Err(self.truncated(block_name(btype), offset, blen.into()));
            }
            let n = left.min(self.avail());
            self.consume(n as usize);
            left -= n;
        }
        if !self.fill(4)? {
            return Err(self.truncated(block_name(btype), offset, blen.into()));
        }
        let trailer = self.u32_at(self.start);
        if trailer != blen {
            return Err(self.bad_block(
                offset,
                format!("block type 0x{btype:08x} trailing length {trailer} differs from its length {blen}"),
            ));
        }
        self.consume(4);
        Ok(())
    }

    fn next_classic(&mut self) -> Result<Option<Found>, PcapError> {
        let c = self.classic;
        let offset = self.pos;
        if !self.fill(c.record_len)? {
            if self.end == self.start {
                return Ok(None);
            }
            return Err(self.truncated("packet record header", offset, c.record_len as u64));
        }
        let s = self.start;
        let (sec, frac) = (self.u32_at(s), self.u32_at(s + 4));
        let (caplen, wire_len) = (self.u32_at(s + 8), self.u32_at(s + 12));
        let link = c
            .link
            .map_err(|lt| unsupported(self.packets + 1, offset, lt))?;
        if caplen > c.max_caplen {
            return Err(PcapError::CaplenTooLarge {
                packet: self.packets + 1,
                offset,
                caplen,
                max: c.max_caplen,
            });
        }
        let total = c.record_len + caplen as usize;
        if !self.fill(total)? {
            return Err(self.truncated("packet record", offset, total as u64));
        }
        let ts = Timestamp::from_pcap_record(sec, frac, c.nanos);
        let data = self.start + c.record_len;
        self.consume(total);
        Ok(Some(Found {
            ts,
            link,
            data,
            caplen: caplen as usize,
            wire_len,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Found>, PcapError> {
        loop {
            let Some((btype, blen)) = self.block_header()? else {
                return Ok(None);
            };
            if !matches!(btype, EPB | SPB | PB) {
                self.meta_block(btype, blen)?;
                continue;
            }
            let offset = self.pos;
            let packet = self.packets + 1;
            let s = self.load_block(btype, blen)?;
            let blen = blen as usize;
            let (id, data, caplen, wire_len, t) = match btype {
                EPB => (
                    self.u32_at(s + 8),
                    s + 28,
                    self.u32_at(s + 20),
                    self.u32_at(s + 24),
                    Some((u64::from(self.u32_at(s + 12)) << 32) | u64::from(self.u32_at(s + 16))),
                ),
                PB => (
                    u32::from(self.u16_at(s + 8)),
                    s + 28,
                    self.u32_at(s + 20),
                    self.u32_at(s + 24),
                    Some((u64::from(self.u32_at(s + 12)) << 32) | u64::from(self.u32_at(s + 16))),
                ),
                _ => (0, s + 12, 0, self.u32_at(s + 8), None),
            };
            let Some(&iface) = self.ifaces.get(id as usize) else {
                return Err(PcapError::UnknownInterface {
                    packet,
                    offset,
                    id,
                    count: self.ifaces.len(),
                });
            };
            let link = iface.link.map_err(|lt| unsupported(packet, offset, lt))?;
            let room = s + blen - 4 - data;
            let caplen = if t.is_some() {
                if caplen > iface.max_caplen {
                    return Err(PcapError::CaplenTooLarge {
                        packet,
                        offset,
                        caplen,
                        max: iface.max_caplen,
                    });
                }
                if caplen as usize > room {
                    return Err(self.bad_block(
                        offset,
                        format!(
                            "captured length {caplen} runs past the end of the {}-byte {}",
                            blen,
                            block_name(btype)
                        ),
                    ));
                }
                caplen as usize
            } else {
                // A simple packet block has no captured length: the packet, cut by the snaplen.
                (wire_len.min(iface.snaplen) as usize).min(room)
            };
            let ts = match t {
                Some(t) => {
                    let (sec, nsec) = iface.res.split(t);
                    Timestamp {
                        sec: seconds(sec, iface.offset),
                        nsec,
                        tv: None,
                    }
                }
                None => Timestamp::default(),
            };
            self.consume(blen);
            return Ok(Some(Found {
                ts,
                link,
                data,
                caplen,
                wire_len,
            }));
        }
    }
}

impl std::fmt::Debug for PcapReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapReader")
            .field("format", &self.format)
            .field("linktype", &self.linktype)
            .field("snaplen", &self.snaplen)
            .field("offset", &self.pos)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::PcapWriter;
    use std::io::{Cursor, Write};
    use std::sync::{Arc, Mutex};

    /// A sink the test can look into after the writer is dropped.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn packets() -> Vec<(Timestamp, Vec<u8>, u32)> {
        (0..5u32)
            .map(|i| {
                let ts = Timestamp {
                    sec: 1_700_000_000 + i64::from(i),
                    nsec: i * 123_456_000,
                    tv: None,
                };
                (ts, vec![i as u8; 60 + i as usize], 60 + i)
            })
            .collect()
    }

    fn write(format: Format) -> Vec<u8> {
        let sink = Shared::default();
        let mut w = PcapWriter::from_writer(sink.clone(), format, LinkType::Raw, 0).unwrap();
        for (ts, data, wire_len) in packets() {
            let p = Packet {
                ts,
                link: LinkType::Raw,
                data: &data,
                wire_len,
            };
            w.write(&p).unwrap();
        }
        w.flush().unwrap();
        let bytes = sink.0.lock().unwrap().clone();
        bytes
    }

    #[test]
    fn written_files_read_back_in_every_format() {
        for format in [Format::Pcap, Format::PcapNanos, Format::Pcapng] {
            let mut r = PcapReader::from_reader(Cursor::new(write(format))).unwrap();
            assert_eq!(r.format(), format);
            assert_eq!(r.link_type(), Some(LinkType::Raw));
            assert_eq!(r.snaplen(), MAX_SNAPLEN);
            for (ts, data, wire_len) in packets() {
                let p = r.next_packet().unwrap().unwrap();
                assert_eq!(
                    (p.ts, p.link, p.data, p.wire_len),
                    (ts, LinkType::Raw, &data[..], wire_len)
                );
            }
            assert!(r.next_packet().is_none());
            assert!(r.next_packet().is_none());
            assert_eq!(r.packets_read(), 5);
        }
    }

    #[test]
    fn one_error_then_none() {
        let mut bytes = write(Format::Pcap);
        bytes.truncate(bytes.len() - 1);
        let mut r = PcapReader::from_reader(Cursor::new(bytes)).unwrap();
        for _ in 0..4 {
            assert!(r.next_packet().unwrap().is_ok());
        }
        let e = r.next_packet().unwrap().unwrap_err();
        assert!(matches!(e, PcapError::Truncated { packet: 5, .. }), "{e}");
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn timestamp_resolutions_split_exactly() {
        let t = 1_700_000_000_123_456_789u64;
        assert_eq!(Resolution::Nano.split(t), (1_700_000_000, 123_456_789));
        let micro = Resolution::from_tsresol(6).unwrap();
        assert_eq!(micro.split(t / 1000), (1_700_000_000, 123_456_000));
        let pico = Resolution::from_tsresol(12).unwrap();
        assert_eq!(pico.split(5_000_000_123_999), (5, 123));
        let bin = Resolution::from_tsresol(0x80 | 20).unwrap();
        assert_eq!(bin.split((7 << 20) | (1 << 19)), (7, 500_000_000));
        assert!(Resolution::from_tsresol(20).is_none());
        assert!(Resolution::from_tsresol(0x80 | 64).is_none());
    }
}
