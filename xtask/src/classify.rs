//! `cargo xtask classify`: the risk tier of a release for an environment, per resource with the
//! rule that decided it. The release's plan (rendered from its archive) is compared with the plan
//! of the environment's last deployment, under the environment's governance.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_promote::Session;

use crate::format::Format;

#[derive(clap::Args)]
pub struct Args {
    /// Release digest (or unique prefix)
    #[arg(long, value_parser = lz_input::ids::release)]
    release: String,
    /// Environment the release would go to
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: String,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { paths, .. } = crate::context::LandingZone::open(root)?;
    let session = Session::open(&paths, &args.release, &args.env)?;
    let c = session.classify()?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        Format::Text => {
            eprintln!("{}", session.describe());
            print!("{}", c.render_text())
        }
    }
    Ok(ExitCode::SUCCESS)
}
