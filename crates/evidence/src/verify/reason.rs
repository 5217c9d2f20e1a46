//! Why a chain fails: the [`Reason`] each check names, and the [`Failure`] (place, sequence, reason) a
//! verification returns.

use std::fmt;

use crate::dsse::PAYLOAD_TYPE;
use crate::identity::describe_rule;
use crate::record::Kind;

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
    /// A person signed an approval marked automatic: only the policy workload approves by rule.
    PersonAutoApproval { identity: String },
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
    /// An adoption record without the release, approvals or deployment it names, or out of
    /// its rollout's order (issue 32).
    Adoption(String),
    /// A record of an environment signed by an identity the register binds to other
    /// environments (issue 26, [`crate::binding`]).
    Environment { identity: String, environment: String, bound: Vec<String> },
    /// The policy identity (a workload with the approver role: it signs automatic approvals)
    /// signed a record of what was deployed or observed (issue 26, [`crate::binding`]).
    PolicyIdentity { identity: String, kind: String },
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
            Reason::PersonAutoApproval { .. } => "person-auto-approval",
            Reason::BreakGlassTtl(_) => "break-glass-ttl",
            Reason::BreakGlassApproval(_) => "break-glass-approval",
            Reason::SegregationOfDuties(_) => "segregation-of-duties",
            Reason::Adoption(_) => "adoption",
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
            Reason::Environment { .. } => "environment-binding",
            Reason::PolicyIdentity { .. } => "policy-identity",
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
            Reason::PersonAutoApproval { identity } => {
                write!(f, "person {identity} signed an approval marked automatic: only the change policy's workload approves by rule, a person's approval is a human one")
            }
            Reason::BreakGlassTtl(e) => write!(f, "break-glass: {e}"),
            Reason::BreakGlassApproval(e) => write!(f, "break-glass approval: {e}"),
            Reason::SegregationOfDuties(e) => write!(f, "segregation of duties: {e}"),
            Reason::Adoption(e) => write!(f, "adoption: {e}"),
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
            Reason::Environment { identity, environment, bound } => write!(
                f,
                "{identity} is bound to {} and may not sign a record of {environment} (a signing identity of another environment)",
                bound.join(", ")
            ),
            Reason::PolicyIdentity { identity, kind } => write!(
                f,
                "{identity} is a workload with the approver role (a policy identity: it signs automatic approvals) and may not sign a {kind} record: \
                 what was deployed, drifted or rotated is stated by a deployer that approves nothing"
            ),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::verify::*;

    #[test]
    fn a_failure_is_found_under_context_and_names_its_place() {
        let e = fail("chain.jsonl:3", Some(2), Reason::NotCanonical).context("verifying the store");
        let f = failure_of(&e).expect("the failure is found under added context");
        assert_eq!((f.location.as_str(), f.sequence, f.reason.code()), ("chain.jsonl:3", Some(2), "not-canonical"));
        assert!(f.to_string().starts_with("chain.jsonl:3 (sequence 2): "), "{f}");
        // An error that is not a verification failure (unreadable input) is none.
        assert!(failure_of(&anyhow::anyhow!("cannot read chain.jsonl")).is_none());
        // Codes are distinct: scripts tell reasons apart by them.
        let reasons = [Reason::NotCanonical, Reason::PayloadEncoding, Reason::SignatureCount(2), Reason::UnknownKey("k".into()), Reason::Statement("s".into())];
        let codes: BTreeSet<&str> = reasons.iter().map(Reason::code).collect();
        assert_eq!(codes.len(), reasons.len(), "{codes:?}");
    }
}
