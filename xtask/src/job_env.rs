//! A CI job acts for one environment (issue 26): the workflow maps the job's GitHub environment
//! to `LZ_ENVIRONMENT`, which picks the pipeline role its OIDC token is exchanged for
//! (`crate::ci_identity`). A command of that job that names another environment (`promote --to`,
//! `--env` of drift, rotate, approve, bootstrap..., every value of a list such as `service new
//! --env dev --env prod`), or signs (`--as`) as an identity the register binds to other
//! environments, is refused here, with exit 2, before any AWS call: a dev job's step edited to
//! say `--to prod` stops at once, instead of running on until prod's role or key refuses it. The
//! options and positional arguments read are found by walking the parsed command tree
//! ([`names_environment`]: by name, positional id or value name); the test
//! `every_option_naming_an_environment_is_guarded` walks every argument of every subcommand,
//! positional ones included, and fails on one that names environments the guard does not read. This is a guard against mistakes and edited steps, never the
//! control: the trust policies of the pipeline roles and the environment binding of the signing
//! identities (`lz_evidence::binding`) are, since whoever edits the step also edits its variables.

use anyhow::{bail, Result};

use crate::ci_identity::ENVIRONMENT_ENV;

/// Options that name environments in every command (`--env`, repeated in `service new`).
const ENVIRONMENT_OPTIONS: [&str; 4] = ["env", "envs", "environment", "environments"];

/// Options that name an environment in one command only (`--to` of `promote`; `delegate grant
/// --to` names a person), as (command path, long name).
const ENVIRONMENT_OPTIONS_OF: [(&str, &str); 1] = [("promote", "to")];

/// Value names of arguments that take environments (`<ENV>`, what clap shows): an option or a
/// positional argument (`xtask cmd prod`) with one of them is read whatever its name.
const ENVIRONMENT_VALUE_NAMES: [&str; 4] = ["ENV", "ENVS", "ENVIRONMENT", "ENVIRONMENTS"];

/// The name the guard knows an argument by: its long name, or a positional argument's id.
fn arg_name(arg: &clap::Arg) -> &str {
    arg.get_long().unwrap_or_else(|| arg.get_id().as_str())
}

/// Whether argument `arg` (an option, or a positional argument) of the command at `path`
/// (subcommand names joined by spaces, `"service new"`) names environments: by its long name
/// or positional id ([`ENVIRONMENT_OPTIONS`]), by its value name ([`ENVIRONMENT_VALUE_NAMES`]),
/// or as one command's option ([`ENVIRONMENT_OPTIONS_OF`]).
pub fn names_environment(path: &str, arg: &clap::Arg) -> bool {
    if !arg.get_action().takes_values() {
        return false;
    }
    let name = arg_name(arg);
    ENVIRONMENT_OPTIONS.contains(&name)
        || arg.get_value_names().unwrap_or_default().iter().any(|v| ENVIRONMENT_VALUE_NAMES.contains(&v.as_str()))
        || (arg.get_long().is_some() && ENVIRONMENT_OPTIONS_OF.iter().any(|(c, l)| *c == path && *l == name))
}

/// How an error names argument `arg`: `--env`, or a positional argument's `<ENV>`.
fn shown(arg: &clap::Arg) -> String {
    match arg.get_long() {
        Some(long) => format!("--{long}"),
        None => format!("<{}>", arg.get_value_names().and_then(|v| v.first()).map(|v| v.to_string()).unwrap_or_else(|| arg.get_id().to_string().to_uppercase())),
    }
}

/// The environments `matches` (the command line `command` parsed, every subcommand level)
/// names: (flag, value) for each value of an option or positional argument that names
/// environments ([`names_environment`]), lists included.
pub fn named(command: &clap::Command, matches: &clap::ArgMatches) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut path: Vec<&str> = Vec::new();
    let (mut cmd, mut m) = (command, matches);
    loop {
        let here = path.join(" ");
        for arg in cmd.get_arguments().filter(|a| names_environment(&here, a)) {
            if let Ok(Some(values)) = m.try_get_raw(arg.get_id().as_str()) {
                let flag = shown(arg);
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
    /// the guard's, so that a new option or positional argument naming environments is caught
    /// whatever it is called.
    fn looks_environmental(arg: &clap::Arg) -> bool {
        let long = super::arg_name(arg);
        let help = arg.get_help().map(|h| h.to_string().to_lowercase()).unwrap_or_default();
        let values = arg.get_value_names().unwrap_or_default().iter().map(|v| v.to_string().to_lowercase()).collect::<Vec<_>>();
        ["env", "envs", "environment", "environments", "to", "target", "into", "in", "stage"].contains(&long)
            || help.starts_with("environment")
            || help.contains(" environment to ")
            || help.contains("an environment")
            || help.contains("one environment")
            || help.contains("the environment")
            || values.iter().any(|v| v.starts_with("env") || v == "stage" || v == "target")
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

    /// What [`unguarded`] found: the environment arguments proven refused, the `--as` proven
    /// refused, and the failures.
    struct Walk {
        checked: usize,
        signers: usize,
        failures: Vec<String>,
    }

    /// Walks the whole command tree of `cli`: every argument (option or positional) of every
    /// subcommand that names environments (the test's reading, [`looks_environmental`]) must be
    /// one the guard reads, proven by a dev job running that subcommand with the argument saying
    /// prod (twice and alongside dev, for a list): refused. And every subcommand with `--as`
    /// must refuse signing as prod's deployer of this repository's register in a dev job.
    fn unguarded(cli: &clap::Command) -> Walk {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut all = Vec::new();
        commands(cli, Vec::new(), &mut all);
        let mut w = Walk { checked: 0, signers: 0, failures: Vec::new() };
        let lenient = lenient(cli.clone());
        let parse = |args: &[String]| lenient.clone().try_get_matches_from(std::iter::once("xtask".to_string()).chain(args.iter().cloned()));
        for (path, cmd) in &all {
            let here = path.join(" ");
            let positionals: Vec<&clap::Arg> = cmd.get_positionals().collect();
            for arg in cmd.get_arguments() {
                if !arg.get_action().takes_values() {
                    // A switch (`rotate --all`) names nothing.
                    continue;
                }
                let name = super::arg_name(arg);
                if arg.get_long() == Some("as") {
                    // --as: the register binds deploy-pipeline-prod to prod.
                    let args: Vec<String> = path.iter().cloned().chain(["--as".to_string(), "deploy-pipeline-prod".to_string()]).collect();
                    match parse(&args).map_err(anyhow::Error::from).and_then(|m| super::check_signer(&root, Some("dev"), &m)) {
                        Err(e) if e.to_string().contains("--as deploy-pipeline-prod is bound to prod") => w.signers += 1,
                        other => w.failures.push(format!("{args:?}: --as of another environment's identity passes the guard: {other:?}")),
                    }
                    continue;
                }
                if !looks_environmental(arg) && !super::names_environment(&here, arg) {
                    continue;
                }
                if let Some((_, _, what)) = NOT_ENVIRONMENTS.iter().find(|(c, l, _)| *c == here && *l == name) {
                    assert!(!super::names_environment(&here, arg), "{here} {name} names {what}, not an environment");
                    continue;
                }
                let many = matches!(arg.get_action(), clap::ArgAction::Append) || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
                let values = if many { vec!["dev", "prod"] } else { vec!["prod"] };
                let mut args: Vec<String> = path.clone();
                match arg.get_long() {
                    Some(long) => {
                        for v in values {
                            args.extend([format!("--{long}"), v.to_string()]);
                        }
                    }
                    None => {
                        // A positional argument: the ones before it get a placeholder each.
                        let before = positionals.iter().position(|p| p.get_id() == arg.get_id()).unwrap_or(0);
                        args.extend(std::iter::repeat_n("x".to_string(), before));
                        args.extend(values.iter().map(|v| v.to_string()));
                    }
                }
                let m = match parse(&args) {
                    Ok(m) => m,
                    Err(e) => {
                        w.failures.push(format!("{args:?}: does not parse: {e}"));
                        continue;
                    }
                };
                let said = format!("{} prod", super::shown(arg));
                match super::check_against(Some("dev"), cli, &m) {
                    Err(e) if e.to_string().contains(&said) => w.checked += 1,
                    other => w.failures.push(format!("{here} {} names an environment but a dev job runs it with prod: {other:?}", super::shown(arg))),
                }
            }
        }
        w
    }

    /// Every option and positional argument naming an environment, in every subcommand, is
    /// guarded: refused, exit 2 at the caller (`main` runs the guard before any AWS client is
    /// configured; `job_env_cli.rs` runs the binary). A new subcommand with such an argument
    /// fails here until the guard covers it (or `NOT_ENVIRONMENTS` says what it names instead).
    #[test]
    fn every_option_naming_an_environment_is_guarded() {
        let w = unguarded(&cli());
        assert!(w.failures.is_empty(), "\n{}", w.failures.join("\n"));
        // The tree has such options (a walk that found none would prove nothing).
        assert!(w.checked >= 15 && w.signers >= 15, "{} environment options, {} signing commands", w.checked, w.signers);
    }

    /// Positional environment arguments (issue 26): a subcommand taking the environment as a
    /// positional argument (`xtask deploy-to prod`) is read by the guard, by its id or value
    /// name; one the guard does not read (a positional `stage` whose help says it is the
    /// environment) fails the walk of [`every_option_naming_an_environment_is_guarded`], which
    /// skipped positional arguments before.
    #[test]
    fn a_positional_environment_argument_is_guarded_or_fails_the_walk() {
        let guarded = cli()
            .subcommand(clap::Command::new("deploy-to").arg(clap::Arg::new("env").value_name("ENV").help("Environment to deploy to").required(true)))
            .subcommand(clap::Command::new("watch").arg(clap::Arg::new("what").required(true)).arg(clap::Arg::new("where").value_name("ENVIRONMENT").required(true)));
        let m = guarded.clone().try_get_matches_from(["xtask", "deploy-to", "prod"]).unwrap();
        assert_eq!(super::named(&guarded, &m), vec![("<ENV>".to_string(), "prod".to_string())]);
        let e = super::check_against(Some("dev"), &guarded, &m).unwrap_err().to_string();
        assert!(e.contains("the command says <ENV> prod"), "{e}");
        let m = guarded.clone().try_get_matches_from(["xtask", "watch", "drift", "prod"]).unwrap();
        assert!(super::check_against(Some("dev"), &guarded, &m).unwrap_err().to_string().contains("<ENVIRONMENT> prod"));
        assert!(super::check_against(Some("prod"), &guarded, &m).is_ok());
        let w = unguarded(&guarded);
        assert!(w.failures.is_empty(), "\n{}", w.failures.join("\n"));
        let before = unguarded(&cli()).checked;
        assert_eq!(w.checked, before + 2, "both positional environments were walked and refused");
        // Unguarded: a positional environment the guard does not know by name or value name.
        let unread = cli().subcommand(clap::Command::new("ship").arg(clap::Arg::new("stage").value_name("STAGE").help("The environment to ship to").required(true)));
        let w = unguarded(&unread);
        assert!(w.failures.iter().any(|f| f.starts_with("ship <STAGE> names an environment but a dev job runs it with prod")), "{:?}", w.failures);
    }
}
