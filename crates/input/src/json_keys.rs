//! An object naming a key twice: serde_json reads the last of two equal keys, another JSON reader
//! may read the first, so two tools would judge two different documents. One walker finds it,
//! shared by the evidence verifier (signed payloads, `lz_evidence::verify`) and `policy --plan`
//! (`lz_policy::engine_plan`, which also builds the engine's value with these pieces).
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The JSON types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// Where a value sits under its parent.
#[derive(Clone, Copy)]
pub enum Name<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// Where a value sits: spelled ([`At::path`]) only when a key is named twice, so a good
/// document costs no allocation per key.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub parent: Option<&'a At<'a>>,
    pub name: Name<'a>,
}

impl<'a> At<'a> {
    pub const ROOT: At<'static> = At { parent: None, name: Name::Root };

    /// True for a value directly under the root object.
    pub fn is_top_level(&self) -> bool {
        self.parent.is_some_and(|p| p.parent.is_none())
    }

    /// `resource_changes[2].change.after.tags`; a key holding anything but letters, digits,
    /// `_`, `-`, `/`, `:` and `@` is quoted, its quotes and control characters escaped
    /// (`tags."a.b"`), so a path is never ambiguous and never writes raw control characters.
    pub fn path(&self) -> String {
        let mut names = vec![self.name];
        let mut up = self.parent;
        while let Some(a) = up {
            names.push(a.name);
            up = a.parent;
        }
        let mut out = String::new();
        for n in names.into_iter().rev() {
            match n {
                Name::Root => {}
                Name::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || "_-/:@".contains(c)) {
                        out.push_str(k);
                    } else {
                        out.push_str(&format!("{k:?}"));
                    }
                }
                Name::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

/// An object key, borrowed from the text when it holds no escapes.
pub struct Key<'de>(pub Cow<'de, str>);

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

/// A JSON value walked without being held: every object's keys are checked, the first key
/// named twice is an error whose text is `twice(where)`, and the value's type is returned.
#[derive(Clone, Copy)]
pub struct Walk<'a> {
    pub at: At<'a>,
    pub twice: fn(&At<'_>) -> String,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = JsonType;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonType, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = JsonType;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<JsonType, E> {
        Ok(JsonType::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<JsonType, E> {
        Ok(JsonType::Bool)
    }
    fn visit_u64<E>(self, _: u64) -> Result<JsonType, E> {
        Ok(JsonType::Number)
    }
    fn visit_i64<E>(self, _: i64) -> Result<JsonType, E> {
        Ok(JsonType::Number)
    }
    fn visit_f64<E>(self, _: f64) -> Result<JsonType, E> {
        Ok(JsonType::Number)
    }
    fn visit_str<E>(self, _: &str) -> Result<JsonType, E> {
        Ok(JsonType::String)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonType, A::Error> {
        let mut i = 0;
        while seq.next_element_seed(Walk { at: At { parent: Some(&self.at), name: Name::Index(i) }, twice: self.twice })?.is_some() {
            i += 1;
        }
        Ok(JsonType::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonType, A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(Key(name)) = map.next_key::<Key<'de>>()? {
            let here = At { parent: Some(&self.at), name: Name::Key(&name) };
            if seen.contains(&name) {
                return Err(de::Error::custom((self.twice)(&here)));
            }
            map.next_value_seed(Walk { at: here, twice: self.twice })?;
            seen.insert(name);
        }
        Ok(JsonType::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_twice(text: &str) -> Option<String> {
        let mut de = serde_json::Deserializer::from_str(text);
        let e = (Walk { at: At::ROOT, twice: |at| format!("twice: {}", at.path()) }).deserialize(&mut de).err()?;
        Some(e.to_string().split(" at line ").next().unwrap_or_default().to_string())
    }

    #[test]
    fn the_first_key_named_twice_is_found_with_an_unambiguous_path() {
        assert_eq!(first_twice(r#"{"a":1,"b":{"c":[1,{"d":2}]},"x":{"k":1},"y":{"k":2}}"#), None);
        assert_eq!(first_twice(r#"{"l":[{"x":1},{"x":1,"x":2}]}"#).as_deref(), Some("twice: l[1].x"));
        assert_eq!(first_twice(r#"{"env":"dev","\u0065nv":"prod"}"#).as_deref(), Some("twice: env"));
        assert_eq!(first_twice(r#"{"t":{"a.b":1,"a.b":2}}"#).as_deref(), Some(r#"twice: t."a.b""#));
        assert_eq!(first_twice("{\"t\":{\"\\u001b[2J\":1,\"\\u001b[2J\":2}}").as_deref(), Some(r#"twice: t."\u{1b}[2J""#));
    }
}
