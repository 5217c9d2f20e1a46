//! Auditor reports: one self-contained HTML page per release (or per environment and period),
//! built only from the VERIFIED evidence chain and the VERIFIED release archive, and the export
//! of the exceptions register ([`exceptions`]).
//!
//! Nothing on the page comes from an unverified source: the chain is verified against the
//! trust root (the register file of [`Paths::identities`]) with the store's signed head, its
//! earlier heads and the checkpoints the caller knows; a chain that fails gives a page that
//! says so in red, names the failing record and shows nothing else ([`Report::verified`] is
//! false and the command exits 1). The page has no scripts, no fonts and no network
//! references: CSS and the SVG timeline are inline.
//!
//! The report reads change control's verified state (`lz-promote`) and decides nothing.

pub mod admission;
mod change;
pub mod exceptions;
pub mod flags;
mod html;
mod record;
mod timeline;
pub mod values;

use std::collections::BTreeMap;

use anyhow::Result;
use lz_evidence::query::{EnvironmentCustody, Index, Query, RecordSummary, Source, TimeRange};
use lz_evidence::record::{format_time, Kind};
use lz_evidence::store::decode_checkpoint;
use lz_evidence::{failure_of, Anchors, KnownCheckpoint, VerifiedChain, VerifiedRecord};
use serde::Serialize;
use serde_json::Value;

use lz_promote::ledger::Record;
use lz_promote::Paths;

use crate::record::{view, views};

pub use change::{ChangeSet, ChangeView};
pub use html::render;
pub use record::RecordView;
pub use timeline::{Timeline, TimelinePoint};

/// What the report covers.
#[derive(Clone, Debug)]
pub enum Selection {
    /// One release (digest or unique prefix of at least 8 hex digits), every environment.
    Release(String),
    /// Every release with records in `environment` within `range`.
    Period { environment: String, range: TimeRange },
}

/// A signed head or checkpoint the chain was verified against.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointView {
    pub sequence: u64,
    pub hash: String,
    pub source: String,
}

/// The verification banner.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub store: String,
    pub trust_root: String,
    pub records: usize,
    pub first_checkpoint: Option<CheckpointView>,
    pub last_checkpoint: Option<CheckpointView>,
    /// Sequence and hash of the last record of the verified chain.
    pub head: Option<(u64, String)>,
    /// Time of the last record of the chain (the report is "as of" it; no local clock).
    pub as_of: Option<String>,
    pub failure: Option<String>,
    pub failure_code: Option<String>,
    pub failure_sequence: Option<u64>,
    pub failure_location: Option<String>,
    /// Deployments whose admission, replayed from the chain before them and the release
    /// archives, does not hold (sequence, why): flagged, never shown as deployments.
    pub rejected: Vec<(u64, String)>,
    /// Foreign objects in the store that the chain skips (quarantined: garbage, an unregistered
    /// signer, a version written over a record): findings, never records of custody.
    pub foreign: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExceptionUse {
    pub id: String,
    pub approval_record: Option<u64>,
    pub rule_id: String,
    pub owner: String,
    pub approver: String,
    pub ticket: String,
    pub expires: String,
    pub compensating_control: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyView {
    pub record: RecordView,
    pub passed: bool,
    pub policy_bundle: String,
    pub findings: Vec<Value>,
    pub exceptions: Vec<ExceptionUse>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BreakGlassView {
    pub record: RecordView,
    pub approvals: Vec<RecordView>,
    pub retrospectives: Vec<RecordView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EnvironmentView {
    pub name: String,
    pub change: Option<ChangeSet>,
    /// Why the change could not be computed (for example: no governance there yet).
    pub change_error: Option<String>,
    pub plans: Vec<RecordView>,
    pub policy_evaluations: Vec<PolicyView>,
    pub approvals: Vec<RecordView>,
    /// Successful deployments without the human approvals their tier needs (issue 23.7).
    pub missing_approvals: Vec<flags::MissingApprovals>,
    pub deployments: Vec<RecordView>,
    pub drift_checks: Vec<RecordView>,
    pub break_glass: Vec<BreakGlassView>,
    pub governance: Vec<RecordView>,
    /// Secret rotations and their verifications in the environment while the release was
    /// there: from its first record in the environment until another release was deployed.
    pub rotations: Vec<RecordView>,
    pub records: usize,
    /// Each deployment with its own admission (tier, approvals, window or break-glass).
    pub admissions: Vec<admission::DeploymentAdmission>,
    /// Attempts change control refused, with the reason.
    pub refused: Vec<admission::RefusedAttempt>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequestView {
    pub author: Option<RecordView>,
    pub tickets: Vec<String>,
    pub files: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReleaseView {
    pub digest: String,
    pub request: RequestView,
    pub environments: Vec<EnvironmentView>,
    /// Exception approvals of the release (they name no environment).
    pub exception_approvals: Vec<RecordView>,
    /// Every record of the release's chain of custody, in chain order.
    pub records: Vec<RecordView>,
    pub timeline: Timeline,
    /// The one-screen summary at the top.
    pub summary: admission::Summary,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub title: String,
    pub verification: Verification,
    pub selection: String,
    pub releases: Vec<ReleaseView>,
    /// Link to the exceptions export (relative to the report), when given.
    pub exceptions_link: Option<String>,
    /// Module adoption (issue 32): who runs which version where, from the verified chain.
    pub adoption: Vec<lz_promote::adoption::Row>,
}

impl Report {
    pub fn verified(&self) -> bool {
        self.verification.ok
    }

    /// Number of records shown across every release section.
    pub fn record_count(&self) -> usize {
        self.releases.iter().map(|r| r.records.len()).sum()
    }
}

/// Inputs besides the paths.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Checkpoints the verifier already knows (its cache, `--checkpoint`).
    pub known: Vec<KnownCheckpoint>,
    pub exceptions_link: Option<String>,
}

fn selection_text(s: &Selection) -> String {
    match s {
        Selection::Release(r) => format!("release {r}"),
        Selection::Period { environment, range } => {
            let f = |t: Option<time::OffsetDateTime>| t.map(format_time).unwrap_or_else(|| "-".into());
            format!("environment {environment} from {} to {}", f(range.since), f(range.until))
        }
    }
}

/// Builds the report: verifies the chain first; a chain that fails gives a report with the
/// failure and nothing else. `Err` only for input that cannot be read (store unreachable,
/// unreadable register, unknown release).
pub fn build(paths: &Paths, selection: &Selection, opts: &Options) -> Result<Report> {
    let root = paths.trust.clone();
    let store = paths.evidence.open()?;
    let anchors = Anchors::of_store(&*store, opts.known.clone())?;
    // The chain is verified once, here, and shared with the replay and the sessions below.
    let verified = lz_promote::verified::current_with(&paths.evidence, &root, &opts.known, &[], Some(&paths.mirror_dir()));
    let mut verification = Verification {
        ok: false,
        store: paths.evidence.describe(),
        trust_root: root.describe(),
        records: match &verified {
            Ok(v) => v.chain.records.len(),
            Err(_) => store.load()?.len(),
        },
        first_checkpoint: None,
        last_checkpoint: None,
        head: None,
        as_of: None,
        failure: None,
        failure_code: None,
        failure_sequence: None,
        failure_location: None,
        rejected: Vec::new(),
        foreign: Vec::new(),
    };
    let title = match selection {
        Selection::Release(r) => format!("Chain of custody: release {}", lz_evidence::record::short(r)),
        Selection::Period { environment, .. } => format!("Chain of custody: {environment}"),
    };
    let chain = match verified {
        Ok(c) => c.chain.clone(),
        Err(e) => match failure_of(&e) {
            Some(f) => {
                verification.failure = Some(f.reason.to_string());
                verification.failure_code = Some(f.reason.code().to_string());
                verification.failure_sequence = f.sequence;
                verification.failure_location = Some(f.location.clone());
                return Ok(Report {
                    title,
                    verification,
                    selection: selection_text(selection),
                    releases: vec![],
                    exceptions_link: opts.exceptions_link.clone(),
                    adoption: Vec::new(),
                });
            }
            None => return Err(e),
        },
    };
    verification.ok = true;
    verification.foreign = chain.quarantined.iter().map(ToString::to_string).collect();
    let ledger = paths.ledger()?;
    let ledger_records = ledger.records()?;
    verification.rejected = lz_promote::replay::rejected(paths, &ledger, &ledger_records)?.into_iter().collect();
    let admitted: Vec<Record> =
        ledger_records.into_iter().filter(|r| !verification.rejected.iter().any(|(s, _)| *s == r.sequence)).collect();
    let (first, last) = checkpoints(&chain, &anchors);
    verification.first_checkpoint = first;
    verification.last_checkpoint = last;
    verification.head = chain.head.clone();
    verification.as_of = chain.records.last().map(|r| format_time(r.time));

    // The query reads the record bytes by position (read again, not verified again: their
    // sequence is checked against the verified index).
    // The records of custody are the chain's: what was read, less the foreign objects it skips.
    let records: Vec<_> =
        store.load()?.into_iter().filter(|r| !chain.quarantined.iter().any(|q| q.seen && q.location == r.location)).collect();
    for (r, v) in records.iter().zip(&chain.records) {
        anyhow::ensure!(
            lz_evidence::dsse::sha256_hex(&r.bytes) == v.hash,
            "{}: the record changed since the chain was verified; build the report again",
            r.location
        );
    }
    let index = Index::from_verified(&chain);
    let by_seq: BTreeMap<u64, &VerifiedRecord> = chain.records.iter().map(|r| (r.sequence, r)).collect();
    let mut releases = Vec::new();
    match selection {
        Selection::Release(r) => {
            let q = Query { index: &index, source: Source::Memory(&records), range: TimeRange::default() };
            let custody = q.release(r)?;
            let ctx = ViewContext { query: &q, rejected: &verification.rejected, admitted: &admitted };
            releases.push(release_view(paths, &chain, &by_seq, &custody.release, custody.environments, &ctx)?);
        }
        Selection::Period { environment, range } => {
            lz_promote::session::previous_environment(environment)?;
            let q = Query { index: &index, source: Source::Memory(&records), range: *range };
            let mut digests: Vec<String> = Vec::new();
            for s in q.all()? {
                if s.environment.as_deref() == Some(environment.as_str()) && !digests.contains(&s.release) {
                    digests.push(s.release.clone());
                }
            }
            for d in digests {
                let custody = q.release(&d)?;
                let envs = custody.environments.into_iter().filter(|(e, _)| e == environment || e == "-").collect();
                let ctx = ViewContext { query: &q, rejected: &verification.rejected, admitted: &admitted };
                releases.push(release_view(paths, &chain, &by_seq, &d, envs, &ctx)?);
            }
        }
    }
    Ok(Report {
        title,
        verification,
        selection: selection_text(selection),
        releases,
        exceptions_link: opts.exceptions_link.clone(),
        adoption: lz_promote::adoption::rows(&admitted, None),
    })
}

/// The first and last checkpoint the chain was verified against: signed heads (current and
/// earlier versions) and checkpoint records.
fn checkpoints(chain: &VerifiedChain, anchors: &Anchors) -> (Option<CheckpointView>, Option<CheckpointView>) {
    let mut all: Vec<CheckpointView> = Vec::new();
    let heads = anchors.earlier_heads.iter().map(|h| (h, "earlier signed head")).chain(anchors.head.iter().map(|h| (h, "signed head")));
    for (h, what) in heads {
        if let Ok((_, p)) = decode_checkpoint(&h.bytes, &h.location) {
            all.push(CheckpointView { sequence: p.sequence, hash: p.hash, source: format!("{what} signed by {} ({})", p.identity, h.location) });
        }
    }
    for r in chain.records.iter().filter(|r| r.kind == Kind::Checkpoint) {
        if let Some(c) = r.details.checkpoint() {
            all.push(CheckpointView {
                sequence: c.checkpoint_sequence,
                hash: c.checkpoint_hash.clone(),
                source: format!("checkpoint record {} signed by {}", r.sequence, r.statement.predicate.identity),
            });
        }
    }
    for k in &anchors.known {
        all.push(CheckpointView { sequence: k.checkpoint.sequence, hash: k.checkpoint.hash.clone(), source: k.source.clone() });
    }
    all.sort_by_key(|c| c.sequence);
    (all.first().cloned(), all.last().cloned())
}

/// What the admissions of a release view are read from: the query over the verified chain,
/// the deployments the replay rejects and the admitted records.
struct ViewContext<'a> {
    query: &'a Query<'a>,
    rejected: &'a [(u64, String)],
    admitted: &'a [Record],
}

fn release_view(
    paths: &Paths,
    chain: &VerifiedChain,
    by_seq: &BTreeMap<u64, &VerifiedRecord>,
    digest: &str,
    environments: Vec<(String, EnvironmentCustody)>,
    ctx: &ViewContext,
) -> Result<ReleaseView> {
    let archive = paths.open_release(digest)?;
    let register = lz_policy::Register::parse(
        &archive.text("governance/exceptions.toml")?,
        &archive.origin("governance/exceptions.toml"),
    )?;
    let author = match chain.author_of(&archive.digest) {
        Some(a) => {
            let s = summary_of(a);
            Some(view(&s, by_seq)?)
        }
        None => None,
    };
    let mut tickets = Vec::new();
    let mut all: Vec<RecordView> = Vec::new();
    let mut envs = Vec::new();
    let mut exception_approvals = Vec::new();
    let mut summary_rows = Vec::new();
    let mut exceptions_used: Vec<String> = Vec::new();
    // Break-glass approvals and retrospectives refer to their request by sequence.
    let mut refs: BTreeMap<u64, (Vec<RecordView>, Vec<RecordView>)> = BTreeMap::new();
    for (_, c) in &environments {
        for s in c.break_glass_approvals.iter().chain(&c.retrospectives) {
            if let Some(bg) = by_seq.get(&s.sequence).and_then(|v| v.details.break_glass_sequence()) {
                let e = refs.entry(bg).or_default();
                if s.kind == Kind::Retrospective {
                    e.1.push(view(s, by_seq)?);
                } else {
                    e.0.push(view(s, by_seq)?);
                }
            }
        }
    }
    // Retrospectives name no environment and may belong to another release's chain: take
    // every verified retrospective of a break-glass shown here.
    for r in chain.records.iter().filter(|r| r.kind == Kind::Retrospective) {
        let s = summary_of(r);
        if let Some(bg) = r.details.break_glass_sequence() {
            let e = refs.entry(bg).or_default();
            if !e.1.iter().any(|v| v.sequence == s.sequence) {
                e.1.push(view(&s, by_seq)?);
            }
        }
    }
    for (name, c) in &environments {
        for s in c.all() {
            if let Some(t) = &s.ticket {
                if !tickets.contains(t) {
                    tickets.push(t.clone());
                }
            }
            all.push(view(s, by_seq)?);
        }
        if name == "-" {
            exception_approvals.extend(views(&c.exceptions, by_seq)?);
            continue;
        }
        let (change, change_error) = match change::change_set(paths, &archive.digest, name, c) {
            Ok(cs) => (Some(cs), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        };
        let mut policy = Vec::new();
        for s in &c.policy_evaluations {
            let pe = by_seq.get(&s.sequence).and_then(|v| v.details.policy_evaluation()).cloned().unwrap_or_default();
            let used = pe.exceptions.clone().unwrap_or_default();
            let exceptions = used
                .iter()
                .map(|u| {
                    let id = u.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
                    let e = register.exceptions.iter().find(|e| e.id == id);
                    ExceptionUse {
                        approval_record: u.get("approval").and_then(Value::as_u64),
                        rule_id: e.map(|e| e.rule_id.clone()).unwrap_or_default(),
                        owner: e.map(|e| e.owner.clone()).unwrap_or_default(),
                        approver: e.and_then(|e| e.approver.clone()).unwrap_or_default(),
                        ticket: e.map(|e| e.ticket.clone()).unwrap_or_default(),
                        expires: e.map(|e| lz_policy::exceptions::fmt_date(e.expires)).unwrap_or_default(),
                        compensating_control: e.map(|e| e.compensating_control.clone()).unwrap_or_default(),
                        id,
                    }
                })
                .collect();
            policy.push(PolicyView {
                record: view(s, by_seq)?,
                passed: pe.passed.unwrap_or(false),
                policy_bundle: pe.policy_bundle.clone().unwrap_or_default(),
                findings: pe.findings.clone().unwrap_or_default(),
                exceptions,
            });
        }
        let rotations = rotations_while_deployed(chain, &archive.digest, name, c)
            .iter()
            .map(|r| view(&summary_of(r), by_seq))
            .collect::<Result<Vec<_>>>()?;
        all.extend(rotations.iter().cloned());
        let admissions = admission::admissions(paths, ctx.query, c, ctx.rejected)?;
        let refused = admission::refused(paths, name, c, ctx.admitted);
        summary_rows.push(admission::summary_row(name, change.as_ref(), &admissions, &refused));
        for p in &policy {
            for e in &p.exceptions {
                if !exceptions_used.contains(&e.id) {
                    exceptions_used.push(e.id.clone());
                }
            }
        }
        let mut break_glass = Vec::new();
        for s in &c.break_glass {
            let (approvals, retrospectives) = refs.remove(&s.sequence).unwrap_or_default();
            break_glass.push(BreakGlassView { record: view(s, by_seq)?, approvals, retrospectives });
        }
        envs.push(EnvironmentView {
            name: name.clone(),
            change,
            change_error,
            plans: views(&c.plans, by_seq)?,
            policy_evaluations: policy,
            approvals: views(&c.approvals, by_seq)?,
            missing_approvals: flags::missing_approvals(paths, &archive.digest, name, c, by_seq),
            deployments: views(&c.deployments, by_seq)?,
            drift_checks: views(&c.drift_checks, by_seq)?,
            break_glass,
            governance: views(&c.governance, by_seq)?,
            records: c.all().count() + rotations.len(),
            rotations,
            admissions,
            refused,
        });
    }
    all.sort_by_key(|r| r.sequence);
    all.dedup_by_key(|r| r.sequence);
    let timeline = timeline::timeline(&all);
    let summary = admission::Summary {
        release: archive.digest.clone(),
        author: author.as_ref().map(|a| a.identity.clone()),
        ticket: author.as_ref().and_then(|a| a.ticket.clone()),
        reason: author.as_ref().and_then(|a| a.reason.clone()),
        emergency: summary_rows.iter().any(|r| r.emergency),
        rows: summary_rows,
        exceptions_used,
    };
    Ok(ReleaseView {
        summary,
        digest: archive.digest.clone(),
        request: RequestView {
            author,
            tickets,
            files: archive.files.len(),
        },
        environments: envs,
        exception_approvals,
        records: all,
        timeline,
    })
}

/// The `rotation` and `rotation-verification` records of `environment` from the release's first
/// record there until the next successful deployment of another release there.
fn rotations_while_deployed<'a>(
    chain: &'a VerifiedChain,
    release: &str,
    environment: &str,
    custody: &EnvironmentCustody,
) -> Vec<&'a VerifiedRecord> {
    let Some(start) = custody.all().map(|s| s.sequence).min() else {
        return Vec::new();
    };
    let in_env = |r: &&VerifiedRecord| r.statement.predicate.environment.as_deref() == Some(environment);
    let end = chain
        .records
        .iter()
        .filter(in_env)
        .find(|r| {
            r.sequence > start
                && r.kind == Kind::Deployment
                && r.statement.predicate.release != release
                && r.details.deployment().is_some_and(|d| d.outcome == "succeeded")
        })
        .map_or(u64::MAX, |r| r.sequence);
    chain
        .records
        .iter()
        .filter(in_env)
        .filter(|r| matches!(r.kind, Kind::Rotation | Kind::RotationVerification) && r.sequence > start && r.sequence < end)
        .collect()
}

fn summary_of(r: &VerifiedRecord) -> RecordSummary {
    RecordSummary::of_verified(r)
}
