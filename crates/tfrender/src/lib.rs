//! Offline Terraform plan renderer: renders what `terraform show -json` prints for a saved
//! plan of a configuration with no prior state, following Terraform 1.15 semantics, without
//! providers.
//!
//! Model:
//! - `terraform_data` has its real schema: `id` unknown, `output` unknown with the type of
//!   `input` (null when `input` is null), as Terraform plans a create.
//! - Managed resources whose type is in `RenderOptions::schema` (the vendored AWS provider
//!   schema) are validated like `terraform validate` and planned as the provider would: every
//!   schema attribute, unset computed ones unknown, blocks per nesting mode (`validate.rs`).
//! - Other managed resources have no schema: they carry the arguments and nested blocks set
//!   in configuration (each block type a list of objects) plus `id`; any attribute that is
//!   referenced but not set is unknown.
//! - Data sources are reads deferred to apply: `actions = ["read"]`, arguments known,
//!   every other attribute unknown.
//! - Unknowns, sensitive marks and "not null" refinements (ids, `uuid()`, `timestamp()`,
//!   templates) propagate as in Terraform; `after_unknown`, `after_sensitive` and
//!   `sensitive_values` follow Terraform's JSON encoding.
//! - `file`, `fileexists` and `templatefile` resolve paths from the root module directory,
//!   as Terraform does when run there (`path.module` gives the module's relative path).
//!
//! Not supported (each is an error naming the construct and its place): `.tf.json` and
//! override files, non-local module sources, provider-defined functions, ephemeral
//! resources/variables/outputs, scoped data sources inside `check` blocks. Numbers are
//! 64-bit floats: integers are exact up to 2^53 (printed exactly up to 2^63), so values such
//! as 9007199254740993 or 1e21 differ from Terraform's arbitrary precision.
use std::collections::HashMap as StdHashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod confine;
mod error;
mod eval;
mod functions;
mod graph;
mod hash;
mod load;
mod modules;
mod normalize;
mod plan;
mod plantime;
mod schema;
mod syntax;
mod template;
mod types;
mod validate;
mod value;

pub use error::{ErrorKind, RenderError};
pub use normalize::normalize;
pub use schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema, ResourceSchema};

/// Terraform's built-in functions and how the renderer handles each (`None`: not a
/// Terraform function).
pub fn function_status() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    functions::TERRAFORM_FUNCTIONS
        .iter()
        .map(|n| (*n, functions::status(n).unwrap_or("unknown"), functions::unsupported_reason(n)))
        .collect()
}

use error::{Diag, Sources};
use hash::{HashMap, HashSet};
use graph::{Engine, Input};

#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Extra variable files, applied in order after terraform.tfvars and *.auto.tfvars.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE` assignments, applied last.
    pub vars: Vec<(String, String)>,
    /// Provider resource schemas: resources of these types are validated like `terraform
    /// validate` and planned with every schema attribute (see `validate.rs`).
    pub schema: Option<std::sync::Arc<ProviderSchema>>,
    /// Instances of root module calls rendered from other module code (see [`InstanceSource`]).
    pub instance_sources: Vec<InstanceSource>,
    /// When set, every module loaded (module call sources, instance sources) must lie under
    /// this directory, symbolic links resolved: a render of a release reads only its own code.
    pub within: Option<PathBuf>,
}

/// One instance of a root module call rendered from another module directory than its call's
/// `source`: the instance keyed `key` of every root call whose `source` is `call_source` takes
/// its module from `source` (relative to the root module, like a module source). A service pinned
/// to an older module version renders from that version's code, at its usual address. The
/// module there must accept the call's arguments; a key that no call instance has is an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceSource {
    pub call_source: String,
    pub key: String,
    pub source: String,
    /// When not empty, the plan's `configuration` section shows the module at `source` as a
    /// root call `<call name><call_suffix>` (the call's own entry, with this `source` and this
    /// module's code), as Terraform shows the root that gives each version its own call
    /// (`lz_platform::mixed_root`, suffix `lz_repo::released::version_suffix`). The instance's
    /// resources keep the call's own addresses.
    pub call_suffix: String,
}

/// Every schema validation error of the configuration in `dir` (unsupported arguments and
/// blocks, missing required arguments, computed-only attributes set, unknown attributes
/// referenced), without evaluating it. Argument types are checked by `render_dir`.
pub fn validate_dir(dir: &Path, schema: &ProviderSchema) -> Result<Vec<RenderError>, RenderError> {
    let mut sources = Sources::default();
    let root = load::load_root(&mut sources, dir).map_err(|diags| sources.to_errors(diags))?;
    let diags = validate::validate_tree(&root, schema, &sources);
    Ok(diags.into_iter().map(|d| sources.to_error(d)).collect())
}

/// Render the plan JSON for the root module in `dir`: [`Prepared::load`] then
/// [`Prepared::render`].
pub fn render_dir(dir: &Path, opts: &RenderOptions) -> Result<serde_json::Value, RenderError> {
    Prepared::load(dir)?.render(opts)
}

/// A root module and the modules it calls, parsed and resolved once: the `.tf` sources, the
/// module tree, variable types and defaults, and the plan's `configuration` section, which
/// depend on the configuration only. [`Prepared::render`] then evaluates the tree for one set
/// of variable values (the directory's `terraform.tfvars` and `*.auto.tfvars`, read at each
/// render, then `opts`), giving byte-identical JSON to [`render_dir`]. It is `Send + Sync`:
/// threads can render from one shared value. It does not watch the files: load again after a
/// `.tf` file changes.
pub struct Prepared {
    dir: PathBuf,
    root: Arc<load::ModuleCfg>,
    sources: Sources,
    configuration: serde_json::Value,
    /// Schema validation errors of the tree, per schema rendered with (they depend on the
    /// configuration and the schema only).
    validated: Mutex<Vec<(Arc<ProviderSchema>, Vec<Diag>)>>,
    /// The directories every module call of the tree was found inside ([`confine`]): the tree
    /// is loaded once, so a render without instance sources checks it once per directory.
    confined: Mutex<Vec<PathBuf>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").field("dir", &self.dir).field("files", &self.sources.files.len()).finish()
    }
}

impl Prepared {
    /// Parse and resolve the root module in `dir` and every module it calls.
    pub fn load(dir: &Path) -> Result<Prepared, RenderError> {
        let mut sources = Sources::default();
        let root = load::load_root(&mut sources, dir).map_err(|diags| sources.to_errors(diags))?;
        let configuration = plan::configuration(&root, &root);
        Ok(Prepared { dir: dir.to_path_buf(), root, sources, configuration, validated: Mutex::new(Vec::new()), confined: Mutex::new(Vec::new()) })
    }

    /// The root module directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Render the plan JSON for one set of variable values.
    pub fn render(&self, opts: &RenderOptions) -> Result<serde_json::Value, RenderError> {
        // Variable files join the loaded sources for this render only.
        let mut sources = self.sources.clone();
        let r = self.render_inner(opts, &mut sources);
        r.map_err(|diags| sources.to_errors(diags))
    }

    /// Schema validation errors of the tree (computed once per schema).
    fn validate(&self, schema: &Arc<ProviderSchema>) -> Vec<Diag> {
        let mut validated = self.validated.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, diags)) = validated.iter().find(|(s, _)| Arc::ptr_eq(s, schema)) {
            return diags.clone();
        }
        let diags = validate::validate_tree(&self.root, schema, &self.sources);
        validated.push((schema.clone(), diags.clone()));
        diags
    }

    /// Every error of a render; never empty when it is an `Err`.
    fn render_inner(&self, opts: &RenderOptions, sources: &mut Sources) -> Result<serde_json::Value, Vec<Diag>> {
        let dir = self.dir.as_path();
        let root = &self.root;
        if let Some(schema) = &opts.schema {
            let diags = self.validate(schema);
            if !diags.is_empty() {
                return Err(diags);
            }
        }
        let mut inputs: HashMap<String, Input> = HashMap::default();
        let mut files: Vec<PathBuf> = Vec::new();
        for name in ["terraform.tfvars", "terraform.tfvars.json"] {
            let p = dir.join(name);
            if p.is_file() {
                files.push(p);
            }
        }
        let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| vec![Diag::new(ErrorKind::Io, None, format!("cannot read {}: {e}", dir.display()))])?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                p.is_file() && (n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json"))
            })
            .collect();
        auto.sort();
        files.extend(auto);
        files.extend(opts.var_files.iter().cloned());
        for f in &files {
            for (name, value, file, span) in load::load_tfvars(sources, f).map_err(|d| vec![d])? {
                inputs.insert(name, Input { value, place: Some((file, span)), raw: false });
            }
        }
        for (name, value) in &opts.vars {
            if root.var(name).is_none() {
                return Err(vec![Diag::new(
                    ErrorKind::Variable,
                    None,
                    format!("Value for undeclared variable: A variable named {name:?} was assigned on the command line, but the root module does not declare a variable of that name"),
                )]);
            }
            inputs.insert(name.clone(), Input { value: value::Value::str(value.clone()), place: None, raw: true });
        }
        let overrides = load::load_instance_sources(sources, root, &opts.instance_sources).map_err(|d| vec![d])?;
        if let Some(within) = &opts.within {
            let confined = || self.confined.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !overrides.is_empty() || !confined().contains(within) {
                confine::check(root, &overrides, within).map_err(|d| vec![d])?;
                if overrides.is_empty() {
                    confined().push(within.clone());
                }
            }
        }
        if let Some(schema) = &opts.schema {
            let mut diags = Vec::new();
            let mut seen = HashSet::default();
            for m in overrides.values() {
                if seen.insert(m.dir.clone()) {
                    diags.extend(validate::validate_tree(m, schema, sources));
                }
            }
            if !diags.is_empty() {
                return Err(diags);
            }
        }
        let sources_ref: &Sources = sources;
        let mut eng = Engine::new(sources_ref, root.clone(), inputs);
        eng.schema = opts.schema.clone();
        eng.overrides = overrides;
        let mut errors = eng.run_all();
        if errors.is_empty() {
            errors.extend(eng.unused_overrides());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut configuration = self.configuration.clone();
        plan::instance_calls(&mut configuration, root, &eng.overrides, &opts.instance_sources);
        Ok(plan::build(&eng, configuration))
    }
}

/// Configurations loaded once per directory for the length of a run (a command, a test, a
/// benchmark): [`RenderCache::render_dir`] loads a directory the first time it is asked for
/// and renders every later request from the [`Prepared`] value. A load that fails is not kept.
/// Use one cache per run, not one per process: it does not notice files that change.
#[derive(Debug, Default)]
pub struct RenderCache {
    loaded: Mutex<StdHashMap<PathBuf, Arc<Prepared>>>,
}

impl RenderCache {
    pub fn new() -> RenderCache {
        RenderCache::default()
    }

    /// The prepared configuration of `dir`, loaded on first use.
    pub fn prepared(&self, dir: &Path) -> Result<Arc<Prepared>, RenderError> {
        // Keyed by the path as given: errors and `path.cwd` name files the way the caller does.
        let key = dir.to_path_buf();
        let mut loaded = self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = loaded.get(&key) {
            return Ok(p.clone());
        }
        let p = Arc::new(Prepared::load(dir)?);
        loaded.insert(key, p.clone());
        Ok(p)
    }

    /// [`render_dir`] with the configuration of `dir` loaded once per cache.
    pub fn render_dir(&self, dir: &Path, opts: &RenderOptions) -> Result<serde_json::Value, RenderError> {
        self.prepared(dir)?.render(opts)
    }
}

pub(crate) fn functions_json_quote(s: &str) -> String {
    functions::json_quote_plain(s)
}

#[cfg(test)]
mod tests;
