//! `cargo xtask evidence append` against S3 stores of each test's own (LocalStack): concurrent
//! appenders all land (the CLI re-reads the head and retries like the library), and the
//! retention floor (the log archive's declared retention) holds on append and verify.

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

fn append_args(keys: &Path, bucket: &str, tag: &str) -> Vec<String> {
    let mut v: Vec<String> = ["evidence", "append", "--store", "s3", "--bucket", bucket, "--kind", "drift", "--identity", "deployer-bot", "--key"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.push(key(keys, "deployer-bot"));
    v.extend(["--release".into(), release(), "--env".into(), "dev".into(), "--detail".into(), format!("resources=[\"{tag}\"]")]);
    v
}

fn records(verify_output: &str) -> usize {
    let n = verify_output.split("ok: ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no record count in {verify_output}"))
}

#[test]
fn thirty_two_cli_appenders_at_once_all_land_and_the_chain_verifies() {
    const N: usize = 32;
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let bucket = format!("lz-evidence-cli-{}", nonce());
    ok(d.path(), &append_args(keys.path(), &bucket, "first").iter().map(String::as_str).collect::<Vec<_>>());
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..N)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(append_args(keys.path(), &bucket, &format!("writer-{i}")))
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
    assert_eq!(sequences, (1..=N as u64).collect::<Vec<_>>(), "each appender got a sequence of its own");
    let out = ok(d.path(), &["evidence", "verify", "--store", "s3", "--bucket", &bucket]);
    assert_eq!(records(&out), N + 1, "{out}");
    println!("{N} concurrent CLI appenders: {N} of {N} landed, 0 failures, chain of {} verified ({elapsed:.1?})", N + 1);
}

#[test]
fn the_retention_floor_holds_on_append_and_verify() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let floor = lz_promote::stores::retention_floor(d.path()).unwrap();
    assert!(floor >= 2190, "prod's log archive declares {floor} days");
    let bucket = format!("lz-evidence-floor-{}", nonce());
    let args = |extra: &[&str]| {
        let mut v = append_args(keys.path(), &bucket, "x");
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |v: Vec<String>| xtask(d.path(), &v.iter().map(String::as_str).collect::<Vec<_>>());

    // A retention below the floor is refused before anything is created.
    let (code, out, err) = run(args(&["--retention-days", "1"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("REFUSED") && out.contains(&format!("below the retention floor of {floor} days")), "{out}");
    // Without the flag, the store gets the floor.
    let (code, out, err) = run(args(&[]));
    assert_eq!(code, 0, "{out}{err}");
    let c = lz_platform::aws::s3_client(lz_platform::localstack::ENDPOINT, "000000000000", "us-east-1");
    let rt = lz_platform::aws::runtime().unwrap();
    let days = |c: &lz_evidence::aws_sdk_s3::Client| {
        rt.block_on(c.get_object_lock_configuration().bucket(&bucket).send()).unwrap().object_lock_configuration().unwrap().rule().unwrap().default_retention().unwrap().days()
    };
    assert_eq!(days(&c), Some(floor as i32));
    // The attack of the issue: an append that asks for 1 day on the existing store changes nothing.
    let (code, out, _) = run(args(&["--retention-days", "1"]));
    assert_eq!(code, 1, "{out}");
    assert_eq!(days(&c), Some(floor as i32), "the store's retention was lowered");
    let verify = ["evidence", "verify", "--store", "s3", "--bucket", bucket.as_str()];
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
    let (code, out, err) = run(args(&[]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("below the retention floor"), "{out}");
}
