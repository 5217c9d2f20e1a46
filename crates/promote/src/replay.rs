//! Every deployment, admitted again. A `deployment` record is a claim its deployer key can
//! write; the fact is the admission it rests on. For every successful deployment of the
//! chain, in order, the admission is re-derived from the records before its `in-progress`
//! record (the decision point it names) and the release archives: the tier against the
//! previous *admitted* deployment, the approvals the governing rules require, the change
//! window at the decision's time, break-glass, the policy evaluation and exceptions. A
//! deployment without a valid admission is rejected, naming the rule, and nothing built on
//! the chain counts it: baselines, governing releases, promotion order and the deployed
//! release of drift and rotation come only from admitted deployments ([`admitted`]).
//!
//! On an S3 chain, the verdicts of the deployments below the size of the newest of the
//! witness's signed verdicts that holds ([`witnessed`]) are taken from them, and only the later
//! deployments are replayed.

pub mod witnessed;

use std::collections::BTreeMap;

use anyhow::Result;
use lz_evidence::record::Kind;

use crate::approval::short;
use crate::ledger::{Ledger, Record};
use crate::opened::Opened;
use crate::refusal::{is_refusal, refuse, refuse_if};
use crate::session::Session;
use crate::Paths;

/// Deployments without a valid admission: sequence -> why.
pub type Rejected = BTreeMap<u64, String>;

fn succeeded(r: &Record) -> bool {
    r.deployment_outcome() == Some("succeeded")
}

/// Verdicts already replayed in this process, by store and deployment sequence: a verified
/// chain never changes before its head, so a deployment's verdict never changes either.
fn verdicts() -> &'static std::sync::Mutex<std::collections::HashMap<(String, u64), Option<String>>> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<(String, u64), Option<String>>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Forgets every verdict of this process, and the witness's signed verdicts it read
/// (benchmarks: a new process).
pub fn forget_verdicts() {
    verdicts().lock().unwrap_or_else(|e| e.into_inner()).clear();
    signed_read().lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// Replays every successful deployment of `records` (a verified chain of `ledger`, or a prefix
/// of one) in order. `Err` only for what cannot be read (a release missing from the store, say).
pub fn rejected(paths: &Paths, ledger: &Ledger, records: &[Record]) -> Result<Rejected> {
    rejected_in(&Opened::shared(), paths, ledger, records)
}

/// [`rejected`] with the releases of `opened`: one pass in chain order, each verdict computed
/// once from the verdicts before it, each release opened (and each plan rendered) once when
/// `opened` is shared. The provenance look-up passes its own, so the answer reads the releases
/// the replay opened.
pub fn rejected_in(opened: &Opened, paths: &Paths, ledger: &Ledger, records: &[Record]) -> Result<Rejected> {
    pass(opened, paths, ledger, records, SIGNED.load(std::sync::atomic::Ordering::SeqCst), None)
}

/// [`rejected`] replaying every deployment, taking nothing from the witness's signed verdicts:
/// what the witness signs ([`witnessed`]), so that no verdict, right or wrong, is carried from
/// one signature to the next.
pub fn rejected_replaying_all(paths: &Paths, ledger: &Ledger, records: &[Record]) -> Result<Rejected> {
    pass(&Opened::shared(), paths, ledger, records, false, None)
}

/// [`rejected`] replaying only the deployments at or after `own.size`, the verdicts below it
/// taken from `own`: the witness's own last signed verdicts, which the caller has checked are
/// signed by this witness's registered key over this chain's hash at their size
/// ([`witnessed::own_latest`]). Nothing else is taken (not another witness's verdicts).
pub fn rejected_after_own(paths: &Paths, ledger: &Ledger, records: &[Record], own: &witnessed::Verdicts) -> Result<Rejected> {
    pass(&Opened::shared(), paths, ledger, records, false, Some(own))
}

fn pass(opened: &Opened, paths: &Paths, ledger: &Ledger, records: &[Record], take_signed: bool, own: Option<&witnessed::Verdicts>) -> Result<Rejected> {
    let mut out = Rejected::new();
    let store = ledger.at().describe();
    // The witness's verdicts are read only when a deployment's verdict is not known in this
    // process yet (a chain without deployments, or a second pass, lists nothing more).
    let signed = std::cell::OnceCell::new();
    for d in records.iter().filter(|r| succeeded(r)) {
        if let Some(v) = own.filter(|v| d.sequence < v.size) {
            if let Some(why) = v.rejected.get(&d.sequence) {
                out.insert(d.sequence, why.clone());
            }
            continue;
        }
        let key = (store.clone(), d.sequence);
        let known = verdicts().lock().expect("the verdict cache is never poisoned").get(&key).cloned();
        if known.is_none() {
            if let Some(v) = signed.get_or_init(|| if take_signed { signed_verdicts(ledger) } else { None }).as_ref().filter(|v| d.sequence < v.size) {
                if let Some(why) = v.rejected.get(&d.sequence) {
                    out.insert(d.sequence, why.clone());
                }
                continue;
            }
        }
        let verdict = match known {
            Some(v) => v,
            None => {
                let v = match admission_of(opened, paths, ledger, records, &out, d) {
                    Ok(()) => None,
                    Err(e) if is_refusal(&e) => Some(format!("{e:#}")),
                    Err(e) => return Err(e.context(format!("replaying the admission of deployment {}", d.sequence))),
                };
                verdicts().lock().expect("the verdict cache is never poisoned").insert(key, v.clone());
                v
            }
        };
        if let Some(why) = verdict {
            out.insert(d.sequence, why);
        }
    }
    Ok(out)
}

static SIGNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether the witness's signed verdicts are taken ([`witnessed`]); off, every deployment is
/// replayed (`evidence verify --full`, benchmarks).
pub fn use_signed_verdicts(on: bool) {
    SIGNED.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// The witness's newest signed verdicts that hold for `ledger`'s verified chain: signed by a
/// witness of the register in force, and naming the hash of the chain's record `size - 1`.
/// `None` when none does (none, unreadable, forged, another chain): every deployment is
/// replayed. The keys are listed once per process and store, and the objects read newest first,
/// each at most once per process, only while every newer one did not hold (the newest holds
/// on the witness's schedule: one read); their signatures and hashes are checked on each call,
/// against the register and chain of that call.
fn signed_verdicts(ledger: &Ledger) -> Option<witnessed::Verdicts> {
    let crate::ledger::EvidenceAt::S3(stores) = ledger.at() else { return None };
    let shown = ledger.at().describe();
    let snapshot = ledger.snapshot().ok()?;
    let holds = |bytes: &[u8]| {
        let v = witnessed::open(bytes, ledger.identities()).ok()?;
        let last = v.size.checked_sub(1)?;
        let at = snapshot.chain.records.binary_search_by_key(&last, |r| r.sequence).ok()?;
        (snapshot.chain.records[at].hash == v.hash).then_some(v)
    };
    let mut read = signed_read().lock().unwrap_or_else(|e| e.into_inner());
    // The witness store, opened once per call at most: to list the keys, then to read.
    let mut ws = None;
    let candidates = read.entry(shown).or_insert_with(|| {
        let witnesses: Vec<&str> = ledger.identities().iter().filter(|id| id.has_role(lz_evidence::Role::Witness)).map(|id| id.name.as_str()).collect();
        ws = stores.witness().ok();
        let keys = ws.as_ref().map(|ws| witnessed::newest(ws, &witnesses, snapshot.resumable.len()));
        keys.and_then(|k| k.ok()).unwrap_or_default().into_iter().map(|k| (k, None)).collect()
    });
    for (key, bytes) in candidates.iter_mut() {
        if bytes.is_none() {
            if ws.is_none() {
                ws = Some(stores.witness().ok()?);
            }
            // An object that cannot be read (gone, too large) is passed over as one that does
            // not hold: the next is tried, and with none every deployment is replayed.
            *bytes = Some(witnessed::read(ws.as_ref()?, key).unwrap_or_default());
        }
        if let Some(v) = bytes.as_deref().and_then(holds) {
            return Some(v);
        }
    }
    None
}

/// Where the verdicts of `ledger`'s deployments come from, for a verifier to say: the witness's
/// signed verdicts taken for the deployments before record N (their signer and time), or `None`
/// when every deployment is replayed.
pub fn signed_source(ledger: &Ledger) -> Option<String> {
    if !SIGNED.load(std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    signed_verdicts(ledger).map(|v| format!("the verdicts of the deployments before record {} signed by witness {} at {}", v.size, v.witness, v.time))
}

/// The latest signed verdicts objects of each store in this process, newest first: their keys,
/// and the bytes of those read so far.
type Candidates = Vec<(String, Option<Vec<u8>>)>;

fn signed_read() -> &'static std::sync::Mutex<std::collections::HashMap<String, Candidates>> {
    static READ: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Candidates>>> = std::sync::OnceLock::new();
    READ.get_or_init(Default::default)
}

/// `records` without the deployments that have no valid admission, and those.
pub fn admitted_records(paths: &Paths, ledger: &Ledger, mut records: Vec<Record>) -> Result<(Vec<Record>, Rejected)> {
    let rejected = rejected(paths, ledger, &records)?;
    records.retain(|r| !rejected.contains_key(&r.sequence));
    Ok((records, rejected))
}

/// The verified chain at `paths` without the deployments that have no valid admission.
pub fn admitted(paths: &Paths) -> Result<Vec<Record>> {
    let ledger = paths.ledger()?;
    let records = ledger.records()?;
    Ok(admitted_records(paths, &ledger, records)?.0)
}

static REPLAYED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many admissions this process has replayed (tests and benchmarks: what the witness's
/// signed verdicts spared).
pub fn replayed() -> u64 {
    REPLAYED.load(std::sync::atomic::Ordering::SeqCst)
}

/// The admission of the successful deployment `d`, replayed with the chain before the
/// decision point it names (`rejected` deployments before it do not count).
fn admission_of(opened: &Opened, paths: &Paths, ledger: &Ledger, records: &[Record], rejected: &Rejected, d: &Record) -> Result<()> {
    REPLAYED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let env = d.environment.clone().unwrap_or_default();
    let r = short(&d.release);
    let Some(details) = d.deployment() else {
        return Err(refuse!("record {} of release {r} is no deployment record", d.sequence));
    };
    let Some(at) = details.in_progress_record else {
        return Err(refuse!(
            "deployment {} of release {r} to {env} names no admission (no in_progress_record): a deployment record is not proof of a deployment",
            d.sequence
        ));
    };
    let ip = records.iter().find(|x| x.sequence == at);
    let Some(ip) = ip.filter(|x| x.kind == Kind::Deployment && x.sequence < d.sequence) else {
        return Err(refuse!("deployment {} of release {r} names admission record {at}, which is no earlier deployment record", d.sequence));
    };
    let Some(started) = ip.deployment() else {
        return Err(refuse!("deployment {} of release {r} names admission record {at}, which is no deployment record", d.sequence));
    };
    refuse_if!(
        started.outcome != "in-progress"
            || ip.release != d.release
            || ip.environment != d.environment
            || ip.plan_digest != d.plan_digest
            || ip.identity != d.identity
            || started.run != details.run,
        "deployment {} of release {r} to {env} names admission record {at}, which is not the in-progress record of the same run, release, plan and deployer",
        d.sequence
    );
    let before: Vec<Record> = records.iter().filter(|x| x.sequence < at && !rejected.contains_key(&x.sequence)).cloned().collect();
    let session = Session::from_records_in(opened, paths, ledger, before, &d.release, &env)
        .map_err(|e| if is_refusal(&e) { refuse!("deployment {} of release {r} to {env}: {e:#}", d.sequence) } else { e })?;
    refuse_if!(
        d.plan_digest.as_deref() != Some(session.plan_digest.as_str()),
        "deployment {} of release {r} to {env} names plan {}, but the release renders plan {} there",
        d.sequence,
        short(d.plan_digest.as_deref().unwrap_or("-")),
        short(&session.plan_digest)
    );
    let policy = session.evaluate_policy(ip.time)?;
    let admission = session
        .admit(&ip.identity, &policy, ip.time)
        .map_err(|e| if is_refusal(&e) { refuse!("deployment {} of release {r} to {env} has no valid admission: {e:#}", d.sequence) } else { e })?;
    let recorded = started.tier.as_deref().unwrap_or_default();
    refuse_if!(
        admission.tier.as_str() != recorded,
        "deployment {} of release {r} to {env} records tier {recorded}, but its admission replayed is tier {}",
        d.sequence,
        admission.tier
    );
    let recorded_bg = started.break_glass;
    refuse_if!(
        admission.break_glass != recorded_bg,
        "deployment {} of release {r} to {env} records break-glass {recorded_bg:?}, but its admission replayed uses {:?}",
        d.sequence,
        admission.break_glass
    );
    Ok(())
}
