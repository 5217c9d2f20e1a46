//! Where one `policy --plan FILE` process spends its time, stage by stage, in-process: the
//! fixed cost (loading and preparing the policies, the registers) against the plan's own cost
//! (reading, evaluating, reporting). `cargo xtask bench policy` prints it beside the
//! whole-process comparison with checkov.
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::{Options, Policies, Stages};

/// The stages of one evaluation as `policy --plan` runs it, in order.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub stages: Vec<(&'static str, Duration)>,
    pub findings: usize,
}

impl Profile {
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(_, d)| *d).sum()
    }

    /// `load 4.1 ms, read plan 0.3 ms, ...`
    pub fn line(&self) -> String {
        self.stages
            .iter()
            .map(|(name, d)| format!("{name} {:.1} ms", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs `policy --plan plan` in-process (the repository defaults under `root`), timing each stage.
pub fn policy_plan(root: &Path, plan: &Path) -> Result<Profile> {
    let mut p = Profile::default();
    let lap = |p: &mut Profile, name: &'static str, t: &mut Instant| {
        p.stages.push((name, t.elapsed()));
        *t = Instant::now();
    };
    let opts = Options::for_root(root);
    let policies = Policies::load_staged(&opts.policies, &opts.settings, &mut p.stages)?;
    let mut t = Instant::now();
    // Read, checked and redacted straight into the engine's value, as `policy --plan` reads it.
    let plan = crate::engine_plan::read(plan, policies.held())?;
    let environment = plan.environment().to_string();
    lap(&mut p, "read plan", &mut t);
    let mut stages = Stages::default();
    let findings = policies.findings_engine(plan, &mut stages)?;
    let took = t.elapsed();
    p.stages.push(("input", stages.input));
    p.stages.push(("evaluate", stages.evaluate));
    p.stages.push(("output", took.saturating_sub(stages.input + stages.evaluate)));
    t = Instant::now();
    let report = crate::finish(&policies, findings, &environment, &opts)?;
    lap(&mut p, "exceptions", &mut t);
    let text = serde_json::to_string_pretty(&report.to_json())?;
    lap(&mut p, "report", &mut t);
    p.findings = report.findings.len();
    drop(text);
    Ok(p)
}

/// The gate's policy cost on the environments' plans: the policies loaded once under `root`,
/// then every plan evaluated on every core (as the gate does), best of `rounds`.
pub struct Environments {
    pub policies: Policies,
    pub load: Duration,
    /// The best round's evaluation of every plan.
    pub evaluate: Duration,
    pub findings: usize,
}

/// Measures [`Environments`] on `plans` (`cargo xtask bench policy`).
pub fn environments(root: &Path, plans: &[&serde_json::Value], rounds: usize) -> Result<Environments> {
    let opts = Options::for_root(root);
    let load_start = Instant::now();
    let policies = Policies::load(&opts.policies, &opts.settings)?;
    let load = load_start.elapsed();
    let mut evaluate = Duration::MAX;
    let mut findings = 0;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let each = policies.findings_each(plans)?;
        findings = each.iter().map(Vec::len).sum();
        evaluate = evaluate.min(start.elapsed());
    }
    Ok(Environments { policies, load, evaluate, findings })
}

/// The evaluation CPU time of each rule package alone on `plan` (each query also evaluates the
/// library indexes the rule reads; `data.lz.lib` alone comes first), slowest first.
pub fn rules(policies: &Policies, plan: &serde_json::Value) -> Result<Vec<(String, Duration)>> {
    let input = crate::redact::engine_input(plan);
    let mut out = Vec::new();
    let mut packages = vec!["lz.lib.resources".to_string(), "lz.lib".to_string()];
    packages.extend(policies.tree.rules.iter().map(|r| r.package.clone()));
    for package in packages {
        let mut engine = policies.engine.clone();
        engine.set_input(input.clone());
        let t = crate::scale::thread_cpu();
        engine.eval_query(format!("data.{package}"), false).map_err(|e| anyhow::anyhow!("{package}: {e}"))?;
        out.push((package, crate::scale::thread_cpu().saturating_sub(t)));
    }
    out.sort_by(|a, b| b.1.cmp(&a.1));
    Ok(out)
}

/// mimalloc reserves a 1 GiB arena and asks the kernel for transparent huge pages over it, so
/// every first touch of 2 MiB zeroes all of it (and may wait for the kernel to compact memory):
/// a third of the peak memory of `policy --plan` on the prod plan (39 MB against 25 MB), and in
/// some runs most of its CPU time (issue 29). The `policy` command (and only it: it starts no
/// other program) asks for ordinary pages, and so does the `bench_policy` example, so its
/// figures are comparable. The flag is inherited by children across fork and
/// exec, so it is not set in commands that run terraform, checkov, cargo or LocalStack, whose
/// own figures (`bench render`, `bench policy`'s checkov) must stay those of a plain run. The
/// flag is read at each page fault, so it holds for the arena already reserved before `main`.
/// A kernel that refuses it (before Linux 3.15) is named on stderr; the command still runs.
pub fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes no memory of ours.
    let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if r != 0 {
        eprintln!("note: the kernel refused PR_SET_THP_DISABLE ({}): memory figures include huge pages", std::io::Error::last_os_error());
    }
}
