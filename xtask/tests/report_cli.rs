//! `cargo xtask exceptions export` and `cargo xtask report` on the command line: exit codes,
//! formats and errors. The register is a fixture of this test (never the live register).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{checkout, ok, xtask};

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
owner = "priya-raman"
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
    // Expired, and (the export reads the identities register too) its approver is nobody registered.
    assert!(out.contains("CLI-OLD,expired,\"expired on 2020-03-01; names approver \"\"approver-b\"\", who is not a registered identity\",LZ-S3-003"), "{out}");
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

/// Through the shipped binary on a rehearsal checkout: the report of a published, approved
/// release exits 0; after a second version of a record object appears in the evidence store, the
/// same command writes the red banner and exits 1.
#[test]
fn report_exits_0_on_a_verified_chain_and_1_with_the_red_banner_on_a_tampered_one() {
    let dir = tempfile::Builder::new().prefix("lz-report-cli-").tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let d = dir.path();
    checkout(d, keys.path());
    let key = |who: &str| keys.path().join(format!("{who}.key")).display().to_string();
    ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &key("bob")]);
    let gh = d.join("github-output");
    ok(d, &["release", "build", "--author", "alice", "--ticket", "CHG-77", "--reason", "report cli", "--allow-dirty", "--github-output", &gh.display().to_string()]);
    let digest = std::fs::read_to_string(&gh).unwrap().trim().strip_prefix("digest=").unwrap().to_string();
    ok(d, &["release", "publish", "--release", &digest, "--as", "alice", "--key", &key("alice")]);
    ok(d, &["bootstrap", "--env", "dev", "--pin", &digest, "--as", "bob", "--key", &key("bob")]);
    ok(d, &["approve", "--release", &digest, "--env", "dev", "--as", "bob", "--key", &key("bob"), "--reason", "reviewed"]);

    let page = d.join("out/custody.html");
    let out = ok(d, &["report", "--release", &digest[..12], "--out", &page.display().to_string()]);
    assert!(out.contains("records of custody"), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("data-verified=\"true\"") && html.contains("CHG-77") && html.contains(&digest));
    assert!(html.contains("href=\"custody.exceptions.html\""));
    assert!(d.join("out/custody.exceptions.html").is_file());

    let period = d.join("out/dev.html");
    ok(d, &["report", "--env", "dev", "--since", "2020-01-01", "--out", &period.display().to_string()]);
    let html = std::fs::read_to_string(&period).unwrap();
    assert!(html.contains(&digest) && html.contains("id=\"env-dev-"), "the period report shows the release in dev");
    let (code, _, err) = xtask(d, &["report", "--env", "nowhere", "--since", "2020-01-01", "--out", &period.display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown environment \"nowhere\""), "{err}");

    // A second version of record 1's object: a foreign object. The chain reads the key's first
    // version and still verifies; the report flags the object and exits 1.
    let endpoint = lz_platform::localstack::require(&root()).unwrap();
    let stores = lz_promote::stores::Stores::load(d, &endpoint).unwrap();
    let store = stores.evidence().unwrap();
    let c = stores.s3().unwrap();
    lz_platform::aws::runtime().unwrap().block_on(async {
        let key = store.record_key(1);
        let body = c.get_object().bucket(&stores.evidence_bucket).key(&key).send().await.unwrap().body.collect().await.unwrap().into_bytes();
        let altered = String::from_utf8_lossy(&body).replace("\"payload\":\"", "\"payload\":\"AA");
        c.put_object()
            .bucket(&stores.evidence_bucket)
            .key(&key)
            .body(lz_evidence::aws_sdk_s3::primitives::ByteStream::from(altered.into_bytes()))
            .send()
            .await
            .unwrap();
    });
    let (code, out, err) = xtask(d, &["report", "--release", &digest[..12], "--out", &page.display().to_string()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.starts_with("FOREIGN: ") && out.contains("records/"), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("data-verified=\"true\"") && html.contains("data-foreign=\"1\"") && html.contains("CHG-77"), "the chain is shown, the object flagged");

    // A delete marker over record 2: the store no longer vouches for the chain.
    lz_platform::aws::runtime().unwrap().block_on(async {
        c.delete_object().bucket(&stores.evidence_bucket).key(store.record_key(2)).send().await.unwrap();
    });
    let (code, out, err) = xtask(d, &["report", "--release", &digest[..12], "--out", &page.display().to_string()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.starts_with("TAMPERED: "), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("data-verified=\"false\"") && html.contains("EVIDENCE FAILED VERIFICATION"));
    assert!(!html.contains("CHG-77"), "nothing from the chain is shown");
}
