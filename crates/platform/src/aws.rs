//! AWS SDK clients pointed at LocalStack. Each environment is its own account: LocalStack
//! derives the account from a 12-digit access key id, so the environment's account id is its
//! access key id. Plain HTTP on loopback. The one configuration for real AWS (HTTPS, the
//! standard credential chain, role chains, endpoint profiles) is [`crate::aws_setup`].

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_smithy_http_client::Builder as HttpBuilder;

pub const TEST_SECRET: &str = "test";

/// How every AWS SDK client of the landing zone waits and retries: the one place these
/// numbers live. A request that never answers fails after `attempt` (and the whole call after
/// `operation`) instead of hanging; transient failures (timeouts, dropped connections, 5xx,
/// throttling) are retried up to `max_attempts` times with exponential backoff and jitter
/// between `initial_backoff` and `max_backoff`. A slow answer (seconds) is not a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientPolicy {
    pub connect: Duration,
    /// Longest wait for the next bytes of a response.
    pub read: Duration,
    /// Longest single attempt (request and response).
    pub attempt: Duration,
    /// Longest call, retries included.
    pub operation: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl ClientPolicy {
    /// The shipped policy.
    pub const DEFAULT: ClientPolicy = ClientPolicy {
        connect: Duration::from_secs(3),
        read: Duration::from_secs(15),
        attempt: Duration::from_secs(20),
        operation: Duration::from_secs(60),
        max_attempts: 4,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(3),
    };

    pub fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }

    pub fn retries(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }
}

impl Default for ClientPolicy {
    fn default() -> Self {
        ClientPolicy::DEFAULT
    }
}

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
                .timeout_config(ClientPolicy::DEFAULT.timeouts())
                .retry_config(ClientPolicy::DEFAULT.retries())
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
    s3_with(endpoint, credentials, region, &ClientPolicy::DEFAULT)
}

/// [`s3`] with another wait-and-retry policy (tests of faults shorten the waits).
pub fn s3_with(endpoint: &str, credentials: Credentials, region: &str, policy: &ClientPolicy) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .credentials_provider(credentials)
        .force_path_style(true)
        .http_client(HttpBuilder::new().build_http())
        .timeout_config(policy.timeouts())
        .retry_config(policy.retries())
        .interceptor(crate::s3_calls::Count)
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
