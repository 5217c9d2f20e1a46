//! Secret rotation as data and as evidence: the rotation policy (`governance/rotation.toml`:
//! maximum age per secret kind and data classification, owner group per secret), the secrets
//! an environment's plan declares (`module.secrets`) with their consumers (roles whose policies
//! name the secret's ARN), and every secret's last verified rotation and due date, read from
//! verified `rotation-verification` records. The protocol itself lives in [`crate::rotate`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lz_evidence::record::Kind;
use lz_policy::exceptions::wildcard_match;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::ledger::Record;
use crate::window::rfc3339;

pub const POLICY_FILE: &str = lz_repo::paths::ROTATION;
pub const SECRETS_MODULE: &str = "module.secrets";
pub const CLASSIFICATIONS: [&str; 3] = ["internal", "confidential", "restricted"];
/// The tag in which the secrets module records a secret's rotation schedule (days).
pub const SCHEDULE_TAG: &str = "RotationDays";
/// The tag in which the secrets module records a secret's consumer roles (space-separated).
pub const CONSUMERS_TAG: &str = "ConsumerRoles";

/// The rotation policy.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Policy {
    /// kind -> classification -> days
    pub max_age_days: BTreeMap<String, BTreeMap<String, u32>>,
    /// secret name -> (kind, owner group)
    pub secrets: BTreeMap<String, SecretPolicy>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SecretPolicy {
    pub kind: String,
    pub owner_group: String,
    /// Line of the entry in the policy file.
    #[serde(skip)]
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    max_age_days: BTreeMap<String, toml::Spanned<BTreeMap<String, toml::Spanned<i64>>>>,
    #[serde(default)]
    secret: BTreeMap<String, toml::Spanned<RawSecret>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    kind: toml::Spanned<String>,
    owner_group: toml::Spanned<String>,
}

impl Policy {
    pub fn load(root: &Path) -> Result<Policy> {
        let path = root.join(POLICY_FILE);
        let text = lz_input::read_required(&path, lz_input::purpose(POLICY_FILE))?;
        Policy::parse(&text, POLICY_FILE)
    }

    /// Parses policy text; every error names `origin:line`.
    pub fn parse(text: &str, origin: &str) -> Result<Policy> {
        let raw: RawPolicy = lz_repo::parse_toml(text, origin)?;
        let at = |span: std::ops::Range<usize>| format!("{origin}:{}", lz_repo::line_of(text, span.start));
        let mut policy = Policy::default();
        for (kind, table) in raw.max_age_days {
            let span = table.span();
            let table = table.into_inner();
            let mut days = BTreeMap::new();
            for (class, d) in table {
                if !CLASSIFICATIONS.contains(&class.as_str()) {
                    bail!(
                        "{}: max_age_days.{kind}: {class:?} is not a data classification ({})",
                        at(d.span()),
                        CLASSIFICATIONS.join(", ")
                    );
                }
                let v = *d.get_ref();
                if !(1..=90).contains(&v) {
                    bail!(
                        "{}: max_age_days.{kind}.{class} = {v}: a maximum age is 1 to 90 days",
                        at(d.span())
                    );
                }
                days.insert(class, v as u32);
            }
            if let Some(missing) = CLASSIFICATIONS.iter().find(|c| !days.contains_key(**c)) {
                bail!("{}: max_age_days.{kind} has no {missing} maximum", at(span));
            }
            policy.max_age_days.insert(kind, days);
        }
        for (name, entry) in raw.secret {
            let line = lz_repo::line_of(text, entry.span().start);
            let e = entry.into_inner();
            if !policy.max_age_days.contains_key(e.kind.get_ref()) {
                bail!(
                    "{}: secret {name}: kind {:?} has no [max_age_days.{}] table",
                    at(e.kind.span()),
                    e.kind.get_ref(),
                    e.kind.get_ref()
                );
            }
            if !lz_evidence::identity::GROUPS.contains(&e.owner_group.get_ref().as_str()) {
                bail!(
                    "{}: secret {name}: owner_group {:?} is not one of {}",
                    at(e.owner_group.span()),
                    e.owner_group.get_ref(),
                    lz_evidence::identity::GROUPS.join(", ")
                );
            }
            policy.secrets.insert(
                name,
                SecretPolicy {
                    kind: e.kind.into_inner(),
                    owner_group: e.owner_group.into_inner(),
                    line,
                },
            );
        }
        Ok(policy)
    }

    /// The policy entry of a secret by its full name (`lz-dev/orders/db-credentials`: the last
    /// part names the entry).
    pub fn entry(&self, full_name: &str) -> Option<(&str, &SecretPolicy)> {
        let short = full_name.rsplit('/').next().unwrap_or(full_name);
        self.secrets
            .get_key_value(short)
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn max_age(&self, kind: &str, classification: &str) -> Option<u32> {
        self.max_age_days.get(kind)?.get(classification).copied()
    }
}

/// A secret as an environment's plan declares it, with its policy.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub address: String,
    pub classification: String,
    /// The module's schedule (tag `RotationDays`), when recorded.
    pub schedule_days: Option<u32>,
    pub kind: String,
    pub owner_group: String,
    /// min(policy maximum, module schedule)
    pub max_age_days: u32,
    /// Roles whose inline policies in the plan name the secret's ARN (pattern).
    pub consumers: Vec<Consumer>,
}

/// A role that reads a secret, as the plan declares it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Consumer {
    pub role: String,
    pub address: String,
    pub trust_policy: String,
    /// Inline policy documents of the role in the plan.
    pub policies: Vec<(String, String)>,
    /// Name and document of the permissions boundary, when the plan declares it.
    pub boundary: Option<(String, String)>,
}

fn managed<'a>(plan: &'a Value) -> impl Iterator<Item = (&'a str, &'a str, &'a Value)> {
    plan.get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rc| {
            let address = rc.get("address")?.as_str()?;
            let ty = rc.get("type")?.as_str()?;
            if rc.get("mode").and_then(Value::as_str) != Some("managed") {
                return None;
            }
            Some((
                address,
                ty,
                rc.pointer("/change/after").unwrap_or(&Value::Null),
            ))
        })
}

/// The ARN pattern of a secret as consumers name it (Secrets Manager appends six characters).
pub fn arn_pattern(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-??????")
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The request context conditions are evaluated against: condition key (any case) -> value;
/// an absent key is absent from the request.
pub type RequestContext = BTreeMap<String, String>;

/// A request context from `(key, value)` pairs.
pub fn context(pairs: &[(&str, &str)]) -> RequestContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect()
}

/// Whether a statement's `Condition` block holds in `ctx`: `Some(true|false)` for the operators
/// evaluated here (StringEquals, StringNotEquals, StringLike, StringNotLike, Null), `None` for
/// any other operator, which the caller treats towards "no access".
fn condition_holds(cond: &Value, ctx: &RequestContext) -> Option<bool> {
    let ops = cond.as_object()?;
    let mut all = true;
    for (op, pairs) in ops {
        for (key, vals) in pairs.as_object()? {
            let present = ctx.get(&key.to_ascii_lowercase());
            let wanted = strings(Some(vals));
            let holds = match op.as_str() {
                "StringEquals" => present.is_some_and(|v| wanted.iter().any(|w| w == v)),
                "StringNotEquals" => present.is_none_or(|v| wanted.iter().all(|w| w != v)),
                "StringLike" => present.is_some_and(|v| wanted.iter().any(|w| wildcard_match(w, v))),
                "StringNotLike" => present.is_none_or(|v| wanted.iter().all(|w| !wildcard_match(w, v))),
                "Null" => match vals
                    .as_str()
                    .or_else(|| vals.as_bool().map(|b| if b { "true" } else { "false" }))
                {
                    Some("true") => present.is_none(),
                    Some("false") => present.is_some(),
                    _ => return None,
                },
                _ => return None,
            };
            all &= holds;
        }
    }
    Some(all)
}

/// What a policy document decides for `action` on `resource` in the request context `ctx`:
/// `Some(false)` on an explicit deny, `Some(true)` on an allow, `None` when no statement
/// applies. A condition that cannot be evaluated here never grants an allow and always lets a
/// deny apply, so the answer errs towards "no access".
pub fn decide(
    document: &str,
    action: &str,
    resource: &str,
    ctx: &RequestContext,
) -> Result<Option<bool>> {
    let doc: Value = serde_json::from_str(document).context("a policy document is not JSON")?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let action_lc = action.to_ascii_lowercase();
    let mut allowed = None;
    for s in statements {
        let acts = strings(s.get("Action"));
        let not_acts = strings(s.get("NotAction"));
        let action_hit = if s.get("NotAction").is_some() {
            !not_acts
                .iter()
                .any(|a| wildcard_match(&a.to_ascii_lowercase(), &action_lc))
        } else {
            acts.iter()
                .any(|a| wildcard_match(&a.to_ascii_lowercase(), &action_lc))
        };
        let resource_hit = if s.get("NotResource").is_some() {
            !strings(s.get("NotResource"))
                .iter()
                .any(|r| wildcard_match(r, resource))
        } else {
            strings(s.get("Resource"))
                .iter()
                .any(|r| wildcard_match(r, resource))
        };
        if !(action_hit && resource_hit) {
            continue;
        }
        let holds = match s.get("Condition") {
            None => Some(true),
            Some(c) => condition_holds(c, ctx),
        };
        match (s.get("Effect").and_then(Value::as_str), holds) {
            (Some("Deny"), Some(true) | None) => return Ok(Some(false)),
            (Some("Allow"), Some(true)) => allowed = Some(true),
            _ => {}
        }
    }
    Ok(allowed)
}

/// Whether identity policies capped by a boundary allow `action` on `resource`: an allow in
/// some identity policy, no deny anywhere, and an allow in the boundary when there is one.
pub fn allows(
    identity: &[String],
    boundary: Option<&str>,
    action: &str,
    resource: &str,
    ctx: &RequestContext,
) -> Result<bool> {
    let mut allowed = false;
    for d in identity {
        match decide(d, action, resource, ctx)? {
            Some(false) => return Ok(false),
            Some(true) => allowed = true,
            None => {}
        }
    }
    if let Some(b) = boundary {
        if decide(b, action, resource, ctx)? != Some(true) {
            return Ok(false);
        }
    }
    Ok(allowed)
}

/// Every secret of `module.secrets` in an environment's plan, with its policy and consumers.
/// A secret without a policy entry is an error naming the policy file.
pub fn secrets_of_plan(
    plan: &Value,
    policy: &Policy,
    account: &str,
    region: &str,
) -> Result<Vec<Secret>> {
    let partition = plan
        .pointer("/variables/partition/value")
        .and_then(Value::as_str)
        .unwrap_or("aws");
    let mut roles: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut inline: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut boundaries: BTreeMap<String, String> = BTreeMap::new();
    for (address, ty, after) in managed(plan) {
        match ty {
            "aws_iam_role" => {
                if let Some(n) = after.get("name").and_then(Value::as_str) {
                    roles.insert(n.to_string(), (address.to_string(), after.clone()));
                }
            }
            "aws_iam_role_policy" => {
                if let (Some(role), Some(doc)) = (
                    after.get("role").and_then(Value::as_str),
                    after.get("policy").and_then(Value::as_str),
                ) {
                    inline
                        .entry(role.to_string())
                        .or_default()
                        .push((address.to_string(), doc.to_string()));
                }
            }
            "aws_iam_policy" => {
                if let (Some(n), Some(doc)) = (
                    after.get("name").and_then(Value::as_str),
                    after.get("policy").and_then(Value::as_str),
                ) {
                    boundaries.insert(n.to_string(), doc.to_string());
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let prefix = format!("{SECRETS_MODULE}.aws_secretsmanager_secret.this[");
    for (address, ty, after) in managed(plan) {
        if ty != "aws_secretsmanager_secret" || !address.starts_with(&prefix) {
            continue;
        }
        let name = after
            .get("name")
            .and_then(Value::as_str)
            .with_context(|| format!("{address}: no known name in the plan"))?;
        let tags = after.get("tags").cloned().unwrap_or(Value::Null);
        let classification = tags
            .get("DataClassification")
            .and_then(Value::as_str)
            .unwrap_or("confidential")
            .to_string();
        let schedule_days = tags
            .get(SCHEDULE_TAG)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok());
        let (short, entry) = policy.entry(name).with_context(|| {
            format!(
                "secret {name} ({address}) has no [secret.{}] entry in {POLICY_FILE}",
                name.rsplit('/').next().unwrap_or(name)
            )
        })?;
        let _ = short;
        let max = policy
            .max_age(&entry.kind, &classification)
            .with_context(|| {
                format!(
                    "{POLICY_FILE}: no maximum age for kind {} and classification {classification}",
                    entry.kind
                )
            })?;
        let pattern_arn = arn_pattern(partition, region, account, name);
        // A concrete ARN as Secrets Manager would give it, to test the consumers' patterns.
        let probe =
            format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-AbCdEf");
        let mut consumers = Vec::new();
        for (role, docs) in &inline {
            let names_it = docs.iter().any(|(_, d)| {
                decide(
                    d,
                    "secretsmanager:GetSecretValue",
                    &probe,
                    &RequestContext::new(),
                )
                .ok()
                .flatten()
                .is_some()
                    || d.contains(&pattern_arn)
            });
            if !names_it {
                continue;
            }
            let (role_address, role_after) = roles.get(role).cloned().unwrap_or_default();
            let boundary = role_after
                .get("permissions_boundary")
                .and_then(Value::as_str)
                .and_then(|arn| arn.rsplit('/').next())
                .and_then(|n| boundaries.get(n).map(|d| (n.to_string(), d.clone())));
            consumers.push(Consumer {
                role: role.clone(),
                address: role_address,
                trust_policy: role_after
                    .get("assume_role_policy")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                policies: docs.clone(),
                boundary,
            });
        }
        out.push(Secret {
            name: name.to_string(),
            address: address.to_string(),
            classification,
            schedule_days,
            kind: entry.kind.clone(),
            owner_group: entry.owner_group.clone(),
            max_age_days: schedule_days.map_or(max, |s| s.min(max)),
            consumers,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Details of a rotation-verification record as status reads them.
pub type VerificationDetails = lz_evidence::details::RotationDetails;

/// One secret's rotation status in one environment.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub environment: String,
    pub secret: String,
    pub kind: String,
    pub classification: String,
    pub owner_group: String,
    pub max_age_days: u32,
    /// RFC 3339 time of the last verified rotation, with its record and version.
    pub last_rotation: Option<String>,
    pub record: Option<u64>,
    pub version: Option<String>,
    pub due: Option<String>,
    pub overdue: bool,
    /// Rotation records of this secret that Secrets Manager contradicts (they are not counted):
    /// why, naming each record. Filled by [`crate::rotate::status_of`].
    pub contradicted: Vec<String>,
}

/// The status of every secret of `environment` at `now` from verified records. Each secret is
/// judged by its own last verified rotation: due `max_age_days` after it. A secret never
/// verified-rotated is due `max_age_days` after the environment's first successful deployment
/// (when it came into use), and is not judged before anything is deployed there. Rotating one
/// secret never changes another's status.
pub fn status(
    records: &[Record],
    environment: &str,
    secrets: &[Secret],
    now: OffsetDateTime,
) -> Vec<Status> {
    let verified: Vec<(&Record, &VerificationDetails)> = records
        .iter()
        .filter(|r| {
            r.kind == Kind::RotationVerification && r.environment.as_deref() == Some(environment)
        })
        .filter_map(|r| r.details.rotation().map(|d| (r, d)))
        .filter(|(_, d)| d.outcome == "passed")
        .collect();
    let deployed = records
        .iter()
        .filter(|r| r.kind == Kind::Deployment && r.environment.as_deref() == Some(environment) && r.deployment_outcome() == Some("succeeded"))
        .min_by_key(|r| r.sequence)
        .map(|r| r.time);
    secrets
        .iter()
        .map(|s| {
            let last = verified
                .iter()
                .filter(|(_, d)| d.resource == s.name)
                .max_by_key(|(r, _)| (r.time, r.sequence));
            let max_age = Duration::days(i64::from(s.max_age_days));
            let due = match last {
                Some((r, _)) => Some(r.time + max_age),
                None => deployed.map(|t| t + max_age),
            };
            Status {
                environment: environment.to_string(),
                secret: s.name.clone(),
                kind: s.kind.clone(),
                classification: s.classification.clone(),
                owner_group: s.owner_group.clone(),
                max_age_days: s.max_age_days,
                last_rotation: last.map(|(r, _)| rfc3339(r.time)),
                record: last.map(|(r, _)| r.sequence),
                version: last.map(|(_, d)| d.version.clone()),
                due: due.map(rfc3339),
                overdue: due.is_some_and(|d| now > d),
                contradicted: Vec::new(),
            }
        })
        .collect()
}

/// The gate's offline checks of rotation for the plans of every environment: every secret has a
/// policy entry and its schedule does not exceed its maximum age. Whether one is overdue is
/// the evidence store's business (`lz_gate::evidence`, as `rotation status` judges it),
/// never a local cache's; `_now` is kept for callers.
pub fn gate_findings(
    root: &Path,
    plans: &[(String, Value)],
    _now: OffsetDateTime,
) -> Result<lz_platform::Findings> {
    let mut f = lz_platform::Findings::default();
    let policy = Policy::load(root)?;
    for (env, plan) in plans {
        let e = lz_platform::overlays::env_file(root, env)?;
        let secrets = match secrets_of_plan(plan, &policy, &e.account_id, &e.region) {
            Ok(s) => s,
            Err(err) => {
                f.push(
                    "rotation",
                    Some(PathBuf::from(POLICY_FILE)),
                    None,
                    format!("{env}: {err:#}"),
                );
                continue;
            }
        };
        for s in &secrets {
            let max = policy.max_age(&s.kind, &s.classification).unwrap_or(0);
            if let Some(d) = s.schedule_days {
                if d > max {
                    let line = policy.entry(&s.name).map(|(_, p)| p.line);
                    f.push(
                        "rotation",
                        Some(PathBuf::from(POLICY_FILE)),
                        line,
                        format!("{env}: {} rotates every {d} days, more than the {max} allowed for a {} {} secret", s.name, s.classification, s.kind),
                    );
                }
            }
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_iam_does() {
        for (p, t, want) in [
            ("arn:x:secret:a/b-??????", "arn:x:secret:a/b-AbCdEf", true),
            ("arn:x:secret:a/b-??????", "arn:x:secret:a/b-AbCdE", false),
            ("arn:x:secret:a/b-??????", "arn:x:secret:a/bc-AbCdEf", false),
            ("*", "anything", true),
            ("secretsmanager:*", "secretsmanager:getsecretvalue", true),
            (
                "secretsmanager:get*",
                "secretsmanager:putsecretvalue",
                false,
            ),
        ] {
            assert_eq!(wildcard_match(p, t), want, "{p} {t}");
        }
    }

    #[test]
    fn policy_errors_name_file_and_line() {
        let cases = [
            ("[max_age_days.x]\ninternal = 10\nconfidential = 10\nrestricted = 100\n", "p.toml:4:", "1 to 90 days"),
            ("[max_age_days.x]\ninternal = 10\nconfidential = 10\n", "p.toml:1:", "no restricted maximum"),
            ("[max_age_days.x]\ninternal = 1\nconfidential = 1\nrestricted = 1\n[secret.s]\nkind = \"y\"\nowner_group = \"platform\"\n", "p.toml:6:", "has no [max_age_days.y]"),
            ("[max_age_days.x]\ninternal = 1\nconfidential = 1\nrestricted = 1\n[secret.s]\nkind = \"x\"\nowner_group = \"nobody\"\n", "p.toml:7:", "owner_group"),
            ("[max_age_days.x]\ninternal = 1\nsecret = 1\n", "p.toml:3:", "not a data classification"),
            ("[max_age_days.x\n", "p.toml:1:", ""),
        ];
        for (text, at, what) in cases {
            let e = format!("{:#}", Policy::parse(text, "p.toml").unwrap_err());
            assert!(e.starts_with(at) && e.contains(what), "{e}");
        }
    }

    #[test]
    fn decisions_follow_deny_allow_and_boundary() {
        let allow = r#"{"Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:s:a-??????"]}]}"#;
        let deny =
            r#"{"Statement":[{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*"}]}"#;
        let boundary =
            r#"{"Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#;
        let narrow = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let a = "secretsmanager:GetSecretValue";
        let none = RequestContext::new();
        assert!(allows(&[allow.into()], Some(boundary), a, "arn:s:a-123456", &none).unwrap());
        assert!(!allows(&[allow.into()], Some(narrow), a, "arn:s:a-123456", &none).unwrap());
        assert!(!allows(
            &[allow.into(), deny.into()],
            None,
            a,
            "arn:s:a-123456",
            &none
        )
        .unwrap());
        assert!(!allows(&[allow.into()], None, a, "arn:s:b-123456", &none).unwrap());
        assert!(!allows(&[], Some(boundary), a, "arn:s:a-123456", &none).unwrap());
    }

    #[test]
    fn stage_conditions_keep_consumers_on_awscurrent() {
        // The trading-service task policy: read the secret, never by version id, never another stage.
        let doc = r#"{"Statement":[
            {"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:s:a-??????"]},
            {"Effect":"Deny","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:s:a-??????"],
             "Condition":{"StringNotEquals":{"secretsmanager:VersionStage":"AWSCURRENT"},"Null":{"secretsmanager:VersionStage":"false"}}},
            {"Effect":"Deny","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:s:a-??????"],
             "Condition":{"Null":{"secretsmanager:VersionId":"false"}}}]}"#;
        let a = "secretsmanager:GetSecretValue";
        let r = "arn:s:a-123456";
        // (request context, allowed?)
        let cases: [(&[(&str, &str)], bool); 5] = [
            (&[("secretsmanager:VersionStage", "AWSCURRENT")], true),
            (&[("secretsmanager:VersionStage", "AWSPREVIOUS")], false),
            (&[("secretsmanager:VersionStage", "AWSPENDING")], false),
            (
                &[
                    ("secretsmanager:VersionStage", "AWSCURRENT"),
                    ("secretsmanager:VersionId", "v1"),
                ],
                false,
            ),
            // No stage and no version id: Secrets Manager answers with AWSCURRENT.
            (&[], true),
        ];
        for (ctx, want) in cases {
            assert_eq!(
                allows(&[doc.into()], None, a, r, &context(ctx)).unwrap(),
                want,
                "{ctx:?}"
            );
        }
        // A condition operator not evaluated here never grants and always denies.
        let odd_allow = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}"#;
        let odd_deny = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        let allow = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        assert!(!allows(&[odd_allow.into()], None, a, r, &RequestContext::new()).unwrap());
        assert!(!allows(
            &[allow.into(), odd_deny.into()],
            None,
            a,
            r,
            &RequestContext::new()
        )
        .unwrap());
    }
}
