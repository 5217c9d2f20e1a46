//! What the rendered plan declares of the landing zone's buckets: the control-bearing settings
//! bootstrap creates, drift compares and remediation restores (`lz_operate::bootstrap`), and
//! from which change control reads the evidence stores' settings and retention floor
//! ([`crate::stores`]). Read from the plan, never restated by hand.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

/// The state and evidence buckets: each an instance of the shared `s3-bucket` module inside
/// the `state-backend` and `log-archive` modules (its resources are `this`; Object Lock and
/// access logging are `this[0]`, present when enabled).
pub const STATE_MODULE: &str = "module.state_backend.module.bucket";
pub const EVIDENCE_MODULE: &str = "module.log_archive.module.bucket";

/// The control-bearing settings of a bucket, as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BucketSpec {
    pub name: String,
    pub versioning: String,
    pub sse_algorithm: String,
    pub kms_key: Option<String>,
    pub bucket_key: bool,
    pub public_access_block: [bool; 4],
    /// Object Lock default retention (mode, days), when the bucket has Object Lock.
    pub object_lock: Option<(String, i32)>,
    pub ownership: Option<String>,
    pub policy: Option<String>,
    /// The bucket's tags as declared (the module's mandatory tags).
    pub tags: std::collections::BTreeMap<String, String>,
}

/// `change.after` of a managed resource in the plan, unknowns marked by `after_unknown`.
pub fn after<'a>(plan: &'a Value, address: &str) -> Result<(&'a Value, Option<&'a Value>)> {
    let rcs = plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .context("the plan has no resource_changes")?;
    let rc = rcs
        .iter()
        .find(|rc| rc.get("address").and_then(Value::as_str) == Some(address))
        .with_context(|| format!("the plan has no resource {address}"))?;
    let change = rc
        .get("change")
        .with_context(|| format!("{address} has no change"))?;
    Ok((
        change.get("after").unwrap_or(&Value::Null),
        change.get("after_unknown"),
    ))
}

fn known<'a>(
    address: &str,
    v: (&'a Value, Option<&'a Value>),
    path: &[&str],
) -> Result<Option<&'a Value>> {
    let (mut cur, mut unk) = v;
    let shown = path.join(".");
    for p in path {
        let next_unk = unk.and_then(|u| match p.parse::<usize>() {
            Ok(i) => u.get(i),
            Err(_) => u.get(*p),
        });
        if next_unk == Some(&Value::Bool(true)) {
            return Ok(None);
        }
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(*p),
        }
        .with_context(|| format!("{address}: the plan declares no {shown}"))?;
        unk = next_unk;
    }
    Ok(Some(cur))
}

/// A known string at `path` of a resource's `after` values.
pub fn s<'a>(address: &str, v: (&'a Value, Option<&'a Value>), path: &[&str]) -> Result<String> {
    known(address, v, path)?
        .and_then(Value::as_str)
        .map(str::to_string)
        .with_context(|| {
            format!(
                "{address}: {} is not a known string in the plan",
                path.join(".")
            )
        })
}

fn b(address: &str, v: (&Value, Option<&Value>), path: &[&str]) -> Result<bool> {
    known(address, v, path)?
        .and_then(Value::as_bool)
        .with_context(|| {
            format!(
                "{address}: {} is not a known bool in the plan",
                path.join(".")
            )
        })
}

/// The control-bearing settings `module` declares for its bucket in `plan` (`rename`: the
/// bucket name to use instead of the plan's).
pub fn bucket_spec(plan: &Value, module: &str, rename: Option<&str>) -> Result<BucketSpec> {
    let a = |r: &str| format!("{module}.{r}");
    let bucket_addr = a("aws_s3_bucket.this");
    let bucket = after(plan, &bucket_addr)?;
    let declared = s(&bucket_addr, bucket, &["bucket"])?;
    let name = rename.unwrap_or(&declared).to_string();
    let lock_enabled = bucket
        .0
        .get("object_lock_enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let v_addr = a("aws_s3_bucket_versioning.this");
    let versioning = s(
        &v_addr,
        after(plan, &v_addr)?,
        &["versioning_configuration", "0", "status"],
    )?;

    let e_addr = a("aws_s3_bucket_server_side_encryption_configuration.this");
    let e = after(plan, &e_addr)?;
    let sse_algorithm = s(
        &e_addr,
        e,
        &[
            "rule",
            "0",
            "apply_server_side_encryption_by_default",
            "0",
            "sse_algorithm",
        ],
    )?;
    let kms_key = known(
        &e_addr,
        e,
        &[
            "rule",
            "0",
            "apply_server_side_encryption_by_default",
            "0",
            "kms_master_key_id",
        ],
    )
    .ok()
    .flatten()
    .and_then(Value::as_str)
    .map(str::to_string);
    let bucket_key = known(&e_addr, e, &["rule", "0", "bucket_key_enabled"])
        .ok()
        .flatten()
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let p_addr = a("aws_s3_bucket_public_access_block.this");
    let p = after(plan, &p_addr)?;
    let public_access_block = [
        b(&p_addr, p, &["block_public_acls"])?,
        b(&p_addr, p, &["block_public_policy"])?,
        b(&p_addr, p, &["ignore_public_acls"])?,
        b(&p_addr, p, &["restrict_public_buckets"])?,
    ];

    let object_lock = if lock_enabled {
        let l_addr = a("aws_s3_bucket_object_lock_configuration.this[0]");
        let l = after(plan, &l_addr)?;
        let mode = s(&l_addr, l, &["rule", "0", "default_retention", "0", "mode"])?;
        let days = known(&l_addr, l, &["rule", "0", "default_retention", "0", "days"])?
            .and_then(Value::as_i64)
            .with_context(|| {
                format!("{l_addr}: default retention days are not known in the plan")
            })?;
        Some((
            mode,
            i32::try_from(days).context("retention days out of range")?,
        ))
    } else {
        None
    };
    let ownership = after(plan, &a("aws_s3_bucket_ownership_controls.this"))
        .ok()
        .and_then(|o| {
            known("", o, &["rule", "0", "object_ownership"])
                .ok()
                .flatten()
        })
        .and_then(Value::as_str)
        .map(str::to_string);
    let policy = match after(plan, &a("aws_s3_bucket_policy.this")) {
        Ok(pol) => Some(
            s(&a("aws_s3_bucket_policy.this"), pol, &["policy"])?
                .replace(&format!(":::{declared}"), &format!(":::{name}")),
        ),
        Err(_) => None,
    };
    let tags = bucket
        .0
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(BucketSpec {
        tags,
        name,
        versioning,
        sse_algorithm,
        kms_key,
        bucket_key,
        public_access_block,
        object_lock,
        ownership,
        policy,
    })
}
