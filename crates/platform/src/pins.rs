//! Module version pins of the overlays (issue 32): `[pins.<module>]` in
//! `environments/<env>/pins.toml` (`lz_repo::rollout`), deprecation and revocation notices in the
//! catalog, and the gate's check of both: a pin of a module the catalog does not list, of a
//! version that is not semver, that neither the catalog nor the module's CHANGELOG knows, or that
//! is revoked, or a rollout plan that does not hold together, is a finding; a pin of a
//! deprecated version is a warning.
use std::path::Path;

use anyhow::Result;

use crate::Findings;

/// Records `catalog deprecate|revoke MODULE@VERSION --reason` in the catalog at `root`; returns
/// the module, the version and the module's catalog version.
pub fn notice(root: &Path, module_version: &str, reason: &str, revoke: bool) -> Result<(String, String, String)> {
    let (module, version) = lz_repo::rollout::parse_module_version(module_version)?;
    anyhow::ensure!(!reason.trim().is_empty(), "--reason is empty: say why {module_version} is {}", if revoke { "revoked" } else { "deprecated" });
    let mut c = crate::catalog::load(root)?;
    let entry = c.modules.get_mut(&module).ok_or_else(|| anyhow::anyhow!("{module} is not in {}", crate::catalog::CATALOG))?;
    let n = lz_repo::rollout::Notice { reason: reason.to_string(), date: crate::today() };
    if revoke {
        entry.revoked.insert(version.clone(), n);
    } else {
        entry.deprecated.insert(version.clone(), n);
    }
    let current = entry.version.clone();
    crate::catalog::save(root, &c)?;
    Ok((module, version, current))
}

/// (environment, service) of every overlay pin of `module` to `version` in the tree at `root`.
pub fn pinned_to(root: &Path, module: &str, version: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for env in lz_repo::env::present(root)? {
        let pins = lz_repo::rollout::pins(root, &env)?;
        for (service, v) in pins.get(module).into_iter().flatten() {
            if v == version {
                out.push((env.clone(), service.clone()));
            }
        }
    }
    Ok(out)
}

pub use crate::released::known_versions;

/// The 1-based line of `service`'s pin under `[pins.<module>]` in pins.toml `text`, if written
/// as `service = "..."` in that table.
fn pin_line(text: &str, module: &str, service: &str) -> Option<usize> {
    let header = |l: &str| l.starts_with('[');
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if header(l) {
            let name = l.trim_start_matches('[').trim_end_matches(']').trim().replace('"', "");
            inside = name == format!("pins.{module}");
            continue;
        }
        let Some((key, _)) = l.split_once('=') else { continue };
        if inside && key.trim().trim_matches('"') == service {
            return Some(i + 1);
        }
    }
    None
}

/// The `check` step over overlay pins: a pin of a module the catalog does not list, of a
/// version that is not semver, that neither the catalog nor the module's CHANGELOG knows
/// ([`known_versions`]), or that is revoked, is a finding (naming pins.toml and the pin's line);
/// a pin of a deprecated version is a warning (returned apart).
pub fn check(root: &Path) -> Result<(Findings, Vec<String>)> {
    let c = crate::catalog::load(root)?;
    let mut f = Findings::default();
    let mut warnings = Vec::new();
    let rel = |env: &str| std::path::PathBuf::from("environments").join(env).join(lz_repo::rollout::PINS_FILE);
    for (name, e) in &c.modules {
        for (version, plan) in &e.rollout {
            if let Err(err) = plan.validate(&format!("rollout plan of {name}@{version}"), &lz_repo::ENVIRONMENTS) {
                f.push("pins", Some(std::path::PathBuf::from(crate::catalog::CATALOG)), None, format!("{err:#}"));
            }
        }
    }
    for env in lz_repo::env::present(root)? {
        let env = env.as_str();
        let text = std::fs::read_to_string(root.join(rel(env))).unwrap_or_default();
        for (module, pins) in &lz_repo::rollout::pins(root, env)? {
            let Some(e) = c.modules.get(module) else {
                f.push("pins", Some(rel(env)), None, format!("pins.{module}: {module} is not in the catalog"));
                continue;
            };
            for (service, v) in pins {
                if lz_repo::rollout::semver(v).is_none() {
                    f.push("pins", Some(rel(env)), None, format!("pins.{module}.{service} = {v:?} is not a semver version x.y.z"));
                } else if !known_versions(root, module, &e.version).contains(v) {
                    f.push(
                        "pins",
                        Some(rel(env)),
                        pin_line(&text, module, service),
                        format!("{service} in {env} pins {module}@{v}, a version neither the catalog nor modules/{module}/CHANGELOG.md knows: pin a released version"),
                    );
                } else if *v != e.version && !e.released.contains_key(v) {
                    f.push(
                        "pins",
                        Some(rel(env)),
                        pin_line(&text, module, service),
                        format!("{service} in {env} pins {module}@{v}, which has no released copy to render from: `cargo xtask catalog vendor {module}@{v}`"),
                    );
                } else if let Some(n) = e.revoked.get(v) {
                    f.push("pins", Some(rel(env)), None, format!("{service} in {env} pins {module}@{v}, which is revoked ({}): pin another version", n.reason));
                } else if let Some(n) = e.deprecated.get(v) {
                    warnings.push(format!("{}: {service} in {env} pins {module}@{v}, deprecated since {}: {}", rel(env).display(), n.date, n.reason));
                }
            }
        }
    }
    f.extend(crate::released::check(root)?);
    Ok((f, warnings))
}

/// The keys of the `services` object of tfvars text from `origin`.
pub fn service_names(origin: &str, text: &str) -> Result<Vec<String>> {
    let file = crate::hcl::parse_text(std::path::Path::new(origin), text.to_string())?;
    Ok(crate::services::entries(&file)?.into_iter().map(|(name, _, _)| name).collect())
}

