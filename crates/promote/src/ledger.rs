//! The evidence archive as change control reads and writes it: every record verified before it
//! is trusted, appends retried when another writer moved the chain head.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lz_evidence::dsse::Envelope;
use lz_evidence::record::{parse_time, Fields, Kind, Statement};
use lz_evidence::{EvidenceArchive, Identities, LocalStore, RecordRef, Signer, Store};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// A verified record.
#[derive(Clone, Debug)]
pub struct Record {
    pub sequence: u64,
    pub kind: Kind,
    pub identity: String,
    pub time: OffsetDateTime,
    pub release: String,
    pub environment: Option<String>,
    pub account: Option<String>,
    pub plan_digest: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub details: Map<String, Value>,
}

impl Record {
    pub fn detail_str(&self, key: &str) -> Option<&str> {
        self.details.get(key).and_then(Value::as_str)
    }
}

pub struct Ledger {
    path: PathBuf,
    identities: Identities,
}

impl Ledger {
    pub fn open(identities: &Path, evidence: &Path) -> Result<Ledger> {
        let identities = Identities::load(identities)?;
        Ok(Ledger {
            path: evidence.to_path_buf(),
            identities,
        })
    }

    pub fn identities(&self) -> &Identities {
        &self.identities
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every record, after verifying signatures, roles and the hash chain.
    pub fn records(&self) -> Result<Vec<Record>> {
        // A concurrent append may be mid-write; its line completes within milliseconds.
        let mut attempt = 0u64;
        loop {
            match self.records_once() {
                Err(e) if attempt < 20 && format!("{e:#}").contains("incomplete last line") => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10 * attempt));
                }
                other => return other,
            }
        }
    }

    fn records_once(&self) -> Result<Vec<Record>> {
        let store = LocalStore::new(&self.path);
        let stored = store.load()?;
        let report = lz_evidence::verify(&stored, store.checkpoint()?.as_ref(), &self.identities)?;
        if let Some(f) = &report.failure {
            bail!("the evidence archive {} fails verification: {f:?}; run `cargo xtask evidence verify`", self.path.display());
        }
        stored
            .iter()
            .map(|r| {
                let env: Envelope = serde_json::from_slice(&r.bytes)
                    .with_context(|| format!("{}: not a DSSE envelope", r.location))?;
                let payload = env
                    .payload_bytes()
                    .with_context(|| format!("{}: payload is not base64", r.location))?;
                let st: Statement = serde_json::from_slice(&payload)
                    .with_context(|| format!("{}: not an evidence statement", r.location))?;
                let kind = st.kind().with_context(|| {
                    format!(
                        "{}: unknown predicate type {}",
                        r.location, st.predicate_type
                    )
                })?;
                let p = st.predicate;
                Ok(Record {
                    sequence: p.chain.sequence,
                    kind,
                    identity: p.identity,
                    time: parse_time(&p.time).with_context(|| r.location.clone())?,
                    release: p.release,
                    environment: p.environment,
                    account: p.account,
                    plan_digest: p.plan_digest,
                    ticket: p.ticket,
                    reason: p.reason,
                    details: p.details,
                })
            })
            .collect()
    }

    /// Signs and appends one record; when a concurrent writer appended first, reopens and
    /// retries (the chain stays linear).
    pub fn append(&self, kind: Kind, fields: Fields, signer: &Signer) -> Result<RecordRef> {
        let mut last = None;
        for attempt in 0..50u64 {
            let mut archive =
                EvidenceArchive::open(LocalStore::new(&self.path), self.identities.clone())?;
            match archive.append(kind, fields.clone(), signer) {
                Ok(r) => return Ok(r),
                Err(e)
                    if format!("{e:#}").contains("chain head moved")
                        || format!("{e:#}").contains("incomplete last line") =>
                {
                    last = Some(e);
                    std::thread::sleep(std::time::Duration::from_millis(20 + attempt * 10));
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt")).context("the evidence chain kept moving")
    }
}

/// A signer from `--as NAME --key FILE`.
pub fn signer(name: &str, key: &Path) -> Result<Signer> {
    Signer::from_file(name, key)
}
