//! A rollback that restores what ran before (issue 32, item 5). Module versions render from their
//! own code (`lz_repo::released`), so moving a service back to its previous version changes its
//! resources (say, its task policy), and the risk rules alone would classify the rollback by
//! those changes. A rollback is a standard change when it restores what the environment ran and
//! admitted before: each resource of the service's module instance in the release's plan is
//! exactly (planned values) what the environment's deployment before the reversed adoption ran.
//! Only then are those resources classified with the rollback; anything else the release changes
//! in that instance (a new input, another resource) keeps its own tier.
use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::ledger::Record;
use crate::tier::{ResourceTier, Tier};

/// A rollback whose module instance is exactly what `deployment` ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The instance's address prefix (`module.service["order-gateway"]`).
    pub prefix: String,
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

/// Whether the rollback of `service` (reversing adoption record `reversed`) restores, in the
/// session's plan, exactly what the environment's last succeeded deployment before that adoption
/// ran: the prefixes so restored.
pub fn restored(s: &crate::Session, module: &str, service: &str, reversed: u64) -> Result<Vec<Restored>> {
    let Some(adopted_by) = s.records.iter().find(|r| r.sequence == reversed).and_then(|r| r.details.adoption()).map(|a| a.deployment) else {
        return Ok(Vec::new());
    };
    let before: Option<&Record> = s
        .records
        .iter()
        .filter(|r| r.sequence < adopted_by && r.environment.as_deref() == Some(s.environment.as_str()))
        .filter(|r| r.deployment_outcome() == Some("succeeded"))
        .max_by_key(|r| r.sequence);
    let Some(before) = before else { return Ok(Vec::new()) };
    let then = s
        .paths
        .open_release(&before.release)
        .and_then(|r| r.plan(&s.environment))
        .with_context(|| format!("rendering what deployment record {} ran in {}", before.sequence, s.environment))?;
    Ok(same_instances(&s.plan, &then, module, service).into_iter().map(|prefix| Restored { prefix, deployment: before.sequence, reversed }).collect())
}

/// The instance prefixes of `module` keyed `service` whose resources `now` plans exactly as
/// `then` did (none for an instance without resources).
fn same_instances(now: &Value, then: &Value, module: &str, service: &str) -> Vec<String> {
    let then = instance(then, module, service);
    instance(now, module, service)
        .into_iter()
        .filter(|(call, (_, resources))| !resources.is_empty() && then.get(call).is_some_and(|(_, old)| old == resources))
        .map(|(_, (prefix, _))| prefix)
        .collect()
}

/// Classifies every resource under a restored instance with its rollback: standard, rule
/// `module-rollback`.
pub fn retier(resources: &mut [ResourceTier], restored: &[Restored]) {
    for r in resources.iter_mut() {
        let Some(x) = restored.iter().find(|x| r.address.starts_with(&format!("{}.", x.prefix))) else { continue };
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
        assert_eq!(same_instances(&plan("old", 443), &then, "trading-service", "a"), ["module.service[\"a\"]"]);
        assert!(same_instances(&plan("old", 8443), &then, "trading-service", "a").is_empty());
        assert!(same_instances(&plan("old", 443), &then, "trading-service", "c").is_empty(), "no resources: nothing restored");
        assert!(same_instances(&plan("old", 443), &then, "network", "a").is_empty());
        let r = |address: &str| ResourceTier {
            address: address.into(),
            resource_type: "aws_iam_role_policy".into(),
            action: crate::diff::Action::Update,
            tier: Tier::High,
            rule: "iam".into(),
            reason: "IAM".into(),
        };
        let mut rs = vec![r("module.service[\"a\"].aws_iam_role_policy.task"), r("module.service[\"ab\"].aws_iam_role_policy.task"), r("module.service[\"b\"].aws_iam_role_policy.task")];
        retier(&mut rs, &[Restored { prefix: "module.service[\"a\"]".into(), deployment: 7, reversed: 9 }]);
        assert_eq!(rs.iter().map(|x| x.tier).collect::<Vec<_>>(), [Tier::Standard, Tier::High, Tier::High]);
        assert!(rs[0].rule == "module-rollback" && rs[0].reason.contains("deployment record 7") && rs[0].reason.contains("adoption record 9"), "{:?}", rs[0]);
    }
}
