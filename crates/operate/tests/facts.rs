//! Facts carry their proof (issue 23, item 2), against LocalStack: what one deployer key can
//! append (a deployment naming a state version, a clean drift check, rotations) is checked
//! where the fact lives (the environment's state bucket, its buckets' live controls, Secrets
//! Manager), reported by verification, and refused by the promotion gate.

mod common;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use lz_evidence::details::{DeploymentDetails, Details, DriftDetails, RotationDetails};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_operate::sandbox::Sandbox;
use lz_promote::{is_refusal, rotation};
use time::OffsetDateTime;

use common::{open_time, promote_through, release, root, sandbox};

fn now() -> OffsetDateTime {
    match open_time() {
        lz_promote::clock::Clock::Fixed(t) => t,
        _ => unreachable!("open_time is a fixed clock"),
    }
}

/// The refusal message of a decision that must be refused.
fn refused<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    let e = r.expect_err("expected a refusal");
    assert!(is_refusal(&e), "not a refusal but an error: {e:#}");
    format!("{e:#}")
}

/// The last record of `kind` in `env` with detail `outcome`/`drifted` as given.
fn last(sb: &Sandbox, kind: Kind, env: &str) -> lz_promote::ledger::Record {
    sb.ledger()
        .unwrap()
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == kind && r.environment.as_deref() == Some(env))
        .next_back()
        .unwrap_or_else(|| panic!("no {kind} record in {env}"))
}

/// What the deployer key alone appends for a deployment of `release` to `env` whose admission
/// is real (the approvals the tier needs are recorded): the in-progress record with that
/// admission, and a `succeeded` record naming the state `state` claims.
fn deployment_claiming(sb: &Sandbox, release: &str, env: &str, state: (Option<&str>, Option<u64>, Option<&str>)) -> u64 {
    let s = sb.session(release, env).unwrap();
    let policy = s.evaluate_policy(now()).unwrap();
    let a = s.admit("deployer-bot", &policy, now()).unwrap();
    let ledger = sb.ledger().unwrap();
    let bot = sb.signer("deployer-bot");
    let fields = |outcome: &str, d: DeploymentDetails| {
        Fields::new(release)
            .environment(env)
            .account(sb.target(env).unwrap().account_id)
            .plan_digest(&s.plan_digest)
            .at(now())
            .details(DeploymentDetails { outcome: outcome.into(), run: Some(format!("claimed-{env}")), ..d })
    };
    let admission = DeploymentDetails {
        tier: Some(a.tier.as_str().into()),
        approvals: Some(a.approvals.iter().map(|v| v.sequence).collect()),
        ..Default::default()
    };
    let ip = ledger.append(Kind::Deployment, fields("in-progress", admission), bot).unwrap();
    let claim = DeploymentDetails {
        in_progress_record: Some(ip.sequence),
        state_version: state.0.map(str::to_string),
        state_serial: state.1,
        state_lineage: state.2.map(str::to_string),
        ..Default::default()
    };
    let d = ledger.append(Kind::Deployment, fields("succeeded", claim), bot).unwrap();
    // Replayed, the deployment has a valid admission: only its fact is false.
    let rejected = lz_promote::replay::rejected(&sb.paths, &ledger, &ledger.records().unwrap()).unwrap();
    assert!(!rejected.contains_key(&d.sequence), "{rejected:?}");
    d.sequence
}

/// A clean drift check of `env` signed by the deployer key, with `details` (copied from an
/// honest one, or not).
fn clean_drift(sb: &Sandbox, release: &str, env: &str, mut details: DriftDetails) -> u64 {
    // A copy keeps everything but the append id, which names one append.
    details.other.remove(lz_evidence::archive::APPEND_ID);
    let f = Fields::new(release).environment(env).at(now()).details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..details });
    sb.ledger().unwrap().append(Kind::Drift, f, sb.signer("deployer-bot")).unwrap().sequence
}

fn contradicted(sb: &Sandbox) -> Vec<(u64, String)> {
    sb.verify_facts().unwrap().into_iter().map(|c| (c.sequence, c.why)).collect()
}

fn approve(sb: &Sandbox, release: &str, env: &str) {
    let second = if env == "prod" { "carol" } else { "erin" };
    for who in ["bob", second] {
        sb.approve(who, release, env, &open_time()).unwrap();
    }
}

/// Issue 23: a deployment record with a made-up state version, or with another
/// environment's real one, or with none, is contradicted by the state bucket: verification
/// names it, the next environment's promotion refuses it, and the drift check reports it. Each
/// has a valid admission (replayed): only its fact is false.
#[test]
fn a_deployment_naming_a_state_version_its_bucket_does_not_hold_is_contradicted_and_never_trusted() {
    let (_d, sb) = sandbox("facts-deploy");
    let clock = open_time();
    let r = release(&sb, "facts-deploy", &clock);
    promote_through(&sb, &r, &["dev"], &clock);
    // The honest deployment and drift check name their state, and the state bucket holds it.
    let honest = last(&sb, Kind::Deployment, "dev");
    let state = lz_operate::facts::claimed(&honest).unwrap();
    assert_eq!(contradicted(&sb), vec![], "the honest chain");
    let drift = last(&sb, Kind::Drift, "dev");
    let drift = drift.details.drift().cloned().expect("a drift record");
    assert_eq!(drift.state_version.as_deref(), Some(state.version.as_str()));
    assert_eq!(drift.plan_output_digest.as_deref().map(str::len), Some(64), "{drift:?}");

    // A made-up version in test (and a clean drift check to go with it).
    sb.bootstrap("test", &r).unwrap();
    approve(&sb, &r, "test");
    let made_up = deployment_claiming(
        &sb,
        &r,
        "test",
        (Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"), Some(7), Some("made-up")),
    );
    clean_drift(&sb, &r, "test", DriftDetails { deployment_record: Some(made_up), ..Default::default() });
    let found = contradicted(&sb);
    assert!(found.iter().any(|(s, w)| *s == made_up && w.contains("which the state bucket does not hold")), "{found:?}");
    approve(&sb, &r, "uat");
    let msg = refused(sb.promote(&r, "uat", "deployer-bot", &clock, 0));
    assert!(msg.contains(&format!("test's deployment is contradicted by its state: deployment record {made_up}")), "{msg}");

    // Someone else's version: dev's real state version, serial and lineage, named for uat.
    let other = deployment_claiming(
        &sb,
        &r,
        "uat",
        (Some(state.version.as_str()), Some(state.serial), Some(state.lineage.as_str())),
    );
    clean_drift(&sb, &r, "uat", DriftDetails { deployment_record: Some(other), ..Default::default() });
    let found = contradicted(&sb);
    assert!(found.iter().any(|(s, w)| *s == other && w.contains("which the state bucket does not hold")), "{found:?}");
    approve(&sb, &r, "preprod");
    let msg = refused(sb.promote(&r, "preprod", "deployer-bot", &clock, 0));
    assert!(msg.contains(&format!("uat's deployment is contradicted by its state: deployment record {other}")), "{msg}");

    // No state at all proves nothing either.
    let bare = deployment_claiming(&sb, &r, "preprod", (None, None, None));
    let found = contradicted(&sb);
    assert!(found.iter().any(|(s, w)| *s == bare && w.contains("names no state version")), "{found:?}");

    // The drift check of test compares the deployment record with the state bucket.
    let d = sb.drift("test", &clock).unwrap();
    assert!(d.drifted(), "{d:?}");
    assert!(d.findings.iter().any(|f| f.attribute == format!("deployment record {made_up}")), "{:?}", d.findings);
}

fn versioning(sb: &Sandbox, env: &str, status: BucketVersioningStatus) {
    let t = sb.target(env).unwrap();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    lz_platform::aws::runtime().unwrap().block_on(async {
        s3.put_bucket_versioning()
            .bucket(&t.state_bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .unwrap();
    });
}

/// Issue 23: a real drift is recorded; the deployer key appends `drifted=false` (a copy of an
/// honest clean record, or one without the plan output digest). The next environment's
/// promotion checks the clean record against what the key cannot fake, and refuses while dev's
/// versioning is still Suspended; once restored and honestly re-checked, it goes through. A
/// clean record whose state was written since (outside change control) opens nothing either.
#[test]
fn a_forged_clean_drift_check_does_not_open_the_next_environment() {
    let (_d, sb) = sandbox("facts-drift");
    let clock = open_time();
    let r = release(&sb, "facts-drift", &clock);
    promote_through(&sb, &r, &["dev"], &clock);
    let honest = last(&sb, Kind::Drift, "dev");
    versioning(&sb, "dev", BucketVersioningStatus::Suspended);
    let real = sb.drift("dev", &clock).unwrap();
    assert!(real.drifted(), "{real:?}");
    sb.bootstrap("test", &r).unwrap();
    for who in ["bob", "erin"] {
        sb.approve(who, &r, "test", &clock).unwrap();
    }
    // Without the digest of a plan output: not trusted, and verification names it.
    let honest = honest.details.drift().cloned().expect("a drift record");
    let bare = clean_drift(&sb, &r, "dev", DriftDetails { plan_output_digest: None, ..honest.clone() });
    let msg = refused(sb.promote(&r, "test", "deployer-bot", &clock, 0));
    assert!(msg.contains(&format!("dev's drift check is not trusted: drift record {bare}")) && msg.contains("carries no digest"), "{msg}");
    assert!(contradicted(&sb).iter().any(|(s, _)| *s == bare), "{:?}", contradicted(&sb));
    // A copy of the honest clean record: the live controls contradict it.
    let copy = clean_drift(&sb, &r, "dev", honest.clone());
    let msg = refused(sb.promote(&r, "test", "deployer-bot", &clock, 0));
    assert!(msg.contains(&format!("dev's drift record {copy} says drifted=false, but its live controls contradict it")), "{msg}");
    assert!(msg.contains("versioning: declared Enabled, actual Suspended"), "{msg}");
    // Restored and re-checked honestly, the promotion goes through.
    versioning(&sb, "dev", BucketVersioningStatus::Enabled);
    assert!(!sb.drift("dev", &clock).unwrap().drifted());
    sb.promote(&r, "test", "deployer-bot", &clock, 0).unwrap();
    // Verification names the clean record without a digest; the copy judged the deployed state
    // (only the live controls, checked at the gate, contradicted it).
    let found: Vec<u64> = contradicted(&sb).into_iter().map(|(s, _)| s).collect();
    assert_eq!(found, vec![bare]);

    // test is drift-checked clean; then its state object is written outside change control (the
    // same document again: a new version). The clean record no longer describes the state.
    assert!(!sb.drift("test", &clock).unwrap().drifted());
    let t = sb.target("test").unwrap();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let b = t.backend();
    let written = lz_platform::aws::runtime().unwrap().block_on(async {
        let o = s3.get_object().bucket(&b.bucket).key(&b.key).send().await.unwrap();
        let bytes = o.body.collect().await.unwrap().into_bytes();
        let put = s3.put_object().bucket(&b.bucket).key(&b.key).body(bytes.to_vec().into()).send().await.unwrap();
        put.version_id().unwrap().to_string()
    });
    approve(&sb, &r, "uat");
    let msg = refused(sb.promote(&r, "uat", "deployer-bot", &clock, 0));
    assert!(msg.contains("the state of test") && msg.contains("is no longer version") && msg.contains(&written), "{msg}");
}

/// Issue 23: the deployer key appends rotation and verification records for the five secrets
/// of prod's plan, naming versions Secrets Manager does not hold. `rotation status` reports
/// them contradicted, not rotated, and verification names every record; a record naming a
/// version Secrets Manager does hold, with its creation date, counts.
#[test]
fn rotations_secrets_manager_does_not_hold_are_contradicted_not_rotated() {
    let (_d, sb) = sandbox("facts-rotation");
    let env = "prod";
    let plan = lz_promote::release::render_env(&root(), env).unwrap();
    let policy = rotation::Policy::load(&root()).unwrap();
    let t = sb.target(env).unwrap();
    // This test writes a version of a prod secret and reads it back: no other test rotates prod's
    // secrets meanwhile.
    let _lease = lz_platform::localstack::lease(&[&t.account_id]).unwrap();
    let secrets = rotation::secrets_of_plan(&plan, &policy, &t.account_id, &t.region).unwrap();
    assert!(secrets.len() >= 4, "{secrets:?}");
    let ledger = sb.ledger().unwrap();
    let bot = sb.signer("deployer-bot");
    let mut forged = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let base = |outcome: &str| RotationDetails {
            resource: s.name.clone(),
            arn: Some(format!("arn:aws:secretsmanager:{}:{}:secret:{}-AbCdEf", t.region, t.account_id, s.name)),
            version: format!("0d1c3b5e-0000-4000-8000-00000000000{i}"),
            version_created: Some("2026-11-28T11:59:00Z".into()),
            consumers: vec![format!("{}-task", s.name.split('/').nth(1).unwrap())],
            outcome: outcome.into(),
            ..Default::default()
        };
        let fields = || Fields::new(GENESIS).environment(env).account(&t.account_id).at(now());
        let v = ledger.append(Kind::RotationVerification, fields().details(Details::RotationVerification(base("passed"))), bot).unwrap();
        let rotated = RotationDetails { verification_sequence: Some(v.sequence), ..base("rotated") };
        let r = ledger.append(Kind::Rotation, fields().details(Details::Rotation(rotated)), bot).unwrap();
        forged.extend([v.sequence, r.sequence]);
    }
    let rows = lz_operate::rotate::status_of(&sb.paths, &[env], now(), &sb.endpoint).unwrap();
    assert_eq!(rows.len(), secrets.len());
    for row in &rows {
        assert!(row.last_rotation.is_none(), "{row:?}");
        assert_eq!(row.contradicted.len(), 1, "{row:?}");
        assert!(row.contradicted[0].contains(&row.secret), "{row:?}");
    }
    let found: Vec<u64> = contradicted(&sb).into_iter().map(|(s, _)| s).collect();
    assert_eq!(found, forged);

    // A version Secrets Manager holds, named with its creation date, is a rotation.
    let s = &secrets[0];
    let sm = lz_platform::aws::secretsmanager(&t.endpoint, lz_platform::aws::account_credentials(&t.account_id), &t.region);
    let rt = lz_platform::aws::runtime().unwrap();
    let (arn, version, created) = rt.block_on(async {
        if sm.describe_secret().secret_id(&s.name).send().await.is_err() {
            sm.create_secret().name(&s.name).secret_string("initial").send().await.unwrap();
        }
        let v = sm.put_secret_value().secret_id(&s.name).secret_string(common::nonce()).send().await.unwrap();
        let (arn, held) = lz_operate::facts::versions(&sm, &s.name).await.unwrap().unwrap();
        let id = v.version_id().unwrap().to_string();
        let created = held[&id].clone();
        (arn, id, created)
    });
    let real = RotationDetails {
        resource: s.name.clone(),
        arn: Some(arn.clone()),
        version: version.clone(),
        version_created: Some(created.clone()),
        outcome: "passed".into(),
        ..Default::default()
    };
    let verification = |d: RotationDetails| Fields::new(GENESIS).environment(env).at(now()).details(Details::RotationVerification(d));
    let ok = ledger.append(Kind::RotationVerification, verification(real.clone()), bot).unwrap();
    // The same version under another creation date is contradicted.
    let wrong = RotationDetails { version_created: Some("2020-01-01T00:00:00Z".into()), ..real };
    let wrong_date = ledger.append(Kind::RotationVerification, verification(wrong), bot).unwrap();
    let rows = lz_operate::rotate::status_of(&sb.paths, &[env], now(), &sb.endpoint).unwrap();
    let row = rows.iter().find(|r| r.secret == s.name).unwrap();
    assert_eq!(row.record, Some(ok.sequence), "{row:?}");
    assert!(row.contradicted.iter().any(|w| w.contains(&format!("record {}", wrong_date.sequence)) && w.contains("but Secrets Manager created it")), "{row:?}");
}
