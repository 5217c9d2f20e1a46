//! A large plan gives exactly the findings of its parts evaluated one by one: the indexes that
//! keep evaluation linear in the plan (policies/lib/plan.rego) cannot lose, invent or
//! misattribute a finding. The plans are copies of real plans (`lz_policy::scale`).
use std::path::{Path, PathBuf};

use lz_policy::{scale, Finding, Policies};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policies() -> Policies {
    Policies::load(&root().join("policies"), &root().join("governance/policy.toml")).expect("policies load")
}

fn key(f: &Finding) -> (String, String, String, String) {
    (f.rule_id.clone(), f.address.clone(), f.severity.clone(), f.message.clone())
}

fn sorted(findings: Vec<Finding>) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = findings.iter().map(key).collect();
    v.sort();
    v
}

/// The environment plans, the compliant fixture and every corpus plan (state files aside).
fn templates() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let dirs = [root().join("crates/policy/tests/data/plans"), root().join("policies/corpus")];
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .collect();
        files.sort();
        for f in files {
            // The corpus also holds state files, which are refused as plans.
            if let Ok(plan) = lz_policy::read_plan(&f) {
                out.push((name(&f), plan));
            }
        }
    }
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn a_large_plan_gives_the_findings_of_its_copies_evaluated_one_by_one() {
    let policies = policies();
    let templates = templates();
    assert!(templates.len() >= 10, "expected the fixture and corpus plans, found {}", templates.len());
    let mut total = 0;
    for (name, template) in &templates {
        let copies = scale::copies_for(template, 200).min(20);
        let big = scale::replicate(template, copies);
        let changes = big["resource_changes"].as_array().unwrap().len();
        assert_eq!(changes, copies * template["resource_changes"].as_array().unwrap().len(), "{name}");
        let whole = sorted(policies.findings(&big).unwrap_or_else(|e| panic!("{name}: {e:#}")));
        let mut parts = Vec::new();
        for i in 0..copies {
            parts.extend(policies.findings(&scale::copy(template, i)).unwrap_or_else(|e| panic!("{name} copy {i}: {e:#}")));
        }
        // A copy keeps its template's findings: the renaming changes no link.
        let own = policies.findings(template).unwrap().len();
        assert_eq!(parts.len(), own * copies, "{name}: a copy does not give its template's {own} findings");
        // Findings on what the copies share (a provider's region) appear once in the whole.
        let mut parts = sorted(parts);
        parts.dedup();
        if whole != parts {
            let missing: Vec<_> = parts.iter().filter(|f| !whole.contains(f)).take(5).collect();
            let extra: Vec<_> = whole.iter().filter(|f| !parts.contains(f)).take(5).collect();
            panic!("{name} x{copies}: the whole plan differs from its copies one by one\nmissing: {missing:#?}\nextra: {extra:#?}");
        }
        total += whole.len();
    }
    assert!(total > 100, "the plans give too few findings ({total}) to compare");
}

/// The attributes the rules link through.
const LINK_ATTRS: [&str; 10] =
    ["bucket", "target_bucket", "vpc_id", "security_group_id", "route_table_id", "subnet_id", "secret_id", "role", "policy_arn", "permissions_boundary"];

/// [dependent, attribute, target] of every link the library's indexes find in a plan.
fn links(engine: &regorus::Engine, plan: &Value) -> Vec<String> {
    let mut engine = engine.clone();
    engine.set_input_json(&plan.to_string()).unwrap();
    let query = format!(
        "[x | some r in data.lz.lib.resources; some a in {}; some t in data.lz.lib.links(r, a); x := concat(\" \", [r.address, a, t.address])]",
        serde_json::to_string(&LINK_ATTRS).unwrap()
    );
    let results = engine.eval_query(query, false).unwrap();
    let value = results.result[0].expressions[0].value.to_json_str().unwrap();
    let mut out: Vec<String> = serde_json::from_str(&value).unwrap();
    out.sort();
    out
}

/// Finding presence hides a link too many; the links themselves must match as well: a large
/// plan links exactly what its copies link one by one (no index joins across modules or copies).
#[test]
fn a_large_plan_links_what_its_copies_link_one_by_one() {
    let tree = lz_policy::PolicyTree::load(&root().join("policies")).unwrap();
    let engine = tree.engine(false).unwrap();
    let mut total = 0;
    for (name, template) in templates() {
        let copies = 8;
        let whole = links(&engine, &scale::replicate(&template, copies));
        let mut parts: Vec<String> = (0..copies).flat_map(|i| links(&engine, &scale::copy(&template, i))).collect();
        parts.sort();
        assert_eq!(whole, parts, "{name}: the whole plan links differently from its copies one by one");
        total += whole.len();
    }
    assert!(total > 100, "too few links ({total}) to compare");
}

#[test]
fn copies_do_not_share_addresses_or_known_values() {
    let template = lz_policy::read_plan(&root().join("crates/policy/tests/data/plans/prod.json")).unwrap();
    let big = scale::replicate(&template, 3);
    let changes = big["resource_changes"].as_array().unwrap();
    let addresses: std::collections::BTreeSet<&str> = changes.iter().map(|rc| rc["address"].as_str().unwrap()).collect();
    assert_eq!(addresses.len(), changes.len(), "every copy's resources have addresses of their own");
    assert!(addresses.contains(r#"module.log_archive["c2"].aws_s3_bucket.this"#), "{addresses:?}");
    assert!(addresses.iter().any(|a| a.ends_with("_c1") && !a.starts_with("module.")), "root resources are renamed per copy");
    let buckets: Vec<&str> =
        changes.iter().filter(|rc| rc["type"] == "aws_s3_bucket").filter_map(|rc| rc["change"]["after"]["bucket"].as_str()).collect();
    assert_eq!(buckets.len(), 3);
    assert_eq!(buckets.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "bucket names differ between copies: {buckets:?}");
    assert_eq!(scale::copy(&template, 2)["resource_changes"].as_array().unwrap().len(), changes.len() / 3);
}
