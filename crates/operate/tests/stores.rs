//! The landing zone's S3 stores against LocalStack: the conditional writes they rely on are
//! enforced, concurrent appends never fork or lose a record, two promotions at once both land,
//! and a store that is not WORM or a release that does not hash to its digest is refused.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use lz_evidence::details::DriftDetails;
use lz_evidence::record::{Fields, Kind};
use lz_promote::clock::Clock;
use lz_promote::ledger::{EvidenceAt, Ledger};
use lz_promote::release::ReleasesAt;
use lz_operate::sandbox::Sandbox;
use lz_promote::stores::Stores;
use lz_promote::Tier;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{endpoint, nonce, own_stores, root};

fn sandbox(name: &str, stores: &Stores) -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("lz-stores-{name}-"))
        .tempdir()
        .unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(stores.clone());
    sb.start_chain().unwrap();
    (dir, sb)
}

fn saturday() -> Clock {
    Clock::Fixed(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
}

fn status<E: std::fmt::Debug>(
    r: Result<impl Sized, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => e
            .raw_response()
            .map(|r| r.status().as_u16())
            .unwrap_or_else(|| panic!("no HTTP response: {e:?}")),
    }
}

#[test]
fn localstack_enforces_the_conditional_writes_the_stores_rely_on() {
    let s = own_stores();
    let c = s.s3().unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    let bucket = s.evidence_bucket.clone();
    rt.block_on(async {
        let put = |key: &str, body: &str| {
            c.put_object()
                .bucket(&bucket)
                .key(key)
                .body(ByteStream::from(body.as_bytes().to_vec()))
        };
        assert_eq!(status(put("k", "1").if_none_match("*").send().await), 200);
        assert_eq!(
            status(put("k", "2").if_none_match("*").send().await),
            412,
            "a second create of the same key must fail"
        );
        let etag = c
            .head_object()
            .bucket(&bucket)
            .key("k")
            .send()
            .await
            .unwrap()
            .e_tag()
            .unwrap()
            .to_string();
        assert_eq!(status(put("k", "3").if_match("\"0000\"").send().await), 412, "a stale If-Match must fail");
        assert_eq!(status(put("k", "3").if_match(&etag).send().await), 200);
        assert_eq!(
            status(put("k", "4").if_match(&etag).send().await),
            412,
            "the ETag replaced a moment ago is stale now"
        );
    });
}

#[test]
fn concurrent_appenders_never_fork_or_lose_a_record() {
    let s = own_stores();
    let (_d, sb) = sandbox("append", &s);
    let clock = saturday();
    let release = sb.release("base", "alice", &clock, |_| Ok(())).unwrap();
    const EACH: usize = 12;
    let writers = ["deployer-bot", "deployer-bot-dev"];
    let got: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = writers
            .iter()
            .map(|who| {
                let (sb, release) = (&sb, &release);
                scope.spawn(move || {
                    // Each writer opens its own ledger, as two CI jobs would.
                    let ledger = Ledger::open(&sb.paths.trust, &sb.paths.evidence).unwrap();
                    (0..EACH)
                        .map(|i| {
                            let f = Fields::new(release)
                                .at(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
                                .environment("dev")
                                .account("111111111111")
                                .reason(format!("{who} check {i}"))
                                .details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() });
                            ledger.append(Kind::Drift, f, sb.signer(who)).unwrap().sequence
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let records = sb.ledger().unwrap().records().unwrap();
    // The genesis register, the release record, then the appends.
    assert_eq!(records.len(), 2 + 2 * EACH, "every append landed exactly once");
    let mut all: Vec<u64> = got.concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 2 * EACH, "two writers were never given the same sequence: {got:?}");
    for (who, seqs) in writers.iter().zip(&got) {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{who}'s records out of order: {seqs:?}");
        for (i, seq) in seqs.iter().enumerate() {
            let r = &records[*seq as usize];
            assert_eq!(r.identity, *who);
            assert_eq!(r.reason.as_deref(), Some(format!("{who} check {i}").as_str()));
        }
    }
    // The chain verifies from S3 alone, head included.
    let store = s.evidence().unwrap();
    let root = sb.paths.trust.clone();
    let chain = lz_evidence::verify_store(&store, &root, &[]).unwrap();
    assert_eq!(chain.records.len(), 2 + 2 * EACH);
    assert_eq!(chain.head.unwrap().0, (1 + 2 * EACH) as u64);
}

#[test]
fn two_promotions_at_once_both_land_in_order() {
    let s = own_stores();
    let (_d, sb) = sandbox("parallel", &s);
    let clock = saturday();
    let a = sb.release("a", "alice", &clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&a, &clock).unwrap();
    for env in ["dev", "test"] {
        sb.pin(env, &a, &clock).unwrap();
        sb.bootstrap(env, &a).unwrap();
    }
    sb.approve("bob", &a, "dev", &clock).unwrap();
    sb.approve("erin", &a, "dev", &clock).unwrap();
    sb.promote(&a, "dev", "deployer-bot", &clock, 0).unwrap();
    assert!(!sb.drift("dev", &clock).unwrap().drifted());
    sb.approve("bob", &a, "test", &clock).unwrap();
    sb.approve("erin", &a, "test", &clock).unwrap();
    // A tags-only release B (standard tier, no human wait) goes to dev while A goes to test.
    let b = sb
        .release("b", "alice", &clock, |t| lz_operate::bench::retag(t, "CC-4412"))
        .unwrap();
    sb.approve_exceptions(&b, &clock).unwrap();
    let (to_test, to_dev) = std::thread::scope(|scope| {
        let t = scope.spawn(|| sb.promote(&a, "test", "deployer-bot", &clock, 0));
        let d = scope.spawn(|| sb.promote(&b, "dev", "deployer-bot", &clock, 0));
        (t.join().unwrap(), d.join().unwrap())
    });
    let to_test = to_test.unwrap_or_else(|e| panic!("A to test: {e:#}"));
    let to_dev = to_dev.unwrap_or_else(|e| panic!("B to dev: {e:#}"));
    assert_eq!(to_test.admission.tier, Tier::High);
    assert_eq!(to_dev.admission.tier, Tier::Standard);
    let records = sb.ledger().unwrap().records().unwrap();
    for (o, release, env) in [(&to_test, &a, "test"), (&to_dev, &b, "dev")] {
        let seqs = [o.policy_record, o.in_progress_record, o.completion_record];
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{env}: {seqs:?}");
        for (seq, kind) in seqs.iter().zip([Kind::PolicyEvaluation, Kind::Deployment, Kind::Deployment]) {
            let r = &records[*seq as usize];
            assert_eq!((r.kind, r.release.as_str(), r.environment.as_deref()), (kind, release.as_str(), Some(env)));
        }
    }
    let store = s.evidence().unwrap();
    let root = sb.paths.trust.clone();
    let chain = lz_evidence::verify_store(&store, &root, &[]).unwrap();
    assert_eq!(chain.records.len(), records.len());
}

/// A bucket without Object Lock in the stores' region.
async fn plain_bucket(c: &aws_sdk_s3::Client, s: &Stores, name: &str) {
    c.create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(s.region.as_str()))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[test]
fn a_bucket_without_compliance_object_lock_is_not_an_evidence_store() {
    let s = own_stores();
    let c = s.s3().unwrap();
    let plain = format!("lz-plain-{}", nonce());
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(async {
        plain_bucket(&c, &s, &plain).await;
    });
    let mut bad = s.clone();
    bad.evidence_bucket = plain;
    let err = bad.evidence().err().expect("a plain bucket is refused");
    assert!(format!("{err:#}").contains("not an evidence store"), "{err:#}");
}

#[test]
fn a_release_that_does_not_hash_to_its_digest_is_refused() {
    let s = own_stores();
    let (_d, sb) = sandbox("altered", &s);
    let clock = saturday();
    let r = sb.release("x", "alice", &clock, |_| Ok(())).unwrap();
    let tar = std::fs::read(sb.releases_dir().join(&r).join("release.tar")).unwrap();
    let store = s.releases().unwrap();
    assert!(store.publish(&r, &tar, b"{}").unwrap(), "first publish stores it");
    assert!(!store.publish(&r, &tar, b"{}").unwrap(), "an identical re-publish is a no-op");
    let work = tempfile::tempdir().unwrap();
    let at = ReleasesAt::S3(s.clone());
    assert_eq!(at.open(&r[..12], work.path()).unwrap().digest, r, "found by prefix, hash checked");
    // Another archive under the digest (written where Object Lock does not protect it: a
    // release store without lock) is refused as tampering.
    let mut bad = s.clone();
    bad.release_bucket = format!("lz-unlocked-{}", nonce());
    let rt = lz_platform::aws::runtime().unwrap();
    let c = s.s3().unwrap();
    rt.block_on(async {
        plain_bucket(&c, &s, &bad.release_bucket).await;
        let mut altered = tar.clone();
        let at = altered.windows(8).position(|w| w == b"approval").unwrap();
        altered[at] = b'A';
        c.put_object()
            .bucket(&bad.release_bucket)
            .key(format!("releases/{r}/release.tar"))
            .body(ByteStream::from(altered))
            .send()
            .await
            .unwrap();
    });
    let err = ReleasesAt::S3(bad).open(&r, work.path()).err().expect("altered archive refused");
    assert!(lz_promote::is_refusal(&err), "{err:#}");
    assert!(format!("{err:#}").contains("altered"), "{err:#}");
}

#[test]
fn the_second_writer_of_a_sequence_gets_head_moved_and_lands_after_reopening() {
    let s = own_stores();
    let (_d, sb) = sandbox("race", &s);
    let clock = saturday();
    let release = sb.release("base", "alice", &clock, |_| Ok(())).unwrap();
    let register = sb.ledger().unwrap().identities().clone();
    let fields = |who: &str| {
        Fields::new(&release)
            .at(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
            .environment("dev")
            .account("111111111111")
            .reason(format!("{who}'s check"))
            .details(DriftDetails { drifted: Some(false), ..Default::default() })
    };
    // Both open on the same head (sequence 1, after the genesis register and the release), as two
    // jobs starting together do.
    let mut first = lz_evidence::EvidenceArchive::open(s.evidence().unwrap(), register.clone()).unwrap();
    let mut second = lz_evidence::EvidenceArchive::open(s.evidence().unwrap(), register.clone()).unwrap();
    assert_eq!(first.append(Kind::Drift, fields("deployer-bot"), sb.signer("deployer-bot")).unwrap().sequence, 2);
    let err = second
        .append(Kind::Drift, fields("deployer-bot-dev"), sb.signer("deployer-bot-dev"))
        .expect_err("the second writer of sequence 2 must not fork the chain");
    assert!(err.downcast_ref::<lz_evidence::HeadMoved>().is_some(), "{err:#}");
    let mut again = lz_evidence::EvidenceArchive::open(s.evidence().unwrap(), register).unwrap();
    assert_eq!(again.append(Kind::Drift, fields("deployer-bot-dev"), sb.signer("deployer-bot-dev")).unwrap().sequence, 3);
    let root = sb.paths.trust.clone();
    let chain = lz_evidence::verify_store(&s.evidence().unwrap(), &root, &[]).unwrap();
    let who: Vec<&str> = chain.records.iter().map(|r| r.statement.predicate.identity.as_str()).collect();
    assert_eq!(who, ["bob", "alice", "deployer-bot", "deployer-bot-dev"]);
}

/// Drift looks at both stores' Object Lock: COMPLIANCE with at least the retention floor (the
/// log archive's declared retention). A store lowered by a raw API call is drift, and the store
/// is refused for appending.
#[test]
fn drift_reports_a_store_whose_retention_was_lowered() {
    use aws_sdk_s3::types::{DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule};
    let s = own_stores();
    let floor = s.retention_floor().unwrap();
    assert!(floor >= 2190, "{floor}");
    assert_eq!(lz_operate::controls::check_stores(&s).unwrap(), vec![], "freshly bootstrapped stores");
    let low = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(ObjectLockRule::builder().default_retention(DefaultRetention::builder().mode(ObjectLockRetentionMode::Governance).days(1).build()).build())
        .build();
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(s.s3().unwrap().put_object_lock_configuration().bucket(&s.evidence_bucket).object_lock_configuration(low).send()).unwrap();
    let findings = lz_operate::controls::check_stores(&s).unwrap();
    let got: Vec<(String, String, String)> = findings.iter().map(|f| (f.resource.clone(), f.attribute.clone(), f.actual.clone())).collect();
    let res = format!("s3://{}", s.evidence_bucket);
    assert_eq!(got, vec![(res.clone(), "object_lock.mode".into(), "GOVERNANCE".into()), (res, "object_lock.days".into(), "1".into())]);
    let err = s.evidence().err().expect("a store below the floor is refused");
    assert!(format!("{err:#}").contains("not COMPLIANCE") || format!("{err:#}").contains("below the retention floor"), "{err:#}");
}
