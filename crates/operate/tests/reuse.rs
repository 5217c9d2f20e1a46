//! One listing per command (issue 36, `lz_promote::verified::reuse`): a promotion's reads of an
//! unchanged S3 chain share one verification, so it lists the store's object versions a bounded
//! number of times (counted with `lz_platform::s3_calls`), and raw writes to the store in the
//! middle of the command, which the reused verification cannot see, are still caught before its
//! decision is recorded.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use lz_evidence::details::DriftDetails;
use lz_evidence::record::{Fields, Kind};
use lz_promote::clock::Clock;
use lz_promote::ledger::EvidenceAt;
use lz_promote::stores::Stores;
use lz_operate::promote::Phase;
use lz_operate::sandbox::Sandbox;
use lz_evidence::Store;
use lz_platform::s3_calls::Calls;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{endpoint, open_time, own_stores, root};

/// The S3 request counters are the process's: the tests of this file run one at a time, so
/// that one counts only its own promotion.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A sandbox whose evidence lives in the S3 store `stores`, with release `r` approved for dev.
fn approved(name: &str, stores: &Stores, clock: &Clock) -> (tempfile::TempDir, Sandbox, String) {
    let dir = tempfile::Builder::new().prefix(&format!("lz-reuse-{name}-")).tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(stores.clone());
    sb.start_chain().unwrap();
    let r = sb.release(name, "alice", clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, clock).unwrap();
    sb.pin("dev", &r, clock).unwrap();
    sb.bootstrap("dev", &r).unwrap();
    sb.approve("bob", &r, "dev", clock).unwrap();
    sb.approve("erin", &r, "dev", clock).unwrap();
    (dir, sb, r)
}

/// A sandbox under a fresh temporary directory whose chain (genesis register) lives in the S3
/// stores `s`.
fn on_s3(prefix: &str, s: &Stores) -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(s.clone());
    sb.start_chain().unwrap();
    (dir, sb)
}

/// A clean drift check of dev (padding a chain), for release `release`.
fn clean_drift(release: &str) -> Fields {
    let at = OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap();
    let f = Fields::new(release).at(at).environment("dev").account("111111111111");
    f.details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() })
}

/// Appends `n` clean drift checks (release "padding") to the S3 chain of `s` in one batch, signed
/// by the sandbox's deployer.
fn append_padding(sb: &Sandbox, s: &Stores, n: usize) {
    let register = sb.ledger().unwrap().identities().clone();
    let mut archive = lz_evidence::EvidenceArchive::open(s.evidence().unwrap(), register).unwrap();
    let drift = clean_drift(&lz_evidence::dsse::sha256_hex(b"padding"));
    archive.append_many((0..n).map(|_| (Kind::Drift, drift.clone(), sb.signer("deployer-bot"))).collect()).unwrap();
}

/// The most listing pages one promotion of a small chain may make: its one verification (3
/// pages: the head's versions, the records' versions, the record keys), a resumed pass with the
/// listing before each of its 3 appends (never the reused verification: a delete marker or a
/// forged earlier head the head's bytes do not show fails it before a record is written), and a
/// resumed pass after each of its own appends but the last: 6 passes of 3 pages; and the one
/// listing of the witness store a process makes for its latest note (`lz_evidence::vouch`; none
/// is witnessed here, so every pass lists the whole store). 19 measured; 9 when an append's
/// first try opened the archive on the reused chain.
const MAX_LIST_PAGES: u64 = 19;

/// The same for a release's publication and a governance pin: one verification, the resumed
/// pass before their one append, and the witness store's listing (7 pages each measured; 3
/// without the pass and the witness store), plus, for a verifier whose mirror holds nothing
/// yet, the listing of the witness's mirror seeds (`lz_evidence::witness::seed`; 8 measured).
const MAX_RELEASE_LIST_PAGES: u64 = 8;
const MAX_PIN_LIST_PAGES: u64 = 7;
/// A report: the store's anchors it shows, its one verification, then one GET of the head per
/// further reading, and the witness store's listing (7 measured; 16 without the reuse, a resumed
/// pass per ledger it opens).
const MAX_REPORT_LIST_PAGES: u64 = 7;

#[test]
fn a_release_and_a_promotion_list_the_store_a_bounded_number_of_times() {
    let _alone = alone();
    let s = own_stores();
    let clock = open_time();
    let (_d, sb, r) = approved("count", &s, &clock);
    // A release's publication reads the chain in many steps and appends one record.
    lz_promote::verified::forget(&sb.paths.evidence);
    let before = Calls::now();
    let r2 = sb.release("count-2", "alice", &clock, |_| Ok(())).unwrap();
    let calls = Calls::since(before);
    println!("release (1 record appended): {calls}");
    assert!(calls.list <= MAX_RELEASE_LIST_PAGES, "one release listed {} pages (at most {MAX_RELEASE_LIST_PAGES}): {calls}", calls.list);
    sb.approve_exceptions(&r2, &clock).unwrap();
    lz_promote::verified::forget(&sb.paths.evidence);
    let before = Calls::now();
    sb.pin("test", &r2, &clock).unwrap();
    let calls = Calls::since(before);
    println!("pin (1 record appended): {calls}");
    assert!(calls.list <= MAX_PIN_LIST_PAGES, "one pin listed {} pages (at most {MAX_PIN_LIST_PAGES}): {calls}", calls.list);
    // A new process: nothing verified yet.
    lz_promote::verified::forget(&sb.paths.evidence);
    let before = Calls::now();
    let passes = lz_evidence::verify::count_verifications();
    let outcome = sb.promote(&r, "dev", "deployer-bot", &clock, 0).unwrap_or_else(|e| panic!("{e:#}"));
    let calls = Calls::since(before);
    let appended = outcome.completion_record - outcome.policy_record + 1;
    let after = lz_evidence::verify::count_verifications();
    println!("promote ({appended} records appended): {calls}; verification passes: {} full, {} resumed", after.full - passes.full, after.suffix - passes.suffix);
    assert!(calls.list <= MAX_LIST_PAGES, "one promotion listed {} pages (at most {MAX_LIST_PAGES}): {calls}", calls.list);

    // A report reads the chain once and opens a ledger per section: within one command the
    // openings share that verification (no scope: each opening lists the store again).
    let selection = lz_report::Selection::Release(r.clone());
    let options = lz_report::Options { known: Vec::new(), exceptions_link: None };
    let report = |scoped: bool| {
        lz_promote::verified::forget(&sb.paths.evidence);
        let command = scoped.then(lz_promote::verified::Command::begin);
        let before = Calls::now();
        assert!(lz_report::build(&sb.paths, &selection, &options).unwrap().verification.ok);
        drop(command);
        Calls::since(before)
    };
    let (unscoped, scoped) = (report(false), report(true));
    println!("report: {scoped} (without the reuse: {unscoped})");
    assert!(scoped.list <= MAX_REPORT_LIST_PAGES, "one report listed {} pages (at most {MAX_REPORT_LIST_PAGES}): {scoped}", scoped.list);
    assert!(scoped.list < unscoped.list, "the reuse saved nothing: {scoped} against {unscoped}");
}

/// Starts a promotion of `r` to dev in `scope` that pauses at its decision boundary; returns
/// once it is paused there.
fn paused_at_decision<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    sb: &'s Sandbox,
    r: &'s str,
    clock: &'s Clock,
) -> std::thread::ScopedJoinHandle<'s, anyhow::Result<lz_operate::promote::Outcome>> {
    let work = sb.dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let _ = std::fs::remove_file(work.join("promote-paused"));
    std::fs::write(work.join("promote-pause-at"), Phase::Decision.as_str()).unwrap();
    let run = scope.spawn(move || sb.promote(r, "dev", "deployer-bot", clock, 0));
    let start = Instant::now();
    while std::fs::read_to_string(work.join("promote-paused")).ok().as_deref() != Some(Phase::Decision.as_str()) {
        assert!(!run.is_finished(), "the promotion ended before its decision boundary");
        assert!(start.elapsed() < Duration::from_secs(300), "the promotion never reached its decision boundary");
        std::thread::sleep(Duration::from_millis(50));
    }
    run
}

/// The store's signed head now (its bytes).
fn head_bytes(s: &Stores) -> Vec<u8> {
    s.evidence().unwrap().head().unwrap().unwrap().bytes.to_vec()
}

/// Between the promotion's reads (verified once, then reused while the signed head is
/// unchanged) and its decision, another process appends a record (a drift check of dev) and an
/// insider puts the old head's bytes back over the head: to a check of the head alone the store
/// looks unchanged. The decision is still not recorded on the reused chain: its compare-and-swap
/// finds the record past the head (`HeadMoved`), verifies the store afresh (never reused) and
/// lands after it, with the decision checked against the chain that holds it.
#[test]
fn an_append_hidden_behind_an_old_head_is_caught_before_the_decision() {
    let _alone = alone();
    let s = own_stores();
    let clock = open_time();
    let (_d, sb, r) = approved("hidden", &s, &clock);
    let store = s.evidence().unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    let s3 = s.s3().unwrap();
    let (outcome, other) = std::thread::scope(|scope| {
        let run = paused_at_decision(scope, &sb, &r, &clock);
        let old = head_bytes(&s);
        // Another process: its own verification, its own archive (nothing of this process's).
        let chain = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap();
        let mut archive = lz_evidence::EvidenceArchive::open_verified(s.evidence().unwrap(), &chain).unwrap();
        let f = Fields::new(&r)
            .at(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
            .environment("dev")
            .account("111111111111")
            .details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() });
        let other = archive.append(Kind::Drift, f, sb.signer("deployer-bot")).unwrap().sequence;
        assert_ne!(head_bytes(&s), old, "the other process moved the head");
        rt.block_on(s3.put_object().bucket(&s.evidence_bucket).key(store.head_key()).body(ByteStream::from(old.clone())).send()).unwrap();
        assert_eq!(head_bytes(&s), old, "the head reads as before the other append");
        std::fs::remove_file(sb.dir.join("work").join("promote-paused")).unwrap();
        (run.join().unwrap(), other)
    });
    let outcome = outcome.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(outcome.in_progress_record, other + 1, "the decision landed after the other process's record");
    let chain = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap();
    assert!(chain.records.iter().any(|v| v.sequence == other && v.kind == Kind::Drift));
    println!("append hidden behind an old head: decision at {} after the other record at {other}", outcome.in_progress_record);
}

/// Between the promotion's reads and its decision, raw writes the head does not show: an
/// object at the next key (a squatter, or a writer that has not moved the head) and a version
/// written over an approval record. The decision's append finds the object in the slot it
/// would take and lands after it, recording the skip; the approval it counted is the record's
/// first version, and the rewrite is a finding of every later verification.
#[test]
fn raw_writes_in_the_middle_of_a_command_are_caught_before_its_decision() {
    let _alone = alone();
    let s = own_stores();
    let clock = open_time();
    let (_d, sb, r) = approved("insider", &s, &clock);
    let store = s.evidence().unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    let s3 = s.s3().unwrap();
    let (outcome, next, approval) = std::thread::scope(|scope| {
        let run = paused_at_decision(scope, &sb, &r, &clock);
        let chain = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap();
        let next = chain.head.as_ref().unwrap().0 + 1;
        let approval = chain.records.iter().rev().find(|v| v.kind == Kind::Approval).unwrap().sequence;
        for (key, body) in [
            (format!("records/{next:012}.json"), b"written by another process, head not moved".to_vec()),
            (format!("records/{approval:012}.json"), b"an approval rewritten".to_vec()),
        ] {
            rt.block_on(s3.put_object().bucket(&s.evidence_bucket).key(&key).body(ByteStream::from(body)).send()).unwrap();
        }
        std::fs::remove_file(sb.dir.join("work").join("promote-paused")).unwrap();
        (run.join().unwrap(), next, approval)
    });
    let outcome = outcome.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(outcome.in_progress_record, next + 1, "the decision landed after the object at the next key, not on it");
    let records = sb.ledger().unwrap().records().unwrap();
    let decision = records.iter().find(|x| x.sequence == outcome.in_progress_record).unwrap();
    assert_eq!(
        decision.details.other().get("quarantined").and_then(|q| q[0]["sequence"].as_u64()),
        Some(next),
        "the decision records the skip"
    );
    let chain = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap();
    assert_eq!(chain.quarantined.len(), 2, "{:?}", chain.quarantined.iter().map(|q| q.to_string()).collect::<Vec<_>>());
    let found = chain.quarantined.iter().map(|q| format!("{} {:?}", q.location, q.version)).collect::<Vec<_>>();
    assert!(found.iter().any(|q| q.contains(&format!("records/{approval:012}.json"))), "{found:?}");
    println!("raw writes mid-command: decision at {} after the object at {next}; 2 findings", outcome.in_progress_record);
}

/// Runs a promotion of a new sandbox that pauses at its decision, lets `tamper` (given the
/// stores and the chain as verified then) change the store behind it, and returns the
/// promotion's refusal, having checked that the head did not move and nothing was written at
/// the next record key.
fn refused_at_decision(name: &str, tamper: &dyn Fn(&Stores, &Sandbox, &lz_evidence::VerifiedChain)) -> anyhow::Error {
    let s = own_stores();
    let clock = open_time();
    let (_d, sb, r) = approved(name, &s, &clock);
    let store = s.evidence().unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    let s3 = s.s3().unwrap();
    let (outcome, next, head) = std::thread::scope(|scope| {
        let run = paused_at_decision(scope, &sb, &r, &clock);
        let chain = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap();
        tamper(&s, &sb, &chain);
        let head = head_bytes(&s);
        std::fs::remove_file(sb.dir.join("work").join("promote-paused")).unwrap();
        (run.join().unwrap(), chain.head.as_ref().unwrap().0 + 1, head)
    });
    let err = outcome.err().expect("the decision is refused");
    assert!(format!("{err:#}").contains("fails verification"), "{err:#}");
    assert_eq!(head_bytes(&s), head, "the head did not move");
    let at_next = rt.block_on(s3.head_object().bucket(&s.evidence_bucket).key(format!("records/{next:012}.json")).send());
    assert!(at_next.is_err(), "a record was written at {next} over the tampering");
    err
}

/// Between the promotion's reads and its decision, an insider puts a delete marker over an
/// approval record's key: the signed head is unchanged, so the reused verification cannot see
/// it, but a fresh one finds it fatal. The decision's append verifies the store first (a
/// resumed pass with the listing, never the reuse): the promotion is refused and nothing is
/// written over the tampering.
#[test]
fn a_delete_marker_in_the_middle_of_a_command_refuses_its_decision() {
    let _alone = alone();
    let err = refused_at_decision("marker", &|s, _, chain| {
        let approval = chain.records.iter().rev().find(|v| v.kind == Kind::Approval).unwrap().sequence;
        let rt = lz_platform::aws::runtime().unwrap();
        let s3 = s.s3().unwrap();
        rt.block_on(s3.delete_object().bucket(&s.evidence_bucket).key(format!("records/{approval:012}.json")).send()).unwrap();
    });
    println!("delete marker mid-command: refused ({err:#})");
}

/// The same with a forged head: signed by a registered key, naming a record the chain does not
/// hold with that hash, then covered by the old head's bytes. The latest head reads as before;
/// the forged one is an earlier head version, which the decision's verification judges.
#[test]
fn a_forged_earlier_head_in_the_middle_of_a_command_refuses_its_decision() {
    let _alone = alone();
    let err = refused_at_decision("forged", &|s, sb, chain| {
        let (sequence, _) = chain.head.clone().unwrap();
        let forged = lz_evidence::store::sign_checkpoint(
            &lz_evidence::Checkpoint { sequence, hash: "0".repeat(64), time: lz_evidence::record::now_rfc3339() },
            sb.signer("deployer-bot"),
        )
        .unwrap();
        let old = head_bytes(s);
        let key = s.evidence().unwrap().head_key();
        let rt = lz_platform::aws::runtime().unwrap();
        let s3 = s.s3().unwrap();
        for body in [forged, old.clone()] {
            rt.block_on(s3.put_object().bucket(&s.evidence_bucket).key(&key).body(ByteStream::from(body)).send()).unwrap();
        }
        assert_eq!(head_bytes(s), old, "the head reads as before");
    });
    println!("forged earlier head mid-command: refused ({err:#})");
}

/// A witnessed chain of 1,000 records (issue 36, `lz_evidence::vouch`): after one new record, a
/// new process's verification through its mirror lists only what follows the witnessed
/// checkpoint (the witness store's latest note, the head versions down to the witnessed one,
/// the record keys after it: 3 pages, 4 versions measured), a bounded number of pages whatever the
/// chain's length; with every version listed (`evidence verify --full`) it lists the record
/// versions of the whole chain, and both give the same chain.
const MAX_WITNESSED_LIST_PAGES: u64 = 3;
/// Versions those pages hold: the head versions down to the witnessed one, the records after it.
const MAX_WITNESSED_VERSIONS: u64 = 6;

#[test]
fn a_witnessed_chain_of_1000_records_lists_only_what_follows_the_witness() {
    let _alone = alone();
    let s = own_stores();
    let (_dir, sb) = on_s3("lz-reuse-witnessed-", &s);
    let drift = || clean_drift(&lz_evidence::dsse::sha256_hex(b"padding"));
    append_padding(&sb, &s, 1000);
    let done = sb.witness().unwrap().expect("a chain to witness");
    assert!(done.findings.is_empty() && done.checkpoint.listing.is_some(), "{:?}", done.findings);
    assert!(done.checkpoint.size > 1000);
    // A first command leaves the verifier's mirror; then one new record.
    let read = || {
        lz_promote::verified::forget(&sb.paths.evidence);
        let before = Calls::now();
        let snapshot = lz_promote::verified::current(&sb.paths.evidence, &sb.paths.trust, Some(&sb.paths.mirror_dir())).unwrap();
        (Calls::since(before), snapshot.chain.head.clone())
    };
    read();
    sb.ledger().unwrap().append(Kind::Drift, drift(), sb.signer("deployer-bot")).unwrap();
    let (vouched, head) = read();
    let full_listing = lz_promote::verified::listing_in_full();
    let (full, full_head) = read();
    drop(full_listing);
    println!("new process, witnessed chain of {} records, 1 new: {vouched}; listing every version: {full}", done.checkpoint.size);
    assert_eq!(head, full_head);
    assert!(vouched.list <= MAX_WITNESSED_LIST_PAGES, "listed {} pages (at most {MAX_WITNESSED_LIST_PAGES}): {vouched}", vouched.list);
    assert!(vouched.versions <= MAX_WITNESSED_VERSIONS, "listed {} versions (at most {MAX_WITNESSED_VERSIONS}): {vouched}", vouched.versions);
    assert!(full.versions > 1000, "the full listing lists the record versions of the whole chain: {full} against {vouched}");
}

/// A delete marker over a record behind the witnessed size (review of issue 36, finding 1): a
/// new process's read carries the record from its mirror and does not see it until the witness
/// runs again; the witness then refuses and retires its listing, and every later read refuses
/// as `evidence verify --full` does.
#[test]
fn after_the_witness_refuses_a_delete_marker_behind_its_listing_every_read_refuses() {
    let _alone = alone();
    let s = own_stores();
    let dir = tempfile::Builder::new().prefix("lz-reuse-retired-").tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(s.clone());
    sb.start_chain().unwrap();
    let drift = || {
        let at = OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap();
        let f = Fields::new(&lz_evidence::dsse::sha256_hex(b"padding")).at(at).environment("dev").account("111111111111");
        f.details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() })
    };
    for _ in 0..3 {
        sb.ledger().unwrap().append(Kind::Drift, drift(), sb.signer("deployer-bot")).unwrap();
    }
    assert!(sb.witness().unwrap().expect("a chain to witness").checkpoint.listing.is_some());
    let read = || {
        lz_promote::verified::forget_all();
        lz_promote::verified::current(&sb.paths.evidence, &sb.paths.trust, Some(&sb.paths.mirror_dir())).map(|s| s.listing.clone())
    };
    read().unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(s.s3().unwrap().delete_object().bucket(&s.evidence_bucket).key(s.evidence().unwrap().record_key(1)).send()).unwrap();
    // Until the witness runs again, the mirrored read carries record 1 (the window the docs name).
    assert!(read().unwrap().starts_with("listing: only the record keys after"));
    assert!(sb.witness().is_err(), "the witness's full listing finds the marker");
    let err = read().expect_err("after the witness refused, a read refuses as a full listing does");
    assert!(lz_evidence::failure_of(&err).is_some(), "{err:#}");
}

/// Mirror seeds (`lz_evidence::witness::seed`): a verifier with no mirror (a fresh runner)
/// plants it from the witness's segments with one GET per segment, and reads from the evidence
/// store only the records after them. A seed is believed for nothing: a segment forged by one
/// key (records signed by the deployer, hash-chained onto the real chain, raw-written into the
/// witness store before the witness writes that range) changes no verified record, and the
/// verifier reads the whole store instead.
#[test]
fn a_fresh_verifier_plants_its_mirror_from_the_witness_seeds_and_believes_none_of_them() {
    let _alone = alone();
    let s = own_stores();
    let (dir, sb) = on_s3("lz-reuse-seeded-", &s);
    append_padding(&sb, &s, 30);
    let register = sb.ledger().unwrap().identities().clone();
    let done = sb.witness().unwrap().expect("a chain to witness");
    assert_eq!(done.seeded, Ok(0), "a chain shorter than a segment of {} records publishes none", lz_evidence::witness::seed::SEGMENT);
    let size = done.checkpoint.size;
    let ws = s.witness().unwrap();
    let stored = s.evidence().unwrap().load().unwrap();
    assert_eq!(lz_evidence::witness::seed::publish(&ws, &stored, size, 10).unwrap(), 3, "segments of 10 below {size} records");
    assert_eq!(lz_evidence::witness::seed::publish(&ws, &stored, size, 10).unwrap(), 0, "each segment is written once");
    lz_promote::verified::use_seed_segment(10);
    // A shadow segment (same start, another count) written before the witness's: skipped.
    assert!(ws.put(&format!("seed/records/{:020}-{:06}.jsonl", 0, 1), &stored[0].bytes).unwrap());

    // A fresh verifier (no mirror, nothing in memory), with and without the seeds.
    let fresh = |seeds: bool, mirror: &std::path::Path| {
        lz_promote::verified::forget_all();
        lz_promote::verified::use_seeds(seeds);
        let before = Calls::now();
        let snapshot = lz_promote::verified::current(&sb.paths.evidence, &sb.paths.trust, Some(mirror));
        lz_promote::verified::use_seeds(true);
        let snapshot = snapshot.unwrap();
        (Calls::since(before), lz_promote::verified::planted(), snapshot.chain.head.clone(), snapshot.records.len())
    };
    let (unseeded, planted, head, len) = fresh(false, &dir.path().join("mirror-a"));
    assert_eq!(planted, 0);
    let (seeded, planted, seeded_head, seeded_len) = fresh(true, &dir.path().join("mirror-b"));
    println!("fresh verifier of {size} records: without seeds {unseeded}; planted {planted} from seeds {seeded}");
    assert_eq!(planted, 30, "three segments of 10 planted");
    assert_eq!((seeded_head.clone(), seeded_len), (head.clone(), len));
    assert!(seeded.get + 20 <= unseeded.get, "the seeded verifier reads the 30 seeded records from the seeds: {seeded} against {unseeded}");

    // A forged segment past the witnessed size is not planted at all.
    let copy = dir.path().join("forged.jsonl");
    let store = s.evidence().unwrap();
    lz_evidence::store::write_copy(&copy, &stored, store.head().unwrap().as_ref().map(|h| &h.bytes[..])).unwrap();
    let mut forger = lz_evidence::EvidenceArchive::open(lz_evidence::LocalStore::new(&copy), register).unwrap();
    // (Records of another release than the chain's next ones: Ed25519 signatures are
    // deterministic, so the same fields would give the same bytes.)
    let forged_drift = || clean_drift(&lz_evidence::dsse::sha256_hex(b"forged"));
    forger.append_many((0..(40 - size)).map(|_| (Kind::Drift, forged_drift(), sb.signer("deployer-bot"))).collect()).unwrap();
    let forged = forger.into_store().load().unwrap();
    let mut body = Vec::new();
    for r in &forged[30..40] {
        body.extend_from_slice(&r.bytes);
        body.push(b'\n');
    }
    assert!(ws.put(&format!("seed/records/{:020}-{:06}.jsonl", 30, 10), &body).unwrap());
    assert!(ws.put(&format!("seed/records/{:020}-{:06}.jsonl", 0, 10), &body).is_err(), "a published segment cannot be replaced");
    let (_, planted, _, _) = fresh(true, &dir.path().join("mirror-c"));
    assert_eq!(planted, 30, "nothing past the {size} records the witness vouches for is planted");

    // One key forges the next range before the witness publishes it: records signed by the
    // deployer that continue the real chain's hash links, inside what the witness now vouches
    // for. Planted, and believed for nothing.
    append_padding(&sb, &s, 10);
    assert!(sb.witness().unwrap().expect("a chain to witness").checkpoint.size >= 40);
    let (unseeded, _, head, len) = fresh(false, &dir.path().join("mirror-d"));
    let (forged_read, planted, forged_head, forged_len) = fresh(true, &dir.path().join("mirror-e"));
    println!("with a forged segment: planted {planted}, read {forged_read}");
    assert_eq!(planted, 40, "the forged segment continues the run inside the vouched size, so it is planted");
    assert_eq!((forged_head, forged_len), (head, len), "no forged record is believed: the store's chain is the verdict");
    assert!(forged_read.get >= unseeded.get, "a forged seed only makes the verifier read the whole store: {forged_read} against {unseeded}");
    lz_promote::verified::use_seed_segment(lz_evidence::witness::seed::SEGMENT);
}

/// The witness's signed replay verdicts (`lz_promote::replay::witnessed`): a command takes the
/// verdicts of the deployments below their size and replays none of them, with the same result
/// as replaying them all. Verdicts signed by the deployer's key (admitting its own forged
/// deployment), or by the witness for another chain, are taken for nothing: every deployment
/// is replayed again and the forgery stays rejected.
#[test]
fn the_witness_signs_replay_verdicts_and_only_a_witness_of_this_chain_spares_a_replay() {
    use lz_evidence::details::DeploymentDetails;
    use lz_promote::replay::witnessed::{self, Verdicts};
    let _alone = alone();
    let s = own_stores();
    let (_dir, sb) = on_s3("lz-reuse-verdicts-", &s);
    let at = OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap();
    let release = lz_evidence::dsse::sha256_hex(b"no such release");
    // One key: a deployment record of dev that names no admission.
    let bare = DeploymentDetails { outcome: "succeeded".into(), run: Some("forged".into()), ..Default::default() };
    let fields = Fields::new(&release).environment("dev").account("111111111111").plan_digest("ab".repeat(32)).at(at).details(bare);
    let forged = sb.ledger().unwrap().append(Kind::Deployment, fields, sb.signer("deployer-bot")).unwrap().sequence;
    let drift = || clean_drift(&release);
    // What a new process finds: the rejected deployments, and how many admissions it replayed.
    let fresh = || {
        lz_promote::verified::forget_all();
        lz_promote::replay::forget_verdicts();
        let before = lz_promote::replay::replayed();
        let ledger = sb.ledger().unwrap();
        let rejected = lz_promote::replay::rejected(&sb.paths, &ledger, &ledger.records().unwrap()).unwrap();
        (rejected.keys().copied().collect::<Vec<_>>(), lz_promote::replay::replayed() - before)
    };
    assert_eq!(fresh(), (vec![forged], 1), "without verdicts, the deployment is replayed and rejected");

    // The deployer signs verdicts admitting its own deployment, for the chain as it is.
    sb.ledger().unwrap().append(Kind::Drift, drift(), sb.signer("deployer-bot")).unwrap();
    let ws = s.witness().unwrap();
    let (last, hash) = sb.ledger().unwrap().snapshot().unwrap().chain.head.clone().unwrap();
    let claim = Verdicts { witness: "deployer-bot".into(), size: last + 1, hash: hash.clone(), time: "2026-11-28T12:00:00Z".into(), rejected: Default::default() };
    assert!(witnessed::put(&ws, &claim, sb.signer("deployer-bot")).unwrap().1);
    assert_eq!(fresh(), (vec![forged], 1), "verdicts signed by a deployer are taken for nothing");
    // The witness's verdicts for another chain (a hash this chain does not have at that size).
    let other = Verdicts { witness: "wendy".into(), size: last + 1, hash: "cd".repeat(32), time: "2026-11-28T12:00:01Z".into(), rejected: Default::default() };
    assert!(witnessed::put(&ws, &other, sb.signer("wendy")).unwrap().1);
    assert_eq!(fresh(), (vec![forged], 1), "verdicts of another chain are taken for nothing");

    // The witness replays the chain and signs what it found.
    let published = sb.witness_verdicts().unwrap().expect("an S3 chain");
    assert!(published.new && published.verdicts.rejected.contains_key(&forged), "{:?}", published.verdicts);
    assert_eq!(fresh(), (vec![forged], 0), "the witness's verdicts spare the replay and give the same verdict");
    lz_promote::replay::use_signed_verdicts(false);
    let all = fresh();
    lz_promote::replay::use_signed_verdicts(true);
    assert_eq!(all, (vec![forged], 1), "`evidence verify --full` replays every deployment");

    // Objects written under later keys that do not hold cost a read each (up to `CANDIDATES`);
    // the newest verdicts that hold are still taken.
    sb.ledger().unwrap().append(Kind::Drift, drift(), sb.signer("deployer-bot")).unwrap();
    for n in 0..3 {
        let junk = Verdicts { witness: "deployer-bot".into(), size: last + 2, hash: hash.clone(), time: format!("2026-11-28T12:00:0{n}Z"), rejected: Default::default() };
        assert!(witnessed::put(&ws, &junk, sb.signer("deployer-bot")).unwrap().1);
    }
    assert_eq!(fresh(), (vec![forged], 0), "the newest verdicts that hold are taken");

    // Under the witness's own name: a newer object that does not hold (a hash not the chain's)
    // is read and passed over, and objects naming more records than the chain holds (keys that
    // sort newest for good, written by whoever can write the witness store) are never among
    // the candidates: without that bound these eight would crowd the real verdicts out.
    let newer = Verdicts { witness: "wendy".into(), size: last + 2, hash: "ef".repeat(32), time: "2026-11-28T12:00:09Z".into(), rejected: Default::default() };
    assert!(witnessed::put(&ws, &newer, sb.signer("wendy")).unwrap().1);
    for n in 0..8u64 {
        let future = Verdicts { witness: "wendy".into(), size: 1_000_000_000 + n, hash: hash.clone(), time: "2026-11-28T12:00:09Z".into(), rejected: Default::default() };
        assert!(witnessed::put(&ws, &future, sb.signer("wendy")).unwrap().1);
    }
    assert_eq!(fresh(), (vec![forged], 0), "junk under the witness's name spares nothing and hides nothing");

    // The witness's next run starts from its own last verdicts that hold and replays only the
    // deployments after them. A second deployment naming no admission, and verdicts admitting it
    // under the witness's name signed by a key the register does not hold (the newest object):
    // passed over, as is the newer object of another chain's hash under the witness's name.
    let bare = DeploymentDetails { outcome: "succeeded".into(), run: Some("forged-2".into()), ..Default::default() };
    let fields = Fields::new(&release).environment("dev").account("111111111111").plan_digest("ab".repeat(32)).at(at).details(bare);
    let forged_2 = sb.ledger().unwrap().append(Kind::Deployment, fields, sb.signer("deployer-bot")).unwrap().sequence;
    let (last_2, hash_2) = sb.ledger().unwrap().snapshot().unwrap().chain.head.clone().unwrap();
    let stranger = lz_evidence::Signer::new("wendy", lz_evidence::identity::generate_key());
    let claim = Verdicts { witness: "wendy".into(), size: last_2 + 1, hash: hash_2, time: "2026-11-28T12:00:10Z".into(), rejected: Default::default() };
    assert!(witnessed::put(&ws, &claim, &stranger).unwrap().1);
    let witness_run = |full: bool| {
        lz_promote::verified::forget_all();
        lz_promote::replay::forget_verdicts();
        let before = lz_promote::replay::replayed();
        let p = if full { lz_operate::witness_verdicts::publish_full(&sb.paths, sb.signer("wendy")) } else { sb.witness_verdicts() };
        let p = p.unwrap().expect("an S3 chain");
        (p.from, p.verdicts.rejected.keys().copied().collect::<Vec<_>>(), lz_promote::replay::replayed() - before)
    };
    assert_eq!(witness_run(false), (Some(published.verdicts.size), vec![forged, forged_2], 1), "only the deployment after its own last verdicts is replayed");
    assert_eq!(witness_run(true), (None, vec![forged, forged_2], 2), "publish_full replays every deployment");
    assert_eq!(fresh(), (vec![forged, forged_2], 0));
}

/// The witness's own latest verdicts (`witnessed::own_latest`, what its next run starts from):
/// verdicts of ANOTHER registered witness are not its own, whether they name that witness
/// (signed with its key, stored under this witness's name) or name this witness over the other
/// witness's signature. Only this witness's own verdicts are taken, though older. Without
/// `own_latest`'s name check the first was taken for its own; without `open`'s, the second.
#[test]
fn the_witness_takes_no_other_witness_verdicts_for_its_own() {
    use lz_evidence::identity::{encode_public_key, generate_key};
    use lz_promote::replay::witnessed::{self, Verdicts};
    let _alone = alone();
    let s = own_stores();
    let ws = s.witness().unwrap();
    let (me, other) = (lz_evidence::Signer::new("wendy", generate_key()), lz_evidence::Signer::new("walter", generate_key()));
    let entry = |s: &lz_evidence::Signer| {
        format!(
            "[identity.{0}]\nname = \"{0}\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{1}\"\n\n",
            s.identity(),
            encode_public_key(&s.public_key())
        )
    };
    let register = lz_evidence::Identities::parse(&format!("{}{}", entry(&me), entry(&other)), "identities.toml").unwrap();
    let hash = "ab".repeat(32);
    let hash_at = |seq: u64| (seq == 9).then(|| hash.clone());
    let verdicts = |witness: &str, time: &str| Verdicts { witness: witness.into(), size: 10, hash: hash.clone(), time: time.into(), rejected: Default::default() };
    // Under wendy's name in the store: walter's own verdicts, and verdicts naming wendy that walter signed.
    let under_mine = |v: &Verdicts, by: &lz_evidence::Signer, unix: i64| {
        assert!(ws.put(&witnessed::key(v.size, unix, "wendy"), &witnessed::sign(v, by).unwrap()).unwrap());
    };
    under_mine(&verdicts("walter", "2026-12-08T01:00:10Z"), &other, 1_796_691_610);
    under_mine(&verdicts("wendy", "2026-12-08T01:00:11Z"), &other, 1_796_691_611);
    assert_eq!(witnessed::own_latest(&ws, &register, &me, 10, hash_at).unwrap(), None, "another witness's verdicts are not wendy's");
    // Wendy's own, older: taken.
    let own = verdicts("wendy", "2026-12-08T01:00:00Z");
    witnessed::put(&ws, &own, &me).unwrap();
    assert_eq!(witnessed::own_latest(&ws, &register, &me, 10, hash_at).unwrap(), Some(own));
}
