//! Drift: the canary state against its configuration (`terraform plan -detailed-exitcode`) and
//! the control-bearing settings of the state and evidence buckets against the declared values.

use anyhow::{bail, Context, Result};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::{RecordRef, Signer};
use serde::Serialize;

use crate::approval::short;
use crate::aws_error;
use crate::bootstrap::{spec_from_plan, BucketSpec, EnvSpec, Names};
use crate::clock::Reading;
use crate::ledger::{DeploymentDetails, DriftDetails};
use crate::session::last_deployment;
use crate::target::{assume_deployer, Target};
use crate::refusal::{refuse, refuse_if};
use crate::release::VerifiedRelease;
use crate::Paths;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub resource: String,
    pub attribute: String,
    pub declared: String,
    pub actual: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub environment: String,
    pub release: String,
    pub terraform_changes: bool,
    /// What the plan of the canary state would change: `address (actions)`.
    pub canary_changes: Vec<String>,
    pub findings: Vec<Finding>,
    pub record: u64,
}

impl Report {
    pub fn drifted(&self) -> bool {
        self.terraform_changes || !self.findings.is_empty()
    }
}

/// The actual value of a declared setting that is not there at all.
pub const MISSING: &str = "(missing)";

/// A policy document named by the sha256 of its canonical JSON (keys sorted), so that
/// formatting and key order are not drift.
pub fn policy_digest(text: &str) -> String {
    fn sorted(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut e: Vec<_> = m.into_iter().collect();
                e.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(e.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    let canonical = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => sorted(v).to_string(),
        Err(_) => text.to_string(),
    };
    use sha2::Digest as _;
    format!("sha256:{}", &hex::encode(sha2::Sha256::digest(canonical.as_bytes()))[..16])
}


/// Compares one bucket's live controls with its declared ones.
async fn bucket(s3: &aws_sdk_s3::Client, spec: &BucketSpec, out: &mut Vec<Finding>) -> Result<()> {
    let res = format!("s3://{}", spec.name);
    let mut push = |attribute: &str, declared: String, actual: String| {
        if declared != actual {
            out.push(Finding {
                resource: res.clone(),
                attribute: attribute.into(),
                declared,
                actual,
            });
        }
    };
    let v = s3
        .get_bucket_versioning()
        .bucket(&spec.name)
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("{res}: versioning"))?;
    push(
        "versioning",
        spec.versioning.clone(),
        v.status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "Disabled".into()),
    );

    let enc = s3.get_bucket_encryption().bucket(&spec.name).send().await;
    let (alg, key, bk) = match &enc {
        Ok(e) => {
            let rule = e
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first());
            let d = rule.and_then(|r| r.apply_server_side_encryption_by_default());
            (
                d.map(|d| d.sse_algorithm().as_str().to_string())
                    .unwrap_or_default(),
                d.and_then(|d| d.kms_master_key_id())
                    .unwrap_or_default()
                    .to_string(),
                rule.and_then(|r| r.bucket_key_enabled()).unwrap_or(false),
            )
        }
        Err(_) => ("none".to_string(), String::new(), false),
    };
    push("encryption.sse_algorithm", spec.sse_algorithm.clone(), alg);
    if let Some(k) = &spec.kms_key {
        push("encryption.kms_master_key_id", k.clone(), key);
    }
    push(
        "encryption.bucket_key_enabled",
        spec.bucket_key.to_string(),
        bk.to_string(),
    );

    let names = [
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ];
    let actual: [bool; 4] = match s3.get_public_access_block().bucket(&spec.name).send().await {
        Ok(p) => {
            let c = p.public_access_block_configuration();
            [
                c.and_then(|c| c.block_public_acls()).unwrap_or(false),
                c.and_then(|c| c.block_public_policy()).unwrap_or(false),
                c.and_then(|c| c.ignore_public_acls()).unwrap_or(false),
                c.and_then(|c| c.restrict_public_buckets()).unwrap_or(false),
            ]
        }
        Err(_) => [false; 4],
    };
    for i in 0..4 {
        push(
            &format!("public_access_block.{}", names[i]),
            spec.public_access_block[i].to_string(),
            actual[i].to_string(),
        );
    }

    let tags: std::collections::BTreeMap<String, String> =
        match s3.get_bucket_tagging().bucket(&spec.name).send().await {
            Ok(t) => t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(_) => Default::default(),
        };
    // A declared tag that is missing. Values are not compared: the buckets are bootstrapped,
    // not applied by a deployment, so a release that retags them (a standard change) leaves
    // the old values until the next bootstrap.
    for (k, v) in &spec.tags {
        if !tags.contains_key(k) {
            push(&format!("tags.{k}"), v.clone(), MISSING.into());
        }
    }

    if let Some(declared) = &spec.policy {
        let actual = match s3.get_bucket_policy().bucket(&spec.name).send().await {
            Ok(p) => p.policy().map(policy_digest).unwrap_or_else(|| "none".into()),
            Err(_) => "none".into(),
        };
        push("policy", policy_digest(declared), actual);
    }

    if let Some((mode, days)) = &spec.object_lock {
        let (m, d) = match s3
            .get_object_lock_configuration()
            .bucket(&spec.name)
            .send()
            .await
        {
            Ok(o) => {
                let r = o
                    .object_lock_configuration()
                    .and_then(|c| c.rule())
                    .and_then(|r| r.default_retention());
                (
                    r.and_then(|r| r.mode())
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default(),
                    r.and_then(|r| r.days())
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                )
            }
            Err(_) => ("none".into(), String::new()),
        };
        push("object_lock.mode", mode.clone(), m);
        push("object_lock.days", days.to_string(), d);
    }
    Ok(())
}

/// The live controls of both buckets against the declared ones, read as `role` (the target's
/// deployer role, from the release's `governance/aws.toml`).
pub fn check_buckets(endpoint: &str, spec: &EnvSpec, role: &str) -> Result<Vec<Finding>> {
    let env = &spec.environment;
    let s3 = lz_platform::reach::account(endpoint, &spec.account_id, &spec.region, role, &lz_platform::reach::session(env))?.s3();
    let rt = lz_platform::aws::runtime()?;
    rt.block_on(async {
        let mut out = Vec::new();
        bucket(&s3, &spec.state, &mut out).await?;
        bucket(&s3, &spec.evidence, &mut out).await?;
        Ok(out)
    })
}

/// The Object Lock of the landing zone's release, evidence and witness stores against the
/// retention floor (the governance minimum, [`crate::stores::retention_floor`]): COMPLIANCE
/// mode with at least that many days. A store whose retention was lowered is drift.
pub fn check_stores(stores: &crate::stores::Stores) -> Result<Vec<Finding>> {
    let (s3, witness_s3) = (stores.s3()?, stores.witness_s3()?);
    let rt = lz_platform::aws::runtime()?;
    let floor = stores.retention_floor()?;
    rt.block_on(async {
        let mut out = Vec::new();
        for (s3, name) in [(&s3, &stores.release_bucket), (&s3, &stores.evidence_bucket), (&witness_s3, &stores.witness_bucket)] {
            let resource = format!("s3://{name}");
            let (mode, days) = match s3.get_object_lock_configuration().bucket(name).send().await {
                Ok(o) => {
                    let r = o.object_lock_configuration().and_then(|c| c.rule()).and_then(|r| r.default_retention());
                    let days = r.and_then(|r| r.days().map(i64::from).or(r.years().map(|y| i64::from(y) * 365)));
                    (r.and_then(|r| r.mode()).map(|m| m.as_str().to_string()).unwrap_or_else(|| "none".into()), days)
                }
                Err(e) => (format!("none ({})", aws_error(e)), None),
            };
            if mode != "COMPLIANCE" {
                out.push(Finding { resource: resource.clone(), attribute: "object_lock.mode".into(), declared: "COMPLIANCE".into(), actual: mode });
            }
            if days.is_none_or(|d| d < i64::from(floor)) {
                out.push(Finding {
                    resource,
                    attribute: "object_lock.days".into(),
                    declared: format!("at least {floor} (the retention floor)"),
                    actual: days.map(|d| d.to_string()).unwrap_or_else(|| MISSING.into()),
                });
            }
        }
        Ok(out)
    })
}

/// Checks the environment for drift and records the outcome (signed by a deployer). The
/// declared state is that of the release deployed there: its archive gives the plan (bucket
/// and role settings) and the overlay; nothing comes from the working tree. The engine the
/// deployment record names decides which stack of the release is planned against which state
/// ([`crate::engine::Engine::of_record`]).
pub fn check(
    paths: &Paths,
    target: &Target,
    names: &Names,
    signer: &Signer,
    now: &Reading,
) -> Result<Report> {
    check_with(paths, target, names, signer, now, &|kind| crate::engine::Engine::of_record(kind, &paths.root))
}

/// [`check`] with `engine_for` giving the engine of the kind the deployment record names (test
/// builds apply a fixture root with the terraform engine, [`crate::engine::Engine::terraform_at`]).
pub fn check_with(
    paths: &Paths,
    target: &Target,
    names: &Names,
    signer: &Signer,
    now: &Reading,
    engine_for: &dyn Fn(Option<lz_evidence::details::Engine>) -> crate::engine::Engine,
) -> Result<Report> {
    // The time of the drift record is bounded like every decision's (`clock::bound_in`).
    let now = &crate::clock::bound_in(paths, Some(&target.environment), now.clone())?;
    let ledger = paths.ledger()?;
    let records = crate::replay::admitted_records(paths, &ledger, ledger.records()?)?.0;
    let Some(deployed) = last_deployment(&records, &target.environment) else {
        return Err(refuse!(
            "nothing has been deployed to {}: there is no state to check for drift",
            target.environment
        ));
    };
    // The stack and state this check judges are those of the engine the record names: the
    // canary's, or the landing zone's own root with hashicorp/aws at its state key.
    let kind = crate::facts::engine_of(deployed);
    let engine = engine_for(kind);
    anyhow::ensure!(
        engine.kind() == kind.unwrap_or(lz_evidence::details::Engine::Canary),
        "the deployment of {} (record {}) names engine {:?}, but drift was given the {} engine",
        target.environment,
        deployed.sequence,
        kind,
        engine.kind()
    );
    let release = deployed.release.clone();
    let archive = paths.open_release(&release)?;
    let plan = archive.plan(&target.environment)?;
    refuse_if!(
        deployed.plan_digest.as_deref() != Some(crate::plan_digest(&plan).as_str()),
        "the plan of {}'s deployment (record {}) re-rendered from release {} does not match its recorded digest",
        target.environment,
        deployed.sequence,
        short(&release)
    );
    let spec = spec_from_plan(
        &plan,
        &target.environment,
        &target.account_id,
        &target.region,
        names,
    )?;
    let policy = crate::approval::ApprovalPolicy::parse(
        &archive.text(crate::approval::APPROVAL_POLICY)?,
        &archive.origin(crate::approval::APPROVAL_POLICY),
    )?;
    refuse_if!(
        signer.identity() == policy.policy_identity_of(&target.environment),
        "{} is the policy identity: drift records are signed by a deployer",
        signer.identity()
    );
    let details: DeploymentDetails = deployed.deployment().cloned().unwrap_or_default();
    let run_as = assume_deployer(target, &format!("lz-drift-{}", signer.identity()))?;
    // The state this check judges: the record names it (version, serial, lineage).
    let s3 = lz_platform::reach::with_credentials(&target.endpoint, &target.region, run_as.credentials())?.s3();
    let backend = engine.backend(target);
    let state = crate::target::read_state(&s3, &backend)?;
    let work = paths.work.join(format!(
        "{}-drift-{}",
        target.environment,
        std::process::id()
    ));
    // The deployed release's own stack (the one its engine applied), never the working tree's.
    let ws = engine.workspace(&paths.root, archive.root(), &work, &target.endpoint, &backend, run_as, (&target.environment, &plan))?;
    let bake = u32::try_from(details.bake_seconds.unwrap_or(0)).unwrap_or(u32::MAX);
    let args = [
        vec!["plan".to_string(), "-input=false".into(), "-no-color".into(), LOCK_TIMEOUT.into(), "-detailed-exitcode".into()],
        engine.vars(archive.root(), &release, target, bake),
        vec!["-out=drift.tfplan".into()],
    ]
    .concat();
    let planned = terraform_drift(ws.terraform(), &args, &target.environment);
    let _ = std::fs::remove_dir_all(&work);
    // The controls read from AWS are checked whatever the plan did, so a failed plan (a held
    // state lock, say) never hides the drift they find.
    let terraform_changes = planned.as_ref().is_ok_and(|(changes, _)| *changes);
    let mut findings = check_buckets(&target.endpoint, &spec, &target.deployer_role)?;
    findings.extend(state_findings(&crate::facts::Place::new(target.clone(), names.clone()), deployed, state.as_ref(), terraform_changes)?);
    if let crate::ledger::EvidenceAt::S3(stores) = &paths.evidence {
        findings.extend(check_stores(stores)?);
    }
    // What every drift record of this check carries: the controls' findings, the deployment
    // and the state judged, and the clock.
    let (state_serial, state_version, state_lineage) = crate::facts::state_details(state.as_ref());
    let judged = DriftDetails {
        findings: Some(serde_json::to_value(&findings)?),
        deployment_record: Some(deployed.sequence),
        clock: Some(now.source.clone()),
        state_serial,
        state_version,
        state_lineage,
        ..Default::default()
    };
    let fields = Fields::new(&release).environment(&target.environment).account(&target.account_id).at(now.time);
    let mut resources: Vec<String> = findings.iter().map(|f| f.resource.clone()).collect();
    let (terraform_changes, shown) = match planned {
        Ok(p) => p,
        Err(plan) => {
            // Drift found by the checks that ran is recorded (drifted=true), so the next
            // environment's promotion is held by it even though the canary state was not judged:
            // holding the state lock must never hide live drift from the gate.
            let record = if findings.is_empty() {
                None
            } else {
                resources.dedup();
                let details = DriftDetails { drifted: Some(true), resources: Some(resources), ..judged };
                Some(ledger.append(Kind::Drift, fields.details(details), signer)?.sequence)
            };
            return Err(Incomplete { environment: target.environment.clone(), release, findings, plan, record }.into());
        }
    };
    // Named as the offline plan names them (a pinned instance's version call mapped back).
    let mapping = engine.mapping(archive.root(), &target.environment)?;
    let canary_changes = if terraform_changes { shown.changing().iter().map(|c| mapping.offline(c)).collect() } else { Vec::new() };
    if terraform_changes {
        let of = if engine.kind() == lz_evidence::details::Engine::Terraform { "landing zone" } else { "canary" };
        resources.push(format!("{} ({of} state)", target.environment));
    }
    resources.dedup();
    let fields = fields.details(DriftDetails {
        drifted: Some(terraform_changes || !findings.is_empty()),
        resources: Some(resources),
        terraform_changes: Some(terraform_changes),
        canary_changes: Some(canary_changes.clone()),
        plan_output_digest: Some(crate::facts::plan_output_digest(&shown)),
        ..judged
    });
    let rec: RecordRef = ledger.append(Kind::Drift, fields, signer)?;
    Ok(Report {
        environment: target.environment.clone(),
        release,
        terraform_changes,
        canary_changes,
        findings,
        record: rec.sequence,
    })
}

/// How long the drift plan waits for a held state lock. Test builds (`test-hooks`) wait 2 s, so
/// a test of a held lock does not sit out the minute.
#[cfg(not(feature = "test-hooks"))]
const LOCK_TIMEOUT: &str = "-lock-timeout=60s";
#[cfg(feature = "test-hooks")]
const LOCK_TIMEOUT: &str = "-lock-timeout=2s";

/// A drift check whose Terraform plan failed: what the checks that ran found. When they found
/// drift, it is recorded (a drift record, drifted=true, without a canary judgement) so the gate
/// holds the next promotion; a clean result is never recorded, since the canary state was not
/// judged. `cargo xtask drift` prints the findings, then the plan's failure, and exits 1 when
/// something drifted, 2 otherwise.
#[derive(Debug)]
pub struct Incomplete {
    pub environment: String,
    pub release: String,
    pub findings: Vec<Finding>,
    pub plan: anyhow::Error,
    /// The drift record appended for the findings (none when the checks that ran found nothing).
    pub record: Option<u64>,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let recorded = match self.record {
            Some(seq) => format!("recorded as drift record {seq}"),
            None => "no drift record appended".into(),
        };
        write!(
            f,
            "drift of {}: the canary state was not checked ({} finding(s) from the checks that ran; {recorded})",
            self.environment,
            self.findings.len()
        )
    }
}

impl std::error::Error for Incomplete {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.plan.as_ref())
    }
}

/// [`Incomplete`] for people: the findings, and the state not checked.
pub fn render_incomplete(i: &Incomplete) -> String {
    let mut s = if i.findings.is_empty() {
        format!("{}: NOT CHECKED: the canary state (release {}); the other controls show no drift\n", i.environment, crate::approval::short(&i.release))
    } else {
        format!(
            "{}: DRIFT (release {}; recorded as drift record {}; the canary state was not checked)\n",
            i.environment,
            crate::approval::short(&i.release),
            i.record.map_or("?".into(), |s| s.to_string())
        )
    };
    for f in &i.findings {
        s.push_str(&format!("  {} {}: declared {}, actual {}\n", f.resource, f.attribute, f.declared, f.actual));
    }
    s.push_str("  canary state: NOT CHECKED (the terraform plan failed; see the error below)\n");
    s
}

/// The Terraform half of a drift check: `ARGS` (a `terraform plan -detailed-exitcode` that
/// writes `drift.tfplan`) run in `tf`, and the plan shown, so the record names which resources
/// drifted, not only that something did. Whatever provider the working copy was initialised
/// with (none for the canary, hashicorp/aws for a real stack) reads the live resources.
pub fn terraform_drift(tf: &lz_platform::tfrun::TfDir, args: &[String], environment: &str) -> Result<(bool, lz_platform::tfrun::ShownPlan)> {
    let out = tf.run(args)?;
    let changes = match out.code {
        0 => false,
        2 => true,
        _ => bail!("terraform plan for the drift check of {environment} failed:\n{}", out.stderr.trim()),
    };
    Ok((changes, tf.show("drift.tfplan")?))
}

/// The deployment record against the state bucket: the version it names must be held with its
/// serial, lineage and release, and still be the state now (`state`, read before the plan;
/// when the plan shows changes, they already name how the state differs).
fn state_findings(
    place: &crate::facts::Place,
    deployed: &crate::ledger::Record,
    state: Option<&crate::target::StateAt>,
    terraform_changes: bool,
) -> Result<Vec<Finding>> {
    let b = crate::facts::backend_of(place, deployed);
    let resource = format!("s3://{}/{}", b.bucket, b.key);
    let mut out = Vec::new();
    if let Some(why) = crate::facts::check_deployment(place, deployed)? {
        out.push(Finding {
            resource: resource.clone(),
            attribute: format!("deployment record {}", deployed.sequence),
            declared: "the state version, serial, lineage and release the record names".into(),
            actual: why,
        });
    } else if let (Ok(c), false) = (crate::facts::claimed(deployed), terraform_changes) {
        if state.and_then(|s| s.version.as_deref()) != Some(c.version.as_str()) {
            out.push(Finding {
                resource,
                attribute: "state version".into(),
                declared: format!("version {} (serial {}) of deployment record {}", c.version, c.serial, deployed.sequence),
                actual: state
                    .map(|s| format!("version {} (serial {})", s.version.as_deref().unwrap_or("null"), s.serial))
                    .unwrap_or_else(|| MISSING.into()),
            });
        }
    }
    Ok(out)
}

pub fn render_text(r: &Report) -> String {
    let mut s = if r.drifted() {
        format!(
            "{}: DRIFT (record {}, release {})\n",
            r.environment,
            r.record,
            crate::approval::short(&r.release)
        )
    } else {
        format!(
            "{}: no drift (record {}, release {})\n",
            r.environment,
            r.record,
            crate::approval::short(&r.release)
        )
    };
    if r.terraform_changes {
        s.push_str("  canary state: terraform plan shows changes\n");
        for c in &r.canary_changes {
            s.push_str(&format!("    {c}\n"));
        }
    }
    for f in &r.findings {
        s.push_str(&format!(
            "  {} {}: declared {}, actual {}\n",
            f.resource, f.attribute, f.declared, f.actual
        ));
    }
    s
}

/// The unpacked release deployed last in `environment` (for its env.toml and backend).
pub fn deployed_tree(paths: &Paths, environment: &str) -> Result<VerifiedRelease> {
    let ledger = paths.ledger()?;
    let records = crate::replay::admitted_records(paths, &ledger, ledger.records()?)?.0;
    let Some(d) = last_deployment(&records, environment) else {
        return Err(refuse!(
            "nothing has been deployed to {environment}: there is no state to check for drift"
        ));
    };
    paths.open_release(&d.release)
}
