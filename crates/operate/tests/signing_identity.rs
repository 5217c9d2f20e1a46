//! Per-environment signing identities (issue 26): each environment's pipeline deployer
//! (`deployer-bot-{env}`) is bound to its environment in the register, so the key a dev job can
//! use signs no prod record. The insider holds dev's pipeline key and writes a prod deployment:
//! through the archive it is refused before it is written; appended raw to the store (a writer
//! that checks nothing), verification names it and the next decision in prod refuses to decide.
//! Offline: a sandbox with a local chain, at a fixed clock.

mod common;

use lz_evidence::details::{ApprovalDetails, DeploymentDetails, Details, DriftDetails, PolicyEvaluationDetails, RotationDetails};
use lz_evidence::record::{Fields, Kind};
use lz_operate::sandbox::{env_deployer, Sandbox};
use lz_promote::clock::Clock;
use lz_promote::is_refusal;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::root;

const SAT: &str = "2026-11-28T12:00:00Z";

fn t(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

#[test]
fn a_dev_pipeline_key_signs_no_prod_record() {
    let dir = tempfile::Builder::new().prefix("lz-signid-").tempdir().unwrap();
    let sb = Sandbox::new(&root(), "http://127.0.0.1:9", dir.path()).unwrap();
    let c = Clock::Fixed(t(SAT));
    let r = sb.release("base", "alice", &c, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, &c).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, &c).unwrap();
    }
    let plan = sb.session(&r, "prod").unwrap().plan_digest;
    let ledger = sb.ledger().unwrap();
    let dev_key = sb.signer(&env_deployer("dev"));
    let deployment = Fields::new(&r)
        .environment("prod")
        .account("555555555555")
        .plan_digest(&plan)
        .at(t(SAT))
        .details(DeploymentDetails { outcome: "succeeded".into(), run: Some("replayed".into()), tier: Some("standard".into()), ..Default::default() });
    let drift = Fields::new(&r).environment("prod").at(t(SAT)).details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() });
    let rotation = Fields::new(&r).environment("prod").at(t(SAT)).details(Details::Rotation(RotationDetails {
        resource: "lz-prod/order-gateway/tls-certificate".into(),
        version: "v2".into(),
        outcome: "rotated".into(),
        consumers: vec![],
        ..Default::default()
    }));

    // Through the archive, on the verified chain: each is refused before it is written.
    let before = ledger.records().unwrap().len();
    for (kind, fields) in [(Kind::Deployment, deployment.clone()), (Kind::Drift, drift.clone()), (Kind::Rotation, rotation)] {
        let e = ledger.append(kind, fields, dev_key).expect_err("a dev key's prod record");
        let msg = format!("{e:#}");
        assert!(is_refusal(&e), "{kind}: {msg}");
        assert!(msg.contains("deployer-bot-dev is bound to dev and may not sign a record of prod"), "{kind}: {msg}");
    }
    assert_eq!(ledger.records().unwrap().len(), before, "nothing was written");
    // Prod's own deployer signs prod's records, and dev's signs dev's.
    ledger.append(Kind::Drift, drift.clone(), sb.signer(&env_deployer("prod"))).unwrap();
    ledger
        .append(Kind::Drift, Fields::new(&r).environment("dev").at(t(SAT)).details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() }), dev_key)
        .unwrap();

    // Appended raw to the store by a writer that checks nothing: verification names the record
    // and why, and the next decision in prod refuses to decide on that chain.
    let mut raw = lz_evidence::EvidenceArchive::open_unchecked(lz_evidence::LocalStore::new(sb.evidence_file())).unwrap();
    let forged = raw.append(Kind::Deployment, deployment, dev_key).unwrap();
    let e = lz_evidence::verify_store(&lz_evidence::LocalStore::new(sb.evidence_file()), &sb.paths.trust, &[]).unwrap_err();
    let failure = lz_evidence::verify::failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    assert_eq!((failure.sequence, failure.reason.code()), (Some(forged.sequence), "environment-binding"), "{failure}");
    let e = sb.session(&r, "prod").map(|_| ()).expect_err("the next decision in prod");
    assert!(format!("{e:#}").contains("deployer-bot-dev is bound to dev and may not sign a record of prod"), "{e:#}");
}

/// An approval policy naming `policy_identity = "change-policy-{env}"` (every sandbox's, as the
/// repository's) gives each environment a policy identity of its own (bound to it alone): a prod
/// session's policy identity is prod's, and dev's cannot sign prod's policy evaluation or
/// automatic approval.
#[test]
fn each_environment_has_its_own_policy_identity() {
    let dir = tempfile::Builder::new().prefix("lz-signid-").tempdir().unwrap();
    let sb = Sandbox::new(&root(), "http://127.0.0.1:9", dir.path()).unwrap();
    let c = Clock::Fixed(t(SAT));
    let r = sb
        .release("per-env-policy", "alice", &c, |tree| {
            let policy = std::fs::read_to_string(tree.join("governance/approval-policy.toml"))?;
            assert!(policy.contains(lz_operate::sandbox::POLICY_IDENTITY_PER_ENV), "{policy}");
            Ok(())
        })
        .unwrap();
    sb.approve_exceptions(&r, &c).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, &c).unwrap();
        assert_eq!(sb.session(&r, env).unwrap().governance.policy.policy_identity, format!("change-policy-{env}"));
    }
    let plan = sb.session(&r, "prod").unwrap().plan_digest;
    let ledger = sb.ledger().unwrap();
    let auto = Fields::new(&r).environment("prod").plan_digest(&plan).at(t(SAT)).details(ApprovalDetails {
        decision: Some("approved".into()),
        tier: Some("standard".into()),
        auto: Some(true),
        ..Default::default()
    });
    let evaluation = Fields::new(&r).environment("prod").plan_digest(&plan).at(t(SAT)).details(PolicyEvaluationDetails { passed: Some(true), ..Default::default() });
    for (kind, fields) in [(Kind::Approval, auto), (Kind::PolicyEvaluation, evaluation.clone())] {
        let e = ledger.append(kind, fields, sb.signer("change-policy-dev")).expect_err("dev's policy identity on a prod record");
        assert!(format!("{e:#}").contains("change-policy-dev is bound to dev and may not sign a record of prod"), "{kind}: {e:#}");
    }
    ledger.append(Kind::PolicyEvaluation, evaluation, sb.signer("change-policy-prod")).unwrap();
}

/// Issue 26 (review 1): a policy identity (`change-policy-preprod`, which preprod's policy
/// evaluations use and which holds the deployer role for them) writes a clean preprod
/// drift record after a real drift, for the prod promotion's previous-environment gate to take.
/// A record rule (not only the drift command) refuses it: at append, and in verification when
/// written raw, so the prod promotion refuses to decide on that chain.
#[test]
fn a_policy_identity_writes_no_drift_deployment_or_rotation_record() {
    let dir = tempfile::Builder::new().prefix("lz-signfix-").tempdir().unwrap();
    let sb = Sandbox::new(&root(), "http://127.0.0.1:9", dir.path()).unwrap();
    let c = Clock::Fixed(t(SAT));
    let r = sb.release("base", "alice", &c, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, &c).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, &c).unwrap();
    }
    let plan = sb.session(&r, "preprod").unwrap().plan_digest;
    let ledger = sb.ledger().unwrap();
    let policy = sb.signer("change-policy-preprod");
    let clean = Fields::new(&r).environment("preprod").at(t(SAT)).details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() });
    let deployment = Fields::new(&r)
        .environment("preprod")
        .account("444444444444")
        .plan_digest(&plan)
        .at(t(SAT))
        .details(DeploymentDetails { outcome: "succeeded".into(), run: Some("policy".into()), tier: Some("standard".into()), ..Default::default() });
    let before = ledger.records().unwrap().len();
    for (kind, fields) in [(Kind::Drift, clean.clone()), (Kind::Deployment, deployment)] {
        let e = ledger.append(kind, fields, policy).expect_err("the policy identity's record");
        assert!(is_refusal(&e), "{kind}: {e:#}");
        assert!(format!("{e:#}").contains(&format!("change-policy-preprod is a workload with the approver role (a policy identity: it signs automatic approvals) and may not sign a {kind} record")), "{kind}: {e:#}");
    }
    assert_eq!(ledger.records().unwrap().len(), before, "nothing was written");
    // preprod's own deployer may.
    ledger.append(Kind::Drift, clean.clone(), sb.signer(&env_deployer("preprod"))).unwrap();

    // Written raw: verification names it, and prod's next decision refuses.
    let mut raw = lz_evidence::EvidenceArchive::open_unchecked(lz_evidence::LocalStore::new(sb.evidence_file())).unwrap();
    let forged = raw.append(Kind::Drift, clean, policy).unwrap();
    let e = lz_evidence::verify_store(&lz_evidence::LocalStore::new(sb.evidence_file()), &sb.paths.trust, &[]).unwrap_err();
    let failure = lz_evidence::verify::failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    assert_eq!((failure.sequence, failure.reason.code()), (Some(forged.sequence), "policy-identity"), "{failure}");
    let e = sb.session(&r, "prod").map(|_| ()).expect_err("the prod promotion");
    assert!(format!("{e:#}").contains("change-policy-preprod is a workload with the approver role"), "{e:#}");
}

/// Review 12: a release whose approval policy names a policy identity the sandbox has no key
/// for (bad release input) makes the promotion fail with an error naming it, not a panic.
#[test]
fn an_unknown_policy_identity_is_an_error_not_a_panic() {
    let dir = tempfile::Builder::new().prefix("lz-signfix-").tempdir().unwrap();
    let sb = Sandbox::new(&root(), "http://127.0.0.1:9", dir.path()).unwrap();
    let c = Clock::Fixed(t(SAT));
    let r = sb
        .release("ghost-policy", "alice", &c, |tree| {
            common::edit(&tree.join("governance/approval-policy.toml"), "policy_identity = \"change-policy-{env}\"", "policy_identity = \"ghost-policy\"")
        })
        .unwrap();
    sb.approve_exceptions(&r, &c).unwrap();
    sb.pin("dev", &r, &c).unwrap();
    let e = sb.promote(&r, "dev", "deployer-bot", &c, 0).map(drop).expect_err("no key for the policy identity");
    assert!(format!("{e:#}").contains("the sandbox has no key for identity \"ghost-policy\""), "{e:#}");
    assert!(sb.signer_of("nobody").is_err());
}
