//! A CI job acts for one environment (issue 26): the workflow maps the job's GitHub environment
//! to `LZ_ENVIRONMENT`, which picks the pipeline role its OIDC token is exchanged for
//! (`crate::ci_identity`). A command of that job that names another environment (`promote --to`,
//! `--env` of drift, rotate, approve, bootstrap...), or signs (`--as`) as an identity the
//! register binds to other environments, is refused here, with exit 2, before any AWS call: a dev job's step edited to say `--to prod` stops at once, instead of running on until
//! prod's role or key refuses it. This is a guard against mistakes and edited steps, never the
//! control: the trust policies of the pipeline roles and the environment binding of the signing
//! identities (`lz_evidence::binding`) are, since whoever edits the step also edits its variables.

use anyhow::{bail, Result};

use crate::ci_identity::ENVIRONMENT_ENV;

/// The environments `matches` (the parsed command line, every subcommand level) names:
/// (flag, value) for `--env`, and `--to` of `promote` (where `--to` is an environment).
pub fn named(matches: &clap::ArgMatches) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut level = Some(("", matches));
    while let Some((command, m)) = level {
        let mut flags = vec![("env", "--env")];
        if command == "promote" {
            flags.push(("to", "--to"));
        }
        for (id, flag) in flags {
            if let Ok(Some(v)) = m.try_get_one::<String>(id) {
                out.push((flag, v.clone()));
            }
        }
        level = m.subcommand();
    }
    out
}

/// Refuses a command naming an environment other than `job` (the job's `LZ_ENVIRONMENT`).
pub fn check_against(job: Option<&str>, matches: &clap::ArgMatches) -> Result<()> {
    let Some(job) = job.map(str::trim).filter(|j| !j.is_empty()) else { return Ok(()) };
    for (flag, env) in named(matches) {
        if env != job {
            bail!(
                "this job acts for environment {job} ({ENVIRONMENT_ENV}, the job's GitHub environment) but the command says {flag} {env}: \
                 a job runs commands of its own environment only"
            );
        }
    }
    Ok(())
}

/// The identity `--as` names, at any subcommand level.
fn signer_named(matches: &clap::ArgMatches) -> Option<String> {
    let mut level = Some(matches);
    while let Some(m) = level {
        if let Ok(Some(v)) = m.try_get_one::<String>("identity") {
            return Some(v.clone());
        }
        level = m.subcommand().map(|(_, sub)| sub);
    }
    None
}

/// Refuses signing as an identity the register under `root` binds to environments other than
/// `job`: a dev job asking to sign as `deployer-bot-prod` stops here, before KMS refuses it (or,
/// where a key file is at hand, before the append refuses the record). The checkout's register
/// is only a hint for this guard; the register in force decides at append and verification.
pub fn check_signer(root: &std::path::Path, job: Option<&str>, matches: &clap::ArgMatches) -> Result<()> {
    let (Some(job), Some(name)) = (job.map(str::trim).filter(|j| !j.is_empty()), signer_named(matches)) else { return Ok(()) };
    let file = root.join("governance/identities.toml");
    if !file.is_file() {
        return Ok(());
    }
    let register = lz_evidence::identity::Identities::load(&file)?;
    if let Some(id) = register.get(&name) {
        if !lz_evidence::binding::signs_for(id, job) {
            bail!(
                "this job acts for environment {job} ({ENVIRONMENT_ENV}) but --as {name} is bound to {} in {}: each environment's \
                 jobs sign as that environment's own identities",
                id.environments.as_deref().unwrap_or_default().join(", "),
                file.display()
            );
        }
    }
    Ok(())
}

/// [`check_against`] and [`check_signer`] with the process's `LZ_ENVIRONMENT`.
pub fn check(root: &std::path::Path, matches: &clap::ArgMatches) -> Result<()> {
    let job = crate::signing::set_var(ENVIRONMENT_ENV);
    check_against(job.as_deref(), matches)?;
    check_signer(root, job.as_deref(), matches)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    fn matches(args: &[&str]) -> clap::ArgMatches {
        crate::Cli::command().try_get_matches_from(std::iter::once("xtask").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn a_command_of_another_environment_is_refused() {
        let promote = matches(&["promote", "--release", &"a".repeat(64), "--to", "prod", "--as", "deployer-bot-prod"]);
        assert_eq!(super::named(&promote), vec![("--to", "prod".to_string())]);
        assert!(super::check_against(Some("prod"), &promote).is_ok());
        let e = super::check_against(Some("dev"), &promote).unwrap_err().to_string();
        assert!(e.contains("acts for environment dev") && e.contains("--to prod"), "{e}");
        // No job environment: nothing to compare (a person's workstation).
        assert!(super::check_against(None, &promote).is_ok() && super::check_against(Some(" "), &promote).is_ok());
        let drift = matches(&["drift", "--env", "uat", "--as", "deployer-bot-uat"]);
        assert!(super::check_against(Some("dev"), &drift).unwrap_err().to_string().contains("--env uat"));
        // delegate's --to names a person, not an environment.
        let delegate = matches(&[
            "delegate", "grant", "--env", "prod", "--to", "bob", "--class", "keys", "--from", "2026-01-01", "--until", "2026-01-02", "--as", "frank", "--key", "k", "--reason", "r",
        ]);
        assert_eq!(super::named(&delegate), vec![("--env", "prod".to_string())]);
        // A command that names no environment runs in any job.
        assert!(super::check_against(Some("dev"), &matches(&["evidence", "verify"])).is_ok());
    }
}
