//! A drift check whose Terraform plan fails on a held state lock still reports the drift the
//! other checks found (issue 28, item 7): `drift::Incomplete` carries the findings and the
//! plan's failure, which `lz_platform::errsum` summarises on one line naming the lock's holder.

mod common;

use common::{open_time, promote_through, release, sandbox};

#[test]
fn a_held_state_lock_does_not_hide_the_bucket_drift() {
    let (_d, sb) = sandbox("drift-lock");
    let now = open_time();
    let release = release(&sb, "drift-lock", &now);
    promote_through(&sb, &release, &["dev"], &now);
    let t = sb.target("dev").unwrap();
    let backend = t.backend();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let rt = lz_platform::aws::runtime().unwrap();
    const LOCK_ID: &str = "5a3e07c1-0b8d-6f5e-bd43-cd7b0d5b4d2a";
    rt.block_on(async {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        // Someone suspends versioning of dev's state bucket, and a crashed run left its lock.
        s3.put_bucket_versioning()
            .bucket(&t.state_bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build())
            .send()
            .await
            .unwrap();
        let lock = serde_json::json!({
            "ID": LOCK_ID, "Operation": "OperationTypeApply", "Info": "", "Who": "runner@elsewhere",
            "Version": "1.11.4", "Created": "2026-11-28T11:00:00Z", "Path": format!("{}/{}", backend.bucket, backend.key),
        });
        s3.put_object()
            .bucket(&backend.bucket)
            .key(backend.lock_key())
            .body(serde_json::to_vec(&lock).unwrap().into())
            .send()
            .await
            .unwrap();
    });
    let records_before = sb.ledger().unwrap().records().unwrap().len();
    let err = sb.drift("dev", &now).expect_err("the plan cannot take the lock");
    let incomplete = err.downcast_ref::<lz_operate::drift::Incomplete>().unwrap_or_else(|| panic!("not Incomplete: {err:#}"));
    assert_eq!(incomplete.findings.len(), 1, "{:?}", incomplete.findings);
    let f = &incomplete.findings[0];
    assert_eq!((f.resource.as_str(), f.attribute.as_str(), f.actual.as_str()), (format!("s3://{}", t.state_bucket).as_str(), "versioning", "Suspended"));
    let text = lz_operate::drift::render_incomplete(incomplete);
    assert!(text.contains("dev: DRIFT") && text.contains("versioning: declared Enabled, actual Suspended") && text.contains("canary state: NOT CHECKED"), "{text}");
    // The drift the checks that ran found is recorded (drifted=true), so the gate holds the
    // next environment's promotion although the canary state was not judged.
    let records = sb.ledger().unwrap().records().unwrap();
    assert_eq!(records.len(), records_before + 1, "one drift record for the drift found");
    let rec = records.last().unwrap();
    assert_eq!(Some(rec.sequence), incomplete.record, "the error names the record");
    let d = rec.details.drift().expect("a drift record");
    assert_eq!((d.drifted, d.terraform_changes), (Some(true), None), "drifted, the canary not judged");
    assert!(text.contains(&format!("recorded as drift record {}", rec.sequence)), "{text}");
    // On one line: what failed, the lock, and the command that releases it.
    let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
    let line = lz_platform::errsum::summarise(&chain).unwrap_or_else(|| panic!("not summarised: {err:#}")).line();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("drift of dev: the canary state was not checked (1 finding(s)"), "{line}");
    assert!(line.contains("the Terraform state is locked by another run") && line.contains(&format!("--recover")) && line.contains(&format!("releases lock {LOCK_ID}")), "{line}");
}
