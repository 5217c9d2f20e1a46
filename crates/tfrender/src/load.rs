//! Loading a module tree from disk: *.tf files, local module calls and tfvars.
use std::collections::BTreeMap;

use crate::hash::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span;

use crate::error::{DResult, Diag, ErrorKind, Sources};
use crate::eval::{EmptyScope, Evaluator};
use crate::types::{Constraint, ObjAttr};
use crate::value::Value;

#[derive(Debug)]
pub(crate) struct Attr {
    pub file: usize,
    pub expr: Expression,
    pub span: Option<Range<usize>>,
}

impl Attr {
    fn from(file: usize, a: &Attribute) -> Attr {
        Attr { file, expr: a.value.clone(), span: a.value.span().or_else(|| a.span()) }
    }
}

#[derive(Debug)]
pub(crate) struct Condition {
    pub file: usize,
    pub condition: Attr,
    pub error_message: Attr,
    pub span: Option<Range<usize>>,
}

#[derive(Debug)]
pub(crate) struct VarCfg {
    pub name: String,
    pub file: usize,
    pub span: Option<Range<usize>>,
    pub ty: Option<Constraint>,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub nullable: bool,
    pub sensitive: bool,
    pub validations: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Managed,
    Data,
}

#[derive(Debug)]
pub(crate) struct ResCfg {
    pub mode: Mode,
    pub ty: String,
    pub name: String,
    pub file: usize,
    pub span: Option<Range<usize>>,
    pub count: Option<Attr>,
    pub for_each: Option<Attr>,
    pub provider: Option<String>,
    /// The body without meta-arguments.
    pub body: Body,
    pub preconditions: Vec<Condition>,
    pub postconditions: Vec<Condition>,
}

impl ResCfg {
    pub fn key(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.ty, self.name),
            Mode::Data => format!("data.{}.{}", self.ty, self.name),
        }
    }
}

#[derive(Debug)]
pub(crate) struct CallCfg {
    pub name: String,
    pub source: String,
    pub file: usize,
    pub span: Option<Range<usize>>,
    pub count: Option<Attr>,
    pub for_each: Option<Attr>,
    pub args: BTreeMap<String, Attr>,
    pub module: Arc<ModuleCfg>,
}

#[derive(Debug)]
pub(crate) struct OutCfg {
    pub name: String,
    pub file: usize,
    pub span: Option<Range<usize>>,
    pub value: Attr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub preconditions: Vec<Condition>,
    /// The `type` argument (Terraform 1.15): the value is converted to it.
    pub ty: Option<Constraint>,
}

#[derive(Debug)]
pub(crate) struct CheckCfg {
    #[allow(dead_code)]
    pub name: String,
    pub asserts: Vec<Condition>,
}

#[derive(Debug, Default)]
pub(crate) struct ModuleCfg {
    pub dir: PathBuf,
    /// path.module as Terraform shows it, relative to the root module.
    pub rel: String,
    pub variables: Vec<VarCfg>,
    pub locals: HashMap<String, Attr>,
    pub resources: Vec<ResCfg>,
    pub calls: Vec<CallCfg>,
    pub outputs: Vec<OutCfg>,
    pub checks: Vec<CheckCfg>,
    /// Provider local names used by resources, with their source address.
    pub required_providers: BTreeMap<String, String>,
    /// Attribute names referenced on each resource ("type.name" or "data.type.name").
    pub referenced_attrs: HashMap<String, Vec<String>>,
    index: CfgIndex,
}

/// Positions of variables, resources, calls and outputs by name, so that a reference is one
/// hash lookup instead of a scan (and, for resources, no address formatting).
#[derive(Debug, Default)]
pub(crate) struct CfgIndex {
    vars: HashMap<String, usize>,
    resources: HashMap<String, usize>,
    calls: HashMap<String, usize>,
    outputs: HashMap<String, usize>,
}

impl ModuleCfg {
    pub fn var(&self, name: &str) -> Option<&VarCfg> {
        self.index.vars.get(name).map(|&i| &self.variables[i])
    }
    pub fn resource(&self, key: &str) -> Option<&ResCfg> {
        self.index.resources.get(key).map(|&i| &self.resources[i])
    }
    pub fn call(&self, name: &str) -> Option<&CallCfg> {
        self.index.calls.get(name).map(|&i| &self.calls[i])
    }
    pub fn output(&self, name: &str) -> Option<&OutCfg> {
        self.index.outputs.get(name).map(|&i| &self.outputs[i])
    }
    fn push_var(&mut self, v: VarCfg) {
        self.index.vars.insert(v.name.clone(), self.variables.len());
        self.variables.push(v);
    }
    fn push_resource(&mut self, r: ResCfg) {
        self.index.resources.insert(r.key(), self.resources.len());
        self.resources.push(r);
    }
    fn push_call(&mut self, c: CallCfg) {
        self.index.calls.insert(c.name.clone(), self.calls.len());
        self.calls.push(c);
    }
    fn push_output(&mut self, o: OutCfg) {
        self.index.outputs.insert(o.name.clone(), self.outputs.len());
        self.outputs.push(o);
    }
}

fn d(kind: ErrorKind, file: usize, span: Option<Range<usize>>, msg: impl Into<String>) -> Diag {
    Diag::new(kind, span, msg).in_file(file)
}

/// A configuration or variables file's text through the harness's one reader: invalid UTF-8
/// names file:line:col of the first bad byte, a file over `MAX_CONFIG_BYTES` is refused.
fn read_source(path: &Path) -> DResult<String> {
    lz_input::read_text(path).map_err(|e| {
        let message = if e.missing { format!("cannot read {}: no such file", path.display()) } else { e.message };
        Diag::new(ErrorKind::Io, None, message)
    })
}

pub(crate) fn parse_file(sources: &mut Sources, path: &Path) -> DResult<(usize, Body)> {
    let text = read_source(path)?;
    let id = sources.add(path.to_path_buf(), text);
    let text = &sources.files[id].1;
    let parsed = parse_relaxed(text);
    let body = parsed.map_err(|e| {
        let (line, col) = (e.location().line(), e.location().column());
        Diag {
            file: Some(id),
            span: Some(offset_of(text, line, col)..offset_of(text, line, col)),
            message: format!("Invalid HCL syntax: {}", e.message()),
            kind: ErrorKind::Parse,
            subject: None,
        }
    })?;
    Ok((id, body))
}

/// Parses with hcl-edit, working around where it is stricter than HCL (`crate::syntax`), each
/// rewrite keeping every byte offset: a repeated key of an object constructor becomes a
/// distinct key expression of the same value (the last item still wins), and on another
/// error the newlines HCL ignores become spaces, once. A failure reports the error of the
/// text as written, or after the repeated keys when they were the first obstacle.
fn parse_relaxed(text: &str) -> Result<Body, hcl_edit::parser::Error> {
    let mut current = std::borrow::Cow::Borrowed(text);
    let mut relaxed: Option<hcl_edit::parser::Error> = None;
    let mut last_key: Option<(usize, usize)> = None;
    // Every rewrite removes one refusal; the bound only stops a rewrite that would not.
    for _ in 0..text.len().max(16) {
        let e = match hcl_edit::parser::parse_body(&current) {
            Ok(body) => return Ok(body),
            Err(e) => e,
        };
        if e.message().contains("redefined object key") {
            let offset = e.location().offset();
            let level = match last_key {
                Some((o, l)) if o == offset => l + 1,
                _ => 0,
            };
            if let Some(t) = crate::syntax::distinct_repeated_key(&current, offset, level) {
                last_key = Some((offset, level));
                current = std::borrow::Cow::Owned(t);
                continue;
            }
        }
        if let Some(before) = relaxed {
            return Err(before);
        }
        match crate::syntax::relax_newlines(&current) {
            Some(t) => {
                current = std::borrow::Cow::Owned(t);
                relaxed = Some(e);
            }
            None => return Err(e),
        }
    }
    hcl_edit::parser::parse_body(&current)
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let c: usize = l.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
            return off + c;
        }
        off += l.len();
    }
    text.len()
}

pub(crate) struct Loader<'a> {
    pub sources: &'a mut Sources,
    cache: HashMap<PathBuf, Arc<ModuleCfg>>,
    stack: Vec<PathBuf>,
    /// Installed remote modules (read when the root module is loaded) and the root directory.
    manifest: Option<(PathBuf, crate::modules::Manifest)>,
    /// Module keys of the calls being loaded (`a`, `a.b`).
    keys: Vec<String>,
    /// Errors that do not stop loading (every missing required argument of every module
    /// call, as Terraform reports them all): the load fails with them at the end.
    pending: Vec<Diag>,
}

/// Loads the root module in `dir` and every module it calls: every error found, first the
/// one that stopped loading if any.
pub(crate) fn load_root(sources: &mut Sources, dir: &Path) -> Result<Arc<ModuleCfg>, Vec<Diag>> {
    let mut loader = Loader::new(sources);
    let loaded = loader.load(dir, ".");
    let pending = std::mem::take(&mut loader.pending);
    match loaded {
        Ok(root) if pending.is_empty() => Ok(root),
        Ok(_) => Err(pending),
        Err(d) => Err(std::iter::once(d).chain(pending).collect()),
    }
}

impl<'a> Loader<'a> {
    pub fn new(sources: &'a mut Sources) -> Self {
        Loader { sources, cache: HashMap::default(), stack: Vec::new(), manifest: None, keys: Vec::new(), pending: Vec::new() }
    }

    pub fn load(&mut self, dir: &Path, rel: &str) -> DResult<Arc<ModuleCfg>> {
        if self.manifest.is_none() {
            let manifest = crate::modules::Manifest::load(dir).map_err(|m| Diag::new(ErrorKind::Config, None, m))?;
            self.manifest = Some((dir.to_path_buf(), manifest));
        }
        let key = normalize_path(dir);
        if let Some(m) = self.cache.get(&key) {
            if m.rel == rel {
                return Ok(m.clone());
            }
        }
        if self.stack.contains(&key) || self.stack.len() > 32 {
            return Err(Diag::new(ErrorKind::Config, None, format!("Module {} calls itself recursively", dir.display())));
        }
        self.stack.push(key.clone());
        let r = self.load_inner(dir, rel);
        self.stack.pop();
        let m = Arc::new(r?);
        self.cache.insert(key, m.clone());
        Ok(m)
    }

    fn load_inner(&mut self, dir: &Path, rel: &str) -> DResult<ModuleCfg> {
        let rd = std::fs::read_dir(dir)
            .map_err(|e| Diag::new(ErrorKind::Io, None, format!("cannot read module directory {}: {e}", dir.display())))?;
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Diag::new(ErrorKind::Io, None, format!("cannot read {}: {e}", dir.display())))?;
            let p = entry.path();
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if !p.is_file() || name.starts_with('.') {
                continue;
            }
            if name.ends_with(".tf.json") {
                return Err(Diag::new(ErrorKind::Unsupported, None, format!("{}: JSON configuration syntax (.tf.json) is not supported", p.display())));
            }
            if name.ends_with(".tf") {
                if name == "override.tf" || name.ends_with("_override.tf") {
                    return Err(Diag::new(ErrorKind::Unsupported, None, format!("{}: override files are not supported", p.display())));
                }
                files.push(p);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(Diag::new(ErrorKind::Config, None, format!("no Terraform configuration files in {}", dir.display())));
        }
        let mut m = ModuleCfg { dir: dir.to_path_buf(), rel: rel.to_string(), ..Default::default() };
        for f in files {
            let (id, body) = parse_file(self.sources, &f)?;
            self.load_body(&mut m, id, &body)?;
        }
        let mut refs: HashMap<String, Vec<String>> = HashMap::default();
        {
            let mut note = |root: &str, ops: &[&TraversalOperator]| {
                let (key, rest) = if root == "data" {
                    match ops {
                        [TraversalOperator::GetAttr(t), TraversalOperator::GetAttr(n), rest @ ..] => {
                            (format!("data.{}.{}", t.value(), n.value()), rest)
                        }
                        _ => return,
                    }
                } else {
                    match ops {
                        [TraversalOperator::GetAttr(n), rest @ ..] => (format!("{root}.{}", n.value()), rest),
                        _ => return,
                    }
                };
                for op in rest {
                    match op {
                        TraversalOperator::GetAttr(a) => {
                            let e = refs.entry(key).or_default();
                            if !e.iter().any(|x| x == a.value().as_str()) {
                                e.push(a.value().to_string());
                            }
                            return;
                        }
                        _ => continue,
                    }
                }
            };
            for a in m.locals.values() {
                walk_traversals(&a.expr, &mut note, 0);
            }
            for r in &m.resources {
                for a in [&r.count, &r.for_each].into_iter().flatten() {
                    walk_traversals(&a.expr, &mut note, 0);
                }
                walk_body(&r.body, &mut note);
                for c in r.preconditions.iter().chain(&r.postconditions) {
                    walk_traversals(&c.condition.expr, &mut note, 0);
                    walk_traversals(&c.error_message.expr, &mut note, 0);
                }
            }
            for c in &m.calls {
                for a in c.args.values().chain(c.count.iter()).chain(c.for_each.iter()) {
                    walk_traversals(&a.expr, &mut note, 0);
                }
            }
            for o in &m.outputs {
                walk_traversals(&o.value.expr, &mut note, 0);
                for c in &o.preconditions {
                    walk_traversals(&c.condition.expr, &mut note, 0);
                }
            }
            for c in &m.checks {
                for a in &c.asserts {
                    walk_traversals(&a.condition.expr, &mut note, 0);
                }
            }
        }
        m.referenced_attrs = refs;
        Ok(m)
    }

    fn load_body(&mut self, m: &mut ModuleCfg, file: usize, body: &Body) -> DResult<()> {
        for s in body.iter() {
            let b = match s {
                Structure::Attribute(a) => {
                    return Err(d(ErrorKind::Config, file, a.span(), format!("Unsupported argument: An argument named {:?} is not expected here", a.key.value().as_str())));
                }
                Structure::Block(b) => b,
            };
            let ident = b.ident.value().as_str();
            let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
            let need = |n: usize| -> DResult<()> {
                if labels.len() != n {
                    return Err(d(ErrorKind::Config, file, b.ident.span().or(b.span()), format!("Invalid {ident} block: a {ident} block needs {n} label(s)")));
                }
                Ok(())
            };
            match ident {
                "variable" => {
                    need(1)?;
                    if m.var(labels[0]).is_some() {
                        return Err(d(ErrorKind::Config, file, b.span(), format!("Duplicate variable declaration: A variable named {:?} was already declared", labels[0])));
                    }
                    m.push_var(load_variable(file, labels[0], b)?);
                }
                "locals" => {
                    for s in b.body.iter() {
                        match s {
                            Structure::Attribute(a) => {
                                let name = a.key.value().to_string();
                                if m.locals.contains_key(&name) {
                                    return Err(d(ErrorKind::Config, file, a.span(), format!("Duplicate local value definition: A local value named {name:?} was already defined")));
                                }
                                m.locals.insert(name, Attr::from(file, a));
                            }
                            Structure::Block(bb) => {
                                return Err(d(ErrorKind::Config, file, bb.span(), "Unexpected block: Blocks are not allowed in locals"));
                            }
                        }
                    }
                }
                "resource" | "data" => {
                    need(2)?;
                    let mode = if ident == "resource" { Mode::Managed } else { Mode::Data };
                    let r = load_resource(file, mode, labels[0], labels[1], b)?;
                    if m.resource(&r.key()).is_some() {
                        return Err(d(ErrorKind::Config, file, b.span(), format!("Duplicate resource configuration: A {} named {:?} was already declared", labels[0], labels[1])));
                    }
                    m.push_resource(r);
                }
                "module" => {
                    need(1)?;
                    if m.call(labels[0]).is_some() {
                        return Err(d(ErrorKind::Config, file, b.span(), format!("Duplicate module call: A module call named {:?} was already defined", labels[0])));
                    }
                    let c = self.load_call(m, file, labels[0], b)?;
                    m.push_call(c);
                }
                "output" => {
                    need(1)?;
                    if m.output(labels[0]).is_some() {
                        return Err(d(ErrorKind::Config, file, b.span(), format!("Duplicate output definition: An output named {:?} was already defined", labels[0])));
                    }
                    m.push_output(load_output(file, labels[0], b)?);
                }
                "terraform" => {
                    for rp in b.body.get_blocks("required_providers") {
                        for a in rp.body.attributes() {
                            let src = match &a.value {
                                Expression::Object(o) => o
                                    .iter()
                                    .find(|(k, _)| k.as_ident().map(|i| i.as_str()) == Some("source") || matches!(k, hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) if s.value() == "source"))
                                    .and_then(|(_, v)| match v.expr() { Expression::String(s) => Some(s.value().to_string()), _ => None }),
                                _ => None,
                            };
                            let name = a.key.value().to_string();
                            let src = src.unwrap_or_else(|| format!("hashicorp/{name}"));
                            m.required_providers.insert(name, src);
                        }
                    }
                    if b.body.get_blocks("backend").next().is_some() || b.body.get_blocks("cloud").next().is_some() {
                        // A backend does not change the plan's content.
                    }
                }
                "provider" | "moved" | "import" | "removed" | "ephemeral" => {
                    if ident == "ephemeral" {
                        return Err(d(ErrorKind::Unsupported, file, b.span(), "Unsupported block: ephemeral resources are not supported offline"));
                    }
                }
                "check" => {
                    need(1)?;
                    let mut asserts = Vec::new();
                    for s in b.body.iter() {
                        if let Structure::Block(bb) = s {
                            match bb.ident.value().as_str() {
                                "assert" => asserts.push(load_condition(file, bb)?),
                                "data" => {
                                    return Err(d(ErrorKind::Unsupported, file, bb.span(), "Unsupported block: scoped data sources in check blocks are not supported offline"));
                                }
                                other => return Err(d(ErrorKind::Config, file, bb.span(), format!("Unsupported block type: Blocks of type {other:?} are not expected here"))),
                            }
                        }
                    }
                    m.checks.push(CheckCfg { name: labels[0].to_string(), asserts });
                }
                other => {
                    return Err(d(ErrorKind::Config, file, b.ident.span().or(b.span()), format!("Unsupported block type: Blocks of type {other:?} are not expected here")));
                }
            }
        }
        Ok(())
    }

    fn load_call(&mut self, m: &ModuleCfg, file: usize, name: &str, b: &Block) -> DResult<CallCfg> {
        let mut source = None;
        let mut count = None;
        let mut for_each = None;
        let mut args = BTreeMap::new();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "source" => match &a.value {
                        Expression::String(s) => source = Some((s.value().to_string(), a.value.span())),
                        _ => return Err(d(ErrorKind::Config, file, a.value.span(), "Invalid value for module argument: The module source address must be a literal string")),
                    },
                    // Terraform checked the version when it installed the module.
                    "version" => {}
                    "count" => count = Some(Attr::from(file, a)),
                    "for_each" => for_each = Some(Attr::from(file, a)),
                    "providers" | "depends_on" => {}
                    k => {
                        args.insert(k.to_string(), Attr::from(file, a));
                    }
                },
                Structure::Block(bb) => {
                    return Err(d(ErrorKind::Config, file, bb.span(), format!("Unsupported block type: Blocks of type {:?} are not expected here", bb.ident.value().as_str())));
                }
            }
        }
        if count.is_some() && for_each.is_some() {
            return Err(d(ErrorKind::Config, file, b.span(), "Invalid combination of \"count\" and \"for_each\": The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created"));
        }
        let Some((source, sspan)) = source else {
            return Err(d(ErrorKind::Config, file, b.span(), format!("Missing required argument: The argument \"source\" is required, but no definition was found (module {name:?})")));
        };
        let key = match self.keys.last() {
            Some(parent) => format!("{parent}.{name}"),
            None => name.to_string(),
        };
        let (dir, rel) = if crate::modules::is_remote(&source) {
            let installed = self.manifest.as_ref().and_then(|(root, man)| man.dir(&key, &source).map(|d| (root.join(d), d.to_string())));
            match installed {
                Some(found) => found,
                None => {
                    return Err(d(ErrorKind::Config, file, b.span(), "Module not installed: This module is not yet installed. Run \"terraform init\" to install all modules required by this configuration")
                        .about(format!("module.{key} ({source})")));
                }
            }
        } else {
            (lexical_join(&m.dir, &source), join_rel(&m.rel, &source))
        };
        self.keys.push(key);
        let module = self.load(&dir, &rel).map_err(|e| if e.file.is_none() { Diag { file: Some(file), span: sspan.clone(), ..e } } else { e });
        self.keys.pop();
        let module = module?;
        for (k, a) in &args {
            if module.var(k).is_none() {
                return Err(d(ErrorKind::Config, file, a.span.clone(), format!("Unsupported argument: An argument named {k:?} is not expected here")));
            }
        }
        for v in &module.variables {
            if v.default.is_none() && !args.contains_key(&v.name) {
                self.pending.push(d(ErrorKind::Config, file, b.span(), format!("Missing required argument: The argument {:?} is required, but no definition was found", v.name)));
            }
        }
        Ok(CallCfg { name: name.to_string(), source, file, span: b.span(), count, for_each, args, module })
    }
}

fn join_rel(base: &str, source: &str) -> String {
    let joined = if base == "." { PathBuf::from(source) } else { Path::new(base).join(source) };
    let mut parts: Vec<String> = Vec::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.last().is_some_and(|p| p != "..") {
                    parts.pop();
                } else {
                    parts.push("..".into());
                }
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    if parts.is_empty() { ".".into() } else { parts.join("/") }
}

/// `base/source` with `.` and `..` resolved lexically, for readable error paths.
fn lexical_join(base: &Path, source: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(source).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_normal = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn normalize_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn literal(file: usize, a: &Attribute, what: &str) -> DResult<Value> {
    let dir = PathBuf::new();
    let scope = EmptyScope(&dir, false);
    Evaluator::new(&scope).eval(&a.value).map_err(|e| {
        d(ErrorKind::Config, file, e.span.clone().or(a.span()), format!("Invalid {what}: {}", e.message))
    })
}

fn literal_bool(file: usize, a: &Attribute) -> DResult<bool> {
    match literal(file, a, "value")? {
        Value::Bool(b) => Ok(b),
        _ => Err(d(ErrorKind::Config, file, a.value.span(), format!("Invalid value for {:?}: a bool is required", a.key.value().as_str()))),
    }
}

fn literal_string(file: usize, a: &Attribute) -> DResult<String> {
    match literal(file, a, "value")? {
        Value::String(s) => Ok(s),
        _ => Err(d(ErrorKind::Config, file, a.value.span(), format!("Invalid value for {:?}: a string is required", a.key.value().as_str()))),
    }
}

fn load_variable(file: usize, name: &str, b: &Block) -> DResult<VarCfg> {
    let mut v = VarCfg {
        name: name.to_string(),
        file,
        span: b.ident.span().map(|s| s.start..b.labels.last().and_then(|l| l.span()).map(|l| l.end).unwrap_or(s.end)),
        ty: None,
        default: None,
        description: None,
        nullable: true,
        sensitive: false,
        validations: Vec::new(),
    };
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) => match a.key.value().as_str() {
                "type" => v.ty = Some(parse_type(file, &a.value, true, 0)?),
                "default" => v.default = Some(literal(file, a, "default value for variable")?),
                "description" => v.description = Some(literal_string(file, a)?),
                "nullable" => v.nullable = literal_bool(file, a)?,
                "sensitive" => v.sensitive = literal_bool(file, a)?,
                // A constant variable (Terraform 1.15) takes its value like any other; it
                // only matters where Terraform needs values before planning.
                "const" => {
                    literal_bool(file, a)?;
                }
                "ephemeral" => {
                    if literal_bool(file, a)? {
                        return Err(d(ErrorKind::Unsupported, file, a.span(), "Unsupported argument: ephemeral variables are not supported offline"));
                    }
                }
                k => return Err(d(ErrorKind::Config, file, a.span(), format!("Unsupported argument: An argument named {k:?} is not expected here"))),
            },
            Structure::Block(bb) if bb.ident.value().as_str() == "validation" => v.validations.push(load_condition(file, bb)?),
            Structure::Block(bb) => {
                return Err(d(ErrorKind::Config, file, bb.span(), format!("Unsupported block type: Blocks of type {:?} are not expected here", bb.ident.value().as_str())));
            }
        }
    }
    if let (Some(t), Some(def)) = (&v.ty, &v.default) {
        if !(def.is_null()) {
            let conv = crate::types::convert(def, t).map_err(|e| {
                d(ErrorKind::Config, file, b.body.get_attribute("default").and_then(|a| a.value.span()), format!("Invalid default value for variable: This default value is not compatible with the variable's type constraint: {e}"))
            })?;
            v.default = Some(conv);
        }
    }
    if let Some(def) = &v.default {
        if def.is_null() && !v.nullable {
            return Err(d(ErrorKind::Config, file, b.span(), "Invalid default value for variable: A null default value is not valid when nullable=false"));
        }
    }
    Ok(v)
}

fn load_condition(file: usize, b: &Block) -> DResult<Condition> {
    let cond = b.body.get_attribute("condition");
    let msg = b.body.get_attribute("error_message");
    match (cond, msg) {
        (Some(c), Some(m)) => Ok(Condition { file, condition: Attr::from(file, c), error_message: Attr::from(file, m), span: b.ident.span().or(b.span()) }),
        _ => Err(d(ErrorKind::Config, file, b.span(), format!("Missing required argument: a {} block needs condition and error_message", b.ident.value().as_str()))),
    }
}

fn load_resource(file: usize, mode: Mode, ty: &str, name: &str, b: &Block) -> DResult<ResCfg> {
    let mut r = ResCfg {
        mode,
        ty: ty.to_string(),
        name: name.to_string(),
        file,
        span: b.span(),
        count: None,
        for_each: None,
        provider: None,
        body: Body::new(),
        preconditions: Vec::new(),
        postconditions: Vec::new(),
    };
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) => match a.key.value().as_str() {
                "count" => r.count = Some(Attr::from(file, a)),
                "for_each" => r.for_each = Some(Attr::from(file, a)),
                "provider" => {
                    r.provider = Some(match &a.value {
                        Expression::Variable(v) => v.value().to_string(),
                        Expression::Traversal(t) => {
                            let mut s = match &t.expr { Expression::Variable(v) => v.value().to_string(), _ => String::new() };
                            for op in &t.operators {
                                if let TraversalOperator::GetAttr(a) = op.value() {
                                    s.push('.');
                                    s.push_str(a.value());
                                }
                            }
                            s
                        }
                        _ => return Err(d(ErrorKind::Config, file, a.value.span(), "Invalid provider reference")),
                    })
                }
                "depends_on" => {}
                _ => r.body.push(Structure::Attribute(a.clone())),
            },
            Structure::Block(bb) => match bb.ident.value().as_str() {
                "lifecycle" => {
                    for s in bb.body.iter() {
                        if let Structure::Block(c) = s {
                            match c.ident.value().as_str() {
                                "precondition" => r.preconditions.push(load_condition(file, c)?),
                                "postcondition" => r.postconditions.push(load_condition(file, c)?),
                                other => return Err(d(ErrorKind::Config, file, c.span(), format!("Unsupported block type: Blocks of type {other:?} are not expected here"))),
                            }
                        }
                    }
                }
                "provisioner" | "connection" => {}
                _ => r.body.push(Structure::Block(bb.clone())),
            },
        }
    }
    if r.count.is_some() && r.for_each.is_some() {
        return Err(d(ErrorKind::Config, file, b.span(), "Invalid combination of \"count\" and \"for_each\": The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created"));
    }
    if ty == "terraform_data" && mode == Mode::Managed {
        for s in r.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let k = a.key.value().as_str();
                    if k != "input" && k != "triggers_replace" {
                        return Err(d(ErrorKind::Config, file, a.span(), format!("Unsupported argument: An argument named {k:?} is not expected here")));
                    }
                }
                Structure::Block(bb) => {
                    return Err(d(ErrorKind::Config, file, bb.span(), format!("Unsupported block type: Blocks of type {:?} are not expected here", bb.ident.value().as_str())));
                }
            }
        }
    }
    Ok(r)
}

fn load_output(file: usize, name: &str, b: &Block) -> DResult<OutCfg> {
    let mut value = None;
    let mut sensitive = false;
    let mut description = None;
    let mut preconditions = Vec::new();
    let mut ty = None;
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) => match a.key.value().as_str() {
                "value" => value = Some(Attr::from(file, a)),
                "type" => ty = Some(parse_type(file, &a.value, true, 0)?),
                "sensitive" => sensitive = literal_bool(file, a)?,
                "description" => description = Some(literal_string(file, a)?),
                "depends_on" => {}
                "ephemeral" => return Err(d(ErrorKind::Unsupported, file, a.span(), "Unsupported argument: ephemeral outputs are not supported offline")),
                k => return Err(d(ErrorKind::Config, file, a.span(), format!("Unsupported argument: An argument named {k:?} is not expected here"))),
            },
            Structure::Block(bb) if bb.ident.value().as_str() == "precondition" => preconditions.push(load_condition(file, bb)?),
            Structure::Block(bb) => {
                return Err(d(ErrorKind::Config, file, bb.span(), format!("Unsupported block type: Blocks of type {:?} are not expected here", bb.ident.value().as_str())));
            }
        }
    }
    let Some(value) = value else {
        return Err(d(ErrorKind::Config, file, b.span(), "Missing required argument: The argument \"value\" is required, but no definition was found"));
    };
    Ok(OutCfg { name: name.to_string(), file, span: b.span(), value, sensitive, description, preconditions, ty })
}

/// Parse a type constraint expression.
pub(crate) fn parse_type(file: usize, e: &Expression, allow_optional: bool, depth: usize) -> DResult<Constraint> {
    let bad = |msg: &str| d(ErrorKind::Config, file, e.span(), format!("Invalid type specification: {msg}"));
    if depth > 32 {
        return Err(bad("the type is nested too deeply"));
    }
    match e {
        Expression::Variable(v) => match v.value().as_str() {
            "string" => Ok(Constraint::String),
            "number" => Ok(Constraint::Number),
            "bool" => Ok(Constraint::Bool),
            "any" => Ok(Constraint::Any),
            "list" => Ok(Constraint::List(Box::new(Constraint::Any))),
            "map" => Ok(Constraint::Map(Box::new(Constraint::Any))),
            "set" => Ok(Constraint::Set(Box::new(Constraint::Any))),
            other => Err(bad(&format!("the keyword {other:?} is not a valid type specification"))),
        },
        Expression::FuncCall(f) => {
            let args: Vec<&Expression> = f.args.iter().collect();
            let name = f.name.name.value().as_str();
            let one = || -> DResult<&Expression> {
                if args.len() != 1 {
                    return Err(bad(&format!("{name}() requires exactly one argument")));
                }
                Ok(args[0])
            };
            match name {
                "list" => Ok(Constraint::List(Box::new(parse_type(file, one()?, true, depth + 1)?))),
                "set" => Ok(Constraint::Set(Box::new(parse_type(file, one()?, true, depth + 1)?))),
                "map" => Ok(Constraint::Map(Box::new(parse_type(file, one()?, true, depth + 1)?))),
                "tuple" => match one()? {
                    Expression::Array(a) => Ok(Constraint::Tuple(a.iter().map(|x| parse_type(file, x, true, depth + 1)).collect::<DResult<_>>()?)),
                    _ => Err(bad("tuple() requires a list of types")),
                },
                "object" => match one()? {
                    Expression::Object(o) => {
                        let mut attrs = Vec::new();
                        for (k, v) in o.iter() {
                            let name = match k {
                                hcl_edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
                                hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                                hcl_edit::expr::ObjectKey::Expression(Expression::Variable(s)) => s.value().to_string(),
                                _ => return Err(bad("object attribute names must be identifiers")),
                            };
                            let (ty, optional, default) = match v.expr() {
                                Expression::FuncCall(of) if of.name.name.value().as_str() == "optional" => {
                                    if !allow_optional {
                                        return Err(bad("optional() is not allowed here"));
                                    }
                                    let oargs: Vec<&Expression> = of.args.iter().collect();
                                    if oargs.is_empty() || oargs.len() > 2 {
                                        return Err(bad("optional() requires one or two arguments"));
                                    }
                                    let t = parse_type(file, oargs[0], true, depth + 1)?;
                                    let def = match oargs.get(1) {
                                        Some(de) => {
                                            let dir = PathBuf::new();
                                            let scope = EmptyScope(&dir, false);
                                            let dv = Evaluator::new(&scope).eval(de).map_err(|e| d(ErrorKind::Config, file, e.span, format!("Invalid default value: {}", e.message)))?;
                                            let dv = crate::types::convert(&dv, &t).map_err(|m| d(ErrorKind::Config, file, de.span(), format!("Invalid default value for optional attribute: {m}")))?;
                                            Some(dv)
                                        }
                                        None => None,
                                    };
                                    (t, true, def)
                                }
                                other => (parse_type(file, other, true, depth + 1)?, false, None),
                            };
                            attrs.push(ObjAttr { name, ty, optional, default });
                        }
                        attrs.sort_by(|a, b| a.name.cmp(&b.name));
                        Ok(Constraint::Object(attrs))
                    }
                    _ => Err(bad("object() requires an object of attribute types")),
                },
                "optional" => Err(bad("optional() is only valid for object attributes")),
                other => Err(bad(&format!("{other}() is not a type constructor"))),
            }
        }
        _ => Err(bad("a type keyword or type constructor is required")),
    }
}

/// Visit every absolute traversal (root name plus operators) in an expression.
pub(crate) fn walk_traversals(e: &Expression, f: &mut dyn FnMut(&str, &[&TraversalOperator]), depth: usize) {
    if depth > 200 {
        return;
    }
    let rec = |x: &Expression, f: &mut dyn FnMut(&str, &[&TraversalOperator])| walk_traversals(x, f, depth + 1);
    match e {
        Expression::Variable(v) => f(v.value().as_str(), &[]),
        Expression::Traversal(t) => {
            let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
            if let Expression::Variable(v) = &t.expr {
                f(v.value().as_str(), &ops);
            } else {
                rec(&t.expr, f);
            }
            for op in &ops {
                if let TraversalOperator::Index(ie) = op {
                    rec(ie, f);
                }
            }
        }
        Expression::Array(a) => a.iter().for_each(|x| rec(x, f)),
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let hcl_edit::expr::ObjectKey::Expression(ke) = k {
                    rec(ke, f);
                }
                rec(v.expr(), f);
            }
        }
        Expression::StringTemplate(t) => walk_template_elems(&t.iter().collect::<Vec<_>>(), f, depth),
        Expression::HeredocTemplate(h) => walk_template_elems(&h.template.iter().collect::<Vec<_>>(), f, depth),
        Expression::Parenthesis(p) => rec(p.inner(), f),
        Expression::Conditional(c) => {
            rec(&c.cond_expr, f);
            rec(&c.true_expr, f);
            rec(&c.false_expr, f);
        }
        Expression::FuncCall(c) => c.args.iter().for_each(|x| rec(x, f)),
        Expression::UnaryOp(u) => rec(&u.expr, f),
        Expression::BinaryOp(b) => {
            rec(&b.lhs_expr, f);
            rec(&b.rhs_expr, f);
        }
        Expression::ForExpr(fe) => {
            let k = fe.intro.key_var.as_ref().map(|k| k.value().to_string());
            let v = fe.intro.value_var.value().to_string();
            rec(&fe.intro.collection_expr, f);
            let mut inner = |root: &str, ops: &[&TraversalOperator]| {
                if Some(root) != k.as_deref() && root != v {
                    f(root, ops)
                }
            };
            if let Some(ke) = &fe.key_expr {
                walk_traversals(ke, &mut inner, depth + 1);
            }
            walk_traversals(&fe.value_expr, &mut inner, depth + 1);
            if let Some(c) = &fe.cond {
                walk_traversals(&c.expr, &mut inner, depth + 1);
            }
        }
        _ => {}
    }
}

fn walk_template_elems(elems: &[&hcl_edit::template::Element], f: &mut dyn FnMut(&str, &[&TraversalOperator]), depth: usize) {
    use hcl_edit::template::{Directive, Element};
    for el in elems {
        match el {
            Element::Interpolation(i) => walk_traversals(&i.expr, f, depth + 1),
            Element::Directive(dv) => match &**dv {
                Directive::If(i) => {
                    walk_traversals(&i.if_expr.cond_expr, f, depth + 1);
                    walk_template_elems(&i.if_expr.template.iter().collect::<Vec<_>>(), f, depth + 1);
                    if let Some(e) = &i.else_expr {
                        walk_template_elems(&e.template.iter().collect::<Vec<_>>(), f, depth + 1);
                    }
                }
                Directive::For(fd) => {
                    walk_traversals(&fd.for_expr.collection_expr, f, depth + 1);
                    let k = fd.for_expr.key_var.as_ref().map(|k| k.value().to_string());
                    let v = fd.for_expr.value_var.value().to_string();
                    let mut inner = |root: &str, ops: &[&TraversalOperator]| {
                        if Some(root) != k.as_deref() && root != v {
                            f(root, ops)
                        }
                    };
                    walk_template_elems(&fd.for_expr.template.iter().collect::<Vec<_>>(), &mut inner, depth + 1);
                }
            },
            Element::Literal(_) => {}
        }
    }
}

pub(crate) fn walk_body(b: &Body, f: &mut dyn FnMut(&str, &[&TraversalOperator])) {
    for s in b.iter() {
        match s {
            Structure::Attribute(a) => walk_traversals(&a.value, f, 0),
            Structure::Block(bb) => {
                if bb.ident.value().as_str() == "dynamic" {
                    let it = bb.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
                    let it = bb.body.get_attribute("iterator").and_then(|a| match &a.value { Expression::Variable(v) => Some(v.value().to_string()), _ => None }).unwrap_or(it);
                    let mut inner = |root: &str, ops: &[&TraversalOperator]| {
                        if root != it {
                            f(root, ops)
                        }
                    };
                    walk_body(&bb.body, &mut inner);
                } else {
                    walk_body(&bb.body, f);
                }
            }
        }
    }
}

/// One assignment in a tfvars file: name, value, file index and span.
pub(crate) type TfvarsEntry = (String, Value, usize, Option<Range<usize>>);

/// Values assigned in a tfvars file (HCL or JSON).
pub(crate) fn load_tfvars(sources: &mut Sources, path: &Path) -> DResult<Vec<TfvarsEntry>> {
    if path.extension().is_some_and(|e| e == "json") {
        let text = read_source(path)?;
        let id = sources.add(path.to_path_buf(), text);
        let j: serde_json::Value = serde_json::from_str(&sources.files[id].1).map_err(|e| {
            let off = offset_of(&sources.files[id].1, e.line(), e.column());
            Diag { file: Some(id), span: Some(off..off), message: format!("Invalid JSON: {e}"), kind: ErrorKind::Parse, subject: None }
        })?;
        let serde_json::Value::Object(o) = j else {
            return Err(Diag { file: Some(id), span: Some(0..0), message: "Invalid variables file: the root value must be an object".into(), kind: ErrorKind::Parse, subject: None });
        };
        return Ok(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v), id, Some(0..0))).collect());
    }
    let (id, body) = parse_file(sources, path)?;
    let mut out = Vec::new();
    let dir = PathBuf::new();
    let scope = EmptyScope(&dir, false);
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let v = Evaluator::new(&scope).eval(&a.value).map_err(|e| {
                    Diag { file: Some(id), span: e.span.or(a.span()), message: e.message, kind: ErrorKind::Variable, subject: None }
                })?;
                out.push((a.key.value().to_string(), v, id, a.span()));
            }
            Structure::Block(b) => {
                return Err(Diag { file: Some(id), span: b.span(), message: "Unexpected block: Blocks are not allowed in a variables file".into(), kind: ErrorKind::Parse, subject: None });
            }
        }
    }
    Ok(out)
}

/// The modules of [`crate::InstanceSource`]s, by (root call name, instance key): each loaded
/// from its source relative to the root module, and checked to take the call's arguments as
/// [`Loader::load_call`] checks a call's own module.
pub(crate) fn load_instance_sources(
    sources: &mut Sources,
    root: &ModuleCfg,
    list: &[crate::InstanceSource],
) -> DResult<HashMap<(String, String), Arc<ModuleCfg>>> {
    let mut out = HashMap::default();
    if list.is_empty() {
        return Ok(out);
    }
    let mut loader = Loader::new(sources);
    for s in list {
        let calls: Vec<&CallCfg> = root.calls.iter().filter(|c| c.source == s.call_source).collect();
        if calls.is_empty() {
            return Err(Diag::new(ErrorKind::Config, None, format!("instance source {}: no module call of the root module has source {:?}", s.source, s.call_source)));
        }
        if crate::modules::is_remote(&s.source) {
            return Err(Diag::new(ErrorKind::Config, None, format!("instance source {:?} of {:?}: only a local path (./ or ../) is supported", s.source, s.key)));
        }
        let dir = lexical_join(&root.dir, &s.source);
        let rel = join_rel(&root.rel, &s.source);
        for c in calls {
            loader.keys.push(c.name.clone());
            let module = loader.load(&dir, &rel);
            loader.keys.pop();
            let module = module?;
            for (k, a) in &c.args {
                if module.var(k).is_none() {
                    return Err(d(ErrorKind::Config, c.file, a.span.clone(), format!("Unsupported argument: An argument named {k:?} is not expected by {} (the module of module.{}[{:?}])", s.source, c.name, s.key)));
                }
            }
            for v in &module.variables {
                if v.default.is_none() && !c.args.contains_key(&v.name) {
                    return Err(d(ErrorKind::Config, c.file, c.span.clone(), format!("Missing required argument: {} (the module of module.{}[{:?}]) requires {:?}, which the call does not set", s.source, c.name, s.key, v.name)));
                }
            }
            out.insert((c.name.clone(), s.key.clone()), module);
        }
    }
    if !loader.pending.is_empty() {
        return Err(loader.pending.remove(0));
    }
    Ok(out)
}
