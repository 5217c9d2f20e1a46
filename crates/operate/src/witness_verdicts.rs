//! The witness's replay of every deployment's admission, signed
//! ([`lz_promote::replay::witnessed`]): after co-signing a checkpoint of the landing zone's S3
//! chain, the audit function's witness replays every deployment of the chain (taking nothing
//! from other witnesses' verdicts) and signs what it found for the whole chain it verified.
//! Commands then replay only the deployments after it.
//!
//! [`publish`] starts from the witness's own latest verdicts that hold for this chain (signed
//! with its registered key, naming it, holding the chain's hash at their size: what it replayed
//! and signed itself) and replays only the deployments after them, so a run after one new
//! record replays at most that one. [`publish_full`] replays every deployment, taking nothing
//! (the first run, a witness that wants to re-derive every verdict, a new key).

use anyhow::Result;
use lz_evidence::{Role, Signer};
use lz_promote::ledger::EvidenceAt;
use lz_promote::refusal::refuse;
use lz_promote::replay::witnessed::{self, Verdicts};
use lz_promote::Paths;

/// What [`publish`] signed, and whether it was new (a rerun on an unchanged chain writes the
/// same size again only when the bytes match).
pub struct Published {
    pub verdicts: Verdicts,
    pub location: String,
    pub new: bool,
    /// The size of the witness's own earlier verdicts the run started from (the deployments
    /// below it were not replayed again); `None`: every deployment was replayed.
    pub from: Option<u64>,
}

/// Replays the deployments of the verified chain at `paths` after the witness's own latest
/// verdicts that hold (every one without them) and writes the verdicts of the whole chain,
/// signed by `signer`, into the witness store. `None` for a chain that is not in S3 or is
/// empty. Refused unless `signer` is a witness of the register in force with its registered key.
pub fn publish(paths: &Paths, signer: &Signer) -> Result<Option<Published>> {
    run(paths, signer, true)
}

/// [`publish`] replaying every deployment, taking nothing from earlier verdicts.
pub fn publish_full(paths: &Paths, signer: &Signer) -> Result<Option<Published>> {
    run(paths, signer, false)
}

fn run(paths: &Paths, signer: &Signer, from_own: bool) -> Result<Option<Published>> {
    let EvidenceAt::S3(stores) = &paths.evidence else { return Ok(None) };
    let ledger = paths.ledger()?;
    match ledger.identities().get(signer.identity()) {
        Some(id) if id.keyid == signer.keyid() && id.has_role(Role::Witness) => {}
        Some(id) if id.keyid != signer.keyid() => return Err(refuse!("the key given is not the registered key of {}", id.name)),
        Some(id) => return Err(refuse!("{} does not hold the witness role in the register in force: it signs no replay verdicts", id.name)),
        None => return Err(refuse!("{} is not registered in the register in force", signer.identity())),
    }
    let snapshot = ledger.snapshot()?;
    let Some((last, hash)) = snapshot.chain.head.clone() else { return Ok(None) };
    let ws = stores.witness()?;
    let own = if from_own {
        witnessed::own_latest(&ws, ledger.identities(), signer, last + 1, |s| snapshot.resumable.hash_at(s))?
    } else {
        None
    };
    let rejected = match &own {
        Some(own) => lz_promote::replay::rejected_after_own(paths, &ledger, &snapshot.records, own)?,
        None => lz_promote::replay::rejected_replaying_all(paths, &ledger, &snapshot.records)?,
    };
    let time = lz_evidence::record::format_time(time::OffsetDateTime::now_utc().replace_nanosecond(0)?);
    let verdicts = Verdicts { witness: signer.identity().to_string(), size: last + 1, hash, time, rejected };
    let (verdicts, location, new) = witnessed::put_retrying(&ws, verdicts, signer)?;
    Ok(Some(Published { location, verdicts, new, from: own.map(|v| v.size) }))
}
