//! A rehearsal of the KMS path (`cargo xtask rehearsal setup --kms`): the pipeline identities'
//! register entries name KMS keys instead of key files. The keys themselves are created by the
//! command (through `lz_platform::reach`, in the pipeline role's account); this module rewrites
//! their entries in the rehearsal register before its digest becomes the chain's genesis.

use anyhow::{bail, Result};

/// `register` with identity `name`'s `public_key` line replaced by a P-256 public key held in
/// the KMS key `arn` (`algorithm = "ecdsa-p256-sha256"`, `kms_key`).
pub fn register_kms_key(register: &str, name: &str, public_key: &str, arn: &str) -> Result<String> {
    let header = format!("[identity.{name}]");
    let mut out = Vec::new();
    let (mut inside, mut done) = (false, false);
    for line in register.lines() {
        if line.starts_with('[') {
            inside = line.trim() == header;
        }
        if inside && !done && line.trim_start().starts_with("public_key") {
            out.push(format!("algorithm = \"{}\"", lz_evidence::keys::Algorithm::EcdsaP256Sha256.as_str()));
            out.push(format!("public_key = \"{public_key}\""));
            out.push(format!("kms_key = \"{arn}\""));
            done = true;
            continue;
        }
        out.push(line.to_string());
    }
    if !done {
        bail!("the rehearsal register has no public_key of identity {name}");
    }
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_named_identity_gets_its_kms_key() {
        let text = "register_quorum = 2\n\n[identity.alice]\nkind = \"person\"\npublic_key = \"A\"\n\n[identity.deployer-bot]\nkind = \"workload\"\npublic_key = \"B\"\n";
        let out = super::register_kms_key(text, "deployer-bot", "P", "arn:aws:kms:eu-west-2:999999999999:key/k").unwrap();
        assert!(out.contains("[identity.alice]\nkind = \"person\"\npublic_key = \"A\"\n"), "{out}");
        assert!(out.contains("public_key = \"P\"\nkms_key = \"arn:aws:kms:eu-west-2:999999999999:key/k\""), "{out}");
        assert!(out.contains("algorithm = \"ecdsa-p256-sha256\""), "{out}");
        assert!(super::register_kms_key(text, "nobody", "P", "a").is_err());
    }
}
