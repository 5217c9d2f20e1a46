//! `cargo xtask delegate`: delegations of approval classes (issue 31). `grant` records a
//! delegation signed by the delegator (an in-person approver of the class in the governance in
//! force in `--env`), for a period of at most the governance's `max_delegation_days`; `revoke`
//! records its revocation, signed by the delegator. The time is the environment's clock,
//! bounded by the evidence chain.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_operate::promote::Target;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Delegate an approval class to another eligible approver for a bounded period
    Grant {
        /// The environment whose governance names the class
        #[arg(long, value_parser = lz_input::ids::environment)]
        env: String,
        /// The approval class (governance/approval-classes.toml)
        #[arg(long)]
        class: String,
        /// The delegate (a person with the approver role in one of the class's groups)
        #[arg(long, value_parser = lz_input::ids::identity)]
        to: String,
        /// Start of the period (RFC 3339 or YYYY-MM-DD)
        #[arg(long)]
        from: String,
        /// End of the period, exclusive (RFC 3339 or YYYY-MM-DD)
        #[arg(long)]
        until: String,
        #[command(flatten)]
        signer: Delegator,
    },
    /// Revoke a delegation (by its record's sequence)
    Revoke {
        /// The environment whose governance names the delegation's class
        #[arg(long, value_parser = lz_input::ids::environment)]
        env: String,
        /// Sequence of the delegation record
        #[arg(long)]
        record: u64,
        #[command(flatten)]
        signer: Delegator,
    },
}

// The delegator (`--as`, `--key`) and why.
#[derive(clap::Args)]
#[command(mut_arg("identity", |a| a.help("The delegator's identity (governance/identities.toml)")))]
struct Delegator {
    #[command(flatten)]
    signer: crate::context::SignerArgs,
    /// Why (free text, recorded)
    #[arg(long)]
    reason: String,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let (env, s) = match &args.command {
        Cmd::Grant { env, signer, .. } | Cmd::Revoke { env, signer, .. } => (env.clone(), signer),
    };
    let signer = s.signer.signer()?;
    // The clock of the environment as its governing release declares it.
    let (_, release) = lz_promote::classes::delegation::governance_of(&paths, &env)?;
    let archive = paths.open_release(&release)?;
    let now = Target::from_tree(archive.root(), &env, &endpoint)?.clock().now()?;
    match &args.command {
        Cmd::Grant { class, to, from, until, .. } => {
            let g = lz_promote::classes::delegation::Grant {
                environment: &env,
                class,
                delegate: to,
                from: crate::evidence::time_arg(from, false)?,
                until: crate::evidence::time_arg(until, false)?,
                reason: &s.reason,
            };
            let seq = lz_promote::classes::delegation::delegate(&paths, &signer, &g, &now)?;
            println!("{} delegated class {class} to {to} from {from} until {until}: record {seq}", s.signer.identity);
        }
        Cmd::Revoke { record, .. } => {
            let seq = lz_promote::classes::delegation::revoke(&paths, &env, &signer, *record, &s.reason, &now)?;
            println!("{} revoked delegation {record}: record {seq}", s.signer.identity);
        }
    }
    Ok(ExitCode::SUCCESS)
}
