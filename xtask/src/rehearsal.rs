//! `cargo xtask rehearsal setup --keys DIR`: turns this checkout into a rehearsal of the
//! release train (the rehearsal workflow's first step): test identities with keys generated
//! now, open change windows, stores of its own. Never run it in a checkout you commit from.
//! With `--kms` the pipeline identities ([`PIPELINE_IDENTITIES`]) get KMS keys instead of key
//! files, created in the pipeline role's account (`pipeline_role_arn` of `governance/aws.toml`)
//! through `lz_platform::reach`: the train's jobs then sign as a real organisation's do
//! (GitHub OIDC token -> pipeline role -> KMS Sign), with no key in their environment.
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
        /// Give the pipeline identities (deployer-bot, change-policy) KMS keys in the pipeline
        /// role's account instead of key files
        #[arg(long)]
        kms: bool,
    },
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let Cmd::Setup { keys, kms } = args.command;
    if keys.starts_with(root) {
        anyhow::bail!("--keys {} is inside the checkout: private keys never go where they could be committed", keys.display());
    }
    let kms_keys = if kms { pipeline_kms_keys(root)? } else { Default::default() };
    let suffix = lz_operate::sandbox::rehearsal_setup_with(root, &keys, &|name| Ok(kms_keys.get(name).cloned()))?;
    for (name, (_, arn)) in &kms_keys {
        println!("{name} signs with the KMS key {arn}");
    }
    println!("rehearsal identities: {}", lz_operate::sandbox::PEOPLE.map(|p| p.0).join(", "));
    println!("keys in {}", keys.display());
    println!("stores suffixed -{suffix}; change windows open");
    Ok(ExitCode::SUCCESS)
}

/// The identities that sign in the pipeline's jobs (train, drift, rotation).
pub const PIPELINE_IDENTITIES: [&str; 2] = ["deployer-bot", "change-policy"];

/// A KMS signing key per pipeline identity, in the pipeline role's account and dev's region:
/// name -> (public key as the register writes it, key ARN).
fn pipeline_kms_keys(root: &Path) -> anyhow::Result<std::collections::BTreeMap<String, (String, String)>> {
    use anyhow::Context as _;
    let endpoint = crate::context::endpoint(root)?;
    let profiles = lz_platform::aws_setup::Profiles::load(root)?;
    let pipeline = profiles.pipeline_role_arn.context("--kms: governance/aws.toml names no pipeline_role_arn (the account that holds the signing keys)")?;
    let (account, role) = lz_platform::aws_setup::role_parts(&pipeline)?;
    let region = lz_platform::overlays::env_file(root, "dev")?.region;
    let aws = lz_platform::reach::account(&endpoint, &account, &region, &role, &lz_platform::reach::session("rehearsal"))?;
    let rt = lz_platform::aws::runtime()?;
    let mut out = std::collections::BTreeMap::new();
    for name in PIPELINE_IDENTITIES {
        let arn = rt.block_on(lz_platform::kms_keys::create_signing_key(&aws, &format!("landing zone rehearsal: signing key of {name}")))?;
        let signer = lz_evidence::signer::KmsSigner::connect(aws.kms(), &arn).with_context(|| format!("the new KMS key of {name}"))?;
        use lz_evidence::signer::SignerBackend as _;
        out.insert(name.to_string(), (lz_evidence::identity::encode_public_key(&signer.public_key()), arn));
    }
    Ok(out)
}
