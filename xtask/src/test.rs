//! `cargo xtask test`: the README's test command and what `.ci/run` calls. Bootstraps the
//! tools, starts LocalStack unless it is already up, runs every workspace test with the tools
//! on PATH, and stops what it started.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_platform::{localstack, tools};

#[derive(clap::Args)]
pub struct Args {
    /// Extra arguments for `cargo test` (after `--`)
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let tf = tools::terraform(root)?;
    println!("terraform  {} ({})", tf.version, tf.path.display());
    let started = match localstack::up(root)? {
        localstack::Up::AlreadyRunning(h) => {
            println!("localstack {} already running", h.version);
            false
        }
        localstack::Up::Started { pid, health } => {
            println!("localstack {} started (pid {pid})", health.version);
            true
        }
    };
    localstack::require(root)?;
    let tf_dir = tf.path.parent().context("terraform path has no parent")?.to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![tf_dir];
    dirs.extend(std::env::split_paths(&path));
    let new_path = std::env::join_paths(dirs).context("building PATH")?;
    let mut cmd = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .args(&args.cargo_args)
        .current_dir(root)
        .env("PATH", new_path)
        .env("LZ_LOCALSTACK_ENDPOINT", localstack::ENDPOINT)
        .env("TF_CLI_CONFIG_FILE", tools::cli_config(root)?);
    if std::env::var_os("CI").is_some() {
        cmd.env("INSTA_UPDATE", "no");
    }
    let status = cmd.status().context("running cargo test");
    if started {
        match localstack::down(root) {
            Ok(_) => println!("localstack stopped"),
            Err(e) => eprintln!("warning: stopping LocalStack: {e:#}"),
        }
    }
    let status = status?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
