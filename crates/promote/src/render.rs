//! The offline plan of an environment, rendered from a tree (a release's or the working tree):
//! a leaf the release, the stores and the operations share.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::Value;

/// The offline plan of `environment` rendered from the tree at `root` (a release's unpacked
/// tree, or the working tree for `bootstrap --stores`) with the provider schema vendored there.
pub fn render_env(root: &Path, environment: &str) -> Result<Value> {
    if !lz_platform::ENVIRONMENTS.contains(&environment) {
        bail!(
            "unknown environment {environment:?} (known: {})",
            lz_platform::ENVIRONMENTS.join(", ")
        );
    }
    // The overlay, and services pinned to an older module version from the release's copy of it.
    let opts = lz_schema::env_render_options(root, environment)?;
    Ok(tfrender::render_dir(&root.join("environments"), &opts)?)
}
