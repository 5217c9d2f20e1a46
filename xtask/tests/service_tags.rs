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

/// A secret's own tags may set only its service's Owner and CostCentre: a caller cannot restate
/// the Environment, DataClassification or ManagedBy the module sets (rendered offline from the
/// module's example, with the module's own validation).
#[test]
fn a_secrets_own_tags_cannot_override_the_mandatory_tags() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("modules/secrets");
    for rel in ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "examples/basic/main.tf"] {
        let to = module.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(common::root().join("modules/secrets").join(rel), &to).unwrap();
    }
    let example = module.join("examples/basic/main.tf");
    let text = std::fs::read_to_string(&example).unwrap();
    let entry = "      recovery_window_in_days = 14\n";
    assert!(text.contains(entry), "{text}");
    let render = |tags: &str| {
        std::fs::write(&example, text.replacen(entry, &format!("{entry}      tags = {tags}\n"), 1)).unwrap();
        lz_schema::render_config(&common::root(), &example.parent().unwrap().to_path_buf(), vec![], &[])
    };
    render("{ Owner = \"market-data\", CostCentre = \"CC-7\" }").unwrap_or_else(|e| panic!("a service's owner is fine: {e:#}"));
    for bad in ["{ Environment = \"dev\" }", "{ ManagedBy = \"hand\" }", "{ Owner = \" \" }"] {
        let err = render(bad).expect_err(bad);
        assert!(format!("{err:#}").contains("may set only Owner and CostCentre"), "{bad}: {err:#}");
    }
}
