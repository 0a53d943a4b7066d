//! Capture files: pcap and pcapng in (`-r`) and out (`-w`).
//!
//! [`PcapReader`] detects classic pcap (either byte order, microsecond or nanosecond
//! timestamps, and the old "modified" Kuznetsov variant) and pcapng (any number of sections in
//! either byte order, Interface Description Blocks with `if_tsresol`/`if_tsoffset`, Enhanced,
//! Simple and obsolete Packet Blocks) by their magic numbers. It lends each packet out of one
//! reused buffer that it fills with large reads, so a read loop allocates nothing and runs at
//! many millions of packets per second.
//!
//! A classic pcap record whose fraction of a second is out of range (a microsecond count of
//! a million or more, or nanoseconds of a billion or more) is read as the time it adds up
//! to; [`Timestamp::tv`](crate::packet::Timestamp::tv) keeps the time as tcpdump sees it,
//! which the printer prints. The link types read are those of
//! [`LinkType`](crate::packet::LinkType); a NULL interface keeps the byte order of its file
//! or section, which libpcap's filter takes the address family to be in.
//!
//! Bad input never panics and never makes the reader allocate what a corrupt length claims:
//! the reader yields every packet it could read, then one [`PcapError`] that says what is wrong
//! and where, then `None`.
//!
//! [`PcapWriter`] writes what tcpdump `-w` writes (classic pcap, microsecond timestamps) or
//! pcapng with nanosecond timestamps. [`RotatingWriter`] writes a series of them as tcpdump's
//! `-C`, `-W`, `-G` and `-z` do (see [`rotate`]).
//!
//! ```no_run
//! use tracer::pcap::{Format, PcapReader, PcapWriter};
//!
//! # fn main() -> Result<(), tracer::pcap::PcapError> {
//! let mut reader = PcapReader::open("in.pcapng")?;
//! let link = reader.link_type().unwrap_or(tracer::packet::LinkType::Ethernet);
//! let mut writer = PcapWriter::create("out.pcap", Format::Pcap, link, reader.snaplen())?;
//! while let Some(packet) = reader.next_packet() {
//!     writer.write(&packet?)?;
//! }
//! writer.flush()?;
//! # Ok(())
//! # }
//! ```

mod error;
mod format;
mod reader;
pub mod rotate;
mod writer;

pub use error::PcapError;
pub use format::{linktype_name, Format, MAX_SNAPLEN};
pub use reader::PcapReader;
pub use rotate::{RotatingWriter, Rotation, Written};
pub use writer::PcapWriter;
