//! Where a signature comes from: a [`SignerBackend`] holds (or reaches) one private key.
//!
//! - [`Ed25519File`]: an ed25519 seed read from a key file (people, rehearsals, today's path);
//! - [`KmsSigner`]: an AWS KMS asymmetric key (`ECC_NIST_P256`, `ECDSA_SHA_256`): the private
//!   key never leaves KMS; the pipeline reaches it through its OIDC role, so no private key sits
//!   in a file or an environment variable of the workflow;
//! - [`P256Local`]: a P-256 key in memory (tests and rehearsals of the KMS path).
//!
//! [`crate::identity::Signer`] pairs a backend with the identity it signs as.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::keys::{ecdsa_from_der, parse_p256, PublicKey};

/// One private key, however it is held.
pub trait SignerBackend: Send + Sync {
    /// The public key the register must name for this identity.
    fn public_key(&self) -> PublicKey;
    /// A signature of `message` under the key's algorithm (64 bytes; ECDSA in low-S `r || s`).
    fn sign(&self, message: &[u8]) -> Result<[u8; 64]>;
    /// Where the key is, for messages ("ed25519 key", "AWS KMS key arn:...").
    fn describe(&self) -> String;
}

/// An ed25519 key held in memory (read from a key file by [`crate::identity::Signer::from_file`]).
pub struct Ed25519File(pub ed25519_dalek::SigningKey);

impl SignerBackend for Ed25519File {
    fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.0.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes())
    }

    fn describe(&self) -> String {
        "ed25519 key".to_string()
    }
}

/// A P-256 key in memory: signs as KMS does (SHA-256 digest, ECDSA, low-S).
pub struct P256Local(pub p256::ecdsa::SigningKey);

impl SignerBackend for P256Local {
    fn public_key(&self) -> PublicKey {
        PublicKey::P256(*self.0.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        use p256::ecdsa::signature::hazmat::PrehashSigner as _;
        let sig: p256::ecdsa::Signature = self.0.sign_prehash(&Sha256::digest(message)).context("ECDSA signing failed")?;
        Ok(sig.normalize_s().unwrap_or(sig).to_bytes().into())
    }

    fn describe(&self) -> String {
        "P-256 key".to_string()
    }
}

/// An AWS KMS asymmetric signing key (`KeySpec` `ECC_NIST_P256`, `KeyUsage` `SIGN_VERIFY`).
/// Messages are hashed here and sent as a `DIGEST` (KMS takes at most 4096 bytes of `RAW`
/// message); the signature is the same as KMS signing the message itself with `ECDSA_SHA_256`.
pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
    public_key: PublicKey,
    rt: tokio::runtime::Runtime,
}

impl KmsSigner {
    /// Connects to `key_id` (id, ARN or alias) and reads its public key (`GetPublicKey`). A key
    /// of another spec or usage is refused. Give it a client of its own (it runs the SDK on a
    /// current-thread runtime of its own, as [`crate::s3`] does).
    pub fn connect(client: aws_sdk_kms::Client, key_id: &str) -> Result<KmsSigner> {
        use aws_sdk_kms::types::{KeySpec, KeyUsageType, SigningAlgorithmSpec};
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a tokio runtime")?;
        let out = rt
            .block_on(client.get_public_key().key_id(key_id).send())
            .map_err(|e| anyhow::anyhow!("KMS GetPublicKey of {key_id}: {}", aws_sdk_kms::error::DisplayErrorContext(e)))?;
        if out.key_spec() != Some(&KeySpec::EccNistP256) {
            bail!("KMS key {key_id} has key spec {:?}, expected ECC_NIST_P256", out.key_spec());
        }
        if out.key_usage() != Some(&KeyUsageType::SignVerify) {
            bail!("KMS key {key_id} has key usage {:?}, expected SIGN_VERIFY", out.key_usage());
        }
        if !out.signing_algorithms().contains(&SigningAlgorithmSpec::EcdsaSha256) {
            bail!("KMS key {key_id} does not offer ECDSA_SHA_256");
        }
        let der = out.public_key().with_context(|| format!("KMS key {key_id}: GetPublicKey returned no public key"))?;
        use base64::Engine as _;
        let key = parse_p256(&base64::engine::general_purpose::STANDARD.encode(der.as_ref()))
            .with_context(|| format!("KMS key {key_id}: its public key"))?;
        let key_id = out.key_id().unwrap_or(key_id).to_string();
        Ok(KmsSigner { client, key_id, public_key: PublicKey::P256(key), rt })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl SignerBackend for KmsSigner {
    fn public_key(&self) -> PublicKey {
        self.public_key
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        use aws_sdk_kms::primitives::Blob;
        use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
        let digest = Sha256::digest(message);
        let out = self
            .rt
            .block_on(
                self.client
                    .sign()
                    .key_id(&self.key_id)
                    .message(Blob::new(digest.to_vec()))
                    .message_type(MessageType::Digest)
                    .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
                    .send(),
            )
            .map_err(|e| anyhow::anyhow!("KMS Sign with {}: {}", self.key_id, aws_sdk_kms::error::DisplayErrorContext(e)))?;
        let der = out.signature().with_context(|| format!("KMS Sign with {} returned no signature", self.key_id))?;
        let sig = ecdsa_from_der(der.as_ref()).with_context(|| format!("KMS Sign with {}", self.key_id))?;
        // A signature that does not verify (a wrong key behind the id, a faulty service) is
        // never written into a record.
        if !self.public_key.verify(&sig, &[message]) {
            bail!("KMS Sign with {}: the signature does not verify with the key's public key", self.key_id);
        }
        Ok(sig)
    }

    fn describe(&self) -> String {
        format!("AWS KMS key {}", self.key_id)
    }
}
