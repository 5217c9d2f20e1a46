//! After the last record: the store's problems, the signed head and earlier heads, known and witnessed
//! checkpoints, each checked against the chain.

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::quarantine;
use crate::dsse::pae;
use crate::identity::Identities;
use crate::record::Kind;
use crate::store::{decode_checkpoint, CHECKPOINT_PAYLOAD_TYPE, Checkpoint, StoredRecord};
use super::accept::lookup;
use super::decode::{decode, workers, Pre};
use super::reason::{failure_of, Reason};
use super::results::{Anchors, KnownCheckpoint};
use super::rules::{fail, hex32, State};

/// Fingerprints of every register the chain establishes (cheap scan for register changes).
pub(super) fn register_history(records: &[StoredRecord], genesis: &Identities) -> Vec<String> {
    let needle = Kind::RegisterChange.predicate_type();
    let mut out = vec![genesis.fingerprint()];
    for r in records {
        if let Pre::Ok(d) = decode(r, false) {
            if d.statement.as_ref().is_ok_and(|st| st.predicate_type == needle) {
                if let Some(c) = d.register_change() {
                    out.push(c.register_sha256.clone());
                }
            }
        }
    }
    out
}

/// Head, earlier heads, known checkpoints and store problems.
pub(super) fn finish(state: &mut State, anchors: &Anchors) -> Result<()> {
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
    for (h, judged) in anchors.earlier_heads.iter().zip(judge_heads(&anchors.earlier_heads, state)) {
        match judged {
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
    pub(super) fn registers_at(&self, sequence: u64) -> impl Iterator<Item = &Identities> {
        let at = |s: u64| self.registers.iter().rev().find(|(from, _)| *from <= s).map(|(_, r)| r.as_ref());
        let (judged, after) = (at(sequence), at(sequence.saturating_add(1)));
        after.into_iter().chain(judged.filter(|j| !after.is_some_and(|a| std::ptr::eq(*j, a))))
    }
}

/// A witnessed checkpoint against the chain: a registered witness (at the record it names, or
/// the register in force after the chain when the chain is shorter) signed it, its origin is
/// this chain's, and the chain holds its head record with the same hash.
pub(super) fn check_witnessed(w: &crate::witness::Witnessed, state: &State) -> Result<()> {
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

/// Earlier heads below this many are judged on the calling thread.
const PARALLEL_HEADS: usize = 512;

/// [`check_head`] of each earlier head, in their order. A store keeps one earlier head per
/// append, so a long chain has as many as records: they are judged on every core (each on its
/// own, against the state after the last record), and the caller takes the verdicts in order.
pub(super) fn judge_heads(heads: &[StoredRecord], state: &State) -> Vec<Result<KnownCheckpoint>> {
    let workers = workers();
    if heads.len() < PARALLEL_HEADS || workers < 2 {
        return heads.iter().map(|h| check_head(h, state)).collect();
    }
    let chunk = heads.len().div_ceil(workers);
    std::thread::scope(|s| {
        let parts: Vec<_> = heads.chunks(chunk).map(|c| s.spawn(move || c.iter().map(|h| check_head(h, state)).collect::<Vec<_>>())).collect();
        parts.into_iter().flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Verifies a signed head against the register in force at the record it names.
pub(super) fn check_head(head: &StoredRecord, state: &State) -> Result<KnownCheckpoint> {
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
pub(super) fn check_head_with(head: &StoredRecord, register: &Identities) -> Result<KnownCheckpoint> {
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
    if !key.verify(&sig_bytes, &[&message]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    fn known(sequence: u64, hash: String) -> KnownCheckpoint {
        KnownCheckpoint { checkpoint: Checkpoint { sequence, hash, time: String::new() }, source: "unit test".into() }
    }

    #[test]
    fn known_checkpoints_and_the_head_are_checked_against_the_chain() {
        let c = testing::chain(2);
        let hash = |i: usize| crate::dsse::sha256_hex(&c.records[i].bytes);
        let with = |k: Vec<KnownCheckpoint>| Anchors { known: k, ..Anchors::default() };
        // A checkpoint the chain holds passes; one naming another hash, or a record the chain
        // no longer has, fails.
        assert!(verify_chain_with(&c.records, &c.root, &with(vec![known(2, hash(2))])).is_ok());
        assert_eq!(testing::code_of(verify_chain_with(&c.records, &c.root, &with(vec![known(2, hash(3))]))).1, "checkpoint-mismatch");
        let short = &c.records[..5];
        assert_eq!(testing::code_of(verify_chain_with(short, &c.root, &with(vec![known(7, hash(7))]))).1, "truncated");
        // The store's signed head names its last record: a chain cut behind it fails.
        let anchors = Anchors::of_store(&c.store, Vec::new()).unwrap();
        assert!(anchors.head.is_some(), "the archive signs a head");
        assert!(verify_chain_with(&c.records, &c.root, &anchors).is_ok());
        assert_eq!(testing::code_of(verify_chain_with(short, &c.root, &anchors)).1, "truncated");
    }

    #[test]
    fn many_earlier_heads_are_judged_in_parallel_with_the_verdict_of_the_first_bad_one() {
        let c = testing::chain(2);
        let head = Anchors::of_store(&c.store, Vec::new()).unwrap().head.expect("the archive signs a head");
        let n = PARALLEL_HEADS * 2 + 3;
        let heads = |bad: &[usize]| -> Vec<StoredRecord> {
            (0..n)
                .map(|i| {
                    let mut h = head.clone();
                    h.location = format!("head version {i}");
                    if bad.contains(&i) {
                        // Another hash for the record it names: signed bytes changed, so the signature fails.
                        h.bytes = String::from_utf8(h.bytes.to_vec()).unwrap().replacen("\"sig\":\"", "\"sig\":\"AAAA", 1).into_bytes().into();
                    }
                    h
                })
                .collect()
        };
        let with = |earlier_heads| Anchors { earlier_heads, ..Anchors::default() };
        assert!(verify_chain_with(&c.records, &c.root, &with(heads(&[]))).is_ok(), "{n} good earlier heads pass");
        // Two bad heads in different parts: the verdict names the first in listing order, as a
        // sequential pass does.
        for bad in [[PARALLEL_HEADS + 7, 5], [5, n - 1]] {
            let e = verify_chain_with(&c.records, &c.root, &with(heads(&bad))).unwrap_err();
            let f = failure_of(&e).expect("a failure");
            assert_eq!(f.location, format!("head version {}", bad.iter().min().unwrap()), "{bad:?}: {e:#}");
        }
    }
}
