//! `catalog adoption` (issue 32) on a rehearsal checkout: the `note:` line it prints on stderr
//! when the environments of a version's first wave are governed by releases whose rollout plans
//! for that version differ (`lz_promote::adoption::catalog_in_force_noted`). Each environment's
//! first promotion is judged by the plan of the release governing it, so the note is what warns
//! the operator that the wave is not read from one plan.

mod common;

use std::path::Path;

use common::{checkout, key, ok, xtask};

/// A rollout plan for trading-service 1.2.0 (not yet adopted) whose first wave is dev and test.
fn plan(bake: u32) -> String {
    format!(
        "\n[[modules.trading-service.rollout.\"1.2.0\".wave]]\nname = \"non-prod\"\nenvironments = [\"dev\", \"test\"]\nbake_minutes = {bake}\n\n\
         [[modules.trading-service.rollout.\"1.2.0\".wave]]\nname = \"rest\"\nenvironments = [\"uat\", \"preprod\", \"prod\"]\n"
    )
}

/// A published release of the checkout with `plan(bake)` in its catalog, exceptions approved.
fn release(dir: &Path, keys: &Path, catalog: &str, bake: u32) -> String {
    std::fs::write(dir.join("modules/catalog.toml"), format!("{catalog}{}", plan(bake))).unwrap();
    let gh = dir.join(format!("github-output-{bake}"));
    ok(dir, &["release", "build", "--author", "alice", "--ticket", "CHG-32", "--reason", "rollout plan", "--allow-dirty", "--github-output", &gh.display().to_string()]);
    let text = std::fs::read_to_string(&gh).unwrap();
    let digest = text.trim().strip_prefix("digest=").unwrap().to_string();
    ok(dir, &["release", "publish", "--release", &digest, "--as", "alice", "--key", &key(keys, "alice")]);
    ok(dir, &["exceptions", "approve", "--release", &digest, "--as", "bob", "--key", &key(keys, "bob")]);
    digest
}

#[test]
fn catalog_adoption_notes_a_first_wave_governed_by_releases_with_different_plans() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (dir, k) = (d.path(), keys.path());
    checkout(dir, k);
    ok(dir, &["bootstrap", "--stores", "--as", "bob", "--key", &key(k, "bob")]);
    let catalog = std::fs::read_to_string(dir.join("modules/catalog.toml")).unwrap();
    assert!(!catalog.contains("rollout.\"1.2.0\""), "the catalog already plans 1.2.0: update this test");
    let (first, second) = (release(dir, k, &catalog, 60), release(dir, k, &catalog, 240));
    let pin = |env: &str, digest: &str| ok(dir, &["bootstrap", "--env", env, "--pin", digest, "--as", "bob", "--key", &key(k, "bob")]);
    let adoption = || {
        let (code, out, err) = xtask(dir, &["catalog", "adoption", "trading-service"]);
        assert_eq!(code, 0, "{out}{err}");
        (out, err)
    };

    // Only dev is governed (by the first release): one plan, no note.
    pin("dev", &first);
    let (out, err) = adoption();
    assert!(!err.contains("note:"), "{out}{err}");
    assert!(out.contains("trading-service@1.2.0: next wave 1 (non-prod)"), "{out}{err}");

    // test is governed by the second release, whose plan bakes the same wave longer: the plan in
    // force is dev's (where the wave starts), and the note names test and its release.
    pin("test", &second);
    let (out, err) = adoption();
    let note = format!(
        "note: trading-service@1.2.0: the rollout plan in force is the one governing dev, where its first wave starts; \
         test (governed by release {}) of that wave read another plan",
        lz_evidence::record::short(&second)
    );
    assert!(err.contains(&note), "{note}\nnot in:\n{err}");
    assert_eq!(err.matches("note:").count(), 1, "{err}");
    assert!(out.contains("trading-service@1.2.0: next wave 1 (non-prod)"), "{out}{err}");
}
