//! GitHub Actions workflows are linted with actionlint (bootstrapped from PyPI).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::Findings;

pub fn check(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    let dir = root.join(".github/workflows");
    if !dir.is_dir() {
        return Ok(f);
    }
    let bin = crate::tools::actionlint(root)?;
    let out = duct::cmd(&bin, ["-no-color", "-format", "{{range $err := .}}{{$err.Filepath}}:{{$err.Line}}:{{$err.Column}}: {{$err.Message}} [{{$err.Kind}}]\n{{end}}"])
        .dir(root)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .with_context(|| format!("running {}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ':');
        let file = parts.next().map(PathBuf::from);
        let line_no = parts.next().and_then(|l| l.parse().ok());
        let msg = parts.next().unwrap_or(line).trim().to_string();
        f.push("actionlint", file, line_no, msg);
    }
    if !out.status.success() && f.is_empty() {
        anyhow::bail!("actionlint failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(f)
}
