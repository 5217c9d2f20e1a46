//! Where records live. Every store is append-only and keeps a head checkpoint (sequence and
//! envelope hash of the last record) so that truncation of the tail is detectable. The head is
//! a DSSE envelope signed by the identity that appended last: an unsigned or re-signed-by-a-
//! stranger head is not trusted by verification.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
pub use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::dsse::{sha256_hex, Envelope};
use crate::identity::Signer;

/// Another writer appended first: the chain head the append was prepared against moved.
/// Callers reopen the archive on the new head and retry; nothing was written.
#[derive(Debug)]
pub struct HeadMoved(pub String);

impl std::fmt::Display for HeadMoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: the chain head moved (another writer appended); reopen the archive", self.0)
    }
}

impl std::error::Error for HeadMoved {}

/// The records of an append are stored, but the head was not moved past them (the head write
/// failed). Nothing is lost: the next append links after them and moves the head, and a retry
/// with the same append id finds them and moves the head itself.
#[derive(Debug)]
pub struct HeadBehind {
    pub location: String,
    /// The last record stored.
    pub sequence: u64,
    pub cause: String,
}

impl std::fmt::Display for HeadBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: record {} is stored but the head was not moved past it ({}); the next append moves it",
            self.location, self.sequence, self.cause
        )
    }
}

impl std::error::Error for HeadBehind {}

/// A store write failed without a definite answer (a timeout, a lost response): the record may
/// or may not be stored. An appender that retries looks for its own record (by append id)
/// before writing again.
#[derive(Debug)]
pub struct WriteUncertain(pub String);

impl std::fmt::Display for WriteUncertain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (no definite answer: it may or may not be stored)", self.0)
    }
}

impl std::error::Error for WriteUncertain {}

/// One stored envelope and where it came from (`file:line`, object key). The bytes are a
/// shared, reference-counted slice: the records of one file share the buffer it was read into.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub location: String,
    pub bytes: Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub sequence: u64,
    pub hash: String,
    pub time: String,
}

/// DSSE payload type of a signed head checkpoint.
pub const CHECKPOINT_PAYLOAD_TYPE: &str = "application/vnd.landing-zone.checkpoint+json";

/// The payload of a signed head: the checkpoint and who signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointPayload {
    pub sequence: u64,
    pub hash: String,
    pub time: String,
    pub identity: String,
}

/// Signs `checkpoint` as `signer`: the canonical envelope bytes a store keeps as its head.
pub fn sign_checkpoint(checkpoint: &Checkpoint, signer: &Signer) -> anyhow::Result<Vec<u8>> {
    let payload = CheckpointPayload {
        sequence: checkpoint.sequence,
        hash: checkpoint.hash.clone(),
        time: checkpoint.time.clone(),
        identity: signer.identity().to_string(),
    };
    let bytes = serde_json::to_vec(&payload).expect("checkpoints serialize");
    Ok(Envelope::sign(&bytes, CHECKPOINT_PAYLOAD_TYPE, signer)?.to_canonical())
}

/// Decodes a signed head without checking its signature (verification does that).
pub fn decode_checkpoint(bytes: &[u8], location: &str) -> Result<(Envelope, CheckpointPayload)> {
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| anyhow::anyhow!("{location}: the head is not a signed checkpoint (DSSE envelope): {e}"))?;
    if env.payload_type != CHECKPOINT_PAYLOAD_TYPE {
        bail!("{location}: the head's payloadType is {:?}, expected {CHECKPOINT_PAYLOAD_TYPE:?}", env.payload_type);
    }
    let payload = env.payload_bytes().with_context(|| format!("{location}: the head's payload is not base64"))?;
    let cp: CheckpointPayload =
        serde_json::from_slice(&payload).map_err(|e| anyhow::anyhow!("{location}: the head's payload is not a checkpoint: {e}"))?;
    Ok((env, cp))
}

/// What a store can tell about its own integrity beyond the records: earlier heads it kept
/// (each a signed checkpoint the chain must still contain) and problems such as S3 delete
/// markers or overwritten record versions.
#[derive(Clone, Debug, Default)]
pub struct StoreIntegrity {
    pub earlier_heads: Vec<StoredRecord>,
    /// (location, what is wrong)
    pub problems: Vec<(String, String)>,
    /// Versions written over a record key after its first one (S3), with their version id:
    /// foreign objects, quarantined by verification ([`crate::quarantine`]).
    pub later_versions: Vec<(StoredRecord, String)>,
    /// How many record objects the store holds, when it counts them (S3: one key per record):
    /// a resumed verification checks that none behind its checkpoint went missing.
    pub record_objects: Option<u64>,
    /// Earlier heads read from the store by this call (the others came from `held`, see
    /// [`Store::integrity_held`]).
    pub heads_read: u64,
    /// Under a witnessed listing ([`Store::integrity_vouched`]): the record keys it listed after
    /// the witnessed size, each with the id of its first version, the keys
    /// [`Store::windows_vouched`] reads after it.
    pub tail_keys: Option<Vec<(String, Option<String>)>>,
}

/// Earlier head versions a verifier kept (location -> the bytes it read): a store that can
/// vouch for a version's bytes ([`Store::integrity_held`]) does not read it again.
pub type HeldHeads = std::collections::HashMap<String, bytes::Bytes>;

/// Records in stored order, a window at a time (see [`Store::windows`]).
pub type Windows<'a> = Box<dyn Iterator<Item = Result<Vec<StoredRecord>>> + 'a>;

/// Records per window when a store has them all in memory anyway.
pub(crate) const WINDOW_RECORDS: usize = 2048;

/// Bytes a local store reads per window.
const WINDOW_BYTES: usize = 1 << 20;

pub trait Store {
    /// Human-readable name of the store (path or bucket).
    fn describe(&self) -> String;
    /// Every record in stored order.
    fn load(&self) -> Result<Vec<StoredRecord>>;
    /// Every record in stored order, a window at a time, read as the caller goes where the
    /// store can (a local file: memory stays flat however long the chain is).
    fn windows(&self) -> Result<Windows<'_>> {
        let mut all = self.load()?.into_iter().peekable();
        Ok(Box::new(std::iter::from_fn(move || {
            all.peek()?;
            Some(Ok(all.by_ref().take(WINDOW_RECORDS).collect()))
        })))
    }
    /// The records from about `first` on, as (sequence of the first record given, windows): a
    /// store that can seek starts at `first - 1`, so that the caller sees the record its
    /// checkpoint names; the default reads every record (the caller compares the ones it knows).
    fn windows_from(&self, first: u64) -> Result<(u64, Windows<'_>)> {
        let _ = first;
        Ok((0, self.windows()?))
    }
    /// [`Store::integrity`] without fetching the earlier heads whose locations are in `seen`
    /// (immutable versions a verification of the same prefix already checked). A store whose
    /// head versions are listed newest first may stop listing them at a seen one: the caller
    /// passes only a set that holds every earlier version it judged (S3, `verify_store_from`).
    fn integrity_except(&self, seen: &std::collections::BTreeSet<String>) -> Result<StoreIntegrity> {
        let _ = seen;
        self.integrity()
    }
    /// [`Store::integrity_except`], taking an earlier head's bytes from `held` when the store
    /// vouches for them (S3: the version's ETag, listed with it, is the MD5 of the held bytes);
    /// every earlier head is still returned and judged. Stores that cannot vouch read them all.
    fn integrity_held(&self, seen: &std::collections::BTreeSet<String>, held: &HeldHeads) -> Result<StoreIntegrity> {
        let _ = held;
        self.integrity_except(seen)
    }
    /// The last record, without reading the whole store where possible.
    fn last(&self) -> Result<Option<StoredRecord>>;
    /// The signed head as stored (not verified).
    fn head(&self) -> Result<Option<StoredRecord>>;
    /// Earlier heads and store-level problems; stores without history report none.
    fn integrity(&self) -> Result<StoreIntegrity> {
        Ok(StoreIntegrity::default())
    }
    /// The head checkpoint, decoded but NOT verified (appending uses it to detect truncation;
    /// only verification decides whether to trust it).
    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        match self.head()? {
            None => Ok(None),
            Some(h) => {
                let (_, p) = decode_checkpoint(&h.bytes, &h.location)?;
                Ok(Some(Checkpoint { sequence: p.sequence, hash: p.hash, time: p.time }))
            }
        }
    }
    /// Appends canonical envelopes with sequences `first_sequence..`, durably, then replaces the
    /// head with `head` (a signed checkpoint, see [`sign_checkpoint`]). Fails with [`HeadMoved`]
    /// when the store's last envelope hash is not `previous` (nothing written), [`HeadBehind`]
    /// when the records are stored but the head write failed, and an error with context
    /// [`WriteUncertain`] when a record write got no definite answer.
    fn append(&mut self, first_sequence: u64, previous: &str, records: &[Vec<u8>], head: &[u8]) -> Result<()>;
    /// The last `n` records (fewer when the chain is shorter), in stored order.
    fn recent(&self, n: usize) -> Result<Vec<StoredRecord>> {
        let mut out: std::collections::VecDeque<StoredRecord> = std::collections::VecDeque::with_capacity(n + 1);
        for window in self.windows()? {
            for r in window? {
                if out.len() == n {
                    out.pop_front();
                }
                out.push_back(r);
            }
        }
        Ok(out.into())
    }
    /// Moves the head to the signed checkpoint `head` of record `sequence`, unless the head is
    /// already there or further (completes an append whose head write failed).
    fn advance_head(&mut self, sequence: u64, head: &[u8]) -> Result<()>;
    /// Whether each sequence has a key of its own (`records/<sequence>.json`, S3): an object
    /// there that is not a valid record is quarantined and skipped ([`crate::quarantine`]).
    fn slotted(&self) -> bool {
        false
    }
    /// The objects at the record keys from `sequence` on, up to the first key without one
    /// (slotted stores only).
    fn slots_from(&self, _sequence: u64) -> Result<Vec<StoredRecord>> {
        Ok(Vec::new())
    }
    /// [`Store::slots_from`] the record `checkpoint` names: a store may take an object there
    /// that hashes to the checkpoint as that record without looking for earlier versions.
    fn slots_at(&self, checkpoint: &Checkpoint) -> Result<Vec<StoredRecord>> {
        self.slots_from(checkpoint.sequence)
    }
    /// Asks the store to keep the record listing of its next full integrity report (every
    /// version and delete marker of the record keys, and the head's latest version) for one
    /// [`Store::listing_upto`]: the witness's job lists the store once for its verification and
    /// its note. Asking again drops a listing kept and not used. Stores that list nothing: no-op.
    fn keep_listing(&self) {}
    /// The witness's full listing up to record `size - 1` (head record hash `hash`), for the
    /// `listing` line of its note ([`crate::witness::Listing`]; its head version must hold
    /// `head`, the head bytes the witness's verification checked), and what in it the witness
    /// cannot vouch for (findings): from the listing kept ([`Store::keep_listing`]) when there
    /// is one, else listed now. Stores that keep no object versions list nothing.
    fn listing_upto(&self, size: u64, hash: &str, head: Option<&[u8]>) -> Result<(Option<crate::witness::Listing>, Vec<String>)> {
        let _ = (size, hash, head);
        Ok((None, Vec::new()))
    }
    /// Whether the store still holds the head version `vouch` names, naming the witnessed
    /// record with the witnessed hash ([`crate::vouch`]); stores without versions: never.
    fn vouch_holds(&self, vouch: &crate::vouch::Vouch) -> Result<bool> {
        let _ = vouch;
        Ok(false)
    }
    /// [`Store::windows_from`] with the records up to `vouch`'s size read by key, without
    /// listing them, and after it exactly the keys `tail` (as [`Store::integrity_vouched`]
    /// listed them; listed here when `None`) ([`crate::vouch`]); the default lists as
    /// [`Store::windows_from`] does.
    fn windows_vouched(&self, first: u64, vouch: &crate::vouch::Vouch, tail: Option<&[(String, Option<String>)]>) -> Result<(u64, Windows<'_>)> {
        let _ = (vouch, tail);
        self.windows_from(first)
    }
    /// [`Store::integrity_held`] listing only the record keys after `vouch`'s size and the head
    /// versions newer than the one it names ([`crate::vouch`]); the default lists everything.
    fn integrity_vouched(&self, seen: &std::collections::BTreeSet<String>, held: &HeldHeads, vouch: &crate::vouch::Vouch) -> Result<StoreIntegrity> {
        let _ = vouch;
        self.integrity_held(seen, held)
    }
}

/// JSON Lines file, one canonical envelope per line, plus `<name>.head.json`.
pub struct LocalStore {
    path: PathBuf,
}

impl LocalStore {
    pub fn new(path: impl Into<PathBuf>) -> LocalStore {
        LocalStore { path: path.into() }
    }

    /// The store for chain `name` under `<root>/.tools/evidence/`.
    pub fn default_for(root: &Path, chain: &str) -> LocalStore {
        LocalStore::new(root.join(".tools/evidence").join(format!("{chain}.jsonl")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn checkpoint_path(&self) -> PathBuf {
        self.path.with_extension("head.json")
    }

    pub fn index_path(&self) -> PathBuf {
        self.path.with_extension("index.json")
    }

    /// Size in bytes of the records file (0 when absent).
    pub fn len(&self) -> Result<u64> {
        match std::fs::metadata(&self.path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e).with_context(|| format!("cannot stat {}", self.path.display())),
        }
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads `len` bytes at `offset` (one record located by the index).
    pub fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut f = File::open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0; len];
        f.read_exact(&mut buf).with_context(|| format!("{}: record at byte {offset} is cut short", self.path.display()))?;
        Ok(buf)
    }

    /// Splits records starting at byte `offset` into (offset, line number, bytes); line numbers
    /// count from `first_line`. The file is read once, into one buffer that the records share.
    pub fn scan_from(&self, offset: u64, first_line: usize) -> Result<Vec<(u64, usize, Bytes)>> {
        let data = match File::open(&self.path) {
            Ok(f) => Bytes::from(read_from(&f, offset).with_context(|| format!("cannot read {}", self.path.display()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", self.path.display())),
        };
        let shown = self.path.display().to_string();
        Ok(split_lines(&data, &shown, first_line)?.into_iter().map(|(start, line, bytes)| (offset + start as u64, line, bytes)).collect())
    }
}

/// The lines of `data` as (byte offset, line number counted from `first_line`, bytes), each a
/// slice of `data`. Every line must end with a newline and none may be empty.
fn split_lines(data: &Bytes, shown: &str, first_line: usize) -> Result<Vec<(usize, usize, Bytes)>> {
    let mut out = Vec::with_capacity(memchr::memchr_iter(b'\n', data).count());
    let mut start = 0;
    let mut line = first_line;
    while start < data.len() {
        let Some(nl) = memchr::memchr(b'\n', &data[start..]) else {
            bail!("{shown}:{line}: incomplete last line (no newline): the file was cut or is being written");
        };
        if nl == 0 {
            bail!("{shown}:{line}: empty line");
        }
        out.push((start, line, data.slice(start..start + nl)));
        start += nl + 1;
        line += 1;
    }
    Ok(out)
}

/// The file from `offset` to the size it has now. Large files are read by one thread per
/// core, each into its part of the buffer (copying from the page cache and faulting in the
/// buffer's pages is most of the cost of a load).
fn read_from(f: &File, offset: u64) -> std::io::Result<Vec<u8>> {
    const PARALLEL_FROM: usize = 16 << 20;
    let len = f.metadata()?.len().saturating_sub(offset) as usize;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    #[cfg(unix)]
    if len >= PARALLEL_FROM && threads > 1 {
        use std::os::unix::fs::FileExt as _;
        // Zeroed allocations this large come straight from the OS: nothing is written twice.
        let mut data = vec![0u8; len];
        let part = len.div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = data
                .chunks_mut(part)
                .enumerate()
                .map(|(i, chunk)| s.spawn(move || f.read_exact_at(chunk, offset + (i * part) as u64)))
                .collect();
            handles.into_iter().try_for_each(|h| h.join().expect("file readers do not panic"))
        })?;
        return Ok(data);
    }
    let mut data = Vec::with_capacity(len);
    let mut f = f;
    f.seek(SeekFrom::Start(offset))?;
    f.read_to_end(&mut data)?;
    Ok(data)
}

/// A JSON Lines file read in blocks of about [`WINDOW_BYTES`]: each block is one buffer that
/// its records share; a line cut by the block boundary is carried into the next block.
struct LineBlocks {
    /// `None` once the file is read (or did not exist).
    file: Option<File>,
    shown: String,
    carry: Vec<u8>,
    line: usize,
}

impl LineBlocks {
    fn next_block(&mut self) -> Result<Option<Vec<StoredRecord>>> {
        loop {
            let Some(file) = self.file.as_mut() else {
                return Ok(None);
            };
            let mut data = std::mem::take(&mut self.carry);
            data.reserve(WINDOW_BYTES);
            let n = file.take(WINDOW_BYTES as u64).read_to_end(&mut data).with_context(|| format!("cannot read {}", self.shown))?;
            if n == 0 {
                // The end of the file: what is left is a line without its newline, if anything.
                self.file = None;
                split_lines(&Bytes::from(data), &self.shown, self.line)?;
                return Ok(None);
            }
            let Some(last) = memchr::memrchr(b'\n', &data) else {
                // One record longer than a block: read on.
                self.carry = data;
                continue;
            };
            self.carry = data.split_off(last + 1);
            let lines = split_lines(&Bytes::from(data), &self.shown, self.line).inspect_err(|_| self.file = None)?;
            self.line += lines.len();
            let shown = &self.shown;
            return Ok(Some(lines.into_iter().map(|(_, line, bytes)| StoredRecord { location: format!("{shown}:{line}"), bytes }).collect()));
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

impl Store for LocalStore {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<Vec<StoredRecord>> {
        let shown = self.path.display().to_string();
        Ok(self
            .scan_from(0, 1)?
            .into_iter()
            .map(|(_, line, bytes)| StoredRecord { location: format!("{shown}:{line}"), bytes })
            .collect())
    }

    fn windows(&self) -> Result<Windows<'_>> {
        let file = match File::open(&self.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", self.path.display())),
        };
        let mut reader = LineBlocks { file, shown: self.path.display().to_string(), carry: Vec::new(), line: 1 };
        Ok(Box::new(std::iter::from_fn(move || reader.next_block().transpose())))
    }

    fn last(&self) -> Result<Option<StoredRecord>> {
        let mut f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", self.path.display())),
        };
        let size = f.metadata()?.len();
        if size == 0 {
            return Ok(None);
        }
        let mut tail: Vec<u8> = Vec::new();
        let mut pos = size;
        loop {
            let step = (64 * 1024u64).min(pos);
            pos -= step;
            f.seek(SeekFrom::Start(pos))?;
            let mut chunk = vec![0; step as usize];
            f.read_exact(&mut chunk)?;
            chunk.extend_from_slice(&tail);
            tail = chunk;
            if tail.last() != Some(&b'\n') {
                bail!("{}: incomplete last line (no newline): the file was cut or is being written", self.path.display());
            }
            let body = &tail[..tail.len() - 1];
            if let Some(nl) = body.iter().rposition(|b| *b == b'\n') {
                return Ok(Some(StoredRecord {
                    location: format!("{} (last line)", self.path.display()),
                    bytes: Bytes::copy_from_slice(&body[nl + 1..]),
                }));
            }
            if pos == 0 {
                return Ok(Some(StoredRecord { location: format!("{}:1", self.path.display()), bytes: Bytes::copy_from_slice(body) }));
            }
        }
    }

    fn head(&self) -> Result<Option<StoredRecord>> {
        let path = self.checkpoint_path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(StoredRecord { location: path.display().to_string(), bytes: bytes.into() })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn append(&mut self, _first_sequence: u64, previous: &str, records: &[Vec<u8>], head: &[u8]) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)
            .with_context(|| format!("cannot open {} for appending", self.path.display()))?;
        f.lock().with_context(|| format!("cannot lock {}", self.path.display()))?;
        let current = self.last()?.map(|r| sha256_hex(&r.bytes)).unwrap_or_else(|| crate::record::GENESIS.to_string());
        if current != previous {
            return Err(HeadMoved(self.path.display().to_string()).into());
        }
        let mut buf = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum());
        for r in records {
            buf.extend_from_slice(r);
            buf.push(b'\n');
        }
        f.write_all(&buf).with_context(|| format!("cannot append to {}", self.path.display()))?;
        f.sync_data().with_context(|| format!("cannot sync {}", self.path.display()))?;
        write_atomic(&self.checkpoint_path(), head)?;
        f.unlock()?;
        Ok(())
    }

    fn advance_head(&mut self, sequence: u64, head: &[u8]) -> Result<()> {
        let f = OpenOptions::new().read(true).open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        f.lock().with_context(|| format!("cannot lock {}", self.path.display()))?;
        if self.checkpoint()?.is_none_or(|cp| cp.sequence < sequence) {
            write_atomic(&self.checkpoint_path(), head)?;
        }
        f.unlock()?;
        Ok(())
    }
}

/// Replaces the local chain at `path` (and its head) with a copy of `records`, atomically:
/// a cache of a store that was verified first.
pub fn write_copy(path: &Path, records: &[StoredRecord], head: Option<&[u8]>) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut buf = Vec::with_capacity(records.iter().map(|r| r.bytes.len() + 1).sum());
    for r in records {
        if r.bytes.contains(&b'\n') {
            bail!("{}: a record spans lines and cannot be cached as JSON Lines", r.location);
        }
        buf.extend_from_slice(&r.bytes);
        buf.push(b'\n');
    }
    let store = LocalStore::new(path);
    let _ = std::fs::remove_file(store.index_path());
    match head {
        Some(h) => write_atomic(&store.checkpoint_path(), h)?,
        None => {
            let _ = std::fs::remove_file(store.checkpoint_path());
        }
    }
    write_atomic(path, &buf)
}

impl<S: Store + ?Sized> Store for Box<S> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn load(&self) -> Result<Vec<StoredRecord>> {
        (**self).load()
    }
    fn windows(&self) -> Result<Windows<'_>> {
        (**self).windows()
    }
    fn windows_from(&self, first: u64) -> Result<(u64, Windows<'_>)> {
        (**self).windows_from(first)
    }
    fn integrity_except(&self, seen: &std::collections::BTreeSet<String>) -> Result<StoreIntegrity> {
        (**self).integrity_except(seen)
    }
    fn integrity_held(&self, seen: &std::collections::BTreeSet<String>, held: &HeldHeads) -> Result<StoreIntegrity> {
        (**self).integrity_held(seen, held)
    }
    fn last(&self) -> Result<Option<StoredRecord>> {
        (**self).last()
    }
    fn head(&self) -> Result<Option<StoredRecord>> {
        (**self).head()
    }
    fn integrity(&self) -> Result<StoreIntegrity> {
        (**self).integrity()
    }
    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        (**self).checkpoint()
    }
    fn append(&mut self, first_sequence: u64, previous: &str, records: &[Vec<u8>], head: &[u8]) -> Result<()> {
        (**self).append(first_sequence, previous, records, head)
    }
    fn recent(&self, n: usize) -> Result<Vec<StoredRecord>> {
        (**self).recent(n)
    }
    fn advance_head(&mut self, sequence: u64, head: &[u8]) -> Result<()> {
        (**self).advance_head(sequence, head)
    }
    fn slotted(&self) -> bool {
        (**self).slotted()
    }
    fn slots_from(&self, sequence: u64) -> Result<Vec<StoredRecord>> {
        (**self).slots_from(sequence)
    }
    fn slots_at(&self, checkpoint: &Checkpoint) -> Result<Vec<StoredRecord>> {
        (**self).slots_at(checkpoint)
    }
    fn keep_listing(&self) {
        (**self).keep_listing()
    }
    fn listing_upto(&self, size: u64, hash: &str, head: Option<&[u8]>) -> Result<(Option<crate::witness::Listing>, Vec<String>)> {
        (**self).listing_upto(size, hash, head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows_of(content: &[u8]) -> Result<Vec<Vec<StoredRecord>>> {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("chain.jsonl"));
        std::fs::write(store.path(), content).unwrap();
        let windows: Result<Vec<Vec<StoredRecord>>> = store.windows()?.collect();
        windows
    }

    #[test]
    fn windows_read_the_file_in_blocks_and_carry_cut_lines() {
        // Lines that straddle block boundaries, and one longer than a block.
        let long = vec![b'x'; WINDOW_BYTES + 123];
        let mut lines: Vec<Vec<u8>> = (0..3000).map(|i| format!("{i:0>1500}").into_bytes()).collect();
        lines.insert(1234, long);
        let content: Vec<u8> = lines.iter().flat_map(|l| [&l[..], b"\n"].concat()).collect();
        let windows = windows_of(&content).unwrap();
        assert!(windows.len() >= 3, "{} windows", windows.len());
        let records: Vec<StoredRecord> = windows.into_iter().flatten().collect();
        assert_eq!(records.len(), lines.len());
        for (i, (r, l)) in records.iter().zip(&lines).enumerate() {
            assert_eq!(&r.bytes[..], &l[..], "line {}", i + 1);
            assert!(r.location.ends_with(&format!("chain.jsonl:{}", i + 1)), "{}", r.location);
        }
        // The same records as a whole load.
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("chain.jsonl"));
        std::fs::write(store.path(), &content).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.len(), records.len());
        let line = |r: &StoredRecord| r.location.rsplit(':').next().unwrap().to_string();
        assert!(loaded.iter().zip(&records).all(|(a, b)| a.bytes == b.bytes && line(a) == line(b)));
    }

    #[test]
    fn windows_name_the_line_of_a_torn_or_empty_record() {
        let torn = windows_of(b"one\ntwo\nthr").unwrap_err();
        assert!(format!("{torn:#}").contains("chain.jsonl:3: incomplete last line"), "{torn:#}");
        let empty = windows_of(b"one\n\nthree\n").unwrap_err();
        assert!(format!("{empty:#}").contains("chain.jsonl:2: empty line"), "{empty:#}");
        assert!(windows_of(b"").unwrap().is_empty());
    }
}
