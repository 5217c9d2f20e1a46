//! `cargo xtask provider-e2e [--root DIR]... [--mirror]`: module examples and the dev
//! environment applied to LocalStack with the real hashicorp/aws, terratest style
//! (`lz_platform::provider_e2e`). Exit 0 when every root passed, 1 when one failed, 2 on a tool
//! or input error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use lz_platform::provider_e2e;

#[derive(clap::Args)]
pub struct Args {
    /// A root module to run (repeatable; default: every module example and the dev environment)
    #[arg(long = "root")]
    roots: Vec<PathBuf>,
    /// Install hashicorp/aws 3.39.0 from the pinned mirror (.tools/aws-provider) instead of the registry
    #[arg(long)]
    mirror: bool,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let endpoint = lz_platform::localstack::require(root)?;
    let provider = if args.mirror { Some(lz_platform::provider::aws_3_39(root)?) } else { None };
    let roots = if args.roots.is_empty() { provider_e2e::default_roots(root)? } else { args.roots };
    let runs = provider_e2e::run(root, &endpoint, &roots, provider.as_ref())?;
    print!("{}", provider_e2e::render(&runs, provider.as_ref()));
    Ok(if runs.iter().all(provider_e2e::RootRun::ok) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
