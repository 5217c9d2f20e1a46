//! Short commands of the xtask (git, cargo, pip) through xshell's `cmd!`, as rust-analyzer's
//! xtask writes them; long-running children (Terraform, LocalStack, the test run) go through
//! duct in `lz_platform`.
use std::path::Path;

use anyhow::{Context, Result};
use xshell::Shell;

/// A shell whose current directory is the repository root.
pub fn at(root: &Path) -> Result<Shell> {
    let sh = Shell::new().context("cannot start a shell")?;
    sh.change_dir(root);
    Ok(sh)
}

/// The cargo that runs this xtask.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
