//! Mixed module versions in one environment (issue 32, item 2): a service pinned
//! (`environments/<env>/pins.toml`) to an older version of a module renders from that version's
//! released copy (`released/<module>/<version>/`, `lz_repo::released`) at its usual address,
//! while the other services of the environment render from `modules/`. trading-service 1.1.0
//! added the task policy's `OnlyTheCurrentVersion` deny; 1.0.0 (the released copy) lacks it.
mod common;
use common::copy_dir;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;

const MODULE: &str = "trading-service";
const DENY: &str = "OnlyTheCurrentVersion";
const PROD: [&str; 4] = ["order-gateway", "matching-engine", "market-data", "position-store"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}


/// A copy of what an environment renders from.
fn tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["environments", "modules", "released", "schema"] {
        copy_dir(&root().join(d), &tmp.path().join(d));
    }
    tmp
}

fn pin(tree: &Path, env: &str, pins: &[(&str, &str)]) {
    let mut text = format!("[pins.{MODULE}]\n");
    for (s, v) in pins {
        text.push_str(&format!("{s} = \"{v}\"\n"));
    }
    std::fs::write(tree.join(format!("environments/{env}/pins.toml")), text).unwrap();
}

/// The task policy document of `service` in a rendered plan.
fn task_policy(plan: &Value, service: &str) -> String {
    let addr = format!("module.service[\"{service}\"].aws_iam_role_policy.task");
    let rc = plan["resource_changes"].as_array().unwrap().iter().find(|r| r["address"] == addr.as_str());
    let rc = rc.unwrap_or_else(|| panic!("{addr} is not in the plan"));
    rc["change"]["after"]["policy"].as_str().unwrap_or_else(|| panic!("{addr} has no known policy")).to_string()
}

fn addresses(plan: &Value) -> BTreeSet<String> {
    plan["resource_changes"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap().to_string()).collect()
}

#[test]
fn two_services_on_two_versions_render_each_from_its_own_code() {
    let t = tree();
    let unpinned = lz_baseline::render_env(t.path(), "prod").unwrap();
    for s in PROD {
        assert!(task_policy(&unpinned, s).contains(DENY), "{s} renders from 1.1.0 without a pin");
    }
    // The older code is the released copy: a mark in it shows up in the pinned service only.
    let copy = t.path().join("released/trading-service/1.0.0/main.tf");
    let text = std::fs::read_to_string(&copy).unwrap();
    assert!(text.contains("\"ReadReferencedSecrets\""), "the 1.0.0 copy changed: update this test");
    std::fs::write(&copy, text.replace("\"ReadReferencedSecrets\"", "\"ReadReferencedSecretsV100\"")).unwrap();
    pin(t.path(), "prod", &[("order-gateway", "1.0.0"), ("market-data", "1.1.0")]);
    let mixed = lz_baseline::render_env(t.path(), "prod").unwrap();
    let old = task_policy(&mixed, "order-gateway");
    assert!(!old.contains(DENY) && old.contains("ReadReferencedSecretsV100"), "order-gateway renders from 1.0.0's copy: {old}");
    for s in ["matching-engine", "market-data", "position-store"] {
        let p = task_policy(&mixed, s);
        assert!(p.contains(DENY) && !p.contains("V100"), "{s} renders from modules/ (1.1.0): {p}");
    }
    // Same addresses: moving a service between versions changes its resources, never their
    // addresses (no destroy and create).
    assert_eq!(addresses(&mixed), addresses(&unpinned));
    // Other environments are untouched by prod's pins.
    assert!(task_policy(&lz_baseline::render_env(t.path(), "dev").unwrap(), "order-gateway").contains(DENY));
    // The baseline header says which service runs which version.
    let header = lz_baseline::Subject::Environment("prod".into()).header(t.path()).unwrap().join("\n");
    assert!(header.contains("trading-service 1.1.0 (order-gateway on 1.0.0)"), "{header}");
}

#[test]
fn a_pin_without_its_released_copy_or_of_an_unknown_service_does_not_render() {
    let t = tree();
    pin(t.path(), "prod", &[("order-gateway", "1.0.0")]);
    let cat = t.path().join("modules/catalog.toml");
    let text = std::fs::read_to_string(&cat).unwrap();
    std::fs::write(&cat, text.replace("[modules.trading-service.released]\n\"1.0.0\"", "[modules.trading-service.released]\n\"0.9.0\"")).unwrap();
    let e = format!("{:#}", lz_baseline::render_env(t.path(), "prod").unwrap_err());
    assert!(e.contains("environments/prod/pins.toml") && e.contains("does not record") && e.contains("catalog vendor trading-service@1.0.0"), "{e}");
    std::fs::write(&cat, text).unwrap();
    std::fs::remove_dir_all(t.path().join("released/trading-service/1.0.0")).unwrap();
    let e = format!("{:#}", lz_baseline::render_env(t.path(), "prod").unwrap_err());
    assert!(e.contains("released/trading-service/1.0.0/ is missing"), "{e}");
    copy_dir(&root().join("released"), &t.path().join("released"));
    pin(t.path(), "prod", &[("no-such-service", "1.0.0")]);
    let e = format!("{:#}", lz_baseline::render_env(t.path(), "prod").unwrap_err());
    assert!(e.contains("module.service has no instance \"no-such-service\""), "{e}");
}

fn plans() -> impl Strategy<Value = lz_repo::rollout::Plan> {
    proptest::sample::subsequence(PROD.to_vec(), 1..4).prop_map(|canary| {
        let wave = |name: &str, services: Vec<&str>| lz_repo::rollout::Wave {
            name: name.into(),
            environments: vec!["prod".into()],
            services: services.into_iter().map(str::to_string).collect(),
            bake_minutes: 0,
            health_checks: Vec::new(),
        };
        lz_repo::rollout::Plan { waves: vec![wave("prod-canary", canary), wave("prod-all", Vec::new())] }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The pins one release of a bulk upgrade writes (`lz_repo::rollout::wave_pins`, what
    /// `catalog wave` writes), rendered: every service whose wave the release reaches renders
    /// 1.1.0, every other one the 1.0.0 it ran; no service renders a version its wave has not
    /// reached.
    #[test]
    fn no_service_renders_a_version_its_wave_has_not_reached(plan in plans(), wave in 0usize..2, first in proptest::bool::ANY) {
        let t = tree();
        let targets: Vec<(String, String)> = PROD.iter().map(|s| ("prod".to_string(), s.to_string())).collect();
        // Before the rollout every service ran 1.0.0; or the canary already moved (a later wave's release).
        let running: BTreeMap<(String, String), String> = targets
            .iter()
            .map(|t| (t.clone(), if !first && plan.wave_of(&t.0, &t.1) == Some(0) { "1.1.0" } else { "1.0.0" }.to_string()))
            .collect();
        let (pins, unknown) = lz_repo::rollout::wave_pins(&plan, MODULE, "1.1.0", wave, &targets, &running, &BTreeMap::new());
        prop_assert!(unknown.is_empty());
        let prod = pins.get("prod").cloned().unwrap_or_default();
        std::fs::write(t.path().join("environments/prod/pins.toml"), lz_repo::rollout::pins_text(&prod).unwrap()).unwrap();
        let plan_json = lz_baseline::render_env(t.path(), "prod").unwrap();
        for (env, s) in &targets {
            let reached = plan.wave_of(env, s).is_some_and(|w| w <= wave) || running[&(env.clone(), s.clone())] == "1.1.0";
            let renders_new = task_policy(&plan_json, s).contains(DENY);
            prop_assert_eq!(renders_new, reached, "{} in wave {:?}, release of wave {}: pins {:?}", s, plan.wave_of(env, s), wave, prod);
        }
    }
}
