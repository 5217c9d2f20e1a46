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

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::details::{Details, DetailsError};
use crate::dsse::{pae, pae_prefix, Envelope, PAYLOAD_TYPE};
use crate::identity::{describe_rule, Identities, Identity};
use crate::record::{is_digest, parse_time, ChainLink, Kind, Statement, Subject, GENESIS, STATEMENT_TYPE};
use crate::quarantine::{self, Quarantined};
use crate::sig;
use crate::store::{decode_checkpoint, Checkpoint, Store, StoredRecord, CHECKPOINT_PAYLOAD_TYPE};

mod incremental;
// Approval classes (issue 31).
mod delegation;
pub use delegation::DELEGATION_MAX_DAYS;
pub use incremental::{count_verifications, verify_store_from, Resumable, Resumed, VerificationCount};

/// Longest break-glass session, in minutes.
pub const BREAK_GLASS_MAX_MINUTES: i64 = 240;
/// Longest validity of an approved exception, in days after its approval.
pub const EXCEPTION_MAX_DAYS: i64 = 90;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    NoTrustRoot(String),
    Untrusted(String),
    NotCanonical,
    PayloadType(String),
    PayloadEncoding,
    SignatureCount(usize),
    UnknownKey(String),
    WeakKey { identity: String },
    Signature { identity: String },
    Statement(String),
    WrongIdentity { key_of: String, claimed: String },
    Role { identity: String, kind: Kind },
    PredicateType(String),
    SubjectDigest(String),
    Detail(String),
    WorkloadApproval { identity: String },
    BreakGlassTtl(String),
    BreakGlassApproval(String),
    SegregationOfDuties(String),
    RegisterChange(String),
    CheckpointRecord(String),
    /// A delegation or its revocation breaks a rule (issue 31).
    Delegation(String),
    Gap { expected: u64, found: u64 },
    Reordered { expected: u64, found: u64 },
    Duplicate { expected: u64, found: u64 },
    PreviousHash { expected: String, found: String },
    TimeBackwards { previous: String, found: String },
    Truncated { last: Option<u64>, checkpoint: u64 },
    CheckpointMismatch { sequence: u64 },
    CheckpointMissing,
    UnsignedHead(String),
    HeadSignature(String),
    StoreIntegrity(String),
    /// A skip of foreign objects recorded falsely, or not recorded (see [`crate::quarantine`]).
    Quarantine(String),
    /// A record stored under the key of another sequence (a copy or a replay).
    Misplaced { slot: u64, found: u64 },
    /// A witnessed checkpoint that cannot be used (malformed, another chain, no registered witness).
    Witness(String),
    /// The chain is shorter than a witnessed checkpoint: records `last + 1 ..= size - 1` are missing.
    BehindWitness { last: Option<u64>, size: u64, source: String },
    /// The record a witnessed checkpoint names has another hash: the chain was rewritten.
    WitnessMismatch { sequence: u64, source: String },
}

impl Reason {
    /// A stable short code for scripts and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoTrustRoot(_) => "no-trust-root",
            Reason::Untrusted(_) => "untrusted",
            Reason::NotCanonical => "not-canonical",
            Reason::PayloadType(_) => "payload-type",
            Reason::PayloadEncoding => "payload-encoding",
            Reason::SignatureCount(_) => "signature-count",
            Reason::UnknownKey(_) => "unknown-key",
            Reason::WeakKey { .. } => "weak-key",
            Reason::Signature { .. } => "signature",
            Reason::Statement(_) => "statement",
            Reason::WrongIdentity { .. } => "wrong-identity",
            Reason::Role { .. } => "role",
            Reason::PredicateType(_) => "predicate-type",
            Reason::SubjectDigest(_) => "subject-digest",
            Reason::Detail(_) => "detail",
            Reason::WorkloadApproval { .. } => "workload-approval",
            Reason::BreakGlassTtl(_) => "break-glass-ttl",
            Reason::BreakGlassApproval(_) => "break-glass-approval",
            Reason::SegregationOfDuties(_) => "segregation-of-duties",
            Reason::RegisterChange(_) => "register-change",
            Reason::CheckpointRecord(_) => "checkpoint-record",
            Reason::Delegation(_) => "delegation",
            Reason::Gap { .. } => "gap",
            Reason::Reordered { .. } => "reordered",
            Reason::Duplicate { .. } => "duplicate",
            Reason::PreviousHash { .. } => "previous-hash",
            Reason::TimeBackwards { .. } => "time-backwards",
            Reason::Truncated { .. } => "truncated",
            Reason::CheckpointMismatch { .. } => "checkpoint-mismatch",
            Reason::CheckpointMissing => "checkpoint-missing",
            Reason::UnsignedHead(_) => "unsigned-head",
            Reason::HeadSignature(_) => "head-signature",
            Reason::StoreIntegrity(_) => "store-integrity",
            Reason::Quarantine(_) => "quarantine",
            Reason::Misplaced { .. } => "misplaced",
            Reason::Witness(_) => "witness",
            Reason::BehindWitness { .. } => "behind-witness",
            Reason::WitnessMismatch { .. } => "witness-mismatch",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoTrustRoot(e) => write!(f, "no trust root: {e}"),
            Reason::Untrusted(e) => write!(f, "not vouched for by the trust root: {e}"),
            Reason::NotCanonical => write!(f, "the envelope is not in canonical form (bytes were altered)"),
            Reason::PayloadType(t) => write!(f, "payloadType is {t:?}, expected {PAYLOAD_TYPE:?}"),
            Reason::PayloadEncoding => write!(f, "payload or signature is not valid base64"),
            Reason::SignatureCount(n) => write!(f, "{n} signatures, expected exactly 1"),
            Reason::UnknownKey(k) => write!(f, "signed with key {k} which belongs to no registered identity"),
            Reason::WeakKey { identity } => write!(f, "the registered key of {identity} is weak (small order) and proves nothing"),
            Reason::Signature { identity } => {
                write!(f, "signature does not verify (ed25519, RFC 8032 with strict encodings) with the key of {identity}")
            }
            Reason::Statement(e) => write!(f, "payload is not a valid evidence statement: {e}"),
            Reason::WrongIdentity { key_of, claimed } => {
                write!(f, "signed with the key of {key_of} but the record claims identity {claimed}")
            }
            Reason::Role { identity, kind } => {
                write!(f, "{identity} may not sign {kind} records ({}) as registered at this place in the chain", describe_rule(*kind))
            }
            Reason::PredicateType(t) => write!(f, "unknown predicateType {t:?}"),
            Reason::SubjectDigest(e) => write!(f, "subject digest: {e}"),
            Reason::Detail(e) => write!(f, "{e}"),
            Reason::WorkloadApproval { identity } => {
                write!(f, "workload {identity} signed an approval that is not marked automatic: workloads never give human approvals")
            }
            Reason::BreakGlassTtl(e) => write!(f, "break-glass: {e}"),
            Reason::BreakGlassApproval(e) => write!(f, "break-glass approval: {e}"),
            Reason::SegregationOfDuties(e) => write!(f, "segregation of duties: {e}"),
            Reason::RegisterChange(e) => write!(f, "register change: {e}"),
            Reason::CheckpointRecord(e) => write!(f, "checkpoint record: {e}"),
            Reason::Delegation(e) => write!(f, "delegation: {e}"),
            Reason::Gap { expected, found } => {
                write!(f, "sequence {found} where {expected} was expected: record {expected} is missing")
            }
            Reason::Reordered { expected, found } => {
                write!(f, "sequence {found} where {expected} was expected: records are out of order")
            }
            Reason::Duplicate { expected, found } => {
                write!(f, "sequence {found} again where {expected} was expected: a record was inserted or replayed")
            }
            Reason::PreviousHash { expected, found } => {
                write!(f, "previous hash {found} does not match the preceding envelope ({expected}): a record was altered or inserted")
            }
            Reason::TimeBackwards { previous, found } => {
                write!(f, "time {found} is before the preceding record's time {previous}: records cannot be back-dated")
            }
            Reason::Truncated { last, checkpoint } => match last {
                Some(l) => write!(
                    f,
                    "the chain ends at sequence {l} but a known checkpoint records {checkpoint}: records {}..{checkpoint} were removed from the tail",
                    l + 1
                ),
                None => write!(f, "the chain is empty but a known checkpoint records sequence {checkpoint}: the chain was deleted"),
            },
            Reason::CheckpointMismatch { sequence } => {
                write!(f, "a known checkpoint's hash of sequence {sequence} does not match the stored record")
            }
            Reason::CheckpointMissing => write!(f, "records exist but there is no head checkpoint"),
            Reason::UnsignedHead(e) => write!(f, "the head is not a signed checkpoint and is not trusted: {e}"),
            Reason::HeadSignature(e) => write!(f, "the head checkpoint's signature is not valid: {e}"),
            Reason::StoreIntegrity(e) => write!(f, "{e}"),
            Reason::Quarantine(e) => write!(f, "quarantine: {e}"),
            Reason::Misplaced { slot, found } => {
                write!(f, "record of sequence {found} stored under the key of sequence {slot} (a copy or a replay)")
            }
            Reason::Witness(e) => write!(f, "witnessed checkpoint: {e}"),
            Reason::BehindWitness { last, size, source } => {
                let first = last.map_or(0, |l| l + 1);
                let have = last.map_or("the chain is empty".to_string(), |l| format!("the chain ends at record {l}"));
                write!(f, "records {first}..{} are missing: {have} but the {source} vouches for {size} records", size - 1)
            }
            Reason::WitnessMismatch { sequence, source } => write!(
                f,
                "record {sequence} differs from the {source}: the chain was rewritten at or before record {sequence} after it was witnessed"
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Failure {
    pub location: String,
    pub sequence: Option<u64>,
    pub reason: Reason,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sequence {
            Some(s) => write!(f, "{} (sequence {s}): {}", self.location, self.reason),
            None => write!(f, "{}: {}", self.location, self.reason),
        }
    }
}

impl std::error::Error for Failure {}

/// The failure of a verification error, if it is one (tampering or a refused trust root, as
/// opposed to input that cannot be read).
pub fn failure_of(e: &anyhow::Error) -> Option<&Failure> {
    e.downcast_ref::<Failure>()
}

// ---------------------------------------------------------------------------------------------
// Trust root

/// What the verifier trusts, supplied by the verifier and never by the data verified: an
/// identities register (a file, optionally read at a git revision), and/or pinned sha256
/// fingerprints of public keys (key ids) or of register texts.
///
/// The register in force at the start of a chain is:
/// - when record 0 is a `register-change` with previous [`GENESIS`] (a chain that carries its
///   own register from the start): that register, provided the trust root vouches for it (the
///   trust root's register is one of the registers the chain establishes, or a pinned
///   fingerprint is the register's or its signer's key, or the trust root's register has the
///   genesis signer's key in the security group);
/// - otherwise the trust root's register, or an untrusted snapshot (a bundle's) whose
///   fingerprint is pinned.
///
/// Without either, verification fails with "no trust root".
#[derive(Clone, Debug, Default)]
pub struct TrustRoot {
    register: Option<Identities>,
    origin: String,
    pins: BTreeSet<String>,
    snapshot: Option<Identities>,
}

impl TrustRoot {
    /// A register the verifier trusts; `origin` names it in messages.
    pub fn register(identities: Identities, origin: impl Into<String>) -> TrustRoot {
        TrustRoot { register: Some(identities), origin: origin.into(), ..Default::default() }
    }

    /// The register file at `path`.
    pub fn load(path: &Path) -> Result<TrustRoot> {
        Ok(TrustRoot::register(Identities::load(path)?, path.display().to_string()))
    }

    /// `path` (relative to the repository `repo`) as committed at git revision `rev`.
    pub fn load_at_revision(repo: &Path, path: &str, rev: &str) -> Result<TrustRoot> {
        if rev.starts_with('-') || rev.is_empty() {
            bail!("{rev:?} is not a git revision");
        }
        let out = duct::cmd!("git", "-C", repo, "show", format!("{rev}:{path}"))
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .with_context(|| format!("cannot run git to read {path} at {rev}"))?;
        if !out.status.success() {
            bail!("cannot read {path} at revision {rev}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let text = String::from_utf8(out.stdout).with_context(|| format!("{path}@{rev} is not UTF-8"))?;
        let origin = format!("{path}@{rev}");
        Ok(TrustRoot::register(Identities::parse(&text, &origin)?, origin))
    }

    /// `FILE` or `FILE@REV` (a register file, read at a git revision of the repository `repo`
    /// when `@REV` is given; FILE is then relative to the repository).
    pub fn from_spec(repo: &Path, spec: &str) -> Result<TrustRoot> {
        match spec.rsplit_once('@') {
            Some((file, rev)) if !file.is_empty() => {
                let rel = Path::new(file);
                let rel = rel.strip_prefix(repo).unwrap_or(rel);
                let rel = rel.to_str().with_context(|| format!("{file} is not UTF-8"))?;
                TrustRoot::load_at_revision(repo, rel, rev)
            }
            _ => TrustRoot::load(Path::new(spec)),
        }
    }

    /// Pinned fingerprints (64 lowercase hex digits each): key ids or register fingerprints.
    pub fn pinned<I: IntoIterator<Item = S>, S: AsRef<str>>(fingerprints: I) -> Result<TrustRoot> {
        let mut pins = BTreeSet::new();
        for f in fingerprints {
            let f = f.as_ref().trim().to_ascii_lowercase();
            if !is_digest(&f) {
                bail!("pinned fingerprint {f:?} is not 64 hex digits (a key id or a register sha256)");
            }
            pins.insert(f);
        }
        if pins.is_empty() {
            bail!("no fingerprint pinned");
        }
        Ok(TrustRoot { origin: "pinned fingerprints".into(), pins, ..Default::default() })
    }

    /// The register the verifier supplied, if any.
    pub fn supplied_register(&self) -> Option<&Identities> {
        self.register.as_ref()
    }

    /// Adds pins to this root.
    pub fn with_pins(mut self, other: TrustRoot) -> TrustRoot {
        self.pins.extend(other.pins);
        if self.origin.is_empty() {
            self.origin = other.origin;
        }
        self
    }

    /// An untrusted register (a bundle's snapshot): used only when its fingerprint is pinned.
    pub fn with_snapshot(mut self, snapshot: Identities) -> TrustRoot {
        self.snapshot = Some(snapshot);
        self
    }

    /// What this root trusts, in full (the register's whole fingerprint, every pin, the
    /// snapshot's fingerprint): the key of anything cached per trust root (the verifier's mirror,
    /// resumed verification), so that two roots never share one.
    pub fn identity(&self) -> String {
        let register = self.register.as_ref().map(|r| r.fingerprint()).unwrap_or_default();
        let snapshot = self.snapshot.as_ref().map(|r| r.fingerprint()).unwrap_or_default();
        let pins: Vec<&str> = self.pins.iter().map(String::as_str).collect();
        format!("register={register};pins={};snapshot={snapshot}", pins.join(","))
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.register {
            parts.push(format!("register {} ({})", self.origin, crate::record::short(&r.fingerprint())));
        }
        if !self.pins.is_empty() {
            parts.push(format!("{} pinned fingerprint(s)", self.pins.len()));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(" and ")
        }
    }

    /// Trusts pinned fingerprints only (no register, no bundle snapshot).
    pub(crate) fn pins_only(&self) -> bool {
        self.register.is_none() && self.snapshot.is_none() && !self.pins.is_empty()
    }

    pub(crate) fn vouches_for_genesis(&self, register: &Identities, signer: Option<&Identity>, history: &[String]) -> bool {
        if let Some(r) = &self.register {
            if history.contains(&r.fingerprint()) {
                return true;
            }
            if let Some(s) = signer {
                if r.by_keyid(&s.keyid).is_some_and(|i| i.group == crate::identity::SECURITY_GROUP && i.is_person()) {
                    return true;
                }
            }
        }
        self.pins.contains(&register.fingerprint()) || signer.is_some_and(|s| self.pins.contains(&s.keyid))
    }

    fn start_register(&self) -> Result<Identities, Reason> {
        if let Some(r) = &self.register {
            return Ok(r.clone());
        }
        if let Some(s) = &self.snapshot {
            if self.pins.contains(&s.fingerprint()) {
                return Ok(s.clone());
            }
            return Err(Reason::NoTrustRoot(format!(
                "the bundle's register snapshot ({}) is not pinned; pass --trust-root FILE[@REV] or --pin with its fingerprint",
                s.fingerprint()
            )));
        }
        if self.pins.is_empty() {
            return Err(Reason::NoTrustRoot("pass --trust-root FILE[@REV] or --pin FINGERPRINT".into()));
        }
        Err(Reason::NoTrustRoot(
            "the pinned fingerprints anchor only a chain that starts with its own register (a genesis register-change)".into(),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
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

fn report(outcome: Result<(Option<(u64, String)>, Vec<Quarantined>)>, records: usize) -> Result<Report> {
    match outcome {
        Ok((head, quarantined)) => Ok(Report { records, head, failure: None, quarantined }),
        Err(e) => match e.downcast::<Failure>() {
            Ok(f) => Ok(Report { records, head: None, failure: Some(f), quarantined: Vec::new() }),
            Err(e) => Err(e),
        },
    }
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

// ---------------------------------------------------------------------------------------------
// Decoding (parallel, once per record)

#[derive(Deserialize)]
struct LightPredicate {
    chain: ChainLink,
    identity: String,
    time: String,
    release: String,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    plan_digest: Option<String>,
    // Read before the chain pass (the genesis register, the register history) and by the
    // quarantine of a slotted store; the rules read the typed details (crate::details).
    #[serde(default)]
    register: Option<Value>,
    #[serde(default)]
    register_sha256: Option<Value>,
    #[serde(default)]
    previous_register_sha256: Option<Value>,
    // Quarantine of foreign objects (issue 24).
    #[serde(default)]
    quarantined: Option<Value>,
}

#[derive(Deserialize)]
struct LightStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: LightPredicate,
}

/// One record decoded: what the signature covers and what the checks need.
struct Decoded {
    keyid: String,
    payload: Vec<u8>,
    signature: [u8; 64],
    hash: [u8; 32],
    statement: Result<LightStatement, String>,
    full: Option<Result<Statement, String>>,
    /// The record's details parsed as its kind (`None` for an unknown kind).
    details: Option<Result<Details, DetailsError>>,
}

enum Pre {
    Unreadable(String),
    Bad(Reason),
    Ok(Box<Decoded>),
}

impl Decoded {
    /// The signature decoded for the group equation with `key`, `None` if an encoding is refused.
    fn prepare(&self, key: &VerifyingKey) -> Option<sig::Prepared> {
        sig::prepare(key, &self.signature, &[&pae_prefix(PAYLOAD_TYPE, self.payload.len()), &self.payload])
    }

    fn verifies(&self, key: &VerifyingKey) -> bool {
        self.prepare(key).is_some_and(|p| sig::check(&p))
    }
}

/// A record in the canonical envelope form whose strings need no escaping, read without
/// serde: what [`decode`] would find, or `None` when the bytes are anything else (the caller
/// then decodes with serde and compares with the re-serialization, which names what is wrong).
///
/// The payload and signature are base64: when they decode, they hold only the base64
/// alphabet, so they needed no escaping either.
fn decode_canonical(bytes: &[u8]) -> Option<(Vec<u8>, &str, &str, Vec<u8>)> {
    fn field<'a>(rest: &mut &'a [u8], after: &[u8]) -> Option<&'a [u8]> {
        let end = memchr::memchr(b'"', rest)?;
        let text = &rest[..end];
        *rest = rest[end..].strip_prefix(after)?;
        Some(text)
    }
    fn plain(text: &[u8]) -> Option<&str> {
        // serde_json escapes exactly these.
        if text.iter().any(|b| *b < 0x20 || *b == b'\\') {
            return None;
        }
        std::str::from_utf8(text).ok()
    }
    let mut rest = bytes.strip_prefix(b"{\"payload\":\"".as_slice())?;
    let payload = field(&mut rest, b"\",\"payloadType\":\"")?;
    let payload_type = plain(field(&mut rest, b"\",\"signatures\":[{\"keyid\":\"")?)?;
    let keyid = plain(field(&mut rest, b"\",\"sig\":\"")?)?;
    let sig = field(&mut rest, b"\"}]}")?;
    if !rest.is_empty() || payload_type != PAYLOAD_TYPE {
        return None;
    }
    Some((B64.decode(payload).ok()?, payload_type, keyid, B64.decode(sig).ok()?))
}

fn decode(rec: &StoredRecord, keep: bool) -> Pre {
    let (payload, keyid, sig_bytes) = match decode_canonical(&rec.bytes) {
        Some((payload, _, keyid, sig)) => (payload, keyid.to_string(), sig),
        None => {
            let env: Envelope = match serde_json::from_slice(&rec.bytes) {
                Ok(e) => e,
                Err(e) => return Pre::Unreadable(format!("{}: not a DSSE envelope: {e}", rec.location)),
            };
            if env.to_canonical() != rec.bytes {
                return Pre::Bad(Reason::NotCanonical);
            }
            if env.payload_type != PAYLOAD_TYPE {
                return Pre::Bad(Reason::PayloadType(env.payload_type));
            }
            if env.signatures.len() != 1 {
                return Pre::Bad(Reason::SignatureCount(env.signatures.len()));
            }
            let sig = &env.signatures[0];
            let (Ok(payload), Ok(sig_bytes)) = (env.payload_bytes(), B64.decode(&sig.sig)) else {
                return Pre::Bad(Reason::PayloadEncoding);
            };
            (payload, sig.keyid.clone(), sig_bytes)
        }
    };
    let Ok(signature) = <[u8; 64]>::try_from(sig_bytes.as_slice()) else {
        return Pre::Bad(Reason::PayloadEncoding);
    };
    let statement = serde_json::from_slice::<LightStatement>(&payload).map_err(|e| e.to_string());
    let full = keep.then(|| serde_json::from_slice::<Statement>(&payload).map_err(|e| e.to_string()));
    // The typed details of the record's kind (the one reader of details, crate::details).
    let kind = statement.as_ref().ok().and_then(|st| Kind::from_predicate_type(&st.predicate_type));
    let details = kind.map(|kind| match &full {
        Some(Ok(st)) => Details::parse(kind, &st.predicate.details),
        _ => Details::from_payload(kind, &payload),
    });
    Pre::Ok(Box::new(Decoded { keyid, payload, signature, hash: Sha256::digest(&rec.bytes).into(), statement, full, details }))
}

fn workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8)
}

// ---------------------------------------------------------------------------------------------
// The sequential pass

#[derive(Clone)]
struct BreakGlass {
    opener: String,
    release: String,
    environment: Option<String>,
    opened: OffsetDateTime,
    expires: OffsetDateTime,
    approvers: Vec<String>,
}

/// A register change proposed and not yet in force.
#[derive(Clone)]
struct Proposal {
    register: Identities,
    fingerprint: String,
    /// The register it replaces: it comes into force only while that one is still in force.
    previous: String,
    proposer: String,
    /// Identities the change adds, removes or alters (never counted toward its quorum).
    subjects: BTreeSet<String>,
    approvers: BTreeSet<String>,
}

#[derive(Clone)]
struct State {
    /// Shared so that the signer of a record can be borrowed while the state changes.
    register: std::sync::Arc<Identities>,
    register_fp: String,
    history: Vec<String>,
    /// Every register the chain put in force, with the first sequence it judges (0 for the
    /// one the chain starts with): signed heads are judged by the register of their place.
    registers: Vec<(u64, std::sync::Arc<Identities>)>,
    /// Register changes proposed and awaiting their quorum, by the proposal's sequence.
    proposals: HashMap<u64, Proposal>,
    expected: u64,
    previous: [u8; 32],
    last_time: Option<(OffsetDateTime, String)>,
    hashes: Vec<[u8; 32]>,
    /// Where each record was read (a checkpoint that names a record with another hash points there).
    locations: Vec<String>,
    break_glass: HashMap<u64, BreakGlass>,
    authors: HashMap<String, String>,
    /// Quarantine (issue 24): objects of a slotted store are judged at their key.
    slotted: bool,
    /// Foreign objects since the last valid record (the next record must record them).
    pending: Vec<Quarantined>,
    /// Foreign objects skipped, recorded or not.
    quarantined: Vec<Quarantined>,
    /// Sequences of skipped keys (their place in `hashes` holds the foreign object's sha256).
    skipped: BTreeSet<u64>,
    /// Delegations of approval classes (issue 31).
    delegations: delegation::Delegations,
}

fn hex32(h: &[u8; 32]) -> String {
    hex::encode(h)
}

fn fail(location: &str, sequence: Option<u64>, reason: Reason) -> anyhow::Error {
    anyhow::Error::new(Failure { location: location.to_string(), sequence, reason })
}

fn as_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// RFC 3339 time or YYYY-MM-DD (midnight UTC).
fn time_or_date(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = parse_time(s) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).ok().map(|d| d.midnight().assume_utc())
}

fn check_subjects(st: &LightStatement, kind: Kind) -> Result<(), String> {
    for s in &st.subject {
        if !is_digest(&s.digest.sha256) {
            return Err(format!("subject {:?} has malformed digest {:?}", s.name, s.digest.sha256));
        }
    }
    let p = &st.predicate;
    match st.subject.iter().find(|s| s.name == "release") {
        Some(s) if s.digest.sha256 == p.release => {}
        Some(s) => return Err(format!("release subject {} differs from the predicate's release {}", s.digest.sha256, p.release)),
        None => return Err("no release subject".into()),
    }
    let plans: Vec<&Subject> = st.subject.iter().filter(|s| s.name == "plan" || s.name.starts_with("plan/")).collect();
    match (&p.plan_digest, plans.as_slice()) {
        (Some(d), [s]) if &s.digest.sha256 == d => {}
        (Some(d), [s]) => return Err(format!("plan subject {} differs from the predicate's plan digest {d}", s.digest.sha256)),
        (None, []) if !kind.needs_plan() => {}
        (None, []) => return Err(format!("a {kind} record must name its plan")),
        _ => return Err("plan subject and plan digest disagree".into()),
    }
    if st.subject.len() != 1 + plans.len() {
        return Err("unexpected extra subjects".into());
    }
    Ok(())
}

/// Rules a record satisfies on its own (no other record needed): details, workload approvals,
/// break-glass TTL, exception approval dates. Shared by append and verification. `details` are
/// the record's own, parsed as its kind ([`Details::parse`]).
fn record_rules(kind: Kind, signer: &Identity, p: &LightPredicate, details: &Details, time: OffsetDateTime) -> Result<(), Reason> {
    if kind.needs_environment() && p.environment.is_none() {
        return Err(Reason::Detail(format!("a {kind} record needs an environment")));
    }
    match details {
        Details::Approval(a) if !signer.is_person() && a.auto != Some(true) => {
            Err(Reason::WorkloadApproval { identity: signer.name.clone() })
        }
        Details::BreakGlass(b) => {
            let expires = parse_time(&b.expires).map_err(|_| Reason::BreakGlassTtl("expires is not an RFC 3339 time".into()))?;
            let minutes = (expires - time).whole_minutes();
            if expires <= time || minutes > BREAK_GLASS_MAX_MINUTES {
                return Err(Reason::BreakGlassTtl(format!(
                    "the session lasts {minutes} minutes (from {} to {}); at most {BREAK_GLASS_MAX_MINUTES} are allowed",
                    crate::record::format_time(time),
                    crate::record::format_time(expires)
                )));
            }
            Ok(())
        }
        Details::RegisterApproval(r) => {
            if !is_digest(&r.register_sha256) {
                return Err(Reason::Detail("register_sha256 of a register-approval record is not a sha256 digest".into()));
            }
            Ok(())
        }
        Details::GovernancePin(g) => {
            for (key, v) in [("governance_sha256", &g.governance_sha256), ("register_sha256", &g.register_sha256)] {
                if !is_digest(v) {
                    return Err(Reason::Detail(format!("{key} of a governance-pin record is not a sha256 digest")));
                }
            }
            Ok(())
        }
        // Approval classes (issue 31): signed by the delegator, a bounded period.
        Details::Delegation(d) => delegation::period(signer, d, time).map(|_| ()),
        // Crash-safe promotion (issue 35): the lock and the run it names are not empty.
        Details::LockRecovery(l) => {
            for (key, v) in [("lock_id", &l.lock_id), ("run", &l.run)] {
                if v.trim().is_empty() {
                    return Err(Reason::Detail(format!("{key} of a lock-recovery record is not a non-empty string")));
                }
            }
            Ok(())
        }
        Details::ExceptionApproval(e) => {
            let date = |key: &str, v: &str| {
                time_or_date(v).ok_or_else(|| Reason::Detail(format!("{key} of an exception-approval is not a date")))
            };
            let (created, expires) = (date("created", &e.created)?, date("expires", &e.expires)?);
            if !(created <= time && time <= expires && expires <= time + time::Duration::days(EXCEPTION_MAX_DAYS)) {
                return Err(Reason::Detail(format!(
                    "an exception approval needs created <= approval time <= expires <= approval + {EXCEPTION_MAX_DAYS} days (created {}, approved {}, expires {})",
                    crate::record::format_time(created),
                    crate::record::format_time(time),
                    crate::record::format_time(expires)
                )));
            }
            if e.owner == signer.name {
                return Err(Reason::SegregationOfDuties(format!("{} owns the exception and cannot approve it", e.owner)));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Details of another kind than the record's (never from [`Details::parse`]).
fn wrong_details(kind: Kind, details: &Details) -> Reason {
    Reason::Detail(format!("a {kind} record carries the details of a {} record", details.kind()))
}

/// The details of a record, or the verifier's reason to reject them (naming the field).
fn details_of(d: &Option<Result<Details, DetailsError>>) -> Result<&Details, Reason> {
    match d {
        Some(Ok(d)) => Ok(d),
        Some(Err(e)) => Err(Reason::Detail(e.to_string())),
        None => Err(Reason::Detail("the record's details were not decoded".into())),
    }
}

/// Checks a statement the archive is about to sign against the rules verification applies to
/// a record on its own.
pub(crate) fn check_new_record(kind: Kind, signer: &Identity, register: &Identities, statement: &Statement) -> Result<()> {
    let payload = serde_json::to_vec(statement)?;
    let st: LightStatement = serde_json::from_slice(&payload).context("a statement decodes")?;
    let time = parse_time(&st.predicate.time)?;
    let details = Details::parse(kind, &statement.predicate.details)?;
    record_rules(kind, signer, &st.predicate, &details, time).map_err(|r| anyhow::anyhow!("{r}"))?;
    if let Details::ExceptionApproval(e) = &details {
        if register.get(&e.owner).is_none() {
            bail!("the exception's owner {:?} is not a registered identity", e.owner);
        }
    }
    Ok(())
}

/// The rules of a verified chain as they stand after its last record: what verification would
/// check the next record by, beyond the record on its own (break-glass references and windows,
/// retrospectives, checkpoint records, register changes and approvals, exception owners). The
/// archive judges an append by it ([`crate::EvidenceArchive::open_verified`]), so a record that
/// verification would reject is refused before it is written, by the verifier's own code.
#[derive(Clone, Default)]
pub struct ChainRules(Option<Box<State>>);

impl std::fmt::Debug for ChainRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(s) => write!(f, "ChainRules {{ after: {} records }}", s.expected),
            None => f.write_str("ChainRules { none }"),
        }
    }
}

impl ChainRules {
    /// Whether these are the rules after the chain's last record (a chain verified with its
    /// records kept); without them [`ChainRules::admit`] checks nothing.
    pub fn known(&self) -> bool {
        self.0.is_some()
    }

    /// Number of records these rules come after.
    pub fn after(&self) -> Option<u64> {
        self.0.as_ref().map(|s| s.expected)
    }

    /// Judges `statement`, signed by `signer` (its entry in the register in force) and sealed
    /// into envelope bytes hashing to `hash` (hex), as the next record: the checks of
    /// [`State::accept`] that do not need its signature. `Ok` moves the rules past it (a batch is
    /// judged record by record); `Err` is the reason verification would reject it.
    pub fn admit(&mut self, kind: Kind, signer: &Identity, statement: &Statement, hash: &str) -> Result<(), Reason> {
        let Some(state) = self.0.as_deref_mut() else { return Ok(()) };
        let payload = serde_json::to_vec(statement).map_err(|e| Reason::Statement(e.to_string()))?;
        let st: LightStatement = serde_json::from_slice(&payload).map_err(|e| Reason::Statement(e.to_string()))?;
        let p = &st.predicate;
        let time = parse_time(&p.time).map_err(|e| Reason::Statement(format!("time: {e:#}")))?;
        check_subjects(&st, kind).map_err(Reason::SubjectDigest)?;
        let details = Details::parse(kind, &statement.predicate.details).map_err(|e| Reason::Detail(e.to_string()))?;
        record_rules(kind, signer, p, &details, time)?;
        let new_register = state.chain_rules(kind, signer, p, &details, time)?;
        let mut h = [0u8; 32];
        hex::decode_to_slice(hash, &mut h).map_err(|e| Reason::Statement(format!("hash: {e}")))?;
        state.last_time = Some((time, p.time.clone()));
        // Its key's sequence: past any foreign objects it records as skipped.
        state.expected = p.chain.sequence + 1;
        state.pending.clear();
        state.previous = h;
        state.hashes.push(h);
        if let Some(ids) = new_register {
            state.register_fp = ids.fingerprint();
            state.history.push(state.register_fp.clone());
            state.register = std::sync::Arc::new(ids);
            state.registers.push((p.chain.sequence + 1, std::sync::Arc::clone(&state.register)));
        }
        Ok(())
    }
}

impl State {
    /// Every check of one record after its signature, in order; updates the state.
    fn accept(
        &mut self,
        rec: &StoredRecord,
        d: &Decoded,
        signer: &Identity,
        later: &mut dyn FnMut() -> Result<Vec<StoredRecord>>,
    ) -> Result<(Kind, OffsetDateTime, Option<Identities>), anyhow::Error> {
        let st = match &d.statement {
            Ok(s) => s,
            Err(e) => return Err(fail(&rec.location, None, Reason::Statement(e.clone()))),
        };
        let p = &st.predicate;
        let seq = Some(p.chain.sequence);
        let bad = |r| fail(&rec.location, seq, r);
        if st.statement_type != STATEMENT_TYPE {
            return Err(bad(Reason::Statement(format!("_type is {:?}", st.statement_type))));
        }
        if p.identity != signer.name {
            return Err(bad(Reason::WrongIdentity { key_of: signer.name.clone(), claimed: p.identity.clone() }));
        }
        let Some(kind) = Kind::from_predicate_type(&st.predicate_type) else {
            return Err(bad(Reason::PredicateType(st.predicate_type.clone())));
        };
        if !signer.may_sign(kind) {
            return Err(bad(Reason::Role { identity: signer.name.clone(), kind }));
        }
        let time = match parse_time(&p.time) {
            Ok(t) => t,
            Err(e) => return Err(bad(Reason::Statement(format!("time: {e:#}")))),
        };
        if let Err(e) = check_subjects(st, kind) {
            return Err(bad(Reason::SubjectDigest(e)));
        }
        // In a slotted store the links come first: a record quarantined for not linking must
        // not have changed the state (break-glass, proposals) on its way.
        if self.slotted {
            self.links(&rec.location, p, time, later)?;
        }
        let details = details_of(&d.details).map_err(bad)?;
        record_rules(kind, signer, p, details, time).map_err(bad)?;
        let new_register = self.chain_rules(kind, signer, p, details, time).map_err(bad)?;
        if !self.slotted {
            self.links(&rec.location, p, time, later)?;
        }
        Ok((kind, time, new_register))
    }

    /// Chain links: sequence (with the skips of foreign objects it records), previous hash, time.
    fn links(
        &self,
        location: &str,
        p: &LightPredicate,
        time: OffsetDateTime,
        later: &mut dyn FnMut() -> Result<Vec<StoredRecord>>,
    ) -> Result<()> {
        let expected = self.expected;
        let found = p.chain.sequence;
        let bad = |r| fail(location, Some(found), r);
        if let Some(slot) = quarantine::slot_of(location).filter(|_| self.slotted) {
            if slot != found {
                return Err(bad(Reason::Misplaced { slot, found }));
            }
        }
        let declared = quarantine::declared(p.quarantined.as_ref()).map_err(|e| bad(Reason::Quarantine(e)))?;
        let skips_ok = if !declared.is_empty() || (self.slotted && found > expected) {
            quarantine::check_skips(expected, found, &declared, &self.pending, self.slotted)
                .map_err(|e| bad(Reason::Quarantine(e)))?
                .is_some()
        } else {
            found == expected
        };
        if !skips_ok {
            let reason = if found < expected {
                Reason::Duplicate { expected, found }
            } else if self.appears_later(&later()?, expected) {
                Reason::Reordered { expected, found }
            } else {
                Reason::Gap { expected, found }
            };
            return Err(bad(reason));
        }
        let mut previous = [0u8; 64];
        hex::encode_to_slice(self.previous, &mut previous).expect("64 hex digits");
        if p.chain.previous.as_bytes() != previous {
            return Err(bad(Reason::PreviousHash { expected: hex32(&self.previous), found: p.chain.previous.clone() }));
        }
        if let Some((last, shown)) = &self.last_time {
            // Times compare in whole seconds: a record in the same second is not back-dated.
            if crate::record::whole_seconds(time) < crate::record::whole_seconds(*last) {
                return Err(bad(Reason::TimeBackwards { previous: shown.clone(), found: p.time.clone() }));
            }
        }
        Ok(())
    }

    /// Whether a later record (checked as far as its signature) carries `sequence`.
    fn appears_later(&self, later: &[StoredRecord], sequence: u64) -> bool {
        later.iter().any(|r| match decode(r, false) {
            Pre::Ok(d) => match (&d.statement, lookup_in(&self.register, &d.keyid)) {
                (Ok(st), Ok((_, key))) => st.predicate.chain.sequence == sequence && d.verifies(&key),
                _ => false,
            },
            _ => false,
        })
    }

    /// Rules that need earlier records; returns the new register of a register change.
    fn chain_rules(
        &mut self,
        kind: Kind,
        signer: &Identity,
        p: &LightPredicate,
        details: &Details,
        time: OffsetDateTime,
    ) -> Result<Option<Identities>, Reason> {
        let seq = p.chain.sequence;
        match kind {
            Kind::Release => {
                self.authors.entry(p.release.clone()).or_insert_with(|| signer.name.clone());
            }
            Kind::BreakGlass => {
                let Details::BreakGlass(b) = details else { return Err(wrong_details(kind, details)) };
                let expires = parse_time(&b.expires).unwrap_or(time);
                self.break_glass.insert(
                    seq,
                    BreakGlass {
                        opener: signer.name.clone(),
                        release: p.release.clone(),
                        environment: p.environment.clone(),
                        opened: time,
                        expires,
                        approvers: Vec::new(),
                    },
                );
            }
            Kind::BreakGlassApproval | Kind::Retrospective => {
                let bg_seq = match details {
                    Details::BreakGlassApproval(a) => a.break_glass_sequence,
                    Details::Retrospective(r) => r.break_glass_sequence,
                    _ => return Err(wrong_details(kind, details)),
                };
                let Some(bg) = self.break_glass.get_mut(&bg_seq) else {
                    let r = format!("sequence {bg_seq} is not an earlier break-glass record");
                    return Err(if kind == Kind::Retrospective { Reason::SegregationOfDuties(r) } else { Reason::BreakGlassApproval(r) });
                };
                if bg.opener == signer.name {
                    return Err(Reason::SegregationOfDuties(format!(
                        "{} opened break-glass {bg_seq} and cannot sign its {kind}",
                        signer.name
                    )));
                }
                if let Some(author) = self.authors.get(&bg.release) {
                    if *author == signer.name {
                        return Err(Reason::SegregationOfDuties(format!(
                            "{author} authored release {} and cannot sign the {kind} of break-glass {bg_seq}",
                            crate::record::short(&bg.release)
                        )));
                    }
                }
                if kind == Kind::BreakGlassApproval {
                    if p.environment != bg.environment {
                        return Err(Reason::BreakGlassApproval(format!("it names another environment than break-glass {bg_seq}")));
                    }
                    if time > bg.expires {
                        return Err(Reason::BreakGlassApproval(format!("given after break-glass {bg_seq} expired")));
                    }
                    bg.approvers.push(signer.name.clone());
                }
            }
            Kind::Deployment => {
                let Details::Deployment(dep) = details else { return Err(wrong_details(kind, details)) };
                if let Some(bg_seq) = dep.break_glass {
                    let Some(bg) = self.break_glass.get(&bg_seq) else {
                        return Err(Reason::BreakGlassApproval(format!(
                            "the deployment names break-glass {bg_seq}, which is no earlier break-glass record"
                        )));
                    };
                    if bg.approvers.is_empty() {
                        return Err(Reason::BreakGlassApproval(format!(
                            "the deployment uses break-glass {bg_seq}, which no second person approved"
                        )));
                    }
                    if time < bg.opened || time >= bg.expires || p.environment != bg.environment {
                        return Err(Reason::BreakGlassTtl(format!(
                            "the deployment is outside break-glass {bg_seq} (its time or environment)"
                        )));
                    }
                }
            }
            // Approval classes (issue 31): an approval that claims a delegation names one that
            // holds for its signer, class and time.
            Kind::Approval => {
                let Details::Approval(a) = details else { return Err(wrong_details(kind, details)) };
                for c in a.classes.iter().flatten() {
                    self.delegations.check_claim(c, &signer.name, time)?;
                }
            }
            // Approval classes (issue 31): delegate registered, no cycle, no re-delegation.
            Kind::Delegation => {
                let Details::Delegation(d) = details else { return Err(wrong_details(kind, details)) };
                self.delegations.delegate(seq, &self.register, d, time, signer)?;
            }
            Kind::DelegationRevocation => {
                let Details::DelegationRevocation(r) = details else { return Err(wrong_details(kind, details)) };
                self.delegations.revoke(r, signer)?;
            }
            Kind::ExceptionApproval => {
                let Details::ExceptionApproval(e) = details else { return Err(wrong_details(kind, details)) };
                let owner = e.owner.as_str();
                if self.register.get(owner).is_none() {
                    return Err(Reason::Detail(format!(
                        "the exception's owner {owner:?} is not a registered identity (owners are named by identity, not by spelling)"
                    )));
                }
            }
            Kind::Checkpoint => {
                let Details::Checkpoint(c) = details else { return Err(wrong_details(kind, details)) };
                let (at, hash) = (c.checkpoint_sequence, c.checkpoint_hash.as_str());
                match self.hashes.get(at as usize) {
                    _ if self.skipped.contains(&at) => {
                        return Err(Reason::CheckpointRecord(format!("it names sequence {at}, a quarantined foreign object")))
                    }
                    Some(h) if at < seq && hex32(h) == hash => {}
                    Some(_) if at < seq => {
                        return Err(Reason::CheckpointRecord(format!("the hash it records for sequence {at} is not that record's hash")))
                    }
                    _ => return Err(Reason::CheckpointRecord(format!("it names sequence {at}, which is not an earlier record"))),
                }
            }
            Kind::RegisterChange => {
                let Details::RegisterChange(c) = details else { return Err(wrong_details(kind, details)) };
                let text = c.register.as_str();
                let fp = hex::encode(Sha256::digest(text.as_bytes()));
                if c.register_sha256 != fp {
                    return Err(Reason::RegisterChange("register_sha256 is not the sha256 of the register text".into()));
                }
                let previous = c.previous_register_sha256.as_str();
                // The genesis: at record 0, or (`crate::genesis_after`) the first record of a chain
                // whose earlier keys hold only skipped foreign objects, carrying the register
                // the verifier started from (its trust root vouched for it), or any while the
                // register in force is empty (an appender judging the genesis it is about to
                // write; verification then starts from it only if the trust root vouches).
                let genesis =
                    previous == GENESIS && (seq == 0 || (self.last_time.is_none() && (fp == self.register_fp || self.register.is_empty())));
                let want = if genesis { GENESIS.to_string() } else { self.register_fp.clone() };
                if previous != want {
                    return Err(Reason::RegisterChange(format!(
                        "it replaces register {previous} but the register in force is {} (a later register cannot judge earlier records)",
                        self.register_fp
                    )));
                }
                let ids =
                    Identities::parse(text, &format!("register of record {seq}")).map_err(|e| Reason::RegisterChange(format!("{e:#}")))?;
                if genesis {
                    // The register a chain starts with; the verifier's trust root vouched for it.
                    return Ok(Some(ids));
                }
                // Any later register is only a proposal until a quorum of the security group
                // approves it: one key never changes who is registered.
                let subjects = self.register.changes_to(&ids).into_keys().collect();
                self.proposals.insert(
                    seq,
                    Proposal { register: ids, fingerprint: fp, previous: previous.to_string(), proposer: signer.name.clone(), subjects, approvers: BTreeSet::new() },
                );
            }
            Kind::RegisterApproval => {
                let Details::RegisterApproval(a) = details else { return Err(wrong_details(kind, details)) };
                let at = a.proposal_sequence;
                let quorum = self.register.quorum();
                let Some(proposal) = self.proposals.get_mut(&at) else {
                    return Err(Reason::RegisterChange(format!(
                        "it approves sequence {at}, which is no register change awaiting approval (never proposed, already in force, or not a register-change record)"
                    )));
                };
                if a.register_sha256 != proposal.fingerprint {
                    return Err(Reason::RegisterChange(format!(
                        "it approves register {} but the proposal at sequence {at} is register {}",
                        a.register_sha256,
                        proposal.fingerprint
                    )));
                }
                if proposal.previous != self.register_fp {
                    return Err(Reason::RegisterChange(format!(
                        "the proposal at sequence {at} replaces register {} but register {} came into force since: propose again",
                        proposal.previous, self.register_fp
                    )));
                }
                if proposal.proposer == signer.name {
                    return Err(Reason::SegregationOfDuties(format!(
                        "{} proposed the register change at sequence {at} and cannot approve it",
                        signer.name
                    )));
                }
                if proposal.subjects.contains(&signer.name) {
                    return Err(Reason::SegregationOfDuties(format!(
                        "the register change at sequence {at} alters {}'s own entry: {} cannot approve it",
                        signer.name, signer.name
                    )));
                }
                if !proposal.approvers.insert(signer.name.clone()) {
                    return Err(Reason::RegisterChange(format!("{} already approved the register change at sequence {at}", signer.name)));
                }
                if proposal.approvers.len() >= quorum {
                    let done = self.proposals.remove(&at).expect("the proposal was just found");
                    // Proposals made against the register being replaced can no longer come into force.
                    self.proposals.retain(|_, other| other.previous == done.fingerprint);
                    return Ok(Some(done.register));
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

/// Windows of records decoded and signature-checked together: memory stays bounded by the
/// window whatever the chain length.
/// Records per unit of parallel work (decoding and signatures).
const WINDOW: usize = 2048;

fn run(
    records: &[StoredRecord],
    root: &TrustRoot,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
) -> Result<Outcome> {
    run_with(records, root, anchors, keep, Strategy::default(), &mut None)
}

/// How records are checked. The default checks signatures in batches ([`sig::check_batch`],
/// record by record when a batch fails) on every core, while one thread runs the sequential
/// checks; `sequential` checks each signature alone ([`sig::check`]) on one thread. Both give
/// the same result, including which record is reported first (tests compare them).
#[derive(Clone, Copy, Debug)]
pub struct Strategy {
    pub batch: bool,
    pub parallel: bool,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy { batch: true, parallel: true }
    }
}

impl Strategy {
    pub fn sequential() -> Strategy {
        Strategy { batch: false, parallel: false }
    }
}

/// [`report_of`] with an explicit [`Strategy`] (benchmarks and equivalence tests).
pub fn report_with(records: &[StoredRecord], root: &TrustRoot, anchors: &Anchors, strategy: Strategy) -> Result<Report> {
    report(run_with(records, root, anchors, None, strategy, &mut None).map(|(head, _, _, _, q)| (head, q)), records.len())
}

/// Records per batched signature check: one multiscalar multiplication of about
/// `BATCH + 2` points (see [`sig::check_batch`]).
pub const BATCH: usize = 1024;

/// Signatures of one window, in batches; the records of a failed batch are checked one by one,
/// so the bad record is found exactly. `keys` is by key id: a key id names one key, so a
/// verdict here holds for any register that has the key id. A record whose key id is not in
/// `keys` (a register change not seen yet) gets no verdict (`None`): the sequential pass checks
/// it with the key of the register in force.
fn check_signatures(decoded: &[Pre], keys: &HashMap<String, VerifyingKey>, batch: bool) -> Vec<Option<bool>> {
    enum Sig {
        Undecided,
        Refused,
        Ready(sig::Prepared),
    }
    let prepared: Vec<Sig> = decoded
        .iter()
        .map(|pre| match pre {
            Pre::Ok(d) => match keys.get(&d.keyid) {
                Some(key) => d.prepare(key).map_or(Sig::Refused, Sig::Ready),
                None => Sig::Undecided,
            },
            _ => Sig::Undecided,
        })
        .collect();
    let one = |p: &Sig| match p {
        Sig::Undecided => None,
        Sig::Refused => Some(false),
        Sig::Ready(p) => Some(sig::check(p)),
    };
    if !batch {
        return prepared.iter().map(one).collect();
    }
    let mut out = Vec::with_capacity(prepared.len());
    for group in prepared.chunks(BATCH) {
        let ready: Vec<&sig::Prepared> = group.iter().filter_map(|p| if let Sig::Ready(p) = p { Some(p) } else { None }).collect();
        if sig::check_batch(&ready) {
            out.extend(group.iter().map(|p| match p {
                Sig::Ready(_) => Some(true),
                other => one(other),
            }));
        } else {
            out.extend(group.iter().map(one));
        }
    }
    out
}

/// Keys by key id: those of the registers the sequential pass has put in force so far. Workers
/// read it for each window; register changes found in a window are added to their copy
/// optimistically (the sequential pass decides whether the change holds).
struct KeyDirectory(std::sync::RwLock<HashMap<String, VerifyingKey>>);

impl KeyDirectory {
    fn add(&self, register: &Identities) {
        let mut keys = self.0.write().expect("the key directory is never poisoned");
        for id in register.iter() {
            keys.entry(id.keyid.clone()).or_insert(id.public_key);
        }
    }

    fn snapshot(&self) -> HashMap<String, VerifyingKey> {
        self.0.read().expect("the key directory is never poisoned").clone()
    }
}

/// One window decoded and its signatures checked (the parallel part of verification).
struct Prepped {
    records: Vec<StoredRecord>,
    decoded: Vec<Pre>,
    /// Each record's signature verdict, `None` where the worker did not know the key.
    sig_ok: Vec<Option<bool>>,
}

fn prep_window(records: Vec<StoredRecord>, keeping: bool, directory: &KeyDirectory, batch: bool) -> Prepped {
    let decoded: Vec<Pre> = records.iter().map(|r| decode(r, keeping)).collect();
    let mut keys = directory.snapshot();
    // Keys of register changes in this window, for the records after them.
    let mut changes = decoded.iter().enumerate().filter_map(|(i, d)| match d {
        Pre::Ok(d) => d.statement.as_ref().ok().filter(|st| st.predicate_type == Kind::RegisterChange.predicate_type()).map(|st| (i, st)),
        _ => None,
    });
    let sig_ok = match changes.next() {
        None => check_signatures(&decoded, &keys, batch),
        Some((first, st)) => {
            let mut sig_ok = check_signatures(&decoded[..first + 1], &keys, batch);
            let mut from = first + 1;
            let mut pending = Some(st);
            while let Some(st) = pending.take() {
                if let Some(ids) = as_str(st.predicate.register.as_ref()).and_then(|t| Identities::parse(t, "register").ok()) {
                    for id in ids.iter() {
                        keys.entry(id.keyid.clone()).or_insert(id.public_key);
                    }
                }
                let to = match changes.next() {
                    Some((i, next)) => {
                        pending = Some(next);
                        i + 1
                    }
                    None => decoded.len(),
                };
                sig_ok.extend(check_signatures(&decoded[from..to], &keys, batch));
                from = to;
            }
            sig_ok
        }
    };
    // The payload is needed later only to check a signature the worker could not judge.
    let mut decoded = decoded;
    for (pre, verdict) in decoded.iter_mut().zip(&sig_ok) {
        if let (Pre::Ok(d), Some(_)) = (pre, verdict) {
            d.payload = Vec::new();
        }
    }
    Prepped { records, decoded, sig_ok }
}

/// Windows handed from the sequential pass (which reads them) to the workers and back, by
/// number.
struct Handoff {
    state: std::sync::Mutex<HandoffState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct HandoffState {
    todo: std::collections::VecDeque<(usize, Vec<StoredRecord>)>,
    ready: HashMap<usize, Prepped>,
    stop: bool,
    /// A worker panicked: the window it held will never arrive.
    lost: bool,
}

/// Windows read ahead of the sequential pass: enough to keep every worker busy, few enough
/// that memory stays flat.
const AHEAD: usize = 6;

impl Handoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, HandoffState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'g>(&self, guard: std::sync::MutexGuard<'g, HandoffState>) -> std::sync::MutexGuard<'g, HandoffState> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// The next window for a worker; `None` once the pass is over.
    fn claim(&self) -> Option<(usize, Vec<StoredRecord>)> {
        let mut st = self.lock();
        loop {
            if st.stop {
                return None;
            }
            if let Some(work) = st.todo.pop_front() {
                return Some(work);
            }
            st = self.wait(st);
        }
    }

    fn give(&self, w: usize, records: Vec<StoredRecord>) {
        self.lock().todo.push_back((w, records));
        self.changed.notify_all();
    }

    fn put(&self, w: usize, p: Prepped) {
        self.lock().ready.insert(w, p);
        self.changed.notify_all();
    }

    /// Window `w` once prepared. While it is not, the calling thread prepares waiting windows
    /// itself (it would idle otherwise: one thread per core in all).
    fn take(&self, w: usize, keeping: bool, directory: &KeyDirectory, batch: bool) -> Result<Prepped> {
        let mut st = self.lock();
        loop {
            if let Some(p) = st.ready.remove(&w) {
                return Ok(p);
            }
            if st.lost {
                bail!("a verification worker stopped (panicked) before window {w} was checked");
            }
            if let Some((v, records)) = st.todo.pop_front() {
                drop(st);
                let p = prep_window(records, keeping, directory, batch);
                if v == w {
                    return Ok(p);
                }
                st = self.lock();
                st.ready.insert(v, p);
                continue;
            }
            st = self.wait(st);
        }
    }

    fn stop(&self, lost: bool) {
        let mut st = self.lock();
        st.stop = true;
        st.lost |= lost;
        drop(st);
        self.changed.notify_all();
    }
}

/// The windows of the sequential pass, in order: read from the source and prepared by the
/// workers (`handoff`), or prepared in this thread.
struct Feed<'h, I> {
    source: I,
    handoff: Option<&'h Handoff>,
    keeping: bool,
    batch: bool,
    read: usize,
    taken: usize,
    exhausted: bool,
}

impl<I: Iterator<Item = Result<Vec<StoredRecord>>>> Feed<'_, I> {
    fn next(&mut self, directory: &KeyDirectory) -> Result<Option<Prepped>> {
        let Some(handoff) = self.handoff else {
            return match self.source.next() {
                Some(records) => Ok(Some(prep_window(records?, self.keeping, directory, self.batch))),
                None => Ok(None),
            };
        };
        while !self.exhausted && self.read < self.taken + AHEAD {
            match self.source.next() {
                Some(records) => {
                    handoff.give(self.read, records?);
                    self.read += 1;
                }
                None => self.exhausted = true,
            }
        }
        if self.taken == self.read {
            return Ok(None);
        }
        self.taken += 1;
        handoff.take(self.taken - 1, self.keeping, directory, self.batch).map(Some)
    }

    /// Every record after the current window (the windows in flight, then the unread ones).
    fn rest(&mut self, directory: &KeyDirectory) -> Result<Vec<StoredRecord>> {
        let mut out = Vec::new();
        if let Some(handoff) = self.handoff {
            while self.taken < self.read {
                out.extend(handoff.take(self.taken, self.keeping, directory, self.batch)?.records);
                self.taken += 1;
            }
        }
        for records in self.source.by_ref() {
            out.extend(records?);
        }
        self.exhausted = true;
        Ok(out)
    }
}

/// What a pass over the windows found: the head (sequence, hash), the final register and how
/// many records were read.
type Outcome = (Option<(u64, String)>, Identities, Vec<PendingRegister>, ChainRules, Vec<Quarantined>);

fn run_with(
    records: &[StoredRecord],
    root: &TrustRoot,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
    last: &mut Option<State>,
) -> Result<Outcome> {
    // The register at the start: a genesis register carried by record 0, or the trust root's.
    let genesis = records.first().and_then(|r| genesis_register(r));
    let register = match &genesis {
        Some((ids, signer_keyid)) => {
            let history = register_history(records, ids);
            let signer = ids.by_keyid(signer_keyid);
            if !root.vouches_for_genesis(ids, signer, &history) {
                return Err(fail(
                    &records[0].location,
                    Some(0),
                    Reason::Untrusted(format!(
                        "the chain starts with its own register ({}) and the trust root ({}) neither is one of the chain's registers nor pins it or its signer",
                        ids.fingerprint(),
                        root.describe()
                    )),
                ));
            }
            ids.clone()
        }
        // An empty chain needs no register; what it should hold is the anchors' business.
        None if records.is_empty() => root.start_register().unwrap_or_default(),
        None => match root.start_register() {
            Ok(r) => r,
            Err(r) => crate::genesis_after::vouched(records, root, anchors.slotted).ok_or_else(|| fail("trust root", None, r))?,
        },
    };
    run_windows(records.chunks(WINDOW).map(|w| Ok(w.to_vec())), register, anchors, keep, strategy, last)
}

/// Verification of a store read a window at a time ([`Store::windows`]): memory stays flat
/// however long the chain is. A chain that starts with its own (genesis) register is read
/// whole first, since trusting it needs every register the chain establishes.
fn run_store(
    store: &dyn Store,
    root: &TrustRoot,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
    last: &mut Option<State>,
) -> Result<Outcome> {
    let mut windows = store.windows()?.peekable();
    let genesis = match windows.peek() {
        Some(Ok(w)) => w.first().and_then(genesis_register),
        _ => None,
    };
    if let Some((ids, signer_keyid)) = genesis {
        // Pinned (by fingerprint or signer) without needing the chain's later registers: streamed.
        if root.vouches_for_genesis(&ids, ids.by_keyid(&signer_keyid), &[]) {
            return run_windows(windows, ids, anchors, keep, strategy, last);
        }
        let records: Vec<StoredRecord> = windows.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
        return run_with(&records, root, anchors, keep, strategy, last);
    }
    let empty = match windows.peek() {
        None => true,
        Some(Ok(w)) => w.is_empty(),
        Some(Err(_)) => false,
    };
    // An empty chain needs no register; what it should hold is the anchors' business.
    let register = if empty {
        root.start_register().unwrap_or_default()
    } else {
        match root.start_register() {
            Ok(r) => r,
            // Record 0 is no genesis and only pins are trusted: read whole, the genesis may
            // follow foreign objects (`crate::genesis_after`).
            Err(_) if root.pins_only() => {
                let records: Vec<StoredRecord> = windows.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
                return run_with(&records, root, anchors, keep, strategy, last);
            }
            Err(r) => return Err(fail("trust root", None, r)),
        }
    };
    run_windows(windows, register, anchors, keep, strategy, last)
}

/// The pass: workers decode windows and check their signatures while this thread reads the
/// next windows and runs the sequential checks of the windows before.
fn run_windows(
    windows: impl Iterator<Item = Result<Vec<StoredRecord>>>,
    register: Identities,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
    last: &mut Option<State>,
) -> Result<Outcome> {
    let (outcome, state) = run_from(windows, State::start(register), anchors, keep, strategy)?;
    *last = Some(state);
    Ok(outcome)
}

impl State {
    /// The state before record 0, judged by `register`.
    fn start(register: Identities) -> State {
        let register_fp = register.fingerprint();
        let register = std::sync::Arc::new(register);
        State {
            history: vec![register_fp.clone()],
            registers: vec![(0, std::sync::Arc::clone(&register))],
            proposals: HashMap::new(),
            register,
            register_fp,
            expected: 0,
            previous: [0; 32],
            last_time: None,
            hashes: Vec::new(),
            locations: Vec::new(),
            break_glass: HashMap::new(),
            authors: HashMap::new(),
            slotted: false,
            pending: Vec::new(),
            quarantined: Vec::new(),
            skipped: BTreeSet::new(),
            delegations: Default::default(),
        }
    }
}

/// The pass from `state` (record 0, or the head of an earlier pass: see [`incremental`]) over
/// the records of `windows`, which follow it; returns the outcome and the state at the new head.
fn run_from(
    windows: impl Iterator<Item = Result<Vec<StoredRecord>>>,
    mut state: State,
    anchors: &Anchors,
    mut keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
) -> Result<(Outcome, State)> {
    incremental::count_pass(state.expected);
    let directory = KeyDirectory(Default::default());
    // A resumed state's pending foreign objects (after its last record) are read and judged again.
    state.slotted = anchors.slotted;
    for (_, register) in &state.registers {
        directory.add(register);
    }
    let handoff = Handoff { state: Default::default(), changed: Default::default() };
    let keeping = keep.is_some();
    let mut feed = Feed {
        source: windows,
        handoff: strategy.parallel.then_some(&handoff),
        keeping,
        batch: strategy.batch,
        read: 0,
        taken: 0,
        exhausted: false,
    };
    let mut pass = |feed: &mut Feed<'_, _>| -> Result<()> {
        while let Some(p) = feed.next(&directory)? {
            state.accept_window(p, keep.as_deref_mut(), &directory, &mut || feed.rest(&directory))?;
        }
        Ok(())
    };
    if strategy.parallel {
        std::thread::scope(|s| -> Result<()> {
            // This thread prepares windows too while it waits, so one worker fewer than cores.
            for _ in 1..workers() {
                s.spawn(|| {
                    let work = std::panic::AssertUnwindSafe(|| {
                        while let Some((w, records)) = handoff.claim() {
                            handoff.put(w, prep_window(records, keeping, &directory, strategy.batch));
                        }
                    });
                    if std::panic::catch_unwind(work).is_err() {
                        handoff.stop(true);
                    }
                });
            }
            let outcome = pass(&mut feed);
            handoff.stop(false);
            outcome
        })?;
    } else {
        pass(&mut feed)?;
    }
    let head = state.hashes.last().map(|h| (state.hashes.len() as u64 - 1, hex32(h)));
    // Foreign objects the records skip (kept by a resumed state); the store's anchors add theirs.
    let of_records = state.quarantined.len();
    finish(&mut state, anchors)?;
    // Foreign objects after the last record: reported, recorded by the next append.
    let mut quarantined = std::mem::take(&mut state.quarantined);
    quarantined.extend(state.pending.iter().cloned());
    // The rules after the last record, for the next append (kept with the records only).
    let locations = std::mem::take(&mut state.locations);
    let rules = ChainRules(keeping.then(|| Box::new(state.clone())));
    // The state to resume from: the records' own findings and locations, not the anchors'.
    state.locations = locations;
    state.quarantined = quarantined[..of_records].to_vec();
    let quorum = state.register.quorum();
    let pending = state
        .proposals
        .iter()
        .map(|(sequence, p)| {
            let pending = PendingRegister {
                sequence: *sequence,
                changes: state.register.changes_to(&p.register),
                missing: quorum.saturating_sub(p.approvers.len()),
                register: p.register.clone(),
                proposer: p.proposer.clone(),
                approvers: p.approvers.iter().cloned().collect(),
            };
            (*sequence, pending)
        })
        .collect::<std::collections::BTreeMap<_, _>>();
    let pending = pending.into_values().collect();
    let register = Identities::clone(&state.register);
    Ok(((head, register, pending, rules, quarantined), state))
}

impl State {
    /// The sequential checks of one window. `rest` reads every record after the window (only
    /// a sequence out of place needs them, to tell a reordering from a gap).
    fn accept_window(
        &mut self,
        prepped: Prepped,
        mut keep: Option<&mut Vec<VerifiedRecord>>,
        directory: &KeyDirectory,
        rest: &mut dyn FnMut() -> Result<Vec<StoredRecord>>,
    ) -> Result<()> {
        let Prepped { mut records, decoded, sig_ok } = prepped;
        for (i, pre) in decoded.into_iter().enumerate() {
            if let Err(e) = self.accept_one(&mut records, i, pre, sig_ok[i], keep.as_deref_mut(), directory, rest) {
                // Quarantine (issue 24): in a slotted store, an object that is not a valid record
                // at its key is reported and skipped; a false or missing skip claim, or a key
                // without any object (a record gone), still fails the chain.
                let why = match (self.slotted, e.downcast_ref::<Failure>(), e.downcast_ref::<NotARecord>()) {
                    (true, Some(f), _) if !matches!(f.reason, Reason::Quarantine(_) | Reason::Gap { .. }) => f.reason.to_string(),
                    (true, None, Some(n)) => n.0.clone(),
                    _ => return Err(e),
                };
                let q = quarantine::foreign(&records[i], why, &self.register);
                self.pending.push(q);
            }
        }
        Ok(())
    }

    /// The checks of record `i` of a window; the state changes only when it is accepted.
    #[allow(clippy::too_many_arguments)]
    fn accept_one(
        &mut self,
        records: &mut [StoredRecord],
        i: usize,
        pre: Pre,
        sig_ok: Option<bool>,
        keep: Option<&mut Vec<VerifiedRecord>>,
        directory: &KeyDirectory,
        rest: &mut dyn FnMut() -> Result<Vec<StoredRecord>>,
    ) -> Result<()> {
        {
            let rec = &records[i];
            let d = match pre {
                Pre::Unreadable(msg) if self.slotted => return Err(NotARecord(msg).into()),
                Pre::Unreadable(msg) => bail!(msg),
                Pre::Bad(reason) => return Err(fail(&rec.location, None, reason)),
                Pre::Ok(d) => d,
            };
            // The key of the register in force at this record's place.
            let register = std::sync::Arc::clone(&self.register);
            let (signer, key) = match lookup_in(&register, &d.keyid) {
                Ok(found) => found,
                Err(r) => return Err(fail(&rec.location, None, r)),
            };
            // A worker may not have known the key yet (a register change it had not seen).
            if !sig_ok.unwrap_or_else(|| d.verifies(&key)) {
                return Err(fail(&rec.location, None, Reason::Signature { identity: signer.name.clone() }));
            }
            let mut later = || -> Result<Vec<StoredRecord>> { Ok([&records[i + 1..], &rest()?[..]].concat()) };
            let (kind, time, new_register) = self.accept(rec, &d, signer, &mut later)?;
            let mut d = d;
            let st = d.statement.as_mut().map_err(|e| anyhow::anyhow!("{e}"))?;
            let sequence = st.predicate.chain.sequence;
            let full = match d.full.take() {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => return Err(fail(&rec.location, Some(sequence), Reason::Statement(e))),
                None if keep.is_some() => unreachable!("statements are decoded when kept"),
                None => None,
            };
            // The foreign objects this record skips (recorded: `accept` checked the claim).
            let skips = quarantine::declared(st.predicate.quarantined.as_ref()).unwrap_or_default();
            for skip in &skips {
                match self.pending.iter().position(|q| q.sequence == Some(skip.sequence)) {
                    Some(at) => {
                        let mut q = self.pending.remove(at);
                        q.skipped_by = Some(sequence);
                        self.quarantined.push(q);
                    }
                    // A copy without the store's objects: the signed claim is all there is.
                    None => self.quarantined.push(Quarantined {
                        location: format!("records/{:012}.json (skipped by {})", skip.sequence, rec.location),
                        sequence: Some(skip.sequence),
                        sha256: skip.sha256.clone(),
                        size: skip.size,
                        writer: "unknown (the object is not in this copy)".into(),
                        why: format!("record {sequence} records it as a foreign object"),
                        skipped_by: Some(sequence),
                        seen: false,
                        version: None,
                    }),
                }
                let sha: [u8; 32] = hex::decode(&skip.sha256).ok().and_then(|b| b.try_into().ok()).unwrap_or([0; 32]);
                self.hashes.push(sha);
                self.locations.push(format!("records/{:012}.json (a quarantined foreign object)", skip.sequence));
                self.skipped.insert(skip.sequence);
            }
            self.last_time = Some((time, std::mem::take(&mut st.predicate.time)));
            self.expected = sequence + 1;
            self.previous = d.hash;
            self.hashes.push(d.hash);
            if let (Some(out), Some(full)) = (keep, full) {
                let details = match d.details.take() {
                    Some(Ok(details)) => details,
                    _ => return Err(fail(&rec.location, Some(sequence), Reason::Detail("the record's details were not decoded".into()))),
                };
                out.push(VerifiedRecord {
                    details,
                    sequence,
                    location: rec.location.clone(),
                    hash: hex32(&d.hash),
                    kind,
                    time,
                    statement: full,
                    signer: signer.clone(),
                });
            }
            self.locations.push(std::mem::take(&mut records[i].location));
            if let Some(ids) = new_register {
                directory.add(&ids);
                self.register_fp = ids.fingerprint();
                self.history.push(self.register_fp.clone());
                self.register = std::sync::Arc::new(ids);
                self.registers.push((sequence + 1, std::sync::Arc::clone(&self.register)));
            }
        }
        Ok(())
    }
}

/// An object of a slotted store that is not even a DSSE envelope.
#[derive(Debug)]
struct NotARecord(String);

impl fmt::Display for NotARecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotARecord {}

fn lookup(register: &Identities, keyid: &str) -> Result<(Identity, VerifyingKey), Reason> {
    lookup_in(register, keyid).map(|(id, key)| (id.clone(), key))
}

/// The identity with `keyid` in `register`, and its key. A register refuses weak keys when it
/// is parsed; this checks again on the encoding (without point arithmetic, see
/// [`sig::is_weak_encoding`]), since every record passes here.
fn lookup_in<'r>(register: &'r Identities, keyid: &str) -> Result<(&'r Identity, VerifyingKey), Reason> {
    match register.by_keyid(keyid) {
        Some(id) if sig::is_weak_encoding(id.public_key.as_bytes()) => Err(Reason::WeakKey { identity: id.name.clone() }),
        Some(id) => Ok((id, id.public_key)),
        None => Err(Reason::UnknownKey(keyid.to_string())),
    }
}

/// Record 0 as a genesis register change: (its register, its signer's key id).
fn genesis_register(rec: &StoredRecord) -> Option<(Identities, String)> {
    genesis_register_at(rec, Some(0))
}

/// A genesis register change at sequence `at` (any sequence: `None`).
pub(crate) fn genesis_register_at(rec: &StoredRecord, at: Option<u64>) -> Option<(Identities, String)> {
    let Pre::Ok(d) = decode(rec, false) else {
        return None;
    };
    let st = d.statement.as_ref().ok()?;
    if st.predicate_type != Kind::RegisterChange.predicate_type()
        || at.is_some_and(|at| st.predicate.chain.sequence != at)
        || as_str(st.predicate.previous_register_sha256.as_ref()) != Some(GENESIS)
    {
        return None;
    }
    let ids = Identities::parse(as_str(st.predicate.register.as_ref())?, "genesis register").ok()?;
    Some((ids, d.keyid.clone()))
}

/// Fingerprints of every register the chain establishes (cheap scan for register changes).
fn register_history(records: &[StoredRecord], genesis: &Identities) -> Vec<String> {
    let needle = Kind::RegisterChange.predicate_type();
    let mut out = vec![genesis.fingerprint()];
    for r in records {
        if let Pre::Ok(d) = decode(r, false) {
            if let Ok(st) = &d.statement {
                if st.predicate_type == needle {
                    if let Some(fp) = as_str(st.predicate.register_sha256.as_ref()) {
                        out.push(fp.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Head, earlier heads, known checkpoints and store problems.
fn finish(state: &mut State, anchors: &Anchors) -> Result<()> {
    if let Some((loc, what)) = anchors.problems.first() {
        return Err(fail(loc, None, Reason::StoreIntegrity(what.clone())));
    }
    for w in &anchors.witnessed {
        check_witnessed(w, state)?;
    }
    let mut known: Vec<KnownCheckpoint> = anchors.known.clone();
    // In a slotted store a head that is not a checkpoint signed by a registered key is a
    // foreign object (quarantined): the records and the other heads still judge the chain.
    let quarantine_head = |h: &StoredRecord, e: anyhow::Error, state: &mut State| -> Result<()> {
        match failure_of(&e) {
            Some(f) if state.slotted && matches!(f.reason, Reason::UnsignedHead(_) | Reason::HeadSignature(_)) => {
                let mut q = quarantine::foreign(h, f.reason.to_string(), &state.register);
                q.sequence = None;
                state.quarantined.push(q);
                Ok(())
            }
            _ => Err(e),
        }
    };
    match &anchors.head {
        Some(h) => match check_head(h, state) {
            Ok(k) => known.push(k),
            Err(e) => quarantine_head(h, e, state)?,
        },
        None if anchors.require_head && !state.hashes.is_empty() => {
            return Err(fail("checkpoint", None, Reason::CheckpointMissing));
        }
        None => {}
    }
    for h in &anchors.earlier_heads {
        match check_head(h, state) {
            Ok(k) => known.push(k),
            Err(e) => quarantine_head(h, e, state)?,
        }
    }
    for (v, version) in &anchors.later_versions {
        let why = "written over a record key that already holds its first version (records are written once)";
        if !state.slotted {
            return Err(fail(&v.location, None, Reason::StoreIntegrity(why.into())));
        }
        let mut q = quarantine::foreign(v, why.into(), &state.register);
        q.version = Some(version.clone());
        state.quarantined.push(q);
    }
    let last = state.hashes.len().checked_sub(1).map(|l| l as u64);
    for k in &known {
        let cp = &k.checkpoint;
        if state.skipped.contains(&cp.sequence) {
            return Err(fail(&k.source, Some(cp.sequence), Reason::CheckpointMismatch { sequence: cp.sequence }));
        }
        match state.hashes.get(cp.sequence as usize) {
            None => {
                return Err(fail(&k.source, Some(cp.sequence), Reason::Truncated { last, checkpoint: cp.sequence }));
            }
            Some(h) if hex32(h) != cp.hash => {
                return Err(fail(
                    &state.locations[cp.sequence as usize],
                    Some(cp.sequence),
                    Reason::CheckpointMismatch { sequence: cp.sequence },
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

impl State {
    /// The registers that may have signed a head naming record `sequence`: the one that judged
    /// that record and the one in force right after it (the appender of a register change signs
    /// the head it leaves). A key revoked later keeps its earlier heads valid, and signs no later one.
    fn registers_at(&self, sequence: u64) -> impl Iterator<Item = &Identities> {
        let at = |s: u64| self.registers.iter().rev().find(|(from, _)| *from <= s).map(|(_, r)| r.as_ref());
        let (judged, after) = (at(sequence), at(sequence.saturating_add(1)));
        after.into_iter().chain(judged.filter(|j| !after.is_some_and(|a| std::ptr::eq(*j, a))))
    }
}

/// A witnessed checkpoint against the chain: a registered witness (at the record it names, or
/// the register in force after the chain when the chain is shorter) signed it, its origin is
/// this chain's, and the chain holds its head record with the same hash.
fn check_witnessed(w: &crate::witness::Witnessed, state: &State) -> Result<()> {
    let bad = |r| fail(&w.source, None, r);
    let note = crate::witness::parse(&w.note).map_err(|e| bad(Reason::Witness(format!("{e:#}"))))?;
    let cp = &note.checkpoint;
    if cp.size == 0 {
        return Err(bad(Reason::Witness("it vouches for 0 records".into())));
    }
    let head = cp.size - 1;
    let registers: Vec<&Identities> = if (head as usize) < state.hashes.len() {
        state.registers_at(head).collect()
    } else {
        vec![state.register.as_ref()]
    };
    let mut last = None;
    if !registers.iter().any(|r| match note.witnesses(r) {
        Ok(_) => true,
        Err(e) => {
            last = Some(e);
            false
        }
    }) {
        return Err(bad(Reason::Witness(last.unwrap_or_else(|| "no register was in force".into()))));
    }
    if let Some(first) = state.hashes.first() {
        let ours = crate::witness::origin_of(&hex32(first));
        if cp.origin != ours {
            return Err(bad(Reason::Witness(format!("its origin {:?} is not this chain's ({ours:?})", cp.origin))));
        }
    }
    let last = state.hashes.len().checked_sub(1).map(|l| l as u64);
    match state.hashes.get(head as usize) {
        None => Err(bad(Reason::BehindWitness { last, size: cp.size, source: w.source.clone() })),
        Some(h) if hex32(h) != cp.hash => Err(fail(
            &state.locations[head as usize],
            Some(head),
            Reason::WitnessMismatch { sequence: head, source: w.source.clone() },
        )),
        Some(_) => Ok(()),
    }
}

/// Verifies a signed head against the register in force at the record it names.
fn check_head(head: &StoredRecord, state: &State) -> Result<KnownCheckpoint> {
    let bad = |r| fail(&head.location, None, r);
    let (_, payload) = decode_checkpoint(&head.bytes, &head.location).map_err(|e| bad(Reason::UnsignedHead(format!("{e:#}"))))?;
    let mut last = None;
    for register in state.registers_at(payload.sequence) {
        match check_head_with(head, register) {
            Ok(k) => return Ok(k),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| bad(Reason::HeadSignature("no register was in force at the record it names".into()))))
}

/// Verifies a signed head against one register.
fn check_head_with(head: &StoredRecord, register: &Identities) -> Result<KnownCheckpoint> {
    let bad = |r| fail(&head.location, None, r);
    let (env, payload) = decode_checkpoint(&head.bytes, &head.location).map_err(|e| bad(Reason::UnsignedHead(format!("{e:#}"))))?;
    if env.to_canonical() != head.bytes {
        return Err(bad(Reason::HeadSignature("the head envelope is not canonical".into())));
    }
    if env.signatures.len() != 1 {
        return Err(bad(Reason::HeadSignature(format!("{} signatures, expected exactly 1", env.signatures.len()))));
    }
    let sig = &env.signatures[0];
    let (id, key) = lookup(register, &sig.keyid).map_err(|r| bad(Reason::HeadSignature(r.to_string())))?;
    let sig_bytes = B64
        .decode(&sig.sig)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| bad(Reason::HeadSignature("the signature is not 64 bytes of base64".into())))?;
    let message = pae(CHECKPOINT_PAYLOAD_TYPE, &env.payload_bytes().unwrap_or_default());
    if !sig::verify(&key, &sig_bytes, &[&message]) {
        return Err(bad(Reason::HeadSignature(format!("it does not verify with the key of {}", id.name))));
    }
    if payload.identity != id.name {
        return Err(bad(Reason::HeadSignature(format!("signed by {} but claims {}", id.name, payload.identity))));
    }
    if !id.may_sign(Kind::Checkpoint) {
        return Err(bad(Reason::HeadSignature(format!("{} may not sign checkpoints", id.name))));
    }
    Ok(KnownCheckpoint {
        checkpoint: Checkpoint { sequence: payload.sequence, hash: payload.hash, time: payload.time },
        source: head.location.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Checkpoints remembered by the verifier

/// The last head a verification accepted for one store, kept by the verifier (outside the
/// store) so that a later truncation of the store is detected even when its head was rewritten.
pub struct VerifiedCache {
    path: std::path::PathBuf,
    store: String,
}

#[derive(serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    store: String,
    checkpoint: Checkpoint,
}

impl VerifiedCache {
    /// The cache of `store` (its description) under `dir`.
    pub fn new(dir: &Path, store: &str) -> VerifiedCache {
        let name = &hex::encode(Sha256::digest(store.as_bytes()))[..16];
        VerifiedCache { path: dir.join(format!("{name}.json")), store: store.to_string() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The remembered checkpoint, if any; a cache file that cannot be read is an error naming it.
    pub fn load(&self) -> Result<Option<KnownCheckpoint>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        };
        let f: CacheFile = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{}:{}: not a verified-checkpoint cache: {e}", self.path.display(), e.line()))?;
        if f.store != self.store {
            bail!("{}: the cache names store {:?}, not {:?}", self.path.display(), f.store, self.store);
        }
        Ok(Some(KnownCheckpoint {
            checkpoint: f.checkpoint,
            source: format!("checkpoint cached by an earlier verification ({})", self.path.display()),
        }))
    }

    /// Remembers `head` (sequence, hash) unless the cache already holds a later one.
    pub fn save(&self, head: &(u64, String)) -> Result<()> {
        if let Some(k) = self.load()? {
            if k.checkpoint.sequence > head.0 {
                return Ok(());
            }
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let f = CacheFile {
            store: self.store.clone(),
            checkpoint: Checkpoint { sequence: head.0, hash: head.1.clone(), time: crate::record::now_rfc3339() },
        };
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&f)?).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).with_context(|| format!("cannot replace {}", self.path.display()))?;
        Ok(())
    }
}

/// Parses `SEQUENCE:HASH` (a checkpoint given on the command line).
pub fn parse_checkpoint_arg(s: &str) -> Result<KnownCheckpoint> {
    let (seq, hash) = s.split_once(':').with_context(|| format!("checkpoint {s:?} is not SEQUENCE:HASH"))?;
    let sequence: u64 = seq.parse().with_context(|| format!("checkpoint {s:?}: {seq:?} is not a sequence number"))?;
    if !is_digest(hash) {
        bail!("checkpoint {s:?}: {hash:?} is not 64 lowercase hex digits");
    }
    Ok(KnownCheckpoint {
        checkpoint: Checkpoint { sequence, hash: hash.to_string(), time: String::new() },
        source: format!("checkpoint {sequence} given on the command line"),
    })
}
