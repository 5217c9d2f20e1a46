//! Evidence records: in-toto Statement v1 with one predicate type per kind, and typed
//! builders for each kind.

use std::fmt;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::details::*;
use crate::dsse::sha256_hex;
use crate::redact;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_PREFIX: &str = "https://landing-zone.example/evidence/";
/// `previous` of the first record of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Plan,
    PolicyEvaluation,
    Exception,
    Approval,
    Deployment,
    Drift,
    BreakGlass,
    Retrospective,
    /// Signed authorship of a release digest (`release build`), signed by the author.
    Release,
    /// A signed statement of the chain head: sequence and hash of an earlier record.
    Checkpoint,
    /// A second person approving a break-glass request.
    BreakGlassApproval,
    /// Pins the governance (trust root) of an environment at bootstrap.
    GovernancePin,
    /// A proposed identities register, in full. Record 0 of a chain (the genesis register,
    /// pinned by the verifier) is in force at once; any later proposal only once a quorum of the
    /// security group has approved it (`register-approval`).
    RegisterChange,
    /// Signed approval of one entry of the exceptions register.
    ExceptionApproval,
    // -- drift remediation (lane report) --
    /// What `drift --remediate` restored, left to the control owner or escalated.
    DriftRemediation,
    // Secret rotation (issue 15): the four-step rotation of one secret, and its verification.
    /// A secret rotated (or rolled back) by the rotation identity; never the value.
    Rotation,
    /// The post-rotation verification of a secret: consumers, stages, stale references.
    RotationVerification,
    /// One security approver's approval of a proposed register (`register-change`); the
    /// approval that reaches the register's quorum puts the proposal in force.
    RegisterApproval,
    // Crash-safe promotion (issue 35).
    /// An orphaned Terraform state lock released by `promote --recover`: the lock id and the
    /// dead run that held it.
    LockRecovery,
    // Staged module adoption (issue 32).
    /// One service of one environment moved from one module version to another (a wave of a
    /// rollout, or a rollback naming the adoption it reverses), with the release, approvals and
    /// deployment behind it.
    Adoption,
    // Approval classes (issue 31).
    /// A delegation of one approval class, signed by the delegator, for a bounded period.
    Delegation,
    /// The revocation of a delegation, signed by its delegator.
    DelegationRevocation,
}

impl Kind {
    pub const ALL: [Kind; 22] = [
        Kind::Plan,
        Kind::PolicyEvaluation,
        Kind::Exception,
        Kind::Approval,
        Kind::Deployment,
        Kind::Drift,
        Kind::BreakGlass,
        Kind::Retrospective,
        Kind::Release,
        Kind::Checkpoint,
        Kind::BreakGlassApproval,
        Kind::GovernancePin,
        Kind::RegisterChange,
        Kind::ExceptionApproval,
        // -- drift remediation (lane report) --
        Kind::DriftRemediation,
        // Secret rotation (issue 15).
        Kind::Rotation,
        Kind::RotationVerification,
        Kind::RegisterApproval,
        // Crash-safe promotion (issue 35).
        Kind::LockRecovery,
        // Staged module adoption (issue 32).
        Kind::Adoption,
        // Approval classes (issue 31).
        Kind::Delegation,
        Kind::DelegationRevocation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Plan => "plan",
            Kind::PolicyEvaluation => "policy-evaluation",
            Kind::Exception => "exception",
            Kind::Approval => "approval",
            Kind::Deployment => "deployment",
            Kind::Drift => "drift",
            Kind::BreakGlass => "break-glass",
            Kind::Retrospective => "retrospective",
            Kind::Release => "release",
            Kind::Checkpoint => "checkpoint",
            Kind::BreakGlassApproval => "break-glass-approval",
            Kind::GovernancePin => "governance-pin",
            Kind::RegisterChange => "register-change",
            Kind::ExceptionApproval => "exception-approval",
            // -- drift remediation (lane report) --
            Kind::DriftRemediation => "drift-remediation",
            // Secret rotation (issue 15).
            Kind::Rotation => "rotation",
            Kind::RotationVerification => "rotation-verification",
            Kind::RegisterApproval => "register-approval",
            // Crash-safe promotion (issue 35).
            Kind::LockRecovery => "lock-recovery",
            // Staged module adoption (issue 32).
            Kind::Adoption => "adoption",
            // Approval classes (issue 31).
            Kind::Delegation => "delegation",
            Kind::DelegationRevocation => "delegation-revocation",
        }
    }

    pub fn predicate_type(self) -> String {
        format!("{PREDICATE_PREFIX}{}/v1", self.as_str())
    }

    pub fn from_predicate_type(uri: &str) -> Option<Kind> {
        let rest = uri.strip_prefix(PREDICATE_PREFIX)?.strip_suffix("/v1")?;
        Kind::ALL.into_iter().find(|k| k.as_str() == rest)
    }

    /// Kinds whose subject must name the plan as well as the release.
    pub fn needs_plan(self) -> bool {
        matches!(self, Kind::Plan | Kind::PolicyEvaluation | Kind::Approval | Kind::Deployment)
    }

    /// Kinds that concern one environment.
    pub fn needs_environment(self) -> bool {
        !matches!(
            self,
            Kind::Exception
                | Kind::Retrospective
                | Kind::Release
                | Kind::Checkpoint
                | Kind::RegisterChange
                | Kind::RegisterApproval
                | Kind::ExceptionApproval
                | Kind::Delegation
                | Kind::DelegationRevocation
        )
    }

    /// Details a record of this kind must carry (checked at append and by verification).
    pub fn required_details(self) -> &'static [&'static str] {
        match self {
            Kind::BreakGlass => &["expires"],
            Kind::Retrospective => &["break_glass_sequence"],
            Kind::Checkpoint => &["checkpoint_sequence", "checkpoint_hash"],
            Kind::BreakGlassApproval => &["break_glass_sequence"],
            Kind::GovernancePin => &["governance_sha256", "register_sha256"],
            Kind::RegisterChange => &["register", "register_sha256", "previous_register_sha256"],
            Kind::RegisterApproval => &["proposal_sequence", "register_sha256"],
            Kind::ExceptionApproval => &["exception", "owner", "created", "expires"],
            // Secret rotation (issue 15).
            Kind::Rotation => &["resource", "version", "outcome", "consumers"],
            Kind::RotationVerification => &["resource", "version", "outcome", "consumers"],
            // Crash-safe promotion (issue 35).
            Kind::LockRecovery => &["lock_id", "run", "lock"],
            // Staged module adoption (issue 32).
            Kind::Adoption => &["module", "service", "from", "to", "wave", "approvals", "deployment"],
            // Approval classes (issue 31).
            Kind::Delegation => &["delegator", "delegate", "class", "from", "until"],
            Kind::DelegationRevocation => &["delegation_sequence"],
            _ => &[],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind equals its name (`kind == "drift-remediation"`), as pages and tests name it.
impl PartialEq<&str> for Kind {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    pub digest: Digests,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Digests {
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChainLink {
    pub sequence: u64,
    pub previous: String,
}

/// The fields every predicate carries, followed by kind-specific details.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Predicate {
    pub chain: ChainLink,
    pub identity: String,
    pub time: String,
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Predicate,
}

impl Statement {
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_predicate_type(&self.predicate_type)
    }
}

pub fn is_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The first 12 characters of a digest (or of any text: never splits a character).
pub fn short(s: &str) -> &str {
    s.char_indices().nth(12).map(|(i, _)| &s[..i]).unwrap_or(s)
}

/// Now, in whole seconds (the one precision of every time the archive writes).
pub fn now_rfc3339() -> String {
    format_time(whole_seconds(OffsetDateTime::now_utc()))
}

/// `t` without its fraction of a second: the one precision of record times.
pub fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 is a valid nanosecond")
}

/// `t` in UTC as RFC 3339. A time RFC 3339 cannot write (a year past 9999 in UTC; [`parse_time`]
/// never returns one) is shown in the `time` crate's own form rather than panicking.
pub fn format_time(t: OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC).and_then(|u| u.format(&Rfc3339).ok()).unwrap_or_else(|| t.to_string())
}

/// The years a record's time may name, in UTC: any offset conversion of them (a change window's
/// local time, UTC for display) stays within what the `time` crate represents.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9998;

/// An RFC 3339 time, in UTC. A time outside [`YEARS`] once in UTC (`9999-12-31T23:59:59-01:00`
/// is year 10000) is an error, never a panic later.
pub fn parse_time(s: &str) -> Result<OffsetDateTime> {
    let t = OffsetDateTime::parse(s, &Rfc3339).with_context(|| format!("{s:?} is not an RFC 3339 time"))?;
    t.checked_to_offset(time::UtcOffset::UTC)
        .filter(|u| YEARS.contains(&u.year()))
        .with_context(|| format!("{s:?} is outside the years {}..={} in UTC", YEARS.start(), YEARS.end()))
}

/// What the caller supplies for a record; the archive adds identity, chain link and subject.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    pub release: String,
    pub environment: Option<String>,
    pub account: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub plan_digest: Option<String>,
    pub time: Option<OffsetDateTime>,
    /// Set through [`Fields::details`] (typed); raw keys only through [`Fields::raw_details_mut`].
    pub(crate) details: Map<String, Value>,
}

impl Fields {
    pub fn new(release: impl Into<String>) -> Fields {
        Fields { release: release.into(), ..Default::default() }
    }
    pub fn environment(mut self, v: impl Into<String>) -> Self {
        self.environment = Some(v.into());
        self
    }
    pub fn account(mut self, v: impl Into<String>) -> Self {
        self.account = Some(v.into());
        self
    }
    pub fn ticket(mut self, v: impl Into<String>) -> Self {
        self.ticket = Some(v.into());
        self
    }
    pub fn reason(mut self, v: impl Into<String>) -> Self {
        self.reason = Some(v.into());
        self
    }
    pub fn plan_digest(mut self, v: impl Into<String>) -> Self {
        self.plan_digest = Some(v.into());
        self
    }
    pub fn at(mut self, t: OffsetDateTime) -> Self {
        self.time = Some(t);
        self
    }
    /// The kind-specific details, typed ([`crate::details`]): the one way a writer sets them
    /// (they replace any set before).
    pub fn details(mut self, d: impl Into<Details>) -> Self {
        self.details = d.into().to_map();
        self
    }

    /// The details as they will be signed (a map keyed by field name), for reading only.
    pub fn details_map(&self) -> &Map<String, Value> {
        &self.details
    }

    /// The details as a raw map, for untyped input only: `evidence append --detail KEY=VALUE`
    /// (what an operator types) and tests that hand-craft hostile details. The archive parses
    /// them as the kind's typed details before it signs ([`crate::details`]) and refuses what
    /// does not parse, naming the field. Change-control code writes [`Fields::details`].
    pub fn raw_details_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.details
    }

    /// Checks the fields a record of `kind` needs; redacts secret-named details.
    pub(crate) fn validate(&mut self, kind: Kind) -> Result<()> {
        if !is_digest(&self.release) {
            bail!("release digest {:?} is not 64 lowercase hex digits", self.release);
        }
        if let Some(p) = &self.plan_digest {
            if !is_digest(p) {
                bail!("plan digest {p:?} is not 64 lowercase hex digits");
            }
        } else if kind.needs_plan() {
            bail!("a {kind} record needs a plan digest");
        }
        if kind.needs_environment() && self.environment.is_none() {
            bail!("a {kind} record needs an environment");
        }
        if matches!(kind, Kind::BreakGlass | Kind::Exception) && (self.ticket.is_none() || self.reason.is_none()) {
            bail!("a {kind} record needs a ticket and a reason");
        }
        // Details that do not parse as the kind are refused, naming the field.
        Details::parse(kind, &self.details)?;
        const RESERVED: [&str; 9] =
            ["chain", "identity", "time", "release", "environment", "account", "ticket", "reason", "plan_digest"];
        if let Some(k) = self.details.keys().find(|k| RESERVED.contains(&k.as_str())) {
            bail!("detail {k:?} clashes with a common predicate field");
        }
        for (k, v) in self.details.iter_mut() {
            if k == "plan" {
                *v = redact::redact_plan(v);
            } else {
                redact::redact_secret_names(v);
                redact::redact_secret_values(v);
            }
        }
        Ok(())
    }
}

/// A typed builder for one kind of record.
pub trait EvidenceBuilder {
    fn kind(&self) -> Kind;
    fn into_fields(self) -> Result<Fields>;
}

/// A Terraform plan for an environment; the archive keeps a redacted copy.
pub struct PlanEvidence {
    fields: Fields,
    plan: Value,
}

impl PlanEvidence {
    /// `plan_json` is the exact `terraform show -json` output; its sha256 is the plan digest.
    pub fn from_bytes(release: &str, environment: &str, account: &str, plan_json: &[u8]) -> Result<PlanEvidence> {
        let plan: Value = serde_json::from_slice(plan_json).context("plan is not JSON")?;
        Ok(PlanEvidence {
            fields: Fields::new(release).environment(environment).account(account).plan_digest(sha256_hex(plan_json)),
            plan,
        })
    }
    pub fn with(mut self, f: impl FnOnce(Fields) -> Fields) -> Self {
        self.fields = f(self.fields);
        self
    }
}

impl EvidenceBuilder for PlanEvidence {
    fn kind(&self) -> Kind {
        Kind::Plan
    }
    fn into_fields(self) -> Result<Fields> {
        let resources = redact::plan_resources(&self.plan);
        let summary = redact::summary(&resources);
        let changes: Vec<Value> = resources.iter().map(|(a, acts)| json!({"address": a, "actions": acts})).collect();
        let addresses: Vec<String> = resources.into_iter().map(|(a, _)| a).collect();
        Ok(self.fields.details(PlanDetails {
            resources: addresses,
            changes: Some(changes),
            summary: Some(summary),
            plan: Some(self.plan),
            ..Default::default()
        }))
    }
}

macro_rules! simple_builder {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        pub struct $name(pub Fields);
        impl $name {
            pub fn with(self, f: impl FnOnce(Fields) -> Fields) -> Self {
                $name(f(self.0))
            }
        }
        impl EvidenceBuilder for $name {
            fn kind(&self) -> Kind {
                $kind
            }
            fn into_fields(self) -> Result<Fields> {
                Ok(self.0)
            }
        }
    };
}

simple_builder!(
    /// The outcome of evaluating the policy bundle on a plan.
    PolicyEvaluationEvidence,
    Kind::PolicyEvaluation
);
simple_builder!(
    /// An approved exception to a policy.
    ExceptionEvidence,
    Kind::Exception
);
simple_builder!(
    /// Approval of a plan for an environment.
    ApprovalEvidence,
    Kind::Approval
);
simple_builder!(
    /// An applied (or failed) deployment.
    DeploymentEvidence,
    Kind::Deployment
);
simple_builder!(
    /// A drift check of an environment.
    DriftEvidence,
    Kind::Drift
);
simple_builder!(
    /// Emergency access outside the normal promotion path.
    BreakGlassEvidence,
    Kind::BreakGlass
);
simple_builder!(
    /// Review after a break-glass or an incident.
    RetrospectiveEvidence,
    Kind::Retrospective
);
simple_builder!(
    /// Signed authorship of a release digest.
    ReleaseEvidence,
    Kind::Release
);
simple_builder!(
    /// A signed statement of the chain head at an earlier record.
    CheckpointEvidence,
    Kind::Checkpoint
);
simple_builder!(
    /// A second person's approval of a break-glass request.
    BreakGlassApprovalEvidence,
    Kind::BreakGlassApproval
);
simple_builder!(
    /// The governance pinned for an environment at bootstrap.
    GovernancePinEvidence,
    Kind::GovernancePin
);
simple_builder!(
    /// A proposed identities register (in force at once only as a chain's genesis).
    RegisterChangeEvidence,
    Kind::RegisterChange
);
simple_builder!(
    /// A security approver's approval of a proposed register.
    RegisterApprovalEvidence,
    Kind::RegisterApproval
);
simple_builder!(
    /// Approval of one entry of the exceptions register.
    ExceptionApprovalEvidence,
    Kind::ExceptionApproval
);
// -- drift remediation (lane report) --
simple_builder!(
    /// What a drift remediation restored, left to the control owner or escalated.
    DriftRemediationEvidence,
    Kind::DriftRemediation
);

impl PolicyEvaluationEvidence {
    pub fn new(release: &str, environment: &str, plan_digest: &str, policy_bundle: &str, passed: bool, findings: Vec<Value>) -> Self {
        PolicyEvaluationEvidence(
            Fields::new(release)
                .environment(environment)
                .plan_digest(plan_digest)
                .details(PolicyEvaluationDetails {
                    policy_bundle: Some(policy_bundle.into()),
                    passed: Some(passed),
                    findings: Some(findings),
                    ..Default::default()
                }),
        )
    }
}

impl ExceptionEvidence {
    pub fn new(release: &str, exception_id: &str, policy: &str, resource: &str, expires: &str, ticket: &str, reason: &str) -> Self {
        ExceptionEvidence(
            Fields::new(release)
                .ticket(ticket)
                .reason(reason)
                .details(ExceptionDetails {
                    exception: Some(exception_id.into()),
                    policy: Some(policy.into()),
                    resource: Some(resource.into()),
                    expires: Some(expires.into()),
                    ..Default::default()
                }),
        )
    }
}

impl ApprovalEvidence {
    pub fn new(release: &str, environment: &str, plan_digest: &str, ticket: &str) -> Self {
        ApprovalEvidence(
            Fields::new(release).environment(environment).plan_digest(plan_digest).ticket(ticket).details(ApprovalDetails {
                decision: Some("approved".into()),
                ..Default::default()
            }),
        )
    }
}

impl DeploymentEvidence {
    pub fn new(release: &str, environment: &str, account: &str, plan_digest: &str, succeeded: bool, resources: Vec<String>) -> Self {
        DeploymentEvidence(
            Fields::new(release)
                .environment(environment)
                .account(account)
                .plan_digest(plan_digest)
                .details(DeploymentDetails {
                    outcome: if succeeded { "succeeded" } else { "failed" }.into(),
                    resources: Some(resources),
                    ..Default::default()
                }),
        )
    }
}

impl DriftEvidence {
    pub fn new(release: &str, environment: &str, account: &str, drifted: Vec<String>) -> Self {
        DriftEvidence(
            Fields::new(release)
                .environment(environment)
                .account(account)
                .details(DriftDetails { drifted: Some(!drifted.is_empty()), resources: Some(drifted), ..Default::default() }),
        )
    }
}

impl BreakGlassEvidence {
    pub fn new(release: &str, environment: &str, account: &str, ticket: &str, reason: &str, expires: &str) -> Self {
        BreakGlassEvidence(
            Fields::new(release)
                .environment(environment)
                .account(account)
                .ticket(ticket)
                .reason(reason)
                .details(BreakGlassDetails { expires: expires.into(), ..Default::default() }),
        )
    }
}

impl RetrospectiveEvidence {
    /// `break_glass` is the sequence number of the break-glass record reviewed.
    pub fn new(release: &str, break_glass: u64, ticket: &str, outcome: &str) -> Self {
        RetrospectiveEvidence(
            Fields::new(release).ticket(ticket).details(RetrospectiveDetails {
                break_glass_sequence: break_glass,
                outcome: Some(outcome.into()),
                ..Default::default()
            }),
        )
    }
}

impl ReleaseEvidence {
    /// Authorship of `release`; `manifest_sha256` is the sha256 of its manifest.
    pub fn new(release: &str, manifest_sha256: &str) -> Self {
        ReleaseEvidence(
            Fields::new(release).details(ReleaseDetails { manifest_sha256: Some(manifest_sha256.into()), ..Default::default() }),
        )
    }
}

impl CheckpointEvidence {
    /// Attests that record `sequence` of this chain has envelope hash `hash`.
    pub fn new(sequence: u64, hash: &str) -> Self {
        CheckpointEvidence(Fields::new(GENESIS).details(CheckpointDetails {
            checkpoint_sequence: sequence,
            checkpoint_hash: hash.into(),
            ..Default::default()
        }))
    }
}

impl BreakGlassApprovalEvidence {
    /// Approves the break-glass request recorded at `break_glass` (a sequence number).
    pub fn new(release: &str, environment: &str, break_glass: u64, ticket: &str) -> Self {
        BreakGlassApprovalEvidence(
            Fields::new(release)
                .environment(environment)
                .ticket(ticket)
                .details(BreakGlassApprovalDetails {
                    break_glass_sequence: break_glass,
                    decision: Some("approved".into()),
                    ..Default::default()
                }),
        )
    }
}

impl GovernancePinEvidence {
    /// Pins the governance of `environment` to that of `release` (digest of its governance
    /// files and of its identities register).
    pub fn new(release: &str, environment: &str, governance_sha256: &str, register_sha256: &str) -> Self {
        GovernancePinEvidence(
            Fields::new(release)
                .environment(environment)
                .details(GovernancePinDetails {
                    governance_sha256: governance_sha256.into(),
                    register_sha256: register_sha256.into(),
                    ..Default::default()
                }),
        )
    }
}

impl RegisterChangeEvidence {
    /// `register` is the full new text of `governance/identities.toml`; `previous` the sha256
    /// of the register it replaces ([`GENESIS`] for the register a chain starts with).
    pub fn new(release: &str, register: &str, previous: &str) -> Self {
        RegisterChangeEvidence(
            Fields::new(release).details(RegisterChangeDetails {
                register: register.into(),
                register_sha256: sha256_hex(register.as_bytes()),
                previous_register_sha256: previous.into(),
                ..Default::default()
            }),
        )
    }
}

impl RegisterApprovalEvidence {
    /// Approves the register proposed at `proposal_sequence`, whose text has sha256
    /// `register_sha256` (both must match the proposal, or verification rejects the approval).
    pub fn new(release: &str, proposal_sequence: u64, register_sha256: &str) -> Self {
        RegisterApprovalEvidence(
            Fields::new(release).details(RegisterApprovalDetails {
                proposal_sequence,
                register_sha256: register_sha256.into(),
                ..Default::default()
            }),
        )
    }
}

impl ExceptionApprovalEvidence {
    /// Approves entry `exception` of the exceptions register, owned by `owner`, created and
    /// expiring at the given RFC 3339 times or dates.
    pub fn new(release: &str, exception: &str, owner: &str, created: &str, expires: &str) -> Self {
        ExceptionApprovalEvidence(
            Fields::new(release).details(ExceptionApprovalDetails {
                exception: exception.into(),
                owner: owner.into(),
                created: created.into(),
                expires: expires.into(),
                decision: Some("approved".into()),
                ..Default::default()
            }),
        )
    }
}

// Secret rotation (issue 15): a rotation and its verification name the secret (`resource`, its
// name, never its value), the version ids, the consumer roles, the environment and the ticket.
simple_builder!(
    /// The rotation of one secret (four steps, or a rollback).
    RotationEvidence,
    Kind::Rotation
);
simple_builder!(
    /// The verification of a rotated secret by its consumers.
    RotationVerificationEvidence,
    Kind::RotationVerification
);

impl RotationEvidence {
    /// `resource` is the secret's name, `version` the version id made current (or rolled back
    /// from), `outcome` "rotated" or "rolled-back".
    pub fn new(release: &str, environment: &str, resource: &str, version: &str, outcome: &str, consumers: Vec<String>) -> Self {
        RotationEvidence(
            Fields::new(release)
                .environment(environment)
                .details(Details::Rotation(rotation_details(resource, version, outcome, consumers))),
        )
    }
}

impl RotationVerificationEvidence {
    /// `outcome` is "passed" or "failed".
    pub fn new(release: &str, environment: &str, resource: &str, version: &str, outcome: &str, consumers: Vec<String>) -> Self {
        RotationVerificationEvidence(
            Fields::new(release)
                .environment(environment)
                .details(Details::RotationVerification(rotation_details(resource, version, outcome, consumers))),
        )
    }
}

simple_builder!(
    /// An orphaned state lock released by the deployer (`promote --recover`).
    LockRecoveryEvidence,
    Kind::LockRecovery
);

impl LockRecoveryEvidence {
    /// `lock_id` is the Terraform lock released, `run` the dead promotion run that held it and
    /// `lock` the lock info as read from the backend.
    pub fn new(release: &str, environment: &str, lock_id: &str, run: &str, lock: Value) -> Self {
        LockRecoveryEvidence(
            Fields::new(release).environment(environment).details(LockRecoveryDetails {
                lock_id: lock_id.into(),
                run: run.into(),
                lock,
                ..Default::default()
            }),
        )
    }
}

/// The details both rotation kinds carry (`Kind::required_details`).
fn rotation_details(resource: &str, version: &str, outcome: &str, consumers: Vec<String>) -> RotationDetails {
    RotationDetails { resource: resource.into(), version: version.into(), consumers, outcome: outcome.into(), ..Default::default() }
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn a_time_past_year_9999_in_utc_is_an_error_never_a_panic() {
        // Year 10000 once in UTC: `to_offset` would panic on it, and RFC 3339 cannot write it.
        let err = parse_time("9999-12-31T23:59:59-01:00").unwrap_err();
        assert!(format!("{err:#}").contains("outside the years"), "{err:#}");
        assert!(parse_time("0000-01-01T00:30:00+01:00").is_err());
        // The same instant written with an offset reads as the UTC time.
        let t = parse_time("2026-12-07T20:00:00+01:00").unwrap();
        assert_eq!(t.offset(), time::UtcOffset::UTC);
        assert_eq!(format_time(t), "2026-12-07T19:00:00Z");
        // What RFC 3339 cannot write is shown, never a panic.
        let far = time::Date::from_calendar_date(9999, time::Month::December, 31).unwrap().with_hms(23, 0, 0).unwrap().assume_offset(time::UtcOffset::from_hms(-2, 0, 0).unwrap());
        assert!(!format_time(far).is_empty());
    }
}
