//! Offline `terraform validate` for resources whose provider schema is known, and the planned
//! value the provider would propose for them.
//!
//! Validation (static, on the configuration): unsupported arguments and block types (also
//! inside nested and `dynamic` blocks), missing required arguments, too few or too many
//! blocks, computed-only attributes set, references to attributes a type does not have. The
//! type of each argument is checked when the resource is evaluated ([`conform`]), after
//! Terraform's conversions. Every message is Terraform's summary and detail.
//!
//! Planning ([`plan_value`]): every schema attribute is present; computed attributes not set
//! in configuration are unknown, others null; nested blocks take their nesting mode's shape
//! (`single` null or object, `list`/`set` a possibly empty collection); `tags_all` is the
//! provider's merge of `default_tags` (none in this repository) and `tags`; sensitive
//! attributes carry the sensitive mark.
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Range;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::visit::{self, Visit};
use hcl_edit::Span;

use crate::error::{Diag, ErrorKind, Sources};
use crate::load::{Mode, ModuleCfg};
use crate::schema::{Block, Nesting, ProviderSchema};
use crate::types::convert_type;
use crate::value::{set_value, Type, Value};

/// Meta-arguments and meta-blocks of a resource, not part of the provider schema.
const META_ATTRS: &[&str] = &["count", "for_each", "provider", "depends_on"];
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];

/// Every validation error of a module tree (modules called several times are checked once).
/// Missing arguments and blocks are placed at the block's opening brace, like Terraform.
pub(crate) fn validate_tree(root: &ModuleCfg, schema: &ProviderSchema, sources: &Sources) -> Vec<Diag> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(root, schema, &mut seen, &mut out, 0);
    for d in &mut out {
        if d.message.starts_with("Missing required argument") || d.message.starts_with("Insufficient ") || d.message.starts_with("Too many ") || d.message.starts_with("Duplicate ") {
            if let (Some(f), Some(sp)) = (d.file, d.span.clone()) {
                if let Some(text) = sources.files.get(f).map(|x| x.1.as_str()) {
                    if let Some(off) = text.get(sp.start..).and_then(|t| t.find('{')) {
                        d.span = Some(sp.start + off..sp.start + off + 1);
                    }
                }
            }
        }
    }
    out
}

fn walk(m: &ModuleCfg, schema: &ProviderSchema, seen: &mut HashSet<std::path::PathBuf>, out: &mut Vec<Diag>, depth: usize) {
    if depth > 32 || !seen.insert(m.dir.clone()) {
        return;
    }
    validate_module(m, schema, out);
    for c in &m.calls {
        walk(&c.module, schema, seen, out, depth + 1);
    }
}

fn diag(file: usize, span: Option<Range<usize>>, msg: String) -> Diag {
    Diag::new(ErrorKind::Config, span, msg).in_file(file)
}

fn validate_module(m: &ModuleCfg, schema: &ProviderSchema, out: &mut Vec<Diag>) {
    for r in &m.resources {
        if r.mode != Mode::Managed {
            continue;
        }
        let Some(rs) = schema.resource(&r.ty) else { continue };
        let mut c = Checker { file: r.file, out };
        c.body(&r.body, &rs.block, r.span.clone(), true);
    }
    // References to resource attributes, everywhere in the module.
    let mut rv = RefVisitor { m, schema, file: 0, out };
    for r in &m.resources {
        rv.file = r.file;
        for a in [&r.count, &r.for_each].into_iter().flatten() {
            rv.visit_expr(&a.expr);
        }
        visit::visit_body(&mut rv, &r.body);
        for c in r.preconditions.iter().chain(&r.postconditions) {
            rv.file = c.file;
            rv.visit_expr(&c.condition.expr);
        }
    }
    for a in m.locals.values() {
        rv.file = a.file;
        rv.visit_expr(&a.expr);
    }
    for o in &m.outputs {
        rv.file = o.value.file;
        rv.visit_expr(&o.value.expr);
    }
    for c in &m.calls {
        for a in c.args.values() {
            rv.file = a.file;
            rv.visit_expr(&a.expr);
        }
    }
}

struct Checker<'o> {
    file: usize,
    out: &'o mut Vec<Diag>,
}

impl Checker<'_> {
    fn push(&mut self, span: Option<Range<usize>>, msg: String) {
        self.out.push(diag(self.file, span, msg));
    }

    fn body(&mut self, body: &Body, block: &Block, at: Option<Range<usize>>, top: bool) {
        let mut set: BTreeSet<String> = BTreeSet::new();
        let mut counts: BTreeMap<String, (usize, bool)> = BTreeMap::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let k = a.key.value().as_str();
                    if top && META_ATTRS.contains(&k) {
                        continue;
                    }
                    if let Some(at) = block.attributes.get(k) {
                        set.insert(k.to_string());
                        if at.computed_only() {
                            self.push(a.key.span(), unconfigurable(k));
                        }
                    } else if block.block_types.contains_key(k) {
                        self.push(a.key.span(), format!("Unsupported argument: An argument named {k:?} is not expected here. Did you mean to define a block of type {k:?}?"));
                    } else {
                        self.push(a.key.span(), format!("Unsupported argument: An argument named {k:?} is not expected here.{}", suggest(k, block.attributes.keys())));
                    }
                }
                Structure::Block(b) => {
                    let name = b.ident.value().as_str();
                    if top && META_BLOCKS.contains(&name) {
                        continue;
                    }
                    if name == "dynamic" {
                        let Some(label) = b.labels.first() else { continue };
                        let label_name = label.as_str().to_string();
                        let Some(content) = b.body.get_blocks("content").next() else { continue };
                        self.nested(&label_name, &content.body, label.span(), true, block, &mut set, &mut counts);
                    } else {
                        self.nested(name, &b.body, b.ident.span(), false, block, &mut set, &mut counts);
                    }
                }
            }
        }
        for (k, a) in &block.attributes {
            if a.required && !set.contains(k) {
                self.push(at.clone(), format!("Missing required argument: The argument {k:?} is required, but no definition was found."));
            }
        }
        for (k, nb) in &block.block_types {
            let (n, dynamic) = counts.get(k).copied().unwrap_or((0, false));
            if dynamic {
                continue;
            }
            if n < nb.min_items {
                self.push(at.clone(), format!("Insufficient {k} blocks: At least {} {k:?} blocks are required.", nb.min_items));
            }
            if nb.max_items > 0 && n > nb.max_items {
                self.push(at.clone(), format!("Too many {k} blocks: No more than {} {k:?} blocks are allowed.", nb.max_items));
            }
            if matches!(nb.nesting, Nesting::Single | Nesting::Group) && n > 1 {
                self.push(at.clone(), format!("Duplicate {k} block: Only one {k:?} block is allowed."));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn nested(
        &mut self,
        name: &str,
        body: &Body,
        span: Option<Range<usize>>,
        dynamic: bool,
        block: &Block,
        set: &mut BTreeSet<String>,
        counts: &mut BTreeMap<String, (usize, bool)>,
    ) {
        if let Some(nb) = block.block_types.get(name) {
            let e = counts.entry(name.to_string()).or_insert((0, false));
            e.0 += 1;
            e.1 |= dynamic;
            self.body(body, &nb.block, span, false);
        } else if let Some((attr, obj)) = block.attr_as_block(name) {
            set.insert(name.to_string());
            if attr.computed_only() {
                self.push(span.clone(), unconfigurable(name));
            }
            // Attributes as blocks: every attribute of the object type may be set.
            for s in body.iter() {
                match s {
                    Structure::Attribute(a) => {
                        let k = a.key.value().as_str();
                        if !obj.contains_key(k) {
                            self.push(a.key.span(), format!("Unsupported argument: An argument named {k:?} is not expected here.{}", suggest(k, obj.keys())));
                        }
                    }
                    Structure::Block(b) => {
                        let k = b.ident.value().as_str();
                        self.push(b.ident.span(), format!("Unsupported block type: Blocks of type {k:?} are not expected here."));
                    }
                }
            }
        } else if block.attributes.contains_key(name) {
            self.push(span, format!("Unsupported block type: Blocks of type {name:?} are not expected here. Did you mean to define argument {name:?}? If so, use the equals sign to assign it a value."));
        } else {
            self.push(span, format!("Unsupported block type: Blocks of type {name:?} are not expected here.{}", suggest(name, block.block_types.keys())));
        }
    }
}

fn unconfigurable(k: &str) -> String {
    format!("Value for unconfigurable attribute: Can't configure a value for {k:?}: its value will be decided automatically based on the result of applying this configuration.")
}

/// Terraform's "Did you mean" for a name within edit distance 2 of a known one.
fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> String {
    let mut best: Option<(usize, &String)> = None;
    for k in known {
        let d = levenshtein(name, k);
        if d < 3 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| format!(" Did you mean {k:?}?")).unwrap_or_default()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `aws_x.name[...].attr` where `attr` is not in the type's schema.
struct RefVisitor<'a, 'o> {
    m: &'a ModuleCfg,
    schema: &'a ProviderSchema,
    file: usize,
    out: &'o mut Vec<Diag>,
}

impl Visit for RefVisitor<'_, '_> {
    fn visit_expr(&mut self, node: &Expression) {
        if let Expression::Traversal(t) = node {
            if let Expression::Variable(v) = &t.expr {
                self.check(v.value().as_str(), &t.operators);
            }
        }
        visit::visit_expr(self, node);
    }
}

impl RefVisitor<'_, '_> {
    fn check(&mut self, root: &str, ops: &[hcl_edit::Decorated<TraversalOperator>]) {
        let Some(TraversalOperator::GetAttr(name)) = ops.first().map(|o| o.value()) else { return };
        let key = format!("{root}.{}", name.value());
        let Some(r) = self.m.resource(&key) else { return };
        let Some(rs) = self.schema.resource(&r.ty) else { return };
        let expanded = r.count.is_some() || r.for_each.is_some();
        let mut i = 1;
        match ops.get(1).map(|o| o.value()) {
            Some(TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_)) if expanded => i = 2,
            Some(TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)) => i = 2,
            _ if expanded => return,
            _ => {}
        }
        let Some(op) = ops.get(i) else { return };
        let TraversalOperator::GetAttr(attr) = op.value() else { return };
        let a = attr.value().as_str();
        if !rs.block.attributes.contains_key(a) && !rs.block.block_types.contains_key(a) {
            let msg = format!(
                "Unsupported attribute: This object has no argument, nested block, or exported attribute named {a:?}.{}",
                suggest(a, rs.block.names())
            );
            self.out.push(diag(self.file, op.span().or_else(|| attr.span()), msg));
        }
    }
}

/// Convert each configured argument to its schema type (Terraform's conversions), reporting
/// "Incorrect attribute value type" at the argument. `body` locates the arguments.
pub(crate) fn conform(config: &Value, block: &Block, body: Option<&Body>, depth: usize) -> Result<Value, Diag> {
    let Value::Object(m) = config.unmark().0 else { return Ok(config.clone()) };
    if depth > 32 {
        return Ok(config.clone());
    }
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let place = body.and_then(|b| attr_span(b, k));
        if let Some(a) = block.attributes.get(k) {
            let v = if let (Some((_, obj)), Value::Tuple(items)) = (block.attr_as_block(k), v.unmark().0) {
                // Attributes written as blocks: absent attributes are null.
                let filled: Vec<Value> = items.iter().map(|it| fill_object(it, obj)).collect();
                Value::Tuple(filled)
            } else {
                v.clone()
            };
            let c = convert_type(&v, &a.ty).map_err(|e| Diag::new(ErrorKind::Config, place.clone(), format!("Incorrect attribute value type: Inappropriate value for attribute {k:?}: {e}.")))?;
            out.insert(k.clone(), c);
        } else if let Some(nb) = block.block_types.get(k) {
            let inner_body = body.and_then(|b| first_block_body(b, k));
            let c = match v.unmark().0 {
                Value::Tuple(items) => {
                    let mut xs = Vec::with_capacity(items.len());
                    for it in items {
                        xs.push(conform(it, &nb.block, inner_body, depth + 1)?);
                    }
                    Value::Tuple(xs)
                }
                _ => v.clone(),
            };
            out.insert(k.clone(), c);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

fn fill_object(v: &Value, obj: &BTreeMap<String, Type>) -> Value {
    match v.unmark().0 {
        Value::Object(m) => {
            let mut o = m.clone();
            for (k, t) in obj {
                o.entry(k.clone()).or_insert(Value::Null(t.clone()));
            }
            Value::Object(o)
        }
        _ => v.clone(),
    }
}

fn attr_span(body: &Body, k: &str) -> Option<Range<usize>> {
    for s in body.iter() {
        if let Structure::Attribute(a) = s {
            if a.key.value().as_str() == k {
                return a.value.span().or_else(|| a.span());
            }
        }
    }
    None
}

/// The body of the first block (or dynamic block's content) of a type, to place errors.
fn first_block_body<'b>(body: &'b Body, k: &str) -> Option<&'b Body> {
    for s in body.iter() {
        if let Structure::Block(b) = s {
            if b.ident.value().as_str() == k {
                return Some(&b.body);
            }
            if b.ident.value().as_str() == "dynamic" && b.labels.first().map(|l| l.as_str()) == Some(k) {
                return b.body.get_blocks("content").next().map(|c| &c.body);
            }
        }
    }
    None
}

/// The value the provider plans for a create: every attribute of the schema, unset computed
/// attributes unknown, blocks shaped by their nesting mode, `tags_all` merged, sensitive marks.
pub(crate) fn plan_value(config: &Value, block: &Block, top: bool) -> Value {
    let empty = BTreeMap::new();
    let m = match config.unmark().0 {
        Value::Object(m) => m,
        _ => &empty,
    };
    let mut out = BTreeMap::new();
    for (k, a) in &block.attributes {
        let given = m.get(k).filter(|v| !v.is_null());
        let mut v = match given {
            Some(v) => v.clone(),
            None if top && k == "tags_all" && a.computed => tags_all(m.get("tags")),
            None if a.computed => Value::Unknown(a.ty.clone()),
            None => Value::Null(a.ty.clone()),
        };
        if top && k == "id" && given.is_none() {
            v = Value::Unknown(Type::String);
        }
        out.insert(k.clone(), v.mark(a.sensitive));
    }
    for (k, nb) in &block.block_types {
        let obj = nb.block.object_type();
        let v = match m.get(k).map(|v| v.unmark().0) {
            Some(Value::Unknown(_)) => Value::Unknown(match nb.nesting {
                Nesting::Single | Nesting::Group => obj.clone(),
                Nesting::List => Type::List(Box::new(obj.clone())),
                Nesting::Set => Type::Set(Box::new(obj.clone())),
                Nesting::Map => Type::Map(Box::new(obj.clone())),
            }),
            Some(Value::Tuple(items)) => {
                let planned: Vec<Value> = items.iter().map(|it| plan_value(it, &nb.block, false)).collect();
                match nb.nesting {
                    Nesting::Single | Nesting::Group => planned.into_iter().next().unwrap_or_else(|| empty_single(nb.nesting, &nb.block, &obj)),
                    Nesting::List => Value::List(obj.clone(), planned),
                    Nesting::Set => set_value(obj.clone(), planned),
                    Nesting::Map => Value::Map(obj.clone(), BTreeMap::new()),
                }
            }
            _ => match nb.nesting {
                Nesting::Single | Nesting::Group => empty_single(nb.nesting, &nb.block, &obj),
                Nesting::List => Value::List(obj.clone(), Vec::new()),
                Nesting::Set => Value::Set(obj.clone(), Vec::new()),
                Nesting::Map => Value::Map(obj.clone(), BTreeMap::new()),
            },
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

fn empty_single(n: Nesting, block: &Block, obj: &Type) -> Value {
    match n {
        Nesting::Group => plan_value(&Value::Object(BTreeMap::new()), block, false),
        _ => Value::Null(obj.clone()),
    }
}

/// The AWS provider's `tags_all`: provider `default_tags` (none configured here) merged with
/// the resource's `tags`, null-valued tags dropped; unknown when `tags` is unknown, and left
/// to the provider (unknown) when no tag results.
fn tags_all(tags: Option<&Value>) -> Value {
    let t = Type::Map(Box::new(Type::String));
    let Some(tags) = tags else { return Value::Unknown(t) };
    if !tags.is_wholly_known() {
        return Value::Unknown(t);
    }
    let marked = tags.is_sensitive();
    match tags.unmark().0 {
        Value::Map(_, m) | Value::Object(m) => {
            let kept: BTreeMap<String, Value> = m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
            if kept.is_empty() {
                Value::Unknown(t)
            } else {
                Value::Map(Type::String, kept).mark(marked)
            }
        }
        _ => Value::Unknown(t),
    }
}
