//! The rollout plan a version not yet started will be judged by, for the commands that show or
//! stage a rollout (`catalog adoption`, `catalog wave`; issue 32). The adoption gate
//! ([`crate::adoption::Rules::plan`]) reads a version's plan, before its first adoption, from
//! the release governing the environment being promoted into, and from the promoted release only
//! when that carries none; these commands read the same, never the checkout's plan where a
//! governing release has one.
use std::collections::BTreeMap;

use anyhow::{Context, Result};
use lz_repo::catalog::Catalog;

use crate::adoption::{first_adoption, Tree};
use crate::ledger::Record;

/// The release governing `environment`: its last succeeded deployment's, else its governance
/// pin's (as `Session::governed_by` finds it).
pub fn governing_release<'r>(records: &'r [Record], environment: &str) -> Option<&'r str> {
    crate::session::last_deployment(records, environment)
        .or_else(|| crate::session::governance_pin(records, environment))
        .map(|r| r.release.as_str())
}

/// Puts in `tree` the plan in force of every version not started: each catalog version of
/// `tree` (with a plan or not) and each version `tree` has a plan for. For each environment in
/// promotion order, the plan its first promotion would read is its governing release's (opened
/// with `open`, cached in `opened`), else `tree`'s; the first environment that plan's first wave
/// moves is where the rollout starts, and that plan is put in force. A version whose plan no
/// environment starts keeps `tree`'s.
pub(crate) fn governed_plans(
    tree: &mut Catalog,
    records: &[Record],
    opened: &mut BTreeMap<String, Catalog>,
    open: &mut dyn FnMut(&str) -> Result<BTreeMap<String, Vec<u8>>>,
) -> Result<()> {
    let mut versions: Vec<(String, String)> = Vec::new();
    for (m, e) in &tree.modules {
        versions.push((m.clone(), e.version.clone()));
        versions.extend(e.rollout.keys().filter(|v| **v != e.version).map(|v| (m.clone(), v.clone())));
    }
    for (module, version) in versions {
        if first_adoption(records, &module, &version).is_some() {
            continue;
        }
        let own = tree.modules.get(&module).and_then(|e| e.rollout.get(&version)).cloned();
        for env in lz_repo::ENVIRONMENTS {
            let Some(release) = governing_release(records, env) else { continue };
            if !opened.contains_key(release) {
                let files = open(release).with_context(|| format!("opening release {}", lz_evidence::record::short(release)))?;
                opened.insert(release.to_string(), Tree(&files).catalog()?);
            }
            let governing = opened[release].modules.get(&module).and_then(|e| e.rollout.get(&version)).cloned();
            let Some(plan) = governing.clone().or_else(|| own.clone()) else { continue };
            if plan.waves.first().is_some_and(|w| w.environments.iter().any(|e| e == env)) {
                if let (Some(plan), Some(entry)) = (governing, tree.modules.get_mut(&module)) {
                    entry.rollout.insert(version.clone(), plan);
                }
                break;
            }
        }
    }
    Ok(())
}
