//! Foreign objects in a slotted store (S3: one object per sequence, `records/<sequence>.json`,
//! under COMPLIANCE Object Lock, so nothing written there can be removed).
//!
//! An object at a record key that is not a valid next record signed by a registered key
//! (garbage, a record signed by an unknown key, a record that does not link, a copy of a record
//! under another key, a record that breaks a rule) is QUARANTINED: verification reports it
//! ("store has a foreign object", exit 1) and the chain skips it; honest appends continue at
//! the next free key.
//!
//! The skip is recorded by the next appender: the first record it writes after foreign objects
//! carries the signed detail `quarantined`, one entry per skipped key
//! (`{"sequence": N, "sha256": "<of the object>", "size": BYTES}`), and links (`previous`) to
//! the last valid record before them. Its own sequence is its key's. Verification re-checks
//! every claim against the store: each skipped key must hold an object with that sha256 which
//! verification itself finds invalid at that place. A claim over a valid record, over a key
//! without that object, or a record that passes over foreign objects without recording them
//! fails the chain (`quarantine`): a skip claim never hides a genuine record.
//!
//! A head (checkpoint) that is not one signed by a registered key is quarantined too: the
//! appender falls back to the records themselves, and the next append writes a valid head.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dsse::{sha256_hex, Envelope};
use crate::identity::Identities;
use crate::record::is_digest;
use crate::store::StoredRecord;

/// The detail of a record that records the foreign objects skipped just before it.
pub const QUARANTINED: &str = "quarantined";

/// One skipped key, as the skipping record states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    pub sequence: u64,
    pub sha256: String,
    pub size: u64,
}

/// A foreign object verification found (or, in a copy without the object, that a signed skip
/// names).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quarantined {
    pub location: String,
    /// The record key's sequence (`None` for a head).
    pub sequence: Option<u64>,
    pub sha256: String,
    pub size: u64,
    /// Who wrote it, as far as the object tells (its signature key and claimed identity).
    pub writer: String,
    /// Why it is not a valid record at its place.
    pub why: String,
    /// The record that recorded the skip; `None` while no record has passed it yet.
    pub skipped_by: Option<u64>,
    /// Seen in the store and re-checked; `false` when only a signed skip (in a copy) names it.
    pub seen: bool,
    /// A later version written over a record key (S3 keeps every version): the key's record is
    /// its first version, this one is foreign.
    pub version: Option<String>,
}

impl fmt::Display for Quarantined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (&self.version, self.sequence) {
            (Some(_), _) => "a foreign later version",
            (None, Some(_)) => "a foreign object",
            (None, None) => "a foreign head",
        };
        let (loc, sha, size) = (&self.location, &self.sha256, self.size);
        write!(f, "store has {what} at {loc} (sha256 {sha}, {size} bytes; writer: {}): {}", self.writer, self.why)?;
        match (self.sequence, self.skipped_by, self.seen) {
            _ if self.version.is_some() => write!(f, "; the chain reads the key's first version, written once"),
            (None, ..) => write!(f, "; ignored: the next append writes a valid head"),
            (Some(_), Some(by), true) => write!(f, "; skipped by the chain, recorded by record {by}"),
            (Some(_), Some(by), false) => write!(f, "; recorded by record {by} (the object is not in this copy)"),
            (Some(_), None, _) => write!(f, "; skipped by the chain, not yet recorded (the next append records it)"),
        }
    }
}

/// The sequence of a record key from where it was read (`.../records/<sequence:012>.json`).
pub fn slot_of(location: &str) -> Option<u64> {
    let (_, name) = location.rsplit_once("records/")?;
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

/// The skips a record declares (its `quarantined` detail), in order.
pub fn declared(v: Option<&Value>) -> Result<Vec<Skip>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let skips: Vec<Skip> =
        serde_json::from_value(v.clone()).map_err(|e| format!("the {QUARANTINED} detail is not a list of {{sequence, sha256, size}}: {e}"))?;
    if skips.is_empty() {
        return Err(format!("the {QUARANTINED} detail is empty"));
    }
    for (i, s) in skips.iter().enumerate() {
        if !is_digest(&s.sha256) {
            return Err(format!("the {QUARANTINED} detail names sha256 {:?}, not a digest", s.sha256));
        }
        if i > 0 && skips[i - 1].sequence >= s.sequence {
            return Err(format!("the {QUARANTINED} detail is not in increasing sequence order"));
        }
    }
    Ok(skips)
}

/// Who wrote `bytes`, as far as they tell: the key id of a DSSE signature and the identity it
/// belongs to in `register` (or that it is unregistered), and the identity a statement claims.
pub fn writer_of(bytes: &[u8], register: &Identities) -> String {
    let Ok(env) = serde_json::from_slice::<Envelope>(bytes) else {
        return "unknown (not a DSSE envelope)".into();
    };
    let claimed = env
        .payload_bytes()
        .ok()
        .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        .and_then(|v| v.pointer("/predicate/identity").or_else(|| v.get("identity")).and_then(Value::as_str).map(String::from));
    let keys: Vec<String> = env
        .signatures
        .iter()
        .map(|s| match register.by_keyid(&s.keyid) {
            Some(id) => format!("key {} of {}", s.keyid, id.name),
            None => format!("key {} (unregistered)", s.keyid),
        })
        .collect();
    let keys = if keys.is_empty() { "no signature".to_string() } else { keys.join(", ") };
    match claimed {
        Some(c) => format!("signed with {keys}, claims identity {c}"),
        None => format!("signed with {keys}"),
    }
}

/// `rec` quarantined for `why`.
pub fn foreign(rec: &StoredRecord, why: String, register: &Identities) -> Quarantined {
    Quarantined {
        location: rec.location.clone(),
        sequence: slot_of(&rec.location),
        sha256: sha256_hex(&rec.bytes),
        size: rec.bytes.len() as u64,
        writer: writer_of(&rec.bytes, register),
        why,
        skipped_by: None,
        seen: true,
        version: None,
    }
}

/// Checks the skips record `found` declares against the foreign objects `pending` verification
/// found since the last valid record (whose successor is `expected`). In a store, every key
/// from `expected` to `found` must hold a foreign object the record names with its sha256; in a
/// copy (`slotted` false), the skipped sequences must be exactly those. `Err` is why the claim
/// is false (the chain fails); `Ok(None)` when a key in between holds nothing at all (a gap,
/// which the caller reports as such).
pub fn check_skips(expected: u64, found: u64, declared: &[Skip], pending: &[Quarantined], slotted: bool) -> Result<Option<()>, String> {
    for s in declared {
        if s.sequence < expected {
            return Err(format!(
                "record {found} records sequence {} as a quarantined foreign object, but record {} is a valid record of the chain: a skip never hides a record",
                s.sequence, s.sequence
            ));
        }
        if s.sequence >= found {
            return Err(format!("record {found} records sequence {} as skipped, which is not before it", s.sequence));
        }
    }
    if !slotted {
        let named: Vec<u64> = declared.iter().map(|s| s.sequence).collect();
        if named != (expected..found).collect::<Vec<u64>>() {
            return Err(format!("record {found} follows record {} but records the skip of sequences {named:?}", expected.wrapping_sub(1)));
        }
        return Ok(Some(()));
    }
    for seq in expected..found {
        let object = pending.iter().find(|q| q.sequence == Some(seq));
        let claim = declared.iter().find(|s| s.sequence == seq);
        match (object, claim) {
            (Some(q), Some(s)) if q.sha256 == s.sha256 && q.size == s.size => {}
            (Some(q), Some(s)) => {
                return Err(format!(
                    "record {found} records the object at sequence {seq} as sha256 {} ({} bytes), but the store holds sha256 {} ({} bytes) there",
                    s.sha256, s.size, q.sha256, q.size
                ))
            }
            (Some(q), None) => {
                return Err(format!(
                    "record {found} passes over the foreign object at {} without recording the skip (an unrecorded skip)",
                    q.location
                ))
            }
            (None, Some(_)) => return Err(format!("record {found} records a foreign object at sequence {seq}, but the store has none there")),
            (None, None) => return Ok(None),
        }
    }
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_read_from_record_keys_only() {
        assert_eq!(slot_of("s3://b/p/records/000000000012.json"), Some(12));
        assert_eq!(slot_of("s3://b/records/000000000000.json"), Some(0));
        assert_eq!(slot_of("s3://b/head.json"), None);
        assert_eq!(slot_of("chain.jsonl:3"), None);
        assert_eq!(slot_of("s3://b/records/12.json"), None);
    }

    #[test]
    fn skip_claims_are_checked_against_the_objects() {
        let q = |seq: u64, sha: &str| Quarantined {
            location: format!("s3://b/records/{seq:012}.json"),
            sequence: Some(seq),
            sha256: sha.into(),
            size: 3,
            writer: "w".into(),
            why: "garbage".into(),
            skipped_by: None,
            seen: true,
            version: None,
        };
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let skip = |seq: u64, sha: &str| Skip { sequence: seq, sha256: sha.into(), size: 3 };
        assert_eq!(check_skips(5, 6, &[skip(5, &a)], &[q(5, &a)], true), Ok(Some(())));
        assert!(check_skips(5, 6, &[skip(5, &b)], &[q(5, &a)], true).unwrap_err().contains("holds sha256"));
        assert!(check_skips(5, 6, &[], &[q(5, &a)], true).unwrap_err().contains("unrecorded skip"));
        assert!(check_skips(6, 6, &[skip(5, &a)], &[], true).unwrap_err().contains("is a valid record"));
        assert!(check_skips(5, 6, &[skip(5, &a)], &[], true).unwrap_err().contains("has none there"));
        assert_eq!(check_skips(5, 7, &[skip(5, &a)], &[q(5, &a)], true), Ok(None));
        assert_eq!(check_skips(5, 7, &[skip(5, &a), skip(6, &b)], &[], false), Ok(Some(())));
        assert!(check_skips(5, 7, &[skip(6, &b)], &[], false).is_err());
    }
}
