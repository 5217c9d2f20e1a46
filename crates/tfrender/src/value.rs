//! The value model: cty-like typed values with unknowns and sensitive marks.
use std::collections::BTreeMap;

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Dynamic,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    pub fn friendly(&self) -> String {
        match self {
            Type::Dynamic => "dynamic".into(),
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(t) => format!("list of {}", t.friendly()),
            Type::Set(t) => format!("set of {}", t.friendly()),
            Type::Map(t) => format!("map of {}", t.friendly()),
            Type::Tuple(_) => "tuple".into(),
            Type::Object(_) => "object".into(),
        }
    }

    /// The JSON type notation used in `terraform show -json` output types.
    pub fn to_json(&self) -> Json {
        match self {
            Type::Dynamic => Json::from("dynamic"),
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::List(t) => Json::Array(vec!["list".into(), t.to_json()]),
            Type::Set(t) => Json::Array(vec!["set".into(), t.to_json()]),
            Type::Map(t) => Json::Array(vec!["map".into(), t.to_json()]),
            Type::Tuple(ts) => Json::Array(vec![
                "tuple".into(),
                Json::Array(ts.iter().map(Type::to_json).collect()),
            ]),
            Type::Object(attrs) => {
                let mut m = serde_json::Map::new();
                for (k, t) in attrs {
                    m.insert(k.clone(), t.to_json());
                }
                Json::Array(vec!["object".into(), Json::Object(m)])
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null(Type),
    Unknown(Type),
    Bool(bool),
    Number(f64),
    String(String),
    List(Type, Vec<Value>),
    Set(Type, Vec<Value>),
    Map(Type, BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Object(BTreeMap<String, Value>),
    Sensitive(Box<Value>),
    /// A resource instance object without a schema: attributes it does not have are unknown.
    Open(Box<Value>),
    /// An unknown value refined as certainly not null.
    NotNull(Box<Value>),
    /// An unknown string refined as starting with a known prefix (a template whose leading
    /// part is known, as `"x: ${uuid()}"`); the inner value is a not-null unknown string.
    Prefixed(String, Box<Value>),
    /// An integer beyond 2^53 as written in the source: computations use the inner
    /// (rounded) number, output keeps the exact digits.
    Exact(i128, Box<Value>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A number, keeping the exact integer when it is beyond what a double holds exactly.
    pub fn number_exact(f: f64, exact: Option<i128>) -> Value {
        match exact {
            Some(i) if i.unsigned_abs() > (1u128 << 53) => Value::Exact(i, Box::new(Value::Number(f))),
            _ => Value::Number(f),
        }
    }

    pub fn dynamic_unknown() -> Value {
        Value::Unknown(Type::Dynamic)
    }

    pub fn null() -> Value {
        Value::Null(Type::Dynamic)
    }

    pub fn ty(&self) -> Type {
        match self {
            Value::Null(t) | Value::Unknown(t) => t.clone(),
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(t, _) => Type::List(Box::new(t.clone())),
            Value::Set(t, _) => Type::Set(Box::new(t.clone())),
            Value::Map(t, _) => Type::Map(Box::new(t.clone())),
            Value::Tuple(vs) => Type::Tuple(vs.iter().map(Value::ty).collect()),
            Value::Object(m) => Type::Object(m.iter().map(|(k, v)| (k.clone(), v.ty())).collect()),
            Value::Sensitive(v) | Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.ty(),
        }
    }

    pub fn is_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.is_sensitive(),
            _ => false,
        }
    }

    /// An unknown known not to be null (ids, uuid(), timestamp(), templates).
    pub fn not_null_unknown(t: Type) -> Value {
        Value::NotNull(Box::new(Value::Unknown(t)))
    }

    /// An unknown string known to start with `prefix` (empty prefix: a plain not-null unknown).
    pub fn prefixed_unknown(prefix: String) -> Value {
        let inner = Value::not_null_unknown(Type::String);
        if prefix.is_empty() {
            inner
        } else {
            Value::Prefixed(prefix, Box::new(inner))
        }
    }

    /// The known prefix of an unknown string, if refined with one.
    pub fn known_prefix(&self) -> Option<&str> {
        match self {
            Value::Prefixed(p, _) => Some(p),
            Value::Sensitive(v) | Value::Open(v) => v.known_prefix(),
            _ => None,
        }
    }

    pub fn is_refined_not_null(&self) -> bool {
        match self {
            Value::NotNull(_) | Value::Prefixed(..) => true,
            Value::Sensitive(v) | Value::Open(v) => v.is_refined_not_null(),
            _ => false,
        }
    }

    pub fn is_open(&self) -> bool {
        match self {
            Value::Open(_) => true,
            Value::Sensitive(v) => v.is_open(),
            _ => false,
        }
    }

    /// The value without its top-level sensitive mark, and whether it had one.
    pub fn unmark(&self) -> (&Value, bool) {
        match self {
            Value::Sensitive(v) => (v.unmark().0, true),
            Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.unmark(),
            v => (v, false),
        }
    }

    pub fn into_unmarked(self) -> (Value, bool) {
        match self {
            Value::Sensitive(v) => (v.into_unmarked().0, true),
            Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.into_unmarked(),
            v => (v, false),
        }
    }

    pub fn mark(self, sensitive: bool) -> Value {
        if sensitive && !self.is_sensitive() {
            Value::Sensitive(Box::new(self))
        } else {
            self
        }
    }

    /// Whether any part of the value carries a sensitive mark.
    pub fn has_sensitive_deep(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.has_sensitive_deep(),
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => vs.iter().any(Value::has_sensitive_deep),
            Value::Map(_, m) | Value::Object(m) => m.values().any(Value::has_sensitive_deep),
            _ => false,
        }
    }

    /// Strip every sensitive mark at any depth.
    pub fn unmark_deep(&self) -> Value {
        match self {
            Value::Sensitive(v) | Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) => v.unmark_deep(),
            Value::Exact(i, v) => Value::Exact(*i, v.clone()),
            Value::List(t, vs) => Value::List(t.clone(), vs.iter().map(Value::unmark_deep).collect()),
            Value::Set(t, vs) => Value::Set(t.clone(), vs.iter().map(Value::unmark_deep).collect()),
            Value::Tuple(vs) => Value::Tuple(vs.iter().map(Value::unmark_deep).collect()),
            Value::Map(t, m) => Value::Map(t.clone(), m.iter().map(|(k, v)| (k.clone(), v.unmark_deep())).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), v.unmark_deep())).collect()),
            v => v.clone(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmark().0, Value::Null(_))
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unmark().0, Value::Unknown(_))
    }

    /// Whether the value is fully known at every depth.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(v) | Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.is_wholly_known(),
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => vs.iter().all(Value::is_wholly_known),
            Value::Map(_, m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// Elements of a sequence-like or map-like value (unmarked container).
    pub fn elements(&self) -> Option<Vec<(Value, Value)>> {
        match self.unmark().0 {
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => Some(
                vs.iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v.clone())).collect(),
            ),
            Value::Map(_, m) | Value::Object(m) => {
                Some(m.iter().map(|(k, v)| (Value::str(k.clone()), v.clone())).collect())
            }
            _ => None,
        }
    }

    pub fn type_name(&self) -> String {
        self.ty().friendly()
    }

    /// Plain JSON with unknowns as null (used where unknowns were already excluded).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null(_) | Value::Unknown(_) => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_json(*n),
            Value::String(s) => Json::String(s.clone()),
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
                Json::Array(vs.iter().map(Value::to_json).collect())
            }
            Value::Map(_, m) | Value::Object(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Sensitive(v) | Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) => v.to_json(),
            Value::Exact(i, v) => exact_json(*i).unwrap_or_else(|| v.to_json()),
        }
    }

    /// `after`/`values` form: unknown object attributes omitted, unknown elements as null.
    /// Returns None for a top-level unknown.
    pub fn to_json_known(&self) -> Option<Json> {
        Some(match self {
            Value::Unknown(_) => return None,
            Value::Sensitive(v) | Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) => return v.to_json_known(),
            Value::Exact(i, v) => return exact_json(*i).or_else(|| v.to_json_known()),
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
                Json::Array(vs.iter().map(|v| v.to_json_known().unwrap_or(Json::Null)).collect())
            }
            Value::Map(_, m) | Value::Object(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    if let Some(j) = v.to_json_known() {
                        o.insert(k.clone(), j);
                    }
                }
                Json::Object(o)
            }
            v => v.to_json(),
        })
    }

    /// `after_unknown` form.
    pub fn unknown_as_bool(&self) -> Json {
        match self {
            Value::Sensitive(v) | Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.unknown_as_bool(),
            Value::Null(_) => Json::Bool(false),
            Value::Unknown(_) => Json::Bool(true),
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
                Json::Array(vs.iter().map(Value::unknown_as_bool).collect())
            }
            Value::Map(_, m) | Value::Object(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    let b = v.unknown_as_bool();
                    if b != Json::Bool(false) {
                        o.insert(k.clone(), b);
                    }
                }
                Json::Object(o)
            }
            _ => Json::Bool(false),
        }
    }

    /// `after_sensitive`/`sensitive_values` form.
    pub fn sensitive_as_bool(&self) -> Json {
        match self {
            Value::Sensitive(_) => Json::Bool(true),
            Value::Open(v) | Value::NotNull(v) | Value::Prefixed(_, v) | Value::Exact(_, v) => v.sensitive_as_bool(),
            Value::Null(_) | Value::Bool(_) | Value::Number(_) | Value::String(_) => Json::Bool(false),
            Value::Unknown(t) => match t {
                Type::List(_) | Type::Set(_) | Type::Tuple(_) => Json::Array(vec![]),
                Type::Map(_) | Type::Object(_) => Json::Object(Default::default()),
                _ => Json::Bool(false),
            },
            Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
                Json::Array(vs.iter().map(Value::sensitive_as_bool).collect())
            }
            Value::Map(_, m) | Value::Object(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    let b = v.sensitive_as_bool();
                    if b != Json::Bool(false) {
                        o.insert(k.clone(), b);
                    }
                }
                Json::Object(o)
            }
        }
    }

    /// Value from JSON (jsondecode, tfvars.json): objects and tuples.
    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::null(),
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => {
                let exact = n.as_u64().map(i128::from).or_else(|| n.as_i64().map(i128::from));
                Value::number_exact(n.as_f64().unwrap_or(0.0), exact)
            }
            Json::String(s) => Value::str(s.clone()),
            Json::Array(a) => Value::Tuple(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }
}

/// HCL normalizes string literals to Unicode normal form C.
pub fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if s.is_ascii() {
        return s.to_string();
    }
    s.nfc().collect()
}

/// Terraform counts and slices strings by grapheme cluster.
pub fn graphemes(s: &str) -> Vec<&str> {
    use unicode_segmentation::UnicodeSegmentation;
    s.graphemes(true).collect()
}

fn exact_json(i: i128) -> Option<Json> {
    if let Ok(x) = i64::try_from(i) {
        return Some(Json::from(x));
    }
    u64::try_from(i).ok().map(Json::from)
}

pub fn number_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
    }
}

/// Terraform computes with big decimals: 0.1 + 0.2 is 0.3 there. Rounding to 15 significant
/// digits removes the binary floating-point noise from results.
pub fn round15(n: f64) -> f64 {
    if !n.is_finite() || n == 0.0 {
        return n;
    }
    let s = format!("{:.14e}", n);
    s.parse().unwrap_or(n)
}

/// Terraform's number-to-string conversion.
pub fn number_string(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i128)
    } else {
        format!("{n}")
    }
}

/// Deep equality as the `==` operator sees it; None when unknown.
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    if (a.is_refined_not_null() && b.is_null()) || (b.is_refined_not_null() && a.is_null()) {
        return Some(false);
    }
    let (a, _) = a.unmark();
    let (b, _) = b.unmark();
    match (a, b) {
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => None,
        (Value::Null(_), Value::Null(_)) => Some(true),
        (Value::Null(_), _) | (_, Value::Null(_)) => Some(false),
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::Number(x), Value::Number(y)) => Some(x == y),
        (Value::String(x), Value::String(y)) => Some(x == y),
        (Value::List(_, xs), Value::List(_, ys))
        | (Value::Tuple(xs), Value::Tuple(ys))
        | (Value::Set(_, xs), Value::Set(_, ys)) => {
            if a.ty() != b.ty() && !(types_loosely_equal(&a.ty(), &b.ty())) {
                return Some(false);
            }
            if xs.len() != ys.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (x, y) in xs.iter().zip(ys) {
                match equals(x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    _ => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        (Value::Map(_, xs), Value::Map(_, ys)) | (Value::Object(xs), Value::Object(ys)) => {
            if xs.len() != ys.len() || xs.keys().ne(ys.keys()) {
                return Some(false);
            }
            if a.ty() != b.ty() && !(types_loosely_equal(&a.ty(), &b.ty())) {
                return Some(false);
            }
            let mut unknown = false;
            for (x, y) in xs.values().zip(ys.values()) {
                match equals(x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    _ => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        _ => Some(false),
    }
}

fn types_loosely_equal(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Dynamic, _) | (_, Type::Dynamic) => true,
        (Type::List(x), Type::List(y)) | (Type::Set(x), Type::Set(y)) | (Type::Map(x), Type::Map(y)) => {
            types_loosely_equal(x, y)
        }
        (Type::Tuple(x), Type::Tuple(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| types_loosely_equal(a, b)),
        (Type::Object(x), Type::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, a), (kb, b))| ka == kb && types_loosely_equal(a, b))
        }
        _ => a == b,
    }
}

/// Order of set elements as cty stores them: strings lexically, numbers numerically.
/// Sets cannot hold marked elements: a sensitive element makes the whole set sensitive.
pub fn set_value(t: Type, mut vs: Vec<Value>) -> Value {
    let marked = vs.iter().any(Value::has_sensitive_deep);
    if marked {
        vs = vs.iter().map(Value::unmark_deep).collect();
    }
    sort_set(&mut vs);
    Value::Set(t, vs).mark(marked)
}

pub fn sort_set(vs: &mut Vec<Value>) {
    vs.sort_by(|a, b| {
        let (a, _) = a.unmark();
        let (b, _) = b.unmark();
        match (a, b) {
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::Unknown(_), Value::Unknown(_)) => std::cmp::Ordering::Equal,
            (Value::Unknown(_), _) => std::cmp::Ordering::Greater,
            (_, Value::Unknown(_)) => std::cmp::Ordering::Less,
            _ => a.to_json().to_string().cmp(&b.to_json().to_string()),
        }
    });
    let mut out: Vec<Value> = Vec::with_capacity(vs.len());
    for v in vs.drain(..) {
        if v.is_wholly_known() {
            if let Some(last) = out.last() {
                if last.is_wholly_known() && equals(last, &v) == Some(true) && last.is_sensitive() == v.is_sensitive() {
                    continue;
                }
            }
        }
        out.push(v);
    }
    *vs = out;
}
