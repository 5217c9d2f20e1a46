//! Reports: text for people, JSON for tools, SARIF 2.1.0 for code scanning.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};

use crate::redact::redact_str;
pub use crate::finding::severity_rank;
use crate::finding::{Finding, Source};
use crate::{exceptions, scan, RuleMeta};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub rules: Vec<RuleMeta>,
    #[serde(skip)]
    pub environment: String,
    #[serde(skip)]
    pub source: Option<String>,
    /// Where each resource address comes from in the sources (filled by a caller that knows
    /// them, `cargo xtask policy --env`); findings without one point at the plan.
    #[serde(skip)]
    pub sources: BTreeMap<String, Source>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    /// Findings that fail the gate, by severity.
    pub by_severity: BTreeMap<String, usize>,
    pub failing: usize,
    pub excepted: usize,
    pub unverifiable: usize,
}

impl Summary {
    /// "0 critical, 2 high, 0 medium, 1 low": the failing findings by severity.
    pub fn severities(&self) -> String {
        ["critical", "high", "medium", "low"]
            .iter()
            .map(|k| format!("{} {k}", self.by_severity.get(*k).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Report {
    /// The rule's remediation text (from its METADATA).
    pub fn remediation(&self, rule_id: &str) -> Option<&str> {
        self.rules.iter().find(|r| r.id == rule_id).map(|r| r.remediation.as_str())
    }

    /// The place, snippet and remediation of one finding, for JSON.
    pub fn finding_context(&self, f: &Finding) -> Value {
        let mut v = json!({});
        if let Some(s) = self.sources.get(&f.address) {
            v["location"] = json!(s.place);
            v["declaration"] = json!(s.declaration);
            if let Some(e) = &s.entry {
                v["entry"] = json!(e);
            }
        }
        if let Some(r) = self.remediation(&f.rule_id) {
            v["remediation"] = json!(r);
        }
        v
    }

    /// True when no finding is left unexcepted.
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.excepted)
    }

    pub fn summary(&self) -> Summary {
        let mut by_severity: BTreeMap<String, usize> = ["low", "medium", "high", "critical"]
            .iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        for f in self.findings.iter().filter(|f| !f.excepted) {
            *by_severity.entry(f.severity.clone()).or_default() += 1;
        }
        Summary {
            total: self.findings.len(),
            failing: self.findings.iter().filter(|f| !f.excepted).count(),
            excepted: self.findings.iter().filter(|f| f.excepted).count(),
            unverifiable: self.findings.iter().filter(|f| f.unverifiable).count(),
            by_severity,
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let tag = match &f.exception_id {
                Some(id) => format!(" [excepted by {id}]"),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "{:<8} {:<11} {}: {}{}",
                f.severity.to_uppercase(),
                f.rule_id,
                redact_str(&f.address),
                redact_str(&f.message),
                tag
            );
        }
        let sum = self.summary();
        let sev = sum.severities();
        let _ = writeln!(
            s,
            "{} finding(s) failing ({sev}), {} excepted, {} unverifiable",
            sum.failing, sum.excepted, sum.unverifiable
        );
        s
    }

    pub fn to_json(&self) -> Value {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut v = json!({
                    "rule_id": f.rule_id,
                    "severity": f.severity,
                    "address": redact_str(&f.address),
                    "message": redact_str(&f.message),
                    "excepted": f.excepted,
                    "exception_id": f.exception_id,
                    "unverifiable": f.unverifiable,
                });
                if let (Some(m), Value::Object(extra)) = (v.as_object_mut(), self.finding_context(f)) {
                    m.extend(extra);
                }
                v
            })
            .collect();
        json!({ "findings": findings, "summary": self.summary() })
    }

    /// A SARIF 2.1.0 log: one rule per METADATA entry (plus register and scan rules), one
    /// result per finding, the resource address as logical location; excepted findings carry
    /// an accepted external suppression.
    pub fn to_sarif(&self) -> Value {
        let mut rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                let mut rule = sarif_rule(&r.id, &r.title, &r.description, &r.severity, &r.controls);
                rule["help"] = json!({ "text": format!("{}. {} Remediation: {}", r.title, r.description, r.remediation) });
                rule
            })
            .collect();
        for (id, title, severity) in builtin_rules() {
            rules.push(sarif_rule(id, title, title, severity, &[]));
        }
        let index: BTreeMap<String, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r["id"].as_str().unwrap_or_default().to_string(), i))
            .collect();
        let default_uri = self
            .source
            .clone()
            .unwrap_or_else(|| "plan.json".to_string());
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let address = redact_str(&f.address);
                let (uri, line) = match address.rsplit_once(':') {
                    Some((file, line)) if line.parse::<u64>().is_ok() && !file.contains(' ') => {
                        (file.to_string(), line.parse::<u64>().unwrap_or(1).max(1))
                    }
                    _ => (default_uri.clone(), 1),
                };
                let source = self.sources.get(&f.address);
                let physical = match source {
                    Some(s) => json!({
                        "artifactLocation": { "uri": s.place.file },
                        "region": { "startLine": s.place.line, "startColumn": s.place.column, "snippet": { "text": redact_str(&s.place.snippet) } }
                    }),
                    None => json!({ "artifactLocation": { "uri": uri }, "region": { "startLine": line } }),
                };
                let mut result = json!({
                    "ruleId": f.rule_id,
                    "level": level(&f.severity),
                    "message": { "text": redact_str(&f.message) },
                    "locations": [{
                        "physicalLocation": physical,
                        "logicalLocations": [{ "fullyQualifiedName": address, "kind": "resource" }]
                    }],
                    "partialFingerprints": { "lzFinding/v1": format!("{}|{}|{}", f.rule_id, address, self.environment) },
                    "properties": { "severity": f.severity, "unverifiable": f.unverifiable, "environment": self.environment }
                });
                if let Some(i) = index.get(&f.rule_id) {
                    result["ruleIndex"] = json!(i);
                }
                if let Some(s) = source.filter(|s| s.place != s.declaration) {
                    result["relatedLocations"] = json!([{
                        "id": 1,
                        "message": { "text": "the resource's declaration" },
                        "physicalLocation": {
                            "artifactLocation": { "uri": s.declaration.file },
                            "region": { "startLine": s.declaration.line, "startColumn": s.declaration.column, "snippet": { "text": redact_str(&s.declaration.snippet) } }
                        }
                    }]);
                }
                if let Some(id) = &f.exception_id {
                    result["suppressions"] = json!([{ "kind": "external", "status": "accepted", "justification": format!("exception {id}") }]);
                }
                result
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "lz-policy",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules
                }},
                "results": results
            }]
        })
    }
}

fn builtin_rules() -> [(&'static str, &'static str, &'static str); 4] {
    [
        (exceptions::REGISTER_RULE, "Exceptions are approved by someone other than their owner, unexpired and at most 90 days long", "high"),
        (scan::ACCESS_KEY_RULE, "No AWS access key ids in overlays or module sources", "critical"),
        (scan::PRIVATE_KEY_RULE, "No private key blocks in overlays or module sources", "critical"),
        (scan::ENTROPY_RULE, "No literal high-entropy password, secret or token values in overlays or module sources", "critical"),
    ]
}

fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

fn sarif_rule(
    id: &str,
    title: &str,
    description: &str,
    severity: &str,
    controls: &[String],
) -> Value {
    let security = match severity {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        _ => "3.0",
    };
    let mut tags = vec!["security".to_string()];
    tags.extend(controls.iter().cloned());
    json!({
        "id": id,
        "name": id.replace('-', ""),
        "shortDescription": { "text": title },
        "fullDescription": { "text": description },
        "defaultConfiguration": { "level": level(severity) },
        "help": { "text": format!("{title}. {description}") },
        "properties": { "security-severity": security, "tags": tags }
    })
}
