//! `cargo xtask catalog show MODULE`: a module's card, read from the repository alone.
//!
//! - the catalog entry (version, owner, risk, description);
//! - inputs and outputs with their descriptions (`variables.tf`, `outputs.tf`);
//! - the policy rules that judge the resource types the module declares: a rule whose source
//!   names the type (`of_type("aws_kms_key")` and the like), and the rows of
//!   `policies/controls.toml` for those types;
//! - every version of its CHANGELOG with the changes and whether its `<module>-v<version>` tag
//!   exists in the repository;
//! - an example block pinned to the current version's tag.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use hcl_edit::Span;
use lz_platform::hcl;
use serde::Serialize;

/// Where service teams consume modules from (the README's consumption path).
pub const MODULE_SOURCE: &str = "git::https://example.internal/landing-zone.git//modules";

#[derive(Clone, Debug, Serialize)]
pub struct Input {
    pub name: String,
    pub type_src: Option<String>,
    pub default_src: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    pub validated: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Output {
    pub name: String,
    pub description: Option<String>,
    pub sensitive: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Control {
    pub id: String,
    pub title: String,
    pub severity: String,
    /// The resource types of the module the rule judges.
    pub types: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Version {
    pub version: String,
    pub date: Option<String>,
    /// The CHANGELOG lines of that version (list items, without the leading `- `).
    pub changes: Vec<String>,
    pub tag: String,
    pub tagged: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Card {
    pub module: String,
    pub version: String,
    pub owner: String,
    pub risk: String,
    pub description: String,
    pub resource_types: Vec<String>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    pub controls: Vec<Control>,
    pub versions: Vec<Version>,
    pub example: String,
}

pub fn tag(module: &str, version: &str) -> String {
    lz_platform::module_tags::tag(module, version)
}

/// The versions of a CHANGELOG (`## [X.Y.Z] - date` headings, newest first as written).
pub fn changelog(text: &str) -> Vec<(String, Option<String>, Vec<String>)> {
    let mut out: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            let h = h.trim();
            let (v, date) = match h.split_once(" - ") {
                Some((v, d)) => (v, Some(d.trim().to_string())),
                None => (h, None),
            };
            out.push((v.trim_matches(['[', ']']).to_string(), date, Vec::new()));
        } else if let (Some(item), Some(last)) = (line.strip_prefix("- "), out.last_mut()) {
            last.2.push(item.trim().to_string());
        } else if let (Some(last), true) = (out.last_mut(), line.starts_with("  ") && !line.trim().is_empty()) {
            if let Some(prev) = last.2.last_mut() {
                prev.push(' ');
                prev.push_str(line.trim());
            }
        }
    }
    out
}

/// The tags of the repository at `root` (empty when it is not a git checkout).
fn git_tags(root: &Path) -> BTreeSet<String> {
    lz_platform::module_tags::existing(root)
}

pub fn card(root: &Path, module: &str) -> Result<Card> {
    let entries = lz_repo::catalog::entries(root)?;
    let Some(entry) = entries.get(module) else {
        bail!(
            "module {module:?} is not in {}; modules: {}",
            lz_repo::catalog::CATALOG,
            entries.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    };
    let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let dir = root.join("modules").join(module);
    let files = hcl::parse_module_dir(&dir)?;
    let (vars, outs) = hcl::interface(&files);
    let inputs = vars
        .into_values()
        .map(|v| Input {
            required: v.default_src.is_none(),
            name: v.name,
            type_src: v.type_src,
            default_src: v.default_src,
            description: v.description,
            validated: v.has_validation,
        })
        .collect();
    let outputs = outs.into_values().map(|o| Output { name: o.name, description: o.description, sensitive: o.sensitive }).collect();
    let mut types = BTreeSet::new();
    for f in &files {
        for b in hcl::blocks(&f.body, "resource") {
            if let Some(t) = hcl::labels(b).into_iter().next() {
                types.insert(t);
            }
        }
    }
    let controls = controls_of(root, &types)?;
    let tags = git_tags(root);
    let changelog_text = lz_input::read_text(&dir.join("CHANGELOG.md")).with_context(|| format!("module {module} has no CHANGELOG.md"))?;
    let versions = changelog(&changelog_text)
        .into_iter()
        .map(|(version, date, changes)| {
            let tag = tag(module, &version);
            Version { tagged: tags.contains(&tag), version, date, changes, tag }
        })
        .collect();
    let version = field("version");
    let example = example(root, module, &version)?;
    Ok(Card {
        module: module.to_string(),
        owner: field("owner"),
        risk: field("risk"),
        description: field("description"),
        resource_types: types.into_iter().collect(),
        inputs,
        outputs,
        controls,
        versions,
        example,
        version,
    })
}

/// The rules that judge any of `types`.
fn controls_of(root: &Path, types: &BTreeSet<String>) -> Result<Vec<Control>> {
    let tree = lz_policy::rules::PolicyTree::load(&root.join("policies"))?;
    let mut by_rule: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in tree.files.iter().filter(|f| !f.is_test && f.package.starts_with("lz.rules.")) {
        let Some(meta) = tree.rules.iter().find(|r| r.package == f.package) else {
            continue;
        };
        for t in types {
            if f.text.contains(&format!("\"{t}\"")) {
                by_rule.entry(meta.id.clone()).or_default().insert(t.clone());
            }
        }
    }
    for c in &tree.controls {
        if types.contains(&c.kind) {
            by_rule.entry(c.rule.clone()).or_default().insert(c.kind.clone());
        }
    }
    Ok(by_rule
        .into_iter()
        .map(|(id, types)| {
            let meta = tree.rules.iter().find(|r| r.id == id);
            Control {
                title: meta.map(|m| m.title.clone()).unwrap_or_default(),
                severity: meta.map(|m| m.severity.clone()).unwrap_or_default(),
                types: types.into_iter().collect(),
                id,
            }
        })
        .collect())
}

/// The module's `examples/basic` call, its source pinned to the version's tag.
fn example(root: &Path, module: &str, version: &str) -> Result<String> {
    let path = root.join("modules").join(module).join("examples/basic/main.tf");
    let pinned = format!("{MODULE_SOURCE}/{module}?ref={}", tag(module, version));
    let Ok(text) = lz_input::read_text(&path) else {
        return Ok(format!("module \"{}\" {{\n  source = \"{pinned}\"\n}}\n", module.replace('-', "_")));
    };
    let file = hcl::parse_text(&path, text)?;
    for b in hcl::blocks(&file.body, "module") {
        let Some(src) = b.body.get_attribute("source") else { continue };
        let span = b.span().context("module block without a span")?;
        let block = &file.text[span];
        let src_text = hcl::source_of(&file, &src.value);
        return Ok(format!("{}\n", block.replacen(&src_text, &format!("\"{pinned}\""), 1).trim_end()));
    }
    bail!("{}: no module block", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_versions_with_their_items() {
        let v = changelog(
            "# Changelog\n\n## [1.1.0] - 2026-11-27\n\n### Added\n\n- one\n  continued\n- two\n\n## [1.0.0] - 2026-11-26\n\n- first\n",
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0], ("1.1.0".to_string(), Some("2026-11-27".to_string()), vec!["one continued".to_string(), "two".to_string()]));
        assert_eq!(v[1].2, vec!["first".to_string()]);
    }
}
