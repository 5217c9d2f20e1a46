//! Released copies of older module versions (issue 32, item 2): an environment may run services
//! on different versions of one module during a rollout. A service pinned
//! (`environments/<env>/pins.toml`, [`crate::rollout`]) to a version other than the catalog's
//! renders from that version's own code, the copy `released/<module>/<version>/` of the module
//! directory at its tag `<module>-v<version>`, whose sha256 the catalog records
//! (`[modules.<module>.released] "<version>" = "<sha256>"`). `cargo xtask catalog vendor
//! MODULE@VERSION` writes the copy and the record; the gate checks both against the tag
//! (`lz_platform::released`). The copies live in the tree, so a release archive carries them and
//! a promotion renders the older code from the archive, never from a checkout or a git tag.
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The directory of released copies, relative to the repository root.
pub const DIR: &str = "released";

/// `released/<module>/<version>` under `root`.
pub fn dir(root: &Path, module: &str, version: &str) -> PathBuf {
    root.join(DIR).join(module).join(version)
}

/// One service instance of a module call rendered from a released copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub module: String,
    pub service: String,
    pub version: String,
}

impl Pinned {
    /// The module source of the calls the pin applies to, as `environments/*.tf` write it.
    pub fn call_source(&self) -> String {
        format!("../modules/{}", self.module)
    }

    /// The released copy, as a module source relative to `environments/`.
    pub fn source(&self) -> String {
        format!("../{DIR}/{}/{}", self.module, self.version)
    }
}

/// The pins of `env` that render from a released copy: every pin to a version other than the
/// module's catalog version. A pin of a module the catalog does not list, or to a version whose
/// copy the catalog does not record or the tree does not hold, is an error naming the pins file.
pub fn pinned(root: &Path, env: &str) -> Result<Vec<Pinned>> {
    let pins = crate::rollout::pins(root, env)?;
    if pins.is_empty() {
        return Ok(Vec::new());
    }
    let catalog = crate::catalog::load(root)?;
    let file = format!("environments/{env}/{}", crate::rollout::PINS_FILE);
    let mut out = Vec::new();
    for (module, services) in &pins {
        let Some(entry) = catalog.modules.get(module) else {
            bail!("{file}: pins.{module}: {module} is not in {}", crate::catalog::CATALOG);
        };
        for (service, version) in services {
            if *version == entry.version {
                continue;
            }
            let vendor = format!("`cargo xtask catalog vendor {module}@{version}`");
            if !entry.released.contains_key(version) {
                bail!("{file}: {service} pins {module}@{version}, whose released copy {} does not record: {vendor} writes it", crate::catalog::CATALOG);
            }
            if !dir(root, module, version).is_dir() {
                bail!("{file}: {service} pins {module}@{version}, but {DIR}/{module}/{version}/ is missing: {vendor} writes it");
            }
            out.push(Pinned { module: module.clone(), service: service.clone(), version: version.clone() });
        }
    }
    Ok(out)
}
