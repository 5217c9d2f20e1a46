//! The archive API: appending, role checks, redaction, reopening, queries and bundles.

mod common;

use common::*;
use lz_evidence::bundle::{read_bundle, write_bundle, BundleHeader, BUNDLE_FORMAT};
use lz_evidence::dsse::sha256_hex;
use lz_evidence::query::{Index, Query, Source, TimeRange};
use lz_evidence::record::*;
use lz_evidence::{verify, EvidenceArchive, Identities, LocalStore, Store};

fn open(dir: &std::path::Path, t: &Team) -> EvidenceArchive<LocalStore> {
    EvidenceArchive::open(LocalStore::new(dir.join("chain.jsonl")), t.identities.clone()).unwrap()
}

#[test]
fn sensitive_values_never_reach_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = sample_chain(dir.path(), &t);
    let raw = std::fs::read(store.path()).unwrap();
    let decoded: String = store.load().unwrap().iter().map(|r| payload_of(&r.bytes).to_string()).collect();
    assert!(decoded.contains("aws_s3_bucket.logs"), "plans are kept");
    assert!(decoded.contains("eu-west-2"), "non-sensitive values are kept");
    assert!(!decoded.contains(SECRET), "a sensitive value reached a payload");
    assert!(!String::from_utf8_lossy(&raw).contains(SECRET));
    let plan = payload_of(&store.load().unwrap()[0].bytes);
    let after = &plan["predicate"]["plan"]["resource_changes"][0]["change"]["after"];
    assert_eq!(after["config"]["db_pass"], "(redacted)", "after_sensitive mask");
    assert_eq!(after["master_password"], "(redacted)", "secret-like name");
    assert_eq!(after["config"]["size"], 3);
    assert!(plan["predicate"]["plan"].get("configuration").is_none());
    assert_eq!(plan["predicate"]["plan"]["variables"]["db_pass"]["value"], "(redacted)");
}

struct Refusal {
    name: &'static str,
    build: fn(&Team) -> (Kind, Fields, &lz_evidence::Signer),
    want: &'static str,
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        name: "approval by a deployer",
        build: |t| (Kind::Approval, ApprovalEvidence::new(&digest("r"), "prod", &digest("p"), "CHG-1").0, &t.deployer),
        want: "may not sign approval records",
    },
    Refusal {
        name: "break-glass by an approver",
        build: |t| (Kind::BreakGlass, BreakGlassEvidence::new(&digest("r"), "prod", "1", "INC-1", "x", "2026-01-01T00:00:00Z").0, &t.approver),
        want: "may not sign break-glass records",
    },
    Refusal {
        name: "unregistered signer",
        build: |t| (Kind::Drift, DriftEvidence::new(&digest("r"), "prod", "1", vec![]).0, &t.intruder),
        want: "not in the identities register",
    },
    Refusal {
        name: "deployment without a plan digest",
        build: |t| (Kind::Deployment, Fields::new(digest("r")).environment("prod"), &t.deployer),
        want: "needs a plan digest",
    },
    Refusal {
        name: "malformed release digest",
        build: |t| (Kind::Drift, DriftEvidence::new("abc", "prod", "1", vec![]).0, &t.deployer),
        want: "is not 64 lowercase hex digits",
    },
    Refusal {
        name: "break-glass without a reason",
        build: |t| (Kind::BreakGlass, Fields::new(digest("r")).environment("prod").ticket("INC-1"), &t.breakglass),
        want: "needs a ticket and a reason",
    },
    Refusal {
        name: "detail shadowing a common field",
        build: |t| (Kind::Drift, DriftEvidence::new(&digest("r"), "prod", "1", vec![]).0.details(lz_evidence::details::DriftDetails {
                other: [("identity".to_string(), serde_json::Value::from("alice"))].into_iter().collect(),
                ..Default::default()
            }), &t.deployer),
        want: "clashes with a common predicate field",
    },
];

#[test]
fn records_verification_would_reject_are_refused_at_append() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let mut a = open(dir.path(), &t);
    for r in REFUSALS {
        let (kind, fields, signer) = (r.build)(&t);
        let err = format!("{:#}", a.append(kind, fields, signer).expect_err(r.name));
        assert!(err.contains(r.want), "{}: {err}", r.name);
    }
    assert_eq!(a.next_sequence(), 0);
    assert!(!a.store().path().exists() || a.store().is_empty().unwrap());
}

#[test]
fn reopening_continues_the_chain_and_a_second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let release = digest("r1");
    let mut a = open(dir.path(), &t);
    let first = promote(&mut a, &t, &release, "CHG-1", &["aws_s3_bucket.a"]);
    assert_eq!(first, (0..8).collect::<Vec<_>>());
    let mut stale = open(dir.path(), &t);
    let mut b = open(dir.path(), &t);
    assert_eq!(b.next_sequence(), 8);
    assert_eq!(b.head_hash(), a.head_hash());
    let r = b.record(DriftEvidence::new(&release, "prod", "1", vec!["aws_s3_bucket.a".into()]), &t.deployer).unwrap();
    assert_eq!(r.sequence, 8);
    let err = stale.record(DriftEvidence::new(&release, "prod", "1", vec![]), &t.deployer).unwrap_err();
    assert!(format!("{err:#}").contains("chain head moved"), "{err:#}");
    let store = b.into_store();
    let report = verify(&store.load().unwrap(), store.checkpoint().unwrap().as_ref(), &t.identities).unwrap();
    assert!(report.ok(), "{:?}", report.failure);
    assert_eq!(report.records, 9);
}

#[test]
fn a_truncated_store_cannot_be_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = sample_chain(dir.path(), &t);
    let text = std::fs::read_to_string(store.path()).unwrap();
    let kept: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    std::fs::write(store.path(), kept).unwrap();
    let err = EvidenceArchive::open(LocalStore::new(store.path()), t.identities.clone()).err().expect("truncation");
    assert!(format!("{err:#}").contains("truncated"), "{err:#}");
}

#[test]
fn append_many_is_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let mut a = open(dir.path(), &t);
    let r = digest("r");
    let items: Vec<_> = (0..50)
        .map(|i| (Kind::Drift, DriftEvidence::new(&r, "prod", "1", vec![format!("x.y{i}")]).0, &t.deployer))
        .collect();
    let refs = a.append_many(items).unwrap();
    assert_eq!(refs.len(), 50);
    assert_eq!(refs[49].sequence, 49);
    let store = a.into_store();
    let cp = store.checkpoint().unwrap().unwrap();
    assert_eq!((cp.sequence, cp.hash.as_str()), (49, refs[49].hash.as_str()));
    assert!(verify(&store.load().unwrap(), Some(&cp), &t.identities).unwrap().ok());
}

fn two_releases(dir: &std::path::Path, t: &Team) -> (LocalStore, String, String) {
    let mut a = open(dir, t);
    let (r1, r2) = (digest("release-1"), digest("release-2"));
    let jan = time::macros::datetime!(2026-01-10 10:00 UTC);
    let plan = plan_json(&["aws_s3_bucket.logs"]);
    let pd = sha256_hex(&plan);
    a.record(PlanEvidence::from_bytes(&r1, "prod", "5", &plan).unwrap().with(|f| f.ticket("CHG-1").at(jan)), &t.deployer).unwrap();
    a.record(ApprovalEvidence::new(&r1, "prod", &pd, "CHG-1").with(|f| f.at(jan)), &t.approver).unwrap();
    a.record(DeploymentEvidence::new(&r1, "prod", "5", &pd, true, vec!["aws_s3_bucket.logs".into()]).with(|f| f.at(jan)), &t.deployer)
        .unwrap();
    promote(&mut a, t, &r2, "CHG-2", &["aws_s3_bucket.logs", "aws_kms_key.this"]);
    (a.into_store(), r1, r2)
}

#[test]
fn queries_answer_from_the_index_and_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let (store, r1, r2) = two_releases(dir.path(), &t);
    let index = Index::for_local(&store).unwrap();
    assert!(store.index_path().exists());
    let q = Query { index: &index, source: Source::Local(&store), range: TimeRange::default() };

    let history = q.resource("aws_s3_bucket.logs", "prod").unwrap();
    assert_eq!(history.iter().map(|h| h.release.as_str()).collect::<Vec<_>>(), [r1.as_str(), r2.as_str()]);
    let last = history.last().unwrap();
    assert_eq!(last.approvals.iter().map(|a| a.identity.as_str()).collect::<Vec<_>>(), ["alice"]);
    assert_eq!(last.deployment.as_ref().unwrap().identity, "deploy-bot");
    assert_eq!(last.plan.as_ref().unwrap().plan_digest, last.plan_digest);
    assert!(q.resource("aws_kms_key.this", "prod").unwrap().len() == 1);
    assert!(q.resource("aws_s3_bucket.logs", "uat").unwrap().is_empty());

    let custody = q.release(&r2[..10]).unwrap();
    assert_eq!(custody.release, r2);
    let envs: Vec<&str> = custody.environments.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(envs, ["dev", "prod"]);
    let prod = &custody.environments[1].1;
    assert_eq!((prod.plans.len(), prod.policy_evaluations.len(), prod.approvals.len(), prod.deployments.len()), (1, 1, 1, 1));
    assert_eq!(custody.tickets[0]["ticket"], "CHG-2");
    assert!(prod.plans[0].details.get("plan").is_none(), "summaries leave the plan copy out");

    assert_eq!(q.identity("alice").unwrap().len(), 3);
    let feb = time::macros::datetime!(2026-02-01 0:00 UTC);
    let q2 = Query { index: &index, source: Source::Local(&store), range: TimeRange { since: None, until: Some(feb) } };
    assert_eq!(q2.all().unwrap().len(), 3);
    assert_eq!(q2.resource("aws_s3_bucket.logs", "prod").unwrap().len(), 1);
    assert!(q.release("ffffffff").is_err());
}

#[test]
fn the_index_follows_appends_and_is_rebuilt_when_stale() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let (store, _, r2) = two_releases(dir.path(), &t);
    assert_eq!(Index::for_local(&store).unwrap().entries.len(), 11);
    let mut a = EvidenceArchive::open(LocalStore::new(store.path()), t.identities.clone()).unwrap();
    a.record(DriftEvidence::new(&r2, "prod", "5", vec!["aws_s3_bucket.new".into()]), &t.deployer).unwrap();
    let idx = Index::for_local(&store).unwrap();
    assert_eq!(idx.entries.len(), 12);
    assert_eq!(idx.entries[11].line, 12);
    assert!(idx.resources.contains_key("prod aws_s3_bucket.new"));
    // A corrupt or foreign index is ignored and rebuilt.
    std::fs::write(store.index_path(), b"{not json").unwrap();
    assert_eq!(Index::for_local(&store).unwrap().entries.len(), 12);
    let mut other = Index::for_local(&store).unwrap();
    other.head = digest("elsewhere");
    std::fs::write(store.index_path(), serde_json::to_vec(&other).unwrap()).unwrap();
    assert_eq!(Index::for_local(&store).unwrap().head, sha256_hex(&store.load().unwrap()[11].bytes));
}

/// The index finds a record by the resources its kind's typed details name, as the index of a
/// verified chain does: a key a kind does not have (a drift record's raw `resource`, kept as
/// signed in `Details::other`) puts no record in a resource's history.
#[test]
fn the_index_reads_resources_from_the_typed_details() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let (store, _, r2) = two_releases(dir.path(), &t);
    let mut a = EvidenceArchive::open(LocalStore::new(store.path()), t.identities.clone()).unwrap();
    let mut f = DriftEvidence::new(&r2, "prod", "5", vec!["aws_s3_bucket.drifted".into()]).into_fields().unwrap();
    f.raw_details_mut().insert("resource".into(), "aws_iam_role.admin".into());
    a.append(Kind::Drift, f, &t.deployer).unwrap();
    let idx = Index::for_local(&store).unwrap();
    assert!(idx.resources.contains_key("prod aws_s3_bucket.drifted"));
    assert!(!idx.resources.contains_key("prod aws_iam_role.admin"), "an untyped key names no resource");
    let verified = lz_evidence::verify_chain(&store.load().unwrap(), &lz_evidence::TrustRoot::register(t.identities.clone(), "test")).unwrap();
    assert_eq!(Index::from_verified(&verified).resources, idx.resources, "the same resources as the verified chain's index");
}

#[test]
fn bundles_verify_offline_and_expose_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let (store, _, r2) = two_releases(dir.path(), &t);
    let records = store.load().unwrap();
    let cp = store.checkpoint().unwrap().unwrap();
    let index = Index::from_records(&records).unwrap();
    let focus: Vec<u64> = index.entries.iter().filter(|e| e.release == r2).map(|e| e.sequence).collect();
    let header = BundleHeader {
        format: BUNDLE_FORMAT.into(),
        release: r2.clone(),
        exported: now_rfc3339(),
        checkpoint: cp,
        identities_sha256: sha256_hex(t.text.as_bytes()),
        identities: t.text.clone(),
        records: records.len(),
        focus,
        exporter: "alice".into(),
        witnessed: None,
    };
    let path = dir.path().join("bundle.jsonl");
    write_bundle(&path, &header, &records, &t.approver).unwrap();
    let b = read_bundle(&path).unwrap();
    assert_eq!(b.header.focus.len(), 8);
    assert_eq!(b.check_exporter(&t.identities), Ok("alice".to_string()));
    // The header is the exporter's: signed by another registered key, it says so.
    write_bundle(&path, &header, &records, &t.deployer).unwrap();
    assert!(read_bundle(&path).unwrap().check_exporter(&t.identities).unwrap_err().contains("signed by deploy-bot but names alice"));
    write_bundle(&path, &header, &records, &t.approver).unwrap();
    let report = verify(&b.records, Some(&b.header.checkpoint), &b.identities).unwrap();
    assert!(report.ok(), "{:?}", report.failure);

    // Drop the last record: the checkpoint in the header exposes it.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, lines[..lines.len() - 1].iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let b = read_bundle(&path).unwrap();
    let f = verify(&b.records, Some(&b.header.checkpoint), &b.identities).unwrap().failure.unwrap();
    assert_eq!(f.reason.code(), "truncated");

    // An edited identities snapshot no longer matches its digest.
    let swapped = BundleHeader { identities: t.text.replacen("deploy-bot", "deploy-bat", 1), ..header };
    write_bundle(&path, &swapped, &records, &t.approver).unwrap();
    assert!(format!("{:#}", read_bundle(&path).err().unwrap()).contains("identities snapshot"));
    // A header that is not signed (the v1 layout) is refused.
    let unsigned = text.lines().next().unwrap().len();
    std::fs::write(&path, format!("{}\n{}", serde_json::to_string(&swapped).unwrap(), &text[unsigned + 1..])).unwrap();
    assert!(format!("{:#}", read_bundle(&path).err().unwrap()).contains("not a signed bundle header"));
}

struct BadRegister {
    text: &'static str,
    want: &'static str,
}

const BAD_REGISTERS: &[BadRegister] = &[
    BadRegister { text: "[identity.a]\nname = \"A\"\nkind = \"robot\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"x\"\n", want: "ids.toml:3: identity a: kind" },
    BadRegister { text: "[identity.a]\nname = \"A\"\nkind = \"person\"\ngroup = \"platform\"\nroles = [\"deployer\", \"king\"]\npublic_key = \"x\"\n", want: "ids.toml:5: identity a: unknown role \"king\"" },
    BadRegister { text: "[identity.a]\nname = \"A\"\nkind = \"person\"\ngroup = \"finance\"\nroles = [\"deployer\"]\npublic_key = \"x\"\n", want: "ids.toml:4: identity a: group" },
    BadRegister { text: "[identity.a]\nname = \"A\"\nkind = \"person\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"not a key\"\n", want: "ids.toml:6: identity a: bad public_key" },
    BadRegister { text: "[identity.a]\nname = \"A\"\nkind = \"person\"\ngroup = \"platform\"\nroles = [\"deployer\"]\n", want: "ids.toml:1:1: missing field `public_key`" },
    BadRegister { text: "[identity.a\n", want: "ids.toml:1:" },
];

#[test]
fn bad_registers_name_file_and_line() {
    for b in BAD_REGISTERS {
        let err = format!("{:#}", Identities::parse(b.text, "ids.toml").unwrap_err());
        assert!(err.contains(b.want), "want {:?} in {err:?}", b.want);
    }
}

#[test]
fn the_committed_register_is_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ids = Identities::load(&root.join("governance/identities.toml")).unwrap();
    for kind in Kind::ALL {
        assert!(ids.iter().any(|i| i.may_sign(kind)), "nobody may sign {kind}");
    }
    for group in lz_evidence::identity::GROUPS {
        assert!(ids.iter().any(|i| i.group == group), "nobody in {group}");
    }
}

#[test]
fn keys_round_trip_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = lz_evidence::identity::generate_key();
    let path = dir.path().join("k");
    lz_evidence::identity::write_private_key(&path, &key).unwrap();
    assert!(lz_evidence::identity::write_private_key(&path, &key).is_err(), "never overwrites a key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let s = lz_evidence::Signer::from_file("x", &path).unwrap();
    assert_eq!(s.public_key(), lz_evidence::keys::PublicKey::from(key.verifying_key()));
}

/// Every record time is whole seconds. A decision stamped by the trusted clock in the same
/// second as the record before it is valid (not "back-dated"); one a second earlier is
/// refused, and verification agrees. A record without a trusted time takes the local clock,
/// never earlier than the last record (the chain's time does not run backwards).
#[test]
fn record_times_are_whole_seconds_and_the_same_second_is_not_back_dated() {
    let d = tempfile::tempdir().unwrap();
    let t = team();
    let mut a = open(d.path(), &t);
    let release = digest("r");
    // A local-clock record (as `evidence append` writes), then a decision in the same second.
    let first = a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let records = a.store().load().unwrap();
    let time_of = |bytes: &[u8]| -> String {
        let env: lz_evidence::dsse::Envelope = serde_json::from_slice(bytes).unwrap();
        let st: Statement = serde_json::from_slice(&env.payload_bytes().unwrap()).unwrap();
        st.predicate.time
    };
    let stamped = time_of(&records[first.sequence as usize].bytes);
    let second = parse_time(&stamped).unwrap();
    assert_eq!(second.nanosecond(), 0, "{stamped} has a fraction of a second");
    assert!(!stamped.contains('.'), "{stamped}");
    // (A trusted clock reads whole seconds; a finer time given by the caller is kept as given.)
    let same = ApprovalEvidence::new(&release, "prod", &digest("plan"), "CHG-1").with(|f| f.at(second + time::Duration::milliseconds(999)));
    let decision = a.record(same, &t.approver).unwrap_or_else(|e| panic!("a decision in the same second was refused: {e:#}"));
    // One second earlier is back-dated.
    let early = ApprovalEvidence::new(&release, "prod", &digest("plan"), "CHG-2").with(|f| f.at(second - time::Duration::seconds(1)));
    let err = a.record(early, &t.approver).unwrap_err();
    assert!(format!("{err:#}").contains("cannot be back-dated"), "{err:#}");
    // A trusted time ahead of this machine's clock, then a local-clock record: it takes the
    // trusted second, not an earlier local one.
    let ahead = second + time::Duration::minutes(5);
    a.record(ApprovalEvidence::new(&release, "prod", &digest("plan"), "CHG-3").with(|f| f.at(ahead)), &t.approver).unwrap();
    let local = a.record(DriftEvidence::new(&release, "prod", "5", vec![]), &t.deployer).unwrap();
    let records = a.store().load().unwrap();
    assert_eq!(parse_time(&time_of(&records[decision.sequence as usize].bytes)).unwrap(), second + time::Duration::milliseconds(999), "a trusted time is kept as given");
    assert_eq!(parse_time(&time_of(&records[local.sequence as usize].bytes)).unwrap(), ahead);
    let chain = lz_evidence::verify_chain(&records, &lz_evidence::TrustRoot::register(t.identities.clone(), "test")).unwrap();
    assert_eq!(chain.records.len(), 4);
}
