//! Staged adoption of module versions (issue 32): the rollout plan a catalog version carries,
//! its deprecation and revocation notices, the per-service pins of an overlay, and the pure
//! judgement of whether a service may move to a version now.
//!
//! **Catalog form.** Under a module's `[modules.<name>]` table:
//!
//! ```toml
//! [[modules.trading-service.rollout."1.1.0".wave]]
//! name = "non-prod"
//! environments = ["dev", "test", "uat", "preprod"]
//! bake_minutes = 60
//! health_checks = ["deployment-succeeded", "drift-clean"]
//!
//! [[modules.trading-service.rollout."1.1.0".wave]]
//! name = "prod-canary"
//! environments = ["prod"]
//! services = ["market-data"]       # none named: every service of those environments
//! bake_minutes = 240
//! health_checks = ["deployment-succeeded", "drift-clean"]
//!
//! [modules.trading-service.deprecated."1.0.0"]
//! reason = "superseded by 1.1.0 (encrypted log group)"
//! date = "2026-12-07"
//!
//! [modules.trading-service.revoked."0.9.0"]
//! reason = "opens the data tier to the internet"
//! date = "2026-12-07"
//! ```
//!
//! A target (environment, service) belongs to the **first** wave that covers it, so "prod
//! canary services, then prod all" reads as written.
//!
//! **Overlay pins.** `environments/<env>/pins.toml` ([`PINS_FILE`]) may pin services to
//! versions: `[pins.trading-service]` `order-gateway = "1.0.0"`. A service without a pin runs the
//! catalog version. Pins live in their own file, not in `env.toml` (whose account and region are
//! governance): a pin change is classified by what it moves (`lz_promote::adoption::tiers`), so a
//! rollback to a version the environment admitted before is a standard change.
//!
//! **What a decision reads.** Nothing here reads a file or a clock: the plan and the pins come
//! from the release artifact, the events ([`Event`]) from the verified evidence chain, and "now"
//! from the bounded clock of change control (`lz_promote::clock`). A pin edited in a checkout to
//! skip a wave is refused by [`may_adopt`], because the waves before it were not reached in the
//! chain.
use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// A version's rollout plan: its waves, in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(rename = "wave")]
    pub waves: Vec<Wave>,
}

/// One wave: the environments (and, optionally, the services) it moves, how long it bakes and
/// which health checks must hold before the next wave starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Wave {
    pub name: String,
    pub environments: Vec<String>,
    /// The services it moves; empty: every service of its environments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(default)]
    pub bake_minutes: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_checks: Vec<HealthCheck>,
}

/// A health check a wave must pass before the next wave.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum HealthCheck {
    /// No deployment of the wave's environments failed since the wave started.
    DeploymentSucceeded,
    /// Each environment of the wave was drift-checked clean after its last adoption of the wave,
    /// and its latest drift check is clean.
    DriftClean,
}

impl HealthCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCheck::DeploymentSucceeded => "deployment-succeeded",
            HealthCheck::DriftClean => "drift-clean",
        }
    }
}

/// A deprecation or revocation of one version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub reason: String,
    pub date: String,
}

/// The pins file of an overlay: `environments/<env>/pins.toml`.
pub const PINS_FILE: &str = "pins.toml";

/// Per-service module version pins: module -> service -> version.
pub type Pins = BTreeMap<String, BTreeMap<String, String>>;

/// An overlay's `pins.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PinsFile {
    #[serde(default)]
    pub pins: Pins,
}

/// The pins of `text` (from `origin`); malformed TOML names `origin:line:col`.
pub fn parse_pins(text: &str, origin: &str) -> Result<Pins> {
    Ok(crate::diag::parse_toml::<PinsFile>(text, origin)?.pins)
}

/// `pins` as the text of a `pins.toml`.
pub fn pins_text(pins: &Pins) -> Result<String> {
    Ok(toml::to_string(&PinsFile { pins: pins.clone() })?)
}

/// The pins of `env` under `root` (none without a `pins.toml`).
pub fn pins(root: &std::path::Path, env: &str) -> Result<Pins> {
    let path = crate::env::dir(root, env).join(PINS_FILE);
    if !path.is_file() {
        return Ok(Pins::new());
    }
    Ok(crate::diag::read_toml::<PinsFile>(&path)?.pins)
}

/// `MODULE@VERSION` as the catalog commands take it.
pub fn parse_module_version(s: &str) -> Result<(String, String)> {
    let Some((m, v)) = s.split_once('@') else { bail!("expected MODULE@VERSION, found {s:?}") };
    if !is_module_name(m) {
        bail!("{s:?}: {m:?} is not a module name");
    }
    if semver(v).is_none() {
        bail!("{s:?}: {v:?} is not a semver version x.y.z");
    }
    Ok((m.to_string(), v.to_string()))
}

/// Whether `name` can be a module name: `[a-z0-9-]`, not empty (never a path).
pub fn is_module_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `x.y.z` as numbers, each ASCII digits only (`+1` parses as a number but is no version, and
/// a version becomes part of a module call's name: `lz_repo::released::version_suffix`).
pub fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.split('.').map(|p| p.bytes().all(|b| b.is_ascii_digit()).then(|| p.parse::<u64>().ok()).flatten());
    let r = (it.next()??, it.next()??, it.next()??);
    it.next().is_none().then_some(r)
}

impl Plan {
    /// The plan's own consistency: at least one wave, names unique and non-empty, every
    /// environment one of `known`, each wave moving at least one target no earlier wave moves.
    pub fn validate(&self, what: &str, known: &[&str]) -> Result<()> {
        if self.waves.is_empty() {
            bail!("{what}: a rollout plan needs at least one wave");
        }
        let mut names = BTreeSet::new();
        for (i, w) in self.waves.iter().enumerate() {
            if w.name.trim().is_empty() {
                bail!("{what}: wave {} has no name", i + 1);
            }
            if !names.insert(w.name.as_str()) {
                bail!("{what}: two waves are named {:?}", w.name);
            }
            if w.environments.is_empty() {
                bail!("{what}: wave {:?} names no environment", w.name);
            }
            for e in &w.environments {
                if !known.contains(&e.as_str()) {
                    bail!("{what}: wave {:?} names {e:?}, which is not an environment ({})", w.name, known.join(", "));
                }
            }
            let shadowed = self.waves[..i].iter().any(|earlier| {
                earlier.services.is_empty()
                    && w.environments.iter().all(|e| earlier.environments.contains(e))
            });
            if shadowed {
                bail!("{what}: wave {:?} moves nothing: an earlier wave already moves every service of its environments", w.name);
            }
        }
        Ok(())
    }

    /// The wave (0-based) that moves `service` in `env`: the first that covers it.
    pub fn wave_of(&self, env: &str, service: &str) -> Option<usize> {
        self.waves
            .iter()
            .position(|w| w.environments.iter().any(|e| e == env) && (w.services.is_empty() || w.services.iter().any(|s| s == service)))
    }
}

/// A service of an environment.
pub type Target = (String, String);

/// What the verified chain says happened, as far as rollouts care (times in Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An adoption record: `service` in `env` moved `module` to `to` in wave `wave` (1-based; 1
    /// for an adoption outside a plan, 0 only for a rollback).
    Adopted { sequence: u64, env: String, service: String, module: String, from: String, to: String, wave: u32, at: i64 },
    /// A deployment record that closed a run (`succeeded` or not).
    Deployment { sequence: u64, env: String, succeeded: bool, at: i64 },
    /// A drift check (`clean` or not).
    Drift { sequence: u64, env: String, clean: bool, at: i64 },
}

/// Where one wave of a version stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaveState {
    pub number: usize,
    pub name: String,
    /// Its targets ("env/service") and whether each runs the version.
    pub targets: BTreeMap<String, bool>,
    /// When its last target moved (all moved), Unix seconds.
    pub completed_at: Option<i64>,
    /// When it has baked (completed plus bake time).
    pub baked_at: Option<i64>,
    /// Health checks that failed, with the record that failed them.
    pub failed: Vec<String>,
    /// Health checks not yet shown to hold.
    pub pending: Vec<String>,
}

impl WaveState {
    /// Whether the next wave may start at `now`.
    pub fn done(&self, now: i64) -> bool {
        self.completed_at.is_some() && self.failed.is_empty() && self.pending.is_empty() && self.baked_at.is_some_and(|b| now >= b)
    }

    /// What holds the next wave at `now` (empty when nothing does).
    pub fn holds(&self, now: i64) -> Vec<String> {
        let mut out = Vec::new();
        let waiting: Vec<&str> = self.targets.iter().filter(|(_, on)| !**on).map(|(t, _)| t.as_str()).collect();
        if !waiting.is_empty() {
            out.push(format!("wave {} ({}) has not moved {}", self.number, self.name, waiting.join(", ")));
        }
        for f in &self.failed {
            out.push(format!("wave {} ({}): health check failed: {f}", self.number, self.name));
        }
        for p in &self.pending {
            out.push(format!("wave {} ({}): health check pending: {p}", self.number, self.name));
        }
        if let Some(b) = self.baked_at.filter(|b| now < *b) {
            out.push(format!("wave {} ({}) bakes until {} ({} min left)", self.number, self.name, rfc3339(b), (b - now + 59) / 60));
        }
        out
    }
}

/// A time as RFC 3339 (UTC).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// The version each target of `module` runs after `events` (its latest adoption), if any.
pub fn running(module: &str, events: &[Event]) -> BTreeMap<Target, (String, u64, i64)> {
    let mut out = BTreeMap::new();
    for e in events {
        if let Event::Adopted { sequence, env, service, module: m, to, at, .. } = e {
            if m == module {
                out.insert((env.clone(), service.clone()), (to.clone(), *sequence, *at));
            }
        }
    }
    out
}

/// Where each wave of `module@version` stands: `targets` are every (environment, service) the
/// module serves.
pub fn progress(plan: &Plan, module: &str, version: &str, targets: &[Target], events: &[Event]) -> Vec<WaveState> {
    let mut out = Vec::new();
    // Runs the version now (latest adoption) and when each target first moved to it.
    let now_on = running(module, events);
    for (i, w) in plan.waves.iter().enumerate() {
        let mine: Vec<&Target> = targets.iter().filter(|(e, s)| plan.wave_of(e, s) == Some(i)).collect();
        let mut state = BTreeMap::new();
        let mut last = None::<i64>;
        let mut first = None::<i64>;
        for t in &mine {
            let on = now_on.get(*t).filter(|(v, _, _)| v == version);
            state.insert(format!("{}/{}", t.0, t.1), on.is_some());
            if let Some((_, _, at)) = on {
                last = Some(last.map_or(*at, |l| l.max(*at)));
                first = Some(first.map_or(*at, |f| f.min(*at)));
            }
        }
        let complete = !mine.is_empty() && state.values().all(|on| *on);
        let completed_at = if complete { last } else { None };
        let (mut failed, mut pending) = (Vec::new(), Vec::new());
        for check in &w.health_checks {
            // A wave that has not started is held by its targets (its checks are not judged yet).
            let Some(started) = first else { continue };
            match check {
                HealthCheck::DeploymentSucceeded => {
                    for e in events {
                        if let Event::Deployment { sequence, env, succeeded: false, at } = e {
                            if *at >= started && w.environments.contains(env) {
                                failed.push(format!("deployment-succeeded: deployment record {sequence} in {env} failed"));
                            }
                        }
                    }
                }
                HealthCheck::DriftClean => {
                    for env in &w.environments {
                        let moved = mine.iter().filter(|t| &t.0 == env).filter_map(|t| now_on.get(*t).map(|(_, _, at)| *at)).max();
                        let Some(moved) = moved else { continue };
                        let latest = events.iter().rev().find_map(|e| match e {
                            Event::Drift { sequence, env: de, clean, at } if de == env && *at >= moved => Some((*sequence, *clean)),
                            _ => None,
                        });
                        match latest {
                            Some((_, true)) => {}
                            Some((seq, false)) => failed.push(format!("drift-clean: drift record {seq} found drift in {env}")),
                            None => pending.push(format!("drift-clean: no drift check of {env} since it moved")),
                        }
                    }
                }
            }
        }
        out.push(WaveState {
            number: i + 1,
            name: w.name.clone(),
            targets: state,
            completed_at,
            baked_at: completed_at.map(|c| c + (w.bake_minutes as i64) * 60),
            failed,
            pending,
        });
    }
    out
}

/// Why a service may not move to a version now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub target: Target,
    pub version: String,
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {} may not move to {}: {}", self.target.1, self.target.0, self.version, self.reasons.join("; "))
    }
}

/// Whether `service` of `env` may move to `module@version` at `now` (the bounded clock of the
/// decision): the plan must cover it, and every earlier wave must have moved all its targets,
/// passed its health checks and baked. Returns the target's wave (1-based).
pub fn may_adopt(plan: &Plan, module: &str, version: &str, target: &Target, targets: &[Target], events: &[Event], now: i64) -> Result<u32, Hold> {
    let hold = |reasons: Vec<String>| Hold { target: target.clone(), version: version.to_string(), reasons };
    let Some(wave) = plan.wave_of(&target.0, &target.1) else {
        return Err(hold(vec![format!("the rollout plan of {module}@{version} has no wave for {} in {}", target.1, target.0)]));
    };
    let states = progress(plan, module, version, targets, events);
    let reasons: Vec<String> = states[..wave].iter().flat_map(|s| if s.done(now) { Vec::new() } else { s.holds(now) }).collect();
    if reasons.is_empty() {
        Ok(wave as u32 + 1)
    } else {
        Err(hold(reasons))
    }
}

/// The pins of one release of a bulk upgrade: one release per wave, not one per service. The
/// release moves every target of waves `..=wave` (0-based) of `module@version` (the catalog
/// version) and no other. A target of those waves loses its pin of `module`; any other target
/// is pinned to the version it runs (`running`, from the verified chain), or loses its pin when
/// it already runs `version`. A target of a later wave that runs nothing known keeps its pin;
/// without one it is returned apart (nothing says which version to hold it on).
/// `current` and the result are the pins per environment.
pub fn wave_pins(
    plan: &Plan,
    module: &str,
    version: &str,
    wave: usize,
    targets: &[Target],
    running: &BTreeMap<Target, String>,
    current: &BTreeMap<String, Pins>,
) -> (BTreeMap<String, Pins>, Vec<Target>) {
    let mut out = current.clone();
    let mut unknown = Vec::new();
    for t in targets {
        let pins = out.entry(t.0.clone()).or_default();
        let moves = plan.wave_of(&t.0, &t.1).is_some_and(|w| w <= wave);
        let on = running.get(t);
        let m = pins.entry(module.to_string()).or_default();
        if moves || on.is_some_and(|v| v == version) {
            m.remove(&t.1);
        } else if let Some(v) = on {
            m.insert(t.1.clone(), v.clone());
        } else if !m.contains_key(&t.1) {
            unknown.push(t.clone());
        }
        if m.is_empty() {
            pins.remove(module);
        }
    }
    out.retain(|_, p| !p.is_empty());
    (out, unknown)
}

/// The adoption a rollback reverses: the latest forward adoption of `module` for `target` that
/// moved it to `current` from `previous`, when `previous` was admitted in that environment
/// before (some adoption moved a service of it to `previous`, or moved one away from it).
/// A rollback (wave 0; the verifier admits wave 0 only with `rollback_of`) is never reversed:
/// moving forward again after a rollback is a re-adoption, judged by the waves.
pub fn reverses(module: &str, target: &Target, current: &str, previous: &str, events: &[Event]) -> Option<u64> {
    let admitted_before = events.iter().any(|e| {
        matches!(e, Event::Adopted { env, module: m, from, to, .. }
            if env == &target.0 && m == module && (to == previous || from == previous))
    });
    if !admitted_before {
        return None;
    }
    events.iter().rev().find_map(|e| match e {
        Event::Adopted { sequence, env, service, module: m, from, to, wave, .. }
            if *wave != 0 && env == &target.0 && service == &target.1 && m == module && to == current && from == previous =>
        {
            Some(*sequence)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_version_is_ascii_digits_only() {
        assert_eq!(super::semver("1.10.0"), Some((1, 10, 0)));
        for bad in ["+1.0.0", "1.+0.0", "1.0", "1.0.0.0", "1..0", " 1.0.0", "1.0.0-rc1", "١.0.0"] {
            assert_eq!(super::semver(bad), None, "{bad:?}");
        }
    }

    use super::*;

    fn plan() -> Plan {
        toml::from_str(
            r#"
[[wave]]
name = "non-prod"
environments = ["dev", "test"]
bake_minutes = 60
health_checks = ["deployment-succeeded", "drift-clean"]
[[wave]]
name = "prod-canary"
environments = ["prod"]
services = ["market-data"]
bake_minutes = 240
health_checks = ["drift-clean"]
[[wave]]
name = "prod-all"
environments = ["prod"]
"#,
        )
        .unwrap()
    }

    #[test]
    fn the_first_covering_wave_moves_a_target() {
        let p = plan();
        p.validate("t", &["dev", "test", "prod"]).unwrap();
        assert_eq!(p.wave_of("test", "x"), Some(0));
        assert_eq!(p.wave_of("prod", "market-data"), Some(1));
        assert_eq!(p.wave_of("prod", "order-gateway"), Some(2));
        assert_eq!(p.wave_of("uat", "x"), None);
        let e = p.validate("t", &["dev", "prod"]).unwrap_err().to_string();
        assert!(e.contains("\"test\", which is not an environment"), "{e}");
        let mut shadow = plan();
        shadow.waves[1].services.clear();
        let e = shadow.validate("t", &["dev", "test", "prod"]).unwrap_err().to_string();
        assert!(e.contains("wave \"prod-all\" moves nothing"), "{e}");
    }

    #[test]
    fn module_version_arguments() {
        assert_eq!(parse_module_version("trading-service@1.0.0").unwrap(), ("trading-service".into(), "1.0.0".into()));
        assert!(parse_module_version("trading-service").is_err());
        assert!(parse_module_version("trading-service@1.0").is_err());
        assert!(parse_module_version("Bad@1.0.0").is_err());
    }
}
