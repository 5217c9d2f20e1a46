//! Secret scanning of overlays and module sources, as a case table of single lines.
use lz_policy::scan::{scan_text, ACCESS_KEY_RULE, ENTROPY_RULE, PRIVATE_KEY_RULE};

const CASES: &[(&str, Option<&str>)] = &[
    (
        "access_key = \"AKIAIOSFODNN7EXAMPLE\"",
        Some(ACCESS_KEY_RULE),
    ),
    (
        "  # ASIAY34FZKBOKMUTVV7A in a comment",
        Some(ACCESS_KEY_RULE),
    ),
    // Key headers are assembled so that no key marker stands in the repository itself.
    (concat!("-----BEGIN RSA ", "PRIVATE KEY-----"), Some(PRIVATE_KEY_RULE)),
    (
        concat!("-----BEGIN OPENSSH ", "PRIVATE KEY-----"),
        Some(PRIVATE_KEY_RULE),
    ),
    ("db_password = \"x9Kq2mPz7Lw4Rt8Vn3Bc\"", Some(ENTROPY_RULE)),
    (
        "  api_token   = \"ghp_9a8B7c6D5e4F3g2H1i0J\"",
        Some(ENTROPY_RULE),
    ),
    ("db_password = \"changeme\"", None),
    ("db_password = var.db_password", None),
    ("secret_name = \"lz-prod-db-credentials\"", None),
    ("github_token_audience = \"sts.amazonaws.com\"", None),
    ("client_secret = \"${var.client_secret}\"", None),
    (
        "kms_key_arn = \"arn:aws:kms:eu-west-2:111111111111:alias/lz-logs\"",
        None,
    ),
    ("role = \"AROAEXAMPLE\"", None),
];

#[test]
fn scan_cases() {
    for (line, want) in CASES {
        let findings = scan_text("environments/dev/terraform.tfvars", line);
        let got: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
        match want {
            Some(rule) => assert_eq!(got, vec![*rule], "{line}"),
            None => assert!(got.is_empty(), "{line}: {got:?}"),
        }
        for f in &findings {
            assert_eq!(f.address, "environments/dev/terraform.tfvars:1");
            for secret in [
                "IOSFODNN7EXAMPLE",
                "x9Kq2mPz7Lw4Rt8Vn3Bc",
                "9a8B7c6D5e4F3g2H1i0J",
                "Y34FZKBOKMUTVV7A",
            ] {
                assert!(!f.message.contains(secret), "{line}: {}", f.message);
            }
        }
    }
}

#[test]
fn scan_secrets_walks_overlays_and_modules() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("environments/dev");
    let module = dir.path().join("modules/app");
    std::fs::create_dir_all(&env).unwrap();
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        env.join("terraform.tfvars"),
        "region = \"eu-west-2\"\n\naccess = \"AKIAIOSFODNN7EXAMPLE\"\n",
    )
    .unwrap();
    std::fs::write(
        module.join("main.tf"),
        "locals {\n  admin_password = \"x9Kq2mPz7Lw4Rt8Vn3Bc\"\n}\n",
    )
    .unwrap();
    std::fs::write(module.join("README.md"), "AKIAIOSFODNN7EXAMPLE\n").unwrap();
    let mut got: Vec<(String, String)> = lz_policy::scan_secrets(dir.path())
        .unwrap()
        .into_iter()
        .map(|f| (f.rule_id, f.address))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                ACCESS_KEY_RULE.to_string(),
                "environments/dev/terraform.tfvars:3".to_string()
            ),
            (
                ENTROPY_RULE.to_string(),
                "modules/app/main.tf:2".to_string()
            ),
        ]
    );
}

#[test]
fn repository_sources_hold_no_secrets() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let findings = lz_policy::scan_secrets(&root).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn scan_and_redaction_share_one_set_of_secret_names() {
    for name in lz_policy::patterns::SECRET_NAMES {
        let line = format!("db_{name} = \"Zq8w3Rt6Yp1Lk4Jh7Gf2\"");
        let found: Vec<String> = scan_text("modules/x/main.tf", &line)
            .into_iter()
            .map(|f| f.rule_id)
            .collect();
        assert_eq!(found, vec![ENTROPY_RULE.to_string()], "{line}");
        let redacted = lz_policy::redact::redact_str(&line);
        assert!(!redacted.contains("Zq8w3Rt6Yp1Lk4Jh7Gf2"), "{redacted}");
        assert!(lz_policy::redact::is_secret_name(&format!("db_{name}")), "{name}");
    }
}
