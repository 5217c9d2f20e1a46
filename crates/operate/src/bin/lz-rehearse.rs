//! Runs one sandbox promotion in its own process, so that a rehearsal can interrupt it the way
//! a crashed runner or a killed pipeline would:
//! `lz-rehearse ROOT SANDBOX_DIR ENV RELEASE DEPLOYER BAKE_SECONDS`. The time is the server
//! time of the environment's endpoint, as for every promotion.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, dir, env, release, deployer, bake] = args.as_slice() else {
        eprintln!("usage: lz-rehearse ROOT SANDBOX_DIR ENV RELEASE DEPLOYER BAKE_SECONDS");
        return ExitCode::from(2);
    };
    let run = || -> anyhow::Result<()> {
        let endpoint = lz_platform::localstack::require(Path::new(root))?;
        let sb = lz_operate::sandbox::Sandbox::open(Path::new(root), &endpoint, Path::new(dir))?;
        let t = sb.target(env)?;
        let clock = lz_promote::clock::Clock::server(&endpoint, &t.account_id, &t.region);
        let o = sb.promote(release, env, deployer, &clock, bake.parse()?)?;
        println!("completed: record {}", o.completion_record);
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
