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

/// An environment's governance pin, resolved before bootstrap creates anything.
#[derive(Debug, PartialEq, Eq)]
pub enum PinPlan {
    /// The chain already pins the environment (record `sequence`) to `release`: that release
    /// governs it, whatever the command line names; nothing is appended.
    Existing { sequence: u64, release: String },
    /// The environment is not pinned: `release` will be (the signer may pin it, and it carries
    /// the register in force).
    New { release: String },
}

impl PinPlan {
    /// The release that governs the environment once bootstrap is done: the one whose role
    /// (`governance/aws.toml`) and plan it acts with.
    pub fn release(&self) -> &str {
        match self {
            PinPlan::Existing { release, .. } | PinPlan::New { release } => release,
        }
    }
}

/// Resolves `environment`'s governance pin before any AWS call that acts (issue 26): `signer`
/// must be a person of the security group, and an existing pin wins over `release`; a new pin's
/// release must carry the register in force. Reads the chain and the release store only, and
/// returns the governing release opened (verified and unpacked), so the caller acts with it
/// without reading it again.
pub fn resolve_pin(
    paths: &crate::Paths,
    environment: &str,
    release: &str,
    signer: &lz_evidence::Signer,
) -> Result<(PinPlan, crate::release::VerifiedRelease)> {
    match resolve(paths, environment, release, signer)? {
        (plan @ PinPlan::Existing { .. }, _) => {
            let archive = paths.open_release(plan.release())?;
            Ok((plan, archive))
        }
        (plan, Some(archive)) => Ok((plan, archive)),
        (PinPlan::New { release }, None) => anyhow::bail!("release {release} was resolved without being opened"),
    }
}

/// [`resolve_pin`]'s checks; a new pin's release comes back opened (it was read to check its
/// register), an existing pin's is not opened.
fn resolve(
    paths: &crate::Paths,
    environment: &str,
    release: &str,
    signer: &lz_evidence::Signer,
) -> Result<(PinPlan, Option<crate::release::VerifiedRelease>)> {
    use crate::refusal::refuse_if;
    let ledger = paths.ledger()?;
    let records = ledger.records()?;
    let who = signer.identity();
    let id = ledger.identities().get(who);
    refuse_if!(
        !id.is_some_and(|i| i.kind == "person" && i.group == crate::session::SECURITY_GROUP),
        "{who} is not a person of the {} group: only the security group pins an environment's governance",
        crate::session::SECURITY_GROUP
    );
    refuse_if!(id.is_some_and(|i| i.keyid != signer.keyid()), "the signing key is not the registered key of identity {who}");
    if let Some(p) = crate::session::governance_pin(&records, environment) {
        return Ok((PinPlan::Existing { sequence: p.sequence, release: p.release.clone() }, None));
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
    Ok((PinPlan::New { release: archive.digest.clone() }, Some(archive)))
}

/// Pins the governance of `environment` to `release` (digest or unique prefix): until a
/// release is deployed there, its identities, approval policy, risk tiers, change windows,
/// exceptions and policies judge every promotion into it. Signed by a person of the security
/// group; the first pin of an environment stands, later ones are not recorded. Returns the
/// pin's record and whether this call recorded it.
pub fn pin(
    paths: &crate::Paths,
    environment: &str,
    release: &str,
    signer: &lz_evidence::Signer,
    now: &crate::clock::Reading,
) -> Result<(u64, bool)> {
    use lz_evidence::record::{Fields, Kind};
    // Resolved again at append time: the first pin of an environment stands, and one may have
    // been recorded since the caller resolved it.
    let archive = match resolve(paths, environment, release, signer)? {
        (PinPlan::Existing { sequence, .. }, _) => return Ok((sequence, false)),
        (PinPlan::New { .. }, Some(archive)) => archive,
        (PinPlan::New { release }, None) => anyhow::bail!("release {release} was resolved without being opened"),
    };
    let ledger = paths.ledger()?;
    let governance: Vec<(String, Vec<u8>)> = archive
        .files
        .iter()
        .filter(|(p, _)| crate::release::is_governance(p))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    let governance_sha256 = lz_evidence::dsse::sha256_hex(&lz_evidence::release::tar(&governance)?);
    let register_sha256 = lz_evidence::dsse::sha256_hex(archive.file("governance/identities.toml")?);
    let fields = Fields::new(&archive.digest)
        .environment(environment)
        .at(now.time)
        .reason("governance trust root at bootstrap")
        .details(lz_evidence::details::GovernancePinDetails {
            governance_sha256,
            register_sha256,
            clock: Some(now.source.clone()),
            ..Default::default()
        });
    Ok((ledger.append(Kind::GovernancePin, fields, signer)?.sequence, true))
}
