//! Type constraints (`type = ...` in variables) and value conversion.
use std::collections::BTreeMap;

use crate::value::{number_string, Type, Value};

/// A type constraint: a type that may contain `any` and `optional(...)` attributes.
#[derive(Clone, Debug)]
pub enum Constraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<Constraint>),
    Set(Box<Constraint>),
    Map(Box<Constraint>),
    Tuple(Vec<Constraint>),
    Object(Vec<ObjAttr>),
}

#[derive(Clone, Debug)]
pub struct ObjAttr {
    pub name: String,
    pub ty: Constraint,
    pub optional: bool,
    pub default: Option<Value>,
}

impl Constraint {
    /// Whether `any` appears anywhere in the constraint: the elements of a collection of such
    /// a type are unified to one concrete type after conversion, as cty does.
    pub fn contains_any(&self) -> bool {
        match self {
            Constraint::Any => true,
            Constraint::List(e) | Constraint::Set(e) | Constraint::Map(e) => e.contains_any(),
            Constraint::Tuple(es) => es.iter().any(Constraint::contains_any),
            Constraint::Object(attrs) => attrs.iter().any(|a| a.ty.contains_any()),
            _ => false,
        }
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Constraint::String | Constraint::Number | Constraint::Bool)
    }

    /// The concrete type of a value of this constraint where it is fully determined.
    pub fn to_type(&self) -> Type {
        match self {
            Constraint::Any => Type::Dynamic,
            Constraint::String => Type::String,
            Constraint::Number => Type::Number,
            Constraint::Bool => Type::Bool,
            Constraint::List(c) => Type::List(Box::new(c.to_type())),
            Constraint::Set(c) => Type::Set(Box::new(c.to_type())),
            Constraint::Map(c) => Type::Map(Box::new(c.to_type())),
            Constraint::Tuple(cs) => Type::Tuple(cs.iter().map(Constraint::to_type).collect()),
            Constraint::Object(attrs) => {
                Type::Object(attrs.iter().map(|a| (a.name.clone(), a.ty.to_type())).collect())
            }
        }
    }

    pub fn friendly(&self) -> String {
        match self {
            Constraint::Any => "any".into(),
            c => c.to_type().friendly(),
        }
    }
}

/// Convert a value to a constraint, applying optional attribute defaults.
pub fn convert(v: &Value, c: &Constraint) -> Result<Value, String> {
    convert_depth(v, c, 0)
}

fn convert_depth(v: &Value, c: &Constraint, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("value is nested too deeply".into());
    }
    let open = v.is_open();
    let (inner, marked) = v.unmark();
    let out = convert_inner(inner, c, depth, open)?;
    Ok(out.mark(marked))
}

fn type_err(c: &Constraint) -> String {
    match c {
        Constraint::String => "string required".into(),
        Constraint::Number => "number required".into(),
        Constraint::Bool => "bool required".into(),
        Constraint::List(_) => "list of ".to_string() + &elem_name(c),
        Constraint::Set(_) => "set of ".to_string() + &elem_name(c),
        Constraint::Map(_) => "map of ".to_string() + &elem_name(c),
        Constraint::Tuple(_) => "tuple required".into(),
        Constraint::Object(_) => "object required".into(),
        Constraint::Any => "value required".into(),
    }
}

fn elem_name(c: &Constraint) -> String {
    match c {
        Constraint::List(e) | Constraint::Set(e) | Constraint::Map(e) => format!("{} required", e.friendly()),
        _ => String::new(),
    }
}

fn convert_inner(v: &Value, c: &Constraint, depth: usize, open: bool) -> Result<Value, String> {
    match v {
        Value::Null(_) => {
            return Ok(Value::Null(c.to_type()));
        }
        Value::Unknown(t) => {
            return Ok(Value::Unknown(match c {
                Constraint::Any => t.clone(),
                _ => c.to_type(),
            }));
        }
        _ => {}
    }
    match c {
        Constraint::Any => match v {
            Value::List(_, _) | Value::Set(_, _) | Value::Map(_, _) => Ok(v.clone()),
            _ => Ok(v.clone()),
        },
        Constraint::String => match v {
            Value::String(_) => Ok(v.clone()),
            Value::Number(n) => Ok(Value::String(number_string(*n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(type_err(c)),
        },
        Constraint::Number => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => parse_number(s)
                .map(Value::Number)
                .ok_or_else(|| "a number is required".to_string()),
            _ => Err(type_err(c)),
        },
        Constraint::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            Value::String(_) => Err("a bool is required".into()),
            _ => Err(type_err(c)),
        },
        Constraint::List(ec) | Constraint::Set(ec) => {
            let items = match v {
                Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => vs,
                _ => return Err(type_err(c)),
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let _ = i;
                out.push(convert_depth(item, ec, depth + 1)?);
            }
            let ety = if ec.contains_any() {
                let (t, unified) = unify_values(&out).ok_or_else(|| "all elements must have the same type".to_string())?;
                out = unified;
                t
            } else {
                ec.to_type()
            };
            if matches!(c, Constraint::Set(_)) {
                Ok(crate::value::set_value(ety, out))
            } else {
                Ok(Value::List(ety, out))
            }
        }
        Constraint::Map(ec) => {
            let items = match v {
                Value::Map(_, m) | Value::Object(m) => m,
                _ => return Err(type_err(c)),
            };
            let mut out = BTreeMap::new();
            for (k, item) in items {
                out.insert(k.clone(), convert_depth(item, ec, depth + 1)?);
            }
            let ety = if ec.contains_any() {
                let vals: Vec<Value> = out.values().cloned().collect();
                let (t, unified) = unify_values(&vals).ok_or_else(|| "all map elements must have the same type".to_string())?;
                for ((_, slot), u) in out.iter_mut().zip(unified) {
                    *slot = u;
                }
                t
            } else {
                ec.to_type()
            };
            Ok(Value::Map(ety, out))
        }
        Constraint::Tuple(cs) => {
            let items = match v {
                Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => vs,
                _ => return Err(type_err(c)),
            };
            if items.len() != cs.len() {
                return Err(format!("tuple required with exactly {} elements", cs.len()));
            }
            let mut out = Vec::new();
            for (i, (item, ec)) in items.iter().zip(cs).enumerate() {
                let _ = i;
                out.push(convert_depth(item, ec, depth + 1)?);
            }
            Ok(Value::Tuple(out))
        }
        Constraint::Object(attrs) => {
            let items = match v {
                Value::Map(_, m) | Value::Object(m) => m,
                _ => return Err(type_err(c)),
            };
            let mut out = BTreeMap::new();
            for a in attrs {
                match items.get(&a.name) {
                    Some(item) if !(item.is_null() && a.optional) => {
                        out.insert(
                            a.name.clone(),
                            convert_depth(item, &a.ty, depth + 1).map_err(|e| format!("attribute {:?}: {e}", a.name))?,
                        );
                    }
                    Some(_) | None if a.optional => {
                        let val = match &a.default {
                            Some(d) => convert_depth(d, &a.ty, depth + 1)?,
                            None => Value::Null(a.ty.to_type()),
                        };
                        out.insert(a.name.clone(), val);
                    }
                    _ if open => {
                        out.insert(a.name.clone(), Value::Unknown(a.ty.to_type()));
                    }
                    _ => return Err(format!("attribute {:?} is required", a.name)),
                }
            }
            Ok(Value::Object(out))
        }
    }
}

pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t != s {
        return None;
    }
    if t.starts_with("0x") || t.contains(['_']) {
        return None;
    }
    let n: f64 = t.parse().ok()?;
    if n.is_finite() {
        Some(n)
    } else {
        None
    }
}

/// Convert a value to a concrete type (no optional attributes).
pub fn convert_type(v: &Value, t: &Type) -> Result<Value, String> {
    convert(v, &type_to_constraint(t))
}

pub fn type_to_constraint(t: &Type) -> Constraint {
    match t {
        Type::Dynamic => Constraint::Any,
        Type::String => Constraint::String,
        Type::Number => Constraint::Number,
        Type::Bool => Constraint::Bool,
        Type::List(e) => Constraint::List(Box::new(type_to_constraint(e))),
        Type::Set(e) => Constraint::Set(Box::new(type_to_constraint(e))),
        Type::Map(e) => Constraint::Map(Box::new(type_to_constraint(e))),
        Type::Tuple(ts) => Constraint::Tuple(ts.iter().map(type_to_constraint).collect()),
        Type::Object(attrs) => Constraint::Object(
            attrs
                .iter()
                .map(|(k, t)| ObjAttr { name: k.clone(), ty: type_to_constraint(t), optional: false, default: None })
                .collect(),
        ),
    }
}

/// The common type of several types, as cty's unification: first by kind (all maps, all
/// lists or tuples, ...), then the first of the given types, in cty's preference order, that
/// every other type converts to (`set(string)` for a set and a tuple of strings).
pub fn unify(types: &[Type]) -> Option<Type> {
    // As cty: types all of one structural kind (all objects, all tuples, all maps, all lists,
    // all sets) unify by that kind or not at all. Falling back to conversion there would pick
    // an object type that another converts to by DROPPING its extra attributes.
    let concrete: Vec<&Type> = types.iter().filter(|t| **t != Type::Dynamic).collect();
    let all = |f: fn(&Type) -> bool| !concrete.is_empty() && concrete.iter().all(|t| f(t));
    if all(|t| matches!(t, Type::Object(_)))
        || all(|t| matches!(t, Type::Tuple(_)))
        || all(|t| matches!(t, Type::Map(_)))
        || all(|t| matches!(t, Type::List(_)))
        || all(|t| matches!(t, Type::Set(_)))
    {
        return unify_kinds(types);
    }
    if concrete.iter().any(|t| matches!(t, Type::Object(_))) && concrete.iter().any(|t| matches!(t, Type::Tuple(_))) {
        return None;
    }
    unify_kinds(types).or_else(|| unify_by_conversion(types))
}

/// Why two result types of a conditional do not unify, as Terraform words it: the first
/// attribute or tuple element that differs, recursively, else both types.
pub fn describe_mismatch(t: &Type, f: &Type) -> String {
    match (t, f) {
        (Type::Object(ta), Type::Object(fa)) => {
            if let Some(name) = ta.keys().find(|k| !fa.contains_key(*k)) {
                return format!("The 'true' value includes object attribute {name:?}, which is absent in the 'false' value.");
            }
            if let Some(name) = fa.keys().find(|k| !ta.contains_key(*k)) {
                return format!("The 'false' value includes object attribute {name:?}, which is absent in the 'true' value.");
            }
            match ta.iter().find(|(k, v)| fa.get(*k) != Some(*v)) {
                Some((name, tv)) => format!("Type mismatch for object attribute {name:?}: {}", describe_mismatch(tv, &fa[name])),
                None => describe_types(t, f),
            }
        }
        (Type::Tuple(te), Type::Tuple(fe)) => {
            if te.len() != fe.len() {
                return format!("The 'true' tuple has length {}, but the 'false' tuple has length {}.", te.len(), fe.len());
            }
            match te.iter().zip(fe).position(|(a, b)| a != b) {
                Some(i) => format!("Type mismatch for tuple element {i}: {}", describe_mismatch(&te[i], &fe[i])),
                None => describe_types(t, f),
            }
        }
        _ => describe_types(t, f),
    }
}

fn describe_types(t: &Type, f: &Type) -> String {
    format!("The 'true' value is {}, but the 'false' value is {}.", t.friendly(), f.friendly())
}

fn preference(t: &Type) -> u8 {
    match t {
        Type::List(_) => 0,
        Type::Set(_) => 1,
        Type::Map(_) => 2,
        Type::Object(_) => 3,
        Type::Tuple(_) => 4,
        Type::String => 5,
        Type::Number => 6,
        Type::Bool => 7,
        Type::Dynamic => 8,
    }
}

fn unify_by_conversion(types: &[Type]) -> Option<Type> {
    let mut candidates: Vec<&Type> = types.iter().filter(|t| **t != Type::Dynamic).collect();
    candidates.sort_by_key(|t| preference(t));
    candidates.into_iter().find(|want| types.iter().all(|t| convertible(t, want))).cloned()
}

/// Whether a value of type `from` may convert to `to` (cty's unsafe conversions: a string
/// may become a number or bool, and fail at run time).
fn convertible(from: &Type, to: &Type) -> bool {
    if from == to || *from == Type::Dynamic || *to == Type::Dynamic {
        return true;
    }
    match (from, to) {
        (Type::Number | Type::Bool, Type::String) | (Type::String, Type::Number | Type::Bool) => true,
        (Type::List(a) | Type::Set(a), Type::List(b) | Type::Set(b)) => convertible(a, b),
        (Type::Tuple(ts), Type::List(b) | Type::Set(b)) => ts.iter().all(|t| convertible(t, b)),
        (Type::Map(a), Type::Map(b)) => convertible(a, b),
        (Type::Object(attrs), Type::Map(b)) => attrs.values().all(|t| convertible(t, b)),
        (Type::Tuple(a), Type::Tuple(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| convertible(x, y)),
        (Type::Object(a), Type::Object(b)) => {
            b.iter().all(|(k, t)| a.get(k).is_some_and(|f| convertible(f, t)))
        }
        _ => false,
    }
}

fn unify_kinds(types: &[Type]) -> Option<Type> {
    let concrete: Vec<&Type> = types.iter().filter(|t| **t != Type::Dynamic).collect();
    let Some(first) = concrete.first() else {
        return Some(Type::Dynamic);
    };
    if concrete.iter().all(|t| *t == *first) {
        return Some((*first).clone());
    }
    if concrete.iter().all(|t| t.is_primitive()) {
        if concrete.iter().any(|t| **t == Type::String) {
            return Some(Type::String);
        }
        return None;
    }
    match first {
        Type::Object(a0) => {
            let mut attrs: BTreeMap<String, Vec<Type>> = BTreeMap::new();
            for t in &concrete {
                let Type::Object(a) = t else { return unify_as_map(&concrete) };
                if a.len() != a0.len() || a.keys().ne(a0.keys()) {
                    return unify_as_map(&concrete);
                }
                for (k, v) in a {
                    attrs.entry(k.clone()).or_default().push(v.clone());
                }
            }
            let mut out = BTreeMap::new();
            for (k, ts) in attrs {
                out.insert(k, unify(&ts)?);
            }
            Some(Type::Object(out))
        }
        Type::Map(_) => unify_as_map(&concrete),
        Type::Tuple(t0) => {
            let mut elems = Vec::new();
            for t in &concrete {
                match t {
                    Type::Tuple(ts) if ts.len() == t0.len() => elems.push(ts.clone()),
                    _ => return unify_as_list(&concrete),
                }
            }
            let mut out = Vec::new();
            for i in 0..t0.len() {
                let col: Vec<Type> = elems.iter().map(|e| e[i].clone()).collect();
                out.push(unify(&col)?);
            }
            Some(Type::Tuple(out))
        }
        Type::List(_) => unify_as_list(&concrete),
        Type::Set(_) => {
            let mut es = Vec::new();
            for t in &concrete {
                match t {
                    Type::Set(e) => es.push((**e).clone()),
                    _ => return None,
                }
            }
            Some(Type::Set(Box::new(unify(&es)?)))
        }
        _ => None,
    }
}

fn unify_as_map(ts: &[&Type]) -> Option<Type> {
    let mut es = Vec::new();
    for t in ts {
        match t {
            Type::Map(e) => es.push((**e).clone()),
            Type::Object(a) => {
                let inner: Vec<Type> = a.values().cloned().collect();
                es.push(unify(&inner)?)
            }
            _ => return None,
        }
    }
    Some(Type::Map(Box::new(unify(&es)?)))
}

fn unify_as_list(ts: &[&Type]) -> Option<Type> {
    let mut es = Vec::new();
    for t in ts {
        match t {
            Type::List(e) => es.push((**e).clone()),
            Type::Tuple(inner) => es.push(unify(inner)?),
            _ => return None,
        }
    }
    Some(Type::List(Box::new(unify(&es)?)))
}

/// Unify element values to one type and convert them all to it.
pub fn unify_values(vs: &[Value]) -> Option<(Type, Vec<Value>)> {
    let types: Vec<Type> = vs.iter().map(Value::ty).collect();
    let t = unify(&types)?;
    if t == Type::Dynamic {
        return Some((t, vs.to_vec()));
    }
    let mut out = Vec::with_capacity(vs.len());
    for v in vs {
        out.push(convert_type(v, &t).ok()?);
    }
    Some((t, out))
}
