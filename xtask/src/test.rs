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
    let chromium = tools::chromium()?;
    println!("chromium   {} ({})", chromium.version, chromium.path.display());
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
        // cargo names each test binary on stderr: read with the results, for the slowest tests.
        .stderr_to_stdout()
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
    let (status, totals, timings) = status?;
    print!("{}", slowest(&timings, 10));
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

/// Run `cargo test` (a long-running child, through duct), echoing its output while adding up
/// every `test result:` line and timing every test.
fn run_counting(cmd: duct::Expression) -> Result<(std::process::ExitStatus, Totals, Vec<Timing>)> {
    use std::io::{BufRead, Write};
    let reader = cmd.reader().context("running cargo test")?;
    let mut totals = Totals::default();
    let mut timer = Timer::default();
    let out = std::io::stdout();
    let mut lines = std::io::BufReader::new(&reader).lines();
    for line in lines.by_ref() {
        let line = line.context("reading cargo test output")?;
        add_result(&line, &mut totals);
        timer.line(&line, std::time::Instant::now());
        let mut lock = out.lock();
        let _ = writeln!(lock, "{line}");
    }
    let status = reader
        .try_wait()
        .context("waiting for cargo test")?
        .context("cargo test closed its output but has not exited")?
        .status;
    Ok((status, totals, timer.done))
}

/// One finished test: its binary, its name and the seconds from its binary's start to its
/// result (tests of one binary run in parallel, so this bounds the test's own time from above;
/// for the long tests, which outlast their neighbours, it is close to it).
#[derive(Debug, Clone, PartialEq)]
struct Timing {
    binary: String,
    name: String,
    secs: f64,
}

/// Follows cargo test's output: `Running <target> (<path>)` or `Doc-tests <crate>` names the
/// binary, `running N tests` starts it, `test <name> ... <result>` ends a test.
#[derive(Default)]
struct Timer {
    binary: String,
    started: Option<std::time::Instant>,
    done: Vec<Timing>,
}

impl Timer {
    fn line(&mut self, line: &str, now: std::time::Instant) {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running ") {
            // `Running tests/corpus.rs (target/debug/deps/corpus-0123abcd)`
            let path = rest.rsplit_once(" (").map_or(rest, |(_, p)| p.trim_end_matches(')'));
            let file = path.rsplit('/').next().unwrap_or(path);
            let name = file.rsplit_once('-').map_or(file, |(n, _)| n);
            self.binary = name.to_string();
            self.started = None;
        } else if let Some(krate) = t.strip_prefix("Doc-tests ") {
            self.binary = format!("doc-tests {krate}");
            self.started = None;
        } else if (t.starts_with("running ") && t.ends_with(" tests")) || t == "running 1 test" {
            self.started = Some(now);
        } else if let (Some(rest), Some(start)) = (t.strip_prefix("test "), self.started) {
            let Some((name, result)) = rest.rsplit_once(" ... ") else { return };
            if result.starts_with("ok") || result.starts_with("FAILED") {
                self.done.push(Timing { binary: self.binary.clone(), name: name.to_string(), secs: (now - start).as_secs_f64() });
            }
        }
    }
}

/// The `n` slowest tests, slowest first, as printed at the end of the run.
fn slowest(timings: &[Timing], n: usize) -> String {
    if timings.is_empty() {
        return String::new();
    }
    let mut sorted: Vec<&Timing> = timings.iter().collect();
    sorted.sort_by(|a, b| b.secs.total_cmp(&a.secs));
    let mut out = format!(
        "the {} slowest tests (seconds from their test binary's start to their result; a binary runs its tests in parallel):\n",
        n.min(sorted.len())
    );
    for t in sorted.into_iter().take(n) {
        out.push_str(&format!("{:>8.1} s  {} {}\n", t.secs, t.binary, t.name));
    }
    out
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

    #[test]
    fn times_each_test_from_its_binary_start_and_lists_the_slowest() {
        let t0 = std::time::Instant::now();
        let at = |s: u64| t0 + std::time::Duration::from_secs(s);
        let mut timer = Timer::default();
        let lines = [
            (0, "     Running tests/corpus.rs (target/debug/deps/corpus-0123abcd)"),
            (1, "running 2 tests"),
            (3, "test fast ... ok"),
            (41, "test slow_one ... FAILED"),
            (42, "test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 41.00s"),
            (50, "     Running unittests src/lib.rs (target/debug/deps/lz_policy-feedbeef)"),
            (60, "running 1 test"),
            (65, "test rules::tests::meta ... ok"),
            (66, "test skipped ... ignored"),
            (70, "   Doc-tests lz_policy"),
            (71, "running 1 test"),
            (73, "test src/lib.rs - evaluate (line 3) ... ok"),
        ];
        for (s, l) in lines {
            timer.line(l, at(s));
        }
        let names: Vec<(&str, &str, f64)> = timer.done.iter().map(|t| (t.binary.as_str(), t.name.as_str(), t.secs)).collect();
        assert_eq!(
            names,
            [
                ("corpus", "fast", 2.0),
                ("corpus", "slow_one", 40.0),
                ("lz_policy", "rules::tests::meta", 5.0),
                ("doc-tests lz_policy", "src/lib.rs - evaluate (line 3)", 2.0)
            ]
        );
        let text = slowest(&timer.done, 2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("the 2 slowest tests"), "{text}");
        assert!(lines[1].ends_with("corpus slow_one") && lines[1].contains("40.0 s"), "{text}");
        assert!(lines[2].ends_with("lz_policy rules::tests::meta"), "{text}");
        assert_eq!(slowest(&[], 10), "");
    }
}
