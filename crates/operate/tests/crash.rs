//! Crash-safe promotion (issue 35): a promotion killed with SIGKILL at each phase (the
//! `test-hooks` pause of `promote::Phase`), then one rerun. The environment ends `succeeded` with
//! the state version the backend holds, the chain verifies, and the next environment promotes.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lz_evidence::details::{DeploymentDetails, LockRecoveryDetails};
use lz_evidence::record::{Fields, Kind};
use lz_promote::ledger::Record;
use lz_operate::promote::{last_deployment, read_state, Phase};
use lz_operate::sandbox::Sandbox;

use common::{release, root, sandbox};

fn dep(r: &Record) -> Option<&DeploymentDetails> {
    r.deployment()
}

fn records(sb: &Sandbox) -> Vec<Record> {
    sb.ledger().unwrap().records().unwrap()
}

/// Runs `lz-rehearse` (a promotion in its own process, built with `test-hooks`) until it pauses
/// at `phase`, then SIGKILLs it; returns its pid.
fn kill_at(sb: &Sandbox, release: &str, phase: Phase) -> u32 {
    let work = sb.dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("promote-pause-at"), phase.as_str()).unwrap();
    let _ = std::fs::remove_file(work.join("promote-paused"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lz-rehearse"))
        .args([root().to_str().unwrap(), sb.dir.to_str().unwrap(), "dev", release, "deployer-bot", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::fs::read_to_string(work.join("promote-paused")).map(|s| s.trim().to_string()).ok().as_deref() != Some(phase.as_str()) {
        if let Some(s) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("{}: the run ended ({s}) before its {} boundary:\n{err}", phase.as_str(), phase.as_str());
        }
        assert!(start.elapsed() < Duration::from_secs(180), "{}: the run never reached its boundary", phase.as_str());
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id();
    assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    let exit = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&exit), Some(9), "{}", phase.as_str());
    // The paused run took the pause request: the in-process rerun below (built with test-hooks
    // too) does not pause.
    assert!(!work.join("promote-pause-at").exists(), "{}", phase.as_str());
    pid
}

#[test]
fn a_promotion_killed_at_any_phase_is_completed_truthfully_by_one_rerun() {
    let (_d, sb) = sandbox("crash");
    // The child reads the server clock, as every promotion does; so does this test.
    let t = sb.target("dev").unwrap();
    let now = t.clock();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let mut first = None;
    for (i, phase) in Phase::ALL.into_iter().enumerate() {
        let p = phase.as_str();
        let r = match &first {
            None => {
                let r = release(&sb, "crash-0", &now);
                sb.bootstrap("dev", &r).unwrap();
                sb.bootstrap("test", &r).unwrap();
                first = Some(r.clone());
                r
            }
            Some(_) => {
                let r = sb.release(&format!("crash-{i}"), "alice", &now, |_| Ok(())).unwrap();
                sb.approve_exceptions(&r, &now).unwrap();
                r
            }
        };
        sb.approve("bob", &r, "dev", &now).unwrap();
        sb.approve("erin", &r, "dev", &now).unwrap();
        let state_at_start = read_state(&s3, &t.backend()).unwrap();
        let pid = kill_at(&sb, &r, phase);

        // What the killed run left: an in-progress record (from init on) that nothing closes.
        let before = records(&sb);
        let killed = before.iter().rfind(|x| {
            dep(x).is_some_and(|d| d.outcome == "in-progress" && d.pid == Some(u64::from(pid)))
        });
        assert_eq!(killed.is_some(), phase != Phase::Decision, "{p}: {killed:?}");
        let state = read_state(&s3, &t.backend()).unwrap();
        let applied = matches!(phase, Phase::PostApply | Phase::Record);
        assert_eq!(state.as_ref().and_then(|s| s.release.as_deref()) == Some(r.as_str()), applied, "{p}: {state:?}");
        assert!(lz_operate::deploy::read_lock(&s3, &t.backend()).unwrap().is_none(), "{p}: a lock outlived the run");

        // One rerun completes the promotion.
        let o = sb.promote(&r, "dev", "deployer-bot", &now, 0).unwrap_or_else(|e| panic!("{p}: the rerun failed: {e:#}"));
        let after = records(&sb);
        let done = last_deployment(&after, "dev").unwrap();
        assert_eq!((done.sequence, done.release.as_str()), (o.completion_record, r.as_str()), "{p}");
        let d = dep(done).unwrap();
        assert_eq!(d.outcome, "succeeded", "{p}");
        let state = read_state(&s3, &t.backend()).unwrap().unwrap();
        assert_eq!(state.release.as_deref(), Some(r.as_str()), "{p}");
        assert!(state.version.is_some(), "{p}: the state bucket is versioned");
        assert_eq!(d.state_serial, Some(state.serial), "{p}");
        assert_eq!(d.state_version.as_deref(), state.version.as_deref(), "{p}: the record names the state version the backend holds");
        if let Some(k) = killed {
            // The killed run is recorded dead by the rerun.
            assert!(
                after.iter().any(|x| dep(x).is_some_and(|d| d.outcome == "recovered" && d.recovers_record == Some(k.sequence))),
                "{p}: no recovered record of the killed run"
            );
        }
        if applied {
            // The killed run's apply wrote the state: the rerun applies nothing and records it
            // as succeeded, naming the run it completes, instead of "no changes".
            let k = killed.unwrap();
            assert_eq!(o.completes_record, Some(k.sequence), "{p}");
            assert_eq!(d.completes_record, Some(k.sequence), "{p}");
            assert_eq!(d.recovery.as_ref().and_then(|r| r["run"].as_str()), k.run(), "{p}");
            let serial_then = state_at_start.as_ref().map(|s| s.serial);
            let before = dep(k).and_then(|d| d.state_before.clone()).flatten();
            assert_eq!(before.and_then(|b| b["serial"].as_u64()), serial_then, "{p}");
            assert!(serial_then.is_none_or(|s| s < state.serial), "{p}");
            assert!(!after.iter().any(|x| x.sequence > k.sequence && x.deployment_outcome() == Some("no-changes")), "{p}");
        } else {
            assert_eq!(o.completes_record, None, "{p}: the rerun applied");
            assert!(serial_then_lower(&state_at_start, state.serial), "{p}");
        }
        // The chain verifies.
        common::assert_chain_verifies(&sb, p);
        // The next environment promotes.
        assert!(!sb.drift("dev", &now).unwrap().drifted(), "{p}");
        sb.approve("bob", &r, "test", &now).unwrap();
        sb.approve("erin", &r, "test", &now).unwrap();
        let next = sb.promote(&r, "test", "deployer-bot", &now, 0).unwrap_or_else(|e| panic!("{p}: test: {e:#}"));
        let after = records(&sb);
        assert_eq!(last_deployment(&after, "test").map(|d| d.sequence), Some(next.completion_record), "{p}");
        assert!(!sb.drift("test", &now).unwrap().drifted(), "{p}");
    }
}

fn serial_then_lower(before: &Option<lz_operate::promote::StateAt>, now: u64) -> bool {
    before.as_ref().is_none_or(|b| b.serial < now)
}

/// A plain rerun of an already recorded deployment is still "no changes": the completion is
/// claimed only for a dead run of the same release whose apply wrote the state.
#[test]
fn a_rerun_of_a_recorded_deployment_claims_nothing() {
    let (_d, sb) = sandbox("crash-again");
    let t = sb.target("dev").unwrap();
    let now = t.clock();
    let r = release(&sb, "again", &now);
    common::promote_through(&sb, &r, &["dev"], &now);
    let e = sb.promote(&r, "dev", "deployer-bot", &now, 0).unwrap_err();
    assert!(format!("{e:#}").contains("is already deployed to dev: the plan has no changes"), "{e:#}");
    let rs = records(&sb);
    assert_eq!(rs.iter().filter(|x| x.deployment_outcome() == Some("succeeded")).count(), 1);
    assert!(!rs.iter().any(|x| dep(x).is_some_and(|d| d.completes_record.is_some())));
}

/// Only the deployer signs a lock-recovery record, and one without the lock or the run is
/// refused at append (verification applies the same rules).
#[test]
fn a_lock_recovery_record_is_signed_by_the_deployer_and_names_lock_and_run() {
    let (_d, sb) = sandbox("crash-record");
    let ledger = sb.ledger().unwrap();
    let release = lz_evidence::dsse::sha256_hex(b"release");
    let fields = || {
        lz_evidence::record::LockRecoveryEvidence::new(&release, "dev", "0a5e7c4b", "4242-1-0", serde_json::json!({"who": "ci@runner"})).0
    };
    for who in ["alice", "bob"] {
        let e = ledger.append(Kind::LockRecovery, fields(), sb.signer(who)).unwrap_err();
        assert!(lz_promote::is_refusal(&e), "{who}: {e:#}");
    }
    let lock = |lock_id: &str| LockRecoveryDetails {
        lock_id: lock_id.into(),
        run: "4242-1-0".into(),
        lock: serde_json::json!({"who": "ci@runner"}),
        ..Default::default()
    };
    let empty = Fields::new(&release).environment("dev").details(lock(""));
    let e = ledger.append(Kind::LockRecovery, empty, sb.signer("deployer-bot")).unwrap_err();
    assert!(format!("{e:#}").contains("lock_id of a lock-recovery record"), "{e:#}");
    // Without the run: no typed writer can, a raw one can.
    let mut missing = Fields::new(&release).environment("dev").details(lock("0a5e7c4b"));
    missing.raw_details_mut().remove("run");
    let e = ledger.append(Kind::LockRecovery, missing, sb.signer("deployer-bot")).unwrap_err();
    assert!(format!("{e:#}").contains("\"run\""), "{e:#}");
    let ok = ledger.append(Kind::LockRecovery, fields(), sb.signer("deployer-bot")).unwrap();
    common::assert_chain_verifies(&sb, "lock-recovery");
    assert_eq!(records(&sb).last().map(|r| (r.sequence, r.kind)), Some((ok.sequence, Kind::LockRecovery)));
}

/// Issue 23's race, end to end: a tags-only promotion decides (standard tier, auto-approved
/// against the release dev runs), writes its in-progress record, and waits before its plan; a
/// high-tier release is promoted to dev meanwhile. When the waiting run goes on, its plan would
/// apply the tags-only release over the high-tier one: it is refused before the apply, naming
/// what moved, records `failed`, and the state still holds the high-tier release.
#[test]
fn a_run_that_waited_while_another_deployed_is_refused_before_its_apply() {
    let (_d, sb) = sandbox("race");
    let t = sb.target("dev").unwrap();
    let now = t.clock();
    let s3 = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let base = release(&sb, "race-base", &now);
    common::promote_through(&sb, &base, &["dev"], &now);
    let base_record = last_deployment(&records(&sb), "dev").unwrap().sequence;
    let tags = sb.release("race-tags", "alice", &now, |tree| lz_operate::bench::retag(tree, "CC-4413")).unwrap();
    sb.approve_exceptions(&tags, &now).unwrap();
    let high = sb
        .release("race-cidr", "alice", &now, |tree| {
            let p = tree.join("environments/dev/terraform.tfvars");
            let text = std::fs::read_to_string(&p)?;
            anyhow::ensure!(text.contains("10.10.0.0/16"));
            std::fs::write(&p, text.replace("10.10.0.0/16", "10.11.0.0/16"))?;
            Ok(())
        })
        .unwrap();
    sb.approve_exceptions(&high, &now).unwrap();

    // The tags-only run, in its own process, stops after its decision point (before the plan).
    let work = sb.dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let _ = std::fs::remove_file(work.join("promote-paused"));
    std::fs::write(work.join("promote-pause-at"), Phase::Plan.as_str()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lz-rehearse"))
        .args([root().to_str().unwrap(), sb.dir.to_str().unwrap(), "dev", &tags, "deployer-bot", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !work.join("promote-paused").exists() {
        if let Some(s) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("the tags-only run ended ({s}) before its plan:\n{err}");
        }
        assert!(start.elapsed() < Duration::from_secs(180), "the tags-only run never reached its plan");
        std::thread::sleep(Duration::from_millis(50));
    }
    let waiting = records(&sb)
        .into_iter()
        .rfind(|x| x.release == tags && x.deployment_outcome() == Some("in-progress"))
        .expect("the waiting run recorded its decision point");
    assert_eq!(dep(&waiting).and_then(|d| d.tier.as_deref()), Some("standard"));

    // Meanwhile the high-tier release is approved and promoted to dev.
    sb.approve("bob", &high, "dev", &now).unwrap();
    sb.approve("erin", &high, "dev", &now).unwrap();
    let o = sb.promote(&high, "dev", "deployer-bot", &now, 0).unwrap_or_else(|e| panic!("the high-tier promotion: {e:#}"));
    assert_eq!(o.admission.tier, lz_promote::Tier::High);

    // The waiting run goes on: refused before its apply.
    std::fs::remove_file(work.join("promote-paused")).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let want = format!(
        "the baseline of dev moved from release {} (record {base_record}) to release {} (record {}) while this run waited; re-run classify",
        &base[..12],
        &high[..12],
        o.completion_record
    );
    assert!(stderr.contains(&want), "{stderr}");
    let after = records(&sb);
    let closed = after
        .iter()
        .find(|x| dep(x).and_then(|d| d.in_progress_record) == Some(waiting.sequence))
        .expect("the waiting run closed its in-progress record");
    assert_eq!(closed.deployment_outcome(), Some("failed"));
    assert!(dep(closed).and_then(|d| d.error.as_deref()).is_some_and(|e| e.contains(&want)), "{closed:?}");
    assert_eq!(last_deployment(&after, "dev").map(|d| d.release.as_str()), Some(high.as_str()));
    let state = read_state(&s3, &t.backend()).unwrap().unwrap();
    assert_eq!(state.release.as_deref(), Some(high.as_str()), "nothing was applied over the high-tier release");
    assert!(lz_operate::deploy::read_lock(&s3, &t.backend()).unwrap().is_none());
    common::assert_chain_verifies(&sb, "race");
}
