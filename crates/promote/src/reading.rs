//! A reading of the trusted clock ([`crate::clock`]): the time and where it came from, as decision
//! records carry them. A leaf: the release store, the ledger's callers and the decisions name a
//! reading without reading a clock.

use time::OffsetDateTime;

/// A reading of a clock: the time and its source, as decision records carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub time: OffsetDateTime,
    pub source: String,
    /// Whether the time comes over an authenticated channel (STS over HTTPS at AWS).
    pub authenticated: bool,
    /// Whether [`crate::clock::bound`] has judged it already (its source then says how).
    pub bounded: bool,
}

/// A bare time as a fixed reading (test builds only: the shipped binary cannot turn a time it
/// was given into a decision time).
#[cfg(any(test, feature = "test-clock"))]
impl From<OffsetDateTime> for Reading {
    fn from(time: OffsetDateTime) -> Reading {
        Reading { time, source: FIXED.into(), authenticated: false, bounded: false }
    }
}

/// The source of a fixed reading (test builds only).
#[cfg(any(test, feature = "test-clock"))]
pub(crate) const FIXED: &str = "fixed (test build)";
