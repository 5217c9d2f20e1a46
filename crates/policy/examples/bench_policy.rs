//! The scaling series of `cargo xtask bench policy` alone, in a binary without the AWS SDK
//! (quick to build in release): `bench_policy [REPO_ROOT] [PLAN]`; PLAN defaults to the prod
//! fixture plan; `--keep` keeps the series' plan files, `--fixed` times the fixed cost only.
use std::path::PathBuf;
use std::process::ExitCode;

/// The allocator of the shipped `xtask` binary, so the figures are those of the real tool.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The page setting of `policy --plan`, so the memory figures are comparable with its own.
    lz_policy::profile::no_transparent_huge_pages();
    let mut args = std::env::args_os().skip(1);
    let root = args.next().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let plan = args.next().map(PathBuf::from).unwrap_or_else(|| root.join("crates/policy/tests/data/plans/prod.json"));
    let run = || -> anyhow::Result<bool> {
        for _ in 0..3 {
            let p = lz_policy::profile::policy_plan(&root, &plan)?;
            println!("policy --plan in-process: {:.1} ms: {}", p.total().as_secs_f64() * 1e3, p.line());
        }
        if std::env::args().any(|a| a == "--fixed") {
            return Ok(true);
        }
        let policies = lz_policy::Policies::load(&root.join("policies"), &root.join("governance/policy.toml"))?;
        let template = lz_policy::read_plan(&plan)?;
        // `--keep` leaves the series' plan files in target/bench-policy (to time `policy --plan`
        // on them as whole processes).
        let keep = std::env::args().any(|a| a == "--keep");
        let dir = if keep { root.join("target/bench-policy") } else { std::env::temp_dir().join(format!("lz-bench-policy-{}", std::process::id())) };
        std::fs::create_dir_all(&dir)?;
        let (met, files) = lz_policy::scale::series(&policies, &template, &dir, &mut std::io::stdout())?;
        if keep {
            files.iter().for_each(|f| println!("kept {}", f.display()));
        } else {
            std::fs::remove_dir_all(&dir)?;
        }
        Ok(met)
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
