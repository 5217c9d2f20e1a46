//! `cargo xtask rehearsal setup --keys DIR`: turns this checkout into a rehearsal of the
//! release train (the rehearsal workflow's first step): test identities with keys generated
//! now, open change windows, stores of its own. Never run it in a checkout you commit from.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Generate test identities' keys into DIR and rewrite governance/ for a rehearsal
    Setup {
        /// Where the private keys go (outside the checkout: $RUNNER_TEMP in CI)
        #[arg(long)]
        keys: PathBuf,
    },
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let Cmd::Setup { keys } = args.command;
    if keys.starts_with(root) {
        anyhow::bail!("--keys {} is inside the checkout: private keys never go where they could be committed", keys.display());
    }
    let suffix = lz_operate::sandbox::rehearsal_setup(root, &keys)?;
    println!("rehearsal identities: {}", lz_operate::sandbox::PEOPLE.map(|p| p.0).join(", "));
    println!("keys in {}", keys.display());
    println!("stores suffixed -{suffix}; change windows open");
    Ok(ExitCode::SUCCESS)
}
