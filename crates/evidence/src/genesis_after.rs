//! A fresh store squatted before bootstrap (issue 24): garbage (or a forged record) written at
//! `records/000000000000.json` before the landing zone's genesis register was. Under
//! COMPLIANCE Object Lock it can never be removed, so the genesis record lands at the next free
//! key, recording the skip like any appender after foreign objects ([`crate::quarantine`]).
//!
//! A verifier that trusts pinned fingerprints only (the landing zone's `governance/stores.toml`)
//! then starts from the first genesis register change among the store's leading objects that
//! its pins vouch for. The state accepts that record as the genesis only where no record was
//! accepted before it and only with the register the verifier started from; its signed skip
//! claims must cover every earlier key, each holding an object verification itself finds
//! foreign (a claim over a genuine record fails the chain). A chain that starts at record 0 is
//! read exactly as before.

use crate::identity::Identities;
use crate::store::StoredRecord;
use crate::verify::{genesis_register_at, TrustRoot};

/// The register to start from when record 0 is not a genesis and `root` pins fingerprints
/// only (in a slotted store, for the empty register): that of the first genesis register change among all of `records` that `root` vouches
/// for (by pinned fingerprint or signer); none at all (a store squatted before bootstrap,
/// nothing genuine written yet): the empty register, under which every object is foreign and
/// the bootstrap's genesis appends after them. A genesis the pins do not vouch for (a wrong
/// pin, a forged chain) starts nothing: `None`. All records are searched, so the empty
/// register is chosen only where no object is a genesis: the state's acceptance of a genesis
/// under an empty register then serves the appender's own pre-check alone.
pub(crate) fn vouched(records: &[StoredRecord], root: &TrustRoot, slotted: bool) -> Option<Identities> {
    if !root.pins_only() {
        return None;
    }
    let candidates: Vec<(Identities, String)> = records.iter().filter_map(|r| genesis_register_at(r, None)).collect();
    if candidates.is_empty() {
        // Only a slotted store quarantines what the empty register cannot verify.
        return slotted.then(Identities::default);
    }
    candidates.into_iter().find(|(ids, keyid)| root.vouches_for_genesis(ids, ids.by_keyid(keyid), &[])).map(|(ids, _)| ids)
}
