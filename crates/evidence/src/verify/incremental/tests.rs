//! Unit tests of the resumed pass. `verify_store_from` answers ANY failure of a resumed pass
//! with a full verification, so through it a test sees the verdict, not which check of the
//! resumed pass gave it (`crates/evidence/tests/incremental.rs`): these call `resume` itself and
//! name the check that must fail (the record whose hash changed, the store that ends early), and
//! test the rules that choose between a resumed and a full pass.
use super::super::testing;
use super::*;
use crate::archive::EvidenceArchive;
use crate::store::LocalStore;

/// The chain's store file with record `i` replaced by `f` of it.
fn rewrite(c: &testing::Chain, i: usize, f: impl FnOnce(&str) -> String) {
    let records = testing::edited(&c.records, i, f);
    let text: Vec<u8> = records.iter().flat_map(|r| [&r.bytes[..], b"\n"].concat()).collect();
    std::fs::write(c.store.path(), text).unwrap();
}

/// A record with one base64 character of its signature changed.
fn flip_sig(t: &str) -> String {
    let at = t.find("\"sig\":\"").unwrap() + 7;
    let flipped = if &t[at..at + 1] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &t[..at], &t[at + 1..])
}

/// `releases` more releases appended to the chain's store (six records each).
fn grow(c: &testing::Chain, releases: std::ops::Range<usize>) -> LocalStore {
    let mut a = EvidenceArchive::open(LocalStore::new(c.store.path()), c.team.identities.clone()).unwrap();
    crate::bench::fill(&mut a, &c.team, releases).unwrap();
    a.into_store()
}

#[test]
fn a_resumed_pass_verifies_only_the_new_records_and_carries_the_state_to_the_new_head() {
    let c = testing::chain(1);
    let (_, state, how) = verify_store_from(&c.store, &c.root, &[], &[], None).unwrap();
    assert_eq!((how, state.len(), state.head().map(|h| h.0)), (Resumed::Full, 6, Some(5)));
    let store = grow(&c, 1..2);
    let (chain, later, how) = verify_store_from(&store, &c.root, &[], &[], Some(&state)).unwrap();
    assert_eq!(how, Resumed::Suffix);
    assert_eq!(chain.records.iter().map(|r| r.sequence).collect::<Vec<_>>(), (6..12).collect::<Vec<u64>>());
    let records = store.load().unwrap();
    assert_eq!(later.len(), 12);
    assert_eq!(later.objects(), 12);
    assert_eq!(later.hash_at(11), Some(hex::encode(Sha256::digest(&records[11].bytes))));
    assert_eq!(later.hash_at(3), state.hash_at(3), "the hashes behind the checkpoint are carried");
    assert_eq!(later.hash_at(12), None);
    assert_eq!(later.head(), Some((11, hex::encode(Sha256::digest(&records[11].bytes)))));
    // The full verification's verdict and head are the same.
    let (full, _, how) = verify_store_from(&store, &c.root, &[], &[], None).unwrap();
    assert_eq!((how, full.head), (Resumed::Full, chain.head));
}

#[test]
fn a_record_rewritten_behind_the_checkpoint_fails_the_resumed_pass_itself() {
    let c = testing::chain(2);
    let (_, state, _) = verify_store_from(&c.store, &c.root, &[], &[], None).unwrap();
    // Record 3's signature changed (the resumed pass never verifies records behind its
    // checkpoint again: it compares their hashes).
    rewrite(&c, 3, flip_sig);
    let e = resume(&c.store, &[], &[], &state, 0, 0).err().expect("the resumed pass took a rewritten record");
    assert_eq!(e.downcast_ref::<PrefixChanged>().map(|p| p.0), Some(3), "{e:#}");
    // The last record behind the checkpoint too (the one the checkpoint names).
    let c = testing::chain(2);
    let (_, state, _) = verify_store_from(&c.store, &c.root, &[], &[], None).unwrap();
    rewrite(&c, 11, flip_sig);
    let e = resume(&c.store, &[], &[], &state, 0, 0).err().expect("the resumed pass took a rewritten checkpoint record");
    assert!(format!("{e:#}").contains("record 11"), "{e:#}");
}

#[test]
fn a_store_that_ends_before_the_checkpoint_fails_the_resumed_pass_itself() {
    let c = testing::chain(2);
    let (_, state, _) = verify_store_from(&c.store, &c.root, &[], &[], None).unwrap();
    // The store cut back to 10 of its 12 records.
    let text: Vec<u8> = c.records[..10].iter().flat_map(|r| [&r.bytes[..], b"\n"].concat()).collect();
    std::fs::write(c.store.path(), text).unwrap();
    let e = resume(&c.store, &[], &[], &state, 0, 0).err().expect("a resumed pass took a store shorter than its checkpoint");
    assert!(format!("{e:#}").contains("the store ends before the checkpoint (record 11)"), "{e:#}");
}

#[test]
fn a_state_is_resumed_only_for_its_own_store_and_trust_root() {
    let c = testing::chain(1);
    let (_, state, _) = verify_store_from(&c.store, &c.root, &[], &[], None).unwrap();
    assert!(state.matches(&c.store, &c.root));
    // The same records in another store: verified in full.
    let dir = tempfile::tempdir().unwrap();
    let copy = LocalStore::new(dir.path().join("copy.jsonl"));
    std::fs::copy(c.store.path(), copy.path()).unwrap();
    std::fs::copy(c.store.checkpoint_path(), copy.checkpoint_path()).unwrap();
    assert!(!state.matches(&copy, &c.root));
    let (_, _, how) = verify_store_from(&copy, &c.root, &[], &[], Some(&state)).unwrap();
    assert_eq!(how, Resumed::Full);
    // Another trust root (another register): never resumed from this state.
    let other = TrustRoot::register(crate::bench::team().unwrap().identities, "another register");
    assert!(!state.matches(&c.store, &other));
    assert!(verify_store_from(&c.store, &other, &[], &[], Some(&state)).is_err(), "a chain passed under a register that signed none of it");
}

#[test]
fn the_earlier_heads_checked_leave_out_a_quarantined_one() {
    let head = |location: &str| StoredRecord { location: location.into(), bytes: Default::default() };
    let anchors = Anchors { earlier_heads: vec![head("head@v1"), head("head@v2"), head("head@v3")], ..Anchors::default() };
    let foreign = crate::Quarantined {
        location: "head@v2".into(),
        sequence: None,
        sha256: String::new(),
        size: 0,
        writer: String::new(),
        why: String::new(),
        skipped_by: None,
        seen: true,
        version: None,
    };
    assert_eq!(heads_checked(&anchors, &[]).collect::<Vec<_>>(), ["head@v1", "head@v2", "head@v3"]);
    assert_eq!(heads_checked(&anchors, &[foreign]).collect::<Vec<_>>(), ["head@v1", "head@v3"]);
}
