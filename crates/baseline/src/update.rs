//! `cargo xtask baseline update` in process: every subject rendered from one parse of each
//! configuration, on every core, and its snapshot file written in the very form insta writes
//! (so `cargo test -p lz-baseline --test baselines` and `cargo insta review` accept it as is).
//! A snapshot whose contents already match is left untouched.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::diff::diff;
use crate::snapshot::{approved_text, rel, snapshot_contents, subjects, Subject};
use crate::view::{view, PlanView};

/// The test that owns the snapshots (insta's `source:` line).
pub const SNAPSHOT_SOURCE: &str = "crates/baseline/tests/baselines.rs";

/// What updating did to one subject's snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    /// The snapshot did not exist.
    Created,
    /// The snapshot changed: a one-line summary of the plan difference (or of the header).
    Updated(String),
}

/// One subject's result.
#[derive(Clone, Debug)]
pub struct Updated {
    pub subject: Subject,
    /// The snapshot file, relative to the repository root.
    pub file: PathBuf,
    pub outcome: Outcome,
}

/// The text of the snapshot file insta writes for a subject's baseline text: the metadata
/// block (`source`, `description`: the first two header lines) then the contents, trailing
/// whitespace trimmed.
pub fn snapshot_file_text(header: &[String], text: &str) -> String {
    let description = header.iter().take(2).cloned().collect::<Vec<_>>().join("; ");
    format!(
        "---\nsource: {SNAPSHOT_SOURCE}\ndescription: {}\n---\n{}\n",
        yaml_string(&description),
        text.trim_end().replace("\r\n", "\n")
    )
}

/// A YAML scalar as insta's emitter writes it: plain when it can be, otherwise double-quoted
/// with JSON's escapes (which are insta's).
fn yaml_string(s: &str) -> String {
    let special_start = s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@', '.', ' ']) || s.starts_with("0x");
    let special_char = s.contains(|c: char| {
        matches!(c, ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\') || (c.is_ascii_control() && c != '\x7f' && c != '\x1b' && c != '\x07' && c != '\x08' && c != '\x0b' && c != '\x0c')
    });
    let keyword = [
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false", "on", "On", "ON", "off", "Off", "OFF", "null",
        "Null", "NULL", "~",
    ]
    .contains(&s);
    let number = s.parse::<i64>().is_ok() || s.parse::<f64>().is_ok();
    if s.is_empty() || s.ends_with(' ') || special_start || special_char || keyword || number {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}

/// Renders every subject (environments and module examples) and rewrites the snapshots that
/// differ. `progress` is called once per finished subject (from the rendering threads).
/// Subjects come back in [`subjects`] order; a subject that does not render is an error
/// naming it, and no snapshot is written for any subject then.
pub fn update(root: &Path, progress: &(dyn Fn(&Subject) + Sync)) -> Result<Vec<Updated>> {
    let subjects = subjects(root)?;
    let cache = tfrender::RenderCache::new();
    let render = |s: &Subject| -> Result<(String, String)> {
        let plan = match s {
            Subject::Environment(env) => crate::snapshot::render_env_cached(&cache, root, env)?,
            Subject::ModuleExample(m) => {
                let dir = root.join("modules").join(m).join("examples/basic");
                cache
                    .render_dir(&dir, &lz_schema::render_options(root, Vec::new())?)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("rendering module example {m}"))?
            }
        };
        let header = s.header(root)?;
        let text = view(&tfrender::normalize(&plan)).to_text(&header);
        progress(s);
        Ok((snapshot_file_text(&header, &text), text))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, subjects.len().max(1));
    let chunk = subjects.len().div_ceil(threads).max(1);
    let rendered: Vec<Result<(String, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = subjects.chunks(chunk).map(|part| scope.spawn(|| part.iter().map(render).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|_| vec![Err(anyhow::anyhow!("a rendering thread panicked"))])).collect()
    });
    let mut texts = Vec::with_capacity(subjects.len());
    for (s, r) in subjects.iter().zip(rendered) {
        texts.push(r.with_context(|| format!("{s} does not render; no baseline was written"))?);
    }
    let mut out = Vec::with_capacity(subjects.len());
    for (s, (file_text, text)) in subjects.into_iter().zip(texts) {
        let path = s.snapshot_file(root);
        let file = rel(root, &path);
        let outcome = match approved_text(root, &s)? {
            Some(old) if old == snapshot_contents(&file_text) => Outcome::Unchanged,
            Some(old) => Outcome::Updated(change_summary(&old, &text, &file)),
            None => Outcome::Created,
        };
        if outcome != Outcome::Unchanged {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, &file_text).with_context(|| format!("writing {}", path.display()))?;
        }
        out.push(Updated { subject: s, file, outcome });
    }
    Ok(out)
}

/// What changed between the approved text and the new one, in one line.
fn change_summary(old: &str, new: &str, file: &Path) -> String {
    let parsed = PlanView::parse(old, &file.display().to_string()).and_then(|o| Ok((o, PlanView::parse(new, "working tree")?)));
    match parsed {
        Ok((o, n)) => {
            let d = diff(&o, &n);
            if d.is_empty() {
                let header = |t: &str| t.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("; ");
                format!("header changed: {}", header(new))
            } else {
                crate::snapshot::summarize(&d)
            }
        }
        Err(_) => "the approved baseline could not be read; rewritten".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_strings_are_quoted_as_insta_quotes_them() {
        assert_eq!(yaml_string("plain words"), "plain words");
        assert_eq!(yaml_string("a: b"), "\"a: b\"");
        assert_eq!(yaml_string("say \"hi\", then \\"), "\"say \\\"hi\\\", then \\\\\"");
        assert_eq!(yaml_string("true"), "\"true\"");
        assert_eq!(yaml_string("12"), "\"12\"");
        assert_eq!(yaml_string(""), "\"\"");
        assert_eq!(yaml_string("-x"), "\"-x\"");
    }
}
