//! One listing per command (issue 36): within a [`Command`], a read of an S3 chain this command
//! already verified reuses that verification while the store's signed head is byte for byte the
//! one read right after it, instead of listing every object version again.
//!
//! Why that is safe for an S3 evidence store (Object Lock COMPLIANCE, records written once):
//! - the records are the first versions of their keys, which cannot change; a version written
//!   over a record key is a finding (quarantined), never a different record;
//! - a new record moves the head (a head that differs by one byte is a full resumed pass), or,
//!   written without moving it, sits at the next key.
//!
//! What the reuse does not see, a fresh verification does and finds fatal: a delete marker over
//! a record key (or over the head), and an earlier head version forged (signed by one registered
//! key) and then covered by the old head's bytes. So nothing is recorded on a reused chain: every
//! append ([`crate::ledger::Ledger::append_if`], [`crate::ledger::Ledger::append`]), from its
//! first try on, opens the archive on a resumed pass made then, with the store's listing (one per
//! append, not one per read); a record another writer appends after that pass makes the try
//! `HeadMoved` (records are written with `If-None-Match`, the head with `If-Match`), and it is
//! tried again on a new pass, the decision checked again. Reads between appends may see a chain
//! that such tampering has since hidden from the head; no decision is recorded on it.
//!
//! The reused state is process memory only (the registry of [`super`]), never a file. It is
//! reused only within the command that verified it: [`Command::begin`] starts a new epoch, and a
//! state verified under an earlier one is verified again. A local chain is never reused (its
//! file can be rewritten in place; its resumed pass reads no listing anyway).

use anyhow::Result;
use lz_evidence::{Store, VerifiedChain};

pub use crate::command::Command;
use crate::command::epoch;
use crate::ledger::EvidenceAt;

/// What a verification of an S3 chain was checked against: the signed head read after it,
/// naming the verified chain's last record, in the command's epoch.
#[derive(Clone, Debug)]
pub struct Anchor {
    epoch: u64,
    head: Vec<u8>,
}

/// The anchor of `chain`, just verified from `store`: `None` outside a command, for a local
/// chain, or when the head read now does not name the chain's last record (moved meanwhile).
pub(super) fn anchor(at: &EvidenceAt, store: &dyn Store, chain: &VerifiedChain) -> Result<Option<Anchor>> {
    let (Some(epoch), EvidenceAt::S3(_)) = (epoch(), at) else { return Ok(None) };
    let Some(head) = store.head()? else { return Ok(None) };
    let Ok((_, cp)) = lz_evidence::store::decode_checkpoint(&head.bytes, &head.location) else { return Ok(None) };
    Ok((chain.head.as_ref() == Some(&(cp.sequence, cp.hash))).then(|| Anchor { epoch, head: head.bytes.to_vec() }))
}

/// Whether a verification anchored at `anchor` still stands for `store`: the same command, and
/// the same signed head (one GET).
pub(super) fn still(anchor: Option<&Anchor>, store: &dyn Store) -> Result<bool> {
    let Some(anchor) = anchor else { return Ok(false) };
    if epoch() != Some(anchor.epoch) {
        return Ok(false);
    }
    Ok(store.head()?.is_some_and(|h| h.bytes[..] == anchor.head[..]))
}
