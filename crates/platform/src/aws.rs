//! AWS SDK clients pointed at LocalStack. Each environment is its own account: LocalStack
//! derives the account from a 12-digit access key id, so the environment's account id is its
//! access key id. Plain HTTP on loopback: no TLS stack is compiled in.

use aws_credential_types::Credentials;
use aws_smithy_http_client::Builder as HttpBuilder;

pub const TEST_SECRET: &str = "test";

/// Static credentials for an account (access key id = the 12-digit account id).
pub fn account_credentials(account_id: &str) -> Credentials {
    Credentials::new(account_id, TEST_SECRET, None, None, "landing-zone-localstack")
}

macro_rules! client_fn {
    ($name:ident, $krate:ident) => {
        /// A client for LocalStack at `endpoint` with the given credentials.
        pub fn $name(endpoint: &str, credentials: Credentials, region: &str) -> $krate::Client {
            let config = $krate::Config::builder()
                .behavior_version($krate::config::BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region($krate::config::Region::new(region.to_string()))
                .credentials_provider(credentials)
                .http_client(HttpBuilder::new().build_http())
                .build();
            $krate::Client::from_conf(config)
        }
    };
}

client_fn!(sts, aws_sdk_sts);
client_fn!(iam, aws_sdk_iam);
client_fn!(secretsmanager, aws_sdk_secretsmanager);

/// An S3 client (path-style addressing, as LocalStack on loopback needs).
pub fn s3(endpoint: &str, credentials: Credentials, region: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .credentials_provider(credentials)
        .force_path_style(true)
        .http_client(HttpBuilder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Convenience for callers holding an access key id: an S3 client for that account.
pub fn s3_client(endpoint: &str, access_key_id: &str, region: &str) -> aws_sdk_s3::Client {
    s3(endpoint, account_credentials(access_key_id), region)
}

/// A current-thread tokio runtime for the synchronous harness.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting a tokio runtime")
}
