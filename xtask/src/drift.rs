//! `cargo xtask drift`: deployed state and live bucket controls against the ones the deployed
//! release declares; exit 1 on drift (recorded either way). `--remediate` restores the auto
//! drift classes and exits 0 when everything drifted was restored and re-checked clean.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_operate::bootstrap::Names;
use lz_operate::promote::Target;
use lz_operate::drift;

use crate::format::Format;

#[derive(clap::Args)]
#[command(mut_arg("identity", |a| a.help("Deployer identity that signs the drift record")))]
pub struct Args {
    /// Environment to check (dev, test, uat, preprod, prod)
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: String,
    #[command(flatten)]
    signer: crate::context::SignerArgs,
    /// Findings as text for people or JSON for bots
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Restore the drift classes marked auto (governance/drift-classes.toml of the deployed
    /// release), re-check and record; manual classes fail naming their owner
    #[arg(long)]
    remediate: bool,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let tree = drift::deployed_tree(&paths, &args.env)?;
    let t = Target::from_tree(tree.root(), &args.env, &endpoint)?;
    let signer = args.signer.signer()?;
    let now = t.clock().now()?;
    if args.remediate {
        let o = lz_operate::remediate::remediate(&paths, &t, &Names::of_target(&t), &signer, &now)?;
        match args.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&o)?),
            Format::Text => print!("{}", lz_operate::remediate::render_text(&o)),
        }
        return Ok(if o.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let report = drift::check(&paths, &t, &Names::of_target(&t), &signer, &now)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", drift::render_text(&report)),
    }
    Ok(if report.drifted() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
