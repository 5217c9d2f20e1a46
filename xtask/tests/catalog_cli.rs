//! `catalog deprecate|revoke` (issue 32) on a tree of the catalog and one overlay: a malformed
//! MODULE@VERSION is an input error (exit 2), a deprecation names every pin of the version, and a
//! revocation that cannot read the verified chain writes nothing.

mod common;

use common::{root, xtask};

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = root();
    std::fs::create_dir_all(dir.path().join("modules")).unwrap();
    std::fs::copy(r.join("modules/catalog.toml"), dir.path().join("modules/catalog.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("environments/prod")).unwrap();
    std::fs::copy(r.join("environments/prod/env.toml"), dir.path().join("environments/prod/env.toml")).unwrap();
    std::fs::copy(r.join("environments/prod/terraform.tfvars"), dir.path().join("environments/prod/terraform.tfvars")).unwrap();
    std::fs::write(dir.path().join("environments/prod/pins.toml"), "[pins.trading-service]\norder-gateway = \"1.0.0\"\n").unwrap();
    dir
}

#[test]
fn deprecate_names_the_pins_and_bad_input_exits_2() {
    let dir = tree();
    let catalog = dir.path().join("modules/catalog.toml");
    let before = std::fs::read_to_string(&catalog).unwrap();
    for bad in ["trading-service", "trading-service@1.0", "Trading@1.0.0"] {
        let (code, _, err) = xtask(dir.path(), &["catalog", "deprecate", bad, "--reason", "old"]);
        assert_eq!(code, 2, "{bad}: {err}");
    }
    let (code, _, err) = xtask(dir.path(), &["catalog", "deprecate", "nothing@1.0.0", "--reason", "old"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nothing is not in modules/catalog.toml"), "{err}");
    assert_eq!(std::fs::read_to_string(&catalog).unwrap(), before, "a refused notice writes nothing");
    let (code, out, err) = xtask(dir.path(), &["catalog", "deprecate", "trading-service@1.0.0", "--reason", "superseded by 1.1.0"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("trading-service@1.0.0 deprecated") && out.contains("pinned by order-gateway in prod (environments/prod/pins.toml)"), "{out}");
    let after = std::fs::read_to_string(&catalog).unwrap();
    assert!(after.contains("[modules.trading-service.deprecated.\"1.0.0\"]") && after.contains("superseded by 1.1.0"), "{after}");
    // The catalog still reads with every field required.
    lz_repo::catalog::load(dir.path()).unwrap();
}

#[test]
fn a_revocation_without_the_chain_writes_nothing() {
    let dir = tree();
    let catalog = dir.path().join("modules/catalog.toml");
    let before = std::fs::read_to_string(&catalog).unwrap();
    let (code, out, err) = xtask(dir.path(), &["catalog", "revoke", "trading-service@1.0.0", "--reason", "opens the data tier"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(std::fs::read_to_string(&catalog).unwrap(), before);
}

/// `catalog vendor` (issue 32, mixed versions) refuses the current version (it renders from
/// modules/) and a tree that is no git checkout (the copy comes from the version's tag), exit 2,
/// writing nothing.
#[test]
fn vendor_refuses_the_current_version_and_a_tree_without_tags() {
    let dir = tree();
    let catalog = dir.path().join("modules/catalog.toml");
    let before = std::fs::read_to_string(&catalog).unwrap();
    let (code, _, err) = xtask(dir.path(), &["catalog", "vendor", "trading-service@1.1.0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("current version"), "{err}");
    let (code, _, err) = xtask(dir.path(), &["catalog", "vendor", "trading-service@1.0.0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not the top of a git checkout"), "{err}");
    assert_eq!(std::fs::read_to_string(&catalog).unwrap(), before);
    assert!(!dir.path().join("released").exists());
}
