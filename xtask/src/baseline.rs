//! `cargo xtask baseline`: approved plan baselines (insta snapshots under
//! `crates/baseline/tests/snapshots/`), the reviewer's diff against them, and the property
//! benchmark behind `cargo xtask bench properties`.
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use lz_baseline::Subject;

use crate::format::Format;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// What the working tree would change against the approved baseline, per resource
    Diff {
        /// Environment (dev, test, uat, preprod, prod)
        #[arg(long, conflicts_with = "module", required_unless_present = "module", value_parser = lz_input::ids::environment)]
        env: Option<String>,
        /// Module whose examples/basic baseline to compare instead
        #[arg(long, value_parser = lz_input::ids::module)]
        module: Option<String>,
        /// Changes as text for people or JSON for bots
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// List stale, missing or orphaned baselines (exit 1 when there is any)
    Check,
    /// Review pending snapshot changes with `cargo insta review` (installs cargo-insta into .tools)
    Review,
    /// Accept the working tree as the approved baselines (rewrites the snapshots)
    Update,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    match args.what {
        What::Diff { env, module, format } => {
            let subject = match (env, module) {
                (Some(e), _) => Subject::Environment(e),
                (None, Some(m)) => Subject::ModuleExample(m),
                (None, None) => bail!("give --env NAME or --module NAME"),
            };
            if !lz_baseline::subjects(root)?.contains(&subject) {
                bail!("{subject} does not exist (no overlay or no examples/basic)");
            }
            let old = lz_baseline::approved_view(root, &subject)?;
            let new = lz_baseline::view(&tfrender::normalize(&subject.render(root)?));
            let d = lz_baseline::diff(&old, &new);
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&d)?),
                Format::Text => {
                    println!(
                        "{subject} against {}",
                        subject
                            .snapshot_file(root)
                            .strip_prefix(root)
                            .unwrap_or(Path::new(""))
                            .display()
                    );
                    print!("{}", d.to_text());
                }
            }
            Ok(if d.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        What::Check => {
            let stale = lz_baseline::stale_baselines(root)?;
            for s in &stale {
                println!("{s}");
            }
            if stale.is_empty() {
                println!("approved baselines: up to date");
            }
            Ok(if stale.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        What::Update => {
            refuse_on_ci("update")?;
            update(root)
        }
        What::Review => {
            refuse_on_ci("review")?;
            let path = path_with_tools(root)?;
            if !has_cargo_insta(&path) {
                println!("installing cargo-insta into .tools (cargo install cargo-insta --locked --root .tools)");
                let (sh, cargo, tools) = (crate::sh::at(root)?, cargo(), root.join(".tools"));
                xshell::cmd!(sh, "{cargo} install cargo-insta --locked --root {tools}")
                    .run()
                    .context("cargo install cargo-insta failed")?;
            }
            cargo_test(root, "new")?;
            let (sh, cargo) = (crate::sh::at(root)?, cargo());
            xshell::cmd!(sh, "{cargo} insta review --workspace-root {root}")
                .env("PATH", &path)
                .run()
                .context("cargo insta review failed")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Renders every environment and module example in process (one parse of each configuration,
/// on every core, progress on a terminal) and rewrites the snapshots that differ, then lists
/// what changed.
fn update(root: &Path) -> Result<ExitCode> {
    let start = std::time::Instant::now();
    let total = lz_baseline::subjects(root)?.len() as u64;
    let bar = lz_platform::progress::bar(total, "rendering baselines");
    let results = lz_baseline::update::update(root, &|s| {
        bar.set_message(s.to_string());
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let mut changed = 0;
    for r in &results {
        let line = match &r.outcome {
            lz_baseline::update::Outcome::Unchanged => continue,
            lz_baseline::update::Outcome::Created => "created".to_string(),
            lz_baseline::update::Outcome::Updated(summary) => format!("updated: {summary}"),
        };
        changed += 1;
        println!("{}: {} {line}", r.file.display(), r.subject);
    }
    // Orphans (snapshots of subjects that no longer exist) are the one thing update leaves.
    let stale = lz_baseline::stale_baselines(root)?;
    for s in &stale {
        println!("{s}");
    }
    if !stale.is_empty() {
        bail!("updating the baselines left {} stale", stale.len());
    }
    println!(
        "{} baseline(s) rendered in {:.1} s: {changed} changed, {} unchanged{}",
        results.len(),
        start.elapsed().as_secs_f64(),
        results.len() - changed,
        if changed > 0 { format!("; review them with git diff {} before committing", lz_baseline::SNAPSHOT_DIR) } else { String::new() }
    );
    Ok(ExitCode::SUCCESS)
}

fn refuse_on_ci(what: &str) -> Result<()> {
    if std::env::var_os("CI").is_some() {
        bail!("`cargo xtask baseline {what}` writes approved baselines and never runs on CI; run it locally and commit the snapshots");
    }
    Ok(())
}

use crate::sh::cargo;

/// Run the baseline test with the given `INSTA_UPDATE` mode; returns whether it passed.
fn cargo_test(root: &Path, mode: &str) -> Result<bool> {
    let (sh, cargo) = (crate::sh::at(root)?, cargo());
    let out = xshell::cmd!(sh, "{cargo} test -q -p lz-baseline --test baselines -- approved_baselines")
        .env("INSTA_UPDATE", mode)
        .env("INSTA_FORCE_PASS", "1")
        .ignore_status()
        .output()
        .context("running cargo test -p lz-baseline --test baselines")?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    Ok(out.status.success())
}

fn path_with_tools(root: &Path) -> Result<std::ffi::OsString> {
    let mut dirs = vec![root.join(".tools/bin")];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).context("building PATH")
}

fn has_cargo_insta(path: &std::ffi::OsStr) -> bool {
    let Ok(sh) = xshell::Shell::new() else { return false };
    let cargo = cargo();
    xshell::cmd!(sh, "{cargo} insta --version").env("PATH", path).quiet().ignore_stdout().ignore_stderr().run().is_ok()
}

/// `cargo xtask bench properties`: generated overlays rendered and checked per second. A debug
/// build hands over to the release build of the benchmark example of lz-baseline.
pub fn bench_properties(root: &Path) -> Result<ExitCode> {
    if cfg!(debug_assertions) && std::env::var_os("LZ_BENCH_DEBUG").is_none() {
        println!("building the benchmark in release (set LZ_BENCH_DEBUG=1 to measure this debug build instead)");
        let (sh, cargo) = (crate::sh::at(root)?, cargo());
        let st = xshell::cmd!(sh, "{cargo} run -q --release -p lz-baseline --example bench_properties -- {root}").run();
        return Ok(if st.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let ok = lz_baseline::props::bench(root, &mut std::io::stdout())?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
