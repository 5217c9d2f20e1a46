//! Signing keys in AWS KMS for the pipeline's identities: ECC_NIST_P256, SIGN_VERIFY (what
//! `lz_evidence::signer::KmsSigner` signs with). Created by `cargo xtask rehearsal setup --kms`
//! on LocalStack; an organisation creates its own (README: pointing the harness at AWS).

use anyhow::{Context, Result};

use crate::aws_setup::Aws;

/// The key policy of key `arn` (KMS keeps one, named `default`), as KMS returns it: what a
/// review reads back to check that a key's policy is the document it was created with.
pub async fn key_policy(aws: &Aws, arn: &str) -> Result<String> {
    let out = aws
        .kms()
        .get_key_policy()
        .key_id(arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("KMS GetKeyPolicy {arn}: {}", aws_sdk_kms::error::DisplayErrorContext(e)))?;
    out.policy().map(str::to_string).with_context(|| format!("KMS GetKeyPolicy {arn} returned no policy"))
}

/// Creates a signing key in the caller's account and region, with key policy `policy` (JSON,
/// `crate::pipeline_roles::signing_key_policy`) when given; returns its ARN.
pub async fn create_signing_key(aws: &Aws, description: &str, policy: Option<&str>) -> Result<String> {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let out = aws
        .kms()
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description(description)
        .set_policy(policy.map(str::to_string))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("KMS CreateKey: {}", aws_sdk_kms::error::DisplayErrorContext(e)))?;
    out.key_metadata().and_then(|m| m.arn()).map(str::to_string).context("KMS CreateKey returned no key ARN")
}
