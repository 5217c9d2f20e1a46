//! A signed payload names each key of an object once. serde reads the last of two equal keys
//! (or refuses them, depending on the reader), and another JSON reader may read the first: a
//! signer could then sign one statement that the verifier and an auditor's own tool read as two
//! different facts. The verifier refuses such a payload before reading it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The first key that some object of the JSON text `payload` names twice, with its path
/// (`predicate.details.outcome`), or `None`. Text that is not JSON is `None` too: the statement's
/// own decoding names that error.
pub(super) fn repeated_key(payload: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    match (Walk { parent: None, name: Name::Root }).deserialize(&mut de) {
        Ok(()) => None,
        Err(e) => {
            let text = e.to_string();
            text.strip_prefix(MARK).map(|rest| rest.split(" at line ").next().unwrap_or(rest).to_string())
        }
    }
}

const MARK: &str = "repeated key: ";

/// Where a value sits: its key or index under its parent (the path is spelled only on error,
/// so a good payload costs no allocation per key).
#[derive(Clone, Copy)]
enum Name<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// One JSON value: objects check their keys, arrays and objects recurse.
#[derive(Clone, Copy)]
struct Walk<'a> {
    parent: Option<&'a Walk<'a>>,
    name: Name<'a>,
}

impl Walk<'_> {
    /// `a.b[2].c` for the value itself.
    fn path(&self) -> String {
        let mut names = vec![self.name];
        let mut at = self.parent;
        while let Some(w) = at {
            names.push(w.name);
            at = w.parent;
        }
        let mut out = String::new();
        for n in names.iter().rev() {
            match n {
                Name::Root => {}
                Name::Key(k) if out.is_empty() => out.push_str(k),
                Name::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Name::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A key, borrowed from the payload when it needs no unescaping.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if seen.contains(&key) {
                let twice = Walk { parent: Some(&self), name: Name::Key(&key) };
                return Err(de::Error::custom(format!("{MARK}{}", twice.path())));
            }
            map.next_value_seed(Walk { parent: Some(&self), name: Name::Key(&key) })?;
            seen.insert(key);
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq.next_element_seed(Walk { parent: Some(&self), name: Name::Index(i) })?.is_some() {
            i += 1;
        }
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

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
