//! The witness's replay of every deployment's admission, signed
//! ([`lz_promote::replay::witnessed`]): after co-signing a checkpoint of the landing zone's S3
//! chain, the audit function's witness replays every deployment of the chain (taking nothing
//! from earlier signed verdicts, its own included, so that no verdict is carried from one
//! signature to the next) and signs what it found for the whole chain it verified. Commands then
//! replay only the deployments after it. The witness pays one replay per deployment per run.

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
}

/// Replays every deployment of the verified chain at `paths` and writes the verdicts, signed by
/// `signer`, into the witness store. `None` for a chain that is not in S3 or is empty. Refused
/// unless `signer` is a witness of the register in force with its registered key.
pub fn publish(paths: &Paths, signer: &Signer) -> Result<Option<Published>> {
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
    let rejected = lz_promote::replay::rejected_replaying_all(paths, &ledger, &snapshot.records)?;
    let time = lz_evidence::record::format_time(time::OffsetDateTime::now_utc().replace_nanosecond(0)?);
    let verdicts = Verdicts { witness: signer.identity().to_string(), size: last + 1, hash, time, rejected };
    let (verdicts, location, new) = witnessed::put_retrying(&stores.witness()?, verdicts, signer)?;
    Ok(Some(Published { location, verdicts, new }))
}
