//! How every AWS client the harness ships reaches an account: one path, built on
//! [`crate::aws_setup`], for LocalStack and real AWS alike.
//!
//! 1. The endpoint profile of the endpoint the command runs against ([`profile_of`]): the
//!    profile of `governance/aws.toml` (under the root [`configure`] installed) whose endpoint
//!    it is, with that profile's `ca_file`; otherwise a loopback URL is the `localstack`
//!    profile, an `https://` URL a profile at that URL (verified against the system's roots),
//!    and [`AWS`] (`"aws"`) real AWS's regional endpoints. Every client is HTTPS with rustls
//!    unless the profile is plain HTTP on loopback.
//! 2. The harness's own credentials before any role ([`Base`]): what the CLI installed with
//!    [`set_base`] (a CI run's OIDC token exchanged for the pipeline role, `AssumeRoleWithWebIdentity`),
//!    else the SDK's standard chain on real AWS, else, on LocalStack, the fixed caller
//!    [`LOCALSTACK_CALLER`] (LocalStack names the account by the access key id).
//! 3. `AssumeRole` into the account the client acts in ([`account`]): the environment's role
//!    (`environment_role` of `governance/aws.toml`, `lz-{env}-deployer` by default; the
//!    witness's role in the audit account), with a session name that
//!    names the run ([`session`]); the caller is then checked to be that role in that account.
//!
//! The credentials of a role session are kept for the process (until five minutes before they
//! expire), so a command assumes each role once. Nothing here builds a client from an account's
//! access key: that LocalStack shortcut ([`crate::aws`]) is left to tests' raw writes.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use aws_credential_types::Credentials;

use crate::aws_setup::{session_name, Aws, Base, EndpointProfile, Profiles};

/// The endpoint that names real AWS (regional endpoints the SDK resolves).
pub const AWS: &str = "aws";
/// Who the harness is on LocalStack before it assumes a role (LocalStack's default account).
pub const LOCALSTACK_CALLER: &str = "000000000000";
/// How long before its expiry a kept role session is assumed again.
const REFRESH: Duration = Duration::from_secs(300);

static BASE: Mutex<Option<Base>> = Mutex::new(None);
/// The endpoint profiles and roles of the configured root's `governance/aws.toml`.
static PROFILES: Mutex<Option<Profiles>> = Mutex::new(None);
static RUN: Mutex<Option<String>> = Mutex::new(None);
type Key = (String, String, String, String, String);
static SESSIONS: Mutex<Vec<(Key, Credentials)>> = Mutex::new(Vec::new());

/// The base credentials of this process (the CLI sets them once, e.g. from the CI run's OIDC
/// token); unset, the default of the profile applies (see the module documentation).
pub fn set_base(base: Base) {
    *BASE.lock().expect("not poisoned") = Some(base);
}

/// The landing zone under `root`: its `governance/aws.toml` (read now; a malformed one is an
/// error naming the file and line) gives every client its endpoint profile (`ca_file`) and the
/// environment role ([`deployer_role`]). A root without the file keeps the defaults.
pub fn configure(root: &Path) -> Result<()> {
    let profiles = if root.join(crate::aws_setup::PROFILES_FILE).is_file() { Some(Profiles::load(root)?) } else { None };
    *PROFILES.lock().expect("not poisoned") = profiles;
    Ok(())
}

/// The profiles [`configure`] installed.
fn profiles() -> Option<Profiles> {
    PROFILES.lock().expect("not poisoned").clone()
}

/// The run this process acts for (a CI run id, a promotion run): it names every role session.
pub fn set_run(run: &str) {
    *RUN.lock().expect("not poisoned") = Some(run.to_string());
}

/// The run label of role sessions: the one [`set_run`] set, else `pid<PID>`.
pub fn run() -> String {
    RUN.lock().expect("not poisoned").clone().unwrap_or_else(|| format!("pid{}", std::process::id()))
}

/// The role session name of this run in `env` (or in the audit account, `witness`).
pub fn session(env: &str) -> String {
    session_name(env, &run())
}

/// The deployer role of environment `env` (the role every client acting in its account assumes):
/// `environment_role` of the configured `governance/aws.toml`, `lz-{env}-deployer` without one.
/// This is the checkout's: decisions and bootstrap take the role from a release instead
/// ([`deployer_role_of`]); only the provider e2e (which applies the checkout itself and records
/// nothing) and tests use this one.
pub fn deployer_role(env: &str) -> String {
    match profiles() {
        Some(p) => p.environment_role.replace("{env}", env),
        None => format!("lz-{env}-deployer"),
    }
}

/// The deployer role of environment `env` as the landing zone under `tree` configures it (a
/// release's own `governance/aws.toml`, `lz-{env}-deployer` without one): what a promotion,
/// the facts checks, drift and evidence verification of that release assume, and what
/// bootstrap acts as (the pinned release's), whatever the checkout's copy (which [`configure`]
/// installed for the process) says. The release's author writes it: a release whose
/// `governance/aws.toml` differs from the governing release's is a governance change (tier
/// high, the security group approves; `lz_promote::release::is_governance`), so a role a
/// release names for itself is applied only once the security group has approved it.
pub fn deployer_role_of(tree: &Path, env: &str) -> Result<String> {
    if tree.join(crate::aws_setup::PROFILES_FILE).is_file() {
        Ok(Profiles::load(tree)?.environment_role.replace("{env}", env))
    } else {
        Ok(format!("lz-{env}-deployer"))
    }
}

/// The role the witness store's clients assume in the audit function's account.
pub const WITNESS_ROLE: &str = "lz-witness";
/// The role of a store named on the command line (`evidence --bucket`), in its account.
pub const STORE_ROLE: &str = "lz-evidence-store";

/// The endpoint profile of `endpoint` (see the module documentation).
pub fn profile_of(endpoint: &str) -> Result<EndpointProfile> {
    let e = endpoint.trim();
    if let Some(p) = profiles().and_then(|ps| ps.profiles.into_values().find(|p| p.endpoint.as_deref().map(|u| u.trim_end_matches('/')) == Some(e.trim_end_matches('/')))) {
        return Ok(p);
    }
    if e == AWS {
        if let Some(p) = profiles().and_then(|ps| ps.profiles.get(AWS).cloned()) {
            return Ok(p);
        }
        return Ok(EndpointProfile::aws());
    }
    if crate::aws_setup::is_loopback(e) {
        return Ok(EndpointProfile::at("localstack", e, None));
    }
    if e.starts_with("https://") {
        return Ok(EndpointProfile::at("endpoint", e, None));
    }
    anyhow::bail!("endpoint {e:?} is neither {AWS:?}, an https:// URL, nor plain http:// on loopback (LocalStack)")
}

/// The base credentials for `profile`: the installed ones, else LocalStack's fixed caller on
/// loopback, else the standard chain.
fn base_for(profile: &EndpointProfile) -> Base {
    if let Some(b) = BASE.lock().expect("not poisoned").clone() {
        return b;
    }
    match &profile.endpoint {
        Some(e) if crate::aws_setup::is_loopback(e) => Base::Static(Credentials::new(LOCALSTACK_CALLER, crate::aws::TEST_SECRET, None, None, "localstack-caller")),
        _ => Base::Chain,
    }
}

/// Runs `f` to completion on a runtime of its own thread (callers may be inside a runtime).
fn block<T: Send>(f: impl std::future::Future<Output = Result<T>> + Send) -> Result<T> {
    std::thread::scope(|s| s.spawn(|| crate::aws::runtime()?.block_on(f)).join().unwrap_or_else(|_| Err(anyhow::anyhow!("an AWS call panicked"))))
}

/// The harness as itself at `endpoint` in `region` (its base credentials, no role assumed): the
/// server clock's `GetCallerIdentity`, and KMS `Sign`/`GetPublicKey` with the pipeline identities'
/// keys, which the base identity (in a CI job, its environment's pipeline role) may use.
pub fn base(endpoint: &str, region: &str) -> Result<Aws> {
    let profile = profile_of(endpoint)?;
    let b = base_for(&profile);
    block(Aws::load(&profile, region, b))
}

/// A configuration acting in `account` as `role`, session `session`, at `endpoint` in `region`:
/// the base credentials, then `AssumeRole` (checked), kept for the process.
pub fn account(endpoint: &str, account: &str, region: &str, role: &str, session: &str) -> Result<Aws> {
    let profile = profile_of(endpoint)?;
    let key: Key = (endpoint.to_string(), account.to_string(), region.to_string(), role.to_string(), session.to_string());
    let kept = SESSIONS.lock().expect("not poisoned").iter().find(|(k, _)| *k == key).map(|(_, c)| c.clone());
    let fresh = |c: &Credentials| c.expiry().is_none_or(|t| t > SystemTime::now() + REFRESH);
    if let Some(c) = kept.filter(fresh) {
        return with_credentials(endpoint, region, c);
    }
    let role_arn = format!("arn:aws:iam::{account}:role/{role}");
    let base = base_for(&profile);
    let creds = block(async {
        let me = Aws::load(&profile, region, base).await?;
        let assumed = me.assume_role(&role_arn, session).await?;
        assumed.credentials().await
    })
    .with_context(|| format!("reaching account {account} as {role} through the {} endpoint profile", profile.name))?;
    {
        let mut kept = SESSIONS.lock().expect("not poisoned");
        kept.retain(|(k, _)| *k != key);
        kept.push((key, creds.clone()));
    }
    with_credentials(endpoint, region, creds)
}

/// The credentials `aws` acts with now (handed to Terraform as its process's environment).
pub fn credentials(aws: &Aws) -> Result<Credentials> {
    block(aws.credentials())
}

/// A configuration at `endpoint` in `region` with credentials already obtained (a role session
/// handed on, e.g. the deployer's to Terraform and its own reads).
pub fn with_credentials(endpoint: &str, region: &str, credentials: Credentials) -> Result<Aws> {
    let profile = profile_of(endpoint)?;
    block(Aws::load(&profile, region, Base::Static(credentials)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_their_profile_and_plain_http_is_only_loopback() {
        assert_eq!(profile_of("aws").unwrap(), EndpointProfile::aws());
        assert_eq!(profile_of("http://127.0.0.1:4566").unwrap().name, "localstack");
        assert_eq!(profile_of("https://s3.example.com").unwrap().endpoint.as_deref(), Some("https://s3.example.com"));
        assert!(profile_of("http://example.com").is_err());
        assert!(profile_of("").is_err());
    }

    #[test]
    fn session_names_name_the_run() {
        set_run("gh-42-1");
        assert_eq!(session("dev"), "lz-dev-gh-42-1");
        assert_eq!(deployer_role("prod"), "lz-prod-deployer");
    }
}
