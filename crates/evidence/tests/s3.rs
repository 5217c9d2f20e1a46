//! The S3 store against LocalStack: records are immutable under COMPLIANCE Object Lock.

mod common;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
use common::*;
use lz_evidence::record::DriftEvidence;
use lz_evidence::{verify, verify_store, EvidenceArchive, S3Store, Store, TrustRoot};

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
    let head = s.head().unwrap().unwrap().bytes;
    let err = s.append(0, "ignored", &[b"{}".to_vec()], &head).unwrap_err();
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
    // The key's record is its first version: the chain reads it and verifies; the version
    // written over it is reported as a foreign object (issue 24: an overwrite bricks nothing).
    let records = s.load().unwrap();
    assert_eq!(records[0].bytes, original, "the chain reads the first version");
    let chain = verify_store(&s, &TrustRoot::register(t.identities.clone(), "test register"), &[]).unwrap();
    assert_eq!(chain.records.len(), 2);
    let q = chain.quarantined.iter().find(|q| q.version.is_some()).expect("the overwrite is reported");
    assert!(q.location.contains("records/000000000000.json (version "), "{q}");
    assert!(q.to_string().contains("a foreign later version"), "{q}");
}

/// The insider's S3 attack: a delete marker over the newest record and the head rewritten (and
/// re-signed with a registered key) to name the record before it. Verification of the store
/// reports the delete marker and the earlier head version that names the hidden record.
#[test]
fn a_delete_marker_and_a_rewritten_head_fail_verification() {
    let t = team();
    let s = store("");
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let release = digest("r");
    for i in 0..3 {
        a.record(DriftEvidence::new(&release, "prod", "5", vec![format!("x.y{i}")]), &t.deployer).unwrap();
    }
    let s = a.into_store();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    verify_store(&s, &root, &[]).expect("the intact chain verifies");
    let (client, bucket) = (client(), s.bucket().to_string());
    let records = s.load().unwrap();
    let hash1 = lz_evidence::dsse::sha256_hex(&records[1].bytes);
    let forged_head = lz_evidence::store::sign_checkpoint(
        &lz_evidence::Checkpoint { sequence: 1, hash: hash1, time: lz_evidence::record::now_rfc3339() },
        &t.deployer,
    ).unwrap();
    rt().block_on(async {
        client.delete_object().bucket(&bucket).key(s.record_key(2)).send().await.expect("a delete marker can be placed");
        client.put_object().bucket(&bucket).key(s.head_key()).body(ByteStream::from(forged_head)).send().await.unwrap();
    });
    assert_eq!(s.load().unwrap().len(), 2, "the newest record is hidden");
    let err = verify_store(&s, &root, &[]).expect_err("the hidden record is detected");
    let f = lz_evidence::failure_of(&err).unwrap_or_else(|| panic!("not a failure: {err:#}"));
    assert_eq!(f.reason.code(), "store-integrity", "{f}");
    assert!(f.location.ends_with("records/000000000002.json"), "{f}");
}

/// An insider hides another writer's append behind a delete marker (the record key had one
/// version, its record) and puts the old head back. The slot is not read as empty: the marked
/// key's record is read (its only version), and an archive opened on the chain verified before
/// that append is `HeadMoved`, never writing over the hidden record's slot.
#[test]
fn a_delete_marker_over_a_single_version_record_is_not_an_empty_slot() {
    let t = team();
    let s = store("");
    let release = digest("r");
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec!["x.y0".into()]), &t.deployer).unwrap();
    let s = a.into_store();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let before = verify_store(&s, &root, &[]).expect("the intact chain verifies");
    assert_eq!(before.head.as_ref().map(|h| h.0), Some(0));
    let old_head = s.head().unwrap().unwrap().bytes.to_vec();
    // Another writer appends record 1 (a single version at its key).
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec!["x.y1".into()]), &t.deployer).unwrap();
    let s = a.into_store();
    let hidden = s.load().unwrap()[1].bytes.to_vec();
    let (client, bucket) = (client(), s.bucket().to_string());
    rt().block_on(async {
        client.delete_object().bucket(&bucket).key(s.record_key(1)).send().await.expect("a delete marker can be placed");
        client.put_object().bucket(&bucket).key(s.head_key()).body(ByteStream::from(old_head.clone())).send().await.unwrap();
        let versions = client.list_object_versions().bucket(&bucket).prefix(s.record_key(1)).send().await.unwrap();
        assert_eq!(versions.versions().len(), 1, "the record key has a single version");
        assert_eq!(versions.delete_markers().len(), 1, "under a delete marker");
    });
    assert_eq!(s.head().unwrap().unwrap().bytes.to_vec(), old_head, "the head reads as before the append");

    let slots = s.slots_from(1).unwrap();
    assert_eq!(slots.len(), 1, "the marked slot is not read as empty");
    assert_eq!(slots[0].bytes.to_vec(), hidden, "it holds the hidden record");
    let cp = lz_evidence::Checkpoint { sequence: 0, hash: before.head.clone().unwrap().1, time: String::new() };
    assert_eq!(s.slots_at(&cp).unwrap().len(), 2, "the head's record, then the hidden one");

    let err = EvidenceArchive::open_verified(s, &before).err().expect("the slot of the hidden record is taken");
    assert!(err.is::<lz_evidence::HeadMoved>(), "{err:#}");
}
