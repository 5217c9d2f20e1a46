//! The evidence chain verified once per process and shared by every step that reads it.
//!
//! The first read of a store in a process verifies it in full; every later read (the next
//! [`crate::ledger::Ledger`] a step opens, the re-read after an append) resumes from the head
//! verified last ([`lz_evidence::verify_store_from`]): it reads the store's anchors again (the
//! signed head, object versions, delete markers) and only the records appended since, and falls
//! back to a full verification on any mismatch. The resumed state lives in this process only.
//! Within one [`Command`], a ledger's read of an S3 chain whose signed head is unchanged reuses
//! the command's verification without listing the store again ([`reuse`]).
//! [`current_with`] may start from the verifier's mirror (`lz_evidence::mirror`), a file: its
//! records are re-verified and must hash-chain to the store's signed head, every earlier head
//! version is judged again (its bytes come from the mirror only where the store's version
//! listing vouches for them by ETag, [`lz_evidence::mirror::heads`]), and it is keyed by the
//! store and the trust root in full ([`lz_evidence::TrustRoot::identity`]). A mirror that holds
//! nothing yet (a fresh runner) is first planted from the witness's seeds ([`plant`]).
//! Every read of an S3 chain takes the latest note of the landing zone's witness store as a
//! voucher ([`lz_evidence::vouch`]): when it has a `listing` line and checks out against the
//! verified chain, only the keys after the witnessed size are listed; otherwise (or with
//! [`list_in_full`]) every object version is, as before. A note older than
//! `max_voucher_age_hours` (`governance/stores.toml`) by the evidence store's server clock is
//! not taken ([`lz_evidence::vouch::young_enough`]), and the listing line says so.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use lz_evidence::mirror::Mirror;
use lz_evidence::witness::Witnessed;
use lz_evidence::{verify_store_from, KnownCheckpoint, Resumable, Resumed, TrustRoot, VerifiedChain, VerifiedRecord};

use crate::ledger::{EvidenceAt, Record};

pub mod reuse;
pub use reuse::Command;

/// A verified chain, and the state to resume its verification from.
pub struct Snapshot {
    pub resumable: Resumable,
    pub chain: VerifiedChain,
    pub records: Vec<Record>,
    /// What a later read of the same command may reuse it by ([`reuse`]).
    anchor: Option<reuse::Anchor>,
    /// How the store was listed: under a witnessed listing or in full, and why (`evidence verify`
    /// says it).
    pub listing: String,
}

type Key = (String, String);

fn registry() -> &'static Mutex<HashMap<Key, Arc<Snapshot>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<Key, Arc<Snapshot>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn key(at: &EvidenceAt, trust: &TrustRoot) -> Key {
    (at.describe(), trust.identity())
}

/// The chain at `at` as it is now, verified against `trust` (resumed from this process's last
/// verification of it when there is one). `Err` carries the verifier's failure as is.
pub fn current(at: &EvidenceAt, trust: &TrustRoot, mirror: Option<&Path>) -> Result<Arc<Snapshot>> {
    current_with(at, trust, &[], &[], mirror)
}

/// [`current`], with checkpoints the verifier knows from elsewhere (its cache, `--checkpoint`)
/// and witnessed checkpoints ([`lz_evidence::witness`]) checked against the whole chain.
///
/// `mirror`: the directory of the verifier's mirrors ([`lz_evidence::mirror`]): the first read in
/// a process of an S3 store reads from the store only the records after the mirrored ones (and
/// verifies them all again).
pub fn current_with(
    at: &EvidenceAt,
    trust: &TrustRoot,
    known: &[KnownCheckpoint],
    witnessed: &[Witnessed],
    mirror: Option<&Path>,
) -> Result<Arc<Snapshot>> {
    current_at(at, trust, known, witnessed, mirror, false)
}

/// [`current`] for a read of a decision command: within a [`Command`], the verification it made
/// of an unchanged S3 chain ([`reuse`]), one GET instead of a listing of every object version.
pub fn current_reused(at: &EvidenceAt, trust: &TrustRoot, mirror: Option<&Path>) -> Result<Arc<Snapshot>> {
    current_at(at, trust, &[], &[], mirror, true)
}

fn current_at(
    at: &EvidenceAt,
    trust: &TrustRoot,
    known: &[KnownCheckpoint],
    witnessed: &[Witnessed],
    mirror: Option<&Path>,
    reusable: bool,
) -> Result<Arc<Snapshot>> {
    let key = key(at, trust);
    let previous = registry().lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
    let store = at.open()?;
    if let Some(p) = previous.as_ref().filter(|_| reusable) {
        if reuse::still(p.anchor.as_ref(), &*store)? {
            return Ok(Arc::clone(p));
        }
    }
    let voucher = voucher(at);
    // What the seeds may plant at most: the records the latest usable witness note vouches for.
    let vouched = voucher.usable().and_then(|w| lz_evidence::witness::parse(&w.note).ok()).map(|n| n.checkpoint.size);
    // Signatures carried from the mirror ([`Mirror::verify_vouched`]), and why not.
    let carried = std::cell::RefCell::new(None);
    // Why the vouched run did not resume from the verifier's kept state (empty: it did).
    let state = std::cell::RefCell::new(None::<String>);
    let ((chain, resumable, how), listed) = lz_evidence::vouch::verified_with(&*store, witnessed, voucher.usable(), |s, witnessed, vouching| match (&previous, mirror, at) {
        (None, Some(dir), EvidenceAt::S3(stores)) => {
            let mirror = Mirror::new(dir, s, trust);
            plant(stores, &mirror, vouched);
            let out = mirror.verify_vouched(s, trust, known, witnessed, vouching);
            if vouching.is_some() {
                *state.borrow_mut() = Some(mirror.state_unused());
            }
            // The vouched run's account is kept: the full run after it says only "no voucher".
            let mut slot = carried.borrow_mut();
            if vouching.is_some() || slot.is_none() {
                *slot = Some(mirror.carried());
            }
            drop(slot);
            let (chain, resumable, _) = out?;
            Ok((chain, resumable, Resumed::Full))
        }
        _ => verify_store_from(s, trust, known, witnessed, previous.as_ref().map(|p| &p.resumable)),
    })?;
    // The vouched run's carry counts only when that run's verdict is the one given.
    let carried = carried.into_inner().map(|c| match listed {
        lz_evidence::vouch::Listed::Vouched => c,
        lz_evidence::vouch::Listed::Full if c.records > 0 || c.why.is_empty() => {
            lz_evidence::mirror::Carried { records: 0, why: "the witnessed listing did not check out, so the store was verified again in full".into() }
        }
        lz_evidence::vouch::Listed::Full => c,
    });
    if let Some(c) = &carried {
        CARRIED.store(c.records, std::sync::atomic::Ordering::SeqCst);
    }
    let mut snapshot = match (how, previous) {
        (Resumed::Suffix, Some(p)) if chain.records.is_empty() && chain.head == p.chain.head => {
            // The same records; the rest (pending changes, rules, foreign objects) as read now.
            let (records, all) = earlier_records(&key, p);
            Snapshot { resumable, chain: VerifiedChain { records: all, ..chain }, records, anchor: None, listing: String::new() }
        }
        (Resumed::Suffix, Some(p)) => {
            let (mut records, mut all) = earlier_records(&key, p);
            records.extend(chain.records.iter().map(record_of));
            all.extend(chain.records);
            Snapshot { resumable, chain: VerifiedChain { records: all, ..chain }, records, anchor: None, listing: String::new() }
        }
        (_, _) => {
            let records = chain.records.iter().map(record_of).collect();
            Snapshot { resumable, chain, records, anchor: None, listing: String::new() }
        }
    };
    snapshot.listing = listing(listed, &voucher);
    if let Some(c) = carried {
        snapshot.listing.push_str(&signatures(&c));
    }
    match state.into_inner() {
        Some(why) if why.is_empty() && listed == lz_evidence::vouch::Listed::Vouched => {
            snapshot.listing.push_str("; state: resumed from this verifier's kept state, whose digest the witness signed (the records before it decoded from the mirror, each held to its hash)")
        }
        Some(why) if !why.is_empty() => snapshot.listing.push_str(&format!("; state: not resumed from a kept state ({why})")),
        _ => {}
    }
    snapshot.anchor = reuse::anchor(at, &*store, &snapshot.chain)?;
    let snapshot = Arc::new(snapshot);
    registry().lock().unwrap_or_else(|e| e.into_inner()).insert(key, Arc::clone(&snapshot));
    Ok(snapshot)
}

/// The records of the earlier snapshot `p` of `key`, which a resumed read extends: moved, not
/// copied, when nothing else holds `p` (its registry entry is dropped here and replaced by the
/// new snapshot; a ledger lets its stale one go before it reads again).
fn earlier_records(key: &Key, p: Arc<Snapshot>) -> (Vec<Record>, Vec<VerifiedRecord>) {
    registry().lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    match Arc::try_unwrap(p) {
        Ok(p) => (p.records, p.chain.records),
        Err(p) => (p.records.clone(), p.chain.records.clone()),
    }
}

static SEEDS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
static PLANTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static SEGMENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(lz_evidence::witness::seed::SEGMENT);

/// The seed segment size a verifier plants from (the witness job publishes
/// [`lz_evidence::witness::seed::SEGMENT`]; tests publish smaller ones on short chains).
pub fn use_seed_segment(records: u64) {
    SEGMENT.store(records, std::sync::atomic::Ordering::SeqCst);
}

/// Whether a mirror that holds nothing is planted from the witness's seeds (benchmarks turn it
/// off to measure a verifier with neither).
pub fn use_seeds(on: bool) {
    SEEDS.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// The records the last planting of this process took from the witness's seeds.
pub fn planted() -> u64 {
    PLANTED.load(std::sync::atomic::Ordering::SeqCst)
}

static CARRIED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The mirrored records whose signatures the last read of this process from a mirror carried
/// ([`Mirror::verify_vouched`]; 0 when it checked them all).
pub fn carried() -> u64 {
    CARRIED.load(std::sync::atomic::Ordering::SeqCst)
}

/// The second half of [`Snapshot::listing`] after a read from the mirror: how many mirrored
/// signatures were carried to the witnessed point, or why every one was checked.
fn signatures(c: &lz_evidence::mirror::Carried) -> String {
    if c.records > 0 {
        format!("; signatures: the first {} records' carried (checked before by this verifier, their hashes witnessed; register changes checked again), the rest checked", c.records)
    } else {
        format!("; signatures: every record's checked ({})", c.why)
    }
}

/// Plants an empty mirror from the witness store's seeds ([`lz_evidence::witness::seed`]), at
/// most the `vouched` records the latest usable witness note vouches for (none without one). A
/// seed is never believed (the mirror's records are all verified again and held against the
/// store), so a witness store that cannot be read only means reading every record from the
/// evidence store, as without a seed.
fn plant(stores: &crate::stores::Stores, mirror: &Mirror, vouched: Option<u64>) {
    PLANTED.store(0, std::sync::atomic::Ordering::SeqCst);
    let Some(upto) = vouched else { return };
    if !SEEDS.load(std::sync::atomic::Ordering::SeqCst) || mirror.holds_records() {
        return;
    }
    let planted = (|| -> Result<u64> {
        let evidence = stores.evidence()?;
        let first = evidence.record_key(0);
        let keys = format!("s3://{}/{}", evidence.bucket(), first.strip_suffix(&format!("{:012}.json", 0)).unwrap_or(&first));
        lz_evidence::witness::seed::plant(&stores.witness()?, mirror, &keys, SEGMENT.load(std::sync::atomic::Ordering::SeqCst), upto)
    })();
    PLANTED.store(planted.unwrap_or(0), std::sync::atomic::Ordering::SeqCst);
}

/// Forgets what this process verified of `at`: the next read verifies it in full (tests and
/// benchmarks, standing for a new process).
pub fn forget(at: &EvidenceAt) {
    let shown = at.describe();
    registry().lock().unwrap_or_else(|e| e.into_inner()).retain(|(store, _), _| *store != shown);
    notes().lock().unwrap_or_else(|e| e.into_inner()).remove(&shown);
    if let EvidenceAt::S3(stores) = at {
        crate::server_date::forget(Some(stores));
    }
}

/// Latest witness notes read by this process, per store: read once (a later note only lists less).
fn notes() -> &'static Mutex<HashMap<String, Voucher>> {
    static NOTES: OnceLock<Mutex<HashMap<String, Voucher>>> = OnceLock::new();
    NOTES.get_or_init(Default::default)
}

static FULL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// With `on`, from now on this process lists every object version of the store on every
/// verification and takes no witnessed listing as a voucher (`evidence verify --full`).
pub fn list_in_full(on: bool) {
    FULL.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// [`list_in_full`] until the guard is dropped (a panic included), then as before.
pub fn listing_in_full() -> FullListing {
    FullListing(FULL.swap(true, std::sync::atomic::Ordering::SeqCst))
}

/// See [`listing_in_full`]: holds the setting it replaced.
pub struct FullListing(bool);

impl Drop for FullListing {
    fn drop(&mut self) {
        FULL.store(self.0, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The voucher of an S3 chain: the latest note in its witness store, when it is young enough by
/// the trusted clock ([`lz_evidence::vouch::young_enough`]: the evidence store's server time,
/// never the local clock; `max_voucher_age_hours` of `governance/stores.toml`). Reading it is a
/// performance aid: a store or a server time that cannot be read gives none (every object
/// version is listed) and the error, which the verification's [`Snapshot::listing`] reports; it
/// is read again next time. A note too old gives none, and says why.
fn voucher(at: &EvidenceAt) -> Voucher {
    let EvidenceAt::S3(stores) = at else { return Voucher::None };
    if FULL.load(std::sync::atomic::Ordering::SeqCst) {
        return Voucher::None;
    }
    let shown = at.describe();
    if let Some(v) = notes().lock().unwrap_or_else(|e| e.into_inner()).get(&shown) {
        return v.clone();
    }
    let read = || -> Result<Voucher> {
        let Some(note) = stores.witness()?.latest()? else { return Ok(Voucher::None) };
        let (now, clock) = crate::server_date::store_date(stores)?;
        let clock = format!("server time of {clock}");
        Ok(match lz_evidence::vouch::young_enough(&note, now, &clock, stores.max_voucher_age_hours) {
            Ok(()) => Voucher::Usable(note),
            Err(why) => Voucher::TooOld(why),
        })
    };
    let v = match read() {
        Ok(v) => v,
        Err(e) => return Voucher::Unreadable(format!("{e:#}")),
    };
    notes().lock().unwrap_or_else(|e| e.into_inner()).insert(shown, v.clone());
    v
}

/// What [`voucher`] found.
#[derive(Clone)]
enum Voucher {
    /// No note (or a local chain, or `--full`).
    None,
    /// The witness store or the server time could not be read.
    Unreadable(String),
    /// The latest note, older than `max_voucher_age_hours` allows (why).
    TooOld(String),
    Usable(Witnessed),
}

impl Voucher {
    fn usable(&self) -> Option<&Witnessed> {
        match self {
            Voucher::Usable(w) => Some(w),
            _ => None,
        }
    }
}

/// [`Snapshot::listing`]: how the store was listed, and why.
fn listing(listed: lz_evidence::vouch::Listed, voucher: &Voucher) -> String {
    use lz_evidence::vouch::Listed;
    let size = |w: &Witnessed| lz_evidence::witness::parse(&w.note).map(|n| n.checkpoint.size).unwrap_or(0);
    match (listed, voucher) {
        (Listed::Vouched, Voucher::Usable(w)) => format!("listing: only the record keys after the {} records witnessed by {}", size(w), w.source),
        (_, Voucher::Unreadable(e)) => format!("listing: every object version (the witness store's latest note could not be read: {e})"),
        (_, Voucher::TooOld(why)) => format!("listing: every object version (the witness's latest note is too old to vouch: {why})"),
        (_, Voucher::None) if FULL.load(std::sync::atomic::Ordering::SeqCst) => "listing: every object version (--full)".to_string(),
        (_, Voucher::None) => "listing: every object version (no witnessed listing to shorten it)".to_string(),
        (_, Voucher::Usable(w)) => format!("listing: every object version ({} vouches for no listing, or it did not check out)", w.source),
    }
}

/// A verified record as change control reads it.
/// Only the fields a record needs are copied (not the predicate's untyped details, which the
/// typed `details` already hold).
pub fn record_of(r: &VerifiedRecord) -> Record {
    let p = &r.statement.predicate;
    Record {
        sequence: r.sequence,
        kind: r.kind,
        identity: p.identity.clone(),
        signer: r.signer.clone(),
        time: r.time,
        release: p.release.clone(),
        environment: p.environment.clone(),
        account: p.account.clone(),
        plan_digest: p.plan_digest.clone(),
        ticket: p.ticket.clone(),
        reason: p.reason.clone(),
        details: r.details.clone(),
    }
}

/// Forgets every chain this process verified (benchmarks: a new process), and lists as a new
/// process does (no [`list_in_full`]).
pub fn forget_all() {
    registry().lock().unwrap_or_else(|e| e.into_inner()).clear();
    notes().lock().unwrap_or_else(|e| e.into_inner()).clear();
    crate::server_date::forget(None);
    list_in_full(false);
}

/// Appends made through any ledger of this process: a ledger re-reads the chain when the count
/// moved since it last read it (another ledger of the same command appended).
static APPENDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn appends() -> u64 {
    APPENDS.load(std::sync::atomic::Ordering::SeqCst)
}

pub(crate) fn appended() {
    APPENDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}
