//! Decide under a fence. A promotion's classification rests on the environment's baseline (its
//! last admitted deployment) and on the governance that deployment brings; both are read when
//! the [`Session`] opens, and the apply comes minutes later. A [`Fence`] is what the decision
//! read, and every later step holds the chain and the state to it:
//!
//! - before the auto-approval and the admission ([`Session::reload`]), the re-read chain must
//!   still have the same last admitted deployment in the environment;
//! - the `in-progress` record, the decision point that replay re-derives the admission from, is
//!   appended by compare-and-swap ([`crate::ledger::Ledger::append_if`]): the fence is checked on
//!   exactly the records before the sequence the record takes, so the replay sees the baseline the
//!   decision saw;
//! - before `terraform apply`, the chain is checked again and the saved plan's state (the state
//!   object read after the plan: a newer one makes the saved plan stale, and Terraform refuses it)
//!   must hold the baseline's release (or this run's own, after a dead run of it).
//!
//! A moved baseline is a refusal naming what moved: "the baseline of prod moved from A to B while
//! this run waited; re-run classify".

use anyhow::Result;

use crate::approval::short;
use crate::ledger::{Ledger, Record};
use crate::refusal::refuse;
use crate::session::{last_deployment, Session};
use crate::Paths;

/// What a decision read: the environment and its last admitted deployment then.
#[derive(Clone, Debug)]
pub struct Fence {
    pub paths: Paths,
    pub environment: String,
    /// The release the decision is about.
    pub release: String,
    /// (record, release) of the last admitted deployment, `None` when nothing was deployed.
    pub baseline: Option<(u64, String)>,
}

fn describe(at: &Option<(u64, String)>) -> String {
    match at {
        Some((record, release)) => format!("release {} (record {record})", short(release)),
        None => "nothing deployed".to_string(),
    }
}

impl Fence {
    /// The fence of `session`: its baseline as it was opened.
    pub fn of(session: &Session) -> Fence {
        Fence {
            paths: session.paths.clone(),
            environment: session.environment.clone(),
            release: session.digest().to_string(),
            baseline: session.baseline.as_ref().map(|b| (b.record, b.release.clone())),
        }
    }

    /// Refuses when the last deployment of the environment among `admitted` (records whose
    /// deployments were all replayed and admitted) is not the fence's.
    pub fn check_admitted(&self, admitted: &[Record]) -> Result<()> {
        let now = last_deployment(admitted, &self.environment).map(|d| (d.sequence, d.release.clone()));
        if now != self.baseline {
            return Err(refuse!(
                "the baseline of {} moved from {} to {} while this run waited; re-run classify",
                self.environment,
                describe(&self.baseline),
                describe(&now)
            ));
        }
        Ok(())
    }

    /// [`Fence::check_admitted`] on `records` (a verified chain of `ledger`, or a prefix),
    /// replaying its deployments first.
    pub fn check(&self, ledger: &Ledger, records: Vec<Record>) -> Result<()> {
        let (admitted, _) = crate::replay::admitted_records(&self.paths, ledger, records)?;
        self.check_admitted(&admitted)
    }

    /// Refuses when the state a saved plan will apply to holds another release than the fence's
    /// baseline (or this run's own release, which a dead run of it may have applied).
    pub fn check_state(&self, state_release: Option<&str>) -> Result<()> {
        let Some(held) = state_release else { return Ok(()) };
        let base = self.baseline.as_ref().map(|(_, r)| r.as_str());
        if Some(held) != base && held != self.release {
            return Err(refuse!(
                "the state of {} holds release {}, but this run was decided against {}: another promotion applied while this run waited; nothing was applied; re-run classify",
                self.environment,
                short(held),
                describe(&self.baseline)
            ));
        }
        Ok(())
    }
}
