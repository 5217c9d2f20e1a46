//! Per-rule evaluation time on a large copy of a plan: `rule_times REPO_ROOT PLAN RESOURCES`.
use std::path::PathBuf;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let root = args.next().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let plan = args.next().map(PathBuf::from).unwrap_or_else(|| root.join("crates/policy/tests/data/plans/prod.json"));
    let n: usize = args.next().and_then(|s| s.to_str()?.parse().ok()).unwrap_or(1000);
    let policies = lz_policy::Policies::load(&root.join("policies"), &root.join("governance/policy.toml"))?;
    let template = lz_policy::read_plan(&plan)?;
    let big = lz_policy::scale::replicate(&template, lz_policy::scale::copies_for(&template, n));
    for (p, d) in lz_policy::profile::rules(&policies, &big)? {
        println!("{:8.1} ms  {p}", d.as_secs_f64() * 1e3);
    }
    Ok(())
}
