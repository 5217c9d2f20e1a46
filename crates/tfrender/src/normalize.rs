//! Canonical form of a plan document from either engine, for comparison and snapshots.
//!
//! Kept: `format_version`, `variables`, `planned_values`, `resource_changes` and
//! `output_changes`, with every object's keys sorted and `resource_changes` (and every
//! module's `resources` and `child_modules`) sorted by address.
//! Dropped: `terraform_version`, `timestamp`, `applyable`, `complete`, `errored`,
//! `relevant_attributes`, `prior_state`, `checks` and `configuration` (the configuration
//! echoes source text and provider version constraints that differ between engines without
//! changing what will be created).
use serde_json::{Map, Value as Json};

const KEEP: &[&str] = &["format_version", "variables", "planned_values", "resource_changes", "output_changes"];

pub fn normalize(plan: &Json) -> Json {
    let mut out = Map::new();
    if let Json::Object(m) = plan {
        for k in KEEP {
            if let Some(v) = m.get(*k) {
                out.insert((*k).to_string(), canonical(v, k, 0));
            }
        }
    }
    sort_keys(Json::Object(out))
}

fn canonical(v: &Json, key: &str, depth: usize) -> Json {
    if depth > 256 {
        return v.clone();
    }
    match v {
        Json::Object(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), canonical(x, k, depth + 1))).collect()),
        Json::Array(a) => {
            let mut items: Vec<Json> = a.iter().map(|x| canonical(x, "", depth + 1)).collect();
            if matches!(key, "resource_changes" | "resources" | "child_modules") {
                items.sort_by(|x, y| addr(x).cmp(addr(y)));
            }
            Json::Array(items)
        }
        other => other.clone(),
    }
}

fn addr(v: &Json) -> &str {
    v.get("address").and_then(Json::as_str).unwrap_or("")
}

fn sort_keys(v: Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut entries: Vec<(String, Json)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().map(|(k, x)| (k, sort_keys(x))).collect())
        }
        Json::Array(a) => Json::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
