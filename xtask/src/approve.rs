//! `cargo xtask approve`: a signed approval of a release's plan for an environment.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use lz_promote::ledger::Ledger;
use lz_promote::promote::{self, Governance};
use lz_promote::{Diff, Paths};

#[derive(clap::Args)]
pub struct Args {
    /// Release digest (or unique prefix)
    #[arg(long)]
    release: String,
    #[arg(long)]
    env: String,
    /// Approver identity (governance/identities.toml)
    #[arg(long = "as")]
    identity: String,
    /// The approver's ed25519 private key file
    /// Private key file (default: LZ_SIGNING_KEY)
    #[arg(long)]
    key: Option<PathBuf>,
    #[arg(long)]
    reason: String,
    /// Change ticket
    #[arg(long)]
    ticket: Option<String>,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let paths = Paths::for_root(root);
    let gov = Governance::load(root)?;
    let rel = promote::release(&paths, &args.release)?;
    if rel.author.is_none() {
        anyhow::bail!(
            "release {} names no author in its manifest: segregation of duties cannot be checked, so it cannot be approved",
            &rel.digest[..12]
        );
    }
    let plan = crate::plan::render_env(root, &args.env)?;
    let ledger = Ledger::open(&paths.identities, &paths.evidence)?;
    let records = ledger.records()?;
    let diff = match promote::deployed_plan(&paths, &records, &args.env) {
        Some(prev) => Diff::between_plans(&prev, &plan, "deployed plan", "release plan", |t| {
            gov.rules.replace_attributes(t)
        })?,
        None => Diff::from_plan_actions(&plan, "release plan")?,
    };
    let tier = gov.rules.classify(&diff, &args.env).tier;
    let signer = crate::promote::signer(&args.identity, args.key.as_deref())?;
    let now = lz_promote::window::now()?;
    let r = promote::approve(
        &gov,
        &ledger,
        &signer,
        &rel.digest,
        rel.author.as_deref(),
        &args.env,
        &plan,
        tier,
        &args.reason,
        args.ticket.as_deref(),
        now,
    )?;
    println!(
        "{} approved release {} for {} (tier {tier}, plan {}): record {}",
        args.identity,
        &rel.digest[..12],
        args.env,
        &promote::plan_digest(&plan)[..12],
        r.sequence
    );
    Ok(ExitCode::SUCCESS)
}
