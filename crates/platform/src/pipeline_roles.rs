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

/// The signing keys `env`'s pipeline role may use: of `keys` (key ARN, the environments its
/// identity is bound to in the register, `environments` of `governance/identities.toml`), those
/// bound to `env`. A key bound to no environment is given to no pipeline role: a pipeline
/// identity signs for the environments it is bound to, through those environments' roles only.
pub fn signing_keys_of(env: &str, keys: &[(String, Vec<String>)]) -> Vec<String> {
    keys.iter().filter(|(_, envs)| envs.iter().any(|e| e == env)).map(|(arn, _)| arn.clone()).collect()
}

/// The role that administers the pipeline identities' signing keys, in the pipeline roles'
/// account: the only principal a signing key's policy lets change it ([`signing_key_policy`]).
pub const KEY_ADMIN_ROLE: &str = "lz-signing-key-admin";

/// The actions on a signing key that would undo its policy: rewrite it, hand out a grant, or
/// destroy or switch off the key. Denied to every principal but the key-admin role.
pub const KEY_POLICY_CHANGES: [&str; 4] = ["kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion", "kms:DisableKey"];

/// The key policy of a pipeline identity's signing key in `account` (the pipeline roles'
/// account): the key-admin role ([`KEY_ADMIN_ROLE`], not the account's root, so not every IAM
/// administrator of the account) administers the key but signs with it only as one of
/// `signers` (the pipeline roles of the environments its identity is bound to); explicit denies
/// refuse `kms:Sign` to every other principal and [`KEY_POLICY_CHANGES`] to every principal but
/// the key-admin role, whatever IAM policy grants them (an IAM grant alone does not open a key
/// whose policy denies). Who may assume the key-admin role is the account's IAM: a principal
/// that can rewrite that role's trust policy can still become it (THREATS.md). On real AWS,
/// creating a key with this policy as another principal needs `BypassPolicyLockoutSafetyCheck`
/// (the rehearsal creates its keys on LocalStack, which enforces no key policy).
pub fn signing_key_policy(account: &str, signers: &[String]) -> Value {
    let admin = format!("arn:aws:iam::{account}:role/{KEY_ADMIN_ROLE}");
    json!({"Version": "2012-10-17", "Statement": [
        {
            "Sid": "KeyAdministrationWithoutSigning",
            "Effect": "Allow",
            "Principal": {"AWS": admin},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:PutKeyPolicy", "kms:TagResource", "kms:UntagResource",
                       "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
            "Resource": "*"
        },
        {
            "Sid": "SignAsTheBoundEnvironmentsPipelineRoles",
            "Effect": "Allow",
            "Principal": {"AWS": signers},
            "Action": ["kms:Sign", "kms:GetPublicKey"],
            "Resource": "*"
        },
        {
            "Sid": "NoOtherSigner",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "kms:Sign",
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": signers}}
        },
        {
            "Sid": "NoOtherKeyAdministrator",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": KEY_POLICY_CHANGES,
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": admin}}
        }
    ]})
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

    fn strings(v: &Value) -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a.iter().flat_map(strings).collect(),
            _ => Vec::new(),
        }
    }

    /// Per-environment signing identities (issue 26): each environment's pipeline role is given
    /// only the keys of identities bound to it, and each such key's policy lets only the bound
    /// environments' pipeline roles sign and denies everyone else, so a dev job cannot sign as
    /// prod's deployer even where an IAM policy would let it. LocalStack enforces neither
    /// document: these checks on the documents are what is tested here.
    #[test]
    fn a_pipeline_role_signs_only_with_its_own_environments_keys() {
        let p = crate::aws_setup::Profiles::parse(
            "pipeline_role_arn = \"arn:aws:iam::999999999999:role/lz-pipeline-{env}\"\n",
            "aws.toml",
            std::path::Path::new("/repo"),
        )
        .unwrap();
        let key = |env: &str| format!("arn:aws:kms:eu-west-2:999999999999:key/deployer-bot-{env}");
        let shared = "arn:aws:kms:eu-west-2:999999999999:key/change-policy".to_string();
        let unbound = "arn:aws:kms:eu-west-2:999999999999:key/unbound".to_string();
        let mut keys: Vec<(String, Vec<String>)> = lz_input::ENVIRONMENTS.iter().map(|e| (key(e), vec![e.to_string()])).collect();
        keys.push((shared.clone(), lz_input::ENVIRONMENTS.iter().map(|e| e.to_string()).collect()));
        keys.push((unbound.clone(), Vec::new()));
        let store = format!("arn:aws:iam::555555555555:role/{}", crate::reach::STORE_ROLE);
        for env in lz_input::ENVIRONMENTS {
            let role = p.pipeline_role_arn(env).unwrap();
            let granted = signing_keys_of(env, &keys);
            assert_eq!(granted, vec![key(env), shared.clone()], "{env}");
            let perms = pipeline_permissions(&p.environment_role_arn(env, "111111111111"), &store, &granted);
            let sign = perms["Statement"].as_array().unwrap().iter().find(|s| strings(&s["Action"]).contains(&"kms:Sign".to_string())).unwrap();
            assert_eq!(strings(&sign["Resource"]), vec![key(env), shared.clone()], "{env}: {perms}");
            for other in lz_input::ENVIRONMENTS.iter().filter(|o| **o != env) {
                assert!(!perms.to_string().contains(&key(other)), "{env}'s role may use {other}'s key: {perms}");
            }
            assert!(!perms.to_string().contains(&unbound), "a key bound to no environment is given to no role");

            // The key policy of env's deployer key: only env's pipeline role signs; every other
            // principal (another environment's role included) is denied kms:Sign explicitly.
            let policy = signing_key_policy("999999999999", &[role.clone()]);
            let statements = policy["Statement"].as_array().unwrap();
            let allows_sign: Vec<&Value> = statements
                .iter()
                .filter(|s| s["Effect"] == "Allow" && strings(&s["Action"]).iter().any(|a| a == "kms:Sign" || a == "kms:*"))
                .collect();
            assert_eq!(allows_sign.len(), 1, "{policy}");
            assert_eq!(strings(&allows_sign[0]["Principal"]["AWS"]), vec![role.clone()], "{policy}");
            let admin = statements.iter().find(|s| s["Sid"] == "KeyAdministrationWithoutSigning").unwrap();
            assert!(strings(&admin["Action"]).iter().all(|a| a != "kms:*" && a != "kms:Sign" && !a.starts_with("kms:Sign")), "{admin}");
            // Administered by the named key-admin role, never the account's root (every IAM
            // administrator); rewriting the policy, granting, disabling or deleting the key is
            // denied to everyone else (issue 26, review 4).
            let key_admin = format!("arn:aws:iam::999999999999:role/{KEY_ADMIN_ROLE}");
            assert_eq!(strings(&admin["Principal"]["AWS"]), vec![key_admin.clone()], "{admin}");
            assert!(!policy.to_string().contains(":root"), "{policy}");
            assert!(!strings(&admin["Action"]).iter().any(|a| a == "kms:CreateGrant" || a.ends_with('*') && !a.starts_with("kms:Describe") && !a.starts_with("kms:Get") && !a.starts_with("kms:List")), "{admin}");
            let guard = statements.iter().find(|s| s["Sid"] == "NoOtherKeyAdministrator").unwrap();
            assert_eq!(guard["Effect"], "Deny");
            assert_eq!(strings(&guard["Principal"]["AWS"]), vec!["*"]);
            for action in ["kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion", "kms:DisableKey"] {
                assert!(strings(&guard["Action"]).iter().any(|a| a == action), "{action}: {guard}");
            }
            assert_eq!(strings(&guard["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]), vec![key_admin], "{guard}");
            let deny = statements.iter().find(|s| s["Sid"] == "NoOtherSigner").unwrap();
            assert_eq!(strings(&deny["Action"]), vec!["kms:Sign"]);
            assert_eq!(strings(&deny["Principal"]["AWS"]), vec!["*"]);
            assert_eq!(strings(&deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]), vec![role.clone()], "{policy}");
            for other in lz_input::ENVIRONMENTS.iter().filter(|o| **o != env) {
                assert!(!policy.to_string().contains(&p.pipeline_role_arn(other).unwrap()), "{env}'s key names {other}'s role: {policy}");
            }
        }
    }

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
