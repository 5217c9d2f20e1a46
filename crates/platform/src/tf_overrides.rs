//! Terraform override files (`override.tf`, `*_override.tf` and their `.tf.json` forms): Terraform
//! merges them over every other file of their directory, so one can point a backend or a
//! provider at another endpoint without a line of the reviewed configuration changing. The only
//! override the harness allows is the one it generates into a working copy for an endpoint
//! profile ([`crate::localstack_override::FILE_NAME`]); the gate refuses any in the landing
//! zone's Terraform ([`check`]) and a working copy is cleared of them before `init` ([`stray`]).

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::findings::Findings;

/// The directories of Terraform the gate judges.
pub const TERRAFORM_DIRS: [&str; 4] = ["stacks", "modules", "environments", "released"];

/// Whether Terraform reads `name` as an override file.
pub fn is_override(name: &str) -> bool {
    let stem = name.strip_suffix(".tf.json").or_else(|| name.strip_suffix(".tf"));
    stem.is_some_and(|s| s == "override" || s.ends_with("_override"))
}

/// Every override file under `dir`, symlinks included (recursively; `.terraform` and `.git` are
/// skipped), sorted.
pub fn find(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for e in walkdir::WalkDir::new(dir).into_iter().filter_entry(|e| ![".terraform", ".git"].contains(&e.file_name().to_string_lossy().as_ref())) {
        let e = e.map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
        // A symlink named as an override is one too: Terraform reads what it points at.
        if !e.file_type().is_dir() && is_override(&e.file_name().to_string_lossy()) {
            out.push(e.path().to_path_buf());
        }
    }
    out.sort();
    Ok(out)
}

/// The working copy `work`, whose Terraform root is `root_dir`, before `init`: the harness's own
/// generated override in `root_dir` (left by an earlier run) is removed, since it is written
/// again for this run's endpoint profile or not at all (real AWS); every other override file is
/// returned, for the caller to refuse.
pub fn stray(work: &Path, root_dir: &Path) -> Result<Vec<PathBuf>> {
    let own = root_dir.join(crate::localstack_override::FILE_NAME);
    if own.is_file() {
        std::fs::remove_file(&own).map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", own.display()))?;
    }
    find(work)
}

/// The gate's check: no override file in the landing zone's Terraform ([`TERRAFORM_DIRS`]).
pub fn check(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    for dir in TERRAFORM_DIRS {
        for p in find(&root.join(dir))? {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            f.push(
                "terraform override",
                Some(rel),
                None,
                "a Terraform override file merges over the reviewed configuration (backend, provider endpoints): \
                 the harness generates the only one it uses into a working copy"
                    .to_string(),
            );
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_names_are_terraforms() {
        for n in ["override.tf", "override.tf.json", "localstack_override.tf", "x_override.tf.json"] {
            assert!(is_override(n), "{n}");
        }
        for n in ["main.tf", "overrides.tf", "override.tfvars", "my-override.tf", "override.tf.bak"] {
            assert!(!is_override(n), "{n}");
        }
    }

    /// A symlink named as an override is found (Terraform reads its target), in a module too.
    #[test]
    fn an_override_behind_a_symlink_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("modules/x");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(dir.path().join("elsewhere.tf"), "terraform {}\n").unwrap();
        std::fs::write(m.join("main.tf"), "").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere.tf"), m.join("y_override.tf")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing.tf"), m.join("override.tf")).unwrap();
        assert_eq!(find(dir.path()).unwrap(), vec![m.join("override.tf"), m.join("y_override.tf")]);
    }
}
