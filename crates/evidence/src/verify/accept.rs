//! The sequential checks of one window of decoded records, key lookup in the register in force, and the
//! genesis register a chain starts from.

use std::fmt;

use anyhow::{bail, Result};

use crate::quarantine;
use crate::identity::{Identities, Identity};
use crate::keys::PublicKey;
use crate::quarantine::Quarantined;
use crate::record::{GENESIS, Kind};
use crate::store::StoredRecord;
use super::decode::{decode, Pre};
use super::pipeline::{KeyDirectory, Prepped};
use super::reason::{Failure, Reason};
use super::results::VerifiedRecord;
use super::rules::{fail, hex32, State};

impl State {
    /// The sequential checks of one window. `rest` reads every record after the window (only
    /// a sequence out of place needs them, to tell a reordering from a gap).
    pub(super) fn accept_window(
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
    pub(super) fn accept_one(
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
            // A decoded statement's typed details must decode too (kept or not: the witness's
            // lean pass refuses what a keeping pass refuses).
            let details = match (&full, d.details.take()) {
                (None, _) => None,
                (Some(_), Some(Ok(details))) => Some(details),
                (Some(_), _) => return Err(fail(&rec.location, Some(sequence), Reason::Detail("the record's details were not decoded".into()))),
            };
            if let (Some(out), Some(full), Some(details)) = (keep, full, details) {
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
pub(super) struct NotARecord(pub(super) String);

impl fmt::Display for NotARecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotARecord {}

pub(super) fn lookup(register: &Identities, keyid: &str) -> Result<(Identity, PublicKey), Reason> {
    lookup_in(register, keyid).map(|(id, key)| (id.clone(), key))
}

/// The identity with `keyid` in `register`, and its key. A register refuses weak keys when it
/// is parsed; this checks again on the encoding (without point arithmetic, see
/// [`sig::is_weak_encoding`]), since every record passes here.
pub(super) fn lookup_in<'r>(register: &'r Identities, keyid: &str) -> Result<(&'r Identity, PublicKey), Reason> {
    match register.by_keyid(keyid) {
        Some(id) if id.public_key.is_weak() => Err(Reason::WeakKey { identity: id.name.clone() }),
        Some(id) => Ok((id, id.public_key)),
        None => Err(Reason::UnknownKey(keyid.to_string())),
    }
}

/// Record 0 as a genesis register change: (its register, its signer's key id).
pub(super) fn genesis_register(rec: &StoredRecord) -> Option<(Identities, String)> {
    genesis_register_at(rec, Some(0))
}

/// A genesis register change at sequence `at` (any sequence: `None`).
pub(crate) fn genesis_register_at(rec: &StoredRecord, at: Option<u64>) -> Option<(Identities, String)> {
    let Pre::Ok(d) = decode(rec, false) else {
        return None;
    };
    let st = d.statement.as_ref().ok()?;
    if st.predicate_type != Kind::RegisterChange.predicate_type() || at.is_some_and(|at| st.predicate.chain.sequence != at) {
        return None;
    }
    let change = d.register_change().filter(|c| c.previous_register_sha256 == GENESIS)?;
    let ids = Identities::parse(&change.register, "genesis register").ok()?;
    Some((ids, d.keyid.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    #[test]
    fn records_out_of_place_are_named_at_their_sequence() {
        let c = testing::chain(2);
        let mut swapped = c.records.clone();
        swapped.swap(2, 3);
        let mut dropped = c.records.clone();
        dropped.remove(2);
        let mut doubled = c.records.clone();
        doubled.insert(3, c.records[2].clone());
        let found: Vec<(Option<u64>, &str)> = [swapped, dropped, doubled].iter().map(|r| testing::code_of(verify_chain(r, &c.root))).collect();
        assert_eq!(found, [(Some(3), "reordered"), (Some(3), "gap"), (Some(2), "duplicate")]);
        // A key the register in force does not hold is named by lookup.
        assert!(matches!(lookup(&c.team.identities, &crate::bench::digest_of("key", 0)), Err(Reason::UnknownKey(_))));
    }
}
