//! The evidence archive as change control reads and writes it: every record verified before it
//! is trusted, appends retried when another writer moved the chain head.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::archive::AppendRetry;
use lz_evidence::record::{Fields, Kind};
use lz_evidence::{
    EvidenceArchive, HeadMoved, Identities, RecordRef, Signer, Store,
    TrustRoot, VerifiedChain,
};
pub use lz_evidence::details::{
    ApprovalDetails, BreakGlassDetails, DeploymentDetails, Details, DriftDetails, ExceptionApprovalDetails, RotationDetails,
};

use crate::refusal::refuse;

pub use crate::chain::{EvidenceAt, Record};

#[derive(Clone)]
pub struct Ledger {
    at: EvidenceAt,
    root: TrustRoot,
    /// The register in force at the end of the chain when it was opened.
    register: Identities,
    /// The chain as verified when the ledger was opened, or after its last append: what every
    /// read of this ledger (and of its clones) shares until the next append.
    /// With the count of this process's appends when it was read ([`crate::verified::appends`]).
    seen: std::sync::Arc<std::sync::Mutex<Option<(u64, std::sync::Arc<crate::verified::Snapshot>)>>>,
    /// Where the verifier keeps its mirror of an S3 chain ([`lz_evidence::mirror`]), if anywhere.
    mirror: Option<PathBuf>,
}

fn retryable(e: &anyhow::Error) -> bool {
    e.downcast_ref::<HeadMoved>().is_some() || format!("{e:#}").contains("incomplete last line")
}

impl Ledger {
    /// The chain at `evidence`, verified against `trust` (the landing zone's pinned genesis
    /// register, never a working tree's register or a location from the environment).
    pub fn open(trust: &TrustRoot, evidence: &EvidenceAt) -> Result<Ledger> {
        Ledger::open_mirrored(trust, evidence, None)
    }

    /// [`Ledger::open`], keeping a mirror of an S3 chain under `mirror` between commands.
    pub fn open_mirrored(trust: &TrustRoot, evidence: &EvidenceAt, mirror: Option<PathBuf>) -> Result<Ledger> {
        let mut ledger =
            Ledger { at: evidence.clone(), root: trust.clone(), register: Identities::default(), seen: Default::default(), mirror };
        ledger.register = ledger.shared()?.chain.register.clone();
        Ok(ledger)
    }

    /// [`Ledger::open_mirrored`], verified with `known` checkpoints (a verifier's cache,
    /// `--checkpoint`) and witnessed checkpoints as well: the one verification of a command
    /// that brings them, shared by every later read of this ledger.
    pub fn open_checked(
        trust: &TrustRoot,
        evidence: &EvidenceAt,
        mirror: Option<PathBuf>,
        known: &[lz_evidence::KnownCheckpoint],
        witnessed: &[lz_evidence::witness::Witnessed],
    ) -> Result<Ledger> {
        let snapshot = crate::verified::current_with(evidence, trust, known, witnessed, mirror.as_deref())?;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Some((crate::verified::appends(), std::sync::Arc::clone(&snapshot)))));
        Ok(Ledger { at: evidence.clone(), root: trust.clone(), register: snapshot.chain.register.clone(), seen, mirror })
    }

    /// The identities register in force at the end of the chain (when it was opened).
    pub fn identities(&self) -> &Identities {
        &self.register
    }

    pub fn at(&self) -> &EvidenceAt {
        &self.at
    }

    /// The verified chain: records, the register in force and the register changes pending.
    pub fn chain(&self) -> Result<VerifiedChain> {
        Ok(self.shared()?.chain.clone())
    }

    /// The chain as this ledger last verified it (at opening, or after its last append), shared
    /// rather than copied: [`Ledger::chain`] and [`Ledger::records`] copy it for a caller that
    /// keeps or changes it.
    pub fn snapshot(&self) -> Result<std::sync::Arc<crate::verified::Snapshot>> {
        self.shared()
    }

    /// The chain as this ledger last verified it (at opening, or after its last append).
    fn shared(&self) -> Result<std::sync::Arc<crate::verified::Snapshot>> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let appends = crate::verified::appends();
        if let Some((_, s)) = seen.as_ref().filter(|(at, _)| *at == appends) {
            return Ok(std::sync::Arc::clone(s));
        }
        // The stale snapshot is let go first, so that the read can extend it in place.
        *seen = None;
        let fresh = self.verified(true)?;
        *seen = Some((appends, std::sync::Arc::clone(&fresh)));
        Ok(fresh)
    }

    /// The chain verified now (resumed from this process's last verification of it; with
    /// `reusable`, within a [`crate::verified::Command`], that verification itself while the
    /// S3 store's signed head is unchanged: [`crate::verified::reuse`]).
    fn verified(&self, reusable: bool) -> Result<std::sync::Arc<crate::verified::Snapshot>> {
        // A concurrent append to a local file may be mid-write; its line completes within
        // milliseconds.
        let mut attempt = 0u64;
        loop {
            let read = if reusable { crate::verified::current_reused } else { crate::verified::current };
            match read(&self.at, &self.root, self.mirror.as_deref()) {
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
    /// hash chain and the signed head (verified when the ledger was opened or last appended to).
    pub fn records(&self) -> Result<Vec<Record>> {
        Ok(self.shared()?.records.clone())
    }

    /// Signs and appends one record with the register in force at the chain's end; when a
    /// concurrent writer appended first, reopens and retries (the chain stays linear). A record
    /// the archive refuses to sign is a refusal.
    pub fn append(&self, kind: Kind, fields: Fields, signer: &Signer) -> Result<RecordRef> {
        self.append_checked(kind, fields, signer, None)
    }

    /// The chain an append try opens the archive on: verified as it is now, on every try, never
    /// a reused verification ([`crate::verified::reuse`]). A resumed pass reads the store's
    /// anchors again (the listing of every object version and delete marker, and the head's
    /// versions written since): a delete marker over a record key, or an earlier head version
    /// forged and then covered by the old head's bytes, fails it before anything is written,
    /// which a check of the latest head's bytes cannot see. One listing per append, not one per
    /// read; an archive opened on it fails with `HeadMoved` when the store moved since.
    fn for_try(&self, tries: &std::cell::Cell<u32>) -> Result<std::sync::Arc<crate::verified::Snapshot>> {
        tries.set(tries.get() + 1);
        self.verified(false)
    }

    /// Whatever an append did, the next read of any ledger of this process verifies the chain as
    /// it is then.
    fn appended(&self) {
        crate::verified::appended();
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// [`Ledger::append`] by compare-and-swap: `check` sees exactly the verified records before
    /// the sequence the record takes (the archive is opened on the head those records end at,
    /// and the record is written there only if no other writer took it first; otherwise it is
    /// tried again, checking again). A refusal of `check` is returned and nothing is appended.
    pub fn append_if(&self, kind: Kind, fields: Fields, signer: &Signer, check: &dyn Fn(Vec<Record>) -> Result<()>) -> Result<RecordRef> {
        self.append_checked(kind, fields, signer, Some(check))
    }

    /// Both appends. Each try, the first included, opens the archive on the chain verified as it
    /// is now (a resumed pass with the store's listing, never the command's reused verification:
    /// [`Ledger::for_try`]; a store that moved since is HeadMoved, tried again). The record
    /// carries an append id, so a try whose answer was lost is found, not repeated.
    fn append_checked(&self, kind: Kind, fields: Fields, signer: &Signer, check: Option<&dyn Fn(Vec<Record>) -> Result<()>>) -> Result<RecordRef> {
        let tries = std::cell::Cell::new(0u32);
        let open = || -> Result<EvidenceArchive<Box<dyn Store>>> {
            let chain = self.for_try(&tries)?;
            // On exactly the verified records (a store that moved since is HeadMoved: tried again).
            let archive = EvidenceArchive::open_verified(self.at.open()?, &chain.chain)?;
            if let Some(check) = check {
                check(chain.records.clone())?;
            }
            Ok(archive)
        };
        let done = lz_evidence::archive::append_once(open, kind, fields, signer, AppendRetry { attempts: 50, backoff: std::time::Duration::from_millis(20) });
        self.appended();
        match done {
            Ok(done) => Ok(done.record),
            Err(e) if e.is::<lz_evidence::Refused>() => Err(refuse!("{e:#}")),
            Err(e) if retryable(&e) => Err(e).context("the evidence chain kept moving"),
            Err(e) => Err(e),
        }
    }
}

/// A signer from `--as NAME --key FILE`.
pub fn signer(name: &str, key: &Path) -> Result<Signer> {
    Signer::from_file(name, key)
}

/// The verified cache as a ledger, judged by the genesis pinned in `governance/stores.toml`
/// (never by the working tree's register); `None` when there is no cache.
pub fn cache_ledger(root: &Path) -> Result<Option<Ledger>> {
    let cache = crate::stores::evidence_cache(root);
    if !cache.exists() {
        return Ok(None);
    }
    let trust = crate::stores::Stores::load(root, lz_platform::localstack::ENDPOINT)?.trust_root()?;
    Ok(Some(Ledger::open(&trust, &EvidenceAt::Local(cache))?))
}
