//! The adoption judgement of a session, kept for the evaluation that follows (issue 25).
//!
//! A promotion evaluates the gates twice at one time `now`: a dry run that decides whether the
//! policy identity's auto-approval is recorded, then the admission. The `adoption` gate is the
//! same function of the same inputs both times unless the chain moved between them, so the
//! admission takes the dry run's judgement when, and only when, nothing it read changed:
//!
//! - the same release, environment, governing release and plan, judged at the same second;
//! - the session's records are the ones judged, followed only by `approval` records.
//!
//! Why an approval appended after the judged records changes nothing: the judgement
//! (`crate::adoption::admit`) reads a chain's deployment, adoption, drift and governance-pin
//! records, and approvals only through `crate::approved::with_approvals`, which counts the
//! policy identity's approval of a plan only when it precedes the deployment's `in-progress`
//! record; an approval recorded after every judged record precedes none of them. Any other
//! record (another writer's deployment, adoption or drift check between the dry run and the
//! admission) and the admission judges again. Only an accepted judgement is kept: a refusal is
//! judged again, so it is reported as the admission sees it.
//!
//! The gates stay one evaluation (`crate::gates::evaluate`, in gate order) for the dry run, the
//! admission, `promote --dry-run` and `classify`; only the work of judging twice is saved.

use std::sync::Mutex;

use anyhow::Result;
use lz_evidence::record::Kind;

use crate::ledger::Record;

/// What a judgement read besides the records: the session's release, environment, governing
/// release and plan, and the time it was judged at (seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub release: String,
    pub environment: String,
    pub governing: String,
    pub plan_digest: String,
    pub now: i64,
}

/// One accepted judgement and what it read (each record by sequence, kind and release).
#[derive(Clone, Debug)]
struct Judgement<T> {
    key: Key,
    records: Vec<(u64, Kind, String)>,
    accepted: T,
}

/// The last accepted judgement of a session (see the module documentation).
#[derive(Debug)]
pub struct Judged<T>(Mutex<Option<Judgement<T>>>);

impl<T> Default for Judged<T> {
    fn default() -> Self {
        Judged(Mutex::new(None))
    }
}

fn read(records: &[Record]) -> Vec<(u64, Kind, String)> {
    records.iter().map(|r| (r.sequence, r.kind, r.release.clone())).collect()
}

/// Whether a judgement of `judged` holds for `now`: the same records, then approvals only.
fn holds(judged: &[(u64, Kind, String)], now: &[Record]) -> bool {
    now.len() >= judged.len()
        && judged.iter().zip(now).all(|((seq, kind, release), r)| *seq == r.sequence && *kind == r.kind && *release == r.release)
        && now[judged.len()..].iter().all(|r| r.kind == Kind::Approval)
}

impl<T: Clone> Judged<T> {
    /// What `judge` (the adoption judgement of `records` with `key`) accepts: the kept judgement
    /// when it holds for `key` and `records`, else `judge` run, its acceptance kept.
    pub fn once(&self, key: Key, records: &[Record], judge: impl FnOnce() -> Result<T>) -> Result<T> {
        let mut kept = self.0.lock().expect("not poisoned");
        if let Some(j) = kept.as_ref().filter(|j| j.key == key && holds(&j.records, records)) {
            return Ok(j.accepted.clone());
        }
        count();
        let judged = judge();
        *kept = judged.as_ref().ok().map(|a| Judgement { key, records: read(records), accepted: a.clone() });
        judged
    }
}

// Adoption judgements run on this thread, for tests that count them (`count_judgements`).
#[cfg(feature = "test-hooks")]
thread_local! {
    static COUNT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count() {
    #[cfg(feature = "test-hooks")]
    COUNT.with(|c| c.set(c.get() + 1));
}

/// The adoption judgements run on this thread so far (always zero without `test-hooks`).
pub fn count_judgements() -> u64 {
    #[cfg(feature = "test-hooks")]
    return COUNT.with(|c| c.get());
    #[cfg(not(feature = "test-hooks"))]
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adoption::tests::rec;
    use lz_evidence::details::{ApprovalDetails, DeploymentDetails, Details};

    fn approval(seq: u64) -> Record {
        rec(seq, "r", "dev", Kind::Approval, Details::Approval(ApprovalDetails { auto: Some(true), ..Default::default() }))
    }

    fn deployment(seq: u64) -> Record {
        rec(seq, "r", "dev", Kind::Deployment, Details::Deployment(DeploymentDetails { outcome: "succeeded".into(), ..Default::default() }))
    }

    #[test]
    fn a_judgement_holds_for_the_same_records_followed_by_approvals_only() {
        let judged = [deployment(1), approval(2)];
        let kept = read(&judged);
        assert!(holds(&kept, &judged));
        // The policy identity's auto-approval (or anyone's approval) appended: it still holds.
        assert!(holds(&kept, &[deployment(1), approval(2), approval(3), approval(4)]));
        // Another writer's deployment between the dry run and the admission: judged again.
        assert!(!holds(&kept, &[deployment(1), approval(2), approval(3), deployment(4)]));
        // Fewer records, or other records at the judged places: judged again.
        assert!(!holds(&kept, &[deployment(1)]));
        assert!(!holds(&kept, &[deployment(1), deployment(2)]));
        let mut other = approval(2);
        other.release = "s".into();
        assert!(!holds(&kept, &[deployment(1), other]));
    }

    #[test]
    fn a_kept_judgement_serves_only_the_same_key_and_records() {
        let key = |now| Key { release: "r".into(), environment: "dev".into(), governing: "g".into(), plan_digest: "p".into(), now };
        let judged = Judged::default();
        let runs = std::cell::Cell::new(0);
        let judge = |n: u32| {
            runs.set(runs.get() + 1);
            Ok(n)
        };
        let records = vec![deployment(1)];
        assert_eq!(judged.once(key(100), &records, || judge(1)).unwrap(), 1);
        // The admission after the dry run, its auto-approval recorded: the kept judgement.
        let approved = vec![deployment(1), approval(2)];
        assert_eq!(judged.once(key(100), &approved, || judge(2)).unwrap(), 1);
        assert_eq!(runs.get(), 1);
        // Another second, or another record since: judged again.
        assert_eq!(judged.once(key(101), &approved, || judge(3)).unwrap(), 3);
        assert_eq!(judged.once(key(101), &[deployment(1), approval(2), deployment(3)], || judge(4)).unwrap(), 4);
        assert_eq!(runs.get(), 3);
        // A refusal is not kept: the next evaluation judges again (and the kept one is gone).
        assert!(judged.once(key(102), &approved, || -> Result<u32> { anyhow::bail!("refused") }).is_err());
        assert_eq!(judged.once(key(102), &approved, || judge(5)).unwrap(), 5);
    }
}
