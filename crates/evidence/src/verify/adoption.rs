//! The replay of adoption records (issue 32) during verification: an `adoption` record is
//! accepted only when the chain before it holds what it claims to rest on.
//!
//! - the release it names was authored (an earlier `release` record);
//! - each approval it names is an earlier `approval` of that release for that environment,
//!   signed by someone else than the adoption's signer: one deployer key cannot write an
//!   adoption with nothing behind it;
//! - the deployment it names is an earlier `deployment` of that release in that environment
//!   that succeeded (or had nothing to change);
//! - those approvals and that deployment follow the release's authorship (its first `release`
//!   record): an approval given before the release was authored approved no authored release,
//!   so a chain that orders them otherwise does not carry the adoption;
//! - its `from` is the version the chain says the service ran (when an earlier adoption says);
//! - wave `n > 1` follows an adoption of the same module version in wave `n - 1`;
//! - a rollback (`rollback_of`) is wave 0 and names an earlier forward adoption (not itself a
//!   rollback) of the same module, service and environment that it reverses (its `from` and `to`
//!   swapped): a re-adoption after a rollback cannot pass as a "rollback" of the rollback.
//!
//! What it keeps per chain: one small entry per approval, deployment and adoption (the
//! release, environment and signer; not the records).
use std::collections::{BTreeSet, HashMap};

use crate::details::AdoptionDetails;

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Replay {
    /// The first release record of each release (its authorship).
    #[serde(with = "super::serial::sorted")]
    authored: HashMap<String, u64>,
    /// Approval records: (release, environment, signer).
    #[serde(with = "super::serial::sorted")]
    approvals: HashMap<u64, (String, Option<String>, String)>,
    /// Deployment records that closed a run well: (release, environment).
    #[serde(with = "super::serial::sorted")]
    deployments: HashMap<u64, (String, Option<String>)>,
    /// Adoption records: (environment, module, service, from, to, whether a rollback).
    #[serde(with = "super::serial::sorted")]
    adoptions: HashMap<u64, (String, String, String, String, String, bool)>,
    /// The version each (environment, module, service) runs after the latest adoption.
    #[serde(with = "super::serial::sorted")]
    running: HashMap<(String, String, String), String>,
    /// (module, version, wave) reached by at least one adoption.
    waves: BTreeSet<(String, String, u32)>,
}

impl Replay {
    pub(super) fn release(&mut self, seq: u64, release: &str) {
        self.authored.entry(release.to_string()).or_insert(seq);
    }

    pub(super) fn approval(&mut self, seq: u64, release: &str, environment: Option<&String>, signer: &str) {
        self.approvals.insert(seq, (release.to_string(), environment.cloned(), signer.to_string()));
    }

    pub(super) fn deployment(&mut self, seq: u64, release: &str, environment: Option<&String>, outcome: &str) {
        if matches!(outcome, "succeeded" | "no-changes") {
            self.deployments.insert(seq, (release.to_string(), environment.cloned()));
        }
    }

    /// Judges an adoption record; records it when accepted.
    pub(super) fn adoption(&mut self, seq: u64, release: &str, environment: Option<&String>, signer: &str, a: &AdoptionDetails) -> Result<(), String> {
        let Some(env) = environment else { return Err("an adoption names no environment".into()) };
        let short = crate::record::short(release);
        let Some(&authored) = self.authored.get(release) else {
            return Err(format!("it names release {short}, which no earlier release record authored"));
        };
        let before_authorship = |what: &str, at: u64| {
            format!("{what} record {at} precedes the authorship of release {short} (release record {authored}): it approved or deployed no authored release")
        };
        if a.approvals.is_empty() {
            return Err("it names no approval".into());
        }
        let mut by_other = false;
        for at in &a.approvals {
            match self.approvals.get(at) {
                Some((r, e, _)) if r == release && e.as_ref() == Some(env) && *at < authored => return Err(before_authorship("approval", *at)),
                Some((r, e, who)) if r == release && e.as_ref() == Some(env) => by_other |= who != signer,
                Some(_) => return Err(format!("approval record {at} approves another release or environment than {short} in {env}")),
                None => return Err(format!("sequence {at} is not an earlier approval record")),
            }
        }
        if !by_other {
            return Err(format!("every approval it names was signed by {signer}, who signs the adoption"));
        }
        match self.deployments.get(&a.deployment) {
            Some((r, e)) if r == release && e.as_ref() == Some(env) && a.deployment < authored => {
                return Err(before_authorship("deployment", a.deployment))
            }
            Some((r, e)) if r == release && e.as_ref() == Some(env) => {}
            Some(_) => return Err(format!("deployment record {} deployed another release or environment", a.deployment)),
            None => return Err(format!("sequence {} is not an earlier deployment record that succeeded", a.deployment)),
        }
        if a.from == a.to {
            return Err(format!("it moves {} from {} to the same version", a.service, a.from));
        }
        let key = (env.clone(), a.module.clone(), a.service.clone());
        if let Some(now) = self.running.get(&key) {
            if *now != a.from {
                return Err(format!("{} in {env} runs {}@{now} by the chain, not {}", a.service, a.module, a.from));
            }
        }
        match a.rollback_of {
            Some(back) => {
                let Some((e, m, s, from, to, rollback)) = self.adoptions.get(&back) else {
                    return Err(format!("it reverses sequence {back}, which is not an earlier adoption record"));
                };
                if a.wave != 0 {
                    return Err(format!("a rollback is wave 0, not wave {}", a.wave));
                }
                if *rollback {
                    return Err(format!("it reverses adoption {back}, which is itself a rollback: only a forward adoption is reversed"));
                }
                if e != env || *m != a.module || *s != a.service || *from != a.to || *to != a.from {
                    return Err(format!("adoption {back} moved {s} in {e} {m} {from} -> {to}; this rollback does not reverse it"));
                }
            }
            None => {
                if a.wave == 0 {
                    return Err("wave 0 is only a rollback's".into());
                }
                if a.wave > 1 && !self.waves.contains(&(a.module.clone(), a.to.clone(), a.wave - 1)) {
                    return Err(format!("wave {} of {}@{} before any adoption of wave {}", a.wave, a.module, a.to, a.wave - 1));
                }
                self.waves.insert((a.module.clone(), a.to.clone(), a.wave));
            }
        }
        self.running.insert(key, a.to.clone());
        self.adoptions.insert(seq, (env.clone(), a.module.clone(), a.service.clone(), a.from.clone(), a.to.clone(), a.rollback_of.is_some()));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
