//! String templates: strip markers and heredoc indentation as HCL applies them, on a flat
//! token list where literal text is split into one token per line.
use hcl_edit::expr::Expression;
use hcl_edit::template::{Directive, Element, Strip, Template};

pub(crate) enum Node<'a> {
    Lit(String),
    Interp(&'a Expression),
    If(&'a Expression, Vec<Node<'a>>, Vec<Node<'a>>),
    For(Option<&'a str>, &'a str, &'a Expression, Vec<Node<'a>>),
}

enum Tok<'a> {
    Lit(String),
    Interp(&'a Expression, Strip),
    If(&'a Expression, Strip),
    Else(Strip),
    EndIf(Strip),
    For(Option<&'a str>, &'a str, &'a Expression, Strip),
    EndFor(Strip),
}

impl Tok<'_> {
    fn strip(&self) -> Option<Strip> {
        match self {
            Tok::Lit(_) => None,
            Tok::Interp(_, s) | Tok::If(_, s) | Tok::Else(s) | Tok::EndIf(s) | Tok::For(_, _, _, s) | Tok::EndFor(s) => Some(*s),
        }
    }
}

fn flatten<'a>(t: &'a Template, out: &mut Vec<Tok<'a>>) {
    for el in t.iter() {
        match el {
            Element::Literal(l) => {
                let text = crate::value::nfc(l.value());
                for line in text.split_inclusive('\n') {
                    out.push(Tok::Lit(line.to_string()));
                }
            }
            Element::Interpolation(i) => out.push(Tok::Interp(&i.expr, i.strip)),
            Element::Directive(d) => match &**d {
                Directive::If(i) => {
                    out.push(Tok::If(&i.if_expr.cond_expr, i.if_expr.strip));
                    flatten(&i.if_expr.template, out);
                    if let Some(e) = &i.else_expr {
                        out.push(Tok::Else(e.strip));
                        flatten(&e.template, out);
                    }
                    out.push(Tok::EndIf(i.endif_expr.strip));
                }
                Directive::For(f) => {
                    out.push(Tok::For(
                        f.for_expr.key_var.as_ref().map(|k| k.value().as_str()),
                        f.for_expr.value_var.value().as_str(),
                        &f.for_expr.collection_expr,
                        f.for_expr.strip,
                    ));
                    flatten(&f.for_expr.template, out);
                    out.push(Tok::EndFor(f.endfor_expr.strip));
                }
            },
        }
    }
}

/// Flatten, apply strip markers and (for `<<-` heredocs) indentation, and rebuild the tree.
pub(crate) fn prepare(t: &Template, dedent: bool) -> Vec<Node<'_>> {
    let mut toks = Vec::new();
    flatten(t, &mut toks);
    for i in 0..toks.len() {
        let Some(s) = toks[i].strip() else { continue };
        if s.strip_start() && i > 0 {
            if let Tok::Lit(l) = &mut toks[i - 1] {
                *l = l.trim_end().to_string();
            }
        }
        if s.strip_end() && i + 1 < toks.len() {
            if let Tok::Lit(l) = &mut toks[i + 1] {
                *l = l.trim_start().to_string();
            }
        }
    }
    if dedent {
        let line_start: Vec<bool> = (0..toks.len())
            .map(|i| {
                matches!(toks[i], Tok::Lit(_))
                    && (i == 0 || matches!(&toks[i - 1], Tok::Lit(p) if p.ends_with('\n')))
            })
            .collect();
        let mut min: Option<usize> = None;
        for (i, t) in toks.iter().enumerate() {
            if let (true, Tok::Lit(l)) = (line_start[i], t) {
                if l.ends_with('\n') && l.trim().is_empty() {
                    continue;
                }
                let n = l.chars().take_while(|c| c.is_whitespace() && *c != '\n').count();
                min = Some(min.map_or(n, |m| m.min(n)));
            }
        }
        if let Some(m) = min.filter(|m| *m > 0) {
            for (i, t) in toks.iter_mut().enumerate() {
                if let (true, Tok::Lit(l)) = (line_start[i], t) {
                    let cut: usize = l
                        .chars()
                        .take(m)
                        .take_while(|c| c.is_whitespace() && *c != '\n')
                        .map(char::len_utf8)
                        .sum();
                    *l = l[cut..].to_string();
                }
            }
        }
    }
    let mut pos = 0;
    build(&toks, &mut pos)
}

fn build<'a>(toks: &[Tok<'a>], pos: &mut usize) -> Vec<Node<'a>> {
    let mut out: Vec<Node<'a>> = Vec::new();
    while *pos < toks.len() {
        match &toks[*pos] {
            Tok::Lit(l) => {
                if let Some(Node::Lit(prev)) = out.last_mut() {
                    prev.push_str(l);
                } else {
                    out.push(Node::Lit(l.clone()));
                }
                *pos += 1;
            }
            Tok::Interp(e, _) => {
                out.push(Node::Interp(e));
                *pos += 1;
            }
            Tok::If(c, _) => {
                *pos += 1;
                let then = build(toks, pos);
                let mut els = Vec::new();
                if matches!(toks.get(*pos), Some(Tok::Else(_))) {
                    *pos += 1;
                    els = build(toks, pos);
                }
                if matches!(toks.get(*pos), Some(Tok::EndIf(_))) {
                    *pos += 1;
                }
                out.push(Node::If(c, then, els));
            }
            Tok::For(k, v, c, _) => {
                *pos += 1;
                let body = build(toks, pos);
                if matches!(toks.get(*pos), Some(Tok::EndFor(_))) {
                    *pos += 1;
                }
                out.push(Node::For(*k, v, c, body));
            }
            Tok::Else(_) | Tok::EndIf(_) | Tok::EndFor(_) => return out,
        }
    }
    out
}
