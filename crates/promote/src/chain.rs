//! The evidence chain as change control names it: where it lives ([`EvidenceAt`]) and a verified
//! record of it ([`Record`]), with the one reading of records every layer shares (the author of
//! a release, [`author_of`]). A leaf: the ledger, the verified chain, the release store and the
//! decisions build on it.

use std::path::PathBuf;

use anyhow::Result;
use lz_evidence::details::{DeploymentDetails, Details};
use lz_evidence::record::Kind;
use lz_evidence::record::format_time;
use lz_evidence::{Identity, LocalStore, Store};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

/// A verified record, with its signer as registered at the record's place in the chain.
///
/// Its serialized form is the record as a page shows it (the audit report's record view
/// flattens it): the signer by display name, kind, group, roles and key id (never the key), the
/// time in RFC 3339 UTC, and no details (each reader shows the kind-specific details its own
/// way).
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub sequence: u64,
    pub kind: Kind,
    pub identity: String,
    /// The signer's register entry (kind, group, roles) in force when the record was appended.
    #[serde(serialize_with = "shown_signer")]
    pub signer: Identity,
    #[serde(serialize_with = "shown_time")]
    pub time: OffsetDateTime,
    pub release: String,
    pub environment: Option<String>,
    pub account: Option<String>,
    pub plan_digest: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    /// The kind-specific details, typed (`lz_evidence::details`): parsed once, by the verifier.
    #[serde(skip)]
    pub details: Details,
}

/// The signer's register entry as a page shows it.
fn shown_signer<S: Serializer>(signer: &Identity, s: S) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Shown<'a> {
        display_name: &'a str,
        kind: &'a str,
        group: &'a str,
        roles: Vec<&'static str>,
        keyid: &'a str,
    }
    Shown {
        display_name: &signer.display_name,
        kind: &signer.kind,
        group: &signer.group,
        roles: signer.roles.iter().map(|r| r.as_str()).collect(),
        keyid: &signer.keyid,
    }
    .serialize(s)
}

fn shown_time<S: Serializer>(time: &OffsetDateTime, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*time))
}

impl Record {
    /// The details of a deployment record (`None` for another kind).
    pub fn deployment(&self) -> Option<&DeploymentDetails> {
        self.details.deployment()
    }

    /// The outcome of a deployment record, `None` for another kind.
    pub fn deployment_outcome(&self) -> Option<&str> {
        self.deployment().map(|d| d.outcome.as_str())
    }

    /// The run a deployment record belongs to.
    pub fn run(&self) -> Option<&str> {
        self.deployment().and_then(|d| d.run.as_deref())
    }
}

/// Where an evidence chain lives: the landing zone's S3 evidence store, or a local file
/// (sandboxes, tests, the verified cache).
#[derive(Clone, Debug)]
pub enum EvidenceAt {
    Local(PathBuf),
    S3(crate::stores::Stores),
}

impl EvidenceAt {
    pub fn open(&self) -> Result<Box<dyn Store>> {
        Ok(match self {
            EvidenceAt::Local(p) => Box::new(LocalStore::new(p)),
            EvidenceAt::S3(s) => Box::new(s.evidence()?),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            EvidenceAt::Local(p) => p.display().to_string(),
            EvidenceAt::S3(s) => format!("s3://{}/", s.evidence_bucket),
        }
    }
}

/// The author of `release`: the signer of the first release record for its digest.
pub fn author_of<'a>(records: &'a [Record], release: &str) -> Option<&'a Record> {
    records
        .iter()
        .filter(|r| r.kind == Kind::Release && r.release == release)
        .min_by_key(|r| r.sequence)
}
