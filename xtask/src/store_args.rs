//! Which evidence store and trust root a command reads: `--store` (the landing zone's, a local
//! file, or an S3 bucket) with its witness store, and `--trust-root`/`--pin` (default: the
//! landing zone's pinned genesis register). Shared by `evidence` and `evidence provenance`.
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lz_evidence::witness::{WitnessStore, Witnessed};
use lz_evidence::{LocalStore, S3Store, Store, TrustRoot};

#[derive(clap::Args, Clone)]
pub struct StoreArgs {
    /// Where records live: the landing zone's evidence store (governance/stores.toml), a
    /// local file, or an S3 bucket named by --bucket
    #[arg(id = "store", long = "store", value_enum, default_value = "landing-zone")]
    pub(crate) store_kind: StoreKind,
    /// Chain name (local file .tools/evidence/<chain>.jsonl)
    #[arg(long, default_value = "main")]
    chain: String,
    /// Local JSON Lines file instead of the chain's default path
    #[arg(long)]
    file: Option<PathBuf>,
    /// S3 bucket of the chain (with `--store s3`)
    #[arg(long, default_value = "lz-evidence")]
    bucket: String,
    /// Key prefix inside the bucket (empty or ending in '/')
    #[arg(long, default_value = "")]
    prefix: String,
    /// S3 endpoint (LocalStack by default)
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// Access key id (the account) for the S3 endpoint
    #[arg(long, default_value = "000000000000")]
    access_key_id: String,
    /// AWS region of the bucket
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// COMPLIANCE retention of a new S3 bucket's records, in days (default and minimum: the
    /// retention the log archive declares; an existing store's retention is never changed)
    #[arg(long)]
    retention_days: Option<u32>,
    /// The witness store of an S3 or local chain (the landing zone's, and its pulled copy's, is
    /// the one governance/stores.toml names)
    #[arg(long)]
    witness_bucket: Option<String>,
}

/// What the verifier trusts. Default for a store: the landing zone's genesis register, pinned in
/// governance/stores.toml (never the working tree's register file); a bundle has no default.
#[derive(clap::Args, Clone, Default)]
pub struct TrustArgs {
    /// Identities register to trust: FILE, or FILE@REV for the file as committed at a git revision
    #[arg(long = "trust-root", value_name = "FILE[@REV]")]
    pub(crate) trust_root: Option<String>,
    /// Pinned sha256 fingerprint of a public key (key id) or of a register text
    #[arg(long = "pin", value_name = "FINGERPRINT")]
    pub(crate) pins: Vec<String>,
}

impl TrustArgs {
    /// The trust root given, or `None` when neither flag was given.
    pub(crate) fn given(&self, root: &Path) -> Result<Option<TrustRoot>> {
        let mut trust = match &self.trust_root {
            Some(spec) => Some(TrustRoot::from_spec(root, spec)?),
            None => None,
        };
        if !self.pins.is_empty() {
            let pins = TrustRoot::pinned(&self.pins)?;
            trust = Some(match trust {
                Some(t) => t.with_pins(pins),
                None => pins,
            });
        }
        Ok(trust)
    }

    /// The trust root given, or the landing zone's: the genesis register pinned in
    /// `governance/stores.toml` (never the working tree's register file).
    pub(crate) fn or_repository(&self, root: &Path) -> Result<TrustRoot> {
        match self.given(root)? {
            Some(t) => Ok(t),
            None => landing_zone_trust(root),
        }
    }
}

/// The landing zone's trust root: its pinned genesis register.
fn landing_zone_trust(root: &Path) -> Result<TrustRoot> {
    lz_promote::stores::Stores::load(root, lz_platform::localstack::ENDPOINT)?.trust_root()
}

/// Where verification remembers the last head it accepted for each store.
pub(crate) fn cache_dir(root: &Path) -> PathBuf {
    root.join(".tools/evidence/verified")
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    LandingZone,
    Local,
    S3,
}

impl StoreArgs {
    pub(crate) fn local(&self, root: &Path) -> LocalStore {
        match &self.file {
            Some(f) => LocalStore::new(f),
            None => LocalStore::default_for(root, &self.chain),
        }
    }

    pub(crate) fn client(&self) -> Result<lz_evidence::aws_sdk_s3::Client> {
        // A store named on the command line, in the account of --access-key-id (LocalStack names
        // the account by the key): that account's own role, through lz_platform::reach.
        let session = lz_platform::reach::session("store");
        lz_platform::reach::account(&self.endpoint, &self.access_key_id, &self.region, lz_platform::reach::STORE_ROLE, &session).map(|a| a.s3())
    }

    /// The bucket's store as an evidence store: COMPLIANCE Object Lock at or above the floor.
    pub(crate) fn s3(&self, root: &Path) -> Result<S3Store> {
        let floor = lz_promote::stores::retention_floor(root)?;
        S3Store::open_worm(self.client()?, &self.bucket, &self.prefix)?.require_floor(floor)
    }

    /// The S3 store verification looks at (not refused for a low retention: verification reports
    /// it) and the retention floor; `None` for a local file.
    pub(crate) fn retention_subject(&self, root: &Path) -> Result<Option<(S3Store, u32)>> {
        let floor = || lz_promote::stores::retention_floor(root);
        Ok(match self.store_kind {
            StoreKind::Local => None,
            StoreKind::S3 => Some((S3Store::open_worm(self.client()?, &self.bucket, &self.prefix)?, floor()?)),
            StoreKind::LandingZone => {
                let lz = landing_zone(root)?;
                Some((S3Store::open_worm(lz.s3()?, &lz.evidence_bucket, "")?, lz.retention_floor()?))
            }
        })
    }

    /// Creates the bucket (or raises its retention) with `--retention-days`, refused below the floor.
    pub(crate) fn create_s3(&self, root: &Path) -> Result<()> {
        let floor = lz_promote::stores::retention_floor(root)?;
        let days = self.retention_days.unwrap_or(floor);
        if days < floor {
            return Err(lz_evidence::Refused(format!(
                "--retention-days {days} is below the retention floor of {floor} days (the retention the log archive declares in {})",
                lz_promote::stores::STORES_FILE
            ))
            .into());
        }
        let s3 = S3Store::new(self.client()?, &self.bucket, &self.prefix, days)?;
        s3.ensure_bucket()
    }

    /// The chain's witness store: the landing zone's for its store and for its pulled copy
    /// (`--store local` on the default chain of a checkout with stores), `--witness-bucket` for
    /// another store (created at the floor's retention when `create`), none otherwise.
    pub(crate) fn witness(&self, root: &Path, create: bool) -> Result<Option<WitnessStore>> {
        if let Some(b) = &self.witness_bucket {
            if self.store_kind == StoreKind::LandingZone {
                bail!("the landing zone's witness store is the one {} names: --witness-bucket applies to other stores only", lz_promote::stores::STORES_FILE);
            }
            return Ok(Some(if create {
                WitnessStore::create(self.client()?, b, lz_promote::stores::retention_floor(root)?)?
            } else {
                WitnessStore::open(self.client()?, b)?
            }));
        }
        let pulled_copy = self.store_kind == StoreKind::Local
            && self.file.is_none()
            && self.chain == "main"
            && root.join(lz_promote::stores::STORES_FILE).exists();
        if self.store_kind == StoreKind::LandingZone || pulled_copy {
            return Ok(Some(landing_zone(root)?.witness()?));
        }
        Ok(None)
    }

    /// The latest witnessed checkpoint of the chain (see [`StoreArgs::witness`]).
    pub(crate) fn witnessed(&self, root: &Path) -> Result<Vec<Witnessed>> {
        Ok(match self.witness(root, false)? {
            Some(w) => w.latest()?.into_iter().collect(),
            None => Vec::new(),
        })
    }

    /// The store as change control names it (replays admissions on it); `None` for another
    /// S3 bucket.
    pub(crate) fn evidence_at(&self, root: &Path) -> Result<Option<lz_promote::ledger::EvidenceAt>> {
        Ok(match self.store_kind {
            StoreKind::LandingZone => Some(lz_promote::ledger::EvidenceAt::S3(landing_zone(root)?)),
            StoreKind::Local => Some(lz_promote::ledger::EvidenceAt::Local(self.local(root).path().to_path_buf())),
            StoreKind::S3 => None,
        })
    }

    pub(crate) fn open(&self, root: &Path) -> Result<Box<dyn Store>> {
        Ok(match self.store_kind {
            StoreKind::LandingZone => Box::new(landing_zone(root)?.evidence()?),
            StoreKind::Local => Box::new(self.local(root)),
            StoreKind::S3 => Box::new(self.s3(root)?),
        })
    }
}

/// The landing zone's stores at its endpoint (`crate::context::endpoint`).
pub(crate) fn landing_zone(root: &Path) -> Result<lz_promote::stores::Stores> {
    let endpoint = crate::context::endpoint(root)?;
    lz_promote::stores::Stores::load(root, &endpoint)
}
