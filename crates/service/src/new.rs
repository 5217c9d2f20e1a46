//! `cargo xtask service new NAME --env ENV ...`: a service entry added to the overlays.
//!
//! Every input is validated before any file is written, and an error names the field and the
//! values it may take. The overlays and `governance/rotation.toml` are then rewritten (the new
//! entry appended to the `services` map, existing text untouched), the approved baselines are
//! brought up to date, and when anything fails after the first write every file is restored.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lz_platform::services::{self, Spec, Team, TIERS};
use serde::Serialize;

pub const ROTATION: &str = "governance/rotation.toml";
/// The team that owns a service that names none (the environment's Owner tag).
pub const DEFAULT_TEAM: &str = "platform-engineering";

/// What the engineer asked for.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub name: String,
    pub envs: Vec<String>,
    pub tier: String,
    pub port: Option<i64>,
    pub replicas: i64,
    pub public: bool,
    pub from_tiers: Option<Vec<String>>,
    pub egress_ports: Option<Vec<i64>>,
    /// (secret name, rotation kind of governance/rotation.toml)
    pub secrets: Vec<(String, String)>,
    pub owner: Option<String>,
    pub cost_centre: Option<String>,
}

/// The entry as it will be written (defaults of the tier filled in).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Entry {
    pub name: String,
    #[serde(flatten)]
    pub spec: Spec,
}

/// The defaults of a tier: port, the tiers allowed in, egress ports.
pub fn tier_defaults(tier: &str) -> (i64, Vec<String>, Vec<i64>) {
    match tier {
        "ingress" => (443, vec![], vec![8443]),
        "data" => (5432, vec!["trading".into()], vec![443]),
        _ => (8443, vec!["trading".into()], vec![443]),
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if !allowed.contains(&value) {
        bail!("{field}: {value:?} is not allowed; allowed values: {}", allowed.join(", "));
    }
    Ok(())
}

/// The rotation kinds (`[max_age_days.<kind>]`) and secret entries (`[secret.<name>]`: kind,
/// line) of governance/rotation.toml.
fn rotation(root: &Path) -> Result<(String, Vec<String>, BTreeMap<String, (String, usize)>)> {
    let path = root.join(ROTATION);
    let text = lz_input::read_text(&path)?;
    let table = lz_repo::parse_toml::<toml::Table>(&text, ROTATION)?;
    let kinds = table.get("max_age_days").and_then(|v| v.as_table()).map(|t| t.keys().cloned().collect()).unwrap_or_default();
    let mut secrets = BTreeMap::new();
    if let Some(t) = table.get("secret").and_then(|v| v.as_table()) {
        for (name, v) in t {
            let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
            let line = lz_repo::line_of(&text, text.find(&format!("[secret.{name}]")).unwrap_or(0));
            secrets.insert(name.clone(), (kind, line));
        }
    }
    Ok((text, kinds, secrets))
}

/// Validates the request against the repository; the entry to write.
pub fn validate(root: &Path, req: &Request, teams: &BTreeMap<String, Team>) -> Result<Entry> {
    lz_input::ids::service(&req.name).map_err(|e| anyhow::anyhow!("NAME: {e}"))?;
    if req.name.len() > 31 {
        bail!("NAME: {:?} is longer than 31 characters (^[a-z][a-z0-9-]{{2,30}}$)", req.name);
    }
    if req.envs.is_empty() {
        bail!("--env: name at least one environment; allowed values: {}", lz_repo::ENVIRONMENTS.join(", "));
    }
    let present = lz_repo::env::present(root)?;
    let present_refs: Vec<&str> = present.iter().map(String::as_str).collect();
    for env in &req.envs {
        one_of("--env", env, &present_refs)?;
        if let Some(s) = services::of_env(root, env)?.into_iter().find(|s| s.name == req.name) {
            bail!("{}:{}: service {} already exists in {env}", s.file.display(), s.line, req.name);
        }
    }
    one_of("--tier", &req.tier, &TIERS)?;
    let (port, from, egress) = tier_defaults(&req.tier);
    let port = req.port.unwrap_or(port);
    if !(1..=65535).contains(&port) {
        bail!("--port: {port} is not a TCP port; allowed values: 1 to 65535");
    }
    if !(1..=20).contains(&req.replicas) {
        bail!("--replicas: {} is not allowed; allowed values: 1 to 20", req.replicas);
    }
    if req.public && !(req.tier == "ingress" && port == 443) {
        bail!("--public: only an ingress-tier service on port 443 may be public (tier {}, port {port})", req.tier);
    }
    let from_tiers = req.from_tiers.clone().unwrap_or(from);
    for t in &from_tiers {
        one_of("--from-tier", t, &TIERS)?;
    }
    let egress_ports = req.egress_ports.clone().unwrap_or(egress);
    if let Some(p) = egress_ports.iter().find(|p| !(1..=65535).contains(*p)) {
        bail!("--egress-port: {p} is not a TCP port; allowed values: 1 to 65535");
    }
    let (_, kinds, existing) = rotation(root)?;
    let kind_refs: Vec<&str> = kinds.iter().map(String::as_str).collect();
    for (secret, kind) in &req.secrets {
        lz_input::ids::secret(secret).map_err(|e| anyhow::anyhow!("--secret: {e}"))?;
        one_of(&format!("--secret {secret}=KIND"), kind, &kind_refs)?;
        if let Some((have, line)) = existing.get(secret) {
            if have != kind {
                bail!("--secret {secret}={kind}: {ROTATION}:{line} already gives secret {secret} kind {have:?}");
            }
        }
    }
    let mut cost_centre = req.cost_centre.clone();
    if let Some(o) = &req.owner {
        if cost_centre.is_none() {
            cost_centre = teams.get(o).and_then(|t| t.cost_centres.first().cloned());
        }
    }
    if let Some(p) = services::owner_problem(teams, req.owner.as_deref(), cost_centre.as_deref()) {
        let field =
            if req.owner.as_ref().is_some_and(|o| teams.contains_key(o)) || req.owner.is_none() { "--cost-centre" } else { "--owner" };
        bail!("{field}: {p}");
    }
    Ok(Entry {
        name: req.name.clone(),
        spec: Spec {
            tier: req.tier.clone(),
            port,
            replicas: req.replicas,
            public: req.public,
            from_tiers,
            egress_ports,
            secrets: req.secrets.iter().map(|(s, _)| s.clone()).collect(),
            owner: req.owner.clone(),
            cost_centre,
        },
    })
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The entry as tfvars text, each line indented by `indent` (the map's items' indentation).
pub fn entry_text(entry: &Entry, indent: &str) -> String {
    let e = &entry.spec;
    let list = |v: Vec<String>| format!("[{}]", v.join(", "));
    let mut fields: Vec<(&str, String)> = vec![("tier", q(&e.tier)), ("port", e.port.to_string()), ("replicas", e.replicas.to_string())];
    if e.public {
        fields.push(("public", "true".into()));
    }
    fields.push(("from_tiers", list(e.from_tiers.iter().map(|t| q(t)).collect())));
    fields.push(("egress_ports", list(e.egress_ports.iter().map(|p| p.to_string()).collect())));
    fields.push(("secrets", list(e.secrets.iter().map(|s| q(s)).collect())));
    if let Some(o) = &e.owner {
        fields.push(("owner", q(o)));
    }
    if let Some(c) = &e.cost_centre {
        fields.push(("cost_centre", q(c)));
    }
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = format!("{indent}{} = {{\n", entry.name);
    for (k, v) in fields {
        let _ = writeln!(out, "{indent}  {k:width$} = {v}");
    }
    let _ = writeln!(out, "{indent}}}");
    out
}

/// The overlay text with the entry appended to its `services` map (or a map added at the end).
pub fn overlay_with(root: &Path, env: &str, e: &Entry) -> Result<String> {
    let map = services::services_map(root, env)?;
    let text = &map.file.text;
    let Some(span) = map.span else {
        let sep = if text.is_empty() || text.ends_with("\n\n") {
            ""
        } else if text.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        return Ok(format!("{text}{sep}services = {{\n{}}}\n", entry_text(e, "  ")));
    };
    let close = span.end - 1;
    let line_start = text[..close].rfind('\n').map(|i| i + 1).unwrap_or(0);
    // Items are indented like the first item; the closing brace's own line keeps its place.
    let body = &text[span.start + 1..close];
    let indent = body
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with(['#', '/']))
        .map(|l| l[..l.len() - l.trim_start().len()].to_string())
        .unwrap_or_else(|| "  ".into());
    let (before, after) = if text[line_start..close].trim().is_empty() {
        (&text[..line_start], &text[line_start..])
    } else {
        // `services = { a = {...} }` on one line: break before the closing brace.
        (&text[..close], &text[close..])
    };
    let nl = if before.ends_with('\n') || before.is_empty() { "" } else { "\n" };
    Ok(format!("{before}{nl}{}{after}", entry_text(e, &indent)))
}

/// `governance/rotation.toml` with entries for the secrets it does not name yet.
fn rotation_with(text: &str, existing: &BTreeMap<String, (String, usize)>, req: &Request, group: &str) -> String {
    let mut out = text.to_string();
    for (secret, kind) in &req.secrets {
        if existing.contains_key(secret) || out.contains(&format!("[secret.{secret}]")) {
            continue;
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
        let _ = write!(
            out,
            "\n# Added for service {} by the service new command.\n[secret.{secret}]\nkind        = {}\nowner_group = {}\n",
            req.name,
            q(kind),
            q(group)
        );
    }
    out
}

/// One file the command changed.
#[derive(Clone, Debug, Serialize)]
pub struct Written {
    pub file: PathBuf,
    /// The line where the addition starts.
    pub line: usize,
}

/// The gates the change will meet in one environment.
#[derive(Clone, Debug, Serialize)]
pub struct Gates {
    pub environment: String,
    /// The plan difference from the approved baseline, as `lz-baseline` prints it.
    pub plan_diff: String,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// Policy findings that fail the gate (after approved exceptions), as `RULE address: message`.
    pub policy_failures: Vec<String>,
    /// For each failing finding, an exception entry to fill in (justification, compensating
    /// control, approver) and add to `governance/exceptions.toml`, if the finding is to be waived
    /// rather than fixed.
    pub exception_stubs: Vec<String>,
    pub tier: String,
    /// The rule that set the tier for the first resource at that tier.
    pub tier_rule: String,
    pub requirement: lz_promote::approval::Requirement,
}

/// What `service new` did.
#[derive(Clone, Debug, Serialize)]
pub struct Added {
    pub entry: Entry,
    pub written: Vec<Written>,
    pub gates: Vec<Gates>,
    /// Baseline snapshots rewritten (relative paths).
    pub baselines: Vec<PathBuf>,
}

/// Adds the service. Nothing is written when validation fails; everything written is restored
/// when rendering the new overlays fails.
pub fn add(root: &Path, req: &Request) -> Result<Added> {
    let teams = services::teams(root)?;
    let entry = validate(root, req, &teams)?;
    let owner_team = req.owner.clone().unwrap_or_else(|| DEFAULT_TEAM.to_string());
    let group = teams.get(&owner_team).map(|t| t.group.clone()).unwrap_or_else(|| "platform".into());
    let (rot_text, _, existing) = rotation(root)?;
    let mut planned: Vec<(PathBuf, String, String)> = Vec::new();
    for env in &req.envs {
        let path = services::tfvars(root, env);
        let old = lz_input::read_text(&path)?;
        let new = overlay_with(root, env, &entry)?;
        lz_platform::hcl::parse_text(&path, new.clone()).context("the rewritten overlay does not parse (nothing was written)")?;
        planned.push((path, old, new));
    }
    let rot_new = rotation_with(&rot_text, &existing, req, &group);
    if rot_new != rot_text {
        planned.push((root.join(ROTATION), rot_text, rot_new));
    }
    let written: Vec<Written> = planned
        .iter()
        .map(|(p, old, new)| {
            let at = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
            Written { file: p.strip_prefix(root).unwrap_or(p).to_path_buf(), line: lz_repo::line_of(new, at) }
        })
        .collect();
    let diffs_before: BTreeMap<String, lz_baseline::Diff> =
        req.envs.iter().map(|e| Ok((e.clone(), lz_baseline::snapshot::env_diff(root, e)?))).collect::<Result<_>>()?;
    let restore = |upto: usize| {
        for (p, old, _) in &planned[..upto] {
            let _ = std::fs::write(p, old);
        }
    };
    for (i, (p, _, new)) in planned.iter().enumerate() {
        if let Err(e) = std::fs::write(p, new) {
            restore(i);
            return Err(e).with_context(|| format!("writing {} (the files written before it were restored)", p.display()));
        }
    }
    let result = (|| -> Result<(Vec<Gates>, Vec<PathBuf>)> {
        let mut gates = Vec::new();
        for env in &req.envs {
            gates.push(gates_of(root, env, diffs_before.get(env))?);
        }
        let updated = lz_baseline::update::update(root, &|_| {})?;
        let baselines = updated.into_iter().filter(|u| u.outcome != lz_baseline::update::Outcome::Unchanged).map(|u| u.file).collect();
        Ok((gates, baselines))
    })();
    match result {
        Ok((gates, baselines)) => Ok(Added { entry, written, gates, baselines }),
        Err(e) => {
            restore(planned.len());
            Err(e.context(format!("service {} was not added: every file written was restored", req.name)))
        }
    }
}

/// The plan difference and the gates of an environment's overlay as it is now on disk.
/// `before`: the difference that was already pending (so it is not counted as the service's).
pub fn gates_of(root: &Path, env: &str, before: Option<&lz_baseline::Diff>) -> Result<Gates> {
    let plan = lz_baseline::snapshot::render_env(root, env)?;
    let diff = lz_baseline::snapshot::env_diff_of(root, env, &plan)?;
    if let Some(b) = before.filter(|b| !b.is_empty()) {
        eprintln!("note: {env}'s baseline already differed from its overlay before this change ({} resources)", b.resources.len());
    }
    let mut opts = lz_policy::Options::for_root(root);
    opts.source = Some(format!("environments/{env}"));
    let report = lz_policy::evaluate(&plan, &opts)?;
    let failing: Vec<&lz_policy::Finding> = report.findings.iter().filter(|f| !f.excepted).collect();
    let policy_failures = failing.iter().map(|f| format!("{} {}: {}", f.rule_id, f.address, f.message)).collect();
    let exception_stubs = failing.iter().map(|f| exception_stub(f, env)).collect();
    let rules = lz_promote::tier::RiskRules::load(root)?;
    let d = lz_promote::diff::Diff::from_baseline_json(&serde_json::to_value(&diff)?, &format!("environments/{env}"), |t| {
        rules.replace_attributes(t)
    })?;
    let c = rules.classify(&d, env);
    let tier_rule = c.resources.iter().find(|r| r.tier == c.tier).map(|r| r.rule.clone()).unwrap_or_else(|| "default".into());
    let requirement = lz_promote::approval::ApprovalPolicy::load(root)?.requirement(c.tier, env);
    Ok(Gates {
        environment: env.to_string(),
        plan_diff: diff.to_text(),
        added: diff.count(lz_baseline::Change::Added),
        changed: diff.count(lz_baseline::Change::Changed),
        removed: diff.count(lz_baseline::Change::Removed),
        policy_failures,
        exception_stubs,
        tier: c.tier.as_str().to_string(),
        tier_rule,
        requirement,
    })
}

/// An exception entry for a finding, with the fields a person must fill in marked FILL-IN (the
/// policy gate fails on the entry until it is filled in and approved).
pub fn exception_stub(f: &lz_policy::Finding, env: &str) -> String {
    format!(
        "[[exception]]\nid                   = \"EXC-FILL-IN\"\nrule_id              = {}\nscope                = {{ environment = {}, address = {} }}\njustification        = \"FILL-IN: why the control cannot be met\"\ncompensating_control = \"FILL-IN: what reduces the risk meanwhile\"\nowner                = \"FILL-IN\"\napprover             = \"FILL-IN (someone other than the owner)\"\nticket               = \"FILL-IN\"\n",
        q(&f.rule_id),
        q(env),
        q(&f.address)
    )
}

/// The approvals a requirement asks for, in words.
pub fn requirement_text(r: &lz_promote::approval::Requirement) -> String {
    if r.break_glass {
        return "only under an open break-glass".into();
    }
    if r.auto_approve || r.approvals == 0 {
        return "no human approval: the change policy approves it automatically".into();
    }
    let mut s = format!("{} approval(s) from {}", r.approvals, r.groups.join(", "));
    if !r.required_groups.is_empty() {
        let _ = write!(s, ", including {}", r.required_groups.join(" and "));
    }
    if r.distinct_groups {
        s.push_str(", each from a different group");
    }
    if r.change_window {
        s.push_str("; inside an open change window");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            name: "fx-pricing".into(),
            spec: Spec {
                tier: "trading".into(),
                port: 8443,
                replicas: 1,
                public: false,
                from_tiers: vec!["trading".into()],
                egress_ports: vec![443],
                secrets: vec!["fx-api-key".into()],
                owner: Some("trading-technology".into()),
                cost_centre: Some("CC-5120".into()),
            },
        }
    }

    #[test]
    fn the_entry_is_aligned_tfvars() {
        let t = entry_text(&entry(), "  ");
        assert_eq!(
            t,
            "  fx-pricing = {\n    tier         = \"trading\"\n    port         = 8443\n    replicas     = 1\n    from_tiers   = [\"trading\"]\n    egress_ports = [443]\n    secrets      = [\"fx-api-key\"]\n    owner        = \"trading-technology\"\n    cost_centre  = \"CC-5120\"\n  }\n"
        );
    }

    fn with_overlay(text: &str) -> (tempfile::TempDir, String) {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("environments/dev");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("terraform.tfvars"), text).unwrap();
        let out = overlay_with(d.path(), "dev", &entry()).unwrap();
        (d, out)
    }

    #[test]
    fn the_entry_goes_before_the_maps_closing_brace_and_keeps_everything_else() {
        let text =
            "a = 1\n\nservices = {\n    old = {\n      tier = \"data\"\n      port = 5432\n      replicas = 1\n    }\n}\n\n# after\n";
        let (d, out) = with_overlay(text);
        assert!(out.starts_with("a = 1\n\nservices = {\n    old = {\n      tier = \"data\"\n      port = 5432\n      replicas = 1\n    }\n    fx-pricing = {\n"), "{out}");
        assert!(out.ends_with("    }\n}\n\n# after\n"), "{out}");
        std::fs::write(d.path().join("environments/dev/terraform.tfvars"), &out).unwrap();
        let read = services::of_env(d.path(), "dev").unwrap();
        assert_eq!(read.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["old", "fx-pricing"]);
        let fx = &read[1];
        assert_eq!(
            (fx.spec.tier.as_str(), fx.spec.port, fx.spec.owner.as_deref(), fx.spec.cost_centre.as_deref(), fx.line),
            ("trading", 8443, Some("trading-technology"), Some("CC-5120"), 9)
        );
    }

    #[test]
    fn a_one_line_map_and_a_missing_map_both_get_the_entry() {
        let (d, out) = with_overlay("services = { a = { tier = \"data\", port = 1, replicas = 1 } }\n");
        std::fs::write(d.path().join("environments/dev/terraform.tfvars"), &out).unwrap();
        assert_eq!(services::of_env(d.path(), "dev").unwrap().len(), 2, "{out}");
        let (_, out) = with_overlay("a = 1\n");
        assert_eq!(out, format!("a = 1\n\nservices = {{\n{}}}\n", entry_text(&entry(), "  ")));
    }

    #[test]
    fn an_exception_stub_is_a_register_entry_with_its_blanks_marked() {
        let f = lz_policy::Finding {
            rule_id: "LZ-NET-003".into(),
            severity: "critical".into(),
            address: "module.service[\"x\"].aws_security_group.this".into(),
            message: "m".into(),
            excepted: false,
            exception_id: None,
            unverifiable: false,
        };
        let stub = exception_stub(&f, "prod");
        let t: toml::Table = toml::from_str(&stub).unwrap();
        let e = &t["exception"].as_array().unwrap()[0];
        assert_eq!(e["rule_id"].as_str(), Some("LZ-NET-003"));
        assert_eq!(e["scope"]["address"].as_str(), Some("module.service[\"x\"].aws_security_group.this"));
        assert_eq!(e["scope"]["environment"].as_str(), Some("prod"));
        for k in ["id", "justification", "compensating_control", "owner", "approver", "ticket"] {
            assert!(e[k].as_str().unwrap().contains("FILL-IN"), "{k}");
        }
    }
}
