//! `cargo xtask bootstrap`: an environment's state bucket, evidence bucket and deployer role in
//! its LocalStack account, with the settings the pinned release's plan declares, and the
//! governance pin (signed by the security group) that judges promotions into it until a
//! release is deployed there.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_promote::bootstrap::{self, Names};
use lz_promote::promote::Target;
use lz_promote::release::VerifiedRelease;
use lz_promote::Paths;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    env: String,
    /// The release whose governance judges the environment until something is deployed there
    #[arg(long)]
    pin: String,
    /// Identity of the security group that signs the pin
    #[arg(long = "as")]
    identity: String,
    /// Private key file (default: LZ_SIGNING_KEY)
    #[arg(long)]
    key: Option<PathBuf>,
    /// State bucket name instead of the plan's
    #[arg(long)]
    state_bucket: Option<String>,
    /// Evidence bucket name instead of the plan's (log archive)
    #[arg(long)]
    evidence_bucket: Option<String>,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let endpoint = lz_platform::localstack::require(root)?;
    let paths = Paths::for_root(root);
    let release = VerifiedRelease::open(&paths.releases, &args.pin, &paths.work.join("releases"))?;
    let t = Target::from_tree(release.root(), &args.env, &endpoint)?;
    let plan = release
        .plan(&args.env)
        .with_context(|| format!("rendering the plan of {}", args.env))?;
    let names = Names {
        state_bucket: args.state_bucket,
        evidence_bucket: args.evidence_bucket,
    };
    let spec = bootstrap::spec_from_plan(&plan, &args.env, &t.account_id, &t.region, &names)?;
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
    let signer = crate::promote::signer(&args.identity, args.key.as_deref())?;
    let now = t.clock().now()?;
    let (record, new) = bootstrap::pin(&paths, &args.env, &release.digest, &signer, &now)?;
    if new {
        println!("governance of {} pinned to release {} (record {record})", args.env, &release.digest[..12]);
    } else {
        println!("governance of {} was already pinned (record {record}); the first pin stands", args.env);
    }
    Ok(ExitCode::SUCCESS)
}
