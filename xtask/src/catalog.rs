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
        #[arg(value_parser = lz_input::ids::module)]
        module: String,
        #[arg(long)]
        owner: String,
        #[arg(long, value_parser = parse_risk)]
        risk: Risk,
        #[arg(long)]
        description: String,
    },
    /// Without MODULE: the catalog with each module's hash state. With MODULE: its card
    /// (inputs, outputs, the policy rules that judge it, versions with CHANGELOG and tag, a
    /// pinned example to paste)
    ///
    /// Example: cargo xtask catalog show trading-service
    Show {
        #[arg(value_parser = lz_input::ids::module)]
        module: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: crate::format::Format,
    },
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
        Action::Show { module: Some(module), format } => {
            let card = lz_service::card::card(root, &module)?;
            match format {
                crate::format::Format::Json => println!("{}", serde_json::to_string_pretty(&card)?),
                crate::format::Format::Text => print!("{}", card_text(&card)),
            }
        }
        Action::Show { module: None, .. } => {
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

/// A module card for people.
fn card_text(c: &lz_service::card::Card) -> String {
    use std::fmt::Write as _;
    let mut s = format!("{} {}  (owner {}, risk {})\n{}\n", c.module, c.version, c.owner, c.risk, c.description);
    let _ = writeln!(s, "\nInputs ({}):", c.inputs.len());
    for i in &c.inputs {
        let req = if i.required { "required".to_string() } else { format!("default {}", i.default_src.as_deref().unwrap_or("")) };
        let _ = writeln!(s, "  {:<28} {:<14} {req}\n      {}", i.name, i.type_src.as_deref().unwrap_or("any").lines().next().unwrap_or(""), i.description.as_deref().unwrap_or("(no description)"));
    }
    let _ = writeln!(s, "\nOutputs ({}):", c.outputs.len());
    for o in &c.outputs {
        let _ = writeln!(s, "  {:<28} {}", o.name, o.description.as_deref().unwrap_or("(no description)"));
    }
    let _ = writeln!(s, "\nControls: the policy rules that judge its resources ({}):", c.resource_types.join(", "));
    for k in &c.controls {
        let _ = writeln!(s, "  {:<12} {:<8} {}  [{}]", k.id, k.severity, k.title, k.types.join(", "));
    }
    let _ = writeln!(s, "\nVersions:");
    for v in &c.versions {
        let tag = if v.tagged { format!("tag {}", v.tag) } else { format!("tag {} MISSING", v.tag) };
        let _ = writeln!(s, "  {} {} ({tag})", v.version, v.date.as_deref().unwrap_or(""));
        for ch in &v.changes {
            let _ = writeln!(s, "    - {ch}");
        }
    }
    let _ = writeln!(s, "\nExample (pinned to {}):\n{}", lz_service::card::tag(&c.module, &c.version), c.example);
    s
}
