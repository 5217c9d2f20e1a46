//! What a verification returns: the records with their signers as registered at their place, the
//! register in force after the chain, and the anchors (heads, checkpoints) it was checked against.

use anyhow::Result;
use time::OffsetDateTime;

use crate::details::Details;
use crate::identity::{Identities, Identity};
use crate::quarantine::Quarantined;
use crate::record::{Kind, Statement};
use crate::store::{Checkpoint, Store, StoredRecord};
use super::reason::Failure;
use super::rules::ChainRules;

// Results

/// A record that passed verification, with its signer as registered AT THAT PLACE of the chain.
#[derive(Clone, Debug)]
pub struct VerifiedRecord {
    pub sequence: u64,
    pub location: String,
    /// sha256 of the canonical envelope.
    pub hash: String,
    pub kind: Kind,
    pub time: OffsetDateTime,
    pub statement: Statement,
    /// The record's details, typed by its kind ([`crate::details`]): what every reader reads.
    pub details: Details,
    /// The signer's register entry (name, kind person/workload, group, roles) in force when
    /// the record was appended; a later register change never alters it.
    pub signer: Identity,
}

/// A verified chain: see [`verify_chain`].
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    pub records: Vec<VerifiedRecord>,
    /// Sequence and hash of the last record.
    pub head: Option<(u64, String)>,
    /// The register in force after the last record.
    pub register: Identities,
    /// Register changes proposed against the register in force and still short of its quorum.
    pub pending: Vec<PendingRegister>,
    /// The rules as they stand after the last record: what an append checks the next record by.
    pub rules: ChainRules,
    /// Foreign objects the chain skips (see [`crate::quarantine`]): findings, never records.
    pub quarantined: Vec<Quarantined>,
}

/// A register change proposed and not in force yet (see [`Kind::RegisterApproval`]).
#[derive(Clone, Debug)]
pub struct PendingRegister {
    /// The proposal's sequence: what its approvals name.
    pub sequence: u64,
    pub register: Identities,
    pub proposer: String,
    pub approvers: Vec<String>,
    /// Approvals still needed (the quorum of the register in force, less those given).
    pub missing: usize,
    /// What the change does, by identity (never counted toward its quorum).
    pub changes: std::collections::BTreeMap<String, String>,
}

impl VerifiedChain {
    /// The author of `release`: the signer of the first `release` record for it.
    pub fn author_of(&self, release: &str) -> Option<&VerifiedRecord> {
        self.records.iter().find(|r| r.kind == Kind::Release && r.statement.predicate.release == release)
    }
}

/// A checkpoint the verifier knows from outside the records, and where it came from.
#[derive(Clone, Debug)]
pub struct KnownCheckpoint {
    pub checkpoint: Checkpoint,
    pub source: String,
}

/// What, besides the records, a verification checks.
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    /// The store's signed head; must verify with a key of the final register.
    pub head: Option<StoredRecord>,
    /// Fail when records exist but there is no head (stores always have one).
    pub require_head: bool,
    /// Earlier signed heads (S3 head versions); each is a known checkpoint once its signature holds.
    pub earlier_heads: Vec<StoredRecord>,
    /// Checkpoints trusted as given (cached by an earlier verification, `--checkpoint`).
    pub known: Vec<KnownCheckpoint>,
    /// Store-level problems (location, what).
    pub problems: Vec<(String, String)>,
    /// The records come from a store with one key per sequence (S3): an object that is not a
    /// valid record at its key, or a head that is not a valid checkpoint, is quarantined
    /// (reported and skipped) instead of failing the chain ([`crate::quarantine`]).
    pub slotted: bool,
    /// Later versions written over record keys (the key's record is its first version): foreign
    /// objects in a slotted store, a store problem otherwise.
    pub later_versions: Vec<(StoredRecord, String)>,
    /// Witnessed checkpoints (C2SP signed notes, [`crate::witness`]): each must be signed by a
    /// registered witness and name a record the chain has, with the same hash.
    pub witnessed: Vec<crate::witness::Witnessed>,
}

impl Anchors {
    /// What a store vouches for: its signed head (required), its earlier heads and its
    /// integrity report, plus the `known` checkpoints the verifier brings. Read these BEFORE
    /// the records (`store.load()`): with concurrent writers, records listed earlier than the
    /// head was read can miss the records that head names.
    pub fn of_store(store: &dyn Store, known: Vec<KnownCheckpoint>) -> Result<Anchors> {
        let head = store.head()?;
        let integrity = store.integrity()?;
        Ok(Anchors {
            head,
            require_head: true,
            earlier_heads: integrity.earlier_heads,
            known,
            problems: integrity.problems,
            slotted: store.slotted(),
            later_versions: integrity.later_versions,
            witnessed: Vec::new(),
        })
    }
}


/// The register a voucher is checked against ([`crate::vouch::verified`]): the one in force
/// after the verified chain. Here, beside the chain, so that the voucher's module never names
/// the verifier.
impl crate::vouch::Registered for VerifiedChain {
    fn register(&self) -> &Identities {
        &self.register
    }
}

/// What a verification that keeps no records returns: how many records it verified, the last
/// one, the failure (if any) and the foreign objects skipped.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub records: usize,
    /// Sequence and hash of the last record.
    pub head: Option<(u64, String)>,
    pub failure: Option<Failure>,
    /// Foreign objects skipped (findings: [`crate::quarantine`]).
    pub quarantined: Vec<Quarantined>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// The [`Report`] of a verification's outcome over `records` records.
pub(super) fn report(outcome: Result<(Option<(u64, String)>, Vec<Quarantined>)>, records: usize) -> Result<Report> {
    match outcome {
        Ok((head, quarantined)) => Ok(Report { records, head, failure: None, quarantined }),
        Err(e) => match e.downcast::<Failure>() {
            Ok(f) => Ok(Report { records, head: None, failure: Some(f), quarantined: Vec::new() }),
            Err(e) => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::verify::*;

    #[test]
    fn a_verified_chain_names_its_head_and_each_record_with_its_signer() {
        let c = testing::chain(2);
        let chain = verify_chain(&c.records, &c.root).unwrap();
        let last = c.records.len() as u64 - 1;
        assert_eq!(chain.head, Some((last, crate::dsse::sha256_hex(&c.records[last as usize].bytes))));
        let sequences: Vec<u64> = chain.records.iter().map(|r| r.sequence).collect();
        assert_eq!(sequences, (0..=last).collect::<Vec<_>>());
        let signers: BTreeSet<&str> = chain.records.iter().map(|r| r.signer.name.as_str()).collect();
        assert_eq!(signers, BTreeSet::from(["approver", "deploy-bot"]));
        assert!(chain.quarantined.is_empty());
    }
}
