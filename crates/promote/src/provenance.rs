//! Provenance of any resource of an environment's deployed plan (`evidence query --resource
//! ADDRESS --env E [--at TIME]`): the successful deployment that governed the environment then
//! (admitted deployments only: the caller passes the deployments the replay rejects), its
//! release and recorded plan digest; the release's plan re-rendered from the verified release
//! archive, its digest compared with the recorded one, and the resource's planned values from it
//! (sensitive values redacted); the approvals, policy evaluation and exception approvals the
//! admission counted; and the change window or break-glass session it was applied under.
//!
//! Every fact comes from the verified chain and the verified release archive; the working tree
//! decides nothing.

use std::collections::BTreeSet;

use anyhow::Result;
use lz_evidence::provenance::Deployed;
use lz_evidence::query::{Index, Query, Source, TimeRange};
use lz_evidence::record::parse_time;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::opened::Opened;
use crate::session::Governance;
use crate::{plan_digest, Paths, Tier};

/// A resource of a deployed plan, as the re-rendered plan declares it.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedResource {
    pub address: String,
    pub resource_type: String,
    /// The module the resource belongs to (`None` in the root module).
    pub module: Option<String>,
    /// Planned values, sensitive and secret-looking values redacted.
    pub values: Value,
}

/// The answer for one address.
#[derive(Clone, Debug, Serialize)]
pub struct ResourceAnswer {
    pub environment: String,
    pub address: String,
    /// The time asked about (`None`: now, the end of the chain).
    pub at: Option<String>,
    pub release: String,
    /// The plan digest the deployment records.
    pub plan_digest: String,
    /// The digest of the plan re-rendered from the release archive.
    pub rendered_plan_digest: String,
    pub plan_matches: bool,
    pub resource: Option<PlannedResource>,
    /// How many resources the deployed plan declares.
    pub resources_in_plan: usize,
    pub deployed: Deployed,
    /// The change window or break-glass session the deployment was applied under.
    pub applied_under: String,
    /// Deployments of the environment passed over because their admission does not hold.
    pub rejected: Vec<(u64, String)>,
}

/// Every resource of a plan's `planned_values`, modules included (address, module, resource).
fn planned_resources(plan: &Value) -> Vec<(Option<String>, &Value)> {
    fn walk<'a>(m: &'a Value, out: &mut Vec<(Option<String>, &'a Value)>) {
        let module = m.get("address").and_then(Value::as_str).map(str::to_string);
        for r in m.get("resources").and_then(Value::as_array).into_iter().flatten() {
            out.push((module.clone(), r));
        }
        for c in m.get("child_modules").and_then(Value::as_array).into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    if let Some(root) = plan.get("planned_values").and_then(|p| p.get("root_module")) {
        walk(root, &mut out);
    }
    out
}

/// What the deployment was applied under: the break-glass session its admission used, or the
/// change window of the governing rules at its decision time.
pub fn applied_under(paths: &Paths, d: &Deployed) -> String {
    applied_under_in(&Opened::each_time(), paths, d)
}

/// [`applied_under`] with the releases of `opened`.
pub fn applied_under_in(opened: &Opened, paths: &Paths, d: &Deployed) -> String {
    if let Some(bg) = &d.break_glass {
        let approvers: Vec<&str> = bg.approvals.iter().map(|a| a.identity.as_str()).collect();
        return format!(
            "BREAK-GLASS session {} opened by {} at {} ({}{}), approved by {}: emergency tier, no change window",
            bg.request.sequence,
            bg.request.identity,
            bg.request.time,
            bg.request.ticket.as_deref().unwrap_or("-"),
            bg.request.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default(),
            if approvers.is_empty() { "nobody".to_string() } else { approvers.join(", ") }
        );
    }
    let Some(ip) = &d.admission else {
        return "unknown: the deployment names no decision point (in_progress_record)".into();
    };
    let tier = d.tier.as_deref().and_then(Tier::parse);
    let governing = ip.typed.deployment().and_then(|x| x.governance_release.as_deref());
    let (Some(tier), Some(governing)) = (tier, governing) else {
        return "unknown: the decision point names no tier or governing release".into();
    };
    let checked = (|| -> Result<String> {
        let g = Governance::of(&*opened.open(paths, governing)?)?;
        let env = d.environment.as_str();
        let req = g.policy.requirement(tier, env);
        let t = parse_time(&ip.time)?;
        Ok(match g.windows.check(env, req.change_window, t) {
            Ok(()) if req.change_window => format!(
                "inside the change window of {env} for a {tier} change at {} (change windows of release {})",
                ip.time,
                lz_evidence::record::short(governing)
            ),
            Ok(()) => format!(
                "no change window needed for a {tier} change in {env}; no freeze at {} (rules of release {})",
                ip.time,
                lz_evidence::record::short(governing)
            ),
            Err(r) => format!("OUTSIDE the change window at {}: {}", ip.time, r.reason),
        })
    })();
    checked.unwrap_or_else(|e| format!("unknown: {e:#}"))
}

/// The provenance of `address` in `environment` at `at` (now for `None`). `Ok(None)` when
/// nothing (admitted) was deployed there by then; an address the deployed plan does not declare
/// gives an answer whose `resource` is `None`.
pub fn resource(
    paths: &Paths,
    query: &Query,
    environment: &str,
    address: &str,
    at: Option<OffsetDateTime>,
    rejected: &[(u64, String)],
) -> Result<Option<ResourceAnswer>> {
    resource_in(&Opened::each_time(), paths, query, environment, address, at, rejected)
}

/// [`resource`] with the releases of `opened` (the look-up passes the replay's: the answering
/// deployment's release is opened, and its plan rendered, once for both).
pub fn resource_in(
    opened: &Opened,
    paths: &Paths,
    query: &Query,
    environment: &str,
    address: &str,
    at: Option<OffsetDateTime>,
    rejected: &[(u64, String)],
) -> Result<Option<ResourceAnswer>> {
    let skip: BTreeSet<u64> = rejected.iter().map(|(s, _)| *s).collect();
    let Some(deployed) = query.deployed(environment, at, &skip)? else {
        return Ok(None);
    };
    let archive = opened.open(paths, &deployed.release)?;
    let plan = archive.plan(environment)?;
    let rendered = plan_digest(&plan);
    let recorded = deployed.plan_digest.clone().unwrap_or_default();
    let redacted = lz_evidence::redact::redact_plan(&plan);
    let all = planned_resources(&redacted);
    let resource = all.iter().find(|(_, r)| r.get("address").and_then(Value::as_str) == Some(address)).map(|(module, r)| PlannedResource {
        address: address.to_string(),
        resource_type: r.get("type").and_then(Value::as_str).unwrap_or_default().to_string(),
        module: module.clone(),
        values: r.get("values").cloned().unwrap_or(Value::Null),
    });
    let in_env: Vec<(u64, String)> = rejected
        .iter()
        .filter(|(s, _)| query.index.entries.iter().any(|e| e.sequence == *s && e.environment.as_deref() == Some(environment)))
        .cloned()
        .collect();
    Ok(Some(ResourceAnswer {
        environment: environment.to_string(),
        address: address.to_string(),
        at: at.map(lz_evidence::record::format_time),
        release: deployed.release.clone(),
        plan_matches: rendered == recorded,
        plan_digest: recorded,
        rendered_plan_digest: rendered,
        resource,
        resources_in_plan: all.len(),
        applied_under: applied_under_in(opened, paths, &deployed),
        deployed,
        rejected: in_env,
    }))
}

/// `evidence query --resource` on a store change control names, end to end: the chain verified
/// once ([`crate::ledger::Ledger::open_checked`]: resumed from this process's last verification,
/// through the verifier's mirror for S3, with the `known` and `witnessed` checkpoints), the
/// deployments whose admission the replay rejects, the index of the verified records and the
/// answer. Every later step reads that one verification.
pub struct Looked {
    pub answer: Option<ResourceAnswer>,
    /// The foreign objects the verification found (reported by the caller).
    pub quarantined: Vec<lz_evidence::Quarantined>,
    /// The sequence and hash of the chain's last record.
    pub head: Option<(u64, String)>,
    /// How many release archives the look-up read from the release store (each once).
    pub releases_opened: usize,
}

pub fn look_up(
    paths: &Paths,
    known: &[lz_evidence::KnownCheckpoint],
    witnessed: &[lz_evidence::witness::Witnessed],
    environment: &str,
    address: &str,
    at: Option<OffsetDateTime>,
) -> Result<Looked> {
    let ledger = crate::ledger::Ledger::open_checked(&paths.trust, &paths.evidence, Some(paths.mirror_dir()), known, witnessed)?;
    // The one verification, read in place (no copy of the chain or its records).
    let snapshot = ledger.snapshot()?;
    let chain = &snapshot.chain;
    // One pass over the deployments in chain order, each verdict from the ones before it, the
    // releases opened once and shared with the answer (nothing persisted: `crate::opened`).
    let opened = Opened::shared();
    let rejected: Vec<(u64, String)> = crate::replay::rejected_in(&opened, paths, &ledger, &snapshot.records)?.into_iter().collect();
    let index = Index::from_verified(chain);
    let query = Query { index: &index, source: Source::Verified(&chain.records), range: TimeRange::default() };
    let answer = resource_in(&opened, paths, &query, environment, address, at, &rejected)?;
    Ok(Looked { answer, quarantined: chain.quarantined.clone(), head: chain.head.clone(), releases_opened: opened.opens() })
}
