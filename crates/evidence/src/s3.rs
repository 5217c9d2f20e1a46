//! S3 store for a bucket with Object Lock in COMPLIANCE mode: one object per record
//! (`<prefix>records/<sequence:012>.json`) written with `If-None-Match: *` and a retention
//! date, plus `<prefix>head.json` (the checkpoint; every version is retained too).
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

use crate::store::{Checkpoint, Store, StoredRecord};

pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    retention_days: u32,
    rt: tokio::runtime::Runtime,
}

fn err(e: impl std::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", DisplayErrorContext(e))
}

impl S3Store {
    /// `prefix` is prepended to object keys (empty, or ending in `/`).
    pub fn new(client: Client, bucket: &str, prefix: &str, retention_days: u32) -> Result<S3Store> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a tokio runtime")?;
        if !(prefix.is_empty() || prefix.ends_with('/')) {
            bail!("S3 key prefix {prefix:?} must be empty or end with '/'");
        }
        Ok(S3Store { client, bucket: bucket.into(), prefix: prefix.into(), retention_days, rt })
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

    /// Creates the bucket with Object Lock enabled (if absent) and sets the default retention
    /// to COMPLIANCE for `retention_days`.
    pub fn ensure_bucket(&self) -> Result<()> {
        self.rt.block_on(async {
            if self.client.head_bucket().bucket(&self.bucket).send().await.is_err() {
                self.client
                    .create_bucket()
                    .bucket(&self.bucket)
                    .object_lock_enabled_for_bucket(true)
                    .send()
                    .await
                    .map_err(err)
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
                .map_err(err)
                .with_context(|| format!("cannot set COMPLIANCE retention on bucket {}", self.bucket))?;
            Ok(())
        })
    }

    fn retain_until(&self) -> DateTime {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        DateTime::from_secs((now + u64::from(self.retention_days) * 86_400) as i64)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.with_context(|| format!("cannot read s3://{}/{key}", self.bucket))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(err(e)).with_context(|| format!("cannot get s3://{}/{key}", self.bucket)),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(err(e)).with_context(|| format!("cannot stat s3://{}/{key}", self.bucket)),
        }
    }

    async fn record_keys(&self) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(format!("{}records/", self.prefix))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(err)
                .with_context(|| format!("cannot list s3://{}/{}records/", self.bucket, self.prefix))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(String::from)));
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }
}

impl Store for S3Store {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn load(&self) -> Result<Vec<StoredRecord>> {
        self.rt.block_on(async {
            let keys = self.record_keys().await?;
            let mut out = Vec::with_capacity(keys.len());
            for batch in keys.chunks(32) {
                let mut set = tokio::task::JoinSet::new();
                for (i, key) in batch.iter().enumerate() {
                    let client = self.client.clone();
                    let (bucket, key) = (self.bucket.clone(), key.clone());
                    set.spawn(async move {
                        let res = client.get_object().bucket(&bucket).key(&key).send().await.map_err(err);
                        let bytes = match res {
                            Ok(o) => o.body.collect().await.map(|b| b.into_bytes().to_vec()).map_err(anyhow::Error::from),
                            Err(e) => Err(e),
                        };
                        (i, key, bytes)
                    });
                }
                let mut got: Vec<(usize, String, Vec<u8>)> = Vec::new();
                while let Some(joined) = set.join_next().await {
                    let (i, key, bytes) = joined.context("S3 read task failed")?;
                    let bytes = bytes.with_context(|| format!("cannot get s3://{}/{key}", self.bucket))?;
                    got.push((i, key, bytes));
                }
                got.sort_by_key(|g| g.0);
                out.extend(got.into_iter().map(|(_, key, bytes)| StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes }));
            }
            Ok(out)
        })
    }

    fn last(&self) -> Result<Option<StoredRecord>> {
        self.rt.block_on(async {
            let key = match self.checkpoint_async().await? {
                Some(cp) => {
                    let mut seq = cp.sequence;
                    while self.exists(&self.record_key(seq + 1)).await? {
                        seq += 1;
                    }
                    self.record_key(seq)
                }
                None => match self.record_keys().await?.pop() {
                    Some(k) => k,
                    None => return Ok(None),
                },
            };
            let bytes = self.get(&key).await?.with_context(|| format!("s3://{}/{key} is missing", self.bucket))?;
            Ok(Some(StoredRecord { location: format!("s3://{}/{key}", self.bucket), bytes }))
        })
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.rt.block_on(self.checkpoint_async())
    }

    fn append(&mut self, first_sequence: u64, _previous: &str, records: &[Vec<u8>], checkpoint: &Checkpoint) -> Result<()> {
        // `If-None-Match: *` makes a second writer of the same sequence fail instead of forking.
        self.rt.block_on(async {
            for (i, bytes) in records.iter().enumerate() {
                let key = self.record_key(first_sequence + i as u64);
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .if_none_match("*")
                    .content_type("application/json")
                    .object_lock_mode(ObjectLockMode::Compliance)
                    .object_lock_retain_until_date(self.retain_until())
                    .body(ByteStream::from(bytes.clone()))
                    .send()
                    .await
                    .map_err(err)
                    .with_context(|| format!("cannot write s3://{}/{key}", self.bucket))?;
            }
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(self.head_key())
                .content_type("application/json")
                .object_lock_mode(ObjectLockMode::Compliance)
                .object_lock_retain_until_date(self.retain_until())
                .body(ByteStream::from(serde_json::to_vec_pretty(checkpoint)?))
                .send()
                .await
                .map_err(err)
                .with_context(|| format!("cannot write s3://{}/{}", self.bucket, self.head_key()))?;
            Ok(())
        })
    }
}

impl S3Store {
    async fn checkpoint_async(&self) -> Result<Option<Checkpoint>> {
        let key = self.head_key();
        match self.get(&key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("s3://{}/{key}:{}: bad checkpoint: {e}", self.bucket, e.line())),
        }
    }
}
