//! What a release changes in one environment ([`ChangeSet`]): its plan against the plan deployed
//! there before, classified by change control, with the old and new value of each attribute.

use anyhow::Result;
use lz_evidence::query::EnvironmentCustody;
use lz_promote::diff::Diff;
use lz_promote::session::Session;
use lz_promote::Paths;
use serde::Serialize;
use serde_json::Value;

use crate::values;

#[derive(Clone, Debug, Serialize)]
pub struct ChangeView {
    pub address: String,
    pub resource_type: String,
    pub action: String,
    pub paths: Vec<String>,
    pub tier: String,
    pub rule: String,
    pub reason: String,
    /// old -> new value of each changed attribute (sensitive values redacted).
    pub values: Vec<values::ValueChange>,
}

/// What the release changes in one environment: its plan against the plan deployed there
/// before the release's first deployment (or the current one when it was never deployed).
#[derive(Clone, Debug, Serialize)]
pub struct ChangeSet {
    pub tier: String,
    pub against: String,
    pub governance_release: String,
    pub plan_digest: String,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub changes: Vec<ChangeView>,
}

/// The release's change in `environment` as change control classified it: the chain as it was
/// before the release's first deployment there (the state it was approved against).
pub(crate) fn change_set(paths: &Paths, digest: &str, environment: &str, c: &EnvironmentCustody) -> Result<ChangeSet> {
    let before = c.deployments.iter().map(|d| d.sequence).min();
    let s = Session::open_before(paths, digest, environment, before)?;
    let classification = s.classify()?;
    let empty = Value::Object(Default::default());
    let base = s.baseline.as_ref().map(|b| &b.plan).unwrap_or(&empty);
    let diff = Diff::between_plans(base, &s.plan, "deployed plan", "release plan", |t| s.governance.rules.replace_attributes(t))?;
    let (old_values, new_values) = (values::after_values(base), values::after_values(&s.plan));
    let mut changes = Vec::new();
    let (mut added, mut changed, mut removed) = (0, 0, 0);
    for r in &classification.resources {
        let paths = diff.changes.iter().find(|c| c.address == r.address).map(|c| c.paths.clone()).unwrap_or_default();
        let action = serde_json::to_value(r.action)?.as_str().unwrap_or("?").to_string();
        match action.as_str() {
            "create" => added += 1,
            "delete" => removed += 1,
            _ => changed += 1,
        }
        changes.push(ChangeView {
            values: values::changes(&old_values, &new_values, &r.address, &paths),
            address: r.address.clone(),
            resource_type: r.resource_type.clone(),
            action,
            paths,
            tier: r.tier.as_str().to_string(),
            rule: r.rule.clone(),
            reason: r.reason.clone(),
        });
    }
    Ok(ChangeSet {
        tier: classification.tier.as_str().to_string(),
        against: match &s.baseline {
            Some(b) => format!("the plan of deployment record {} (release {})", b.record, b.release),
            None => "nothing deployed (every resource is a create)".into(),
        },
        governance_release: s.governed_by.release().to_string(),
        plan_digest: s.plan_digest.clone(),
        added,
        changed,
        removed,
        changes,
    })
}
