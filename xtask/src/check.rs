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
    for n in &not_checked {
        match n.evidence {
            true => println!("SKIP {}: not checked: no evidence store ({}); `--require-evidence` fails on this", n.step, n.why),
            false => println!("SKIP {}: not checked: {}", n.step, n.why),
        }
    }
    if total == 0 && !not_checked.is_empty() {
        println!("check: clean, {}", skipped_summary(&not_checked));
        Ok(ExitCode::SUCCESS)
    } else if total == 0 {
        println!("check: clean");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("check: {total} finding{}", if total == 1 { "" } else { "s" });
        Ok(ExitCode::from(1))
    }
}

/// The summary's count of steps not checked, evidence-backed ones apart from the others.
fn skipped_summary(not_checked: &[lz_gate::NotChecked]) -> String {
    let evidence = not_checked.iter().filter(|n| n.evidence).count();
    let other: Vec<&str> = not_checked.iter().filter(|n| !n.evidence).map(|n| n.step).collect();
    let mut parts = Vec::new();
    if evidence > 0 {
        parts.push(format!("{evidence} evidence-backed check(s) not checked (no evidence store)"));
    }
    if !other.is_empty() {
        parts.push(format!("not checked: {} (see its SKIP line)", other.join(", ")));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::skipped_summary;
    use lz_gate::NotChecked;

    /// A step skipped for want of tags is not counted among the evidence-backed ones.
    #[test]
    fn the_summary_counts_only_evidence_backed_steps_as_wanting_a_store() {
        let n = |step, evidence| NotChecked { step, why: "why".into(), evidence };
        let shown = skipped_summary(&[n("break-glass retrospectives", true), n("secret rotation (overdue)", true), n("module tags", false)]);
        assert_eq!(shown, "2 evidence-backed check(s) not checked (no evidence store); not checked: module tags (see its SKIP line)");
        assert_eq!(skipped_summary(&[n("module tags", false)]), "not checked: module tags (see its SKIP line)");
    }
}
