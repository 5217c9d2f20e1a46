//! Large plans made of copies of a real plan's resources: the scaling series of `cargo xtask
//! bench policy` and the test that a large plan's findings equal its copies' findings
//! evaluated one by one (so an evaluation shortcut cannot change what the rules find).
//!
//! Copy `i` keeps every resource's shape and configuration and differs only in names, so no
//! copy links to another: a resource in a module moves to instance `["c<i>"]` of its top
//! module call (the module configuration is shared, as Terraform shares it between
//! instances); a root resource is renamed `<name>_c<i>`, with its configuration and every
//! reference to it; every known `id`, `arn`, `bucket` and `name` value (and the same string, or an ARN
//! ending in it, wherever a planned value repeats it) gains the suffix `-c<i>`.
use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A plan holding `copies` copies of `template`'s resources (see the module documentation).
pub fn replicate(template: &Value, copies: usize) -> Value {
    build(template, 0..copies)
}

/// The plan of copy `i` alone: exactly the resources copy `i` contributes to [`replicate`].
pub fn copy(template: &Value, i: usize) -> Value {
    build(template, i..i + 1)
}

/// Copies needed for about `resources` resource changes.
pub fn copies_for(template: &Value, resources: usize) -> usize {
    resources.div_ceil(changes(template).len().max(1)).max(1)
}

fn changes(plan: &Value) -> &[Value] {
    plan.get("resource_changes").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn build(template: &Value, range: std::ops::Range<usize>) -> Value {
    let rcs = changes(template);
    // Root resources by address without instance key ("aws_x.a", "data.aws_y.b").
    let root: BTreeSet<String> = rcs
        .iter()
        .filter(|rc| rc.get("module_address").and_then(Value::as_str).unwrap_or("").is_empty())
        .filter_map(|rc| rc.get("address").and_then(Value::as_str))
        .map(|a| base(a).to_string())
        .collect();
    let known: BTreeSet<String> = rcs
        .iter()
        .filter_map(|rc| rc.pointer("/change/after").and_then(Value::as_object))
        .flat_map(|after| ["id", "arn", "bucket", "name"].into_iter().filter_map(|k| after.get(k)?.as_str()))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut out = match template {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let mut all = Vec::with_capacity(rcs.len() * range.len());
    let mut config_resources = Vec::new();
    let config_template = template
        .pointer("/configuration/root_module/resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for i in range {
        let tag = format!("c{i}");
        for rc in rcs {
            let mut rc = rc.clone();
            let module = rc.get("module_address").and_then(Value::as_str).unwrap_or("").to_string();
            let address = rc.get("address").and_then(Value::as_str).unwrap_or("").to_string();
            if let Some(m) = rc.as_object_mut() {
                if module.is_empty() {
                    m.insert("address".into(), Value::String(rename_root(&address, &root, &tag)));
                    if let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_string) {
                        m.insert("name".into(), Value::String(format!("{name}_{tag}")));
                    }
                } else {
                    let keyed = key_module(&module, &tag);
                    let rest = address.strip_prefix(module.as_str()).unwrap_or(&address).to_string();
                    m.insert("module_address".into(), Value::String(keyed.clone()));
                    m.insert("address".into(), Value::String(format!("{keyed}{rest}")));
                }
            }
            for part in ["after", "before"] {
                if let Some(v) = rc.pointer_mut(&format!("/change/{part}")) {
                    suffix_known(v, &known, &tag);
                }
            }
            all.push(rc);
        }
        for c in &config_template {
            let mut c = c.clone();
            if let Some(m) = c.as_object_mut() {
                let address = m.get("address").and_then(Value::as_str).unwrap_or("").to_string();
                if root.contains(base(&address)) {
                    m.insert("address".into(), Value::String(rename_root(&address, &root, &tag)));
                    if let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_string) {
                        m.insert("name".into(), Value::String(format!("{name}_{tag}")));
                    }
                }
                if let Some(e) = m.get_mut("expressions") {
                    rename_references(e, &root, &tag);
                }
            }
            config_resources.push(c);
        }
    }
    out.insert("resource_changes".into(), Value::Array(all));
    if let Some(Value::Object(rm)) = out.get_mut("configuration").and_then(|c| c.get_mut("root_module")) {
        if rm.contains_key("resources") {
            rm.insert("resources".into(), Value::Array(config_resources));
        }
    }
    Value::Object(out)
}

/// An address without its instance key: `aws_x.a["k"]` -> `aws_x.a`.
fn base(address: &str) -> &str {
    address.split('[').next().unwrap_or(address)
}

/// `aws_x.a["k"]` -> `aws_x.a_c1["k"]` when `aws_x.a` is a root resource of the plan.
fn rename_root(address: &str, root: &BTreeSet<String>, tag: &str) -> String {
    let b = base(address);
    if root.contains(b) {
        format!("{b}_{tag}{}", &address[b.len()..])
    } else {
        address.to_string()
    }
}

/// `module.a.module.b` -> `module.a["c1"].module.b`; an existing key `module.a["x"]` becomes
/// `module.a["x-c1"]`, `module.a[0]` becomes `module.a["0-c1"]`.
fn key_module(module: &str, tag: &str) -> String {
    let Some(rest) = module.strip_prefix("module.") else {
        return module.to_string();
    };
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if let Some(keyed) = after.strip_prefix('[') {
        let close = keyed.find(']').unwrap_or(keyed.len());
        let key = keyed[..close].trim_matches('"');
        format!("module.{name}[\"{key}-{tag}\"]{}", keyed.get(close + 1..).unwrap_or(""))
    } else {
        format!("module.{name}[\"{tag}\"]{after}")
    }
}

/// Rewrites references to root resources in a configuration expression tree.
fn rename_references(v: &mut Value, root: &BTreeSet<String>, tag: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "references" {
                    if let Value::Array(refs) = x {
                        for r in refs.iter_mut() {
                            if let Value::String(s) = r {
                                *s = rename_reference(s, root, tag);
                            }
                        }
                    }
                } else {
                    rename_references(x, root, tag);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_references(x, root, tag)),
        _ => {}
    }
}

/// `aws_x.a.arn` -> `aws_x.a_c1.arn` (also `aws_x.a`, `aws_x.a["k"]`) for a root resource `aws_x.a`.
fn rename_reference(s: &str, root: &BTreeSet<String>, tag: &str) -> String {
    for b in root {
        if let Some(rest) = s.strip_prefix(b.as_str()) {
            if rest.is_empty() || rest.starts_with('.') || rest.starts_with('[') {
                return format!("{b}_{tag}{rest}");
            }
        }
    }
    s.to_string()
}

/// An ARN or path ending in a known value (`arn:aws:s3:::<bucket>`).
fn names_known(s: &str, known: &BTreeSet<String>) -> bool {
    known.iter().any(|k| s.strip_suffix(k.as_str()).is_some_and(|head| head.ends_with([':', '/'])))
}

/// Suffixes every string of `known` (ids, ARNs, bucket names), and every ARN or path ending
/// in one, inside a planned value.
fn suffix_known(v: &mut Value, known: &BTreeSet<String>, tag: &str) {
    match v {
        Value::String(s) if known.contains(s.as_str()) || names_known(s, known) => s.push_str(&format!("-{tag}")),
        Value::Object(m) => m.values_mut().for_each(|x| suffix_known(x, known, tag)),
        Value::Array(a) => a.iter_mut().for_each(|x| suffix_known(x, known, tag)),
        _ => {}
    }
}
