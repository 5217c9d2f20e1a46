//! The gate's rotation checks, offline: a secret overdue in the verified evidence cache fails
//! the gate, a secret rotated within its maximum age does not, an environment with no rotation
//! evidence is not judged, and a secret without a policy entry is a finding. The chain is a
//! sandbox's (test identities), written where `cargo xtask evidence pull` keeps its cache.

mod common;

use std::path::Path;

use lz_evidence::details::{Details, RotationDetails};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_promote::ledger::{EvidenceAt, Ledger};
use lz_promote::rotation;
use lz_promote::sandbox::Sandbox;
use time::{Duration, OffsetDateTime};

use common::root;

fn now() -> OffsetDateTime {
    OffsetDateTime::parse(
        "2026-12-01T12:00:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

/// (environment, secret, days before now of its last verified rotation, outcome)
const ROTATIONS: &[(&str, &str, i64, &str)] = &[
    (
        "dev",
        "lz-dev/matching-engine/fix-session-credentials",
        31,
        "passed",
    ),
    ("dev", "lz-dev/market-data/feed-api-key", 25, "passed"),
    ("dev", "lz-dev/order-gateway/tls-certificate", 20, "passed"),
    ("dev", "lz-dev/position-store/db-credentials", 29, "passed"),
    // A failed verification is no rotation: risk-engine's secret stays never rotated.
    ("dev", "lz-dev/risk-engine/db-credentials", 2, "failed"),
];

/// (secret, overdue?) in dev at `now()`
const EXPECTED: &[(&str, bool)] = &[
    ("lz-dev/market-data/feed-api-key", false),
    ("lz-dev/matching-engine/fix-session-credentials", true),
    ("lz-dev/order-gateway/tls-certificate", false),
    ("lz-dev/position-store/db-credentials", false),
    ("lz-dev/risk-engine/db-credentials", true),
];

fn sandbox() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::Builder::new()
        .prefix("lz-rotation-gate-")
        .tempdir()
        .unwrap();
    let sb = Sandbox::new(&root(), "http://127.0.0.1:4566", dir.path()).unwrap();
    (dir, sb)
}

fn record_rotations(sb: &Sandbox) {
    let cache = lz_promote::stores::evidence_cache(&sb.tree);
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    sb.start_chain_at(&EvidenceAt::Local(cache.clone())).unwrap();
    let ledger = Ledger::open(&sb.paths.trust, &EvidenceAt::Local(cache)).unwrap();
    let mut rows = ROTATIONS.to_vec();
    rows.sort_by_key(|r| -r.2);
    for (env, secret, days, outcome) in rows {
        let f = Fields::new(GENESIS)
            .environment(env)
            .at(now() - Duration::days(days))
            .details(Details::RotationVerification(RotationDetails {
                resource: secret.into(),
                version: format!("v-{days}"),
                outcome: outcome.into(),
                consumers: vec!["x-task".into()],
                ..Default::default()
            }));
        ledger
            .append(Kind::RotationVerification, f, sb.signer("deployer-bot"))
            .unwrap();
    }
}

fn plans(tree: &Path) -> Vec<(String, serde_json::Value)> {
    ["dev", "test"]
        .iter()
        .map(|e| {
            (
                e.to_string(),
                lz_promote::release::render_env(tree, e).unwrap(),
            )
        })
        .collect()
}

#[test]
fn an_overdue_secret_fails_the_gate_and_one_within_its_maximum_age_does_not() {
    let (_d, sb) = sandbox();
    record_rotations(&sb);
    let plans = plans(&sb.tree);
    let findings = rotation::gate_findings(&sb.tree, &plans, now()).unwrap();
    for (secret, overdue) in EXPECTED {
        assert_eq!(
            findings.mentions(&format!("dev: {secret} ")),
            *overdue,
            "{secret}: {findings:?}"
        );
    }
    assert!(findings.mentions("lz-dev/matching-engine/fix-session-credentials is overdue: last verified rotation 2026-10-31T12:00:00Z"), "{findings:?}");
    assert!(
        findings.mentions("lz-dev/risk-engine/db-credentials has no verified rotation"),
        "{findings:?}"
    );
    // test has no rotation evidence at all: not judged yet.
    assert!(!findings.mentions("test: "), "{findings:?}");
    assert_eq!(
        findings.len(),
        EXPECTED.iter().filter(|e| e.1).count(),
        "{findings:?}"
    );
    // The status rows agree, with due dates from the policy's maximum ages.
    let ledger = Ledger::open(&sb.paths.trust, &EvidenceAt::Local(lz_promote::stores::evidence_cache(&sb.tree))).unwrap();
    let policy = rotation::Policy::load(&sb.tree).unwrap();
    let secrets =
        rotation::secrets_of_plan(&plans[0].1, &policy, "111111111111", "eu-west-2").unwrap();
    let rows = rotation::status(&ledger.records().unwrap(), "dev", &secrets, now());
    let feed = rows
        .iter()
        .find(|r| r.secret == "lz-dev/market-data/feed-api-key")
        .unwrap();
    // The policy allows 60 days for a confidential feed key; the module's schedule (30) is shorter.
    assert_eq!(
        (feed.max_age_days, feed.due.as_deref()),
        (30, Some("2026-12-06T12:00:00Z"))
    );
    // 30 days later it is overdue.
    let later = rotation::gate_findings(&sb.tree, &plans, now() + Duration::days(30)).unwrap();
    assert!(
        later.mentions("dev: lz-dev/market-data/feed-api-key is overdue"),
        "{later:?}"
    );
}

#[test]
fn a_secret_without_a_policy_entry_is_a_finding_and_a_malformed_policy_an_error_with_its_line() {
    let (_d, sb) = sandbox();
    let policy = sb.tree.join(rotation::POLICY_FILE);
    let text = std::fs::read_to_string(&policy).unwrap();
    let without = text.replace(
        "[secret.feed-api-key]\nkind        = \"feed-api-key\"\nowner_group = \"business\"\n",
        "",
    );
    assert_ne!(without, text);
    std::fs::write(&policy, &without).unwrap();
    let f = rotation::gate_findings(&sb.tree, &plans(&sb.tree), now()).unwrap();
    assert!(
        f.mentions("has no [secret.feed-api-key] entry in governance/rotation.toml"),
        "{f:?}"
    );
    std::fs::write(
        &policy,
        text.replace("confidential = 30\n", "confidential = 120\n"),
    )
    .unwrap();
    let e = format!(
        "{:#}",
        rotation::gate_findings(&sb.tree, &plans(&sb.tree), now()).unwrap_err()
    );
    assert!(
        e.starts_with("governance/rotation.toml:") && e.contains("1 to 90 days"),
        "{e}"
    );
}

#[test]
fn a_secret_is_selected_by_its_name_or_a_unique_end_of_it() {
    let (_d, sb) = sandbox();
    let plan = lz_promote::release::render_env(&sb.tree, "dev").unwrap();
    let policy = rotation::Policy::load(&sb.tree).unwrap();
    let secrets = rotation::secrets_of_plan(&plan, &policy, "111111111111", "eu-west-2").unwrap();
    // (what is asked, the secret selected or the error's words)
    let cases = [
        (
            "lz-dev/risk-engine/db-credentials",
            Ok("lz-dev/risk-engine/db-credentials"),
        ),
        (
            "risk-engine/db-credentials",
            Ok("lz-dev/risk-engine/db-credentials"),
        ),
        ("feed-api-key", Ok("lz-dev/market-data/feed-api-key")),
        ("db-credentials", Err("names 2 secrets in dev")),
        ("engine/db-credentials", Err("declares no secret")),
        ("nothing", Err("declares no secret")),
    ];
    for (asked, want) in cases {
        match (lz_promote::rotate::select(&secrets, asked, "dev"), want) {
            (Ok(s), Ok(name)) => assert_eq!(s.name, name, "{asked}"),
            (Err(e), Err(words)) => assert!(format!("{e:#}").contains(words), "{asked}: {e:#}"),
            (got, _) => panic!("{asked}: {:?}", got.map(|s| s.name.clone())),
        }
    }
    // Each secret's consumer is its service's task role, with the plan's policy and boundary.
    for s in &secrets {
        let service = s.name.split('/').nth(1).unwrap();
        let roles: Vec<&str> = s.consumers.iter().map(|c| c.role.as_str()).collect();
        assert_eq!(roles, [format!("{service}-task")], "{}", s.name);
        assert!(s.consumers[0].boundary.is_some(), "{}", s.name);
        assert_eq!(s.schedule_days, Some(30), "{}", s.name);
    }
}

#[test]
fn stale_references_to_old_versions_or_stages_are_found_in_files_and_plans() {
    let (_d, sb) = sandbox();
    let mut plan = lz_promote::release::render_env(&sb.tree, "dev").unwrap();
    let name = "lz-dev/market-data/feed-api-key";
    let old = "0d1c3b5e-old-version".to_string();
    let clean =
        lz_promote::rotate::stale_references(&sb.tree, &plan, name, std::slice::from_ref(&old))
            .unwrap();
    assert!(clean.is_empty(), "{clean:?}");
    std::fs::write(
        sb.tree.join("environments/dev/pinned.auto.tfvars"),
        format!("feed_version = \"{old}\"\n"),
    )
    .unwrap();
    plan["resource_changes"].as_array_mut().unwrap().push(serde_json::json!({
        "address": "aws_secretsmanager_secret_version.pinned", "mode": "managed",
        "type": "aws_secretsmanager_secret_version", "name": "pinned",
        "change": {"actions": ["create"], "after": {"secret_id": name, "version_stages": ["AWSPREVIOUS"]}, "after_unknown": {}}
    }));
    let found =
        lz_promote::rotate::stale_references(&sb.tree, &plan, name, &[old.clone()]).unwrap();
    assert!(
        found
            .iter()
            .any(|f| f.contains("environments/dev/pinned.auto.tfvars names the old version")),
        "{found:?}"
    );
    assert!(
        found.iter().any(
            |f| f.contains("aws_secretsmanager_secret_version.pinned pins")
                && f.contains("AWSPREVIOUS")
        ),
        "{found:?}"
    );
}
