//! An environment as the operations see it ([`Target`]: account, region, state bucket,
//! deployer role), the deployer role assumed there, and the canary's state as the backend holds
//! it ([`StateAt`]). A leaf of the operations: the promotion, drift, facts, bootstrap and
//! rotation all name it, and it names none of them.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::deploy::{self, Backend, RunAs};

/// An environment as a promotion sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub environment: String,
    pub account_id: String,
    pub region: String,
    pub endpoint: String,
    pub state_bucket: String,
    pub deployer_role: String,
    /// The landing zone's own state key (the terraform engine's), from the environment's
    /// `backend.hcl` (default `<env>/landing-zone.tfstate`).
    pub landing_zone_key: String,
}

impl Target {
    /// An environment's target from `env.toml`, `backend.hcl` and `governance/aws.toml` (the
    /// environment role) under `tree` (a release's unpacked tree).
    pub fn from_tree(tree: &std::path::Path, env: &str, endpoint: &str) -> Result<Target> {
        let e = lz_repo::Environment::load(tree, env)?;
        Ok(Target {
            environment: env.to_string(),
            account_id: e.file.account_id,
            region: e.file.region,
            endpoint: endpoint.to_string(),
            landing_zone_key: e.backend.settings.get("key").map(|(k, _)| k.clone()).unwrap_or_else(|| landing_zone_key(env)),
            state_bucket: e.backend.bucket,
            // The release's own governance/aws.toml, never the checkout's (issue 26 review, item A).
            deployer_role: lz_platform::reach::deployer_role_of(tree, env)?,
        })
    }

    /// The trusted clock of this environment: its STS endpoint's server time.
    pub fn clock(&self) -> crate::clock::Clock {
        crate::clock::Clock::server(&self.endpoint, &self.account_id, &self.region)
    }

    pub fn backend(&self) -> Backend {
        Backend::canary(&self.state_bucket, &self.environment, &self.region)
    }

    /// Where the state of a deployment applied by `engine` lives: the landing zone's key for
    /// the terraform engine, the canary's otherwise (records older than the field name none).
    pub fn backend_of(&self, engine: Option<lz_evidence::details::Engine>) -> Backend {
        match engine {
            Some(lz_evidence::details::Engine::Terraform) => {
                Backend { bucket: self.state_bucket.clone(), key: self.landing_zone_key.clone(), region: self.region.clone() }
            }
            _ => self.backend(),
        }
    }
}

/// The landing zone's state key of `env` when its `backend.hcl` names none.
pub fn landing_zone_key(env: &str) -> String {
    format!("{env}/landing-zone.tfstate")
}

/// Assumes the environment's deployer role and checks who Terraform will run as: the one path
/// of every client ([`lz_platform::reach::account`]: the endpoint profile, the base
/// credentials, `AssumeRole` with the session name `session`, the caller checked).
pub fn assume_deployer(target: &Target, session: &str) -> Result<RunAs> {
    let session = lz_platform::aws_setup::session_name(session.trim_start_matches("lz-"), &lz_platform::reach::run());
    let aws = lz_platform::reach::account(&target.endpoint, &target.account_id, &target.region, &target.deployer_role, &session).with_context(|| {
        format!("cannot assume the deployer role of {}; run `cargo xtask bootstrap --env {} --pin DIGEST --as ID --key FILE` first", target.environment, target.environment)
    })?;
    let c = lz_platform::reach::credentials(&aws)?;
    Ok(RunAs { access_key_id: c.access_key_id().to_string(), secret_access_key: c.secret_access_key().to_string(), session_token: c.session_token().map(str::to_string) })
}

/// The canary's state as the backend holds it: its serial, the S3 version of the object and the
/// release `terraform_data.release` records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateAt {
    pub serial: u64,
    pub version: Option<String>,
    pub release: Option<String>,
    /// The state's lineage (fixed when Terraform first wrote it).
    pub lineage: Option<String>,
}

impl StateAt {
    pub(crate) fn json(&self) -> Value {
        serde_json::json!({"serial": self.serial, "version": self.version, "lineage": self.lineage})
    }
}

/// The state object of `backend` (`None` when there is none yet).
pub fn read_state(s3: &aws_sdk_s3::Client, backend: &deploy::Backend) -> Result<Option<StateAt>> {
    let rt = lz_platform::aws::runtime()?;
    let what = || format!("s3://{}/{}", backend.bucket, backend.key);
    let got = rt.block_on(async {
        match s3.get_object().bucket(&backend.bucket).key(&backend.key).send().await {
            Ok(o) => {
                let version = o.version_id().map(str::to_string);
                let bytes = o.body.collect().await.with_context(what)?.into_bytes();
                anyhow::Ok(Some((version, bytes)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(crate::aws_error(e)).with_context(|| format!("cannot read {}", what())),
        }
    })?;
    let Some((version, bytes)) = got else { return Ok(None) };
    let state: Value = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: not a Terraform state: {e}", what(), e.line(), e.column()))?;
    let serial = state
        .get("serial")
        .and_then(Value::as_u64)
        .with_context(|| format!("{}: the state has no serial", what()))?;
    let lineage = state.get("lineage").and_then(Value::as_str).map(str::to_string);
    Ok(Some(StateAt { serial, version, release: state_release(&state), lineage }))
}

/// The release digest `terraform_data.release` holds in a state document.
pub(crate) fn state_release(state: &Value) -> Option<String> {
    let r = state.get("resources")?.as_array()?.iter().find(|r| {
        r.get("mode").and_then(Value::as_str) == Some("managed")
            && r.get("type").and_then(Value::as_str) == Some("terraform_data")
            && r.get("name").and_then(Value::as_str) == Some("release")
    })?;
    let attrs = r.get("instances")?.as_array()?.first()?.get("attributes")?;
    // terraform_data keeps a dynamic value as {"value": ..., "type": ...}.
    ["output", "input"].iter().find_map(|k| {
        let v = attrs.get(*k)?;
        let v = v.get("value").unwrap_or(v);
        v.get("release").and_then(Value::as_str).map(str::to_string)
    })
}
