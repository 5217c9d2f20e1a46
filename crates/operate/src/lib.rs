//! Operations on an environment of the landing zone, each taken on a decision of change control
//! (`lz-promote`): bootstrap of the stores and an environment's buckets and deployer role
//! ([`bootstrap`]), the Terraform runs of the canary stack ([`deploy`]), the promotion run
//! ([`promote`]: the session's admission, then deploy, drift check and records), drift checks
//! ([`drift`]; the buckets' live controls read by [`controls`]) and their remediation
//! ([`remediate`]), secret rotation ([`rotate`]), the facts a record claims checked where they
//! live ([`facts`]), the sandbox a rehearsal or a test runs in
//! ([`sandbox`], driven out of process by the `lz-rehearse` binary) and the benchmarks of
//! promotion and of S3 chains ([`bench`], [`bench_chain`]), and `evidence verify`'s checks of a
//! bundle or a store ([`evidence_verify`]).

// The modules of change control the operations use, under the paths they had inside lz-promote.
pub(crate) use lz_evidence::s3::aws_error;
pub(crate) use lz_promote::{approval, clock, fence, ledger, plan_digest, refusal, register, release, replay, rotation, session, stores, tier, verified, window, Paths};

pub mod bench;
pub mod bench_chain;
pub mod bootstrap;
pub mod controls;
pub mod deploy;
pub mod drift;
pub mod engine;
pub mod evidence_verify;
pub mod facts;
pub mod promote;
pub mod remediate;
pub mod rotate;
pub mod rehearsal_kms;
pub mod sandbox;
pub mod target;
pub mod witness_verdicts;
