//! The S3 store against LocalStack: records are immutable under COMPLIANCE Object Lock.

mod common;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
use common::*;
use lz_evidence::record::DriftEvidence;
use lz_evidence::{verify, EvidenceArchive, S3Store, Store};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn client() -> aws_sdk_s3::Client {
    let endpoint = lz_platform::localstack::require(&root()).expect("LocalStack");
    lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1")
}

fn store(prefix: &str) -> S3Store {
    let client = client();
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let s = S3Store::new(client, &format!("lz-evidence-test-{nonce}"), prefix, 1).unwrap();
    s.ensure_bucket().unwrap();
    s
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_chain_in_s3_verifies_and_continues_after_reopening() {
    let t = team();
    let s = store("chains/main/");
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let release = digest("r");
    promote(&mut a, &t, &release, "CHG-1", &["aws_s3_bucket.logs"]);
    let s = a.into_store();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    assert_eq!(a.next_sequence(), 8);
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let s = a.into_store();
    let records = s.load().unwrap();
    assert_eq!(records.len(), 9);
    assert!(records[3].location.ends_with("chains/main/records/000000000003.json"), "{}", records[3].location);
    let cp = s.checkpoint().unwrap().unwrap();
    assert_eq!(cp.sequence, 8);
    let report = verify(&records, Some(&cp), &t.identities).unwrap();
    assert!(report.ok(), "{:?}", report.failure);
}

#[test]
fn stored_records_cannot_be_deleted_overwritten_or_unlocked() {
    let t = team();
    let s = store("");
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let release = digest("r");
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec!["x.y".into()]), &t.deployer).unwrap();
    let mut s = a.into_store();
    // Its own client: pooled connections belong to the runtime that opened them.
    let (client, bucket, key) = (client(), s.bucket().to_string(), s.record_key(0));
    let original = s.load().unwrap()[0].bytes.clone();

    // A second writer of an existing sequence is refused (If-None-Match).
    let cp = s.checkpoint().unwrap().unwrap();
    let err = s.append(0, "ignored", &[b"{}".to_vec()], &cp).unwrap_err();
    assert!(format!("{err:#}").contains("records/000000000000.json"), "{err:#}");

    rt().block_on(async {
        let head = client.head_object().bucket(&bucket).key(&key).send().await.unwrap();
        assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("COMPLIANCE"));
        let version = head.version_id().expect("versioned bucket").to_string();

        // Deleting the locked version is refused, with or without the governance bypass.
        let del = client.delete_object().bucket(&bucket).key(&key).version_id(&version).send().await;
        assert!(del.is_err(), "deleting a COMPLIANCE-locked version succeeded");
        let del = client.delete_object().bucket(&bucket).key(&key).version_id(&version).bypass_governance_retention(true).send().await;
        assert!(del.is_err(), "bypassing governance deleted a COMPLIANCE-locked version");

        // Shortening COMPLIANCE retention (to one hour from now, from one day) is refused.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let earlier = ObjectLockRetention::builder()
            .mode(ObjectLockRetentionMode::Compliance)
            .retain_until_date(DateTime::from_secs(now + 3600))
            .build();
        let shorten = client.put_object_retention().bucket(&bucket).key(&key).version_id(&version).retention(earlier).send().await;
        assert!(shorten.is_err(), "COMPLIANCE retention was shortened");
        let governance = ObjectLockRetention::builder()
            .mode(ObjectLockRetentionMode::Governance)
            .retain_until_date(DateTime::from_secs(4_000_000_000))
            .build();
        let downgrade =
            client.put_object_retention().bucket(&bucket).key(&key).version_id(&version).retention(governance).send().await;
        assert!(downgrade.is_err(), "COMPLIANCE was downgraded to GOVERNANCE");

        // A plain overwrite only adds a version; the original stays readable and verification
        // of the latest versions exposes the change.
        client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(b"{}".to_vec())).send().await.ok();
        let kept = client.get_object().bucket(&bucket).key(&key).version_id(&version).send().await.unwrap();
        assert_eq!(kept.body.collect().await.unwrap().into_bytes().to_vec(), original);
    });
    let records = s.load().unwrap();
    match verify(&records, s.checkpoint().unwrap().as_ref(), &t.identities) {
        Ok(r) => assert!(!r.ok(), "an overwritten record went unnoticed"),
        Err(e) => assert!(format!("{e:#}").contains("records/000000000000.json"), "{e:#}"),
    }
}
