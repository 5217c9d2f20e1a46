//! Helpers of the command-line tests that run the shipped binary on a rehearsal checkout.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The shipped binary on the checkout `dir` (no signing key from the environment).
pub fn xtask(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("LZ_ROOT", dir)
        .env("CI", "true")
        .env_remove("LZ_SIGNING_KEY")
        .env_remove("LZ_POLICY_KEY")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// [`xtask`], required to exit 0; its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = xtask(dir, args);
    assert_eq!(code, 0, "cargo xtask {}:\n{out}\n{err}", args.join(" "));
    out
}

/// A copy of the repository's files as git lists them (tracked and untracked, not ignored):
/// no tools, no services (`lz_service::golden::copy_files`).
pub fn copy_repository(dir: &Path) {
    lz_service::golden::copy_files(&root(), dir).unwrap_or_else(|e| panic!("{e:#}"));
}

/// A copy of the repository's files (as git lists them) with only the bootstrapped tools under
/// `.tools/` (`lz_service::golden::checkout`), turned into a rehearsal (test identities with keys
/// in `keys`, stores of its own).
pub fn checkout(dir: &Path, keys: &Path) {
    let root = root();
    lz_platform::tools::terraform(&root).expect("Terraform (bootstrapped by the harness)");
    lz_service::golden::checkout(&root, dir).unwrap_or_else(|e| panic!("{e:#}"));
    lz_platform::localstack::require(&root).unwrap_or_else(|e| panic!("{e:#}"));
    ok(dir, &["rehearsal", "setup", "--keys", &keys.display().to_string()]);
}

/// The key file of a rehearsal identity.
pub fn key(keys: &Path, who: &str) -> String {
    keys.join(format!("{who}.key")).display().to_string()
}

/// Stores, a published release with its exceptions approved, dev pinned and approved: ready
/// to promote. Returns the digest.
pub fn ready_to_promote(dir: &Path, keys: &Path) -> String {
    ok(dir, &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys, "bob")]);
    let gh = dir.join("github-output");
    ok(dir, &["release", "build", "--author", "alice", "--ticket", "CHG-9", "--reason", "stores test", "--allow-dirty", "--github-output", &gh.display().to_string()]);
    let text = std::fs::read_to_string(&gh).unwrap();
    let digest = text.trim().strip_prefix("digest=").unwrap().to_string();
    assert_eq!(digest.len(), 64, "{text}");
    ok(dir, &["release", "publish", "--release", &digest, "--as", "alice", "--key", &key(keys, "alice")]);
    ok(dir, &["exceptions", "approve", "--release", &digest, "--as", "bob", "--key", &key(keys, "bob")]);
    ok(dir, &["bootstrap", "--env", "dev", "--pin", &digest, "--as", "bob", "--key", &key(keys, "bob")]);
    for who in ["bob", "erin"] {
        ok(dir, &["approve", "--release", &digest, "--env", "dev", "--as", who, "--key", &key(keys, who), "--reason", "reviewed"]);
    }
    digest
}
