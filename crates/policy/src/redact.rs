//! Secret redaction applied to plans before evaluation and to every reported string.
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

pub use crate::patterns::is_secret_name;
use crate::patterns::{access_key, assignment, private_key_block as private_key};

/// Redacts access key ids, private key blocks and `name = value` pairs for secret-like names.
pub fn redact_str(s: &str) -> String {
    let s = private_key().replace_all(s, REDACTED);
    let s = access_key().replace_all(&s, |c: &regex::Captures| {
        format!("{}{}", &c[0][..4], "****************")
    });
    assignment()
        .replace_all(&s, |c: &regex::Captures| format!("{}{}", &c[1], REDACTED))
        .into_owned()
}

/// Replaces secret values in a plan document: values of secret-named attributes, access
/// keys and private keys inside any string.
pub fn redact_value(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if is_secret_name(k)
                    && !child.is_null()
                    && !child.is_boolean()
                    && !child.is_object()
                {
                    *child = Value::String(REDACTED.to_string());
                } else {
                    redact_value(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(s) if access_key().is_match(s) || private_key().is_match(s) => {
            *s = redact_secret_text(s);
        }
        _ => {}
    }
}

/// The engine's input for a plan: [`redact_value`] applied while the plan is converted into
/// the engine's own value, without a redacted copy of the plan or its JSON text (issue 29:
/// the plan is held once as JSON and once as the engine's value, never as text too). Object
/// keys are shared: one allocation per distinct key, as the engine's own JSON reader does.
pub fn engine_input(plan: &Value) -> regorus::Value {
    let mut keys = std::collections::HashMap::new();
    to_engine(plan, &mut keys)
}

fn to_engine<'a>(v: &'a Value, keys: &mut std::collections::HashMap<&'a str, (regorus::Value, bool)>) -> regorus::Value {
    match v {
        Value::Null => regorus::Value::Null,
        Value::Bool(b) => regorus::Value::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => regorus::Value::from(u),
            (None, Some(i)) => regorus::Value::from(i),
            // serde_json holds finite floats only.
            _ => regorus::Value::from(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => regorus::Value::String(redact_secret_text(s).into()),
        Value::Array(items) => regorus::Value::from(items.iter().map(|x| to_engine(x, keys)).collect::<Vec<_>>()),
        Value::Object(map) => {
            let mut out = std::collections::BTreeMap::new();
            for (k, child) in map {
                let (key, secret) = keys
                    .entry(k.as_str())
                    .or_insert_with(|| (regorus::Value::String(k.as_str().into()), is_secret_name(k)))
                    .clone();
                let value = if secret && !child.is_null() && !child.is_boolean() && !child.is_object() {
                    regorus::Value::String(REDACTED.into())
                } else {
                    to_engine(child, keys)
                };
                out.insert(key, value);
            }
            regorus::Value::from(out)
        }
    }
}

/// A plan string with access keys and private key blocks redacted (as [`redact_value`] does).
pub(crate) fn redact_secret_text(s: &str) -> String {
    if access_key().is_match(s) || private_key().is_match(s) {
        let red = private_key().replace_all(s, REDACTED);
        access_key()
            .replace_all(&red, |c: &regex::Captures| format!("{}{}", &c[0][..4], "****************"))
            .into_owned()
    } else {
        s.to_string()
    }
}
