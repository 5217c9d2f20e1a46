//! Every check of a full verification holds when verification resumes from an earlier head
//! ([`lz_evidence::verify_store_from`]) or reads through the verifier's mirror: foreign objects
//! planted after the cached verification are reported (quarantine), witnessed checkpoints are
//! checked against the whole chain (behind-witness, witness-mismatch), the chain's rules after
//! the resumed pass are those of the whole chain, and a record removed behind the checkpoint
//! fails as it fails a full verification.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::*;
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::mirror::{Mirror, Read};
use lz_evidence::record::*;
use lz_evidence::witness::{origin_of, sign, WitnessCheckpoint, Witnessed};
use lz_evidence::{
    failure_of, verify_store, verify_store_from, Anchors, EvidenceArchive, Identities, LocalStore, Resumed, S3Store, Signer, Store, TrustRoot,
    VerifiedChain,
};

fn shown(c: &VerifiedChain) -> Vec<String> {
    c.quarantined.iter().map(|q| q.to_string()).collect()
}

/// The failure of `e` as (code, sequence, location).
fn failure(e: &anyhow::Error) -> (String, Option<u64>, String) {
    let f = failure_of(e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    (f.reason.code().to_string(), f.sequence, f.location.clone())
}

fn root_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn client() -> aws_sdk_s3::Client {
    let endpoint = lz_platform::localstack::require(&root_dir()).expect("LocalStack");
    lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1")
}

/// A raw write, as anyone who can write the bucket could (the bucket's COMPLIANCE retention
/// locks it).
fn raw_put(s: &S3Store, key: &str, bytes: &[u8]) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(client().put_object().bucket(s.bucket()).key(key).body(ByteStream::from(bytes.to_vec())).send()).unwrap();
}

fn raw_delete(s: &S3Store, key: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(client().delete_object().bucket(s.bucket()).key(key).send()).unwrap();
}

/// The full verification, the resumed one (which must resume) and the one through the mirror
/// (which must read the mirror) agree: the same head and the same foreign objects.
fn agree(s: &S3Store, root: &TrustRoot, state: &lz_evidence::Resumable, mirror: &Mirror) -> (VerifiedChain, lz_evidence::Resumable) {
    let full = verify_store(s, root, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    let (resumed, next, how) = verify_store_from(s, root, &[], &[], Some(state)).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(how, Resumed::Suffix, "the resumed pass fell back to a full one");
    assert_eq!((resumed.head.clone(), shown(&resumed)), (full.head.clone(), shown(&full)));
    assert_eq!(resumed.rules.after(), full.rules.after());
    let (mirrored, _, read) = mirror.verify(s, root, &[], &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(matches!(read, Read::Mirror { .. }), "the mirror was not read: {read:?}");
    assert_eq!((mirrored.head.clone(), shown(&mirrored)), (full.head.clone(), shown(&full)));
    (full, next)
}

#[test]
fn foreign_objects_planted_after_a_cached_verification_are_reported_on_the_resumed_pass() {
    let t = team();
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let s = S3Store::new(client(), &format!("lz-incr-foreign-{nonce}"), "", 1).unwrap();
    s.ensure_bucket().unwrap();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let drift = |tag: &str| DriftEvidence::new(&digest("r"), "prod", "5", vec![tag.to_string()]);
    for i in 0..6 {
        a.record(drift(&format!("before-{i}")), &t.deployer).unwrap();
    }
    let s = a.into_store();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path(), &s, &root);
    mirror.verify(&s, &root, &[], &[]).unwrap();
    let (_, state, _) = verify_store_from(&s, &root, &[], &[], None).unwrap();

    // Garbage at the next key: a foreign object, not yet recorded.
    raw_put(&s, &s.record_key(6), b"not a record");
    let (full, state) = agree(&s, &root, &state, &mirror);
    assert!(matches!(&full.quarantined[..], [q] if q.sequence == Some(6) && q.skipped_by.is_none()), "{:?}", shown(&full));

    // A later version over record 2, behind the checkpoint.
    raw_put(&s, &s.record_key(2), b"{\"payload\": \"over a record\"}");
    let (full, state) = agree(&s, &root, &state, &mirror);
    assert_eq!(full.quarantined.len(), 2, "{:?}", shown(&full));
    assert!(full.quarantined.iter().any(|q| q.version.is_some() && q.location.contains("records/000000000002.json")), "{:?}", shown(&full));

    // An honest append records the skip of key 6; the resumed pass carries it on.
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    let r = a.record(drift("after"), &t.deployer).unwrap();
    assert_eq!(r.sequence, 7);
    let s = a.into_store();
    let (full, state) = agree(&s, &root, &state, &mirror);
    assert!(full.quarantined.iter().any(|q| q.sequence == Some(6) && q.skipped_by == Some(7)), "{:?}", shown(&full));
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    a.record(drift("later"), &t.deployer).unwrap();
    let s = a.into_store();
    let (full, state) = agree(&s, &root, &state, &mirror);
    assert!(full.quarantined.iter().any(|q| q.sequence == Some(6) && q.skipped_by == Some(7)), "{:?}", shown(&full));

    // A garbage head: quarantined as a foreign head on every pass.
    raw_put(&s, &s.head_key(), b"garbage head");
    let (full, state) = agree(&s, &root, &state, &mirror);
    assert!(full.quarantined.iter().any(|q| q.sequence.is_none() && q.version.is_none()), "{:?}", shown(&full));
    // Honest appends over it: the garbage is an earlier head version behind heads the resumed
    // state judged (a resumed pass may stop listing the head's versions at one it judged, but
    // not while a foreign head is quarantined): still reported on each pass.
    let mut s = s;
    let mut state = state;
    for tag in ["over-garbage-1", "over-garbage-2"] {
        let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
        a.record(drift(tag), &t.deployer).unwrap();
        s = a.into_store();
        let (full, next) = agree(&s, &root, &state, &mirror);
        assert!(full.quarantined.iter().any(|q| q.sequence.is_none() && q.version.is_some()), "{tag}: {:?}", shown(&full));
        state = next;
    }

    // A delete marker over record 1 (a record removed behind the checkpoint): the resumed pass
    // and the mirror give the full verification's failure.
    raw_delete(&s, &s.record_key(1));
    let full = verify_store(&s, &root, &[]).expect_err("a delete marker fails a full verification");
    let resumed = verify_store_from(&s, &root, &[], &[], Some(&state)).err().expect("a delete marker fails a resumed verification");
    let mirrored = mirror.verify(&s, &root, &[], &[]).err().expect("a delete marker fails a verification through the mirror");
    assert_eq!(failure(&resumed), failure(&full));
    assert_eq!(failure(&mirrored), failure(&full));
    assert!(["gap", "store-integrity"].contains(&failure(&full).0.as_str()), "{:?}", failure(&full));
}

struct World {
    ids: Identities,
    deployer: Signer,
    witness: Signer,
}

fn world() -> World {
    let (d, w) = (generate_key(), generate_key());
    let text = format!(
        "[identity.deploy-bot]\nname = \"D\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n\n\
         [identity.audit-witness]\nname = \"W\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{}\"\n",
        encode_public_key(&d.verifying_key()),
        encode_public_key(&w.verifying_key())
    );
    World { ids: Identities::parse(&text, "ids.toml").unwrap(), deployer: Signer::new("deploy-bot", d), witness: Signer::new("audit-witness", w) }
}

fn note(records: &[lz_evidence::StoredRecord], size: u64, head_hash: String, signer: &Signer) -> Witnessed {
    let cp = WitnessCheckpoint { origin: origin_of(&lz_evidence::dsse::sha256_hex(&records[0].bytes)), size, hash: head_hash, time: "2026-12-06T18:00:00Z".into(), listing: None, state: None };
    Witnessed { note: sign(&cp, signer).unwrap(), source: "witnessed checkpoint (test)".into() }
}

#[test]
fn the_witnessed_checkpoint_is_checked_against_the_whole_chain_on_the_resumed_pass() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.jsonl");
    let append = |n: usize| {
        let mut a = EvidenceArchive::open(LocalStore::new(&path), w.ids.clone()).unwrap();
        for i in 0..n {
            a.record(DriftEvidence::new(&"ab".repeat(32), "prod", "5", vec![format!("aws_s3_bucket.b{i}")]), &w.deployer).unwrap();
        }
    };
    append(6);
    let store = LocalStore::new(&path);
    let root = TrustRoot::register(w.ids.clone(), "ids.toml");
    let records = store.load().unwrap();
    let hash = |i: usize| lz_evidence::dsse::sha256_hex(&records[i].bytes);
    let good = note(&records, 6, hash(5), &w.witness);
    let (_, state, _) = verify_store_from(&store, &root, &[], std::slice::from_ref(&good), None).unwrap();
    append(2);

    // The witnessed head (record 5) is behind the checkpoint the state carries: checked against
    // the carried hashes.
    let (chain, _, how) = verify_store_from(&store, &root, &[], std::slice::from_ref(&good), Some(&state)).unwrap();
    assert_eq!((how, chain.records.len()), (Resumed::Suffix, 2));

    // A note that holds another hash for record 5 (the chain was rewritten after it was
    // witnessed, or the note is of another history): witness-mismatch, as a full pass says.
    let other = note(&records, 6, hash(4), &w.witness);
    let resumed = verify_store_from(&store, &root, &[], std::slice::from_ref(&other), Some(&state)).err().expect("a resumed pass accepted a mismatching witness");
    let full = verify_store_from(&store, &root, &[], std::slice::from_ref(&other), None).err().expect("a full pass accepted a mismatching witness");
    assert_eq!(failure(&resumed), failure(&full));
    assert_eq!(failure(&resumed).0, "witness-mismatch");

    // A note that vouches for more records than the store holds: behind-witness.
    let all = store.load().unwrap();
    let ahead = note(&all, 9, lz_evidence::dsse::sha256_hex(&all[7].bytes), &w.witness);
    let resumed = verify_store_from(&store, &root, &[], std::slice::from_ref(&ahead), Some(&state)).err().expect("a resumed pass accepted a chain behind its witness");
    assert_eq!(failure(&resumed).0, "behind-witness");

    // The store cut back to 4 records behind the checkpoint and two other records appended, its
    // head signed by a registered key (an insider): record 5 is not the one witnessed.
    let (_, state, _) = verify_store_from(&store, &root, &[], std::slice::from_ref(&good), None).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).unwrap();
    std::fs::remove_file(path.with_extension("head.json")).ok();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p != path {
            std::fs::remove_file(p).unwrap();
        }
    }
    let mut a = EvidenceArchive::open(LocalStore::new(&path), w.ids.clone()).unwrap();
    for tag in ["again", "and-again"] {
        a.record(DriftEvidence::new(&"ab".repeat(32), "prod", "5", vec![format!("aws_s3_bucket.{tag}")]), &w.deployer).unwrap();
    }
    let resumed = verify_store_from(&store, &root, &[], std::slice::from_ref(&good), Some(&state)).err().expect("a resumed pass accepted a shortened chain");
    let full = verify_store_from(&store, &root, &[], std::slice::from_ref(&good), None).err().expect("a full pass accepted a shortened chain");
    assert_eq!(failure(&resumed), failure(&full));
    assert_eq!(failure(&resumed).0, "witness-mismatch", "record 5 is now another record");
    // Without the witness, the chain is consistent again: the resumed pass still does not take
    // the carried state for it (its records 4 and 5 are gone), it verifies in full.
    let (_, _, how) = verify_store_from(&store, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!(how, Resumed::Full);
}

#[test]
fn the_rules_after_a_resumed_pass_are_those_of_the_whole_chain() {
    let t = team();
    let dir = tempfile::tempdir().unwrap();
    let store = sample_chain(dir.path(), &t);
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let (_, state, _) = verify_store_from(&store, &root, &[], &[], None).unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(store.path()), t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&digest("release-1"), "prod", "555555555555", vec![]), &t.deployer).unwrap();
    let (chain, _, how) = verify_store_from(&store, &root, &[], &[], Some(&state)).unwrap();
    assert_eq!((how, chain.records.len()), (Resumed::Suffix, 1));
    let full = verify_store(&store, &root, &[]).unwrap();
    assert_eq!(chain.rules.after(), full.rules.after());
    assert_eq!(chain.rules.after(), Some(SAMPLE_LEN as u64 + 1));

    // An archive opened on the resumed chain judges the next record by the rules of the whole
    // chain: break-glass 10 was opened for prod (far behind the checkpoint), an approval of it
    // for dev is refused before it is written; one for prod is taken.
    let mut a = EvidenceArchive::open_verified(LocalStore::new(store.path()), &chain).unwrap();
    let err = a.record(BreakGlassApprovalEvidence::new(&digest("release-1"), "dev", 10, "INC-9"), &t.approver2).unwrap_err();
    assert!(err.is::<lz_evidence::Refused>(), "{err:#}");
    let before = store.load().unwrap().len();
    assert_eq!(before, SAMPLE_LEN + 1, "nothing was written");
    a.record(BreakGlassApprovalEvidence::new(&digest("release-1"), "prod", 10, "INC-9"), &t.approver2).unwrap();
    let anchors = Anchors::of_store(&store, Vec::new()).unwrap();
    lz_evidence::verify_chain_with(&store.load().unwrap(), &root, &anchors).unwrap();
}
