//! An environment as the repository describes it: `environments/<env>/env.toml` (account,
//! region, approver groups) and `environments/<env>/backend.hcl` (the partial S3 backend
//! configuration: state bucket, key, region, locking), parsed once into [`Environment`].
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::paths::ENVIRONMENTS_DIR;
use crate::ENVIRONMENTS;

/// An environment's `env.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvFile {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub approver_groups: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// An environment's `backend.hcl`: one `name = value` per line (a quoted string, a bool or a
/// number), as `terraform init -backend-config=FILE` takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    /// Each setting with its value (strings unquoted) and line.
    pub settings: BTreeMap<String, (String, usize)>,
    /// The state bucket (`bucket`, required).
    pub bucket: String,
}

impl Backend {
    /// Parses backend text that came from `origin`; every error names `origin:line`.
    pub fn parse(text: &str, origin: &str) -> Result<Backend> {
        let mut settings = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                bail!("{origin}:{}: expected `name = value`, found {line:?}", i + 1);
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                bail!("{origin}:{}: {k:?} is not a setting name", i + 1);
            }
            let value = if let Some(s) = v.strip_prefix('"') {
                match s.strip_suffix('"') {
                    Some(s) if !s.contains('"') => s.to_string(),
                    _ => bail!("{origin}:{}: {k}: unterminated or malformed string {v:?}", i + 1),
                }
            } else if v == "true" || v == "false" || (!v.is_empty() && v.parse::<f64>().is_ok()) {
                v.to_string()
            } else {
                bail!("{origin}:{}: {k}: expected a quoted string, a bool or a number, found {v:?}", i + 1);
            };
            if settings.insert(k.to_string(), (value, i + 1)).is_some() {
                bail!("{origin}:{}: {k} is set twice", i + 1);
            }
        }
        let bucket = settings.get("bucket").map(|(v, _)| v.clone()).with_context(|| format!("{origin}: no bucket"))?;
        Ok(Backend { settings, bucket })
    }

    /// A setting's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(|(v, _)| v.as_str())
    }
}

/// An environment: its `env.toml` and its `backend.hcl`.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: String,
    pub file: EnvFile,
    pub backend: Backend,
}

impl Environment {
    /// The environment `env` of the tree at `root` (a checkout or a release's unpacked tree).
    pub fn load(root: &Path, env: &str) -> Result<Environment> {
        let file = env_file(root, env)?;
        let path = dir(root, env).join("backend.hcl");
        let text = lz_input::read_required(&path, "the environment's state backend (bucket, key, region)")?;
        let backend = Backend::parse(&text, &path.display().to_string())?;
        Ok(Environment { name: env.to_string(), file, backend })
    }

    pub fn account_id(&self) -> &str {
        &self.file.account_id
    }

    pub fn region(&self) -> &str {
        &self.file.region
    }

    /// The state bucket `backend.hcl` names.
    pub fn state_bucket(&self) -> &str {
        &self.backend.bucket
    }
}

/// `environments/<env>` under `root`.
pub fn dir(root: &Path, env: &str) -> PathBuf {
    root.join(ENVIRONMENTS_DIR).join(env)
}

/// The `env.toml` of `env` under `root`; a malformed file names file:line:col.
pub fn env_file(root: &Path, env: &str) -> Result<EnvFile> {
    crate::diag::read_toml(&dir(root, env).join("env.toml"))
}

/// The environments of the tree at `root` that have an overlay (`terraform.tfvars`): those of
/// [`ENVIRONMENTS`] in promotion order, then any other by name (a mutated copy may add one).
pub fn present(root: &Path) -> Result<Vec<String>> {
    let base = root.join(ENVIRONMENTS_DIR);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&base).with_context(|| format!("reading {}", base.display()))? {
        let e = e?;
        if e.path().join("terraform.tfvars").is_file() {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort_by_key(|e| (ENVIRONMENTS.iter().position(|x| x == e).unwrap_or(usize::MAX), e.clone()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_settings_with_their_lines() {
        let b = Backend::parse("# state\nbucket = \"lz-dev\"\nkey    = \"dev/x.tfstate\"\nuse_lockfile = true\n", "b.hcl").unwrap();
        assert_eq!(b.bucket, "lz-dev");
        assert_eq!(b.get("use_lockfile"), Some("true"));
        assert_eq!(b.settings["key"], ("dev/x.tfstate".to_string(), 3));
    }

    #[test]
    fn malformed_backends_name_file_and_line() {
        for (text, want) in [
            ("bucket = \"a\"\nkey \"b\"\n", "b.hcl:2: expected `name = value`"),
            ("bucket = \"a\nkey = \"b\"\n", "b.hcl:1: bucket: unterminated"),
            ("bucket = a\n", "b.hcl:1: bucket: expected a quoted string"),
            ("bucket = \"a\"\nbucket = \"b\"\n", "b.hcl:2: bucket is set twice"),
            ("key = \"b\"\n", "b.hcl: no bucket"),
        ] {
            let e = Backend::parse(text, "b.hcl").unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_repository_environments_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert_eq!(present(&root).unwrap(), ENVIRONMENTS);
        for env in ENVIRONMENTS {
            let e = Environment::load(&root, env).unwrap();
            assert_eq!(e.file.name, env);
            assert!(e.state_bucket().contains(e.account_id()), "{e:?}");
        }
    }
}
