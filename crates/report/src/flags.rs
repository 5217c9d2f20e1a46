//! Flags the report raises in an environment's section (issue 23.7): a successful deployment
//! whose recorded human approvals do not meet what the governing rules require for the tier
//! of its change. The replay (`lz_promote::replay`, the banner) rejects such a deployment too;
//! this names the rule beside the approvals it concerns, so "Tier high" never stands next to one
//! automatic approval without a warning.

use std::collections::BTreeMap;

use anyhow::Result;
use lz_evidence::query::EnvironmentCustody;
use lz_evidence::VerifiedRecord;
use lz_promote::approval;
use lz_promote::session::Session;
use lz_promote::Paths;
use serde::Serialize;

/// A deployment without the human approvals its tier needs.
#[derive(Clone, Debug, Serialize)]
pub struct MissingApprovals {
    /// The `succeeded` deployment record.
    pub sequence: u64,
    /// The tier of its change, replayed against the chain before its decision point.
    pub tier: String,
    /// What the rules require and what was recorded (the approval gate's own words).
    pub why: String,
}

/// The successful deployments of `release` in `environment` (custody `c`) whose human
/// approvals, as recorded before their decision point, do not satisfy the governing rules for
/// the tier of their change. A deployment under break-glass is shown in the break-glass section
/// instead; one that cannot be judged is flagged with why.
pub fn missing_approvals(
    paths: &Paths,
    release: &str,
    environment: &str,
    c: &EnvironmentCustody,
    by_seq: &BTreeMap<u64, &VerifiedRecord>,
) -> Vec<MissingApprovals> {
    let mut out = Vec::new();
    for s in &c.deployments {
        let Some(v) = by_seq.get(&s.sequence) else { continue };
        let Some(d) = v.details.deployment().filter(|d| d.outcome == "succeeded") else { continue };
        // The decision point the deployment names (itself when it names none).
        let at = d.in_progress_record.unwrap_or(s.sequence);
        if by_seq.get(&at).and_then(|r| r.details.deployment()).and_then(|ip| ip.break_glass).is_some() {
            continue;
        }
        let judged = (|| -> Result<Option<MissingApprovals>> {
            let session = Session::open_before(paths, release, environment, Some(at))?;
            let tier = session.classify()?.tier;
            let req = session.requirement(tier);
            if req.auto_approve {
                return Ok(None);
            }
            let (humans, _) = session.votes()?;
            let request = approval::Request {
                release: session.digest(),
                environment,
                plan_digest: &session.plan_digest,
                author: Some(&session.author),
                deployer: &v.statement.predicate.identity,
            };
            Ok(approval::evaluate(&req, &request, &humans)
                .err()
                .map(|e| MissingApprovals { sequence: s.sequence, tier: tier.as_str().to_string(), why: format!("{e:#}") }))
        })();
        match judged {
            Ok(Some(m)) => out.push(m),
            Ok(None) => {}
            Err(e) => out.push(MissingApprovals {
                sequence: s.sequence,
                tier: "unknown".into(),
                why: format!("its approvals cannot be judged: {e:#}"),
            }),
        }
    }
    out
}
