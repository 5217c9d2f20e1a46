//! The control table (`policies/controls.toml`): attributes and the values they must hold.
//! The Rego rules read it as `data.lz.controls`; the baseline checks read the same file.
use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The table's file name inside the policy directory.
pub const FILE: &str = "controls.toml";

/// One row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Control {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    pub rule: String,
    /// The row does not apply in a module whose bucket carries this `Purpose` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except_purpose: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default)]
    control: Vec<Control>,
    /// The statements every bucket policy holds and the one public ingress: read by the
    /// baseline checks (`lz_baseline::checks::Rules`); the Rego rules state them in their own
    /// words (`s3/tls_only`, `network/open_ingress`).
    #[serde(default)]
    #[allow(dead_code)]
    statement: Vec<toml::Table>,
    #[serde(default)]
    #[allow(dead_code)]
    public_ingress: Option<toml::Table>,
}

/// Parses and validates the table text; errors name file:line:col.
pub fn parse(text: &str, name: &str) -> Result<Vec<Control>> {
    let table: Table = lz_repo::parse_toml(text, name)?;
    for (i, c) in table.control.iter().enumerate() {
        let kinds = [
            c.equals.is_some(),
            c.set == Some(true),
            c.at_least.is_some(),
            c.at_most.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if kinds != 1 {
            bail!(
                "{name}: control {} ({} {:?}) needs exactly one of equals, set = true, at_least, at_most",
                i + 1,
                c.kind,
                c.path
            );
        }
        if c.path.is_empty() || !c.path.iter().all(|p| p.is_string() || p.is_u64()) {
            bail!(
                "{name}: control {} ({}) path must be keys (strings) and list indexes (integers)",
                i + 1,
                c.kind
            );
        }
    }
    Ok(table.control)
}

/// What the control table is for, in the error when it is missing.
pub fn what() -> &'static str {
    lz_input::purpose("policies/controls.toml")
}

/// Loads `<policies>/controls.toml`. The file is required: without it every "attribute must
/// equal X" rule would have nothing to check and pass every plan.
pub fn load(policies: &Path) -> Result<Vec<Control>> {
    let file = policies.join(FILE);
    let text = lz_input::read_required(&file, what())?;
    parse(&text, &file.display().to_string())
}

/// The baseline's dotted form of a path: `rule[0].apply_server_side_encryption_by_default[0].sse_algorithm`.
pub fn dotted(path: &[Value]) -> String {
    let mut out = String::new();
    for p in path {
        match p {
            Value::String(s) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(s);
            }
            other => out.push_str(&format!("[{other}]")),
        }
    }
    out
}
