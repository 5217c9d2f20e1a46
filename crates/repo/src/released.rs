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

use anyhow::{bail, Context, Result};

/// The directory of released copies, relative to the repository root.
pub const DIR: &str = "released";

pub use crate::rollout::is_module_name;

/// `released/<module>/<version>` under `root`: `module` must be a module name and `version` a
/// semver version, and the directory, with symbolic links resolved, must lie under `root`'s
/// `released/` (a name from a release's catalog or pins never reaches code outside the release).
pub fn dir(root: &Path, module: &str, version: &str) -> Result<PathBuf> {
    if !is_module_name(module) || crate::rollout::semver(version).is_none() {
        bail!("{module:?}@{version:?} is not MODULE@VERSION (module [a-z0-9-], version x.y.z): no released copy is read for it");
    }
    let out = root.join(DIR).join(module).join(version);
    if out.exists() {
        // `released/` itself may be a link out of the tree: the bound is the root's own.
        let top = root.canonicalize().with_context(|| format!("resolving {}", root.display()))?.join(DIR);
        let real = out.canonicalize().with_context(|| format!("resolving {}", out.display()))?;
        if !real.starts_with(&top) {
            bail!("{DIR}/{module}/{version} resolves to {}, outside {}: a released copy is read from the tree only", real.display(), top.display());
        }
    }
    Ok(out)
}

/// `file:line` of the first line of `text` containing `needle` (`file` alone if none does).
fn at(file: &str, text: &str, needle: &str) -> String {
    match text.lines().position(|l| l.contains(needle)) {
        Some(i) => format!("{file}:{}", i + 1),
        None => file.to_string(),
    }
}

/// The catalog of the tree at `root`, refused (an error naming `modules/catalog.toml:line`) when a
/// module name is not `[a-z0-9-]` or a `released` version is not semver `x.y.z`: those names
/// become paths under `released/`.
pub fn catalog(root: &Path) -> Result<crate::catalog::Catalog> {
    let catalog = crate::catalog::load(root)?;
    let file = crate::catalog::CATALOG;
    let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
    for (module, e) in &catalog.modules {
        if !is_module_name(module) {
            bail!("{}: module name {module:?} is not [a-z0-9-]", at(file, &text, module));
        }
        for version in e.released.keys() {
            if crate::rollout::semver(version).is_none() {
                bail!("{}: released {version:?} of {module} is not a semver version x.y.z", at(file, &text, &format!("\"{version}\"")));
            }
        }
    }
    Ok(catalog)
}

/// What the name of a root module call gets for the instances pinned to `version` where one call
/// holds one version (`_vX_Y_Z`): the terraform engine's working copy (`lz_platform::mixed_root`)
/// and the plan's `configuration` section (`tfrender::InstanceSource::call_suffix`).
pub fn version_suffix(version: &str) -> String {
    format!("_v{}", version.replace('.', "_"))
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
    let catalog = catalog(root)?;
    let file = format!("environments/{env}/{}", crate::rollout::PINS_FILE);
    let text = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
    for (module, services) in &pins {
        if !is_module_name(module) {
            bail!("{}: module name {module:?} is not [a-z0-9-]", at(&file, &text, module));
        }
        for (service, version) in services {
            if crate::rollout::semver(version).is_none() {
                bail!("{}: pins.{module}.{service} = {version:?} is not a semver version x.y.z", at(&file, &text, &format!("\"{version}\"")));
            }
        }
    }
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
            if !dir(root, module, version)?.is_dir() {
                bail!("{file}: {service} pins {module}@{version}, but {DIR}/{module}/{version}/ is missing: {vendor} writes it");
            }
            out.push(Pinned { module: module.clone(), service: service.clone(), version: version.clone() });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "version = \"1.1.0\"\nowner = \"t\"\nrisk = \"low\"\ndescription = \"d\"\nsha256 = \"x\"\n";

    fn tree(released: &str, pins: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules")).unwrap();
        std::fs::create_dir_all(dir.path().join("environments/prod")).unwrap();
        let catalog = format!("[modules.svc]\n{ENTRY}\n[modules.svc.released]\n{released}\n");
        std::fs::write(dir.path().join(crate::catalog::CATALOG), catalog).unwrap();
        std::fs::write(dir.path().join("environments/prod/pins.toml"), pins).unwrap();
        std::fs::create_dir_all(dir.path().join("released/svc/1.0.0")).unwrap();
        dir
    }

    /// The author of a release writes its catalog and pins: a version or module name that is a
    /// path (`../../x`, `/x`) is refused with file:line before any path is built from it, and a
    /// released copy that is a symbolic link out of the tree is refused by `dir`.
    #[test]
    fn a_pinned_version_or_module_that_is_a_path_is_refused() {
        let ok = tree("\"1.0.0\" = \"h\"", "[pins.svc]\na = \"1.0.0\"\n");
        assert_eq!(pinned(ok.path(), "prod").unwrap().len(), 1);

        for bad in ["../../x", "/x", "+1.0.0"] {
            let t = tree(&format!("\"1.0.0\" = \"h\"\n\"{bad}\" = \"h\""), &format!("[pins.svc]\na = \"{bad}\"\n"));
            let e = format!("{:#}", pinned(t.path(), "prod").unwrap_err());
            assert!(e.starts_with("modules/catalog.toml:10: ") && e.contains("not a semver"), "{e}");
            let t = tree("\"1.0.0\" = \"h\"", &format!("# pins\n[pins.svc]\na = \"{bad}\"\n"));
            let e = format!("{:#}", pinned(t.path(), "prod").unwrap_err());
            assert!(e.starts_with("environments/prod/pins.toml:3: ") && e.contains("not a semver"), "{e}");
            assert!(dir(t.path(), "svc", bad).is_err() && dir(t.path(), bad, "1.0.0").is_err());
        }
        let t = tree("\"1.0.0\" = \"h\"", "[pins.\"../svc\"]\na = \"1.0.0\"\n");
        let e = format!("{:#}", pinned(t.path(), "prod").unwrap_err());
        assert!(e.starts_with("environments/prod/pins.toml:1: ") && e.contains("not [a-z0-9-]"), "{e}");

        let outside = tempfile::tempdir().unwrap();
        let t = tree("\"1.0.0\" = \"h\"\n\"2.0.0\" = \"h\"", "[pins.svc]\na = \"2.0.0\"\n");
        std::os::unix::fs::symlink(outside.path(), t.path().join("released/svc/2.0.0")).unwrap();
        let e = format!("{:#}", pinned(t.path(), "prod").unwrap_err());
        assert!(e.contains("outside") && e.contains("released/svc/2.0.0"), "{e}");

        // `released/` itself a link out of the tree: every copy under it is outside.
        let t = tree("\"1.0.0\" = \"h\"", "[pins.svc]\na = \"1.0.0\"\n");
        let away = tempfile::tempdir().unwrap();
        std::fs::rename(t.path().join("released"), away.path().join("released")).unwrap();
        std::os::unix::fs::symlink(away.path().join("released"), t.path().join("released")).unwrap();
        let e = format!("{:#}", pinned(t.path(), "prod").unwrap_err());
        assert!(e.contains("outside") && e.contains("released/svc/1.0.0"), "{e}");
    }
}
