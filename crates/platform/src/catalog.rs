//! The module catalog, `modules/catalog.toml`: each module's semver version, owning team, risk
//! class and the sha256 of its files. A module whose files changed without a version bump and a
//! CHANGELOG entry fails the gate; `cargo xtask catalog bump` is the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::Findings;

pub use lz_repo::catalog::{load, parse, Catalog, Entry, Risk, CATALOG};
const HEADER: &str = "# The module catalog: every pre-approved module, its version, owner, risk class and the\n# sha256 of its files. Maintained by `cargo xtask catalog add|bump`; checked by `cargo xtask check`.\n\n";

pub fn save(root: &Path, catalog: &Catalog) -> Result<()> {
    let path = root.join(CATALOG);
    let body = toml::to_string_pretty(catalog).context("serialising the catalog")?;
    std::fs::write(&path, format!("{HEADER}{body}")).with_context(|| format!("writing {}", path.display()))
}

/// Module directories under `modules/`.
pub fn module_dirs(root: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let dir = root.join("modules");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                out.insert(name.to_string(), path);
            }
        }
    }
    Ok(out)
}

/// The sha256 of a module: over its files sorted by relative path, each as path, length and
/// bytes, so renames, moves and edits all change it. Terraform working files are ignored.
pub fn module_hash(dir: &Path) -> Result<String> {
    let mut files: Vec<(String, PathBuf)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".terraform")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap_or(e.path()).to_string_lossy().replace('\\', "/");
            (rel, e.path().to_path_buf())
        })
        .filter(|(rel, _)| hashed(rel))
        .collect();
    files.sort();
    let mut h = Sha256::new();
    for (rel, path) in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        hash_file(&mut h, &rel, &bytes);
    }
    Ok(hex::encode(h.finalize()))
}

/// Whether a module's file at `rel` (relative to the module) is part of its hash: Terraform's
/// local files (`.terraform/`, the lock file, state) are not.
fn hashed(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    !(rel.split('/').any(|c| c == ".terraform") || name == ".terraform.lock.hcl" || name.ends_with(".tfstate") || name.ends_with(".tfstate.backup"))
}

fn hash_file(h: &mut Sha256, rel: &str, bytes: &[u8]) {
    h.update(rel.as_bytes());
    h.update([0]);
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// [`module_hash`] of the module whose files sit under `dir` (e.g. `modules/kms-key`) in a
/// release's files (relative path -> bytes, as a release archive holds them): the hash of the
/// code the release really carried, whatever its catalog says. `None` when it holds none.
pub fn module_hash_in(files: &std::collections::BTreeMap<String, Vec<u8>>, dir: &str) -> Option<String> {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    let mut h = Sha256::new();
    let mut any = false;
    for (path, bytes) in files.range(prefix.clone()..) {
        let Some(rel) = path.strip_prefix(&prefix) else { break };
        if !hashed(rel) {
            continue;
        }
        hash_file(&mut h, rel, bytes);
        any = true;
    }
    any.then(|| hex::encode(h.finalize()))
}

/// The newest version in a CHANGELOG (`## [x.y.z] - date`).
pub fn changelog_version(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix("## [")?;
        let (v, _) = rest.split_once(']')?;
        Some(v.to_string())
    })
}

/// `major.minor.patch` of a version (`lz_repo::rollout::semver`, which rollout plans use too).
use lz_repo::rollout::semver as parse_semver;

/// The gate's catalog check. `base` is the catalog at the base revision, when known, to catch a
/// hash edited by hand without a version bump.
pub fn check(root: &Path, base: Option<&Catalog>) -> Result<Findings> {
    let catalog = load(root)?;
    let dirs = module_dirs(root)?;
    let mut f = Findings::default();
    let rel = PathBuf::from(CATALOG);
    for (name, dir) in &dirs {
        let Some(entry) = catalog.modules.get(name) else {
            f.push("catalog", Some(rel.clone()), None, format!(
                "module {name} is not in the catalog: run `cargo xtask catalog add {name} --owner TEAM --risk low|medium|high --description TEXT`"
            ));
            continue;
        };
        if parse_semver(&entry.version).is_none() {
            f.push("catalog", Some(rel.clone()), None, format!("module {name}: version {:?} is not semver x.y.z", entry.version));
        }
        let changelog = dir.join("CHANGELOG.md");
        match std::fs::read_to_string(&changelog).ok().as_deref().and_then(changelog_version) {
            Some(v) if v == entry.version => {}
            Some(v) => f.push("catalog", Some(changelog.strip_prefix(root).unwrap_or(&changelog).to_path_buf()), None, format!(
                "module {name}: newest CHANGELOG entry is {v} but the catalog says {}: run `cargo xtask catalog bump {name} <major|minor|patch> --message TEXT`",
                entry.version
            )),
            None => f.push("catalog", Some(changelog.strip_prefix(root).unwrap_or(&changelog).to_path_buf()), None, format!(
                "module {name}: CHANGELOG.md has no `## [x.y.z]` entry"
            )),
        }
        let hash = module_hash(dir)?;
        if hash != entry.sha256 {
            f.push("catalog", Some(rel.clone()), None, format!(
                "module {name} changed without a version bump (files hash {}, catalog {} at {}): run `cargo xtask catalog bump {name} <major|minor|patch> --message TEXT`",
                &hash[..12], entry.sha256.get(..12).unwrap_or(&entry.sha256), entry.version
            ));
        }
        if let Some(old) = base.and_then(|b| b.modules.get(name)) {
            if old.sha256 != entry.sha256 && old.version == entry.version {
                f.push("catalog", Some(rel.clone()), None, format!(
                    "module {name}: its hash changed since the base revision but its version is still {}: run `cargo xtask catalog bump {name} <major|minor|patch> --message TEXT`",
                    entry.version
                ));
            }
            if let (Some(a), Some(b)) = (parse_semver(&old.version), parse_semver(&entry.version)) {
                if b < a {
                    f.push("catalog", Some(rel.clone()), None, format!("module {name}: version went backwards ({} -> {})", old.version, entry.version));
                }
            }
        }
    }
    for name in catalog.modules.keys() {
        if !dirs.contains_key(name) {
            f.push("catalog", Some(rel.clone()), None, format!("catalog lists {name} but modules/{name} does not exist"));
        }
    }
    Ok(f)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Major,
    Minor,
    Patch,
}

impl std::str::FromStr for Level {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "major" => Ok(Level::Major),
            "minor" => Ok(Level::Minor),
            "patch" => Ok(Level::Patch),
            other => bail!("bump level must be major, minor or patch, not {other:?}"),
        }
    }
}

/// Bump a module's version, add a CHANGELOG entry and record the new hash. Returns the new
/// version.
pub fn bump(root: &Path, name: &str, level: Level, message: &str, today: &str) -> Result<String> {
    let mut catalog = load(root)?;
    let entry = catalog.modules.get_mut(name).with_context(|| format!("module {name} is not in {CATALOG}"))?;
    let (ma, mi, pa) = parse_semver(&entry.version).with_context(|| format!("module {name}: version {:?} is not semver", entry.version))?;
    let next = match level {
        Level::Major => format!("{}.0.0", ma + 1),
        Level::Minor => format!("{ma}.{}.0", mi + 1),
        Level::Patch => format!("{ma}.{mi}.{}", pa + 1),
    };
    let dir = root.join("modules").join(name);
    let changelog = dir.join("CHANGELOG.md");
    let text = std::fs::read_to_string(&changelog).unwrap_or_else(|_| "# Changelog\n".to_string());
    let section = match level {
        Level::Major => "Changed (breaking)",
        Level::Minor => "Added",
        Level::Patch => "Fixed",
    };
    let new_entry = format!("## [{next}] - {today}\n\n### {section}\n\n- {message}\n\n");
    let updated = match text.find("\n## [") {
        Some(i) => format!("{}\n{new_entry}{}", &text[..i], &text[i + 1..]),
        None => format!("{}\n\n{new_entry}", text.trim_end()),
    };
    std::fs::write(&changelog, updated).with_context(|| format!("writing {}", changelog.display()))?;
    entry.version = next.clone();
    entry.sha256 = module_hash(&dir)?;
    save(root, &catalog)?;
    Ok(next)
}

/// Add a module to the catalog at 1.0.0 (its CHANGELOG must already say 1.0.0).
pub fn add(root: &Path, name: &str, owner: &str, risk: Risk, description: &str) -> Result<()> {
    let mut catalog = if root.join(CATALOG).exists() { load(root)? } else { Catalog::default() };
    let dir = root.join("modules").join(name);
    if !dir.is_dir() {
        bail!("modules/{name} does not exist");
    }
    // An empty module (no .tf file, or nothing declared) is never catalogued.
    let files = crate::hcl::parse_module_dir(&dir)?;
    let declares = files.iter().any(|f| ["resource", "module", "data"].iter().any(|k| crate::hcl::blocks(&f.body, k).next().is_some()));
    if !declares {
        bail!(
            "modules/{name} declares no resource, data source or module call ({} .tf file(s)): an empty module cannot be catalogued; add its main.tf first",
            files.len()
        );
    }
    let version = std::fs::read_to_string(dir.join("CHANGELOG.md"))
        .ok()
        .as_deref()
        .and_then(changelog_version)
        .unwrap_or_else(|| "1.0.0".to_string());
    catalog.modules.insert(
        name.to_string(),
        Entry {
            version,
            owner: owner.to_string(),
            risk,
            description: description.to_string(),
            sha256: module_hash(&dir)?,
            rollout: BTreeMap::new(),
            deprecated: BTreeMap::new(),
            revoked: BTreeMap::new(),
            released: BTreeMap::new(),
        },
    );
    save(root, &catalog)
}

#[cfg(test)]
mod hash_tests {
    /// The hash of a module's files held in memory (as a release archive holds them) is the hash
    /// of the same files on disk; Terraform's local files do not count, another module's do not
    /// leak in, and a module the files do not hold has none.
    #[test]
    fn a_module_hashes_the_same_in_a_release_archive_and_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("modules/kms-key");
        std::fs::create_dir_all(m.join("examples/basic")).unwrap();
        std::fs::create_dir_all(m.join(".terraform")).unwrap();
        let files = [("main.tf", "resource \"x\" \"this\" {}\n"), ("variables.tf", "variable \"a\" {}\n"), ("examples/basic/main.tf", "module \"m\" {}\n")];
        let mut archive = std::collections::BTreeMap::new();
        for (rel, text) in files {
            std::fs::write(m.join(rel), text).unwrap();
            archive.insert(format!("modules/kms-key/{rel}"), text.as_bytes().to_vec());
        }
        std::fs::write(m.join(".terraform/cache"), "x").unwrap();
        std::fs::write(m.join(".terraform.lock.hcl"), "x").unwrap();
        archive.insert("modules/kms-key/.terraform.lock.hcl".into(), b"x".to_vec());
        archive.insert("modules/kms-key-extra/main.tf".into(), b"y".to_vec());
        archive.insert("modules/kms/main.tf".into(), b"z".to_vec());
        let on_disk = super::module_hash(&m).unwrap();
        assert_eq!(super::module_hash_in(&archive, "modules/kms-key").as_deref(), Some(on_disk.as_str()));
        archive.insert("modules/kms-key/outputs.tf".into(), b"output \"o\" {}\n".to_vec());
        assert_ne!(super::module_hash_in(&archive, "modules/kms-key").as_deref(), Some(on_disk.as_str()), "an added file changes the hash");
        assert_eq!(super::module_hash_in(&archive, "modules/nope"), None);
    }
}
