//! One decision session: the release named by a digest (verified, unpacked), the governance
//! that judges it (the release deployed in the target environment, or the one pinned there at
//! bootstrap), the verified evidence chain, the target environment, the plan rendered from the
//! release and the plan of the environment's last deployment, loaded once. `classify`,
//! `approve`, `admit` and `promote` all read from here and nowhere else.
//!
//! This module holds what a session is and what it reads, built from records as given
//! ([`Session::from_records`]); it names no gate. The decisions taken on it sit above it, each
//! in its own module: opening it on the admitted chain and reloading it ([`crate::open`]:
//! `Session::open`, `open_before`, `reload`), the risk tier ([`crate::classify`]), the gates
//! and the admission ([`crate::gates`]: `Session::admit`) and the recorded approvals
//! ([`crate::approve`]). The modules the gates use (adoption, approval classes, the clock, the
//! fence, the replay) read the session; the session reads none of their decisions, only the
//! types it holds that sit below it (`classes::Classes`, `adoption::Planned`).

use anyhow::{Context, Result};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::{Identities, Signer};
use serde::Serialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::approval::{short, ApprovalPolicy, Requirement, Vote};
use crate::breakglass;
use crate::reading::Reading;
use crate::ledger::{ApprovalDetails, ExceptionApprovalDetails, Ledger, Record};
use lz_evidence::details::PolicyEvaluationDetails;
use crate::refusal::{refuse, refuse_if};
use crate::release::VerifiedRelease;
use crate::tier::{Classification, RiskRules, Tier};
use crate::window::{rfc3339, ChangeWindows};
use crate::{plan_digest, Paths};

/// Identity group whose approval every governance change needs.
pub const SECURITY_GROUP: &str = "security";

/// The governance registers of one release.
pub struct Governance {
    pub rules: RiskRules,
    pub policy: ApprovalPolicy,
    pub windows: ChangeWindows,
    /// Approval classes (issue 31); none when the release carries no classes file.
    pub classes: crate::classes::Classes,
}

impl Governance {
    /// The registers as archived in `release`.
    pub fn of(release: &VerifiedRelease) -> Result<Governance> {
        let f = |rel: &str| -> Result<(String, String)> {
            Ok((release.text(rel)?, release.origin(rel)))
        };
        let (t, o) = f(crate::tier::RISK_TIERS)?;
        let rules = RiskRules::parse(&t, &o)?;
        let (t, o) = f(crate::approval::APPROVAL_POLICY)?;
        let policy = ApprovalPolicy::parse(&t, &o)?;
        let (t, o) = f(crate::window::CHANGE_WINDOWS)?;
        let windows = ChangeWindows::parse(&t, &o)?;
        let classes = crate::classes::Classes::of(release)?;
        Ok(Governance {
            rules,
            policy,
            windows,
            classes,
        })
    }
}

/// Why these rules govern the environment.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "by")]
pub enum GovernedBy {
    /// The release of the environment's last successful deployment.
    Deployment { record: u64, release: String },
    /// The governance pin recorded at bootstrap, signed by the security group.
    Pin {
        record: u64,
        release: String,
        signer: String,
    },
}

impl GovernedBy {
    pub fn release(&self) -> &str {
        match self {
            GovernedBy::Deployment { release, .. } | GovernedBy::Pin { release, .. } => release,
        }
    }
}

/// The environment's last deployment: its record and its plan, re-rendered from its release
/// and checked against the recorded plan digest.
pub struct Baseline {
    pub record: u64,
    pub release: String,
    pub plan: Value,
}

pub struct Session {
    pub paths: Paths,
    pub environment: String,
    pub ledger: Ledger,
    pub records: Vec<Record>,
    /// Shared with the other sessions of a replay ([`crate::opened`]).
    pub release: std::sync::Arc<VerifiedRelease>,
    /// The releases this session's pass opened: the adoption and copy checks read the governing
    /// and earlier releases through it instead of opening their own.
    pub opened: crate::opened::Opened,
    /// Who signed the first release record of the digest, and that record.
    pub author: String,
    pub author_record: u64,
    pub governed_by: GovernedBy,
    pub governance: Governance,
    /// Files of governance/ and policies/ that the release changes against the governing one.
    pub governance_changes: Vec<String>,
    /// The governing release's `modules/catalog.toml` when it is another release than this one
    /// (its rollout plans and revocations judge module adoptions, `crate::adoption::Rules`).
    pub governing_catalog: Option<Vec<u8>>,
    pub plan: Value,
    pub plan_digest: String,
    pub baseline: Option<Baseline>,
    /// The adoption gate's last accepted judgement, which the admission after a dry run takes
    /// while nothing it read changed ([`crate::judged`]).
    pub(crate) adoptions_judged: crate::judged::Judged<Vec<crate::adoption::Planned>>,
}

/// The last successful deployment into `environment`.
pub fn last_deployment<'a>(records: &'a [Record], environment: &str) -> Option<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.kind == Kind::Deployment
                && r.environment.as_deref() == Some(environment)
                && r.deployment_outcome() == Some("succeeded")
        })
        .max_by_key(|r| r.sequence)
}

/// The first governance pin of `environment` signed by a member of the security group.
pub fn governance_pin<'a>(records: &'a [Record], environment: &str) -> Option<&'a Record> {
    records
        .iter()
        .filter(|r| r.kind == Kind::GovernancePin && r.environment.as_deref() == Some(environment))
        .filter(|r| r.signer.group == SECURITY_GROUP && r.signer.kind == "person")
        .min_by_key(|r| r.sequence)
}

pub fn previous_environment(environment: &str) -> Result<Option<&'static str>> {
    let i = lz_platform::ENVIRONMENTS
        .iter()
        .position(|e| *e == environment)
        .with_context(|| {
            format!(
                "unknown environment {environment:?} (known: {})",
                lz_platform::ENVIRONMENTS.join(", ")
            )
        })?;
    Ok((i > 0).then(|| lz_platform::ENVIRONMENTS[i - 1]))
}

pub(crate) fn promotion_order() -> String {
    lz_platform::ENVIRONMENTS.join(" -> ")
}

/// The in-process policy evaluation of the release's plan.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyOutcome {
    pub passed: bool,
    pub policy_bundle: String,
    pub findings: Vec<lz_policy::Finding>,
    /// Exceptions applied, with the signed approval that makes each valid.
    pub exceptions: Vec<(String, u64)>,
    /// Exceptions that would cover a finding but lack a valid signed approval.
    pub rejected_exceptions: Vec<String>,
}

/// What the gates decided.
#[derive(Clone, Debug, Serialize)]
pub struct Admission {
    pub tier: Tier,
    pub classified_tier: Tier,
    pub requirement: Requirement,
    pub approvals: Vec<Vote>,
    pub break_glass: Option<u64>,
    pub classification: Classification,
    /// The services whose module version the release moves, as the `adoption` gate admitted
    /// them (`crate::adoption::admit`, run once per evaluation of the gates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adoptions: Vec<crate::adoption::Planned>,
}

/// sha256 of an exception entry's content (everything but its line), as an approval names it.
pub fn exception_digest(e: &lz_policy::Exception) -> String {
    let mut v = serde_json::to_value(e).expect("exceptions serialize");
    if let Some(m) = v.as_object_mut() {
        m.remove("line");
    }
    plan_digest(&v)
}

/// The fields of an exception-approval record of entry `e` (in release `release`) at `time`:
/// the exception, its owner (an identity name), its dates and the digest of the entry approved.
pub fn exception_approval_fields(
    release: &str,
    e: &lz_policy::Exception,
    time: OffsetDateTime,
    clock: Option<String>,
) -> Fields {
    Fields::new(release)
        .ticket(&e.ticket)
        .reason(format!("exception {} approved", e.id))
        .at(time)
        .details(ExceptionApprovalDetails {
            exception: e.id.clone(),
            owner: e.owner.clone(),
            created: lz_policy::exceptions::fmt_date(e.created),
            expires: lz_policy::exceptions::fmt_date(e.expires),
            entry: Some(exception_digest(e)),
            clock,
            ..Default::default()
        })
}

/// Whether `name` names `identity` under another spelling (case, spaces, underscores, its
/// display name).
fn same_person(name: &str, identity: &lz_evidence::Identity) -> bool {
    let norm = |s: &str| {
        s.trim()
            .to_lowercase()
            .chars()
            .map(|c| {
                if c == ' ' || c == '_' || c == '.' {
                    '-'
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    norm(name) == norm(&identity.name) || norm(name) == norm(&identity.display_name)
}

impl Session {
    /// A session on `records` as given (a prefix of the verified chain whose deployments were
    /// all admitted: the replay of a deployment builds the session its decision saw).
    pub fn from_records(paths: &Paths, ledger: &crate::ledger::Ledger, records: Vec<crate::ledger::Record>, release: &str, environment: &str) -> Result<Session> {
        Session::from_records_in(&crate::opened::Opened::shared(), paths, ledger, records, release, environment)
    }

    /// [`Session::from_records`] with the releases of `opened` (the replay shares them between
    /// the sessions of its deployments).
    pub fn from_records_in(
        opened: &crate::opened::Opened,
        paths: &Paths,
        ledger: &crate::ledger::Ledger,
        records: Vec<crate::ledger::Record>,
        release: &str,
        environment: &str,
    ) -> Result<Session> {
        previous_environment(environment)?;
        let ledger = ledger.clone();
        let release = opened.open(paths, release)?;
        let r = short(&release.digest).to_string();
        let author_rec = breakglass::author_of(&records, &release.digest).ok_or_else(|| {
            refuse!("release {r} has no signed authorship record: its author signs it with `cargo xtask release publish --release DIGEST --as ID --key FILE`")
        })?;
        let author = author_rec.identity.clone();
        let author_record = author_rec.sequence;
        refuse_if!(
            !author_rec.signer.has_role(lz_evidence::Role::Author),
            "release {r} was signed by {author}, who did not have the author role"
        );
        let last = last_deployment(&records, environment);
        let governed_by = match last {
            Some(d) => GovernedBy::Deployment {
                record: d.sequence,
                release: d.release.clone(),
            },
            None => match governance_pin(&records, environment) {
                Some(p) => GovernedBy::Pin {
                    record: p.sequence,
                    release: p.release.clone(),
                    signer: p.identity.clone(),
                },
                None => {
                    return Err(refuse!(
                        "{environment} has no governance trust root: nothing is deployed there and no governance pin signed by the {SECURITY_GROUP} group exists (`cargo xtask bootstrap --env {environment} --pin DIGEST --as ID --key FILE`)"
                    ))
                }
            },
        };
        let governing = if governed_by.release() == release.digest {
            None
        } else {
            Some(opened.open(paths, governed_by.release())?)
        };
        let gov_release: &VerifiedRelease = governing.as_deref().unwrap_or(&release);
        if let GovernedBy::Pin { record, .. } = &governed_by {
            // The pin names the register it was recorded under; the pinned release must carry
            // exactly that register (a pin is refused unless it is the register in force).
            let pin = records.iter().find(|r| r.sequence == *record).expect("the pin was found among these records");
            let named = pin.details.governance_pin().map(|p| p.register_sha256.as_str()).unwrap_or_default();
            let carried = lz_evidence::dsse::sha256_hex(gov_release.file(crate::register::REGISTER_FILE)?);
            refuse_if!(
                named != carried,
                "the governance pin of {environment} (record {record}) names register {} but its release carries register {}",
                short(named),
                short(&carried)
            );
        }
        let mut governance = Governance::of(gov_release)?;
        // This environment's policy identity (`{env}` in the governing policy_identity).
        governance.policy.policy_identity = governance.policy.policy_identity_of(environment);
        let governance_changes = release.governance_changes(gov_release);
        let governing_catalog = governing.as_ref().and_then(|g| g.files.get(lz_repo::catalog::CATALOG).cloned());
        let plan = release.plan(environment)?;
        let digest = plan_digest(&plan);
        let baseline = match last {
            None => None,
            Some(d) => {
                let p = if d.release == release.digest {
                    plan.clone()
                } else {
                    gov_release.plan(environment)?
                };
                let recorded = d.plan_digest.clone().unwrap_or_default();
                refuse_if!(
                    plan_digest(&p) != recorded,
                    "the plan of {environment}'s last deployment (record {}, release {}) re-rendered from its release is {}, not the recorded {}",
                    d.sequence,
                    short(&d.release),
                    short(&plan_digest(&p)),
                    short(&recorded)
                );
                Some(Baseline {
                    record: d.sequence,
                    release: d.release.clone(),
                    plan: p,
                })
            }
        };
        Ok(Session {
            paths: paths.clone(),
            environment: environment.to_string(),
            ledger,
            records,
            release,
            opened: opened.clone(),
            author,
            author_record,
            governed_by,
            governance,
            governance_changes,
            governing_catalog,
            plan,
            plan_digest: digest,
            baseline,
            adoptions_judged: Default::default(),
        })
    }

    pub fn digest(&self) -> &str {
        &self.release.digest
    }

    pub fn identities(&self) -> &Identities {
        self.ledger.identities()
    }

    /// The approvals a change of `tier` needs; a governance change always needs the security
    /// group.
    pub fn requirement(&self, tier: Tier) -> Requirement {
        let mut r = self.governance.policy.requirement(tier, &self.environment);
        if !self.governance_changes.is_empty() && tier != Tier::Emergency {
            let sec = SECURITY_GROUP.to_string();
            r.auto_approve = false;
            if !r.groups.contains(&sec) {
                r.groups.push(sec.clone());
            }
            if !r.required_groups.contains(&sec) {
                r.required_groups.push(sec);
            }
            r.approvals = r.approvals.max(r.required_groups.len() as u32).max(1);
        }
        r
    }

    /// Approvals of this release's plan for the environment; workload identities are set
    /// apart (they never count as human approvals).
    pub fn votes(&self) -> Result<(Vec<Vote>, Vec<(Vote, String)>)> {
        let mut humans = Vec::new();
        let mut workloads = Vec::new();
        for r in self.records.iter().filter(|r| {
            r.kind == Kind::Approval
                && r.release == self.release.digest
                && r.environment.as_deref() == Some(self.environment.as_str())
        }) {
            let Some(d) = r.details.approval() else { continue };
            if d.decision.as_deref() != Some("approved") {
                continue;
            }
            let v = Vote {
                identity: r.identity.clone(),
                group: r.signer.group.clone(),
                plan_digest: r.plan_digest.clone().unwrap_or_default(),
                sequence: r.sequence,
            };
            if r.signer.kind == "person" && r.signer.has_role(lz_evidence::Role::Approver) {
                humans.push(v);
            } else {
                workloads.push((v, "a workload identity, never a human approval".to_string()));
            }
        }
        Ok((humans, workloads))
    }

    /// Evaluates the release's policy bundle on its plan, in process, with the release's
    /// exceptions register; an exception counts only with a valid signed approval.
    pub fn evaluate_policy(&self, now: OffsetDateTime) -> Result<PolicyOutcome> {
        let root = self.release.root();
        let opts = lz_policy::Options {
            policies: root.join("policies"),
            settings: root.join(crate::release::POLICY_SETTINGS),
            exceptions: None,
            identities: None,
            today: Some(now.date()),
            source: Some(format!("release {}", short(self.digest()))),
        };
        // `lz_policy::evaluate`, with the policies parsed once per pass ([`crate::opened`]).
        let policies = self.opened.policies(&self.release)?;
        let findings = policies.findings(&self.plan)?;
        let mut report = lz_policy::finish(&policies, findings, &lz_policy::plan_environment(&self.plan), &opts)?;
        let register = match self.release.files.get("governance/exceptions.toml") {
            Some(_) => lz_policy::Register::parse(
                &self.release.text("governance/exceptions.toml")?,
                &self.release.origin("governance/exceptions.toml"),
            )?,
            None => lz_policy::Register::default(),
        };
        let mut exceptions = Vec::new();
        let mut rejected = Vec::new();
        for f in report.findings.iter_mut().filter(|f| !f.excepted) {
            let Some(e) = register.covering(f, &self.environment, now.date()) else {
                continue;
            };
            match self.exception_approval(e, now) {
                Ok(seq) => {
                    f.excepted = true;
                    f.exception_id = Some(e.id.clone());
                    if !exceptions.iter().any(|(id, _)| id == &e.id) {
                        exceptions.push((e.id.clone(), seq));
                    }
                }
                Err(why) => {
                    let m = format!("{}: {why}", e.id);
                    if !rejected.contains(&m) {
                        rejected.push(m);
                    }
                }
            }
        }
        Ok(PolicyOutcome {
            passed: report.passed(),
            policy_bundle: self.release.policy_bundle()?,
            findings: report.findings,
            exceptions,
            rejected_exceptions: rejected,
        })
    }

    /// The signed approval that makes exception `e` valid at `now`: an exception-approval
    /// record of this entry's digest, signed by the entry's approver, a registered person of
    /// the security group with the approver role who is not the owner, with
    /// created <= approval <= expires <= approval + 90 days.
    pub fn exception_approval(
        &self,
        e: &lz_policy::Exception,
        now: OffsetDateTime,
    ) -> std::result::Result<u64, String> {
        let digest = exception_digest(e);
        let mut why = format!(
            "no signed exception approval of this entry (digest {})",
            short(&digest)
        );
        for r in self
            .records
            .iter()
            .filter(|r| r.kind == Kind::ExceptionApproval)
        {
            let Some(d) = r.details.exception_approval() else {
                continue;
            };
            if d.exception != e.id || d.entry.as_deref() != Some(digest.as_str()) {
                continue;
            }
            let check = approval_holds(e, &r.signer, r.sequence, r.time, now);
            match check {
                Ok(s) => return Ok(s),
                Err(w) => why = w,
            }
        }
        Err(why)
    }

    /// Records the policy identity's evaluation of the plan (the in-process result).
    pub fn record_policy_evaluation(
        &self,
        policy_signer: &Signer,
        outcome: &PolicyOutcome,
        now: &Reading,
    ) -> Result<u64> {
        let pid = &self.governance.policy.policy_identity;
        refuse_if!(
            policy_signer.identity() != pid,
            "policy evaluations are signed by the policy identity {pid}, not {}",
            policy_signer.identity()
        );
        let findings: Vec<Value> = outcome
            .findings
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<_, _>>()?;
        let fields = Fields::new(self.digest())
            .environment(&self.environment)
            .plan_digest(&self.plan_digest)
            .at(now.time)
            .details(PolicyEvaluationDetails {
                policy_bundle: Some(outcome.policy_bundle.clone()),
                passed: Some(outcome.passed),
                findings: Some(findings),
                exceptions: Some(
                    outcome.exceptions.iter().map(|(id, seq)| serde_json::json!({"id": id, "approval": seq})).collect(),
                ),
                clock: Some(now.source.clone()),
                ..Default::default()
            });
        Ok(self
            .ledger
            .append(Kind::PolicyEvaluation, fields, policy_signer)?
            .sequence)
    }

    /// Records the policy identity's automatic approval of a standard-tier change.
    pub fn record_auto_approval(
        &self,
        policy_signer: &Signer,
        tier: Tier,
        now: &Reading,
    ) -> Result<u64> {
        let fields = Fields::new(self.digest())
            .environment(&self.environment)
            .plan_digest(&self.plan_digest)
            .at(now.time)
            .reason(format!("{tier} tier: approved by policy"))
            .details(ApprovalDetails {
                decision: Some("approved".into()),
                tier: Some(tier.as_str().into()),
                auto: Some(true),
                clock: Some(now.source.clone()),
                ..Default::default()
            });
        let sequence = self.ledger.append(Kind::Approval, fields, policy_signer)?.sequence;
        // The one record a kept adoption judgement may be followed by (`crate::judged`).
        self.adoptions_judged.appended_auto_approval(sequence, &self.governance.policy.policy_identity)?;
        Ok(sequence)
    }

    /// A one-line description of the decision inputs, for records and output.
    pub fn describe(&self) -> String {
        format!(
            "release {} (author {}, record {}) for {}, governed by {}",
            short(self.digest()),
            self.author,
            self.author_record,
            self.environment,
            match &self.governed_by {
                GovernedBy::Deployment { record, release } =>
                    format!("deployed release {} (record {record})", short(release)),
                GovernedBy::Pin {
                    record,
                    release,
                    signer,
                } => format!(
                    "pinned release {} (record {record}, {signer})",
                    short(release)
                ),
            }
        )
    }
}

/// For output: a time as RFC 3339.
pub fn at(t: OffsetDateTime) -> String {
    rfc3339(t)
}

/// Whether exception-approval record `sequence` (signed by `signer` at `time`) makes entry `e`
/// valid at `now`: signed by the entry's approver, a registered person of the security group
/// with the approver role who is not the owner, with created <= approval <= expires <= approval
/// + 90 days, and not dated after now. Shared by the gate and the auditor's exceptions export.
pub fn approval_holds(
    e: &lz_policy::Exception,
    signer: &lz_evidence::Identity,
    sequence: u64,
    time: OffsetDateTime,
    now: OffsetDateTime,
) -> std::result::Result<u64, String> {
    let approval_date = time.date();
    if e.approver.as_deref() != Some(signer.name.as_str()) {
        Err(format!(
            "approval record {} is signed by {}, but the entry names approver {}",
            sequence,
            signer.name,
            e.approver.as_deref().unwrap_or("(none)")
        ))
    } else if signer.kind != "person"
        || signer.group != SECURITY_GROUP
        || !signer.has_role(lz_evidence::Role::Approver)
    {
        Err(format!(
            "{} is not a person of the security group with the approver role",
            signer.name
        ))
    } else if same_person(&e.owner, signer) {
        Err(format!(
            "{} owns the exception (as {:?}) and cannot approve it",
            signer.name, e.owner
        ))
    } else if e.created > approval_date {
        Err(format!(
            "created {} after its approval on {}",
            lz_policy::exceptions::fmt_date(e.created),
            lz_policy::exceptions::fmt_date(approval_date)
        ))
    } else if approval_date > e.expires {
        Err(format!(
            "approved on {} after it expired",
            lz_policy::exceptions::fmt_date(approval_date)
        ))
    } else if e.expires > approval_date + Duration::days(lz_policy::exceptions::MAX_DAYS) {
        Err(format!(
            "expires {}, more than {} days after its approval on {}",
            lz_policy::exceptions::fmt_date(e.expires),
            lz_policy::exceptions::MAX_DAYS,
            lz_policy::exceptions::fmt_date(approval_date)
        ))
    } else if time > now {
        Err(format!("approval record {} is dated after now", sequence))
    } else {
        Ok(sequence)
    }
}
