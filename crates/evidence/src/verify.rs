//! Verification of a chain: envelopes, signatures, signer roles, statements, subjects, chain
//! links and the head checkpoint.
//!
//! Each record is checked in this order, and the first failing check names the reason:
//! canonical form, payload type, key id, signature, statement, signer identity, role,
//! predicate type, subject digests, sequence and previous hash. After the last record the
//! checkpoint must name a record of the chain with the same hash.

use std::fmt;

use anyhow::Result;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::Verifier as _;
use serde::Deserialize;

use crate::dsse::{pae, sha256_hex, Envelope, PAYLOAD_TYPE};
use crate::identity::{allowed_roles, Identities};
use crate::record::{is_digest, parse_time, ChainLink, Kind, Subject, GENESIS, STATEMENT_TYPE};
use crate::store::{Checkpoint, StoredRecord};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    NotCanonical,
    PayloadType(String),
    PayloadEncoding,
    SignatureCount(usize),
    UnknownKey(String),
    Signature { identity: String },
    Statement(String),
    WrongIdentity { key_of: String, claimed: String },
    Role { identity: String, kind: Kind },
    PredicateType(String),
    SubjectDigest(String),
    Gap { expected: u64, found: u64 },
    Reordered { expected: u64, found: u64 },
    Duplicate { expected: u64, found: u64 },
    PreviousHash { expected: String, found: String },
    Truncated { last: Option<u64>, checkpoint: u64 },
    CheckpointMismatch { sequence: u64 },
    CheckpointMissing,
}

impl Reason {
    /// A stable short code for scripts and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NotCanonical => "not-canonical",
            Reason::PayloadType(_) => "payload-type",
            Reason::PayloadEncoding => "payload-encoding",
            Reason::SignatureCount(_) => "signature-count",
            Reason::UnknownKey(_) => "unknown-key",
            Reason::Signature { .. } => "signature",
            Reason::Statement(_) => "statement",
            Reason::WrongIdentity { .. } => "wrong-identity",
            Reason::Role { .. } => "role",
            Reason::PredicateType(_) => "predicate-type",
            Reason::SubjectDigest(_) => "subject-digest",
            Reason::Gap { .. } => "gap",
            Reason::Reordered { .. } => "reordered",
            Reason::Duplicate { .. } => "duplicate",
            Reason::PreviousHash { .. } => "previous-hash",
            Reason::Truncated { .. } => "truncated",
            Reason::CheckpointMismatch { .. } => "checkpoint-mismatch",
            Reason::CheckpointMissing => "checkpoint-missing",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotCanonical => write!(f, "the envelope is not in canonical form (bytes were altered)"),
            Reason::PayloadType(t) => write!(f, "payloadType is {t:?}, expected {PAYLOAD_TYPE:?}"),
            Reason::PayloadEncoding => write!(f, "payload or signature is not valid base64"),
            Reason::SignatureCount(n) => write!(f, "{n} signatures, expected exactly 1"),
            Reason::UnknownKey(k) => write!(f, "signed with key {k} which belongs to no registered identity"),
            Reason::Signature { identity } => write!(f, "signature does not verify with the key of {identity}"),
            Reason::Statement(e) => write!(f, "payload is not a valid evidence statement: {e}"),
            Reason::WrongIdentity { key_of, claimed } => {
                write!(f, "signed with the key of {key_of} but the record claims identity {claimed}")
            }
            Reason::Role { identity, kind } => {
                let roles: Vec<_> = allowed_roles(*kind).iter().map(|r| r.as_str()).collect();
                write!(f, "{identity} may not sign {kind} records (needs role {})", roles.join(" or "))
            }
            Reason::PredicateType(t) => write!(f, "unknown predicateType {t:?}"),
            Reason::SubjectDigest(e) => write!(f, "subject digest: {e}"),
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
            Reason::Truncated { last, checkpoint } => match last {
                Some(l) => write!(f, "the chain ends at sequence {l} but the checkpoint records {checkpoint}: records were removed from the tail"),
                None => write!(f, "the chain is empty but the checkpoint records sequence {checkpoint}"),
            },
            Reason::CheckpointMismatch { sequence } => {
                write!(f, "the checkpoint hash of sequence {sequence} does not match the stored record")
            }
            Reason::CheckpointMissing => write!(f, "records exist but there is no head checkpoint"),
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

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub records: usize,
    /// Sequence and hash of the last record.
    pub head: Option<(u64, String)>,
    pub failure: Option<Failure>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

#[derive(Deserialize)]
struct LightPredicate {
    chain: ChainLink,
    identity: String,
    time: String,
    release: String,
    #[serde(default)]
    plan_digest: Option<String>,
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

struct Checked {
    sequence: u64,
    previous: String,
    hash: String,
}

enum Outcome {
    Unreadable(String),
    Bad(Option<u64>, Reason),
    Good(Checked),
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

fn check_one(rec: &StoredRecord, ids: &Identities) -> Outcome {
    let env: Envelope = match serde_json::from_slice(&rec.bytes) {
        Ok(e) => e,
        Err(e) => return Outcome::Unreadable(format!("{}: not a DSSE envelope: {e}", rec.location)),
    };
    let bad = |r| Outcome::Bad(None, r);
    if env.to_canonical() != rec.bytes {
        return bad(Reason::NotCanonical);
    }
    if env.payload_type != PAYLOAD_TYPE {
        return bad(Reason::PayloadType(env.payload_type));
    }
    if env.signatures.len() != 1 {
        return bad(Reason::SignatureCount(env.signatures.len()));
    }
    let sig = &env.signatures[0];
    let Some(signer) = ids.by_keyid(&sig.keyid) else { return bad(Reason::UnknownKey(sig.keyid.clone())) };
    let (Ok(payload), Ok(sig_bytes)) = (env.payload_bytes(), B64.decode(&sig.sig)) else {
        return bad(Reason::PayloadEncoding);
    };
    let Ok(sig_bytes) = <[u8; 64]>::try_from(sig_bytes.as_slice()) else { return bad(Reason::PayloadEncoding) };
    let signature = ed25519_dalek::Signature::from_bytes(&sig_bytes);
    if signer.public_key.verify(&pae(&env.payload_type, &payload), &signature).is_err() {
        return bad(Reason::Signature { identity: signer.name.clone() });
    }
    let st: LightStatement = match serde_json::from_slice(&payload) {
        Ok(s) => s,
        Err(e) => return bad(Reason::Statement(e.to_string())),
    };
    let seq = Some(st.predicate.chain.sequence);
    let bad = |r| Outcome::Bad(seq, r);
    if st.statement_type != STATEMENT_TYPE {
        return bad(Reason::Statement(format!("_type is {:?}", st.statement_type)));
    }
    if st.predicate.identity != signer.name {
        return bad(Reason::WrongIdentity { key_of: signer.name.clone(), claimed: st.predicate.identity.clone() });
    }
    let Some(kind) = Kind::from_predicate_type(&st.predicate_type) else {
        return bad(Reason::PredicateType(st.predicate_type.clone()));
    };
    if !signer.may_sign(kind) {
        return bad(Reason::Role { identity: signer.name.clone(), kind });
    }
    if let Err(e) = parse_time(&st.predicate.time) {
        return bad(Reason::Statement(format!("time: {e:#}")));
    }
    if let Err(e) = check_subjects(&st, kind) {
        return bad(Reason::SubjectDigest(e));
    }
    Outcome::Good(Checked {
        sequence: st.predicate.chain.sequence,
        previous: st.predicate.chain.previous,
        hash: sha256_hex(&rec.bytes),
    })
}

/// Verifies `records` in stored order. `Err` means the input could not be read (not an
/// envelope at all); a tampered chain is reported in `Report::failure`.
pub fn verify(records: &[StoredRecord], checkpoint: Option<&Checkpoint>, ids: &Identities) -> Result<Report> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let chunk = records.len().div_ceil(threads).max(1);
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|r| check_one(r, ids)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("verification threads do not panic")).collect()
    });

    let present: std::collections::HashSet<u64> =
        outcomes.iter().filter_map(|o| if let Outcome::Good(c) = o { Some(c.sequence) } else { None }).collect();
    let mut report = Report { records: records.len(), ..Default::default() };
    let mut previous_hash = GENESIS.to_string();
    for (i, (outcome, rec)) in outcomes.into_iter().zip(records).enumerate() {
        let expected = i as u64;
        let fail = |sequence, reason| Failure { location: rec.location.clone(), sequence, reason };
        let c = match outcome {
            Outcome::Unreadable(msg) => anyhow::bail!(msg),
            Outcome::Bad(seq, reason) => {
                report.failure = Some(fail(seq, reason));
                return Ok(report);
            }
            Outcome::Good(c) => c,
        };
        if c.sequence != expected {
            let found = c.sequence;
            let reason = if found < expected {
                Reason::Duplicate { expected, found }
            } else if present.contains(&expected) {
                Reason::Reordered { expected, found }
            } else {
                Reason::Gap { expected, found }
            };
            report.failure = Some(fail(Some(c.sequence), reason));
            return Ok(report);
        }
        if c.previous != previous_hash {
            report.failure = Some(fail(Some(c.sequence), Reason::PreviousHash { expected: previous_hash, found: c.previous }));
            return Ok(report);
        }
        previous_hash = c.hash.clone();
        report.head = Some((c.sequence, c.hash));
    }
    let last = report.head.as_ref().map(|h| h.0);
    match checkpoint {
        None if !records.is_empty() => {
            report.failure = Some(Failure { location: "checkpoint".into(), sequence: None, reason: Reason::CheckpointMissing });
        }
        None => {}
        Some(cp) if last.is_none_or(|l| cp.sequence > l) => {
            report.failure = Some(Failure {
                location: "checkpoint".into(),
                sequence: Some(cp.sequence),
                reason: Reason::Truncated { last, checkpoint: cp.sequence },
            });
        }
        Some(cp) => {
            let rec = &records[cp.sequence as usize];
            if sha256_hex(&rec.bytes) != cp.hash {
                report.failure = Some(Failure {
                    location: rec.location.clone(),
                    sequence: Some(cp.sequence),
                    reason: Reason::CheckpointMismatch { sequence: cp.sequence },
                });
            }
        }
    }
    Ok(report)
}
