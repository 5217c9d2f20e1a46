//! Server time: the `Date` header of an AWS (or LocalStack) answer, read through the SDK. The
//! trusted clock ([`crate::clock`]) reads it from STS; the evidence store's S3 server gives the
//! second source of time, and the age of a witness note is judged against it
//! ([`crate::verified`]). A leaf: it reads no chain.
//!
//! Within one command ([`crate::command::Command`]) the store's server time is read once: the
//! voucher's age check and every bound of the decision clock ([`crate::clock::bound`]) take that
//! one reading, advanced by the time elapsed since on the process's monotonic clock (a
//! duration, which nothing outside the process can move; the local time of day is never read).
//! Outside a command every call reads it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use anyhow::{Context, Result};
use time::OffsetDateTime;

/// The second source of time: the `Date` header of the evidence store's S3 server (a
/// `HeadBucket` of the evidence bucket) and the store it names. Read once per command (see the
/// module): a later call of the same command gets that reading plus the whole seconds elapsed
/// since it was taken.
pub fn store_date(stores: &crate::stores::Stores) -> Result<(OffsetDateTime, String)> {
    let Some(epoch) = crate::command::epoch() else { return read(stores) };
    let key = (epoch, shown(stores));
    if let Some((time, at, taken)) = readings().lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned() {
        let elapsed = i64::try_from(taken.elapsed().as_secs()).context("a command running for longer than time can count")?;
        return Ok((time + time::Duration::seconds(elapsed), at));
    }
    let (time, at) = read(stores)?;
    let mut readings = readings().lock().unwrap_or_else(|e| e.into_inner());
    readings.retain(|(e, _), _| *e == epoch);
    readings.insert(key, (time, at.clone(), Instant::now()));
    Ok((time, at))
}

type Readings = HashMap<(u64, String), (OffsetDateTime, String, Instant)>;

/// Forgets the command's readings of `stores`, or of every store with `None` (tests and
/// benchmarks, standing for a new process): the next call reads the server time again.
pub(crate) fn forget(stores: Option<&crate::stores::Stores>) {
    let shown = stores.map(shown);
    readings().lock().unwrap_or_else(|e| e.into_inner()).retain(|(_, at), _| shown.as_ref().is_some_and(|s| s != at));
}

/// The server time read by the command in progress, per store: the time, the store, and when
/// it was read (monotonic).
fn readings() -> &'static Mutex<Readings> {
    static READINGS: OnceLock<Mutex<Readings>> = OnceLock::new();
    READINGS.get_or_init(Default::default)
}

// Server-time requests made on this thread, for tests that count them (`count_store_date_reads`).
#[cfg(feature = "test-hooks")]
thread_local! {
    static READS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The `HeadBucket` requests for the evidence store's server time made on this thread so far
/// (always zero without `test-hooks`).
pub fn count_store_date_reads() -> u64 {
    #[cfg(feature = "test-hooks")]
    return READS.with(|c| c.get());
    #[cfg(not(feature = "test-hooks"))]
    0
}

/// The evidence store as a server time names it.
fn shown(stores: &crate::stores::Stores) -> String {
    format!("s3://{} at {}", stores.evidence_bucket, stores.endpoint)
}

/// One `HeadBucket` of the evidence bucket: its `Date` header.
fn read(stores: &crate::stores::Stores) -> Result<(OffsetDateTime, String)> {
    #[cfg(feature = "test-hooks")]
    READS.with(|c| c.set(c.get() + 1));
    let header = Arc::new(Mutex::new(None));
    let s3 = stores.s3()?;
    let rt = lz_platform::aws::runtime()?;
    let at = shown(stores);
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
