//! `cargo xtask release`: content-addressed release artifacts of the deployable tree.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_evidence::release::{self, BuildOptions, Manifest};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Archive modules/, environments/, policies/ and governance/ and write the manifest
    Build {
        /// Releases directory (the release goes to DIR/<digest>/); default .tools/releases
        #[arg(long)]
        out: Option<PathBuf>,
        /// Terraform version to record instead of running `terraform version -json`
        #[arg(long)]
        terraform_version: Option<String>,
        /// Terraform binary to ask for its version
        #[arg(long, default_value = "terraform")]
        terraform: PathBuf,
        /// Print the manifest as JSON
        #[arg(long)]
        json: bool,
        /// Identity (with the author role in governance/identities.toml) who asks for the
        /// release and signs its authorship record
        #[arg(long)]
        author: String,
        /// The author's ed25519 private key file (default: LZ_SIGNING_KEY)
        #[arg(long)]
        key: Option<PathBuf>,
        /// Change ticket
        #[arg(long)]
        ticket: String,
        /// Why: what the release changes and for what purpose
        #[arg(long)]
        reason: String,
    },
    /// Show a stored release (digest or unique prefix) after checking its archive
    Show {
        digest: String,
        /// Releases directory; default .tools/releases
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn releases_dir(root: &Path, dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| root.join(".tools/releases"))
}

fn print(dir: &Path, m: &Manifest) {
    println!("release {}", m.digest);
    println!("  stored      {}", dir.display());
    println!("  requested   {} (manifest label; the author is the signer of the first release record)", m.author.as_deref().unwrap_or("(not recorded)"));
    println!("  ticket      {}", m.ticket.as_deref().unwrap_or("(not recorded)"));
    println!("  reason      {}", m.reason.as_deref().unwrap_or("(not recorded)"));
    println!("  archive     {} ({} bytes, {} files)", m.archive, m.size, m.files.len());
    println!("  git         {}{}", m.git.commit, if m.git.dirty { " (dirty)" } else { "" });
    println!("  policies    {}", m.policy_bundle);
    println!("  terraform   {}", m.tools.terraform);
    println!("  regorus     {}", m.tools.regorus);
    for p in m.tools.providers.values() {
        println!("  provider    {} {}", p.source, p.constraints.join(" ; "));
    }
    for (name, v) in &m.modules {
        println!(
            "  module      {name} {} sha256 {}",
            v.get("version").and_then(|x| x.as_str()).unwrap_or("?"),
            v.get("sha256").and_then(|x| x.as_str()).unwrap_or("?")
        );
    }
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    match args.command {
        Cmd::Build { out, terraform_version, terraform, json, author, key, ticket, reason } => {
            let signer = crate::promote::signer(&author, key.as_deref())?;
            let paths = lz_promote::Paths::for_root(root);
            let ledger = lz_promote::ledger::Ledger::open(&paths.identities, &paths.evidence)?;
            let who = ledger
                .identities()
                .get(&author)
                .with_context(|| format!("{author} is not an identity in governance/identities.toml"))?;
            if !who.roles.contains(&lz_evidence::Role::Author) {
                anyhow::bail!("{author} does not have the author role in governance/identities.toml");
            }
            let opts = BuildOptions {
                releases_dir: releases_dir(root, out),
                terraform_version,
                terraform_bin: terraform,
                author: Some(author),
                ticket: Some(ticket.clone()),
                reason: Some(reason.clone()),
            };
            let built = release::build(root, &opts)?;
            // The author signs the digest; the manifest's author field is only a label.
            let endpoint = lz_platform::localstack::require(root)?;
            let now = lz_promote::promote::Target::from_tree(root, "dev", &endpoint)?.clock().now()?;
            let (record, new) = lz_promote::release::sign_authorship(
                &ledger,
                &signer,
                &built.manifest.digest,
                &ticket,
                &reason,
                &now,
            )?;
            let first = lz_promote::breakglass::author_of(&ledger.records()?, &built.manifest.digest)
                .map(|r| r.identity.clone())
                .unwrap_or_default();
            if json {
                println!("{}", serde_json::to_string_pretty(&built.manifest)?);
            } else {
                print(&built.dir, &built.manifest);
                if built.existed {
                    println!("  (identical release already stored)");
                }
                if new {
                    println!("  signed by   {first} (release record {record})");
                } else {
                    println!("  signed by   {first} (release record {record}, the first for this digest: the author of the release)");
                }
            }
        }
        Cmd::Show { digest, dir, json } => {
            let (dir, m) = release::show(&releases_dir(root, dir), &digest)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                print(&dir, &m);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn arguments_are_consistent() {
        use clap::Args as _;
        super::Args::augment_args(clap::Command::new("release")).debug_assert();
    }
}
