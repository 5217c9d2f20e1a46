use std::collections::BTreeMap;
use std::path::Path;

use super::{as_int, as_seq, as_str, str_list, Args, FResult};
use crate::types::{convert, Constraint};
use crate::value::{number_string, Type, Value};

pub(super) fn chomp(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let t = s.trim_end_matches(['\n', '\r']);
    Ok(Value::str(t))
}

pub(super) fn endswith(a: Args, _: &Path) -> FResult {
    Ok(Value::Bool(as_str(&a[0], "str")?.ends_with(&as_str(&a[1], "suffix")?)))
}

pub(super) fn startswith(a: Args, _: &Path) -> FResult {
    Ok(Value::Bool(as_str(&a[0], "str")?.starts_with(&as_str(&a[1], "prefix")?)))
}

pub(super) fn strcontains(a: Args, _: &Path) -> FResult {
    Ok(Value::Bool(as_str(&a[0], "str")?.contains(&as_str(&a[1], "substr")?)))
}

/// Go maps case one rune to one rune: characters whose full case mapping is longer stay.
fn map_case(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut m: Vec<char> = if upper { c.to_uppercase().collect() } else { c.to_lowercase().collect() };
            if m.len() == 1 { m.pop().unwrap_or(c) } else { c }
        })
        .collect()
}

pub(super) fn lower(a: Args, _: &Path) -> FResult {
    Ok(Value::str(map_case(&as_str(&a[0], "str")?, false)))
}

pub(super) fn upper(a: Args, _: &Path) -> FResult {
    Ok(Value::str(map_case(&as_str(&a[0], "str")?, true)))
}

pub(super) fn strrev(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    Ok(Value::str(crate::value::graphemes(&s).into_iter().rev().collect::<String>()))
}

pub(super) fn title(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            match c {
                'ǆ' | 'Ǆ' => out.push('ǅ'),
                'ǉ' | 'Ǉ' => out.push('ǈ'),
                'ǌ' | 'Ǌ' => out.push('ǋ'),
                'ǳ' | 'Ǳ' => out.push('ǲ'),
                _ => out.push_str(&map_case(&c.to_string(), true)),
            }
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    Ok(Value::str(out))
}

pub(super) fn trimspace(a: Args, _: &Path) -> FResult {
    Ok(Value::str(as_str(&a[0], "str")?.trim()))
}

pub(super) fn trim(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let cut: Vec<char> = as_str(&a[1], "cutset")?.chars().collect();
    Ok(Value::str(s.trim_matches(|c| cut.contains(&c))))
}

pub(super) fn trimprefix(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let p = as_str(&a[1], "prefix")?;
    Ok(Value::str(s.strip_prefix(p.as_str()).unwrap_or(&s)))
}

pub(super) fn trimsuffix(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let p = as_str(&a[1], "suffix")?;
    Ok(Value::str(s.strip_suffix(p.as_str()).unwrap_or(&s)))
}

pub(super) fn indent(a: Args, _: &Path) -> FResult {
    let n = as_int(&a[0], "spaces")?.max(0) as usize;
    let s = as_str(&a[1], "str")?;
    let pad = " ".repeat(n);
    let mut out = String::new();
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    Ok(Value::str(out))
}

pub(super) fn join(a: Args, _: &Path) -> FResult {
    let sep = as_str(&a[0], "separator")?;
    let mut parts = Vec::new();
    for l in &a[1..] {
        for (k, v) in as_seq(l, "lists")?.into_iter().enumerate() {
            if v.is_null() {
                return Err("element is null; cannot concatenate null values".into());
            }
            let part = as_str(&v, "lists").map_err(|e| {
                e.replacen("parameter: ", &format!("parameter: element {k}: "), 1)
            })?;
            parts.push(part);
        }
    }
    Ok(Value::str(parts.join(&sep)))
}

pub(super) fn split(a: Args, _: &Path) -> FResult {
    let sep = as_str(&a[0], "separator")?;
    let s = as_str(&a[1], "str")?;
    if sep.is_empty() {
        return Ok(str_list(s.chars().map(|c| c.to_string()).collect()));
    }
    Ok(str_list(s.split(sep.as_str()).map(str::to_string).collect()))
}

pub(super) fn substr(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let offset = as_int(&a[1], "offset")?;
    let length = as_int(&a[2], "length")?;
    let chars = crate::value::graphemes(&s);
    let len = chars.len() as i64;
    let mut off = if offset < 0 { len + offset } else { offset };
    if off < 0 {
        off = 0;
    }
    if off > len {
        return Err("offset must be less than or equal to the length of the string".into());
    }
    let end = if length < 0 { len } else { (off + length).min(len) };
    if end < off {
        return Ok(Value::str(""));
    }
    Ok(Value::str(chars[off as usize..end as usize].concat()))
}

fn compile(pattern: &str) -> Result<std::rc::Rc<regex::Regex>, String> {
    // Compiling a pattern costs far more than matching it, and a configuration applies the
    // same few patterns to every instance: compiled patterns are kept per thread. They are
    // shared, not cloned: a cloned `Regex` starts with an empty match cache, which it has to
    // build again at its first search.
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<regex::Regex>>> = Default::default();
    }
    if let Some(re) = COMPILED.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = std::rc::Rc::new(regex::Regex::new(pattern).map_err(|e| format!("invalid regular expression pattern: {e}"))?);
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(pattern.to_string(), re.clone());
    });
    Ok(re)
}

fn captures_value(re: &regex::Regex, caps: &regex::Captures) -> Value {
    let names: Vec<Option<&str>> = re.capture_names().collect();
    if names.len() <= 1 {
        return Value::str(caps.get(0).map(|m| m.as_str()).unwrap_or(""));
    }
    if names.iter().skip(1).any(Option::is_some) {
        let mut m = BTreeMap::new();
        for (i, n) in names.iter().enumerate().skip(1) {
            if let Some(n) = n {
                m.insert((*n).to_string(), caps.get(i).map(|c| Value::str(c.as_str())).unwrap_or(Value::Null(Type::String)));
            }
        }
        return Value::Object(m);
    }
    Value::Tuple(
        (1..names.len())
            .map(|i| caps.get(i).map(|c| Value::str(c.as_str())).unwrap_or(Value::Null(Type::String)))
            .collect(),
    )
}

pub(super) fn regex(a: Args, _: &Path) -> FResult {
    let re = compile(&as_str(&a[0], "pattern")?)?;
    let s = as_str(&a[1], "string")?;
    match re.captures(&s) {
        Some(c) => Ok(captures_value(&re, &c)),
        None => Err("pattern did not match any part of the given string".into()),
    }
}

pub(super) fn regexall(a: Args, _: &Path) -> FResult {
    let re = compile(&as_str(&a[0], "pattern")?)?;
    let s = as_str(&a[1], "string")?;
    let all: Vec<Value> = re.captures_iter(&s).map(|c| captures_value(&re, &c)).collect();
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let ety = if names.is_empty() {
        Type::String
    } else if names.iter().any(Option::is_some) {
        Type::Object(names.iter().flatten().map(|n| (n.to_string(), Type::String)).collect())
    } else {
        Type::Tuple(names.iter().map(|_| Type::String).collect())
    };
    Ok(Value::List(ety, all))
}

pub(super) fn replace(a: Args, _: &Path) -> FResult {
    let s = as_str(&a[0], "str")?;
    let sub = as_str(&a[1], "substr")?;
    let rep = as_str(&a[2], "replace")?;
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let re = compile(&sub[1..sub.len() - 1])?;
        return Ok(Value::str(re.replace_all(&s, rep.as_str()).into_owned()));
    }
    Ok(Value::str(s.replace(&sub, &rep)))
}

pub(super) fn format(a: Args, _: &Path) -> FResult {
    let f = as_str(&a[0], "format")?;
    Ok(Value::str(sprintf(&f, &a[1..])?))
}

pub(super) fn formatlist(a: Args, _: &Path) -> FResult {
    let f = as_str(&a[0], "format")?;
    let mut n: Option<usize> = None;
    for v in &a[1..] {
        if let Value::List(_, vs) | Value::Tuple(vs) | Value::Set(_, vs) = v {
            match n {
                Some(k) if k != vs.len() => {
                    let i = a[1..].iter().position(|x| std::ptr::eq(x, v)).unwrap_or(0) + 1;
                    let first = a[1..].iter().position(|x| matches!(x, Value::List(..) | Value::Tuple(_) | Value::Set(..))).unwrap_or(0) + 1;
                    return Err(format!("Invalid function argument: Invalid value for \"args\" parameter: argument {i} has length {}, which is inconsistent with argument {first} of length {k}", vs.len()));
                }
                _ => n = Some(vs.len()),
            }
        }
    }
    let n = n.unwrap_or(1);
    let mut out = Vec::new();
    for i in 0..n {
        let row: Vec<Value> = a[1..]
            .iter()
            .map(|v| match v {
                Value::List(_, vs) | Value::Tuple(vs) | Value::Set(_, vs) => vs[i].clone(),
                other => other.clone(),
            })
            .collect();
        out.push(sprintf(&f, &row)?);
    }
    Ok(str_list(out))
}

/// Go's fmt verbs as Terraform's `format` supports them.
pub(crate) fn sprintf(f: &str, args: &[Value]) -> Result<String, String> {
    let chars: Vec<char> = f.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut argi = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let pct = i - 1;
        if i >= chars.len() {
            return Err("unterminated format verb at end of string".into());
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut minus = false;
        let mut plus = false;
        let mut zero = false;
        let mut space = false;
        while i < chars.len() && matches!(chars[i], '-' | '+' | '0' | ' ' | '#') {
            match chars[i] {
                '-' => minus = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                _ => {}
            }
            i += 1;
        }
        let mut explicit: Option<usize> = None;
        if i < chars.len() && chars[i] == '[' {
            let start = i + 1;
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            let n: usize = chars[start..i.min(chars.len())].iter().collect::<String>().parse().map_err(|_| "invalid argument index".to_string())?;
            explicit = Some(n.saturating_sub(1));
            i += 1;
        }
        let mut width: Option<usize> = None;
        while i < chars.len() && chars[i].is_ascii_digit() {
            width = Some(width.unwrap_or(0) * 10 + (chars[i] as usize - '0' as usize));
            i += 1;
        }
        let mut prec: Option<usize> = None;
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            let mut p = 0;
            while i < chars.len() && chars[i].is_ascii_digit() {
                p = p * 10 + (chars[i] as usize - '0' as usize);
                i += 1;
            }
            prec = Some(p);
        }
        if i >= chars.len() {
            return Err("unterminated format verb at end of string".into());
        }
        let verb = chars[i];
        i += 1;
        if let Some(e) = explicit {
            argi = e;
        }
        let Some(arg) = args.get(argi) else {
            return Err("not enough arguments for format string".to_string());
        };
        argi += 1;
        let body = match verb {
            'v' => match arg {
                Value::String(s) => s.clone(),
                Value::Number(n) => number_string(*n),
                Value::Bool(b) => b.to_string(),
                Value::Null(_) => "null".into(),
                other => super::encoding::json_string(other)?,
            },
            's' => {
                let s = match convert(arg, &Constraint::String) {
                    Ok(Value::String(s)) => s,
                    _ => return Err(format!("unsupported value for \"%s\" at {}: string required", i - 1)),
                };
                match prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'q' => {
                let s = match convert(arg, &Constraint::String) {
                    Ok(Value::String(s)) => s,
                    _ => return Err("unsupported value for \"%q\": string required".into()),
                };
                super::encoding::json_quote(&s, false)
            }
            't' => match convert(arg, &Constraint::Bool) {
                Ok(Value::Bool(b)) => b.to_string(),
                _ => return Err("unsupported value for \"%t\": bool required".into()),
            },
            'd' | 'b' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                if verb == 'x' || verb == 'X' {
                    if let Value::String(s) = arg {
                        let h: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                        let h = if verb == 'X' { h.to_uppercase() } else { h };
                        out.push_str(&pad(h, width, minus, false));
                        continue;
                    }
                }
                let n = match convert(arg, &Constraint::Number) {
                    Ok(Value::Number(n)) => n,
                    _ => return Err(format!("unsupported value for \"%{verb}\" at {pct}: a number is required")),
                };
                let sign = if n < 0.0 { "-" } else if plus { "+" } else if space { " " } else { "" };
                let a = n.abs();
                let digits = match verb {
                    'd' => {
                        if a.fract() != 0.0 {
                            return Err("unsupported value for \"%d\": an integer is required".to_string());
                        }
                        format!("{}", a as u128)
                    }
                    'b' => format!("{:b}", a as u128),
                    'o' => format!("{:o}", a as u128),
                    'x' => format!("{:x}", a as u128),
                    'X' => format!("{:X}", a as u128),
                    'e' | 'E' => {
                        let s = format!("{:.*e}", prec.unwrap_or(6), a);
                        let s = go_exp(&s);
                        if verb == 'E' { s.to_uppercase() } else { s }
                    }
                    'f' | 'F' => format!("{:.*}", prec.unwrap_or(6), a),
                    _ => match prec {
                        Some(p) => format!("{:.*}", p, a),
                        None => number_string(a),
                    },
                };
                let s = format!("{sign}{digits}");
                if zero && !minus {
                    if let Some(w) = width {
                        if s.len() < w {
                            let padn = w - s.len();
                            out.push_str(sign);
                            out.push_str(&"0".repeat(padn));
                            out.push_str(&digits);
                            continue;
                        }
                    }
                }
                s
            }
            other => return Err(format!("unsupported format verb %{other}")),
        };
        out.push_str(&pad(body, width, minus, false));
    }
    if argi < args.len() && !f.contains("%[") {
        return Err(format!("too many arguments; only {argi} used by format string"));
    }
    Ok(out)
}

fn go_exp(s: &str) -> String {
    // Rust prints 1.5e3, Go prints 1.5e+03.
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s.to_string(),
    }
}

fn pad(s: String, width: Option<usize>, left: bool, _zero: bool) -> String {
    let len = s.chars().count();
    match width {
        Some(w) if len < w => {
            if left {
                format!("{s}{}", " ".repeat(w - len))
            } else {
                format!("{}{s}", " ".repeat(w - len))
            }
        }
        _ => s,
    }
}
