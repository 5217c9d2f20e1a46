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
use lz_promote::sandbox::Sandbox;

use common::{endpoint, open_time, own_stores, root};
use date_relay::DateRelay;

#[test]
fn a_relay_moving_the_sts_date_three_hours_cannot_time_a_decision() {
    let stores = own_stores();
    let dir = tempfile::Builder::new().prefix("lz-clock-relay-").tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(stores.clone());
    sb.start_chain().unwrap();
    let r = common::release(&sb, "clock relay", &open_time());
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
