//! The shared s3-bucket module's controls cannot be switched off by a caller: each test edits
//! the module's example (modules/s3-bucket/examples/basic) the way a caller trying to get
//! around a control would, renders it offline with the provider schema, and expects the
//! module's own validation or precondition to refuse it.
mod common;
use common::copy_dir;

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

const EXAMPLE: &str = "modules/s3-bucket/examples/basic/main.tf";


/// Render the example with `from` replaced by `to` (which must occur once).
fn render_with(from: &str, to: &str) -> Result<serde_json::Value, String> {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("modules/s3-bucket"), &tmp.path().join("modules/s3-bucket"));
    let main = tmp.path().join(EXAMPLE);
    let text = std::fs::read_to_string(&main).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{EXAMPLE}: {from:?} must occur once");
    std::fs::write(&main, text.replace(from, to)).unwrap();
    // The provider schema is the repository's; the tree rendered (and confined to) is the copy.
    let opts = tfrender::RenderOptions { within: Some(tmp.path().to_path_buf()), ..lz_schema::render_options(&root(), Vec::new()).unwrap() };
    tfrender::render_dir(main.parent().unwrap(), &opts).map_err(|e| e.to_string())
}

fn refused(from: &str, to: &str, says: &str) {
    match render_with(from, to) {
        Ok(_) => panic!("{from:?} -> {to:?} rendered; the module must refuse it"),
        Err(e) => assert!(e.contains(says), "{from:?} -> {to:?}: the error does not say {says:?}:\n{e}"),
    }
}

fn policy_of(plan: &serde_json::Value) -> serde_json::Value {
    let rc = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "module.bucket.aws_s3_bucket_policy.this")
        .expect("the example has a bucket policy");
    serde_json::from_str(rc["change"]["after"]["policy"].as_str().expect("the policy is known at plan time")).unwrap()
}

#[test]
fn the_tls_statements_come_first_whatever_the_caller_adds() {
    let plan = render_with("Sid       = \"DenyUnencryptedUploads\"", "Sid       = \"DenyUnencryptedUploads\"").unwrap();
    let sids: Vec<_> = policy_of(&plan)["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap().to_string()).collect();
    assert_eq!(sids, ["DenyInsecureTransport", "DenyOutdatedTls", "DenyUnencryptedUploads"]);
}

#[test]
fn an_allow_for_everyone_is_refused() {
    refused(
        "Effect    = \"Deny\"\n      Principal = \"*\"\n      Action    = \"s3:PutObject\"",
        "Effect    = \"Allow\"\n      Principal = \"*\"\n      Action    = \"s3:PutObject\"",
        "no Allow for the principal",
    );
}

#[test]
fn a_statement_cannot_take_the_sid_of_a_tls_statement() {
    refused("Sid       = \"DenyUnencryptedUploads\"", "Sid       = \"DenyOutdatedTls\"", "other than DenyInsecureTransport and DenyOutdatedTls");
}

#[test]
fn a_bucket_cannot_drop_kms_or_logging_by_calling_itself_a_log_destination() {
    // Claiming to be a log destination while keeping a key: refused.
    refused("  name              = \"lz-prod-reports-111111111111\"\n", "  name              = \"lz-prod-reports-111111111111\"\n  log_destination   = true\n", "A server access log destination");
    // Dropping the access log bucket without being a log destination: refused.
    refused("  access_log_bucket = \"lz-prod-access-logs-111111111111\"\n", "", "every other bucket needs both");
    // Dropping the key without being a log destination: refused.
    refused("  kms_key_arn       = \"arn:aws:kms:eu-west-2:111111111111:alias/prod-reports\"\n", "", "every other bucket needs both");
}

#[test]
fn a_key_of_another_account_or_region_is_refused() {
    let key = "arn:aws:kms:eu-west-2:111111111111:alias/prod-reports";
    refused(key, "arn:aws:kms:eu-west-2:999999999999:alias/prod-reports", "partition, region and account");
    refused(key, "arn:aws:kms:us-east-1:111111111111:alias/prod-reports", "partition, region and account");
}

#[test]
fn object_lock_takes_only_the_two_modes_and_whole_days() {
    refused("mode = \"COMPLIANCE\"", "mode = \"NONE\"", "COMPLIANCE or GOVERNANCE");
    refused("mode = \"COMPLIANCE\"\n    days = 400", "mode = \"COMPLIANCE\"\n    days = 0.5", "whole number of days");
}

#[test]
fn noncurrent_versions_always_expire() {
    refused("    noncurrent_expiration_days = 400\n", "", "noncurrent_expiration_days");
}
