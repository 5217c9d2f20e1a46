//! Content-addressed release artifacts of the deployable tree.
//!
//! The archive is a POSIX ustar file built in memory: regular files only, paths relative to
//! the repository with `/` separators, sorted by byte value, mode 0644, uid/gid 0, empty
//! owner names, mtime 0, no compression. The same tree therefore gives the same bytes
//! whatever the file times, owners or directory walk order, and its sha256 is the release
//! digest. The manifest describes the release; it is not part of the digest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dsse::sha256_hex;

/// Top-level directories that make up the deployable tree.
pub const TREE: [&str; 7] = ["environments", "governance", "modules", "policies", "released", "schema", "stacks"];
pub const ARCHIVE_NAME: &str = "release.tar";
pub const MANIFEST_NAME: &str = "manifest.json";
pub const MANIFEST_FORMAT: &str = "lz-release/v1";

/// Files never part of a release: local Terraform state and caches.
fn excluded(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    rel.split('/').any(|c| c == ".terraform")
        || name.ends_with(".tfstate")
        || name.ends_with(".tfstate.backup")
        || name == ".terraform.lock.hcl"
        || name.ends_with(".tfplan")
        || name == ".DS_Store"
}

/// Relative paths and contents of the files under `dirs` of `root`, sorted.
pub fn collect(root: &Path, dirs: &[&str]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for dir in dirs {
        let base = root.join(dir);
        if !base.exists() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&base).follow_links(false) {
            let entry = entry.with_context(|| format!("cannot walk {}", base.display()))?;
            let ft = entry.file_type();
            if ft.is_dir() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(root)
                .expect("walkdir yields paths under its root")
                .components()
                .map(|c| c.as_os_str().to_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .with_context(|| format!("{}: path is not UTF-8", entry.path().display()))?
                .join("/");
            if excluded(&rel) {
                continue;
            }
            if ft.is_symlink() {
                bail!("{rel}: symbolic links are not allowed in the deployable tree");
            }
            if !ft.is_file() {
                bail!("{rel}: only regular files are allowed in the deployable tree");
            }
            let bytes = std::fs::read(entry.path()).with_context(|| format!("cannot read {rel}"))?;
            files.push((rel, bytes));
        }
    }
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(files)
}

fn octal(field: &mut [u8], value: u64) {
    let n = field.len() - 1;
    let s = format!("{:0width$o}", value, width = n);
    field[..n].copy_from_slice(s.as_bytes());
    field[n] = 0;
}

fn header(path: &str, size: u64) -> Result<[u8; 512]> {
    let mut h = [0u8; 512];
    let (prefix, name) = if path.len() <= 100 {
        ("", path)
    } else {
        let split = path
            .char_indices()
            .filter(|(i, c)| *c == '/' && *i <= 155 && path.len() - i - 1 <= 100)
            .map(|(i, _)| i)
            .next()
            .with_context(|| format!("{path}: path too long for a ustar archive"))?;
        (&path[..split], &path[split + 1..])
    };
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    if size >= 1 << 33 {
        bail!("{path}: file too large for a ustar archive");
    }
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

/// A deterministic ustar archive of `files` (already sorted).
pub fn tar(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(files.iter().map(|f| 512 + f.1.len().div_ceil(512) * 512).sum::<usize>() + 1024);
    for (path, bytes) in files {
        out.extend_from_slice(&header(path, bytes.len() as u64)?);
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    Ok(out)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: String,
    pub dirty: bool,
}

/// How the release's tree was judged before it was built (`release build`, issue 28): clean and
/// passing `cargo xtask check`, or built with `--allow-dirty`, which skips both and is recorded
/// here so an auditor sees it. Absent in manifests built before the field existed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hygiene {
    /// Built with `--allow-dirty`: neither a clean tree nor a passing check was required.
    pub allow_dirty: bool,
    /// The outcome of `cargo xtask check` on the tree: "passed", or why it was not run.
    pub check: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderConstraint {
    pub source: String,
    pub constraints: Vec<String>,
    /// Configurations (module or `environments`) that declare it.
    pub declared_by: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tools {
    pub terraform: String,
    pub terraform_required_version: BTreeMap<String, String>,
    pub providers: BTreeMap<String, ProviderConstraint>,
    pub regorus: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// Who asked for the release (an identity with the author role), the change ticket and
    /// why: the request an approver and an auditor read first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// sha256 of the archive: the release digest.
    pub digest: String,
    pub archive: String,
    pub size: u64,
    pub git: GitInfo,
    /// Whether the tree was required clean and checked, or built with `--allow-dirty`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hygiene: Option<Hygiene>,
    pub modules: BTreeMap<String, Value>,
    pub policy_bundle: String,
    pub tools: Tools,
    pub files: Vec<FileEntry>,
}

pub struct BuildOptions {
    /// Directory under which `<digest>/` is created.
    pub releases_dir: PathBuf,
    /// Terraform version; when absent, `terraform_bin version -json` is run.
    pub terraform_version: Option<String>,
    pub terraform_bin: PathBuf,
    /// The requesting author, ticket and reason recorded in the manifest.
    pub author: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
}

pub struct Built {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Whether an identical release was already stored.
    pub existed: bool,
}

/// `git -C root ARGS` with git's environment overrides (`GIT_DIR`, `GIT_WORK_TREE`,
/// `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY`) removed: the checkout at `root` is what is judged,
/// whatever the caller's environment points git at.
pub fn git_at<I, A>(root: &Path, args: I) -> duct::Expression
where
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString>,
{
    let mut all: Vec<std::ffi::OsString> = vec!["-C".into(), root.into()];
    all.extend(args.into_iter().map(Into::into));
    duct::cmd("git", all)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
}

/// The commit of the tree at `root`, and whether the release's tree differs from it (or is no
/// git checkout at all).
pub fn git_info(root: &Path) -> GitInfo {
    let git = |args: Vec<std::ffi::OsString>| git_at(root, args).stdout_capture().stderr_null().unchecked().run();
    let commit = match git(["rev-parse", "--verify", "-q", "HEAD"].iter().map(Into::into).collect()) {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => return GitInfo { commit: "uncommitted".into(), dirty: true },
    };
    let mut status: Vec<std::ffi::OsString> =
        ["status", "--porcelain", "--untracked-files=all", "--"].iter().map(Into::into).collect();
    status.extend(TREE.iter().map(Into::into));
    let dirty = git(status).map(|o| !o.status.success() || !o.stdout.is_empty()).unwrap_or(true);
    GitInfo { commit, dirty }
}

/// `[modules.<name>]` tables of `modules/catalog.toml`, each with at least version and sha256
/// (`lz_repo::catalog::entries`).
pub fn read_catalog(root: &Path) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for (name, t) in lz_repo::catalog::entries(root)? {
        out.insert(name, serde_json::to_value(t)?);
    }
    Ok(out)
}

fn string_expr(e: &hcl::Expression) -> Option<String> {
    match e {
        hcl::Expression::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Required Terraform versions and provider constraints of every module and of the
/// environments root, from their `terraform {}` blocks.
pub fn constraints(root: &Path) -> Result<(BTreeMap<String, String>, BTreeMap<String, ProviderConstraint>)> {
    let mut configs: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(root.join("modules")) {
        let mut dirs: Vec<_> = rd.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs {
            configs.push((format!("modules/{}", d.file_name().unwrap().to_string_lossy()), d));
        }
    }
    configs.push(("environments".into(), root.join("environments")));
    let mut required = BTreeMap::new();
    let mut providers: BTreeMap<String, ProviderConstraint> = BTreeMap::new();
    for (name, dir) in configs {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut tfs: Vec<PathBuf> =
            rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "tf")).collect();
        tfs.sort();
        for tf in tfs {
            let text = std::fs::read_to_string(&tf).with_context(|| format!("cannot read {}", tf.display()))?;
            if !text.contains("terraform") {
                continue;
            }
            let body = hcl::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", tf.display()))?;
            for block in body.blocks().filter(|b| b.identifier() == "terraform") {
                for attr in block.body().attributes().filter(|a| a.key() == "required_version") {
                    if let Some(v) = string_expr(attr.expr()) {
                        required.insert(name.clone(), v);
                    }
                }
                for rp in block.body().blocks().filter(|b| b.identifier() == "required_providers") {
                    for attr in rp.body().attributes() {
                        let (source, version) = match attr.expr() {
                            hcl::Expression::Object(obj) => {
                                let mut source = None;
                                let mut version = None;
                                for (k, v) in obj {
                                    let key = match k {
                                        hcl::ObjectKey::Identifier(i) => i.to_string(),
                                        hcl::ObjectKey::Expression(e) => string_expr(e).unwrap_or_default(),
                                        _ => String::new(),
                                    };
                                    match key.as_str() {
                                        "source" => source = string_expr(v),
                                        "version" => version = string_expr(v),
                                        _ => {}
                                    }
                                }
                                (source.unwrap_or_else(|| format!("hashicorp/{}", attr.key())), version)
                            }
                            hcl::Expression::String(v) => (format!("hashicorp/{}", attr.key()), Some(v.clone())),
                            _ => bail!("{}: required_providers.{} is neither an object nor a string", tf.display(), attr.key()),
                        };
                        let entry = providers.entry(source.clone()).or_insert_with(|| ProviderConstraint {
                            source,
                            constraints: vec![],
                            declared_by: vec![],
                        });
                        if let Some(v) = version {
                            if !entry.constraints.contains(&v) {
                                entry.constraints.push(v);
                            }
                        }
                        if !entry.declared_by.contains(&name) {
                            entry.declared_by.push(name.clone());
                        }
                    }
                }
            }
        }
    }
    Ok((required, providers))
}

/// The `regorus` version locked in `Cargo.lock`.
pub fn regorus_version(root: &Path) -> Result<String> {
    let path = root.join("Cargo.lock");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let lock: toml::Table = toml::from_str(&text).with_context(|| format!("{}: not TOML", path.display()))?;
    lock.get("package")
        .and_then(|p| p.as_array())
        .and_then(|pkgs| {
            pkgs.iter().find(|p| p.get("name").and_then(|n| n.as_str()) == Some("regorus"))
        })
        .and_then(|p| p.get("version")?.as_str().map(String::from))
        .with_context(|| format!("{}: regorus is not locked", path.display()))
}

pub fn terraform_version(bin: &Path) -> Result<String> {
    // As an OsStr: duct runs a relative `Path` as `./terraform`, a string through PATH.
    let out = duct::cmd!(bin.as_os_str(), "version", "-json")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .with_context(|| format!("cannot run {} (pass the version with --terraform-version)", bin.display()))?;
    if !out.status.success() {
        bail!("{} version -json failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("`terraform version -json` printed no JSON")?;
    v.get("terraform_version")
        .and_then(Value::as_str)
        .map(String::from)
        .context("`terraform version -json` has no terraform_version")
}

/// Builds (or finds) the release of the tree at `root`.
pub fn build(root: &Path, opts: &BuildOptions) -> Result<Built> {
    build_judged(root, opts, None)
}

/// [`build`], recording how the tree was judged first ([`Hygiene`]) in the manifest.
pub fn build_judged(root: &Path, opts: &BuildOptions, hygiene: Option<Hygiene>) -> Result<Built> {
    let modules = read_catalog(root)?;
    // A release carries every control input its promotion is judged by: one missing here is
    // refused now, not found absent at promotion.
    for (rel, what) in lz_input::CONTROL_INPUTS {
        lz_input::read_required(&root.join(rel), what)?;
    }
    let files = collect(root, &TREE)?;
    let archive = tar(&files)?;
    let digest = sha256_hex(&archive);
    let policy_files: Vec<(String, Vec<u8>)> = files.iter().filter(|f| f.0.starts_with("policies/")).cloned().collect();
    let policy_bundle = sha256_hex(&tar(&policy_files)?);
    let (terraform_required_version, providers) = constraints(root)?;
    let terraform = match &opts.terraform_version {
        Some(v) => v.clone(),
        None => terraform_version(&opts.terraform_bin)?,
    };
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        author: opts.author.clone(),
        ticket: opts.ticket.clone(),
        reason: opts.reason.clone(),
        digest: digest.clone(),
        archive: ARCHIVE_NAME.into(),
        size: archive.len() as u64,
        git: git_info(root),
        hygiene,
        modules,
        policy_bundle,
        tools: Tools { terraform, terraform_required_version, providers, regorus: regorus_version(root)? },
        files: files.iter().map(|(p, b)| FileEntry { path: p.clone(), sha256: sha256_hex(b), size: b.len() as u64 }).collect(),
    };
    let dir = opts.releases_dir.join(&digest);
    let archive_path = dir.join(ARCHIVE_NAME);
    let existed = archive_path.exists();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if existed {
        let stored = std::fs::read(&archive_path)?;
        if sha256_hex(&stored) != digest {
            bail!("{}: stored archive does not match its digest; remove the directory and rebuild", archive_path.display());
        }
    } else {
        write_new(&archive_path, &archive)?;
    }
    std::fs::write(dir.join(MANIFEST_NAME), serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("cannot write {}", dir.join(MANIFEST_NAME).display()))?;
    Ok(Built { dir, manifest, existed })
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Finds a stored release by digest or unique prefix and checks its archive.
pub fn show(releases_dir: &Path, digest: &str) -> Result<(PathBuf, Manifest)> {
    if digest.len() < 8 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{digest:?} is not a release digest (8 to 64 hex digits)");
    }
    let rd = std::fs::read_dir(releases_dir).with_context(|| format!("no releases in {}", releases_dir.display()))?;
    let mut found: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&digest.to_ascii_lowercase()))
        .map(|e| e.path())
        .collect();
    found.sort();
    let dir = match found.as_slice() {
        [] => bail!("no release {digest} in {}", releases_dir.display()),
        [d] => d.clone(),
        _ => bail!("release prefix {digest} is ambiguous ({} releases)", found.len()),
    };
    let mpath = dir.join(MANIFEST_NAME);
    let text = std::fs::read(&mpath).with_context(|| format!("cannot read {}", mpath.display()))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| anyhow::anyhow!("{}:{}: bad manifest: {e}", mpath.display(), e.line()))?;
    let archive = std::fs::read(dir.join(ARCHIVE_NAME)).with_context(|| format!("cannot read the archive in {}", dir.display()))?;
    let actual = sha256_hex(&archive);
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    if actual != manifest.digest || actual != name {
        bail!("{}: archive sha256 {actual} does not match the release digest {name}", dir.display());
    }
    Ok((dir, manifest))
}
