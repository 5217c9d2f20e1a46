//! The insider attacks of issue 10 on the evidence side, each refused with a clear reason:
//! at `append` where the archive can judge the record on its own, and always by verification.
//! The attacker holds ordinary registered keys and writes to the store directly.

mod common;

use std::collections::BTreeMap;

use common::digest;
use lz_evidence::dsse::sha256_hex;
use lz_evidence::identity::{encode_public_key, generate_key, Role};
use lz_evidence::record::*;
use lz_evidence::details::ApprovalDetails;
use lz_evidence::store::sign_checkpoint;
use lz_evidence::{
    failure_of, verify_chain, verify_chain_with, verify_store, Anchors, Checkpoint, EvidenceArchive, Identities, KnownCheckpoint,
    LocalStore, Signer, Store, StoredRecord, TrustRoot,
};
use time::{Duration, OffsetDateTime};

/// A register shaped like the repository's: people and workloads in four groups.
struct Crew {
    ids: Identities,
    text: String,
    signers: BTreeMap<&'static str, Signer>,
}

const MEMBERS: &[(&str, &str, &str, &[&str])] = &[
    ("deploy-bot", "workload", "platform", &["deployer"]),
    ("change-policy", "workload", "platform", &["approver"]),
    ("priya", "person", "platform", &["author", "reviewer"]),
    ("ivan", "person", "platform", &["author", "approver"]),
    ("grace", "person", "security", &["reviewer", "approver"]),
    ("omar", "person", "security", &["auditor"]),
    ("lena", "person", "operations", &["approver"]),
    ("sam", "person", "operations", &["reviewer", "break-glass"]),
    ("olga", "person", "operations", &["break-glass", "approver"]),
    ("mallory", "person", "platform", &["reviewer"]),
    // Two more people of the security group: a register change needs two approvals besides the proposer's.
    ("hugo", "person", "security", &["approver"]),
    ("ines", "person", "security", &["approver"]),
];

fn register_text(entries: &[(&str, &str, &str, Vec<String>, String)]) -> String {
    entries
        .iter()
        .map(|(name, kind, group, roles, key)| {
            let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
            format!(
                "[identity.{name}]\nname = \"{name}\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [{}]\npublic_key = \"{key}\"\n\n",
                roles.join(", ")
            )
        })
        .collect()
}

fn crew() -> Crew {
    let mut signers = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, kind, group, roles) in MEMBERS {
        let key = generate_key();
        entries.push((*name, *kind, *group, roles.iter().map(|r| r.to_string()).collect(), encode_public_key(&key.verifying_key())));
        signers.insert(*name, Signer::new(*name, key));
    }
    let text = register_text(&entries);
    Crew { ids: Identities::parse(&text, "identities.toml").unwrap(), text, signers }
}

impl Crew {
    fn s(&self, name: &str) -> &Signer {
        &self.signers[name]
    }

    /// The register text with `name`'s roles replaced.
    fn with_roles(&self, name: &str, roles: &[&str]) -> String {
        let mut out = String::new();
        for block in self.text.split("\n\n").filter(|b| !b.trim().is_empty()) {
            if block.starts_with(&format!("[identity.{name}]")) {
                let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
                let lines: Vec<String> = block
                    .lines()
                    .map(|l| if l.starts_with("roles = ") { format!("roles = [{}]", roles.join(", ")) } else { l.to_string() })
                    .collect();
                out.push_str(&lines.join("\n"));
            } else {
                out.push_str(block);
            }
            out.push_str("\n\n");
        }
        out
    }

    fn root(&self) -> TrustRoot {
        TrustRoot::register(self.ids.clone(), "identities.toml")
    }
}

fn rel() -> String {
    digest("release-under-attack")
}

fn plan_digest() -> String {
    sha256_hex(&common::plan_json(&["aws_s3_bucket.logs"]))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn later(minutes: i64) -> String {
    format_time(now() + Duration::minutes(minutes))
}

type Step = (Kind, Fields, &'static str);

fn plan() -> Step {
    let p = PlanEvidence::from_bytes(&rel(), "prod", "555555555555", &common::plan_json(&["aws_s3_bucket.logs"])).unwrap();
    (Kind::Plan, p.into_fields().unwrap(), "deploy-bot")
}

fn break_glass(by: &'static str) -> Step {
    (Kind::BreakGlass, BreakGlassEvidence::new(&rel(), "prod", "555555555555", "INC-1", "outage", &later(60)).0, by)
}

fn authorship(by: &'static str) -> Step {
    (Kind::Release, ReleaseEvidence::new(&rel(), &digest("manifest")).0, by)
}

struct Attack {
    name: &'static str,
    /// Legitimate records before the attack.
    setup: fn() -> Vec<Step>,
    /// The attacker's record (appended right after the setup, at sequence `setup().len()`).
    attack: fn(&Crew) -> Step,
    /// Text of the refusal at `append`, or `None` when only the chain can tell.
    refused_at_append: Option<&'static str>,
    /// Reason code of verification.
    code: &'static str,
}

const ATTACKS: &[Attack] = &[
    Attack {
        name: "a workload key gives a human approval",
        setup: || vec![plan()],
        attack: |_| (Kind::Approval, ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-1").0, "change-policy"),
        refused_at_append: Some("workloads never give human approvals"),
        code: "workload-approval",
    },
    Attack {
        name: "a person signs an approval marked automatic (as if the change policy approved)",
        setup: || vec![plan()],
        attack: |_| {
            let f = ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-1")
                .0
                .details(ApprovalDetails { decision: Some("approved".into()), auto: Some(true), ..Default::default() });
            (Kind::Approval, f, "lena")
        },
        refused_at_append: Some("only the change policy's workload approves by rule"),
        code: "person-auto-approval",
    },
    Attack {
        name: "an approver-less person approves a plan",
        setup: || vec![plan()],
        attack: |_| (Kind::Approval, ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-1").0, "mallory"),
        refused_at_append: Some("may not sign approval records"),
        code: "role",
    },
    Attack {
        name: "a policy evaluation signed by an approver",
        setup: || vec![plan()],
        attack: |_| {
            let f = PolicyEvaluationEvidence::new(&rel(), "prod", &plan_digest(), &digest("policies"), true, vec![]).0;
            (Kind::PolicyEvaluation, f, "lena")
        },
        refused_at_append: Some("may not sign policy-evaluation records"),
        code: "role",
    },
    Attack {
        name: "break-glass opened by anyone with a key",
        setup: Vec::new,
        attack: |_| break_glass("lena"),
        refused_at_append: Some("may not sign break-glass records"),
        code: "role",
    },
    Attack {
        name: "break-glass that expires in 2099",
        setup: Vec::new,
        attack: |_| (Kind::BreakGlass, BreakGlassEvidence::new(&rel(), "prod", "5", "INC-1", "outage", "2099-01-01T00:00:00Z").0, "sam"),
        refused_at_append: Some("at most 240 are allowed"),
        code: "break-glass-ttl",
    },
    Attack {
        name: "break-glass of 241 minutes",
        setup: Vec::new,
        attack: |_| {
            let t = now();
            let f = BreakGlassEvidence::new(&rel(), "prod", "5", "INC-1", "outage", &format_time(t + Duration::minutes(241))).0.at(t);
            (Kind::BreakGlass, f, "sam")
        },
        refused_at_append: Some("at most 240 are allowed"),
        code: "break-glass-ttl",
    },
    Attack {
        name: "break-glass approved by the person who opened it",
        setup: || vec![break_glass("olga")],
        attack: |_| (Kind::BreakGlassApproval, BreakGlassApprovalEvidence::new(&rel(), "prod", 0, "INC-1").0, "olga"),
        refused_at_append: None,
        code: "segregation-of-duties",
    },
    Attack {
        name: "break-glass approved by the release author",
        setup: || vec![authorship("ivan"), break_glass("sam")],
        attack: |_| (Kind::BreakGlassApproval, BreakGlassApprovalEvidence::new(&rel(), "prod", 1, "INC-1").0, "ivan"),
        refused_at_append: None,
        code: "segregation-of-duties",
    },
    Attack {
        name: "break-glass approved by a workload",
        setup: || vec![break_glass("sam")],
        attack: |_| (Kind::BreakGlassApproval, BreakGlassApprovalEvidence::new(&rel(), "prod", 0, "INC-1").0, "change-policy"),
        refused_at_append: Some("signed by a person"),
        code: "role",
    },
    Attack {
        name: "a deployment under break-glass nobody approved",
        setup: || vec![plan(), break_glass("sam")],
        attack: |_| {
            let f = lz_evidence::Fields::new(&rel()).environment("prod").account("5").plan_digest(plan_digest()).details(lz_evidence::details::DeploymentDetails {
                outcome: "succeeded".into(),
                resources: Some(vec![]),
                break_glass: Some(1),
                ..Default::default()
            });
            (Kind::Deployment, f, "deploy-bot")
        },
        refused_at_append: None,
        code: "break-glass-approval",
    },
    Attack {
        name: "the retrospective signed by the break-glass user",
        setup: || vec![break_glass("sam")],
        attack: |_| (Kind::Retrospective, RetrospectiveEvidence::new(&rel(), 0, "INC-1", "fine").0, "sam"),
        refused_at_append: None,
        code: "segregation-of-duties",
    },
    Attack {
        name: "the retrospective signed by the release author",
        setup: || vec![authorship("priya"), break_glass("sam")],
        attack: |_| (Kind::Retrospective, RetrospectiveEvidence::new(&rel(), 1, "INC-1", "fine").0, "priya"),
        refused_at_append: None,
        code: "segregation-of-duties",
    },
    Attack {
        name: "a record dated 2020 after records of today",
        setup: || vec![plan()],
        attack: |_| {
            let f = DriftEvidence::new(&rel(), "prod", "5", vec![]).0.at(time::macros::datetime!(2020-01-01 0:00 UTC));
            (Kind::Drift, f, "deploy-bot")
        },
        refused_at_append: Some("cannot be back-dated"),
        code: "time-backwards",
    },
    Attack {
        name: "an exception approved by its owner",
        setup: Vec::new,
        attack: |_| exception("grace", "grace", -60, 30),
        refused_at_append: Some("owns the exception and cannot approve it"),
        code: "segregation-of-duties",
    },
    Attack {
        name: "an exception owned by a name that is no identity",
        setup: Vec::new,
        attack: |_| exception("Priya Raman", "grace", -60, 30),
        refused_at_append: Some("is not a registered identity"),
        code: "detail",
    },
    Attack {
        name: "an exception created in 2035",
        setup: Vec::new,
        attack: |_| {
            let mut s = exception("priya", "grace", 0, 30);
            s.1.raw_details_mut().insert("created".into(), "2035-01-01".into());
            s
        },
        refused_at_append: Some("created <= approval time"),
        code: "detail",
    },
    Attack {
        name: "an exception valid for 91 days",
        setup: Vec::new,
        attack: |_| exception("priya", "grace", -60, 91),
        refused_at_append: Some("expires <= approval + 90 days"),
        code: "detail",
    },
    Attack {
        name: "an exception approved outside the security group",
        setup: Vec::new,
        attack: |_| exception("priya", "lena", -60, 30),
        refused_at_append: Some("of group security"),
        code: "role",
    },
    Attack {
        name: "an exception approved by a workload",
        setup: Vec::new,
        attack: |_| exception("priya", "change-policy", -60, 30),
        refused_at_append: Some("signed by a person"),
        code: "role",
    },
    Attack {
        name: "release authorship claimed by a workload",
        setup: Vec::new,
        attack: |_| authorship("deploy-bot"),
        refused_at_append: Some("may not sign release records"),
        code: "role",
    },
    Attack {
        name: "release authorship claimed by an approver",
        setup: Vec::new,
        attack: |_| authorship("grace"),
        refused_at_append: Some("may not sign release records"),
        code: "role",
    },
    Attack {
        name: "a governance pin signed outside the security group",
        setup: Vec::new,
        attack: |c| (Kind::GovernancePin, GovernancePinEvidence::new(&rel(), "prod", &digest("gov"), &c.ids.fingerprint()).0, "lena"),
        refused_at_append: Some("of group security"),
        code: "role",
    },
    Attack {
        name: "a register change signed by the platform",
        setup: Vec::new,
        attack: |c| (Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &c.with_roles("mallory", &["approver"]), &c.ids.fingerprint()).0, "priya"),
        refused_at_append: Some("may not sign register-change records"),
        code: "role",
    },
    Attack {
        name: "a register change that does not replace the register in force",
        setup: || vec![plan()],
        attack: |c| (Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &c.with_roles("mallory", &["approver"]), &digest("old")).0, "grace"),
        refused_at_append: None,
        code: "register-change",
    },
    Attack {
        name: "a checkpoint record with a wrong hash",
        setup: || vec![plan()],
        attack: |_| (Kind::Checkpoint, CheckpointEvidence::new(0, &digest("not the record")).0, "deploy-bot"),
        refused_at_append: None,
        code: "checkpoint-record",
    },
];

fn exception(owner: &str, by: &'static str, created_minutes: i64, valid_days: i64) -> Step {
    let t = now();
    let f = ExceptionApprovalEvidence::new(
        &rel(),
        "EX-1",
        owner,
        &format_time(t + Duration::minutes(created_minutes)),
        &format_time(t + Duration::days(valid_days)),
    )
    .0
    .at(t);
    (Kind::ExceptionApproval, f, by)
}

fn append(a: &mut EvidenceArchive<LocalStore>, c: &Crew, step: Step) -> anyhow::Result<RecordRefAlias> {
    a.append(step.0, step.1, c.s(step.2))
}

type RecordRefAlias = lz_evidence::RecordRef;

/// A chain at `path` holding the records `attack` starts from.
fn set_up(c: &Crew, attack: &Attack, path: &std::path::Path) -> EvidenceArchive<LocalStore> {
    let mut a = EvidenceArchive::open(LocalStore::new(path), c.ids.clone()).unwrap();
    for step in (attack.setup)() {
        append(&mut a, c, step).unwrap_or_else(|e| panic!("{}: setup refused: {e:#}", attack.name));
    }
    a
}

#[test]
fn every_evidence_attack_is_refused_with_its_reason() {
    let c = crew();
    let mut problems = Vec::new();
    for (i, attack) in ATTACKS.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("attack-{i}.jsonl"));
        let mut a = set_up(&c, attack, &path);
        let at = a.next_sequence();
        // The archive, where it can judge the record alone, refuses to sign it.
        let refused = append(&mut a, &c, (attack.attack)(&c));
        match (attack.refused_at_append, &refused) {
            (Some(want), Err(e)) => {
                let msg = format!("{e:#}");
                if !msg.contains(want) || e.downcast_ref::<lz_evidence::Refused>().is_none() {
                    problems.push(format!("{}: append refusal {msg:?} lacks {want:?} or is not a refusal", attack.name));
                }
            }
            (Some(_), Ok(_)) => problems.push(format!("{}: append accepted the record", attack.name)),
            (None, Err(e)) => problems.push(format!("{}: append refused ({e:#}) where only the chain can tell", attack.name)),
            (None, Ok(_)) => {}
        }
        // The insider writes it anyway; verification rejects it at that record.
        if refused.is_err() {
            let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(&path)).unwrap();
            let (kind, fields, by) = (attack.attack)(&c);
            raw.append(kind, fields, c.s(by)).unwrap();
        }
        let store = LocalStore::new(&path);
        let err = match verify_store(&store, &c.root(), &[]) {
            Ok(_) => {
                problems.push(format!("{}: verification passed", attack.name));
                continue;
            }
            Err(e) => e,
        };
        match failure_of(&err) {
            Some(f) if f.reason.code() == attack.code && f.sequence == Some(at) => {}
            Some(f) => problems.push(format!("{}: got [{}] at {:?} ({f}), want [{}] at {at}", attack.name, f.reason.code(), f.sequence, attack.code)),
            None => problems.push(format!("{}: not a verification failure: {err:#}", attack.name)),
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Issue 23: appends cannot brick. An archive opened on the verified chain
/// (`EvidenceArchive::open_verified`, as the CLI and every decision command open it) refuses
/// every attack above before writing it, those only the chain can tell included, with the reason
/// verification would give (the verifier's own rules); the store still verifies, unchanged.
#[test]
fn every_evidence_attack_is_refused_at_append_on_the_verified_chain() {
    let c = crew();
    let mut problems = Vec::new();
    for (i, attack) in ATTACKS.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("attack-{i}.jsonl"));
        set_up(&c, attack, &path);
        let chain = verify_store(&LocalStore::new(&path), &c.root(), &[]).unwrap();
        let before = chain.records.len();
        let mut v = EvidenceArchive::open_verified(LocalStore::new(&path), &chain).unwrap();
        match append(&mut v, &c, (attack.attack)(&c)) {
            Ok(r) => problems.push(format!("{}: appended as record {}", attack.name, r.sequence)),
            Err(e) if e.downcast_ref::<lz_evidence::Refused>().is_none() => problems.push(format!("{}: not a refusal: {e:#}", attack.name)),
            Err(e) if attack.refused_at_append.is_none() && !format!("{e:#}").contains("that verification would reject") => {
                problems.push(format!("{}: refused without the verifier's reason: {e:#}", attack.name))
            }
            Err(_) => {}
        }
        match verify_store(&LocalStore::new(&path), &c.root(), &[]) {
            Ok(after) if after.records.len() == before => {}
            Ok(after) => problems.push(format!("{}: {} records, {before} before", attack.name, after.records.len())),
            Err(e) => problems.push(format!("{}: the store no longer verifies: {e:#}", attack.name)),
        }
    }
    // A record from the future (2099): every honest record after it would be back-dated. Both
    // archives refuse it; one within the stated skew of this machine's clock is accepted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.jsonl");
    let mut a = EvidenceArchive::open(LocalStore::new(&path), c.ids.clone()).unwrap();
    append(&mut a, &c, plan()).unwrap();
    let future = |t: OffsetDateTime| (Kind::Drift, DriftEvidence::new(&rel(), "prod", "5", vec![]).0.at(t), "deploy-bot");
    let chain = verify_store(&LocalStore::new(&path), &c.root(), &[]).unwrap();
    let mut v = EvidenceArchive::open_verified(LocalStore::new(&path), &chain).unwrap();
    for e in [append(&mut a, &c, future(time::macros::datetime!(2099-01-01 0:00 UTC))), append(&mut v, &c, future(time::macros::datetime!(2099-01-01 0:00 UTC)))] {
        match e {
            Err(e) if format!("{e:#}").contains("refusing a drift record dated 2099-01-01T00:00:00Z: after this machine's clock") => {}
            other => problems.push(format!("a record dated 2099: {other:?}")),
        }
    }
    let soon = OffsetDateTime::now_utc() + Duration::seconds(lz_evidence::archive::MAX_CLOCK_SKEW_SECONDS - 60);
    if let Err(e) = append(&mut v, &c, future(soon)) {
        problems.push(format!("a record within the skew: {e:#}"));
    }
    // A verified chain the store has moved past is HeadMoved: verify again before appending.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moved.jsonl");
    let mut a = EvidenceArchive::open(LocalStore::new(&path), c.ids.clone()).unwrap();
    append(&mut a, &c, plan()).unwrap();
    let chain = verify_store(&LocalStore::new(&path), &c.root(), &[]).unwrap();
    append(&mut a, &c, plan()).unwrap();
    let e = EvidenceArchive::open_verified(LocalStore::new(&path), &chain).err().expect("the store moved");
    if e.downcast_ref::<lz_evidence::HeadMoved>().is_none() {
        problems.push(format!("a moved store: not HeadMoved: {e:#}"));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_legitimate_break_glass_path_verifies() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("c.jsonl")), c.ids.clone()).unwrap();
    append(&mut a, &c, authorship("priya")).unwrap();
    append(&mut a, &c, plan()).unwrap();
    let bg = append(&mut a, &c, break_glass("sam")).unwrap().sequence;
    append(&mut a, &c, (Kind::BreakGlassApproval, BreakGlassApprovalEvidence::new(&rel(), "prod", bg, "INC-1").0, "lena")).unwrap();
    let f = lz_evidence::Fields::new(&rel()).environment("prod").account("5").plan_digest(plan_digest()).details(lz_evidence::details::DeploymentDetails {
                outcome: "succeeded".into(),
                resources: Some(vec![]),
                break_glass: Some(bg),
                ..Default::default()
            });
    append(&mut a, &c, (Kind::Deployment, f, "deploy-bot")).unwrap();
    append(&mut a, &c, (Kind::Retrospective, RetrospectiveEvidence::new(&rel(), bg, "INC-1", "reviewed").0, "grace")).unwrap();
    append(&mut a, &c, exception("priya", "grace", -60, 90)).unwrap();
    let chain = verify_store(a.store(), &c.root(), &[]).unwrap();
    assert_eq!(chain.records.len(), 7);
    assert_eq!(chain.author_of(&rel()).unwrap().signer.name, "priya");
    assert!(chain.records.iter().all(|r| r.signer.may_sign(r.kind)));
}

/// Records by `mallory` before and after a register change granting her the approver role.
fn grant_chain(c: &Crew, dir: &std::path::Path) -> (LocalStore, String) {
    let path = dir.join("grant.jsonl");
    let mut raw = EvidenceArchive::open_unchecked(LocalStore::new(&path)).unwrap();
    raw.append(plan().0, plan().1, c.s("deploy-bot")).unwrap();
    let approval = || ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-1").0;
    raw.append(Kind::Approval, approval(), c.s("mallory")).unwrap();
    let granted = c.with_roles("mallory", &["reviewer", "approver"]);
    raw.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &granted, &c.ids.fingerprint()).0, c.s("grace")).unwrap();
    let fp = sha256_hex(granted.as_bytes());
    for who in ["hugo", "ines"] {
        raw.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), 2, &fp).0, c.s(who)).unwrap();
    }
    raw.append(Kind::Approval, approval(), c.s("mallory")).unwrap();
    (raw.into_store(), granted)
}

#[test]
fn a_later_role_grant_never_validates_earlier_records() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let (store, granted) = grant_chain(&c, dir.path());
    // Judged by the register of its place, mallory's first approval is rejected.
    let err = verify_store(&store, &c.root(), &[]).unwrap_err();
    let f = failure_of(&err).unwrap();
    assert_eq!((f.reason.code(), f.sequence), ("role", Some(1)), "{f}");
    assert!(f.to_string().contains("as registered at this place in the chain"), "{f}");
    // Supplying the later register as the trust root does not help: the register change says
    // which register it replaced.
    let later = TrustRoot::register(Identities::parse(&granted, "later identities.toml").unwrap(), "later identities.toml");
    let err = verify_store(&store, &later, &[]).unwrap_err();
    let f = failure_of(&err).unwrap();
    assert_eq!((f.reason.code(), f.sequence), ("register-change", Some(2)), "{f}");
}

#[test]
fn roles_are_reported_as_of_each_record() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoke.jsonl");
    let mut a = EvidenceArchive::open(LocalStore::new(&path), c.ids.clone()).unwrap();
    append(&mut a, &c, plan()).unwrap();
    a.append(Kind::Approval, ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-1").0, c.s("lena")).unwrap();
    let revoked = c.with_roles("lena", &["reviewer"]);
    a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &revoked, &c.ids.fingerprint()).0, c.s("grace")).unwrap();
    for who in ["hugo", "ines"] {
        a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), 2, &sha256_hex(revoked.as_bytes())).0, c.s(who)).unwrap();
    }
    // Reopened, the archive judges with the register now in force.
    let register = verify_store(a.store(), &c.root(), &[]).unwrap().register;
    let mut a = EvidenceArchive::open(a.into_store(), register).unwrap();
    let err = a.append(Kind::Approval, ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-2").0, c.s("lena")).unwrap_err();
    assert!(format!("{err:#}").contains("may not sign approval records"), "{err:#}");
    let chain = verify_store(a.store(), &c.root(), &[]).unwrap();
    let lena = &chain.records[1].signer;
    assert!(lena.has_role(Role::Approver), "the approval keeps the roles lena had when she signed");
    assert!(!chain.register.get("lena").unwrap().has_role(Role::Approver));
}

#[test]
fn a_chain_with_its_own_register_is_anchored_only_by_the_verifier() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("genesis.jsonl");
    let mut a = EvidenceArchive::open(LocalStore::new(&path), c.ids.clone()).unwrap();
    a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &c.text, GENESIS).0, c.s("grace")).unwrap();
    append(&mut a, &c, plan()).unwrap();
    let records = a.store().load().unwrap();
    let grace = c.ids.get("grace").unwrap().keyid.clone();
    // Pinned by the security signer's key, by the register's fingerprint, or by the register itself.
    for root in [TrustRoot::pinned([&grace]).unwrap(), TrustRoot::pinned([c.ids.fingerprint()]).unwrap(), c.root()] {
        verify_chain(&records, &root).unwrap_or_else(|e| panic!("{}: {e:#}", root.describe()));
    }
    // A stranger's register or pin vouches for nothing.
    let stranger = crew();
    for root in [stranger.root(), TrustRoot::pinned([digest("someone")]).unwrap()] {
        let err = verify_chain(&records, &root).unwrap_err();
        assert_eq!(failure_of(&err).unwrap().reason.code(), "untrusted", "{err:#}");
    }
    assert_eq!(failure_of(&verify_chain(&records, &TrustRoot::default()).unwrap_err()).map(|f| f.reason.code()), Some("untrusted"));
}

#[test]
fn without_a_trust_root_nothing_verifies() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("c.jsonl")), c.ids.clone()).unwrap();
    append(&mut a, &c, plan()).unwrap();
    let records = a.store().load().unwrap();
    let err = verify_chain(&records, &TrustRoot::default()).unwrap_err();
    let f = failure_of(&err).unwrap();
    assert_eq!(f.reason.code(), "no-trust-root");
    assert!(f.to_string().contains("no trust root"), "{f}");
    // A bundle's own (forged) register is not a trust root, even when it lists the signers...
    let forged = TrustRoot::pinned([digest("unrelated")]).unwrap().with_snapshot(c.ids.clone());
    assert_eq!(failure_of(&verify_chain(&records, &forged).unwrap_err()).unwrap().reason.code(), "no-trust-root");
    // ...unless the verifier pinned exactly that register.
    let pinned = TrustRoot::pinned([c.ids.fingerprint()]).unwrap().with_snapshot(c.ids.clone());
    verify_chain(&records, &pinned).unwrap();
    // Records signed by an attacker's register fail against the verifier's.
    let attacker = crew();
    let mut b = EvidenceArchive::open(LocalStore::new(dir.path().join("forged.jsonl")), attacker.ids.clone()).unwrap();
    append(&mut b, &attacker, plan()).unwrap();
    let err = verify_chain(&b.store().load().unwrap(), &c.root()).unwrap_err();
    assert_eq!(failure_of(&err).unwrap().reason.code(), "unknown-key");
}

fn three_drifts(c: &Crew, dir: &std::path::Path) -> LocalStore {
    let mut a = EvidenceArchive::open(LocalStore::new(dir.join("chain.jsonl")), c.ids.clone()).unwrap();
    for i in 0..3 {
        a.append(Kind::Drift, DriftEvidence::new(&rel(), "prod", "5", vec![format!("x.y{i}")]).0, c.s("deploy-bot")).unwrap();
    }
    a.into_store()
}

fn keep_lines(store: &LocalStore, n: usize) {
    let text = std::fs::read_to_string(store.path()).unwrap();
    std::fs::write(store.path(), text.lines().take(n).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

#[test]
fn an_unsigned_or_rewritten_head_does_not_hide_truncation() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let store = three_drifts(&c, dir.path());
    let verified = verify_store(&store, &c.root(), &[]).unwrap();
    let cached = KnownCheckpoint {
        checkpoint: Checkpoint { sequence: 2, hash: verified.head.clone().unwrap().1, time: String::new() },
        source: "cache".into(),
    };
    let records = store.load().unwrap();
    keep_lines(&store, 1);
    // The old-style unsigned head naming the new last record is not trusted.
    let cp = Checkpoint { sequence: 0, hash: sha256_hex(&records[0].bytes), time: now_rfc3339() };
    std::fs::write(store.checkpoint_path(), serde_json::to_vec(&cp).unwrap()).unwrap();
    let f = failure_of(&verify_store(&store, &c.root(), &[]).unwrap_err()).cloned().unwrap();
    assert_eq!(f.reason.code(), "unsigned-head", "{f}");
    // A head re-signed by a stranger's key is not trusted either.
    std::fs::write(store.checkpoint_path(), sign_checkpoint(&cp, crew().s("deploy-bot")).unwrap()).unwrap();
    let f = failure_of(&verify_store(&store, &c.root(), &[]).unwrap_err()).cloned().unwrap();
    assert_eq!(f.reason.code(), "head-signature", "{f}");
    // An insider re-signs it with a registered key: a checkpoint remembered from an earlier
    // verification still exposes the truncation.
    std::fs::write(store.checkpoint_path(), sign_checkpoint(&cp, c.s("deploy-bot")).unwrap()).unwrap();
    verify_store(&store, &c.root(), &[]).expect("without memory the store alone cannot tell");
    let f = failure_of(&verify_store(&store, &c.root(), std::slice::from_ref(&cached)).unwrap_err()).cloned().unwrap();
    assert_eq!((f.reason.code(), f.sequence), ("truncated", Some(2)), "{f}");
}

#[test]
fn a_deleted_chain_is_not_an_empty_one() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let store = three_drifts(&c, dir.path());
    let head = verify_store(&store, &c.root(), &[]).unwrap().head.unwrap();
    std::fs::remove_file(store.path()).unwrap();
    // The head survives: it names a record that is gone.
    let f = failure_of(&verify_store(&store, &c.root(), &[]).unwrap_err()).cloned().unwrap();
    assert_eq!(f.reason.code(), "truncated", "{f}");
    assert!(f.to_string().contains("the chain was deleted"), "{f}");
    // Head deleted too: a checkpoint the verifier knows still does.
    std::fs::remove_file(store.checkpoint_path()).unwrap();
    let known = KnownCheckpoint { checkpoint: Checkpoint { sequence: head.0, hash: head.1, time: String::new() }, source: "cache".into() };
    let f = failure_of(&verify_store(&store, &c.root(), &[known]).unwrap_err()).cloned().unwrap();
    assert_eq!(f.reason.code(), "truncated", "{f}");
}

#[test]
fn store_problems_and_earlier_heads_fail_the_chain() {
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let store = three_drifts(&c, dir.path());
    let records = store.load().unwrap();
    let old_head = store.head().unwrap().unwrap();
    // An earlier head version (as S3 keeps) names a record the chain no longer has.
    let anchors = Anchors { earlier_heads: vec![old_head], ..Default::default() };
    let err = verify_chain_with(&records[..2], &c.root(), &anchors).unwrap_err();
    assert_eq!(failure_of(&err).unwrap().reason.code(), "truncated");
    let anchors = Anchors { problems: vec![("s3://b/records/000000000002.json".into(), "delete marker".into())], ..Default::default() };
    let err = verify_chain_with(&records, &c.root(), &anchors).unwrap_err();
    assert_eq!(failure_of(&err).unwrap().reason.code(), "store-integrity");
}

/// The identity point as a public key: with it, (R = identity, s = 0) is a "signature" of any
/// message under the permissive check.
const IDENTITY_POINT: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};

#[test]
fn weak_keys_are_refused_at_registration_and_forge_nothing() {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode(IDENTITY_POINT);
    let text = format!("[identity.ghost]\nname = \"Ghost\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = \"{key}\"\n");
    let err = format!("{:#}", Identities::parse(&text, "identities.toml").unwrap_err());
    assert!(err.contains("identities.toml:6") && err.contains("weak"), "{err}");
    // Why: the permissive check accepts a forged signature, the strict one does not.
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&IDENTITY_POINT).unwrap();
    let mut forged = [0u8; 64];
    forged[0] = 1;
    let sig = ed25519_dalek::Signature::from_bytes(&forged);
    use ed25519_dalek::Verifier as _;
    assert!(vk.verify(b"any approval", &sig).is_ok(), "the permissive check accepts the forgery");
    assert!(vk.verify_strict(b"any approval", &sig).is_err());
    // Every small-order point is refused, in hex as well.
    let small_order_hex = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa";
    assert!(lz_evidence::identity::parse_public_key(small_order_hex).is_err());
}

#[test]
fn records_keep_to_stored_bytes_even_when_decoded() {
    // verify_chain returns what was verified: the statement of each record and its hash.
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let store = three_drifts(&c, dir.path());
    let records: Vec<StoredRecord> = store.load().unwrap();
    let chain = verify_chain(&records, &c.root()).unwrap();
    for (r, v) in records.iter().zip(&chain.records) {
        assert_eq!(sha256_hex(&r.bytes), v.hash);
        assert_eq!(v.statement.predicate.identity, "deploy-bot");
        assert!(!v.signer.is_person());
    }
}

/// A key that a register change adds signs the records of later windows. Workers that have not
/// seen the change yet leave those signatures to the sequential pass, which checks them with
/// the key of the register in force; a bad signature among them is named exactly as checking
/// one record after another names it.
#[test]
fn a_key_added_mid_chain_verifies_across_windows() {
    use lz_evidence::verify::{report_of_store, report_with, Strategy};
    let c = crew();
    let dir = tempfile::tempdir().unwrap();
    let key = generate_key();
    let added = format!(
        "{}\n\n[identity.night-bot]\nname = \"Night pipeline\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n",
        c.text.trim_end(),
        encode_public_key(&key.verifying_key())
    );
    let night = Signer::new("night-bot", key);
    let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("added.jsonl")), c.ids.clone()).unwrap();
    a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &added, &c.ids.fingerprint()).0, c.s("grace")).unwrap();
    for who in ["hugo", "ines"] {
        a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), 0, &sha256_hex(added.as_bytes())).0, c.s(who)).unwrap();
    }
    let register = verify_store(a.store(), &c.root(), &[]).unwrap().register;
    let mut a = EvidenceArchive::open(a.into_store(), register).unwrap();
    let items = (0..6000).map(|i| (Kind::Drift, DriftEvidence::new(&rel(), "prod", "5", vec![format!("x.y{i}")]).0, &night)).collect();
    a.append_many(items).unwrap();
    let store = a.into_store();
    let windows = store.windows().unwrap().count();
    assert!(windows >= 4, "the chain spans {windows} windows");
    let chain = verify_store(&store, &c.root(), &[]).unwrap();
    assert_eq!(chain.records.len(), 6003);
    assert!(chain.records[3..].iter().all(|r| r.signer.name == "night-bot"));

    // The payload of record 5,000 altered, its signature kept.
    let mut records = store.load().unwrap();
    let mut env: lz_evidence::dsse::Envelope = serde_json::from_slice(&records[5000].bytes).unwrap();
    let mid = env.payload.len() / 2;
    let swap = if env.payload.as_bytes()[mid] == b'A' { "B" } else { "A" };
    env.payload.replace_range(mid..mid + 1, swap);
    records[5000].bytes = env.to_canonical().into();
    let file = LocalStore::new(dir.path().join("tampered.jsonl"));
    std::fs::write(file.path(), records.iter().flat_map(|r| [&r.bytes[..], b"\n"].concat()).collect::<Vec<u8>>()).unwrap();
    let anchors = Anchors::default();
    let loaded = file.load().unwrap();
    let sequential = report_with(&loaded, &c.root(), &anchors, Strategy::sequential()).unwrap().failure.unwrap();
    assert!(sequential.location.ends_with("tampered.jsonl:5001") && sequential.reason.code() == "signature", "{sequential}");
    for strategy in [Strategy::default(), Strategy { batch: true, parallel: false, ..Strategy::default() }] {
        let streamed = report_of_store(&file, &c.root(), &anchors, strategy).unwrap().failure.unwrap();
        assert_eq!((&streamed.location, &streamed.reason), (&sequential.location, &sequential.reason), "{strategy:?}");
    }
}
