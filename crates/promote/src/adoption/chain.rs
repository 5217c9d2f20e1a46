//! The adoption records that count, as rollouts and the adoption gate read the verified chain:
//! an adoption counts only when the succeeded deployment it names is among the admitted records.

use std::collections::BTreeSet;

use lz_evidence::details::{AdoptionDetails, Details};
use lz_repo::rollout::Event;

use crate::ledger::Record;

/// What the chain holds, as rollouts read it.
/// An adoption counts only when the succeeded deployment it names is among `records` (the
/// admitted ones): an adoption resting on a deployment whose admission does not replay (one key's
/// record) moves no wave, starts no bake.
pub fn events(records: &[Record]) -> Vec<Event> {
    let deployed: std::collections::BTreeSet<u64> = records
        .iter()
        .filter(|r| matches!(&r.details, Details::Deployment(d) if d.outcome == "succeeded"))
        .map(|r| r.sequence)
        .collect();
    let mut out = Vec::new();
    for r in records {
        let at = r.time.unix_timestamp();
        let Some(env) = r.environment.clone() else { continue };
        match &r.details {
            Details::Adoption(a) if !deployed.contains(&a.deployment) => {}
            Details::Adoption(a) => out.push(Event::Adopted {
                sequence: r.sequence,
                env,
                service: a.service.clone(),
                module: a.module.clone(),
                from: a.from.clone(),
                to: a.to.clone(),
                wave: a.wave,
                at,
            }),
            Details::Deployment(d) if matches!(d.outcome.as_str(), "succeeded" | "failed") => {
                out.push(Event::Deployment { sequence: r.sequence, env, succeeded: d.outcome == "succeeded", at })
            }
            Details::Drift(d) => {
                if let Some(drifted) = d.drifted {
                    out.push(Event::Drift { sequence: r.sequence, env, clean: !drifted, at })
                }
            }
            _ => {}
        }
    }
    out
}

/// The adoption records that count (their deployment is among the admitted `records`), with
/// their release: (sequence, release, details).
pub(crate) fn admitted_adoptions(records: &[Record]) -> impl Iterator<Item = (u64, &str, &AdoptionDetails)> {
    let deployed: BTreeSet<u64> = records
        .iter()
        .filter(|r| matches!(&r.details, Details::Deployment(d) if d.outcome == "succeeded"))
        .map(|r| r.sequence)
        .collect();
    records.iter().filter_map(move |r| match &r.details {
        Details::Adoption(a) if deployed.contains(&a.deployment) => Some((r.sequence, r.release.as_str(), a)),
        _ => None,
    })
}

/// The first admitted forward adoption (not a rollback) of `module@version`: (sequence, release).
pub(crate) fn first_adoption<'r>(records: &'r [Record], module: &str, version: &str) -> Option<(u64, &'r str)> {
    admitted_adoptions(records).find(|(_, _, a)| a.module == module && a.to == version && a.rollback_of.is_none()).map(|(s, r, _)| (s, r))
}
