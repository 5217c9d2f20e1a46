//! The gate's checks fail on the mutations they exist for, and pass on a clean repository.

mod common;

use common::{mini_repo, write};
use lz_platform::{catalog, docs, layout, overlays, references};

#[test]
fn mini_repo_is_clean() {
    let (_d, root) = mini_repo();
    assert!(catalog::check(&root, None).unwrap().is_empty());
    assert!(docs::check(&root).unwrap().is_empty());
    assert!(layout::check(&root).unwrap().is_empty(), "{:?}", layout::check(&root).unwrap());
    let o = overlays::check(&root).unwrap();
    assert!(o.is_empty(), "{o:?}");
    for dir in ["modules/bucket", "environments", "modules/bucket/examples/basic"] {
        let r = references::check_module(&root.join(dir)).unwrap();
        assert!(r.is_empty(), "{dir}: {r:?}");
    }
}

#[test]
fn module_edit_without_bump_names_the_module_and_the_fix() {
    let (_d, root) = mini_repo();
    let main = root.join("modules/bucket/main.tf");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("var.name", "\"${var.name}-x\"")).unwrap();
    let f = catalog::check(&root, None).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f.mentions("module bucket changed without a version bump"), "{f:?}");
    assert!(f.mentions("cargo xtask catalog bump bucket"), "{f:?}");

    let v = catalog::bump(&root, "bucket", catalog::Level::Minor, "Suffix the bucket name", "2026-11-26").unwrap();
    assert_eq!(v, "1.1.0");
    assert!(catalog::check(&root, None).unwrap().is_empty());
    let changelog = std::fs::read_to_string(root.join("modules/bucket/CHANGELOG.md")).unwrap();
    assert!(changelog.contains("## [1.1.0] - 2026-11-26"), "{changelog}");
    assert!(changelog.find("1.1.0").unwrap() < changelog.find("1.0.0").unwrap(), "newest entry first");
}

#[test]
fn new_file_in_module_and_changelog_mismatch_are_caught() {
    let (_d, root) = mini_repo();
    write(&root, "modules/bucket/extra.tf", "locals {\n  x = 1\n}\n");
    assert!(catalog::check(&root, None).unwrap().mentions("module bucket changed"));

    let (_d2, root2) = mini_repo();
    let mut c = catalog::load(&root2).unwrap();
    c.modules.get_mut("bucket").unwrap().version = "1.0.1".into();
    catalog::save(&root2, &c).unwrap();
    let f = catalog::check(&root2, None).unwrap();
    assert!(f.mentions("newest CHANGELOG entry is 1.0.0 but the catalog says 1.0.1"), "{f:?}");
}

#[test]
fn hash_edited_by_hand_without_version_bump_fails_against_base() {
    let (_d, root) = mini_repo();
    let base = catalog::load(&root).unwrap();
    write(&root, "modules/bucket/extra.tf", "locals {\n  x = 1\n}\n");
    let mut c = catalog::load(&root).unwrap();
    c.modules.get_mut("bucket").unwrap().sha256 = catalog::module_hash(&root.join("modules/bucket")).unwrap();
    catalog::save(&root, &c).unwrap();
    assert!(catalog::check(&root, None).unwrap().is_empty(), "hash alone matches");
    let f = catalog::check(&root, Some(&base)).unwrap();
    assert!(f.mentions("its hash changed since the base revision but its version is still 1.0.0"), "{f:?}");
}

#[test]
fn an_empty_module_is_never_catalogued() {
    let (_d, root) = mini_repo();
    std::fs::create_dir_all(root.join("modules/empty")).unwrap();
    let e = catalog::add(&root, "empty", "platform", catalog::Risk::Low, "nothing").unwrap_err();
    assert_eq!(
        e.to_string(),
        "modules/empty declares no resource, data source or module call (0 .tf file(s)): an empty module cannot be catalogued; add its main.tf first"
    );
    write(&root, "modules/empty/variables.tf", "variable \"x\" {\n  type = string\n}\n");
    let e = catalog::add(&root, "empty", "platform", catalog::Risk::Low, "nothing").unwrap_err();
    assert!(e.to_string().contains("(1 .tf file(s))"), "{e}");
    assert!(!catalog::load(&root).unwrap().modules.contains_key("empty"));
    write(&root, "modules/empty/main.tf", "resource \"aws_s3_bucket\" \"this\" {\n  bucket = var.x\n}\n");
    catalog::add(&root, "empty", "platform", catalog::Risk::Low, "one bucket").unwrap();
    assert!(catalog::load(&root).unwrap().modules.contains_key("empty"));
}

#[test]
fn module_missing_from_catalog() {
    let (_d, root) = mini_repo();
    write(&root, "modules/other/main.tf", "");
    let f = catalog::check(&root, None).unwrap();
    assert!(f.mentions("module other is not in the catalog"), "{f:?}");
}

#[test]
fn overlay_setting_a_control_variable_names_variable_and_file() {
    let (_d, root) = mini_repo();
    let p = root.join("environments/prod/terraform.tfvars");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, format!("{text}enable_encryption = false\n")).unwrap();
    let f = overlays::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    let s = f.iter().next().unwrap().to_string();
    assert!(s.starts_with("environments/prod/terraform.tfvars:3:"), "{s}");
    assert!(s.contains("variable enable_encryption may not be set by an overlay"), "{s}");
}

#[test]
fn malformed_tfvars_is_an_error_with_file_and_line() {
    let (_d, root) = mini_repo();
    let p = root.join("environments/uat/terraform.tfvars");
    std::fs::write(&p, "environment = \"uat\"\nretention_days = = 3\n").unwrap();
    let err = overlays::check(&root).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("environments/uat/terraform.tfvars:2:"), "{msg}");
    assert!(msg.contains("malformed HCL"), "{msg}");
}

#[test]
fn stray_file_and_weak_backend_in_overlay() {
    let (_d, root) = mini_repo();
    write(&root, "environments/dev/extra.tf", "resource \"aws_s3_bucket\" \"x\" {}\n");
    write(&root, "environments/test/backend.hcl", "bucket = \"b\"\nkey = \"prod/x.tfstate\"\nencrypt = false\ndynamodb_table = \"locks\"\n");
    let f = overlays::check(&root).unwrap();
    assert!(f.mentions("environments/dev/ may hold only"), "{f:?}");
    assert!(f.mentions("use_lockfile = true is required"), "{f:?}");
    assert!(f.mentions("encrypt = true is required"), "{f:?}");
    assert!(f.mentions("dynamodb_table is not used"), "{f:?}");
    assert!(f.mentions("key must be a per-environment path starting with \"test/\""), "{f:?}");
}

#[test]
fn malformed_env_toml_names_file_and_line() {
    let (_d, root) = mini_repo();
    write(&root, "environments/prod/env.toml", "name = \"prod\"\naccount_id = 5\n");
    let msg = format!("{:#}", overlays::check(&root).unwrap_err());
    assert!(msg.contains("environments/prod/env.toml:2:"), "{msg}");
}

#[test]
fn stale_docs_and_layout_findings() {
    let (_d, root) = mini_repo();
    write(&root, "modules/bucket/variables.tf", "variable \"name\" {\n  type = string\n}\n\nvariable \"tags\" {\n  description = \"Tags\"\n  type        = map(string)\n}\n");
    assert!(docs::check(&root).unwrap().mentions("tables are stale: run `cargo xtask docs`"));
    let l = layout::check(&root).unwrap();
    assert!(l.mentions("variable name has no description"), "{l:?}");
    std::fs::remove_file(root.join("modules/bucket/CHANGELOG.md")).unwrap();
    assert!(layout::check(&root).unwrap().mentions("module bucket is missing CHANGELOG.md"));
}

#[test]
fn unresolved_references_are_found() {
    let (_d, root) = mini_repo();
    write(
        &root,
        "environments/extra.tf",
        "locals {\n  a = var.nope\n  b = local.missing\n  c = module.bucket.no_such_output\n  d = aws_s3_bucket.ghost.id\n  e = [for k, v in { x = 1 } : \"${k}=${v}\"]\n  f = module.bucket.arn\n}\n",
    );
    let f = references::check_module(&root.join("environments")).unwrap();
    assert!(f.mentions("var.nope is not declared"), "{f:?}");
    assert!(f.mentions("local.missing is not declared"), "{f:?}");
    assert!(f.mentions("module.bucket.no_such_output"), "{f:?}");
    assert!(f.mentions("aws_s3_bucket.ghost is not a declared resource"), "{f:?}");
    assert_eq!(f.len(), 4, "for-expression iterators and real outputs resolve: {f:?}");
    assert!(f.mentions("extra.tf:2:"), "{f:?}");
}

/// Module pins (issue 32): `catalog deprecate` makes a pin a warning, `catalog revoke` a finding
/// naming the service and the environment; a pin of an unknown module or a non-semver version,
/// and a rollout plan naming an unknown environment, are findings.
#[test]
fn deprecated_pins_warn_and_revoked_pins_fail() {
    use lz_platform::pins;
    let (_d, root) = mini_repo();
    assert_eq!(pins::check(&root).unwrap().0.len(), 0);
    // Pins live in the overlay's pins.toml; env.toml (governance: account and region) has none.
    let env_toml = root.join("environments/prod/env.toml");
    let env_text = std::fs::read_to_string(&env_toml).unwrap();
    std::fs::write(&env_toml, format!("{env_text}\n[pins.bucket]\nledger = \"1.0.0\"\n")).unwrap();
    let e = format!("{:#}", lz_repo::env::env_file(&root, "prod").unwrap_err());
    assert!(e.contains("env.toml:") && e.contains("pins"), "{e}");
    std::fs::write(&env_toml, &env_text).unwrap();
    let env = root.join("environments/prod").join(lz_repo::rollout::PINS_FILE);
    let text = String::new();
    std::fs::write(&env, format!("{text}\n[pins.bucket]\nledger = \"1.0.0\"\n")).unwrap();
    let (f, w) = pins::check(&root).unwrap();
    assert!(f.is_empty() && w.is_empty(), "{f:?} {w:?}");
    pins::notice(&root, "bucket@1.0.0", "superseded by 1.1.0", false).unwrap();
    let (f, w) = pins::check(&root).unwrap();
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("ledger in prod pins bucket@1.0.0, deprecated since") && w[0].contains("superseded by 1.1.0"), "{w:?}");
    assert_eq!(pins::pinned_to(&root, "bucket", "1.0.0").unwrap(), vec![("prod".to_string(), "ledger".to_string())]);
    // The catalog still parses and its check stays clean: the notices are data, not a bump.
    assert!(catalog::check(&root, None).unwrap().is_empty());
    pins::notice(&root, "bucket@1.0.0", "opens the bucket", true).unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.mentions("ledger in prod pins bucket@1.0.0, which is revoked (opens the bucket)"), "{f:?}");
    assert!(pins::notice(&root, "bucket@1.0.0", " ", true).unwrap_err().to_string().contains("--reason is empty"));
    assert!(pins::notice(&root, "nothing@1.0.0", "r", true).unwrap_err().to_string().contains("nothing is not in"));
    std::fs::write(&env, format!("{text}\n[pins.nothing]\nledger = \"1.0\"\n[pins.bucket]\nledger = \"one\"\n")).unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.mentions("pins.nothing: nothing is not in the catalog") && f.mentions("pins.bucket.ledger = \"one\" is not a semver"), "{f:?}");
    let cat = root.join("modules/catalog.toml");
    let c = std::fs::read_to_string(&cat).unwrap();
    std::fs::write(&cat, format!("{c}\n[[modules.bucket.rollout.\"1.1.0\".wave]]\nname = \"w\"\nenvironments = [\"qa\"]\n")).unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.mentions("rollout plan of bucket@1.1.0: wave \"w\" names \"qa\", which is not an environment"), "{f:?}");
}
