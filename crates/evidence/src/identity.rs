//! The identities register (`governance/identities.toml`) and signing keys.
//!
//! Private keys never live in the repository: a key file holds the base64 of the 32-byte
//! ed25519 seed and is created with mode 0600 by `cargo xtask evidence keygen`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::keys::{decode_32, Algorithm, PublicKey};
pub use crate::keys::parse_public_key;
use crate::record::Kind;
use crate::signer::{Ed25519File, SignerBackend};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Author,
    Reviewer,
    Approver,
    Deployer,
    Auditor,
    BreakGlass,
    /// Co-signs checkpoints of the evidence chain into its own store (`crate::witness`); signs
    /// no record of the chain.
    Witness,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Author,
        Role::Reviewer,
        Role::Approver,
        Role::Deployer,
        Role::Auditor,
        Role::BreakGlass,
        Role::Witness,
    ];

    /// The roles that append to the chain (every role but the witness's): who may sign a head.
    pub const APPENDERS: [Role; 6] = [Role::Author, Role::Reviewer, Role::Approver, Role::Deployer, Role::Auditor, Role::BreakGlass];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Deployer => "deployer",
            Role::Auditor => "auditor",
            Role::BreakGlass => "break-glass",
            Role::Witness => "witness",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may sign one kind of record: one of `roles`, and, when set, only a person (never a
/// workload) and only a member of `group`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignerRule {
    pub roles: &'static [Role],
    pub persons_only: bool,
    pub group: Option<&'static str>,
}

/// The group whose members sign governance pins and register changes.
pub const SECURITY_GROUP: &str = "security";

/// Who may sign each kind of record. `evidence append` refuses, and verification rejects, a
/// record whose signer (as registered at the record's place in the chain) breaks the rule.
/// Workload identities sign only machine records (plans, policy evaluations, deployments,
/// drift, automatic approvals, checkpoints); every human decision is signed by a person.
pub fn signer_rule(kind: Kind) -> SignerRule {
    const fn rule(roles: &'static [Role], persons_only: bool, group: Option<&'static str>) -> SignerRule {
        SignerRule { roles, persons_only, group }
    }
    match kind {
        Kind::Plan | Kind::PolicyEvaluation | Kind::Deployment | Kind::Drift => rule(&[Role::Deployer], false, None),
        // A workload approval must say it is automatic (`auto = true`); verification checks it.
        Kind::Approval => rule(&[Role::Approver], false, None),
        Kind::Exception => rule(&[Role::Approver], true, None),
        Kind::BreakGlass => rule(&[Role::BreakGlass], true, None),
        Kind::BreakGlassApproval => rule(&[Role::Approver], true, None),
        Kind::Retrospective => rule(&[Role::Reviewer, Role::Approver, Role::Auditor], true, None),
        Kind::Release => rule(&[Role::Author], true, None),
        Kind::Checkpoint => rule(&Role::APPENDERS, false, None),
        Kind::GovernancePin | Kind::RegisterChange | Kind::RegisterApproval => rule(&[Role::Approver], true, Some(SECURITY_GROUP)),
        Kind::ExceptionApproval => rule(&[Role::Approver], true, Some(SECURITY_GROUP)),
        // -- drift remediation (lane report): the deployer that restored the declared values --
        Kind::DriftRemediation => rule(&[Role::Deployer], false, None),
        // Secret rotation (issue 15): the rotation identity holds the deployer role.
        Kind::Rotation | Kind::RotationVerification => rule(&[Role::Deployer], false, None),
        // Crash-safe promotion (issue 35): the deployer that releases an orphaned state lock.
        Kind::LockRecovery => rule(&[Role::Deployer], false, None),
        // Staged module adoption (issue 32): the deployer that ran the deployment it names.
        Kind::Adoption => rule(&[Role::Deployer], false, None),
        // Approval classes (issue 31): a person with the approver role delegates and revokes.
        Kind::Delegation | Kind::DelegationRevocation => rule(&[Role::Approver], true, None),
    }
}

/// The roles that may sign `kind` (see [`signer_rule`] for the person and group conditions).
pub fn allowed_roles(kind: Kind) -> &'static [Role] {
    signer_rule(kind).roles
}

/// Human-readable form of a rule, for refusals: "role approver, a person of group security".
pub fn describe_rule(kind: Kind) -> String {
    let r = signer_rule(kind);
    let roles: Vec<_> = r.roles.iter().map(|r| r.as_str()).collect();
    let mut out = format!("needs role {}", roles.join(" or "));
    if r.persons_only {
        out.push_str(", signed by a person");
    }
    if let Some(g) = r.group {
        out.push_str(&format!(" of group {g}"));
    }
    out
}

pub const GROUPS: [&str; 4] = ["platform", "security", "operations", "business"];

#[derive(Clone, Debug)]
pub struct Identity {
    pub name: String,
    pub display_name: String,
    pub kind: String,
    pub group: String,
    pub roles: Vec<Role>,
    /// The key and its algorithm (`algorithm = "ed25519"` when the entry names none).
    pub public_key: PublicKey,
    pub keyid: String,
    /// Where the private key is held when the register names it (`kms_key = "arn:aws:kms:..."`
    /// or an alias): signers look it up here; verification never needs it.
    pub kms_key: Option<String>,
    /// The environments whose records this identity may sign (`environments = ["prod"]`); `None`
    /// when the entry names none (every environment). A workload with a `kms_key` must name them:
    /// each environment's pipeline role may use only its own environments' keys
    /// (`lz_platform::pipeline_roles`), and the verifier refuses a record of another environment
    /// signed by a bound identity ([`crate::binding`]).
    pub environments: Option<Vec<String>>,
}

impl Identity {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_person(&self) -> bool {
        self.kind == "person"
    }

    /// Whether the rule of [`signer_rule`] lets this identity sign `kind`.
    pub fn may_sign(&self, kind: Kind) -> bool {
        let rule = signer_rule(kind);
        rule.roles.iter().any(|r| self.has_role(*r))
            && (!rule.persons_only || self.is_person())
            && rule.group.is_none_or(|g| self.group == g)
    }
}

/// The parsed register, indexed by name and by key id.
#[derive(Clone, Debug, Default)]
pub struct Identities {
    by_name: BTreeMap<String, Identity>,
    by_keyid: BTreeMap<String, String>,
    source: String,
    quorum: usize,
}

/// The smallest `register_quorum` a register may set: a register change always needs at least
/// two people of the security group besides its proposer.
pub const MIN_REGISTER_QUORUM: usize = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Approvals by distinct people of the security group (never the proposer, never an
    /// identity the change adds, re-keys or otherwise alters) that put a register change in force.
    #[serde(default)]
    register_quorum: Option<toml::Spanned<i64>>,
    #[serde(default)]
    identity: BTreeMap<String, toml::Spanned<RawIdentity>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    name: String,
    kind: toml::Spanned<String>,
    group: toml::Spanned<String>,
    roles: Vec<toml::Spanned<String>>,
    public_key: toml::Spanned<String>,
    #[serde(default)]
    algorithm: Option<toml::Spanned<String>>,
    #[serde(default)]
    kms_key: Option<toml::Spanned<String>>,
    #[serde(default)]
    environments: Option<toml::Spanned<Vec<String>>>,
}

impl Identities {
    pub fn load(path: &Path) -> Result<Identities> {
        let text = lz_input::read_required(path, lz_input::purpose("governance/identities.toml"))?;
        Identities::parse(&text, &path.display().to_string())
    }

    /// Parses register text; `origin` names the file in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Identities> {
        let raw: RawFile = lz_repo::parse_toml(text, origin)?;
        let quorum = match &raw.register_quorum {
            None => MIN_REGISTER_QUORUM,
            Some(q) if *q.get_ref() >= MIN_REGISTER_QUORUM as i64 && *q.get_ref() <= 64 => *q.get_ref() as usize,
            Some(q) => bail!(
                "{origin}:{}: register_quorum = {} must be between {MIN_REGISTER_QUORUM} and 64 (approvals by people of the security group besides the proposer)",
                lz_repo::line_of(text, q.span().start),
                q.get_ref()
            ),
        };
        let mut ids = Identities { source: text.to_string(), quorum, ..Default::default() };
        for (name, entry) in raw.identity {
            let at = |span: std::ops::Range<usize>| format!("{origin}:{}", lz_repo::line_of(text, span.start));
            let entry_span = entry.span();
            let entry = entry.into_inner();
            if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                bail!("{}: identity name {name:?} must be lowercase letters, digits and '-'", at(entry_span));
            }
            if !["person", "workload"].contains(&entry.kind.get_ref().as_str()) {
                bail!(
                    "{}: identity {name}: kind {:?} is neither \"person\" nor \"workload\"",
                    at(entry.kind.span()),
                    entry.kind.get_ref()
                );
            }
            if !GROUPS.contains(&entry.group.get_ref().as_str()) {
                bail!(
                    "{}: identity {name}: group {:?} is not one of {}",
                    at(entry.group.span()),
                    entry.group.get_ref(),
                    GROUPS.join(", ")
                );
            }
            let mut roles = Vec::new();
            for r in &entry.roles {
                let role = Role::parse(r.get_ref()).with_context(|| {
                    format!(
                        "{}: identity {name}: unknown role {:?} (roles: {})",
                        at(r.span()),
                        r.get_ref(),
                        Role::ALL.map(Role::as_str).join(", ")
                    )
                })?;
                roles.push(role);
            }
            if roles.is_empty() {
                bail!("{}: identity {name} has no roles", at(entry_span));
            }
            let algorithm = match &entry.algorithm {
                None => Algorithm::Ed25519,
                Some(a) => Algorithm::parse(a.get_ref()).with_context(|| {
                    format!(
                        "{}: identity {name}: unknown algorithm {:?} (algorithms: {})",
                        at(a.span()),
                        a.get_ref(),
                        Algorithm::ALL.map(Algorithm::as_str).join(", ")
                    )
                })?,
            };
            let public_key = PublicKey::parse(algorithm, entry.public_key.get_ref())
                .with_context(|| format!("{}: identity {name}: bad public_key (algorithm {algorithm})", at(entry.public_key.span())))?;
            if let Some(k) = &entry.kms_key {
                if algorithm != Algorithm::EcdsaP256Sha256 || k.get_ref().trim().is_empty() {
                    bail!(
                        "{}: identity {name}: kms_key names a KMS key, which needs algorithm = \"{}\" and a key id, ARN or alias",
                        at(k.span()),
                        Algorithm::EcdsaP256Sha256
                    );
                }
            }
            let environments = crate::binding::parse(&name, entry.environments.as_ref(), &at)?;
            let keyid = public_key.keyid();
            if let Some(other) = ids.by_keyid.get(&keyid) {
                bail!("{}: identity {name} reuses the public key of {other}", at(entry.public_key.span()));
            }
            ids.by_keyid.insert(keyid.clone(), name.clone());
            ids.by_name.insert(
                name.clone(),
                Identity {
                    name,
                    display_name: entry.name,
                    kind: entry.kind.into_inner(),
                    group: entry.group.into_inner(),
                    roles,
                    public_key,
                    keyid,
                    kms_key: entry.kms_key.map(|k| k.into_inner()),
                    environments,
                },
            );
        }
        Ok(ids)
    }

    pub fn get(&self, name: &str) -> Option<&Identity> {
        self.by_name.get(name)
    }

    pub fn by_keyid(&self, keyid: &str) -> Option<&Identity> {
        self.by_keyid.get(keyid).and_then(|n| self.by_name.get(n))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Identity> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The register text this was parsed from (bundles carry it as a snapshot).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// sha256 of the register text: the register's fingerprint.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.source.as_bytes()))
    }

    /// How many approvals a change of this register needs (`register_quorum`, at least
    /// [`MIN_REGISTER_QUORUM`]).
    pub fn quorum(&self) -> usize {
        self.quorum.max(MIN_REGISTER_QUORUM)
    }

    /// What `new` changes: identities added, removed, re-keyed or given another name, kind,
    /// group or roles, each with what changed. The identities named here never count toward the
    /// quorum of the change.
    pub fn changes_to(&self, new: &Identities) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (name, old) in &self.by_name {
            match new.by_name.get(name) {
                None => {
                    out.insert(name.clone(), "removed".to_string());
                }
                Some(n) => {
                    let mut what = Vec::new();
                    if n.keyid != old.keyid {
                        what.push("re-keyed".to_string());
                    }
                    if n.public_key.algorithm() != old.public_key.algorithm() {
                        what.push(format!("algorithm {} -> {}", old.public_key.algorithm(), n.public_key.algorithm()));
                    }
                    if n.kms_key != old.kms_key {
                        what.push(format!("kms_key {:?} -> {:?}", old.kms_key, n.kms_key));
                    }
                    let set = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.iter().cloned().collect::<std::collections::BTreeSet<String>>());
                    if set(&n.environments) != set(&old.environments) {
                        // A rebinding moves which environments' records the identity signs.
                        let e = |v: &Option<Vec<String>>| v.as_ref().map_or("every environment".to_string(), |l| format!("[{}]", l.join(", ")));
                        what.push(format!("environments {} -> {}", e(&old.environments), e(&n.environments)));
                    }
                    if n.kind != old.kind {
                        what.push(format!("kind {} -> {}", old.kind, n.kind));
                    }
                    if n.group != old.group {
                        what.push(format!("group {} -> {}", old.group, n.group));
                    }
                    if n.roles != old.roles {
                        let r = |v: &[Role]| v.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
                        what.push(format!("roles [{}] -> [{}]", r(&old.roles), r(&n.roles)));
                    }
                    if n.display_name != old.display_name {
                        what.push(format!("name {:?} -> {:?}", old.display_name, n.display_name));
                    }
                    if !what.is_empty() {
                        out.insert(name.clone(), what.join("; "));
                    }
                }
            }
        }
        for (name, n) in &new.by_name {
            if !self.by_name.contains_key(name) {
                let roles: Vec<_> = n.roles.iter().map(|r| r.as_str()).collect();
                out.insert(name.clone(), format!("added ({} of group {}, roles [{}])", n.kind, n.group, roles.join(", ")));
            }
        }
        if new.quorum() != self.quorum() {
            out.insert("register_quorum".to_string(), format!("{} -> {}", self.quorum(), new.quorum()));
        }
        out
    }
}

/// Key id of an ed25519 key: hex sha256 of the raw 32-byte public key (see [`PublicKey::keyid`]).
pub fn keyid_of(key: &VerifyingKey) -> String {
    PublicKey::Ed25519(*key).keyid()
}

/// The register form of a key (base64 of its bytes), ed25519 or P-256.
pub fn encode_public_key<K: Clone + Into<PublicKey>>(key: &K) -> String {
    key.clone().into().encode()
}

pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

pub fn parse_private_key(text: &str) -> Result<SigningKey> {
    Ok(SigningKey::from_bytes(&decode_32(text)?))
}

/// Writes a new private key file (mode 0600); refuses to overwrite.
pub fn write_private_key(path: &Path, key: &SigningKey) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create key file {} (it must not exist yet)", path.display()))?;
    writeln!(f, "{}", B64.encode(key.to_bytes()))?;
    f.sync_all()?;
    Ok(())
}

/// An identity with its private key: who signs a record. The key is held by a
/// [`SignerBackend`]: a key file, or a KMS key the private half of which never leaves KMS.
#[derive(Clone)]
pub struct Signer {
    identity: String,
    backend: std::sync::Arc<dyn SignerBackend>,
    public_key: PublicKey,
    keyid: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("identity", &self.identity).field("keyid", &self.keyid).finish()
    }
}

pub const SIGNING_KEY_ENV: &str = "LZ_SIGNING_KEY";

impl Signer {
    pub fn new(identity: impl Into<String>, key: SigningKey) -> Signer {
        Signer::with_backend(identity, Ed25519File(key))
    }

    /// A signer whose key is held by `backend` (a KMS key, ...).
    pub fn with_backend(identity: impl Into<String>, backend: impl SignerBackend + 'static) -> Signer {
        let public_key = backend.public_key();
        Signer { identity: identity.into(), keyid: public_key.keyid(), public_key, backend: std::sync::Arc::new(backend) }
    }

    pub fn from_file(identity: impl Into<String>, path: &Path) -> Result<Signer> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read signing key {}", path.display()))?;
        let key = parse_private_key(&text).with_context(|| format!("{}: not an ed25519 private key", path.display()))?;
        Ok(Signer::new(identity, key))
    }

    /// The key from `LZ_SIGNING_KEY` (base64 or hex of the 32-byte seed).
    pub fn from_env(identity: impl Into<String>) -> Result<Signer> {
        let text = std::env::var(SIGNING_KEY_ENV)
            .with_context(|| format!("no signing key: pass --key FILE or set {SIGNING_KEY_ENV}"))?;
        let key = parse_private_key(&text).with_context(|| format!("{SIGNING_KEY_ENV} is not an ed25519 private key"))?;
        Ok(Signer::new(identity, key))
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// Where the key is held, for messages.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// A signature of `message`; fails when the backend cannot sign (KMS unreachable, access
    /// denied): never a record without a valid signature.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        self.backend.sign(message).with_context(|| format!("signing as {} ({})", self.identity, self.backend.describe()))
    }
}
