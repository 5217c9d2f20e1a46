//! Staged rollouts (issue 32): the property that no service runs a version its wave has not
//! reached, whatever the plan, the order of attempts and the health events.
use lz_repo::rollout::{may_adopt, progress, reverses, Event, HealthCheck, Plan, Target, Wave};
use proptest::prelude::*;

const ENVS: [&str; 3] = ["dev", "uat", "prod"];
const SERVICES: [&str; 3] = ["order-gateway", "matching-engine", "market-data"];
const MODULE: &str = "trading-service";

fn targets() -> Vec<Target> {
    ENVS.iter().flat_map(|e| SERVICES.iter().map(|s| (e.to_string(), s.to_string()))).collect()
}

/// A plan of one to three waves over the environments in order, with a canary of prod services.
fn plans() -> impl Strategy<Value = Plan> {
    (0u64..3, 0u64..3, 0u64..3, proptest::bool::ANY, 0usize..3).prop_map(|(b1, b2, b3, checks, canary)| {
        let hc = if checks { vec![HealthCheck::DeploymentSucceeded, HealthCheck::DriftClean] } else { Vec::new() };
        let wave = |name: &str, envs: &[&str], services: &[&str], bake: u64| Wave {
            name: name.into(),
            environments: envs.iter().map(|e| e.to_string()).collect(),
            services: services.iter().map(|s| s.to_string()).collect(),
            bake_minutes: bake * 30,
            health_checks: hc.clone(),
        };
        Plan {
            waves: vec![
                wave("non-prod", &["dev", "uat"], &[], b1),
                wave("prod-canary", &["prod"], &SERVICES[..=canary], b2),
                wave("prod-all", &["prod"], &[], b3),
            ]
            .into_iter()
            .filter(|w| !(canary == 2 && w.name == "prod-all"))
            .collect(),
        }
    })
}

#[derive(Debug, Clone)]
enum Step {
    /// Try to move a target (index) after `gap` minutes.
    Adopt(usize, i64),
    /// A deployment (succeeded or not) or a drift check (clean or not) of an environment.
    Deploy(usize, bool, i64),
    Drift(usize, bool, i64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        4 => (0usize..9, 0i64..120).prop_map(|(t, g)| Step::Adopt(t, g)),
        1 => (0usize..3, proptest::bool::weighted(0.8), 0i64..60).prop_map(|(e, ok, g)| Step::Deploy(e, ok, g)),
        2 => (0usize..3, proptest::bool::weighted(0.8), 0i64..60).prop_map(|(e, ok, g)| Step::Drift(e, ok, g)),
    ];
    proptest::collection::vec(step, 0..60)
}

/// Runs `steps` through the gate ([`may_adopt`]); returns the events the chain would hold.
fn run(plan: &Plan, steps: &[Step]) -> Vec<Event> {
    let all = targets();
    let mut events = Vec::new();
    let mut now = 1_700_000_000i64;
    let mut seq = 0u64;
    for s in steps {
        seq += 1;
        match s {
            Step::Adopt(t, gap) => {
                now += gap * 60;
                let target = &all[*t];
                if let Ok(wave) = may_adopt(plan, MODULE, "1.1.0", target, &all, &events, now) {
                    let on = lz_repo::rollout::running(MODULE, &events);
                    if on.get(target).is_some_and(|(v, _, _)| v == "1.1.0") {
                        continue;
                    }
                    events.push(Event::Adopted {
                        sequence: seq,
                        env: target.0.clone(),
                        service: target.1.clone(),
                        module: MODULE.into(),
                        from: "1.0.0".into(),
                        to: "1.1.0".into(),
                        wave,
                        at: now,
                    });
                }
            }
            Step::Deploy(e, ok, gap) => {
                now += gap * 60;
                events.push(Event::Deployment { sequence: seq, env: ENVS[*e].into(), succeeded: *ok, at: now });
            }
            Step::Drift(e, ok, gap) => {
                now += gap * 60;
                events.push(Event::Drift { sequence: seq, env: ENVS[*e].into(), clean: *ok, at: now });
            }
        }
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// No service runs a version its wave has not reached: for every adoption the gate let
    /// through, every target of every earlier wave had moved before it, the bake time of each
    /// earlier wave had passed since its last move, and no deployment of an earlier wave's
    /// environments had failed since that wave started (when the wave checks it).
    #[test]
    fn no_service_runs_a_version_its_wave_has_not_reached(plan in plans(), steps in steps()) {
        let events = run(&plan, &steps);
        let moved: Vec<(Target, i64, u64)> = events.iter().filter_map(|e| match e {
            Event::Adopted { env, service, at, sequence, .. } => Some(((env.clone(), service.clone()), *at, *sequence)),
            _ => None,
        }).collect();
        for (target, at, adopted) in &moved {
            let wave = plan.wave_of(&target.0, &target.1).expect("the gate moved a target outside the plan");
            for (k, w) in plan.waves[..wave].iter().enumerate() {
                let of_k: Vec<Target> = targets().into_iter().filter(|(e, s)| plan.wave_of(e, s) == Some(k)).collect();
                let times: Vec<i64> = of_k.iter().map(|t| moved.iter().find(|(m, _, _)| m == t).map(|(_, a, _)| *a)
                    .unwrap_or_else(|| panic!("{target:?} moved before {t:?} of earlier wave {}", w.name))).collect();
                let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
                prop_assert!(last + (w.bake_minutes as i64) * 60 <= *at, "{target:?} moved before wave {} baked", w.name);
                if w.health_checks.contains(&HealthCheck::DeploymentSucceeded) {
                    // Recorded before the adoption (by sequence: a deployment recorded after it in
                    // the same second could not have held it).
                    let failed = events.iter().any(|e| matches!(e, Event::Deployment { env, succeeded: false, at: d, sequence, .. }
                        if w.environments.contains(env) && *d >= first && d <= at && sequence < adopted));
                    prop_assert!(!failed, "{target:?} moved after a failed deployment of wave {}", w.name);
                }
            }
        }
    }
}

fn plan3() -> Plan {
    toml::from_str(
        r#"
[[wave]]
name = "non-prod"
environments = ["dev", "uat"]
bake_minutes = 60
health_checks = ["deployment-succeeded", "drift-clean"]
[[wave]]
name = "prod-canary"
environments = ["prod"]
services = ["market-data"]
bake_minutes = 240
health_checks = ["deployment-succeeded", "drift-clean"]
[[wave]]
name = "prod-all"
environments = ["prod"]
"#,
    )
    .unwrap()
}

fn adopted(sequence: u64, env: &str, service: &str, wave: u32, at: i64) -> Event {
    Event::Adopted {
        sequence,
        env: env.into(),
        service: service.into(),
        module: MODULE.into(),
        from: "1.0.0".into(),
        to: "1.1.0".into(),
        wave,
        at,
    }
}

/// A failed health check stops the wave: a failed deployment in a wave's environment holds the
/// next wave however long it bakes, and the hold names the record.
#[test]
fn a_failed_health_check_stops_the_next_wave() {
    let plan = plan3();
    let all = targets();
    let mut events: Vec<Event> = Vec::new();
    let mut seq = 0;
    for (env, service) in all.iter().filter(|(e, _)| e != "prod") {
        seq += 1;
        events.push(adopted(seq, env, service, 1, 1000 + seq as i64));
    }
    events.push(Event::Drift { sequence: 90, env: "dev".into(), clean: true, at: 2000 });
    events.push(Event::Drift { sequence: 91, env: "uat".into(), clean: true, at: 2000 });
    let canary: Target = ("prod".into(), "market-data".into());
    // Not baked yet: the hold says until when.
    let hold = may_adopt(&plan, MODULE, "1.1.0", &canary, &all, &events, 2000).unwrap_err();
    assert!(hold.to_string().contains("bakes until"), "{hold}");
    assert_eq!(may_adopt(&plan, MODULE, "1.1.0", &canary, &all, &events, 1006 + 3600), Ok(2));
    // prod-all waits for the canary.
    let rest: Target = ("prod".into(), "order-gateway".into());
    let hold = may_adopt(&plan, MODULE, "1.1.0", &rest, &all, &events, 10_000).unwrap_err();
    assert!(hold.to_string().contains("wave 2 (prod-canary) has not moved prod/market-data"), "{hold}");
    // A failed deployment in uat stops it, even long after baking.
    events.push(Event::Deployment { sequence: 92, env: "uat".into(), succeeded: false, at: 2100 });
    let hold = may_adopt(&plan, MODULE, "1.1.0", &canary, &all, &events, 1_000_000).unwrap_err();
    assert!(hold.to_string().contains("health check failed: deployment-succeeded: deployment record 92 in uat failed"), "{hold}");
    let states = progress(&plan, MODULE, "1.1.0", &all, &events);
    assert_eq!(states[0].failed.len(), 1);
    assert!(states[0].completed_at.is_some());
}

/// A pin edited to skip a wave: prod services cannot move while non-prod has not.
#[test]
fn a_pin_that_skips_a_wave_is_held() {
    let plan = plan3();
    let all = targets();
    let hold = may_adopt(&plan, MODULE, "1.1.0", &("prod".into(), "order-gateway".into()), &all, &[], 1_000_000).unwrap_err();
    let text = hold.to_string();
    assert!(text.contains("wave 1 (non-prod) has not moved dev/market-data"), "{text}");
    assert!(text.contains("wave 2 (prod-canary) has not moved prod/market-data"), "{text}");
    assert_eq!(may_adopt(&plan, MODULE, "1.1.0", &("dev".into(), "order-gateway".into()), &all, &[], 0), Ok(1));
    let outside = may_adopt(&plan, MODULE, "1.1.0", &("test".into(), "order-gateway".into()), &all, &[], 0).unwrap_err();
    assert!(outside.to_string().contains("has no wave for order-gateway in test"), "{outside}");
}

/// A rollback reverses the latest adoption of the target, only when the previous version was
/// admitted in that environment before.
#[test]
fn a_rollback_names_the_adoption_it_reverses() {
    let mut events = vec![adopted(5, "dev", "order-gateway", 1, 100), adopted(6, "dev", "market-data", 1, 101)];
    let t: Target = ("dev".into(), "order-gateway".into());
    assert_eq!(reverses(MODULE, &t, "1.1.0", "1.0.0", &events), Some(5));
    assert_eq!(reverses(MODULE, &t, "1.1.0", "0.9.0", &events), None, "0.9.0 was never admitted in dev");
    assert_eq!(reverses(MODULE, &("uat".into(), "order-gateway".into()), "1.1.0", "1.0.0", &events), None);
    events.push(adopted(9, "dev", "order-gateway", 1, 200));
    assert_eq!(reverses(MODULE, &t, "1.1.0", "1.0.0", &events), Some(9), "the latest adoption");
}

/// Re-adoption after a rollback: 1.0 -> 1.1 (wave 1), rolled back 1.1 -> 1.0 (wave 0), then
/// 1.0 -> 1.1 again. The rollback is not an adoption a move may "reverse": the re-adoption is a
/// forward move (normal tier, judged by the waves), not a rollback that skips them.
#[test]
fn a_re_adoption_after_a_rollback_is_not_a_rollback() {
    let t: Target = ("dev".into(), "order-gateway".into());
    let mut back = adopted(6, "dev", "order-gateway", 0, 200);
    if let Event::Adopted { from, to, .. } = &mut back {
        (*from, *to) = ("1.1.0".into(), "1.0.0".into());
    }
    let mut events = vec![adopted(5, "dev", "order-gateway", 1, 100), back];
    assert_eq!(reverses(MODULE, &t, "1.0.0", "1.1.0", &events), None, "moving 1.0.0 -> 1.1.0 again reverses the rollback 6");
    // Rolled forward again (wave 1): going back to 1.0.0 is a rollback of the re-adoption.
    events.push(adopted(9, "dev", "order-gateway", 1, 300));
    assert_eq!(reverses(MODULE, &t, "1.1.0", "1.0.0", &events), Some(9));
}

/// A version a target may run before the upgrade: nothing known, the old one, the new one.
fn before() -> impl Strategy<Value = Vec<Option<&'static str>>> {
    proptest::collection::vec(proptest::option::of(prop_oneof![Just("1.0.0"), Just("1.1.0")]), 9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Bulk upgrades open one release per wave: the pins `wave_pins` writes for wave `w` make a
    /// release move exactly the targets of waves up to `w` (to the catalog version) and hold
    /// every other target on the version it runs (or on its pin, or name it).
    #[test]
    fn one_release_per_wave_moves_exactly_that_wave(plan in plans(), wave in 0usize..3, runs in before(), pinned in proptest::collection::vec(proptest::bool::ANY, 9)) {
        let wave = wave.min(plan.waves.len() - 1);
        let all = targets();
        let running: std::collections::BTreeMap<Target, String> =
            all.iter().zip(&runs).filter_map(|(t, v)| v.map(|v| (t.clone(), v.to_string()))).collect();
        // Some targets carry a stale pin before (to the old version).
        let mut current: std::collections::BTreeMap<String, lz_repo::rollout::Pins> = Default::default();
        for (t, p) in all.iter().zip(&pinned) {
            if *p {
                current.entry(t.0.clone()).or_default().entry(MODULE.into()).or_default().insert(t.1.clone(), "1.0.0".into());
            }
        }
        let (pins, unknown) = lz_repo::rollout::wave_pins(&plan, MODULE, "1.1.0", wave, &all, &running, &current);
        for t in &all {
            let to = pins.get(&t.0).and_then(|p| p.get(MODULE)).and_then(|p| p.get(&t.1)).cloned().unwrap_or_else(|| "1.1.0".into());
            let from = running.get(t).cloned();
            let in_wave = plan.wave_of(&t.0, &t.1).is_some_and(|w| w <= wave);
            if in_wave {
                prop_assert_eq!(&to, "1.1.0", "{:?} is in waves ..={}", t, wave);
            } else if let Some(from) = &from {
                prop_assert_eq!(&to, from, "{:?} is held on what it runs", t);
            } else {
                // Nothing known: its old pin holds it, or it is named.
                prop_assert!(current.get(&t.0).and_then(|p| p.get(MODULE)).is_some_and(|p| p.contains_key(&t.1)) || unknown.contains(t), "{:?}", t);
            }
        }
    }
}

#[test]
fn wave_pins_of_the_canary_wave() {
    let plan = plan3();
    let all = targets();
    let running = all.iter().map(|t| (t.clone(), "1.0.0".to_string())).collect();
    let (pins, unknown) = lz_repo::rollout::wave_pins(&plan, MODULE, "1.1.0", 1, &all, &running, &Default::default());
    assert!(unknown.is_empty());
    assert_eq!(pins.keys().collect::<Vec<_>>(), ["prod"], "{pins:?}");
    let prod: Vec<&String> = pins["prod"][MODULE].keys().collect();
    assert_eq!(prod, ["matching-engine", "order-gateway"], "{pins:?}");
    // What `catalog wave` writes reads back the same.
    let text = lz_repo::rollout::pins_text(&pins["prod"]).unwrap();
    assert_eq!(lz_repo::rollout::parse_pins(&text, "pins.toml").unwrap(), pins["prod"], "{text}");
    let e = lz_repo::rollout::parse_pins("[pins.trading-service]\norder-gateway = 1\n", "environments/prod/pins.toml").unwrap_err();
    assert!(format!("{e:#}").contains("environments/prod/pins.toml:2"), "{e:#}");
}
