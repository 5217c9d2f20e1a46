//! Released copies of older module versions (issue 32, item 2; the layout is
//! `lz_repo::released`): `catalog vendor MODULE@VERSION` copies the module directory from its tag
//! `M-vX` into `released/M/X/` and records the copy's sha256 in the catalog; the gate's `pins`
//! step checks every copy against that record and, when the checkout has tags, against the tag
//! (a copy whose tag is missing is a finding; a checkout with no tags at all is the `module tags`
//! step's SKIP, which says the copies' tags are not checked either).
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::catalog::{module_hash, CATALOG};
use crate::module_tags::{catalog_at, existing, hash_at, holds, is_checkout, tag};
use crate::Findings;

/// The versions of `module` the tree at `root` knows: its catalog version and every version of
/// `modules/<module>/CHANGELOG.md`.
pub fn known_versions(root: &Path, module: &str, catalog_version: &str) -> Vec<String> {
    let mut out = vec![catalog_version.to_string()];
    if let Ok(text) = std::fs::read_to_string(root.join("modules").join(module).join("CHANGELOG.md")) {
        out.extend(crate::module_tags::changelog_versions(&text));
    }
    out
}

/// Writes `released/<module>/<version>/` from the tag `<module>-v<version>` of the checkout at
/// `root` and records its sha256 in the catalog; returns the copy's directory and sha256. The
/// copy must hash to the sha256 the tagged commit's own catalog recorded for that version (a
/// moved or forged tag is refused), and the version must not be the catalog's current one
/// (services on it render from `modules/`).
pub fn vendor(root: &Path, module: &str, version: &str) -> Result<(PathBuf, String)> {
    let mut catalog = crate::catalog::load(root)?;
    let entry = catalog.modules.get(module).with_context(|| format!("{module} is not in {CATALOG}"))?;
    if entry.version == version {
        bail!("{module}@{version} is the catalog's current version: services on it render from modules/{module}, no copy is needed");
    }
    if !is_checkout(root) {
        bail!("{} is not the top of a git checkout: the copy is made from the tag {}", root.display(), tag(module, version));
    }
    let name = tag(module, version);
    if !existing(root).contains(&name) {
        bail!("there is no tag {name}: fetch the tags (`git fetch --tags`) or create them (`cargo xtask catalog tags --create`)");
    }
    let at = format!("refs/tags/{name}");
    let recorded = catalog_at(root, &at)?;
    let Some((v, sha)) = recorded.get(module) else { bail!("{CATALOG} at {name} does not list {module}") };
    if v != version {
        bail!("{CATALOG} at {name} lists {module} at {v}, not {version}: the tag is misplaced");
    }
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let inner = format!("modules/{module}");
    duct::cmd!("git", "-C", root, "archive", "--format=tar", &at, &inner)
        .pipe(duct::cmd!("tar", "-x", "-C", tmp.path()))
        .stderr_null()
        .run()
        .with_context(|| format!("extracting {inner} at {name}"))?;
    let held = module_hash(&tmp.path().join(&inner))?;
    if held != *sha {
        bail!("tag {name} holds {inner} with sha256 {held}, not the {sha} its own {CATALOG} recorded: the tag was moved or forged");
    }
    let dest = lz_repo::released::dir(root, module, version)?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    std::fs::create_dir_all(dest.parent().unwrap_or(root)).with_context(|| format!("creating {}", dest.display()))?;
    crate::provider_e2e::copy_tree(&tmp.path().join(&inner), &dest)?;
    let copied = module_hash(&dest)?;
    if copied != held {
        bail!("{} hashes to {copied} after the copy, not {held}", dest.display());
    }
    catalog.modules.get_mut(module).expect("looked up above").released.insert(version.to_string(), copied.clone());
    crate::catalog::save(root, &catalog)?;
    Ok((dest, copied))
}

/// The gate's check of released copies: each catalog record has its directory, which hashes to
/// the recorded sha256, for a version the module's CHANGELOG has and that is not the current one;
/// no directory under `released/` lacks a record; and, when the checkout has tags, the tag of each
/// recorded version holds files of that sha256 (a copy edited by hand and re-recorded is a
/// finding).
pub fn check(root: &Path) -> Result<Findings> {
    let catalog = lz_repo::released::catalog(root)?;
    let mut f = Findings::default();
    let cat = || Some(PathBuf::from(CATALOG));
    let tags = existing(root);
    for (module, e) in &catalog.modules {
        for (version, sha) in &e.released {
            let rel = PathBuf::from(lz_repo::released::DIR).join(module).join(version);
            let dir = lz_repo::released::dir(root, module, version)?;
            if *version == e.version {
                f.push("pins", cat(), None, format!("{module}@{version} is the current version: remove its released copy and record (services on it render from modules/{module})"));
                continue;
            }
            if !known_versions(root, module, &e.version).contains(version) {
                f.push("pins", cat(), None, format!("released.{version:?} of {module}: modules/{module}/CHANGELOG.md has no version {version}"));
            }
            if !dir.is_dir() {
                f.push("pins", cat(), None, format!("{module}@{version}: the catalog records a released copy, but {}/ is missing: `cargo xtask catalog vendor {module}@{version}`", rel.display()));
                continue;
            }
            let held = module_hash(&dir)?;
            if held != *sha {
                f.push("pins", Some(rel.clone()), None, format!("{}/ hashes to {held}, not the catalog's {sha}: the copy was edited; `cargo xtask catalog vendor {module}@{version}` restores it", rel.display()));
            }
            let name = tag(module, version);
            if tags.contains(&name) && !holds(root, &format!("refs/tags/{name}"), &format!("modules/{module}"))? {
                f.push("pins", cat(), None, format!("the tag {name} of the released copy {module}@{version} holds no modules/{module}: the tag is misplaced"));
            } else if tags.contains(&name) {
                let tagged = hash_at(root, &format!("refs/tags/{name}"), module)?;
                if tagged != *sha {
                    f.push("pins", cat(), None, format!("the catalog records {sha} for {module}@{version}, but its tag {name} holds {tagged}: the released copy is not the tagged code"));
                }
            } else if !tags.is_empty() {
                // A checkout without any tag is the `module tags` step's SKIP (which names the
                // released copies); with tags, a copy's missing one is never a silent pass.
                f.push("pins", cat(), None, format!("the catalog records a released copy of {module}@{version}, but there is no tag {name} to check it against: fetch the tags or `cargo xtask catalog tags --create`"));
            }
        }
    }
    // The terraform engine writes its version calls to this file of its working copy and
    // refuses a release that holds one: found here, before any promotion.
    let generated = PathBuf::from("environments").join(crate::mixed_root::FILE);
    if root.join(&generated).exists() {
        f.push("pins", Some(generated), None, "the harness writes the version calls of mixed module versions to this file name: rename it".to_string());
    }
    let top = root.join(lz_repo::released::DIR);
    if top.is_dir() {
        for m in std::fs::read_dir(&top).with_context(|| format!("listing {}", top.display()))? {
            let m = m.with_context(|| format!("listing {}", top.display()))?;
            let module = m.file_name().to_string_lossy().into_owned();
            let versions = if m.path().is_dir() {
                std::fs::read_dir(m.path()).with_context(|| format!("listing {}", m.path().display()))?.filter_map(|v| v.ok()).collect()
            } else {
                Vec::new()
            };
            if versions.is_empty() {
                f.push("pins", Some(PathBuf::from(lz_repo::released::DIR).join(&module)), None, "not a released copy (released/<module>/<version>/): remove it".to_string());
            }
            for v in versions {
                let version = v.file_name().to_string_lossy().into_owned();
                let recorded = catalog.modules.get(&module).is_some_and(|e| e.released.contains_key(&version));
                if !recorded {
                    f.push(
                        "pins",
                        Some(PathBuf::from(lz_repo::released::DIR).join(&module).join(&version)),
                        None,
                        format!("a released copy the catalog does not record: remove it, or `cargo xtask catalog vendor {module}@{version}`"),
                    );
                }
            }
        }
    }
    Ok(f)
}
