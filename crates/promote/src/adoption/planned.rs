//! What a promotion's adoption gate admits: one [`Planned`] move per service whose module
//! version the release moves. The session keeps the admission's moves and the last accepted
//! judgement of them ([`crate::session::Session`]), so the type sits below the gate.

use serde::Serialize;

/// One service the promotion moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub module: String,
    pub service: String,
    /// The version the chain says it runs ("none" before its first adoption).
    pub from: String,
    pub to: String,
    pub wave: u32,
    pub wave_name: Option<String>,
    pub rollback_of: Option<u64>,
}

/// Whether every adoption of a promotion is a rollback (the version was admitted in that
/// environment before): such a promotion is a standard change.
pub fn all_rollbacks(planned: &[Planned]) -> bool {
    !planned.is_empty() && planned.iter().all(|p| p.rollback_of.is_some())
}
