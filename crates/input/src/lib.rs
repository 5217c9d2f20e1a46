//! The edge of every command, below every other crate (no workspace crate; serde and serde_json
//! only, for `json_keys`): files are read here
//! (missing control inputs are errors saying what the file is for, invalid UTF-8 names
//! file:line:col of its first bad byte, sizes are bounded), ids are validated here
//! (`ids`), and the limits the harness states in its README live here (`limits`).
//!
//! Errors are [`InputError`], a message that names the file or argument; it converts into
//! `anyhow::Error` and into the renderer's diagnostics alike.
pub mod ids;
pub mod json_keys;
pub mod limits;
mod read;

pub use read::{decode_utf8, location, read_bytes, read_optional, read_required, read_text, read_text_limited, too_deep};

/// Every control input a decision or a check reads, relative to the repository root, with what
/// it is for. Each is required: a missing one is "missing <file>: <what it is for>" (exit 2),
/// never an empty set. `release build` refuses to build a release without any of them, and
/// the hostile-input table (`xtask/tests/hostile.toml`) deletes each one in turn.
pub const CONTROL_INPUTS: [(&str, &str); 10] = [
    ("policies/controls.toml", "the control table (the attribute values the KMS, S3, logging and network rules check, data.lz.controls)"),
    ("governance/policy.toml", "the policy settings (allowed regions, mandatory tags, retention, severities) the rules read as data.lz.settings"),
    ("governance/exceptions.toml", "the exceptions register (approved, time-bound waivers of policy rules; an empty file when there are none)"),
    ("governance/identities.toml", "the identities register (who may author, approve, deploy and approve exceptions, with their keys)"),
    ("governance/change-windows.toml", "the change windows (when each risk tier may deploy)"),
    ("governance/risk-tiers.toml", "the risk tiers (which change needs which approvals)"),
    ("governance/approval-policy.toml", "the approval policy (approvers and segregation of duties per tier)"),
    ("governance/stores.toml", "the landing zone's stores (release and evidence buckets) and the genesis register that anchors the evidence chain"),
    ("governance/rotation.toml", "the rotation policy (maximum age of every secret)"),
    ("governance/drift-classes.toml", "the drift classes (which drift is remediated automatically)"),
];

/// What the control input `rel` (a path of [`CONTROL_INPUTS`]) is for.
pub fn purpose(rel: &str) -> &'static str {
    CONTROL_INPUTS.iter().find(|(f, _)| *f == rel).map_or("a control input", |(_, what)| what)
}

/// The environments of the repository, in promotion order.
pub const ENVIRONMENTS: [&str; 5] = ["dev", "test", "uat", "preprod", "prod"];

/// An input refused at the edge: the message names the file (with line and column where
/// there is one) or the argument, and the limit when a limit was crossed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
    /// The file was not there (as opposed to unreadable, undecodable or too large).
    pub missing: bool,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), missing: false }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}
