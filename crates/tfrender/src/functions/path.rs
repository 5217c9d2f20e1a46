//! Path and file functions: abspath, basename, dirname, pathexpand, filebase64, the file
//! hashes and fileset. Relative paths resolve from the root module directory, where
//! Terraform runs.
use std::path::{Path, PathBuf};

use base64::Engine;

use super::{as_str, Args, FResult};
use crate::value::{set_value, Type, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Go's `filepath.Clean` for slash-separated paths.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's `filepath.Base`.
fn go_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go's `filepath.Dir`.
fn go_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean(dir)
}

pub(super) fn basename(a: Args, _: &Path) -> FResult {
    Ok(Value::str(go_base(&as_str(&a[0], "path")?)))
}

pub(super) fn dirname(a: Args, _: &Path) -> FResult {
    Ok(Value::str(go_dir(&as_str(&a[0], "path")?)))
}

/// Terraform runs in the root module directory: `abspath` resolves relative paths from it.
pub(super) fn abspath(a: Args, dir: &Path) -> FResult {
    let p = as_str(&a[0], "path")?;
    if p.starts_with('/') {
        return Ok(Value::str(clean(&p)));
    }
    let base = std::fs::canonicalize(dir).map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    Ok(Value::str(clean(&format!("{}/{p}", base.to_string_lossy()))))
}

fn home() -> Result<String, String> {
    std::env::var("HOME").map_err(|_| "cannot expand ~: HOME is not set".to_string())
}

/// `~` or `~/...` becomes the home directory; `~user` is an error, as in Terraform.
fn expand(p: &str) -> Result<String, String> {
    if !p.starts_with('~') {
        return Ok(p.to_string());
    }
    if p.len() > 1 && !p[1..].starts_with('/') {
        return Err("cannot expand user-specific home dir".into());
    }
    Ok(format!("{}{}", home()?, &p[1..]))
}

pub(super) fn pathexpand(a: Args, _: &Path) -> FResult {
    Ok(Value::str(expand(&as_str(&a[0], "path")?)?))
}

/// The path as Terraform prints it in errors (cleaned, relative to the working directory) and
/// the file on disk.
fn resolve(p: &str, dir: &Path) -> Result<(String, PathBuf), String> {
    let p = expand(p)?;
    let shown = clean(&p);
    let full = if shown.starts_with('/') { PathBuf::from(&shown) } else { dir.join(&shown) };
    Ok((shown, full))
}

fn read_bytes(p: &str, dir: &Path) -> Result<Vec<u8>, String> {
    let (shown, full) = resolve(p, dir)?;
    match std::fs::metadata(&full) {
        Err(_) => Err(format!("Invalid function argument: Invalid value for \"path\" parameter: no file exists at {p:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource")),
        Ok(m) if m.is_dir() => Err(format!("Invalid function argument: Invalid value for \"path\" parameter: failed to read file: read {shown}: is a directory")),
        Ok(_) => std::fs::read(&full).map_err(|e| format!("Invalid function argument: Invalid value for \"path\" parameter: failed to read file: {e}")),
    }
}

pub(super) fn filebase64(a: Args, dir: &Path) -> FResult {
    let bytes = read_bytes(&as_str(&a[0], "path")?, dir)?;
    Ok(Value::str(B64.encode(bytes)))
}

/// The hash functions open the file themselves and report Go's `open`/`read` errors.
fn hash_file(p: &str, dir: &Path) -> Result<Vec<u8>, String> {
    let (shown, full) = resolve(p, dir)?;
    match std::fs::metadata(&full) {
        Err(_) => Err(format!("open {shown}: no such file or directory")),
        Ok(m) if m.is_dir() => Err(format!("read {shown}: is a directory")),
        Ok(_) => std::fs::read(&full).map_err(|e| format!("open {shown}: {e}")),
    }
}

fn digest(a: &Args, dir: &Path, hash: fn(&[u8]) -> Vec<u8>, b64: bool) -> FResult {
    let bytes = hash_file(&as_str(&a[0], "path")?, dir)?;
    let sum = hash(&bytes);
    Ok(Value::str(if b64 { B64.encode(sum) } else { hex::encode(sum) }))
}

fn md5_of(b: &[u8]) -> Vec<u8> {
    <md5::Md5 as md5::Digest>::digest(b).to_vec()
}
fn sha1_of(b: &[u8]) -> Vec<u8> {
    <sha1::Sha1 as sha1::Digest>::digest(b).to_vec()
}
fn sha256_of(b: &[u8]) -> Vec<u8> {
    <sha2::Sha256 as sha2::Digest>::digest(b).to_vec()
}
fn sha512_of(b: &[u8]) -> Vec<u8> {
    <sha2::Sha512 as sha2::Digest>::digest(b).to_vec()
}

pub(super) fn filemd5(a: Args, dir: &Path) -> FResult {
    digest(&a, dir, md5_of, false)
}
pub(super) fn filesha1(a: Args, dir: &Path) -> FResult {
    digest(&a, dir, sha1_of, false)
}
pub(super) fn filesha256(a: Args, dir: &Path) -> FResult {
    digest(&a, dir, sha256_of, false)
}
pub(super) fn filesha512(a: Args, dir: &Path) -> FResult {
    digest(&a, dir, sha512_of, false)
}
pub(super) fn filebase64sha256(a: Args, dir: &Path) -> FResult {
    digest(&a, dir, sha256_of, true)
}
pub(super) fn filebase64sha512(a: Args, dir: &Path) -> FResult {
    digest(&a, dir, sha512_of, true)
}

/// `fileset(path, pattern)`: regular files under `path` matching the doublestar `pattern`,
/// relative to `path`, as a set of strings.
pub(super) fn fileset(a: Args, dir: &Path) -> FResult {
    let base = as_str(&a[0], "path")?;
    let pattern = as_str(&a[1], "pattern")?;
    let joined = clean(&format!("{base}/{pattern}"));
    let base_clean = clean(&base);
    let syntax = || format!("failed to glob pattern {joined:?}: syntax error in pattern");
    let glob = globset::GlobBuilder::new(&joined)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|_| syntax())?
        .compile_matcher();
    if joined.split('/').any(|c| c == "..") && !base_clean.starts_with("..") {
        return Err(format!("fileset pattern {joined:?} leaves the base directory; this renderer does not resolve it"));
    }
    let root = if base_clean.starts_with('/') { PathBuf::from(&base_clean) } else { dir.join(&base_clean) };
    let mut out = Vec::new();
    if root.is_dir() {
        for entry in walkdir::WalkDir::new(&root).follow_links(true).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&root) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let candidate = if base_clean == "." { rel.clone() } else { format!("{base_clean}/{rel}") };
            if glob.is_match(&candidate) {
                out.push(Value::String(rel));
            }
        }
    }
    Ok(set_value(Type::String, out))
}
