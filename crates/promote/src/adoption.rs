//! Staged module adoption (issue 32) at promotion: which services of the target environment a
//! release moves to another module version, whether their wave is reached, and the signed
//! `adoption` records of a promotion that succeeded.
//!
//! **What it reads.** The catalog (rollout plans, revocations) and the overlays (per-service
//! pins in `environments/<env>/env.toml`, services in `terraform.tfvars`) come from the verified
//! release archive; what each service runs, the waves reached, their health and bake come from
//! the verified chain ([`events`]); "now" is the promotion's bounded clock reading. A pin edited
//! in a checkout to skip a wave is refused here, because the chain does not show the earlier
//! waves done.
//!
//! **Which modules.** Only modules with a rollout plan for some version, or pinned in some
//! overlay of the release, are tracked per service; every other module is deployed as before and
//! writes no adoption record.
//!
//! **Rollback.** Moving a service back to the version it ran before in that environment
//! ([`lz_repo::rollout::reverses`]) is a rollback: it needs no wave, and its record names the
//! adoption it reverses (`rollback_of`).
use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use lz_evidence::details::{AdoptionDetails, Details};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::Signer;
use lz_repo::catalog::Catalog;
use lz_repo::rollout::{self, Event, Target};
use serde::Serialize;

use crate::ledger::{Ledger, Record};

/// One service the promotion moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub module: String,
    pub service: String,
    /// The version the chain says it runs ("none" before its first adoption).
    pub from: String,
    pub to: String,
    pub wave: u32,
    pub wave_name: Option<String>,
    pub rollback_of: Option<u64>,
}

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

/// The release's files as the decision reads them.
pub struct Tree<'a>(pub &'a BTreeMap<String, Vec<u8>>);

impl Tree<'_> {
    fn text(&self, path: &str) -> Option<Result<&str>> {
        self.0.get(path).map(|b| std::str::from_utf8(b).with_context(|| format!("{path} in the release is not UTF-8")))
    }

    pub fn catalog(&self) -> Result<Catalog> {
        let path = lz_repo::catalog::CATALOG;
        let text = self.text(path).with_context(|| format!("the release has no {path}"))??;
        lz_repo::catalog::parse(std::path::Path::new(path), text)
    }

    /// The per-service pins of `env` (module -> service -> version).
    pub fn pins(&self, env: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let path = format!("environments/{env}/env.toml");
        let Some(text) = self.text(&path) else { return Ok(BTreeMap::new()) };
        let f: lz_repo::env::EnvFile = lz_repo::parse_toml(text?, &path)?;
        Ok(f.pins)
    }

    /// The services of `env` (the keys of `services` in its `terraform.tfvars`).
    pub fn services(&self, env: &str) -> Result<Vec<String>> {
        let path = format!("environments/{env}/terraform.tfvars");
        let Some(text) = self.text(&path) else { return Ok(Vec::new()) };
        lz_platform::pins::service_names(&path, text?)
    }

    /// Every (environment, service) of the release.
    pub fn targets(&self) -> Result<Vec<Target>> {
        let mut out = Vec::new();
        for env in lz_repo::ENVIRONMENTS {
            for s in self.services(env)? {
                out.push((env.to_string(), s));
            }
        }
        Ok(out)
    }
}

/// Modules tracked per service: a rollout plan for some version, or a pin in some overlay.
fn tracked(catalog: &Catalog, tree: &Tree) -> Result<BTreeSet<String>> {
    let mut out: BTreeSet<String> = catalog.modules.iter().filter(|(_, e)| !e.rollout.is_empty()).map(|(m, _)| m.clone()).collect();
    for env in lz_repo::ENVIRONMENTS {
        out.extend(tree.pins(env)?.into_keys());
    }
    Ok(out)
}

/// The adoptions a promotion of `tree` to `env` at `now` (Unix seconds, the bounded clock)
/// makes, or a refusal naming every service held and why.
pub fn admit(files: &BTreeMap<String, Vec<u8>>, env: &str, records: &[Record], now: i64) -> Result<Vec<Planned>> {
    let tree = Tree(files);
    let catalog = tree.catalog()?;
    let tracked = tracked(&catalog, &tree)?;
    if tracked.is_empty() {
        // No rollout plan and no pin: every module is deployed as the release holds it.
        return Ok(Vec::new());
    }
    let targets = tree.targets()?;
    let pins = tree.pins(env)?;
    let events = events(records);
    let mut planned = Vec::new();
    let mut held = Vec::new();
    for module in tracked {
        let Some(entry) = catalog.modules.get(&module) else {
            held.push(format!("{env} pins module {module}, which is not in the release's catalog"));
            continue;
        };
        let running = rollout::running(&module, &events);
        for (e, service) in targets.iter().filter(|(e, _)| e == env) {
            let target = (e.clone(), service.clone());
            let to = pins.get(&module).and_then(|p| p.get(service)).cloned().unwrap_or_else(|| entry.version.clone());
            let from = running.get(&target).map(|(v, _, _)| v.clone()).unwrap_or_else(|| "none".to_string());
            if from == to {
                continue;
            }
            if let Some(n) = entry.revoked.get(&to) {
                held.push(format!("{service} in {env}: {module}@{to} is revoked ({}): no new adoption of it is admitted", n.reason));
                continue;
            }
            if let Some(back) = rollout::reverses(&module, &target, &from, &to, &events) {
                planned.push(Planned { module: module.clone(), service: service.clone(), from, to, wave: 0, wave_name: None, rollback_of: Some(back) });
                continue;
            }
            let (wave, wave_name) = match entry.rollout.get(&to) {
                None => (1, None),
                Some(plan) => match rollout::may_adopt(plan, &module, &to, &target, &targets, &events, now) {
                    Ok(w) => (w, Some(plan.waves[w as usize - 1].name.clone())),
                    Err(hold) => {
                        held.push(hold.to_string());
                        continue;
                    }
                },
            };
            planned.push(Planned { module: module.clone(), service: service.clone(), from, to, wave, wave_name, rollback_of: None });
        }
    }
    if !held.is_empty() {
        return Err(crate::refusal::refuse!("the release moves services their rollout has not reached:\n  {}", held.join("\n  ")));
    }
    Ok(planned)
}

/// The approval records an admission rests on: the people's, or (a tier approved automatically)
/// the policy identity's approval of the plan.
pub fn approvals(session: &crate::Session, admission: &crate::session::Admission) -> Result<Vec<u64>> {
    if !admission.approvals.is_empty() {
        return Ok(admission.approvals.iter().map(|v| v.sequence).collect());
    }
    let (_, workloads) = session.votes()?;
    Ok(workloads.iter().filter(|(v, _)| v.plan_digest == session.plan_digest).map(|(v, _)| v.sequence).collect())
}

/// Whether every adoption of a promotion is a rollback (the version was admitted in that
/// environment before): such a promotion is a standard change.
pub fn all_rollbacks(planned: &[Planned]) -> bool {
    !planned.is_empty() && planned.iter().all(|p| p.rollback_of.is_some())
}

/// Appends the adoption records of a promotion whose deployment record `deployment` succeeded,
/// under the approvals it was admitted with. Returns their sequences.
#[allow(clippy::too_many_arguments)]
pub fn record(
    ledger: &Ledger,
    release: &str,
    env: &str,
    account: &str,
    planned: &[Planned],
    approvals: &[u64],
    deployment: u64,
    reading: &crate::clock::Reading,
    deployer: &Signer,
) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for p in planned {
        let fields = Fields::new(release).environment(env).account(account).at(reading.time).details(AdoptionDetails {
            module: p.module.clone(),
            service: p.service.clone(),
            from: p.from.clone(),
            to: p.to.clone(),
            wave: p.wave,
            approvals: approvals.to_vec(),
            deployment,
            wave_name: p.wave_name.clone(),
            rollback_of: p.rollback_of,
            clock: Some(reading.source.clone()),
            ..Default::default()
        });
        out.push(ledger.append(Kind::Adoption, fields, deployer)?.sequence);
    }
    Ok(out)
}

/// Who runs which version where (one row per service and environment, from its latest
/// adoption record), since when and under which approvals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub module: String,
    pub environment: String,
    pub service: String,
    pub version: String,
    pub from: String,
    /// The adoption record and its time.
    pub record: u64,
    pub since: String,
    pub release: String,
    pub wave: u32,
    /// The approval records it names, each as "SEQUENCE by IDENTITY".
    pub approvals: Vec<String>,
    /// For a rollback: the adoption it reverses.
    pub rollback_of: Option<u64>,
}

/// Where a version's rollout stands: the next wave and what holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Next {
    pub module: String,
    pub version: String,
    /// The first wave not done (number, name); `None` when every wave is done.
    pub wave: Option<(usize, String)>,
    pub holds: Vec<String>,
}

/// The adoption table of verified `records` (of `module`, or every module).
pub fn rows(records: &[Record], module: Option<&str>) -> Vec<Row> {
    let by_seq: BTreeMap<u64, &Record> = records.iter().map(|r| (r.sequence, r)).collect();
    let mut latest: BTreeMap<(String, String, String), Row> = BTreeMap::new();
    for r in records {
        let (Details::Adoption(a), Some(env)) = (&r.details, &r.environment) else { continue };
        if module.is_some_and(|m| m != a.module) {
            continue;
        }
        let approvals = a
            .approvals
            .iter()
            .map(|s| match by_seq.get(s) {
                Some(x) => format!("{s} by {}", x.identity),
                None => format!("{s}"),
            })
            .collect();
        latest.insert(
            (a.module.clone(), env.clone(), a.service.clone()),
            Row {
                module: a.module.clone(),
                environment: env.clone(),
                service: a.service.clone(),
                version: a.to.clone(),
                from: a.from.clone(),
                record: r.sequence,
                since: crate::session::at(r.time),
                release: r.release.clone(),
                wave: a.wave,
                approvals,
                rollback_of: a.rollback_of,
            },
        );
    }
    // In promotion order of environments, then module and service.
    let order = |e: &str| lz_repo::ENVIRONMENTS.iter().position(|x| *x == e).unwrap_or(usize::MAX);
    let mut out: Vec<Row> = latest.into_values().collect();
    out.sort_by(|a, b| (&a.module, order(&a.environment), &a.service).cmp(&(&b.module, order(&b.environment), &b.service)));
    out
}

/// For each version of `catalog` with a rollout plan (of `module`, or every module), its next
/// wave and what holds it at `now` (Unix seconds), over `targets`.
pub fn next_waves(catalog: &Catalog, targets: &[Target], records: &[Record], module: Option<&str>, now: i64) -> Vec<Next> {
    let events = events(records);
    let mut out = Vec::new();
    for (m, entry) in &catalog.modules {
        if module.is_some_and(|x| x != m) {
            continue;
        }
        for (version, plan) in &entry.rollout {
            let states = rollout::progress(plan, m, version, targets, &events);
            let next = states.iter().position(|s| !s.done(now));
            // Every wave before the first not done is done: what holds it is its own state
            // (targets not moved yet, a failed or pending health check, its bake).
            let (wave, holds) = match next {
                None => (None, Vec::new()),
                Some(i) => (Some((states[i].number, states[i].name.clone())), states[i].holds(now)),
            };
            out.push(Next { module: m.clone(), version: version.clone(), wave, holds });
        }
    }
    out
}
