//! The AWS provider's resource schema, vendored into the repository so that the offline gate
//! can validate `aws_*` resources and plan them with the provider's computed attributes.
//!
//! - [`import`] builds the vendored file (`schema/aws-provider.json`, the shape of
//!   `terraform providers schema -json`, restricted to the resource types the repository uses)
//!   from the `@cdktf/provider-aws` npm package ([`npm`]) or from the real
//!   `terraform providers schema -json` output, with its provenance in the file.
//! - The npm bindings carry no `sensitive` flags: `schema/sensitive.toml` adds them, each row
//!   citing the provider documentation page.
//! - [`drift`] compares the vendored file with a fresh import (the CI job with the real
//!   provider runs it), [`missing_types`] lists the `aws_*` types a module uses that the
//!   vendored file lacks (a gate finding naming the import command).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

pub mod npm;

/// The vendored schema, relative to the repository root.
pub const VENDORED: &str = "schema/aws-provider.json";
/// The table of sensitive attributes the npm bindings lack.
pub const SENSITIVE: &str = "schema/sensitive.toml";
/// The provider whose schema is vendored.
pub const PROVIDER: &str = "registry.terraform.io/hashicorp/aws";
/// Where the repository's Terraform lives.
/// (`released` holds copies of older module versions that pinned services render from.)
pub const TERRAFORM_DIRS: [&str; 4] = ["modules", "environments", "released", "stacks"];
/// The command that regenerates the vendored file (named by findings).
pub const IMPORT_COMMAND: &str = "npm pack @cdktf/provider-aws@21.22.1 && cargo xtask schema import --from-npm cdktf-provider-aws-21.22.1.tgz";

/// Where a vendored schema comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The `@cdktf/provider-aws` package: a directory or the `.tgz` of `npm pack`.
    Npm(PathBuf),
    /// `terraform providers schema -json` output, and the provider version it describes
    /// (`terraform version -json` names it under `provider_selections`).
    Terraform { file: PathBuf, provider_version: String },
}

/// One `resource "aws_..."` block: its type and where it is first declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    pub ty: String,
    pub file: PathBuf,
    pub line: usize,
}

/// Every `aws_*` managed resource type declared under modules/, environments/ and stacks/,
/// with its first declaration (files relative to `root`).
pub fn used_types(root: &Path) -> Result<BTreeMap<String, Use>> {
    let re = regex::Regex::new(r#"^\s*resource\s+"(aws_[a-z0-9_]+)"\s+"#).map_err(|e| anyhow!("{e}"))?;
    let mut out: BTreeMap<String, Use> = BTreeMap::new();
    for dir in TERRAFORM_DIRS {
        let base = root.join(dir);
        if !base.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&base)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "tf"))
            .filter(|e| !e.path().components().any(|c| c.as_os_str() == ".terraform"))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            for (i, line) in text.lines().enumerate() {
                if let Some(c) = re.captures(line) {
                    let rel = f.strip_prefix(root).unwrap_or(&f).to_path_buf();
                    out.entry(c[1].to_string()).or_insert(Use { ty: c[1].to_string(), file: rel, line: i + 1 });
                }
            }
        }
    }
    Ok(out)
}

/// A row of `schema/sensitive.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitiveRow {
    #[serde(rename = "type")]
    pub ty: String,
    /// Attribute path: `name`, or `block.name` inside nested blocks.
    pub attribute: String,
    /// The provider documentation page that says the attribute is sensitive.
    pub doc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensitiveTable {
    #[serde(default)]
    sensitive: Vec<SensitiveRow>,
}

/// The sensitive-attribute table; every row must cite a documentation page.
pub fn sensitive_table(root: &Path) -> Result<Vec<SensitiveRow>> {
    let path = root.join(SENSITIVE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let t: SensitiveTable = lz_repo::parse_toml(&text, &path.display().to_string())?;
    for r in &t.sensitive {
        if !r.doc.starts_with("https://") {
            bail!("{}: row {}.{}: doc must be the https address of the provider documentation page", path.display(), r.ty, r.attribute);
        }
    }
    Ok(t.sensitive)
}

/// Build the vendored document for `types` from a source.
pub fn import(root: &Path, source: &Source, types: &[String]) -> Result<Json> {
    let (schemas, provenance) = match source {
        Source::Npm(path) => {
            let pkg = npm::Package::open(path)?;
            if pkg.provider != PROVIDER {
                bail!("{}: the package binds {}, not {PROVIDER}", path.display(), pkg.provider);
            }
            let mut schemas = Map::new();
            let mut missing = Vec::new();
            for t in types {
                match pkg.resource_source(t)? {
                    Some(ts) => {
                        let (_, block) = npm::resource_block(&ts).with_context(|| format!("reading the bindings of {t}"))?;
                        schemas.insert(t.clone(), json!({ "version": 0, "block": block }));
                    }
                    None => missing.push(t.clone()),
                }
            }
            if !missing.is_empty() {
                bail!("{}: no bindings for {} (provider {} {})", path.display(), missing.join(", "), pkg.provider, pkg.provider_version);
            }
            for row in sensitive_table(root)? {
                let Some(s) = schemas.get_mut(&row.ty) else { continue };
                let attr = attribute_at(&mut s["block"], &row.attribute)
                    .ok_or_else(|| anyhow!("{SENSITIVE}: {} has no attribute {}", row.ty, row.attribute))?;
                attr.insert("sensitive".into(), json!(true));
            }
            let prov = json!({
                "source": format!("npm {}@{}", pkg.name, pkg.version),
                "provider": pkg.provider,
                "provider_version": pkg.provider_version,
                "sensitive_from": SENSITIVE,
                "not_carried": "schema versions (0 here), min_items/max_items beyond required and at-most-one, single vs list nesting of one-item blocks (timeouts single, others list), descriptions",
            });
            (schemas, prov)
        }
        Source::Terraform { file, provider_version } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let doc: Json = serde_json::from_str(&text).map_err(|e| anyhow!("{}:{}:{}: {e}", file.display(), e.line(), e.column()))?;
            let all = doc
                .pointer(&format!("/provider_schemas/{}/resource_schemas", PROVIDER.replace('/', "~1")))
                .and_then(Json::as_object)
                .ok_or_else(|| anyhow!("{}: no provider_schemas.\"{PROVIDER}\".resource_schemas", file.display()))?;
            let mut schemas = Map::new();
            let mut missing = Vec::new();
            for t in types {
                match all.get(t) {
                    Some(s) => {
                        let block = normalize_block(&s["block"]);
                        schemas.insert(t.clone(), json!({ "version": s.get("version").cloned().unwrap_or(json!(0)), "block": block }));
                    }
                    None => missing.push(t.clone()),
                }
            }
            if !missing.is_empty() {
                bail!("{}: the provider has no resource type {}", file.display(), missing.join(", "));
            }
            let prov = json!({
                "source": "terraform providers schema -json",
                "provider": PROVIDER,
                "provider_version": provider_version,
            });
            (schemas, prov)
        }
    };
    Ok(json!({
        "format_version": "1.0",
        "provenance": provenance,
        "provider_schemas": { PROVIDER: { "resource_schemas": schemas } },
    }))
}

/// The attribute object at a dotted path (`rule.id`) in a block, through nested blocks.
fn attribute_at<'a>(block: &'a mut Json, path: &str) -> Option<&'a mut Map<String, Json>> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop()?;
    let mut b = block;
    for p in parts {
        b = b.get_mut("block_types")?.get_mut(p)?.get_mut("block")?;
    }
    b.get_mut("attributes")?.get_mut(last)?.as_object_mut()
}

/// Keep what the vendored file carries: types, flags, nesting and item limits (no
/// descriptions or deprecation notes); a framework `nested_type` becomes its object type.
pub fn normalize_block(b: &Json) -> Json {
    let mut out = Map::new();
    if let Some(attrs) = b.get("attributes").and_then(Json::as_object) {
        let mut m = Map::new();
        for (k, a) in attrs {
            let mut n = Map::new();
            let ty = match (a.get("type"), a.get("nested_type")) {
                (Some(t), _) => t.clone(),
                (None, Some(nt)) => nested_type_to_type(nt),
                _ => json!("dynamic"),
            };
            n.insert("type".into(), ty);
            for f in ["required", "optional", "computed", "sensitive"] {
                if a.get(f).and_then(Json::as_bool) == Some(true) {
                    n.insert(f.into(), json!(true));
                }
            }
            m.insert(k.clone(), Json::Object(n));
        }
        if !m.is_empty() {
            out.insert("attributes".into(), Json::Object(m));
        }
    }
    if let Some(bts) = b.get("block_types").and_then(Json::as_object) {
        let mut m = Map::new();
        for (k, bt) in bts {
            let mut n = Map::new();
            n.insert("nesting_mode".into(), bt.get("nesting_mode").cloned().unwrap_or(json!("list")));
            n.insert("block".into(), normalize_block(&bt["block"]));
            for f in ["min_items", "max_items"] {
                if let Some(x) = bt.get(f).and_then(Json::as_u64).filter(|x| *x > 0) {
                    n.insert(f.into(), json!(x));
                }
            }
            m.insert(k.clone(), Json::Object(n));
        }
        if !m.is_empty() {
            out.insert("block_types".into(), Json::Object(m));
        }
    }
    Json::Object(out)
}

fn nested_type_to_type(nt: &Json) -> Json {
    let mut o = Map::new();
    if let Some(attrs) = nt.get("attributes").and_then(Json::as_object) {
        for (k, a) in attrs {
            let t = match (a.get("type"), a.get("nested_type")) {
                (Some(t), _) => t.clone(),
                (None, Some(n)) => nested_type_to_type(n),
                _ => json!("dynamic"),
            };
            o.insert(k.clone(), t);
        }
    }
    let obj = json!(["object", o]);
    match nt.get("nesting_mode").and_then(Json::as_str) {
        Some("list") => json!(["list", obj]),
        Some("set") => json!(["set", obj]),
        Some("map") => json!(["map", obj]),
        _ => obj,
    }
}

/// The vendored document of the repository.
pub fn load(root: &Path) -> Result<Json> {
    let path = root.join(VENDORED);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {} (create it with: {IMPORT_COMMAND})", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
}

/// The vendored schema as the renderer takes it, parsed once per path and process.
pub fn provider_schema(root: &Path) -> Result<std::sync::Arc<tfrender::ProviderSchema>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<BTreeMap<PathBuf, Arc<tfrender::ProviderSchema>>>> = OnceLock::new();
    let path = root.join(VENDORED);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().map_err(|_| anyhow!("schema cache poisoned"))?.get(&path) {
        return Ok(s.clone());
    }
    let doc = load(root)?;
    let s = Arc::new(tfrender::ProviderSchema::from_json(&doc).map_err(|e| anyhow!("{}: {e}", path.display()))?);
    cache.lock().map_err(|_| anyhow!("schema cache poisoned"))?.insert(path, s.clone());
    Ok(s)
}

/// Render options for a configuration of this repository: the vendored provider schema on, and
/// every module loaded from inside `root` (a release's configuration renders only its own code).
pub fn render_options(root: &Path, var_files: Vec<PathBuf>) -> Result<tfrender::RenderOptions> {
    Ok(tfrender::RenderOptions { var_files, schema: Some(provider_schema(root)?), within: Some(root.to_path_buf()), ..Default::default() })
}

/// Render options for environment `env` of the tree at `root`: [`render_options`] with its
/// overlay, and every service pinned to an older module version rendered from that version's
/// released copy (issue 32, `lz_repo::released::pinned`). Every render of an environment (the
/// baselines, the gate, a release's plan) goes through it.
pub fn env_render_options(root: &Path, env: &str) -> Result<tfrender::RenderOptions> {
    let overlay = root.join("environments").join(env).join("terraform.tfvars");
    let mut opts = render_options(root, vec![overlay])?;
    opts.instance_sources = lz_repo::released::pinned(root, env)?
        .into_iter()
        .map(|p| tfrender::InstanceSource {
            call_source: p.call_source(),
            key: p.service.clone(),
            source: p.source(),
            call_suffix: lz_repo::released::version_suffix(&p.version),
        })
        .collect();
    Ok(opts)
}

/// `cargo xtask render DIR`: the raw offline plan of the configuration in `dir` with this
/// repository's schema, `var_files` applied after `terraform.tfvars` and `*.auto.tfvars`, then
/// `vars` (each `NAME=VALUE`, applied last).
pub fn render_config(root: &Path, dir: &Path, var_files: Vec<PathBuf>, vars: &[String]) -> Result<serde_json::Value> {
    let mut opts = tfrender::RenderOptions { within: None, ..render_options(root, var_files)? };
    for v in vars {
        let Some((k, val)) = v.split_once('=') else {
            bail!("invalid --var {v:?}: expected NAME=VALUE");
        };
        opts.vars.push((k.to_string(), val.to_string()));
    }
    Ok(tfrender::render_dir(dir, &opts)?)
}

/// Schema validation errors of configuration directories (each error once, in file order;
/// files shown relative to `root`).
pub fn validate_dirs(root: &Path, dirs: &[PathBuf]) -> Result<Vec<tfrender::RenderError>> {
    let schema = provider_schema(root)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for d in dirs {
        let errs = tfrender::validate_dir(d, &schema).map_err(|e| anyhow!("{e}"))?;
        for mut e in errs {
            if let Some(f) = &e.file {
                let canon = f.canonicalize().unwrap_or_else(|_| f.clone());
                let root_c = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
                e.file = Some(canon.strip_prefix(&root_c).map(Path::to_path_buf).unwrap_or(canon));
            }
            if seen.insert((e.file.clone(), e.line, e.column, e.message.clone())) {
                out.push(e);
            }
        }
    }
    out.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    Ok(out)
}

/// The resource schemas object of a vendored document.
pub fn resource_schemas(doc: &Json) -> Option<&Map<String, Json>> {
    doc.pointer(&format!("/provider_schemas/{}/resource_schemas", PROVIDER.replace('/', "~1"))).and_then(Json::as_object)
}

/// The text written to the vendored file (stable: keys in schema order, two-space indent).
pub fn render(doc: &Json) -> Result<String> {
    Ok(serde_json::to_string_pretty(&sort_keys(doc))? + "\n")
}

fn sort_keys(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let b: BTreeMap<&String, Json> = m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Json::Object(b.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Json::Array(a) => Json::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Types used by the repository that the vendored file lacks.
pub fn missing_types(root: &Path) -> Result<Vec<Use>> {
    let used = used_types(root)?;
    let doc = load(root)?;
    let have = resource_schemas(&doc).ok_or_else(|| anyhow!("{VENDORED}: no provider_schemas.\"{PROVIDER}\".resource_schemas"))?;
    Ok(used.into_values().filter(|u| !have.contains_key(&u.ty)).collect())
}

/// Differences between the vendored schemas and a fresh import, one line per differing
/// path (at most `limit` lines; the last says how many more).
pub fn drift(vendored: &Json, fresh: &Json, limit: usize) -> Vec<String> {
    let empty = Map::new();
    let a = resource_schemas(vendored).unwrap_or(&empty);
    let b = resource_schemas(fresh).unwrap_or(&empty);
    let mut out = Vec::new();
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        diff_json(&format!("{k}"), a.get(k.as_str()), b.get(k.as_str()), &mut out);
    }
    if out.len() > limit {
        let more = out.len() - limit;
        out.truncate(limit);
        out.push(format!("... and {more} more"));
    }
    out
}

fn diff_json(path: &str, a: Option<&Json>, b: Option<&Json>, out: &mut Vec<String>) {
    match (a, b) {
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff_json(&format!("{path}.{k}"), x.get(k.as_str()), y.get(k.as_str()), out);
            }
        }
        (Some(x), Some(y)) if x == y => {}
        (Some(x), Some(y)) => out.push(format!("{path}: vendored {x}, provider {y}")),
        (Some(x), None) => out.push(format!("{path}: vendored {x}, absent from the provider")),
        (None, Some(y)) => out.push(format!("{path}: missing from the vendored file, provider {y}")),
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests;
