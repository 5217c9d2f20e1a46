//! `cargo xtask rotate`: Secrets Manager's four-step rotation of one secret, driven by the
//! harness with the deployer role's STS credentials, then its verification, each a signed
//! record that names the secret, its version ids and consumers, never its value.
//!
//! 1. create: a new version with a fresh random value under `AWSPENDING`;
//! 2. set: the pending value is installed where it is used (this landing zone's targets read it
//!    from Secrets Manager itself, so set checks that the pending version holds exactly the value
//!    created, by digest);
//! 3. test: the pending version reads back, differs from `AWSCURRENT`;
//! 4. finish: `AWSCURRENT` moves to the new version (`AWSPREVIOUS` to the old one).
//!
//! `AWSPENDING` stays on the new version until the verification passed, so Secrets Manager's
//! labels are the run's journal: an interrupted run (killed anywhere) is resumed by the next
//! one: before finish, the secret still reads at its previous `AWSCURRENT` and the next run
//! continues with the pending version; after finish, the next run verifies again. A failed
//! verification moves the labels back (`AWSCURRENT` to the previous version, `AWSPREVIOUS`
//! to the one before it) and is recorded.
//!
//! Verification: every consumer the plan names (roles whose policies name the secret's ARN)
//! must be allowed `secretsmanager:GetSecretValue` on the secret by its live identity policies
//! capped by its live permissions boundary (evaluated here: LocalStack does not enforce IAM),
//! and, assumed through STS, read `AWSCURRENT` and get the new version; the previous version
//! carries only `AWSPREVIOUS`; no file of the repository and no rendered plan pins an old
//! version id or a stage other than `AWSCURRENT`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Context, Result};
use lz_evidence::details::{Details, RotationDetails};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_evidence::Signer;
use serde::Serialize;
use serde_json::Value;

use crate::aws_error;
use crate::clock::Reading;
use crate::target::Target;
use crate::rotation::{self, Consumer, Secret};

pub const CURRENT: &str = "AWSCURRENT";
pub const PENDING: &str = "AWSPENDING";
pub const PREVIOUS: &str = "AWSPREVIOUS";
/// A custom label that keeps the version before the previous one (and so the way back to the
/// labels as they were) until the verification is over: Secrets Manager may drop a version
/// that has no label.
pub const ROLLBACK: &str = "LZROLLBACK";
pub const ACTION: &str = "secretsmanager:GetSecretValue";

/// The protocol's step boundaries, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Create,
    Set,
    Test,
    Finish,
    Verify,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Set => "set",
            Step::Test => "test",
            Step::Finish => "finish",
            Step::Verify => "verify",
        }
    }
}

/// One consumer's verification.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ConsumerCheck {
    pub role: String,
    /// The plan's policies allow the read.
    pub declared: bool,
    /// The live identity policies and boundary allow the read.
    pub live: bool,
    /// The declared or live policies let the consumer read the previous version.
    pub previous_readable: bool,
    /// The version id the consumer read as `AWSCURRENT` (None when the read failed).
    pub read_version: Option<String>,
    pub problem: Option<String>,
}

/// What one run did.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub environment: String,
    pub resource: String,
    pub arn: String,
    pub created: bool,
    /// Where an interrupted run was picked up ("pending version X", "finished version X").
    pub resumed: Option<String>,
    pub steps: Vec<String>,
    pub version: String,
    pub previous: Option<String>,
    pub consumers: Vec<ConsumerCheck>,
    pub problems: Vec<String>,
    /// "rotated" or "rolled-back"
    pub outcome: String,
    pub verification_record: u64,
    pub rotation_record: u64,
    pub time: String,
    pub clock: String,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.outcome == "rotated"
    }
}

/// Everything one rotation needs.
pub struct Request<'a> {
    /// Repository root: its files are scanned for stale references.
    pub root: &'a Path,
    pub paths: &'a crate::Paths,
    pub target: &'a Target,
    /// The environment's rendered plan.
    pub plan: &'a Value,
    pub policy: &'a rotation::Policy,
    /// The secret's full name, or its end after a `/` when that names one secret
    /// (`orders/db-credentials`, or `db-credentials` when only one service has one).
    pub secret: &'a str,
    pub signer: &'a Signer,
    pub ticket: Option<&'a str>,
}



/// The secret a request names, among the plan's secrets.
pub fn select<'a>(secrets: &'a [Secret], name: &str, environment: &str) -> Result<&'a Secret> {
    if let Some(s) = secrets.iter().find(|s| s.name == name) {
        return Ok(s);
    }
    let by_short: Vec<&Secret> = secrets
        .iter()
        .filter(|s| s.name.ends_with(&format!("/{name}")))
        .collect();
    match by_short.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "the plan of {environment} declares no secret {name:?} (secrets: {})",
            secrets
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        many => bail!(
            "{name:?} names {} secrets in {environment}: give the full name ({})",
            many.len(),
            many.iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        out.push_str(&hex::encode(
            lz_evidence::identity::generate_key().to_bytes(),
        ));
    }
    out.truncate(bytes * 2);
    out
}

fn uuid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn sha256(s: &str) -> String {
    lz_evidence::dsse::sha256_hex(s.as_bytes())
}

type Stages = BTreeMap<String, Vec<String>>;

fn stages_of(m: Option<&HashMap<String, Vec<String>>>) -> Stages {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn holder(stages: &Stages, label: &str) -> Option<String> {
    stages
        .iter()
        .find(|(_, l)| l.iter().any(|x| x == label))
        .map(|(v, _)| v.clone())
}

async fn describe(sm: &aws_sdk_secretsmanager::Client, name: &str) -> Result<(String, Stages)> {
    let d = sm
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("describing {name}"))?;
    Ok((
        d.arn().unwrap_or_default().to_string(),
        stages_of(d.version_ids_to_stages()),
    ))
}

/// Creates the secret as the plan declares it when it is absent (as bootstrap creates the
/// buckets), with a random initial value. Returns whether it was created.
async fn ensure_secret(
    sm: &aws_sdk_secretsmanager::Client,
    secret: &Secret,
    plan: &Value,
) -> Result<bool> {
    match sm.describe_secret().secret_id(&secret.name).send().await {
        Ok(_) => return Ok(false),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(aws_error(e)).with_context(|| format!("describing {}", secret.name)),
    }
    let after = plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|rc| rc.get("address").and_then(Value::as_str) == Some(secret.address.as_str()))
        .and_then(|rc| rc.pointer("/change/after"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut req = sm
        .create_secret()
        .name(&secret.name)
        .secret_string(random_hex(32))
        .client_request_token(uuid());
    if let Some(d) = after.get("description").and_then(Value::as_str) {
        req = req.description(d);
    }
    if let Some(tags) = after.get("tags").and_then(Value::as_object) {
        for (k, v) in tags {
            if let Some(v) = v.as_str() {
                req = req.tags(
                    aws_sdk_secretsmanager::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build(),
                );
            }
        }
    }
    match req.send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(aws_error(e)).with_context(|| format!("cannot create secret {}", secret.name)),
    }
}

/// Creates a consumer role as the plan declares it when it is absent (trust policy, boundary,
/// inline policies). An existing role is left as it is: verification judges it as it is.
async fn ensure_consumer(iam: &aws_sdk_iam::Client, account: &str, c: &Consumer) -> Result<()> {
    if iam.get_role().role_name(&c.role).send().await.is_ok() {
        return Ok(());
    }
    let mut req = iam
        .create_role()
        .role_name(&c.role)
        .assume_role_policy_document(&c.trust_policy);
    if let Some((name, doc)) = &c.boundary {
        let arn = format!("arn:aws:iam::{account}:policy/{name}");
        if iam.get_policy().policy_arn(&arn).send().await.is_err() {
            match iam
                .create_policy()
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_already_exists_exception()) => {}
                Err(e) => {
                    return Err(aws_error(e)).with_context(|| format!("cannot create policy {name}"))
                }
            }
        }
        req = req.permissions_boundary(arn);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_entity_already_exists_exception()) =>
        {
            return Ok(())
        }
        Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot create role {}", c.role)),
    }
    for (address, doc) in &c.policies {
        let name = address
            .rsplit('.')
            .next()
            .unwrap_or("inline")
            .replace(['[', ']', '"'], "");
        iam.put_role_policy()
            .role_name(&c.role)
            .policy_name(format!("{}-{name}", c.role))
            .policy_document(doc)
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("{}: inline policy", c.role))?;
    }
    Ok(())
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A policy document as IAM returns it (URL-encoded JSON, or JSON).
fn document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        url_decode(raw)
    }
}

/// The live identity policies (inline and attached) and boundary of a role.
async fn live_policies(
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Result<(Vec<String>, Option<String>)> {
    let r = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("reading role {role}"))?;
    let boundary_arn = r
        .role()
        .and_then(|r| r.permissions_boundary())
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_string);
    let mut docs = Vec::new();
    let names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("listing policies of {role}"))?;
    for n in names.policy_names() {
        let p = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(n)
            .send()
            .await
            .map_err(aws_error)?;
        docs.push(document(p.policy_document()));
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(aws_error)?;
    for a in attached.attached_policies() {
        if let Some(arn) = a.policy_arn() {
            if let Some(d) = managed_document(iam, arn).await? {
                docs.push(d);
            }
        }
    }
    let boundary =
        match boundary_arn {
            Some(arn) => Some(managed_document(iam, &arn).await?.with_context(|| {
                format!("the boundary {arn} of {role} has no readable document")
            })?),
            None => None,
        };
    Ok((docs, boundary))
}

async fn managed_document(iam: &aws_sdk_iam::Client, arn: &str) -> Result<Option<String>> {
    let Ok(p) = iam.get_policy().policy_arn(arn).send().await else {
        return Ok(None);
    };
    let Some(v) = p.policy().and_then(|p| p.default_version_id()) else {
        return Ok(None);
    };
    let pv = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(v)
        .send()
        .await
        .map_err(aws_error)?;
    Ok(pv.policy_version().and_then(|v| v.document()).map(document))
}

/// Files of the repository and rendered plan text that pin a version id other than `current`
/// or a stage other than `AWSCURRENT` of the secret.
pub fn stale_references(
    root: &Path,
    plan: &Value,
    secret: &str,
    old_versions: &[String],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for dir in ["environments", "modules", "stacks", "governance", ".github"] {
        let base = root.join(dir);
        if !base.exists() {
            continue;
        }
        for e in walk(&base)? {
            let Ok(text) = std::fs::read_to_string(&e) else {
                continue;
            };
            for v in old_versions {
                if text.contains(v.as_str()) {
                    out.push(format!(
                        "{} names the old version {v} of {secret}",
                        e.strip_prefix(root).unwrap_or(&e).display()
                    ));
                }
            }
        }
    }
    let plan_text = plan.to_string();
    for v in old_versions {
        if plan_text.contains(v.as_str()) {
            out.push(format!(
                "the rendered plan names the old version {v} of {secret}"
            ));
        }
    }
    // A secret version resource or lookup pinned to a stage or version id of this secret.
    for rc in plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ty = rc.get("type").and_then(Value::as_str).unwrap_or_default();
        if ty != "aws_secretsmanager_secret_version" {
            continue;
        }
        let after = rc.pointer("/change/after").cloned().unwrap_or(Value::Null);
        let names = after
            .get("secret_id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.contains(secret));
        let stages: Vec<&str> = after
            .get("version_stages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if names && stages.iter().any(|s| *s != CURRENT) {
            out.push(format!(
                "{} pins {} to stage {}",
                rc.get("address")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                secret,
                stages.join(", ")
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let e = e?;
            let name = e.file_name();
            if name == ".terraform" {
                continue;
            }
            if e.file_type()?.is_dir() {
                stack.push(e.path());
            } else if e.file_type()?.is_file() {
                out.push(e.path());
            }
        }
    }
    Ok(out)
}

/// A step boundary. Test builds only (`test-hooks`): when `<work>/rotation-pause-at` names this
/// step, the run writes `<work>/rotation-paused` and waits there, so a test can SIGKILL it at
/// exactly this boundary. The shipped binary has no such hook.
fn boundary(_paths: &crate::Paths, _step: Step) {
    #[cfg(feature = "test-hooks")]
    {
        let at = _paths.work.join("rotation-pause-at");
        if std::fs::read_to_string(&at).is_ok_and(|s| s.trim() == _step.as_str()) {
            let _ = std::fs::create_dir_all(&_paths.work);
            let _ = std::fs::write(_paths.work.join("rotation-paused"), _step.as_str());
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}

/// Rotates one secret and verifies it; records both (signed by `signer`, who needs the
/// deployer role). A failed verification rolls the labels back and is recorded; the outcome
/// says so (`passed()` is false). The steps, in order: [`may_sign`], [`Run::create`] (or
/// resume), [`Run::set`], [`Run::test`], [`Run::finish`], [`Run::verify`],
/// [`Run::settle`] (roll back or drop the pending label) and [`Run::record`].
pub fn rotate(req: &Request, now: impl Fn() -> Result<Reading>) -> Result<Outcome> {
    let t = req.target;
    // Every time rotation records is bounded like every decision's (`clock::bound_in`), and
    // read before anything is rotated.
    let now = || crate::clock::bound_in(req.paths, Some(&t.environment), now()?);
    now()?;
    let secrets = rotation::secrets_of_plan(req.plan, req.policy, &t.account_id, &t.region)?;
    let secret = select(&secrets, req.secret, &t.environment)?.clone();
    let ledger = req.paths.ledger()?;
    may_sign(req, &ledger)?;
    let mut run = Run::open(req, secret)?;
    let start = run.create()?;
    let labels = Labels::before(&start);
    if !start.already_finished() {
        run.set(&start)?;
        run.test(&start)?;
        run.finish(&start, &labels)?;
    }
    let (consumers, mut problems) = run.verify(&start, &labels)?;
    let old_versions: Vec<String> = start.before.keys().filter(|v| **v != start.version).cloned().collect();
    problems.extend(stale_references(req.root, req.plan, &run.secret.name, &old_versions)?);
    let passed = problems.is_empty();
    run.settle(passed, &start, &labels)?;
    run.steps.push(Step::Verify.as_str().to_string());
    run.record(&ledger, now()?, start, labels, consumers, problems)
}

/// The signer may sign rotation records (the deployer role), in the register in force.
fn may_sign(req: &Request, ledger: &crate::ledger::Ledger) -> Result<()> {
    match ledger.identities().get(req.signer.identity()) {
        Some(i) if i.may_sign(Kind::Rotation) => Ok(()),
        _ => Err(crate::refusal::refuse!(
            "{} may not sign rotation records ({})",
            req.signer.identity(),
            lz_evidence::identity::describe_rule(Kind::Rotation)
        )),
    }
}

/// One rotation of one secret as the deployer role: its clients, and the steps done so far.
struct Run<'r> {
    req: &'r Request<'r>,
    secret: Secret,
    sm: aws_sdk_secretsmanager::Client,
    iam: aws_sdk_iam::Client,
    rt: tokio::runtime::Runtime,
    steps: Vec<String>,
}

/// What the create step found or made: the version rotated to, and where an interrupted run
/// is picked up.
struct Started {
    created: bool,
    arn: String,
    /// The version labels before this run.
    before: Stages,
    version: String,
    resumed: Option<String>,
    /// sha256 of the value this run created (none when resumed).
    fresh_value_digest: Option<String>,
}

impl Started {
    /// An earlier run finished the labels; only verification is left.
    fn already_finished(&self) -> bool {
        self.resumed.as_deref().is_some_and(|r| r.starts_with("finished"))
    }
}

/// The version that was AWSCURRENT before this rotation, and the one before it.
struct Labels {
    previous: Option<String>,
    prior_previous: Option<String>,
}

impl Labels {
    fn before(start: &Started) -> Labels {
        let before = &start.before;
        let (previous, prior_previous) = if start.already_finished() {
            (holder(before, PREVIOUS), holder(before, ROLLBACK))
        } else {
            (holder(before, CURRENT), holder(before, ROLLBACK).or_else(|| holder(before, PREVIOUS)))
        };
        Labels { previous, prior_previous }
    }
}

impl<'r> Run<'r> {
    fn open(req: &'r Request<'r>, secret: Secret) -> Result<Run<'r>> {
        let t = req.target;
        let run_as = crate::target::assume_deployer(t, &format!("rotate-{}", req.signer.identity()))?;
        let aws = lz_platform::reach::with_credentials(&t.endpoint, &t.region, run_as.credentials())?;
        let (sm, iam) = (aws.secretsmanager(), aws.iam());
        let rt = lz_platform::aws::runtime()?;
        Ok(Run { req, secret, sm, iam, rt, steps: Vec::new() })
    }

    /// A step done: recorded in the run, then the test-only boundary.
    fn done(&mut self, step: Step) {
        self.steps.push(step.as_str().to_string());
        boundary(self.req.paths, step);
    }

    /// create: the secret (if the plan's secret does not exist yet) and a pending version, or
    /// the pending or finished version an interrupted run left.
    fn create(&mut self) -> Result<Started> {
        let (sm, secret, req) = (&self.sm, &self.secret, self.req);
        let (created, arn, before, version, resumed, fresh_value_digest) = self.rt.block_on(async {
            let created = ensure_secret(&sm, &secret, req.plan).await?;
            let (arn, before) = describe(&sm, &secret.name).await?;
            let current = holder(&before, CURRENT)
                .with_context(|| format!("{} has no {CURRENT} version", secret.name))?;
            let pending = holder(&before, PENDING);
            let (version, resumed, digest) = match pending {
                Some(p) if p == current => (
                    p.clone(),
                    Some(format!("finished version {p}, verifying again")),
                    None,
                ),
                Some(p) => (p.clone(), Some(format!("pending version {p}")), None),
                None => {
                    let token = uuid();
                    let value = random_hex(32);
                    sm.put_secret_value()
                        .secret_id(&secret.name)
                        .client_request_token(&token)
                        .secret_string(&value)
                        .version_stages(PENDING)
                        .send()
                        .await
                        .map_err(aws_error)
                        .with_context(|| {
                            format!("create: putting the pending version of {}", secret.name)
                        })?;
                    (token, None, Some(sha256(&value)))
                }
            };
            anyhow::Ok((created, arn, before, version, resumed, digest))
        })?;
        if resumed.is_none() {
            self.done(Step::Create);
        }
        Ok(Started { created, arn, before, version, resumed, fresh_value_digest })
    }

    /// set: the pending version holds a value (the one created, when this run created it).
    fn set(&mut self, start: &Started) -> Result<()> {
        let (sm, secret) = (&self.sm, &self.secret);
        let (version, fresh_value_digest) = (start.version.clone(), start.fresh_value_digest.clone());
        self.rt.block_on(async {
            // set
            let pending = sm
                .get_secret_value()
                .secret_id(&secret.name)
                .version_id(&version)
                .send()
                .await
                .map_err(aws_error)
                .with_context(|| format!("set: reading the pending version of {}", secret.name))?;
            let value = pending.secret_string().unwrap_or_default();
            if value.is_empty() {
                bail!(
                    "set: the pending version {version} of {} is empty",
                    secret.name
                );
            }
            if let Some(d) = &fresh_value_digest {
                if sha256(value) != *d {
                    bail!(
                        "set: the pending version {version} of {} does not hold the value created",
                        secret.name
                    );
                }
            }
            anyhow::Ok(())
        })?;
        self.done(Step::Set);
        Ok(())
    }

    /// test: AWSPENDING is the new version and differs from AWSCURRENT.
    fn test(&mut self, start: &Started) -> Result<()> {
        let (sm, secret) = (&self.sm, &self.secret);
        let version = start.version.clone();
        self.rt
            .block_on(async {
                // test
                let pending = sm
                    .get_secret_value()
                    .secret_id(&secret.name)
                    .version_stage(PENDING)
                    .send()
                    .await
                    .map_err(aws_error)?;
                let current = sm
                    .get_secret_value()
                    .secret_id(&secret.name)
                    .version_stage(CURRENT)
                    .send()
                    .await
                    .map_err(aws_error)?;
                if pending.version_id() != Some(version.as_str()) {
                    bail!(
                        "test: {PENDING} of {} is {:?}, not {version}",
                        secret.name,
                        pending.version_id()
                    );
                }
                if pending.secret_string() == current.secret_string() {
                    bail!(
                        "test: the pending value of {} equals the current one",
                        secret.name
                    );
                }
                anyhow::Ok(())
            })
            .with_context(|| format!("test step of {}", secret.name))?;
        self.done(Step::Test);
        Ok(())
    }

    /// finish: AWSCURRENT moves to the new version, AWSPREVIOUS to the one before.
    fn finish(&mut self, start: &Started, labels: &Labels) -> Result<()> {
        let (sm, secret) = (&self.sm, &self.secret);
        let version = start.version.clone();
        let (previous, prior_previous) = (labels.previous.clone(), labels.prior_previous.clone());
        self.rt.block_on(async {
            // finish; the version before the previous one keeps a label until verification ends
            if let Some(pp) = &prior_previous {
                sm.update_secret_version_stage()
                    .secret_id(&secret.name)
                    .version_stage(ROLLBACK)
                    .move_to_version_id(pp)
                    .send()
                    .await
                    .map_err(aws_error)
                    .with_context(|| {
                        format!("finish: labelling {pp} of {} {ROLLBACK}", secret.name)
                    })?;
            }
            let mut r = sm
                .update_secret_version_stage()
                .secret_id(&secret.name)
                .version_stage(CURRENT)
                .move_to_version_id(&version);
            if let Some(p) = &previous {
                r = r.remove_from_version_id(p);
            }
            r.send()
                .await
                .map_err(aws_error)
                .with_context(|| format!("finish: moving {CURRENT} of {}", secret.name))?;
            let (_, after) = describe(&sm, &secret.name).await?;
            if let Some(p) = &previous {
                if holder(&after, PREVIOUS).as_deref() != Some(p.as_str()) {
                    let mut r = sm
                        .update_secret_version_stage()
                        .secret_id(&secret.name)
                        .version_stage(PREVIOUS)
                        .move_to_version_id(p);
                    if let Some(old) = holder(&after, PREVIOUS) {
                        r = r.remove_from_version_id(old);
                    }
                    r.send()
                        .await
                        .map_err(aws_error)
                        .with_context(|| format!("finish: moving {PREVIOUS} of {}", secret.name))?;
                }
            }
            anyhow::Ok(())
        })?;
        self.done(Step::Finish);
        Ok(())
    }

    /// verify: each consumer reads the new version as AWSCURRENT through its role, its declared
    /// and live policies allow it, and nothing lets it read the previous version; the labels
    /// are where they belong. Returns the checks and the problems found.
    fn verify(&self, start: &Started, labels: &Labels) -> Result<(Vec<ConsumerCheck>, Vec<String>)> {
        let (sm, iam, secret, t) = (&self.sm, &self.iam, &self.secret, self.req.target);
        let (arn, version, previous) = (start.arn.clone(), start.version.clone(), labels.previous.clone());
        let mut problems = Vec::new();
        let mut consumers = Vec::new();
        self.rt.block_on(async {
            for c in &secret.consumers {
                ensure_consumer(&iam, &t.account_id, c).await?;
                // Consumers read AWSCURRENT; reading the previous version (by stage or by version
                // id) is a fallback credential and must be denied.
                let current_ctx = rotation::context(&[("secretsmanager:VersionStage", CURRENT)]);
                let declared_docs: Vec<String> = c.policies.iter().map(|(_, d)| d.clone()).collect();
                let declared_boundary = c.boundary.as_ref().map(|(_, d)| d.as_str());
                let declared = rotation::allows(&declared_docs, declared_boundary, ACTION, &arn, &current_ctx)?;
                let (live_docs, live_boundary) = live_policies(&iam, &c.role).await?;
                let live = rotation::allows(&live_docs, live_boundary.as_deref(), ACTION, &arn, &current_ctx)?;
                let mut fallback = false;
                if let Some(p) = &previous {
                    for ctx in [
                        rotation::context(&[("secretsmanager:VersionStage", PREVIOUS)]),
                        rotation::context(&[("secretsmanager:VersionId", p.as_str())]),
                    ] {
                        fallback |= rotation::allows(&live_docs, live_boundary.as_deref(), ACTION, &arn, &ctx)?
                            || rotation::allows(&declared_docs, declared_boundary, ACTION, &arn, &ctx)?;
                    }
                }
                let role_arn = format!("arn:aws:iam::{}:role/{}", t.account_id, c.role);
                let mut problem = None;
                let mut read_version = None;
                // The consumer's own role, reached the way every client is (lz_platform::reach).
                let session = lz_platform::aws_setup::session_name("rotation-verify", &lz_platform::reach::run());
                match lz_platform::reach::account(&t.endpoint, &t.account_id, &t.region, &c.role, &session) {
                    Ok(consumer) => {
                        let csm = consumer.secretsmanager();
                        match csm.get_secret_value().secret_id(&arn).version_stage(CURRENT).send().await {
                            Ok(v) => read_version = v.version_id().map(str::to_string),
                            Err(e) => problem = Some(format!("reading {CURRENT}: {}", aws_error(e))),
                        }
                    }
                    Err(e) => problem = Some(format!("assuming {role_arn}: {e:#}")),
                }
                if problem.is_none() && !declared {
                    problem = Some(format!("the plan's policies of {} do not allow {ACTION} on {arn}", c.role));
                }
                if problem.is_none() && !live {
                    problem = Some(format!("the live policies or permissions boundary of {} do not allow {ACTION} on {arn}", c.role));
                }
                if problem.is_none() && fallback {
                    problem = Some(format!(
                        "{} may still read the previous version (stage {PREVIOUS} or its version id): fallback credentials are not disabled",
                        c.role
                    ));
                }
                if problem.is_none() && read_version.as_deref() != Some(version.as_str()) {
                    problem = Some(format!("{} read version {:?} as {CURRENT}, not the new {version}", c.role, read_version));
                }
                if let Some(p) = &problem {
                    problems.push(format!("consumer {}: {p}", c.role));
                }
                consumers.push(ConsumerCheck { role: c.role.clone(), declared, live, previous_readable: fallback, read_version, problem });
            }
            let (_, now_stages) = describe(&sm, &secret.name).await?;
            if holder(&now_stages, CURRENT).as_deref() != Some(version.as_str()) {
                problems.push(format!("{CURRENT} of {} is not on the new version {version}", secret.name));
            }
            if let Some(p) = &previous {
                let labels = now_stages.get(p).cloned().unwrap_or_default();
                if labels != [PREVIOUS.to_string()] {
                    problems.push(format!("the previous version {p} carries {labels:?}, not only {PREVIOUS}"));
                }
            }
            anyhow::Ok(())
        })?;
        Ok((consumers, problems))
    }

    /// A failed verification rolls the labels back; a passed one drops AWSPENDING and the
    /// rollback label.
    fn settle(&self, passed: bool, start: &Started, labels: &Labels) -> Result<()> {
        let (sm, secret, version) = (&self.sm, &self.secret, &start.version);
        if !passed {
            self.rt.block_on(rollback(sm, &secret.name, version, labels.previous.as_deref(), labels.prior_previous.as_deref()))?;
        } else {
            boundary(self.req.paths, Step::Verify);
            self.rt.block_on(async {
                sm.update_secret_version_stage()
                    .secret_id(&secret.name)
                    .version_stage(PENDING)
                    .remove_from_version_id(version)
                    .send()
                    .await
                    .map_err(aws_error)
                    .with_context(|| format!("removing {PENDING} from the verified version of {}", secret.name))?;
                drop_rollback_label(sm, &secret.name).await
            })?;
        }
        Ok(())
    }

    /// Evidence: the verification, then the rotation. Each names Secrets Manager's version ids
    /// with the creation dates it reports for them: what `rotation status` checks there.
    fn record(
        self,
        ledger: &crate::ledger::Ledger,
        reading: Reading,
        start: Started,
        labels: Labels,
        consumers: Vec<ConsumerCheck>,
        problems: Vec<String>,
    ) -> Result<Outcome> {
        let Run { req, secret, sm, rt, steps, .. } = self;
        let t = req.target;
        let Started { created, arn, version, resumed, .. } = start;
        let Labels { previous, .. } = labels;
        let passed = problems.is_empty();
        let held = rt.block_on(crate::facts::versions(&sm, &secret.name))?.map(|(_, v)| v).unwrap_or_default();
        let created_of = |v: Option<&String>| v.and_then(|v| held.get(v)).cloned();
        let records = crate::replay::admitted_records(req.paths, &ledger, ledger.records()?)?.0;
        let release = crate::session::last_deployment(&records, &t.environment)
            .map(|r| r.release.clone())
            .unwrap_or_else(|| GENESIS.to_string());
        let names: Vec<String> = secret.consumers.iter().map(|c| c.role.clone()).collect();
        let fields = || {
            let f = Fields::new(&release)
                .environment(&t.environment)
                .account(&t.account_id)
                .plan_digest(crate::plan_digest(req.plan))
                .at(reading.time);
            match req.ticket {
                Some(tk) => f.ticket(tk),
                None => f,
            }
        };
        let base = |outcome: &str| RotationDetails {
            resource: secret.name.clone(),
            arn: Some(arn.clone()),
            category: Some(secret.kind.as_str().into()),
            classification: Some(secret.classification.as_str().into()),
            owner_group: Some(secret.owner_group.as_str().into()),
            max_age_days: Some(secret.max_age_days),
            version: version.clone(),
            version_created: created_of(Some(&version)),
            previous_version: previous.clone(),
            previous_version_created: created_of(previous.as_ref()),
            consumers: names.clone(),
            outcome: outcome.into(),
            clock: Some(reading.source.clone()),
            ..Default::default()
        };
        let checks = serde_json::to_value(&consumers).context("consumer checks")?;
        let v = ledger.append(
            Kind::RotationVerification,
            fields().details(Details::RotationVerification(RotationDetails {
                checks: Some(checks),
                problems: Some(problems.clone()),
                ..base(if passed { "passed" } else { "failed" })
            })),
            req.signer,
        )?;
        let r = ledger.append(
            Kind::Rotation,
            fields().details(Details::Rotation(RotationDetails {
                steps: Some(steps.clone()),
                resumed: resumed.clone(),
                verification_sequence: Some(v.sequence),
                ..base(if passed { "rotated" } else { "rolled-back" })
            })),
            req.signer,
        )?;
        Ok(Outcome {
            environment: t.environment.clone(),
            resource: secret.name.clone(),
            arn,
            created,
            resumed,
            steps,
            version,
            previous,
            consumers,
            problems,
            outcome: if passed { "rotated" } else { "rolled-back" }.into(),
            verification_record: v.sequence,
            rotation_record: r.sequence,
            time: crate::window::rfc3339(reading.time),
            clock: reading.source,
        })
    }
}

/// Moves the labels back: `AWSCURRENT` to `previous`, `AWSPREVIOUS` to `prior` (or off the
/// failed version), `AWSPENDING` off the failed version.
async fn rollback(
    sm: &aws_sdk_secretsmanager::Client,
    name: &str,
    failed: &str,
    previous: Option<&str>,
    prior: Option<&str>,
) -> Result<()> {
    let Some(previous) = previous else {
        bail!("verification of {name} failed and there is no previous version to roll back to");
    };
    let (_, stages) = describe(sm, name).await?;
    if holder(&stages, CURRENT).as_deref() == Some(failed) {
        sm.update_secret_version_stage()
            .secret_id(name)
            .version_stage(CURRENT)
            .move_to_version_id(previous)
            .remove_from_version_id(failed)
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("rollback: moving {CURRENT} of {name} back to {previous}"))?;
    }
    let (_, stages) = describe(sm, name).await?;
    let prev_holder = holder(&stages, PREVIOUS);
    // A version with no label may be gone already (Secrets Manager removes deprecated ones).
    let prior = prior.filter(|p| stages.contains_key(*p));
    match (prior, prev_holder) {
        (Some(p), Some(h)) if h != p => {
            sm.update_secret_version_stage()
                .secret_id(name)
                .version_stage(PREVIOUS)
                .move_to_version_id(p)
                .remove_from_version_id(h)
                .send()
                .await
                .map_err(aws_error)?;
        }
        (Some(p), None) => {
            sm.update_secret_version_stage()
                .secret_id(name)
                .version_stage(PREVIOUS)
                .move_to_version_id(p)
                .send()
                .await
                .map_err(aws_error)?;
        }
        (None, Some(h)) if h != previous => {
            sm.update_secret_version_stage()
                .secret_id(name)
                .version_stage(PREVIOUS)
                .remove_from_version_id(h)
                .send()
                .await
                .map_err(aws_error)?;
        }
        _ => {}
    }
    drop_rollback_label(sm, name).await?;
    let (_, stages) = describe(sm, name).await?;
    if stages
        .get(failed)
        .is_some_and(|l| l.iter().any(|x| x == PENDING))
    {
        sm.update_secret_version_stage()
            .secret_id(name)
            .version_stage(PENDING)
            .remove_from_version_id(failed)
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("rollback: removing {PENDING} from {failed}"))?;
    }
    Ok(())
}

async fn drop_rollback_label(sm: &aws_sdk_secretsmanager::Client, name: &str) -> Result<()> {
    let (_, stages) = describe(sm, name).await?;
    if let Some(v) = holder(&stages, ROLLBACK) {
        sm.update_secret_version_stage()
            .secret_id(name)
            .version_stage(ROLLBACK)
            .remove_from_version_id(&v)
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("removing {ROLLBACK} from {v} of {name}"))?;
    }
    Ok(())
}

/// The version labels of a secret (for status output and tests).
pub fn stages(target: &Target, name: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let sm = lz_platform::reach::account(&target.endpoint, &target.account_id, &target.region, &target.deployer_role, &lz_platform::reach::session(&target.environment))?
        .secretsmanager();
    let rt = lz_platform::aws::runtime()?;
    rt.block_on(async { describe(&sm, name).await.map(|(_, s)| s) })
}

/// The plan rotation works from, and the tree it was rendered from.
pub struct PlanSource {
    /// The tree: the unpacked release, or the working tree.
    pub tree: std::path::PathBuf,
    pub plan: Value,
    pub description: String,
    /// Keeps the unpacked release alive as long as `tree` is used.
    _release: Option<crate::release::VerifiedRelease>,
}

/// The plan rotation works from: the plan of the release last deployed in `environment`
/// (rendered from its verified archive, which is also the tree scanned for stale references
/// and whose `governance/rotation.toml` applies), or, before any deployment, the working tree's.
pub fn plan_of(paths: &crate::Paths, environment: &str) -> Result<PlanSource> {
    let records = crate::replay::admitted(paths)?;
    match crate::session::last_deployment(&records, environment) {
        Some(d) => {
            let archive = paths.open_release(&d.release)?;
            let plan = archive.plan(environment)?;
            Ok(PlanSource {
                tree: archive.root().to_path_buf(),
                plan,
                description: format!(
                    "release {} deployed in {environment}",
                    lz_evidence::record::short(&d.release)
                ),
                _release: Some(archive),
            })
        }
        None => Ok(PlanSource {
            tree: paths.root.clone(),
            plan: crate::release::render_env(&paths.root, environment)?,
            description: format!("working tree (nothing deployed in {environment} yet)"),
            _release: None,
        }),
    }
}

/// Every secret's rotation status in `environments` at `now`, from the verified chain at
/// `paths` and the plans rotation works from. Every passed verification is checked against
/// Secrets Manager at `endpoint` first ([`crate::facts::check_rotation`]): one it contradicts
/// (a secret or version it does not hold, another ARN or creation date) is no rotation, and
/// the secret's row names it.
pub fn status_of(
    paths: &crate::Paths,
    environments: &[&str],
    now: time::OffsetDateTime,
    endpoint: &str,
) -> Result<Vec<rotation::Status>> {
    let records = paths.ledger()?.records()?;
    let mut out = Vec::new();
    for env in environments {
        let src = plan_of(paths, env)?;
        let (tree, plan) = (&src.tree, &src.plan);
        let policy = rotation::Policy::load(tree)?;
        let t = Target::from_tree(tree, env, endpoint)?;
        let secrets = rotation::secrets_of_plan(plan, &policy, &t.account_id, &t.region)?;
        let mine: Vec<&crate::ledger::Record> = records.iter().filter(|r| r.environment.as_deref() == Some(*env)).collect();
        let contradicted = crate::facts::check_rotations(&mine, |_| Ok(t.clone()))?;
        let trusted: Vec<crate::ledger::Record> = records.iter().filter(|r| !contradicted.contains_key(&r.sequence)).cloned().collect();
        let mut rows = rotation::status(&trusted, env, &secrets, now);
        for row in &mut rows {
            row.contradicted = mine
                .iter()
                .filter(|r| r.kind == Kind::RotationVerification && r.details.rotation().is_some_and(|d| d.resource == row.secret))
                .filter_map(|r| contradicted.get(&r.sequence).cloned())
                .collect();
        }
        out.extend(rows);
    }
    Ok(out)
}
