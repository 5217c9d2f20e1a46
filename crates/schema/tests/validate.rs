//! Offline validation against the vendored AWS provider schema: every planted error class is
//! caught with Terraform's wording and place (cases in `data/validate_cases.toml`), the
//! repository itself validates, and the prod plan carries exactly the schema's attributes.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    tf: String,
    message: String,
    line: usize,
    column: usize,
}

#[test]
fn planted_errors_fail_with_terraforms_wording_and_place() {
    let root = repo();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/validate_cases.toml")).expect("cases");
    let cases: Cases = toml::from_str(&text).expect("cases parse");
    assert!(cases.case.len() >= 10);
    let mut failures = Vec::new();
    for c in &cases.case {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("main.tf"), &c.tf).expect("write");
        let opts = lz_schema::render_options(&root, Vec::new()).expect("schema");
        match tfrender::render_dir(dir.path(), &opts) {
            Ok(_) => failures.push(format!("{}: rendered without error", c.name)),
            Err(e) => {
                if e.message != c.message || e.line != c.line || e.column != c.column {
                    failures.push(format!("{}:\n  want {}:{}: {}\n  got  {}:{}: {}", c.name, c.line, c.column, c.message, e.line, e.column, e.message));
                }
            }
        }
        // Without the schema the same configuration renders: the errors come from the schema.
        let plain = tfrender::RenderOptions::default();
        if let Err(e) = tfrender::render_dir(dir.path(), &plain) {
            failures.push(format!("{}: fails even without the schema: {e}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_repository_validates_against_the_schema() {
    let root = repo();
    let mut dirs = vec![root.join("environments"), root.join("stacks/canary")];
    for e in std::fs::read_dir(root.join("modules")).expect("modules") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            dirs.push(p.join("examples/basic"));
            dirs.push(p);
        }
    }
    dirs.retain(|d| d.is_dir());
    let errors = lz_schema::validate_dirs(&root, &dirs).expect("validate");
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
}

#[test]
fn prod_plan_changes_carry_exactly_the_schema_attributes_and_blocks() {
    let root = repo();
    let opts = lz_schema::render_options(&root, vec![root.join("environments/prod/terraform.tfvars")]).expect("schema");
    let plan = tfrender::render_dir(&root.join("environments"), &opts).expect("prod renders");
    let doc = lz_schema::load(&root).expect("vendored");
    let schemas = lz_schema::resource_schemas(&doc).expect("schemas");
    let changes = plan["resource_changes"].as_array().expect("resource_changes");
    let mut checked = 0;
    for rc in changes {
        let ty = rc["type"].as_str().unwrap_or_default();
        let Some(s) = schemas.get(ty) else {
            assert!(!ty.starts_with("aws_"), "{ty} has no vendored schema");
            continue;
        };
        let mut want: BTreeSet<String> = BTreeSet::new();
        for k in ["attributes", "block_types"] {
            if let Some(m) = s["block"][k].as_object() {
                want.extend(m.keys().cloned());
            }
        }
        let ch = &rc["change"];
        let mut got: BTreeSet<String> = ch["after"].as_object().expect("after object").keys().cloned().collect();
        for (k, v) in ch["after_unknown"].as_object().expect("after_unknown object") {
            if v == &serde_json::Value::Bool(true) {
                assert!(got.insert(k.clone()), "{}: {k} is both known and unknown", rc["address"]);
            }
        }
        assert_eq!(got, want, "{}", rc["address"]);
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} aws resources in the prod plan");
}

#[test]
fn unset_computed_attributes_are_unknown_and_tags_all_is_merged() {
    let root = repo();
    let opts = lz_schema::render_options(&root, vec![root.join("environments/prod/terraform.tfvars")]).expect("schema");
    let plan = tfrender::render_dir(&root.join("environments"), &opts).expect("prod renders");
    let changes = plan["resource_changes"].as_array().expect("resource_changes");
    let key = changes.iter().find(|c| c["type"] == "aws_kms_key").expect("a kms key");
    let ch = &key["change"];
    for computed_only in ["arn", "key_id", "id"] {
        assert_eq!(ch["after_unknown"][computed_only], true, "{computed_only}");
    }
    assert_eq!(ch["after"]["tags_all"], ch["after"]["tags"]);
    assert_eq!(ch["after"]["custom_key_store_id"], serde_json::Value::Null, "optional, unset, not computed: null");
    let vpc = changes.iter().find(|c| c["type"] == "aws_vpc").expect("a vpc");
    assert_eq!(vpc["change"]["after_unknown"]["owner_id"], true);
}
