//! Module versions as git tags (issue 28, item 1): every catalog version `X` of a module `M` is
//! the annotated tag `M-vX`, which is what a service team pins (`?ref=M-vX`).
//!
//! - [`release`]: after `catalog bump` or `catalog add` wrote the new version, commits the
//!   module's directory and the catalog (only those paths) and tags that commit.
//! - [`missing`] / [`backfill`]: the CHANGELOG versions without their tag, and tags for them at
//!   the last commit whose catalog lists the version (`cargo xtask catalog tags [--create]`).
//! - [`check_refs`]: every `?ref=` in the READMEs and module examples names a tag that exists or
//!   a version the module's CHANGELOG has (so its tag is what a release of it creates).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::catalog::{changelog_version, CATALOG};
use crate::Findings;

/// The tag of a module version.
pub fn tag(module: &str, version: &str) -> String {
    format!("{module}-v{version}")
}

/// `git -C root ARGS`, its stdout on success, the error naming the command otherwise.
fn git(root: &Path, args: &[&str]) -> Result<String> {
    let out = duct::cmd("git", [&["-C", &root.to_string_lossy()][..], args].concat())
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .context("running git")?;
    if !out.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `root` is the top of a git checkout (not merely a directory inside another one,
/// whose history a tag must never be written into).
pub fn is_checkout(root: &Path) -> bool {
    let Ok(top) = git(root, &["rev-parse", "--show-toplevel"]) else { return false };
    match (std::fs::canonicalize(top.trim()), std::fs::canonicalize(root)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The tags of the checkout at `root` (empty when it is none).
pub fn existing(root: &Path) -> BTreeSet<String> {
    if !is_checkout(root) {
        return BTreeSet::new();
    }
    git(root, &["tag", "--list"]).map(|s| s.lines().map(str::to_string).collect()).unwrap_or_default()
}

/// The versions of a CHANGELOG, newest first (`## [x.y.z]` headings).
pub fn changelog_versions(text: &str) -> Vec<String> {
    text.lines().filter(|l| l.starts_with("## [")).filter_map(changelog_version).collect()
}

/// A created tag: its name and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub tag: String,
    pub commit: String,
}

/// Commits `modules/<module>` and the catalog (only those paths; nothing else staged goes in)
/// as "`<module> <version>: <message>`" and creates the annotated tag `<module>-v<version>` on
/// that commit. Refuses when `root` is no git checkout or the tag already exists.
pub fn release(root: &Path, module: &str, version: &str, message: &str) -> Result<Tagged> {
    if !is_checkout(root) {
        bail!("{} is not the top of a git checkout", root.display());
    }
    let name = tag(module, version);
    if existing(root).contains(&name) {
        bail!("tag {name} already exists: a released version is never re-tagged; bump the version instead");
    }
    let dir = format!("modules/{module}");
    git(root, &["add", "--", &dir, CATALOG])?;
    let subject = format!("{module} {version}: {message}");
    // `commit -- PATHS` commits those paths only, whatever else is staged.
    git(root, &["commit", "--quiet", "-m", &subject, "--", &dir, CATALOG])?;
    let commit = git(root, &["rev-parse", "HEAD"])?.trim().to_string();
    annotate(root, &name, &commit, &subject)?;
    Ok(Tagged { tag: name, commit })
}

fn annotate(root: &Path, name: &str, commit: &str, subject: &str) -> Result<()> {
    let hash = catalog_at(root, commit).ok().and_then(|c| {
        let (module, _) = name.rsplit_once("-v")?;
        c.get(module).map(|(_, sha)| sha.clone())
    });
    let body = match hash {
        Some(h) => format!("{subject}\n\nModule files sha256 {h} (modules/catalog.toml at {commit})."),
        None => subject.to_string(),
    };
    git(root, &["tag", "--annotate", name, "-m", &body, commit])?;
    Ok(())
}

/// Each module's (version, sha256) in `modules/catalog.toml` at `commit`, read loosely (older
/// catalogs lack later fields).
pub(crate) fn catalog_at(root: &Path, commit: &str) -> Result<BTreeMap<String, (String, String)>> {
    let text = git(root, &["show", &format!("{commit}:{CATALOG}")])?;
    let doc: toml::Table = toml::from_str(&text).with_context(|| format!("{CATALOG} at {commit}"))?;
    let modules = doc.get("modules").and_then(|m| m.as_table()).with_context(|| format!("{CATALOG} at {commit}: no [modules]"))?;
    Ok(modules
        .iter()
        .filter_map(|(name, t)| {
            let field = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
            Some((name.clone(), (field("version")?, field("sha256").unwrap_or_default())))
        })
        .collect())
}

/// The sha256 of `modules/<module>` as it is at `commit` (`catalog::module_hash` of its files
/// extracted with `git archive`).
/// Whether `commit` holds `path` (a file or directory).
pub(crate) fn holds(root: &Path, commit: &str, path: &str) -> Result<bool> {
    Ok(!git(root, &["ls-tree", "--name-only", commit, "--", path])?.trim().is_empty())
}

pub(crate) fn hash_at(root: &Path, commit: &str, module: &str) -> Result<String> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = format!("modules/{module}");
    duct::cmd!("git", "-C", root, "archive", "--format=tar", commit, &dir)
        .pipe(duct::cmd!("tar", "-x", "-C", tmp.path()))
        .stderr_null()
        .run()
        .with_context(|| format!("extracting {dir} at {commit}"))?;
    crate::catalog::module_hash(&tmp.path().join(&dir))
}

/// Every CHANGELOG version of every catalog module whose tag does not exist: `(module,
/// version, tag)`.
pub fn missing(root: &Path) -> Result<Vec<(String, String, String)>> {
    missing_of(root, &crate::catalog::load(root)?, &existing(root))
}

/// [`missing`] of a catalog and a tag set already read.
fn missing_of(root: &Path, catalog: &lz_repo::catalog::Catalog, tags: &BTreeSet<String>) -> Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for name in catalog.modules.keys() {
        let changelog = root.join("modules").join(name).join("CHANGELOG.md");
        let text = std::fs::read_to_string(&changelog).with_context(|| format!("reading {}", changelog.display()))?;
        for v in changelog_versions(&text) {
            let t = tag(name, &v);
            if !tags.contains(&t) {
                out.push((name.clone(), v, t));
            }
        }
    }
    Ok(out)
}

/// Creates each [`missing`] tag at the last commit whose `modules/catalog.toml` lists the
/// module at that version. A version no commit's catalog lists (it was never merged) is
/// returned as not tagged, with why.
pub fn backfill(root: &Path) -> Result<(Vec<Tagged>, Vec<(String, String)>)> {
    if !is_checkout(root) {
        bail!("{} is not the top of a git checkout", root.display());
    }
    let commits: Vec<String> = git(root, &["log", "--format=%H", "--", CATALOG])?.lines().map(str::to_string).collect();
    let mut catalogs = Vec::new();
    for c in &commits {
        if let Ok(cat) = catalog_at(root, c) {
            catalogs.push((c.clone(), cat));
        }
    }
    let (mut made, mut not) = (Vec::new(), Vec::new());
    for (module, version, name) in missing(root)? {
        // Newest first: the last commit at which the catalog still named this version and the
        // module's files there hash to what the catalog recorded for it.
        let mut at = None;
        for (commit, cat) in &catalogs {
            match cat.get(&module) {
                Some((v, sha)) if *v == version && hash_at(root, commit, &module)? == *sha => {
                    at = Some((commit, cat));
                    break;
                }
                _ => {}
            }
        }
        match at {
            Some((commit, _)) => {
                annotate(root, &name, commit, &format!("{module} {version}"))?;
                made.push(Tagged { tag: name, commit: commit.clone() });
            }
            None => not.push((name, format!("no commit's {CATALOG} lists {module} at {version} with the module's files as they were"))),
        }
    }
    Ok((made, not))
}

/// The gate's `module tags` step: every CHANGELOG version of every catalog module has its tag
/// (`catalog tags --create` makes the missing ones), and the tag of each module's current
/// catalog version holds files that hash to the catalog's sha256 (a moved or forged tag is a
/// finding). `Err`-free "not checked" (the reason) when the checkout has no tags at all: a clone
/// made without them (`git fetch --tags`), or no git checkout.
pub fn check_tags(root: &Path) -> Result<std::result::Result<Findings, String>> {
    let tags = existing(root);
    if tags.is_empty() {
        return Ok(Err("the checkout has no tags (fetch them: `git fetch --tags`); the released copies (released/) are not checked against their tags either".into()));
    }
    let mut f = Findings::default();
    let catalog_file = root.join(CATALOG);
    let catalog = crate::catalog::load(root)?;
    for (module, version, name) in missing_of(root, &catalog, &tags)? {
        f.push(
            "module tags",
            Some(PathBuf::from(format!("modules/{module}/CHANGELOG.md"))),
            None,
            format!("{module} {version} has no tag {name}: `cargo xtask catalog tags --create` tags it where the catalog recorded it"),
        );
    }
    for (module, entry) in &catalog.modules {
        let name = tag(module, &entry.version);
        if !tags.contains(&name) {
            continue;
        }
        let held = hash_at(root, &format!("refs/tags/{name}"), module)?;
        if held != entry.sha256 {
            f.push(
                "module tags",
                Some(catalog_file.strip_prefix(root).unwrap_or(&catalog_file).to_path_buf()),
                None,
                format!(
                    "tag {name} holds modules/{module} with sha256 {held}, not the catalog's {}: the tag was moved or made from other files; \
                     delete it and run `cargo xtask catalog tags --create`",
                    entry.sha256
                ),
            );
        }
    }
    Ok(Ok(f))
}

/// The files whose `?ref=` a service team copies: the README, each module's README and the
/// module examples.
fn ref_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![root.join("README.md")];
    for (_, dir) in crate::catalog::module_dirs(root)? {
        files.push(dir.join("README.md"));
        for e in walkdir::WalkDir::new(dir.join("examples")).into_iter().filter_map(|e| e.ok()) {
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "tf" || x == "md") {
                files.push(e.path().to_path_buf());
            }
        }
    }
    Ok(files.into_iter().filter(|f| f.is_file()).collect())
}

/// Each `?ref=VALUE` of `text` with its 1-based line.
pub fn refs_in(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(p) = rest.find("?ref=") {
            rest = &rest[p + 5..];
            let value: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/')).collect();
            // `?ref=` in prose (followed by a backtick or a space) names nothing.
            if !value.is_empty() {
                out.push((i + 1, value));
            }
        }
    }
    out
}

/// Every `?ref=` of the READMEs and module examples names an existing tag, or `M-vX` for a
/// catalog module `M` whose CHANGELOG has version `X` (a finding otherwise, with file:line).
pub fn check_refs(root: &Path) -> Result<Findings> {
    let catalog = crate::catalog::load(root)?;
    let tags = existing(root);
    let mut f = Findings::default();
    for file in ref_files(root)? {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        for (line, value) in refs_in(&text) {
            if tags.contains(&value) {
                continue;
            }
            let released = value.rsplit_once("-v").filter(|(m, _)| catalog.modules.contains_key(*m)).is_some_and(|(m, v)| {
                std::fs::read_to_string(root.join("modules").join(m).join("CHANGELOG.md")).is_ok_and(|t| changelog_versions(&t).iter().any(|x| x == v))
            });
            if !released {
                f.push("module refs", Some(rel.clone()), Some(line), format!(
                    "?ref={value} names neither a tag nor a catalog version: pin `<module>-v<version>` of modules/catalog.toml (`cargo xtask catalog show MODULE` prints the block to paste)"
                ));
            }
        }
    }
    Ok(f)
}
