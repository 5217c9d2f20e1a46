//! The witness's job ([`cosign`]): verify the store, check the signer is a witness of the
//! chain's register, co-sign its head, and publish the verified records as mirror seeds
//! ([`super::seed`]); a witness whose verification fails retires the
//! latest note's `listing` line. It sits above the verifier, which reads the notes
//! ([`super`]) but never this job.

use anyhow::{bail, Context, Result};

use super::{note_keyid, origin_of, parse, sign, WitnessCheckpoint, WitnessStore, Witnessed};
use crate::identity::{Role, Signer};

/// What [`cosign`] did.
#[derive(Clone, Debug)]
pub struct Cosigned {
    pub checkpoint: WitnessCheckpoint,
    /// Where the note is (`s3://bucket/key`).
    pub location: String,
    /// `false` when the same note was already there (a rerun within the same second).
    pub new: bool,
    /// What the witness's full listing found that it could not vouch for (a version written
    /// over a record, a delete marker, a head that does not name the checkpoint): each a
    /// finding; the note is then signed without its `listing` line.
    pub findings: Vec<String>,
    /// The mirror seed segments written ([`super::seed`]), or why none could be.
    pub seeded: std::result::Result<usize, String>,
}

/// The witness's job: verifies `store` against `trust`, the `known` checkpoints and the latest
/// checkpoint in `witness_store`, checks that `signer` is a witness of the chain's register
/// with its registered key, and writes a note co-signing the store's head, timed by the
/// witness's own clock. A store that fails verification is a [`crate::Failure`]; a signer who
/// may not witness is [`crate::Refused`]; an empty chain is `Ok(None)`.
pub fn cosign(
    store: &dyn crate::Store,
    witness_store: &WitnessStore,
    trust: &crate::TrustRoot,
    known: Vec<crate::KnownCheckpoint>,
    signer: &Signer,
) -> Result<Option<Cosigned>> {
    let latest = witness_store.latest()?;
    let checked = (|| {
        let mut anchors = crate::Anchors::of_store(store, known)?;
        anchors.witnessed = latest.clone().into_iter().collect();
        let head = anchors.head.as_ref().map(|h| h.bytes.to_vec());
        // Streamed: the verification keeps no verified record, and the copy of the records read
        // (for the seeds) holds their bytes only.
        let tee = crate::mirror::Tee::new(store);
        let (chain, state) = crate::verify::verify_store_lean(&tee, trust, &anchors)?;
        Ok::<_, anyhow::Error>((chain, state, head, tee.into_copy()))
    })();
    let (chain, state, verified_head, records) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            // The latest note may vouch for a listing this run could not verify: a note without
            // one retires it before the refusal is given (issue 36, review finding 1).
            if let Some(Err(r)) = latest.as_ref().map(|prev| retire(prev, witness_store, signer)) {
                // The refusal stays the error (its kind decides the exit code); the note's fate is said.
                return Err(e.context(format!("(the latest note's listing line is still in force: {r:#})")));
            }
            return Err(e);
        }
    };
    let refused = |m: String| anyhow::Error::new(crate::Refused(m));
    match chain.register.get(signer.identity()) {
        Some(id) if id.keyid != signer.keyid() => return Err(refused(format!("the key given is not the registered key of {}", id.name))),
        Some(id) if !id.has_role(Role::Witness) => {
            return Err(refused(format!("{} does not hold the witness role in the chain's register", id.name)))
        }
        Some(_) => {}
        None => return Err(refused(format!("{} is not registered in the chain's register", signer.identity()))),
    }
    // The origin is the hash the chain holds for sequence 0, as verifiers compare it.
    let (Some((seq, hash)), Some(first)) = (&chain.head, state.hash_at(0)) else { return Ok(None) };
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    // The full listing the note vouches for (stores that keep no versions vouch for nothing).
    // It names the head version whose bytes this verification checked (review finding 4).
    let (listing, mut findings) = store.listing_upto(seq + 1, hash, verified_head.as_deref())?;
    findings.extend(chain.quarantined.iter().map(|q| format!("foreign object: {q}")));
    let checkpoint = WitnessCheckpoint {
        origin: origin_of(&first),
        size: seq + 1,
        hash: hash.clone(),
        time: now.format(&time::format_description::well_known::Rfc3339)?,
        listing: listing.filter(|_| findings.is_empty()),
    };
    let key = WitnessStore::key(checkpoint.size, now.unix_timestamp());
    let new = witness_store.put(&key, &sign(&checkpoint, signer)?)?;
    // The records just verified, as mirror seeds (a performance aid: the note stands whether
    // or not they could be written, and the job says which).
    let seeded = super::seed::publish(witness_store, &records, checkpoint.size, super::seed::SEGMENT).map_err(|e| format!("{e:#}"));
    Ok(Some(Cosigned { checkpoint, location: witness_store.location(&key), new, findings, seeded }))
}

/// After a verification the witness refused: when the latest note `prev` carries a `listing`
/// line and `signer`'s key signed it, signs its checkpoint again (the size and hash it had verified) at the witness's time
/// now, without that line, so that [`WitnessStore::latest`] no longer gives a voucher
/// ([`crate::vouch`]) and every verifier lists the whole store.
fn retire(prev: &Witnessed, witness_store: &WitnessStore, signer: &Signer) -> Result<()> {
    let Ok(note) = parse(&prev.note) else { return Ok(()) };
    if note.checkpoint.listing.is_none() {
        return Ok(());
    }
    // Only a key that signed the note retires it: a note by a key no register holds would make
    // every verifier that checks the latest note refuse.
    let keyid = note_keyid(signer.identity(), &signer.public_key());
    if !note.signatures.iter().any(|s| s.name == signer.identity() && s.keyid == keyid) {
        bail!("{} is not signed by {}'s key: its listing is not retired (the witness who signed it must run)", prev.source, signer.identity());
    }
    let mut now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let was = crate::record::parse_time(&note.checkpoint.time).ok();
    // The key orders by size then second: the retiring note must sort after the one it retires.
    if was.is_some_and(|t| now <= t) {
        now = was.expect("checked") + time::Duration::seconds(1);
    }
    let checkpoint = WitnessCheckpoint {
        listing: None,
        time: now.format(&time::format_description::well_known::Rfc3339)?,
        ..note.checkpoint
    };
    let key = WitnessStore::key(checkpoint.size, now.unix_timestamp());
    witness_store.put(&key, &sign(&checkpoint, signer)?).with_context(|| format!("the witness could not retire the listing of {}", prev.source))?;
    Ok(())
}
