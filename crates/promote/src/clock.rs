//! The trusted clock of decisions: the time of the environment's own endpoint (the HTTP `Date`
//! header of an STS `GetCallerIdentity` response, read through the SDK), never the local clock
//! or an environment variable. Every decision record names the time and where it came from.
//!
//! A reading says whether its time is authenticated: STS over HTTPS at a real AWS endpoint
//! (`*.amazonaws.com`) is; anything else (plain-HTTP LocalStack, where a relay on the network
//! can rewrite the `Date` header) is not, and the record's `clock` detail says so. An
//! unauthenticated reading is bounded by a second, signed source ([`bound`]): the time of the
//! latest witnessed checkpoint of the evidence chain (signed by the audit function's witness,
//! `lz_evidence::witness`). A decision whose time runs more than `max_clock_skew_minutes`
//! (the governing release's `governance/change-windows.toml`) ahead of it, or behind it, is
//! refused; a time behind the chain's last record is refused when the record is appended.
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

pub use crate::reading::Reading;
#[cfg(any(test, feature = "test-clock"))]
use crate::reading::FIXED;

/// Whether `endpoint` is a real AWS endpoint reached over HTTPS (its answers are authenticated
/// by TLS): `https://<host>.amazonaws.com[:port][/...]`.
pub fn authenticated_endpoint(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("https://") else { return false };
    let host = rest.split(['/', ':', '?', '#']).next().unwrap_or("");
    !host.contains('@') && host.ends_with(".amazonaws.com")
}

/// `reading` checked against the evidence chain at `paths` (its register `register`) before a
/// decision rests on it. An authenticated reading is kept as it is. An unauthenticated one:
///
/// 1. is bounded by the latest witnessed checkpoint (a note signed by a witness of
///    `register`): refused when it runs more than `skew_minutes` ahead of the checkpoint's
///    time, or behind it; when nothing is witnessed yet, by the time of the chain's last
///    verified record instead (refused when it runs more than `skew_minutes` ahead of it; a
///    chain with no record cannot bound a time and is refused): fail closed;
/// 2. is checked against a second source, the `Date` header of the evidence store's S3
///    server ([`store_date`]): a disagreement of more than `skew_minutes` is refused.
///
/// The reading's source then says which bound applied. A local chain (sandboxes, never the
/// landing zone's) has neither witness nor S3 server: its readings stay unbounded, and say so.
/// Bounding an already bounded reading returns it as it is.
pub fn bound(
    paths: &crate::Paths,
    register: &lz_evidence::Identities,
    skew_minutes: u32,
    reading: Reading,
) -> Result<Reading> {
    if settled(&reading) {
        return Ok(reading);
    }
    let crate::ledger::EvidenceAt::S3(stores) = &paths.evidence else {
        return Ok(Reading { source: format!("{}; unbounded: a local chain has no witness", reading.source), bounded: true, ..reading });
    };
    let skew = time::Duration::minutes(i64::from(skew_minutes));
    let shown = |t: OffsetDateTime| crate::window::rfc3339(t);
    let bounded_by = match stores.witness()?.latest()? {
        Some(w) => {
            let note = lz_evidence::witness::parse(&w.note).with_context(|| format!("{}: not a witnessed checkpoint", w.source))?;
            if let Err(e) = note.witnesses(register) {
                return Err(crate::refusal::refuse!("the clock cannot be bounded: the {}: {e}", w.source));
            }
            let witnessed = lz_evidence::record::parse_time(&note.checkpoint.time)?;
            if reading.time > witnessed + skew {
                return Err(crate::refusal::refuse!(
                    "the time {} ({}) runs {} ahead of the latest witnessed checkpoint ({}, {}): more than the {skew_minutes} minutes `max_clock_skew_minutes` allows an unauthenticated clock; not deciding on it (if the checkpoint is only old, the witness co-signs a fresh one with `cargo xtask evidence witness --as ID --key FILE`)",
                    shown(reading.time),
                    reading.source,
                    reading.time - witnessed,
                    shown(witnessed),
                    w.source
                ));
            }
            if reading.time < witnessed - skew {
                return Err(crate::refusal::refuse!(
                    "the time {} ({}) is {} behind the latest witnessed checkpoint ({}, {}): more than the {skew_minutes} minutes `max_clock_skew_minutes` allows; not deciding on it",
                    shown(reading.time),
                    reading.source,
                    witnessed - reading.time,
                    shown(witnessed),
                    w.source
                ));
            }
            format!("within {skew_minutes} min of witnessed checkpoint {}", shown(witnessed))
        }
        None => {
            let records = paths.ledger()?.records()?;
            let Some(last) = records.iter().max_by_key(|r| r.sequence) else {
                return Err(crate::refusal::refuse!(
                    "the time {} ({}) cannot be bounded: nothing is witnessed yet and the evidence chain has no record; not deciding on it (the witness co-signs a checkpoint with `cargo xtask evidence witness --as ID --key FILE`)",
                    shown(reading.time),
                    reading.source
                ));
            };
            if reading.time > last.time + skew {
                return Err(crate::refusal::refuse!(
                    "the time {} ({}) runs {} ahead of the evidence chain's last record ({}, {}), and nothing is witnessed yet: more than the {skew_minutes} minutes `max_clock_skew_minutes` allows an unauthenticated clock; not deciding on it (the witness co-signs a checkpoint with `cargo xtask evidence witness --as ID --key FILE`)",
                    shown(reading.time),
                    reading.source,
                    reading.time - last.time,
                    last.sequence,
                    shown(last.time)
                ));
            }
            format!("nothing witnessed yet: within {skew_minutes} min of the chain's last record {} ({})", last.sequence, shown(last.time))
        }
    };
    let (store_time, store) = store_date(stores)?;
    let apart = if store_time > reading.time { store_time - reading.time } else { reading.time - store_time };
    if apart > skew {
        return Err(crate::refusal::refuse!(
            "the time {} ({}) disagrees by {apart} with the evidence store's server time {} (the Date header of {store}): more than the {skew_minutes} minutes `max_clock_skew_minutes` allows; one of the two answers was moved on the way, not deciding on it",
            shown(reading.time),
            reading.source,
            shown(store_time)
        ));
    }
    Ok(Reading {
        source: format!("{}; agrees with the Date of {store} within {skew_minutes} min; {bounded_by}", reading.source),
        bounded: true,
        ..reading
    })
}

/// [`bound`] with the register of the chain at `paths` and the `max_clock_skew_minutes` of
/// the governance in force for `environment` (the release of its last deployment, or its
/// governance pin; the default where neither exists or no environment is concerned).
pub fn bound_in(paths: &crate::Paths, environment: Option<&str>, reading: Reading) -> Result<Reading> {
    if settled(&reading) {
        return Ok(reading);
    }
    let ledger = paths.ledger()?;
    let mut skew = crate::window::DEFAULT_CLOCK_SKEW_MINUTES;
    if let Some(env) = environment {
        let snapshot = ledger.snapshot()?;
        let records = &snapshot.records;
        let governing = crate::session::last_deployment(&records, env)
            .or_else(|| crate::session::governance_pin(&records, env))
            .map(|r| r.release.clone());
        if let Some(release) = governing {
            skew = crate::session::Governance::of(&paths.open_release(&release)?)?.windows.max_clock_skew_minutes;
        }
    }
    bound(paths, ledger.identities(), skew, reading)
}

/// Whether `reading` needs no bound: authenticated, bounded already, or fixed (test builds).
fn settled(reading: &Reading) -> bool {
    #[cfg(any(test, feature = "test-clock"))]
    if reading.source == FIXED {
        return true;
    }
    reading.authenticated || reading.bounded
}

/// The decision time for `environment`: `clock` read and bounded by the evidence at `paths`
/// ([`bound_in`]). Every command that decides on the time takes it from here.
pub fn decide(paths: &crate::Paths, environment: Option<&str>, clock: &Clock) -> Result<Reading> {
    bound_in(paths, environment, clock.now()?)
}

pub use crate::server_date::{parse_http_date, store_date};
use crate::server_date::DateHeader;

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
                account_id: _,
                region,
            } => {
                let header = Arc::new(Mutex::new(None));
                // The harness as itself (any caller may ask STS who it is): lz_platform::reach.
                let sts = lz_platform::reach::base(endpoint, region)?.sts();
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
                let authenticated = authenticated_endpoint(endpoint);
                Ok(Reading {
                    time: parse_http_date(&date)?,
                    source: if authenticated {
                        format!("sts-date {endpoint} (authenticated: TLS to AWS)")
                    } else {
                        format!("sts-date {endpoint} (not authenticated: plain HTTP)")
                    },
                    authenticated,
                    bounded: false,
                })
            }
            #[cfg(any(test, feature = "test-clock"))]
            Clock::Fixed(t) => Ok(Reading {
                time: *t,
                source: FIXED.into(),
                authenticated: false,
                bounded: false,
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

    #[test]
    fn only_https_to_aws_is_authenticated() {
        use super::authenticated_endpoint as a;
        assert!(a("https://sts.eu-west-2.amazonaws.com"));
        assert!(a("https://sts.amazonaws.com:443/"));
        assert!(!a("http://sts.eu-west-2.amazonaws.com"), "plain HTTP");
        assert!(!a("http://127.0.0.1:4566"));
        assert!(!a("https://localhost.localstack.cloud:4566"));
        assert!(!a("https://sts.amazonaws.com.evil.example"));
        assert!(!a("https://user@sts.amazonaws.com"));
    }
}
