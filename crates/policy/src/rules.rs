//! Loading the Rego policy tree: rule files, their METADATA, unit tests and coverage.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// METADATA of one rule file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: String,
    pub controls: Vec<String>,
    /// How to fix a finding (`custom.remediation`), shown with every finding of the rule.
    pub remediation: String,
    /// Path relative to the policy directory.
    pub file: String,
    pub package: String,
}

/// One `.rego` source, relative path and text.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub rel: String,
    pub text: String,
    pub package: String,
    pub is_test: bool,
}

/// All policy sources under a directory.
#[derive(Debug, Clone)]
pub struct PolicyTree {
    pub dir: PathBuf,
    pub files: Vec<PolicyFile>,
    pub rules: Vec<RuleMeta>,
    /// The control table (`controls.toml`), given to the rules as `data.lz.controls`.
    pub controls: Vec<crate::controls::Control>,
}

pub const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

impl PolicyTree {
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!("policy directory {} does not exist", dir.display());
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let path = entry.path();
            if !entry.file_type().is_file()
                || path.extension().and_then(|e| e.to_str()) != Some("rego")
            {
                continue;
            }
            let text = lz_input::read_text(path)?;
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            let package =
                package_of(&text).with_context(|| format!("{rel}: no package declaration"))?;
            let is_test = rel.ends_with("_test.rego");
            files.push(PolicyFile {
                rel,
                text,
                package,
                is_test,
            });
        }
        let mut rules = Vec::new();
        for f in files
            .iter()
            .filter(|f| !f.is_test && f.package.starts_with("lz.rules."))
        {
            let meta = parse_metadata(&f.text, &f.rel, &f.package)?;
            rules.push(meta);
        }
        let mut seen = BTreeMap::new();
        for r in &rules {
            if let Some(other) = seen.insert(r.id.clone(), r.file.clone()) {
                bail!(
                    "rule id {} is declared by both {} and {}",
                    r.id,
                    other,
                    r.file
                );
            }
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        let controls = crate::controls::load(dir)?;
        for c in &controls {
            if !rules.iter().any(|r| r.id == c.rule) {
                bail!(
                    "{}: control {} {} names rule {}, which no policy declares",
                    dir.join(crate::controls::FILE).display(),
                    c.kind,
                    crate::controls::dotted(&c.path),
                    c.rule
                );
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            rules,
            controls,
        })
    }

    /// An engine holding the policies (and, with `tests`, the unit tests).
    pub fn engine(&self, tests: bool) -> Result<regorus::Engine> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        for f in self.files.iter().filter(|f| tests || !f.is_test) {
            engine
                .add_policy(f.rel.clone(), f.text.clone())
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("parsing {}", self.dir.join(&f.rel).display()))?;
        }
        let data = serde_json::json!({ "lz": { "controls": self.controls } });
        engine
            .add_data(
                regorus::Value::from_json_str(&data.to_string())
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("loading the control table")?;
        Ok(engine)
    }

    pub fn rule(&self, id: &str) -> Option<&RuleMeta> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn package_of(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("package ")
            .map(|p| p.trim().to_string())
    })
}

/// Parses the `# METADATA` block preceding the package: title, description, custom.id,
/// custom.severity and custom.controls (YAML subset: scalars, folded `>-` text, lists).
pub fn parse_metadata(text: &str, rel: &str, package: &str) -> Result<RuleMeta> {
    let mut lines = text
        .lines()
        .enumerate()
        .skip_while(|(_, l)| l.trim() != "# METADATA");
    if lines.next().is_none() {
        bail!("{rel}: no METADATA block");
    }
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut controls = Vec::new();
    let mut current: Option<String> = None;
    // The indentation of the key whose folded text (`>-`, `>`, `|`) the deeper lines continue:
    // their colons are text, never keys.
    let mut folded: Option<usize> = None;
    for (_, line) in lines {
        let Some(body) = line.strip_prefix('#') else {
            break;
        };
        let body = body.strip_prefix(' ').unwrap_or(body);
        let indent = body.len() - body.trim_start().len();
        let trimmed = body.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let (Some(f), Some(key)) = (folded, &current) {
            if indent > f {
                let entry = fields.entry(key.clone()).or_default();
                if !entry.is_empty() {
                    entry.push(' ');
                }
                entry.push_str(trimmed);
                continue;
            }
            folded = None;
        }
        if let Some(item) = trimmed.strip_prefix("- ") {
            if current.as_deref() == Some("custom.controls") {
                controls.push(unquote(item));
                continue;
            }
        }
        if let Some((key, value)) = trimmed.split_once(':').filter(|(k, _)| !k.contains(' ')) {
            let key = if indent > 0 {
                format!("custom.{key}")
            } else {
                key.to_string()
            };
            let value = value.trim();
            if key == "custom.controls" && value.starts_with('[') {
                controls.extend(
                    value
                        .trim_matches(|c| c == '[' || c == ']')
                        .split(',')
                        .map(unquote)
                        .filter(|s| !s.is_empty()),
                );
            }
            current = Some(key.clone());
            if value != ">-" && value != ">" && value != "|" {
                fields.insert(key, unquote(value));
            } else {
                fields.insert(key, String::new());
                folded = Some(indent);
            }
            continue;
        }
        if let Some(key) = &current {
            let entry = fields.entry(key.clone()).or_default();
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(trimmed);
        }
    }
    let get = |k: &str| -> Result<String> {
        fields
            .get(k)
            .filter(|v| !v.is_empty())
            .cloned()
            .with_context(|| format!("{rel}: METADATA has no {k}"))
    };
    let severity = get("custom.severity")?;
    if !SEVERITIES.contains(&severity.as_str()) {
        bail!("{rel}: METADATA severity {severity:?} is not one of low, medium, high, critical");
    }
    if controls.is_empty() {
        bail!("{rel}: METADATA has no custom.controls");
    }
    Ok(RuleMeta {
        id: get("custom.id")?,
        title: get("title")?,
        description: get("description")?,
        severity,
        controls,
        remediation: get("custom.remediation")?,
        file: rel.to_string(),
        package: package.to_string(),
    })
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').trim_matches('\'').to_string()
}

/// Outcome of one Rego unit test.
#[derive(Debug, Clone, Serialize)]
pub struct TestOutcome {
    pub name: String,
    pub file: String,
    pub passed: bool,
    pub error: Option<String>,
}

/// Line coverage of one non-test policy file.
#[derive(Debug, Clone, Serialize)]
pub struct FileCoverage {
    pub file: String,
    pub covered: usize,
    pub not_covered: usize,
    pub uncovered_lines: Vec<u32>,
}

impl FileCoverage {
    pub fn percent(&self) -> f64 {
        let total = self.covered + self.not_covered;
        if total == 0 {
            100.0
        } else {
            100.0 * self.covered as f64 / total as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestRun {
    pub tests: Vec<TestOutcome>,
    pub coverage: Vec<FileCoverage>,
}

/// Runs every `test_*` rule of the tree with coverage enabled.
pub fn run_tests(tree: &PolicyTree) -> Result<TestRun> {
    let mut engine = tree.engine(true)?;
    engine.set_enable_coverage(true);
    let test_name = regex::Regex::new(r"^(test_[A-Za-z0-9_]*)\b").expect("valid regex");
    let mut tests = Vec::new();
    for f in tree.files.iter().filter(|f| f.is_test) {
        let mut names: Vec<String> = f
            .text
            .lines()
            .filter_map(|l| test_name.captures(l).map(|c| c[1].to_string()))
            .collect();
        names.dedup();
        for name in names {
            let rule = format!("data.{}.{}", f.package, name);
            let outcome = match engine.eval_rule(rule) {
                Ok(v) => TestOutcome {
                    name: format!("{}.{}", f.package, name),
                    file: f.rel.clone(),
                    passed: v == regorus::Value::from(true),
                    error: None,
                },
                Err(e) => TestOutcome {
                    name: format!("{}.{}", f.package, name),
                    file: f.rel.clone(),
                    passed: false,
                    error: Some(format!("{e}")),
                },
            };
            tests.push(outcome);
        }
    }
    let report = engine
        .get_coverage_report()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut coverage: Vec<FileCoverage> = report
        .files
        .iter()
        .filter(|f| !f.path.ends_with("_test.rego"))
        .map(|f| FileCoverage {
            file: f.path.clone(),
            covered: f.covered.len(),
            not_covered: f.not_covered.len(),
            uncovered_lines: f.not_covered.iter().copied().collect(),
        })
        .collect();
    for f in tree.files.iter().filter(|f| !f.is_test) {
        if !coverage.iter().any(|c| c.file == f.rel) {
            coverage.push(FileCoverage {
                file: f.rel.clone(),
                covered: 0,
                not_covered: 1,
                uncovered_lines: vec![],
            });
        }
    }
    coverage.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(TestRun { tests, coverage })
}

#[cfg(test)]
mod metadata_tests {
    use super::parse_metadata;

    const HEAD: &str = "# METADATA\n# title: T\n# description: >-\n#   D with a colon: inside\n# custom:\n#   id: LZ-X-001\n#   severity: high\n";

    #[test]
    fn the_remediation_is_folded_text_and_its_colons_are_text() {
        let text = format!("{HEAD}#   remediation: >-\n#     Set a = b: then c:d\n#     and more\n#   controls:\n#     - C-1\npackage lz.rules.x\n");
        let m = parse_metadata(&text, "x.rego", "lz.rules.x").unwrap();
        assert_eq!(m.remediation, "Set a = b: then c:d and more");
        assert_eq!(m.description, "D with a colon: inside");
        assert_eq!(m.controls, ["C-1"]);
    }

    #[test]
    fn a_rule_without_remediation_is_refused_naming_its_file() {
        let text = format!("{HEAD}#   controls:\n#     - C-1\npackage lz.rules.x\n");
        let e = parse_metadata(&text, "x/x.rego", "lz.rules.x").unwrap_err();
        assert_eq!(e.to_string(), "x/x.rego: METADATA has no custom.remediation");
    }
}
