//! Server time: the `Date` header of an AWS (or LocalStack) answer, read through the SDK. The
//! trusted clock ([`crate::clock`]) reads it from STS; the evidence store's S3 server gives the
//! second source of time, and the age of a witness note is judged against it
//! ([`crate::verified`]). A leaf: it reads no chain.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use time::OffsetDateTime;

/// The second source of time: the `Date` header of the evidence store's S3 server (a
/// `HeadBucket` of the evidence bucket) and the store it names.
pub fn store_date(stores: &crate::stores::Stores) -> Result<(OffsetDateTime, String)> {
    let header = Arc::new(Mutex::new(None));
    let s3 = stores.s3()?;
    let rt = lz_platform::aws::runtime()?;
    let at = format!("s3://{} at {}", stores.evidence_bucket, stores.endpoint);
    rt.block_on(async { s3.head_bucket().bucket(&stores.evidence_bucket).customize().interceptor(DateHeader(header.clone())).send().await })
        .map_err(crate::aws_error)
        .with_context(|| format!("reading the server time of the evidence store {at}"))?;
    let date = header.lock().expect("not poisoned").clone().with_context(|| format!("the answer of the evidence store {at} carries no Date header"))?;
    Ok((parse_http_date(&date)?, at))
}

#[derive(Debug, Default)]
pub(crate) struct DateHeader(pub(crate) Arc<Mutex<Option<String>>>);

impl aws_sdk_sts::config::Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "server-date"
    }

    fn read_after_transmit(
        &self,
        context: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_sts::config::RuntimeComponents,
        _cfg: &mut aws_sdk_sts::config::ConfigBag,
    ) -> std::result::Result<(), aws_sdk_sts::error::BoxError> {
        if let Some(d) = context.response().headers().get("date") {
            *self.0.lock().expect("not poisoned") = Some(d.to_string());
        }
        Ok(())
    }
}

/// Parses an HTTP date (IMF-fixdate, `Fri, 27 Nov 2026 05:00:03 GMT`).
pub fn parse_http_date(s: &str) -> Result<OffsetDateTime> {
    use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};
    let d = DateTime::from_str(s.trim(), DateTimeFormat::HttpDate)
        .with_context(|| format!("{s:?} is not an HTTP date"))?;
    OffsetDateTime::from_unix_timestamp(d.secs()).with_context(|| format!("{s:?} is out of range"))
}
