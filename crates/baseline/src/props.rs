//! The property runner: each property renders generated overlays with the offline renderer
//! and checks one family of invariants. Used by the tests (256 cases each, shrinking on,
//! regressions persisted under `crates/baseline/proptest-regressions/`) and by
//! `cargo xtask bench properties`.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use serde_json::Value;

use crate::checks::{self, Violation};
use crate::overlay::{self, Overlay};
use crate::view::view;

pub const REGRESSIONS_DIR: &str = "crates/baseline/proptest-regressions";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// Every valid overlay renders, and every control holds its required value.
    Renders,
    /// Every overlay with one variable outside its domain is rejected by that variable's
    /// validation.
    Rejects,
    /// A valid overlay's plan differs from each repository environment's only where a
    /// differing allow-listed variable explains.
    Invariance,
    /// Of two environments in promotion order, the later has every resource type and control
    /// the earlier has, and no retention setting decreases.
    Superset,
    /// Subnets inside the VPC without overlap; internet routes only in the ingress tier.
    Network,
    /// No internet ingress outside the ingress tier's 443, mandatory tags, unique names.
    Services,
    /// The same overlay renders byte-identical JSON.
    Determinism,
}

impl Property {
    pub const ALL: [Property; 7] = [
        Property::Renders,
        Property::Rejects,
        Property::Invariance,
        Property::Superset,
        Property::Network,
        Property::Services,
        Property::Determinism,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Property::Renders => "renders",
            Property::Rejects => "rejects",
            Property::Invariance => "invariance",
            Property::Superset => "superset",
            Property::Network => "network",
            Property::Services => "services",
            Property::Determinism => "determinism",
        }
    }

    /// Renders per generated case.
    pub fn renders_per_case(self) -> u32 {
        match self {
            Property::Superset | Property::Determinism => 2,
            _ => 1,
        }
    }
}

pub struct RunConfig {
    pub cases: u32,
    /// Regression file to load and save failing seeds (`None`: no persistence).
    pub regressions: Option<PathBuf>,
}

impl RunConfig {
    /// `cases` cases, regressions in the crate's `proptest-regressions/<property>.txt`.
    pub fn persisted(root: &Path, property: Property, cases: u32) -> RunConfig {
        RunConfig {
            cases,
            regressions: Some(root.join(REGRESSIONS_DIR).join(format!("{}.txt", property.name()))),
        }
    }
}

/// The variables `environments/overlay-allowlist.toml` allows.
pub fn allowlisted(root: &Path) -> Result<BTreeSet<String>> {
    let doc: toml::Table = lz_repo::read_toml(&root.join(lz_repo::paths::OVERLAY_ALLOWLIST))?;
    Ok(doc
        .get("variables")
        .and_then(|v| v.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default())
}

fn fail_with(case: &str, violations: &[Violation]) -> TestCaseError {
    let shown: Vec<String> = violations.iter().take(8).map(|v| format!("  {v}")).collect();
    let more = if violations.len() > 8 {
        format!("\n  and {} more", violations.len() - 8)
    } else {
        String::new()
    };
    TestCaseError::fail(format!(
        "{case}: {} violation(s):\n{}{more}",
        violations.len(),
        shown.join("\n")
    ))
}

fn case_name(o: &Overlay) -> String {
    format!("environment {} (generated overlay)", o.environment)
}

/// Whether a validation error names `var`: in its message (`var.NAME`), or by pointing at the
/// line that declares `variable "NAME"`.
pub fn names_variable(e: &tfrender::RenderError, var: &str) -> bool {
    let name = format!("var.{var}");
    if e.subject.as_deref() == Some(name.as_str()) || e.message.contains(&name) {
        return true;
    }
    let Some(file) = &e.file else { return false };
    let Ok(text) = std::fs::read_to_string(file) else {
        return false;
    };
    let decl = format!("variable \"{var}\"");
    text.lines()
        .nth(e.line.saturating_sub(1))
        .is_some_and(|l| l.trim_start().starts_with(&decl))
}

fn render_ok(root: &Path, prepared: &tfrender::Prepared, o: &Overlay) -> Result<Value, TestCaseError> {
    match o.render_with(root, prepared) {
        Ok(Ok(plan)) => Ok(plan),
        Ok(Err(e)) => Err(TestCaseError::fail(format!(
            "{} does not render: {e}\ntfvars:\n{}",
            case_name(o),
            o.to_tfvars()
        ))),
        Err(e) => Err(TestCaseError::fail(format!("{}: {e:#}", case_name(o)))),
    }
}

/// `environments/` under `root`, parsed and resolved once for every case of a run.
pub fn prepare(root: &Path) -> Result<tfrender::Prepared> {
    let dir = root.join("environments");
    tfrender::Prepared::load(&dir)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("loading {}", dir.display()))
}

/// Run one property; `Ok(cases)` when it holds, `Err(message)` naming the minimal failing
/// case, the environment and the attribute paths. The configuration is parsed once; each
/// case renders only its overlay.
pub fn run(root: &Path, property: Property, cfg: &RunConfig) -> Result<u32, String> {
    let allow = allowlisted(root).map_err(|e| format!("{e:#}"))?;
    let rules = checks::Rules::load(root).map_err(|e| format!("{e:#}"))?;
    let rules = &rules;
    let prepared = prepare(root).map_err(|e| format!("{e:#}"))?;
    let prepared = &prepared;
    // Every shrink step renders the whole root module; bound the search, keep shrinking on.
    let mut config = Config {
        cases: cfg.cases,
        max_shrink_iters: 2048,
        ..Config::default()
    };
    config.failure_persistence = match &cfg.regressions {
        Some(p) => {
            // The runner keeps the path for its whole life; one leak per run.
            let leaked: &'static str = Box::leak(p.display().to_string().into_boxed_str());
            Some(Box::new(FileFailurePersistence::Direct(leaked)))
        }
        None => None,
    };
    let mut runner = TestRunner::new(config);
    match property {
        Property::Renders => finish(
            property,
            cfg.cases,
            runner.run(&overlay::valid_overlay(), |o| {
                let plan = render_ok(root, prepared, &o)?;
                let p = view(&plan);
                let mut vs = checks::controls(rules, &p);
                vs.extend(checks::env_floors(rules, &p, &o.environment));
                if vs.is_empty() {
                    Ok(())
                } else {
                    Err(fail_with(&case_name(&o), &vs))
                }
            }),
        ),
        Property::Rejects => finish(
            property,
            cfg.cases,
            runner.run(&overlay::invalid_overlay(), |(o, var)| match o.render_with(root, prepared) {
                Ok(Ok(_)) => Err(TestCaseError::fail(format!(
                    "{}: var.{var} = {} is outside the domain but rendered",
                    case_name(&o),
                    o.raw.get(var).cloned().unwrap_or_default()
                ))),
                Ok(Err(e)) => {
                    let msg = e.to_string();
                    // Terraform reports every error: the variable's own validation must be one of
                    // them (an invalid root variable is unknown downstream, which may fail more).
                    if e.all().any(|e| e.kind == tfrender::ErrorKind::Variable && names_variable(e, var)) {
                        Ok(())
                    } else {
                        Err(TestCaseError::fail(format!(
                            "{}: var.{var} = {} was rejected, but not by a validation naming var.{var}: {msg}",
                            case_name(&o),
                            o.raw.get(var).cloned().unwrap_or_default()
                        )))
                    }
                }
                Err(e) => Err(TestCaseError::fail(format!("{e:#}"))),
            }),
        ),
        Property::Invariance => {
            let real = real_environments(root, prepared).map_err(|e| format!("{e:#}"))?;
            if real.is_empty() {
                return Err("no environments under environments/ to compare with".into());
            }
            let strat = (overlay::valid_overlay(), 0..real.len());
            finish(
                property,
                cfg.cases,
                runner.run(&strat, |(a, k)| {
                    let pa = render_ok(root, prepared, &a)?;
                    let va = view(&pa);
                    let (env_b, vb, pb) = &real[k];
                    let mut vs = checks::controls(rules, &va);
                    vs.extend(checks::explained((&va, &pa), (vb, pb), &allow));
                    if vs.is_empty() {
                        Ok(())
                    } else {
                        Err(fail_with(
                            &format!(
                                "environment {} (generated overlay) against environment {env_b}",
                                a.environment
                            ),
                            &vs,
                        ))
                    }
                }),
            )
        }
        Property::Superset => finish(
            property,
            cfg.cases,
            runner.run(&overlay::promotion_pair(), |(lo, hi)| {
                let (vl, vh) = (view(&render_ok(root, prepared, &lo)?), view(&render_ok(root, prepared, &hi)?));
                let mut vs = checks::superset(rules, &vl, &vh);
                vs.extend(checks::non_decreasing(&[
                    (lo.environment.as_str(), &vl),
                    (hi.environment.as_str(), &vh),
                ]));
                if vs.is_empty() {
                    Ok(())
                } else {
                    Err(fail_with(
                        &format!(
                            "environments {} -> {} (generated overlays)",
                            lo.environment, hi.environment
                        ),
                        &vs,
                    ))
                }
            }),
        ),
        Property::Network => finish(
            property,
            cfg.cases,
            runner.run(&overlay::valid_overlay(), |o| {
                let plan = render_ok(root, prepared, &o)?;
                let vs = checks::network(&view(&plan), &plan);
                if vs.is_empty() {
                    Ok(())
                } else {
                    Err(fail_with(&case_name(&o), &vs))
                }
            }),
        ),
        Property::Services => {
            let strat = overlay::valid_overlay()
                .prop_flat_map(|o| (proptest::strategy::Just(o), overlay::services(6)))
                .prop_map(|(mut o, s)| {
                    o.services = s;
                    o
                });
            finish(
                property,
                cfg.cases,
                runner.run(&strat, |o| {
                    let plan = render_ok(root, prepared, &o)?;
                    let p = view(&plan);
                    let mut vs = checks::services(rules, &p);
                    vs.extend(checks::tags(rules, &p, &o.environment));
                    if vs.is_empty() {
                        Ok(())
                    } else {
                        Err(fail_with(&case_name(&o), &vs))
                    }
                }),
            )
        }
        Property::Determinism => finish(
            property,
            cfg.cases,
            runner.run(&overlay::valid_overlay(), |o| {
                let a = serde_json::to_string(&render_ok(root, prepared, &o)?).unwrap_or_default();
                let b = serde_json::to_string(&render_ok(root, prepared, &o)?).unwrap_or_default();
                if a == b {
                    return Ok(());
                }
                let at = a
                    .bytes()
                    .zip(b.bytes())
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                let from = at.saturating_sub(80);
                Err(TestCaseError::fail(format!(
                    "{}: two renders differ at byte {at}: ...{}... vs ...{}...",
                    case_name(&o),
                    a.get(from..(at + 80).min(a.len())).unwrap_or(""),
                    b.get(from..(at + 80).min(b.len())).unwrap_or("")
                )))
            }),
        ),
    }
}

fn finish<T: std::fmt::Debug>(property: Property, cases: u32, r: Result<(), TestError<T>>) -> Result<u32, String> {
    match r {
        Ok(()) => Ok(cases),
        Err(TestError::Fail(reason, input)) => Err(format!(
            "property {} failed: {reason}\nminimal failing input: {input:#?}",
            property.name()
        )),
        Err(TestError::Abort(reason)) => Err(format!("property {} aborted: {reason}", property.name())),
    }
}

/// The repository's environments rendered: (name, view, raw plan).
fn real_environments(root: &Path, prepared: &tfrender::Prepared) -> Result<Vec<(String, crate::PlanView, Value)>> {
    let mut out = Vec::new();
    for env in crate::snapshot::environments(root)? {
        let raw = crate::snapshot::render_env_prepared(prepared, root, &env)?;
        out.push((env, view(&raw), raw));
    }
    Ok(out)
}

/// The invariants over the repository's own environments: each renders and holds every
/// single-plan invariant; every two differ only where the allow-list explains; the VPC CIDRs do
/// not overlap; prod is a superset of dev and retention never decreases in promotion order.
/// Each message names the environment(s), the address and the attribute path.
pub fn check_environments(root: &Path) -> Result<Vec<String>> {
    let allow = allowlisted(root)?;
    let rules = checks::Rules::load(root)?;
    let envs = crate::snapshot::environments(root)?;
    let cache = tfrender::RenderCache::new();
    let mut plans = Vec::new();
    let mut out = Vec::new();
    for env in &envs {
        let raw = crate::snapshot::render_env_cached(&cache, root, env)?;
        for v in checks::single(&rules, env, &raw) {
            out.push(format!("environment {env}: {v}"));
        }
        plans.push((env.clone(), view(&raw), raw));
    }
    for (i, (ea, va, ra)) in plans.iter().enumerate() {
        for (eb, vb, rb) in &plans[i + 1..] {
            for v in checks::explained((va, ra), (vb, rb), &allow) {
                out.push(format!("environments {ea} and {eb}: {v}"));
            }
        }
    }
    let cidrs: Vec<(String, (u32, u32))> = plans
        .iter()
        .flat_map(|(e, p, _)| {
            p.of_type("aws_vpc")
                .filter_map(|b| {
                    b.get("cidr_block")
                        .and_then(crate::Leaf::as_str)
                        .and_then(checks::parse_cidr)
                })
                .map(|c| (e.clone(), c))
                .collect::<Vec<_>>()
        })
        .collect();
    for (i, (ea, ca)) in cidrs.iter().enumerate() {
        for (eb, cb) in &cidrs[i + 1..] {
            if checks::cidrs_overlap(*ca, *cb) {
                out.push(format!(
                    "environments {ea} and {eb}: aws_vpc cidr_block: the VPC CIDRs overlap"
                ));
            }
        }
    }
    let chain: Vec<(&str, &crate::PlanView)> = crate::PROMOTION_ORDER
        .iter()
        .filter_map(|e| plans.iter().find(|(n, _, _)| n == e).map(|(n, p, _)| (n.as_str(), p)))
        .collect();
    if let (Some(first), Some(last)) = (chain.first(), chain.last()) {
        for v in checks::superset(&rules, first.1, last.1) {
            out.push(format!("environments {} and {}: {v}", first.0, last.0));
        }
    }
    for v in checks::non_decreasing(&chain) {
        out.push(format!("promotion order: {v}"));
    }
    Ok(out)
}

/// The prepared path against a fresh load: every environment and `cases` generated overlays
/// (valid ones, and invalid ones that must fail with the same error) rendered both ways must
/// give byte-identical JSON or the same error. `Ok(renders compared)` or the first difference.
pub fn prepared_matches_fresh(root: &Path, cases: u32) -> Result<u32, String> {
    let prepared = prepare(root).map_err(|e| format!("{e:#}"))?;
    let mut compared = 0u32;
    let same = |what: &str, fresh: &Result<Value, tfrender::RenderError>, prep: &Result<Value, tfrender::RenderError>| -> Result<(), String> {
        let show = |r: &Result<Value, tfrender::RenderError>| match r {
            Ok(v) => serde_json::to_string(v).unwrap_or_default(),
            Err(e) => format!("error: {e} ({:?})", e.kind),
        };
        let (a, b) = (show(fresh), show(prep));
        if a == b {
            return Ok(());
        }
        let at = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        let from = at.saturating_sub(80);
        Err(format!(
            "{what}: the prepared render differs from a fresh one at byte {at}: ...{}... vs ...{}...",
            a.get(from..(at + 80).min(a.len())).unwrap_or(""),
            b.get(from..(at + 80).min(b.len())).unwrap_or("")
        ))
    };
    for env in crate::snapshot::environments(root).map_err(|e| format!("{e:#}"))? {
        let var_file = root.join("environments").join(&env).join("terraform.tfvars");
        let opts = lz_schema::render_options(root, vec![var_file]).map_err(|e| format!("{e:#}"))?;
        let fresh = tfrender::render_dir(&root.join("environments"), &opts);
        same(&format!("environment {env}"), &fresh, &prepared.render(&opts))?;
        compared += 1;
    }
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let count = std::cell::Cell::new(0u32);
    let check = |o: &Overlay| -> Result<(), TestCaseError> {
        // One variable file for both renders: errors name it.
        let (fresh, prep) = o
            .render_both(root, &prepared)
            .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
        count.set(count.get() + 1);
        same(&case_name(o), &fresh, &prep).map_err(TestCaseError::fail)
    };
    let r = TestRunner::new(config.clone()).run(&overlay::valid_overlay(), |o| check(&o));
    finish(Property::Renders, cases, r)?;
    let r = TestRunner::new(config).run(&overlay::invalid_overlay(), |(o, _)| check(&o));
    finish(Property::Rejects, cases, r)?;
    Ok(compared + count.get())
}

/// The machine's load average (1, 5, 15 minutes) from `/proc/loadavg`, printed beside each
/// figure: on a shared machine a figure means little without it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unavailable".into())
}

/// Goal of the property benchmark: this many generated overlays rendered and checked ...
pub const BENCH_CASES: u32 = 1000;
/// ... in under this many seconds (release build).
pub const BENCH_GOAL_SECS: f64 = 5.0;

/// Generated overlays rendered and checked per second: 1,000 overlays through every
/// single-plan invariant from one prepared configuration (goal: under 5 s), then each property
/// at 256 cases. Returns whether the goal was met and every property held.
pub fn bench(root: &Path, out: &mut dyn std::io::Write) -> Result<bool> {
    use std::time::Instant;
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    let n = BENCH_CASES;
    let threads = std::thread::available_parallelism()
        .map(|x| x.get())
        .unwrap_or(1)
        .clamp(1, 8) as u32;
    writeln!(out, "load average before: {}", load_average())?;
    let t = Instant::now();
    // Parsed and resolved once, shared by every thread; each case renders only its overlay.
    let prepared = prepare(root)?;
    let rules = checks::Rules::load(root)?;
    let rules = &rules;
    let load_s = t.elapsed().as_secs_f64();
    let prepared = &prepared;
    // One runner per core, each with its share of the cases.
    let results: Vec<(Result<u32, String>, f64, f64, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let share = n / threads + u32::from(i < n % threads);
                scope.spawn(move || {
                    let cpu_start = thread_cpu_secs();
                    let (render_s, check_s) = (std::cell::Cell::new(0.0f64), std::cell::Cell::new(0.0f64));
                    let mut runner = TestRunner::new(Config {
                        cases: share,
                        failure_persistence: None,
                        ..Config::default()
                    });
                    let r = runner.run(&overlay::valid_overlay(), |o| {
                        let t0 = Instant::now();
                        let plan = render_ok(root, prepared, &o)?;
                        let t1 = Instant::now();
                        let vs = checks::single(rules, &o.environment, &plan);
                        render_s.set(render_s.get() + (t1 - t0).as_secs_f64());
                        check_s.set(check_s.get() + t1.elapsed().as_secs_f64());
                        if vs.is_empty() {
                            Ok(())
                        } else {
                            Err(fail_with(&case_name(&o), &vs))
                        }
                    });
                    (finish(Property::Renders, share, r), render_s.get(), check_s.get(), thread_cpu_secs() - cpu_start)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (Err("benchmark thread panicked".into()), 0.0, 0.0, 0.0))
            })
            .collect()
    });
    let secs = t.elapsed().as_secs_f64();
    let mut ok = true;
    let (mut render_time, mut check_time, mut cpu) = (0.0, 0.0, 0.0);
    for (r, rs, cs, c) in results {
        render_time += rs;
        check_time += cs;
        cpu += c;
        if let Err(e) = r {
            writeln!(out, "{e}")?;
            ok = false;
        }
    }
    let met = ok && secs < BENCH_GOAL_SECS;
    writeln!(
        out,
        "properties ({build} build, {threads} threads): {n} generated overlays rendered and checked in {secs:.2} s = {:.0} cases/s (goal: {n} in < {BENCH_GOAL_SECS} s: {}; load average {})",
        f64::from(n) / secs,
        if met { "met" } else { "NOT met" },
        load_average()
    )?;
    // On a shared machine the wall time follows the load; the threads' CPU time does not. Spread
    // over the threads it is what the run takes on as many idle cores.
    writeln!(
        out,
        "  CPU time of the {threads} threads: {cpu:.2} s = {:.2} s on {threads} idle cores ({:.2} ms per case)",
        cpu / f64::from(threads),
        cpu * 1000.0 / f64::from(n)
    )?;
    writeln!(
        out,
        "  configuration parsed and resolved once in {:.1} ms; per case and thread: render {:.2} ms, checks {:.2} ms, the rest is generation",
        load_s * 1000.0,
        render_time * 1000.0 / f64::from(n),
        check_time * 1000.0 / f64::from(n)
    )?;
    writeln!(out, "  peak resident memory after the {n} overlays: {}", peak_memory())?;
    writeln!(out, "each property alone, one thread:")?;
    for p in Property::ALL {
        let cases = 256;
        let t = Instant::now();
        let r = run(
            root,
            p,
            &RunConfig {
                cases,
                regressions: None,
            },
        );
        let secs = t.elapsed().as_secs_f64();
        match r {
            Ok(_) => writeln!(
                out,
                "  {:<12} {cases} cases in {secs:6.2} s = {:7.0} cases/s ({} renders per case; load average {})",
                p.name(),
                f64::from(cases) / secs,
                p.renders_per_case(),
                load_average()
            )?,
            Err(e) => {
                ok = false;
                writeln!(out, "  {:<12} FAILED: {e}", p.name())?;
            }
        }
    }
    writeln!(out, "peak resident memory of the benchmark: {}", peak_memory())?;
    Ok(met && ok)
}

/// CPU time of the calling thread in seconds (`/proc/thread-self/schedstat`), zero when
/// unavailable.
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// Peak resident memory of this process so far (`VmHWM` of `/proc/self/status`), or
/// "unavailable".
pub fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l["VmHWM:".len()..].trim().to_string()))
        .unwrap_or_else(|| "unavailable".into())
}
