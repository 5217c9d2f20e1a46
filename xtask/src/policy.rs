//! `cargo xtask policy`: evaluate the Rego policies on a plan (or a rendered environment),
//! run the Rego unit tests, and benchmark against checkov.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use lz_policy::{Options, Policies};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Plan JSON file (`terraform show -json` shape)
    #[arg(long, conflicts_with = "env")]
    plan: Option<PathBuf>,
    /// Environment to render offline and evaluate (adds the secret scan of overlays and modules)
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: Option<String>,
    /// Findings as text for people (grouped by root cause, with file:line:col, the line and the
    /// fix; coloured on a terminal unless NO_COLOR is set), JSON for bots or SARIF 2.1.0 for
    /// code scanning
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Report only findings of this severity or above (low, medium, high, critical); the exit
    /// code follows what is reported
    #[arg(long, value_parser = severity)]
    severity: Option<u8>,
    /// Exceptions register (default governance/exceptions.toml; required, as the default is)
    #[arg(long)]
    exceptions: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Run every Rego `test_*` rule with line coverage (fails below 90% per policy file)
    Test,
}

pub const MIN_COVERAGE: f64 = 90.0;

fn severity(s: &str) -> Result<u8, String> {
    lz_policy::view::severity_floor(s)
}

/// The plan corpus with its expected findings.
pub const CORPUS: &str = "policies/corpus";

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(Sub::Test) = args.command {
        return test(root);
    }
    let mut opts = Options::for_root(root);
    if let Some(e) = args.exceptions {
        opts.exceptions = Some(e);
    }
    let (policies, environment, findings) = match (&args.plan, &args.env) {
        (Some(file), None) => {
            if std::fs::metadata(file).is_ok_and(|m| m.len() > LARGE_PLAN_BYTES) {
                return_freed_memory_at_once();
            }
            // Read straight into the engine's value (the plan is held once through the
            // evaluation), on a second thread while the policies are parsed.
            let (policies, plan) = Policies::load_with_plan(&opts.policies, &opts.settings, file)?;
            opts.source = Some(relative(root, file));
            let environment = plan.environment().to_string();
            let findings = policies.findings_engine(plan, &mut Default::default())?;
            (policies, environment, findings)
        }
        (None, Some(env)) => {
            let policies = Policies::load(&opts.policies, &opts.settings)?;
            let plan = crate::plan::render_env(root, env)?;
            opts.source = Some(format!("environments/{env}/terraform.tfvars"));
            let mut findings = lz_policy::scan_secrets(root)?;
            // The plan is handed over: only the engine's copy stays through the evaluation.
            let environment = lz_policy::plan_environment(&plan);
            findings.extend(policies.findings_owned(plan)?);
            (policies, environment, findings)
        }
        _ => {
            // A policy error is reported first, as for every other use of the command.
            Policies::load(&opts.policies, &opts.settings)?;
            bail!("give either --plan FILE or --env NAME")
        }
    };
    let mut report = lz_policy::finish(&policies, findings, &environment, &opts)?;
    let below = args.severity.map(|floor| report.keep_severity(floor)).unwrap_or(0);
    if let Some(env) = &args.env {
        lz_gate::findings::locate(root, env, &mut report);
    }
    let text = match args.format {
        Format::Text => {
            use std::io::IsTerminal;
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            report.to_text_grouped(colour, below)
        }
        Format::Json => serde_json::to_string_pretty(&report.to_json())? + "\n",
        Format::Sarif => serde_json::to_string_pretty(&report.to_sarif())? + "\n",
    };
    crate::out::emit(&text)?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A plan file larger than this is evaluated with freed memory returned to the system at once.
const LARGE_PLAN_BYTES: u64 = 1_000_000;

/// The index of `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (`mimalloc.h`); the test
/// `the_purge_delay_option_is_the_one_set` holds it to that option's default (1,000 ms in
/// mimalloc 3's `options.c`).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// mimalloc keeps memory freed by the process for a second before it returns it to the system
/// (its `purge_delay`), so the plan's text, freed once the plan is read, and the evaluation's
/// freed working memory stay resident while the evaluation allocates more: on a large plan the
/// peak was 5.4x the file above the small plan's run, and it varied by several MB with the
/// machine's load (issue 29). Purging at once costs a few percent of CPU time on a small plan,
/// so only plans over `LARGE_PLAN_BYTES` ask for it.
fn return_freed_memory_at_once() {
    // SAFETY: mi_option_set takes two integers and changes only the allocator's setting (an
    // index out of its range is ignored); the allocator of this binary is mimalloc (`main.rs`);
    // it runs on the main thread before the plan's reader thread is spawned. The index is
    // libmimalloc-sys 0.1.49's, pinned in xtask/Cargo.toml.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

#[cfg(test)]
mod purge_tests {
    /// The option index is mimalloc 3's `mi_option_purge_delay`: its default is 1,000 ms (the
    /// tests never set `MIMALLOC_PURGE_DELAY`; no other option of mimalloc 3 defaults to 1,000).
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads one integer setting of the allocator.
        assert_eq!(unsafe { super::mi_option_get(super::MI_OPTION_PURGE_DELAY) }, 1000);
    }
}

/// The Rego parser backtracks through errors; with `RUST_BACKTRACE=1` (as CI sets it) every one
/// of them captured a backtrace, 38% of the instructions of `policy --plan` on the prod plan.
/// The CLI prints errors without backtraces, so library backtraces are off unless
/// `RUST_LIB_BACKTRACE` asks for them (panics keep `RUST_BACKTRACE`). Called first thing in
/// `main`, before any thread or error exists (std reads the setting once).
pub fn quiet_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

fn relative(root: &Path, file: &Path) -> String {
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    abs.strip_prefix(&root)
        .unwrap_or(&abs)
        .to_string_lossy()
        .replace('\\', "/")
}

fn test(root: &Path) -> anyhow::Result<ExitCode> {
    let tree = lz_policy::PolicyTree::load(&root.join("policies"))?;
    let run = lz_policy::run_tests(&tree)?;
    for t in &run.tests {
        match (&t.passed, &t.error) {
            (true, _) => println!("PASS {}", t.name),
            (false, Some(e)) => println!("FAIL {} ({}): {}", t.name, t.file, e.replace('\n', " ")),
            (false, None) => println!("FAIL {} ({})", t.name, t.file),
        }
    }
    println!("\ncoverage:");
    let mut low = Vec::new();
    for c in &run.coverage {
        let pct = c.percent();
        let mark = if pct < MIN_COVERAGE { "  < 90%" } else { "" };
        println!("{pct:6.1}%  {}{mark}", c.file);
        if pct < MIN_COVERAGE {
            low.push(format!(
                "{} ({pct:.1}%, uncovered lines {:?})",
                c.file, c.uncovered_lines
            ));
        }
    }
    let mut failed = run.tests.iter().filter(|t| !t.passed).count();
    println!(
        "\n{} test(s), {} passed, {failed} failed",
        run.tests.len(),
        run.tests.len() - failed
    );
    let opts = Options::for_root(root);
    let policies = Policies::load(&opts.policies, &opts.settings)?;
    let corpus = lz_policy::corpus::run(&root.join(CORPUS), &policies)?;
    println!("\nplan corpus ({CORPUS}):");
    for c in &corpus {
        if c.passed() {
            println!("PASS {}: {}", c.file, c.what);
        } else {
            println!("FAIL {}: {}", c.file, c.problems.join("; "));
        }
    }
    let corpus_failed = corpus.iter().filter(|c| !c.passed()).count();
    println!(
        "{} case(s), {} passed, {corpus_failed} failed",
        corpus.len(),
        corpus.len() - corpus_failed
    );
    failed += corpus_failed;
    if run.tests.is_empty() {
        bail!("no Rego test ran under {}", root.join("policies").display());
    }
    if !low.is_empty() {
        eprintln!("coverage below {MIN_COVERAGE}%: {}", low.join(", "));
    }
    Ok(if failed == 0 && low.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Goal against checkov, one process each on the prod plan (paired whole-process timing).
pub const GOAL_RATIO: f64 = 50.0;
/// Pairs of whole-process runs (ours, checkov) whose median ratio is the figure.
const PAIRS: usize = 5;

/// Times all policies on the five environment plans, then on a series of generated plans of
/// growing size (linear in the plan, memory bounded), then `policy --plan` and checkov on the
/// prod plan, one process each, in pairs.
pub fn bench(root: &Path) -> anyhow::Result<ExitCode> {
    use crate::measure::{load, mb, peak_rss};
    // As `policy` runs (the in-process figures are the command's own).
    println!("{} before the first figure", load());
    let work = root.join("target/bench-policy");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let mut plans = Vec::new();
    for env in lz_repo::ENVIRONMENTS {
        let plan = match crate::plan::render_env(root, env) {
            Ok(p) => p,
            Err(e) => {
                let fixture = root.join(format!("crates/policy/tests/data/plans/{env}.json"));
                eprintln!(
                    "rendering {env} failed ({e:#}); using {}",
                    fixture.display()
                );
                let text = std::fs::read_to_string(&fixture)
                    .with_context(|| format!("reading {}", fixture.display()))?;
                lz_policy::parse_plan(&text, &fixture.display().to_string())?
            }
        };
        // The file `cargo xtask plan --out` writes, read back as `policy --plan` reads it.
        let file = work.join(format!("{env}.json"));
        std::fs::write(&file, serde_json::to_string(&crate::plan::plan_document(&plan))?)
            .with_context(|| format!("writing {}", file.display()))?;
        let plan = lz_policy::read_plan(&file)?;
        plans.push((env, file, plan));
    }
    let resources: usize = plans
        .iter()
        .map(|(_, _, p)| {
            p.get("resource_changes")
                .and_then(|r| r.as_array())
                .map_or(0, Vec::len)
        })
        .sum();

    // lz-policy: load once (as the gate does), evaluate every plan on every core (as the gate
    // does); best of 5 rounds.
    let lz_policy::profile::Environments { policies, load: load_time, evaluate: best, findings } =
        lz_policy::profile::environments(root, &plans.iter().map(|(_, _, p)| p).collect::<Vec<_>>(), 5)?;
    println!(
        "environments: {} rules on {} plans ({resources} resource changes) in one process: load {:.1} ms + evaluate {:.1} ms = {:.1} ms ({findings} findings; no goal of its own, the gate's cost; {}; peak resident memory {})",
        policies.tree.rules.len(),
        plans.len(),
        ms(load_time),
        ms(best),
        ms(load_time + best),
        load(),
        mb(peak_rss())
    );

    let prod = plans.iter().find(|(env, _, _)| *env == "prod").context("no prod plan to scale")?;
    let (scaled, files) = lz_policy::scale::series(&policies, &prod.2, &work, &mut std::io::stdout())?;
    let memory = whole_process_memory(root, &files)?;

    // The stages of one `policy --plan` in-process: what the fixed cost is made of.
    let profile = lz_policy::profile::policy_plan(root, &prod.1)?;
    println!(
        "policy --plan prod in-process: {:.1} ms ({}; {} findings; no goal of its own, it is the fixed cost the checkov ratio judges; {}; peak resident memory {})",
        ms(profile.total()),
        profile.line(),
        profile.findings,
        load(),
        mb(peak_rss())
    );
    let ratio = match ensure_checkov(root) {
        Ok(checkov) => whole_process(root, &prod.1, &checkov)?,
        Err(e) => {
            println!("checkov: unavailable ({e:#}); no comparison (goal >= {GOAL_RATIO:.0}x: NOT measured)");
            None
        }
    };
    crate::measure::print_peak();
    let met = scaled && memory && ratio.is_some_and(|r| r >= GOAL_RATIO);
    Ok(if met { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `policy --plan FILE` (this binary) as one process on each plan of the scaling series: its
/// own peak resident memory (read at its exit, see `bench::measure`), and what the plan adds to
/// it, against the file's size. The goal is a peak below `GOAL_MEMORY` times the plan;
/// what is judged here is narrower, and said so in each line: the peak above the peak of the
/// smallest plan's run (the binary, the policies, the engine, and that 100-resource plan), which
/// must stay below `lz_policy::scale::GOAL_MEMORY` times the file's size from 1,000 resources
/// up. A peak that could not be read is "not measured" and fails the bench (exit 1), never 0.
fn whole_process_memory(root: &Path, files: &[PathBuf]) -> anyhow::Result<bool> {
    use crate::measure::{load, mb, measure};
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut fixed = None;
    let mut ok = true;
    for (file, n) in files.iter().zip(lz_policy::scale::SERIES) {
        let run = measure(duct::cmd(&exe, ["policy".into(), "--plan".into(), file.clone().into_os_string(), "--format".into(), "json".into()]).env("LZ_ROOT", root).dir(root))?;
        if !matches!(run.code, Some(0) | Some(1)) {
            bail!("policy --plan {} failed (exit {:?})", file.display(), run.code);
        }
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64;
        let (met, verdict) = memory_verdict(n, size, run.peak, &mut fixed);
        ok &= met;
        println!(
            "policy --plan as one process, {n} resources ({:.1} MB plan file): {:.0} ms, peak resident memory {}{verdict}; {})",
            size / 1e6,
            run.wall.as_secs_f64() * 1e3,
            mb(run.peak),
            load()
        );
    }
    Ok(ok)
}

/// The verdict on one run of [`whole_process_memory`]: whether it passes, and the rest of its
/// line. `fixed` is the peak of the smallest plan's run, set by the first run below 1,000
/// resources; a run whose peak, or whose baseline, was not read is not measured and fails.
fn memory_verdict(n: usize, size: f64, peak: Option<u64>, fixed: &mut Option<u64>) -> (bool, String) {
    let goal = lz_policy::scale::GOAL_MEMORY;
    let size = size.max(1.0);
    let Some(peak) = peak else {
        let judged = if n < 1000 { "no baseline for the larger plans".to_string() } else { format!("goal < {goal}x: NOT measured") };
        return (false, format!(" (the peak could not be read: {judged}"));
    };
    let whole = format!(" = {:.1}x the file", peak as f64 / size);
    if n < 1000 {
        fixed.get_or_insert(peak);
        return (true, format!("{whole} (the baseline: binary, policies, engine and this plan; no goal"));
    }
    let Some(base) = *fixed else {
        return (false, format!("{whole} (no baseline peak was read: goal < {goal}x: NOT measured"));
    };
    let added = peak.saturating_sub(base) as f64;
    let met = added / size < goal;
    (
        met,
        format!(
            "{whole}; above the 100-resource run's peak it adds {:.1} MB = {:.1}x the file (goal, judged on what the plan adds beyond that baseline, not on the whole peak: < {goal}x: {}",
            added / 1e6,
            added / size,
            if met { "met" } else { "NOT met" }
        ),
    )
}

#[cfg(test)]
mod memory_verdict_tests {
    use super::memory_verdict;

    /// Review of lane policymem, item 6: a peak that could not be read is never 0 and never
    /// "met": the run, and every larger plan judged against a missing baseline, is not measured.
    #[test]
    fn an_unread_peak_is_not_measured() {
        let mut fixed = None;
        let (ok, line) = memory_verdict(1000, 1e6, None, &mut fixed);
        assert!(!ok && line.contains("NOT measured") && !line.contains("met)"), "{line}");
        let (ok, line) = memory_verdict(100, 1e5, None, &mut fixed);
        assert!(!ok && fixed.is_none(), "{line}");
        let (ok, line) = memory_verdict(1000, 1e6, Some(30_000_000), &mut fixed);
        assert!(!ok && line.contains("NOT measured"), "{line}");
        let mut fixed = None;
        assert!(memory_verdict(100, 1e5, Some(20_000_000), &mut fixed).0);
        let (ok, line) = memory_verdict(1000, 1e6, Some(22_000_000), &mut fixed);
        assert!(ok && line.contains("adds 2.0 MB = 2.0x") && line.contains(": met"), "{line}");
        let (ok, line) = memory_verdict(5000, 1e6, Some(26_000_000), &mut fixed);
        assert!(!ok && line.contains("NOT met"), "{line}");
    }
}

/// `policy --plan prod.json` (this binary) and checkov on the same file, one process each,
/// in turn: the median of the pairs' ratios (robust to the machine's speed drifting).
fn whole_process(root: &Path, plan: &Path, checkov: &Path) -> anyhow::Result<Option<f64>> {
    use crate::measure::{load, mb, measure, median};
    let exe = std::env::current_exe().context("locating this binary")?;
    let ours = || {
        let mut args: Vec<std::ffi::OsString> = vec!["policy".into(), "--plan".into(), plan.into()];
        args.extend(["--format".into(), "json".into()]);
        duct::cmd(&exe, args).env("LZ_ROOT", root).dir(root)
    };
    let theirs = || {
        let mut args: Vec<std::ffi::OsString> =
            ["--quiet", "--compact", "--framework", "terraform_plan", "--output", "json", "--skip-download", "-f"].map(Into::into).to_vec();
        args.push(plan.into());
        duct::cmd(checkov, args).dir(root)
    };
    // Warm-up of each (page cache, checkov's first-run files), not counted.
    measure(ours())?;
    measure(theirs())?;
    let (mut a, mut b, mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut peak_a, mut peak_b) = (0u64, 0u64);
    for _ in 0..PAIRS {
        let x = measure(ours())?;
        // policy exits 1 on findings; anything else is a tool error.
        if !matches!(x.code, Some(0) | Some(1)) {
            bail!("policy --plan {} failed (exit {:?})", plan.display(), x.code);
        }
        let y = measure(theirs())?;
        if !matches!(y.code, Some(0) | Some(1)) {
            bail!("checkov failed on {} (exit {:?})", plan.display(), y.code);
        }
        a.push(x.wall.as_secs_f64());
        b.push(y.wall.as_secs_f64());
        ratios.push(y.wall.as_secs_f64() / x.wall.as_secs_f64());
        cpu_ratios.push(y.cpu.as_secs_f64() / x.cpu.as_secs_f64().max(1e-6));
        peak_a = peak_a.max(x.peak.unwrap_or(0));
        peak_b = peak_b.max(y.peak.unwrap_or(0));
    }
    let ratio = median(ratios.clone());
    // Each process's own peak (read at its exit, see `bench::measure`), against the plan file.
    let plan_bytes = std::fs::metadata(plan).map(|m| m.len()).unwrap_or(0);
    println!(
        "whole process on the prod plan ({:.2} MB), {PAIRS} pairs: policy --plan median {:.1} ms (peak resident memory {} = {:.1}x the plan), checkov {} median {:.1} ms (peak {}); the goal is on the ratio below; {}",
        plan_bytes as f64 / 1e6,
        median(a) * 1000.0,
        mb(Some(peak_a)),
        peak_a as f64 / (plan_bytes as f64).max(1.0),
        CHECKOV.trim_start_matches("checkov=="),
        median(b) * 1000.0,
        mb(Some(peak_b)),
        load()
    );
    let (lo, hi) = ratios.iter().fold((f64::MAX, 0.0f64), |(l, h), r| (l.min(*r), h.max(*r)));
    println!(
        "ratio: lz-policy is {ratio:.1}x faster than checkov by wall time (median of pairs, min {lo:.1}x, max {hi:.1}x; by CPU time {:.1}x; goal >= {GOAL_RATIO:.0}x by wall time: {}; {}; peak resident memory {} against {})",
        median(cpu_ratios),
        if ratio >= GOAL_RATIO { "met" } else { "NOT met" },
        load(),
        mb(Some(peak_a)),
        mb(Some(peak_b))
    );
    Ok(Some(ratio))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The checkov release the ratio and the accepted scanner findings refer to.
pub const CHECKOV: &str = "checkov==3.3.30";

/// checkov from `.tools/checkov-venv`, created with the system python3 when missing.
fn ensure_checkov(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join(".tools/checkov-venv");
    let bin = venv.join("bin/checkov");
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!(
        "installing checkov into {} (first run only)",
        venv.display()
    );
    let sh = crate::sh::at(root)?;
    xshell::cmd!(sh, "python3 -m venv {venv}")
        .run()
        .with_context(|| format!("python3 -m venv {} failed", venv.display()))?;
    let pip = venv.join("bin/pip");
    xshell::cmd!(sh, "{pip} install --progress-bar on {CHECKOV}").run().context("pip install checkov failed")?;
    Ok(bin)
}
