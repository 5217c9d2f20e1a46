//! `cargo xtask rehearsal setup --keys DIR`: turns this checkout into a rehearsal of the
//! release train (the rehearsal workflow's first step): test identities with keys generated
//! now, open change windows, stores of its own. Never run it in a checkout you commit from.
//! With `--kms` the pipeline identities ([`PIPELINE_IDENTITIES`]) get KMS keys instead of key
//! files, created in the pipeline roles' account (`pipeline_role_arn` of `governance/aws.toml`,
//! one role per environment) through `lz_platform::reach`, and each environment's pipeline role
//! is created there with the documents of `lz_platform::pipeline_roles` (trusting only that
//! environment's OIDC subject, allowed only that environment's role and the signing keys): the
//! train's jobs then sign as a real organisation's do (GitHub OIDC token -> the job's
//! environment's pipeline role -> KMS Sign), with no key in their environment.
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
    if kms {
        for (env, role) in pipeline_roles(root, &kms_keys.values().map(|(_, arn)| arn.clone()).collect::<Vec<_>>())? {
            println!("{env} jobs act as {role} (trusting only {})", lz_platform::pipeline_roles::subject(REHEARSAL_REPO, &env));
        }
    }
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
    // The keys live in the pipeline roles' account; dev's pipeline role creates them.
    let pipeline = profiles.pipeline_role_arn("dev").context("--kms: governance/aws.toml names no pipeline_role_arn (the account that holds the signing keys)")?;
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

/// The repository the rehearsal's trust policies name (`org/name`).
const REHEARSAL_REPO: &str = "example/landing-zone";

/// Creates each environment's pipeline role in the pipeline roles' account (LocalStack does not
/// enforce the documents; an organisation creates the same ones): environment -> role ARN.
fn pipeline_roles(root: &Path, kms_keys: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    use anyhow::Context as _;
    use lz_platform::pipeline_roles as docs;
    let endpoint = crate::context::endpoint(root)?;
    let profiles = lz_platform::aws_setup::Profiles::load(root)?;
    let dev = profiles.pipeline_role_arn("dev").context("--kms: governance/aws.toml names no pipeline_role_arn")?;
    let (account, role) = lz_platform::aws_setup::role_parts(&dev)?;
    let region = lz_platform::overlays::env_file(root, "dev")?.region;
    let iam = lz_platform::reach::account(&endpoint, &account, &region, &role, &lz_platform::reach::session("rehearsal"))?.iam();
    let provider = format!("arn:aws:iam::{account}:oidc-provider/{}", docs::GITHUB_ISSUER);
    let stores = lz_promote::stores::Stores::load(root, &endpoint)?;
    let store_role = format!("arn:aws:iam::{}:role/{}", stores.account_id, lz_platform::reach::STORE_ROLE);
    let rt = lz_platform::aws::runtime()?;
    let mut out = Vec::new();
    for env in lz_input::ENVIRONMENTS {
        let arn = profiles.pipeline_role_arn(env).expect("named above");
        let (_, name) = lz_platform::aws_setup::role_parts(&arn)?;
        let env_account = lz_platform::overlays::env_file(root, env)?.account_id;
        let trust = docs::pipeline_trust(&provider, docs::GITHUB_ISSUER, REHEARSAL_REPO, env);
        let permissions = docs::pipeline_permissions(&profiles.environment_role_arn(env, &env_account), &store_role, kms_keys);
        rt.block_on(async {
            match iam.create_role().role_name(&name).assume_role_policy_document(trust.to_string()).send().await {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(|se| se.is_entity_already_exists_exception()) => {
                    iam.update_assume_role_policy().role_name(&name).policy_document(trust.to_string()).send().await.map_err(lz_evidence::s3::aws_error)?;
                }
                Err(e) => return Err(lz_evidence::s3::aws_error(e)),
            }
            iam.put_role_policy().role_name(&name).policy_name("lz-pipeline").policy_document(permissions.to_string()).send().await.map_err(lz_evidence::s3::aws_error)?;
            anyhow::Ok(())
        })
        .with_context(|| format!("creating {env}'s pipeline role {arn}"))?;
        out.push((env.to_string(), arn));
    }
    Ok(out)
}
