//! Ids validated at the edge, before any use: each command's arguments go through these
//! (as clap value parsers in `xtask`), so an id never reaches a path, a store key or a record
//! unless it has its grammar. Every id is refused for path separators (`/`, `\`; a secret
//! name's `/` segments excepted), `..`, control characters and more than `MAX_ID_LEN`
//! characters; environments must also be one of the repository's [`ENVIRONMENTS`].
use crate::limits::MAX_ID_LEN;
use crate::{InputError, ENVIRONMENTS};

/// The checks every id gets, in this order, with the message naming what failed.
fn common(kind: &str, s: &str, slash_ok: bool) -> Result<(), InputError> {
    if s.is_empty() {
        return Err(InputError::new(format!("an empty {kind} is not allowed")));
    }
    let n = s.chars().count();
    if n > MAX_ID_LEN {
        return Err(InputError::new(format!("{kind} is {n} characters, over the limit of {MAX_ID_LEN} (MAX_ID_LEN)")));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(InputError::new(format!("{kind} {s:?} contains a control character (U+{:04X})", c as u32)));
    }
    if s.contains('\\') || (!slash_ok && s.contains('/')) {
        return Err(InputError::new(format!("{kind} {s:?} contains a path separator")));
    }
    if s.contains("..") {
        return Err(InputError::new(format!("{kind} {s:?} contains \"..\"")));
    }
    Ok(())
}

/// `first` then `rest` characters only.
fn grammar(kind: &str, s: &str, first: fn(char) -> bool, rest: fn(char) -> bool, what: &str) -> Result<String, InputError> {
    let mut chars = s.chars();
    let ok = chars.next().is_some_and(first) && chars.all(rest);
    if ok {
        Ok(s.to_string())
    } else {
        Err(InputError::new(format!("{kind} {s:?} is not {what}")))
    }
}

fn lower_digit(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// An environment: one of the repository's environments (`dev`, `test`, `uat`, `preprod`,
/// `prod`).
pub fn environment(s: &str) -> Result<String, InputError> {
    common("environment", s, false)?;
    grammar("environment", s, |c| c.is_ascii_lowercase(), |c| lower_digit(c) || c == '-', "an environment name ([a-z][a-z0-9-]*)")?;
    if !ENVIRONMENTS.contains(&s) {
        return Err(InputError::new(format!("unknown environment {s:?}: not one of the repository's environments ({})", ENVIRONMENTS.join(", "))));
    }
    Ok(s.to_string())
}

/// A release digest: 8 to 64 hex digits (a unique prefix of the sha256 is enough).
pub fn release(s: &str) -> Result<String, InputError> {
    common("release digest", s, false)?;
    if !(8..=64).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(InputError::new(format!("{s:?} is not a release digest (8 to 64 hex digits)")));
    }
    Ok(s.to_string())
}

/// An identity of the identities register (`priya-raman`, `deploy-pipeline`).
pub fn identity(s: &str) -> Result<String, InputError> {
    common("identity", s, false)?;
    grammar(
        "identity",
        s,
        |c| c.is_ascii_alphanumeric(),
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'),
        "an identity name ([A-Za-z0-9][A-Za-z0-9._@-]*)",
    )
}

/// A module of the catalog (`modules/<name>`).
pub fn module(s: &str) -> Result<String, InputError> {
    common("module", s, false)?;
    grammar("module", s, lower_digit, |c| lower_digit(c) || c == '-' || c == '_', "a module name ([a-z0-9][a-z0-9_-]*)")
}

/// A service of an overlay's `services` map.
pub fn service(s: &str) -> Result<String, InputError> {
    common("service", s, false)?;
    grammar("service", s, lower_digit, |c| lower_digit(c) || c == '-' || c == '_', "a service name ([a-z0-9][a-z0-9_-]*)")
}

/// A run id (a rehearsal's or a store suffix).
pub fn run(s: &str) -> Result<String, InputError> {
    common("run id", s, false)?;
    grammar(
        "run id",
        s,
        |c| c.is_ascii_alphanumeric(),
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
        "a run id ([A-Za-z0-9][A-Za-z0-9._-]*)",
    )
}

/// A secret: its Secrets Manager name (`lz-dev/orders/db-credentials`) or the end of it.
/// `/` separates name segments; no segment is empty, `.` or `..`.
pub fn secret(s: &str) -> Result<String, InputError> {
    common("secret", s, true)?;
    let seg_ok = |seg: &str| {
        !seg.is_empty() && seg != "." && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '=' | '@'))
    };
    if !s.split('/').all(seg_ok) {
        return Err(InputError::new(format!(
            "secret {s:?} is not a secret name (segments of [A-Za-z0-9._+=@-] separated by single '/')"
        )));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Validator = fn(&str) -> Result<String, InputError>;
    const ALL: [(&str, Validator); 7] = [
        ("environment", environment),
        ("release", release),
        ("identity", identity),
        ("module", module),
        ("service", service),
        ("run", run),
        ("secret", secret),
    ];

    #[test]
    fn examples() {
        assert!(environment("prod").is_ok());
        let e = environment("../../../evil").unwrap_err().message;
        assert!(e.contains("path separator"), "{e}");
        let e = environment("staging").unwrap_err().message;
        assert!(e.contains("not one of the repository's environments"), "{e}");
        assert!(release("0123abcd").is_ok() && release("0123abc").is_err() && release("0123abcg").is_err());
        assert!(identity("priya-raman").is_ok() && identity("..").is_err() && identity("a b").is_err());
        assert!(secret("lz-dev/orders/db-credentials").is_ok());
        for bad in ["/abs", "a//b", "a/../b", "a/./b", "trail/", "a\\b"] {
            assert!(secret(bad).is_err(), "{bad}");
        }
        assert!(module("vpc").is_ok() && module("VPC").is_err());
        let long = "a".repeat(MAX_ID_LEN + 1);
        for (kind, v) in ALL {
            let e = v(&long).unwrap_err().message;
            assert!(e.contains("MAX_ID_LEN"), "{kind}: {e}");
            let e = v("a\u{7}b").unwrap_err().message;
            assert!(e.contains("control character"), "{kind}: {e}");
            assert!(v("").is_err(), "{kind}");
        }
    }

    proptest! {
        /// No validator accepts a `..`, a backslash, a control character or an overlong id,
        /// and only the secret's validator a `/`; none panics on any input.
        #[test]
        fn hostile_parts_are_always_refused(prefix in ".{0,20}", hostile in prop_oneof![
            Just("..".to_string()), Just("\\".to_string()), Just("/".to_string()),
            "[\\x00-\\x1f\\x7f]", "[a-z]{129,140}",
        ], suffix in ".{0,20}") {
            let s = format!("{prefix}{hostile}{suffix}");
            for (kind, v) in ALL {
                let r = v(&s);
                if kind == "secret" && hostile == "/" {
                    continue;
                }
                prop_assert!(r.is_err(), "{} accepted {:?}", kind, s);
            }
        }

        /// Accepted ids have no separators, no `..`, no control characters and are bounded.
        #[test]
        fn accepted_ids_are_safe_path_components(s in "\\PC{0,140}") {
            for (kind, v) in ALL {
                if let Ok(id) = v(&s) {
                    prop_assert_eq!(&id, &s);
                    prop_assert!(!id.contains("..") && !id.contains('\\') && id.chars().count() <= MAX_ID_LEN);
                    prop_assert!(!id.chars().any(char::is_control));
                    prop_assert!(kind == "secret" || !id.contains('/'));
                }
            }
        }

        /// Every id of its grammar is accepted.
        #[test]
        fn grammatical_ids_are_accepted(m in "[a-z0-9][a-z0-9_-]{0,60}", i in "[A-Za-z0-9][A-Za-z0-9_@-]{0,60}",
                                        d in "[0-9a-f]{8,64}", sec in "[a-z0-9]{1,10}(/[a-z0-9_-]{1,10}){0,3}") {
            prop_assert!(module(&m).is_ok());
            prop_assert!(service(&m).is_ok());
            prop_assert!(identity(&i).is_ok());
            prop_assert!(run(&i.replace('@', "-")).is_ok());
            prop_assert!(release(&d).is_ok());
            prop_assert!(secret(&sec).is_ok());
        }
    }

    #[test]
    fn every_environment_of_the_repository_is_accepted() {
        for e in ENVIRONMENTS {
            assert_eq!(environment(e).unwrap(), e);
        }
    }
}
