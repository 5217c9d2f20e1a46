//! `cargo xtask classify`: the risk tier of a release for an environment, per resource with the
//! rule that decided it. The release's plan (rendered from its archive) is compared with the plan
//! of the environment's last deployment, under the environment's governance.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_promote::{Paths, Session};

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
    let endpoint = lz_platform::localstack::require(root)?;
    let session = Session::open(&Paths::landing_zone(root, &endpoint)?, &args.release, &args.env)?;
    let c = session.classify()?;
    // Approval classes (issue 31): per class still missing, who may approve and who is on call
    // now (the environment's clock, bounded).
    let t = lz_promote::promote::Target::from_tree(session.release.root(), &args.env, &endpoint)?;
    let (classes, now) = lz_promote::classes::missing_now(&session, &t.clock().now()?)?;
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&c)?;
            v["approval_classes"] = serde_json::to_value(&classes)?;
            println!("{}", serde_json::to_string_pretty(&v)?)
        }
        Format::Text => {
            eprintln!("{}", session.describe());
            print!("{}", c.render_text());
            if !classes.is_empty() {
                println!("approval classes missing at {} ({}):", lz_promote::window::rfc3339(now.time), now.source);
                print!("{}", lz_promote::classes::render_missing(&classes));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
