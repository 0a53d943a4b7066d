//! Connection analytics in userspace: the offline tracker that runs the kernel's rules over a
//! capture file ([`Tracker`]), and the text and JSON lines for connection and HTTP records
//! from either source ([`RecordPrinter`]). The rules themselves are `tracer_common::conn`.

mod json;
mod output;
pub mod sockets;
mod tracker;

pub use output::{RecordPrinter, RecordSelect, TimeBase};
pub use sockets::Sockets;
pub use tracker::{finish, Tracker, TrackerOptions};

pub use tracer_common::Event;

/// Defaults of `--max-conns`, `--conn-idle` and the close linger (see README).
pub const DEFAULT_MAX_CONNS: u32 = 65536;
pub const DEFAULT_IDLE_SECS: u64 = 300;
/// A closed connection's record waits this long for the packets that trail a close.
pub const CLOSE_LINGER_NS: u64 = 2_000_000_000;
