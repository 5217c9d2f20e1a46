//! Drift: the canary state against its configuration (`terraform plan -detailed-exitcode`) and
//! the control-bearing settings of the state and evidence buckets against the declared values
//! (read by [`crate::controls`]), recorded as a signed drift check.

use anyhow::{bail, Result};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::{RecordRef, Signer};
use serde::Serialize;

use crate::approval::short;
use crate::bootstrap::{spec_from_plan, Names};
use crate::clock::Reading;
use crate::controls::{check_buckets, check_stores, Finding, MISSING};
use crate::ledger::{DeploymentDetails, DriftDetails};
use crate::session::last_deployment;
use crate::target::{assume_deployer, Target};
use crate::refusal::{refuse, refuse_if};
use crate::release::VerifiedRelease;
use crate::Paths;

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
