//! Terraform's built-in functions, one file per family.
use std::path::Path;

use crate::value::{Type, Value};

mod collection;
mod conversion;
mod crypto;
mod datetime;
mod encoding;
mod filesystem;
mod misc;
mod network;
mod numeric;
mod params;
mod path;
pub(crate) mod special;
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
        "filebase64" => s(1, Some(1), Deep, st, path::filebase64),
        "filemd5" => s(1, Some(1), Deep, st, path::filemd5),
        "filesha1" => s(1, Some(1), Deep, st, path::filesha1),
        "filesha256" => s(1, Some(1), Deep, st, path::filesha256),
        "filesha512" => s(1, Some(1), Deep, st, path::filesha512),
        "filebase64sha256" => s(1, Some(1), Deep, st, path::filebase64sha256),
        "filebase64sha512" => s(1, Some(1), Deep, st, path::filebase64sha512),
        "fileset" => s(2, Some(2), Deep, Type::Set(Box::new(Type::String)), path::fileset),
        "abspath" => s(1, Some(1), Deep, st, path::abspath),
        "basename" => s(1, Some(1), Deep, st, path::basename),
        "dirname" => s(1, Some(1), Deep, st, path::dirname),
        "pathexpand" => s(1, Some(1), Deep, st, path::pathexpand),
        "formatdate" => s(2, Some(2), Deep, st, datetime::formatdate),
        "timeadd" => s(2, Some(2), Deep, st, datetime::timeadd),
        "timecmp" => s(2, Some(2), Deep, n, datetime::timecmp),
        "uuidv5" => s(2, Some(2), Deep, st, misc::uuidv5),
        "matchkeys" => s(3, Some(3), Deep, d, misc::matchkeys),
        "textdecodebase64" => s(2, Some(2), Deep, st, misc::textdecodebase64),
        "yamldecode" => s(1, Some(1), Deep, d, misc::yamldecode),
        "timestamp" | "uuid" | "plantimestamp" => s(0, Some(0), Impure, st, filesystem::unreachable),
        "bcrypt" => s(1, Some(2), Impure, st, filesystem::unreachable),
        _ => None,
    }
}

/// Call a function by name. `sensitive`, `nonsensitive`, `can`, `try` and `templatefile` are
/// handled by the evaluator or here without a spec.
pub(crate) fn call(name: &str, args: Args, dir: &Path) -> FResult {
    arity(name, args.len())?;
    match name {
        "sensitive" => {
            one_arg(name, &args)?;
            return Ok(args.into_iter().next().unwrap_or_else(Value::null).mark(true));
        }
        "nonsensitive" => {
            one_arg(name, &args)?;
            return Ok(args.into_iter().next().unwrap_or_else(Value::null).into_unmarked().0);
        }
        "issensitive" => {
            one_arg(name, &args)?;
            if args[0].is_unknown() {
                return Ok(Value::Unknown(Type::Bool));
            }
            return Ok(Value::Bool(args[0].is_sensitive()));
        }
        // Ephemeral values are not supported offline, so every value reaching here is not
        // ephemeral and comes back unchanged.
        "ephemeralasnull" => {
            one_arg(name, &args)?;
            return Ok(args.into_iter().next().unwrap_or_else(Value::null));
        }
        "base64gzip" | "rsadecrypt" => {
            return Err(format!("Unsupported function: {}", unsupported_reason(name).unwrap_or_default()));
        }
        "type" => {
            return Err("Call to unknown function: There is no function named \"type\"".into())
        }
        _ => {}
    }
    let Some(sp) = spec(name) else {
        return Err(format!("Call to unknown function: There is no function named {name:?}"));
    };
    // Terraform accepts these counts and fails in the function itself.
    if args.len() < sp.min {
        match name {
            "min" | "max" => return Err(format!("Error in function call: Call to function {name:?} failed: must pass at least one number")),
            "setproduct" => return Err("Error in function call: Call to function \"setproduct\" failed: at least two arguments are required".into()),
            _ => {}
        }
    }
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
        if e.starts_with("Invalid ") || e.starts_with("Unsupported ") { e } else { format!("Error in function call: Call to function {name:?} failed: {e}") }
    });
    match sp.mode {
        Mode::Impure => Ok(Value::not_null_unknown(sp.ret)),
        Mode::Deep => {
            let marked = args.iter().any(Value::has_sensitive_deep);
            if name == "startswith" {
                if let Some(b) = startswith_refined(&args) {
                    return Ok(Value::Bool(b).mark(marked));
                }
            }
            let args: Args = if marked { args.iter().map(Value::unmark_deep).collect() } else { args };
            if args.iter().any(|a| !a.is_wholly_known()) {
                // Terraform refines these results as never null; decoders may return null.
                let unknown = if matches!(name, "jsondecode" | "yamldecode" | "csvdecode") {
                    Value::Unknown(sp.ret)
                } else {
                    Value::not_null_unknown(sp.ret)
                };
                return Ok(unknown.mark(marked));
            }
            Ok(wrap((sp.f)(args, dir))?.mark(marked))
        }
        Mode::Structural => {
            let marked = args.iter().any(Value::is_sensitive);
            let args: Args = args.into_iter().map(|a| a.into_unmarked().0).collect();
            if args.iter().any(Value::is_unknown) && name != "coalesce" {
                let unknown = if name == "length" { Value::not_null_unknown(sp.ret) } else { Value::Unknown(sp.ret) };
                return Ok(unknown.mark(marked));
            }
            let out = wrap((sp.f)(args, dir))?;
            // coalesce never returns null: an unknown result is refined as not null.
            let out = if name == "coalesce" && matches!(out, Value::Unknown(_)) { Value::NotNull(Box::new(out)) } else { out };
            Ok(out.mark(marked))
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
        _ => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: string required, but have {}", v.type_name())),
    }
}

pub(crate) fn as_num(v: &Value, param: &str) -> Result<f64, String> {
    match crate::types::convert(v, &crate::types::Constraint::Number) {
        Ok(Value::Number(n)) => Ok(n),
        Ok(Value::Null(_)) => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: argument must not be null")),
        Err(m) if m.starts_with("a ") => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: {m}")),
        _ => Err(format!("Invalid function argument: Invalid value for {param:?} parameter: number required, but have {}", v.type_name())),
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

/// Elements of a parameter typed as a collection (`want`, e.g. "list of string"): Terraform's
/// error names that type when the argument is not a list, set or tuple.
pub(crate) fn as_seq_typed(v: &Value, param: &str, want: &str) -> Result<Vec<Value>, String> {
    match v.unmark().0 {
        Value::List(..) | Value::Set(..) | Value::Tuple(_) | Value::Null(_) => as_seq(v, param),
        other => Err(format!(
            "Invalid function argument: Invalid value for {param:?} parameter: {want} required, but have {}",
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

/// Every built-in function of Terraform 1.15 (`terraform metadata functions`), without the
/// `core::` aliases, which resolve to the same functions.
pub const TERRAFORM_FUNCTIONS: &[&str] = &[
    "abs", "abspath", "alltrue", "anytrue", "base64decode", "base64encode", "base64gzip", "base64sha256",
    "base64sha512", "basename", "bcrypt", "can", "ceil", "chomp", "chunklist", "cidrhost", "cidrnetmask",
    "cidrsubnet", "cidrsubnets", "coalesce", "coalescelist", "compact", "concat", "contains", "convert",
    "csvdecode", "dirname", "distinct", "element", "endswith", "ephemeralasnull", "file", "filebase64",
    "filebase64sha256", "filebase64sha512", "fileexists", "filemd5", "fileset", "filesha1", "filesha256",
    "filesha512", "flatten", "floor", "format", "formatdate", "formatlist", "indent", "index", "issensitive",
    "join", "jsondecode", "jsonencode", "keys", "length", "log", "lookup", "lower", "matchkeys", "max", "md5",
    "merge", "min", "nonsensitive", "one", "parseint", "pathexpand", "plantimestamp", "pow", "range", "regex",
    "regexall", "replace", "reverse", "rsadecrypt", "sensitive", "setintersection", "setproduct",
    "setsubtract", "setunion", "sha1", "sha256", "sha512", "signum", "slice", "sort", "split", "startswith",
    "strcontains", "strrev", "substr", "sum", "templatefile", "templatestring", "textdecodebase64",
    "textencodebase64", "timeadd", "timecmp", "timestamp", "title", "tobool", "tolist", "tomap", "tonumber",
    "toset", "tostring", "transpose", "trim", "trimprefix", "trimspace", "trimsuffix", "try", "upper",
    "urlencode", "uuid", "uuidv5", "values", "yamldecode", "yamlencode", "zipmap",
];

/// Why a Terraform function is not evaluated offline, or `None` when it is.
pub fn unsupported_reason(name: &str) -> Option<&'static str> {
    match name {
        "base64gzip" => Some("base64gzip is not evaluated offline: its result is Go's compress/flate output byte for byte, which this renderer does not reproduce"),
        "rsadecrypt" => Some("rsadecrypt is not evaluated offline: RSA private-key decryption is not implemented in this renderer"),
        _ => None,
    }
}

/// How the renderer handles a function: `None` when it is not a Terraform function.
pub fn status(name: &str) -> Option<&'static str> {
    if !TERRAFORM_FUNCTIONS.contains(&name) {
        return None;
    }
    if unsupported_reason(name).is_some() {
        return Some("not implemented");
    }
    Some(match name {
        "timestamp" | "uuid" | "plantimestamp" | "bcrypt" => "implemented (unknown until apply, as in Terraform)",
        "yamldecode" => "implemented (YAML 1.1 booleans resolved as Terraform does; documents using other YAML 1.1-only forms are refused, not guessed)",
        "abspath" | "pathexpand" => "implemented (depends on the machine: working directory, HOME)",
        _ => "implemented",
    })
}

/// Errors that mean "not supported offline" rather than a Terraform error.
pub(crate) fn is_unsupported(msg: &str) -> bool {
    msg.starts_with("Unsupported function:") || msg.starts_with("Unsupported YAML:")
}

/// Terraform's argument-count errors, from the function's parameters.
pub(crate) fn arity(name: &str, given: usize) -> Result<(), String> {
    let Some((_, fixed, variadic)) = params::PARAMS.iter().find(|(n, _, _)| *n == name) else {
        return Ok(());
    };
    if given < fixed.len() {
        let qual = if variadic.is_some() { " at least" } else { "" };
        return Err(format!(
            "Not enough function arguments: Function {name:?} expects{qual} {} argument(s). Missing value for {:?}",
            fixed.len(),
            fixed[given]
        ));
    }
    if variadic.is_none() && given > fixed.len() {
        return Err(format!("Too many function arguments: Function {name:?} expects only {} argument(s)", fixed.len()));
    }
    Ok(())
}

/// `startswith` of an unknown string with a known prefix: known when the prefix decides it.
fn startswith_refined(args: &Args) -> Option<bool> {
    let prefix = args.first()?.known_prefix()?;
    let Value::String(want) = args.get(1)?.unmark().0 else { return None };
    if prefix.starts_with(want.as_str()) {
        Some(true)
    } else if !want.starts_with(prefix) {
        Some(false)
    } else {
        None
    }
}

/// The part of a template's known leading text Terraform keeps as an unknown result's
/// prefix: a final non-ASCII character might still combine with what follows, so it is
/// dropped (with the rest of its grapheme cluster).
pub(crate) fn safe_prefix(text: &str) -> String {
    let text = crate::value::nfc(text);
    match text.chars().last() {
        Some(c) if !c.is_ascii() => {
            let clusters = crate::value::graphemes(&text);
            clusters[..clusters.len().saturating_sub(1)].concat()
        }
        _ => text,
    }
}
