//! `cargo xtask rehearsal setup --keys DIR`: turns this checkout into a rehearsal of the
//! release train (the rehearsal workflow's first step): test identities with keys generated
//! now, open change windows, stores of its own. Never run it in a checkout you commit from.
//! With `--kms` the pipeline identities ([`pipeline_identities`]: each environment's deployer
//! `deployer-bot-{env}` and policy identity `change-policy-{env}`, bound to it in the register;
//! the approval policy names `policy_identity = "change-policy-{env}"` with or without `--kms`) get KMS
//! keys instead of key files, created in the pipeline roles' account (`pipeline_role_arn` of
//! `governance/aws.toml`, one role per environment) through `lz_platform::reach`, each key's
//! policy letting only its environments' pipeline roles sign; each environment's pipeline role
//! is created there with the documents of `lz_platform::pipeline_roles` (trusting only that
//! environment's OIDC subject, allowed only that environment's role and the keys of identities
//! bound to it): the
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
        /// Give the pipeline identities (each environment's deployer-bot-ENV and change-policy-ENV)
        /// KMS keys in the pipeline roles' account instead of key files
        #[arg(long)]
        kms: bool,
    },
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let Cmd::Setup { keys, kms } = args.command;
    if keys.starts_with(root) {
        anyhow::bail!("--keys {} is inside the checkout: private keys never go where they could be committed", keys.display());
    }
    let kms_keys = if kms {
        // The roles first: each key's policy names the pipeline roles that may sign with it.
        let roles = pipeline_roles(root)?;
        let kms_keys = pipeline_kms_keys(root, &roles)?;
        for (env, role) in &roles {
            pipeline_permissions(root, env, role, &kms_keys)?;
            let own: Vec<&str> = kms_keys.iter().filter(|(_, k)| k.environments.iter().any(|e| e == env)).map(|(n, _)| n.as_str()).collect();
            println!(
                "{env} jobs act as {role} (trusting only {}), signing as {}",
                lz_platform::pipeline_roles::subject(REHEARSAL_REPO, env),
                own.join(", ")
            );
        }
        kms_keys
    } else {
        Default::default()
    };
    let suffix = lz_operate::sandbox::rehearsal_setup_with(root, &keys, &|name| Ok(kms_keys.get(name).map(|k| (k.public_key.clone(), k.arn.clone()))))?;
    // Each environment's policy evaluations and automatic approvals by its own identity.
    println!("policy identity per environment: {}", lz_operate::sandbox::POLICY_IDENTITY_PER_ENV);
    for (name, key) in &kms_keys {
        println!("{name} signs with the KMS key {} (for {})", key.arn, key.environments.join(", "));
    }
    println!("rehearsal identities: {}", lz_operate::sandbox::PEOPLE.map(|p| p.0).join(", "));
    println!("keys in {}", keys.display());
    println!("stores suffixed -{suffix}; change windows open");
    Ok(ExitCode::SUCCESS)
}

/// The identities that sign in the pipeline's jobs (train, drift, rotation): each environment's
/// deployer (`deployer-bot-{env}`) and policy identity (`change-policy-{env}`), each bound to
/// that environment alone.
pub fn pipeline_identities() -> Vec<String> {
    lz_input::ENVIRONMENTS.iter().flat_map(|e| [lz_operate::sandbox::env_deployer(e), lz_operate::sandbox::env_policy_identity(e)]).collect()
}

/// A pipeline identity's KMS key.
struct KmsKey {
    /// As the register writes it.
    public_key: String,
    arn: String,
    /// The environments the identity is bound to (`lz_operate::sandbox::BINDINGS`).
    environments: Vec<String>,
}

/// A KMS signing key per pipeline identity ([`pipeline_identities`]), in the pipeline roles'
/// account and dev's region, whose key policy lets only the pipeline roles of the environments
/// the identity is bound to sign (`lz_platform::pipeline_roles::signing_key_policy`).
fn pipeline_kms_keys(root: &Path, roles: &[(String, String)]) -> anyhow::Result<std::collections::BTreeMap<String, KmsKey>> {
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
    for name in pipeline_identities() {
        let environments: Vec<String> = lz_operate::sandbox::BINDINGS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, envs)| envs.iter().map(|e| e.to_string()).collect())
            .with_context(|| format!("pipeline identity {name} is bound to no environment"))?;
        let signers: Vec<String> = roles.iter().filter(|(env, _)| environments.contains(env)).map(|(_, arn)| arn.clone()).collect();
        let policy = lz_platform::pipeline_roles::signing_key_policy(&account, &signers).to_string();
        let arn = rt.block_on(lz_platform::kms_keys::create_signing_key(&aws, &format!("landing zone rehearsal: signing key of {name}"), Some(&policy)))?;
        let signer = lz_evidence::signer::KmsSigner::connect(aws.kms(), &arn).with_context(|| format!("the new KMS key of {name}"))?;
        use lz_evidence::signer::SignerBackend as _;
        out.insert(name.clone(), KmsKey { public_key: lz_evidence::identity::encode_public_key(&signer.public_key()), arn, environments });
    }
    Ok(out)
}

/// The repository the rehearsal's trust policies name (`org/name`).
const REHEARSAL_REPO: &str = "example/landing-zone";

/// The pipeline roles' IAM client (in the account of `pipeline_role_arn`, as dev's pipeline role).
fn pipeline_iam(root: &Path) -> anyhow::Result<(lz_platform::aws_setup::Aws, String)> {
    use anyhow::Context as _;
    let endpoint = crate::context::endpoint(root)?;
    let profiles = lz_platform::aws_setup::Profiles::load(root)?;
    let dev = profiles.pipeline_role_arn("dev").context("--kms: governance/aws.toml names no pipeline_role_arn")?;
    let (account, role) = lz_platform::aws_setup::role_parts(&dev)?;
    let region = lz_platform::overlays::env_file(root, "dev")?.region;
    Ok((lz_platform::reach::account(&endpoint, &account, &region, &role, &lz_platform::reach::session("rehearsal"))?, account))
}

/// Creates each environment's pipeline role in the pipeline roles' account, trusting only that
/// environment's OIDC subject (LocalStack does not enforce the documents; an organisation creates
/// the same ones): environment -> role ARN.
fn pipeline_roles(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    use anyhow::Context as _;
    use lz_platform::pipeline_roles as docs;
    let profiles = lz_platform::aws_setup::Profiles::load(root)?;
    let (aws, account) = pipeline_iam(root)?;
    let iam = aws.iam();
    let provider = format!("arn:aws:iam::{account}:oidc-provider/{}", docs::GITHUB_ISSUER);
    let rt = lz_platform::aws::runtime()?;
    let mut out = Vec::new();
    for env in lz_input::ENVIRONMENTS {
        let arn = profiles.pipeline_role_arn(env).context("--kms: governance/aws.toml names no pipeline_role_arn")?;
        let (_, name) = lz_platform::aws_setup::role_parts(&arn)?;
        let trust = docs::pipeline_trust(&provider, docs::GITHUB_ISSUER, REHEARSAL_REPO, env);
        rt.block_on(async {
            match iam.create_role().role_name(&name).assume_role_policy_document(trust.to_string()).send().await {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(|se| se.is_entity_already_exists_exception()) => {
                    iam.update_assume_role_policy().role_name(&name).policy_document(trust.to_string()).send().await.map_err(lz_evidence::s3::aws_error)?;
                }
                Err(e) => return Err(lz_evidence::s3::aws_error(e)),
            }
            anyhow::Ok(())
        })
        .with_context(|| format!("creating {env}'s pipeline role {arn}"))?;
        out.push((env.to_string(), arn));
    }
    Ok(out)
}

/// The permissions of `env`'s pipeline role `arn`: that environment's role, the stores' role, and
/// the signing keys of the identities bound to `env` only (`lz_platform::pipeline_roles`).
fn pipeline_permissions(root: &Path, env: &str, arn: &str, kms_keys: &std::collections::BTreeMap<String, KmsKey>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use lz_platform::pipeline_roles as docs;
    let endpoint = crate::context::endpoint(root)?;
    let profiles = lz_platform::aws_setup::Profiles::load(root)?;
    let iam = pipeline_iam(root)?.0.iam();
    let stores = lz_promote::stores::Stores::load(root, &endpoint)?;
    let store_role = format!("arn:aws:iam::{}:role/{}", stores.account_id, lz_platform::reach::STORE_ROLE);
    let env_account = lz_platform::overlays::env_file(root, env)?.account_id;
    let keys: Vec<(String, Vec<String>)> = kms_keys.values().map(|k| (k.arn.clone(), k.environments.clone())).collect();
    let permissions = docs::pipeline_permissions(&profiles.environment_role_arn(env, &env_account), &store_role, &docs::signing_keys_of(env, &keys));
    let (_, name) = lz_platform::aws_setup::role_parts(arn)?;
    lz_platform::aws::runtime()?
        .block_on(iam.put_role_policy().role_name(&name).policy_name("lz-pipeline").policy_document(permissions.to_string()).send())
        .map_err(lz_evidence::s3::aws_error)
        .with_context(|| format!("the permissions of {env}'s pipeline role {arn}"))?;
    Ok(())
}
