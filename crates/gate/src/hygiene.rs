//! `release build`'s hygiene (issue 28, item 10): a release is built from a clean git checkout
//! whose gate (`cargo xtask check`) passes, unless the person building it says `--allow-dirty`,
//! which the manifest then records ([`lz_evidence::release::Hygiene`]) for an auditor to see.

use std::path::Path;

use anyhow::Result;
use lz_evidence::release::{git_info, Hygiene, TREE};
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
    Ok(Hygiene { allow_dirty: false, check: "passed".into() })
}

/// What makes the tree dirty, for the refusal: the first changed paths, or that it is no checkout.
fn changed(root: &Path, commit: &str) -> String {
    if commit == "uncommitted" {
        return "no git commit".into();
    }
    let mut args = vec!["-C".to_string(), root.display().to_string(), "status".into(), "--porcelain".into(), "--untracked-files=all".into(), "--".into()];
    args.extend(TREE.iter().map(|d| d.to_string()));
    let out = duct::cmd("git", args).stderr_null().unchecked().read().unwrap_or_default();
    let paths: Vec<&str> = out.lines().filter_map(|l| l.get(3..)).collect();
    match paths.len() {
        0 => "git status failed".into(),
        n if n > NAMED => format!("{} and {} more changed", paths[..NAMED].join(", "), n - NAMED),
        _ => format!("{} changed", paths.join(", ")),
    }
}
