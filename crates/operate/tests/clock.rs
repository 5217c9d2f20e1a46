//! The decision clock under a relay that moves the `Date` header of the plain-HTTP STS answer
//! (issue 24): LocalStack's clock is not authenticated, so a decision's time is bounded by the
//! latest witnessed checkpoint of the evidence chain, co-signed by the audit function's
//! witness. A time 3 hours ahead (or behind) is refused; the honest clock passes and the
//! decision record says its time was not authenticated and which checkpoint bounded it.

mod common;
#[path = "common/date_relay.rs"]
mod date_relay;

use lz_promote::clock::Clock;
use lz_promote::ledger::EvidenceAt;
use lz_operate::sandbox::Sandbox;

use common::{endpoint, open_time, own_stores, root};
use date_relay::DateRelay;

/// A command's scope is the process's (`lz_promote::command`: one command per CLI process): a
/// command another test begins meanwhile starts a new epoch, and the next reading of this
/// test's command is taken afresh. The tests of this file, which count readings or move the
/// clock, run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A sandbox whose evidence lives in this test's own S3 stores, its chain started and release
/// `name` published (dated by the fixed test clock).
fn on_s3(prefix: &str, name: &str) -> (tempfile::TempDir, Sandbox, String) {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(own_stores());
    sb.start_chain().unwrap();
    let r = common::release(&sb, name, &open_time());
    (dir, sb, r)
}

#[test]
fn a_relay_moving_the_sts_date_three_hours_cannot_time_a_decision() {
    let _alone = alone();
    let (_dir, sb, r) = on_s3("lz-clock-relay-", "clock relay");
    let t = sb.target("dev").unwrap();
    let honest = t.clock();
    let ahead = DateRelay::start(&endpoint(), time::Duration::hours(3));
    let behind = DateRelay::start(&endpoint(), time::Duration::hours(-3));
    let relayed = |relay: &DateRelay| Clock::server(&relay.endpoint(), &t.account_id, &t.region);

    // The reading says it is not authenticated (plain HTTP).
    let reading = honest.now().unwrap();
    assert!(!reading.authenticated && reading.source.contains("not authenticated: plain HTTP"), "{reading:?}");
    let moved = relayed(&ahead).now().unwrap();
    assert!(ahead.shifted() >= 1, "the relay moved the Date header");
    assert!(moved.time - reading.time >= time::Duration::minutes(179), "{moved:?} vs {reading:?}");

    // The witness co-signs the head; the +3 h and -3 h clocks are refused, naming the checkpoint.
    let cosigned = sb.witness().unwrap().expect("an S3 chain has a witness store");
    let session = sb.session(&r, "dev").unwrap();
    for (relay, says) in [(&ahead, "ahead of the latest witnessed checkpoint"), (&behind, "behind the latest witnessed checkpoint")] {
        let now = relayed(relay).now().unwrap();
        let err = session.approve(sb.signer("bob"), "reviewed", Some("CHG-1"), &now).unwrap_err();
        let text = format!("{err:#}");
        assert!(lz_promote::refusal::is_refusal(&err), "a refusal (exit 1): {text}");
        assert!(text.contains(says) && text.contains("max_clock_skew_minutes") && text.contains(&cosigned.location), "{text}");
    }
    // The honest clock decides, and the record says how its time was judged.
    let (rec, _) = session.approve(sb.signer("bob"), "reviewed", Some("CHG-1"), &honest.now().unwrap()).unwrap();
    let records = sb.ledger().unwrap().records().unwrap();
    let approval = records.iter().find(|x| x.sequence == rec.sequence).unwrap();
    let clock = approval.details.approval().and_then(|a| a.clock.as_deref()).unwrap();
    assert!(clock.contains("not authenticated: plain HTTP") && clock.contains("within 10 min of witnessed checkpoint"), "{clock}");
    println!("clock relay: +3 h and -3 h refused, {} answers moved; honest clock recorded as {clock:?}", ahead.shifted() + behind.shifted());
}

/// Every decision that takes the time is bounded, not only promote and approve: a relay moving
/// the STS `Date` +3 h is refused by approve, promote (its change window and exception
/// expiry), drift, remediation, break-glass, rotation and exception approval. Before anything
/// is witnessed the time is bounded by the chain's last record (an old chain refuses: fail
/// closed). A relay on the evidence store's S3 server alone disagrees with STS and is refused.
/// The honest clock decides, and its records say the time was not authenticated and how it
/// was bounded.
#[test]
fn every_decision_on_a_moved_clock_is_refused_and_the_honest_one_decides() {
    let _alone = alone();
    use lz_promote::clock;
    let (_dir, sb, r) = on_s3("lz-clock-every-", "clock every decision");
    // Its records are dated 2026-11-28 (a fixed test clock): days behind the server's time.
    let t = sb.target("dev").unwrap();
    let honest = t.clock();
    let ahead = DateRelay::start(&endpoint(), time::Duration::hours(3));
    let moved = Clock::server(&ahead.endpoint(), &t.account_id, &t.region);
    let refused = |what: &str, r: anyhow::Result<()>, says: &str| {
        let err = r.expect_err(what);
        let text = format!("{err:#}");
        assert!(lz_promote::refusal::is_refusal(&err), "{what}: a refusal (exit 1): {text}");
        assert!(text.contains(says), "{what}: {text}");
    };

    // Nothing witnessed yet: the honest time runs days ahead of the chain's last record.
    refused(
        "honest, nothing witnessed",
        clock::decide(&sb.paths, Some("dev"), &honest).map(drop),
        "ahead of the evidence chain's last record",
    );
    let session = sb.session(&r, "dev").unwrap();
    refused(
        "approve, nothing witnessed",
        session.approve(sb.signer("bob"), "reviewed", Some("CHG-1"), &honest.now().unwrap()).map(drop),
        "nothing is witnessed yet",
    );

    sb.witness().unwrap().expect("an S3 chain has a witness store");
    let says = "ahead of the latest witnessed checkpoint";
    let plan = lz_promote::release::render_env(&root(), "dev").unwrap();
    let policy = lz_promote::rotation::Policy::load(&root()).unwrap();
    let secret = lz_promote::rotation::secrets_of_plan(&plan, &policy, &t.account_id, &t.region).unwrap()[0].name.clone();
    let req = lz_operate::rotate::Request {
        root: &root(),
        paths: &sb.paths,
        target: &t,
        plan: &plan,
        policy: &policy,
        secret: &secret,
        signer: sb.signer("deployer-bot"),
        ticket: Some("CHG-1"),
    };
    let decisions: Vec<(&str, Box<dyn Fn() -> anyhow::Result<()> + '_>)> = vec![
        ("approve", Box::new(|| sb.approve("bob", &r, "dev", &moved).map(drop))),
        ("promote", Box::new(|| sb.promote(&r, "dev", "deployer-bot", &moved, 0).map(drop))),
        ("drift", Box::new(|| sb.drift("dev", &moved).map(drop))),
        (
            "remediate",
            Box::new(|| {
                lz_operate::remediate::remediate(&sb.paths, &t, &sb.names("dev"), sb.signer("deployer-bot"), &moved.now()?).map(drop)
            }),
        ),
        ("break-glass", Box::new(|| clock::decide(&sb.paths, Some("dev"), &moved).map(drop))),
        ("rotate", Box::new(|| lz_operate::rotate::rotate(&req, || moved.now()).map(drop))),
        ("exceptions approve", Box::new(|| sb.approve_exceptions(&r, &moved).map(drop))),
    ];
    for (what, decide) in &decisions {
        refused(what, decide(), says);
    }

    // A relay on the evidence store's server alone: STS and S3 disagree by 3 h.
    let store_relay = DateRelay::start(&endpoint(), time::Duration::hours(3));
    let mut relayed_store = sb.paths.clone();
    if let EvidenceAt::S3(s) = &mut relayed_store.evidence {
        s.endpoint = store_relay.endpoint();
    }
    refused("store relay", clock::decide(&relayed_store, Some("dev"), &honest).map(drop), "disagrees by");
    assert!(store_relay.shifted() >= 1, "the relay moved the evidence store's Date");

    // The honest clock decides; the records say how its time was judged.
    let (rec, _) = session.approve(sb.signer("bob"), "reviewed", Some("CHG-1"), &honest.now().unwrap()).unwrap();
    let bg = clock::decide(&sb.paths, Some("dev"), &honest).unwrap();
    let opened = lz_promote::breakglass::open(&sb.ledger().unwrap(), sb.signer("oscar"), "dev", &t.account_id, None, "INC-1", "clock test", 30, bg).unwrap();
    let records = sb.ledger().unwrap().records().unwrap();
    for seq in [rec.sequence, opened.sequence] {
        let clock = records.iter().find(|x| x.sequence == seq).unwrap().details.to_map().get("clock").and_then(|v| v.as_str()).unwrap().to_string();
        assert!(
            clock.contains("not authenticated: plain HTTP")
                && clock.contains("agrees with the Date of s3://")
                && clock.contains("within 10 min of witnessed checkpoint"),
            "record {seq}: {clock}"
        );
    }
    println!(
        "clock: {} decisions refused at +3 h ({} answers moved), a store-only relay refused, nothing-witnessed refused; honest approve and break-glass recorded",
        decisions.len(),
        ahead.shifted() + store_relay.shifted()
    );
}

/// One reading of the evidence store's server time per command (issue 36): an approval on an
/// unauthenticated clock judges the witness note's age (the voucher) and bounds its decision
/// time against the same store's `Date`, and within one command both take one `HeadBucket`.
/// Outside a command (each step on its own) the same approval reads it twice, so the count is
/// what one reading per command saves. The honest decision still says it agrees with the store.
#[test]
fn a_command_reads_the_store_clock_once_for_the_voucher_and_the_decision() {
    let _alone = alone();
    use lz_promote::server_date::count_store_date_reads as reads;
    let (_dir, sb, r) = on_s3("lz-clock-once-", "clock once");
    let honest = sb.target("dev").unwrap().clock();
    sb.witness().unwrap().expect("an S3 chain has a witness store");

    // No command: the voucher and the bound each read the store's time.
    lz_promote::verified::forget(&sb.paths.evidence);
    let before = reads();
    let session = sb.session(&r, "dev").unwrap();
    session.approve(sb.signer("bob"), "reviewed", Some("CHG-1"), &honest.now().unwrap()).unwrap();
    let unscoped = reads() - before;
    assert_eq!(unscoped, 2, "outside a command the voucher and the decision each read the store's clock");

    // One command (`Sandbox::approve` begins one, as the CLI's `main` does): one reading.
    lz_promote::verified::forget(&sb.paths.evidence);
    let before = reads();
    let seq = sb.approve("erin", &r, "dev", &honest).unwrap();
    assert_eq!(reads() - before, 1, "one command reads the store's clock once");
    let records = sb.ledger().unwrap().records().unwrap();
    let approval = records.iter().find(|x| x.sequence == seq).unwrap();
    let clock = approval.details.approval().and_then(|a| a.clock.as_deref()).unwrap();
    assert!(clock.contains("agrees with the Date of s3://") && clock.contains("within 10 min of witnessed checkpoint"), "{clock}");
    println!("store clock: {unscoped} readings without a command, 1 within one; recorded as {clock:?}");
}
