//! `cargo xtask test`: the README's test command and what `.ci/run` calls. Bootstraps the
//! tools, starts LocalStack unless it is already up, builds every workspace test binary and
//! runs them several at a time with the tools on PATH (`lz_platform::testrun`), and stops what
//! it started.

use std::path::Path;
use std::process::ExitCode;

use std::ffi::OsString;

use anyhow::{Context, Result};
use lz_platform::{localstack, testrun, tools};

#[derive(clap::Args)]
pub struct Args {
    /// Test binaries run at a time (default: twice the cores; the waiting tests overlap)
    #[arg(long)]
    jobs: Option<usize>,
    /// Extra arguments for `cargo test` (after `--`; a second `--` starts the test binaries' own)
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
    let result = run_tests(root, &args, &tf);
    if started {
        match localstack::down(root) {
            Ok(_) => println!("localstack stopped"),
            Err(e) => eprintln!("warning: stopping LocalStack: {e:#}"),
        }
    }
    result
}

/// Build every test binary once, then run them `--jobs` at a time, the longest first.
fn run_tests(root: &Path, args: &Args, tf: &tools::Terraform) -> Result<ExitCode> {
    let tf_dir = tf.path.parent().context("terraform path has no parent")?.to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![tf_dir];
    dirs.extend(std::env::split_paths(&path));
    let new_path = std::env::join_paths(dirs).context("building PATH")?;
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PATH".into(), new_path),
        ("LZ_LOCALSTACK_ENDPOINT".into(), localstack::ENDPOINT.into()),
        ("TF_CLI_CONFIG_FILE".into(), tools::cli_config(root)?.into()),
    ];
    if std::env::var_os("CI").is_some() {
        env.push(("INSTA_UPDATE".into(), "no".into()));
    }
    // `-- CARGO_ARGS -- TEST_ARGS`, as `cargo test` takes them.
    let (cargo_args, test_args) = match args.cargo_args.iter().position(|a| a == "--") {
        Some(i) => (args.cargo_args[..i].to_vec(), args.cargo_args[i + 1..].to_vec()),
        None => (args.cargo_args.clone(), Vec::new()),
    };
    // The whole workspace, unless packages are named (`--workspace` would win over `-p`).
    let mut build = vec!["test".to_string(), "--no-run".into(), "--message-format=json-render-diagnostics".into()];
    if !testrun::names_packages(&cargo_args) {
        build.push("--workspace".into());
    }
    build.extend(cargo_args.iter().cloned());
    let mut cmd = duct::cmd(crate::sh::cargo(), &build).dir(root).stdout_capture().unchecked();
    for (k, v) in &env {
        cmd = cmd.env(k, v);
    }
    let built = cmd.run().context("building the test binaries (cargo test --no-run)")?;
    let binaries = testrun::binaries_of(&String::from_utf8_lossy(&built.stdout))?;
    if !built.status.success() {
        println!("tests: the test binaries did not build");
        return Ok(ExitCode::from(1));
    }
    let times = testrun::times_file(&binaries);
    let mut jobs: Vec<testrun::Job> = binaries.into_iter().map(testrun::Job::Binary).collect();
    if !testrun::selects_targets(&cargo_args) {
        jobs.push(testrun::Job::DocTests);
    }
    testrun::order(&mut jobs, &times.as_deref().map(testrun::recorded).unwrap_or_default());
    let parallel = args.jobs.unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("running {} test binaries, {parallel} at a time, the longest first", jobs.len());
    let setup = testrun::Setup { cargo: crate::sh::cargo(), root: root.to_path_buf(), env, test_args, cargo_args };
    let (outcomes, wall, cpu) = testrun::run_all_timed(jobs, parallel, &setup, &|o| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "     Running {} ({:.1} s{})", o.what, o.secs, if o.success { "" } else { ", FAILED" });
        for l in &o.output {
            let _ = writeln!(out, "{l}");
        }
    });
    if let Some(file) = &times {
        if let Err(e) = testrun::record(file, &outcomes) {
            eprintln!("warning: keeping the test times: {e:#}");
        }
    }
    let timings: Vec<testrun::Timing> = outcomes.iter().flat_map(|o| o.timings.iter().cloned()).collect();
    let mut totals = testrun::Totals::default();
    for o in &outcomes {
        totals.passed += o.totals.passed;
        totals.failed += o.totals.failed;
        totals.ignored += o.totals.ignored;
    }
    print!("{}", slowest(&timings, 10));
    let failed: Vec<&str> = outcomes.iter().filter(|o| !o.success).map(|o| o.key.as_str()).collect();
    if !failed.is_empty() {
        println!("failed binaries: {}", failed.join(", "));
    }
    println!(
        "test run: {wall:.0} s wall, {cpu:.0} s CPU of the test processes ({:.2}x; {parallel} binaries at a time)",
        if cpu > 0.0 { wall / cpu } else { 0.0 }
    );
    // One closing line over every test binary, so the last binary's own summary (often the
    // doc tests' "0 passed") is not mistaken for the whole run.
    println!("tests: {} passed, {} failed, {} ignored", totals.passed, totals.failed, totals.ignored);
    if totals.passed == 0 {
        anyhow::bail!("cargo test ran no test");
    }
    Ok(if failed.is_empty() && totals.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The `n` slowest tests, slowest first, as printed at the end of the run.
fn slowest(timings: &[testrun::Timing], n: usize) -> String {
    if timings.is_empty() {
        return String::new();
    }
    let mut sorted: Vec<&testrun::Timing> = timings.iter().collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_slowest_tests() {
        let t = |b: &str, n: &str, secs: f64| testrun::Timing { binary: b.into(), name: n.into(), secs };
        let timings = [t("lz-policy/corpus", "fast", 2.0), t("lz-policy/corpus", "slow_one", 40.0), t("lz-policy/lz_policy", "rules::tests::meta", 5.0)];
        let text = slowest(&timings, 2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("the 2 slowest tests"), "{text}");
        assert!(lines[1].ends_with("lz-policy/corpus slow_one") && lines[1].contains("40.0 s"), "{text}");
        assert!(lines[2].ends_with("lz-policy/lz_policy rules::tests::meta"), "{text}");
        assert_eq!(slowest(&[], 10), "");
    }
}
