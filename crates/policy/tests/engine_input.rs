//! The engine's input is built from the plan directly (`redact::engine_input`), without a
//! redacted copy or JSON text: it must be exactly the value the engine reads from the redacted
//! plan's JSON text, so no rule can see a different plan (secrets included).
use std::path::PathBuf;

use lz_policy::redact;
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What evaluation read before: the plan cloned, redacted, written as JSON and parsed by the engine.
fn through_text(plan: &Value) -> regorus::Value {
    let mut plan = plan.clone();
    redact::redact_value(&mut plan);
    regorus::Value::from_json_str(&plan.to_string()).unwrap()
}

fn plans() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for dir in [root().join("crates/policy/tests/data/plans"), root().join("policies/corpus")] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read(&f).unwrap();
            // The corpus holds state files and UTF-16 plans too: every JSON document counts.
            if let Ok(v) = lz_policy::input::decode(&text, "f").and_then(|t| Ok(serde_json::from_str::<Value>(&t)?)) {
                out.push((f.display().to_string(), v));
            }
        }
    }
    out
}

#[test]
fn the_engine_input_equals_the_redacted_plan_read_as_json() {
    let plans = plans();
    assert!(plans.len() >= 15, "expected the fixture and corpus plans, found {}", plans.len());
    for (name, plan) in &plans {
        assert_eq!(redact::engine_input(plan), through_text(plan), "{name}");
    }
}

#[test]
fn secrets_numbers_and_nesting_convert_as_the_text_path_does() {
    let key = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
    let plan = json!({
        "password": "hunter2",
        "db": {"master_password": ["a", 1], "token": null, "api_key": true, "secret_string": {"inner": "x"}},
        "note": format!("key {key} here"),
        "pem": "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
        "numbers": [0, 1, -1, u64::MAX, i64::MIN, 1.5, -2.25, 1e300, 0.1],
        "empty": {}, "list": [], "null": null, "t": true, "f": false,
        "same": [{"k": 1, "password": 2}, {"k": 3, "password": 4}],
    });
    let direct = redact::engine_input(&plan);
    assert_eq!(direct, through_text(&plan));
    // The secrets are gone, the rest is kept (the comparison above would pass on two wrong paths).
    let text = direct.to_json_str().unwrap();
    for secret in ["hunter2", &key, "abc\n", "\"a\""] {
        assert!(!text.contains(secret), "{secret} survived: {text}");
    }
    assert_eq!(direct["db"]["token"], regorus::Value::Null);
    assert_eq!(direct["db"]["api_key"], regorus::Value::Bool(true));
    assert_eq!(direct["db"]["secret_string"]["inner"], regorus::Value::from("x"));
    assert_eq!(direct["same"][1]["k"], regorus::Value::from(3u64));
    assert_eq!(direct["numbers"][5], regorus::Value::from(1.5));
}

/// The profile `bench policy` prints times the command's own stages and finds what the
/// command finds.
#[test]
fn the_profile_of_policy_plan_has_every_stage_and_the_commands_findings() {
    let plan = root().join("crates/policy/tests/data/plans/prod.json");
    let profile = lz_policy::profile::policy_plan(&root(), &plan).unwrap();
    let names: Vec<&str> = profile.stages.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["read policies", "parse policies", "prepare engine", "read plan", "input", "evaluate", "output", "exceptions", "report"]
    );
    assert!(profile.stages.iter().find(|(n, _)| *n == "evaluate").unwrap().1 > std::time::Duration::ZERO);
    let opts = lz_policy::Options::for_root(&root());
    let report = lz_policy::evaluate(&lz_policy::read_plan(&plan).unwrap(), &opts).unwrap();
    assert_eq!(profile.findings, report.findings.len());
    assert!(profile.findings > 0, "the prod fixture has findings, so the comparison means something");
}
