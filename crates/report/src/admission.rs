//! Each deployment's own admission (tier, approvals counted, change window or break-glass), the
//! attempts change control refused (a policy evaluation no decision point followed) with the
//! reason replayed, and the one-screen summary of a release.
//!
//! A deployment's admission is the one its decision point (`in_progress_record`) names, never
//! another attempt's approvals; under break-glass the tier is `emergency` and the page says so.

use anyhow::Result;
use lz_evidence::query::{EnvironmentCustody, Query, RecordSummary};
use lz_promote::ledger::Record;
use lz_promote::session::Session;
use lz_promote::Paths;
use serde::Serialize;
use serde_json::Value;

use crate::change::ChangeSet;

/// One deployment (completion record) and the admission it rests on.
#[derive(Clone, Debug, Serialize)]
pub struct DeploymentAdmission {
    pub record: u64,
    pub time: String,
    pub outcome: String,
    pub deployer: String,
    pub plan_digest: Option<String>,
    /// The decision point the deployment names.
    pub in_progress: Option<u64>,
    pub tier: String,
    pub emergency: bool,
    /// Approvals the admission counted: record, identity, time.
    pub approvals: Vec<(u64, String, String)>,
    pub break_glass: Option<u64>,
    pub policy_evaluation: Option<u64>,
    /// The change window or break-glass session it was applied under.
    pub applied_under: String,
    /// Set when the replay rejects the admission.
    pub rejected: Option<String>,
}

/// A policy evaluation that no decision point followed: an attempt change control refused.
#[derive(Clone, Debug, Serialize)]
pub struct RefusedAttempt {
    pub policy_record: u64,
    pub time: String,
    pub plan_digest: Option<String>,
    pub reason: String,
}

fn outcome(s: &RecordSummary) -> &str {
    s.typed.outcome().unwrap_or("")
}

/// The admissions of the environment's deployments (completions: `succeeded`, `failed`), in
/// chain order.
pub fn admissions(paths: &Paths, q: &Query, c: &EnvironmentCustody, rejected: &[(u64, String)]) -> Result<Vec<DeploymentAdmission>> {
    let mut out = Vec::new();
    for d in c.deployments.iter().filter(|d| outcome(d) != "in-progress") {
        let a = q.admission_of(d.clone())?;
        let applied_under = if a.admission.is_some() { lz_promote::provenance::applied_under(paths, &a) } else { "no decision point named".into() };
        let tier = a.tier.clone().unwrap_or_else(|| "unknown".into());
        out.push(DeploymentAdmission {
            record: d.sequence,
            time: d.time.clone(),
            outcome: outcome(d).to_string(),
            deployer: d.identity.clone(),
            plan_digest: d.plan_digest.clone(),
            in_progress: a.admission.as_ref().map(|r| r.sequence),
            emergency: tier == "emergency" || a.break_glass.is_some(),
            tier,
            approvals: if a.admission.is_some() { a.approvals.iter().map(|r| (r.sequence, r.identity.clone(), r.time.clone())).collect() } else { Vec::new() },
            break_glass: a.break_glass.as_ref().map(|b| b.request.sequence),
            policy_evaluation: a.policy_evaluation.as_ref().map(|p| p.sequence),
            applied_under,
            rejected: rejected.iter().find(|(s, _)| *s == d.sequence).map(|(_, w)| w.clone()),
        });
    }
    Ok(out)
}

/// Policy evaluations of the environment that no decision point names, with the reason the
/// admission refused, replayed from the admitted chain up to the evaluation.
pub fn refused(paths: &Paths, environment: &str, c: &EnvironmentCustody, admitted: &[Record]) -> Vec<RefusedAttempt> {
    let named: Vec<u64> = c
        .deployments
        .iter()
        .filter(|d| outcome(d) == "in-progress")
        .filter_map(|d| d.typed.deployment().and_then(|x| x.policy_evaluation))
        .collect();
    c.policy_evaluations
        .iter()
        .filter(|p| !named.contains(&p.sequence))
        .map(|p| RefusedAttempt {
            policy_record: p.sequence,
            time: p.time.clone(),
            plan_digest: p.plan_digest.clone(),
            reason: refusal_reason(paths, environment, p, admitted),
        })
        .collect()
}

fn refusal_reason(paths: &Paths, environment: &str, p: &RecordSummary, admitted: &[Record]) -> String {
    let evaluation = p.typed.policy_evaluation();
    if evaluation.and_then(|x| x.passed) != Some(true) {
        let failing: Vec<String> = evaluation
            .and_then(|x| x.findings.as_ref())
            .into_iter()
            .flatten()
            .filter(|f| f.get("exception_id").is_none_or(Value::is_null))
            .take(5)
            .map(|f| format!("{} {}", f.get("rule_id").and_then(Value::as_str).unwrap_or("?"), f.get("address").and_then(Value::as_str).unwrap_or("?")))
            .collect();
        return format!("the policy evaluation failed ({})", failing.join(", "));
    }
    let replayed = (|| -> Result<Option<String>> {
        let ledger = paths.ledger()?;
        let before: Vec<Record> = admitted.iter().filter(|r| r.sequence <= p.sequence).cloned().collect();
        let s = Session::from_records(paths, &ledger, before, &p.release, environment)?;
        let t = lz_evidence::record::parse_time(&p.time)?;
        let policy = s.evaluate_policy(t)?;
        Ok(s.admit_assuming_auto_approval("(the deployer)", &policy, t).err().map(|e| format!("{e:#}")))
    })();
    match replayed {
        Ok(Some(why)) => why,
        Ok(None) => "admissible when replayed: the run stopped after its policy evaluation (facts gate, state lock or interruption) and recorded no decision point".into(),
        Err(e) => format!("refused: {e:#}"),
    }
}

/// One environment's line of the summary.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    pub environment: String,
    pub tier: String,
    pub emergency: bool,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// "complete (2 approvals)", "break-glass", "not deployed", ...
    pub approvals: String,
    pub approvals_complete: bool,
    pub deployed: String,
    pub refused: usize,
}

/// The one-screen summary at the top of a release.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub release: String,
    pub author: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub rows: Vec<SummaryRow>,
    pub exceptions_used: Vec<String>,
    pub emergency: bool,
}

pub fn summary_row(
    environment: &str,
    change: Option<&ChangeSet>,
    admissions: &[DeploymentAdmission],
    refused: &[RefusedAttempt],
) -> SummaryRow {
    let last = admissions.iter().rev().find(|a| a.outcome == "succeeded").or(admissions.last());
    let (approvals, complete) = match last {
        None => ("not deployed".to_string(), false),
        Some(a) if a.rejected.is_some() => ("NO VALID ADMISSION".to_string(), false),
        Some(a) if a.emergency => (format!("BREAK-GLASS (record {})", a.break_glass.map(|s| s.to_string()).unwrap_or_else(|| "-".into())), false),
        Some(a) if a.approvals.is_empty() => (format!("complete: tier {} approved by policy", a.tier), true),
        Some(a) => (format!("complete: {} approval(s)", a.approvals.len()), true),
    };
    SummaryRow {
        environment: environment.to_string(),
        tier: last.map(|a| a.tier.clone()).or_else(|| change.map(|c| c.tier.clone())).unwrap_or_else(|| "-".into()),
        emergency: last.is_some_and(|a| a.emergency),
        added: change.map_or(0, |c| c.added),
        changed: change.map_or(0, |c| c.changed),
        removed: change.map_or(0, |c| c.removed),
        approvals,
        approvals_complete: complete,
        deployed: last.map(|a| format!("{} (record {})", a.outcome, a.record)).unwrap_or_else(|| "no".into()),
        refused: refused.len(),
    }
}
