//! Reference resolution: every `var.`, `local.`, `module.`, `data.` and resource reference in a
//! module resolves to a declaration, and every `module.X.Y` to an output of the called module.
//! This catches what `terraform validate` would, without the AWS provider it needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use hcl_edit::expr::{Expression, ForExpr, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::visit::{self, Visit};
use hcl_edit::Span;

use crate::hcl::{self, HclFile};
use crate::Findings;

/// What a module declares.
#[derive(Default, Debug)]
pub struct Declarations {
    pub variables: BTreeSet<String>,
    pub locals: BTreeSet<String>,
    pub resources: BTreeSet<(String, String)>,
    pub data: BTreeSet<(String, String)>,
    pub modules: BTreeMap<String, Option<PathBuf>>,
    pub outputs: BTreeSet<String>,
}

pub fn declarations(dir: &Path, files: &[HclFile]) -> Declarations {
    let mut d = Declarations::default();
    for file in files {
        for s in file.body.iter() {
            let Structure::Block(b) = s else { continue };
            let l = hcl::labels(b);
            match (b.ident.as_str(), l.as_slice()) {
                ("variable", [n]) => {
                    d.variables.insert(n.clone());
                }
                ("output", [n]) => {
                    d.outputs.insert(n.clone());
                }
                ("locals", []) => {
                    for a in b.body.attributes() {
                        d.locals.insert(a.key.as_str().to_string());
                    }
                }
                ("resource", [t, n]) => {
                    d.resources.insert((t.clone(), n.clone()));
                }
                ("data", [t, n]) => {
                    d.data.insert((t.clone(), n.clone()));
                }
                ("module", [n]) => {
                    let source = b.body.get_attribute("source").and_then(|a| match &a.value {
                        Expression::String(s) => Some(s.as_str().to_string()),
                        _ => None,
                    });
                    let local = source.filter(|s| s.starts_with("./") || s.starts_with("../")).map(|s| dir.join(s));
                    d.modules.insert(n.clone(), local);
                }
                _ => {}
            }
        }
    }
    d
}

/// Check one module directory; recurse into local module calls is the caller's choice.
pub fn check_module(dir: &Path) -> Result<Findings> {
    let files = hcl::parse_module_dir(dir)?;
    let decl = declarations(dir, &files);
    let mut child_outputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, path) in &decl.modules {
        if let Some(path) = path {
            let child = hcl::parse_module_dir(path)?;
            child_outputs.insert(name.clone(), declarations(path, &child).outputs);
        }
    }
    let mut findings = Findings::default();
    for file in &files {
        let mut v = Resolver { file, decl: &decl, child_outputs: &child_outputs, scopes: Vec::new(), findings: &mut findings };
        v.visit_top(&file.body);
    }
    Ok(findings)
}

struct Resolver<'a> {
    file: &'a HclFile,
    decl: &'a Declarations,
    child_outputs: &'a BTreeMap<String, BTreeSet<String>>,
    scopes: Vec<BTreeSet<String>>,
    findings: &'a mut Findings,
}

const BUILTIN_ROOTS: &[&str] = &["each", "count", "self", "path", "terraform"];

impl Resolver<'_> {
    fn visit_top(&mut self, body: &Body) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => self.visit_attr(a),
                Structure::Block(b) => self.visit_top_block(b),
            }
        }
    }

    fn visit_top_block(&mut self, b: &Block) {
        match b.ident.as_str() {
            // Type constraints are not references; addresses in moved/import/removed may name
            // things that no longer exist.
            "variable" => {
                for s in b.body.iter() {
                    match s {
                        Structure::Attribute(a) if a.key.as_str() == "type" => {}
                        Structure::Attribute(a) => self.visit_attr(a),
                        Structure::Block(inner) => self.visit_block(inner),
                    }
                }
            }
            "moved" | "removed" | "terraform" | "import" => {}
            _ => self.visit_block(b),
        }
    }

    fn report(&mut self, node: &impl Span, what: String) {
        let line = self.file.line_of_span(node);
        self.findings.push("references", Some(self.file.path.clone()), Some(line), what);
    }

    fn in_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    fn check_traversal(&mut self, node: &Expression, root: &str, ops: &[String]) {
        if BUILTIN_ROOTS.contains(&root) || self.in_scope(root) {
            return;
        }
        let first = ops.first().map(String::as_str);
        let second = ops.get(1).map(String::as_str);
        let problem = match root {
            "var" => first.filter(|n| !self.decl.variables.contains(*n)).map(|n| format!("var.{n} is not declared")),
            "local" => first.filter(|n| !self.decl.locals.contains(*n)).map(|n| format!("local.{n} is not declared")),
            "module" => match first {
                Some(m) if !self.decl.modules.contains_key(m) => Some(format!("module.{m} is not declared")),
                Some(m) => match (self.child_outputs.get(m), second) {
                    (Some(outs), Some(o)) if !outs.contains(o) => {
                        Some(format!("module.{m}.{o}: the called module declares no output {o:?}"))
                    }
                    _ => None,
                },
                None => None,
            },
            "data" => match (first, second) {
                (Some(t), Some(n)) if !self.decl.data.contains(&(t.to_string(), n.to_string())) => {
                    Some(format!("data.{t}.{n} is not declared"))
                }
                _ => None,
            },
            other if other.contains('_') => match first {
                Some(n) if !self.decl.resources.contains(&(other.to_string(), n.to_string())) => {
                    Some(format!("{other}.{n} is not a declared resource"))
                }
                None => Some(format!("{other} is not a reference")),
                _ => None,
            },
            other => Some(format!("unknown reference {other:?}")),
        };
        if let Some(p) = problem {
            self.report(node, p);
        }
    }
}

impl Visit for Resolver<'_> {
    fn visit_attr(&mut self, node: &Attribute) {
        // Meta-arguments whose values are provider or attribute names, not references.
        if matches!(node.key.as_str(), "provider" | "providers" | "ignore_changes") {
            return;
        }
        visit::visit_attr(self, node);
    }

    fn visit_block(&mut self, node: &Block) {
        if node.ident.as_str() == "dynamic" {
            let label = hcl::labels(node).into_iter().next().unwrap_or_default();
            let iterator = match node.body.get_attribute("iterator").map(|a| &a.value) {
                Some(Expression::Variable(v)) => v.as_str().to_string(),
                _ => label,
            };
            for s in node.body.iter() {
                match s {
                    Structure::Attribute(a) if a.key.as_str() == "iterator" => {}
                    Structure::Attribute(a) => self.visit_attr(a),
                    Structure::Block(inner) => {
                        self.scopes.push(BTreeSet::from([iterator.clone()]));
                        self.visit_block(inner);
                        self.scopes.pop();
                    }
                }
            }
            return;
        }
        visit::visit_block(self, node);
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        self.visit_expr(&node.intro.collection_expr);
        let mut scope = BTreeSet::from([node.intro.value_var.as_str().to_string()]);
        if let Some(k) = &node.intro.key_var {
            scope.insert(k.as_str().to_string());
        }
        self.scopes.push(scope);
        if let Some(k) = &node.key_expr {
            self.visit_expr(k);
        }
        self.visit_expr(&node.value_expr);
        if let Some(c) = &node.cond {
            self.visit_expr(&c.expr);
        }
        self.scopes.pop();
    }

    fn visit_expr(&mut self, node: &Expression) {
        match node {
            Expression::Variable(v) => {
                let root = v.as_str().to_string();
                self.check_traversal(node, &root, &[]);
            }
            Expression::Traversal(t) => {
                if let Expression::Variable(v) = &t.expr {
                    let ops: Vec<String> = t
                        .operators
                        .iter()
                        .map_while(|op| match op.value() {
                            TraversalOperator::GetAttr(i) => Some(i.as_str().to_string()),
                            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => Some(String::new()),
                            _ => None,
                        })
                        .filter(|s| !s.is_empty())
                        .collect();
                    let root = v.as_str().to_string();
                    self.check_traversal(node, &root, &ops);
                    for op in &t.operators {
                        if let TraversalOperator::Index(e) = op.value() {
                            self.visit_expr(e);
                        }
                    }
                } else {
                    visit::visit_traversal(self, t);
                }
            }
            _ => visit::visit_expr(self, node),
        }
    }
}
