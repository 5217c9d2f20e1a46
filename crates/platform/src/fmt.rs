//! `terraform fmt -check -recursive`: Terraform's own HCL parser over every configuration
//! directory of the repository.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::tools::Terraform;
use crate::Findings;

/// Directories holding Terraform configuration.
pub const DIRS: [&str; 3] = ["modules", "environments", "stacks"];

pub fn check(root: &Path, tf: &Terraform) -> Result<Findings> {
    let mut f = Findings::default();
    for dir in DIRS {
        let path = root.join(dir);
        if !path.is_dir() {
            continue;
        }
        let out = tf
            .command(&["fmt", "-check", "-recursive", "-list=true", "-no-color", &path.to_string_lossy()])
            .dir(root)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
            let p = PathBuf::from(line.trim());
            let rel = p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p);
            f.push("fmt", Some(rel), None, "not in canonical format: run `terraform fmt -recursive` (or `cargo xtask fmt`)");
        }
        if !out.status.success() && stdout.trim().is_empty() {
            anyhow::bail!("terraform fmt failed on {dir}/ (a syntax error Terraform cannot parse):\n{}", stderr.trim());
        }
    }
    Ok(f)
}
