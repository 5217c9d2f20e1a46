//! Break-glass: a signed request for time-boxed permission to promote outside the normal path
//! (TTL at most 240 minutes), usable only once a second person has approved it, followed within
//! 24 hours by a retrospective signed by someone other than the requester and the author of
//! the release it was used for.

use std::path::Path;

use anyhow::{bail, Result};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_evidence::{RecordRef, Signer};
use time::{Duration, OffsetDateTime};

use crate::ledger::{BreakGlassDetails, Ledger, Record};
use lz_evidence::details::{BreakGlassApprovalDetails, RetrospectiveDetails};
use crate::refusal::refuse;
use crate::window::rfc3339;

pub use crate::chain::author_of;

pub const MAX_TTL_MINUTES: u32 = 240;
pub const RETROSPECTIVE_HOURS: i64 = 24;

/// A break-glass request as recorded, with its approvals and retrospective.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub sequence: u64,
    pub environment: String,
    pub opener: String,
    /// `None` when the session is not limited to one release.
    pub release: Option<String>,
    pub opened: OffsetDateTime,
    /// `opened` + the recorded TTL; `None` when the request names no valid TTL.
    pub expires: Option<OffsetDateTime>,
    /// Why the request can never be used (no or excessive TTL, expiry field disagreeing).
    pub defect: Option<String>,
    /// (approver, record, time) of approvals signed by persons.
    pub approvals: Vec<(String, u64, OffsetDateTime)>,
    /// (record, signer) of the first retrospective.
    pub retrospective: Option<(u64, String)>,
}

impl Session {
    pub fn covers(&self, release: &str) -> bool {
        self.release.as_deref().is_none_or(|r| r == release)
    }

    /// Ok when the session lets a promotion of a release authored by `author` through at
    /// `now`: valid TTL, approved by a person other than the requester and the author, open.
    pub fn usable(
        &self,
        author: Option<&str>,
        now: OffsetDateTime,
    ) -> std::result::Result<(), String> {
        if let Some(d) = &self.defect {
            return Err(format!("break-glass {} {d}", self.sequence));
        }
        let expires = self.expires.expect("no defect means an expiry");
        let approval = self
            .approvals
            .iter()
            .find(|(who, _, _)| who != &self.opener && Some(who.as_str()) != author);
        let Some((_, _, approved_at)) = approval else {
            return Err(format!(
                "break-glass {} by {} has no approval by a second person (`cargo xtask break-glass approve --id {} --as ID --key FILE --reason TEXT`)",
                self.sequence, self.opener, self.sequence
            ));
        };
        let from = self.opened.max(*approved_at);
        if now < from {
            return Err(format!(
                "break-glass {} is not open before {}",
                self.sequence,
                rfc3339(from)
            ));
        }
        if now >= expires {
            return Err(format!(
                "break-glass {} for {} expired at {}",
                self.sequence,
                self.environment,
                rfc3339(expires)
            ));
        }
        Ok(())
    }
}

/// Every break-glass request in the records, with its approvals and retrospective.
pub fn sessions(records: &[Record]) -> Vec<Session> {
    let mut out: Vec<Session> = Vec::new();
    for r in records {
        match r.kind {
            Kind::BreakGlass => {
                let d: Option<&BreakGlassDetails> = r.details.break_glass();
                let ttl = d.as_ref().and_then(|d| d.ttl_minutes);
                let (expires, defect) = match ttl {
                    None => (None, Some("names no TTL".to_string())),
                    Some(t) if t == 0 || t > MAX_TTL_MINUTES => (
                        None,
                        Some(format!(
                            "asks for {t} minutes, more than the {MAX_TTL_MINUTES} allowed"
                        )),
                    ),
                    Some(t) => {
                        let e = r.time + Duration::minutes(i64::from(t));
                        let stated = d.map(|d| d.expires.clone());
                        match stated {
                            Some(s) if s != rfc3339(e) => (
                                None,
                                Some(format!(
                                    "states expiry {s}, not its time plus its TTL ({})",
                                    rfc3339(e)
                                )),
                            ),
                            _ => (Some(e), None),
                        }
                    }
                };
                out.push(Session {
                    sequence: r.sequence,
                    environment: r.environment.clone().unwrap_or_default(),
                    opener: r.identity.clone(),
                    release: (r.release != GENESIS).then(|| r.release.clone()),
                    opened: r.time,
                    expires,
                    defect,
                    approvals: Vec::new(),
                    retrospective: None,
                });
            }
            Kind::BreakGlassApproval | Kind::Retrospective => {
                let Some(bg) = r.details.break_glass_sequence() else {
                    continue;
                };
                if let Some(s) = out
                    .iter_mut()
                    .find(|s| s.sequence == bg)
                {
                    if r.kind == Kind::BreakGlassApproval && r.signer.kind == "person" {
                        s.approvals.push((r.identity.clone(), r.sequence, r.time));
                    } else if r.kind == Kind::Retrospective
                        && s.retrospective.is_none()
                        && retrospective_signer_ok(records, s, &r.identity).is_ok()
                    {
                        s.retrospective = Some((r.sequence, r.identity.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Authors of the releases a session was for or was used to deploy.
fn authors_under(records: &[Record], s: &Session) -> Vec<String> {
    let mut releases: Vec<&str> = s.release.iter().map(String::as_str).collect();
    for r in records.iter().filter(|r| r.kind == Kind::Deployment) {
        if r.deployment().and_then(|d| d.break_glass) == Some(s.sequence) {
            releases.push(&r.release);
        }
    }
    releases
        .into_iter()
        .filter_map(|rel| author_of(records, rel).map(|a| a.identity.clone()))
        .collect()
}

/// The command that records the retrospective of break-glass `id`, with its required flags.
fn retrospective_command(id: u64) -> String {
    format!("`cargo xtask break-glass retrospective --id {id} --as ID --key FILE --ticket TICKET --outcome TEXT`")
}

fn retrospective_signer_ok(records: &[Record], s: &Session, signer: &str) -> Result<()> {
    if s.opener == signer {
        return Err(refuse!(
            "{signer} opened break-glass {} and cannot sign its retrospective (segregation of duties); someone else records it: {}",
            s.sequence,
            retrospective_command(s.sequence)
        ));
    }
    if authors_under(records, s).iter().any(|a| a == signer) {
        return Err(refuse!(
            "{signer} authored a release deployed under break-glass {} and cannot sign its retrospective (segregation of duties); someone else records it: {}",
            s.sequence,
            retrospective_command(s.sequence)
        ));
    }
    Ok(())
}

/// Records a break-glass request for `ttl_minutes` (at most 240) from `now`.
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
    now: impl Into<crate::clock::Reading>,
) -> Result<RecordRef> {
    let reading = now.into();
    let now = reading.time;
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
        .details(BreakGlassDetails {
            expires: rfc3339(expires),
            ttl_minutes: Some(ttl_minutes),
            scope: Some(if release.is_some() { "release" } else { "environment" }.into()),
            clock: Some(reading.source.clone()),
            ..Default::default()
        });
    ledger.append(Kind::BreakGlass, fields, signer)
}

/// Records a second person's approval of break-glass request `id`.
pub fn approve(
    ledger: &Ledger,
    signer: &Signer,
    id: u64,
    reason: &str,
    now: impl Into<crate::clock::Reading>,
) -> Result<RecordRef> {
    let reading = now.into();
    let now = reading.time;
    let records = ledger.records()?;
    let Some(s) = sessions(&records).into_iter().find(|s| s.sequence == id) else {
        bail!("record {id} is not a break-glass record");
    };
    if s.opener == signer.identity() {
        return Err(refuse!(
            "{} requested break-glass {id} and cannot approve it (a second person must: `cargo xtask break-glass approve --id {id} --as ID --key FILE --reason TEXT`)",
            s.opener
        ));
    }
    if let Some(d) = &s.defect {
        bail!("break-glass {id} {d}: it cannot be approved");
    }
    let release = s.release.clone().unwrap_or_else(|| GENESIS.to_string());
    let fields = Fields::new(release)
        .environment(&s.environment)
        .reason(reason)
        .at(now)
        .details(BreakGlassApprovalDetails { break_glass_sequence: id, clock: Some(reading.source.clone()), ..Default::default() });
    ledger.append(Kind::BreakGlassApproval, fields, signer)
}

/// Records the retrospective of session `id`, signed by someone other than its opener and
/// the authors of the releases it was used for.
pub fn retrospective(
    ledger: &Ledger,
    signer: &Signer,
    id: u64,
    ticket: &str,
    outcome: &str,
    now: impl Into<crate::clock::Reading>,
) -> Result<RecordRef> {
    let reading = now.into();
    let now = reading.time;
    let records = ledger.records()?;
    let Some(s) = sessions(&records).into_iter().find(|s| s.sequence == id) else {
        bail!("record {id} is not a break-glass record");
    };
    retrospective_signer_ok(&records, &s, signer.identity())?;
    if let Some((r, _)) = s.retrospective {
        return Err(refuse!("break-glass {id} already has a retrospective (record {r})"));
    }
    let release = s.release.clone().unwrap_or_else(|| GENESIS.to_string());
    let fields = Fields::new(release)
        .environment(&s.environment)
        .ticket(ticket)
        .at(now)
        .details(RetrospectiveDetails {
            break_glass_sequence: id,
            outcome: Some(outcome.into()),
            clock: Some(reading.source.clone()),
            ..Default::default()
        });
    ledger.append(Kind::Retrospective, fields, signer)
}

/// Sessions whose retrospective is overdue (more than 24 h after opening) at `now`; a
/// retrospective signed by the requester or an author does not count.
pub fn overdue(records: &[Record], now: OffsetDateTime) -> Vec<String> {
    sessions(records)
        .into_iter()
        .filter(|s| s.retrospective.is_none() && now > s.opened + Duration::hours(RETROSPECTIVE_HOURS))
        .map(|s| {
            format!(
                "break-glass {} in {} opened by {} at {} has no retrospective by someone other than its requester and the release author; it was due by {}: record one with `cargo xtask break-glass retrospective --id {} --as ID --key FILE --ticket TICKET --outcome TEXT`",
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
    // The gate is offline: it reads the verified cache that `cargo xtask evidence pull` keeps.
    let cache = crate::stores::evidence_cache(root);
    let mut f = lz_platform::Findings::default();
    let Some(ledger) = crate::ledger::cache_ledger(root)? else {
        return Ok(f);
    };
    for m in overdue(&ledger.records()?, now) {
        f.push("break-glass", Some(cache.clone()), None, m);
    }
    Ok(f)
}

/// The break-glass request `id` of the archive at `paths`.
pub fn find(paths: &crate::Paths, id: u64) -> Result<Session> {
    let ledger = paths.ledger()?;
    let records = ledger.records()?;
    match sessions(&records).into_iter().find(|s| s.sequence == id) {
        Some(s) => Ok(s),
        None => bail!("record {id} is not a break-glass record"),
    }
}
