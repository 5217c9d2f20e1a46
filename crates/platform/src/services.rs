//! The trading services of the overlays (`services` in `environments/<env>/terraform.tfvars`),
//! read with their lines, and the teams that may own them (`governance/teams.toml`).
//!
//! `cargo xtask service list|show` print what [`list`] reads; `cargo xtask check` runs [`check`]:
//! a service's `owner` must be a team, and its `cost_centre` one of that team's.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Structure;
use hcl_edit::Span;
use serde::{Deserialize, Serialize};

use crate::hcl::{self, HclFile};
use crate::{Findings, ENVIRONMENTS};

pub const TEAMS: &str = "governance/teams.toml";

/// The tiers a service may have (`environments/variables.tf` validates the same list).
pub const TIERS: [&str; 3] = ["ingress", "trading", "data"];

/// One team of `governance/teams.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub group: String,
    pub cost_centres: Vec<String>,
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamsFile {
    team: BTreeMap<String, Team>,
}

/// The teams by name.
pub fn teams(root: &Path) -> Result<BTreeMap<String, Team>> {
    let file: TeamsFile = lz_repo::read_toml(&root.join(TEAMS))?;
    for (name, t) in &file.team {
        if lz_input::ids::service(name).is_err() {
            bail!("{TEAMS}: team name {name:?} must be lower-case letters, digits and hyphens");
        }
        if t.cost_centres.is_empty() {
            bail!("{TEAMS}: team {name} names no cost centre");
        }
        if let Some(bad) = t.cost_centres.iter().find(|c| !is_cost_centre(c)) {
            bail!("{TEAMS}: team {name}: cost centre {bad:?} does not look like CC-1234");
        }
    }
    Ok(file.team)
}

pub fn is_cost_centre(s: &str) -> bool {
    s.len() == 7 && s.starts_with("CC-") && s[3..].bytes().all(|b| b.is_ascii_digit())
}

/// A service entry's attributes (defaults of `environments/variables.tf` applied for the
/// optional ones).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Spec {
    pub tier: String,
    pub port: i64,
    pub replicas: i64,
    pub public: bool,
    pub from_tiers: Vec<String>,
    pub egress_ports: Vec<i64>,
    pub secrets: Vec<String>,
    pub owner: Option<String>,
    pub cost_centre: Option<String>,
}

/// One service entry of one overlay, as written.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Service {
    pub environment: String,
    pub name: String,
    #[serde(flatten)]
    pub spec: Spec,
    /// `environments/<env>/terraform.tfvars`, relative to the root.
    pub file: PathBuf,
    /// The line of the entry's name.
    pub line: usize,
}

/// Where an overlay's `services` map is: the parsed file and the byte span of the map's braces
/// (None when the overlay sets no services).
pub struct ServicesMap {
    pub file: HclFile,
    pub span: Option<std::ops::Range<usize>>,
}

pub fn tfvars(root: &Path, env: &str) -> PathBuf {
    root.join("environments").join(env).join("terraform.tfvars")
}

/// The `services` map of one overlay.
pub fn services_map(root: &Path, env: &str) -> Result<ServicesMap> {
    let file = hcl::parse_file(&tfvars(root, env))?;
    let mut span = None;
    for s in file.body.iter() {
        if let Structure::Attribute(a) = s {
            if a.key.as_str() == "services" {
                let Expression::Object(_) = &a.value else {
                    bail!("{}:{}: services must be a map written as {{ ... }}", file.path.display(), file.line_of_span(a));
                };
                span = a.value.span();
            }
        }
    }
    Ok(ServicesMap { file, span })
}

fn key_name(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.as_str().to_string()),
        ObjectKey::Expression(_) => None,
    }
}

/// The services of one environment, in the order written.
/// The entries of a tfvars file's `services` map: name, line and value (none when the file sets
/// no services). A map that is not `{ ... }`, or a key that is not a name, names file:line.
pub fn entries(file: &HclFile) -> Result<Vec<(String, usize, &Expression)>> {
    let Some(attr) = file.body.get_attribute("services") else { return Ok(Vec::new()) };
    let Expression::Object(obj) = &attr.value else {
        bail!("{}:{}: services must be a map written as {{ ... }}", file.path.display(), file.line_of_span(&attr.value));
    };
    obj.iter()
        .map(|(k, v)| {
            let line = k.span().map(|s| file.line_of(s.start)).unwrap_or(1);
            let name = key_name(k).with_context(|| format!("{}:{line}: a service name must be a plain name or a string", file.path.display()))?;
            Ok((name, line, v.expr()))
        })
        .collect()
}

pub fn of_env(root: &Path, env: &str) -> Result<Vec<Service>> {
    let map = services_map(root, env)?;
    let file = &map.file;
    let rel = PathBuf::from("environments").join(env).join("terraform.tfvars");
    let mut out = Vec::new();
    for (name, line, expr) in entries(file)? {
        let at = format!("{}:{line}", rel.display());
        let src = hcl::source_of(file, expr);
        let value: serde_json::Value =
            ::hcl::from_str(&format!("v = {src}\n")).with_context(|| format!("{at}: service {name} is not a literal object"))?;
        let o = value.get("v").and_then(|v| v.as_object()).with_context(|| format!("{at}: service {name} is not an object"))?;
        let text = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let int = |k: &str| o.get(k).and_then(|v| v.as_i64());
        let texts = |k: &str| -> Vec<String> {
            o.get(k)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let ints =
            |k: &str| -> Option<Vec<i64>> { o.get(k).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_i64()).collect()) };
        let spec = Spec {
            tier: text("tier").with_context(|| format!("{at}: service {name} has no tier"))?,
            port: int("port").with_context(|| format!("{at}: service {name} has no port"))?,
            replicas: int("replicas").with_context(|| format!("{at}: service {name} has no replicas"))?,
            public: o.get("public").and_then(|v| v.as_bool()).unwrap_or(false),
            from_tiers: texts("from_tiers"),
            egress_ports: ints("egress_ports").unwrap_or_else(|| vec![443]),
            secrets: texts("secrets"),
            owner: text("owner"),
            cost_centre: text("cost_centre"),
        };
        out.push(Service { environment: env.to_string(), name, spec, file: rel.clone(), line });
    }
    Ok(out)
}

/// Every service of every environment with an overlay, in promotion order.
pub fn list(root: &Path) -> Result<Vec<Service>> {
    let mut out = Vec::new();
    for env in lz_repo::env::present(root)? {
        out.extend(of_env(root, &env)?);
    }
    Ok(out)
}

/// Why an owner / cost centre pair is not allowed, if it is not.
pub fn owner_problem(teams: &BTreeMap<String, Team>, owner: Option<&str>, cost_centre: Option<&str>) -> Option<String> {
    let names = || teams.keys().cloned().collect::<Vec<_>>().join(", ");
    match (owner, cost_centre) {
        (Some(o), cc) => match teams.get(o) {
            None => Some(format!("owner {o:?} is not a team of {TEAMS} (teams: {})", names())),
            Some(t) => cc
                .filter(|c| !t.cost_centres.iter().any(|x| x == c))
                .map(|c| format!("cost_centre {c:?} is not one of team {o}'s cost centres ({})", t.cost_centres.join(", "))),
        },
        (None, Some(c)) if !teams.values().any(|t| t.cost_centres.iter().any(|x| x == c)) => {
            Some(format!("cost_centre {c:?} belongs to no team of {TEAMS}"))
        }
        (None, _) => None,
    }
}

/// The gate's check of service ownership: every `owner` a team, every `cost_centre` the
/// owning team's (or, without an owner, some team's).
pub fn check(root: &Path) -> Result<Findings> {
    let teams = teams(root)?;
    let mut f = Findings::default();
    for env in ENVIRONMENTS {
        if !tfvars(root, env).is_file() {
            continue;
        }
        for s in of_env(root, env)? {
            if let Some(p) = owner_problem(&teams, s.spec.owner.as_deref(), s.spec.cost_centre.as_deref()) {
                f.push("service owner", Some(s.file.clone()), Some(s.line), format!("service {}: {p}", s.name));
            }
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams() -> BTreeMap<String, Team> {
        let t = Team { group: "operations".into(), cost_centres: vec!["CC-5120".into()], description: String::new() };
        BTreeMap::from([("trading-technology".to_string(), t)])
    }

    #[test]
    fn owners_and_cost_centres_are_judged_against_the_teams() {
        let t = teams();
        assert_eq!(owner_problem(&t, None, None), None);
        assert_eq!(owner_problem(&t, Some("trading-technology"), Some("CC-5120")), None);
        assert!(owner_problem(&t, Some("nobody"), None).unwrap().contains("teams: trading-technology"));
        assert!(owner_problem(&t, Some("trading-technology"), Some("CC-9999")).unwrap().contains("CC-5120"));
        assert!(owner_problem(&t, None, Some("CC-9999")).unwrap().contains("belongs to no team"));
        assert!(is_cost_centre("CC-1234") && !is_cost_centre("CC-12345") && !is_cost_centre("cc-1234"));
    }

    #[test]
    fn the_gate_names_the_entry_of_an_owner_that_is_no_team() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("governance")).unwrap();
        std::fs::write(
            d.path().join(TEAMS),
            "[team.trading-technology]\ngroup = \"operations\"\ncost_centres = [\"CC-5120\"]\ndescription = \"t\"\n",
        )
        .unwrap();
        let dev = d.path().join("environments/dev");
        std::fs::create_dir_all(&dev).unwrap();
        let ok = "  good = {\n    tier = \"trading\"\n    port = 8443\n    replicas = 1\n    owner = \"trading-technology\"\n  }\n";
        let bad = "  bad = {\n    tier = \"trading\"\n    port = 8443\n    replicas = 1\n    owner = \"nobody\"\n  }\n";
        std::fs::write(dev.join("terraform.tfvars"), format!("services = {{\n{ok}{bad}}}\n")).unwrap();
        let f = check(d.path()).unwrap();
        assert_eq!(f.0.len(), 1, "{:?}", f.0);
        let only = &f.0[0];
        assert_eq!((only.file.as_deref(), only.line), (Some(Path::new("environments/dev/terraform.tfvars")), Some(8)));
        assert!(only.message.starts_with("service bad: owner \"nobody\" is not a team"), "{}", only.message);
    }
}
