//! Typed details (issue 23.6): a record whose details do not parse as its kind is refused at
//! append, naming the field, and, written raw by an insider, rejected by verification naming the
//! record's sequence and the field (never a panic, never a default). Unknown fields are kept as
//! signed and decide nothing.

mod common;

use common::*;
use lz_evidence::archive::{seal, statement};
use lz_evidence::details::DeploymentDetails;
use lz_evidence::dsse::sha256_hex;
use lz_evidence::record::{DriftEvidence, Fields, Kind};
use lz_evidence::store::sign_checkpoint;
use lz_evidence::{failure_of, verify_store, Checkpoint, EvidenceArchive, LocalStore, Store, TrustRoot};
use serde_json::Value;

fn deployment(extra: &[(&str, Value)]) -> Fields {
    let mut f = Fields::new(digest("r")).environment("prod").account("5").plan_digest(digest("plan")).details(DeploymentDetails {
        outcome: "succeeded".into(),
        ..Default::default()
    });
    // The insider's raw write: what no typed writer can produce.
    for (k, v) in extra {
        f.raw_details_mut().insert(k.to_string(), v.clone());
    }
    f
}

/// A chain of one drift record, then a deployment with the details of `fields` forged raw as record 1 (signed by the deployer,
/// linked, with a signed head): what an insider with the deployer key can write.
fn forged_chain(t: &Team, path: &std::path::Path, fields: Fields) {
    let mut a = EvidenceArchive::open(LocalStore::new(path), t.identities.clone()).unwrap();
    let first = a.record(DriftEvidence::new(&digest("r"), "prod", "5", vec![]), &t.deployer).unwrap();
    // A statement with details that parse, then the raw details put in (as a raw writer would).
    let mut st = statement(Kind::Deployment, deployment(&[]), "deploy-bot", 1, &first.hash).unwrap();
    st.predicate.details = fields.details_map().clone();
    let bytes = seal(&st, &t.deployer).unwrap();
    let head = sign_checkpoint(&Checkpoint { sequence: 1, hash: sha256_hex(&bytes), time: st.predicate.time.clone() }, &t.deployer).unwrap();
    let mut store = LocalStore::new(path);
    store.append(1, &first.hash, &[bytes], &head).unwrap();
}

#[test]
fn details_that_do_not_parse_as_their_kind_are_refused_at_append_naming_the_field() {
    let t = team();
    for (extra, field) in [
        (vec![("break_glass", Value::from("soon"))], "break_glass"),
        (vec![("in_progress_record", Value::from(-3))], "in_progress_record"),
        (vec![("outcome", Value::from(1))], "outcome"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("c.jsonl")), t.identities.clone()).unwrap();
        let err = a.append(Kind::Deployment, deployment(&extra), &t.deployer).expect_err(field);
        let msg = format!("{err:#}");
        assert!(msg.contains(&format!("field {field:?}")) && msg.contains("deployment record"), "{field}: {msg}");
    }
    // A required detail missing is named too.
    let dir = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("c.jsonl")), t.identities.clone()).unwrap();
    let mut f = lz_evidence::record::CheckpointEvidence::new(0, &digest("x")).0;
    f.raw_details_mut().remove("checkpoint_hash");
    let err = a.append(Kind::Checkpoint, f, &t.deployer).expect_err("no checkpoint_hash");
    assert!(format!("{err:#}").contains("field \"checkpoint_hash\": required and missing"), "{err:#}");
}

#[test]
fn verification_rejects_malformed_details_naming_the_sequence_and_the_field() {
    let t = team();
    let root = TrustRoot::register(t.identities.clone(), "test register");
    for (fields, field) in [
        (deployment(&[("break_glass", Value::from("soon"))]), "break_glass"),
        (deployment(&[("approvals", Value::from("all of them"))]), "approvals"),
        (deployment(&[("outcome", Value::from(true))]), "outcome"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        forged_chain(&t, &path, fields);
        let err = verify_store(&LocalStore::new(&path), &root, &[]).expect_err(field);
        let f = failure_of(&err).unwrap_or_else(|| panic!("{field}: not a verification failure: {err:#}"));
        assert_eq!((f.reason.code(), f.sequence), ("detail", Some(1)), "{field}: {f}");
        assert!(f.to_string().contains(&format!("field {field:?}")), "{field}: {f}");
        // The report path (records not kept) judges the same.
        let report = lz_evidence::verify(&LocalStore::new(&path).load().unwrap(), None, &t.identities).unwrap();
        let f = report.failure.unwrap_or_else(|| panic!("{field}: the report passed"));
        assert_eq!((f.reason.code(), f.sequence), ("detail", Some(1)), "{field}: {f}");
    }
}

#[test]
fn unknown_fields_are_kept_as_signed_and_decide_nothing() {
    let t = team();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    forged_chain(&t, &path, deployment(&[("note", Value::from("from a later version"))]));
    let chain = verify_store(&LocalStore::new(&path), &TrustRoot::register(t.identities.clone(), "test register"), &[]).unwrap();
    let r = &chain.records[1];
    assert_eq!(r.details.other().get("note"), Some(&Value::from("from a later version")));
    assert_eq!(r.statement.predicate.details.get("note"), Some(&Value::from("from a later version")));
    assert_eq!(r.details.deployment().map(|d| d.outcome.as_str()), Some("succeeded"));
}
