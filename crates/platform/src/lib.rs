//! The platform harness behind `cargo xtask`: tool bootstrap (Terraform, LocalStack), AWS SDK
//! clients for LocalStack, the module catalog, overlays and the offline PR gate.
//!
//! Everything here takes the repository root as a parameter; nothing reads the current
//! directory, so tests can run the checks against a mutated copy of the repository.

pub mod aws;
pub mod aws_setup;
pub mod catalog;
pub mod copy_sources;
pub mod docs;
pub mod errsum;
pub mod findings;
pub mod fmt;
pub mod hcl;
pub mod kms_keys;
pub mod layout;
pub mod localstack_override;
pub mod mixed_root;
pub mod module_tags;
pub mod localstack;
pub mod oidc;
#[cfg(feature = "test-issuer")]
pub mod oidc_issuer;
pub mod overlays;
pub mod pins;
pub mod pipeline_roles;
pub mod progress;
pub mod provider;
pub mod provider_e2e;
pub mod reach;
pub mod references;
pub mod released;
pub mod s3_calls;
pub mod services;
pub mod shared_validations;
pub mod source_map;
pub mod stats;
pub mod testrun;
pub mod tf_overrides;
pub mod tfrun;
pub mod tools;
pub mod workflows;

pub use findings::{Finding, Findings};

/// The five environments, in promotion order (`lz_repo::ENVIRONMENTS`).
pub use lz_repo::ENVIRONMENTS;

/// Today's UTC date as `YYYY-MM-DD`, from the system clock (no variable overrides it).
pub fn today() -> String {
    lz_repo::date::today_string()
}
