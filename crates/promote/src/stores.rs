//! The landing zone's release store and evidence store (`governance/stores.toml`): S3 buckets
//! with COMPLIANCE Object Lock in the hosting environment's account. Every CLI decision reads
//! evidence from the evidence store and releases from the release store; nothing that must
//! survive lives under `.tools/`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lz_evidence::{ReleaseStore, S3Store};
use serde::Deserialize;

use crate::declared::{BucketSpec, EVIDENCE_MODULE};

pub const STORES_FILE: &str = lz_repo::paths::STORES;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoresFile {
    environment: String,
    release_bucket: String,
    evidence_bucket: String,
    genesis_register_sha256: Option<String>,
    witness_account: String,
    witness_bucket: String,
    max_voucher_age_hours: Option<toml::Spanned<i64>>,
}

/// `max_voucher_age_hours` when `governance/stores.toml` does not state it.
pub const DEFAULT_MAX_VOUCHER_AGE_HOURS: u32 = 24;
/// The most `max_voucher_age_hours` may be: a week.
pub const MOST_VOUCHER_AGE_HOURS: u32 = 168;

/// Where the stores are and how to reach them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stores {
    pub environment: String,
    pub account_id: String,
    pub region: String,
    pub endpoint: String,
    pub release_bucket: String,
    pub evidence_bucket: String,
    /// sha256 of the genesis identities register, record 0 of the evidence store: the one
    /// trust root of the chain (the register in force anywhere else comes from the chain).
    pub genesis_register_sha256: String,
    /// The audit function's account, where the witness keeps its checkpoints.
    pub witness_account: String,
    /// The witness store: witnessed checkpoints of the evidence chain (C2SP signed notes), COMPLIANCE Object Lock.
    pub witness_bucket: String,
    /// How old (by the evidence store's server clock) the witness's latest note may be and still
    /// shorten a verification's listing of the store ([`crate::verified`]); an older note is not
    /// used and every object version is listed. 1 to 168 hours.
    pub max_voucher_age_hours: u32,
    /// The checkout whose governance names the stores (the retention floor is rendered from it).
    pub root: PathBuf,
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

impl Stores {
    /// The stores named by `governance/stores.toml` under `root`, reached at `endpoint`.
    pub fn load(root: &Path, endpoint: &str) -> Result<Stores> {
        let path = root.join(STORES_FILE);
        let text = lz_input::read_required(&path, lz_input::purpose(STORES_FILE))?;
        let f: StoresFile = lz_repo::parse_toml(&text, &path.display().to_string())?;
        if !lz_platform::ENVIRONMENTS.contains(&f.environment.as_str()) {
            bail!("{}: environment {:?} is not one of {}", path.display(), f.environment, lz_platform::ENVIRONMENTS.join(", "));
        }
        for b in [&f.release_bucket, &f.evidence_bucket, &f.witness_bucket] {
            if !valid_bucket(b) {
                bail!("{}: {b:?} is not a valid S3 bucket name", path.display());
            }
        }
        if f.release_bucket == f.evidence_bucket {
            bail!("{}: the release store and the evidence store must be different buckets", path.display());
        }
        if f.witness_bucket == f.evidence_bucket || f.witness_bucket == f.release_bucket {
            bail!("{}: the witness store must be a bucket of its own", path.display());
        }
        if f.witness_account.len() != 12 || !f.witness_account.bytes().all(|b| b.is_ascii_digit()) {
            bail!("{}: witness_account {:?} is not a 12-digit AWS account id", path.display(), f.witness_account);
        }
        let genesis = match f.genesis_register_sha256 {
            Some(g) if lz_evidence::record::is_digest(&g) => g,
            Some(g) => bail!("{}: genesis_register_sha256 {g:?} is not 64 lowercase hex digits", path.display()),
            None => bail!(
                "{}: missing genesis_register_sha256: the fingerprint of the genesis identities register that anchors the evidence store (its record 0)",
                path.display()
            ),
        };
        let max_voucher_age_hours = match &f.max_voucher_age_hours {
            None => DEFAULT_MAX_VOUCHER_AGE_HOURS,
            Some(h) => match u32::try_from(*h.get_ref()).ok().filter(|h| (1..=MOST_VOUCHER_AGE_HOURS).contains(h)) {
                Some(h) => h,
                None => bail!(
                    "{}:{}: max_voucher_age_hours = {} is not between 1 and {MOST_VOUCHER_AGE_HOURS} hours",
                    path.display(),
                    lz_repo::line_of(&text, h.span().start),
                    h.get_ref()
                ),
            },
        };
        let env = lz_platform::overlays::env_file(root, &f.environment)?;
        Ok(Stores {
            max_voucher_age_hours,
            root: root.to_path_buf(),
            environment: f.environment,
            account_id: env.account_id,
            region: env.region,
            endpoint: endpoint.to_string(),
            release_bucket: f.release_bucket,
            evidence_bucket: f.evidence_bucket,
            genesis_register_sha256: genesis,
            witness_account: f.witness_account,
            witness_bucket: f.witness_bucket,
        })
    }

    /// What every verification of the evidence store trusts: the pinned genesis register, and
    /// nothing from the working tree's identities register.
    pub fn trust_root(&self) -> Result<lz_evidence::TrustRoot> {
        lz_evidence::TrustRoot::pinned([&self.genesis_register_sha256])
    }

    /// A client of the hosting environment's account, as the stores' own role
    /// ([`lz_platform::reach::STORE_ROLE`]), not that environment's deployer role: every
    /// environment's pipeline role reaches the stores, and none may assume another environment's
    /// deployer role (`lz_platform::pipeline_roles`).
    pub fn s3(&self) -> Result<aws_sdk_s3::Client> {
        let env = &self.environment;
        Ok(lz_platform::reach::account(&self.endpoint, &self.account_id, &self.region, lz_platform::reach::STORE_ROLE, &lz_platform::reach::session(env))?.s3())
    }

    /// The evidence store; refused unless its bucket has COMPLIANCE Object Lock with at least
    /// the retention floor.
    pub fn evidence(&self) -> Result<S3Store> {
        S3Store::open_worm(self.s3()?, &self.evidence_bucket, "")?.require_floor(self.retention_floor()?)
    }

    /// The least COMPLIANCE retention, in days, of the stores (see [`retention_floor`]).
    pub fn retention_floor(&self) -> Result<u32> {
        retention_floor(&self.root)
    }

    /// A client of the witness's account.
    pub fn witness_s3(&self) -> Result<aws_sdk_s3::Client> {
        let (role, session) = (lz_platform::reach::WITNESS_ROLE, lz_platform::reach::session("witness"));
        Ok(lz_platform::reach::account(&self.endpoint, &self.witness_account, &self.region, role, &session)?.s3())
    }

    /// The witness store; refused unless its bucket has COMPLIANCE Object Lock.
    pub fn witness(&self) -> Result<lz_evidence::witness::WitnessStore> {
        lz_evidence::witness::WitnessStore::open(self.witness_s3()?, &self.witness_bucket)
    }

    pub fn releases(&self) -> Result<ReleaseStore> {
        ReleaseStore::new(self.s3()?, &self.release_bucket)
    }

    /// Both buckets with the settings the hosting environment's log archive declares in `plan`
    /// (its Object Lock retention included), renamed, with the bucket policy naming each bucket.
    pub fn specs(&self, plan: &serde_json::Value) -> Result<[BucketSpec; 2]> {
        let spec = |name: &str| {
            crate::declared::bucket_spec(plan, EVIDENCE_MODULE, Some(name))
                .with_context(|| format!("the store {name} takes its settings from {EVIDENCE_MODULE} of {}", self.environment))
        };
        let (r, e) = (spec(&self.release_bucket)?, spec(&self.evidence_bucket)?);
        match &e.object_lock {
            Some((mode, days)) if mode == "COMPLIANCE" && *days > 0 => {}
            other => bail!("{EVIDENCE_MODULE} of {} declares Object Lock {other:?}: the stores need COMPLIANCE with a retention", self.environment),
        }
        Ok([r, e])
    }
}

/// The retention floor of the evidence stores, in days: the COMPLIANCE Object Lock retention
/// the hosting environment's log archive declares in its rendered plan (the governance
/// `bootstrap --stores` creates the stores from). No store is opened, appended to or verified
/// below it. Rendered once per process and checkout.
pub fn retention_floor(root: &Path) -> Result<u32> {
    static FLOORS: std::sync::Mutex<Vec<(PathBuf, u32)>> = std::sync::Mutex::new(Vec::new());
    if let Some((_, f)) = FLOORS.lock().expect("not poisoned").iter().find(|(r, _)| r == root) {
        return Ok(*f);
    }
    let path = root.join(STORES_FILE);
    let f: StoresFile = lz_platform::overlays::read_toml(&path)?;
    let plan = crate::render::render_env(root, &f.environment)
        .with_context(|| format!("rendering the plan of {} for the retention floor of the evidence store", f.environment))?;
    let spec = crate::declared::bucket_spec(&plan, EVIDENCE_MODULE, None)
        .with_context(|| format!("the retention floor is the Object Lock retention {EVIDENCE_MODULE} of {} declares", f.environment))?;
    let floor = match spec.object_lock {
        Some((mode, days)) if mode == "COMPLIANCE" && days > 0 => days as u32,
        other => bail!("{EVIDENCE_MODULE} of {} declares Object Lock {other:?}: the evidence store needs COMPLIANCE with a retention", f.environment),
    };
    FLOORS.lock().expect("not poisoned").push((root.to_path_buf(), floor));
    Ok(floor)
}

/// The text of a `governance/stores.toml` whose genesis pin is `fingerprint` (a rehearsal, whose
/// evidence store starts with a register of test identities); every other line as it was.
pub fn with_genesis(text: &str, fingerprint: &str) -> String {
    let mut out = String::with_capacity(text.len() + 90);
    let mut found = false;
    for line in text.lines() {
        match line.split_once('=') {
            Some((k, _)) if k.trim() == "genesis_register_sha256" => {
                out.push_str(&format!("{} = \"{fingerprint}\"\n", k.trim_end()));
                found = true;
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !found {
        out.push_str(&format!("genesis_register_sha256 = \"{fingerprint}\"\n"));
    }
    out
}

/// The text of a `governance/stores.toml` with `-SUFFIX` appended to the three bucket names (stores
/// of their own for a rehearsal or a test; every other line as it was).
pub fn suffixed(text: &str, suffix: &str) -> String {
    suffixed_keys(text, suffix, &["release_bucket", "evidence_bucket", "witness_bucket"])
}

/// `text` (lines of `key = "value"`, TOML or HCL) with `-SUFFIX` appended to the values of
/// `keys`; every other line as it was.
pub fn suffixed_keys(text: &str, suffix: &str, keys: &[&str]) -> String {
    let mut out = String::with_capacity(text.len() + keys.len() * (suffix.len() + 1));
    for line in text.lines() {
        match line.split_once('=') {
            Some((k, v)) if keys.contains(&k.trim()) => {
                let name = v.trim().trim_matches('"');
                out.push_str(&format!("{} = \"{name}-{suffix}\"\n", k.trim_end()));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The local verified cache of the evidence chain (rebuilt by `cargo xtask evidence pull`).
pub fn evidence_cache(root: &Path) -> PathBuf {
    root.join(".tools/evidence/main.jsonl")
}

#[cfg(test)]
mod tests {
    #[test]
    fn suffixed_renames_only_the_buckets() {
        let text = "# release_bucket = \"in a comment\"\nenvironment     = \"prod\"\nrelease_bucket  = \"lz-releases-1\"\nevidence_bucket = \"lz-evidence-1\"\nwitness_bucket = \"lz-witness-1\"\n";
        assert_eq!(
            super::suffixed(text, "x9"),
            "# release_bucket = \"in a comment\"\nenvironment     = \"prod\"\nrelease_bucket = \"lz-releases-1-x9\"\nevidence_bucket = \"lz-evidence-1-x9\"\nwitness_bucket = \"lz-witness-1-x9\"\n"
        );
    }
}
