use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cargo xtask bootstrap` is not built yet")
}
