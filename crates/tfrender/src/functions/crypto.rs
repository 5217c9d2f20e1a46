use std::path::Path;

use base64::Engine;
use sha2::Digest;

use super::{as_str, Args, FResult};
use crate::value::Value;

pub(super) fn md5(a: Args, _: &Path) -> FResult {
    use md5::Digest as _;
    Ok(Value::str(hex::encode(md5::Md5::digest(as_str(&a[0], "str")?.as_bytes()))))
}

pub(super) fn sha1(a: Args, _: &Path) -> FResult {
    use sha1::Digest as _;
    Ok(Value::str(hex::encode(sha1::Sha1::digest(as_str(&a[0], "str")?.as_bytes()))))
}

pub(super) fn sha256(a: Args, _: &Path) -> FResult {
    Ok(Value::str(hex::encode(sha2::Sha256::digest(as_str(&a[0], "str")?.as_bytes()))))
}

pub(super) fn sha512(a: Args, _: &Path) -> FResult {
    Ok(Value::str(hex::encode(sha2::Sha512::digest(as_str(&a[0], "str")?.as_bytes()))))
}

pub(super) fn base64sha256(a: Args, _: &Path) -> FResult {
    let d = sha2::Sha256::digest(as_str(&a[0], "str")?.as_bytes());
    Ok(Value::str(base64::engine::general_purpose::STANDARD.encode(d)))
}

pub(super) fn base64sha512(a: Args, _: &Path) -> FResult {
    let d = sha2::Sha512::digest(as_str(&a[0], "str")?.as_bytes());
    Ok(Value::str(base64::engine::general_purpose::STANDARD.encode(d)))
}
