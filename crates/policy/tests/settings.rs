//! `governance/policy.toml` settings reach the policies; bad settings are named errors.
use std::path::PathBuf;

use lz_policy::{Policies, Settings};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_settings_load() {
    let s = Settings::load(&root().join("governance/policy.toml")).unwrap();
    assert_eq!(s.unverifiable_severity(), "high");
    assert_eq!(
        s.allowed_regions.as_deref(),
        Some(&["eu-west-1".to_string(), "eu-west-2".to_string()][..])
    );
}

#[test]
fn bad_settings_name_file_and_line() {
    let cases = [
        (
            "unverifiable_severity = \"high\"\nallowed_regions = \"eu-west-1\"\n",
            "policy.toml:2:",
        ),
        (
            "log_retention_days = 365\nno_such_key = 1\n",
            "policy.toml:2:",
        ),
        (
            "unverifiable_severity = \"urgent\"\n",
            "policy.toml: unverifiable_severity",
        ),
        ("allowed_regions = [\n", "policy.toml:2:"),
    ];
    for (text, want) in cases {
        let msg = format!("{:#}", Settings::parse(text, "policy.toml").unwrap_err());
        assert!(msg.starts_with(want), "{text:?}: {msg}");
    }
}

#[test]
fn settings_reach_the_policies() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        "unverifiable_severity = \"medium\"\nallowed_regions = [\"eu-central-1\"]\n",
    )
    .unwrap();
    let policies = Policies::load(&root().join("policies"), &file).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/policy/tests/data/plans/compliant.json"))
            .unwrap(),
    )
    .unwrap();
    plan.as_object_mut().unwrap().remove("configuration");
    let findings = policies.findings(&plan).unwrap();
    assert!(
        findings.iter().any(|f| f.rule_id == "LZ-RES-001"),
        "{findings:?}"
    );
    let unverifiable: Vec<_> = findings.iter().filter(|f| f.unverifiable).collect();
    assert!(!unverifiable.is_empty());
    assert!(
        unverifiable.iter().all(|f| f.severity == "medium"),
        "{unverifiable:?}"
    );
}

/// The JSON list that follows `marker` on its line of `text` (a Rego or HCL list of strings).
fn list_after(text: &str, marker: &str, file: &str) -> Vec<String> {
    let line = text.lines().find(|l| l.contains(marker)).unwrap_or_else(|| panic!("{file}: no line with {marker}"));
    let start = line.find(marker).unwrap() + marker.len();
    let open = start + line[start..].find('[').unwrap_or_else(|| panic!("{file}: no list after {marker}"));
    let close = open + line[open..].find(']').unwrap();
    serde_json::from_str(&line[open..=close]).unwrap_or_else(|e| panic!("{file}: {marker} is not a list of strings: {e}"))
}

/// "A control value is written down once": the mandatory tag list is `required_tags` of
/// `governance/policy.toml`. Its two copies that cannot read it (the Rego default of
/// `policies/lib/plan.rego`, and the `tags` validation of `modules/s3-bucket`, which every
/// module's copy equals by the gate's shared-validations check) must say the same.
#[test]
fn the_mandatory_tag_list_is_one_list() {
    let root = root();
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    let settings = Settings::load(&root.join("governance/policy.toml")).unwrap();
    let governed = settings.required_tags.expect("governance/policy.toml sets required_tags");
    assert_eq!(governed.len(), 5, "{governed:?}");
    let rego = list_after(&read("policies/lib/plan.rego"), "\"required_tags\":", "policies/lib/plan.rego");
    let module = list_after(&read("modules/s3-bucket/variables.tf"), "setsubtract(", "modules/s3-bucket/variables.tf");
    assert_eq!(rego, governed, "policies/lib/plan.rego's default required_tags differ from governance/policy.toml");
    assert_eq!(module, governed, "modules/s3-bucket/variables.tf's tags validation differs from governance/policy.toml");
}
