//! The adoption judgement of a session, kept for the evaluation that follows (issue 25).
//!
//! A promotion evaluates the gates twice at one time `now`: a dry run that decides whether the
//! policy identity's auto-approval is recorded, then the admission. The `adoption` gate is the
//! same function of the same inputs both times unless the chain moved between them, so the
//! admission takes the dry run's judgement when, and only when, nothing it read changed:
//!
//! - the same release, environment, governing release (and its catalog), plan and paths,
//!   judged at the same second;
//! - the session's records are the ones judged (each the same record: sequence, kind, signer,
//!   time, release, environment, plan and details), followed by nothing, or by exactly the one
//!   record this session appended since ([`Judged::appended_auto_approval`], called by
//!   `Session::record_auto_approval`): the policy identity's automatic approval of this
//!   release in this environment for this plan, at the sequence the append returned.
//!
//! Why that approval changes nothing: the judgement (`crate::adoption::admit`) reads a chain's
//! deployment, adoption, drift and governance-pin records, and approvals only through
//! `crate::approved::with_approvals`, which counts the policy identity's approval of a plan
//! only when it precedes the deployment's `in-progress` record; an approval recorded after every
//! judged record precedes none of them (`an_appended_approval_changes_no_adoption_judgement`
//! in `crate::adoption`'s tests runs the rules over its test chains with approvals appended). Any other record (an
//! approval by anyone else, another writer's deployment, adoption or drift check between the
//! dry run and the admission) and the admission judges again. Only an accepted judgement is
//! kept: a refusal is judged again, so it is reported as the admission sees it.
//!
//! The gates stay one evaluation (`crate::gates::evaluate`, in gate order) for the dry run, the
//! admission, `promote --dry-run` and `classify`; only the work of judging twice is saved.

use std::sync::Mutex;

use anyhow::{anyhow, Result};
use lz_evidence::record::Kind;

use crate::ledger::Record;

/// What a judgement read besides the records: the session's release, environment, governing
/// release and the catalog it carries, plan, paths, and the time it was judged at (seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub release: String,
    pub environment: String,
    pub governing: String,
    pub governing_catalog: Option<Vec<u8>>,
    pub plan_digest: String,
    /// The session's paths (repository root, stores, work directory), as written.
    pub paths: String,
    pub now: i64,
}

/// One accepted judgement and what it read.
#[derive(Clone, Debug)]
struct Judgement<T> {
    key: Key,
    records: Vec<Record>,
    accepted: T,
}

/// The policy identity's automatic approval this session appended: its sequence and the
/// identity it must be signed by.
#[derive(Clone, Debug)]
struct Appended {
    sequence: u64,
    identity: String,
}

#[derive(Debug)]
struct State<T> {
    kept: Option<Judgement<T>>,
    appended: Option<Appended>,
}

/// The last accepted judgement of a session (see the module documentation).
#[derive(Debug)]
pub struct Judged<T>(Mutex<State<T>>);

impl<T> Default for Judged<T> {
    fn default() -> Self {
        Judged(Mutex::new(State { kept: None, appended: None }))
    }
}

/// Whether `a` and `b` are the same record (every field the judgement can read).
fn same(a: &Record, b: &Record) -> bool {
    a.sequence == b.sequence
        && a.kind == b.kind
        && a.identity == b.identity
        && a.signer.keyid == b.signer.keyid
        && a.time == b.time
        && a.release == b.release
        && a.environment == b.environment
        && a.account == b.account
        && a.plan_digest == b.plan_digest
        && a.ticket == b.ticket
        && a.reason == b.reason
        && a.details == b.details
}

/// Whether `r` is the automatic approval `appended` names, of `key`'s release, environment and
/// plan, signed by the policy identity.
fn is_the_auto_approval(r: &Record, appended: &Appended, key: &Key) -> bool {
    r.sequence == appended.sequence
        && r.kind == Kind::Approval
        && r.identity == appended.identity
        && r.release == key.release
        && r.environment.as_deref() == Some(key.environment.as_str())
        && r.plan_digest.as_deref() == Some(key.plan_digest.as_str())
        && r.details.approval().is_some_and(|a| a.auto == Some(true))
}

/// Whether a judgement of `judged` holds for `now`: the same records, then at most the one
/// automatic approval this session appended.
fn holds(judged: &[Record], now: &[Record], key: &Key, appended: Option<&Appended>) -> bool {
    if now.len() < judged.len() || !judged.iter().zip(now).all(|(a, b)| same(a, b)) {
        return false;
    }
    match (&now[judged.len()..], appended) {
        ([], _) => true,
        ([r], Some(a)) => is_the_auto_approval(r, a, key),
        _ => false,
    }
}

fn unusable() -> anyhow::Error {
    anyhow!("the adoption judgement kept for this session is unusable: an earlier judgement panicked")
}

impl<T: Clone> Judged<T> {
    /// What `judge` (the adoption judgement of `records` with `key`) accepts: the kept judgement
    /// when it holds for `key` and `records`, else `judge` run (without holding the lock), its
    /// acceptance kept.
    pub fn once(&self, key: Key, records: &[Record], judge: impl FnOnce() -> Result<T>) -> Result<T> {
        {
            let state = self.0.lock().map_err(|_| unusable())?;
            if let Some(j) = state.kept.as_ref().filter(|j| j.key == key && holds(&j.records, records, &key, state.appended.as_ref())) {
                return Ok(j.accepted.clone());
            }
        }
        count();
        let judged = judge();
        let mut state = self.0.lock().map_err(|_| unusable())?;
        state.kept = judged.as_ref().ok().map(|a| Judgement { key, records: records.to_vec(), accepted: a.clone() });
        state.appended = None;
        judged
    }

    /// Notes that this session appended the automatic approval at `sequence`, signed by
    /// `identity` (the policy identity): the one record a kept judgement may be followed by.
    pub(crate) fn appended_auto_approval(&self, sequence: u64, identity: &str) -> Result<()> {
        let mut state = self.0.lock().map_err(|_| unusable())?;
        state.appended = Some(Appended { sequence, identity: identity.to_string() });
        Ok(())
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

    /// `r` signed by one key for every test record (`rec` makes a key per record).
    fn one_key(mut r: Record) -> Record {
        static SIGNER: std::sync::OnceLock<lz_evidence::Identity> = std::sync::OnceLock::new();
        r.signer = SIGNER.get_or_init(|| rec(0, "r", "dev", Kind::Approval, Details::Approval(ApprovalDetails::default())).signer).clone();
        r
    }

    /// The policy identity's automatic approval of release `r` in dev for plan `p`.
    fn approval(seq: u64) -> Record {
        let mut a = rec(seq, "r", "dev", Kind::Approval, Details::Approval(ApprovalDetails { auto: Some(true), ..Default::default() }));
        a.identity = "policy-bot".into();
        a.plan_digest = Some("p".into());
        one_key(a)
    }

    fn deployment(seq: u64) -> Record {
        one_key(rec(seq, "r", "dev", Kind::Deployment, Details::Deployment(DeploymentDetails { outcome: "succeeded".into(), ..Default::default() })))
    }

    fn key(now: i64) -> Key {
        Key {
            release: "r".into(),
            environment: "dev".into(),
            governing: "g".into(),
            governing_catalog: None,
            plan_digest: "p".into(),
            paths: "here".into(),
            now,
        }
    }

    fn appended(sequence: u64) -> Appended {
        Appended { sequence, identity: "policy-bot".into() }
    }

    #[test]
    fn a_judgement_holds_for_the_same_records_followed_by_the_appended_auto_approval_only() {
        let judged = [deployment(1), approval(2)];
        let k = key(100);
        assert!(holds(&judged, &judged, &k, None));
        // The policy identity's auto-approval this session appended: it still holds.
        assert!(holds(&judged, &[deployment(1), approval(2), approval(3)], &k, Some(&appended(3))));
        // Not noted as appended, at another sequence, or a second approval after it: judged again.
        assert!(!holds(&judged, &[deployment(1), approval(2), approval(3)], &k, None));
        assert!(!holds(&judged, &[deployment(1), approval(2), approval(3)], &k, Some(&appended(4))));
        assert!(!holds(&judged, &[deployment(1), approval(2), approval(3), approval(4)], &k, Some(&appended(3))));
        // The approval at that sequence is another's, not automatic, or of another release,
        // environment or plan: another writer's record, judged again.
        let other = |f: &dyn Fn(&mut Record)| {
            let mut a = approval(3);
            f(&mut a);
            holds(&judged, &[deployment(1), approval(2), a], &k, Some(&appended(3)))
        };
        assert!(other(&|_| {}));
        assert!(!other(&|a| a.identity = "alice".into()));
        assert!(!other(&|a| a.details = Details::Approval(ApprovalDetails::default())));
        assert!(!other(&|a| a.release = "s".into()));
        assert!(!other(&|a| a.environment = Some("prod".into())));
        assert!(!other(&|a| a.plan_digest = Some("q".into())));
        assert!(!other(&|a| a.kind = Kind::Deployment));
        // Another writer's deployment between the dry run and the admission: judged again.
        assert!(!holds(&judged, &[deployment(1), approval(2), deployment(3)], &k, Some(&appended(3))));
        // Fewer records, or other records at the judged places (any field): judged again.
        assert!(!holds(&judged, &[deployment(1)], &k, None));
        assert!(!holds(&judged, &[deployment(1), deployment(2)], &k, None));
        for change in [
            |r: &mut Record| r.release = "s".into(),
            |r: &mut Record| r.environment = Some("prod".into()),
            |r: &mut Record| r.reason = Some("other".into()),
            |r: &mut Record| r.time += time::Duration::seconds(1),
            |r: &mut Record| r.details = Details::Deployment(DeploymentDetails { outcome: "failed".into(), ..Default::default() }),
            |r: &mut Record| r.signer = rec(1, "r", "dev", Kind::Deployment, Details::Deployment(DeploymentDetails::default())).signer,
        ] {
            let mut d = deployment(1);
            change(&mut d);
            assert!(!holds(&judged, &[d, approval(2)], &k, None));
        }
    }

    #[test]
    fn a_kept_judgement_serves_only_the_same_key_and_records() {
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
        judged.appended_auto_approval(2, "policy-bot").unwrap();
        assert_eq!(judged.once(key(100), &approved, || judge(2)).unwrap(), 1);
        assert_eq!(runs.get(), 1);
        // Anything else the judgement reads differs: judged again.
        let variants: [fn(&mut Key); 7] = [
            |k| k.now += 1,
            |k| k.release = "s".into(),
            |k| k.environment = "prod".into(),
            |k| k.governing = "h".into(),
            |k| k.governing_catalog = Some(b"[modules]".to_vec()),
            |k| k.plan_digest = "q".into(),
            |k| k.paths = "there".into(),
        ];
        for (n, change) in variants.iter().enumerate() {
            let judged = Judged::default();
            judged.once(key(100), &records, || judge(10)).unwrap();
            let mut k = key(100);
            change(&mut k);
            assert_eq!(judged.once(k, &records, || judge(20 + n as u32)).unwrap(), 20 + n as u32, "variant {n}");
        }
        // Another record since: judged again.
        assert_eq!(judged.once(key(100), &[deployment(1), approval(2), deployment(3)], || judge(4)).unwrap(), 4);
        // A refusal is not kept: the next evaluation judges again (and the kept one is gone).
        assert!(judged.once(key(102), &approved, || -> Result<u32> { anyhow::bail!("refused") }).is_err());
        assert_eq!(judged.once(key(102), &approved, || judge(5)).unwrap(), 5);
    }

    #[test]
    fn a_judgement_that_panicked_leaves_an_error_not_a_panic() {
        let judged: Judged<u32> = Judged::default();
        // A judge panicking while the lock is held poisons it (the lock is not held while
        // `judge` runs, so poison it directly).
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _held = judged.0.lock().unwrap();
            panic!("a judgement panicked");
        }));
        let e = judged.once(key(100), &[deployment(1)], || Ok(1)).unwrap_err();
        assert!(format!("{e:#}").contains("unusable"), "{e:#}");
        assert!(judged.appended_auto_approval(2, "policy-bot").is_err());
    }

    #[test]
    fn judging_does_not_hold_the_lock() {
        // A judgement that evaluates the same session again (re-entrant) does not deadlock.
        let judged: Judged<u32> = Judged::default();
        let inner = judged.once(key(100), &[deployment(1)], || judged.once(key(101), &[deployment(1)], || Ok(7))).unwrap();
        assert_eq!(inner, 7);
    }
}
