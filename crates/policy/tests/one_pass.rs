//! "No rule iterates the resources inside a loop over the resources" (ARCHITECTURE.md): a rule
//! body of `policies/` (outside `lib/` and the Rego tests) holds at most one loop over the plan's
//! resources (`some x in lib.resources`, `lib.of_type(...)`, `lib.archive_buckets`), and no rule
//! calls the pairwise `lib.linked(...)`: a second loop, or a comprehension over the resources
//! inside the first, makes evaluation quadratic. Join through an index built in one pass (see
//! `policies/lib/plan.rego`: `linked_to`, `maybe_linked`). Each offence is named with its
//! file:line.
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The rule files of `policies/` (not the library, not the Rego tests), sorted.
fn rule_files(root: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rego") && !p.to_string_lossy().ends_with("_test.rego") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root.join("policies"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| (p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), std::fs::read_to_string(&p).unwrap()))
        .filter(|(rel, _)| !rel.starts_with("policies/lib/"))
        .collect()
}

/// Whether `line` loops over the plan's resources (all of them, or all of one type).
fn loops_over_resources(line: &str) -> bool {
    let l = line.trim();
    let Some(rest) = l.strip_prefix("some ").or_else(|| l.split_once("| some ").map(|(_, r)| r)) else { return false };
    let Some((_, over)) = rest.split_once(" in ") else { return false };
    ["lib.resources", "lib.of_type(", "lib.archive_buckets"].iter().any(|s| over.trim_start().starts_with(s))
}

/// Every rule body of `files` with a second loop over the resources, or a pairwise
/// `lib.linked(` join, named by file:line.
fn nested_resource_loops(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        let mut loops: Vec<usize> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or("");
            // A rule (its head, or the whole of a one-line rule) starts at the margin.
            if !code.trim().is_empty() && !code.starts_with(char::is_whitespace) {
                loops.clear();
            }
            if code.contains("lib.linked(") {
                out.push(format!("{rel}:{}: a pairwise join through lib.linked: use lib.linked_to or lib.maybe_linked (an index built once)", i + 1));
            }
            // Several loops on one line (a comprehension inside a loop) count each.
            for part in code.split(';') {
                if loops_over_resources(part) {
                    loops.push(i + 1);
                }
            }
            if loops.len() > 1 && loops.last() == Some(&(i + 1)) {
                out.push(format!(
                    "{rel}:{}: a second loop over the resources inside the loop of line {}: join through an index built in one pass",
                    i + 1,
                    loops[0]
                ));
            }
        }
    }
    out
}

#[test]
fn no_rule_loops_over_the_resources_inside_a_loop_over_the_resources() {
    let files = rule_files(&root());
    assert!(files.len() > 10, "the rule files moved: {} found", files.len());
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
    // One loop per rule, a membership test and an indexed join are fine.
    let fine = "a contains b if {\n\tsome b in lib.of_type(\"aws_s3_bucket\")\n}\n\nc contains x if {\n\tsome x in lib.of_type(\"aws_kms_key\")\n\tx in lib.archive_buckets\n\tsome g in lib.linked_to(x, \"k\", \"t\")\n}\n";
    assert!(nested_resource_loops(&one(fine)).is_empty());
}
