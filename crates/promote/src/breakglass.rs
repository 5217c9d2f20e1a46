//! Break-glass: a signed, time-boxed permission to promote outside the normal path, followed
//! within 24 hours by a retrospective signed by someone else.

use std::path::Path;

use anyhow::{bail, Result};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_evidence::{RecordRef, Signer};
use time::{Duration, OffsetDateTime};

use crate::ledger::{Ledger, Record};
use crate::window::rfc3339;

pub const MAX_TTL_MINUTES: u32 = 240;
pub const RETROSPECTIVE_HOURS: i64 = 24;

/// A break-glass session as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub sequence: u64,
    pub environment: String,
    pub opener: String,
    /// `None` when the session is not limited to one release.
    pub release: Option<String>,
    pub opened: OffsetDateTime,
    pub expires: OffsetDateTime,
    pub retrospective: Option<u64>,
}

impl Session {
    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        now >= self.opened && now < self.expires
    }

    pub fn covers(&self, release: &str) -> bool {
        self.release.as_deref().is_none_or(|r| r == release)
    }
}

/// Every break-glass session in the records, with its retrospective if one exists.
pub fn sessions(records: &[Record]) -> Vec<Session> {
    let mut out: Vec<Session> = Vec::new();
    for r in records {
        match r.kind {
            Kind::BreakGlass => {
                let expires = r
                    .detail_str("expires")
                    .and_then(|e| lz_evidence::record::parse_time(e).ok())
                    .unwrap_or(r.time);
                out.push(Session {
                    sequence: r.sequence,
                    environment: r.environment.clone().unwrap_or_default(),
                    opener: r.identity.clone(),
                    release: (r.release != GENESIS).then(|| r.release.clone()),
                    opened: r.time,
                    expires,
                    retrospective: None,
                });
            }
            Kind::Retrospective => {
                if let Some(seq) = r
                    .details
                    .get("break_glass_sequence")
                    .and_then(|v| v.as_u64())
                {
                    if let Some(s) = out.iter_mut().find(|s| s.sequence == seq) {
                        s.retrospective.get_or_insert(r.sequence);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Opens a session for `ttl_minutes` (at most 240) from `now`.
#[allow(clippy::too_many_arguments)]
pub fn open(
    ledger: &Ledger,
    signer: &Signer,
    environment: &str,
    account: &str,
    release: Option<&str>,
    ticket: &str,
    reason: &str,
    ttl_minutes: u32,
    now: OffsetDateTime,
) -> Result<RecordRef> {
    if ttl_minutes == 0 || ttl_minutes > MAX_TTL_MINUTES {
        bail!("a break-glass session lasts 1 to {MAX_TTL_MINUTES} minutes, not {ttl_minutes}");
    }
    let expires = now + Duration::minutes(i64::from(ttl_minutes));
    let fields = Fields::new(release.unwrap_or(GENESIS))
        .environment(environment)
        .account(account)
        .ticket(ticket)
        .reason(reason)
        .at(now)
        .detail("expires", rfc3339(expires))
        .detail("ttl_minutes", ttl_minutes)
        .detail(
            "scope",
            if release.is_some() {
                "release"
            } else {
                "environment"
            },
        );
    ledger.append(Kind::BreakGlass, fields, signer)
}

/// Records the retrospective of session `id`, signed by someone other than its opener.
pub fn retrospective(
    ledger: &Ledger,
    signer: &Signer,
    id: u64,
    ticket: &str,
    outcome: &str,
    now: OffsetDateTime,
) -> Result<RecordRef> {
    let records = ledger.records()?;
    let Some(s) = sessions(&records).into_iter().find(|s| s.sequence == id) else {
        bail!("record {id} is not a break-glass record");
    };
    if s.opener == signer.identity() {
        bail!(
            "{} opened break-glass {id} and cannot sign its retrospective (segregation of duties)",
            s.opener
        );
    }
    if let Some(r) = s.retrospective {
        bail!("break-glass {id} already has a retrospective (record {r})");
    }
    let release = s.release.clone().unwrap_or_else(|| GENESIS.to_string());
    let fields = Fields::new(release)
        .environment(&s.environment)
        .ticket(ticket)
        .at(now)
        .detail("break_glass_sequence", id)
        .detail("outcome", outcome);
    ledger.append(Kind::Retrospective, fields, signer)
}

/// Sessions whose retrospective is overdue (more than 24 h after opening) at `now`.
pub fn overdue(records: &[Record], now: OffsetDateTime) -> Vec<String> {
    sessions(records)
        .into_iter()
        .filter(|s| s.retrospective.is_none() && now > s.opened + Duration::hours(RETROSPECTIVE_HOURS))
        .map(|s| {
            format!(
                "break-glass {} in {} opened by {} at {} has no retrospective; it was due by {}: record one with `cargo xtask break-glass retrospective --id {}`",
                s.sequence,
                s.environment,
                s.opener,
                rfc3339(s.opened),
                rfc3339(s.opened + Duration::hours(RETROSPECTIVE_HOURS)),
                s.sequence
            )
        })
        .collect()
}

/// For `cargo xtask check`: break-glass sessions of the repository's evidence archive whose
/// retrospective is overdue at `now`.
pub fn open_break_glass_findings(
    root: &Path,
    now: OffsetDateTime,
) -> Result<lz_platform::Findings> {
    let paths = crate::Paths::for_root(root);
    let mut f = lz_platform::Findings::default();
    if !paths.evidence.exists() {
        return Ok(f);
    }
    let ledger = Ledger::open(&paths.identities, &paths.evidence)?;
    for m in overdue(&ledger.records()?, now) {
        f.push("break-glass", Some(paths.evidence.clone()), None, m);
    }
    Ok(f)
}
