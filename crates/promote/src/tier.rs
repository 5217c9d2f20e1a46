//! Risk tiers: rules as data (`governance/risk-tiers.toml`), classification as a pure function
//! over a [`Diff`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::diff::{Action, Diff};

pub const RISK_TIERS: &str = lz_repo::paths::RISK_TIERS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    Standard,
    Normal,
    High,
    Emergency,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Standard, Tier::Normal, Tier::High, Tier::Emergency];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Normal => "normal",
            Tier::High => "high",
            Tier::Emergency => "emergency",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    default_tier: String,
    #[serde(default)]
    replace_attributes: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    tier: String,
    reason: String,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    environments: Vec<String>,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    attributes_match: Option<String>,
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub tier: Tier,
    pub reason: String,
    types: Option<GlobSet>,
    addresses: Option<GlobSet>,
    actions: Vec<Action>,
    environments: Vec<String>,
    attributes: Option<GlobSet>,
    all_attributes: bool,
}

#[derive(Debug)]
pub struct RiskRules {
    pub default_tier: Tier,
    pub rules: Vec<Rule>,
    replace: Vec<(GlobSet, Vec<String>)>,
}

pub(crate) fn globs(patterns: &[String], what: &str, rule: &str) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).with_context(|| format!("rule {rule}: bad {what} glob {p:?}"))?);
    }
    Ok(Some(b.build().with_context(|| {
        format!("rule {rule}: bad {what} globs")
    })?))
}

/// Parses TOML with errors as `file:line:col: message` (`lz_repo::parse_toml`).
pub(crate) use lz_repo::parse_toml;

/// A required governance file: missing is "missing <file>: <what it is for>", invalid UTF-8
/// names file:line:col (`lz_input`).
pub(crate) fn read(path: &Path, what: &str) -> Result<String> {
    Ok(lz_input::read_required(path, what)?)
}

impl RiskRules {
    pub fn load(root: &Path) -> Result<RiskRules> {
        let path = root.join(RISK_TIERS);
        RiskRules::parse(&read(&path, lz_input::purpose(RISK_TIERS))?, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<RiskRules> {
        let raw: RawRules = parse_toml(text, origin)?;
        let default_tier = Tier::parse(&raw.default_tier).with_context(|| {
            format!(
                "{origin}: default_tier {:?} is not a tier",
                raw.default_tier
            )
        })?;
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for r in raw.rules {
            let at = |m: String| anyhow::anyhow!("{origin}: rule {}: {m}", r.id);
            if !seen.insert(r.id.clone()) {
                return Err(at("duplicate rule id".into()));
            }
            let tier = Tier::parse(&r.tier).ok_or_else(|| {
                at(format!(
                    "tier {:?} is not one of standard, normal, high",
                    r.tier
                ))
            })?;
            if tier == Tier::Emergency {
                return Err(at(
                    "the emergency tier comes only from break-glass, never from a rule".into(),
                ));
            }
            let actions = r
                .actions
                .iter()
                .map(|a| {
                    Action::parse(a).ok_or_else(|| {
                        at(format!(
                            "action {a:?} is not create, update, delete or replace"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            for e in &r.environments {
                if !lz_platform::ENVIRONMENTS.contains(&e.as_str()) {
                    return Err(at(format!(
                        "environment {e:?} is not one of {}",
                        lz_platform::ENVIRONMENTS.join(", ")
                    )));
                }
            }
            let all_attributes = match r.attributes_match.as_deref() {
                None | Some("any") => false,
                Some("all") => true,
                Some(o) => {
                    return Err(at(format!(
                        "attributes_match {o:?} is neither \"any\" nor \"all\""
                    )))
                }
            };
            if r.types.is_empty()
                && r.addresses.is_empty()
                && r.actions.is_empty()
                && r.attributes.is_empty()
            {
                return Err(at(
                    "matches every resource: set types, addresses, actions or attributes".into(),
                ));
            }
            rules.push(Rule {
                types: globs(&r.types, "type", &r.id)?,
                addresses: globs(&r.addresses, "address", &r.id)?,
                attributes: globs(&r.attributes, "attribute", &r.id)?,
                id: r.id,
                tier,
                reason: r.reason,
                actions,
                environments: r.environments,
                all_attributes,
            });
        }
        let mut replace = Vec::new();
        for (pattern, attrs) in raw.replace_attributes {
            let set = globs(
                std::slice::from_ref(&pattern),
                "replace_attributes",
                "replace_attributes",
            )?
            .expect("one pattern");
            replace.push((set, attrs));
        }
        Ok(RiskRules {
            default_tier,
            rules,
            replace,
        })
    }

    /// Attributes whose change forces replacement of a resource of `resource_type`.
    pub fn replace_attributes(&self, resource_type: &str) -> Vec<String> {
        self.replace
            .iter()
            .filter(|(g, _)| g.is_match(resource_type))
            .flat_map(|(_, a)| a.clone())
            .collect()
    }

    /// The risk tier of a diff in an environment, with each resource's tier and the rule that
    /// set it. Pure: the same diff and rules always give the same classification.
    pub fn classify(&self, diff: &Diff, environment: &str) -> Classification {
        let mut resources = Vec::new();
        for c in &diff.changes {
            let hit = self.rules.iter().find(|r| r.matches(c, environment));
            let (tier, rule, reason) = match hit {
                Some(r) => (r.tier, r.id.clone(), r.reason.clone()),
                None => (
                    self.default_tier,
                    "default".to_string(),
                    "no rule matches; the default tier applies".to_string(),
                ),
            };
            resources.push(ResourceTier {
                address: c.address.clone(),
                resource_type: c.resource_type.clone(),
                action: c.action,
                tier,
                rule,
                reason,
            });
        }
        let tier = resources
            .iter()
            .map(|r| r.tier)
            .max()
            .unwrap_or(Tier::Standard);
        Classification {
            environment: environment.to_string(),
            tier,
            resources,
        }
    }
}

impl Rule {
    fn matches(&self, c: &crate::diff::Change, environment: &str) -> bool {
        if let Some(t) = &self.types {
            if !t.is_match(&c.resource_type) {
                return false;
            }
        }
        if let Some(a) = &self.addresses {
            if !a.is_match(&c.address) {
                return false;
            }
        }
        if !self.actions.is_empty() && !self.actions.contains(&c.action) {
            return false;
        }
        if !self.environments.is_empty() && !self.environments.iter().any(|e| e == environment) {
            return false;
        }
        if let Some(attrs) = &self.attributes {
            let ok = if self.all_attributes {
                !c.paths.is_empty() && c.paths.iter().all(|p| attrs.is_match(p))
            } else {
                c.paths.iter().any(|p| attrs.is_match(p))
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceTier {
    pub address: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub action: Action,
    pub tier: Tier,
    pub rule: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub environment: String,
    pub tier: Tier,
    pub resources: Vec<ResourceTier>,
}

impl Classification {
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "{}: tier {} ({} changed resources)\n",
            self.environment,
            self.tier,
            self.resources.len()
        );
        for r in &self.resources {
            out.push_str(&format!(
                "  {:<9} {:<8} {}  [{}: {}]\n",
                r.tier.as_str(),
                r.action.as_str(),
                r.address,
                r.rule,
                r.reason
            ));
        }
        out
    }
}

/// Check that a rules file parses (for tests and the gate).
pub fn validate(text: &str, origin: &str) -> Result<()> {
    RiskRules::parse(text, origin).map(|_| ())
}
