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
use crate::deploy::{self, Backend, RunAs, Workspace};
use crate::ledger::{DeploymentDetails, Record};
use crate::refusal::refuse_if;
use crate::session::{Admission, Session};

pub use crate::session::{last_deployment, previous_environment};

/// An environment as a promotion sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub environment: String,
    pub account_id: String,
    pub region: String,
    pub endpoint: String,
    pub state_bucket: String,
    pub deployer_role: String,
}

impl Target {
    /// An environment's target from `env.toml` and `backend.hcl` under `tree` (a release's
    /// unpacked tree).
    pub fn from_tree(tree: &std::path::Path, env: &str, endpoint: &str) -> Result<Target> {
        let e = lz_platform::overlays::env_file(tree, env)?;
        let backend = tree.join("environments").join(env).join("backend.hcl");
        let text = std::fs::read_to_string(&backend)
            .with_context(|| format!("cannot read {}", backend.display()))?;
        let bucket = text
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "bucket").then(|| v.trim().trim_matches('"').to_string())
            })
            .with_context(|| format!("{}: no bucket", backend.display()))?;
        Ok(Target {
            environment: env.to_string(),
            account_id: e.account_id,
            region: e.region,
            endpoint: endpoint.to_string(),
            state_bucket: bucket,
            deployer_role: format!("lz-{env}-deployer"),
        })
    }

    /// The trusted clock of this environment: its STS endpoint's server time.
    pub fn clock(&self) -> crate::clock::Clock {
        crate::clock::Clock::server(&self.endpoint, &self.account_id, &self.region)
    }

    pub fn backend(&self) -> Backend {
        Backend::canary(&self.state_bucket, &self.environment, &self.region)
    }
}

/// Options of a promotion run.
pub struct Options<'a> {
    pub target: &'a Target,
    pub deployer: &'a Signer,
    /// The policy identity: signs the policy evaluation and the auto-approval of
    /// auto-approved tiers.
    pub policy_signer: &'a Signer,
    pub bake_seconds: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub admission: Admission,
    pub run: String,
    pub policy_record: u64,
    pub in_progress_record: u64,
    pub completion_record: u64,
    pub recovered: Vec<u64>,
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

/// Assumes the environment's deployer role and checks who Terraform will run as.
pub fn assume_deployer(target: &Target, session: &str) -> Result<RunAs> {
    let rt = lz_platform::aws::runtime()?;
    let root = lz_platform::aws::account_credentials(&target.account_id);
    let sts = lz_platform::aws::sts(&target.endpoint, root, &target.region);
    let role_arn = format!(
        "arn:aws:iam::{}:role/{}",
        target.account_id, target.deployer_role
    );
    rt.block_on(async {
        let out = sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(session)
            .duration_seconds(900)
            .send()
            .await
            .map_err(crate::aws_error)
            .with_context(|| {
                format!(
                    "cannot assume {role_arn}; run `cargo xtask bootstrap --env {}` first",
                    target.environment
                )
            })?;
        let c = out
            .credentials()
            .context("AssumeRole returned no credentials")?;
        let run_as = RunAs {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: Some(c.session_token().to_string()),
        };
        let creds = run_as.credentials();
        let who = lz_platform::aws::sts(&target.endpoint, creds, &target.region)
            .get_caller_identity()
            .send()
            .await
            .map_err(crate::aws_error)
            .context("GetCallerIdentity as the deployer failed")?;
        let account = who.account().unwrap_or_default();
        let arn = who.arn().unwrap_or_default();
        let expected = format!(
            "arn:aws:sts::{}:assumed-role/{}/{session}",
            target.account_id, target.deployer_role
        );
        if account != target.account_id || arn != expected {
            bail!("the deployer credentials are {arn} in account {account}, expected {expected}");
        }
        Ok(run_as)
    })
}

/// The serial of the state Terraform just wrote (`null` when it cannot be read: the
/// deployment stands, the record says it was not read).
fn state_serial(s3: &aws_sdk_s3::Client, backend: &deploy::Backend) -> Value {
    let read = || -> Result<Value> {
        let rt = lz_platform::aws::runtime()?;
        let bytes = rt.block_on(async {
            let o = s3.get_object().bucket(&backend.bucket).key(&backend.key).send().await?;
            anyhow::Ok(o.body.collect().await?.into_bytes())
        })?;
        let state: Value = serde_json::from_slice(&bytes)?;
        Ok(state.get("serial").cloned().unwrap_or(Value::Null))
    };
    read().unwrap_or(Value::Null)
}

fn deployment_fields(
    release: &str,
    t: &Target,
    plan_digest: &str,
    outcome: &str,
    run: &str,
    now: &Reading,
) -> Fields {
    Fields::new(release)
        .environment(&t.environment)
        .account(&t.account_id)
        .plan_digest(plan_digest)
        .at(now.time)
        .detail("outcome", outcome)
        .detail("run", run)
        .detail("engine", "canary")
        .detail("clock", now.source.clone())
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
                && r.decode::<DeploymentDetails>()
                    .is_ok_and(|d| d.outcome == "in-progress")
        })
        .filter(|r| {
            let run = r.detail_str("run").unwrap_or_default();
            !records.iter().any(|x| {
                x.sequence > r.sequence
                    && x.kind == Kind::Deployment
                    && (x.detail_str("run") == Some(run)
                        || x.detail_str("recovers_run") == Some(run))
            })
        })
        .filter(|r| r.detail_str("host") == Some(host.as_str()))
        .filter(|r| {
            !r.details
                .get("pid")
                .and_then(Value::as_u64)
                .is_some_and(pid_alive)
        })
        .collect()
}

/// Decides with `session` at the clock reading `now`, then deploys the canary with Terraform.
/// The policy evaluation is computed here, in process, and recorded by the policy identity; no
/// earlier record substitutes for it.
pub fn promote(session: &mut Session, opts: &Options, clock: &Clock) -> Result<Outcome> {
    let t = opts.target;
    let now = &clock.now()?;
    // Every later record reads the clock again: its time is the server's at that moment.
    let later = || clock.now();
    refuse_if!(
        session.environment != t.environment,
        "the session is for {} but the target is {}",
        session.environment,
        t.environment
    );
    let deployer = opts.deployer.identity().to_string();
    let digest = session.plan_digest.clone();
    let release = session.digest().to_string();
    let policy = session.evaluate_policy(now.time)?;
    let policy_record = session.record_policy_evaluation(opts.policy_signer, &policy, now)?;
    session.reload()?;
    // Auto-approval: decided on a dry run of the gates, recorded before the real one.
    if let Ok(a) = session.admit_assuming_auto_approval(&deployer, &policy, now.time) {
        let pid = session.governance.policy.policy_identity.clone();
        let (_, workloads) = session.votes()?;
        let have = workloads
            .iter()
            .any(|(v, _)| v.identity == pid && v.plan_digest == digest);
        if a.requirement.auto_approve && a.break_glass.is_none() && !have {
            session.record_auto_approval(opts.policy_signer, a.tier, now)?;
            session.reload()?;
        }
    }
    let admission = session.admit(&deployer, &policy, now.time)?;

    let records = session.records.clone();
    let ledger = &session.ledger;
    let paths = &session.paths;
    let run_as = assume_deployer(t, &format!("lz-promote-{deployer}"))?;
    let run = run_id();
    let work = paths.work.join(format!("{}-{run}", t.environment));
    let backend = t.backend();
    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = RemoveOnDrop(work.clone());
    // The stack applied is the release's own (its files are part of the digest), never the
    // working tree's.
    let ws = Workspace::init(
        &paths.root,
        &session.release.root().join(deploy::CANARY),
        &work,
        &t.endpoint,
        &backend,
        run_as.clone(),
    )?;

    let mut recovered = Vec::new();
    for stale in interrupted(&records, &t.environment) {
        let s3 = lz_platform::aws::s3(&t.endpoint, run_as.credentials(), &t.region);
        let lock = deploy::read_lock(&s3, &backend)?;
        let stale_run = stale.detail_str("run").unwrap_or_default().to_string();
        let mut fields = deployment_fields(
            &stale.release,
            t,
            stale.plan_digest.as_deref().unwrap_or(&digest),
            "recovered",
            &run,
            &later()?,
        )
        .detail("recovers_run", stale_run.clone())
        .detail("recovers_record", stale.sequence);
        fields = match &lock {
            Some(l) => fields.detail("lock", serde_json::to_value(l)?),
            None => fields.detail("lock", Value::Null),
        };
        let rec = ledger.append(Kind::Deployment, fields, opts.deployer)?;
        if let Some(l) = &lock {
            ws.force_unlock(&l.id).with_context(|| {
                format!(
                    "recovering the lock of interrupted run {stale_run} (record {})",
                    stale.sequence
                )
            })?;
        }
        recovered.push(rec.sequence);
    }

    let start = ledger.append(
        Kind::Deployment,
        deployment_fields(&release, t, &digest, "in-progress", &run, &later()?)
            .detail("pid", std::process::id())
            .detail("host", hostname())
            .detail("tier", admission.tier.as_str())
            .detail("author", session.author.clone())
            .detail("governance_release", session.governed_by.release())
            .detail("policy_evaluation", policy_record)
            .detail(
                "break_glass",
                admission
                    .break_glass
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            )
            .detail(
                "approvals",
                admission
                    .approvals
                    .iter()
                    .map(|v| v.sequence)
                    .collect::<Vec<_>>(),
            ),
        opts.deployer,
    )?;

    let overlay = session
        .release
        .root()
        .join("environments")
        .join(&t.environment)
        .join("terraform.tfvars");
    let vars = vec![
        format!("-var=release={release}"),
        format!("-var=environment={}", t.environment),
        format!("-var=account_id={}", t.account_id),
        format!("-var=region={}", t.region),
        format!("-var=bake_seconds={}", opts.bake_seconds),
        format!("-var-file={}", overlay.display()),
    ];
    let finish = |outcome: &str, extra: Vec<(&str, Value)>| -> Result<u64> {
        let mut f = deployment_fields(&release, t, &digest, outcome, &run, &later()?)
            .detail("in_progress_record", start.sequence);
        for (k, v) in extra {
            f = f.detail(k, v);
        }
        Ok(ledger.append(Kind::Deployment, f, opts.deployer)?.sequence)
    };
    let s3 = lz_platform::aws::s3(&t.endpoint, run_as.credentials(), &t.region);
    let lock_refusal = |text: &str| -> Option<String> {
        let mut l = deploy::parse_lock_error(text)?;
        if l.id.is_empty() {
            // Terraform could not read the holder's lock info; the lock object names it.
            if let Ok(Some(held)) = deploy::read_lock(&s3, &backend) {
                l = held;
            }
        }
        let holder = ledger
            .records()
            .ok()
            .and_then(|rs| {
                rs.iter()
                    .filter(|x| {
                        x.kind == Kind::Deployment
                            && x.environment.as_deref() == Some(t.environment.as_str())
                            && x.detail_str("outcome") == Some("in-progress")
                    })
                    .filter(|x| x.detail_str("run") != Some(run.as_str()))
                    .max_by_key(|x| x.sequence)
                    .map(|x| {
                        format!(
                            "; the running promotion is run {} by {} (record {})",
                            x.detail_str("run").unwrap_or(""),
                            x.identity,
                            x.sequence
                        )
                    })
            })
            .unwrap_or_default();
        Some(format!(
            "the state of {} is locked by {} (lock {}, {} since {}){holder}: nothing was applied",
            t.environment, l.who, l.id, l.operation, l.created
        ))
    };

    let mut plan_args = vec![
        "plan".to_string(),
        "-input=false".into(),
        "-no-color".into(),
        "-lock-timeout=0s".into(),
        "-detailed-exitcode".into(),
        "-out=tfplan".into(),
    ];
    plan_args.extend(vars.iter().cloned());
    let planned = ws.run(&plan_args)?;
    match planned.code {
        2 => {}
        0 => {
            let c = finish("no-changes", vec![])?;
            bail!(
                "release {} is already deployed to {}: the plan has no changes (record {c})",
                short(&release),
                t.environment
            );
        }
        _ => {
            let text = format!("{}\n{}", planned.stdout, planned.stderr);
            let msg = lock_refusal(&text)
                .unwrap_or_else(|| format!("terraform plan failed:\n{}", planned.stderr.trim()));
            finish("failed", vec![("error", Value::from(msg.clone()))])?;
            bail!("{msg}");
        }
    }
    let applied = ws.run(&[
        "apply".to_string(),
        "-input=false".into(),
        "-no-color".into(),
        "-lock-timeout=0s".into(),
        "tfplan".into(),
    ])?;
    if applied.code != 0 {
        let text = format!("{}\n{}", applied.stdout, applied.stderr);
        let msg = lock_refusal(&text).unwrap_or_else(|| {
            if text.contains("Saved plan is stale") {
                format!("the state of {} changed while this promotion planned (another promotion applied first): nothing was applied", t.environment)
            } else {
                format!("terraform apply failed:\n{}", applied.stderr.trim())
            }
        });
        finish("failed", vec![("error", Value::from(msg.clone()))])?;
        bail!("{msg}");
    }
    let completion = finish(
        "succeeded",
        vec![
            (
                "resources",
                Value::from(vec!["terraform_data.release", "terraform_data.overlay"]),
            ),
            ("tier", Value::from(admission.tier.as_str())),
            ("bake_seconds", Value::from(opts.bake_seconds)),
            ("state_serial", state_serial(&s3, &backend)),
        ],
    )?;
    Ok(Outcome {
        admission,
        run,
        policy_record,
        in_progress_record: start.sequence,
        completion_record: completion,
        recovered,
        plan_digest: digest,
        time: crate::window::rfc3339(now.time),
        clock: now.source.clone(),
    })
}
