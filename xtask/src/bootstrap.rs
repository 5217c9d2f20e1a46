//! `cargo xtask bootstrap`: an environment's state bucket, evidence bucket and deployer role in
//! its LocalStack account, with the settings its rendered plan declares.
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_promote::bootstrap::{self, Names};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    env: String,
    /// State bucket name instead of the plan's
    #[arg(long)]
    state_bucket: Option<String>,
    /// Evidence bucket name instead of the plan's (log archive)
    #[arg(long)]
    evidence_bucket: Option<String>,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let endpoint = lz_platform::localstack::require(root)?;
    let e = lz_platform::overlays::env_file(root, &args.env)?;
    let plan = crate::plan::render_env(root, &args.env)
        .with_context(|| format!("rendering the plan of {}", args.env))?;
    let names = Names {
        state_bucket: args.state_bucket,
        evidence_bucket: args.evidence_bucket,
    };
    let spec = bootstrap::spec_from_plan(&plan, &args.env, &e.account_id, &e.region, &names)?;
    let report = bootstrap::bootstrap(&endpoint, &spec)?;
    for c in &report.created {
        println!("created    {c}");
    }
    for c in &report.configured {
        println!("configured {c}");
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    Ok(ExitCode::SUCCESS)
}
