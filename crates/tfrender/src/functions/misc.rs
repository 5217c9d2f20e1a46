//! uuidv5, matchkeys, textdecodebase64 and yamldecode.
use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;

use super::{as_seq, as_str, Args, FResult};
use crate::value::{equals, Type, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn parse_uuid(s: &str) -> Result<[u8; 16], String> {
    let body = match s.len() {
        36 => {
            let b = s.as_bytes();
            if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
                return Err("invalid UUID format".into());
            }
            s.replace('-', "")
        }
        32 => s.to_string(),
        n => return Err(format!("invalid UUID length: {n}")),
    };
    let bytes = hex::decode(&body).map_err(|_| "invalid UUID format".to_string())?;
    let mut out = [0u8; 16];
    out.copy_from_slice(&bytes);
    Ok(out)
}

pub(super) fn uuidv5(a: Args, _: &Path) -> FResult {
    let ns = as_str(&a[0], "namespace")?;
    let name = as_str(&a[1], "name")?;
    let space = match ns.as_str() {
        "dns" => parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        "url" => parse_uuid("6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
        "oid" => parse_uuid("6ba7b812-9dad-11d1-80b4-00c04fd430c8"),
        "x500" => parse_uuid("6ba7b814-9dad-11d1-80b4-00c04fd430c8"),
        other => parse_uuid(other),
    }
    .map_err(|e| format!("uuidv5() doesn't support namespace {ns} ({e})"))?;
    let mut input = space.to_vec();
    input.extend_from_slice(name.as_bytes());
    let hash = <sha1::Sha1 as sha1::Digest>::digest(&input);
    let mut u = [0u8; 16];
    u.copy_from_slice(&hash[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let h = hex::encode(u);
    Ok(Value::str(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])))
}

/// Elements of a `list(any)` parameter: a list, set or tuple whose elements unify.
fn unified_list(v: &Value, param: &str) -> Result<(Type, Vec<Value>), String> {
    let items = as_seq(v, param)?;
    crate::types::unify_values(&items).ok_or_else(|| {
        format!("Invalid function argument: Invalid value for {param:?} parameter: all list elements must have the same type")
    })
}

pub(super) fn matchkeys(a: Args, _: &Path) -> FResult {
    let (vt, values) = unified_list(&a[0], "values")?;
    let (kt, keys) = unified_list(&a[1], "keys")?;
    let (st, search) = unified_list(&a[2], "searchset")?;
    let Some(common) = crate::types::unify(&[kt, st]) else {
        return Err("keys and searchset must be of the same type".into());
    };
    if values.len() != keys.len() {
        return Err("length of keys and values should be equal".into());
    }
    let conv = |vs: Vec<Value>| -> Result<Vec<Value>, String> {
        vs.iter().map(|v| crate::types::convert_type(v, &common)).collect()
    };
    let keys = conv(keys).map_err(|_| "keys and searchset must be of the same type".to_string())?;
    let search = conv(search).map_err(|_| "keys and searchset must be of the same type".to_string())?;
    let mut out = Vec::new();
    if !search.is_empty() {
        for (i, k) in keys.iter().enumerate() {
            if search.iter().any(|s| equals(k, s) == Some(true)) {
                out.push(values[i].clone());
            }
        }
    }
    Ok(Value::List(vt, out))
}

pub(super) fn textdecodebase64(a: Args, _: &Path) -> FResult {
    let source = as_str(&a[0], "source")?;
    let enc = as_str(&a[1], "encoding")?;
    let name = enc.to_ascii_uppercase().replace('_', "-");
    if !matches!(name.as_str(), "UTF-8" | "UTF8" | "UTF-16LE" | "UTF-16BE" | "UTF-16" | "ISO-8859-1" | "LATIN1") {
        return Err(format!("Invalid function argument: Invalid value for \"encoding\" parameter: {enc:?} is not a supported IANA encoding name or alias in this Terraform version"));
    }
    let bytes = B64.decode(source.as_bytes()).map_err(|e| {
        let offset = match e {
            base64::DecodeError::InvalidByte(o, _) | base64::DecodeError::InvalidLastSymbol(o, _) => o,
            base64::DecodeError::InvalidLength(n) => n - n % 4,
            base64::DecodeError::InvalidPadding => source.find('=').unwrap_or(0),
        };
        format!("Invalid function argument: Invalid value for \"source\" parameter: the given value is has an invalid base64 symbol at offset {offset}")
    })?;
    let bad = || format!("Invalid function argument: Invalid value for \"source\" parameter: the given string contains symbols that are not defined for {enc}");
    let utf16 = |bytes: &[u8], le: bool| -> Result<String, String> {
        if bytes.len() % 2 != 0 {
            return Err(bad());
        }
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        String::from_utf16(&units).map_err(|_| bad())
    };
    let text = match name.as_str() {
        "UTF-8" | "UTF8" => String::from_utf8(bytes).map_err(|_| bad())?,
        "UTF-16LE" => utf16(&bytes, true)?,
        "UTF-16BE" => utf16(&bytes, false)?,
        "UTF-16" => match bytes.as_slice() {
            [0xFF, 0xFE, rest @ ..] => utf16(rest, true)?,
            [0xFE, 0xFF, rest @ ..] => utf16(rest, false)?,
            rest => utf16(rest, false)?,
        },
        _ => bytes.iter().map(|b| *b as char).collect(),
    };
    Ok(Value::String(crate::value::nfc(&text)))
}

/// Plain scalars that YAML 1.1 (Terraform's resolver) and YAML 1.2 (the parser used here)
/// read differently, and constructs whose handling is not reproduced: the renderer refuses
/// documents containing them rather than guess.
fn yaml_risk(src: &str) -> Option<String> {
    const WORDS: [&str; 16] = ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];
    // Quoted scalars are strings under both rules: blank them out (a quote opens a scalar
    // only at the start of a token).
    let mut plain = String::with_capacity(src.len());
    let mut quote: Option<char> = None;
    let mut prev = '\n';
    for c in src.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                plain.push(' ');
            }
            Some(_) => plain.push(if c == '\n' { '\n' } else { ' ' }),
            None if (c == '"' || c == '\'') && (prev.is_whitespace() || matches!(prev, ':' | '[' | '{' | ',' | '-')) => {
                quote = Some(c);
                plain.push(' ');
            }
            None => plain.push(c),
        }
        prev = c;
    }
    let src = plain.as_str();
    for token in src.split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '[' | ']' | '{' | '}' | '"' | '\'' | '#')) {
        let t = token.trim_start_matches('-');
        if WORDS.contains(&t) {
            return Some(format!("the YAML 1.1 boolean {t:?}"));
        }
        let digits = t.trim_start_matches('+');
        let first_digit = digits.chars().next().is_some_and(|c| c.is_ascii_digit());
        if first_digit
            && (digits.contains('_')
                || digits.starts_with("0x")
                || digits.starts_with("0o")
                || digits.starts_with("0b")
                || (digits.len() > 1 && digits.starts_with('0') && digits.as_bytes()[1].is_ascii_digit())
                || (digits.len() >= 10 && digits.as_bytes().get(4) == Some(&b'-')))
        {
            return Some(format!("the YAML 1.1 scalar {t:?}"));
        }
        if t.starts_with('.') && matches!(t.to_ascii_lowercase().as_str(), ".inf" | ".nan" | "+.inf" | "-.inf") {
            return Some(format!("the YAML special number {t:?}"));
        }
        if t.starts_with("!!") || t.starts_with('&') || t.starts_with('*') || t == "<<" || t.starts_with('!') {
            return Some(format!("the YAML construct {t:?}"));
        }
    }
    None
}

/// YAML 1.1 booleans (Terraform's resolver): a plain scalar that is a whole `y`, `yes`, `on`,
/// `n`, `no`, `off` (in the case forms of [`yaml_risk`]'s list) is a boolean, as a value or as
/// a mapping key (then the key "true" or "false"). Such scalars are rewritten to `true` or
/// `false` for the YAML 1.2 parser; quoted ones, block scalar lines and words inside longer
/// plain scalars are left alone (the latter are refused by `yaml_risk`, as before). Returns the
/// rewritten text and the same with block scalar lines blanked (literal text: nothing to refuse).
fn yaml11_booleans(src: &str) -> (String, String) {
    const TRUE: [&str; 8] = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"];
    const FALSE: [&str; 8] = ["n", "N", "no", "No", "NO", "off", "Off", "OFF"];
    let mut out = String::with_capacity(src.len());
    let mut outside_blocks = String::with_capacity(src.len());
    // Indentation of the line that opened a block scalar, while in one.
    let mut block: Option<usize> = None;
    for line in src.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(open) = block {
            if line.trim().is_empty() || indent > open {
                out.push_str(line);
                outside_blocks.push('\n');
                continue;
            }
            block = None;
        }
        let mut rewritten = String::with_capacity(line.len());
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut token_start: Option<usize> = None;
        let bytes: Vec<(usize, char)> = line.char_indices().collect();
        let mut copied = 0;
        for (n, &(at, c)) in bytes.iter().enumerate() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                prev = c;
                continue;
            }
            if (c == '"' || c == '\'') && (prev.is_whitespace() || matches!(prev, ':' | '[' | '{' | ',' | '-')) {
                quote = Some(c);
                prev = c;
                continue;
            }
            if c == '#' && prev.is_whitespace() {
                break;
            }
            let word_char = !c.is_whitespace() && !matches!(c, ':' | ',' | '[' | ']' | '{' | '}');
            if word_char && token_start.is_none() {
                token_start = Some(at);
            }
            let end_here = !word_char || n + 1 == bytes.len();
            if let (true, Some(start)) = (end_here, token_start) {
                let end = if word_char { at + c.len_utf8() } else { at };
                let word = &line[start..end];
                let before = line[..start].trim_end_matches(' ').chars().last();
                let after = line[end..].trim_start_matches(' ').chars().next();
                let whole = matches!(before, None | Some(':' | '-' | '[' | ',' | '{' | '?'))
                    && matches!(after, None | Some('\n' | '\r' | ',' | ']' | '}' | '#' | ':'))
                    // `- x` and `key: x`: the separator is followed by a space.
                    && (before.is_none() || line[..start].ends_with(' ') || matches!(before, Some('[' | ',' | '{')));
                let value = if TRUE.contains(&word) { Some("true") } else if FALSE.contains(&word) { Some("false") } else { None };
                if let (true, Some(v)) = (whole, value) {
                    rewritten.push_str(&line[copied..start]);
                    rewritten.push_str(v);
                    copied = end;
                }
                token_start = None;
            }
            prev = c;
        }
        rewritten.push_str(&line[copied..]);
        // A block scalar starts: `key: |`, `- >-`, `|2` (a comment may follow).
        let content = rewritten.split(" #").next().unwrap_or_default().trim_end();
        let indicator = content.rsplit([' ', ':']).next().unwrap_or_default();
        if !indicator.is_empty() && (indicator.starts_with('|') || indicator.starts_with('>')) && indicator[1..].chars().all(|c| matches!(c, '-' | '+' | '1'..='9')) {
            block = Some(indent);
        }
        out.push_str(&rewritten);
        outside_blocks.push_str(&rewritten);
    }
    (out, outside_blocks)
}

fn from_yaml(v: &yaml_serde::Value) -> Result<Value, String> {
    Ok(match v {
        yaml_serde::Value::Null => Value::null(),
        yaml_serde::Value::Bool(b) => Value::Bool(*b),
        yaml_serde::Value::Number(n) => Value::Number(n.as_f64().ok_or("number out of range")?),
        yaml_serde::Value::String(s) => Value::String(crate::value::nfc(s)),
        yaml_serde::Value::Sequence(items) => Value::Tuple(items.iter().map(from_yaml).collect::<Result<_, _>>()?),
        yaml_serde::Value::Mapping(m) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let key = match k {
                    yaml_serde::Value::String(s) => crate::value::nfc(s),
                    yaml_serde::Value::Bool(b) => b.to_string(),
                    yaml_serde::Value::Number(n) => n.to_string(),
                    yaml_serde::Value::Null => "null".into(),
                    _ => return Err("Unsupported YAML: complex mapping keys are not supported offline".into()),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        yaml_serde::Value::Tagged(_) => return Err("Unsupported YAML: tagged values are not supported offline".into()),
    })
}

pub(super) fn yamldecode(a: Args, _: &Path) -> FResult {
    let src = as_str(&a[0], "src")?;
    if src.trim().is_empty() || src.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err("on line 1, column 1: missing start of document".into());
    }
    let (src, outside_blocks) = yaml11_booleans(&src);
    if let Some(what) = yaml_risk(&outside_blocks) {
        return Err(format!(
            "Unsupported YAML: the document uses {what}, which Terraform resolves by YAML 1.1 rules this renderer does not reproduce"
        ));
    }
    let mut docs = Vec::new();
    for doc in yaml_serde::Deserializer::from_str(&src) {
        let v: yaml_serde::Value =
            serde::Deserialize::deserialize(doc).map_err(|e| e.to_string().split(" at line").next().unwrap_or_default().to_string())?;
        docs.push(v);
    }
    if docs.len() > 1 {
        return Err("on line 1, column 1: unexpected extra content after value".into());
    }
    match docs.pop() {
        Some(v) => from_yaml(&v),
        None => Err("on line 1, column 1: missing start of document".into()),
    }
}
