//! Who this process is on AWS, set once at start (`main`): the landing zone's
//! `governance/aws.toml` configures every client (`lz_platform::reach::configure`: endpoint
//! profiles with their `ca_file`, the environment role), role sessions name the CI run, and a
//! GitHub Actions job with `id-token: write` acts as the pipeline role of `pipeline_role_arn`
//! through its OIDC token (fetched over HTTPS at each refresh, `AssumeRoleWithWebIdentity`):
//! no long-lived AWS key and no private key in the job's environment.

use std::path::Path;

use anyhow::{Context, Result};
use lz_platform::aws_setup::{session_name, Base, Profiles, PROFILES_FILE};
use lz_platform::oidc::TokenRequest;

/// GitHub's variables of a job allowed to ask for an OIDC token.
pub const TOKEN_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

pub fn install(root: &Path) -> Result<()> {
    // Role sessions name the CI run they act for (a label in CloudTrail, never a decision).
    if let Ok(run) = std::env::var("GITHUB_RUN_ID") {
        let attempt = std::env::var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|_| "1".into());
        lz_platform::reach::set_run(&format!("gh-{run}-{attempt}"));
    }
    lz_platform::reach::configure(root)?;
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let (Some(url), Some(bearer)) = (var(TOKEN_URL_ENV), var(TOKEN_ENV)) {
        let profiles = Profiles::load(root)?;
        let role_arn = profiles
            .pipeline_role_arn
            .with_context(|| format!("this job may ask for an OIDC token ({TOKEN_URL_ENV} is set) but {PROFILES_FILE} names no pipeline_role_arn to exchange it for"))?;
        let session = session_name("ci", &lz_platform::reach::run());
        lz_platform::reach::set_base(Base::GitHubActions { role_arn, request: TokenRequest { url, bearer, extra_ca: None }, session });
    }
    Ok(())
}
