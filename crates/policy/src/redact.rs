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
            let red = private_key().replace_all(s, REDACTED);
            *s = access_key()
                .replace_all(&red, |c: &regex::Captures| {
                    format!("{}{}", &c[0][..4], "****************")
                })
                .into_owned();
        }
        _ => {}
    }
}
