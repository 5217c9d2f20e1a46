//! Change control and promotion of the landing zone.
//!
//! A change is classified into a risk tier from its diff ([`tier`]); the tier and the target
//! environment decide the approvals it needs ([`approval`]) and whether change windows apply
//! ([`window`]). Approvals, deployments, drift checks and break-glass sessions are signed
//! records of the evidence archive ([`ledger`]). A promotion ([`promote`]) refuses unless the
//! same release was deployed and drift-checked clean in the previous environment, the policy
//! evaluation passed, the approvals satisfy the policy and segregation of duties, and the window
//! is open or a break-glass session is; it then assumes the environment's deployer role and
//! applies the canary stack with Terraform against the environment's S3 backend.

pub mod approval;
pub mod bench;
pub mod bootstrap;
pub mod breakglass;
pub mod deploy;
pub mod diff;
pub mod drift;
pub mod ledger;
pub mod promote;
pub mod sandbox;
pub mod tier;
pub mod window;

use std::path::{Path, PathBuf};

pub use breakglass::open_break_glass_findings;
pub use diff::{Action, Change, Diff};
pub use tier::{Classification, RiskRules, Tier};

/// Where the governance registers, the evidence archive and the work directories live.
#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    /// `governance/identities.toml`
    pub identities: PathBuf,
    /// The local evidence chain (JSON Lines).
    pub evidence: PathBuf,
    /// Stored releases (`<digest>/manifest.json`, `<digest>/release.tar`).
    pub releases: PathBuf,
    /// Terraform working copies of the canary stack.
    pub work: PathBuf,
}

pub const EVIDENCE_ENV: &str = "LZ_EVIDENCE";
pub const IDENTITIES_ENV: &str = "LZ_IDENTITIES";
pub const RELEASES_ENV: &str = "LZ_RELEASES";

impl Paths {
    /// The repository defaults, each overridable by an environment variable (`LZ_EVIDENCE`,
    /// `LZ_IDENTITIES`, `LZ_RELEASES`).
    pub fn for_root(root: &Path) -> Paths {
        let var = |k: &str| std::env::var_os(k).map(PathBuf::from);
        Paths {
            root: root.to_path_buf(),
            identities: var(IDENTITIES_ENV)
                .unwrap_or_else(|| root.join("governance/identities.toml")),
            evidence: var(EVIDENCE_ENV).unwrap_or_else(|| root.join(".tools/evidence/main.jsonl")),
            releases: var(RELEASES_ENV).unwrap_or_else(|| root.join(".tools/releases")),
            work: root.join(".tools/promote"),
        }
    }
}
