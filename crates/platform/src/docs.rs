//! Module README input/output tables, generated from `variables.tf` and `outputs.tf` between
//! the `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` markers.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::hcl::{self, Output, Variable};
use crate::Findings;

pub const BEGIN: &str = "<!-- BEGIN_TF_DOCS -->";
pub const END: &str = "<!-- END_TF_DOCS -->";

fn cell(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// Prose cells also escape angle brackets, which Markdown would take for HTML.
fn text(s: &str) -> String {
    cell(s).replace('<', "&lt;").replace('>', "&gt;")
}

/// The generated section for one module directory.
pub fn render(dir: &Path) -> Result<String> {
    let files = hcl::parse_module_dir(dir)?;
    let (vars, outs) = hcl::interface(&files);
    Ok(tables(vars.values(), outs.values()))
}

fn tables<'a>(vars: impl Iterator<Item = &'a Variable>, outs: impl Iterator<Item = &'a Output>) -> String {
    let mut s = String::from("## Inputs\n\n| Name | Description | Type | Default | Required |\n|------|-------------|------|---------|:--------:|\n");
    let mut vars: Vec<&Variable> = vars.collect();
    vars.sort_by_key(|v| (v.default_src.is_some(), v.name.clone()));
    for v in vars {
        let default = v.default_src.as_deref().map(|d| format!("`{}`", cell(d))).unwrap_or_else(|| "n/a".into());
        s.push_str(&format!(
            "| {} | {}{} | `{}` | {} | {} |\n",
            v.name,
            text(v.description.as_deref().unwrap_or("")),
            if v.sensitive { " (sensitive)" } else { "" },
            cell(v.type_src.as_deref().unwrap_or("any")),
            default,
            if v.default_src.is_none() { "yes" } else { "no" },
        ));
    }
    s.push_str("\n## Outputs\n\n| Name | Description | Sensitive |\n|------|-------------|:---------:|\n");
    for o in outs {
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            o.name,
            text(o.description.as_deref().unwrap_or("")),
            if o.sensitive { "yes" } else { "no" }
        ));
    }
    s
}

/// README text with the generated section replaced.
pub fn splice(readme_path: &Path, readme: &str, generated: &str) -> Result<String> {
    let Some(b) = readme.find(BEGIN) else { bail!("{}: no `{BEGIN}` marker", readme_path.display()) };
    let Some(e) = readme.find(END) else { bail!("{}: no `{END}` marker", readme_path.display()) };
    if e < b {
        bail!("{}: `{END}` comes before `{BEGIN}`", readme_path.display());
    }
    Ok(format!("{}{BEGIN}\n{generated}{}", &readme[..b], &readme[e..]))
}

/// Module directories that carry docs: `modules/*`.
fn readmes(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    Ok(crate::catalog::module_dirs(root)?.into_values().map(|d| (d.join("README.md"), d)).collect())
}

/// Regenerate every module README; returns the files that changed.
pub fn generate(root: &Path) -> Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for (readme, dir) in readmes(root)? {
        let text = std::fs::read_to_string(&readme).with_context(|| format!("reading {}", readme.display()))?;
        let new = splice(&readme, &text, &render(&dir)?)?;
        if new != text {
            std::fs::write(&readme, new).with_context(|| format!("writing {}", readme.display()))?;
            changed.push(readme);
        }
    }
    Ok(changed)
}

/// The gate's docs check: every README has the markers and up-to-date tables; every variable
/// and output is described.
pub fn check(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    for (readme, dir) in readmes(root)? {
        let rel = readme.strip_prefix(root).unwrap_or(&readme).to_path_buf();
        let Ok(text) = std::fs::read_to_string(&readme) else {
            f.push("docs", Some(rel), None, "missing README.md");
            continue;
        };
        match splice(&readme, &text, &render(&dir)?) {
            Ok(new) if new != text => {
                f.push("docs", Some(rel), None, "input/output tables are stale: run `cargo xtask docs`")
            }
            Ok(_) => {}
            Err(e) => f.push("docs", Some(rel), None, format!("{e:#}")),
        }
    }
    Ok(f)
}
