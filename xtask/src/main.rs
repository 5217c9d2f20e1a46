//! `cargo xtask`: the landing zone's command line.
//!
//! `main` only parses arguments and dispatches; every task lives in its own module and the
//! logic lives in the library crates under `crates/`. Exit codes follow ripgrep: 0 clean,
//! 1 findings, 2 tool or input error.

mod approve;
mod baseline;
mod bench;
mod bootstrap;
mod break_glass;
mod catalog;
mod check;
mod ci_identity;
mod job_env;
mod classify;
mod context;
mod delegate;
mod docs;
mod drift;
mod errors;
mod evidence;
mod exceptions;
mod format;
mod help;
mod localstack;
mod measure;
mod out;
mod plan;
mod policy;
mod provenance;
mod provider_e2e;
mod promote;
mod rehearsal;
mod report;
mod register;
mod release;
mod render;
mod rotate;
mod schema;
mod service;
mod setup;
mod sh;
mod signing;
mod store_args;
mod test;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Landing zone harness: validate, render, gate, promote", version)]
struct Cli {
    /// Print an AWS SDK or Terraform error in full (by default it is summarised on one line:
    /// what failed, the cause and the fix)
    #[arg(short = 'v', long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bootstrap Terraform and LocalStack into .tools/ (idempotent)
    Setup(setup::Args),
    /// Start, stop or inspect the local LocalStack
    Localstack(localstack::Args),
    /// The PR gate: formatting, layout, docs, catalog, overlays (offline)
    Check(check::Args),
    /// Bootstrap tools, start LocalStack, run every workspace test
    Test(test::Args),
    /// Generate module README input/output tables
    Docs(docs::Args),
    /// Module catalog: a module's card (show MODULE), maintenance (add, bump)
    Catalog(catalog::Args),
    /// A service's landing zone: add one to the overlays (new), list and show them
    Service(service::Args),
    /// Render a configuration directory to plan JSON offline
    Render(render::Args),
    /// Render an environment (root module plus overlay) to plan JSON
    Plan(plan::Args),
    /// Evaluate policies on plan JSON
    Policy(policy::Args),
    /// List the exceptions register; approve a release's exceptions
    Exceptions(exceptions::Args),
    /// Build and inspect release artifacts
    Release(release::Args),
    /// Evidence archive: verify, query, export
    Evidence(evidence::Args),
    /// Approved baselines: review snapshots, diff the working tree against them
    Baseline(baseline::Args),
    /// Risk tier of an environment's change against its approved baseline
    Classify(classify::Args),
    /// Record a signed approval of a release for an environment
    Approve(approve::Args),
    /// Delegate an approval class for a bounded period, or revoke a delegation (issue 31)
    Delegate(delegate::Args),
    /// Create the landing zone's stores (--stores), or an environment's buckets, deployer role
    /// and governance pin
    Bootstrap(bootstrap::Args),
    /// Promote a release into an environment
    Promote(promote::Args),
    /// Detect drift between deployed state and declared controls
    Drift(drift::Args),
    /// Apply module examples and the dev environment to LocalStack with the real AWS provider
    /// (apply, idempotent re-plan, destroy) and report what LocalStack does not support
    ProviderE2e(provider_e2e::Args),
    /// Open or close break-glass access
    BreakGlass(break_glass::Args),
    /// Benchmarks against the real peers
    Bench(bench::Args),
    /// Prepare a checkout for a rehearsal of the release train (test identities, own stores)
    Rehearsal(rehearsal::Args),
    /// The identities register in the evidence chain: status, propose, approve (quorum)
    Register(register::Args),
    /// Chain-of-custody report of a release (or an environment over a period) as one HTML page
    Report(report::Args),
    /// Vendor the AWS provider's resource schema (import, drift check)
    Schema(schema::Args),
    /// Rotate a secret (Secrets Manager's four steps), verify it with its consumers, record both
    Rotate(rotate::Args),
    /// Secret rotation history: last verified rotation and due date of every secret
    Rotation(rotate::StatusArgs),
}

/// The renderer, the policy engine and the evidence verifier allocate many small values;
/// mimalloc serves them about a third faster than the system allocator (`cargo xtask bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    policy::quiet_library_backtraces();
    // Parsed from the command tree with every command's examples attached (`help`).
    let command = help::with_examples(Cli::command());
    let matches = command.clone().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let root = context::project_root();
    let verbose = cli.verbose;
    errors::set_verbose(verbose);
    // A CI job's command names its own environment only (`job_env`), before any AWS call.
    if let Err(err) = job_env::check(&root, &command, &matches) {
        eprintln!("error: {err:#}");
        return ExitCode::from(2);
    }
    // Every AWS client's configuration and the CI run's identity (`ci_identity`).
    if let Err(err) = ci_identity::install(&root) {
        eprintln!("error: {err:#}");
        return ExitCode::from(2);
    }
    // One process is one command: its reads of an unchanged S3 chain share one verification.
    let _command = lz_promote::verified::Command::begin();
    let result = match cli.command {
        Command::Setup(args) => setup::run(&root, args),
        Command::Localstack(args) => localstack::run(&root, args),
        Command::Check(args) => check::run(&root, args),
        Command::Test(args) => test::run(&root, args),
        Command::Docs(args) => docs::run(&root, args),
        Command::Catalog(args) => catalog::run(&root, args),
        Command::Service(args) => service::run(&root, args),
        Command::Render(args) => render::run(&root, args),
        Command::Plan(args) => plan::run(&root, args),
        Command::Policy(args) => {
            // Ordinary pages for this process only (see the function).
            lz_policy::profile::no_transparent_huge_pages();
            policy::run(&root, args)
        }
        Command::Exceptions(args) => exceptions::run(&root, args),
        Command::Release(args) => release::run(&root, args),
        Command::Evidence(args) => evidence::run(&root, args),
        Command::Baseline(args) => baseline::run(&root, args),
        Command::Classify(args) => classify::run(&root, args),
        Command::Approve(args) => approve::run(&root, args),
        Command::Delegate(args) => delegate::run(&root, args),
        Command::Bootstrap(args) => bootstrap::run(&root, args),
        Command::Promote(args) => promote::run(&root, args),
        Command::Drift(args) => drift::run(&root, args),
        Command::ProviderE2e(args) => provider_e2e::run(&root, args),
        Command::BreakGlass(args) => break_glass::run(&root, args),
        Command::Bench(args) => bench::run(&root, args),
        Command::Rehearsal(args) => rehearsal::run(&root, args),
        Command::Register(args) => register::run(&root, args),
        Command::Schema(args) => schema::run(&root, args),
        Command::Report(args) => report::run(&root, args),
        Command::Rotate(args) => rotate::run(&root, args),
        Command::Rotation(args) => rotate::status(&root, args),
    };
    match result {
        Ok(code) => code,
        // A refused decision or detected tampering is a finding (1); anything else is a
        // tool or input error (2).
        Err(err) if lz_promote::is_refusal(&err) => {
            eprintln!("refused: {err:#}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("error: {}", errors::error_text(&err, verbose));
            ExitCode::from(2)
        }
    }
}
