//! The S3 evidence store under faults: a TCP relay (tests/common/relay.rs) between the client
//! and LocalStack hangs requests, drops answers, resets connections, answers 500 and slows
//! every request down. Nothing hangs for ever, no record is written twice, none is lost.

mod common;

use std::time::{Duration, Instant};

use common::relay::{Fault, Relay, ALWAYS};
use common::*;
use lz_evidence::archive::{append_once, AppendRetry, APPEND_ID};
use lz_evidence::record::{DriftEvidence, EvidenceBuilder as _, Fields, Kind};
use lz_evidence::{verify_store, EvidenceArchive, S3Store, Store, TrustRoot};
use lz_platform::aws::ClientPolicy;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn endpoint() -> String {
    lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Waits short enough for a test: one attempt of a second, three in all.
const SHORT: ClientPolicy = ClientPolicy {
    connect: Duration::from_secs(1),
    read: Duration::from_secs(1),
    attempt: Duration::from_secs(2),
    operation: Duration::from_secs(6),
    max_attempts: 3,
    initial_backoff: Duration::from_millis(50),
    max_backoff: Duration::from_millis(200),
};

/// A client of LocalStack at `endpoint` (directly, or through a relay).
fn client(endpoint: &str, policy: &ClientPolicy) -> lz_evidence::aws_sdk_s3::Client {
    lz_platform::aws::s3_with(endpoint, lz_platform::aws::account_credentials("000000000000"), "us-east-1", policy)
}

/// A bucket of this test's own with two drift records, written directly (no relay).
fn bucket(t: &Team) -> String {
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("lz-evidence-faults-{nonce}");
    let s = S3Store::new(client(&endpoint(), &ClientPolicy::DEFAULT), &name, "", 1).unwrap();
    s.ensure_bucket().unwrap();
    let mut a = EvidenceArchive::open(s, t.identities.clone()).unwrap();
    for i in 0..2 {
        a.record(DriftEvidence::new(&digest("r"), "prod", "5", vec![format!("x.y{i}")]), &t.deployer).unwrap();
    }
    name
}

fn direct(name: &str) -> S3Store {
    S3Store::open_worm(client(&endpoint(), &ClientPolicy::DEFAULT), name, "").unwrap()
}

fn via(relay: &Relay, name: &str, policy: &ClientPolicy) -> S3Store {
    S3Store::open_worm(client(&relay.endpoint(), policy), name, "").unwrap()
}

fn drift(tag: &str) -> Fields {
    DriftEvidence::new(&digest("r"), "prod", "5", vec![tag.to_string()]).into_fields().unwrap()
}

/// How many stored records carry `append_id`.
fn copies(store: &S3Store, append_id: &str) -> usize {
    store
        .load()
        .unwrap()
        .iter()
        .filter(|r| {
            let env: lz_evidence::dsse::Envelope = serde_json::from_slice(&r.bytes).unwrap();
            let st: lz_evidence::Statement = serde_json::from_slice(&env.payload_bytes().unwrap()).unwrap();
            st.predicate.details.get(APPEND_ID).and_then(|v| v.as_str()) == Some(append_id)
        })
        .count()
}

fn verified(store: &S3Store, t: &Team) -> lz_evidence::VerifiedChain {
    verify_store(store, &TrustRoot::register(t.identities.clone(), "test register"), &[]).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Runs `f` on a thread of its own and fails the test if it has not returned within `limit`:
/// the guard against a hang, not a speed goal (the policy's own limits are far below it).
fn bounded<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).expect("the call hung: no timeout ended it")
}

#[test]
fn a_request_that_never_answers_times_out_on_append_and_on_verify() {
    let t = team();
    let name = bucket(&t);
    let relay = Relay::start(&endpoint());
    relay.inject(None, "/", Fault::Hang, ALWAYS);
    let (ep, bucket_name) = (relay.endpoint(), name.clone());
    let ids = t.identities.clone();
    let deployer = t.deployer.clone();
    let append = bounded(Duration::from_secs(120), move || {
        let started = Instant::now();
        let open = || EvidenceArchive::open(S3Store::open_worm(client(&ep, &SHORT), &bucket_name, "")?, ids.clone());
        let res = append_once(open, Kind::Drift, drift("hang"), &deployer, AppendRetry::default());
        (res.map(|a| a.record.sequence), started.elapsed())
    });
    // `open_worm` reads the bucket's lock configuration: the store of the verification below is
    // opened before the hang is injected, so that the hang meets the reads of the chain.
    let err = format!("{:#}", append.0.expect_err("an append through a relay that never answers succeeded"));
    assert!(err.to_lowercase().contains("timeout") || err.to_lowercase().contains("timed out"), "{err}");
    relay.heal();
    let store = via(&relay, &name, &SHORT);
    relay.inject(None, "/", Fault::Hang, ALWAYS);
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let verify = bounded(Duration::from_secs(120), move || {
        let started = Instant::now();
        (verify_store(&store, &root, &[]).map(|c| c.records.len()), started.elapsed())
    });
    let verr = format!("{:#}", verify.0.expect_err("a verification through a relay that never answers succeeded"));
    assert!(verr.to_lowercase().contains("timeout") || verr.to_lowercase().contains("timed out"), "{verr}");
    println!(
        "hang: append failed after {:.1?} ({err}); verify failed after {:.1?} ({verr}); faults injected {}; records lost 0",
        append.1,
        verify.1,
        relay.injected()
    );
    assert_eq!(verified(&direct(&name), &t).records.len(), 2, "the hung append wrote nothing");

    // A record PUT that never answers: the write is uncertain, each try times out, and the
    // append ends with an error saying so (bounded tries), having written nothing.
    relay.heal();
    relay.inject(Some("PUT"), "/records/", Fault::Hang, ALWAYS);
    let (ep, bucket_name, ids, deployer) = (relay.endpoint(), name.clone(), t.identities.clone(), t.deployer.clone());
    let put = bounded(Duration::from_secs(120), move || {
        let open = || EvidenceArchive::open(S3Store::open_worm(client(&ep, &SHORT), &bucket_name, "")?, ids.clone());
        append_once(open, Kind::Drift, drift("hang on put"), &deployer, AppendRetry { attempts: 2, backoff: Duration::from_millis(10) })
    });
    let perr = format!("{:#}", put.expect_err("an append whose record PUT never answers succeeded"));
    assert!(perr.contains("no definite answer") && perr.contains("in 2 attempts"), "{perr}");
    assert_eq!(verified(&direct(&name), &t).records.len(), 2);
}

#[test]
fn an_answer_lost_after_the_record_put_is_found_by_the_retry_not_written_twice() {
    let t = team();
    let name = bucket(&t);
    let relay = Relay::start(&endpoint());
    let mut figures = Vec::new();
    // Without SDK retries the append itself sees the lost answer and looks for its record; with
    // them, the SDK's retried PUT meets the record it wrote (412) and recognises its bytes.
    for (label, policy) in [("library retry", ClientPolicy { max_attempts: 1, ..SHORT }), ("SDK retry", SHORT)] {
        let before = relay.injected();
        relay.inject(Some("PUT"), "/records/", Fault::DropResponse, 1);
        if policy.max_attempts > 1 {
            relay.inject(Some("GET"), "/head.json", Fault::Reset, 1);
        }
        let fields = drift(label);
        let done = append_once(
            || EvidenceArchive::open(via(&relay, &name, &policy), t.identities.clone()),
            Kind::Drift,
            fields,
            &t.deployer,
            AppendRetry::default(),
        )
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));
        assert!(relay.injected() > before, "{label}: the fault was not injected");
        assert_eq!(copies(&direct(&name), &done.append_id), 1, "{label}: the record was written twice");
        figures.push(format!("{label}: record {} (found again: {})", done.record.sequence, done.already));
    }
    // A rerun with the same append id (the CLI after a lost answer) finds the record.
    let chain = verified(&direct(&name), &t);
    let last = chain.records.last().unwrap();
    let id = last.statement.predicate.details[APPEND_ID].as_str().unwrap().to_string();
    let mut again = drift("SDK retry");
    again.raw_details_mut().insert(APPEND_ID.into(), id.clone().into());
    let rerun = append_once(|| EvidenceArchive::open(direct(&name), t.identities.clone()), Kind::Drift, again, &t.deployer, AppendRetry::default()).unwrap();
    assert!(rerun.already, "the rerun wrote a second record");
    assert_eq!(rerun.record.sequence, last.sequence);
    // The same id on other content is refused, not silently taken for the old record.
    let mut other = drift("something else");
    other.raw_details_mut().insert(APPEND_ID.into(), id.into());
    let err = append_once(|| EvidenceArchive::open(direct(&name), t.identities.clone()), Kind::Drift, other, &t.deployer, AppendRetry::default())
        .unwrap_err();
    assert!(err.is::<lz_evidence::Refused>() && format!("{err:#}").contains("different content"), "{err:#}");
    let chain = verified(&direct(&name), &t);
    assert_eq!(chain.records.len(), 4, "2 + one record per lost answer");
    println!("lost answers: {}; faults injected {}; records 4 of 4, duplicates 0, records lost 0", figures.join("; "), relay.injected());
}

#[test]
fn a_persistent_500_on_the_head_leaves_it_behind_until_the_next_append_moves_it() {
    let t = team();
    let name = bucket(&t);
    let relay = Relay::start(&endpoint());
    relay.inject(Some("PUT"), "/head.json", Fault::Status(500), ALWAYS);
    let done = append_once(
        || EvidenceArchive::open(via(&relay, &name, &SHORT), t.identities.clone()),
        Kind::Drift,
        drift("500"),
        &t.deployer,
        AppendRetry::default(),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(done.record.sequence, 2);
    let why = done.head_behind.clone().expect("the head could not move");
    assert!(why.contains("500") || why.to_lowercase().contains("internal"), "{why}");
    let store = direct(&name);
    assert_eq!(store.checkpoint().unwrap().unwrap().sequence, 1, "the head stayed behind");
    assert_eq!(store.load().unwrap().len(), 3, "the record is stored");
    let injected = relay.injected();
    relay.heal();
    // The next append links after the record and moves the head past it.
    let next = append_once(|| EvidenceArchive::open(via(&relay, &name, &SHORT), t.identities.clone()), Kind::Drift, drift("next"), &t.deployer, AppendRetry::default())
        .unwrap();
    assert_eq!((next.record.sequence, next.head_behind.as_deref()), (3, None));
    let store = direct(&name);
    assert_eq!(store.checkpoint().unwrap().unwrap().sequence, 3);
    let chain = verified(&store, &t);
    assert_eq!(chain.records.len(), 4);
    assert_eq!(copies(&store, &done.append_id), 1);
    println!("500 on every head PUT: {injected} faults injected, record 2 stored with the head at 1; the next append moved it to 3; records lost 0");
}

#[test]
fn a_rerun_of_an_append_whose_head_failed_moves_the_head_itself() {
    let t = team();
    let name = bucket(&t);
    let relay = Relay::start(&endpoint());
    relay.inject(Some("PUT"), "/head.json", Fault::Status(503), ALWAYS);
    let first = append_once(|| EvidenceArchive::open(via(&relay, &name, &SHORT), t.identities.clone()), Kind::Drift, drift("x"), &t.deployer, AppendRetry::default())
        .unwrap();
    assert!(first.head_behind.is_some());
    relay.heal();
    let mut again = drift("x");
    again.raw_details_mut().insert(APPEND_ID.into(), first.append_id.clone().into());
    let rerun = append_once(|| EvidenceArchive::open(via(&relay, &name, &SHORT), t.identities.clone()), Kind::Drift, again, &t.deployer, AppendRetry::default())
        .unwrap();
    assert!(rerun.already && rerun.head_behind.is_none(), "{rerun:?}");
    let store = direct(&name);
    assert_eq!(store.checkpoint().unwrap().unwrap().sequence, first.record.sequence);
    assert_eq!(verified(&store, &t).records.len(), 3);
}

#[test]
fn three_seconds_of_latency_is_slow_not_absent() {
    let t = team();
    let name = bucket(&t);
    let relay = Relay::start(&endpoint());
    relay.inject(None, "/", Fault::Delay(Duration::from_secs(3)), ALWAYS);
    let health = lz_platform::localstack::probe(&relay.endpoint()).unwrap_or_else(|e| panic!("a slow LocalStack was reported as: {e}"));
    assert!(health.elapsed >= Duration::from_secs(3), "{:?}", health.elapsed);
    let started = Instant::now();
    let open = || EvidenceArchive::open(S3Store::open_worm(client(&relay.endpoint(), &ClientPolicy::DEFAULT), &name, "")?, t.identities.clone());
    let done = append_once(open, Kind::Drift, drift("slow"), &t.deployer, AppendRetry::default())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let append = started.elapsed();
    relay.heal();
    assert_eq!(done.record.sequence, 2);
    assert_eq!(verified(&direct(&name), &t).records.len(), 3);
    println!(
        "3 s latency on every request: health answered in {:.1?} (slow, not absent); append took {append:.1?}; {} requests delayed; records lost 0",
        health.elapsed,
        relay.injected()
    );
}

#[test]
fn a_reset_or_a_5xx_now_and_then_is_retried() {
    let t = team();
    let name = bucket(&t);
    let relay = Relay::start(&endpoint());
    let mut a = EvidenceArchive::open(via(&relay, &name, &SHORT), t.identities.clone()).unwrap();
    for i in 0..10 {
        relay.inject(None, "/", if i % 2 == 0 { Fault::Reset } else { Fault::Status(503) }, 1);
        a.record(DriftEvidence::new(&digest("r"), "prod", "5", vec![format!("n{i}")]), &t.deployer).unwrap_or_else(|e| panic!("{i}: {e:#}"));
    }
    assert_eq!(relay.injected(), 10);
    assert_eq!(verified(&direct(&name), &t).records.len(), 12);
    println!("transient faults: {} injected, 10 of 10 appends landed, records lost 0", relay.injected());
}
