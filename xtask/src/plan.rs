//! `cargo xtask plan --env NAME`: the plan of the landing zone root module (`environments/`)
//! with an environment overlay, rendered offline or by real Terraform, in normalized form.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Offline,
    Terraform,
}

#[derive(clap::Args)]
pub struct Args {
    /// Environment overlay under environments/ (dev, test, uat, preprod, prod)
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: String,
    /// offline: the in-process renderer; terraform: `terraform plan` (needs the AWS provider)
    #[arg(long, value_enum, default_value = "offline")]
    engine: Engine,
    /// Write the JSON here instead of stdout
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let plan = match args.engine {
        Engine::Offline => render_env(root, &args.env)?,
        Engine::Terraform => terraform_env(root, &args.env)?,
    };
    let text = serde_json::to_string_pretty(&plan_document(&plan))?;
    match args.out {
        Some(p) => std::fs::write(&p, text + "\n").with_context(|| format!("writing {}", p.display()))?,
        None => crate::out::print_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The normalized plan document `plan` writes: the canonical plan plus `terraform_version`
/// and `configuration`, which policies (`policy --plan`) and scanners need.
pub fn plan_document(raw: &serde_json::Value) -> serde_json::Value {
    lz_policy::input::with_policy_context(raw, tfrender::normalize(raw))
}

fn env_var_file(root: &Path, env: &str) -> anyhow::Result<PathBuf> {
    if env.is_empty() || env.contains(['/', '\\']) || env.starts_with('.') {
        bail!("invalid environment name {env:?}");
    }
    let f = root.join("environments").join(env).join("terraform.tfvars");
    if !f.is_file() {
        bail!("unknown environment {env:?}: {} does not exist", f.display());
    }
    Ok(f)
}

/// The raw (not normalized) offline plan of one environment. One xtask command is one run:
/// `environments/` and its modules are parsed once per process however many environments the
/// command renders (`lz_baseline::snapshot::render_env_shared`).
pub fn render_env(root: &Path, env: &str) -> anyhow::Result<serde_json::Value> {
    env_var_file(root, env)?;
    lz_baseline::snapshot::render_env_shared(root, env)
}

fn terraform_env(root: &Path, env: &str) -> anyhow::Result<serde_json::Value> {
    let var_file = env_var_file(root, env)?;
    let tmp = std::env::temp_dir().join(format!("lz-plan-{env}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for d in ["environments", "modules", lz_repo::released::DIR] {
        if root.join(d).is_dir() {
            copy_dir(&root.join(d), &tmp.join(d))?;
        }
    }
    // Services pinned to an older module version (issue 32) plan under a call per version
    // (lz_platform::mixed_root); their addresses are mapped back to the offline plan's.
    let vf = std::fs::canonicalize(&var_file)?;
    let r = lz_platform::mixed_root::write(root, env, &tmp.join("environments"), &render_env(root, env)?).and_then(|mapping| {
        let mut plan = terraform_show(root, &tmp.join("environments"), &[format!("-var-file={}", vf.display())])?;
        mapping.plan(&mut plan);
        Ok(plan)
    });
    let _ = std::fs::remove_dir_all(&tmp);
    r
}

/// `terraform init -backend=false`, `plan -out`, `show -json` in `dir` (see
/// [`lz_platform::tfrun`]).
pub fn terraform_show(root: &Path, dir: &Path, plan_args: &[String]) -> anyhow::Result<serde_json::Value> {
    use lz_platform::tfrun::{Plan, TfDir};
    let tf = TfDir::new(&lz_platform::tools::terraform(root)?, dir);
    tf.init(&["-backend=false".to_string()])?;
    let args = [&["-lock=false".to_string(), "-out=tfplan".into()], plan_args].concat();
    match tf.plan(&args)? {
        Plan::NoChanges(_) | Plan::Changes(_) => {}
        Plan::Failed(out) => bail!("terraform plan failed:\n{}{}", out.stdout, out.stderr),
    }
    Ok(tf.show("tfplan")?.json)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with(".terraform") {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(&name))?;
        } else {
            std::fs::copy(&p, to.join(&name))?;
        }
    }
    Ok(())
}
