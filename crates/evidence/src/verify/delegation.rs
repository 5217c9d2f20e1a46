//! Delegations of approval classes (issue 31), as the verifier judges them: a `delegation`
//! record is signed by its delegator (one key never writes another person's delegation), names
//! a registered person with the approver role as delegate, other than the delegator, for a
//! period of at most [`DELEGATION_MAX_DAYS`]; a delegate never re-delegates the class while a
//! delegation to them holds (chains are bounded), and no delegation closes a cycle. A
//! `delegation-revocation` names an earlier delegation and is signed by its delegator.
//!
//! Which classes exist, who may delegate them and the period governance allows are decisions
//! of the governing release (`lz_promote::classes`), which resolves delegations at approval
//! time and replays them at admission; the verifier holds every record to the rules above.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::Reason;
use crate::record::parse_time;
use crate::details::{ClassApproval, DelegationDetails, DelegationRevocationDetails};
use crate::identity::{Identities, Identity, Role};

/// Longest delegation any governance may allow, in days.
pub const DELEGATION_MAX_DAYS: i64 = 90;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Delegation {
    delegator: String,
    delegate: String,
    class: String,
    #[serde(with = "super::serial::nanos")]
    from: OffsetDateTime,
    #[serde(with = "super::serial::nanos")]
    until: OffsetDateTime,
    revoked: bool,
}

/// The delegations of a chain so far, by the sequence of their record.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Delegations(#[serde(with = "super::serial::sorted")] BTreeMap<u64, Delegation>);

/// The period of a delegation record, checked on its own: signed by the delegator, to another
/// person, from < until, at most [`DELEGATION_MAX_DAYS`], not ended when it is signed.
pub(crate) fn period(signer: &Identity, d: &DelegationDetails, time: OffsetDateTime) -> Result<(OffsetDateTime, OffsetDateTime), Reason> {
    let bad = |m: String| Err(Reason::Delegation(m));
    if d.delegator != signer.name {
        return bad(format!("the delegation names delegator {} but is signed by {}: only the delegator signs a delegation", d.delegator, signer.name));
    }
    if d.delegate == d.delegator {
        return bad(format!("{} delegates to themselves", d.delegate));
    }
    if d.class.trim().is_empty() {
        return bad("the delegation names no class".into());
    }
    let at = |key: &str, v: &str| parse_time(v).map_err(|_| Reason::Delegation(format!("{key} of a delegation is not an RFC 3339 time")));
    let (from, until) = (at("from", &d.from)?, at("until", &d.until)?);
    if from >= until {
        return bad(format!("the delegation's period is empty (from {} until {})", d.from, d.until));
    }
    if until - from > time::Duration::days(DELEGATION_MAX_DAYS) {
        return bad(format!("the delegation lasts more than {DELEGATION_MAX_DAYS} days (from {} until {})", d.from, d.until));
    }
    if until <= time {
        return bad(format!("the delegation ended ({}) before it was signed", d.until));
    }
    Ok((from, until))
}

impl Delegations {
    fn overlaps(a: &Delegation, from: OffsetDateTime, until: OffsetDateTime) -> bool {
        !a.revoked && a.from < until && from < a.until
    }

    /// Whether `to` reaches `target` through delegations of `class` that hold at some time of
    /// [from, until).
    fn reaches(&self, class: &str, to: &str, target: &str, from: OffsetDateTime, until: OffsetDateTime) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![to.to_string()];
        while let Some(n) = todo.pop() {
            if n == target {
                return true;
            }
            if !seen.insert(n.clone()) {
                continue;
            }
            for d in self.0.values().filter(|d| d.class == class && d.delegator == n && Self::overlaps(d, from, until)) {
                todo.push(d.delegate.clone());
            }
        }
        false
    }

    /// A delegation record at `seq`, after [`period`]: the delegate is a registered person
    /// with the approver role; it closes no cycle and re-delegates nothing.
    pub(crate) fn delegate(&mut self, seq: u64, register: &Identities, d: &DelegationDetails, time: OffsetDateTime, signer: &Identity) -> Result<(), Reason> {
        let (from, until) = period(signer, d, time)?;
        let bad = |m: String| Err(Reason::Delegation(m));
        match register.get(&d.delegate) {
            Some(id) if id.is_person() && id.has_role(Role::Approver) => {}
            Some(_) => return bad(format!("the delegate {} is not a person with the approver role", d.delegate)),
            None => return bad(format!("the delegate {:?} is not a registered identity", d.delegate)),
        }
        if self.reaches(&d.class, &d.delegate, &d.delegator, from, until) {
            return bad(format!(
                "delegating class {} from {} to {} closes a cycle: {} already holds it, directly or through others, from {}",
                d.class, d.delegator, d.delegate, d.delegator, d.delegate
            ));
        }
        if let Some((s, _)) = self.0.iter().find(|(_, x)| x.class == d.class && x.delegate == d.delegator && Self::overlaps(x, from, until)) {
            return bad(format!(
                "{} holds class {} by delegation (record {s}) and may not delegate it again (no re-delegation)",
                d.delegator, d.class
            ));
        }
        if let Some((s, _)) = self.0.iter().find(|(_, x)| x.class == d.class && x.delegator == d.delegate && Self::overlaps(x, from, until)) {
            return bad(format!(
                "{} delegated class {} (record {s}) and may not hold it by delegation as well (chains are one hop)",
                d.delegate, d.class
            ));
        }
        self.0.insert(
            seq,
            Delegation { delegator: d.delegator.clone(), delegate: d.delegate.clone(), class: d.class.clone(), from, until, revoked: false },
        );
        Ok(())
    }

    /// A revocation: of an earlier delegation, by its delegator, once.
    pub(crate) fn revoke(&mut self, r: &DelegationRevocationDetails, signer: &Identity) -> Result<(), Reason> {
        let at = r.delegation_sequence;
        let Some(d) = self.0.get_mut(&at) else {
            return Err(Reason::Delegation(format!("it revokes sequence {at}, which is no earlier delegation record")));
        };
        if d.delegator != signer.name {
            return Err(Reason::Delegation(format!("delegation {at} is {}'s: {} cannot revoke it", d.delegator, signer.name)));
        }
        if d.revoked {
            return Err(Reason::Delegation(format!("delegation {at} is revoked already")));
        }
        d.revoked = true;
        Ok(())
    }

    /// An approval's claim to stand for a class by delegation: the delegation record it names
    /// is one for this signer and class, from the delegator it names, holding at `time` and not
    /// revoked. Other bases depend on governance and are replayed at admission.
    pub(crate) fn check_claim(&self, c: &ClassApproval, signer: &str, time: OffsetDateTime) -> Result<(), Reason> {
        let bad = |m: String| Err(Reason::Delegation(m));
        match c.basis.as_str() {
            "in-person" | "on-call" => return Ok(()),
            "delegation" => {}
            other => return bad(format!("an approval for class {} names basis {other:?} (in-person, delegation or on-call)", c.class)),
        }
        let Some(at) = c.delegation else {
            return bad(format!("an approval for class {} by delegation names no delegation record", c.class));
        };
        let Some(d) = self.0.get(&at) else {
            return bad(format!("an approval for class {} names delegation {at}, which is no earlier delegation record", c.class));
        };
        if d.delegate != signer || d.class != c.class || c.delegator.as_deref() != Some(d.delegator.as_str()) {
            return bad(format!(
                "delegation {at} gives class {} from {} to {}, not class {} from {} to {signer}",
                d.class,
                d.delegator,
                d.delegate,
                c.class,
                c.delegator.as_deref().unwrap_or("-")
            ));
        }
        if d.revoked {
            return bad(format!("delegation {at} was revoked before this approval"));
        }
        if time < d.from || time >= d.until {
            return bad(format!("the approval is outside the period of delegation {at}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
