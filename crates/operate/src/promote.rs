//! A promotion: the decision of a [`Session`] (promotion order, drift-clean previous
//! environment, in-process policy evaluation, risk tier, approvals and segregation of duties,
//! change window or break-glass), then the deployer role, the in-progress record, Terraform,
//! and the completion record.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::Signer;
use serde::Serialize;
use serde_json::Value;

use crate::approval::short;
use crate::clock::{Clock, Reading};
use crate::deploy::{self, Backend, RunAs};
use crate::ledger::{DeploymentDetails, Record};
use lz_evidence::details::LockRecoveryDetails;
use crate::refusal::{refuse, refuse_if};
use crate::session::{Admission, Session};

pub use crate::session::{last_deployment, previous_environment};

pub use crate::target::{assume_deployer, landing_zone_key, read_state, StateAt, Target};

/// Options of a promotion run.
pub struct Options<'a> {
    pub target: &'a Target,
    pub deployer: &'a Signer,
    /// The policy identity: signs the policy evaluation and the auto-approval of
    /// auto-approved tiers.
    pub policy_signer: &'a Signer,
    pub bake_seconds: u32,
    /// Release an orphaned state lock (its run dead, see [`orphan_of`]) with a signed
    /// lock-recovery record; without it such a lock is a refusal naming it.
    pub recover: bool,
    /// Where the previous environment's facts (its state bucket, its buckets' live controls)
    /// are checked before the run ([`crate::facts::gate`]); required unless the target is the
    /// first environment.
    pub previous: Option<&'a crate::facts::Place>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub admission: Admission,
    pub run: String,
    pub policy_record: u64,
    pub in_progress_record: u64,
    pub completion_record: u64,
    pub recovered: Vec<u64>,
    /// The lock-recovery record of the orphaned lock this run released (`--recover`).
    pub lock_recovery: Option<u64>,
    /// The in-progress record of the interrupted run whose apply this run found in the state
    /// and recorded as succeeded.
    pub completes_record: Option<u64>,
    /// The state after the run (serial, S3 version, release), when it could be read.
    pub state: Option<StateAt>,
    pub plan_digest: String,
    /// When the decision was taken (RFC 3339) and where that time came from.
    pub time: String,
    pub clock: String,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

fn pid_alive(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start())
            .is_some_and(|r| !r.starts_with('Z')),
        Err(_) => false,
    }
}

fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Promotion phases where a test build can stop a run (`test-hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The gates admitted the release; nothing of the run is recorded yet.
    Decision,
    /// The in-progress record is written; `terraform init` is next.
    Init,
    /// Initialised and interrupted runs recovered; `terraform plan` is next.
    Plan,
    /// Planned with changes; `terraform apply` is next.
    Apply,
    /// Applied; the state is read next.
    PostApply,
    /// The state is read; the completion record is next.
    Record,
}

impl Phase {
    pub const ALL: [Phase; 6] = [Phase::Decision, Phase::Init, Phase::Plan, Phase::Apply, Phase::PostApply, Phase::Record];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Decision => "decision",
            Phase::Init => "init",
            Phase::Plan => "plan",
            Phase::Apply => "apply",
            Phase::PostApply => "post-apply",
            Phase::Record => "record",
        }
    }
}

/// A phase boundary. Test builds only (`test-hooks`): when `<work>/promote-pause-at` names this
/// phase, the run takes that request (removes the file, so no other run pauses on it), writes
/// `<work>/promote-paused` and waits there while that file exists, so a test can SIGKILL it at
/// exactly this point, or let it go on by removing the file. The shipped binary has no such hook.
fn boundary(_work: &std::path::Path, _phase: Phase) {
    #[cfg(feature = "test-hooks")]
    {
        let at = _work.join("promote-pause-at");
        if std::fs::read_to_string(&at).is_ok_and(|s| s.trim() == _phase.as_str()) && std::fs::remove_file(&at).is_ok() {
            let _ = std::fs::create_dir_all(_work);
            let paused = _work.join("promote-paused");
            let _ = std::fs::write(&paused, _phase.as_str());
            while paused.exists() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

// Test builds only (`test-hooks`): what runs between the dry run's auto-approval and the
// admission (`between_dry_run_and_admission`).
#[cfg(feature = "test-hooks")]
type Hook = Box<dyn FnMut(&Session) -> Result<()>>;

#[cfg(feature = "test-hooks")]
thread_local! {
    static BETWEEN: std::cell::RefCell<Option<Hook>> = const { std::cell::RefCell::new(None) };
}

/// Test builds only (`test-hooks`): `hook` runs once on this thread, in [`decide`] right after
/// the auto-approval the dry run granted is recorded and before the admission reads the chain
/// again: where another writer's record lands between the two evaluations (`lz_promote::judged`).
#[cfg(feature = "test-hooks")]
pub fn between_dry_run_and_admission(hook: impl FnMut(&Session) -> Result<()> + 'static) {
    BETWEEN.with(|b| *b.borrow_mut() = Some(Box::new(hook)));
}

/// The fault point of `between_dry_run_and_admission` (nothing without `test-hooks`).
fn after_auto_approval(_session: &Session) -> Result<()> {
    #[cfg(feature = "test-hooks")]
    if let Some(mut hook) = BETWEEN.with(|b| b.borrow_mut().take()) {
        return hook(_session);
    }
    Ok(())
}

fn deployment_fields(
    release: &str,
    t: &Target,
    plan_digest: &str,
    outcome: &str,
    run: &str,
    now: &Reading,
    extra: DeploymentDetails,
) -> Fields {
    Fields::new(release).environment(&t.environment).account(&t.account_id).plan_digest(plan_digest).at(now.time).details(
        DeploymentDetails {
            outcome: outcome.into(),
            run: Some(run.into()),
            engine: extra.engine.or(Some(lz_evidence::details::Engine::Canary)),
            clock: Some(now.source.clone()),
            ..extra
        },
    )
}

/// Interrupted runs of this host (in-progress with no later record of the same run) whose
/// process is gone.
fn interrupted<'a>(records: &'a [Record], environment: &str) -> Vec<&'a Record> {
    let host = hostname();
    records
        .iter()
        .filter(|r| {
            r.kind == Kind::Deployment
                && r.environment.as_deref() == Some(environment)
                && r.deployment_outcome() == Some("in-progress")
        })
        .filter(|r| {
            let run = r.run().unwrap_or_default();
            !records.iter().any(|x| {
                x.sequence > r.sequence
                    && x.kind == Kind::Deployment
                    && (x.run() == Some(run) || recovers_run(x) == Some(run))
            })
        })
        .filter(|r| host_of(r) == Some(host.as_str()))
        .filter(|r| !r.deployment().and_then(|d| d.pid).is_some_and(pid_alive))
        .collect()
}

/// The run a `recovered` deployment record declares dead.
fn recovers_run(r: &Record) -> Option<&str> {
    r.deployment().and_then(|d| d.recovers_run.as_deref())
}

/// The host a deployment record's run ran on.
fn host_of(r: &Record) -> Option<&str> {
    r.deployment().and_then(|d| d.host.as_deref())
}

/// Whether a completion record closes the in-progress record `r`.
fn closed(records: &[Record], r: &Record) -> bool {
    records
        .iter()
        .any(|x| x.deployment().is_some_and(|d| d.in_progress_record == Some(r.sequence)))
}

fn in_progress<'a>(records: &'a [Record], environment: &str) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.kind == Kind::Deployment
                && r.environment.as_deref() == Some(environment)
                && r.deployment_outcome() == Some("in-progress")
                && !closed(records, r)
        })
        .collect()
}

/// The `recovered` record that declared the run of in-progress record `r` dead, if any.
fn recovery_of<'a>(records: &'a [Record], r: &Record) -> Option<&'a Record> {
    let run = r.run()?;
    records.iter().find(|x| x.deployment_outcome() == Some("recovered") && recovers_run(x) == Some(run))
}

/// Runs of `environment` that started, never finished, and were declared dead by a
/// `recovered` record (their process was gone on their host): (in-progress, recovered).
fn dead_runs<'a>(records: &'a [Record], environment: &str) -> Vec<(&'a Record, &'a Record)> {
    in_progress(records, environment).into_iter().filter_map(|r| Some((r, recovery_of(records, r)?))).collect()
}

/// Processes of this host named `terraform` whose working directory is `dir` or under it.
fn terraform_in(dir: &std::path::Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "terraform")
                && std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
                && pid_alive(*pid)
        })
        .collect()
}

/// Seconds a lock's creation time (the holder's clock) may precede its run's in-progress
/// record (the server's clock).
const LOCK_CLOCK_SKEW: i64 = 300;

/// The dead run that holds `lock`, or why the lock cannot be called orphaned. A lock is
/// orphaned only when every other unfinished run of the environment is known dead, the lock was
/// taken on this host after a dead run of this host started, that run's process is gone and no
/// Terraform works in its working copy. Terraform's lock info carries no run id (its `Who` is
/// user@host), so the run is named by host and time, never guessed across hosts.
fn orphan_of<'a>(
    records: &'a [Record],
    environment: &str,
    own_run: &str,
    lock: &deploy::LockInfo,
    work: &std::path::Path,
) -> std::result::Result<&'a Record, String> {
    let dead = dead_runs(records, environment);
    if let Some(live) = in_progress(records, environment)
        .into_iter()
        .filter(|r| r.run() != Some(own_run))
        .find(|r| !dead.iter().any(|(d, _)| d.sequence == r.sequence))
    {
        return Err(format!(
            "run {} by {} (record {}) has not finished and is not known to be dead: it may hold the lock",
            live.run().unwrap_or(""),
            live.identity,
            live.sequence
        ));
    }
    let host = hostname();
    if !lock.who.ends_with(&format!("@{host}")) {
        return Err(format!("the lock was taken by {} on another host than this one ({host})", lock.who));
    }
    let created = time::OffsetDateTime::parse(&lock.created, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("the lock's creation time {:?} is not RFC 3339: {e}", lock.created))?;
    let (run, _) = dead
        .iter()
        .filter(|(r, _)| host_of(r) == Some(host.as_str()))
        .filter(|(r, _)| r.time <= created + time::Duration::seconds(LOCK_CLOCK_SKEW))
        .max_by_key(|(r, _)| r.sequence)
        .ok_or_else(|| format!("no dead run of {host} started before the lock was taken ({})", lock.created))?;
    let id = run.run().unwrap_or_default();
    if let Some(pid) = run.deployment().and_then(|d| d.pid).filter(|p| pid_alive(*p)) {
        return Err(format!("process {pid} of run {id} is alive"));
    }
    let live = terraform_in(&work.join(format!("{environment}-{id}")));
    if !live.is_empty() {
        return Err(format!("terraform (process {live:?}) of run {id} is still running"));
    }
    Ok(run)
}

/// The dead run whose apply put `state` there: same release and admitted plan, the state
/// written after it started (its serial then was lower, or there was no state), and no
/// deployment of the environment succeeded since it started.
fn applied_by_dead_run<'a>(
    records: &'a [Record],
    environment: &str,
    release: &str,
    plan_digest: &str,
    state: &StateAt,
) -> Option<(&'a Record, &'a Record)> {
    if state.release.as_deref() != Some(release) {
        return None;
    }
    let since = last_deployment(records, environment).map(|d| d.sequence);
    dead_runs(records, environment)
        .into_iter()
        .filter(|(r, _)| r.release == release && r.plan_digest.as_deref() == Some(plan_digest))
        .filter(|(r, _)| since.is_none_or(|s| s < r.sequence))
        .filter(|(r, _)| match r.deployment().and_then(|d| d.state_before.as_ref()) {
            Some(None) | Some(Some(Value::Null)) => true,
            Some(Some(before)) => before.get("serial").and_then(Value::as_u64).is_some_and(|s| s < state.serial),
            None => false,
        })
        .max_by_key(|(r, _)| r.sequence)
}

/// Decides with `session` at the clock reading `now`, then deploys the canary with Terraform.
/// The policy evaluation is computed here, in process, and recorded by the policy identity; no
/// earlier record substitutes for it.
pub fn promote(session: &mut Session, opts: &Options, clock: &Clock) -> Result<Outcome> {
    promote_with(session, opts, clock, &crate::engine::Engine::canary())
}

/// The run a promotion step acts in: its ledger and the chain it decided on, its target, run id
/// and plan digest, and the working directory of the host's runs.
struct Run<'a> {
    ledger: &'a crate::ledger::Ledger,
    records: &'a [Record],
    target: &'a Target,
    run: &'a str,
    digest: &'a str,
    work: &'a std::path::Path,
}

/// The recovery step of a promotion: interrupted runs of this host whose process is gone are
/// recorded `recovered`, with the state lock as found; a lock such a dead run left is released
/// only with `--recover`, after a signed lock-recovery record (otherwise a refusal naming it).
/// A lock whose holder may be alive is left for the plan to meet. Returns the `recovered`
/// records and the lock-recovery record.
fn recover_interrupted(
    r: &Run,
    lock: Option<&deploy::LockInfo>,
    ws: &deploy::Workspace,
    backend: &Backend,
    opts: &Options,
    later: &dyn Fn() -> Result<Reading>,
) -> Result<(Vec<u64>, Option<u64>)> {
    let (t, run, ledger) = (r.target, r.run, r.ledger);
    let mut recovered = Vec::new();
    for stale in interrupted(r.records, &t.environment) {
        let stale_run = stale.run().unwrap_or_default().to_string();
        let fields = deployment_fields(
            &stale.release,
            t,
            stale.plan_digest.as_deref().unwrap_or(r.digest),
            "recovered",
            run,
            &later()?,
            DeploymentDetails {
                engine: stale.deployment().and_then(|d| d.engine),
                recovers_run: Some(stale_run.clone()),
                recovers_record: Some(stale.sequence),
                lock: Some(serde_json::to_value(lock)?),
                ..Default::default()
            },
        );
        recovered.push(ledger.append(Kind::Deployment, fields, opts.deployer)?.sequence);
    }
    let Some(l) = lock else { return Ok((recovered, None)) };
    let snapshot = ledger.snapshot()?;
    let records = &snapshot.records;
    match orphan_of(&records, &t.environment, run, l, r.work) {
        Ok(dead) => {
            let dead_run = dead.run().unwrap_or_default().to_string();
            if !opts.recover {
                let msg = format!(
                    "the state of {} is locked by lock {} ({} by {} since {}), orphaned by interrupted run {dead_run} (record {}, its process is gone): nothing was applied; `promote --recover` releases it with a signed lock-recovery record",
                    t.environment, l.id, l.operation, l.who, l.created, dead.sequence
                );
                return Err(refuse!("{msg}"));
            }
            let fields = Fields::new(&dead.release)
                .environment(&t.environment)
                .account(&t.account_id)
                .at(later()?.time)
                .reason(format!("promote --recover by run {run}: the run that took the lock is dead"))
                .details(LockRecoveryDetails {
                    lock_id: l.id.clone(),
                    run: dead_run.clone(),
                    lock: serde_json::to_value(l)?,
                    in_progress_record: Some(dead.sequence),
                    recovered_by_run: Some(run.to_string()),
                    state: Some(format!("s3://{}/{}", backend.bucket, backend.key)),
                    ..Default::default()
                });
            let rec = ledger.append(Kind::LockRecovery, fields, opts.deployer)?;
            ws.force_unlock(&l.id).with_context(|| format!("releasing lock {} of interrupted run {dead_run} (record {})", l.id, dead.sequence))?;
            Ok((recovered, Some(rec.sequence)))
        }
        Err(why) if opts.recover => Err(refuse!(
            "lock {} of the state of {} ({} by {} since {}) is not released: {why}",
            l.id,
            t.environment,
            l.operation,
            l.who,
            l.created
        )),
        // A live holder: the plan meets the lock and says who holds it.
        Err(_) => Ok((recovered, None)),
    }
}

/// Why a Terraform plan or apply of run `r` stopped at a held state lock (`None`: it did not):
/// the holder as Terraform or the lock object names it, and the running promotion of the
/// environment the chain names, for the refusal ("nothing was applied").
fn held_lock(text: &str, s3: &aws_sdk_s3::Client, backend: &Backend, r: &Run) -> Option<String> {
    let t = r.target;
    let mut l = deploy::parse_lock_error(text)?;
    if l.id.is_empty() {
        // Terraform could not read the holder's lock info; the lock object names it.
        if let Ok(Some(held)) = deploy::read_lock(s3, backend) {
            l = held;
        }
    }
    let holder = r
        .ledger
        .records()
        .ok()
        .and_then(|rs| {
            rs.iter()
                .filter(|x| {
                    x.kind == Kind::Deployment
                        && x.environment.as_deref() == Some(t.environment.as_str())
                        && x.deployment_outcome() == Some("in-progress")
                })
                .filter(|x| x.run() != Some(r.run))
                .max_by_key(|x| x.sequence)
                .map(|x| format!("; the running promotion is run {} by {} (record {})", x.run().unwrap_or(""), x.identity, x.sequence))
        })
        .unwrap_or_default();
    // Terraform names no holder when the lock was released while it read the lock's info.
    let lock = if l.id.is_empty() && l.who.is_empty() {
        "another run (its lock was released before Terraform could read who held it)".to_string()
    } else {
        format!("{} (lock {}, {} since {})", l.who, l.id, l.operation, l.created)
    };
    Some(format!("the state of {} is locked by {lock}{holder}: nothing was applied", t.environment))
}

/// What a promotion decided before anything of its run is recorded ([`decide`]).
struct Decision {
    /// The policy evaluation record.
    policy_record: u64,
    admission: Admission,
    /// The approvals the adoptions of the services this release moves (issue 32, carried in the
    /// admission) rest on.
    adoption_approvals: Vec<u64>,
    /// What the decision read: the in-progress record and the apply are held to it.
    fence: crate::fence::Fence,
}

/// The decision step of a promotion: the policy evaluated and recorded, the change policy's
/// auto-approval recorded when a dry run of the gates grants one, the admission through every
/// gate, the module adoptions it moves, and the facts it rests on checked where they live.
fn decide(session: &mut Session, opts: &Options, deployer: &str, now: &Reading) -> Result<Decision> {
    let digest = session.plan_digest.clone();
    let policy = session.evaluate_policy(now.time)?;
    let policy_record = session.record_policy_evaluation(opts.policy_signer, &policy, now)?;
    session.reload()?;
    // Auto-approval: decided on a dry run of the gates, recorded before the real one.
    if let Ok(a) = session.admit_assuming_auto_approval(deployer, &policy, now.time) {
        let pid = session.governance.policy.policy_identity.clone();
        let (_, workloads) = session.votes()?;
        let have = workloads
            .iter()
            .any(|(v, _)| v.identity == pid && v.plan_digest == digest);
        if a.requirement.auto_approve && a.break_glass.is_none() && !have {
            session.record_auto_approval(opts.policy_signer, a.tier, now)?;
            after_auto_approval(session)?;
            session.reload()?;
        }
    }
    let admission = session.admit(deployer, &policy, now.time)?;
    // Staged module adoption (issue 32): the services this release moves, their waves reached,
    // are the admission's (its `adoption` gate).
    let adoption_approvals = lz_promote::adoption::approvals(session, &admission)?;
    // The facts the admission rests on, checked where they live before anything is recorded.
    let place = crate::facts::Place::of_target(opts.target.clone());
    lz_promote::gates::facts(session, crate::facts::gate(&session.paths, &session.records, session.digest(), &place, opts.previous))?;
    let fence = crate::fence::Fence::of(session);
    Ok(Decision { policy_record, admission, adoption_approvals, fence })
}

/// [`promote`] with the engine `engine` ([`crate::engine`]): the stack it applies, its state
/// and provider; every deployment record of the run names it. The steps: [`decide`], the run's
/// place and in-progress record ([`Decided::open`]), [`Running::prepare`] (working copy and
/// [`recover_interrupted`]), [`Running::plan`], [`Running::apply`] and [`Running::record`].
pub fn promote_with(session: &mut Session, opts: &Options, clock: &Clock, engine: &crate::engine::Engine) -> Result<Outcome> {
    let t = opts.target;
    // An unauthenticated clock is bounded by the latest witnessed checkpoint (`clock::bound`).
    let (witness_at, register, skew) = (session.paths.clone(), session.identities().clone(), session.governance.windows.max_clock_skew_minutes);
    let read = || crate::clock::bound(&witness_at, &register, skew, clock.now()?);
    let now = &read()?;
    // Every later record reads the clock again: its time is the server's at that moment.
    let later = || read();
    refuse_if!(
        session.environment != t.environment,
        "the session is for {} but the target is {}",
        session.environment,
        t.environment
    );
    let deployer = opts.deployer.identity().to_string();
    let decision = decide(session, opts, &deployer, now)?;
    let session = &*session;
    boundary(&session.paths.work, Phase::Decision);
    let place = Place::of(t, &deployer, engine, &session.paths.work)?;
    let running = Decided { session, opts, engine, decision: &decision, place: &place, later: &later }.open()?;

    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = RemoveOnDrop(place.work.clone());
    let (ws, recovered, lock_recovery) = running.prepare()?;
    let (completion, state, completes) = match running.plan(&ws)? {
        Plan::Completed { completion, state, dead } => (completion, state, Some(dead)),
        Plan::Apply(resources) => {
            running.apply(&ws)?;
            let (completion, state) = running.record(&resources)?;
            (completion, state, None)
        }
    };
    Ok(Outcome {
        admission: decision.admission.clone(),
        run: place.run.clone(),
        policy_record: decision.policy_record,
        in_progress_record: running.start,
        completion_record: completion,
        recovered,
        lock_recovery,
        completes_record: completes,
        state,
        plan_digest: session.plan_digest.clone(),
        time: crate::window::rfc3339(now.time),
        clock: now.source.clone(),
    })
}

/// Where a promotion run acts: the deployer's credentials, the run id and its working copy, the
/// state backend, an S3 client as the deployer, and the state the run starts from.
struct Place {
    run_as: RunAs,
    run: String,
    work: PathBuf,
    backend: Backend,
    s3: aws_sdk_s3::Client,
    /// The state this run starts from: a later rerun tells by it whether this run's apply
    /// wrote the state.
    state_before: Option<StateAt>,
}

impl Place {
    /// The deployer role assumed, a new run id under `work`, and the state read as the run starts.
    fn of(t: &Target, deployer: &str, engine: &crate::engine::Engine, work: &std::path::Path) -> Result<Place> {
        let run_as = assume_deployer(t, &format!("lz-promote-{deployer}"))?;
        let run = run_id();
        let work = work.join(format!("{}-{run}", t.environment));
        let backend = engine.backend(t);
        let s3 = lz_platform::reach::with_credentials(&t.endpoint, &t.region, run_as.credentials())?.s3();
        let state_before = read_state(&s3, &backend)?;
        Ok(Place { run_as, run, work, backend, s3, state_before })
    }
}

/// What the plan step found ([`Running::plan`]).
enum Plan {
    /// Changes to apply: the resources the run deploys.
    Apply(Vec<String>),
    /// No changes, and the state holds the apply of the interrupted run `dead` (its in-progress
    /// record): this run recorded that promotion `succeeded` as `completion`.
    Completed { completion: u64, state: Option<StateAt>, dead: u64 },
}

/// The details of a `failed` deployment record.
fn failed(error: String) -> DeploymentDetails {
    DeploymentDetails { error: Some(error), ..Default::default() }
}

/// What a decided promotion run acts with: the session, the options, the engine, the decision,
/// the run's place and the clock of its later records.
struct Decided<'a> {
    session: &'a Session,
    opts: &'a Options<'a>,
    engine: &'a crate::engine::Engine,
    decision: &'a Decision,
    place: &'a Place,
    later: &'a dyn Fn() -> Result<Reading>,
}

/// A promotion run past its decision point: its in-progress record `start` is on the chain, so
/// every end of the run is a record naming it ([`Running::finish`]).
struct Running<'a> {
    at: Decided<'a>,
    /// The in-progress record.
    start: u64,
}

impl<'a> Decided<'a> {
    /// The decision point, by compare-and-swap: the in-progress record is appended only on a
    /// chain whose baseline is still the one classified against, so its replay sees what this
    /// decision saw.
    fn open(self) -> Result<Running<'a>> {
        let Decided { session, opts, engine, decision, place, later } = &self;
        let admission = &decision.admission;
        let fields = deployment_fields(
            session.digest(),
            opts.target,
            &session.plan_digest,
            "in-progress",
            &place.run,
            &later()?,
            DeploymentDetails {
                pid: Some(u64::from(std::process::id())),
                host: Some(hostname()),
                tier: Some(admission.tier.as_str().into()),
                engine: Some(engine.kind()),
                author: Some(session.author.clone()),
                governance_release: Some(session.governed_by.release().into()),
                policy_evaluation: Some(decision.policy_record),
                state_before: Some(place.state_before.as_ref().map(StateAt::json)),
                break_glass: admission.break_glass,
                approvals: Some(admission.approvals.iter().map(|v| v.sequence).collect()),
                ..Default::default()
            },
        );
        let ledger = &session.ledger;
        let start = ledger.append_if(Kind::Deployment, fields, opts.deployer, &|records| decision.fence.check(ledger, records))?.sequence;
        Ok(Running { at: self, start })
    }
}

impl Running<'_> {
    /// The run as the recovery and lock steps see it.
    fn run(&self) -> Run<'_> {
        let s = self.at.session;
        Run { ledger: &s.ledger, records: &s.records, target: self.at.opts.target, run: &self.at.place.run, digest: &s.plan_digest, work: &s.paths.work }
    }

    /// Appends the run's end `outcome` with `extra`, naming the in-progress record.
    fn finish(&self, outcome: &str, extra: DeploymentDetails) -> Result<u64> {
        let s = self.at.session;
        let f = deployment_fields(
            s.digest(),
            self.at.opts.target,
            &s.plan_digest,
            outcome,
            &self.at.place.run,
            &(self.at.later)()?,
            DeploymentDetails { in_progress_record: Some(self.start), engine: Some(self.at.engine.kind()), ..extra },
        );
        Ok(s.ledger.append(Kind::Deployment, f, self.at.opts.deployer)?.sequence)
    }

    /// `e`, after the run is closed with a `failed` record (or with why that record could not
    /// be written): every error past the decision point goes through here.
    fn fail(&self, e: anyhow::Error) -> anyhow::Error {
        match self.finish("failed", failed(format!("{e:#}"))) {
            Ok(_) => e,
            Err(rec) => e.context(format!("and the failure could not be recorded: {rec:#}")),
        }
    }

    /// The refusal `msg`, after the run is closed with a `failed` record naming it.
    fn refuse(&self, msg: String) -> anyhow::Error {
        match self.finish("failed", failed(msg.clone())) {
            Ok(_) => anyhow::anyhow!("{msg}"),
            Err(e) => e,
        }
    }

    /// The details of a `succeeded` record: what was deployed and the state it left.
    fn succeeded(&self, resources: &[String], state: Option<&StateAt>) -> DeploymentDetails {
        let (state_serial, state_version, state_lineage) = crate::facts::state_details(state);
        DeploymentDetails {
            resources: Some(resources.to_vec()),
            tier: Some(self.at.decision.admission.tier.as_str().into()),
            bake_seconds: Some(u64::from(self.at.opts.bake_seconds)),
            state_serial,
            state_version,
            state_lineage,
            ..Default::default()
        }
    }

    /// The working copy of the release's stack (the release's own files, part of its digest,
    /// never the working tree's), then [`recover_interrupted`] with the lock as found: the
    /// `recovered` records and the lock-recovery record.
    fn prepare(&self) -> Result<(deploy::Workspace, Vec<u64>, Option<u64>)> {
        let (s, t, p) = (self.at.session, self.at.opts.target, self.at.place);
        boundary(&s.paths.work, Phase::Init);
        let ws = self
            .at
            .engine
            .workspace(&s.paths.root, s.release.root(), &p.work, &t.endpoint, &p.backend, p.run_as.clone(), (&t.environment, &s.plan))
            .map_err(|e| self.fail(e))?;
        // Interrupted runs of this host whose process is gone: recorded dead, with the lock as
        // found. Their lock is released only by `--recover`.
        let lock = deploy::read_lock(&p.s3, &p.backend).map_err(|e| self.fail(e))?;
        let (recovered, lock_recovery) =
            recover_interrupted(&self.run(), lock.as_ref(), &ws, &p.backend, self.at.opts, self.at.later).map_err(|e| self.fail(e))?;
        Ok((ws, recovered, lock_recovery))
    }

    /// The plan step: `terraform plan` of the working copy. Changes: what the run deploys (the
    /// canary's two resources, or what the landing zone's plan changes). No changes:
    /// [`Running::no_changes`]. A failed plan: the refusal, naming a held lock's holder.
    fn plan(&self, ws: &deploy::Workspace) -> Result<Plan> {
        let (s, t) = (self.at.session, self.at.opts.target);
        let vars = self.at.engine.vars(s.release.root(), s.digest(), t, self.at.opts.bake_seconds);
        boundary(&s.paths.work, Phase::Plan);
        let mut plan_args = vec![
            "plan".to_string(),
            "-input=false".into(),
            "-no-color".into(),
            "-lock-timeout=0s".into(),
            "-detailed-exitcode".into(),
            "-out=tfplan".into(),
        ];
        plan_args.extend(vars);
        let planned = ws.run(&plan_args).map_err(|e| self.fail(e))?;
        let resources: Vec<String> = match self.at.engine.kind() {
            lz_evidence::details::Engine::Terraform if planned.code == 2 => {
                // Recorded as the offline plan names them (a pinned instance's version call mapped back).
                let mapping = self.at.engine.mapping(s.release.root(), &t.environment).map_err(|e| self.fail(e))?;
                let shown = ws.terraform().show("tfplan").map_err(|e| self.fail(e))?;
                // A destroy (or replacement) of a resource the admitted offline plan keeps is not what was admitted.
                let destroys = mapping.unplanned_deletes(&shown.resource_changes, &s.plan);
                if self.at.engine.plans_the_landing_zone() && !destroys.is_empty() {
                    return Err(self.refuse(format!(
                        "terraform plans to destroy resources the release's admitted plan keeps, nothing was applied: {}",
                        destroys.join("; ")
                    )));
                }
                // With their actions: a move between version calls is an update, not a delete and a create.
                shown.resource_changes.iter().map(|r| format!("{} ({})", mapping.offline(&r.address), r.actions.join(", "))).collect()
            }
            _ => vec!["terraform_data.release".into(), "terraform_data.overlay".into()],
        };
        match planned.code {
            2 => Ok(Plan::Apply(resources)),
            0 => self.no_changes(&resources),
            _ => {
                let text = format!("{}\n{}", planned.stdout, planned.stderr);
                let msg = held_lock(&text, &self.at.place.s3, &self.at.place.backend, &self.run())
                    .unwrap_or_else(|| format!("terraform plan failed:\n{}", planned.stderr.trim()));
                Err(self.refuse(msg))
            }
        }
    }

    /// Nothing to change. If an interrupted run of this release applied it, this run completes
    /// that promotion truthfully: `succeeded`, naming the run and the state. Otherwise the run
    /// ends `no-changes` and the promotion is refused as already deployed.
    fn no_changes(&self, resources: &[String]) -> Result<Plan> {
        let (s, t, p) = (self.at.session, self.at.opts.target, self.at.place);
        let release = s.digest();
        let state = read_state(&p.s3, &p.backend).map_err(|e| self.fail(e))?;
        let snapshot = s.ledger.snapshot().map_err(|e| self.fail(e))?;
        let records = &snapshot.records;
        let done = state.as_ref().and_then(|st| applied_by_dead_run(&records, &t.environment, release, &s.plan_digest, st));
        if let (Some((dead, rec)), Some(st)) = (done, &state) {
            boundary(&s.paths.work, Phase::Record);
            let dead_run = dead.run().unwrap_or_default().to_string();
            let details = DeploymentDetails {
                completes_run: Some(dead_run.clone()),
                completes_record: Some(dead.sequence),
                recovery: Some(serde_json::json!({
                    "run": dead_run,
                    "in_progress_record": dead.sequence,
                    "recovered_record": rec.sequence,
                    "state_before": dead.deployment().and_then(|d| d.state_before.clone()).flatten().unwrap_or(Value::Null),
                    "found": "the state holds the release, written after the interrupted run started: its apply completed, its record did not",
                })),
                ..self.succeeded(resources, Some(st))
            };
            let completion = self.finish("succeeded", details)?;
            return Ok(Plan::Completed { completion, state, dead: dead.sequence });
        }
        let c = self.finish("no-changes", DeploymentDetails::default())?;
        bail!("release {} is already deployed to {}: the plan has no changes (record {c})", short(release), t.environment)
    }

    /// The apply step. Re-checked first: no other deployment of the environment was admitted
    /// since the decision, and the state the saved plan applies to holds the baseline's release
    /// (a newer state makes the saved plan stale). A failed apply is a refusal naming why.
    fn apply(&self, ws: &deploy::Workspace) -> Result<()> {
        let (s, p, fence) = (self.at.session, self.at.place, &self.at.decision.fence);
        fence.check(&s.ledger, s.ledger.records().map_err(|e| self.fail(e))?).map_err(|e| self.fail(e))?;
        let held = read_state(&p.s3, &p.backend).map_err(|e| self.fail(e))?;
        fence.check_state(held.as_ref().and_then(|s| s.release.as_deref())).map_err(|e| self.fail(e))?;
        boundary(&s.paths.work, Phase::Apply);
        let applied = ws
            .run(&[
                "apply".to_string(),
                "-input=false".into(),
                "-no-color".into(),
                "-lock-timeout=0s".into(),
                "tfplan".into(),
            ])
            .map_err(|e| self.fail(e))?;
        if applied.code != 0 {
            let text = format!("{}\n{}", applied.stdout, applied.stderr);
            let msg = held_lock(&text, &p.s3, &p.backend, &self.run()).unwrap_or_else(|| {
                if text.contains("Saved plan is stale") {
                    format!(
                        "the state of {} changed while this promotion planned (another promotion applied first): nothing was applied",
                        self.at.opts.target.environment
                    )
                } else {
                    format!("terraform apply failed:\n{}", applied.stderr.trim())
                }
            });
            return Err(self.refuse(msg));
        }
        Ok(())
    }

    /// The record step: the state read back (the deployment stands even when it cannot be: the
    /// record says so), the completion record, then the adoption records of the module versions
    /// the release moves. Returns the completion record and the state.
    fn record(&self, resources: &[String]) -> Result<(u64, Option<StateAt>)> {
        let (s, t, d) = (self.at.session, self.at.opts.target, self.at.decision);
        boundary(&s.paths.work, Phase::PostApply);
        let state = read_state(&self.at.place.s3, &self.at.place.backend).ok().flatten();
        boundary(&s.paths.work, Phase::Record);
        let completion = self.finish("succeeded", self.succeeded(resources, state.as_ref()))?;
        if !d.adoption_approvals.is_empty() {
            let adoptions = &d.admission.adoptions;
            lz_promote::adoption::record(&s.ledger, s.digest(), &t.environment, &t.account_id, adoptions, &d.adoption_approvals, completion, &(self.at.later)()?, self.at.opts.deployer)?;
        }
        Ok((completion, state))
    }
}
