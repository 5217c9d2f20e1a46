//! `plan --engine terraform` on an environment whose services run two versions of one module
//! (issue 32): real Terraform plans the root split by version (`lz_platform::mixed_root`), and the
//! plan it prints, addresses mapped back, is the offline plan (`plan --engine offline`). A
//! provider-free tree in the repository's layout (`terraform_data` only), Terraform from PATH.

mod common;

use std::path::Path;

use common::ok;
use serde_json::Value;

fn module(version: &str) -> String {
    format!(
        "variable \"name\" {{\n  type = string\n}}\nresource \"terraform_data\" \"this\" {{\n  input = \"${{var.name}}:{version}\"\n}}\n\
         output \"id\" {{\n  value = \"${{var.name}}-{version}\"\n}}\n"
    )
}

fn tree(dir: &Path) {
    let w = |p: &str, text: &str| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "modules/catalog.toml",
        "[modules.svc]\nversion = \"1.1.0\"\nowner = \"t\"\nrisk = \"low\"\ndescription = \"d\"\nsha256 = \"x\"\n\n[modules.svc.released]\n\"1.0.0\" = \"h\"\n",
    );
    w("modules/svc/main.tf", &module("1.1.0"));
    w("released/svc/1.0.0/main.tf", &module("1.0.0"));
    w(
        "environments/main.tf",
        "variable \"services\" {\n  type = set(string)\n}\nmodule \"service\" {\n  source   = \"../modules/svc\"\n  for_each = var.services\n  name     = each.key\n}\n\
         output \"ids\" {\n  value = { for k, s in module.service : k => s.id }\n}\n",
    );
    w("environments/prod/terraform.tfvars", "services = [\"a\", \"b\"]\n");
    w("environments/prod/pins.toml", "[pins.svc]\na = \"1.0.0\"\n");
    std::fs::create_dir_all(dir.join("schema")).unwrap();
    std::fs::copy(common::root().join("schema/aws-provider.json"), dir.join("schema/aws-provider.json")).unwrap();
}

#[test]
fn plan_with_terraform_of_an_environment_on_two_versions_is_the_offline_plan() {
    lz_platform::tools::terraform(&common::root()).expect("Terraform (bootstrapped by the harness)");
    let d = tempfile::tempdir().unwrap();
    tree(d.path());
    let plan = |engine: &str| -> Value {
        let out = d.path().join(format!("{engine}.json"));
        ok(d.path(), &["plan", "--env", "prod", "--engine", engine, "--out", &out.display().to_string()]);
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    };
    let (terraform, offline) = (plan("terraform"), plan("offline"));
    for section in ["resource_changes", "planned_values", "output_changes"] {
        assert_eq!(terraform[section], offline[section], "{section}");
    }
    let input = |service: &str| {
        let addr = format!("module.service[\"{service}\"].terraform_data.this");
        let rc = terraform["resource_changes"].as_array().unwrap().iter().find(|r| r["address"] == addr.as_str()).unwrap().clone();
        rc["change"]["after"]["input"].clone()
    };
    assert_eq!((input("a"), input("b")), (Value::from("a:1.0.0"), Value::from("b:1.1.0")), "each service plans its own version's code");
    let calls = terraform["configuration"]["root_module"]["module_calls"].as_object().unwrap();
    assert_eq!(calls["service_v1_0_0"]["source"], "../released/svc/1.0.0");
}
