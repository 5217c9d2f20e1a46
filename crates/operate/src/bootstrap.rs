//! An environment's state bucket, evidence bucket and deployer role, created in its LocalStack
//! account with exactly the settings the rendered plan declares (`state-backend`, `log-archive`
//! and `identity` modules), never restated by hand.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::aws_error;
// What the plan declares of a bucket (read by change control too: the stores' retention floor).
pub use lz_promote::declared::{after, bucket_spec, s, BucketSpec, EVIDENCE_MODULE, STATE_MODULE};

pub const IDENTITY_MODULE: &str = "module.identity";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleSpec {
    pub name: String,
    pub trust_policy: String,
    pub boundary_name: String,
    pub boundary_policy: String,
    pub boundary_description: Option<String>,
    pub max_session_duration: Option<i32>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvSpec {
    pub environment: String,
    pub account_id: String,
    pub region: String,
    pub state: BucketSpec,
    pub evidence: BucketSpec,
    pub deployer: RoleSpec,
}

/// Bucket names to use instead of the plan's (isolated test runs); the bucket policy is
/// rewritten to name the bucket actually created.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub state_bucket: Option<String>,
    pub evidence_bucket: Option<String>,
}

impl Names {
    /// The names of an environment as its release places it: the state bucket its
    /// `backend.hcl` names (the plan's own name in the landing zone; a rehearsal suffixes it so
    /// that runs sharing one LocalStack never share a state).
    pub fn of_target(t: &crate::target::Target) -> Names {
        Names { state_bucket: Some(t.state_bucket.clone()), evidence_bucket: None }
    }
}

fn role_spec(plan: &Value, role: &str) -> Result<RoleSpec> {
    let r_addr = format!("{IDENTITY_MODULE}.aws_iam_role.this[\"{role}\"]");
    let r = after(plan, &r_addr)?;
    let boundary_arn = s(&r_addr, r, &["permissions_boundary"])?;
    let boundary_name = boundary_arn
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let p_addr = format!("{IDENTITY_MODULE}.aws_iam_policy.boundary[0]");
    let p = after(plan, &p_addr)?;
    let declared_boundary = s(&p_addr, p, &["name"])?;
    if declared_boundary != boundary_name {
        bail!("{r_addr}: permissions boundary {boundary_arn} is not the module's boundary policy {declared_boundary}");
    }
    Ok(RoleSpec {
        name: s(&r_addr, r, &["name"])?,
        trust_policy: s(&r_addr, r, &["assume_role_policy"])?,
        boundary_name,
        boundary_policy: s(&p_addr, p, &["policy"])?,
        boundary_description: p
            .0
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        max_session_duration: r
            .0
            .get("max_session_duration")
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok()),
        description: r
            .0
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The declared settings of an environment, read from its rendered plan.
pub fn spec_from_plan(
    plan: &Value,
    environment: &str,
    account_id: &str,
    region: &str,
    names: &Names,
) -> Result<EnvSpec> {
    Ok(EnvSpec {
        environment: environment.to_string(),
        account_id: account_id.to_string(),
        region: region.to_string(),
        state: bucket_spec(plan, STATE_MODULE, names.state_bucket.as_deref())
            .context("state bucket")?,
        evidence: bucket_spec(plan, EVIDENCE_MODULE, names.evidence_bucket.as_deref())
            .context("evidence bucket")?,
        deployer: role_spec(plan, "deployer").context("deployer role")?,
    })
}


/// What bootstrap did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub created: Vec<String>,
    pub configured: Vec<String>,
    pub notes: Vec<String>,
}

async fn ensure_bucket(
    s3: &aws_sdk_s3::Client,
    spec: &BucketSpec,
    region: &str,
    report: &mut Report,
) -> Result<()> {
    use aws_sdk_s3::types::*;
    let exists = s3.head_bucket().bucket(&spec.name).send().await.is_ok();
    if !exists {
        let mut req = s3.create_bucket().bucket(&spec.name);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        if spec.object_lock.is_some() {
            req = req.object_lock_enabled_for_bucket(true);
        }
        match req.send().await {
            Ok(_) => report.created.push(format!("s3://{}", spec.name)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
            Err(e) => {
                return Err(aws_error(e)).with_context(|| format!("cannot create bucket {}", spec.name))
            }
        }
    }
    if let Some(o) = &spec.ownership {
        s3.put_bucket_ownership_controls()
            .bucket(&spec.name)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::from(o.as_str()))
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("{}: ownership controls", spec.name))?;
    }
    put_tags(s3, spec).await?;
    put_public_access_block(s3, spec).await?;
    put_versioning(s3, spec).await?;
    let mut by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(spec.sse_algorithm.as_str()));
    if let Some(k) = &spec.kms_key {
        by_default = by_default.kms_master_key_id(k);
    }
    s3.put_bucket_encryption()
        .bucket(&spec.name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default.build()?)
                        .bucket_key_enabled(spec.bucket_key)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("{}: default encryption", spec.name))?;
    if let Some((mode, days)) = &spec.object_lock {
        s3.put_object_lock_configuration()
            .bucket(&spec.name)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(ObjectLockRetentionMode::from(mode.as_str()))
                                    .days(*days)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("{}: Object Lock", spec.name))?;
    }
    if let Some(p) = &spec.policy {
        s3.put_bucket_policy()
            .bucket(&spec.name)
            .policy(p)
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("{}: bucket policy", spec.name))?;
    }
    report.configured.push(format!("s3://{}", spec.name));
    Ok(())
}

/// Sets the bucket's declared public access block.
pub(crate) async fn put_public_access_block(s3: &aws_sdk_s3::Client, spec: &BucketSpec) -> Result<()> {
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    let [a, b, c, d] = spec.public_access_block;
    s3.put_public_access_block()
        .bucket(&spec.name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(a)
                .block_public_policy(b)
                .ignore_public_acls(c)
                .restrict_public_buckets(d)
                .build(),
        )
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("{}: public access block", spec.name))?;
    Ok(())
}

/// Sets the bucket's declared versioning status.
pub(crate) async fn put_versioning(s3: &aws_sdk_s3::Client, spec: &BucketSpec) -> Result<()> {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    s3.put_bucket_versioning()
        .bucket(&spec.name)
        .versioning_configuration(
            VersioningConfiguration::builder().status(BucketVersioningStatus::from(spec.versioning.as_str())).build(),
        )
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("{}: versioning", spec.name))?;
    Ok(())
}

/// Sets the bucket's declared tags (other tags it carries are kept).
pub(crate) async fn put_tags(s3: &aws_sdk_s3::Client, spec: &BucketSpec) -> Result<()> {
    use aws_sdk_s3::types::{Tag, Tagging};
    if spec.tags.is_empty() {
        return Ok(());
    }
    let mut all: std::collections::BTreeMap<String, String> = match s3.get_bucket_tagging().bucket(&spec.name).send().await {
        Ok(t) => t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
        Err(_) => Default::default(),
    };
    all.extend(spec.tags.clone());
    let tags = all
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    s3.put_bucket_tagging()
        .bucket(&spec.name)
        .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("{}: tags", spec.name))?;
    Ok(())
}

async fn ensure_role(
    iam: &aws_sdk_iam::Client,
    account_id: &str,
    spec: &RoleSpec,
    report: &mut Report,
) -> Result<()> {
    let boundary_arn = format!("arn:aws:iam::{account_id}:policy/{}", spec.boundary_name);
    if iam
        .get_policy()
        .policy_arn(&boundary_arn)
        .send()
        .await
        .is_err()
    {
        let mut req = iam
            .create_policy()
            .policy_name(&spec.boundary_name)
            .policy_document(&spec.boundary_policy);
        if let Some(d) = &spec.boundary_description {
            req = req.description(d);
        }
        match req.send().await {
            Ok(_) => report.created.push(boundary_arn.clone()),
            // A concurrent bootstrap of the same account created it first.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_entity_already_exists_exception()) => {}
            Err(e) => {
                return Err(aws_error(e))
                    .with_context(|| format!("cannot create policy {}", spec.boundary_name))
            }
        }
    }
    match iam.get_role().role_name(&spec.name).send().await {
        Ok(_) => {
            iam.update_assume_role_policy()
                .role_name(&spec.name)
                .policy_document(&spec.trust_policy)
                .send()
                .await
                .map_err(aws_error)
                .with_context(|| format!("{}: trust policy", spec.name))?;
            iam.put_role_permissions_boundary()
                .role_name(&spec.name)
                .permissions_boundary(&boundary_arn)
                .send()
                .await
                .map_err(aws_error)
                .with_context(|| format!("{}: permissions boundary", spec.name))?;
        }
        Err(_) => {
            let mut req = iam
                .create_role()
                .role_name(&spec.name)
                .assume_role_policy_document(&spec.trust_policy)
                .permissions_boundary(&boundary_arn);
            if let Some(d) = &spec.description {
                req = req.description(d);
            }
            if let Some(m) = spec.max_session_duration {
                req = req.max_session_duration(m);
            }
            match req.send().await {
                Ok(_) => report
                    .created
                    .push(format!("arn:aws:iam::{account_id}:role/{}", spec.name)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_already_exists_exception()) => {}
                Err(e) => {
                    return Err(aws_error(e)).with_context(|| format!("cannot create role {}", spec.name))
                }
            }
        }
    }
    report
        .configured
        .push(format!("arn:aws:iam::{account_id}:role/{}", spec.name));
    Ok(())
}

/// Creates (or brings back to the declared settings) the landing zone's release and evidence
/// stores in the hosting account, with the settings `plan` (the hosting environment's) declares
/// for its log archive.
pub fn bootstrap_stores(stores: &crate::stores::Stores, plan: &Value) -> Result<Report> {
    let specs = stores.specs(plan)?;
    let (s3, witness_s3) = (stores.s3()?, stores.witness_s3()?);
    let rt = lz_platform::aws::runtime()?;
    rt.block_on(async {
        let mut report = Report::default();
        for spec in &specs {
            ensure_bucket(&s3, spec, &stores.region, &mut report).await?;
        }
        // The witness store: the evidence store's settings, in the audit function's account.
        let mut witness = specs[1].clone();
        witness.policy = witness.policy.map(|p| p.replace(&stores.evidence_bucket, &stores.witness_bucket));
        witness.name = stores.witness_bucket.clone();
        ensure_bucket(&witness_s3, &witness, &stores.region, &mut report).await?;
        Ok(report)
    })
}

/// Creates (or brings back to the declared settings) the environment's buckets and deployer
/// role in its account, acting as `role` there: the environment role the pinned release names
/// (`lz_platform::reach::deployer_role_of` of the release that becomes the environment's
/// governing one), never the checkout's `governance/aws.toml`.
pub fn bootstrap(endpoint: &str, spec: &EnvSpec, role: &str) -> Result<Report> {
    let env = &spec.environment;
    let aws = lz_platform::reach::account(endpoint, &spec.account_id, &spec.region, role, &lz_platform::reach::session(env))?;
    let (s3, iam) = (aws.s3(), aws.iam());
    let rt = lz_platform::aws::runtime()?;
    rt.block_on(async {
        let mut report = Report::default();
        for k in [&spec.state.kms_key, &spec.evidence.kms_key].into_iter().flatten() {
            report.notes.push(format!("SSE-KMS names {k} as the plan declares (the kms-key module creates the key; LocalStack S3 does not require it to exist)"));
        }
        ensure_bucket(&s3, &spec.state, &spec.region, &mut report).await?;
        ensure_bucket(&s3, &spec.evidence, &spec.region, &mut report).await?;
        ensure_role(&iam, &spec.account_id, &spec.deployer, &mut report).await?;
        Ok(report)
    })
}

/// An environment's governance, resolved before bootstrap creates anything.
#[derive(Debug, PartialEq, Eq)]
pub enum PinPlan {
    /// The chain already pins the environment (record `sequence`, to release `pinned`), and
    /// `governing` governs it now: its last admitted deployment's release, else the pin's (what a
    /// promotion's session reads). Bootstrap acts as `governing`, whatever the command line or
    /// the checkout names, and records what it applied; the first pin stands.
    Existing { sequence: u64, pinned: String, governing: String },
    /// The environment is not pinned: `release` will be (the signer may pin it, and it carries
    /// the register in force).
    New { release: String },
}

impl PinPlan {
    /// The release that governs the environment once bootstrap is done: the one whose role
    /// (`governance/aws.toml`) and plan it acts with.
    pub fn release(&self) -> &str {
        match self {
            PinPlan::Existing { governing: release, .. } | PinPlan::New { release } => release,
        }
    }
}

/// The governance standing for `environment` in the verified `records`: its first pin and the
/// release governing it, judged on the admitted records only (a deployment record without a
/// valid admission, which one deployer key can write, governs nothing).
fn standing(paths: &crate::Paths, ledger: &crate::ledger::Ledger, records: Vec<crate::ledger::Record>, environment: &str) -> Result<Option<PinPlan>> {
    let Some(pin) = crate::session::governance_pin(&records, environment).map(|p| (p.sequence, p.release.clone())) else { return Ok(None) };
    let (admitted, _) = crate::replay::admitted_records(paths, ledger, records)?;
    let governing = lz_promote::in_force::governing_release(&admitted, environment).unwrap_or(&pin.1).to_string();
    Ok(Some(PinPlan::Existing { sequence: pin.0, pinned: pin.1, governing }))
}

/// Refuses unless `signer` is a person of the security group signing with its registered key
/// (in the register in force in the chain of `ledger`): the one who pins an environment's
/// governance or brings its buckets back to the governing release's settings.
fn check_security_signer(ledger: &crate::ledger::Ledger, signer: &lz_evidence::Signer) -> Result<()> {
    check_security_signer_in(ledger.identities(), signer)
}

/// Whether the evidence store of `stores` holds no record, as S3 answers it: its bucket does
/// not exist (404), or it lists no key under `records/`. Any other answer (an error) is `Err`.
fn evidence_is_empty(stores: &crate::stores::Stores) -> Result<bool> {
    let s3 = stores.s3()?;
    let bucket = stores.evidence_bucket.clone();
    lz_platform::aws::runtime()?.block_on(async {
        match s3.head_bucket().bucket(&bucket).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(true),
            Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot tell whether s3://{bucket} exists")),
        }
        let page = s3.list_objects_v2().bucket(&bucket).prefix("records/").max_keys(1).send().await.map_err(aws_error).with_context(|| format!("cannot list s3://{bucket}/records/"))?;
        Ok(page.contents().is_empty())
    })
}

fn check_security_signer_in(register: &lz_evidence::Identities, signer: &lz_evidence::Signer) -> Result<()> {
    use crate::refusal::refuse_if;
    let who = signer.identity();
    let id = register.get(who);
    refuse_if!(
        !id.is_some_and(|i| i.kind == "person" && i.group == crate::session::SECURITY_GROUP),
        "{who} is not a person of the {} group: only the security group pins an environment's governance",
        crate::session::SECURITY_GROUP
    );
    refuse_if!(id.is_some_and(|i| i.keyid != signer.keyid()), "the signing key is not the registered key of identity {who}");
    Ok(())
}

/// Resolves `environment`'s governance before any AWS call that acts (issue 26): `signer` must
/// be a person of the security group; an environment already pinned is governed by its
/// governing release ([`PinPlan::Existing`]), whatever `release` names; a new pin's release must
/// carry the register in force. Reads the chain and the release store only, and returns the
/// governing release opened (verified and unpacked), so the caller acts with it without
/// reading it again.
pub fn resolve_pin(
    paths: &crate::Paths,
    environment: &str,
    release: &str,
    signer: &lz_evidence::Signer,
) -> Result<(PinPlan, crate::release::VerifiedRelease)> {
    use crate::refusal::refuse_if;
    let ledger = paths.ledger()?;
    check_security_signer(&ledger, signer)?;
    if let Some(plan) = standing(paths, &ledger, ledger.records()?, environment)? {
        let archive = paths.open_release(plan.release())?;
        return Ok((plan, archive));
    }
    let archive = paths.open_release(release)?;
    let register_sha256 = lz_evidence::dsse::sha256_hex(archive.file("governance/identities.toml")?);
    // The pin names the register its release carries; it must be the register in force in the
    // chain, which judges every signature (a release carrying another register pins nothing).
    let in_force = ledger.identities().fingerprint();
    refuse_if!(
        register_sha256 != in_force,
        "release {} carries register {} but the register in force in the evidence chain is {in_force}: pin a release whose governance/identities.toml is the register in force (`cargo xtask register status`)",
        crate::approval::short(&archive.digest),
        crate::approval::short(&register_sha256)
    );
    Ok((PinPlan::New { release: archive.digest.clone() }, archive))
}

/// What bootstrap applied, for its record.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// The buckets and role configured.
    pub configured: Vec<String>,
    /// sha256 of the JSON of the settings applied.
    pub settings_sha256: String,
}

impl Applied {
    /// What `report` configured with `settings` (serialised to JSON for their digest).
    pub fn of(report: &Report, settings: &impl Serialize) -> Result<Applied> {
        let json = serde_json::to_vec(settings).context("serialising the settings applied")?;
        Ok(Applied { configured: report.configured.clone(), settings_sha256: lz_evidence::dsse::sha256_hex(&json) })
    }
}

/// Records bootstrap's decision on `environment` by compare-and-swap: a new pin
/// ([`PinPlan::New`]: the environment's governance pin), or, for an environment already pinned,
/// a later governance-pin record naming the governing release it acted as (which changes no
/// pin: the first pin stands) and what it `applied`. Appended only if the governance standing at
/// the sequence the record takes is still `plan` (the same pin, the same governing release);
/// otherwise refused, naming what now governs, and nothing is recorded: a pin or deployment
/// appended while bootstrap acted never leaves one release's settings applied under another's
/// record. Returns the record.
#[allow(clippy::too_many_arguments)]
pub fn record(
    paths: &crate::Paths,
    environment: &str,
    plan: &PinPlan,
    archive: &crate::release::VerifiedRelease,
    applied: Option<&Applied>,
    signer: &lz_evidence::Signer,
    now: &crate::clock::Reading,
) -> Result<u64> {
    use lz_evidence::record::{Fields, Kind};
    if archive.digest != plan.release() {
        anyhow::bail!("release {} is not the release bootstrap resolved ({})", crate::approval::short(&archive.digest), crate::approval::short(plan.release()));
    }
    let ledger = paths.ledger()?;
    let governance: Vec<(String, Vec<u8>)> = archive
        .files
        .iter()
        .filter(|(p, _)| crate::release::is_governance(p))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    let governance_sha256 = lz_evidence::dsse::sha256_hex(&lz_evidence::release::tar(&governance)?);
    let register_sha256 = lz_evidence::dsse::sha256_hex(archive.file("governance/identities.toml")?);
    let short = crate::approval::short(&archive.digest);
    let (reason, standing_pin) = match plan {
        PinPlan::New { .. } => ("governance trust root at bootstrap".to_string(), None),
        PinPlan::Existing { sequence, .. } => (
            format!("bootstrap applied the settings of release {short}, which governs {environment} (the pin of record {sequence} stands)"),
            Some(*sequence),
        ),
    };
    let fields = Fields::new(&archive.digest)
        .environment(environment)
        .at(now.time)
        .reason(&reason)
        .details(lz_evidence::details::GovernancePinDetails {
            governance_sha256,
            register_sha256,
            clock: Some(now.source.clone()),
            applied: applied.map(|a| a.configured.clone()),
            settings_sha256: applied.map(|a| a.settings_sha256.clone()),
            standing_pin,
            ..Default::default()
        });
    let check = |records: Vec<crate::ledger::Record>| -> Result<()> {
        let now = standing(paths, &ledger, records, environment)?;
        let expected = match plan {
            PinPlan::New { .. } => None,
            existing => Some(existing),
        };
        if now.as_ref() != expected {
            let what = match &now {
                Some(PinPlan::Existing { sequence, governing, .. }) => {
                    format!("{environment} is now pinned by record {sequence} and governed by release {}", crate::approval::short(governing))
                }
                _ => format!("{environment} is no longer pinned"),
            };
            let acted = if applied.is_some() { format!(", and the settings of {short} it applied stay until then") } else { String::new() };
            return Err(crate::refusal::refuse!(
                "the governance of {environment} moved while bootstrap ran: it resolved release {short} but {what}; nothing is recorded (run bootstrap again: it acts as the release that governs {environment} now{acted})"
            ));
        }
        Ok(())
    };
    Ok(ledger.append_if(Kind::GovernancePin, fields, signer, &check)?.sequence)
}

/// Pins the governance of `environment` to `release` (digest or unique prefix) without acting
/// on anything: until a release is deployed there, its identities, approval policy, risk tiers,
/// change windows, exceptions and policies judge every promotion into it. Signed by a person of
/// the security group; the first pin of an environment stands, later ones are not recorded.
/// Returns the pin's record and whether this call recorded it.
pub fn pin(
    paths: &crate::Paths,
    environment: &str,
    release: &str,
    signer: &lz_evidence::Signer,
    now: &crate::clock::Reading,
) -> Result<(u64, bool)> {
    match resolve_pin(paths, environment, release, signer)? {
        (PinPlan::Existing { sequence, .. }, _) => Ok((sequence, false)),
        (plan @ PinPlan::New { .. }, archive) => Ok((record(paths, environment, &plan, &archive, None, signer, now)?, true)),
    }
}

/// What `bootstrap --env` did.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The governance resolved: the release acted as is [`PinPlan::release`].
    pub plan: PinPlan,
    pub report: Report,
    /// The record of what was applied (the new pin, or a later bootstrap's record).
    pub record: u64,
}

/// `bootstrap --env`: resolves the environment's governance ([`resolve_pin`]), creates (or
/// brings back to the declared settings) its buckets and deployer role as the governing
/// release declares them and acting as the role that release names, then records what it
/// applied ([`record`], refused if the governance moved meanwhile). `names` overrides the
/// bucket names (the state bucket defaults to the one the release's `backend.hcl` names);
/// `clock` is the environment's trusted clock unless given (tests).
pub fn environment(
    paths: &crate::Paths,
    endpoint: &str,
    environment: &str,
    release: &str,
    signer: &lz_evidence::Signer,
    names: &Names,
    clock: Option<&crate::clock::Clock>,
) -> Result<Bootstrapped> {
    let (plan, archive) = resolve_pin(paths, environment, release, signer)?;
    let t = crate::target::Target::from_tree(archive.root(), environment, endpoint)?;
    let declared = archive.plan(environment).with_context(|| format!("rendering the plan of {environment}"))?;
    let names = Names {
        state_bucket: names.state_bucket.clone().or_else(|| Some(t.state_bucket.clone())),
        evidence_bucket: names.evidence_bucket.clone(),
    };
    let spec = spec_from_plan(&declared, environment, &t.account_id, &t.region, &names)?;
    let now = clock.cloned().unwrap_or_else(|| t.clock()).now()?;
    // As the environment role the governing release names (issue 26), never the checkout's.
    let report = bootstrap(endpoint, &spec, &t.deployer_role)?;
    let applied = Applied::of(&report, &spec)?;
    let record = record(paths, environment, &plan, &archive, Some(&applied), signer, &now)?;
    Ok(Bootstrapped { plan, report, record })
}

/// What `bootstrap --stores` did.
#[derive(Debug)]
pub struct StoresBootstrapped {
    pub report: Report,
    /// The genesis register written (an empty store), or, for a store that holds its chain, the
    /// release whose settings were applied and the record saying so.
    pub started: StoresStarted,
}

#[derive(Debug)]
pub enum StoresStarted {
    Genesis(u64),
    Governed { release: String, record: u64 },
}

/// `bootstrap --stores`, always signed by a person of the security group. An empty (or
/// unreadable) evidence store is created with the checkout's settings and started with its
/// genesis register `register` (which `governance/stores.toml` pins: checked before any bucket
/// is created; nothing governs yet). A store that holds its chain is brought back to the
/// settings of the release governing the hosting environment (`stores.environment`) in that
/// chain, never the checkout's, and the record of what was applied is appended ([`record`]); with
/// no governing release there, it is refused before anything is changed.
pub fn stores(
    root: &std::path::Path,
    paths: &crate::Paths,
    stores: &crate::stores::Stores,
    register: &str,
    signer: Option<&lz_evidence::Signer>,
    clock: Option<&crate::clock::Clock>,
) -> Result<StoresBootstrapped> {
    let env = stores.environment.as_str();
    // A store is empty only when S3 says so (no bucket, or no record key): a chain that cannot
    // be read (a retention below the checkout's floor, a lock changed, S3 failing) is never
    // taken for an empty store, whose genesis would apply the checkout's settings.
    let started = match paths.ledger().and_then(|l| l.chain().map(|c| (l, c))) {
        Ok((ledger, c)) if !c.records.is_empty() => Some(ledger),
        Ok(_) => None,
        Err(_) if evidence_is_empty(stores)? => None,
        Err(e) => {
            return Err(e.context(format!(
                "the evidence store {} holds records but its chain cannot be read: bootstrap --stores changes nothing on it until it can",
                paths.evidence.describe()
            )))
        }
    };
    let Some(ledger) = started else {
        crate::register::check_genesis(&stores.genesis_register_sha256, register)?;
        let Some(signer) = signer else {
            anyhow::bail!("the evidence store {} is empty: its genesis register is signed by a person of the security group (pass --as ID --key FILE)", paths.evidence.describe());
        };
        // The signer is judged by the genesis register before any bucket is created or changed.
        let genesis = lz_evidence::Identities::parse(register, crate::register::REGISTER_FILE)?;
        check_security_signer_in(&genesis, signer)?;
        let declared = crate::release::render_env(root, env).with_context(|| format!("rendering the plan of {env} (it hosts the stores)"))?;
        let report = bootstrap_stores(stores, &declared)?;
        let t = crate::target::Target::from_tree(root, env, &stores.endpoint)?;
        let now = clock.cloned().unwrap_or_else(|| t.clock()).now()?;
        let seq = match crate::register::start(paths, &stores.genesis_register_sha256, register, Some(signer), now.time)? {
            crate::register::Started::Written(seq) => seq,
            crate::register::Started::Found => anyhow::bail!("the evidence store {} was started by another run while this one created it", paths.evidence.describe()),
        };
        return Ok(StoresBootstrapped { report, started: StoresStarted::Genesis(seq) });
    };
    let Some(signer) = signer else {
        anyhow::bail!(
            "the evidence store {} holds its chain: bootstrap --stores on it is signed by a person of the security group, who records the settings it applies (pass --as ID --key FILE)",
            paths.evidence.describe()
        );
    };
    check_security_signer(&ledger, signer)?;
    let Some(plan) = standing(paths, &ledger, ledger.records()?, env)? else {
        return Err(crate::refusal::refuse!(
            "the evidence store {} holds its chain and {env} (which hosts the stores) has no governing release: an existing store's settings come from the release governing {env}, never from a checkout (pin {env} first: `cargo xtask bootstrap --env {env} --pin DIGEST --as ID --key FILE`)",
            paths.evidence.describe()
        ));
    };
    let archive = paths.open_release(plan.release())?;
    // The hosting environment is the governing release's, too: a checkout that moves the stores
    // to another environment's release (and its settings) is refused.
    let governed = crate::stores::Stores::load(archive.root(), &stores.endpoint)?;
    if governed.environment != env {
        return Err(crate::refusal::refuse!(
            "governance/stores.toml of the checkout says the stores are hosted by {env}, but release {} (which governs {env}) says {}: an existing store's settings come from the governing release, never from a checkout",
            crate::approval::short(&archive.digest),
            governed.environment
        ));
    }
    // Where the settings go comes from the governing release too: a checkout naming other
    // buckets or accounts (a store move not yet admitted) is refused.
    let named = |s: &crate::stores::Stores| {
        [
            ("account", s.account_id.clone()),
            ("region", s.region.clone()),
            ("release bucket", s.release_bucket.clone()),
            ("evidence bucket", s.evidence_bucket.clone()),
            ("witness account", s.witness_account.clone()),
            ("witness bucket", s.witness_bucket.clone()),
        ]
    };
    let moved: Vec<String> = named(stores)
        .into_iter()
        .zip(named(&governed))
        .filter(|(a, b)| a.1 != b.1)
        .map(|((what, checkout), (_, released))| format!("{what} {checkout} (the release: {released})"))
        .collect();
    if !moved.is_empty() {
        return Err(crate::refusal::refuse!(
            "the checkout names other stores than release {} (which governs {env}): {}; an existing store's names and settings come from the governing release, never from a checkout",
            crate::approval::short(&archive.digest),
            moved.join(", ")
        ));
    }
    let declared = archive.plan(env).with_context(|| format!("rendering the plan of {env} (it hosts the stores)"))?;
    let specs = stores.specs(&declared)?;
    let t = crate::target::Target::from_tree(archive.root(), env, &stores.endpoint)?;
    let now = clock.cloned().unwrap_or_else(|| t.clock()).now()?;
    let report = bootstrap_stores(stores, &declared)?;
    let applied = Applied::of(&report, &specs)?;
    let record = record(paths, env, &plan, &archive, Some(&applied), signer, &now)?;
    Ok(StoresBootstrapped { report, started: StoresStarted::Governed { release: archive.digest.clone(), record } })
}
