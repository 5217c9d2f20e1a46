//! Checkpoints remembered by the verifier (outside the store), and the `--checkpoint` argument.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::record::is_digest;
use crate::store::Checkpoint;
use super::results::KnownCheckpoint;

// Checkpoints remembered by the verifier

/// The last head a verification accepted for one store, kept by the verifier (outside the
/// store) so that a later truncation of the store is detected even when its head was rewritten.
pub struct VerifiedCache {
    pub(super) path: std::path::PathBuf,
    pub(super) store: String,
}

#[derive(serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CacheFile {
    pub(super) store: String,
    pub(super) checkpoint: Checkpoint,
}

impl VerifiedCache {
    /// The cache of `store` (its description) under `dir`.
    pub fn new(dir: &Path, store: &str) -> VerifiedCache {
        let name = &hex::encode(Sha256::digest(store.as_bytes()))[..16];
        VerifiedCache { path: dir.join(format!("{name}.json")), store: store.to_string() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The remembered checkpoint, if any; a cache file that cannot be read is an error naming it.
    pub fn load(&self) -> Result<Option<KnownCheckpoint>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        };
        let f: CacheFile = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{}:{}: not a verified-checkpoint cache: {e}", self.path.display(), e.line()))?;
        if f.store != self.store {
            bail!("{}: the cache names store {:?}, not {:?}", self.path.display(), f.store, self.store);
        }
        Ok(Some(KnownCheckpoint {
            checkpoint: f.checkpoint,
            source: format!("checkpoint cached by an earlier verification ({})", self.path.display()),
        }))
    }

    /// Remembers `head` (sequence, hash) unless the cache already holds a later one.
    pub fn save(&self, head: &(u64, String)) -> Result<()> {
        if let Some(k) = self.load()? {
            if k.checkpoint.sequence > head.0 {
                return Ok(());
            }
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let f = CacheFile {
            store: self.store.clone(),
            checkpoint: Checkpoint { sequence: head.0, hash: head.1.clone(), time: crate::record::now_rfc3339() },
        };
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&f)?).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).with_context(|| format!("cannot replace {}", self.path.display()))?;
        Ok(())
    }
}

/// Parses `SEQUENCE:HASH` (a checkpoint given on the command line).
pub fn parse_checkpoint_arg(s: &str) -> Result<KnownCheckpoint> {
    let (seq, hash) = s.split_once(':').with_context(|| format!("checkpoint {s:?} is not SEQUENCE:HASH"))?;
    let sequence: u64 = seq.parse().with_context(|| format!("checkpoint {s:?}: {seq:?} is not a sequence number"))?;
    if !is_digest(hash) {
        bail!("checkpoint {s:?}: {hash:?} is not 64 lowercase hex digits");
    }
    Ok(KnownCheckpoint {
        checkpoint: Checkpoint { sequence, hash: hash.to_string(), time: String::new() },
        source: format!("checkpoint {sequence} given on the command line"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remembered_checkpoint_round_trips_per_store_and_the_argument_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerifiedCache::new(dir.path(), "s3://bucket-a");
        assert!(cache.load().unwrap().is_none());
        let hash = crate::bench::digest_of("head", 1);
        cache.save(&(41, hash.clone())).unwrap();
        let known = cache.load().unwrap().expect("saved");
        assert_eq!((known.checkpoint.sequence, known.checkpoint.hash.as_str()), (41, hash.as_str()));
        // Another store's cache is another file.
        assert!(VerifiedCache::new(dir.path(), "s3://bucket-b").load().unwrap().is_none());
        let arg = parse_checkpoint_arg(&format!("7:{hash}")).unwrap();
        assert_eq!((arg.checkpoint.sequence, arg.checkpoint.hash), (7, hash.clone()));
        for bad in ["7".to_string(), format!("x:{hash}"), format!("7:{}", &hash[..10]), format!("7:{}", hash.to_uppercase())] {
            assert!(parse_checkpoint_arg(&bad).is_err(), "{bad}");
        }
    }
}
