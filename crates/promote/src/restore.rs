//! A rollback that restores what ran before (issue 32, item 5). Module versions render from their
//! own code (`lz_repo::released`), so moving a service back to its previous version changes its
//! resources (say, its task policy), and the risk rules alone would classify the rollback by
//! those changes. A rollback is a standard change when it restores what the environment ran and
//! admitted before: each resource of the service's module instance in the release's plan is
//! exactly (planned values) what the environment's deployment before the reversed adoption ran.
//! Only then are those resources classified with the rollback; anything else the release changes
//! in that instance (a new input, another resource) keeps its own tier.
//!
//! What "ran before" is must be a reviewed fact: the deployment before the adoption counts only
//! when it was admitted with approvals and without break-glass ([`crate::approved`]), and when
//! its release, re-rendered, plans exactly the digest that deployment recorded. Only the
//! resources of that plan's instance that the rollback creates or updates are lowered; a delete
//! (a resource the old version did not have) keeps its own rule. A release that cannot be
//! opened or rendered restores nothing: the rollback is classified by the risk rules.
use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde_json::Value;

use crate::ledger::Record;
use crate::tier::{ResourceTier, Tier};

/// A rollback whose module instance is exactly what `deployment` ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The instance's address prefix (`module.service["order-gateway"]`).
    pub prefix: String,
    /// The resources of the instance as `deployment` planned them.
    pub addresses: BTreeSet<String>,
    pub deployment: u64,
    pub reversed: u64,
}

/// The resources of the instances of `module` keyed `service` in `plan`: address -> (after,
/// after_unknown), per root call whose source is `../modules/<module>`.
fn instance(plan: &Value, module: &str, service: &str) -> BTreeMap<String, (String, BTreeMap<String, (Value, Value)>)> {
    let mut out = BTreeMap::new();
    let source = format!("../modules/{module}");
    let calls = plan["configuration"]["root_module"]["module_calls"].as_object().cloned().unwrap_or_default();
    for (call, _) in calls.iter().filter(|(_, c)| c["source"] == source.as_str()) {
        let prefix = format!("module.{call}[{}]", serde_json::to_string(service).unwrap_or_default());
        let resources: BTreeMap<String, (Value, Value)> = plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["address"].as_str().is_some_and(|a| a.starts_with(&format!("{prefix}."))))
            .map(|r| (r["address"].as_str().unwrap_or_default().to_string(), (r["change"]["after"].clone(), r["change"]["after_unknown"].clone())))
            .collect();
        out.insert(call.clone(), (prefix, resources));
    }
    out
}

/// The environment a rollback is judged in, as the session read it: the admitted records, the
/// environment, the release's plan and the stores to open earlier releases from.
pub struct Environment<'a> {
    pub records: &'a [Record],
    pub environment: &'a str,
    pub plan: &'a Value,
    pub paths: &'a crate::Paths,
}

/// Whether the rollback of `service` (reversing adoption record `reversed`) restores, in the
/// session's plan, exactly what the environment's last succeeded deployment before that adoption
/// ran: the prefixes so restored.
pub fn restored(s: &Environment, module: &str, service: &str, reversed: u64) -> Result<Vec<Restored>> {
    let Some(adopted_by) = s.records.iter().find(|r| r.sequence == reversed).and_then(|r| r.details.adoption()).map(|a| a.deployment) else {
        return Ok(Vec::new());
    };
    let Some(before) = ran_before(s.records, s.environment, adopted_by) else { return Ok(Vec::new()) };
    Ok(rendered_then(before, |d| s.paths.open_release(d).and_then(|r| r.plan(s.environment)))
        .map(|then| restored_from(s.plan, &then, before, module, service, reversed))
        .unwrap_or_default())
}

/// The plan of `before`'s release as `render` (open and render a release by digest) gives it;
/// `None` when that fails: the rollback is then classified by the risk rules, never refused.
fn rendered_then(before: &Record, render: impl FnOnce(&str) -> Result<Value>) -> Option<Value> {
    render(&before.release).ok()
}

/// The last succeeded deployment of `environment` before record `adopted_by`, when it was
/// admitted with approvals and without break-glass (else none: nothing reviewed to restore).
fn ran_before<'r>(records: &'r [Record], environment: &str, adopted_by: u64) -> Option<&'r Record> {
    records
        .iter()
        .filter(|r| r.sequence < adopted_by && r.environment.as_deref() == Some(environment))
        .filter(|r| r.deployment_outcome() == Some("succeeded"))
        .max_by_key(|r| r.sequence)
        .filter(|r| crate::approved::with_approvals(records, r))
}

/// The instances of `module` keyed `service` that `now` restores from `then`, the plan of
/// deployment `before`: none when `then` is not the plan `before` recorded.
fn restored_from(now: &Value, then: &Value, before: &Record, module: &str, service: &str, reversed: u64) -> Vec<Restored> {
    if before.plan_digest.as_deref() != Some(crate::plan_digest(then).as_str()) {
        return Vec::new();
    }
    same_instances(now, then, module, service)
        .into_iter()
        .map(|(prefix, addresses)| Restored { prefix, addresses, deployment: before.sequence, reversed })
        .collect()
}

/// The instance prefixes of `module` keyed `service` whose resources `now` plans exactly as
/// `then` did (none for an instance without resources), each with those resources' addresses.
fn same_instances(now: &Value, then: &Value, module: &str, service: &str) -> Vec<(String, BTreeSet<String>)> {
    let then = instance(then, module, service);
    instance(now, module, service)
        .into_iter()
        .filter(|(call, (_, resources))| !resources.is_empty() && then.get(call).is_some_and(|(_, old)| old == resources))
        .map(|(_, (prefix, resources))| (prefix, resources.into_keys().collect()))
        .collect()
}

/// Classifies with its rollback (standard, rule `module-rollback`) each resource of a restored
/// instance that the deployment restored from planned and the rollback creates or updates; a
/// delete or replace keeps its own rule.
pub fn retier(resources: &mut [ResourceTier], restored: &[Restored]) {
    for r in resources.iter_mut() {
        if !matches!(r.action, crate::diff::Action::Create | crate::diff::Action::Update) {
            continue;
        }
        let Some(x) = restored.iter().find(|x| r.address.starts_with(&format!("{}.", x.prefix)) && x.addresses.contains(&r.address)) else { continue };
        r.tier = Tier::Standard;
        r.rule = "module-rollback".into();
        r.reason = format!(
            "restores {} as deployment record {} ran it (a rollback of adoption record {}): {}",
            r.address, x.deployment, x.reversed, r.reason
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(policy: &str, port: u64) -> Value {
        json!({
            "configuration": {"root_module": {"module_calls": {"service": {"source": "../modules/trading-service"}}}},
            "resource_changes": [
                {"address": "module.service[\"a\"].aws_iam_role_policy.task", "change": {"after": {"policy": policy}, "after_unknown": {}}},
                {"address": "module.service[\"a\"].aws_security_group.this", "change": {"after": {"port": port}, "after_unknown": {"id": true}}},
                {"address": "module.service[\"b\"].aws_iam_role_policy.task", "change": {"after": {"policy": "new"}, "after_unknown": {}}},
            ]
        })
    }

    /// Only an instance planned exactly as before is restored: the same policy and port; a
    /// rollback that also changes the port (an input of the instance) is not, and its resources
    /// keep their own tier.
    #[test]
    fn a_rollback_restores_only_an_instance_planned_exactly_as_before() {
        let then = plan("old", 443);
        let prefixes = |now: &Value, module: &str, service: &str| same_instances(now, &then, module, service).into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(prefixes(&plan("old", 443), "trading-service", "a"), ["module.service[\"a\"]"]);
        assert!(prefixes(&plan("old", 8443), "trading-service", "a").is_empty());
        assert!(prefixes(&plan("old", 443), "trading-service", "c").is_empty(), "no resources: nothing restored");
        assert!(prefixes(&plan("old", 443), "network", "a").is_empty());
        let r = |address: &str, action: crate::diff::Action| ResourceTier {
            address: address.into(),
            resource_type: "aws_iam_role_policy".into(),
            action,
            tier: Tier::High,
            rule: "iam".into(),
            reason: "IAM".into(),
        };
        use crate::diff::Action::{Delete, Replace, Update};
        let mut rs = vec![
            r("module.service[\"a\"].aws_iam_role_policy.task", Update),
            r("module.service[\"ab\"].aws_iam_role_policy.task", Update),
            r("module.service[\"b\"].aws_iam_role_policy.task", Update),
            r("module.service[\"a\"].aws_iam_role_policy.extra", Delete),
            r("module.service[\"a\"].aws_iam_role_policy.other", Update),
            r("module.service[\"a\"].aws_security_group.this", Replace),
        ];
        let addresses = ["module.service[\"a\"].aws_iam_role_policy.task", "module.service[\"a\"].aws_iam_role_policy.extra", "module.service[\"a\"].aws_security_group.this"];
        let restored = Restored { prefix: "module.service[\"a\"]".into(), addresses: addresses.iter().map(|a| a.to_string()).collect(), deployment: 7, reversed: 9 };
        retier(&mut rs, &[restored]);
        // Only the update of a resource the old deployment planned is lowered: not a delete or a
        // replace under the prefix, not a resource the old plan did not have.
        assert_eq!(rs.iter().map(|x| x.tier).collect::<Vec<_>>(), [Tier::Standard, Tier::High, Tier::High, Tier::High, Tier::High, Tier::High]);
        assert!(rs[0].rule == "module-rollback" && rs[0].reason.contains("deployment record 7") && rs[0].reason.contains("adoption record 9"), "{:?}", rs[0]);
    }

    /// The deployment a rollback restores must have been admitted with approvals and without
    /// break-glass, and its release must re-render the very plan it recorded.
    #[test]
    fn only_an_approved_deployment_of_the_recorded_plan_is_restored() {
        use crate::approved::tests::deployed;
        let r = "a".repeat(64);
        let approved: Vec<Record> = deployed(10, &r, "prod", &[3], None, "succeeded").into();
        assert_eq!(ran_before(&approved, "prod", 20).map(|x| x.sequence), Some(11));
        assert!(ran_before(&approved, "dev", 20).is_none() && ran_before(&approved, "prod", 11).is_none());
        let glass: Vec<Record> = deployed(10, &r, "prod", &[3], Some(5), "succeeded").into();
        assert!(ran_before(&glass, "prod", 20).is_none(), "a break-glass deployment is not restored");
        let unapproved: Vec<Record> = deployed(10, &r, "prod", &[], None, "succeeded").into();
        assert!(ran_before(&unapproved, "prod", 20).is_none(), "a deployment without approvals is not restored");
        // An older approved deployment does not stand in for the last one.
        let mut both: Vec<Record> = deployed(4, &r, "prod", &[3], None, "succeeded").into();
        both.extend(glass);
        assert!(ran_before(&both, "prod", 20).is_none());

        let then = plan("old", 443);
        let mut before = approved[1].clone();
        before.plan_digest = Some(crate::plan_digest(&then));
        assert_eq!(restored_from(&plan("old", 443), &then, &before, "trading-service", "a", 9).len(), 1);
        before.plan_digest = Some(crate::plan_digest(&plan("older", 443)));
        assert!(restored_from(&plan("old", 443), &then, &before, "trading-service", "a", 9).is_empty(), "not the plan deployment 11 recorded");
        // A release that cannot be opened or rendered restores nothing (no error).
        assert!(rendered_then(&before, |_| anyhow::bail!("the release store does not answer")).is_none());
        assert_eq!(rendered_then(&before, |d| Ok(serde_json::json!(d))), Some(serde_json::json!(r)));
    }
}
