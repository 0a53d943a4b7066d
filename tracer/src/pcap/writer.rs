//! Writing pcap (what `tcpdump -w` writes) and pcapng files.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;
use std::path::Path;

use super::error::PcapError;
use super::format::{Format, MAX_SNAPLEN};
use crate::packet::{LinkType, Packet};

/// Output buffer size: one write syscall per MiB keeps `-w` cheap.
const BUF_SIZE: usize = 1 << 20;

/// The application name written into the pcapng section header (`shb_userappl`).
const USERAPPL: &[u8] = b"tracer";

/// Writes packets to a pcap or pcapng file.
///
/// Packets longer than the snaplen are cut to it, keeping their wire length, as a capture
/// would. Classic pcap holds one link type; pcapng gets one interface per link type written.
/// Output is buffered: call [`flush`](Self::flush) at the end, since dropping the writer
/// flushes too but cannot report an error.
pub struct PcapWriter {
    out: BufWriter<Box<dyn Write + Send>>,
    format: Format,
    link: LinkType,
    snaplen: u32,
    /// pcapng: the link type of each interface described so far, by interface id.
    ifaces: Vec<LinkType>,
    packets: u64,
    /// Bytes written so far, header included (buffered ones too: what `ftell` says).
    bytes: u64,
}

impl PcapWriter {
    /// Creates (truncates) a capture file, or writes to standard output for `-`, and writes
    /// its header. A `snaplen` of 0 means 262144, tcpdump's default.
    pub fn create(
        path: impl AsRef<Path>,
        format: Format,
        link: LinkType,
        snaplen: u32,
    ) -> Result<PcapWriter, PcapError> {
        let path = path.as_ref();
        let open_err = |source| PcapError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = if path == Path::new("-") {
            // Our own descriptor for fd 1: std's stdout is line-buffered, wrong for binary.
            File::from(
                io::stdout()
                    .as_fd()
                    .try_clone_to_owned()
                    .map_err(open_err)?,
            )
        } else {
            File::create(path).map_err(open_err)?
        };
        PcapWriter::from_writer(file, format, link, snaplen)
    }

    /// Writes a capture to any byte sink, starting with the file header.
    pub fn from_writer<W: Write + Send + 'static>(
        out: W,
        format: Format,
        link: LinkType,
        snaplen: u32,
    ) -> Result<PcapWriter, PcapError> {
        let snaplen = if snaplen == 0 { MAX_SNAPLEN } else { snaplen };
        let mut w = PcapWriter {
            out: BufWriter::with_capacity(BUF_SIZE, Box::new(out)),
            format,
            link,
            snaplen,
            ifaces: Vec::new(),
            packets: 0,
            bytes: 0,
        };
        match format {
            Format::Pcap | Format::PcapNanos => {
                let magic: u32 = if format == Format::Pcap {
                    0xa1b2_c3d4
                } else {
                    0xa1b2_3c4d
                };
                let mut h = [0u8; 24];
                h[0..4].copy_from_slice(&magic.to_le_bytes());
                h[4..6].copy_from_slice(&2u16.to_le_bytes());
                h[6..8].copy_from_slice(&4u16.to_le_bytes());
                // thiszone and sigfigs stay 0.
                h[16..20].copy_from_slice(&snaplen.to_le_bytes());
                h[20..24].copy_from_slice(&link.linktype().to_le_bytes());
                w.put(&h)?;
            }
            Format::Pcapng => {
                w.write_shb()?;
                w.write_idb(link)?;
            }
        }
        Ok(w)
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// How many packets have been written.
    pub fn packets_written(&self) -> u64 {
        self.packets
    }

    /// The file's size so far: every byte written, header included, whether or not it has
    /// been flushed yet (what tcpdump's `pcap_dump_ftell` reports for `-C`).
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Appends one packet: at most snaplen captured bytes, the original length kept as
    /// `wire_len`. Classic pcap stores microseconds (nanoseconds for `PcapNanos`, pcapng).
    pub fn write(&mut self, pkt: &Packet<'_>) -> Result<(), PcapError> {
        let packet = self.packets + 1;
        let caplen = pkt.data.len().min(self.snaplen as usize);
        let data = &pkt.data[..caplen];
        let ts_err = |format| PcapError::TimestampRange {
            packet,
            sec: pkt.ts.sec,
            nsec: pkt.ts.nsec,
            format,
        };
        match self.format {
            Format::Pcap | Format::PcapNanos => {
                if pkt.link != self.link {
                    return Err(PcapError::LinkMismatch {
                        packet,
                        got: pkt.link.linktype(),
                        file: self.link.linktype(),
                    });
                }
                let sec = u32::try_from(pkt.ts.sec).map_err(|_| ts_err("pcap"))?;
                let frac = if self.format == Format::Pcap {
                    pkt.ts.nsec / 1000
                } else {
                    pkt.ts.nsec
                };
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&sec.to_le_bytes());
                h[4..8].copy_from_slice(&frac.to_le_bytes());
                h[8..12].copy_from_slice(&(caplen as u32).to_le_bytes());
                h[12..16].copy_from_slice(&pkt.wire_len.to_le_bytes());
                self.put(&h)?;
                self.put(data)?;
            }
            Format::Pcapng => {
                let id = match self.ifaces.iter().position(|&l| l == pkt.link) {
                    Some(id) => id,
                    None => {
                        self.write_idb(pkt.link)?;
                        self.ifaces.len() - 1
                    }
                };
                let ns = u64::try_from(pkt.ts.sec)
                    .ok()
                    .and_then(|s| s.checked_mul(1_000_000_000))
                    .and_then(|n| n.checked_add(u64::from(pkt.ts.nsec)))
                    .ok_or_else(|| ts_err("pcapng"))?;
                let pad = (4 - caplen % 4) % 4;
                let blen = (32 + caplen + pad) as u32;
                let mut h = [0u8; 28];
                h[0..4].copy_from_slice(&6u32.to_le_bytes());
                h[4..8].copy_from_slice(&blen.to_le_bytes());
                h[8..12].copy_from_slice(&(id as u32).to_le_bytes());
                h[12..16].copy_from_slice(&((ns >> 32) as u32).to_le_bytes());
                h[16..20].copy_from_slice(&(ns as u32).to_le_bytes());
                h[20..24].copy_from_slice(&(caplen as u32).to_le_bytes());
                h[24..28].copy_from_slice(&pkt.wire_len.to_le_bytes());
                self.put(&h)?;
                self.put(data)?;
                self.put(&[0u8; 3][..pad])?;
                self.put(&blen.to_le_bytes())?;
            }
        }
        self.packets = packet;
        Ok(())
    }

    /// Writes out everything buffered, reporting a full disk or a closed pipe.
    pub fn flush(&mut self) -> Result<(), PcapError> {
        self.out
            .flush()
            .map_err(|source| PcapError::Write { source })
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), PcapError> {
        self.out
            .write_all(bytes)
            .map_err(|source| PcapError::Write { source })?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Section Header Block: little-endian, version 1.0, unknown section length,
    /// `shb_userappl` "tracer".
    fn write_shb(&mut self) -> Result<(), PcapError> {
        let opt_len = USERAPPL.len();
        let opt_pad = (4 - opt_len % 4) % 4;
        let blen = (28 + 4 + opt_len + opt_pad + 4) as u32;
        let mut b = Vec::with_capacity(blen as usize);
        b.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
        b.extend_from_slice(&blen.to_le_bytes());
        b.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(-1i64).to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&(opt_len as u16).to_le_bytes());
        b.extend_from_slice(USERAPPL);
        b.extend_from_slice(&[0u8; 3][..opt_pad]);
        b.extend_from_slice(&[0u8; 4]); // opt_endofopt
        b.extend_from_slice(&blen.to_le_bytes());
        self.put(&b)
    }

    /// Interface Description Block: link type, snaplen, `if_tsresol` 9 (nanoseconds, the
    /// resolution of [`crate::packet::Timestamp`]).
    fn write_idb(&mut self, link: LinkType) -> Result<(), PcapError> {
        let blen: u32 = 20 + 8 + 4;
        let mut b = [0u8; 32];
        b[0..4].copy_from_slice(&1u32.to_le_bytes());
        b[4..8].copy_from_slice(&blen.to_le_bytes());
        b[8..10].copy_from_slice(&(link.linktype() as u16).to_le_bytes());
        b[12..16].copy_from_slice(&self.snaplen.to_le_bytes());
        b[16..18].copy_from_slice(&9u16.to_le_bytes());
        b[18..20].copy_from_slice(&1u16.to_le_bytes());
        b[20] = 9;
        // b[24..28]: opt_endofopt.
        b[28..32].copy_from_slice(&blen.to_le_bytes());
        self.put(&b)?;
        self.ifaces.push(link);
        Ok(())
    }
}

impl std::fmt::Debug for PcapWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapWriter")
            .field("format", &self.format)
            .field("link", &self.link)
            .field("snaplen", &self.snaplen)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}
