//! Redaction of Terraform plan JSON before it enters the archive.
//!
//! Values marked sensitive by Terraform (`before_sensitive`, `after_sensitive`,
//! `sensitive_values`, sensitive variables and outputs) and any attribute whose name looks
//! like a secret are replaced by a marker. The `configuration` section is dropped entirely:
//! it carries literal expressions and variable defaults that the masks do not cover. Whatever
//! the name, an AWS access key id or a PEM private key block inside any string value is replaced
//! too: the patterns are `lz_repo::patterns`, the ones the secret scan and the policy reports use.

use lz_repo::patterns;

use serde_json::{Map, Value};

pub const MARKER: &str = "(redacted)";

/// A name whose value is a secret: containing one of the archive's words, or a secret name
/// (`secret_key`, `access_key`, ...): [`patterns::names_a_secret`].
pub fn is_secret_name(name: &str) -> bool {
    patterns::names_a_secret(name)
}

/// A string with every AWS access key id and PEM private key block replaced by the marker;
/// `None` when it holds neither.
fn without_secret_values(text: &str) -> Option<String> {
    let (key, pem) = (patterns::access_key(), patterns::private_key_block());
    if !key.is_match(text) && !pem.is_match(text) {
        return None;
    }
    let out = pem.replace_all(text, MARKER);
    Some(key.replace_all(&out, MARKER).into_owned())
}

/// Replaces, at any depth, access key ids and PEM private key blocks inside string values,
/// whatever the attribute is called.
pub fn redact_secret_values(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(clean) = without_secret_values(s) {
                *s = clean;
            }
        }
        Value::Object(obj) => obj.values_mut().for_each(redact_secret_values),
        Value::Array(items) => items.iter_mut().for_each(redact_secret_values),
        _ => {}
    }
}

/// Replaces values under a Terraform sensitivity mask (`true`, or nested objects/arrays of it).
fn apply_mask(value: &mut Value, mask: &Value) {
    match (value, mask) {
        (v, Value::Bool(true)) => {
            if !v.is_null() {
                *v = Value::String(MARKER.into());
            }
        }
        (Value::Object(obj), Value::Object(m)) => {
            for (k, sub) in m {
                if let Some(v) = obj.get_mut(k) {
                    apply_mask(v, sub);
                }
            }
        }
        (Value::Array(items), Value::Array(m)) => {
            for (v, sub) in items.iter_mut().zip(m) {
                apply_mask(v, sub);
            }
        }
        _ => {}
    }
}

/// Replaces the value of every attribute named like a secret, at any depth.
pub fn redact_secret_names(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj.iter_mut() {
                if is_secret_name(k) && !v.is_null() && !matches!(v, Value::Bool(_)) {
                    *v = Value::String(MARKER.into());
                } else {
                    redact_secret_names(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secret_names),
        _ => {}
    }
}

fn redact_module(module: &mut Value) {
    let Some(m) = module.as_object_mut() else { return };
    if let Some(Value::Array(resources)) = m.get_mut("resources") {
        for r in resources {
            if let Some(r) = r.as_object_mut() {
                let mask = r.get("sensitive_values").cloned().unwrap_or(Value::Null);
                if let Some(v) = r.get_mut("values") {
                    apply_mask(v, &mask);
                }
            }
        }
    }
    if let Some(Value::Array(children)) = m.get_mut("child_modules") {
        children.iter_mut().for_each(redact_module);
    }
}

fn redact_outputs(outputs: &mut Value) {
    let Some(outputs) = outputs.as_object_mut() else { return };
    for (name, out) in outputs.iter_mut() {
        let Some(o) = out.as_object_mut() else { continue };
        let sensitive = o.get("sensitive").and_then(Value::as_bool).unwrap_or(false) || is_secret_name(name);
        if sensitive {
            for key in ["value", "before", "after"] {
                if let Some(v) = o.get_mut(key) {
                    if !v.is_null() {
                        *v = Value::String(MARKER.into());
                    }
                }
            }
        }
        for (vkey, mkey) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
            let mask = o.get(mkey).cloned().unwrap_or(Value::Null);
            if let Some(v) = o.get_mut(vkey) {
                apply_mask(v, &mask);
            }
        }
    }
}

fn sensitive_variables(plan: &Value) -> Vec<String> {
    plan.pointer("/configuration/root_module/variables")
        .and_then(Value::as_object)
        .map(|vars| {
            vars.iter()
                .filter(|(_, v)| v.get("sensitive").and_then(Value::as_bool).unwrap_or(false))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A redacted copy of a plan (`terraform show -json` format).
pub fn redact_plan(plan: &Value) -> Value {
    let sensitive_vars = sensitive_variables(plan);
    let mut out = plan.clone();
    let Some(obj) = out.as_object_mut() else {
        let mut v = out;
        redact_secret_names(&mut v);
        redact_secret_values(&mut v);
        return v;
    };
    obj.remove("configuration");
    if let Some(Value::Object(vars)) = obj.get_mut("variables") {
        for (name, var) in vars.iter_mut() {
            if sensitive_vars.contains(name) || is_secret_name(name) {
                if let Some(v) = var.get_mut("value") {
                    *v = Value::String(MARKER.into());
                }
            }
        }
    }
    for section in ["resource_changes", "resource_drift"] {
        if let Some(Value::Array(changes)) = obj.get_mut(section) {
            for rc in changes {
                let Some(change) = rc.get_mut("change").and_then(Value::as_object_mut) else { continue };
                for (vkey, mkey) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
                    let mask = change.get(mkey).cloned().unwrap_or(Value::Null);
                    if let Some(v) = change.get_mut(vkey) {
                        apply_mask(v, &mask);
                    }
                }
            }
        }
    }
    for section in ["planned_values", "prior_state"] {
        if let Some(state) = obj.get_mut(section) {
            let state = if section == "prior_state" { state.get_mut("values") } else { Some(state) };
            if let Some(state) = state {
                if let Some(root) = state.get_mut("root_module") {
                    redact_module(root);
                }
                if let Some(outputs) = state.get_mut("outputs") {
                    redact_outputs(outputs);
                }
            }
        }
    }
    if let Some(outputs) = obj.get_mut("output_changes") {
        redact_outputs(outputs);
    }
    redact_secret_names(&mut out);
    redact_secret_values(&mut out);
    out
}

/// Resource addresses and their actions from a plan's `resource_changes`.
pub fn plan_resources(plan: &Value) -> Vec<(String, Vec<String>)> {
    plan.get("resource_changes")
        .and_then(Value::as_array)
        .map(|rcs| {
            rcs.iter()
                .filter_map(|rc| {
                    let addr = rc.get("address")?.as_str()?.to_string();
                    let actions = rc
                        .pointer("/change/actions")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                        .unwrap_or_default();
                    Some((addr, actions))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn summary(resources: &[(String, Vec<String>)]) -> Value {
    let mut counts: Map<String, Value> = Map::new();
    for key in ["create", "update", "delete", "replace", "no-op", "read"] {
        counts.insert(key.into(), 0.into());
    }
    for (_, actions) in resources {
        let key = match actions.as_slice() {
            [a] => a.as_str(),
            [a, b] if (a == "delete" && b == "create") || (a == "create" && b == "delete") => "replace",
            _ => continue,
        };
        if let Some(Value::Number(n)) = counts.get(key) {
            let n = n.as_u64().unwrap_or(0) + 1;
            counts.insert(key.into(), n.into());
        }
    }
    Value::Object(counts)
}
