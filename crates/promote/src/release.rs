//! A release as change control reads it: the stored archive named by its digest, checked
//! against the digest and unpacked into a private directory. Every input of a decision (the
//! plan of an environment, the policy bundle, the governance registers) is read from here,
//! never from the working tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lz_evidence::dsse::sha256_hex;
use serde_json::Value;

use crate::refusal::refuse;

/// Top-level directories whose files are governance: a release that changes any of them
/// changes the rules that judge releases.
pub const GOVERNANCE_DIRS: [&str; 2] = ["governance/", "policies/"];

/// Files of each environment that say where it is: its account and region (`env.toml`) and its
/// state backend (`backend.hcl`). Moving a target is a governance change.
pub const TARGET_FILES: [&str; 2] = ["env.toml", "backend.hcl"];

/// Whether a release file is governance: the rules (`governance/`, `policies/`) and the
/// targets (each environment's `env.toml` and `backend.hcl`). A change to any of them is tier
/// high and needs the security group.
pub fn is_governance(path: &str) -> bool {
    GOVERNANCE_DIRS.iter().any(|d| path.starts_with(d))
        || path
            .strip_prefix("environments/")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(env, file)| lz_platform::ENVIRONMENTS.contains(&env) && TARGET_FILES.contains(&file))
}

/// A release archive whose bytes hash to its digest, unpacked.
/// The policy settings of a release (`lz_policy::Options::settings`).
pub const POLICY_SETTINGS: &str = "governance/policy.toml";

pub struct VerifiedRelease {
    pub digest: String,
    /// Relative path -> contents, as archived.
    pub files: BTreeMap<String, Vec<u8>>,
    dir: tempfile::TempDir,
    /// Plans rendered from this archive, by environment: rendered once per opened release.
    plans: std::sync::Mutex<BTreeMap<String, Value>>,
}

impl std::fmt::Debug for VerifiedRelease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedRelease")
            .field("digest", &self.digest)
            .field("files", &self.files.len())
            .finish()
    }
}

fn octal(field: &[u8], what: &str) -> Result<u64> {
    let s: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(s, 8).with_context(|| format!("{what}: {s:?} is not an octal number"))
}

fn text(field: &[u8]) -> Result<String> {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8(field[..end].to_vec()).context("a path in the archive is not UTF-8")
}

/// Parses a ustar archive as `release build` writes it (regular files only).
pub fn untar(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut at = 0usize;
    while at + 512 <= bytes.len() {
        let h = &bytes[at..at + 512];
        if h.iter().all(|b| *b == 0) {
            return Ok(files);
        }
        let name = text(&h[..100])?;
        let prefix = text(&h[345..500])?;
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let size = usize::try_from(octal(&h[124..136], &path)?).context("file too large")?;
        if !matches!(h[156], b'0' | 0) {
            bail!("{path}: only regular files may be in a release archive");
        }
        if path.starts_with('/') || path.split('/').any(|c| c == ".." || c.is_empty()) {
            bail!("{path}: not a relative path inside the release");
        }
        let start = at + 512;
        let end = start.checked_add(size).context("file size overflows")?;
        if end > bytes.len() {
            bail!("{path}: the archive ends inside the file");
        }
        files.insert(path, bytes[start..end].to_vec());
        at = start + size.div_ceil(512) * 512;
    }
    bail!("the archive has no end-of-archive marker")
}

/// Where releases are read from: the landing zone's S3 release store, or a local directory
/// of `<digest>/release.tar` (sandboxes and tests).
#[derive(Clone, Debug)]
pub enum ReleasesAt {
    Local(PathBuf),
    S3(crate::stores::Stores),
}

pub use crate::render::render_env;

/// A digest argument: 8 to 64 hex digits (a unique prefix is enough), checked by the one
/// validator the command line uses too (`lz_input::ids::release`).
fn check_digest_arg(digest: &str) -> Result<()> {
    lz_input::ids::release(digest)?;
    Ok(())
}

/// The one release a digest (prefix) names among `found`.
fn unique(found: Vec<String>, digest: &str, place: &str) -> Result<String> {
    match found.as_slice() {
        [] => bail!("no release {digest} in {place}"),
        [d] => Ok(d.clone()),
        _ => bail!("release prefix {digest} is ambiguous ({} releases)", found.len()),
    }
}

impl ReleasesAt {
    /// The release `digest` (or unique prefix), its archive hashed before it is unpacked
    /// under `work`.
    pub fn open(&self, digest: &str, work: &Path) -> Result<VerifiedRelease> {
        let stores = match self {
            ReleasesAt::Local(dir) => return VerifiedRelease::open(dir, digest, work),
            ReleasesAt::S3(s) => s,
        };
        check_digest_arg(digest)?;
        let store = stores.releases()?;
        let found = store.find(&digest.to_ascii_lowercase())?;
        let full = unique(
            found,
            digest,
            &format!("{} (publish it with `cargo xtask release publish --release DIGEST --as ID --key FILE`)", store.describe()),
        )?;
        let bytes = store
            .fetch(&full)?
            .with_context(|| format!("release {full} vanished from {}", store.describe()))?;
        let actual = sha256_hex(&bytes);
        if actual != full {
            return Err(refuse!(
                "{}{full}/release.tar: archive sha256 {actual} is not the release digest: the stored release was altered",
                store.describe()
            ));
        }
        VerifiedRelease::from_archive(&full, &bytes, work)
    }
}

impl VerifiedRelease {
    /// Opens the release `digest` (or unique prefix) stored under `releases`, checks that its
    /// archive hashes to the digest and unpacks it under `work`.
    pub fn open(releases: &Path, digest: &str, work: &Path) -> Result<VerifiedRelease> {
        check_digest_arg(digest)?;
        let prefix = digest.to_ascii_lowercase();
        // A whole digest names its directory: no listing of every release stored.
        let full = if lz_evidence::record::is_digest(&prefix) && releases.join(&prefix).is_dir() {
            prefix
        } else {
            let rd = std::fs::read_dir(releases)
                .with_context(|| format!("no releases in {}", releases.display()))?;
            let mut found: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with(&prefix) && lz_evidence::record::is_digest(n))
                .collect();
            found.sort();
            unique(found, digest, &releases.display().to_string())?
        };
        let archive_path = releases
            .join(&full)
            .join(lz_evidence::release::ARCHIVE_NAME);
        let bytes = std::fs::read(&archive_path)
            .with_context(|| format!("cannot read {}", archive_path.display()))?;
        let actual = sha256_hex(&bytes);
        if actual != full {
            return Err(refuse!(
                "{}: archive sha256 {actual} is not the release digest {full}: the stored release was altered",
                archive_path.display()
            ));
        }
        Self::from_archive(&full, &bytes, work)
    }

    /// Unpacks archive bytes whose sha256 is `digest`.
    pub fn from_archive(digest: &str, bytes: &[u8], work: &Path) -> Result<VerifiedRelease> {
        if sha256_hex(bytes) != digest {
            return Err(refuse!("the archive does not hash to release {digest}"));
        }
        let files = untar(bytes).with_context(|| format!("release {digest}: bad archive"))?;
        std::fs::create_dir_all(work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("release-{}-", &digest[..12]))
            .tempdir_in(work)
            .with_context(|| format!("cannot create a directory under {}", work.display()))?;
        for (rel, content) in &files {
            let p = dir.path().join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&p, content).with_context(|| format!("cannot write {}", p.display()))?;
        }
        Ok(VerifiedRelease {
            digest: digest.to_string(),
            files,
            dir,
            plans: Default::default(),
        })
    }

    /// The unpacked tree (modules/, environments/, policies/, governance/).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str) -> Result<&[u8]> {
        self.files
            .get(rel)
            .map(Vec::as_slice)
            .with_context(|| format!("release {} has no {rel}", &self.digest[..12]))
    }

    pub fn text(&self, rel: &str) -> Result<String> {
        String::from_utf8(self.file(rel)?.to_vec())
            .with_context(|| format!("release {}: {rel} is not UTF-8", &self.digest[..12]))
    }

    /// Where a governance file of this release is, for error messages.
    pub fn origin(&self, rel: &str) -> String {
        format!("{rel} (release {})", &self.digest[..12])
    }

    /// The offline plan of `environment`, rendered from the archive's modules and overlay (once
    /// per environment and opened release: the archive does not change).
    pub fn plan(&self, environment: &str) -> Result<Value> {
        if let Some(p) = self.plans.lock().unwrap_or_else(|e| e.into_inner()).get(environment) {
            return Ok(p.clone());
        }
        let plan = self.render(environment)?;
        self.plans.lock().unwrap_or_else(|e| e.into_inner()).insert(environment.to_string(), plan.clone());
        Ok(plan)
    }

    fn render(&self, environment: &str) -> Result<Value> {
        if !self.root().join("environments").join(environment).join("terraform.tfvars").is_file()
            && lz_platform::ENVIRONMENTS.contains(&environment)
        {
            return Err(refuse!(
                "release {} has no overlay for {environment}",
                &self.digest[..12]
            ));
        }
        render_env(self.root(), environment)
            .with_context(|| format!("rendering {environment} from release {}", &self.digest[..12]))
    }

    /// sha256 of the archived policy bundle (the files under policies/).
    pub fn policy_bundle(&self) -> Result<String> {
        let files: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("policies/"))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect();
        Ok(sha256_hex(&lz_evidence::release::tar(&files)?))
    }

    /// Governance files (governance/, policies/) that differ between `self` and `other`.
    pub fn governance_changes(&self, other: &VerifiedRelease) -> Vec<String> {
        let gov = |p: &String| is_governance(p);
        let mut out: Vec<String> = self
            .files
            .iter()
            .filter(|(p, _)| gov(p))
            .filter(|(p, b)| other.files.get(*p) != Some(*b))
            .map(|(p, _)| p.clone())
            .chain(
                other
                    .files
                    .keys()
                    .filter(|p| gov(p) && !self.files.contains_key(*p))
                    .cloned(),
            )
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The sha256 of a release manifest's bytes, as `release publish` signs it into the author's
/// release record.
pub fn manifest_sha256(manifest: &[u8]) -> String {
    lz_evidence::dsse::sha256_hex(manifest)
}

/// Whether the stored `manifest` of release `digest` is the one its author signed: `Ok(true)`
/// when the author's release record names its sha256, `Ok(false)` when that record names none
/// (published before manifests were signed), an error when it names another (the release
/// store was tampered with).
pub fn signed_manifest(records: &[crate::ledger::Record], digest: &str, manifest: &[u8]) -> Result<bool> {
    let signed = crate::chain::author_of(records, digest).and_then(|r| r.details.release()).and_then(|d| d.manifest_sha256.clone());
    match signed {
        Some(s) if s != manifest_sha256(manifest) => {
            anyhow::bail!("the stored manifest of release {digest} is not the one its author signed (sha256 {s}): the release store was tampered with")
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Records the signed authorship of a release: a release record of its digest signed by the
/// author's own key. The author of a release is the signer of its first such record; the
/// manifest's author field is a label, never trusted. `manifest_sha256`, the sha256 of the
/// published manifest, binds what the manifest says (its hygiene: built clean and checked, or
/// with `--allow-dirty`) to the author's signature.
pub fn sign_authorship(
    ledger: &crate::ledger::Ledger,
    author: &lz_evidence::Signer,
    digest: &str,
    ticket: &str,
    reason: &str,
    manifest_sha256: Option<String>,
    now: &crate::clock::Reading,
) -> Result<(u64, bool)> {
    use lz_evidence::record::{Fields, Kind};
    let records = ledger.records()?;
    if let Some(first) = crate::chain::author_of(&records, digest) {
        return Ok((first.sequence, false));
    }
    let who = author.identity();
    let id = ledger.identities().get(who);
    if !id.is_some_and(|i| i.has_role(lz_evidence::Role::Author)) {
        return Err(refuse!(
            "{who} does not have the author role in the identities register"
        ));
    }
    let fields = Fields::new(digest)
        .ticket(ticket)
        .reason(reason)
        .at(now.time)
        .details(lz_evidence::details::ReleaseDetails { clock: Some(now.source.clone()), manifest_sha256, ..Default::default() });
    Ok((ledger.append(Kind::Release, fields, author)?.sequence, true))
}
