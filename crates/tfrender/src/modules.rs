//! Registry and git modules installed by `terraform init`: `.terraform/modules/modules.json`
//! in the root module directory maps each module call (by key, `a.b` for module `b` called
//! from module `a`) to the directory it was installed in.
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Default)]
pub(crate) struct Manifest {
    /// Module key -> (source as recorded, directory relative to the root module).
    entries: HashMap<String, (String, String)>,
}

/// A source that is not a local path: a registry address or a remote (git, http, s3, ...) one.
pub(crate) fn is_remote(source: &str) -> bool {
    !(source.starts_with("./") || source.starts_with("../"))
}

impl Manifest {
    /// Reads the manifest of the root module in `root`; an absent file is an empty manifest.
    pub fn load(root: &Path) -> Result<Manifest, String> {
        let path = root.join(".terraform").join("modules").join("modules.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: invalid module manifest: {e}", path.display()))?;
        let mut entries = HashMap::new();
        for m in json["Modules"].as_array().into_iter().flatten() {
            let (Some(key), Some(dir)) = (m["Key"].as_str(), m["Dir"].as_str()) else {
                return Err(format!("{}: invalid module manifest: every module needs a Key and a Dir", path.display()));
            };
            let source = m["Source"].as_str().unwrap_or_default();
            entries.insert(key.to_string(), (source.to_string(), dir.to_string()));
        }
        Ok(Manifest { entries })
    }

    /// The installed directory (relative to the root module) of the call `key` with `source`.
    pub fn dir(&self, key: &str, source: &str) -> Option<&str> {
        let (recorded, dir) = self.entries.get(key)?;
        source_matches(recorded, source).then_some(dir.as_str())
    }
}

/// Whether the source in configuration is the one `terraform init` recorded: registry
/// addresses are recorded with their host (`registry.terraform.io/ns/name/provider`).
fn source_matches(recorded: &str, configured: &str) -> bool {
    if recorded == configured {
        return true;
    }
    let parts = configured.split('/').count();
    parts == 3 && !configured.contains(':') && recorded == format!("registry.terraform.io/{configured}")
}
