//! Plan input as Terraform users produce it: decoding (UTF-8 with or without a byte-order
//! mark, UTF-16 LE/BE with one, as PowerShell's `>` writes), recognising what a JSON document
//! is (a plan of any format version Terraform 0.12+ writes, or a state file, a state shown as
//! JSON, or something else, which are refused), and the one normalized plan form that
//! `cargo xtask plan --out` writes and `policy --plan` reads back to the same answer.
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

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

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "?".to_string(),
    }
}

/// Classifies a parsed JSON document.
pub fn classify(v: &Value) -> Kind {
    let Some(m) = v.as_object() else {
        return Kind::Other(format!("a JSON {}, not an object", json_type(v)));
    };
    let has = |k: &str| m.contains_key(k);
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
        .keys()
        .all(|k| k == "format_version" || k == "terraform_version");
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
    let mut keys: Vec<&str> = m.keys().map(String::as_str).take(5).collect();
    keys.sort();
    Kind::Other(if keys.is_empty() {
        "an empty JSON object".to_string()
    } else {
        format!("a JSON object with keys {}", keys.join(", "))
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Parses plan text (already decoded): JSON errors name file:line:col; a document that is
/// not a plan is refused with what it is.
pub fn parse(text: &str, name: &str) -> Result<Value> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| {
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
    })?;
    match classify(&value) {
        Kind::Plan(_) => {
            let n = value.get("resource_changes").and_then(Value::as_array).map_or(0, Vec::len);
            if n > lz_input::limits::MAX_RESOURCES {
                bail!(
                    "{name}: {n} resource changes is over the limit of {} (MAX_RESOURCES); see README, Limits",
                    lz_input::limits::MAX_RESOURCES
                );
            }
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
