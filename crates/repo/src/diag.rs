//! Diagnostics helpers: every error about a repository file names `file:line[:col]`.
use std::path::Path;

use anyhow::{anyhow, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A place in a source file, relative to the repository root: `file:line:col` and the line's
/// text. What a policy finding points at (`lz_policy::view::Source`) and where a plan resource
/// comes from (`lz_platform::source_map`) are this one type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The line's text, trimmed.
    pub snippet: String,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The one-based line of byte `offset` of `text` (offsets past the end count as the end).
pub fn line_of(text: &str, offset: usize) -> usize {
    lz_input::location(text.as_bytes(), offset).0
}

/// One-based line and column (in characters) of byte `offset` of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    lz_input::location(text.as_bytes(), offset)
}

/// A TOML error as `origin:line:col: message` (the message without its final period);
/// `origin: message` when the error has no position.
pub fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let message = e.message().trim_end_matches('.');
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            anyhow!("{origin}:{line}:{col}: {message}")
        }
        None => anyhow!("{origin}: {message}"),
    }
}

/// TOML text decoded into `T`; a malformed file is an error naming `origin:line:col`.
pub fn parse_toml<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| toml_error(origin, text, &e))
}

/// A TOML file decoded into `T` (read through `lz_input`: bounded, UTF-8 named by line); a
/// malformed file is an error naming `file:line:col`.
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = lz_input::read_text(path)?;
    parse_toml(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_of(text, 10_000), 3);
    }

    #[test]
    fn toml_errors_name_file_line_and_column() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: i64,
        }
        let e = parse_toml::<T>("\na = \"x\"\n", "f.toml").unwrap_err().to_string();
        assert!(e.starts_with("f.toml:2:5: "), "{e}");
        assert!(!e.ends_with('.'), "{e}");
        let e = parse_toml::<T>("a = [", "f.toml").unwrap_err().to_string();
        assert!(e.starts_with("f.toml:1:"), "{e}");
    }
}
