//! `cargo xtask exceptions list`: the exceptions register with expiry and validity.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lz_policy::exceptions::{fmt_date, Register};

use crate::format::Format;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Html,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// List exceptions (exit 1 when any entry is invalid or expired)
    List {
        /// Only exceptions expiring within this many days (expired ones included)
        #[arg(long)]
        expiring_within: Option<i64>,
        /// Entries as text for people or JSON for bots
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Register file (default governance/exceptions.toml)
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Export the register with each entry's status (valid, expiring, expired, invalid and why)
    /// as CSV, JSON or a self-contained HTML page; exit 1 when any entry is expired or invalid
    Export {
        /// csv, json or a self-contained html page
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// "expiring" means within this many days
        #[arg(long, default_value_t = 30)]
        expiring_within: i64,
        /// Register file (default governance/exceptions.toml)
        #[arg(long)]
        file: Option<PathBuf>,
        /// Output file (default: standard output)
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign an approval of every exception of a release that names you as its approver
    #[command(mut_arg("identity", |a| a.help("Approver identity (a person of the security group)")))]
    Approve {
        /// Release digest (or unique prefix) whose governance/exceptions.toml is approved
        #[arg(long, value_parser = lz_input::ids::release)]
        release: String,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
    },
}

fn approve(root: &Path, release: &str, who: &crate::context::SignerArgs) -> anyhow::Result<ExitCode> {
    let identity = &who.identity;
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let signer = who.signer()?;
    let now = lz_operate::promote::Target::from_tree(root, "dev", &endpoint)?.clock().now()?;
    let done = lz_promote::approve::approve_exceptions(&paths, release, &signer, &now)?;
    if done.is_empty() {
        println!("no exception of release {release} waits for {identity}'s approval");
    }
    for (id, record) in done {
        println!("{identity} approved {id} of release {release}: record {record}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `exceptions export`: "today" is the landing zone's server clock (dev's STS endpoint), as
/// for every other report.
fn export(root: &Path, format: ExportFormat, within: i64, file: Option<PathBuf>, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use lz_report::exceptions as x;
    let endpoint = crate::context::endpoint(root)?;
    let today = lz_operate::promote::Target::from_tree(root, "dev", &endpoint)?.clock().now()?.time.date();
    let path = file.unwrap_or_else(|| root.join("governance/exceptions.toml"));
    let mut e = x::export(&path, Some(&root.join("governance/identities.toml")), today, within)?;
    // Each entry's signed approval and its signature, from the landing zone's verified chain
    // when its evidence store answers ("not checked: no evidence store" otherwise).
    let chain = crate::context::LandingZone::at(root, &endpoint).and_then(|lz| lz.paths.ledger()?.chain());
    match chain {
        Ok(chain) => x::with_approvals(&mut e, &lz_policy::Register::load(&path)?, &chain),
        Err(err) => eprintln!("note: signatures {}: {err:#}", x::NOT_CHECKED),
    }
    let text = match format {
        ExportFormat::Csv => x::to_csv(&e),
        ExportFormat::Json => x::to_json(&e)?,
        ExportFormat::Html => x::to_html(&e)?,
    };
    match &out {
        Some(p) => {
            std::fs::write(p, &text).map_err(|err| anyhow::anyhow!("cannot write {}: {err}", p.display()))?;
            eprintln!(
                "wrote {}: {} valid, {} expiring, {} expired, {} invalid",
                p.display(),
                e.counts.valid,
                e.counts.expiring,
                e.counts.expired,
                e.counts.invalid
            );
        }
        None => crate::out::emit(&text)?,
    }
    Ok(if e.failing() == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let (expiring_within, format, file) = match args.command {
        Sub::List { expiring_within, format, file } => (expiring_within, format, file),
        Sub::Approve { release, signer } => return approve(root, &release, &signer),
        Sub::Export { format, expiring_within, file, out } => return export(root, format, expiring_within, file, out),
    };
    let path = file.unwrap_or_else(|| root.join("governance/exceptions.toml"));
    let register = Register::load_with_identities(&path, &root.join("governance/identities.toml"))?;
    let today = lz_policy::today()?;
    let selected: Vec<_> = register
        .exceptions
        .iter()
        .filter(|e| expiring_within.is_none_or(|d| e.days_left(today) <= d))
        .collect();
    let mut invalid = 0;
    match format {
        Format::Json => {
            let items: Vec<_> = selected
                .iter()
                .map(|e| {
                    let problems = register.entry_problems(e, today);
                    invalid += usize::from(!problems.is_empty());
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    v["days_left"] = serde_json::json!(e.days_left(today));
                    v["valid"] = serde_json::json!(problems.is_empty());
                    v["problems"] = serde_json::json!(problems);
                    v
                })
                .collect();
            let doc = serde_json::json!({ "today": fmt_date(today), "exceptions": items });
            crate::out::emit(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
        }
        Format::Text => {
            let mut out = String::new();
            for e in &selected {
                let problems = register.entry_problems(e, today);
                invalid += usize::from(!problems.is_empty());
                let status = if problems.is_empty() {
                    "valid".to_string()
                } else {
                    problems.join("; ")
                };
                out.push_str(&format!(
                    "{}  {}  env={} address={}  owner={} approver={}  ticket={}  expires {} ({} days)  {}\n",
                    e.id,
                    e.rule_id,
                    e.scope.environment,
                    e.scope.address,
                    e.owner,
                    e.approver.as_deref().unwrap_or("-"),
                    e.ticket,
                    fmt_date(e.expires),
                    e.days_left(today),
                    status
                ));
            }
            out.push_str(&format!(
                "{} exception(s) listed, {invalid} invalid\n",
                selected.len()
            ));
            crate::out::emit(&out)?;
        }
    }
    Ok(if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
