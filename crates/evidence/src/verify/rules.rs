//! The sequential pass: the verifier's state along the chain and the rules each record is judged by
//! (signer rule, time, subjects, kind rules, segregation of duties), and [`ChainRules`] for appends.

use std::collections::{BTreeSet, HashMap};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::quarantine;
use crate::details::{Details, DetailsError};
use crate::identity::{Identities, Identity};
use crate::quarantine::Quarantined;
use crate::record::{is_digest, parse_time, GENESIS, Kind, STATEMENT_TYPE, Statement, Subject};
use crate::store::StoredRecord;
use super::accept::lookup_in;
use super::decode::{decode, Decoded, LightPredicate, LightStatement, Pre};
use super::reason::{BREAK_GLASS_MAX_MINUTES, EXCEPTION_MAX_DAYS, Failure, Reason};

// The sequential pass

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BreakGlass {
    pub(super) opener: String,
    pub(super) release: String,
    pub(super) environment: Option<String>,
    #[serde(with = "super::serial::nanos")]
    pub(super) opened: OffsetDateTime,
    #[serde(with = "super::serial::nanos")]
    pub(super) expires: OffsetDateTime,
    pub(super) approvers: Vec<String>,
}

/// A register change proposed and not yet in force.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Proposal {
    #[serde(with = "super::serial::register")]
    pub(super) register: Identities,
    pub(super) fingerprint: String,
    /// The register it replaces: it comes into force only while that one is still in force.
    pub(super) previous: String,
    pub(super) proposer: String,
    /// Identities the change adds, removes or alters (never counted toward its quorum).
    pub(super) subjects: BTreeSet<String>,
    pub(super) approvers: BTreeSet<String>,
}

/// Serialized as a checkpoint ([`super::state_digest`]): canonical (maps sorted), `pending` and
/// `captured` left out.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct State {
    /// Shared so that the signer of a record can be borrowed while the state changes.
    #[serde(with = "super::serial::register::shared")]
    pub(super) register: std::sync::Arc<Identities>,
    pub(super) register_fp: String,
    pub(super) history: Vec<String>,
    /// Every register the chain put in force, with the first sequence it judges (0 for the
    /// one the chain starts with): signed heads are judged by the register of their place.
    #[serde(with = "super::serial::register::history")]
    pub(super) registers: Vec<(u64, std::sync::Arc<Identities>)>,
    /// Register changes proposed and awaiting their quorum, by the proposal's sequence.
    #[serde(with = "super::serial::sorted")]
    pub(super) proposals: HashMap<u64, Proposal>,
    pub(super) expected: u64,
    #[serde(with = "super::serial::hash")]
    pub(super) previous: [u8; 32],
    #[serde(with = "super::serial::last_time")]
    pub(super) last_time: Option<(OffsetDateTime, String)>,
    #[serde(with = "super::serial::hashes")]
    pub(super) hashes: Vec<[u8; 32]>,
    /// Where each record was read (a checkpoint that names a record with another hash points there).
    #[serde(with = "super::serial::locations")]
    pub(super) locations: Vec<String>,
    #[serde(with = "super::serial::sorted")]
    pub(super) break_glass: HashMap<u64, BreakGlass>,
    /// The engine each in-progress deployment record names, by its sequence.
    #[serde(with = "super::serial::sorted")]
    pub(super) engines: HashMap<u64, Option<crate::details::Engine>>,
    #[serde(with = "super::serial::sorted")]
    pub(super) authors: HashMap<String, String>,
    /// Quarantine (issue 24): objects of a slotted store are judged at their key.
    pub(super) slotted: bool,
    /// Foreign objects since the last valid record (the next record must record them).
    #[serde(skip)]
    pub(super) pending: Vec<Quarantined>,
    /// Foreign objects skipped, recorded or not.
    pub(super) quarantined: Vec<Quarantined>,
    /// Sequences of skipped keys (their place in `hashes` holds the foreign object's sha256).
    pub(super) skipped: BTreeSet<u64>,
    /// Staged module adoption (issue 32): what adoption records rest on.
    pub(super) adoptions: super::adoption::Replay,
    /// Delegations of approval classes (issue 31).
    pub(super) delegations: super::delegation::Delegations,
    /// The state as it stood after the key [`super::Strategy::capture`] names, when the pass
    /// went through it (the witness's checkpoint: see [`super::state_digest`]).
    #[serde(skip)]
    pub(super) captured: Option<Box<State>>,
}

pub(super) fn hex32(h: &[u8; 32]) -> String {
    hex::encode(h)
}

pub(super) fn fail(location: &str, sequence: Option<u64>, reason: Reason) -> anyhow::Error {
    anyhow::Error::new(Failure { location: location.to_string(), sequence, reason })
}

/// RFC 3339 time or YYYY-MM-DD (midnight UTC).
pub(super) fn time_or_date(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = parse_time(s) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).ok().map(|d| d.midnight().assume_utc())
}

pub(super) fn check_subjects(st: &LightStatement, kind: Kind) -> Result<(), String> {
    for s in &st.subject {
        if !is_digest(&s.digest.sha256) {
            return Err(format!("subject {:?} has malformed digest {:?}", s.name, s.digest.sha256));
        }
    }
    let p = &st.predicate;
    match st.subject.iter().find(|s| s.name == "release") {
        Some(s) if s.digest.sha256 == p.release => {}
        Some(s) => return Err(format!("release subject {} differs from the predicate's release {}", s.digest.sha256, p.release)),
        None => return Err("no release subject".into()),
    }
    let plans: Vec<&Subject> = st.subject.iter().filter(|s| s.name == "plan" || s.name.starts_with("plan/")).collect();
    match (&p.plan_digest, plans.as_slice()) {
        (Some(d), [s]) if &s.digest.sha256 == d => {}
        (Some(d), [s]) => return Err(format!("plan subject {} differs from the predicate's plan digest {d}", s.digest.sha256)),
        (None, []) if !kind.needs_plan() => {}
        (None, []) => return Err(format!("a {kind} record must name its plan")),
        _ => return Err("plan subject and plan digest disagree".into()),
    }
    if st.subject.len() != 1 + plans.len() {
        return Err("unexpected extra subjects".into());
    }
    Ok(())
}

/// The rule verification and append apply to every record: a record of `environment` signed by
/// an identity bound to other environments is refused.
pub(crate) fn binding_rule(signer: &Identity, environment: Option<&str>) -> Result<(), Reason> {
    match (environment, &signer.environments) {
        (Some(env), Some(bound)) if !crate::binding::signs_for(signer, env) => {
            Err(Reason::Environment { identity: signer.name.clone(), environment: env.to_string(), bound: bound.clone() })
        }
        _ => Ok(()),
    }
}

/// The rule verification and append apply to every record: a workload with the approver role
/// (the policy identity: a workload approval is always automatic) signs no record of
/// [`crate::binding::NOT_BY_POLICY_IDENTITY`], even when it also holds the deployer role (the repository's
/// `change-policy` does, for its policy evaluations).
pub(crate) fn policy_identity_rule(kind: Kind, signer: &Identity) -> Result<(), Reason> {
    if !signer.is_person() && signer.has_role(crate::identity::Role::Approver) && crate::binding::NOT_BY_POLICY_IDENTITY.contains(&kind) {
        return Err(Reason::PolicyIdentity { identity: signer.name.clone(), kind: kind.to_string() });
    }
    Ok(())
}

/// Rules a record satisfies on its own (no other record needed): details, workload approvals,
/// break-glass TTL, exception approval dates. Shared by append and verification. `details` are
/// the record's own, parsed as its kind ([`Details::parse`]); `register` is the register in
/// force at the record's place (it says whether the policy-identity rule is in force there:
/// [`crate::binding::policy_identity_rule_in_force`]).
pub(super) fn record_rules(kind: Kind, signer: &Identity, register: &Identities, p: &LightPredicate, details: &Details, time: OffsetDateTime) -> Result<(), Reason> {
    if kind.needs_environment() && p.environment.is_none() {
        return Err(Reason::Detail(format!("a {kind} record needs an environment")));
    }
    binding_rule(signer, p.environment.as_deref())?;
    if crate::binding::policy_identity_rule_in_force(register) {
        policy_identity_rule(kind, signer)?;
    }
    match details {
        Details::Approval(a) if !signer.is_person() && a.auto != Some(true) => {
            Err(Reason::WorkloadApproval { identity: signer.name.clone() })
        }
        Details::Approval(a) if signer.is_person() && a.auto == Some(true) => Err(Reason::PersonAutoApproval { identity: signer.name.clone() }),
        Details::BreakGlass(b) => {
            let expires = parse_time(&b.expires).map_err(|_| Reason::BreakGlassTtl("expires is not an RFC 3339 time".into()))?;
            let minutes = (expires - time).whole_minutes();
            if expires <= time || minutes > BREAK_GLASS_MAX_MINUTES {
                return Err(Reason::BreakGlassTtl(format!(
                    "the session lasts {minutes} minutes (from {} to {}); at most {BREAK_GLASS_MAX_MINUTES} are allowed",
                    crate::record::format_time(time),
                    crate::record::format_time(expires)
                )));
            }
            Ok(())
        }
        Details::RegisterApproval(r) => {
            if !is_digest(&r.register_sha256) {
                return Err(Reason::Detail("register_sha256 of a register-approval record is not a sha256 digest".into()));
            }
            Ok(())
        }
        Details::GovernancePin(g) => {
            for (key, v) in [("governance_sha256", &g.governance_sha256), ("register_sha256", &g.register_sha256)] {
                if !is_digest(v) {
                    return Err(Reason::Detail(format!("{key} of a governance-pin record is not a sha256 digest")));
                }
            }
            Ok(())
        }
        // Approval classes (issue 31): signed by the delegator, a bounded period.
        Details::Delegation(d) => super::delegation::period(signer, d, time).map(|_| ()),
        // Crash-safe promotion (issue 35): the lock and the run it names are not empty.
        Details::LockRecovery(l) => {
            for (key, v) in [("lock_id", &l.lock_id), ("run", &l.run)] {
                if v.trim().is_empty() {
                    return Err(Reason::Detail(format!("{key} of a lock-recovery record is not a non-empty string")));
                }
            }
            Ok(())
        }
        Details::ExceptionApproval(e) => {
            let date = |key: &str, v: &str| {
                time_or_date(v).ok_or_else(|| Reason::Detail(format!("{key} of an exception-approval is not a date")))
            };
            let (created, expires) = (date("created", &e.created)?, date("expires", &e.expires)?);
            if !(created <= time && time <= expires && expires <= time + time::Duration::days(EXCEPTION_MAX_DAYS)) {
                return Err(Reason::Detail(format!(
                    "an exception approval needs created <= approval time <= expires <= approval + {EXCEPTION_MAX_DAYS} days (created {}, approved {}, expires {})",
                    crate::record::format_time(created),
                    crate::record::format_time(time),
                    crate::record::format_time(expires)
                )));
            }
            if e.owner == signer.name {
                return Err(Reason::SegregationOfDuties(format!("{} owns the exception and cannot approve it", e.owner)));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Details of another kind than the record's (never from [`Details::parse`]).
pub(super) fn wrong_details(kind: Kind, details: &Details) -> Reason {
    Reason::Detail(format!("a {kind} record carries the details of a {} record", details.kind()))
}

/// The details of a record, or the verifier's reason to reject them (naming the field).
pub(super) fn details_of(d: &Option<Result<Details, DetailsError>>) -> Result<&Details, Reason> {
    match d {
        Some(Ok(d)) => Ok(d),
        Some(Err(e)) => Err(Reason::Detail(e.to_string())),
        None => Err(Reason::Detail("the record's details were not decoded".into())),
    }
}

/// The rules verification applies to a record on its own ([`record_rules`]: details, the
/// environment binding, approvals, break-glass TTL), for a statement already written or about
/// to be: an appender's tail walk ([`crate::quarantine`]) skips a stored record that breaks them,
/// as verification does, so one forged record (a dev key's record of prod) never ends the chain.
pub(crate) fn check_own_rules(kind: Kind, signer: &Identity, register: &Identities, statement: &Statement) -> Result<Details> {
    let payload = serde_json::to_vec(statement)?;
    let st: LightStatement = serde_json::from_slice(&payload).context("a statement decodes")?;
    let time = parse_time(&st.predicate.time)?;
    let details = Details::parse(kind, &statement.predicate.details)?;
    record_rules(kind, signer, register, &st.predicate, &details, time).map_err(|r| anyhow::anyhow!("{r}"))?;
    Ok(details)
}

/// Checks a statement the archive is about to sign against the rules verification applies to
/// a record on its own.
pub(crate) fn check_new_record(kind: Kind, signer: &Identity, register: &Identities, statement: &Statement) -> Result<()> {
    let details = check_own_rules(kind, signer, register, statement)?;
    if let Details::ExceptionApproval(e) = &details {
        if register.get(&e.owner).is_none() {
            bail!("the exception's owner {:?} is not a registered identity", e.owner);
        }
    }
    Ok(())
}

/// The rules of a verified chain as they stand after its last record: what verification would
/// check the next record by, beyond the record on its own (break-glass references and windows,
/// retrospectives, checkpoint records, register changes and approvals, exception owners). The
/// archive judges an append by it ([`crate::EvidenceArchive::open_verified`]), so a record that
/// verification would reject is refused before it is written, by the verifier's own code.
#[derive(Clone, Default)]
pub struct ChainRules(pub(super) Option<Box<State>>);

impl std::fmt::Debug for ChainRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(s) => write!(f, "ChainRules {{ after: {} records }}", s.expected),
            None => f.write_str("ChainRules { none }"),
        }
    }
}

impl ChainRules {
    /// Whether these are the rules after the chain's last record (a chain verified with its
    /// records kept); without them [`ChainRules::admit`] checks nothing.
    pub fn known(&self) -> bool {
        self.0.is_some()
    }

    /// Number of records these rules come after.
    pub fn after(&self) -> Option<u64> {
        self.0.as_ref().map(|s| s.expected)
    }

    /// Judges `statement`, signed by `signer` (its entry in the register in force) and sealed
    /// into envelope bytes hashing to `hash` (hex), as the next record: the checks of
    /// [`State::accept`] that do not need its signature. `Ok` moves the rules past it (a batch is
    /// judged record by record); `Err` is the reason verification would reject it.
    pub fn admit(&mut self, kind: Kind, signer: &Identity, statement: &Statement, hash: &str) -> Result<(), Reason> {
        let Some(state) = self.0.as_deref_mut() else { return Ok(()) };
        let payload = serde_json::to_vec(statement).map_err(|e| Reason::Statement(e.to_string()))?;
        let st: LightStatement = serde_json::from_slice(&payload).map_err(|e| Reason::Statement(e.to_string()))?;
        let p = &st.predicate;
        let time = parse_time(&p.time).map_err(|e| Reason::Statement(format!("time: {e:#}")))?;
        check_subjects(&st, kind).map_err(Reason::SubjectDigest)?;
        let details = Details::parse(kind, &statement.predicate.details).map_err(|e| Reason::Detail(e.to_string()))?;
        record_rules(kind, signer, &state.register, p, &details, time)?;
        let new_register = state.chain_rules(kind, signer, p, &details, time)?;
        let mut h = [0u8; 32];
        hex::decode_to_slice(hash, &mut h).map_err(|e| Reason::Statement(format!("hash: {e}")))?;
        state.last_time = Some((time, p.time.clone()));
        // Its key's sequence: past any foreign objects it records as skipped.
        state.expected = p.chain.sequence + 1;
        state.pending.clear();
        state.previous = h;
        state.hashes.push(h);
        if let Some(ids) = new_register {
            state.register_fp = ids.fingerprint();
            state.history.push(state.register_fp.clone());
            state.register = std::sync::Arc::new(ids);
            state.registers.push((p.chain.sequence + 1, std::sync::Arc::clone(&state.register)));
        }
        Ok(())
    }
}

impl State {
    /// Every check of one record after its signature, in order; updates the state.
    pub(super) fn accept(
        &mut self,
        rec: &StoredRecord,
        d: &Decoded,
        signer: &Identity,
        later: &mut dyn FnMut() -> Result<Vec<StoredRecord>>,
    ) -> Result<(Kind, OffsetDateTime, Option<Identities>), anyhow::Error> {
        let st = match &d.statement {
            Ok(s) => s,
            Err(e) => return Err(fail(&rec.location, None, Reason::Statement(e.clone()))),
        };
        let p = &st.predicate;
        let seq = Some(p.chain.sequence);
        let bad = |r| fail(&rec.location, seq, r);
        if st.statement_type != STATEMENT_TYPE {
            return Err(bad(Reason::Statement(format!("_type is {:?}", st.statement_type))));
        }
        if p.identity != signer.name {
            return Err(bad(Reason::WrongIdentity { key_of: signer.name.clone(), claimed: p.identity.clone() }));
        }
        let Some(kind) = Kind::from_predicate_type(&st.predicate_type) else {
            return Err(bad(Reason::PredicateType(st.predicate_type.clone())));
        };
        if !signer.may_sign(kind) {
            return Err(bad(Reason::Role { identity: signer.name.clone(), kind }));
        }
        let time = match parse_time(&p.time) {
            Ok(t) => t,
            Err(e) => return Err(bad(Reason::Statement(format!("time: {e:#}")))),
        };
        if let Err(e) = check_subjects(st, kind) {
            return Err(bad(Reason::SubjectDigest(e)));
        }
        // In a slotted store the links come first: a record quarantined for not linking must
        // not have changed the state (break-glass, proposals) on its way.
        if self.slotted {
            self.links(&rec.location, p, time, later)?;
        }
        let details = details_of(&d.details).map_err(bad)?;
        record_rules(kind, signer, &self.register, p, details, time).map_err(bad)?;
        let new_register = self.chain_rules(kind, signer, p, details, time).map_err(bad)?;
        if !self.slotted {
            self.links(&rec.location, p, time, later)?;
        }
        Ok((kind, time, new_register))
    }

    /// Chain links: sequence (with the skips of foreign objects it records), previous hash, time.
    pub(super) fn links(
        &self,
        location: &str,
        p: &LightPredicate,
        time: OffsetDateTime,
        later: &mut dyn FnMut() -> Result<Vec<StoredRecord>>,
    ) -> Result<()> {
        let expected = self.expected;
        let found = p.chain.sequence;
        let bad = |r| fail(location, Some(found), r);
        if let Some(slot) = quarantine::slot_of(location).filter(|_| self.slotted) {
            if slot != found {
                return Err(bad(Reason::Misplaced { slot, found }));
            }
        }
        let declared = quarantine::declared(p.quarantined.as_ref()).map_err(|e| bad(Reason::Quarantine(e)))?;
        let skips_ok = if !declared.is_empty() || (self.slotted && found > expected) {
            quarantine::check_skips(expected, found, &declared, &self.pending, self.slotted)
                .map_err(|e| bad(Reason::Quarantine(e)))?
                .is_some()
        } else {
            found == expected
        };
        if !skips_ok {
            let reason = if found < expected {
                Reason::Duplicate { expected, found }
            } else if self.appears_later(&later()?, expected) {
                Reason::Reordered { expected, found }
            } else {
                Reason::Gap { expected, found }
            };
            return Err(bad(reason));
        }
        let mut previous = [0u8; 64];
        hex::encode_to_slice(self.previous, &mut previous).expect("64 hex digits");
        if p.chain.previous.as_bytes() != previous {
            return Err(bad(Reason::PreviousHash { expected: hex32(&self.previous), found: p.chain.previous.clone() }));
        }
        if let Some((last, shown)) = &self.last_time {
            // Times compare in whole seconds: a record in the same second is not back-dated.
            if crate::record::whole_seconds(time) < crate::record::whole_seconds(*last) {
                return Err(bad(Reason::TimeBackwards { previous: shown.clone(), found: p.time.clone() }));
            }
        }
        Ok(())
    }

    /// Whether a later record (checked as far as its signature) carries `sequence`.
    pub(super) fn appears_later(&self, later: &[StoredRecord], sequence: u64) -> bool {
        later.iter().any(|r| match decode(r, false) {
            Pre::Ok(d) => match (&d.statement, lookup_in(&self.register, &d.keyid)) {
                (Ok(st), Ok((_, key))) => st.predicate.chain.sequence == sequence && d.verifies(&key),
                _ => false,
            },
            _ => false,
        })
    }

    /// Rules that need earlier records; returns the new register of a register change.
    pub(super) fn chain_rules(
        &mut self,
        kind: Kind,
        signer: &Identity,
        p: &LightPredicate,
        details: &Details,
        time: OffsetDateTime,
    ) -> Result<Option<Identities>, Reason> {
        let seq = p.chain.sequence;
        match kind {
            Kind::Release => {
                self.authors.entry(p.release.clone()).or_insert_with(|| signer.name.clone());
                self.adoptions.release(seq, &p.release);
            }
            Kind::BreakGlass => {
                let Details::BreakGlass(b) = details else { return Err(wrong_details(kind, details)) };
                let expires = parse_time(&b.expires).unwrap_or(time);
                self.break_glass.insert(
                    seq,
                    BreakGlass {
                        opener: signer.name.clone(),
                        release: p.release.clone(),
                        environment: p.environment.clone(),
                        opened: time,
                        expires,
                        approvers: Vec::new(),
                    },
                );
            }
            Kind::BreakGlassApproval | Kind::Retrospective => {
                let bg_seq = match details {
                    Details::BreakGlassApproval(a) => a.break_glass_sequence,
                    Details::Retrospective(r) => r.break_glass_sequence,
                    _ => return Err(wrong_details(kind, details)),
                };
                let Some(bg) = self.break_glass.get_mut(&bg_seq) else {
                    let r = format!("sequence {bg_seq} is not an earlier break-glass record");
                    return Err(if kind == Kind::Retrospective { Reason::SegregationOfDuties(r) } else { Reason::BreakGlassApproval(r) });
                };
                if bg.opener == signer.name {
                    return Err(Reason::SegregationOfDuties(format!(
                        "{} opened break-glass {bg_seq} and cannot sign its {kind}",
                        signer.name
                    )));
                }
                if let Some(author) = self.authors.get(&bg.release) {
                    if *author == signer.name {
                        return Err(Reason::SegregationOfDuties(format!(
                            "{author} authored release {} and cannot sign the {kind} of break-glass {bg_seq}",
                            crate::record::short(&bg.release)
                        )));
                    }
                }
                if kind == Kind::BreakGlassApproval {
                    if p.environment != bg.environment {
                        return Err(Reason::BreakGlassApproval(format!("it names another environment than break-glass {bg_seq}")));
                    }
                    if time > bg.expires {
                        return Err(Reason::BreakGlassApproval(format!("given after break-glass {bg_seq} expired")));
                    }
                    bg.approvers.push(signer.name.clone());
                }
            }
            Kind::Deployment => {
                let Details::Deployment(dep) = details else { return Err(wrong_details(kind, details)) };
                // Every check first, the replay state last: on a slotted store a record refused
                // here is quarantined and verification goes on, so it must leave no trace.
                if let Some(bg_seq) = dep.break_glass {
                    let Some(bg) = self.break_glass.get(&bg_seq) else {
                        return Err(Reason::BreakGlassApproval(format!(
                            "the deployment names break-glass {bg_seq}, which is no earlier break-glass record"
                        )));
                    };
                    if bg.approvers.is_empty() {
                        return Err(Reason::BreakGlassApproval(format!(
                            "the deployment uses break-glass {bg_seq}, which no second person approved"
                        )));
                    }
                    if time < bg.opened || time >= bg.expires || p.environment != bg.environment {
                        return Err(Reason::BreakGlassTtl(format!(
                            "the deployment is outside break-glass {bg_seq} (its time or environment)"
                        )));
                    }
                }
                crate::details::replay_engine(&mut self.engines, seq, dep).map_err(Reason::Detail)?;
                self.adoptions.deployment(seq, &p.release, p.environment.as_ref(), &dep.outcome);
            }
            Kind::Approval => {
                // Approval classes (issue 31): an approval that claims a delegation names one that
                // holds for its signer, class and time. Checked before the adoption replay counts
                // the approval (a refused approval leaves no trace).
                let Details::Approval(a) = details else { return Err(wrong_details(kind, details)) };
                for c in a.classes.iter().flatten() {
                    self.delegations.check_claim(c, &signer.name, time)?;
                }
                self.adoptions.approval(seq, &p.release, p.environment.as_ref(), &signer.name);
            }
            // Approval classes (issue 31): delegate registered, no cycle, no re-delegation.
            Kind::Delegation => {
                let Details::Delegation(d) = details else { return Err(wrong_details(kind, details)) };
                self.delegations.delegate(seq, &self.register, d, time, signer)?;
            }
            Kind::DelegationRevocation => {
                let Details::DelegationRevocation(r) = details else { return Err(wrong_details(kind, details)) };
                self.delegations.revoke(r, signer)?;
            }
            Kind::Adoption => {
                let Details::Adoption(a) = details else { return Err(wrong_details(kind, details)) };
                self.adoptions.adoption(seq, &p.release, p.environment.as_ref(), &signer.name, a).map_err(Reason::Adoption)?;
            }
            Kind::ExceptionApproval => {
                let Details::ExceptionApproval(e) = details else { return Err(wrong_details(kind, details)) };
                let owner = e.owner.as_str();
                if self.register.get(owner).is_none() {
                    return Err(Reason::Detail(format!(
                        "the exception's owner {owner:?} is not a registered identity (owners are named by identity, not by spelling)"
                    )));
                }
            }
            Kind::Checkpoint => {
                let Details::Checkpoint(c) = details else { return Err(wrong_details(kind, details)) };
                let (at, hash) = (c.checkpoint_sequence, c.checkpoint_hash.as_str());
                match self.hashes.get(at as usize) {
                    _ if self.skipped.contains(&at) => {
                        return Err(Reason::CheckpointRecord(format!("it names sequence {at}, a quarantined foreign object")))
                    }
                    Some(h) if at < seq && hex32(h) == hash => {}
                    Some(_) if at < seq => {
                        return Err(Reason::CheckpointRecord(format!("the hash it records for sequence {at} is not that record's hash")))
                    }
                    _ => return Err(Reason::CheckpointRecord(format!("it names sequence {at}, which is not an earlier record"))),
                }
            }
            Kind::RegisterChange => {
                let Details::RegisterChange(c) = details else { return Err(wrong_details(kind, details)) };
                let text = c.register.as_str();
                let fp = hex::encode(Sha256::digest(text.as_bytes()));
                if c.register_sha256 != fp {
                    return Err(Reason::RegisterChange("register_sha256 is not the sha256 of the register text".into()));
                }
                let previous = c.previous_register_sha256.as_str();
                // The genesis: at record 0, or (`crate::genesis_after`) the first record of a chain
                // whose earlier keys hold only skipped foreign objects, carrying the register
                // the verifier started from (its trust root vouched for it), or any while the
                // register in force is empty (an appender judging the genesis it is about to
                // write; verification then starts from it only if the trust root vouches).
                let genesis =
                    previous == GENESIS && (seq == 0 || (self.last_time.is_none() && (fp == self.register_fp || self.register.is_empty())));
                let want = if genesis { GENESIS.to_string() } else { self.register_fp.clone() };
                if previous != want {
                    return Err(Reason::RegisterChange(format!(
                        "it replaces register {previous} but the register in force is {} (a later register cannot judge earlier records)",
                        self.register_fp
                    )));
                }
                let ids =
                    Identities::parse(text, &format!("register of record {seq}")).map_err(|e| Reason::RegisterChange(format!("{e:#}")))?;
                if genesis {
                    // The register a chain starts with; the verifier's trust root vouched for it.
                    return Ok(Some(ids));
                }
                // Once the register in force binds identities to environments, every later one
                // is judged as a proposed register is: one that unbinds a deployer or approver
                // workload would switch the environment-binding and policy-identity rules off
                // for every later record, however many approved it.
                if crate::binding::policy_identity_rule_in_force(&self.register) {
                    let origin = format!("register of record {seq}");
                    let problems = crate::binding::new_register_problems(&ids, &origin, crate::binding::NewRegister::Proposal);
                    if !problems.is_empty() {
                        return Err(Reason::RegisterChange(format!(
                            "the register in force binds identities to environments, so the register replacing it must too: {}",
                            problems.join("; ")
                        )));
                    }
                }
                // Any later register is only a proposal until a quorum of the security group
                // approves it: one key never changes who is registered.
                let subjects = self.register.changes_to(&ids).into_keys().collect();
                self.proposals.insert(
                    seq,
                    Proposal { register: ids, fingerprint: fp, previous: previous.to_string(), proposer: signer.name.clone(), subjects, approvers: BTreeSet::new() },
                );
            }
            Kind::RegisterApproval => {
                let Details::RegisterApproval(a) = details else { return Err(wrong_details(kind, details)) };
                let at = a.proposal_sequence;
                let quorum = self.register.quorum();
                let Some(proposal) = self.proposals.get_mut(&at) else {
                    return Err(Reason::RegisterChange(format!(
                        "it approves sequence {at}, which is no register change awaiting approval (never proposed, already in force, or not a register-change record)"
                    )));
                };
                if a.register_sha256 != proposal.fingerprint {
                    return Err(Reason::RegisterChange(format!(
                        "it approves register {} but the proposal at sequence {at} is register {}",
                        a.register_sha256,
                        proposal.fingerprint
                    )));
                }
                if proposal.previous != self.register_fp {
                    return Err(Reason::RegisterChange(format!(
                        "the proposal at sequence {at} replaces register {} but register {} came into force since: propose again",
                        proposal.previous, self.register_fp
                    )));
                }
                if proposal.proposer == signer.name {
                    return Err(Reason::SegregationOfDuties(format!(
                        "{} proposed the register change at sequence {at} and cannot approve it",
                        signer.name
                    )));
                }
                if proposal.subjects.contains(&signer.name) {
                    return Err(Reason::SegregationOfDuties(format!(
                        "the register change at sequence {at} alters {}'s own entry: {} cannot approve it",
                        signer.name, signer.name
                    )));
                }
                if !proposal.approvers.insert(signer.name.clone()) {
                    return Err(Reason::RegisterChange(format!("{} already approved the register change at sequence {at}", signer.name)));
                }
                if proposal.approvers.len() >= quorum {
                    let done = self.proposals.remove(&at).expect("the proposal was just found");
                    // Proposals made against the register being replaced can no longer come into force.
                    self.proposals.retain(|_, other| other.previous == done.fingerprint);
                    return Ok(Some(done.register));
                }
            }
            _ => {}
        }
        Ok(None)
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;
    use crate::archive::EvidenceArchive;
    use crate::store::LocalStore;

    #[test]
    fn a_record_is_refused_at_append_by_the_rules_verification_applies() {
        let c = testing::chain(1);
        let before = c.records.len();
        let mut archive = EvidenceArchive::open(LocalStore::new(c.store.path()), c.team.identities.clone()).unwrap();
        let records = crate::bench::release_records(&c.team, 7).unwrap();
        let (kind, fields, _) = records.iter().find(|(k, _, _)| *k == Kind::Approval).cloned().unwrap();
        // The approval signed by the deployer: not an approver, so refused before it is written.
        let e = archive.append(kind, fields.clone(), &c.team.deployer).unwrap_err();
        assert!(format!("{e:#}").contains("deploy-bot"), "{e:#}");
        // A deployment signed by the approver: refused too.
        let (dk, df, _) = records.iter().find(|(k, _, _)| *k == Kind::Deployment).cloned().unwrap();
        assert!(archive.append(dk, df, &c.team.approver).is_err());
        // The honest approval is written, and the chain verifies with it and nothing else.
        archive.append(kind, fields, &c.team.approver).unwrap();
        let records = archive.into_store().load().unwrap();
        assert_eq!(records.len(), before + 1);
        let chain = verify_chain(&records, &c.root).unwrap();
        assert_eq!(chain.records.last().unwrap().kind, Kind::Approval);
    }
}
