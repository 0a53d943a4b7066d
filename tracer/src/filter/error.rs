//! Filter errors: one line each, naming the token and its column, so a typo in a long
//! expression is found at a glance.

use std::fmt;

/// Where in the expression a problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based character column of the offending token.
    pub column: usize,
    /// The whole expression, as the user gave it.
    pub expr: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {} in '{}'", self.column, self.expr)
    }
}

/// Why a filter expression was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A character that starts no token of the pcap-filter language.
    #[error("filter: illegal character {ch:?} at {at}")]
    IllegalChar { ch: char, at: Location },
    /// A token the grammar does not allow where it stands.
    #[error("filter: unexpected '{token}' at {at}: expected {expected}")]
    Unexpected {
        token: String,
        expected: &'static str,
        at: Location,
    },
    /// The expression ended where the grammar needs more.
    #[error("filter: unexpected end at {at}: expected {expected}")]
    UnexpectedEnd {
        expected: &'static str,
        at: Location,
    },
    /// Valid pcap-filter syntax that tracer does not implement.
    #[error("filter: '{token}' at {at} is not supported by tracer: {why}")]
    Unsupported {
        token: String,
        why: String,
        at: Location,
    },
    /// A malformed or out-of-range value, or a qualifier that does not fit it (tcpdump refuses it too).
    #[error("filter: invalid '{token}' at {at}: {why}")]
    Invalid {
        token: String,
        why: String,
        at: Location,
    },
    /// A host name with no address (of the family a qualifier asked for).
    #[error("filter: unknown host '{name}' at {at}{}", family_note(.family))]
    UnknownHost {
        name: String,
        family: bool,
        at: Location,
    },
    /// A port, port range or network name that /etc/services or /etc/networks does not know.
    #[error("filter: unknown {what} '{name}' at {at}")]
    UnknownName {
        what: &'static str,
        name: String,
        at: Location,
    },
    /// An expression that is false for every packet (tcpdump refuses it too).
    #[error("filter: '{expr}' rejects all packets")]
    RejectsAll { expr: String },
    /// An expression too large or too deeply nested to evaluate even in userspace.
    #[error("filter: expression too complex at {at}: {why}")]
    TooComplex { why: String, at: Location },
}

fn family_note(family: &bool) -> &'static str {
    if *family {
        " for the specified address family"
    } else {
        ""
    }
}
