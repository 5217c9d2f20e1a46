//! The test runner behind `cargo xtask test`: builds every test binary once
//! (`cargo test --no-run`), then runs the binaries as separate processes, several at a time,
//! the longest first (by the last run's times, or the hints below on a cold checkout). Tests
//! that wait on LocalStack, Terraform or a clock overlap instead of queueing one binary after
//! another. Each binary runs as `cargo test` would run it: from its package's directory with
//! the package's `CARGO_*` variables, and its tests keep their own stores.
//!
//! Each binary's output is kept and printed whole when it finishes, so binaries do not
//! interleave; every `test result:` line is added up and every test timed from its binary's
//! start.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};

/// One test binary of the workspace, as `cargo test --no-run` built it.
#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    /// `package/target`, e.g. `lz-operate/rollout` or `lz-policy/lz_policy` (unit tests).
    pub key: String,
    pub package: String,
    pub exe: PathBuf,
    /// The package's directory: `cargo test` runs a binary from there.
    pub dir: PathBuf,
}

/// What the pool runs: a built binary, or the doc tests (a cargo command of their own, since
/// rustdoc compiles them when they run).
#[derive(Debug, Clone)]
pub enum Job {
    Binary(Binary),
    DocTests,
}

impl Job {
    pub fn key(&self) -> &str {
        match self {
            Job::Binary(b) => &b.key,
            Job::DocTests => "doc-tests",
        }
    }
}

/// Seconds each long binary took in a full run of main (a fresh clone, 2 cores, 4 binaries at
/// a time: the slowest test of each binary from its start, or the binary's own time), used to
/// start the long ones first when no earlier run's times are recorded in the target directory.
/// Only the order depends on them. All are one run's, stop 46's fresh clone on a quiet
/// LocalStack (tests 887 s wall), so that they agree with each other: hints taken from runs of
/// different loads (the train's 1,715 s beside 39 s of `cli` from a quiet one) make the run's
/// pace meaningless and name every hint. Times drift from run to run with the machine's load,
/// so [`stale_hints`] judges each binary against the run's own pace (see there).
const HINTS: [(&str, f64); 18] = [
    ("xtask/workflows", 369.0),
    ("lz-operate/provider", 289.0),
    ("lz-operate/rollout", 227.0),
    ("lz-operate/provenance", 186.0),
    ("lz-operate/insider", 185.0),
    ("xtask/cli", 181.0),
    ("lz-evidence/mutations", 172.0),
    ("lz-operate/promotion", 156.0),
    ("lz-operate/report", 149.0),
    ("lz-operate/crash", 110.0),
    ("lz-operate/bench_chain", 105.0),
    ("lz-baseline/properties", 102.0),
    ("lz-operate/reuse", 93.0),
    ("tfrender/differential", 86.0),
    ("xtask/governance_cli", 79.0),
    ("lz-operate/classes", 72.0),
    ("xtask/kms_policy_cli", 64.0),
    ("doc-tests", 7.0),
];

/// A hint is stale when a full run's time of its binary, divided by the run's pace, is more
/// than this many times the hint, or less than the hint divided by it.
pub const HINT_SLACK: f64 = 3.0;

/// Fewer hinted binaries than this in a run give no pace of their own: it is taken as 1.
const PACE_MIN_BINARIES: usize = 5;

/// What a full run says of the hints: the run's pace and the hints off by more than
/// [`HINT_SLACK`] at that pace.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleHints {
    /// The median over the hinted binaries of their time divided by their hint: 1 when the run
    /// went as the runs the hints came from, 3 when a loaded machine (or a busy LocalStack)
    /// made every binary three times slower.
    pub pace: f64,
    /// One line per hint off by more than the slack at the run's pace, longest binary first.
    pub lines: Vec<String>,
}

/// The hints a full run (every test of every binary: no target or test selected) found off by
/// more than [`HINT_SLACK`] times, judged at the run's own pace: a loaded run makes every
/// binary slower and says nothing of the hints' order, so each time is divided by the median
/// ratio of time to hint over the run's hinted binaries before it is compared (stop 45's loaded
/// run named nine of sixteen binaries by their wall time alone). What is named is a binary that
/// moved against the others: the drift the order cares about. Binaries that failed are left
/// out: a failure can end a binary early.
pub fn stale_hints(outcomes: &[Outcome]) -> StaleHints {
    let hinted: Vec<(&Outcome, f64)> = outcomes
        .iter()
        .filter(|o| o.success && o.secs > 0.0)
        .filter_map(|o| HINTS.iter().find(|(k, _)| *k == o.key).map(|h| (o, h.1)))
        .collect();
    let pace = if hinted.len() < PACE_MIN_BINARIES {
        1.0
    } else {
        crate::stats::median(hinted.iter().map(|(o, hint)| o.secs / hint).collect())
    };
    let mut stale: Vec<(&Outcome, f64)> = hinted
        .into_iter()
        .filter(|(o, hint)| {
            let paced = o.secs / pace;
            paced > hint * HINT_SLACK || paced * HINT_SLACK < *hint
        })
        .collect();
    stale.sort_by(|a, b| b.0.secs.total_cmp(&a.0.secs));
    let lines = stale
        .into_iter()
        .map(|(o, hint)| format!("{} took {:.0} s ({:.0} s at the run's pace), hinted {hint:.0} s", o.key, o.secs, o.secs / pace))
        .collect();
    StaleHints { pace, lines }
}

/// The test binaries of one `cargo test --no-run --message-format=json` output.
pub fn binaries_of(json_lines: &str) -> Result<Vec<Binary>> {
    let mut out: Vec<Binary> = Vec::new();
    for (i, line) in json_lines.lines().enumerate() {
        if !line.starts_with('{') {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).with_context(|| format!("cargo's JSON message on line {}", i + 1))?;
        if v["reason"] != "compiler-artifact" || v["profile"]["test"] != true {
            continue;
        }
        let Some(exe) = v["executable"].as_str() else { continue };
        let manifest = v["manifest_path"].as_str().context("a compiler artifact without manifest_path")?;
        let dir = Path::new(manifest).parent().context("manifest_path has no directory")?.to_path_buf();
        // package_id: `path+file:///…/crates/operate#lz-operate@0.1.0` (or `…#0.1.0` when the
        // directory is the package's name); the target's name when it cannot be read.
        let target = v["target"]["name"].as_str().unwrap_or("?").to_string();
        let package = v["package_id"]
            .as_str()
            .and_then(|id| id.rsplit_once('#'))
            .map(|(path, rest)| match rest.split_once('@') {
                Some((name, _)) => name.to_string(),
                None => path.rsplit('/').next().unwrap_or(path).to_string(),
            })
            .unwrap_or_else(|| target.clone());
        if out.iter().any(|b| b.exe == Path::new(exe)) {
            continue;
        }
        out.push(Binary { key: format!("{package}/{target}"), package, exe: PathBuf::from(exe), dir });
    }
    Ok(out)
}

/// Longest first: by the recorded seconds of the last run, else the hints, else as built.
pub fn order(jobs: &mut [Job], recorded: &BTreeMap<String, f64>) {
    let expected = |j: &Job| {
        recorded
            .get(j.key())
            .copied()
            .or_else(|| HINTS.iter().find(|(k, _)| *k == j.key()).map(|h| h.1))
            .unwrap_or(0.0)
    };
    jobs.sort_by(|a, b| expected(b).total_cmp(&expected(a)));
}

/// The recorded seconds per binary (`lz-test-times.json` in the profile's directory), empty
/// when there is none or it does not read.
pub fn recorded(file: &Path) -> BTreeMap<String, f64> {
    std::fs::read_to_string(file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Where the times are kept: beside the binaries' `deps/` directory.
pub fn times_file(binaries: &[Binary]) -> Option<PathBuf> {
    binaries.first().and_then(|b| b.exe.parent()?.parent().map(|p| p.join("lz-test-times.json")))
}

#[derive(Default, Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
    /// Tests reported as measured (benchmarks run as tests).
    pub measured: u64,
    /// Tests the binaries announced (`running N tests`), and how many binaries announced.
    pub announced: u64,
    pub runs: u64,
    /// `test result:` lines seen.
    pub results: u64,
}

impl Totals {
    /// Whether the output accounts for every test it announced: as many `test result:` lines
    /// as `running N tests` lines (at least one), and the results add up to the announced
    /// tests. A binary that exits 0 without this (it printed nothing, or something ended it
    /// mid-run with `exit(0)`) has not passed.
    pub fn complete(&self) -> Result<(), String> {
        if self.runs == 0 || self.results != self.runs {
            return Err(format!("{} `running N tests` line(s) but {} `test result:` line(s)", self.runs, self.results));
        }
        let reported = self.passed + self.failed + self.ignored + self.measured;
        if reported != self.announced {
            return Err(format!("{} test(s) announced but {reported} reported", self.announced));
        }
        Ok(())
    }
}

/// `running 11 tests` and `test result: ok. 11 passed; 0 failed; 0 ignored; ...`
pub fn add_result(line: &str, totals: &mut Totals) {
    let line = line.trim();
    if let Some(n) = line.strip_prefix("running ").and_then(|r| r.strip_suffix(" tests").or_else(|| r.strip_suffix(" test"))) {
        if let Ok(n) = n.parse::<u64>() {
            totals.announced += n;
            totals.runs += 1;
        }
        return;
    }
    let Some(rest) = line.strip_prefix("test result: ") else { return };
    totals.results += 1;
    for part in rest.split([';', '.']) {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next().and_then(|n| n.parse::<u64>().ok()), words.next()) else { continue };
        match what {
            "passed" => totals.passed += n,
            "failed" => totals.failed += n,
            "ignored" => totals.ignored += n,
            "measured" => totals.measured += n,
            _ => {}
        }
    }
}

/// How long one test binary (or the doc-test run) may take before it is killed and failed: a
/// hung binary must not hold the run forever.
pub const JOB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(50 * 60);

/// One finished test: its binary, its name and the seconds from its binary's start to its
/// result (tests of one binary run in parallel, so this bounds the test's own time from above;
/// for the long tests, which outlast their neighbours, it is close to it).
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub binary: String,
    pub name: String,
    pub secs: f64,
}

/// Follows a test binary's output (or cargo's, for the doc tests): `Doc-tests <crate>` names a
/// doc-test binary, `running N tests` starts a binary, `test <name> ... <result>` ends a test.
#[derive(Default)]
pub struct Timer {
    pub binary: String,
    started: Option<Instant>,
    pub done: Vec<Timing>,
}

impl Timer {
    pub fn new(binary: &str) -> Timer {
        Timer { binary: binary.to_string(), ..Timer::default() }
    }

    pub fn line(&mut self, line: &str, now: Instant) {
        let t = line.trim();
        if let Some(krate) = t.strip_prefix("Doc-tests ") {
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

/// One job run to its end.
#[derive(Debug)]
pub struct Outcome {
    pub key: String,
    /// The command line, for the `Running` header.
    pub what: String,
    pub output: Vec<String>,
    pub success: bool,
    pub totals: Totals,
    pub timings: Vec<Timing>,
    pub secs: f64,
}

/// How every job runs: the environment beside `cargo test`'s own, the arguments for each
/// test binary (after cargo's `--`), the cargo arguments the doc tests repeat.
pub struct Setup {
    pub cargo: String,
    pub root: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    pub test_args: Vec<String>,
    pub cargo_args: Vec<String>,
}

fn command(job: &Job, setup: &Setup) -> (String, duct::Expression) {
    let mut cmd = match job {
        Job::Binary(b) => {
            let what = format!("{} ({})", b.key, b.exe.display());
            let cmd = duct::cmd(&b.exe, &setup.test_args)
                .dir(&b.dir)
                .env("CARGO_MANIFEST_DIR", &b.dir)
                .env("CARGO_PKG_NAME", &b.package)
                .env("CARGO", &setup.cargo);
            return (what, with_env(cmd, setup));
        }
        Job::DocTests => {
            let mut args: Vec<String> = vec!["test".into(), "--doc".into(), "--no-fail-fast".into()];
            if !names_packages(&setup.cargo_args) {
                args.push("--workspace".into());
            }
            args.extend(setup.cargo_args.iter().cloned());
            if !setup.test_args.is_empty() {
                args.push("--".into());
                args.extend(setup.test_args.iter().cloned());
            }
            (format!("doc tests ({} {})", setup.cargo, args.join(" ")), duct::cmd(&setup.cargo, args).dir(&setup.root))
        }
    };
    cmd.1 = with_env(cmd.1, setup);
    cmd
}

fn with_env(mut cmd: duct::Expression, setup: &Setup) -> duct::Expression {
    for (k, v) in &setup.env {
        cmd = cmd.env(k, v);
    }
    cmd.stderr_to_stdout().stdin_null().unchecked()
}

/// Run one job to its end, keeping its output and timing its tests.
pub fn run_one(job: &Job, setup: &Setup) -> Outcome {
    let (what, cmd) = command(job, setup);
    let start = Instant::now();
    let mut timer = Timer::new(job.key());
    let mut totals = Totals::default();
    let mut output = Vec::new();
    let success = match cmd.reader() {
        Err(e) => {
            output.push(format!("error: cannot start {what}: {e}"));
            false
        }
        Ok(reader) => {
            let mut ok = true;
            let finished = std::sync::atomic::AtomicBool::new(false);
            let timed_out = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|s| {
            // The watchdog: kills the job once it outlasts JOB_TIMEOUT.
            s.spawn(|| {
                while !finished.load(std::sync::atomic::Ordering::SeqCst) {
                    if start.elapsed() > JOB_TIMEOUT {
                        timed_out.store(true, std::sync::atomic::Ordering::SeqCst);
                        let _ = reader.kill();
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            });
            for line in std::io::BufReader::new(&reader).lines() {
                match line {
                    Ok(line) => {
                        add_result(&line, &mut totals);
                        timer.line(&line, Instant::now());
                        output.push(line);
                    }
                    Err(e) => {
                        output.push(format!("error: reading the output of {what}: {e}"));
                        ok = false;
                        break;
                    }
                }
            }
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            if timed_out.load(std::sync::atomic::Ordering::SeqCst) {
                output.push(format!("error: {what} ran longer than {} min and was killed", JOB_TIMEOUT.as_secs() / 60));
                ok = false;
            }
            if let Err(why) = totals.complete() {
                output.push(format!("error: {what} exited without reporting every test ({why}): not counted as passed"));
                ok = false;
            }
            match reader.try_wait() {
                Ok(Some(o)) => ok && o.status.success(),
                Ok(None) => {
                    output.push(format!("error: {what} closed its output but has not exited"));
                    let _ = reader.kill();
                    false
                }
                Err(e) => {
                    output.push(format!("error: waiting for {what}: {e}"));
                    false
                }
            }
        }
    };
    Outcome { key: job.key().to_string(), what, output, success, totals, timings: timer.done, secs: start.elapsed().as_secs_f64() }
}

/// Run every job, `parallel` at a time, in the given order; `done` sees each outcome as it
/// finishes (one at a time). The outcomes come back in finishing order.
pub fn run_all(jobs: Vec<Job>, parallel: usize, setup: &Setup, done: &(dyn Fn(&Outcome) + Sync)) -> Vec<Outcome> {
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<Job>>());
    let finished = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..parallel.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(job) = next else { break };
                let outcome = run_one(&job, setup);
                let mut all = finished.lock().unwrap_or_else(|p| p.into_inner());
                done(&outcome);
                all.push(outcome);
            });
        }
    });
    finished.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Keep each job's seconds for the next run's order (best effort: a run without them only
/// starts in a less good order).
pub fn record(file: &Path, outcomes: &[Outcome]) -> Result<()> {
    let mut times = recorded(file);
    for o in outcomes {
        times.insert(o.key.clone(), (o.secs * 10.0).round() / 10.0);
    }
    let text = serde_json::to_string_pretty(&times).context("serialising test times")?;
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}

/// [`run_all`], with its wall seconds and the CPU seconds of the test processes it ran.
pub fn run_all_timed(jobs: Vec<Job>, parallel: usize, setup: &Setup, done: &(dyn Fn(&Outcome) + Sync)) -> (Vec<Outcome>, f64, f64) {
    let (wall, cpu) = (std::time::Instant::now(), children_cpu_secs());
    let outcomes = run_all(jobs, parallel, setup, done);
    (outcomes, wall.elapsed().as_secs_f64(), children_cpu_secs() - cpu)
}

/// CPU seconds (user + system) of this process's waited-for children so far, their
/// descendants included.
pub fn children_cpu_secs() -> f64 {
    // SAFETY: rusage is plain data, filled by getrusage for this process's children.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Whether cargo arguments name packages (`-p`, `--package`): then `--workspace`, which would
/// win over them, is left out.
pub fn names_packages(cargo_args: &[String]) -> bool {
    cargo_args.iter().any(|a| a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2))
}

/// Whether cargo arguments select targets, which `cargo test --doc` refuses to mix with.
pub fn selects_targets(cargo_args: &[String]) -> bool {
    cargo_args.iter().any(|a| {
        ["--lib", "--bin", "--bins", "--test", "--tests", "--bench", "--benches", "--example", "--examples", "--all-targets"]
            .iter()
            .any(|f| a == f || a.starts_with(&format!("{f}=")))
    })
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
        assert_eq!((t.passed, t.failed, t.ignored, t.results, t.runs, t.announced), (17, 1, 2, 2, 1, 3));
    }

    #[test]
    fn output_that_does_not_account_for_every_announced_test_is_incomplete() {
        let of = |lines: &[&str]| {
            let mut t = Totals::default();
            lines.iter().for_each(|l| add_result(l, &mut t));
            t.complete()
        };
        let ok = "test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 4 filtered out; finished in 0.1s";
        assert_eq!(of(&["running 3 tests", ok]), Ok(()));
        assert_eq!(of(&["running 0 tests", "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"]), Ok(()));
        // Nothing printed, announced but never finished, a result short of the announcement.
        assert!(of(&[]).is_err());
        assert!(of(&["running 3 tests", "test a ... ok"]).is_err());
        assert!(of(&["running 4 tests", ok]).unwrap_err().contains("4 test(s) announced but 3 reported"));
    }

    #[test]
    fn times_each_test_from_its_binary_start() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + std::time::Duration::from_secs(s);
        let mut timer = Timer::new("lz-policy/corpus");
        for (s, l) in [
            (1, "running 2 tests"),
            (3, "test fast ... ok"),
            (41, "test slow_one ... FAILED"),
            (42, "test skipped ... ignored"),
            (42, "test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 41.00s"),
        ] {
            timer.line(l, at(s));
        }
        let mut docs = Timer::new("doc-tests");
        for (s, l) in [(0, "   Doc-tests lz_policy"), (1, "running 1 test"), (3, "test src/lib.rs - evaluate (line 3) ... ok")] {
            docs.line(l, at(s));
        }
        let names: Vec<(&str, &str, f64)> =
            timer.done.iter().chain(&docs.done).map(|t| (t.binary.as_str(), t.name.as_str(), t.secs)).collect();
        assert_eq!(
            names,
            [
                ("lz-policy/corpus", "fast", 2.0),
                ("lz-policy/corpus", "slow_one", 40.0),
                ("doc-tests lz_policy", "src/lib.rs - evaluate (line 3)", 2.0)
            ]
        );
    }

    #[test]
    fn reads_test_binaries_from_cargo_messages() {
        let lines = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/operate#lz-operate@0.1.0","manifest_path":"/w/crates/operate/Cargo.toml","target":{"kind":["test"],"name":"rollout"},"profile":{"test":true},"executable":"/w/target/debug/deps/rollout-aa"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/repo#lz-repo@0.1.0","manifest_path":"/w/crates/repo/Cargo.toml","target":{"kind":["test"],"name":"rollout"},"profile":{"test":true},"executable":"/w/target/debug/deps/rollout-bb"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/xtask#0.1.0","manifest_path":"/w/xtask/Cargo.toml","target":{"kind":["bin"],"name":"xtask"},"profile":{"test":true},"executable":"/w/target/debug/deps/xtask-cc"}"#,
            // The library itself (not a test) and a build script: no test binaries.
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/repo#lz-repo@0.1.0","manifest_path":"/w/crates/repo/Cargo.toml","target":{"kind":["lib"],"name":"lz_repo"},"profile":{"test":false},"executable":null}"#,
            r#"{"reason":"build-script-executed","package_id":"x"}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "   Compiling lz-repo v0.1.0",
        ]
        .join("\n");
        let bins = binaries_of(&lines).unwrap();
        let keys: Vec<&str> = bins.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["lz-operate/rollout", "lz-repo/rollout", "xtask/xtask"]);
        assert_eq!(bins[0].dir, Path::new("/w/crates/operate"));
        assert_eq!(bins[1].package, "lz-repo");
        assert_eq!(times_file(&bins).unwrap(), Path::new("/w/target/debug/lz-test-times.json"));
        assert!(binaries_of("{not json").is_err());
    }

    #[test]
    fn the_longest_binaries_start_first() {
        let bin = |k: &str| Job::Binary(Binary { key: k.into(), package: "p".into(), exe: k.into(), dir: "/".into() });
        let mut jobs = vec![bin("a/quick"), Job::DocTests, bin("lz-operate/provider"), bin("a/recorded"), bin("xtask/workflows")];
        // A recorded time beats the hint; a binary with neither keeps its place among the rest.
        let rec = BTreeMap::from([("a/recorded".to_string(), 120.0), ("xtask/workflows".to_string(), 5.0)]);
        order(&mut jobs, &rec);
        let keys: Vec<&str> = jobs.iter().map(Job::key).collect();
        assert_eq!(keys, ["lz-operate/provider", "a/recorded", "doc-tests", "xtask/workflows", "a/quick"]);
    }

    fn outcome(key: &str, secs: f64, success: bool) -> Outcome {
        Outcome { key: key.into(), what: key.into(), output: vec![], success, totals: Totals::default(), timings: vec![], secs }
    }

    fn hint(key: &str) -> f64 {
        HINTS.iter().find(|(k, _)| *k == key).unwrap().1
    }

    /// Every hinted binary at `pace` times its hint, except those given in `moved`.
    fn run_at(pace: f64, moved: &[Outcome]) -> Vec<Outcome> {
        let mut all: Vec<Outcome> = HINTS
            .iter()
            .filter(|(k, _)| !moved.iter().any(|m| m.key == *k))
            .map(|(k, h)| outcome(k, h * pace, true))
            .collect();
        all.extend(moved.iter().map(|m| outcome(&m.key, m.secs, m.success)));
        all
    }

    #[test]
    fn hints_a_full_run_finds_off_by_more_than_the_slack_are_named() {
        let moved = [
            // Within the slack either way: not named.
            outcome("xtask/workflows", hint("xtask/workflows") * (HINT_SLACK - 0.1), true),
            outcome("lz-operate/rollout", hint("lz-operate/rollout") / (HINT_SLACK - 0.1), true),
            // Off by more: named, the longest first.
            outcome("lz-operate/provider", hint("lz-operate/provider") * (HINT_SLACK + 0.5), true),
            outcome("lz-operate/insider", hint("lz-operate/insider") / (HINT_SLACK + 0.5), true),
            // A failed binary may have stopped early; a binary without a hint has none to judge.
            outcome("lz-operate/provenance", 1.0, false),
            outcome("a/unhinted", 1e6, true),
        ];
        let stale = stale_hints(&run_at(1.0, &moved));
        assert_eq!(stale.pace, 1.0);
        let lines = stale.lines;
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("lz-operate/provider took") && lines[1].starts_with("lz-operate/insider took"), "{lines:?}");
        // The train is hinted as the longest binary (stop 46: 369 s), so it starts first on a
        // cold checkout.
        let longest = HINTS.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        assert_eq!(longest.0, "xtask/workflows");
    }

    /// A loaded run, every binary four times slower than its hint (beyond the slack by wall
    /// time), names no hint: the run's pace is 4. A binary that moved against the others at
    /// that pace is still named; judged by wall time alone, all sixteen would be.
    #[test]
    fn a_loaded_run_names_only_the_binaries_that_moved_against_the_others() {
        let stale = stale_hints(&run_at(4.0, &[]));
        assert!((stale.pace - 4.0).abs() < 1e-9 && stale.lines.is_empty(), "{stale:?}");
        let moved = [outcome("lz-operate/crash", hint("lz-operate/crash") * 4.0 * (HINT_SLACK + 0.5), true)];
        let stale = stale_hints(&run_at(4.0, &moved));
        assert_eq!(stale.lines.len(), 1, "{stale:?}");
        assert!(stale.lines[0].starts_with("lz-operate/crash took") && stale.lines[0].contains("at the run's pace"), "{stale:?}");
        // Too few hinted binaries give no pace: their wall times are judged as they are.
        let few = [outcome("lz-operate/crash", hint("lz-operate/crash") * 4.0, true), outcome("xtask/cli", hint("xtask/cli") * 4.0, true)];
        let stale = stale_hints(&few);
        assert_eq!((stale.pace, stale.lines.len()), (1.0, 2), "{stale:?}");
    }

    #[test]
    fn target_selections_are_recognised() {
        let s = |a: &[&str]| selects_targets(&a.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert!(s(&["-p", "lz-baseline", "--test", "properties"]));
        assert!(s(&["--lib"]));
        assert!(!s(&["-p", "lz-baseline"]));
        assert!(!s(&["--testing"]));
        let p = |a: &[&str]| names_packages(&a.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert!(p(&["-p", "lz-baseline"]) && p(&["-plz-baseline"]) && p(&["--package=lz-baseline"]));
        assert!(!p(&["--test", "properties"]));
    }

    #[test]
    fn jobs_run_concurrently_and_every_outcome_is_kept() {
        // Each binary marks that it started, then waits (30 s at most) until all three have:
        // run one after another, the first would give up and fail.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("t.sh");
        let body = "#!/bin/sh\necho 'running 1 test'\ntouch started.$$\nn=0\n\
                    while [ \"$(ls started.* | wc -l)\" -lt 3 ]; do n=$((n+1)); [ $n -gt 300 ] && { echo 'test waits ... FAILED'; exit 101; }; sleep 0.1; done\n\
                    echo 'test waits ... ok'\necho 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s'\n";
        std::fs::write(&script, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = |k: &str| Job::Binary(Binary { key: k.into(), package: "p".into(), exe: script.clone(), dir: dir.path().into() });
        let setup = Setup { cargo: "cargo".into(), root: dir.path().into(), env: vec![], test_args: vec![], cargo_args: vec![] };
        let seen = Mutex::new(Vec::new());
        let outcomes = run_all(vec![bin("p/a"), bin("p/b"), bin("p/c")], 3, &setup, &|o| seen.lock().unwrap().push(o.key.clone()));
        assert_eq!(outcomes.len(), 3);
        assert_eq!(seen.lock().unwrap().len(), 3);
        assert!(outcomes.iter().all(|o| o.success && o.totals.passed == 1 && o.timings.len() == 1), "{outcomes:?}");
        let file = dir.path().join("times.json");
        record(&file, &outcomes).unwrap();
        assert_eq!(recorded(&file).len(), 3);

        // A failing binary is a failed outcome, with its output kept.
        std::fs::write(dir.path().join("f.sh"), "#!/bin/sh\necho 'test broken ... FAILED'\nexit 101\n").unwrap();
        std::fs::set_permissions(dir.path().join("f.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let failing = Job::Binary(Binary { key: "p/f".into(), package: "p".into(), exe: dir.path().join("f.sh"), dir: dir.path().into() });
        let o = run_one(&failing, &setup);
        assert!(!o.success && o.output[0] == "test broken ... FAILED", "{o:?}");

        // A binary that exits 0 without reporting its tests (it printed nothing, or something
        // ended it mid-run with exit(0)) has not passed.
        for (name, body) in [("silent.sh", "#!/bin/sh\nexit 0\n"), ("cut.sh", "#!/bin/sh\necho 'running 2 tests'\necho 'test a ... ok'\nexit 0\n")] {
            std::fs::write(dir.path().join(name), body).unwrap();
            std::fs::set_permissions(dir.path().join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
            let job = Job::Binary(Binary { key: format!("p/{name}"), package: "p".into(), exe: dir.path().join(name), dir: dir.path().into() });
            let o = run_one(&job, &setup);
            assert!(!o.success, "{name}: {o:?}");
            assert!(o.output.iter().any(|l| l.contains("without reporting every test")), "{name}: {o:?}");
        }
    }
}
