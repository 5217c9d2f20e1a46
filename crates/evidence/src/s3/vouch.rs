//! The S3 store's side of a witnessed listing ([`crate::vouch`]): the witness's full listing up
//! to its checkpoint (the note's `listing` line), the check that the head version a note names
//! is still this store's head naming the witnessed record, and the records up to the witnessed
//! size read by key without a listing.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::{aws_error, versions, S3Store};
use crate::store::{StoredRecord, Windows};
use crate::vouch::Vouch;
use crate::witness::Listing;

/// A record listing kept for the witness's note ([`crate::Store::keep_listing`]): asked for,
/// and what the next full integrity listing found.
#[derive(Default)]
pub(super) struct KeptListing {
    wanted: bool,
    listed: Option<RecordListing>,
}

/// What the [`Listing`] is computed from: the record keys' versions and delete markers as
/// listed (`key`, version id; keys ascending, a key's versions newest first) and the id of the
/// head's latest version.
pub(super) struct RecordListing {
    versions: Vec<(String, Option<String>)>,
    markers: Vec<(String, Option<String>)>,
    latest_head: Option<String>,
}

impl RecordListing {
    fn of(heads: &versions::Listed, records: &versions::Listed, head_key: &str) -> RecordListing {
        RecordListing {
            versions: records.versions.iter().map(|v| (v.key.clone(), v.id.clone())).collect(),
            markers: records.markers.iter().map(|m| (m.key.clone(), m.id.clone())).collect(),
            latest_head: heads.versions.iter().find(|v| v.key == head_key && v.latest).and_then(|v| v.id.clone()),
        }
    }
}

impl S3Store {
    /// [`crate::Store::keep_listing`]: the next full integrity listing is kept (one kept before
    /// and not used is dropped).
    pub(super) fn keep_next_listing(&self) {
        if let Ok(mut kept) = self.kept_listing.lock() {
            *kept = KeptListing { wanted: true, listed: None };
        }
    }

    /// Called by a full integrity listing (`heads`: the head's versions, `records`: every
    /// record version and marker): kept when asked for.
    pub(super) fn keep_listed(&self, heads: &versions::Listed, records: &versions::Listed) {
        if let Ok(mut kept) = self.kept_listing.lock() {
            if kept.wanted {
                kept.listed = Some(RecordListing::of(heads, records, &self.head_key()));
            }
        }
    }

    /// The listing kept, taken (used once), when one was asked for and made.
    fn take_listed(&self) -> Option<RecordListing> {
        let mut kept = self.kept_listing.lock().ok()?;
        let listed = kept.listed.take();
        kept.wanted = false;
        listed
    }

    /// Every version and delete marker of the record keys and the head's latest version (the
    /// listing kept from the witness's verification, [`crate::Store::keep_listing`], else listed
    /// now): the [`Listing`] of records `0 ..= size - 1`; `None` with findings when the listing
    /// is not one version per key without markers, `None` alone when the head does not name
    /// record `size - 1` with `hash`, or its bytes are not `verified` (the head the witness's
    /// verification checked, signature included: a version written between that verification
    /// and the listing is never vouched for).
    pub(super) async fn listing_upto_async(&self, size: u64, hash: &str, verified: Option<&[u8]>) -> Result<(Option<Listing>, Vec<String>)> {
        let head_key = self.head_key();
        let Some(last) = size.checked_sub(1).map(|s| self.record_key(s)) else { return Ok((None, Vec::new())) };
        // A kept listing made before record `size - 1` was written (an append that landed
        // between the verification's listing and its reads of the records) does not cover the
        // chain the verification judged: listed again now, as without a kept listing.
        let listed = match self.take_listed().filter(|l| l.versions.iter().any(|(k, _)| *k == last)) {
            Some(listed) => listed,
            None => {
                let records_prefix = format!("{}records/", self.prefix);
                let first_page = |_: &versions::Version| true;
                let (records, heads) = tokio::join!(
                    versions::list(&self.client, &self.bucket, &records_prefix, None, None, self.page_size),
                    versions::list(&self.client, &self.bucket, &head_key, None, Some(&first_page), self.page_size)
                );
                RecordListing::of(&heads?, &records?, &head_key)
            }
        };
        let mut findings = Vec::new();
        let mut digest = Sha256::new();
        let mut per_key: BTreeMap<&str, u64> = BTreeMap::new();
        let mut versions_listed = 0u64;
        for (key, id) in listed.versions.iter().filter(|(k, _)| *k <= last) {
            digest.update(version_line(key, id.as_deref()));
            *per_key.entry(key.as_str()).or_default() += 1;
            versions_listed += 1;
        }
        let mut markers = 0u64;
        for (key, id) in listed.markers.iter().filter(|(k, _)| *k <= last) {
            digest.update(format!("{key} {} delete-marker\n", id.as_deref().unwrap_or("null")));
            markers += 1;
            findings.push(format!("s3://{}/{key}: delete marker {} over a record", self.bucket, id.as_deref().unwrap_or("-")));
        }
        for (key, n) in per_key.iter().filter(|(_, n)| **n > 1) {
            findings.push(format!("s3://{}/{key}: {n} versions (a version was written over the record after its first)", self.bucket));
        }
        if per_key.len() as u64 != size {
            findings.push(format!("{} record keys listed up to record {}, for {size} records", per_key.len(), size - 1));
        }
        // A head that does not name the witnessed record (behind it: an append whose head write
        // is still to come) is no finding; the note then vouches for no listing.
        let head_version = match listed.latest_head {
            Some(id) => match (self.head_bytes(&id).await?, verified) {
                (Some(got), Some(verified)) if got == verified && self.names(&id, &got, size - 1, hash) => Some(id),
                _ => None,
            },
            None => None,
        };
        let listing = head_version.filter(|_| findings.is_empty()).map(|head_version| Listing {
            head_version,
            versions: versions_listed,
            markers,
            digest: hex::encode(digest.finalize()),
        });
        Ok((listing, findings))
    }

    /// The bytes of the head version `id`, `None` when the store does not hold it.
    async fn head_bytes(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let key = self.head_key();
        match self.client.get_object().bucket(&self.bucket).key(&key).version_id(id).send().await {
            Ok(out) => Ok(Some(out.body.collect().await.with_context(|| format!("cannot read s3://{}/{key}", self.bucket))?.into_bytes().to_vec())),
            Err(e) if e.raw_response().is_some_and(|r| matches!(r.status().as_u16(), 400 | 404)) => Ok(None),
            Err(e) => Err(aws_error(e)).with_context(|| format!("cannot get s3://{}/{key} version {id}", self.bucket)),
        }
    }

    /// Whether the head version `id` is a checkpoint naming record `sequence` with `hash` (its
    /// signature is not checked here: the verification the vouch shortens checks the note's).
    async fn head_names(&self, id: &str, sequence: u64, hash: &str) -> Result<bool> {
        // No such version (another store's note, or a forged id): it vouches for nothing here.
        let Some(got) = self.head_bytes(id).await? else { return Ok(false) };
        Ok(self.names(id, &got, sequence, hash))
    }

    /// Whether `bytes` (head version `id`) decode to a checkpoint naming record `sequence` with `hash`.
    fn names(&self, id: &str, bytes: &[u8], sequence: u64, hash: &str) -> bool {
        let location = format!("s3://{}/{} (version {id})", self.bucket, self.head_key());
        crate::store::decode_checkpoint(bytes, &location).is_ok_and(|(_, cp)| cp.sequence == sequence && cp.hash == hash)
    }

    pub(super) async fn vouch_holds_async(&self, vouch: &Vouch) -> Result<bool> {
        self.head_names(&vouch.head_version, vouch.size - 1, &vouch.hash).await
    }

    /// [`crate::Store::windows_from`] with the keys before `vouch.size` read by key without a
    /// listing (their latest version: a version written over one since gives bytes that break
    /// the hash chain to the witnessed hash), then exactly the keys after it that the integrity
    /// listing found (`tail`; listed here when `None`), each at its first version as a full
    /// listing reads it: a key planted beyond a gap, or a version written over a key after the
    /// witnessed size, is read as `--full` reads it (review of issue 36, findings 2 and 3).
    ///
    /// The exact version set: read from record 0, the version ids the store answered for the
    /// keys before `vouch.size` must be the ones the witness listed (their `key version` lines
    /// hash to the note's listing digest). A version written over a record after the witness
    /// ran, even with the record's own bytes, is then an error at the window that ends the
    /// witnessed keys: the vouched pass fails, and the full listing that follows reports it.
    pub(super) fn windows_vouched_s3(&self, first: u64, vouch: &Vouch, tail: Option<&[(String, Option<String>)]>) -> Result<(u64, Windows<'_>)> {
        let start = first.saturating_sub(1);
        let from = self.record_key(vouch.size.max(start));
        let tail: Vec<(String, Option<String>)> = match tail {
            Some(keys) => keys.iter().filter(|(k, _)| *k >= from).cloned().collect(),
            None => {
                let after = self.record_key(vouch.size.max(start) - 1);
                self.rt.block_on(self.record_versions_after(Some(after)))?
            }
        };
        // One window of keys at a time (its reads in flight together).
        let mut keys = (start..vouch.size).map(|s| (self.record_key(s), None::<String>)).chain(tail).peekable();
        let mut pinned = (start == 0).then(|| Pinned::new(self.record_key(vouch.size - 1), vouch));
        let windows = std::iter::from_fn(move || {
            keys.peek()?;
            let window: Vec<(String, Option<String>)> = keys.by_ref().take(crate::store::WINDOW_RECORDS).collect();
            let read = self.rt.block_on(self.get_all_versions(&window)).and_then(|got| {
                if let Some(pinned) = pinned.as_mut() {
                    pinned.check(&self.bucket, &window, &got)?;
                }
                Ok(got.into_iter().map(|(r, _)| r).collect())
            });
            Some(read)
        });
        Ok((start, Box::new(windows) as Box<dyn Iterator<Item = Result<Vec<StoredRecord>>> + '_>))
    }
}

/// The line a record version adds to a listing digest ([`Listing::digest`]).
fn version_line(key: &str, id: Option<&str>) -> String {
    format!("{key} {}\n", id.unwrap_or("null"))
}

/// The witness's listing digest recomputed from the version ids a read by key answered with,
/// for the keys up to the witnessed size (`last`, the key of record `size - 1`).
struct Pinned {
    last: String,
    digest: Option<Sha256>,
    size: u64,
    want: String,
}

impl Pinned {
    fn new(last: String, vouch: &Vouch) -> Pinned {
        Pinned { last, digest: Some(Sha256::new()), size: vouch.size, want: vouch.digest.clone() }
    }

    /// Adds the versions `got` of `window`'s keys up to `last`; once `last` is read, `Err` when
    /// the digest is not the witness's.
    fn check(&mut self, bucket: &str, window: &[(String, Option<String>)], got: &[(StoredRecord, Option<String>)]) -> Result<()> {
        let Some(digest) = self.digest.as_mut() else { return Ok(()) };
        for ((key, _), (_, id)) in window.iter().zip(got) {
            if *key > self.last {
                break;
            }
            digest.update(version_line(key, id.as_deref()));
            if *key == self.last {
                let got = hex::encode(self.digest.take().map(|d| d.finalize()).unwrap_or_default());
                if got != self.want {
                    anyhow::bail!(
                        "s3://{bucket}: the latest versions of the {} record keys up to {} are not the versions the witness listed (their digest is {got}, the witness's {}): a version was written over a record after the witness ran",
                        self.size,
                        self.last,
                        self.want
                    );
                }
                return Ok(());
            }
        }
        Ok(())
    }
}
