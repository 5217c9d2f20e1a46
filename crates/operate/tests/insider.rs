//! The insider's attacks on change control (issue 10), each reproduced against a sandbox with
//! registered keys and shown refused with its reason. Decisions are taken offline: every
//! refusal comes from the gates before any AWS call, at a fixed clock (test builds only).
//! Deployments of earlier environments are simulated by the records a deployer would sign.

mod common;

use std::path::{Path, PathBuf};

use lz_evidence::details::{
    ApprovalDetails, BreakGlassApprovalDetails, BreakGlassDetails, CheckpointDetails, DeploymentDetails, Details, DriftDetails,
    ExceptionApprovalDetails, PolicyEvaluationDetails,
};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_promote::clock::Clock;
use lz_operate::sandbox::Sandbox;
use lz_promote::session::Admission;
use lz_promote::{breakglass, is_refusal, Paths, Tier};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use common::{edit, root, waived_violation};

fn t(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

/// Saturday noon: every window open.
const SAT: &str = "2026-11-28T12:00:00Z";
/// A Thursday in prod's market hours.
const THU: &str = "2026-12-03T09:00:00Z";

fn at(s: &str) -> Clock {
    Clock::Fixed(t(s))
}

fn sandbox() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::Builder::new()
        .prefix("lz-insider-")
        .tempdir()
        .unwrap();
    // No service is contacted: every refusal happens before the deployer role is assumed.
    let sb = Sandbox::new(&root(), "http://127.0.0.1:9", dir.path()).unwrap();
    (dir, sb)
}

/// The refusal message of a decision that must be refused (exit 1 at the command line).
fn refused<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    let e = r.expect_err("expected a refusal");
    assert!(is_refusal(&e), "not a refusal but an error: {e:#}");
    format!("{e:#}")
}

fn admit(
    sb: &Sandbox,
    release: &str,
    env: &str,
    deployer: &str,
    now: &str,
) -> anyhow::Result<Admission> {
    let s = sb.session(release, env)?;
    let p = s.evaluate_policy(t(now))?;
    s.admit(deployer, &p, t(now))
}

/// A base release, its exceptions approved, every environment's governance pinned to it.
fn base(sb: &Sandbox) -> String {
    let c = at(SAT);
    let r = sb.release("base", "alice", &c, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, &c).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, &c).unwrap();
    }
    r
}

/// The records a deployer signs when `release` is deployed to `env` and drift-checked clean.
fn simulate_deployment(sb: &Sandbox, release: &str, env: &str, now: &str) {
    // A real admission (a change from nothing is high tier: security plus a second group),
    // then the records promote writes around an apply; only the apply is simulated.
    let second = if env == "prod" { "carol" } else { "erin" };
    for who in ["bob", second] {
        sb.approve(who, release, env, &at(now)).unwrap();
    }
    let s = sb.session(release, env).unwrap();
    let policy = s.evaluate_policy(t(now)).unwrap();
    let a = s.admit("deployer-bot", &policy, t(now)).unwrap();
    let admission = DeploymentDetails {
        tier: Some(a.tier.as_str().into()),
        approvals: Some(a.approvals.iter().map(|v| v.sequence).collect()),
        ..Default::default()
    };
    append_deployment(sb, release, env, &s.plan_digest, now, &format!("simulated-{env}"), admission);
}

/// What one deployer key can append: a deployment (with an in-progress record claiming any
/// tier) of `release` in `env`, and a clean drift check.
fn forge_deployment(sb: &Sandbox, release: &str, env: &str, plan_digest: &str, tier: &str) -> u64 {
    append_deployment(sb, release, env, plan_digest, SAT, "forged", DeploymentDetails { tier: Some(tier.into()), ..Default::default() })
}

/// The in-progress record (with the `admission` details it claims), the succeeded record naming
/// it, and a clean drift check, all signed by deployer-bot at `now`; returns the succeeded record.
fn append_deployment(sb: &Sandbox, release: &str, env: &str, plan_digest: &str, now: &str, run: &str, admission: DeploymentDetails) -> u64 {
    let ledger = sb.ledger().unwrap();
    let bot = sb.signer("deployer-bot");
    let fields = |d: DeploymentDetails| {
        Fields::new(release).environment(env).account("111111111111").plan_digest(plan_digest).at(t(now)).details(d)
    };
    let run = Some(run.to_string());
    let in_progress = fields(DeploymentDetails { outcome: "in-progress".into(), run: run.clone(), ..admission });
    let ip = ledger.append(Kind::Deployment, in_progress, bot).unwrap();
    let succeeded = DeploymentDetails { outcome: "succeeded".into(), run, in_progress_record: Some(ip.sequence), ..Default::default() };
    let d = ledger.append(Kind::Deployment, fields(succeeded), bot).unwrap();
    ledger
        .append(
            Kind::Drift,
            Fields::new(release).environment(env).at(t(now)).details(DriftDetails {
                drifted: Some(false),
                resources: Some(vec![]),
                deployment_record: Some(d.sequence),
                ..Default::default()
            }),
            bot,
        )
        .unwrap();
    d.sequence
}

/// Issue 23's first attack: with the deployer key alone, deployment records (and a clean drift
/// check) of a high-tier release in dev. Replayed, they have no admission: the baseline stays
/// what was admitted, the promotion order does not move, and verification names them.
#[test]
fn forged_deployment_records_move_neither_the_baseline_nor_the_promotion_order() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    simulate_deployment(&sb, &r, "dev", SAT);
    let r2 = sb
        .release("cidr-forged", "alice", &at(SAT), |tree| edit(&tree.join("environments/dev/terraform.tfvars"), "10.10.0.0/16", "10.11.0.0/16"))
        .unwrap();
    let plan = sb.session(&r2, "dev").unwrap().plan_digest;
    let forged = forge_deployment(&sb, &r2, "dev", &plan, "standard");
    // The baseline of dev is still r: r2 is still a high-tier change there.
    let c = sb.session(&r2, "dev").unwrap().classify().unwrap();
    assert_eq!(c.tier, Tier::High, "{c:?}");
    // r2 has not reached dev as far as the next environment is concerned.
    sb.approve("bob", &r2, "test", &at(SAT)).unwrap();
    sb.approve("erin", &r2, "test", &at(SAT)).unwrap();
    let msg = refused(admit(&sb, &r2, "test", "deployer-bot", SAT));
    assert!(msg.contains("dev runs release"), "{msg}");
    // The replay names the forged deployment and why.
    let ledger = sb.ledger().unwrap();
    let rejected = lz_promote::replay::rejected(&sb.paths, &ledger, &ledger.records().unwrap()).unwrap();
    assert_eq!(rejected.keys().copied().collect::<Vec<_>>(), vec![forged], "{rejected:?}");
    assert!(rejected[&forged].contains("has no valid admission"), "{rejected:?}");
    assert!(rejected[&forged].contains("needs"), "the rule it breaks is named: {rejected:?}");
}

/// A deployment record that names no admission at all is not a deployment.
#[test]
fn a_deployment_record_without_its_admission_record_is_rejected() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    let s = sb.session(&r, "dev").unwrap();
    let ledger = sb.ledger().unwrap();
    let d = ledger
        .append(
            Kind::Deployment,
            Fields::new(&r).environment("dev").account("111111111111").plan_digest(&s.plan_digest).at(t(SAT)).details(outcome("succeeded", "bare")),
            sb.signer("deployer-bot"),
        )
        .unwrap();
    let rejected = lz_promote::replay::rejected(&sb.paths, &ledger, &ledger.records().unwrap()).unwrap();
    assert!(rejected.get(&d.sequence).is_some_and(|w| w.contains("names no admission")), "{rejected:?}");
    // Nothing counts it: dev has nothing deployed.
    let msg = refused(admit(&sb, &r, "test", "deployer-bot", SAT));
    assert!(msg.contains("has not been deployed to dev"), "{msg}");
}

/// Issue 23's race: a tags-only release's session opens while dev runs the base release; a
/// high-tier release is then admitted and deployed to dev. The run that waited would classify
/// against the old baseline, auto-approve as standard and apply over the high-tier release; it
/// is refused, naming what moved, before it records an approval or a deployment.
#[test]
fn a_release_decided_before_a_high_tier_deployment_finished_is_refused() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    simulate_deployment(&sb, &r, "dev", SAT);
    let tags = sb.release("tags", "alice", &at(SAT), |tree| lz_operate::bench::retag(tree, "CC-4412")).unwrap();
    sb.approve_exceptions(&tags, &at(SAT)).unwrap();
    let mut waiting = sb.session(&tags, "dev").unwrap();
    assert_eq!(waiting.classify().unwrap().tier, Tier::Standard);
    // Meanwhile a network change is approved, admitted and deployed to dev.
    let high = sb
        .release("cidr-race", "alice", &at(SAT), |tree| edit(&tree.join("environments/dev/terraform.tfvars"), "10.10.0.0/16", "10.11.0.0/16"))
        .unwrap();
    sb.approve_exceptions(&high, &at(SAT)).unwrap();
    let before = sb.ledger().unwrap().records().unwrap();
    let old = lz_operate::promote::last_deployment(&before, "dev").unwrap().sequence;
    simulate_deployment(&sb, &high, "dev", SAT);
    let records = sb.ledger().unwrap().records().unwrap();
    let new = lz_operate::promote::last_deployment(&records, "dev").unwrap();
    assert_eq!(new.release, high);
    // The run that waited: refused at its first re-read of the chain, nothing approved or deployed.
    let target = sb.target("dev").unwrap();
    let opts = lz_operate::promote::Options {
        target: &target,
        deployer: sb.signer("deployer-bot"),
        policy_signer: sb.signer("change-policy-dev"),
        bake_seconds: 0,
        recover: false,
        // dev is the first environment: no previous one to check the facts of.
        previous: None,
    };
    let msg = refused(lz_operate::promote::promote(&mut waiting, &opts, &at(SAT)));
    assert_eq!(
        msg,
        format!(
            "the baseline of dev moved from release {} (record {old}) to release {} (record {}) while this run waited; re-run classify",
            &r[..12],
            &high[..12],
            new.sequence
        )
    );
    let after = sb.ledger().unwrap().records().unwrap();
    assert!(
        !after.iter().any(|x| x.release == tags && matches!(x.kind, Kind::Approval | Kind::Deployment)),
        "no approval or deployment of the waiting release was recorded: {:?}",
        after.iter().filter(|x| x.release == tags).map(|x| (x.sequence, x.kind)).collect::<Vec<_>>()
    );
    // Re-classified, the same release is a high-tier change against what dev now runs.
    assert_eq!(sb.session(&tags, "dev").unwrap().classify().unwrap().tier, Tier::High);
    // The decision point itself is a compare-and-swap: a fence taken before the high-tier
    // deployment refuses to append on the chain after it, and appends nothing.
    let stale = lz_promote::fence::Fence { baseline: Some((old, r.clone())), ..lz_promote::fence::Fence::of(&sb.session(&tags, "dev").unwrap()) };
    let ledger = sb.ledger().unwrap();
    let n = ledger.records().unwrap().len();
    let fields = Fields::new(&tags).environment("dev").account("111111111111").plan_digest(&waiting.plan_digest).at(t(SAT)).details(outcome("in-progress", "stale"));
    let e = ledger.append_if(Kind::Deployment, fields, sb.signer("deployer-bot"), &|records| stale.check(&ledger, records)).unwrap_err();
    assert!(is_refusal(&e) && format!("{e:#}").contains("the baseline of dev moved from"), "{e:#}");
    assert_eq!(ledger.records().unwrap().len(), n);
    // And the state a saved plan would apply to is held to the baseline too.
    let m = refused(stale.check_state(Some(&high)));
    assert!(m.starts_with(&format!("the state of dev holds release {}, but this run was decided against release {}", &high[..12], &r[..12])), "{m}");
    stale.check_state(Some(&r)).unwrap();
    stale.check_state(Some(&tags)).unwrap();
}

/// Issue 23's bricking appends, each tried with one key through the library: a deployment
/// naming a break-glass that does not exist, a record dated 2099, and rule violations the
/// verifier checks against earlier records (a break-glass approval of nothing, one given after
/// the break-glass expired, a checkpoint naming a wrong hash). Each is refused before it is
/// written, with the verifier's reason; the store still verifies and honest appends go on.
#[test]
fn appends_that_would_brick_the_store_are_refused_and_it_stays_verifiable() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    let ledger = sb.ledger().unwrap();
    let plan = sb.session(&r, "dev").unwrap().plan_digest;
    let bg = breakglass::open(&ledger, sb.signer("oscar"), "prod", "555555555555", Some(&r), "INC-9", "outage", 60, t(SAT)).unwrap();
    let deployment = |d: DeploymentDetails| Fields::new(&r).environment("dev").account("111111111111").plan_digest(&plan).at(t(SAT)).details(d);
    let drift =
        |at: &str| Fields::new(&r).environment("dev").at(t(at)).details(DriftDetails { drifted: Some(false), resources: Some(vec![]), ..Default::default() });
    let late = format!("given after break-glass {} expired", bg.sequence);
    let cases: Vec<(&str, Kind, Fields, &str, &str)> = vec![
        ("break_glass=9999", Kind::Deployment, deployment(DeploymentDetails { break_glass: Some(9999), ..outcome("succeeded", "x") }), "deployer-bot", "the deployment names break-glass 9999, which is no earlier break-glass record"),
        ("dated 2099", Kind::Drift, drift("2099-01-01T00:00:00Z"), "deployer-bot", "refusing a drift record dated 2099-01-01T00:00:00Z: after this machine's clock"),
        (
            "approval of no break-glass",
            Kind::BreakGlassApproval,
            Fields::new(&r).environment("prod").at(t(SAT)).reason("ok").details(BreakGlassApprovalDetails { break_glass_sequence: 9999, ..Default::default() }),
            "bob",
            "sequence 9999 is not an earlier break-glass record",
        ),
        (
            "break-glass approval after it expired",
            Kind::BreakGlassApproval,
            Fields::new(&r).environment("prod").at(t(SAT) + Duration::hours(2)).reason("late").details(BreakGlassApprovalDetails {
                break_glass_sequence: bg.sequence,
                ..Default::default()
            }),
            "bob",
            &late,
        ),
        (
            "checkpoint naming a wrong hash",
            Kind::Checkpoint,
            Fields::new(&r).at(t(SAT)).details(CheckpointDetails { checkpoint_sequence: 1, checkpoint_hash: "0".repeat(64), ..Default::default() }),
            "deployer-bot",
            "the hash it records for sequence 1 is not that record's hash",
        ),
    ];
    for (case, kind, fields, who, want) in cases {
        let n = ledger.records().unwrap().len();
        let e = ledger.append(kind, fields.clone(), sb.signer(who)).expect_err(case);
        let msg = format!("{e:#}");
        assert!(is_refusal(&e) && msg.contains(want), "{case}: {msg}");
        // Nothing was written: the store verifies and honest appends go on.
        assert_eq!(ledger.records().unwrap().len(), n, "{case}");
        ledger.append(Kind::Drift, drift(SAT), sb.signer("deployer-bot")).unwrap_or_else(|e| panic!("{case}: an honest append after it: {e:#}"));
        if kind == Kind::Deployment {
            // Written by an older binary (per-record checks only) into a copy of the store, the
            // same record makes the copy fail verification: that is what the refusal prevents.
            let copy = sb.dir.join("older-binary.jsonl");
            std::fs::copy(sb.evidence_file(), &copy).unwrap();
            let register = ledger.chain().unwrap().register;
            let mut older = lz_evidence::EvidenceArchive::open(lz_evidence::LocalStore::new(&copy), register).unwrap();
            older.append(kind, fields, sb.signer(who)).unwrap();
            let e = lz_evidence::verify_store(&lz_evidence::LocalStore::new(&copy), &sb.paths.trust, &[]).unwrap_err();
            assert!(format!("{e:#}").contains(want), "{case}: {e:#}");
        }
    }
    simulate_deployment(&sb, &r, "dev", SAT);
    lz_evidence::verify_store(&lz_evidence::LocalStore::new(sb.evidence_file()), &sb.paths.trust, &[]).unwrap();
}

fn approval_fields(release: &str, env: &str, plan_digest: &str, now: &str, auto: Option<bool>) -> Fields {
    Fields::new(release).environment(env).plan_digest(plan_digest).at(t(now)).details(ApprovalDetails {
        decision: Some("approved".into()),
        tier: Some("high".into()),
        auto,
        ..Default::default()
    })
}

/// Deployment details with `outcome` and `run`.
fn outcome(outcome: &str, run: &str) -> DeploymentDetails {
    DeploymentDetails { outcome: outcome.into(), run: Some(run.into()), ..Default::default() }
}

#[test]
fn a_high_tier_change_reaches_prod_only_with_human_approvals_inside_its_window() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    for env in ["dev", "test", "uat", "preprod"] {
        simulate_deployment(&sb, &r, env, SAT);
    }
    let s = sb.session(&r, "prod").unwrap();
    assert_eq!(s.classify().unwrap().tier, Tier::High);
    // prod's policy identity (a workload with the approver role) signs an approval; one person
    // approves.
    sb.ledger()
        .unwrap()
        .append(
            Kind::Approval,
            approval_fields(&r, "prod", &s.plan_digest, SAT, Some(true)),
            sb.signer("change-policy-prod"),
        )
        .unwrap();
    sb.approve("bob", &r, "prod", &at(SAT)).unwrap();
    let msg = refused(admit(&sb, &r, "prod", "deployer-bot", SAT));
    assert!(
        msg.contains("needs an approval from group business"),
        "{msg}"
    );
    assert!(
        msg.contains("not counted: change-policy-prod (a workload identity, never a human approval)"),
        "{msg}"
    );
    // A workload cannot approve through the approval command either.
    let msg = refused(sb.approve("change-policy-prod", &r, "prod", &at(SAT)));
    assert_eq!(
        msg,
        "change-policy-prod is a workload identity: approvals are given by people"
    );
    // With the second person, the change still waits for the window: market hours at the
    // trusted clock's time.
    sb.approve("carol", &r, "prod", &at(SAT)).unwrap();
    let msg = refused(admit(&sb, &r, "prod", "deployer-bot", THU));
    assert!(
        msg.starts_with("the change window of prod is closed for a high change: market hours"),
        "{msg}"
    );
    let a = admit(&sb, &r, "prod", "deployer-bot", SAT).unwrap();
    assert_eq!((a.tier, a.approvals.len()), (Tier::High, 2));
}

#[test]
fn working_tree_rules_and_a_release_carrying_its_own_rules_change_nothing() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    let permissive = "policy_identity = \"change-policy-{env}\"\n[tiers.standard]\nauto_approve = true\n[tiers.normal]\nauto_approve = true\n[tiers.high]\nauto_approve = true\n[tiers.emergency]\nbreak_glass = true\n";
    // The working tree (here the sandbox's tree) is edited after the release was built.
    std::fs::write(sb.tree.join("governance/approval-policy.toml"), permissive).unwrap();
    let msg = refused(admit(&sb, &r, "dev", "deployer-bot", SAT));
    assert!(
        msg.contains("release") && msg.contains("to dev (tier high) needs"),
        "{msg}"
    );
    // A release that carries the permissive policy is judged by the pinned rules, and its
    // governance change makes it high tier with the security group's approval required.
    let r2 = sb
        .release("permissive", "alice", &at(SAT), |_| Ok(()))
        .unwrap();
    sb.approve_exceptions(&r2, &at(SAT)).unwrap();
    let s = sb.session(&r2, "dev").unwrap();
    assert_eq!(
        s.governance_changes,
        vec!["governance/approval-policy.toml".to_string()]
    );
    assert!(s
        .requirement(Tier::High)
        .required_groups
        .contains(&"security".to_string()));
    let c = s.classify().unwrap();
    assert!(c
        .resources
        .iter()
        .any(|x| x.rule == "governance-change" && x.tier == Tier::High));
    sb.ledger()
        .unwrap()
        .append(
            Kind::Approval,
            approval_fields(&r2, "dev", &s.plan_digest, SAT, Some(true)),
            sb.signer("change-policy-dev"),
        )
        .unwrap();
    let msg = refused(admit(&sb, &r2, "dev", "deployer-bot", SAT));
    assert!(msg.contains("(tier high) needs"), "{msg}");
    // Only the security group pins governance, and the first pin stands.
    let c = at(SAT);
    let msg = refused(lz_operate::bootstrap::pin(
        &sb.paths,
        "dev",
        &r2,
        sb.signer("erin"),
        &c.now().unwrap(),
    ));
    assert!(
        msg.contains("erin is not a person of the security group"),
        "{msg}"
    );
    let (first, new) =
        lz_operate::bootstrap::pin(&sb.paths, "dev", &r2, sb.signer("frank"), &c.now().unwrap())
            .unwrap();
    assert!(!new);
    assert_eq!(sb.session(&r2, "dev").unwrap().governed_by.release(), r);
    let _ = first;
}

#[test]
fn classification_compares_with_the_verified_plan_of_the_last_deployment() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    simulate_deployment(&sb, &r, "dev", SAT);
    // A network change in dev's overlay: high tier against what dev runs.
    let r2 = sb
        .release("cidr", "alice", &at(SAT), |tree| {
            edit(
                &tree.join("environments/dev/terraform.tfvars"),
                "10.10.0.0/16",
                "10.11.0.0/16",
            )
        })
        .unwrap();
    let s = sb.session(&r2, "dev").unwrap();
    let c = s.classify().unwrap();
    assert_eq!(c.tier, Tier::High);
    assert!(
        c.resources.iter().any(|x| x.rule == "network-perimeter"),
        "{c:?}"
    );
    // The same release re-deployed is an empty diff: nothing a caller passes can make r2's
    // diff empty. A deployment record naming r2's plan under r (to pass it off as the
    // baseline) is caught: the baseline is re-rendered from the deployed release.
    // Replayed, it has no admission (and names r2's plan under r): it never counts, and the
    // baseline stays r's verified plan.
    let forged = forge_deployment(&sb, &r, "dev", &s.plan_digest, "high");
    let ledger = sb.ledger().unwrap();
    let rejected = lz_promote::replay::rejected(&sb.paths, &ledger, &ledger.records().unwrap()).unwrap();
    assert!(rejected.contains_key(&forged), "{rejected:?}");
    let c = sb.session(&r2, "dev").unwrap().classify().unwrap();
    assert_eq!(c.tier, Tier::High, "{c:?}");
    assert!(c.resources.iter().any(|x| x.rule == "network-perimeter"), "{c:?}");
}

#[test]
fn a_governance_only_release_is_high_tier_and_needs_the_security_group() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    simulate_deployment(&sb, &r, "dev", SAT);
    for (tag, file) in [
        ("gov-settings", "governance/policy.toml"),
        ("gov-policies", "policies/lib/plan.rego"),
    ] {
        let r2 = sb
            .release(tag, "alice", &at(SAT), |tree| {
                let p = tree.join(file);
                let mut text = std::fs::read_to_string(&p)?;
                text.push_str("\n# relaxed by the author\n");
                std::fs::write(&p, text)?;
                Ok(())
            })
            .unwrap();
        let s = sb.session(&r2, "dev").unwrap();
        let c = s.classify().unwrap();
        assert_eq!(c.tier, Tier::High, "{tag}");
        assert_eq!(c.resources.len(), 1, "{tag}: {c:?}");
        assert_eq!(
            (
                c.resources[0].address.as_str(),
                c.resources[0].rule.as_str()
            ),
            (file, "governance-change")
        );
        sb.approve("erin", &r2, "dev", &at(SAT)).unwrap();
        sb.approve("carol", &r2, "dev", &at(SAT)).unwrap();
        let msg = refused(admit(&sb, &r2, "dev", "deployer-bot", SAT));
        assert!(
            msg.contains("needs an approval from group security"),
            "{tag}: {msg}"
        );
        sb.approve("bob", &r2, "dev", &at(SAT)).unwrap();
        let a = admit(&sb, &r2, "dev", "deployer-bot", SAT).unwrap();
        assert_eq!(a.tier, Tier::High);
    }
}

/// Where an environment is (its account, region and state backend) and the role it is applied
/// under are governance: a release that points dev at prod's account, dev's state at prod's
/// bucket, or names another role for itself in governance/aws.toml, is tier high and needs the
/// security group, never a standard auto-approval.
#[test]
fn moving_a_target_is_a_governance_change() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    simulate_deployment(&sb, &r, "dev", SAT);
    for (tag, file, from, to) in [
        ("dev-to-prod-account", "environments/dev/env.toml", "account_id = \"111111111111\"", "account_id = \"555555555555\""),
        ("dev-state-in-prod", "environments/dev/backend.hcl", "lz-dev-tfstate-111111111111", "lz-prod-tfstate-555555555555"),
        // The role a release is applied under is named by its own governance/aws.toml (issue
        // 26): its author writes it, so changing it is a governance change too.
        ("release-names-its-own-role", "governance/aws.toml", "environment_role  = \"lz-{env}-deployer\"", "environment_role  = \"lz-{env}-admin\""),
    ] {
        let r2 = sb.release(tag, "alice", &at(SAT), |tree| edit(&tree.join(file), from, to)).unwrap();
        let s = sb.session(&r2, "dev").unwrap();
        if file == "governance/aws.toml" {
            let t = lz_operate::promote::Target::from_tree(s.release.root(), "dev", "http://127.0.0.1:9").unwrap();
            assert_eq!(t.deployer_role, "lz-dev-admin", "the release would be applied under the role it names");
        }
        let c = s.classify().unwrap();
        assert_eq!(c.tier, Tier::High, "{tag}: {c:?}");
        assert!(
            c.resources.iter().any(|r| r.address == file && r.rule == "governance-change"),
            "{tag}: the moved target is named as a governance change: {c:?}"
        );
        sb.approve("erin", &r2, "dev", &at(SAT)).unwrap();
        sb.approve("carol", &r2, "dev", &at(SAT)).unwrap();
        let msg = refused(admit(&sb, &r2, "dev", "deployer-bot", SAT));
        assert!(msg.contains("needs an approval from group security"), "{tag}: {msg}");
    }
}

#[test]
fn the_author_is_the_signer_of_the_first_release_record() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    let short = &r[..12];
    // Rebuilding the same tree "as" someone else does not change the author.
    let c = at(SAT);
    let (rec, new) = lz_promote::release::sign_authorship(
        &sb.ledger().unwrap(),
        sb.signer("alice"),
        &r,
        "CHG-2",
        "again",
        None,
        &c.now().unwrap(),
    )
    .unwrap();
    assert!(!new);
    // Another identity appending a release record directly is not the author either (the
    // archive may refuse the append outright; the author is the first signer in any case).
    let _ = sb.ledger().unwrap().append(
        Kind::Release,
        Fields::new(&r)
            .ticket("CHG-3")
            .reason("mine now")
            .at(t(SAT)),
        sb.signer("erin"),
    );
    // Editing manifest.json changes nothing either.
    let manifest = sb.releases_dir().join(&r).join("manifest.json");
    edit(&manifest, "\"author\": \"alice\"", "\"author\": \"erin\"").unwrap();
    let s = sb.session(&r, "dev").unwrap();
    assert_eq!((s.author.as_str(), s.author_record), ("alice", rec));
    assert_eq!(
        refused(sb.approve("alice", &r, "dev", &at(SAT))),
        format!("alice authored release {short} and cannot approve it (segregation of duties); another approver records it: `cargo xtask approve --release {short} --env dev --as APPROVER --key FILE --reason TEXT`")
    );
    sb.approve("erin", &r, "dev", &at(SAT)).unwrap();
    // The author can never deploy it either, and an approver cannot deploy what they approved.
    let msg = refused(admit(&sb, &r, "dev", "alice", SAT));
    assert!(
        msg.starts_with(&format!(
            "alice authored release {short} (record {rec}) and cannot deploy it"
        )),
        "{msg}"
    );
    sb.approve("dave", &r, "dev", &at(SAT)).unwrap();
    let msg = refused(admit(&sb, &r, "dev", "dave", SAT));
    assert!(
        msg.starts_with(&format!("dave approved release {short} for dev (record ")),
        "{msg}"
    );
    // A release without a signed authorship record cannot be decided on at all.
    let unsigned = lz_evidence::release::build(
        &sb.tree,
        &lz_evidence::release::BuildOptions {
            releases_dir: sb.releases_dir(),
            terraform_version: Some("1.15.5".into()),
            terraform_bin: PathBuf::from("terraform"),
            author: Some("alice".into()),
            ticket: Some("CHG-4".into()),
            reason: Some("unsigned".into()),
        },
    )
    .unwrap()
    .manifest
    .digest;
    let msg = refused(sb.session(&unsigned, "dev").map(|s| s.author));
    assert!(msg.contains("has no signed authorship record"), "{msg}");
}

#[test]
fn a_forged_passing_policy_evaluation_never_substitutes_for_the_evaluation() {
    let (_d, sb) = sandbox();
    let c = at(SAT);
    // No exception is approved: the secrets rotation rule fails in dev.
    let r = sb
        .release("no-exceptions", "alice", &c, waived_violation)
        .unwrap();
    sb.pin("dev", &r, &c).unwrap();
    sb.approve("bob", &r, "dev", &c).unwrap();
    sb.approve("erin", &r, "dev", &c).unwrap();
    let s = sb.session(&r, "dev").unwrap();
    for who in ["deployer-bot", "change-policy-dev"] {
        let _ = sb.ledger().unwrap().append(
            Kind::PolicyEvaluation,
            Fields::new(&r)
                .environment("dev")
                .plan_digest(&s.plan_digest)
                .at(t(SAT))
                .details(PolicyEvaluationDetails {
                    policy_bundle: Some("forged".into()),
                    passed: Some(true),
                    findings: Some(vec![]),
                    ..Default::default()
                }),
            sb.signer(who),
        );
    }
    let msg = refused(admit(&sb, &r, "dev", "deployer-bot", SAT));
    assert!(msg.contains("the policy evaluation of its plan"), "{msg}");
    assert!(msg.contains("LZ-SEC-002"), "{msg}");
    assert!(
        msg.contains("EXC-0001: no signed exception approval of this entry"),
        "{msg}"
    );
}

#[test]
fn break_glass_needs_a_ttl_a_second_person_and_an_independent_retrospective() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    for env in ["dev", "test", "uat", "preprod"] {
        simulate_deployment(&sb, &r, env, SAT);
    }
    let ledger = sb.ledger().unwrap();
    let opened = t(THU) - Duration::minutes(30);
    // Anyone without the break-glass role cannot even record a request.
    assert!(breakglass::open(
        &ledger,
        sb.signer("deployer-bot"),
        "prod",
        "555555555555",
        Some(&r),
        "INC-1",
        "r",
        60,
        opened
    )
    .is_err());
    // Hand-made requests with expires=2099 (no TTL, or a TTL that disagrees) never open a
    // session: the archive refuses to record them, and were one recorded, the gate refuses it.
    let forged = [("names no TTL", None), ("states expiry 2099-01-01T00:00:00Z, not its time plus its TTL", Some(240))];
    for (want, ttl_minutes) in forged {
        let f = Fields::new(&r)
            .environment("prod")
            .account("555555555555")
            .ticket("INC-1")
            .reason("outage")
            .at(opened)
            .details(BreakGlassDetails { expires: "2099-01-01T00:00:00Z".into(), ttl_minutes, ..Default::default() });
        match ledger.append(Kind::BreakGlass, f, sb.signer("oscar")) {
            Err(e) => assert!(format!("{e:#}").contains("at most 240"), "{e:#}"),
            Ok(_) => {
                let msg = refused(admit(&sb, &r, "prod", "deployer-bot", THU));
                assert!(msg.contains(want), "{msg}");
            }
        }
    }
    let _ = GENESIS;
    // A proper request, unapproved: refused.
    let bg = breakglass::open(
        &ledger,
        sb.signer("oscar"),
        "prod",
        "555555555555",
        Some(&r),
        "INC-1",
        "outage",
        60,
        opened,
    )
    .unwrap();
    let msg = refused(admit(&sb, &r, "prod", "deployer-bot", THU));
    assert!(
        msg.contains(&format!(
            "break-glass {} by oscar has no approval by a second person",
            bg.sequence
        )),
        "{msg}"
    );
    assert!(breakglass::approve(&ledger, sb.signer("oscar"), bg.sequence, "me", opened).is_err());
    breakglass::approve(
        &ledger,
        sb.signer("bob"),
        bg.sequence,
        "outage confirmed",
        opened,
    )
    .unwrap();
    let a = admit(&sb, &r, "prod", "deployer-bot", THU).unwrap();
    assert_eq!(
        (a.tier, a.break_glass),
        (Tier::Emergency, Some(bg.sequence))
    );
    // The TTL holds at the trusted clock: 31 minutes later it has expired.
    let later = lz_promote::window::rfc3339(t(THU) + Duration::minutes(31));
    let msg = refused(admit(&sb, &r, "prod", "deployer-bot", &later));
    assert!(msg.contains("expired at 2026-12-03T09:30:00Z"), "{msg}");
    // The retrospective: neither the requester nor the release author.
    let records = ledger.records().unwrap();
    assert!(breakglass::overdue(&records, opened + Duration::hours(25))
        .iter()
        .any(|m| m.contains(&format!("break-glass {} ", bg.sequence))));
    for who in ["oscar", "alice"] {
        let e =
            breakglass::retrospective(&ledger, sb.signer(who), bg.sequence, "INC-1", "ok", t(THU))
                .unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot sign its retrospective (segregation of duties)"),
            "{who}: {e:#}"
        );
    }
    breakglass::retrospective(
        &ledger,
        sb.signer("audrey"),
        bg.sequence,
        "INC-1",
        "fix verified",
        t(THU),
    )
    .unwrap();
    let records = ledger.records().unwrap();
    assert!(!breakglass::overdue(&records, opened + Duration::hours(25))
        .iter()
        .any(|m| m.contains(&format!("break-glass {} ", bg.sequence))));
}

#[test]
fn exceptions_count_only_with_a_valid_signed_approval_by_the_security_group() {
    let (_d, sb) = sandbox();
    let c = at(SAT);
    // (case, edit of the register, who signs the approvals, expected reason)
    type Edit = fn(&Path) -> anyhow::Result<()>;
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "not the named approver",
            |_| Ok(()),
            "erin",
            "is signed by erin, but the entry names approver bob",
        ),
        (
            "owner under another spelling",
            |tree| {
                edit(
                    &tree.join("governance/exceptions.toml"),
                    "owner                = \"alice\"",
                    "owner                = \"Bob Example\"",
                )
            },
            "bob",
            "bob owns the exception (as \"Bob Example\") and cannot approve it",
        ),
        (
            "approver that is no identity",
            |tree| {
                edit(
                    &tree.join("governance/exceptions.toml"),
                    "approver             = \"bob\"",
                    "approver             = \"nobody\"",
                )
            },
            "bob",
            "is signed by bob, but the entry names approver nobody",
        ),
        (
            "approver outside the security group",
            |tree| {
                edit(
                    &tree.join("governance/exceptions.toml"),
                    "approver             = \"bob\"",
                    "approver             = \"erin\"",
                )
            },
            "erin",
            "erin is not a person of the security group with the approver role",
        ),
    ];
    for (i, (case, edit_register, signer, want)) in cases.into_iter().enumerate() {
        let r = sb
            .release(&format!("exc-{i}"), "alice", &c, |tree| {
                waived_violation(tree)?;
                edit_register(tree)
            })
            .unwrap();
        if i == 0 {
            for env in lz_platform::ENVIRONMENTS {
                sb.pin(env, &r, &c).unwrap();
            }
        }
        let archive =
            lz_promote::release::VerifiedRelease::open(&sb.releases_dir(), &r, &sb.paths.work)
                .unwrap();
        let register =
            lz_policy::Register::parse(&archive.text("governance/exceptions.toml").unwrap(), "x")
                .unwrap();
        let ledger = sb.ledger().unwrap();
        let mut appended = 0;
        for e in &register.exceptions {
            // The record names a registered owner, whatever the entry says.
            let f = lz_promote::session::exception_approval_fields(&r, e, t(SAT), None);
            let Ok(Details::ExceptionApproval(d)) = Details::parse(Kind::ExceptionApproval, f.details_map()) else { panic!("exception approval details") };
            let f = f.details(ExceptionApprovalDetails { owner: "alice".into(), ..d });
            match ledger.append(Kind::ExceptionApproval, f, sb.signer(signer)) {
                Ok(_) => appended += 1,
                // The archive itself refuses some forgeries (owner not an identity, signer
                // outside the security group).
                Err(e) => assert!(!format!("{e:#}").is_empty()),
            }
        }
        let s = sb.session(&r, "dev").unwrap();
        let p = s.evaluate_policy(t(SAT)).unwrap();
        assert!(!p.passed, "{case}");
        // The auditor's export calls no forged approval verified (the gate's rules decide).
        let mut x = lz_report::exceptions::judge(&register, t(SAT).date(), 30);
        lz_report::exceptions::with_approvals(&mut x, &register, &ledger.chain().unwrap());
        assert!(!x.exceptions.is_empty(), "{case}: the register has entries");
        for row in &x.exceptions {
            assert_ne!(row.signature_status, "verified", "{case}: {}", row.signature);
        }
        if appended > 0 {
            assert!(
                p.rejected_exceptions.iter().any(|m| m.contains(want)),
                "{case}: {:?}",
                p.rejected_exceptions
            );
        }
    }
    // Created in 2035: the register itself says no, and no approval (dated now) can be valid.
    let r = sb
        .release("exc-2035", "alice", &c, |tree| {
            waived_violation(tree)?;
            let p = tree.join("governance/exceptions.toml");
            edit(
                &p,
                "created              = 2026-11-26",
                "created              = 2035-01-01",
            )?;
            edit(
                &p,
                "expires              = 2027-02-20",
                "expires              = 2035-02-01",
            )
        })
        .unwrap();
    // The archive refuses an approval dated before the entry's creation.
    let e = sb.approve_exceptions(&r, &c).unwrap_err();
    assert!(
        format!("{e:#}").contains("created <= approval time"),
        "{e:#}"
    );
    let s = sb.session(&r, "dev").unwrap();
    assert!(!s.evaluate_policy(t(SAT)).unwrap().passed);
    // The same, correctly approved, passes.
    let r = sb.release("exc-ok", "alice", &c, waived_violation).unwrap();
    sb.approve_exceptions(&r, &c).unwrap();
    let p = sb
        .session(&r, "dev")
        .unwrap()
        .evaluate_policy(t(SAT))
        .unwrap();
    assert!(p.passed, "{:?}", p.rejected_exceptions);
    assert_eq!(p.exceptions.len(), 1);
    // The honest approval is shown as verified by the auditor's export.
    let archive = lz_promote::release::VerifiedRelease::open(&sb.releases_dir(), &r, &sb.paths.work).unwrap();
    let register = lz_policy::Register::parse(&archive.text("governance/exceptions.toml").unwrap(), "x").unwrap();
    let mut x = lz_report::exceptions::judge(&register, t(SAT).date(), 30);
    lz_report::exceptions::with_approvals(&mut x, &register, &sb.ledger().unwrap().chain().unwrap());
    assert!(x.exceptions.iter().any(|row| row.signature_status == "verified"), "{:?}", x.exceptions.iter().map(|r| &r.signature).collect::<Vec<_>>());
}

#[test]
fn the_same_exception_approval_recorded_by_a_second_writer_meanwhile_is_not_recorded_twice() {
    let (_d, sb) = sandbox();
    let c = at(SAT);
    let r = sb.release("exc-race", "alice", &c, waived_violation).unwrap();
    let approvals = || {
        sb.ledger().unwrap().records().unwrap().into_iter().filter(|x| x.kind == Kind::ExceptionApproval).count()
    };
    // The approver in a second terminal records the same approval while this run is between its
    // read of the chain (no approval yet) and its append.
    let (paths, release, signer, now) = (sb.paths.clone(), r.clone(), sb.signer("bob").clone(), c.now().unwrap());
    lz_promote::approve::hooks::at_next_exception_append(move || {
        let other = lz_promote::approve::approve_exceptions(&paths, &release, &signer, &now).unwrap();
        assert_eq!(other.len(), 1, "the second writer records the approval");
    });
    let ours = lz_promote::approve::approve_exceptions(&sb.paths, &r, sb.signer("bob"), &c.now().unwrap()).unwrap();
    assert!(ours.is_empty(), "recorded again: {ours:?}");
    assert_eq!(approvals(), 1);
    // A second run afterwards records nothing either.
    assert!(sb.approve_exceptions(&r, &c).unwrap().is_empty());
    assert_eq!(approvals(), 1);
}

#[test]
fn no_environment_variable_moves_the_evidence_the_register_or_the_releases() {
    let side = tempfile::tempdir().unwrap();
    // The only test in this binary that sets these variables.
    for var in [
        "LZ_EVIDENCE",
        "LZ_IDENTITIES",
        "LZ_RELEASES",
        "LZ_NOW",
        "LZ_TODAY",
    ] {
        std::env::set_var(var, side.path().join("x"));
    }
    let p = Paths::landing_zone(&root(), "http://127.0.0.1:4566").unwrap();
    let stores = lz_promote::stores::Stores::load(&root(), "http://127.0.0.1:4566").unwrap();
    assert_eq!(p.evidence.describe(), format!("s3://{}/", stores.evidence_bucket));
    assert!(stores.evidence_bucket.starts_with("lz-evidence-"), "{stores:?}");
    // The chain's trust root is the genesis register pinned in governance/stores.toml.
    let pinned = lz_evidence::TrustRoot::pinned([&stores.genesis_register_sha256]).unwrap();
    assert_eq!(p.trust.describe(), pinned.describe());
    assert!(
        matches!(&p.releases, lz_promote::release::ReleasesAt::S3(s) if s == &stores),
        "{:?}",
        p.releases
    );
    assert_eq!(
        lz_policy::today().unwrap(),
        OffsetDateTime::now_utc().date()
    );
    for var in [
        "LZ_EVIDENCE",
        "LZ_IDENTITIES",
        "LZ_RELEASES",
        "LZ_NOW",
        "LZ_TODAY",
    ] {
        std::env::remove_var(var);
    }
}

#[test]
fn an_altered_release_archive_is_refused_as_tampering() {
    let (_d, sb) = sandbox();
    let r = base(&sb);
    let tar = sb.releases_dir().join(&r).join("release.tar");
    let mut bytes = std::fs::read(&tar).unwrap();
    let at = bytes.windows(8).position(|w| w == b"approval").unwrap();
    bytes[at] = b'A';
    std::fs::write(&tar, bytes).unwrap();
    let msg = refused(sb.session(&r, "dev").map(|s| s.plan_digest));
    assert!(msg.contains("the stored release was altered"), "{msg}");
}

/// A release of the sandbox tree whose dev environment declares cost centre `cc` (the
/// CostCentre tag of dev's state bucket), its exceptions approved.
fn cost_centre_release(sb: &Sandbox, tag: &str, cc: &str) -> String {
    let r = sb
        .release(tag, "alice", &at(SAT), |tree| {
            let tfvars = tree.join("environments/dev/terraform.tfvars");
            let text = std::fs::read_to_string(&tfvars)?;
            std::fs::write(&tfvars, format!("{text}\ncost_centre = \"{cc}\"\n"))?;
            Ok(())
        })
        .unwrap();
    sb.approve_exceptions(&r, &at(SAT)).unwrap();
    r
}

/// The tag `key` of `bucket` in dev's account, as it is in LocalStack.
fn dev_bucket_tag(sb: &Sandbox, bucket: &str, key: &str) -> Option<String> {
    let t = sb.target("dev").unwrap();
    let c = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    let tags = lz_platform::aws::runtime().unwrap().block_on(c.get_bucket_tagging().bucket(bucket).send()).unwrap();
    tags.tag_set().iter().find(|t| t.key() == key).map(|t| t.value().to_string())
}

/// Issue 26 (review (a)): re-running `bootstrap --env` on a pinned environment acts as the
/// release governing it (its last admitted deployment's), never the pin's, a checkout's or
/// whatever `--pin` names, and leaves a signed record of what it applied. The insider: a
/// release of their own (CC-3333) named with `--pin`, made to look deployed by a deployer key's
/// forged deployment records, and the old pin (CC-1111) named instead: each time the state
/// bucket gets the governing release's settings (CC-2222), and the record names that release.
/// Without the control bootstrap applied the pin's settings and recorded nothing. LocalStack.
#[test]
fn a_rerun_bootstrap_acts_as_the_governing_release_and_records_what_it_applied() {
    use lz_operate::bootstrap::{self, PinPlan};
    let (_d, sb) = common::sandbox("boot-governing");
    let c = at(SAT);
    let names = sb.names("dev");
    let state = names.state_bucket.clone().unwrap();
    let boot = |release: &str| bootstrap::environment(&sb.paths, &sb.endpoint, "dev", release, sb.signer("bob"), &names, Some(&c));
    let pinned = cost_centre_release(&sb, "boot-pinned", "CC-1111");
    let first = boot(&pinned).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(first.plan, PinPlan::New { release: pinned.clone() });
    assert_eq!(dev_bucket_tag(&sb, &state, "CostCentre").as_deref(), Some("CC-1111"));
    // Another release is deployed to dev (admitted): it governs dev now.
    let governing = cost_centre_release(&sb, "boot-deployed", "CC-2222");
    simulate_deployment(&sb, &governing, "dev", SAT);
    // The insider's release, with a deployment forged by the deployer key alone.
    let own = cost_centre_release(&sb, "boot-own", "CC-3333");
    let plan = sb.session(&own, "dev").unwrap().plan_digest;
    forge_deployment(&sb, &own, "dev", &plan, "standard");
    for named in [&own, &pinned] {
        let again = boot(named).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(again.plan, PinPlan::Existing { sequence: first.record, pinned: pinned.clone(), governing: governing.clone() }, "--pin {named}");
        assert_eq!(dev_bucket_tag(&sb, &state, "CostCentre").as_deref(), Some("CC-2222"), "--pin {named}: the governing release's settings");
        let records = sb.ledger().unwrap().records().unwrap();
        let r = records.iter().find(|r| r.sequence == again.record).expect("the record of what was applied");
        assert_eq!((r.kind, r.release.as_str(), r.environment.as_deref(), r.identity.as_str()), (Kind::GovernancePin, governing.as_str(), Some("dev"), "bob"));
        let details = r.details.governance_pin().expect("governance-pin details");
        assert_eq!(details.standing_pin, Some(first.record));
        assert!(details.applied.as_ref().is_some_and(|a| a.contains(&format!("s3://{state}"))), "{details:?}");
        assert!(details.settings_sha256.as_ref().is_some_and(|s| s.len() == 64), "{details:?}");
        // The first pin stands: the record moves no decision.
        assert_eq!(lz_promote::session::governance_pin(&records, "dev").unwrap().sequence, first.record);
    }
    assert_eq!(sb.session(&own, "dev").unwrap().governed_by.release(), governing);
}

/// Issue 26 (the resolve/record race): bootstrap resolves the governance, acts, then records by
/// compare-and-swap; a pin another bootstrap appended in between (or a deployment that moved
/// the governing release) makes the record a refusal naming what governs now, and nothing is
/// recorded, so no run acts as one release while another's pin stands unnoticed. Without the
/// control the second pin was silently not recorded ("the first pin stands") after acting.
#[test]
fn a_pin_or_deployment_appended_while_bootstrap_acts_is_refused_at_its_record() {
    use lz_operate::bootstrap::{self, PinPlan};
    let (_d, sb) = sandbox();
    let now = at(SAT).now().unwrap();
    let (a, b) = (cost_centre_release(&sb, "race-a", "CC-1111"), cost_centre_release(&sb, "race-b", "CC-2222"));
    let bob = sb.signer("bob");
    let (plan, archive) = bootstrap::resolve_pin(&sb.paths, "dev", &a, bob).unwrap();
    assert_eq!(plan, PinPlan::New { release: a.clone() });
    // Meanwhile another security person's bootstrap pins dev to b.
    let (pin_b, new) = bootstrap::pin(&sb.paths, "dev", &b, sb.signer("frank"), &now).unwrap();
    assert!(new);
    let before = sb.ledger().unwrap().records().unwrap().len();
    let msg = refused(bootstrap::record(&sb.paths, "dev", &plan, &archive, None, bob, &now));
    assert!(
        msg.contains(&format!("the governance of dev moved while bootstrap ran: it resolved release {} but dev is now pinned by record {pin_b} and governed by release {}", &a[..12], &b[..12])),
        "{msg}"
    );
    assert_eq!(sb.ledger().unwrap().records().unwrap().len(), before, "nothing recorded");
    // Resolved again: b governs. A deployment of a admitted meanwhile moves it: refused too.
    let (plan, archive) = bootstrap::resolve_pin(&sb.paths, "dev", &a, bob).unwrap();
    assert_eq!(plan, PinPlan::Existing { sequence: pin_b, pinned: b.clone(), governing: b.clone() });
    simulate_deployment(&sb, &a, "dev", SAT);
    let msg = refused(bootstrap::record(&sb.paths, "dev", &plan, &archive, None, bob, &now));
    assert!(msg.contains(&format!("resolved release {} but dev is now pinned by record {pin_b} and governed by release {}", &b[..12], &a[..12])), "{msg}");
    // Resolved on the chain as it is: recorded.
    let (plan, archive) = bootstrap::resolve_pin(&sb.paths, "dev", &b, bob).unwrap();
    assert_eq!(plan.release(), a);
    let seq = bootstrap::record(&sb.paths, "dev", &plan, &archive, None, bob, &now).unwrap();
    let records = sb.ledger().unwrap().records().unwrap();
    assert_eq!(records.last().map(|r| (r.sequence, r.release.as_str())), Some((seq, a.as_str())));
}
