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
    /// Archive the deployable tree (modules/, environments/, policies/, governance/, schema/)
    /// and write the manifest under .tools/releases/<digest>/ (a staging area: `publish` puts
    /// the release where promotions read it)
    Build {
        /// Staging directory (the release goes to DIR/<digest>/); default .tools/releases
        #[arg(long)]
        out: Option<PathBuf>,
        /// Terraform version to record instead of running `terraform version -json`
        #[arg(long)]
        terraform_version: Option<String>,
        /// Terraform binary to ask for its version (default: the harness's Terraform, from PATH
        /// or bootstrapped into .tools/)
        #[arg(long)]
        terraform: Option<PathBuf>,
        /// Print the manifest as JSON
        #[arg(long)]
        json: bool,
        /// Who asks for the release (a label in the manifest: the author is whoever signs the
        /// first release record at `publish`)
        #[arg(long)]
        author: String,
        /// Change ticket
        #[arg(long)]
        ticket: String,
        /// Why: what the release changes and for what purpose
        #[arg(long)]
        reason: String,
        /// Append `digest=<digest>` to FILE (GitHub Actions' $GITHUB_OUTPUT)
        #[arg(long, value_name = "FILE")]
        github_output: Option<PathBuf>,
        /// Build although the tree is not a clean git checkout or `cargo xtask check` fails on it
        /// (neither is judged); the manifest records it, and `release show` prints it
        #[arg(long)]
        allow_dirty: bool,
    },
    /// Put a built release into the landing zone's release store (written once, Object Lock)
    /// and append its author's signed release record to the evidence store
    #[command(mut_arg("identity", |a| a.help("The author (author role in governance/identities.toml) who signs the release record")))]
    Publish {
        /// Release digest (or unique prefix) in the staging directory
        #[arg(long, value_parser = lz_input::ids::release)]
        release: String,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Staging directory; default .tools/releases
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show a release (digest or unique prefix) from the release store after hashing its archive
    Show {
        /// Release digest (or a unique prefix of at least 8 hex digits)
        #[arg(value_parser = lz_input::ids::release)]
        digest: String,
        /// Read a staging directory instead of the release store
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Print the manifest as JSON
        #[arg(long)]
        json: bool,
    },
}

fn releases_dir(root: &Path, dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| root.join(".tools/releases"))
}

fn print(dir: &str, m: &Manifest) {
    println!("release {}", m.digest);
    println!("  stored      {dir}");
    println!("  requested   {} (manifest label; the author is the signer of the first release record)", m.author.as_deref().unwrap_or("(not recorded)"));
    println!("  ticket      {}", m.ticket.as_deref().unwrap_or("(not recorded)"));
    println!("  reason      {}", m.reason.as_deref().unwrap_or("(not recorded)"));
    println!("  archive     {} ({} bytes, {} files)", m.archive, m.size, m.files.len());
    println!("  git         {}{}", m.git.commit, if m.git.dirty { " (dirty)" } else { "" });
    match &m.hygiene {
        Some(h) if h.allow_dirty => println!("  hygiene     BUILT WITH --allow-dirty (check {})", h.check),
        Some(h) => println!("  hygiene     clean tree, check {}", h.check),
        None => println!("  hygiene     (not recorded)"),
    }
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
        Cmd::Build { out, terraform_version, terraform, json, author, ticket, reason, github_output, allow_dirty } => {
            let hygiene = lz_gate::hygiene::judge(root, allow_dirty)?;
            let terraform_bin = match (terraform, &terraform_version) {
                (Some(t), _) => t,
                (None, Some(_)) => PathBuf::from("terraform"),
                (None, None) => lz_platform::tools::terraform(root)?.path,
            };
            let opts = BuildOptions {
                releases_dir: releases_dir(root, out),
                terraform_version,
                terraform_bin,
                author: Some(author),
                ticket: Some(ticket),
                reason: Some(reason),
            };
            let built = release::build_judged(root, &opts, Some(hygiene))?;
            if let Err(e) = lz_gate::hygiene::confirm(root, &built.manifest) {
                // Nothing of a refused build stays staged to be published.
                if !built.existed {
                    let _ = std::fs::remove_dir_all(&built.dir);
                }
                return Err(e);
            }
            if let Some(f) = github_output {
                use std::io::Write as _;
                let mut out = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&f)
                    .with_context(|| format!("cannot open {}", f.display()))?;
                writeln!(out, "digest={}", built.manifest.digest).with_context(|| format!("cannot write {}", f.display()))?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&built.manifest)?);
            } else {
                print(&built.dir.display().to_string(), &built.manifest);
                if built.existed {
                    println!("  (identical release already staged)");
                }
                println!("  next        cargo xtask release publish --release {} --as <author>", &built.manifest.digest[..12]);
            }
        }
        Cmd::Publish { release: digest, signer: who, dir } => {
            let identity = &who.identity;
            let (dir, m) = release::show(&releases_dir(root, dir), &digest)?;
            let archive = std::fs::read(dir.join(release::ARCHIVE_NAME))
                .with_context(|| format!("cannot read the archive in {}", dir.display()))?;
            let manifest = std::fs::read(dir.join(release::MANIFEST_NAME))
                .with_context(|| format!("cannot read the manifest in {}", dir.display()))?;
            let signer = who.signer()?;
            let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
            let ledger = paths.ledger()?;
            let who = ledger
                .identities()
                .get(identity)
                .with_context(|| format!("{identity} is not an identity in governance/identities.toml"))?;
            if !who.roles.contains(&lz_evidence::Role::Author) {
                anyhow::bail!("{identity} does not have the author role in governance/identities.toml");
            }
            let store = lz_promote::stores::Stores::load(root, &endpoint)?.releases()?;
            let new = store.publish(&m.digest, &archive, &manifest)?;
            // The author signs the digest; the manifest's author field is only a label.
            let now = lz_operate::promote::Target::from_tree(root, "dev", &endpoint)?.clock().now()?;
            let (record, first) = lz_promote::release::sign_authorship(
                &ledger,
                &signer,
                &m.digest,
                m.ticket.as_deref().unwrap_or_default(),
                m.reason.as_deref().unwrap_or_default(),
                Some(lz_promote::release::manifest_sha256(&manifest)),
                &now,
            )?;
            let author = lz_promote::breakglass::author_of(&ledger.records()?, &m.digest)
                .map(|r| r.identity.clone())
                .unwrap_or_default();
            println!(
                "published release {} to {}{}",
                m.digest,
                store.describe(),
                if new { "" } else { " (already stored, identical)" }
            );
            if first {
                println!("  signed by   {author} (release record {record})");
            } else {
                println!("  signed by   {author} (release record {record}, the first for this digest: the author of the release)");
            }
        }
        Cmd::Show { digest, dir, json } => {
            let mut signed_note = None;
            let (where_, m) = match dir {
                Some(d) => {
                    let (dir, m) = release::show(&d, &digest)?;
                    (dir.display().to_string(), m)
                }
                None => {
                    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
                    let stores = lz_promote::stores::Stores::load(root, &endpoint)?;
                    let verified = paths.open_release(&digest)?;
                    let store = stores.releases()?;
                    let bytes = store
                        .manifest(&verified.digest)?
                        .with_context(|| format!("release {} has no manifest in {}", verified.digest, store.describe()))?;
                    let m: Manifest = serde_json::from_slice(&bytes).context("the stored manifest is not a release manifest")?;
                    if m.digest != verified.digest {
                        anyhow::bail!("the stored manifest names release {}, not {}", m.digest, verified.digest);
                    }
                    // The author's release record signs the manifest's sha256 (publish): a
                    // manifest that differs from it, say one whose hygiene was edited, is refused.
                    let records = paths.ledger()?.records()?;
                    signed_note = Some(if lz_promote::release::signed_manifest(&records, &verified.digest, &bytes)? {
                        "as signed by the release's author"
                    } else {
                        "NOT signed by the release's author (published before manifests were signed)"
                    });
                    (format!("{}{}/", store.describe(), verified.digest), m)
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                print(&where_, &m);
                if let Some(note) = signed_note {
                    println!("  manifest    {note}");
                }
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
