//! The reviewer's view of a plan: one block per resource instance (and per output), sorted by
//! address, each attribute flattened to one `path = value` line.
//!
//! Values are JSON literals; `(known after apply)` and `[sensitive]` are written bare, so they
//! never collide with a string value. Strings holding a JSON document (IAM and bucket
//! policies) are expanded in place, so `policy.Statement[0].Effect = "Deny"` is one line.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{bail, Context, Result};
use serde_json::Value;

pub const UNKNOWN: &str = "(known after apply)";
pub const SENSITIVE: &str = "[sensitive]";

/// One flattened attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Leaf {
    /// A scalar, or an empty list or map.
    Known(Value),
    Unknown,
    Sensitive,
}

impl Leaf {
    pub fn render(&self) -> String {
        match self {
            Leaf::Known(v) => serde_json::to_string(v).unwrap_or_default(),
            Leaf::Unknown => UNKNOWN.to_string(),
            Leaf::Sensitive => SENSITIVE.to_string(),
        }
    }

    /// The JSON form used by [`crate::diff::Diff`]: the value itself, or the marker string.
    pub fn to_json(&self) -> Value {
        match self {
            Leaf::Known(v) => v.clone(),
            Leaf::Unknown => Value::String(UNKNOWN.into()),
            Leaf::Sensitive => Value::String(SENSITIVE.into()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Leaf::Known(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Leaf::Known(v) => v.as_f64(),
            _ => None,
        }
    }

    pub fn parse(text: &str) -> Result<Leaf> {
        match text {
            UNKNOWN => Ok(Leaf::Unknown),
            SENSITIVE => Ok(Leaf::Sensitive),
            _ => Ok(Leaf::Known(
                serde_json::from_str(text).with_context(|| format!("invalid value {text:?}"))?,
            )),
        }
    }
}

/// One resource instance or output.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Resource address, or `output.NAME`.
    pub address: String,
    /// Planned action (`create`, `read`, `update`, ...), joined with `+` when there are several.
    pub action: String,
    /// Flattened attributes in document order (object keys sorted, list items in order).
    pub attrs: Vec<(String, Leaf)>,
    kind: String,
}

impl Block {
    pub fn is_output(&self) -> bool {
        self.address.starts_with("output.")
    }

    pub fn new(address: String, action: String, attrs: Vec<(String, Leaf)>) -> Block {
        let kind = resource_type(&address);
        Block {
            address,
            action,
            attrs,
            kind,
        }
    }

    /// The resource type (`aws_s3_bucket`), or `output`.
    pub fn kind(&self) -> String {
        self.kind.clone()
    }

    pub fn kind_str(&self) -> &str {
        &self.kind
    }

    pub fn get(&self, path: &str) -> Option<&Leaf> {
        self.attrs.iter().find(|(p, _)| p == path).map(|(_, l)| l)
    }

    /// Attributes whose path is `prefix` or lies under it.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a (String, Leaf)> + 'a {
        self.attrs.iter().filter(move |(p, _)| {
            p == prefix || (p.starts_with(prefix) && matches!(p.as_bytes().get(prefix.len()), Some(b'.' | b'[')))
        })
    }
}

/// A whole plan, blocks sorted by address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanView {
    pub blocks: Vec<Block>,
}

impl PlanView {
    pub fn block(&self, address: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.address == address)
    }

    pub fn resources(&self) -> impl Iterator<Item = &Block> {
        self.blocks.iter().filter(|b| !b.is_output())
    }

    pub fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.resources().filter(move |b| b.kind == kind)
    }

    /// The text form; `header` lines are written first as `# ` comments.
    pub fn to_text(&self, header: &[String]) -> String {
        let mut out = String::new();
        for h in header {
            let _ = writeln!(out, "# {h}");
        }
        for b in &self.blocks {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}: {}", b.address, b.action);
            for (p, l) in &b.attrs {
                let _ = writeln!(out, "  {p} = {}", l.render());
            }
        }
        out
    }

    /// Parse the text form back (comments and blank lines are skipped). `origin` names the
    /// source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<PlanView> {
        let mut blocks: Vec<Block> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let at = || format!("{origin}:{}", i + 1);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("  ") {
                let Some(block) = blocks.last_mut() else {
                    bail!("{}: attribute line before any resource header", at());
                };
                let end = path_end(rest).with_context(at)?;
                let (path, value) = rest.split_at(end);
                let Some(value) = value.strip_prefix(" = ") else {
                    bail!("{}: expected `path = value`", at());
                };
                block
                    .attrs
                    .push((path.to_string(), Leaf::parse(value).with_context(at)?));
            } else {
                let Some((address, action)) = line.rsplit_once(": ") else {
                    bail!("{}: expected `address: action`", at());
                };
                blocks.push(Block::new(address.to_string(), action.to_string(), Vec::new()));
            }
        }
        Ok(PlanView { blocks })
    }
}

/// Where an attribute path ends: the first space outside a quoted key.
fn path_end(s: &str) -> Result<usize> {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if c == ' ' {
            return Ok(i);
        }
    }
    bail!("unterminated attribute path")
}

/// Build the view of a plan document (raw or normalized) as `terraform show -json` prints it.
pub fn view(plan: &Value) -> PlanView {
    let mut blocks = Vec::new();
    for rc in plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(address) = rc.get("address").and_then(Value::as_str) else {
            continue;
        };
        let change = rc.get("change").unwrap_or(&Value::Null);
        let mut attrs = Vec::new();
        walk(
            String::new(),
            change.get("after"),
            change.get("after_unknown"),
            change.get("after_sensitive"),
            &mut attrs,
        );
        blocks.push(Block::new(address.to_string(), actions(change), attrs));
    }
    if let Some(outputs) = plan.get("output_changes").and_then(Value::as_object) {
        for (name, change) in outputs {
            let mut attrs = Vec::new();
            walk(
                "value".to_string(),
                change.get("after"),
                change.get("after_unknown"),
                change.get("after_sensitive"),
                &mut attrs,
            );
            blocks.push(Block::new(format!("output.{name}"), actions(change), attrs));
        }
    }
    blocks.sort_by(|a, b| a.address.cmp(&b.address));
    PlanView { blocks }
}

fn actions(change: &Value) -> String {
    let acts: Vec<&str> = change
        .get("actions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if acts.is_empty() {
        "no-op".into()
    } else {
        acts.join("+")
    }
}

/// One path segment: `.key` for identifiers, `["key"]` otherwise.
pub fn key_segment(prefix: &str, key: &str) -> String {
    let ident = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    } else {
        format!("{prefix}[{}]", serde_json::to_string(key).unwrap_or_default())
    }
}

fn walk(
    path: String,
    after: Option<&Value>,
    unknown: Option<&Value>,
    sensitive: Option<&Value>,
    out: &mut Vec<(String, Leaf)>,
) {
    if sensitive == Some(&Value::Bool(true)) {
        out.push((path, Leaf::Sensitive));
        return;
    }
    if unknown == Some(&Value::Bool(true)) {
        out.push((path, Leaf::Unknown));
        return;
    }
    match after {
        Some(Value::Object(m)) => {
            let mut keys: Vec<&String> = m.keys().collect();
            for side in [unknown, sensitive].into_iter().flatten() {
                if let Value::Object(o) = side {
                    keys.extend(o.keys().filter(|k| !m.contains_key(*k)));
                }
            }
            keys.sort();
            keys.dedup();
            if keys.is_empty() {
                out.push((path.clone(), Leaf::Known(Value::Object(Default::default()))));
            }
            for k in keys {
                walk(
                    key_segment(&path, k),
                    m.get(k),
                    unknown.and_then(|u| u.get(k)),
                    sensitive.and_then(|s| s.get(k)),
                    out,
                );
            }
        }
        Some(Value::Array(a)) => {
            let len = [unknown, sensitive]
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .map(Vec::len)
                .fold(a.len(), usize::max);
            if len == 0 {
                out.push((path.clone(), Leaf::Known(Value::Array(Vec::new()))));
            }
            for i in 0..len {
                walk(
                    format!("{path}[{i}]"),
                    a.get(i),
                    unknown.and_then(|u| u.get(i)),
                    sensitive.and_then(|s| s.get(i)),
                    out,
                );
            }
        }
        Some(Value::String(s)) if looks_like_json(s) => match serde_json::from_str::<Value>(s) {
            Ok(doc) => walk(path, Some(&doc), None, None, out),
            Err(_) => out.push((path, Leaf::Known(Value::String(s.clone())))),
        },
        Some(v) => out.push((path, Leaf::Known(v.clone()))),
        None => {
            // Present only in after_unknown / after_sensitive (nested markers of a value
            // that is not in `after`).
            let mut nested = Vec::new();
            for (side, sens) in [(unknown, false), (sensitive, true)] {
                collect_markers(&path, side, sens, &mut nested);
            }
            nested.sort_by(|a, b| a.0.cmp(&b.0));
            nested.dedup_by(|a, b| a.0 == b.0);
            out.extend(nested);
        }
    }
}

fn collect_markers(path: &str, v: Option<&Value>, sensitive: bool, out: &mut Vec<(String, Leaf)>) {
    match v {
        Some(Value::Bool(true)) => out.push((
            path.to_string(),
            if sensitive { Leaf::Sensitive } else { Leaf::Unknown },
        )),
        Some(Value::Object(m)) => {
            for (k, x) in m {
                collect_markers(&key_segment(path, k), Some(x), sensitive, out);
            }
        }
        Some(Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                collect_markers(&format!("{path}[{i}]"), Some(x), sensitive, out);
            }
        }
        _ => {}
    }
}

fn looks_like_json(s: &str) -> bool {
    let t = s.trim_start();
    (t.starts_with('{') && s.trim_end().ends_with('}')) || (t.starts_with('[') && s.trim_end().ends_with(']'))
}

/// The resource type of an address: `module.a["x"].aws_s3_bucket.this[0]` -> `aws_s3_bucket`;
/// `output` for `output.NAME`.
pub fn resource_type(address: &str) -> String {
    let parts = split_address_stripped(address);
    if parts.first().map(String::as_str) == Some("output") {
        return "output".into();
    }
    let mut i = 0;
    while parts.get(i).map(String::as_str) == Some("module") {
        i += 2;
    }
    if parts.get(i).map(String::as_str) == Some("data") {
        i += 1;
    }
    parts.get(i).cloned().unwrap_or_default()
}

/// The module path of an address (`module.a["x"].module.b`), empty for the root module.
pub fn module_path(address: &str) -> String {
    let parts = split_address_raw(address);
    let mut i = 0;
    while parts.get(i).map(|s| s.as_str()) == Some("module") {
        i += 2;
    }
    parts[..i.min(parts.len())].join(".")
}

/// Dot-separated parts with index suffixes stripped.
pub fn split_address_stripped(address: &str) -> Vec<String> {
    split_address_raw(address)
        .into_iter()
        .map(|p| p.split('[').next().unwrap_or("").to_string())
        .collect()
}

/// Dot-separated parts, index suffixes kept; dots inside brackets do not split.
fn split_address_raw(address: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for c in address.chars() {
        if in_str {
            cur.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                cur.push(c);
            }
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            '.' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// Attribute values of the view keyed by path, for lookups.
pub fn attr_map(b: &Block) -> BTreeMap<&str, &Leaf> {
    b.attrs.iter().map(|(p, l)| (p.as_str(), l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_unknown_sensitive_and_json_strings() {
        let plan = json!({
            "resource_changes": [{
                "address": "module.m[\"a.b\"].aws_iam_role.this",
                "change": {
                    "actions": ["create"],
                    "after": {"name": "r", "policy": "{\"Statement\":[{\"Effect\":\"Deny\"}]}", "tags": {"Owner": "x"}, "secret": "s", "list": []},
                    "after_unknown": {"id": true, "tags": {}},
                    "after_sensitive": {"secret": true}
                }
            }],
            "output_changes": {"o": {"actions": ["create"], "after": {"a.b": 1}, "after_unknown": false, "after_sensitive": false}}
        });
        let v = view(&plan);
        let text = v.to_text(&["header".into()]);
        assert_eq!(
            text,
            "# header\n\nmodule.m[\"a.b\"].aws_iam_role.this: create\n  id = (known after apply)\n  list = []\n  name = \"r\"\n  policy.Statement[0].Effect = \"Deny\"\n  secret = [sensitive]\n  tags.Owner = \"x\"\n\noutput.o: create\n  value[\"a.b\"] = 1\n"
        );
        assert_eq!(PlanView::parse(&text, "t").unwrap(), v);
        assert_eq!(v.blocks[0].kind(), "aws_iam_role");
        assert_eq!(module_path(&v.blocks[0].address), "module.m[\"a.b\"]");
    }

    #[test]
    fn parse_names_line_of_bad_input() {
        let err = PlanView::parse("a.b: create\n  x = {bad\n", "f.snap").unwrap_err();
        assert!(format!("{err:#}").contains("f.snap:2"), "{err:#}");
        let err = PlanView::parse("  x = 1\n", "f.snap").unwrap_err();
        assert!(format!("{err:#}").contains("f.snap:1"), "{err:#}");
    }

    #[test]
    fn resource_types() {
        for (addr, t) in [
            ("aws_vpc.this", "aws_vpc"),
            ("module.a.module.b[\"x.y\"].aws_subnet.s[\"k\"]", "aws_subnet"),
            ("data.aws_caller_identity.c", "aws_caller_identity"),
            ("output.x", "output"),
        ] {
            assert_eq!(resource_type(addr), t, "{addr}");
        }
    }
}
