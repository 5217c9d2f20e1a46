//! Secret redaction applied to plans before evaluation and to every reported string.
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

fn access_key() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b")
            .expect("valid regex")
    })
}

fn private_key() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        )
        .expect("valid regex")
    })
}

fn assignment() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)("?[a-z0-9_]*(?:password|passwd|secret|token|secret_string|secret_binary|private_key|secret_key)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;}]+)"#)
            .expect("valid regex")
    })
}

/// Attribute names whose values are secrets.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "secret_string",
        "secret_binary",
        "private_key",
        "secret_key",
        "access_key",
    ]
    .iter()
    .any(|s| n == *s || n.ends_with(&format!("_{s}")))
        || n.starts_with("secret_string")
        || n.starts_with("secret_binary")
}

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
