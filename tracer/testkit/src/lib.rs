//! The test kit: what tracer's integration tests and `cargo xtask bench`/`soak` share, so a
//! namespace, a child process or nginx is made, waited for and cleaned up one way.
//!
//! - [`ns`]: network namespaces and the links between them, deleted on drop; namespaces and
//!   scratch folders left by an aborted run are removed by the next one.
//! - [`process`]: child processes killed on drop, their ready lines awaited, their summaries
//!   read.
//! - [`nginx`], [`wrk`]: the server and the load.
//! - [`oracle`]: tool checks and the one policy for a missing oracle; where the conformance
//!   corpus is.
//! - [`scratch`]: scratch folders removed on drop.
//!
//! Constructors come twice where both callers need them: `try_*` returns an error (xtask),
//! the plain one panics with the same message (tests).

pub mod nginx;
pub mod ns;
pub mod oracle;
pub mod process;
pub mod scratch;
pub mod wrk;

pub use nginx::{Nginx, BIG_PAGE_LEN, SMALL_PAGE};
pub use ns::{wait_listening, NetNs, Routed, TunPair, VethPair};
pub use oracle::{
    corpus_dir, corpus_location, have, missing_oracle, oracles_required, privileged, require_tool,
    tool_available,
};
pub use process::{kernel_counter, status_kib, summary_count, Proc, Stdout};
pub use scratch::TempDir;
pub use wrk::{parse_wrk, Wrk};

use std::sync::atomic::{AtomicU32, Ordering};

/// Makes names unique within one process (`...-PID-N`).
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this process and call: `PREFIX-TAG-PID-N`. The pid lets a later run
/// tell a leftover of a dead run from one of a run going on beside it.
pub(crate) fn unique_name(prefix: &str, tag: &str) -> String {
    format!(
        "{prefix}-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
