//! The live controls of an environment's buckets and of the landing zone's stores against the
//! declared ones: versioning, encryption, public access block, tags, bucket policy and Object
//! Lock, read from S3 as the environment's deployer role. Each difference is a [`Finding`].
//! The drift check ([`crate::drift`]), the promotion gate's check of a clean drift record
//! ([`crate::facts::gate`]) and remediation read them here.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws_error;
use crate::bootstrap::{BucketSpec, EnvSpec};


#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub resource: String,
    pub attribute: String,
    pub declared: String,
    pub actual: String,
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
