//! An auto-approved promotion judges its module adoptions once (issue 25): the dry run that
//! decides the auto-approval and the admission after it share the adoption gate's judgement
//! while nothing it read changed (`lz_promote::judged`; the policy identity's approval recorded
//! between them is no such change). Counted with the test-only counter of `lz_promote::judged`
//! (feature `test-hooks`), so a promotion that judges the adoptions twice fails here.

mod common;

use lz_evidence::record::Kind;

use common::{open_time, release, sandbox};

#[test]
fn an_auto_approved_promotion_judges_its_adoptions_once() {
    let (_d, sb) = sandbox("judgements");
    let now = open_time();
    let base = release(&sb, "judge-base", &now);
    common::promote_through(&sb, &base, &["dev"], &now);
    // A tags-only release over it: standard tier, auto-approved by the policy identity.
    let tags = sb.release("judge-tags", "alice", &now, |tree| lz_operate::bench::retag(tree, "CC-4413")).unwrap();
    sb.approve_exceptions(&tags, &now).unwrap();

    let before = lz_promote::judged::count_judgements();
    let o = sb.promote(&tags, "dev", "deployer-bot", &now, 0).unwrap_or_else(|e| panic!("{e:#}"));
    let judged = lz_promote::judged::count_judgements() - before;
    assert_eq!(o.admission.tier, lz_promote::Tier::Standard);
    let records = sb.ledger().unwrap().records().unwrap();
    let auto = records
        .iter()
        .find(|r| r.kind == Kind::Approval && r.release == tags && r.details.approval().is_some_and(|a| a.auto == Some(true)))
        .expect("the promotion recorded the policy identity's auto-approval");
    let started = records.iter().find(|r| r.release == tags && r.deployment_outcome() == Some("in-progress")).unwrap();
    assert!(auto.sequence < started.sequence, "the auto-approval precedes the run's decision point");
    assert_eq!(judged, 1, "the promotion judged its adoptions {judged} times (dry run and admission share one judgement)");
}

/// Another writer's record lands between the dry run (its auto-approval recorded) and the
/// admission (a test-hooks fault point): the admission judges the adoptions again on the chain
/// as it now is, and admits with that record. A person's approval is such a record: only the
/// policy identity's auto-approval the dry run appended is exempt (`lz_promote::judged`).
#[test]
fn a_record_between_the_dry_run_and_the_admission_is_judged_again() {
    let (_d, sb) = sandbox("judgements-between");
    let now = open_time();
    let base = release(&sb, "between-base", &now);
    common::promote_through(&sb, &base, &["dev"], &now);
    let tags = sb.release("between-tags", "alice", &now, |tree| lz_operate::bench::retag(tree, "CC-4413")).unwrap();
    sb.approve_exceptions(&tags, &now).unwrap();

    let (bob, reading) = (sb.signer("bob").clone(), now.now().unwrap());
    let landed = std::rc::Rc::new(std::cell::Cell::new(None));
    let seen = landed.clone();
    lz_operate::promote::between_dry_run_and_admission(move |s| {
        let (r, _) = s.approve(&bob, "reviewed the plan", Some("CHG-2"), &reading)?;
        seen.set(Some(r.sequence));
        Ok(())
    });
    let before = lz_promote::judged::count_judgements();
    let o = sb.promote(&tags, "dev", "deployer-bot", &now, 0).unwrap_or_else(|e| panic!("{e:#}"));
    let judged = lz_promote::judged::count_judgements() - before;
    let between = landed.get().expect("the fault point ran");
    let records = sb.ledger().unwrap().records().unwrap();
    let auto = records
        .iter()
        .find(|r| r.kind == Kind::Approval && r.release == tags && r.details.approval().is_some_and(|a| a.auto == Some(true)))
        .expect("the promotion recorded the policy identity's auto-approval");
    assert!(auto.sequence < between, "bob's approval landed after the auto-approval");
    assert_eq!(judged, 2, "the admission judged its adoptions again after another writer's record ({judged} judgements)");
    // The run decided on the chain with bob's approval in it: its in-progress record follows it.
    let started = records.iter().find(|r| r.release == tags && r.deployment_outcome() == Some("in-progress")).unwrap();
    assert!(between < started.sequence && o.admission.tier == lz_promote::Tier::Standard);
}
