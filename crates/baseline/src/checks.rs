//! Invariants of a rendered landing zone plan. Every check returns the violations it found,
//! each naming the resource address and the attribute path.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::view::{module_path, Block, Leaf, PlanView};

#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub address: String,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.address, self.message)
        } else {
            write!(f, "{} {}: {}", self.address, self.path, self.message)
        }
    }
}

fn v(address: &str, path: &str, message: impl Into<String>) -> Violation {
    Violation {
        address: address.into(),
        path: path.into(),
        message: message.into(),
    }
}

/// What a control attribute must hold.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Exactly this JSON value.
    Eq(Value),
    /// Set: known or known after apply, never null or absent.
    Set,
    /// A number of at least this.
    AtLeast(f64),
    /// A number of at most this.
    AtMost(f64),
}

/// A control-bearing attribute: resource type, attribute path, what it must hold.
#[derive(Clone, Debug)]
pub struct Control {
    pub kind: String,
    pub path: String,
    pub expect: Expect,
    /// Not applied in a module whose bucket carries this `Purpose` tag.
    pub except_purpose: Option<String>,
}

#[derive(serde::Deserialize)]
struct Row {
    #[serde(rename = "type")]
    kind: String,
    path: Vec<Value>,
    equals: Option<Value>,
    set: Option<bool>,
    at_least: Option<f64>,
    at_most: Option<f64>,
    except_purpose: Option<String>,
    #[allow(dead_code)]
    rule: String,
}

/// A statement every bucket policy holds (`[[statement]]` of `policies/controls.toml`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "type")]
    pub kind: String,
    pub sid: String,
    pub effect: String,
    /// Condition operator, key and value: `Condition.<operator>["<key>"] = "<value>"`.
    pub operator: String,
    pub key: String,
    pub value: String,
    #[allow(dead_code)]
    rule: String,
}

/// The one opening to the internet a security group may have (`[public_ingress]` of
/// `policies/controls.toml`): this port, in a service of this `Tier` tag.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicIngress {
    pub tier: String,
    pub port: u16,
    #[allow(dead_code)]
    rule: String,
}

#[derive(serde::Deserialize)]
struct Table {
    control: Vec<Row>,
    statement: Vec<Statement>,
    public_ingress: PublicIngress,
}

/// What the checks read from `governance/policy.toml` (the settings the Rego rules read as
/// `data.lz.settings`).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Settings {
    /// Tags every taggable resource carries.
    pub required_tags: Vec<String>,
    /// Types that take tags.
    pub taggable_types: Vec<String>,
    /// Environments whose log archive keeps at least `log_archive_retention_days`.
    pub retention_environments: Vec<String>,
    pub log_archive_retention_days: f64,
    /// Environments whose KMS keys wait `kms_deletion_window_prod` days before deletion.
    pub prod_environments: Vec<String>,
    pub kms_deletion_window_prod: u64,
}

/// The rules the checks apply, read from the repository: the control table
/// (`policies/controls.toml`, which the Rego policies read too) and the policy settings
/// (`governance/policy.toml`). No control value is written in this file.
#[derive(Clone, Debug)]
pub struct Rules {
    pub controls: Vec<Control>,
    pub statements: Vec<Statement>,
    pub public_ingress: PublicIngress,
    pub settings: Settings,
}

impl Rules {
    /// The rules of the tree at `root`; a missing or malformed file is an error naming it.
    pub fn load(root: &Path) -> anyhow::Result<Rules> {
        let controls = root.join(lz_repo::paths::CONTROLS);
        let text = lz_input::read_required(&controls, lz_input::purpose(lz_repo::paths::CONTROLS))?;
        let table = parse_table(&text, &controls.display().to_string())?;
        let settings = root.join(lz_repo::paths::POLICY_SETTINGS);
        let stext = lz_input::read_required(&settings, lz_input::purpose(lz_repo::paths::POLICY_SETTINGS))?;
        let settings: Settings = lz_repo::parse_toml(&stext, &settings.display().to_string())?;
        Ok(Rules { controls: table.0, statements: table.1, public_ingress: table.2, settings })
    }

    /// Tags every taggable resource carries (`required_tags`).
    pub fn mandatory_tags(&self) -> &[String] {
        &self.settings.required_tags
    }

    /// Types that take tags (`taggable_types`); every instance of them must carry the
    /// mandatory tags (and so must any other resource that has a `tags` attribute).
    pub fn taggable(&self) -> &[String] {
        &self.settings.taggable_types
    }
}

fn dotted(path: &[Value]) -> String {
    let mut out = String::new();
    for p in path {
        match p {
            Value::String(s) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(s);
            }
            other => out.push_str(&format!("[{other}]")),
        }
    }
    out
}

type Parsed = (Vec<Control>, Vec<Statement>, PublicIngress);

fn parse_table(text: &str, origin: &str) -> anyhow::Result<Parsed> {
    let table: Table = lz_repo::parse_toml(text, origin)?;
    let controls = table
        .control
        .into_iter()
        .map(|r| {
            let expect = match (r.equals, r.set, r.at_least, r.at_most) {
                (Some(v), None, None, None) => Expect::Eq(v),
                (None, Some(true), None, None) => Expect::Set,
                (None, None, Some(n), None) => Expect::AtLeast(n),
                (None, None, None, Some(n)) => Expect::AtMost(n),
                _ => anyhow::bail!("{origin}: {} {:?} needs exactly one of equals, set, at_least, at_most", r.kind, r.path),
            };
            Ok(Control { kind: r.kind, path: dotted(&r.path), expect, except_purpose: r.except_purpose })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((controls, table.statement, table.public_ingress))
}

/// Parses a control table (the text of `policies/controls.toml`).
pub fn parse_controls(text: &str) -> Result<Vec<Control>, String> {
    parse_table(text, lz_repo::paths::CONTROLS).map(|t| t.0).map_err(|e| format!("{e:#}"))
}

/// Companion resources every bucket must have in its module.
const BUCKET_COMPANIONS: &[&str] = &[
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
];

fn check_expect(b: &Block, path: &str, expect: Expect) -> Option<String> {
    let leaf = b.get(path);
    match (&expect, leaf) {
        (_, None) => Some(format!("is absent, expected {}", describe(&expect))),
        (Expect::Eq(want), Some(l)) => {
            (*l != Leaf::Known(want.clone())).then(|| format!("is {}, expected {want}", l.render()))
        }
        (Expect::Set, Some(Leaf::Known(Value::Null))) => Some("is null, expected a value".into()),
        (Expect::Set, Some(Leaf::Known(Value::String(s)))) if s.is_empty() => Some("is empty, expected a value".into()),
        (Expect::Set, Some(_)) => None,
        (Expect::AtLeast(n), Some(l)) => match l.as_f64() {
            Some(x) if x >= *n => None,
            _ => Some(format!("is {}, expected at least {n}", l.render())),
        },
        (Expect::AtMost(n), Some(l)) => match l.as_f64() {
            Some(x) if x <= *n => None,
            _ => Some(format!("is {}, expected at most {n}", l.render())),
        },
    }
}

fn describe(e: &Expect) -> String {
    match e {
        Expect::Eq(l) => l.to_string(),
        Expect::Set => "a value".into(),
        Expect::AtLeast(n) => format!("at least {n}"),
        Expect::AtMost(n) => format!("at most {n}"),
    }
}

/// The row names a `Purpose` that a bucket in b's module carries.
fn excepted(p: &PlanView, ctl: &Control, b: &Block) -> bool {
    let Some(purpose) = &ctl.except_purpose else {
        return false;
    };
    let m = module_path(&b.address);
    p.of_type("aws_s3_bucket")
        .any(|x| module_path(&x.address) == m && x.get("tags.Purpose").and_then(Leaf::as_str) == Some(purpose.as_str()))
}

/// Every control attribute holds its required value, and the control resources exist.
pub fn controls(r: &Rules, p: &PlanView) -> Vec<Violation> {
    let mut out = Vec::new();
    for ctl in &r.controls {
        for b in p.of_type(&ctl.kind) {
            if excepted(p, ctl, b) {
                continue;
            }
            if let Some(m) = check_expect(b, &ctl.path, ctl.expect.clone()) {
                out.push(v(&b.address, &ctl.path, m));
            }
        }
    }
    for kind in ["aws_cloudtrail", "aws_kms_key", "aws_vpc"] {
        if p.of_type(kind).next().is_none() {
            out.push(v("(plan)", "", format!("has no {kind}")));
        }
    }
    for vpc in p.of_type("aws_vpc") {
        let m = module_path(&vpc.address);
        if !p.of_type("aws_flow_log").any(|f| module_path(&f.address) == m) {
            out.push(v(&vpc.address, "", "has no aws_flow_log in its module"));
        }
    }
    for bucket in p.of_type("aws_s3_bucket") {
        let m = module_path(&bucket.address);
        for comp in BUCKET_COMPANIONS {
            if !p.of_type(comp).any(|x| module_path(&x.address) == m) {
                out.push(v(&bucket.address, "", format!("has no {comp} in its module")));
            }
        }
        if bucket.get("object_lock_enabled") == Some(&Leaf::Known(Value::Bool(true)))
            && !p
                .of_type("aws_s3_bucket_object_lock_configuration")
                .any(|x| module_path(&x.address) == m)
        {
            out.push(v(
                &bucket.address,
                "object_lock_enabled",
                "is true but the module has no object lock configuration",
            ));
        }
    }
    if !p
        .of_type("aws_s3_bucket")
        .any(|b| b.get("object_lock_enabled") == Some(&Leaf::Known(Value::Bool(true))))
    {
        out.push(v(
            "(plan)",
            "",
            "has no bucket with object_lock_enabled = true (log archive)",
        ));
    }
    for st in &r.statements {
        for pol in p.of_type(&st.kind) {
            out.extend(holds_statement(pol, st));
        }
    }
    for role in p.of_type("aws_iam_role") {
        out.extend(mfa(role));
    }
    out
}

/// `policy.Statement[i]` index with `Sid`.
fn statement<'a>(b: &'a Block, doc: &str, sid: &str) -> Option<String> {
    b.attrs.iter().find_map(|(p, l)| {
        let rest = p.strip_prefix(doc)?.strip_prefix(".Statement[")?;
        let (idx, tail) = rest.split_once(']')?;
        (tail == ".Sid" && l.as_str() == Some(sid)).then(|| format!("{doc}.Statement[{idx}]"))
    })
}

/// The policy document of `b` holds `st` (TLS-only access: `DenyInsecureTransport`,
/// `DenyOutdatedTls`).
fn holds_statement(b: &Block, st: &Statement) -> Vec<Violation> {
    let mut out = Vec::new();
    let sid = &st.sid;
    match statement(b, "policy", sid) {
        None => out.push(v(&b.address, "policy.Statement", format!("has no {sid} statement (TLS-only access)"))),
        Some(at) => {
            let effect = format!("{at}.Effect");
            if b.get(&effect).and_then(Leaf::as_str) != Some(st.effect.as_str()) {
                out.push(v(&b.address, &effect, format!("of {sid} must be {:?}", st.effect)));
            }
            let path = format!("{at}.Condition.{}[{:?}]", st.operator, st.key);
            if b.get(&path).and_then(Leaf::as_str) != Some(st.value.as_str()) {
                out.push(v(&b.address, &path, format!("of {sid} must be {:?}", st.value)));
            }
        }
    }
    out
}

/// Human roles require MFA; break-glass requires recent MFA.
fn mfa(b: &Block) -> Vec<Violation> {
    let mut out = Vec::new();
    let sts_role = b
        .under("assume_role_policy")
        .any(|(p, l)| p.ends_with(".Principal.AWS") || (p.contains(".Principal.AWS[") && l.as_str().is_some()));
    let break_glass = b.get("tags.Role").and_then(Leaf::as_str) == Some("break-glass");
    if sts_role || break_glass {
        let present = b
            .under("assume_role_policy")
            .find(|(p, _)| p.ends_with(".Condition.Bool[\"aws:MultiFactorAuthPresent\"]"));
        match present {
            Some((_, l)) if l.as_str() == Some("true") => {}
            Some((p, l)) => out.push(v(&b.address, p, format!("is {}, expected \"true\" (MFA)", l.render()))),
            None => out.push(v(
                &b.address,
                "assume_role_policy.Statement[0].Condition.Bool[\"aws:MultiFactorAuthPresent\"]",
                "is absent: human roles require MFA",
            )),
        }
    }
    if break_glass {
        let age = b
            .under("assume_role_policy")
            .find(|(p, _)| p.ends_with(".Condition.NumericLessThan[\"aws:MultiFactorAuthAge\"]"));
        if age.is_none() {
            out.push(v(
                &b.address,
                "assume_role_policy.Statement[0].Condition.NumericLessThan[\"aws:MultiFactorAuthAge\"]",
                "is absent: break-glass requires recent MFA",
            ));
        }
    }
    out
}

/// Every taggable resource carries the mandatory tags, with `Environment` = `env` and
/// `ManagedBy` = `terraform`.
pub fn tags(r: &Rules, p: &PlanView, env: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    for b in p.resources() {
        let has_tags = b.under("tags").next().is_some();
        if !has_tags && !r.taggable().iter().any(|t| *t == b.kind()) {
            continue;
        }
        for t in r.mandatory_tags().iter().map(String::as_str) {
            let path = format!("tags.{t}");
            match b.get(&path) {
                Some(Leaf::Known(Value::String(s))) if !s.trim().is_empty() => {
                    let want = match t {
                        "Environment" => Some(env),
                        "ManagedBy" => Some("terraform"),
                        _ => None,
                    };
                    if let Some(w) = want.filter(|w| w != s) {
                        out.push(v(&b.address, &path, format!("is {s:?}, expected {w:?}")));
                    }
                }
                Some(Leaf::Unknown) => {}
                Some(l) => out.push(v(
                    &b.address,
                    &path,
                    format!("is {}, expected a non-empty string", l.render()),
                )),
                None => out.push(v(&b.address, &path, "is missing (mandatory tag)")),
            }
        }
    }
    out
}

/// Retention floors that depend on the environment (`governance/policy.toml`): object lock at
/// least `log_archive_retention_days` in the `retention_environments`, KMS deletion window
/// `kms_deletion_window_prod` days in the `prod_environments`.
pub fn env_floors(r: &Rules, p: &PlanView, env: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let s = &r.settings;
    if s.retention_environments.iter().any(|e| e == env) {
        for b in p.of_type("aws_s3_bucket_object_lock_configuration") {
            let path = "rule[0].default_retention[0].days";
            if let Some(m) = check_expect(b, path, Expect::AtLeast(s.log_archive_retention_days)) {
                out.push(v(&b.address, path, format!("{m} in {env}")));
            }
        }
    }
    if s.prod_environments.iter().any(|e| e == env) {
        for b in p.of_type("aws_kms_key") {
            if let Some(m) = check_expect(b, "deletion_window_in_days", Expect::Eq(Value::from(s.kms_deletion_window_prod))) {
                out.push(v(&b.address, "deletion_window_in_days", format!("{m} in {env}")));
            }
        }
    }
    out
}

// ---- network ----

/// An IPv4 CIDR as (network, prefix length).
pub fn parse_cidr(s: &str) -> Option<(u32, u32)> {
    let (ip, len) = s.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    let octets: Vec<u32> = ip
        .split('.')
        .map(|o| o.parse::<u8>().ok().map(u32::from))
        .collect::<Option<_>>()?;
    if octets.len() != 4 {
        return None;
    }
    let addr = octets.iter().fold(0u32, |a, o| (a << 8) | o);
    Some((addr, len))
}

fn range(c: (u32, u32)) -> (u64, u64) {
    let size = 1u64 << (32 - c.1);
    let start = u64::from(c.0) & !(size - 1);
    (start, start + size - 1)
}

pub fn cidrs_overlap(a: (u32, u32), b: (u32, u32)) -> bool {
    let (a0, a1) = range(a);
    let (b0, b1) = range(b);
    a0 <= b1 && b0 <= a1
}

pub fn cidr_contains(outer: (u32, u32), inner: (u32, u32)) -> bool {
    let (o0, o1) = range(outer);
    let (i0, i1) = range(inner);
    outer.1 <= inner.1 && o0 <= i0 && i1 <= o1
}

/// Subnets lie inside their VPC and never overlap; only the ingress tier routes to the
/// internet; trading and data subnets map no public addresses.
pub fn network(p: &PlanView, raw: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let vpcs: Vec<(&Block, (u32, u32))> = p
        .of_type("aws_vpc")
        .filter_map(|b| {
            let c = b.get("cidr_block").and_then(Leaf::as_str).and_then(parse_cidr);
            if c.is_none() {
                out.push(v(&b.address, "cidr_block", "is not a known IPv4 CIDR"));
            }
            c.map(|c| (b, c))
        })
        .collect();
    let subnets: Vec<(&Block, (u32, u32))> = p
        .of_type("aws_subnet")
        .filter_map(|b| {
            let c = b.get("cidr_block").and_then(Leaf::as_str).and_then(parse_cidr);
            if c.is_none() {
                out.push(v(&b.address, "cidr_block", "is not a known IPv4 CIDR"));
            }
            c.map(|c| (b, c))
        })
        .collect();
    for (s, sc) in &subnets {
        let m = module_path(&s.address);
        let inside = vpcs
            .iter()
            .any(|(vb, vc)| module_path(&vb.address) == m && cidr_contains(*vc, *sc));
        if !inside {
            out.push(v(
                &s.address,
                "cidr_block",
                format!(
                    "{} is outside the VPC",
                    s.get("cidr_block").map(Leaf::render).unwrap_or_default()
                ),
            ));
        }
    }
    for (i, (a, ac)) in subnets.iter().enumerate() {
        for (b, bc) in &subnets[i + 1..] {
            if cidrs_overlap(*ac, *bc) {
                out.push(v(
                    &a.address,
                    "cidr_block",
                    format!("overlaps {} cidr_block", b.address),
                ));
            }
        }
    }
    for r in p.of_type("aws_route") {
        let dest4 = r.get("destination_cidr_block").and_then(Leaf::as_str);
        let dest6 = r.get("destination_ipv6_cidr_block").and_then(Leaf::as_str);
        if dest4 != Some("0.0.0.0/0") && dest6 != Some("::/0") {
            continue;
        }
        let refs = config_references(raw, &r.address, "route_table_id");
        let ingress_only = !refs.is_empty()
            && refs.iter().any(|x| x.contains("[\"ingress\"]"))
            && refs.iter().all(|x| !x.contains('[') || x.contains("[\"ingress\"]"));
        if !ingress_only {
            out.push(v(
                &r.address,
                "route_table_id",
                format!("is an internet route on a table other than the ingress tier's (references {refs:?})"),
            ));
        }
    }
    for t in p.of_type("aws_route_table") {
        let tier = t.get("tags.Tier").and_then(Leaf::as_str).unwrap_or("");
        if tier == "ingress" {
            continue;
        }
        for (path, l) in t.under("route") {
            if matches!(l.as_str(), Some("0.0.0.0/0" | "::/0")) {
                out.push(v(&t.address, path, format!("is an internet route in the {tier} tier")));
            }
        }
    }
    out
}

/// The `references` of an attribute expression in the plan's configuration, for a resource
/// address (instance keys ignored).
pub fn config_references(raw: &Value, address: &str, attr: &str) -> Vec<String> {
    let parts = crate::view::split_address_stripped(address);
    let mut module = raw.pointer("/configuration/root_module");
    let mut i = 0;
    while parts.get(i).map(String::as_str) == Some("module") {
        let name = parts.get(i + 1).cloned().unwrap_or_default();
        module = module
            .and_then(|m| m.get("module_calls"))
            .and_then(|c| c.get(&name))
            .and_then(|c| c.get("module"));
        i += 2;
    }
    let local = parts[i..].join(".");
    let Some(res) = module
        .and_then(|m| m.get("resources"))
        .and_then(Value::as_array)
        .and_then(|rs| {
            rs.iter()
                .find(|r| r.get("address").and_then(Value::as_str) == Some(local.as_str()))
        })
    else {
        return Vec::new();
    };
    res.pointer(&format!("/expressions/{attr}/references"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default()
}

// ---- services ----

/// No security group opens 0.0.0.0/0 or ::/0 except the one public ingress of the control
/// table (the ingress tier on 443); names of every resource type are unique.
pub fn services(r: &Rules, p: &PlanView) -> Vec<Violation> {
    let mut out = Vec::new();
    let (public_tier, public_port) = (r.public_ingress.tier.as_str(), f64::from(r.public_ingress.port));
    for sg in p.of_type("aws_security_group") {
        let tier = sg.get("tags.Tier").and_then(Leaf::as_str).unwrap_or("");
        for (path, l) in sg.under("ingress") {
            if !matches!(l.as_str(), Some("0.0.0.0/0" | "::/0")) {
                continue;
            }
            let rule = path.split_once("].").map(|(r, _)| format!("{r}]")).unwrap_or_default();
            let port = |k: &str| sg.get(&format!("{rule}.{k}")).and_then(Leaf::as_f64);
            let ok = tier == public_tier && port("from_port") == Some(public_port) && port("to_port") == Some(public_port);
            if !ok {
                out.push(v(
                    &sg.address,
                    path,
                    format!("opens {} outside the {public_tier} tier's {public_port} (tier {tier:?})", l.render()),
                ));
            }
        }
    }
    for kind in ["aws_vpc_security_group_ingress_rule", "aws_security_group_rule"] {
        for r in p.of_type(kind) {
            for (path, l) in r.attrs.iter() {
                if matches!(l.as_str(), Some("0.0.0.0/0" | "::/0")) {
                    out.push(v(
                        &r.address,
                        path,
                        "opens the internet through a separate rule resource",
                    ));
                }
            }
        }
    }
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for b in p.resources() {
        let kind = b.kind();
        // Inline role policies are named per role, not per account.
        if kind == "aws_iam_role_policy" {
            continue;
        }
        let attr = if kind == "aws_s3_bucket" { "bucket" } else { "name" };
        if let Some(Leaf::Known(Value::String(n))) = b.get(attr) {
            if let Some(first) = seen.insert((kind.clone(), n.clone()), b.address.clone()) {
                out.push(v(&b.address, attr, format!("{n:?} is also the {attr} of {first}")));
            }
        }
    }
    out
}

// ---- comparisons between environments ----

/// How an allow-listed variable may change the plan: resource type, address glob, attribute
/// path glob (`*` matches anything). A difference between two environments' plans is
/// explained when a variable whose value differs between them has a matching entry.
///
/// `environment`, `account_id` and `region` name things; before comparing, every string
/// (values, addresses and paths) has their values replaced by `${environment}` (wherever the
/// environment name is a whole word), `${account_id}` and `${region}` (also in the
/// title-case form a KMS statement id uses). So they explain only the differences
/// that remain after that, listed here.
pub const INFLUENCE: &[(&str, &[(&str, &str, &str)])] = &[
    ("environment", &[("*", "*", "tags.Environment")]),
    ("account_id", &[]),
    (
        "region",
        &[
            // The log archive's replica lives in the other region of the residency set
            // (environments/locals.tf): its region, its access-log bucket's name and the
            // ARNs naming them follow the environment's region.
            ("*", "module.access_logs_replica.*", "bucket"),
            ("*", "module.access_logs_replica.*", "region"),
            ("*", "module.access_logs_replica.*", "tags.Name"),
            // `tags_all` is `tags` merged with the provider's default tags (schema view).
            ("*", "module.access_logs_replica.*", "tags_all.Name"),
            ("*", "module.access_logs_replica.*", "policy.*"),
            ("*", "module.log_archive.*", "region"),
            ("aws_s3_bucket_logging", "module.log_archive.*", "target_bucket"),
            ("aws_iam_role", "module.log_archive.*", "description"),
            ("aws_iam_role_policy", "module.log_archive.*", "policy.*"),
            ("aws_s3_bucket_replication_configuration", "module.log_archive.*", "rule[*].id"),
        ],
    ),
    (
        "vpc_cidr",
        &[
            ("aws_vpc", "*", "cidr_block"),
            ("aws_subnet", "*", "cidr_block"),
            ("aws_security_group", "*", "ingress[*].cidr_blocks*"),
            ("aws_security_group", "*", "egress[*].cidr_blocks*"),
            ("output", "output.subnet_cidrs", "*"),
        ],
    ),
    (
        "azs",
        &[
            ("aws_subnet", "module.network.aws_subnet.this[*", "*"),
            (
                "aws_route_table_association",
                "module.network.aws_route_table_association.this[*",
                "*",
            ),
            ("aws_security_group", "*", "ingress[*].cidr_blocks*"),
            ("output", "output.subnet_cidrs", "*"),
            ("output", "output.subnet_ids", "*"),
        ],
    ),
    (
        "log_archive_retention_days",
        &[
            (
                "aws_s3_bucket_object_lock_configuration",
                "module.log_archive.*",
                "rule[0].default_retention[0].days",
            ),
            (
                "aws_s3_bucket_lifecycle_configuration",
                "module.log_archive.*",
                "rule[*].noncurrent_version_expiration[*].noncurrent_days",
            ),
        ],
    ),
    (
        "log_retention_days",
        &[("aws_cloudwatch_log_group", "*", "retention_in_days")],
    ),
    (
        "kms_deletion_window_in_days",
        &[("aws_kms_key", "*", "deletion_window_in_days")],
    ),
    (
        "services",
        &[
            ("*", "module.service[*", "*"),
            (
                "aws_secretsmanager_secret",
                "module.secrets.aws_secretsmanager_secret.this[*",
                "*",
            ),
            ("output", "output.services", "*"),
            ("output", "output.secret_arns", "*"),
        ],
    ),
    (
        "trusted_principals",
        &[(
            "aws_iam_role",
            "module.identity.*",
            "assume_role_policy.Statement[*].Principal.AWS*",
        )],
    ),
];

pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else { return false };
            rest = &rest[pos + part.len()..];
        }
    }
    true
}

/// Whether a change at (kind, address, path) is explained by one of `vars`.
pub fn explained_by(vars: &BTreeSet<String>, kind: &str, address: &str, path: &str) -> bool {
    INFLUENCE
        .iter()
        .filter(|(var, _)| vars.contains(*var))
        .any(|(_, pats)| {
            pats.iter()
                .any(|(k, a, pth)| (*k == "*" || *k == kind) && glob(a, address) && glob(pth, path))
        })
}

/// The root variables of a plan (`variables.<name>.value`).
pub fn plan_variables(raw: &Value) -> BTreeMap<String, Value> {
    raw.get("variables")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, x)| (k.clone(), x.get("value").cloned().unwrap_or(Value::Null)))
                .collect()
        })
        .unwrap_or_default()
}

fn title_no_dash(s: &str) -> String {
    s.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Replace the naming variables' values by placeholders (see [`INFLUENCE`]).
pub fn templated(p: &PlanView, vars: &BTreeMap<String, Value>) -> PlanView {
    let get = |k: &str| vars.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (env, account, region) = (get("environment"), get("account_id"), get("region"));
    let env_word =
        (!env.is_empty()).then(|| regex::Regex::new(&format!(r"\b{}\b", regex::escape(&env))).expect("escaped regex"));
    let sub = |s: &str| -> String {
        if !env.is_empty() && s == env {
            return "${environment}".into();
        }
        let mut t = s.to_string();
        if !account.is_empty() {
            t = t.replace(&account, "${account_id}");
        }
        if !region.is_empty() {
            t = t
                .replace(&region, "${region}")
                .replace(&title_no_dash(&region), "${region_title}");
        }
        if let Some(re) = &env_word {
            t = re.replace_all(&t, "$${environment}").into_owned();
        }
        t
    };
    let mut blocks: Vec<Block> = p
        .blocks
        .iter()
        .map(|b| {
            Block::new(
                sub(&b.address),
                b.action.clone(),
                b.attrs
                    .iter()
                    .map(|(path, l)| {
                        let l = match l {
                            Leaf::Known(Value::String(s)) => Leaf::Known(Value::String(sub(s))),
                            other => other.clone(),
                        };
                        (sub(path), l)
                    })
                    .collect(),
            )
        })
        .collect();
    blocks.sort_by(|a, b| a.address.cmp(&b.address));
    PlanView { blocks }
}

/// Two environments' plans differ only where an allow-listed variable whose value differs
/// explains it. `allowlisted` names the variables an overlay may set.
pub fn explained(a: (&PlanView, &Value), b: (&PlanView, &Value), allowlisted: &BTreeSet<String>) -> Vec<Violation> {
    let (va, vb) = (plan_variables(a.1), plan_variables(b.1));
    let differing: BTreeSet<String> = va
        .keys()
        .chain(vb.keys())
        .filter(|k| va.get(*k) != vb.get(*k))
        .filter(|k| allowlisted.contains(*k))
        .cloned()
        .collect();
    let d = crate::diff::diff(&templated(a.0, &va), &templated(b.0, &vb));
    let mut out = Vec::new();
    for r in d.resources.iter().chain(&d.outputs) {
        for at in &r.attributes {
            if !explained_by(&differing, &r.kind, &r.address, &at.path) {
                let show = |x: &Option<Value>| x.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into());
                out.push(v(
                    &r.address,
                    &at.path,
                    format!("differs ({} -> {}) and no differing allow-listed variable explains it (differing: {differing:?})", show(&at.old), show(&at.new)),
                ));
            }
        }
    }
    out
}

/// Every resource type and every control attribute present in `lower` is present in `higher`.
pub fn superset(r: &Rules, lower: &PlanView, higher: &PlanView) -> Vec<Violation> {
    let mut out = Vec::new();
    let types = |p: &PlanView| p.resources().map(Block::kind).collect::<BTreeSet<_>>();
    let (lt, ht) = (types(lower), types(higher));
    for t in lt.difference(&ht) {
        out.push(v(t, "", "resource type is present in the lower environment only"));
    }
    for ctl in &r.controls {
        let has = |p: &PlanView| p.of_type(&ctl.kind).any(|b| b.get(&ctl.path).is_some());
        if has(lower) && !has(higher) {
            out.push(v(
                &ctl.kind,
                &ctl.path,
                "control is present in the lower environment only",
            ));
        }
    }
    out
}

/// Retention and deletion-window settings (minimum over instances) of one plan.
pub fn retention_settings(p: &PlanView) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    let mut put = |k: String, x: f64| {
        let e = out.entry(k).or_insert(x);
        *e = e.min(x);
    };
    for b in p.resources() {
        let kind = b.kind();
        for (path, l) in &b.attrs {
            let interesting = matches!(
                (kind.as_str(), path.as_str()),
                ("aws_kms_key", "deletion_window_in_days")
                    | ("aws_cloudwatch_log_group", "retention_in_days")
                    | ("aws_secretsmanager_secret", "recovery_window_in_days")
                    | (
                        "aws_s3_bucket_object_lock_configuration",
                        "rule[0].default_retention[0].days"
                    )
            ) || (kind == "aws_s3_bucket_lifecycle_configuration"
                && path.ends_with("noncurrent_version_expiration[0].noncurrent_days"));
            if let (true, Some(x)) = (interesting, l.as_f64()) {
                put(format!("{kind} {path}"), x);
            }
        }
    }
    out
}

/// Retention settings never decrease along the chain (in promotion order).
pub fn non_decreasing(chain: &[(&str, &PlanView)]) -> Vec<Violation> {
    let mut out = Vec::new();
    for w in chain.windows(2) {
        let (lo, hi) = (retention_settings(w[0].1), retention_settings(w[1].1));
        for (k, x) in &lo {
            match hi.get(k) {
                Some(y) if y >= x => {}
                Some(y) => out.push(v(
                    k,
                    "",
                    format!("decreases from {x} in {} to {y} in {}", w[0].0, w[1].0),
                )),
                None => out.push(v(k, "", format!("is set in {} but absent in {}", w[0].0, w[1].0))),
            }
        }
    }
    out
}

/// All single-plan invariants of an environment's plan.
pub fn single(r: &Rules, env: &str, raw: &Value) -> Vec<Violation> {
    let p = crate::view::view(raw);
    let mut out = controls(r, &p);
    out.extend(tags(r, &p, env));
    out.extend(env_floors(r, &p, env));
    out.extend(network(&p, raw));
    out.extend(services(r, &p));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_math() {
        let vpc = parse_cidr("10.10.0.0/16").unwrap();
        let a = parse_cidr("10.10.16.0/20").unwrap();
        let b = parse_cidr("10.10.0.0/20").unwrap();
        assert!(cidr_contains(vpc, a) && cidr_contains(vpc, b));
        assert!(!cidrs_overlap(a, b));
        assert!(cidrs_overlap(vpc, a));
        assert!(!cidr_contains(vpc, parse_cidr("10.11.0.0/20").unwrap()));
        assert!(parse_cidr("10.300.0.0/16").is_none());
    }

    #[test]
    fn globs() {
        assert!(glob("module.service[*", "module.service[\"a\"].aws_iam_role.task"));
        assert!(glob("ingress[*].cidr_blocks*", "ingress[1].cidr_blocks[0]"));
        assert!(!glob("tags.Environment", "tags.Owner"));
        assert!(glob("*", ""));
    }

    /// The checks apply the rules of the tree they are given: the same plan passes under the
    /// repository's `governance/policy.toml` and `policies/controls.toml` and fails, naming
    /// the changed value, under a copy where each was raised.
    #[test]
    fn the_rules_come_from_the_root_they_are_given() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let plan = serde_json::json!({"resource_changes": [
            {"address": "module.log_archive.aws_s3_bucket_object_lock_configuration.this",
             "change": {"actions": ["create"], "after": {"rule": [{"default_retention": [{"days": 2190}]}]}}},
            {"address": "module.kms.aws_kms_key.this", "change": {"actions": ["create"], "after": {"deletion_window_in_days": 30}}},
            {"address": "aws_s3_bucket_policy.b", "change": {"actions": ["create"], "after": {"policy": serde_json::json!({"Statement": [
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}
            ]}).to_string()}}},
            {"address": "aws_security_group.web", "change": {"actions": ["create"], "after": {"tags": {"Tier": "ingress"},
             "ingress": [{"from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}]}}}
        ]});
        let p = crate::view::view(&plan);
        let run = |r: &Rules| {
            let mut out = env_floors(r, &p, "prod");
            out.extend(services(r, &p));
            out.extend(p.of_type("aws_s3_bucket_policy").flat_map(|b| r.statements.iter().flat_map(|st| holds_statement(b, st))).collect::<Vec<_>>());
            out.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        let here = Rules::load(&repo).unwrap();
        assert_eq!(run(&here), Vec::<String>::new());

        let copy = tempfile::tempdir().unwrap();
        for rel in [lz_repo::paths::CONTROLS, lz_repo::paths::POLICY_SETTINGS] {
            let text = std::fs::read_to_string(repo.join(rel)).unwrap();
            let text = text
                .replace("log_archive_retention_days = 2190", "log_archive_retention_days = 3000")
                .replace("kms_deletion_window_prod = 30", "kms_deletion_window_prod = 21")
                .replace("value = \"1.2\"", "value = \"1.3\"")
                .replace("port = 443", "port = 8443");
            std::fs::create_dir_all(copy.path().join(rel).parent().unwrap()).unwrap();
            std::fs::write(copy.path().join(rel), text).unwrap();
        }
        let there = run(&Rules::load(copy.path()).unwrap()).join("\n");
        for want in ["expected at least 3000 in prod", "expected 21 in prod", "of DenyOutdatedTls must be \"1.3\"", "outside the ingress tier's 8443"] {
            assert!(there.contains(want), "{want}:\n{there}");
        }

        std::fs::remove_file(copy.path().join(lz_repo::paths::POLICY_SETTINGS)).unwrap();
        let e = Rules::load(copy.path()).unwrap_err().to_string();
        assert!(e.starts_with("missing ") && e.contains("governance/policy.toml"), "{e}");
    }

    #[test]
    fn no_control_is_explained_by_an_allowlisted_variable_except_retention_floors() {
        let all: BTreeSet<String> = INFLUENCE.iter().map(|(k, _)| k.to_string()).collect();
        let rules = Rules::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap();
        for ctl in &rules.controls {
            if matches!(ctl.expect, Expect::AtLeast(_) | Expect::AtMost(_)) {
                continue;
            }
            assert!(
                !explained_by(&all, &ctl.kind, "module.x.r", &ctl.path),
                "control {} {} is reachable from an allow-listed variable",
                ctl.kind,
                ctl.path
            );
        }
    }
}
