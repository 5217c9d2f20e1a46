//! `cargo xtask promote`: promote a release into the next environment (canary stack against
//! LocalStack, or the real landing zone with `--engine terraform`), and the promotion benchmark.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use lz_evidence::Signer;
use lz_operate::promote::{self, Target};
use lz_promote::Session;


#[derive(clap::Args)]
#[command(mut_arg("identity", |a| a.help("Deployer identity (governance/identities.toml)")))]
pub struct Args {
    /// Release digest (or unique prefix)
    #[arg(long, value_parser = lz_input::ids::release)]
    release: String,
    /// Environment to promote into
    #[arg(long, value_parser = lz_input::ids::environment)]
    to: String,
    #[command(flatten)]
    signer: crate::context::SignerArgs,
    /// Key of the policy identity that signs the policy evaluation and auto-approvals; or
    /// LZ_POLICY_KEY
    #[arg(long)]
    policy_key: Option<PathBuf>,
    /// canary: the provider-free canary stack; terraform: the release's environments/ root with
    /// the hashicorp/aws provider (the pinned mirror in .tools/aws-provider when installed,
    /// otherwise Terraform's registry); the deployment records name the engine
    #[arg(long, value_enum, default_value = "canary")]
    engine: Engine,
    /// Seconds the canary holds after applying
    #[arg(long, default_value_t = 0)]
    bake_seconds: u32,
    /// Release the state lock of an interrupted run (its process gone, no other run unfinished),
    /// recorded as a signed lock-recovery record; a live holder's lock is never released
    #[arg(long)]
    recover: bool,
    /// Judge every gate (duties, previous environment, policy and exceptions, tier, approvals,
    /// window, break-glass, facts) and record nothing; exits 1 when the promotion would be
    /// refused. No key is needed. Example: `cargo xtask promote --dry-run --release D --to test
    /// --as deployer-bot --format json`
    #[arg(long)]
    dry_run: bool,
    /// Output of `--dry-run`: a table for people or JSON for bots
    #[arg(long, value_enum, default_value = "text", requires = "dry_run")]
    format: crate::format::Format,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Canary,
    Terraform,
}

/// The policy identity's signer: `--policy-key FILE`, else the KMS key `LZ_POLICY_KMS_KEY`
/// names, else `LZ_POLICY_KEY` holding the key itself (people's rehearsals), else the KMS key the
/// register names for the policy identity. Only a key of the identity the release's approval
/// policy names signs: the register check happens when the record is appended.
fn policy_signer(identity: &str, key: Option<&Path>) -> Result<Signer> {
    let var = crate::signing::set_var;
    if let Some(k) = key {
        return Signer::from_file(identity, k);
    }
    // The policy identity's KMS key (a key ARN): no private key in the job's environment.
    if let Some(arn) = var("LZ_POLICY_KMS_KEY") {
        return crate::context::kms(identity, &arn);
    }
    if let Some(v) = var("LZ_POLICY_KEY") {
        let key = lz_evidence::identity::parse_private_key(&v)
            .context("LZ_POLICY_KEY is not an ed25519 private key (it holds the key itself, as the key file does)")?;
        return Ok(Signer::new(identity, key));
    }
    match crate::context::registered_kms(&crate::context::project_root(), identity)? {
        Some(signer) => Ok(signer),
        None => bail!(
            "the policy evaluation is signed by {identity}, whose key is not available (pass --policy-key FILE, name its kms_key in the register, or set LZ_POLICY_KEY to the key)"
        ),
    }
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let mut session = Session::open(&paths, &args.release, &args.to)?;
    if !args.dry_run {
        eprintln!("{}", session.describe());
    }
    let t = Target::from_tree(session.release.root(), &args.to, &endpoint)?;
    if args.dry_run {
        return crate::classify::show(&session, Some(&args.signer.identity), &t, &endpoint, args.format, true);
    }
    let deployer = args.signer.signer()?;
    let ps = policy_signer(
        &session.governance.policy.policy_identity.clone(),
        args.policy_key.as_deref(),
    )?;
    let clock = t.clock();
    // The previous environment as the release declares it: where its facts are checked.
    let previous = match lz_promote::session::previous_environment(&args.to)? {
        Some(p) => Some(lz_operate::facts::Place::of_target(Target::from_tree(session.release.root(), p, &endpoint)?)),
        None => None,
    };
    let opts = promote::Options {
        target: &t,
        deployer: &deployer,
        policy_signer: &ps,
        bake_seconds: args.bake_seconds,
        recover: args.recover,
        previous: previous.as_ref(),
    };
    let engine = match args.engine {
        Engine::Canary => lz_operate::engine::Engine::canary(),
        Engine::Terraform => lz_operate::engine::Engine::terraform(root),
    };
    let out = promote::promote_with(&mut session, &opts, &clock, &engine)?;
    println!(
        "promoted release {} to {} with the {} engine (tier {}{}) at {} ({}): records {} (policy evaluation), {} (in progress) and {} (completed){}",
        &session.digest()[..12],
        args.to,
        engine.kind(),
        out.admission.tier,
        out.admission
            .break_glass
            .map(|b| format!(", break-glass {b}"))
            .unwrap_or_default(),
        out.time,
        out.clock,
        out.policy_record,
        out.in_progress_record,
        out.completion_record,
        if out.recovered.is_empty() {
            String::new()
        } else {
            format!("; recovered interrupted runs: records {:?}", out.recovered)
        }
    );
    if let Some(l) = out.lock_recovery {
        println!("released the orphaned state lock of an interrupted run: lock-recovery record {l}");
    }
    if let Some(c) = out.completes_record {
        println!(
            "the interrupted run of record {c} had applied the release (state serial {}, version {}): recorded as succeeded",
            out.state.as_ref().map(|s| s.serial.to_string()).unwrap_or_else(|| "?".into()),
            out.state.as_ref().and_then(|s| s.version.clone()).unwrap_or_else(|| "unversioned".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn bench(root: &Path) -> Result<ExitCode> {
    let endpoint = lz_platform::localstack::require(root)?;
    let started = Instant::now();
    let report = lz_operate::bench::run(root, &endpoint)?;
    println!("{report}");
    println!(
        "total {:.1}s (goal < 180 s; {})",
        started.elapsed().as_secs_f64(),
        crate::measure::load()
    );
    crate::measure::print_peak();
    Ok(ExitCode::SUCCESS)
}
