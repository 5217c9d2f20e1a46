//! Errors with a place: file, line and column.
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file could not be read.
    Io,
    /// Malformed HCL or tfvars.
    Parse,
    /// An expression could not be evaluated.
    Eval,
    /// A construct this renderer does not implement.
    Unsupported,
    /// A variable value is missing, of the wrong type or fails validation.
    Variable,
    /// A precondition, postcondition or check failed.
    Condition,
    /// A dependency cycle.
    Cycle,
    /// Structural error in the configuration (duplicates, bad blocks, missing modules).
    Config,
}

#[derive(Clone, Debug)]
pub struct RenderError {
    pub file: Option<PathBuf>,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub kind: ErrorKind,
    /// What the error is about when the message (Terraform's own wording) does not say it,
    /// e.g. `var.region` for a failed validation; shown after the message.
    pub subject: Option<String>,
    /// The render's further errors, in the order found: Terraform reports every failure,
    /// not only the first. Empty on the further errors themselves.
    pub more: Vec<RenderError>,
}

impl RenderError {
    /// This error and the further ones.
    pub fn all(&self) -> impl Iterator<Item = &RenderError> {
        std::iter::once(self).chain(self.more.iter())
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}:{}:{}: {}", p.display(), self.line, self.column, self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(s) = &self.subject {
            write!(f, " [{s}]")?;
        }
        for m in &self.more {
            write!(f, "\n{m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RenderError {}

/// An error inside the evaluator: a byte span in one of the loaded files.
#[derive(Clone, Debug)]
pub(crate) struct Diag {
    pub file: Option<usize>,
    pub span: Option<Range<usize>>,
    pub message: String,
    pub kind: ErrorKind,
    pub subject: Option<String>,
}

pub(crate) type DResult<T> = Result<T, Diag>;

/// A place in a loaded file: file index and byte span.
pub(crate) type Place = (usize, Option<Range<usize>>);

impl Diag {
    pub fn new(kind: ErrorKind, span: Option<Range<usize>>, message: impl Into<String>) -> Diag {
        Diag { file: None, span, message: message.into(), kind, subject: None }
    }

    pub fn eval(span: Option<Range<usize>>, message: impl Into<String>) -> Diag {
        Diag::new(ErrorKind::Eval, span, message)
    }

    pub fn about(mut self, subject: impl Into<String>) -> Diag {
        self.subject = Some(subject.into());
        self
    }

    pub fn in_file(mut self, file: usize) -> Diag {
        if self.file.is_none() {
            self.file = Some(file);
        }
        self
    }
}

/// The loaded source files, for turning byte offsets into lines and columns.
#[derive(Default, Debug, Clone)]
pub(crate) struct Sources {
    pub files: Vec<(PathBuf, String)>,
}

impl Sources {
    pub fn add(&mut self, path: PathBuf, text: String) -> usize {
        self.files.push((path, text));
        self.files.len() - 1
    }

    pub fn line_col(&self, file: usize, offset: usize) -> (usize, usize) {
        let Some((_, text)) = self.files.get(file) else { return (0, 0) };
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|s| s.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }

    pub fn path(&self, file: usize) -> Option<PathBuf> {
        self.files.get(file).map(|(p, _)| p.clone())
    }

    pub fn to_error(&self, d: Diag) -> RenderError {
        match d.file {
            Some(f) => {
                let (line, column) = d.span.as_ref().map(|s| self.line_col(f, s.start)).unwrap_or((1, 1));
                RenderError { file: self.path(f), line, column, message: d.message, kind: d.kind, subject: d.subject, more: Vec::new() }
            }
            None => RenderError { file: None, line: 0, column: 0, message: d.message, kind: d.kind, subject: d.subject, more: Vec::new() },
        }
    }

    /// "file:line,col-col" as Terraform prints a range.
    /// One error for several diagnostics (at least one): the first, the others in `more`.
    pub fn to_errors(&self, mut diags: Vec<Diag>) -> RenderError {
        if diags.is_empty() {
            return RenderError { file: None, line: 0, column: 0, message: "render failed without a diagnostic".into(), kind: ErrorKind::Config, subject: None, more: Vec::new() };
        }
        let first = diags.remove(0);
        let mut e = self.to_error(first);
        e.more = diags.into_iter().map(|d| self.to_error(d)).collect();
        e
    }

    pub fn range_str(&self, file: usize, span: &Range<usize>) -> String {
        let (l, c) = self.line_col(file, span.start);
        let (l2, c2) = self.line_col(file, span.end);
        // Terraform names files relative to the root module directory (`child/main.tf`); the
        // first loaded file is one of the root module's.
        let root = self.files.first().and_then(|(p, _)| p.parent().map(|d| d.to_path_buf()));
        let name = self
            .path(file)
            .and_then(|p| {
                let rel = root.as_ref().and_then(|r| p.strip_prefix(r).ok().map(|x| x.to_string_lossy().replace('\\', "/")));
                rel.or_else(|| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            })
            .unwrap_or_default();
        if l == l2 {
            format!("{name}:{l},{c}-{c2}")
        } else {
            format!("{name}:{l},{c}-{l2},{c2}")
        }
    }
}
