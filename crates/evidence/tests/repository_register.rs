//! The repository's own register (`governance/identities.toml`) binds its pipeline identities
//! (issue 26): each environment's deployer, drift monitor and policy identity signs that
//! environment's records only. The insider holds dev's pipeline key and writes a prod
//! deployment with this repository's register in force: refused at append, and, written raw,
//! by verification. A store started from the register before the binding gets it the way an
//! organisation would: a register change a quorum of the security group approves.
//!
//! The register's private keys never enter the repository, so each test gives every identity a
//! fresh key in place of its registered public key (names, roles, groups, environments and line
//! structure are the repository's).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lz_evidence::binding::{new_register_problems, prod_and_lower, NewRegister};
use lz_evidence::details::DeploymentDetails;
use lz_evidence::dsse::sha256_hex;
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::*;
use lz_evidence::{failure_of, verify_store, EvidenceArchive, Identities, LocalStore, Role, Signer, TrustRoot};

/// The sha256 of the register before its pipeline identities were bound: the genesis pin of a
/// store started from it (`fixtures/unbound-identities.toml` is that file, byte for byte).
const UNBOUND_PIN: &str = "52734108f4891450b9fc1c8f0f823061b6340d05956288a4dd28ea4284d1b1db";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

fn unbound() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unbound-identities.toml")).unwrap()
}

/// A fresh key per identity named in any of `texts`, each text with its registered public keys
/// replaced by them (one key per name across the texts, as a register change keeps a key).
fn keyed(texts: &[&str]) -> (Vec<String>, BTreeMap<String, Signer>) {
    let mut signers: BTreeMap<String, Signer> = BTreeMap::new();
    let mut out = Vec::new();
    for text in texts {
        let ids = Identities::parse(text, "identities.toml").unwrap();
        let mut new = text.to_string();
        for id in ids.iter() {
            let signer = signers.entry(id.name.clone()).or_insert_with(|| Signer::new(&id.name, generate_key()));
            let registered = format!("public_key = \"{}\"", encode_public_key(&id.public_key));
            assert_eq!(new.matches(&registered).count(), 1, "{}: its key is registered once", id.name);
            new = new.replace(&registered, &format!("public_key = \"{}\"", encode_public_key(&signer.public_key())));
        }
        out.push(new);
    }
    (out, signers)
}

fn rel() -> String {
    sha256_hex(b"release")
}

fn deployment(env: &str) -> Fields {
    Fields::new(&rel()).environment(env).account("555555555555").plan_digest(sha256_hex(b"plan")).details(DeploymentDetails {
        outcome: "succeeded".into(),
        resources: Some(vec![]),
        ..Default::default()
    })
}

/// The chain at `dir` reopened as an appender does: verified against `pin`, judging each append
/// by the rules after its last record (the register in force among them).
fn reopened(dir: &Path, pin: &TrustRoot) -> EvidenceArchive<LocalStore> {
    let chain = verify_store(&LocalStore::new(dir.join("chain.jsonl")), pin, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    EvidenceArchive::open_verified(LocalStore::new(dir.join("chain.jsonl")), &chain).unwrap()
}

fn genesis(dir: &Path, text: &str, by: &Signer) -> EvidenceArchive<LocalStore> {
    let mut a = EvidenceArchive::open(LocalStore::new(dir.join("chain.jsonl")), Identities::default()).unwrap();
    a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), text, GENESIS).0, by).unwrap();
    a
}

/// The register a new store starts with is the repository's file (its sha256 is the pin in
/// `governance/stores.toml`), and it passes the rules of a proposed register: every workload
/// that deploys or approves is bound, to one environment each, and no deployer signs for prod
/// and a lower environment. The register before it did not (the fixture's unbound workloads).
#[test]
fn the_repository_register_binds_each_pipeline_identity_to_one_environment() {
    let text = read("governance/identities.toml");
    let stores = read("governance/stores.toml");
    assert!(stores.contains(&format!("genesis_register_sha256 = \"{}\"", sha256_hex(text.as_bytes()))), "stores.toml pins this register");
    let ids = Identities::parse(&text, "identities.toml").unwrap();
    assert_eq!(new_register_problems(&ids, "identities.toml", NewRegister::Proposal), Vec::<String>::new());
    assert_eq!(prod_and_lower(&ids, "identities.toml"), Vec::<String>::new());
    let mut pipeline = 0;
    for id in ids.iter().filter(|i| !i.is_person() && (i.has_role(Role::Deployer) || i.has_role(Role::Approver))) {
        let bound = id.environments.as_ref().unwrap_or_else(|| panic!("{} is unbound", id.name));
        assert_eq!(bound.len(), 1, "{}: {bound:?}", id.name);
        assert!(id.name.ends_with(&format!("-{}", bound[0])), "{} is named for its environment {}", id.name, bound[0]);
        pipeline += 1;
    }
    assert_eq!(pipeline, 15, "a deployer, a drift monitor and a policy identity per environment");
    // The policy identity the approval policy names exists for each environment.
    assert!(read("governance/approval-policy.toml").contains("policy_identity = \"change-policy-{env}\""));

    let old = unbound();
    assert_eq!(sha256_hex(old.as_bytes()), UNBOUND_PIN);
    let old = Identities::parse(&old, "unbound-identities.toml").unwrap();
    let problems = new_register_problems(&old, "unbound-identities.toml", NewRegister::Proposal);
    for who in ["deploy-pipeline", "drift-monitor", "change-policy"] {
        assert!(problems.iter().any(|p| p.contains(&format!("identity {who}: a workload with the deployer or approver role must name"))), "{problems:?}");
    }
}

/// The insider holds dev's pipeline key (`deploy-pipeline-dev`) and writes a prod deployment
/// with the repository's register in force: refused at append; written raw to the store (a
/// writer that checks nothing), verification names the record (`environment-binding`). Dev's
/// drift monitor and policy identity sign no prod record either; prod's own identities do.
/// Against the register before the binding the same key signs prod's deployment, which is the
/// hole the binding closes.
#[test]
fn with_the_repository_register_a_dev_pipeline_key_signs_no_prod_deployment() {
    let (texts, s) = keyed(&[&read("governance/identities.toml"), &unbound()]);
    let pin = TrustRoot::pinned([sha256_hex(texts[0].as_bytes())]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut a = genesis(dir.path(), &texts[0], &s["grace-lindqvist"]);

    let e = a.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-dev"]).expect_err("dev's key on a prod deployment");
    assert!(format!("{e:#}").contains("deploy-pipeline-dev is bound to dev and may not sign a record of prod"), "{e:#}");
    let e = a.append(Kind::Drift, DriftEvidence::new(&rel(), "prod", "555555555555", vec![]).into_fields().unwrap(), &s["drift-monitor-dev"]).expect_err("dev's drift monitor on prod");
    assert!(format!("{e:#}").contains("drift-monitor-dev is bound to dev"), "{e:#}");
    let e = a.append(Kind::Approval, ApprovalEvidence::new(&rel(), "prod", &sha256_hex(b"plan"), "CHG-1").0, &s["change-policy-dev"]).expect_err("dev's policy identity on prod");
    assert!(format!("{e:#}").contains("change-policy-dev is bound to dev"), "{e:#}");
    a.append(Kind::Drift, DriftEvidence::new(&rel(), "prod", "555555555555", vec![]).into_fields().unwrap(), &s["drift-monitor-prod"]).unwrap();
    a.append(Kind::Deployment, deployment("dev"), &s["deploy-pipeline-dev"]).unwrap();
    let store = LocalStore::new(dir.path().join("chain.jsonl"));
    assert_eq!(verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}")).records.len(), 3);

    let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(dir.path().join("chain.jsonl"))).unwrap();
    let forged = raw.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-dev"]).unwrap();
    let e = verify_store(&store, &pin, &[]).unwrap_err();
    let f = failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    assert_eq!((f.sequence, f.reason.code()), (Some(forged.sequence), "environment-binding"), "{f}");

    // Without the binding (the register before it), the shared deployer's key signs prod.
    let other = tempfile::tempdir().unwrap();
    let mut old = genesis(other.path(), &texts[1], &s["grace-lindqvist"]);
    old.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline"]).unwrap();
}

/// A store started from the register before the binding (its record 0 is that register, under
/// Object Lock) binds its pipeline identities by a register change: grace proposes the
/// repository's register, noor and henrik (the quorum of two, other than the proposer, whom the
/// change does not alter) approve it, and from then on dev's key signs no prod deployment. The
/// chain verifies throughout, and one approval is not enough.
#[test]
fn a_running_store_binds_its_pipeline_identities_by_a_quorum_register_change() {
    let (texts, s) = keyed(&[&unbound(), &read("governance/identities.toml")]);
    let (old, new) = (&texts[0], &texts[1]);
    let pin = TrustRoot::pinned([sha256_hex(old.as_bytes())]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut a = genesis(dir.path(), old, &s["grace-lindqvist"]);
    a.append(Kind::Deployment, deployment("dev"), &s["deploy-pipeline"]).unwrap();
    // Before the binding, the policy-identity rule was not in force: the shared policy identity
    // wrote a drift record, which the chain keeps (and verifies) after the change.
    let drift = |env: &str| DriftEvidence::new(&rel(), env, "555555555555", vec![]).into_fields().unwrap();
    a.append(Kind::Drift, drift("prod"), &s["change-policy"]).unwrap();

    let new_fp = sha256_hex(new.as_bytes());
    let proposal = a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), new, &sha256_hex(old.as_bytes())).0, &s["grace-lindqvist"]).unwrap().sequence;
    a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), proposal, &new_fp).0, &s["noor-aziz"]).unwrap();
    // One approval: the old register is still in force, and the new identities sign nothing.
    let store = LocalStore::new(dir.path().join("chain.jsonl"));
    let chain = verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(chain.register.fingerprint(), sha256_hex(old.as_bytes()));
    assert!(a.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-prod"]).is_err(), "not registered before the quorum");

    a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), proposal, &new_fp).0, &s["henrik-berg"]).unwrap();
    let chain = verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(chain.register.fingerprint(), new_fp, "the bound register is in force");
    assert!(chain.pending.is_empty());

    let mut a = reopened(dir.path(), &pin);
    let e = a.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-dev"]).expect_err("dev's key on a prod deployment");
    assert!(format!("{e:#}").contains("deploy-pipeline-dev is bound to dev and may not sign a record of prod"), "{e:#}");
    a.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-prod"]).unwrap();
    // The shared identities left the register with the change.
    assert!(a.append(Kind::Deployment, deployment("dev"), &s["deploy-pipeline"]).is_err(), "deploy-pipeline is no longer registered");
    // From the change on, the policy-identity rule is in force: prod's policy identity writes
    // no prod drift record, at append or raw.
    let e = a.append(Kind::Drift, drift("prod"), &s["change-policy-prod"]).expect_err("a policy identity's drift record");
    assert!(format!("{e:#}").contains("change-policy-prod is a workload with the approver role"), "{e:#}");
    let chain = verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(chain.records.iter().any(|r| r.statement.predicate.identity == "change-policy" && r.kind == Kind::Drift), "the older drift record still verifies");
    let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(dir.path().join("chain.jsonl"))).unwrap();
    let forged = raw.append(Kind::Drift, drift("prod"), &s["change-policy-prod"]).unwrap();
    let e = verify_store(&store, &pin, &[]).unwrap_err();
    let f = failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    assert_eq!((f.sequence, f.reason.code()), (Some(forged.sequence), "policy-identity"), "{f}");
}

/// Once a register binds identities to environments, a register change may not unbind them:
/// otherwise one proposal and a quorum that reads nothing wrong in it would switch the
/// environment-binding and policy-identity rules off for every later record. The repository's
/// bound register is in force; grace proposes the unbound one: refused at append, and, written
/// raw and approved by the quorum, refused by verification at the proposal (`register-change`).
/// Without the rule the chain verifies with the unbound register in force, and dev's key then
/// signs prod's deployments.
#[test]
fn a_register_change_that_unbinds_the_pipeline_identities_is_refused() {
    let (texts, s) = keyed(&[&read("governance/identities.toml"), &unbound()]);
    let (bound, old) = (&texts[0], &texts[1]);
    let pin = TrustRoot::pinned([sha256_hex(bound.as_bytes())]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    genesis(dir.path(), bound, &s["grace-lindqvist"]);
    let mut a = reopened(dir.path(), &pin);
    let change = || RegisterChangeEvidence::new(&rel(), old, &sha256_hex(bound.as_bytes())).0;
    let e = a.append(Kind::RegisterChange, change(), &s["grace-lindqvist"]).expect_err("an unbinding proposal at append");
    assert!(format!("{e:#}").contains("the register replacing it must too"), "{e:#}");
    assert!(format!("{e:#}").contains("identity deploy-pipeline: a workload with the deployer or approver role must name"), "{e:#}");

    let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(dir.path().join("chain.jsonl"))).unwrap();
    let proposal = raw.append(Kind::RegisterChange, change(), &s["grace-lindqvist"]).unwrap().sequence;
    let fp = sha256_hex(old.as_bytes());
    for who in ["noor-aziz", "henrik-berg"] {
        raw.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), proposal, &fp).0, &s[who]).unwrap();
    }
    let store = LocalStore::new(dir.path().join("chain.jsonl"));
    let e = verify_store(&store, &pin, &[]).unwrap_err();
    let f = failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    assert_eq!((f.sequence, f.reason.code()), (Some(proposal), "register-change"), "{f}");
}

/// The policy-identity rule is judged from the register that brought it in (the first binding
/// one): a chain whose registers bind nobody, in which a workload with the approver role
/// signed a deployment and a drift record, still verifies; the same records in a chain whose
/// register binds identities are refused at append and, written raw, by verification. Without
/// the rule in force (`policy_identity_rule_in_force` always false) the second chain would
/// verify.
#[test]
fn the_policy_identity_rule_judges_a_chain_from_the_register_that_brought_it_in() {
    let (texts, s) = keyed(&[&unbound(), &read("governance/identities.toml")]);
    for (text, in_force) in [(&texts[0], false), (&texts[1], true)] {
        let ids = Identities::parse(text, "identities.toml").unwrap();
        assert_eq!(lz_evidence::binding::policy_identity_rule_in_force(&ids), in_force);
        let signer = if in_force { &s["change-policy-prod"] } else { &s["change-policy"] };
        let pin = TrustRoot::pinned([sha256_hex(text.as_bytes())]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut a = genesis(dir.path(), text, &s["grace-lindqvist"]);
        let store = LocalStore::new(dir.path().join("chain.jsonl"));
        let drift = DriftEvidence::new(&rel(), "prod", "555555555555", vec![]).into_fields().unwrap();
        if !in_force {
            a.append(Kind::Drift, drift, signer).unwrap();
            a.append(Kind::Deployment, deployment("prod"), signer).unwrap();
            assert_eq!(verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}")).records.len(), 3, "an older chain verifies");
            continue;
        }
        for (kind, fields) in [(Kind::Drift, drift.clone()), (Kind::Deployment, deployment("prod"))] {
            let e = a.append(kind, fields, signer).expect_err("refused at append");
            assert!(format!("{e:#}").contains(&format!("may not sign a {kind} record")), "{kind}: {e:#}");
        }
        let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(dir.path().join("chain.jsonl"))).unwrap();
        let forged = raw.append(Kind::Drift, drift, signer).unwrap();
        let e = verify_store(&store, &pin, &[]).unwrap_err();
        let f = failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
        assert_eq!((f.sequence, f.reason.code()), (Some(forged.sequence), "policy-identity"), "{f}");
    }
}

/// Checkpoint records carry no environment, and any appender may sign them, dev's deployer
/// included: it changes no decision. One naming a record with another hash, or a record that is
/// not earlier, is refused at append and, written raw, by verification (`checkpoint-record`);
/// one that names a real record attests what the chain already holds: the records a decision
/// reads (every record but it), the register in force and the pending changes are those of the
/// chain without it, and the next prod record is judged exactly as before.
#[test]
fn a_dev_deployers_checkpoint_record_changes_no_decision() {
    let (texts, s) = keyed(&[&read("governance/identities.toml")]);
    let pin = TrustRoot::pinned([sha256_hex(texts[0].as_bytes())]).unwrap();
    let dev = &s["deploy-pipeline-dev"];
    let dir = tempfile::tempdir().unwrap();
    let mut a = genesis(dir.path(), &texts[0], &s["grace-lindqvist"]);
    let deployed = a.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-prod"]).unwrap();
    let store = LocalStore::new(dir.path().join("chain.jsonl"));
    let before = verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    let mut a = reopened(dir.path(), &pin);

    for (what, fields) in [
        ("another hash", CheckpointEvidence::new(deployed.sequence, &sha256_hex(b"not the record")).0),
        ("a later record", CheckpointEvidence::new(deployed.sequence + 5, &deployed.hash).0),
    ] {
        let e = a.append(Kind::Checkpoint, fields.clone(), dev).expect_err(what);
        assert!(format!("{e:#}").contains("checkpoint record"), "{what}: {e:#}");
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(dir.path().join("chain.jsonl"), copy.path().join("chain.jsonl")).unwrap();
        let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(copy.path().join("chain.jsonl"))).unwrap();
        let forged = raw.append(Kind::Checkpoint, fields, dev).unwrap();
        let e = verify_store(&LocalStore::new(copy.path().join("chain.jsonl")), &pin, &[]).unwrap_err();
        let f = failure_of(&e).unwrap_or_else(|| panic!("{what}: not a verification failure: {e:#}"));
        assert_eq!((f.sequence, f.reason.code()), (Some(forged.sequence), "checkpoint-record"), "{what}: {f}");
    }

    let cp = a.append(Kind::Checkpoint, CheckpointEvidence::new(deployed.sequence, &deployed.hash).0, dev).unwrap();
    let after = verify_store(&store, &pin, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    let decided = |c: &lz_evidence::VerifiedChain| -> Vec<(u64, Kind, String)> {
        c.records.iter().filter(|r| r.kind != Kind::Checkpoint).map(|r| (r.sequence, r.kind, r.hash.clone())).collect()
    };
    assert_eq!(decided(&after), decided(&before));
    assert_eq!(after.records.len(), before.records.len() + 1);
    assert_eq!(after.register.fingerprint(), before.register.fingerprint());
    assert_eq!(after.pending.len(), before.pending.len());
    assert!(after.records.iter().any(|r| r.sequence == cp.sequence && r.kind == Kind::Checkpoint));
    // The next prod record is judged as before: dev's key still signs none.
    let e = a.append(Kind::Deployment, deployment("prod"), dev).expect_err("dev's key on prod after its checkpoint");
    assert!(format!("{e:#}").contains("deploy-pipeline-dev is bound to dev"), "{e:#}");
    a.append(Kind::Deployment, deployment("prod"), &s["deploy-pipeline-prod"]).unwrap();
}
