//! Release artifacts and the signed, hash-chained evidence archive.
//!
//! Every piece of evidence (plan, policy evaluation, exception, approval, deployment, drift
//! check, break-glass, retrospective) is an in-toto Statement v1 whose predicate type is
//! `https://landing-zone.example/evidence/<kind>/v1`, wrapped in a DSSE envelope signed with
//! the acting identity's ed25519 key. Each predicate carries its sequence number and the
//! sha256 of the previous record's canonical envelope bytes, so the archive is a hash chain;
//! a head checkpoint (sequence and hash of the last record) exposes truncation.
//!
//! Who may sign what ([`identity::signer_rule`]; "person" means never a workload):
//!
//! | kind                               | roles                                   |
//! |------------------------------------|-----------------------------------------|
//! | plan, policy-evaluation            | deployer                                |
//! | deployment, drift, drift-remediation | deployer                              |
//! | approval                           | approver (a workload only with auto)    |
//! | exception, break-glass-approval    | approver, person                        |
//! | break-glass                        | break-glass, person                     |
//! | retrospective                      | reviewer, approver or auditor, person   |
//! | release                            | author, person                          |
//! | checkpoint                         | any role but witness                    |
//! | governance-pin, register-change    | approver, person of group security      |
//! | exception-approval                 | approver, person of group security      |
//!
//! Verification ([`verify::verify_chain`]) judges each record with the register in force at
//! its place in the chain, against a trust root the verifier supplies ([`verify::TrustRoot`]).

pub mod archive;
pub mod binding;
pub mod bench;
pub mod bundle;
pub mod details;
pub mod dsse;
pub mod export;
pub mod genesis_after;
pub mod mirror;
pub mod identity;
pub mod keys;
pub mod load;
pub mod provenance;
pub mod query;
pub mod quarantine;
pub mod record;
pub mod redact;
pub mod refused;
pub mod release;
pub mod s3;
pub mod sig;
pub mod signer;
pub mod ssh_agent;
pub mod store;
pub mod verify;
pub mod vouch;
pub mod witness;

pub use archive::{EvidenceArchive, RecordRef};
pub use refused::Refused;
pub use identity::{Identities, Identity, Role, Signer};
pub use record::{
    ApprovalEvidence, BreakGlassApprovalEvidence, BreakGlassEvidence, CheckpointEvidence, DeploymentEvidence, DriftEvidence,
    DriftRemediationEvidence,
    EvidenceBuilder, ExceptionApprovalEvidence, ExceptionEvidence, Fields, GovernancePinEvidence, Kind, PlanEvidence,
    PolicyEvaluationEvidence, RegisterChangeEvidence, ReleaseEvidence, RetrospectiveEvidence, Statement,
};
pub use quarantine::Quarantined;
pub use s3::{ReleaseStore, S3Store};
pub use store::{Checkpoint, HeadMoved, LocalStore, Store, StoreIntegrity, StoredRecord};
pub use verify::{
    failure_of, report_of_store, verify, verify_chain, verify_chain_with, verify_store, verify_store_from, Anchors, ChainRules, Failure, KnownCheckpoint,
    PendingRegister, Reason, Report, Resumable, Resumed, TrustRoot, VerifiedChain, VerifiedRecord,
};

pub use aws_sdk_s3;
