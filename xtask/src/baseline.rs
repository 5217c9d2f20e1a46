use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_root: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cargo xtask baseline` is not built yet")
}

pub fn bench_properties(_root: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("benchmark not built yet")
}
