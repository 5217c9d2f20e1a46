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
            f.push("fmt", Some(rel), None, "not in canonical format: run `terraform fmt -recursive`");
        }
        if !out.status.success() && stdout.trim().is_empty() {
            match first_diagnostic(&stderr) {
                Some((file, line, summary)) => anyhow::bail!(
                    "{file}:{line}: malformed HCL: {summary} (terraform fmt)\n{}",
                    stderr.trim()
                ),
                None => anyhow::bail!("terraform fmt failed on {dir}/:\n{}", stderr.trim()),
            }
        }
    }
    Ok(f)
}

/// The first `Error: SUMMARY` and its `on FILE line N:` from Terraform's diagnostics.
fn first_diagnostic(stderr: &str) -> Option<(String, usize, String)> {
    let mut summary = None;
    for line in stderr.lines().map(str::trim) {
        if summary.is_none() {
            summary = line.strip_prefix("Error: ").map(str::to_string);
            continue;
        }
        if let Some(rest) = line.strip_prefix("on ") {
            let (file, tail) = rest.rsplit_once(" line ")?;
            let n = tail.trim_end_matches(':').split(',').next()?.trim().parse().ok()?;
            return Some((file.to_string(), n, summary?));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn diagnostic_location() {
        let stderr = "\nError: Invalid multi-line string\n\n  on environments/dev/terraform.tfvars line 2:\n   2: a = \"x\n";
        assert_eq!(
            super::first_diagnostic(stderr),
            Some(("environments/dev/terraform.tfvars".into(), 2, "Invalid multi-line string".into()))
        );
        assert_eq!(super::first_diagnostic("no diagnostics"), None);
    }
}
