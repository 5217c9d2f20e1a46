//! A witnessed listing (issue 36): a verifier holding a witness note with a `listing` line
//! ([`crate::witness::Listing`]) lists only the record keys after the witnessed size and the head
//! versions newer than the one the witness named, so a resumed pass lists O(new) pages instead
//! of every object version of the store.
//!
//! What the note vouches for: when the witness signed, a full listing showed exactly one version
//! per record key up to `size - 1` and no delete marker there, and the head version it names
//! was the head naming record `size - 1` with the witnessed hash; the witness had verified the
//! whole chain, every earlier head version included.
//!
//! How a verifier uses it ([`verified`]):
//! - the note is only a hint until the verification it shortened has checked it: the note goes
//!   into that verification's witnessed checkpoints, so it must be signed by a registered
//!   witness of the chain's register at its head, name this chain's origin, and the verified
//!   chain must hold the witnessed hash at `size - 1`; the head version it names must still be
//!   in the store, naming that record with that hash ([`crate::Store::vouch_holds`], one GET);
//! - a note that is malformed, has no `listing` line, vouches for more than one version per key
//!   or for a marker, or names a head version the store does not hold is not used; a
//!   verification it shortened that fails for any reason is done again with the full listing
//!   (and without the note), and that verdict is the one given;
//! - the records up to the witnessed size are read by key (their latest version), from the
//!   mirror or carried by a resumed pass: either way they must hash-chain to the witnessed hash;
//!   after it, exactly the keys the integrity listing found, each at its first version;
//! - the exact version set: read by key from record 0, the version ids the store answers for
//!   the witnessed keys must hash to the note's listing digest (the `key version` lines the
//!   witness's full listing hashed), so a version written over a record after the witness ran,
//!   even one with the record's own bytes, fails the vouched pass and the full listing reports
//!   it ([`Vouch::digest`]);
//! - the vouched verdict counts only when the note's signer is a witness of the register in
//!   force after the verified chain.
//!
//! The trade-off (ARCHITECTURE.md, THREATS.md): a version written over a record key, or a
//! delete marker put on one, behind the witnessed size after the witness ran is no longer seen
//! by every command at once; the next witness run (which lists everything, signs no `listing`
//! line while it sees one, and retires the last one when its verification fails) and
//! `evidence verify --full` report it. Until then a verification that carries the record
//! (resumed, or from the mirror) never reads the key again and accepts the store; one that
//! reads it by key gets another version than the witness pinned (and, with foreign bytes, a
//! break in the hash chain to the witnessed hash), so it is done again with the full listing,
//! which reports it. Seeing such a write without reading every witnessed key is not possible
//! with S3's API: no request tells which keys gained a version since a time.
//!
//! A maximum age bounds how long that lasts ([`young_enough`]): a note signed longer ago than
//! the governed maximum (`max_voucher_age_hours`, `governance/stores.toml`), by the trusted
//! clock (the evidence store's server time, never the local clock), vouches for no listing, so
//! when the witness stops running every command soon lists everything again.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::store::{Checkpoint, HeldHeads, Store, StoreIntegrity, StoredRecord, Windows};
use crate::witness::Witnessed;

/// What a witness note with a usable `listing` line vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vouch {
    /// Records witnessed: keys `0 ..= size - 1` held one version each and no marker.
    pub size: u64,
    /// sha256 (hex) of record `size - 1`.
    pub hash: String,
    /// The version id of the head object naming record `size - 1` when the witness listed.
    pub head_version: String,
    /// sha256 (hex) of the `key version` lines of the record versions the witness listed: the
    /// exact version set a verifier reading the keys by key must find.
    pub digest: String,
}

impl Vouch {
    /// The vouch a note makes, `None` when it makes none (malformed, no `listing` line, or a
    /// listing that is not one version per key without markers). Its signature is checked by
    /// the verification it shortens, not here.
    pub fn of(w: &Witnessed) -> Option<Vouch> {
        let cp = crate::witness::parse(&w.note).ok()?.checkpoint;
        let l = cp.listing?;
        (cp.size > 0 && l.versions == cp.size && l.markers == 0).then(|| Vouch { size: cp.size, hash: cp.hash, head_version: l.head_version, digest: l.digest })
    }
}

/// `store`, listed and read as `vouch` allows (see the module documentation).
pub struct Vouched<'a> {
    store: &'a dyn Store,
    vouch: Vouch,
    /// The record keys after the witnessed size as the last integrity listing found them.
    tail: std::sync::Mutex<Option<TailKeys>>,
}

/// Record keys, each with the id of the version to read.
type TailKeys = Vec<(String, Option<String>)>;

impl<'a> Vouched<'a> {
    pub fn new(store: &'a dyn Store, vouch: Vouch) -> Vouched<'a> {
        Vouched { store, vouch, tail: Default::default() }
    }
}

impl Store for Vouched<'_> {
    fn describe(&self) -> String {
        self.store.describe()
    }

    fn load(&self) -> Result<Vec<StoredRecord>> {
        Ok(self.windows()?.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
    }

    fn windows(&self) -> Result<Windows<'_>> {
        Ok(self.windows_from(0)?.1)
    }

    fn windows_from(&self, first: u64) -> Result<(u64, Windows<'_>)> {
        let tail = self.tail.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.store.windows_vouched(first, &self.vouch, tail.as_deref())
    }

    fn integrity(&self) -> Result<StoreIntegrity> {
        self.integrity_held(&BTreeSet::new(), &HeldHeads::default())
    }

    fn integrity_except(&self, seen: &BTreeSet<String>) -> Result<StoreIntegrity> {
        self.integrity_held(seen, &HeldHeads::default())
    }

    fn integrity_held(&self, seen: &BTreeSet<String>, held: &HeldHeads) -> Result<StoreIntegrity> {
        let integrity = self.store.integrity_vouched(seen, held, &self.vouch)?;
        *self.tail.lock().unwrap_or_else(|e| e.into_inner()) = integrity.tail_keys.clone();
        Ok(integrity)
    }

    fn last(&self) -> Result<Option<StoredRecord>> {
        self.store.last()
    }

    fn head(&self) -> Result<Option<StoredRecord>> {
        self.store.head()
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.store.checkpoint()
    }

    fn append(&mut self, _: u64, _: &str, _: &[Vec<u8>], _: &[u8]) -> Result<()> {
        anyhow::bail!("a store read under a witnessed listing is read only")
    }

    fn advance_head(&mut self, _: u64, _: &[u8]) -> Result<()> {
        anyhow::bail!("a store read under a witnessed listing is read only")
    }

    fn slotted(&self) -> bool {
        self.store.slotted()
    }
}

/// Whether the note `w` may still vouch for a listing at `now`, a reading of the trusted clock
/// (`clock`, its source, said in the refusal): signed at most `max_hours` hours before `now`
/// (and not more than that after it, a witness clock far ahead). `Err` says why not; a note
/// whose time cannot be read vouches for nothing.
pub fn young_enough(w: &Witnessed, now: time::OffsetDateTime, clock: &str, max_hours: u32) -> Result<(), String> {
    let note = crate::witness::parse(&w.note).map_err(|e| format!("{}: {e:#}", w.source))?;
    let signed = crate::record::parse_time(&note.checkpoint.time).map_err(|e| format!("{}: {e:#}", w.source))?;
    let max = time::Duration::hours(i64::from(max_hours));
    let apart = now - signed;
    let shown = |d: time::Duration| format!("{} h {:02} min", d.whole_hours(), d.whole_minutes().rem_euclid(60));
    if apart > max {
        return Err(format!(
            "{} was signed at {}, {} before the trusted clock's {now} ({clock}): older than the {max_hours} hours max_voucher_age_hours allows",
            w.source,
            note.checkpoint.time,
            shown(apart)
        ));
    }
    if -apart > max {
        return Err(format!(
            "{} was signed at {}, {} after the trusted clock's {now} ({clock}): further ahead than the {max_hours} hours max_voucher_age_hours allows",
            w.source,
            note.checkpoint.time,
            shown(-apart)
        ));
    }
    Ok(())
}

/// How [`verified`] listed the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// Only what followed the witnessed listing.
    Vouched,
    /// Every object version (no usable note, or the shortened verification failed).
    Full,
}

/// What a verification gives that [`verified`] checks the voucher against: the register in
/// force after the verified chain.
pub trait Registered {
    fn register(&self) -> &crate::Identities;
}

impl<A: Registered, B, C> Registered for (A, B, C) {
    fn register(&self) -> &crate::Identities {
        self.0.register()
    }
}

/// Runs `verify` (a verification of `store` given the witnessed checkpoints to check) on the
/// store as `voucher` allows, with the voucher among `witnessed`; when there is no usable
/// voucher or that run fails, runs it on `store` itself with `witnessed` only. The second
/// run's result is the one given. The vouched run counts only when the voucher is signed by a
/// witness of the register in force after the chain it verified (a witness since removed from
/// the register vouches for no listing; review of issue 36, finding 7).
pub fn verified<T: Registered>(
    store: &dyn Store,
    witnessed: &[Witnessed],
    voucher: Option<&Witnessed>,
    verify: impl Fn(&dyn Store, &[Witnessed]) -> Result<T>,
) -> Result<(T, Listed)> {
    verified_with(store, witnessed, voucher, |s, w, _| verify(s, w))
}

/// [`verified`], telling `verify` which voucher the run is under (`Some` in the vouched run
/// only): a verifier with a mirror carries its signatures under it
/// ([`crate::mirror::Mirror::verify_vouched`]).
pub fn verified_with<T: Registered>(
    store: &dyn Store,
    witnessed: &[Witnessed],
    voucher: Option<&Witnessed>,
    verify: impl Fn(&dyn Store, &[Witnessed], Option<&Witnessed>) -> Result<T>,
) -> Result<(T, Listed)> {
    if let Some((w, vouch)) = voucher.and_then(|w| Vouch::of(w).map(|v| (w, v))) {
        if store.vouch_holds(&vouch).unwrap_or(false) {
            let mut with = witnessed.to_vec();
            if !with.iter().any(|o| o.note == w.note) {
                with.push(w.clone());
            }
            if let Ok(out) = verify(&Vouched::new(store, vouch), &with, Some(w)) {
                let current = crate::witness::parse(&w.note).is_ok_and(|n| n.witnesses(out.register()).is_ok());
                if current {
                    return Ok((out, Listed::Vouched));
                }
            }
        }
    }
    Ok((verify(store, witnessed, None)?, Listed::Full))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Signer;
    use crate::witness::{origin_of, sign, WitnessCheckpoint};

    fn note_at(time: &str) -> Witnessed {
        let cp = WitnessCheckpoint { origin: origin_of(&"ab".repeat(32)), size: 7, hash: "cd".repeat(32), time: time.into(), listing: None, state: None };
        let signer = Signer::new("audit-witness", ed25519_dalek::SigningKey::from_bytes(&[1; 32]));
        Witnessed { note: sign(&cp, &signer).unwrap(), source: "witnessed checkpoint s3://w/k".into() }
    }

    #[test]
    fn a_note_older_or_further_ahead_than_the_maximum_age_vouches_for_nothing() {
        let now = crate::record::parse_time("2026-12-07T12:00:00Z").unwrap();
        // At the limit, either side: still young enough.
        assert_eq!(young_enough(&note_at("2026-12-06T12:00:00Z"), now, "s3 date", 24), Ok(()));
        assert_eq!(young_enough(&note_at("2026-12-08T12:00:00Z"), now, "s3 date", 24), Ok(()));
        // A second older than the limit: refused, naming the note, the clock and the setting.
        let old = young_enough(&note_at("2026-12-06T11:59:59Z"), now, "s3 date", 24).unwrap_err();
        assert!(old.contains("s3://w/k") && old.contains("24 h 00 min before") && old.contains("(s3 date)") && old.contains("max_voucher_age_hours"), "{old}");
        let ahead = young_enough(&note_at("2026-12-09T12:00:00Z"), now, "s3 date", 24).unwrap_err();
        assert!(ahead.contains("48 h 00 min after"), "{ahead}");
        // A shorter maximum refuses what a longer one accepts.
        assert!(young_enough(&note_at("2026-12-07T10:00:00Z"), now, "s3 date", 1).is_err());
        // Not a note: refused, not believed.
        let junk = Witnessed { note: b"junk".to_vec(), source: "x".into() };
        assert!(young_enough(&junk, now, "s3 date", 24).is_err());
    }
}
