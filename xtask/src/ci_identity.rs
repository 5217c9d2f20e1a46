//! Who this process is on AWS, set once at start (`main`): the landing zone's
//! `governance/aws.toml` configures every client (`lz_platform::reach::configure`: endpoint
//! profiles with their `ca_file`, the environment role), role sessions name the CI run, and a
//! GitHub Actions job with `id-token: write` acts as its environment's pipeline role
//! (`pipeline_role_arn` with `{env}` the job's environment, `LZ_ENVIRONMENT`) through its OIDC token (fetched over HTTPS at each refresh, `AssumeRoleWithWebIdentity`):
//! no long-lived AWS key and no private key in the job's environment.

use std::path::Path;

use anyhow::{Context, Result};
use lz_platform::aws_setup::{session_name, Base, Profiles, PROFILES_FILE};
use lz_platform::oidc::TokenRequest;

/// GitHub's variables of a job allowed to ask for an OIDC token.
pub const TOKEN_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// The GitHub environment of the job (each step maps it: GitHub sets no such variable itself).
/// It picks the pipeline role to ask for; that role's trust policy, which names only that
/// environment's OIDC subject, is what refuses a job of another environment
/// (`lz_platform::pipeline_roles`).
pub const ENVIRONMENT_ENV: &str = "LZ_ENVIRONMENT";

/// The pipeline role a job in `environment` exchanges its OIDC token for.
pub fn pipeline_role(profiles: &Profiles, environment: Option<&str>) -> Result<String> {
    anyhow::ensure!(
        profiles.pipeline_role_arn.is_some(),
        "this job may ask for an OIDC token ({TOKEN_URL_ENV} is set) but {PROFILES_FILE} names no pipeline_role_arn to exchange it for"
    );
    let env = environment.map(str::trim).with_context(|| {
        format!(
            "this job may ask for an OIDC token ({TOKEN_URL_ENV} is set) but names no environment ({ENVIRONMENT_ENV}: the job's \
             GitHub environment) whose pipeline role to exchange it for"
        )
    })?;
    anyhow::ensure!(lz_input::ENVIRONMENTS.contains(&env), "{ENVIRONMENT_ENV} {env:?} is not an environment ({})", lz_input::ENVIRONMENTS.join(", "));
    Ok(profiles.pipeline_role_arn(env).expect("checked above"))
}

pub fn install(root: &Path) -> Result<()> {
    // Role sessions name the CI run they act for (a label in CloudTrail, never a decision).
    if let Ok(run) = std::env::var("GITHUB_RUN_ID") {
        let attempt = std::env::var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|_| "1".into());
        lz_platform::reach::set_run(&format!("gh-{run}-{attempt}"));
    }
    lz_platform::reach::configure(root)?;
    let var = crate::signing::set_var;
    if let (Some(url), Some(bearer)) = (var(TOKEN_URL_ENV), var(TOKEN_ENV)) {
        let profiles = Profiles::load(root)?;
        let role_arn = pipeline_role(&profiles, var(ENVIRONMENT_ENV).as_deref())?;
        let session = session_name("ci", &lz_platform::reach::run());
        lz_platform::reach::set_base(Base::GitHubActions { role_arn, request: TokenRequest { url, bearer, extra_ca: None }, session });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job's token is exchanged for its own environment's pipeline role, never a shared one.
    #[test]
    fn a_job_asks_for_its_environments_pipeline_role() {
        let p = Profiles::parse("pipeline_role_arn = \"arn:aws:iam::999999999999:role/lz-pipeline-{env}\"\n", "aws.toml", Path::new("/r")).unwrap();
        assert_eq!(pipeline_role(&p, Some("dev")).unwrap(), "arn:aws:iam::999999999999:role/lz-pipeline-dev");
        assert_eq!(pipeline_role(&p, Some("prod")).unwrap(), "arn:aws:iam::999999999999:role/lz-pipeline-prod");
        assert!(pipeline_role(&p, None).unwrap_err().to_string().contains("LZ_ENVIRONMENT"));
        assert!(pipeline_role(&p, Some("staging")).is_err());
        let none = Profiles::parse("[profile.aws]\n", "aws.toml", Path::new("/r")).unwrap();
        assert!(pipeline_role(&none, Some("dev")).unwrap_err().to_string().contains("names no pipeline_role_arn"));
    }
}
