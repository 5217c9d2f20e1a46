//! A CI job acts for one environment (issue 26): the workflow maps the job's GitHub environment
//! to `LZ_ENVIRONMENT`, which picks the pipeline role its OIDC token is exchanged for
//! (`crate::ci_identity`). A command of that job that names another environment (`promote --to`,
//! `--env` of drift, rotate, approve, bootstrap..., every value of a list such as `service new
//! --env dev --env prod`), or signs (`--as`) as an identity the register binds to other
//! environments, is refused here, with exit 2, before any AWS call: a dev job's step edited to
//! say `--to prod` stops at once, instead of running on until prod's role or key refuses it. The
//! options read are found by walking the parsed command tree ([`names_environment`]); the test
//! `every_option_naming_an_environment_is_guarded` walks every subcommand and fails on an option
//! that names environments the guard does not read. This is a guard against mistakes and edited steps, never the
//! control: the trust policies of the pipeline roles and the environment binding of the signing
//! identities (`lz_evidence::binding`) are, since whoever edits the step also edits its variables.

use anyhow::{bail, Result};

use crate::ci_identity::ENVIRONMENT_ENV;

/// Options that name environments in every command (`--env`, repeated in `service new`).
const ENVIRONMENT_OPTIONS: [&str; 4] = ["env", "envs", "environment", "environments"];

/// Options that name an environment in one command only (`--to` of `promote`; `delegate grant
/// --to` names a person), as (command path, long name).
const ENVIRONMENT_OPTIONS_OF: [(&str, &str); 1] = [("promote", "to")];

/// Whether option `arg` of the command at `path` (subcommand names joined by spaces, `"service
/// new"`) names environments.
pub fn names_environment(path: &str, arg: &clap::Arg) -> bool {
    let Some(long) = arg.get_long() else { return false };
    ENVIRONMENT_OPTIONS.contains(&long) || ENVIRONMENT_OPTIONS_OF.iter().any(|(c, l)| *c == path && *l == long)
}

/// The environments `matches` (the command line `command` parsed, every subcommand level)
/// names: (flag, value) for each value of an option that names environments
/// ([`names_environment`]), lists included.
pub fn named(command: &clap::Command, matches: &clap::ArgMatches) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut path: Vec<&str> = Vec::new();
    let (mut cmd, mut m) = (command, matches);
    loop {
        let here = path.join(" ");
        for arg in cmd.get_arguments().filter(|a| names_environment(&here, a)) {
            if let Ok(Some(values)) = m.try_get_raw(arg.get_id().as_str()) {
                let flag = format!("--{}", arg.get_long().unwrap_or_default());
                out.extend(values.map(|v| (flag.clone(), v.to_string_lossy().into_owned())));
            }
        }
        let Some((name, sub)) = m.subcommand() else { break };
        let Some(next) = cmd.find_subcommand(name) else { break };
        path.push(next.get_name());
        (cmd, m) = (next, sub);
    }
    out
}

/// Refuses a command naming an environment other than `job` (the job's `LZ_ENVIRONMENT`).
pub fn check_against(job: Option<&str>, command: &clap::Command, matches: &clap::ArgMatches) -> Result<()> {
    let Some(job) = job.map(str::trim).filter(|j| !j.is_empty()) else { return Ok(()) };
    for (flag, env) in named(command, matches) {
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
pub fn check(root: &std::path::Path, command: &clap::Command, matches: &clap::ArgMatches) -> Result<()> {
    let job = crate::signing::set_var(ENVIRONMENT_ENV);
    check_against(job.as_deref(), command, matches)?;
    check_signer(root, job.as_deref(), matches)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    fn cli() -> clap::Command {
        crate::help::with_examples(crate::Cli::command())
    }

    fn matches(args: &[&str]) -> clap::ArgMatches {
        cli().try_get_matches_from(std::iter::once("xtask").chain(args.iter().copied())).unwrap()
    }

    fn refused(job: &str, args: &[&str]) -> anyhow::Result<()> {
        super::check_against(Some(job), &cli(), &matches(args))
    }

    #[test]
    fn a_command_of_another_environment_is_refused() {
        let promote = matches(&["promote", "--release", &"a".repeat(64), "--to", "prod", "--as", "deployer-bot-prod"]);
        assert_eq!(super::named(&cli(), &promote), vec![("--to".to_string(), "prod".to_string())]);
        assert!(super::check_against(Some("prod"), &cli(), &promote).is_ok());
        let e = super::check_against(Some("dev"), &cli(), &promote).unwrap_err().to_string();
        assert!(e.contains("acts for environment dev") && e.contains("--to prod"), "{e}");
        // No job environment: nothing to compare (a person's workstation).
        assert!(super::check_against(None, &cli(), &promote).is_ok() && super::check_against(Some(" "), &cli(), &promote).is_ok());
        assert!(refused("dev", &["drift", "--env", "uat", "--as", "deployer-bot-uat"]).unwrap_err().to_string().contains("--env uat"));
        // delegate's --to names a person, not an environment.
        let delegate = [
            "delegate", "grant", "--env", "prod", "--to", "bob", "--class", "keys", "--from", "2026-01-01", "--until", "2026-01-02", "--as", "frank", "--key", "k", "--reason", "r",
        ];
        assert_eq!(super::named(&cli(), &matches(&delegate)), vec![("--env".to_string(), "prod".to_string())]);
        // A list: every environment it names is the job's, or the command is refused.
        let service = ["service", "new", "fx-pricing", "--env", "dev", "--env", "prod", "--tier", "trading"];
        assert_eq!(super::named(&cli(), &matches(&service)).len(), 2);
        assert!(refused("dev", &service).unwrap_err().to_string().contains("--env prod"));
        assert!(refused("dev", &["service", "new", "fx-pricing", "--env", "dev", "--tier", "trading"]).is_ok());
        // A command that names no environment runs in any job.
        assert!(refused("dev", &["evidence", "verify"]).is_ok());
    }

    /// Options that mention an environment (by name, value name or help) but name none: each
    /// with what it names instead. An option missing from here and from the guard
    /// ([`super::names_environment`]) fails [`every_option_naming_an_environment_is_guarded`].
    const NOT_ENVIRONMENTS: [(&str, &str, &str); 4] = [
        ("delegate grant", "to", "a person (the delegate)"),
        ("service new", "owner", "a team (the environment's Owner tag is only its default)"),
        ("bootstrap", "pin", "a release (whose governance judges the environment)"),
        ("rotate", "secret", "a secret of the environment --env names"),
    ];

    /// Whether `arg` looks as if it named an environment: the test's own reading, broader than
    /// the guard's, so that a new option naming environments is caught whatever it is called.
    fn looks_environmental(arg: &clap::Arg) -> bool {
        let long = arg.get_long().unwrap_or_default();
        let help = arg.get_help().map(|h| h.to_string().to_lowercase()).unwrap_or_default();
        let values = arg.get_value_names().unwrap_or_default().iter().map(|v| v.to_string().to_lowercase()).collect::<Vec<_>>();
        ["env", "envs", "environment", "environments", "to", "target", "into", "in", "stage"].contains(&long)
            || help.starts_with("environment")
            || help.contains(" environment to ")
            || help.contains("an environment")
            || help.contains("one environment")
            || help.contains("the environment")
            || values.iter().any(|v| v.starts_with("env"))
    }

    /// Every command, at every level, with the path of subcommand names that reaches it.
    fn commands(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            commands(sub, p, out);
        }
    }

    /// The command tree with every level tolerant of missing arguments, so that a command line
    /// holding only the option under test parses.
    fn lenient(cmd: clap::Command) -> clap::Command {
        cmd.ignore_errors(true).mut_subcommands(lenient)
    }

    /// Walks the whole command tree: every option of every subcommand that names environments
    /// (the test's reading, [`looks_environmental`]) is one the guard reads, proven by a dev job
    /// running that subcommand with the option saying prod (twice and alongside dev, for a
    /// list): refused, exit 2 at the caller (`main` runs the guard before any AWS client is
    /// configured; `job_env_cli.rs` runs the binary). And every subcommand with `--as` refuses
    /// signing as prod's deployer of this repository's register in a dev job. A new subcommand
    /// with such an option fails here until the guard covers it (or `NOT_ENVIRONMENTS` says what
    /// it names instead).
    #[test]
    fn every_option_naming_an_environment_is_guarded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut all = Vec::new();
        commands(&cli(), Vec::new(), &mut all);
        let (mut checked, mut signers, mut failures) = (0, 0, Vec::new());
        let lenient = lenient(cli());
        for (path, cmd) in &all {
            let here = path.join(" ");
            for arg in cmd.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if !arg.get_action().takes_values() {
                    // A switch (`rotate --all`) names nothing.
                    continue;
                }
                if long == "as" {
                    // --as: the register binds deploy-pipeline-prod to prod.
                    let args: Vec<String> = path.iter().cloned().chain(["--as".to_string(), "deploy-pipeline-prod".to_string()]).collect();
                    let m = lenient.clone().try_get_matches_from(std::iter::once("xtask".to_string()).chain(args.clone())).unwrap();
                    match super::check_signer(&root, Some("dev"), &m) {
                        Err(e) if e.to_string().contains("--as deploy-pipeline-prod is bound to prod") => signers += 1,
                        other => failures.push(format!("{args:?}: --as of another environment's identity passes the guard: {other:?}")),
                    }
                    continue;
                }
                if !looks_environmental(arg) && !super::names_environment(&here, arg) {
                    continue;
                }
                if let Some((_, _, what)) = NOT_ENVIRONMENTS.iter().find(|(c, l, _)| *c == here && *l == long) {
                    assert!(!super::names_environment(&here, arg), "{here} --{long} names {what}, not an environment");
                    continue;
                }
                let many = matches!(arg.get_action(), clap::ArgAction::Append);
                let mut args: Vec<String> = path.clone();
                for v in if many { vec!["dev", "prod"] } else { vec!["prod"] } {
                    args.extend([format!("--{long}"), v.to_string()]);
                }
                let m = match lenient.clone().try_get_matches_from(std::iter::once("xtask".to_string()).chain(args.clone())) {
                    Ok(m) => m,
                    Err(e) => {
                        failures.push(format!("{args:?}: does not parse: {e}"));
                        continue;
                    }
                };
                match super::check_against(Some("dev"), &cli(), &m) {
                    Err(e) if e.to_string().contains(&format!("--{long} prod")) => checked += 1,
                    other => failures.push(format!("{here} --{long} names an environment but a dev job runs it with prod: {other:?}")),
                }
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
        // The tree has such options (a walk that found none would prove nothing).
        assert!(checked >= 15 && signers >= 15, "{checked} environment options, {signers} signing commands");
    }
}
