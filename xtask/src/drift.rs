//! `cargo xtask drift`: deployed state and live bucket controls against the ones the deployed
//! release declares; exit 1 on drift (recorded either way; when the plan fails, only found drift is recorded). `--remediate` restores the auto
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
    let report = match drift::check(&paths, &t, &Names::of_target(&t), &signer, &now) {
        Ok(report) => report,
        Err(err) => return incomplete(err, args.format),
    };
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

/// A drift check whose Terraform plan failed (`drift::Incomplete`): the drift the other checks
/// found is printed first, then the plan's failure on one line (`-v`: in full); exit 1 when
/// something drifted, 2 otherwise. Any other error is returned as it is.
fn incomplete(err: anyhow::Error, format: Format) -> Result<ExitCode> {
    let Some(i) = err.downcast_ref::<drift::Incomplete>() else { return Err(err) };
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "environment": i.environment,
                "release": i.release,
                "findings": i.findings,
                "canary_state": "not checked",
                "terraform_error": crate::errors::error_line(&i.plan),
            }))?
        ),
        Format::Text => print!("{}", drift::render_incomplete(i)),
    }
    eprintln!("error: {}", crate::errors::error_line(&err));
    Ok(ExitCode::from(if i.findings.is_empty() { 2 } else { 1 }))
}
