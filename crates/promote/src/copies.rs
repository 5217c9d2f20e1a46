//! The released copies a promotion renders (issue 32, mixed module versions): every service of
//! the environment pinned to an older module version renders from the release's
//! `released/<module>/<version>/` (`lz_repo::released`). Before any move is admitted, each such
//! copy must hash to:
//! - the sha256 the release's catalog records for it;
//! - the governing release's record of that version: its `released` record, or its
//!   `[modules.M].sha256` when it runs that version as its current one;
//! - the version's canonical code: the hash of the `modules/M` code held by the archive of
//!   the earliest release the chain deployed (succeeded, admitted with approvals, no break-glass: [`crate::approved`]) with
//!   that version as its catalog's current one. A version the chain never deployed so is refused:
//!   nothing reviewed says what its code is.
//!
//! The author of a release writes its catalog and its copies; only the chain says which code a
//! version number stood for (the gate's tag check runs at build only, and a checkout may lack
//! the tags or skip it with `--allow-dirty`).
use std::collections::BTreeMap;

use anyhow::Result;

use crate::ledger::Record;
use crate::refusal::{refuse, refuse_if};

/// The release, deployment record and sha256 of the canonical code of `module`@`version` (see
/// the module doc), `None` when the chain deployed no release with that current version.
/// `current(release, module)` gives the module's current version in that release's catalog and
/// the hash of the `modules/<module>` code the release archive really holds: a catalog's
/// `sha256` is the author's claim, the archived code is what was reviewed and deployed.
pub fn canonical(
    records: &[Record],
    module: &str,
    version: &str,
    current: &mut dyn FnMut(&str, &str) -> Result<Option<(String, Option<String>)>>,
) -> Result<Option<(String, u64, String)>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut deployments: Vec<&Record> = records.iter().filter(|r| crate::approved::with_approvals(records, r)).collect();
    deployments.sort_by_key(|r| r.sequence);
    for d in deployments {
        if !seen.insert(d.release.as_str()) {
            continue;
        }
        match current(&d.release, module)? {
            Some((v, Some(code))) if v == version => return Ok(Some((d.release.clone(), d.sequence, code))),
            Some((v, None)) if v == version => {
                return Err(refuse!(
                    "release {} lists {module}@{version} as current but its archive holds no modules/{module}/: nothing says what that version's code is",
                    lz_evidence::record::short(&d.release)
                ))
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Refuses a copy that does not hash to its records (see the module doc). Other releases are read
/// through `releases`: the adoption judgement passes its own, so each is opened once for both.
pub fn check(s: &crate::Session, releases: &mut crate::adoption::Releases) -> Result<()> {
    let root = s.release.root();
    let pinned = lz_repo::released::pinned(root, &s.environment)?;
    if pinned.is_empty() {
        return Ok(());
    }
    let own = lz_repo::catalog::load(root)?;
    let governing = match &s.governing_catalog {
        Some(bytes) => {
            let files = std::collections::BTreeMap::from([(lz_repo::catalog::CATALOG.to_string(), bytes.clone())]);
            Some(crate::adoption::Tree(&files).catalog()?)
        }
        None => None,
    };
    let mut cache: BTreeMap<String, lz_repo::catalog::Catalog> = BTreeMap::new();
    for p in pinned {
        let dir = lz_repo::released::dir(root, &p.module, &p.version)?;
        // Code outside the copy is code no recorded hash covers.
        let leaving = lz_platform::copy_sources::leaving(&dir)?;
        refuse_if!(
            !leaving.is_empty(),
            "{} in {} renders from the release's released/{}/{}/, whose module calls leave the copy (code no recorded hash covers): {}",
            p.service,
            s.environment,
            p.module,
            p.version,
            leaving.join("; ")
        );
        let held = lz_platform::catalog::module_hash(&dir)?;
        let recorded = own.modules.get(&p.module).and_then(|e| e.released.get(&p.version)).cloned().unwrap_or_default();
        refuse_if!(
            held != recorded,
            "{} in {} renders from the release's released/{}/{}/, which hashes to {held}, not the {recorded} its catalog records",
            p.service,
            s.environment,
            p.module,
            p.version
        );
        let entry = governing.as_ref().and_then(|g| g.modules.get(&p.module));
        let before = entry.and_then(|e| if e.version == p.version { Some(&e.sha256) } else { e.released.get(&p.version) });
        if let Some(before) = before {
            refuse_if!(
                held != *before,
                "{} in {} renders {}@{} from code that hashes to {held}, but release {}, which governs {}, recorded {before} for that version: an admitted version's code is not replaced",
                p.service,
                s.environment,
                p.module,
                p.version,
                lz_evidence::record::short(s.governed_by.release()),
                s.environment
            );
        }
        let mut current = |d: &str, module: &str| -> Result<Option<(String, Option<String>)>> {
            if !cache.contains_key(d) {
                cache.insert(d.to_string(), releases.catalog(d)?);
            }
            let Some(version) = cache[d].modules.get(module).map(|e| e.version.clone()) else { return Ok(None) };
            Ok(Some((version, lz_platform::catalog::module_hash_in(releases.files(d)?, &format!("modules/{module}")))))
        };
        let Some((release, deployment, sha)) = canonical(&s.records, &p.module, &p.version, &mut current)? else {
            return Err(refuse!(
                "{} in {} renders {}@{} from the release's released/{}/{}/, but no release the chain deployed with approvals ran {}@{} as its current version: \
                 nothing admitted says what that version's code is (deploy it as the catalog's current version first)",
                p.service,
                s.environment,
                p.module,
                p.version,
                p.module,
                p.version,
                p.module,
                p.version
            ));
        };
        refuse_if!(
            held != sha,
            "{} in {} renders {}@{} from code that hashes to {held}, but {}@{} is the code release {} ran as its current version (deployment record {deployment}), which hashes to {sha}: \
             an admitted version's code is not replaced",
            p.service,
            s.environment,
            p.module,
            p.version,
            p.module,
            p.version,
            lz_evidence::record::short(&release)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approved::tests::deployed;

    /// The canonical code of a version is the earliest release the chain deployed with approvals
    /// running it as its current version: not a break-glass deployment's (even earlier), not a
    /// later release's record of the same number; a version never so deployed has none.
    #[test]
    fn a_version_code_is_that_of_its_first_approved_deployment() {
        let (forged, first, later, newer) = ("f".repeat(64), "1".repeat(64), "2".repeat(64), "3".repeat(64));
        let records: Vec<Record> = [
            deployed(10, &forged, "dev", &[3], Some(4), "succeeded"),
            deployed(20, &first, "dev", &[3], None, "succeeded"),
            deployed(30, &later, "test", &[3], None, "succeeded"),
            deployed(40, &newer, "dev", &[3], None, "succeeded"),
        ]
        .into_iter()
        .flatten()
        .collect();
        // Each release's catalog version, and the hash of the module code its archive holds
        // (its catalog's sha256 is not asked: the author writes it).
        let code = BTreeMap::from([
            (forged.clone(), ("1.0.0", Some("bad"))),
            (first.clone(), ("1.0.0", Some("good"))),
            (later.clone(), ("1.0.0", Some("rerecorded"))),
            (newer.clone(), ("1.1.0", Some("new"))),
        ]);
        let mut open = |d: &str, _: &str| -> Result<Option<(String, Option<String>)>> {
            Ok(code.get(d).map(|(v, h)| (v.to_string(), h.map(str::to_string))))
        };
        assert_eq!(canonical(&records, "svc", "1.0.0", &mut open).unwrap(), Some((first.clone(), 21, "good".into())));
        assert_eq!(canonical(&records, "svc", "1.1.0", &mut open).unwrap(), Some((newer.clone(), 41, "new".into())));
        assert_eq!(canonical(&records, "svc", "0.9.0", &mut open).unwrap(), None);
        assert_eq!(canonical(&records[..2], "svc", "1.0.0", &mut open).unwrap(), None, "only a break-glass deployment ran it");
        // A release whose catalog names the version but whose archive holds no code for it says
        // nothing about that code: refused, never skipped to a later release.
        let mut hollow = |d: &str, _: &str| -> Result<Option<(String, Option<String>)>> { Ok(code.get(d).map(|(v, _)| (v.to_string(), None))) };
        let e = canonical(&records, "svc", "1.0.0", &mut hollow).unwrap_err();
        assert!(e.to_string().contains("holds no modules/svc/"), "{e:#}");
    }
}
