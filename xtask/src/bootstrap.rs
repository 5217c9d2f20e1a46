//! `cargo xtask bootstrap`: an environment's state bucket, evidence bucket and deployer role in
//! its LocalStack account, with the settings the governing release's plan declares (the pin's
//! release for a new environment, else the release governing it in the chain), and the
//! governance pin (signed by the security group) that judges promotions into it until a
//! release is deployed there; every run leaves a signed record of what it applied.
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_operate::bootstrap::{self, Names};

#[derive(clap::Args)]
#[command(mut_arg("identity", |a| {
    a.help("Identity of the security group that signs the pin and the record of what was applied (with --stores, the genesis register of an empty store, or the record of a started one; always needed)").required(false).required_unless_present("stores")
}))]
pub struct Args {
    /// Create the landing zone's release and evidence stores (governance/stores.toml) and start an
    /// empty evidence store with its genesis register (the register governance/stores.toml pins,
    /// with the settings the hosting environment's log archive declares in the working tree's
    /// plan); a store that holds its chain is brought back to the settings of the release
    /// governing the hosting environment, never the working tree's. Signed by a person of the
    /// security group (--as, --key) either way
    #[arg(long, conflicts_with_all = ["env", "pin"])]
    stores: bool,
    /// Environment whose buckets, deployer role and governance pin are created
    #[arg(long, required_unless_present = "stores", value_parser = lz_input::ids::environment)]
    env: Option<String>,
    /// The release whose governance judges the environment until something is deployed there
    #[arg(long, required_unless_present = "stores", value_parser = lz_input::ids::release)]
    pin: Option<String>,
    #[command(flatten)]
    signer: Option<crate::context::SignerArgs>,
    /// State bucket name instead of the plan's
    #[arg(long)]
    state_bucket: Option<String>,
    /// Evidence bucket name instead of the plan's (log archive)
    #[arg(long)]
    evidence_bucket: Option<String>,
}

fn print(report: &bootstrap::Report) {
    for c in &report.created {
        println!("created    {c}");
    }
    for c in &report.configured {
        println!("configured {c}");
    }
    for n in &report.notes {
        println!("note: {n}");
    }
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let endpoint = crate::context::endpoint(root)?;
    let paths = crate::context::LandingZone::at(root, &endpoint)?.paths;
    if args.stores {
        let stores = lz_promote::stores::Stores::load(root, &endpoint)?;
        // The signer and the genesis register first, before any bucket is created.
        let signer = args.signer.as_ref().map(crate::context::SignerArgs::signer).transpose()?;
        let file = root.join(lz_promote::register::REGISTER_FILE);
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let done = bootstrap::stores(root, &paths, &stores, &text, signer.as_ref(), None)?;
        print(&done.report);
        println!(
            "stores of the landing zone: releases s3://{}/, evidence s3://{}/ (account {}, {})",
            stores.release_bucket, stores.evidence_bucket, stores.account_id, stores.region
        );
        match done.started {
            bootstrap::StoresStarted::Genesis(seq) => println!("genesis register {} written as record {seq}", &stores.genesis_register_sha256[..12]),
            bootstrap::StoresStarted::Governed { release, record } => println!(
                "the evidence store has its chain: the settings of release {} (governing {}) applied, recorded as record {record}",
                &release[..12],
                stores.environment
            ),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(env), Some(pin), Some(who)) = (args.env, args.pin, args.signer) else {
        anyhow::bail!("bootstrap needs --env, --pin and --as (or --stores)");
    };
    // The signer and the governance first, before any AWS call that acts (issue 26): a signer
    // who may not pin, or a release the chain would refuse, stops with nothing created; an
    // environment already pinned is governed by its governing release (its last admitted
    // deployment's, else the pin's), which bootstrap acts as, whatever --pin names.
    let signer = who.signer()?;
    let names = Names { state_bucket: args.state_bucket, evidence_bucket: args.evidence_bucket };
    let done = bootstrap::environment(&paths, &endpoint, &env, &pin, &signer, &names, None)?;
    print(&done.report);
    match &done.plan {
        bootstrap::PinPlan::New { release } => println!("governance of {env} pinned to release {} (record {})", &release[..12], done.record),
        bootstrap::PinPlan::Existing { sequence, governing, .. } => {
            if !governing.starts_with(&pin) {
                println!("note: {env} is governed by release {} (its pin is record {sequence}): bootstrap acted as that release, not --pin {pin}", &governing[..12]);
            }
            println!("governance of {env} was already pinned (record {sequence}); the first pin stands; what was applied is record {}", done.record);
        }
    }
    Ok(ExitCode::SUCCESS)
}
