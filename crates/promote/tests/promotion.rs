//! Promotions end to end against LocalStack: real Terraform runs of the canary stack against
//! each environment's S3 backend, signed evidence in a private archive, isolated buckets.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lz_promote::sandbox::{fake_release, Sandbox};
use lz_promote::{breakglass, Tier};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn plan(env: &str) -> Value {
    static PLANS: OnceLock<std::sync::Mutex<std::collections::BTreeMap<String, Value>>> =
        OnceLock::new();
    let m = PLANS.get_or_init(Default::default);
    if let Some(p) = m.lock().unwrap().get(env) {
        return p.clone();
    }
    let r = root();
    let opts = tfrender::RenderOptions {
        var_files: vec![r.join("environments").join(env).join("terraform.tfvars")],
        vars: vec![],
        ..Default::default()
    };
    let p = tfrender::render_dir(&r.join("environments"), &opts)
        .unwrap_or_else(|e| panic!("rendering {env}: {e}"));
    m.lock().unwrap().insert(env.to_string(), p.clone());
    p
}

fn sandbox(name: &str) -> (tempfile::TempDir, Sandbox) {
    let endpoint = lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"));
    let dir = tempfile::Builder::new()
        .prefix(&format!("lz-promote-{name}-"))
        .tempdir()
        .unwrap();
    let sb = Sandbox::new(&root(), &endpoint, dir.path()).unwrap();
    (dir, sb)
}

/// Saturday noon: every window open.
fn open_time() -> OffsetDateTime {
    OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap()
}

/// Takes `release` through `envs` with the approvals the high tier needs, drift-checking each.
fn promote_through(sb: &Sandbox, release: &str, envs: &[&str], now: OffsetDateTime) {
    for env in envs {
        let p = plan(env);
        sb.bootstrap(env, &p).unwrap();
        sb.record_policy_pass(release, env, &p).unwrap();
        let second = if *env == "prod" { "carol" } else { "erin" };
        sb.approve("bob", release, Some("alice"), env, &p, Tier::High, now)
            .unwrap();
        sb.approve(second, release, Some("alice"), env, &p, Tier::High, now)
            .unwrap();
        let o = sb
            .promote(
                release,
                env,
                &p,
                None,
                Some("alice"),
                "deployer-bot",
                now,
                0,
            )
            .unwrap_or_else(|e| panic!("{env}: {e:#}"));
        assert_eq!(o.admission.tier, Tier::High);
        let spec = sb.spec(env, &p).unwrap();
        let d = sb.drift(env, &spec).unwrap();
        assert!(!d.drifted(), "{env} drifted: {:?}", d.findings);
    }
}

/// The promotion's evidence verifies (signatures, roles, chain, checkpoint) and the auditor's
/// query of the release shows every environment's approvals, deployment and drift check.
fn assert_evidence_verifies_and_shows_custody(sb: &Sandbox, release: &str) {
    use lz_evidence::query::{Index, Query, Source, TimeRange};
    use lz_evidence::Store;
    let store = lz_evidence::LocalStore::new(sb.paths.evidence.clone());
    let ids = lz_evidence::Identities::load(&sb.paths.identities).unwrap();
    let report = lz_evidence::verify(&store.load().unwrap(), store.checkpoint().unwrap().as_ref(), &ids).unwrap();
    assert!(report.ok(), "evidence of the promotion does not verify: {:?}", report.failure);
    let index = Index::for_local(&store).unwrap();
    let query = Query { index: &index, source: Source::Local(&store), range: TimeRange::default() };
    let custody = query.release(release).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        let (_, c) = custody
            .environments
            .iter()
            .find(|(e, _)| e == env)
            .unwrap_or_else(|| panic!("release custody has no {env}"));
        assert!(c.approvals.len() >= 2, "{env}: approvals {:?}", c.approvals.len());
        assert!(!c.deployments.is_empty(), "{env}: no deployment record");
        assert!(!c.drift_checks.is_empty(), "{env}: no drift record");
        assert!(!c.policy_evaluations.is_empty(), "{env}: no policy evaluation record");
    }
}

fn err(r: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", r.expect_err("expected a refusal"))
}

#[test]
fn one_artifact_goes_from_dev_to_prod_and_the_evidence_verifies() {
    let (_d, sb) = sandbox("full");
    let release = fake_release("full");
    promote_through(&sb, &release, &lz_platform::ENVIRONMENTS, open_time());
    let records = sb.ledger().unwrap().records().unwrap();
    for env in lz_platform::ENVIRONMENTS {
        let d = lz_promote::promote::last_deployment(&records, env).unwrap();
        assert_eq!(d.release, release, "{env}");
    }
    // The canary state in prod's own account names the release.
    let t = sb.target("prod").unwrap();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let rt = lz_platform::aws::runtime().unwrap();
    let state = rt.block_on(async {
        let o = s3
            .get_object()
            .bucket(&t.state_bucket)
            .key("prod/canary.tfstate")
            .send()
            .await
            .unwrap();
        o.body.collect().await.unwrap().into_bytes()
    });
    assert!(String::from_utf8_lossy(&state).contains(&release));
    assert_evidence_verifies_and_shows_custody(&sb, &release);
    // A tags-only change then goes through every environment on policy approval alone.
    let next = fake_release("full-tags");
    for env in lz_platform::ENVIRONMENTS {
        let base = plan(env);
        let p = lz_promote::bench::retag(&base, "v2");
        sb.record_policy_pass(&next, env, &p).unwrap();
        let o = sb
            .promote(
                &next,
                env,
                &p,
                Some(&base),
                Some("alice"),
                "deployer-bot",
                open_time(),
                0,
            )
            .unwrap();
        assert_eq!(o.admission.tier, Tier::Standard, "{env}");
        assert_eq!(o.admission.approvals.len(), 0);
        let spec = sb.spec(env, &p).unwrap();
        assert!(!sb.drift(env, &spec).unwrap().drifted());
    }
    let approvals = sb
        .ledger()
        .unwrap()
        .records()
        .unwrap()
        .iter()
        .filter(|r| r.identity == "change-policy")
        .count();
    assert_eq!(approvals, 5);
}

#[test]
fn refusals_name_the_reason() {
    let (_d, sb) = sandbox("refusals");
    let now = open_time();
    let release = fake_release("refusals");
    let r = &release[..12];
    promote_through(&sb, &release, &["dev"], now);

    // Skipped environment: dev -> uat.
    let uat = plan("uat");
    sb.bootstrap("uat", &uat).unwrap();
    sb.record_policy_pass(&release, "uat", &uat).unwrap();
    assert_eq!(
        err(sb.promote(&release, "uat", &uat, None, Some("alice"), "deployer-bot", now, 0)),
        format!("release {r} cannot go to uat: it has not been deployed to test (promotion order dev -> test -> uat -> preprod -> prod)")
    );

    // A different digest than the one running in the previous environment.
    let other = fake_release("refusals-other");
    let test = plan("test");
    sb.bootstrap("test", &test).unwrap();
    let dev_record =
        lz_promote::promote::last_deployment(&sb.ledger().unwrap().records().unwrap(), "dev")
            .unwrap()
            .sequence;
    assert_eq!(
        err(sb.promote(
            &other,
            "test",
            &test,
            None,
            Some("alice"),
            "deployer-bot",
            now,
            0
        )),
        format!(
            "release {} cannot go to test: dev runs release {r} (record {dev_record}), not {}",
            &other[..12],
            &other[..12]
        )
    );

    // Self-approval by the author.
    assert_eq!(
        err(sb.approve(
            "alice",
            &release,
            Some("alice"),
            "test",
            &test,
            Tier::High,
            now
        )),
        format!("alice authored release {r} and cannot approve it (segregation of duties)")
    );

    // Missing group: two approvals, but none from security.
    sb.record_policy_pass(&release, "test", &test).unwrap();
    sb.approve(
        "erin",
        &release,
        Some("alice"),
        "test",
        &test,
        Tier::High,
        now,
    )
    .unwrap();
    sb.approve(
        "carol",
        &release,
        Some("alice"),
        "test",
        &test,
        Tier::High,
        now,
    )
    .unwrap();
    assert_eq!(
        err(sb.promote(&release, "test", &test, None, Some("alice"), "deployer-bot", now, 0)),
        format!("release {r} to test (tier high) needs an approval from group security; approvals: erin (platform), carol (business)")
    );

    // An approver cannot deploy what they approved.
    sb.approve(
        "dave",
        &release,
        Some("alice"),
        "test",
        &test,
        Tier::High,
        now,
    )
    .unwrap();
    let msg = err(sb.promote(&release, "test", &test, None, Some("alice"), "dave", now, 0));
    assert!(
        msg.starts_with(&format!("dave approved release {r} for test (record ")),
        "{msg}"
    );
    assert!(
        msg.ends_with("and cannot deploy it (segregation of duties)"),
        "{msg}"
    );

    // Closed window: prod's market hours, a Thursday at 09:00 UTC.
    let thursday = OffsetDateTime::parse("2026-11-26T09:00:00Z", &Rfc3339).unwrap();
    sb.approve(
        "bob",
        &release,
        Some("alice"),
        "test",
        &test,
        Tier::High,
        now,
    )
    .unwrap();
    promote_through(&sb, &release, &["test", "uat", "preprod"], now);
    let prod = plan("prod");
    sb.bootstrap("prod", &prod).unwrap();
    sb.record_policy_pass(&release, "prod", &prod).unwrap();
    sb.approve(
        "bob",
        &release,
        Some("alice"),
        "prod",
        &prod,
        Tier::High,
        now,
    )
    .unwrap();
    sb.approve(
        "carol",
        &release,
        Some("alice"),
        "prod",
        &prod,
        Tier::High,
        now,
    )
    .unwrap();
    assert_eq!(
        err(sb.promote(&release, "prod", &prod, None, Some("alice"), "deployer-bot", thursday, 0)),
        "the change window of prod is closed for a high change: market hours, Europe/London 08:00-16:30 Mon/Tue/Wed/Thu/Fri; next open window 2026-11-26T16:30:00Z (Thu 16:30 Europe/London)"
    );

    // Expired break-glass: opened at 06:00 for 60 minutes, used at 09:00.
    let ledger = sb.ledger().unwrap();
    let opened = thursday - Duration::hours(3);
    let bg = breakglass::open(
        &ledger,
        sb.signer("oscar"),
        "prod",
        "555555555555",
        None,
        "INC-7",
        "exchange outage",
        60,
        opened,
    )
    .unwrap();
    assert_eq!(
        err(sb.promote(&release, "prod", &prod, None, Some("alice"), "deployer-bot", thursday, 0)),
        format!(
            "the change window of prod is closed for a high change: market hours, Europe/London 08:00-16:30 Mon/Tue/Wed/Thu/Fri; next open window 2026-11-26T16:30:00Z (Thu 16:30 Europe/London); break-glass {} for prod expired at 2026-11-26T07:00:00Z",
            bg.sequence
        )
    );
    // An open break-glass lets the same promotion through as an emergency change.
    let bg2 = breakglass::open(
        &ledger,
        sb.signer("oscar"),
        "prod",
        "555555555555",
        Some(&release),
        "INC-7",
        "exchange outage",
        30,
        thursday,
    )
    .unwrap();
    let o = sb
        .promote(
            &release,
            "prod",
            &prod,
            None,
            Some("alice"),
            "deployer-bot",
            thursday,
            0,
        )
        .unwrap();
    assert_eq!(
        (o.admission.tier, o.admission.break_glass),
        (Tier::Emergency, Some(bg2.sequence))
    );
    // Its retrospective: not by the opener; overdue after 24 h until recorded.
    let records = ledger.records().unwrap();
    assert_eq!(
        breakglass::overdue(&records, thursday + Duration::hours(20)).len(),
        0
    );
    assert_eq!(
        breakglass::overdue(&records, thursday + Duration::hours(25)).len(),
        2
    );
    assert_eq!(
        err(breakglass::retrospective(
            &ledger,
            sb.signer("oscar"),
            bg2.sequence,
            "INC-7",
            "ok",
            thursday
        )),
        format!(
            "oscar opened break-glass {} and cannot sign its retrospective (segregation of duties)",
            bg2.sequence
        )
    );
    breakglass::retrospective(
        &ledger,
        sb.signer("audrey"),
        bg2.sequence,
        "INC-7",
        "fix verified",
        thursday,
    )
    .unwrap();
    breakglass::retrospective(
        &ledger,
        sb.signer("bob"),
        bg.sequence,
        "INC-7",
        "unused",
        thursday,
    )
    .unwrap();
    assert!(
        breakglass::overdue(&ledger.records().unwrap(), thursday + Duration::hours(25)).is_empty()
    );
    assert_eq!(
        err(breakglass::open(
            &ledger,
            sb.signer("oscar"),
            "prod",
            "555555555555",
            None,
            "INC-8",
            "r",
            241,
            thursday
        )),
        "a break-glass session lasts 1 to 240 minutes, not 241"
    );
}

#[test]
fn drift_in_the_previous_environment_blocks_the_promotion() {
    let (_d, sb) = sandbox("drift");
    let now = open_time();
    let release = fake_release("drift");
    promote_through(&sb, &release, &["dev"], now);
    // Someone suspends versioning of dev's state bucket at the console.
    let t = sb.target("dev").unwrap();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(async {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        s3.put_bucket_versioning()
            .bucket(&t.state_bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Suspended)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let spec = sb.spec("dev", &plan("dev")).unwrap();
    let d = sb.drift("dev", &spec).unwrap();
    assert!(d.drifted());
    assert_eq!(d.findings.len(), 1, "{:?}", d.findings);
    let f = &d.findings[0];
    assert_eq!(
        (
            f.resource.as_str(),
            f.attribute.as_str(),
            f.declared.as_str(),
            f.actual.as_str()
        ),
        (
            format!("s3://{}", t.state_bucket).as_str(),
            "versioning",
            "Enabled",
            "Suspended"
        )
    );
    let test = plan("test");
    sb.bootstrap("test", &test).unwrap();
    sb.record_policy_pass(&release, "test", &test).unwrap();
    let msg = err(sb.promote(
        &release,
        "test",
        &test,
        None,
        Some("alice"),
        "deployer-bot",
        now,
        0,
    ));
    assert_eq!(msg, format!("release {} cannot go to test: dev drifted from its declared state (drift record {}: [\"s3://{}\"])", &release[..12], d.record, t.state_bucket));
    // Bootstrap restores the declared settings; the next drift check is clean again.
    sb.bootstrap("dev", &plan("dev")).unwrap();
    assert!(!sb.drift("dev", &spec).unwrap().drifted());
}

#[test]
fn four_concurrent_promotions_apply_exactly_once() {
    let (_d, sb) = sandbox("race");
    let now = open_time();
    let release = fake_release("race");
    let p = plan("dev");
    sb.bootstrap("dev", &p).unwrap();
    sb.record_policy_pass(&release, "dev", &p).unwrap();
    sb.approve("bob", &release, Some("alice"), "dev", &p, Tier::High, now)
        .unwrap();
    sb.approve("erin", &release, Some("alice"), "dev", &p, Tier::High, now)
        .unwrap();
    let barrier = std::sync::Barrier::new(4);
    let results: Vec<Result<lz_promote::promote::Outcome, String>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    sb.promote(
                        &release,
                        "dev",
                        &p,
                        None,
                        Some("alice"),
                        "deployer-bot",
                        now,
                        2,
                    )
                    .map_err(|e| format!("{e:#}"))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:#?}");
    let mut locked = 0;
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        let is_lock = e.starts_with("the state of dev is locked by ")
            && e.ends_with(": nothing was applied")
            && e.contains("OperationType");
        let late = e.contains("is already deployed to dev: the plan has no changes")
            || e.contains("changed while this promotion planned");
        assert!(is_lock || late, "unexpected failure: {e}");
        locked += usize::from(is_lock);
    }
    assert!(locked >= 1, "no promotion met the lock: {results:#?}");
    // State and evidence intact: one completed deployment, every run closed, chain verifies.
    let records = sb.ledger().unwrap().records().unwrap();
    let done: Vec<_> = records
        .iter()
        .filter(|r| r.detail_str("outcome") == Some("succeeded"))
        .collect();
    assert_eq!(done.len(), 1);
    let started = records
        .iter()
        .filter(|r| r.detail_str("outcome") == Some("in-progress"))
        .count();
    let closed = records
        .iter()
        .filter(|r| r.details.contains_key("in_progress_record"))
        .count();
    assert_eq!(started, 4);
    assert_eq!(closed, 4);
    let spec = sb.spec("dev", &p).unwrap();
    assert!(!sb.drift("dev", &spec).unwrap().drifted());
}

#[test]
fn a_promotion_killed_mid_apply_is_recorded_and_its_lock_recovered_deliberately() {
    use std::os::unix::process::CommandExt;
    let (_d, sb) = sandbox("killed");
    let now = open_time();
    let first = fake_release("killed-first");
    promote_through(&sb, &first, &["dev"], now);
    let p = plan("dev");
    let second = fake_release("killed-second");
    sb.record_policy_pass(&second, "dev", &p).unwrap();
    sb.approve("bob", &second, Some("alice"), "dev", &p, Tier::High, now)
        .unwrap();
    sb.approve("erin", &second, Some("alice"), "dev", &p, Tier::High, now)
        .unwrap();
    let plan_file = sb.dir.join("plan-dev.json");
    std::fs::write(&plan_file, serde_json::to_vec(&p).unwrap()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lz-rehearse"))
        .args([
            root().to_str().unwrap(),
            sb.dir.to_str().unwrap(),
            "dev",
            &second,
            plan_file.to_str().unwrap(),
            "alice",
            "deployer-bot",
        ])
        .arg(now.format(&Rfc3339).unwrap())
        .arg("60")
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child is applying: its in-progress record exists and the lock says apply.
    let t = sb.target("dev").unwrap();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let lock = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the child never reached apply"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child exited before it was killed"
        );
        if let Some(l) = lz_promote::deploy::read_lock(&s3, &t.backend()).unwrap() {
            if l.operation == "OperationTypeApply" {
                break l;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    child.wait().unwrap();

    // The archive says the run started and never finished.
    let records = sb.ledger().unwrap().records().unwrap();
    let last = records
        .iter()
        .rfind(|r| r.kind == lz_evidence::record::Kind::Deployment)
        .unwrap();
    assert_eq!(
        (last.release.as_str(), last.detail_str("outcome")),
        (second.as_str(), Some("in-progress"))
    );
    assert!(
        lz_promote::deploy::read_lock(&s3, &t.backend())
            .unwrap()
            .is_some(),
        "the killed run's lock is gone"
    );

    // The next run records the lock it breaks, force-unlocks it, and completes.
    let o = sb
        .promote(
            &second,
            "dev",
            &p,
            None,
            Some("alice"),
            "deployer-bot",
            now,
            0,
        )
        .unwrap();
    assert_eq!(o.recovered.len(), 1);
    let records = sb.ledger().unwrap().records().unwrap();
    let rec = records
        .iter()
        .find(|r| r.sequence == o.recovered[0])
        .unwrap();
    assert_eq!(rec.detail_str("outcome"), Some("recovered"));
    assert_eq!(rec.details["recovers_record"].as_u64(), Some(last.sequence));
    assert_eq!(rec.details["lock"]["id"].as_str(), Some(lock.id.as_str()));
    assert!(lz_promote::deploy::read_lock(&s3, &t.backend())
        .unwrap()
        .is_none());
    assert_eq!(
        lz_promote::promote::last_deployment(&records, "dev")
            .unwrap()
            .release,
        second
    );
}
