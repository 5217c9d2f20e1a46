//! Findings for people: each with where it comes from in the sources (file:line:col and the
//! line's text, given by the caller that maps plan addresses to sources) and the rule's
//! remediation from its METADATA, grouped by root cause (one rule, one declaration or one
//! message), with a severity floor and colour on a terminal.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::redact::redact_str;
pub use crate::finding::Source;
pub use lz_repo::diag::Place;
use crate::finding::{severity_rank, Finding};
use crate::Report;

/// Findings of one root cause: one rule on one declaration (or, unlocated, one message).
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub rule_id: String,
    pub severity: String,
    pub title: String,
    pub remediation: Option<String>,
    /// The declaration every finding of the group comes from, when located.
    pub declaration: Option<Place>,
    pub findings: Vec<Finding>,
}

/// The lowest rank a `--severity` floor lets through, or an error naming the valid ones.
pub fn severity_floor(s: &str) -> Result<u8, String> {
    match severity_rank(s) {
        0 => Err(format!("{s:?} is not a severity (low, medium, high, critical)")),
        n => Ok(n),
    }
}

impl Report {
    /// Keeps the findings at or above `floor` (a severity rank); returns how many were dropped.
    pub fn keep_severity(&mut self, floor: u8) -> usize {
        let before = self.findings.len();
        self.findings.retain(|f| severity_rank(&f.severity) >= floor);
        before - self.findings.len()
    }

    /// Findings grouped by root cause, most severe first.
    pub fn groups(&self) -> Vec<Group> {
        let mut by: BTreeMap<(u8, String, String), Group> = BTreeMap::new();
        for f in &self.findings {
            let source = self.sources.get(&f.address);
            let root = match source {
                Some(s) => s.declaration.to_string(),
                None => f.message.clone(),
            };
            let key = (u8::MAX - severity_rank(&f.severity), f.rule_id.clone(), root);
            let g = by.entry(key).or_insert_with(|| Group {
                rule_id: f.rule_id.clone(),
                severity: f.severity.clone(),
                title: self.rules.iter().find(|r| r.id == f.rule_id).map(|r| r.title.clone()).unwrap_or_default(),
                remediation: self.remediation(&f.rule_id).map(str::to_string),
                declaration: source.map(|s| s.declaration.clone()),
                findings: Vec::new(),
            });
            g.findings.push(f.clone());
        }
        by.into_values().collect()
    }

    /// Findings as text for people, grouped by root cause, each with its place, the line's text
    /// and the remediation; `colour` for a terminal.
    pub fn to_text_grouped(&self, colour: bool, below_floor: usize) -> String {
        let paint = |code: &str, s: &str| if colour { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
        let sev = |s: &str| {
            let label = format!("{:<8}", s.to_uppercase());
            match s {
                "critical" | "high" => paint("1;31", &label),
                "medium" => paint("33", &label),
                _ => paint("36", &label),
            }
        };
        let mut out = String::new();
        for g in self.groups() {
            let n = g.findings.len();
            let _ = writeln!(
                out,
                "{} {} {}{}",
                sev(&g.severity),
                paint("1", &g.rule_id),
                g.title,
                if n > 1 { format!(" ({n} findings, one root cause)") } else { String::new() }
            );
            if let Some(d) = &g.declaration {
                let _ = writeln!(out, "  declared at {d}");
                let _ = writeln!(out, "    {}", paint("2", &redact_str(&d.snippet)));
            }
            for f in &g.findings {
                let tag = match &f.exception_id {
                    Some(id) => paint("32", &format!(" [excepted by {id}]")),
                    None => String::new(),
                };
                let _ = writeln!(out, "  - {}: {}{tag}", redact_str(&f.address), redact_str(&f.message));
                if let Some(s) = self.sources.get(&f.address).filter(|s| s.place != s.declaration) {
                    let from = s.entry.as_deref().map(|e| format!("the overlay entry {e} ")).unwrap_or_default();
                    let _ = writeln!(out, "      from {from}at {}", s.place);
                    let _ = writeln!(out, "        {}", paint("2", &redact_str(&s.place.snippet)));
                }
            }
            if let Some(r) = &g.remediation {
                let _ = writeln!(out, "  {} {r}", paint("1;32", "fix:"));
            }
            out.push('\n');
        }
        let sum = self.summary();
        let sevs = sum.severities();
        let _ = writeln!(
            out,
            "{} finding(s) failing ({sevs}) in {} root cause(s), {} excepted, {} unverifiable{}",
            sum.failing,
            self.groups().iter().filter(|g| g.findings.iter().any(|f| !f.excepted)).count(),
            sum.excepted,
            sum.unverifiable,
            if below_floor > 0 { format!("; {below_floor} below --severity not shown") } else { String::new() }
        );
        out
    }
}
