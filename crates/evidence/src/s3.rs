//! S3 store for a bucket with Object Lock in COMPLIANCE mode: one object per record
//! (`<prefix>records/<sequence:012>.json`) written with `If-None-Match: *` and a retention
//! date, plus `<prefix>head.json` (the signed checkpoint; every version is retained too, and
//! verification reads every version as an earlier head the chain must still contain). A
//! delete marker or a second version of a record object is reported as a store problem.
//!
//! The client is passed in (the caller decides endpoint and credentials); this facade drives
//! the async SDK on its own current-thread runtime. Give it a client of its own: pooled
//! connections belong to the runtime that opened them, and a client shared with code running
//! on another runtime can stall while that runtime is not polled.

use anyhow::{bail, Context, Result};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockMode, ObjectLockRetentionMode, ObjectLockRule};
use aws_sdk_s3::Client;

mod versions;
mod vouch;

use crate::store::{HeadBehind, HeadMoved, Store, StoreIntegrity, StoredRecord, WriteUncertain};

pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    retention_days: u32,
    /// Versions per listing page asked of S3 (`None`: the service's default, at most 1,000 on
    /// S3). Set only by tests (feature `test-page-size`), to span several pages with a short chain.
    page_size: Option<i32>,
    /// The record listing the witness's job asked to keep ([`Store::keep_listing`]).
    kept_listing: std::sync::Mutex<vouch::KeptListing>,
    rt: tokio::runtime::Runtime,
}

/// An AWS SDK error with its whole chain of causes (the SDKs' `Display` shows only the top).
pub fn aws_error(e: impl std::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", DisplayErrorContext(e))
}

impl S3Store {
    /// `prefix` is prepended to object keys (empty, or ending in `/`).
    pub fn new(client: Client, bucket: &str, prefix: &str, retention_days: u32) -> Result<S3Store> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a tokio runtime")?;
        if !(prefix.is_empty() || prefix.ends_with('/')) {
            bail!("S3 key prefix {prefix:?} must be empty or end with '/'");
        }
        Ok(S3Store { client, bucket: bucket.into(), prefix: prefix.into(), retention_days, page_size: None, kept_listing: Default::default(), rt })
    }

    /// Test-only: lists object versions `n` per page (S3 pages at 1,000 at most), so that a test
    /// spans several listing pages with a short chain.
    #[cfg(feature = "test-page-size")]
    pub fn with_page_size(mut self, n: i32) -> S3Store {
        self.page_size = Some(n);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn record_key(&self, sequence: u64) -> String {
        format!("{}records/{sequence:012}.json", self.prefix)
    }

    pub fn head_key(&self) -> String {
        format!("{}head.json", self.prefix)
    }

    /// Creates the bucket with Object Lock enabled (if absent) and sets its default retention
    /// to COMPLIANCE for `retention_days`. The retention of a bucket that already has a default
    /// one is left as it is: an appender never lowers it (nor quietly repairs a lowered one, which
    /// verification and drift report and `bootstrap --stores` restores).
    pub fn ensure_bucket(&self) -> Result<()> {
        self.rt.block_on(async {
            let exists = self.client.head_bucket().bucket(&self.bucket).send().await.is_ok();
            if exists {
                if default_retention(&self.client, &self.bucket).await.ok().flatten().is_some() {
                    return Ok(());
                }
            } else {
                self.client
                    .create_bucket()
                    .bucket(&self.bucket)
                    .object_lock_enabled_for_bucket(true)
                    .send()
                    .await
                    .map_err(aws_error)
                    .with_context(|| format!("cannot create bucket {}", self.bucket))?;
            }
            let retention = DefaultRetention::builder()
                .mode(ObjectLockRetentionMode::Compliance)
                .days(self.retention_days as i32)
                .build();
            let config = ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(ObjectLockRule::builder().default_retention(retention).build())
                .build();
            self.client
                .put_object_lock_configuration()
                .bucket(&self.bucket)
                .object_lock_configuration(config)
                .send()
                .await
                .map_err(aws_error)
                .with_context(|| format!("cannot set COMPLIANCE retention on bucket {}", self.bucket))?;
            Ok(())
        })
    }

    fn retain_until(&self) -> DateTime {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        DateTime::from_secs((now + u64::from(self.retention_days) * 86_400) as i64)
    }

    /// `out`, then the objects at the record keys from `sequence` on (each its first version),
    /// up to the first key without one.
    async fn slots_after(&self, sequence: u64, mut out: Vec<StoredRecord>) -> Result<Vec<StoredRecord>> {
        let mut seq = sequence;
        while let Some(bytes) = self.get_first(&self.record_key(seq)).await? {
            out.push(StoredRecord { location: format!("s3://{}/{}", self.bucket, self.record_key(seq)), bytes: bytes.into() });
            seq += 1;
        }
        Ok(out)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        get_object(&self.client, &self.bucket, key).await
    }

    /// The first version of a record key (its record), whatever was written over it since, a
    /// delete marker included. An empty slot (the next key of an append) costs one GET: its
    /// versions are listed only when it holds an object or a delete marker (a listing is
    /// O(bucket) on some S3 implementations, issue 36).
    async fn get_first(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let latest = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Some(out.body.collect().await.with_context(|| format!("cannot read s3://{}/{key}", self.bucket))?.into_bytes().to_vec()),
            // A delete marker is the latest version: the listing below finds the versions under it.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) && delete_marker(&e) => None,
            // Nothing was ever written here.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot get s3://{}/{key}", self.bucket)),
        };
        // Under a delete marker, the oldest version even when it is the only one: a record hidden
        // by a marker is still the key's record (its slot is taken, never free for an append).
        let listed = self.versions_of(key, None).await?.0.remove(key).unwrap_or_default();
        let first = match latest {
            None => oldest_version(&listed),
            Some(_) => first_version(&listed),
        };
        let Some(first) = first else { return Ok(latest) };
        let got = self.client.get_object().bucket(&self.bucket).key(key).version_id(&first).send().await;
        let out = got.map_err(aws_error).with_context(|| format!("cannot get s3://{}/{key} version {first}", self.bucket))?;
        let bytes = out.body.collect().await.with_context(|| format!("cannot read s3://{}/{key}", self.bucket))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(aws_error(e)).with_context(|| format!("cannot stat s3://{}/{key}", self.bucket)),
        }
    }

    /// The key of the last record: from the head's sequence, probing forward for records written
    /// after it (a head write that failed, or is still to come); without a head, the listing.
    async fn last_key(&self) -> Result<Option<String>> {
        // A head that is not a checkpoint (garbage: quarantined by verification) is no guide:
        // the listing is.
        let cp = match self.get(&self.head_key()).await? {
            Some(bytes) => crate::store::decode_checkpoint(&bytes, &format!("s3://{}/{}", self.bucket, self.head_key())).ok().map(|c| c.1),
            None => None,
        };
        Ok(match cp {
            Some(cp) => {
                let mut seq = cp.sequence;
                while self.exists(&self.record_key(seq + 1)).await? {
                    seq += 1;
                }
                Some(self.record_key(seq))
            }
            None => self.record_keys().await?.pop(),
        })
    }

    fn sequence_of(&self, key: &str) -> Result<u64> {
        key.strip_prefix(&format!("{}records/", self.prefix))
            .and_then(|k| k.strip_suffix(".json"))
            .and_then(|k| k.parse().ok())
            .with_context(|| format!("s3://{}/{key} is not a record key (<prefix>records/<sequence>.json)", self.bucket))
    }

    async fn record_keys(&self) -> Result<Vec<String>> {
        let mut keys = list_keys(&self.client, &self.bucket, &format!("{}records/", self.prefix)).await?;
        keys.sort();
        Ok(keys)
    }

    /// The objects of `keys` (at the version given, the latest otherwise), in order, with at
    /// most [`READ_CONCURRENCY`] requests in flight.
    async fn get_all(&self, keys: &[(String, Option<String>)]) -> Result<Vec<StoredRecord>> {
        Ok(self.get_all_versions(keys).await?.into_iter().map(|(r, _)| r).collect())
    }

    /// [`S3Store::get_all`], each object with the version id the store answered with (the
    /// latest version's, for a key read without one).
    async fn get_all_versions(&self, keys: &[(String, Option<String>)]) -> Result<Vec<(StoredRecord, Option<String>)>> {
        let mut got: Vec<Option<(StoredRecord, Option<String>)>> = vec![None; keys.len()];
        let mut set = tokio::task::JoinSet::new();
        let mut next = 0;
        loop {
            while next < keys.len() && set.len() < READ_CONCURRENCY {
                let (client, bucket, i) = (self.client.clone(), self.bucket.clone(), next);
                let (key, version) = keys[next].clone();
                set.spawn(async move {
                    let res = client.get_object().bucket(&bucket).key(&key).set_version_id(version).send().await.map_err(aws_error);
                    let read = match res {
                        Ok(o) => {
                            let id = o.version_id().map(String::from);
                            o.body.collect().await.map(|b| (b.into_bytes(), id)).map_err(anyhow::Error::from)
                        }
                        Err(e) => Err(e),
                    };
                    (i, key, read)
                });
                next += 1;
            }
            let Some(joined) = set.join_next().await else { break };
            let (i, key, read) = joined.context("S3 read task failed")?;
            let (bytes, id) = read.with_context(|| match &keys[i].1 {
                Some(id) => format!("cannot get s3://{}/{key} version {id}", self.bucket),
                None => format!("cannot get s3://{}/{key}", self.bucket),
            })?;
            got[i] = Some((StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes }, id));
        }
        Ok(got.into_iter().flatten().collect())
    }
}

impl Store for S3Store {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn load(&self) -> Result<Vec<StoredRecord>> {
        Ok(self.windows()?.collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
    }

    fn windows(&self) -> Result<crate::store::Windows<'_>> {
        Ok(self.windows_from(0)?.1)
    }

    /// Lists the record keys from `first - 1` on (one listing, started after the key before),
    /// then reads a window of objects at a time, [`READ_CONCURRENCY`] requests in flight: the
    /// verifier checks one window while the next ones are read.
    fn windows_from(&self, first: u64) -> Result<(u64, crate::store::Windows<'_>)> {
        let start = first.saturating_sub(1);
        let after = start.checked_sub(1).map(|s| self.record_key(s));
        // One listing of the versions gives the keys and, for a key written over, the first
        // version (its record; later versions are foreign objects).
        let keys = self.rt.block_on(self.record_versions_after(after))?;
        let mut keys = keys.into_iter().peekable();
        Ok((
            start,
            Box::new(std::iter::from_fn(move || {
                keys.peek()?;
                let window: Vec<(String, Option<String>)> = keys.by_ref().take(crate::store::WINDOW_RECORDS).collect();
                Some(self.rt.block_on(self.get_all(&window)))
            })),
        ))
    }

    fn integrity_except(&self, seen: &std::collections::BTreeSet<String>) -> Result<StoreIntegrity> {
        self.rt.block_on(self.integrity_async(seen, &Default::default(), None))
    }

    fn integrity_held(&self, seen: &std::collections::BTreeSet<String>, held: &crate::store::HeldHeads) -> Result<StoreIntegrity> {
        self.rt.block_on(self.integrity_async(seen, held, None))
    }

    fn integrity_vouched(
        &self,
        seen: &std::collections::BTreeSet<String>,
        held: &crate::store::HeldHeads,
        vouch: &crate::vouch::Vouch,
    ) -> Result<StoreIntegrity> {
        self.rt.block_on(self.integrity_async(seen, held, Some(vouch)))
    }

    fn keep_listing(&self) {
        self.keep_next_listing();
    }

    fn listing_upto(&self, size: u64, hash: &str, head: Option<&[u8]>) -> Result<(Option<crate::witness::Listing>, Vec<String>)> {
        self.rt.block_on(self.listing_upto_async(size, hash, head))
    }

    fn vouch_holds(&self, vouch: &crate::vouch::Vouch) -> Result<bool> {
        self.rt.block_on(self.vouch_holds_async(vouch))
    }

    fn windows_vouched(
        &self,
        first: u64,
        vouch: &crate::vouch::Vouch,
        tail: Option<&[(String, Option<String>)]>,
    ) -> Result<(u64, crate::store::Windows<'_>)> {
        self.windows_vouched_s3(first, vouch, tail)
    }

    fn last(&self) -> Result<Option<StoredRecord>> {
        self.rt.block_on(async {
            let Some(key) = self.last_key().await? else { return Ok(None) };
            let bytes = self.get(&key).await?.with_context(|| format!("s3://{}/{key} is missing", self.bucket))?;
            Ok(Some(StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes: bytes.into() }))
        })
    }

    fn recent(&self, n: usize) -> Result<Vec<StoredRecord>> {
        self.rt.block_on(async {
            let Some(key) = self.last_key().await? else { return Ok(Vec::new()) };
            let last = self.sequence_of(&key)?;
            let mut out = Vec::with_capacity(n);
            for seq in (last + 1).saturating_sub(n as u64)..=last {
                let key = self.record_key(seq);
                // A sequence below the tail without an object is a gap verification reports; the
                // appender looks at what is there.
                if let Some(bytes) = self.get(&key).await? {
                    out.push(StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes: bytes.into() });
                }
            }
            Ok(out)
        })
    }

    fn advance_head(&mut self, sequence: u64, head: &[u8]) -> Result<()> {
        self.rt.block_on(self.put_head(sequence, head))
    }

    fn slotted(&self) -> bool {
        true
    }

    fn slots_from(&self, sequence: u64) -> Result<Vec<StoredRecord>> {
        self.rt.block_on(self.slots_after(sequence, Vec::new()))
    }

    /// The record at the checkpoint, taken from its latest version when that hashes to the
    /// checkpoint (the record's bytes, whichever version holds them: no listing of the key's
    /// versions, which is O(bucket) on some S3 implementations, issue 36); its first version
    /// otherwise. Then the slots after it.
    fn slots_at(&self, checkpoint: &crate::store::Checkpoint) -> Result<Vec<StoredRecord>> {
        self.rt.block_on(async {
            let key = self.record_key(checkpoint.sequence);
            let record = match self.get(&key).await? {
                Some(latest) if crate::dsse::sha256_hex(&latest) == checkpoint.hash => Some(latest),
                _ => self.get_first(&key).await?,
            };
            let Some(record) = record else { return Ok(Vec::new()) };
            let first = StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes: record.into() };
            self.slots_after(checkpoint.sequence + 1, vec![first]).await
        })
    }

    fn head(&self) -> Result<Option<StoredRecord>> {
        let key = self.head_key();
        let bytes = self.rt.block_on(self.get(&key))?;
        Ok(bytes.map(|bytes| StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes: bytes.into() }))
    }

    fn integrity(&self) -> Result<StoreIntegrity> {
        self.rt.block_on(self.integrity_async(&Default::default(), &Default::default(), None))
    }

    fn append(&mut self, first_sequence: u64, _previous: &str, records: &[Vec<u8>], head: &[u8]) -> Result<()> {
        // Compare-and-swap on the next sequence key: `If-None-Match: *` makes the second writer
        // of a sequence fail with 412 instead of forking the chain; it gets [`HeadMoved`] and
        // retries on the new head. The head follows with `If-Match` on the version it replaces,
        // and is never moved backwards by a slower writer.
        let last = first_sequence + records.len() as u64 - 1;
        self.rt.block_on(async {
            for (i, bytes) in records.iter().enumerate() {
                let key = self.record_key(first_sequence + i as u64);
                let res = self
                    .client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .if_none_match("*")
                    .content_type("application/json")
                    .object_lock_mode(ObjectLockMode::Compliance)
                    .object_lock_retain_until_date(self.retain_until())
                    .body(ByteStream::from(bytes.clone()))
                    .send()
                    .await;
                match res {
                    Ok(_) => {}
                    // The SDK retried a write whose answer was lost: the object there may be this
                    // very record (same bytes: signatures are deterministic), not another writer's.
                    Err(e) if conflict(&e) && self.get(&key).await?.as_deref() == Some(&bytes[..]) => {}
                    Err(e) if i == 0 && conflict(&e) => return Err(HeadMoved(format!("s3://{}/{key}", self.bucket)).into()),
                    Err(e) if conflict(&e) => return Err(aws_error(e)).with_context(|| format!("cannot write s3://{}/{key}", self.bucket)),
                    Err(e) => {
                        return Err(aws_error(e).context(WriteUncertain(format!("cannot write s3://{}/{key}", self.bucket))));
                    }
                }
            }
            self.put_head(last, head).await.map_err(|e| {
                anyhow::Error::from(HeadBehind {
                    location: format!("s3://{}/{}", self.bucket, self.head_key()),
                    sequence: last,
                    cause: format!("{e:#}"),
                })
            })
        })
    }
}

/// The bucket's Object Lock default retention (mode, days), `None` when it has none.
async fn default_retention(client: &Client, bucket: &str) -> Result<Option<(ObjectLockRetentionMode, u32)>> {
    let cfg = client
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
        .map_err(aws_error)
        .with_context(|| format!("s3://{bucket} has no Object Lock configuration"))?;
    let Some(r) = cfg.object_lock_configuration().and_then(|c| c.rule()).and_then(|r| r.default_retention()) else { return Ok(None) };
    let days = match (r.days(), r.years()) {
        (Some(d), _) if d > 0 => d as u32,
        (_, Some(y)) if y > 0 => y as u32 * 365,
        _ => 0,
    };
    Ok(r.mode().cloned().map(|m| (m, days)))
}

/// An object's bytes, or `None` when there is no such key.
pub(crate) async fn get_object(client: &Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
    get_object_at_most(client, bucket, key, None).await
}

/// [`get_object`], refusing (before reading its body) an object of more than `max` bytes as
/// the GET answers it: a size read from an earlier listing does not bound a version written
/// since.
pub(crate) async fn get_object_at_most(client: &Client, bucket: &str, key: &str, max: Option<u64>) -> Result<Option<Vec<u8>>> {
    let too_big = |n: String, max: u64| anyhow::anyhow!("s3://{bucket}/{key} holds {n} bytes, more than the {max} read at most");
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            if let Some(max) = max {
                let said = out.content_length().and_then(|n| u64::try_from(n).ok());
                if !said.is_some_and(|n| n <= max) {
                    return Err(too_big(said.map_or_else(|| "an unstated number of".to_string(), |n| n.to_string()), max));
                }
            }
            let bytes = out.body.collect().await.with_context(|| format!("cannot read s3://{bucket}/{key}"))?.into_bytes().to_vec();
            match max {
                Some(max) if bytes.len() as u64 > max => Err(too_big(bytes.len().to_string(), max)),
                _ => Ok(Some(bytes)),
            }
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(aws_error(e)).with_context(|| format!("cannot get s3://{bucket}/{key}")),
    }
}

/// Record objects read at once from S3 (each window's reads, and `load`).
pub const READ_CONCURRENCY: usize = 64;

/// Every key under `prefix`, across pages.
pub(crate) async fn list_keys(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>> {
    Ok(list_keys_sized(client, bucket, prefix).await?.into_iter().map(|(k, _)| k).collect())
}

/// Every key under `prefix` with its object's size in bytes when the listing gives one, across
/// pages.
pub(crate) async fn list_keys_sized(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<(String, Option<u64>)>> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("cannot list s3://{bucket}/{prefix}"))?;
        keys.extend(page.contents().iter().filter_map(|o| Some((o.key()?.to_string(), o.size().and_then(|n| u64::try_from(n).ok())))));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(keys)
}

/// Whether a 404 answer names a delete marker (`x-amz-delete-marker: true`).
fn delete_marker<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    e.raw_response().and_then(|r| r.headers().get("x-amz-delete-marker")).is_some_and(|v| v == "true")
}

/// 412 Precondition Failed, or 409 ConditionalRequestConflict (a concurrent conditional write).
pub(crate) fn conflict<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(e.raw_response().map(|r| r.status().as_u16()), Some(412) | Some(409))
}

impl S3Store {
    /// Opens the store of a bucket that must already have Object Lock in COMPLIANCE mode with a
    /// default retention: new records are retained for that many days. A bucket without it is
    /// not an evidence store and is refused.
    pub fn open_worm(client: Client, bucket: &str, prefix: &str) -> Result<S3Store> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a tokio runtime")?;
        let cfg = match rt.block_on(client.get_object_lock_configuration().bucket(bucket).send()) {
            Ok(cfg) => cfg,
            // No bucket at all: the stores were never created (or the name is wrong).
            Err(e) if e.as_service_error().and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::code(s)) == Some("NoSuchBucket") => {
                return Err(aws_error(e)).with_context(|| format!("the evidence store s3://{bucket} does not exist"))
            }
            // An answer without a configuration; a timeout or a lost connection is not one.
            Err(e) if e.as_service_error().is_some() => {
                return Err(aws_error(e)).with_context(|| {
                    format!("s3://{bucket} has no Object Lock configuration: it is not an evidence store (run `cargo xtask bootstrap --stores`)")
                })
            }
            Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot read the Object Lock configuration of s3://{bucket}")),
        };
        let rule = cfg.object_lock_configuration().and_then(|c| c.rule()).and_then(|r| r.default_retention());
        let days = match rule {
            Some(r) if r.mode() == Some(&ObjectLockRetentionMode::Compliance) => match (r.days(), r.years()) {
                (Some(d), _) if d > 0 => d as u32,
                (_, Some(y)) if y > 0 => y as u32 * 365,
                _ => bail!("s3://{bucket}: the COMPLIANCE default retention has no period"),
            },
            _ => bail!("s3://{bucket}: the default retention is not COMPLIANCE mode: records could be deleted"),
        };
        drop(rt);
        S3Store::new(client, bucket, prefix, days)
    }

    /// Retention of new records, in days.
    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    /// This store, refused when its records would be retained for fewer than `floor` days (the
    /// governance minimum: the retention the log archive declares).
    pub fn require_floor(self, floor: u32) -> Result<S3Store> {
        if self.retention_days < floor {
            return Err(crate::Refused(format!(
                "s3://{}: the default COMPLIANCE retention is {} days, below the retention floor of {floor} days: records would become deletable early",
                self.bucket, self.retention_days
            ))
            .into());
        }
        Ok(self)
    }

    /// Retention findings against `floor` days: the bucket's Object Lock default (mode and
    /// period), and the retain-until dates of the head and of the last record, each at least
    /// `floor` days after the object was written. (location, what is wrong)
    pub fn retention_findings(&self, floor: u32) -> Result<Vec<(String, String)>> {
        self.rt.block_on(async {
            let mut out = Vec::new();
            let place = format!("s3://{}", self.bucket);
            match default_retention(&self.client, &self.bucket).await {
                Ok(Some((ObjectLockRetentionMode::Compliance, days))) if days >= floor => {}
                Ok(Some((mode, days))) => out.push((
                    place.clone(),
                    format!("the default retention is {} for {days} days, below the floor of COMPLIANCE for {floor} days", mode.as_str()),
                )),
                Ok(None) => out.push((place.clone(), "no Object Lock default retention".into())),
                Err(e) => out.push((place.clone(), format!("{e:#}"))),
            }
            let mut keys = vec![self.head_key()];
            keys.extend(self.last_key().await?);
            for key in keys {
                let got = match self.client.head_object().bucket(&self.bucket).key(&key).send().await {
                    Ok(o) => o,
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => continue,
                    Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot stat s3://{}/{key}", self.bucket)),
                };
                let written = got.last_modified().map(|d| d.secs()).unwrap_or_default();
                let until = got.object_lock_retain_until_date().map(|d| d.secs());
                let mode = got.object_lock_mode().map(|m| m.as_str().to_string());
                let floor_secs = i64::from(floor) * 86_400;
                match (mode.as_deref(), until) {
                    // A day of slack: LocalStack and S3 round dates.
                    (Some("COMPLIANCE"), Some(u)) if u - written >= floor_secs - 86_400 => {}
                    (mode, until) => out.push((
                        format!("s3://{}/{key}", self.bucket),
                        format!(
                            "retained {} until {}: less than the floor of COMPLIANCE for {floor} days after it was written",
                            mode.unwrap_or("without a lock"),
                            until.map(|u| DateTime::from_secs(u).to_string()).unwrap_or_else(|| "-".into())
                        ),
                    )),
                }
            }
            Ok(out)
        })
    }

    /// Replaces the head with the checkpoint of `sequence` unless a newer head is already there.
    async fn put_head(&self, sequence: u64, head: &[u8]) -> Result<()> {
        let key = self.head_key();
        for _ in 0..100 {
            let current = match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
                Ok(out) => {
                    let etag = out.e_tag().map(String::from);
                    let bytes = out.body.collect().await.with_context(|| format!("cannot read s3://{}/{key}", self.bucket))?;
                    // A head that is not a checkpoint (garbage), or names no record the store has
                    // (a stranger's), is replaced: it is no head.
                    if let Ok((_, cp)) = crate::store::decode_checkpoint(&bytes.into_bytes(), &format!("s3://{}/{key}", self.bucket)) {
                        if cp.sequence >= sequence
                            && self.get(&self.record_key(cp.sequence)).await?.is_some_and(|r| crate::dsse::sha256_hex(&r) == cp.hash)
                        {
                            return Ok(());
                        }
                    }
                    etag
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
                Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot get s3://{}/{key}", self.bucket)),
            };
            let req = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type("application/json")
                .object_lock_mode(ObjectLockMode::Compliance)
                .object_lock_retain_until_date(self.retain_until())
                .body(ByteStream::from(head.to_vec()));
            let req = match &current {
                Some(etag) => req.if_match(etag),
                None => req.if_none_match("*"),
            };
            match req.send().await {
                Ok(_) => return Ok(()),
                Err(e) if conflict(&e) => continue,
                Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot write s3://{}/{key}", self.bucket)),
            }
        }
        bail!("s3://{}/{key}: the head kept moving under 100 attempts", self.bucket)
    }
}

/// The first (oldest) of a key's versions `(id, last modified)` as listed (newest first), when
/// there is more than one.
fn first_version(list: &[(String, i128)]) -> Option<String> {
    if list.len() < 2 {
        return None;
    }
    oldest_version(list)
}

/// The record keys of `versions` in order, each with the id of its first version. A key whose
/// latest version is a delete marker (`deleted`) is left out, as a listing of objects leaves it
/// out (the integrity check reports the marker); the others are read by their first version.
fn first_versions(
    versions: &std::collections::BTreeMap<String, Vec<(String, i128)>>,
    deleted: &std::collections::BTreeSet<String>,
) -> Vec<(String, Option<String>)> {
    versions
        .iter()
        .filter(|(k, _)| !deleted.contains(*k))
        .map(|(k, list)| (k.clone(), first_version(list).or_else(|| list.first().map(|(id, _)| id.clone()))))
        .collect()
}

/// The id of the oldest of a key's versions (newest first, as listed), `None` without one.
fn oldest_version(list: &[(String, i128)]) -> Option<String> {
    // The oldest time; among equal times the one listed last (S3 lists newest first).
    list.iter().rev().min_by_key(|(_, t)| *t).map(|(id, _)| id.clone())
}

impl S3Store {
    /// Every version `(id, last modified)` of each key under `prefix` after the key `after`
    /// (one listing across pages, newest first per key), and the keys whose latest version is a
    /// delete marker.
    async fn versions_of(
        &self,
        prefix: &str,
        after: Option<String>,
    ) -> Result<(std::collections::BTreeMap<String, Vec<(String, i128)>>, std::collections::BTreeSet<String>)> {
        let listed = versions::list(&self.client, &self.bucket, prefix, after, None, self.page_size).await?;
        let mut versions: std::collections::BTreeMap<String, Vec<(String, i128)>> = Default::default();
        for v in listed.versions {
            let Some(id) = v.id else { continue };
            versions.entry(v.key).or_default().push((id, v.modified));
        }
        let deleted = listed.markers.into_iter().filter(|m| m.latest).map(|m| m.key).collect();
        Ok((versions, deleted))
    }

    /// The record keys after the key `after` (all with `None`), in order, each with the id of
    /// its first version (one listing of the versions, across pages).
    async fn record_versions_after(&self, after: Option<String>) -> Result<Vec<(String, Option<String>)>> {
        let prefix = format!("{}records/", self.prefix);
        let (versions, deleted) = self.versions_of(&prefix, after).await?;
        Ok(first_versions(&versions, &deleted))
    }

    /// Every version and delete marker under the prefix: record objects must have exactly one
    /// version and no delete marker; every version of the head is an earlier signed checkpoint.
    /// With `vouch` (a witnessed listing, [`crate::vouch`]), only the record keys after the
    /// witnessed size and the head versions newer than the witnessed one.
    async fn integrity_async(
        &self,
        seen: &std::collections::BTreeSet<String>,
        held: &crate::store::HeldHeads,
        vouch: Option<&crate::vouch::Vouch>,
    ) -> Result<StoreIntegrity> {
        let mut out = StoreIntegrity::default();
        let mut versions: std::collections::BTreeMap<String, Vec<(String, i128)>> = std::collections::BTreeMap::new();
        // Earlier head versions with their ETag as listed.
        let mut head_versions: Vec<(String, Option<String>)> = Vec::new();
        let records_prefix = format!("{}records/", self.prefix);
        let head_key = self.head_key();
        // Two listings side by side: the head's versions and the records'. A head version is
        // never changed, and a new one is listed before every older one (newest first): once a
        // page holds a version this verifier judged before (`seen`, resumed in this process),
        // every older version was listed then, and the head's listing stops there.
        let location_of = |id: &str| format!("s3://{}/{head_key} (version {id})", self.bucket);
        // The witnessed head version and every older one were judged by the witness.
        let vouched_head = vouch.map(|v| v.head_version.as_str());
        let judged_before = |v: &versions::Version| {
            v.key == head_key && v.id.as_deref().is_some_and(|id| seen.contains(&location_of(id)) || Some(id) == vouched_head)
        };
        let stop: versions::Stop<'_> = (!seen.is_empty() || vouch.is_some()).then_some(&judged_before);
        let records_after = vouch.map(|v| self.record_key(v.size - 1));
        let (heads, records) = tokio::join!(
            versions::list(&self.client, &self.bucket, &head_key, None, stop, self.page_size),
            versions::list(&self.client, &self.bucket, &records_prefix, records_after, None, self.page_size)
        );
        let (heads, records) = (heads?, records?);
        // The witness's job keeps this listing for its note (a full listing of the records only).
        if vouch.is_none() {
            self.keep_listed(&heads, &records);
        }
        let mut past_vouched = false;
        let mut deleted_records = std::collections::BTreeSet::new();
        for listed in [heads, records] {
            for m in &listed.markers {
                if m.latest && m.key.starts_with(&records_prefix) {
                    deleted_records.insert(m.key.clone());
                }
                if m.key.starts_with(&records_prefix) || m.key == head_key {
                    out.problems.push((
                        format!("s3://{}/{}", self.bucket, m.key),
                        format!("delete marker {} over an evidence object", m.id.as_deref().unwrap_or("-")),
                    ));
                }
            }
            for v in listed.versions {
                if v.key.starts_with(&records_prefix) {
                    versions.entry(v.key).or_default().push((v.id.unwrap_or_else(|| "null".into()), v.modified));
                } else if v.key == head_key {
                    // Listed newest first: the witnessed version and those after it are older.
                    past_vouched |= v.id.is_some() && v.id.as_deref() == vouched_head;
                    if past_vouched || v.latest {
                        continue;
                    }
                    if let Some(id) = v.id {
                        head_versions.push((id, v.etag));
                    }
                }
            }
        }
        out.record_objects = Some(versions.len() as u64 + vouch.map_or(0, |v| v.size));
        if vouch.is_some() {
            out.tail_keys = Some(first_versions(&versions, &deleted_records));
        }
        // A record key's record is its first version (written with If-None-Match); any version
        // written over it later is a foreign object (quarantined by verification).
        let later: Vec<(String, Option<String>)> = versions
            .into_iter()
            .filter_map(|(key, list)| first_version(&list).map(|first| (key, first, list)))
            .flat_map(|(key, first, list)| list.into_iter().filter(move |(id, _)| *id != first).map(move |(id, _)| (key.clone(), Some(id))))
            .collect();
        for (r, (key, id)) in self.get_all(&later).await?.into_iter().zip(&later) {
            let id = id.clone().unwrap_or_default();
            let location = format!("s3://{}/{key} (version {id})", self.bucket);
            out.later_versions.push((StoredRecord { location, bytes: r.bytes }, id));
        }
        // Earlier heads not checked yet: the held ones the listing vouches for (see
        // [`crate::mirror::heads`]), the others read [`READ_CONCURRENCY`] at a time; all kept in
        // listing order.
        let location = |id: &str| format!("s3://{}/{head_key} (version {id})", self.bucket);
        let todo: Vec<(String, Option<String>)> = head_versions.into_iter().filter(|(id, _)| !seen.contains(&location(id))).collect();
        let vouched = |id: &str, etag: &Option<String>| {
            let bytes = held.get(&location(id))?;
            crate::mirror::heads::etag_vouches(etag.as_deref()?, bytes).then(|| bytes.clone())
        };
        let from_held: Vec<Option<bytes::Bytes>> = todo.iter().map(|(id, etag)| vouched(id, etag)).collect();
        let wanted: Vec<(String, Option<String>)> =
            todo.iter().zip(&from_held).filter(|(_, h)| h.is_none()).map(|((id, _), _)| (head_key.clone(), Some(id.clone()))).collect();
        out.heads_read = wanted.len() as u64;
        let mut read = self.get_all(&wanted).await?.into_iter();
        let mut got = Vec::with_capacity(todo.len());
        for ((id, _), h) in todo.iter().zip(from_held) {
            let bytes = match h {
                Some(b) => b,
                None => read.next().context("a head version read went missing")?.bytes,
            };
            // Each earlier head is named by its version.
            got.push(StoredRecord { location: location(id), bytes });
        }
        out.earlier_heads.extend(got);
        Ok(out)
    }
}

/// The landing zone's release store: content-addressed archives under
/// `releases/<digest>/release.tar` with their `manifest.json`, each written once
/// (`If-None-Match: *`) into a bucket with COMPLIANCE Object Lock. A reader trusts nothing but
/// the digest: the archive is hashed before it is used.
pub struct ReleaseStore {
    client: Client,
    bucket: String,
    rt: tokio::runtime::Runtime,
}

impl ReleaseStore {
    pub fn new(client: Client, bucket: &str) -> Result<ReleaseStore> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a tokio runtime")?;
        Ok(ReleaseStore { client, bucket: bucket.into(), rt })
    }

    pub fn describe(&self) -> String {
        format!("s3://{}/releases/", self.bucket)
    }

    fn key(digest: &str, name: &str) -> String {
        format!("releases/{digest}/{name}")
    }

    /// Uploads a release; an identical release already stored is fine, a different object
    /// under the same digest is reported (it cannot hash to the digest).
    pub fn publish(&self, digest: &str, archive: &[u8], manifest: &[u8]) -> Result<bool> {
        if crate::dsse::sha256_hex(archive) != digest {
            bail!("the archive does not hash to release {digest}");
        }
        self.rt.block_on(async {
            let mut new = false;
            for (name, bytes) in [(crate::release::ARCHIVE_NAME, archive), (crate::release::MANIFEST_NAME, manifest)] {
                let key = Self::key(digest, name);
                let res = self
                    .client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .if_none_match("*")
                    .body(ByteStream::from(bytes.to_vec()))
                    .send()
                    .await;
                match res {
                    Ok(_) => new |= name == crate::release::ARCHIVE_NAME,
                    Err(e) if conflict(&e) => {
                        let stored = self.get(&key).await?.unwrap_or_default();
                        if name == crate::release::ARCHIVE_NAME && crate::dsse::sha256_hex(&stored) != digest {
                            bail!("s3://{}/{key} exists and does not hash to the release digest: the store was tampered with", self.bucket);
                        }
                        if name == crate::release::MANIFEST_NAME && stored != bytes {
                            bail!(
                                "s3://{}/{key} already holds a different manifest for release {digest}: a published manifest is \
                                 never replaced (the author's release record signs the first one's sha256)",
                                self.bucket
                            );
                        }
                    }
                    Err(e) => return Err(aws_error(e)).with_context(|| format!("cannot write s3://{}/{key}", self.bucket)),
                }
            }
            Ok(new)
        })
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        get_object(&self.client, &self.bucket, key).await
    }

    /// Every stored release digest starting with `prefix` (lowercase hex).
    pub fn find(&self, prefix: &str) -> Result<Vec<String>> {
        self.rt.block_on(async {
            let suffix = format!("/{}", crate::release::ARCHIVE_NAME);
            let mut out: Vec<String> = list_keys(&self.client, &self.bucket, &format!("releases/{prefix}"))
                .await?
                .iter()
                .filter_map(|k| k.strip_prefix("releases/").and_then(|k| k.strip_suffix(&suffix)).map(String::from))
                .collect();
            out.sort();
            Ok(out)
        })
    }

    /// The archive bytes of `digest` as stored (not yet checked: the caller hashes them).
    pub fn fetch(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        self.rt.block_on(self.get(&Self::key(digest, crate::release::ARCHIVE_NAME)))
    }

    /// The manifest of `digest` as stored.
    pub fn manifest(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        self.rt.block_on(self.get(&Self::key(digest, crate::release::MANIFEST_NAME)))
    }
}
