//! One command context: what every command that acts on the landing zone sets up the same way
//! (the running LocalStack endpoint, the landing zone's stores from `governance/stores.toml`
//! under the root, and the signer of `--as NAME [--key FILE]`), written once.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::Signer;
use lz_promote::Paths;

/// The repository root, from the xtask crate's manifest directory (`LZ_ROOT` overrides it, so
/// tests can run the gate against a mutated copy of the repository).
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("LZ_ROOT") {
        return PathBuf::from(root);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// The landing zone a command acts on: the endpoint that answers, and its stores.
pub struct LandingZone {
    pub endpoint: String,
    pub paths: Paths,
}

impl LandingZone {
    /// The landing zone under `root` at its endpoint ([`endpoint`]: the endpoint profile
    /// `LZ_AWS_PROFILE` names, LocalStack by default).
    pub fn open(root: &Path) -> Result<LandingZone> {
        let endpoint = endpoint(root)?;
        LandingZone::at(root, &endpoint)
    }

    /// The landing zone under `root` at `endpoint`, which the command already found answering.
    pub fn at(root: &Path, endpoint: &str) -> Result<LandingZone> {
        let paths = Paths::landing_zone(root, endpoint)?;
        Ok(LandingZone { endpoint: endpoint.to_string(), paths })
    }
}

/// The endpoint profile a command acting on the landing zone uses: `LZ_AWS_PROFILE` names one
/// of `governance/aws.toml` (a governed list: no other URL is reachable this way), `localstack`
/// when unset, except in a pipeline job ([`profile_name`]).
pub fn aws_profile(root: &Path) -> Result<lz_platform::aws_setup::EndpointProfile> {
    let var = crate::signing::set_var;
    let pipeline = var("GITHUB_ACTIONS").as_deref() == Some("true") && var(crate::ci_identity::TOKEN_URL_ENV).is_some();
    let name = profile_name(var(crate::signing::AWS_PROFILE_ENV), pipeline)?;
    if name == "localstack" && !root.join(lz_platform::aws_setup::PROFILES_FILE).is_file() {
        // A tree without the file (an older checkout, a test's partial copy): LocalStack, as before.
        return Ok(lz_platform::aws_setup::EndpointProfile::at("localstack", lz_platform::localstack::ENDPOINT, None));
    }
    Ok(lz_platform::aws_setup::Profiles::load(root)?.get(name.trim())?.clone())
}

/// The endpoint profile's name: the one `LZ_AWS_PROFILE` names, else `localstack`. A pipeline
/// job (GitHub Actions with `id-token: write`: it acts as the pipeline role on the organisation's
/// AWS) must name it (`LZ_AWS_PROFILE: ${{ vars.LZ_AWS_PROFILE }}` in the step's `env:`): a
/// variable the workflow forgot to map would otherwise send it to LocalStack without a word.
pub fn profile_name(named: Option<String>, pipeline: bool) -> Result<String> {
    match named {
        Some(n) => Ok(n.trim().to_string()),
        None if pipeline => anyhow::bail!(
            "{} is not set in this GitHub Actions job, which may act as the pipeline role (id-token: write): name the \
             endpoint profile of governance/aws.toml explicitly (`{}: ${{{{ vars.{} }}}}` in the step's env:, \
             `localstack` for a rehearsal), never by default",
            crate::signing::AWS_PROFILE_ENV,
            crate::signing::AWS_PROFILE_ENV,
            crate::signing::AWS_PROFILE_ENV
        ),
        None => Ok("localstack".to_string()),
    }
}

/// Where the landing zone's AWS APIs are ([`aws_profile`]): real AWS (`"aws"`, regional
/// endpoints) or the profile's URL. Only LocalStack's own endpoint is probed first (an error
/// saying how to start it when nothing answers); any other endpoint answers or fails on its
/// first call.
pub fn endpoint(root: &Path) -> Result<String> {
    endpoint_of(root, &aws_profile(root)?)
}

fn endpoint_of(root: &Path, profile: &lz_platform::aws_setup::EndpointProfile) -> Result<String> {
    match profile.endpoint.as_deref() {
        None => Ok(lz_platform::reach::AWS.to_string()),
        Some(lz_platform::localstack::ENDPOINT) => lz_platform::localstack::require(root),
        Some(url) => Ok(url.to_string()),
    }
}

/// The signer for `--as NAME [--key FILE]`: the key file (`--key ssh-agent[:COMMENT]`: the
/// ed25519 key in the ssh-agent of `SSH_AUTH_SOCK`), else the KMS key `LZ_SIGNING_KMS_KEY`
/// names, else the key `LZ_SIGNING_KEY` holds, else the KMS key the register names for NAME
/// (see `crate::signing`).
pub fn signer(identity: &str, key: Option<&Path>) -> Result<Signer> {
    match (key, crate::signing::kms_key()) {
        (Some(k), _) if crate::signing::agent_key(k).is_some() => crate::signing::ssh_agent(identity, crate::signing::agent_key(k).flatten()),
        (Some(k), _) => Signer::from_file(identity, k),
        (None, Some(arn)) => kms(identity, &arn),
        // An empty variable (a secret the job cannot see expands to "") is unset, as for the policy key.
        (None, None) if crate::signing::set_var(lz_evidence::identity::SIGNING_KEY_ENV).is_some() => Signer::from_env(identity),
        (None, None) => match registered_kms(&project_root(), identity)? {
            Some(signer) => Ok(signer),
            None => Signer::from_env(identity),
        },
    }
}

/// A signer for `identity` whose key is the KMS key `arn`, reached through the landing zone's
/// endpoint profile ([`endpoint`]) as the process's base identity.
pub fn kms(identity: &str, arn: &str) -> Result<Signer> {
    // A malformed ARN is named before the endpoint is probed.
    crate::signing::region_of(arn).with_context(|| format!("the signing key of {identity}"))?;
    crate::signing::kms_at(&endpoint(&project_root())?, identity, arn)
}

/// A signer for `identity` with the KMS key the checkout's register names for it, if any. The
/// checkout's `governance/identities.toml` only says where the key is (verifying the register in
/// force would need the evidence store before every signature): a key that is not the one the
/// register in force names makes signatures that are refused when their record is appended, and
/// the error says so.
pub fn registered_kms(root: &Path, identity: &str) -> Result<Option<Signer>> {
    let Some(arn) = crate::signing::registered_kms_key(root, identity)? else { return Ok(None) };
    kms(identity, &arn)
        .with_context(|| {
            format!(
                "the kms_key {arn} that this checkout's governance/identities.toml names for {identity} (not read from the \
                 verified register: a key other than the registered one is refused when its record is appended)"
            )
        })
        .map(Some)
}

// `--as NAME [--key FILE]`, declared once and flattened into every command that signs a record
// (`#[command(flatten)] signer: SignerArgs`). A command says which role signs for it by
// rewording the help of `--as` (`#[command(mut_arg("identity", |a| a.help("...")))]`); the help
// tests (`help::tests`) hold every flag described.
#[derive(clap::Args, Clone, Debug)]
pub struct SignerArgs {
    /// The registered identity that signs (governance/identities.toml)
    #[arg(long = "as", value_name = "NAME", value_parser = lz_input::ids::identity)]
    pub identity: String,
    /// The identity's ed25519 private key file (default: the KMS key LZ_SIGNING_KMS_KEY names,
    /// else the key LZ_SIGNING_KEY holds, else the KMS key the register names for it)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

impl SignerArgs {
    /// The signer of `--as NAME [--key FILE]` ([`signer`]).
    pub fn signer(&self) -> Result<Signer> {
        signer(&self.identity, self.key.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// A pipeline job (GitHub Actions, id-token: write) that does not name its endpoint profile
    /// is refused instead of defaulting to LocalStack; elsewhere the default stays.
    #[test]
    fn a_pipeline_job_names_its_endpoint_profile() {
        let e = super::profile_name(None, true).unwrap_err().to_string();
        assert!(e.contains("LZ_AWS_PROFILE") && e.contains("${{ vars.LZ_AWS_PROFILE }}"), "{e}");
        assert_eq!(super::profile_name(Some("localstack".into()), true).unwrap(), "localstack");
        assert_eq!(super::profile_name(Some(" aws ".into()), true).unwrap(), "aws");
        assert_eq!(super::profile_name(None, false).unwrap(), "localstack");
    }

    /// The landing zone opens at any profile of governance/aws.toml: real AWS and an https://
    /// endpoint need no LocalStack (nothing is probed, no call is made), a name the file does
    /// not list is refused.
    #[test]
    fn the_landing_zone_endpoint_is_any_governed_profile() {
        use lz_platform::aws_setup::Profiles;
        let dir = tempfile::tempdir().unwrap();
        let text = "[profile.aws]\n[profile.staging]\nendpoint = \"https://aws-gateway.example.internal\"\n";
        let profiles = Profiles::parse(text, "aws.toml", dir.path()).unwrap();
        assert_eq!(super::endpoint_of(dir.path(), profiles.get("aws").unwrap()).unwrap(), "aws");
        assert_eq!(super::endpoint_of(dir.path(), profiles.get("staging").unwrap()).unwrap(), "https://aws-gateway.example.internal");
        let paths = lz_promote::Paths::landing_zone(&super::project_root(), "https://aws-gateway.example.internal");
        assert!(paths.is_ok(), "the stores open without a call: {:?}", paths.err());
        assert!(format!("{:#}", profiles.get("nope").unwrap_err()).contains("no endpoint profile \"nope\""));
    }

    #[derive(clap::Parser)]
    #[command(mut_arg("identity", |a| a.help("The approver (a person)")))]
    struct Cmd {
        #[command(flatten)]
        signer: super::SignerArgs,
    }

    #[test]
    fn signer_args_are_shared_and_a_command_rewords_the_role() {
        use clap::CommandFactory as _;
        Cmd::command().debug_assert();
        let c = Cmd::try_parse_from(["x", "--as", "alice", "--key", "k.pem"]).unwrap();
        assert_eq!((c.signer.identity.as_str(), c.signer.key.as_deref()), ("alice", Some(std::path::Path::new("k.pem"))));
        assert!(Cmd::try_parse_from(["x", "--key", "k.pem"]).is_err(), "--as is required");
        assert!(Cmd::try_parse_from(["x", "--as", "Not An Id"]).is_err(), "--as is a validated identity");
        let help = Cmd::command().render_help().to_string();
        assert!(help.contains("--as <NAME>") && help.contains("The approver (a person)") && help.contains("--key <FILE>"), "{help}");
    }

    /// Every command that takes `--key` takes it, with `--as`, from [`super::SignerArgs`]: one
    /// declaration (its value names and the help of `--key`), whatever role a command names.
    #[test]
    fn every_signing_command_flattens_the_shared_signer_args() {
        use clap::CommandFactory as _;
        fn walk(c: &clap::Command, path: &str, out: &mut Vec<String>) {
            let arg = |long: &str| c.get_arguments().find(|a| a.get_long() == Some(long));
            if let Some(key) = arg("key") {
                let shared = Cmd::command();
                let want = shared.get_arguments().find(|a| a.get_long() == Some("key")).unwrap();
                let same_key = key.get_help().map(ToString::to_string) == want.get_help().map(ToString::to_string)
                    && key.get_value_names() == want.get_value_names();
                let as_ = arg("as");
                let same_as = as_.is_some_and(|a| a.get_id() == "identity" && a.get_value_names().is_some_and(|v| v == ["NAME"]));
                if !(same_key && same_as) {
                    out.push(format!("cargo xtask {path}: --as/--key declared by hand: flatten crate::context::SignerArgs"));
                }
            }
            for s in c.get_subcommands() {
                walk(s, &format!("{path} {}", s.get_name()).trim().to_string(), out);
            }
        }
        let mut out = Vec::new();
        walk(&crate::Cli::command(), "", &mut out);
        assert!(out.is_empty(), "{}", out.join("\n"));
        // The walk sees the signing commands (it would pass vacuously on a tree without them).
        let cli = crate::Cli::command();
        for path in [["approve", ""], ["promote", ""], ["evidence", "append"], ["register", "approve"], ["bootstrap", ""]] {
            let mut c = cli.find_subcommand(path[0]).unwrap();
            if !path[1].is_empty() {
                c = c.find_subcommand(path[1]).unwrap();
            }
            assert!(c.get_arguments().any(|a| a.get_long() == Some("key")), "{path:?} takes no --key");
        }
    }

    #[test]
    fn bootstrap_needs_as_unless_stores_and_append_still_takes_identity() {
        use clap::Parser as _;
        let parse = |args: &[&str]| crate::Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()));
        assert!(parse(&["bootstrap", "--stores"]).is_ok(), "--stores parses without --as: the run refuses it, saying why (exit 2)");
        assert!(parse(&["bootstrap", "--stores", "--as", "sec-alice"]).is_ok());
        let e = parse(&["bootstrap", "--env", "dev", "--pin", "9c1d2e7a"]).err().expect("--as is required without --stores").to_string();
        assert!(e.contains("--as"), "{e}");
        assert!(parse(&["bootstrap", "--env", "dev", "--pin", "9c1d2e7a", "--as", "sec-alice"]).is_ok());
        let append = ["evidence", "append", "--kind", "drift", "--release", "9c1d2e7a"];
        assert!(parse(&[&append[..], &["--identity", "drift-monitor"]].concat()).is_ok(), "--identity is the older name of --as");
        assert!(parse(&[&append[..], &["--as", "drift-monitor"]].concat()).is_ok());
        assert!(parse(&append).is_err(), "append needs a signer");
    }
}
