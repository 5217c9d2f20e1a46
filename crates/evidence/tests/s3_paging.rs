//! The S3 store's object-version listings across several pages (a test-only page size,
//! feature `test-page-size`): a resumed pass stops listing the head's versions at the first page
//! holding a version it judged before (S3 lists a key's versions newest first, so every older
//! one was listed then), and what lies behind that stop point is still caught: a record
//! overwritten or hidden by a delete marker (the records' listing never stops), a planted head
//! (newer than every judged version, so before the stop).
//!
//! One test in its own binary: it counts this process's S3 listing pages.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::*;
use lz_evidence::record::*;
use lz_evidence::{failure_of, verify_store, verify_store_from, EvidenceArchive, Resumed, S3Store, Store, TrustRoot};
use lz_platform::s3_calls::Calls;

/// Two versions a listing page.
const PAGE: i32 = 2;

fn paged_store() -> S3Store {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let endpoint = lz_platform::localstack::require(&root).expect("LocalStack");
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let s = S3Store::new(client, &format!("lz-evidence-paging-{nonce}"), "chain/", 1).unwrap().with_page_size(PAGE);
    s.ensure_bucket().unwrap();
    s
}

/// The listing pages `f` requested, and what it returned.
fn pages<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = Calls::now();
    let out = f();
    (Calls::since(before).list, out)
}

#[test]
fn a_resumed_pass_stops_the_head_listing_across_pages_and_still_catches_what_lies_behind_the_stop() {
    let t = team();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let release = digest("r");
    // 12 records appended one by one: 12 head versions, 6 listing pages of them.
    let mut a = EvidenceArchive::open(paged_store(), t.identities.clone()).unwrap();
    for i in 0..12 {
        a.record(DriftEvidence::new(&release, "prod", "5", vec![format!("x.y{i}")]), &t.deployer).unwrap();
    }
    let s = a.into_store();
    let (_, state, how) = verify_store_from(&s, &root, &[], &[], None).unwrap();
    assert_eq!(how, Resumed::Full);
    assert_eq!(state.heads_seen().len(), 11, "a full pass judges every earlier head version");

    // One new record: a 13th head version. The listing of every head version takes 7 pages; the
    // resumed pass's stops at the page holding the newest version it judged (the second page:
    // the new head and the one it replaced are on the first), and reads only the one earlier head
    // it had not judged. Both listings read the records' versions in full.
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let s = a.into_store();
    let (all_pages, all) = pages(|| s.integrity().unwrap());
    let (stopped_pages, stopped) = pages(|| s.integrity_except(state.heads_seen()).unwrap());
    assert_eq!(all.earlier_heads.len(), 12);
    assert!(all_pages >= 7 + 7, "both full listings span several pages: {all_pages}");
    assert_eq!(all_pages - stopped_pages, 7 - 2, "the head listing stops after its second page: {all_pages} / {stopped_pages}");
    let unseen: Vec<&str> = stopped.earlier_heads.iter().map(|h| h.location.as_str()).collect();
    assert_eq!(unseen.len(), 1, "{unseen:?}");
    assert!(!state.heads_seen().contains(unseen[0]), "the head replaced by the new one: {unseen:?}");
    let (resumed, state, how) = verify_store_from(&s, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!((how, resumed.records.len()), (Resumed::Suffix, 1));
    assert_eq!(resumed.head, verify_store(&s, &root, &[]).unwrap().head);

    // Behind the stop point: record 1 overwritten raw (a second version under its key), and a
    // garbage head planted before an honest append. The resumed pass reports both as a full
    // verification does: the records' listing never stops, and the planted head is newer than
    // every judged version.
    let endpoint = lz_platform::localstack::require(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap();
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let bucket = s.bucket().to_string();
    let (record_1, head_key) = (s.record_key(1), s.head_key());
    let planted = rt.block_on(async {
        client.put_object().bucket(&bucket).key(&record_1).body(ByteStream::from(b"{}".to_vec())).send().await.unwrap();
        let put = client.put_object().bucket(&bucket).key(&head_key).body(ByteStream::from(b"not a head".to_vec())).send().await.unwrap();
        put.version_id().unwrap().to_string()
    });
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let s = a.into_store();
    let full = verify_store(&s, &root, &[]).unwrap();
    let (resumed, state, how) = verify_store_from(&s, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!(how, Resumed::Suffix);
    let shown = |c: &lz_evidence::VerifiedChain| c.quarantined.iter().map(|q| q.to_string()).collect::<Vec<_>>();
    assert_eq!(shown(&resumed), shown(&full));
    assert!(shown(&full).iter().any(|q| q.contains(&planted)), "the planted head: {:?}", shown(&full));
    assert!(full.quarantined.iter().any(|q| q.version.is_some() && q.location.contains("records/000000000001.json")), "{:?}", shown(&full));
    assert_eq!(resumed.head, full.head);

    // A delete marker over record 2, far behind the stop point: the resumed pass fails as a full
    // verification fails.
    let record_2 = s.record_key(2);
    rt.block_on(async {
        client.delete_object().bucket(&bucket).key(&record_2).send().await.unwrap();
    });
    let full = verify_store(&s, &root, &[]).expect_err("the delete marker fails a full verification");
    let resumed = verify_store_from(&s, &root, &[], &[], Some(&state)).err().expect("the delete marker fails a resumed pass");
    let (f, r) = (failure_of(&full).unwrap(), failure_of(&resumed).unwrap());
    assert_eq!((f.reason.code(), f.sequence, &f.location), (r.reason.code(), r.sequence, &r.location), "{f} / {r}");
}
