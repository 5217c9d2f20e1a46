//! Policy findings as the gate prints them: one line per root cause at its declaration, naming
//! each finding's overlay entry and the rule's fix, and each finding's resource located in the
//! source (`lz_platform::source_map`). `cargo xtask policy` prints the same places.
use std::path::{Path, PathBuf};

/// The gate's lines for the failing findings of `report` (of `env`'s plan, or of the secret
/// scan): one per root cause, at its declaration (file and line) when located, naming each
/// finding's overlay entry and the rule's fix.
pub fn gate_lines(root: &Path, env: Option<&str>, mut report: lz_policy::Report) -> Vec<(Option<PathBuf>, Option<usize>, String)> {
    report.findings.retain(|f| !f.excepted);
    if let Some(e) = env {
        locate(root, e, &mut report);
    }
    report
        .groups()
        .into_iter()
        .map(|g| {
            let each: Vec<String> = g
                .findings
                .iter()
                .map(|f| match report.sources.get(&f.address).and_then(|s| s.entry.as_ref().map(|e| (e, &s.place))) {
                    Some((e, at)) => format!("{} ({e} at {at}): {}", f.address, f.message),
                    None => format!("{}: {}", f.address, f.message),
                })
                .collect();
            let (file, line) = match &g.declaration {
                Some(d) => (Some(PathBuf::from(&d.file)), Some(d.line)),
                None => (env.map(|e| PathBuf::from("environments").join(e)), None),
            };
            let fix = g.remediation.as_deref().map(|r| format!("; fix: {r}")).unwrap_or_default();
            let n = g.findings.len();
            (file, line, format!("{} {} {}{}: {}{fix}", g.severity, g.rule_id, g.title, if n > 1 { format!(" ({n} findings, one root cause)") } else { String::new() }, each.join("; ")))
        })
        .collect()
}

/// Each finding's resource mapped to its declaration and the overlay entry of `env` that made
/// it (`lz_platform::source_map`).
pub fn locate(root: &Path, env: &str, report: &mut lz_policy::Report) {
    let mut map = lz_platform::source_map::SourceMap::new(root, env);
    for f in &report.findings {
        if report.sources.contains_key(&f.address) {
            continue;
        }
        if let Some(o) = map.origin(&f.address) {
            let source = lz_policy::view::Source {
                place: o.primary().clone(),
                declaration: o.declaration.clone(),
                entry: o.entry.as_ref().map(|e| format!("{}[\"{}\"]", e.variable, e.key)),
            };
            report.sources.insert(f.address.clone(), source);
        }
    }
}

