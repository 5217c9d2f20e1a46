//! One AWS configuration for every client, built with `aws-config`.
//!
//! - HTTPS with rustls (ring) by default, trusting the system's roots, plus the one extra CA an
//!   endpoint profile names (LocalStack's own certificate, for its TLS endpoint). Verification is
//!   never turned off; plain HTTP only when a profile's endpoint says `http://` (LocalStack on
//!   loopback).
//! - Base credentials ([`Base`]): the SDK's standard chain (environment, profile, SSO, web
//!   identity, process, ECS, IMDS), a web identity token file (an OIDC token of the CI run,
//!   `AssumeRoleWithWebIdentity`), or static keys (LocalStack's account-per-access-key).
//! - Per-environment `AssumeRole` ([`Aws::assume_role`]) with a session name that names the run
//!   ([`session_name`]); the caller's account is checked against the account `env.toml` names.
//! - Endpoints come from `governance/aws.toml` ([`Profiles`]): `aws` (the SDK's regional
//!   endpoints) and `localstack` are named endpoint profiles like any other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Builder as HttpBuilder;
use serde::Deserialize;

use crate::aws::ClientPolicy;

/// Where the AWS APIs are: `endpoint` unset means real AWS (regional endpoints the SDK resolves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointProfile {
    pub name: String,
    /// One URL for every service (LocalStack's gateway); `None` for real AWS.
    pub endpoint: Option<String>,
    /// A PEM certificate trusted in addition to the system's roots (LocalStack's own).
    pub ca_file: Option<PathBuf>,
}

impl EndpointProfile {
    /// Real AWS.
    pub fn aws() -> EndpointProfile {
        EndpointProfile { name: "aws".into(), endpoint: None, ca_file: None }
    }

    /// A profile for one endpoint URL (LocalStack), trusting `ca_file` too when set.
    pub fn at(name: &str, endpoint: &str, ca_file: Option<PathBuf>) -> EndpointProfile {
        EndpointProfile { name: name.into(), endpoint: Some(endpoint.into()), ca_file }
    }
}

/// `governance/aws.toml`: the named endpoint profiles and the roles the harness assumes.
#[derive(Clone, Debug)]
pub struct Profiles {
    pub profiles: BTreeMap<String, EndpointProfile>,
    /// The role a pipeline job's OIDC token is exchanged for, one per environment (`{env}` is
    /// the job's environment), e.g. `arn:aws:iam::999999999999:role/lz-pipeline-{env}`: see
    /// [`Profiles::pipeline_role_arn`].
    pub pipeline_role_arn: Option<String>,
    /// The role name assumed in each environment's account; `{env}` is the environment.
    pub environment_role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfiles {
    #[serde(default)]
    pipeline_role_arn: Option<String>,
    #[serde(default = "default_environment_role")]
    environment_role: String,
    #[serde(default)]
    profile: BTreeMap<String, toml::Spanned<RawProfile>>,
}

fn default_environment_role() -> String {
    "lz-{env}-deployer".to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    endpoint: Option<toml::Spanned<String>>,
    #[serde(default)]
    ca_file: Option<String>,
}

pub const PROFILES_FILE: &str = "governance/aws.toml";

impl Profiles {
    /// `governance/aws.toml` under `root` (relative `ca_file`s are under `root` too).
    pub fn load(root: &Path) -> Result<Profiles> {
        let path = root.join(PROFILES_FILE);
        let text = lz_input::read_required(&path, lz_input::purpose(PROFILES_FILE))?;
        Profiles::parse(&text, &path.display().to_string(), root)
    }

    pub fn parse(text: &str, origin: &str, root: &Path) -> Result<Profiles> {
        let raw: RawProfiles = lz_repo::parse_toml(text, origin)?;
        if !raw.environment_role.contains("{env}") {
            bail!("{origin}: environment_role {:?} must contain {{env}} (one role per environment)", raw.environment_role);
        }
        if let Some(arn) = &raw.pipeline_role_arn {
            if !arn.contains("{env}") {
                bail!(
                    "{origin}: pipeline_role_arn {arn:?} must contain {{env}}: one pipeline role per environment, each trusting only \
                     its environment's jobs (a dev job must not reach prod's role)"
                );
            }
            role_parts(&arn.replace("{env}", "dev")).with_context(|| format!("{origin}: pipeline_role_arn"))?;
        }
        let mut profiles = BTreeMap::new();
        for (name, p) in raw.profile {
            let line = lz_repo::line_of(text, p.span().start);
            let p = p.into_inner();
            let endpoint = match p.endpoint {
                None => None,
                Some(e) => {
                    let url = e.get_ref().trim().to_string();
                    if !(url.starts_with("https://") || url.starts_with("http://") && is_loopback(&url)) {
                        bail!(
                            "{origin}:{}: profile {name}: endpoint {url:?} must be https:// (plain http only on loopback)",
                            lz_repo::line_of(text, e.span().start)
                        );
                    }
                    Some(url)
                }
            };
            if p.ca_file.is_some() && !endpoint.as_deref().is_some_and(|e| e.starts_with("https://")) {
                bail!("{origin}:{line}: profile {name}: ca_file needs an https:// endpoint");
            }
            let ca_file = p.ca_file.map(|f| root.join(f));
            profiles.insert(name.clone(), EndpointProfile { name, endpoint, ca_file });
        }
        Ok(Profiles { profiles, pipeline_role_arn: raw.pipeline_role_arn, environment_role: raw.environment_role })
    }

    pub fn get(&self, name: &str) -> Result<&EndpointProfile> {
        self.profiles.get(name).with_context(|| {
            format!("no endpoint profile {name:?} in {PROFILES_FILE} (profiles: {})", self.profiles.keys().cloned().collect::<Vec<_>>().join(", "))
        })
    }

    /// The pipeline role of a job in environment `env` (what its OIDC token is exchanged for):
    /// `pipeline_role_arn` with `{env}` replaced; `None` when the file names none.
    pub fn pipeline_role_arn(&self, env: &str) -> Option<String> {
        self.pipeline_role_arn.as_ref().map(|a| a.replace("{env}", env))
    }

    /// The role of environment `env` in `account`.
    pub fn environment_role_arn(&self, env: &str, account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{}", self.environment_role.replace("{env}", env))
    }
}

/// The HTTP client of every AWS client: rustls on ring, the system's roots plus `extra_ca` (PEM).
pub fn https_client(extra_ca: Option<&[u8]>) -> Result<aws_sdk_sts::config::SharedHttpClient> {
    let mut store = TrustStore::default();
    if let Some(pem) = extra_ca {
        store.add_pem_certificate(pem.to_vec());
    }
    let ctx = TlsContext::builder().with_trust_store(store).build().context("building the TLS context")?;
    Ok(HttpBuilder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).tls_context(ctx).build_https())
}

/// Where the first credentials come from.
#[derive(Clone, Debug)]
pub enum Base {
    /// The SDK's standard chain (environment, profile, SSO, web identity, IMDS...).
    Chain,
    /// Fixed keys (LocalStack: the access key id names the account).
    Static(Credentials),
    /// An OIDC token in a file, exchanged for `role_arn` with `AssumeRoleWithWebIdentity`; the
    /// file is read again at each refresh (CI runners rotate it).
    WebIdentity { role_arn: String, token_file: PathBuf, session: String },
    /// A GitHub Actions run's OIDC token, asked for over HTTPS at each refresh
    /// ([`crate::oidc`]), exchanged for `role_arn` with `AssumeRoleWithWebIdentity`.
    GitHubActions { role_arn: String, request: crate::oidc::TokenRequest, session: String },
}

/// One AWS configuration: an endpoint profile, a region and credentials.
#[derive(Clone, Debug)]
pub struct Aws {
    pub profile: EndpointProfile,
    pub config: SdkConfig,
}

impl Aws {
    /// Loads the configuration of `profile` in `region` with base credentials `base`.
    pub async fn load(profile: &EndpointProfile, region: &str, base: Base) -> Result<Aws> {
        let ca = match &profile.ca_file {
            Some(f) => Some(std::fs::read(f).with_context(|| format!("reading the CA certificate {} of profile {}", f.display(), profile.name))?),
            None => None,
        };
        let policy = ClientPolicy::DEFAULT;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .http_client(https_client(ca.as_deref())?)
            .timeout_config(policy.timeouts())
            .retry_config(policy.retries());
        if let Some(url) = &profile.endpoint {
            loader = loader.endpoint_url(url);
        }
        let loader = match &base {
            Base::Chain => loader,
            Base::Static(c) => loader.credentials_provider(c.clone()),
            // Filled in below: the exchange needs the configuration itself (endpoint, TLS).
            Base::WebIdentity { .. } | Base::GitHubActions { .. } => loader.no_credentials(),
        };
        let config = loader.load().await;
        let config = match base {
            Base::WebIdentity { role_arn, token_file, session } => {
                let sts = aws_sdk_sts::Client::new(&config);
                let provider = WebIdentity { sts, role_arn, token: Token::File(token_file), session };
                config.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
            }
            Base::GitHubActions { role_arn, request, session } => {
                let sts = aws_sdk_sts::Client::new(&config);
                let provider = WebIdentity { sts, role_arn, token: Token::GitHub(request), session };
                config.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
            }
            _ => config,
        };
        Ok(Aws { profile: profile.clone(), config })
    }

    /// This configuration with the credentials of `role_arn` assumed with this one's (a hop of a
    /// role chain: pipeline -> environment). `session` names the run (see [`session_name`]).
    /// The new caller must be that role in that role's account, checked with
    /// `GetCallerIdentity`.
    pub async fn assume_role(&self, role_arn: &str, session: &str) -> Result<Aws> {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(session)
            // An hour (the default maximum of a role): the credentials are handed to Terraform
            // as they are, and an apply must not outlive them.
            .session_length(std::time::Duration::from_secs(3600))
            .configure(&self.config)
            .build()
            .await;
        let config = self.config.clone().into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
        let next = Aws { profile: self.profile.clone(), config };
        let (account, role) = role_parts(role_arn)?;
        let (got_account, arn) = next.caller().await.with_context(|| format!("assuming {role_arn} as session {session}"))?;
        let expected = format!("arn:aws:sts::{account}:assumed-role/{role}/{session}");
        if got_account != account || arn != expected {
            bail!("after assuming {role_arn} the caller is {arn} in account {got_account}, expected {expected}");
        }
        Ok(next)
    }

    /// (account, ARN) of the current caller.
    pub async fn caller(&self) -> Result<(String, String)> {
        let who = self.sts().get_caller_identity().send().await.map_err(|e| anyhow::anyhow!("{}", aws_sdk_sts::error::DisplayErrorContext(e)))?;
        Ok((who.account().unwrap_or_default().to_string(), who.arn().unwrap_or_default().to_string()))
    }

    /// The credentials in force now (to hand to Terraform as environment of its process).
    pub async fn credentials(&self) -> Result<Credentials> {
        let p = self.config.credentials_provider().context("this configuration has no credentials")?;
        p.provide_credentials().await.context("resolving credentials")
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config)
    }

    pub fn secretsmanager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.config)
    }

    /// S3, path-style when the profile names one endpoint (LocalStack), virtual-hosted on AWS.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config).force_path_style(self.profile.endpoint.is_some()).interceptor(crate::s3_calls::Count).build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

/// (account, role name) of `arn:aws:iam::ACCOUNT:role/[path/]NAME`.
pub fn role_parts(arn: &str) -> Result<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::").with_context(|| format!("{arn:?} is not an IAM role ARN"))?;
    let (account, role) = rest.split_once(":role/").with_context(|| format!("{arn:?} is not an IAM role ARN"))?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{arn:?}: the account is not 12 digits");
    }
    Ok((account.to_string(), role.rsplit('/').next().unwrap_or(role).to_string()))
}

/// A role session name for `env` and `run` (a CI run id, a promotion id): the characters STS
/// allows (`[\w+=,.@-]`), at most 64; CloudTrail then shows which run did what.
pub fn session_name(env: &str, run: &str) -> String {
    let raw = format!("lz-{env}-{run}");
    let mut s: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    while s.len() < 2 {
        s.push('-');
    }
    s
}

/// Where a web identity token comes from, at each refresh.
#[derive(Debug)]
enum Token {
    File(PathBuf),
    GitHub(crate::oidc::TokenRequest),
}

/// `AssumeRoleWithWebIdentity` with the token of `token`, read or asked for at each call.
#[derive(Debug)]
struct WebIdentity {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    token: Token,
    session: String,
}

impl WebIdentity {
    async fn fetch(&self) -> aws_credential_types::provider::Result {
        let token = match &self.token {
            Token::File(f) => std::fs::read_to_string(f)
                .map_err(|e| CredentialsError::invalid_configuration(format!("reading the web identity token {}: {e}", f.display())))?,
            Token::GitHub(request) => {
                let request = request.clone();
                tokio::task::spawn_blocking(move || request.token(crate::oidc::STS_AUDIENCE))
                    .await
                    .map_err(|e| CredentialsError::provider_error(format!("the OIDC token request: {e}")))?
                    .map_err(|e| CredentialsError::provider_error(format!("{e:#}")))?
            }
        };
        let out = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session)
            .web_identity_token(token.trim())
            .send()
            .await
            .map_err(|e| CredentialsError::provider_error(format!("{}", aws_sdk_sts::error::DisplayErrorContext(e))))?;
        let c = out.credentials().ok_or_else(|| CredentialsError::provider_error("AssumeRoleWithWebIdentity returned no credentials"))?;
        let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), expiry, "web-identity"))
    }
}

impl ProvideCredentials for WebIdentity {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.fetch())
    }
}

/// Whether `e` is an http(s) URL whose host is exactly a loopback name or address (so
/// `http://localhost.example.com` and `http://127.0.0.1@example.com` are not).
pub(crate) fn is_loopback(e: &str) -> bool {
    let Some(rest) = e.strip_prefix("http://").or_else(|| e.strip_prefix("https://")) else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { "" }),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod loopback_tests {
    #[test]
    fn only_an_exact_loopback_host_is_loopback() {
        for e in ["http://127.0.0.1:4566", "http://localhost:4566/", "https://localhost", "http://[::1]:4566"] {
            assert!(super::is_loopback(e), "{e}");
        }
        for e in ["http://localhost.example.com", "http://127.0.0.1@example.com", "http://127.0.0.1.nip.io:4566", "ftp://127.0.0.1", "http://example.com/127.0.0.1"] {
            assert!(!super::is_loopback(e), "{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_keep_to_what_sts_allows() {
        assert_eq!(session_name("dev", "run 42/1"), "lz-dev-run-42-1");
        assert_eq!(session_name("prod", &"x".repeat(100)).len(), 64);
    }

    #[test]
    fn profiles_parse_and_refuse_plain_http_off_loopback() {
        let root = Path::new("/repo");
        let ok = "environment_role = \"lz-{env}-deployer\"\n[profile.aws]\n[profile.localstack]\nendpoint = \"http://127.0.0.1:4566\"\n\
                  [profile.localstack-tls]\nendpoint = \"https://localhost:4566\"\nca_file = \"ca.pem\"\n";
        let p = Profiles::parse(ok, "aws.toml", root).unwrap();
        assert_eq!(p.get("aws").unwrap().endpoint, None);
        assert_eq!(p.get("localstack-tls").unwrap().ca_file.as_deref(), Some(Path::new("/repo/ca.pem")));
        assert_eq!(p.environment_role_arn("dev", "111111111111"), "arn:aws:iam::111111111111:role/lz-dev-deployer");
        let err = Profiles::parse("[profile.x]\nendpoint = \"http://example.com\"\n", "aws.toml", root).unwrap_err();
        assert!(format!("{err:#}").contains("aws.toml:2"), "{err:#}");
        // A host that only starts like loopback is not loopback.
        assert!(Profiles::parse("[profile.x]\nendpoint = \"http://localhost.example.com\"\n", "aws.toml", root).is_err());
        assert!(Profiles::parse("[profile.x]\nendpoint = \"http://127.0.0.1:1\"\nca_file = \"c\"\n", "aws.toml", root).is_err());
        assert!(Profiles::parse("environment_role = \"fixed\"\n", "aws.toml", root).is_err());
        // One pipeline role per environment: a single role for every environment is refused.
        let one = Profiles::parse("pipeline_role_arn = \"arn:aws:iam::999999999999:role/lz-pipeline\"\n", "aws.toml", root).unwrap_err();
        assert!(format!("{one:#}").contains("must contain {env}"), "{one:#}");
        let per = Profiles::parse("pipeline_role_arn = \"arn:aws:iam::999999999999:role/lz-pipeline-{env}\"\n", "aws.toml", root).unwrap();
        assert_eq!(per.pipeline_role_arn("dev").as_deref(), Some("arn:aws:iam::999999999999:role/lz-pipeline-dev"));
        assert_eq!(per.pipeline_role_arn("prod").as_deref(), Some("arn:aws:iam::999999999999:role/lz-pipeline-prod"));
        assert!(p.get("nope").is_err());
    }

    #[test]
    fn role_arns_name_their_account_and_role() {
        assert_eq!(role_parts("arn:aws:iam::111111111111:role/ci/lz-dev").unwrap(), ("111111111111".into(), "lz-dev".into()));
        assert!(role_parts("arn:aws:iam::1111:role/x").is_err());
    }
}
