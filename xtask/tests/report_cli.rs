//! `cargo xtask exceptions export` and `cargo xtask report` on the command line: exit codes,
//! formats and errors. The register is a fixture of this test (never the live register).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).current_dir(root()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// One entry valid for years, one long expired (today comes from the server clock).
const REGISTER: &str = r#"
[[exception]]
id = "CLI-OLD"
rule_id = "LZ-S3-003"
scope = { environment = "dev", address = "module.x.*" }
justification = "fixture"
compensating_control = "fixture control"
owner = "owner-a"
approver = "approver-b"
ticket = "CHG-900"
created = 2020-01-01
expires = 2020-03-01
"#;

#[test]
fn exceptions_export_writes_each_format_and_exits_1_on_an_expired_entry() {
    lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"));
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("exceptions.toml");
    std::fs::write(&reg, REGISTER).unwrap();
    let f = reg.to_str().unwrap();
    let (code, out, err) = run(&["exceptions", "export", "--file", f, "--format", "csv"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("id,status,why,"), "{out}");
    assert!(out.contains("CLI-OLD,expired,expired on 2020-03-01,LZ-S3-003"), "{out}");
    let (code, out, _) = run(&["exceptions", "export", "--file", f, "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exceptions"][0]["status"], "expired");
    let html = dir.path().join("x.html");
    let (code, _, err) = run(&["exceptions", "export", "--file", f, "--format", "html", "--out", html.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("0 valid, 0 expiring, 1 expired, 0 invalid"), "{err}");
    assert!(std::fs::read_to_string(&html).unwrap().contains("data-status=\"expired\""));
    // A malformed register is an input error naming file and line.
    std::fs::write(&reg, "[[exception]]\nid = \"A\"\nrule_id = 3\n").unwrap();
    let (code, _, err) = run(&["exceptions", "export", "--file", f]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{f}:")), "{err}");
}

#[test]
fn report_needs_a_release_or_an_environment_and_period() {
    let (code, _, err) = run(&["report", "--out", "/tmp/never.html"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give --release DIGEST, or --env ENV --since DATE"), "{err}");
    let (code, _, err) = run(&["report", "--release", "abc", "--env", "dev", "--out", "/tmp/never.html"]);
    assert_eq!(code, 2, "{err}");
}
