//! Expression and template evaluation.
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Element, Template};
use hcl_edit::Span;

use crate::error::{DResult, Diag, ErrorKind};
use crate::functions;
use crate::types::{convert, convert_type, unify, Constraint};
use crate::value::{equals, number_string, Type, Value};

const MAX_DEPTH: usize = 200;

/// Resolves references that are not local iteration symbols.
pub(crate) trait Scope {
    /// Resolve `root.attrs...`; returns the value and how many of `attrs` were consumed.
    /// The value is shared with the scope's storage: the evaluator copies only the part the
    /// rest of the traversal selects.
    fn lookup(&self, root: &str, attrs: &[&str], span: Option<Range<usize>>) -> DResult<(Rc<Value>, usize)>;
    /// Directory of the module, for file functions.
    fn module_dir(&self) -> &Path;
    /// Whether function calls are allowed (not in tfvars).
    fn functions_allowed(&self) -> bool {
        true
    }
}

/// A scope with nothing in it (tfvars, constant values).
pub(crate) struct EmptyScope<'a>(pub &'a Path, pub bool);

impl Scope for EmptyScope<'_> {
    fn lookup(&self, root: &str, _attrs: &[&str], span: Option<Range<usize>>) -> DResult<(Rc<Value>, usize)> {
        Err(Diag::eval(span, format!("Variables not allowed: variable {root:?} cannot be used here")))
    }
    fn module_dir(&self) -> &Path {
        self.0
    }
    fn functions_allowed(&self) -> bool {
        self.1
    }
}

/// Template variables for `templatefile`.
pub(crate) struct MapScope<'a> {
    pub dir: &'a Path,
    pub vars: BTreeMap<String, Value>,
}

impl Scope for MapScope<'_> {
    fn lookup(&self, root: &str, _attrs: &[&str], span: Option<Range<usize>>) -> DResult<(Rc<Value>, usize)> {
        match self.vars.get(root) {
            Some(v) => Ok((Rc::new(v.clone()), 0)),
            None => Err(Diag::eval(
                span,
                format!("Unknown variable: there is no variable named {root:?} in the template variables"),
            )),
        }
    }
    fn module_dir(&self) -> &Path {
        self.dir
    }
}

pub(crate) struct Evaluator<'s> {
    pub scope: &'s dyn Scope,
    /// Source text of the file being evaluated, to re-read `<<-` heredocs.
    pub src: Option<&'s str>,
    /// Iteration symbols (for expressions, template for directives, dynamic block iterators),
    /// innermost last.
    locals: Vec<(String, Rc<Value>)>,
    depth: usize,
    /// Errors beside the one an evaluation failed with: HCL evaluates every element of a
    /// tuple constructor and every part of a template and reports each failure. `can` and
    /// `try` drop those of what they catch.
    pub also: Vec<Diag>,
}

fn span_of(e: &Expression) -> Option<Range<usize>> {
    e.span()
}

impl<'s> Evaluator<'s> {
    pub fn new(scope: &'s dyn Scope) -> Self {
        Evaluator { scope, src: None, locals: Vec::new(), depth: 0, also: Vec::new() }
    }

    /// Notes an error of one element of a construct that goes on with the others: the first
    /// is kept to fail with, later ones go to `also`. Errors that end evaluation at once
    /// (unsupported constructs, cycles) are returned.
    fn fail_later(&mut self, failed: &mut Option<Diag>, d: Diag) -> DResult<()> {
        if d.kind == ErrorKind::Unsupported || d.kind == ErrorKind::Cycle {
            return Err(d);
        }
        match failed {
            None => *failed = Some(d),
            Some(_) => self.also.push(d),
        }
        Ok(())
    }

    pub fn push_local(&mut self, name: &str, v: Value) {
        self.locals.push((name.to_string(), Rc::new(v)));
    }

    pub fn pop_local(&mut self) {
        self.locals.pop();
    }

    fn local(&self, name: &str) -> Option<Rc<Value>> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    pub fn eval(&mut self, e: &Expression) -> DResult<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(Diag::eval(span_of(e), "Expression is nested too deeply"));
        }
        let r = self.eval_inner(e);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expression) -> DResult<Value> {
        match e {
            Expression::Null(_) => Ok(Value::null()),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let f = n.value().as_f64().ok_or_else(|| Diag::eval(span_of(e), "Invalid number literal"))?;
                let exact = n.value().as_u64().map(i128::from).or_else(|| n.value().as_i64().map(i128::from));
                Ok(Value::number_exact(f, exact))
            }
            Expression::String(s) => Ok(Value::str(crate::value::nfc(s.value().as_str()))),
            Expression::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                let mut failed: Option<Diag> = None;
                for item in a.iter() {
                    match self.eval(item) {
                        Ok(v) => out.push(v),
                        Err(d) => self.fail_later(&mut failed, d)?,
                    }
                }
                match failed {
                    Some(d) => Err(d),
                    None => Ok(Value::Tuple(out)),
                }
            }
            Expression::Object(o) => {
                let mut out = BTreeMap::new();
                let mut unknown = false;
                let mut marked = false;
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(id) => id.value().as_str().to_string(),
                        ObjectKey::Expression(ke) => {
                            // A bare traversal-free identifier in parentheses is still an expression.
                            let kv = self.eval(ke)?;
                            let (kv, m) = kv.into_unmarked();
                            marked |= m;
                            if kv.is_unknown() {
                                unknown = true;
                                continue;
                            }
                            if kv.is_null() {
                                return Err(Diag::eval(span_of(ke), "Invalid object key: Key expression result must not be null"));
                            }
                            match convert(&kv, &Constraint::String) {
                                Ok(Value::String(s)) => s,
                                _ => {
                                    return Err(Diag::eval(
                                        span_of(ke),
                                        "Invalid object key: Key expression result must be a string",
                                    ))
                                }
                            }
                        }
                    };
                    let val = self.eval(v.expr())?;
                    out.insert(key, val);
                }
                if unknown {
                    return Ok(Value::dynamic_unknown().mark(marked));
                }
                Ok(Value::Object(out).mark(marked))
            }
            Expression::StringTemplate(t) => {
                let elems: Vec<&Element> = t.iter().collect();
                if let [Element::Interpolation(i)] = elems.as_slice() {
                    return self.eval(&i.expr);
                }
                self.template_nodes(&crate::template::prepare(t, false))
            }
            Expression::HeredocTemplate(h) => self.heredoc(h, span_of(e)),
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => self.traversal(e, v.value().as_str(), &[]),
            Expression::Traversal(t) => {
                if let Expression::Variable(v) = &t.expr {
                    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                    self.traversal(e, v.value().as_str(), &ops)
                } else {
                    let base = self.eval(&t.expr)?;
                    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                    self.apply_ops(base, &ops, span_of(e))
                }
            }
            Expression::Conditional(c) => self.conditional(c, span_of(e)),
            Expression::FuncCall(f) => self.func_call(f, span_of(e)),
            Expression::UnaryOp(u) => {
                let v = self.eval(&u.expr)?;
                unary(*u.operator.value(), v, span_of(e))
            }
            Expression::BinaryOp(b) => {
                let l = self.eval(&b.lhs_expr)?;
                let kept = self.also.len();
                let r = match (self.eval(&b.rhs_expr), short_circuit(*b.operator.value(), &l)) {
                    (Ok(r), _) => r,
                    // What the renderer does not support could have lent marks: not guessed.
                    (Err(e), Some(v)) if e.kind != ErrorKind::Unsupported => {
                        self.also.truncate(kept);
                        return Ok(v);
                    }
                    (Err(e), Some(_)) => return Err(e),
                    (Err(e), None) => return Err(e),
                };
                binary(*b.operator.value(), l, r, span_of(e))
            }
            Expression::ForExpr(f) => self.for_expr(f, span_of(e)),
        }
    }

    fn traversal(&mut self, e: &Expression, root: &str, ops: &[&TraversalOperator]) -> DResult<Value> {
        let span = span_of(e);
        if let Some(v) = self.local(root) {
            return self.apply_ops_shared(&v, ops, span);
        }
        let mut attrs: Vec<&str> = Vec::new();
        for op in ops {
            match op {
                TraversalOperator::GetAttr(id) => attrs.push(id.value().as_str()),
                _ => break,
            }
        }
        let (v, consumed) = self.scope.lookup(root, &attrs, span.clone())?;
        self.apply_ops_shared(&v, &ops[consumed.min(ops.len())..], span)
    }

    /// `apply_ops` on a shared value: the leading steps that select an attribute, key or index
    /// of a plain (unmarked, known, closed) object, map, list or tuple are followed by
    /// reference, so only the selected part is copied. Every other step (marks, unknowns, open
    /// objects, splats, conversions, errors) goes through `apply_ops` with the full rules.
    fn apply_ops_shared(&mut self, v: &Value, ops: &[&TraversalOperator], span: Option<Range<usize>>) -> DResult<Value> {
        let mut cur = v;
        let mut n = 0;
        while n < ops.len() {
            let next = match ops[n] {
                TraversalOperator::GetAttr(id) => match cur {
                    Value::Object(m) | Value::Map(_, m) => m.get(id.value().as_str()),
                    _ => None,
                },
                TraversalOperator::LegacyIndex(k) => match cur {
                    Value::List(_, vs) | Value::Tuple(vs) => usize::try_from(*k.value()).ok().and_then(|k| vs.get(k)),
                    _ => None,
                },
                TraversalOperator::Index(ie) => match cur {
                    Value::Object(m) | Value::Map(_, m) => match self.eval(ie)? {
                        Value::String(k) => m.get(&k),
                        _ => None,
                    },
                    Value::List(_, vs) | Value::Tuple(vs) => match self.eval(ie)? {
                        Value::Number(k) if k >= 0.0 && k.fract() == 0.0 => vs.get(k as usize),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            };
            match next {
                Some(x) => {
                    cur = x;
                    n += 1;
                }
                None => break,
            }
        }
        self.apply_ops(cur.clone(), &ops[n..], span)
    }

    pub fn apply_ops(&mut self, mut v: Value, ops: &[&TraversalOperator], span: Option<Range<usize>>) -> DResult<Value> {
        let mut i = 0;
        while i < ops.len() {
            match ops[i] {
                TraversalOperator::GetAttr(id) => {
                    v = get_attr(&v, id.value().as_str(), span.clone())?;
                }
                TraversalOperator::Index(ie) => {
                    let key = self.eval(ie)?;
                    v = index(&v, &key, span_of(ie).or(span.clone()))?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    v = index(&v, &Value::Number(*n.value() as f64), span.clone())?;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(ops[i], TraversalOperator::FullSplat(_));
                    let mut end = i + 1;
                    while end < ops.len() {
                        let stop = match ops[end] {
                            TraversalOperator::GetAttr(_) => false,
                            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => !full,
                            _ => false,
                        };
                        if stop {
                            break;
                        }
                        end += 1;
                    }
                    let sub: Vec<&TraversalOperator> = ops[i + 1..end].to_vec();
                    v = self.splat(v, &sub, span.clone())?;
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        Ok(v)
    }

    fn splat(&mut self, v: Value, ops: &[&TraversalOperator], span: Option<Range<usize>>) -> DResult<Value> {
        if v.is_open() {
            let marked = v.is_sensitive();
            let item = match v {
                Value::Sensitive(x) => *x,
                x => x,
            };
            let r = self.apply_ops(item, ops, span)?;
            return Ok(Value::Tuple(vec![r]).mark(marked));
        }
        let (inner, marked) = v.into_unmarked();
        let (items, as_list) = match inner {
            Value::Unknown(_) => return Ok(Value::dynamic_unknown().mark(marked)),
            Value::Null(_) => return Ok(Value::Tuple(vec![]).mark(marked)),
            Value::List(_, vs) | Value::Set(_, vs) => (vs, true),
            Value::Tuple(vs) => (vs, false),
            other => (vec![other], false),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.apply_ops(item, ops, span.clone())?);
        }
        let result = if as_list {
            let types: Vec<Type> = out.iter().map(Value::ty).collect();
            match unify(&types) {
                Some(t) => Value::List(t, out),
                None => Value::Tuple(out),
            }
        } else {
            Value::Tuple(out)
        };
        Ok(result.mark(marked))
    }

    fn conditional(&mut self, c: &hcl_edit::expr::Conditional, span: Option<Range<usize>>) -> DResult<Value> {
        let t = self.eval(&c.true_expr);
        let f = self.eval(&c.false_expr);
        let cond = self.eval(&c.cond_expr)?;
        let tt = t.as_ref().map(Value::ty).unwrap_or(Type::Dynamic);
        let ft = f.as_ref().map(Value::ty).unwrap_or(Type::Dynamic);
        let t_null_dyn = matches!(&t, Ok(Value::Null(Type::Dynamic)));
        let f_null_dyn = matches!(&f, Ok(Value::Null(Type::Dynamic)));
        let result_ty = if t_null_dyn {
            Some(ft.clone())
        } else if f_null_dyn {
            Some(tt.clone())
        } else if tt == Type::Dynamic || ft == Type::Dynamic {
            Some(Type::Dynamic)
        } else {
            unify(&[tt.clone(), ft.clone()])
        };
        let Some(result_ty) = result_ty else {
            return Err(Diag::eval(
                span,
                format!(
                    "Inconsistent conditional result types: The true and false result expressions must have consistent types. {}",
                    crate::types::describe_mismatch(&tt, &ft)
                ),
            ));
        };
        let (cond, cmark) = cond.into_unmarked();
        match cond {
            Value::Null(_) => Err(Diag::eval(
                span_of(&c.cond_expr),
                "Null condition: The condition value is null. Conditions must either be true or false",
            )),
            Value::Unknown(_) => {
                let tm = t.as_ref().map(|v| v.is_sensitive()).unwrap_or(false);
                let fm = f.as_ref().map(|v| v.is_sensitive()).unwrap_or(false);
                let t = t?;
                let f = f?;
                // Neither result can be null: neither can the unknown choice between them.
                let not_null = |v: &Value| v.is_refined_not_null() || (!v.is_null() && !v.is_unknown());
                let out = if not_null(&t) && not_null(&f) { Value::not_null_unknown(result_ty) } else { Value::Unknown(result_ty) };
                Ok(out.mark(cmark || tm || fm))
            }
            other => {
                let b = match convert(&other, &Constraint::Bool) {
                    Ok(Value::Bool(b)) => b,
                    _ => {
                        return Err(Diag::eval(
                            span_of(&c.cond_expr),
                            "Incorrect condition type: The condition expression must be of type bool",
                        ))
                    }
                };
                let chosen = if b { t? } else { f? };
                let chosen = if result_ty != Type::Dynamic && !chosen.is_null() {
                    convert_type(&chosen, &result_ty).unwrap_or(chosen)
                } else if chosen.is_null() && result_ty != Type::Dynamic {
                    Value::Null(result_ty).mark(chosen.is_sensitive())
                } else {
                    chosen
                };
                Ok(chosen.mark(cmark))
            }
        }
    }

    fn for_expr(&mut self, f: &hcl_edit::expr::ForExpr, span: Option<Range<usize>>) -> DResult<Value> {
        let coll = self.eval(&f.intro.collection_expr)?;
        let (coll, cmark) = coll.into_unmarked();
        let is_set = matches!(coll, Value::Set(_, _));
        let items: Vec<(Value, Value)> = match &coll {
            Value::Unknown(_) => return Ok(Value::dynamic_unknown().mark(cmark)),
            Value::Null(_) => {
                return Err(Diag::eval(
                    span_of(&f.intro.collection_expr),
                    "Iteration over null value: A null value cannot be used as the collection in a 'for' expression",
                ))
            }
            v => match v.elements() {
                Some(e) => {
                    if is_set {
                        e.into_iter().map(|(_, v)| (v.clone(), v)).collect()
                    } else {
                        e
                    }
                }
                None => {
                    return Err(Diag::eval(
                        span_of(&f.intro.collection_expr),
                        format!(
                            "Iteration over non-iterable value: A value of type {} cannot be used as the collection in a 'for' expression",
                            v.type_name()
                        ),
                    ))
                }
            },
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.value().as_str().to_string());
        let val_var = f.intro.value_var.value().as_str().to_string();
        let mut tuple = Vec::new();
        let mut obj: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        let mut marked = cmark;
        for (k, v) in items {
            let pushed = if let Some(kv) = &key_var {
                self.push_local(kv, k.clone());
                2
            } else {
                1
            };
            self.push_local(&val_var, v);
            let res = (|| -> DResult<()> {
                if let Some(c) = &f.cond {
                    let cv = self.eval(&c.expr)?;
                    let (cv, m) = cv.into_unmarked();
                    marked |= m;
                    match cv {
                        Value::Unknown(_) => {
                            unknown = true;
                            return Ok(());
                        }
                        Value::Bool(false) => return Ok(()),
                        Value::Bool(true) => {}
                        _ => {
                            return Err(Diag::eval(
                                span_of(&c.expr),
                                "Invalid 'for' condition: The 'if' clause value must be a bool",
                            ))
                        }
                    }
                }
                let val = self.eval(&f.value_expr)?;
                match &f.key_expr {
                    None => tuple.push(val),
                    Some(ke) => {
                        let kv = self.eval(ke)?;
                        let (kv, m) = kv.into_unmarked();
                        marked |= m;
                        if kv.is_unknown() {
                            unknown = true;
                            return Ok(());
                        }
                        let key = match convert(&kv, &Constraint::String) {
                            Ok(Value::String(s)) if !kv.is_null() => s,
                            _ => {
                                return Err(Diag::eval(
                                    span_of(ke),
                                    "Invalid object key: Key expression result must be a string",
                                ))
                            }
                        };
                        if f.grouping {
                            groups.entry(key).or_default().push(val);
                        } else {
                            if obj.contains_key(&key) {
                                return Err(Diag::eval(
                                    span_of(ke),
                                    format!("Duplicate object key: Two different items produced the key {key:?} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key"),
                                ));
                            }
                            obj.insert(key, val);
                        }
                    }
                }
                Ok(())
            })();
            for _ in 0..pushed {
                self.pop_local();
            }
            res?;
        }
        let _ = span;
        if unknown {
            return Ok(Value::dynamic_unknown().mark(marked));
        }
        let out = if f.key_expr.is_none() {
            Value::Tuple(tuple)
        } else if f.grouping {
            Value::Object(groups.into_iter().map(|(k, v)| (k, Value::Tuple(v))).collect())
        } else {
            Value::Object(obj)
        };
        Ok(out.mark(marked))
    }

    fn func_call(&mut self, f: &hcl_edit::expr::FuncCall, span: Option<Range<usize>>) -> DResult<Value> {
        let name = f.name.name.value().as_str();
        let core = f.name.namespace.len() == 1 && f.name.namespace[0].value().as_str() == "core";
        if f.name.is_namespaced() && !core {
            let ns: Vec<&str> = f.name.namespace.iter().map(|n| n.value().as_str()).collect();
            return Err(Diag::new(
                ErrorKind::Unsupported,
                span,
                format!("Unsupported function: provider function {}::{name} is not supported offline", ns.join("::")),
            ));
        }
        if !self.scope.functions_allowed() {
            return Err(Diag::eval(span, "Function calls not allowed: Functions may not be called here"));
        }
        let arg_exprs: Vec<&Expression> = f.args.iter().collect();
        match name {
            "can" => {
                crate::functions::arity(name, arg_exprs.len()).map_err(|m| Diag::eval(span.clone(), m))?;
                if arg_exprs.len() != 1 {
                    return Err(arity(name, 1, arg_exprs.len(), span));
                }
                let kept = self.also.len();
                return match self.eval(arg_exprs[0]) {
                    Ok(v) if !v.is_wholly_known() => Ok(Value::Unknown(Type::Bool)),
                    Ok(_) => Ok(Value::Bool(true)),
                    Err(d) if d.kind == ErrorKind::Unsupported || d.kind == ErrorKind::Cycle => Err(d),
                    Err(_) => {
                        self.also.truncate(kept);
                        Ok(Value::Bool(false))
                    }
                };
            }
            "try" => {
                if arg_exprs.is_empty() {
                    return Err(Diag::eval(span, "Error in function call: Call to function \"try\" failed: at least one argument is required"));
                }
                for a in &arg_exprs {
                    let kept = self.also.len();
                    match self.eval(a) {
                        Ok(v) if !v.is_wholly_known() => return Ok(Value::dynamic_unknown().mark(v.is_sensitive())),
                        Ok(v) => return Ok(v),
                        Err(d) if d.kind == ErrorKind::Unsupported || d.kind == ErrorKind::Cycle => return Err(d),
                        Err(_) => {
                            self.also.truncate(kept);
                            continue;
                        }
                    }
                }
                return Err(Diag::eval(
                    span,
                    "Error in function call: Call to function \"try\" failed: no expression succeeded",
                ));
            }
            "convert" if arg_exprs.len() == 2 => {
                let value = self.eval(arg_exprs[0])?;
                return crate::functions::special::convert(value, arg_exprs[1], span);
            }
            "templatestring" if arg_exprs.len() == 2 => {
                let template = crate::functions::special::templatestring_source(arg_exprs[0], span.clone())?;
                let tv = self.eval(arg_exprs[0])?;
                let vars = self.eval(arg_exprs[1])?;
                let (vars, vm) = vars.into_unmarked();
                let Some(map) = crate::functions::special::template_vars(&vars, span.clone())? else {
                    return Ok(Value::Unknown(Type::String).mark(vm || tv.is_sensitive()));
                };
                let (text, tm) = tv.into_unmarked();
                let text = match text {
                    Value::String(t) => t,
                    other if other.is_unknown() => return Ok(Value::Unknown(Type::String).mark(tm || vm)),
                    _ => return Err(Diag::eval(span, "Invalid function argument: Invalid value for \"template\" parameter: string required")),
                };
                let _ = template;
                let tmpl = hcl_edit::parser::parse_template(&text).map_err(|e| {
                    Diag::eval(
                        span.clone(),
                        format!("Invalid function argument: Invalid value for \"template\" parameter: invalid template: {}", e.message()),
                    )
                })?;
                let scope = MapScope { dir: self.scope.module_dir(), vars: map };
                let mut ev = Evaluator::new(&scope);
                ev.depth = self.depth;
                let v = ev.template(&tmpl, true).map_err(|d| Diag::eval(span.clone(), crate::functions::special::templatestring_error(&d, &text)))?;
                return Ok(v.mark(tm || vm));
            }
            _ => {}
        }
        let mut args = Vec::with_capacity(arg_exprs.len());
        for a in &arg_exprs {
            args.push(self.eval(a)?);
        }
        if f.args.expand_final() {
            let last = args.pop().unwrap_or_else(Value::null);
            let (last, m) = last.into_unmarked();
            match last {
                Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
                    args.extend(vs.into_iter().map(|v| v.mark(m)))
                }
                Value::Unknown(_) => return Ok(Value::dynamic_unknown()),
                _ => {
                    return Err(Diag::eval(
                        span,
                        "Invalid expanding argument value: The expanding argument (indicated by ...) must be of a tuple, list, or set type",
                    ))
                }
            }
        }
        if name == "templatefile" {
            return self.templatefile(args, span);
        }
        functions::call(name, args, self.scope.module_dir()).map_err(|msg| {
            let kind = if msg.starts_with("Call to unknown function") || crate::functions::is_unsupported(&msg) { ErrorKind::Unsupported } else { ErrorKind::Eval };
            Diag::new(kind, span, msg)
        })
    }

    fn templatefile(&mut self, args: Vec<Value>, span: Option<Range<usize>>) -> DResult<Value> {
        if args.len() != 2 {
            return Err(arity("templatefile", 2, args.len(), span));
        }
        let (path, pm) = args[0].unmark();
        let Value::String(path) = path else {
            if path.is_unknown() {
                return Ok(Value::Unknown(Type::String));
            }
            return Err(Diag::eval(span, "Invalid function argument: path must be a string"));
        };
        let full = self.scope.module_dir().join(path);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            Diag::eval(
                span.clone(),
                if full.exists() {
                    format!("Error in function call: Call to function \"templatefile\" failed: failed to read {}: {e}", full.display())
                } else {
                    format!("Invalid function argument: Invalid value for \"path\" parameter: no file exists at {path:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource")
                },
            )
        })?;
        let (vars, vm) = args[1].unmark();
        let mut map = BTreeMap::new();
        match vars {
            Value::Object(m) | Value::Map(_, m) => {
                for (k, v) in m {
                    map.insert(k.clone(), v.clone());
                }
            }
            Value::Unknown(_) => return Ok(Value::Unknown(Type::String)),
            _ => return Err(Diag::eval(span, "Invalid function argument: vars must be a map or object")),
        }
        let tmpl = hcl_edit::parser::parse_template(&text).map_err(|e| {
            Diag::eval(
                span.clone(),
                format!(
                    "Error in function call: Call to function \"templatefile\" failed: {}:{}:{}: {}",
                    full.display(),
                    e.location().line(),
                    e.location().column(),
                    e.message()
                ),
            )
        })?;
        let scope = MapScope { dir: self.scope.module_dir(), vars: map };
        let mut ev = Evaluator::new(&scope);
        ev.depth = self.depth;
        let v = ev.template(&tmpl, true).map_err(|d| {
            Diag::eval(
                span.clone(),
                format!("Error in function call: Call to function \"templatefile\" failed: {}: {}", full.display(), d.message),
            )
        })?;
        Ok(v.mark(pm || vm))
    }

    pub fn template(&mut self, t: &Template, wrap: bool) -> DResult<Value> {
        if wrap {
            let elems: Vec<&Element> = t.iter().collect();
            if let [Element::Interpolation(i)] = elems.as_slice() {
                return self.eval(&i.expr);
            }
        }
        self.template_nodes(&crate::template::prepare(t, false))
    }

    fn heredoc(&mut self, h: &hcl_edit::template::HeredocTemplate, span: Option<Range<usize>>) -> DResult<Value> {
        let raw = match (self.src, &span) {
            (Some(src), Some(sp)) if src.get(sp.start..).is_some_and(|s| s.starts_with("<<-")) => {
                src.get(sp.start + 3..sp.end).map(|rest| (format!("<<{rest}"), sp.start + 1))
            }
            _ => None,
        };
        if let Some((text, base)) = raw {
            if let Ok(Expression::HeredocTemplate(h2)) = hcl_edit::parser::parse_expr(&text) {
                let nodes = crate::template::prepare(&h2.template, true);
                return self.template_nodes(&nodes).map_err(|mut d| {
                    if d.file.is_none() {
                        d.span = d.span.map(|r| r.start + base..r.end + base);
                    }
                    d
                });
            }
        }
        self.template_nodes(&crate::template::prepare(&h.template, false))
    }

    fn template_nodes(&mut self, nodes: &[crate::template::Node]) -> DResult<Value> {
        let mut out = String::new();
        let mut unknown = false;
        let mut marked = false;
        // Each top-level part (literal, interpolation, whole directive) is one part of the
        // template: the parts before the first unknown one are the result's known prefix.
        let mut prefix_len = 0;
        let mut failed: Option<Diag> = None;
        for node in nodes {
            let before = out.len();
            let was_unknown = unknown;
            if let Err(d) = self.render_nodes(std::slice::from_ref(node), &mut out, &mut unknown, &mut marked) {
                self.fail_later(&mut failed, d)?;
            }
            if unknown && !was_unknown {
                prefix_len = before;
            }
        }
        if let Some(d) = failed {
            return Err(d);
        }
        if unknown {
            let prefix = crate::functions::safe_prefix(out.get(..prefix_len).unwrap_or(""));
            return Ok(Value::prefixed_unknown(prefix).mark(marked));
        }
        Ok(Value::String(out).mark(marked))
    }

    fn render_nodes(&mut self, nodes: &[crate::template::Node], out: &mut String, unknown: &mut bool, marked: &mut bool) -> DResult<()> {
        use crate::template::Node;
        for n in nodes {
            match n {
                Node::Lit(s) => out.push_str(s),
                Node::Interp(e) => {
                    let v = self.eval(e)?;
                    self.append_value(v, out, unknown, marked, span_of(e))?;
                }
                Node::If(c, then, els) => {
                    let cv = self.eval(c)?;
                    let (cv, m) = cv.into_unmarked();
                    *marked |= m;
                    let b = match cv {
                        Value::Unknown(_) => {
                            *unknown = true;
                            continue;
                        }
                        Value::Bool(b) => b,
                        other => match convert(&other, &Constraint::Bool) {
                            Ok(Value::Bool(b)) => b,
                            _ => {
                                return Err(Diag::eval(span_of(c), "Invalid template if directive: the condition must be a bool"))
                            }
                        },
                    };
                    self.render_nodes(if b { then } else { els }, out, unknown, marked)?;
                }
                Node::For(k, v, c, body) => {
                    let coll = self.eval(c)?;
                    let (coll, m) = coll.into_unmarked();
                    *marked |= m;
                    if coll.is_unknown() {
                        *unknown = true;
                        continue;
                    }
                    if coll.is_null() {
                        return Err(Diag::eval(span_of(c), "Invalid template for directive: the collection must not be null"));
                    }
                    let is_set = matches!(coll, Value::Set(_, _));
                    let Some(items) = coll.elements() else {
                        return Err(Diag::eval(span_of(c), "Invalid template for directive: the collection must be a list, set, map or object"));
                    };
                    for (kv, vv) in items {
                        let kv = if is_set { vv.clone() } else { kv };
                        let mut pushed = 1;
                        if let Some(kn) = k {
                            self.push_local(kn, kv);
                            pushed = 2;
                        }
                        self.push_local(v, vv);
                        let r = self.render_nodes(body, out, unknown, marked);
                        for _ in 0..pushed {
                            self.pop_local();
                        }
                        r?;
                    }
                }
            }
        }
        Ok(())
    }

    fn append_value(
        &mut self,
        v: Value,
        out: &mut String,
        unknown: &mut bool,
        marked: &mut bool,
        span: Option<Range<usize>>,
    ) -> DResult<()> {
        let (v, m) = v.into_unmarked();
        *marked |= m;
        match v {
            Value::Unknown(_) => *unknown = true,
            Value::Null(_) => {
                return Err(Diag::eval(
                    span,
                    "Invalid template interpolation value: The expression result is null. Cannot include a null value in a string template",
                ))
            }
            Value::String(s) => out.push_str(&s),
            Value::Number(n) => out.push_str(&number_string(n)),
            Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            other => {
                return Err(Diag::eval(
                    span,
                    format!(
                        "Invalid template interpolation value: Cannot include the given value in a string template: string required, but have {}",
                        other.type_name()
                    ),
                ))
            }
        }
        Ok(())
    }
}

fn arity(name: &str, want: usize, got: usize, span: Option<Range<usize>>) -> Diag {
    Diag::eval(
        span,
        format!("Invalid function argument count: function {name:?} expects {want} argument(s), got {got}"),
    )
}

pub(crate) fn get_attr(v: &Value, name: &str, span: Option<Range<usize>>) -> DResult<Value> {
    let open = v.is_open();
    let (inner, marked) = v.unmark();
    let r = match inner {
        Value::Unknown(t) => match t {
            Type::Object(attrs) => match attrs.get(name) {
                Some(t) => Value::Unknown(t.clone()),
                None => return Err(unsupported_attr(name, span)),
            },
            Type::Map(e) => Value::Unknown((**e).clone()),
            _ => Value::dynamic_unknown(),
        },
        Value::Null(_) => {
            return Err(Diag::eval(
                span,
                format!("Attempt to get attribute from null value: This value is null, so it does not have any attributes (looking for {name:?})"),
            ))
        }
        Value::Object(m) => match m.get(name) {
            Some(v) => v.clone(),
            None if open => Value::dynamic_unknown(),
            None => return Err(unsupported_attr(name, span)),
        },
        Value::Map(_, m) => match m.get(name) {
            Some(v) => v.clone(),
            None => {
                return Err(Diag::eval(
                    span,
                    format!("Missing map element: This map does not have an element with the key {name:?}"),
                ))
            }
        },
        other => {
            return Err(Diag::eval(
                span,
                format!("Unsupported attribute: Can't access attributes on a primitive-typed value ({}) (looking for {name:?})", other.type_name()),
            ))
        }
    };
    Ok(r.mark(marked))
}

fn unsupported_attr(name: &str, span: Option<Range<usize>>) -> Diag {
    Diag::eval(span, format!("Unsupported attribute: This object does not have an attribute named {name:?}"))
}

pub(crate) fn index(v: &Value, key: &Value, span: Option<Range<usize>>) -> DResult<Value> {
    let (inner, marked) = v.unmark();
    let (key, kmark) = key.unmark();
    if key.is_null() {
        return Err(Diag::eval(span, "Invalid index: Can't use a null value as an indexing key"));
    }
    let r = match inner {
        Value::Unknown(t) => match t {
            Type::List(e) | Type::Map(e) => Value::Unknown((**e).clone()),
            _ => Value::dynamic_unknown(),
        },
        Value::Null(_) => return Err(Diag::eval(span, "Attempt to index null value: This value is null, so it does not have any indices")),
        Value::List(_, vs) | Value::Tuple(vs) => {
            if key.is_unknown() {
                match inner {
                    Value::List(t, _) => Value::Unknown(t.clone()),
                    _ => Value::dynamic_unknown(),
                }
            } else {
                let n = match convert(key, &Constraint::Number) {
                    Ok(Value::Number(n)) => n,
                    _ => return Err(Diag::eval(span, "Invalid index: The given key does not identify an element in this collection value: a number is required")),
                };
                if n.fract() != 0.0 || n < 0.0 || n >= vs.len() as f64 {
                    return Err(Diag::eval(
                        span,
                        if n.fract() != 0.0 { "Invalid index: The given key does not identify an element in this collection value: indexing a sequence requires a whole number, but the given index has a fractional part".to_string() }
                        else if n < 0.0 { "Invalid index: The given key does not identify an element in this collection value: a negative number is not a valid index for a sequence".to_string() }
                        // Terraform explains only the index just past the end.
                        else if n == vs.len() as f64 { "Invalid index: The given key does not identify an element in this collection value: the given index is greater than or equal to the length of the collection".to_string() }
                        else { "Invalid index: The given key does not identify an element in this collection value".to_string() },
                    ));
                }
                vs[n as usize].clone()
            }
        }
        Value::Map(_, m) | Value::Object(m) => {
            if key.is_unknown() {
                match inner {
                    Value::Map(t, _) => Value::Unknown(t.clone()),
                    _ => Value::dynamic_unknown(),
                }
            } else {
                let k = match convert(key, &Constraint::String) {
                    Ok(Value::String(s)) => s,
                    _ => return Err(Diag::eval(span, "Invalid index: The given key does not identify an element in this collection value: string required")),
                };
                match m.get(&k) {
                    Some(v) => v.clone(),
                    None => {
                        return Err(Diag::eval(span, "Invalid index: The given key does not identify an element in this collection value"))
                    }
                }
            }
        }
        Value::Set(_, _) => {
            return Err(Diag::eval(
                span,
                "Invalid index: Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set",
            ))
        }
        other => {
            return Err(Diag::eval(
                span,
                format!("Invalid index: This value does not have any indices (it is {})", other.type_name()),
            ))
        }
    };
    Ok(r.mark(marked || kmark))
}

fn unary(op: UnaryOperator, v: Value, span: Option<Range<usize>>) -> DResult<Value> {
    let (v, m) = v.into_unmarked();
    let r = match op {
        UnaryOperator::Neg => match v {
            Value::Unknown(_) => Value::not_null_unknown(Type::Number),
            other => match convert(&other, &Constraint::Number) {
                Ok(Value::Number(n)) => Value::Number(-n),
                _ => return Err(Diag::eval(span, "Invalid operand: Unsuitable value for unary operand: a number is required")),
            },
        },
        UnaryOperator::Not => match v {
            Value::Unknown(_) => Value::not_null_unknown(Type::Bool),
            other => match convert(&other, &Constraint::Bool) {
                Ok(Value::Bool(b)) => Value::Bool(!b),
                _ => return Err(Diag::eval(span, "Invalid operand: Unsuitable value for unary operand: bool required")),
            },
        },
    };
    Ok(r.mark(m))
}

/// `false && x` and `true || x` whatever `x` is (HCL 2.22+, Terraform 1.10+): errors of the right
/// operand are dropped (the result then carries the left operand's marks; a right operand that
/// evaluates still lends its marks, as in Terraform).
fn short_circuit(op: BinaryOperator, l: &Value) -> Option<Value> {
    let stop = match op {
        BinaryOperator::And => false,
        BinaryOperator::Or => true,
        _ => return None,
    };
    let (inner, marked) = l.clone().into_unmarked();
    match convert(&inner, &Constraint::Bool) {
        Ok(Value::Bool(b)) if b == stop => Some(Value::Bool(b).mark(marked)),
        _ => None,
    }
}

pub(crate) fn binary(op: BinaryOperator, l: Value, r: Value, span: Option<Range<usize>>) -> DResult<Value> {
    use BinaryOperator::*;
    if matches!(op, Eq | NotEq) && ((l.is_refined_not_null() && r.is_null()) || (r.is_refined_not_null() && l.is_null())) {
        let m = l.is_sensitive() || r.is_sensitive();
        return Ok(Value::Bool(op == NotEq).mark(m));
    }
    if matches!(op, Eq | NotEq) {
        // A known string that cannot start with an unknown string's known prefix differs.
        let differs = |a: &Value, b: &Value| match (a.known_prefix(), b.unmark().0) {
            (Some(p), Value::String(s)) => !s.starts_with(p),
            _ => false,
        };
        if differs(&l, &r) || differs(&r, &l) {
            let m = l.is_sensitive() || r.is_sensitive();
            return Ok(Value::Bool(op == NotEq).mark(m));
        }
    }
    let (l, lm) = l.into_unmarked();
    let (r, rm) = r.into_unmarked();
    let m = lm || rm;
    let res = match op {
        Eq | NotEq => match equals(&l, &r) {
            Some(b) => Value::Bool(if op == Eq { b } else { !b }),
            None => Value::not_null_unknown(Type::Bool),
        },
        And | Or => {
            let lb = to_bool(&l, span.clone(), "left")?;
            let rb = to_bool(&r, span.clone(), "right")?;
            match (op, lb, rb) {
                (And, Some(false), _) | (And, _, Some(false)) => Value::Bool(false),
                (Or, Some(true), _) | (Or, _, Some(true)) => Value::Bool(true),
                (_, Some(a), Some(b)) => Value::Bool(if op == And { a && b } else { a || b }),
                _ => Value::not_null_unknown(Type::Bool),
            }
        }
        _ => {
            let a = to_num(&l, span.clone(), "left")?;
            let b = to_num(&r, span.clone(), "right")?;
            let is_cmp = matches!(op, Less | LessEq | Greater | GreaterEq);
            match (a, b) {
                (Some(a), Some(b)) => match op {
                    Plus => Value::Number(crate::value::round15(a + b)),
                    Minus => Value::Number(crate::value::round15(a - b)),
                    Mul => Value::Number(crate::value::round15(a * b)),
                    Div => {
                        if b == 0.0 {
                            return Err(Diag::eval(span, "Error in operator: divide by zero"));
                        }
                        Value::Number(a / b)
                    }
                    Mod => {
                        if b == 0.0 {
                            return Err(Diag::eval(span, "Error in operator: divide by zero"));
                        }
                        Value::Number(a % b)
                    }
                    Less => Value::Bool(a < b),
                    LessEq => Value::Bool(a <= b),
                    Greater => Value::Bool(a > b),
                    GreaterEq => Value::Bool(a >= b),
                    _ => unreachable_op(span.clone())?,
                },
                _ => Value::not_null_unknown(if is_cmp { Type::Bool } else { Type::Number }),
            }
        }
    };
    if let Value::Number(n) = &res {
        if !n.is_finite() {
            return Err(Diag::eval(span, "Error in operator: the result is not a finite number"));
        }
    }
    Ok(res.mark(m))
}

fn unreachable_op(span: Option<Range<usize>>) -> DResult<Value> {
    Err(Diag::new(ErrorKind::Unsupported, span, "Unsupported operator"))
}

/// An arithmetic operand; errors name its side as HCL does ("left operand", "right operand").
fn to_num(v: &Value, span: Option<Range<usize>>, side: &str) -> DResult<Option<f64>> {
    match v {
        Value::Unknown(_) => Ok(None),
        Value::Null(_) => Err(Diag::eval(span, "Operation failed: Error during operation: argument must not be null")),
        other => match convert(other, &Constraint::Number) {
            Ok(Value::Number(n)) => Ok(Some(n)),
            _ => Err(Diag::eval(span, format!("Invalid operand: Unsuitable value for {side} operand: a number is required"))),
        },
    }
}

fn to_bool(v: &Value, span: Option<Range<usize>>, side: &str) -> DResult<Option<bool>> {
    match v {
        Value::Unknown(_) => Ok(None),
        Value::Null(_) => Err(Diag::eval(span, format!("Invalid operand: Unsuitable value for {side} operand: argument must not be null"))),
        other => match convert(other, &Constraint::Bool) {
            Ok(Value::Bool(b)) => Ok(Some(b)),
            _ => Err(Diag::eval(span, format!("Invalid operand: Unsuitable value for {side} operand: bool required"))),
        },
    }
}

/// Make a set value from elements (used by toset and for_each).
pub(crate) fn make_set(vs: Vec<Value>) -> Result<Value, String> {
    let (t, out) = crate::types::unify_values(&vs).ok_or("all set elements must have the same type")?;
    Ok(crate::value::set_value(t, out))
}
