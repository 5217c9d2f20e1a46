//! Findings of the gate: something wrong with the repository that a person must fix.

use std::fmt;
use std::path::PathBuf;

/// One finding: where, what, and the command or edit that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            _ => {}
        }
        write!(f, "[{}] {}", self.check, self.message)
    }
}

/// The findings of one or more checks.
#[derive(Debug, Default)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    pub fn push(&mut self, check: &'static str, file: Option<PathBuf>, line: Option<usize>, message: impl Into<String>) {
        self.0.push(Finding { check, file, line, message: message.into() });
    }
    pub fn extend(&mut self, other: Findings) {
        self.0.extend(other.0);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter()
    }
    /// Whether any finding's message contains `needle` (used by tests and callers alike).
    pub fn mentions(&self, needle: &str) -> bool {
        self.0.iter().any(|f| f.to_string().contains(needle))
    }
}

/// The one-based line of the first occurrence of `needle` in `text` (where a finding about a
/// named entry points), `None` when it does not occur.
pub fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|at| crate::hcl::line_of(text, at))
}
