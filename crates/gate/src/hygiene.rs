//! `release build`'s hygiene (issue 28, item 10): a release is built from a clean git checkout
//! whose gate (`cargo xtask check`) passes, unless the person building it says `--allow-dirty`,
//! which the manifest then records ([`lz_evidence::release::Hygiene`]) for an auditor to see.

use std::path::Path;

use anyhow::Result;
use lz_evidence::release::{git_at, git_info, Hygiene, TREE};
use lz_promote::refusal::refuse_if;

/// How many changed paths a refusal names.
const NAMED: usize = 5;

/// Judges the tree at `root` before a release of it is built. Refuses (exit 1) a tree that is
/// no git checkout, has uncommitted or untracked files under the release's directories, or on
/// which the gate finds anything, naming what and the way out; with `allow_dirty`, nothing is
/// judged and the returned [`Hygiene`] says so.
pub fn judge(root: &Path, allow_dirty: bool) -> Result<Hygiene> {
    if allow_dirty {
        return Ok(Hygiene { allow_dirty: true, check: "not run: built with --allow-dirty".into() });
    }
    let git = git_info(root);
    refuse_if!(
        git.dirty,
        "release build: the tree is not a clean git checkout ({}): commit the change first, or build anyway with \
         `cargo xtask release build --author ID --ticket T --reason R --allow-dirty` (recorded in the manifest)",
        changed(root, &git.commit)
    );
    let outcome = crate::gate(root, None, false)?;
    let findings: Vec<String> = outcome.steps.iter().flat_map(|(step, f)| f.iter().map(move |f| format!("{step}: {f}"))).collect();
    refuse_if!(
        !findings.is_empty(),
        "release build: `cargo xtask check` has {} finding(s) on this tree (first: {}): fix them, or build anyway with \
         `cargo xtask release build --author ID --ticket T --reason R --allow-dirty` (recorded in the manifest)",
        findings.len(),
        findings[0]
    );
    let check = match outcome.not_checked.len() {
        0 => "passed".to_string(),
        n => format!(
            "passed; {n} step(s) not checked: {}",
            outcome.not_checked.iter().map(|n| format!("{} ({})", n.step, n.why)).collect::<Vec<_>>().join(", ")
        ),
    };
    Ok(Hygiene { allow_dirty: false, check })
}

/// Confirms, after the build, that a release judged clean archived exactly the files of the
/// commit it names: every archived file must be the blob of `HEAD` at its path. This catches
/// what `git status` does not show (ignored files under the release's directories, files marked
/// `assume-unchanged` or `skip-worktree`) and a tree edited while the gate ran. A release built
/// with `--allow-dirty` is not confirmed (the manifest says so).
pub fn confirm(root: &Path, manifest: &lz_evidence::release::Manifest) -> Result<()> {
    if manifest.hygiene.as_ref().is_none_or(|h| h.allow_dirty) {
        return Ok(());
    }
    refuse_if!(
        manifest.git.dirty,
        "release build: the tree changed while it was judged (git status is no longer clean): build again from a clean checkout"
    );
    let differing = differing_from_head(root, &manifest.files)?;
    refuse_if!(
        !differing.is_empty(),
        "release build: {} archived file(s) are not the committed ones ({}): ignored, assume-unchanged or skip-worktree \
         files are not part of a clean tree; remove or commit them, or build anyway with `cargo xtask release build \
         --author ID --ticket T --reason R --allow-dirty` (recorded in the manifest)",
        differing.len(),
        name_some(&differing)
    );
    Ok(())
}

/// The archived files whose content is not `HEAD`'s blob at their path (or that `HEAD` lacks),
/// read with one `git cat-file --batch` ([`git_at`]: git reads the checkout at `root`).
fn differing_from_head(root: &Path, files: &[lz_evidence::release::FileEntry]) -> Result<Vec<String>> {
    use anyhow::Context as _;
    // `HEAD:./PATH` is relative to `root` even where `root` is not the top of the checkout.
    let input: String = files.iter().map(|f| format!("HEAD:./{}\n", f.path)).collect();
    let out = git_at(root, ["cat-file", "--batch"])
        .stdin_bytes(input)
        .stdout_capture()
        .stderr_null()
        .run()
        .context("git cat-file --batch failed on the release's tree")?
        .stdout;
    let mut rest = &out[..];
    let mut differing = Vec::new();
    for f in files {
        let nl = rest.iter().position(|b| *b == b'\n').context("git cat-file ended early")?;
        let header = String::from_utf8_lossy(&rest[..nl]).to_string();
        rest = &rest[nl + 1..];
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            differing.push(f.path.clone());
            continue;
        }
        let size: usize = header.rsplit(' ').next().and_then(|n| n.parse().ok()).with_context(|| format!("git cat-file: {header}"))?;
        anyhow::ensure!(rest.len() > size, "git cat-file ended early");
        if lz_evidence::dsse::sha256_hex(&rest[..size]) != f.sha256 {
            differing.push(f.path.clone());
        }
        rest = &rest[size + 1..];
    }
    Ok(differing)
}

fn name_some(paths: &[String]) -> String {
    match paths.len() {
        n if n > NAMED => format!("{} and {} more", paths[..NAMED].join(", "), n - NAMED),
        _ => paths.join(", "),
    }
}

/// What makes the tree dirty, for the refusal: the first changed paths, or that it is no checkout.
fn changed(root: &Path, commit: &str) -> String {
    if commit == "uncommitted" {
        return "no git commit".into();
    }
    let args = ["status", "--porcelain", "--untracked-files=all", "--"].into_iter().chain(TREE);
    let out = git_at(root, args).stderr_null().unchecked().read().unwrap_or_default();
    let paths: Vec<&str> = out.lines().filter_map(|l| l.get(3..)).collect();
    match paths.len() {
        0 => "git status failed".into(),
        n if n > NAMED => format!("{} and {} more changed", paths[..NAMED].join(", "), n - NAMED),
        _ => format!("{} changed", paths.join(", ")),
    }
}
