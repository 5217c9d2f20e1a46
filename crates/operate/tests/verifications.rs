//! One verification per command: `approve`, `promote`, `drift` and `report` verify the evidence
//! chain in full once, and every later read in the same command resumes from the verified head
//! (the store's anchors read again, only new records verified). Counted with the test-only
//! counter of `lz_evidence::verify` (feature `test-hooks`), so a step that verifies the chain a
//! second time fails here.

mod common;

use lz_evidence::verify::{count_verifications, VerificationCount};
use lz_operate::sandbox::Sandbox;

use common::{open_time, release, sandbox};

/// Passes run by `step` on a chain this process has not verified yet.
fn passes<T>(sb: &Sandbox, step: impl FnOnce() -> T) -> (T, VerificationCount) {
    lz_promote::verified::forget(&sb.paths.evidence);
    let before = count_verifications();
    let out = step();
    let after = count_verifications();
    (out, VerificationCount { full: after.full - before.full, suffix: after.suffix - before.suffix })
}

fn appended(sb: &Sandbox, before: usize) -> u64 {
    (sb.ledger().unwrap().records().unwrap().len() - before) as u64
}

#[test]
fn each_decision_command_verifies_the_chain_once() {
    let (_d, sb) = sandbox("verifications");
    let now = open_time();
    let release = release(&sb, "count", &now);
    sb.bootstrap("dev", &release).unwrap();

    let len = sb.ledger().unwrap().records().unwrap().len();
    let (approved, n) = passes(&sb, || sb.approve("bob", &release, "dev", &now));
    approved.unwrap();
    eprintln!("approve: {n:?}");
    assert_eq!(n.full, 1, "approve verified the chain in full {} times", n.full);
    // Each later pass is a resumed one, two at most per record the command appended: the pass
    // each append makes before its first try (with the listing, never the command's reused
    // verification: `lz_promote::verified::reuse`), and the next read's after it.
    let new = appended(&sb, len);
    assert!(n.suffix <= 2 * new, "approve resumed {} times for {new} new records", n.suffix);

    sb.approve("erin", &release, "dev", &now).unwrap();
    let len = sb.ledger().unwrap().records().unwrap().len();
    let (promoted, n) = passes(&sb, || sb.promote(&release, "dev", "deployer-bot", &now, 0));
    promoted.unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("promote: {n:?}");
    assert_eq!(n.full, 1, "promote verified the chain in full {} times", n.full);
    let new = appended(&sb, len);
    assert!(n.suffix <= 2 * new, "promote resumed {} times for {new} new records", n.suffix);

    let len = sb.ledger().unwrap().records().unwrap().len();
    let (drift, n) = passes(&sb, || sb.drift("dev", &now));
    assert!(!drift.unwrap().drifted());
    eprintln!("drift: {n:?}");
    assert_eq!(n.full, 1, "drift verified the chain in full {} times", n.full);
    let new = appended(&sb, len);
    assert!(n.suffix <= 2 * new, "drift resumed {} times for {new} new records", n.suffix);

    let selection = lz_report::Selection::Release(release.clone());
    let options = lz_report::Options { known: Vec::new(), exceptions_link: None };
    let (report, n) = passes(&sb, || lz_report::build(&sb.paths, &selection, &options));
    assert!(report.unwrap().verification.ok);
    eprintln!("report: {n:?}");
    assert_eq!(n.full, 1, "report verified the chain in full {} times", n.full);
    // A report appends nothing: one pass for the report's own read, one per ledger opened.
    assert!(n.suffix <= 8, "report resumed {} times", n.suffix);
}
