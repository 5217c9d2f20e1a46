//! `cargo xtask setup [--print]`: bootstrap Terraform and LocalStack into `.tools/`, and Chromium
//! (the auditor report's browser test) from the system's packages.

use std::path::Path;
use std::process::ExitCode;

use lz_platform::tools;

#[derive(clap::Args)]
pub struct Args {
    /// Print every tool's path and version as JSON
    #[arg(long)]
    print: bool,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let tf = tools::terraform(root)?;
    let ls = tools::localstack(root)?;
    let chromium = tools::chromium()?;
    if args.print {
        let json = serde_json::json!({
            "terraform": { "path": tf.path, "version": tf.version, "source": tf.source },
            "localstack": { "python": ls.python, "version": ls.version, "host_python": ls.host_python },
            "chromium": { "path": chromium.path, "version": chromium.version, "source": chromium.source },
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!("terraform  {:<8} {} ({})", tf.version, tf.path.display(), tf.source);
        println!("localstack {:<8} {} (host python {})", ls.version, ls.python.display(), ls.host_python.display());
        println!("chromium   {} ({})", chromium.path.display(), chromium.version);
    }
    Ok(ExitCode::SUCCESS)
}
