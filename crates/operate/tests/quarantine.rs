//! No bricking (issue 24) for decision commands: they append through `Ledger::append`, which
//! verifies the store and continues after a foreign object at the next key of the landing
//! zone's S3 evidence store (recording the skip) instead of failing for ever.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use lz_evidence::details::DriftDetails;
use lz_evidence::record::{Fields, Kind};
use lz_promote::clock::Clock;
use lz_promote::ledger::EvidenceAt;
use lz_operate::sandbox::Sandbox;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{endpoint, own_stores, root};

#[test]
fn decisions_append_past_a_foreign_object_and_record_the_skip() {
    let s = own_stores();
    let dir = tempfile::Builder::new().prefix("lz-quarantine-").tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(s.clone());
    sb.start_chain().unwrap();
    let clock = Clock::Fixed(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap());
    let release = sb.release("base", "alice", &clock, |_| Ok(())).unwrap();
    let before = sb.ledger().unwrap().records().unwrap();
    let next = before.last().unwrap().sequence + 1;

    // One raw PUT at the next key, locked by the bucket's COMPLIANCE default.
    let rt = lz_platform::aws::runtime().unwrap();
    let key = format!("records/{next:012}.json");
    rt.block_on(s.s3().unwrap().put_object().bucket(&s.evidence_bucket).key(&key).body(ByteStream::from(b"garbage".to_vec())).send()).unwrap();

    // A decision (a release recorded by its author) and a drift record land after it.
    sb.release("second", "alice", &clock, |_| Ok(())).unwrap();
    let f = Fields::new(&release)
        .at(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
        .environment("dev")
        .account("111111111111")
        .details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() });
    let drift = sb.ledger().unwrap().append(Kind::Drift, f, sb.signer("deployer-bot")).unwrap();
    let records = sb.ledger().unwrap().records().unwrap();
    assert_eq!(records.len(), before.len() + 2, "every decision landed, none was lost");
    assert_eq!(records[before.len()].sequence, next + 1, "the first record after the object is at the next key");
    assert_eq!(
        records[before.len()].details.other().get("quarantined").and_then(|q| q[0]["sequence"].as_u64()),
        Some(next),
        "it records the skip"
    );
    assert_eq!(drift.sequence, next + 2);
    let chain = lz_evidence::verify_store(&s.evidence().unwrap(), &sb.paths.trust, &[]).unwrap();
    assert_eq!(chain.quarantined.len(), 1);
    assert!(chain.quarantined[0].location.ends_with(&key) && chain.quarantined[0].skipped_by == Some(next + 1), "{}", chain.quarantined[0]);
    println!("decisions past a foreign object: 1 quarantined, {} records verified, records lost = 0", records.len());
}

/// Garbage at `records/000000000000.json` of a fresh evidence store, written before bootstrap
/// (anyone who can write the bucket could squat the genesis key under COMPLIANCE): the
/// bootstrap's genesis record lands at the next key and records the skip; the chain verifies
/// under the pinned genesis register, reports the object, and decisions append after it.
#[test]
fn garbage_at_the_genesis_key_before_bootstrap_is_quarantined() {
    let s = own_stores();
    let rt = lz_platform::aws::runtime().unwrap();
    let key = "records/000000000000.json";
    rt.block_on(s.s3().unwrap().put_object().bucket(&s.evidence_bucket).key(key).body(ByteStream::from(b"squatted before bootstrap".to_vec())).send()).unwrap();

    let dir = tempfile::Builder::new().prefix("lz-quarantine-genesis-").tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(s.clone());
    sb.start_chain().unwrap_or_else(|e| panic!("bootstrap over a squatted genesis key: {e:#}"));
    let clock = Clock::Fixed(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap());
    sb.release("after squat", "alice", &clock, |_| Ok(())).unwrap();
    let records = sb.ledger().unwrap().records().unwrap();
    assert_eq!(records[0].sequence, 1, "the genesis lands at the next key");
    assert_eq!(records[0].details.other().get("quarantined").and_then(|q| q[0]["sequence"].as_u64()), Some(0), "it records the skip");
    assert_eq!(records.len(), 2, "the genesis and the release, none lost");
    let chain = lz_evidence::verify_store(&s.evidence().unwrap(), &sb.paths.trust, &[]).unwrap();
    assert_eq!(chain.quarantined.len(), 1);
    assert!(chain.quarantined[0].location.ends_with(key) && chain.quarantined[0].skipped_by == Some(1), "{}", chain.quarantined[0]);
    println!("garbage at the genesis key: 1 quarantined, bootstrap and {} records verified, records lost = 0", records.len());
}
