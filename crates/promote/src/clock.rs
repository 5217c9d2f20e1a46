//! The trusted clock of decisions: the time of the environment's own endpoint (the HTTP `Date`
//! header of an STS `GetCallerIdentity` response, read through the SDK), never the local clock
//! or an environment variable. Every decision record names the time and where it came from.
//!
//! A fixed clock exists only in test builds (`cfg(test)` or the `test-clock` feature, which
//! only the crate's own dev-dependency enables); the shipped `xtask` binary cannot construct
//! one, so no variable or flag moves the time a decision sees.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use time::OffsetDateTime;

/// Where decisions take "now" from.
#[derive(Clone, Debug)]
pub enum Clock {
    /// The server time of the STS endpoint of an environment's account.
    Server {
        endpoint: String,
        account_id: String,
        region: String,
    },
    /// A fixed time (test builds only).
    #[cfg(any(test, feature = "test-clock"))]
    Fixed(OffsetDateTime),
}

/// A reading of a clock: the time and its source, as decision records carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub time: OffsetDateTime,
    pub source: String,
}

#[derive(Debug, Default)]
struct DateHeader(Arc<Mutex<Option<String>>>);

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

impl Clock {
    /// The server clock of an environment's account.
    pub fn server(endpoint: &str, account_id: &str, region: &str) -> Clock {
        Clock::Server {
            endpoint: endpoint.to_string(),
            account_id: account_id.to_string(),
            region: region.to_string(),
        }
    }

    /// Reads the clock.
    pub fn now(&self) -> Result<Reading> {
        match self {
            Clock::Server {
                endpoint,
                account_id,
                region,
            } => {
                let header = Arc::new(Mutex::new(None));
                let sts = lz_platform::aws::sts(
                    endpoint,
                    lz_platform::aws::account_credentials(account_id),
                    region,
                );
                let rt = lz_platform::aws::runtime()?;
                let interceptor = DateHeader(header.clone());
                rt.block_on(async {
                    sts.get_caller_identity()
                        .customize()
                        .interceptor(interceptor)
                        .send()
                        .await
                })
                .map_err(crate::aws_error)
                .with_context(|| format!("reading the server time of {endpoint} (STS)"))?;
                let date = header
                    .lock()
                    .expect("not poisoned")
                    .clone()
                    .with_context(|| {
                        format!("the STS response of {endpoint} carries no Date header")
                    })?;
                Ok(Reading {
                    time: parse_http_date(&date)?,
                    source: format!("sts-date {endpoint}"),
                })
            }
            #[cfg(any(test, feature = "test-clock"))]
            Clock::Fixed(t) => Ok(Reading {
                time: *t,
                source: "fixed (test build)".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates() {
        let t = super::parse_http_date("Fri, 27 Nov 2026 05:00:03 GMT").unwrap();
        assert_eq!(crate::window::rfc3339(t), "2026-11-27T05:00:03Z");
        assert!(super::parse_http_date("yesterday").is_err());
    }
}
