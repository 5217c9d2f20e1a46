//! The one set of secret patterns: redaction of plans and reports (`lz_policy::redact`), the
//! secret scan of sources (`lz_policy::scan`) and the evidence archive's redactor
//! (`lz_evidence::redact`) all build on these, so they cannot drift apart.
use std::sync::OnceLock;

use regex::Regex;

/// Prefixes of AWS access key ids (user, temporary, group, role, ... keys).
pub const ACCESS_KEY_PREFIXES: [&str; 9] = [
    "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA",
];

/// Attribute and variable names whose values are secrets: a name equal to one of these or
/// ending in `_<one of these>`.
pub const SECRET_NAMES: [&str; 9] = [
    "password",
    "passwd",
    "secret",
    "token",
    "secret_string",
    "secret_binary",
    "private_key",
    "secret_key",
    "access_key",
];

/// Words that make any attribute name the archive stores a secret's name wherever they stand
/// in it (`db_password_hash`, `tokens`, `my_api_key_v2`): the evidence archive is signed and
/// undeletable, so its redactor ([`names_a_secret`]) errs wide.
pub const SECRET_WORDS: [&str; 7] = ["secret", "password", "passwd", "token", "private_key", "credential", "api_key"];

fn names_alternation() -> String {
    SECRET_NAMES.join("|")
}

/// An AWS access key id anywhere in a text.
pub fn access_key() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r"\b(?:{})[A-Z0-9]{{16}}\b",
            ACCESS_KEY_PREFIXES.join("|")
        ))
        .expect("valid regex")
    })
}

/// The header of a PEM private key block.
pub fn private_key_header() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-----BEGIN [A-Z ]*PRIVATE KEY-----").expect("valid regex"))
}

/// A whole PEM private key block (to its END line, or to the end of the text).
pub fn private_key_block() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        )
        .expect("valid regex")
    })
}

/// `name = value` / `"name": value` for a secret name anywhere in a text: group 1 is the
/// name with its separator, group 2 the value (quoted or bare).
pub fn assignment() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r#"(?i)("?[a-z0-9_]*(?:{})"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;}}]+)"#,
            names_alternation()
        ))
        .expect("valid regex")
    })
}

/// A source line assigning a quoted string to a secret name: group 1 the name, group 2 the
/// value.
pub fn quoted_assignment() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r#"(?i)^\s*"?([a-z0-9_]*(?:{}))"?\s*[=:]\s*"([^"]*)""#,
            names_alternation()
        ))
        .expect("valid regex")
    })
}

/// True for an attribute name whose value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_NAMES
        .iter()
        .any(|s| n == *s || n.ends_with(&format!("_{s}")))
        || n.starts_with("secret_string")
        || n.starts_with("secret_binary")
}

/// True for a name whose value never enters the evidence archive: a secret name
/// ([`is_secret_name`]) or one containing a [`SECRET_WORDS`] word anywhere.
pub fn names_a_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w)) || is_secret_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_errs_wider_than_the_scan() {
        for n in ["password", "db_secret_key", "access_key"] {
            assert!(is_secret_name(n) && names_a_secret(n), "{n}");
        }
        for n in ["api_key", "tokens", "db_password_hash", "Credentials"] {
            assert!(names_a_secret(n) && !is_secret_name(n), "{n}");
        }
        assert!(!names_a_secret("description"));
        assert!(access_key().is_match("x AKIAIOSFODNN7EXAMPLE y"));
        assert!(private_key_block().is_match("-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----"));
    }
}
