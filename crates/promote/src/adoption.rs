//! Staged module adoption (issue 32) at promotion: which services of the target environment a
//! release moves to another module version, whether their wave is reached, and the signed
//! `adoption` records of a promotion that succeeded.
//!
//! **What it reads.** The pins the release proposes (`environments/<env>/pins.toml`) and the
//! services of the target environment (its `terraform.tfvars`) come from the verified release
//! archive; what each service runs, the waves reached, their health and bake come from the
//! verified chain ([`events`]); "now" is the promotion's bounded clock reading. A pin edited in a
//! checkout to skip a wave is refused here, because the chain does not show the earlier waves
//! done.
//!
//! **Rules the author does not control** ([`Rules`]). The release being judged cannot loosen
//! the rollout it is judged by:
//! - the **rollout plan** of `MODULE@VERSION` is the one carried by the release of the first
//!   admitted forward adoption of that version on the chain (a rollout, once started, keeps its
//!   plan; a later release's plan never replaces it); when that release carries none, the
//!   governing release's, or none. Before any adoption, the governing release's plan (the release whose governance is in force
//!   in the environment, `Session::governed_by`); only when neither has one, the promoted
//!   release's own (the rollout starts with this release, reviewed with it);
//! - a version is **revoked** when the promoted release, the governing release or any release
//!   with an admitted deployment on the chain revokes it (dropping a revocation lifts nothing);
//! - the **modules tracked** per service are those of either catalog with a plan, pinned in the
//!   release, or with an adoption on the chain: deleting every plan and pin does not untrack one;
//! - the **services of the other environments** (the targets of earlier waves) are those of
//!   each environment's last admitted deployment, not of the release's copies of their overlays.
//!
//! **Which modules.** Only tracked modules (above) are judged per service; every other module is
//! deployed as before and writes no adoption record.
//!
//! **Rollback.** Moving a service back to the version it ran before in that environment
//! ([`lz_repo::rollout::reverses`]) is a rollback: it needs no wave, and its record names the
//! adoption it reverses (`rollback_of`). [`tiers`] classifies it standard (a forward move
//! normal), so a release that only rolls back is a standard change.
use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use lz_evidence::details::{AdoptionDetails, Details};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::Signer;
use lz_repo::catalog::Catalog;
use lz_repo::rollout::{self, Event, Target};
use serde::Serialize;

use crate::ledger::{Ledger, Record};

mod chain;
mod planned;
mod tree;

pub use chain::events;
pub(crate) use chain::{admitted_adoptions, first_adoption};
pub use planned::{all_rollbacks, Planned};
pub use tree::{Releases, Tree};

/// Modules tracked per service: a rollout plan for some version, or a pin in some overlay.
fn tracked(catalog: &Catalog, tree: &Tree) -> Result<BTreeSet<String>> {
    let mut out: BTreeSet<String> = catalog.modules.iter().filter(|(_, e)| !e.rollout.is_empty()).map(|(m, _)| m.clone()).collect();
    for env in lz_repo::ENVIRONMENTS {
        out.extend(tree.pins(env)?.into_keys());
    }
    Ok(out)
}

/// Where the rollout plan in force comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanSource {
    /// The release of the first admitted adoption of the version (`record`) carries it.
    Started { release: String, record: u64 },
    /// The governing release of the environment carries it.
    Governing { release: String },
    /// Only the promoted release carries it (the rollout starts with it).
    Promoted,
}

impl std::fmt::Display for PlanSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanSource::Started { release, record } => {
                write!(f, "release {}, whose adoption record {record} started the rollout", lz_evidence::record::short(release))
            }
            PlanSource::Governing { release } => write!(f, "release {}, which governs the environment", lz_evidence::record::short(release)),
            PlanSource::Promoted => f.write_str("the promoted release"),
        }
    }
}

/// The rollout rules a decision applies (see the module doc): read from the chain and from
/// releases the chain admitted, the promoted release's own catalog only where nothing else
/// speaks.
pub struct Rules {
    promoted: Catalog,
    governing: Option<(String, Catalog)>,
    /// The plan in force per (module, version), once looked up.
    plans: BTreeMap<(String, String), Option<(rollout::Plan, PlanSource)>>,
}

impl Rules {
    /// The rules for a promotion of `releases`' promoted release into an environment governed by
    /// release `governing`, whose catalog text is `governing_catalog` (`None`: it is the promoted
    /// release, or it has no catalog).
    pub fn of(releases: &Releases, governing: &str, governing_catalog: Option<&[u8]>) -> Result<Rules> {
        let promoted = Tree(releases.promoted.1).catalog()?;
        let governing = match governing_catalog.filter(|_| governing != releases.promoted.0) {
            None => None,
            Some(bytes) => {
                let files = BTreeMap::from([(lz_repo::catalog::CATALOG.to_string(), bytes.to_vec())]);
                let c = Tree(&files).catalog().with_context(|| format!("the catalog of release {}", lz_evidence::record::short(governing)))?;
                Some((governing.to_string(), c))
            }
        };
        Ok(Rules { promoted, governing, plans: BTreeMap::new() })
    }

    /// The rules of a session's decision.
    pub fn of_session(s: &crate::Session, releases: &Releases) -> Result<Rules> {
        Rules::of(releases, s.governed_by.release(), s.governing_catalog.as_deref())
    }

    /// Revoked by the promoted release, the governing release, or any release with an admitted
    /// (succeeded) deployment on the chain: a release that drops a revocation in force elsewhere
    /// does not lift it. Returns the notice and the release that carries it.
    pub fn revoked(&self, module: &str, version: &str, records: &[Record], releases: &mut Releases) -> Result<Option<(rollout::Notice, String)>> {
        fn of(c: &Catalog, module: &str, version: &str) -> Option<rollout::Notice> {
            c.modules.get(module).and_then(|e| e.revoked.get(version)).cloned()
        }
        if let Some(n) = of(&self.promoted, module, version) {
            return Ok(Some((n, "the promoted release".into())));
        }
        if let Some((d, n)) = self.governing.as_ref().and_then(|(d, g)| of(g, module, version).map(|n| (d, n))) {
            return Ok(Some((n, format!("release {}, which governs the environment", lz_evidence::record::short(d)))));
        }
        let mut seen = BTreeSet::new();
        for r in records.iter().filter(|r| matches!(&r.details, Details::Deployment(d) if d.outcome == "succeeded")) {
            if !seen.insert(r.release.as_str()) || r.release == releases.promoted.0 {
                continue;
            }
            if let Some(n) = of(&releases.catalog(&r.release)?, module, version) {
                return Ok(Some((n, format!("release {}, deployed by record {}", lz_evidence::record::short(&r.release), r.sequence))));
            }
        }
        Ok(None)
    }

    /// The rollout plan in force for `module@version` (see [`PlanSource`] for the order).
    pub fn plan(&mut self, module: &str, version: &str, records: &[Record], releases: &mut Releases) -> Result<Option<(rollout::Plan, PlanSource)>> {
        let key = (module.to_string(), version.to_string());
        if let Some(p) = self.plans.get(&key) {
            return Ok(p.clone());
        }
        let of = |c: &Catalog| c.modules.get(module).and_then(|e| e.rollout.get(version)).cloned();
        let governing = || self.governing.as_ref().and_then(|(d, g)| of(g).map(|p| (p, PlanSource::Governing { release: d.clone() })));
        // Only the release of the first admitted forward adoption of the version speaks for a
        // started rollout: a later release (with a looser plan) never does. When it carries no
        // plan, the governing release's applies, or none: never the promoted release's own.
        let found = match first_adoption(records, module, version) {
            Some((record, release)) => match of(&releases.catalog(release)?) {
                Some(p) => Some((p, PlanSource::Started { release: release.to_string(), record })),
                None => governing(),
            },
            None => governing().or_else(|| of(&self.promoted).map(|p| (p, PlanSource::Promoted))),
        };
        self.plans.insert(key, found.clone());
        Ok(found)
    }

    /// Modules with a rollout plan in the governing release.
    fn governed_modules(&self) -> impl Iterator<Item = &String> {
        self.governing.iter().flat_map(|(_, g)| g.modules.iter().filter(|(_, e)| !e.rollout.is_empty()).map(|(m, _)| m))
    }
}

/// Every (environment, service): `env`'s from the promoted release (what it deploys), every
/// other environment's from the release of its last admitted deployment (what runs there), or
/// the promoted release's when nothing is deployed there.
fn targets(env: &str, records: &[Record], releases: &mut Releases) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for e in lz_repo::ENVIRONMENTS {
        let from = match crate::session::last_deployment(records, e) {
            Some(d) if e != env => d.release.clone(),
            _ => releases.promoted.0.to_string(),
        };
        for s in Tree(releases.files(&from)?).services(e)? {
            out.push((e.to_string(), s));
        }
    }
    Ok(out)
}

/// The adoptions a promotion of the session's release to its environment at `now` (Unix
/// seconds, the bounded clock) makes, or a refusal naming every service held and why.
pub fn admit(s: &crate::Session, now: i64) -> Result<Vec<Planned>> {
    let mut releases = Releases::of_session(s);
    crate::copies::check(s, &mut releases)?;
    let rules = Rules::of_session(s, &releases)?;
    admit_with(&mut releases, rules, &s.environment, &s.records, now)
}

/// [`admit`] over `releases` (the promoted one and the ones the chain names) under `rules`.
pub fn admit_with(releases: &mut Releases, mut rules: Rules, env: &str, records: &[Record], now: i64) -> Result<Vec<Planned>> {
    let events = events(records);
    let Some(Proposal { moves, targets, mut held }) = propose(releases, &rules, env, records, &events)? else {
        return Ok(Vec::new());
    };
    let mut planned = Vec::new();
    for Move { module, target, from, to, own_plan } in moves {
        let service = target.1.clone();
        if let Some((n, by)) = rules.revoked(&module, &to, records, releases)? {
            held.push(format!("{service} in {env}: {module}@{to} is revoked ({}) by {by}: no new adoption of it is admitted", n.reason));
            continue;
        }
        if !known(&rules, releases, &module, &to, &events)? {
            held.push(format!(
                "{service} in {env}: {module}@{to} is a version neither the promoted nor the governing release's catalog or modules/{module}/CHANGELOG.md knows, and no admitted adoption on the chain moved a service to it: pin a released version"
            ));
            continue;
        }
        if let Some(back) = rollout::reverses(&module, &target, &from, &to, &events) {
            planned.push(Planned { module, service, from, to, wave: 0, wave_name: None, rollback_of: Some(back) });
            continue;
        }
        let (wave, wave_name) = match rules.plan(&module, &to, records, releases)? {
            None => (1, None),
            Some((plan, source)) => match rollout::may_adopt(&plan, &module, &to, &target, &targets, &events, now) {
                Ok(w) => (w, Some(plan.waves[w as usize - 1].name.clone())),
                Err(hold) => {
                    let note = match own_plan.filter(|own| *own != plan) {
                        Some(_) => format!(" (the plan in force is {source}'s; the release's own, different plan of {module}@{to} is not applied)"),
                        None => String::new(),
                    };
                    held.push(format!("{hold}{note}"));
                    continue;
                }
            },
        };
        planned.push(Planned { module, service, from, to, wave, wave_name, rollback_of: None });
    }
    if !held.is_empty() {
        return Err(crate::refusal::refuse!("the release moves services their rollout has not reached:\n  {}", held.join("\n  ")));
    }
    Ok(planned)
}

/// Whether `module@version` exists: the catalog version of the promoted or the governing
/// release, a version of the promoted release's `modules/<module>/CHANGELOG.md`, or a version an
/// admitted adoption on the chain moved a service to. A pin to anything else (a version nobody
/// released) would otherwise pass as a wave-1 adoption outside every rollout plan.
fn known(rules: &Rules, releases: &mut Releases, module: &str, version: &str, events: &[Event]) -> Result<bool> {
    let catalog_version = |c: &Catalog| c.modules.get(module).is_some_and(|e| e.version == version);
    if catalog_version(&rules.promoted) || rules.governing.as_ref().is_some_and(|(_, g)| catalog_version(g)) {
        return Ok(true);
    }
    let adopted = events.iter().any(|e| matches!(e, Event::Adopted { module: m, to, .. } if m == module && to == version));
    if adopted {
        return Ok(true);
    }
    let promoted = releases.promoted.0.to_string();
    let changelog = format!("modules/{module}/CHANGELOG.md");
    Ok(match Tree(releases.files(&promoted)?).text(&changelog) {
        Some(text) => lz_platform::module_tags::changelog_versions(text?).iter().any(|v| v == version),
        None => false,
    })
}

/// One service of the environment whose module version the release changes, before any
/// judgement.
struct Move {
    module: String,
    target: Target,
    from: String,
    to: String,
    /// The promoted release's own rollout plan of `module@to`, if any.
    own_plan: Option<rollout::Plan>,
}

/// What a release proposes for an environment: its moves, every (environment, service) of the
/// rollouts ([`targets`]) and the pins that cannot be judged.
struct Proposal {
    moves: Vec<Move>,
    targets: Vec<Target>,
    held: Vec<String>,
}

/// The moves of the promoted release in `env`; `None` when no module is tracked (every module
/// is deployed as the release holds it).
fn propose(releases: &mut Releases, rules: &Rules, env: &str, records: &[Record], events: &[Event]) -> Result<Option<Proposal>> {
    let tree = Tree(releases.promoted.1);
    let catalog = tree.catalog()?;
    let mut tracked = tracked(&catalog, &tree)?;
    tracked.extend(rules.governed_modules().cloned());
    tracked.extend(events.iter().filter_map(|e| match e {
        Event::Adopted { module, .. } => Some(module.clone()),
        _ => None,
    }));
    if tracked.is_empty() {
        return Ok(None);
    }
    let pins = tree.pins(env)?;
    let targets = targets(env, records, releases)?;
    let mut moves = Vec::new();
    let mut held = Vec::new();
    for module in tracked {
        let Some(entry) = catalog.modules.get(&module) else {
            // A module the release no longer carries moves nothing; a pin of it is an error.
            if pins.contains_key(&module) {
                held.push(format!("{env} pins module {module}, which is not in the release's catalog"));
            }
            continue;
        };
        let running = rollout::running(&module, events);
        for target in targets.iter().filter(|(e, _)| e == env) {
            let to = pins.get(&module).and_then(|p| p.get(&target.1)).cloned().unwrap_or_else(|| entry.version.clone());
            let from = running.get(target).map(|(v, _, _)| v.clone()).unwrap_or_else(|| "none".to_string());
            if from != to {
                let own_plan = entry.rollout.get(&to).cloned();
                moves.push(Move { module: module.clone(), target: target.clone(), from, to, own_plan });
            }
        }
    }
    Ok(Some(Proposal { moves, targets, held }))
}

/// The risk classification of the module versions a session's release moves (issue 32): each
/// move is one entry, `module-rollback` (standard) when it returns a service to the version it
/// ran before an adoption in that environment ([`rollout::reverses`]), else `module-adoption`
/// (normal). Pins live in their own file, which is not governance, so a rollback alone is a
/// standard change; a pin that skips a wave is still refused by the `adoption` gate.
pub fn tiers(s: &crate::Session) -> Result<Vec<crate::tier::ResourceTier>> {
    Ok(tiers_and_restores(s)?.0)
}

/// [`tiers`], and the rollbacks that restore exactly what the environment ran before the
/// adoption they reverse (`crate::restore`), whose resources classify with the rollback.
pub fn tiers_and_restores(s: &crate::Session) -> Result<(Vec<crate::tier::ResourceTier>, Vec<crate::restore::Restored>)> {
    let mut releases = Releases::of_session(s);
    let rules = Rules::of_session(s, &releases)?;
    let events = events(&s.records);
    let Some(p) = propose(&mut releases, &rules, &s.environment, &s.records, &events)? else { return Ok((Vec::new(), Vec::new())) };
    let here = crate::restore::Environment { records: &s.records, environment: &s.environment, plan: &s.plan, paths: &s.paths };
    let mut out = Vec::new();
    let mut restores = Vec::new();
    for m in p.moves {
        let address = format!("{}/{}[{}]", s.environment, m.module, m.target.1);
        let back = rollout::reverses(&m.module, &m.target, &m.from, &m.to, &events);
        if let Some(back) = back {
            restores.extend(crate::restore::restored(&here, &m.module, &m.target.1, back)?);
        }
        let (tier, rule, reason) = match back {
            Some(back) => (
                crate::tier::Tier::Standard,
                "module-rollback",
                format!("{} -> {} returns to a version admitted in {} before: a rollback of adoption record {back}", m.from, m.to, s.environment),
            ),
            None => (
                crate::tier::Tier::Normal,
                "module-adoption",
                format!("{} -> {}: a module version adoption, judged by its rollout's waves (the adoption gate)", m.from, m.to),
            ),
        };
        out.push(crate::tier::ResourceTier {
            address,
            resource_type: "module-version".into(),
            action: crate::diff::Action::Update,
            tier,
            rule: rule.into(),
            reason,
        });
    }
    Ok((out, restores))
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

/// `tree` (a checkout's catalog) with the plans the wave judgement applies: a version whose
/// rollout the chain has started gets the plan of the release that started it (as [`Rules`]
/// reads it), whatever the checkout says. A version not started gets the plan its first
/// promotion will be judged by ([`Rules::plan`] before any adoption): the plan of the release
/// governing the environment where it starts (its last succeeded deployment, else its governance
/// pin) when that release carries one, else the checkout's, which a release of it would carry.
/// The environment where it starts is the first, in promotion order, that the first wave of the
/// plan in force there moves. `open` opens a release the chain names (verified) and returns its
/// files.
pub fn catalog_in_force(tree: Catalog, records: &[Record], open: impl FnMut(&str) -> Result<BTreeMap<String, Vec<u8>>>) -> Result<Catalog> {
    Ok(catalog_in_force_noted(tree, records, open)?.0)
}

/// [`catalog_in_force`], and a note for each version not started whose first-wave environments
/// are governed by releases with different plans (`in_force::governed_plans`).
pub fn catalog_in_force_noted(
    mut tree: Catalog,
    records: &[Record],
    mut open: impl FnMut(&str) -> Result<BTreeMap<String, Vec<u8>>>,
) -> Result<(Catalog, Vec<String>)> {
    let mut seen = BTreeSet::new();
    let mut opened: BTreeMap<String, Catalog> = BTreeMap::new();
    let notes = crate::in_force::governed_plans(&mut tree, records, &mut opened, &mut open)?;
    for (_, release, a) in admitted_adoptions(records).filter(|(_, _, a)| a.rollback_of.is_none()) {
        // Only the first forward adoption's release speaks (as in [`Rules::plan`]).
        if !seen.insert((a.module.clone(), a.to.clone())) {
            continue;
        }
        if !opened.contains_key(release) {
            let files = open(release).with_context(|| format!("opening release {}", lz_evidence::record::short(release)))?;
            opened.insert(release.to_string(), Tree(&files).catalog()?);
        }
        let Some(plan) = opened[release].modules.get(&a.module).and_then(|e| e.rollout.get(&a.to)).cloned() else { continue };
        if let Some(entry) = tree.modules.get_mut(&a.module) {
            entry.rollout.insert(a.to.clone(), plan);
        }
    }
    Ok((tree, notes))
}

/// One release of a bulk upgrade (`catalog wave`): the pins that move exactly the waves up to
/// `wave` of `module@version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The last wave it moves (0-based); `None` when every wave is done.
    pub wave: Option<usize>,
    /// The pins per environment to write.
    pub pins: BTreeMap<String, rollout::Pins>,
    /// What each target runs by the chain.
    pub running: BTreeMap<Target, String>,
}

/// The [`Stage`] of `module@version` under `catalog` (with the plans in force,
/// [`catalog_in_force`]): up to wave `wave` (1-based) or, without it, the next wave not done at
/// `now`; `current` are the overlays' pins. A target of a later wave that runs nothing known and
/// has no pin is an error naming it (nothing says which version holds it).
#[allow(clippy::too_many_arguments)]
pub fn stage(
    catalog: &Catalog,
    module: &str,
    version: &str,
    wave: Option<usize>,
    targets: &[Target],
    current: &BTreeMap<String, rollout::Pins>,
    records: &[Record],
    now: i64,
) -> Result<Stage> {
    let plan = catalog
        .modules
        .get(module)
        .and_then(|e| e.rollout.get(version))
        .with_context(|| format!("{module}@{version} has no rollout plan: nothing to stage"))?;
    let index = match wave {
        Some(0) => anyhow::bail!("--wave counts from 1"),
        Some(n) if n > plan.waves.len() => anyhow::bail!("--wave {n}: the rollout plan of {module}@{version} has {} waves", plan.waves.len()),
        Some(n) => n - 1,
        None => match next_waves(catalog, targets, records, Some(module), now).into_iter().find(|n| n.version == version).and_then(|n| n.wave) {
            Some((n, _)) => n - 1,
            None => return Ok(Stage { wave: None, pins: current.clone(), running: BTreeMap::new() }),
        },
    };
    let running: BTreeMap<Target, String> = rollout::running(module, &events(records)).into_iter().map(|(t, (v, _, _))| (t, v)).collect();
    let (pins, unknown) = rollout::wave_pins(plan, module, version, index, targets, &running, current);
    if !unknown.is_empty() {
        let names: Vec<String> = unknown.iter().map(|(e, s)| format!("{s} in {e}")).collect();
        anyhow::bail!(
            "no admitted adoption record says which {module} version these run, and no pin holds them: {} (pin each in its overlay's {} first)",
            names.join(", "),
            rollout::PINS_FILE
        );
    }
    Ok(Stage { wave: Some(index), pins, running })
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const WAVES: &str = "\n[[modules.trading-service.rollout.\"1.1.0\".wave]]\nname = \"non-prod\"\nenvironments = [\"dev\", \"test\", \"uat\", \"preprod\"]\n\n[[modules.trading-service.rollout.\"1.1.0\".wave]]\nname = \"prod\"\nenvironments = [\"prod\"]\n";
    pub(crate) const ONE_WAVE: &str = "\n[[modules.trading-service.rollout.\"1.1.0\".wave]]\nname = \"everywhere\"\nenvironments = [\"dev\", \"test\", \"uat\", \"preprod\", \"prod\"]\n";

    /// The repository's catalog with `plan` appended, and every overlay's services.
    pub(crate) fn files(plan: &str) -> BTreeMap<String, Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = BTreeMap::new();
        let catalog = std::fs::read_to_string(root.join(lz_repo::catalog::CATALOG)).unwrap() + plan;
        out.insert(lz_repo::catalog::CATALOG.to_string(), catalog.into_bytes());
        for env in lz_repo::ENVIRONMENTS {
            let rel = format!("environments/{env}/terraform.tfvars");
            out.insert(rel.clone(), std::fs::read(root.join(&rel)).unwrap());
        }
        out
    }

    /// Before any adoption, the governing release's plan judges a release that rewrote its own:
    /// prod is held by the non-prod wave; with no governing plan the release's own plan applies.
    #[test]
    fn before_a_rollout_starts_the_governing_release_plan_judges_a_rewritten_one() {
        let (promoted, governing) = ("a".repeat(64), "b".repeat(64));
        let own = files(ONE_WAVE);
        let gov = files(WAVES);
        let never = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { anyhow::bail!("nothing to open: {d}") };
        let mut releases = Releases::new(&promoted, &own, never);
        let rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let e = format!("{:#}", admit_with(&mut releases, rules, "prod", &[], 1_700_000_000).unwrap_err());
        assert!(e.contains("may not move to 1.1.0") && e.contains("wave 1 (non-prod) has not moved"), "{e}");
        assert!(e.contains("which governs the environment") && e.contains("is not applied"), "{e}");
        // A governing release without a plan for the version: the release's own plan applies.
        let plain = files("");
        let rules = Rules::of(&releases, &governing, plain.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let moves = admit_with(&mut releases, rules, "prod", &[], 1_700_000_000).unwrap();
        assert!(!moves.is_empty() && moves.iter().all(|m| m.wave == 1 && m.wave_name.as_deref() == Some("everywhere")), "{moves:?}");
        // A version the governing release revokes is refused even when the release does not say so.
        let revoked = files(&format!("{WAVES}\n[modules.trading-service.revoked.\"1.1.0\"]\nreason = \"leaks\"\ndate = \"2026-12-07\"\n"));
        let rules = Rules::of(&releases, &governing, revoked.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let e = format!("{:#}", admit_with(&mut releases, rules, "dev", &[], 1_700_000_000).unwrap_err());
        assert!(e.contains("trading-service@1.1.0 is revoked (leaks)"), "{e}");
    }

    /// A chain record of release `release` in `env` (signed by a throwaway key).
    pub(crate) fn rec(sequence: u64, release: &str, env: &str, kind: Kind, details: Details) -> Record {
        let public_key = lz_evidence::keys::PublicKey::Ed25519(lz_evidence::identity::generate_key().verifying_key());
        let signer = lz_evidence::Identity {
            name: "deploy-bot".into(),
            display_name: "deploy-bot".into(),
            kind: "workload".into(),
            group: "platform".into(),
            roles: Vec::new(),
            keyid: public_key.keyid(),
            public_key,
            kms_key: None,
            environments: None,
        };
        Record {
            sequence,
            kind,
            identity: "deploy-bot".into(),
            signer,
            time: time::OffsetDateTime::from_unix_timestamp(1_600_000_000 + sequence as i64).unwrap(),
            release: release.into(),
            environment: Some(env.into()),
            account: None,
            plan_digest: None,
            ticket: None,
            reason: None,
            details,
        }
    }

    /// A succeeded deployment (`seq`) of `release` in dev and its adoption (`seq + 1`) moving
    /// `service` to trading-service 1.1.0 in wave 1.
    fn adopted(seq: u64, release: &str, service: &str) -> [Record; 2] {
        let d = lz_evidence::details::DeploymentDetails { outcome: "succeeded".into(), ..Default::default() };
        let a = AdoptionDetails {
            module: "trading-service".into(),
            service: service.into(),
            from: "1.0.0".into(),
            to: "1.1.0".into(),
            wave: 1,
            approvals: vec![1],
            deployment: seq,
            ..Default::default()
        };
        [rec(seq, release, "dev", Kind::Deployment, Details::Deployment(d)), rec(seq + 1, release, "dev", Kind::Adoption, Details::Adoption(a))]
    }

    /// The rollout of 1.1.0 started with a release that carries no plan; a later release with a
    /// loose one-wave plan adopted another dev service. The author of a prod promotion carrying the
    /// loose plan too cannot make it the plan in force: the first adoption's release has none, so
    /// the governing release's three-environment plan applies and prod waits for non-prod.
    #[test]
    fn a_later_release_plan_does_not_replace_the_plan_in_force() {
        let (promoted, governing, first, later) = ("a".repeat(64), "b".repeat(64), "1".repeat(64), "2".repeat(64));
        let own = files(ONE_WAVE);
        let gov = files(WAVES);
        let chain: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::from([(first.clone(), files("")), (later.clone(), files(ONE_WAVE))]);
        let open = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { chain.get(d).cloned().with_context(|| format!("no release {d}")) };
        let records: Vec<Record> = [adopted(10, &first, "order-gateway"), adopted(20, &later, "market-data")].into_iter().flatten().collect();
        let mut releases = Releases::new(&promoted, &own, open);
        let mut rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let (plan, source) = rules.plan("trading-service", "1.1.0", &records, &mut releases).unwrap().unwrap();
        assert_eq!(source, PlanSource::Governing { release: governing.clone() }, "{source}");
        assert_eq!(plan.waves.len(), 2);
        let e = format!("{:#}", admit_with(&mut releases, rules, "prod", &records, 1_700_000_000).unwrap_err());
        assert!(e.contains("may not move to 1.1.0") && e.contains("wave 1 (non-prod) has not moved"), "{e}");
        // `catalog wave` reads the same: the later release's plan is not put in force.
        let checkout = files("");
        let c = catalog_in_force(Tree(&checkout).catalog().unwrap(), &records, open).unwrap();
        assert!(!c.modules["trading-service"].rollout.contains_key("1.1.0"), "the later release's plan is in force: {:?}", c.modules["trading-service"].rollout);
    }

    /// `catalog adoption` and `catalog wave` before the rollout of 1.1.0 starts: the checkout
    /// rewrote the plan to one wave everywhere, but dev (where the rollout starts) is governed by
    /// a release carrying the two-wave plan, which the gate will judge dev's promotion by: that
    /// plan is in force, not the checkout's. A governing release without a plan, or no governing
    /// release at all, leaves the checkout's (the promoted release's own, as the gate reads it).
    #[test]
    fn before_a_rollout_starts_the_catalog_in_force_is_the_governing_release_plan() {
        let governing = "b".repeat(64);
        let d = lz_evidence::details::DeploymentDetails { outcome: "succeeded".into(), ..Default::default() };
        let records = vec![rec(5, &governing, "dev", Kind::Deployment, Details::Deployment(d))];
        let checkout = files(ONE_WAVE);
        let names = |c: &Catalog| -> Vec<String> { c.modules["trading-service"].rollout["1.1.0"].waves.iter().map(|w| w.name.clone()).collect() };
        let with = |gov: &str| {
            let gov = files(gov);
            let open = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> {
                anyhow::ensure!(d == "b".repeat(64), "no release {d}");
                Ok(gov.clone())
            };
            catalog_in_force(Tree(&checkout).catalog().unwrap(), &records, open).unwrap()
        };
        assert_eq!(names(&with(WAVES)), ["non-prod", "prod"]);
        // The gate reads the same for dev's promotion of a release carrying the checkout's plan.
        let gov = files(WAVES);
        let never = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { anyhow::bail!("nothing to open: {d}") };
        let promoted = "a".repeat(64);
        let mut releases = Releases::new(&promoted, &checkout, never);
        let mut rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let (plan, source) = rules.plan("trading-service", "1.1.0", &records, &mut releases).unwrap().unwrap();
        assert_eq!((plan.waves[0].name.as_str(), source), ("non-prod", PlanSource::Governing { release: governing.clone() }));
        assert_eq!(names(&with("")), ["everywhere"]);
        let none = catalog_in_force(Tree(&checkout).catalog().unwrap(), &[], never).unwrap();
        assert_eq!(names(&none), ["everywhere"]);
        // The checkout deleting the plan does not hide the governing one either.
        let bare = catalog_in_force(Tree(&files("")).catalog().unwrap(), &records, |_: &str| Ok(files(WAVES))).unwrap();
        assert_eq!(names(&bare), ["non-prod", "prod"]);
    }

    /// 1.1.0 is revoked by a release deployed in test. The author of the next release drops the
    /// revocation from its catalog (and the governing release of dev never had it): pinning dev to
    /// the revoked version is still refused, naming the release whose revocation is in force.
    #[test]
    fn a_release_that_drops_a_revocation_is_still_refused() {
        let (promoted, governing, revoking) = ("a".repeat(64), "b".repeat(64), "1".repeat(64));
        let own = files(WAVES);
        let gov = files(WAVES);
        let chain = BTreeMap::from([(revoking.clone(), files(&format!("{WAVES}\n[modules.trading-service.revoked.\"1.1.0\"]\nreason = \"leaks\"\ndate = \"2026-12-07\"\n")))]);
        let open = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { chain.get(d).cloned().with_context(|| format!("no release {d}")) };
        let d = lz_evidence::details::DeploymentDetails { outcome: "succeeded".into(), ..Default::default() };
        let records = vec![rec(10, &revoking, "test", Kind::Deployment, Details::Deployment(d))];
        let mut releases = Releases::new(&promoted, &own, open);
        let rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let e = format!("{:#}", admit_with(&mut releases, rules, "dev", &records, 1_700_000_000).unwrap_err());
        assert!(e.contains("trading-service@1.1.0 is revoked (leaks) by release") && e.contains("deployed by record 10"), "{e}");
    }

    /// The release author pins a dev service to 7.7.7, a version no catalog, CHANGELOG or
    /// adoption knows: without a plan for it, it would pass as a wave-1 adoption. It is refused;
    /// a CHANGELOG version (a rollback target) is not.
    #[test]
    fn a_pin_to_a_version_nobody_released_is_refused() {
        let (promoted, governing) = ("a".repeat(64), "b".repeat(64));
        let mut own = files(WAVES);
        let pin = |v: &str| format!("[pins.trading-service]\norder-gateway = \"{v}\"\n").into_bytes();
        own.insert("environments/dev/pins.toml".into(), pin("7.7.7"));
        let gov = files(WAVES);
        let never = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { anyhow::bail!("nothing to open: {d}") };
        {
            let mut releases = Releases::new(&promoted, &own, never);
            let rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
            let e = format!("{:#}", admit_with(&mut releases, rules, "dev", &[], 1_700_000_000).unwrap_err());
            assert!(e.contains("order-gateway in dev: trading-service@7.7.7 is a version neither"), "{e}");
        }
        // 1.0.0 is in the release's CHANGELOG: a known version, admitted.
        own.insert("environments/dev/pins.toml".into(), pin("1.0.0"));
        own.insert("modules/trading-service/CHANGELOG.md".into(), b"# Changelog\n\n## [1.1.0] - 2026-11-27\n\n## [1.0.0] - 2026-11-26\n".to_vec());
        let mut releases = Releases::new(&promoted, &own, never);
        let rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice)).unwrap();
        let moves = admit_with(&mut releases, rules, "dev", &[], 1_700_000_000).unwrap();
        assert!(moves.iter().any(|m| m.service == "order-gateway" && m.to == "1.0.0"), "{moves:?}");
    }

    /// The adoption rules (`admit_with`) over the test chains above decide the same with any
    /// approvals appended (the policy identity's automatic one and a person's, for the promoted
    /// release and environment): what lets a kept judgement (`crate::judged`) outlive the
    /// auto-approval.
    #[test]
    fn an_appended_approval_changes_no_adoption_judgement() {
        let (promoted, governing, first, later, revoking) = ("a".repeat(64), "b".repeat(64), "1".repeat(64), "2".repeat(64), "3".repeat(64));
        let chain: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::from([
            (first.clone(), files("")),
            (later.clone(), files(ONE_WAVE)),
            (revoking.clone(), files(&format!("{WAVES}\n[modules.trading-service.revoked.\"1.1.0\"]\nreason = \"leaks\"\ndate = \"2026-12-07\"\n"))),
        ]);
        let open = |d: &str| -> Result<BTreeMap<String, Vec<u8>>> { chain.get(d).cloned().with_context(|| format!("no release {d}")) };
        let ok = lz_evidence::details::DeploymentDetails { outcome: "succeeded".into(), ..Default::default() };
        let chains: Vec<(&str, &str, &str, Vec<Record>)> = vec![
            (ONE_WAVE, WAVES, "prod", vec![]),
            (ONE_WAVE, WAVES, "dev", vec![]),
            (ONE_WAVE, "", "prod", vec![]),
            (ONE_WAVE, WAVES, "prod", [adopted(10, &first, "order-gateway"), adopted(20, &later, "market-data")].into_iter().flatten().collect()),
            (ONE_WAVE, WAVES, "test", [adopted(10, &first, "order-gateway"), adopted(20, &later, "market-data")].into_iter().flatten().collect()),
            (WAVES, WAVES, "dev", vec![rec(10, &revoking, "test", Kind::Deployment, Details::Deployment(ok.clone()))]),
        ];
        let mut judged = 0;
        for (own, gov, env, records) in chains {
            let (own, gov) = (files(own), files(gov));
            let admit = |records: &[Record]| {
                let mut releases = Releases::new(&promoted, &own, open);
                let rules = Rules::of(&releases, &governing, gov.get(lz_repo::catalog::CATALOG).map(Vec::as_slice))?;
                admit_with(&mut releases, rules, env, records, 1_700_000_000)
            };
            let next = records.last().map_or(100, |r| r.sequence + 1);
            let mut more = records.clone();
            for (k, who, auto) in [(0, "policy-bot", Some(true)), (1, "alice", None)] {
                let mut a = rec(next + k, &promoted, env, Kind::Approval, Details::Approval(lz_evidence::details::ApprovalDetails { auto, ..Default::default() }));
                a.identity = who.into();
                more.push(a);
            }
            let (before, after) = (admit(&records).map_err(|e| format!("{e:#}")), admit(&more).map_err(|e| format!("{e:#}")));
            assert_eq!(before, after, "{env} over {} records", records.len());
            judged += 1;
        }
        assert_eq!(judged, 6);
    }
}
