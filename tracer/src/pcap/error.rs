//! The one error type of capture-file reading and writing.

use std::io;
use std::path::PathBuf;

/// Why a capture file could not be read or written. Every message is one line that says what
/// is wrong and, for bad input, where (byte offset and packet number), so `tracer -r` can print
/// it as is after the packets that were readable.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The file could not be opened for reading or created for writing.
    #[error("{}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },

    /// The operating system reported an error while reading.
    #[error("read error at byte {offset}: {source}")]
    Read { offset: u64, source: io::Error },

    /// The operating system reported an error while writing (disk full, broken pipe, ...).
    #[error("write error: {source}")]
    Write { source: io::Error },

    /// The input has no bytes at all.
    #[error("empty file: no pcap or pcapng header")]
    Empty,

    /// The first four bytes are neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng file: unknown magic number 0x{magic:08x} at byte 0")]
    BadMagic { magic: u32 },

    /// The input ends inside the pcap file header or the first pcapng section header.
    #[error("truncated {format} file header: {have} of {need} bytes present")]
    TruncatedHeader {
        format: &'static str,
        have: u64,
        need: u64,
    },

    /// The file header carries a format version this reader does not know.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        format: &'static str,
        major: u16,
        minor: u16,
    },

    /// The input ends in the middle of a packet record or block.
    #[error(
        "file truncated in {what} at byte {offset} (packet {packet}): \
         {have} of {need} bytes present"
    )]
    Truncated {
        what: &'static str,
        packet: u64,
        offset: u64,
        need: u64,
        have: u64,
    },

    /// A record claims more captured bytes than any sane snapshot length (a corrupt file).
    #[error(
        "packet {packet} at byte {offset}: captured length {caplen} is larger than the \
         maximum {max} (corrupt file?)"
    )]
    CaplenTooLarge {
        packet: u64,
        offset: u64,
        caplen: u32,
        max: u32,
    },

    /// A pcapng block is malformed: bad length, option, trailer or byte-order magic.
    #[error("corrupt pcapng block at byte {offset} (packet {packet}): {reason}")]
    BadBlock {
        packet: u64,
        offset: u64,
        reason: String,
    },

    /// A pcapng packet names an interface that its section has not described.
    #[error(
        "packet {packet} at byte {offset}: interface {id} is not described \
         (the section has {count} interfaces)"
    )]
    UnknownInterface {
        packet: u64,
        offset: u64,
        id: u32,
        count: usize,
    },

    /// A packet has a link type the tracer does not decode.
    #[error(
        "packet {packet} at byte {offset}: unsupported link type {linktype} ({name}); \
         tracer reads NULL (0), EN10MB (1), PPP (9), PPP_SERIAL (50), RAW (101), C_HDLC (104), \
         LOOP (108), LINUX_SLL (113), IPV4 (228), IPV6 (229) and LINUX_SLL2 (276)"
    )]
    UnsupportedLinkType {
        packet: u64,
        offset: u64,
        linktype: u32,
        name: &'static str,
    },

    /// A packet's timestamp cannot be stored in the output format (before 1970, or after
    /// 2106 for classic pcap).
    #[error("packet {packet}: timestamp {sec}.{nsec:09} cannot be stored in {format}")]
    TimestampRange {
        packet: u64,
        sec: i64,
        nsec: u32,
        format: &'static str,
    },

    /// A packet's link type differs from the link type of the classic pcap being written,
    /// which can hold only one.
    #[error(
        "packet {packet}: link type {got} differs from the file's link type {file}; \
         classic pcap holds one link type (write pcapng instead)"
    )]
    LinkMismatch { packet: u64, got: u32, file: u32 },
}
