//! Functions whose arguments are not plain values: `convert` takes a type expression,
//! `templatestring` refuses a literal template. The evaluator calls these with the argument
//! expressions.
use std::collections::BTreeMap;
use std::ops::Range;

use hcl_edit::expr::Expression;

use crate::error::{DResult, Diag};
use crate::value::Value;

/// `convert(value, type)`: the value converted to the type constraint, optional attribute
/// defaults applied, as for a variable.
pub(crate) fn convert(value: Value, ty: &Expression, span: Option<Range<usize>>) -> DResult<Value> {
    let constraint = crate::load::parse_type(0, ty, true, 0).map_err(|mut d| {
        d.file = None;
        d
    })?;
    let (inner, marked) = value.into_unmarked();
    let out = crate::types::convert(&inner, &constraint).map_err(|m| {
        let m = if m.ends_with('.') { m } else { format!("{m}.") };
        Diag::eval(span, format!("Invalid function argument: Invalid value for \"value\" parameter: {m}"))
    })?;
    Ok(out.mark(marked))
}

/// Terraform renders only templates obtained from elsewhere with `templatestring`: a
/// literal template argument is an error.
pub(crate) fn templatestring_source(e: &Expression, span: Option<Range<usize>>) -> DResult<()> {
    match e {
        Expression::String(_) | Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => Err(Diag::eval(
            span,
            "Invalid function argument: Invalid value for \"template\" parameter: invalid template expression: templatestring is only for rendering templates retrieved dynamically from elsewhere, and so does not support providing a literal template; consider using a template string expression instead",
        )),
        _ => Ok(()),
    }
}

/// The `vars` argument as template variables; `None` when it is unknown.
pub(crate) fn template_vars(vars: &Value, span: Option<Range<usize>>) -> DResult<Option<BTreeMap<String, Value>>> {
    match vars {
        Value::Object(m) | Value::Map(_, m) => Ok(Some(m.clone())),
        v if v.is_unknown() => Ok(None),
        _ => Err(Diag::eval(
            span,
            "Invalid function argument: Invalid value for \"vars\" parameter: invalid vars value: must be a map",
        )),
    }
}

/// Terraform's wording for an error inside a `templatestring` template (`text`).
pub(crate) fn templatestring_error(d: &Diag, text: &str) -> String {
    const UNKNOWN: &str = "Unknown variable: there is no variable named ";
    if let (Some(rest), Some(span)) = (d.message.strip_prefix(UNKNOWN), &d.span) {
        let name = rest.split(' ').next().unwrap_or_default().trim_matches('"');
        let at = |offset: usize| {
            let before = text.get(..offset.min(text.len())).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, col)
        };
        let (l1, c1) = at(span.start);
        let (l2, c2) = at(span.end);
        let range = if l1 == l2 { format!("{l1},{c1}-{c2}") } else { format!("{l1},{c1}-{l2},{c2}") };
        return format!(
            "Invalid function argument: Invalid value for \"vars\" parameter: vars map does not contain key {name:?}, referenced at <templatestring argument>:{range}"
        );
    }
    format!("Error in function call: Call to function \"templatestring\" failed: {}", d.message)
}
