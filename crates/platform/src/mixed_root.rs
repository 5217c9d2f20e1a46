//! The Terraform root of an environment whose services run different versions of one module
//! (issue 32). Terraform takes one `source` per module call, and a service pinned
//! (`environments/<env>/pins.toml`) to an older version renders, offline, from that version's
//! released copy at its usual address (`lz_repo::released`, `tfrender::InstanceSource`). For real
//! Terraform the harness rewrites its working copy of the root (never the release): each root
//! call `C` of a module with released copies is split by version.
//!
//! - `C` keeps the catalog's version and its own `source`; its `for_each` is filtered to the
//!   instances not pinned elsewhere: `{ for k, v in (E) : k => v if !contains([pinned], k) }`.
//! - Each version `X.Y.Z` that services of the environment pin gets a copy of the call named
//!   [`version_call`] (`C_vX_Y_Z`), with `source = "../released/<module>/<X.Y.Z>"` and `for_each`
//!   filtered to its own instances, in the generated file [`FILE`].
//! - References to `module.C` in the root, the copies of split calls included, become
//!   `merge(module.C, module.C_vX_Y_Z, ...)` (in a `depends_on` list, the calls themselves);
//!   they are found in the parsed HCL (traversals rooted at `module`), never in string
//!   literals, heredocs or comments; `moved` and `removed` blocks are left alone, and an
//!   `import` into a pinned instance targets its version call.
//!   Every edit is computed before any file is written.
//! - `moved` blocks keep every instance's state: for each instance key of `C` in the offline plan,
//!   a chain through every other call a version of the module could have put it in (`C` and
//!   `C_vW` for each released `W` the catalog records, and every `C_vW` the environment's state
//!   holds an instance under, [`write_held`]) ends at the call it is planned in now. Terraform
//!   follows a chain from wherever the state holds the instance; a `from` that the state does not
//!   hold is ignored. So moving a service between versions updates its resources in place
//!   (`previous_address` in the plan), never destroys and creates them, also when the release
//!   drops the released copy the state still holds the service under. A release's own `moved`
//!   into `module.C["key"]` (or `module.C`) is part of the chain: the generated hops never end
//!   where the release's do (Terraform refuses that as ambiguous).
//!
//! Terraform's plan then names a pinned instance's resources `module.C_vX_Y_Z["key"]...`; the
//! offline renderer, the baselines, the gate and the deployment records name them
//! `module.C["key"]...`. [`Mapping`] is that correspondence, and every address the harness reads
//! from a Terraform plan of such a root goes through [`Mapping::offline`] (or [`Mapping::plan`]).
//! Which code a version means is the release's own copy, checked against the chain before any
//! promotion (`lz_promote::copies`); this module only arranges the calls.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use hcl_edit::Span;
use serde_json::Value;

use crate::hcl::{blocks, labels, parse_module_dir, HclFile};

/// The file of the working copy's root that holds the version calls and the moves.
pub const FILE: &str = "lz_module_versions.tf";

/// The name of the call that plans the instances of root call `call` pinned to `version`.
pub fn version_call(call: &str, version: &str) -> String {
    format!("{call}{}", lz_repo::released::version_suffix(version))
}

/// One root module call of a module that has released copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The call's name (`service`).
    pub name: String,
    pub module: String,
    /// Every released version of the module, with the name of its version call.
    pub versions: BTreeMap<String, String>,
    /// The environment's pins of the module: instance key -> version (released copies only).
    pub pinned: BTreeMap<String, String>,
    /// Version calls the environment's state holds instances under that `versions` does not
    /// name (a released copy an earlier release recorded): chains start there too.
    pub held: BTreeSet<String>,
}

impl Call {
    /// Every call name an instance of this call can be planned under: the call and its version calls.
    fn names(&self) -> BTreeSet<String> {
        std::iter::once(self.name.clone()).chain(self.versions.values().cloned()).chain(self.held.iter().cloned()).collect()
    }

    /// The version calls that hold instances in this environment, in version order.
    fn used(&self) -> Vec<(&str, &str)> {
        let used: BTreeSet<&str> = self.pinned.values().map(String::as_str).collect();
        self.versions.iter().filter(|(v, _)| used.contains(v.as_str())).map(|(v, c)| (v.as_str(), c.as_str())).collect()
    }
}

/// The root calls of `tree`'s `environments/` that [`write`] splits for environment `env`: every
/// call with `for_each` whose source is `../modules/<M>` for a module `M` whose catalog records
/// released copies. A version call name that is already a call of the root is an error.
pub fn calls(tree: &Path, env: &str) -> Result<Vec<Call>> {
    let catalog = lz_repo::released::catalog(tree)?;
    let pinned = lz_repo::released::pinned(tree, env)?;
    let files = parse_module_dir(&tree.join("environments"))?;
    // Every call of the root, with where it is declared.
    let existing: BTreeMap<String, String> = files
        .iter()
        .flat_map(|f| blocks(&f.body, "module").filter_map(|b| Some((labels(b).first()?.clone(), format!("{}:{}", f.path.display(), f.line_of_span(b))))))
        .collect();
    let mut out = Vec::new();
    for f in &files {
        for b in blocks(&f.body, "module") {
            let Some(name) = labels(b).first().cloned() else { continue };
            let Some(source) = b.body.get_attribute("source").and_then(|a| a.value.as_str()) else { continue };
            let Some(module) = source.strip_prefix("../modules/") else { continue };
            // A module without released copies still gets a call: the state may hold its instances
            // under version calls of an earlier release, which need chains back (see [`write_held`]).
            let Some(entry) = catalog.modules.get(module) else { continue };
            if b.body.get_attribute("for_each").is_none() {
                continue;
            }
            let versions: BTreeMap<String, String> = entry.released.keys().map(|v| (v.clone(), version_call(&name, v))).collect();
            for c in versions.values() {
                if let Some(at) = existing.get(c) {
                    bail!("{at}: module call {c:?} is the name the harness gives {name}'s instances on an older version of {module}: rename it");
                }
            }
            let pinned = pinned.iter().filter(|p| p.module == module).map(|p| (p.service.clone(), p.version.clone())).collect();
            out.push(Call { name, module: module.to_string(), versions, pinned, held: BTreeSet::new() });
        }
    }
    Ok(out)
}

/// Terraform's addresses of a split root and the offline renderer's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Version call -> the call it was split from.
    calls: BTreeMap<String, String>,
}

impl Mapping {
    pub fn of(calls: &[Call]) -> Mapping {
        Mapping { calls: calls.iter().flat_map(|c| c.versions.values().chain(&c.held).map(|v| (v.clone(), c.name.clone()))).collect() }
    }

    /// The mapping of environment `env` of `tree` (see [`calls`]).
    pub fn of_tree(tree: &Path, env: &str) -> Result<Mapping> {
        Ok(Mapping::of(&calls(tree, env)?))
    }

    /// `address` as the offline renderer names it: `module.C_vX_Y_Z[...]...` is `module.C[...]...`.
    pub fn offline(&self, address: &str) -> String {
        for (split, call) in &self.calls {
            if let Some(rest) = address.strip_prefix(&format!("module.{split}")) {
                if rest.starts_with(['[', '.']) || rest.is_empty() {
                    return format!("module.{call}{rest}");
                }
            }
        }
        address.to_string()
    }

    /// `plan` (`terraform show -json`) with every address mapped by [`Mapping::offline`]: the
    /// address fields at their places in the document (`map_value`), and `previous_address` dropped where it maps to the
    /// address itself (a move between version calls is no move offline). The `configuration`
    /// section keeps Terraform's call names: it describes the code, one entry per call.
    pub fn plan(&self, plan: &mut Value) {
        if self.calls.is_empty() {
            return;
        }
        let configuration = plan.as_object_mut().and_then(|m| m.remove("configuration"));
        self.map_value(plan);
        if let (Some(c), Some(m)) = (configuration, plan.as_object_mut()) {
            m.insert("configuration".into(), c);
        }
    }

    /// The changes of a Terraform plan (`terraform show -json`) that delete a resource, alone or
    /// as part of a replacement, whose address, mapped by [`Mapping::offline`], the offline plan
    /// `offline` plans (the offline plan has no deletes: whatever it lists, the release keeps):
    /// a destroy the offline plan does not show, e.g. an instance whose state no `moved` chain
    /// reaches. Each as `address (actions)`, Terraform's address.
    pub fn unplanned_deletes(&self, changes: &[crate::tfrun::ResourceChange], offline: &Value) -> Vec<String> {
        let kept: BTreeSet<&str> = offline["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|rc| !rc["change"]["actions"].as_array().is_some_and(|a| a.iter().any(|x| x == "delete")))
            .filter_map(|rc| rc["address"].as_str())
            .collect();
        changes
            .iter()
            .filter(|rc| rc.actions.iter().any(|a| a == "delete"))
            .filter(|rc| [self.offline(&rc.address), unversioned(&rc.address)].iter().any(|a| kept.contains(a.as_str())))
            .map(|rc| format!("{} ({})", rc.address, rc.actions.join(", ")))
            .collect()
    }

    /// The address fields of plan document `v`, by their place: `resource_changes`,
    /// `resource_drift`, `planned_values` and `prior_state` modules and resources,
    /// `relevant_attributes`, `checks` (objects and instances). Nothing else is mapped: a
    /// resource's own values keep what they hold, whatever their keys are called.
    fn map_value(&self, v: &mut Value) {
        let Some(m) = v.as_object_mut() else { return };
        for k in ["resource_changes", "resource_drift"] {
            for rc in m.get_mut(k).and_then(Value::as_array_mut).into_iter().flatten() {
                self.map_keys(rc, &["address", "module_address", "previous_address"]);
            }
        }
        if let Some(root) = m.get_mut("planned_values").and_then(|p| p.get_mut("root_module")) {
            self.map_module(root);
        }
        if let Some(root) = m.get_mut("prior_state").and_then(|p| p.get_mut("values")).and_then(|p| p.get_mut("root_module")) {
            self.map_module(root);
        }
        for ra in m.get_mut("relevant_attributes").and_then(Value::as_array_mut).into_iter().flatten() {
            self.map_keys(ra, &["resource"]);
        }
        for check in m.get_mut("checks").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(a) = check.get_mut("address") {
                self.map_keys(a, &["to_display", "module"]);
            }
            for i in check.get_mut("instances").and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(a) = i.get_mut("address") {
                    self.map_keys(a, &["to_display", "module"]);
                }
            }
        }
    }

    /// A module of `planned_values` or `prior_state`: its address, its resources', its children's.
    fn map_module(&self, module: &mut Value) {
        self.map_keys(module, &["address"]);
        for r in module.get_mut("resources").and_then(Value::as_array_mut).into_iter().flatten() {
            self.map_keys(r, &["address"]);
        }
        for c in module.get_mut("child_modules").and_then(Value::as_array_mut).into_iter().flatten() {
            self.map_module(c);
        }
    }

    /// The string values of `keys` in object `v` mapped; a `previous_address` that maps to the
    /// address itself dropped (a move between version calls is no move offline).
    fn map_keys(&self, v: &mut Value, keys: &[&str]) {
        let Some(m) = v.as_object_mut() else { return };
        for k in keys {
            if let Some(Value::String(s)) = m.get_mut(*k) {
                *s = self.offline(s);
            }
        }
        if m.contains_key("previous_address") && m.get("previous_address") == m.get("address") {
            m.remove("previous_address");
        }
    }
}

/// The instance keys of root call `call` in `plan` (`module.<call>["key"]...` addresses). An
/// instance whose key is not a string is an error: it would get no chain, and its state none.
fn keys(plan: &Value, call: &str) -> Result<BTreeSet<String>> {
    let prefix = format!("module.{call}[");
    let mut out = BTreeSet::new();
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        let Some(address) = rc["address"].as_str() else { continue };
        let Some(rest) = address.strip_prefix(&prefix) else { continue };
        match serde_json::Deserializer::from_str(rest).into_iter::<String>().next() {
            Some(Ok(key)) => {
                out.insert(key);
            }
            _ => bail!("the offline plan's {address}: the instance key of module.{call} is not a string, so no move can keep its state"),
        }
    }
    Ok(out)
}

/// An HCL quoted string of `s` (JSON escapes, with template sequences escaped).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default().replace("${", "$${").replace("%{", "%%{")
}

fn list(keys: &BTreeSet<&str>) -> String {
    format!("[{}]", keys.iter().map(|k| quoted(k)).collect::<Vec<_>>().join(", "))
}

/// Rewrites the working copy of environment `env`'s root in `dir` (a copy of `tree`'s
/// `environments/`, with `modules/` and `released/` beside it) as the module documentation says,
/// taking instance keys from `plan`, the environment's offline plan. Returns the mapping of
/// Terraform's addresses to the offline ones (empty when nothing was split).
pub fn write(tree: &Path, env: &str, dir: &Path, plan: &Value) -> Result<Mapping> {
    write_held(tree, env, dir, plan, None)
}

/// The call instances a Terraform state document holds (`module.C["key"]` of its resources'
/// `module`): call name -> instance keys. A state of no resources holds none.
pub fn held(state: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in state["resources"].as_array().into_iter().flatten() {
        let Some(rest) = r["module"].as_str().and_then(|m| m.strip_prefix("module.")) else { continue };
        let Some(open) = rest.find('[') else { continue };
        if let Some(Ok(key)) = serde_json::Deserializer::from_str(&rest[open + 1..]).into_iter::<String>().next() {
            out.entry(rest[..open].to_string()).or_default().insert(key);
        }
    }
    out
}

/// Whether `name` is a version call of root call `call` (`C_vX_Y_Z`, digits only), whichever
/// catalog recorded the version.
fn is_version_call_of(name: &str, call: &str) -> bool {
    let Some(v) = name.strip_prefix(call).and_then(|r| r.strip_prefix("_v")) else { return false };
    let parts: Vec<&str> = v.split('_').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `address` with a version call's suffix dropped from its root call (`module.C_vX_Y_Z[...]`
/// is `module.C[...]`), whichever catalog recorded the version: a state can hold instances
/// under a version this release's catalog no longer names.
fn unversioned(address: &str) -> String {
    let Some(rest) = address.strip_prefix("module.") else { return address.to_string() };
    let end = rest.find(['[', '.']).unwrap_or(rest.len());
    let name = &rest[..end];
    match name.rfind("_v").map(|i| &name[..i]).filter(|base| !base.is_empty() && is_version_call_of(name, base)) {
        Some(base) => format!("module.{base}{}", &rest[end..]),
        None => address.to_string(),
    }
}

/// [`write`], with the chains also starting from every version call of a split call that
/// `state` (the environment's Terraform state document) holds an instance under, whether or not
/// this release's catalog still records that version: dropping a released copy moves its
/// instances to the call that plans them now, in place, instead of destroying them.
pub fn write_held(tree: &Path, env: &str, dir: &Path, plan: &Value, state: Option<&Value>) -> Result<Mapping> {
    let mut calls = calls(tree, env)?;
    let held = state.map(held).unwrap_or_default();
    let roots: BTreeSet<String> = calls.iter().map(|c| c.name.clone()).collect();
    for call in &mut calls {
        for name in held.keys().filter(|n| is_version_call_of(n, &call.name) && !roots.contains(*n)) {
            call.held.insert(name.clone());
        }
    }
    if calls.iter().all(|c| c.versions.is_empty() && c.held.is_empty()) {
        return Ok(Mapping::default());
    }
    let out = dir.join(FILE);
    if out.exists() {
        bail!("{}: the release holds a file of the name the harness writes its version calls to", out.display());
    }
    // The release's own files, so that every error names the release's file and line; the
    // working copy holds the same text (checked), and the rewritten text is written there.
    let files = parse_module_dir(&tree.join("environments"))?;
    let mut copies = Vec::new();
    for f in &files {
        let name = f.path.file_name().with_context(|| format!("{}: no file name", f.path.display()))?;
        let copy = dir.join(name);
        if std::fs::read_to_string(&copy).ok().as_deref() != Some(f.text.as_str()) {
            bail!("{}: the working copy {} is not the release's file", f.path.display(), copy.display());
        }
        copies.push(copy);
    }
    // Every call that gets version calls here, with every call name its instances are planned under.
    let splits: BTreeMap<String, Vec<String>> = calls
        .iter()
        .filter(|c| !c.used().is_empty())
        .map(|c| (c.name.clone(), std::iter::once(c.name.clone()).chain(c.used().iter().map(|(_, n)| n.to_string())).collect()))
        .collect();
    // The reference edits of every file, computed before anything is written: the copies of a
    // call get those inside the call too.
    let refs: Vec<Vec<Edit>> = files.iter().map(|f| references(f, &splits)).collect::<Result<_>>()?;
    let author = author_moves(&files);
    let mut edits = refs.clone();
    // An import into a pinned instance targets the version call it is planned under.
    let targets: BTreeMap<(String, String), String> = calls
        .iter()
        .flat_map(|c| c.pinned.iter().filter_map(|(k, v)| Some(((c.name.clone(), k.clone()), c.versions.get(v)?.clone()))))
        .collect();
    for (f, e) in files.iter().zip(edits.iter_mut()) {
        e.extend(imports(f, &targets));
    }
    let mut generated = String::from(
        "# Written by the harness in its working copy (lz_platform::mixed_root): the instances of a module\n\
         # call pinned to an older module version, each version under its own call, and the moves that keep\n\
         # their state. Not part of any release.\n",
    );
    for call in &calls {
        let (at, block) = files
            .iter()
            .enumerate()
            .find_map(|(i, f)| blocks(&f.body, "module").find(|b| labels(b).first() == Some(&call.name)).map(|b| (i, b)))
            .with_context(|| format!("{}: module call {:?} of the release is missing", tree.join("environments").display(), call.name))?;
        let used = call.used();
        if !used.is_empty() {
            split(&files[at], block, call, &used, &refs[at], &mut generated, &mut edits[at])?;
        }
        moves(call, plan, &author, &mut generated)?;
    }
    // Every file's new text first, then the writes: a refusal leaves the copy untouched.
    let mut texts = Vec::new();
    for ((f, e), copy) in files.iter().zip(&edits).zip(&copies) {
        if !e.is_empty() {
            texts.push((copy, apply(f, 0..f.text.len(), e)?));
        }
    }
    for (path, text) in texts {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    std::fs::write(&out, generated).with_context(|| format!("writing {}", out.display()))?;
    Ok(Mapping::of(&calls))
}

/// The span of `node` in `file`, or an error naming the file and the call.
fn span_of(file: &HclFile, node: &impl Span, what: &str) -> Result<std::ops::Range<usize>> {
    node.span().with_context(|| format!("{}: {what} has no source position", file.path.display()))
}

/// `call`'s block filtered to its unpinned instances (an edit of `file`), and one copy per
/// version in `used` appended to `generated`. `refs`: the reference edits of `file`; those
/// inside the call apply to every copy too, and those in its `for_each` go into the filtered
/// expressions (taken out of `edits`).
fn split(
    file: &HclFile,
    block: &hcl_edit::structure::Block,
    call: &Call,
    used: &[(&str, &str)],
    refs: &[Edit],
    generated: &mut String,
    edits: &mut Vec<Edit>,
) -> Result<()> {
    let at = || format!("{}:{}: module {:?}", file.path.display(), file.line_of_span(block), call.name);
    let whole = span_of(file, block, &format!("module {:?}", call.name))?;
    let label = span_of(file, &block.labels[0], "its label")?;
    let source = block.body.get_attribute("source").with_context(|| format!("{}: no source", at()))?;
    let source = span_of(file, &source.value, "its source")?;
    let for_each = block.body.get_attribute("for_each").with_context(|| format!("{}: no for_each", at()))?;
    let for_each = span_of(file, &for_each.value, "its for_each")?;
    let expr = apply(file, for_each.clone(), refs)?.trim().to_string();
    let inside = |r: &std::ops::Range<usize>, of: &std::ops::Range<usize>| r.start >= of.start && r.end <= of.end;
    edits.retain(|(r, _)| !inside(r, &for_each));
    let pinned: BTreeSet<&str> = call.pinned.keys().map(String::as_str).collect();
    edits.push((for_each.clone(), format!("{{ for k, v in ({expr}) : k => v if !contains({}, k) }}", list(&pinned))));
    for (version, name) in used {
        let own: BTreeSet<&str> = call.pinned.iter().filter(|(_, v)| v == version).map(|(k, _)| k.as_str()).collect();
        let mut local: Vec<Edit> = refs.iter().filter(|(r, _)| inside(r, &whole) && !inside(r, &for_each)).cloned().collect();
        local.extend([
            (label.clone(), quoted(name)),
            (source.clone(), quoted(&format!("../{}/{}/{version}", lz_repo::released::DIR, call.module))),
            (for_each.clone(), format!("{{ for k, v in ({expr}) : k => v if contains({}, k) }}", list(&own))),
        ]);
        let text = apply(file, whole.clone(), &local)?;
        generated.push_str(&format!("\n# {} of {}@{version}\n{text}\n", call.name, call.module));
    }
    Ok(())
}

type Edit = (std::ops::Range<usize>, String);

/// Edits of `file` that make every reference to a split call `module.C` (outside `moved`,
/// `import` and `removed` blocks) take its version calls too: `merge(module.C, module.C_v...)`,
/// or, as an element of a `depends_on` list, the calls themselves. `splits`: call -> every call
/// name its instances are planned under. Walks the parsed HCL: text of string literals,
/// heredocs and comments is never a reference, and only a traversal rooted at `module` whose
/// first attribute is the call is one (`var.module.C` is not).
fn references(file: &HclFile, splits: &BTreeMap<String, Vec<String>>) -> Result<Vec<Edit>> {
    use hcl_edit::visit::Visit;
    struct Refs<'a> {
        file: &'a HclFile,
        splits: &'a BTreeMap<String, Vec<String>>,
        edits: Vec<Edit>,
        error: Option<anyhow::Error>,
    }
    impl Refs<'_> {
        /// The split call a traversal `module.C...` starts with, and the span of `module.C`.
        fn call_of(&self, t: &hcl_edit::expr::Traversal) -> Option<(&Vec<String>, std::ops::Range<usize>, usize)> {
            use hcl_edit::expr::{Expression, TraversalOperator};
            let Expression::Variable(v) = &t.expr else { return None };
            if v.as_str() != "module" {
                return None;
            }
            let first = t.operators.first()?;
            let TraversalOperator::GetAttr(name) = first.value() else { return None };
            let names = self.splits.get(name.as_str())?;
            Some((names, t.expr.span()?.start..first.span()?.end, t.operators.len()))
        }
        fn push(&mut self, range: std::ops::Range<usize>, with: String, call: &str) {
            match self.file.text.get(range.clone()) {
                Some(text) if text.starts_with("module") && text.ends_with(call) => self.edits.push((range, with)),
                _ => {
                    self.error.get_or_insert_with(|| {
                        anyhow::anyhow!("{}:{}: cannot place the reference to module.{call}", self.file.path.display(), self.file.line_of(range.start))
                    });
                }
            }
        }
    }
    impl Visit for Refs<'_> {
        fn visit_attr(&mut self, node: &hcl_edit::structure::Attribute) {
            if node.key.as_str() == "depends_on" {
                if let hcl_edit::expr::Expression::Array(items) = &node.value {
                    for item in items.iter() {
                        if let hcl_edit::expr::Expression::Traversal(t) = item {
                            if let Some((names, range, 1)) = self.call_of(t) {
                                let with = names.iter().map(|n| format!("module.{n}")).collect::<Vec<_>>().join(", ");
                                self.push(range, with, &names[0].clone());
                                continue;
                            }
                        }
                        self.visit_expr(item);
                    }
                    return;
                }
            }
            hcl_edit::visit::visit_attr(self, node);
        }

        fn visit_traversal(&mut self, node: &hcl_edit::expr::Traversal) {
            if let Some((names, range, _)) = self.call_of(node) {
                let with = format!("merge({})", names.iter().map(|n| format!("module.{n}")).collect::<Vec<_>>().join(", "));
                self.push(range, with, &names[0].clone());
            }
            hcl_edit::visit::visit_traversal(self, node);
        }
    }
    let mut v = Refs { file, splits, edits: Vec::new(), error: None };
    for s in file.body.iter() {
        match s {
            hcl_edit::structure::Structure::Block(b) if ["moved", "import", "removed"].contains(&b.ident.as_str()) => {}
            hcl_edit::structure::Structure::Block(b) => v.visit_block(b),
            hcl_edit::structure::Structure::Attribute(a) => v.visit_attr(a),
        }
    }
    match v.error {
        Some(e) => Err(e),
        None => Ok(v.edits),
    }
}

/// Edits of `file`'s `import` blocks whose `to` is in an instance of a split call pinned to a
/// version (`module.C["key"]...`): `module.C` becomes the version call the instance is planned
/// under. `targets`: (call, key) -> version call.
fn imports(file: &HclFile, targets: &BTreeMap<(String, String), String>) -> Vec<Edit> {
    use hcl_edit::expr::{Expression, TraversalOperator};
    let mut out = Vec::new();
    for b in blocks(&file.body, "import") {
        let Some(Expression::Traversal(t)) = b.body.get_attribute("to").map(|a| &a.value) else { continue };
        let Expression::Variable(v) = &t.expr else { continue };
        let (Some(first), Some(second)) = (t.operators.first(), t.operators.get(1)) else { continue };
        let (TraversalOperator::GetAttr(call), TraversalOperator::Index(Expression::String(key))) = (first.value(), second.value()) else { continue };
        let Some(version_call) = targets.get(&(call.as_str().to_string(), key.as_str().to_string())) else { continue };
        if v.as_str() != "module" {
            continue;
        }
        if let (Some(a), Some(z)) = (t.expr.span(), first.span()) {
            if file.text.get(a.start..z.end).is_some_and(|x| x.ends_with(call.as_str())) {
                out.push((a.start..z.end, format!("module.{version_call}")));
            }
        }
    }
    out
}

/// `text[range]` with the `edits` inside `range` applied (edits must not overlap).
fn apply(file: &HclFile, range: std::ops::Range<usize>, edits: &[Edit]) -> Result<String> {
    let mut inside: Vec<&Edit> = edits.iter().filter(|(r, _)| r.start >= range.start && r.end <= range.end).collect();
    inside.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    if let Some(w) = inside.windows(2).find(|w| w[1].0.end > w[0].0.start) {
        bail!("{}:{}: overlapping rewrites of the root", file.path.display(), file.line_of(w[1].0.start));
    }
    let mut text = file.text[range.clone()].to_string();
    for (r, with) in inside {
        text.replace_range(r.start - range.start..r.end - range.start, with);
    }
    Ok(text)
}

/// A module address of a `moved` block: the call and, for one instance, its string key.
type ModuleAddress = (String, Option<String>);

/// The release's own `moved` blocks between module addresses (`module.C` or `module.C["key"]`)
/// in `files`: (from, to).
fn author_moves(files: &[HclFile]) -> Vec<(ModuleAddress, ModuleAddress)> {
    use hcl_edit::expr::{Expression, TraversalOperator};
    let address = |e: &Expression| -> Option<ModuleAddress> {
        let Expression::Traversal(t) = e else { return None };
        let Expression::Variable(v) = &t.expr else { return None };
        if v.as_str() != "module" {
            return None;
        }
        let call = match t.operators.first()?.value() {
            TraversalOperator::GetAttr(n) => n.as_str().to_string(),
            _ => return None,
        };
        match t.operators.get(1).map(|o| o.value()) {
            None => Some((call, None)),
            Some(TraversalOperator::Index(Expression::String(k))) if t.operators.len() == 2 => Some((call, Some(k.as_str().to_string()))),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for f in files {
        for b in blocks(&f.body, "moved") {
            let end = |k: &str| b.body.get_attribute(k).and_then(|a| address(&a.value));
            if let (Some(from), Some(to)) = (end("from"), end("to")) {
                out.push((from, to));
            }
        }
    }
    out
}

/// The `moved` chains of every instance of `call` in `plan` (see the module documentation).
/// No generated move ends where a move of the release (`author`) ends, which Terraform refuses
/// as ambiguous: an instance the release moves into `module.C["key"]` (or the whole call into
/// `module.C`) has its chain end at the start of the release's own chain when it is planned
/// under `C`, and start at `C` when it is planned under a version call.
fn moves(call: &Call, plan: &Value, author: &[(ModuleAddress, ModuleAddress)], generated: &mut String) -> Result<()> {
    let names = call.names();
    // The author's move into `call`'s instance `key`, as the instance address it moves from.
    let into = |call_name: &str, key: &str| -> Option<String> {
        author.iter().find_map(|(from, to)| match (to, from) {
            ((c, Some(k)), (f, Some(fk))) if c == call_name && k == key => Some(format!("module.{f}[{}]", quoted(fk))),
            ((c, None), (f, None)) if c == call_name => Some(format!("module.{f}[{}]", quoted(key))),
            _ => None,
        })
    };
    for key in keys(plan, &call.name)? {
        let target = call.pinned.get(&key).and_then(|v| call.versions.get(v)).cloned().unwrap_or_else(|| call.name.clone());
        let k = quoted(&key);
        let at = |n: &String| format!("module.{n}[{k}]");
        let mut chain: Vec<String> = names.iter().filter(|n| **n != target).map(at).chain(std::iter::once(at(&target))).collect();
        if let Some(from) = into(&call.name, &key) {
            let own = at(&call.name);
            if target == call.name {
                // ... -> the start of the release's chain, which the release moves on into C.
                let mut start = from;
                let mut seen = BTreeSet::new();
                while let Some(prev) = author.iter().find_map(|(f, t)| {
                    let (c, tk) = t;
                    let matches = format!("module.{c}[{}]", quoted(tk.as_deref().unwrap_or(&key))) == start;
                    matches.then(|| format!("module.{}[{}]", f.0, quoted(f.1.as_deref().unwrap_or(&key))))
                }) {
                    if !seen.insert(prev.clone()) {
                        break;
                    }
                    start = prev;
                }
                chain.pop();
                chain.retain(|a| *a != start);
                chain.push(start);
            } else {
                chain.retain(|a| *a != own);
                chain.insert(0, own);
            }
        }
        for pair in chain.windows(2) {
            generated.push_str(&format!("\nmoved {{\n  from = {}\n  to   = {}\n}}\n", pair[0], pair[1]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_call_address_maps_to_its_call_and_nothing_else_does() {
        let call = Call {
            name: "service".into(),
            module: "svc".into(),
            versions: BTreeMap::from([("1.0.0".into(), "service_v1_0_0".into())]),
            pinned: BTreeMap::new(),
            held: BTreeSet::new(),
        };
        let m = Mapping::of(&[call]);
        assert_eq!(m.offline("module.service_v1_0_0[\"a\"].terraform_data.this"), "module.service[\"a\"].terraform_data.this");
        assert_eq!(m.offline("module.service_v1_0_0"), "module.service");
        for same in ["module.service[\"a\"].x.y", "module.service_v1_0_0x[\"a\"].x.y", "aws_s3_bucket.module", "module.other.x.y"] {
            assert_eq!(m.offline(same), same);
        }
        let mut plan = serde_json::json!({
            "resource_changes": [{
                "address": "module.service_v1_0_0[\"a\"].t.x", "previous_address": "module.service[\"a\"].t.x", "module_address": "module.service_v1_0_0[\"a\"]",
                "change": {"after": {"input": "module.service_v1_0_0[\"a\"]", "address": "module.service_v1_0_0[\"a\"]"}}
            }],
            "checks": [{"address": {"to_display": "module.service_v1_0_0[\"a\"].x", "module": "module.service_v1_0_0[\"a\"]"},
                        "instances": [{"address": {"to_display": "module.service_v1_0_0[\"a\"].x", "module": "module.service_v1_0_0[\"a\"]"}}]}],
            "configuration": {"root_module": {"module_calls": {"service_v1_0_0": {"source": "../released/svc/1.0.0"}}}, "x": "module.service_v1_0_0"}
        });
        m.plan(&mut plan);
        let want = serde_json::json!({
            "address": "module.service[\"a\"].t.x", "module_address": "module.service[\"a\"]",
            "change": {"after": {"input": "module.service_v1_0_0[\"a\"]", "address": "module.service_v1_0_0[\"a\"]"}}
        });
        assert_eq!(plan["resource_changes"][0], want, "addresses mapped, a resource's own values not");
        assert_eq!(plan["configuration"]["x"], "module.service_v1_0_0", "the configuration keeps Terraform's calls");
        let check = serde_json::json!({"to_display": "module.service[\"a\"].x", "module": "module.service[\"a\"]"});
        assert_eq!((&plan["checks"][0]["address"], &plan["checks"][0]["instances"][0]["address"]), (&check, &check), "checks, modules included");
    }

    #[test]
    fn a_delete_of_what_the_offline_plan_keeps_is_named_and_a_removed_resource_is_not() {
        let m = Mapping::default();
        let rc = |a: &str, actions: &[&str]| crate::tfrun::ResourceChange { address: a.into(), actions: actions.iter().map(|x| x.to_string()).collect() };
        let offline = serde_json::json!({"resource_changes": [
            {"address": "module.service[\"a\"].t.x", "change": {"actions": ["create"]}},
            {"address": "aws_s3_bucket.b", "change": {"actions": ["create"]}}
        ]});
        let changes = [
            rc("module.service_v1_0_0[\"a\"].t.x", &["delete"]),
            rc("module.service[\"a\"].t.x", &["create"]),
            rc("aws_s3_bucket.b", &["delete", "create"]),
            rc("aws_s3_bucket.gone", &["delete"]),
            rc("module.service_vx[\"a\"].t.x", &["delete"]),
        ];
        assert_eq!(
            m.unplanned_deletes(&changes, &offline),
            ["module.service_v1_0_0[\"a\"].t.x (delete)", "aws_s3_bucket.b (delete, create)"],
            "a version call no catalog names still maps; a resource the release removes may go"
        );
        assert_eq!(unversioned("module.kms_v10_2_33.x"), "module.kms.x");
        assert_eq!(unversioned("module.kms_v1_2.x"), "module.kms_v1_2.x");
    }

    #[test]
    fn an_instance_key_that_is_not_a_string_is_an_error_not_a_skip() {
        let plan = serde_json::json!({"resource_changes": [{"address": "module.service[\"a\"].t.x"}, {"address": "module.service[0].t.x"}]});
        let e = format!("{:#}", keys(&plan, "service").unwrap_err());
        assert!(e.contains("module.service[0].t.x") && e.contains("not a string"), "{e}");
        let plan = serde_json::json!({"resource_changes": [{"address": "module.service[\"a\"].t.x"}, {"address": "module.services[0].t.x"}]});
        assert_eq!(keys(&plan, "service").unwrap(), BTreeSet::from(["a".to_string()]));
    }

    #[test]
    fn no_generated_move_ends_where_the_releases_own_move_ends() {
        let call = Call {
            name: "service".into(),
            module: "svc".into(),
            versions: BTreeMap::from([("0.9.0".into(), "service_v0_9_0".into()), ("1.0.0".into(), "service_v1_0_0".into())]),
            pinned: BTreeMap::new(),
            held: BTreeSet::new(),
        };
        let plan = serde_json::json!({"resource_changes": [{"address": "module.service[\"a\"].t.x"}]});
        let own = |from: &str| vec![((from.to_string(), Some("a".to_string())), ("service".to_string(), Some("a".to_string())))];
        for (author, want) in [
            (own("legacy"), "module.service_v0_9_0[\"a\"] -> module.service_v1_0_0[\"a\"] -> module.legacy[\"a\"]"),
            // The release moves a version call's instance itself: no self-move, no cycle.
            (own("service_v1_0_0"), "module.service_v0_9_0[\"a\"] -> module.service_v1_0_0[\"a\"]"),
        ] {
            let mut generated = String::new();
            moves(&call, &plan, &author, &mut generated).unwrap();
            let hops: Vec<String> = generated
                .split("moved {")
                .filter_map(|m| Some((m.split("from = ").nth(1)?.lines().next()?.to_string(), m.split("to   = ").nth(1)?.lines().next()?.to_string())))
                .map(|(f, t)| format!("{f} -> {t}"))
                .collect();
            let chain = hops.iter().enumerate().map(|(i, h)| if i == 0 { h.clone() } else { h.split(" -> ").nth(1).unwrap().to_string() }).collect::<Vec<_>>();
            assert_eq!(chain.join(" -> "), want, "{generated}");
        }
    }

    #[test]
    fn quoted_keys_are_hcl_strings_without_templates() {
        assert_eq!(quoted("order-gateway"), "\"order-gateway\"");
        assert_eq!(quoted("a${b}%{c}\"d"), "\"a$${b}%%{c}\\\"d\"");
    }
}
