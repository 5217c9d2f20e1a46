//! `cargo xtask approve`: a signed approval of a release's plan for an environment. The plan,
//! its tier and the rules come from the release archive and the environment's governance; the
//! time from the environment's server clock.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_operate::promote::Target;
use lz_promote::Session;

#[derive(clap::Args)]
#[command(mut_arg("identity", |a| a.help("Approver identity (governance/identities.toml)")))]
pub struct Args {
    /// Release digest (or unique prefix)
    #[arg(long, value_parser = lz_input::ids::release)]
    release: String,
    /// Environment the approval is for (dev, test, uat, preprod, prod)
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: String,
    #[command(flatten)]
    signer: crate::context::SignerArgs,
    /// What was reviewed (recorded with the approval)
    #[arg(long)]
    reason: String,
    /// Change ticket
    #[arg(long)]
    ticket: Option<String>,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let session = Session::open(&paths, &args.release, &args.env)?;
    let t = Target::from_tree(session.release.root(), &args.env, &endpoint)?;
    let signer = args.signer.signer()?;
    let now = t.clock().now()?;
    let (r, tier) = session.approve(&signer, &args.reason, args.ticket.as_deref(), &now)?;
    println!(
        "{} approved release {} for {} (tier {tier}, plan {}, author {}) at {}: record {}",
        args.signer.identity,
        &session.digest()[..12],
        args.env,
        &session.plan_digest[..12],
        session.author,
        lz_promote::window::rfc3339(now.time),
        r.sequence
    );
    Ok(ExitCode::SUCCESS)
}
