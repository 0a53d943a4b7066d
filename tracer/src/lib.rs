//! tracer: a kernel-accelerated TCP tracer that prints what tcpdump prints.
//!
//! The kernel programs (`tracer-ebpf`) parse and filter packets and push compact records into
//! BPF ring buffers; [`live`] loads them and reads the rings; [`pcap`] reads and writes capture
//! files; both produce [`packet::Packet`]s that [`filter`] selects and [`print`] turns into
//! tcpdump's lines.

pub mod checksum;
pub mod cli;
pub mod conn;
pub mod filter;
pub mod live;
pub mod metrics;
pub mod packet;
pub mod pcap;
pub mod print;
pub mod run;
