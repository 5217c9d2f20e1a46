//! No bricking (issue 24), through the shipped binary on a rehearsal of its own (LocalStack):
//! one raw PUT of garbage at the next record key of the landing zone's evidence store, and one
//! at its head, are reported by `evidence verify` (exit 1, FOREIGN) while `evidence append`
//! (exit 0) continues at the next key and records the skip.

mod common;

use std::path::Path;

use common::{checkout, key, ok, xtask};

fn append(d: &Path, keys: &Path, tag: &str) -> (i32, String, String) {
    let release = lz_evidence::dsse::sha256_hex(b"quarantine cli release");
    let key = key(keys, "deployer-bot");
    let detail = format!("resources=[\"{tag}\"]");
    xtask(
        d,
        &["evidence", "append", "--kind", "drift", "--identity", "deployer-bot", "--key", &key, "--release", &release, "--env", "dev", "--detail", &detail],
    )
}

/// The head sequence `evidence verify` reports.
fn head_sequence(out: &str) -> u64 {
    let n = out.split("head sequence ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no head sequence in {out}"))
}

fn records(out: &str) -> usize {
    let n = out.split("ok: ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no record count in {out}"))
}

#[test]
fn garbage_at_the_next_key_and_at_the_head_bricks_no_command() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let d = d.path();
    checkout(d, keys.path());
    ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys.path(), "bob")]);
    let (code, out, err) = append(d, keys.path(), "before");
    assert_eq!(code, 0, "{out}{err}");
    let out = ok(d, &["evidence", "verify"]);
    let (last, before) = (head_sequence(&out), records(&out));

    // The insider's raw PUT at the next key (locked by the bucket's COMPLIANCE default).
    let stores = lz_promote::stores::Stores::load(d, lz_platform::localstack::ENDPOINT).unwrap();
    let (client, bucket) = (stores.s3().unwrap(), stores.evidence_bucket.clone());
    let rt = lz_platform::aws::runtime().unwrap();
    let put = |key: &str, body: &[u8]| {
        rt.block_on(client.put_object().bucket(&bucket).key(key).body(body.to_vec().into()).send()).unwrap();
    };
    let garbage_key = format!("records/{:012}.json", last + 1);
    put(&garbage_key, b"garbage under WORM");
    let foreign = format!("FOREIGN: store has a foreign object at s3://{bucket}/{garbage_key}");

    let (code, out, err) = xtask(d, &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&foreign) && out.contains("not yet recorded"), "{out}");
    assert_eq!(records(&out), before, "the chain is otherwise intact: {out}");

    // Appends continue at the next key; the record names the skip.
    let (code, out, err) = append(d, keys.path(), "after");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("appended drift record sequence {}", last + 2)), "{out}");
    assert!(out.contains(&format!("note: store has a foreign object at s3://{bucket}/{garbage_key}")), "{out}");
    let (code, out, err) = xtask(d, &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&foreign) && out.contains(&format!("recorded by record {}", last + 2)), "{out}");
    assert!(out.contains("every deployment's admission replayed: ok"), "{out}");
    assert_eq!(records(&out), before + 1, "{out}");
    let (code, out, err) = xtask(d, &["evidence", "query", "--identity", "deployer-bot"]);
    assert_eq!(code, 0, "{out}{err}");

    // A garbage head: reported, and the next append writes a valid one.
    put("head.json", b"{\"not\": \"a checkpoint\"}");
    let (code, out, err) = xtask(d, &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&format!("FOREIGN: store has a foreign head at s3://{bucket}/head.json")), "{out}");
    let (code, out, err) = append(d, keys.path(), "after the head");
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = xtask(d, &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(records(&out), before + 2, "{out}");
    assert_eq!(head_sequence(&out), last + 3, "{out}");

    // The verified copy holds the chain without the foreign objects and verifies against the store.
    let (code, out, err) = xtask(d, &["evidence", "pull"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&format!("pulled {} verified records", before + 2)), "{out}");
    let (_, out, _) = xtask(d, &["evidence", "verify"]);
    assert!(out.contains(&format!("{} of {} records, identical", before + 2, before + 2)), "{out}");
    println!("CLI: 2 foreign objects quarantined (a record key, the head), {} records verified, records lost = 0", before + 2);
}
