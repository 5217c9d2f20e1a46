//! Provenance of any resource of a deployed plan (`evidence query --resource`): two releases
//! deployed to dev against LocalStack, then module resources asked about now and at a time in
//! between, an unknown address, and a time before anything was deployed. Both releases carry a
//! policy finding in dev waived by an exception with its signed approval, which the answer names.

mod common;

use lz_evidence::query::{Index, Query, Source, TimeRange};
use lz_promote::clock::Clock;
use lz_promote::provenance;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{open_time, promote_through, sandbox, waived_violation};

fn t(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

/// Every (address, module, values) of a plan's planned values inside a module.
fn module_resources(plan: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = plan["planned_values"]["root_module"]["child_modules"].as_array().unwrap().iter().collect();
    while let Some(m) = stack.pop() {
        for r in m["resources"].as_array().into_iter().flatten() {
            out.push((r["address"].as_str().unwrap().to_string(), r["values"].clone()));
        }
        stack.extend(m["child_modules"].as_array().into_iter().flatten());
    }
    out
}

#[test]
fn every_resource_of_the_deployed_plan_has_its_release_plan_approvals_and_window() {
    let (_d, sb) = sandbox("provenance");
    // The first release as `common::release` makes it, with a waived finding in dev.
    let first = sb.release("prov-1", "alice", &open_time(), waived_violation).unwrap();
    assert_eq!(sb.approve_exceptions(&first, &open_time()).unwrap().len(), 1, "bob approves EXC-0001");
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &first, &open_time()).unwrap();
    }
    promote_through(&sb, &first, &["dev"], &open_time());
    let later = Clock::Fixed(t("2026-11-28T14:00:00Z"));
    let second = sb
        .release("prov-2", "alice", &later, |tree| {
            waived_violation(tree)?;
            let f = tree.join("environments/dev/terraform.tfvars");
            let text = std::fs::read_to_string(&f)?;
            std::fs::write(&f, text.replacen("replicas     = 1", "replicas     = 2", 1))?;
            Ok(())
        })
        .unwrap();
    sb.approve_exceptions(&second, &later).unwrap();
    sb.approve("bob", &second, "dev", &later).unwrap();
    sb.approve("erin", &second, "dev", &later).unwrap();
    sb.promote(&second, "dev", "deployer-bot", &later, 0).unwrap_or_else(|e| panic!("{e:#}"));

    let store = sb.paths.evidence.open().unwrap();
    let records = store.load().unwrap();
    let chain = lz_evidence::verify_store(&*store, &sb.paths.trust, &[]).unwrap();
    let index = Index::from_verified(&chain);
    let q = Query { index: &index, source: Source::Memory(&records), range: TimeRange::default() };
    let ledger = sb.ledger().unwrap();
    let rejected: Vec<(u64, String)> = lz_promote::replay::rejected(&sb.paths, &ledger, &ledger.records().unwrap()).unwrap().into_iter().collect();
    assert!(rejected.is_empty(), "{rejected:?}");

    for (rel, at) in [(&second, None), (&first, Some(t("2026-11-28T13:00:00Z")))] {
        let plan = sb.paths.open_release(rel).unwrap().plan("dev").unwrap();
        let all = module_resources(&lz_evidence::redact::redact_plan(&plan));
        assert!(all.len() > 10, "the landing zone's modules declare many resources: {}", all.len());
        // Resources of several modules, not only the canary's.
        for (address, values) in all.iter().step_by(all.len() / 5) {
            let a = provenance::resource(&sb.paths, &q, "dev", address, at, &rejected).unwrap().expect("deployed");
            assert_eq!(&a.release, rel, "{address} at {at:?}");
            assert!(a.plan_matches, "{address}: re-rendered {} recorded {}", a.rendered_plan_digest, a.plan_digest);
            assert_eq!(a.plan_digest, lz_promote::plan_digest(&plan));
            let r = a.resource.as_ref().unwrap_or_else(|| panic!("{address} is in the plan"));
            assert_eq!(&r.values, values, "{address}: planned values from the re-rendered plan");
            assert!(r.module.as_deref().is_some_and(|m| address.starts_with(m)), "{address} in {:?}", r.module);
            let approvers: Vec<&str> = a.deployed.approvals.iter().map(|x| x.identity.as_str()).collect();
            if rel == &first {
                assert!(approvers.contains(&"bob") && approvers.contains(&"erin"), "{approvers:?}");
                assert_eq!(a.deployed.tier.as_deref(), Some("high"));
            } else {
                // A replica count is a standard change: approved by policy, no human approval counted.
                assert_eq!((a.deployed.tier.as_deref(), approvers.len()), (Some("standard"), 0));
            }
            assert!(a.deployed.approvals.iter().all(|x| x.release == *rel && x.plan_digest.as_deref() == Some(a.plan_digest.as_str())), "its own approvals");
            let p = a.deployed.policy_evaluation.as_ref().expect("policy evaluation named");
            assert_eq!(p.release, *rel);
            assert_eq!(p.details["passed"], true);
            assert!(a.deployed.break_glass.is_none());
            assert!(a.applied_under.contains("change window") || a.applied_under.contains("no freeze"), "{}", a.applied_under);
            assert!(!a.applied_under.starts_with("unknown"), "{}", a.applied_under);
            // EXC-0001 waived LZ-SEC-002 for this release: the answer names bob's signed
            // approval of that entry (an approval binds the entry's text, whichever release
            // carried it first).
            let used: Vec<&str> = p.details["exceptions"].as_array().into_iter().flatten().filter_map(|e| e["id"].as_str()).collect();
            assert_eq!(used, ["EXC-0001"], "{address}: the policy evaluation used the waiver");
            let x: Vec<(&str, Option<&str>)> =
                a.deployed.exception_approvals.iter().map(|x| (x.identity.as_str(), x.details.get("exception").and_then(Value::as_str))).collect();
            assert_eq!(x, [("bob", Some("EXC-0001"))], "{address}: each exception in force has its signed approval");
            assert!([&first, &second].contains(&&a.deployed.exception_approvals[0].release));
        }
    }
    // The whole command (`provenance::look_up`: one verification, the replay, the index of the
    // verified records) gives the same answer as the parts above.
    let (address, _) = module_resources(&sb.paths.open_release(&second).unwrap().plan("dev").unwrap()).remove(0);
    let looked = provenance::look_up(&sb.paths, &[], &[], "dev", &address, None).unwrap();
    let (whole, parts) = (looked.answer.unwrap(), provenance::resource(&sb.paths, &q, "dev", &address, None, &rejected).unwrap().unwrap());
    assert_eq!(serde_json::to_value(&whole).unwrap(), serde_json::to_value(&parts).unwrap());
    assert_eq!(looked.head, chain.head);
    let a = provenance::resource(&sb.paths, &q, "dev", "module.nope.aws_s3_bucket.this", None, &rejected).unwrap().unwrap();
    assert!(a.resource.is_none(), "an address the plan does not declare is unknown");
    assert!(provenance::resource(&sb.paths, &q, "dev", "terraform_data.release", Some(t("2026-11-27T00:00:00Z")), &rejected).unwrap().is_none());
    assert!(provenance::resource(&sb.paths, &q, "prod", "terraform_data.release", None, &rejected).unwrap().is_none(), "nothing in prod");
}
