//! `cargo xtask catalog add|bump|show`: the module catalog.

use std::path::Path;
use std::process::ExitCode;

use lz_platform::catalog::{self, Level, Risk};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Bump a module's version, add a CHANGELOG entry and record its new hash
    Bump {
        /// Module directory name under modules/ (e.g. trading-service)
        #[arg(value_parser = lz_input::ids::module)]
        module: String,
        /// major, minor or patch
        level: Level,
        /// The CHANGELOG line (what changed and why)
        #[arg(long, short)]
        message: String,
    },
    /// Add a new module to the catalog
    Add {
        /// New module directory under modules/ (README, variables, outputs, examples/basic)
        #[arg(value_parser = lz_input::ids::module)]
        module: String,
        /// Owning team (a group of governance/identities.toml)
        #[arg(long)]
        owner: String,
        /// Risk of changing the module: low, medium or high
        #[arg(long, value_parser = parse_risk)]
        risk: Risk,
        /// One line on what the module provides
        #[arg(long)]
        description: String,
    },
    /// Print the catalog with each module's current hash state
    Show,
}

fn parse_risk(s: &str) -> Result<Risk, String> {
    match s {
        "low" => Ok(Risk::Low),
        "medium" => Ok(Risk::Medium),
        "high" => Ok(Risk::High),
        _ => Err(format!("risk must be low, medium or high, not {s:?}")),
    }
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Bump { module, level, message } => {
            let today = lz_platform::today();
            let v = catalog::bump(root, &module, level, &message, &today)?;
            println!("{module} -> {v} (CHANGELOG entry added, hash recorded in {})", catalog::CATALOG);
        }
        Action::Add { module, owner, risk, description } => {
            catalog::add(root, &module, &owner, risk, &description)?;
            println!("{module} added to {}", catalog::CATALOG);
        }
        Action::Show => {
            let c = catalog::load(root)?;
            for (name, e) in &c.modules {
                let dir = root.join("modules").join(name);
                let state = if catalog::module_hash(&dir)? == e.sha256 { "ok" } else { "CHANGED" };
                println!("{name:<16} {:<8} {:<22} {:<7} {state}", e.version, e.owner, format!("{:?}", e.risk).to_lowercase());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
