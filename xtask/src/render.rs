//! `cargo xtask render DIR`: offline plan JSON of a configuration directory, and the printing of
//! the renderer benchmark (`lz_baseline::bench`).
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

#[derive(clap::Args)]
pub struct Args {
    /// Root module directory
    #[arg(required_unless_present = "functions")]
    dir: Option<PathBuf>,
    /// List every Terraform built-in function with the renderer's status instead of rendering
    #[arg(long, conflicts_with_all = ["var_files", "vars", "normalized"])]
    functions: bool,
    /// Variable files applied after terraform.tfvars and *.auto.tfvars, in order
    #[arg(long = "var-file")]
    var_files: Vec<PathBuf>,
    /// NAME=VALUE assignments applied last
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Print the normalized form used for comparisons
    #[arg(long)]
    normalized: bool,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    if args.functions {
        let list = tfrender::function_status();
        let width = list.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, status, why) in &list {
            out.push_str(&format!("{name:width$}  {status}"));
            if let Some(why) = why {
                out.push_str(&format!(": {why}"));
            }
            out.push('\n');
        }
        let done = list.iter().filter(|(_, s, _)| s.starts_with("implemented")).count();
        out.push_str(&format!("{done} of {} Terraform 1.15 functions implemented", list.len()));
        crate::out::print_stdout(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(dir) = args.dir else {
        bail!("a root module directory is required");
    };
    let plan = lz_schema::render_config(root, &dir, args.var_files, &args.vars)?;
    let plan = if args.normalized { tfrender::normalize(&plan) } else { plan };
    crate::out::print_stdout(&serde_json::to_string_pretty(&plan)?)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask bench render` (`lz_baseline::bench::render`): its figures printed as they come.
pub fn bench(root: &Path) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        println!("note: this is a debug build (LZ_BENCH_DEBUG); figures below are pessimistic.");
    }
    let terraform = |dir: &Path| crate::plan::terraform_show(root, dir, &[]).map(drop);
    lz_baseline::bench::render(root, &terraform, &mut |line| println!("{line}"))?;
    crate::measure::print_peak();
    Ok(ExitCode::SUCCESS)
}
