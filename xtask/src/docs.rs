//! `cargo xtask docs [--check]`: module README input/output tables.

use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Fail (exit 1) instead of writing when a README is stale
    #[arg(long)]
    check: bool,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    if args.check {
        let findings = lz_platform::docs::check(root)?;
        for f in findings.iter() {
            println!("{f}");
        }
        return Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    for path in lz_platform::docs::generate(root)? {
        println!("updated {}", path.strip_prefix(root).unwrap_or(&path).display());
    }
    Ok(ExitCode::SUCCESS)
}
