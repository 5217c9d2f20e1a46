//! A service's `owner` and `cost_centre` tag every resource of the service: its own module's and
//! its secrets in the shared secrets module (issue 28, item 9). Rendered offline.

mod common;

use serde_json::Value;

/// `(address, tags)` of every resource change of a rendered plan.
fn tags(plan: &Value) -> Vec<(String, Value)> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["address"].as_str().unwrap().to_string(), r["change"]["after"]["tags"].clone()))
        .collect()
}

#[test]
fn a_service_owner_tags_its_secrets_as_well_as_its_module() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_repository(dir.path());
    let tfvars = dir.path().join("environments/dev/terraform.tfvars");
    let text = std::fs::read_to_string(&tfvars).unwrap();
    let entry = "  order-gateway = {\n    tier         = \"ingress\"\n";
    assert!(text.contains(entry), "{text}");
    std::fs::write(&tfvars, text.replacen(entry, &format!("{entry}    owner        = \"trading-technology\"\n    cost_centre  = \"CC-5120\"\n"), 1)).unwrap();
    let before = tags(&lz_baseline::snapshot::render_env(&common::root(), "dev").unwrap());
    let after = tags(&lz_baseline::snapshot::render_env(dir.path(), "dev").unwrap());
    let env_owner = before.iter().find(|(a, _)| a.starts_with("module.network.")).map(|(_, t)| t["Owner"].clone()).unwrap();

    let of = |rows: &[(String, Value)], service: &str| -> Vec<(String, Value)> {
        rows.iter()
            .filter(|(a, t)| t.is_object() && (a.starts_with(&format!("module.service[\"{service}\"]")) || a.contains(&format!("/{service}/"))))
            .cloned()
            .collect()
    };
    let gateway = of(&after, "order-gateway");
    assert!(gateway.iter().any(|(a, _)| a.starts_with("module.secrets.aws_secretsmanager_secret.this[")), "{gateway:#?}");
    assert!(gateway.iter().any(|(a, _)| a.starts_with("module.service[")), "{gateway:#?}");
    for (address, t) in &gateway {
        assert_eq!((t["Owner"].as_str(), t["CostCentre"].as_str()), (Some("trading-technology"), Some("CC-5120")), "{address}");
    }
    // Another service, and the same one before it named its owner, carry the environment's.
    for (address, t) in of(&after, "matching-engine").iter().chain(&of(&before, "order-gateway")) {
        assert_eq!(t["Owner"], env_owner, "{address}");
    }
}
