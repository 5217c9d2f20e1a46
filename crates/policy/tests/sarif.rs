//! SARIF output validated against the SARIF 2.1.0 JSON schema (tests/data).
use std::path::PathBuf;

use lz_policy::{Finding, Options, Policies};
use serde_json::Value;

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema() -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(data().join("sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    // The published schema lists region's anyOf among its properties, which fails
    // meta-validation; applied where it was meant to be.
    let region = schema["definitions"]["region"].as_object_mut().unwrap();
    let any_of = region["properties"]
        .as_object_mut()
        .unwrap()
        .remove("anyOf")
        .unwrap();
    region.insert("anyOf".to_string(), any_of);
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_report_is_valid_sarif_2_1_0() {
    let mut plan: Value = serde_json::from_str(
        &std::fs::read_to_string(data().join("plans/compliant.json")).unwrap(),
    )
    .unwrap();
    plan["resource_changes"][0]["change"]["after"]["enable_key_rotation"] = Value::Bool(false);
    plan["resource_changes"][1]["change"]["after_unknown"]["is_multi_region_trail"] =
        Value::Bool(true);
    let mut opts = Options::for_root(&root());
    opts.exceptions = None;
    opts.source = Some("environments/prod/terraform.tfvars".to_string());
    let policies = Policies::load(&opts.policies, &opts.settings).unwrap();
    let mut findings = policies.findings(&plan).unwrap();
    findings.push(Finding {
        rule_id: lz_policy::scan::ACCESS_KEY_RULE.to_string(),
        severity: "critical".to_string(),
        address: "environments/dev/terraform.tfvars:7".to_string(),
        message: "AWS access key id AKIA**************** in source".to_string(),
        excepted: false,
        exception_id: None,
        unverifiable: false,
    });
    let mut report = lz_policy::finish(&policies, findings, "prod", &opts).unwrap();
    report.findings[0].excepted = true;
    report.findings[0].exception_id = Some("EXC-0001".to_string());
    // A resource located in the sources: its overlay entry first, its declaration related.
    let loc = |file: &str, line: usize, snippet: &str| lz_policy::view::Place { file: file.into(), line, column: 3, snippet: snippet.into() };
    report.sources.insert(
        "aws_kms_key.logs".into(),
        lz_policy::view::Source {
            place: loc("environments/prod/terraform.tfvars", 12, "logs = {"),
            declaration: loc("modules/kms-key/main.tf", 1, "resource \"aws_kms_key\" \"this\" {"),
            entry: Some("keys[\"logs\"]".into()),
        },
    );
    let sarif = report.to_sarif();

    let validator = schema();
    let errs = errors(&validator, &sarif);
    assert!(errs.is_empty(), "{}", errs.join("\n"));

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= policies.tree.rules.len());
    let kms = rules.iter().find(|r| r["id"] == "LZ-KMS-001").unwrap();
    assert_eq!(
        kms["shortDescription"]["text"],
        "KMS keys rotate automatically"
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    let rotation = results
        .iter()
        .find(|r| r["ruleId"] == "LZ-KMS-001")
        .unwrap();
    assert_eq!(
        rotation["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "aws_kms_key.logs"
    );
    assert_eq!(
        rules[rotation["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "LZ-KMS-001"
    );
    let physical = &rotation["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "environments/prod/terraform.tfvars");
    assert_eq!((physical["region"]["startLine"].as_u64(), physical["region"]["startColumn"].as_u64()), (Some(12), Some(3)));
    assert_eq!(physical["region"]["snippet"]["text"], "logs = {");
    assert_eq!(rotation["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"], "modules/kms-key/main.tf");
    assert!(kms["help"]["text"].as_str().unwrap().contains("Remediation: Set enable_key_rotation = true"), "{}", kms["help"]);
    // The JSON report carries the same place and the rule's remediation.
    let json = report.to_json();
    let f = json["findings"].as_array().unwrap().iter().find(|f| f["rule_id"] == "LZ-KMS-001").unwrap();
    assert_eq!((f["location"]["line"].as_u64(), f["entry"].as_str()), (Some(12), Some("keys[\"logs\"]")));
    assert!(f["remediation"].as_str().unwrap().starts_with("Set enable_key_rotation"));
    let scan = results
        .iter()
        .find(|r| r["ruleId"] == "LZ-SCAN-001")
        .unwrap();
    assert_eq!(
        scan["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "environments/dev/terraform.tfvars"
    );
    assert_eq!(
        scan["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    assert!(results
        .iter()
        .any(|r| r["suppressions"][0]["status"] == "accepted"));
}

#[test]
fn schema_rejects_invalid_sarif() {
    let validator = schema();
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"level": "fatal"}]}]});
    let errs = errors(&validator, &bad);
    assert!(errs.len() >= 2, "{errs:?}");
}
