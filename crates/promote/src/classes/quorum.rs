//! The approval classes of a session's change judged against its approvals: which classes the
//! change needs and how many approvals each still misses ([`statuses`], [`missing`]), the
//! refusal of an admission that misses one ([`check`], run by the gates and so by every
//! replay), and the bases an approval carries when it is recorded ([`Session::class_bases`]).
//! The register and the bases themselves are the parent module's ([`crate::classes`]).

use anyhow::Result;
use lz_evidence::details::ClassApproval;
use lz_evidence::record::Kind;
use time::OffsetDateTime;

use super::{basis, delegation_for, ClassStatus, ClassVote, Routing};
use crate::ledger::Record;
use crate::session::Session;

/// Every class `session`'s change needs, judged at `now` against the approvals of its plan in
/// the session's records; `Err` (a refusal) when a resource is routed nowhere.
pub fn statuses(session: &Session, deployer: Option<&str>, now: OffsetDateTime) -> Result<(Routing, Vec<ClassStatus>)> {
    let classes = &session.governance.classes;
    let classification = session.classify()?;
    let routing = classes.route(&session.class_diff()?, &classification);
    if !routing.unrouted.is_empty() {
        return Err(crate::refusal::refuse!(
            "release {} to {}: approval classes route no class to {}: a routing rule misses them (governance/approval-classes.toml)",
            crate::approval::short(session.digest()),
            session.environment,
            routing.unrouted.join(", ")
        ));
    }
    let register = session.identities();
    let approvals: Vec<&Record> = session
        .records
        .iter()
        .filter(|r| {
            r.kind == Kind::Approval
                && r.release == session.digest()
                && r.environment.as_deref() == Some(session.environment.as_str())
                && r.plan_digest.as_deref() == Some(session.plan_digest.as_str())
                && r.details.approval().is_some_and(|d| d.decision.as_deref() == Some("approved") && d.auto != Some(true))
        })
        .collect();
    let requested = session.records.iter().find(|r| r.sequence == session.author_record).map(|r| r.time);
    let mut out = Vec::new();
    for routed in &routing.classes {
        let class = classes.class(&routed.class).expect("routed classes are classes");
        let mut counted: Vec<ClassVote> = Vec::new();
        let mut not_counted = Vec::new();
        for r in &approvals {
            let who = &r.signer;
            let refused = if r.identity == session.author {
                Some(format!("{} authored the release", r.identity))
            } else if Some(r.identity.as_str()) == deployer {
                Some(format!("{} deploys the release", r.identity))
            } else if counted.iter().any(|c| c.identity == r.identity) {
                Some(format!("{} already counted", r.identity))
            } else {
                None
            };
            if let Some(w) = refused {
                not_counted.push(w);
                continue;
            }
            match basis(classes, class, &session.records, who, r.time, r.sequence) {
                Ok(b) => {
                    if let Some(end) = b.shift_until.as_deref().and_then(|e| lz_evidence::record::parse_time(e).ok()) {
                        if now >= end {
                            not_counted.push(format!("{} approved on call (record {}), and the shift ended at {}", r.identity, r.sequence, b.shift_until.as_deref().unwrap_or("")));
                            continue;
                        }
                    }
                    counted.push(ClassVote { identity: r.identity.clone(), sequence: r.sequence, time: crate::window::rfc3339(r.time), basis: b });
                }
                Err(w) => not_counted.push(format!("record {}: {w}", r.sequence)),
            }
        }
        let mut may_approve: Vec<String> = register
            .iter()
            .filter(|id| class.in_person(id) && id.name != session.author && Some(id.name.as_str()) != deployer)
            .map(|id| id.name.clone())
            .collect();
        for id in register.iter().filter(|id| class.eligible(id) && !class.in_person(id) && id.name != session.author) {
            if let Ok(h) = delegation_for(classes, class, &session.records, &id.name, now, u64::MAX) {
                may_approve.push(format!("{} (delegated by {}, record {})", id.name, h.delegator, h.record));
            }
        }
        let on_call = class.on_call(now);
        let mut status = ClassStatus {
            class: class.name.clone(),
            control: class.control.clone(),
            quorum: class.quorum,
            resources: routed.resources.clone(),
            counted,
            not_counted,
            may_approve,
            on_call: on_call.map(|(_, s, end)| (s.identity.clone(), crate::window::rfc3339(end))),
            escalate_to: None,
        };
        let overdue = requested.is_some_and(|t| now - t >= time::Duration::minutes(i64::from(class.target_minutes)));
        if status.missing() > 0 && overdue && !class.rota.is_empty() {
            let next = match on_call {
                Some((i, _, _)) => (i + 1) % class.rota.len(),
                None => 0,
            };
            status.escalate_to = Some(class.rota[next].identity.clone());
        }
        out.push(status);
    }
    Ok((routing, out))
}

/// The class requirements of an admission: `Ok` with the statuses when every class has its
/// quorum, the refusal naming each missing class otherwise (with who may approve and who is
/// on call). Called by [`Session::admit`] after the tier's approvals, and so by every replay.
pub fn check(session: &Session, deployer: &str, now: OffsetDateTime) -> Result<Vec<ClassStatus>> {
    let (_, statuses) = statuses(session, Some(deployer), now)?;
    let missing: Vec<String> = statuses
        .iter()
        .filter(|s| s.missing() > 0)
        .map(|s| {
            format!(
                "class {} ({}) needs {} more approval(s) [{}]; may approve: {}; on call: {}{}",
                s.class,
                s.control,
                s.missing(),
                s.not_counted.join("; "),
                if s.may_approve.is_empty() { "nobody".to_string() } else { s.may_approve.join(", ") },
                s.on_call.as_ref().map(|(w, u)| format!("{w} until {u}")).unwrap_or_else(|| "nobody".into()),
                s.escalate_to.as_ref().map(|e| format!("; escalate to {e}")).unwrap_or_default()
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(crate::refusal::refuse!(
            "release {} to {}: {}",
            crate::approval::short(session.digest()),
            session.environment,
            missing.join("; ")
        ));
    }
    Ok(statuses)
}

/// For `classify` and `promote --dry-run`: per class still missing approvals, who may approve
/// and who is on call at `now` (a reading of the bounded clock), with escalation.
pub fn missing(session: &Session, now: OffsetDateTime) -> Result<Vec<ClassStatus>> {
    Ok(statuses(session, None, now)?.1.into_iter().filter(|s| s.missing() > 0).collect())
}

/// [`missing`] at a reading of the environment's clock, bounded first ([`crate::clock::bound`]):
/// what `classify` shows.
pub fn missing_now(session: &Session, now: &crate::clock::Reading) -> Result<(Vec<ClassStatus>, crate::clock::Reading)> {
    let now = crate::clock::bound(&session.paths, session.identities(), session.governance.windows.max_clock_skew_minutes, now.clone())?;
    Ok((missing(session, now.time)?, now))
}

impl Session {
    /// The class bases an approval by `who` at `t` carries: one per routed class it stands for.
    /// `Err` (a refusal) when a resource is routed nowhere.
    pub fn class_bases(&self, who: &lz_evidence::Identity, t: OffsetDateTime) -> Result<Vec<ClassApproval>> {
        let classes = &self.governance.classes;
        let routing = classes.route(&self.class_diff()?, &self.classify()?);
        if !routing.unrouted.is_empty() {
            return Err(crate::refusal::refuse!(
                "approval classes route no class to {}: a routing rule misses them (governance/approval-classes.toml)",
                routing.unrouted.join(", ")
            ));
        }
        let mut out = Vec::new();
        for r in &routing.classes {
            let class = classes.class(&r.class).expect("routed classes are classes");
            if let Ok(b) = basis(classes, class, &self.records, who, t, u64::MAX) {
                out.push(b);
            }
        }
        Ok(out)
    }
}
