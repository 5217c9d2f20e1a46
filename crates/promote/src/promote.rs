//! A promotion: the gates in order (promotion order, drift-clean previous environment, policy,
//! risk tier, approvals and segregation of duties, change window or break-glass), then the
//! deployer role, the in-progress record, Terraform, and the completion record.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::{Identities, Signer};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::approval::{self, short, ApprovalPolicy, Requirement, Vote};
use crate::breakglass::{self, Session};
use crate::deploy::{self, Backend, RunAs, Workspace};
use crate::diff::Diff;
use crate::ledger::{Ledger, Record};
use crate::tier::{Classification, RiskRules, Tier};
use crate::window::{rfc3339, ChangeWindows};
use crate::Paths;

/// The governance registers, loaded once.
pub struct Governance {
    pub rules: RiskRules,
    pub policy: ApprovalPolicy,
    pub windows: ChangeWindows,
}

impl Governance {
    pub fn load(root: &Path) -> Result<Governance> {
        Ok(Governance {
            rules: RiskRules::load(root)?,
            policy: ApprovalPolicy::load(root)?,
            windows: ChangeWindows::load(root)?,
        })
    }
}

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
    pub fn backend(&self) -> Backend {
        Backend::canary(&self.state_bucket, &self.environment, &self.region)
    }
}

/// sha256 of the plan's compact JSON: what approvals and deployments name.
pub fn plan_digest(plan: &Value) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(plan).expect("JSON values serialize"),
    ))
}

pub fn previous_environment(environment: &str) -> Result<Option<&'static str>> {
    let i = lz_platform::ENVIRONMENTS
        .iter()
        .position(|e| *e == environment)
        .with_context(|| {
            format!(
                "unknown environment {environment:?} (known: {})",
                lz_platform::ENVIRONMENTS.join(", ")
            )
        })?;
    Ok(if i == 0 {
        None
    } else {
        Some(lz_platform::ENVIRONMENTS[i - 1])
    })
}

fn outcome(r: &Record) -> &str {
    r.detail_str("outcome").unwrap_or("")
}

/// The last successful deployment into `environment`.
pub fn last_deployment<'a>(records: &'a [Record], environment: &str) -> Option<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.kind == Kind::Deployment
                && r.environment.as_deref() == Some(environment)
                && outcome(r) == "succeeded"
        })
        .max_by_key(|r| r.sequence)
}

/// Approvals of `release` for `environment`, with the approver's group from the register.
pub fn votes(records: &[Record], ids: &Identities, release: &str, environment: &str) -> Vec<Vote> {
    records
        .iter()
        .filter(|r| {
            r.kind == Kind::Approval
                && r.release == release
                && r.environment.as_deref() == Some(environment)
                && r.detail_str("decision") == Some("approved")
        })
        .map(|r| Vote {
            identity: r.identity.clone(),
            group: ids
                .get(&r.identity)
                .map(|i| i.group.clone())
                .unwrap_or_default(),
            plan_digest: r.plan_digest.clone().unwrap_or_default(),
            sequence: r.sequence,
        })
        .collect()
}

/// What the gates decided.
#[derive(Clone, Debug, Serialize)]
pub struct Admission {
    pub tier: Tier,
    pub classified_tier: Tier,
    pub requirement: Requirement,
    pub approvals: Vec<Vote>,
    pub break_glass: Option<u64>,
    pub classification: Classification,
}

/// Everything a promotion needs besides the archive.
pub struct Request<'a> {
    pub release: &'a str,
    pub environment: &'a str,
    /// The environment's rendered landing-zone plan for this release.
    pub plan: &'a Value,
    /// The plan the change is classified against (the approved baseline, or the plan of the
    /// last deployment); `None` classifies against nothing deployed.
    pub baseline: Option<&'a Value>,
    pub author: Option<&'a str>,
    pub deployer: &'a str,
    pub now: OffsetDateTime,
}

fn promotion_order() -> String {
    lz_platform::ENVIRONMENTS.join(" -> ")
}

/// The gates, as a function of the archive's records: Ok with what they decided, or the
/// refusal. `auto_approved` says an auto-approval for the plan is (about to be) recorded.
pub fn admit(
    gov: &Governance,
    ids: &Identities,
    records: &[Record],
    req: &Request,
    auto_approved: bool,
) -> Result<Admission> {
    let r = short(req.release);
    let env = req.environment;
    if !lz_evidence::record::is_digest(req.release) {
        bail!(
            "release {:?} is not a sha256 digest (64 lowercase hex digits)",
            req.release
        );
    }
    if let Some(prev) = previous_environment(env)? {
        match last_deployment(records, prev) {
            None => bail!("release {r} cannot go to {env}: it has not been deployed to {prev} (promotion order {})", promotion_order()),
            Some(d) if d.release != req.release => {
                bail!("release {r} cannot go to {env}: {prev} runs release {} (record {}), not {r}", short(&d.release), d.sequence)
            }
            Some(d) => {
                let check = records
                    .iter()
                    .filter(|x| x.kind == Kind::Drift && x.environment.as_deref() == Some(prev) && x.sequence > d.sequence)
                    .max_by_key(|x| x.sequence);
                match check {
                    None => bail!(
                        "release {r} cannot go to {env}: {prev} has not been drift-checked since it was deployed (record {}); run `cargo xtask drift --env {prev}`",
                        d.sequence
                    ),
                    Some(x) if x.details.get("drifted").and_then(Value::as_bool) != Some(false) => bail!(
                        "release {r} cannot go to {env}: {prev} drifted from its declared state (drift record {}: {})",
                        x.sequence,
                        x.details.get("resources").map(Value::to_string).unwrap_or_default()
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    let digest = plan_digest(req.plan);
    let evaluation = records
        .iter()
        .filter(|x| {
            x.kind == Kind::PolicyEvaluation
                && x.release == req.release
                && x.environment.as_deref() == Some(env)
                && x.plan_digest.as_deref() == Some(digest.as_str())
        })
        .max_by_key(|x| x.sequence);
    match evaluation {
        None => bail!("release {r} cannot go to {env}: no policy evaluation of its plan {} is recorded; run `cargo xtask policy` on it", short(&digest)),
        Some(x) => {
            let passed = x.details.get("passed").and_then(Value::as_bool) == Some(true);
            let excepted = x.details.get("excepted").and_then(Value::as_bool) == Some(true);
            if !passed && !excepted {
                bail!("release {r} cannot go to {env}: the policy evaluation of its plan failed (record {}) and no exception covers it", x.sequence);
            }
        }
    }
    let diff = match req.baseline {
        Some(b) => Diff::between_plans(b, req.plan, "baseline plan", "release plan", |t| {
            gov.rules.replace_attributes(t)
        })?,
        None => Diff::between_plans(
            &Value::Object(Default::default()),
            req.plan,
            "baseline plan",
            "release plan",
            |t| gov.rules.replace_attributes(t),
        )?,
    };
    let classification = gov.rules.classify(&diff, env);
    let tier = classification.tier;
    let requirement = gov.policy.requirement(tier, env);
    let request = approval::Request {
        release: req.release,
        environment: env,
        plan_digest: &digest,
        author: req.author,
        deployer: req.deployer,
    };
    let all = votes(records, ids, req.release, env);
    let normal_path = (|| -> Result<Vec<Vote>> {
        let decision = if requirement.auto_approve && auto_approved {
            approval::evaluate(&requirement, &request, &all)?
        } else if requirement.auto_approve {
            bail!("release {r} to {env} (tier {tier}) is approved by policy, but the approval by {} is not recorded", gov.policy.policy_identity)
        } else {
            approval::evaluate(&requirement, &request, &all)?
        };
        if let Err(refusal) = gov.windows.check(env, requirement.change_window, req.now) {
            bail!("{}", refusal.message(env, tier.as_str()));
        }
        Ok(decision.counted)
    })();
    match normal_path {
        Ok(counted) => Ok(Admission {
            tier,
            classified_tier: tier,
            requirement,
            approvals: counted,
            break_glass: None,
            classification,
        }),
        Err(refusal) => {
            // Segregation of duties holds even under break-glass.
            if let Some(v) = all.iter().find(|v| v.identity == req.deployer) {
                bail!("{} approved release {r} for {env} (record {}) and cannot deploy it (segregation of duties)", v.identity, v.sequence);
            }
            let sessions: Vec<Session> = breakglass::sessions(records)
                .into_iter()
                .filter(|s| s.environment == env && s.covers(req.release))
                .collect();
            if let Some(s) = sessions
                .iter()
                .filter(|s| s.is_open(req.now))
                .max_by_key(|s| s.sequence)
            {
                let requirement = gov.policy.requirement(Tier::Emergency, env);
                return Ok(Admission {
                    tier: Tier::Emergency,
                    classified_tier: tier,
                    requirement,
                    approvals: Vec::new(),
                    break_glass: Some(s.sequence),
                    classification,
                });
            }
            match sessions.iter().max_by_key(|s| s.sequence) {
                Some(s) if req.now >= s.expires => {
                    bail!(
                        "{refusal:#}; break-glass {} for {env} expired at {}",
                        s.sequence,
                        rfc3339(s.expires)
                    )
                }
                _ => Err(refusal),
            }
        }
    }
}

/// Options of a promotion run.
pub struct Options<'a> {
    pub paths: &'a Paths,
    pub target: &'a Target,
    pub deployer: &'a Signer,
    /// Signs the auto-approval of auto-approved tiers.
    pub policy_signer: Option<&'a Signer>,
    /// The environment's overlay (`terraform.tfvars`), passed to the canary.
    pub overlay: Option<PathBuf>,
    pub bake_seconds: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub admission: Admission,
    pub run: String,
    pub in_progress_record: u64,
    pub completion_record: u64,
    pub recovered: Vec<u64>,
    pub plan_digest: String,
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
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sts::error::DisplayErrorContext(e)))
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
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sts::error::DisplayErrorContext(e)))
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

fn deployment_fields(
    release: &str,
    t: &Target,
    plan_digest: &str,
    outcome: &str,
    run: &str,
) -> Fields {
    Fields::new(release)
        .environment(&t.environment)
        .account(&t.account_id)
        .plan_digest(plan_digest)
        .at(crate::window::now().unwrap_or_else(|_| OffsetDateTime::now_utc()))
        .detail("outcome", outcome)
        .detail("run", run)
        .detail("engine", "canary")
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
                && outcome(r) == "in-progress"
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

/// Runs the gates, then deploys the canary with Terraform.
pub fn promote(gov: &Governance, req: &Request, opts: &Options) -> Result<Outcome> {
    let t = opts.target;
    if req.environment != t.environment {
        bail!(
            "the request is for {} but the target is {}",
            req.environment,
            t.environment
        );
    }
    let ledger = Ledger::open(&opts.paths.identities, &opts.paths.evidence)?;
    let records = ledger.records()?;
    let digest = plan_digest(req.plan);
    // Auto-approval: decided on a dry run of the gates, recorded before the real one.
    let dry = admit(gov, ledger.identities(), &records, req, true);
    let records = match &dry {
        Ok(a) if a.requirement.auto_approve && a.break_glass.is_none() => {
            let pid = &gov.policy.policy_identity;
            let have = votes(&records, ledger.identities(), req.release, req.environment)
                .iter()
                .any(|v| &v.identity == pid && v.plan_digest == digest);
            if !have {
                let signer = opts.policy_signer.with_context(|| {
                    format!("a {} change to {} is approved by {pid}, whose signing key is not available (pass --policy-key)", a.tier, req.environment)
                })?;
                if signer.identity() != pid {
                    bail!(
                        "auto-approvals are signed by {pid}, not {}",
                        signer.identity()
                    );
                }
                let fields = Fields::new(req.release)
                    .environment(req.environment)
                    .plan_digest(&digest)
                    .at(req.now)
                    .reason(format!("{} tier: approved by policy", a.tier))
                    .detail("decision", "approved")
                    .detail("tier", a.tier.as_str())
                    .detail("auto", true);
                ledger.append(Kind::Approval, fields, signer)?;
            }
            ledger.records()?
        }
        _ => records,
    };
    let admission = admit(gov, ledger.identities(), &records, req, true)?;

    let session = format!("lz-promote-{}", req.deployer);
    let run_as = assume_deployer(t, &session)?;
    let run = run_id();
    let work = opts.paths.work.join(format!("{}-{run}", t.environment));
    let backend = t.backend();
    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = RemoveOnDrop(work.clone());
    let ws = Workspace::init(
        &opts.paths.root,
        &opts.paths.root.join(deploy::CANARY),
        &work,
        &t.endpoint,
        &backend,
        run_as.clone(),
    )?;

    let mut recovered = Vec::new();
    for stale in interrupted(&records, &t.environment) {
        let s3 = lz_platform::aws::s3(
            &t.endpoint,
            run_as.credentials(),
            &t.region,
        );
        let lock = deploy::read_lock(&s3, &backend)?;
        let stale_run = stale.detail_str("run").unwrap_or_default().to_string();
        let mut fields = deployment_fields(
            &stale.release,
            t,
            stale.plan_digest.as_deref().unwrap_or(&digest),
            "recovered",
            &run,
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
        deployment_fields(req.release, t, &digest, "in-progress", &run)
            .detail("pid", std::process::id())
            .detail("host", hostname())
            .detail("tier", admission.tier.as_str())
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

    let mut vars = vec![
        format!("-var=release={}", req.release),
        format!("-var=environment={}", t.environment),
        format!("-var=account_id={}", t.account_id),
        format!("-var=region={}", t.region),
        format!("-var=bake_seconds={}", opts.bake_seconds),
    ];
    if let Some(o) = &opts.overlay {
        vars.push(format!("-var-file={}", o.display()));
    }
    let finish = |outcome: &str, extra: Vec<(&str, Value)>| -> Result<u64> {
        let mut f = deployment_fields(req.release, t, &digest, outcome, &run)
            .detail("in_progress_record", start.sequence);
        for (k, v) in extra {
            f = f.detail(k, v);
        }
        Ok(ledger.append(Kind::Deployment, f, opts.deployer)?.sequence)
    };
    let s3 = lz_platform::aws::s3(
        &t.endpoint,
        run_as.credentials(),
        &t.region,
    );
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
                            && outcome(x) == "in-progress"
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
                short(req.release),
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
        ],
    )?;
    let plans = opts.paths.work.join("plans").join(&t.environment);
    std::fs::create_dir_all(&plans)
        .with_context(|| format!("cannot create {}", plans.display()))?;
    std::fs::write(
        plans.join(format!("{digest}.json")),
        serde_json::to_vec(req.plan)?,
    )
    .context("cannot keep the deployed plan")?;
    Ok(Outcome {
        admission,
        run,
        in_progress_record: start.sequence,
        completion_record: completion,
        recovered,
        plan_digest: digest,
    })
}

/// The plan of the last successful deployment into `environment`, when it was kept.
pub fn deployed_plan(paths: &Paths, records: &[Record], environment: &str) -> Option<Value> {
    let d = last_deployment(records, environment)?;
    let p = paths
        .work
        .join("plans")
        .join(environment)
        .join(format!("{}.json", d.plan_digest.as_deref()?));
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// A stored release: its full digest and author (the manifest's `author`, when it names one).
pub struct Release {
    pub digest: String,
    pub author: Option<String>,
}

/// Finds a release by digest or unique prefix in the releases directory and checks its archive.
pub fn release(paths: &Paths, digest: &str) -> Result<Release> {
    let (dir, manifest) = lz_evidence::release::show(&paths.releases, digest)?;
    let raw: Value = serde_json::from_slice(&std::fs::read(
        dir.join(lz_evidence::release::MANIFEST_NAME),
    )?)
    .with_context(|| format!("{}: bad manifest", dir.display()))?;
    Ok(Release {
        digest: manifest.digest,
        author: raw
            .get("author")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Records an approval of `release` for `environment` by `signer`, after the checks that do
/// not depend on other approvals: the approver did not author the release and belongs to a
/// group eligible for the change's tier.
#[allow(clippy::too_many_arguments)]
pub fn approve(
    gov: &Governance,
    ledger: &Ledger,
    signer: &Signer,
    release: &str,
    author: Option<&str>,
    environment: &str,
    plan: &Value,
    tier: Tier,
    reason: &str,
    ticket: Option<&str>,
    now: OffsetDateTime,
) -> Result<lz_evidence::RecordRef> {
    approval::may_approve(signer.identity(), author, release)?;
    let id = ledger
        .identities()
        .get(signer.identity())
        .with_context(|| {
            format!(
                "identity {} is not in the identities register",
                signer.identity()
            )
        })?;
    let req = gov.policy.requirement(tier, environment);
    if !req.auto_approve && !req.groups.contains(&id.group) {
        bail!(
            "{} is in group {}, which may not approve a {tier} change to {environment} (eligible: {})",
            id.name,
            id.group,
            req.groups.join(", ")
        );
    }
    let mut fields = Fields::new(release)
        .environment(environment)
        .plan_digest(plan_digest(plan))
        .reason(reason)
        .at(now)
        .detail("decision", "approved")
        .detail("tier", tier.as_str())
        .detail("group", id.group.clone());
    if let Some(t) = ticket {
        fields = fields.ticket(t);
    }
    ledger.append(Kind::Approval, fields, signer)
}

/// Records the outcome of evaluating the policy bundle on a release's plan for an environment
/// (signed by the deployer), unless an evaluation of the same plan is already recorded.
#[allow(clippy::too_many_arguments)]
pub fn record_policy_evaluation(
    ledger: &Ledger,
    signer: &Signer,
    release: &str,
    environment: &str,
    plan: &Value,
    policy_bundle: &str,
    passed: bool,
    findings: Vec<Value>,
) -> Result<u64> {
    let digest = plan_digest(plan);
    let records = ledger.records()?;
    if let Some(r) = records.iter().rev().find(|x| {
        x.kind == Kind::PolicyEvaluation
            && x.release == release
            && x.environment.as_deref() == Some(environment)
            && x.plan_digest.as_deref() == Some(digest.as_str())
            && x.details.get("passed").and_then(Value::as_bool) == Some(passed)
    }) {
        return Ok(r.sequence);
    }
    let fields = Fields::new(release)
        .environment(environment)
        .plan_digest(&digest)
        .at(crate::window::now()?)
        .detail("policy_bundle", policy_bundle)
        .detail("passed", passed)
        .detail("findings", findings);
    Ok(ledger
        .append(Kind::PolicyEvaluation, fields, signer)?
        .sequence)
}
