//! The parser entry's one adjustment to hcl-edit: newlines where HCL ignores them.
//!
//! HCL (and so Terraform) ignores newlines inside parentheses, brackets, template
//! interpolations and the braces of a `{ for ... }` expression: `{ for k in x : k => a ?\n b : c }`
//! is valid. hcl-edit 0.10 rejects a newline inside the key and value expressions and the
//! collection of an object `for` expression. [`relax_newlines`] rewrites exactly the
//! newlines HCL ignores (and comments in those places, which end at a newline) into spaces,
//! keeping every byte offset, so spans and line numbers still refer to the original file.
//! Newlines inside block bodies and object constructors, where they separate items, are kept.

#[derive(Debug, PartialEq)]
enum Frame {
    /// `{`: `true` for a `{ for ... }` expression, where newlines are ignored.
    Brace(bool),
    Paren,
    Bracket,
    /// `${` or `%{` inside a template.
    Interp,
    Quote,
    /// A heredoc body, closed by a line holding only the marker.
    Heredoc(Vec<u8>),
}

impl Frame {
    fn ignores_newlines(&self) -> bool {
        matches!(self, Frame::Brace(true) | Frame::Paren | Frame::Bracket | Frame::Interp)
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// After `{` at `i`: whether a `for` keyword follows (over whitespace and comments).
fn starts_for(t: &[u8], mut i: usize) -> bool {
    loop {
        match t.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'#') => {
                while t.get(i).is_some_and(|b| *b != b'\n') {
                    i += 1;
                }
            }
            Some(b'/') if t.get(i + 1) == Some(&b'/') => {
                while t.get(i).is_some_and(|b| *b != b'\n') {
                    i += 1;
                }
            }
            Some(b'/') if t.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < t.len() && !(t[i] == b'*' && t.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            _ => break,
        }
    }
    t.get(i..i + 3) == Some(b"for") && !t.get(i + 3).is_some_and(|b| is_ident(*b))
}

/// `<<EOT\n` or `<<-EOT\n` at `i`: the marker and the offset just after the newline.
fn heredoc_start(t: &[u8], i: usize) -> Option<(Vec<u8>, usize)> {
    let mut j = i + 2;
    if t.get(j) == Some(&b'-') {
        j += 1;
    }
    let start = j;
    if !t.get(j).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
        return None;
    }
    while t.get(j).is_some_and(|b| is_ident(*b)) {
        j += 1;
    }
    let marker = t[start..j].to_vec();
    if t.get(j) == Some(&b'\r') {
        j += 1;
    }
    (t.get(j) == Some(&b'\n')).then(|| (marker, j + 1))
}

/// The text with the newlines HCL ignores replaced by spaces; `None` when nothing changes.
pub(crate) fn relax_newlines(text: &str) -> Option<String> {
    let t = text.as_bytes();
    let mut out = t.to_vec();
    let mut changed = false;
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let c = t[i];
        match stack.last() {
            Some(Frame::Quote) => {
                match c {
                    b'\\' => i += 1,
                    b'"' => {
                        stack.pop();
                    }
                    b'$' | b'%' if t.get(i + 1) == Some(&c) && t.get(i + 2) == Some(&b'{') => i += 2,
                    b'$' | b'%' if t.get(i + 1) == Some(&b'{') => {
                        stack.push(Frame::Interp);
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            Some(Frame::Heredoc(marker)) => {
                let line_start = i == 0 || t[i - 1] == b'\n';
                if line_start {
                    let end = t[i..].iter().position(|b| *b == b'\n').map_or(t.len(), |p| i + p);
                    let line = &t[i..end];
                    let trimmed: &[u8] = {
                        let s = line.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(line.len());
                        let e = line.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\r')).map_or(s, |p| p + 1);
                        &line[s..e.max(s)]
                    };
                    if trimmed == marker.as_slice() {
                        stack.pop();
                        i = end;
                        continue;
                    }
                }
                match c {
                    b'$' | b'%' if t.get(i + 1) == Some(&c) && t.get(i + 2) == Some(&b'{') => i += 2,
                    b'$' | b'%' if t.get(i + 1) == Some(&b'{') => {
                        stack.push(Frame::Interp);
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        let ignoring = stack.last().is_some_and(Frame::ignores_newlines);
        match c {
            b'#' => {
                let end = t[i..].iter().position(|b| *b == b'\n').map_or(t.len(), |p| i + p);
                if ignoring {
                    let end = if end < t.len() { end + 1 } else { end };
                    out[i..end].iter_mut().for_each(|b| *b = b' ');
                    changed = true;
                    i = end;
                } else {
                    i = end;
                }
                continue;
            }
            b'/' if t.get(i + 1) == Some(&b'/') => {
                let end = t[i..].iter().position(|b| *b == b'\n').map_or(t.len(), |p| i + p);
                if ignoring {
                    let end = if end < t.len() { end + 1 } else { end };
                    out[i..end].iter_mut().for_each(|b| *b = b' ');
                    changed = true;
                    i = end;
                } else {
                    i = end;
                }
                continue;
            }
            b'/' if t.get(i + 1) == Some(&b'*') => {
                let mut end = i + 2;
                while end < t.len() && !(t[end] == b'*' && t.get(end + 1) == Some(&b'/')) {
                    end += 1;
                }
                let end = (end + 2).min(t.len());
                if ignoring && t[i..end].contains(&b'\n') {
                    out[i..end].iter_mut().for_each(|b| *b = b' ');
                    changed = true;
                }
                i = end;
                continue;
            }
            b'"' => stack.push(Frame::Quote),
            b'<' if t.get(i + 1) == Some(&b'<') => {
                if let Some((marker, after)) = heredoc_start(t, i) {
                    stack.push(Frame::Heredoc(marker));
                    i = after;
                    continue;
                }
            }
            b'{' => stack.push(Frame::Brace(starts_for(t, i + 1))),
            b'(' => stack.push(Frame::Paren),
            b'[' => stack.push(Frame::Bracket),
            b'}' | b')' | b']' => {
                stack.pop();
            }
            b'\n' | b'\r' if ignoring => {
                out[i] = b' ';
                changed = true;
            }
            _ => {}
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    // Only ASCII bytes were replaced by spaces, whole comments included: still UTF-8.
    String::from_utf8(out).ok()
}

/// hcl-edit refuses an object constructor that repeats a key; HCL accepts it and the last
/// item wins (`{ "3gpp" = "audio/3gpp", "3gpp" = "video/3gpp" }`). Given the offset of the
/// repeated key hcl-edit stopped at, rewrites that key into another key expression of the
/// same value, which hcl-edit does not take for the same key: an identifier `k` into `"k"`,
/// then `("k")`, `(("k"))`...; a quoted key `"k"` into `("k")`, `(("k"))`... (`level` 0, 1,
/// ... picks the wrapping, for a key repeated more than twice). The extra bytes come from the
/// blanks before the key and around its `=` or `:`, so every byte after it keeps its offset
/// and spans and line numbers still refer to the original file. `None` when the text at
/// `offset` is not a plain key or there are not enough blanks on its line.
pub(crate) fn distinct_repeated_key(text: &str, offset: usize, level: usize) -> Option<String> {
    let t = text.as_bytes();
    let start = offset;
    let (key_end, quoted) = match t.get(start)? {
        b'"' => {
            let mut i = start + 1;
            loop {
                match t.get(i)? {
                    b'\\' => i += 2,
                    b'"' => break (i + 1, true),
                    b'$' | b'%' if t.get(i + 1) == Some(&b'{') => return None,
                    b'\n' => return None,
                    _ => i += 1,
                }
            }
        }
        b if b.is_ascii_alphabetic() || *b == b'_' => {
            let mut i = start + 1;
            while t.get(i).is_some_and(|b| is_ident(*b)) {
                i += 1;
            }
            (i, false)
        }
        _ => return None,
    };
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut before = start;
    while before > 0 && blank(&t[before - 1]) {
        before -= 1;
    }
    let mut sep = key_end;
    while t.get(sep).is_some_and(blank) {
        sep += 1;
    }
    if !matches!(t.get(sep), Some(b'=' | b':')) || t.get(sep + 1) == Some(&b'=') {
        return None;
    }
    let mut after = sep + 1;
    while t.get(after).is_some_and(blank) {
        after += 1;
    }
    let key = &text[start..key_end];
    let parens = if quoted { level + 1 } else { level };
    let mut new_key = String::new();
    new_key.push_str(&"(".repeat(parens));
    if quoted {
        new_key.push_str(key);
    } else {
        new_key.push('"');
        new_key.push_str(key);
        new_key.push('"');
    }
    new_key.push_str(&")".repeat(parens));
    let extra = new_key.len() - key.len();
    let (b0, b1, b2) = (start - before, sep - key_end, after - sep - 1);
    if b0 + b1 + b2 < extra {
        return None;
    }
    // Blanks taken first before the key, then before and after the separator.
    let take0 = extra.min(b0);
    let take1 = (extra - take0).min(b1);
    let take2 = extra - take0 - take1;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..before]);
    out.push_str(&text[before..start][take0..]);
    out.push_str(&new_key);
    out.push_str(&text[key_end..sep][take1..]);
    out.push_str(&text[sep..sep + 1]);
    out.push_str(&text[sep + 1..after][take2..]);
    out.push_str(&text[after..]);
    debug_assert_eq!(out.len(), text.len());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{distinct_repeated_key, relax_newlines};

    #[test]
    fn newlines_hcl_ignores_become_spaces_and_offsets_stay() {
        let cases: &[(&str, Option<&str>)] = &[
            ("a = { for k in [\"a\"] : k => true ?\n 1 : 2 }\n", Some("a = { for k in [\"a\"] : k => true ?  1 : 2 }\n")),
            ("a = [for x in y : x +\n 1]\n", Some("a = [for x in y : x +  1]\n")),
            ("a = f(x, # note\n y)\n", Some("a = f(x,         y)\n")),
            // Object constructors and blocks keep their newlines: they separate items.
            ("b {\n  x = { a = 1\n b = 2 }\n}\n", None),
            ("x = { for k in y : k => {\n a = 1\n b = 2 }\n }\n", Some("x = { for k in y : k => {\n a = 1\n b = 2 }  }\n")),
            // Strings and heredocs are left alone.
            ("x = \"(\"\ny = 1\n", None),
            ("x = <<EOT\n(\nEOT\ny = [1,\n2]\n", Some("x = <<EOT\n(\nEOT\ny = [1, 2]\n")),
            ("x = \"${f(1,\n2)}\"\n", Some("x = \"${f(1, 2)}\"\n")),
            ("x = { format = 1\n}\n", None),
        ];
        for (src, want) in cases {
            let got = relax_newlines(src);
            assert_eq!(got.as_deref(), *want, "{src:?}");
            if let Some(g) = got {
                assert_eq!(g.len(), src.len());
            }
        }
    }

    #[test]
    fn repeated_object_keys_become_distinct_key_expressions_and_offsets_stay() {
        let cases: &[(&str, usize, usize, Option<&str>)] = &[
            ("x = {\n  \"a\" = 1\n  \"a\" = 2\n}\n", 18, 0, Some("x = {\n  \"a\" = 1\n(\"a\") = 2\n}\n")),
            ("x = { a = 1, a = 2 }\n", 13, 0, Some("x = { a = 1,\"a\"= 2 }\n")),
            ("x = { a = 1, a = 2 }\n", 13, 1, None),
            ("x = { a  =  1, a  =  2 }\n", 15, 1, Some("x = { a  =  1,(\"a\")= 2 }\n")),
            ("x = { a = 1,a=2 }\n", 12, 0, None),
            ("x = { \"${y}\" = 1 }\n", 6, 0, None),
            ("x = { a == 1 }\n", 6, 0, None),
        ];
        for (src, offset, level, want) in cases {
            let got = distinct_repeated_key(src, *offset, *level);
            assert_eq!(got.as_deref(), *want, "{src:?} at {offset}");
            if let Some(g) = got {
                assert_eq!(g.len(), src.len());
                assert!(hcl_edit::parser::parse_body(&g).is_ok(), "{g:?}");
            }
        }
    }
}
