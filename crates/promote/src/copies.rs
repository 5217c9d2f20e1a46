//! The released copies a promotion renders (issue 32, mixed module versions): every service of
//! the environment pinned to an older module version renders from the release's
//! `released/<module>/<version>/` (`lz_repo::released`). Before any move is admitted, each such
//! copy must hash to the sha256 the release's catalog records for it, and to the one the release
//! governing the environment recorded for that version when it recorded one: once admitted, an
//! older version's code cannot be swapped by a later release that re-records its hash (the gate's
//! tag check runs at build only, and a build may skip it with `--allow-dirty`).
use anyhow::Result;

use crate::refusal::refuse_if;

/// Refuses a copy that does not hash to its records (see the module doc).
pub fn check(s: &crate::Session) -> Result<()> {
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
    for p in pinned {
        let held = lz_platform::catalog::module_hash(&lz_repo::released::dir(root, &p.module, &p.version)?)?;
        let recorded = own.modules.get(&p.module).and_then(|e| e.released.get(&p.version)).cloned().unwrap_or_default();
        refuse_if!(
            held != recorded,
            "{} in {} renders from the release's released/{}/{}/, which hashes to {held}, not the {recorded} its catalog records",
            p.service,
            s.environment,
            p.module,
            p.version
        );
        let before = governing.as_ref().and_then(|g| g.modules.get(&p.module)).and_then(|e| e.released.get(&p.version));
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
    }
    Ok(())
}
