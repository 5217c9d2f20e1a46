//! Change control of the landing zone: the decisions. The operations that act on an
//! environment (bootstrap, deploy, drift, remediate, rotate, the promotion run and the sandbox)
//! are `lz-operate`; the report is `lz-report`; both build on this crate.
//!
//! Every decision (`classify`, `approve`, `promote`, `drift`) is taken inside one
//! [`session::Session`]: the release archive named by the digest (verified and unpacked), the
//! governance of the release deployed in the target environment (or pinned there at bootstrap),
//! the verified evidence chain, and the plan rendered from the archive. Nothing is read from the
//! working tree or from environment variables, and "now" is the environment's server time
//! ([`clock`]).
//!
//! A change is classified into a risk tier from its diff ([`tier`]); the tier and the target
//! environment decide the approvals it needs ([`approval`]) and whether change windows apply
//! ([`window`]). Approvals, deployments, drift checks and break-glass sessions are signed
//! records of the evidence archive ([`ledger`]). A promotion (`lz_operate::promote`) refuses unless the
//! same release was deployed and drift-checked clean in the previous environment, the policy
//! evaluation passed, the approvals satisfy the policy and segregation of duties, and the window
//! is open or a break-glass session is; it then assumes the environment's deployer role and
//! applies the canary stack with Terraform against the environment's S3 backend.

pub(crate) use lz_evidence::s3::aws_error;

pub mod adoption;
pub mod approval;
pub mod approve;
pub mod approved;
pub mod breakglass;
pub mod chain;
pub mod classes;
pub mod classify;
pub mod clock;
pub mod command;
pub mod copies;
pub mod declared;
pub mod diff;
pub mod fence;
pub mod gates;
pub mod in_force;
pub mod judged;
pub mod ledger;
pub mod open;
pub mod opened;
pub mod paths;
pub mod provenance;
pub mod reading;
pub mod refusal;
pub mod register;
pub mod replay;
pub mod restore;
pub mod release;
pub mod render;
pub mod rotation;
pub mod server_date;
pub mod session;
pub mod stores;
pub mod tier;
pub mod verified;
pub mod window;

pub use breakglass::open_break_glass_findings;
pub use diff::{Action, Change, Diff};
pub use refusal::{is_refusal, Refusal};
pub use session::Session;
pub use tier::{Classification, RiskRules, Tier};
pub use paths::Paths;

/// sha256 of the plan's compact JSON: what approvals, policy evaluations and deployments name.
pub fn plan_digest(plan: &serde_json::Value) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(plan).expect("JSON values serialize"),
    ))
}
