//! "No rule iterates the resources inside a loop over the resources" (ARCHITECTURE.md): inside a
//! rule's loop over the plan's resources (`some x in lib.resources`, `lib.of_type(...)`,
//! `lib.archive_buckets`), no second loop over them, no comprehension over them, no call of a
//! function (the file's own or the library's) that loops over them, and no pairwise
//! `lib.linked(...)`: each makes evaluation quadratic. Join through an index built in one pass
//! (`policies/lib/plan.rego`: `linked_to`, `maybe_linked`). Each offence is named with its
//! file:line.
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The `.rego` files of `policies/` but the Rego tests, as the engine loads them: (path, text).
fn policy_files(root: &Path) -> Vec<(String, String)> {
    let tree = lz_policy::PolicyTree::load(&root.join("policies")).unwrap();
    tree.files.into_iter().filter(|f| !f.is_test).map(|f| (format!("policies/{}", f.rel), f.text)).collect()
}

/// One rule or function: its name when it takes arguments, the lines of its loops over the
/// resources, and its lines.
struct Body {
    function: Option<String>,
    loops: Vec<usize>,
    lines: Vec<(usize, String)>,
}

/// Whether `code` loops over the plan's resources (all of them, or all of one type); in the
/// library (`lib`) they are named without the `lib.` prefix.
fn loops_over_resources(code: &str, lib: bool) -> bool {
    code.split(';').any(|part| {
        let l = part.trim();
        let Some(rest) = l.strip_prefix("some ").or_else(|| l.split_once("| some ").map(|(_, r)| r)) else { return false };
        let Some((_, over)) = rest.split_once(" in ") else { return false };
        let over = over.trim_start();
        let over = if lib { over } else { over.strip_prefix("lib.").unwrap_or("") };
        ["resources", "of_type(", "archive_buckets"].iter().any(|s| over.starts_with(s))
    })
}

/// The rules and functions of one file: each starts with a head at the margin.
fn bodies(text: &str, lib: bool) -> Vec<Body> {
    let mut out: Vec<Body> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("");
        if code.trim().is_empty() {
            continue;
        }
        let head = !code.starts_with(char::is_whitespace) && !code.starts_with('}') && !code.starts_with("package") && !code.starts_with("import");
        if head {
            let name_end = code.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(code.len());
            let function = code[name_end..].starts_with('(').then(|| code[..name_end].to_string());
            out.push(Body { function, loops: Vec::new(), lines: Vec::new() });
        }
        let Some(b) = out.last_mut() else { continue };
        if loops_over_resources(code, lib) {
            b.loops.push(i + 1);
        }
        b.lines.push((i + 1, code.to_string()));
    }
    out
}

/// Every rule of `files` that loops over the resources and, inside that loop, loops over them
/// again: a second loop or a comprehension in its body, a call of a function (its file's, or the
/// library's `lib.NAME(`) that loops over them, or a pairwise `lib.linked(` join; named by
/// file:line.
fn nested_resource_loops(files: &[(String, String)]) -> Vec<String> {
    let is_lib = |rel: &str| rel.starts_with("policies/lib/");
    let looping = |rel: &str, text: &str| -> Vec<String> {
        bodies(text, is_lib(rel)).into_iter().filter(|b| !b.loops.is_empty()).filter_map(|b| b.function).collect()
    };
    let lib_looping: Vec<String> = files.iter().filter(|(rel, _)| is_lib(rel)).flat_map(|(rel, text)| looping(rel, text)).collect();
    let mut out = Vec::new();
    for (rel, text) in files.iter().filter(|(rel, _)| !is_lib(rel)) {
        let own = looping(rel, text);
        for b in bodies(text, false) {
            let Some(&first) = b.loops.first() else { continue };
            for (n, code) in &b.lines {
                if code.contains("lib.linked(") {
                    out.push(format!("{rel}:{n}: a pairwise join through lib.linked: use lib.linked_to or lib.maybe_linked (an index built once)"));
                }
                if *n > first && b.loops.contains(n) {
                    out.push(format!("{rel}:{n}: a second loop over the resources inside the loop of line {first}: join through an index built in one pass"));
                }
                let calls = |name: &str, prefix: &str| {
                    code.match_indices(&format!("{prefix}{name}(")).any(|(at, _)| at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.'))
                };
                for f in own.iter().filter(|f| calls(f, "")).chain(lib_looping.iter().filter(|f| calls(f, "lib."))) {
                    if *n >= first && b.function.as_deref() != Some(f.as_str()) {
                        out.push(format!("{rel}:{n}: calls {f}, which loops over the resources, inside the loop of line {first}: join through an index built in one pass"));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_rule_loops_over_the_resources_inside_a_loop_over_the_resources() {
    let files = policy_files(&root());
    assert!(files.len() > 10 && files.iter().any(|(rel, _)| rel == "policies/lib/plan.rego"), "the rule files moved: {} found", files.len());
    let found = nested_resource_loops(&files);
    assert!(found.is_empty(), "quadratic rules (ARCHITECTURE.md, policies):\n{}", found.join("\n"));
}

#[test]
fn a_nested_loop_a_comprehension_per_resource_and_a_pairwise_join_are_named() {
    let one = |text: &str| vec![("policies/x/y.rego".to_string(), text.to_string())];
    let nested = "deny contains f if {\n\tsome b in lib.of_type(\"aws_s3_bucket\")\n\tsome p in lib.of_type(\"aws_s3_bucket_policy\")\n\tp.x == b.y\n}\n";
    assert_eq!(
        nested_resource_loops(&one(nested)),
        vec!["policies/x/y.rego:3: a second loop over the resources inside the loop of line 2: join through an index built in one pass"]
    );
    let comprehension = "deny contains f if {\n\tsome b in lib.resources\n\tn := count([p | some p in lib.of_type(\"aws_s3_bucket_policy\"); p.x == b.y])\n}\n";
    assert_eq!(nested_resource_loops(&one(comprehension)).len(), 1);
    let pairwise = "deny contains f if {\n\tsome b in lib.archive_buckets\n\tlib.linked(b, \"bucket\", c)\n}\n";
    assert_eq!(
        nested_resource_loops(&one(pairwise)),
        vec!["policies/x/y.rego:3: a pairwise join through lib.linked: use lib.linked_to or lib.maybe_linked (an index built once)"]
    );
    // The quadratic rule of controls.attributes before fb14d0a: a loop over every bucket in a
    // function called per resource.
    let helper = "deny contains f if {\n\tsome c in lib.controls\n\tsome r in lib.of_type(c.type)\n\tnot _excepted(c, r)\n}\n\n_excepted(c, r) if {\n\tsome b in lib.of_type(\"aws_s3_bucket\")\n\tb.module_address == r.module_address\n}\n";
    assert_eq!(
        nested_resource_loops(&one(helper)),
        vec!["policies/x/y.rego:4: calls _excepted, which loops over the resources, inside the loop of line 3: join through an index built in one pass"]
    );
    let lib = ("policies/lib/plan.rego".to_string(), "package lz.lib\n\nof_type(t) := _by_type[t]\n\nbuckets_of(m) := {b | some b in of_type(\"aws_s3_bucket\"); b.module_address == m}\n".to_string());
    let calls_lib = "deny contains f if {\n\tsome r in lib.resources\n\tsome b in lib.buckets_of(r.module_address)\n}\n";
    let found = nested_resource_loops(&[lib.clone(), ("policies/x/y.rego".to_string(), calls_lib.to_string())]);
    assert_eq!(found, vec!["policies/x/y.rego:3: calls buckets_of, which loops over the resources, inside the loop of line 2: join through an index built in one pass"]);
    // One loop per rule, a membership test and an indexed join are fine.
    let fine = "a contains b if {\n\tsome b in lib.of_type(\"aws_s3_bucket\")\n}\n\nc contains x if {\n\tsome x in lib.of_type(\"aws_kms_key\")\n\tx in lib.archive_buckets\n\tsome g in lib.linked_to(x, \"k\", \"t\")\n}\n";
    assert!(nested_resource_loops(&one(fine)).is_empty());
}
