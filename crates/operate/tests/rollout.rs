//! Staged module adoption against LocalStack (issue 32): a three-wave rollout of a
//! trading-service version (non-prod, a prod canary, prod), a health check that stops the next
//! wave, bake times on the promotion's clock, a rollback linked to the adoption it reverses,
//! and a pin edited to skip a wave refused.

mod common;

use std::path::Path;

use common::*;
use lz_evidence::record::Kind;
use lz_promote::clock::Clock;
use lz_operate::sandbox::Sandbox;
use time::Duration;

const PLAN: &str = r#"
[[modules.trading-service.rollout."1.1.0".wave]]
name = "non-prod"
environments = ["dev", "test", "uat", "preprod"]
bake_minutes = 60
health_checks = ["deployment-succeeded", "drift-clean"]

[[modules.trading-service.rollout."1.1.0".wave]]
name = "prod-canary"
environments = ["prod"]
services = ["market-data"]
bake_minutes = 240
health_checks = ["deployment-succeeded", "drift-clean"]

[[modules.trading-service.rollout."1.1.0".wave]]
name = "prod-all"
environments = ["prod"]
"#;

/// The sandbox tree with the rollout plan, and `pins` (env -> [(service, version)]) in the overlays.
fn edit(tree: &Path, pins: &[(&str, &[(&str, &str)])]) -> anyhow::Result<()> {
    let cat = tree.join("modules/catalog.toml");
    let mut text = std::fs::read_to_string(&cat)?;
    assert!(text.contains("version = \"1.1.0\""), "trading-service is no longer 1.1.0: update this test");
    text.push_str(PLAN);
    std::fs::write(&cat, text)?;
    for (env, services) in pins {
        let f = tree.join(format!("environments/{env}/pins.toml"));
        let mut text = String::from("[pins.trading-service]\n");
        for (s, v) in *services {
            text.push_str(&format!("{s} = \"{v}\"\n"));
        }
        std::fs::write(&f, text)?;
    }
    Ok(())
}

fn approve_and_promote(sb: &Sandbox, release: &str, env: &str, clock: &Clock) -> anyhow::Result<lz_operate::promote::Outcome> {
    // By the change's tier: a standard change (a rollback, or nothing moved) is approved by the
    // change policy; prod needs security and business for a high change, operations for a
    // normal one (a module adoption).
    use lz_promote::tier::Tier;
    let who: &[&str] = match (sb.session(release, env)?.classify()?.tier, env) {
        (Tier::Standard, _) => &[],
        (Tier::High, "prod") => &["bob", "carol"],
        (_, "prod") => &["bob", "dave"],
        _ => &["bob", "erin"],
    };
    for w in who {
        sb.approve(w, release, env, clock)?;
    }
    sb.promote(release, env, "deployer-bot", clock, 0)
}

fn promote_and_check(sb: &Sandbox, release: &str, envs: &[&str], clock: &Clock) {
    for env in envs {
        approve_and_promote(sb, release, env, clock).unwrap_or_else(|e| panic!("{env}: {e:#}"));
        assert!(!sb.drift(env, clock).unwrap().drifted(), "{env} drifted");
    }
}

/// (environment, service, from, to, wave, rollback_of) of every adoption record, in order.
fn adoptions(sb: &Sandbox) -> Vec<(String, String, String, String, u32, Option<u64>)> {
    sb.ledger()
        .unwrap()
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == Kind::Adoption)
        .map(|r| {
            let a = r.details.adoption().unwrap().clone();
            (r.environment.clone().unwrap(), a.service, a.from, a.to, a.wave, a.rollback_of)
        })
        .collect()
}

/// R0 runs trading-service 1.0.0 (the code of released/trading-service/1.0.0) as the catalog's
/// current version, deployed with approvals in dev: the chain's record of what 1.0.0's code is,
/// which a release's copy of 1.0.0 must match.
fn run_one_zero_in_dev(sb: &Sandbox, clock: &Clock) {
    let r0 = sb
        .release("one-zero", "alice", clock, |t| {
            let module = t.join("modules/trading-service");
            std::fs::remove_dir_all(&module)?;
            std::fs::rename(t.join("released/trading-service/1.0.0"), &module)?;
            let mut c = lz_repo::catalog::load(t)?;
            let e = c.modules.get_mut("trading-service").unwrap();
            e.version = "1.0.0".into();
            e.sha256 = e.released.remove("1.0.0").unwrap();
            lz_platform::catalog::save(t, &c)
        })
        .unwrap();
    sb.approve_exceptions(&r0, clock).unwrap();
    promote_and_check(sb, &r0, &["dev"], clock);
}

fn at(clock: &Clock, minutes: i64) -> Clock {
    let Clock::Fixed(t) = clock else { unreachable!("tests use a fixed clock") };
    Clock::Fixed(*t + Duration::minutes(minutes))
}

#[test]
fn a_three_wave_rollout_stops_on_a_health_check_bakes_on_the_promotion_clock_and_rolls_back() {
    let (_d, sb) = sandbox("rollout");
    let t0 = open_time();
    let prod_old: &[(&str, &str)] =
        &[("order-gateway", "1.0.0"), ("matching-engine", "1.0.0"), ("market-data", "1.0.0"), ("position-store", "1.0.0")];
    // R1: 1.1.0 everywhere but prod, which stays on 1.0.0 (no plan: adopted in wave 1).
    let r1 = sb.release("r1", "alice", &t0, |t| edit(t, &[("prod", prod_old)])).unwrap();
    sb.approve_exceptions(&r1, &t0).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r1, &t0).unwrap();
        sb.bootstrap(env, &r1).unwrap();
    }
    // What 1.0.0's code is comes from the chain: no release deployed with approvals has run it
    // as its catalog's current version yet, so R1's copy of it is refused in prod.
    let e = lz_promote::adoption::admit(&lz_promote::Session::open(&sb.paths, &r1, "prod").unwrap(), time_of(&t0)).unwrap_err();
    assert!(lz_promote::is_refusal(&e) && format!("{e:#}").contains("no release the chain deployed with approvals ran trading-service@1.0.0"), "{e:#}");
    run_one_zero_in_dev(&sb, &t0);
    // A release pinning a dev service to 1.0.0 with other code under that number, its hash
    // re-recorded: dev's governing release (R0) ran 1.0.0 as its current version, and the
    // chain's first approved deployment of 1.0.0 (R0's) says what that code is.
    let forged = sb
        .release("forged-dev", "alice", &t0, |t| {
            edit(t, &[("dev", &[("order-gateway", "1.0.0")])])?;
            let main = t.join("released/trading-service/1.0.0/main.tf");
            let text = std::fs::read_to_string(&main)?;
            std::fs::write(&main, text.replace("\"secretsmanager:GetSecretValue\"", "\"secretsmanager:*\""))?;
            let mut c = lz_repo::catalog::load(t)?;
            let sha = lz_platform::catalog::module_hash(&t.join("released/trading-service/1.0.0"))?;
            c.modules.get_mut("trading-service").unwrap().released.insert("1.0.0".into(), sha);
            lz_platform::catalog::save(t, &c)
        })
        .unwrap();
    let e = lz_promote::adoption::admit(&lz_promote::Session::open(&sb.paths, &forged, "dev").unwrap(), time_of(&t0)).unwrap_err();
    assert!(lz_promote::is_refusal(&e) && format!("{e:#}").contains("an admitted version's code is not replaced"), "{e:#}");
    let before_r1 = adoptions(&sb).len();
    // Wave 1 moves the non-prod services, but preprod is promoted without its drift check first.
    promote_and_check(&sb, &r1, &["dev", "test", "uat"], &t0);
    approve_and_promote(&sb, &r1, "preprod", &t0).unwrap();
    let a = adoptions(&sb);
    let moved = &a[before_r1..];
    assert!(moved.iter().filter(|x| x.0 != "prod").all(|x| x.2 == if x.0 == "dev" { "1.0.0" } else { "none" } && x.3 == "1.1.0" && x.4 == 1), "{a:?}");
    assert_eq!(moved.len(), 5 + 5 + 4 + 4, "{a:?}");

    // R2 moves the prod canary (market-data). The health check of wave 1 stops it: preprod was
    // not drift-checked since it moved.
    let canary_only: &[(&str, &str)] = &[("order-gateway", "1.0.0"), ("matching-engine", "1.0.0"), ("position-store", "1.0.0")];
    let r2 = sb.release("r2", "alice", &t0, |t| edit(t, &[("prod", canary_only)])).unwrap();
    sb.approve_exceptions(&r2, &t0).unwrap();
    // Prod needs R1 there first (the previous environment's release); it adopts 1.0.0.
    assert!(!sb.drift("preprod", &t0).unwrap().drifted());
    approve_and_promote(&sb, &r1, "prod", &t0).unwrap();
    let t1 = at(&t0, 10);
    promote_and_check(&sb, &r2, &["dev", "test", "uat", "preprod"], &t1);
    // Now the drift checks are in but wave 1 has not baked an hour since its last move.
    let e = format!("{:#}", approve_and_promote(&sb, &r2, "prod", &t1).unwrap_err());
    assert!(e.contains("market-data in prod may not move to 1.1.0") && e.contains("wave 1 (non-prod) bakes until"), "{e}");
    assert!(lz_promote::is_refusal(&approve_and_promote(&sb, &r2, "prod", &t1).unwrap_err()));
    // The dry run shows the held wave as its adoption gate, with the promotion's refusal.
    let g = sb.dry_run(&r2, "prod", "deployer-bot", &t1).unwrap();
    let held = g.gates.iter().find(|c| c.gate == lz_promote::gates::Gate::Adoption).expect("an adoption gate");
    assert_eq!(held.status, lz_promote::gates::Status::Unmet, "{held:?}");
    assert!(held.why.contains("wave 1 (non-prod) bakes until") && g.exit_code() == 1, "{held:?}");
    // An hour later it has baked: the canary moves in wave 2; prod-all is held by the canary.
    let t2 = at(&t0, 70);
    approve_and_promote(&sb, &r2, "prod", &t2).unwrap();
    let a = adoptions(&sb);
    let canary = a.iter().find(|x| x.0 == "prod" && x.1 == "market-data" && x.3 == "1.1.0").expect("the canary moved");
    assert_eq!((canary.2.as_str(), canary.4), ("1.0.0", 2));
    // Prod now runs two versions, each from its own code: the canary from the release's
    // modules/ (1.1.0 added the task policy's version deny), the rest from the release's copy of
    // 1.0.0 (released/trading-service/1.0.0).
    let plan = sb.session(&r2, "prod").unwrap().plan;
    let policy = |s: &str| {
        let addr = format!("module.service[\"{s}\"].aws_iam_role_policy.task");
        let rc = plan["resource_changes"].as_array().unwrap().iter().find(|r| r["address"] == addr.as_str()).unwrap_or_else(|| panic!("no {addr}"));
        rc["change"]["after"]["policy"].as_str().unwrap().to_string()
    };
    assert!(policy("market-data").contains("OnlyTheCurrentVersion"), "the canary renders 1.1.0");
    for s in ["order-gateway", "matching-engine", "position-store"] {
        assert!(!policy(s).contains("OnlyTheCurrentVersion"), "{s} renders 1.0.0");
    }
    // A release author swaps 1.0.0's code (a wider task policy) under the same version: edited
    // alone, or with its hash re-recorded in the release's catalog. Both are refused before any
    // move: prod's governing release (R2) recorded 1.0.0's code.
    for rerecord in [false, true] {
        let forged = sb
            .release(if rerecord { "forged-rerecorded" } else { "forged" }, "alice", &t2, |t| {
                edit(t, &[("prod", canary_only)])?;
                let main = t.join("released/trading-service/1.0.0/main.tf");
                let text = std::fs::read_to_string(&main)?;
                std::fs::write(&main, text.replace("\"secretsmanager:GetSecretValue\"", "\"secretsmanager:*\""))?;
                if rerecord {
                    let mut c = lz_repo::catalog::load(t)?;
                    let sha = lz_platform::catalog::module_hash(&t.join("released/trading-service/1.0.0"))?;
                    c.modules.get_mut("trading-service").unwrap().released.insert("1.0.0".into(), sha);
                    lz_platform::catalog::save(t, &c)?;
                }
                Ok(())
            })
            .unwrap();
        let session = lz_promote::Session::open(&sb.paths, &forged, "prod").unwrap();
        let e = lz_promote::adoption::admit(&session, time_of(&t2)).unwrap_err();
        assert!(lz_promote::is_refusal(&e), "{e:#}");
        let want = if rerecord { "an admitted version's code is not replaced" } else { "its catalog records" };
        assert!(format!("{e:#}").contains(want), "{e:#}");
    }

    // R3 moves the rest of prod: held until the canary bakes 4 hours and its drift check is clean.
    let r3 = sb.release("r3", "alice", &t2, |t| edit(t, &[])).unwrap();
    sb.approve_exceptions(&r3, &t2).unwrap();
    promote_and_check(&sb, &r3, &["dev", "test", "uat", "preprod"], &t2);
    // Its pin change is classified by what it moves: three adoptions (normal), and the new code
    // they render, whose task policies change (IAM: a high change, as any IAM change).
    let c = sb.session(&r3, "prod").unwrap().classify().unwrap();
    let moved: Vec<_> = c.resources.iter().filter(|r| r.resource_type == "module-version").collect();
    assert!(moved.len() == 3 && moved.iter().all(|r| r.rule == "module-adoption" && r.tier == lz_promote::tier::Tier::Normal), "{moved:?}");
    let iam: Vec<_> = c.resources.iter().filter(|r| r.resource_type == "aws_iam_role_policy").map(|r| r.address.as_str()).collect();
    assert_eq!(iam.len(), 3, "{c:?}");
    assert_eq!(c.tier, lz_promote::tier::Tier::High, "{c:?}");
    let e = format!("{:#}", approve_and_promote(&sb, &r3, "prod", &t2).unwrap_err());
    assert!(e.contains("order-gateway in prod may not move to 1.1.0"), "{e}");
    assert!(e.contains("wave 2 (prod-canary): health check pending: drift-clean"), "{e}");
    let t3 = at(&t0, 70 + 241);
    assert!(!sb.drift("prod", &t3).unwrap().drifted());
    approve_and_promote(&sb, &r3, "prod", &t3).unwrap();
    let a = adoptions(&sb);
    let prod_all: Vec<_> = a.iter().filter(|x| x.0 == "prod" && x.3 == "1.1.0" && x.4 == 3).collect();
    assert_eq!(prod_all.len(), 3, "{a:?}");

    // R4 rolls order-gateway back to 1.0.0 in prod: a rollback naming the adoption it reverses.
    let reversed = sb
        .ledger()
        .unwrap()
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == Kind::Adoption && r.environment.as_deref() == Some("prod"))
        .rfind(|r| r.details.adoption().is_some_and(|x| x.service == "order-gateway"))
        .unwrap()
        .sequence;
    let r4 = sb.release("r4", "alice", &t3, |t| edit(t, &[("prod", &[("order-gateway", "1.0.0")])])).unwrap();
    sb.approve_exceptions(&r4, &t3).unwrap();
    promote_and_check(&sb, &r4, &["dev", "test", "uat", "preprod"], &t3);
    // Promoting the previous version, admitted in prod before, is a standard change.
    let c = sb.session(&r4, "prod").unwrap().classify().unwrap();
    let moved: Vec<_> = c.resources.iter().filter(|r| r.resource_type == "module-version").collect();
    assert!(moved.len() == 1 && moved[0].rule == "module-rollback" && moved[0].reason.contains(&format!("rollback of adoption record {reversed}")), "{moved:?}");
    // Its task policy goes back to 1.0.0's, exactly as prod ran it before the adoption: the
    // resource classifies with the rollback, not as a new IAM change.
    let policy = c.resources.iter().find(|r| r.address == "module.service[\"order-gateway\"].aws_iam_role_policy.task").expect("the policy changes back");
    assert!(policy.rule == "module-rollback" && policy.reason.contains("as deployment record"), "{policy:?}");
    assert_eq!(c.tier, lz_promote::tier::Tier::Standard, "{c:?}");
    promote_and_check(&sb, &r4, &["prod"], &t3);
    let a = adoptions(&sb);
    let back = a.last().unwrap();
    assert_eq!(
        (back.0.as_str(), back.1.as_str(), back.2.as_str(), back.3.as_str(), back.4, back.5),
        ("prod", "order-gateway", "1.1.0", "1.0.0", 0, Some(reversed))
    );
    assert_chain_verifies(&sb, "after the rollout");
    // The adoption table from the verified chain.
    let rows = lz_promote::adoption::rows(&sb.ledger().unwrap().records().unwrap(), Some("trading-service"));
    let og = rows.iter().find(|r| r.environment == "prod" && r.service == "order-gateway").unwrap();
    assert_eq!((og.version.as_str(), og.rollback_of), ("1.0.0", Some(reversed)));
    assert!(!og.approvals.is_empty() && og.approvals.iter().all(|a| a.contains(" by ")), "{og:?}");
    // The auditor report's section shows the same table.
    let selection = lz_report::Selection::Release(r4.clone());
    let report = lz_report::build(&sb.paths, &selection, &lz_report::Options::default()).unwrap();
    assert!(report.verified(), "{:?}", report.verification);
    assert_eq!(report.adoption, lz_promote::adoption::rows(&sb.ledger().unwrap().records().unwrap(), None));
    let html = lz_report::render(&report).unwrap();
    assert!(html.contains("<h2>Module adoption</h2>") && html.contains(&format!("rollback of record {reversed}")), "no adoption section");
}

/// An insider edits the prod pins of a checkout so that a release moves prod before non-prod
/// moved: the promotion is refused from the chain, whatever the tree says.
#[test]
fn a_pin_edited_to_skip_a_wave_is_refused() {
    let (_d, sb) = sandbox("rollout-skip");
    let t0 = open_time();
    // The tree has the plan; dev pins every service to 1.0.0 (wave 1 never moves).
    let dev_old: &[(&str, &str)] =
        &[("order-gateway", "1.0.0"), ("matching-engine", "1.0.0"), ("market-data", "1.0.0"), ("position-store", "1.0.0"), ("risk-engine", "1.0.0")];
    let r = sb.release("skip", "alice", &t0, |t| edit(t, &[("dev", dev_old)])).unwrap();
    sb.approve_exceptions(&r, &t0).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, &t0).unwrap();
    }
    sb.bootstrap("dev", &r).unwrap();
    run_one_zero_in_dev(&sb, &t0);
    promote_and_check(&sb, &r, &["dev"], &t0);
    // The release would move prod's services straight to 1.1.0: the admission of a promotion
    // to prod (what `promote` runs after its approvals) refuses it from the chain, a day later.
    let later = at(&t0, 24 * 60);
    let rows = lz_promote::adoption::rows(&sb.ledger().unwrap().records().unwrap(), None);
    assert!(rows.iter().any(|r| r.environment == "dev" && r.version == "1.0.0"), "{rows:?}");
    let session = lz_promote::Session::open(&sb.paths, &r, "prod").unwrap();
    let e = lz_promote::adoption::admit(&session, time_of(&later)).unwrap_err();
    assert!(lz_promote::is_refusal(&e), "{e:#}");
    // Classified by what it moves: adoptions (normal), none of them a rollback.
    let c = session.classify().unwrap();
    let moved: Vec<_> = c.resources.iter().filter(|r| r.resource_type == "module-version").collect();
    assert!(!moved.is_empty() && moved.iter().all(|r| r.rule == "module-adoption" && r.tier >= lz_promote::tier::Tier::Normal), "{moved:?}");
    let e = format!("{e:#}");
    assert!(e.contains("market-data in prod may not move to 1.1.0") && e.contains("wave 1 (non-prod) has not moved dev/market-data"), "{e}");
    assert!(e.contains(", test/market-data"), "{e}");
}

fn time_of(c: &Clock) -> i64 {
    let Clock::Fixed(t) = c else { unreachable!() };
    t.unix_timestamp()
}

/// The plan an insider's release would rather be judged by: every environment in one wave.
const SKIPPING_PLAN: &str = r#"
[[modules.trading-service.rollout."1.1.0".wave]]
name = "everywhere"
environments = ["dev", "test", "uat", "preprod", "prod"]
"#;

/// An insider authors a release that rewrites the rollout plan of a version whose rollout has
/// started (prod in the first wave), or drops the plan: the wave judgement reads the plan from
/// the release that started the rollout on the chain, so prod is still held by the non-prod wave.
#[test]
fn a_release_that_rewrites_or_drops_its_rollout_plan_to_skip_a_wave_is_still_held() {
    let (_d, sb) = sandbox("rollout-rewrite");
    let t0 = open_time();
    // R0 (no rollout plan) governs every environment; R starts the rollout of 1.1.0 in dev.
    let r0 = release(&sb, "r0", &t0);
    sb.bootstrap("dev", &r0).unwrap();
    let r = sb.release("r", "alice", &t0, |t| edit(t, &[])).unwrap();
    sb.approve_exceptions(&r, &t0).unwrap();
    promote_and_check(&sb, &r, &["dev"], &t0);
    let a = adoptions(&sb);
    assert!(a.len() == 5 && a.iter().all(|x| x.0 == "dev" && x.3 == "1.1.0" && x.4 == 1), "{a:?}");
    let started = sb.ledger().unwrap().records().unwrap().into_iter().find(|x| x.kind == Kind::Adoption).unwrap().sequence;
    // R' rewrites the plan so that prod is in the first wave.
    let rewritten = sb
        .release("rewrite", "alice", &t0, |t| {
            let cat = t.join("modules/catalog.toml");
            let text = std::fs::read_to_string(&cat)?;
            Ok(std::fs::write(&cat, text + SKIPPING_PLAN)?)
        })
        .unwrap();
    sb.approve_exceptions(&rewritten, &t0).unwrap();
    let later = at(&t0, 24 * 60);
    for (what, release) in [("a rewritten plan", &rewritten), ("no plan at all", &r0)] {
        let session = lz_promote::Session::open(&sb.paths, release, "prod").unwrap();
        let e = lz_promote::adoption::admit(&session, time_of(&later)).expect_err(what);
        assert!(lz_promote::is_refusal(&e), "{what}: {e:#}");
        let e = format!("{e:#}");
        assert!(e.contains("market-data in prod may not move to 1.1.0") && e.contains("wave 1 (non-prod) has not moved"), "{what}: {e}");
        assert!(e.contains("test/market-data"), "{what}: {e}");
        if release == &rewritten {
            assert!(e.contains(&format!("whose adoption record {started} started the rollout")) && e.contains("is not applied"), "{what}: {e}");
        }
    }
    // `catalog adoption` of a checkout with the rewritten plan shows the plan in force.
    let records = sb.ledger().unwrap().records().unwrap();
    let session = lz_promote::Session::open(&sb.paths, &rewritten, "prod").unwrap();
    let tree = lz_promote::adoption::Tree(&session.release.files);
    let c = lz_promote::adoption::catalog_in_force(tree.catalog().unwrap(), &records, |d| Ok(std::mem::take(&mut sb.paths.open_release(d)?.files))).unwrap();
    let waves: Vec<&str> = c.modules["trading-service"].rollout["1.1.0"].waves.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(waves, ["non-prod", "prod-canary", "prod-all"]);
    let next = lz_promote::adoption::next_waves(&c, &tree.targets().unwrap(), &records, Some("trading-service"), time_of(&later));
    let held = next.iter().find(|n| n.version == "1.1.0").expect("the rollout of 1.1.0");
    assert!(held.wave.as_ref().is_some_and(|w| w.1 == "non-prod") && held.holds.iter().any(|h| h.contains("test/market-data")), "{next:?}");
    // `catalog wave` stages the next wave (non-prod): its services lose their pins, and prod,
    // which runs nothing known and has no pin, is named rather than guessed.
    let e = lz_promote::adoption::stage(&c, "trading-service", "1.1.0", None, &tree.targets().unwrap(), &Default::default(), &records, time_of(&later))
        .unwrap_err();
    assert!(format!("{e:#}").contains("market-data in prod") && !format!("{e:#}").contains("in test"), "{e:#}");
    let mut held: std::collections::BTreeMap<String, lz_repo::rollout::Pins> = Default::default();
    for s in ["order-gateway", "matching-engine", "market-data", "position-store"] {
        held.entry("prod".into()).or_default().entry("trading-service".into()).or_default().insert(s.into(), "1.0.0".into());
    }
    let s = lz_promote::adoption::stage(&c, "trading-service", "1.1.0", None, &tree.targets().unwrap(), &held, &records, time_of(&later)).unwrap();
    assert_eq!(s.wave, Some(0));
    assert_eq!(s.pins, held, "the non-prod wave moves with no pin; prod stays held");
    // The release that started the rollout is judged by its own plan, as before.
    let session = lz_promote::Session::open(&sb.paths, &r, "test").unwrap();
    let moves = lz_promote::adoption::admit(&session, time_of(&later)).unwrap();
    assert!(!moves.is_empty() && moves.iter().all(|m| m.wave == 1 && m.to == "1.1.0"), "{moves:?}");
}
