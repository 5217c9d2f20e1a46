//! Policy evaluation on plan JSON, as a case table (`tests/data/plan_cases.json`): each case
//! patches a compliant plan and names the findings (rule and resource address) it expects.
use std::path::{Path, PathBuf};

use lz_policy::{Options, Policies};
use serde::Deserialize;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[derive(Deserialize)]
struct Case {
    name: String,
    base: String,
    #[serde(default)]
    patch: Vec<Patch>,
    #[serde(default)]
    add: Vec<Value>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    variables: serde_json::Map<String, Value>,
    #[serde(default)]
    drop_configuration: bool,
    expect: Vec<Expect>,
    only: bool,
    #[serde(default)]
    unverifiable: bool,
}

#[derive(Deserialize)]
struct Patch {
    address: String,
    after: Option<serde_json::Map<String, Value>>,
    after_unknown: Option<Value>,
    actions: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Expect {
    rule_id: String,
    address: String,
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn build(case: &Case) -> Value {
    let mut plan = load(&data().join("plans").join(&case.base));
    let changes = plan["resource_changes"].as_array_mut().unwrap();
    for p in &case.patch {
        let rc = changes
            .iter_mut()
            .find(|rc| rc["address"] == p.address.as_str())
            .unwrap_or_else(|| panic!("{}: no resource {}", case.name, p.address));
        if let Some(after) = &p.after {
            for (k, v) in after {
                rc["change"]["after"][k] = v.clone();
            }
        }
        if let Some(u) = &p.after_unknown {
            rc["change"]["after_unknown"] = u.clone();
        }
        if let Some(a) = &p.actions {
            rc["change"]["actions"] = serde_json::json!(a);
        }
    }
    changes.retain(|rc| !case.remove.iter().any(|a| rc["address"] == a.as_str()));
    changes.extend(case.add.iter().cloned());
    for (k, v) in &case.variables {
        plan["variables"][k] = v.clone();
    }
    if case.drop_configuration {
        plan.as_object_mut().unwrap().remove("configuration");
    }
    plan
}

fn policies() -> Policies {
    let opts = Options::for_root(&root());
    Policies::load(&opts.policies, &opts.settings).unwrap()
}

#[test]
fn plan_cases() {
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(data().join("plan_cases.json")).unwrap())
            .unwrap();
    assert!(cases.len() > 30);
    let policies = policies();
    let mut failures = Vec::new();
    for case in &cases {
        let findings = policies.findings(&build(case)).unwrap();
        let got: Vec<Expect> = findings
            .iter()
            .map(|f| Expect {
                rule_id: f.rule_id.clone(),
                address: f.address.clone(),
            })
            .collect();
        for e in &case.expect {
            if !got.contains(e) {
                failures.push(format!(
                    "{}: expected {} at {}, got {:?}",
                    case.name, e.rule_id, e.address, got
                ));
            }
            let unverifiable = findings
                .iter()
                .any(|f| f.rule_id == e.rule_id && f.address == e.address && f.unverifiable);
            if unverifiable != case.unverifiable {
                failures.push(format!(
                    "{}: {} at {} unverifiable={unverifiable}",
                    case.name, e.rule_id, e.address
                ));
            }
        }
        if case.only {
            let mut extra: Vec<_> = got.iter().filter(|g| !case.expect.contains(g)).collect();
            extra.dedup();
            if !extra.is_empty() {
                failures.push(format!("{}: unexpected findings {extra:?}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_is_exercised_by_a_case() {
    let cases = std::fs::read_to_string(data().join("plan_cases.json")).unwrap();
    for rule in &policies().tree.rules {
        assert!(
            cases.contains(&format!("\"{}\"", rule.id)),
            "no plan case expects {}",
            rule.id
        );
    }
}

#[test]
fn secrets_in_plans_are_redacted_in_every_format() {
    let mut plan = load(&data().join("plans/compliant.json"));
    let key = "AKIAIOSFODNN7EXAMPLE";
    plan["resource_changes"].as_array_mut().unwrap().push(serde_json::json!({
        "address": "aws_secretsmanager_secret_version.db", "mode": "managed",
        "type": "aws_secretsmanager_secret_version", "name": "db",
        "change": {"actions": ["create"], "after": {"secret_string": "s3cr3t-Value-9f8e7d6c", "secret_id": key}, "after_unknown": {}}
    }));
    let mut opts = Options::for_root(&root());
    opts.exceptions = None;
    let report = lz_policy::evaluate(&plan, &opts).unwrap();
    assert!(report.findings.iter().any(|f| f.rule_id == "LZ-SEC-003"));
    let outputs = [
        report.to_text(),
        report.to_json().to_string(),
        report.to_sarif().to_string(),
    ];
    for out in outputs {
        assert!(!out.contains(key), "access key leaked: {out}");
        assert!(!out.contains("s3cr3t-Value"), "secret leaked: {out}");
    }
    assert_eq!(
        lz_policy::redact::redact_str(&format!("key {key} password = \"hunter22\"")),
        "key AKIA**************** password = [REDACTED]"
    );
}

#[test]
fn malformed_plan_json_names_line_and_column() {
    let err = lz_policy::parse_plan("{\n  \"resource_changes\": [\n    {,\n  ]\n}", "bad.json")
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.starts_with("bad.json:3:6:"), "{msg}");
    assert!(lz_policy::parse_plan("[]", "list.json").is_err());
}

#[test]
fn findings_carry_metadata_ids_and_severities() {
    let policies = policies();
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(data().join("plan_cases.json")).unwrap())
            .unwrap();
    for case in &cases {
        for f in policies.findings(&build(case)).unwrap() {
            let rule = policies
                .tree
                .rule(&f.rule_id)
                .expect("finding of a known rule");
            if !f.unverifiable {
                assert_eq!(f.severity, rule.severity, "{}: {f:?}", case.name);
            }
            assert!(!f.address.is_empty());
        }
    }
}

/// Evaluating several plans on every core gives each plan exactly the findings of evaluating it
/// alone, in the order of the plans (the gate and `bench policy` use the parallel form).
#[test]
fn parallel_evaluation_equals_one_plan_at_a_time() {
    let opts = Options::for_root(&root());
    let policies = Policies::load(&opts.policies, &opts.settings).unwrap();
    let mut plans: Vec<Value> = ["dev", "test", "uat", "preprod", "prod", "compliant"]
        .iter()
        .map(|n| serde_json::from_str(&std::fs::read_to_string(data().join(format!("plans/{n}.json"))).unwrap()).unwrap())
        .collect();
    // One plan with findings, so equal results are not just empty ones.
    plans.push(serde_json::json!({"format_version": "1.2", "resource_changes": [{
        "address": "aws_s3_bucket.open", "mode": "managed", "type": "aws_s3_bucket", "name": "open",
        "change": {"actions": ["create"], "before": null, "after": {"bucket": "open"}, "after_unknown": {}}}]}));
    let each = policies.findings_each(&plans.iter().collect::<Vec<_>>()).unwrap();
    assert_eq!(each.len(), plans.len());
    let key = |f: &lz_policy::Finding| format!("{} {} {}", f.rule_id, f.address, f.message);
    for (plan, got) in plans.iter().zip(&each) {
        let alone: Vec<String> = policies.findings(plan).unwrap().iter().map(key).collect();
        assert_eq!(got.iter().map(key).collect::<Vec<_>>(), alone);
    }
    assert!(!each.last().unwrap().is_empty(), "the open bucket has findings");
}

/// `policy --plan` hands its plan over (`findings_owned`, which drops the parsed plan before
/// evaluating): on every plan fixture and a plan of 20 copies of the prod fixture, the findings
/// are those of the borrowed path, in the same order.
#[test]
fn owned_plan_gives_the_same_findings() {
    let policies = policies();
    let mut plans = Vec::new();
    for entry in std::fs::read_dir(data().join("plans")).unwrap() {
        let path = entry.unwrap().path();
        plans.push((path.display().to_string(), lz_policy::read_plan(&path).unwrap()));
    }
    let prod = lz_policy::read_plan(&data().join("plans/prod.json")).unwrap();
    plans.push(("20 copies of prod.json".into(), lz_policy::scale::replicate(&prod, 20)));
    let mut seen = 0;
    for (name, plan) in plans {
        let borrowed = policies.findings(&plan).unwrap();
        let owned = policies.findings_owned(plan).unwrap();
        assert_eq!(owned, borrowed, "{name}");
        seen += borrowed.len();
    }
    assert!(seen > 0, "no plan fixture has findings: the comparison says nothing");
}
