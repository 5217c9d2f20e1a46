//! Demand-driven evaluation of a module tree: variables, locals, resources, module calls and
//! outputs are evaluated when first referenced and memoized; a reference back to something
//! still being evaluated is a dependency cycle. The result is the same as evaluating in
//! dependency order.
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::hash::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span;

use crate::error::{DResult, Diag, ErrorKind, Sources};
use crate::eval::{Evaluator, Scope};
use crate::load::{Attr, CallCfg, Condition, Mode, ModuleCfg, ResCfg, VarCfg};
use crate::types::{convert, Constraint};
use crate::value::{Type, Value};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Key {
    None,
    Int(usize),
    Str(String),
}

impl Key {
    pub fn suffix(&self) -> String {
        match self {
            Key::None => String::new(),
            Key::Int(i) => format!("[{i}]"),
            Key::Str(s) => format!("[{}]", crate::functions_json_quote(s)),
        }
    }
    pub fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            Key::None => None,
            Key::Int(i) => Some(serde_json::Value::from(*i)),
            Key::Str(s) => Some(serde_json::Value::from(s.clone())),
        }
    }
}

/// count/for_each expansion of one resource or module call.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expansion {
    Single,
    Count,
    ForEach,
}

#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub key: Key,
    /// each.key and each.value / count.index for this instance, shared by every scope that
    /// evaluates in it.
    pub each: Option<(Rc<Value>, Rc<Value>)>,
    pub count: Option<Rc<Value>>,
}

enum Slot<T> {
    Busy,
    Done(T),
}

pub(crate) struct ResInst {
    pub key: Key,
    /// Whether the configuration (before planning) is wholly known.
    pub config_known: bool,
}

pub(crate) struct ResState {
    pub instances: Vec<ResInst>,
    pub expansion: Expansion,
    /// The resource's value as references see it; it holds each instance's planned object
    /// (see [`ResState::planned`]), so the planned objects are stored once.
    pub value: Rc<Value>,
}

impl ResState {
    /// The planned object of instance `n` (unwrapped from its `Open` mark).
    pub fn planned(&self, n: usize) -> Option<&Value> {
        let v = match self.expansion {
            Expansion::Single => Some(&*self.value),
            Expansion::Count => match &*self.value {
                Value::Tuple(vs) => vs.get(n),
                _ => None,
            },
            Expansion::ForEach => match (&*self.value, &self.instances.get(n)?.key) {
                (Value::Object(m), Key::Str(k)) => m.get(k),
                _ => None,
            },
        }?;
        Some(match v {
            Value::Open(inner) => inner,
            v => v,
        })
    }
}

pub(crate) struct CallState {
    pub expansion: Expansion,
    pub children: Vec<(Key, usize)>,
}

pub(crate) struct Inst {
    pub cfg: Arc<ModuleCfg>,
    pub addr: String,
    /// The module's configuration address: `addr` without instance keys.
    pub cfg_addr: String,
    pub parent: Option<(usize, String, Instance)>,
    vars: RefCell<HashMap<String, Slot<Rc<Value>>>>,
    locals: RefCell<HashMap<String, Slot<Rc<Value>>>>,
    resources: RefCell<HashMap<String, Slot<Rc<ResState>>>>,
    calls: RefCell<HashMap<String, Slot<Rc<CallState>>>>,
    outputs: RefCell<HashMap<String, Slot<Rc<Value>>>>,
    /// `module.NAME` objects already built for references.
    call_values: RefCell<HashMap<String, Rc<Value>>>,
}

/// A root variable value as given from outside the configuration.
pub(crate) struct Input {
    pub value: Value,
    /// Where it was set (tfvars attribute), if in a file.
    pub place: Option<(usize, Option<Range<usize>>)>,
    /// A raw string from --var: parsed according to the variable's type.
    pub raw: bool,
}

/// One checkable object (variable validations, pre/postconditions, check blocks) and the
/// status of each of its instances, as `terraform show -json` reports them under `checks`.
pub(crate) struct CheckRec {
    pub address: serde_json::Value,
    pub instances: Vec<(serde_json::Value, &'static str, Vec<String>)>,
}

pub(crate) struct Engine<'a> {
    pub sources: &'a Sources,
    pub checks: RefCell<BTreeMap<String, CheckRec>>,
    pub inputs: HashMap<String, Input>,
    pub insts: RefCell<Vec<Rc<Inst>>>,
    stack: RefCell<Vec<String>>,
    /// File functions resolve paths from the root module directory, like Terraform run there.
    root_dir: std::path::PathBuf,
    /// Provider schemas: resources of these types are planned as the provider would.
    pub schema: Option<std::sync::Arc<crate::schema::ProviderSchema>>,
    /// Errors found beside the one an evaluation failed with (every failing validation rule
    /// of a variable after the first): `run_all` reports them too.
    also: RefCell<Vec<(Diag, bool)>>,
    /// What Terraform's validate walk (run before the plan) cannot know: root variables, `each`,
    /// `count` and resources are unknown there. See [`crate::plantime`].
    plan_time: crate::plantime::PlanTime,
    /// Root call instances rendered from other module code, by (call name, instance key)
    /// ([`crate::InstanceSource`]), and those an instance used.
    pub overrides: HashMap<(String, String), Arc<ModuleCfg>>,
    used_overrides: RefCell<HashSet<(String, String)>>,
}

pub(crate) struct InstScope<'e, 'a> {
    eng: &'e Engine<'a>,
    inst: usize,
    cfg: Arc<ModuleCfg>,
    each: Option<(Rc<Value>, Rc<Value>)>,
    count: Option<Rc<Value>>,
    self_val: Option<Rc<Value>>,
}

impl Scope for InstScope<'_, '_> {
    fn lookup(&self, root: &str, attrs: &[&str], span: Option<Range<usize>>) -> DResult<(Rc<Value>, usize)> {
        self.eng.lookup(self, root, attrs, span)
    }
    fn module_dir(&self) -> &Path {
        &self.eng.root_dir
    }
}

fn err(kind: ErrorKind, file: usize, span: Option<Range<usize>>, msg: impl Into<String>) -> Diag {
    Diag::new(kind, span, msg).in_file(file)
}

impl<'a> Engine<'a> {
    pub fn new(sources: &'a Sources, root: Arc<ModuleCfg>, inputs: HashMap<String, Input>) -> Self {
        let root_dir = root.dir.clone();
        let eng = Engine { sources, checks: Default::default(), inputs, insts: RefCell::new(Vec::new()), stack: RefCell::new(Vec::new()), root_dir, schema: None, also: RefCell::new(Vec::new()), plan_time: Default::default(), overrides: HashMap::default(), used_overrides: Default::default() };
        eng.add_inst(root, String::new(), None);
        eng
    }

    fn add_inst(&self, cfg: Arc<ModuleCfg>, addr: String, parent: Option<(usize, String, Instance)>) -> usize {
        let cfg_addr = match &parent {
            None => String::new(),
            Some((pi, name, _)) => {
                let p = self.inst(*pi);
                if p.cfg_addr.is_empty() { format!("module.{name}") } else { format!("{}.module.{name}", p.cfg_addr) }
            }
        };
        let inst = Inst {
            cfg,
            cfg_addr,
            addr,
            parent,
            vars: Default::default(),
            locals: Default::default(),
            resources: Default::default(),
            calls: Default::default(),
            outputs: Default::default(),
            call_values: Default::default(),
        };
        let mut v = self.insts.borrow_mut();
        v.push(Rc::new(inst));
        v.len() - 1
    }

    pub fn inst(&self, i: usize) -> Rc<Inst> {
        self.insts.borrow()[i].clone()
    }

    fn scope(&self, i: usize) -> InstScope<'_, 'a> {
        InstScope {
            eng: self,
            inst: i,
            cfg: self.inst(i).cfg.clone(),
            each: None,
            count: None,
            self_val: None,
        }
    }

    fn prefix(&self, i: usize) -> String {
        let a = &self.inst(i).addr;
        if a.is_empty() { String::new() } else { format!("{a}.") }
    }

    /// The engine id of a node of instance `i`: `module.a.` (the instance's prefix), `kind`
    /// (`var.`, `local.`, ... or empty for a resource key) and `name`, built in one allocation
    /// (ids are built for every node read, issue 29).
    fn node_id(&self, i: usize, kind: &str, name: &str) -> String {
        let inst = self.inst(i);
        let a = &inst.addr;
        let mut id = String::with_capacity(a.len() + 1 + kind.len() + name.len());
        if !a.is_empty() {
            id.push_str(a);
            id.push('.');
        }
        id.push_str(kind);
        id.push_str(name);
        id
    }

    /// An error for each instance source whose call has no instance of its key: a pin of a
    /// service the configuration does not have must not pass silently.
    pub fn unused_overrides(&self) -> Vec<Diag> {
        let used = self.used_overrides.borrow();
        let mut unused: Vec<&(String, String)> = self.overrides.keys().filter(|k| !used.contains(*k)).collect();
        unused.sort();
        unused
            .into_iter()
            .map(|(call, key)| {
                Diag::new(ErrorKind::Config, None, format!("instance source of module.{call}[{key:?}]: module.{call} has no instance {key:?}"))
            })
            .collect()
    }

    /// Evaluate everything in the tree, children after parents.
    /// Evaluates everything and returns every error, each once, in the order found. An
    /// object depending on a failed one fails with that same error, which is not repeated,
    /// as Terraform reports each failure once.
    pub fn run_all(&self) -> Vec<Diag> {
        // Each error with whether it needs a plan-time value (crate::plantime).
        let mut errors: Vec<(Diag, bool)> = Vec::new();
        let mut note = |r: DResult<()>, plan_time: bool| {
            if let Err(e) = r {
                // One cycle is one error, whichever member it was found from.
                let members = |d: &Diag| {
                    let mut m: Vec<String> = d.message.trim_start_matches("Cycle: ").split(", ").map(str::to_string).collect();
                    m.sort();
                    m
                };
                let same_cycle = |x: &Diag| x.kind == ErrorKind::Cycle && e.kind == ErrorKind::Cycle && members(x) == members(&e);
                // The same failure of two instances (a validation of each module instance) is two errors.
                let seen = errors.iter().any(|(x, _)| (x.file == e.file && x.span == e.span && x.message == e.message && x.subject == e.subject) || same_cycle(x));
                if !seen {
                    errors.push((e, plan_time));
                }
            }
        };
        let mut i = 0;
        while i < self.insts.borrow().len() {
            let inst = self.inst(i);
            let cfg = inst.cfg.clone();
            for v in &cfg.variables {
                self.plan_time.reset();
                let r = self.var(i, &v.name, None).map(drop);
                note(r, self.plan_time.touched());
            }
            let mut names: Vec<&String> = cfg.locals.keys().collect();
            names.sort_by_key(|n| (cfg.locals[*n].file, cfg.locals[*n].span.as_ref().map(|s| s.start)));
            for n in names {
                self.plan_time.reset();
                let r = self.local(i, n, None).map(drop);
                note(r, self.plan_time.touched());
            }
            for r in &cfg.resources {
                self.plan_time.reset();
                let r = self.resource(i, &r.key(), None).map(drop);
                note(r, self.plan_time.touched());
            }
            for c in &cfg.calls {
                self.plan_time.reset();
                let r = self.call(i, &c.name, None).map(drop);
                note(r, self.plan_time.touched());
            }
            for o in &cfg.outputs {
                self.plan_time.reset();
                let r = self.output(i, &o.name, None).map(drop);
                note(r, self.plan_time.touched());
            }
            for c in &cfg.checks {
                self.plan_time.reset();
                let r = self.check_block(i, c);
                note(r, self.plan_time.touched());
            }
            i += 1;
        }
        for (d, plan_time) in self.also.take() {
            note(Err(d), plan_time);
        }
        // Terraform validates before it plans, with root variables (and each, count and
        // resources) unknown: errors found without them stop it there, and the ones that need
        // them (a root variable's own validation rules among them) are never found.
        if errors.iter().any(|(_, plan_time)| !plan_time) {
            errors.retain(|(_, plan_time)| !plan_time);
        }
        errors.into_iter().map(|(d, _)| d).collect()
    }

    /// Check assertions only warn in Terraform: a failure is recorded, not an error.
    fn check_block(&self, i: usize, c: &crate::load::CheckCfg) -> DResult<()> {
        let sc = self.scope(i);
        let mut status = "pass";
        let mut problems = Vec::new();
        for a in &c.asserts {
            match self.eval(&sc, &a.condition)?.unmark().0 {
                Value::Bool(true) => {}
                Value::Bool(false) => {
                    status = "fail";
                    if let Value::String(m) = self.eval(&sc, &a.error_message)?.unmark().0 {
                        problems.push(m.clone());
                    }
                }
                _ => {
                    if status == "pass" {
                        status = "unknown";
                    }
                }
            }
        }
        self.record_check(i, "check", &format!("check.{}", c.name), serde_json::Map::new(), None, status, problems);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn record_check(
        &self,
        i: usize,
        kind: &str,
        local: &str,
        mut extra: serde_json::Map<String, serde_json::Value>,
        key: Option<&Key>,
        status: &'static str,
        problems: Vec<String>,
    ) {
        let inst = self.inst(i);
        let cfg_display = if inst.cfg_addr.is_empty() { local.to_string() } else { format!("{}.{local}", inst.cfg_addr) };
        // The configuration address of a check, built once: every later instance of the same
        // check only adds its own instance address (issue 29: once per instance was 2% of a
        // render).
        let mut address = || {
            let name = local.rsplit('.').next().unwrap_or(local).to_string();
            let mut addr = serde_json::Map::new();
            addr.insert("kind".into(), kind.into());
            if !inst.cfg_addr.is_empty() {
                addr.insert("module".into(), inst.cfg_addr.clone().into());
            }
            addr.insert("name".into(), name.into());
            addr.insert("to_display".into(), cfg_display.clone().into());
            addr.append(&mut extra);
            let sorted: BTreeMap<String, serde_json::Value> = addr.into_iter().collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        };
        let mut ia = serde_json::Map::new();
        if let Some(k) = key.and_then(Key::to_json) {
            ia.insert("instance_key".into(), k);
        }
        if !inst.addr.is_empty() {
            ia.insert("module".into(), inst.addr.clone().into());
        }
        let suffix = key.map(Key::suffix).unwrap_or_default();
        let inst_display = if inst.addr.is_empty() { format!("{local}{suffix}") } else { format!("{}.{local}{suffix}", inst.addr) };
        ia.insert("to_display".into(), inst_display.into());
        let mut checks = self.checks.borrow_mut();
        if !checks.contains_key(&cfg_display) {
            let rec = CheckRec { address: address(), instances: Vec::new() };
            checks.insert(cfg_display.clone(), rec);
        }
        let Some(rec) = checks.get_mut(&cfg_display) else { return };
        rec.instances.push((serde_json::Value::Object(ia), status, problems));
    }

    fn eval(&self, scope: &InstScope, a: &Attr) -> DResult<Value> {
        let mut ev = Evaluator::new(scope);
        ev.src = self.sources.files.get(a.file).map(|f| f.1.as_str());
        let r = ev.eval(&a.expr).map_err(|d| d.in_file(a.file));
        if r.is_err() {
            let plan_time = self.plan_time.touched();
            self.also.borrow_mut().extend(ev.also.into_iter().map(|d| (d.in_file(a.file), plan_time)));
        }
        r
    }

    fn enter(&self, what: String, file: usize, span: Option<Range<usize>>) -> DResult<()> {
        let mut st = self.stack.borrow_mut();
        if st.len() > 400 {
            return Err(err(ErrorKind::Eval, file, span, "Evaluation is nested too deeply"));
        }
        st.push(what);
        self.plan_time.enter();
        Ok(())
    }

    fn leave(&self) {
        if let Some(id) = self.stack.borrow_mut().pop() {
            self.plan_time.leave(id);
        }
    }

    fn cycle(&self, what: &str, span: Option<Range<usize>>) -> Diag {
        let st = self.stack.borrow();
        let start = st.iter().position(|s| s == what).unwrap_or(0);
        let chain: Vec<String> = st[start..].iter().map(|s| format!("{s} (expand)")).collect();
        Diag::new(ErrorKind::Cycle, span, format!("Cycle: {}", chain.join(", ")))
    }

    fn lookup(&self, sc: &InstScope, root: &str, attrs: &[&str], span: Option<Range<usize>>) -> DResult<(Rc<Value>, usize)> {
        let i = sc.inst;
        let need = |n: usize, what: &str| -> DResult<()> {
            if attrs.len() < n {
                return Err(Diag::eval(span.clone(), format!("Invalid reference: The {what:?} object cannot be accessed directly. Instead, access one of its attributes")));
            }
            Ok(())
        };
        match root {
            "var" => {
                need(1, "var")?;
                if sc.cfg.var(attrs[0]).is_none() {
                    return Err(Diag::eval(span, format!("Reference to undeclared input variable: An input variable with the name {:?} has not been declared", attrs[0])));
                }
                Ok((self.var(i, attrs[0], span)?, 1))
            }
            "local" => {
                need(1, "local")?;
                if !sc.cfg.locals.contains_key(attrs[0]) {
                    return Err(Diag::eval(span, format!("Reference to undeclared local value: A local value with the name {:?} has not been declared", attrs[0])));
                }
                Ok((self.local(i, attrs[0], span)?, 1))
            }
            "count" => {
                need(1, "count")?;
                match (&sc.count, attrs[0]) {
                    (Some(c), "index") => {
                        self.plan_time.touch();
                        Ok((c.clone(), 1))
                    }
                    (None, _) => Err(Diag::eval(span, "Reference to \"count\" in non-counted context: The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set")),
                    _ => Err(Diag::eval(span, format!("Invalid \"count\" attribute: The \"count\" object does not have an attribute named {:?}. The only supported attribute is count.index", attrs[0]))),
                }
            }
            "each" => {
                need(1, "each")?;
                match (&sc.each, attrs[0]) {
                    (Some((k, _)), "key") => {
                        self.plan_time.touch();
                        Ok((k.clone(), 1))
                    }
                    (Some((_, v)), "value") => {
                        self.plan_time.touch();
                        Ok((v.clone(), 1))
                    }
                    (None, _) => Err(Diag::eval(span, "Reference to \"each\" in context without for_each: The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set")),
                    _ => Err(Diag::eval(span, format!("Invalid \"each\" attribute: The \"each\" object does not have an attribute named {:?}. The supported attributes are each.key and each.value", attrs[0]))),
                }
            }
            "path" => {
                need(1, "path")?;
                match attrs[0] {
                    "module" => Ok((Rc::new(Value::str(sc.cfg.rel.clone())), 1)),
                    "root" => Ok((Rc::new(Value::str(".")), 1)),
                    "cwd" => {
                        let root_dir = self.root_dir.clone();
                        let abs = std::fs::canonicalize(&root_dir).unwrap_or(root_dir);
                        Ok((Rc::new(Value::str(abs.to_string_lossy().into_owned())), 1))
                    }
                    other => Err(Diag::eval(span, format!("Invalid \"path\" attribute: The \"path\" object does not have an attribute named {other:?}"))),
                }
            }
            "terraform" => {
                need(1, "terraform")?;
                match attrs[0] {
                    "workspace" => Ok((Rc::new(Value::str("default")), 1)),
                    other => Err(Diag::eval(span, format!("Invalid \"terraform\" attribute: The \"terraform\" object does not have an attribute named {other:?}"))),
                }
            }
            "self" => match &sc.self_val {
                Some(v) => Ok((v.clone(), 0)),
                None => Err(Diag::eval(span, "Invalid \"self\" reference: The \"self\" object is not available in this context")),
            },
            "module" => {
                need(1, "module")?;
                let Some(call) = sc.cfg.call(attrs[0]) else {
                    return Err(Diag::eval(span, format!("Reference to undeclared module: No module call named {:?} is declared in this module", attrs[0])));
                };
                let st = self.call(i, attrs[0], span.clone())?;
                if st.expansion == Expansion::Single && attrs.len() >= 2 {
                    let child = st.children.first().map(|c| c.1);
                    let Some(child) = child else { return Ok((Rc::new(Value::dynamic_unknown()), 1)) };
                    if call.module.output(attrs[1]).is_none() {
                        return Err(Diag::eval(span, format!("Unsupported attribute: This object does not have an attribute named {:?}", attrs[1])));
                    }
                    return Ok((self.output(child, attrs[1], span)?, 2));
                }
                // A module's whole value: treated as unknown in the validate walk.
                self.plan_time.touch();
                if let Some(v) = self.inst(i).call_values.borrow().get(attrs[0]) {
                    return Ok((v.clone(), 1));
                }
                let v = Rc::new(self.call_value(&st, span)?);
                self.inst(i).call_values.borrow_mut().insert(attrs[0].to_string(), v.clone());
                Ok((v, 1))
            }
            "data" => {
                need(2, "data")?;
                let key = format!("data.{}.{}", attrs[0], attrs[1]);
                if sc.cfg.resource(&key).is_none() {
                    return Err(Diag::eval(span, format!("Reference to undeclared resource: A data resource {:?} {:?} has not been declared in this module", attrs[0], attrs[1])));
                }
                let r = self.resource(i, &key, span)?.value.clone();
                // Resources are unknown in the validate walk.
                self.plan_time.touch();
                Ok((r, 2))
            }
            ty => {
                if attrs.is_empty() {
                    return Err(Diag::eval(span, format!("Invalid reference: A reference to a resource type must be followed by at least one attribute access, specifying the resource name (unknown symbol {ty:?})")));
                }
                let key = format!("{ty}.{}", attrs[0]);
                if sc.cfg.resource(&key).is_none() {
                    return Err(Diag::eval(span, format!("Reference to undeclared resource: A managed resource {ty:?} {:?} has not been declared in the root module", attrs[0])));
                }
                let r = self.resource(i, &key, span)?.value.clone();
                self.plan_time.touch();
                Ok((r, 1))
            }
        }
    }

    fn call_value(&self, st: &CallState, span: Option<Range<usize>>) -> DResult<Value> {
        let mut objs = Vec::new();
        for (k, child) in &st.children {
            let inst = self.inst(*child);
            let mut m = BTreeMap::new();
            for o in &inst.cfg.outputs {
                m.insert(o.name.clone(), Value::clone(&*self.output(*child, &o.name, span.clone())?));
            }
            objs.push((k.clone(), Value::Object(m)));
        }
        Ok(match st.expansion {
            Expansion::Single => objs.into_iter().next().map(|o| o.1).unwrap_or_else(Value::dynamic_unknown),
            Expansion::Count => Value::Tuple(objs.into_iter().map(|o| o.1).collect()),
            Expansion::ForEach => Value::Object(
                objs.into_iter()
                    .map(|(k, v)| (match k { Key::Str(s) => s, _ => String::new() }, v))
                    .collect(),
            ),
        })
    }

    pub fn var(&self, i: usize, name: &str, span: Option<Range<usize>>) -> DResult<Rc<Value>> {
        let inst = self.inst(i);
        if inst.parent.is_none() {
            self.plan_time.touch();
        }
        match inst.vars.borrow().get(name) {
            Some(Slot::Done(v)) => {
                self.plan_time.read(|| self.node_id(i, "var.", name));
                return Ok(v.clone());
            }
            Some(Slot::Busy) => return Err(self.cycle(&self.node_id(i, "var.", name), span)),
            None => {}
        }
        let id = self.node_id(i, "var.", name);
        let Some(cfg) = inst.cfg.var(name) else {
            return Err(Diag::eval(span, format!("Reference to undeclared input variable {name:?}")));
        };
        inst.vars.borrow_mut().insert(name.to_string(), Slot::Busy);
        self.enter(id, cfg.file, cfg.span.clone())?;
        let r = self.compute_var(i, &inst, cfg);
        self.leave();
        match r {
            Ok(v) => {
                inst.vars.borrow_mut().insert(name.to_string(), Slot::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                inst.vars.borrow_mut().remove(name);
                Err(e)
            }
        }
    }

    fn compute_var(&self, i: usize, inst: &Inst, cfg: &VarCfg) -> DResult<Rc<Value>> {
        let display = format!("{}var.{}", self.prefix(i), cfg.name);
        // Only error messages name the declaration: computed when one is built.
        let declared_at = || cfg.span.as_ref().map(|s| self.sources.range_str(cfg.file, s)).unwrap_or_default();
        let (given, place): (Option<Value>, Option<crate::error::Place>) = match &inst.parent {
            None => match self.inputs.get(&cfg.name) {
                Some(inp) => {
                    let v = if inp.raw {
                        parse_raw(&inp.value, cfg.ty.as_ref()).map_err(|m| {
                            Diag::new(ErrorKind::Variable, None, format!("Invalid value for input variable: the value given for var.{} with -var is not valid: {m}", cfg.name))
                        })?
                    } else {
                        inp.value.clone()
                    };
                    (Some(v), inp.place.clone())
                }
                None => (None, None),
            },
            Some((pi, call_name, instance)) => {
                let parent = self.inst(*pi);
                let call = parent.cfg.call(call_name).ok_or_else(|| Diag::eval(None, "module call vanished"))?;
                match call.args.get(&cfg.name) {
                    Some(a) => {
                        let mut sc = self.scope(*pi);
                        sc.each = instance.each.clone();
                        sc.count = instance.count.clone();
                        (Some(self.eval(&sc, a)?), Some((a.file, a.span.clone())))
                    }
                    None => (None, None),
                }
            }
        };
        let mut v = match given {
            Some(v) if v.is_null() && !cfg.nullable => match &cfg.default {
                Some(d) if !d.is_null() => d.clone(),
                _ => {
                    let (f, s) = place.clone().unwrap_or((cfg.file, cfg.span.clone()));
                    return Err(err(ErrorKind::Variable, f, s, format!("Required variable not set: Unsuitable value for {display} set from outside of the configuration: required variable may not be set to null")));
                }
            },
            Some(v) => v,
            None => match &cfg.default {
                Some(d) => d.clone(),
                None => {
                    return Err(err(ErrorKind::Variable, cfg.file, cfg.span.clone(), format!("No value for required variable: The root module input variable {:?} is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable", cfg.name)));
                }
            },
        };
        if let Some(t) = &cfg.ty {
            v = convert(&v, t).map_err(|m| {
                let (f, s) = place.clone().unwrap_or((cfg.file, cfg.span.clone()));
                err(ErrorKind::Variable, f, s, format!("Invalid value for input variable: The given value is not suitable for {display} declared at {}: {m}", declared_at()))
            })?;
        }
        if cfg.sensitive {
            v = v.mark(true);
        }
        // Validation rules see the variable's own final value.
        let v = Rc::new(v);
        inst.vars.borrow_mut().insert(cfg.name.clone(), Slot::Done(v.clone()));
        let mut status = "pass";
        // Terraform checks every rule and reports each one that fails.
        let mut failures: Vec<Diag> = Vec::new();
        for val in &cfg.validations {
            let sc = self.scope(i);
            let c = self.eval(&sc, &val.condition)?;
            let (c, _) = c.into_unmarked();
            match c {
                Value::Unknown(_) => {
                    status = "unknown";
                    continue;
                }
                Value::Bool(true) => continue,
                Value::Bool(false) => {
                    let msg = self.eval(&sc, &val.error_message)?;
                    let msg = match msg.unmark().0 {
                        Value::String(s) => s.clone(),
                        Value::Unknown(_) => {
                            failures.push(err(ErrorKind::Variable, val.file, val.error_message.span.clone(), "Invalid error message: Unsuitable value for error message: expression refers to values that won't be known until the apply phase"));
                            continue;
                        }
                        _ => String::new(),
                    };
                    let rule_at = val.span.as_ref().map(|s| self.sources.range_str(val.file, s)).unwrap_or_default();
                    // Terraform points at where the value was set (tfvars line, calling
                    // argument), or at the variable when its default failed.
                    let (f, s) = place.clone().unwrap_or((cfg.file, cfg.span.clone()));
                    failures.push(err(ErrorKind::Variable, f, s, format!("Invalid value for variable: {msg}\n\nThis was checked by the validation rule at {rule_at}.")).about(display.clone()));
                }
                Value::Null(_) => {
                    return Err(err(ErrorKind::Variable, val.file, val.condition.span.clone(), "Invalid condition result: Condition expression must return either true or false, not null"));
                }
                _ => {
                    return Err(err(ErrorKind::Variable, val.file, val.condition.span.clone(), "Invalid variable validation result: The validation condition must return a bool"));
                }
            }
        }
        if !failures.is_empty() {
            if inst.parent.is_none() {
                // A root variable that fails its validation is unknown to what reads it
                // (Terraform 1.9+), so its failures are reported once, here, and nothing
                // downstream fails on its value.
                self.also.borrow_mut().extend(failures.into_iter().map(|d| (d, true)));
                return Ok(Rc::new(Value::dynamic_unknown()));
            }
            let first = failures.remove(0);
            let plan_time = self.plan_time.touched();
            self.also.borrow_mut().extend(failures.into_iter().map(|d| (d, plan_time)));
            return Err(first);
        }
        if !cfg.validations.is_empty() {
            self.record_check(i, "var", &format!("var.{}", cfg.name), serde_json::Map::new(), None, status, Vec::new());
        }
        Ok(v)
    }

    pub fn local(&self, i: usize, name: &str, span: Option<Range<usize>>) -> DResult<Rc<Value>> {
        let inst = self.inst(i);
        match inst.locals.borrow().get(name) {
            Some(Slot::Done(v)) => {
                self.plan_time.read(|| self.node_id(i, "local.", name));
                return Ok(v.clone());
            }
            Some(Slot::Busy) => return Err(self.cycle(&self.node_id(i, "local.", name), span)),
            None => {}
        }
        let id = self.node_id(i, "local.", name);
        let Some(a) = inst.cfg.locals.get(name) else {
            return Err(Diag::eval(span, format!("Reference to undeclared local value {name:?}")));
        };
        inst.locals.borrow_mut().insert(name.to_string(), Slot::Busy);
        self.enter(id, a.file, a.span.clone())?;
        let sc = self.scope(i);
        let r = self.eval(&sc, a).map(Rc::new);
        self.leave();
        match r {
            Ok(v) => {
                inst.locals.borrow_mut().insert(name.to_string(), Slot::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                inst.locals.borrow_mut().remove(name);
                Err(e)
            }
        }
    }

    fn expand(&self, sc: &InstScope, count: Option<&Attr>, for_each: Option<&Attr>) -> DResult<(Expansion, Vec<Instance>)> {
        if let Some(c) = count {
            let v = self.eval(sc, c)?;
            let (v, _) = v.into_unmarked();
            let n = match v {
                Value::Unknown(_) => {
                    return Err(err(ErrorKind::Eval, c.file, c.span.clone(), "Invalid count argument: The \"count\" value depends on resource attributes that cannot be determined until apply, so Terraform cannot predict how many instances will be created. To work around this, use the -target argument to first apply only the resources that the count depends on"));
                }
                Value::Null(_) => {
                    return Err(err(ErrorKind::Eval, c.file, c.span.clone(), "Invalid count argument: The given \"count\" argument value is null. An integer is required"));
                }
                other => match convert(&other, &Constraint::Number) {
                    Ok(Value::Number(n)) => n,
                    _ => return Err(err(ErrorKind::Eval, c.file, c.span.clone(), "Invalid count argument: The given \"count\" argument value is unsuitable: number required")),
                },
            };
            if n < 0.0 || n.fract() != 0.0 {
                return Err(err(ErrorKind::Eval, c.file, c.span.clone(), if n < 0.0 { "Invalid count argument: The given \"count\" argument value is unsuitable: must be greater than or equal to zero" } else { "Invalid count argument: The given \"count\" argument value is unsuitable: the value must be a whole number" }));
            }
            if n > 100_000.0 {
                return Err(err(ErrorKind::Eval, c.file, c.span.clone(), "Invalid count argument: the count is too large for offline rendering"));
            }
            let insts = (0..n as usize)
                .map(|k| Instance { key: Key::Int(k), each: None, count: Some(Rc::new(Value::Number(k as f64))) })
                .collect();
            return Ok((Expansion::Count, insts));
        }
        if let Some(fe) = for_each {
            let v = self.eval(sc, fe)?;
            let bad = |m: &str| err(ErrorKind::Eval, fe.file, fe.span.clone(), format!("Invalid for_each argument: {m}"));
            if v.is_sensitive() {
                return Err(bad("Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments. If used, the sensitive value could be exposed as a resource instance key"));
            }
            let mut insts = Vec::new();
            match v {
                Value::Unknown(_) => return Err(bad("The \"for_each\" map includes keys derived from resource attributes that cannot be determined until apply, and so Terraform cannot determine the full set of keys that will identify the instances of this resource")),
                Value::Null(_) => return Err(bad("The given \"for_each\" argument value is unsuitable: the given \"for_each\" argument value is null. A map, or set of strings is allowed")),
                Value::Map(_, m) | Value::Object(m) => {
                    for (k, x) in m {
                        let each_key = Rc::new(Value::str(k.clone()));
                        insts.push(Instance { key: Key::Str(k), each: Some((each_key, Rc::new(x))), count: None });
                    }
                }
                Value::Set(t, items) => {
                    if t != Type::String && t != Type::Dynamic {
                        return Err(bad(&format!("The given \"for_each\" argument value is unsuitable: \"for_each\" supports maps and sets of strings, but you have provided a set containing type {}", t.friendly())));
                    }
                    for x in items {
                        match x.unmark().0 {
                            Value::String(s) => {
                                let key = Key::Str(s.clone());
                                let x = Rc::new(x);
                                insts.push(Instance { key, each: Some((x.clone(), x)), count: None })
                            }
                            Value::Unknown(_) => return Err(bad("The \"for_each\" set includes values derived from resource attributes that cannot be determined until apply, and so Terraform cannot determine the full set of keys that will identify the instances of this resource")),
                            Value::Null(_) => return Err(bad("The given \"for_each\" argument value is unsuitable: \"for_each\" sets must not contain null values")),
                            _ => return Err(bad("The given \"for_each\" argument value is unsuitable: \"for_each\" supports maps and sets of strings")),
                        }
                    }
                }
                other => {
                    return Err(bad(&format!("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}", other.type_name())));
                }
            }
            return Ok((Expansion::ForEach, insts));
        }
        Ok((Expansion::Single, vec![Instance { key: Key::None, each: None, count: None }]))
    }

    pub fn resource(&self, i: usize, key: &str, span: Option<Range<usize>>) -> DResult<Rc<ResState>> {
        let inst = self.inst(i);
        match inst.resources.borrow().get(key) {
            Some(Slot::Done(v)) => return Ok(v.clone()),
            Some(Slot::Busy) => return Err(self.cycle(&self.node_id(i, "", &key), span)),
            None => {}
        }
        let id = self.node_id(i, "", &key);
        let cfg = inst.cfg.clone();
        let Some(r) = cfg.resource(key) else {
            return Err(Diag::eval(span, format!("Reference to undeclared resource {key:?}")));
        };
        inst.resources.borrow_mut().insert(key.to_string(), Slot::Busy);
        self.enter(id, r.file, r.span.clone())?;
        let res = self.compute_resource(i, &cfg, r);
        self.leave();
        match res {
            Ok(v) => {
                let v = Rc::new(v);
                inst.resources.borrow_mut().insert(key.to_string(), Slot::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                inst.resources.borrow_mut().remove(key);
                Err(e)
            }
        }
    }

    fn compute_resource(&self, i: usize, cfg: &ModuleCfg, r: &ResCfg) -> DResult<ResState> {
        let sc = self.scope(i);
        let (exp, insts) = self.expand(&sc, r.count.as_ref(), r.for_each.as_ref())?;
        let referenced: &[String] = cfg.referenced_attrs.get(&r.key()).map(Vec::as_slice).unwrap_or_default();
        let schema = self.schema_for(r);
        let closed = schema.is_some();
        let mut out = Vec::new();
        for inst in insts {
            let mut sc = self.scope(i);
            sc.each = inst.each.clone();
            sc.count = inst.count.clone();
            let mut status = "pass";
            for c in &r.preconditions {
                status = worse(status, self.check_condition(&sc, c, "Resource precondition failed")?);
            }
            let config = {
                let mut ev = Evaluator::new(&sc);
                ev.src = self.sources.files.get(r.file).map(|f| f.1.as_str());
                let body = eval_body(&mut ev, &r.body, 0).map_err(|d| d.in_file(r.file));
                if body.is_err() {
                    let plan_time = self.plan_time.touched();
                    self.also.borrow_mut().extend(ev.also.into_iter().map(|d| (d.in_file(r.file), plan_time)));
                }
                body?
            };
            let config_known = r.mode == Mode::Data && config.is_wholly_known();
            let planned = if r.ty == "terraform_data" && r.mode == Mode::Managed {
                let Value::Object(m) = &config else { return unreachable_obj(); };
                let input = m.get("input").cloned().unwrap_or(Value::null());
                let triggers = m.get("triggers_replace").cloned().unwrap_or(Value::null());
                let output = if input.is_null() { input.clone() } else { Value::Unknown(input.ty()) };
                let mut p = BTreeMap::new();
                p.insert("id".to_string(), Value::not_null_unknown(Type::String));
                p.insert("input".to_string(), input);
                p.insert("output".to_string(), output);
                p.insert("triggers_replace".to_string(), triggers);
                Value::Object(p)
            } else if let Some(rs) = schema {
                let conf = crate::validate::conform(&config, &rs.block, Some(&r.body), 0).map_err(|d| d.in_file(r.file))?;
                crate::validate::plan_value(&conf, &rs.block, true)
            } else {
                let Value::Object(mut m) = config else { return unreachable_obj(); };
                m.entry("id".to_string()).or_insert(Value::Unknown(Type::String));
                for a in referenced {
                    m.entry(a.clone()).or_insert(Value::dynamic_unknown());
                }
                Value::Object(m)
            };
            if !r.postconditions.is_empty() {
                let mut psc = self.scope(i);
                psc.each = inst.each.clone();
                psc.count = inst.count.clone();
                psc.self_val = Some(Rc::new(open_if(r, closed, planned.clone())));
                for c in &r.postconditions {
                    status = worse(status, self.check_condition(&psc, c, "Resource postcondition failed")?);
                }
            }
            if !r.preconditions.is_empty() || !r.postconditions.is_empty() {
                let mut extra = serde_json::Map::new();
                extra.insert("mode".into(), (if r.mode == Mode::Managed { "managed" } else { "data" }).into());
                extra.insert("type".into(), r.ty.clone().into());
                let local = r.key();
                let key = if inst.key == Key::None { None } else { Some(&inst.key) };
                self.record_check(i, "resource", &local, extra, key, status, Vec::new());
            }
            out.push((ResInst { key: inst.key, config_known }, planned));
        }
        let value = match exp {
            Expansion::Single => out.first_mut().map(|x| open_if(r, closed, std::mem::replace(&mut x.1, Value::null()))).unwrap_or_else(Value::dynamic_unknown),
            Expansion::Count => Value::Tuple(out.iter_mut().map(|x| open_if(r, closed, std::mem::replace(&mut x.1, Value::null()))).collect()),
            Expansion::ForEach => Value::Object(
                out.iter_mut()
                    .map(|x| (match &x.0.key { Key::Str(s) => s.clone(), _ => String::new() }, open_if(r, closed, std::mem::replace(&mut x.1, Value::null()))))
                    .collect(),
            ),
        };
        Ok(ResState { instances: out.into_iter().map(|x| x.0).collect(), expansion: exp, value: Rc::new(value) })
    }

    /// The provider schema of a managed resource, when one was given for its type.
    pub fn schema_for(&self, r: &ResCfg) -> Option<&crate::schema::ResourceSchema> {
        if r.mode != Mode::Managed {
            return None;
        }
        self.schema.as_ref().and_then(|s| s.resource(&r.ty))
    }

    fn check_condition(&self, sc: &InstScope, c: &Condition, summary: &str) -> DResult<&'static str> {
        let v = self.eval(sc, &c.condition)?;
        match v.unmark().0 {
            Value::Bool(true) => Ok("pass"),
            Value::Unknown(_) => Ok("unknown"),
            Value::Bool(false) => {
                let m = self.eval(sc, &c.error_message)?;
                let msg = match m.unmark().0 {
                    Value::String(s) => s.clone(),
                    // Terraform reports the unknown message itself only as a warning.
                    Value::Unknown(_) => "This check failed, but has an invalid error message as described in the other accompanying messages.".into(),
                    _ => String::new(),
                };
                Err(err(ErrorKind::Condition, c.file, c.condition.span.clone(), format!("{summary}: {msg}")))
            }
            Value::Null(_) => Err(err(ErrorKind::Condition, c.file, c.condition.span.clone(), "Invalid condition result: Condition expression must return either true or false, not null")),
            _ => Err(err(ErrorKind::Condition, c.file, c.condition.span.clone(), "Invalid condition result: Condition expression must return a bool")),
        }
    }

    pub fn call(&self, i: usize, name: &str, span: Option<Range<usize>>) -> DResult<Rc<CallState>> {
        let inst = self.inst(i);
        match inst.calls.borrow().get(name) {
            Some(Slot::Done(v)) => {
                self.plan_time.read(|| self.node_id(i, "module.", name));
                return Ok(v.clone());
            }
            Some(Slot::Busy) => return Err(self.cycle(&self.node_id(i, "module.", name), span)),
            None => {}
        }
        let id = self.node_id(i, "module.", name);
        let cfg = inst.cfg.clone();
        let Some(c) = cfg.call(name) else {
            return Err(Diag::eval(span, format!("Reference to undeclared module {name:?}")));
        };
        inst.calls.borrow_mut().insert(name.to_string(), Slot::Busy);
        self.enter(id, c.file, c.span.clone())?;
        let res = self.compute_call(i, c);
        self.leave();
        match res {
            Ok(v) => {
                let v = Rc::new(v);
                inst.calls.borrow_mut().insert(name.to_string(), Slot::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                inst.calls.borrow_mut().remove(name);
                Err(e)
            }
        }
    }

    fn compute_call(&self, i: usize, c: &CallCfg) -> DResult<CallState> {
        let sc = self.scope(i);
        let (exp, insts) = self.expand(&sc, c.count.as_ref(), c.for_each.as_ref())?;
        let mut children = Vec::new();
        for inst in insts {
            let addr = format!("{}module.{}{}", self.prefix(i), c.name, inst.key.suffix());
            let key = inst.key.clone();
            let module = match (&key, i) {
                (Key::Str(k), 0) => match self.overrides.get(&(c.name.clone(), k.clone())) {
                    Some(m) => {
                        self.used_overrides.borrow_mut().insert((c.name.clone(), k.clone()));
                        m.clone()
                    }
                    None => c.module.clone(),
                },
                _ => c.module.clone(),
            };
            let idx = self.add_inst(module, addr, Some((i, c.name.clone(), inst)));
            children.push((key, idx));
        }
        Ok(CallState { expansion: exp, children })
    }

    pub fn output(&self, i: usize, name: &str, span: Option<Range<usize>>) -> DResult<Rc<Value>> {
        let inst = self.inst(i);
        match inst.outputs.borrow().get(name) {
            Some(Slot::Done(v)) => {
                self.plan_time.read(|| self.node_id(i, "output.", name));
                return Ok(v.clone());
            }
            Some(Slot::Busy) => return Err(self.cycle(&self.node_id(i, "output.", name), span)),
            None => {}
        }
        let id = self.node_id(i, "output.", name);
        let cfg = inst.cfg.clone();
        let Some(o) = cfg.output(name) else {
            return Err(Diag::eval(span, format!("Unsupported attribute: This object does not have an attribute named {name:?}")));
        };
        inst.outputs.borrow_mut().insert(name.to_string(), Slot::Busy);
        self.enter(id, o.file, o.span.clone())?;
        let res = (|| -> DResult<Rc<Value>> {
            let sc = self.scope(i);
            let mut status = "pass";
            for c in &o.preconditions {
                status = worse(status, self.check_condition(&sc, c, "Module output value precondition failed")?);
            }
            if !o.preconditions.is_empty() {
                self.record_check(i, "output_value", &format!("output.{}", o.name), serde_json::Map::new(), None, status, Vec::new());
            }
            let v = self.eval(&sc, &o.value)?;
            let v = match &o.ty {
                Some(t) => crate::types::convert(&v, t).map_err(|m| {
                    err(ErrorKind::Eval, o.file, o.value.span.clone(), format!("Invalid output value: The value expression does not match this output value's type constraint: {m}"))
                })?,
                None => v,
            };
            if !o.sensitive && v.has_sensitive_deep() {
                return Err(err(ErrorKind::Eval, o.file, o.span.clone(), "Output refers to sensitive values: To reduce the risk of accidentally exporting sensitive data that was intended to be only internal, Terraform requires that any root module output containing sensitive data be explicitly marked as sensitive, to confirm your intent. If you do intend to export this data, annotate the output value as sensitive by adding the following argument: sensitive = true"));
            }
            Ok(Rc::new(if o.sensitive { v.mark(true) } else { v }))
        })();
        self.leave();
        match res {
            Ok(v) => {
                inst.outputs.borrow_mut().insert(name.to_string(), Slot::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                inst.outputs.borrow_mut().remove(name);
                Err(e)
            }
        }
    }

    /// A root variable's value as given from outside (tfvars as written, `-var` parsed for
    /// the type), before type conversion and optional attribute defaults: what Terraform
    /// records under `variables` in the plan. `None` when it was not set from outside.
    pub fn root_input_as_given(&self, name: &str) -> Option<Value> {
        let inp = self.inputs.get(name)?;
        if !inp.raw {
            return Some(inp.value.clone());
        }
        let inst = self.inst(0);
        let cfg = inst.cfg.var(name)?;
        parse_raw(&inp.value, cfg.ty.as_ref()).ok()
    }

    /// The evaluated value of a root variable (after `run`).
    pub fn root_var(&self, name: &str) -> Option<Rc<Value>> {
        match self.inst(0).vars.borrow().get(name) {
            Some(Slot::Done(v)) => Some(v.clone()),
            _ => None,
        }
    }

    pub fn resource_state(&self, i: usize, key: &str) -> Option<Rc<ResState>> {
        match self.inst(i).resources.borrow().get(key) {
            Some(Slot::Done(v)) => Some(v.clone()),
            _ => None,
        }
    }

    pub fn output_value(&self, i: usize, name: &str) -> Option<Rc<Value>> {
        match self.inst(i).outputs.borrow().get(name) {
            Some(Slot::Done(v)) => Some(v.clone()),
            _ => None,
        }
    }
}

fn worse(a: &'static str, b: &'static str) -> &'static str {
    if a == "pass" { b } else { a }
}

/// Schema-less resource instances answer unknown for attributes they do not set.
fn open_if(r: &ResCfg, closed: bool, v: Value) -> Value {
    if closed || (r.ty == "terraform_data" && r.mode == Mode::Managed) {
        v
    } else {
        Value::Open(Box::new(v))
    }
}

fn unreachable_obj<T>() -> DResult<T> {
    Err(Diag::new(ErrorKind::Eval, None, "resource body did not evaluate to an object"))
}

/// Parse a --var string for a variable: raw string for primitive or undeclared types,
/// an HCL expression otherwise.
fn parse_raw(v: &Value, ty: Option<&Constraint>) -> Result<Value, String> {
    let Value::String(s) = v else { return Ok(v.clone()) };
    match ty {
        None => Ok(v.clone()),
        Some(t) if t.is_primitive() => Ok(v.clone()),
        Some(Constraint::Any) => Ok(v.clone()),
        Some(_) => {
            let e = hcl_edit::parser::parse_expr(s).map_err(|e| e.message().to_string())?;
            let dir = std::path::PathBuf::new();
            let scope = crate::eval::EmptyScope(&dir, false);
            Evaluator::new(&scope).eval(&e).map_err(|d| d.message)
        }
    }
}

/// Evaluate a resource body: attributes, nested blocks as lists of objects, dynamic blocks.
pub(crate) fn eval_body(ev: &mut Evaluator, body: &Body, depth: usize) -> DResult<Value> {
    if depth > 32 {
        return Err(Diag::eval(None, "Blocks are nested too deeply"));
    }
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut unknown_blocks: Vec<String> = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let k = a.key.value().to_string();
                if out.contains_key(&k) {
                    return Err(Diag::eval(a.span(), format!("Attribute redefined: The argument {k:?} was already set")));
                }
                let v = ev.eval(&a.value)?;
                out.insert(k, v);
            }
            Structure::Block(b) if b.ident.value().as_str() == "dynamic" => {
                let Some(label) = b.labels.first().map(|l| l.as_str().to_string()) else {
                    return Err(Diag::eval(b.span(), "Invalid dynamic block: a dynamic block needs the name of the block type to generate"));
                };
                let iter_name = match b.body.get_attribute("iterator") {
                    Some(a) => match &a.value {
                        Expression::Variable(v) => v.value().to_string(),
                        _ => return Err(Diag::eval(a.value.span(), "Invalid dynamic iterator name: the iterator must be a single identifier")),
                    },
                    None => label.clone(),
                };
                let Some(fe) = b.body.get_attribute("for_each") else {
                    return Err(Diag::eval(b.span(), "Missing required argument: The argument \"for_each\" is required in a dynamic block"));
                };
                let Some(content) = b.body.get_blocks("content").next() else {
                    return Err(Diag::eval(b.span(), "Missing content block: A dynamic block must have a nested block of type \"content\""));
                };
                let coll = ev.eval(&fe.value)?;
                let (coll, marked) = coll.into_unmarked();
                if coll.is_unknown() {
                    unknown_blocks.push(label.clone());
                    continue;
                }
                if marked {
                    return Err(Diag::eval(fe.value.span(), "Invalid dynamic for_each value: Cannot use a value with sensitive marks as a dynamic block for_each"));
                }
                if coll.is_null() {
                    return Err(Diag::eval(fe.value.span(), "Invalid dynamic for_each value: Cannot use a null value in for_each"));
                }
                let is_set = matches!(coll, Value::Set(..));
                let Some(items) = coll.elements() else {
                    return Err(Diag::eval(fe.value.span(), format!("Invalid dynamic for_each value: Cannot use a {} value in for_each. An iterable collection is required", coll.type_name())));
                };
                let entry = blocks.entry(label.clone()).or_default();
                for (k, v) in items {
                    let k = if is_set { v.clone() } else { k };
                    let mut it = BTreeMap::new();
                    it.insert("key".to_string(), k);
                    it.insert("value".to_string(), v);
                    ev.push_local(&iter_name, Value::Object(it));
                    let r = eval_body(ev, &content.body, depth + 1);
                    ev.pop_local();
                    entry.push(r?);
                }
            }
            Structure::Block(b) => {
                let v = eval_body(ev, &b.body, depth + 1)?;
                blocks.entry(b.ident.value().to_string()).or_default().push(v);
            }
        }
    }
    for (k, vs) in blocks {
        if out.contains_key(&k) {
            return Err(Diag::eval(None, format!("Unsupported block type: {k:?} is set both as an argument and as a block")));
        }
        out.insert(k, Value::Tuple(vs));
    }
    for k in unknown_blocks {
        out.insert(k, Value::dynamic_unknown());
    }
    Ok(Value::Object(out))
}
