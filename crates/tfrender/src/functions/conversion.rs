use std::path::Path;

use super::{Args, FResult};
use crate::types::{convert, unify_values, Constraint};
use crate::value::{Type, Value};

fn conv_err(v: &Value, target: &str) -> String {
    format!(
        "Invalid function argument: Invalid value for \"v\" parameter: cannot convert {} to {target}",
        v.type_name()
    )
}

pub(super) fn tostring(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::Null(_) => Ok(Value::Null(Type::String)),
        v if v.ty().is_primitive() => convert(v, &Constraint::String).map_err(|_| conv_err(v, "string")),
        v => Err(conv_err(v, "string")),
    }
}

pub(super) fn tonumber(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::Null(_) => Ok(Value::Null(Type::Number)),
        v => convert(v, &Constraint::Number).map_err(|_| {
            if let Value::String(s) = v {
                format!("Invalid function argument: Invalid value for \"v\" parameter: cannot convert {s:?} to number; given string must be a decimal representation of a number")
            } else {
                conv_err(v, "number")
            }
        }),
    }
}

pub(super) fn tobool(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::Null(_) => Ok(Value::Null(Type::Bool)),
        v => convert(v, &Constraint::Bool).map_err(|_| {
            if let Value::String(s) = v {
                format!("Invalid function argument: Invalid value for \"v\" parameter: cannot convert {s:?} to bool; only the strings \"true\" or \"false\" are allowed")
            } else {
                conv_err(v, "bool")
            }
        }),
    }
}

pub(super) fn tolist(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::Null(_) => Ok(Value::Null(Type::List(Box::new(Type::Dynamic)))),
        Value::List(..) => Ok(a[0].clone()),
        Value::Set(t, vs) => Ok(Value::List(t.clone(), vs.clone())),
        Value::Tuple(vs) => {
            let (t, out) = unify_values(vs).ok_or_else(|| format!("Invalid function argument: Invalid value for \"v\" parameter: cannot convert {} to list of any single type", a[0].type_name()))?;
            Ok(Value::List(t, out))
        }
        v => Err(conv_err(v, "list of any single type")),
    }
}

pub(super) fn toset(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::Null(_) => Ok(Value::Null(Type::Set(Box::new(Type::Dynamic)))),
        Value::Set(..) => Ok(a[0].clone()),
        Value::List(_, vs) | Value::Tuple(vs) => crate::eval::make_set(vs.clone()).map_err(|_| {
            format!("Invalid function argument: Invalid value for \"v\" parameter: cannot convert {} to set of any single type", a[0].type_name())
        }),
        v => Err(conv_err(v, "set of any single type")),
    }
}

pub(super) fn tomap(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::Null(_) => Ok(Value::Null(Type::Map(Box::new(Type::Dynamic)))),
        Value::Map(..) => Ok(a[0].clone()),
        Value::Object(m) => {
            let vals: Vec<Value> = m.values().cloned().collect();
            let (t, out) = unify_values(&vals).ok_or_else(|| format!("Invalid function argument: Invalid value for \"v\" parameter: cannot convert {} to map of any single type", a[0].type_name()))?;
            Ok(Value::Map(t, m.keys().cloned().zip(out).collect()))
        }
        v => Err(conv_err(v, "map of any single type")),
    }
}
