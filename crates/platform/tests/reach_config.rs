//! `lz_platform::reach` honours the landing zone's `governance/aws.toml` (installed with
//! `reach::configure`, as `cargo xtask` does at start): a profile's `ca_file` is what every
//! client at that endpoint trusts (LocalStack's TLS endpoint, refused without it), and the
//! configured `environment_role` is the role assumed in an environment's account. One test: the
//! configuration is the process's. Needs LocalStack (`cargo xtask test` starts it); otherwise
//! this fails loudly.

use std::path::PathBuf;

use lz_platform::{aws, localstack, overlays, reach};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write_config(dir: &std::path::Path, text: &str) {
    std::fs::create_dir_all(dir.join("governance")).unwrap();
    std::fs::write(dir.join(lz_platform::aws_setup::PROFILES_FILE), text).unwrap();
}

#[test]
fn reach_honours_the_ca_file_and_the_environment_role_of_governance_aws_toml() {
    let root = root();
    let endpoint = localstack::require(&root).expect("LocalStack is required");
    let ca = localstack::tls_certificate(&root).expect("LocalStack's TLS certificate (server.test.pem.crt in its cache directory)");
    let dev = overlays::env_file(&root, "dev").unwrap();
    let pid = std::process::id();
    let role = format!("lzt-dev-ops{pid}");
    aws::runtime()
        .unwrap()
        .block_on(
            aws::iam(&endpoint, aws::account_credentials(&dev.account_id), &dev.region)
                .create_role()
                .role_name(&role)
                .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*"}}]}"#)
                .send(),
        )
        .unwrap();
    reach::set_run(&format!("cfg-{pid}"));
    let tls = localstack::TLS_ENDPOINT;

    // Without a profile naming the certificate, the TLS endpoint is verified against the
    // system's roots only, and refused.
    let plain = tempfile::tempdir().unwrap();
    write_config(plain.path(), &format!("environment_role = \"lzt-{{env}}-ops{pid}\"\n[profile.aws]\n"));
    reach::configure(plain.path()).unwrap();
    assert_eq!(reach::deployer_role("dev"), role, "the configured environment_role names the role");
    let e = reach::account(tls, &dev.account_id, &dev.region, &reach::deployer_role("dev"), &reach::session("dev")).err().expect("an untrusted certificate is refused");
    let text = format!("{e:#}");
    assert!(text.contains("UnknownIssuer") || text.to_lowercase().contains("certificate"), "{text}");

    // The profile at that endpoint names LocalStack's certificate: trusted, and the caller is
    // the configured role in the environment's account, named after the run.
    let with_ca = tempfile::tempdir().unwrap();
    write_config(
        with_ca.path(),
        &format!("environment_role = \"lzt-{{env}}-ops{pid}\"\n[profile.aws]\n[profile.localstack-tls]\nendpoint = \"{tls}\"\nca_file = \"{}\"\n", ca.display()),
    );
    reach::configure(with_ca.path()).unwrap();
    assert_eq!(reach::profile_of(tls).unwrap().ca_file.as_deref(), Some(ca.as_path()));
    let a = reach::account(tls, &dev.account_id, &dev.region, &reach::deployer_role("dev"), &reach::session("dev")).unwrap_or_else(|e| panic!("{e:#}"));
    let (account, arn) = aws::runtime().unwrap().block_on(a.caller()).unwrap();
    assert_eq!(account, dev.account_id);
    assert_eq!(arn, format!("arn:aws:sts::{}:assumed-role/{role}/lz-dev-cfg-{pid}", dev.account_id));
    // The clients built from it speak TLS with the same trust (S3 here).
    aws::runtime().unwrap().block_on(a.s3().list_buckets().send()).unwrap_or_else(|e| panic!("{}", aws_sdk_s3::error::DisplayErrorContext(e)));

    // Without the file the defaults apply; a malformed one is an error naming file and line.
    let none = tempfile::tempdir().unwrap();
    reach::configure(none.path()).unwrap();
    assert_eq!(reach::deployer_role("dev"), "lz-dev-deployer");
    write_config(none.path(), "[profile.x]\nendpoint = \"http://example.com\"\n");
    let e = reach::configure(none.path()).unwrap_err();
    assert!(format!("{e:#}").contains("aws.toml:2"), "{e:#}");
}

/// No shipped source names an environment's role by hand: every client takes it from
/// `reach::deployer_role` (the configured `environment_role`), whose default lives in
/// `reach.rs` and `aws_setup.rs` only.
#[test]
fn no_shipped_source_names_the_environment_role_by_hand() {
    let root = root();
    let by_hand = regex::Regex::new(r#"format!\("lz-\{env\}-deployer"\)|"lz-\{env\}-deployer""#).unwrap();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates")).unwrap().map(|e| e.unwrap().path().join("src")).collect();
    dirs.push(root.join("xtask/src"));
    let mut found = Vec::new();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        for f in walkdir::WalkDir::new(&dir).into_iter().map(|e| e.unwrap()).filter(|e| e.path().extension().is_some_and(|x| x == "rs")) {
            if f.path().ends_with("platform/src/reach.rs") || f.path().ends_with("platform/src/aws_setup.rs") {
                continue;
            }
            let text = std::fs::read_to_string(f.path()).unwrap();
            for (i, line) in text.lines().enumerate().filter(|(_, l)| by_hand.is_match(l)) {
                found.push(format!("{}:{}: {}", f.path().display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "roles named by hand instead of lz_platform::reach::deployer_role:\n{}", found.join("\n"));
    assert!(by_hand.is_match(r#"deployer_role: format!("lz-{env}-deployer"),"#), "the guard finds what it looks for");
}
