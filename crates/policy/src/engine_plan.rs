//! `policy --plan FILE`: the plan file read straight into the policy engine's own value, in one
//! pass over its text, without serde_json's value of the whole plan beside it (issue 29: the
//! peak memory of `policy --plan` is the text while it is read, then the engine's value).
//!
//! The contract is that of [`crate::read_plan`]: the same encodings (UTF-8 with or without a
//! byte-order mark, UTF-16 with one), malformed JSON named by file, line and column, a document
//! that is not a plan or a plan of the wrong shape refused with the same message (the checks of
//! [`crate::input`] run on this value too, see [`crate::doc`]), secrets redacted exactly as
//! [`crate::redact::engine_input`] redacts them. One thing is stricter: an object naming a key
//! twice is refused (serde_json keeps the last, another reader may keep the first, so two tools
//! would judge two different plans). The parts of the plan no rule reads are walked but not held
//! (see [`RULES_READ`]).
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use anyhow::{bail, Result};
use regorus::Value;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::doc::{Doc, Type};
use crate::input::{self, Kind};
use crate::patterns::{access_key, private_key_block};
use crate::redact::{is_secret_name, redact_secret_text, redact_str, REDACTED};
use lz_input::json_keys::{At, Key, Name, Walk};

/// A plan ready for the engine, made only by [`read`] or [`parse`] (checked, secrets redacted):
/// its fields are private, so no caller hands the engine unchecked or unredacted input, and it
/// records which parts it holds, so [`crate::Policies::findings_engine`] refuses a plan holding
/// less than the policies in force read.
pub struct EnginePlan {
    /// The engine's input: the plan, secrets redacted.
    input: Value,
    /// The plan's `environment` variable, "" when absent (as [`crate::plan_environment`] reads it).
    environment: String,
    held: Held,
}

impl EnginePlan {
    /// The engine's input: the plan, secrets redacted, the parts not held empty.
    pub fn input(&self) -> &Value {
        &self.input
    }
    /// The plan's `environment` variable, "" when absent.
    pub fn environment(&self) -> &str {
        &self.environment
    }
    /// Which parts of the plan are held.
    pub fn held(&self) -> Held {
        self.held
    }
    pub(crate) fn into_input(self) -> Value {
        self.input
    }
}

/// Which parts of a plan are held: only [`RULES_READ`] when the policies in force read no other
/// part ([`Held::for_policies`]), else all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    RulesRead,
    All,
}

impl Held {
    /// [`Held::RulesRead`] when no policy of `tree` reads a part of the input beyond
    /// [`RULES_READ`] ([`reads_beyond_the_held_parts`]): policies newer than this binary that
    /// read more get the whole plan, never an empty part.
    pub fn for_policies(tree: &crate::PolicyTree) -> Self {
        if tree.files.iter().filter(|f| !f.is_test).all(|f| reads_beyond_the_held_parts(&f.rel, &f.text).is_empty()) {
            Held::RulesRead
        } else {
            Held::All
        }
    }
}

/// The places of a policy's text where it reads a part of the input other than [`RULES_READ`],
/// or the input as a whole: `file:line: text`. The text is read as Rego tokens are: comments and
/// the insides of strings and raw strings (which may span lines) are not code, so a `#` inside
/// a string hides nothing. `object.get(input, "part", ...)` is allowed only as the builtin: not
/// `lib.object.get(`, not `x_object.get(`, and nowhere once a file imports or defines a name
/// `object` that could stand for it. Text the scan cannot read (an unterminated string) is named
/// too: when in doubt the whole plan is held.
pub fn reads_beyond_the_held_parts(rel: &str, text: &str) -> Vec<String> {
    static RES: std::sync::OnceLock<[regex::Regex; 4]> = std::sync::OnceLock::new();
    let [allowed, word, builtin, shadow] = RES.get_or_init(|| {
        let parts = RULES_READ.join("|");
        [
            regex::Regex::new(&format!(r#"^input\.({parts})\b|^input, *"({parts})"|^input, *\["({parts})""#)).expect("a valid pattern"),
            regex::Regex::new(r"\binput\b").expect("a valid pattern"),
            regex::Regex::new(r"(?:^|[^\w.])object\.get\(\s*$").expect("a valid pattern"),
            // `import ... object`, `import ... as object`, or a rule named `object` (a head at the
            // start of a line): `object.get` may then not be the builtin.
            regex::Regex::new(r"(?m)^[ \t]*import\b[^\n]*\bobject\b|^object\b").expect("a valid pattern"),
        ]
    });
    let line_of = |at: usize| text[..at].matches('\n').count();
    let line_text = |i: usize| text.lines().nth(i).unwrap_or("").trim().to_string();
    let mut out = Vec::new();
    let code = match code_only(text) {
        Ok(code) => code,
        Err(at) => {
            let i = line_of(at);
            return vec![format!("{rel}:{}: a string that does not end (the scan cannot read the file): {}", i + 1, line_text(i))];
        }
    };
    let shadowed = shadow.find(&code).map(|m| line_of(m.start()));
    if let Some(i) = shadowed {
        out.push(format!("{rel}:{}: a name `object` other than the builtin's: {}", i + 1, line_text(i)));
    }
    for m in word.find_iter(&code) {
        let rest = &text[m.start()..];
        let direct = rest.starts_with("input.");
        let ok = allowed.is_match(rest) && (direct || (shadowed.is_none() && builtin.is_match(&code[..m.start()])));
        if !ok {
            let i = line_of(m.start());
            out.push(format!("{rel}:{}: {}", i + 1, line_text(i)));
        }
    }
    out
}

/// The Rego text with its comments and the insides of its strings and raw strings blanked
/// (each byte a space, newlines kept), so offsets and lines stay those of the text. An
/// unterminated string is an error at its start.
fn code_only(text: &str) -> std::result::Result<String, usize> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            q @ (b'"' | b'`') => {
                let start = i;
                out.push(q);
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(start),
                        Some(b'\n') if q == b'"' => return Err(start),
                        Some(&c) if c == q => {
                            out.push(q);
                            i += 1;
                            break;
                        }
                        Some(b'\\') if q == b'"' => {
                            out.extend(b"  ");
                            i += 2;
                            if i > b.len() {
                                return Err(start);
                            }
                            if b[i - 1] == b'\n' {
                                return Err(start);
                            }
                        }
                        Some(&c) => {
                            out.push(if c == b'\n' { b'\n' } else { b' ' });
                            i += 1;
                        }
                    }
                }
            }
            c => {
                out.push(if c.is_ascii() { c } else { b' ' });
                i += 1;
            }
        }
    }
    // Only ASCII bytes were written.
    Ok(String::from_utf8(out).expect("ASCII"))
}

/// Reads a plan file as [`crate::read_plan`] does, into the engine's value.
pub fn read(path: &Path, held: Held) -> Result<EnginePlan> {
    let bytes = lz_input::read_bytes(path, lz_input::limits::MAX_PLAN_BYTES, "MAX_PLAN_BYTES")?;
    let name = path.display().to_string();
    let text = input::decode_owned(bytes, &name)?;
    parse(&text, &name, held)
}

/// Parses decoded plan text as [`crate::parse_plan`] does, into the engine's value.
pub fn parse(text: &str, name: &str, held: Held) -> Result<EnginePlan> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut shared = Shared::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Build { shared: &mut shared, held, at: At::ROOT }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| input::json_error(&e, name))?;
    let Shared { keys, float_version, .. } = shared;
    // A numeric `format_version` written with a fraction (`1.0`) is named as serde_json names
    // it ("1.0"), not as the engine writes the number ("1"): the checks read the same text.
    let probe = match &float_version {
        Some(t) => {
            let mut p = value.clone();
            if let Ok(o) = p.as_object_mut() {
                o.insert(Value::from("format_version"), Value::from(t.as_str()));
            }
            Cow::Owned(p)
        }
        None => Cow::Borrowed(&value),
    };
    let plan_ok = matches!(input::classify(probe.as_ref()), Kind::Plan(_))
        && value.get("resource_changes").map_or(0, |r| r.items().len()) <= lz_input::limits::MAX_RESOURCES
        && input::check_shape(&value).is_ok();
    drop(probe);
    if !plan_ok {
        // The same checks refused it: serde_json's reading names what it is and where.
        return match input::parse(text, name) {
            Err(e) => Err(e),
            Ok(_) => bail!("{name}: the plan's two readings disagree on whether it is a well-formed plan (a defect)"),
        };
    }
    let environment = ["variables", "environment", "value"]
        .iter()
        .try_fold(&value, |v, k| v.get(k))
        .and_then(Doc::as_str)
        .unwrap_or_default()
        .to_string();
    let value = redacted(&value, &keys).unwrap_or(value);
    Ok(EnginePlan { input: value, environment, held })
}

/// Each distinct object key once (a plan repeats a few hundred keys over and over), and
/// whether it names a secret.
type Keys = HashMap<Box<str>, (Value, bool)>;

/// What the values built from one plan share (issue 29: the engine's value of a plan was about
/// five times its compact JSON). The engine's values are immutable and reference counted, so a
/// value held once and referenced from many places reads exactly as the copies would.
#[derive(Default)]
struct Shared<'de> {
    keys: Keys,
    /// Each distinct string value once (types, actions, provider names, regions and tag values
    /// repeat in every resource). Keyed by the plan's own text: the table copies no string.
    strings: HashMap<&'de str, Value>,
    /// Each distinct small object or array once (tags, `after_unknown`, `{}`, `[]`, action
    /// lists): see [`SMALL`].
    small: BTreeSet<Value>,
    /// The text serde_json gives a top-level `format_version` read as a fractional number.
    float_version: Option<String>,
    /// How many numbers with a fraction or an exponent were read so far: a value holding one is
    /// never shared, since the engine orders `1.0` equal to `1` and a shared copy could print
    /// the other way.
    floats: usize,
}

/// An object or array of at most this many values in all (itself and everything inside it) is
/// held once however often the plan repeats it: large enough for a resource's tags or
/// `after_unknown`, small enough that comparing two of them stays cheap.
const SMALL: usize = 32;

impl Shared<'_> {
    /// The one held copy of `v` when it is small and holds no number read with a fraction or an
    /// exponent (`floats` is the count before `v` was read), else `v`.
    fn share(&mut self, v: Value, floats: usize) -> Value {
        let mut budget = SMALL;
        if self.floats != floats || !small(&v, &mut budget) {
            return v;
        }
        if let Some(held) = self.small.get(&v) {
            return held.clone();
        }
        self.small.insert(v.clone());
        v
    }
}

/// Whether `v` holds at most `budget` values in all, itself included.
fn small(v: &Value, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match v {
        Value::Array(a) => a.iter().all(|x| small(x, budget)),
        Value::Object(o) => o.iter().all(|(_, x)| small(x, budget)),
        _ => true,
    }
}

/// `v` with its secrets replaced, as [`crate::redact::engine_input`] replaces them while
/// converting (a secret-named attribute's value unless null, a boolean or an object; access keys
/// and private key blocks inside any string), or `None` when it holds none. Only the objects and
/// arrays on the way to a replaced value are rebuilt: every other part stays shared.
fn redacted(v: &Value, keys: &Keys) -> Option<Value> {
    match v {
        Value::String(s) => (access_key().is_match(s) || private_key_block().is_match(s)).then(|| Value::String(redact_secret_text(s).into())),
        Value::Array(items) => {
            let mut out: Option<Vec<Value>> = None;
            for (i, x) in items.iter().enumerate() {
                if let Some(r) = redacted(x, keys) {
                    out.get_or_insert_with(|| items.iter().cloned().collect())[i] = r;
                }
            }
            out.map(Value::from)
        }
        Value::Object(object) => {
            let mut out: Option<BTreeMap<Value, Value>> = None;
            for (k, child) in object.iter() {
                let secret = match k {
                    Value::String(s) => keys.get(s.as_ref()).is_some_and(|(_, secret)| *secret),
                    _ => false,
                };
                let replaced = if secret && !matches!(child, Value::Null | Value::Bool(_) | Value::Object(_)) {
                    Some(Value::String(REDACTED.into()))
                } else {
                    redacted(child, keys)
                };
                if let Some(r) = replaced {
                    out.get_or_insert_with(|| object.iter().map(|(k, x)| (k.clone(), x.clone())).collect()).insert(k.clone(), r);
                }
            }
            out.map(Value::from)
        }
        _ => None,
    }
}

/// The top-level parts of a plan the rules read (`input.resource_changes`, `input.configuration`,
/// `input.variables`), and the version fields the plan checks name. The rest (`planned_values`,
/// `prior_state`, `resource_drift`, `output_changes`, ...: a third to a half of a real plan) is
/// not held, unless a policy in force reads more ([`Held::for_policies`]).
/// `tests/engine_plan.rs` `rules_read_only_the_parts_of_the_plan_that_are_held` names any rule
/// of the repository that reads another part of the input.
pub const RULES_READ: [&str; 5] = ["resource_changes", "configuration", "variables", "format_version", "terraform_version"];

fn empty_of(t: Type) -> Value {
    match t {
        Type::Null => Value::Null,
        Type::Bool => Value::Bool(false),
        Type::Number => Value::from(0u64),
        Type::String => Value::String("".into()),
        Type::Array => Value::new_array(),
        Type::Object => Value::new_object(),
    }
}

/// The message of a key named twice: its path, secrets redacted as in every reported string.
fn named_twice(at: &At<'_>) -> String {
    format!("key {} is named twice", redact_str(&at.path()))
}

/// One JSON value built as the engine's value.
struct Build<'s, 'a, 'de> {
    shared: &'s mut Shared<'de>,
    held: Held,
    at: At<'a>,
}

impl<'de> DeserializeSeed<'de> for Build<'_, '_, 'de> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_, '_, 'de> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        if self.at.is_top_level() && matches!(self.at.name, Name::Key("format_version")) {
            self.shared.float_version = serde_json::Number::from_f64(n).map(|x| x.to_string());
        }
        self.shared.floats += 1;
        Ok(Value::from(n))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value, E> {
        Ok(self.shared.strings.entry(s).or_insert_with(|| Value::String(s.into())).clone())
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        // A string with escapes (not a slice of the plan's text): held as read.
        Ok(Value::String(s.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Build { shared, held, at } = self;
        let floats = shared.floats;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let child = Build { shared: &mut *shared, held, at: At { parent: Some(&at), name: Name::Index(items.len()) } };
            match seq.next_element_seed(child)? {
                Some(v) => items.push(v),
                None => break,
            }
        }
        items.shrink_to_fit();
        Ok(shared.share(Value::from(items), floats))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Build { shared, held, at } = self;
        let floats = shared.floats;
        let mut out = BTreeMap::new();
        while let Some(Key(name)) = map.next_key::<Key<'de>>()? {
            let key = match shared.keys.get(name.as_ref()) {
                Some((k, _)) => k.clone(),
                None => {
                    let k = Value::String(name.as_ref().into());
                    shared.keys.insert(name.as_ref().into(), (k.clone(), is_secret_name(&name)));
                    k
                }
            };
            let here = At { parent: Some(&at), name: Name::Key(&name) };
            if out.contains_key(&key) {
                return Err(de::Error::custom(named_twice(&here)));
            }
            let value = if held == Held::RulesRead && at.parent.is_none() && !RULES_READ.contains(&name.as_ref()) {
                // A part no rule reads: walked (its keys checked) and held as an empty value of
                // its type, so the document's kind and shape read as before.
                empty_of(map.next_value_seed(Walk { at: here, twice: named_twice })?)
            } else {
                map.next_value_seed(Build { shared: &mut *shared, held, at: here })?
            };
            out.insert(key, value);
        }
        Ok(shared.share(Value::from(out), floats))
    }
}
