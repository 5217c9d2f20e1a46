use std::path::Path;

use super::{as_num, as_seq, as_str, Args, FResult};
use crate::value::Value;

pub(super) fn abs(a: Args, _: &Path) -> FResult {
    Ok(Value::Number(as_num(&a[0], "num")?.abs()))
}

pub(super) fn ceil(a: Args, _: &Path) -> FResult {
    Ok(Value::Number(as_num(&a[0], "num")?.ceil()))
}

pub(super) fn floor(a: Args, _: &Path) -> FResult {
    Ok(Value::Number(as_num(&a[0], "num")?.floor()))
}

pub(super) fn log(a: Args, _: &Path) -> FResult {
    let n = as_num(&a[0], "num")?;
    let b = as_num(&a[1], "base")?;
    Ok(Value::Number(n.ln() / b.ln()))
}

pub(super) fn pow(a: Args, _: &Path) -> FResult {
    Ok(Value::Number(as_num(&a[0], "num")?.powf(as_num(&a[1], "power")?)))
}

pub(super) fn signum(a: Args, _: &Path) -> FResult {
    let n = as_num(&a[0], "num")?;
    if n.fract() != 0.0 {
        return Err("value must be a whole number, between -9223372036854775808 and 9223372036854775807".into());
    }
    Ok(Value::Number(if n > 0.0 { 1.0 } else if n < 0.0 { -1.0 } else { 0.0 }))
}

pub(super) fn max(a: Args, _: &Path) -> FResult {
    let mut m = f64::NEG_INFINITY;
    for v in &a {
        m = m.max(as_num(v, "numbers")?);
    }
    Ok(Value::Number(m))
}

pub(super) fn min(a: Args, _: &Path) -> FResult {
    let mut m = f64::INFINITY;
    for v in &a {
        m = m.min(as_num(v, "numbers")?);
    }
    Ok(Value::Number(m))
}

pub(super) fn sum(a: Args, _: &Path) -> FResult {
    let items = as_seq(&a[0], "list")?;
    if items.is_empty() {
        return Err("Invalid function argument: Invalid value for \"list\" parameter: cannot sum an empty list".into());
    }
    let mut s = 0.0;
    for v in &items {
        if v.is_null() {
            return Err("argument must be list, set, or tuple of number values".into());
        }
        s += as_num(v, "list")?;
    }
    Ok(Value::Number(crate::value::round15(s)))
}

pub(super) fn parseint(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "number")?;
    let base = as_num(&a[1], "base")?;
    if base.fract() != 0.0 || !(2.0..=62.0).contains(&base) {
        return Err("Invalid function argument: Invalid value for \"base\" parameter: base must be a whole number between 2 and 62 inclusive".into());
    }
    let base = base as u32;
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() {
        return Err(format!("cannot parse {s:?} as a base {base} integer"));
    }
    let mut n: f64 = 0.0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 36,
            _ => u32::MAX,
        };
        if d >= base {
            return Err(format!("cannot parse {s:?} as a base {base} integer"));
        }
        n = n * base as f64 + d as f64;
    }
    Ok(Value::Number(if neg { -n } else { n }))
}
