//! The shipped binary against the insider: no clock override and no side door exists in it,
//! the classification baseline cannot be passed in, and decisions exit 1 when refused and 2
//! on malformed input, never with a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args).env("LZ_ROOT", root).env("CI", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn the_shipped_binary_reads_no_clock_override_and_no_side_door_variable() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_xtask")).unwrap();
    for var in [
        "LZ_NOW",
        "LZ_TODAY",
        "LZ_EVIDENCE",
        "LZ_IDENTITIES",
        "LZ_RELEASES",
    ] {
        assert!(
            !bytes.windows(var.len()).any(|w| w == var.as_bytes()),
            "the xtask binary names {var}"
        );
    }
}

#[test]
fn lz_today_does_not_move_exception_expiry() {
    // Far in the future every exception of the register would have expired; the binary
    // ignores the variable and judges them at today's date.
    let (code, out, err) = xtask(
        &root(),
        &["exceptions", "list", "--format", "json"],
        &[
            ("LZ_TODAY", "2035-01-01"),
            ("LZ_NOW", "2035-01-01T00:00:00Z"),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(!out.contains("expired on"), "{out}");
}

#[test]
fn classification_takes_no_baseline_from_the_caller() {
    let (code, _, err) = xtask(
        &root(),
        &[
            "classify",
            "--env",
            "dev",
            "--release",
            "abcdef12",
            "--against",
            "plan.json",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--against"), "{err}");
}

#[test]
fn a_release_without_signed_authorship_is_refused_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path();
    for d in lz_evidence::release::TREE {
        copy_dir(&root().join(d), &copy.join(d));
    }
    std::fs::copy(root().join("Cargo.lock"), copy.join("Cargo.lock")).unwrap();
    let built = lz_evidence::release::build(
        copy,
        &lz_evidence::release::BuildOptions {
            releases_dir: copy.join(".tools/releases"),
            terraform_version: Some("1.15.5".into()),
            terraform_bin: PathBuf::from("terraform"),
            author: Some("priya-raman".into()),
            ticket: Some("CHG-1".into()),
            reason: Some("unsigned".into()),
        },
    )
    .unwrap();
    let d = built.manifest.digest;
    // Into stores of this test's own (the release store takes it; no release record is signed).
    let endpoint = lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"));
    let stores_file = copy.join("governance/stores.toml");
    let nonce = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 0xffff_ffff);
    let text = std::fs::read_to_string(&stores_file).unwrap();
    let text = lz_promote::stores::suffixed(&text, &nonce);
    std::fs::write(&stores_file, text).unwrap();
    // The empty evidence store's genesis needs a security signer this copy of the repository's
    // register has no key for: exit 2, saying so, before any bucket is created.
    let (code, out, err) = xtask(copy, &["bootstrap", "--stores"], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("its genesis register is signed by a person of the security group"), "{err}");
    let stores = lz_promote::stores::Stores::load(copy, &endpoint).unwrap();
    let dir = copy.join(".tools/releases").join(&d);
    let archive = std::fs::read(dir.join("release.tar")).unwrap();
    assert!(stores.releases().unwrap().publish(&d, &archive, b"{}").is_err(), "the refused bootstrap created the release store");
    // The buckets as bootstrap creates them (no genesis record: the evidence store stays empty).
    let plan = lz_promote::release::render_env(copy, &stores.environment).unwrap();
    lz_operate::bootstrap::bootstrap_stores(&stores, &plan).unwrap();
    stores.releases().unwrap().publish(&d, &archive, b"{}").unwrap();
    let (code, out, err) = xtask(
        copy,
        &["classify", "--env", "dev", "--release", &d[..16]],
        &[],
    );
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("has no signed authorship record"), "{err}");
    // Malformed input: not a digest.
    let (code, _, err) = xtask(
        copy,
        &["classify", "--env", "dev", "--release", "not-a-digest"],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a release digest"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == ".terraform" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
