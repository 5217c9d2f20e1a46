//! A CI job acts for one environment (issue 26): the workflow maps the job's GitHub environment
//! to `LZ_ENVIRONMENT`, which picks the pipeline role its OIDC token is exchanged for
//! (`crate::ci_identity`). A command of that job that names another environment (`promote --to`,
//! `--env` of drift, rotate, approve, bootstrap...) is refused here, with exit 2, before any AWS
//! call: a dev job's step edited to say `--to prod` stops at once, instead of running on until
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

/// [`check_against`] with the process's `LZ_ENVIRONMENT`.
pub fn check(matches: &clap::ArgMatches) -> Result<()> {
    check_against(crate::signing::set_var(ENVIRONMENT_ENV).as_deref(), matches)
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
