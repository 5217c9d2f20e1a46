use std::path::Path;

use super::{as_str, Args, FResult};
use crate::value::Value;

pub(super) fn file(a: Args, dir: &Path) -> FResult {
    let p = as_str(&a[0], "path")?;
    let full = dir.join(&p);
    let bytes = std::fs::read(&full).map_err(|_| {
        format!("Invalid function argument: Invalid value for \"path\" parameter: no file exists at {:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource", p)
    })?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        format!("Invalid function argument: Invalid value for \"path\" parameter: contents of {p:?} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead")
    })
}

pub(super) fn fileexists(a: Args, dir: &Path) -> FResult {
    let p = as_str(&a[0], "path")?;
    let full = dir.join(&p);
    match std::fs::metadata(&full) {
        Ok(m) if m.is_file() => Ok(Value::Bool(true)),
        Ok(_) => Err(format!("{p:?} is a directory, not a file")),
        Err(_) => Ok(Value::Bool(false)),
    }
}

/// Impure functions never reach their body: the dispatcher returns unknown first.
pub(super) fn unreachable(_: Args, _: &Path) -> FResult {
    Ok(Value::dynamic_unknown())
}
