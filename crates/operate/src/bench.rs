//! `cargo xtask bench promotion`: lead time of a standard-tier change from dev to prod against
//! LocalStack with no human wait, and of a high-tier change that waits for signed approvals.
//! Every decision reads the server clock; the sandbox's change windows are open all week so
//! the figures do not depend on the hour the benchmark runs.

use std::path::Path;
use std::time::Instant;

use anyhow::{ensure, Context, Result};

use crate::clock::Clock;
use crate::sandbox::Sandbox;
use crate::tier::Tier;

/// Changes the CostCentre tag default of the root module: a tags-only (standard) change.
pub fn retag(tree: &Path, cost_centre: &str) -> Result<()> {
    let p = tree.join("environments/variables.tf");
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    let changed = text.replace("\"CC-4410\"", &format!("\"{cost_centre}\""));
    ensure!(
        changed != text,
        "{}: no CostCentre default to change",
        p.display()
    );
    std::fs::write(&p, changed).with_context(|| format!("cannot write {}", p.display()))
}

/// Runs the benchmark.
pub fn run(root: &Path, endpoint: &str) -> Result<String> {
    let dir = root
        .join(".tools/bench/promotion")
        .join(format!("{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sb = Sandbox::new(root, endpoint, &dir)?;
    std::fs::write(
        sb.tree.join("governance/change-windows.toml"),
        "timezone = \"Europe/London\"\n",
    )?;
    let dev = sb.target("dev")?;
    let clock = Clock::server(endpoint, &dev.account_id, &dev.region);
    let envs = lz_platform::ENVIRONMENTS;
    let mut out = String::new();

    let t0 = Instant::now();
    let base = sb.release("bench-base", "alice", &clock, |_| Ok(()))?;
    sb.approve_exceptions(&base, &clock)?;
    for env in envs {
        sb.bootstrap(env, &base)?;
        sb.pin(env, &base, &clock)?;
    }
    out.push_str(&format!(
        "release, render + bootstrap of 5 environments: {:.1}s\n",
        t0.elapsed().as_secs_f64()
    ));

    // The initial landing zone is a high-tier change: it waits for two approvals per environment.
    let t1 = Instant::now();
    let mut waited = 0;
    for env in envs {
        let refused = sb.promote(&base, env, "deployer-bot", &clock, 0);
        ensure!(
            refused.is_err(),
            "a high-tier change to {env} went through without approvals"
        );
        waited += 1;
        let second = if env == "prod" { "carol" } else { "erin" };
        sb.approve("bob", &base, env, &clock)?;
        sb.approve(second, &base, env, &clock)?;
        let o = sb.promote(&base, env, "deployer-bot", &clock, 0)?;
        ensure!(
            o.admission.tier == Tier::High,
            "expected the high tier, got {}",
            o.admission.tier
        );
        let d = sb.drift(env, &clock)?;
        ensure!(!d.drifted(), "{env} drifted: {:?}", d.findings);
    }
    let high = t1.elapsed().as_secs_f64();
    out.push_str(&format!("high-tier change dev -> prod (stopped {waited} times until two signed approvals existed): {high:.1}s\n"));

    // A tags-only change: standard tier, auto-approved by policy, no human wait.
    let next = sb.release("bench-tags", "alice", &clock, |t| retag(t, "CC-4411"))?;
    let t2 = Instant::now();
    for env in envs {
        let o = sb.promote(&next, env, "deployer-bot", &clock, 0)?;
        ensure!(
            o.admission.tier == Tier::Standard,
            "expected the standard tier, got {}",
            o.admission.tier
        );
        let d = sb.drift(env, &clock)?;
        ensure!(!d.drifted(), "{env} drifted: {:?}", d.findings);
    }
    let standard = t2.elapsed().as_secs_f64();
    out.push_str(&format!("standard-tier change dev -> prod, no human wait: {standard:.1}s ({:.1}s per environment incl. drift check)\n", standard / 5.0));
    let verified = sb.ledger()?.records()?.len();
    out.push_str(&format!(
        "evidence: {verified} signed records, chain verified\n"
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
