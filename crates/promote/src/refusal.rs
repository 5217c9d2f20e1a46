//! A refused decision, as a type: the command line exits 1 for it (a gate said no, or the
//! evidence was tampered with) and 2 for every other error (malformed input, tool failure).

use std::fmt;

/// A gate refused, or the inputs of the decision failed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Whether `err` (or any error it wraps) is a refusal: a gate's, the archive's refusal to sign
/// a record, or a verification failure.
pub fn is_refusal(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<Refusal>() || e.is::<lz_evidence::Refused>() || e.is::<lz_evidence::Failure>()
    })
}

/// `anyhow::Error` of a [`Refusal`] with a formatted message (`refusal::refuse!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __refuse {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::refusal::Refusal(format!($($arg)*)))
    };
}
pub use crate::__refuse as refuse;

/// Returns early with a [`Refusal`] (`refusal::refuse_if!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __refuse_if {
    ($cond:expr, $($arg:tt)*) => {
        if $cond {
            return Err($crate::refusal::refuse!($($arg)*));
        }
    };
}
pub use crate::__refuse_if as refuse_if;
