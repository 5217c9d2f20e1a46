//! Fixture discovery and `fixture.toml`.
//!
//! `fixture.toml` is read with a small parser for the subset the fixtures use, so the test
//! needs no TOML dependency:
//!
//! ```toml
//! expect = "error"                  # or "ok" (the default)
//! var_files = ["vars/extra.tfvars"] # relative to the fixture; passed in this order
//!
//! [vars]                            # passed after the var files, in this order
//! name = "raw -var value"
//! ```
//!
//! Accepted: full-line `#` comments, bare or double-quoted keys, basic strings (escapes `\"`,
//! `\\`, `\n`, `\t`, `\r`, `\uXXXX`), literal strings, single-line arrays of strings and the
//! `[vars]` table. Anything else is an error naming the file and line.

use std::fs;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Ok,
    Error,
}

#[derive(Clone, Debug)]
pub struct Fixture {
    pub name: String,
    pub dir: PathBuf,
    pub expect: Expect,
    /// Relative to `dir`.
    pub var_files: Vec<String>,
    pub vars: Vec<(String, String)>,
}

/// Directories under the fixture root that group fixtures (each directory in them with a `.tf`
/// file is a fixture named `group/dir`) instead of being one.
pub const GROUPS: [&str; 1] = ["public"];

/// Every directory directly under `root` (or under one of its [`GROUPS`]) that holds at least
/// one `.tf` file, sorted by name.
pub fn discover(root: &Path) -> Result<Vec<Fixture>, String> {
    let mut fixtures = discover_in(root, "")?;
    for group in GROUPS {
        let dir = root.join(group);
        if !dir.is_dir() {
            return Err(format!("{}: fixture group missing", dir.display()));
        }
        let found = discover_in(&dir, &format!("{group}/"))?;
        if found.is_empty() {
            return Err(format!("{}: fixture group without fixtures", dir.display()));
        }
        fixtures.extend(found);
    }
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(fixtures)
}

fn discover_in(root: &Path, prefix: &str) -> Result<Vec<Fixture>, String> {
    let entries = fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut fixtures = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", root.display()))?;
        let dir = entry.path();
        if !dir.is_dir() || !has_tf_file(&dir)? {
            continue;
        }
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let spec_path = dir.join("fixture.toml");
        let spec = if spec_path.exists() {
            let text = fs::read_to_string(&spec_path)
                .map_err(|e| format!("{}: {e}", spec_path.display()))?;
            parse_spec(&text).map_err(|e| format!("{}:{e}", spec_path.display()))?
        } else {
            Spec::default()
        };
        for file in &spec.var_files {
            if !dir.join(file).is_file() {
                return Err(format!(
                    "{}: var file {file} does not exist",
                    spec_path.display()
                ));
            }
        }
        fixtures.push(Fixture {
            name,
            dir,
            expect: spec.expect,
            var_files: spec.var_files,
            vars: spec.vars,
        });
    }
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(fixtures)
}

fn has_tf_file(dir: &Path) -> Result<bool, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "tf") {
            return Ok(true);
        }
    }
    Ok(false)
}

#[derive(Debug)]
pub struct Spec {
    pub expect: Expect,
    pub var_files: Vec<String>,
    pub vars: Vec<(String, String)>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            expect: Expect::Ok,
            var_files: Vec::new(),
            vars: Vec::new(),
        }
    }
}

enum TomlValue {
    Str(String),
    Array(Vec<String>),
}

/// Errors are `line: message`.
pub fn parse_spec(text: &str) -> Result<Spec, String> {
    let mut spec = Spec::default();
    let mut in_vars = false;
    let mut seen_top: Vec<String> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |message: String| format!("{line_no}: {message}");
        if line.starts_with('[') {
            if line != "[vars]" {
                return Err(fail(format!(
                    "unsupported table {line}, only [vars] is allowed"
                )));
            }
            if in_vars {
                return Err(fail("duplicate table [vars]".into()));
            }
            in_vars = true;
            continue;
        }
        let (key, rest) = parse_key(line).map_err(fail)?;
        let rest = rest.trim_start();
        let rest = rest
            .strip_prefix('=')
            .ok_or_else(|| fail(format!("expected = after key {key}")))?;
        let (value, rest) = parse_value(rest.trim_start()).map_err(fail)?;
        let rest = rest.trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            return Err(fail(format!(
                "unexpected text after the value of {key}: {rest}"
            )));
        }
        if in_vars {
            if spec.vars.iter().any(|(k, _)| *k == key) {
                return Err(fail(format!("duplicate variable {key}")));
            }
            match value {
                TomlValue::Str(s) => spec.vars.push((key, s)),
                TomlValue::Array(_) => {
                    return Err(fail(format!(
                        "variable {key} must be a string (the raw -var text)"
                    )))
                }
            }
            continue;
        }
        if seen_top.contains(&key) {
            return Err(fail(format!("duplicate key {key}")));
        }
        seen_top.push(key.clone());
        match (key.as_str(), value) {
            ("expect", TomlValue::Str(s)) => {
                spec.expect = match s.as_str() {
                    "ok" => Expect::Ok,
                    "error" => Expect::Error,
                    other => {
                        return Err(fail(format!(
                            "expect must be \"ok\" or \"error\", not {other:?}"
                        )))
                    }
                }
            }
            ("var_files", TomlValue::Array(files)) => spec.var_files = files,
            ("expect", _) => return Err(fail("expect must be a string".into())),
            ("var_files", _) => return Err(fail("var_files must be an array of strings".into())),
            (other, _) => return Err(fail(format!("unknown key {other}"))),
        }
    }
    Ok(spec)
}

fn parse_key(line: &str) -> Result<(String, &str), String> {
    if line.starts_with('"') {
        let (key, rest) = parse_basic_string(line)?;
        return Ok((key, rest));
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(line.len());
    if end == 0 {
        return Err(format!("expected a key, found {line}"));
    }
    Ok((line[..end].to_string(), &line[end..]))
}

fn parse_value(text: &str) -> Result<(TomlValue, &str), String> {
    if text.starts_with('"') || text.starts_with('\'') {
        let (s, rest) = parse_string(text)?;
        return Ok((TomlValue::Str(s), rest));
    }
    let Some(mut rest) = text.strip_prefix('[') else {
        return Err(format!(
            "expected a string or an array of strings, found {text}"
        ));
    };
    let mut items = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((TomlValue::Array(items), after));
        }
        let (item, after) = parse_string(rest)?;
        items.push(item);
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with(']') {
            return Err("expected , or ] in array (arrays must fit on one line)".into());
        }
    }
}

fn parse_string(text: &str) -> Result<(String, &str), String> {
    if let Some(body) = text.strip_prefix('\'') {
        let end = body.find('\'').ok_or("unterminated literal string")?;
        return Ok((body[..end].to_string(), &body[end + 1..]));
    }
    if text.starts_with('"') {
        return parse_basic_string(text);
    }
    Err(format!("expected a string, found {text}"))
}

fn parse_basic_string(text: &str) -> Result<(String, &str), String> {
    let body = &text[1..];
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => {
                let (_, esc) = chars.next().ok_or("unterminated escape")?;
                match esc {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).map(|(_, h)| h).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| format!("bad \\u escape {hex}"))?;
                        out.push(
                            char::from_u32(code).ok_or_else(|| format!("bad \\u escape {hex}"))?,
                        );
                    }
                    other => return Err(format!("unsupported escape \\{other}")),
                }
            }
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}
