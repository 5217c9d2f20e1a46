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

/// The JSON form of the answer (as `evidence query --resource --format json` prints it, found
/// or not): `None` when nothing admitted was deployed then.
fn answer_json(a: Option<provenance::ResourceAnswer>) -> Option<Value> {
    a.map(|a| serde_json::to_value(&a).unwrap())
}

/// dev on a chain with several deployment records: the first release (high tier, two
/// approvals), a second whose first attempt is refused (one approval where two are needed) and
/// that is then deployed under break-glass, and a deployment record the deployer key forges (no
/// admission), which the replay rejects. Returns (first, second, forged record).
fn several_deployments(sb: &lz_operate::sandbox::Sandbox) -> (String, String, u64) {
    use lz_evidence::details::DeploymentDetails;
    use lz_evidence::record::{Fields, Kind};
    let first = sb.release("bg-1", "alice", &open_time(), |_| Ok(())).unwrap();
    sb.approve_exceptions(&first, &open_time()).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &first, &open_time()).unwrap();
    }
    promote_through(sb, &first, &["dev"], &open_time());
    let later = Clock::Fixed(t("2026-11-28T15:00:00Z"));
    let second = sb
        .release("bg-2", "alice", &later, |tree| common::edit(&tree.join("environments/dev/terraform.tfvars"), "vpc_cidr = \"10.10.0.0/16\"", "vpc_cidr = \"10.12.0.0/16\""))
        .unwrap();
    sb.approve_exceptions(&second, &later).unwrap();
    sb.approve("bob", &second, "dev", &later).unwrap();
    sb.promote(&second, "dev", "deployer-bot", &later, 0).expect_err("one approval is not enough for a high-tier change");
    let ledger = sb.ledger().unwrap();
    let bg = lz_promote::breakglass::open(&ledger, sb.signer("oscar"), "dev", "111111111111", Some(&second), "INC-9", "order feed down", 60, t("2026-11-28T15:01:00Z"))
        .unwrap();
    lz_promote::breakglass::approve(&ledger, sb.signer("carol"), bg.sequence, "outage confirmed", t("2026-11-28T15:02:00Z")).unwrap();
    let o = sb.promote(&second, "dev", "deployer-bot", &Clock::Fixed(t("2026-11-28T15:05:00Z")), 0).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(o.admission.tier, lz_promote::Tier::Emergency);
    // The deployer key alone: a succeeded deployment of the first release naming no admission.
    let plan = lz_promote::plan_digest(&sb.paths.open_release(&first).unwrap().plan("dev").unwrap());
    let forged = ledger
        .append(
            Kind::Deployment,
            Fields::new(&first)
                .environment("dev")
                .account("111111111111")
                .plan_digest(&plan)
                .at(t("2026-11-28T16:00:00Z"))
                .details(DeploymentDetails { outcome: "succeeded".into(), run: Some("forged".into()), ..Default::default() }),
            sb.signer("deployer-bot"),
        )
        .unwrap();
    (first, second, forged.sequence)
}

/// The look-up's one pass (each release opened and each plan rendered once, shared by the
/// replay's sessions and the answer) answers exactly what the replay with every release opened
/// afresh answered before it, in the answer's JSON form: for module resources, a root resource
/// and an unknown address, now (the break-glass deployment, the forged record passed over), at a
/// time the first release governed, and before anything was deployed.
#[test]
fn the_shared_pass_answers_exactly_what_opening_each_release_afresh_answered() {
    let (_d, sb) = sandbox("prov-shared");
    let (first, second, forged) = several_deployments(&sb);
    let ledger = sb.ledger().unwrap();
    let records = ledger.records().unwrap();
    assert_eq!(records.iter().filter(|r| r.deployment_outcome() == Some("succeeded")).count(), 3, "three deployment records in dev");

    // Before: every release opened afresh wherever it is read (a new process: no verdict known).
    lz_promote::replay::forget_verdicts();
    let before = lz_promote::replay::rejected_in(&lz_promote::opened::Opened::each_time(), &sb.paths, &ledger, &records).unwrap();
    assert_eq!(before.keys().copied().collect::<Vec<_>>(), [forged], "only the forged record is rejected: {before:?}");
    let rejected: Vec<(u64, String)> = before.into_iter().collect();
    let chain = lz_evidence::verify_store(&*sb.paths.evidence.open().unwrap(), &sb.paths.trust, &[]).unwrap();
    let index = Index::from_verified(&chain);
    let q = Query { index: &index, source: Source::Verified(&chain.records), range: TimeRange::default() };

    let mut addresses: Vec<String> = Vec::new();
    for rel in [&first, &second] {
        let all = module_resources(&sb.paths.open_release(rel).unwrap().plan("dev").unwrap());
        addresses.extend(all.iter().step_by(all.len() / 3).map(|(a, _)| a.clone()));
    }
    addresses.extend(["terraform_data.release".to_string(), "module.nope.aws_s3_bucket.this".to_string()]);
    let times = [None, Some(t("2026-11-28T14:00:00Z")), Some(t("2026-11-27T00:00:00Z"))];
    let mut compared = 0;
    for at in times {
        for address in &addresses {
            let old = answer_json(provenance::resource(&sb.paths, &q, "dev", address, at, &rejected).unwrap());
            lz_promote::replay::forget_verdicts();
            let looked = provenance::look_up(&sb.paths, &[], &[], "dev", address, at).unwrap();
            assert!(looked.releases_opened <= 2, "each of the two releases opened once per look-up: {}", looked.releases_opened);
            let new = answer_json(looked.answer);
            assert_eq!(new, old, "{address} at {at:?}");
            compared += 1;
            if at.is_none() {
                let a = new.expect("deployed now");
                assert_eq!(a["release"], second.as_str(), "the break-glass deployment governs dev now, not the forged record");
                assert_eq!(a["deployed"]["break_glass"]["request"]["identity"], "oscar");
                assert!(a["applied_under"].as_str().unwrap().starts_with("BREAK-GLASS"), "{}", a["applied_under"]);
                assert_eq!(a["rejected"][0][0], forged, "the forged record is named as passed over");
            } else if at == times[1] {
                assert_eq!(new.unwrap()["release"], first.as_str());
            } else {
                assert!(new.is_none(), "nothing deployed before");
            }
        }
    }
    assert_eq!(compared, addresses.len() * times.len());
    let module = &addresses[0];
    let a = provenance::look_up(&sb.paths, &[], &[], "dev", module, None).unwrap().answer.unwrap();
    assert!(a.resource.as_ref().and_then(|r| r.module.as_deref()).is_some_and(|m| module.starts_with(m)), "{module} is inside a module");
}

/// An insider alters the stored archive of the release that governs dev after a look-up of this
/// process read it: the next look-up opens it afresh (nothing of the last pass is kept, nothing
/// is persisted), refuses it as altered, and never answers from it.
#[test]
fn an_archive_altered_after_a_look_up_is_not_believed_by_the_next() {
    let (_d, sb) = sandbox("prov-altered");
    let (_first, second, _) = several_deployments(&sb);
    let address = module_resources(&sb.paths.open_release(&second).unwrap().plan("dev").unwrap()).remove(0).0;
    let a = provenance::look_up(&sb.paths, &[], &[], "dev", &address, None).unwrap().answer.unwrap();
    assert_eq!(a.release, second);
    let tar = sb.releases_dir().join(&second).join("release.tar");
    let mut bytes = std::fs::read(&tar).unwrap();
    let at = bytes.windows(8).position(|w| w == b"approval").unwrap();
    bytes[at] = b'A';
    std::fs::write(&tar, bytes).unwrap();
    // The same process (its verdicts known), then a new one (none known).
    for forget in [false, true] {
        if forget {
            lz_promote::replay::forget_verdicts();
        }
        match provenance::look_up(&sb.paths, &[], &[], "dev", &address, None) {
            Err(e) => {
                assert!(lz_promote::is_refusal(&e) && format!("{e:#}").contains("the stored release was altered"), "{e:#}");
            }
            Ok(l) => {
                let a = l.answer.expect("the first release is still admitted");
                assert_ne!(a.release, second, "never answered from the altered archive");
                assert!(a.rejected.iter().any(|(_, why)| why.contains("the stored release was altered")), "{:?}", a.rejected);
            }
        }
    }
}

/// One shared pass parses a release's policies once for every release whose policy files are the
/// same (`Opened::policies`, keyed by the sha256 of the verified archive's `policies/` and
/// `governance/policy.toml`). An author who changes the rules gets no other release's engine:
/// a release that adds a required tag (settings only) and one that also raises the rule's
/// severity (Rego only differs from the second) are each judged by their own policies, exactly as
/// a pass that loads every release's policies afresh judges them, and the first release, judged
/// again after them, keeps its own findings.
#[test]
fn one_pass_judges_each_release_by_its_own_policies() {
    use lz_promote::opened::Opened;
    let (_d, sb) = sandbox("prov-policies");
    let first = common::release(&sb, "pol-1", &open_time());
    let tag = |tree: &std::path::Path| common::edit(&tree.join("governance/policy.toml"), "\"ManagedBy\"]", "\"ManagedBy\", \"AuditTrail\"]");
    let settings = sb.release("pol-2", "alice", &open_time(), tag).unwrap();
    let rego = sb
        .release("pol-3", "alice", &open_time(), |tree| {
            tag(tree)?;
            common::edit(&tree.join("policies/tags/required/required.rego"), "severity: medium", "severity: critical")
        })
        .unwrap();
    let ledger = sb.ledger().unwrap();
    let records = ledger.records().unwrap();
    let now = t("2026-11-28T12:30:00Z");
    let judge = |opened: &Opened, release: &str| {
        let s = lz_promote::Session::from_records_in(opened, &sb.paths, &ledger, records.clone(), release, "dev").unwrap_or_else(|e| panic!("{e:#}"));
        let p = s.evaluate_policy(now).unwrap_or_else(|e| panic!("{e:#}"));
        (p.passed, p.findings)
    };
    let shared = Opened::shared();
    let mut seen = Vec::new();
    for release in [&first, &settings, &rego, &first] {
        let got = judge(&shared, release);
        assert_eq!(got, judge(&Opened::each_time(), release), "release {release} judged in the shared pass as afresh");
        seen.push(got);
    }
    let tagged = |i: usize, severity: &str| seen[i].1.iter().filter(|f| f.rule_id == "LZ-TAG-001" && f.severity == severity).count();
    assert_eq!((tagged(0, "medium"), tagged(0, "critical")), (0, 0), "the first release's rules find no missing tag: {:?}", seen[0]);
    assert!(tagged(1, "medium") > 0 && tagged(1, "critical") == 0, "AuditTrail is required by the second: {:?}", seen[1]);
    assert!(tagged(2, "critical") == tagged(1, "medium") && tagged(2, "medium") == 0, "the third raised the severity: {:?}", seen[2]);
    assert_eq!(seen[3], seen[0], "the first release judged again keeps its own findings");
}
