//! `cargo xtask break-glass`: open a time-boxed emergency session, record its retrospective,
//! list sessions.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use lz_promote::ledger::Ledger;
use lz_promote::window::rfc3339;
use lz_promote::{breakglass, Paths};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Open a session: promotions into ENV may bypass approvals and windows until it expires
    Open {
        #[arg(long)]
        env: String,
        #[arg(long = "as")]
        identity: String,
        /// Private key file (default: LZ_SIGNING_KEY)
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long)]
        reason: String,
        /// Incident or change ticket
        #[arg(long)]
        ticket: String,
        /// Minutes until the session expires (at most 240)
        #[arg(long)]
        ttl: u32,
        /// Limit the session to one release digest
        #[arg(long)]
        release: Option<String>,
    },
    /// Record the retrospective of session ID (someone other than its opener)
    Retrospective {
        #[arg(long)]
        id: u64,
        #[arg(long = "as")]
        identity: String,
        /// Private key file (default: LZ_SIGNING_KEY)
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long)]
        ticket: String,
        #[arg(long)]
        outcome: String,
    },
    /// List sessions; exit 1 when a retrospective is overdue
    List,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let paths = Paths::for_root(root);
    let ledger = Ledger::open(&paths.identities, &paths.evidence)?;
    let now = lz_promote::window::now()?;
    match args.command {
        Cmd::Open {
            env,
            identity,
            key,
            reason,
            ticket,
            ttl,
            release,
        } => {
            let e = lz_platform::overlays::env_file(root, &env)?;
            let signer = crate::promote::signer(&identity, key.as_deref())?;
            let r = breakglass::open(
                &ledger,
                &signer,
                &env,
                &e.account_id,
                release.as_deref(),
                &ticket,
                &reason,
                ttl,
                now,
            )?;
            println!(
                "break-glass {} open for {env} until {}; a retrospective by someone else is due within {} h",
                r.sequence,
                rfc3339(now + time::Duration::minutes(i64::from(ttl))),
                breakglass::RETROSPECTIVE_HOURS
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Retrospective {
            id,
            identity,
            key,
            ticket,
            outcome,
        } => {
            let signer = crate::promote::signer(&identity, key.as_deref())?;
            let r = breakglass::retrospective(&ledger, &signer, id, &ticket, &outcome, now)?;
            println!("retrospective of break-glass {id}: record {}", r.sequence);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::List => {
            let records = ledger.records()?;
            for s in breakglass::sessions(&records) {
                println!(
                    "{} {} opened by {} at {}, {} until {}, retrospective {}",
                    s.sequence,
                    s.environment,
                    s.opener,
                    rfc3339(s.opened),
                    if s.is_open(now) { "open" } else { "closed" },
                    rfc3339(s.expires),
                    s.retrospective
                        .map(|r| format!("record {r}"))
                        .unwrap_or_else(|| "missing".into())
                );
            }
            let overdue = breakglass::overdue(&records, now);
            for o in &overdue {
                println!("overdue: {o}");
            }
            Ok(if overdue.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
