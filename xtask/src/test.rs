//! `cargo xtask test`: the README's test command and what `.ci/run` calls. Bootstraps the
//! tools and starts LocalStack unless it is already up, beside the build of every workspace test
//! binary, then runs them several at a time with the tools on PATH (`lz_platform::testrun`),
//! prints where the time went (`phases`), and stops what it started.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use std::ffi::OsString;

use anyhow::{anyhow, Context, Result};
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
    let start = Instant::now();
    let (cargo_args, test_args) = split_args(&args.cargo_args);
    // The tools' bootstrap (pip, npm, apt downloads) and LocalStack's start (a Python server
    // coming up) wait on the network and on start-up; the build waits on the compiler. They run
    // side by side, so a cold run waits for the longer of the two, not for their sum.
    let (ready, built) = std::thread::scope(|s| {
        let ready = s.spawn(|| ready(root));
        let built = build(root, &cargo_args);
        (ready.join(), built)
    });
    let ready = ready.map_err(|_| anyhow!("the tools' bootstrap panicked"))?;
    // What was started is stopped whatever else failed.
    let result = match (&ready, built) {
        (Ok(r), Ok(b)) => {
            let mut phases = Phases::default();
            phases.push("tools (beside the build)", r.tools_secs, None);
            phases.push("LocalStack start (beside the build)", r.localstack_secs, None);
            phases.push("build of the test binaries", b.secs, Some(b.cpu_secs));
            localstack::require(root)
                .and_then(|_| run_tests(root, &args, &r.tf, b, &cargo_args, &test_args, &mut phases))
                .map(|code| {
                    print!("{}", phases.summary(start.elapsed().as_secs_f64()));
                    code
                })
        }
        (Err(e), _) => Err(anyhow!("{e:#}")),
        (Ok(_), Err(e)) => Err(e),
    };
    if ready.as_ref().is_ok_and(|r| r.started) {
        match localstack::down(root) {
            Ok(_) => println!("localstack stopped"),
            Err(e) => eprintln!("warning: stopping LocalStack: {e:#}"),
        }
    }
    result
}

/// `-- CARGO_ARGS -- TEST_ARGS`, as `cargo test` takes them.
fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (args[..i].to_vec(), args[i + 1..].to_vec()),
        None => (args.to_vec(), Vec::new()),
    }
}

/// The tools found or bootstrapped and LocalStack up, with the seconds each took.
struct Ready {
    tf: tools::Terraform,
    started: bool,
    tools_secs: f64,
    localstack_secs: f64,
}

fn ready(root: &Path) -> Result<Ready> {
    let clock = Instant::now();
    let tf = tools::terraform(root)?;
    println!("terraform  {} ({})", tf.version, tf.path.display());
    let chromium = tools::chromium()?;
    println!("chromium   {} ({})", chromium.version, chromium.path.display());
    let tools_secs = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    // LocalStack is started last: when it fails to come up nothing is left running.
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
    Ok(Ready { tf, started, tools_secs, localstack_secs: clock.elapsed().as_secs_f64() })
}

/// The test binaries `cargo test --no-run` built, and how long it took.
struct Built {
    binaries: Vec<testrun::Binary>,
    success: bool,
    secs: f64,
    /// CPU seconds of this process's children while it built (the bootstrap's beside it included).
    cpu_secs: f64,
}

/// Build every test binary once (the whole workspace, unless packages are named: `--workspace`
/// would win over `-p`). The build needs none of the tools, so it does not wait for them.
fn build(root: &Path, cargo_args: &[String]) -> Result<Built> {
    let (clock, cpu) = (Instant::now(), testrun::children_cpu_secs());
    let mut build = vec!["test".to_string(), "--no-run".into(), "--message-format=json-render-diagnostics".into()];
    if !testrun::names_packages(cargo_args) {
        build.push("--workspace".into());
    }
    build.extend(cargo_args.iter().cloned());
    let built = duct::cmd(crate::sh::cargo(), &build)
        .dir(root)
        .stdout_capture()
        .unchecked()
        .run()
        .context("building the test binaries (cargo test --no-run)")?;
    let binaries = testrun::binaries_of(&String::from_utf8_lossy(&built.stdout))?;
    Ok(Built {
        binaries,
        success: built.status.success(),
        secs: clock.elapsed().as_secs_f64(),
        cpu_secs: testrun::children_cpu_secs() - cpu,
    })
}

/// Run the built test binaries `--jobs` at a time, the longest first.
fn run_tests(
    root: &Path,
    args: &Args,
    tf: &tools::Terraform,
    built: Built,
    cargo_args: &[String],
    test_args: &[String],
    phases: &mut Phases,
) -> Result<ExitCode> {
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
    let Built { binaries, success, .. } = built;
    if !success {
        println!("tests: the test binaries did not build");
        return Ok(ExitCode::from(1));
    }
    let times = testrun::times_file(&binaries);
    let mut jobs: Vec<testrun::Job> = binaries.into_iter().map(testrun::Job::Binary).collect();
    if !testrun::selects_targets(cargo_args) {
        jobs.push(testrun::Job::DocTests);
    }
    testrun::order(&mut jobs, &times.as_deref().map(testrun::recorded).unwrap_or_default());
    let parallel = args.jobs.unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("running {} test binaries, {parallel} at a time, the longest first", jobs.len());
    let setup = testrun::Setup {
        cargo: crate::sh::cargo(),
        root: root.to_path_buf(),
        env,
        test_args: test_args.to_vec(),
        cargo_args: cargo_args.to_vec(),
    };
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
    // Only a full run times every binary whole: a selected target or test says nothing of a
    // hint. The hints only order the binaries on a cold checkout; a stale one costs time, not
    // a result.
    if !testrun::names_packages(cargo_args) && !testrun::selects_targets(cargo_args) && test_args.is_empty() {
        let stale = testrun::stale_hints(&outcomes);
        if !stale.lines.is_empty() {
            println!(
                "ordering hints off by more than {}x at this run's pace ({:.2}x the hints' runs; update HINTS in lz_platform::testrun): {}",
                testrun::HINT_SLACK,
                stale.pace,
                stale.lines.join("; ")
            );
        }
    }
    let failed: Vec<&str> = outcomes.iter().filter(|o| !o.success).map(|o| o.key.as_str()).collect();
    if !failed.is_empty() {
        println!("failed binaries: {}", failed.join(", "));
    }
    println!(
        "test run: {wall:.0} s wall, {cpu:.0} s CPU of the test processes ({:.2}x; {parallel} binaries at a time)",
        if cpu > 0.0 { wall / cpu } else { 0.0 }
    );
    phases.push("tests", wall, Some(cpu));
    // One closing line over every test binary, so the last binary's own summary (often the
    // doc tests' "0 passed") is not mistaken for the whole run.
    println!("tests: {} passed, {} failed, {} ignored", totals.passed, totals.failed, totals.ignored);
    if totals.passed == 0 {
        anyhow::bail!("cargo test ran no test");
    }
    Ok(if failed.is_empty() && totals.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The phases of a run, each with its wall seconds and, where measured, the CPU seconds of the
/// child processes meanwhile: printed at the end so a CI log shows where the time went.
#[derive(Default)]
struct Phases(Vec<(String, f64, Option<f64>)>);

impl Phases {
    fn push(&mut self, name: &str, wall: f64, cpu: Option<f64>) {
        self.0.push((name.to_string(), wall, cpu));
    }

    fn summary(&self, total: f64) -> String {
        let mut out = String::from("phases (wall; CPU of the child processes where measured):\n");
        for (name, wall, cpu) in &self.0 {
            let cpu = match cpu {
                Some(c) if *c > 0.0 => format!(" (CPU {c:.0} s, wall {:.2}x CPU)", wall / c),
                Some(c) => format!(" (CPU {c:.0} s)"),
                None => String::new(),
            };
            out.push_str(&format!("{wall:>8.1} s  {name}{cpu}\n"));
        }
        out.push_str(&format!("{total:>8.1} s  in all\n"));
        out
    }
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

    #[test]
    fn the_phases_show_wall_and_cpu_and_the_whole() {
        let mut phases = Phases::default();
        phases.push("LocalStack start (beside the build)", 41.0, None);
        phases.push("build of the test binaries", 500.0, Some(1000.0));
        phases.push("tests", 700.0, Some(0.0));
        let text = phases.summary(1250.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("phases"), "{text}");
        assert_eq!(lines[1], "    41.0 s  LocalStack start (beside the build)");
        assert_eq!(lines[2], "   500.0 s  build of the test binaries (CPU 1000 s, wall 0.50x CPU)");
        assert_eq!(lines[3], "   700.0 s  tests (CPU 0 s)");
        assert_eq!(lines[4], "  1250.0 s  in all");
    }

    #[test]
    fn cargo_arguments_end_where_the_test_binaries_arguments_begin() {
        let args: Vec<String> = ["-p", "xtask", "--", "--exact", "x"].iter().map(|s| s.to_string()).collect();
        assert_eq!(split_args(&args), (vec!["-p".to_string(), "xtask".into()], vec!["--exact".to_string(), "x".into()]));
        assert_eq!(split_args(&args[..2]), (args[..2].to_vec(), Vec::new()));
    }
}
