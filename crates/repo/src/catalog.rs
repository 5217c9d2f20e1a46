//! The module catalog, `modules/catalog.toml`: each module's semver version, owning team, risk
//! class and the sha256 of its files. Read here for everyone: the gate and `catalog bump`
//! ([`load`], every field required), release builds and baseline headers ([`entries`], each
//! entry with at least its version and sha256, as the catalog of an older tree may be).
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::diag::parse_toml;

/// Where the catalog is, relative to the repository root.
pub const CATALOG: &str = "modules/catalog.toml";
/// What the catalog is for (the message of a missing catalog).
pub const PURPOSE: &str = "the module catalog (versions and hashes of the modules; see `cargo xtask catalog`)";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub version: String,
    pub owner: String,
    pub risk: Risk,
    pub description: String,
    pub sha256: String,
    /// Rollout plans by version (issue 32, [`crate::rollout`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rollout: BTreeMap<String, crate::rollout::Plan>,
    /// Deprecated versions (`catalog deprecate`): `check` warns wherever one is pinned.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deprecated: BTreeMap<String, crate::rollout::Notice>,
    /// Revoked versions (`catalog revoke`): no new adoption of one is admitted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revoked: BTreeMap<String, crate::rollout::Notice>,
    /// Released copies of older versions (`catalog vendor`, [`crate::released`]): version ->
    /// sha256 of `released/<module>/<version>/`, which services pinned to it render from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub released: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub modules: BTreeMap<String, Entry>,
}

/// Parse catalog text that came from `path` (every field required); errors name file:line:col.
pub fn parse(path: &Path, text: &str) -> Result<Catalog> {
    parse_toml(text, &path.display().to_string())
}

fn read(root: &Path) -> Result<(String, String)> {
    let path = root.join(CATALOG);
    Ok((lz_input::read_required(&path, PURPOSE)?, path.display().to_string()))
}

/// The catalog of the tree at `root`, every field required.
pub fn load(root: &Path) -> Result<Catalog> {
    let (text, origin) = read(root)?;
    parse_toml(&text, &origin)
}

/// The `[modules.<name>]` tables of the catalog at `root` as written, each with at least a
/// `version` and a `sha256` string.
pub fn entries(root: &Path) -> Result<BTreeMap<String, toml::Table>> {
    let (text, origin) = read(root)?;
    let doc: toml::Table = parse_toml(&text, &origin)?;
    let modules = doc.get("modules").and_then(|m| m.as_table()).with_context(|| format!("{origin}: no [modules.<name>] tables"))?;
    let mut out = BTreeMap::new();
    for (name, entry) in modules {
        let t = entry.as_table().with_context(|| format!("{origin}: modules.{name} is not a table"))?;
        for key in ["version", "sha256"] {
            if !t.get(key).is_some_and(|v| v.is_str()) {
                bail!("{origin}: modules.{name} has no {key} string");
            }
        }
        out.insert(name.clone(), t.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(catalog: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules")).unwrap();
        std::fs::write(dir.path().join(CATALOG), catalog).unwrap();
        dir
    }

    #[test]
    fn strict_and_lenient_readers() {
        let full = "[modules.a]\nversion = \"1.0.0\"\nowner = \"o\"\nrisk = \"high\"\ndescription = \"d\"\nsha256 = \"aa\"\n";
        let t = tree(full);
        assert_eq!(load(t.path()).unwrap().modules["a"].risk, Risk::High);
        assert_eq!(entries(t.path()).unwrap()["a"]["version"].as_str(), Some("1.0.0"));
        let short = tree("[modules.a]\nversion = \"1.0.0\"\nsha256 = \"aa\"\n");
        assert!(entries(short.path()).is_ok());
        let e = load(short.path()).unwrap_err().to_string();
        assert!(e.contains("catalog.toml:1:1: missing field"), "{e}");
        let e = entries(tree("[modules.a]\nversion = \"1\"\n").path()).unwrap_err().to_string();
        assert!(e.ends_with("modules.a has no sha256 string"), "{e}");
        let e = load(tempfile::tempdir().unwrap().path()).unwrap_err().to_string();
        assert!(e.starts_with("missing ") && e.contains("the module catalog"), "{e}");
    }
}
