//! Rotation semantics (issue 28): each secret is judged by its own last verified rotation (or,
//! never rotated, by when its environment was first deployed); rotating one never changes
//! another's status; the finding names the fix command with every required flag. The gate's
//! offline checks: a secret without a policy entry is a finding. The chain is a
//! sandbox's (test identities), written where `cargo xtask evidence pull` keeps its cache.

mod common;

use std::path::Path;

use lz_evidence::details::{DeploymentDetails, Details, RotationDetails};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_promote::ledger::{EvidenceAt, Ledger};
use lz_promote::rotation;
use lz_operate::sandbox::Sandbox;
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
    // dev came into use 40 days ago: a secret never rotated since is over its 30 days.
    ledger
        .append(Kind::Deployment, Fields::new(GENESIS).environment("dev").plan_digest(GENESIS).at(now() - Duration::days(40)).details(DeploymentDetails { outcome: "succeeded".into(), ..Default::default() }), sb.signer("deployer-bot"))
        .unwrap();
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

/// The rows of `env` at `at` from the chain the sandbox wrote, as `rotation status` and the
/// gate's evidence-backed check judge them.
fn rows_at(sb: &Sandbox, env: &str, at: OffsetDateTime) -> Vec<rotation::Status> {
    let ledger = Ledger::open(&sb.paths.trust, &EvidenceAt::Local(lz_promote::stores::evidence_cache(&sb.tree))).unwrap();
    let plans = plans(&sb.tree);
    let policy = rotation::Policy::load(&sb.tree).unwrap();
    let plan = &plans.iter().find(|(e, _)| e == env).unwrap().1;
    let e = lz_platform::overlays::env_file(&sb.tree, env).unwrap();
    let secrets = rotation::secrets_of_plan(plan, &policy, &e.account_id, &e.region).unwrap();
    rotation::status(&ledger.records().unwrap(), env, &secrets, at)
}

fn findings(rows: &[rotation::Status]) -> Vec<String> {
    rows.iter().filter_map(lz_gate::evidence::overdue_message).collect()
}

#[test]
fn each_secret_is_judged_by_its_own_last_verified_rotation() {
    let (_d, sb) = sandbox();
    record_rotations(&sb);
    let rows = rows_at(&sb, "dev", now());
    let f = findings(&rows);
    for (secret, overdue) in EXPECTED {
        let row = rows.iter().find(|r| r.secret == *secret).unwrap();
        assert_eq!(row.overdue, *overdue, "{secret}: {row:?}");
        assert_eq!(f.iter().any(|m| m.starts_with(&format!("dev: {secret} "))), *overdue, "{secret}: {f:?}");
    }
    let stale = f.iter().find(|m| m.contains("fix-session-credentials")).unwrap();
    assert!(stale.contains("is overdue: last verified rotation 2026-10-31T12:00:00Z"), "{stale}");
    // The fix command carries every required flag.
    assert!(
        stale.contains("`cargo xtask rotate --env dev --secret lz-dev/matching-engine/fix-session-credentials --as ID --key FILE`"),
        "{stale}"
    );
    // risk-engine has never been verified-rotated; it is judged by when it came into use (the
    // first deployment of dev, 40 days ago: over its 30), never by other secrets' rotations.
    let never = rows.iter().find(|r| r.secret == "lz-dev/risk-engine/db-credentials").unwrap();
    assert_eq!((never.last_rotation.as_deref(), never.due.as_deref()), (None, Some("2026-11-21T12:00:00Z")), "{never:?}");
    assert!(f.iter().any(|m| m.contains("risk-engine/db-credentials has no verified rotation and was due 2026-11-21T12:00:00Z")), "{f:?}");
    // test has no deployment and no rotation evidence: nothing is judged overdue there.
    assert!(rows_at(&sb, "test", now()).iter().all(|r| !r.overdue));
    // Due dates come from the policy's maximum ages.
    let feed = rows.iter().find(|r| r.secret == "lz-dev/market-data/feed-api-key").unwrap();
    // The policy allows 60 days for a confidential feed key; the module's schedule (30) is shorter.
    assert_eq!((feed.max_age_days, feed.due.as_deref()), (30, Some("2026-12-06T12:00:00Z")));
    // 30 days later it is overdue.
    assert!(rows_at(&sb, "dev", now() + Duration::days(30)).iter().any(|r| r.secret == feed.secret && r.overdue));
}

/// Issue 28: rotating one secret turned the untouched secrets of the environment OVERDUE.
/// Each secret is judged by its own history: one rotation changes exactly its own row.
#[test]
fn rotating_one_secret_never_makes_the_others_overdue() {
    let (_d, sb) = sandbox();
    let cache = lz_promote::stores::evidence_cache(&sb.tree);
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    sb.start_chain_at(&EvidenceAt::Local(cache.clone())).unwrap();
    let ledger = Ledger::open(&sb.paths.trust, &EvidenceAt::Local(cache)).unwrap();
    // dev was deployed 5 days ago; nothing is rotated yet, nothing is due.
    ledger
        .append(Kind::Deployment, Fields::new(GENESIS).environment("dev").plan_digest(GENESIS).at(now() - Duration::days(5)).details(DeploymentDetails { outcome: "succeeded".into(), ..Default::default() }), sb.signer("deployer-bot"))
        .unwrap();
    let before = rows_at(&sb, "dev", now());
    assert!(before.len() >= 2 && before.iter().all(|r| !r.overdue), "{before:?}");
    let one = &before[0].secret;
    ledger
        .append(
            Kind::RotationVerification,
            Fields::new(GENESIS)
                .environment("dev")
                .at(now() - Duration::days(1))
                .details(Details::RotationVerification(RotationDetails {
                    resource: one.clone(),
                    version: "v-1".into(),
                    outcome: "passed".into(),
                    consumers: vec!["x-task".into()],
                    ..Default::default()
                })),
            sb.signer("deployer-bot"),
        )
        .unwrap();
    let after = rows_at(&sb, "dev", now());
    for (b, a) in before.iter().zip(&after) {
        if &a.secret == one {
            assert!(a.last_rotation.is_some() && !a.overdue, "{a:?}");
        } else {
            assert_eq!((a.overdue, &a.due), (b.overdue, &b.due), "{} changed when {one} was rotated", a.secret);
        }
    }
    assert!(findings(&after).is_empty(), "{:?}", findings(&after));
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
        match (lz_operate::rotate::select(&secrets, asked, "dev"), want) {
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
        lz_operate::rotate::stale_references(&sb.tree, &plan, name, std::slice::from_ref(&old))
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
        lz_operate::rotate::stale_references(&sb.tree, &plan, name, &[old.clone()]).unwrap();
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

/// Issue 27: the gate's overdue checks read only a local cache CI never has, and deleting it
/// turned "FAIL" into "ok". Now they read the landing zone's evidence store: without one they
/// are NOT CHECKED (never ok, whatever a cache says); with one, what fails keeps failing when
/// the cache is deleted.
#[test]
fn the_gates_overdue_checks_read_the_evidence_store_and_never_pass_for_want_of_it() {
    use lz_gate::evidence::{checks, Checked};
    let endpoint = common::endpoint();
    let (_d, mut sb) = sandbox();
    let stores_toml = sb.tree.join(lz_promote::stores::STORES_FILE);
    let text = std::fs::read_to_string(&stores_toml).unwrap();
    std::fs::write(&stores_toml, lz_promote::stores::suffixed(&text, &common::nonce())).unwrap();
    // A cache full of overdue rotations, and no evidence store: not checked, not ok.
    record_rotations(&sb);
    for (name, c) in checks(&sb.tree).unwrap() {
        match c {
            Checked::NotChecked(why) => assert!(why.contains("s3://"), "{name}: {why}"),
            Checked::Findings(f) => panic!("{name} was judged without an evidence store: {f:?}"),
        }
    }

    // The store exists: a break-glass session two days old without a retrospective fails.
    let s = lz_promote::stores::Stores::load(&sb.tree, &endpoint).unwrap();
    lz_operate::bootstrap::bootstrap_stores(&s, &lz_promote::release::render_env(&root(), &s.environment).unwrap()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(s);
    sb.start_chain().unwrap();
    let t = sb.target("dev").unwrap();
    let opened = t.clock().now().unwrap().time - Duration::days(2);
    let bg = lz_promote::breakglass::open(&sb.ledger().unwrap(), sb.signer("oscar"), "dev", &t.account_id, None, "INC-1", "gate test", 60, opened)
        .unwrap();
    let failing = |label: &str| {
        let found = checks(&sb.tree).unwrap();
        let Checked::Findings(f) = &found.iter().find(|(n, _)| *n == lz_gate::evidence::BREAK_GLASS).unwrap().1 else {
            panic!("{label}: the store answers, yet not checked: {found:?}")
        };
        assert!(f.mentions(&format!("{}", bg.sequence)) && !f.is_empty(), "{label}: {f:?}");
        assert!(found.iter().all(|(_, c)| matches!(c, Checked::Findings(_))), "{label}: {found:?}");
    };
    failing("with the cache");
    std::fs::remove_dir_all(lz_promote::stores::evidence_cache(&sb.tree).parent().unwrap()).unwrap();
    failing("cache deleted");

    // A store that answers but fails verification (its signed head deleted: a delete marker, as
    // a truncation leaves) is judged a finding of each step, never "not checked".
    let s3 = match &sb.paths.evidence {
        EvidenceAt::S3(s) => s.clone(),
        _ => unreachable!("the store was set above"),
    };
    let (client, head) = (s3.s3().unwrap(), s3.evidence().unwrap().head_key());
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(client.delete_object().bucket(&s3.evidence_bucket).key(&head).send()).unwrap();
    let found = checks(&sb.tree).unwrap();
    for (name, c) in &found {
        match c {
            Checked::Findings(f) => assert!(!f.is_empty(), "{name}: a store that fails verification passed: {found:?}"),
            Checked::NotChecked(why) => panic!("{name}: a store that answers and fails was called absent: {why}"),
        }
    }
    println!("gate evidence checks: not checked without a store (cache ignored), break-glass {} overdue with and without the cache", bg.sequence);
}
