//! A signed payload names each key of an object once. serde reads the last of two equal keys
//! (or refuses them, depending on the reader), and another JSON reader may read the first: a
//! signer could then sign one statement that the verifier and an auditor's own tool read as two
//! different facts. The verifier refuses such a payload before reading it.

use lz_input::json_keys::{At, Walk};
use serde::de::DeserializeSeed;

/// The first key that some object of the JSON text `payload` names twice, with its path
/// (`predicate.details.outcome`; the walker is shared with `policy --plan`,
/// `lz_input::json_keys`), or `None`. Text that is not JSON is `None` too: the statement's own
/// decoding names that error.
pub(super) fn repeated_key(payload: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    match (Walk { at: At::ROOT, twice: |at| format!("{MARK}{}", at.path()) }).deserialize(&mut de) {
        Ok(_) => None,
        Err(e) => {
            let text = e.to_string();
            text.strip_prefix(MARK).map(|rest| rest.split(" at line ").next().unwrap_or(rest).to_string())
        }
    }
}

const MARK: &str = "repeated key: ";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::testing;

    /// The last record of a good chain re-signed by its own signer, its payload passed through
    /// `f`: with the payload unchanged the chain verifies; with a key named twice it is refused
    /// at that record, naming the key.
    #[test]
    fn a_signed_payload_naming_a_key_twice_is_refused_at_its_record() {
        let c = testing::chain(1);
        let last = c.records.len() - 1;
        let resigned = |f: &dyn Fn(&str) -> String| {
            testing::edited(&c.records, last, |text| {
                let env: crate::dsse::Envelope = serde_json::from_str(text).unwrap();
                let payload = String::from_utf8(env.payload_bytes().unwrap()).unwrap();
                let keyid = &env.signatures[0].keyid;
                let signer = [&c.team.deployer, &c.team.approver].into_iter().find(|s| s.keyid() == keyid).expect("a team member signed it");
                let env = crate::dsse::Envelope::sign(f(&payload).as_bytes(), &env.payload_type, signer).unwrap();
                String::from_utf8(env.to_canonical()).unwrap()
            })
        };
        crate::verify::verify_chain(&resigned(&|p| p.to_string()), &c.root).expect("re-signing the same payload changes nothing");
        let twice = resigned(&|p| {
            let at = p.find("\"release\":").expect("every predicate names its release");
            format!("{}\"release\":\"{}\",{}", &p[..at], "0".repeat(64), &p[at..])
        });
        let e = crate::verify::verify_chain(&twice, &c.root).unwrap_err();
        let f = crate::verify::failure_of(&e).unwrap_or_else(|| panic!("{e:#}"));
        assert_eq!((f.sequence, f.reason.code()), (None, "statement"), "{e:#}");
        assert!(f.reason.to_string().contains("names key predicate.release twice"), "{}", f.reason);
    }

    #[test]
    fn a_key_named_twice_in_any_object_is_found_with_its_path() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#"{"a":1,"b":{"c":[1,{"d":2}]}}"#, None),
            (r#"{"a":1,"a":2}"#, Some("a")),
            (r#"{"p":{"details":{"outcome":"failed","outcome":"succeeded"}}}"#, Some("p.details.outcome")),
            (r#"{"l":[{"x":1},{"x":1,"x":2}]}"#, Some("l[1].x")),
            // An escaped spelling of the same key is the same key.
            (r#"{"env":"dev","\u0065nv":"prod"}"#, Some("env")),
            // Equal keys in different objects are fine.
            (r#"{"x":{"k":1},"y":{"k":2}}"#, None),
            // Not JSON: the statement's decoding names the error.
            ("not json", None),
        ];
        for (text, want) in cases {
            assert_eq!(repeated_key(text.as_bytes()).as_deref(), *want, "{text}");
        }
    }
}
