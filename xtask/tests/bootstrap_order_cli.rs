//! Bootstrap resolves its signer and the environment's governance pin before any AWS call that
//! acts (issue 26): a signer who may not pin, a key that is not the signer's, or a release the
//! chain would refuse stops it with nothing created. The proof is the next, valid bootstrap of
//! the same environment: it creates the state bucket (the rehearsal's, named for it alone),
//! which a refused run before it would have created. And `bootstrap --stores` on a store that
//! holds its chain is signed by the security group and applies the governing release's
//! settings, never the checkout's. LocalStack, a rehearsal checkout.

mod common;

use common::{checkout, key, ok, xtask};

/// A rehearsal checkout (and its keys) with its stores started by bob and a release of it
/// published by alice, whose digest comes last.
fn stores_and_release(reason: &str) -> (tempfile::TempDir, tempfile::TempDir, String) {
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(dir.path(), keys.path());
    let d = dir.path();
    let k = |who: &str| key(keys.path(), who);
    ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &k("bob")]);
    let gh = d.join("github-output");
    ok(d, &["release", "build", "--author", "alice", "--ticket", "CHG-9", "--reason", reason, "--allow-dirty", "--github-output", &gh.display().to_string()]);
    let text = std::fs::read_to_string(&gh).unwrap();
    let digest = text.trim().strip_prefix("digest=").unwrap().to_string();
    ok(d, &["release", "publish", "--release", &digest, "--as", "alice", "--key", &k("alice")]);
    (dir, keys, digest)
}

#[test]
fn a_bad_signer_or_pin_stops_bootstrap_before_anything_is_created() {
    let (d, keys, digest) = stores_and_release("bootstrap order");
    let d = d.path();
    let k = |who: &str| key(keys.path(), who);
    let unpublished = "0".repeat(64);
    let (alice, bob, carol) = (k("alice"), k("bob"), k("carol"));

    let refusals: [(&str, Vec<&str>, &str); 3] = [
        ("a signer outside the security group", vec!["--pin", &digest, "--as", "alice", "--key", &alice], "alice is not a person of the security group"),
        ("another identity's key", vec!["--pin", &digest, "--as", "bob", "--key", &carol], "the signing key is not the registered key of identity bob"),
        ("a release that was never published", vec!["--pin", &unpublished, "--as", "bob", "--key", &bob], "0000000000"),
    ];
    for (what, args, says) in &refusals {
        let mut all = vec!["bootstrap", "--env", "test"];
        all.extend(args.iter().copied());
        let (code, out, err) = xtask(d, &all);
        assert_ne!(code, 0, "{what}: {out}{err}");
        assert!(err.contains(says), "{what}: {err}");
        assert!(!out.contains("created") && !out.contains("configured"), "{what}: it acted before refusing:\n{out}");
    }
    // The first valid bootstrap of test creates its state bucket: no refused run did.
    let out = ok(d, &["bootstrap", "--env", "test", "--pin", &digest, "--as", "bob", "--key", &k("bob")]);
    let backend = std::fs::read_to_string(d.join("environments/test/backend.hcl")).unwrap();
    let bucket = backend.lines().find(|l| l.trim_start().starts_with("bucket")).and_then(|l| l.split('"').nth(1)).unwrap().to_string();
    assert!(out.contains(&format!("created    s3://{bucket}")), "{out}");
    assert!(out.contains("governance of test pinned to release"), "{out}");
}

/// The CostCentre tag of the evidence store, as it is in LocalStack.
fn store_cost_centre(d: &std::path::Path) -> Option<String> {
    let stores = lz_promote::stores::Stores::load(d, &lz_platform::localstack::require(&common::root()).unwrap()).unwrap();
    let s3 = stores.s3().unwrap();
    let tags = lz_platform::aws::runtime().unwrap().block_on(s3.get_bucket_tagging().bucket(&stores.evidence_bucket).send()).unwrap();
    tags.tag_set().iter().find(|t| t.key() == "CostCentre").map(|t| t.value().to_string())
}

/// Issue 26 (review (b)): `bootstrap --stores` on a store that already holds its chain needs a
/// signer of the security group (without one: exit 2; outside the group: refused), and takes
/// the stores' settings from the release governing the hosting environment (prod) in the chain.
/// The insider edits the checkout's prod settings (a cost centre of their own, tagged on the
/// stores) and runs it: refused while prod has no governing release, and once prod is pinned the
/// stores get the pinned release's settings, not the checkout's; the record says what was
/// applied. Without the control it ran without a signer and applied the checkout's tag.
#[test]
fn bootstrap_stores_on_a_started_store_is_signed_and_applies_the_governing_release() {
    let (d, keys, digest) = stores_and_release("stores settings");
    let d = d.path();
    let k = |who: &str| key(keys.path(), who);
    let declared = store_cost_centre(d);
    assert!(declared.is_some(), "the stores carry the declared CostCentre tag");
    // The insider's checkout: prod's cost centre changed (the stores take prod's tags).
    let tfvars = d.join("environments/prod/terraform.tfvars");
    let text = std::fs::read_to_string(&tfvars).unwrap();
    std::fs::write(&tfvars, format!("{text}\ncost_centre = \"CC-6666\"\n")).unwrap();
    let (code, out, err) = xtask(d, &["bootstrap", "--stores"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("holds its chain: bootstrap --stores on it is signed by a person of the security group"), "{err}");
    let (code, out, err) = xtask(d, &["bootstrap", "--stores", "--as", "alice", "--key", &k("alice")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("alice is not a person of the security group"), "{err}");
    // The insider also raises the checkout's retention floor above the store's: the chain cannot
    // be read with the checkout's floor, and a store that holds records is never taken for an
    // empty one (whose genesis would apply the checkout's settings), whoever signs.
    let edited = std::fs::read_to_string(&tfvars).unwrap();
    assert!(edited.contains("log_archive_retention_days  = 2557"), "{edited}");
    std::fs::write(&tfvars, edited.replace("log_archive_retention_days  = 2557", "log_archive_retention_days  = 2558")).unwrap();
    let (code, out, err) = xtask(d, &["bootstrap", "--stores", "--as", "alice", "--key", &k("alice")]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("holds records but its chain cannot be read"), "{err}");
    assert!(!out.contains("configured") && !out.contains("created"), "it changed the stores before refusing:\n{out}");
    assert_eq!(store_cost_centre(d), declared, "the unreadable chain left the stores as they were");
    std::fs::write(&tfvars, edited).unwrap();
    let (code, out, err) = xtask(d, &["bootstrap", "--stores", "--as", "bob", "--key", &k("bob")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("prod (which hosts the stores) has no governing release"), "{err}");
    assert!(!out.contains("configured"), "it changed the stores before refusing:\n{out}");
    assert_eq!(store_cost_centre(d), declared, "the refused runs left the stores as they were");
    // prod pinned to the release built before the edit: its settings are applied, the checkout's are not.
    ok(d, &["bootstrap", "--env", "prod", "--pin", &digest, "--as", "bob", "--key", &k("bob")]);
    // A checkout that names another witness bucket (a store move not yet admitted) is refused:
    // where the settings go comes from the governing release too.
    let stores_toml = d.join("governance/stores.toml");
    let stores_text = std::fs::read_to_string(&stores_toml).unwrap();
    let line = stores_text.lines().find(|l| l.starts_with("witness_bucket")).unwrap().to_string();
    std::fs::write(&stores_toml, stores_text.replace(&line, "witness_bucket  = \"lz-witness-moved\"")).unwrap();
    let (code, out, err) = xtask(d, &["bootstrap", "--stores", "--as", "bob", "--key", &k("bob")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("names other stores than release") && err.contains("lz-witness-moved"), "{err}");
    std::fs::write(&stores_toml, stores_text).unwrap();
    let out = ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &k("bob")]);
    assert!(out.contains(&format!("the settings of release {} (governing prod) applied, recorded as record", &digest[..12])), "{out}");
    assert_ne!(declared.as_deref(), Some("CC-6666"));
    assert_eq!(store_cost_centre(d), declared, "the governing release's tag, not the checkout's CC-6666");
    let query = ok(d, &["evidence", "query", "--release", &digest, "--json"]);
    assert!(query.contains("bootstrap applied the settings of release") && query.contains("settings_sha256"), "{query}");
}
