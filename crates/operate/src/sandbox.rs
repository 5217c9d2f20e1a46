//! An isolated rehearsal of change control against LocalStack: its own identities and keys, its
//! own copy of the deployable tree (whose governance names those identities), real release
//! archives built from that copy, its own evidence chain and uniquely named buckets, so runs never
//! touch the repository's evidence and can run in parallel and repeatedly against one LocalStack.
//! Used by the integration tests and by `cargo xtask bench promotion`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::Signer;

use crate::bootstrap::{self, EnvSpec, Names};
use crate::clock::Clock;
use crate::drift;
use crate::ledger::Ledger;
use crate::promote::{self, Outcome, Target};
use crate::session::Session;
use crate::Paths;

/// name, group, roles, kind
pub const PEOPLE: [(&str, &str, &[&str], &str); 22] = [
    ("alice", "platform", &["author"], "person"),
    ("bob", "security", &["approver", "reviewer"], "person"),
    ("carol", "business", &["approver"], "person"),
    ("dave", "operations", &["approver", "deployer"], "person"),
    ("erin", "platform", &["approver"], "person"),
    ("frank", "security", &["approver"], "person"),
    ("deployer-bot", "platform", &["deployer"], "workload"),
    ("oscar", "operations", &["break-glass"], "person"),
    ("audrey", "security", &["auditor"], "person"),
    // A third security approver: a register change needs two approvals besides its proposer's.
    ("heidi", "security", &["approver"], "person"),
    // Internal audit's witness: co-signs checkpoints into the witness store, signs no record.
    ("wendy", "security", &["witness"], "workload"),
    // Approval classes (issue 31): a security approver who also authors releases (a delegate
    // who is the release's author is refused).
    ("ivan", "security", &["approver", "author"], "person"),
    // Each environment's pipeline deployer (issue 26): bound to its environment ([`BINDINGS`]),
    // so a key one environment's jobs can use signs no other environment's records.
    ("deployer-bot-dev", "platform", &["deployer"], "workload"),
    ("deployer-bot-test", "platform", &["deployer"], "workload"),
    ("deployer-bot-uat", "platform", &["deployer"], "workload"),
    ("deployer-bot-preprod", "platform", &["deployer"], "workload"),
    ("deployer-bot-prod", "platform", &["deployer"], "workload"),
    // And its policy identity (`policy_identity = "change-policy-{env}"`, [`POLICY_IDENTITY_PER_ENV`],
    // as in the repository's governance): each environment's evaluations and automatic approvals
    // are signed by a key bound to that environment alone.
    ("change-policy-dev", "platform", &["approver", "deployer"], "workload"),
    ("change-policy-test", "platform", &["approver", "deployer"], "workload"),
    ("change-policy-uat", "platform", &["approver", "deployer"], "workload"),
    ("change-policy-preprod", "platform", &["approver", "deployer"], "workload"),
    ("change-policy-prod", "platform", &["approver", "deployer"], "workload"),
];

/// The environments a test identity is bound to (`environments` of its register entry,
/// `lz_evidence::binding`); the others sign for every environment. The shared deployer
/// (`deployer-bot`) names every environment; every policy identity is bound to its own one.
pub const BINDINGS: [(&str, &[&str]); 11] = [
    // The shared deployer of the offline tests: every environment, said explicitly (a new
    // register names the environments of each workload that deploys or approves).
    ("deployer-bot", &[lz_evidence::binding::ALL]),
    ("deployer-bot-dev", &["dev"]),
    ("deployer-bot-test", &["test"]),
    ("deployer-bot-uat", &["uat"]),
    ("deployer-bot-preprod", &["preprod"]),
    ("deployer-bot-prod", &["prod"]),
    ("change-policy-dev", &["dev"]),
    ("change-policy-test", &["test"]),
    ("change-policy-uat", &["uat"]),
    ("change-policy-preprod", &["preprod"]),
    ("change-policy-prod", &["prod"]),
];

/// The pipeline deployer of `env` (`deployer-bot-{env}`), bound to `env` alone.
pub fn env_deployer(env: &str) -> String {
    format!("deployer-bot-{env}")
}

/// The policy identity of `env` when the approval policy names one per environment
/// (`change-policy-{env}`), bound to `env` alone.
pub fn env_policy_identity(env: &str) -> String {
    format!("change-policy-{env}")
}

/// When a sandbox's chain starts: its genesis register is dated before every fixed clock the
/// tests use, so that no later record is back-dated.
pub const GENESIS_TIME: time::OffsetDateTime = time::macros::datetime!(2020-01-01 00:00:00 UTC);

/// The Terraform version recorded in sandbox release manifests.
pub const TERRAFORM_VERSION: &str = "1.15.5";

pub struct Sandbox {
    pub dir: PathBuf,
    pub paths: Paths,
    pub endpoint: String,
    pub suffix: String,
    /// The sandbox's copy of the deployable tree; releases are built from copies of it.
    pub tree: PathBuf,
    pub signers: BTreeMap<String, Signer>,
    pub key_files: BTreeMap<String, PathBuf>,
}

// The deployable tree is copied as `provider-e2e` copies a root (`.terraform` left out).
use lz_platform::provider_e2e::copy_tree;

/// Generates a key per test identity ([`PEOPLE`]) into `keys/<name>.key`; returns the register
/// naming them, their signers and key files.
#[allow(clippy::type_complexity)]
fn test_identities(
    keys: &Path,
) -> Result<(String, BTreeMap<String, Signer>, BTreeMap<String, PathBuf>)> {
    std::fs::create_dir_all(keys).with_context(|| format!("cannot create {}", keys.display()))?;
    let mut toml = String::from(
        "# Test identities of a rehearsal: keys generated for this run only.\n\nregister_quorum = 2\n\n",
    );
    let mut signers = BTreeMap::new();
    let mut key_files = BTreeMap::new();
    for (name, group, roles, kind) in PEOPLE {
        let key = generate_key();
        let file = keys.join(format!("{name}.key"));
        lz_evidence::identity::write_private_key(&file, &key)?;
        let display = format!("{}{} Example", name[..1].to_uppercase(), &name[1..]);
        let quoted = |l: &[&str]| l.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", ");
        let bound = match BINDINGS.iter().find(|(n, _)| *n == name) {
            Some((_, envs)) => format!("environments = [{}]\n", quoted(envs)),
            None => String::new(),
        };
        toml.push_str(&format!(
            "[identity.{name}]\nname = \"{display}\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [{}]\n{bound}public_key = \"{}\"\n\n",
            quoted(roles),
            encode_public_key(&key.verifying_key())
        ));
        signers.insert(name.to_string(), Signer::new(name, key));
        key_files.insert(name.to_string(), file);
    }
    Ok((toml, signers, key_files))
}

/// The exceptions register of `tree` with its owner and approver replaced by test identities
/// (alice owns, bob approves).
fn exceptions_to_test_identities(tree: &Path) -> Result<()> {
    let exc = tree.join("governance/exceptions.toml");
    let text =
        std::fs::read_to_string(&exc).with_context(|| format!("cannot read {}", exc.display()))?;
    std::fs::write(
        &exc,
        text.replace("\"priya-raman\"", "\"alice\"")
            .replace("\"grace-lindqvist\"", "\"bob\""),
    )
    .with_context(|| format!("cannot write {}", exc.display()))
}

/// The approval classes of `tree` (issue 31) with their people replaced by test identities
/// (grace and noor -> bob and frank, henrik -> heidi, lena -> dave, daniel -> carol).
fn classes_to_test_identities(tree: &Path) -> Result<()> {
    let file = tree.join(lz_promote::classes::APPROVAL_CLASSES);
    if !file.is_file() {
        return Ok(());
    }
    let mut text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    for (from, to) in [("grace-lindqvist", "bob"), ("noor-aziz", "frank"), ("henrik-berg", "heidi"), ("lena-fischer", "dave"), ("daniel-mensah", "carol")] {
        text = text.replace(&format!("\"{from}\""), &format!("\"{to}\""));
    }
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))
}

/// The approval policy of `tree` with its `policy_identity` line replaced by `line` (a
/// sandbox's and a rehearsal's: [`POLICY_IDENTITY_PER_ENV`], the test identities of [`PEOPLE`]).
pub fn set_policy_identity(tree: &Path, line: &str) -> Result<()> {
    let file = tree.join(lz_promote::approval::APPROVAL_POLICY);
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    // The setting's own line (never a comment that quotes it), rebuilt line by line.
    let at = text.lines().position(|l| l.trim_start().starts_with("policy_identity")).with_context(|| format!("{} names no policy_identity", file.display()))?;
    let out: Vec<&str> = text.lines().enumerate().map(|(i, l)| if i == at { line } else { l }).collect();
    std::fs::write(&file, out.join("\n") + "\n").with_context(|| format!("cannot write {}", file.display()))
}

/// The approval policy line of sandboxes and rehearsals: one policy identity per environment
/// (`change-policy-{env}`, bound to that environment alone in [`BINDINGS`]), as the gate
/// requires of every governance (`lz_gate::governance`).
pub const POLICY_IDENTITY_PER_ENV: &str = "policy_identity = \"change-policy-{env}\"";

/// Turns the working tree at `root` into a rehearsal of itself: test identities whose keys go
/// to `keys` (generated now, never committed) replace the register, the exceptions name them,
/// change windows are open (a rehearsal proves the mechanics, not the calendar) and the stores
/// get names of their own (`suffix`), so rehearsals never meet each other's evidence. Returns
/// the suffix.
pub fn rehearsal_setup(root: &Path, keys: &Path) -> Result<String> {
    rehearsal_setup_with(root, keys, &|_| Ok(None))
}

/// [`rehearsal_setup`] where `kms_key(name)` may give an identity a KMS key instead of a key
/// file: `Some((public_key, key_arn))` registers it as `ecdsa-p256-sha256` with that
/// `kms_key`, and its generated key file is removed (the pipeline identities of a rehearsal of
/// the KMS path, see `crate::rehearsal_kms`).
pub fn rehearsal_setup_with(root: &Path, keys: &Path, kms_key: &dyn Fn(&str) -> Result<Option<(String, String)>>) -> Result<String> {
    let (mut toml, _, key_files) = test_identities(keys)?;
    for (name, file) in &key_files {
        if let Some((public_key, arn)) = kms_key(name)? {
            toml = crate::rehearsal_kms::register_kms_key(&toml, name, &public_key, &arn)?;
            std::fs::remove_file(file).with_context(|| format!("removing {}", file.display()))?;
        }
    }
    std::fs::write(root.join("governance/identities.toml"), &toml)?;
    exceptions_to_test_identities(root)?;
    classes_to_test_identities(root)?;
    set_policy_identity(root, POLICY_IDENTITY_PER_ENV)?;
    std::fs::write(
        root.join("governance/change-windows.toml"),
        "# Rehearsal: no closed periods.\ntimezone = \"Europe/London\"\n",
    )?;
    let stores = root.join(crate::stores::STORES_FILE);
    let text = std::fs::read_to_string(&stores)
        .with_context(|| format!("cannot read {}", stores.display()))?;
    let suffix = hex::encode(&generate_key().to_bytes()[..5]);
    // The rehearsal's evidence store starts with the test register as its genesis.
    let genesis = lz_evidence::dsse::sha256_hex(toml.as_bytes());
    std::fs::write(&stores, crate::stores::with_genesis(&crate::stores::suffixed(&text, &suffix), &genesis))?;
    // And state buckets of its own: a rehearsal never applies over another one's state.
    for env in lz_platform::ENVIRONMENTS {
        let backend = root.join("environments").join(env).join("backend.hcl");
        let text = std::fs::read_to_string(&backend).with_context(|| format!("cannot read {}", backend.display()))?;
        std::fs::write(&backend, crate::stores::suffixed_keys(&text, &suffix, &["bucket"]))?;
    }
    Ok(suffix)
}

fn sandbox_paths(root: &Path, dir: &Path) -> Result<Paths> {
    let register = std::fs::read(dir.join("identities.toml")).with_context(|| format!("{} is not a sandbox", dir.display()))?;
    Ok(Paths {
        root: root.to_path_buf(),
        trust: lz_evidence::TrustRoot::pinned([lz_evidence::dsse::sha256_hex(&register)])?,
        evidence: crate::ledger::EvidenceAt::Local(dir.join("evidence.jsonl")),
        releases: crate::release::ReleasesAt::Local(dir.join("releases")),
        work: dir.join("work"),
    })
}

impl Sandbox {
    /// A sandbox under `dir` (created, and expected to be private to this run).
    pub fn new(root: &Path, endpoint: &str, dir: &Path) -> Result<Sandbox> {
        let (toml, signers, key_files) = test_identities(&dir.join("keys"))?;
        std::fs::write(dir.join("identities.toml"), &toml)?;
        let tree = dir.join("tree");
        for d in lz_evidence::release::TREE {
            copy_tree(&root.join(d), &tree.join(d))?;
        }
        std::fs::copy(root.join("Cargo.lock"), tree.join("Cargo.lock"))
            .context("cannot copy Cargo.lock (release manifests record the regorus version)")?;
        std::fs::write(tree.join("governance/identities.toml"), &toml)?;
        exceptions_to_test_identities(&tree)?;
        classes_to_test_identities(&tree)?;
        set_policy_identity(&tree, POLICY_IDENTITY_PER_ENV)?;
        // The tree's evidence store starts with the sandbox register as its genesis.
        let stores = tree.join(crate::stores::STORES_FILE);
        let text = std::fs::read_to_string(&stores).with_context(|| format!("cannot read {}", stores.display()))?;
        std::fs::write(&stores, crate::stores::with_genesis(&text, &lz_evidence::dsse::sha256_hex(toml.as_bytes())))?;
        let digest = lz_evidence::dsse::sha256_hex(dir.display().to_string().as_bytes());
        let suffix = digest[..10].to_string();
        std::fs::write(dir.join("suffix"), &suffix)?;
        let sandbox = Sandbox {
            dir: dir.to_path_buf(),
            paths: sandbox_paths(root, dir)?,
            endpoint: endpoint.to_string(),
            suffix,
            tree,
            signers,
            key_files,
        };
        sandbox.start_chain()?;
        Ok(sandbox)
    }

    /// Starts the sandbox's evidence chain (wherever `paths.evidence` points: its local file, or
    /// a store a test switched to) with its genesis register, signed by bob (security). A chain
    /// that already started is left as it is.
    pub fn start_chain(&self) -> Result<()> {
        self.start_chain_at(&self.paths.evidence)
    }

    /// [`Sandbox::start_chain`] for the chain at `at` (a verified cache the tests write, say).
    pub fn start_chain_at(&self, at: &crate::ledger::EvidenceAt) -> Result<()> {
        let text = std::fs::read_to_string(self.dir.join("identities.toml"))?;
        let pin = lz_evidence::dsse::sha256_hex(text.as_bytes());
        let paths = Paths { evidence: at.clone(), ..self.paths.clone() };
        crate::register::start(&paths, &pin, &text, Some(self.signer("bob")), GENESIS_TIME)?;
        Ok(())
    }

    /// The audit function's witness (wendy) co-signs the head of the sandbox's chain into the
    /// witness store, where its evidence is an S3 store (a local chain has no witness store:
    /// `None`), with its own state under the sandbox's `witness-state` directory
    /// ([`lz_evidence::witness::cosign_kept`]). Decisions on an unauthenticated clock need a
    /// fresh witnessed checkpoint.
    pub fn witness(&self) -> Result<Option<lz_evidence::witness::Cosigned>> {
        let crate::ledger::EvidenceAt::S3(stores) = &self.paths.evidence else { return Ok(None) };
        let state = self.witness_state();
        lz_evidence::witness::cosign_kept(&*self.paths.evidence.open()?, &stores.witness()?, &self.paths.trust, Vec::new(), self.signer("wendy"), &state)
    }

    /// Where the sandbox's witness keeps its own state ([`Sandbox::witness`]).
    pub fn witness_state(&self) -> std::path::PathBuf {
        self.dir.join("witness-state")
    }

    /// The witness (wendy) replays every deployment of the sandbox's S3 chain and signs the
    /// verdicts ([`crate::witness_verdicts`]), as `evidence witness` does after co-signing.
    pub fn witness_verdicts(&self) -> Result<Option<crate::witness_verdicts::Published>> {
        crate::witness_verdicts::publish(&self.paths, self.signer("wendy"))
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
        Ok(Sandbox {
            dir: dir.to_path_buf(),
            paths: sandbox_paths(root, dir)?,
            endpoint: endpoint.to_string(),
            suffix: suffix.trim().to_string(),
            tree: dir.join("tree"),
            signers,
            key_files,
        })
    }

    /// The sandbox's local release directory.
    pub fn releases_dir(&self) -> PathBuf {
        self.dir.join("releases")
    }

    /// The sandbox's local evidence chain.
    pub fn evidence_file(&self) -> PathBuf {
        self.dir.join("evidence.jsonl")
    }

    pub fn signer(&self, name: &str) -> &Signer {
        &self.signers[name]
    }

    /// The sandbox's signer `name`, or an error naming it (a release's approval policy may
    /// name a policy identity the sandbox has no key for).
    pub fn signer_of(&self, name: &str) -> Result<&Signer> {
        self.signers.get(name).with_context(|| format!("the sandbox has no key for identity {name:?} (its identities: {})", self.signers.keys().cloned().collect::<Vec<_>>().join(", ")))
    }

    pub fn ledger(&self) -> Result<Ledger> {
        self.paths.ledger()
    }

    /// Builds a release from a copy of the sandbox tree that `edit` may change, marked with
    /// `tag` (a comment, so that each call gives its own digest), and records its authorship
    /// signed by `author`. Returns the digest.
    pub fn release(
        &self,
        tag: &str,
        author: &str,
        clock: &Clock,
        edit: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<String> {
        // One command (`release publish`): its reads share one verification.
        let _command = lz_promote::verified::Command::begin();
        let copy = self.dir.join("trees").join(tag);
        let _ = std::fs::remove_dir_all(&copy);
        copy_tree(&self.tree, &copy)?;
        edit(&copy)?;
        let main = copy.join("environments/main.tf");
        let mut text = std::fs::read_to_string(&main)?;
        text.push_str(&format!("\n# sandbox release {tag}\n"));
        std::fs::write(&main, text)?;
        let built = lz_evidence::release::build(
            &copy,
            &lz_evidence::release::BuildOptions {
                releases_dir: self.releases_dir(),
                terraform_version: Some(TERRAFORM_VERSION.into()),
                terraform_bin: PathBuf::from("terraform"),
                author: Some(author.into()),
                ticket: Some("CHG-1".into()),
                reason: Some(format!("sandbox release {tag}")),
            },
        )?;
        let digest = built.manifest.digest;
        crate::release::sign_authorship(
            &self.ledger()?,
            self.signer(author),
            &digest,
            "CHG-1",
            &format!("sandbox release {tag}"),
            None,
            &clock.now()?,
        )?;
        Ok(digest)
    }

    /// Pins the governance of `env` to `release`, signed by bob (security).
    pub fn pin(&self, env: &str, release: &str, clock: &Clock) -> Result<u64> {
        let _command = lz_promote::verified::Command::begin();
        Ok(bootstrap::pin(&self.paths, env, release, self.signer("bob"), &clock.now()?)?.0)
    }

    /// Signed approvals (by the approver each entry names) of every exception of `release`.
    pub fn approve_exceptions(&self, release: &str, clock: &Clock) -> Result<Vec<u64>> {
        let now = clock.now()?;
        let mut out = Vec::new();
        for signer in self.signers.values() {
            out.extend(
                lz_promote::approve::approve_exceptions(&self.paths, release, signer, &now)?
                    .into_iter()
                    .map(|(_, seq)| seq),
            );
        }
        Ok(out)
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
            // The role the sandbox's releases name (they are built from its tree).
            deployer_role: lz_platform::reach::deployer_role_of(&self.tree, env)?,
            landing_zone_key: crate::target::landing_zone_key(env),
        })
    }

    /// Where the facts of `env` are checked: its target and the sandbox's bucket names.
    pub fn place(&self, env: &str) -> Result<crate::facts::Place> {
        Ok(crate::facts::Place::new(self.target(env)?, self.names(env)))
    }

    /// The facts of the sandbox's chain checked against their sources ([`crate::facts::verify`]).
    pub fn verify_facts(&self) -> Result<Vec<crate::facts::Contradiction>> {
        let records = crate::replay::admitted(&self.paths)?;
        crate::facts::verify(&records, &|_, env| self.place(env))
    }

    /// The environment's declared buckets and role, from `release`'s plan.
    pub fn spec(&self, env: &str, release: &str) -> Result<EnvSpec> {
        let archive = self.paths.open_release(release)?;
        let plan = archive.plan(env)?;
        let t = self.target(env)?;
        bootstrap::spec_from_plan(&plan, env, &t.account_id, &t.region, &self.names(env))
    }

    /// Creates the environment's buckets and deployer role as `release` declares them.
    pub fn bootstrap(&self, env: &str, release: &str) -> Result<EnvSpec> {
        let spec = self.spec(env, release)?;
        let role = lz_platform::reach::deployer_role_of(self.paths.open_release(release)?.root(), env)?;
        bootstrap::bootstrap(&self.endpoint, &spec, &role)?;
        Ok(spec)
    }

    pub fn session(&self, release: &str, env: &str) -> Result<Session> {
        Session::open(&self.paths, release, env)
    }

    /// `who` approves `release` for `env`; returns the record.
    pub fn approve(&self, who: &str, release: &str, env: &str, clock: &Clock) -> Result<u64> {
        let _command = lz_promote::verified::Command::begin();
        let s = self.session(release, env)?;
        Ok(s.approve(
            self.signer(who),
            "reviewed the plan",
            Some("CHG-1"),
            &clock.now()?,
        )?
        .0
        .sequence)
    }

    pub fn promote(
        &self,
        release: &str,
        env: &str,
        deployer: &str,
        clock: &Clock,
        bake_seconds: u32,
    ) -> Result<Outcome> {
        self.promote_recovering(release, env, deployer, clock, bake_seconds, false)
    }

    /// [`Sandbox::promote`] with `recover`: `promote --recover`, which releases an orphaned
    /// state lock with a signed lock-recovery record.
    pub fn promote_recovering(
        &self,
        release: &str,
        env: &str,
        deployer: &str,
        clock: &Clock,
        bake_seconds: u32,
        recover: bool,
    ) -> Result<Outcome> {
        // One command, as `cargo xtask promote` is one process: its reads share one verification.
        let _command = lz_promote::verified::Command::begin();
        let t = self.target(env)?;
        let mut s = self.session(release, env)?;
        let previous = lz_promote::session::previous_environment(env)?.map(|p| self.place(p)).transpose()?;
        let opts = promote::Options {
            target: &t,
            deployer: self.signer_of(deployer)?,
            // The environment's policy identity, as the governing approval policy names it.
            policy_signer: self.signer_of(&s.governance.policy.policy_identity)?,
            bake_seconds,
            recover,
            previous: previous.as_ref(),
        };
        promote::promote(&mut s, &opts, clock)
    }

    /// `promote --dry-run`: every gate of promoting `release` to `env` by `deployer` at the
    /// clock's time, with the facts checked where they live; nothing is recorded.
    pub fn dry_run(&self, release: &str, env: &str, deployer: &str, clock: &Clock) -> Result<lz_promote::gates::Gates> {
        let s = self.session(release, env)?;
        let place = self.place(env)?;
        let previous = lz_promote::session::previous_environment(env)?.map(|p| self.place(p)).transpose()?;
        let facts = |s: &lz_promote::Session| crate::facts::gate(&s.paths, &s.records, s.digest(), &place, previous.as_ref());
        lz_promote::gates::dry_run(&s, Some(deployer), clock, Some(&facts))
    }

    pub fn drift(&self, env: &str, clock: &Clock) -> Result<drift::Report> {
        let t = self.target(env)?;
        drift::check(
            &self.paths,
            &t,
            &self.names(env),
            self.signer("deployer-bot"),
            &clock.now()?,
        )
    }
}
