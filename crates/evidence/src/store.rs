//! Where records live. Every store is append-only and keeps a head checkpoint (sequence and
//! envelope hash of the last record) so that truncation of the tail is detectable. The head is
//! a DSSE envelope signed by the identity that appended last: an unsigned or re-signed-by-a-
//! stranger head is not trusted by verification.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
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

/// One stored envelope and where it came from (`file:line`, object key).
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub location: String,
    pub bytes: Vec<u8>,
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
pub fn sign_checkpoint(checkpoint: &Checkpoint, signer: &Signer) -> Vec<u8> {
    let payload = CheckpointPayload {
        sequence: checkpoint.sequence,
        hash: checkpoint.hash.clone(),
        time: checkpoint.time.clone(),
        identity: signer.identity().to_string(),
    };
    let bytes = serde_json::to_vec(&payload).expect("checkpoints serialize");
    Envelope::sign(&bytes, CHECKPOINT_PAYLOAD_TYPE, signer).to_canonical()
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
}

pub trait Store {
    /// Human-readable name of the store (path or bucket).
    fn describe(&self) -> String;
    /// Every record in stored order.
    fn load(&self) -> Result<Vec<StoredRecord>>;
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
    /// head with `head` (a signed checkpoint, see [`sign_checkpoint`]). Fails when the store's
    /// last envelope hash is not `previous`.
    fn append(&mut self, first_sequence: u64, previous: &str, records: &[Vec<u8>], head: &[u8]) -> Result<()>;
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
    /// count from `first_line`.
    pub fn scan_from(&self, offset: u64, first_line: usize) -> Result<Vec<(u64, usize, Vec<u8>)>> {
        let mut data = Vec::new();
        match File::open(&self.path) {
            Ok(mut f) => {
                f.seek(SeekFrom::Start(offset))?;
                f.read_to_end(&mut data).with_context(|| format!("cannot read {}", self.path.display()))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", self.path.display())),
        }
        let mut out = Vec::new();
        let mut start = 0;
        let mut line = first_line;
        while start < data.len() {
            let Some(nl) = data[start..].iter().position(|b| *b == b'\n') else {
                bail!("{}:{line}: incomplete last line (no newline): the file was cut or is being written", self.path.display());
            };
            if nl == 0 {
                bail!("{}:{line}: empty line", self.path.display());
            }
            out.push((offset + start as u64, line, data[start..start + nl].to_vec()));
            start += nl + 1;
            line += 1;
        }
        Ok(out)
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
                return Ok(Some(StoredRecord { location: format!("{} (last line)", self.path.display()), bytes: body[nl + 1..].to_vec() }));
            }
            if pos == 0 {
                return Ok(Some(StoredRecord { location: format!("{}:1", self.path.display()), bytes: body.to_vec() }));
            }
        }
    }

    fn head(&self) -> Result<Option<StoredRecord>> {
        let path = self.checkpoint_path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(StoredRecord { location: path.display().to_string(), bytes })),
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
}
