//! Verification that resumes from the head of an earlier verification of the same store
//! against the same trust root, reading and checking only the records appended since.
//!
//! A [`Resumable`] is the verifier's state at a head it verified itself, in this process: the
//! hash of every record, the register in force and every register before it, open break-glass
//! sessions and their approvers, release authors, pending register changes, the time of the last
//! record and the earlier heads (S3 head versions) already checked. It is never read from a
//! file, so it is no trust root; see [`crate::mirror`] for what is kept between commands.
//!
//! A resumed pass still reads the store's anchors afresh (the signed head, every object
//! version, delete markers, the number of record objects), checks that the record its
//! checkpoint names is still there with the same hash (every record, for a store that cannot
//! seek), and checks every known checkpoint against the whole chain of hashes: a truncation or
//! a rewrite behind the checkpoint fails the resumed pass. ANY failure of a resumed pass is
//! answered with a full verification, whose verdict (and the record it names) is the one given.
//!
//! Every check of a full verification holds on a resumed pass, over the whole chain: the
//! witnessed checkpoints (`witnessed`: behind-witness, witness-mismatch) and known checkpoints
//! are checked against the carried hashes of every record; foreign objects are reported as a
//! full pass reports them (those the carried records skip are carried, the store's later
//! versions and foreign heads are listed again, foreign objects after the last record are read
//! and judged again); the [`super::ChainRules`] returned are those after the whole chain.

use std::collections::BTreeSet;

use anyhow::Result;
use sha2::{Digest, Sha256};

use super::{run_from, run_store, Anchors, KnownCheckpoint, State, Strategy, TrustRoot, VerifiedChain};
use crate::witness::Witnessed;
use crate::identity::Identities;
use crate::store::{Store, StoredRecord, Windows};

/// The state of a verification at the head it accepted (see the module documentation).
#[derive(Clone)]
pub struct Resumable {
    state: State,
    /// What the trust root and the store were ([`TrustRoot::describe`], [`Store::describe`]):
    /// a state is resumed only for the same pair.
    trust: String,
    store: String,
    /// Earlier heads (their locations: immutable object versions) checked against this chain.
    heads_seen: BTreeSet<String>,
}

impl Resumable {
    /// Sequence and hash of the last record verified.
    pub fn head(&self) -> Option<(u64, String)> {
        self.state.hashes.last().map(|h| (self.state.hashes.len() as u64 - 1, hex::encode(h)))
    }

    /// Records verified (keys of the chain, in a slotted store: foreign objects it skips count).
    pub fn len(&self) -> u64 {
        self.state.expected
    }

    /// Record objects a slotted store holds for this chain: its keys, and the foreign objects
    /// after its last record.
    pub fn objects(&self) -> u64 {
        self.state.expected + self.state.pending.len() as u64
    }

    /// The hash (hex) the chain holds for sequence `seq` (a record, or a foreign object it skips).
    pub fn hash_at(&self, seq: u64) -> Option<String> {
        self.state.hashes.get(seq as usize).map(hex::encode)
    }

    pub fn is_empty(&self) -> bool {
        self.state.expected == 0
    }

    /// The register in force at the head.
    pub fn register(&self) -> &Identities {
        &self.state.register
    }

    /// Earlier heads (locations of immutable object versions) checked against this chain.
    pub fn heads_seen(&self) -> &BTreeSet<String> {
        &self.heads_seen
    }

    /// Whether this state was verified for `store` against `root`.
    pub fn matches(&self, store: &dyn Store, root: &TrustRoot) -> bool {
        self.store == store.describe() && self.trust == root.identity()
    }
}

/// How [`verify_store_from`] verified the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resumed {
    /// Every record (no earlier state, another store or trust root, or the resumed pass failed).
    Full,
    /// Only the records after the earlier head; the chain returned holds only those.
    Suffix,
}

/// Verifies `store` as [`super::verify_store`] does, resuming from `from` when it is a state of
/// the same store and trust root. Returns the chain (with [`Resumed::Suffix`], only the records
/// after `from`'s head; `head`, `register` and `pending` are those of the whole chain), the state
/// at the new head, and how it was verified. The verdict is always that of a full verification.
pub fn verify_store_from(
    store: &dyn Store,
    root: &TrustRoot,
    known: &[KnownCheckpoint],
    witnessed: &[Witnessed],
    from: Option<&Resumable>,
) -> Result<(VerifiedChain, Resumable, Resumed)> {
    if let Some(from) = from.filter(|f| f.matches(store, root) && !f.is_empty()) {
        if let Ok((chain, state)) = resume(store, known, witnessed, from) {
            return Ok((chain, state, Resumed::Suffix));
        }
    }
    let (chain, resumable) = verify_store_carrying(store, root, known, witnessed, 0, true)?;
    Ok((chain, resumable, Resumed::Full))
}

/// A full verification of `store` (record 0 on) whose pass takes the signatures of the records
/// below `carried` as checked ([`super::Strategy::carried`]; 0: every signature is checked).
/// Only [`crate::mirror`] carries, under the conditions it documents. Without `keep`, the pass
/// keeps no verified record, as [`verify_store_lean`] (the witness's job).
pub(crate) fn verify_store_carrying(
    store: &dyn Store,
    root: &TrustRoot,
    known: &[KnownCheckpoint],
    witnessed: &[Witnessed],
    carried: u64,
    keep: bool,
) -> Result<(VerifiedChain, Resumable)> {
    let mut anchors = Anchors::of_store(store, known.to_vec())?;
    anchors.witnessed = witnessed.to_vec();
    let out = full_pass(store, root, &anchors, keep, Strategy { carried, full_statements: !keep, ..Strategy::default() })?;
    if carried > 0 {
        head_covers(&anchors, &out.0.quarantined, carried)?;
    }
    Ok(out)
}

/// A pass that carried signatures counts only when the store's latest head is one the pass
/// accepted (signed by an appender of the register, so not quarantined; its hash was held
/// against the chain in [`super::anchors::finish`]) and names a record at or after the last
/// carried one. The witness's note alone ties the carried records to what one key signed; the
/// head ties them to a second key, the appender's, so neither the witness key with raw writes
/// and a rewritten mirror nor a forged record past the signed head is believed.
fn head_covers(anchors: &Anchors, quarantined: &[crate::Quarantined], carried: u64) -> Result<()> {
    let head = anchors.head.as_ref().filter(|h| !quarantined.iter().any(|q| q.location == h.location));
    let named = head.and_then(|h| crate::store::decode_checkpoint(&h.bytes, &h.location).ok()).map(|(_, p)| p.sequence);
    match named {
        Some(s) if s.saturating_add(1) >= carried => Ok(()),
        Some(s) => anyhow::bail!("the store's signed head names record {s}, before the last of the {carried} records whose signatures were carried"),
        None => anyhow::bail!("the store has no head signed by an appender to hold the {carried} records whose signatures were carried"),
    }
}

/// A full verification of `store` with `anchors` that keeps no verified record: memory holds a
/// few windows and the chain's hashes and locations, whatever its length (the witness job,
/// [`crate::witness::cosign`]). The chain returned holds no records; its head, register,
/// rules and foreign objects are a full verification's, and so is its verdict.
pub(crate) fn verify_store_lean(store: &dyn Store, root: &TrustRoot, anchors: &Anchors) -> Result<(VerifiedChain, Resumable)> {
    // Every record's full statement is decoded and dropped, as a keeping pass decodes it: a
    // record only the light reading accepts is refused here as by every decision command.
    full_pass(store, root, anchors, false, Strategy { full_statements: true, ..Strategy::default() })
}

/// The earlier heads of `anchors` that verification accepted (a quarantined foreign head is
/// read and reported again by every verification).
fn heads_checked<'a>(anchors: &'a Anchors, quarantined: &'a [crate::Quarantined]) -> impl Iterator<Item = String> + 'a {
    anchors.earlier_heads.iter().filter(|h| !quarantined.iter().any(|q| q.location == h.location)).map(|h| h.location.clone())
}

/// A full pass (the same pass as [`super::verify_store`]) with its final state to resume from,
/// keeping the verified records when `keep` (without, the chain returned holds none).
fn full_pass(store: &dyn Store, root: &TrustRoot, anchors: &Anchors, keep: bool, strategy: Strategy) -> Result<(VerifiedChain, Resumable)> {
    let mut last = None;
    let mut records = Vec::new();
    let (head, register, pending, rules, quarantined) = run_store(store, root, anchors, keep.then_some(&mut records), strategy, &mut last)?;
    let state = last.expect("a pass that succeeds leaves its state");
    let heads_seen = heads_checked(anchors, &quarantined).collect();
    let resumable = Resumable { state, trust: root.identity(), store: store.describe(), heads_seen };
    Ok((VerifiedChain { records, head, register, pending, rules, quarantined }, resumable))
}

/// The records a resumed pass finds changed behind its checkpoint.
#[derive(Debug)]
struct PrefixChanged(u64);

impl std::fmt::Display for PrefixChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} is not the record an earlier verification accepted", self.0)
    }
}

impl std::error::Error for PrefixChanged {}

fn resume(store: &dyn Store, known: &[KnownCheckpoint], witnessed: &[Witnessed], from: &Resumable) -> Result<(VerifiedChain, Resumable)> {
    let head = store.head()?;
    // The store may stop listing head versions at one judged before (S3: every older version
    // was listed then). A foreign head quarantined before is listed and reported again by every
    // verification: with one, nothing counts as judged before.
    let foreign_head = from.state.quarantined.iter().any(|q| q.sequence.is_none());
    let none = BTreeSet::new();
    let integrity = store.integrity_except(if foreign_head { &none } else { &from.heads_seen })?;
    let anchors = Anchors {
        head,
        require_head: true,
        earlier_heads: integrity.earlier_heads,
        known: known.to_vec(),
        problems: integrity.problems,
        slotted: store.slotted(),
        later_versions: integrity.later_versions,
        witnessed: witnessed.to_vec(),
    };
    let n = from.state.expected;
    let (first, windows) = store.windows_from(n)?;
    let hashes = &from.state.hashes;
    anyhow::ensure!(first < n, "the store starts its records at {first}, after the checkpoint {}", n - 1);
    let mut seq = first;
    // Whether the record the checkpoint names was read, with its hash: a store that ends before it
    // was truncated.
    let reached = std::rc::Rc::new(std::cell::Cell::new(false));
    let seen = std::rc::Rc::clone(&reached);
    // The records up to the checkpoint are compared by hash and dropped; the rest are verified.
    let suffix = windows.map(move |w| -> Result<Vec<StoredRecord>> {
        let mut w = w?;
        let mut keep_from = 0;
        for r in &w {
            if seq >= n {
                break;
            }
            let h: [u8; 32] = Sha256::digest(&r.bytes).into();
            if hashes.get(seq as usize) != Some(&h) {
                return Err(PrefixChanged(seq).into());
            }
            if seq == n - 1 {
                seen.set(true);
            }
            seq += 1;
            keep_from += 1;
        }
        if keep_from < w.len() && !seen.get() {
            return Err(PrefixChanged(n - 1).into());
        }
        w.drain(..keep_from);
        Ok(w)
    });
    // A store that ends before the checkpoint yields nothing: the hashes of every window are
    // compared above, and the count below catches a store that ends early.
    let mut out = Vec::new();
    let suffix: Windows<'_> = Box::new(suffix.filter(|w| !matches!(w, Ok(w) if w.is_empty())));
    // Foreign objects after the carried chain's last record sit at the keys read next: they
    // are judged again.
    let mut start = from.state.clone();
    start.pending.clear();
    let ((head, register, pending, rules, quarantined), state) = run_from(suffix, start, &anchors, Some(&mut out), Strategy::default())?;
    anyhow::ensure!(reached.get(), "the store ends before the checkpoint (record {})", n - 1);
    if let Some(objects) = integrity.record_objects {
        let keys = state.expected + state.pending.len() as u64;
        anyhow::ensure!(objects == keys, "the store holds {objects} record objects for {keys} keys of the chain");
    }
    let mut heads_seen = from.heads_seen.clone();
    heads_seen.extend(heads_checked(&anchors, &quarantined));
    let resumable = Resumable { state, trust: from.trust.clone(), store: from.store.clone(), heads_seen };
    Ok((VerifiedChain { records: out, head, register, pending, rules, quarantined }, resumable))
}

/// Verification passes run on this thread, for tests that count them ([`count_verifications`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerificationCount {
    /// Passes from record 0.
    pub full: u64,
    /// Passes resumed from an earlier head.
    pub suffix: u64,
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static COUNT: std::cell::Cell<VerificationCount> = const { std::cell::Cell::new(VerificationCount { full: 0, suffix: 0 }) };
}

/// Counts one pass starting at record `from` (test-hooks builds only; nothing otherwise).
pub(super) fn count_pass(from: u64) {
    #[cfg(feature = "test-hooks")]
    COUNT.with(|c| {
        let mut n = c.get();
        if from == 0 {
            n.full += 1;
        } else {
            n.suffix += 1;
        }
        c.set(n);
    });
    let _ = from;
}

/// The passes counted on this thread so far (always zero without the `test-hooks` feature).
pub fn count_verifications() -> VerificationCount {
    #[cfg(feature = "test-hooks")]
    return COUNT.with(|c| c.get());
    #[cfg(not(feature = "test-hooks"))]
    VerificationCount::default()
}

#[cfg(test)]
mod tests;
