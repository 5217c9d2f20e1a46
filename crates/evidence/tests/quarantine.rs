//! No bricking (issue 24): an object at a record key of the S3 store that is not a valid next
//! record (raw garbage, a record signed by an unregistered key, a copy of a record, a record
//! that does not link) or a garbage head is quarantined: verification reports it, the chain
//! skips it, honest appends continue at the next key and record the skip. A skip claim never
//! hides a genuine record. Each test has a bucket of its own on LocalStack.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::*;
use lz_evidence::archive::{append_once, seal, statement, AppendRetry};
use lz_evidence::dsse::sha256_hex;
use lz_evidence::quarantine::{Skip, QUARANTINED};
use lz_evidence::record::{DriftEvidence, EvidenceBuilder as _, Fields, Kind};
use lz_evidence::{failure_of, verify_store, EvidenceArchive, S3Store, Store, TrustRoot, VerifiedChain};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn client() -> aws_sdk_s3::Client {
    let endpoint = lz_platform::localstack::require(&root()).expect("LocalStack");
    lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1")
}

/// A bucket of this test's own (COMPLIANCE, one day) with `n` drift records.
fn store_with(t: &Team, n: usize) -> S3Store {
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let s = S3Store::new(client(), &format!("lz-quarantine-{nonce}"), "", 1).unwrap();
    s.ensure_bucket().unwrap();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    for i in 0..n {
        a.record(drift_of(&format!("before-{i}")), &t.deployer).unwrap();
    }
    a.into_store()
}

fn drift_of(tag: &str) -> DriftEvidence {
    DriftEvidence::new(&digest("r"), "prod", "5", vec![tag.to_string()])
}

/// A raw PUT (the bucket's default COMPLIANCE retention locks it), as any writer could.
fn raw_put(s: &S3Store, key: &str, bytes: &[u8]) {
    let (client, bucket) = (client(), s.bucket().to_string());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(client.put_object().bucket(&bucket).key(key).body(ByteStream::from(bytes.to_vec())).send()).unwrap();
}

fn trust(t: &Team) -> TrustRoot {
    TrustRoot::register(t.identities.clone(), "test register")
}

fn verified(s: &S3Store, t: &Team) -> VerifiedChain {
    verify_store(s, &trust(t), &[]).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The `quarantined` detail of the record at `sequence`.
fn skips_of(chain: &VerifiedChain, sequence: u64) -> Option<Vec<Skip>> {
    let r = chain.records.iter().find(|r| r.sequence == sequence).unwrap_or_else(|| panic!("no record {sequence}"));
    r.statement.predicate.details.get(QUARANTINED).map(|v| serde_json::from_value(v.clone()).unwrap())
}

/// A drift record for `sequence` after `previous`, signed by `signer` (whoever that is).
fn forged(signer: &lz_evidence::Signer, sequence: u64, previous: &str, fields: Fields) -> Vec<u8> {
    seal(&statement(Kind::Drift, fields, signer.identity(), sequence, previous).unwrap(), signer).unwrap()
}

fn drift_fields(tag: &str) -> Fields {
    drift_of(tag).into_fields().unwrap()
}

/// `f` with the archive's own skip detail forged by the caller.
fn with_skips(mut f: Fields, skips: serde_json::Value) -> Fields {
    f.raw_details_mut().insert(QUARANTINED.into(), skips);
    f
}

#[test]
fn garbage_at_the_next_key_is_quarantined_and_honest_appends_continue() {
    let t = team();
    let s = store_with(&t, 3);
    let garbage = b"not a record: one raw PUT under COMPLIANCE".to_vec();
    raw_put(&s, &s.record_key(3), &garbage);

    // Before anyone appends: the chain verifies, the object is reported and not yet recorded.
    let chain = verified(&s, &t);
    assert_eq!(chain.records.len(), 3);
    assert_eq!(chain.quarantined.len(), 1, "{:?}", chain.quarantined);
    let q = &chain.quarantined[0];
    assert!(q.location.ends_with("records/000000000003.json"), "{q}");
    assert_eq!((q.sequence, q.skipped_by, q.sha256.as_str(), q.size), (Some(3), None, sha256_hex(&garbage).as_str(), garbage.len() as u64));
    assert!(q.to_string().starts_with("store has a foreign object at s3://") && q.writer.contains("not a DSSE envelope"), "{q}");

    // An honest append (the library, as decision commands append) lands at the next key and
    // records the skip; the retrying appender (append_once) continues after it.
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    assert_eq!(a.next_sequence(), 4);
    let r = a.record(drift_of("after"), &t.deployer).unwrap();
    assert_eq!(r.sequence, 4);
    let s = a.into_store();
    let done = append_once(
        || EvidenceArchive::open(S3Store::open_worm(client(), s.bucket(), "")?, t.identities.clone()),
        Kind::Drift,
        drift_fields("retrying"),
        &t.deployer,
        AppendRetry::default(),
    )
    .unwrap();
    assert_eq!(done.record.sequence, 5);

    let chain = verified(&s, &t);
    let sequences: Vec<u64> = chain.records.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, vec![0, 1, 2, 4, 5], "the chain skips the foreign object and loses nothing");
    assert_eq!(skips_of(&chain, 4), Some(vec![Skip { sequence: 3, sha256: sha256_hex(&garbage), size: garbage.len() as u64 }]));
    assert_eq!(skips_of(&chain, 5), None, "a skip is recorded once");
    assert_eq!(chain.quarantined.len(), 1);
    assert_eq!(chain.quarantined[0].skipped_by, Some(4), "{}", chain.quarantined[0]);
    assert_eq!(chain.head.as_ref().map(|h| h.0), Some(5));
    let report = lz_evidence::report_of_store(
        &s,
        &trust(&t),
        &lz_evidence::Anchors::of_store(&s, Vec::new()).unwrap(),
        lz_evidence::verify::Strategy::default(),
    )
    .unwrap();
    assert!(report.ok() && report.quarantined.len() == 1, "{report:?}");
    assert_eq!(report.records, 5);

    // A copy of the chain without the object (a local cache, as `evidence pull` writes it):
    // the signed skip is all there is, and it must name exactly the gap.
    let dir = tempfile::tempdir().unwrap();
    let copy: Vec<_> = s.load().unwrap().into_iter().filter(|r| !r.location.ends_with("records/000000000003.json")).collect();
    let path = dir.path().join("copy.jsonl");
    lz_evidence::store::write_copy(&path, &copy, Some(&s.head().unwrap().unwrap().bytes)).unwrap();
    let chain = verify_store(&lz_evidence::LocalStore::new(&path), &trust(&t), &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(chain.records.len(), 5);
    assert!(chain.quarantined.len() == 1 && !chain.quarantined[0].seen && chain.quarantined[0].skipped_by == Some(4), "{:?}", chain.quarantined);
    // Without the skipping record, the copy has a plain gap.
    let cut: Vec<_> = copy.iter().filter(|r| !r.location.ends_with("records/000000000004.json")).cloned().collect();
    let f = failure_of(&lz_evidence::verify_chain(&cut, &trust(&t)).unwrap_err()).cloned().unwrap();
    assert_eq!(f.reason.code(), "gap", "{f}");
    println!("garbage at the next key: 1 object quarantined, 3 + 2 honest records verified, records lost = 0");
}

/// Each kind of foreign object at the next key: a record signed by a key nobody registered, a
/// copy of an earlier record, a registered signer's record that does not link, a record that
/// breaks a signer rule. Each is skipped and named with its writer; the honest append after it
/// records the skip.
#[test]
fn foreign_records_at_the_next_key_are_quarantined_with_their_writer() {
    let t = team();
    let s = store_with(&t, 2);
    let first = s.load().unwrap()[0].bytes.to_vec();
    // (what, the object for the next key after the record with hash `head`, writer, why)
    type Make<'a> = Box<dyn Fn(u64, &str) -> Vec<u8> + 'a>;
    let cases: Vec<(&str, Make, &str, &str)> = vec![
        ("unregistered key", Box::new(|key, head| forged(&t.intruder, key, head, drift_fields("intruder"))), "(unregistered), claims identity mallory", "belongs to no registered identity"),
        ("copy of record 0", Box::new(|_, _| first.clone()), "of deploy-bot", "stored under the key of sequence"),
        ("does not link", Box::new(|key, _| forged(&t.deployer, key, &digest("elsewhere"), drift_fields("unlinked"))), "of deploy-bot", "previous hash"),
        ("breaks a rule", Box::new(|key, head| forged(&t.approver, key, head, drift_fields("approver's drift"))), "of alice", "may not sign drift"),
    ];
    let mut total = 0;
    let mut s = s;
    for (what, make, writer, why) in cases {
        let a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
        let key = a.next_sequence();
        let mut s2 = a.into_store();
        let bytes = make(key, &head_of(&s2, &t));
        raw_put(&s2, &s2.record_key(key), &bytes);
        let chain = verified(&s2, &t);
        let q = chain.quarantined.iter().find(|q| q.sequence == Some(key)).unwrap_or_else(|| panic!("{what}: not quarantined"));
        assert!(q.writer.contains(writer), "{what}: {q}");
        assert!(q.why.contains(why), "{what}: {q}");
        assert_eq!(q.skipped_by, None);
        let mut a = EvidenceArchive::open(s2, t.identities.clone()).unwrap();
        let r = a.record(drift_of(&format!("after {what}")), &t.deployer).unwrap();
        assert_eq!(r.sequence, key + 1, "{what}");
        s2 = a.into_store();
        let chain = verified(&s2, &t);
        assert_eq!(skips_of(&chain, key + 1).map(|s| s.iter().map(|s| s.sequence).collect::<Vec<_>>()), Some(vec![key]), "{what}");
        total += 1;
        assert_eq!(chain.quarantined.len(), total, "{what}");
        s = s2;
    }
    let chain = verified(&s, &t);
    assert_eq!(chain.records.len(), 2 + total, "every honest record is in the chain");
    println!("foreign records at the next key: {total} objects quarantined, {} honest records verified, records lost = 0", chain.records.len());
}

/// The last valid record's hash, as an appender sees it.
fn head_of(s: &S3Store, t: &Team) -> String {
    verified(s, t).head.unwrap().1
}

/// The insider's use of a skip: a registered signer writes, at the key after a genuine record,
/// a record that claims the genuine record was a foreign object and links past it. Verification
/// re-checks the claim against the store: TAMPERED. So is a record that passes over a foreign
/// object without recording it, and one that claims an object with another sha256.
#[test]
fn a_skip_claim_never_hides_a_genuine_record() {
    let t = team();
    let s = store_with(&t, 3);
    let records = s.load().unwrap();
    let genuine = &records[2];
    let skip = |seq: u64, bytes: &[u8]| serde_json::json!([{"sequence": seq, "sha256": sha256_hex(bytes), "size": bytes.len()}]);
    let before = sha256_hex(&records[1].bytes);
    raw_put(&s, &s.record_key(3), &forged(&t.deployer, 3, &before, with_skips(drift_fields("hiding"), skip(2, &genuine.bytes))));
    let err = verify_store(&s, &trust(&t), &[]).expect_err("a skip over a valid record");
    let f = failure_of(&err).unwrap_or_else(|| panic!("{err:#}"));
    assert_eq!(f.reason.code(), "quarantine", "{f}");
    assert!(f.to_string().contains("record 2 is a valid record of the chain"), "{f}");
    assert!(f.location.ends_with("records/000000000003.json"), "{f}");

    // Garbage at the next key, then a registered signer's record that links past it without
    // recording the skip, or records another object.
    for (what, detail, expect) in [
        ("unrecorded", None, "without recording the skip"),
        ("other sha256", Some(skip(3, b"something else")), "but the store holds sha256"),
    ] {
        let s = store_with(&t, 3);
        let last = head_of(&s, &t);
        raw_put(&s, &s.record_key(3), b"garbage");
        let mut fields = drift_fields(what);
        if let Some(d) = detail {
            fields = with_skips(fields, d);
        }
        raw_put(&s, &s.record_key(4), &forged(&t.deployer, 4, &last, fields));
        let err = verify_store(&s, &trust(&t), &[]).expect_err(what);
        let f = failure_of(&err).unwrap_or_else(|| panic!("{err:#}"));
        assert_eq!(f.reason.code(), "quarantine", "{what}: {f}");
        assert!(f.to_string().contains(expect), "{what}: {f}");
    }

    // The caller cannot write the archive's skip detail itself.
    let s = store_with(&t, 1);
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let err = a.append(Kind::Drift, with_skips(drift_fields("x"), skip(0, b"x")), &t.deployer).unwrap_err();
    assert!(err.is::<lz_evidence::Refused>(), "{err:#}");
}

/// A garbage head (and a head signed by a key nobody registered) bricks nothing: verification
/// reports it and judges the chain by its records, the appender falls back to the records and
/// writes a valid head; the garbage stays as an earlier head version, reported.
#[test]
fn a_garbage_head_is_quarantined_and_replaced_by_the_next_append() {
    let t = team();
    let s = store_with(&t, 3);
    let cp = s.checkpoint().unwrap().unwrap();
    raw_put(&s, &s.head_key(), b"{\"garbage\": true}");
    let chain = verified(&s, &t);
    assert_eq!(chain.records.len(), 3);
    let q = chain.quarantined.iter().find(|q| q.sequence.is_none()).expect("the head is reported");
    assert!(q.location.ends_with("head.json") && q.to_string().contains("a foreign head"), "{q}");

    // Opened on the chain just verified (as `evidence append` and decision commands do), and as
    // the library alone does (walking the keys).
    let a = EvidenceArchive::open_verified(s, &chain).unwrap();
    assert_eq!(a.next_sequence(), 3);
    let mut a = EvidenceArchive::open(a.into_store(), t.identities.clone()).unwrap();
    assert_eq!(a.next_sequence(), 3);
    a.record(drift_of("after the garbage head"), &t.deployer).unwrap();
    let s = a.into_store();
    assert_eq!(s.checkpoint().unwrap().unwrap().sequence, 3, "the next append wrote a valid head");
    let chain = verified(&s, &t);
    assert_eq!(chain.records.len(), 4);
    assert_eq!(chain.quarantined.iter().filter(|q| q.sequence.is_none()).count(), 1, "{:?}", chain.quarantined);

    // A head signed by an unregistered key, naming a record the chain does not have.
    let stranger = lz_evidence::store::sign_checkpoint(
        &lz_evidence::Checkpoint { sequence: 9, hash: digest("nothing"), time: cp.time.clone() },
        &t.intruder,
    ).unwrap();
    raw_put(&s, &s.head_key(), &stranger);
    let chain = verified(&s, &t);
    assert_eq!(chain.quarantined.iter().filter(|q| q.sequence.is_none()).count(), 2);
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    assert_eq!(a.next_sequence(), 4);
    a.record(drift_of("after the stranger's head"), &t.deployer).unwrap();
    let s = a.into_store();
    assert_eq!(s.checkpoint().unwrap().unwrap().sequence, 4, "the stranger's head was replaced");
    let chain = verified(&s, &t);
    assert_eq!(chain.records.len(), 5);
    println!("garbage heads: 2 quarantined, 5 records verified, records lost = 0");

    // A head a registered key signed that names a record the chain lacks is still truncation.
    let s = store_with(&t, 2);
    let truncating = lz_evidence::store::sign_checkpoint(
        &lz_evidence::Checkpoint { sequence: 5, hash: digest("gone"), time: cp.time },
        &t.deployer,
    ).unwrap();
    raw_put(&s, &s.head_key(), &truncating);
    let f = failure_of(&verify_store(&s, &trust(&t), &[]).unwrap_err()).cloned().unwrap();
    assert_eq!(f.reason.code(), "truncated", "{f}");
}

/// A PUT over an occupied record key adds a version (S3 keeps every one): the key's record is
/// its first version, the later one is a foreign object, and appends continue.
#[test]
fn a_version_written_over_a_record_is_quarantined_and_the_record_kept() {
    let t = team();
    let s = store_with(&t, 3);
    let originals: Vec<_> = s.load().unwrap().into_iter().map(|r| r.bytes).collect();
    raw_put(&s, &s.record_key(1), b"overwritten");
    // Over the head's own record too: the appender still finds its tail.
    let other = forged(&t.deployer, 2, &sha256_hex(&originals[1]), drift_fields("rewritten history"));
    raw_put(&s, &s.record_key(2), &other);
    let read: Vec<_> = s.load().unwrap().into_iter().map(|r| r.bytes).collect();
    assert_eq!(read, originals, "the chain reads each key's first version");
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    assert_eq!(a.next_sequence(), 3);
    assert!(a.pending_skips().is_empty());
    a.record(drift_of("after the overwrites"), &t.deployer).unwrap();
    let chain = verified(&a.into_store(), &t);
    assert_eq!(chain.records.len(), 4);
    let versions: Vec<_> = chain.quarantined.iter().filter(|q| q.version.is_some()).collect();
    assert_eq!(versions.len(), 2, "{:?}", chain.quarantined);
    assert!(versions.iter().any(|q| q.writer.contains("of deploy-bot")), "{versions:?}");
    println!("versions over records: 2 quarantined, 4 records verified, records lost = 0");
}

/// Garbage written at the first record key of a fresh store, before anyone bootstrapped it
/// (`records/000000000000.json`): the first honest append is not bricked. It lands at the next
/// key as the chain's first record and records the skip; verification reports the object and
/// accepts the chain.
#[test]
fn garbage_at_the_first_key_of_a_fresh_store_is_quarantined() {
    let t = team();
    let s = store_with(&t, 0);
    let garbage = b"squatting the genesis key before bootstrap".to_vec();
    raw_put(&s, &s.record_key(0), &garbage);

    let chain = verified(&s, &t);
    assert!(chain.records.is_empty(), "{:?}", chain.records.len());
    assert_eq!(chain.quarantined.len(), 1, "{:?}", chain.quarantined);
    assert_eq!(chain.quarantined[0].sequence, Some(0));

    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    assert_eq!(a.next_sequence(), 1);
    let r = a.record(drift_of("first"), &t.deployer).unwrap();
    assert_eq!(r.sequence, 1);
    let r = a.record(drift_of("second"), &t.deployer).unwrap();
    assert_eq!(r.sequence, 2);
    let s = a.into_store();

    let chain = verified(&s, &t);
    let sequences: Vec<u64> = chain.records.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, vec![1, 2], "the chain starts after the foreign object");
    assert_eq!(skips_of(&chain, 1), Some(vec![Skip { sequence: 0, sha256: sha256_hex(&garbage), size: garbage.len() as u64 }]));
    assert_eq!(chain.quarantined.len(), 1);
    assert_eq!(chain.quarantined[0].skipped_by, Some(1), "{}", chain.quarantined[0]);
    let report = lz_evidence::report_of_store(
        &s,
        &trust(&t),
        &lz_evidence::Anchors::of_store(&s, Vec::new()).unwrap(),
        lz_evidence::verify::Strategy::default(),
    )
    .unwrap();
    assert!(report.ok() && report.quarantined.len() == 1 && report.records == 2, "{report:?}");
    println!("garbage at the first key: 1 object quarantined, 2 honest records verified, records lost = 0");
}

/// Issue 26 (review 3): a dev pipeline's key (an identity bound to dev) writes, raw, a record
/// of prod at the next key of the shared store, signed and linked. Verification sets it aside
/// for the environment binding; the appender's tail walk applies the same record rules, so it
/// skips the object and records the skip, and prod's next append lands after it (before, the
/// appender took the forged record for the chain's end and every later append, in every
/// environment, failed with "the evidence chain kept moving").
#[test]
fn a_dev_keys_forged_prod_record_is_skipped_and_prod_appends_continue() {
    let t = team();
    let (dev_key, prod_key) = (lz_evidence::identity::generate_key(), lz_evidence::identity::generate_key());
    let bound = |name: &str, env: &str, k: &ed25519_dalek::SigningKey| {
        format!(
            "[identity.{name}]\nname = \"{name}\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\nenvironments = [\"{env}\"]\n\n",
            lz_evidence::identity::encode_public_key(&k.verifying_key())
        )
    };
    let text = format!("{}{}{}", t.text, bound("deploy-bot-dev", "dev", &dev_key), bound("deploy-bot-prod", "prod", &prod_key));
    let ids = lz_evidence::Identities::parse(&text, "identities.toml").unwrap();
    let (dev, prod) = (lz_evidence::Signer::new("deploy-bot-dev", dev_key), lz_evidence::Signer::new("deploy-bot-prod", prod_key));
    let trust = TrustRoot::register(ids.clone(), "test register");
    let verified = |s: &S3Store| verify_store(s, &trust, &[]).unwrap_or_else(|e| panic!("{e:#}"));

    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let s = S3Store::new(client(), &format!("lz-quarantine-bind-{nonce}"), "", 1).unwrap();
    s.ensure_bucket().unwrap();
    let mut a = EvidenceArchive::open(s, ids.clone()).unwrap();
    a.record(drift_of("prod before"), &prod).unwrap();
    a.record(DriftEvidence::new(&digest("r"), "dev", "5", vec!["dev".into()]), &dev).unwrap();
    let s = a.into_store();
    let head = verified(&s).head.unwrap().1;

    // The forgery: a clean-looking prod drift record, signed by the dev identity, linked to the head.
    let forged_bytes = forged(&dev, 2, &head, drift_fields("no drift in prod"));
    raw_put(&s, &s.record_key(2), &forged_bytes);
    let chain = verified(&s);
    assert_eq!(chain.records.len(), 2);
    let q = chain.quarantined.iter().find(|q| q.sequence == Some(2)).expect("the forged record is quarantined");
    assert!(q.why.contains("deploy-bot-dev is bound to dev and may not sign a record of prod"), "{q}");
    assert!(q.writer.contains("of deploy-bot-dev"), "{q}");

    // Prod's next append (the library, as decision commands append) lands after it and records the skip.
    let mut a = EvidenceArchive::open(s, ids.clone()).unwrap();
    assert_eq!(a.next_sequence(), 3, "the appender skips the forged record");
    let r = a.record(drift_of("prod after"), &prod).unwrap();
    assert_eq!(r.sequence, 3);
    let s = a.into_store();
    // And the retrying appender continues after that.
    let done = append_once(
        || EvidenceArchive::open(S3Store::open_worm(client(), s.bucket(), "")?, ids.clone()),
        Kind::Drift,
        drift_fields("retrying"),
        &prod,
        AppendRetry::default(),
    )
    .unwrap();
    assert_eq!(done.record.sequence, 4);

    let chain = verified(&s);
    let sequences: Vec<u64> = chain.records.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, vec![0, 1, 3, 4]);
    assert_eq!(skips_of(&chain, 3), Some(vec![Skip { sequence: 2, sha256: sha256_hex(&forged_bytes), size: forged_bytes.len() as u64 }]));
    let q = chain.quarantined.iter().find(|q| q.sequence == Some(2)).unwrap();
    assert_eq!(q.skipped_by, Some(3), "{q}");
    assert!(q.why.contains("may not sign a record of prod"), "{q}");
}
