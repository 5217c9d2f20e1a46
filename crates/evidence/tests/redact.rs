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
