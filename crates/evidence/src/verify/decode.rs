//! Decoding, in parallel and once per record: canonical form, envelope and a light statement.

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::sig;
use crate::details::{Details, DetailsError};
use crate::dsse::{pae_prefix, Envelope, PAYLOAD_TYPE};
use crate::keys::PublicKey;
use crate::record::{ChainLink, Kind, Statement, Subject};
use crate::store::StoredRecord;
use super::unique_keys;
use super::reason::Reason;

// Decoding (parallel, once per record)

#[derive(Deserialize)]
pub(super) struct LightPredicate {
    pub(super) chain: ChainLink,
    pub(super) identity: String,
    pub(super) time: String,
    pub(super) release: String,
    #[serde(default)]
    pub(super) environment: Option<String>,
    #[serde(default)]
    pub(super) plan_digest: Option<String>,
    // The light predicate holds the fields every record has, never a kind's details: the
    // register pre-passes (keys, the genesis register, the register history) read the typed
    // details ([`Decoded::register_change`]), as the rules do (crate::details).
    // Quarantine of foreign objects (issue 24): the archive's own field on any kind.
    #[serde(default)]
    pub(super) quarantined: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct LightStatement {
    #[serde(rename = "_type")]
    pub(super) statement_type: String,
    pub(super) subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub(super) predicate_type: String,
    pub(super) predicate: LightPredicate,
}

impl LightStatement {
    /// The light statement of a full one: the fields every record has, and the archive's
    /// `quarantined` field (a JSON `null` there reads as absent, as when parsed on its own).
    fn of(st: &Statement) -> LightStatement {
        let p = &st.predicate;
        LightStatement {
            statement_type: st.statement_type.clone(),
            subject: st.subject.clone(),
            predicate_type: st.predicate_type.clone(),
            predicate: LightPredicate {
                chain: p.chain.clone(),
                identity: p.identity.clone(),
                time: p.time.clone(),
                release: p.release.clone(),
                environment: p.environment.clone(),
                plan_digest: p.plan_digest.clone(),
                quarantined: p.details.get(crate::quarantine::QUARANTINED).filter(|v| !v.is_null()).cloned(),
            },
        }
    }
}

/// One record decoded: what the signature covers and what the checks need.
pub(super) struct Decoded {
    pub(super) keyid: String,
    pub(super) payload: Vec<u8>,
    pub(super) signature: [u8; 64],
    pub(super) hash: [u8; 32],
    pub(super) statement: Result<LightStatement, String>,
    pub(super) full: Option<Result<Statement, String>>,
    /// The record's details parsed as its kind (`None` for an unknown kind).
    pub(super) details: Option<Result<Details, DetailsError>>,
}

pub(super) enum Pre {
    Unreadable(String),
    Bad(Reason),
    Ok(Box<Decoded>),
}

impl Decoded {
    /// The typed details of a register change (`None` for another kind, or details that do not
    /// parse: the rules then refuse the record).
    pub(super) fn register_change(&self) -> Option<&crate::details::RegisterChangeDetails> {
        match &self.details {
            Some(Ok(Details::RegisterChange(c))) => Some(c),
            _ => None,
        }
    }

    /// An ed25519 signature decoded for the group equation with `key`, `None` if an encoding is
    /// refused. (ECDSA signatures are checked one by one: [`Decoded::verifies`].)
    pub(super) fn prepare(&self, key: &ed25519_dalek::VerifyingKey) -> Option<sig::Prepared> {
        sig::prepare(key, &self.signature, &[&pae_prefix(PAYLOAD_TYPE, self.payload.len()), &self.payload])
    }

    pub(super) fn verifies(&self, key: &PublicKey) -> bool {
        match key {
            PublicKey::Ed25519(k) => self.prepare(k).is_some_and(|p| sig::check(&p)),
            PublicKey::P256(_) => key.verify(&self.signature, &[&pae_prefix(PAYLOAD_TYPE, self.payload.len()), &self.payload]),
        }
    }
}

/// A record in the canonical envelope form whose strings need no escaping, read without
/// serde: what [`decode`] would find, or `None` when the bytes are anything else (the caller
/// then decodes with serde and compares with the re-serialization, which names what is wrong).
///
/// The payload and signature are base64: when they decode, they hold only the base64
/// alphabet, so they needed no escaping either.
pub(super) fn decode_canonical(bytes: &[u8]) -> Option<(Vec<u8>, &str, &str, Vec<u8>)> {
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

pub(super) fn decode(rec: &StoredRecord, keep: bool) -> Pre {
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
    let repeated = unique_keys::repeated_key(&payload);
    // The payload is parsed once where it can be: a full statement that parses holds every
    // field of the light one with the same type (the light one is taken from it); otherwise
    // the light one is parsed on its own, as without `keep`, and says what is wrong.
    let full = keep.then(|| serde_json::from_slice::<Statement>(&payload).map_err(|e| e.to_string()));
    let statement = match (&repeated, &full) {
        (Some(key), _) => Err(format!("the payload names key {key} twice, which JSON readers resolve differently")),
        (None, Some(Ok(st))) => Ok(LightStatement::of(st)),
        (None, _) => serde_json::from_slice::<LightStatement>(&payload).map_err(|e| e.to_string()),
    };
    // The typed details of the record's kind (the one reader of details, crate::details).
    let kind = statement.as_ref().ok().and_then(|st| Kind::from_predicate_type(&st.predicate_type));
    let details = kind.map(|kind| match &full {
        Some(Ok(st)) => Details::parse(kind, &st.predicate.details),
        _ => Details::from_payload(kind, &payload),
    });
    Pre::Ok(Box::new(Decoded { keyid, payload, signature, hash: Sha256::digest(&rec.bytes).into(), statement, full, details }))
}

pub(super) fn workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    /// The light statement taken from a parsed full one is the one parsed on its own, a
    /// `quarantined` field included (a JSON `null` there is absent either way).
    #[test]
    fn the_light_statement_of_a_full_one_is_the_light_statement_parsed_alone() {
        let shown = |l: &LightStatement| {
            let p = &l.predicate;
            format!("{} {:?} {} {:?} {} {} {} {:?} {:?} {:?}", l.statement_type, l.subject, l.predicate_type, p.chain, p.identity, p.time, p.release, p.environment, p.plan_digest, p.quarantined)
        };
        let c = testing::chain(1);
        let (payload, ..) = decode_canonical(&c.records[1].bytes).unwrap();
        let plain: Value = serde_json::from_slice(&payload).unwrap();
        for quarantined in [None, Some(Value::Null), Some(serde_json::json!([{"sequence": 3, "sha256": "ab"}]))] {
            let mut v = plain.clone();
            if let Some(q) = &quarantined {
                v["predicate"]["quarantined"] = q.clone();
            }
            let bytes = serde_json::to_vec(&v).unwrap();
            let alone: LightStatement = serde_json::from_slice(&bytes).unwrap();
            let full: Statement = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(shown(&LightStatement::of(&full)), shown(&alone), "quarantined {quarantined:?}");
            assert_eq!(alone.predicate.quarantined.is_some(), matches!(quarantined, Some(Value::Array(_))));
        }
    }

    #[test]
    fn only_the_canonical_form_of_an_envelope_decodes() {
        let c = testing::chain(1);
        let bytes = &c.records[0].bytes;
        let (_, payload_type, _, _) = decode_canonical(bytes).expect("a stored record is canonical");
        assert_eq!(payload_type, PAYLOAD_TYPE);
        // The same JSON with a space, or its keys reordered, is not canonical.
        let spaced = String::from_utf8(bytes.to_vec()).unwrap().replacen(':', ": ", 1);
        assert!(decode_canonical(spaced.as_bytes()).is_none());
        assert!(decode_canonical(b"not json").is_none());
        // Through the whole chain, a non-canonical record is named at its sequence.
        // (an envelope that does not decode has no sequence yet: its place in the store names it).
        let bad = testing::edited(&c.records, 3, |t| t.replacen(':', ": ", 1));
        let e = verify_chain(&bad, &c.root).unwrap_err();
        let f = failure_of(&e).unwrap();
        assert_eq!((f.location.as_str(), f.reason.code()), (c.records[3].location.as_str(), "not-canonical"));
    }
}
