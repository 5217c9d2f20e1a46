//! The earlier head versions a verifier's mirror keeps, so that the next command does not read
//! every one of them from the store again.
//!
//! Nothing here is believed because the file says so:
//! - a held head is used only for the store version whose ETag, listed with the version in the
//!   same listing that finds it, is the MD5 of the held bytes (S3 gives a single-part upload
//!   without SSE-KMS that ETag; any other ETag means the version is read again). The bytes are
//!   thus the store's, bound by the store's own listing, not by a seal the file could carry;
//! - every earlier head, held or read, is judged again by the verifier (signature, register in
//!   force, the record it names and its hash), as a full verification judges it; a foreign head
//!   is quarantined and reported again;
//! - a held head with other bytes (edited, or a version that does not exist) is read from the
//!   store, and the file is written again from what the store vouched for.
//!
//! An attacker who can write the file can only make the verifier read more. Forging the MD5
//! would take a second object with the MD5 of a stored head version that is itself a valid
//! signed checkpoint (a canonical DSSE envelope); the verifier rejects a head that is not one.
//!
//! File: `<dir>/<key>.heads.jsonl`, one `{"location": ..., "bytes": base64}` per line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::store::{HeldHeads, StoredRecord};

/// Whether the listed `etag` of a version vouches for `bytes` (the MD5 of a single-part upload).
pub fn etag_vouches(etag: &str, bytes: &[u8]) -> bool {
    use md5::Digest as _;
    let etag = etag.trim_matches('"');
    etag.len() == 32 && etag.eq_ignore_ascii_case(&hex::encode(md5::Md5::digest(bytes)))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    location: String,
    bytes: String,
}

/// The file of held heads beside a mirror's records file.
pub(crate) struct Heads {
    path: PathBuf,
}

impl Heads {
    pub(crate) fn beside(records: &Path) -> Heads {
        Heads { path: records.with_extension("heads.jsonl") }
    }

    /// The held heads; a missing or unreadable file, or a bad line, holds nothing (each head is
    /// then read from the store).
    pub(crate) fn load(&self) -> HeldHeads {
        let Ok(text) = std::fs::read_to_string(&self.path) else { return HeldHeads::new() };
        let mut out = HeldHeads::new();
        for l in text.lines() {
            let Ok(line) = serde_json::from_str::<Line>(l) else { return HeldHeads::new() };
            let Ok(bytes) = B64.decode(&line.bytes) else { return HeldHeads::new() };
            out.insert(line.location, bytes.into());
        }
        out
    }

    /// Keeps `heads` (the earlier heads a verification just judged, with the store's bytes).
    pub(crate) fn write(&self, heads: &[StoredRecord]) -> Result<()> {
        let mut text = String::new();
        for h in heads {
            let line = Line { location: h.location.clone(), bytes: B64.encode(&h.bytes) };
            text.push_str(&serde_json::to_string(&line)?);
            text.push('\n');
        }
        let tmp = self.path.with_extension(format!("jsonl.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).with_context(|| format!("cannot replace {}", self.path.display()))
    }

    pub(crate) fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_vouches_only_for_its_bytes() {
        // The same bytes vouch, any others do not.
        let bytes = b"head";
        use md5::Digest as _;
        let etag = format!("\"{}\"", hex::encode(md5::Md5::digest(bytes)));
        assert!(etag_vouches(&etag, bytes));
        assert!(!etag_vouches(&etag, b"head "));
        assert!(!etag_vouches("\"abc-2\"", bytes), "a multipart ETag vouches for nothing");
        assert!(!etag_vouches("", b""));
    }

    #[test]
    fn a_bad_file_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let heads = Heads::beside(&dir.path().join("k.jsonl"));
        heads.write(&[StoredRecord { location: "s3://b/head.json (version 1)".into(), bytes: b"x".to_vec().into() }]).unwrap();
        assert_eq!(heads.load().len(), 1);
        std::fs::write(dir.path().join("k.heads.jsonl"), "{\"location\": 1}\n").unwrap();
        assert!(heads.load().is_empty());
    }
}
