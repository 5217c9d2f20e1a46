//! The landing zone's stores through the shipped binary, against LocalStack: the local chain is
//! only a cache (deleting `.tools/` loses nothing, a cache that differs from the store is
//! reported), and a checkout whose `governance/stores.toml` names other stores cannot promote
//! from them.

mod common;

use common::{checkout, key, ok, ready_to_promote as release, xtask};

/// `governance/stores.toml` with both bucket names changed.
fn side(text: &str) -> String {
    lz_promote::stores::suffixed(text, "side")
}

fn records(verify_output: &str) -> usize {
    let n = verify_output.split("ok: ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no record count in {verify_output}"))
}

#[test]
fn the_local_chain_is_a_cache_deleting_it_loses_nothing_and_a_divergent_one_is_reported() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let digest = release(d.path(), keys.path());
    let before = records(&ok(d.path(), &["evidence", "verify"]));
    // The register waives nothing since EXC-0001..0005 were retired: no exception approval.
    assert!(before >= 4, "release, pin, 2 approvals: {before}");
    ok(d.path(), &["evidence", "pull"]);
    let cache = d.path().join(".tools/evidence/main.jsonl");
    let text = std::fs::read_to_string(&cache).unwrap();
    assert_eq!(text.lines().count(), before);
    assert!(ok(d.path(), &["evidence", "verify"]).contains("identical"));

    // An edited cache line, or a record only the cache has, is reported (exit 1).
    let lines: Vec<&str> = text.lines().collect();
    let edited = format!("{}\n{}\n", lines[..lines.len() - 1].join("\n"), lines[lines.len() - 1].replace("\"payload\":\"", "\"payload\":\"AA"));
    std::fs::write(&cache, edited).unwrap();
    let (code, out, err) = xtask(d.path(), &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("CACHE MISMATCH") && out.contains("differs from the evidence store"), "{out}");
    std::fs::write(&cache, format!("{text}{}\n", lines[0])).unwrap();
    let (code, out, _) = xtask(d.path(), &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("records exist only locally"), "{out}");

    // Delete .tools/ (all but the bootstrapped tools): nothing is lost, the release is still
    // found by digest and promoted, and `pull` rebuilds the cache.
    for cache in ["evidence", "releases", "promote"] {
        let _ = std::fs::remove_dir_all(d.path().join(".tools").join(cache));
    }
    assert_eq!(records(&ok(d.path(), &["evidence", "verify"])), before);
    ok(d.path(), &["promote", "--release", &digest, "--to", "dev", "--as", "deployer-bot", "--key", &key(keys.path(), "deployer-bot"), "--policy-key", &key(keys.path(), "change-policy-dev")]);
    ok(d.path(), &["evidence", "pull"]);
    assert_eq!(records(&ok(d.path(), &["evidence", "verify"])), before + 3, "policy evaluation, in progress, completed");
}

#[test]
fn a_checkout_that_names_other_stores_cannot_promote_from_them() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let digest = release(d.path(), keys.path());
    // The insider points the checkout at fresh stores of their own and creates them.
    let stores = d.path().join("governance/stores.toml");
    let text = std::fs::read_to_string(&stores).unwrap();
    std::fs::write(&stores, side(&text)).unwrap();
    ok(d.path(), &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys.path(), "bob")]);
    let (code, out, err) = xtask(
        d.path(),
        &["promote", "--release", &digest, "--to", "dev", "--as", "deployer-bot", "--key", &key(keys.path(), "deployer-bot"), "--policy-key", &key(keys.path(), "change-policy-dev")],
    );
    assert_ne!(code, 0, "a side store must not yield a promotion:\n{out}{err}");
    assert!(err.contains("no release"), "{err}");
    // Even with the release copied there (it hashes to its digest), the side chain has no
    // authorship, no pin and no approvals: refused, exit 1.
    std::fs::write(&stores, &text).unwrap();
    let (code, out, err) = xtask(d.path(), &["release", "show", &digest, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(&stores, side(&text)).unwrap();
    let staged = d.path().join(".tools/releases");
    ok(d.path(), &["release", "publish", "--release", &digest, "--as", "alice", "--key", &key(keys.path(), "alice"), "--dir", &staged.display().to_string()]);
    let (code, _, err) = xtask(
        d.path(),
        &["promote", "--release", &digest, "--to", "dev", "--as", "deployer-bot", "--key", &key(keys.path(), "deployer-bot"), "--policy-key", &key(keys.path(), "change-policy-dev")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no governance trust root"), "{err}");
}
