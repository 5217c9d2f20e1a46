//! `cargo xtask classify`: the risk tier of an environment's change, per resource with the rule
//! that decided it.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use lz_promote::{Diff, RiskRules};

#[derive(clap::Args)]
pub struct Args {
    /// Environment whose plan is classified
    #[arg(long)]
    env: String,
    /// Plan JSON to classify instead of the environment's rendered plan
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Previous plan JSON to classify against (default: the plan of the last deployment, or
    /// the plan's own resource_changes actions)
    #[arg(long)]
    against: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let rules = RiskRules::load(root)?;
    let (plan, origin) = match &args.plan {
        Some(p) => (crate::promote::read_plan(p)?, p.display().to_string()),
        None => (crate::plan::render_env(root, &args.env)?, format!("the rendered plan of {}", args.env)),
    };
    let previous = match &args.against {
        Some(p) => Some((crate::promote::read_plan(p)?, p.display().to_string())),
        None => {
            let paths = lz_promote::Paths::for_root(root);
            if paths.evidence.exists() && paths.identities.exists() {
                let records = lz_promote::ledger::Ledger::open(&paths.identities, &paths.evidence)?.records()?;
                lz_promote::promote::deployed_plan(&paths, &records, &args.env).map(|p| (p, format!("the plan deployed to {}", args.env)))
            } else {
                None
            }
        }
    };
    let diff = match &previous {
        Some((prev, prev_origin)) => Diff::between_plans(prev, &plan, prev_origin, &origin, |t| rules.replace_attributes(t))?,
        None => Diff::from_plan_actions(&plan, &origin)?,
    };
    let c = rules.classify(&diff, &args.env);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        Format::Text => print!("{}", c.render_text()),
    }
    Ok(ExitCode::SUCCESS)
}
