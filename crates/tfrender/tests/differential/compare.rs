//! What is compared between `terraform show -json` and `tfrender::render_dir`.
//!
//! Both plans are projected onto the parts the renderer promises, keyed so that ordering
//! Terraform itself does not keep stable (child module order) cannot cause a difference:
//!
//! - `resources[ADDRESS]`: each object of `planned_values` (root and every child module,
//!   recursively), whole: address, mode, type, name, index, provider_name, schema_version,
//!   `values`, `sensitive_values`; plus `module`, the address of the module that lists it.
//! - `resource_changes[ADDRESS]`: each object of `resource_changes`, whole: module_address,
//!   mode, type, name, index, provider_name and `change` (actions, before, after,
//!   after_unknown, before_sensitive, after_sensitive).
//! - `outputs[NAME]`: `planned_values.outputs` (sensitive, type and value: value and type
//!   exist only for known outputs) and `output_changes[NAME]`, whole.
//! - `variables[NAME]`: the root module variable values.
//! - `checks[ADDRESS]`: status of every checkable object and of each of its instances
//!   (with problems, keyed by instance address).
//! - `applyable`, `complete`, `errored`.
//!
//! Not compared: format_version, terraform_version, timestamp, prior_state, configuration,
//! relevant_attributes. Values are compared as JSON: same type, numbers equal as
//! `serde_json::Number` (so `3` differs from `3.0`), arrays element by element (Terraform
//! sorts sets, the renderer must too), objects key by key. Terraform's numbers are read as
//! exact `i64`/`u64` integers when they are such, otherwise as the nearest `f64` to the
//! printed decimal (Terraform prints up to 512 bits of precision, which a
//! `serde_json::Value` cannot hold): see `terraform::parse_with_exact_numbers`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub got: String,
}

const ABSENT: &str = "<absent>";

/// The comparable projection of a plan, or problems that make the plan itself malformed.
pub fn project(plan: &Value) -> (Value, Vec<String>) {
    let mut problems = Vec::new();
    let mut resources = BTreeMap::new();
    collect_module(
        &plan["planned_values"]["root_module"],
        "",
        &mut resources,
        &mut problems,
    );

    let mut changes = BTreeMap::new();
    for change in plan["resource_changes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(address) = change["address"].as_str() else {
            problems.push(format!(
                "resource_changes entry without an address: {}",
                short(change)
            ));
            continue;
        };
        if changes
            .insert(address.to_string(), change.clone())
            .is_some()
        {
            problems.push(format!("resource_changes lists {address} twice"));
        }
    }

    let mut checks = BTreeMap::new();
    for check in plan["checks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(address) = check["address"]["to_display"].as_str() else {
            problems.push(format!("checks entry without an address: {}", short(check)));
            continue;
        };
        let mut instances = Map::new();
        for instance in check["instances"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let key = instance["address"]["to_display"]
                .as_str()
                .unwrap_or(address)
                .to_string();
            instances.insert(key, instance.clone());
        }
        let mut entry = Map::new();
        entry.insert("status".into(), check["status"].clone());
        entry.insert("address".into(), check["address"].clone());
        entry.insert("instances".into(), Value::Object(instances));
        if checks
            .insert(address.to_string(), Value::Object(entry))
            .is_some()
        {
            problems.push(format!("checks lists {address} twice"));
        }
    }

    let mut projection = Map::new();
    projection.insert("resources".into(), to_object(resources));
    projection.insert("resource_changes".into(), to_object(changes));
    projection.insert(
        "outputs".into(),
        or_empty(&plan["planned_values"]["outputs"]),
    );
    projection.insert("output_changes".into(), or_empty(&plan["output_changes"]));
    projection.insert("variables".into(), or_empty(&plan["variables"]));
    projection.insert("checks".into(), to_object(checks));
    for flag in ["applyable", "complete", "errored"] {
        projection.insert(flag.into(), plan.get(flag).cloned().unwrap_or(Value::Null));
    }
    (Value::Object(projection), problems)
}

fn collect_module(
    module: &Value,
    address: &str,
    out: &mut BTreeMap<String, Value>,
    problems: &mut Vec<String>,
) {
    for resource in module["resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(resource_address) = resource["address"].as_str() else {
            problems.push(format!(
                "planned_values resource without an address: {}",
                short(resource)
            ));
            continue;
        };
        let mut entry = resource.as_object().cloned().unwrap_or_default();
        entry.insert("module".into(), Value::String(address.to_string()));
        if out
            .insert(resource_address.to_string(), Value::Object(entry))
            .is_some()
        {
            problems.push(format!("planned_values lists {resource_address} twice"));
        }
    }
    for child in module["child_modules"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let child_address = child["address"].as_str().unwrap_or_default();
        if child_address.is_empty() {
            problems.push(format!(
                "child module without an address inside {address:?}"
            ));
        }
        collect_module(child, child_address, out, problems);
    }
}

fn to_object(map: BTreeMap<String, Value>) -> Value {
    Value::Object(map.into_iter().collect())
}

fn or_empty(value: &Value) -> Value {
    if value.is_null() {
        Value::Object(Map::new())
    } else {
        value.clone()
    }
}

/// Every difference between `expected` and `got`, deepest first-differing paths.
pub fn diff(expected: &Value, got: &Value) -> Vec<Mismatch> {
    let mut out = Vec::new();
    diff_at(Some(expected), Some(got), String::new(), &mut out);
    out
}

fn diff_at(expected: Option<&Value>, got: Option<&Value>, path: String, out: &mut Vec<Mismatch>) {
    match (expected, got) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a
                .keys()
                .chain(b.keys().filter(|k| !a.contains_key(*k)))
                .collect();
            keys.sort();
            for key in keys {
                diff_at(a.get(key), b.get(key), join_key(&path, key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            if a.len() != b.len() {
                out.push(Mismatch {
                    path: format!("{path} (length)"),
                    expected: a.len().to_string(),
                    got: b.len().to_string(),
                });
            }
            for index in 0..a.len().max(b.len()) {
                diff_at(a.get(index), b.get(index), format!("{path}[{index}]"), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Mismatch {
            path: if path.is_empty() {
                "(root)".into()
            } else {
                path
            },
            expected: a.map_or(ABSENT.into(), short),
            got: b.map_or(ABSENT.into(), short),
        }),
    }
}

fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 240 {
        let cut: String = text.chars().take(240).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// Whitespace runs (newlines included) become one space; ends are trimmed.
pub fn normalize_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message the renderer must produce for a Terraform diagnostic: `summary: detail`, or the
/// summary alone when the detail is empty, whitespace-normalised.
pub fn expected_message(summary: &str, detail: &str) -> String {
    if detail.trim().is_empty() {
        normalize_whitespace(summary)
    } else {
        normalize_whitespace(&format!("{summary}: {detail}"))
    }
}

/// Equal after whitespace normalisation, ignoring one final period on either side (project
/// error messages carry none); a `Cycle: a, b, c` message (whose order Terraform does not keep
/// stable) is equal when it names the same members.
pub fn messages_agree(expected: &str, got: &str) -> bool {
    let expected = normalize_whitespace(expected);
    let got = normalize_whitespace(got);
    let expected = expected.strip_suffix('.').unwrap_or(&expected);
    let got = got.strip_suffix('.').unwrap_or(&got);
    if let (Some(a), Some(b)) = (
        expected.strip_prefix("Cycle: "),
        got.strip_prefix("Cycle: "),
    ) {
        let mut a: Vec<&str> = a.split(", ").collect();
        let mut b: Vec<&str> = b.split(", ").collect();
        a.sort_unstable();
        b.sort_unstable();
        return a == b;
    }
    expected == got
}
