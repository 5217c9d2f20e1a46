use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;

use super::{as_str, Args, FResult};
use crate::value::{number_string, Type, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(super) fn base64encode(a: Args, _: &Path) -> FResult {
    Ok(Value::str(B64.encode(as_str(&a[0], "str")?.as_bytes())))
}

pub(super) fn base64decode(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let bytes = B64.decode(s.as_bytes()).map_err(|_| format!("failed to decode base64 data {s:?}"))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| "the result of decoding the provided string is not valid UTF-8".to_string())
}

pub(super) fn textencodebase64(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "string")?;
    let enc = as_str(&a[1], "encoding")?;
    let bytes: Vec<u8> = match enc.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => s.into_bytes(),
        "UTF-16LE" => s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
        "UTF-16BE" => s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect(),
        "UTF-16" => {
            let mut b = vec![0xFE, 0xFF];
            b.extend(s.encode_utf16().flat_map(|u| u.to_be_bytes()));
            b
        }
        _ => return Err(format!("Invalid function argument: Invalid value for \"encoding\" parameter: {enc:?} is not a supported IANA encoding name or alias in this Terraform version")),
    };
    Ok(Value::str(B64.encode(bytes)))
}

pub(super) fn urlencode(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::str(out))
}

pub(super) fn jsondecode(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| {
        // Go's decoder reports a truncated document as plain EOF.
        if e.is_eof() { "EOF".to_string() } else { format!("Invalid function argument: Invalid value for \"str\" parameter: {e}") }
    })?;
    Ok(Value::from_json(&j))
}

pub(super) fn jsonencode(a: Args, _: &Path) -> FResult {
    Ok(Value::String(json_string(&a[0])?))
}

/// Go's encoding/json string quoting (with HTML escaping when `html`).
pub(crate) fn json_quote(s: &str, html: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn json_string(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(v, &mut out, 0)?;
    Ok(out)
}

fn write_json(v: &Value, out: &mut String, depth: usize) -> Result<(), String> {
    if depth > 100 {
        return Err("value is nested too deeply".into());
    }
    match v.unmark().0 {
        Value::Unknown(_) => return Err("value is not known".into()),
        Value::Null(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_string(*n)),
        Value::String(s) => out.push_str(&json_quote(s, true)),
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
            out.push('[');
            for (i, e) in vs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(e, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(_, m) | Value::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_quote(k, true));
                out.push(':');
                write_json(e, out, depth + 1)?;
            }
            out.push('}');
        }
        Value::Sensitive(_) | Value::Open(_) | Value::NotNull(_) | Value::Prefixed(..) | Value::Exact(..) => {}
    }
    Ok(())
}

pub(super) fn yamlencode(a: Args, _: &Path) -> FResult {
    let mut out = String::new();
    yaml_node(&a[0], &mut out, 0, Ctx::Top, 0)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(Value::String(out))
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    MapValue,
    SeqItem,
}

fn yaml_scalar(v: &Value, indent: usize) -> Option<String> {
    Some(match v.unmark().0 {
        Value::Null(_) => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_string(*n),
        Value::String(s) if s.contains('\n') && !s.chars().any(|c| (c as u32) < 0x20 && c != '\n') && !s.starts_with(' ') => {
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            let pad = " ".repeat(indent);
            let body = s.strip_suffix('\n').unwrap_or(s);
            let mut r = format!("|{chomp}");
            for line in body.split('\n') {
                r.push('\n');
                if !line.is_empty() {
                    r.push_str(&pad);
                    r.push_str(line);
                }
            }
            r
        }
        Value::String(s) => yaml_quote(s),
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) if vs.is_empty() => "[]".into(),
        Value::Map(_, m) | Value::Object(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn yaml_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) > 0xFFFF => out.push_str(&format!("\\U{:08X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn yaml_node(v: &Value, out: &mut String, indent: usize, ctx: Ctx, depth: usize) -> Result<(), String> {
    if depth > 100 {
        return Err("value is nested too deeply".into());
    }
    if let Some(s) = yaml_scalar(v, indent) {
        if ctx == Ctx::MapValue {
            out.push(' ');
        }
        out.push_str(&s);
        out.push('\n');
        return Ok(());
    }
    let pad = " ".repeat(indent);
    match v.unmark().0 {
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
            if ctx == Ctx::MapValue {
                out.push('\n');
            }
            for (i, e) in vs.iter().enumerate() {
                if !(i == 0 && ctx == Ctx::SeqItem) {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                yaml_node(e, out, indent + 2, Ctx::SeqItem, depth + 1)?;
            }
        }
        Value::Map(_, m) | Value::Object(m) => {
            if ctx == Ctx::MapValue {
                out.push('\n');
            }
            for (i, (k, e)) in m.iter().enumerate() {
                if !(i == 0 && ctx == Ctx::SeqItem) {
                    out.push_str(&pad);
                }
                out.push_str(&yaml_quote(k));
                out.push(':');
                let child_indent = match e.unmark().0 {
                    Value::List(..) | Value::Set(..) | Value::Tuple(..) => indent,
                    _ => indent + 2,
                };
                yaml_node(e, out, child_indent, Ctx::MapValue, depth + 1)?;
            }
        }
        Value::Unknown(_) => return Err("value is not known".into()),
        _ => {}
    }
    Ok(())
}

pub(super) fn csvdecode(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let rows = parse_csv(&s)?;
    let mut it = rows.into_iter();
    let Some(header) = it.next() else {
        return Err("missing header line".into());
    };
    let mut out = Vec::new();
    for (n, row) in it.enumerate() {
        if row.len() != header.len() {
            return Err(format!("CSV parse error on line {}: wrong number of fields", n + 2));
        }
        let obj: BTreeMap<String, Value> = header.iter().cloned().zip(row.into_iter().map(Value::String)).collect();
        out.push(Value::Object(obj));
    }
    let ty = Type::Object(header.iter().map(|h| (h.clone(), Type::String)).collect());
    Ok(Value::List(ty, out))
}

fn parse_csv(s: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = s.chars().peekable();
    let mut in_quotes = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                any = false;
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err("extraneous or missing \" in quoted-field".into());
    }
    if any {
        row.push(field);
        rows.push(row);
    }
    Ok(rows.into_iter().filter(|r| !(r.len() == 1 && r[0].is_empty())).collect())
}
