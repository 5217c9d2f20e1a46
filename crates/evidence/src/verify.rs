//! Verification of a chain against a trust root the verifier supplies.
//!
//! Each record is checked in this order, and the first failing check names the reason:
//! canonical form, payload type, signature count, key id (in the register in force at the
//! record's place), encoding, signature (ed25519, see [`crate::sig`]), statement, signer identity, predicate
//! type, signer rule (role, person, group), time, subject digests, kind rules (details, break-glass
//! TTL, workload approvals, register changes, checkpoints, segregation of duties), sequence,
//! previous hash and time order. After the last record every known checkpoint (the signed head,
//! earlier heads a store kept, checkpoints cached by an earlier verification or given by the
//! caller) must name a record of the chain with the same hash, and store-level problems (S3
//! delete markers, overwritten versions) fail the chain.

use anyhow::Result;

use crate::identity::Identities;
use crate::store::{Checkpoint, Store, StoredRecord};

mod adoption;
// Approval classes (issue 31).
mod delegation;
pub use delegation::DELEGATION_MAX_DAYS;
mod incremental;
pub use incremental::{count_verifications, resume_checkpoint, state_digest, verify_store_from, Resumable, Resumed, VerificationCount, STATE_FORMAT};
pub(crate) use incremental::{verify_store_carrying, verify_store_lean};
mod reason;
pub use reason::*;
mod trust;
pub use trust::*;
mod results;
pub use results::*;
mod decode;
mod unique_keys;
mod rules;
pub use rules::*;
mod pipeline;
pub use pipeline::*;
mod accept;
pub(crate) use accept::*;
mod anchors;
mod cache;
mod serial;
pub use cache::*;
#[cfg(test)]
mod testing;

// ---------------------------------------------------------------------------------------------
// Public entry points

/// Verifies a chain against `root` and returns every record decoded, with its signer and the
/// signer's roles as of the record's place in the chain.
///
/// Contract: `Ok` only when every record is canonical, signed ([`crate::sig`]) by a key of the register
/// in force at its place (the trust root's register, changed only by `register-change` records
/// for later records), signed by an identity its kind allows ([`crate::identity::signer_rule`]),
/// linked by sequence and previous hash, not back-dated, and consistent with the kind rules
/// (break-glass TTL and approvals, retrospectives and segregation of duties, checkpoints).
/// A tampered chain or an unusable trust root is `Err` carrying a [`Failure`]
/// (see [`failure_of`]); input that is not an envelope at all is a plain `Err` naming its place.
pub fn verify_chain(records: &[StoredRecord], root: &TrustRoot) -> Result<VerifiedChain> {
    verify_chain_with(records, root, &Anchors::default())
}

/// [`verify_chain`] with a head, earlier heads, known checkpoints and store problems.
pub fn verify_chain_with(records: &[StoredRecord], root: &TrustRoot, anchors: &Anchors) -> Result<VerifiedChain> {
    let mut out = Vec::new();
    let (head, register, pending, rules, quarantined) = run(records, root, anchors, Some(&mut out))?;
    Ok(VerifiedChain { records: out, head, register, pending, rules, quarantined })
}

/// Loads a store and verifies it with its signed head, its earlier heads and its integrity
/// report, plus the `known` checkpoints.
pub fn verify_store(store: &dyn Store, root: &TrustRoot, known: &[KnownCheckpoint]) -> Result<VerifiedChain> {
    // Anchors first: a writer stores its records before it moves the head, so every record a
    // head (or an earlier head) names exists by the time the records are listed.
    let anchors = Anchors::of_store(store, known.to_vec())?;
    let mut out = Vec::new();
    let (head, register, pending, rules, quarantined) = run_store(store, root, &anchors, Some(&mut out), Strategy::default(), &mut None)?;
    Ok(VerifiedChain { records: out, head, register, pending, rules, quarantined })
}

/// Like [`report_of`] for a whole store, read a window at a time ([`Store::windows`]) while
/// the windows before are verified: memory stays flat. Read [`Anchors::of_store`] first.
/// `records` in the report counts the records verified (0 on a failure, which names its record).
pub fn report_of_store(store: &dyn Store, root: &TrustRoot, anchors: &Anchors, strategy: Strategy) -> Result<Report> {
    let outcome = run_store(store, root, anchors, None, strategy, &mut None).map(|(head, _, _, _, q)| (head, q));
    let count = match &outcome {
        // Skipped keys carry no record.
        Ok((Some((last, _)), q)) => *last as usize + 1 - q.iter().filter(|q| q.sequence.is_some_and(|s| s < *last)).count(),
        _ => 0,
    };
    report(outcome, count)
}

/// Verifies `records` against the register `ids` with a checkpoint the caller vouches for
/// (`None`: records must not exist without one). `Err` means the input could not be read; a
/// tampered chain is reported in `Report::failure`. Decodes nothing it does not check.
pub fn verify(records: &[StoredRecord], checkpoint: Option<&Checkpoint>, ids: &Identities) -> Result<Report> {
    let root = TrustRoot::register(ids.clone(), "identities register");
    let anchors = Anchors {
        require_head: checkpoint.is_none(),
        known: checkpoint.map(|c| KnownCheckpoint { checkpoint: c.clone(), source: "checkpoint".into() }).into_iter().collect(),
        ..Default::default()
    };
    report_of(records, &root, &anchors)
}

/// Like [`verify_chain_with`] but returns a [`Report`] and keeps no decoded records.
pub fn report_of(records: &[StoredRecord], root: &TrustRoot, anchors: &Anchors) -> Result<Report> {
    let outcome = run(records, root, anchors, None).map(|(head, _, _, _, q)| (head, q));
    let skipped = outcome.as_ref().map(|(_, q)| q.iter().filter(|q| q.seen && q.sequence.is_some()).count()).unwrap_or(0);
    report(outcome, records.len().saturating_sub(skipped))
}
