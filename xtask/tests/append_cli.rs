//! `cargo xtask evidence append` against the landing-zone stores of each test's own rehearsal
//! (LocalStack): concurrent appenders all land (the CLI re-reads the head and retries like the
//! library), and the retention floor (the log archive's declared retention) holds on append and
//! verify.

mod common;

use std::path::Path;
use std::process::Command;

use common::{checkout, key, ok, xtask};

fn release() -> String {
    lz_evidence::dsse::sha256_hex(b"append cli release")
}

fn nonce() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}", n % 0xff_ffff_ffff)
}

/// A drift record appended to the landing zone's evidence store, plus `extra` arguments.
fn append_args(keys: &Path, tag: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["evidence", "append", "--kind", "drift", "--identity", "deployer-bot", "--key"].iter().map(|s| s.to_string()).collect();
    v.push(key(keys, "deployer-bot"));
    v.extend(["--release".into(), release(), "--env".into(), "dev".into(), "--detail".into(), format!("resources=[\"{tag}\"]")]);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// A rehearsal checkout with its stores bootstrapped (the genesis register is record 0).
fn rehearsal(d: &Path, keys: &Path) {
    checkout(d, keys);
    ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys, "bob")]);
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn records(verify_output: &str) -> usize {
    let n = verify_output.split("ok: ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no record count in {verify_output}"))
}

#[test]
fn thirty_two_cli_appenders_at_once_all_land_and_the_chain_verifies() {
    const N: usize = 32;
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    let before = records(&ok(d.path(), &["evidence", "verify"]));
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..N)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(append_args(keys.path(), &format!("writer-{i}"), &[]))
                .env("LZ_ROOT", d.path())
                .env("CI", "true")
                .env_remove("LZ_SIGNING_KEY")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let elapsed = started.elapsed();
    let failures: Vec<String> = outputs
        .iter()
        .filter(|o| !o.status.success())
        .map(|o| format!("exit {:?}: {}{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
        .collect();
    assert!(failures.is_empty(), "{} of {N} appenders failed:\n{}", failures.len(), failures.join("\n"));
    let mut sequences: Vec<u64> = outputs
        .iter()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            text.split("record sequence ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{text}"))
        })
        .collect();
    sequences.sort();
    sequences.dedup();
    let first = before as u64;
    assert_eq!(sequences, (first..first + N as u64).collect::<Vec<_>>(), "each appender got a sequence of its own");
    let out = ok(d.path(), &["evidence", "verify"]);
    assert_eq!(records(&out), before + N, "{out}");

    // A rerun with the append id of an earlier run (its answer lost) finds the record; the same
    // id on other content is refused.
    let first = ok(d.path(), &strs(&append_args(keys.path(), "rerun", &["--append-id", "cli-rerun-1"])));
    assert!(first.starts_with("appended drift record") && first.contains("append id cli-rerun-1"), "{first}");
    let again = ok(d.path(), &strs(&append_args(keys.path(), "rerun", &["--append-id", "cli-rerun-1"])));
    assert!(again.starts_with("already appended: drift record"), "{again}");
    let seq = |t: &str| t.split("record sequence ").nth(1).and_then(|r| r.split_whitespace().next()).map(String::from);
    assert_eq!(seq(&first), seq(&again));
    let (code, out, err) = xtask(d.path(), &strs(&append_args(keys.path(), "other", &["--append-id", "cli-rerun-1"])));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("REFUSED") && out.contains("different content"), "{out}");
    assert_eq!(records(&ok(d.path(), &["evidence", "verify"])), before + N + 1, "the rerun wrote nothing");
    println!("{N} concurrent CLI appenders: {N} of {N} landed, 0 failures, chain of {} verified ({elapsed:.1?})", before + N);
}

#[test]
fn the_retention_floor_holds_on_append_and_verify() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    let floor = lz_promote::stores::retention_floor(d.path()).unwrap();
    assert!(floor >= 2190, "prod's log archive declares {floor} days");
    let stores = lz_promote::stores::Stores::load(d.path(), lz_platform::localstack::ENDPOINT).unwrap();
    let bucket = stores.evidence_bucket.clone();
    let run = |v: Vec<String>| xtask(d.path(), &strs(&v));
    let c = stores.s3().unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    let days = |c: &lz_evidence::aws_sdk_s3::Client| {
        rt.block_on(c.get_object_lock_configuration().bucket(&bucket).send()).unwrap().object_lock_configuration().unwrap().rule().unwrap().default_retention().unwrap().days()
    };
    assert_eq!(days(&c), Some(floor as i32), "bootstrap --stores creates the store with the floor");

    // The attack of the issue: an append that asks for 1 day on the store is refused and changes
    // nothing, and so is one that would create a store with it.
    for target in [bucket.clone(), format!("lz-evidence-floor-{}", nonce())] {
        let (code, out, err) = run(append_args(keys.path(), "x", &["--store", "s3", "--bucket", &target, "--retention-days", "1"]));
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("REFUSED") && out.contains(&format!("below the retention floor of {floor} days")), "{out}");
    }
    assert_eq!(days(&c), Some(floor as i32), "the store's retention was lowered");
    ok(d.path(), &strs(&append_args(keys.path(), "x", &[])));
    let verify = ["evidence", "verify"];
    let out = ok(d.path(), &verify);
    assert!(out.contains(&format!("at least the floor of {floor} days")), "{out}");

    // Lowered behind the tool's back (a raw API call): verification reports it, appends stop.
    use lz_evidence::aws_sdk_s3::types::{DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule};
    let low = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(ObjectLockRule::builder().default_retention(DefaultRetention::builder().mode(ObjectLockRetentionMode::Compliance).days(1).build()).build())
        .build();
    rt.block_on(c.put_object_lock_configuration().bucket(&bucket).object_lock_configuration(low).send()).unwrap();
    let (code, out, err) = xtask(d.path(), &verify);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("RETENTION: s3://") && out.contains(&format!("below the floor of COMPLIANCE for {floor} days")), "{out}");
    let (code, out, err) = run(append_args(keys.path(), "y", &[]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("below the retention floor"), "{out}");
}
