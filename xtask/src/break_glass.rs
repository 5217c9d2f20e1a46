//! `cargo xtask break-glass`: request a time-boxed emergency session, approve it (a second
//! person), record its retrospective, list sessions. Times are the environment's server time.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_operate::promote::Target;
use lz_promote::window::rfc3339;
use lz_promote::{breakglass, Paths};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Request a session: once a second person approves it, promotions into ENV may bypass
    /// approvals and windows until it expires
    #[command(mut_arg("identity", |a| a.help("The requester (a person with the break-glass role)")))]
    Open {
        /// Environment the session opens (dev, test, uat, preprod, prod)
        #[arg(long, value_parser = lz_input::ids::environment)]
        env: String,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Why the emergency needs it (recorded)
        #[arg(long)]
        reason: String,
        /// Incident or change ticket
        #[arg(long)]
        ticket: String,
        /// Minutes until the session expires (at most 240)
        #[arg(long)]
        ttl: u32,
        /// Limit the session to one release digest
        #[arg(long, value_parser = lz_input::ids::release)]
        release: Option<String>,
    },
    /// Approve request ID (a person other than its requester)
    #[command(mut_arg("identity", |a| a.help("The approving person (not the requester)")))]
    Approve {
        /// Record sequence of the break-glass request
        #[arg(long)]
        id: u64,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Why the session is justified (recorded)
        #[arg(long)]
        reason: String,
    },
    /// Record the retrospective of session ID (someone other than its requester and the
    /// release author)
    #[command(mut_arg("identity", |a| a.help("Who signs the retrospective (not the requester, not an author of a release deployed under it)")))]
    Retrospective {
        /// Record sequence of the break-glass session
        #[arg(long)]
        id: u64,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Incident or problem ticket of the retrospective
        #[arg(long)]
        ticket: String,
        /// What was done and verified (recorded)
        #[arg(long)]
        outcome: String,
    },
    /// List sessions; exit 1 when a retrospective is overdue
    List,
}

/// The decision time, bounded by the evidence chain (`clock::decide`).
fn clock_of(root: &Path, paths: &Paths, env: &str) -> Result<lz_promote::clock::Reading> {
    let endpoint = crate::context::endpoint(root)?;
    lz_promote::clock::decide(paths, Some(env), &Target::from_tree(root, env, &endpoint)?.clock())
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { paths, .. } = crate::context::LandingZone::open(root)?;
    let ledger = paths.ledger()?;
    match args.command {
        Cmd::Open {
            env,
            signer: who,
            reason,
            ticket,
            ttl,
            release,
        } => {
            let e = lz_platform::overlays::env_file(root, &env)?;
            let signer = who.signer()?;
            let now = clock_of(root, &paths, &env)?;
            let r = breakglass::open(
                &ledger,
                &signer,
                &env,
                &e.account_id,
                release.as_deref(),
                &ticket,
                &reason,
                ttl,
                now.clone(),
            )?;
            println!(
                "break-glass {} requested for {env} until {}; it is usable once a second person approves it (`cargo xtask break-glass approve --id {} --as ID --key FILE --reason TEXT`), and a retrospective by someone else is due within {} h",
                r.sequence,
                rfc3339(now.time + time::Duration::minutes(i64::from(ttl))),
                r.sequence,
                breakglass::RETROSPECTIVE_HOURS
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Approve {
            id,
            signer: who,
            reason,
        } => {
            let s = breakglass::find(&paths, id)?;
            let signer = who.signer()?;
            let now = clock_of(root, &paths, &s.environment)?;
            let r = breakglass::approve(&ledger, &signer, id, &reason, now)?;
            println!("break-glass {id} approved by {}: record {}", who.identity, r.sequence);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Retrospective {
            id,
            signer: who,
            ticket,
            outcome,
        } => {
            let s = breakglass::find(&paths, id)?;
            let signer = who.signer()?;
            let now = clock_of(root, &paths, &s.environment)?;
            let r = breakglass::retrospective(&ledger, &signer, id, &ticket, &outcome, now)?;
            println!("retrospective of break-glass {id}: record {}", r.sequence);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::List => {
            let now = time::OffsetDateTime::now_utc();
            let records = ledger.records()?;
            for s in breakglass::sessions(&records) {
                let state = match (&s.defect, s.expires) {
                    (Some(d), _) => format!("unusable ({d})"),
                    (None, Some(e)) if now < e => format!("open until {}", rfc3339(e)),
                    (None, Some(e)) => format!("expired at {}", rfc3339(e)),
                    (None, None) => "unusable".into(),
                };
                println!(
                    "{} {} requested by {} at {}, {state}, approved by {}, retrospective {}",
                    s.sequence,
                    s.environment,
                    s.opener,
                    rfc3339(s.opened),
                    if s.approvals.is_empty() {
                        "nobody".to_string()
                    } else {
                        s.approvals
                            .iter()
                            .map(|(w, r, _)| format!("{w} (record {r})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    s.retrospective
                        .map(|(r, w)| format!("record {r} by {w}"))
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
