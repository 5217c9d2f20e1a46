use std::collections::BTreeMap;
use std::path::Path;

use super::{as_int, as_map, as_num, as_seq, as_seq_typed, as_str, list_or_tuple, str_list, Args, FResult};
use crate::types::{convert_type, unify};
use crate::value::{equals, sort_set, Type, Value};

fn bools(v: &Value, _name: &str) -> Result<Vec<Option<bool>>, String> {
    let mut out = Vec::new();
    for e in as_seq_typed(v, "list", "list of bool")? {
        match crate::types::convert(&e, &crate::types::Constraint::Bool) {
            Ok(Value::Bool(b)) => out.push(Some(b)),
            Ok(Value::Null(_)) => out.push(None),
            _ => return Err("Invalid function argument: Invalid value for \"list\" parameter: a bool is required".into()),
        }
    }
    Ok(out)
}

pub(super) fn alltrue(a: Args, _: &Path) -> FResult {
    Ok(Value::Bool(bools(&a[0], "alltrue")?.iter().all(|b| *b == Some(true))))
}

pub(super) fn anytrue(a: Args, _: &Path) -> FResult {
    Ok(Value::Bool(bools(&a[0], "anytrue")?.contains(&Some(true))))
}

fn same_kind(orig: &Value, vs: Vec<Value>) -> Value {
    match orig.unmark().0 {
        Value::List(t, _) => Value::List(t.clone(), vs),
        Value::Set(t, _) => {
            let mut vs = vs;
            sort_set(&mut vs);
            Value::Set(t.clone(), vs)
        }
        _ => Value::Tuple(vs),
    }
}

pub(super) fn chunklist(a: Args, _: &Path) -> FResult {
    let items = as_seq(&a[0], "list")?;
    let size = as_int(&a[1], "size")?;
    if size < 0 {
        return Err("the size argument must be positive".into());
    }
    let (ety, items) = match &a[0] {
        Value::List(t, _) => (t.clone(), items),
        _ => crate::types::unify_values(&items).ok_or_else(|| "Invalid function argument: Invalid value for \"list\" parameter: list of any single type required".to_string())?,
    };
    let lt = Type::List(Box::new(ety.clone()));
    if size == 0 {
        return Ok(Value::List(lt, vec![Value::List(ety, items)]));
    }
    let chunks: Vec<Value> = items.chunks(size as usize).map(|c| Value::List(ety.clone(), c.to_vec())).collect();
    Ok(Value::List(lt, chunks))
}

/// As cty's `coalesce`: the types of all arguments (nulls included) unify to the result type
/// first; then the first argument that is not null (nor `""` for a string result), converted.
pub(super) fn coalesce(a: Args, _: &Path) -> FResult {
    let types: Vec<Type> = a.iter().map(Value::ty).collect();
    let t = unify(&types).ok_or_else(|| "all arguments must have the same type".to_string())?;
    for v in &a {
        let v = convert_type(v, &t).map_err(|_| "all arguments must have the same type".to_string())?;
        if v.is_unknown() {
            return Ok(Value::Unknown(t));
        }
        if v.is_null() {
            continue;
        }
        if let Value::String(s) = v.unmark().0 {
            if s.is_empty() && t == Type::String {
                continue;
            }
        }
        return Ok(v);
    }
    Err("no non-null, non-empty-string arguments".into())
}

pub(super) fn coalescelist(a: Args, _: &Path) -> FResult {
    for v in &a {
        if v.is_null() {
            continue;
        }
        if !matches!(v.unmark().0, Value::List(..) | Value::Tuple(_)) {
            return Err("coalescelist arguments must be lists or tuples".into());
        }
        if as_seq(v, "vals")?.is_empty() {
            continue;
        }
        return Ok(v.clone());
    }
    Err("no non-null arguments".into())
}

pub(super) fn compact(a: Args, _: &Path) -> FResult {
    let mut out = Vec::new();
    for v in as_seq_typed(&a[0], "list", "list of string")? {
        if v.is_null() {
            continue;
        }
        let s = as_str(&v, "list")?;
        if !s.is_empty() {
            out.push(s);
        }
    }
    Ok(str_list(out))
}

pub(super) fn concat(a: Args, _: &Path) -> FResult {
    let mut out = Vec::new();
    let mut all_lists = true;
    let mut ety: Option<Type> = None;
    for v in &a {
        match v.unmark().0 {
            Value::List(t, vs) => {
                match &ety {
                    Some(e) if e != t => all_lists = false,
                    _ => ety = Some(t.clone()),
                }
                out.extend(vs.iter().cloned());
            }
            Value::Tuple(vs) => {
                all_lists = false;
                out.extend(vs.iter().cloned());
            }
            other => {
                return Err(format!(
                    "Invalid function argument: Invalid value for \"seqs\" parameter: all arguments must be lists or tuples; got {}",
                    other.type_name()
                ))
            }
        }
    }
    if all_lists {
        return Ok(Value::List(ety.unwrap_or(Type::Dynamic), out));
    }
    Ok(Value::Tuple(out))
}

pub(super) fn contains(a: Args, _: &Path) -> FResult {
    if !matches!(a[0].unmark().0, Value::List(..) | Value::Set(..) | Value::Tuple(_)) {
        return Err("argument must be list, tuple, or set".into());
    }
    let items = as_seq(&a[0], "list")?;
    let mut unknown = false;
    for v in &items {
        match equals(v, &a[1]) {
            Some(true) => return Ok(Value::Bool(true)),
            None => unknown = true,
            _ => {}
        }
    }
    Ok(if unknown { Value::Unknown(Type::Bool) } else { Value::Bool(false) })
}

pub(super) fn distinct(a: Args, _: &Path) -> FResult {
    let items = as_seq_typed(&a[0], "list", "list of dynamic")?;
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.iter().any(|o| equals(o, &v) == Some(true)) {
            out.push(v);
        }
    }
    match &a[0] {
        Value::List(t, _) => Ok(Value::List(t.clone(), out)),
        _ => Ok(list_or_tuple(out)),
    }
}

pub(super) fn element(a: Args, _: &Path) -> FResult {
    let items = as_seq(&a[0], "list")?;
    if matches!(a[0], Value::Set(..)) {
        return Err("Invalid function argument: Invalid value for \"list\" parameter: cannot read elements from set".into());
    }
    let i = as_int(&a[1], "index")?;
    if items.is_empty() {
        return Err("cannot use element function with an empty list".into());
    }
    if i < 0 {
        return Err("cannot use element function with a negative index".into());
    }
    Ok(items[(i as usize) % items.len()].clone())
}

fn flatten_into(v: &Value, out: &mut Vec<Value>, depth: usize) -> Result<bool, String> {
    if depth > 64 {
        return Err("value is nested too deeply".into());
    }
    let (inner, _) = v.unmark();
    match inner {
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
            for e in vs {
                if e.is_unknown() {
                    return Ok(false);
                }
                if !flatten_into(e, out, depth + 1)? {
                    return Ok(false);
                }
            }
        }
        _ => out.push(v.clone()),
    }
    Ok(true)
}

pub(super) fn flatten(a: Args, _: &Path) -> FResult {
    if !matches!(a[0].unmark().0, Value::List(..) | Value::Set(..) | Value::Tuple(_)) {
        return Err("can only flatten lists, sets and tuples".into());
    }
    let mut out = Vec::new();
    if !flatten_into(&a[0], &mut out, 0)? {
        return Ok(Value::dynamic_unknown());
    }
    Ok(Value::Tuple(out))
}

pub(super) fn index(a: Args, _: &Path) -> FResult {
    // Searched in place: the list is often large and shared by every instance.
    let items: &[Value] = match a[0].unmark().0 {
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => vs,
        _ => return as_seq(&a[0], "list").and(Err("item not found".into())),
    };
    for (i, v) in items.iter().enumerate() {
        if equals(v, &a[1]) == Some(true) {
            return Ok(Value::Number(i as f64));
        }
    }
    Err("item not found".into())
}

pub(super) fn keys(a: Args, _: &Path) -> FResult {
    if !matches!(a[0].unmark().0, Value::Map(..) | Value::Object(_) | Value::Null(_)) {
        return Err("Invalid function argument: Invalid value for \"inputMap\" parameter: must have map or object type".into());
    }
    let m = as_map(&a[0], "inputMap")?;
    let ks: Vec<Value> = m.keys().map(|k| Value::str(k.clone())).collect();
    match &a[0] {
        Value::Object(_) => Ok(Value::Tuple(ks)),
        _ => Ok(Value::List(Type::String, ks)),
    }
}

pub(super) fn values(a: Args, _: &Path) -> FResult {
    if !matches!(a[0].unmark().0, Value::Map(..) | Value::Object(_) | Value::Null(_)) {
        return Err("values() requires a map as the first argument".into());
    }
    let m = as_map(&a[0], "mapping")?;
    let vs: Vec<Value> = m.values().cloned().collect();
    match &a[0] {
        Value::Map(t, _) => Ok(Value::List(t.clone(), vs)),
        _ => Ok(Value::Tuple(vs)),
    }
}

pub(super) fn length(a: Args, _: &Path) -> FResult {
    match &a[0] {
        Value::String(s) => Ok(Value::Number(crate::value::graphemes(s).len() as f64)),
        Value::List(_, vs) | Value::Set(_, vs) | Value::Tuple(vs) => {
            if matches!(a[0], Value::Set(..)) && vs.iter().any(Value::is_unknown) {
                return Ok(Value::Unknown(Type::Number));
            }
            Ok(Value::Number(vs.len() as f64))
        }
        Value::Map(_, m) | Value::Object(m) => Ok(Value::Number(m.len() as f64)),
        Value::Null(_) => Err("Invalid function argument: Invalid value for \"value\" parameter: argument must not be null".into()),
        _ => Err("argument must be a string, a collection type, or a structural type".into()),
    }
}

/// As Terraform's `lookup`: on an object the attribute as it is (or the default as it is when
/// the attribute is absent), never unified with the default; on a map the element, or the
/// default converted to the element type. Unknown elements other than the one looked up do
/// not matter (a refined unknown comes back as it is).
pub(super) fn lookup(a: Args, _: &Path) -> FResult {
    let k = as_str(&a[1], "key")?;
    let default = a.get(2);
    let (found, ret) = match &a[0] {
        Value::Object(m) => match (m.get(&k), default) {
            (Some(v), _) => (Some(v), v.ty()),
            (None, Some(d)) => (None, d.ty()),
            (None, None) => {
                return Err(format!(
                    "Invalid function argument: Invalid value for \"inputMap\" parameter: the given object has no attribute {k:?}"
                ))
            }
        },
        Value::Map(t, m) => {
            if let Some(d) = default {
                convert_type(d, t).map_err(|_| {
                    "Invalid function argument: Invalid value for \"default\" parameter: the default value must have the same type as the map elements".to_string()
                })?;
            }
            (m.get(&k), t.clone())
        }
        Value::Null(_) => return Err("Invalid function argument: Invalid value for \"inputMap\" parameter: argument must not be null".into()),
        _ => return Err("Invalid function argument: Invalid value for \"inputMap\" parameter: lookup() requires a map as the first argument".into()),
    };
    match (found, default) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => convert_type(d, &ret),
        (None, None) => Err(format!("lookup failed to find key {k:?}")),
    }
}

pub(super) fn merge(a: Args, _: &Path) -> FResult {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut all_maps = true;
    let mut ety: Option<Type> = None;
    for v in &a {
        if v.is_null() {
            continue;
        }
        match v.unmark().0 {
            Value::Map(t, m) => {
                match &ety {
                    Some(e) if e != t => all_maps = false,
                    _ => ety = Some(t.clone()),
                }
                for (k, x) in m {
                    out.insert(k.clone(), x.clone());
                }
            }
            Value::Object(m) => {
                all_maps = false;
                for (k, x) in m {
                    out.insert(k.clone(), x.clone());
                }
            }
            other => {
                return Err(format!(
                    "arguments must be maps or objects, got {:?}",
                    other.type_name()
                ))
            }
        }
    }
    if all_maps && ety.is_some() {
        return Ok(Value::Map(ety.unwrap_or(Type::Dynamic), out));
    }
    Ok(Value::Object(out))
}

pub(super) fn one(a: Args, _: &Path) -> FResult {
    let items = as_seq(&a[0], "list")?;
    match items.len() {
        0 => Ok(match &a[0] {
            Value::List(t, _) | Value::Set(t, _) => Value::Null(t.clone()),
            _ => Value::null(),
        }),
        1 => Ok(items[0].clone()),
        _ => Err("Invalid function argument: Invalid value for \"list\" parameter: must be a list, set, or tuple value with either zero or one elements".into()),
    }
}

pub(super) fn range(a: Args, _: &Path) -> FResult {
    let nums: Vec<f64> = a.iter().map(|v| as_num(v, "params")).collect::<Result<_, _>>()?;
    let (start, end, step) = match nums.len() {
        1 => (0.0, nums[0], 1.0),
        2 => (nums[0], nums[1], if nums[1] < nums[0] { -1.0 } else { 1.0 }),
        _ => (nums[0], nums[1], nums[2]),
    };
    if step == 0.0 {
        // Terraform counts from start by a zero step until it gives up.
        if start < end {
            return Err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step".into());
        }
        return Ok(Value::List(Type::Number, Vec::new()));
    }
    if (step > 0.0 && start > end) || (step < 0.0 && start < end) {
        return Err(if step > 0.0 { "step must be negative when start is greater than end".into() } else { "step must be positive when start is less than end".into() });
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        if out.len() >= 1024 {
            return Err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step".into());
        }
        out.push(Value::Number(x));
        x += step;
    }
    Ok(Value::List(Type::Number, out))
}

pub(super) fn reverse(a: Args, _: &Path) -> FResult {
    if matches!(a[0], Value::Set(..)) {
        return Err("Invalid function argument: Invalid value for \"list\" parameter: can only reverse list or tuple values, not set".into());
    }
    if !matches!(a[0].unmark().0, Value::List(..) | Value::Tuple(_) | Value::Null(_)) {
        return Err(format!("Invalid function argument: Invalid value for \"list\" parameter: can only reverse list or tuple values, not {}", a[0].type_name()));
    }
    let mut items = as_seq(&a[0], "list")?;
    items.reverse();
    Ok(same_kind(&a[0], items))
}

fn set_of(vs: Vec<Value>) -> FResult {
    crate::eval::make_set(vs).map_err(|e| e.to_string())
}

pub(super) fn setintersection(a: Args, _: &Path) -> FResult {
    let mut acc = as_seq_typed(&a[0], "first_set", "set of dynamic")?;
    for s in &a[1..] {
        let other = as_seq(s, "other_sets")?;
        acc.retain(|v| other.iter().any(|o| equals(o, v) == Some(true)));
    }
    set_of(acc)
}

pub(super) fn setunion(a: Args, _: &Path) -> FResult {
    let mut acc = Vec::new();
    for s in &a {
        acc.extend(as_seq(s, "sets")?);
    }
    set_of(acc)
}

pub(super) fn setsubtract(a: Args, _: &Path) -> FResult {
    let mut acc = as_seq(&a[0], "a")?;
    let other = as_seq(&a[1], "b")?;
    acc.retain(|v| !other.iter().any(|o| equals(o, v) == Some(true)));
    set_of(acc)
}

pub(super) fn setproduct(a: Args, _: &Path) -> FResult {
    let mut acc: Vec<Vec<Value>> = vec![vec![]];
    let all_sets = a.iter().all(|v| matches!(v, Value::Set(..)));
    for s in &a {
        let items = as_seq(s, "sets")?;
        let mut next = Vec::new();
        for prefix in &acc {
            for it in &items {
                let mut p = prefix.clone();
                p.push(it.clone());
                next.push(p);
            }
        }
        acc = next;
        if acc.len() > 100_000 {
            return Err("the result is too large".into());
        }
    }
    let mut col_types = Vec::new();
    for v in &a {
        col_types.push(match v {
            Value::List(t, _) | Value::Set(t, _) => t.clone(),
            Value::Tuple(vs) => unify(&vs.iter().map(Value::ty).collect::<Vec<_>>()).unwrap_or(Type::Dynamic),
            _ => Type::Dynamic,
        });
    }
    let row_ty = Type::Tuple(col_types);
    let rows: Vec<Value> = acc.into_iter().map(Value::Tuple).collect();
    if all_sets {
        if rows.is_empty() {
            return Ok(Value::Set(row_ty, rows));
        }
        return set_of(rows);
    }
    Ok(Value::List(row_ty, rows))
}

pub(super) fn slice(a: Args, _: &Path) -> FResult {
    let items = as_seq(&a[0], "list")?;
    let s = as_int(&a[1], "start_index")?;
    let e = as_int(&a[2], "end_index")?;
    if s < 0 {
        return Err("Invalid function argument: Invalid value for \"start_index\" parameter: must be greater than or equal to 0".into());
    }
    if e > items.len() as i64 {
        return Err("Invalid function argument: Invalid value for \"end_index\" parameter: must be less than or equal to the length of the list".into());
    }
    if s > e {
        return Err("Invalid function argument: Invalid value for \"start_index\" parameter: start index must not be greater than end index".into());
    }
    Ok(same_kind(&a[0], items[s as usize..e as usize].to_vec()))
}

pub(super) fn sort(a: Args, _: &Path) -> FResult {
    let mut out = Vec::new();
    for v in as_seq_typed(&a[0], "list", "list of string")? {
        if v.is_null() {
            return Err("given list element is null; a null string cannot be sorted".into());
        }
        out.push(as_str(&v, "list")?);
    }
    out.sort();
    Ok(str_list(out))
}

pub(super) fn transpose(a: Args, _: &Path) -> FResult {
    let m = as_map(&a[0], "values")?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &m {
        let elems = match v.unmark().0 {
            Value::List(..) | Value::Set(..) | Value::Tuple(_) => as_seq(v, "values")?,
            other => {
                return Err(format!(
                    "Invalid function argument: Invalid value for \"values\" parameter: element {k:?}: list of string required, but have {}",
                    other.type_name()
                ))
            }
        };
        for e in elems {
            out.entry(as_str(&e, "values")?).or_default().push(k.clone());
        }
    }
    Ok(Value::Map(
        Type::List(Box::new(Type::String)),
        out.into_iter().map(|(k, v)| (k, str_list(v))).collect(),
    ))
}

pub(super) fn zipmap(a: Args, _: &Path) -> FResult {
    let ks = as_seq(&a[0], "keys")?;
    let vs = as_seq(&a[1], "values")?;
    if ks.len() != vs.len() {
        return Err(format!(
            "number of keys ({}) does not match number of values ({})",
            ks.len(),
            vs.len()
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in ks.iter().zip(vs) {
        if k.is_unknown() {
            return Ok(Value::dynamic_unknown());
        }
        out.insert(as_str(k, "keys")?, v);
    }
    match &a[1] {
        Value::List(t, _) => Ok(Value::Map(t.clone(), out)),
        _ => Ok(Value::Object(out)),
    }
}
