//! A witnessed listing (issue 36, `lz_evidence::vouch`): the witness signs, with its checkpoint,
//! what its full listing of the store showed (the head version, one version per record key and
//! no delete marker up to the checkpoint); a verifier holding that note lists only the keys after
//! it. Insider tests: a raw overwrite or a delete marker behind the witnessed size after the
//! witness ran changes no decision and is reported by the next witness run and by a full
//! listing; a forged note (another key under the witness's name, a registered non-witness's key,
//! an edited size, a head version that is not the witnessed one) is refused and the whole store
//! is listed; a truncation behind the witnessed size is still caught.
//!
//! S3 request counters are the process's: the tests of this binary run one at a time.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::world::*;
use common::*;
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::*;
use lz_evidence::vouch::{verified, Listed};
use lz_evidence::witness::{cosign, sign, state_dir, WitnessStore, Witnessed};
use lz_evidence::{failure_of, verify_store, verify_store_from, EvidenceArchive, Identities, Resumed, S3Store, Signer, Store, TrustRoot};
use lz_platform::s3_calls::Calls;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A world of `n` records, witnessed, then `after` records more; with the witness's note.
fn witnessed_then(name: &str, n: usize, after: usize) -> (World, Witnessed) {
    let mut w = world(name);
    w.append(n);
    w.witness().unwrap();
    let note = w.latest();
    w.append(after);
    (w, note)
}

/// The listing pages `f` requested, and what it returned.
fn pages<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = Calls::now();
    let out = f();
    (Calls::since(before).list, out)
}

fn later_version_of(chain: &lz_evidence::VerifiedChain, seq: u64) -> bool {
    chain.quarantined.iter().any(|q| q.version.is_some() && q.location.contains(&format!("records/{seq:012}.json")))
}

#[test]
fn a_witnessed_listing_lists_only_what_follows_and_an_overwrite_behind_it_changes_no_decision() {
    let _alone = alone();
    let mut w = world("over");
    w.append(12);
    let done = w.witness().unwrap();
    assert!(done.findings.is_empty(), "{:?}", done.findings);
    let listing = done.checkpoint.listing.clone().expect("the note carries the witness's listing");
    assert_eq!((listing.versions, listing.markers), (12, 0));
    assert_eq!(Some(&listing.head_version), w.head_versions().first(), "the head version the witness listed");
    let (_, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();

    // One record after the witness. Without the note a resumed pass lists every record version
    // (13 versions: 7 pages); with it, only the keys after the witnessed size and the head
    // versions newer than the witnessed one.
    w.append(1);
    let note = w.latest();
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    let (full_pages, full) = pages(|| verified(&w.store, &[], None, resume).unwrap());
    let (vouched_pages, vouched) = pages(|| verified(&w.store, &[], Some(&note), resume).unwrap());
    println!("resumed pass after 1 new record: {full_pages} listing pages without the note, {vouched_pages} with it");
    assert_eq!((full.1, vouched.1), (Listed::Full, Listed::Vouched));
    assert_eq!(((full.0).2, (vouched.0).2), (Resumed::Suffix, Resumed::Suffix));
    assert!(full_pages >= 8, "without the note every record version is listed: {full_pages}");
    assert!(vouched_pages <= 2, "with the note only what follows it (the head versions down to the witnessed one, the record keys after it): {vouched_pages}");
    assert_eq!((vouched.0).0.head, (full.0).0.head);
    let state = (vouched.0).1;
    let before = (vouched.0).0;

    // An insider writes a version over record 1 after the witness ran. A verification that
    // carries the record does not read its key again: the same chain, the same head, the same
    // record hash at 1 (no decision can change by it).
    let original_1 = state.hash_at(1);
    w.overwrite(1);
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    let ((chain, after, how), listed) = verified(&w.store, &[], Some(&note), resume).unwrap();
    assert_eq!((listed, how), (Listed::Vouched, Resumed::Suffix));
    assert_eq!((chain.head.clone(), chain.register.fingerprint()), (before.head.clone(), before.register.fingerprint()));
    assert_eq!(after.hash_at(1), original_1, "the record the decisions read is the one the witness vouched for");
    assert!(chain.quarantined.is_empty(), "the overwrite is not seen behind the witnessed listing: {:?}", chain.quarantined);
    // A verification from scratch reads record 1 by key: the foreign bytes break the chain to the
    // witnessed hash, so it lists the whole store, and reports the overwrite.
    let scratch = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, None);
    let ((chain, _, _), listed) = verified(&w.store, &[], Some(&note), scratch).unwrap();
    assert_eq!(listed, Listed::Full);
    assert!(later_version_of(&chain, 1), "{:?}", chain.quarantined);
    assert_eq!(chain.head, before.head);
    // `evidence verify --full` (every version listed) reports it.
    assert!(later_version_of(&verify_store(&w.store, &w.root, &[]).unwrap(), 1));
    // So does the next witness run, which vouches for no listing while it sees it: every
    // verification then lists the whole store and reports it.
    let done = w.witness().unwrap();
    assert!(done.checkpoint.listing.is_none());
    assert!(done.findings.iter().any(|f| f.contains("records/000000000001.json") && f.contains("2 versions")), "{:?}", done.findings);
    let note = w.latest();
    let ((chain, _, _), listed) = verified(&w.store, &[], Some(&note), resume).unwrap();
    assert_eq!(listed, Listed::Full);
    assert!(later_version_of(&chain, 1), "{:?}", chain.quarantined);
}

#[test]
fn a_forged_witness_note_is_refused_and_the_whole_store_is_listed() {
    let _alone = alone();
    let mut w = world("forged");
    w.append(6);
    let cp = w.witness().unwrap().checkpoint;
    assert!(cp.listing.is_some());
    let genuine = w.latest();
    let (_, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();
    // Written over record 1 after the witness ran: a full listing reports it, the witnessed one does not.
    w.overwrite(1);
    let old_head = w.head_versions()[1].clone();
    let note = |cp: &lz_evidence::witness::WitnessCheckpoint, by: &Signer| Witnessed { note: sign(cp, by).unwrap(), source: "forged note".into() };
    let edited = String::from_utf8(genuine.note.clone()).unwrap().replacen(&format!("\n{}\n", cp.size), "\n3\n", 1);
    // The listing line's digest edited: the vouch itself is well formed and the head version
    // holds, so only the witness's signature (checked by the shortened verification) refuses it.
    let digest = &cp.listing.as_ref().unwrap().digest;
    let flipped = format!("{}{}", &digest[..63], if digest.ends_with('0') { '1' } else { '0' });
    let edited_digest = String::from_utf8(genuine.note.clone()).unwrap().replacen(digest.as_str(), &flipped, 1);
    let mut wrong_head = cp.clone();
    wrong_head.listing.as_mut().unwrap().head_version = old_head;
    let forged = [
        ("another key under the witness's name", note(&cp, &Signer::new("audit-witness", generate_key()))),
        ("one key only: the deployer's", note(&cp, &w.t.deployer)),
        ("a stale size (the witness's note edited)", Witnessed { note: edited.into_bytes(), source: "edited note".into() }),
        ("an edited listing line (the signature no longer holds)", Witnessed { note: edited_digest.into_bytes(), source: "edited note".into() }),
        ("a head version that is not the witnessed one", note(&wrong_head, &w.witness)),
    ];
    let vouch = lz_evidence::vouch::Vouch::of(&forged[3].1).expect("the edited note still makes a vouch");
    assert!(w.store.vouch_holds(&vouch).unwrap(), "its head version holds: only the signature can refuse it");
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    for (what, forged) in &forged {
        let ((chain, _, _), listed) = verified(&w.store, &[], Some(forged), resume).unwrap_or_else(|e| panic!("{what}: {e:#}"));
        assert_eq!(listed, Listed::Full, "{what}: refused as a voucher");
        assert!(later_version_of(&chain, 1), "{what}: the whole store was listed: {:?}", chain.quarantined);
    }
    // The genuine note, for contrast: the overwrite behind it is not listed.
    let ((chain, _, _), listed) = verified(&w.store, &[], Some(&genuine), resume).unwrap();
    assert_eq!(listed, Listed::Vouched);
    assert!(chain.quarantined.is_empty(), "{:?}", chain.quarantined);
}

#[test]
fn a_delete_marker_behind_the_witnessed_size_is_inert_and_reported_and_a_truncation_is_caught() {
    let _alone = alone();
    let mut w = world("marker");
    w.append(8);
    assert!(w.witness().unwrap().checkpoint.listing.is_some());
    let note = w.latest();
    let (before, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();

    // A delete marker over record 2 after the witness ran: a resumed pass does not read that key
    // again, so no decision changes; the next witness run and a full listing report it.
    w.delete_marker(2);
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    let ((chain, _, _), listed) = verified(&w.store, &[], Some(&note), resume).unwrap();
    assert_eq!(listed, Listed::Vouched);
    assert_eq!(chain.head, before.head);
    // Under another key (a name no register holds with it) the refusal retires nothing and says so.
    let stranger = Signer::new("audit-witness", generate_key());
    let err = cosign(&w.store, &w.ws, &w.root, Vec::new(), &stranger).expect_err("the marker is found");
    assert!(failure_of(&err).is_some() && format!("{err:#}").contains("still in force"), "{err:#}");
    assert_eq!(w.latest().note, note.note);
    let err = w.witness().expect_err("the witness's full listing finds the marker");
    // (A record hidden by a marker is missing from the chain read, which fails there.)
    let names_record_2 = |err: &anyhow::Error| {
        let f = failure_of(err).unwrap_or_else(|| panic!("{err:#}"));
        f.to_string().contains("record 2 is missing") || (f.to_string().contains("delete marker") && f.location.contains("records/000000000002.json"))
    };
    assert!(names_record_2(&err), "{err:#}");
    let err = verify_store(&w.store, &w.root, &[]).expect_err("a full listing finds the marker");
    assert!(names_record_2(&err), "{err:#}");
    // The refusing witness retired its listing: the latest note vouches for none, so the same
    // resumed pass now lists the whole store and refuses as `--full` does.
    let retired = w.latest();
    assert_ne!(retired.note, note.note, "the witness wrote a note retiring the listing");
    assert!(lz_evidence::witness::parse(&retired.note).unwrap().checkpoint.listing.is_none());
    let err = verified(&w.store, &[], Some(&retired), resume).err().expect("after the witness refused, the decision refuses too");
    assert!(names_record_2(&err), "{err:#}");

    // A truncation behind the witnessed size (8 records): markers over records 6 and 7 and the
    // head put back to the checkpoint of record 5. A resumed pass reads record 7 (the one its
    // state ends with) and does not find it: it falls back to the full listing, which fails;
    // so does a verification from scratch under the note.
    let mut w = world("trunc");
    w.append(6);
    let head_at_6b = w.store.head().unwrap().unwrap().bytes.to_vec();
    w.append(2);
    w.witness().unwrap();
    let note = w.latest();
    let (_, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();
    w.delete_marker(7);
    w.delete_marker(6);
    let (bucket, key) = (w.store.bucket().to_string(), w.store.head_key());
    w.rt.block_on(w.client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(head_at_6b)).send()).unwrap();
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    let err = verified(&w.store, &[], Some(&note), resume).err().expect("a truncation behind the witnessed size fails");
    assert!(failure_of(&err).is_some_and(|f| f.to_string().contains("record 6 is missing") || f.to_string().contains("delete marker")), "{err:#}");
    let scratch = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, None);
    assert!(verified(&w.store, &[], Some(&note), scratch).is_err());
}

/// A raw object at `key` of the store's bucket (an insider with write access to it).
fn plant(w: &World, seq: u64, body: &[u8]) {
    let (bucket, key) = (w.store.bucket().to_string(), w.store.record_key(seq));
    w.rt.block_on(w.client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(body.to_vec())).send()).unwrap();
}

fn quarantined_at(chain: &lz_evidence::VerifiedChain, seq: u64) -> bool {
    chain.quarantined.iter().any(|q| q.location.contains(&format!("records/{seq:012}.json")))
}

#[test]
fn an_object_planted_beyond_a_gap_after_the_witnessed_size_is_read_as_a_full_listing_reads_it() {
    let _alone = alone();
    let mut w = world("gap");
    w.append(6);
    w.witness().unwrap();
    let note = w.latest();
    let (_, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();
    w.append(1);
    // Records 0..=6; an object at key 9 (keys 7 and 8 empty).
    plant(&w, 9, b"{}");
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    assert!(quarantined_at(&full, 9), "a full listing reads key 9: {:?}", full.quarantined);
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    let scratch = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, None);
    for (what, chain) in [
        ("resumed", verified(&w.store, &[], Some(&note), resume).map(|((c, _, _), l)| (c, l))),
        ("from scratch", verified(&w.store, &[], Some(&note), scratch).map(|((c, _, _), l)| (c, l))),
    ] {
        let (chain, listed) = chain.unwrap_or_else(|e| panic!("{what}: {e:#}"));
        assert!(quarantined_at(&chain, 9), "{what} ({listed:?}): the key beyond the gap is read: {:?}", chain.quarantined);
        assert_eq!(chain.head, full.head, "{what}");
    }
}

#[test]
fn a_version_written_over_a_key_after_the_witnessed_size_is_read_at_its_first_version() {
    let _alone = alone();
    let mut w = world("tailover");
    w.append(6);
    w.witness().unwrap();
    let note = w.latest();
    let (_, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();
    w.append(2);
    let full_before = verify_store(&w.store, &w.root, &[]).unwrap();
    // A version written over record 7 (after the witnessed size 6): a full listing takes the
    // first version as record 7 and quarantines the later one; so does the witnessed path.
    w.overwrite(7);
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    assert!(later_version_of(&full, 7), "{:?}", full.quarantined);
    assert_eq!(full.head, full_before.head);
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    let ((chain, _, _), listed) = verified(&w.store, &[], Some(&note), resume).unwrap();
    assert_eq!(listed, Listed::Vouched, "the record at key 7 is its first version: the witnessed pass holds");
    assert!(later_version_of(&chain, 7), "{:?}", chain.quarantined);
    assert_eq!(chain.head, full.head);
}

#[test]
fn the_witness_names_only_the_head_version_its_verification_checked() {
    let _alone = alone();
    let mut w = world("headrace");
    w.append(6);
    let chain = verify_store(&w.store, &w.root, &[]).unwrap();
    let (seq, hash) = chain.head.clone().unwrap();
    let verified_head = w.store.head().unwrap().unwrap().bytes.to_vec();
    // As the witness lists, the head it verified is still the latest: it is named.
    let (listing, findings) = w.store.listing_upto(seq + 1, &hash, Some(&verified_head)).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(listing.expect("a listing").head_version, w.head_versions()[0]);
    // An insider writes an unsigned head version naming the same record between the witness's
    // verification and its listing: the version is not the one verified, so no listing is vouched.
    let text = String::from_utf8(verified_head.clone()).unwrap();
    let sig = text.split("\"sig\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let other = if sig.starts_with('A') { format!("B{}", &sig[1..]) } else { format!("A{}", &sig[1..]) };
    let forged = text.replacen(&sig, &other, 1);
    assert_ne!(forged, text);
    let (bucket, key) = (w.store.bucket().to_string(), w.store.head_key());
    w.rt.block_on(w.client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(forged.into_bytes())).send()).unwrap();
    let (listing, _) = w.store.listing_upto(seq + 1, &hash, Some(&verified_head)).unwrap();
    assert!(listing.is_none(), "a head version the witness did not verify is never vouched for: {listing:?}");
    let (listing, _) = w.store.listing_upto(seq + 1, &hash, None).unwrap();
    assert!(listing.is_none());
}


/// The witness keeps its verification's listing for its note; a record appended after that
/// listing and before the verification read the records (a live landing zone) is judged by
/// the verification, so the kept listing, which lacks it, is not the one the note describes:
/// the store is listed again, and the append is no finding. Without the new listing the note
/// had the finding "5 record keys listed up to record 5, for 6 records".
#[test]
fn a_record_appended_after_the_kept_listing_is_listed_again_not_reported() {
    let _alone = alone();
    let mut w = world("keptrace");
    w.append(5);
    w.store.keep_listing();
    w.store.integrity().unwrap();
    // The late record, appended with no listing after it (a verification's own listing would
    // replace the kept one).
    let mut late = None;
    w.archive(|a, w| late = Some(a.record(DriftEvidence::new(&digest("r"), "prod", "5", vec!["x.late".into()]), &w.t.deployer).unwrap()));
    let late = late.unwrap();
    assert_eq!(late.sequence, 5);
    let verified_head = w.store.head().unwrap().unwrap().bytes.to_vec();
    let (listing, findings) = w.store.listing_upto(6, &late.hash, Some(&verified_head)).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(listing.expect("a listing").versions, 6);
}

#[test]
fn a_voucher_counts_only_from_a_witness_of_the_current_register_and_under_its_own_key() {
    let _alone = alone();
    let (w, note) = witnessed_then("current", 6, 1);
    let (_, state, _) = verify_store_from(&w.store, &w.root, &[], &[], None).unwrap();
    let resume = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, Some(&state));
    assert_eq!(verified(&w.store, &[], Some(&note), resume).unwrap().1, Listed::Vouched);
    // The same verification, as if the chain's register had dropped the witness after the size it
    // witnessed (a witness removed, its key compromised): the note vouches for no listing.
    let without = Identities::parse(&w.t.text, "identities.toml").unwrap();
    let dropped = |s: &dyn Store, witnessed: &[Witnessed]| {
        resume(s, witnessed).map(|(mut chain, state, how)| {
            chain.register = without.clone();
            (chain, state, how)
        })
    };
    assert_eq!(verified(&w.store, &[], Some(&note), dropped).unwrap().1, Listed::Full);

    // The latest note copied under a later key of the witness store (anyone who can write the
    // bucket): the key order no longer matches what the note says, and reading it is an error.
    let text = String::from_utf8(note.note.clone()).unwrap();
    let size: u64 = text.lines().nth(1).unwrap().parse().unwrap();
    let bucket = note.source.split("s3://").nth(1).unwrap().split('/').next().unwrap().to_string();
    let later = WitnessStore::key(size, 4_000_000_000);
    w.rt.block_on(w.client.put_object().bucket(&bucket).key(&later).body(ByteStream::from(note.note.clone())).send()).unwrap();
    let err = w.ws.latest().expect_err("a note under a key that is not its own");
    assert!(format!("{err:#}").contains("not what its key names"), "{err:#}");
}

/// The exact version set (issue 36): the note's listing pins the object version of every record
/// it vouches for. An insider writes a new version over record 3 after the witness ran, with
/// the record's own bytes (Object Lock governance bypass, or a store without lock): the hash
/// chain still holds, so only the version ids show it. A verification that reads the vouched
/// keys by key (a verifier with nothing carried, listing only what follows the witness) finds
/// that the versions it read are not the witnessed ones, and its full listing reports the later
/// version. Without the check the vouched pass accepted the store.
#[test]
fn a_version_written_over_a_vouched_record_with_its_own_bytes_is_caught_by_the_pinned_versions() {
    let _alone = alone();
    let (w, note) = witnessed_then("pinned", 8, 1);
    let scratch = |s: &dyn Store, witnessed: &[Witnessed]| verify_store_from(s, &w.root, &[], witnessed, None);
    let ((before, _, _), listed) = verified(&w.store, &[], Some(&note), scratch).unwrap();
    assert_eq!(listed, Listed::Vouched, "untouched, the witnessed listing shortens the verification");
    assert!(before.quarantined.is_empty(), "{:?}", before.quarantined);

    let (bucket, key) = (w.store.bucket().to_string(), w.store.record_key(3));
    let own = w.rt.block_on(async { w.client.get_object().bucket(&bucket).key(&key).send().await.unwrap().body.collect().await.unwrap().into_bytes() });
    w.rt.block_on(w.client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(own.to_vec())).send()).unwrap();

    let (vouched_pages, ((chain, _, _), listed)) = pages(|| verified(&w.store, &[], Some(&note), scratch).unwrap());
    println!("a same-bytes version over record 3: {listed:?} ({vouched_pages} listing pages), quarantined {:?}", chain.quarantined);
    assert_eq!(listed, Listed::Full, "the versions read are not the witnessed ones: the whole store is listed");
    assert!(later_version_of(&chain, 3), "the full listing reports the later version: {:?}", chain.quarantined);
    assert_eq!(chain.head, before.head, "the chain itself is the same");
    // The check itself: reading the vouched keys by key errs naming the versions.
    let vouch = lz_evidence::vouch::Vouch::of(&note).expect("the note vouches");
    let err = lz_evidence::vouch::Vouched::new(&w.store, vouch).load().expect_err("the pinned versions do not match");
    assert!(format!("{err:#}").contains("not the versions the witness listed"), "{err:#}");
}

/// What an insider with raw write access to the store and one appender's key (bob, for the
/// signed head) appends: record `seq`, a drift record that claims the deployer's key with a
/// signature the insider could not make, chained to the record before it, and the head naming
/// it. Returns its bytes.
fn forge_next(w: &World, seq: u64) -> Vec<u8> {
    let forged = forge_record(w, seq);
    let head = lz_evidence::store::sign_checkpoint(
        &lz_evidence::Checkpoint { sequence: seq, hash: lz_evidence::dsse::sha256_hex(&forged), time: lz_evidence::record::now_rfc3339() },
        &w.t.reviewer,
    )
    .unwrap();
    w.rt.block_on(w.client.put_object().bucket(w.store.bucket()).key(w.store.head_key()).body(ByteStream::from(head)).send()).unwrap();
    forged
}

/// Record `seq` forged as [`forge_next`] forges it and written by raw store write, the head left
/// as it is (no appender's key): what the witness key alone can add.
fn forge_record(w: &World, seq: u64) -> Vec<u8> {
    let records = w.store.load().unwrap();
    let prev = &records[seq as usize - 1].bytes;
    let previous = lz_evidence::dsse::sha256_hex(prev);
    let signed = resign(prev, &w.t.deployer, |st| {
        st["predicate"]["chain"]["sequence"] = serde_json::json!(seq);
        st["predicate"]["chain"]["previous"] = serde_json::json!(previous);
        st["predicate"]["resources"] = serde_json::json!(["forged.resource"]);
    });
    let forged = bad_sig(&signed);
    w.rt.block_on(w.client.put_object().bucket(w.store.bucket()).key(w.store.record_key(seq)).body(ByteStream::from(forged.clone())).send()).unwrap();
    forged
}

/// `bytes` with the first character of its signature changed: a signature nobody made.
fn bad_sig(bytes: &[u8]) -> Vec<u8> {
    edit_envelope(bytes, |env| {
        let sig = &mut env.signatures[0].sig;
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        sig.replace_range(0..1, flipped);
    })
}

/// A world of `n` records and a verifier's mirror of it, verified once from the store (every
/// signature checked by this verifier).
fn mirrored(name: &str, n: usize) -> (World, tempfile::TempDir, lz_evidence::mirror::Mirror) {
    let mut w = world(name);
    w.append(n);
    let dir = tempfile::tempdir().unwrap();
    let mirror = lz_evidence::mirror::Mirror::new(dir.path(), &w.store, &w.root);
    assert_eq!(mirror.verify(&w.store, &w.root, &[], &[]).unwrap().2, lz_evidence::mirror::Read::Store);
    (w, dir, mirror)
}

/// A note of `size` records ending with `hash`, signed by `signer` under the witness's name.
fn note_of(w: &World, size: u64, hash: &str, signer: &Signer) -> Witnessed {
    let first = lz_evidence::dsse::sha256_hex(&w.store.load().unwrap()[0].bytes);
    let time = lz_evidence::record::now_rfc3339();
    let cp = lz_evidence::witness::WitnessCheckpoint { origin: lz_evidence::witness::origin_of(&first), size, hash: hash.into(), time, listing: None, state: None };
    Witnessed { note: sign(&cp, signer).unwrap(), source: format!("a note of {size} records by {}", signer.identity()) }
}

fn code(e: &anyhow::Error) -> (String, Option<u64>, String) {
    let f = failure_of(e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    (f.reason.code().to_string(), f.sequence, f.location.clone())
}

/// Rewrites the mirror's meta file as someone who can write the verifier's files would (its
/// seal is a digest anyone can compute): `records` records ending with `last_hash`, of which
/// `checked` are claimed checked by the verifier.
fn edit_meta(mirror: &lz_evidence::mirror::Mirror, records: u64, last_hash: &str, checked: u64) {
    let path = mirror.path().with_extension("json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["records"] = records.into();
    m["last_hash"] = last_hash.into();
    m["checked"] = checked.into();
    let s = |k: &str| m[k].as_str().unwrap().to_string();
    let text = format!("lz-evidence-mirror-v4\n{}\n{}\n{}\n{records}\n{last_hash}\n{checked}\n", s("store"), s("trust"), s("keys"));
    m["seal"] = lz_evidence::dsse::sha256_hex(text.as_bytes()).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Signatures carried to the witnessed point (issue 36, `Mirror::verify_vouched`): a verifier
/// whose mirror holds records it checked itself does not check their signatures again when a
/// witness of the register in force signed a note whose hash the mirrored chain holds. Insider
/// cases, each answered with every signature checked:
/// - no voucher; a mirrored record tampered with behind the witnessed point (the hash chain
///   breaks, so the mirror is not used);
/// - a tampered mirror and meta file with a forged record past the witnessed point (raw store
///   write and an appender's key for the head): the note's size bounds the carry, so the forged
///   record's signature is checked and refused. Without that bound it is believed;
/// - a note under the witness's name but a key the register in force does not hold (rotated or
///   retired);
/// - another store's or register's mirror state copied into this one's place.
#[test]
fn a_mirror_carries_signatures_only_to_the_point_a_current_witness_vouches_for() {
    use lz_evidence::mirror::{Mirror, Read};
    let _alone = alone();
    let (mut w, dir, mirror) = mirrored("carry", 6);
    w.witness().unwrap();
    let note = w.latest();
    w.append(1);
    let full = verify_store(&w.store, &w.root, &[]).unwrap();

    let (chain, _, read) = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    assert_eq!((read, mirror.carried().records), (Read::Mirror { mirrored: 6 }, 6), "{:?}", mirror.carried());
    assert_eq!((chain.head.clone(), chain.records.len()), (full.head.clone(), 7));
    let hashes = |c: &lz_evidence::VerifiedChain| c.records.iter().map(|r| r.hash.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&chain), hashes(&full));
    // Without a voucher, every signature is checked.
    mirror.verify(&w.store, &w.root, &[], &[]).unwrap();
    assert_eq!(mirror.carried().records, 0);
    assert!(mirror.carried().why.contains("no witness note"), "{:?}", mirror.carried());

    // A mirrored record behind the witnessed point given a bad signature in the file: the hash
    // chain breaks, nothing is carried, the store is read and its verdict given. (The state
    // kept at the note, which skips that line unread, is removed here: `state_checkpoint.rs`
    // holds a line read on demand to the state's hash.)
    std::fs::remove_file(mirror.path().with_extension("state.json")).unwrap();
    let text = std::fs::read_to_string(mirror.path()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = String::from_utf8(bad_sig(lines[3].as_bytes())).unwrap();
    std::fs::write(mirror.path(), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (chain, _, read) = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    assert_eq!((read, mirror.carried().records), (Read::Store, 0), "{:?}", mirror.carried());
    assert!(mirror.carried().why.contains("did not verify"), "{:?}", mirror.carried());
    assert_eq!(hashes(&chain), hashes(&full));

    // A note under the witness's name signed with a key the register in force does not hold
    // (a rotated or retired witness key), over the real chain: nothing carried, same verdict.
    let retired = Signer::new("audit-witness", generate_key());
    let stale = note_of(&w, 6, &full.records[5].hash, &retired);
    // (The state the store's verdict left kept would spare these passes every mirrored record.)
    std::fs::remove_file(mirror.path().with_extension("state.json")).unwrap();
    let (chain, _, _) = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&stale)).unwrap();
    assert_eq!(mirror.carried().records, 0, "{:?}", mirror.carried());
    assert_eq!(hashes(&chain), hashes(&full));
    // The same under the current witness's key: carried (the case above fails for its key alone).
    let current = note_of(&w, 6, &full.records[5].hash, &w.witness);
    mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&current)).unwrap();
    assert_eq!(mirror.carried().records, 6, "{:?}", mirror.carried());

    // Another register's mirror state copied into this one's place (the same store, a register
    // where the witness holds another key): its meta names the other register, so it is not read.
    let rotated = Identities::parse(&w.ids.source().replace(&encode_public_key(&w.witness.public_key()), &encode_public_key(&retired.public_key())), "identities.toml").unwrap();
    let other_root = TrustRoot::register(rotated, "another register");
    let other = Mirror::new(dir.path(), &w.store, &other_root);
    for ext in ["jsonl", "json"] {
        std::fs::copy(mirror.path().with_extension(ext), other.path().with_extension(ext)).unwrap();
    }
    let (_, _, read) = other.verify_vouched(&w.store, &other_root, &[], &[], Some(&current)).unwrap();
    assert_eq!((read, other.carried().records), (Read::Store, 0), "{:?}", other.carried());

    // The insider forges record 7 (raw store write, bob signs the head) and writes it into the
    // mirror too, with a meta claiming all 8 records checked. The note vouches for 6: record 7's
    // signature is checked and refused, as a full verification refuses it.
    let forged = forge_next(&w, 7);
    std::fs::write(mirror.path(), [std::fs::read(mirror.path()).unwrap(), forged.clone(), b"\n".to_vec()].concat()).unwrap();
    edit_meta(&mirror, 8, &lz_evidence::dsse::sha256_hex(&forged), 8);
    let full_err = verify_store(&w.store, &w.root, &[]).err().expect("a full verification refuses it");
    let err = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).err().expect("the forged record is refused");
    assert_eq!(code(&err), code(&full_err), "{err:#}");
    assert_eq!(mirror.carried().records, 0, "{:?}", mirror.carried());
}

/// A witness key alone (with raw store write and an appender's key for the head) cannot make a
/// forged record believed: the witness signs a note over a chain ending with a record whose
/// signature the insider could not make. A verifier with its own mirror reads that record from
/// the store and checks it (a note spares only records the verifier checked itself); a fresh
/// verifier planting its mirror from seeds (the witness's own store) checks every planted
/// record. Without the bound by the records checked, both believe the forged record.
#[test]
fn a_witness_key_alone_makes_no_forged_record_believed() {
    use lz_evidence::mirror::Mirror;
    let _alone = alone();
    let (w, _dir, mirror) = mirrored("carryforge", 7);
    let forged = forge_next(&w, 7);
    let note = note_of(&w, 8, &lz_evidence::dsse::sha256_hex(&forged), &w.witness);
    let full_err = verify_store(&w.store, &w.root, &[]).err().expect("a full verification refuses it");
    let err = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).err().expect("the forged record is refused");
    assert_eq!(code(&err), code(&full_err), "{err:#}");

    // The witness's seeds of the forged chain, planted by a fresh verifier.
    let records = w.store.load().unwrap();
    let keys = records[0].location.strip_suffix(&format!("{:012}.json", 0)).unwrap().to_string();
    let lines: Vec<u8> = records.iter().flat_map(|r| [r.bytes.to_vec(), b"\n".to_vec()].concat()).collect();
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = Mirror::new(fresh_dir.path(), &w.store, &w.root);
    fresh.plant(&keys, &lines, 8, &lz_evidence::dsse::sha256_hex(&forged)).unwrap();
    let err = fresh.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).err().expect("the planted forged record is refused");
    assert_eq!(code(&err), code(&full_err), "{err:#}");
    assert!(fresh.carried().why.contains("seeds"), "{:?}", fresh.carried());
}

/// The witness key alone, with raw store writes and the verifier's mirror files (no appender's
/// key): the insider writes a forged record past the signed head into the store and into the
/// mirror (meta rewritten to claim it checked), and signs a note over it with the witness key.
/// The note and the hash chain agree, so only the store's head, which an appender signs, can
/// tell: the carried pass counts only when the latest accepted head names the last carried
/// record or a later one. Left as it is (naming the record before) or replaced by an unsigned
/// head (a foreign object), nothing is carried and the forged record is a foreign object, as a full
/// verification takes it. Without the head's bound the forged record is believed.
#[test]
fn a_witness_key_and_a_rewritten_mirror_without_an_appender_make_no_forged_record_believed() {
    let _alone = alone();
    let (w, _dir, mirror) = mirrored("carryhead", 7);
    let forged = forge_record(&w, 7);
    std::fs::write(mirror.path(), [std::fs::read(mirror.path()).unwrap(), forged.clone(), b"\n".to_vec()].concat()).unwrap();
    edit_meta(&mirror, 8, &lz_evidence::dsse::sha256_hex(&forged), 8);
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = ["jsonl", "json"].iter().map(|e| mirror.path().with_extension(e)).map(|p| (p.clone(), std::fs::read(p).unwrap())).collect();
    let note = note_of(&w, 8, &lz_evidence::dsse::sha256_hex(&forged), &w.witness);
    // A full verification takes the object past the head for a foreign one (its signature
    // fails): 7 records.
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    let forged_hash = lz_evidence::dsse::sha256_hex(&forged);
    let believed = |c: &lz_evidence::VerifiedChain| c.records.iter().any(|r| r.hash == forged_hash);
    assert_eq!((full.records.len(), believed(&full)), (7, false));
    let (chain, _, _) = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    assert_eq!((chain.records.len(), believed(&chain)), (7, false), "{:?}", mirror.carried());
    assert_eq!(mirror.carried().records, 0, "{:?}", mirror.carried());
    assert!(mirror.carried().why.contains("head names record 6"), "{:?}", mirror.carried());

    // An unsigned head naming the forged record, written over the real one.
    let unsigned = serde_json::to_vec(&serde_json::json!({"sequence": 7, "hash": lz_evidence::dsse::sha256_hex(&forged)})).unwrap();
    w.rt.block_on(w.client.put_object().bucket(w.store.bucket()).key(w.store.head_key()).body(ByteStream::from(unsigned)).send()).unwrap();
    for (path, bytes) in &files {
        std::fs::write(path, bytes).unwrap();
    }
    let (chain, _, _) = mirror.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    assert_eq!((chain.records.len(), believed(&chain)), (7, false), "{:?}", mirror.carried());
    assert_eq!(mirror.carried().records, 0, "{:?}", mirror.carried());
    assert!(mirror.carried().why.contains("no head signed by an appender"), "{:?}", mirror.carried());
}

/// The witness's pass keeps no record, yet decodes each as a keeping pass (every decision
/// command's) does: record 6, signed by its registered signer, names a ticket that is a number,
/// which only the light reading of a statement accepts. The witness vouches for what the
/// keeping verification holds, never for a chain every decision command reads otherwise.
/// Without the full decoding it signed a note over 7 records.
#[test]
fn the_witness_vouches_for_what_a_keeping_verification_holds() {
    let _alone = alone();
    let mut w = world("lean");
    w.append(6);
    let records = w.store.load().unwrap();
    let prev = &records[5].bytes;
    let odd = resign(prev, &w.t.deployer, |st| {
        st["predicate"]["chain"]["sequence"] = serde_json::json!(6);
        st["predicate"]["chain"]["previous"] = serde_json::json!(lz_evidence::dsse::sha256_hex(prev));
        st["predicate"]["ticket"] = serde_json::json!(5);
    });
    let head = lz_evidence::store::sign_checkpoint(
        &lz_evidence::Checkpoint { sequence: 6, hash: lz_evidence::dsse::sha256_hex(&odd), time: lz_evidence::record::now_rfc3339() },
        &w.t.deployer,
    )
    .unwrap();
    w.rt.block_on(w.client.put_object().bucket(w.store.bucket()).key(w.store.record_key(6)).body(ByteStream::from(odd)).send()).unwrap();
    w.rt.block_on(w.client.put_object().bucket(w.store.bucket()).key(w.store.head_key()).body(ByteStream::from(head)).send()).unwrap();
    let kept = verify_store(&w.store, &w.root, &[]).map(|c| c.records.len() as u64);
    let witnessed = w.witness().map(|c| c.checkpoint.size);
    match (&kept, &witnessed) {
        (Ok(k), Ok(s)) => assert_eq!(k, s),
        (Err(k), Err(s)) => assert_eq!(code(k), code(s)),
        _ => panic!("the keeping verification gives {kept:?}, the witness {witnessed:?}"),
    }
}

/// A reader's cap on a witness-store object holds at the GET, not only at the listing: a version
/// written over a listed key after the listing (whoever can write the witness store; its lock
/// stops deletion, not a new version) larger than the cap is refused before its body is read,
/// and one within it is read. Without the GET's own check the larger body is returned whole.
#[test]
fn a_witness_object_larger_than_its_cap_is_refused_at_the_get() {
    let _alone = alone();
    let w = world("capped");
    let bucket = w.ws.location("").trim_start_matches("s3://").trim_end_matches('/').to_string();
    let key = "replays/00000000000000000001/000000000001-W.json";
    let put = |body: Vec<u8>| w.rt.block_on(w.client.put_object().bucket(&bucket).key(key).body(ByteStream::from(body)).send()).unwrap();
    put(vec![b'x'; 100]);
    assert_eq!(w.ws.keys_under("replays/").unwrap(), vec![(key.to_string(), 100)]);
    assert_eq!(w.ws.get_at_most(key, 100).unwrap().map(|b| b.len()), Some(100));
    put(vec![b'x'; 101]);
    let err = w.ws.get_at_most(key, 100).unwrap_err();
    assert!(format!("{err:#}").contains("holds 101 bytes, more than the 100 read at most"), "{err:#}");
    assert_eq!(w.ws.get(key).unwrap().map(|b| b.len()), Some(101), "an uncapped read returns it");
}

/// The witness with its own state (`cosign_kept`): the run after it reads from the store only
/// the records after its state, while still listing every object version, so that a version
/// written over an old record or a delete marker behind the state after the witness's last run
/// is still caught, as a run without state catches it.
#[test]
fn the_witness_with_its_state_reads_only_new_records_and_still_catches_a_rewrite_or_delete_behind_it() {
    use lz_evidence::witness::{cosign_kept, Kept};
    let _alone = alone();
    let mut w = world("kept");
    w.append(10);
    let dir = tempfile::tempdir().unwrap();
    let kept = |w: &World| cosign_kept(&w.store, &w.ws, &w.root, Vec::new(), &w.witness, dir.path()).map(|d| d.expect("a chain to witness"));
    let first = kept(&w).unwrap();
    assert!(matches!(&first.read, Kept::Full(why) if why.contains("no state")), "{:?}", first.read);
    assert!(first.checkpoint.listing.is_some(), "{:?}", first.findings);

    // One new record: the state's 10 records come from the witness's directory, their
    // signatures carried to its own last note; the run GETs far fewer objects than the records
    // it vouches for, and signs the checkpoint a full run signs.
    w.append(1);
    let before = Calls::now();
    let second = kept(&w).unwrap();
    let calls = Calls::since(before);
    let gets = calls.get;
    assert_eq!(second.read, Kept::Incremental { kept: 10, carried: 10 });
    // One listing of the store's object versions for the verification and the note's listing
    // line: the run lists about as many pages as one full integrity report of the store (plus
    // the witness store's listings and the keys after the state). Listing twice, as it did, adds
    // the records' pages again.
    let before = Calls::now();
    w.store.integrity().unwrap();
    let once = Calls::since(before).list;
    println!("one new record, with the witness's state: {} listing pages; one integrity listing: {once}", calls.list);
    assert!(calls.list <= once + 4, "the kept run listed {} pages; one listing of the store is {once}", calls.list);
    assert!(second.findings.is_empty(), "{:?}", second.findings);
    let listing = second.checkpoint.listing.clone().expect("a listing vouched for");
    assert_eq!((second.checkpoint.size, listing.versions), (11, 11));
    let before = Calls::now();
    let full = w.witness().unwrap();
    let full_gets = Calls::since(before).get;
    println!("one new record: {gets} GETs with the witness's state, {full_gets} without");
    // The note, the head (twice: the job's and the verification's read), the state's last
    // record and the new one, the head that became an earlier one, and the head the listing
    // names: however long the chain.
    assert!(gets < full_gets && gets <= 8, "the kept run read {gets} objects (a full run {full_gets})");
    assert_eq!((full.checkpoint.size, &full.checkpoint.hash), (second.checkpoint.size, &second.checkpoint.hash));

    // A version written over record 3, behind the state, after the witness ran: the kept run
    // lists every version, reports it and vouches for no listing, as a full run does.
    w.append(1);
    w.overwrite(3);
    let third = kept(&w).unwrap();
    assert!(matches!(third.read, Kept::Incremental { .. }), "{:?}", third.read);
    assert!(third.checkpoint.listing.is_none());
    assert!(third.findings.iter().any(|f| f.contains("records/000000000003.json") && f.contains("2 versions")), "{:?}", third.findings);

    // A delete marker over record 2, behind the state: the kept run refuses (the record is
    // missing from the chain), as a full run does, and forgets its state.
    let mut w2 = world("kept-del");
    w2.append(6);
    let dir2 = tempfile::tempdir().unwrap();
    let kept2 = |w: &World| cosign_kept(&w.store, &w.ws, &w.root, Vec::new(), &w.witness, dir2.path());
    kept2(&w2).unwrap();
    w2.append(1);
    assert!(matches!(kept2(&w2).unwrap().unwrap().read, Kept::Incremental { .. }));
    w2.delete_marker(2);
    let err = kept2(&w2).expect_err("the marker is caught");
    let f = failure_of(&err).unwrap_or_else(|| panic!("{err:#}"));
    assert!(f.to_string().contains("record 2 is missing") || f.to_string().contains("delete marker"), "{err:#}");
    let mirror = lz_evidence::mirror::Mirror::new(&state_dir(dir2.path(), &w2.witness), &w2.store, &w2.root);
    assert!(!mirror.holds_records(), "a refused chain leaves no state");
}

/// The witness's state is a performance aid, never a vouch: a state file edited (a record
/// replaced by a forged one, hash-chained and sealed as the file's own digest allows) makes the
/// run read every record from the store, and the note names the store's chain; a state of
/// another register (or store) in the place of this one's is not used.
#[test]
fn a_tampered_or_foreign_witness_state_means_a_full_run_never_a_vouch() {
    use lz_evidence::witness::{cosign_kept, Kept};
    let _alone = alone();
    let mut w = world("kept-tamper");
    w.append(6);
    let dir = tempfile::tempdir().unwrap();
    let kept = |w: &World, root: &TrustRoot| cosign_kept(&w.store, &w.ws, root, Vec::new(), &w.witness, dir.path()).map(|d| d.expect("a chain to witness"));
    let first = kept(&w, &w.root).unwrap();
    let mirror = lz_evidence::mirror::Mirror::new(&state_dir(dir.path(), &w.witness), &w.store, &w.root);
    assert!(mirror.holds_records());

    // The state's last record replaced by a forged one signed with the deployer's key, the meta
    // sealed to it (the seal is a digest anyone can compute).
    let records = w.store.load().unwrap();
    let prev = &records[4].bytes;
    let forged = resign(&records[5].bytes, &w.t.deployer, |st| {
        st["predicate"]["resources"] = serde_json::json!(["forged.resource"]);
        st["predicate"]["chain"]["previous"] = serde_json::json!(lz_evidence::dsse::sha256_hex(prev));
    });
    let mut lines: Vec<Vec<u8>> = records.iter().map(|r| r.bytes.to_vec()).collect();
    lines[5] = forged.clone();
    std::fs::write(mirror.path(), lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect::<Vec<u8>>()).unwrap();
    edit_meta(&mirror, 6, &lz_evidence::dsse::sha256_hex(&forged), 6);
    let run = kept(&w, &w.root).unwrap();
    assert!(matches!(&run.read, Kept::Full(why) if why.contains("did not verify")), "{:?}", run.read);
    assert_eq!(run.checkpoint.hash, first.checkpoint.hash, "the note names the store's chain, not the file's");
    assert_ne!(run.checkpoint.hash, lz_evidence::dsse::sha256_hex(&forged));
    assert!(run.checkpoint.listing.is_some());
    // The full run rebuilt the state: the next run is incremental again.
    w.append(1);
    assert!(matches!(kept(&w, &w.root).unwrap().read, Kept::Incremental { kept: 6, .. }));

    // Another trust root (this register, and a pin of it besides) over the same store: this
    // witness's state is not used for it, not even copied into its place.
    let other = w.root.clone().with_pins(TrustRoot::pinned([w.ids.fingerprint()]).unwrap());
    let theirs = lz_evidence::mirror::Mirror::new(&state_dir(dir.path(), &w.witness), &w.store, &other);
    assert_ne!(theirs.path(), mirror.path(), "keyed by the trust root");
    for ext in ["jsonl", "json", "heads.jsonl"] {
        std::fs::copy(mirror.path().with_extension(ext), theirs.path().with_extension(ext)).unwrap();
    }
    assert!(!theirs.holds_records(), "a meta of another trust root is not this one's");
    let run = kept(&w, &other).unwrap();
    assert!(matches!(&run.read, Kept::Full(why) if why.contains("no state of this store and trust root")), "{:?}", run.read);
    // Another store's state (this one's files under the other store's key) is not used either.
    let mut v = world("kept-other");
    v.append(3);
    let elsewhere = lz_evidence::mirror::Mirror::new(&state_dir(dir.path(), &v.witness), &v.store, &v.root);
    std::fs::create_dir_all(state_dir(dir.path(), &v.witness)).unwrap();
    for ext in ["jsonl", "json", "heads.jsonl"] {
        std::fs::copy(mirror.path().with_extension(ext), elsewhere.path().with_extension(ext)).unwrap();
    }
    let run = cosign_kept(&v.store, &v.ws, &v.root, Vec::new(), &v.witness, dir.path()).unwrap().unwrap();
    assert!(matches!(&run.read, Kept::Full(why) if why.contains("no state of this store")), "{:?}", run.read);
    assert_eq!(run.checkpoint.size, 3);
}

impl World {
    /// The witness's key rotated in the chain's register: a register change naming `new` as
    /// audit-witness's key, proposed by alice and approved by carol and dave (the quorum of two
    /// besides the proposer).
    fn rotate_witness(&mut self, new: &Signer) {
        let text = self.ids.source().replace(&encode_public_key(&self.witness.public_key()), &encode_public_key(&new.public_key()));
        assert_ne!(text, self.ids.source());
        let placeholder = S3Store::new(self.store.client().clone(), "unused", "", 1).unwrap();
        let store = std::mem::replace(&mut self.store, placeholder);
        let mut a = EvidenceArchive::open(store, self.ids.clone()).unwrap();
        let at = a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&digest("r"), &text, &self.ids.fingerprint()).0, &self.t.approver).unwrap().sequence;
        let fp = lz_evidence::dsse::sha256_hex(text.as_bytes());
        for by in [&self.t.approver2, &self.dave] {
            a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&digest("r"), at, &fp).0, by).unwrap();
        }
        self.store = a.into_store();
    }
}

/// The witness's run as `signer` with its state under `dir` (`cosign_kept`).
fn kept_run(w: &World, signer: &Signer, dir: &std::path::Path) -> anyhow::Result<lz_evidence::witness::Cosigned> {
    lz_evidence::witness::cosign_kept(&w.store, &w.ws, &w.root, Vec::new(), signer, dir).map(|d| d.expect("a chain to witness"))
}

/// The witness's own note, for its state: a note of ANOTHER registered witness (its own, valid
/// one, the latest in the store) is not the witness's, so its kept run carries no signature to
/// it (every mirrored signature checked again). A line under this witness's name and key id
/// over another key's signature is held by the unit test `only_a_note_the_witness_s_key_signed_is_its_own`
/// (`signed_by` verifies the signature with the witness's own key).
#[test]
fn a_note_of_another_registered_witness_is_not_the_witness_s_own() {
    use lz_evidence::witness::Kept;
    let _alone = alone();
    let mut w = world("kept-other-w");
    w.append(8);
    let dir = tempfile::tempdir().unwrap();
    let kept = |w: &World| kept_run(w, &w.witness, dir.path());
    kept(&w).unwrap();
    w.append(1);
    // The other witness co-signs the new head (its note the latest), a second before ours: the
    // note key names the size and the second.
    let theirs = cosign(&w.store, &w.ws, &w.root, Vec::new(), &w.other).unwrap().expect("a chain to witness");
    assert_eq!(theirs.checkpoint.size, 9);
    let latest = lz_evidence::witness::parse(&w.latest().note).unwrap();
    assert_eq!(latest.signatures.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["second-witness"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = kept(&w).unwrap();
    assert_eq!(run.read, Kept::Incremental { kept: 8, carried: 0 }, "another witness's note carries nothing for this witness");
    // Its own note again the latest: the next run carries to it.
    w.append(1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(kept(&w).unwrap().read, Kept::Incremental { kept: 9, carried: 9 });
}

/// The witness's key rotated (the new key registered by a register change, the old retired)
/// between its kept state and its next run: the state the old key's holder kept is not read by
/// the new key (a full run), and the new key's own state is used from then on. Without the
/// state keyed by the witness's key, the run read the old key's 8 records from it.
#[test]
fn a_rotated_witness_key_does_not_use_the_old_key_s_state() {
    use lz_evidence::witness::Kept;
    let _alone = alone();
    let mut w = world("kept-rotated");
    w.append(8);
    let dir = tempfile::tempdir().unwrap();
    let kept = |w: &World, signer: &Signer| kept_run(w, signer, dir.path());
    assert!(matches!(kept(&w, &w.witness).unwrap().read, Kept::Full(_)));
    w.append(1);
    assert_eq!(kept(&w, &w.witness).unwrap().read, Kept::Incremental { kept: 8, carried: 8 });
    let new = Signer::new("audit-witness", generate_key());
    w.rotate_witness(&new);
    // The old key is retired: the witness's job refuses it (and keeps its state: no chain was refused).
    let err = kept(&w, &w.witness).expect_err("the old key is no longer the witness's");
    assert!(err.downcast_ref::<lz_evidence::Refused>().is_some(), "{err:#}");
    let old_state = lz_evidence::mirror::Mirror::new(&state_dir(dir.path(), &w.witness), &w.store, &w.root);
    assert!(old_state.holds_records());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = kept(&w, &new).unwrap();
    assert!(matches!(&run.read, Kept::Full(why) if why.contains("witness key")), "{:?}", run.read);
    assert_eq!(run.checkpoint.size, 12);
    assert!(run.checkpoint.listing.is_some(), "{:?}", run.findings);
    w.append(1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(kept(&w, &new).unwrap().read, Kept::Incremental { kept: 12, carried: 12 });
}

/// A record in the MIDDLE of the witness's kept range written over (a new object version with
/// the record's own bytes: the hash chain still holds, only the versions show it) after the
/// witness ran: its run with state lists every version, reports the record and vouches for no
/// listing, as a full run does. Without the listing's one-version-per-key check the note
/// vouched for the listing.
#[test]
fn a_version_written_over_a_record_in_the_middle_of_the_kept_range_is_caught_by_the_kept_run() {
    use lz_evidence::witness::Kept;
    let _alone = alone();
    let mut w = world("kept-middle");
    w.append(20);
    let dir = tempfile::tempdir().unwrap();
    let kept = |w: &World| kept_run(w, &w.witness, dir.path());
    kept(&w).unwrap();
    w.append(1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(kept(&w).unwrap().checkpoint.listing.is_some());
    let (bucket, key) = (w.store.bucket().to_string(), w.store.record_key(10));
    let own = w.rt.block_on(async { w.client.get_object().bucket(&bucket).key(&key).send().await.unwrap().body.collect().await.unwrap().into_bytes() });
    w.rt.block_on(w.client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(own.to_vec())).send()).unwrap();
    w.append(1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = kept(&w).unwrap();
    assert!(matches!(run.read, Kept::Incremental { kept: 21, .. }), "{:?}", run.read);
    assert!(run.checkpoint.listing.is_none(), "a rewritten record is never vouched for");
    assert!(run.findings.iter().any(|f| f.contains("records/000000000010.json") && f.contains("2 versions")), "{:?}", run.findings);
    let full = w.witness().unwrap();
    assert!(full.checkpoint.listing.is_none());
    assert!(full.findings.iter().any(|f| f.contains("records/000000000010.json") && f.contains("2 versions")), "{:?}", full.findings);
}

/// The witness's state on a failed run: kept when the run could not finish (the evidence store
/// unreachable: every request answered 503), removed only when the chain is refused (a
/// verification failure: a delete marker over a record). Without the distinction the state was
/// removed on the transient error too, and the next run read every record again.
#[test]
fn the_witness_keeps_its_state_on_a_transient_error_and_drops_it_only_when_the_chain_is_refused() {
    use common::relay::{Fault, Relay, ALWAYS};
    use lz_evidence::witness::{cosign_kept, Kept};
    let _alone = alone();
    let mut w = world("kept-transient");
    w.append(6);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let endpoint = lz_platform::localstack::require(&repo).expect("LocalStack");
    let relay = Relay::start(&endpoint);
    let through = S3Store::new(lz_platform::aws::s3_client(&relay.endpoint(), "000000000000", "us-east-1"), w.store.bucket(), "chain/", 1).unwrap();
    assert_eq!(through.describe(), w.store.describe(), "the same store, through the relay");
    let dir = tempfile::tempdir().unwrap();
    let kept = |w: &World, s: &S3Store| cosign_kept(s, &w.ws, &w.root, Vec::new(), &w.witness, dir.path());
    kept(&w, &through).unwrap();
    let state = lz_evidence::mirror::Mirror::new(&state_dir(dir.path(), &w.witness), &w.store, &w.root);
    assert!(state.holds_records());
    w.append(1);

    relay.inject(None, w.store.bucket(), Fault::Status(503), ALWAYS);
    let err = kept(&w, &through).expect_err("the store does not answer");
    assert!(failure_of(&err).is_none(), "a transient error, not a refusal: {err:#}");
    assert!(state.holds_records(), "the state is kept on a transient error");
    relay.heal();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = kept(&w, &through).unwrap().expect("a chain to witness");
    assert_eq!(run.read, Kept::Incremental { kept: 6, carried: 6 }, "the next run reads from its state");

    w.delete_marker(2);
    let err = kept(&w, &w.store).expect_err("the marker is caught");
    assert!(failure_of(&err).is_some(), "{err:#}");
    assert!(!state.holds_records(), "a refused chain leaves no state");
}
