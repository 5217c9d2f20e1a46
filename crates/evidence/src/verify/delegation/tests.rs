//! Unit tests of the verifier's delegation rules: one test per rule of `period`,
//! `Delegations::delegate`, `revoke` and `check_claim`, each on the smallest set of delegations
//! that breaks it (the integration tests in `crates/evidence/tests/delegation.rs` sign records).
use super::*;
use crate::identity::{encode_public_key, generate_key};

/// alice, bob and carol: people with the approver role; dave: a person without it; bot: a
/// workload with it.
fn register() -> Identities {
    let mut text = String::new();
    for (name, kind, roles) in [
        ("alice", "person", "\"approver\""),
        ("bob", "person", "\"approver\""),
        ("carol", "person", "\"approver\", \"deployer\""),
        ("dave", "person", "\"deployer\""),
        ("bot", "workload", "\"approver\""),
    ] {
        let key = encode_public_key(&generate_key().verifying_key());
        text.push_str(&format!(
            "[identity.{name}]\nname = \"{name}\"\nkind = \"{kind}\"\ngroup = \"platform\"\nroles = [{roles}]\npublic_key = \"{key}\"\n\n"
        ));
    }
    Identities::parse(&text, "identities.toml").unwrap()
}

fn t(s: &str) -> OffsetDateTime {
    parse_time(s).unwrap()
}

/// A delegation of class `change` from `from` to `to` for January 2027.
fn january(from: &str, to: &str) -> DelegationDetails {
    DelegationDetails {
        delegator: from.into(),
        delegate: to.into(),
        class: "change".into(),
        from: "2027-01-01T00:00:00Z".into(),
        until: "2027-02-01T00:00:00Z".into(),
        ..Default::default()
    }
}

/// When the delegations below are signed.
const SIGNED: &str = "2026-12-20T00:00:00Z";

fn refused<T: std::fmt::Debug>(r: Result<T, Reason>, needle: &str) {
    match r {
        Err(Reason::Delegation(m)) => assert!(m.contains(needle), "expected {needle:?} in: {m}"),
        other => panic!("expected a delegation failure naming {needle:?}, got {other:?}"),
    }
}

/// `d` recorded at `seq`, signed by its delegator.
fn delegate(ds: &mut Delegations, ids: &Identities, seq: u64, d: &DelegationDetails) -> Result<(), Reason> {
    ds.delegate(seq, ids, d, t(SIGNED), ids.get(&d.delegator).unwrap())
}

#[test]
fn the_period_is_signed_by_the_delegator_for_another_person_and_a_class() {
    let ids = register();
    let d = january("alice", "bob");
    assert_eq!(period(ids.get("alice").unwrap(), &d, t(SIGNED)).unwrap(), (t("2027-01-01T00:00:00Z"), t("2027-02-01T00:00:00Z")));
    refused(period(ids.get("bob").unwrap(), &d, t(SIGNED)), "names delegator alice but is signed by bob");
    refused(period(ids.get("alice").unwrap(), &january("alice", "alice"), t(SIGNED)), "alice delegates to themselves");
    refused(period(ids.get("alice").unwrap(), &DelegationDetails { class: " ".into(), ..d }, t(SIGNED)), "names no class");
}

#[test]
fn the_period_is_a_short_nonempty_one_that_has_not_ended() {
    let ids = register();
    let alice = ids.get("alice").unwrap();
    let d = january("alice", "bob");
    refused(period(alice, &DelegationDetails { until: "next week".into(), ..d.clone() }, t(SIGNED)), "until of a delegation is not an RFC 3339 time");
    refused(period(alice, &DelegationDetails { from: "2027-13-01T00:00:00Z".into(), ..d.clone() }, t(SIGNED)), "from of a delegation is not");
    refused(period(alice, &DelegationDetails { until: d.from.clone(), ..d.clone() }, t(SIGNED)), "the delegation's period is empty");
    refused(period(alice, &DelegationDetails { until: "2026-12-31T00:00:00Z".into(), ..d.clone() }, t(SIGNED)), "the delegation's period is empty");
    // At most DELEGATION_MAX_DAYS: 90 days hold, 90 days and a second do not.
    period(alice, &DelegationDetails { until: "2027-04-01T00:00:00Z".into(), ..d.clone() }, t(SIGNED)).unwrap();
    refused(period(alice, &DelegationDetails { until: "2027-04-01T00:00:01Z".into(), ..d.clone() }, t(SIGNED)), "lasts more than 90 days");
    // Signed once it ended (or as it ends), it is refused; signed within it, it holds.
    refused(period(alice, &d, t("2027-02-01T00:00:00Z")), "ended (2027-02-01T00:00:00Z) before it was signed");
    period(alice, &d, t("2027-01-31T23:59:59Z")).unwrap();
}

#[test]
fn the_delegate_is_a_registered_person_with_the_approver_role() {
    let ids = register();
    let mut ds = Delegations::default();
    refused(delegate(&mut ds, &ids, 1, &january("alice", "erin")), "the delegate \"erin\" is not a registered identity");
    refused(delegate(&mut ds, &ids, 1, &january("alice", "dave")), "the delegate dave is not a person with the approver role");
    refused(delegate(&mut ds, &ids, 1, &january("alice", "bot")), "the delegate bot is not a person with the approver role");
    delegate(&mut ds, &ids, 1, &january("alice", "carol")).unwrap();
    // The period is checked first: a delegation its delegator did not sign is not recorded.
    refused(ds.delegate(2, &ids, &january("bob", "alice"), t(SIGNED), ids.get("alice").unwrap()), "only the delegator signs");
    assert_eq!(ds.0.len(), 1);
}

#[test]
fn no_delegation_closes_a_cycle_while_both_hold() {
    let ids = register();
    let mut ds = Delegations::default();
    delegate(&mut ds, &ids, 1, &january("alice", "bob")).unwrap();
    refused(delegate(&mut ds, &ids, 2, &january("bob", "alice")), "delegating class change from bob to alice closes a cycle");
    // Another class, or a period that does not overlap, closes none.
    delegate(&mut ds, &ids, 2, &DelegationDetails { class: "release".into(), ..january("bob", "alice") }).unwrap();
    let march = DelegationDetails { from: "2027-03-01T00:00:00Z".into(), until: "2027-03-10T00:00:00Z".into(), ..january("bob", "alice") };
    delegate(&mut ds, &ids, 3, &march).unwrap();
}

#[test]
fn a_delegate_does_not_delegate_the_class_again() {
    let ids = register();
    let mut ds = Delegations::default();
    delegate(&mut ds, &ids, 1, &january("alice", "bob")).unwrap();
    refused(delegate(&mut ds, &ids, 2, &january("bob", "carol")), "bob holds class change by delegation (record 1) and may not delegate it again");
}

#[test]
fn a_delegator_does_not_hold_the_class_by_delegation_as_well() {
    let ids = register();
    let mut ds = Delegations::default();
    delegate(&mut ds, &ids, 1, &january("alice", "bob")).unwrap();
    refused(delegate(&mut ds, &ids, 2, &january("carol", "alice")), "alice delegated class change (record 1) and may not hold it by delegation as well");
}

#[test]
fn a_revoked_delegation_holds_no_longer() {
    let ids = register();
    let mut ds = Delegations::default();
    delegate(&mut ds, &ids, 1, &january("alice", "bob")).unwrap();
    let revoke = DelegationRevocationDetails { delegation_sequence: 1, ..Default::default() };
    refused(ds.revoke(&DelegationRevocationDetails { delegation_sequence: 7, ..Default::default() }, ids.get("alice").unwrap()), "revokes sequence 7, which is no earlier delegation record");
    refused(ds.revoke(&revoke, ids.get("bob").unwrap()), "delegation 1 is alice's: bob cannot revoke it");
    ds.revoke(&revoke, ids.get("alice").unwrap()).unwrap();
    refused(ds.revoke(&revoke, ids.get("alice").unwrap()), "delegation 1 is revoked already");
    // Revoked, it closes no cycle and bars no re-delegation.
    delegate(&mut ds, &ids, 2, &january("bob", "alice")).unwrap();
}

#[test]
fn an_approval_by_delegation_names_a_delegation_to_its_signer_that_holds() {
    let ids = register();
    let mut ds = Delegations::default();
    delegate(&mut ds, &ids, 1, &january("alice", "bob")).unwrap();
    let claim = ClassApproval { class: "change".into(), control: "c".into(), basis: "delegation".into(), delegator: Some("alice".into()), delegation: Some(1), shift_until: None };
    let mid = t("2027-01-15T00:00:00Z");
    ds.check_claim(&claim, "bob", mid).unwrap();
    // Other bases are governance's to judge, at admission.
    ds.check_claim(&ClassApproval { basis: "in-person".into(), delegation: None, ..claim.clone() }, "dave", mid).unwrap();
    ds.check_claim(&ClassApproval { basis: "on-call".into(), delegation: None, ..claim.clone() }, "dave", mid).unwrap();
    refused(ds.check_claim(&ClassApproval { basis: "proxy".into(), ..claim.clone() }, "bob", mid), "names basis \"proxy\"");
    refused(ds.check_claim(&ClassApproval { delegation: None, ..claim.clone() }, "bob", mid), "by delegation names no delegation record");
    refused(ds.check_claim(&ClassApproval { delegation: Some(2), ..claim.clone() }, "bob", mid), "names delegation 2, which is no earlier delegation record");
    refused(ds.check_claim(&claim, "carol", mid), "delegation 1 gives class change from alice to bob, not class change from alice to carol");
    refused(ds.check_claim(&ClassApproval { class: "release".into(), ..claim.clone() }, "bob", mid), "not class release");
    refused(ds.check_claim(&ClassApproval { delegator: Some("carol".into()), ..claim.clone() }, "bob", mid), "not class change from carol to bob");
    refused(ds.check_claim(&ClassApproval { delegator: None, ..claim.clone() }, "bob", mid), "not class change from - to bob");
    // Within [from, until) only.
    ds.check_claim(&claim, "bob", t("2027-01-01T00:00:00Z")).unwrap();
    refused(ds.check_claim(&claim, "bob", t("2026-12-31T23:59:59Z")), "outside the period of delegation 1");
    refused(ds.check_claim(&claim, "bob", t("2027-02-01T00:00:00Z")), "outside the period of delegation 1");
    // Revoked, it carries no approval.
    ds.revoke(&DelegationRevocationDetails { delegation_sequence: 1, ..Default::default() }, ids.get("alice").unwrap()).unwrap();
    refused(ds.check_claim(&claim, "bob", mid), "delegation 1 was revoked before this approval");
}
