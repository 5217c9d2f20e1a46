//! Where a JSON path (as `input::check_shape` names it: `resource_changes[1].change.after`,
//! `configuration.provider_config.aws.east`) is in the text of a document: its line and column,
//! so a malformed plan is refused naming the file, the line and the path. A missing key is
//! placed at the object that lacks it.
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// The 1-based line and column of the value at `path` (or of the nearest enclosing value that
/// exists) in `text`, the JSON `value` was parsed from.
pub fn line_col(text: &str, value: &Value, path: &str) -> Option<(usize, usize)> {
    let segs = resolve_longest(value, path);
    let offset = offset_of(text.as_bytes(), &segs)?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, col))
}

/// The segments of the longest prefix of `path` that names a value in `value`. Keys may hold
/// dots (provider aliases, variable names are free text in a malformed document), so each key
/// is matched against the keys the object really has.
fn resolve_longest(value: &Value, path: &str) -> Vec<Seg> {
    let mut best = Vec::new();
    walk(value, path, &mut Vec::new(), &mut best);
    best
}

fn walk(value: &Value, rest: &str, here: &mut Vec<Seg>, best: &mut Vec<Seg>) -> bool {
    if here.len() >= best.len() {
        *best = here.clone();
    }
    if rest.is_empty() {
        return true;
    }
    match value {
        Value::Array(items) => {
            let Some(inner) = rest.strip_prefix('[') else { return false };
            let Some(close) = inner.find(']') else { return false };
            let Ok(i) = inner[..close].parse::<usize>() else { return false };
            let Some(item) = items.get(i) else { return false };
            here.push(Seg::Index(i));
            let found = walk(item, inner[close + 1..].trim_start_matches('.'), here, best);
            here.pop();
            found
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| rest.starts_with(k.as_str())).collect();
            // The longest key first: `aws.east` before `aws`.
            keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
            for k in keys {
                let after = &rest[k.len()..];
                if !(after.is_empty() || after.starts_with('.') || after.starts_with('[')) {
                    continue;
                }
                here.push(Seg::Key(k.clone()));
                let found = walk(&map[k], after.strip_prefix('.').unwrap_or(after), here, best);
                here.pop();
                if found {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// The byte offset of the value at `segs` in JSON text (already known to parse).
fn offset_of(text: &[u8], segs: &[Seg]) -> Option<usize> {
    let mut at = skip_ws(text, 0);
    for seg in segs {
        match (text.get(at)?, seg) {
            (b'{', Seg::Key(want)) => {
                at = skip_ws(text, at + 1);
                loop {
                    let key_end = string_end(text, at)?;
                    let key: String = serde_json::from_slice(&text[at..key_end]).ok()?;
                    at = skip_ws(text, key_end);
                    at = skip_ws(text, at + 1); // ':'
                    if &key == want {
                        break;
                    }
                    at = skip_ws(text, value_end(text, at)?);
                    if text.get(at)? != &b',' {
                        return None;
                    }
                    at = skip_ws(text, at + 1);
                }
            }
            (b'[', Seg::Index(want)) => {
                at = skip_ws(text, at + 1);
                for _ in 0..*want {
                    at = skip_ws(text, value_end(text, at)?);
                    if text.get(at)? != &b',' {
                        return None;
                    }
                    at = skip_ws(text, at + 1);
                }
            }
            _ => return None,
        }
    }
    Some(at)
}

fn skip_ws(text: &[u8], mut at: usize) -> usize {
    while text.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The offset just past the string starting at `at` (its opening quote).
fn string_end(text: &[u8], at: usize) -> Option<usize> {
    if text.get(at)? != &b'"' {
        return None;
    }
    let mut i = at + 1;
    loop {
        match text.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The offset just past the value starting at `at`.
fn value_end(text: &[u8], at: usize) -> Option<usize> {
    match text.get(at)? {
        b'"' => string_end(text, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match text.get(i)? {
                    b'"' => {
                        i = string_end(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while text.get(i).is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()) {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &str) -> Option<(usize, usize)> {
        line_col(text, &serde_json::from_str(text).unwrap(), path)
    }

    #[test]
    fn paths_are_placed_on_their_line_and_column() {
        let text = "{\n  \"a\": 1,\n  \"resource_changes\": [\n    {\"x\": \"[1]\"},\n    {\"change\": \"create\"}\n  ],\n  \"p\": {\"aws.east\": {\"e\": []}}\n}";
        assert_eq!(at(text, "resource_changes[1].change"), Some((5, 16)));
        assert_eq!(at(text, "resource_changes[0]"), Some((4, 5)));
        assert_eq!(at(text, "a"), Some((2, 8)));
        assert_eq!(at(text, "p.aws.east.e"), Some((7, 27)));
        // A missing key: the object that lacks it.
        assert_eq!(at(text, "resource_changes[1].change.actions"), Some((5, 16)));
        assert_eq!(at(text, "resource_changes[0].change"), Some((4, 5)));
        assert_eq!(at(text, "nothing"), Some((1, 1)));
    }

    #[test]
    fn escaped_keys_and_strings_with_brackets_are_skipped_whole() {
        let text = r#"{"k\"ey": "}]", "b": [ "]", {"c": "x"} ]}"#;
        assert_eq!(at(text, "b[1].c"), Some((1, 35)));
        assert_eq!(at(text, "k\"ey"), Some((1, 11)));
    }
}
