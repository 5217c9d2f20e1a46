//! Approval classes (issue 31): who must approve what a change touches, beyond its tier.
//!
//! `governance/approval-classes.toml` (of the governing release) names classes (keys, secrets,
//! order routing, market connectivity, platform-technical, security-policy, the operations and
//! business release window), each with its control, eligible groups, named in-person approvers,
//! quorum, target time, routing rules over the resources and attributes a change touches, and
//! an on-call rota with time zones. A change needs every class a rule routes one of its
//! resources to (resources below `routed_from_tier` go nowhere: a tag-only change needs nothing
//! beyond its tier). A resource of `must_route_from_tier` or above that no rule routes, or one
//! `[coverage]` sends to a class whose routes miss it, is a refusal: a routing rule that misses
//! a key change fails closed, never open.
//!
//! An approval stands for a class on one of three bases, resolved from the verified chain and
//! the governing release, at approval time ([`crate::session::Session::approve`]) and again at
//! every admission and its replay ([`quorum::check`]):
//! - **in person**: a named approver of the class (or, when it names none, a person with the
//!   approver role in an eligible group);
//! - **delegation**: a `delegation` record signed by an in-person approver of the class names
//!   the approver (a person with the approver role in an eligible group) for that class, for a
//!   period covering the approval, no longer than `max_delegation_days`, and not revoked; the
//!   delegate is never the release's author nor its deployer, and a delegate never delegates
//!   again (the verifier refuses re-delegation and cycles, [`lz_evidence::verify`]);
//! - **on call**: the approver's shift of the class's rota covers the approval, and the
//!   approval holds until the shift ends.
//!
//! Time always comes from the bounded clock of the decision ([`crate::clock`]), never the local
//! clock. Escalation names the next person of the rota once the class's target time has passed
//! since the release's authorship without enough approvals; it never lowers the requirement.
//!
//! This module holds the register and the bases; [`quorum`] judges a session's change against
//! its approvals, and [`delegation`] records delegations and their revocations.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use chrono::{Datelike, TimeZone, Timelike};
use globset::GlobSet;
use lz_evidence::details::ClassApproval;
use lz_evidence::record::Kind;
use lz_evidence::Identities;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::diff::{Action, Diff};
use crate::ledger::Record;
use crate::tier::{globs, parse_toml, Classification, Tier};

pub mod delegation;
pub mod quorum;

pub const APPROVAL_CLASSES: &str = "governance/approval-classes.toml";

/// Bases of a class approval, as records and reports name them.
pub const IN_PERSON: &str = "in-person";
pub const DELEGATION: &str = "delegation";
pub const ON_CALL: &str = "on-call";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClasses {
    environments: Vec<String>,
    routed_from_tier: String,
    must_route_from_tier: String,
    max_delegation_days: u32,
    #[serde(default)]
    coverage: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "class")]
    classes: BTreeMap<String, RawClass>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    control: String,
    groups: Vec<String>,
    #[serde(default)]
    approvers: Vec<String>,
    quorum: u32,
    target_minutes: u32,
    #[serde(default)]
    route: Vec<RawRoute>,
    #[serde(default)]
    rota: Vec<RawShift>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    min_tier: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShift {
    identity: String,
    timezone: String,
    days: Vec<String>,
    start: String,
    end: String,
}

#[derive(Debug)]
struct Route {
    types: Option<GlobSet>,
    addresses: Option<GlobSet>,
    attributes: Option<GlobSet>,
    actions: Vec<Action>,
    min_tier: Option<Tier>,
}

/// One shift of a rota: `identity` is on call on `days` from `start` to `end` in `timezone`
/// (an IANA name: `Europe/London`); an `end` at or before `start` ends on the next day.
#[derive(Clone, Debug)]
pub struct Shift {
    pub identity: String,
    pub timezone: chrono_tz::Tz,
    days: Vec<chrono::Weekday>,
    start: chrono::NaiveTime,
    end: chrono::NaiveTime,
}

#[derive(Debug)]
pub struct Class {
    pub name: String,
    pub control: String,
    pub groups: Vec<String>,
    pub approvers: Vec<String>,
    pub quorum: u32,
    pub target_minutes: u32,
    routes: Vec<Route>,
    pub rota: Vec<Shift>,
}

#[derive(Debug)]
pub struct Classes {
    pub environments: Vec<String>,
    /// Resources below this tier are routed to no class.
    pub routed_from_tier: Tier,
    /// Resources of this tier or above must be routed to some class.
    pub must_route_from_tier: Tier,
    /// Class -> resource types that must be routed to it.
    coverage: Vec<(String, GlobSet)>,
    pub max_delegation_days: u32,
    pub classes: Vec<Class>,
}

fn weekday(s: &str) -> Option<chrono::Weekday> {
    chrono::Weekday::from_str(s).ok()
}

fn hhmm(s: &str) -> Option<chrono::NaiveTime> {
    chrono::NaiveTime::parse_from_str(s, "%H:%M").ok()
}

impl Classes {
    /// The classes of the governing release; a release without the file has none.
    pub fn of(release: &crate::release::VerifiedRelease) -> Result<Classes> {
        match release.files.get(APPROVAL_CLASSES) {
            None => Ok(Classes::none()),
            Some(b) => {
                let text = String::from_utf8(b.clone()).with_context(|| format!("{}: not UTF-8", release.origin(APPROVAL_CLASSES)))?;
                Classes::parse(&text, &release.origin(APPROVAL_CLASSES))
            }
        }
    }

    /// No classes: nothing beyond the tier's approvals.
    pub fn none() -> Classes {
        Classes {
            environments: Vec::new(),
            routed_from_tier: Tier::Emergency,
            must_route_from_tier: Tier::Emergency,
            coverage: Vec::new(),
            max_delegation_days: 0,
            classes: Vec::new(),
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Classes> {
        let raw: RawClasses = parse_toml(text, origin)?;
        for e in &raw.environments {
            if !lz_platform::ENVIRONMENTS.contains(&e.as_str()) {
                bail!("{origin}: environment {e:?} is not one of {}", lz_platform::ENVIRONMENTS.join(", "));
            }
        }
        let tier = |s: &str, what: &str| Tier::parse(s).with_context(|| format!("{origin}: {what} {s:?} is not a tier"));
        let routed_from_tier = tier(&raw.routed_from_tier, "routed_from_tier")?;
        let must_route_from_tier = tier(&raw.must_route_from_tier, "must_route_from_tier")?;
        let max = lz_evidence::verify::DELEGATION_MAX_DAYS;
        if raw.max_delegation_days == 0 || i64::from(raw.max_delegation_days) > max {
            bail!("{origin}: max_delegation_days is {}, not between 1 and {max}", raw.max_delegation_days);
        }
        let mut classes = Vec::new();
        for (name, c) in raw.classes {
            let at = |m: String| anyhow::anyhow!("{origin}: [class.{name}]: {m}");
            if c.groups.is_empty() {
                return Err(at("names no eligible groups".into()));
            }
            for g in &c.groups {
                if !lz_evidence::identity::GROUPS.contains(&g.as_str()) {
                    return Err(at(format!("group {g:?} is not one of {}", lz_evidence::identity::GROUPS.join(", "))));
                }
            }
            if c.quorum == 0 {
                return Err(at("quorum is 0: a class needs at least one approval".into()));
            }
            if c.target_minutes == 0 {
                return Err(at("target_minutes is 0".into()));
            }
            if c.route.is_empty() {
                return Err(at("has no routing rule ([[class.NAME.route]])".into()));
            }
            let mut routes = Vec::new();
            for (i, r) in c.route.iter().enumerate() {
                let id = format!("{name}.route[{i}]");
                if r.types.is_empty() && r.addresses.is_empty() && r.attributes.is_empty() && r.actions.is_empty() && r.min_tier.is_none() {
                    return Err(at(format!("route {i} matches every resource: set types, addresses, attributes, actions or min_tier")));
                }
                let actions = r
                    .actions
                    .iter()
                    .map(|a| Action::parse(a).ok_or_else(|| at(format!("route {i}: action {a:?} is not create, update, delete or replace"))))
                    .collect::<Result<Vec<_>>>()?;
                routes.push(Route {
                    types: globs(&r.types, "type", &id)?,
                    addresses: globs(&r.addresses, "address", &id)?,
                    attributes: globs(&r.attributes, "attribute", &id)?,
                    actions,
                    min_tier: r.min_tier.as_deref().map(|t| tier(t, &format!("[class.{name}] route {i}: min_tier"))).transpose()?,
                });
            }
            let mut rota = Vec::new();
            for (i, s) in c.rota.iter().enumerate() {
                let timezone = chrono_tz::Tz::from_str(&s.timezone)
                    .map_err(|_| at(format!("rota {i}: timezone {:?} is not an IANA time zone (Europe/London)", s.timezone)))?;
                let days = s
                    .days
                    .iter()
                    .map(|d| weekday(d).ok_or_else(|| at(format!("rota {i}: day {d:?} is not a weekday (mon..sun)"))))
                    .collect::<Result<Vec<_>>>()?;
                if days.is_empty() {
                    return Err(at(format!("rota {i}: no days")));
                }
                let t = |v: &str, k: &str| hhmm(v).ok_or_else(|| at(format!("rota {i}: {k} {v:?} is not HH:MM")));
                let (start, end) = (t(&s.start, "start")?, t(&s.end, "end")?);
                rota.push(Shift { identity: s.identity.clone(), timezone, days, start, end });
            }
            classes.push(Class {
                name: name.clone(),
                control: c.control,
                groups: c.groups,
                approvers: c.approvers,
                quorum: c.quorum,
                target_minutes: c.target_minutes,
                routes,
                rota,
            });
        }
        let mut coverage = Vec::new();
        for (class, types) in &raw.coverage {
            if !classes.iter().any(|c: &Class| &c.name == class) {
                bail!("{origin}: [coverage] names class {class:?}, which is not a class");
            }
            let set = globs(types, "coverage type", class)?.with_context(|| format!("{origin}: [coverage] {class} names no type"))?;
            coverage.push((class.clone(), set));
        }
        Ok(Classes {
            environments: raw.environments,
            routed_from_tier,
            must_route_from_tier,
            coverage,
            max_delegation_days: raw.max_delegation_days,
            classes,
        })
    }

    /// Names of identities the classes use that `register` does not hold as a person with the
    /// approver role in an eligible group (for `check` and the gate).
    pub fn unknown_people(&self, register: &Identities) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.classes {
            for n in c.approvers.iter().chain(c.rota.iter().map(|s| &s.identity)) {
                let ok = register.get(n).is_some_and(|id| id.is_person() && id.has_role(lz_evidence::Role::Approver));
                if !ok {
                    out.push(format!("[class.{}] names {n}, who is not a registered person with the approver role", c.name));
                }
            }
        }
        out
    }

    pub fn class(&self, name: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// The classes `classification` (with the attribute paths of `diff`) needs in its
    /// environment. Pure.
    pub fn route(&self, diff: &Diff, classification: &Classification) -> Routing {
        let env = classification.environment.as_str();
        let mut routing = Routing { environment: env.to_string(), applies: self.environments.iter().any(|e| e == env), ..Default::default() };
        if !routing.applies {
            return routing;
        }
        let paths: BTreeMap<&str, &[String]> = diff.changes.iter().map(|c| (c.address.as_str(), c.paths.as_slice())).collect();
        let mut by_class: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for r in classification.resources.iter().filter(|r| r.tier >= self.routed_from_tier) {
            let p = paths.get(r.address.as_str()).copied().unwrap_or(&[]);
            let mut hit = BTreeSet::new();
            for c in &self.classes {
                if c.routes.iter().any(|rt| rt.matches(&r.resource_type, &r.address, r.action, p, r.tier)) {
                    by_class.entry(&c.name).or_default().push(r.address.clone());
                    hit.insert(c.name.as_str());
                }
            }
            if hit.is_empty() && r.tier >= self.must_route_from_tier {
                routing.unrouted.push(format!("{} ({}, tier {} by rule {}) is routed to no class", r.address, r.resource_type, r.tier, r.rule));
            }
            for (class, types) in &self.coverage {
                if types.is_match(&r.resource_type) && !hit.contains(class.as_str()) {
                    routing.unrouted.push(format!("{} ({}) is not routed to class {class}, which [coverage] requires", r.address, r.resource_type));
                }
            }
        }
        for c in &self.classes {
            if let Some(res) = by_class.remove(c.name.as_str()) {
                routing.classes.push(Routed { class: c.name.clone(), control: c.control.clone(), quorum: c.quorum, resources: res });
            }
        }
        routing
    }
}

impl Route {
    fn matches(&self, rtype: &str, address: &str, action: Action, paths: &[String], tier: Tier) -> bool {
        self.types.as_ref().is_none_or(|g| g.is_match(rtype))
            && self.addresses.as_ref().is_none_or(|g| g.is_match(address))
            && (self.actions.is_empty() || self.actions.contains(&action))
            && self.attributes.as_ref().is_none_or(|g| paths.iter().any(|p| g.is_match(p)))
            && self.min_tier.is_none_or(|t| tier >= t)
    }
}

/// The classes a change needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Routing {
    pub environment: String,
    /// Whether classes apply in the environment at all.
    pub applies: bool,
    pub classes: Vec<Routed>,
    /// Resources of `must_route_from_tier` or above that no rule routes, and resources
    /// `[coverage]` sends to a class their routes miss: the change is refused.
    pub unrouted: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Routed {
    pub class: String,
    pub control: String,
    pub quorum: u32,
    /// The resources that routed the change to the class.
    pub resources: Vec<String>,
}

impl Shift {
    /// The end of the shift that covers `t` (UTC), if one does.
    pub fn covering(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let utc = chrono::DateTime::<chrono::Utc>::from_timestamp(t.unix_timestamp(), 0)?;
        let local = utc.with_timezone(&self.timezone);
        let (day, now) = (local.date_naive(), local.time().with_second(0)?.with_nanosecond(0)?);
        let overnight = self.end <= self.start;
        let end_on = |d: chrono::NaiveDate| -> Option<OffsetDateTime> {
            let e = self.timezone.from_local_datetime(&d.and_time(self.end)).earliest()?;
            OffsetDateTime::from_unix_timestamp(e.timestamp()).ok()
        };
        let listed = |d: chrono::NaiveDate| self.days.contains(&d.weekday());
        if !overnight {
            return (listed(day) && now >= self.start && now < self.end).then(|| end_on(day)).flatten();
        }
        if listed(day) && now >= self.start {
            return end_on(day.succ_opt()?);
        }
        let yesterday = day.pred_opt()?;
        (listed(yesterday) && now < self.end).then(|| end_on(day)).flatten()
    }
}

impl Class {
    /// Whether `who` approves for the class in person.
    pub fn in_person(&self, who: &lz_evidence::Identity) -> bool {
        who.is_person()
            && who.has_role(lz_evidence::Role::Approver)
            && if self.approvers.is_empty() { self.groups.contains(&who.group) } else { self.approvers.contains(&who.name) }
    }

    /// Whether `who` is eligible to stand for the class by delegation or on call.
    pub fn eligible(&self, who: &lz_evidence::Identity) -> bool {
        who.is_person() && who.has_role(lz_evidence::Role::Approver) && self.groups.contains(&who.group)
    }

    /// Who is on call at `t` (the first shift of the rota that covers it) and until when, with
    /// the position of the shift in the rota.
    pub fn on_call(&self, t: OffsetDateTime) -> Option<(usize, &Shift, OffsetDateTime)> {
        self.rota.iter().enumerate().find_map(|(i, s)| s.covering(t).map(|end| (i, s, end)))
    }
}

/// A delegation as resolved from the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Held {
    pub record: u64,
    pub delegator: String,
    pub from: String,
    pub until: String,
}

/// The delegation of `class` that lets `delegate` approve at `t`, among `records` (the chain a
/// decision sees, before `before`): signed by an in-person approver of the class (as the
/// register entry in force when the delegation was signed says: a verdict depends on the
/// records before it, never on a later register change), for `delegate`, covering `t`, no
/// longer than governance allows, not revoked. `Err` says why none holds.
pub fn delegation_for(
    classes: &Classes,
    class: &Class,
    records: &[Record],
    delegate: &str,
    t: OffsetDateTime,
    before: u64,
) -> std::result::Result<Held, String> {
    let revoked: BTreeSet<u64> =
        records.iter().filter_map(|r| r.details.delegation_revocation().map(|d| d.delegation_sequence)).collect();
    let mut why = Vec::new();
    for r in records.iter().filter(|r| r.kind == Kind::Delegation && r.sequence < before) {
        let Some(d) = r.details.delegation() else { continue };
        if d.class != class.name || d.delegate != delegate {
            continue;
        }
        let (Ok(from), Ok(until)) = (lz_evidence::record::parse_time(&d.from), lz_evidence::record::parse_time(&d.until)) else {
            why.push(format!("delegation {} has no readable period", r.sequence));
            continue;
        };
        let delegator_holds = class.in_person(&r.signer);
        if r.identity != d.delegator {
            why.push(format!("delegation {} is signed by {}, not its delegator {}", r.sequence, r.identity, d.delegator));
        } else if !delegator_holds {
            why.push(format!("delegation {}: {} is no in-person approver of class {} and cannot delegate it", r.sequence, d.delegator, class.name));
        } else if revoked.contains(&r.sequence) {
            why.push(format!("delegation {} from {} was revoked", r.sequence, d.delegator));
        } else if until - from > time::Duration::days(i64::from(classes.max_delegation_days)) {
            why.push(format!(
                "delegation {} from {} lasts longer than the {} days governance allows",
                r.sequence, d.delegator, classes.max_delegation_days
            ));
        } else if t < from || t >= until {
            why.push(format!("delegation {} from {} holds from {} until {}, not at {}", r.sequence, d.delegator, d.from, d.until, crate::window::rfc3339(t)));
        } else {
            return Ok(Held { record: r.sequence, delegator: d.delegator.clone(), from: d.from.clone(), until: d.until.clone() });
        }
    }
    Err(if why.is_empty() { format!("no delegation of class {} names {delegate}", class.name) } else { why.join("; ") })
}

/// The basis on which `who` stands for `class` with an approval at `t` (record `before`, or the
/// next one), as the approval record carries it; `Err` says why no basis holds.
pub fn basis(
    classes: &Classes,
    class: &Class,
    records: &[Record],
    who: &lz_evidence::Identity,
    t: OffsetDateTime,
    before: u64,
) -> std::result::Result<ClassApproval, String> {
    let base = ClassApproval { class: class.name.clone(), control: class.control.clone(), ..Default::default() };
    if class.in_person(who) {
        return Ok(ClassApproval { basis: IN_PERSON.into(), ..base });
    }
    if !class.eligible(who) {
        return Err(format!(
            "{} (group {}) is not eligible for class {} (groups {})",
            who.name,
            who.group,
            class.name,
            class.groups.join(", ")
        ));
    }
    let delegated = delegation_for(classes, class, records, &who.name, t, before);
    if let Ok(h) = &delegated {
        return Ok(ClassApproval { basis: DELEGATION.into(), delegator: Some(h.delegator.clone()), delegation: Some(h.record), ..base });
    }
    for s in class.rota.iter().filter(|s| s.identity == who.name) {
        if let Some(end) = s.covering(t) {
            return Ok(ClassApproval { basis: ON_CALL.into(), shift_until: Some(crate::window::rfc3339(end)), ..base });
        }
    }
    let shifts = if class.rota.iter().any(|s| s.identity == who.name) {
        format!("; no shift of {} covers {}", who.name, crate::window::rfc3339(t))
    } else {
        String::new()
    };
    Err(format!(
        "{} is neither an approver of class {} nor its delegate ({}){shifts}",
        who.name,
        class.name,
        delegated.err().unwrap_or_default()
    ))
}

/// One approval counted for a class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClassVote {
    pub identity: String,
    pub sequence: u64,
    pub time: String,
    #[serde(flatten)]
    pub basis: ClassApproval,
}

/// A required class, as judged at one time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClassStatus {
    pub class: String,
    pub control: String,
    pub quorum: u32,
    pub resources: Vec<String>,
    pub counted: Vec<ClassVote>,
    pub not_counted: Vec<String>,
    /// Who may approve now: in-person approvers, and delegates with a delegation that holds.
    pub may_approve: Vec<String>,
    /// Who is on call now, and until when.
    pub on_call: Option<(String, String)>,
    /// Named once the class's target time has passed without its quorum: the next in the rota.
    pub escalate_to: Option<String>,
}

impl ClassStatus {
    pub fn missing(&self) -> u32 {
        self.quorum.saturating_sub(self.counted.len() as u32)
    }
}

/// The classes an approval record claims, as one line for reports: "keys (LZ-APR-KEYS: ...)
/// delegated by bob (record 12); release-window (...) in person".
pub fn describe_claims(v: &serde_json::Value) -> String {
    let Ok(claims) = serde_json::from_value::<Vec<ClassApproval>>(v.clone()) else { return v.to_string() };
    claims
        .iter()
        .map(|c| {
            let basis = match (c.basis.as_str(), &c.delegator, c.delegation, &c.shift_until) {
                (DELEGATION, Some(d), Some(r), _) => format!("delegated by {d} (record {r})"),
                (ON_CALL, _, _, Some(u)) => format!("on call until {u}"),
                (IN_PERSON, ..) => "in person".to_string(),
                (b, ..) => b.to_string(),
            };
            format!("{} ({}) {basis}", c.class, c.control)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Text lines for [`quorum::missing`].
pub fn render_missing(statuses: &[ClassStatus]) -> String {
    let mut out = String::new();
    for s in statuses {
        out.push_str(&format!(
            "  class {:<20} needs {} more ({}); may approve: {}; on call: {}{}\n",
            s.class,
            s.missing(),
            s.control,
            if s.may_approve.is_empty() { "nobody".to_string() } else { s.may_approve.join(", ") },
            s.on_call.as_ref().map(|(w, u)| format!("{w} until {u}")).unwrap_or_else(|| "nobody".into()),
            s.escalate_to.as_ref().map(|e| format!("; target time passed: escalate to {e}")).unwrap_or_default()
        ));
    }
    out
}
