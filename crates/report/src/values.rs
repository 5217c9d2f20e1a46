//! old -> new values of the attributes a change touches, from both plans' planned `after`
//! values with sensitive and secret-looking values redacted first (`lz_evidence::redact`).

use std::collections::BTreeMap;

use lz_promote::diff::flatten;
use serde::Serialize;
use serde_json::Value;

/// One changed attribute.
#[derive(Clone, Debug, Serialize)]
pub struct ValueChange {
    pub path: String,
    pub old: String,
    pub new: String,
}

/// Flattened, redacted `after` values of every resource change of `plan`, by address.
pub fn after_values(plan: &Value) -> BTreeMap<String, BTreeMap<String, Value>> {
    let redacted = lz_evidence::redact::redact_plan(plan);
    let mut out = BTreeMap::new();
    for rc in redacted.get("resource_changes").and_then(Value::as_array).into_iter().flatten() {
        let (Some(address), Some(change)) = (rc.get("address").and_then(Value::as_str), rc.get("change")) else { continue };
        let after = change.get("after").cloned().unwrap_or(Value::Null);
        out.insert(address.to_string(), flatten(&after, change.get("after_unknown")));
    }
    out
}

fn shown(v: Option<&Value>) -> String {
    let s = match v {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// The old and new value of each path of `address`.
pub fn changes(
    old: &BTreeMap<String, BTreeMap<String, Value>>,
    new: &BTreeMap<String, BTreeMap<String, Value>>,
    address: &str,
    paths: &[String],
) -> Vec<ValueChange> {
    let o = old.get(address);
    let n = new.get(address);
    paths
        .iter()
        .map(|p| ValueChange { path: p.clone(), old: shown(o.and_then(|m| m.get(p))), new: shown(n.and_then(|m| m.get(p))) })
        .collect()
}
