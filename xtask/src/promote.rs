//! `cargo xtask promote`: promote a release into the next environment (canary stack against
//! LocalStack, or the real landing zone with `--engine terraform`), and the promotion benchmark.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use lz_evidence::Signer;
use lz_promote::promote::{self, Governance, Target};
use lz_promote::Paths;

#[derive(clap::Args)]
pub struct Args {
    /// Release digest (or unique prefix)
    #[arg(long)]
    release: String,
    /// Environment to promote into
    #[arg(long)]
    to: String,
    /// Deployer identity (governance/identities.toml)
    #[arg(long = "as")]
    identity: String,
    /// The deployer's ed25519 private key file
    /// Private key file (default: LZ_SIGNING_KEY)
    #[arg(long)]
    key: Option<PathBuf>,
    /// Key of the policy identity that records auto-approvals (standard tier); or LZ_POLICY_KEY
    #[arg(long)]
    policy_key: Option<PathBuf>,
    /// Plan JSON to classify against instead of the plan of the last deployment
    #[arg(long)]
    against: Option<PathBuf>,
    /// canary: the provider-free canary stack; terraform: the landing zone itself (needs the AWS provider)
    #[arg(long, value_enum, default_value = "canary")]
    engine: Engine,
    /// Seconds the canary holds after applying
    #[arg(long, default_value_t = 0)]
    bake_seconds: u32,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Canary,
    Terraform,
}

/// An environment's target from its env.toml and backend.hcl.
pub(crate) fn target(root: &Path, env: &str, endpoint: &str) -> Result<Target> {
    let e = lz_platform::overlays::env_file(root, env)?;
    let backend = root.join("environments").join(env).join("backend.hcl");
    let text = std::fs::read_to_string(&backend)
        .with_context(|| format!("cannot read {}", backend.display()))?;
    let bucket = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "bucket").then(|| v.trim().trim_matches('"').to_string())
        })
        .with_context(|| format!("{}: no bucket", backend.display()))?;
    Ok(Target {
        environment: env.to_string(),
        account_id: e.account_id,
        region: e.region,
        endpoint: endpoint.to_string(),
        state_bucket: bucket,
        deployer_role: format!("lz-{env}-deployer"),
    })
}

/// The signer for `--as NAME [--key FILE]`: the key file, or `LZ_SIGNING_KEY`.
pub(crate) fn signer(identity: &str, key: Option<&Path>) -> Result<Signer> {
    match key {
        Some(k) => Signer::from_file(identity, k),
        None => Signer::from_env(identity),
    }
}

pub(crate) fn read_plan(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{}:{}: not JSON: {e}", path.display(), e.line()))
}

fn policy_signer(gov: &Governance, key: Option<&Path>) -> Result<Option<Signer>> {
    let id = gov.policy.policy_identity.clone();
    match key {
        Some(k) => Ok(Some(Signer::from_file(id, k)?)),
        None => match std::env::var("LZ_POLICY_KEY") {
            Ok(v) if !v.is_empty() => Ok(Some(Signer::from_file(id, Path::new(&v))?)),
            _ => Ok(None),
        },
    }
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let paths = Paths::for_root(root);
    if args.engine == Engine::Terraform {
        return landing_zone(root, &args.to);
    }
    let gov = Governance::load(root)?;
    let rel = promote::release(&paths, &args.release)?;
    let endpoint = lz_platform::localstack::require(root)?;
    let t = target(root, &args.to, &endpoint)?;
    let plan = crate::plan::render_env(root, &args.to)?;
    let ledger = lz_promote::ledger::Ledger::open(&paths.identities, &paths.evidence)?;
    let baseline = match &args.against {
        Some(p) => Some(read_plan(p)?),
        None => promote::deployed_plan(&paths, &ledger.records()?, &args.to),
    };
    let deployer = crate::promote::signer(&args.identity, args.key.as_deref())?;
    let ps = policy_signer(&gov, args.policy_key.as_deref())?;
    let report = lz_policy::evaluate(&plan, &lz_policy::Options::for_root(root))?;
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<_, _>>()?;
    let bundle = lz_evidence::dsse::sha256_hex(&lz_evidence::release::tar(
        &lz_evidence::release::collect(root, &["policies"])?,
    )?);
    let seq = promote::record_policy_evaluation(
        &ledger,
        &deployer,
        &rel.digest,
        &args.to,
        &plan,
        &bundle,
        report.passed(),
        findings,
    )?;
    eprintln!(
        "policy evaluation of the plan for {}: {} (record {seq})",
        args.to,
        if report.passed() { "passed" } else { "failed" }
    );
    let req = promote::Request {
        release: &rel.digest,
        environment: &args.to,
        plan: &plan,
        baseline: baseline.as_ref(),
        author: rel.author.as_deref(),
        deployer: &args.identity,
        now: lz_promote::window::now()?,
    };
    let opts = promote::Options {
        paths: &paths,
        target: &t,
        deployer: &deployer,
        policy_signer: ps.as_ref(),
        overlay: Some(
            root.join("environments")
                .join(&args.to)
                .join("terraform.tfvars"),
        ),
        bake_seconds: args.bake_seconds,
    };
    let out = promote::promote(&gov, &req, &opts)?;
    println!(
        "promoted release {} to {} (tier {}{}) : records {} (in progress) and {} (completed){}",
        &rel.digest[..12],
        args.to,
        out.admission.tier,
        out.admission
            .break_glass
            .map(|b| format!(", break-glass {b}"))
            .unwrap_or_default(),
        out.in_progress_record,
        out.completion_record,
        if out.recovered.is_empty() {
            String::new()
        } else {
            format!("; recovered interrupted runs: records {:?}", out.recovered)
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The real landing zone: a working copy of environments/ and modules/ initialised against
/// the environment's S3 backend in LocalStack, then planned with its overlay. Needs the
/// hashicorp/aws provider; on this machine `terraform init` stops at the provider download.
fn landing_zone(root: &Path, env: &str) -> Result<ExitCode> {
    let endpoint = lz_platform::localstack::require(root)?;
    let t = target(root, env, &endpoint)?;
    let work = Paths::for_root(root)
        .work
        .join(format!("{env}-landing-zone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    copy_tree(&root.join("modules"), &work.join("modules"))?;
    copy_tree(&root.join("environments"), &work.join("environments"))?;
    let dir = work.join("environments");
    let key = format!("{env}/landing-zone.tfstate");
    let backend = lz_promote::deploy::Backend {
        bucket: t.state_bucket.clone(),
        key,
        region: t.region.clone(),
    };
    let run_as = lz_promote::promote::assume_deployer(&t, "lz-landing-zone")?;
    let ws = lz_promote::deploy::Workspace::init(root, &dir, &dir, &endpoint, &backend, run_as);
    match ws {
        Ok(_) => bail!("terraform init of the landing zone succeeded but this harness applies only the canary; run `terraform plan -var-file={env}/terraform.tfvars` in {}", dir.display()),
        Err(e) => Err(e).with_context(|| format!("the landing zone engine needs the hashicorp/aws provider (working copy {})", work.display())),
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for e in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let e = e?;
        let name = e.file_name();
        if name == ".terraform" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| format!("cannot copy {}", src.display()))?;
        }
    }
    Ok(())
}

pub fn bench(root: &Path) -> Result<ExitCode> {
    let endpoint = lz_platform::localstack::require(root)?;
    let started = Instant::now();
    let report =
        lz_promote::bench::run(root, &endpoint, &|env| crate::plan::render_env(root, env))?;
    println!("{report}");
    println!(
        "total {:.1}s (goal < 180 s)",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
