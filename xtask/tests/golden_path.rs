//! A service team's golden path from a fresh checkout, through the shipped binary, with no file
//! edited by hand: `service new` -> `check` green -> release -> promote to dev in a rehearsal
//! (`lz_service::golden`, also timed by `cargo xtask bench golden-path`).
mod common;

use std::path::Path;

use common::{root, xtask};
use lz_platform::services;

#[test]
fn a_new_service_goes_from_a_fresh_checkout_to_dev_without_a_hand_edit() {
    lz_platform::tools::terraform(&root()).expect("Terraform (bootstrapped by the harness)");
    lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"));
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = lz_service::golden::run(&root(), Path::new(env!("CARGO_BIN_EXE_xtask")), d.path(), keys.path()).unwrap();
    if let Some(f) = run.failed() {
        panic!("the golden path failed at {}: cargo xtask {}\n{}", f.name, f.args.join(" "), f.output);
    }
    let names: Vec<&str> = run.path.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"service new"));
    assert_eq!(names.last(), Some(&"promote dev"), "{names:?}");

    // service new: the entry, with the team's default cost centre, and the secret's rotation entry.
    let fx =
        services::of_env(d.path(), "dev").unwrap().into_iter().find(|s| s.name == lz_service::golden::SERVICE).expect("fx-pricing in dev");
    assert_eq!(
        (fx.spec.tier.as_str(), fx.spec.owner.as_deref(), fx.spec.cost_centre.as_deref()),
        ("trading", Some("trading-technology"), Some("CC-5120"))
    );
    let rotation = std::fs::read_to_string(d.path().join("governance/rotation.toml")).unwrap();
    assert!(rotation.contains("[secret.fx-api-key]\nkind        = \"feed-api-key\"\nowner_group = \"operations\""), "{rotation}");
    let new = &run.path[0].output;
    assert!(new.contains("+ module.service[\"fx-pricing\"].aws_security_group.this"), "the plan difference is printed:\n{new}");
    assert!(new.contains("risk tier: ") && new.contains("approvals: "), "the gates are printed:\n{new}");

    // check: green on the changed checkout (its baselines were brought up to date by service new).
    assert!(run.path[1].output.contains("check: clean"), "{}", run.path[1].output);

    // The service's resources reached dev under the release: provenance names it.
    let digest = run.digest.clone().expect("a release digest");
    let sg = "module.service[\"fx-pricing\"].aws_security_group.this";
    let (code, out, err) = xtask(d.path(), &["evidence", "query", "--resource", sg, "--env", "dev"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&digest[..12]), "provenance of {sg} names release {digest}:\n{out}\n{err}");

    // Nothing but the overlay, the rotation policy and dev's baseline changed (no hand edit).
    assert_eq!(
        run.changed,
        ["crates/baseline/tests/snapshots/env-dev.snap", "environments/dev/terraform.tfvars", "governance/rotation.toml"],
        "files the path changed"
    );
}

#[test]
fn service_new_refuses_bad_input_naming_the_field_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    lz_service::golden::checkout(&root(), d.path()).unwrap();
    let before = std::fs::read(d.path().join("environments/dev/terraform.tfvars")).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--tier", "gold"], "--tier: \"gold\" is not allowed; allowed values: ingress, trading, data"),
        (&["--tier", "trading", "--owner", "nobody"], "--owner: owner \"nobody\" is not a team of governance/teams.toml (teams: "),
        (
            &["--tier", "trading", "--owner", "market-data", "--cost-centre", "CC-5120"],
            "--cost-centre: cost_centre \"CC-5120\" is not one of team market-data's cost centres (CC-5230)",
        ),
        (&["--tier", "trading", "--secret", "k=nonsense"], "--secret k=KIND: \"nonsense\" is not allowed; allowed values: "),
        (&["--tier", "trading", "--secret", "feed-api-key=database"], "already gives secret feed-api-key kind"),
        (&["--tier", "trading", "--public"], "--public: only an ingress-tier service on port 443 may be public"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["service", "new", "fx-pricing", "--env", "dev"];
        args.extend_from_slice(extra);
        let (code, out, err) = xtask(d.path(), &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in\n{err}");
    }
    let (code, _, err) = xtask(d.path(), &["service", "new", "order-gateway", "--env", "dev", "--tier", "ingress"]);
    assert_eq!(code, 2);
    assert!(err.contains("environments/dev/terraform.tfvars:") && err.contains("service order-gateway already exists in dev"), "{err}");
    assert_eq!(std::fs::read(d.path().join("environments/dev/terraform.tfvars")).unwrap(), before, "nothing written");
}

#[test]
fn a_service_new_that_cannot_render_restores_every_file() {
    let d = tempfile::tempdir().unwrap();
    lz_service::golden::checkout(&root(), d.path()).unwrap();
    let files = ["environments/dev/terraform.tfvars", "governance/rotation.toml", "crates/baseline/tests/snapshots/env-dev.snap"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(d.path().join(f)).unwrap()).collect();
    // A module example that no longer renders makes the baseline update fail after the overlay
    // and the rotation policy were written.
    let example = d.path().join("modules/kms-key/examples/basic/main.tf");
    std::fs::write(&example, format!("{}\nlocals {{ broken = undefined_thing.x }}\n", std::fs::read_to_string(&example).unwrap())).unwrap();
    let (code, out, err) =
        xtask(d.path(), &["service", "new", "fx-pricing", "--env", "dev", "--tier", "trading", "--secret", "fx-api-key=feed-api-key"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("every file written was restored"), "{err}");
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&std::fs::read(d.path().join(f)).unwrap(), b, "{f} restored");
    }
}

#[test]
fn service_list_and_show_read_the_overlays() {
    let (code, out, err) = xtask(&root(), &["service", "show", "order-gateway", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let envs: Vec<&str> = v.as_array().unwrap().iter().map(|s| s["environment"].as_str().unwrap()).collect();
    assert_eq!(envs, lz_repo::ENVIRONMENTS);
    assert_eq!(v[0]["file"], "environments/dev/terraform.tfvars");
    let (code, _, err) = xtask(&root(), &["service", "show", "no-such-service"]);
    assert_eq!(code, 2);
    assert!(err.contains("no overlay has a service named no-such-service"), "{err}");
    let (code, out, _) = xtask(&root(), &["service", "list"]);
    assert_eq!(code, 0);
    assert!(out.lines().count() > 5 && out.contains("market-data"), "{out}");
}

#[test]
fn catalog_show_gives_a_modules_card() {
    let (code, out, err) = xtask(&root(), &["catalog", "show", "kms-key", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = c["controls"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"LZ-KMS-001") && ids.contains(&"LZ-KMS-002"), "{ids:?}");
    assert!(c["inputs"].as_array().unwrap().iter().all(|i| i["description"].is_string()), "every input described");
    let version = c["version"].as_str().unwrap();
    assert_eq!(c["versions"][0]["version"], version, "the CHANGELOG's newest version is the catalog's");
    assert!(c["example"].as_str().unwrap().contains(&format!("?ref=kms-key-v{version}")), "{}", c["example"]);
    let (code, _, err) = xtask(&root(), &["catalog", "show", "no-such-module"]);
    assert_eq!(code, 2);
    assert!(err.contains("modules: access-logs"), "{err}");
}
