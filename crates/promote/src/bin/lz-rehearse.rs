//! Runs one sandbox promotion in its own process, so that a rehearsal can interrupt it the way
//! a crashed runner or a killed pipeline would:
//! `lz-rehearse ROOT SANDBOX_DIR ENV RELEASE PLAN_JSON AUTHOR DEPLOYER NOW BAKE_SECONDS`.

use std::path::Path;
use std::process::ExitCode;

use time::format_description::well_known::Rfc3339;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, dir, env, release, plan, author, deployer, now, bake] = args.as_slice() else {
        eprintln!("usage: lz-rehearse ROOT SANDBOX_DIR ENV RELEASE PLAN_JSON AUTHOR DEPLOYER NOW BAKE_SECONDS");
        return ExitCode::from(2);
    };
    let run = || -> anyhow::Result<()> {
        let endpoint = lz_platform::localstack::require(Path::new(root))?;
        let sb = lz_promote::sandbox::Sandbox::open(Path::new(root), &endpoint, Path::new(dir))?;
        let plan: serde_json::Value = serde_json::from_slice(&std::fs::read(plan)?)?;
        let now = time::OffsetDateTime::parse(now, &Rfc3339)?;
        let o = sb.promote(
            release,
            env,
            &plan,
            None,
            Some(author),
            deployer,
            now,
            bake.parse()?,
        )?;
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
