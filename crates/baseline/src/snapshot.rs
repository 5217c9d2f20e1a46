//! Approved baselines: what is snapshotted, where the snapshot files live, and whether they
//! are stale.
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::diff::{diff, Change};
use crate::view::{view, PlanView};

/// Snapshot files, relative to the repository root (insta's default place for the crate).
pub const SNAPSHOT_DIR: &str = "crates/baseline/tests/snapshots";

pub const UPDATE_HINT: &str =
    "cargo xtask baseline update (or cargo test -p lz-baseline --test baselines, then cargo xtask baseline review)";

/// Something with an approved baseline.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// `environments/` rendered with `environments/<name>/terraform.tfvars`.
    Environment(String),
    /// `modules/<name>/examples/basic`.
    ModuleExample(String),
}

impl Subject {
    /// Snapshot name (file name without `.snap`).
    pub fn snapshot_name(&self) -> String {
        match self {
            Subject::Environment(e) => format!("env-{e}"),
            Subject::ModuleExample(m) => format!("module-{m}"),
        }
    }

    pub fn snapshot_file(&self, root: &Path) -> PathBuf {
        root.join(SNAPSHOT_DIR).join(format!("{}.snap", self.snapshot_name()))
    }

    /// The raw plan of the subject as the offline renderer prints it.
    pub fn render(&self, root: &Path) -> Result<Value> {
        match self {
            Subject::Environment(env) => render_env(root, env),
            Subject::ModuleExample(m) => {
                let dir = root.join("modules").join(m).join("examples/basic");
                tfrender::render_dir(&dir, &lz_schema::render_options(root, Vec::new())?)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("rendering module example {m}"))
            }
        }
    }

    /// The modules (catalog names) the subject calls, with the modules those call in turn
    /// (`source = "../NAME"` inside a module, e.g. log-archive calling s3-bucket).
    fn modules(&self, root: &Path) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        match self {
            Subject::ModuleExample(m) => {
                out.insert(m.clone());
            }
            Subject::Environment(_) => {
                let re = regex::Regex::new(r#"source\s*=\s*"\.\./modules/([A-Za-z0-9_-]+)""#).expect("static regex");
                out.extend(sources_in(&root.join("environments"), &re)?);
            }
        }
        let nested = regex::Regex::new(r#"source\s*=\s*"\.\./([A-Za-z0-9_-]+)""#).expect("static regex");
        let mut todo: Vec<String> = out.iter().cloned().collect();
        while let Some(m) = todo.pop() {
            let dir = root.join("modules").join(&m);
            for called in sources_in(&dir, &nested)? {
                if out.insert(called.clone()) {
                    todo.push(called);
                }
            }
        }
        Ok(out)
    }

    /// The header lines of the snapshot: what it covers and at which module versions.
    pub fn header(&self, root: &Path) -> Result<Vec<String>> {
        let versions = module_versions(root)?;
        // Services pinned to an older version (issue 32), per module: "order-gateway on 1.0.0".
        let pinned = match self {
            Subject::Environment(e) => lz_repo::released::pinned(root, e)?,
            Subject::ModuleExample(_) => Vec::new(),
        };
        let mods: Vec<String> = self
            .modules(root)?
            .into_iter()
            .map(|m| {
                let on: Vec<String> = pinned.iter().filter(|p| p.module == m).map(|p| format!("{} on {}", p.service, p.version)).collect();
                let on = if on.is_empty() { String::new() } else { format!(" ({})", on.join(", ")) };
                match versions.iter().find(|(n, _)| *n == m) {
                    Some((_, v)) => format!("{m} {v}{on}"),
                    None => format!("{m} (not in modules/catalog.toml)"),
                }
            })
            .collect();
        let what = match self {
            Subject::Environment(e) => {
                format!("Approved baseline of environment {e}: environments/ with environments/{e}/terraform.tfvars")
            }
            Subject::ModuleExample(m) => format!("Approved baseline of module {m}: modules/{m}/examples/basic"),
        };
        Ok(vec![
            what,
            format!("Module versions: {}", mods.join(", ")),
            format!("Update: {UPDATE_HINT}"),
        ])
    }
}

/// The first capture of `re` over every `.tf` file directly in `dir` (none when `dir` is absent).
fn sources_in(dir: &Path, re: &regex::Regex) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for e in entries {
        let p = e.with_context(|| format!("reading {}", dir.display()))?.path();
        if p.extension().is_some_and(|x| x == "tf") {
            let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            out.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
        }
    }
    Ok(out)
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Environment(e) => write!(f, "environment {e}"),
            Subject::ModuleExample(m) => write!(f, "module example {m}"),
        }
    }
}

/// The raw offline plan of an environment.
pub fn render_env(root: &Path, env: &str) -> Result<Value> {
    render_env_in(root, env, |dir, opts| tfrender::render_dir(dir, opts))
}

/// [`render_env`] from configurations loaded once per run: rendering several environments
/// parses `environments/` and the modules once.
pub fn render_env_cached(cache: &tfrender::RenderCache, root: &Path, env: &str) -> Result<Value> {
    render_env_in(root, env, |dir, opts| cache.render_dir(dir, opts))
}

/// [`render_env`] from the one cache of this process: a command (one run) parses
/// `environments/` and its modules once however many environments it renders.
pub fn render_env_shared(root: &Path, env: &str) -> Result<Value> {
    static CACHE: std::sync::OnceLock<tfrender::RenderCache> = std::sync::OnceLock::new();
    render_env_cached(CACHE.get_or_init(tfrender::RenderCache::new), root, env)
}

/// [`render_env`] from a configuration of `environments/` already loaded.
pub fn render_env_prepared(prepared: &tfrender::Prepared, root: &Path, env: &str) -> Result<Value> {
    render_env_in(root, env, |_, opts| prepared.render(opts))
}

fn render_env_in(
    root: &Path,
    env: &str,
    render: impl FnOnce(&Path, &tfrender::RenderOptions) -> Result<Value, tfrender::RenderError>,
) -> Result<Value> {
    let var_file = root.join("environments").join(env).join("terraform.tfvars");
    if !var_file.is_file() {
        bail!("unknown environment {env:?}: {} does not exist", var_file.display());
    }
    // Services pinned to an older module version render from its released copy (issue 32).
    let opts = lz_schema::env_render_options(root, env)?;
    render(&root.join("environments"), &opts)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("rendering environment {env}"))
}

/// `(name, version)` of every module in `modules/catalog.toml` (`lz_repo::catalog::entries`).
pub fn module_versions(root: &Path) -> Result<Vec<(String, String)>> {
    Ok(lz_repo::catalog::entries(root)?
        .into_iter()
        .map(|(name, entry)| {
            let v = entry.get("version").and_then(|v| v.as_str()).unwrap_or("unversioned").to_string();
            (name, v)
        })
        .collect())
}

/// Environments (with an overlay) in the order dev, test, uat, preprod, prod, then any other
/// by name (`lz_repo::env::present`).
pub fn environments(root: &Path) -> Result<Vec<String>> {
    lz_repo::env::present(root)
}

/// Every environment, then every module with an `examples/basic`.
pub fn subjects(root: &Path) -> Result<Vec<Subject>> {
    let mut out: Vec<Subject> = environments(root)?.into_iter().map(Subject::Environment).collect();
    let mut mods = Vec::new();
    let dir = root.join("modules");
    for e in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e?;
        if e.path().join("examples/basic").is_dir() {
            mods.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    mods.sort();
    out.extend(mods.into_iter().map(Subject::ModuleExample));
    Ok(out)
}

/// The baseline text of a subject as the working tree renders it.
pub fn baseline_text(root: &Path, subject: &Subject) -> Result<String> {
    let plan = subject.render(root)?;
    Ok(view(&tfrender::normalize(&plan)).to_text(&subject.header(root)?))
}

/// The content of an insta snapshot file (after its `---` metadata block), trailing
/// whitespace trimmed as insta compares it.
pub fn snapshot_contents(text: &str) -> String {
    let body = match text.strip_prefix("---\n") {
        Some(rest) => match rest.find("\n---\n") {
            Some(i) => &rest[i + 5..],
            None => "",
        },
        None => text,
    };
    body.replace("\r\n", "\n").trim_end().to_string()
}

/// The approved baseline text of a subject, `None` when it has no snapshot file.
pub fn approved_text(root: &Path, subject: &Subject) -> Result<Option<String>> {
    let path = subject.snapshot_file(root);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(snapshot_contents(&t))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The approved baseline as a plan view.
pub fn approved_view(root: &Path, subject: &Subject) -> Result<PlanView> {
    let Some(text) = approved_text(root, subject)? else {
        bail!(
            "{subject} has no approved baseline ({} is missing); create it with {UPDATE_HINT}",
            rel(root, &subject.snapshot_file(root)).display()
        );
    };
    PlanView::parse(&text, &rel(root, &subject.snapshot_file(root)).display().to_string())
}

/// The diff of the working tree against the approved baseline of an environment.
pub fn env_diff(root: &Path, env: &str) -> Result<crate::Diff> {
    env_diff_of(root, env, &render_env(root, env)?)
}

/// [`env_diff`] of a plan of the environment already rendered (`render_env`).
pub fn env_diff_of(root: &Path, env: &str, plan: &Value) -> Result<crate::Diff> {
    let old = approved_view(root, &Subject::Environment(env.to_string()))?;
    Ok(diff(&old, &view(&tfrender::normalize(plan))))
}

pub(crate) fn rel(root: &Path, p: &Path) -> PathBuf {
    p.strip_prefix(root).unwrap_or(p).to_path_buf()
}

/// An approved baseline that no longer matches the working tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleBaseline {
    /// `environment dev`, `module example network`, or the snapshot name of an orphan.
    pub subject: String,
    /// The snapshot file, relative to the repository root.
    pub file: PathBuf,
    pub message: String,
}

impl fmt::Display for StaleBaseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: approved baseline of {} is stale: {}",
            self.file.display(),
            self.subject,
            self.message
        )
    }
}

/// Every stale, missing or orphaned approved baseline. Render failures are errors.
pub fn stale_baselines(root: &Path) -> Result<Vec<StaleBaseline>> {
    let mut out = Vec::new();
    let subjects = subjects(root)?;
    for s in &subjects {
        let file = rel(root, &s.snapshot_file(root));
        let current = baseline_text(root, s)?;
        let Some(approved) = approved_text(root, s)? else {
            out.push(StaleBaseline {
                subject: s.to_string(),
                file,
                message: format!("no approved baseline yet; create it with {UPDATE_HINT}"),
            });
            continue;
        };
        if approved == current.trim_end() {
            continue;
        }
        let old = PlanView::parse(&approved, &file.display().to_string())?;
        let new = PlanView::parse(&current, "working tree")?;
        let d = diff(&old, &new);
        let summary = if d.is_empty() {
            let header = |t: &str| {
                t.lines()
                    .take_while(|l| l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            format!("header changed: {}", header(&current))
        } else {
            summarize(&d)
        };
        out.push(StaleBaseline {
            subject: s.to_string(),
            file,
            message: format!("{summary}; update it with {UPDATE_HINT}"),
        });
    }
    let known: BTreeSet<String> = subjects.iter().map(Subject::snapshot_name).collect();
    if let Ok(rd) = std::fs::read_dir(root.join(SNAPSHOT_DIR)) {
        let mut orphans: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "snap"))
            .filter(|p| !known.contains(&p.file_stem().unwrap_or_default().to_string_lossy().into_owned()))
            .collect();
        orphans.sort();
        for p in orphans {
            out.push(StaleBaseline {
                subject: p.file_stem().unwrap_or_default().to_string_lossy().into_owned(),
                file: rel(root, &p),
                message: "no environment or module example has this baseline any more; delete the file".into(),
            });
        }
    }
    Ok(out)
}

/// One line naming the first changes: `~ address path: old -> new`.
pub fn summarize(d: &crate::Diff) -> String {
    let mut parts = Vec::new();
    for r in d.resources.iter().chain(&d.outputs) {
        let first = r.attributes.first();
        let s = match (r.change, first) {
            (Change::Changed, Some(a)) => format!(
                "{} {}: {} -> {}",
                r.address,
                a.path,
                a.old
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(absent)".into()),
                a.new
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(absent)".into())
            ),
            (Change::Added, _) => format!("{} added", r.address),
            (Change::Removed, _) => format!("{} removed", r.address),
            (Change::Changed, None) => format!("{} changed", r.address),
        };
        parts.push(s);
    }
    let n = parts.len();
    let mut shown: Vec<String> = parts.into_iter().take(3).collect();
    if n > 3 {
        shown.push(format!("and {} more", n - 3));
    }
    format!("{} resource(s) differ: {}", d.resources.len(), shown.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_contents_skips_metadata() {
        let t = "---\nsource: x.rs\ndescription: \"a: b\"\n---\n# h\na.b: create\n  k = 1\n\n";
        assert_eq!(snapshot_contents(t), "# h\na.b: create\n  k = 1");
    }
}
