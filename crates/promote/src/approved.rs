//! Which deployments count as admitted under approvals (issue 32): a succeeded deployment whose
//! decision point (its `in-progress` record) used no break-glass session and rested on
//! approvals, people's or the policy identity's automatic approval of the same plan. What such a
//! deployment ran was reviewed; a break-glass run, or one recorded without approvals, proves
//! nothing about code a later decision relies on (released copies, restored rollbacks).
use crate::ledger::Record;
use lz_evidence::record::Kind;

/// Whether `deployment` (a closing record) succeeded and was admitted with approvals and
/// without break-glass (see the module doc).
pub fn with_approvals(records: &[Record], deployment: &Record) -> bool {
    if deployment.kind != Kind::Deployment || deployment.deployment_outcome() != Some("succeeded") {
        return false;
    }
    let Some(start) = deployment.deployment().and_then(|d| d.in_progress_record) else { return false };
    let Some(decision) = records.iter().find(|r| r.sequence == start).and_then(|r| r.deployment()) else { return false };
    if decision.break_glass.is_some() {
        return false;
    }
    if decision.approvals.as_ref().is_some_and(|a| !a.is_empty()) {
        return true;
    }
    // A tier approved by policy: the policy identity's approval of this very plan.
    records.iter().any(|r| {
        r.kind == Kind::Approval
            && r.sequence < start
            && r.release == deployment.release
            && r.environment == deployment.environment
            && r.plan_digest.is_some()
            && r.plan_digest == deployment.plan_digest
            && r.details.approval().is_some_and(|a| a.auto == Some(true) && a.decision.as_deref() == Some("approved"))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::adoption::tests::rec;
    use lz_evidence::details::{ApprovalDetails, DeploymentDetails, Details};

    /// The decision point `seq` of `release` in `env` (with `approvals` and `break_glass`), and
    /// its closing record `seq + 1` with `outcome`, both of plan "p".
    pub(crate) fn deployed(seq: u64, release: &str, env: &str, approvals: &[u64], break_glass: Option<u64>, outcome: &str) -> [Record; 2] {
        let start = DeploymentDetails { outcome: "in-progress".into(), approvals: Some(approvals.to_vec()), break_glass, ..Default::default() };
        let end = DeploymentDetails { outcome: outcome.into(), in_progress_record: Some(seq), ..Default::default() };
        let mut a = rec(seq, release, env, Kind::Deployment, Details::Deployment(start));
        let mut b = rec(seq + 1, release, env, Kind::Deployment, Details::Deployment(end));
        a.plan_digest = Some("p".into());
        b.plan_digest = Some("p".into());
        [a, b]
    }

    /// Only a succeeded deployment whose decision used approvals (people's, or the policy
    /// identity's approval of the same plan) and no break-glass session counts.
    #[test]
    fn only_a_deployment_admitted_with_approvals_and_without_break_glass_counts() {
        let r = "a".repeat(64);
        let ok = deployed(10, &r, "dev", &[3], None, "succeeded");
        assert!(with_approvals(&ok, &ok[1]) && !with_approvals(&ok, &ok[0]), "the closing record counts, the decision point does not");
        let glass = deployed(10, &r, "dev", &[3], Some(7), "succeeded");
        assert!(!with_approvals(&glass, &glass[1]), "break-glass");
        let failed = deployed(10, &r, "dev", &[3], None, "failed");
        assert!(!with_approvals(&failed, &failed[1]));
        let bare = deployed(10, &r, "dev", &[], None, "succeeded");
        assert!(!with_approvals(&bare, &bare[1]), "no approvals");
        let auto = ApprovalDetails { decision: Some("approved".into()), auto: Some(true), ..Default::default() };
        let mut approval = rec(5, &r, "dev", Kind::Approval, Details::Approval(auto));
        approval.plan_digest = Some("other".into());
        let mut records = vec![approval.clone()];
        records.extend(bare.clone());
        assert!(!with_approvals(&records, &records[2]), "an approval of another plan");
        approval.plan_digest = Some("p".into());
        records[0] = approval;
        assert!(with_approvals(&records, &records[2]), "approved by policy");
    }
}
