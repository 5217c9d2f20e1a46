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
    /// Previous plan JSON to classify against (default: the environment's approved baseline;
    /// with --plan, the plan's own resource_changes actions)
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
        None => (
            crate::plan::render_env(root, &args.env)?,
            format!("the rendered plan of {}", args.env),
        ),
    };
    let diff = match (&args.against, &args.plan) {
        (Some(p), _) => Diff::between_plans(
            &crate::promote::read_plan(p)?,
            &plan,
            &p.display().to_string(),
            &origin,
            |t| rules.replace_attributes(t),
        )?,
        (None, Some(_)) => Diff::from_plan_actions(&plan, &origin)?,
        (None, None) => {
            let d = lz_baseline::snapshot::env_diff(root, &args.env)?;
            let origin = format!("the approved baseline of {}", args.env);
            Diff::from_baseline_json(&serde_json::to_value(&d)?, &origin, |t| {
                rules.replace_attributes(t)
            })?
        }
    };
    let c = rules.classify(&diff, &args.env);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        Format::Text => print!("{}", c.render_text()),
    }
    Ok(ExitCode::SUCCESS)
}
