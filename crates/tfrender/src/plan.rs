//! Building the `terraform show -json` document from an evaluated module tree.
use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use serde_json::{json, Map, Value as Json};

use crate::eval::{EmptyScope, Evaluator};
use crate::graph::Engine;
use crate::load::{walk_traversals, Attr, Mode, ModuleCfg, ResCfg};

pub(crate) const TERRAFORM_VERSION: &str = "1.15.5";

fn provider_name(cfg: &ModuleCfg, root: &ModuleCfg, r: &ResCfg) -> (String, String) {
    if r.ty == "terraform_data" && r.provider.is_none() {
        return ("terraform".into(), "terraform.io/builtin/terraform".into());
    }
    let local = r
        .provider
        .as_ref()
        .map(|p| p.split('.').next().unwrap_or(p).to_string())
        .unwrap_or_else(|| r.ty.split('_').next().unwrap_or(&r.ty).to_string());
    let src = cfg
        .required_providers
        .get(&local)
        .or_else(|| root.required_providers.get(&local))
        .cloned()
        .unwrap_or_else(|| format!("hashicorp/{local}"));
    let full = match src.matches('/').count() {
        0 => format!("registry.terraform.io/hashicorp/{src}"),
        1 => format!("registry.terraform.io/{src}"),
        _ => src,
    };
    let key = r.provider.clone().unwrap_or(local);
    (key, full.to_lowercase())
}

struct PlannedRes {
    address: String,
    module: String,
    json: Json,
    change: Json,
}

/// The plan document of an evaluated tree; `configuration` is [`configuration`] of its root
/// module (it depends on the configuration only, so a prepared configuration computes it once).
pub(crate) fn build(eng: &Engine, configuration: Json) -> Json {
    let root_cfg = eng.inst(0).cfg.clone();
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!("1.2"));
    doc.insert("terraform_version".into(), json!(TERRAFORM_VERSION));

    let mut vars = Map::new();
    let mut names: Vec<&String> = root_cfg.variables.iter().map(|v| &v.name).collect();
    names.sort();
    for n in names {
        if let Some(v) = eng.root_var(n) {
            // As given, null included: a null given to a nullable = false variable is recorded
            // as null while the default is the value used.
            let v = eng.root_input_as_given(n).map(std::rc::Rc::new).unwrap_or(v);
            let mut value = Map::with_capacity(1);
            value.insert("value".into(), v.to_json());
            vars.insert(n.clone(), Json::Object(value));
        }
    }
    if !vars.is_empty() {
        doc.insert("variables".into(), Json::Object(vars));
    }

    // Resource instances of every module instance.
    let mut all: Vec<PlannedRes> = Vec::new();
    let n = eng.insts.borrow().len();
    // Every instance of a module has the same resources and providers: work them out once
    // per module configuration.
    let mut per_cfg: crate::hash::HashMap<*const ModuleCfg, Vec<(String, String)>> = crate::hash::HashMap::default();
    for i in 0..n {
        let inst = eng.inst(i);
        let names = per_cfg.entry(std::sync::Arc::as_ptr(&inst.cfg)).or_insert_with(|| {
            inst.cfg.resources.iter().map(|r| (r.key(), provider_name(&inst.cfg, &root_cfg, r).1)).collect()
        });
        for (r, (res_key, provider)) in inst.cfg.resources.iter().zip(names.iter()) {
            let Some(st) = eng.resource_state(i, res_key) else { continue };
            let prefix = if inst.addr.is_empty() { String::new() } else { format!("{}.", inst.addr) };
            let mode = if r.mode == Mode::Managed { "managed" } else { "data" };
            for (n, ri) in st.instances.iter().enumerate() {
                let Some(planned) = st.planned(n) else { continue };
                let address = format!("{prefix}{res_key}{}", ri.key.suffix());
                let mut res = Map::new();
                res.insert("address".into(), json!(address));
                res.insert("mode".into(), json!(mode));
                res.insert("type".into(), json!(r.ty));
                res.insert("name".into(), json!(r.name));
                if let Some(k) = ri.key.to_json() {
                    res.insert("index".into(), k);
                }
                res.insert("provider_name".into(), json!(provider));
                res.insert("schema_version".into(), json!(eng.schema_for(r).map_or(0, |s| s.version)));
                let values = planned.to_json_known().unwrap_or(Json::Object(Map::new()));
                let sens = planned.sensitive_as_bool();
                let sens = if sens == Json::Bool(false) { Json::Object(Map::new()) } else { sens };
                // Written twice (`values` and the change's `after`): cloned once, then moved.
                res.insert("values".into(), values.clone());
                res.insert("sensitive_values".into(), sens.clone());

                let mut ch = Map::new();
                ch.insert("address".into(), json!(address));
                if !inst.addr.is_empty() {
                    ch.insert("module_address".into(), json!(inst.addr));
                }
                ch.insert("mode".into(), json!(mode));
                ch.insert("type".into(), json!(r.ty));
                ch.insert("name".into(), json!(r.name));
                if let Some(k) = ri.key.to_json() {
                    ch.insert("index".into(), k);
                }
                ch.insert("provider_name".into(), json!(provider));
                let action = if r.mode == Mode::Managed { "create" } else { "read" };
                let unknown = planned.unknown_as_bool();
                let unknown = if unknown == Json::Bool(false) { Json::Object(Map::new()) } else { unknown };
                // Built by moving the values in: `json!` would serialise each of them again
                // (a deep copy through serde's serializer, a twentieth of a render, issue 29).
                let mut change = Map::with_capacity(6);
                change.insert("actions".into(), Json::Array(vec![Json::from(action)]));
                change.insert("before".into(), Json::Null);
                change.insert("after".into(), values);
                change.insert("after_unknown".into(), unknown);
                change.insert("before_sensitive".into(), Json::Bool(false));
                change.insert("after_sensitive".into(), sens);
                ch.insert("change".into(), Json::Object(change));
                if r.mode == Mode::Data {
                    let reason = if ri.config_known { "read_because_dependency_pending" } else { "read_because_config_unknown" };
                    ch.insert("action_reason".into(), json!(reason));
                }
                all.push(PlannedRes { address, module: inst.addr.clone(), json: Json::Object(res), change: Json::Object(ch) });
            }
        }
    }
    all.sort_by(|a, b| a.address.cmp(&b.address));

    // planned_values
    let mut outputs = Map::new();
    let mut output_changes = Map::new();
    for o in &root_cfg.outputs {
        let Some(v) = eng.output_value(0, &o.name) else { continue };
        let sensitive = o.sensitive || v.is_sensitive();
        let mut po = Map::new();
        po.insert("sensitive".into(), json!(sensitive));
        if v.is_wholly_known() {
            // A null output has no type in the plan: Terraform records "dynamic" whatever
            // the type of the null (a typed variable given null included).
            let ty = if v.is_null() { crate::value::Type::Dynamic } else { v.ty() };
            po.insert("type".into(), ty.to_json());
            po.insert("value".into(), v.to_json());
        }
        outputs.insert(o.name.clone(), Json::Object(po));
        let mut oc = Map::new();
        oc.insert("actions".into(), json!([if v.is_null() { "no-op" } else { "create" }]));
        oc.insert("before".into(), Json::Null);
        if let Some(a) = v.to_json_known() {
            oc.insert("after".into(), a);
        }
        oc.insert("after_unknown".into(), if v.is_wholly_known() { json!(false) } else { v.unknown_as_bool() });
        oc.insert("before_sensitive".into(), json!(sensitive));
        oc.insert("after_sensitive".into(), json!(sensitive));
        output_changes.insert(o.name.clone(), Json::Object(oc));
    }
    let outputs = sorted(outputs);
    let mut pv = Map::new();
    if !outputs.is_empty() {
        pv.insert("outputs".into(), Json::Object(outputs));
    }
    let any_resource = !all.is_empty();
    let changes: Vec<Json> = all.iter_mut().map(|r| std::mem::take(&mut r.change)).collect();
    pv.insert("root_module".into(), module_tree("", all));
    doc.insert("planned_values".into(), Json::Object(pv));
    if any_resource {
        doc.insert("resource_changes".into(), Json::Array(changes));
    }
    if !output_changes.is_empty() {
        doc.insert("output_changes".into(), Json::Object(sorted(output_changes)));
    }
    let checks = eng.checks.borrow();
    if !checks.is_empty() {
        let mut list = Vec::new();
        for rec in checks.values() {
            let mut agg = "pass";
            let mut insts = Vec::new();
            for (addr, status, problems) in &rec.instances {
                if *status == "fail" || (*status == "unknown" && agg == "pass") {
                    agg = status;
                }
                let mut m = Map::new();
                m.insert("address".into(), addr.clone());
                m.insert("status".into(), json!(status));
                if !problems.is_empty() {
                    m.insert("problems".into(), Json::Array(problems.iter().map(|p| json!({ "message": p })).collect()));
                }
                insts.push(Json::Object(m));
            }
            let mut check = Map::with_capacity(3);
            check.insert("address".into(), rec.address.clone());
            check.insert("status".into(), Json::from(agg));
            check.insert("instances".into(), Json::Array(insts));
            list.push(Json::Object(check));
        }
        doc.insert("checks".into(), Json::Array(list));
    }
    doc.insert("prior_state".into(), json!({ "format_version": "1.0", "terraform_version": TERRAFORM_VERSION }));
    doc.insert("configuration".into(), configuration);
    doc.insert("applyable".into(), json!(any_resource || !output_changes_empty(&doc)));
    doc.insert("complete".into(), json!(true));
    doc.insert("errored".into(), json!(false));
    Json::Object(doc)
}

fn output_changes_empty(doc: &Map<String, Json>) -> bool {
    doc.get("output_changes").and_then(Json::as_object).is_none_or(Map::is_empty)
}

fn sorted(m: Map<String, Json>) -> Map<String, Json> {
    let b: BTreeMap<String, Json> = m.into_iter().collect();
    b.into_iter().collect()
}

/// Planned-values module tree: each module with its resources and the child modules that
/// hold resources below them.
fn module_tree(root: &str, all: Vec<PlannedRes>) -> Json {
    use crate::hash::HashMap;
    use std::collections::BTreeSet;
    let mut by_module: HashMap<String, Vec<Json>> = HashMap::default();
    for r in all {
        by_module.entry(r.module).or_default().push(r.json);
    }
    let mut children: HashMap<String, BTreeSet<String>> = HashMap::default();
    for m in by_module.keys() {
        let mut cur = m.to_string();
        while !cur.is_empty() {
            let parent = parent_module(&cur);
            let fresh = children.entry(parent.clone()).or_default().insert(cur.clone());
            if !fresh {
                break;
            }
            cur = parent;
        }
    }
    fn node(addr: &str, by_module: &mut HashMap<String, Vec<Json>>, children: &HashMap<String, BTreeSet<String>>, depth: usize) -> Json {
        let mut n = Map::new();
        if let Some(rs) = by_module.remove(addr) {
            n.insert("resources".into(), Json::Array(rs));
        }
        if !addr.is_empty() {
            n.insert("address".into(), json!(addr));
        }
        if let Some(cs) = children.get(addr) {
            if depth < 64 {
                n.insert(
                    "child_modules".into(),
                    Json::Array(cs.iter().map(|c| node(c, by_module, children, depth + 1)).collect()),
                );
            }
        }
        Json::Object(n)
    }
    node(root, &mut by_module, &children, 0)
}

/// The parent of a module instance address: `module.a["x"].module.b` -> `module.a["x"]`.
fn parent_module(addr: &str) -> String {
    let chars: Vec<char> = addr.chars().collect();
    let mut in_str = false;
    let mut depth = 0;
    let mut last_sep: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            if c == '\\' {
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '[' {
            depth += 1;
        } else if c == ']' {
            depth -= 1;
        } else if depth == 0 && chars[i..].starts_with(&['.', 'm', 'o', 'd', 'u', 'l', 'e', '.']) {
            last_sep = Some(i);
        }
        i += 1;
    }
    match last_sep {
        Some(p) => chars[..p].iter().collect(),
        None => String::new(),
    }
}

// ---- configuration ----

/// Adds to `configuration`'s root module calls, for each instance source with a call suffix, the
/// call that holds its module (see [`crate::InstanceSource::call_suffix`]): the entry of every
/// root call the source applies to, renamed, with the source's `source` and module code.
pub(crate) fn instance_calls(
    configuration: &mut Json,
    root: &ModuleCfg,
    overrides: &crate::hash::HashMap<(String, String), std::sync::Arc<ModuleCfg>>,
    list: &[crate::InstanceSource],
) {
    let Some(calls) = configuration.pointer_mut("/root_module/module_calls").and_then(Json::as_object_mut) else { return };
    for s in list.iter().filter(|s| !s.call_suffix.is_empty()) {
        for c in root.calls.iter().filter(|c| c.source == s.call_source) {
            let (Some(module), Some(Json::Object(own))) = (overrides.get(&(c.name.clone(), s.key.clone())), calls.get(&c.name)) else { continue };
            let mut e = own.clone();
            e.insert("source".into(), json!(s.source));
            e.insert("module".into(), config_module(root, module, 1));
            calls.insert(format!("{}{}", c.name, s.call_suffix), Json::Object(e));
        }
    }
    *calls = sorted(std::mem::take(calls));
}

pub(crate) fn configuration(root: &ModuleCfg, cfg: &ModuleCfg) -> Json {
    let mut pc = Map::new();
    collect_providers(root, cfg, &mut pc, 0);
    let mut c = Map::new();
    c.insert("provider_config".into(), Json::Object(sorted(pc)));
    c.insert("root_module".into(), config_module(root, cfg, 0));
    Json::Object(c)
}

fn collect_providers(root: &ModuleCfg, cfg: &ModuleCfg, out: &mut Map<String, Json>, depth: usize) {
    if depth > 32 {
        return;
    }
    for r in &cfg.resources {
        let (key, full) = provider_name(cfg, root, r);
        let name = key.split('.').next().unwrap_or(&key).to_string();
        out.entry(key).or_insert_with(|| json!({ "name": name, "full_name": full }));
    }
    for c in &cfg.calls {
        collect_providers(root, &c.module, out, depth + 1);
    }
}

fn config_module(root: &ModuleCfg, cfg: &ModuleCfg, depth: usize) -> Json {
    let mut m = Map::new();
    if !cfg.outputs.is_empty() {
        let mut outs = Map::new();
        for o in &cfg.outputs {
            let mut e = Map::new();
            if o.sensitive {
                e.insert("sensitive".into(), json!(true));
            }
            e.insert("expression".into(), expression(&o.value, cfg));
            if let Some(d) = &o.description {
                e.insert("description".into(), json!(d));
            }
            outs.insert(o.name.clone(), Json::Object(e));
        }
        m.insert("outputs".into(), Json::Object(sorted(outs)));
    }
    if !cfg.resources.is_empty() {
        let mut rs: Vec<(String, Json)> = Vec::new();
        for r in &cfg.resources {
            let (key, _) = provider_name(cfg, root, r);
            let mut e = Map::new();
            e.insert("address".into(), json!(r.key()));
            e.insert("mode".into(), json!(if r.mode == Mode::Managed { "managed" } else { "data" }));
            e.insert("type".into(), json!(r.ty));
            e.insert("name".into(), json!(r.name));
            e.insert("provider_config_key".into(), json!(key));
            e.insert("expressions".into(), body_expressions(&r.body, r.file, cfg, 0));
            e.insert("schema_version".into(), json!(0));
            if let Some(c) = &r.count {
                e.insert("count_expression".into(), expression(c, cfg));
            }
            if let Some(f) = &r.for_each {
                e.insert("for_each_expression".into(), expression(f, cfg));
            }
            rs.push((r.key(), Json::Object(e)));
        }
        rs.sort_by(|a, b| a.0.cmp(&b.0));
        m.insert("resources".into(), Json::Array(rs.into_iter().map(|x| x.1).collect()));
    }
    if !cfg.calls.is_empty() && depth < 32 {
        let mut calls = Map::new();
        for c in &cfg.calls {
            let mut e = Map::new();
            e.insert("source".into(), json!(c.source));
            let mut ex = Map::new();
            for (k, a) in &c.args {
                ex.insert(k.clone(), expression(a, cfg));
            }
            e.insert("expressions".into(), Json::Object(ex));
            if let Some(x) = &c.count {
                e.insert("count_expression".into(), expression(x, cfg));
            }
            if let Some(x) = &c.for_each {
                e.insert("for_each_expression".into(), expression(x, cfg));
            }
            e.insert("module".into(), config_module(root, &c.module, depth + 1));
            calls.insert(c.name.clone(), Json::Object(e));
        }
        m.insert("module_calls".into(), Json::Object(sorted(calls)));
    }
    if !cfg.variables.is_empty() {
        let mut vs = Map::new();
        for v in &cfg.variables {
            let mut e = Map::new();
            if let Some(d) = &v.default {
                e.insert("default".into(), d.to_json());
            }
            if let Some(d) = &v.description {
                e.insert("description".into(), json!(d));
            }
            if v.sensitive {
                e.insert("sensitive".into(), json!(true));
            }
            if !v.nullable {
                e.insert("nullable".into(), json!(false));
            }
            vs.insert(v.name.clone(), Json::Object(e));
        }
        m.insert("variables".into(), Json::Object(sorted(vs)));
    }
    Json::Object(m)
}

fn body_expressions(body: &Body, file: usize, cfg: &ModuleCfg, depth: usize) -> Json {
    let mut m = Map::new();
    if depth > 32 {
        return Json::Object(m);
    }
    let mut blocks: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let at = Attr { file, expr: a.value.clone(), span: None };
                m.insert(a.key.value().to_string(), expression(&at, cfg));
            }
            Structure::Block(b) => {
                if b.ident.value().as_str() == "dynamic" {
                    let label = b.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
                    if let Some(content) = b.body.get_blocks("content").next() {
                        blocks.entry(label).or_default().push(body_expressions(&content.body, file, cfg, depth + 1));
                    }
                } else {
                    blocks.entry(b.ident.value().to_string()).or_default().push(body_expressions(&b.body, file, cfg, depth + 1));
                }
            }
        }
    }
    for (k, v) in blocks {
        m.insert(k, Json::Array(v));
    }
    Json::Object(sorted(m))
}

/// `{constant_value}` for expressions without references or calls, `{references}` otherwise.
fn expression(a: &Attr, cfg: &ModuleCfg) -> Json {
    let mut m = Map::new();
    let scope = EmptyScope(&cfg.dir, false);
    if let Ok(v) = Evaluator::new(&scope).eval(&a.expr) {
        if v.is_wholly_known() {
            m.insert("constant_value".into(), v.to_json());
        }
    }
    let refs = references(&a.expr);
    if !refs.is_empty() {
        m.insert("references".into(), json!(refs));
    }
    Json::Object(m)
}

const REF_ROOTS: &[&str] = &["var", "local", "module", "data", "count", "each", "path", "terraform", "self"];

/// Terraform's reference strings for an expression, in source order.
pub(crate) fn references(e: &Expression) -> Vec<String> {
    let mut out = Vec::new();
    walk_traversals(e, &mut |root: &str, ops: &[&TraversalOperator]| {
        let mut steps: Vec<String> = Vec::new();
        for op in ops {
            match op {
                TraversalOperator::GetAttr(a) => steps.push(format!(".{}", a.value())),
                TraversalOperator::LegacyIndex(n) => steps.push(format!("[{}]", n.value())),
                TraversalOperator::Index(ie) => match ie {
                    Expression::Number(n) => match n.value().as_u64() {
                        Some(x) => steps.push(format!("[{x}]")),
                        None => break,
                    },
                    Expression::String(s) => steps.push(format!("[{}]", crate::functions_json_quote(s.value()))),
                    _ => break,
                },
                _ => break,
            }
        }
        let is_index = |s: &String| s.starts_with('[');
        let (subject_len, extra): (usize, Option<String>) = match root {
            "count" | "each" | "path" | "terraform" | "var" | "local" => {
                if steps.is_empty() || is_index(&steps[0]) {
                    return;
                }
                (1, None)
            }
            "self" => (0, None),
            "module" => {
                if steps.is_empty() || is_index(&steps[0]) {
                    return;
                }
                let call = format!("module{}", steps[0]);
                match (steps.get(1), steps.get(2)) {
                    (Some(k), Some(o)) if is_index(k) && !is_index(o) => (3, Some(call)),
                    (Some(k), _) if is_index(k) => (2, Some(call)),
                    (Some(_), _) => (2, Some(call)),
                    _ => (1, None),
                }
            }
            "data" => {
                if steps.len() < 2 || is_index(&steps[0]) || is_index(&steps[1]) {
                    return;
                }
                let res = format!("data{}{}", steps[0], steps[1]);
                match steps.get(2) {
                    Some(k) if is_index(k) => (3, Some(res)),
                    _ => (2, None),
                }
            }
            r if REF_ROOTS.contains(&r) => return,
            _ => {
                if steps.is_empty() || is_index(&steps[0]) {
                    return;
                }
                let res = format!("{root}{}", steps[0]);
                match steps.get(1) {
                    Some(k) if is_index(k) => (2, Some(res)),
                    _ => (1, None),
                }
            }
        };
        let subject_len = subject_len.min(steps.len());
        let subject = format!("{root}{}", steps[..subject_len].concat());
        let mut n = steps.len();
        while n > subject_len {
            out.push(format!("{root}{}", steps[..n].concat()));
            n -= 1;
        }
        out.push(subject);
        if let Some(x) = extra {
            out.push(x);
        }
    }, 0);
    out
}

