//! The output flags every printer reads.

/// Output flags, named after tcpdump's own and counted the same way (`-nn` is `numeric: 2`).
#[derive(Clone, Debug, Default)]
pub struct PrintOptions {
    /// `-n` count: 1 = numeric hosts, 2 = numeric hosts and ports. (tcpdump 4.99.3 prints
    /// numeric ports already with a single `-n`, and so does this printer.)
    pub numeric: u8,
    /// `-v` count.
    pub verbose: u8,
    /// `-x` count (2 = `-xx`: include the link header).
    pub hex: u8,
    /// `-X` count (2 = `-XX`).
    pub hex_ascii: u8,
    /// `-A`.
    pub ascii: bool,
    /// `-S`: absolute sequence numbers.
    pub absolute_seq: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-e`: print the link-level header.
    pub link_header: bool,
    /// `-t` count: 0 default, 1 none, 2 epoch, 3 delta, 4 date, 5 since first.
    pub timestamp: u8,
}
