//! A CI job runs commands of its own environment only (issue 26): with `LZ_ENVIRONMENT` (the
//! job's GitHub environment, which the workflow maps) set, a command naming another environment
//! exits 2 before any AWS call. The endpoint and the OIDC token endpoint point at a closed port:
//! reaching either would be another error.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn run(job: &str, args: &[&str]) -> (i32, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("LZ_ROOT", &root)
        .env("CI", "true")
        .env("LZ_ENVIRONMENT", job)
        .env("LZ_LOCALSTACK_ENDPOINT", "http://127.0.0.1:9")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", "https://127.0.0.1:9/token")
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "bearer")
        .env_remove("LZ_SIGNING_KEY")
        .env_remove("LZ_POLICY_KEY")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_job_refuses_a_command_of_another_environment_before_any_aws_call() {
    let release = "a".repeat(64);
    let cases: [(&str, Vec<&str>, &str); 5] = [
        // A list: one value of another environment is enough.
        ("dev", vec!["service", "new", "fx-pricing", "--env", "dev", "--env", "prod", "--tier", "trading"], "--env prod"),
        ("dev", vec!["promote", "--release", &release, "--to", "prod", "--as", "deployer-bot-prod"], "--to prod"),
        ("dev", vec!["drift", "--env", "prod", "--as", "deployer-bot-prod"], "--env prod"),
        ("test", vec!["rotate", "--env", "preprod", "--all", "--as", "deployer-bot-preprod", "--ticket", "CHG-1"], "--env preprod"),
        ("prod", vec!["approve", "--release", &release, "--env", "dev", "--as", "bob", "--key", "/nonexistent", "--reason", "r"], "--env dev"),
    ];
    for (job, args, says) in &cases {
        let (code, err) = run(job, args);
        assert_eq!(code, 2, "{args:?} in a {job} job:\n{err}");
        assert!(err.contains(&format!("this job acts for environment {job}")) && err.contains(says), "{args:?} in a {job} job:\n{err}");
    }
    // The job's own environment passes the guard (and fails later, at the closed endpoint or
    // the missing release: not the guard's business).
    let (code, err) = run("prod", &["promote", "--release", &release, "--to", "prod", "--as", "deployer-bot-prod"]);
    assert_ne!(code, 0);
    assert!(!err.contains("this job acts for environment"), "{err}");
}

/// A job signing as an identity the register binds to another environment stops at once too:
/// dev's job asking to drift-check dev as prod's deployer (a rehearsal checkout's register binds
/// `deployer-bot-prod` to prod).
#[test]
fn a_job_refuses_to_sign_as_another_environments_identity() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    common::checkout(d.path(), keys.path());
    let run = |job: &str, who: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["drift", "--env", job, "--as", who])
            .env("LZ_ROOT", d.path())
            .env("CI", "true")
            .env("LZ_ENVIRONMENT", job)
            .env("LZ_LOCALSTACK_ENDPOINT", "http://127.0.0.1:9")
            .env_remove("LZ_SIGNING_KEY")
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run("dev", "deployer-bot-prod");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("this job acts for environment dev") && err.contains("--as deployer-bot-prod is bound to prod"), "{err}");
    // Its own deployer passes the guard (and fails later: not the guard's business).
    let (_, err) = run("dev", "deployer-bot-dev");
    assert!(!err.contains("this job acts for environment"), "{err}");
}
