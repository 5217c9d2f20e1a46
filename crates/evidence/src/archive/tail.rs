//! The appender's tail walk in a slotted store: where the next record goes and which foreign
//! objects it records ([`crate::quarantine`]). A valid record is judged by the verifier's
//! rules a record satisfies on its own, so the walk sits with the appender, above the verifier.

use crate::dsse::{pae, sha256_hex, Envelope, PAYLOAD_TYPE};
use crate::identity::Identities;
use crate::quarantine::{declared, slot_of, Skip, QUARANTINED};
use crate::record::{Kind, Statement};
use crate::store::StoredRecord;
use crate::verify::check_own_rules;

/// Where an appender continues in a slotted store.
#[derive(Clone, Debug)]
pub(crate) struct Tail {
    /// The key (and sequence) of the next record.
    pub next: u64,
    /// sha256 of the last valid record ([`crate::record::GENESIS`] without one).
    pub head: String,
    pub last_time: Option<time::OffsetDateTime>,
    /// Foreign objects between the last valid record and `next`: the next record records them.
    pub skips: Vec<Skip>,
}

/// Walks `objects` (record keys in order, contiguous from the first) after the valid record
/// (`start`: its sequence and hash, which must be the first object) or from the chain's start
/// (`None`; the register in force now then judges every record, so a chain whose register
/// changed is best walked from its head). A valid next record decodes, is signed (by a key of `register` when one is given)
/// for its claimed identity and kind, sits at its own sequence's key, links to the last valid
/// record and records exactly the foreign objects before it. `None` when `start` is not the
/// valid record the first object should be (the caller walks from the chain's start).
pub(crate) fn walk(objects: &[StoredRecord], start: Option<(u64, &str)>, register: Option<&Identities>) -> Option<Tail> {
    let mut tail = Tail { next: 0, head: crate::record::GENESIS.to_string(), last_time: None, skips: Vec::new() };
    let mut rest = objects;
    if let Some((sequence, hash)) = start {
        let (first, after) = objects.split_first()?;
        if slot_of(&first.location) != Some(sequence) || sha256_hex(&first.bytes) != hash {
            return None;
        }
        // The head vouches for its record (verification checks the head's signature); the keys
        // that judge later objects are those of the register in force now.
        let st = valid_statement(first, None)?;
        tail.next = sequence + 1;
        tail.head = hash.to_string();
        tail.last_time = crate::record::parse_time(&st.predicate.time).ok();
        rest = after;
    }
    for obj in rest {
        let Some(slot) = slot_of(&obj.location) else { continue };
        if slot != tail.next + tail.skips.len() as u64 {
            break; // a key without an object: the next record goes there
        }
        let valid = valid_statement(obj, register).filter(|st| {
            let p = &st.predicate;
            let skips = declared(p.details.get(QUARANTINED)).unwrap_or_default();
            p.chain.sequence == slot && p.chain.previous == tail.head && skips == tail.skips
        });
        match valid {
            Some(st) => {
                tail.head = sha256_hex(&obj.bytes);
                tail.last_time = crate::record::parse_time(&st.predicate.time).ok();
                tail.next = slot + 1;
                tail.skips.clear();
            }
            None => tail.skips.push(Skip { sequence: slot, sha256: sha256_hex(&obj.bytes), size: obj.bytes.len() as u64 }),
        }
    }
    tail.next += tail.skips.len() as u64;
    Some(tail)
}

/// The checkpoint of a head signed (when `register` is given) by a registered key that may
/// sign checkpoints; `None` for anything else (garbage, a stranger's head): an appender then
/// walks the records themselves.
pub(crate) fn head_checkpoint(head: &StoredRecord, register: Option<&Identities>) -> Option<crate::store::Checkpoint> {
    let (env, p) = crate::store::decode_checkpoint(&head.bytes, &head.location).ok()?;
    if let Some(register) = register {
        let [sig] = &env.signatures[..] else { return None };
        let id = register.by_keyid(&sig.keyid)?;
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &sig.sig).ok()?;
        let bytes = <[u8; 64]>::try_from(bytes.as_slice()).ok()?;
        let message = pae(crate::store::CHECKPOINT_PAYLOAD_TYPE, &env.payload_bytes().ok()?);
        if id.name != p.identity || !id.may_sign(Kind::Checkpoint) || !id.public_key.verify(&bytes, &[&message]) {
            return None;
        }
    }
    Some(crate::store::Checkpoint { sequence: p.sequence, hash: p.hash, time: p.time })
}

/// The statement of a canonical envelope signed (when `register` is given) by the registered
/// key of the identity it claims, of a kind that identity may sign.
fn valid_statement(rec: &StoredRecord, register: Option<&Identities>) -> Option<Statement> {
    let env: Envelope = serde_json::from_slice(&rec.bytes).ok()?;
    if env.to_canonical() != rec.bytes || env.payload_type != PAYLOAD_TYPE || env.signatures.len() != 1 {
        return None;
    }
    let payload = env.payload_bytes().ok()?;
    let st: Statement = serde_json::from_slice(&payload).ok()?;
    if let Some(register) = register {
        let id = register.by_keyid(&env.signatures[0].keyid)?;
        let kind = Kind::from_predicate_type(&st.predicate_type)?;
        if id.name != st.predicate.identity || !id.may_sign(kind) {
            return None;
        }
        let sig = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &env.signatures[0].sig).ok()?;
        let sig = <[u8; 64]>::try_from(sig.as_slice()).ok()?;
        if !id.public_key.verify(&sig, &[&pae(PAYLOAD_TYPE, &payload)]) {
            return None;
        }
        // The rules a record satisfies on its own (the environment binding among them), as
        // verification applies them: a record that breaks one is foreign, skipped and recorded.
        check_own_rules(kind, id, register, &st).ok()?;
    }
    Some(st)
}
