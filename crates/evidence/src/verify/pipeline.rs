//! The pipeline: windows of records read, decoded and signature-checked by workers (batched) ahead of
//! the one thread that runs the sequential checks; the same verdict as a sequential pass.

use std::collections::{BTreeSet, HashMap};

use anyhow::{bail, Result};

use crate::sig;
use crate::identity::Identities;
use crate::keys::PublicKey;
use crate::quarantine::Quarantined;
use crate::record::Kind;
use crate::store::{Store, StoredRecord};
use super::incremental;
use super::accept::genesis_register;
use super::anchors::{finish, register_history};
use super::decode::{decode, workers, Pre};
use super::reason::Reason;
use super::results::{report, Anchors, PendingRegister, Report, VerifiedRecord};
use super::rules::{fail, hex32, ChainRules, State};
use super::trust::TrustRoot;

/// Windows of records decoded and signature-checked together: memory stays bounded by the
/// window whatever the chain length.
/// Records per unit of parallel work (decoding and signatures).
pub(super) const WINDOW: usize = 2048;

pub(super) fn run(
    records: &[StoredRecord],
    root: &TrustRoot,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
) -> Result<Outcome> {
    run_with(records, root, anchors, keep, Strategy::default(), &mut None)
}

/// How records are checked. The default checks signatures in batches ([`sig::check_batch`],
/// record by record when a batch fails) on every core, while one thread runs the sequential
/// checks; `sequential` checks each signature alone ([`sig::check`]) on one thread. Both give
/// the same result, including which record is reported first (tests compare them).
#[derive(Clone, Copy, Debug)]
pub struct Strategy {
    pub batch: bool,
    pub parallel: bool,
    /// Signatures carried: the records below this sequence (record 0 and the register's own
    /// records excepted, see [`carried`]) get no signature check in this pass. Only
    /// [`crate::mirror`] sets it, for records its own verifier checked before and a witness of the
    /// register in force vouches for by hash; it then holds the pass against that witness note
    /// and verifies again in full when anything does not match. 0 everywhere else.
    pub carried: u64,
    /// Decode every record's full statement (and its typed details) even when the pass keeps
    /// no record, so that it refuses what a keeping pass refuses (the witness's lean pass).
    pub full_statements: bool,
    /// Keep the state as it stands after this many keys ([`State::captured`]; 0: none), for a
    /// checkpoint of it ([`super::state_digest`]). The windows are split there; nothing else changes.
    pub capture: u64,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy { batch: true, parallel: true, carried: 0, full_statements: false, capture: 0 }
    }
}

impl Strategy {
    pub fn sequential() -> Strategy {
        Strategy { batch: false, parallel: false, carried: 0, full_statements: false, capture: 0 }
    }
}

/// Whether the record `d` is one whose signature [`Strategy::carried`] spares: its sequence is
/// below `below`, and it is neither record 0 nor a register change or approval. The register's
/// own records are always checked, since the register in force judges the witness that vouches
/// for the rest: a retired witness key and raw writes cannot put a forged register in force.
/// The sequence is the one the record claims; the sequential pass holds every record to its
/// place, so a record carried here sits below `below` in the chain.
pub(super) fn carried(d: &super::decode::Decoded, below: u64) -> bool {
    let Ok(st) = &d.statement else { return false };
    let seq = st.predicate.chain.sequence;
    seq > 0
        && seq < below
        && st.predicate_type != Kind::RegisterChange.predicate_type()
        && st.predicate_type != Kind::RegisterApproval.predicate_type()
}

/// [`report_of`] with an explicit [`Strategy`] (benchmarks and equivalence tests).
pub fn report_with(records: &[StoredRecord], root: &TrustRoot, anchors: &Anchors, strategy: Strategy) -> Result<Report> {
    report(run_with(records, root, anchors, None, strategy, &mut None).map(|(head, _, _, _, q)| (head, q)), records.len())
}

/// Records per batched signature check: one multiscalar multiplication of about
/// `BATCH + 2` points (see [`sig::check_batch`]).
pub const BATCH: usize = 1024;

/// Signatures of one window, in batches; the records of a failed batch are checked one by one,
/// so the bad record is found exactly. `keys` is by key id: a key id names one key, so a
/// verdict here holds for any register that has the key id. A record whose key id is not in
/// `keys` (a register change not seen yet) gets no verdict (`None`): the sequential pass checks
/// it with the key of the register in force.
pub(super) fn check_signatures(decoded: &[Pre], keys: &HashMap<String, PublicKey>, strategy: Strategy) -> Vec<Option<bool>> {
    let batch = strategy.batch;
    enum Sig {
        Undecided,
        Refused,
        Ready(sig::Prepared),
        /// An ECDSA signature, checked on its own (ECDSA has no batch equation here).
        Checked(bool),
    }
    let prepared: Vec<Sig> = decoded
        .iter()
        .map(|pre| match pre {
            Pre::Ok(d) if carried(d, strategy.carried) => Sig::Checked(true),
            Pre::Ok(d) => match keys.get(&d.keyid) {
                Some(PublicKey::Ed25519(key)) => d.prepare(key).map_or(Sig::Refused, Sig::Ready),
                Some(key) => Sig::Checked(d.verifies(key)),
                None => Sig::Undecided,
            },
            _ => Sig::Undecided,
        })
        .collect();
    let one = |p: &Sig| match p {
        Sig::Undecided => None,
        Sig::Refused => Some(false),
        Sig::Ready(p) => Some(sig::check(p)),
        Sig::Checked(ok) => Some(*ok),
    };
    if !batch {
        return prepared.iter().map(one).collect();
    }
    let mut out = Vec::with_capacity(prepared.len());
    for group in prepared.chunks(BATCH) {
        let ready: Vec<&sig::Prepared> = group.iter().filter_map(|p| if let Sig::Ready(p) = p { Some(p) } else { None }).collect();
        if sig::check_batch(&ready) {
            out.extend(group.iter().map(|p| match p {
                Sig::Ready(_) => Some(true),
                other => one(other),
            }));
        } else {
            out.extend(group.iter().map(one));
        }
    }
    out
}

/// Keys by key id: those of the registers the sequential pass has put in force so far. Workers
/// read it for each window; register changes found in a window are added to their copy
/// optimistically (the sequential pass decides whether the change holds).
pub(super) struct KeyDirectory(std::sync::RwLock<HashMap<String, PublicKey>>);

impl KeyDirectory {
    pub(super) fn add(&self, register: &Identities) {
        let mut keys = self.0.write().expect("the key directory is never poisoned");
        for id in register.iter() {
            keys.entry(id.keyid.clone()).or_insert(id.public_key);
        }
    }

    pub(super) fn snapshot(&self) -> HashMap<String, PublicKey> {
        self.0.read().expect("the key directory is never poisoned").clone()
    }
}

/// One window decoded and its signatures checked (the parallel part of verification).
pub(super) struct Prepped {
    pub(super) records: Vec<StoredRecord>,
    pub(super) decoded: Vec<Pre>,
    /// Each record's signature verdict, `None` where the worker did not know the key.
    pub(super) sig_ok: Vec<Option<bool>>,
}

pub(super) fn prep_window(records: Vec<StoredRecord>, keeping: bool, directory: &KeyDirectory, strategy: Strategy) -> Prepped {
    let decoded: Vec<Pre> = records.iter().map(|r| decode(r, keeping)).collect();
    let mut keys = directory.snapshot();
    // Keys of register changes in this window, for the records after them.
    let mut changes = decoded.iter().enumerate().filter_map(|(i, d)| match d {
        Pre::Ok(d) => d.statement.as_ref().ok().filter(|st| st.predicate_type == Kind::RegisterChange.predicate_type()).map(|_| (i, d)),
        _ => None,
    });
    let sig_ok = match changes.next() {
        None => check_signatures(&decoded, &keys, strategy),
        Some((first, st)) => {
            let mut sig_ok = check_signatures(&decoded[..first + 1], &keys, strategy);
            let mut from = first + 1;
            let mut pending = Some(st);
            while let Some(d) = pending.take() {
                if let Some(ids) = d.register_change().and_then(|c| Identities::parse(&c.register, "register").ok()) {
                    for id in ids.iter() {
                        keys.entry(id.keyid.clone()).or_insert(id.public_key);
                    }
                }
                let to = match changes.next() {
                    Some((i, next)) => {
                        pending = Some(next);
                        i + 1
                    }
                    None => decoded.len(),
                };
                sig_ok.extend(check_signatures(&decoded[from..to], &keys, strategy));
                from = to;
            }
            sig_ok
        }
    };
    // The payload is needed later only to check a signature the worker could not judge.
    let mut decoded = decoded;
    for (pre, verdict) in decoded.iter_mut().zip(&sig_ok) {
        if let (Pre::Ok(d), Some(_)) = (pre, verdict) {
            d.payload = Vec::new();
        }
    }
    Prepped { records, decoded, sig_ok }
}

/// Windows handed from the sequential pass (which reads them) to the workers and back, by
/// number.
pub(super) struct Handoff {
    pub(super) state: std::sync::Mutex<HandoffState>,
    pub(super) changed: std::sync::Condvar,
}

#[derive(Default)]
pub(super) struct HandoffState {
    pub(super) todo: std::collections::VecDeque<(usize, Vec<StoredRecord>)>,
    pub(super) ready: HashMap<usize, Prepped>,
    pub(super) stop: bool,
    /// A worker panicked: the window it held will never arrive.
    pub(super) lost: bool,
}

/// Windows read ahead of the sequential pass: enough to keep every worker busy, few enough
/// that memory stays flat.
pub(super) const AHEAD: usize = 6;

impl Handoff {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, HandoffState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn wait<'g>(&self, guard: std::sync::MutexGuard<'g, HandoffState>) -> std::sync::MutexGuard<'g, HandoffState> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// The next window for a worker; `None` once the pass is over.
    pub(super) fn claim(&self) -> Option<(usize, Vec<StoredRecord>)> {
        let mut st = self.lock();
        loop {
            if st.stop {
                return None;
            }
            if let Some(work) = st.todo.pop_front() {
                return Some(work);
            }
            st = self.wait(st);
        }
    }

    pub(super) fn give(&self, w: usize, records: Vec<StoredRecord>) {
        self.lock().todo.push_back((w, records));
        self.changed.notify_all();
    }

    pub(super) fn put(&self, w: usize, p: Prepped) {
        self.lock().ready.insert(w, p);
        self.changed.notify_all();
    }

    /// Window `w` once prepared. While it is not, the calling thread prepares waiting windows
    /// itself (it would idle otherwise: one thread per core in all).
    pub(super) fn take(&self, w: usize, keeping: bool, directory: &KeyDirectory, strategy: Strategy) -> Result<Prepped> {
        let mut st = self.lock();
        loop {
            if let Some(p) = st.ready.remove(&w) {
                return Ok(p);
            }
            if st.lost {
                bail!("a verification worker stopped (panicked) before window {w} was checked");
            }
            if let Some((v, records)) = st.todo.pop_front() {
                drop(st);
                let p = prep_window(records, keeping, directory, strategy);
                if v == w {
                    return Ok(p);
                }
                st = self.lock();
                st.ready.insert(v, p);
                continue;
            }
            st = self.wait(st);
        }
    }

    pub(super) fn stop(&self, lost: bool) {
        let mut st = self.lock();
        st.stop = true;
        st.lost |= lost;
        drop(st);
        self.changed.notify_all();
    }
}

/// The windows of the sequential pass, in order: read from the source and prepared by the
/// workers (`handoff`), or prepared in this thread.
pub(super) struct Feed<'h, I> {
    pub(super) source: I,
    pub(super) handoff: Option<&'h Handoff>,
    pub(super) keeping: bool,
    pub(super) strategy: Strategy,
    pub(super) read: usize,
    pub(super) taken: usize,
    pub(super) exhausted: bool,
}

impl<I: Iterator<Item = Result<Vec<StoredRecord>>>> Feed<'_, I> {
    fn next(&mut self, directory: &KeyDirectory) -> Result<Option<Prepped>> {
        let Some(handoff) = self.handoff else {
            return match self.source.next() {
                Some(records) => Ok(Some(prep_window(records?, self.keeping, directory, self.strategy))),
                None => Ok(None),
            };
        };
        while !self.exhausted && self.read < self.taken + AHEAD {
            match self.source.next() {
                Some(records) => {
                    handoff.give(self.read, records?);
                    self.read += 1;
                }
                None => self.exhausted = true,
            }
        }
        if self.taken == self.read {
            return Ok(None);
        }
        self.taken += 1;
        handoff.take(self.taken - 1, self.keeping, directory, self.strategy).map(Some)
    }

    /// Every record after the current window (the windows in flight, then the unread ones).
    fn rest(&mut self, directory: &KeyDirectory) -> Result<Vec<StoredRecord>> {
        let mut out = Vec::new();
        if let Some(handoff) = self.handoff {
            while self.taken < self.read {
                out.extend(handoff.take(self.taken, self.keeping, directory, self.strategy)?.records);
                self.taken += 1;
            }
        }
        for records in self.source.by_ref() {
            out.extend(records?);
        }
        self.exhausted = true;
        Ok(out)
    }
}

/// What a pass over the windows found: the head (sequence, hash), the final register and how
/// many records were read.
pub(super) type Outcome = (Option<(u64, String)>, Identities, Vec<PendingRegister>, ChainRules, Vec<Quarantined>);

pub(super) fn run_with(
    records: &[StoredRecord],
    root: &TrustRoot,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
    last: &mut Option<State>,
) -> Result<Outcome> {
    // The register at the start: a genesis register carried by record 0, or the trust root's.
    let genesis = records.first().and_then(|r| genesis_register(r));
    let register = match &genesis {
        Some((ids, signer_keyid)) => {
            let history = register_history(records, ids);
            let signer = ids.by_keyid(signer_keyid);
            if !root.vouches_for_genesis(ids, signer, &history) {
                return Err(fail(
                    &records[0].location,
                    Some(0),
                    Reason::Untrusted(format!(
                        "the chain starts with its own register ({}) and the trust root ({}) neither is one of the chain's registers nor pins it or its signer",
                        ids.fingerprint(),
                        root.describe()
                    )),
                ));
            }
            ids.clone()
        }
        // An empty chain needs no register; what it should hold is the anchors' business.
        None if records.is_empty() => root.start_register().unwrap_or_default(),
        None => match root.start_register() {
            Ok(r) => r,
            Err(r) => crate::genesis_after::vouched(records, root, anchors.slotted).ok_or_else(|| fail("trust root", None, r))?,
        },
    };
    run_windows(records.chunks(WINDOW).map(|w| Ok(w.to_vec())), register, anchors, keep, strategy, last)
}

/// Verification of a store read a window at a time ([`Store::windows`]): memory stays flat
/// however long the chain is. A chain that starts with its own (genesis) register is read
/// whole first, since trusting it needs every register the chain establishes.
pub(super) fn run_store(
    store: &dyn Store,
    root: &TrustRoot,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
    last: &mut Option<State>,
) -> Result<Outcome> {
    let mut windows = store.windows()?.peekable();
    let genesis = match windows.peek() {
        Some(Ok(w)) => w.first().and_then(genesis_register),
        _ => None,
    };
    if let Some((ids, signer_keyid)) = genesis {
        // Pinned (by fingerprint or signer) without needing the chain's later registers: streamed.
        if root.vouches_for_genesis(&ids, ids.by_keyid(&signer_keyid), &[]) {
            return run_windows(windows, ids, anchors, keep, strategy, last);
        }
        let records: Vec<StoredRecord> = windows.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
        return run_with(&records, root, anchors, keep, strategy, last);
    }
    let empty = match windows.peek() {
        None => true,
        Some(Ok(w)) => w.is_empty(),
        Some(Err(_)) => false,
    };
    // An empty chain needs no register; what it should hold is the anchors' business.
    let register = if empty {
        root.start_register().unwrap_or_default()
    } else {
        match root.start_register() {
            Ok(r) => r,
            // Record 0 is no genesis and only pins are trusted: read whole, the genesis may
            // follow foreign objects (`crate::genesis_after`).
            Err(_) if root.pins_only() => {
                let records: Vec<StoredRecord> = windows.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
                return run_with(&records, root, anchors, keep, strategy, last);
            }
            Err(r) => return Err(fail("trust root", None, r)),
        }
    };
    run_windows(windows, register, anchors, keep, strategy, last)
}

/// The pass: workers decode windows and check their signatures while this thread reads the
/// next windows and runs the sequential checks of the windows before.
pub(super) fn run_windows(
    windows: impl Iterator<Item = Result<Vec<StoredRecord>>>,
    register: Identities,
    anchors: &Anchors,
    keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
    last: &mut Option<State>,
) -> Result<Outcome> {
    let (outcome, state) = run_from(windows, State::start(register), anchors, keep, strategy)?;
    *last = Some(state);
    Ok(outcome)
}

impl State {
    /// The state before record 0, judged by `register`.
    pub(super) fn start(register: Identities) -> State {
        let register_fp = register.fingerprint();
        let register = std::sync::Arc::new(register);
        State {
            history: vec![register_fp.clone()],
            registers: vec![(0, std::sync::Arc::clone(&register))],
            proposals: HashMap::new(),
            register,
            register_fp,
            expected: 0,
            previous: [0; 32],
            last_time: None,
            hashes: Vec::new(),
            locations: Vec::new(),
            break_glass: HashMap::new(),
            engines: HashMap::new(),
            authors: HashMap::new(),
            slotted: false,
            pending: Vec::new(),
            quarantined: Vec::new(),
            skipped: BTreeSet::new(),
            adoptions: super::adoption::Replay::default(),
            delegations: Default::default(),
            captured: None,
        }
    }
}

/// The pass from `state` (record 0, or the head of an earlier pass: see [`incremental`]) over
/// the records of `windows`, which follow it; returns the outcome and the state at the new head.
pub(super) fn run_from(
    windows: impl Iterator<Item = Result<Vec<StoredRecord>>>,
    mut state: State,
    anchors: &Anchors,
    mut keep: Option<&mut Vec<VerifiedRecord>>,
    strategy: Strategy,
) -> Result<(Outcome, State)> {
    incremental::count_pass(state.expected);
    let directory = KeyDirectory(Default::default());
    // A resumed state's pending foreign objects (after its last record) are read and judged again.
    state.slotted = anchors.slotted;
    for (_, register) in &state.registers {
        directory.add(register);
    }
    let handoff = Handoff { state: Default::default(), changed: Default::default() };
    let keeping = keep.is_some();
    let decoding = keeping || strategy.full_statements;
    let capture = strategy.capture;
    // The windows are objects at the keys from the state's on: the one holding the capture
    // point is split there, so that the state after it can be kept.
    let mut at = state.expected;
    let windows = windows.flat_map(move |w| {
        let mut w = match w {
            Ok(w) => w,
            Err(e) => return vec![Err(e)],
        };
        let start = at;
        at += w.len() as u64;
        if capture > start && capture < at {
            let rest = w.split_off((capture - start) as usize);
            return vec![Ok(w), Ok(rest)];
        }
        vec![Ok(w)]
    });
    let mut feed = Feed {
        source: windows,
        handoff: strategy.parallel.then_some(&handoff),
        keeping: decoding,
        strategy,
        read: 0,
        taken: 0,
        exhausted: false,
    };
    let mut pass = |feed: &mut Feed<'_, _>| -> Result<()> {
        while let Some(p) = feed.next(&directory)? {
            state.accept_window(p, keep.as_deref_mut(), &directory, &mut || feed.rest(&directory))?;
            if capture > 0 && state.captured.is_none() && state.expected == capture && state.pending.is_empty() {
                state.captured = Some(Box::new(state.clone()));
            }
        }
        Ok(())
    };
    if strategy.parallel {
        std::thread::scope(|s| -> Result<()> {
            // This thread prepares windows too while it waits, so one worker fewer than cores.
            for _ in 1..workers() {
                s.spawn(|| {
                    let work = std::panic::AssertUnwindSafe(|| {
                        while let Some((w, records)) = handoff.claim() {
                            handoff.put(w, prep_window(records, decoding, &directory, strategy));
                        }
                    });
                    if std::panic::catch_unwind(work).is_err() {
                        handoff.stop(true);
                    }
                });
            }
            let outcome = pass(&mut feed);
            handoff.stop(false);
            outcome
        })?;
    } else {
        pass(&mut feed)?;
    }
    let head = state.hashes.last().map(|h| (state.hashes.len() as u64 - 1, hex32(h)));
    // Foreign objects the records skip (kept by a resumed state); the store's anchors add theirs.
    let of_records = state.quarantined.len();
    finish(&mut state, anchors)?;
    // Foreign objects after the last record: reported, recorded by the next append.
    let mut quarantined = std::mem::take(&mut state.quarantined);
    quarantined.extend(state.pending.iter().cloned());
    // The rules after the last record, for the next append (kept with the records only).
    let locations = std::mem::take(&mut state.locations);
    let rules = ChainRules(keeping.then(|| Box::new(state.clone())));
    // The state to resume from: the records' own findings and locations, not the anchors'.
    state.locations = locations;
    state.quarantined = quarantined[..of_records].to_vec();
    let quorum = state.register.quorum();
    let pending = state
        .proposals
        .iter()
        .map(|(sequence, p)| {
            let pending = PendingRegister {
                sequence: *sequence,
                changes: state.register.changes_to(&p.register),
                missing: quorum.saturating_sub(p.approvers.len()),
                register: p.register.clone(),
                proposer: p.proposer.clone(),
                approvers: p.approvers.iter().cloned().collect(),
            };
            (*sequence, pending)
        })
        .collect::<std::collections::BTreeMap<_, _>>();
    let pending = pending.into_values().collect();
    let register = Identities::clone(&state.register);
    Ok(((head, register, pending, rules, quarantined), state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    fn verdict(r: Report) -> (usize, Option<(String, Option<u64>, &'static str)>) {
        (r.records, r.failure.map(|f| (f.location, f.sequence, f.reason.code())))
    }

    fn bad_signature(t: &str) -> String {
        let at = t.find("\"sig\":\"").unwrap() + 7;
        let flipped = if &t[at..at + 1] == "A" { "B" } else { "A" };
        format!("{}{flipped}{}", &t[..at], &t[at + 1..])
    }

    /// [`Strategy::carried`] spares the signatures below its limit only: a bad signature on the
    /// last record is refused unless the limit passes it. Record 0 and the register's own
    /// records (a register change, an approval of one) are never spared, since the register
    /// judges the witness whose note lets the mirror carry (a retired witness key and raw
    /// writes must not put a register in force). Without the exception, the bad register change
    /// below is accepted.
    #[test]
    fn carried_signatures_spare_no_register_record_and_nothing_past_the_limit() {
        let c = testing::chain(1);
        let anchors = Anchors::default();
        let carrying = |n: usize| Strategy { carried: n as u64, ..Strategy::default() };
        let last = c.records.len() - 1;
        let bad = testing::edited(&c.records, last, bad_signature);
        for s in [Strategy::default(), carrying(last)] {
            let (_, failure) = verdict(report_with(&bad, &c.root, &anchors, s).unwrap());
            assert_eq!(failure, Some((c.records[last].location.clone(), None, "signature")), "carried {}", s.carried);
        }
        let (_, failure) = verdict(report_with(&bad, &c.root, &anchors, carrying(last + 1)).unwrap());
        assert_eq!(failure, None, "carried past it, the signature is not checked again");

        // A register change (a proposal by the security approver) last, with a bad signature.
        let dir = tempfile::tempdir().unwrap();
        let team = &c.team;
        let mut archive = crate::archive::EvidenceArchive::open(crate::store::LocalStore::new(dir.path().join("chain.jsonl")), team.identities.clone()).unwrap();
        crate::bench::fill(&mut archive, team, 0..1).unwrap();
        let text = team.identities.source().to_string();
        let proposal = crate::record::RegisterChangeEvidence::new(&crate::bench::digest_of("release", 0), &text, &team.identities.fingerprint());
        archive.append(Kind::RegisterChange, proposal.0, &team.approver).unwrap();
        let records = archive.into_store().load().unwrap();
        let last = records.len() - 1;
        assert_eq!(verdict(report_with(&records, &c.root, &anchors, Strategy::default()).unwrap()).1, None, "the proposal itself is valid");
        let bad = testing::edited(&records, last, bad_signature);
        let (_, failure) = verdict(report_with(&bad, &c.root, &anchors, carrying(last + 1)).unwrap());
        assert_eq!(failure, Some((records[last].location.clone(), None, "signature")), "a register change is never carried");
    }

    #[test]
    fn every_strategy_gives_the_verdict_of_the_sequential_pass() {
        let c = testing::chain(3);
        // A signature of record 4 altered (one base64 character of the signature).
        let bad = testing::edited(&c.records, 4, bad_signature);
        let strategies = [Strategy::sequential(), Strategy { batch: true, parallel: false, ..Strategy::default() }, Strategy { batch: false, parallel: true, ..Strategy::default() }, Strategy::default()];
        for records in [&c.records, &bad] {
            let anchors = Anchors::default();
            let expected = verdict(report_with(records, &c.root, &anchors, Strategy::sequential()).unwrap());
            for s in strategies {
                assert_eq!(verdict(report_with(records, &c.root, &anchors, s).unwrap()), expected, "batch {} parallel {}", s.batch, s.parallel);
            }
        }
        let (_, failure) = verdict(report_with(&bad, &c.root, &Anchors::default(), Strategy::default()).unwrap());
        assert_eq!(failure, Some((c.records[4].location.clone(), None, "signature")));
    }
}
