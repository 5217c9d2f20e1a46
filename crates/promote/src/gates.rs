//! The gates of a promotion as named steps: segregation of duties, the previous environment
//! (promotion order and its drift check), policy and exceptions, the risk tier, approvals, the
//! change window, break-glass, and the facts where they live. [`evaluate`] runs every gate and
//! keeps each verdict; the admission ([`Gates::admission`]) is the first refusal in that order,
//! or what the gates decided. `promote` admits through it ([`Session::admit`]) and
//! `promote --dry-run` / `classify` show it, so the dry run and the real promotion cannot
//! disagree.

use anyhow::{Context, Result};
use lz_evidence::record::Kind;
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::approval::{self, short, Requirement, Vote};
use crate::breakglass;
use crate::ledger::DriftDetails;
use crate::refusal::{is_refusal, refuse};
use crate::session::{last_deployment, previous_environment, Admission, PolicyOutcome, Session};
use crate::tier::{Classification, Tier};

/// A gate, in the order the promotion checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// The deployer is neither the release's author nor the policy identity.
    Duties,
    /// The release runs in the previous environment, drift-checked clean since.
    PreviousEnvironment,
    /// The in-process policy evaluation passed, with the exceptions that have a signed approval.
    Policy,
    /// The risk tier of the change and the rules that decided it.
    Tier,
    /// The approvals the tier needs in this environment.
    Approvals,
    /// The change window of the environment for the tier.
    Window,
    /// A break-glass session, when approvals or the window refuse.
    BreakGlass,
    /// The module versions the release moves have reached their rollout waves (issue 32), and
    /// none moves under break-glass.
    Adoption,
    /// The baseline's and the previous environment's facts, checked where they live.
    Facts,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Duties => "duties",
            Gate::PreviousEnvironment => "previous-environment",
            Gate::Policy => "policy",
            Gate::Tier => "tier",
            Gate::Approvals => "approvals",
            Gate::Window => "window",
            Gate::BreakGlass => "break-glass",
            Gate::Adoption => "adoption",
            Gate::Facts => "facts",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Met,
    Unmet,
    /// Unmet, but an open break-glass session admits the change as an emergency.
    Waived,
    /// Not needed (break-glass when approvals and window are met).
    NotNeeded,
    /// Could not be judged: an input is missing (no deployer named) or a tool failed.
    NotChecked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Unmet => "UNMET",
            Status::Waived => "waived",
            Status::NotNeeded => "not needed",
            Status::NotChecked => "not checked",
        }
    }
}

/// One gate's verdict.
#[derive(Debug, Serialize)]
pub struct Check {
    pub gate: Gate,
    pub status: Status,
    /// What met it, or the refusal (the text the promotion refuses with).
    pub why: String,
    /// The command that resolves an unmet gate, with every required flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve: Option<String>,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub detail: Value,
    /// The error a refusal or a failed check returns from [`Gates::admission`].
    #[serde(skip)]
    error: Option<anyhow::Error>,
}

impl Check {
    fn met(gate: Gate, why: impl Into<String>, detail: Value) -> Check {
        Check { gate, status: Status::Met, why: why.into(), resolve: None, detail, error: None }
    }

    /// Unmet for a refusal, not checked for any other error (which the admission returns as is).
    fn failed(gate: Gate, e: anyhow::Error, resolve: Option<String>, detail: Value) -> Check {
        let status = if is_refusal(&e) { Status::Unmet } else { Status::NotChecked };
        Check { gate, status, why: format!("{e:#}"), resolve, detail, error: Some(e) }
    }

    fn of(gate: Gate, r: Result<String>, resolve: impl FnOnce() -> Option<String>, detail: Value) -> Check {
        match r {
            Ok(why) => Check::met(gate, why, detail),
            Err(e) => Check::failed(gate, e, resolve(), detail),
        }
    }

    fn not_checked(gate: Gate, why: impl Into<String>) -> Check {
        Check { gate, status: Status::NotChecked, why: why.into(), resolve: None, detail: Value::Null, error: None }
    }

    pub fn is_met(&self) -> bool {
        matches!(self.status, Status::Met | Status::NotNeeded | Status::Waived)
    }
}

/// Approvals for display.
#[derive(Clone, Debug, Serialize)]
pub struct Given {
    pub identity: String,
    pub group: String,
    pub record: u64,
}

/// An approval that does not count, and why.
#[derive(Clone, Debug, Serialize)]
pub struct NotCounted {
    pub identity: String,
    pub group: String,
    pub record: u64,
    pub why: String,
}

/// The approvals section: what the tier needs in this environment, what is present (by group),
/// and who may still give one. Data only, so other sources (on-call, delegation) can extend it.
#[derive(Clone, Debug, Serialize)]
pub struct Approvals {
    pub tier: Tier,
    pub required: u32,
    pub eligible_groups: Vec<String>,
    pub required_groups: Vec<String>,
    pub distinct_groups: bool,
    /// Approved by the policy identity (recorded when the promotion runs) rather than by people.
    pub auto_approve: bool,
    pub policy_identity: String,
    /// Counted approvals of this release's plan, by group.
    pub present: std::collections::BTreeMap<String, Vec<Given>>,
    pub not_counted: Vec<NotCounted>,
    /// Registered persons with the approver role who may still approve, by eligible group (not
    /// the author, not the deployer, not one who approved already).
    pub may_approve: std::collections::BTreeMap<String, Vec<String>>,
}

/// The approvals section of `s` for `req`: pure data from the session's verified records and
/// identities register.
pub fn approvals(s: &Session, req: &Requirement, deployer: Option<&str>) -> Result<Approvals> {
    let (humans, workloads) = s.votes()?;
    // The counting rules of `approval::evaluate`, with nothing required: who counts and why not.
    let counting = Requirement { approvals: 0, required_groups: Vec::new(), distinct_groups: false, ..req.clone() };
    let request = approval::Request {
        release: s.digest(),
        environment: &s.environment,
        plan_digest: &s.plan_digest,
        author: Some(&s.author),
        deployer: "",
    };
    let d = approval::evaluate(&counting, &request, &humans)?;
    let mut present: std::collections::BTreeMap<String, Vec<Given>> = Default::default();
    for v in &d.counted {
        present.entry(v.group.clone()).or_default().push(Given { identity: v.identity.clone(), group: v.group.clone(), record: v.sequence });
    }
    let mut not_counted: Vec<NotCounted> = d
        .ignored
        .iter()
        .map(|(v, why)| NotCounted { identity: v.identity.clone(), group: v.group.clone(), record: v.sequence, why: why.clone() })
        .collect();
    for (v, why) in &workloads {
        not_counted.push(NotCounted { identity: v.identity.clone(), group: v.group.clone(), record: v.sequence, why: why.clone() });
    }
    if let Some(dep) = deployer {
        for v in humans.iter().filter(|v| v.identity == dep) {
            not_counted.push(NotCounted {
                identity: v.identity.clone(),
                group: v.group.clone(),
                record: v.sequence,
                why: "the deployer: an approver cannot deploy what they approved".into(),
            });
        }
    }
    let mut may_approve: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    if !req.auto_approve {
        for id in s.identities().iter() {
            let eligible = id.is_person()
                && id.has_role(lz_evidence::Role::Approver)
                && req.groups.contains(&id.group)
                && id.name != s.author
                && Some(id.name.as_str()) != deployer
                && !d.counted.iter().any(|v| v.identity == id.name);
            if eligible {
                may_approve.entry(id.group.clone()).or_default().push(id.name.clone());
            }
        }
    }
    Ok(Approvals {
        tier: req.tier,
        required: req.approvals,
        eligible_groups: req.groups.clone(),
        required_groups: req.required_groups.clone(),
        distinct_groups: req.distinct_groups,
        auto_approve: req.auto_approve,
        policy_identity: s.governance.policy.policy_identity.clone(),
        present,
        not_counted,
        may_approve,
    })
}

/// Every gate's verdict for one release, environment and deployer at one time.
#[derive(Debug, Serialize)]
pub struct Gates {
    pub release: String,
    pub environment: String,
    pub deployer: Option<String>,
    pub plan_digest: String,
    pub governed_by: String,
    /// When the gates were judged (RFC 3339) and where that time came from.
    pub time: String,
    pub clock: String,
    /// The tier the promotion would run at (emergency under break-glass).
    pub tier: Option<Tier>,
    pub classified_tier: Option<Tier>,
    /// Whether the promotion would be admitted.
    pub admitted: bool,
    /// The refusal the promotion would give (the first unmet gate, in order).
    pub refusal: Option<String>,
    pub gates: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Approvals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    #[serde(skip)]
    admission: Option<Admission>,
}

/// Gate `duties`: the deployer is neither the policy identity nor the author.
pub fn duties(s: &Session, deployer: &str) -> Result<String> {
    let r = short(s.digest());
    let pid = &s.governance.policy.policy_identity;
    if deployer == pid {
        return Err(refuse!(
            "{deployer} is the policy identity: it approves standard changes and cannot deploy them (segregation of duties)"
        ));
    }
    if deployer == s.author {
        return Err(refuse!(
            "{deployer} authored release {r} (record {}) and cannot deploy it (segregation of duties)",
            s.author_record
        ));
    }
    Ok(format!("{deployer} is neither the author ({}) nor the policy identity ({pid})", s.author))
}

/// Gate `previous-environment`: the release runs in the previous environment and was
/// drift-checked clean there since it was deployed.
pub fn previous(s: &Session) -> Result<String> {
    let r = short(s.digest());
    let env = s.environment.as_str();
    let Some(prev) = previous_environment(env)? else {
        return Ok(format!("{env} is the first environment of the promotion order"));
    };
    let order = crate::session::promotion_order();
    let d = match last_deployment(&s.records, prev) {
        None => return Err(refuse!("release {r} cannot go to {env}: it has not been deployed to {prev} (promotion order {order})")),
        Some(d) if d.release != s.digest() => {
            return Err(refuse!("release {r} cannot go to {env}: {prev} runs release {} (record {}), not {r}", short(&d.release), d.sequence))
        }
        Some(d) => d,
    };
    let check = s
        .records
        .iter()
        .filter(|x| x.kind == Kind::Drift && x.environment.as_deref() == Some(prev) && x.sequence > d.sequence)
        .max_by_key(|x| x.sequence);
    let Some(x) = check else {
        return Err(refuse!(
            "release {r} cannot go to {env}: {prev} has not been drift-checked since it was deployed (record {}); run `cargo xtask drift --env {prev} --as IDENTITY --key FILE`",
            d.sequence
        ));
    };
    let dd: &DriftDetails = x.details.drift().context("a drift record carries drift details")?;
    if dd.drifted == Some(true) {
        return Err(refuse!(
            "release {r} cannot go to {env}: {prev} drifted from its declared state (drift record {}: {})",
            x.sequence,
            serde_json::to_string(&dd.resources.clone().unwrap_or_default())?
        ));
    }
    // A check that does not say `drifted` is never read as clean.
    if dd.drifted != Some(false) {
        return Err(refuse!(
            "release {r} cannot go to {env}: {prev}'s drift record {} does not say whether it drifted; run `cargo xtask drift --env {prev} --as IDENTITY --key FILE`",
            x.sequence
        ));
    }
    Ok(format!("{prev} runs release {r} (record {}), drift-checked clean (record {})", d.sequence, x.sequence))
}

/// Gate `policy`: the in-process evaluation passed; exceptions count only with a signed approval.
pub fn policy(s: &Session, policy: &PolicyOutcome) -> Result<String> {
    let r = short(s.digest());
    let env = s.environment.as_str();
    if !policy.passed {
        let failing: Vec<String> =
            policy.findings.iter().filter(|f| !f.excepted).take(5).map(|f| format!("{} {}", f.rule_id, f.address)).collect();
        let rejected = if policy.rejected_exceptions.is_empty() {
            String::new()
        } else {
            format!("; exceptions not honoured: {}", policy.rejected_exceptions.join("; "))
        };
        return Err(refuse!(
            "release {r} cannot go to {env}: the policy evaluation of its plan {} fails ({}){rejected}",
            short(&s.plan_digest),
            failing.join(", ")
        ));
    }
    let excepted = policy.findings.iter().filter(|f| f.excepted).count();
    let exceptions = if policy.exceptions.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = policy.exceptions.iter().map(|(id, seq)| format!("{id} (approval record {seq})")).collect();
        format!("; exceptions: {}", list.join(", "))
    };
    Ok(format!(
        "policy bundle {} passed on plan {}: {} findings, {excepted} excepted{exceptions}",
        short(&policy.policy_bundle),
        short(&s.plan_digest),
        policy.findings.len()
    ))
}

/// Gate `approvals`: the approvals recorded satisfy the requirement (or the policy identity's
/// auto-approval is recorded, or, with `assume_auto_approval`, would be by the promotion).
pub fn approvals_met(s: &Session, req: &Requirement, deployer: &str, assume_auto_approval: bool, now: OffsetDateTime) -> Result<Vec<Vote>> {
    let r = short(s.digest());
    let env = s.environment.as_str();
    let tier = req.tier;
    let (humans, workloads) = s.votes()?;
    if req.auto_approve && !assume_auto_approval {
        let pid = &s.governance.policy.policy_identity;
        let recorded = workloads.iter().any(|(v, _)| &v.identity == pid && v.plan_digest == s.plan_digest);
        if !recorded {
            return Err(refuse!("release {r} to {env} (tier {tier}) is approved by policy, but the approval by {pid} is not recorded"));
        }
    }
    let request = approval::Request {
        release: s.digest(),
        environment: env,
        plan_digest: &s.plan_digest,
        author: Some(&s.author),
        deployer,
    };
    let decision = approval::evaluate(req, &request, &humans).map_err(|e| {
        let note = if workloads.is_empty() || req.approvals == 0 {
            String::new()
        } else {
            format!(
                "; not counted: {}",
                workloads.iter().map(|(v, w)| format!("{} ({w})", v.identity)).collect::<Vec<_>>().join(", ")
            )
        };
        refuse!("{e}{note}")
    })?;
    // Approval classes (issue 31): every class the change is routed to has its quorum.
    if req.tier != Tier::Emergency {
        crate::classes::quorum::check(s, deployer, now)?;
    }
    Ok(decision.counted)
}

/// Gate `window`: the change window of the environment is open for the tier at `now`.
pub fn window(s: &Session, req: &Requirement, now: OffsetDateTime) -> Result<String> {
    let env = s.environment.as_str();
    match s.governance.windows.check(env, req.change_window, now) {
        Ok(()) => Ok(format!(
            "open for a {} change to {env} at {}{}",
            req.tier,
            crate::window::rfc3339(now),
            if req.change_window { "" } else { " (the tier is not subject to closed periods; freezes apply)" }
        )),
        Err(refusal) => Err(refuse!("{}", refusal.message(env, req.tier.as_str()))),
    }
}

/// Gate `break-glass`: when approvals or the window refused with `refusal`, an open, approved
/// break-glass session covering the release admits it as an emergency change. Ok with the
/// session's record.
pub fn break_glass(s: &Session, deployer: &str, refusal: anyhow::Error, now: OffsetDateTime) -> Result<u64> {
    let r = short(s.digest());
    let env = s.environment.as_str();
    let (humans, _) = s.votes()?;
    // Segregation of duties holds even under break-glass.
    if let Some(v) = humans.iter().find(|v| v.identity == deployer) {
        return Err(refuse!("{} approved release {r} for {env} (record {}) and cannot deploy it (segregation of duties)", v.identity, v.sequence));
    }
    let sessions: Vec<breakglass::Session> =
        breakglass::sessions(&s.records).into_iter().filter(|b| b.environment == env && b.covers(s.digest())).collect();
    let mut why = Vec::new();
    for b in sessions.iter().rev() {
        match b.usable(Some(&s.author), now) {
            Ok(()) => return Ok(b.sequence),
            Err(w) => why.push(w),
        }
    }
    match why.first() {
        Some(w) => Err(refuse!("{refusal:#}; {w}")),
        None => Err(refusal),
    }
}

/// Gate `facts`: the baseline's deployment and the previous environment's state and live
/// controls, checked where they live. `checked` is that check's result (`lz_operate::facts::gate`,
/// which reads the stores and the accounts; this crate decides and reads neither).
pub fn facts(s: &Session, checked: Result<()>) -> Result<String> {
    checked?;
    Ok(match previous_environment(&s.environment)? {
        Some(p) => format!("the baseline of {} and {p}'s state and live controls agree with their records", s.environment),
        None => format!("the baseline of {} agrees with its records", s.environment),
    })
}

fn approve_command(s: &Session) -> String {
    format!(
        "cargo xtask approve --release {} --env {} --as APPROVER --key FILE --reason TEXT",
        short(s.digest()),
        s.environment
    )
}

/// Every gate for `deployer` (`None`: the duties and the approver-deployer rule are not judged),
/// with `policy` evaluated at `now`. `assume_auto_approval`: the policy identity's approval of
/// an auto-approved tier counts as recorded (the promotion records it before admitting).
pub fn evaluate(
    s: &Session,
    deployer: Option<&str>,
    policy_outcome: &PolicyOutcome,
    now: OffsetDateTime,
    assume_auto_approval: bool,
) -> Gates {
    let r = short(s.digest()).to_string();
    let env = s.environment.clone();
    let mut gates = Vec::new();
    gates.push(match deployer {
        Some(d) => Check::of(Gate::Duties, duties(s, d), || None, Value::Null),
        None => Check::not_checked(Gate::Duties, "no deployer named (`--as IDENTITY`)"),
    });
    let prev = previous_environment(&env).ok().flatten();
    gates.push(Check::of(
        Gate::PreviousEnvironment,
        previous(s),
        || {
            let p = prev?;
            Some(match last_deployment(&s.records, p) {
                Some(d) if d.release == s.digest() => format!("cargo xtask drift --env {p} --as IDENTITY --key FILE"),
                _ => format!("cargo xtask promote --release {r} --to {p} --as DEPLOYER --key FILE --policy-key FILE"),
            })
        },
        json!({"previous": prev}),
    ));
    gates.push(Check::of(
        Gate::Policy,
        policy(s, policy_outcome),
        || Some(format!("cargo xtask policy --env {env} (findings with their rules); an exception needs `cargo xtask exceptions approve --release {r} --as APPROVER --key FILE`")),
        json!({
            "bundle": policy_outcome.policy_bundle,
            "passed": policy_outcome.passed,
            "failing": policy_outcome.findings.iter().filter(|f| !f.excepted).map(|f| json!({"rule": f.rule_id, "address": f.address})).collect::<Vec<_>>(),
            "exceptions": policy_outcome.exceptions.iter().map(|(id, seq)| json!({"id": id, "approval": seq})).collect::<Vec<_>>(),
            "rejected_exceptions": policy_outcome.rejected_exceptions,
        }),
    ));
    let classification = match s.classify() {
        Ok(c) => c,
        Err(e) => {
            gates.push(Check::failed(Gate::Tier, e, None, Value::Null));
            for g in [Gate::Approvals, Gate::Window, Gate::BreakGlass] {
                gates.push(Check::not_checked(g, "the tier could not be classified"));
            }
            return finish(s, deployer, now, gates, None, None, None, None);
        }
    };
    let tier = classification.tier;
    // The rules that put resources at the change's tier, with how many each.
    let mut rules: std::collections::BTreeMap<&str, usize> = Default::default();
    for x in classification.resources.iter().filter(|x| x.tier == tier) {
        *rules.entry(x.rule.as_str()).or_default() += 1;
    }
    let mut by_count: Vec<(&str, usize)> = rules.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    gates.push(Check::met(
        Gate::Tier,
        format!(
            "{tier}: {} changed resources{}",
            classification.resources.len(),
            if by_count.is_empty() {
                String::new()
            } else {
                format!("; {tier} by rule {}", by_count.iter().map(|(r, n)| format!("{r} ({n})")).collect::<Vec<_>>().join(", "))
            }
        ),
        json!({"rules": by_count.iter().map(|(r, n)| json!({"rule": r, "resources": n})).collect::<Vec<_>>()}),
    ));
    let requirement = s.requirement(tier);
    let view = approvals(s, &requirement, deployer);
    let counted = approvals_met(s, &requirement, deployer.unwrap_or(""), assume_auto_approval, now);
    let approvals_why = |v: &[Vote]| {
        if requirement.auto_approve {
            format!("tier {tier} is approved by policy ({})", s.governance.policy.policy_identity)
        } else {
            let list: Vec<String> = v.iter().map(|v| format!("{} ({}, record {})", v.identity, v.group, v.sequence)).collect();
            format!("{} of {} approvals: {}", v.len(), requirement.approvals, if list.is_empty() { "none needed".into() } else { list.join(", ") })
        }
    };
    let (approvals_check, counted) = match counted {
        Ok(v) => (Check::met(Gate::Approvals, approvals_why(&v), Value::Null), Some(v)),
        Err(e) => (Check::failed(Gate::Approvals, e, Some(approve_command(s)), Value::Null), None),
    };
    let window_check = Check::of(
        Gate::Window,
        window(s, &requirement, now),
        || {
            Some(format!(
                "wait for the next open window, or open a break-glass session: cargo xtask break-glass open --env {env} --as IDENTITY --key FILE --reason TEXT --ticket ID --ttl MINUTES --release {r}"
            ))
        },
        Value::Null,
    );
    let normal = approvals_check.error.is_none() && window_check.error.is_none();
    let mut admission = None;
    let mut tier_run = Some(tier);
    let break_glass_check = if normal {
        admission = counted.map(|approvals| Admission {
            tier,
            classified_tier: tier,
            requirement: requirement.clone(),
            approvals,
            break_glass: None,
            classification: classification.clone(),
            adoptions: Vec::new(),
        });
        Check { gate: Gate::BreakGlass, status: Status::NotNeeded, why: "approvals and window are met".into(), resolve: None, detail: Value::Null, error: None }
    } else {
        // The refusal of the normal path: approvals first, then the window (as the promotion
        // checks them).
        let refusal = match (&approvals_check.error, &window_check.error) {
            (Some(e), _) | (None, Some(e)) => refuse_again(e),
            (None, None) => unreachable!("not the normal path"),
        };
        let refusal_text = format!("{refusal:#}");
        match break_glass(s, deployer.unwrap_or(""), refusal, now) {
            Ok(seq) => {
                tier_run = Some(Tier::Emergency);
                admission = Some(Admission {
                    tier: Tier::Emergency,
                    classified_tier: tier,
                    requirement: s.governance.policy.requirement(Tier::Emergency, &env),
                    approvals: Vec::new(),
                    break_glass: Some(seq),
                    classification: classification.clone(),
                    adoptions: Vec::new(),
                });
                Check::met(Gate::BreakGlass, format!("break-glass {seq} admits the release as an emergency change"), json!({"record": seq}))
            }
            Err(e) => {
                // The promotion refuses with the normal path's refusal and why no session
                // helps; the gate itself says the latter.
                let all = format!("{e:#}");
                let why = match all.strip_prefix(&format!("{refusal_text}; ")) {
                    Some(w) => w.to_string(),
                    None if all == refusal_text => format!("no approved, open break-glass session of {env} covers release {r}"),
                    None => all,
                };
                let mut c = Check::failed(
                Gate::BreakGlass,
                e,
                Some(format!(
                    "cargo xtask break-glass open --env {env} --as IDENTITY --key FILE --reason TEXT --ticket ID --ttl MINUTES --release {r}, then `cargo xtask break-glass approve --id RECORD --as APPROVER --key FILE --reason TEXT`"
                )),
                Value::Null,
            );
                c.why = why;
                c
            }
        }
    };
    let waived = admission.as_ref().is_some_and(|a| a.break_glass.is_some());
    let (mut approvals_check, mut window_check) = (approvals_check, window_check);
    for c in [&mut approvals_check, &mut window_check] {
        if waived && c.status == Status::Unmet {
            c.status = Status::Waived;
        }
        // Break-glass was tried: its verdict (the refusal with why no session helps) is the one
        // the promotion gives.
        if !normal {
            c.error = None;
        }
    }
    gates.push(approvals_check);
    gates.push(window_check);
    gates.push(break_glass_check);
    // The moves are judged once: the gate shows them, the admission carries them to the records.
    let (adoption_why, planned) = match adoption(s, now, admission.as_ref().and_then(|a| a.break_glass)) {
        Ok((why, planned)) => (Ok(why), planned),
        Err(e) => (Err(e), Vec::new()),
    };
    gates.push(Check::of(Gate::Adoption, adoption_why, || Some("cargo xtask catalog adoption".into()), Value::Null));
    if let Some(a) = admission.as_mut() {
        a.adoptions = planned;
    }
    let view = view.ok();
    finish(s, deployer, now, gates, Some(classification), view, tier_run, admission)
}

/// Gate `adoption`: the services whose module version the release moves, each at a wave its
/// rollout has reached by `now` on the chain (`crate::adoption::admit`), and no move under
/// break-glass (an adoption record rests on approvals, which an emergency has not). Returns
/// why, and the moves.
pub fn adoption(s: &Session, now: OffsetDateTime, break_glass: Option<u64>) -> Result<(String, Vec<crate::adoption::Planned>)> {
    let key = crate::judged::Key {
        release: s.digest().to_string(),
        environment: s.environment.clone(),
        governing: s.governed_by.release().to_string(),
        governing_catalog: s.governing_catalog.clone(),
        plan_digest: s.plan_digest.clone(),
        paths: format!("{:?}", s.paths),
        now: now.unix_timestamp(),
    };
    let planned = s.adoptions_judged.once(key, &s.records, || crate::adoption::admit(s, now.unix_timestamp()))?;
    let Some(first) = planned.first() else { return Ok(("the release moves no module version".into(), planned)) };
    if let Some(bg) = break_glass {
        return Err(refuse!(
            "break-glass {bg} cannot move module versions ({} {} {} -> {} and {} more): a move (a rollback too) needs an approved release, whose adoption records rest on its approvals",
            first.service,
            first.module,
            first.from,
            first.to,
            planned.len() - 1
        ));
    }
    let moves: Vec<String> = planned
        .iter()
        .map(|p| match p.rollback_of {
            Some(r) => format!("{} {} {} -> {} (rollback of record {r})", p.service, p.module, p.from, p.to),
            None => format!("{} {} {} -> {} (wave {})", p.service, p.module, p.from, p.to, p.wave),
        })
        .collect();
    Ok((format!("moves {}", moves.join(", ")), planned))
}

/// A copy of a refusal (the break-glass gate returns it combined or as is).
fn refuse_again(e: &anyhow::Error) -> anyhow::Error {
    if is_refusal(e) {
        refuse!("{e:#}")
    } else {
        anyhow::anyhow!("{e:#}")
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    s: &Session,
    deployer: Option<&str>,
    now: OffsetDateTime,
    gates: Vec<Check>,
    classification: Option<Classification>,
    approvals: Option<Approvals>,
    tier: Option<Tier>,
    admission: Option<Admission>,
) -> Gates {
    let mut g = Gates {
        release: s.digest().to_string(),
        environment: s.environment.clone(),
        deployer: deployer.map(str::to_string),
        plan_digest: s.plan_digest.clone(),
        governed_by: s.describe(),
        time: crate::window::rfc3339(now),
        clock: String::new(),
        tier,
        classified_tier: classification.as_ref().map(|c| c.tier),
        admitted: false,
        refusal: None,
        gates,
        approvals,
        classification,
        admission,
    };
    g.settle();
    g
}

impl Gates {
    fn first_failure(&self) -> Option<&Check> {
        self.gates.iter().find(|c| c.error.is_some() && !c.is_met())
    }

    /// The exit code of the dry run: 0 when the promotion would be admitted, 1 when a gate
    /// refuses, 2 when the first failing gate could not be judged (a tool or input error, as the
    /// promotion itself would exit).
    pub fn exit_code(&self) -> u8 {
        match self.first_failure() {
            None => 0,
            Some(c) if c.status == Status::Unmet => 1,
            Some(_) => 2,
        }
    }

    fn settle(&mut self) {
        let refusal = self.first_failure().and_then(|c| c.error.as_ref()).map(|e| format!("{e:#}"));
        self.admitted = refusal.is_none() && self.admission.is_some() && self.deployer.is_some();
        self.refusal = refusal;
    }

    /// Adds the `facts` gate (checked after the others, where the facts live).
    pub fn with_facts(mut self, s: &Session, checked: Result<()>) -> Gates {
        let resolve = previous_environment(&s.environment)
            .ok()
            .flatten()
            .map(|p| format!("cargo xtask drift --env {p} --as IDENTITY --key FILE"));
        self.gates.push(Check::of(Gate::Facts, facts(s, checked), || resolve, Value::Null));
        self.settle();
        self
    }

    /// What the promotion decides: the first refusal (or failed check) in gate order, or the
    /// admission.
    pub fn admission(mut self) -> Result<Admission> {
        if let Some(i) = self.gates.iter().position(|c| c.error.is_some() && !c.is_met()) {
            return Err(self.gates.swap_remove(i).error.expect("a failed check carries its error"));
        }
        self.admission.take().ok_or_else(|| refuse!("no deployer named: the gates cannot admit the release"))
    }

    /// The gates as a table for people; `resources`: with the tier of every changed resource
    /// (`classify`).
    pub fn render_text(&self, resources: bool) -> String {
        let mut out = format!(
            "release {} to {} (plan {}), {}\ndeployer {}; judged at {} ({})\n",
            short(&self.release),
            self.environment,
            short(&self.plan_digest),
            self.governed_by,
            self.deployer.as_deref().unwrap_or("(not named)"),
            self.time,
            self.clock
        );
        out.push_str(&format!("\n{:<21} {:<12} WHY\n", "GATE", "STATUS"));
        for c in &self.gates {
            out.push_str(&format!("{:<21} {:<12} {}\n", c.gate.as_str(), c.status.as_str(), c.why));
            if let Some(r) = c.resolve.as_ref().filter(|_| !c.is_met()) {
                out.push_str(&format!("{:<34} resolve: {r}\n", ""));
            }
        }
        if let Some(a) = &self.approvals {
            out.push_str(&format!(
                "\napprovals for a {} change to {}: {}\n",
                a.tier,
                self.environment,
                if a.auto_approve {
                    format!("approved by policy ({}), recorded when the promotion runs", a.policy_identity)
                } else {
                    format!(
                        "{} by different people from {}{}{}",
                        a.required,
                        a.eligible_groups.join(", "),
                        if a.required_groups.is_empty() { String::new() } else { format!("; required groups: {}", a.required_groups.join(", ")) },
                        if a.distinct_groups { "; each from a different group" } else { "" }
                    )
                }
            ));
            let groups: std::collections::BTreeSet<&String> = a.eligible_groups.iter().chain(a.present.keys()).collect();
            for g in groups {
                let given: Vec<String> =
                    a.present.get(g).map(|v| v.iter().map(|x| format!("{} (record {})", x.identity, x.record)).collect()).unwrap_or_default();
                let may = a.may_approve.get(g).cloned().unwrap_or_default();
                out.push_str(&format!(
                    "  {:<11} present: {:<30} may approve: {}{}\n",
                    g,
                    if given.is_empty() { "-".to_string() } else { given.join(", ") },
                    if may.is_empty() { "-".to_string() } else { may.join(", ") },
                    if a.required_groups.contains(g) { "  (required)" } else { "" }
                ));
            }
            for n in &a.not_counted {
                out.push_str(&format!("  not counted: {} ({}, record {}): {}\n", n.identity, n.group, n.record, n.why));
            }
        }
        if let Some(c) = self.classification.as_ref().filter(|_| resources) {
            out.push('\n');
            out.push_str(&c.render_text());
        }
        out.push_str(&match (&self.refusal, self.admitted) {
            (Some(r), _) => format!("\nverdict: refused: {r}\n"),
            (None, true) => format!(
                "\nverdict: admitted at tier {}\n",
                self.tier.map(|t| t.as_str()).unwrap_or("?")
            ),
            (None, false) => "\nverdict: every gate judged is met; name the deployer (`--as`) to judge segregation of duties\n".into(),
        });
        out
    }
}

impl Session {
    /// The gates, as a function of the session and a policy outcome: Ok with what they
    /// decided, or the refusal.
    pub fn admit(
        &self,
        deployer: &str,
        policy: &PolicyOutcome,
        now: OffsetDateTime,
    ) -> Result<Admission> {
        self.admit_inner(deployer, policy, now, false)
    }

    /// The gates as if the policy identity's auto-approval were recorded (the dry run that
    /// decides whether to record it).
    pub fn admit_assuming_auto_approval(
        &self,
        deployer: &str,
        policy: &PolicyOutcome,
        now: OffsetDateTime,
    ) -> Result<Admission> {
        self.admit_inner(deployer, policy, now, true)
    }

    fn admit_inner(
        &self,
        deployer: &str,
        policy: &PolicyOutcome,
        now: OffsetDateTime,
        assume_auto_approval: bool,
    ) -> Result<Admission> {
        // The named gate steps ([`evaluate`]), which `promote --dry-run` and `classify` show.
        evaluate(self, Some(deployer), policy, now, assume_auto_approval).admission()
    }
}

/// The dry run of a promotion of the session's release by `deployer`: the clock read and
/// bounded as the promotion does, the policy evaluated in process (nothing is recorded), every
/// gate judged with the auto-approval counted as the promotion would record it, then the facts
/// where they live when `facts` is given (`lz_operate::facts::gate` on the target and the
/// previous environment).
pub fn dry_run(s: &Session, deployer: Option<&str>, clock: &crate::clock::Clock, facts: Option<&dyn Fn(&Session) -> Result<()>>) -> Result<Gates> {
    let now = &crate::clock::bound(&s.paths, s.identities(), s.governance.windows.max_clock_skew_minutes, clock.now()?)?;
    let policy = s.evaluate_policy(now.time)?;
    let mut g = evaluate(s, deployer, &policy, now.time, true);
    g.clock = now.source.clone();
    Ok(match facts {
        Some(f) => g.with_facts(s, f(s)),
        None => g,
    })
}
