//! Redaction of plan JSON, case by case.

use lz_evidence::redact::redact_plan;
use serde_json::{json, Value};

struct Case {
    name: &'static str,
    plan: fn() -> Value,
    /// JSON pointer into the redacted plan and the value expected there.
    expect: &'static [(&'static str, &'static str)],
}

const R: &str = "\"(redacted)\"";

const CASES: &[Case] = &[
    Case {
        name: "after_sensitive nested in a list",
        plan: || json!({"resource_changes": [{"address": "a.b", "change": {"actions": ["update"],
            "before": {"rules": [{"k": "old"}, {"k": "x"}]}, "before_sensitive": {"rules": [{"k": true}, {}]},
            "after": {"rules": [{"k": "new"}, {"k": "y"}]}, "after_sensitive": {"rules": [{}, {"k": true}]}}}]}),
        expect: &[
            ("/resource_changes/0/change/before/rules/0/k", R),
            ("/resource_changes/0/change/before/rules/1/k", "\"x\""),
            ("/resource_changes/0/change/after/rules/0/k", "\"new\""),
            ("/resource_changes/0/change/after/rules/1/k", R),
        ],
    },
    Case {
        name: "whole value sensitive",
        plan: || json!({"resource_changes": [{"address": "a.b", "change": {"after": {"v": 1}, "after_sensitive": true}}]}),
        expect: &[("/resource_changes/0/change/after", R)],
    },
    Case {
        name: "planned values and child modules",
        plan: || json!({"planned_values": {"root_module": {"resources": [], "child_modules": [{"resources": [
            {"address": "module.m.x.y", "values": {"arn": "arn:1", "body": "s3cr3t"}, "sensitive_values": {"body": true}}]}]}}}),
        expect: &[
            ("/planned_values/root_module/child_modules/0/resources/0/values/body", R),
            ("/planned_values/root_module/child_modules/0/resources/0/values/arn", "\"arn:1\""),
        ],
    },
    Case {
        name: "prior state",
        plan: || json!({"prior_state": {"values": {"root_module": {"resources": [
            {"values": {"body": "s3cr3t"}, "sensitive_values": {"body": true}}]}}}}),
        expect: &[("/prior_state/values/root_module/resources/0/values/body", R)],
    },
    Case {
        name: "sensitive outputs",
        plan: || json!({"output_changes": {"conn": {"before": null, "after": "pw", "sensitive": true}, "id": {"after": "i-1"}},
                        "planned_values": {"outputs": {"conn": {"value": "pw", "sensitive": true}}}}),
        expect: &[
            ("/output_changes/conn/after", R),
            ("/output_changes/conn/before", "null"),
            ("/output_changes/id/after", "\"i-1\""),
            ("/planned_values/outputs/conn/value", R),
        ],
    },
    Case {
        name: "sensitive and secret-named variables",
        plan: || json!({"variables": {"db": {"value": "x"}, "api_token": {"value": "t"}, "region": {"value": "eu-west-2"}},
                        "configuration": {"root_module": {"variables": {"db": {"sensitive": true, "default": "x"}}}}}),
        expect: &[("/variables/db/value", R), ("/variables/api_token", R), ("/variables/region/value", "\"eu-west-2\"")],
    },
    Case {
        name: "secret-like attribute names at any depth",
        plan: || json!({"resource_changes": [{"change": {"after": {"Password": "p", "conf": {"client_secret": "s", "secret_enabled": true,
            "token_ttl": 60, "n": [{"access_token": "t"}]}, "kms_key_id": "k"}}}]}),
        expect: &[
            ("/resource_changes/0/change/after/Password", R),
            ("/resource_changes/0/change/after/conf/client_secret", R),
            ("/resource_changes/0/change/after/conf/secret_enabled", "true"),
            ("/resource_changes/0/change/after/conf/token_ttl", R),
            ("/resource_changes/0/change/after/conf/n/0/access_token", R),
            ("/resource_changes/0/change/after/kms_key_id", "\"k\""),
        ],
    },
    Case {
        name: "configuration is dropped",
        plan: || json!({"configuration": {"provider_config": {}}, "format_version": "1.2"}),
        expect: &[("/configuration", "absent"), ("/format_version", "\"1.2\"")],
    },
];

#[test]
fn redaction_cases() {
    let mut failures = vec![];
    for c in CASES {
        let out = redact_plan(&(c.plan)());
        for (ptr, want) in c.expect {
            let got = out.pointer(ptr).map(|v| v.to_string()).unwrap_or_else(|| "absent".into());
            if got != *want {
                failures.push(format!("{}: {ptr} = {got}, want {want}", c.name));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// An AWS access key id and a PEM private key under innocent names (a description, a tag, a
/// list element) never reach the signed, undeletable archive: the archive's redactor applies
/// the secret scan's patterns (`lz_repo::patterns`) to every string value.
#[test]
fn keys_under_innocent_names_are_redacted_in_the_record() {
    use lz_evidence::record::PlanEvidence;
    use lz_evidence::{EvidenceArchive, Identities, LocalStore, Signer, Store};
    let key = "AKIAIOSFODNN7EXAMPLE";
    // A PEM-shaped block assembled here (no key material is stored in the repository).
    let armour = |edge: &str| format!("-----{edge} RSA PRIVATE KEY-----");
    let pem = format!("{}\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n{}", armour("BEGIN"), armour("END"));
    let plan = json!({
        "format_version": "1.2",
        "variables": {"region": {"value": "eu-west-2"}, "notes": {"value": format!("rotate {key} soon")}},
        "resource_changes": [{"address": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "name": "logs", "mode": "managed",
            "change": {"actions": ["create"], "before": null,
                "after": {"bucket": "logs", "tags": {"Description": format!("uses {key}")}, "user_data": [pem]},
                "after_unknown": {}}}]
    });
    let redacted = redact_plan(&plan);
    let text = redacted.to_string();
    assert!(!text.contains(key) && !text.contains("MIIBOgIBAAJBAKj34"), "{text}");
    assert_eq!(redacted.pointer("/resource_changes/0/change/after/tags/Description").unwrap(), "uses (redacted)");
    assert_eq!(redacted.pointer("/resource_changes/0/change/after/user_data/0").unwrap(), "(redacted)");
    assert_eq!(redacted.pointer("/resource_changes/0/change/after/bucket").unwrap(), "logs");

    // And in the record the archive signs.
    let signing = lz_evidence::identity::generate_key();
    let register = format!(
        "[identity.deploy-bot]\nname = \"d\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n",
        lz_evidence::identity::encode_public_key(&signing.verifying_key())
    );
    let dir = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("c.jsonl")), Identities::parse(&register, "r").unwrap()).unwrap();
    let bytes = serde_json::to_vec(&plan).unwrap();
    let release = lz_evidence::dsse::sha256_hex(b"r");
    let p = PlanEvidence::from_bytes(&release, "dev", "111111111111", &bytes).unwrap();
    a.record(p, &Signer::new("deploy-bot", signing)).unwrap();
    let stored = String::from_utf8(a.store().load().unwrap()[0].bytes.to_vec()).unwrap();
    let payload = serde_json::from_slice::<Value>(&base64_payload(&stored)).unwrap().to_string();
    assert!(payload.contains("(redacted)"), "{payload}");
    assert!(!payload.contains(key) && !payload.contains("MIIBOgIBAAJBAKj34"), "{payload}");
}

fn base64_payload(envelope: &str) -> Vec<u8> {
    use base64::Engine as _;
    let env: Value = serde_json::from_str(envelope).unwrap();
    base64::engine::general_purpose::STANDARD.decode(env["payload"].as_str().unwrap()).unwrap()
}
