//! A parsed JSON document as the plan checks read it ([`crate::input::classify`],
//! [`crate::input::check_shape`]), whichever form it was parsed into: serde_json's value (plans
//! rendered in-process, fixtures) or the policy engine's own value (`policy --plan FILE`, read
//! straight into the engine's form, see [`crate::engine_plan`]). One implementation of the checks
//! serves both, so both forms are accepted or refused alike.

/// The JSON types, named as the checks' messages name them.
pub fn type_name_of(t: Type) -> &'static str {
    match t {
        Type::Null => "null",
        Type::Bool => "boolean",
        Type::Number => "number",
        Type::String => "string",
        Type::Array => "array",
        Type::Object => "object",
    }
}

/// The JSON types (one enum with the duplicate-key walker of `lz_input::json_keys`).
pub use lz_input::json_keys::JsonType as Type;

/// What the checks read of a JSON value.
pub trait Doc: Sized {
    fn kind(&self) -> Type;
    /// The value of `key` when this is an object holding it.
    fn get(&self, key: &str) -> Option<&Self>;
    /// An object's entries (none for any other type).
    fn entries(&self) -> Box<dyn Iterator<Item = (&str, &Self)> + '_>;
    /// An array's items (none for any other type).
    fn items(&self) -> &[Self];
    fn as_str(&self) -> Option<&str>;
    /// A number as JSON writes it.
    fn number_text(&self) -> Option<String>;

    fn is_object(&self) -> bool {
        self.kind() == Type::Object
    }
    fn is_array(&self) -> bool {
        self.kind() == Type::Array
    }
    fn is_string(&self) -> bool {
        self.kind() == Type::String
    }
    fn is_null(&self) -> bool {
        self.kind() == Type::Null
    }
    fn is_boolean(&self) -> bool {
        self.kind() == Type::Bool
    }
    fn type_name(&self) -> &'static str {
        type_name_of(self.kind())
    }
}

impl Doc for serde_json::Value {
    fn kind(&self) -> Type {
        use serde_json::Value as V;
        match self {
            V::Null => Type::Null,
            V::Bool(_) => Type::Bool,
            V::Number(_) => Type::Number,
            V::String(_) => Type::String,
            V::Array(_) => Type::Array,
            V::Object(_) => Type::Object,
        }
    }
    fn get(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }
    fn entries(&self) -> Box<dyn Iterator<Item = (&str, &Self)> + '_> {
        Box::new(self.as_object().into_iter().flatten().map(|(k, v)| (k.as_str(), v)))
    }
    fn items(&self) -> &[Self] {
        self.as_array().map_or(&[], Vec::as_slice)
    }
    fn as_str(&self) -> Option<&str> {
        serde_json::Value::as_str(self)
    }
    fn number_text(&self) -> Option<String> {
        self.as_number().map(ToString::to_string)
    }
}

impl Doc for regorus::Value {
    fn kind(&self) -> Type {
        use regorus::Value as V;
        match self {
            V::Null | V::Undefined => Type::Null,
            V::Bool(_) => Type::Bool,
            V::Number(_) => Type::Number,
            V::String(_) => Type::String,
            V::Array(_) | V::Set(_) => Type::Array,
            V::Object(_) => Type::Object,
        }
    }
    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            regorus::Value::Object(o) => o.get(&regorus::Value::from(key)),
            _ => None,
        }
    }
    fn entries(&self) -> Box<dyn Iterator<Item = (&str, &Self)> + '_> {
        match self {
            regorus::Value::Object(o) => Box::new(o.iter().filter_map(|(k, v)| match k {
                regorus::Value::String(k) => Some((k.as_ref(), v)),
                _ => None,
            })),
            _ => Box::new(std::iter::empty()),
        }
    }
    fn items(&self) -> &[Self] {
        match self {
            regorus::Value::Array(a) => a.as_slice(),
            _ => &[],
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            regorus::Value::String(s) => Some(s),
            _ => None,
        }
    }
    fn number_text(&self) -> Option<String> {
        match self {
            regorus::Value::Number(_) => serde_json::to_string(self).ok(),
            _ => None,
        }
    }
}
