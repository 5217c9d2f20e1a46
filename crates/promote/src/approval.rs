//! Approval policy (`governance/approval-policy.toml`) and segregation of duties, as pure
//! functions over the approvals found in the evidence archive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::tier::{parse_toml, read, Tier};

pub const APPROVAL_POLICY: &str = lz_repo::paths::APPROVAL_POLICY;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    approvals: Option<u32>,
    groups: Option<Vec<String>>,
    required_groups: Option<Vec<String>>,
    distinct_groups: Option<bool>,
    change_window: Option<bool>,
    auto_approve: Option<bool>,
    break_glass: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    policy_identity: String,
    tiers: BTreeMap<String, RawRequirement>,
    #[serde(default)]
    environments: BTreeMap<String, BTreeMap<String, RawRequirement>>,
}

/// What a promotion of one tier into one environment needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub tier: Tier,
    pub environment: String,
    pub approvals: u32,
    pub groups: Vec<String>,
    pub required_groups: Vec<String>,
    pub distinct_groups: bool,
    pub change_window: bool,
    pub auto_approve: bool,
    pub break_glass: bool,
}

#[derive(Clone, Debug)]
pub struct ApprovalPolicy {
    pub policy_identity: String,
    tiers: BTreeMap<Tier, RawRequirement>,
    environments: BTreeMap<String, BTreeMap<Tier, RawRequirement>>,
}

fn tier_key(k: &str, origin: &str) -> Result<Tier> {
    Tier::parse(k).ok_or_else(|| {
        anyhow::anyhow!("{origin}: {k:?} is not a tier (standard, normal, high, emergency)")
    })
}

impl ApprovalPolicy {
    /// The policy identity of `env`: `policy_identity` with `{env}` replaced, so that each
    /// environment's policy evaluations and automatic approvals are signed by an identity of its
    /// own (`change-policy-{env}`, bound to that environment in the register, issue 26), or the
    /// one identity every environment shares when the name has no `{env}`.
    pub fn policy_identity_of(&self, env: &str) -> String {
        self.policy_identity.replace("{env}", env)
    }

    pub fn load(root: &Path) -> Result<ApprovalPolicy> {
        let path = root.join(APPROVAL_POLICY);
        ApprovalPolicy::parse(&read(&path, lz_input::purpose(APPROVAL_POLICY))?, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<ApprovalPolicy> {
        let raw: RawPolicy = parse_toml(text, origin)?;
        let mut tiers = BTreeMap::new();
        for (k, v) in raw.tiers {
            tiers.insert(tier_key(&k, origin)?, v);
        }
        for t in Tier::ALL {
            if !tiers.contains_key(&t) {
                bail!("{origin}: no [tiers.{t}] table");
            }
        }
        let mut environments = BTreeMap::new();
        for (env, per_tier) in raw.environments {
            if !lz_platform::ENVIRONMENTS.contains(&env.as_str()) {
                bail!(
                    "{origin}: [environments.{env}]: not one of {}",
                    lz_platform::ENVIRONMENTS.join(", ")
                );
            }
            let mut m = BTreeMap::new();
            for (k, v) in per_tier {
                m.insert(tier_key(&k, origin)?, v);
            }
            environments.insert(env, m);
        }
        let p = ApprovalPolicy {
            policy_identity: raw.policy_identity,
            tiers,
            environments,
        };
        for env in lz_platform::ENVIRONMENTS {
            for t in Tier::ALL {
                let r = p.requirement(t, env);
                let bad: Vec<&String> = r
                    .required_groups
                    .iter()
                    .filter(|g| !r.groups.contains(g))
                    .collect();
                if !bad.is_empty() && r.approvals > 0 {
                    bail!("{origin}: {env}/{t}: required groups {bad:?} are not among the eligible groups {:?}", r.groups);
                }
                if r.approvals > 0 && r.groups.is_empty() {
                    bail!(
                        "{origin}: {env}/{t}: {} approvals needed but no eligible groups",
                        r.approvals
                    );
                }
                if r.distinct_groups && (r.approvals as usize) > r.groups.len() {
                    bail!(
                        "{origin}: {env}/{t}: {} approvals from distinct groups but only {} groups",
                        r.approvals,
                        r.groups.len()
                    );
                }
                if (r.required_groups.len() as u32) > r.approvals && !r.auto_approve {
                    bail!(
                        "{origin}: {env}/{t}: {} required groups but only {} approvals",
                        r.required_groups.len(),
                        r.approvals
                    );
                }
            }
        }
        Ok(p)
    }

    /// The tier's requirement with the environment's overrides applied.
    pub fn requirement(&self, tier: Tier, environment: &str) -> Requirement {
        let base = self.tiers.get(&tier).cloned().unwrap_or_default();
        let o = self
            .environments
            .get(environment)
            .and_then(|m| m.get(&tier))
            .cloned()
            .unwrap_or_default();
        Requirement {
            tier,
            environment: environment.to_string(),
            approvals: o.approvals.or(base.approvals).unwrap_or(0),
            groups: o.groups.or(base.groups).unwrap_or_default(),
            required_groups: o
                .required_groups
                .or(base.required_groups)
                .unwrap_or_default(),
            distinct_groups: o.distinct_groups.or(base.distinct_groups).unwrap_or(false),
            change_window: o.change_window.or(base.change_window).unwrap_or(false),
            auto_approve: o.auto_approve.or(base.auto_approve).unwrap_or(false),
            break_glass: o.break_glass.or(base.break_glass).unwrap_or(false),
        }
    }
}

/// An approval found in the archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vote {
    pub identity: String,
    pub group: String,
    pub plan_digest: String,
    pub sequence: u64,
}

/// Who is asking for what.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub release: &'a str,
    pub environment: &'a str,
    pub plan_digest: &'a str,
    pub author: Option<&'a str>,
    pub deployer: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub counted: Vec<Vote>,
    pub ignored: Vec<(Vote, String)>,
}

pub fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

/// Whether `approver` may approve at all (checked when the approval is recorded).
pub fn may_approve(approver: &str, author: Option<&str>, release: &str) -> Result<()> {
    if author == Some(approver) {
        bail!(
            "{approver} authored release {} and cannot approve it (segregation of duties)",
            short(release)
        );
    }
    Ok(())
}

/// Decides whether `votes` satisfy `req` for `request`; the error is the refusal message.
pub fn evaluate(req: &Requirement, request: &Request, votes: &[Vote]) -> Result<Decision> {
    let r = short(request.release);
    let env = request.environment;
    if let Some(v) = votes.iter().find(|v| v.identity == request.deployer) {
        bail!(
            "{} approved release {r} for {env} (record {}) and cannot deploy it (segregation of duties)",
            v.identity,
            v.sequence
        );
    }
    let mut counted: Vec<Vote> = Vec::new();
    let mut ignored = Vec::new();
    for v in votes {
        let why = if Some(v.identity.as_str()) == request.author {
            Some(format!("{} authored the release", v.identity))
        } else if v.plan_digest != request.plan_digest {
            Some(format!(
                "approves plan {}, the promotion's plan is {}",
                short(&v.plan_digest),
                short(request.plan_digest)
            ))
        } else if !req.groups.contains(&v.group) {
            Some(format!(
                "group {} is not eligible for a {} change to {env} (eligible: {})",
                v.group,
                req.tier,
                req.groups.join(", ")
            ))
        } else if counted.iter().any(|c| c.identity == v.identity) {
            Some(format!("{} already approved", v.identity))
        } else {
            None
        };
        match why {
            Some(w) => ignored.push((v.clone(), w)),
            None => counted.push(v.clone()),
        }
    }
    let listed = |vs: &[Vote]| {
        if vs.is_empty() {
            "none".to_string()
        } else {
            vs.iter()
                .map(|v| format!("{} ({})", v.identity, v.group))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let ignored_note = if ignored.is_empty() {
        String::new()
    } else {
        format!(
            "; not counted: {}",
            ignored
                .iter()
                .map(|(v, w)| format!("{} ({w})", v.identity))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if req.approvals == 0 {
        return Ok(Decision { counted, ignored });
    }
    if req.distinct_groups {
        let mut by_group: BTreeMap<&str, &str> = BTreeMap::new();
        for v in &counted {
            if let Some(other) = by_group.insert(&v.group, &v.identity) {
                bail!(
                    "release {r} to {env} (tier {}) needs approvals from different groups: {other} and {} are both in group {}",
                    req.tier,
                    v.identity,
                    v.group
                );
            }
        }
    }
    let groups_present: BTreeSet<&str> = counted.iter().map(|v| v.group.as_str()).collect();
    let missing: Vec<&str> = req
        .required_groups
        .iter()
        .map(String::as_str)
        .filter(|g| !groups_present.contains(g))
        .collect();
    if !missing.is_empty() {
        bail!(
            "release {r} to {env} (tier {}) needs an approval from group {}; approvals: {}{ignored_note}",
            req.tier,
            missing.join(" and from group "),
            listed(&counted)
        );
    }
    if (counted.len() as u32) < req.approvals {
        bail!(
            "release {r} to {env} (tier {}) needs {} approvals from {} by different people, has {}: {}{ignored_note}",
            req.tier,
            req.approvals,
            req.groups.join(", "),
            counted.len(),
            listed(&counted)
        );
    }
    Ok(Decision { counted, ignored })
}
