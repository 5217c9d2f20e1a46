//! Loading Terraform files with their source positions (hcl-edit keeps spans), so every
//! finding and error can name file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;

/// One parsed `.tf` or `.tfvars` file.
pub struct HclFile {
    pub path: PathBuf,
    pub text: String,
    pub body: Body,
}

impl HclFile {
    /// The one-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        line_of(&self.text, offset)
    }

    /// The line where a spanned node starts (1 when it has no span).
    pub fn line_of_span(&self, node: &impl Span) -> usize {
        node.span().map(|s| self.line_of(s.start)).unwrap_or(1)
    }
}

/// The one-based line of a byte offset in `text` (`lz_repo::line_of`).
pub use lz_repo::line_of;

/// Parse one HCL file; a syntax error names `file:line:col`.
pub fn parse_file(path: &Path) -> Result<HclFile> {
    parse_text(path, lz_input::read_text(path)?)
}

/// Parse HCL text that came from `path`.
pub fn parse_text(path: &Path, text: String) -> Result<HclFile> {
    let body = hcl_edit::parser::parse_body(&text).map_err(|err| {
        let loc = err.location();
        anyhow!("{}:{}:{}: malformed HCL: {}", path.display(), loc.line(), loc.column(), err.message())
    })?;
    Ok(HclFile { path: path.to_path_buf(), text, body })
}

/// Every `.tf` file directly in `dir`, sorted, parsed.
pub fn parse_module_dir(dir: &Path) -> Result<Vec<HclFile>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .collect();
    paths.sort();
    paths.iter().map(|p| parse_file(p)).collect()
}

/// Top-level blocks of a file with the given identifier.
pub fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.iter().filter_map(move |s| match s {
        Structure::Block(b) if b.ident.as_str() == ident => Some(b),
        _ => None,
    })
}

/// A block's labels as strings.
pub fn labels(block: &Block) -> Vec<String> {
    block.labels.iter().map(|l| l.as_str().to_string()).collect()
}

/// Attribute expression as written in the source (trimmed).
pub fn source_of(file: &HclFile, expr: &Expression) -> String {
    expr.span()
        .and_then(|s| file.text.get(s))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A variable declaration as the docs generator and the overlay checks need it.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub description: Option<String>,
    pub type_src: Option<String>,
    pub default_src: Option<String>,
    pub sensitive: bool,
    pub has_validation: bool,
    pub file: PathBuf,
    pub line: usize,
}

/// An output declaration.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub description: Option<String>,
    pub sensitive: bool,
    pub file: PathBuf,
    pub line: usize,
}

fn string_attr(body: &Body, key: &str) -> Option<String> {
    let attr = body.get_attribute(key)?;
    match &attr.value {
        Expression::String(s) => Some(s.as_str().to_string()),
        Expression::StringTemplate(t) => Some(t.to_string()),
        Expression::HeredocTemplate(h) => Some(h.template.to_string()),
        _ => None,
    }
}

fn bool_attr(body: &Body, key: &str) -> bool {
    matches!(body.get_attribute(key).map(|a| &a.value), Some(Expression::Bool(b)) if *b.value())
}

/// All variables and outputs declared in a module directory.
pub fn interface(files: &[HclFile]) -> (BTreeMap<String, Variable>, BTreeMap<String, Output>) {
    let mut vars = BTreeMap::new();
    let mut outs = BTreeMap::new();
    for file in files {
        for block in blocks(&file.body, "variable") {
            let Some(name) = labels(block).into_iter().next() else { continue };
            let b = &block.body;
            vars.insert(
                name.clone(),
                Variable {
                    name,
                    description: string_attr(b, "description"),
                    type_src: b.get_attribute("type").map(|a| source_of(file, &a.value)),
                    default_src: b.get_attribute("default").map(|a| source_of(file, &a.value)),
                    sensitive: bool_attr(b, "sensitive"),
                    has_validation: blocks(b, "validation").next().is_some(),
                    file: file.path.clone(),
                    line: file.line_of_span(block),
                },
            );
        }
        for block in blocks(&file.body, "output") {
            let Some(name) = labels(block).into_iter().next() else { continue };
            outs.insert(
                name.clone(),
                Output {
                    name,
                    description: string_attr(&block.body, "description"),
                    sensitive: bool_attr(&block.body, "sensitive"),
                    file: file.path.clone(),
                    line: file.line_of_span(block),
                },
            );
        }
    }
    (vars, outs)
}
