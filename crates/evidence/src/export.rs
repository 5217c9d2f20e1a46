//! `evidence export` and the local cache comparison of `evidence verify`: the logic behind the
//! CLI, which only parses arguments and prints.
//!
//! An export is two steps so the CLI can print between them: [`prepare`] verifies the store's
//! chain (with its head and the latest witnessed checkpoint as anchors) and gathers what a
//! bundle carries; [`Prepared::write`] checks that the exporter may sign, then writes the bundle
//! of one release (see [`crate::bundle`]).

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::bundle::{self, BundleHeader, BUNDLE_FORMAT};
use crate::dsse::sha256_hex;
use crate::identity::{Identities, Signer};
use crate::query::Index;
use crate::record::now_rfc3339;
use crate::verify::{verify_chain_with, Anchors};
use crate::witness::Witnessed;
use crate::{Checkpoint, LocalStore, Quarantined, Refused, Role, Store, StoredRecord, TrustRoot};

/// A store's chain, verified, and what its bundles carry.
pub struct Prepared {
    /// The chain's records without the foreign objects it skips.
    records: Vec<StoredRecord>,
    sequences: Vec<u64>,
    /// The register the chain starts from (the verifier pins it).
    genesis: Identities,
    /// The register in force after the last record: who may sign the header.
    register: Identities,
    checkpoint: Checkpoint,
    witnessed: Vec<Witnessed>,
    /// Foreign objects the chain skips (see [`crate::quarantine`]): findings, not in the bundle.
    pub quarantined: Vec<Quarantined>,
}

/// Verifies `store`'s chain against `trust` with the store's head and `witnessed` (the latest
/// witnessed checkpoint, read before the head and the records: the store must still hold it).
/// A chain that fails verification is an error carrying the [`crate::verify::Failure`].
pub fn prepare(store: &dyn Store, trust: &TrustRoot, witnessed: Vec<Witnessed>) -> Result<Prepared> {
    let mut anchors = Anchors::of_store(store, Vec::new())?;
    anchors.witnessed = witnessed.clone();
    let records = store.load()?;
    let chain = verify_chain_with(&records, trust, &anchors)?;
    // The bundle carries the register the chain starts from (the verifier pins it): its genesis,
    // or, for a chain without one, the register the verifier named as its trust root.
    let genesis = chain
        .records
        .first()
        .and_then(|r| r.details.register_change())
        .filter(|c| c.previous_register_sha256 == crate::record::GENESIS)
        .map(|c| c.register.as_str());
    let genesis = match genesis {
        Some(text) => Identities::parse(text, "genesis register")?,
        None => trust.supplied_register().cloned().context("the chain does not start with a genesis register and the trust root names no register (pass --trust-root FILE)")?,
    };
    // The bundle carries the chain without the foreign objects it skips (each skip stays
    // recorded, signed, in the record after it); its checkpoint is the verified head.
    let records: Vec<StoredRecord> = records.into_iter().filter(|r| !chain.quarantined.iter().any(|q| q.seen && q.location == r.location)).collect();
    let (head_seq, head_hash) = chain.head.clone().with_context(|| format!("{} has no records", store.describe()))?;
    let checkpoint = match store.checkpoint() {
        Ok(Some(cp)) if cp.sequence == head_seq && cp.hash == head_hash => cp,
        _ => Checkpoint { sequence: head_seq, hash: head_hash, time: now_rfc3339() },
    };
    Ok(Prepared {
        records,
        sequences: chain.records.iter().map(|r| r.sequence).collect(),
        genesis,
        register: chain.register,
        checkpoint,
        witnessed,
        quarantined: chain.quarantined,
    })
}

impl Prepared {
    /// Writes the bundle of `release` (a digest or unique prefix) to `out`, its header signed by
    /// `signer`: a registered identity with its registered key ([`Refused`] otherwise). A chain
    /// whose register has a witness needs a witnessed checkpoint for the header ([`Refused`]).
    pub fn write(self, release: &str, out: &Path, signer: &Signer) -> Result<BundleHeader> {
        match self.register.get(signer.identity()) {
            Some(id) if id.keyid == signer.keyid() => {}
            Some(_) => return Err(Refused(format!("the key given is not the registered key of {}", signer.identity())).into()),
            None => return Err(Refused(format!("{} is not registered in the chain's register: it cannot sign a bundle", signer.identity())).into()),
        }
        let witness_registered = self.register.iter().any(|i| i.has_role(Role::Witness));
        if self.witnessed.is_empty() && witness_registered {
            return Err(Refused(
                "the chain's register has a witness but the witness store holds no witnessed checkpoint yet: run `cargo xtask evidence witness --as ID --key FILE` first (a bundle carries the latest one)".into(),
            )
            .into());
        }
        let index = Index::from_records(&self.records)?;
        let release = index.resolve_release(release)?;
        let focus: Vec<u64> = index.entries.iter().filter(|e| e.release == release).map(|e| e.sequence).collect();
        let last = *focus.last().expect("a resolved release has records");
        let upto = self.checkpoint.sequence.max(last);
        let included = &self.records[..self.sequences.iter().filter(|s| **s <= upto).count().max(1)];
        let header = BundleHeader {
            format: BUNDLE_FORMAT.into(),
            release: release.clone(),
            exported: now_rfc3339(),
            checkpoint: self.checkpoint.clone(),
            identities_sha256: sha256_hex(self.genesis.source().as_bytes()),
            identities: self.genesis.source().to_string(),
            records: included.len(),
            focus,
            exporter: signer.identity().to_string(),
            witnessed: self.witnessed.first().map(|w| String::from_utf8_lossy(&w.note).into_owned()),
        };
        bundle::write_bundle(out, &header, included, signer)?;
        Ok(header)
    }

    /// The witnessed checkpoint the header carries: where it was read.
    pub fn witnessed_source(&self) -> Option<&str> {
        self.witnessed.first().map(|w| w.source.as_str())
    }
}

/// A local cache that agrees with the store: how many of the store's records it holds.
#[derive(Debug, PartialEq, Eq)]
pub struct CacheAgrees {
    pub cached: usize,
    pub records: usize,
}

/// Compares a local cache with the verified records of the store (`records`: their hashes, in
/// order): the cache must be a prefix of the store, byte for byte. `None` when there is no cache;
/// an error naming the first difference (the store is the source of truth).
pub fn compare_cache(local: &LocalStore, records: &[String]) -> Result<Option<CacheAgrees>> {
    if local.is_empty()? {
        return Ok(None);
    }
    let cached = local.load()?;
    for (i, c) in cached.iter().enumerate() {
        match records.get(i) {
            Some(r) if *r == sha256_hex(&c.bytes) => {}
            Some(_) => bail!("the local cache {} differs from the evidence store at sequence {i} ({}): the store is the source of truth; run `cargo xtask evidence pull`", local.path().display(), c.location),
            None => bail!("the local cache {} has {} records, the evidence store only {}: records exist only locally; run `cargo xtask evidence pull`", local.path().display(), cached.len(), records.len()),
        }
    }
    Ok(Some(CacheAgrees { cached: cached.len(), records: records.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize, text: &str) -> StoredRecord {
        StoredRecord { location: format!("r{i}"), bytes: text.as_bytes().to_vec().into() }
    }

    fn cache_of(dir: &Path, texts: &[&str]) -> LocalStore {
        let path = dir.join("main.jsonl");
        let records: Vec<StoredRecord> = texts.iter().enumerate().map(|(i, t)| rec(i, t)).collect();
        crate::store::write_copy(&path, &records, None).unwrap();
        LocalStore::new(path)
    }

    fn hashes(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| sha256_hex(t.as_bytes())).collect()
    }

    #[test]
    fn a_cache_is_judged_as_a_prefix_of_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = hashes(&["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        // No cache: nothing to compare.
        assert_eq!(compare_cache(&LocalStore::new(dir.path().join("none.jsonl")), &store).unwrap(), None);
        // A prefix agrees, and says how much of the store it holds.
        let prefix = cache_of(dir.path(), &["{\"a\":1}", "{\"b\":2}"]);
        assert_eq!(compare_cache(&prefix, &store).unwrap(), Some(CacheAgrees { cached: 2, records: 3 }));
        // A record that differs is named by its sequence.
        let differs = cache_of(dir.path(), &["{\"a\":1}", "{\"b\":9}"]);
        let e = format!("{:#}", compare_cache(&differs, &store).unwrap_err());
        assert!(e.contains("differs from the evidence store at sequence 1"), "{e}");
        // Records only the cache holds are an error too.
        let longer = cache_of(dir.path(), &["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "{\"d\":4}"]);
        let e = format!("{:#}", compare_cache(&longer, &store).unwrap_err());
        assert!(e.contains("has 4 records, the evidence store only 3"), "{e}");
    }
}
