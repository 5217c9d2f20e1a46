//! `cargo xtask service new|list|show`: a service team's landing zone (`lz_service::new`,
//! `lz_platform::services`).
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::format::Format;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Add a service to environment overlays with its secrets' rotation entries, bring the
    /// approved baselines up to date, print the plan difference and the gates it will meet
    ///
    /// Example: cargo xtask service new fx-pricing --env dev --tier trading --owner trading-technology --secret fx-api-key=feed-api-key
    New {
        /// The service name (^[a-z][a-z0-9-]{2,30}$)
        #[arg(value_parser = lz_input::ids::service)]
        name: String,
        /// An environment to add it to (repeat for several: --env dev --env test)
        #[arg(long = "env", required = true, value_parser = lz_input::ids::environment)]
        envs: Vec<String>,
        /// ingress, trading or data
        #[arg(long)]
        tier: String,
        /// The owning team (governance/teams.toml); the environment's Owner tag when omitted
        #[arg(long)]
        owner: Option<String>,
        /// The cost centre (CC-1234, one of the team's); the team's first when omitted
        #[arg(long = "cost-centre")]
        cost_centre: Option<String>,
        /// The service port (default by tier: ingress 443, trading 8443, data 5432)
        #[arg(long)]
        port: Option<i64>,
        /// Task replicas, 1 to 20
        #[arg(long, default_value_t = 1)]
        replicas: i64,
        /// Reachable from the internet (ingress tier on port 443 only)
        #[arg(long)]
        public: bool,
        /// A tier allowed in (repeat; default by tier: trading and data accept trading)
        #[arg(long = "from-tier")]
        from_tiers: Vec<String>,
        /// An egress port within the VPC (repeat; default by tier)
        #[arg(long = "egress-port")]
        egress_ports: Vec<i64>,
        /// A secret the service reads, with its rotation kind (governance/rotation.toml), as
        /// NAME=KIND (repeat)
        #[arg(long = "secret", value_parser = parse_secret)]
        secrets: Vec<(String, String)>,
        /// text for people, json for tools
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Every service of every overlay
    ///
    /// Example: cargo xtask service list --format json
    List {
        /// text for people, json for tools
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// One service in every environment that runs it
    ///
    /// Example: cargo xtask service show order-gateway
    Show {
        /// The service name
        #[arg(value_parser = lz_input::ids::service)]
        name: String,
        /// text for people, json for tools
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

fn parse_secret(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, k)) if !n.is_empty() && !k.is_empty() => Ok((n.to_string(), k.to_string())),
        _ => Err(format!("{s:?} is not NAME=KIND (for example fx-api-key=feed-api-key)")),
    }
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    match args.action {
        Action::New { name, envs, tier, owner, cost_centre, port, replicas, public, from_tiers, egress_ports, secrets, format } => {
            let req = lz_service::new::Request {
                name,
                envs,
                tier,
                port,
                replicas,
                public,
                from_tiers: (!from_tiers.is_empty()).then_some(from_tiers),
                egress_ports: (!egress_ports.is_empty()).then_some(egress_ports),
                secrets,
                owner,
                cost_centre,
            };
            let added = lz_service::new::add(root, &req)?;
            let failing = added.gates.iter().any(|g| !g.policy_failures.is_empty());
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&added)?),
                Format::Text => print!("{}", added_text(&added)),
            }
            Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Action::List { format } => {
            let all = lz_platform::services::list(root)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&all)?),
                Format::Text => {
                    println!("{:<8} {:<18} {:<8} {:>5} {:>3}  {:<22} {}", "ENV", "SERVICE", "TIER", "PORT", "N", "OWNER", "SECRETS");
                    for s in &all {
                        let (name, env) = (&s.name, &s.environment);
                        let s = &s.spec;
                        let owner = s.owner.clone().unwrap_or_else(|| "(environment's)".into());
                        println!(
                            "{:<8} {:<18} {:<8} {:>5} {:>3}  {:<22} {}",
                            env,
                            name,
                            s.tier,
                            s.port,
                            s.replicas,
                            owner,
                            s.secrets.join(", ")
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Action::Show { name, format } => {
            let found: Vec<_> = lz_platform::services::list(root)?.into_iter().filter(|s| s.name == name).collect();
            if found.is_empty() {
                anyhow::bail!("no overlay has a service named {name} (see `cargo xtask service list`)");
            }
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                Format::Text => {
                    for s in &found {
                        println!("{} in {} ({}:{})", s.name, s.environment, s.file.display(), s.line);
                        let s = &s.spec;
                        println!(
                            "  tier {}, port {}{}, {} replica(s)",
                            s.tier,
                            s.port,
                            if s.public { " (public)" } else { "" },
                            s.replicas
                        );
                        println!("  in from tiers: {}", if s.from_tiers.is_empty() { "none".into() } else { s.from_tiers.join(", ") });
                        println!("  egress ports: {:?}", s.egress_ports);
                        println!("  secrets: {}", if s.secrets.is_empty() { "none".into() } else { s.secrets.join(", ") });
                        println!(
                            "  owner {}, cost centre {}",
                            s.owner.as_deref().unwrap_or("(environment's)"),
                            s.cost_centre.as_deref().unwrap_or("(environment's)")
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn added_text(a: &lz_service::new::Added) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for w in &a.written {
        let _ = writeln!(s, "wrote {}:{}", w.file.display(), w.line);
    }
    for b in &a.baselines {
        let _ = writeln!(s, "baseline updated: {} (review it with the change)", b.display());
    }
    for g in &a.gates {
        let _ = writeln!(
            s,
            "\n{}: plan difference from the approved baseline: {} to add, {} to change, {} to remove",
            g.environment, g.added, g.changed, g.removed
        );
        for line in g.plan_diff.lines() {
            let _ = writeln!(s, "  {line}");
        }
        let _ = writeln!(s, "{}: gates this change will meet", g.environment);
        if g.policy_failures.is_empty() {
            let _ = writeln!(s, "  policy: passes (no finding left unexcepted)");
        } else {
            let _ = writeln!(
                s,
                "  policy: FAILS ({} findings; fix the entry or file an exception in governance/exceptions.toml)",
                g.policy_failures.len()
            );
            for f in &g.policy_failures {
                let _ = writeln!(s, "    {f}");
            }
            let _ = writeln!(s, "  to waive a finding instead of fixing it, fill in and add to governance/exceptions.toml:");
            for stub in &g.exception_stubs {
                for line in stub.lines() {
                    let _ = writeln!(s, "    {line}");
                }
            }
        }
        let _ = writeln!(s, "  risk tier: {} (rule {})", g.tier, g.tier_rule);
        let _ = writeln!(s, "  approvals: {}", lz_service::new::requirement_text(&g.requirement));
    }
    let _ = writeln!(s, "\nnext: cargo xtask check, then open the change for review");
    s
}

/// `cargo xtask bench golden-path`: each command of the path with its wall time, the path's
/// total against its goal. Exit 1 when a command of the path fails.
pub fn bench(root: &Path) -> Result<ExitCode> {
    use lz_service::golden;
    lz_platform::localstack::require(root)?;
    let (dir, keys) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let bin = std::env::current_exe()?;
    let run = golden::run(root, &bin, dir.path(), keys.path())?;
    for (part, steps) in [("set-up (rehearsal only)", &run.setup), ("golden path", &run.path)] {
        println!("{part}:");
        for s in steps {
            println!("  {:<20} {:>6.1} s  exit {}", s.name, s.seconds, s.code);
        }
    }
    if let Some(f) = run.failed() {
        println!("FAILED at {}: cargo xtask {}\n{}", f.name, f.args.join(" "), f.output);
        return Ok(ExitCode::from(1));
    }
    println!("files the path changed (all by its commands): {}", run.changed.join(", "));
    let verdict = if run.path_seconds < golden::GOAL_SECONDS { "met" } else { "MISSED" };
    println!(
        "golden path {:.1} s from a built binary (goal < {:.0} s: {verdict}; {}); no file edited by hand",
        run.path_seconds,
        golden::GOAL_SECONDS,
        crate::measure::load()
    );
    crate::measure::print_peak();
    Ok(ExitCode::SUCCESS)
}
