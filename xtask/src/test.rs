//! `cargo xtask test`: the README's test command and what `.ci/run` calls. Bootstraps the
//! tools, starts LocalStack unless it is already up, runs every workspace test with the tools
//! on PATH, and stops what it started.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use lz_platform::{localstack, tools};

#[derive(clap::Args)]
pub struct Args {
    /// Extra arguments for `cargo test` (after `--`)
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let tf = tools::terraform(root)?;
    println!("terraform  {} ({})", tf.version, tf.path.display());
    let started = match localstack::up(root)? {
        localstack::Up::AlreadyRunning(h) => {
            println!("localstack {} already running", h.version);
            false
        }
        localstack::Up::Started { pid, health } => {
            println!("localstack {} started (pid {pid})", health.version);
            true
        }
    };
    localstack::require(root)?;
    let tf_dir = tf.path.parent().context("terraform path has no parent")?.to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![tf_dir];
    dirs.extend(std::env::split_paths(&path));
    let new_path = std::env::join_paths(dirs).context("building PATH")?;
    let mut test_args = vec!["test".to_string(), "--workspace".into(), "--no-fail-fast".into()];
    test_args.extend(args.cargo_args.iter().cloned());
    let mut cmd = duct::cmd(crate::sh::cargo(), test_args)
        .dir(root)
        .env("PATH", new_path)
        .env("LZ_LOCALSTACK_ENDPOINT", localstack::ENDPOINT)
        .env("TF_CLI_CONFIG_FILE", tools::cli_config(root)?)
        .unchecked();
    if std::env::var_os("CI").is_some() {
        cmd = cmd.env("INSTA_UPDATE", "no");
    }
    let status = run_counting(cmd);
    if started {
        match localstack::down(root) {
            Ok(_) => println!("localstack stopped"),
            Err(e) => eprintln!("warning: stopping LocalStack: {e:#}"),
        }
    }
    let (status, totals) = status?;
    // One closing line over every test binary, so the last binary's own summary (often the
    // doc tests' "0 passed") is not mistaken for the whole run.
    println!("tests: {} passed, {} failed, {} ignored", totals.passed, totals.failed, totals.ignored);
    if totals.passed == 0 {
        anyhow::bail!("cargo test ran no test");
    }
    Ok(if status.success() && totals.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[derive(Default, Debug, PartialEq)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Run `cargo test` (a long-running child, through duct), echoing its stdout while adding up
/// every `test result:` line.
fn run_counting(cmd: duct::Expression) -> Result<(std::process::ExitStatus, Totals)> {
    use std::io::{BufRead, Write};
    let reader = cmd.reader().context("running cargo test")?;
    let mut totals = Totals::default();
    let out = std::io::stdout();
    let mut lines = std::io::BufReader::new(&reader).lines();
    for line in lines.by_ref() {
        let line = line.context("reading cargo test output")?;
        add_result(&line, &mut totals);
        let mut lock = out.lock();
        let _ = writeln!(lock, "{line}");
    }
    let status = reader
        .try_wait()
        .context("waiting for cargo test")?
        .context("cargo test closed its output but has not exited")?
        .status;
    Ok((status, totals))
}

/// `test result: ok. 11 passed; 0 failed; 0 ignored; ...`
fn add_result(line: &str, totals: &mut Totals) {
    let Some(rest) = line.trim().strip_prefix("test result: ") else { return };
    for part in rest.split([';', '.']) {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next().and_then(|n| n.parse::<u64>().ok()), words.next()) else { continue };
        match what {
            "passed" => totals.passed += n,
            "failed" => totals.failed += n,
            "ignored" => totals.ignored += n,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_up_result_lines() {
        let mut t = Totals::default();
        add_result("test result: ok. 11 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.04s", &mut t);
        add_result("test result: FAILED. 6 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 16.09s", &mut t);
        add_result("running 3 tests", &mut t);
        assert_eq!(t, Totals { passed: 17, failed: 1, ignored: 2 });
    }
}
