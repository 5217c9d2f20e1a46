//! The evidence archive as change control reads and writes it: every record verified before it
//! is trusted, appends retried when another writer moved the chain head.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::archive::AppendRetry;
use lz_evidence::record::{Fields, Kind};
use lz_evidence::{
    EvidenceArchive, HeadMoved, Identities, Identity, LocalStore, RecordRef, Signer, Store,
    TrustRoot, VerifiedChain,
};
pub use lz_evidence::details::{
    ApprovalDetails, BreakGlassDetails, DeploymentDetails, Details, DriftDetails, ExceptionApprovalDetails, RotationDetails,
};
use time::OffsetDateTime;

use crate::refusal::refuse;

/// A verified record, with its signer as registered at the record's place in the chain.
#[derive(Clone, Debug)]
pub struct Record {
    pub sequence: u64,
    pub kind: Kind,
    pub identity: String,
    /// The signer's register entry (kind, group, roles) in force when the record was appended.
    pub signer: Identity,
    pub time: OffsetDateTime,
    pub release: String,
    pub environment: Option<String>,
    pub account: Option<String>,
    pub plan_digest: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    /// The kind-specific details, typed (`lz_evidence::details`): parsed once, by the verifier.
    pub details: Details,
}

impl Record {
    /// The details of a deployment record (`None` for another kind).
    pub fn deployment(&self) -> Option<&DeploymentDetails> {
        self.details.deployment()
    }

    /// The outcome of a deployment record, `None` for another kind.
    pub fn deployment_outcome(&self) -> Option<&str> {
        self.deployment().map(|d| d.outcome.as_str())
    }

    /// The run a deployment record belongs to.
    pub fn run(&self) -> Option<&str> {
        self.deployment().and_then(|d| d.run.as_deref())
    }
}

/// Where an evidence chain lives: the landing zone's S3 evidence store, or a local file
/// (sandboxes, tests, the verified cache).
#[derive(Clone, Debug)]
pub enum EvidenceAt {
    Local(PathBuf),
    S3(crate::stores::Stores),
}

impl EvidenceAt {
    pub fn open(&self) -> Result<Box<dyn Store>> {
        Ok(match self {
            EvidenceAt::Local(p) => Box::new(LocalStore::new(p)),
            EvidenceAt::S3(s) => Box::new(s.evidence()?),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            EvidenceAt::Local(p) => p.display().to_string(),
            EvidenceAt::S3(s) => format!("s3://{}/", s.evidence_bucket),
        }
    }
}

#[derive(Clone)]
pub struct Ledger {
    at: EvidenceAt,
    root: TrustRoot,
    /// The register in force at the end of the chain when it was opened.
    register: Identities,
}

fn retryable(e: &anyhow::Error) -> bool {
    e.downcast_ref::<HeadMoved>().is_some() || format!("{e:#}").contains("incomplete last line")
}

impl Ledger {
    /// The chain at `evidence`, verified against `trust` (the landing zone's pinned genesis
    /// register, never a working tree's register or a location from the environment).
    pub fn open(trust: &TrustRoot, evidence: &EvidenceAt) -> Result<Ledger> {
        let mut ledger = Ledger {
            at: evidence.clone(),
            root: trust.clone(),
            register: Identities::default(),
        };
        ledger.register = ledger.verified()?.register;
        Ok(ledger)
    }

    /// The identities register in force at the end of the chain (when it was opened).
    pub fn identities(&self) -> &Identities {
        &self.register
    }

    pub fn at(&self) -> &EvidenceAt {
        &self.at
    }

    /// The chain verified now: records, the register in force and the register changes pending.
    pub fn chain(&self) -> Result<VerifiedChain> {
        self.verified()
    }

    fn verified(&self) -> Result<VerifiedChain> {
        // A concurrent append to a local file may be mid-write; its line completes within
        // milliseconds.
        let mut attempt = 0u64;
        loop {
            let store = self.at.open()?;
            match lz_evidence::verify_store(&store, &self.root, &[]) {
                Err(e) if attempt < 20 && format!("{e:#}").contains("incomplete last line") => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10 * attempt));
                }
                Err(e) => {
                    return Err(match lz_evidence::failure_of(&e) {
                        Some(f) => refuse!(
                            "the evidence archive {} fails verification: {f}; run `cargo xtask evidence verify`",
                            self.at.describe()
                        ),
                        None => e,
                    })
                }
                Ok(chain) => return Ok(chain),
            }
        }
    }

    /// Every record, after verifying signatures, signers' roles at each record's place, the
    /// hash chain and the signed head.
    pub fn records(&self) -> Result<Vec<Record>> {
        Ok(records_of(self.verified()?))
    }

    /// Signs and appends one record with the register in force at the chain's end; when a
    /// concurrent writer appended first, reopens and retries (the chain stays linear). A record
    /// the archive refuses to sign is a refusal.
    pub fn append(&self, kind: Kind, fields: Fields, signer: &Signer) -> Result<RecordRef> {
        // Each try verifies the chain as it is now and opens the archive on its head; the
        // record carries an append id, so a try whose answer was lost is found, not repeated.
        let open = || -> Result<EvidenceArchive<Box<dyn Store>>> {
            let chain = self.verified()?;
            EvidenceArchive::open_verified(self.at.open()?, &chain)
        };
        match lz_evidence::archive::append_once(open, kind, fields, signer, AppendRetry { attempts: 50, backoff: std::time::Duration::from_millis(20) }) {
            Ok(done) => Ok(done.record),
            Err(e) if e.is::<lz_evidence::Refused>() => Err(refuse!("{e:#}")),
            Err(e) if retryable(&e) => Err(e).context("the evidence chain kept moving"),
            Err(e) => Err(e),
        }
    }

    /// [`Ledger::append`] by compare-and-swap: `check` sees exactly the verified records before
    /// the sequence the record takes (the archive is opened on the head those records end at,
    /// and the record is written there only if no other writer took it first; otherwise it is
    /// tried again, checking again). A refusal of `check` is returned and nothing is appended.
    pub fn append_if(&self, kind: Kind, fields: Fields, signer: &Signer, check: &dyn Fn(Vec<Record>) -> Result<()>) -> Result<RecordRef> {
        let open = || -> Result<EvidenceArchive<Box<dyn Store>>> {
            let chain = self.verified()?;
            // On exactly the verified records (a store that moved since is HeadMoved: tried again).
            let archive = EvidenceArchive::open_verified(self.at.open()?, &chain)?;
            check(records_of(chain))?;
            Ok(archive)
        };
        match lz_evidence::archive::append_once(open, kind, fields, signer, AppendRetry { attempts: 50, backoff: std::time::Duration::from_millis(20) }) {
            Ok(done) => Ok(done.record),
            Err(e) if e.is::<lz_evidence::Refused>() => Err(refuse!("{e:#}")),
            Err(e) if retryable(&e) => Err(e).context("the evidence chain kept moving"),
            Err(e) => Err(e),
        }
    }
}

/// The records of a verified chain as change control reads them.
fn records_of(chain: VerifiedChain) -> Vec<Record> {
    chain
        .records
        .into_iter()
        .map(|r| {
            let p = r.statement.predicate;
            Record {
                sequence: r.sequence,
                kind: r.kind,
                identity: p.identity,
                signer: r.signer,
                time: r.time,
                release: p.release,
                environment: p.environment,
                account: p.account,
                plan_digest: p.plan_digest,
                ticket: p.ticket,
                reason: p.reason,
                details: r.details,
            }
        })
        .collect()
}

/// A signer from `--as NAME --key FILE`.
pub fn signer(name: &str, key: &Path) -> Result<Signer> {
    Signer::from_file(name, key)
}
