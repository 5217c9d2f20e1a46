//! Where a plan resource comes from in the sources: the `resource` block that declares it
//! (following `module` blocks from `environments/` through their `source`), and, for an instance
//! of a module called with `for_each = var.NAME`, the overlay entry of the environment's
//! `terraform.tfvars` that produced it. Findings name these places (file:line:col with the
//! line's text) instead of the plan.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::hcl::{self, HclFile};

/// A place in a source file, relative to the repository root (the one type findings name too).
pub use lz_repo::diag::Place;

/// The overlay entry (a key of a map variable) a module instance was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub variable: String,
    pub key: String,
    pub place: Place,
}

/// Where one resource address comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The `resource` block that declares it.
    pub declaration: Place,
    /// The overlay entry that produced the module instance holding it.
    pub entry: Option<Entry>,
}

impl Origin {
    /// The place to show first: the overlay entry when there is one (what a service team
    /// edits), else the declaration.
    pub fn primary(&self) -> &Place {
        self.entry.as_ref().map(|e| &e.place).unwrap_or(&self.declaration)
    }
}

/// One step of an address: `module.NAME[KEY]` or the resource `TYPE.NAME[KEY]`.
#[derive(Debug, PartialEq)]
struct Step {
    name: String,
    key: Option<String>,
}

/// (module steps, resource type, resource step, whether it is a data source) of an address.
fn parse_address(address: &str) -> Option<(Vec<Step>, String, Step, bool)> {
    let mut modules = Vec::new();
    let mut rest = address;
    loop {
        let Some(after) = rest.strip_prefix("module.") else { break };
        let (step, r) = step(after)?;
        modules.push(step);
        rest = r.strip_prefix('.')?;
    }
    let data = rest.starts_with("data.");
    let rest = rest.strip_prefix("data.").unwrap_or(rest);
    let (ty, r) = rest.split_once('.')?;
    let (res, r) = step(r)?;
    if !r.is_empty() || ty.is_empty() {
        return None;
    }
    Some((modules, ty.to_string(), res, data))
}

/// `NAME` or `NAME[KEY]` (KEY quoted or a number) at the start of `s`, and what follows.
fn step(s: &str) -> Option<(Step, &str)> {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    let name = s[..end].to_string();
    if name.is_empty() {
        return None;
    }
    let rest = &s[end..];
    let Some(inner) = rest.strip_prefix('[') else { return Some((Step { name, key: None }, rest)) };
    let close = if let Some(q) = inner.strip_prefix('"') { q.find("\"]")? + 2 } else { inner.find(']')? };
    let key = inner[..close].trim_matches('"').to_string();
    Some((Step { name, key: Some(key) }, &inner[close + 1..]))
}

fn place(root: &Path, file: &HclFile, offset: usize) -> Place {
    let line = file.line_of(offset);
    let text = file.text.lines().nth(line - 1).unwrap_or_default();
    let column = text.len() - text.trim_start().len() + 1;
    Place { file: relative(root, &file.path), line, column, snippet: text.trim().to_string() }
}

fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// Parsed module directories, so one run reads each once.
#[derive(Default)]
pub struct SourceMap {
    root: PathBuf,
    env: String,
    dirs: std::collections::BTreeMap<PathBuf, Vec<HclFile>>,
    overlay: Option<Option<HclFile>>,
}

impl SourceMap {
    /// The sources of `environments/` and the overlay of `env` under `root`.
    pub fn new(root: &Path, env: &str) -> SourceMap {
        SourceMap { root: root.to_path_buf(), env: env.to_string(), ..Default::default() }
    }

    fn dir(&mut self, dir: &Path) -> Option<&Vec<HclFile>> {
        let dir = dir.canonicalize().ok()?;
        if !self.dirs.contains_key(&dir) {
            let files = hcl::parse_module_dir(&dir).ok()?;
            self.dirs.insert(dir.clone(), files);
        }
        self.dirs.get(&dir)
    }

    /// Where `address` comes from, or `None` when its declaration cannot be found.
    pub fn origin(&mut self, address: &str) -> Option<Origin> {
        let (modules, ty, res, data) = parse_address(address)?;
        let root = self.root.canonicalize().unwrap_or_else(|_| self.root.clone());
        let mut dir = root.join("environments");
        // The first module call with a key made from `var.NAME`: the overlay entry.
        let mut entry_of: Option<(String, String)> = None;
        for (i, m) in modules.iter().enumerate() {
            let files = self.dir(&dir)?;
            let (source, for_each) = files.iter().find_map(|f| {
                hcl::blocks(&f.body, "module").find(|b| hcl::labels(b) == [m.name.as_str()]).map(|b| {
                    let attr = |k: &str| b.body.get_attribute(k).map(|a| hcl::source_of(f, &a.value));
                    (attr("source"), attr("for_each"))
                })
            })?;
            let source = source?.trim_matches('"').to_string();
            if i == 0 && entry_of.is_none() {
                if let (Some(key), Some(var)) = (&m.key, for_each.as_deref().and_then(|e| e.strip_prefix("var."))) {
                    if var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        entry_of = Some((var.to_string(), key.clone()));
                    }
                }
            }
            if !source.starts_with('.') {
                return None;
            }
            dir = dir.join(source);
        }
        let declaration = {
            let files = self.dir(&dir)?;
            let kind = if data { "data" } else { "resource" };
            files.iter().find_map(|f| {
                hcl::blocks(&f.body, kind)
                    .find(|b| hcl::labels(b) == [ty.as_str(), res.name.as_str()])
                    .and_then(|b| hcl_edit::Span::span(b).map(|s| place(&root, f, s.start)))
            })?
        };
        let entry = entry_of.and_then(|(var, key)| self.entry(&root, &var, &key));
        Some(Origin { declaration, entry })
    }

    /// The line of `key` inside the map `variable = { ... }` of the environment's overlay.
    fn entry(&mut self, root: &Path, variable: &str, key: &str) -> Option<Entry> {
        if self.overlay.is_none() {
            let path = root.join("environments").join(&self.env).join("terraform.tfvars");
            self.overlay = Some(hcl::parse_file(&path).ok());
        }
        let file = self.overlay.as_ref()?.as_ref()?;
        let attr = file.body.get_attribute(variable)?;
        let span = hcl_edit::Span::span(&attr.value)?;
        let text = &file.text[span.clone()];
        // Keys of the map itself: at the first nesting level of the object.
        let mut depth = 0usize;
        let mut at = 0usize;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if depth == 1 {
                let k = trimmed.split(['=', ':']).next().unwrap_or_default().trim().trim_matches('"');
                if k == key && (trimmed.contains('=') || trimmed.contains(':')) {
                    let offset = span.start + at + (line.len() - trimmed.len());
                    return Some(Entry { variable: variable.to_string(), key: key.to_string(), place: place(root, file, offset) });
                }
            }
            for c in line.chars() {
                match c {
                    '{' | '[' => depth += 1,
                    '}' | ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            at += line.len();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
    }

    #[test]
    fn a_service_resource_comes_from_its_module_declaration_and_its_overlay_entry() {
        let mut map = SourceMap::new(&root(), "dev");
        let o = map.origin("module.service[\"market-data\"].aws_iam_role.task").expect("located");
        assert!(o.declaration.file.starts_with("modules/trading-service/"), "{o:?}");
        assert!(o.declaration.snippet.starts_with("resource \"aws_iam_role\" \"task\""), "{o:?}");
        let e = o.entry.as_ref().expect("an overlay entry");
        assert_eq!((e.variable.as_str(), e.key.as_str(), e.place.file.as_str()), ("services", "market-data", "environments/dev/terraform.tfvars"));
        assert!(e.place.snippet.starts_with("market-data = {"), "{e:?}");
        let text = std::fs::read_to_string(root().join("environments/dev/terraform.tfvars")).unwrap();
        assert_eq!(text.lines().nth(e.place.line - 1).unwrap().trim(), e.place.snippet);
        assert_eq!(e.place.column, 3);
        assert_eq!(o.primary(), &e.place);
        // A root resource of a module without for_each: its declaration only.
        let o = map.origin("module.identity.aws_iam_role.this[\"deployer\"]").expect("located");
        assert!(o.entry.is_none() && o.declaration.file.starts_with("modules/identity/"), "{o:?}");
        // An address that names nothing in the sources: none, never a guess.
        assert!(map.origin("module.service[\"nope\"].aws_iam_role.nothing").is_none());
        assert!(map.origin("module.service[\"nope\"].aws_iam_role.task").unwrap().entry.is_none());
    }

    #[test]
    fn addresses_parse_into_module_steps_and_the_resource() {
        let (m, ty, r, data) = parse_address("module.service[\"fx.pricing\"].module.bucket.aws_s3_bucket.this[0]").unwrap();
        assert!(!data);
        assert_eq!(m, [Step { name: "service".into(), key: Some("fx.pricing".into()) }, Step { name: "bucket".into(), key: None }]);
        assert_eq!((ty.as_str(), r), ("aws_s3_bucket", Step { name: "this".into(), key: Some("0".into()) }));
        assert!(parse_address("aws_s3_bucket").is_none());
        assert!(parse_address("module.x").is_none());
    }
}
