//! Queries over the archive through a rebuildable sidecar index.
//!
//! The index (`<chain>.index.json` next to the records file) holds per-record metadata, byte
//! offsets and postings from `(environment, resource address)` to sequences. It is derived
//! data: it is extended when the records file grew, rebuilt when it does not match the
//! records file, and can be deleted at any time. Query results are read from the records.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::dsse::{sha256_hex, Envelope};
use crate::record::{parse_time, Kind, Statement};
use crate::store::{LocalStore, StoredRecord};

const INDEX_FORMAT: u32 = 2;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexEntry {
    pub sequence: u64,
    pub offset: u64,
    pub len: u64,
    pub line: usize,
    pub kind: Kind,
    pub time: String,
    pub identity: String,
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Index {
    pub format: u32,
    /// Bytes of the records file covered.
    pub bytes: u64,
    /// Hash of the last covered envelope.
    pub head: String,
    pub entries: Vec<IndexEntry>,
    /// `"<environment> <address>"` -> sequences of records naming the resource.
    pub resources: BTreeMap<String, Vec<u64>>,
}

#[derive(Deserialize)]
struct IdxChain {
    sequence: u64,
}

#[derive(Deserialize)]
struct IdxPredicate {
    chain: IdxChain,
    identity: String,
    time: String,
    release: String,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    plan_digest: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
}

#[derive(Deserialize)]
struct IdxStatement {
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: IdxPredicate,
}

fn resource_key(env: &str, address: &str) -> String {
    format!("{env} {address}")
}

fn decode_payload(bytes: &[u8], location: &str) -> Result<Vec<u8>> {
    let env: Envelope = serde_json::from_slice(bytes).with_context(|| format!("{location}: not a DSSE envelope"))?;
    env.payload_bytes().with_context(|| format!("{location}: payload is not base64"))
}

fn decode_statement<T: for<'de> Deserialize<'de>>(bytes: &[u8], location: &str) -> Result<T> {
    let payload = decode_payload(bytes, location)?;
    serde_json::from_slice(&payload).with_context(|| format!("{location}: payload is not an evidence statement"))
}

impl Index {
    fn add(&mut self, offset: u64, line: usize, bytes: &[u8], location: &str) -> Result<()> {
        let payload = decode_payload(bytes, location)?;
        let st: IdxStatement =
            serde_json::from_slice(&payload).with_context(|| format!("{location}: payload is not an evidence statement"))?;
        let kind = Kind::from_predicate_type(&st.predicate_type)
            .with_context(|| format!("{location}: unknown predicateType {:?}", st.predicate_type))?;
        let p = st.predicate;
        if let Some(env) = &p.environment {
            // The resources the kind's typed details name (as `Index::from_verified` reads them).
            let details = crate::details::Details::from_payload(kind, &payload).with_context(|| format!("{location}: record {}", p.chain.sequence))?;
            for a in details.resources() {
                self.resources.entry(resource_key(env, a)).or_default().push(p.chain.sequence);
            }
        }
        self.entries.push(IndexEntry {
            sequence: p.chain.sequence,
            offset,
            len: bytes.len() as u64,
            line,
            kind,
            time: p.time,
            identity: p.identity,
            release: p.release,
            environment: p.environment,
            plan_digest: p.plan_digest,
            ticket: p.ticket,
        });
        self.bytes = offset + bytes.len() as u64 + 1;
        self.head = sha256_hex(bytes);
        Ok(())
    }

    /// An in-memory index over records already loaded (stores without byte offsets).
    pub fn from_records(records: &[StoredRecord]) -> Result<Index> {
        let mut idx = Index { format: INDEX_FORMAT, ..Default::default() };
        for (i, r) in records.iter().enumerate() {
            idx.add(i as u64, i + 1, &r.bytes, &r.location)?;
        }
        Ok(idx)
    }

    /// The index of a verified chain (entries point into the records the chain was verified
    /// from, by position): what `evidence query` answers from, so that nothing derived and
    /// unverified decides what an auditor sees.
    pub fn from_verified(chain: &crate::verify::VerifiedChain) -> Index {
        let mut idx = Index { format: INDEX_FORMAT, ..Default::default() };
        for (i, r) in chain.records.iter().enumerate() {
            let p = &r.statement.predicate;
            if let Some(env) = &p.environment {
                for a in r.details.resources() {
                    idx.resources.entry(resource_key(env, a)).or_default().push(r.sequence);
                }
            }
            idx.entries.push(IndexEntry {
                sequence: r.sequence,
                offset: i as u64,
                len: 0,
                line: i + 1,
                kind: r.kind,
                time: p.time.clone(),
                identity: p.identity.clone(),
                release: p.release.clone(),
                environment: p.environment.clone(),
                plan_digest: p.plan_digest.clone(),
                ticket: p.ticket.clone(),
            });
            idx.head = r.hash.clone();
        }
        idx
    }

    /// Loads, extends or rebuilds the sidecar index of a local store and saves it if changed.
    pub fn for_local(store: &LocalStore) -> Result<Index> {
        let path = store.index_path();
        let size = store.len()?;
        let existing: Option<Index> = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let mut idx = match existing {
            Some(i) if i.format == INDEX_FORMAT && i.bytes <= size && i.still_matches(store) => i,
            _ => Index { format: INDEX_FORMAT, ..Default::default() },
        };
        if idx.bytes == size && (size > 0 || idx.entries.is_empty()) {
            return Ok(idx);
        }
        let first_line = idx.entries.last().map(|e| e.line + 1).unwrap_or(1);
        let shown = store.path().display().to_string();
        for (offset, line, bytes) in store.scan_from(idx.bytes, first_line)? {
            idx.add(offset, line, &bytes, &format!("{shown}:{line}"))?;
        }
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, serde_json::to_vec(&idx)?).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
        Ok(idx)
    }

    fn still_matches(&self, store: &LocalStore) -> bool {
        match self.entries.last() {
            None => self.bytes == 0,
            Some(e) => store.read_at(e.offset, e.len as usize).map(|b| sha256_hex(&b) == self.head).unwrap_or(false),
        }
    }

    /// Full release digest for a digest or a unique prefix of at least 8 hex digits.
    pub fn resolve_release(&self, prefix: &str) -> Result<String> {
        if prefix.len() < 8 {
            bail!("release digest prefix {prefix:?} is too short (8 hex digits at least)");
        }
        let found: BTreeSet<&str> =
            self.entries.iter().map(|e| e.release.as_str()).filter(|r| r.starts_with(prefix)).collect();
        match found.len() {
            0 => bail!("no evidence for release {prefix}"),
            1 => Ok(found.into_iter().next().unwrap().to_string()),
            n => bail!("release prefix {prefix} is ambiguous ({n} releases)"),
        }
    }
}

/// Where full records are read from.
pub enum Source<'a> {
    Local(&'a LocalStore),
    Memory(&'a [StoredRecord]),
    /// The records of a verified chain ([`Index::from_verified`]): their statements as verified,
    /// without their bytes read again.
    Verified(&'a [crate::verify::VerifiedRecord]),
}

/// A record as shown to auditors: common fields and the kind-specific details, without the
/// plan copy.
#[derive(Clone, Debug, Serialize)]
pub struct RecordSummary {
    pub sequence: u64,
    pub kind: Kind,
    pub time: String,
    pub identity: String,
    pub release: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The details as shown (without the plan copy, the changes, the resource list and the
    /// register); for display only.
    pub details: Map<String, Value>,
    /// The details typed by the record's kind ([`crate::details`]): what every reader decides by.
    #[serde(skip)]
    pub typed: crate::details::Details,
}

impl RecordSummary {
    /// The summary of a verified record (its details typed as verified).
    pub fn of_verified(r: &crate::verify::VerifiedRecord) -> RecordSummary {
        let p = &r.statement.predicate;
        let mut details = p.details.clone();
        for k in SHOWN_WITHOUT {
            details.remove(k);
        }
        RecordSummary {
            sequence: r.sequence,
            kind: r.kind,
            time: p.time.clone(),
            identity: p.identity.clone(),
            release: p.release.clone(),
            environment: p.environment.clone(),
            account: p.account.clone(),
            plan_digest: p.plan_digest.clone(),
            ticket: p.ticket.clone(),
            reason: p.reason.clone(),
            details,
            typed: r.details.clone(),
        }
    }
}

/// Details a summary leaves out (the plan copy, the changes, the resource list, the register).
const SHOWN_WITHOUT: [&str; 4] = ["plan", "changes", "resources", "register"];

#[derive(Clone, Copy, Debug, Default)]
pub struct TimeRange {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl TimeRange {
    fn contains(&self, time: &str) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Ok(t) = parse_time(time) else { return false };
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

pub struct Query<'a> {
    pub index: &'a Index,
    pub source: Source<'a>,
    pub range: TimeRange,
}

#[derive(Debug, Serialize)]
pub struct EnvironmentCustody {
    pub plans: Vec<RecordSummary>,
    pub policy_evaluations: Vec<RecordSummary>,
    pub exceptions: Vec<RecordSummary>,
    pub approvals: Vec<RecordSummary>,
    pub deployments: Vec<RecordSummary>,
    pub drift_checks: Vec<RecordSummary>,
    pub break_glass: Vec<RecordSummary>,
    pub break_glass_approvals: Vec<RecordSummary>,
    pub retrospectives: Vec<RecordSummary>,
    /// Signed authorship of the release.
    pub releases: Vec<RecordSummary>,
    /// Governance pins, register changes and checkpoints.
    pub governance: Vec<RecordSummary>,
}

impl EnvironmentCustody {
    /// Every record, in the order the groups are listed.
    pub fn all(&self) -> impl Iterator<Item = &RecordSummary> {
        self.releases
            .iter()
            .chain(&self.plans)
            .chain(&self.policy_evaluations)
            .chain(&self.exceptions)
            .chain(&self.approvals)
            .chain(&self.deployments)
            .chain(&self.drift_checks)
            .chain(&self.break_glass)
            .chain(&self.break_glass_approvals)
            .chain(&self.retrospectives)
            .chain(&self.governance)
    }
}

#[derive(Debug, Serialize)]
pub struct ReleaseCustody {
    pub release: String,
    pub tickets: Vec<Value>,
    /// Environments in promotion order; records without an environment under "-".
    pub environments: Vec<(String, EnvironmentCustody)>,
}

#[derive(Debug, Serialize)]
pub struct ResourceProvenance {
    pub release: String,
    pub plan_digest: Option<String>,
    pub plan: Option<RecordSummary>,
    pub approvals: Vec<RecordSummary>,
    pub deployment: Option<RecordSummary>,
}

/// The environments in promotion order (`lz_repo::ENVIRONMENTS`).
pub const ENVIRONMENT_ORDER: [&str; 5] = lz_repo::ENVIRONMENTS;

fn env_rank(env: &str) -> (usize, String) {
    (ENVIRONMENT_ORDER.iter().position(|e| *e == env).unwrap_or(ENVIRONMENT_ORDER.len()), env.to_string())
}

impl Query<'_> {
    pub(crate) fn entry(&self, sequence: u64) -> Option<&IndexEntry> {
        // Entries are in chain order; fall back to a search if the chain is irregular.
        let i = sequence as usize;
        match self.index.entries.get(i) {
            Some(e) if e.sequence == sequence => Some(e),
            _ => self.index.entries.iter().find(|e| e.sequence == sequence),
        }
    }

    pub(crate) fn read(&self, e: &IndexEntry) -> Result<RecordSummary> {
        let (st, location, typed): (Statement, String, Option<crate::details::Details>) = match &self.source {
            Source::Local(store) => {
                let location = format!("{}:{}", store.path().display(), e.line);
                (decode_statement(&store.read_at(e.offset, e.len as usize)?, &location)?, location, None)
            }
            Source::Memory(records) => {
                let r = records.get(e.offset as usize).context("index points past the records")?;
                (decode_statement(&r.bytes, &r.location)?, r.location.clone(), None)
            }
            Source::Verified(records) => {
                let r = records.get(e.offset as usize).context("index points past the records")?;
                (r.statement.clone(), r.location.clone(), Some(r.details.clone()))
            }
        };
        if st.predicate.chain.sequence != e.sequence {
            bail!("{location}: the record changed since it was indexed; rerun the query");
        }
        let kind = st.kind().with_context(|| format!("{location}: unknown predicateType"))?;
        let typed = match typed {
            Some(t) => t,
            None => crate::details::Details::parse(kind, &st.predicate.details).with_context(|| format!("{location}: record {}", e.sequence))?,
        };
        let p = st.predicate;
        let mut details = p.details;
        for k in SHOWN_WITHOUT {
            details.remove(k);
        }
        Ok(RecordSummary {
            sequence: p.chain.sequence,
            kind,
            time: p.time,
            identity: p.identity,
            release: p.release,
            environment: p.environment,
            account: p.account,
            plan_digest: p.plan_digest,
            ticket: p.ticket,
            reason: p.reason,
            details,
            typed,
        })
    }

    fn entries_where(&self, f: impl Fn(&IndexEntry) -> bool) -> Vec<&IndexEntry> {
        self.index.entries.iter().filter(|e| f(e) && self.range.contains(&e.time)).collect()
    }

    pub fn release(&self, release: &str) -> Result<ReleaseCustody> {
        let release = self.index.resolve_release(release)?;
        let mut tickets: Vec<Value> = Vec::new();
        let mut envs: BTreeMap<(usize, String), EnvironmentCustody> = BTreeMap::new();
        for e in self.entries_where(|e| e.release == release) {
            let r = self.read(e)?;
            if let Some(t) = &r.ticket {
                if !tickets.iter().any(|x| x["ticket"] == *t) {
                    tickets.push(serde_json::json!({"ticket": t, "reason": r.reason, "first_seen": r.time, "sequence": r.sequence}));
                }
            }
            let env = r.environment.clone().unwrap_or_else(|| "-".into());
            let c = envs.entry(env_rank(&env)).or_insert_with(|| EnvironmentCustody {
                plans: vec![],
                policy_evaluations: vec![],
                exceptions: vec![],
                approvals: vec![],
                deployments: vec![],
                drift_checks: vec![],
                break_glass: vec![],
                break_glass_approvals: vec![],
                retrospectives: vec![],
                releases: vec![],
                governance: vec![],
            });
            match r.kind {
                Kind::Plan => c.plans.push(r),
                Kind::PolicyEvaluation => c.policy_evaluations.push(r),
                Kind::Exception => c.exceptions.push(r),
                Kind::Approval => c.approvals.push(r),
                Kind::Deployment => c.deployments.push(r),
                Kind::Drift => c.drift_checks.push(r),
                Kind::BreakGlass => c.break_glass.push(r),
                Kind::Retrospective => c.retrospectives.push(r),
                Kind::Release => c.releases.push(r),
                Kind::BreakGlassApproval => c.break_glass_approvals.push(r),
                Kind::ExceptionApproval => c.exceptions.push(r),
                Kind::GovernancePin | Kind::RegisterChange | Kind::RegisterApproval | Kind::Checkpoint => c.governance.push(r),
                // -- drift remediation (lane report) --
                Kind::DriftRemediation => c.drift_checks.push(r),
                // Secret rotation (issue 15): about a secret, not a release's custody.
                Kind::Rotation | Kind::RotationVerification => {}
                // Crash-safe promotion (issue 35): a released lock is the state's, not custody.
                Kind::LockRecovery => {}
                // Staged module adoption (issue 32): `catalog adoption` reads these.
                Kind::Adoption => {}
                // Approval classes (issue 31): a delegation concerns no release's custody.
                Kind::Delegation | Kind::DelegationRevocation => {}
            }
        }
        Ok(ReleaseCustody { release, tickets, environments: envs.into_iter().map(|((_, e), c)| (e, c)).collect() })
    }

    /// Every release whose plan or deployment in `env` named `address`, oldest first.
    pub fn resource(&self, address: &str, env: &str) -> Result<Vec<ResourceProvenance>> {
        let Some(seqs) = self.index.resources.get(&resource_key(env, address)) else { return Ok(Vec::new()) };
        let mut by_plan: Vec<ResourceProvenance> = Vec::new();
        for &s in seqs {
            let Some(e) = self.entry(s) else { continue };
            if !self.range.contains(&e.time) || !matches!(e.kind, Kind::Plan | Kind::Deployment) {
                continue;
            }
            let r = self.read(e)?;
            let pos = by_plan.iter().position(|p| p.release == r.release && p.plan_digest == r.plan_digest);
            let slot = match pos {
                Some(i) => &mut by_plan[i],
                None => {
                    by_plan.push(ResourceProvenance {
                        release: r.release.clone(),
                        plan_digest: r.plan_digest.clone(),
                        plan: None,
                        approvals: vec![],
                        deployment: None,
                    });
                    by_plan.last_mut().unwrap()
                }
            };
            match r.kind {
                Kind::Plan => slot.plan = Some(r),
                _ => slot.deployment = Some(r),
            }
        }
        for p in &mut by_plan {
            for e in self.index.entries.iter().filter(|e| {
                e.kind == Kind::Approval
                    && e.release == p.release
                    && e.environment.as_deref() == Some(env)
                    && e.plan_digest == p.plan_digest
            }) {
                p.approvals.push(self.read(e)?);
            }
        }
        Ok(by_plan)
    }

    pub fn identity(&self, name: &str) -> Result<Vec<RecordSummary>> {
        self.entries_where(|e| e.identity == name).into_iter().map(|e| self.read(e)).collect()
    }

    pub fn all(&self) -> Result<Vec<RecordSummary>> {
        self.entries_where(|_| true).into_iter().map(|e| self.read(e)).collect()
    }

    /// Approval classes (issue 31): every approval in the range (in `env` when given) that
    /// stands for `class`, with its control and basis (in person, on call, or the delegator
    /// and delegation record): "who approved changes to keys in prod in Q4, and under whose
    /// delegation". The basis is the approval record's claim: a claimed delegation was checked
    /// against its delegation record when the chain was verified; in-person and on-call claims
    /// are not (they depend on governance) and are re-derived at every admission and replay
    /// (`lz_promote::classes::quorum::check`), which is what decides.
    pub fn class_approvals(&self, class: &str, env: Option<&str>) -> Result<Vec<ClassApprovalRow>> {
        let mut out = Vec::new();
        for e in self.entries_where(|e| e.kind == Kind::Approval && env.is_none_or(|v| e.environment.as_deref() == Some(v))) {
            let r = self.read(e)?;
            let crate::details::Details::Approval(a) = &r.typed else { continue };
            for c in a.classes.iter().flatten().filter(|c| c.class == class).cloned() {
                out.push(ClassApprovalRow {
                    sequence: r.sequence,
                    time: r.time.clone(),
                    identity: r.identity.clone(),
                    release: r.release.clone(),
                    environment: r.environment.clone(),
                    approval: c,
                });
            }
        }
        Ok(out)
    }
}

/// One approval standing for one class (see [`Query::class_approvals`]).
#[derive(Clone, Debug, Serialize)]
pub struct ClassApprovalRow {
    pub sequence: u64,
    pub time: String,
    pub identity: String,
    pub release: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(flatten)]
    pub approval: crate::details::ClassApproval,
}
