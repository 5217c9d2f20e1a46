//! Which key signs for `--as NAME`: a key file (`--key FILE`), the ed25519 key of the person's
//! ssh-agent (`--key ssh-agent[:COMMENT]`, through `SSH_AUTH_SOCK`), an AWS KMS key (a key ARN:
//! not a secret; the private key never leaves KMS), or `LZ_SIGNING_KEY` holding an ed25519 key
//! (people's rehearsals). The KMS key is the one `LZ_SIGNING_KMS_KEY` names, else the one the
//! register (`governance/identities.toml`) names for the identity (`kms_key`): a pipeline
//! identity's steps then need no key variable at all. KMS is reached like every AWS client
//! (`lz_platform::reach`): at the landing zone's endpoint profile, as the process's base
//! identity, which in a GitHub Actions job is the pipeline role its OIDC token was exchanged for
//! (`crate::ci_identity`). The register entry only says where the key is: every signature is
//! still checked against the register's public key when the record is appended and verified.

use std::path::Path;

use anyhow::{bail, Context, Result};
use lz_evidence::signer::KmsSigner;
use lz_evidence::Signer;

pub const KMS_KEY_ENV: &str = "LZ_SIGNING_KMS_KEY";
/// The endpoint profile of `governance/aws.toml` the landing zone's clients use (default
/// `localstack`; see `crate::context::endpoint`).
pub const AWS_PROFILE_ENV: &str = "LZ_AWS_PROFILE";

/// The KMS key ARN of `LZ_SIGNING_KMS_KEY`, when set.
pub fn kms_key() -> Option<String> {
    set_var(KMS_KEY_ENV)
}

/// The value of environment variable `name` when it is set to something: an empty or blank
/// value counts as unset (a secret or variable the job cannot see expands to "").
pub fn set_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The KMS key the register under `root` names for `identity` (`kms_key`), if any.
pub fn registered_kms_key(root: &Path, identity: &str) -> Result<Option<String>> {
    let file = root.join("governance/identities.toml");
    if !file.is_file() {
        return Ok(None);
    }
    let register = lz_evidence::identity::Identities::load(&file)?;
    Ok(register.get(identity).and_then(|i| i.kms_key.clone()))
}

/// The region of `arn:aws:kms:REGION:ACCOUNT:key/ID` (or `:alias/NAME`).
pub(crate) fn region_of(arn: &str) -> Result<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "kms", region, account, _] if !region.is_empty() && account.len() == 12 => Ok(region.to_string()),
        _ => bail!("{arn:?} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"),
    }
}

/// A signer for `identity` whose key is the KMS key `arn`, reached at `endpoint` (the landing
/// zone's endpoint profile: `crate::context::kms`) as the process's base identity
/// (`lz_platform::reach::base`).
pub fn kms_at(endpoint: &str, identity: &str, arn: &str) -> Result<Signer> {
    let region = region_of(arn).with_context(|| format!("the signing key of {identity}"))?;
    let aws = lz_platform::reach::base(endpoint, &region)?;
    let backend = KmsSigner::connect(aws.kms(), arn).with_context(|| format!("the signing key of {identity}"))?;
    Ok(Signer::with_backend(identity, backend))
}

/// `--key ssh-agent` (`Some(None)`) or `--key ssh-agent:COMMENT` (`Some(Some(COMMENT))`);
/// `None` for a key file.
pub fn agent_key(key: &std::path::Path) -> Option<Option<&str>> {
    let k = key.to_str()?;
    match k.strip_prefix(AGENT) {
        Some("") => Some(None),
        Some(rest) => rest.strip_prefix(':').map(Some),
        None => None,
    }
}

/// What `--key` says to sign with the ssh-agent's key.
pub const AGENT: &str = "ssh-agent";

/// A signer for `identity` whose ed25519 key is held by the ssh-agent of `SSH_AUTH_SOCK` (the key
/// whose comment is `comment`, or the agent's only ed25519 key).
pub fn ssh_agent(identity: &str, comment: Option<&str>) -> Result<Signer> {
    let socket = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()).context("--key ssh-agent needs a running ssh-agent (SSH_AUTH_SOCK is not set)")?;
    let backend = lz_evidence::ssh_agent::SshAgent::connect(std::path::Path::new(&socket), comment).with_context(|| format!("the signing key of {identity}"))?;
    Ok(Signer::with_backend(identity, backend))
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_ssh_agent_names_the_agent_and_optionally_a_comment() {
        use std::path::Path;
        assert_eq!(super::agent_key(Path::new("ssh-agent")), Some(None));
        assert_eq!(super::agent_key(Path::new("ssh-agent:alice@laptop")), Some(Some("alice@laptop")));
        assert_eq!(super::agent_key(Path::new("ssh-agent.key")), None);
        assert_eq!(super::agent_key(Path::new("/keys/alice.key")), None);
    }

    #[test]
    fn kms_key_arns_name_their_region() {
        assert_eq!(super::region_of("arn:aws:kms:eu-west-2:111111111111:key/abc").unwrap(), "eu-west-2");
        assert!(super::region_of("alias/lz").is_err());
        assert!(super::region_of("arn:aws:kms::111111111111:key/abc").is_err());
    }
}
