//! The kind-specific details of a record, one typed struct per kind ([`Details`]): the one
//! writer and the one reader of details, shared by every writer (`Fields::details`), the
//! archive's append check and the verifier.
//!
//! **Wire form.** Field names are the JSON keys records have always carried; a field that older
//! records lack is an `Option` (absent and `null` read the same, except `state_before`, whose
//! `null` means "there was no state": [`DeploymentDetails::state_before`]). `None` is written as
//! an absent key.
//!
//! **Malformed details.** Details that do not parse as their kind (a missing required field, a
//! field of the wrong type) are a [`DetailsError`] naming the field: the archive refuses to
//! append such a record, and verification rejects it as a `detail` failure naming the record's
//! sequence and the field. Nothing reads a detail by string key outside this module.
//!
//! **Unknown fields.** A field this module does not name is kept in `other` as it was signed,
//! shown by `query` and the report, and never read by a decision: every field a decision rests
//! on is a typed field here, so it can never be dropped silently nor read with a default
//! because it was mistyped. The archive's own fields on any kind (`append_id`, `quarantined`)
//! live in `other` and are read by the archive and by [`crate::quarantine`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::record::Kind;

/// The common predicate fields (never details).
pub const COMMON: [&str; 9] = ["chain", "identity", "time", "release", "environment", "account", "ticket", "reason", "plan_digest"];

/// Details that do not parse as their kind: the field (when one is to blame) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailsError {
    pub kind: Kind,
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for DetailsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "malformed details of a {} record: field {field:?}: {}", self.kind, self.message),
            None => write!(f, "malformed details of a {} record: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for DetailsError {}

/// `Some(None)` for an explicit `null`, `None` for an absent key.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The engine a deployment ran with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// `stacks/canary`: the provider-free stand-in, where hashicorp/aws is not installed.
    Canary,
    /// The release's `environments/` root applied with the real hashicorp/aws provider.
    Terraform,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Canary => "canary",
            Engine::Terraform => "terraform",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! details_struct {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
            /// Fields this version does not name (see the module documentation).
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }
    };
}

details_struct!(
    /// A Terraform plan (redacted copy, resources and changes).
    PlanDetails {
        #[serde(default)]
        resources: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        changes: Option<Vec<Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<Value>,
    }
);

details_struct!(
    /// The policy identity's evaluation of a plan.
    PolicyEvaluationDetails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_bundle: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passed: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        findings: Option<Vec<Value>>,
        /// `{"id", "approval"}` per exception applied.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exceptions: Option<Vec<Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// An exception to a policy.
    ExceptionDetails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exception: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    }
);

details_struct!(
    /// Approval of a plan for an environment (by a person, or automatic by the policy identity).
    ApprovalDetails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        /// `true` on the policy identity's automatic approval (the only approval a workload signs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        governance_release: Option<String>,
        /// Approval classes (issue 31) this approval stands for, resolved when it was given:
        /// class, control, and whether in person, by delegation or on call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<Vec<ClassApproval>>,
    }
);

/// How one approval stands for one approval class (issue 31).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassApproval {
    pub class: String,
    /// The control of the class the approval stands for.
    pub control: String,
    /// `in-person`, `delegation` or `on-call`.
    pub basis: String,
    /// The delegator, and the delegation record, of a delegated approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<u64>,
    /// The end of the on-call shift of an approval given on call (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_until: Option<String>,
}

details_struct!(
    /// A delegation of one approval class (issue 31), signed by the delegator: the delegate may
    /// approve for the class in the delegator's stead from `from` until `until` (RFC 3339).
    DelegationDetails {
        delegator: String,
        delegate: String,
        class: String,
        from: String,
        until: String,
    }
);

details_struct!(
    /// The revocation of a delegation record (issue 31), signed by its delegator.
    DelegationRevocationDetails {
        delegation_sequence: u64,
    }
);

details_struct!(
    /// A deployment: its `in-progress` decision point, and the record that closes the run
    /// (`succeeded`, `failed`, `no-changes`, `recovered`).
    DeploymentDetails {
        /// Absent in a record reads as empty: an outcome no decision counts.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resources: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<String>,
        /// Which engine applied (absent in records older than the field; an unknown engine is
        /// malformed details). The verifier holds a run's closing record to its decision's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        engine: Option<Engine>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        governance_release: Option<String>,
        /// The policy evaluation record the admission used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_evaluation: Option<u64>,
        /// The state the run started from: `Some(None)` (`null`) when there was none yet, `None`
        /// when the record does not say.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        state_before: Option<Option<Value>>,
        /// The break-glass record the admission used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        break_glass: Option<u64>,
        /// The approval records the admission used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approvals: Option<Vec<u64>>,
        /// The `in-progress` record (the decision point) this record closes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_progress_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bake_seconds: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_serial: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_lineage: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        completes_run: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        completes_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovery: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovers_run: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovers_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lock: Option<Value>,
    }
);

details_struct!(
    /// A drift check of an environment (or the drift a remediation found).
    DriftDetails {
        /// `Some(false)` is a clean check; absent is never read as clean.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drifted: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resources: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terraform_changes: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        canary_changes: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        findings: Option<Value>,
        /// The deployment whose state was judged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deployment_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan_output_digest: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_serial: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_lineage: Option<String>,
    }
);

details_struct!(
    /// A break-glass request.
    BreakGlassDetails {
        /// RFC 3339 end of the session.
        expires: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_minutes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// The source of the decision time (crate `lz-promote` clock).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// The review of a break-glass session.
    RetrospectiveDetails {
        break_glass_sequence: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// Authorship of a release digest.
    ReleaseDetails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manifest_sha256: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// A signed statement of an earlier record's hash.
    CheckpointDetails {
        checkpoint_sequence: u64,
        checkpoint_hash: String,
    }
);

details_struct!(
    /// A second person's approval of a break-glass request.
    BreakGlassApprovalDetails {
        break_glass_sequence: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// The governance pinned for an environment at bootstrap.
    GovernancePinDetails {
        governance_sha256: String,
        register_sha256: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
        /// What `bootstrap --env` (or `--stores`) applied with this record's release: the
        /// buckets and role it configured (absent on a pin that acted on nothing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        applied: Option<Vec<String>>,
        /// sha256 of the settings applied (the JSON of the bucket and role specifications).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settings_sha256: Option<String>,
        /// On a later bootstrap's record: the pin that stands (the first pin of an environment
        /// stands; this record only says what was applied, with the release governing then).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        standing_pin: Option<u64>,
    }
);

details_struct!(
    /// A proposed identities register, in full.
    RegisterChangeDetails {
        register: String,
        register_sha256: String,
        previous_register_sha256: String,
    }
);

details_struct!(
    /// A security approver's approval of a proposed register.
    RegisterApprovalDetails {
        proposal_sequence: u64,
        register_sha256: String,
    }
);

details_struct!(
    /// Approval of one entry of the exceptions register.
    ExceptionApprovalDetails {
        exception: String,
        owner: String,
        created: String,
        expires: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<String>,
        /// The digest of the register entry approved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// What a drift remediation restored, left to the control owner or escalated.
    DriftRemediationDetails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drift_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recheck_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recheck_error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deployment_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remediated: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manual: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalated: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        still_drifted: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owners: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes_sha256: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

details_struct!(
    /// A secret rotated or rolled back (`rotation`), or its verification by its consumers
    /// (`rotation-verification`): the secret's name (never its value), Secrets Manager's version
    /// ids and their creation dates.
    RotationDetails {
        resource: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arn: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classification: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner_group: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_age_days: Option<u32>,
        version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version_created: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_version_created: Option<String>,
        consumers: Vec<String>,
        /// `rotated` / `rolled-back` (rotation), `passed` / `failed` (verification).
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
        // rotation-verification
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checks: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problems: Option<Vec<String>>,
        // rotation
        #[serde(default, skip_serializing_if = "Option::is_none")]
        steps: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resumed: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verification_sequence: Option<u64>,
    }
);

details_struct!(
    /// An orphaned state lock released by `promote --recover`.
    LockRecoveryDetails {
        lock_id: String,
        run: String,
        lock: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_progress_record: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovered_by_run: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<String>,
    }
);

details_struct!(
    /// One service of one environment moved to another module version (issue 32): the wave of
    /// the version's rollout plan (1-based; 0 for a rollback), the approval records and the
    /// deployment record behind it, and for a rollback the adoption it reverses.
    AdoptionDetails {
        module: String,
        service: String,
        from: String,
        to: String,
        wave: u32,
        approvals: Vec<u64>,
        deployment: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wave_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollback_of: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<String>,
    }
);

macro_rules! kinds {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        /// The details of one record, by kind.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Details {
            $($variant($ty),)*
        }

        impl Details {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Details::$variant(_) => Kind::$variant,)*
                }
            }

            /// The details of a record of `kind` from its predicate's fields (common fields,
            /// when present, are not details and are ignored).
            pub fn parse(kind: Kind, map: &Map<String, Value>) -> Result<Details, DetailsError> {
                match kind {
                    $(Kind::$variant => parse_as::<$ty>(kind, map).map(Details::$variant),)*
                }
            }

            /// The wire form: what a record of this kind carries beside the common fields.
            pub fn to_map(&self) -> Map<String, Value> {
                match self {
                    $(Details::$variant(d) => to_map(d),)*
                }
            }

            /// Fields the verifier does not know (kept as signed, never decided on).
            pub fn other(&self) -> &Map<String, Value> {
                match self {
                    $(Details::$variant(d) => &d.other,)*
                }
            }
        }
    };
}

kinds!(
    Plan(PlanDetails),
    PolicyEvaluation(PolicyEvaluationDetails),
    Exception(ExceptionDetails),
    Approval(ApprovalDetails),
    Deployment(DeploymentDetails),
    Drift(DriftDetails),
    BreakGlass(BreakGlassDetails),
    Retrospective(RetrospectiveDetails),
    Release(ReleaseDetails),
    Checkpoint(CheckpointDetails),
    BreakGlassApproval(BreakGlassApprovalDetails),
    GovernancePin(GovernancePinDetails),
    RegisterChange(RegisterChangeDetails),
    ExceptionApproval(ExceptionApprovalDetails),
    DriftRemediation(DriftRemediationDetails),
    Rotation(RotationDetails),
    RotationVerification(RotationDetails),
    RegisterApproval(RegisterApprovalDetails),
    LockRecovery(LockRecoveryDetails),
    Adoption(AdoptionDetails),
    // Approval classes (issue 31).
    Delegation(DelegationDetails),
    DelegationRevocation(DelegationRevocationDetails),
);

macro_rules! from_struct {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        $(impl From<$ty> for Details {
            fn from(d: $ty) -> Details {
                Details::$variant(d)
            }
        })*
    };
}

// Rotation details name their kind explicitly (`Details::Rotation`, `Details::RotationVerification`).
from_struct!(
    Plan(PlanDetails),
    PolicyEvaluation(PolicyEvaluationDetails),
    Exception(ExceptionDetails),
    Approval(ApprovalDetails),
    Deployment(DeploymentDetails),
    Drift(DriftDetails),
    BreakGlass(BreakGlassDetails),
    Retrospective(RetrospectiveDetails),
    Release(ReleaseDetails),
    Checkpoint(CheckpointDetails),
    BreakGlassApproval(BreakGlassApprovalDetails),
    GovernancePin(GovernancePinDetails),
    RegisterChange(RegisterChangeDetails),
    ExceptionApproval(ExceptionApprovalDetails),
    DriftRemediation(DriftRemediationDetails),
    RegisterApproval(RegisterApprovalDetails),
    LockRecovery(LockRecoveryDetails),
    Adoption(AdoptionDetails),
    // Approval classes (issue 31).
    Delegation(DelegationDetails),
    DelegationRevocation(DelegationRevocationDetails),
);

fn to_map<T: Serialize>(d: &T) -> Map<String, Value> {
    match serde_json::to_value(d) {
        Ok(Value::Object(m)) => m,
        // Every details struct serializes as an object (its fields are plain data).
        _ => Map::new(),
    }
}

/// The field of `map` that `T` refuses, found by parsing each field alone beside `T`'s
/// defaults (only on the error path).
fn blame<T: DeserializeOwned + Serialize + Default>(map: &Map<String, Value>) -> Option<(String, String)> {
    let base = to_map(&T::default());
    for (k, v) in map {
        if COMMON.contains(&k.as_str()) {
            continue;
        }
        let mut probe = base.clone();
        probe.insert(k.clone(), v.clone());
        if let Err(e) = T::deserialize(&probe) {
            return Some((k.clone(), e.to_string()));
        }
    }
    None
}

fn parse_as<T: DeserializeOwned + Serialize + Default + HasOther>(kind: Kind, map: &Map<String, Value>) -> Result<T, DetailsError> {
    match T::deserialize(map) {
        Ok(mut d) => {
            d.other_mut().retain(|k, _| !COMMON.contains(&k.as_str()));
            Ok(d)
        }
        Err(e) => {
            let text = e.to_string();
            let (field, message) = match text.strip_prefix("missing field `").and_then(|r| r.split_once('`')) {
                Some((f, _)) => (Some(f.to_string()), "required and missing".to_string()),
                None => match blame::<T>(map) {
                    Some((f, m)) => (Some(f), m),
                    None => (None, text),
                },
            };
            Err(DetailsError { kind, field, message })
        }
    }
}

/// Access to the unknown fields of a details struct.
pub trait HasOther {
    fn other_mut(&mut self) -> &mut Map<String, Value>;
}

macro_rules! has_other {
    ($($ty:ident),*) => {
        $(impl HasOther for $ty {
            fn other_mut(&mut self) -> &mut Map<String, Value> {
                &mut self.other
            }
        })*
    };
}

has_other!(
    PlanDetails,
    PolicyEvaluationDetails,
    ExceptionDetails,
    ApprovalDetails,
    DeploymentDetails,
    DriftDetails,
    BreakGlassDetails,
    RetrospectiveDetails,
    ReleaseDetails,
    CheckpointDetails,
    BreakGlassApprovalDetails,
    GovernancePinDetails,
    RegisterChangeDetails,
    ExceptionApprovalDetails,
    DriftRemediationDetails,
    RotationDetails,
    RegisterApprovalDetails,
    LockRecoveryDetails,
    AdoptionDetails,
    DelegationDetails,
    DelegationRevocationDetails
);

/// The predicate of a payload as a map (for [`Details::parse`]).
#[derive(Deserialize)]
struct PredicateOf {
    predicate: Map<String, Value>,
}

impl Details {
    /// The details of the statement `payload` (JSON bytes), a record of `kind`.
    pub fn from_payload(kind: Kind, payload: &[u8]) -> Result<Details, DetailsError> {
        let p: PredicateOf =
            serde_json::from_slice(payload).map_err(|e| DetailsError { kind, field: None, message: format!("no predicate object: {e}") })?;
        Details::parse(kind, &p.predicate)
    }

    /// The details of a decoded statement.
    pub fn of(statement: &crate::record::Statement) -> Result<Details, DetailsError> {
        let kind = statement.kind().ok_or_else(|| DetailsError {
            kind: Kind::Plan,
            field: None,
            message: format!("unknown predicate type {:?}", statement.predicate_type),
        })?;
        Details::parse(kind, &statement.predicate.details)
    }
}

macro_rules! accessors {
    ($($name:ident: $variant:ident($ty:ident)),* $(,)?) => {
        impl Details {
            $(
                #[doc = concat!("The details of a `", stringify!($variant), "` record, `None` for another kind.")]
                pub fn $name(&self) -> Option<&$ty> {
                    match self {
                        Details::$variant(d) => Some(d),
                        _ => None,
                    }
                }
            )*
        }
    };
}

accessors!(
    plan: Plan(PlanDetails),
    policy_evaluation: PolicyEvaluation(PolicyEvaluationDetails),
    approval: Approval(ApprovalDetails),
    deployment: Deployment(DeploymentDetails),
    drift: Drift(DriftDetails),
    break_glass: BreakGlass(BreakGlassDetails),
    checkpoint: Checkpoint(CheckpointDetails),
    governance_pin: GovernancePin(GovernancePinDetails),
    register_change: RegisterChange(RegisterChangeDetails),
    exception_approval: ExceptionApproval(ExceptionApprovalDetails),
    drift_remediation: DriftRemediation(DriftRemediationDetails),
    lock_recovery: LockRecovery(LockRecoveryDetails),
    adoption: Adoption(AdoptionDetails),
    delegation: Delegation(DelegationDetails),
    delegation_revocation: DelegationRevocation(DelegationRevocationDetails),
    release: Release(ReleaseDetails),
);

impl Details {
    /// The details of a `rotation` or `rotation-verification` record.
    pub fn rotation(&self) -> Option<&RotationDetails> {
        match self {
            Details::Rotation(d) | Details::RotationVerification(d) => Some(d),
            _ => None,
        }
    }

    /// The break-glass request a break-glass approval or a retrospective refers to.
    pub fn break_glass_sequence(&self) -> Option<u64> {
        match self {
            Details::BreakGlassApproval(d) => Some(d.break_glass_sequence),
            Details::Retrospective(d) => Some(d.break_glass_sequence),
            _ => None,
        }
    }

    /// The outcome a record states (deployment, rotation, verification, retrospective,
    /// remediation).
    pub fn outcome(&self) -> Option<&str> {
        match self {
            Details::Deployment(d) => Some(&d.outcome),
            Details::Rotation(d) | Details::RotationVerification(d) => Some(&d.outcome),
            Details::Retrospective(d) => d.outcome.as_deref(),
            Details::DriftRemediation(d) => d.outcome.as_deref(),
            _ => None,
        }
    }

    /// The resource addresses a record concerns (what `evidence query --resource` finds it by).
    pub fn resources(&self) -> Vec<&str> {
        fn list(v: &Option<Vec<String>>) -> Vec<&str> {
            v.iter().flatten().map(String::as_str).collect()
        }
        match self {
            Details::Plan(d) => d.resources.iter().map(String::as_str).collect(),
            Details::Deployment(d) => list(&d.resources),
            Details::Drift(d) => list(&d.resources),
            Details::Exception(d) => d.resource.iter().map(String::as_str).collect(),
            Details::Rotation(d) | Details::RotationVerification(d) => vec![d.resource.as_str()],
            _ => Vec::new(),
        }
    }

    /// The state version a record names (a `succeeded` deployment, a drift check):
    /// (`state_version`, `state_serial`, `state_lineage`).
    pub fn state(&self) -> Option<(Option<&str>, Option<u64>, Option<&str>)> {
        match self {
            Details::Deployment(d) => Some((d.state_version.as_deref(), d.state_serial, d.state_lineage.as_deref())),
            Details::Drift(d) => Some((d.state_version.as_deref(), d.state_serial, d.state_lineage.as_deref())),
            _ => None,
        }
    }
}

/// The verifier's replay of a deployment's engine: an `in-progress` record (the decision)
/// names the engine the run applies with, and the record that closes that run must name the
/// same one: a run cannot be decided as the stand-in canary and claim the landing zone applied,
/// nor the reverse. `engines` holds the engine of every in-progress record seen, by sequence.
pub fn replay_engine(engines: &mut std::collections::HashMap<u64, Option<Engine>>, seq: u64, dep: &DeploymentDetails) -> Result<(), String> {
    if dep.outcome == "in-progress" {
        engines.insert(seq, dep.engine);
        return Ok(());
    }
    match (dep.in_progress_record, dep.engine) {
        // A run decided with an engine closes with that engine, named: a closing record that
        // omits it would let a reader (drift) take the run for the canary's.
        (Some(start), closing) => match (engines.get(&start), closing) {
            (Some(Some(decided)), Some(c)) if *decided != c => {
                Err(format!("the deployment says engine {c} applied but its in-progress record {start} decided engine {decided}"))
            }
            (Some(Some(Engine::Terraform)), None) => {
                Err(format!("the deployment names no engine but its in-progress record {start} decided engine terraform"))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let e = Details::parse(Kind::Deployment, &map(json!({"outcome": "succeeded", "break_glass": "soon"}))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("break_glass"), "{e}");
        assert!(e.to_string().contains("deployment record: field \"break_glass\""), "{e}");
    }

    #[test]
    fn the_engine_is_typed_and_a_run_closes_with_the_engine_it_was_decided_with() {
        let e = Details::parse(Kind::Deployment, &map(json!({"outcome": "succeeded", "engine": "pulumi"}))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("engine"), "{e}");
        let dep = |v: Value| match Details::parse(Kind::Deployment, &map(v)).unwrap() {
            Details::Deployment(d) => d,
            d => panic!("{d:?}"),
        };
        let mut seen = std::collections::HashMap::new();
        replay_engine(&mut seen, 4, &dep(json!({"outcome": "in-progress", "engine": "canary"}))).unwrap();
        replay_engine(&mut seen, 5, &dep(json!({"outcome": "in-progress", "engine": "terraform"}))).unwrap();
        replay_engine(&mut seen, 6, &dep(json!({"outcome": "succeeded", "engine": "terraform", "in_progress_record": 5}))).unwrap();
        let e = replay_engine(&mut seen, 7, &dep(json!({"outcome": "succeeded", "engine": "terraform", "in_progress_record": 4}))).unwrap_err();
        assert!(e.contains("engine terraform applied but its in-progress record 4 decided engine canary"), "{e}");
        // Records older than the field name no engine and are judged as before.
        replay_engine(&mut seen, 8, &dep(json!({"outcome": "succeeded", "in_progress_record": 4}))).unwrap();
        // A run decided with the terraform engine never closes without naming it (drift would
        // read such a run as the canary's).
        let e = replay_engine(&mut seen, 9, &dep(json!({"outcome": "succeeded", "in_progress_record": 5}))).unwrap_err();
        assert!(e.contains("names no engine but its in-progress record 5 decided engine terraform"), "{e}");
        assert_eq!(dep(json!({"engine": "terraform"})).engine, Some(Engine::Terraform));
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let e = Details::parse(Kind::Checkpoint, &map(json!({"checkpoint_hash": "x"}))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("checkpoint_sequence"), "{e}");
        let e = Details::parse(Kind::Rotation, &map(json!({"resource": "s", "version": "v", "consumers": []}))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("outcome"), "{e}");
    }

    #[test]
    fn unknown_fields_are_kept_and_common_fields_are_not_details() {
        let d = Details::parse(Kind::Release, &map(json!({"identity": "a", "manifest_sha256": "m", "note": 1}))).unwrap();
        assert_eq!(d.other(), &map(json!({"note": 1})));
        let Details::Release(r) = &d else { panic!("{d:?}") };
        assert_eq!(r.manifest_sha256.as_deref(), Some("m"));
        assert_eq!(d.to_map(), map(json!({"manifest_sha256": "m", "note": 1})));
    }

    #[test]
    fn the_wire_form_round_trips_and_none_is_absent() {
        let wire = map(json!({"outcome": "in-progress", "run": "r1", "pid": 7, "state_before": null, "approvals": [3, 4]}));
        let d = Details::parse(Kind::Deployment, &wire).unwrap();
        let Details::Deployment(dd) = &d else { panic!() };
        assert_eq!(dd.state_before, Some(None), "an explicit null is kept apart from an absent key");
        assert_eq!(dd.break_glass, None);
        assert_eq!(d.to_map(), wire);
        let absent = Details::parse(Kind::Deployment, &map(json!({"outcome": "succeeded"}))).unwrap();
        let Details::Deployment(dd) = &absent else { panic!() };
        assert_eq!(dd.state_before, None);
        assert_eq!(absent.to_map(), map(json!({"outcome": "succeeded"})));
        // A null where a value is optional reads as absent.
        let d = Details::parse(Kind::Deployment, &map(json!({"outcome": "failed", "break_glass": null}))).unwrap();
        assert_eq!(d.to_map(), map(json!({"outcome": "failed"})));
    }

    #[test]
    fn every_kind_parses_its_own_defaults() {
        for kind in Kind::ALL {
            let d = Details::parse(kind, &Map::new());
            let required = kind.required_details();
            match d {
                Ok(d) => {
                    assert!(required.is_empty(), "{kind} parsed without its required details {required:?}");
                    assert_eq!(d.kind(), kind);
                }
                Err(e) => {
                    let field = e.field.clone().unwrap_or_default();
                    assert!(required.contains(&field.as_str()), "{kind}: {e}");
                }
            }
        }
    }
}

