//! A verifier's local copy of the records it verified from a remote store, so that the next
//! command reads from the store only the records appended since.
//!
//! The mirror is a performance aid, never a trust root:
//! - it is keyed by the store and the trust root (one file pair per pair; another store or
//!   another register never reads it);
//! - every mirrored record is verified again (signatures, roles, the hash chain, the kind rules)
//!   together with the store's new records, so nothing is believed because the file says so;
//! - the store still vouches for it: the record the mirror ends with is read from the store and
//!   must have the same bytes, the store's signed head and every earlier head version must name
//!   records of the chain with the same hash (earlier heads the mirror holds are taken from it
//!   only where the store's listing vouches for their bytes, see [`heads`], and are judged
//!   again), the object versions and delete markers are listed
//!   again and the number of record objects must equal the chain's length. A record rewritten or
//!   removed behind the mirror's end is caught there;
//! - any mismatch (a seal that does not match, a record that differs, a failure) means a full
//!   verification from the store, whose verdict is the one given, and the mirror is rebuilt
//!   from it (or removed when the chain fails).
//!
//! - foreign objects (see [`crate::quarantine`]) are judged again as a full verification judges
//!   them: the mirrored objects keep their store locations (their keys), the store's later
//!   versions and heads are listed again, the objects after the last record are read again;
//!   witnessed checkpoints are checked against the whole chain.
//!
//! - a kept verifier state (issue 36, [`Mirror::verify_vouched`]): the state this verifier
//!   derived after the records of a witness note whose `state` line carries the same digest
//!   ([`crate::verify::Resumable::checkpoint`]). A new process resumes from it without decoding
//!   the records before it only while the note is the one the command took from the witness
//!   store, the file hashes to its digest, the note is signed by a witness of the register in
//!   force after the chain (with its registered key) and of the register it starts from, the state
//!   starts from the trust root's register and the pass from it (every check of a resumed pass:
//!   the record it ends with read from the store with its hash, the store's anchors against
//!   every hash it holds, the appender-signed head naming that record or a later one) succeeds;
//!   otherwise the mirror is read as without it.
//!
//! Files: `<dir>/<key>.jsonl` (the objects at the chain's keys, one per line, the local store
//! format), `<dir>/<key>.json` (store, trust root, the location of the keys, record count,
//! hash of the last record, and a seal over them), `<dir>/<key>.heads.jsonl` (the earlier
//! head versions, [`heads`]), `<dir>/<key>.state.json` and `<dir>/<key>.state.note` (the kept
//! state and the witness note whose digest it hashes to).

pub mod heads;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{Checkpoint, HeldHeads, LocalStore, Store, StoreIntegrity, StoredRecord, Windows};
use crate::verify::{verify_store_carrying, KnownCheckpoint, Resumable, Resumed, TrustRoot, VerifiedChain};
use crate::witness::Witnessed;

/// How [`Mirror::verify`] read the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Every record from the store (no usable mirror; it was rebuilt).
    Store,
    /// The mirrored records from the mirror, the records after them from the store.
    Mirror { mirrored: u64 },
    /// The verifier's kept state after the first `state_at` keys (their records not decoded:
    /// the chain returned holds only the records after them), then the mirrored records after
    /// it and the store's new ones.
    Checkpoint { state_at: u64, mirrored: u64 },
}

pub struct Mirror {
    records: PathBuf,
    meta: PathBuf,
    store: String,
    trust: String,
    /// Earlier heads the last [`Mirror::verify`] read from the store (the others came from the
    /// mirror, vouched for by the store's listing).
    last_heads_read: std::cell::Cell<Option<u64>>,
    /// Signatures the last [`Mirror::verify_vouched`] carried, and why not more.
    last_carried: RefCell<Carried>,
    /// Why the last [`Mirror::verify_vouched`] did not resume from a kept state (empty: it did).
    last_state: RefCell<String>,
}

/// The keys after which a verification keeps its state for `voucher`'s `state` line (0: none).
fn capture_of(voucher: Option<&Witnessed>) -> u64 {
    voucher.and_then(|w| crate::witness::parse(&w.note).ok()).and_then(|n| n.checkpoint.state).map_or(0, |l| l.seq + 1)
}

/// What [`Mirror::verify_vouched`] carried: the mirrored records whose signatures it did not
/// check again, and, when it carried none, why (said in `evidence verify`'s listing line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    pub records: u64,
    pub why: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    store: String,
    trust: String,
    /// Where the store keeps the object of sequence N: this, then `N:012` and `.json`.
    keys: String,
    records: u64,
    last_hash: String,
    /// The first records whose signatures this verifier checked itself (0 for a mirror planted
    /// from the witness's seeds): the most [`Mirror::verify_vouched`] may carry. A claim of the
    /// file, so it proves nothing against whoever writes the file: the witness's note and the
    /// store's appender-signed head do (see there).
    checked: u64,
    seal: String,
}

/// A digest, not a signature: it only tells a whole meta file from a torn one.
fn seal(store: &str, trust: &str, keys: &str, records: u64, last_hash: &str, checked: u64) -> String {
    let text = format!("lz-evidence-mirror-v4\n{store}\n{trust}\n{keys}\n{records}\n{last_hash}\n{checked}\n");
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Mirror {
    /// The mirror of `store` verified against `root`, under `dir`.
    pub fn new(dir: &Path, store: &dyn Store, root: &TrustRoot) -> Mirror {
        let (store, trust) = (store.describe(), root.identity());
        let key = &hex::encode(Sha256::digest(format!("{store}\n{trust}").as_bytes()))[..24];
        let (records, meta) = (dir.join(format!("{key}.jsonl")), dir.join(format!("{key}.json")));
        Mirror { records, meta, store, trust, last_heads_read: Default::default(), last_carried: Default::default(), last_state: Default::default() }
    }

    fn heads(&self) -> heads::Heads {
        heads::Heads::beside(&self.records)
    }

    /// How many earlier head versions the last [`Mirror::verify`] read from the store (`None`
    /// when the store reported no integrity).
    pub fn heads_read(&self) -> Option<u64> {
        self.last_heads_read.get()
    }

    /// Keeps the earlier heads a verification judged, with the store's bytes.
    fn keep_heads(&self, integrity: Option<&StoreIntegrity>) -> Result<()> {
        match integrity {
            Some(i) => self.heads().write(&i.earlier_heads),
            None => Ok(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.records
    }

    /// The mirrored record count and last hash, when the meta file is whole and sealed for this
    /// store and trust root.
    fn meta(&self) -> Option<Meta> {
        let m: Meta = serde_json::from_slice(&std::fs::read(&self.meta).ok()?).ok()?;
        let ok = m.store == self.store
            && m.trust == self.trust
            && m.records > 0
            && m.checked <= m.records
            && m.seal == seal(&m.store, &m.trust, &m.keys, m.records, &m.last_hash, m.checked);
        ok.then_some(m)
    }

    /// Verifies `store` against `root` (with `known` checkpoints), reading the mirrored records
    /// from the mirror when it can, and leaves the mirror holding every verified record. Every
    /// signature is checked ([`Mirror::verify_vouched`] with no voucher).
    pub fn verify(
        &self,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
    ) -> Result<(VerifiedChain, Resumable, Read)> {
        self.verify_vouched(store, root, known, witnessed, None)
    }

    /// What the last [`Mirror::verify_vouched`] carried.
    pub fn carried(&self) -> Carried {
        self.last_carried.borrow().clone()
    }

    /// [`Mirror::verify`], carrying signatures to the witnessed point: with `voucher` (a witness
    /// note), the signatures of the mirrored records below both the note's size and the number
    /// this verifier checked itself ([`Meta::checked`]) are not checked again (record 0 and the
    /// register's changes and approvals excepted: the register is replayed in full, since it
    /// judges the witness). Everything else is: decoding, keys and roles in the register in
    /// force, the hash chain, every kind's rules and the derived state, the store's anchors.
    /// That pass counts only when
    /// - the chain holds the note's hash at its size and a registered witness at that record
    ///   signed it (the note is among the pass's witnessed checkpoints), and
    /// - the note is signed by a witness of the register in force after the whole chain, with its
    ///   registered key (a witness since retired vouches for nothing);
    ///
    /// otherwise (or when it fails for any reason) every signature is checked, as without a
    /// voucher, and [`Mirror::carried`] says why. The pass also counts only when the store's
    /// latest head, signed by an appender of the register, names the last carried record or a
    /// later one. So neither the file (a claim anyone who can write it makes, `checked`
    /// included) nor a witness key alone makes a record believed: the file's records must hash
    /// to what a current witness signed AND to what an appender's signed head names; the
    /// `checked` bound keeps an honest verifier from carrying a seed's or a store-read record.
    pub fn verify_vouched(
        &self,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
        voucher: Option<&Witnessed>,
    ) -> Result<(VerifiedChain, Resumable, Read)> {
        let (mut chain, resumable, read) = self.verify_vouched_suffix(store, root, known, witnessed, voucher)?;
        if let Read::Checkpoint { state_at, .. } = read {
            // The records before the kept state, from the mirror, each held to the state's hash;
            // a mirror changed behind it lets the state go and is read as without it.
            match self.earlier(&resumable, state_at) {
                Ok(mut records) => {
                    records.append(&mut chain.records);
                    chain.records = records;
                }
                Err(e) => {
                    self.last_state.replace(format!("{e:#}"));
                    return self.verify_vouched_suffix(store, root, known, witnessed, voucher);
                }
            }
        }
        Ok((chain, resumable, read))
    }

    /// [`Mirror::verify_vouched`], except that after [`Read::Checkpoint`] the chain holds only
    /// the records after the kept state ([`Mirror::earlier`] decodes the others on demand).
    pub fn verify_vouched_suffix(
        &self,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
        voucher: Option<&Witnessed>,
    ) -> Result<(VerifiedChain, Resumable, Read)> {
        let out = self.verify_vouched_pass(store, root, known, witnessed, voucher);
        if let Ok((_, resumable, _)) = &out {
            self.keep_state(resumable, voucher);
        }
        out
    }

    /// Why the last [`Mirror::verify_vouched`] did not resume from a kept state (empty: it did).
    pub fn state_unused(&self) -> String {
        self.last_state.borrow().clone()
    }

    fn verify_vouched_pass(
        &self,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
        voucher: Option<&Witnessed>,
    ) -> Result<(VerifiedChain, Resumable, Read)> {
        match self.from_state(store, root, known, witnessed, voucher) {
            Ok(out) => {
                self.last_state.replace(String::new());
                self.last_carried.replace(Carried::default());
                return Ok(out);
            }
            Err(why) => {
                self.last_state.replace(why);
            }
        }
        if let Some(out) = self.verify_mirrored(store, root, known, witnessed, voucher, true) {
            return Ok(out);
        }
        if self.last_carried.borrow().why.is_empty() {
            self.not_carried("no mirror of this store and trust root".into());
        }
        // A full verification from the store, copied as it is read.
        let _ = std::fs::remove_file(&self.meta);
        let tee = Tee::new(store);
        let outcome = verify_store_carrying(&tee, root, known, witnessed, 0, true, capture_of(voucher)).map(|(c, r)| (c, r, Resumed::Full));
        let integrity = tee.integrity.borrow().clone();
        self.last_heads_read.set(integrity.as_ref().map(|i| i.heads_read));
        match &outcome {
            Ok((chain, resumable, Resumed::Full)) => {
                let copy = tee.copy.into_inner();
                let n = resumable.len() as usize;
                if copy.len() as u64 == resumable.objects() && n > 0 {
                    self.write(&copy[..n], chain.head.as_ref())?;
                    self.keep_heads(integrity.as_ref())?;
                }
            }
            _ => self.forget(),
        }
        outcome.map(|(c, r, _)| (c, r, Read::Store))
    }

    /// The verification of [`Mirror::verify_vouched`] through the mirror alone: `None` when
    /// there is no usable mirror or the chain did not verify through it (the caller then
    /// verifies the store in full, whose verdict is the one to give). The witness's job runs
    /// its own full pass then ([`crate::witness::cosign_kept`]). Without `keep` the chain
    /// returned holds no verified record (the witness's pass keeps none).
    pub(crate) fn verify_mirrored(
        &self,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
        voucher: Option<&Witnessed>,
        keep: bool,
    ) -> Option<(VerifiedChain, Resumable, Read)> {
        self.last_carried.replace(Carried::default());
        let meta = self.meta()?;
        // A keeping verifier keeps the state at the voucher's checkpoint; the witness's lean pass none.
        let capture = if keep { capture_of(voucher) } else { 0 };
        match self.carry(&meta, voucher) {
            Ok((upto, note)) => match self.read_through(&meta, store, root, known, witnessed, Some((upto, note)), keep, capture) {
                Ok(out) => {
                    self.last_carried.replace(Carried { records: upto, why: String::new() });
                    return Some(out);
                }
                Err(why) => self.not_carried(why),
            },
            Err(why) => self.not_carried(why),
        }
        self.read_through(&meta, store, root, known, witnessed, None, keep, capture).ok()
    }

    /// Keeps what a full verification elsewhere (the witness's lean pass) verified: `records`,
    /// the objects at the chain's keys from sequence 0 up to its head `head`, and the earlier
    /// heads it judged. Nothing is kept unless every object sits at its key in order.
    pub(crate) fn keep_verified(&self, records: &[StoredRecord], head: &(u64, String), earlier_heads: &[StoredRecord]) -> Result<()> {
        if records.len() as u64 != head.0 + 1 {
            self.forget();
            return Ok(());
        }
        self.write(records, Some(head))?;
        self.heads().write(earlier_heads)
    }

    /// The verified records before a kept state (`upto` keys), after a verification that read
    /// [`Read::Checkpoint`] and left `resumable`: decoded from the mirror on demand, each object
    /// held to the hash the state holds for its key ([`Resumable::decode_earlier`]). An object
    /// that changed since is an error, never a record.
    pub fn earlier(&self, resumable: &Resumable, upto: u64) -> Result<Vec<crate::VerifiedRecord>> {
        let mut objects = Vec::with_capacity(upto as usize);
        if upto > 0 {
            for w in LocalStore::new(&self.records).windows()? {
                objects.extend(w?);
                if objects.len() as u64 >= upto {
                    break;
                }
            }
        }
        objects.truncate(upto as usize);
        let out = resumable.decode_earlier(objects, upto);
        if out.is_err() {
            // The mirror changed behind the state: the next verification reads it in full.
            self.forget_state();
        }
        out
    }

    /// Removes the mirror's files (a chain that failed verification, or that could not be kept).
    pub(crate) fn forget(&self) {
        self.forget_state();
        let _ = std::fs::remove_file(&self.meta);
        let _ = std::fs::remove_file(&self.records);
        self.heads().remove();
    }

    /// The mirrored objects, one at a time from the records file (sequence 0 on), and how many
    /// the meta says it holds (`None`: no usable mirror). A reader that needs them in order
    /// (the witness's seeds, [`crate::witness::seed`]) reads them without holding them all.
    pub(crate) fn objects(&self) -> Option<(u64, impl Iterator<Item = Result<Vec<u8>>>)> {
        use std::io::BufRead as _;
        let meta = self.meta()?;
        let file = std::fs::File::open(&self.records).ok()?;
        let path = self.records.clone();
        let lines = std::io::BufReader::new(file)
            .split(b'\n')
            .map(move |l| l.with_context(|| format!("cannot read {}", path.display())));
        Some((meta.records, lines))
    }

    fn not_carried(&self, why: String) {
        self.last_carried.replace(Carried { records: 0, why });
    }

    /// How many mirrored signatures `voucher` lets [`Mirror::verify_vouched`] carry (at most
    /// the note's size, the records this verifier checked itself and the mirrored ones), or
    /// why none.
    fn carry(&self, meta: &Meta, voucher: Option<&Witnessed>) -> Result<(u64, Witnessed), String> {
        let w = voucher.ok_or("no witness note was taken to vouch for this chain")?;
        let size = crate::witness::parse(&w.note).map_err(|e| format!("{}: {e:#}", w.source))?.checkpoint.size;
        if meta.checked == 0 {
            return Err("this verifier has checked none of the mirrored records' signatures itself yet (a mirror planted from the witness's seeds)".into());
        }
        let upto = size.min(meta.checked).min(meta.records);
        if upto == 0 {
            return Err(format!("{} vouches for no record", w.source));
        }
        Ok((upto, w.clone()))
    }

    /// The chain verified with the mirrored records read from the mirror (`carry`: the records
    /// whose signatures are carried and the note that vouches for them, see
    /// [`Mirror::verify_vouched`]), the mirror extended with the store's new records. `Err`
    /// says why the mirror could not be used (a full verification from the store follows).
    #[allow(clippy::too_many_arguments)]
    fn read_through(
        &self,
        meta: &Meta,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
        carry: Option<(u64, Witnessed)>,
        keep: bool,
        capture: u64,
    ) -> Result<(VerifiedChain, Resumable, Read), String> {
        let n = meta.records;
        let mirrored = self.mirrored(meta, store);
        let mut with = witnessed.to_vec();
        let carried = match &carry {
            Some((upto, note)) => {
                if !with.iter().any(|o| o.note == note.note) {
                    with.push(note.clone());
                }
                *upto
            }
            None => 0,
        };
        let (chain, resumable) = verify_store_carrying(&mirrored, root, known, &with, carried, keep, capture).map_err(|e| format!("the mirrored chain did not verify with the note's checkpoint: {e:#}"))?;
        if let Some((_, note)) = &carry {
            let parsed = crate::witness::parse(&note.note).map_err(|e| format!("{e:#}"))?;
            parsed.witnesses(&chain.register).map_err(|e| format!("{}: not a witness of the register in force: {e}", note.source))?;
        }
        self.settle(mirrored, &chain, &resumable)?;
        Ok((chain, resumable, Read::Mirror { mirrored: n }))
    }

    /// The store as a verification through the mirror reads it (see [`Mirrored`]).
    fn mirrored<'a>(&self, meta: &Meta, store: &'a dyn Store) -> Mirrored<'a> {
        Mirrored {
            mirror: LocalStore::new(&self.records),
            store,
            n: meta.records,
            keys: meta.keys.clone(),
            last_hash: meta.last_hash.clone(),
            // Earlier heads are all judged again; the held bytes are used only where the
            // store's listing vouches for them (see [`heads`]).
            held: self.heads().load(),
            integrity: Default::default(),
            tail: Default::default(),
        }
    }

    /// After a verification through `mirrored`: the store's objects after the mirror must be
    /// the chain's (counted, and each with the hash the verifier chained); the mirror is
    /// extended with them and keeps the earlier heads judged. `Err` says why not.
    fn settle(&self, mirrored: Mirrored<'_>, chain: &VerifiedChain, resumable: &Resumable) -> Result<(), String> {
        let n = mirrored.n;
        let integrity = mirrored.integrity.borrow().clone();
        let objects = integrity.as_ref().map(|i| i.record_objects);
        let tail = mirrored.tail.into_inner();
        let objects_ok = matches!(objects, Some(Some(c)) if c == resumable.objects()) || matches!(objects, Some(None));
        // What follows the mirror: the objects at the chain's keys (records and the
        // foreign objects they skip, each with the hash the verifier chained), then the
        // foreign objects after its last record.
        let chained = resumable.len().saturating_sub(n) as usize;
        let tail_ok = resumable.objects() == n + tail.len() as u64
            && tail[..chained].iter().enumerate().all(|(i, r)| resumable.hash_at(n + i as u64).as_deref() == Some(&crate::dsse::sha256_hex(&r.bytes)[..]));
        if !(objects_ok && tail_ok) {
            return Err("the store's objects after the mirror are not the chain's".into());
        }
        // Every signature past the ones carried was checked in this pass.
        self.extend(&tail[..chained], chain).map_err(|e| format!("{e:#}"))?;
        self.keep_heads(integrity.as_ref()).map_err(|e| format!("{e:#}"))?;
        self.last_heads_read.set(integrity.as_ref().map(|i| i.heads_read));
        Ok(())
    }

    fn state_files(&self) -> (PathBuf, PathBuf) {
        (self.records.with_extension("state.json"), self.records.with_extension("state.note"))
    }

    /// Removes the kept state and its note (the next verification reads the mirror in full).
    fn forget_state(&self) {
        let (state, note) = self.state_files();
        let _ = std::fs::remove_file(state);
        let _ = std::fs::remove_file(note);
    }

    /// The verification from the kept state (see the module documentation), or why not.
    fn from_state(
        &self,
        store: &dyn Store,
        root: &TrustRoot,
        known: &[KnownCheckpoint],
        witnessed: &[Witnessed],
        voucher: Option<&Witnessed>,
    ) -> Result<(VerifiedChain, Resumable, Read), String> {
        // Taken only where a usable witness note is (never under `evidence verify --full`, which
        // takes nothing from earlier verifications); the kept note itself is checked below.
        let Some(voucher) = voucher else {
            return Err("no witness note was taken: the kept state is not used".into());
        };
        let (state_path, note_path) = self.state_files();
        let meta = self.meta().ok_or("no mirror of this store and trust root")?;
        let (Ok(bytes), Ok(note)) = (std::fs::read(&state_path), std::fs::read(&note_path)) else {
            return Err("no kept state".into());
        };
        let kept = Witnessed { note, source: format!("the kept state's note {}", note_path.display()) };
        // Only the note this command took from the witness store (S3, COMPLIANCE Object Lock),
        // checked before the state is read at all: a digest the witness's key signed but never
        // published there (a note written only beside this mirror) vouches for no state, so a
        // forged state always leaves its signed digest in the witness store, where every auditor
        // reads it; and bytes paired with an unsigned note of their own digest are never parsed.
        if voucher.note != kept.note {
            return Err(format!("{}: not the note this command took from the witness store (a state is taken only at the witness store's latest note)", kept.source));
        }
        let parsed = crate::witness::parse(&kept.note).map_err(|e| format!("{}: {e:#}", kept.source))?;
        let line = parsed.checkpoint.state.clone().ok_or_else(|| format!("{} carries no state line", kept.source))?;
        let digest = crate::verify::state_digest(&bytes);
        if digest != line.digest {
            return Err(format!("{} hashes to {digest}, not the {} its note carries", state_path.display(), line.digest));
        }
        let from = Resumable::from_checkpoint(&bytes, store, root).map_err(|e| format!("{}: {e:#}", state_path.display()))?;
        let size = parsed.checkpoint.size;
        if from.len() != size || from.hash_at(size - 1).as_deref() != Some(parsed.checkpoint.hash.as_str()) {
            return Err(format!("{} is not the state after the {size} records its note witnesses", state_path.display()));
        }
        if from.hash_at(0).map(|h| crate::witness::origin_of(&h)).as_deref() != Some(parsed.checkpoint.origin.as_str()) {
            return Err(format!("{} names another chain's origin", kept.source));
        }
        if meta.records < size {
            return Err(format!("the mirror holds {} records, fewer than the state's {size}", meta.records));
        }
        let mut with = witnessed.to_vec();
        if !with.iter().any(|o| o.note == kept.note) {
            with.push(kept.clone());
        }
        let mirrored = self.mirrored(&meta, store);
        let (chain, resumable) = crate::verify::resume_checkpoint(&mirrored, known, &with, &from, capture_of(Some(voucher)))
            .map_err(|e| format!("the chain did not verify from the kept state: {e:#}"))?;
        // The note counts only when signed by a witness of the register in force after the
        // chain, with its registered key (a witness since removed vouches for no state).
        parsed.witnesses(&chain.register).map_err(|e| format!("{}: not a witness of the register in force: {e}", kept.source))?;
        // And a witness of the register the state starts from, which the trust root is or pins
        // ([`Resumable::from_checkpoint`]): every later register comes from the state itself, so
        // a state that adds its own witness by a register change it invents vouches for nothing.
        let start = from.first_register().ok_or("the state names no register")?;
        parsed.witnesses(start).map_err(|e| format!("{}: not a witness of the register the trust root starts from: {e}", kept.source))?;
        self.settle(mirrored, &chain, &resumable)?;
        Ok((chain, resumable, Read::Checkpoint { state_at: size, mirrored: meta.records }))
    }

    /// Keeps the state `resumable` holds at the checkpoint of `voucher` when the note's `state`
    /// line carries its digest: this verifier derived the same state the witness signed. A
    /// state that cannot be written costs the next process a full read of the mirror.
    fn keep_state(&self, resumable: &Resumable, voucher: Option<&Witnessed>) {
        let Some(line) = voucher.and_then(|w| crate::witness::parse(&w.note).ok()).and_then(|n| n.checkpoint.state) else { return };
        let Some(Ok((bytes, digest))) = resumable.checkpoint(line.seq + 1) else { return };
        if digest != line.digest {
            return;
        }
        let (state_path, note_path) = self.state_files();
        if std::fs::read(&note_path).ok().as_deref() == voucher.map(|w| w.note.as_slice()) && std::fs::read(&state_path).is_ok_and(|b| b == bytes) {
            return;
        }
        let write = |path: &Path, bytes: &[u8]| -> Result<()> {
            let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
            std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
        };
        // The note last: a torn pair (a new state, an old note) hashes to no note's digest.
        let note = voucher.map(|w| w.note.clone()).unwrap_or_default();
        if write(&state_path, &bytes).and_then(|_| write(&note_path, &note)).is_err() {
            self.forget_state();
        }
    }

    /// Appends the records read from the store after the mirrored ones (`tail`, verified) to the mirror.
    fn extend(&self, tail: &[StoredRecord], chain: &VerifiedChain) -> Result<()> {
        let Some((last, hash)) = &chain.head else { return Ok(()) };
        let mut lines = Vec::new();
        for r in tail {
            lines.extend_from_slice(&r.bytes);
            lines.push(b'\n');
        }
        {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.records)
                .with_context(|| format!("cannot open {}", self.records.display()))?;
            f.write_all(&lines).with_context(|| format!("cannot write {}", self.records.display()))?;
        }
        let keys = self.meta().map(|m| m.keys).context("the mirror's meta went missing")?;
        self.write_meta(&keys, *last + 1, hash, *last + 1)
    }

    fn write(&self, records: &[StoredRecord], head: Option<&(u64, String)>) -> Result<()> {
        let Some((last, hash)) = head else { return Ok(()) };
        // Every object at its key, in order: the mirror gives each its key's location back.
        let Some(keys) = records.first().and_then(|r| r.location.strip_suffix(&format!("{:012}.json", 0))) else { return Ok(()) };
        if records.iter().enumerate().any(|(i, r)| r.location != format!("{keys}{i:012}.json")) {
            return Ok(());
        }
        let keys = keys.to_string();
        let dir = self.records.parent().context("the mirror has a directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut lines = Vec::with_capacity(records.iter().map(|r| r.bytes.len() + 1).sum());
        for r in records {
            lines.extend_from_slice(&r.bytes);
            lines.push(b'\n');
        }
        let tmp = self.records.with_extension(format!("jsonl.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &lines).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.records).with_context(|| format!("cannot replace {}", self.records.display()))?;
        self.write_meta(&keys, *last + 1, hash, *last + 1)
    }

    /// Whether the mirror holds records (a whole, sealed meta file for this store and trust root).
    pub fn holds_records(&self) -> bool {
        self.meta().is_some()
    }

    /// Plants the mirror from a seed ([`crate::witness::seed`]): `lines` holds `records` objects,
    /// one per line, the objects at `keys` from sequence 0; the last has hash `last_hash`. Nothing
    /// here is believed: [`Mirror::verify`] verifies every record again and holds the seed against
    /// the store as it holds its own copy.
    pub fn plant(&self, keys: &str, lines: &[u8], records: u64, last_hash: &str) -> Result<()> {
        let dir = self.records.parent().context("the mirror has a directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = self.records.with_extension(format!("jsonl.{}.tmp", std::process::id()));
        std::fs::write(&tmp, lines).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.records).with_context(|| format!("cannot replace {}", self.records.display()))?;
        self.write_meta(keys, records, last_hash, 0)
    }

    /// `checked`: see [`Meta::checked`].
    fn write_meta(&self, keys: &str, records: u64, last_hash: &str, checked: u64) -> Result<()> {
        let m = Meta {
            store: self.store.clone(),
            trust: self.trust.clone(),
            keys: keys.to_string(),
            records,
            last_hash: last_hash.to_string(),
            checked,
            seal: seal(&self.store, &self.trust, keys, records, last_hash, checked),
        };
        let tmp = self.meta.with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(&m)?).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.meta).with_context(|| format!("cannot replace {}", self.meta.display()))
    }
}

/// The store as verification reads it with a mirror: the first `n` records from the mirror,
/// the rest (and every anchor) from the store. The store's record `n - 1` must have the bytes
/// the mirror ends with (hash `last_hash`).
struct Mirrored<'a> {
    mirror: LocalStore,
    store: &'a dyn Store,
    n: u64,
    /// The location of the keys ([`Meta`]): a mirrored object is read as from its key.
    keys: String,
    last_hash: String,
    /// Earlier heads the mirror holds: taken where the store's listing vouches for them.
    held: HeldHeads,
    /// The store's integrity report as verification read it.
    integrity: RefCell<Option<StoreIntegrity>>,
    /// The records read from the store after the mirrored ones.
    tail: RefCell<Vec<StoredRecord>>,
}

impl Store for Mirrored<'_> {
    fn describe(&self) -> String {
        self.store.describe()
    }

    fn load(&self) -> Result<Vec<StoredRecord>> {
        Ok(self.windows()?.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
    }

    fn windows(&self) -> Result<Windows<'_>> {
        self.windows_after(0)
    }

    /// From `first - 1` on (the record a resumed pass compares by hash), the mirrored records
    /// before it skipped unread by verification (a pass from a kept state: see [`Mirror`]).
    fn windows_from(&self, first: u64) -> Result<(u64, Windows<'_>)> {
        let skip = first.saturating_sub(1).min(self.n.saturating_sub(1));
        Ok((skip, self.windows_after(skip)?))
    }

    fn last(&self) -> Result<Option<StoredRecord>> {
        self.store.last()
    }

    fn head(&self) -> Result<Option<StoredRecord>> {
        self.store.head()
    }

    fn slotted(&self) -> bool {
        self.store.slotted()
    }

    fn integrity(&self) -> Result<StoreIntegrity> {
        let i = self.store.integrity_held(&Default::default(), &self.held)?;
        *self.integrity.borrow_mut() = Some(i.clone());
        Ok(i)
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.store.checkpoint()
    }

    fn append(&mut self, _: u64, _: &str, _: &[Vec<u8>], _: &[u8]) -> Result<()> {
        anyhow::bail!("a mirrored store is read only")
    }

    fn advance_head(&mut self, _: u64, _: &[u8]) -> Result<()> {
        anyhow::bail!("a mirrored store is read only")
    }
}


impl Mirrored<'_> {
    /// The objects from key `skip` on: the mirror's (those before `skip` dropped as read), then the store's.
    fn windows_after(&self, skip: u64) -> Result<Windows<'_>> {
        let n = self.n;
        let mut count = 0u64;
        let keys = self.keys.clone();
        let mirrored = self.mirror.windows()?.map(move |w| {
            let mut w = w?;
            let start = count;
            count += w.len() as u64;
            anyhow::ensure!(count <= n, "the mirror holds more records than its meta says");
            if count == n {
                let last = w.last().map(|r| crate::dsse::sha256_hex(&r.bytes));
                anyhow::ensure!(last.as_deref() == Some(self.last_hash.as_str()), "the mirror does not end with the record its meta names");
            }
            w.drain(..(skip.saturating_sub(start).min(w.len() as u64) as usize));
            let from = start.max(skip);
            for (i, r) in w.iter_mut().enumerate() {
                r.location = format!("{keys}{:012}.json", from + i as u64);
            }
            Ok(w)
        });
        let (first, tail) = self.store.windows_from(n)?;
        let mut seq = first;
        let tail = tail.map(move |w| {
            let mut w = w?;
            let mut drop = 0;
            for r in &w {
                if seq >= n {
                    break;
                }
                if seq == n - 1 {
                    anyhow::ensure!(
                        crate::dsse::sha256_hex(&r.bytes) == self.last_hash,
                        "{}: not the record the mirror ends with",
                        r.location
                    );
                }
                seq += 1;
                drop += 1;
            }
            w.drain(..drop);
            self.tail.borrow_mut().extend(w.iter().cloned());
            Ok(w)
        });
        // A store that cannot seek gives every record again: those are compared above only
        // by the last one, and the mirror's would be counted twice, so it is not mirrored.
        anyhow::ensure!(first + 1 == n, "the store cannot read from a sequence");
        Ok(Box::new(mirrored.chain(tail).filter(|w| !matches!(w, Ok(w) if w.is_empty()))))
    }
}

/// The store, with a copy of every record read through [`Store::windows`].
pub(crate) struct Tee<'a> {
    store: &'a dyn Store,
    copy: RefCell<Vec<StoredRecord>>,
    /// The store's integrity report as verification read it.
    integrity: RefCell<Option<StoreIntegrity>>,
}

impl<'a> Tee<'a> {
    pub(crate) fn new(store: &'a dyn Store) -> Tee<'a> {
        Tee { store, copy: RefCell::new(Vec::new()), integrity: RefCell::new(None) }
    }

    /// The records read, in order.
    pub(crate) fn into_copy(self) -> Vec<StoredRecord> {
        self.copy.into_inner()
    }
}

impl Store for Tee<'_> {
    fn describe(&self) -> String {
        self.store.describe()
    }

    fn load(&self) -> Result<Vec<StoredRecord>> {
        let all = self.store.load()?;
        self.copy.borrow_mut().extend(all.iter().cloned());
        Ok(all)
    }

    fn windows(&self) -> Result<Windows<'_>> {
        let inner = self.store.windows()?;
        Ok(Box::new(inner.map(move |w| {
            let w = w?;
            self.copy.borrow_mut().extend(w.iter().cloned());
            Ok(w)
        })))
    }

    fn last(&self) -> Result<Option<StoredRecord>> {
        self.store.last()
    }

    fn head(&self) -> Result<Option<StoredRecord>> {
        self.store.head()
    }

    fn slotted(&self) -> bool {
        self.store.slotted()
    }

    fn integrity(&self) -> Result<StoreIntegrity> {
        let i = self.store.integrity()?;
        *self.integrity.borrow_mut() = Some(i.clone());
        Ok(i)
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.store.checkpoint()
    }

    fn append(&mut self, _: u64, _: &str, _: &[Vec<u8>], _: &[u8]) -> Result<()> {
        anyhow::bail!("a copied store is read only")
    }

    fn advance_head(&mut self, _: u64, _: &[u8]) -> Result<()> {
        anyhow::bail!("a copied store is read only")
    }
}
