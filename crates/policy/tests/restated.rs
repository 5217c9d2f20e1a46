//! "A control value is written down once": the Rego library keeps defaults for settings that
//! `governance/policy.toml` may leave out (the `_defaults` object of `policies/lib/plan.rego`,
//! which the Rego unit tests run with). Where the settings file sets a key, a default restating
//! it must say the same; this test names the `file:line` of every default that differs.
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `_defaults := { ... }` object of a Rego file: `(key, value, line)`, the line being the
/// key's. The object is JSON but for trailing commas; `Err` names the file:line of an object
/// that does not parse (so the guard cannot go blind on a new syntax).
fn rego_defaults(text: &str, file: &str) -> Result<Vec<(String, Value, usize)>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with("_defaults := {") {
            i += 1;
            continue;
        }
        let start = i;
        let end = (start..lines.len()).find(|&j| lines[j].trim_end() == "}").ok_or(format!("{file}:{}: _defaults has no closing }}", start + 1))?;
        let body: String = lines[start..=end].join("\n");
        let json = without_trailing_commas(&body[body.find('{').unwrap()..]);
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(&json).map_err(|e| format!("{file}:{}: _defaults is not a JSON-like object: {e}", start + 1))?;
        for (key, value) in object {
            let at = (start..=end).find(|&j| lines[j].trim_start().starts_with(&format!("\"{key}\":"))).unwrap_or(start);
            out.push((key, value, at + 1));
        }
        i = end + 1;
    }
    Ok(out)
}

/// `text` without the commas that stand before a closing `]` or `}` (Rego allows them, JSON does
/// not). Commas inside strings are kept.
fn without_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut in_string = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == '"' && (i == 0 || chars[i - 1] != '\\') {
            in_string = !in_string;
        }
        if c == ',' && !in_string {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some(']') | Some('}')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The defaults of `rego` (named `file`) that differ from what `settings` (TOML text) sets.
fn differing_defaults(rego: &str, file: &str, settings: &str) -> Result<Vec<String>, String> {
    let settings: toml::Table = toml::from_str(settings).map_err(|e| format!("governance/policy.toml: {e}"))?;
    let settings = serde_json::to_value(settings).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (key, default, line) in rego_defaults(rego, file)? {
        if let Some(set) = settings.get(&key) {
            if *set != default {
                out.push(format!("{file}:{line}: the default {key} = {default} restates governance/policy.toml's {key} = {set}: make them equal"));
            }
        }
    }
    Ok(out)
}

/// `(path relative to the root, text)` of every Rego file under `policies/` but the tests.
fn rego_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.join("policies")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rego") && !p.to_string_lossy().ends_with("_test.rego") {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_rego_default_equals_the_setting_it_restates() {
    let root = root();
    let settings = std::fs::read_to_string(root.join("governance/policy.toml")).unwrap();
    let mut found = 0;
    let mut wrong = Vec::new();
    for (rel, text) in rego_files(&root) {
        found += rego_defaults(&text, &rel).unwrap_or_else(|e| panic!("{e}")).len();
        wrong.extend(differing_defaults(&text, &rel, &settings).unwrap_or_else(|e| panic!("{e}")));
    }
    // The guard reads the defaults it is about (policies/lib/plan.rego keeps one per setting).
    assert!(found >= 11, "found only {found} Rego defaults under policies/");
    assert!(wrong.is_empty(), "Rego defaults that differ from governance/policy.toml:\n{}", wrong.join("\n"));
}

#[test]
fn a_default_that_differs_is_named_with_its_line() {
    let rego = "package lz.lib\n\n_defaults := {\n\t\"required_tags\": [\"Owner\", \"Environment\"],\n\t\"stateful_types\": [\n\t\t\"aws_s3_bucket\",\n\t],\n\t\"log_retention_days\": 365,\n\t\"note\": \"a, b\",\n}\n";
    let settings = "required_tags = [\"Owner\", \"Environment\"]\nstateful_types = [\"aws_s3_bucket\", \"aws_kms_key\"]\nlog_retention_days = 400\n";
    let found = differing_defaults(rego, "policies/lib/plan.rego", settings).unwrap();
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    let mut sorted = lines;
    sorted.sort();
    assert_eq!(sorted, ["policies/lib/plan.rego:5", "policies/lib/plan.rego:8"], "{found:?}");
    // A key the settings file leaves out keeps its default; equal values pass.
    assert!(differing_defaults(rego, "x.rego", "required_tags = [\"Owner\", \"Environment\"]\n").unwrap().is_empty());
    // An object the guard cannot read is an error naming its line, never an empty pass.
    let e = differing_defaults("package p\n_defaults := {\n\t\"a\": [1,\n}\n", "x.rego", "").unwrap_err();
    assert!(e.starts_with("x.rego:2: "), "{e}");
}

/// The literals two rules state in Rego that `policies/controls.toml` also holds (the one public
/// ingress, the TLS statement of every bucket policy), each with its `file:line`: `(file, line,
/// what, the Rego value, the table's value)`. A literal the guard no longer finds is named too.
fn restated_controls(rego: &[(String, String)], controls: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(controls).expect("policies/controls.toml parses");
    let ingress = table.get("public_ingress").and_then(|v| v.as_table()).expect("controls.toml has [public_ingress]");
    let port = ingress.get("port").and_then(|v| v.as_integer()).expect("public_ingress.port").to_string();
    let tier = ingress.get("tier").and_then(|v| v.as_str()).expect("public_ingress.tier").to_string();
    let statement = table
        .get("statement")
        .and_then(|v| v.as_array())
        .and_then(|a| a.iter().find(|s| s.get("sid").and_then(|x| x.as_str()) == Some("DenyInsecureTransport")))
        .expect("controls.toml has the DenyInsecureTransport statement");
    let field = |k: &str| statement.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let condition = format!("s.Condition.{}[\"{}\"]", field("operator"), field("key"));
    // (file, the start of the Rego line, what the rest of the line must hold)
    let expected = [
        ("policies/network/open_ingress/open_ingress.rego", "from == ", port.clone()),
        ("policies/network/open_ingress/open_ingress.rego", "to == ", port),
        ("policies/network/open_ingress/open_ingress.rego", "_ingress_tier(r) if lib.tag(r, \"Tier\") == ", format!("\"{tier}\"")),
        ("policies/network/open_ingress/open_ingress.rego", "lib.tag(g, \"Tier\") == ", format!("\"{tier}\"")),
        ("policies/s3/tls_only/tls_only.rego", "some v in lib.as_list(s.Condition.", format!("{})", condition.trim_start_matches("s.Condition."))),
        ("policies/s3/tls_only/tls_only.rego", "lower(sprintf(\"%v\", [v])) == ", format!("\"{}\"", field("value"))),
        ("policies/s3/tls_only/tls_only.rego", "s.Effect == ", format!("\"{}\"", field("effect"))),
    ];
    let mut out = Vec::new();
    for (file, start, want) in expected {
        let Some((_, text)) = rego.iter().find(|(r, _)| r == file) else {
            out.push(format!("{file}: not found (the guard of its restated controls must move with it)"));
            continue;
        };
        let hits: Vec<(usize, &str)> =
            text.lines().enumerate().filter_map(|(i, l)| l.trim_start().strip_prefix(start).map(|rest| (i + 1, rest.trim_end()))).collect();
        if hits.is_empty() {
            out.push(format!("{file}: no line starts with `{start}` any more: update this guard (crates/policy/tests/restated.rs)"));
        }
        for (line, rest) in hits {
            if rest != want {
                out.push(format!("{file}:{line}: `{start}{rest}` restates policies/controls.toml, which says {want}"));
            }
        }
    }
    out
}

#[test]
fn the_controls_two_rules_state_in_rego_equal_the_control_table() {
    let root = root();
    let controls = std::fs::read_to_string(root.join("policies/controls.toml")).unwrap();
    let wrong = restated_controls(&rego_files(&root), &controls);
    assert!(wrong.is_empty(), "Rego literals that differ from policies/controls.toml:\n{}", wrong.join("\n"));
}

#[test]
fn a_restated_control_that_differs_is_named_with_its_line() {
    let root = root();
    let controls = std::fs::read_to_string(root.join("policies/controls.toml")).unwrap();
    let mut files = rego_files(&root);
    for (rel, text) in files.iter_mut() {
        if rel.ends_with("open_ingress.rego") {
            *text = text.replacen("\tto == 443", "\tto == 8443", 1);
        }
    }
    let found = restated_controls(&files, &controls);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("policies/network/open_ingress/open_ingress.rego:") && found[0].contains("to == 8443"), "{found:?}");
    let moved = controls.replacen("port = 443", "port = 8443", 1);
    assert_eq!(restated_controls(&rego_files(&root), &moved).len(), 2, "the table moving alone is named at both Rego lines");
}

/// `Settings::unverifiable_severity()` falls back to a severity when the settings file leaves it
/// out; the Rego library falls back to its `_defaults` one. They must be the same.
#[test]
fn the_rust_fallback_severity_is_the_rego_default() {
    let root = root();
    let rego = std::fs::read_to_string(root.join("policies/lib/plan.rego")).unwrap();
    let defaults = rego_defaults(&rego, "policies/lib/plan.rego").unwrap();
    let (_, rego_default, line) = defaults.iter().find(|(k, _, _)| k == "unverifiable_severity").expect("plan.rego has a default unverifiable_severity");
    let rust = lz_policy::Settings::default();
    assert_eq!(
        rego_default.as_str(),
        Some(rust.unverifiable_severity()),
        "policies/lib/plan.rego:{line}: the default unverifiable_severity differs from crates/policy/src/settings.rs's fallback"
    );
}
