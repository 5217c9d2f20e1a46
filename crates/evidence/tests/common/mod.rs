#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use lz_evidence::dsse::{sha256_hex, Envelope};
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::*;
use lz_evidence::{EvidenceArchive, Identities, LocalStore, Signer, Store};
use serde_json::Value;

pub mod world;

pub struct Team {
    pub identities: Identities,
    pub text: String,
    pub deployer: Signer,
    pub approver: Signer,
    pub reviewer: Signer,
    pub breakglass: Signer,
    /// A second person of the security group (register changes need approvals besides the proposer's).
    pub approver2: Signer,
    /// A key nobody registered.
    pub intruder: Signer,
}

pub fn team() -> Team {
    let keys: Vec<_> = (0..6).map(|_| generate_key()).collect();
    let entry = |name: &str, kind: &str, group: &str, roles: &str, k: &ed25519_dalek::SigningKey| {
        format!(
            "[identity.{name}]\nname = \"{name}\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [{roles}]\npublic_key = \"{}\"\n\n",
            encode_public_key(&k.verifying_key())
        )
    };
    let text = [
        entry("deploy-bot", "workload", "platform", "\"deployer\"", &keys[0]),
        entry("alice", "person", "security", "\"approver\", \"reviewer\"", &keys[1]),
        entry("bob", "person", "platform", "\"author\", \"reviewer\"", &keys[2]),
        entry("oncall", "person", "operations", "\"break-glass\"", &keys[3]),
        entry("carol", "person", "security", "\"approver\"", &keys[5]),
    ]
    .concat();
    Team {
        identities: Identities::parse(&text, "identities.toml").unwrap(),
        text,
        deployer: Signer::new("deploy-bot", keys[0].clone()),
        approver: Signer::new("alice", keys[1].clone()),
        reviewer: Signer::new("bob", keys[2].clone()),
        breakglass: Signer::new("oncall", keys[3].clone()),
        approver2: Signer::new("carol", keys[5].clone()),
        intruder: Signer::new("mallory", keys[4].clone()),
    }
}

pub fn digest(tag: &str) -> String {
    sha256_hex(tag.as_bytes())
}

pub const SECRET: &str = "hunter2-do-not-store";

pub fn plan_json(addresses: &[&str]) -> Vec<u8> {
    let changes: Vec<Value> = addresses
        .iter()
        .map(|a| {
            serde_json::json!({
                "address": a, "mode": "managed", "type": a.rsplit('.').nth(1).unwrap_or("t"), "name": "this",
                "change": {
                    "actions": ["create"], "before": null,
                    "after": {"name": a, "master_password": SECRET, "config": {"db_pass": SECRET, "size": 3}},
                    "after_sensitive": {"config": {"db_pass": true}},
                    "after_unknown": {}
                }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "format_version": "1.2",
        "variables": {"db_pass": {"value": SECRET}, "region": {"value": "eu-west-2"}},
        "resource_changes": changes,
        "configuration": {"root_module": {"variables": {"db_pass": {"sensitive": true}}}}
    }))
    .unwrap()
}

/// A promotion of one release through dev and prod with every kind of record.
pub fn promote<S: Store>(a: &mut EvidenceArchive<S>, t: &Team, release: &str, ticket: &str, addresses: &[&str]) -> Vec<u64> {
    let plan = plan_json(addresses);
    let pd = sha256_hex(&plan);
    let resources: Vec<String> = addresses.iter().map(|s| s.to_string()).collect();
    let mut seqs = vec![];
    for (env, acct) in [("dev", "111111111111"), ("prod", "555555555555")] {
        let p = PlanEvidence::from_bytes(release, env, acct, &plan).unwrap().with(|f| f.ticket(ticket).reason("promotion"));
        seqs.push(a.record(p, &t.deployer).unwrap().sequence);
        seqs.push(
            a.record(PolicyEvaluationEvidence::new(release, env, &pd, &digest("policies"), true, vec![]), &t.deployer)
                .unwrap()
                .sequence,
        );
        seqs.push(a.record(ApprovalEvidence::new(release, env, &pd, ticket), &t.approver).unwrap().sequence);
        seqs.push(
            a.record(DeploymentEvidence::new(release, env, acct, &pd, true, resources.clone()), &t.deployer)
                .unwrap()
                .sequence,
        );
    }
    seqs
}

/// A store with a chain of every kind of record.
pub fn sample_chain(dir: &std::path::Path, t: &Team) -> LocalStore {
    let store = LocalStore::new(dir.join("chain.jsonl"));
    let mut a = EvidenceArchive::open(store, t.identities.clone()).unwrap();
    let release = digest("release-1");
    promote(&mut a, t, &release, "CHG-1", &["aws_s3_bucket.logs", "module.kms.aws_kms_key.this"]);
    a.record(ExceptionEvidence::new(&release, "EX-7", "s3_versioning", "aws_s3_bucket.logs", "2027-01-01", "CHG-1", "vendor limit"), &t.approver)
        .unwrap();
    a.record(DriftEvidence::new(&release, "prod", "555555555555", vec![]), &t.deployer).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let expires = format_time(now + time::Duration::hours(2));
    let bg = a
        .record(
            BreakGlassEvidence::new(&release, "prod", "555555555555", "INC-9", "trading outage", &expires).with(|f| f.at(now)),
            &t.breakglass,
        )
        .unwrap();
    a.record(RetrospectiveEvidence::new(&release, bg.sequence, "INC-9", "access revoked, no changes"), &t.reviewer).unwrap();
    // The kinds of the trust model, after the original eight (sequences 12..).
    let release2 = digest("release-2");
    a.record(ReleaseEvidence::new(&release2, &digest("manifest-2")), &t.reviewer).unwrap();
    let head = a.head_hash().to_string();
    a.record(CheckpointEvidence::new(a.next_sequence() - 1, &head), &t.deployer).unwrap();
    a.record(BreakGlassApprovalEvidence::new(&release, "prod", bg.sequence, "INC-9"), &t.approver).unwrap();
    a.record(GovernancePinEvidence::new(&release, "prod", &digest("governance"), &t.identities.fingerprint()), &t.approver).unwrap();
    a.record(RegisterChangeEvidence::new(&release2, &t.text, &t.identities.fingerprint()), &t.approver).unwrap();
    let created = format_time(now - time::Duration::hours(1));
    let until = format_time(now + time::Duration::days(30));
    a.record(ExceptionApprovalEvidence::new(&release, "EX-7", "bob", &created, &until), &t.approver).unwrap();
    // -- drift remediation (lane report) --
    a.record(
        DriftRemediationEvidence(
            lz_evidence::Fields::new(&release).environment("prod").account("555555555555").details(
                lz_evidence::details::DriftRemediationDetails {
                    drift_record: Some(6),
                    outcome: Some("remediated".into()),
                    ..Default::default()
                },
            ),
        ),
        &t.deployer,
    )
    .unwrap();
    // Secret rotation (issue 15): sequences 19 and 20.
    let consumers = vec!["orders-task".to_string()];
    a.record(RotationEvidence::new(&release, "dev", "lz-dev/orders/db-credentials", "v2", "rotated", consumers.clone()), &t.deployer)
        .unwrap();
    a.record(
        RotationVerificationEvidence::new(&release, "dev", "lz-dev/orders/db-credentials", "v2", "passed", consumers),
        &t.deployer,
    )
    .unwrap();
    // A second security approver's approval of the register proposal at 16 (one of the two
    // its quorum needs): sequence 21.
    a.record(RegisterApprovalEvidence::new(&release2, 16, &t.identities.fingerprint()), &t.approver2).unwrap();
    // Crash-safe promotion (issue 35): sequence 22.
    a.record(
        LockRecoveryEvidence::new(&release, "dev", "0a5e7c4b-8b1e-2d9c-1f0e-3b2a1c0d9e8f", "4242-1-0", serde_json::json!({"who": "ci@runner-7"})),
        &t.deployer,
    )
    .unwrap();
    // Approval classes (issue 31): a delegation and its revocation, sequences 23 and 24.
    let delegation = a
        .append(
            Kind::Delegation,
            lz_evidence::Fields::new(GENESIS).details(lz_evidence::details::DelegationDetails {
                delegator: "alice".into(),
                delegate: "carol".into(),
                class: "keys".into(),
                from: format_time(now - time::Duration::hours(1)),
                until: format_time(now + time::Duration::days(7)),
                ..Default::default()
            }),
            &t.approver,
        )
        .unwrap();
    a.append(
        Kind::DelegationRevocation,
        lz_evidence::Fields::new(GENESIS)
            .details(lz_evidence::details::DelegationRevocationDetails { delegation_sequence: delegation.sequence, ..Default::default() }),
        &t.approver,
    )
    .unwrap();
    // Staged module adoption (issue 32): release-1's authorship (25), its approval (26) and
    // deployment (27) in dev after it (an adoption rests only on what follows the authorship),
    // then an adoption under them: sequence 28.
    a.record(ReleaseEvidence::new(&release, &digest("manifest-1")), &t.reviewer).unwrap();
    let addresses = ["aws_s3_bucket.logs", "module.kms.aws_kms_key.this"];
    let pd = sha256_hex(&plan_json(&addresses));
    let approval = a.record(ApprovalEvidence::new(&release, "dev", &pd, "CHG-1"), &t.approver).unwrap().sequence;
    let resources = addresses.iter().map(|s| s.to_string()).collect();
    let deployment = a.record(DeploymentEvidence::new(&release, "dev", "111111111111", &pd, true, resources), &t.deployer).unwrap().sequence;
    a.append(
        Kind::Adoption,
        lz_evidence::Fields::new(&release).environment("dev").details(lz_evidence::details::AdoptionDetails {
            module: "trading-service".into(),
            service: "order-gateway".into(),
            from: "1.0.0".into(),
            to: "1.1.0".into(),
            wave: 1,
            approvals: vec![approval],
            deployment,
            ..Default::default()
        }),
        &t.deployer,
    )
    .unwrap();
    a.into_store()
}

/// Records of the sample chain.
pub const SAMPLE_LEN: usize = 29;

/// Decodes, edits and re-signs an envelope (an insider with a valid key).
pub fn resign(bytes: &[u8], signer: &Signer, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let env: Envelope = serde_json::from_slice(bytes).unwrap();
    let mut st: Value = serde_json::from_slice(&B64.decode(&env.payload).unwrap()).unwrap();
    edit(&mut st);
    Envelope::sign(&serde_json::to_vec(&st).unwrap(), &env.payload_type, signer).unwrap().to_canonical()
}

/// Edits the envelope JSON without re-signing.
pub fn edit_envelope(bytes: &[u8], edit: impl FnOnce(&mut Envelope)) -> Vec<u8> {
    let mut env: Envelope = serde_json::from_slice(bytes).unwrap();
    edit(&mut env);
    env.to_canonical()
}

pub fn payload_of(bytes: &[u8]) -> Value {
    let env: Envelope = serde_json::from_slice(bytes).unwrap();
    serde_json::from_slice(&B64.decode(&env.payload).unwrap()).unwrap()
}
pub mod relay;
