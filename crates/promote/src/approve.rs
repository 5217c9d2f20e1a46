//! Recording approvals: a person's approval of a session's plan ([`Session::approve`]: a
//! registered approver, not the author, in a group eligible for the change's tier, with the
//! approval classes it stands for) and the security group's approvals of the exceptions a
//! release carries ([`approve_exceptions`]). Time is the bounded clock's ([`crate::clock`]).

use anyhow::Result;
use lz_evidence::record::{Fields, Kind};
use lz_evidence::Signer;

use crate::approval::{self, short};
use crate::clock::Reading;
use crate::ledger::ApprovalDetails;
use crate::refusal::{refuse, refuse_if};
use crate::session::{exception_approval_fields, exception_digest, Session};
use crate::tier::Tier;
use crate::ledger::Record;
use crate::Paths;

/// `signer` approves every exception of `release` that names them as approver and that they
/// have not approved yet; returns (exception, record) per approval recorded now.
///
/// "Not approved yet" is checked twice: on the chain as read, and again by the append on exactly
/// the records before the sequence the approval takes ([`crate::ledger::Ledger::append_if`]).
/// The same approver in a second terminal, or a retried job, that records the same approval in
/// between makes this one a no-op, never a second record of it.
pub fn approve_exceptions(
    paths: &Paths,
    release: &str,
    signer: &Signer,
    now: &Reading,
) -> Result<Vec<(String, u64)>> {
    let now = &crate::clock::bound_in(paths, None, now.clone())?;
    let archive = paths.open_release(release)?;
    let register = lz_policy::Register::parse(
        &archive.text("governance/exceptions.toml")?,
        &archive.origin("governance/exceptions.toml"),
    )?;
    let ledger = paths.ledger()?;
    let snapshot = ledger.snapshot()?;
    let mut out = Vec::new();
    for e in register
        .exceptions
        .iter()
        .filter(|e| e.approver.as_deref() == Some(signer.identity()))
    {
        let entry = exception_digest(e);
        let done = |records: &[Record]| {
            records.iter().any(|r| {
                r.kind == Kind::ExceptionApproval
                    && r.release == archive.digest
                    && r.identity == signer.identity()
                    && r.details.exception_approval().is_some_and(|d| d.exception == e.id && d.entry.as_deref() == Some(entry.as_str()))
            })
        };
        if done(&snapshot.records) {
            continue;
        }
        #[cfg(feature = "test-hooks")]
        hooks::before_append();
        let fields = exception_approval_fields(&archive.digest, e, now.time, Some(now.source.clone()));
        let appended = ledger.append_if(Kind::ExceptionApproval, fields, signer, &|records| {
            if done(&records) {
                return Err(anyhow::Error::new(AlreadyRecorded));
            }
            Ok(())
        });
        match appended {
            Ok(r) => out.push((e.id.clone(), r.sequence)),
            Err(err) if err.downcast_ref::<AlreadyRecorded>().is_some() => {}
            Err(err) => return Err(err),
        }
    }
    Ok(out)
}

/// The approval an append was about to record is on the chain already (another writer's).
#[derive(Debug)]
struct AlreadyRecorded;

impl std::fmt::Display for AlreadyRecorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the same exception approval was recorded by another writer")
    }
}

impl std::error::Error for AlreadyRecorded {}

/// A pause between [`approve_exceptions`]' read of the chain and its append, so a test can have
/// another writer record the same approval there (only with `test-hooks`).
#[cfg(feature = "test-hooks")]
pub mod hooks {
    use std::cell::RefCell;

    thread_local! {
        static BEFORE_APPEND: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
    }

    /// Runs `f` once, at the next exception approval's append on this thread.
    pub fn at_next_exception_append(f: impl FnOnce() + 'static) {
        BEFORE_APPEND.with(|h| *h.borrow_mut() = Some(Box::new(f)));
    }

    pub(super) fn before_append() {
        if let Some(f) = BEFORE_APPEND.with(|h| h.borrow_mut().take()) {
            f();
        }
    }
}

impl Session {
    /// Records an approval of this release's plan by `signer`, after the checks that do not
    /// depend on other approvals: a registered person with the approver role, not the author,
    /// in a group eligible for the change's tier.
    pub fn approve(
        &self,
        signer: &Signer,
        reason: &str,
        ticket: Option<&str>,
        now: &Reading,
    ) -> Result<(lz_evidence::RecordRef, Tier)> {
        let now = &crate::clock::bound(&self.paths, self.identities(), self.governance.windows.max_clock_skew_minutes, now.clone())?;
        let who = signer.identity();
        let r = short(self.digest());
        approval::may_approve(who, Some(&self.author), self.digest()).map_err(|e| {
            refuse!(
                "{e}; another approver records it: `cargo xtask approve --release {r} --env {} --as APPROVER --key FILE --reason TEXT`",
                self.environment
            )
        })?;
        let id = self
            .identities()
            .get(who)
            .ok_or_else(|| refuse!("identity {who} is not in the identities register"))?;
        refuse_if!(
            id.kind != "person",
            "{who} is a workload identity: approvals are given by people"
        );
        refuse_if!(
            !id.has_role(lz_evidence::Role::Approver),
            "{who} does not have the approver role"
        );
        let tier = self.classify()?.tier;
        let req = self.requirement(tier);
        refuse_if!(
            !req.auto_approve && !req.groups.contains(&id.group),
            "{} is in group {}, which may not approve a {tier} change to {} (eligible: {})",
            id.name,
            id.group,
            self.environment,
            req.groups.join(", ")
        );
        // Approval classes (issue 31): the classes this approval stands for, and on what basis.
        let bases = self.class_bases(id, now.time)?;
        let mut fields = Fields::new(self.digest())
            .environment(&self.environment)
            .plan_digest(&self.plan_digest)
            .reason(reason)
            .at(now.time)
            .details(ApprovalDetails {
                decision: Some("approved".into()),
                tier: Some(tier.as_str().into()),
                group: Some(id.group.clone()),
                clock: Some(now.source.clone()),
                governance_release: Some(self.governed_by.release().into()),
                classes: (!bases.is_empty()).then_some(bases),
                ..Default::default()
            });
        if let Some(t) = ticket {
            fields = fields.ticket(t);
        }
        Ok((self.ledger.append(Kind::Approval, fields, signer)?, tier))
    }
}
