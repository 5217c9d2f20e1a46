//! Where change control finds the landing zone's stores: the trust root of its evidence chain,
//! the chain, the releases and the scratch directories ([`Paths`]).

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::{ledger, release, stores};

/// Where the governance registers, the evidence archive, the releases and the work
/// directories live.
#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    /// What verification of the evidence chain trusts: the pinned genesis register (the
    /// register in force anywhere later comes from the chain, never from a working tree).
    pub trust: lz_evidence::TrustRoot,
    /// The evidence chain.
    pub evidence: ledger::EvidenceAt,
    /// Stored releases.
    pub releases: release::ReleasesAt,
    /// Terraform working copies of the canary stack and unpacked releases (scratch only).
    pub work: PathBuf,
}

impl Paths {
    /// The landing zone's stores (`governance/stores.toml`) at `endpoint`. No environment
    /// variable moves them: a decision can never be pointed at a side chain.
    pub fn landing_zone(root: &Path, endpoint: &str) -> Result<Paths> {
        let stores = stores::Stores::load(root, endpoint)?;
        Ok(Paths {
            root: root.to_path_buf(),
            trust: stores.trust_root()?,
            evidence: ledger::EvidenceAt::S3(stores.clone()),
            releases: release::ReleasesAt::S3(stores),
            work: root.join(".tools/promote"),
        })
    }

    /// A verified release: fetched by digest (or unique prefix) and hashed before use.
    pub fn open_release(&self, digest: &str) -> Result<release::VerifiedRelease> {
        self.releases.open(digest, &self.work.join("releases"))
    }

    pub fn ledger(&self) -> Result<ledger::Ledger> {
        ledger::Ledger::open_mirrored(&self.trust, &self.evidence, Some(self.mirror_dir()))
    }

    /// Where the verifier keeps its mirrors of S3 evidence chains (a cache: deletable).
    pub fn mirror_dir(&self) -> PathBuf {
        self.root.join(".tools/evidence/mirror")
    }
}
