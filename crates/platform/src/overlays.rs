//! Environment overlays: `environments/<env>/` holds only `terraform.tfvars`, `backend.hcl`,
//! `env.toml` and (optionally) the module version pins `pins.toml`; an overlay may set only the variables `environments/overlay-allowlist.toml`
//! names; the partial backend config locks state with `use_lockfile` and encrypts it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hcl_edit::expr::Expression;
use hcl_edit::structure::Structure;
use serde::Deserialize;

use crate::hcl;
use crate::{Findings, ENVIRONMENTS};

pub const ALLOWLIST: &str = lz_repo::paths::OVERLAY_ALLOWLIST;
pub const OVERLAY_FILES: [&str; 4] = ["terraform.tfvars", "backend.hcl", "env.toml", lz_repo::rollout::PINS_FILE];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    pub variables: BTreeMap<String, Allowed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowed {
    pub class: String,
    pub reason: String,
}

/// An environment's `env.toml` (`lz_repo::env`), and TOML files read with file:line:col errors.
pub use lz_repo::env::{env_file, EnvFile};
pub use lz_repo::read_toml;

pub fn allowlist(root: &Path) -> Result<Allowlist> {
    read_toml(&root.join(ALLOWLIST))
}

/// The attributes an overlay sets, with their lines. Malformed tfvars is an error naming
/// file:line:col.
pub fn overlay_attributes(path: &Path) -> Result<Vec<(String, usize)>> {
    let file = hcl::parse_file(path)?;
    let mut out = Vec::new();
    for s in file.body.iter() {
        match s {
            Structure::Attribute(a) => out.push((a.key.as_str().to_string(), file.line_of_span(a))),
            Structure::Block(b) => anyhow::bail!(
                "{}:{}: a tfvars file may only assign variables, found a `{}` block",
                path.display(),
                file.line_of_span(b),
                b.ident.as_str()
            ),
        }
    }
    Ok(out)
}

/// The gate's overlay checks for every environment.
pub fn check(root: &Path) -> Result<Findings> {
    let allow = allowlist(root)?;
    let root_files = hcl::parse_module_dir(&root.join("environments"))?;
    let (declared, _) = hcl::interface(&root_files);
    let mut f = Findings::default();
    for name in allow.variables.keys() {
        if !declared.contains_key(name) {
            f.push("overlay", Some(PathBuf::from(ALLOWLIST)), None, format!("allow-listed variable {name} is not declared by the root module"));
        }
    }
    for env in ENVIRONMENTS {
        let dir = root.join("environments").join(env);
        let rel = |p: &str| PathBuf::from("environments").join(env).join(p);
        if !dir.is_dir() {
            f.push("overlay", Some(rel("")), None, format!("environment {env} has no overlay directory"));
            continue;
        }
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let n = entry.file_name().to_string_lossy().to_string();
            if !OVERLAY_FILES.contains(&n.as_str()) && n != ".terraform" {
                f.push("overlay", Some(rel(&n)), None, format!(
                    "environments/{env}/ may hold only {}: resources live in modules/ and the root module",
                    OVERLAY_FILES.join(", ")
                ));
            }
        }
        let tfvars = dir.join("terraform.tfvars");
        for (var, line) in overlay_attributes(&tfvars)? {
            if !allow.variables.contains_key(&var) {
                f.push("overlay", Some(rel("terraform.tfvars")), Some(line), format!(
                    "variable {var} may not be set by an overlay: it is not in {ALLOWLIST} (controls stay identical across environments)"
                ));
            } else if !declared.contains_key(&var) {
                f.push("overlay", Some(rel("terraform.tfvars")), Some(line), format!("variable {var} is not declared by the root module"));
            }
        }
        let envf = env_file(root, env)?;
        if envf.name != env {
            f.push("overlay", Some(rel("env.toml")), None, format!("name is {:?}, expected {env:?}", envf.name));
        }
        if envf.account_id.len() != 12 || !envf.account_id.bytes().all(|b| b.is_ascii_digit()) {
            f.push("overlay", Some(rel("env.toml")), None, format!("account_id {:?} is not 12 digits", envf.account_id));
        }
        f.extend(check_backend(&dir.join("backend.hcl"), &rel("backend.hcl"), env)?);
    }
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for env in ENVIRONMENTS {
        if let Ok(e) = env_file(root, env) {
            if let Some(other) = seen.insert(e.account_id.clone(), env) {
                f.push("overlay", Some(PathBuf::from("environments").join(env).join("env.toml")), None, format!(
                    "account {} is shared with {other}: every environment is its own account", e.account_id
                ));
            }
        }
    }
    Ok(f)
}

fn check_backend(path: &Path, rel: &Path, env: &str) -> Result<Findings> {
    let file = hcl::parse_file(path)?;
    let mut f = Findings::default();
    let get = |k: &str| file.body.get_attribute(k).map(|a| &a.value);
    if !matches!(get("use_lockfile"), Some(Expression::Bool(b)) if *b.value()) {
        f.push("backend", Some(rel.to_path_buf()), None, "use_lockfile = true is required (state locking uses the S3 lock file)");
    }
    if !matches!(get("encrypt"), Some(Expression::Bool(b)) if *b.value()) {
        f.push("backend", Some(rel.to_path_buf()), None, "encrypt = true is required");
    }
    if get("dynamodb_table").is_some() {
        f.push("backend", Some(rel.to_path_buf()), None, "dynamodb_table is not used: lock with use_lockfile");
    }
    match get("key") {
        Some(Expression::String(s)) if s.as_str().starts_with(&format!("{env}/")) => {}
        _ => f.push("backend", Some(rel.to_path_buf()), None, format!("key must be a per-environment path starting with \"{env}/\"")),
    }
    if !matches!(get("bucket"), Some(Expression::String(_))) {
        f.push("backend", Some(rel.to_path_buf()), None, "bucket must be set");
    }
    Ok(f)
}
