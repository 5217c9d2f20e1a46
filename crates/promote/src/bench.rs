//! `cargo xtask bench promotion`: lead time of a standard-tier change from dev to prod against
//! LocalStack with no human wait, and of a high-tier change that waits for signed approvals.

use std::path::Path;
use std::time::Instant;

use anyhow::{ensure, Result};
use serde_json::Value;

use crate::sandbox::{fake_release, Sandbox};
use crate::tier::Tier;

/// Adds `tags.Release` to every resource that carries tags: a tags-only (standard) change.
pub fn retag(plan: &Value, value: &str) -> Value {
    let mut p = plan.clone();
    if let Some(rcs) = p.get_mut("resource_changes").and_then(Value::as_array_mut) {
        for rc in rcs {
            if let Some(tags) = rc
                .pointer_mut("/change/after/tags")
                .and_then(Value::as_object_mut)
            {
                tags.insert("Release".into(), Value::from(value));
            }
        }
    }
    p
}

/// Runs the benchmark; `render(env)` gives an environment's plan.
pub fn run(root: &Path, endpoint: &str, render: &dyn Fn(&str) -> Result<Value>) -> Result<String> {
    let dir = root
        .join(".tools/bench/promotion")
        .join(format!("{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sb = Sandbox::new(root, endpoint, &dir)?;
    // The gates' clock: now, or the next time prod's window is open for a high-tier change.
    let now = match sb.gov.windows.check("prod", true, crate::window::now()?) {
        Ok(()) => crate::window::now()?,
        Err(r) => r.next_open.unwrap_or(crate::window::now()?),
    };
    let envs = lz_platform::ENVIRONMENTS;
    let mut out = String::new();

    let t0 = Instant::now();
    let mut plans = Vec::new();
    for env in envs {
        let plan = render(env)?;
        sb.bootstrap(env, &plan)?;
        plans.push(plan);
    }
    out.push_str(&format!(
        "render + bootstrap of 5 environments: {:.1}s\n",
        t0.elapsed().as_secs_f64()
    ));

    // The initial landing zone is a high-tier change: it waits for two approvals per environment.
    let base = fake_release("bench-base");
    let t1 = Instant::now();
    let mut waited = 0;
    for (i, env) in envs.iter().enumerate() {
        sb.record_policy_pass(&base, env, &plans[i])?;
        let refused = sb.promote(
            &base,
            env,
            &plans[i],
            None,
            Some("alice"),
            "deployer-bot",
            now,
            0,
        );
        ensure!(
            refused.is_err(),
            "a high-tier change to {env} went through without approvals"
        );
        waited += 1;
        let (a, b) = if *env == "prod" {
            ("bob", "carol")
        } else {
            ("bob", "erin")
        };
        sb.approve(a, &base, Some("alice"), env, &plans[i], Tier::High, now)?;
        sb.approve(b, &base, Some("alice"), env, &plans[i], Tier::High, now)?;
        let o = sb.promote(
            &base,
            env,
            &plans[i],
            None,
            Some("alice"),
            "deployer-bot",
            now,
            0,
        )?;
        ensure!(
            o.admission.tier == Tier::High,
            "expected the high tier, got {}",
            o.admission.tier
        );
        let spec = sb.spec(env, &plans[i])?;
        let d = sb.drift(env, &spec)?;
        ensure!(!d.drifted(), "{env} drifted: {:?}", d.findings);
    }
    let high = t1.elapsed().as_secs_f64();
    out.push_str(&format!("high-tier change dev -> prod (stopped {waited} times until two signed approvals existed): {high:.1}s\n"));

    // A tags-only change: standard tier, auto-approved by policy, no human wait.
    let next = fake_release("bench-tags");
    let t2 = Instant::now();
    for (i, env) in envs.iter().enumerate() {
        let plan = retag(&plans[i], &next[..12]);
        sb.record_policy_pass(&next, env, &plan)?;
        let o = sb.promote(
            &next,
            env,
            &plan,
            Some(&plans[i]),
            Some("alice"),
            "deployer-bot",
            now,
            0,
        )?;
        ensure!(
            o.admission.tier == Tier::Standard,
            "expected the standard tier, got {}",
            o.admission.tier
        );
        let spec = sb.spec(env, &plan)?;
        let d = sb.drift(env, &spec)?;
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
