//! `--help`: examples for every command, attached to the clap tree at startup from one table,
//! and the tests that keep the command line documented: every flag has a description, every
//! runnable command has examples, and every `cargo xtask ...` command the code tells people to
//! run exists and names each of its required flags.

use clap::Command;

/// Examples per command path (`"break-glass open"`), shown under "Examples:" in `--help`.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("setup", &["cargo xtask setup", "cargo xtask setup --print"]),
    ("localstack up", &["cargo xtask localstack up"]),
    ("localstack down", &["cargo xtask localstack down"]),
    ("localstack status", &["cargo xtask localstack status"]),
    ("check", &["cargo xtask check", "cargo xtask check --base origin/main --require-evidence"]),
    ("test", &["cargo xtask test", "cargo xtask test --jobs 2", "cargo xtask test -- -p lz-promote --test dry_run -- --exact some_test"]),
    ("docs", &["cargo xtask docs", "cargo xtask docs --check"]),
    (
        "catalog bump",
        &[
            "cargo xtask catalog bump trading-service minor --message \"add queue encryption\"",
            "cargo xtask catalog bump kms-key patch --message \"document the rotation review\" --no-tag",
        ],
    ),
    ("catalog add", &["cargo xtask catalog add fx-pricing --owner platform --risk medium --description \"FX pricing service\""]),
    ("catalog show", &["cargo xtask catalog show", "cargo xtask catalog show trading-service --format json"]),
    ("catalog deprecate", &["cargo xtask catalog deprecate trading-service@1.0.0 --reason \"superseded by 1.1.0\""]),
    ("catalog revoke", &["cargo xtask catalog revoke trading-service@1.0.0 --reason \"reads secrets by version id\""]),
    ("catalog adoption", &["cargo xtask catalog adoption", "cargo xtask catalog adoption trading-service --json"]),
    ("catalog tags", &["cargo xtask catalog tags", "cargo xtask catalog tags --create"]),
    ("catalog wave", &["cargo xtask catalog wave trading-service@1.1.0", "cargo xtask catalog wave trading-service@1.1.0 --wave 2"]),
    ("catalog vendor", &["cargo xtask catalog vendor trading-service@1.0.0"]),
    (
        "service new",
        &["cargo xtask service new fx-pricing --env dev --tier trading --owner trading-technology --secret fx-api-key=feed-api-key"],
    ),
    ("service list", &["cargo xtask service list", "cargo xtask service list --format json"]),
    ("service show", &["cargo xtask service show order-gateway"]),
    (
        "delegate grant",
        &["cargo xtask delegate grant --env prod --class keys --to heidi --from 2026-12-21 --until 2027-01-04 --as bob --key bob.key --reason \"leave\""],
    ),
    ("delegate revoke", &["cargo xtask delegate revoke --env prod --record 812 --as bob --key bob.key --reason \"back early\""]),
    ("provider-e2e", &["cargo xtask provider-e2e", "cargo xtask provider-e2e --root tests/provider/fixture --mirror"]),
    ("render", &["cargo xtask render modules/trading-service/examples/basic", "cargo xtask render environments --var-file environments/dev/terraform.tfvars"]),
    ("plan", &["cargo xtask plan --env dev", "cargo xtask plan --env prod --out prod-plan.json"]),
    ("policy", &["cargo xtask policy --env dev", "cargo xtask policy --plan plan.json --format json"]),
    ("policy test", &["cargo xtask policy test"]),
    ("exceptions list", &["cargo xtask exceptions list", "cargo xtask exceptions list --expiring-within 14 --format json"]),
    ("exceptions export", &["cargo xtask exceptions export --format html --out exceptions.html"]),
    ("exceptions approve", &["cargo xtask exceptions approve --release 9c1d2e7a --as grace-lindqvist --key grace.key"]),
    (
        "release build",
        &[
            "cargo xtask release build --author priya-raman --ticket CHG-42 --reason \"fx-pricing service\"",
            "cargo xtask release build --author alice --ticket REHEARSAL-7 --reason \"rehearsal\" --allow-dirty",
        ],
    ),
    ("release publish", &["cargo xtask release publish --release 9c1d2e7a --as priya-raman --key priya.key"]),
    ("release show", &["cargo xtask release show 9c1d2e7a", "cargo xtask release show 9c1d2e7a --json"]),
    ("evidence keygen", &["cargo xtask evidence keygen --out ~/.lz/priya.key"]),
    ("evidence pull", &["cargo xtask evidence pull"]),
    ("evidence verify", &["cargo xtask evidence verify", "cargo xtask evidence verify --bundle release-9c1d2e7a.bundle"]),
    ("evidence query", &["cargo xtask evidence query --release 9c1d2e7a", "cargo xtask evidence query --env prod --since 2026-11-01 --format json"]),
    ("evidence export", &["cargo xtask evidence export --release 9c1d2e7a --out release.bundle --as omar-haddad --key omar.key"]),
    ("evidence witness", &["cargo xtask evidence witness --as audit-witness --key witness.key"]),
    ("evidence append", &["cargo xtask evidence append --kind drift --as drift-monitor-dev --key drift.key --release 9c1d2e7a --env dev"]),
    ("baseline diff", &["cargo xtask baseline diff --env dev", "cargo xtask baseline diff --module trading-service --format json"]),
    ("baseline check", &["cargo xtask baseline check"]),
    ("baseline review", &["cargo xtask baseline review"]),
    ("baseline update", &["cargo xtask baseline update"]),
    ("classify", &["cargo xtask classify --release 9c1d2e7a --env test", "cargo xtask classify --release 9c1d2e7a --env prod --as deployer-bot --format json"]),
    ("approve", &["cargo xtask approve --release 9c1d2e7a --env test --as grace-lindqvist --key grace.key --reason \"plan reviewed\" --ticket CHG-42"]),
    ("bootstrap", &["cargo xtask bootstrap --stores", "cargo xtask bootstrap --env dev --pin 9c1d2e7a --as grace-lindqvist --key grace.key"]),
    ("promote", &[
        "cargo xtask promote --dry-run --release 9c1d2e7a --to test --as deployer-bot",
        "cargo xtask promote --dry-run --release 9c1d2e7a --to test --as deployer-bot --format json",
        "cargo xtask promote --release 9c1d2e7a --to test --as deployer-bot --key bot.key --policy-key policy.key",
    ]),
    ("drift", &["cargo xtask drift --env dev --as drift-monitor-dev --key drift.key", "cargo xtask drift --env dev --as drift-monitor-dev --format json"]),
    ("break-glass open", &["cargo xtask break-glass open --env prod --as sam-kowalski --key sam.key --reason \"exchange outage\" --ticket INC-7 --ttl 60 --release 9c1d2e7a"]),
    ("break-glass approve", &["cargo xtask break-glass approve --id 42 --as lena-fischer --key lena.key --reason \"outage confirmed\""]),
    ("break-glass retrospective", &["cargo xtask break-glass retrospective --id 42 --as noor-aziz --key noor.key --ticket INC-7 --outcome \"fix verified\""]),
    ("break-glass list", &["cargo xtask break-glass list"]),
    ("bench render", &["cargo xtask bench render"]),
    ("bench policy", &["cargo xtask bench policy"]),
    ("bench evidence", &["cargo xtask bench evidence"]),
    ("bench properties", &["cargo xtask bench properties"]),
    ("bench promotion", &["cargo xtask bench promotion"]),
    (
        "bench chain",
        &["cargo xtask bench chain", "cargo xtask bench chain --records 1000,10000", "cargo xtask bench chain --records 100000 --only verify,promote"],
    ),
    ("bench golden-path", &["cargo xtask bench golden-path"]),
    ("rehearsal setup", &["cargo xtask rehearsal setup --keys /tmp/rehearsal-keys"]),
    ("register status", &["cargo xtask register status"]),
    ("register propose", &["cargo xtask register propose --as grace-lindqvist --key grace.key --reason \"CHG-51: Ana joins platform\""]),
    ("register check", &["cargo xtask register check"]),
    ("register approve", &["cargo xtask register approve --proposal 120 --as noor-aziz --key noor.key"]),
    ("report", &["cargo xtask report --release 9c1d2e7a --out custody.html", "cargo xtask report --env prod --since 2026-11-01 --until 2026-12-01 --out prod.html"]),
    ("schema import", &["cargo xtask schema import"]),
    ("rotate", &["cargo xtask rotate --env dev --secret lz-dev/orders/db-credentials --as deployer-bot --key bot.key --ticket CHG-60", "cargo xtask rotate --env dev --all --as deployer-bot --key bot.key"]),
    ("rotation status", &["cargo xtask rotation status", "cargo xtask rotation status --env prod --format json"]),
];

/// `cmd` with the examples of [`EXAMPLES`] under each command's help.
pub fn with_examples(cmd: Command) -> Command {
    attach(cmd, "")
}

fn attach(mut cmd: Command, path: &str) -> Command {
    if let Some((_, ex)) = EXAMPLES.iter().find(|(p, _)| *p == path) {
        let mut text = String::from("Examples:\n");
        for e in ex.iter() {
            text.push_str("  ");
            text.push_str(e);
            text.push('\n');
        }
        cmd = cmd.after_help(text.trim_end().to_string());
    }
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for n in names {
        let sub = if path.is_empty() { n.clone() } else { format!("{path} {n}") };
        cmd = cmd.mut_subcommand(n, |c| attach(c, &sub));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command with its path, depth first.
    fn commands(cmd: &Command, path: &str, out: &mut Vec<(String, Command)>) {
        out.push((path.to_string(), cmd.clone()));
        for s in cmd.get_subcommands() {
            let p = if path.is_empty() { s.get_name().to_string() } else { format!("{path} {}", s.get_name()) };
            commands(s, &p, out);
        }
    }

    fn tree() -> Vec<(String, Command)> {
        let mut out = Vec::new();
        commands(&with_examples(crate::Cli::command()), "", &mut out);
        out
    }

    fn own_args(cmd: &Command) -> impl Iterator<Item = &clap::Arg> {
        cmd.get_arguments().filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
    }

    #[test]
    fn every_flag_is_described() {
        let mut missing = Vec::new();
        for (path, cmd) in tree() {
            for a in own_args(&cmd) {
                let described = a.get_help().or(a.get_long_help()).is_some_and(|h| !h.to_string().trim().is_empty());
                if !described {
                    let name = a.get_long().map(|l| format!("--{l}")).unwrap_or_else(|| format!("<{}>", a.get_id()));
                    missing.push(format!("cargo xtask {path} {name}"));
                }
            }
        }
        assert!(missing.is_empty(), "flags without a description (a doc comment on the field):\n{}", missing.join("\n"));
    }

    #[test]
    fn every_runnable_command_has_examples_that_parse() {
        let mut missing = Vec::new();
        for (path, cmd) in tree() {
            let runnable = cmd.get_subcommands().next().is_none() || own_args(&cmd).next().is_some();
            if path.is_empty() || !runnable {
                continue;
            }
            let has = cmd.get_after_help().is_some_and(|h| h.to_string().contains("Examples:"));
            if !has {
                missing.push(path.clone());
            }
        }
        assert!(missing.is_empty(), "commands without examples in `--help` (help::EXAMPLES):\n{}", missing.join("\n"));
        // Every example names a real command and parses.
        for (path, examples) in EXAMPLES {
            assert!(tree().iter().any(|(p, _)| p == path), "EXAMPLES names {path:?}, which is no command");
            for e in examples.iter() {
                let words = shell_words(e);
                assert_eq!(&words[..2], ["cargo", "xtask"], "{e}");
                let argv = std::iter::once("cargo xtask".to_string()).chain(words[2..].iter().cloned());
                if let Err(err) = crate::Cli::command().try_get_matches_from(argv) {
                    panic!("the example of {path:?} does not parse: {e}\n{err}");
                }
            }
        }
    }

    /// Words of a command line with double-quoted strings.
    fn shell_words(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        for c in s.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' if !quoted => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    /// The `cargo xtask ...` commands (between backticks, in string literals) of the Rust
    /// sources of the repository's crates and xtask.
    fn told_commands() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let mut files = Vec::new();
        let mut dirs = vec![root.join("crates"), root.join("xtask/src")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    if p.file_name().is_some_and(|n| n != "tests" && n != "target") {
                        dirs.push(p);
                    }
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") || !code.contains('"') {
                    continue;
                }
                let mut rest = line;
                while let Some(i) = rest.find("`cargo xtask ") {
                    let after = &rest[i + 1..];
                    let Some(end) = after.find('`') else { break };
                    out.push((format!("{}:{}", f.strip_prefix(&root).unwrap().display(), n + 1), after[..end].to_string()));
                    rest = &after[end + 1..];
                }
            }
        }
        out
    }

    #[test]
    fn every_command_the_code_tells_people_to_run_names_its_required_flags() {
        let cli = crate::Cli::command();
        let told = told_commands();
        assert!(told.len() > 20, "found only {} commands in the sources", told.len());
        let mut wrong = Vec::new();
        for (at, line) in &told {
            let words: Vec<&str> = line.split_whitespace().skip(2).collect();
            // The command: the longest run of leading words that are subcommands.
            let mut cmd = &cli;
            let mut used = 0;
            while let Some(w) = words.get(used) {
                match cmd.find_subcommand(w) {
                    Some(s) => {
                        cmd = s;
                        used += 1;
                    }
                    None => break,
                }
            }
            if used == 0 {
                wrong.push(format!("{at}: `{line}` names no command"));
                continue;
            }
            if cmd.get_subcommands().next().is_some() && own_args(cmd).next().is_none() {
                // A command group mentioned by name (`cargo xtask evidence`): nothing to run.
                continue;
            }
            for a in own_args(cmd).filter(|a| a.is_required_set()) {
                if let Some(l) = a.get_long() {
                    if !words.iter().any(|w| *w == format!("--{l}") || w.starts_with(&format!("--{l}="))) {
                        wrong.push(format!("{at}: `{line}` lacks the required --{l}"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "commands the code prints that would not run as written:\n{}", wrong.join("\n"));
    }
}
