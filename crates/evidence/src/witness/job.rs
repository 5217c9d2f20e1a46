//! The witness's job ([`cosign`]): verify the store, check the signer is a witness of the
//! chain's register, co-sign its head, and publish the verified records as mirror seeds
//! ([`super::seed`]); a witness whose verification fails retires the
//! latest note's `listing` line. It sits above the verifier, which reads the notes
//! ([`super`]) but never this job.
//!
//! [`cosign_kept`] is the same job with the witness's own state: a mirror of the records it
//! verified ([`crate::mirror::Mirror`] under the witness's directory, keyed by the store and the
//! trust root, in a directory of the witness's key: [`state_dir`]). The next run still lists every object version of the store (a version written
//! over a record, a delete marker, a head that does not name the chain: the same findings as a
//! full run), judges every head version (their bytes held where the listing's ETag vouches for
//! them) and reads from the store only the record objects after its state; the signatures of
//! the records below the witness's own latest note are carried (the note is this witness's
//! signature over what it verified; the chain must hold the note's hash at its size and an
//! appender-signed head must cover them), every other check runs over the whole chain. A state
//! that does not verify against the store (edited, another store's, torn) means a full run from
//! the store, whose verdict is the one signed. The state is removed when the chain is refused
//! (a verification failure), and kept when a run fails for any other reason (the store
//! unreachable): the next run verifies it against the store again anyway.

use std::path::Path;

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
    /// How the chain was read: with or without the witness's own state ([`cosign_kept`]).
    pub read: Kept,
}

/// How a witness run read the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Every record from the store: no state was asked for ([`cosign`]), or the state could not
    /// be used (why).
    Full(String),
    /// The records of the witness's state from its directory (`kept`), the rest from the
    /// store; the signatures of `carried` of them were not checked again.
    Incremental { kept: u64, carried: u64 },
}

/// [`cosign`] with the witness's own state under `dir` (see the module documentation): the
/// verdict and the note are those of a full run; only what is read from the store differs.
pub fn cosign_kept(
    store: &dyn crate::Store,
    witness_store: &WitnessStore,
    trust: &crate::TrustRoot,
    known: Vec<crate::KnownCheckpoint>,
    signer: &Signer,
    dir: &Path,
) -> Result<Option<Cosigned>> {
    run(store, witness_store, trust, known, signer, Some(&crate::mirror::Mirror::new(&state_dir(dir, signer), store, trust)))
}

/// Where under `dir` the witness `signer` keeps its state: a directory of its key. A key
/// rotated in the register (the new key registered, the old retired) starts from a full run:
/// the old key's state, whose records that key's holder checked, is never read by the new one.
pub fn state_dir(dir: &Path, signer: &Signer) -> std::path::PathBuf {
    let key = crate::dsse::sha256_hex(format!("{}\n{}", signer.identity(), signer.keyid()).as_bytes());
    dir.join(format!("key-{}", &key[..24]))
}

/// Whether `w` carries a signature line of `signer`'s name and key id whose signature verifies
/// with `signer`'s key: the witness's own note. A line under its name and key id signed by
/// another key (another registered witness's) is not its own.
fn signed_by(w: &Witnessed, signer: &Signer) -> bool {
    let keyid = note_keyid(signer.identity(), &signer.public_key());
    parse(&w.note).is_ok_and(|n| {
        n.signatures
            .iter()
            .any(|s| s.name == signer.identity() && s.keyid == keyid && signer.public_key().verify(&s.signature, &[n.text.as_bytes()]))
    })
}

/// What a verification of the job leaves: the chain, its state, the head bytes it judged, the
/// records read from the store with the earlier heads it judged (a full run), and how it read.
type Checked = (crate::VerifiedChain, crate::verify::Resumable, Option<Vec<u8>>, Option<(Vec<crate::StoredRecord>, Vec<crate::StoredRecord>)>, Kept);

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
    run(store, witness_store, trust, known, signer, None)
}

fn run(
    store: &dyn crate::Store,
    witness_store: &WitnessStore,
    trust: &crate::TrustRoot,
    known: Vec<crate::KnownCheckpoint>,
    signer: &Signer,
    kept: Option<&crate::mirror::Mirror>,
) -> Result<Option<Cosigned>> {
    let latest = witness_store.latest()?;
    let witnessed: Vec<Witnessed> = latest.clone().into_iter().collect();
    // One listing of the store's object versions for the verification and the note's `listing`
    // line: the verification's full listing is kept for `listing_upto` below.
    store.keep_listing();
    let checked = (|| -> Result<Checked> {
        let mut why = "no state kept".to_string();
        if let Some(mirror) = kept {
            // Read before the verification, which judges every version of the head (this one
            // included: versions are immutable, and a deleted one is a finding).
            let head = store.head()?.map(|h| h.bytes.to_vec());
            let had = mirror.holds_records();
            let own = latest.as_ref().filter(|w| signed_by(w, signer));
            if let Some((chain, state, read)) = mirror.verify_mirrored(store, trust, &known, &witnessed, own, false) {
                let mirrored = match read {
                    crate::mirror::Read::Mirror { mirrored } | crate::mirror::Read::Checkpoint { mirrored, .. } => mirrored,
                    crate::mirror::Read::Store => 0,
                };
                return Ok((chain, state, head, None, Kept::Incremental { kept: mirrored, carried: mirror.carried().records }));
            }
            why = if had {
                "the witness's state did not verify against the store".into()
            } else {
                "no state of this store and trust root under this witness key".into()
            };
        }
        let mut anchors = crate::Anchors::of_store(store, known.clone())?;
        anchors.witnessed = witnessed.clone();
        let head = anchors.head.as_ref().map(|h| h.bytes.to_vec());
        // Streamed: the verification keeps no verified record, and the copy of the records read
        // (for the seeds and the state) holds their bytes only.
        let tee = crate::mirror::Tee::new(store);
        let (chain, state) = crate::verify::verify_store_lean(&tee, trust, &anchors)?;
        let records = tee.into_copy();
        Ok((chain, state, head, Some((records, anchors.earlier_heads)), Kept::Full(why)))
    })();
    let (chain, state, verified_head, records, read) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            // A refused chain leaves no state; a run that could not finish for another reason
            // (the store unreachable, a read that timed out) keeps it for the next run.
            if let Some(mirror) = kept.filter(|_| crate::failure_of(&e).is_some()) {
                mirror.forget();
            }
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
    // The full listing the note vouches for (stores that keep no versions vouch for nothing):
    // the one this verification judged. It names the head version whose bytes this
    // verification checked (review finding 4).
    let (listing, mut findings) = store.listing_upto(seq + 1, hash, verified_head.as_deref())?;
    findings.extend(chain.quarantined.iter().map(|q| format!("foreign object: {q}")));
    let checkpoint = WitnessCheckpoint {
        origin: origin_of(&first),
        size: seq + 1,
        hash: hash.clone(),
        time: now.format(&time::format_description::well_known::Rfc3339)?,
        listing: listing.filter(|_| findings.is_empty()),
        // The digest of the state this verification derived at the head (issue 36): a verifier
        // that derived the same state resumes from it ([`crate::mirror`]). None while there are
        // findings, as for the listing.
        state: match state.checkpoint(seq + 1) {
            Some(Ok((_, digest))) if findings.is_empty() => Some(super::StateLine { seq: *seq, digest }),
            _ => None,
        },
    };
    let key = WitnessStore::key(checkpoint.size, now.unix_timestamp());
    let new = witness_store.put(&key, &sign(&checkpoint, signer)?)?;
    // The records just verified, as mirror seeds (a performance aid: the note stands whether
    // or not they could be written, and the job says which).
    let seeded = match (&records, kept) {
        (Some((records, earlier_heads)), mirror) => {
            if let Some(mirror) = mirror {
                if records.len() as u64 == state.objects() {
                    let n = state.len() as usize;
                    // A state that cannot be written costs the next run a full read, nothing more.
                    if mirror.keep_verified(&records[..n], &(*seq, hash.clone()), earlier_heads).is_err() {
                        mirror.forget();
                    }
                } else {
                    mirror.forget();
                }
            }
            super::seed::publish(witness_store, records, checkpoint.size, super::seed::SEGMENT)
        }
        // The state's records are the chain's objects from sequence 0: segments are read from
        // it one at a time, each held to the hash this verification holds for its sequence (the
        // state file is re-read after the note: a change to it in between publishes nothing).
        (None, Some(mirror)) => match mirror.objects() {
            Some((count, objects)) => {
                let checked = super::seed::as_verified(objects, |seq| state.hash_at(seq));
                super::seed::publish_objects(witness_store, checked, count, checkpoint.size, super::seed::SEGMENT)
            }
            None => Ok(0),
        },
        (None, None) => Ok(0),
    }
    .map_err(|e| format!("{e:#}"));
    Ok(Some(Cosigned { checkpoint, location: witness_store.location(&key), new, findings, seeded, read }))
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
    if !signed_by(prev, signer) {
        bail!("{} is not signed by {}'s key: its listing is not retired (the witness who signed it must run)", prev.source, signer.identity());
    }
    let mut now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let was = crate::record::parse_time(&note.checkpoint.time).ok();
    // The key orders by size then second: the retiring note must sort after the one it retires.
    if was.is_some_and(|t| now <= t) {
        now = was.expect("checked") + time::Duration::seconds(1);
    }
    // The retiring note vouches for neither the listing nor the state (the run that retires
    // them failed or was refused).
    let checkpoint = WitnessCheckpoint {
        listing: None,
        state: None,
        time: now.format(&time::format_description::well_known::Rfc3339)?,
        ..note.checkpoint
    };
    let key = WitnessStore::key(checkpoint.size, now.unix_timestamp());
    witness_store.put(&key, &sign(&checkpoint, signer)?).with_context(|| format!("the witness could not retire the listing of {}", prev.source))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use ed25519_dalek::SigningKey;

    fn note(by: &Signer) -> Witnessed {
        let checkpoint = WitnessCheckpoint {
            origin: origin_of(&"ab".repeat(32)),
            size: 3,
            hash: "cd".repeat(32),
            time: "2026-12-08T01:00:00Z".into(),
            listing: None,
            state: None,
        };
        Witnessed { note: sign(&checkpoint, by).unwrap(), source: "a note".into() }
    }

    /// The witness's own note is one its key signed: another registered witness's note is not,
    /// nor one whose signature line carries the witness's name and key id (both public) over a
    /// signature the other witness's key made. Without the signature check the second was taken
    /// for the witness's own.
    #[test]
    fn only_a_note_the_witness_s_key_signed_is_its_own() {
        let me = Signer::new("audit-witness", SigningKey::from_bytes(&[1; 32]));
        let other = Signer::new("second-witness", SigningKey::from_bytes(&[2; 32]));
        assert!(signed_by(&note(&me), &me));
        assert!(!signed_by(&note(&other), &me), "another witness's note");
        // The other witness's note with its line renamed to the witness and given the
        // witness's key id, its signature still the other key's.
        let theirs = String::from_utf8(note(&other).note).unwrap();
        let line = theirs.lines().last().unwrap();
        let blob = base64::engine::general_purpose::STANDARD.decode(line.rsplit(' ').next().unwrap()).unwrap();
        let mut forged_blob = note_keyid(me.identity(), &me.public_key()).to_vec();
        forged_blob.extend_from_slice(&blob[4..]);
        let forged_line = format!("\u{2014} audit-witness {}", base64::engine::general_purpose::STANDARD.encode(forged_blob));
        let forged = Witnessed { note: theirs.replace(line, &forged_line).into_bytes(), source: "a forged note".into() };
        assert!(parse(&forged.note).is_ok());
        assert!(!signed_by(&forged, &me), "the witness's name and key id over another key's signature");
    }
}
