//! `cargo xtask rotate` (Secrets Manager's four-step rotation of a secret, verified by its
//! consumers and recorded) and `cargo xtask rotation status` (every secret's last verified
//! rotation and due date, from the verified evidence store).
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_operate::promote::Target;
use lz_operate::rotate;
use lz_promote::rotation;

use crate::format::Format;

#[derive(clap::Args)]
#[command(mut_arg("identity", |a| a.help("The rotation identity (deployer role) that signs the records")))]
pub struct Args {
    /// Environment whose secret is rotated
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: String,
    /// The secret: its full name (lz-dev/orders/db-credentials) or its end when that is unique
    /// in the environment (orders/db-credentials, db-credentials)
    #[arg(long, required_unless_present = "all", conflicts_with = "all", value_parser = lz_input::ids::secret)]
    secret: Option<String>,
    /// Every secret of the environment's plan, one after the other
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    signer: crate::context::SignerArgs,
    /// Change or schedule ticket the records name
    #[arg(long)]
    ticket: Option<String>,
    /// Outcome as text for people or JSON for bots
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(subcommand)]
    command: StatusCommand,
}

#[derive(clap::Subcommand)]
enum StatusCommand {
    /// Every secret's last verified rotation and due date; exit 1 when one is overdue
    Status {
        /// One environment (default: all)
        #[arg(long, value_parser = lz_input::ids::environment)]
        env: Option<String>,
        /// Status as text for people or JSON for bots
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let src = rotate::plan_of(&paths, &args.env)?;
    let (tree, plan, source) = (&src.tree, &src.plan, &src.description);
    let policy = rotation::Policy::load(&tree)?;
    let t = Target::from_tree(&tree, &args.env, &endpoint)?;
    let signer = args.signer.signer()?;
    let names: Vec<String> = match &args.secret {
        Some(s) => vec![s.clone()],
        None => rotation::secrets_of_plan(&plan, &policy, &t.account_id, &t.region)?
            .into_iter()
            .map(|s| s.name)
            .collect(),
    };
    if args.format == Format::Text {
        println!("plan: {source}");
    }
    let clock = t.clock();
    let mut failed = 0;
    let mut outcomes = Vec::new();
    for name in &names {
        let req = rotate::Request {
            root: &tree,
            paths: &paths,
            target: &t,
            plan: &plan,
            policy: &policy,
            secret: name,
            signer: &signer,
            ticket: args.ticket.as_deref(),
        };
        let o = rotate::rotate(&req, || clock.now())?;
        if !o.passed() {
            failed += 1;
        }
        if args.format == Format::Text {
            print_outcome(&o);
        }
        outcomes.push(o);
    }
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_outcome(o: &rotate::Outcome) {
    if o.created {
        println!("created    {} (it did not exist)", o.resource);
    }
    if let Some(r) = &o.resumed {
        println!("resumed    {}: {r}", o.resource);
    }
    println!("steps      {}", o.steps.join(" -> "));
    for c in &o.consumers {
        match &c.problem {
            None => println!(
                "consumer   {} read {} as AWSCURRENT",
                c.role,
                c.read_version.as_deref().unwrap_or("-")
            ),
            Some(p) => println!("consumer   {} FAILED: {p}", c.role),
        }
    }
    for p in &o.problems {
        println!("problem    {p}");
    }
    println!(
        "{}    {} version {} (previous {}), records {} (verification) and {} (rotation) at {} ({})",
        if o.passed() { "rotated" } else { "ROLLED BACK" },
        o.resource,
        o.version,
        o.previous.as_deref().unwrap_or("none"),
        o.verification_record,
        o.rotation_record,
        o.time,
        o.clock
    );
}

pub fn status(root: &Path, args: StatusArgs) -> Result<ExitCode> {
    let StatusCommand::Status { env, format } = args.command;
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let envs: Vec<&str> = match &env {
        Some(e) => {
            if !lz_platform::ENVIRONMENTS.contains(&e.as_str()) {
                anyhow::bail!(
                    "unknown environment {e:?} (known: {})",
                    lz_platform::ENVIRONMENTS.join(", ")
                );
            }
            vec![e.as_str()]
        }
        None => lz_platform::ENVIRONMENTS.to_vec(),
    };
    let stores = lz_promote::stores::Stores::load(root, &endpoint)?;
    let now =
        lz_promote::clock::Clock::server(&endpoint, &stores.account_id, &stores.region).now()?;
    let rows = rotate::status_of(&paths, &envs, now.time, &endpoint)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Text => {
            println!(
                "{:<8} {:<48} {:<16} {:>4}  {:<21} {:<21} state",
                "env", "secret", "kind", "max", "last rotation", "due"
            );
            for r in &rows {
                println!(
                    "{:<8} {:<48} {:<16} {:>4}  {:<21} {:<21} {}",
                    r.environment,
                    r.secret,
                    r.kind,
                    r.max_age_days,
                    r.last_rotation.as_deref().unwrap_or("never"),
                    r.due.as_deref().unwrap_or("-"),
                    if !r.contradicted.is_empty() {
                        "CONTRADICTED"
                    } else if r.overdue {
                        "OVERDUE"
                    } else if r.last_rotation.is_none() {
                        "never rotated"
                    } else {
                        "ok"
                    }
                );
            }
            for r in &rows {
                for why in &r.contradicted {
                    println!("CONTRADICTED: {why} [Secrets Manager]");
                }
            }
            println!(
                "as of {} ({})",
                lz_promote::window::rfc3339(now.time),
                now.source
            );
        }
    }
    Ok(if rows.iter().any(|r| r.overdue || !r.contradicted.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
