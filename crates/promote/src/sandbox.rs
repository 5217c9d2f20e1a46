//! An isolated rehearsal of change control against LocalStack: its own identities and keys,
//! evidence chain and uniquely named buckets, so runs never touch the repository's evidence and
//! can run in parallel and repeatedly against one LocalStack. Used by the integration tests and
//! by `cargo xtask bench promotion`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::Signer;
use serde_json::Value;
use time::OffsetDateTime;

use crate::bootstrap::{self, EnvSpec, Names};
use crate::drift;
use crate::ledger::Ledger;
use crate::promote::{self, plan_digest, Governance, Outcome, Target};
use crate::tier::Tier;
use crate::Paths;

/// name, group, roles, kind
pub const PEOPLE: [(&str, &str, &[&str], &str); 10] = [
    ("alice", "platform", &["author"], "person"),
    ("bob", "security", &["approver", "reviewer"], "person"),
    ("carol", "business", &["approver"], "person"),
    ("dave", "operations", &["approver", "deployer"], "person"),
    ("erin", "platform", &["approver"], "person"),
    ("frank", "security", &["approver"], "person"),
    ("deployer-bot", "platform", &["deployer"], "workload"),
    ("change-policy", "platform", &["approver"], "workload"),
    ("oscar", "operations", &["break-glass"], "person"),
    ("audrey", "security", &["auditor"], "person"),
];

pub struct Sandbox {
    pub dir: PathBuf,
    pub paths: Paths,
    pub endpoint: String,
    pub suffix: String,
    pub gov: Governance,
    pub signers: BTreeMap<String, Signer>,
    pub key_files: BTreeMap<String, PathBuf>,
}

impl Sandbox {
    /// A sandbox under `dir` (created, and expected to be private to this run).
    pub fn new(root: &Path, endpoint: &str, dir: &Path) -> Result<Sandbox> {
        std::fs::create_dir_all(dir.join("keys"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut toml = String::new();
        let mut signers = BTreeMap::new();
        let mut key_files = BTreeMap::new();
        for (name, group, roles, kind) in PEOPLE {
            let key = generate_key();
            let file = dir.join("keys").join(format!("{name}.key"));
            lz_evidence::identity::write_private_key(&file, &key)?;
            toml.push_str(&format!(
                "[identity.{name}]\nname = \"{name}\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [{}]\npublic_key = \"{}\"\n\n",
                roles.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", "),
                encode_public_key(&key.verifying_key())
            ));
            signers.insert(name.to_string(), Signer::new(name, key));
            key_files.insert(name.to_string(), file);
        }
        std::fs::write(dir.join("identities.toml"), toml)?;
        let suffix = fake_release(&dir.display().to_string())[..10].to_string();
        std::fs::write(dir.join("suffix"), &suffix)?;
        let paths = Paths {
            root: root.to_path_buf(),
            identities: dir.join("identities.toml"),
            evidence: dir.join("evidence.jsonl"),
            releases: dir.join("releases"),
            work: dir.join("work"),
        };
        Ok(Sandbox {
            dir: dir.to_path_buf(),
            paths,
            endpoint: endpoint.to_string(),
            suffix,
            gov: Governance::load(root)?,
            signers,
            key_files,
        })
    }

    /// Reopens a sandbox another process created under `dir`.
    pub fn open(root: &Path, endpoint: &str, dir: &Path) -> Result<Sandbox> {
        let suffix = std::fs::read_to_string(dir.join("suffix"))
            .with_context(|| format!("{} is not a sandbox", dir.display()))?;
        let mut signers = BTreeMap::new();
        let mut key_files = BTreeMap::new();
        for (name, ..) in PEOPLE {
            let file = dir.join("keys").join(format!("{name}.key"));
            signers.insert(name.to_string(), Signer::from_file(name, &file)?);
            key_files.insert(name.to_string(), file);
        }
        let paths = Paths {
            root: root.to_path_buf(),
            identities: dir.join("identities.toml"),
            evidence: dir.join("evidence.jsonl"),
            releases: dir.join("releases"),
            work: dir.join("work"),
        };
        Ok(Sandbox {
            dir: dir.to_path_buf(),
            paths,
            endpoint: endpoint.to_string(),
            suffix: suffix.trim().to_string(),
            gov: Governance::load(root)?,
            signers,
            key_files,
        })
    }

    pub fn signer(&self, name: &str) -> &Signer {
        &self.signers[name]
    }

    pub fn ledger(&self) -> Result<Ledger> {
        Ledger::open(&self.paths.identities, &self.paths.evidence)
    }

    pub fn names(&self, env: &str) -> Names {
        Names {
            state_bucket: Some(format!("lz-{env}-tfstate-{}", self.suffix)),
            evidence_bucket: Some(format!("lz-{env}-evidence-{}", self.suffix)),
        }
    }

    pub fn target(&self, env: &str) -> Result<Target> {
        let e = lz_platform::overlays::env_file(&self.paths.root, env)?;
        Ok(Target {
            environment: env.to_string(),
            account_id: e.account_id,
            region: e.region,
            endpoint: self.endpoint.clone(),
            state_bucket: self.names(env).state_bucket.expect("named"),
            deployer_role: format!("lz-{env}-deployer"),
        })
    }

    pub fn spec(&self, env: &str, plan: &Value) -> Result<EnvSpec> {
        let t = self.target(env)?;
        bootstrap::spec_from_plan(plan, env, &t.account_id, &t.region, &self.names(env))
    }

    pub fn bootstrap(&self, env: &str, plan: &Value) -> Result<EnvSpec> {
        let spec = self.spec(env, plan)?;
        bootstrap::bootstrap(&self.endpoint, &spec)?;
        Ok(spec)
    }

    /// A passing policy evaluation of the plan (what `cargo xtask policy` records).
    pub fn record_policy_pass(&self, release: &str, env: &str, plan: &Value) -> Result<u64> {
        let fields = Fields::new(release)
            .environment(env)
            .plan_digest(plan_digest(plan))
            .detail("policy_bundle", "sandbox")
            .detail("passed", true)
            .detail("findings", Vec::<Value>::new());
        Ok(self
            .ledger()?
            .append(Kind::PolicyEvaluation, fields, self.signer("deployer-bot"))?
            .sequence)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn approve(
        &self,
        who: &str,
        release: &str,
        author: Option<&str>,
        env: &str,
        plan: &Value,
        tier: Tier,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let ledger = self.ledger()?;
        Ok(promote::approve(
            &self.gov,
            &ledger,
            self.signer(who),
            release,
            author,
            env,
            plan,
            tier,
            "reviewed the plan",
            Some("CHG-1"),
            now,
        )?
        .sequence)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn promote(
        &self,
        release: &str,
        env: &str,
        plan: &Value,
        baseline: Option<&Value>,
        author: Option<&str>,
        deployer: &str,
        now: OffsetDateTime,
        bake_seconds: u32,
    ) -> Result<Outcome> {
        let t = self.target(env)?;
        let req = promote::Request {
            release,
            environment: env,
            plan,
            baseline,
            author,
            deployer,
            now,
        };
        let opts = promote::Options {
            paths: &self.paths,
            target: &t,
            deployer: self.signer(deployer),
            policy_signer: Some(self.signer("change-policy")),
            overlay: Some(
                self.paths
                    .root
                    .join("environments")
                    .join(env)
                    .join("terraform.tfvars"),
            ),
            bake_seconds,
        };
        promote::promote(&self.gov, &req, &opts)
    }

    pub fn drift(&self, env: &str, spec: &EnvSpec) -> Result<drift::Report> {
        let t = self.target(env)?;
        let overlay = self
            .paths
            .root
            .join("environments")
            .join(env)
            .join("terraform.tfvars");
        drift::check(
            &self.paths,
            &t,
            spec,
            Some(&overlay),
            self.signer("deployer-bot"),
        )
    }
}

/// A digest unique to this call (process, time, counter and `tag`).
pub fn fake_release(tag: &str) -> String {
    use sha2::Digest;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    hex::encode(sha2::Sha256::digest(format!(
        "{tag}-{}-{nanos}-{n}",
        std::process::id()
    )))
}
