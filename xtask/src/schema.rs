//! `cargo xtask schema import`: vendor the AWS provider's resource schema for the types the
//! repository uses, from the npm bindings or from `terraform providers schema -json`;
//! `--check` compares instead of writing and names the command that fixes the drift.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Write schema/aws-provider.json for the aws_* types under modules/, environments/, stacks/
    Import(ImportArgs),
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The @cdktf/provider-aws package: its directory or the .tgz of `npm pack`
    #[arg(long = "from-npm", conflicts_with = "from_terraform")]
    from_npm: Option<PathBuf>,
    /// Output of `terraform providers schema -json`
    #[arg(long = "from-terraform", requires = "provider_version")]
    from_terraform: Option<PathBuf>,
    /// The provider version the terraform output describes (`terraform version -json`,
    /// provider_selections)
    #[arg(long = "provider-version")]
    provider_version: Option<String>,
    /// Compare with the vendored file instead of writing it; exit 1 on a difference
    #[arg(long)]
    check: bool,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let Command::Import(a) = args.command;
    let (source, again) = match (&a.from_npm, &a.from_terraform) {
        (Some(p), None) => (lz_schema::Source::Npm(p.clone()), format!("cargo xtask schema import --from-npm {}", p.display())),
        (None, Some(f)) => {
            let v = a.provider_version.clone().unwrap_or_default();
            (
                lz_schema::Source::Terraform { file: f.clone(), provider_version: v.clone() },
                format!("cargo xtask schema import --from-terraform {} --provider-version {v}", f.display()),
            )
        }
        _ => bail!("give one of --from-npm PACKAGE or --from-terraform SCHEMA.json"),
    };
    let types: Vec<String> = lz_schema::used_types(root)?.into_keys().collect();
    let doc = lz_schema::import(root, &source, &types)?;
    let path = root.join(lz_schema::VENDORED);
    if a.check {
        let vendored = lz_schema::load(root)?;
        let diffs = lz_schema::drift(&vendored, &doc, 50);
        if diffs.is_empty() {
            println!("{}: the {} resource types match {}", lz_schema::VENDORED, types.len(), source_name(&source));
            return Ok(ExitCode::SUCCESS);
        }
        println!("{}: differs from {}:", lz_schema::VENDORED, source_name(&source));
        for d in diffs {
            println!("  {d}");
        }
        println!("fix: {again}");
        return Ok(ExitCode::from(1));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, lz_schema::render(&doc)?).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {} ({} resource types, {} {})",
        lz_schema::VENDORED,
        types.len(),
        doc["provenance"]["provider"].as_str().unwrap_or(""),
        doc["provenance"]["provider_version"].as_str().unwrap_or("")
    );
    Ok(ExitCode::SUCCESS)
}

fn source_name(s: &lz_schema::Source) -> String {
    match s {
        lz_schema::Source::Npm(p) => format!("the npm package {}", p.display()),
        lz_schema::Source::Terraform { file, .. } => format!("terraform providers schema -json ({})", file.display()),
    }
}
