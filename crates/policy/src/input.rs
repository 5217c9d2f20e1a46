//! Plan input as Terraform users produce it: decoding (UTF-8 with or without a byte-order
//! mark, UTF-16 LE/BE with one, as PowerShell's `>` writes), recognising what a JSON document
//! is (a plan of any format version Terraform 0.12+ writes, or a state file, a state shown as
//! JSON, or something else, which are refused), and the one normalized plan form that
//! `cargo xtask plan --out` writes and `policy --plan` reads back to the same answer.
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

use crate::doc::Doc;

/// Plan format versions written by Terraform 0.12 and later (`terraform show -json PLAN`).
/// 0.1: 0.12-0.14; 0.2: 0.15; 1.0: 1.0-1.1; 1.1: 1.2; 1.2: 1.3 and later.
pub const PLAN_FORMATS: [&str; 5] = ["0.1", "0.2", "1.0", "1.1", "1.2"];

/// Top-level keys the normalized form keeps beside the canonical plan
/// (`tfrender::normalize`): what policies and scanners such as checkov read.
pub const KEEP_FOR_POLICY: [&str; 2] = ["terraform_version", "configuration"];

/// Decodes plan file bytes to text: UTF-8 (a leading BOM is dropped) or UTF-16 LE/BE with
/// a BOM. Errors name the file.
pub fn decode(bytes: &[u8], name: &str) -> Result<String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(lz_input::decode_utf8(rest.to_vec(), name)?);
    }
    let utf16 = |rest: &[u8], le: bool, label: &str| -> Result<String> {
        if rest.len() % 2 != 0 {
            bail!("{name}: {label} text has an odd number of bytes");
        }
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| anyhow!("{name}: invalid {label} text: {e}"))
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true, "UTF-16 LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false, "UTF-16 BE");
    }
    lz_input::decode_utf8(bytes.to_vec(), name)
        .map_err(|e| anyhow!("{e} (or UTF-16 with a byte-order mark)"))
}

/// [`decode`] of bytes the caller hands over: UTF-8 text without a byte-order mark becomes the
/// text in place, without a second copy of the file (the peak memory of `policy --plan`).
pub fn decode_owned(bytes: Vec<u8>, name: &str) -> Result<String> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) || bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return decode(&bytes, name);
    }
    lz_input::decode_utf8(bytes, name).map_err(|e| anyhow!("{e} (or UTF-16 with a byte-order mark)"))
}

/// What a JSON document is, as far as plan input is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `terraform show -json PLANFILE` output of the given format version.
    Plan(String),
    /// A raw state file (`terraform.tfstate`, `terraform state pull`) of the given version.
    StateFile(String),
    /// `terraform show -json` without a plan file: the current state as JSON.
    StateJson(String),
    /// Plan-shaped, but of a format version Terraform 0.12+ does not write.
    UnsupportedPlan(String),
    /// Anything else.
    Other(String),
}

fn text_of<D: Doc>(v: Option<&D>) -> String {
    match v {
        Some(v) => v.as_str().map(str::to_string).or_else(|| v.number_text()).unwrap_or_else(|| "?".to_string()),
        None => "?".to_string(),
    }
}

/// Classifies a parsed JSON document.
pub fn classify<D: Doc>(v: &D) -> Kind {
    if !v.is_object() {
        return Kind::Other(format!("a JSON {}, not an object", json_type(v)));
    }
    let m = v;
    let has = |k: &str| m.get(k).is_some();
    if has("lineage") || (has("serial") && (has("resources") || has("modules"))) {
        return Kind::StateFile(text_of(m.get("version")));
    }
    let plan_keys = [
        "resource_changes",
        "planned_values",
        "output_changes",
        "resource_drift",
    ];
    if has("format_version") && plan_keys.iter().any(|k| has(k)) {
        let fv = text_of(m.get("format_version"));
        let major_minor_known = PLAN_FORMATS.contains(&fv.as_str())
            || fv.split('.').next() == Some("1")
                && fv
                    .split('.')
                    .nth(1)
                    .is_some_and(|x| x.parse::<u32>().is_ok());
        return if major_minor_known {
            Kind::Plan(fv)
        } else {
            Kind::UnsupportedPlan(fv)
        };
    }
    let only_versions = m
        .entries()
        .all(|(k, _)| k == "format_version" || k == "terraform_version");
    if has("format_version") && (has("values") || only_versions) {
        return Kind::StateJson(text_of(m.get("format_version")));
    }
    if has("format_version") && has("provider_schemas") {
        return Kind::Other("provider schemas (`terraform providers schema -json`)".into());
    }
    if has("format_version") && (has("configuration") || has("variables")) {
        // A plan without changes: Terraform 0.12 omits resource_changes when nothing changes.
        return Kind::Plan(text_of(m.get("format_version")));
    }
    let mut keys: Vec<&str> = m.entries().map(|(k, _)| k).take(5).collect();
    keys.sort();
    Kind::Other(if keys.is_empty() {
        "an empty JSON object".to_string()
    } else {
        format!("a JSON object with keys {}", keys.join(", "))
    })
}

fn json_type<D: Doc>(v: &D) -> &'static str {
    v.type_name()
}

/// A JSON syntax error of plan text named `name`, with its line and column.
pub(crate) fn json_error(e: &serde_json::Error, name: &str) -> anyhow::Error {
    if e.to_string().starts_with("recursion limit exceeded") {
        anyhow!(
            "{name}:{}:{}: JSON nested deeper than {} levels (MAX_JSON_DEPTH); see README, Limits",
            e.line(),
            e.column(),
            lz_input::limits::MAX_JSON_DEPTH
        )
    } else {
        anyhow!("{name}:{}:{}: invalid plan JSON: {e}", e.line(), e.column())
    }
}

/// Parses plan text (already decoded): JSON errors name file:line:col; a document that is
/// not a plan is refused with what it is.
pub fn parse(text: &str, name: &str) -> Result<Value> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(&e, name))?;
    match classify(&value) {
        Kind::Plan(_) => {
            // The limit first: it is named before any work on the entries.
            let n = value.get("resource_changes").and_then(Value::as_array).map_or(0, Vec::len);
            if n > lz_input::limits::MAX_RESOURCES {
                bail!(
                    "{name}: {n} resource changes is over the limit of {} (MAX_RESOURCES); see README, Limits",
                    lz_input::limits::MAX_RESOURCES
                );
            }
            check_shape(&value).map_err(|e| {
                // The line and column of the value named (the path is the message's start).
                let path = e.split(" is ").next().unwrap_or_default();
                match crate::locate::line_col(text, &value, path) {
                    Some((line, col)) => anyhow!("{name}:{line}:{col}: the plan is malformed: {e}"),
                    None => anyhow!("{name}: the plan is malformed: {e}"),
                }
            })?;
            Ok(value)
        }
        Kind::StateFile(v) => bail!(
            "{name}:1:1: this is a Terraform state file (state version {v}), not a plan: write the plan with `terraform plan -out=tfplan` and `terraform show -json tfplan`"
        ),
        Kind::StateJson(v) => bail!(
            "{name}:1:1: this is Terraform state shown as JSON (format {v}, `terraform show -json` without a plan file), not a plan: run `terraform show -json tfplan` on a saved plan"
        ),
        Kind::UnsupportedPlan(v) => bail!(
            "{name}:1:1: plan format version {v} is not one Terraform 0.12 or later writes (supported: {})",
            PLAN_FORMATS.join(", ")
        ),
        Kind::Other(what) => bail!(
            "{name}:1:1: not a Terraform plan (`terraform show -json` of a saved plan): {what}"
        ),
    }
}

/// Checks the types of what the policies read from a plan, as Terraform writes them, so a
/// plan-shaped document with wrong types is refused saying where (a JSON path such as
/// `resource_changes[2].change.actions`) instead of failing inside the policy evaluator or,
/// worse, being read as a plan without resources. Absent parts are allowed (plans of older
/// format versions omit some).
pub fn check_shape<D: Doc>(plan: &D) -> Result<(), String> {
    if !plan.is_object() {
        return Err(format!("the document is a JSON {}, expected an object", json_type(plan)));
    }
    let top = plan;
    for key in ["planned_values", "output_changes", "prior_state"] {
        optional(top, key, key, "an object", D::is_object)?;
    }
    if let Some(changes) = optional(top, "resource_changes", "resource_changes", "an array", D::is_array)? {
        for (i, rc) in changes.items().iter().enumerate() {
            let at = format!("resource_changes[{i}]");
            if !rc.is_object() {
                return Err(wrong(&at, rc, "an object"));
            }
            for key in ["address", "type", "name"] {
                required(rc, key, &format!("{at}.{key}"), "a string", D::is_string)?;
            }
            for key in ["mode", "module_address"] {
                optional(rc, key, &format!("{at}.{key}"), "a string", D::is_string)?;
            }
            let change = required(rc, "change", &format!("{at}.change"), "an object", D::is_object)?;
            let actions = required(change, "actions", &format!("{at}.change.actions"), "an array", D::is_array)?;
            for (j, a) in actions.items().iter().enumerate() {
                if !a.is_string() {
                    return Err(wrong(&format!("{at}.change.actions[{j}]"), a, "a string"));
                }
            }
            for key in ["before", "after"] {
                optional_or_null(change, key, &format!("{at}.change.{key}"), "an object", D::is_object)?;
            }
            for key in ["after_unknown", "after_sensitive", "before_sensitive"] {
                optional(change, key, &format!("{at}.change.{key}"), "an object or a boolean", |v| v.is_object() || v.is_boolean())?;
            }
        }
    }
    if let Some(vars) = optional(top, "variables", "variables", "an object", D::is_object)? {
        for (k, v) in vars.entries() {
            if !v.is_object() {
                return Err(wrong(&format!("variables.{k}"), v, "an object"));
            }
        }
    }
    if let Some(cfg) = optional(top, "configuration", "configuration", "an object", D::is_object)? {
        if let Some(providers) = optional(cfg, "provider_config", "configuration.provider_config", "an object", D::is_object)? {
            for (k, p) in providers.entries() {
                let at = format!("configuration.provider_config.{k}");
                if !p.is_object() {
                    return Err(wrong(&at, p, "an object"));
                }
                optional(p, "expressions", &format!("{at}.expressions"), "an object", D::is_object)?;
                optional(p, "module_address", &format!("{at}.module_address"), "a string", D::is_string)?;
            }
        }
        if let Some(root) = optional(cfg, "root_module", "configuration.root_module", "an object", D::is_object)? {
            module_shape(root, "configuration.root_module", 0)?;
        }
        references_shape(cfg, "configuration", 0)?;
    }
    Ok(())
}

/// Every `references` list of the configuration (resource, module call, provider and output
/// expressions, at any depth of nested blocks) holds strings: the policies trace links by them.
fn references_shape<D: Doc>(v: &D, at: &str, depth: usize) -> Result<(), String> {
    if depth > 128 {
        return Err(format!("{at}: nested more than 128 deep"));
    }
    match v.kind() {
        crate::doc::Type::Object => {
            for (k, x) in v.entries() {
                let here = format!("{at}.{k}");
                if k == "references" {
                    if !x.is_array() {
                        return Err(wrong(&here, x, "an array"));
                    }
                    for (i, r) in x.items().iter().enumerate() {
                        if !r.is_string() {
                            return Err(wrong(&format!("{here}[{i}]"), r, "a string"));
                        }
                    }
                } else {
                    references_shape(x, &here, depth + 1)?;
                }
            }
        }
        crate::doc::Type::Array => {
            for (i, x) in v.items().iter().enumerate() {
                references_shape(x, &format!("{at}[{i}]"), depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A module of the configuration section: resources, module calls (recursively), outputs,
/// variables.
fn module_shape<D: Doc>(m: &D, at: &str, depth: usize) -> Result<(), String> {
    if !m.is_object() {
        return Err(wrong(at, m, "an object"));
    }
    for key in ["outputs", "variables"] {
        optional(m, key, &format!("{at}.{key}"), "an object", D::is_object)?;
    }
    if let Some(resources) = optional(m, "resources", &format!("{at}.resources"), "an array", D::is_array)? {
        for (i, r) in resources.items().iter().enumerate() {
            let here = format!("{at}.resources[{i}]");
            if !r.is_object() {
                return Err(wrong(&here, r, "an object"));
            }
            for key in ["address", "type", "name", "mode", "provider_config_key"] {
                optional(r, key, &format!("{here}.{key}"), "a string", D::is_string)?;
            }
            optional(r, "expressions", &format!("{here}.expressions"), "an object", D::is_object)?;
        }
    }
    if let Some(calls) = optional(m, "module_calls", &format!("{at}.module_calls"), "an object", D::is_object)? {
        for (name, call) in calls.entries() {
            let here = format!("{at}.module_calls.{name}");
            let c = call;
            if !c.is_object() {
                return Err(wrong(&here, call, "an object"));
            }
            optional(c, "expressions", &format!("{here}.expressions"), "an object", D::is_object)?;
            // Terraform nests modules a few levels deep; a document nested deeper than this
            // is not a plan it wrote.
            if depth > 64 {
                return Err(format!("{here}: module calls nested more than 64 deep"));
            }
            if let Some(module) = c.get("module") {
                module_shape(module, &format!("{here}.module"), depth + 1)?;
            }
        }
    }
    Ok(())
}

fn wrong<D: Doc>(at: &str, v: &D, want: &str) -> String {
    format!("{at} is {} {}, expected {want}", article(json_type(v)), json_type(v))
}

fn article(t: &str) -> &'static str {
    if t.starts_with(['a', 'o']) { "an" } else { "a" }
}

/// The value at key when present; an error naming `at` when it is not of the wanted kind
/// (null included).
fn optional<'v, D: Doc>(m: &'v D, key: &str, at: &str, want: &str, ok: impl Fn(&D) -> bool) -> Result<Option<&'v D>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if ok(v) => Ok(Some(v)),
        Some(v) => Err(wrong(at, v, want)),
    }
}

/// As [`optional`], null allowed (a `before` or `after` of a create or delete).
fn optional_or_null<'v, D: Doc>(m: &'v D, key: &str, at: &str, want: &str, ok: impl Fn(&D) -> bool) -> Result<Option<&'v D>, String> {
    optional(m, key, at, &format!("{want} or null"), |v| v.is_null() || ok(v))
}

fn required<'v, D: Doc>(m: &'v D, key: &str, at: &str, want: &str, ok: impl Fn(&D) -> bool) -> Result<&'v D, String> {
    optional(m, key, at, want, ok)?.ok_or_else(|| format!("{at} is missing, expected {want}"))
}

/// Reads plan bytes as Terraform users produce them and parses them.
pub fn parse_bytes(bytes: &[u8], name: &str) -> Result<Value> {
    parse(&decode(bytes, name)?, name)
}

/// The one normalized plan form: the canonical plan (`canonical`, from
/// `tfrender::normalize`) plus `terraform_version` and `configuration` from the raw plan.
pub fn with_policy_context(raw: &Value, canonical: Value) -> Value {
    let mut out = match canonical {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(m) = raw.as_object() {
        for k in KEEP_FOR_POLICY {
            if let Some(v) = m.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
    }
    let mut entries: Vec<(String, Value)> = out.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect())
}
