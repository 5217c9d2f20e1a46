//! Verification resumed from an earlier head ([`lz_evidence::verify_store_from`]): only the new
//! records are verified, the state carried over gives the verdict a full verification gives,
//! and a change behind the checkpoint (a rewritten record, a truncation, an S3 overwrite) is
//! still caught: the resumed pass falls back to a full verification, whose failure is reported.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::*;
use lz_evidence::record::*;
use lz_evidence::{failure_of, verify_store, verify_store_from, EvidenceArchive, LocalStore, Resumed, S3Store, Store, TrustRoot};

fn trust(t: &Team) -> TrustRoot {
    TrustRoot::register(t.identities.clone(), "test register")
}

/// Appends records that need the state of the earlier chain: a second approval of the sample
/// chain's break-glass (sequence 10: its environment and expiry come from the state) and a
/// drift record.
fn append_dependent_records(store: LocalStore, t: &Team) -> LocalStore {
    let mut a = EvidenceArchive::open(store, t.identities.clone()).unwrap();
    let release = digest("release-1");
    a.record(BreakGlassApprovalEvidence::new(&release, "prod", 10, "INC-9"), &t.approver2).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "555555555555", vec![]), &t.deployer).unwrap();
    a.into_store()
}

#[test]
fn a_resumed_verification_checks_only_new_records_and_agrees_with_a_full_one() {
    let t = team();
    let dir = tempfile::tempdir().unwrap();
    let store = sample_chain(dir.path(), &t);
    let root = trust(&t);
    let (first, state, how) = verify_store_from(&store, &root, &[], &[], None).unwrap();
    assert_eq!(how, Resumed::Full);
    assert_eq!(first.records.len(), SAMPLE_LEN);
    assert_eq!(state.len(), SAMPLE_LEN as u64);

    // Nothing new: nothing verified again, the same head.
    let (same, state, how) = verify_store_from(&store, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!((how, same.records.len(), same.head.clone()), (Resumed::Suffix, 0, first.head.clone()));

    let store = append_dependent_records(store, &t);
    let (suffix, resumed, how) = verify_store_from(&store, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!(how, Resumed::Suffix);
    let seqs: Vec<u64> = suffix.records.iter().map(|r| r.sequence).collect();
    assert_eq!(seqs, vec![SAMPLE_LEN as u64, SAMPLE_LEN as u64 + 1]);
    let full = verify_store(&store, &root, &[]).unwrap();
    assert_eq!(suffix.head, full.head);
    assert_eq!(suffix.register.fingerprint(), full.register.fingerprint());
    // The register change proposed at 16 is still pending, with the approval given at 21.
    let pending = |c: &lz_evidence::VerifiedChain| c.pending.iter().map(|p| (p.sequence, p.approvers.clone(), p.missing)).collect::<Vec<_>>();
    assert_eq!(pending(&suffix), pending(&full));
    assert_eq!(pending(&full).len(), 1);
    assert_eq!(resumed.head(), full.head);
    assert_eq!(resumed.register().fingerprint(), full.register.fingerprint());
}

#[test]
fn a_resumed_verification_refuses_what_the_earlier_state_forbids() {
    // The carried state judges the new records: a break-glass approval by the person who opened
    // it is refused on a resumed pass exactly as on a full one.
    let t = team();
    let dir = tempfile::tempdir().unwrap();
    let store = sample_chain(dir.path(), &t);
    let root = trust(&t);
    let (_, state, _) = verify_store_from(&store, &root, &[], &[], None).unwrap();
    // Appended through a second archive: carol approves break-glass 10 for another environment
    // than the one it was opened for (the archive does not replay the chain's state; the
    // verifier does).
    let mut a = EvidenceArchive::open(LocalStore::new(store.path()), t.identities.clone()).unwrap();
    a.record(BreakGlassApprovalEvidence::new(&digest("release-1"), "dev", 10, "INC-9"), &t.approver2).unwrap();
    let full = verify_store(&store, &root, &[]).expect_err("the full verification refuses the forged approval");
    let (resumed, _) = match verify_store_from(&store, &root, &[], &[], Some(&state)) {
        Err(e) => (e, ()),
        Ok(_) => panic!("the resumed verification accepted a record the chain's state forbids"),
    };
    let (f, r) = (failure_of(&full).expect("a failure"), failure_of(&resumed).expect("a failure"));
    assert_eq!((f.reason.code(), f.sequence, &f.location), (r.reason.code(), r.sequence, &r.location), "{f} / {r}");
    assert_eq!((r.reason.code(), r.sequence), ("break-glass-approval", Some(SAMPLE_LEN as u64)), "{r}");
}

#[test]
fn a_rewrite_or_truncation_behind_the_checkpoint_is_caught_on_a_resumed_pass() {
    let t = team();
    let dir = tempfile::tempdir().unwrap();
    let store = sample_chain(dir.path(), &t);
    let root = trust(&t);
    let (_, state, _) = verify_store_from(&store, &root, &[], &[], None).unwrap();
    let original = std::fs::read(store.path()).unwrap();
    let store = append_dependent_records(store, &t);
    let grown = std::fs::read(store.path()).unwrap();

    // Record 3 re-signed by its own signer (an insider with a valid key) behind the checkpoint.
    let records = store.load().unwrap();
    let rewritten = resign(&records[3].bytes, &t.approver, |st| st["predicate"]["ticket"] = serde_json::json!("CHG-999"));
    let mut text: Vec<Vec<u8>> = records.iter().map(|r| r.bytes.to_vec()).collect();
    text[3] = rewritten;
    std::fs::write(store.path(), text.iter().flat_map(|l| [&l[..], b"\n"].concat()).collect::<Vec<u8>>()).unwrap();
    let full = verify_store(&store, &root, &[]).expect_err("the rewrite is caught by a full verification");
    let resumed = verify_store_from(&store, &root, &[], &[], Some(&state)).err().expect("the rewrite is caught by a resumed verification");
    let (f, r) = (failure_of(&full).unwrap(), failure_of(&resumed).unwrap());
    assert_eq!((f.reason.code(), f.sequence), (r.reason.code(), r.sequence), "{f} / {r}");

    // The store cut back to before the checkpoint (with the head it had then): the resumed
    // pass does not take the shorter chain for the one it verified.
    let cut: Vec<&[u8]> = original.split(|b| *b == b'\n').filter(|l| !l.is_empty()).take(SAMPLE_LEN - 2).collect();
    std::fs::write(store.path(), cut.iter().flat_map(|l| [*l, b"\n"].concat()).collect::<Vec<u8>>()).unwrap();
    std::fs::remove_file(store.checkpoint_path()).unwrap();
    let (seq, hash) = state.head().unwrap();
    let resumed = verify_store_from(&store, &root, &checkpoint(seq, &hash), &[], Some(&state));
    assert!(resumed.is_err(), "a truncated store passed a resumed verification");
    // Even without the checkpoint passed in: the resumed state is not the store.
    match verify_store_from(&store, &root, &[], &[], Some(&state)) {
        Ok((_, s, how)) => {
            assert_eq!(how, Resumed::Full, "a truncated store was resumed from a later checkpoint");
            assert_eq!(s.len(), SAMPLE_LEN as u64 - 2);
        }
        Err(e) => assert!(failure_of(&e).is_some(), "{e:#}"),
    }
    let _ = grown;
}

fn checkpoint(sequence: u64, hash: &str) -> Vec<lz_evidence::KnownCheckpoint> {
    vec![lz_evidence::KnownCheckpoint {
        checkpoint: lz_evidence::Checkpoint { sequence, hash: hash.to_string(), time: String::new() },
        source: "the verifier's checkpoint".into(),
    }]
}

fn s3_store() -> S3Store {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let endpoint = lz_platform::localstack::require(&root).expect("LocalStack");
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let s = S3Store::new(client, &format!("lz-evidence-incr-{nonce}"), "chain/", 1).unwrap();
    s.ensure_bucket().unwrap();
    s
}

#[test]
fn s3_windows_read_in_parallel_give_the_records_in_order_and_a_resumed_pass_reads_only_the_tail() {
    let t = team();
    let s = s3_store();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let release = digest("r");
    for i in 0..150 {
        a.record(DriftEvidence::new(&release, "prod", "5", vec![format!("x.y{i}")]), &t.deployer).unwrap();
    }
    let s = a.into_store();
    let windows: Vec<lz_evidence::StoredRecord> = s.windows().unwrap().map(|w| w.unwrap()).flatten().collect();
    assert_eq!(windows.len(), 150);
    for (i, r) in windows.iter().enumerate() {
        assert!(r.location.ends_with(&format!("chain/records/{i:012}.json")), "{i}: {}", r.location);
    }
    let (first, tail) = s.windows_from(140).unwrap();
    assert_eq!(first, 139, "a seeking store starts at the record its checkpoint names");
    assert_eq!(tail.map(|w| w.unwrap().len()).sum::<usize>(), 11);

    let root = trust(&t);
    let (_, state, how) = verify_store_from(&s, &root, &[], &[], None).unwrap();
    assert_eq!(how, Resumed::Full);
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let s = a.into_store();
    let (suffix, state, how) = verify_store_from(&s, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!((how, suffix.records.len()), (Resumed::Suffix, 1));
    assert_eq!(suffix.head, verify_store(&s, &root, &[]).unwrap().head);

    // A second version of record 5 (an overwrite behind the checkpoint): the resumed pass lists
    // the object versions again and reports it as a full verification does (a foreign later
    // version; the chain keeps reading the key's first version).
    let endpoint = lz_platform::localstack::require(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap();
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (bucket, key) = (s.bucket().to_string(), s.record_key(5));
    rt.block_on(async {
        client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(b"{}".to_vec())).send().await.unwrap();
    });
    let full = verify_store(&s, &root, &[]).unwrap();
    let (resumed, _, how) = verify_store_from(&s, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!(how, Resumed::Suffix);
    let shown = |c: &lz_evidence::VerifiedChain| c.quarantined.iter().map(|q| q.to_string()).collect::<Vec<_>>();
    assert_eq!(shown(&resumed), shown(&full));
    assert!(matches!(&full.quarantined[..], [q] if q.version.is_some() && q.location.contains("records/000000000005.json")), "{:?}", shown(&full));
}

/// The verifier's mirror between commands ([`lz_evidence::mirror`]): the next verification
/// reads only the new records from S3; a tampered mirror or meta file means a full verification
/// with the same verdict; an overwrite in S3 behind the mirror's end is still caught.
#[test]
fn the_mirror_is_a_performance_aid_never_a_trust_root() {
    use lz_evidence::mirror::{Mirror, Read};
    let t = team();
    let s = s3_store();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let release = digest("r");
    for i in 0..40 {
        a.record(DriftEvidence::new(&release, "prod", "5", vec![format!("x.y{i}")]), &t.deployer).unwrap();
    }
    let s = a.into_store();
    let root = trust(&t);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path(), &s, &root);
    let (chain, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!((read, chain.records.len()), (Read::Store, 40));

    // One new record: read alone from the store, the 40 mirrored ones verified again.
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let s = a.into_store();
    let (chain, state, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!(read, Read::Mirror { mirrored: 40 });
    let full = verify_store(&s, &root, &[]).unwrap();
    assert_eq!((chain.records.len(), chain.head.clone()), (41, full.head.clone()));
    assert_eq!(state.head(), full.head);
    let (_, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!(read, Read::Mirror { mirrored: 41 });

    // Another store or trust root never reads this mirror, nor does a root of as many other pins.
    let other = TrustRoot::register(team().identities, "another register");
    assert_ne!(Mirror::new(dir.path(), &s, &other).path(), mirror.path());
    let (one, two) = (TrustRoot::pinned([digest("one")]).unwrap(), TrustRoot::pinned([digest("two")]).unwrap());
    assert_eq!(one.describe(), two.describe(), "both are shown as one pin");
    assert_ne!(Mirror::new(dir.path(), &s, &one).path(), Mirror::new(dir.path(), &s, &two).path());

    // A mirrored record rewritten by an insider with a valid key (the deployer re-signs record 7
    // with another resource list): the chain no longer links to the store's head, so the store
    // is read in full, the verdict is the store's (intact: ok), and the mirror is rebuilt.
    let text = std::fs::read_to_string(mirror.path()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let forged = resign(lines[7].as_bytes(), &t.deployer, |st| st["predicate"]["resources"] = serde_json::json!(["forged.one"]));
    lines[7] = String::from_utf8(forged).unwrap();
    std::fs::write(mirror.path(), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (chain, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!((read, chain.head.clone()), (Read::Store, full.head.clone()));
    assert_eq!(std::fs::read_to_string(mirror.path()).unwrap().lines().count(), 41, "the mirror is rebuilt");
    let (_, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!(read, Read::Mirror { mirrored: 41 });

    // A meta file edited to claim fewer records (its seal no longer matches): a full read.
    let meta = mirror.path().with_extension("json");
    let edited = std::fs::read_to_string(&meta).unwrap().replace("\"records\": 41", "\"records\": 40");
    std::fs::write(&meta, edited).unwrap();
    let (chain, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!((read, chain.records.len()), (Read::Store, 41));

    // Record 3 overwritten in S3 (a second version behind the mirror's end): reported as a full
    // verification reports it (a foreign later version), the mirror kept (the chain reads the
    // key's first version, which the mirror holds).
    let endpoint = lz_platform::localstack::require(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap();
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let records = s.load().unwrap();
    let same_signer = resign(&records[3].bytes, &t.deployer, |st| st["predicate"]["ticket"] = serde_json::json!("CHG-9"));
    let (bucket, key) = (s.bucket().to_string(), s.record_key(3));
    rt.block_on(async {
        client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(same_signer)).send().await.unwrap();
    });
    let full = verify_store(&s, &root, &[]).unwrap();
    let (mirrored, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!(read, Read::Mirror { mirrored: 41 });
    let shown = |c: &lz_evidence::VerifiedChain| c.quarantined.iter().map(|q| q.to_string()).collect::<Vec<_>>();
    assert_eq!(shown(&mirrored), shown(&full));
    assert!(matches!(&full.quarantined[..], [q] if q.version.is_some() && q.location.contains("records/000000000003.json")), "{:?}", shown(&full));

    // A delete marker over record 3 (a record removed behind the mirror's end): the verdict of a
    // full verification, and a failed chain leaves no mirror.
    rt.block_on(async {
        client.delete_object().bucket(&bucket).key(&key).send().await.unwrap();
    });
    let full = verify_store(&s, &root, &[]).expect_err("the delete marker fails a full verification");
    let mirrored = mirror.verify(&s, &root, &[], &[]).err().expect("the delete marker fails a verification with the mirror");
    let (f, m) = (failure_of(&full).unwrap(), failure_of(&mirrored).unwrap());
    assert_eq!((f.reason.code(), f.sequence, &f.location), (m.reason.code(), m.sequence, &m.location), "{f} / {m}");
    assert!(!mirror.path().exists(), "a failed chain leaves no mirror");
}

/// The mirror keeps the earlier head versions it read, so that the next command does not read
/// them all again. An attacker who can write the working tree edits that file: swaps the bytes
/// of a planted (foreign) head version for an honest head's, or drops its line. The held bytes
/// are used only where the store's listing vouches for them (ETag), so the planted head is read
/// again and reported as a full verification reports it; and every held head is judged again.
#[test]
fn a_mirror_reads_no_earlier_head_twice_and_cannot_hide_one() {
    use lz_evidence::mirror::{Mirror, Read};
    let t = team();
    let s = s3_store();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let release = digest("r");
    for i in 0..5 {
        a.record(DriftEvidence::new(&release, "prod", "5", vec![format!("x.y{i}")]), &t.deployer).unwrap();
    }
    let s = a.into_store();
    let root = trust(&t);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path(), &s, &root);
    mirror.verify(&s, &root, &[], &[]).unwrap();
    let first = mirror.heads_read().expect("S3 reports its earlier heads");
    assert!(first >= 4, "a first verification reads every earlier head version: {first}");

    // A garbage head written raw, then an honest append: the garbage is an earlier head version.
    let endpoint = lz_platform::localstack::require(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap();
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (bucket, head_key) = (s.bucket().to_string(), s.head_key());
    let planted = rt.block_on(async {
        let put = client.put_object().bucket(&bucket).key(&head_key).body(ByteStream::from(b"not a head".to_vec())).send().await.unwrap();
        put.version_id().unwrap().to_string()
    });
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let s = a.into_store();
    let full = verify_store(&s, &root, &[]).unwrap();
    let shown = |c: &lz_evidence::VerifiedChain| c.quarantined.iter().map(|q| q.to_string()).collect::<Vec<_>>();
    assert!(shown(&full).iter().any(|q| q.contains(&planted)), "a full verification reports the planted head: {:?}", shown(&full));

    // The next command reads only the head versions it does not hold (the head it saw last, and
    // the planted one), and reports the planted head.
    let (chain, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert!(matches!(read, Read::Mirror { .. }), "{read:?}");
    assert_eq!(mirror.heads_read(), Some(2));
    assert_eq!(shown(&chain), shown(&full));
    // And the one after reads none, yet judges the held ones again: the planted head is reported.
    let (chain, _, _) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!(mirror.heads_read(), Some(0));
    assert_eq!(shown(&chain), shown(&full), "a held head is judged again");

    // The attacker swaps the planted version's bytes for an honest head's.
    let heads_path = mirror.path().with_extension("heads.jsonl");
    let text = std::fs::read_to_string(&heads_path).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let honest = lines.iter().find(|l| !l["location"].as_str().unwrap().contains(&planted)).unwrap()["bytes"].clone();
    let at = lines.iter().position(|l| l["location"].as_str().unwrap().contains(&planted)).expect("the planted head is held");
    lines[at]["bytes"] = honest;
    std::fs::write(&heads_path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (chain, _, read) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert!(matches!(read, Read::Mirror { .. }), "{read:?}");
    assert_eq!(mirror.heads_read(), Some(1), "the swapped head is read from the store again");
    assert_eq!(shown(&chain), shown(&full), "the planted head is still reported through the mirror");

    // ... or drops its line: read again, reported.
    lines.remove(at);
    std::fs::write(&heads_path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (chain, _, _) = mirror.verify(&s, &root, &[], &[]).unwrap();
    assert_eq!(mirror.heads_read(), Some(1));
    assert_eq!(shown(&chain), shown(&full));
}
