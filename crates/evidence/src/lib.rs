//! Release artifacts and the signed, hash-chained evidence archive.
//!
//! Every piece of evidence (plan, policy evaluation, exception, approval, deployment, drift
//! check, break-glass, retrospective) is an in-toto Statement v1 whose predicate type is
//! `https://landing-zone.example/evidence/<kind>/v1`, wrapped in a DSSE envelope signed with
//! the acting identity's ed25519 key. Each predicate carries its sequence number and the
//! sha256 of the previous record's canonical envelope bytes, so the archive is a hash chain;
//! a head checkpoint (sequence and hash of the last record) exposes truncation.
//!
//! Who may sign what ([`identity::allowed_roles`]):
//!
//! | kind                | roles                           |
//! |---------------------|---------------------------------|
//! | plan                | deployer                        |
//! | policy-evaluation   | deployer                        |
//! | deployment, drift   | deployer                        |
//! | approval, exception | approver                        |
//! | break-glass         | break-glass                     |
//! | retrospective       | reviewer, approver or auditor   |

pub mod archive;
pub mod bench;
pub mod bundle;
pub mod dsse;
pub mod identity;
pub mod query;
pub mod record;
pub mod redact;
pub mod release;
pub mod s3;
pub mod store;
pub mod verify;

pub use archive::{EvidenceArchive, RecordRef};
pub use identity::{Identities, Identity, Role, Signer};
pub use record::{
    ApprovalEvidence, BreakGlassEvidence, DeploymentEvidence, DriftEvidence, EvidenceBuilder, ExceptionEvidence, Fields, Kind,
    PlanEvidence, PolicyEvaluationEvidence, RetrospectiveEvidence, Statement,
};
pub use s3::S3Store;
pub use store::{Checkpoint, LocalStore, Store, StoredRecord};
pub use verify::{verify, Failure, Reason, Report};

pub use aws_sdk_s3;
