//! Capture files: pcap and pcapng in (`-r`) and out (`-w`). (Interim stand-in.)
use std::path::Path;

use crate::packet::{LinkType, Packet};

#[derive(Debug, thiserror::Error)]
#[error("capture files are not available in this build")]
pub struct PcapError;

pub enum PcapFormat {
    Pcap,
    Pcapng,
}
impl PcapFormat {
    pub fn from_path(_: &Path) -> PcapFormat {
        PcapFormat::Pcap
    }
}
pub struct PcapReader;
impl PcapReader {
    pub fn open(_: &Path) -> Result<PcapReader, PcapError> {
        Err(PcapError)
    }
    pub fn link_type(&self) -> LinkType {
        LinkType::Ethernet
    }
    pub fn snaplen(&self) -> u32 {
        0
    }
    pub fn next_packet(&mut self) -> Option<Result<Packet<'_>, PcapError>> {
        None
    }
}
pub struct PcapWriter;
impl PcapWriter {
    pub fn create(_: &Path, _: PcapFormat, _: LinkType, _: u32) -> Result<PcapWriter, PcapError> {
        Err(PcapError)
    }
    pub fn write(&mut self, _: &Packet) -> Result<(), PcapError> {
        Ok(())
    }
    pub fn flush(&mut self) -> Result<(), PcapError> {
        Ok(())
    }
}
