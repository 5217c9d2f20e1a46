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
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod error;
mod eval;
mod functions;
mod graph;
mod load;
mod modules;
mod normalize;
mod plan;
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
}

/// Every schema validation error of the configuration in `dir` (unsupported arguments and
/// blocks, missing required arguments, computed-only attributes set, unknown attributes
/// referenced), without evaluating it. Argument types are checked by `render_dir`.
pub fn validate_dir(dir: &Path, schema: &ProviderSchema) -> Result<Vec<RenderError>, RenderError> {
    let mut sources = Sources::default();
    let root = match load::Loader::new(&mut sources).load(dir, ".") {
        Ok(r) => r,
        Err(d) => return Err(sources.to_error(d)),
    };
    let diags = validate::validate_tree(&root, schema, &sources);
    Ok(diags.into_iter().map(|d| sources.to_error(d)).collect())
}

/// Render the plan JSON for the root module in `dir`.
pub fn render_dir(dir: &Path, opts: &RenderOptions) -> Result<serde_json::Value, RenderError> {
    let mut sources = Sources::default();
    let r = render_inner(dir, opts, &mut sources);
    r.map_err(|mut diags| {
        let first = diags.remove(0);
        let mut e = sources.to_error(first);
        e.more = diags.into_iter().map(|d| sources.to_error(d)).collect();
        e
    })
}

/// Every error of a render; never empty when it is an `Err`.
fn render_inner(dir: &Path, opts: &RenderOptions, sources: &mut Sources) -> Result<serde_json::Value, Vec<Diag>> {
    render_setup(dir, opts, sources).and_then(|(root, inputs)| {
        let sources_ref: &Sources = sources;
        let mut eng = Engine::new(sources_ref, root, inputs);
        eng.schema = opts.schema.clone();
        let errors = eng.run_all();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(plan::build(&eng))
    })
}

type Setup = (std::rc::Rc<load::ModuleCfg>, HashMap<String, Input>);

fn render_setup(dir: &Path, opts: &RenderOptions, sources: &mut Sources) -> Result<Setup, Vec<Diag>> {
    let root = load::Loader::new(sources).load(dir, ".").map_err(|d| vec![d])?;
    if let Some(schema) = &opts.schema {
        let diags = validate::validate_tree(&root, schema, sources);
        if !diags.is_empty() {
            return Err(diags);
        }
    }
    let mut inputs: HashMap<String, Input> = HashMap::new();
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
    Ok((root, inputs))
}

pub(crate) fn functions_json_quote(s: &str) -> String {
    functions::json_quote_plain(s)
}

#[cfg(test)]
mod tests;
