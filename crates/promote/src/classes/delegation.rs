//! Delegations of approval classes (`cargo xtask delegate`): recording one under the checks
//! governance adds to the verifier's ([`delegate`]), and its revocation ([`revoke`]), each
//! judged by the governance in force in the environment ([`governance_of`]) at the bounded
//! clock's time.

use anyhow::Result;
use lz_evidence::record::Kind;
use time::OffsetDateTime;

/// The governance in force in `environment`: the release of its last admitted deployment, or
/// of its governance pin; with that release's digest.
pub fn governance_of(paths: &crate::Paths, environment: &str) -> Result<(crate::session::Governance, String)> {
    let records = crate::replay::admitted(paths)?;
    let release = match crate::session::last_deployment(&records, environment) {
        Some(d) => d.release.clone(),
        None => match crate::session::governance_pin(&records, environment) {
            Some(p) => p.release.clone(),
            None => return Err(crate::refusal::refuse!("{environment} has no governance trust root: nothing is deployed there and no governance pin exists")),
        },
    };
    let archive = paths.open_release(&release)?;
    Ok((crate::session::Governance::of(&archive)?, release))
}

/// A delegation to record: `delegate` may approve for `class` (of the governance in force in
/// `environment`) in the signer's stead from `from` until `until`.
pub struct Grant<'a> {
    pub environment: &'a str,
    pub class: &'a str,
    pub delegate: &'a str,
    pub from: OffsetDateTime,
    pub until: OffsetDateTime,
    pub reason: &'a str,
}

/// Records a delegation signed by `signer`, after the checks governance adds to the
/// verifier's: the class exists, the signer approves it in person, the delegate is eligible,
/// the period is within `max_delegation_days`. Time comes from the bounded clock.
pub fn delegate(paths: &crate::Paths, signer: &lz_evidence::Signer, g: &Grant, now: &crate::clock::Reading) -> Result<u64> {
    use crate::refusal::{refuse, refuse_if};
    let (gov, release) = governance_of(paths, g.environment)?;
    let ledger = paths.ledger()?;
    let register = ledger.identities();
    let now = crate::clock::bound(paths, register, gov.windows.max_clock_skew_minutes, now.clone())?;
    let classes = &gov.classes;
    let class = classes.class(g.class).ok_or_else(|| {
        refuse!(
            "{} has no approval class {:?} (classes: {})",
            g.environment,
            g.class,
            classes.classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let who = signer.identity();
    let me = register.get(who).ok_or_else(|| refuse!("identity {who} is not in the identities register"))?;
    refuse_if!(!class.in_person(me), "{who} does not approve class {} in person and cannot delegate it (no re-delegation)", class.name);
    let to = register.get(g.delegate).ok_or_else(|| refuse!("the delegate {} is not in the identities register", g.delegate))?;
    refuse_if!(
        !class.eligible(to),
        "{} (group {}) is not eligible for class {} (a person with the approver role of {})",
        g.delegate,
        to.group,
        class.name,
        class.groups.join(", ")
    );
    refuse_if!(g.from >= g.until, "the delegation's period is empty");
    refuse_if!(
        g.until - g.from > time::Duration::days(i64::from(classes.max_delegation_days)),
        "a delegation of class {} lasts at most {} days (governance of {}, release {})",
        class.name,
        classes.max_delegation_days,
        g.environment,
        crate::approval::short(&release)
    );
    let fields = lz_evidence::record::Fields::new(lz_evidence::record::GENESIS).at(now.time).reason(g.reason).details(
        lz_evidence::details::DelegationDetails {
            delegator: who.to_string(),
            delegate: g.delegate.to_string(),
            class: class.name.clone(),
            from: crate::window::rfc3339(g.from),
            until: crate::window::rfc3339(g.until),
            ..Default::default()
        },
    );
    Ok(ledger.append(Kind::Delegation, fields, signer)?.sequence)
}

/// Records the revocation of delegation `record`, signed by its delegator (the time bounded as
/// the governance of `environment` says).
pub fn revoke(paths: &crate::Paths, environment: &str, signer: &lz_evidence::Signer, record: u64, reason: &str, now: &crate::clock::Reading) -> Result<u64> {
    let (gov, _) = governance_of(paths, environment)?;
    let ledger = paths.ledger()?;
    let now = crate::clock::bound(paths, ledger.identities(), gov.windows.max_clock_skew_minutes, now.clone())?;
    let fields = lz_evidence::record::Fields::new(lz_evidence::record::GENESIS).at(now.time).reason(reason).details(
        lz_evidence::details::DelegationRevocationDetails { delegation_sequence: record, ..Default::default() },
    );
    Ok(ledger.append(Kind::DelegationRevocation, fields, signer)?.sequence)
}
