//! One command context: what every command that acts on the landing zone sets up the same way
//! (the running LocalStack endpoint, the landing zone's stores from `governance/stores.toml`
//! under the root, and the signer of `--as NAME [--key FILE]`), written once.
use std::path::Path;

use anyhow::Result;
use lz_evidence::Signer;
use lz_promote::Paths;

/// The landing zone a command acts on: the endpoint that answers, and its stores.
pub struct LandingZone {
    pub endpoint: String,
    pub paths: Paths,
}

impl LandingZone {
    /// The landing zone under `root` at the running LocalStack (an error saying how to start it
    /// when nothing answers).
    pub fn open(root: &Path) -> Result<LandingZone> {
        let endpoint = lz_platform::localstack::require(root)?;
        let paths = Paths::landing_zone(root, &endpoint)?;
        Ok(LandingZone { endpoint, paths })
    }
}

/// The signer for `--as NAME [--key FILE]`: the key file (`--key ssh-agent[:COMMENT]`: the
/// ed25519 key in the ssh-agent of `SSH_AUTH_SOCK`), else the KMS key `LZ_SIGNING_KMS_KEY`
/// names, else `LZ_SIGNING_KEY` (see `crate::signing`).
pub fn signer(identity: &str, key: Option<&Path>) -> Result<Signer> {
    match (key, crate::signing::kms_key()) {
        (Some(k), _) if crate::signing::agent_key(k).is_some() => crate::signing::ssh_agent(identity, crate::signing::agent_key(k).flatten()),
        (Some(k), _) => Signer::from_file(identity, k),
        (None, Some(arn)) => crate::signing::kms(identity, &arn),
        (None, None) => Signer::from_env(identity),
    }
}
