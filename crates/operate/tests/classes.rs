//! Approval classes (issue 31): routing by what a change touches, approvals in person, by
//! delegation and on call, escalation, and each way around them refused. The routing and rota
//! tests are pure; the flows run in a sandbox (its own chain and releases; LocalStack is only
//! required, nothing is deployed), with the classes of the repository's governance under the
//! sandbox's people.

mod common;

use lz_evidence::record::Kind;
use lz_promote::classes::delegation::{self, Grant};
use lz_promote::classes::{self, quorum, Classes};
use lz_promote::clock::Clock;
use lz_promote::diff::{Action, Change, Diff};
use lz_operate::sandbox::Sandbox;
use lz_promote::tier::RiskRules;
use proptest::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn t(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

fn at(s: &str) -> Clock {
    Clock::Fixed(t(s))
}

fn repo_text(rel: &str) -> String {
    std::fs::read_to_string(common::root().join(rel)).unwrap()
}

fn repo_classes() -> Classes {
    Classes::parse(&repo_text(classes::APPROVAL_CLASSES), classes::APPROVAL_CLASSES).unwrap()
}

fn change(address: &str, rtype: &str, action: Action, paths: &[&str]) -> Change {
    Change { address: address.into(), resource_type: rtype.into(), action, paths: paths.iter().map(|p| p.to_string()).collect() }
}

fn route(c: &Classes, env: &str, changes: Vec<Change>) -> classes::Routing {
    let rules = RiskRules::parse(&repo_text(lz_promote::tier::RISK_TIERS), "risk-tiers.toml").unwrap();
    let diff = Diff { changes };
    c.route(&diff, &rules.classify(&diff, env))
}

fn routed(r: &classes::Routing) -> Vec<&str> {
    r.classes.iter().map(|c| c.class.as_str()).collect()
}

#[test]
fn the_repository_classes_parse_and_name_registered_approvers() {
    let c = repo_classes();
    let names: Vec<&str> = c.classes.iter().map(|c| c.name.as_str()).collect();
    for want in ["keys", "secrets", "order-routing", "market-connectivity", "platform-technical", "security-policy", "release-window"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let register = lz_evidence::Identities::parse(&repo_text("governance/identities.toml"), "identities.toml").unwrap();
    assert_eq!(c.unknown_people(&register), Vec::<String>::new());
    // A stranger on a rota is named.
    let bad = repo_text(classes::APPROVAL_CLASSES).replacen("identity = \"noor-aziz\"", "identity = \"ghost\"", 1);
    let c = Classes::parse(&bad, "x").unwrap();
    assert!(c.unknown_people(&register).iter().any(|m| m.contains("ghost")), "{:?}", c.unknown_people(&register));
}

#[test]
fn a_key_change_needs_the_keys_class_and_a_tag_only_change_needs_none() {
    let c = repo_classes();
    let key = route(&c, "prod", vec![change("module.kms.aws_kms_key.this", "aws_kms_key", Action::Update, &["enable_key_rotation"])]);
    assert!(key.unrouted.is_empty(), "{:?}", key.unrouted);
    assert!(routed(&key).contains(&"keys") && routed(&key).contains(&"release-window"), "{:?}", routed(&key));
    let tags = route(&c, "prod", vec![change("module.kms.aws_kms_key.this", "aws_kms_key", Action::Update, &["tags.Owner", "tags_all.Owner"])]);
    assert_eq!((routed(&tags), tags.unrouted.len()), (vec![], 0), "a tag-only change needs nothing beyond its tier");
    // A bucket that starts using another key is a key change too (by attribute).
    let sse = route(
        &c,
        "prod",
        vec![change(
            "aws_s3_bucket_server_side_encryption_configuration.b",
            "aws_s3_bucket_server_side_encryption_configuration",
            Action::Update,
            &["rule[0].apply_server_side_encryption_by_default[0].kms_master_key_id"],
        )],
    );
    assert!(routed(&sse).contains(&"keys"), "{:?}", routed(&sse));
    // Classes apply where governance says (prod): the same change in dev needs none.
    let dev = route(&c, "dev", vec![change("module.kms.aws_kms_key.this", "aws_kms_key", Action::Update, &["enable_key_rotation"])]);
    assert!(!dev.applies && dev.classes.is_empty());
}

#[test]
fn a_routing_rule_that_misses_a_key_change_is_refused() {
    let kms = || vec![change("module.kms.aws_kms_key.this", "aws_kms_key", Action::Update, &["enable_key_rotation"])];
    // The keys class routes only aliases: [coverage] sends aws_kms_* to keys, so the key is refused.
    let text = repo_text(classes::APPROVAL_CLASSES).replacen("types = [\"aws_kms_*\"]\n\n[[class.keys.route]]", "types = [\"aws_kms_alias\"]\n\n[[class.keys.route]]", 1);
    let r = route(&Classes::parse(&text, "x").unwrap(), "prod", kms());
    assert!(r.unrouted.iter().any(|u| u.contains("aws_kms_key") && u.contains("not routed to class keys")), "{:?}", r.unrouted);
    // Without [coverage], a high-tier kms change that no class routes at all is refused too.
    let text = text.replacen("keys = [\"aws_kms_*\"]\n", "", 1).replace("release-window.route]]\nmin_tier = \"normal\"", "release-window.route]]\ntypes = [\"aws_instance\"]");
    let r = route(&Classes::parse(&text, "x").unwrap(), "prod", kms());
    assert!(routed(&r).is_empty(), "{:?}", routed(&r));
    assert!(r.unrouted.iter().any(|u| u.contains("aws_kms_key") && u.contains("routed to no class")), "{:?}", r.unrouted);
}

#[test]
fn malformed_classes_name_the_file_and_the_class() {
    let base = repo_text(classes::APPROVAL_CLASSES);
    for (from, to, says) in [
        ("quorum = 1\ntarget_minutes = 120\n\n[[class.keys.route]]", "quorum = 0\ntarget_minutes = 120\n\n[[class.keys.route]]", "[class.keys]: quorum is 0"),
        ("timezone = \"Europe/London\"", "timezone = \"Mars/Olympus\"", "is not an IANA time zone"),
        ("max_delegation_days = 14", "max_delegation_days = 400", "max_delegation_days is 400"),
        ("start = \"08:00\"", "start = \"8am\"", "is not HH:MM"),
        ("keys = [\"aws_kms_*\"]", "vault = [\"aws_kms_*\"]", "[coverage] names class \"vault\""),
    ] {
        let e = Classes::parse(&base.replacen(from, to, 1), "governance/approval-classes.toml").expect_err(says);
        let msg = format!("{e:#}");
        assert!(msg.contains("governance/approval-classes.toml") && msg.contains(says), "{says}: {msg}");
    }
    let e = Classes::parse("environments = [\"prod\"\n", "governance/approval-classes.toml").unwrap_err();
    assert!(format!("{e:#}").contains("governance/approval-classes.toml:"), "{e:#}");
}

#[test]
fn shifts_follow_their_time_zone_and_end_when_they_say() {
    let c = repo_classes();
    let keys = c.class("keys").unwrap();
    // Monday 2026-11-02 09:00Z is 09:00 in London: noor-aziz until 18:00Z.
    let (i, s, end) = keys.on_call(t("2026-11-02T09:00:00Z")).unwrap();
    assert_eq!((i, s.identity.as_str(), end), (0, "noor-aziz", t("2026-11-02T18:00:00Z")));
    // 20:00Z is 21:00 in Stockholm: henrik-berg overnight, until 08:00 Stockholm (07:00Z).
    let (_, s, end) = keys.on_call(t("2026-11-02T20:00:00Z")).unwrap();
    assert_eq!((s.identity.as_str(), end), ("henrik-berg", t("2026-11-03T07:00:00Z")));
    // Saturday noon: nobody on the keys rota.
    assert!(keys.on_call(t("2026-11-28T12:00:00Z")).is_none());
    // Summer time: 08:00 in London is 07:00Z in July.
    let (_, s, end) = keys.on_call(t("2026-07-06T07:30:00Z")).unwrap();
    assert_eq!((s.identity.as_str(), end), ("noor-aziz", t("2026-07-06T17:00:00Z")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every non-tag change to a KMS resource in prod reaches the keys class, and nothing is
    /// left unrouted.
    #[test]
    fn every_kms_change_in_prod_reaches_the_keys_class(
        rtype in prop::sample::select(vec!["aws_kms_key", "aws_kms_alias", "aws_kms_grant", "aws_kms_key_policy", "aws_kms_replica_key"]),
        action in prop::sample::select(vec![Action::Create, Action::Update, Action::Delete, Action::Replace]),
        paths in prop::collection::vec(prop::sample::select(vec!["description", "policy", "enable_key_rotation", "deletion_window_in_days", "tags.Owner"]), 1..4),
    ) {
        let only_tags = paths.iter().all(|p| p.starts_with("tags"));
        prop_assume!(!(action == Action::Update && only_tags));
        let c = repo_classes();
        let r = route(&c, "prod", vec![change("module.kms.res.this", rtype, action, &paths)]);
        prop_assert!(r.unrouted.is_empty(), "{:?}", r.unrouted);
        prop_assert!(routed(&r).contains(&"keys"), "{:?}", routed(&r));
    }

    /// A shift that covers a time ends after it, within a day (and an hour of summer time).
    #[test]
    fn a_covering_shift_ends_after_the_time_and_within_a_day(minutes in 0i64..(60 * 24 * 400)) {
        let c = repo_classes();
        let now = t("2026-01-01T00:00:00Z") + time::Duration::minutes(minutes);
        for class in &c.classes {
            for s in &class.rota {
                if let Some(end) = s.covering(now) {
                    prop_assert!(end > now && end - now <= time::Duration::hours(25), "{} {now} -> {end}", s.identity);
                    prop_assert!(s.covering(end).is_none_or(|e2| e2 > end), "{} at {end}", s.identity);
                }
            }
        }
    }
}

// -- flows in a sandbox -------------------------------------------------------------------

const FRIDAY: &str = "2026-11-27T09:00:00Z";
const SATURDAY_NOON: &str = "2026-11-28T12:00:00Z";

/// A release by `author`, pinned as prod's governance on Friday morning.
fn setup(name: &str, author: &str, edit: impl FnOnce(&std::path::Path) -> anyhow::Result<()>) -> (tempfile::TempDir, Sandbox, String) {
    let (dir, sb) = common::sandbox(name);
    let clock = at(FRIDAY);
    let r = sb.release(name, author, &clock, edit).unwrap();
    sb.pin("prod", &r, &clock).unwrap();
    (dir, sb, r)
}

fn statuses(sb: &Sandbox, r: &str, deployer: Option<&str>, now: &str) -> Vec<classes::ClassStatus> {
    let s = sb.session(r, "prod").unwrap();
    quorum::statuses(&s, deployer, t(now)).unwrap().1
}

fn status<'a>(all: &'a [classes::ClassStatus], class: &str) -> &'a classes::ClassStatus {
    all.iter().find(|s| s.class == class).unwrap_or_else(|| panic!("class {class} not required: {all:?}"))
}

fn check(sb: &Sandbox, r: &str, now: &str) -> anyhow::Result<Vec<classes::ClassStatus>> {
    let s = sb.session(r, "prod").unwrap();
    quorum::check(&s, "deployer-bot", t(now))
}

fn grant(sb: &Sandbox, who: &str, to: &str, class: &str, from: &str, until: &str, now: &str) -> anyhow::Result<u64> {
    let g = Grant { environment: "prod", class, delegate: to, from: t(from), until: t(until), reason: "away" };
    delegation::delegate(&sb.paths, sb.signer(who), &g, &at(now).now().unwrap())
}

fn approval_classes(sb: &Sandbox, seq: u64) -> Vec<lz_evidence::details::ClassApproval> {
    let recs = sb.ledger().unwrap().records().unwrap();
    let r = recs.iter().find(|r| r.sequence == seq).unwrap();
    assert_eq!(r.kind, Kind::Approval);
    r.details.approval().unwrap().classes.clone().unwrap_or_default()
}

fn basis_of(cs: &[lz_evidence::details::ClassApproval], class: &str) -> Option<(String, Option<String>)> {
    cs.iter().find(|c| c.class == class).map(|c| (c.basis.clone(), c.delegator.clone()))
}

#[test]
fn approvals_carry_class_control_and_basis_and_the_normal_flow_passes() {
    let (_d, sb, r) = setup("classes-flow", "alice", |_| Ok(()));
    // Before anyone approves: every class is missing, with who may approve.
    let before = statuses(&sb, &r, Some("deployer-bot"), SATURDAY_NOON);
    let keys = status(&before, "keys");
    assert_eq!(keys.missing(), 1);
    assert!(keys.may_approve.contains(&"bob".to_string()) && keys.may_approve.contains(&"frank".to_string()), "{:?}", keys.may_approve);
    let e = check(&sb, &r, SATURDAY_NOON).unwrap_err();
    assert!(lz_promote::refusal::is_refusal(&e) && format!("{e:#}").contains("class keys"), "{e:#}");
    let bob = sb.approve("bob", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    let carol = sb.approve("carol", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    let b = approval_classes(&sb, bob);
    assert_eq!(basis_of(&b, "keys"), Some(("in-person".into(), None)));
    assert!(b.iter().find(|c| c.class == "keys").unwrap().control.starts_with("LZ-APR-KEYS"), "{b:?}");
    assert_eq!(basis_of(&approval_classes(&sb, carol), "release-window"), Some(("in-person".into(), None)));
    let all = check(&sb, &r, SATURDAY_NOON).unwrap();
    assert!(all.iter().all(|s| s.missing() == 0), "{all:?}");
    assert_eq!(status(&all, "keys").counted[0].identity, "bob");
    common::assert_chain_verifies(&sb, "class approvals");
}

#[test]
fn a_delegate_approves_within_the_period_and_not_once_revoked() {
    let (_d, sb, r) = setup("classes-delegation", "alice", |_| Ok(()));
    let d = grant(&sb, "bob", "heidi", "keys", "2026-11-28T00:00:00Z", "2026-12-05T00:00:00Z", "2026-11-27T10:00:00Z").unwrap();
    let heidi = sb.approve("heidi", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    sb.approve("carol", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    let c = approval_classes(&sb, heidi);
    assert_eq!(basis_of(&c, "keys"), Some(("delegation".into(), Some("bob".into()))));
    assert_eq!(c.iter().find(|c| c.class == "keys").unwrap().delegation, Some(d));
    let all = check(&sb, &r, SATURDAY_NOON).unwrap();
    assert_eq!(status(&all, "keys").counted[0].basis.delegator.as_deref(), Some("bob"));
    // Revoked (after the approval): the approval no longer stands for keys.
    let sat1 = "2026-11-28T13:00:00Z";
    let ledger_now = at(sat1).now().unwrap();
    assert!(delegation::revoke(&sb.paths, "prod", sb.signer("heidi"), d, "not yours", &ledger_now).is_err(), "only the delegator revokes");
    delegation::revoke(&sb.paths, "prod", sb.signer("bob"), d, "back early", &ledger_now).unwrap();
    let e = check(&sb, &r, sat1).unwrap_err();
    assert!(format!("{e:#}").contains("class keys") && format!("{e:#}").contains("was revoked"), "{e:#}");
    // A delegate never delegates again; governance bounds the period.
    let e = grant(&sb, "heidi", "ivan", "keys", sat1, "2026-11-30T00:00:00Z", sat1).unwrap_err();
    assert!(format!("{e:#}").contains("cannot delegate it"), "{e:#}");
    let e = grant(&sb, "bob", "heidi", "keys", sat1, "2026-12-20T00:00:00Z", sat1).unwrap_err();
    assert!(format!("{e:#}").contains("at most 14 days"), "{e:#}");
    common::assert_chain_verifies(&sb, "delegations");
}

#[test]
fn a_delegate_approving_outside_the_period_is_not_counted() {
    let (_d, sb, r) = setup("classes-period", "alice", |_| Ok(()));
    grant(&sb, "bob", "heidi", "keys", "2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z", "2026-11-27T10:00:00Z").unwrap();
    let heidi = sb.approve("heidi", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    sb.approve("carol", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    assert_eq!(basis_of(&approval_classes(&sb, heidi), "keys"), None);
    // Still not counted on Sunday, when the delegation holds: the approval was given before.
    let e = check(&sb, &r, "2026-11-29T10:00:00Z").unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("class keys") && msg.contains("holds from 2026-11-29T00:00:00Z"), "{msg}");
}

#[test]
fn the_author_never_approves_as_delegate_and_the_deployer_never_counts() {
    let (_d, sb, r) = setup("classes-author", "ivan", |_| Ok(()));
    grant(&sb, "bob", "ivan", "keys", "2026-11-28T00:00:00Z", "2026-12-01T00:00:00Z", "2026-11-27T10:00:00Z").unwrap();
    let e = sb.approve("ivan", &r, "prod", &at(SATURDAY_NOON)).unwrap_err();
    assert!(format!("{e:#}").contains("ivan authored release"), "{e:#}");
    // dave approves the release window in person, but deploys: not counted.
    sb.approve("dave", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    let rw = statuses(&sb, &r, Some("dave"), SATURDAY_NOON);
    let rw = status(&rw, "release-window");
    assert_eq!(rw.missing(), 1);
    assert!(rw.not_counted.iter().any(|w| w.contains("dave deploys the release")), "{:?}", rw.not_counted);
    assert!(status(&statuses(&sb, &r, Some("deployer-bot"), SATURDAY_NOON), "keys").may_approve.iter().all(|m| !m.starts_with("ivan")));
}

#[test]
fn an_on_call_approval_holds_for_its_shift_only_and_escalation_names_the_next() {
    let (_d, sb, r) = setup("classes-oncall", "alice", |_| Ok(()));
    sb.approve("carol", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    // Off shift (heidi is on the keys rota 18:00-08:00 Stockholm): no basis for keys.
    let off = sb.approve("heidi", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    assert_eq!(basis_of(&approval_classes(&sb, off), "keys"), None);
    let noon = statuses(&sb, &r, Some("deployer-bot"), SATURDAY_NOON);
    let keys = status(&noon, "keys");
    // Past the target time since Friday's authorship with nobody on call: the first of the rota.
    assert_eq!((keys.missing(), keys.on_call.clone(), keys.escalate_to.as_deref()), (1, None, Some("frank")));
    // On shift (21:00 in Stockholm): counted until 07:00Z.
    let evening = "2026-11-28T20:00:00Z";
    let on = sb.approve("heidi", &r, "prod", &at(evening)).unwrap();
    let c = approval_classes(&sb, on);
    assert_eq!(basis_of(&c, "keys"), Some(("on-call".into(), None)));
    assert_eq!(c.iter().find(|c| c.class == "keys").unwrap().shift_until.as_deref(), Some("2026-11-29T07:00:00Z"));
    let s = statuses(&sb, &r, Some("deployer-bot"), "2026-11-28T21:00:00Z");
    assert_eq!(status(&s, "keys").missing(), 0);
    assert_eq!(status(&s, "keys").on_call, Some(("heidi".to_string(), "2026-11-29T07:00:00Z".to_string())));
    check(&sb, &r, "2026-11-28T21:00:00Z").unwrap();
    // After the shift ends the approval no longer holds; the requirement is unchanged.
    let e = check(&sb, &r, "2026-11-29T08:00:00Z").unwrap_err();
    assert!(format!("{e:#}").contains("the shift ended at 2026-11-29T07:00:00Z"), "{e:#}");
    let later = statuses(&sb, &r, Some("deployer-bot"), "2026-11-29T08:00:00Z");
    assert_eq!((status(&later, "keys").quorum, status(&later, "keys").escalate_to.as_deref()), (1, Some("frank")));
}

#[test]
fn a_governance_whose_routing_misses_key_changes_refuses_the_approval() {
    let (_d, sb, r) = setup("classes-misroute", "alice", |tree| {
        let f = tree.join(classes::APPROVAL_CLASSES);
        let text = std::fs::read_to_string(&f)?;
        std::fs::write(&f, text.replacen("types = [\"aws_kms_*\"]\n\n[[class.keys.route]]", "types = [\"aws_kms_alias\"]\n\n[[class.keys.route]]", 1))?;
        Ok(())
    });
    let e = sb.approve("bob", &r, "prod", &at(SATURDAY_NOON)).unwrap_err();
    let msg = format!("{e:#}");
    assert!(lz_promote::refusal::is_refusal(&e) && msg.contains("aws_kms_key") && msg.contains("not routed to class keys"), "{msg}");
}

/// Insider: an approval record that claims a basis it does not have (heidi "in person" for
/// keys, written with her own key past the approve command) counts for nothing: the basis is
/// resolved again from governance and the chain at every admission.
#[test]
fn a_raw_approval_claiming_a_basis_it_lacks_is_not_counted() {
    let (_d, sb, r) = setup("classes-insider", "alice", |_| Ok(()));
    sb.approve("carol", &r, "prod", &at(SATURDAY_NOON)).unwrap();
    let s = sb.session(&r, "prod").unwrap();
    let fields = lz_evidence::record::Fields::new(&r)
        .environment("prod")
        .plan_digest(&s.plan_digest)
        .at(t(SATURDAY_NOON))
        .details(lz_evidence::details::ApprovalDetails {
            decision: Some("approved".into()),
            classes: Some(vec![lz_evidence::details::ClassApproval {
                class: "keys".into(),
                control: "LZ-APR-KEYS".into(),
                basis: "in-person".into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
    sb.ledger().unwrap().append(Kind::Approval, fields, sb.signer("heidi")).unwrap();
    let e = check(&sb, &r, SATURDAY_NOON).unwrap_err();
    assert!(format!("{e:#}").contains("class keys"), "{e:#}");
    // Claiming a delegation that does not exist is refused by the archive itself.
    let forged = lz_evidence::record::Fields::new(&r).environment("prod").plan_digest(&s.plan_digest).at(t(SATURDAY_NOON)).details(
        lz_evidence::details::ApprovalDetails {
            decision: Some("approved".into()),
            classes: Some(vec![lz_evidence::details::ClassApproval {
                class: "keys".into(),
                control: "LZ-APR-KEYS".into(),
                basis: "delegation".into(),
                delegator: Some("bob".into()),
                delegation: Some(1),
                shift_until: None,
            }]),
            ..Default::default()
        },
    );
    let e = sb.ledger().unwrap().append(Kind::Approval, forged, sb.signer("heidi")).unwrap_err();
    assert!(format!("{e:#}").contains("delegation"), "{e:#}");
}

/// End to end in prod: the tier's approvals alone are refused while a class lacks its quorum;
/// a delegation given afterwards, and the delegate's approval under it, admit the promotion;
/// the replay of the deployment agrees, the chain verifies, and `evidence query --class` names
/// the delegate and the delegator.
#[test]
fn a_prod_promotion_needs_its_classes_and_the_replay_and_the_query_agree() {
    let (_d, sb) = common::sandbox("classes-e2e");
    let noon = common::open_time();
    let r = common::release(&sb, "classes-e2e", &noon);
    common::promote_through(&sb, &r, &["dev", "test", "uat", "preprod"], &noon);
    sb.bootstrap("prod", &r).unwrap();
    // heidi (security) and carol (business) meet the tier; heidi approves no key change.
    sb.approve("heidi", &r, "prod", &noon).unwrap();
    sb.approve("carol", &r, "prod", &noon).unwrap();
    let e = sb.promote(&r, "prod", "deployer-bot", &at("2026-11-28T12:01:00Z"), 0).unwrap_err();
    let msg = format!("{e:#}");
    assert!(lz_promote::refusal::is_refusal(&e) && msg.contains("class keys") && msg.contains("may approve: bob, frank"), "{msg}");
    // bob, away, delegates keys to heidi; her approval under the delegation counts.
    let d = grant(&sb, "bob", "heidi", "keys", "2026-11-28T00:00:00Z", "2026-12-01T00:00:00Z", "2026-11-28T12:02:00Z").unwrap();
    sb.approve("heidi", &r, "prod", &at("2026-11-28T12:03:00Z")).unwrap();
    let o = sb.promote(&r, "prod", "deployer-bot", &at("2026-11-28T12:04:00Z"), 0).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(o.admission.tier, lz_promote::Tier::High);
    let ledger = sb.ledger().unwrap();
    let records = ledger.records().unwrap();
    assert!(lz_promote::replay::rejected(&sb.paths, &ledger, &records).unwrap().is_empty());
    common::assert_chain_verifies(&sb, "a promotion with class approvals");
    // Who approved changes to keys in prod in Q4, and under whose delegation.
    let store = lz_evidence::LocalStore::new(sb.evidence_file());
    let chain = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap();
    let raw = lz_evidence::Store::load(&store).unwrap();
    let index = lz_evidence::query::Index::from_verified(&chain);
    let q = lz_evidence::query::Query {
        index: &index,
        source: lz_evidence::query::Source::Memory(&raw),
        range: lz_evidence::query::TimeRange { since: Some(t("2026-10-01T00:00:00Z")), until: Some(t("2026-12-31T23:59:59Z")) },
    };
    let rows = q.class_approvals("keys", Some("prod")).unwrap();
    let got: Vec<(&str, &str, Option<&str>, Option<u64>)> =
        rows.iter().map(|r| (r.identity.as_str(), r.approval.basis.as_str(), r.approval.delegator.as_deref(), r.approval.delegation)).collect();
    assert_eq!(got, vec![("heidi", "delegation", Some("bob"), Some(d))]);
    // The auditor's page shows each approval's classes, controls and bases.
    let rep = lz_report::build(&sb.paths, &lz_report::Selection::Release(r.clone()), &Default::default()).unwrap();
    let html = lz_report::render(&rep).unwrap();
    assert!(html.contains("keys (LZ-APR-KEYS: custody and use of encryption keys and key policies) delegated by bob (record"), "no delegated keys approval on the page");
    assert!(html.contains("release-window (LZ-APR-REL: operations and business accept the production release window) in person"));
    // Outside Q4 nothing.
    let q4_before = lz_evidence::query::Query { range: lz_evidence::query::TimeRange { since: None, until: Some(t("2026-09-30T23:59:59Z")) }, ..q };
    assert!(q4_before.class_approvals("keys", Some("prod")).unwrap().is_empty());
}
