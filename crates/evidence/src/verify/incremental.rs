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

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
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
    /// The verified records of the first `upto` keys, decoded again from `objects` (the
    /// objects at the chain's keys from 0 on, as the verifier's mirror holds them) without
    /// verifying them again, each held to the hash this state holds for its key: what decisions
    /// read from the records before a kept state ([`crate::mirror::Mirror::earlier`]), on demand.
    pub fn decode_earlier(&self, objects: Vec<crate::store::StoredRecord>, upto: u64) -> Result<Vec<super::VerifiedRecord>> {
        decode_earlier(&self.state, objects, upto)
    }

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

    /// The register the chain starts from (the trust root's, or the genesis register it pins).
    pub fn first_register(&self) -> Option<&Identities> {
        self.state.registers.first().map(|(_, r)| r.as_ref())
    }

    /// Earlier heads (locations of immutable object versions) checked against this chain.
    pub fn heads_seen(&self) -> &BTreeSet<String> {
        &self.heads_seen
    }

    /// Whether this state was verified for `store` against `root`.
    pub fn matches(&self, store: &dyn Store, root: &TrustRoot) -> bool {
        self.store == store.describe() && self.trust == root.identity()
    }

    /// The checkpoint of the state after the first `size` keys ([`state_digest`]): its
    /// canonical bytes and their sha256 (hex), when this pass ended there or went through it
    /// with [`super::Strategy::capture`] set to it. `None` otherwise (or when foreign objects
    /// were pending there).
    pub fn checkpoint(&self, size: u64) -> Option<Result<(Vec<u8>, String)>> {
        let state = if self.state.expected == size && size > 0 {
            &self.state
        } else {
            self.state.captured.as_deref().filter(|c| c.expected == size)?
        };
        Some(state.checkpoint_bytes().map(|b| {
            let digest = state_digest(&b);
            (b, digest)
        }))
    }

    /// The state a checkpoint's `bytes` hold, to resume verifying `store` against `root` from
    /// ([`resume_checkpoint`]). Refused (with the reason) when the bytes are no state, or when
    /// the state's first register is neither the trust root's register nor a genesis register
    /// it pins (a state of another trust root). Whoever calls this has checked
    /// that a registered witness signed the bytes' digest; the pass from it checks the rest.
    pub fn from_checkpoint(bytes: &[u8], store: &dyn Store, root: &TrustRoot) -> Result<Resumable> {
        let state = State::from_checkpoint(bytes)?;
        let first = state.registers.first().map(|(_, r)| std::sync::Arc::clone(r)).context("the state names no register")?;
        // The register a full pass would start from: the trust root's own, or a genesis register
        // it pins by fingerprint (a landing zone's `genesis_register_sha256`).
        let trusted = match root.start_register() {
            Ok(start) => start.fingerprint() == first.fingerprint(),
            Err(_) => root.vouches_for_genesis(&first, None, &[]),
        };
        anyhow::ensure!(
            trusted,
            "the state starts from register {}, which the trust root ({}) neither is nor pins (a state of another trust root)",
            first.fingerprint(),
            root.describe()
        );
        Ok(Resumable { state, trust: root.identity(), store: store.describe(), heads_seen: BTreeSet::new() })
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
        if let Ok((chain, state)) = resume(store, known, witnessed, from, 0, 0) {
            return Ok((chain, state, Resumed::Suffix));
        }
    }
    let (chain, resumable) = verify_store_carrying(store, root, known, witnessed, 0, true, 0)?;
    Ok((chain, resumable, Resumed::Full))
}

/// A full verification of `store` (record 0 on) whose pass takes the signatures of the records
/// below `carried` as checked ([`super::Strategy::carried`]; 0: every signature is checked).
/// Only [`crate::mirror`] carries, under the conditions it documents. Without `keep`, the pass
/// keeps no verified record, as [`verify_store_lean`] (the witness's job). `capture`: keep the
/// state after that many keys ([`Resumable::checkpoint`]; 0: none).
pub(crate) fn verify_store_carrying(
    store: &dyn Store,
    root: &TrustRoot,
    known: &[KnownCheckpoint],
    witnessed: &[Witnessed],
    carried: u64,
    keep: bool,
    capture: u64,
) -> Result<(VerifiedChain, Resumable)> {
    let mut anchors = Anchors::of_store(store, known.to_vec())?;
    anchors.witnessed = witnessed.to_vec();
    let out = full_pass(store, root, &anchors, keep, Strategy { carried, full_statements: !keep, capture, ..Strategy::default() })?;
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

/// A pass from a checkpoint of the verifier's state ([`Resumable::from_checkpoint`], whose
/// digest a registered witness signed) over the records after it, with every check a resumed
/// pass makes: the store's anchors read afresh (head, earlier heads, versions, markers, the
/// number of record objects), the record the state ends with read from `store` with the
/// state's hash, every known and witnessed checkpoint held against the state's hashes, and the
/// store's latest appender-signed head naming that record or a later one (as for carried
/// signatures: a witness key alone makes nothing believed). `capture`: see
/// [`verify_store_carrying`]. The chain returned holds only the records after the state; the
/// caller checks that the note's signer is a witness of the register in force after it.
pub fn resume_checkpoint(
    store: &dyn Store,
    known: &[KnownCheckpoint],
    witnessed: &[Witnessed],
    from: &Resumable,
    capture: u64,
) -> Result<(VerifiedChain, Resumable)> {
    anyhow::ensure!(from.store == store.describe() && !from.is_empty(), "the state was taken for another store");
    resume(store, known, witnessed, from, capture, from.len())
}

fn resume(store: &dyn Store, known: &[KnownCheckpoint], witnessed: &[Witnessed], from: &Resumable, capture: u64, covers: u64) -> Result<(VerifiedChain, Resumable)> {
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
    start.captured = None;
    let ((head, register, pending, rules, quarantined), state) = run_from(suffix, start, &anchors, Some(&mut out), Strategy { capture, ..Strategy::default() })?;
    anyhow::ensure!(reached.get(), "the store ends before the checkpoint (record {})", n - 1);
    if covers > 0 {
        head_covers(&anchors, &quarantined, covers)?;
    }
    if let Some(objects) = integrity.record_objects {
        let keys = state.expected + state.pending.len() as u64;
        anyhow::ensure!(objects == keys, "the store holds {objects} record objects for {keys} keys of the chain");
    }
    let mut heads_seen = from.heads_seen.clone();
    heads_seen.extend(heads_checked(&anchors, &quarantined));
    let resumable = Resumable { state, trust: from.trust.clone(), store: from.store.clone(), heads_seen };
    Ok((VerifiedChain { records: out, head, register, pending, rules, quarantined }, resumable))
}

// ---------------------------------------------------------------------------------------------
// A checkpoint of the verifier's state (issue 36)
//
// A checkpoint of the verifier's derived state (issue 36): the [`State`] a pass holds after
// record `size - 1` (the register in force and every register before it, pending register
// changes, open break-glass sessions and their approvers, release authors, deployment engines,
// adoptions, delegations, foreign objects skipped, and the hash and location of every key),
// as canonical, versioned bytes and their sha256.
//
// Canonical: one serialization (`serde_json` of a fixed struct, every map written as a list of
// pairs sorted by key, times as Unix nanoseconds, hashes as one hex string, locations as the
// place of the keys when every key sits there), so two passes that derived the same state
// write the same bytes. The witness puts the digest of its state on its note ([`crate::witness`],
// the `state` extension line); a verifier that derived the same state itself keeps it and
// resumes from it in a new process ([`crate::mirror`]) only while the bytes on its disk hash to
// what a registered witness signed. Nothing here is believed because a file says so: a state
// that fails to parse, or whose invariants do not hold, is refused with the reason, and the
// caller verifies as without it.
//
// Not kept: the foreign objects after the last record (`pending`: a resumed pass reads and
// judges them again) and the earlier head versions seen (every one is judged again).
/// The format line of a state checkpoint: a reader refuses any other.
pub const STATE_FORMAT: &str = "lz-evidence-state/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    state: State,
}

impl State {
    /// The canonical bytes of this state (see the module documentation).
    pub(super) fn checkpoint_bytes(&self) -> Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            format: &'a str,
            state: &'a State,
        }
        serde_json::to_vec(&Borrowed { format: STATE_FORMAT, state: self }).context("a verifier state serializes")
    }

    /// The state `bytes` hold: refused (with the reason) when they are not a state of this
    /// format, or when its parts do not fit together (a key without a hash or a location, a
    /// register history that does not start at record 0 or ends elsewhere than the register in
    /// force).
    pub(super) fn from_checkpoint(bytes: &[u8]) -> Result<State> {
        let f: File = serde_json::from_slice(bytes).context("not a verifier state")?;
        if f.format != STATE_FORMAT {
            bail!("a state of format {:?}, not {STATE_FORMAT:?}", f.format);
        }
        let s = f.state;
        if s.hashes.len() as u64 != s.expected || s.locations.len() != s.hashes.len() {
            bail!("the state holds {} hashes and {} locations for {} keys", s.hashes.len(), s.locations.len(), s.expected);
        }
        if s.expected == 0 || s.previous != s.hashes[s.hashes.len() - 1] {
            bail!("the state's previous hash is not the hash of its last key");
        }
        match (s.registers.first(), s.registers.last()) {
            (Some((0, _)), Some((_, last))) if last.fingerprint() == s.register_fp && s.register.fingerprint() == s.register_fp => {}
            _ => bail!("the state's registers do not start at record 0 and end with the register in force"),
        }
        if s.skipped.iter().any(|k| *k >= s.expected) {
            bail!("the state skips a key past its last");
        }
        Ok(s)
    }
}

/// sha256 (hex) of checkpoint bytes: what the witness's `state` line carries.
pub fn state_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The verified records of the first `upto` keys, decoded again from `objects` (the objects at
/// the chain's keys from 0 on, as the verifier's mirror holds them) without verifying them
/// again: each object must hash to what `state` holds for its key (foreign objects the chain
/// skips are passed over), and its signer is the register entry its key id has in the register
/// in force at its place. Decoded on every core.
pub(super) fn decode_earlier(state: &State, objects: Vec<crate::store::StoredRecord>, upto: u64) -> Result<Vec<super::results::VerifiedRecord>> {
    {
        anyhow::ensure!(upto <= state.expected, "the state holds {} keys, not {upto}", state.expected);
        anyhow::ensure!(objects.len() as u64 >= upto, "{} objects for the {upto} keys before the state", objects.len());
        let chunk = (upto as usize).div_ceil(super::decode::workers().max(1)).max(1);
        let parts: Vec<Result<Vec<super::results::VerifiedRecord>>> = std::thread::scope(|s| {
            let handles: Vec<_> = objects[..upto as usize]
                .chunks(chunk)
                .enumerate()
                .map(|(i, part)| s.spawn(move || decode_part(state, part, (i * chunk) as u64)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a decoding worker stopped (panicked)")))).collect()
        });
        let mut out = Vec::with_capacity(upto as usize);
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }
}

fn decode_part(state: &State, objects: &[crate::store::StoredRecord], first: u64) -> Result<Vec<super::results::VerifiedRecord>> {
    use super::decode::{decode, Pre};
    let mut out = Vec::with_capacity(objects.len());
    for (i, rec) in objects.iter().enumerate() {
        let seq = first + i as u64;
        if state.skipped.contains(&seq) {
            continue;
        }
        let hash: [u8; 32] = Sha256::digest(&rec.bytes).into();
        let location = state.locations.get(seq as usize).cloned().unwrap_or_else(|| rec.location.clone());
        anyhow::ensure!(state.hashes.get(seq as usize) == Some(&hash), "{location}: not the record the verifier's state holds for key {seq}");
        let d = match decode(rec, true) {
            Pre::Ok(d) => d,
            _ => bail!("{location}: a record the verifier accepted no longer decodes"),
        };
        let (Some(Ok(statement)), Some(Ok(details))) = (d.full, d.details) else { bail!("{location}: a record the verifier accepted no longer decodes") };
        let kind = crate::record::Kind::from_predicate_type(&statement.predicate_type).with_context(|| format!("{location}: unknown predicate type"))?;
        let time = crate::record::parse_time(&statement.predicate.time).with_context(|| format!("{location}: time"))?;
        let register = state.registers.iter().rev().find(|(from, _)| *from <= seq).map(|(_, r)| r.as_ref()).context("no register before the first")?;
        let signer = register.by_keyid(&d.keyid).with_context(|| format!("{location}: signed by key {} the register at its place does not hold", d.keyid))?;
        anyhow::ensure!(statement.predicate.chain.sequence == seq, "{location}: the record names sequence {}", statement.predicate.chain.sequence);
        out.push(super::results::VerifiedRecord { sequence: seq, location, hash: hex::encode(hash), kind, time, statement, details, signer: signer.clone() });
    }
    Ok(out)
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
