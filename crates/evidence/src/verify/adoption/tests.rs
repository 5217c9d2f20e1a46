//! Unit tests of the adoption replay: one test per rule of `Replay::adoption`, each on the
//! smallest chain that breaks it (the integration tests in `crates/evidence/tests/adoption.rs`
//! run the same rules through signed records).
use super::*;

const R: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const OTHER: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn env(e: &str) -> Option<String> {
    Some(e.to_string())
}

/// Release `R` authored at 1; approvals of it for dev at 2 (alice) and 3 (the deployer itself);
/// an approval of another release at 4 and of `R` for prod at 5; a successful deployment of `R`
/// to dev at 6, a failed one at 7, and one to prod at 8.
fn replay() -> Replay {
    let mut r = Replay::default();
    r.release(1, R);
    r.approval(2, R, env("dev").as_ref(), "alice");
    r.approval(3, R, env("dev").as_ref(), "deployer");
    r.approval(4, OTHER, env("dev").as_ref(), "alice");
    r.approval(5, R, env("prod").as_ref(), "alice");
    r.deployment(6, R, env("dev").as_ref(), "succeeded");
    r.deployment(7, R, env("dev").as_ref(), "failed");
    r.deployment(8, R, env("prod").as_ref(), "no-changes");
    r
}

/// trading-service 1.0.0 -> 1.1.0 in wave 1, on approval 2 and deployment 6.
fn forward() -> AdoptionDetails {
    AdoptionDetails {
        module: "trading-service".into(),
        service: "order-gateway".into(),
        from: "1.0.0".into(),
        to: "1.1.0".into(),
        wave: 1,
        approvals: vec![2],
        deployment: 6,
        ..Default::default()
    }
}

fn judge(r: &mut Replay, seq: u64, environment: &str, a: &AdoptionDetails) -> Result<(), String> {
    r.adoption(seq, R, env(environment).as_ref(), "deployer", a)
}

fn refused(r: Result<(), String>, needle: &str) {
    let e = r.expect_err(needle);
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
}

#[test]
fn an_adoption_on_an_approval_by_another_and_a_deployment_that_succeeded_is_accepted() {
    let mut r = replay();
    judge(&mut r, 10, "dev", &forward()).unwrap();
    // Accepted, it is recorded: the service now runs 1.1.0 and wave 1 of 1.1.0 is reached.
    assert_eq!(r.running.get(&("dev".into(), "trading-service".into(), "order-gateway".into())).map(String::as_str), Some("1.1.0"));
    assert!(r.waves.contains(&("trading-service".into(), "1.1.0".into(), 1)));
    // A deployment that had nothing to change counts as well.
    judge(&mut r, 11, "prod", &AdoptionDetails { approvals: vec![5], deployment: 8, ..forward() }).unwrap();
}

#[test]
fn an_adoption_names_an_environment() {
    refused(replay().adoption(10, R, None, "deployer", &forward()), "names no environment");
}

#[test]
fn the_release_was_authored_before() {
    let mut r = replay();
    refused(r.adoption(10, OTHER, env("dev").as_ref(), "deployer", &forward()), "which no earlier release record authored");
}

#[test]
fn the_first_release_record_is_the_authorship() {
    // A second release record of the same digest moves no authorship: approval 2 and deployment
    // 6 follow the first (1), so they count although they precede the second (9).
    let mut r = replay();
    r.release(9, R);
    judge(&mut r, 10, "dev", &forward()).unwrap();
}

#[test]
fn an_adoption_names_an_approval() {
    refused(judge(&mut replay(), 10, "dev", &AdoptionDetails { approvals: vec![], ..forward() }), "it names no approval");
}

#[test]
fn each_approval_is_an_earlier_approval_of_the_release_in_the_environment() {
    let mut r = replay();
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![2, 6], ..forward() }), "sequence 6 is not an earlier approval record");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![4], ..forward() }), "approval record 4 approves another release or environment");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![5], ..forward() }), "approval record 5 approves another release or environment");
}

#[test]
fn one_key_cannot_approve_and_adopt_alone() {
    let mut r = replay();
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![3], ..forward() }), "every approval it names was signed by deployer");
    // One approval by someone else is enough beside the signer's own.
    judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![3, 2], ..forward() }).unwrap();
}

#[test]
fn approvals_and_the_deployment_follow_the_authorship() {
    // Approval 0 and deployment 1 come before release record 2 authored the release.
    let mut r = Replay::default();
    r.approval(0, R, env("dev").as_ref(), "alice");
    r.deployment(1, R, env("dev").as_ref(), "succeeded");
    r.release(2, R);
    r.approval(3, R, env("dev").as_ref(), "alice");
    r.deployment(4, R, env("dev").as_ref(), "succeeded");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![0], deployment: 4, ..forward() }), "approval record 0 precedes the authorship");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![3], deployment: 1, ..forward() }), "deployment record 1 precedes the authorship");
    judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![3], deployment: 4, ..forward() }).unwrap();
}

#[test]
fn the_deployment_succeeded_with_the_release_in_the_environment() {
    let mut r = replay();
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { deployment: 7, ..forward() }), "sequence 7 is not an earlier deployment record that succeeded");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { deployment: 2, ..forward() }), "sequence 2 is not an earlier deployment record");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { deployment: 8, ..forward() }), "deployment record 8 deployed another release or environment");
    // Another release's successful deployment in the same environment carries no adoption of R.
    r.deployment(9, OTHER, env("dev").as_ref(), "succeeded");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { deployment: 9, ..forward() }), "deployment record 9 deployed another release or environment");
}

#[test]
fn an_adoption_moves_to_another_version() {
    refused(judge(&mut replay(), 10, "dev", &AdoptionDetails { to: "1.0.0".into(), ..forward() }), "to the same version");
}

#[test]
fn its_from_is_what_the_chain_says_the_service_runs() {
    let mut r = replay();
    judge(&mut r, 10, "dev", &forward()).unwrap();
    refused(
        judge(&mut r, 11, "dev", &AdoptionDetails { from: "1.0.0".into(), to: "1.2.0".into(), ..forward() }),
        "order-gateway in dev runs trading-service@1.1.0 by the chain, not 1.0.0",
    );
    judge(&mut r, 11, "dev", &AdoptionDetails { from: "1.1.0".into(), to: "1.2.0".into(), ..forward() }).unwrap();
    // Another service, or the same service in another environment, has its own version.
    judge(&mut r, 12, "prod", &AdoptionDetails { approvals: vec![5], deployment: 8, ..forward() }).unwrap();
}

#[test]
fn waves_follow_in_order_and_wave_zero_is_a_rollbacks() {
    let mut r = replay();
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { wave: 0, ..forward() }), "wave 0 is only a rollback's");
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { wave: 2, ..forward() }), "wave 2 of trading-service@1.1.0 before any adoption of wave 1");
    // Wave 1 of 1.1.0 anywhere opens wave 2 of 1.1.0 (and only of that version).
    judge(&mut r, 10, "prod", &AdoptionDetails { approvals: vec![5], deployment: 8, ..forward() }).unwrap();
    refused(
        judge(&mut r, 11, "dev", &AdoptionDetails { to: "1.2.0".into(), wave: 2, ..forward() }),
        "wave 2 of trading-service@1.2.0 before any adoption of wave 1",
    );
    judge(&mut r, 11, "dev", &AdoptionDetails { wave: 2, ..forward() }).unwrap();
}

#[test]
fn a_wave_is_opened_per_module() {
    // Wave 1 of trading-service@1.1.0 opens no wave 2 of another module at the same version.
    let mut r = replay();
    judge(&mut r, 10, "dev", &forward()).unwrap();
    refused(
        judge(&mut r, 11, "prod", &AdoptionDetails { module: "risk-service".into(), wave: 2, approvals: vec![5], deployment: 8, ..forward() }),
        "wave 2 of risk-service@1.1.0 before any adoption of wave 1",
    );
}

#[test]
fn a_rollback_swaps_the_versions_of_the_adoption_it_reverses_in_its_environment_and_module() {
    let mut r = replay();
    judge(&mut r, 10, "dev", &forward()).unwrap();
    let back = AdoptionDetails { from: "1.1.0".into(), to: "1.0.0".into(), wave: 0, rollback_of: Some(10), ..forward() };
    // A forward move skipping every wave, disguised as a rollback: its `to` is not 10's `from`.
    refused(
        judge(&mut r, 11, "dev", &AdoptionDetails { to: "1.2.0".into(), ..back.clone() }),
        "adoption 10 moved order-gateway in dev trading-service 1.0.0 -> 1.1.0; this rollback does not reverse it",
    );
    // Its `from` is not 10's `to` (the service runs 1.2.0 by a later adoption of its own).
    let mut later = r.clone();
    judge(&mut later, 11, "dev", &AdoptionDetails { from: "1.1.0".into(), to: "1.2.0".into(), ..forward() }).unwrap();
    refused(
        judge(&mut later, 12, "dev", &AdoptionDetails { from: "1.2.0".into(), ..back.clone() }),
        "adoption 10 moved order-gateway in dev trading-service 1.0.0 -> 1.1.0; this rollback does not reverse it",
    );
    // Reversing dev's adoption in prod, or another module's: no rollback of 10.
    refused(
        judge(&mut r, 11, "prod", &AdoptionDetails { approvals: vec![5], deployment: 8, ..back.clone() }),
        "adoption 10 moved order-gateway in dev trading-service 1.0.0 -> 1.1.0; this rollback does not reverse it",
    );
    refused(
        judge(&mut r, 11, "dev", &AdoptionDetails { module: "risk-service".into(), ..back.clone() }),
        "adoption 10 moved order-gateway in dev trading-service 1.0.0 -> 1.1.0; this rollback does not reverse it",
    );
    judge(&mut r, 11, "dev", &back).unwrap();
}

#[test]
fn a_rollback_reverses_an_earlier_forward_adoption_in_wave_zero() {
    let mut r = replay();
    judge(&mut r, 10, "dev", &forward()).unwrap();
    let back = AdoptionDetails { from: "1.1.0".into(), to: "1.0.0".into(), wave: 0, rollback_of: Some(10), ..forward() };
    refused(judge(&mut r, 11, "dev", &AdoptionDetails { rollback_of: Some(6), ..back.clone() }), "sequence 6, which is not an earlier adoption record");
    refused(judge(&mut r, 11, "dev", &AdoptionDetails { wave: 1, ..back.clone() }), "a rollback is wave 0, not wave 1");
    refused(
        judge(&mut r, 11, "dev", &AdoptionDetails { service: "risk-engine".into(), ..back.clone() }),
        "adoption 10 moved order-gateway in dev trading-service 1.0.0 -> 1.1.0; this rollback does not reverse it",
    );
    judge(&mut r, 11, "dev", &back).unwrap();
    assert_eq!(r.running.get(&("dev".into(), "trading-service".into(), "order-gateway".into())).map(String::as_str), Some("1.0.0"));
    // The rollback of the rollback is no rollback: a re-adoption is a forward adoption.
    let again = AdoptionDetails { from: "1.0.0".into(), to: "1.1.0".into(), wave: 0, rollback_of: Some(11), ..forward() };
    refused(judge(&mut r, 12, "dev", &again), "it reverses adoption 11, which is itself a rollback");
    judge(&mut r, 12, "dev", &AdoptionDetails { rollback_of: None, wave: 1, ..again }).unwrap();
}

#[test]
fn a_refused_adoption_changes_nothing() {
    let mut r = replay();
    refused(judge(&mut r, 10, "dev", &AdoptionDetails { approvals: vec![3], ..forward() }), "was signed by deployer");
    assert!(r.running.is_empty() && r.waves.is_empty() && r.adoptions.is_empty());
}
