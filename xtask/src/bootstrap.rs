//! `cargo xtask bootstrap`: an environment's state bucket, evidence bucket and deployer role in
//! its LocalStack account, with the settings the pinned release's plan declares, and the
//! governance pin (signed by the security group) that judges promotions into it until a
//! release is deployed there.
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_operate::bootstrap::{self, Names};
use lz_operate::promote::Target;

#[derive(clap::Args)]
#[command(mut_arg("identity", |a| {
    a.help("Identity of the security group that signs the pin (or, with --stores, the genesis register)").required(false).required_unless_present("stores")
}))]
pub struct Args {
    /// Create the landing zone's release and evidence stores (governance/stores.toml) with the
    /// settings the hosting environment's log archive declares in the working tree's plan, and
    /// start an empty evidence store with its genesis register (the register governance/stores.toml
    /// pins, signed by a person of its security group: --as, --key)
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
    if args.stores {
        let stores = lz_promote::stores::Stores::load(root, &endpoint)?;
        // The signer and the genesis register first, before any bucket is created.
        let signer = args.signer.as_ref().map(crate::context::SignerArgs::signer).transpose()?;
        let file = root.join(lz_promote::register::REGISTER_FILE);
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        // A store that already holds its chain keeps it (its register may since have changed by
        // quorum); an empty or missing one is started with the pinned register, checked here.
        let paths = crate::context::LandingZone::at(root, &endpoint)?.paths;
        let started = paths.ledger().and_then(|l| l.chain()).is_ok_and(|c| !c.records.is_empty());
        if !started {
            lz_promote::register::check_genesis(&stores.genesis_register_sha256, &text)?;
            if signer.is_none() {
                anyhow::bail!("the evidence store {} is empty: its genesis register is signed by a person of the security group (pass --as ID --key FILE)", paths.evidence.describe());
            }
        }
        let plan = lz_promote::release::render_env(root, &stores.environment)
            .with_context(|| format!("rendering the plan of {} (it hosts the stores)", stores.environment))?;
        let report = bootstrap::bootstrap_stores(&stores, &plan)?;
        print(&report);
        println!(
            "stores of the landing zone: releases s3://{}/, evidence s3://{}/ (account {}, {})",
            stores.release_bucket, stores.evidence_bucket, stores.account_id, stores.region
        );
        let now = Target::from_tree(root, &stores.environment, &endpoint)?.clock().now()?;
        match lz_promote::register::start(&paths, &stores.genesis_register_sha256, &text, signer.as_ref(), now.time)? {
            lz_promote::register::Started::Written(seq) => {
                println!("genesis register {} written as record {seq}", &stores.genesis_register_sha256[..12])
            }
            lz_promote::register::Started::Found => println!("the evidence store has its genesis register"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(env), Some(pin), Some(who)) = (args.env, args.pin, args.signer) else {
        anyhow::bail!("bootstrap needs --env, --pin and --as (or --stores)");
    };
    let paths = crate::context::LandingZone::at(root, &endpoint)?.paths;
    // The signer and the pin first, before any AWS call that acts (issue 26): a signer who may
    // not pin, or a release the chain would refuse, stops here with nothing created; an
    // environment already pinned is governed by the pinned release, so bootstrap acts as that
    // release's role, whatever --pin names.
    let signer = who.signer()?;
    let (resolved, release) = bootstrap::resolve_pin(&paths, &env, &pin, &signer)?;
    if let bootstrap::PinPlan::Existing { sequence, release } = &resolved {
        if !release.starts_with(&pin) {
            println!("note: {env} is already pinned to release {} (record {sequence}); bootstrap acts as that release's role", &release[..12.min(release.len())]);
        }
    }
    let t = Target::from_tree(release.root(), &env, &endpoint)?;
    let plan = release
        .plan(&env)
        .with_context(|| format!("rendering the plan of {env}"))?;
    let names = Names {
        // The state bucket the release's backend.hcl names, unless given.
        state_bucket: args.state_bucket.or_else(|| Some(t.state_bucket.clone())),
        evidence_bucket: args.evidence_bucket,
    };
    let spec = bootstrap::spec_from_plan(&plan, &env, &t.account_id, &t.region, &names)?;
    let now = t.clock().now()?;
    // As the environment role the governing release names (issue 26), not the checkout.
    let report = bootstrap::bootstrap(&endpoint, &spec, &t.deployer_role)?;
    print(&report);
    let (record, new) = bootstrap::pin(&paths, &env, &release.digest, &signer, &now)?;
    if new {
        println!("governance of {env} pinned to release {} (record {record})", &release.digest[..12]);
    } else {
        println!("governance of {env} was already pinned (record {record}); the first pin stands");
    }
    Ok(ExitCode::SUCCESS)
}
