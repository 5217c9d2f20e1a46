//! `cargo xtask register check|status|propose|approve`: the identities register as the evidence chain
//! holds it. The working tree's `governance/identities.toml` is a proposal; it comes into force
//! only when a quorum of the security group (never its proposer, never an identity it alters)
//! approves it in the chain. Times come from the hosting environment's server clock.
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_operate::promote::Target;
use lz_promote::register::{self, Comparison, REGISTER_FILE};
use lz_promote::stores::Stores;
use lz_promote::Paths;

use crate::format::Format;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// The register in force, its quorum, pending proposals, and how the working tree's
    /// governance/identities.toml compares (exit 1 when it is not the register in force)
    Status {
        /// Status as text for people or JSON for bots
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Propose the working tree's governance/identities.toml as the next register
    #[command(mut_arg("identity", |a| a.help("A security approver (governance/identities.toml)")))]
    Propose {
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Why the register changes (ticket, who joins or leaves)
        #[arg(long)]
        reason: String,
    },
    /// Validate every file of governance/ (offline; the gate's governance step): exit 1 with
    /// findings, 2 when a file cannot be parsed or breaks its rules, naming file and line
    Check,
    /// Approve the register change proposed at a sequence of the chain
    #[command(mut_arg("identity", |a| a.help("A security approver other than the proposer and anyone the change alters")))]
    Approve {
        /// Sequence of the proposal (`register status` lists them)
        #[arg(long)]
        proposal: u64,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
    },
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    match args.command {
        Cmd::Check => check(root),
        online => run_online(root, online),
    }
}

/// The gate's governance step alone: offline.
fn check(root: &Path) -> Result<ExitCode> {
    let findings = lz_gate::governance::findings(root)?;
    for f in &findings.0 {
        println!("{f}");
    }
    println!("governance: {} finding(s)", findings.0.len());
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The commands that read or write the evidence chain.
fn run_online(root: &Path, command: Cmd) -> Result<ExitCode> {
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let stores = Stores::load(root, &endpoint)?;
    let now = || -> Result<time::OffsetDateTime> { Ok(Target::from_tree(root, &stores.environment, &endpoint)?.clock().now()?.time) };
    match command {
        Cmd::Check => check(root),
        Cmd::Status { format } => status(root, &paths, format),
        Cmd::Propose { signer: who, reason } => {
            let (identity, signer) = (&who.identity, who.signer()?);
            let text = std::fs::read_to_string(root.join(REGISTER_FILE)).with_context(|| format!("cannot read {REGISTER_FILE}"))?;
            let (r, pending) = register::propose(&paths, &text, &signer, &reason, now()?)?;
            println!("{identity} proposed register {} at sequence {}:", &pending.register.fingerprint()[..12], r.sequence);
            for (who, what) in &pending.changes {
                println!("  {who}: {what}");
            }
            println!("it comes into force with {} approval(s) by other people of the security group: cargo xtask register approve --proposal {} --as ID --key FILE", pending.missing, r.sequence);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Approve { proposal, signer: who } => {
            let (identity, signer) = (&who.identity, who.signer()?);
            let a = register::approve(&paths, proposal, &signer, now()?)?;
            match a.missing {
                None => println!("{identity} approved the register change at sequence {proposal} (record {}): it is in force", a.record.sequence),
                Some(n) => println!("{identity} approved the register change at sequence {proposal} (record {}): {n} more approval(s) needed", a.record.sequence),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn status(root: &Path, paths: &Paths, format: Format) -> Result<ExitCode> {
    let chain = paths.ledger()?.chain()?;
    let text = std::fs::read_to_string(root.join(REGISTER_FILE)).with_context(|| format!("cannot read {REGISTER_FILE}"))?;
    let cmp = register::compare(&chain, &text, REGISTER_FILE)?;
    let pending: Vec<serde_json::Value> = chain
        .pending
        .iter()
        .map(|p| {
            serde_json::json!({
                "sequence": p.sequence, "register_sha256": p.register.fingerprint(), "proposer": p.proposer,
                "approvers": p.approvers, "missing": p.missing, "changes": p.changes,
            })
        })
        .collect();
    let working = match &cmp {
        Comparison::InForce => serde_json::json!({"state": "in-force"}),
        Comparison::Pending { sequence, missing } => serde_json::json!({"state": "pending", "sequence": sequence, "missing": missing}),
        Comparison::Differs(changes) => serde_json::json!({"state": "differs", "changes": changes.iter().map(|(w, c)| serde_json::json!({"identity": w, "change": c})).collect::<Vec<_>>()}),
    };
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "register_sha256": chain.register.fingerprint(), "quorum": chain.register.quorum(),
                "identities": chain.register.len(), "pending": pending, "working_tree": working,
            }))?
        ),
        Format::Text => {
            println!(
                "register in force: {} ({} identities, quorum {})",
                chain.register.fingerprint(),
                chain.register.len(),
                chain.register.quorum()
            );
            for p in &chain.pending {
                println!(
                    "pending: sequence {} by {}, approved by [{}], {} more needed",
                    p.sequence,
                    p.proposer,
                    p.approvers.join(", "),
                    p.missing
                );
                for (who, what) in &p.changes {
                    println!("  {who}: {what}");
                }
            }
            match &cmp {
                Comparison::InForce => println!("{REGISTER_FILE}: the register in force"),
                Comparison::Pending { sequence, missing } => {
                    println!("{REGISTER_FILE}: the proposal at sequence {sequence}, {missing} approval(s) missing")
                }
                Comparison::Differs(changes) => {
                    println!("{REGISTER_FILE}: differs from the register in force (not proposed):");
                    for (who, what) in changes {
                        println!("  {who}: {what}");
                    }
                }
            }
        }
    }
    Ok(if cmp == Comparison::InForce { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
