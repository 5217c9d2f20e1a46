//! The gate's evidence-backed steps (overdue break-glass retrospectives, overdue secret
//! rotations; `lz_promote::gate_evidence`): read from the landing zone's evidence store when it
//! answers. Where none does, the step is NOT CHECKED: with `--require-evidence` that is a
//! finding (exit 1), without it a SKIP line and a summary that says so. Never a silent ok, and
//! never a local cache's answer.
use std::path::Path;

use anyhow::Result;
use lz_platform::Findings;
use lz_promote::gate_evidence::{self, Checked};

/// Appends the evidence-backed steps to `steps`; returns those not checked (when not required).
pub fn steps(root: &Path, require: bool, steps: &mut Vec<(&'static str, Findings)>) -> Result<Vec<crate::check::NotChecked>> {
    let mut skipped = Vec::new();
    for (name, checked) in gate_evidence::checks(root)? {
        match checked {
            Checked::Findings(f) => steps.push((name, f)),
            Checked::NotChecked(why) if require => {
                let mut f = Findings::default();
                f.push("evidence", None, None, format!("not checked: no evidence store ({why})"));
                steps.push((name, f));
            }
            Checked::NotChecked(why) => skipped.push((name, why)),
        }
    }
    Ok(skipped)
}
