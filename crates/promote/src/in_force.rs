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

/// Puts in `tree` the plan in force of every version not started: each catalog version (with a
/// plan or not) and each version with a plan, of `tree` and of the releases governing the
/// environments (for the modules `tree` lists). For each environment in promotion order, the
/// plan its first promotion would read is its governing release's (opened with `open`, cached
/// in `opened`), else `tree`'s; the first environment that plan's first wave moves is where the
/// rollout starts, and that plan is put in force. A version whose plan no environment starts
/// keeps `tree`'s. Returns a note for each version whose first-wave environments are governed
/// by releases with different plans (each environment's first promotion is judged by its own).
pub(crate) fn governed_plans(
    tree: &mut Catalog,
    records: &[Record],
    opened: &mut BTreeMap<String, Catalog>,
    open: &mut dyn FnMut(&str) -> Result<BTreeMap<String, Vec<u8>>>,
) -> Result<Vec<String>> {
    let mut governing: BTreeMap<&str, String> = BTreeMap::new();
    for env in lz_repo::ENVIRONMENTS {
        let Some(release) = governing_release(records, env) else { continue };
        if !opened.contains_key(release) {
            let files = open(release).with_context(|| format!("opening release {}", lz_evidence::record::short(release)))?;
            opened.insert(release.to_string(), Tree(&files).catalog()?);
        }
        governing.insert(env, release.to_string());
    }
    let mut versions: std::collections::BTreeSet<(String, String)> = std::collections::BTreeSet::new();
    for (m, e) in &tree.modules {
        versions.insert((m.clone(), e.version.clone()));
        versions.extend(e.rollout.keys().map(|v| (m.clone(), v.clone())));
        for release in governing.values() {
            if let Some(g) = opened[release].modules.get(m) {
                versions.insert((m.clone(), g.version.clone()));
                versions.extend(g.rollout.keys().map(|v| (m.clone(), v.clone())));
            }
        }
    }
    let mut notes = Vec::new();
    for (module, version) in versions {
        if first_adoption(records, &module, &version).is_some() {
            continue;
        }
        let own = tree.modules.get(&module).and_then(|e| e.rollout.get(&version)).cloned();
        let plan_of = |env: &str| -> (Option<lz_repo::rollout::Plan>, Option<&String>) {
            let release = governing.get(env);
            let governed = release.and_then(|r| opened[r].modules.get(&module)).and_then(|e| e.rollout.get(&version)).cloned();
            (governed, release)
        };
        for env in lz_repo::ENVIRONMENTS {
            let (governed, release) = plan_of(env);
            if release.is_none() {
                continue;
            }
            let Some(plan) = governed.clone().or_else(|| own.clone()) else { continue };
            let Some(first) = plan.waves.first().filter(|w| w.environments.iter().any(|e| e == env)) else { continue };
            let differing: Vec<String> = first
                .environments
                .iter()
                .filter(|e| e.as_str() != env)
                .filter_map(|e| {
                    let (other, release) = plan_of(e);
                    let release = release?;
                    let other = other.or_else(|| own.clone());
                    (other.as_ref() != Some(&plan)).then(|| format!("{e} (governed by release {})", lz_evidence::record::short(release)))
                })
                .collect();
            if !differing.is_empty() {
                notes.push(format!(
                    "{module}@{version}: the rollout plan in force is the one governing {env}, where its first wave starts; {} of that wave read another plan, \
                     and each environment's first promotion is judged by the plan of the release governing it",
                    differing.join(", ")
                ));
            }
            if let (Some(plan), Some(entry)) = (governed, tree.modules.get_mut(&module)) {
                entry.rollout.insert(version.clone(), plan);
            }
            break;
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adoption::tests::{files, rec, ONE_WAVE, WAVES};
    use lz_evidence::details::{DeploymentDetails, Details};
    use lz_evidence::record::Kind;

    fn deployed(seq: u64, release: &str, env: &str) -> Record {
        rec(seq, release, env, Kind::Deployment, Details::Deployment(DeploymentDetails { outcome: "succeeded".into(), ..Default::default() }))
    }

    /// A version only a governing release has a plan for (the checkout never heard of it) is put
    /// in force too; and when the environments of the first wave are governed by releases with
    /// different plans, the result says so.
    #[test]
    fn versions_come_from_both_catalogs_and_differing_first_wave_plans_are_noted() {
        let (dev, test) = ("b".repeat(64), "c".repeat(64));
        let later = WAVES.replace("1.1.0", "1.2.0");
        let chain = BTreeMap::from([(dev.clone(), files(&later)), (test.clone(), files(&ONE_WAVE.replace("1.1.0", "1.2.0")))]);
        let mut open = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { chain.get(d).cloned().with_context(|| format!("no release {d}")) };
        let checkout = || Tree(&files("")).catalog().unwrap();

        let mut tree = checkout();
        let notes = governed_plans(&mut tree, &[deployed(5, &dev, "dev")], &mut BTreeMap::new(), &mut open).unwrap();
        let plan = tree.modules["trading-service"].rollout.get("1.2.0").expect("the governing release's plan of 1.2.0 is in force");
        assert_eq!(plan.waves[0].name, "non-prod");
        assert!(notes.is_empty(), "{notes:?}");

        let mut tree = checkout();
        let records = [deployed(5, &dev, "dev"), deployed(6, &test, "test")];
        let notes = governed_plans(&mut tree, &records, &mut BTreeMap::new(), &mut open).unwrap();
        assert_eq!(tree.modules["trading-service"].rollout["1.2.0"].waves[0].name, "non-prod", "dev starts the rollout");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("trading-service@1.2.0") && notes[0].contains("test (governed by release") && !notes[0].contains("uat"), "{notes:?}");
    }
}
