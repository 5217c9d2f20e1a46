//! `cargo xtask` sets up who it is on AWS before any command (`ci_identity`): the landing
//! zone's `governance/aws.toml` is read first (a malformed one is exit 2 naming file and line),
//! a GitHub Actions job's OIDC token request needs the pipeline role it is exchanged for, and
//! an endpoint profile the file does not list is refused. Offline: no AWS call is made.

use std::path::Path;
use std::process::Command;

fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("LZ_ROOT", root)
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .env_remove("LZ_AWS_PROFILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn tree(aws_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("governance")).unwrap();
    std::fs::write(dir.path().join("governance/aws.toml"), aws_toml).unwrap();
    dir
}

#[test]
fn the_aws_configuration_is_read_before_any_command() {
    // A malformed file: exit 2 naming file and line, whatever the command.
    let bad = tree("[profile.x]\nendpoint = \"http://example.com\"\n");
    let (code, err) = xtask(bad.path(), &["catalog", "adoption"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("aws.toml:2") && err.contains("plain http only on loopback"), "{err}");

    // A job that may ask for an OIDC token, with no pipeline role to exchange it for.
    let no_role = tree("[profile.aws]\n");
    let oidc = [("ACTIONS_ID_TOKEN_REQUEST_URL", "https://localhost:1/token"), ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t")];
    let (code, err) = xtask(no_role.path(), &["catalog", "adoption"], &oidc);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("names no pipeline_role_arn"), "{err}");
    assert!(!err.contains("ACTIONS_ID_TOKEN_REQUEST_TOKEN=t"), "{err}");

    // An endpoint profile the governed file does not list is never reached.
    let (code, err) = xtask(no_role.path(), &["catalog", "adoption"], &[("LZ_AWS_PROFILE", "elsewhere")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no endpoint profile \"elsewhere\""), "{err}");
}

/// `--as NAME` without `--key`: an EMPTY `LZ_SIGNING_KEY` (a secret the job cannot see expands to
/// "") is unset, so the register's `kms_key` for NAME is used, and an error on that path says the
/// key came from the checkout's register. Offline: the profile's endpoint refuses connections.
#[test]
fn an_empty_signing_key_variable_falls_back_to_the_registered_kms_key() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tree("[profile.aws]\n[profile.nowhere]\nendpoint = \"https://127.0.0.1:9\"\n");
    let register = std::fs::read_to_string(root.join("governance/identities.toml")).unwrap();
    let p256 = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0c0/bJ6ezaR50gsHuSGYPP7YsdS/imS18mzF0jshn1fKoo6WllpX0l7S0RVxbcjacvWvoJtDFovgj9ksb51C1A==";
    let arn = "arn:aws:kms:eu-west-2:999999999999:key/00000000-0000-0000-0000-000000000000";
    let register = lz_operate::rehearsal_kms::register_kms_key(&register, "deploy-pipeline-dev", p256, arn).unwrap();
    std::fs::write(dir.path().join("governance/identities.toml"), register).unwrap();
    let env = [("LZ_SIGNING_KEY", ""), ("LZ_SIGNING_KMS_KEY", ""), ("LZ_AWS_PROFILE", "nowhere"), ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "x")];
    let (code, err) = xtask(dir.path(), &["-v", "evidence", "witness", "--as", "deploy-pipeline-dev"], &env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("the kms_key {arn}")) && err.contains("not read from the verified register"), "{err}");
}
