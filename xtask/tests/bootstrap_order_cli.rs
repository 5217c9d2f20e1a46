//! Bootstrap resolves its signer and the environment's governance pin before any AWS call that
//! acts (issue 26): a signer who may not pin, a key that is not the signer's, or a release the
//! chain would refuse stops it with nothing created. The proof is the next, valid bootstrap of
//! the same environment: it creates the state bucket (the rehearsal's, named for it alone),
//! which a refused run before it would have created. LocalStack, a rehearsal checkout.

mod common;

use common::{checkout, key, ok, xtask};

#[test]
fn a_bad_signer_or_pin_stops_bootstrap_before_anything_is_created() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let d = d.path();
    let k = |who: &str| key(keys.path(), who);
    ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &k("bob")]);
    let gh = d.join("github-output");
    ok(d, &["release", "build", "--author", "alice", "--ticket", "CHG-9", "--reason", "bootstrap order", "--allow-dirty", "--github-output", &gh.display().to_string()]);
    let text = std::fs::read_to_string(&gh).unwrap();
    let digest = text.trim().strip_prefix("digest=").unwrap().to_string();
    ok(d, &["release", "publish", "--release", &digest, "--as", "alice", "--key", &k("alice")]);
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
