//! The IAM documents of the pipeline's roles, one pipeline role per environment: what an
//! organisation creates (README, "Pointing the harness at a real AWS organisation") and what
//! `rehearsal setup --kms` creates in LocalStack. Each environment's pipeline role
//! (`pipeline_role_arn` of `governance/aws.toml`, `{env}` replaced) trusts only the GitHub OIDC
//! subject of that environment's jobs, `repo:<org>/<repo>:environment:<env>`, and may assume only
//! that environment's role; each environment's role trusts only its own pipeline role. A dev job
//! (no required reviewers) therefore cannot reach prod's role: AWS refuses the exchange of a
//! token whose subject names another environment. The role a job asks for ([`crate::aws_setup::
//! Profiles::pipeline_role_arn`] of the environment the job names) is no control by itself:
//! these trust policies are. LocalStack does not enforce them.

use serde_json::{json, Value};

/// GitHub Actions' OIDC issuer host (the provider's URL without `https://`).
pub const GITHUB_ISSUER: &str = "token.actions.githubusercontent.com";
/// The audience the harness asks GitHub's tokens for.
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// The OIDC subject of a job of `repo` (`org/name`) running in GitHub environment `env`.
pub fn subject(repo: &str, env: &str) -> String {
    format!("repo:{repo}:environment:{env}")
}

/// The trust policy of `env`'s pipeline role: `AssumeRoleWithWebIdentity` by the OIDC provider
/// `provider_arn` (of `issuer_host`), for the audience [`AUDIENCE`] and exactly the subject of
/// `env`'s jobs (StringEquals: no wildcard).
pub fn pipeline_trust(provider_arn: &str, issuer_host: &str, repo: &str, env: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": provider_arn},
        "Condition": {"StringEquals": {
            format!("{issuer_host}:aud"): AUDIENCE,
            format!("{issuer_host}:sub"): subject(repo, env),
        }}
    }]})
}

/// The permissions of `env`'s pipeline role: assume `environment_role_arn` (that environment's
/// role) and `store_role_arn` (the stores' role in their hosting account,
/// [`crate::reach::STORE_ROLE`]) and nothing else, and sign with `kms_keys` (the pipeline
/// identities' keys).
pub fn pipeline_permissions(environment_role_arn: &str, store_role_arn: &str, kms_keys: &[String]) -> Value {
    let roles = [environment_role_arn, store_role_arn];
    let mut statements = vec![json!({"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": roles})];
    if !kms_keys.is_empty() {
        statements.push(json!({"Effect": "Allow", "Action": ["kms:Sign", "kms:GetPublicKey"], "Resource": kms_keys}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The trust policy of an environment's role: only that environment's pipeline role.
pub fn environment_trust(pipeline_role_arn: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Principal": {"AWS": pipeline_role_arn}
    }]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_environments_pipeline_role_trusts_only_that_environments_jobs() {
        let p = crate::aws_setup::Profiles::parse(
            "pipeline_role_arn = \"arn:aws:iam::999999999999:role/lz-pipeline-{env}\"\n",
            "aws.toml",
            std::path::Path::new("/repo"),
        )
        .unwrap();
        let provider = format!("arn:aws:iam::999999999999:oidc-provider/{GITHUB_ISSUER}");
        let mut roles = std::collections::BTreeSet::new();
        for env in lz_input::ENVIRONMENTS {
            let role = p.pipeline_role_arn(env).unwrap();
            assert!(roles.insert(role.clone()), "{env} shares a pipeline role");
            let trust = pipeline_trust(&provider, GITHUB_ISSUER, "example/landing-zone", env).to_string();
            assert!(trust.contains(&format!("\"repo:example/landing-zone:environment:{env}\"")), "{trust}");
            for other in lz_input::ENVIRONMENTS.iter().filter(|o| **o != env) {
                assert!(!trust.contains(&format!("environment:{other}\"")), "{env}'s trust names {other}: {trust}");
            }
            assert!(!trust.contains('*') && !trust.contains("StringLike"), "no wildcard subject: {trust}");
            let env_role = p.environment_role_arn(env, "111111111111");
            let store = format!("arn:aws:iam::555555555555:role/{}", crate::reach::STORE_ROLE);
            let perms = pipeline_permissions(&env_role, &store, &[]).to_string();
            assert_eq!(perms.matches("arn:aws:iam::").count(), 2, "{perms}");
            assert!(perms.contains(&store), "{perms}");
            assert!(perms.contains(&env_role), "{perms}");
            assert!(environment_trust(&role).to_string().contains(&role));
        }
        let prod = p.environment_role_arn("prod", "111111111111");
        let store = format!("arn:aws:iam::111111111111:role/{}", crate::reach::STORE_ROLE);
        assert!(!pipeline_permissions(&p.environment_role_arn("dev", "111111111111"), &store, &[]).to_string().contains(&prod));
    }
}
