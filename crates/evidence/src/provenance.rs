//! Which deployment governed an environment at a time, and the admission it rests on: the
//! answer `evidence query --resource ADDRESS --env E [--at TIME]` starts from.
//!
//! A deployment names its decision point (`in_progress_record`); that record names the tier,
//! the approvals counted, the policy evaluation and the break-glass session the admission used.
//! Everything here is read from a verified chain through its [`Index`](crate::query::Index);
//! whether the admission itself holds is replayed by the caller (`lz_promote::replay`), whose
//! rejected deployments are passed as `skip`.

use std::collections::BTreeSet;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::query::{IndexEntry, Query, RecordSummary};
use crate::record::{parse_time, Kind};

/// A break-glass session an admission used: the request and its approvals.
#[derive(Clone, Debug, Serialize)]
pub struct BreakGlassUse {
    pub request: RecordSummary,
    pub approvals: Vec<RecordSummary>,
}

/// The successful deployment that governed an environment, and its admission.
#[derive(Clone, Debug, Serialize)]
pub struct Deployed {
    pub environment: String,
    pub release: String,
    pub plan_digest: Option<String>,
    /// The `succeeded` deployment record.
    pub deployment: RecordSummary,
    /// The `in-progress` record the deployment names (its decision point), when it names one.
    pub admission: Option<RecordSummary>,
    /// The tier the admission recorded (`emergency` under break-glass).
    pub tier: Option<String>,
    /// The plan record of the release's plan in the environment, when one was recorded.
    pub plan: Option<RecordSummary>,
    pub policy_evaluation: Option<RecordSummary>,
    /// The approvals the admission counted.
    pub approvals: Vec<RecordSummary>,
    /// The signed approvals of the exceptions the policy evaluation honoured.
    pub exception_approvals: Vec<RecordSummary>,
    pub break_glass: Option<BreakGlassUse>,
}

fn seq_of(v: Option<&Value>) -> Option<u64> {
    v.and_then(Value::as_u64)
}

/// The deployment details of a summary (typed, [`crate::details`]).
fn deployment(r: &RecordSummary) -> Option<&crate::details::DeploymentDetails> {
    r.typed.deployment()
}

impl Query<'_> {
    /// The last successful deployment of `environment` at or before `at` (the last one for
    /// `None`), leaving out the sequences in `skip` (deployments without a valid admission).
    pub fn deployed(&self, environment: &str, at: Option<OffsetDateTime>, skip: &BTreeSet<u64>) -> Result<Option<Deployed>> {
        for e in self.index.entries.iter().rev() {
            if e.kind != Kind::Deployment || e.environment.as_deref() != Some(environment) || skip.contains(&e.sequence) {
                continue;
            }
            if let Some(at) = at {
                if parse_time(&e.time)? > at {
                    continue;
                }
            }
            let r = self.read(e)?;
            if r.typed.outcome() != Some("succeeded") {
                continue;
            }
            return self.admission_of(r).map(Some);
        }
        Ok(None)
    }

    fn read_seq(&self, sequence: u64, kind: Kind) -> Result<Option<RecordSummary>> {
        match self.entry(sequence) {
            Some(e) if e.kind == kind => Ok(Some(self.read(e)?)),
            _ => Ok(None),
        }
    }

    /// Entries of `kind` for the deployment's release, environment and plan, before it.
    fn same_plan<'b>(&'b self, d: &'b RecordSummary, kind: Kind) -> impl Iterator<Item = &'b IndexEntry> + 'b {
        self.index.entries.iter().filter(move |e| {
            e.kind == kind
                && e.sequence < d.sequence
                && e.release == d.release
                && e.environment == d.environment
                && e.plan_digest == d.plan_digest
        })
    }

    /// The admission of the successful deployment `d` as the chain records it.
    pub fn admission_of(&self, d: RecordSummary) -> Result<Deployed> {
        let ip = match deployment(&d).and_then(|x| x.in_progress_record) {
            Some(s) => self.read_seq(s, Kind::Deployment)?.filter(|ip| {
                ip.sequence < d.sequence
                    && ip.release == d.release
                    && ip.environment == d.environment
                    && ip.plan_digest == d.plan_digest
                    && ip.typed.outcome() == Some("in-progress")
            }),
            None => None,
        };
        let mut approvals = Vec::new();
        let mut policy_evaluation = None;
        let mut break_glass = None;
        match &ip {
            Some(ip) => {
                let admitted = deployment(ip);
                for &s in admitted.and_then(|x| x.approvals.as_ref()).into_iter().flatten() {
                    approvals.extend(self.read_seq(s, Kind::Approval)?);
                }
                if let Some(s) = admitted.and_then(|x| x.policy_evaluation) {
                    policy_evaluation = self.read_seq(s, Kind::PolicyEvaluation)?;
                }
                if let Some(bg) = admitted.and_then(|x| x.break_glass) {
                    if let Some(request) = self.read_seq(bg, Kind::BreakGlass)? {
                        let mut bg_approvals = Vec::new();
                        for e in self.index.entries.iter().filter(|e| e.kind == Kind::BreakGlassApproval && e.sequence > bg && e.sequence < d.sequence) {
                            let a = self.read(e)?;
                            if a.typed.break_glass_sequence() == Some(bg) {
                                bg_approvals.push(a);
                            }
                        }
                        break_glass = Some(BreakGlassUse { request, approvals: bg_approvals });
                    }
                }
            }
            // A deployment that names no decision point: the approvals and the last policy
            // evaluation of its plan before it (what the chain holds; nothing says they counted).
            None => {
                let found: Vec<&IndexEntry> = self.same_plan(&d, Kind::Approval).collect();
                for e in found {
                    approvals.push(self.read(e)?);
                }
                if let Some(e) = self.same_plan(&d, Kind::PolicyEvaluation).last() {
                    policy_evaluation = Some(self.read(e)?);
                }
            }
        }
        let mut exception_approvals = Vec::new();
        if let Some(p) = &policy_evaluation {
            for u in p.typed.policy_evaluation().and_then(|x| x.exceptions.as_ref()).into_iter().flatten() {
                if let Some(s) = seq_of(u.get("approval")) {
                    exception_approvals.extend(self.read_seq(s, Kind::ExceptionApproval)?);
                }
            }
        }
        let plan = match self.same_plan(&d, Kind::Plan).last() {
            Some(e) => Some(self.read(e)?),
            None => None,
        };
        let tier = ip.as_ref().and_then(deployment).and_then(|x| x.tier.clone()).or_else(|| deployment(&d).and_then(|x| x.tier.clone()));
        Ok(Deployed {
            environment: d.environment.clone().unwrap_or_default(),
            release: d.release.clone(),
            plan_digest: d.plan_digest.clone(),
            admission: ip,
            tier,
            plan,
            policy_evaluation,
            approvals,
            exception_approvals,
            break_glass,
            deployment: d,
        })
    }
}
