//! Promotions end to end against LocalStack: real Terraform runs of the canary stack against
//! each environment's S3 backend, signed evidence in a private archive, isolated buckets.

mod common;

use lz_promote::clock::Clock;
use lz_operate::sandbox::Sandbox;
use lz_promote::{breakglass, Tier};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use common::{endpoint, open_time, promote_through, release, root, sandbox};

/// The promotion's evidence verifies (signatures, roles, chain, checkpoint) and the auditor's
/// query of the release shows every environment's approvals, deployment and drift check.
fn assert_evidence_verifies_and_shows_custody(sb: &Sandbox, release: &str) {
    use lz_evidence::query::{Index, Query, Source, TimeRange};
    let store = lz_evidence::LocalStore::new(sb.evidence_file());
    let root = sb.paths.trust.clone();
    if let Err(e) = lz_evidence::verify_store(&store, &root, &[]) {
        panic!("evidence of the promotion does not verify: {e:#}");
    }
    let index = Index::for_local(&store).unwrap();
    let query = Query {
        index: &index,
        source: Source::Local(&store),
        range: TimeRange::default(),
    };
    let custody = query.release(release).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        let (_, c) = custody
            .environments
            .iter()
            .find(|(e, _)| e == env)
            .unwrap_or_else(|| panic!("release custody has no {env}"));
        assert!(
            c.approvals.len() >= 2,
            "{env}: approvals {:?}",
            c.approvals.len()
        );
        assert!(!c.deployments.is_empty(), "{env}: no deployment record");
        assert!(!c.drift_checks.is_empty(), "{env}: no drift record");
        assert!(
            !c.policy_evaluations.is_empty(),
            "{env}: no policy evaluation record"
        );
    }
}

fn err(r: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", r.expect_err("expected a refusal"))
}

#[test]
fn one_artifact_goes_from_dev_to_prod_and_the_evidence_verifies() {
    let (_d, sb) = sandbox("full");
    let now = open_time();
    let release = release(&sb, "full", &now);
    promote_through(&sb, &release, &lz_platform::ENVIRONMENTS, &now);
    let records = sb.ledger().unwrap().records().unwrap();
    for env in lz_platform::ENVIRONMENTS {
        let d = lz_operate::promote::last_deployment(&records, env).unwrap();
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
    let next = sb
        .release("full-tags", "alice", &now, |t| {
            lz_operate::bench::retag(t, "CC-4411")
        })
        .unwrap();
    for env in lz_platform::ENVIRONMENTS {
        let o = sb.promote(&next, env, "deployer-bot", &now, 0).unwrap();
        assert_eq!(o.admission.tier, Tier::Standard, "{env}");
        assert_eq!(o.admission.approvals.len(), 0);
        assert!(!sb.drift(env, &now).unwrap().drifted());
    }
    let approvals = sb
        .ledger()
        .unwrap()
        .records()
        .unwrap()
        .iter()
        // Each environment's automatic approval by its own policy identity.
        .filter(|r| r.kind == lz_evidence::record::Kind::Approval && r.environment.as_deref().is_some_and(|e| r.identity == format!("change-policy-{e}")))
        .count();
    assert_eq!(approvals, 5);
}

#[test]
fn refusals_name_the_reason() {
    let (_d, sb) = sandbox("refusals");
    let now = open_time();
    let release = release(&sb, "refusals", &now);
    let r = &release[..12];
    promote_through(&sb, &release, &["dev"], &now);

    // Skipped environment: dev -> uat.
    sb.bootstrap("uat", &release).unwrap();
    assert_eq!(
        err(sb.promote(&release, "uat", "deployer-bot", &now, 0)),
        format!("release {r} cannot go to uat: it has not been deployed to test (promotion order dev -> test -> uat -> preprod -> prod)")
    );

    // A different digest than the one running in the previous environment.
    let other = sb
        .release("refusals-other", "alice", &now, |_| Ok(()))
        .unwrap();
    sb.bootstrap("test", &release).unwrap();
    let dev_record =
        lz_operate::promote::last_deployment(&sb.ledger().unwrap().records().unwrap(), "dev")
            .unwrap()
            .sequence;
    assert_eq!(
        err(sb.promote(&other, "test", "deployer-bot", &now, 0)),
        format!(
            "release {} cannot go to test: dev runs release {r} (record {dev_record}), not {}",
            &other[..12],
            &other[..12]
        )
    );

    // Self-approval by the author.
    assert_eq!(
        err(sb.approve("alice", &release, "test", &now)),
        format!("alice authored release {r} and cannot approve it (segregation of duties); another approver records it: `cargo xtask approve --release {r} --env test --as APPROVER --key FILE --reason TEXT`")
    );

    // Missing group: two approvals, but none from security.
    sb.approve("erin", &release, "test", &now).unwrap();
    sb.approve("carol", &release, "test", &now).unwrap();
    assert_eq!(
        err(sb.promote(&release, "test", "deployer-bot", &now, 0)),
        format!("release {r} to test (tier high) needs an approval from group security; approvals: erin (platform), carol (business)")
    );

    // An approver cannot deploy what they approved.
    sb.approve("dave", &release, "test", &now).unwrap();
    let msg = err(sb.promote(&release, "test", "dave", &now, 0));
    assert!(
        msg.starts_with(&format!("dave approved release {r} for test (record ")),
        "{msg}"
    );
    assert!(
        msg.ends_with("and cannot deploy it (segregation of duties)"),
        "{msg}"
    );

    // Closed window: prod's market hours, a Thursday at 09:00 UTC.
    let thursday_t = OffsetDateTime::parse("2026-12-03T09:00:00Z", &Rfc3339).unwrap();
    let thursday = Clock::Fixed(thursday_t);
    sb.approve("bob", &release, "test", &now).unwrap();
    promote_through(&sb, &release, &["test", "uat", "preprod"], &now);
    sb.bootstrap("prod", &release).unwrap();
    sb.approve("bob", &release, "prod", &now).unwrap();
    sb.approve("carol", &release, "prod", &now).unwrap();

    // Closed window with an expired break-glass (requested at 06:00 for 60 minutes and
    // approved; records are never back-dated, so it is recorded before the attempt at 09:00).
    let ledger = sb.ledger().unwrap();
    let opened = thursday_t - Duration::hours(3);
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
    breakglass::approve(
        &ledger,
        sb.signer("frank"),
        bg.sequence,
        "outage confirmed",
        opened,
    )
    .unwrap();
    assert_eq!(
        err(sb.promote(&release, "prod", "deployer-bot", &thursday, 0)),
        format!(
            "the change window of prod is closed for a high change: market hours, Europe/London 08:00-16:30 Mon/Tue/Wed/Thu/Fri; next open window 2026-12-03T16:30:00Z (Thu 16:30 Europe/London); break-glass {} for prod expired at 2026-12-03T07:00:00Z",
            bg.sequence
        )
    );
    // An open, approved break-glass lets the same promotion through as an emergency change.
    let bg2 = breakglass::open(
        &ledger,
        sb.signer("oscar"),
        "prod",
        "555555555555",
        Some(&release),
        "INC-7",
        "exchange outage",
        30,
        thursday_t,
    )
    .unwrap();
    breakglass::approve(
        &ledger,
        sb.signer("frank"),
        bg2.sequence,
        "outage confirmed",
        thursday_t,
    )
    .unwrap();
    let o = sb
        .promote(&release, "prod", "deployer-bot", &thursday, 0)
        .unwrap();
    assert_eq!(
        (o.admission.tier, o.admission.break_glass),
        (Tier::Emergency, Some(bg2.sequence))
    );
    // Its retrospective: not by the requester; overdue after 24 h until recorded.
    let records = ledger.records().unwrap();
    assert_eq!(
        breakglass::overdue(&records, thursday_t + Duration::hours(20)).len(),
        0
    );
    assert_eq!(
        breakglass::overdue(&records, thursday_t + Duration::hours(25)).len(),
        2
    );
    assert_eq!(
        err(breakglass::retrospective(
            &ledger,
            sb.signer("oscar"),
            bg2.sequence,
            "INC-7",
            "ok",
            thursday_t
        )),
        format!(
            "oscar opened break-glass {} and cannot sign its retrospective (segregation of duties); someone else records it: `cargo xtask break-glass retrospective --id {} --as ID --key FILE --ticket TICKET --outcome TEXT`",
            bg2.sequence, bg2.sequence
        )
    );
    breakglass::retrospective(
        &ledger,
        sb.signer("audrey"),
        bg2.sequence,
        "INC-7",
        "fix verified",
        thursday_t,
    )
    .unwrap();
    breakglass::retrospective(
        &ledger,
        sb.signer("bob"),
        bg.sequence,
        "INC-7",
        "unused",
        thursday_t,
    )
    .unwrap();
    assert!(
        breakglass::overdue(&ledger.records().unwrap(), thursday_t + Duration::hours(25))
            .is_empty()
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
            thursday_t
        )),
        "a break-glass session lasts 1 to 240 minutes, not 241"
    );
}

#[test]
fn drift_in_the_previous_environment_blocks_the_promotion() {
    let (_d, sb) = sandbox("drift");
    let now = open_time();
    let release = release(&sb, "drift", &now);
    promote_through(&sb, &release, &["dev"], &now);
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
    let d = sb.drift("dev", &now).unwrap();
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
    sb.bootstrap("test", &release).unwrap();
    let msg = err(sb.promote(&release, "test", "deployer-bot", &now, 0));
    assert_eq!(msg, format!("release {} cannot go to test: dev drifted from its declared state (drift record {}: [\"s3://{}\"])", &release[..12], d.record, t.state_bucket));
    // Bootstrap restores the declared settings; the next drift check is clean again.
    sb.bootstrap("dev", &release).unwrap();
    let clean = sb.drift("dev", &now).unwrap();
    assert!(!clean.drifted() && clean.canary_changes.is_empty(), "{clean:?}");

    // Someone applies the canary stack out of band with another release: the drift check names
    // the resource the plan would replace, in its report and in the signed record.
    let run_as = lz_operate::promote::assume_deployer(&t, "out-of-band").unwrap();
    let work = sb.dir.join("out-of-band");
    let ws = lz_operate::deploy::Workspace::init(&root(), &root().join("stacks/canary"), &work, &t.endpoint, &t.backend(), run_as).unwrap();
    let overlay = sb.tree.join("environments/dev/terraform.tfvars");
    let applied = ws
        .terraform()
        .apply(&[
            "-auto-approve".into(),
            format!("-var=release={}", "f".repeat(64)),
            "-var=environment=dev".into(),
            format!("-var=account_id={}", t.account_id),
            format!("-var=region={}", t.region),
            "-var=bake_seconds=0".into(),
            format!("-var-file={}", overlay.display()),
        ])
        .unwrap();
    assert!(applied.success(), "{}", applied.stderr);
    let d = sb.drift("dev", &now).unwrap();
    assert!(d.drifted() && d.findings.is_empty(), "{d:?}");
    assert_eq!(d.canary_changes, ["terraform_data.release (delete, create)"], "{d:?}");
    let text = lz_operate::drift::render_text(&d);
    assert!(text.contains("terraform_data.release (delete, create)"), "{text}");
    let rec = sb.ledger().unwrap().records().unwrap().into_iter().find(|r| r.sequence == d.record).unwrap();
    assert_eq!(rec.details.drift().and_then(|d| d.canary_changes.clone()), Some(vec!["terraform_data.release (delete, create)".to_string()]));
}

#[test]
fn four_concurrent_promotions_apply_exactly_once() {
    let (_d, sb) = sandbox("race");
    let now = open_time();
    let release = release(&sb, "race", &now);
    sb.bootstrap("dev", &release).unwrap();
    sb.approve("bob", &release, "dev", &now).unwrap();
    sb.approve("erin", &release, "dev", &now).unwrap();
    let barrier = std::sync::Barrier::new(4);
    let results: Vec<Result<lz_operate::promote::Outcome, String>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    sb.promote(&release, "dev", "deployer-bot", &now, 2)
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
            && (e.contains("OperationType") || e.contains("its lock was released before Terraform could read who held it"));
        // Late: the winner's apply (or its record: the fence before the apply) came first.
        let late = e.contains("is already deployed to dev: the plan has no changes")
            || e.contains("changed while this promotion planned")
            || (e.contains(&format!("to release {} (record ", &release[..12])) && e.contains("while this run waited; re-run classify"));
        assert!(is_lock || late, "unexpected failure: {e}");
        locked += usize::from(is_lock);
    }
    assert!(locked >= 1, "no promotion met the lock: {results:#?}");
    // State and evidence intact: one completed deployment, every run closed, chain verifies.
    let records = sb.ledger().unwrap().records().unwrap();
    let done: Vec<_> = records
        .iter()
        .filter(|r| r.deployment_outcome() == Some("succeeded"))
        .collect();
    assert_eq!(done.len(), 1);
    let started = records
        .iter()
        .filter(|r| r.deployment_outcome() == Some("in-progress"))
        .count();
    let closed = records
        .iter()
        .filter(|r| r.deployment().is_some_and(|d| d.in_progress_record.is_some()))
        .count();
    assert_eq!(started, 4);
    assert_eq!(closed, 4);
    assert!(!sb.drift("dev", &now).unwrap().drifted());
}

#[test]
fn a_promotion_killed_mid_apply_is_recorded_and_its_lock_recovered_deliberately() {
    use lz_evidence::record::Kind;
    let (_d, sb) = sandbox("killed");
    // The child process reads the server clock, as every promotion does; so does this test.
    let t = sb.target("dev").unwrap();
    let now = t.clock();
    let first = release(&sb, "killed-first", &now);
    promote_through(&sb, &first, &["dev"], &now);
    let second = sb
        .release("killed-second", "alice", &now, |_| Ok(()))
        .unwrap();
    // Its own process, in this test's process group: only the promotion is killed below, never
    // its Terraform child, which must die with it.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lz-rehearse"))
        .args([
            root().to_str().unwrap(),
            sb.dir.to_str().unwrap(),
            "dev",
            &second,
            "deployer-bot",
            "60",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child is applying: its in-progress record exists and the lock says apply.
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
        if let Some(l) = lz_operate::deploy::read_lock(&s3, &t.backend()).unwrap() {
            if l.operation == "OperationTypeApply" {
                break l;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let lock_recoveries = |sb: &lz_operate::sandbox::Sandbox| {
        sb.ledger().unwrap().records().unwrap().into_iter().filter(|r| r.kind == Kind::LockRecovery).collect::<Vec<_>>()
    };

    // A live holder's lock is never released, not even with --recover.
    let e = err(sb.promote_recovering(&second, "dev", "deployer-bot", &now, 0, true));
    assert!(e.contains(&format!("lock {} of the state of dev", lock.id)) && e.contains("is not released"), "{e}");
    assert!(e.contains("has not finished and is not known to be dead"), "{e}");
    assert_eq!(lz_operate::deploy::read_lock(&s3, &t.backend()).unwrap().map(|l| l.id), Some(lock.id.clone()));
    assert!(lock_recoveries(&sb).is_empty());

    // The promotion alone is killed; its Terraform child dies with it.
    let work = sb.dir.join("work");
    let terraforms = || -> Vec<u32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "terraform"))
            .filter(|p| std::fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c.starts_with(&work)))
            .filter(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| !s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z')))
            .collect()
    };
    assert_eq!(terraforms().len(), 1, "the child's terraform apply runs");
    std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !terraforms().is_empty() {
        assert!(std::time::Instant::now() < deadline, "terraform {:?} outlived the killed promotion", terraforms());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // The archive says the run started and never finished.
    let records = sb.ledger().unwrap().records().unwrap();
    let last = records
        .iter()
        .rfind(|r| {
            r.release == second && r.deployment().is_some_and(|d| d.outcome == "in-progress" && d.pid == Some(u64::from(child.id())))
        })
        .unwrap()
        .clone();
    assert!(!records.iter().any(|r| r.deployment().and_then(|d| d.in_progress_record) == Some(last.sequence)));
    assert_eq!(
        lz_operate::deploy::read_lock(&s3, &t.backend()).unwrap().map(|l| l.id),
        Some(lock.id.clone()),
        "the killed run's lock is orphaned"
    );

    // A plain rerun records the run dead and refuses, naming the orphaned lock and --recover.
    let e = sb.promote(&second, "dev", "deployer-bot", &now, 0).unwrap_err();
    assert!(lz_promote::is_refusal(&e), "{e:#}");
    let e = format!("{e:#}");
    assert!(e.contains(&format!("locked by lock {}", lock.id)) && e.contains("orphaned by interrupted run") && e.contains("--recover"), "{e}");
    let records = sb.ledger().unwrap().records().unwrap();
    let rec = records
        .iter()
        .find(|r| r.deployment().is_some_and(|d| d.outcome == "recovered" && d.recovers_record == Some(last.sequence)))
        .unwrap();
    assert_eq!(rec.deployment().and_then(|d| d.lock.as_ref()).and_then(|l| l["id"].as_str()), Some(lock.id.as_str()));
    assert!(lock_recoveries(&sb).is_empty());
    assert!(lz_operate::deploy::read_lock(&s3, &t.backend()).unwrap().is_some());

    // --recover releases it with a signed lock-recovery record naming the lock and the run,
    // and completes the promotion.
    let o = sb.promote_recovering(&second, "dev", "deployer-bot", &now, 0, true).unwrap();
    let lr = lock_recoveries(&sb);
    assert_eq!(lr.len(), 1);
    assert_eq!(Some(lr[0].sequence), o.lock_recovery);
    assert_eq!(lr[0].identity, "deployer-bot");
    let recovery = lr[0].details.lock_recovery().expect("lock-recovery details");
    assert_eq!(recovery.lock_id, lock.id);
    assert_eq!(Some(recovery.run.as_str()), last.run());
    assert_eq!(recovery.in_progress_record, Some(last.sequence));
    assert!(lz_operate::deploy::read_lock(&s3, &t.backend())
        .unwrap()
        .is_none());
    let records = sb.ledger().unwrap().records().unwrap();
    let done = lz_operate::promote::last_deployment(&records, "dev").unwrap();
    assert_eq!((done.release.as_str(), done.sequence), (second.as_str(), o.completion_record));
    common::assert_chain_verifies(&sb, "after --recover");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name() == ".terraform" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// What Terraform applies, and what drift plans, is the release's own stack (its files are part
/// of the digest): a working tree whose canary stack gained a resource with a `local-exec`
/// (which would run with the deployer role's credentials) changes nothing.
#[test]
fn terraform_runs_the_stack_of_the_release_never_the_working_trees() {
    let endpoint = endpoint();
    let checkout = tempfile::tempdir().unwrap();
    for d in lz_evidence::release::TREE {
        copy_dir(&root().join(d), &checkout.path().join(d));
    }
    std::fs::copy(root().join("Cargo.lock"), checkout.path().join("Cargo.lock")).unwrap();
    let dir = tempfile::Builder::new().prefix("lz-promote-side-door-").tempdir().unwrap();
    let sb = Sandbox::new(checkout.path(), &endpoint, dir.path()).unwrap();
    let clock = open_time();
    let r = release(&sb, "base", &clock);
    // The insider's edit, after the release was built: the working tree's stack only.
    let marker = dir.path().join("local-exec-ran");
    let main = checkout.path().join("stacks/canary/main.tf");
    let mut text = std::fs::read_to_string(&main).unwrap();
    text.push_str(&format!(
        "\nresource \"terraform_data\" \"side_door\" {{\n  provisioner \"local-exec\" {{\n    command = \"touch {}\"\n  }}\n}}\n",
        marker.display()
    ));
    std::fs::write(&main, text).unwrap();
    promote_through(&sb, &r, &["dev"], &clock);
    assert!(!marker.exists(), "the working tree's stack ran");
}
