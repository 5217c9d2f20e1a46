//! Safe drift remediation against LocalStack: a removed tag and suspended versioning on a
//! landing-zone bucket are restored with the deployer's credentials and recorded; the same drift
//! within a day is escalated, not reverted again; a changed bucket policy is never touched and
//! fails naming its owner.

mod common;

use aws_sdk_s3::types::{BucketVersioningStatus, Tag, Tagging, VersioningConfiguration};
use lz_evidence::record::Kind;
use lz_promote::clock::Clock;
use lz_operate::remediate::{self, Outcome};
use lz_operate::sandbox::Sandbox;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{endpoint, root};

fn at(t: &str) -> Clock {
    Clock::Fixed(OffsetDateTime::parse(t, &Rfc3339).unwrap())
}

/// A release deployed to dev (sandbox-named buckets, so runs never meet).
fn deployed_dev(name: &str) -> (tempfile::TempDir, Sandbox) {
    let endpoint = endpoint();
    let dir = tempfile::Builder::new().prefix(&format!("lz-remediate-{name}-")).tempdir().unwrap();
    let sb = Sandbox::new(&root(), &endpoint, dir.path()).unwrap();
    let clock = at("2026-11-28T12:00:00Z");
    let r = sb.release(name, "alice", &clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, &clock).unwrap();
    sb.pin("dev", &r, &clock).unwrap();
    sb.bootstrap("dev", &r).unwrap();
    sb.approve("bob", &r, "dev", &clock).unwrap();
    sb.approve("erin", &r, "dev", &clock).unwrap();
    sb.promote(&r, "dev", "deployer-bot", &clock, 0).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(!sb.drift("dev", &clock).unwrap().drifted(), "clean after the deployment");
    (dir, sb)
}

/// The dev account's S3 client (an insider or a console click, not the deployer).
fn s3(sb: &Sandbox) -> aws_sdk_s3::Client {
    let t = sb.target("dev").unwrap();
    lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region)
}

fn remediate(sb: &Sandbox, clock: &Clock) -> Outcome {
    let t = sb.target("dev").unwrap();
    remediate::remediate(&sb.paths, &t, &sb.names("dev"), sb.signer("deployer-bot"), &clock.now().unwrap()).unwrap()
}

/// Drops tag `key` and suspends versioning on `bucket`.
fn tamper_tag_and_versioning(sb: &Sandbox, bucket: &str, key: &str) {
    let c = s3(sb);
    lz_platform::aws::runtime().unwrap().block_on(async {
        let tags = c.get_bucket_tagging().bucket(bucket).send().await.unwrap();
        let kept: Vec<Tag> = tags.tag_set().iter().filter(|t| t.key() != key).cloned().collect();
        assert!(kept.len() < tags.tag_set().len(), "{bucket} carries tag {key}");
        c.put_bucket_tagging()
            .bucket(bucket)
            .tagging(Tagging::builder().set_tag_set(Some(kept)).build().unwrap())
            .send()
            .await
            .unwrap();
        c.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build())
            .send()
            .await
            .unwrap();
    });
}

fn attrs(items: &[remediate::Item]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|i| format!("{} {}", i.resource, i.attribute)).collect();
    v.sort();
    v
}

#[test]
fn a_removed_tag_and_suspended_versioning_are_restored_recorded_and_escalated_when_they_return() {
    let (_d, sb) = deployed_dev("auto");
    let bucket = sb.names("dev").state_bucket.unwrap();
    let res = format!("s3://{bucket}");
    tamper_tag_and_versioning(&sb, &bucket, "CostCentre");

    let first = remediate(&sb, &at("2026-11-28T13:00:00Z"));
    assert!(first.drift.is_some());
    assert!(!first.recheck.as_ref().unwrap().drifted(), "the recorded re-check is clean");
    assert_eq!(
        attrs(&first.remediated),
        [format!("{res} tags.CostCentre"), format!("{res} versioning")],
        "{first:#?}"
    );
    assert!(first.manual.is_empty() && first.escalated.is_empty() && first.still_drifted.is_empty(), "{first:#?}");
    assert!(first.ok());
    assert_eq!(first.outcome, "remediated");
    assert!(!sb.drift("dev", &at("2026-11-28T13:05:00Z")).unwrap().drifted(), "restored for real");

    // Both the drift and the remediation are verified records of the chain.
    let records = sb.ledger().unwrap().records().unwrap();
    let rec = records.iter().find(|r| Some(r.sequence) == first.record).expect("remediation record");
    assert_eq!(rec.kind, Kind::DriftRemediation);
    assert_eq!(rec.identity, "deployer-bot");
    let rd = rec.details.drift_remediation().expect("remediation details");
    assert_eq!(rd.drift_record, first.drift);
    assert_eq!(rd.recheck_record, Some(first.recheck.as_ref().unwrap().record));
    assert_eq!(rd.remediated.as_ref().and_then(|r| r.as_array()).unwrap().len(), 2);
    let drift = records.iter().find(|r| Some(r.sequence) == first.drift).unwrap();
    assert_eq!(drift.kind, Kind::Drift);
    assert_eq!(drift.details.drift().and_then(|d| d.drifted), Some(true));

    // The same drift eleven hours later: escalated, not reverted again.
    tamper_tag_and_versioning(&sb, &bucket, "CostCentre");
    let again = remediate(&sb, &at("2026-11-29T00:00:00Z"));
    assert!(!again.ok());
    assert_eq!(again.outcome, "escalated");
    assert!(again.remediated.is_empty(), "{again:#?}");
    assert_eq!(attrs(&again.escalated), [format!("{res} tags.CostCentre"), format!("{res} versioning")]);
    assert!(again.escalated.iter().all(|i| i.previous_remediation == first.record));
    assert!(remediate::render_text(&again).contains("ESCALATED"));
    let versioning = lz_platform::aws::runtime()
        .unwrap()
        .block_on(async { s3(&sb).get_bucket_versioning().bucket(&bucket).send().await.unwrap() });
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Suspended), "left as found for a person");

    // More than a day after the last remediation it is restored again.
    let later = remediate(&sb, &at("2026-11-30T14:00:00Z"));
    assert_eq!(later.outcome, "remediated", "{later:#?}");
    assert!(later.ok());
}

#[test]
fn a_changed_bucket_policy_is_never_touched_and_names_its_owner() {
    let (_d, sb) = deployed_dev("manual");
    let bucket = sb.names("dev").evidence_bucket.unwrap();
    let c = s3(&sb);
    let rt = lz_platform::aws::runtime().unwrap();
    let open = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Partner","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::999999999999:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    rt.block_on(async { c.put_bucket_policy().bucket(&bucket).policy(&open).send().await.unwrap() });

    let o = remediate(&sb, &at("2026-11-28T13:00:00Z"));
    assert!(!o.ok());
    assert_eq!(o.outcome, "manual");
    assert!(o.remediated.is_empty(), "{o:#?}");
    assert_eq!(attrs(&o.manual), [format!("s3://{bucket} policy")]);
    assert_eq!(o.manual[0].class, "bucket-policy");
    assert!(o.manual[0].owner.starts_with("security"), "{}", o.manual[0].owner);
    let text = remediate::render_text(&o);
    assert!(text.contains("MANUAL") && text.contains("call security"), "{text}");
    let now = rt.block_on(async { c.get_bucket_policy().bucket(&bucket).send().await.unwrap() });
    assert_eq!(
        now.policy().map(lz_operate::controls::policy_digest),
        Some(lz_operate::controls::policy_digest(&open)),
        "the policy is left as found"
    );
    let records = sb.ledger().unwrap().records().unwrap();
    let rec = records.iter().find(|r| Some(r.sequence) == o.record).unwrap();
    let rd = rec.details.drift_remediation().expect("remediation details");
    assert_eq!(rd.outcome.as_deref(), Some("manual"));
    assert!(rd.owners.iter().flatten().any(|x| x.starts_with("security")));
}
