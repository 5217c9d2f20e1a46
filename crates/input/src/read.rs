//! Reading input files: one place for "missing", "not UTF-8" and "too large".
use std::io::Read;
use std::path::Path;

use crate::limits::{bytes, MAX_CONFIG_BYTES, MAX_NESTING};
use crate::InputError;

/// 1-based line and column (in characters) of byte `offset` of `bytes`, where the bytes
/// before `offset` are valid UTF-8 (as they are before the first invalid byte).
pub fn location(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

/// Text of `bytes` read from `file`; invalid UTF-8 is an error naming `file:line:col` of the
/// first invalid byte and the byte itself.
pub fn decode_utf8(bytes: Vec<u8>, file: &str) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let (line, col) = location(&bytes, at);
        InputError::new(format!("{file}:{line}:{col}: invalid UTF-8 (byte 0x{:02x}); the file must be UTF-8 text", bytes[at]))
    })
}

/// The bytes of `path`, at most `limit` of them: a larger file is refused naming the limit,
/// without reading past it (a device or a growing file is bounded too).
pub fn read_bytes(path: &Path, limit: u64, limit_name: &str) -> Result<Vec<u8>, InputError> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let over = |size: u64| {
        InputError::new(format!(
            "{}: {size} bytes is over the limit of {} ({limit_name}); see README, Limits",
            path.display(),
            bytes(limit)
        ))
    };
    if let Ok(meta) = file.metadata() {
        use std::os::unix::fs::FileTypeExt;
        let ft = meta.file_type();
        if meta.is_dir() {
            return Err(InputError::new(format!("{}: is a directory, not a file", path.display())));
        }
        if !ft.is_file() && !ft.is_fifo() {
            return Err(InputError::new(format!("{}: is not a regular file", path.display())));
        }
        if meta.len() > limit {
            return Err(over(meta.len()));
        }
    }
    let mut out = Vec::new();
    file.take(limit + 1).read_to_end(&mut out).map_err(|e| io_error(path, &e))?;
    if out.len() as u64 > limit {
        return Err(over(out.len() as u64));
    }
    Ok(out)
}

fn io_error(path: &Path, e: &std::io::Error) -> InputError {
    if e.kind() == std::io::ErrorKind::NotFound {
        InputError { message: format!("missing {}", path.display()), missing: true }
    } else {
        InputError::new(format!("cannot read {}: {e}", path.display()))
    }
}

/// The UTF-8 text of a configuration file of at most `MAX_CONFIG_BYTES`, its brackets nested
/// at most `MAX_NESTING` deep (so that no parser recurses without bound on it).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let text = read_text_limited(path, MAX_CONFIG_BYTES, "MAX_CONFIG_BYTES")?;
    if let Some(at) = too_deep(text.as_bytes(), MAX_NESTING) {
        let (line, col) = location(text.as_bytes(), at);
        return Err(InputError::new(format!(
            "{}:{line}:{col}: brackets nested deeper than {MAX_NESTING} levels (MAX_NESTING); see README, Limits",
            path.display()
        )));
    }
    Ok(text)
}

/// The offset of the first bracket (`(`, `[`, `{`) opened deeper than `max`, counting every
/// bracket (quoted ones too: an over-estimate no real configuration comes near).
pub fn too_deep(bytes: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The UTF-8 text of a file of at most `limit` bytes.
pub fn read_text_limited(path: &Path, limit: u64, limit_name: &str) -> Result<String, InputError> {
    decode_utf8(read_bytes(path, limit, limit_name)?, &path.display().to_string())
}

/// A required control input: missing is an error saying what the file is for
/// (`missing governance/policy.toml: the policy settings ...`).
pub fn read_required(path: &Path, what: &str) -> Result<String, InputError> {
    read_text(path).map_err(|e| {
        if e.missing {
            InputError { message: format!("missing {}: {what}", path.display()), missing: true }
        } else {
            e
        }
    })
}

/// An optional input: `None` when the file does not exist (the caller states what absence
/// means); every other problem is an error.
pub fn read_optional(path: &Path) -> Result<Option<String>, InputError> {
    match read_text(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.missing => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_line_and_column_of_the_first_bad_byte() {
        let e = decode_utf8(b"a = 1\nbb = \"\xc3\xa9\xff\"\n".to_vec(), "f.toml").unwrap_err();
        assert_eq!(e.message, "f.toml:2:8: invalid UTF-8 (byte 0xff); the file must be UTF-8 text");
        let e = decode_utf8(b"\xfe".to_vec(), "g").unwrap_err();
        assert!(e.message.starts_with("g:1:1: "), "{}", e.message);
        assert_eq!(decode_utf8("é\n".as_bytes().to_vec(), "h").unwrap(), "é\n");
    }

    #[test]
    fn missing_required_and_optional_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        let e = read_required(&p, "what it is for").unwrap_err();
        assert!(e.missing);
        assert_eq!(e.message, format!("missing {}: what it is for", p.display()));
        assert_eq!(read_optional(&p).unwrap(), None);
        std::fs::write(&p, b"ok").unwrap();
        assert_eq!(read_optional(&p).unwrap().as_deref(), Some("ok"));
        let e = read_text(dir.path()).unwrap_err();
        assert!(e.message.contains("is a directory"), "{}", e.message);
    }

    #[test]
    fn a_file_over_the_limit_is_refused_naming_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'a'; 2048]).unwrap();
        let e = read_text_limited(&p, 1024, "TEST_LIMIT").unwrap_err();
        assert!(e.message.contains("over the limit of 1024 bytes (TEST_LIMIT)"), "{}", e.message);
        assert_eq!(read_text_limited(&p, 2048, "TEST_LIMIT").unwrap().len(), 2048);
    }

    #[test]
    fn a_device_is_refused_unread() {
        let e = read_text_limited(Path::new("/dev/zero"), 4096, "TEST_LIMIT").unwrap_err();
        assert!(e.message.contains("is not a regular file"), "{}", e.message);
    }

    #[test]
    fn deep_brackets_are_refused_at_the_first_bracket_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deep.tf");
        std::fs::write(&p, format!("x = {}1{}\n", "[".repeat(MAX_NESTING + 5), "]".repeat(MAX_NESTING + 5))).unwrap();
        let e = read_text(&p).unwrap_err();
        assert!(e.message.ends_with(&format!("deep.tf:1:{}: brackets nested deeper than {MAX_NESTING} levels (MAX_NESTING); see README, Limits", MAX_NESTING + 5)), "{}", e.message);
        std::fs::write(&p, format!("x = {}1{}\n", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING))).unwrap();
        assert!(read_text(&p).is_ok());
    }
}
