//! `cargo xtask check`: the PR gate, offline, no services. Exit 0 clean, 1 findings, 2 tool or
//! input error (with file:line). The gate itself is `lz_gate::gate`; this prints its outcome.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Git revision whose catalog is the base for version-bump checks (default: origin/main
    /// when it exists and differs from HEAD)
    #[arg(long)]
    base: Option<String>,
    /// Fail (rather than report "not checked") when the landing zone's evidence store does not
    /// answer: the overdue-rotation and break-glass-retrospective checks read it, never a local
    /// cache. Pipelines that gate the landing zone pass it
    #[arg(long)]
    require_evidence: bool,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let lz_gate::Outcome { steps, not_checked } = lz_gate::gate(root, args.base.as_deref(), args.require_evidence)?;
    // Deprecated module versions still pinned: a warning, not a finding (issue 32).
    for w in lz_platform::pins::check(root)?.1 {
        println!("warn {w}");
    }
    let mut total = 0;
    for (name, findings) in &steps {
        if findings.is_empty() {
            println!("ok   {name}");
        } else {
            println!("FAIL {name} ({} finding{})", findings.len(), if findings.len() == 1 { "" } else { "s" });
            for f in findings.iter() {
                println!("     {f}");
            }
        }
        total += findings.len();
    }
    for (name, why) in &not_checked {
        println!("SKIP {name}: not checked: no evidence store ({why}); `--require-evidence` fails on this");
    }
    if total == 0 && !not_checked.is_empty() {
        println!("check: clean, {} evidence-backed check(s) not checked (no evidence store)", not_checked.len());
        Ok(ExitCode::SUCCESS)
    } else if total == 0 {
        println!("check: clean");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("check: {total} finding{}", if total == 1 { "" } else { "s" });
        Ok(ExitCode::from(1))
    }
}
