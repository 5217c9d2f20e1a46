//! The change under classification: per resource, what happens to it and which attribute paths
//! change. Built from a plan's `resource_changes` (real Terraform actions) or by comparing two
//! plans; an approved-baseline diff converts into the same structure.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Replace,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Replace => "replace",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::Replace,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// One changed resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub action: Action,
    /// Changed attribute paths (`tags.Owner`, `rule[0].apply_server_side_encryption_by_default[0].sse_algorithm`).
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    pub changes: Vec<Change>,
}

const UNKNOWN: &str = "(known after apply)";

/// Leaf paths and values of a JSON value; unknown leaves (from `after_unknown`) are marked.
pub fn flatten(value: &Value, unknown: Option<&Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    walk(value, unknown, String::new(), &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(value: &Value, unknown: Option<&Value>, prefix: String, out: &mut BTreeMap<String, Value>) {
    if unknown == Some(&Value::Bool(true)) {
        out.insert(prefix, Value::String(UNKNOWN.into()));
        return;
    }
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            if let Some(Value::Object(u)) = unknown {
                keys.extend(u.keys().filter(|k| !map.contains_key(*k)));
            }
            keys.sort();
            keys.dedup();
            for k in keys {
                let v = map.get(k).unwrap_or(&Value::Null);
                walk(v, unknown.and_then(|u| u.get(k)), join(&prefix, k), out);
            }
            if map.is_empty()
                && !prefix.is_empty()
                && !matches!(unknown, Some(Value::Object(u)) if !u.is_empty())
            {
                out.insert(prefix, Value::Object(Default::default()));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(
                    v,
                    unknown.and_then(|u| u.get(i)),
                    format!("{prefix}[{i}]"),
                    out,
                );
            }
            if items.is_empty() && !prefix.is_empty() {
                out.insert(prefix, Value::Array(Vec::new()));
            }
        }
        Value::Null => {}
        other => {
            out.insert(prefix, other.clone());
        }
    }
}

/// Paths whose values differ between two flattened values.
pub fn changed_paths(
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
) -> Vec<String> {
    let mut paths: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .chain(after.keys().filter(|k| !before.contains_key(*k)).cloned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// A resource change of a plan: address, type and its `after` state (with unknowns marked).
struct PlannedResource {
    resource_type: String,
    actions: Vec<String>,
    before: Option<Value>,
    after: Option<Value>,
    after_unknown: Option<Value>,
}

fn managed_changes(plan: &Value, origin: &str) -> Result<Vec<(String, PlannedResource)>> {
    let Some(rcs) = plan.get("resource_changes") else {
        if plan.get("format_version").is_some() || plan.as_object().is_some_and(|m| m.is_empty()) {
            return Ok(Vec::new());
        }
        bail!("{origin}: not a plan in `terraform show -json` shape (no resource_changes or format_version)");
    };
    let rcs = rcs
        .as_array()
        .with_context(|| format!("{origin}: resource_changes is not an array"))?;
    let mut out = Vec::new();
    for (i, rc) in rcs.iter().enumerate() {
        if rc.get("mode").and_then(Value::as_str) == Some("data") {
            continue;
        }
        let address = rc
            .get("address")
            .and_then(Value::as_str)
            .with_context(|| format!("{origin}: resource_changes[{i}] has no address"))?;
        let resource_type = rc
            .get("type")
            .and_then(Value::as_str)
            .with_context(|| format!("{origin}: resource_changes[{i}] ({address}) has no type"))?;
        let change = rc
            .get("change")
            .with_context(|| format!("{origin}: {address} has no change"))?;
        let actions = change
            .get("actions")
            .and_then(Value::as_array)
            .with_context(|| format!("{origin}: {address} has no change.actions"))?
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .with_context(|| format!("{origin}: {address}: an action is not a string"))
            })
            .collect::<Result<Vec<_>>>()?;
        let get = |k: &str| change.get(k).filter(|v| !v.is_null()).cloned();
        out.push((
            address.to_string(),
            PlannedResource {
                resource_type: resource_type.to_string(),
                actions,
                before: get("before"),
                after: get("after"),
                after_unknown: get("after_unknown"),
            },
        ));
    }
    Ok(out)
}

fn action_of(actions: &[String], address: &str, origin: &str) -> Result<Option<Action>> {
    let a: Vec<&str> = actions.iter().map(String::as_str).collect();
    Ok(match a.as_slice() {
        ["no-op"] | ["read"] | [] => None,
        ["create"] => Some(Action::Create),
        ["update"] => Some(Action::Update),
        ["delete"] => Some(Action::Delete),
        ["delete", "create"] | ["create", "delete"] => Some(Action::Replace),
        other => bail!("{origin}: {address}: unknown change.actions {other:?}"),
    })
}

impl Diff {
    /// The approved-baseline diff (`lz_baseline::Diff` as JSON: `resources[]` with `address`,
    /// `type`, `change` added/removed/changed and `attributes[].path`); `replace_attributes`
    /// decides which changed attributes make a change a replacement.
    pub fn from_baseline_json(
        value: &Value,
        origin: &str,
        replace_attributes: impl Fn(&str) -> Vec<String>,
    ) -> Result<Diff> {
        let resources = value
            .get("resources")
            .and_then(Value::as_array)
            .with_context(|| format!("{origin}: a baseline diff has a resources array"))?;
        let mut changes = Vec::new();
        for (i, r) in resources.iter().enumerate() {
            let field = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .with_context(|| format!("{origin}: resources[{i}] has no {k}"))
            };
            let (address, resource_type, change) =
                (field("address")?, field("type")?, field("change")?);
            let paths: Vec<String> = r
                .get("attributes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.get("path").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let action = match change {
                "added" => Action::Create,
                "removed" => Action::Delete,
                "changed" => {
                    let forcing = replace_attributes(resource_type);
                    let top = |p: &String| p.split(['.', '[']).next().unwrap_or(p).to_string();
                    if paths.iter().any(|p| forcing.contains(&top(p))) {
                        Action::Replace
                    } else {
                        Action::Update
                    }
                }
                other => bail!("{origin}: resources[{i}] ({address}): change {other:?} is not added, removed or changed"),
            };
            changes.push(Change {
                address: address.to_string(),
                resource_type: resource_type.to_string(),
                action,
                paths,
            });
        }
        Ok(Diff { changes })
    }

    /// The changes a plan itself announces (`resource_changes[].change.actions`): what Terraform
    /// will do against the state it planned from.
    pub fn from_plan_actions(plan: &Value, origin: &str) -> Result<Diff> {
        let mut changes = Vec::new();
        for (address, r) in managed_changes(plan, origin)? {
            let Some(action) = action_of(&r.actions, &address, origin)? else {
                continue;
            };
            let before = r
                .before
                .as_ref()
                .map(|b| flatten(b, None))
                .unwrap_or_default();
            let after = r
                .after
                .as_ref()
                .map(|a| flatten(a, r.after_unknown.as_ref()))
                .unwrap_or_default();
            let paths = match action {
                Action::Create => after.keys().cloned().collect(),
                Action::Delete => before.keys().cloned().collect(),
                Action::Update | Action::Replace => changed_paths(&before, &after),
            };
            changes.push(Change {
                address,
                resource_type: r.resource_type,
                action,
                paths,
            });
        }
        Ok(Diff { changes })
    }

    /// The change from `previous` to `current`, comparing each resource's planned `after`
    /// values by address. `replace_attributes(type)` names the attributes whose change forces
    /// replacement.
    pub fn between_plans(
        previous: &Value,
        current: &Value,
        origin_previous: &str,
        origin_current: &str,
        replace_attributes: impl Fn(&str) -> Vec<String>,
    ) -> Result<Diff> {
        let flat = |r: &PlannedResource| {
            r.after
                .as_ref()
                .map(|a| flatten(a, r.after_unknown.as_ref()))
                .unwrap_or_default()
        };
        let old: BTreeMap<String, PlannedResource> = managed_changes(previous, origin_previous)?
            .into_iter()
            .filter(|(_, r)| {
                !r.actions.iter().any(|a| a == "delete") || r.actions.iter().any(|a| a == "create")
            })
            .collect();
        let new: BTreeMap<String, PlannedResource> = managed_changes(current, origin_current)?
            .into_iter()
            .filter(|(_, r)| !(r.actions.len() == 1 && r.actions[0] == "delete"))
            .collect();
        let mut changes = Vec::new();
        for (address, r) in &new {
            let after = flat(r);
            match old.get(address) {
                None => changes.push(Change {
                    address: address.clone(),
                    resource_type: r.resource_type.clone(),
                    action: Action::Create,
                    paths: after.keys().cloned().collect(),
                }),
                Some(o) => {
                    let before = flat(o);
                    let paths = changed_paths(&before, &after);
                    if paths.is_empty() {
                        continue;
                    }
                    let forcing = replace_attributes(&r.resource_type);
                    let replace = paths.iter().any(|p| {
                        let top = p.split(['.', '[']).next().unwrap_or(p);
                        forcing.iter().any(|f| f == top)
                    });
                    changes.push(Change {
                        address: address.clone(),
                        resource_type: r.resource_type.clone(),
                        action: if replace {
                            Action::Replace
                        } else {
                            Action::Update
                        },
                        paths,
                    });
                }
            }
        }
        for (address, o) in &old {
            if !new.contains_key(address) {
                changes.push(Change {
                    address: address.clone(),
                    resource_type: o.resource_type.clone(),
                    action: Action::Delete,
                    paths: flat(o).keys().cloned().collect(),
                });
            }
        }
        changes.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(Diff { changes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(resources: Value) -> Value {
        json!({"format_version": "1.2", "resource_changes": resources})
    }

    #[test]
    fn plan_comparison_detects_each_action() {
        let old = plan(json!([
            {"address": "aws_s3_bucket.a", "type": "aws_s3_bucket", "change": {"actions": ["create"], "after": {"bucket": "a", "tags": {"Owner": "x"}}}},
            {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "change": {"actions": ["create"], "after": {"bucket": "b"}}},
            {"address": "aws_iam_role.r", "type": "aws_iam_role", "change": {"actions": ["create"], "after": {"name": "r", "tags": {"Owner": "x"}}}},
        ]));
        let new = plan(json!([
            {"address": "aws_s3_bucket.a", "type": "aws_s3_bucket", "change": {"actions": ["create"], "after": {"bucket": "a2", "tags": {"Owner": "x"}}}},
            {"address": "aws_iam_role.r", "type": "aws_iam_role", "change": {"actions": ["create"], "after": {"name": "r", "tags": {"Owner": "y"}}}},
            {"address": "aws_kms_key.k", "type": "aws_kms_key", "change": {"actions": ["create"], "after": {"description": "k"}, "after_unknown": {"arn": true}}},
        ]));
        let d = Diff::between_plans(&old, &new, "old", "new", |t| {
            if t == "aws_s3_bucket" {
                vec!["bucket".into()]
            } else {
                vec![]
            }
        })
        .unwrap();
        let got: Vec<(&str, Action, Vec<String>)> = d
            .changes
            .iter()
            .map(|c| (c.address.as_str(), c.action, c.paths.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "aws_iam_role.r",
                    Action::Update,
                    vec!["tags.Owner".to_string()]
                ),
                (
                    "aws_kms_key.k",
                    Action::Create,
                    vec!["arn".to_string(), "description".to_string()]
                ),
                (
                    "aws_s3_bucket.a",
                    Action::Replace,
                    vec!["bucket".to_string()]
                ),
                (
                    "aws_s3_bucket.b",
                    Action::Delete,
                    vec!["bucket".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn plan_actions_are_read_as_terraform_states_them() {
        let p = plan(json!([
            {"address": "a.x", "type": "a", "change": {"actions": ["no-op"], "before": {"v": 1}, "after": {"v": 1}}},
            {"address": "a.y", "type": "a", "change": {"actions": ["delete", "create"], "before": {"v": 1}, "after": {"v": 2}}},
            {"address": "data.a.z", "mode": "data", "type": "a", "change": {"actions": ["read"]}},
        ]));
        let d = Diff::from_plan_actions(&p, "p").unwrap();
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].action, Action::Replace);
        assert_eq!(d.changes[0].paths, vec!["v".to_string()]);
    }

    #[test]
    fn baseline_diffs_convert() {
        let b = json!({"resources": [
            {"address": "aws_s3_bucket.a", "type": "aws_s3_bucket", "change": "changed", "attributes": [{"path": "bucket", "old": "a", "new": "b"}]},
            {"address": "aws_vpc.v", "type": "aws_vpc", "change": "changed", "attributes": [{"path": "tags.Owner", "old": "x", "new": "y"}]},
            {"address": "aws_kms_key.k", "type": "aws_kms_key", "change": "removed", "attributes": []},
        ], "outputs": []});
        let d = Diff::from_baseline_json(&b, "b", |t| {
            if t == "aws_s3_bucket" {
                vec!["bucket".into()]
            } else {
                vec![]
            }
        })
        .unwrap();
        let got: Vec<Action> = d.changes.iter().map(|c| c.action).collect();
        assert_eq!(got, vec![Action::Replace, Action::Update, Action::Delete]);
        assert_eq!(d.changes[1].paths, vec!["tags.Owner".to_string()]);
    }

    #[test]
    fn malformed_plans_are_errors_naming_the_origin() {
        let e = Diff::from_plan_actions(&json!({"resource_changes": [{"type": "a"}]}), "plan.json")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "plan.json: resource_changes[0] has no address"
        );
        let e = Diff::from_plan_actions(&json!({"x": 1}), "plan.json").unwrap_err();
        assert!(e.to_string().starts_with("plan.json: not a plan"), "{e}");
    }
}
