//! Terraform's built-in functions, one file per family.
use std::path::Path;

use crate::value::{Type, Value};

mod collection;
mod conversion;
mod crypto;
mod encoding;
mod filesystem;
mod network;
mod numeric;
mod string;

pub(crate) type Args = Vec<Value>;
pub(crate) type FResult = Result<Value, String>;

/// How a function treats unknown and sensitive arguments.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Any unknown anywhere in the arguments makes the result unknown; marks move to the result.
    Deep,
    /// Only top-level unknown arguments make the result unknown; inner marks stay in place.
    Structural,
    /// Always unknown during plan (timestamp, uuid).
    Impure,
}

struct Spec {
    min: usize,
    max: Option<usize>,
    mode: Mode,
    ret: Type,
    f: fn(Args, &Path) -> FResult,
}

fn spec(name: &str) -> Option<Spec> {
    use Mode::*;
    let s = |min, max, mode, ret, f| Some(Spec { min, max, mode, ret, f });
    let n = Type::Number;
    let st = Type::String;
    let b = Type::Bool;
    let d = Type::Dynamic;
    match name {
        "abs" => s(1, Some(1), Deep, n, numeric::abs),
        "ceil" => s(1, Some(1), Deep, n, numeric::ceil),
        "floor" => s(1, Some(1), Deep, n, numeric::floor),
        "log" => s(2, Some(2), Deep, n, numeric::log),
        "max" => s(1, None, Deep, n, numeric::max),
        "min" => s(1, None, Deep, n, numeric::min),
        "parseint" => s(2, Some(2), Deep, n, numeric::parseint),
        "pow" => s(2, Some(2), Deep, n, numeric::pow),
        "signum" => s(1, Some(1), Deep, n, numeric::signum),
        "sum" => s(1, Some(1), Deep, n, numeric::sum),
        "chomp" => s(1, Some(1), Deep, st, string::chomp),
        "endswith" => s(2, Some(2), Deep, b, string::endswith),
        "format" => s(1, None, Deep, st, string::format),
        "formatlist" => s(1, None, Deep, Type::List(Box::new(Type::String)), string::formatlist),
        "indent" => s(2, Some(2), Deep, st, string::indent),
        "join" => s(2, None, Deep, st, string::join),
        "lower" => s(1, Some(1), Deep, st, string::lower),
        "regex" => s(2, Some(2), Deep, d, string::regex),
        "regexall" => s(2, Some(2), Deep, d, string::regexall),
        "replace" => s(3, Some(3), Deep, st, string::replace),
        "split" => s(2, Some(2), Deep, Type::List(Box::new(Type::String)), string::split),
        "startswith" => s(2, Some(2), Deep, b, string::startswith),
        "strcontains" => s(2, Some(2), Deep, b, string::strcontains),
        "strrev" => s(1, Some(1), Deep, st, string::strrev),
        "substr" => s(3, Some(3), Deep, st, string::substr),
        "title" => s(1, Some(1), Deep, st, string::title),
        "trim" => s(2, Some(2), Deep, st, string::trim),
        "trimprefix" => s(2, Some(2), Deep, st, string::trimprefix),
        "trimsuffix" => s(2, Some(2), Deep, st, string::trimsuffix),
        "trimspace" => s(1, Some(1), Deep, st, string::trimspace),
        "upper" => s(1, Some(1), Deep, st, string::upper),
        "alltrue" => s(1, Some(1), Deep, b, collection::alltrue),
        "anytrue" => s(1, Some(1), Deep, b, collection::anytrue),
        "chunklist" => s(2, Some(2), Structural, d, collection::chunklist),
        "coalesce" => s(1, None, Structural, d, collection::coalesce),
        "coalescelist" => s(1, None, Structural, d, collection::coalescelist),
        "compact" => s(1, Some(1), Deep, Type::List(Box::new(Type::String)), collection::compact),
        "concat" => s(1, None, Structural, d, collection::concat),
        "contains" => s(2, Some(2), Deep, b, collection::contains),
        "distinct" => s(1, Some(1), Deep, d, collection::distinct),
        "element" => s(2, Some(2), Structural, d, collection::element),
        "flatten" => s(1, Some(1), Structural, d, collection::flatten),
        "index" => s(2, Some(2), Deep, n, collection::index),
        "keys" => s(1, Some(1), Structural, d, collection::keys),
        "length" => s(1, Some(1), Structural, n, collection::length),
        "lookup" => s(2, Some(3), Structural, d, collection::lookup),
        "merge" => s(0, None, Structural, d, collection::merge),
        "one" => s(1, Some(1), Structural, d, collection::one),
        "range" => s(1, Some(3), Deep, Type::List(Box::new(Type::Number)), collection::range),
        "reverse" => s(1, Some(1), Structural, d, collection::reverse),
        "setintersection" => s(1, None, Deep, d, collection::setintersection),
        "setproduct" => s(1, None, Deep, d, collection::setproduct),
        "setsubtract" => s(2, Some(2), Deep, d, collection::setsubtract),
        "setunion" => s(1, None, Deep, d, collection::setunion),
        "slice" => s(3, Some(3), Structural, d, collection::slice),
        "sort" => s(1, Some(1), Deep, Type::List(Box::new(Type::String)), collection::sort),
        "transpose" => s(1, Some(1), Deep, d, collection::transpose),
        "values" => s(1, Some(1), Structural, d, collection::values),
        "zipmap" => s(2, Some(2), Structural, d, collection::zipmap),
        "base64decode" => s(1, Some(1), Deep, st, encoding::base64decode),
        "base64encode" => s(1, Some(1), Deep, st, encoding::base64encode),
        "jsondecode" => s(1, Some(1), Deep, d, encoding::jsondecode),
        "jsonencode" => s(1, Some(1), Deep, st, encoding::jsonencode),
        "textencodebase64" => s(2, Some(2), Deep, st, encoding::textencodebase64),
        "urlencode" => s(1, Some(1), Deep, st, encoding::urlencode),
        "yamlencode" => s(1, Some(1), Deep, st, encoding::yamlencode),
        "csvdecode" => s(1, Some(1), Deep, d, encoding::csvdecode),
        "cidrhost" => s(2, Some(2), Deep, st, network::cidrhost),
        "cidrnetmask" => s(1, Some(1), Deep, st, network::cidrnetmask),
        "cidrsubnet" => s(3, Some(3), Deep, st, network::cidrsubnet),
        "cidrsubnets" => s(1, None, Deep, Type::List(Box::new(Type::String)), network::cidrsubnets),
        "md5" => s(1, Some(1), Deep, st, crypto::md5),
        "sha1" => s(1, Some(1), Deep, st, crypto::sha1),
        "sha256" => s(1, Some(1), Deep, st, crypto::sha256),
        "sha512" => s(1, Some(1), Deep, st, crypto::sha512),
        "base64sha256" => s(1, Some(1), Deep, st, crypto::base64sha256),
        "base64sha512" => s(1, Some(1), Deep, st, crypto::base64sha512),
        "tobool" => s(1, Some(1), Structural, b, conversion::tobool),
        "tolist" => s(1, Some(1), Structural, d, conversion::tolist),
        "tomap" => s(1, Some(1), Structural, d, conversion::tomap),
        "tonumber" => s(1, Some(1), Structural, n, conversion::tonumber),
        "toset" => s(1, Some(1), Structural, d, conversion::toset),
        "tostring" => s(1, Some(1), Structural, st, conversion::tostring),
        "file" => s(1, Some(1), Deep, st, filesystem::file),
        "fileexists" => s(1, Some(1), Deep, b, filesystem::fileexists),
        "timestamp" | "uuid" | "plantimestamp" => s(0, Some(0), Impure, st, filesystem::unreachable),
        "bcrypt" => s(1, Some(2), Impure, st, filesystem::unreachable),
        _ => None,
    }
}

/// Call a function by name. `sensitive`, `nonsensitive`, `can`, `try` and `templatefile` are
/// handled by the evaluator or here without a spec.
pub(crate) fn call(name: &str, args: Args, dir: &Path) -> FResult {
    match name {
        "sensitive" => {
            one_arg(name, &args)?;
            return Ok(args.into_iter().next().unwrap_or_else(Value::null).mark(true));
        }
        "nonsensitive" => {
            one_arg(name, &args)?;
            return Ok(args.into_iter().next().unwrap_or_else(Value::null).into_unmarked().0);
        }
        "type" => {
            return Err("Call to unknown function: There is no function named \"type\"".into())
        }
        _ => {}
    }
    let Some(sp) = spec(name) else {
        return Err(format!("Call to unknown function: There is no function named {name:?}"));
    };
    if args.len() < sp.min || sp.max.is_some_and(|m| args.len() > m) {
        let want = match sp.max {
            Some(m) if m == sp.min => format!("{m}"),
            Some(m) => format!("{} to {m}", sp.min),
            None => format!("at least {}", sp.min),
        };
        return Err(format!(
            "Invalid function argument count: function {name:?} expects {want} argument(s), got {}",
            args.len()
        ));
    }
    let wrap = |r: FResult| r.map_err(|e| {
        if e.starts_with("Invalid ") { e } else { format!("Error in function call: Call to function {name:?} failed: {e}") }
    });
    match sp.mode {
        Mode::Impure => Ok(Value::not_null_unknown(sp.ret)),
        Mode::Deep => {
            let marked = args.iter().any(Value::has_sensitive_deep);
            let args: Args = if marked { args.iter().map(Value::unmark_deep).collect() } else { args };
            if args.iter().any(|a| !a.is_wholly_known()) {
                return Ok(Value::Unknown(sp.ret).mark(marked));
            }
            Ok(wrap((sp.f)(args, dir))?.mark(marked))
        }
        Mode::Structural => {
            let marked = args.iter().any(Value::is_sensitive);
            let args: Args = args.into_iter().map(|a| a.into_unmarked().0).collect();
            if args.iter().any(Value::is_unknown) && name != "coalesce" {
                return Ok(Value::Unknown(sp.ret).mark(marked));
            }
            Ok(wrap((sp.f)(args, dir))?.mark(marked))
        }
    }
}

fn one_arg(name: &str, args: &Args) -> Result<(), String> {
    if args.len() != 1 {
        return Err(format!(
            "Invalid function argument count: function {name:?} expects 1 argument(s), got {}",
            args.len()
        ));
    }
    Ok(())
}

pub(crate) fn as_str(v: &Value, param: &str) -> Result<String, String> {
    match crate::types::convert(v, &crate::types::Constraint::String) {
        Ok(Value::String(s)) => Ok(s),
        Ok(Value::Null(_)) => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: argument must not be null")),
        _ => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: string required")),
    }
}

pub(crate) fn as_num(v: &Value, param: &str) -> Result<f64, String> {
    match crate::types::convert(v, &crate::types::Constraint::Number) {
        Ok(Value::Number(n)) => Ok(n),
        Ok(Value::Null(_)) => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: argument must not be null")),
        _ => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: number required")),
    }
}

pub(crate) fn as_int(v: &Value, param: &str) -> Result<i64, String> {
    let n = as_num(v, param)?;
    if n.fract() != 0.0 {
        return Err(format!("Invalid function argument: Invalid value for {param:?} parameter: value must be a whole number"));
    }
    Ok(n as i64)
}

/// Elements of a list, tuple or set argument.
pub(crate) fn as_seq(v: &Value, param: &str) -> Result<Vec<Value>, String> {
    match v.unmark().0 {
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => Ok(vs.clone()),
        Value::Null(_) => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: argument must not be null")),
        other => Err(format!(
            "Invalid function argument: Invalid value for {param:?} parameter: list, set, or tuple required, but have {}",
            other.type_name()
        )),
    }
}

pub(crate) fn as_map(v: &Value, param: &str) -> Result<std::collections::BTreeMap<String, Value>, String> {
    match v.unmark().0 {
        Value::Map(_, m) | Value::Object(m) => Ok(m.clone()),
        Value::Null(_) => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: argument must not be null")),
        other => Err(format!(
            "Invalid function argument: Invalid value for {param:?} parameter: map or object required, but have {}",
            other.type_name()
        )),
    }
}

/// A list of the unified element type, or a tuple when elements differ.
pub(crate) fn list_or_tuple(vs: Vec<Value>) -> Value {
    match crate::types::unify_values(&vs) {
        Some((t, out)) if t != Type::Dynamic || vs.is_empty() => Value::List(t, out),
        _ => Value::Tuple(vs),
    }
}

pub(crate) fn str_list(vs: Vec<String>) -> Value {
    Value::List(Type::String, vs.into_iter().map(Value::String).collect())
}

pub(crate) fn json_quote_plain(s: &str) -> String {
    encoding::json_quote(s, false)
}
