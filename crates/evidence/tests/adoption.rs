//! Adoption records (issue 32): the verifier replays each against the chain before it. A record
//! one key wrote without the release, the approvals or the deployment behind it, out of its
//! rollout's order, or a rollback that reverses nothing, is refused at append and, written raw
//! by an insider with the deployer key, rejected by verification with the `adoption` code.

mod common;

use common::*;
use lz_evidence::archive::{seal, statement};
use lz_evidence::details::AdoptionDetails;
use lz_evidence::dsse::sha256_hex;
use lz_evidence::record::{ApprovalEvidence, DeploymentEvidence, Fields, Kind, ReleaseEvidence};
use lz_evidence::store::sign_checkpoint;
use lz_evidence::{failure_of, verify_store, Checkpoint, EvidenceArchive, LocalStore, Store, TrustRoot};

struct Chain {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    release: String,
    approval: u64,
    deployment: u64,
    /// The last record's sequence and hash.
    head: (u64, String),
}

/// A release authored by bob, approved by alice for dev, deployed in dev.
fn chain(t: &Team) -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    let release = digest("release-2");
    let pd = digest("plan");
    let mut a = EvidenceArchive::open(LocalStore::new(&path), t.identities.clone()).unwrap();
    a.record(ReleaseEvidence::new(&release, &digest("manifest")), &t.reviewer).unwrap();
    let approval = a.record(ApprovalEvidence::new(&release, "dev", &pd, "CHG-1"), &t.approver).unwrap().sequence;
    let d = a.record(DeploymentEvidence::new(&release, "dev", "111111111111", &pd, true, vec![]), &t.deployer).unwrap();
    Chain { _dir: dir, path, release, approval, deployment: d.sequence, head: (d.sequence, d.hash) }
}

/// The archive as promotions open it: after verifying the store, judging each record by every
/// rule verification applies.
fn verified(ids: &lz_evidence::Identities, path: &std::path::Path) -> EvidenceArchive<LocalStore> {
    let chain = verify_store(&LocalStore::new(path), &TrustRoot::register(ids.clone(), "test register"), &[]).unwrap();
    EvidenceArchive::open_verified(LocalStore::new(path), &chain).unwrap()
}

fn adoption(c: &Chain, edit: impl FnOnce(&mut AdoptionDetails)) -> Fields {
    let mut d = AdoptionDetails {
        module: "trading-service".into(),
        service: "order-gateway".into(),
        from: "1.0.0".into(),
        to: "1.1.0".into(),
        wave: 1,
        approvals: vec![c.approval],
        deployment: c.deployment,
        wave_name: Some("non-prod".into()),
        ..Default::default()
    };
    edit(&mut d);
    Fields::new(&c.release).environment("dev").details(d)
}

/// Appends `fields` raw (no append check), as the deployer key's holder can; returns the
/// verification error's code and text.
fn forge(t: &Team, c: &Chain, fields: Fields) -> (String, String) {
    let seq = c.head.0 + 1;
    let st = statement(Kind::Adoption, fields, "deploy-bot", seq, &c.head.1).unwrap();
    let bytes = seal(&st, &t.deployer).unwrap();
    let signed = sign_checkpoint(&Checkpoint { sequence: seq, hash: sha256_hex(&bytes), time: st.predicate.time.clone() }, &t.deployer).unwrap();
    let mut store = LocalStore::new(&c.path);
    store.append(seq, &c.head.1, &[bytes], &signed).unwrap();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let e = verify_store(&store, &root, &[]).expect_err("a forged adoption verifies");
    let f = failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    assert_eq!(f.sequence, Some(seq), "{f}");
    (f.reason.code().to_string(), f.to_string())
}

#[test]
fn an_adoption_with_its_release_approval_and_deployment_verifies_and_a_rollback_reverses_it() {
    let t = team();
    let c = chain(&t);
    let mut a = EvidenceArchive::open(LocalStore::new(&c.path), t.identities.clone()).unwrap();
    let first = a.append(Kind::Adoption, adoption(&c, |_| {}), &t.deployer).unwrap().sequence;
    let back = adoption(&c, |d| {
        (d.from, d.to, d.wave, d.wave_name, d.rollback_of) = ("1.1.0".into(), "1.0.0".into(), 0, None, Some(first));
    });
    a.append(Kind::Adoption, back, &t.deployer).unwrap();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    let v = verify_store(&LocalStore::new(&c.path), &root, &[]).unwrap();
    let kinds: Vec<Kind> = v.records.iter().map(|r| r.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == Kind::Adoption).count(), 2, "{kinds:?}");
    let last = v.records.last().unwrap().details.adoption().unwrap();
    assert_eq!(last.rollback_of, Some(first));
}

#[test]
fn an_adoption_one_key_wrote_without_what_it_names_is_rejected() {
    let t = team();
    let cases: Vec<(&str, Box<dyn Fn(&Chain) -> Fields>, &str)> = vec![
        ("no approval", Box::new(|c| adoption(c, |d| d.approvals.clear())), "it names no approval"),
        ("a made-up approval", Box::new(|c| adoption(c, |d| d.approvals = vec![c.deployment])), "is not an earlier approval record"),
        ("another release", Box::new(|c| { let mut f = adoption(c, |_| {}); f.release = digest("other"); f }), "no earlier release record"),
        ("another environment", Box::new(|c| { let mut f = adoption(c, |_| {}); f.environment = Some("prod".into()); f }), "another release or environment"),
        ("no deployment", Box::new(|c| adoption(c, |d| d.deployment = c.approval)), "not an earlier deployment record that succeeded"),
        ("a skipped wave", Box::new(|c| adoption(c, |d| d.wave = 2)), "wave 2 of trading-service@1.1.0 before any adoption of wave 1"),
        ("a rollback of nothing", Box::new(|c| adoption(c, |d| d.rollback_of = Some(c.approval))), "is not an earlier adoption record"),
    ];
    for (what, fields, needle) in cases {
        let c = chain(&t);
        // The archive refuses it at append...
        let mut a = verified(&t.identities, &c.path);
        let e = a.append(Kind::Adoption, fields(&c), &t.deployer).expect_err(what);
        assert!(format!("{e:#}").contains(needle), "{what}: {e:#}");
        // ...and written raw, verification rejects it.
        let (code, text) = forge(&t, &c, fields(&c));
        assert_eq!(code, "adoption", "{what}: {text}");
        assert!(text.contains(needle), "{what}: {text}");
    }
}

#[test]
fn an_adoption_only_the_deployer_approved_is_rejected() {
    // An identity holding both approver and deployer roles approves and adopts alone. Under a
    // register from before the policy-identity rule (it binds nobody), the adoption rule refuses
    // it; under one that binds identities, the policy-identity rule refuses its deployment first.
    let t = team();
    let text = t.text.replace("roles = [\"deployer\"]", "roles = [\"deployer\", \"approver\"]");
    let bound = text.replace("roles = [\"deployer\", \"approver\"]", "roles = [\"deployer\", \"approver\"]\nenvironments = [\"dev\"]");
    assert_ne!(bound, text);
    for (text, rule_in_force) in [(text, false), (bound, true)] {
        let ids = lz_evidence::Identities::parse(&text, "identities.toml").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        let release = digest("release-3");
        let pd = digest("plan");
        let mut a = EvidenceArchive::open(LocalStore::new(&path), ids.clone()).unwrap();
        a.record(ReleaseEvidence::new(&release, &digest("manifest")), &t.reviewer).unwrap();
        let auto = ApprovalEvidence::new(&release, "dev", &pd, "CHG-1").0.details(lz_evidence::details::ApprovalDetails {
            auto: Some(true),
            ..Default::default()
        });
        let approval = a.append(Kind::Approval, auto, &t.deployer).unwrap().sequence;
        let deployment = a.record(DeploymentEvidence::new(&release, "dev", "111111111111", &pd, true, vec![]), &t.deployer);
        if rule_in_force {
            // A workload with the approver role is a policy identity: it signs no deployment (nor
            // adoption) record at all (`policy-identity`), so it can never adopt what it approved alone.
            let e = deployment.unwrap_err();
            assert!(format!("{e:#}").contains("may not sign a deployment record"), "{e:#}");
            continue;
        }
        let d = deployment.unwrap();
        let c = Chain { _dir: dir, path, release, approval, deployment: d.sequence, head: (d.sequence, d.hash) };
        let mut a = verified(&ids, &c.path);
        let e = a.append(Kind::Adoption, adoption(&c, |_| {}), &t.deployer).unwrap_err();
        assert!(format!("{e:#}").contains("every approval it names was signed by deploy-bot"), "{e:#}");
    }
}

/// An insider orders the chain so that the approval and the deployment an adoption names come
/// before the release was authored (approving and deploying a digest nobody had authored yet),
/// then writes the adoption raw with the deployer key: verification rejects it, and the archive
/// refuses it at append.
#[test]
fn an_adoption_whose_approval_or_deployment_precedes_the_release_authorship_is_rejected() {
    let t = team();
    let pd = digest("plan");
    // (what comes before the release record, what the error names)
    let cases: [(&str, bool, &str); 2] = [("approval", true, "approval record 0 precedes the authorship"), ("deployment", false, "deployment record")];
    for (what, approval_first, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        let release = digest("release-4");
        let mut a = EvidenceArchive::open(LocalStore::new(&path), t.identities.clone()).unwrap();
        let approve = |a: &mut EvidenceArchive<LocalStore>| a.record(ApprovalEvidence::new(&release, "dev", &pd, "CHG-1"), &t.approver).unwrap().sequence;
        let approval = if approval_first { approve(&mut a) } else { u64::MAX };
        let d = a.record(DeploymentEvidence::new(&release, "dev", "111111111111", &pd, true, vec![]), &t.deployer).unwrap();
        let authorship = a.record(ReleaseEvidence::new(&release, &digest("manifest")), &t.reviewer).unwrap();
        let (approval, head) = if approval_first {
            (approval, (authorship.sequence, authorship.hash))
        } else {
            let r = a.record(ApprovalEvidence::new(&release, "dev", &pd, "CHG-1"), &t.approver).unwrap();
            (r.sequence, (r.sequence, r.hash))
        };
        assert!(approval_first == (approval < authorship.sequence) && d.sequence < authorship.sequence, "{what}: the chain's order");
        let c = Chain { _dir: dir, path, release, approval, deployment: d.sequence, head };
        // The chain before the adoption verifies: only the adoption is judged.
        let root = TrustRoot::register(t.identities.clone(), "test register");
        verify_store(&LocalStore::new(&c.path), &root, &[]).unwrap_or_else(|e| panic!("{what}: the chain before the adoption: {e:#}"));
        let mut v = verified(&t.identities, &c.path);
        let e = v.append(Kind::Adoption, adoption(&c, |_| {}), &t.deployer).expect_err(what);
        assert!(format!("{e:#}").contains(needle) && format!("{e:#}").contains("precedes the authorship"), "{what}: {e:#}");
        let (code, text) = forge(&t, &c, adoption(&c, |_| {}));
        assert_eq!(code, "adoption", "{what}: {text}");
        assert!(text.contains(needle) && text.contains("precedes the authorship"), "{what}: {text}");
    }
}

/// An insider with the deployer key re-adopts 1.1.0 after a rollback and records it as a
/// "rollback" of the rollback (wave 0, skipping the waves): verification rejects a rollback whose
/// `rollback_of` is itself a rollback, and a rollback that is not wave 0.
#[test]
fn a_rollback_of_a_rollback_is_rejected() {
    let t = team();
    // The record to append after dev/order-gateway moved 1.0.0 -> 1.1.0 (`first`).
    type Next = Box<dyn Fn(&Chain, u64, u64) -> Fields>;
    let cases: Vec<(&str, bool, Next, &str)> = vec![
        (
            "a re-adoption recorded as a rollback of the rollback",
            true,
            Box::new(|c, _, back| adoption(c, |d| (d.wave, d.wave_name, d.rollback_of) = (0, None, Some(back)))),
            "which is itself a rollback",
        ),
        (
            "a rollback outside wave 0",
            false,
            Box::new(|c, first, _| adoption(c, |d| (d.from, d.to, d.wave, d.rollback_of) = ("1.1.0".into(), "1.0.0".into(), 1, Some(first)))),
            "a rollback is wave 0",
        ),
    ];
    for (what, rolled_back, next, needle) in cases {
        let mut c = chain(&t);
        let mut a = verified(&t.identities, &c.path);
        let first = a.append(Kind::Adoption, adoption(&c, |_| {}), &t.deployer).unwrap();
        c.head = (first.sequence, first.hash.clone());
        let mut back = 0;
        if rolled_back {
            let b = adoption(&c, |d| (d.from, d.to, d.wave, d.wave_name, d.rollback_of) = ("1.1.0".into(), "1.0.0".into(), 0, None, Some(first.sequence)));
            let b = a.append(Kind::Adoption, b, &t.deployer).unwrap();
            c.head = (b.sequence, b.hash.clone());
            back = b.sequence;
        }
        let e = a.append(Kind::Adoption, next(&c, first.sequence, back), &t.deployer).expect_err(what);
        assert!(format!("{e:#}").contains(needle), "{what}: {e:#}");
        let (code, text) = forge(&t, &c, next(&c, first.sequence, back));
        assert_eq!(code, "adoption", "{what}: {text}");
        assert!(text.contains(needle), "{what}: {text}");
    }
}
