//! `promote --dry-run` and `classify`: every gate at once, judged by the same named gate steps
//! the promotion admits through (`lz_promote::gates`), so the dry run and the real promotion
//! never disagree. Against LocalStack, in a sandbox of its own.

mod common;

use lz_promote::clock::Clock;
use lz_promote::gates::{Gate, Gates, Status};
use lz_operate::sandbox::Sandbox;
use lz_promote::{breakglass, Tier};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{open_time, release, sandbox};

fn status(g: &Gates, gate: Gate) -> Status {
    g.gates.iter().find(|c| c.gate == gate).unwrap_or_else(|| panic!("no {gate:?} gate in {g:#?}")).status
}

fn check<'a>(g: &'a Gates, gate: Gate) -> &'a lz_promote::gates::Check {
    g.gates.iter().find(|c| c.gate == gate).unwrap()
}

/// The dry run of `deployer` promoting `release` to `env`, then the real promotion: the dry
/// run's verdict is the promotion's (the same refusal text, or admitted at the same tier).
fn dry_then_real(sb: &Sandbox, release: &str, env: &str, deployer: &str, clock: &Clock) -> Gates {
    let dry = sb.dry_run(release, env, deployer, clock).unwrap_or_else(|e| panic!("{e:#}"));
    // Nothing was recorded by the dry run: the chain is as it was.
    let before = sb.ledger().unwrap().records().unwrap().len();
    assert_eq!(sb.dry_run(release, env, deployer, clock).unwrap().refusal, dry.refusal);
    assert_eq!(sb.ledger().unwrap().records().unwrap().len(), before, "the dry run recorded something");
    match sb.promote(release, env, deployer, clock, 0) {
        Ok(o) => {
            assert!(dry.admitted && dry.refusal.is_none(), "the promotion was admitted, the dry run said {:?}", dry.refusal);
            assert_eq!(dry.tier, Some(o.admission.tier));
            assert_eq!(dry.exit_code(), 0);
        }
        Err(e) => {
            assert!(!dry.admitted);
            assert_eq!(dry.exit_code(), if lz_promote::is_refusal(&e) { 1 } else { 2 }, "{e:#}");
            assert_eq!(dry.refusal.as_deref(), Some(format!("{e:#}").as_str()), "{}", dry.render_text(false));
        }
    }
    dry
}

#[test]
fn the_dry_run_lists_every_gate_and_agrees_with_the_promotion() {
    let (_d, sb) = sandbox("dry-run");
    let now = open_time();
    let r = release(&sb, "dry-run", &now);
    sb.bootstrap("dev", &r).unwrap();

    // The author as deployer with no approvals: duties and approvals unmet at once; the
    // promotion refuses with the first (duties).
    let g = dry_then_real(&sb, &r, "dev", "alice", &now);
    assert_eq!(status(&g, Gate::Duties), Status::Unmet);
    assert_eq!(status(&g, Gate::Approvals), Status::Unmet);
    assert!(g.refusal.as_deref().unwrap().starts_with("alice authored release"), "{:?}", g.refusal);

    // No approvals: who must approve, by group, and the command that records one.
    let g = dry_then_real(&sb, &r, "dev", "deployer-bot", &now);
    assert_eq!(status(&g, Gate::Duties), Status::Met);
    assert_eq!(status(&g, Gate::PreviousEnvironment), Status::Met);
    assert_eq!(status(&g, Gate::Policy), Status::Met);
    assert_eq!(status(&g, Gate::Tier), Status::Met);
    assert_eq!(status(&g, Gate::Approvals), Status::Unmet);
    assert_eq!(status(&g, Gate::Window), Status::Met);
    assert_eq!(status(&g, Gate::BreakGlass), Status::Unmet);
    assert_eq!(g.classified_tier, Some(Tier::High));
    let a = g.approvals.as_ref().unwrap();
    assert_eq!((a.required, a.required_groups.clone()), (2, vec!["security".to_string()]));
    assert!(a.present.is_empty());
    assert!(a.may_approve["security"].contains(&"bob".to_string()), "{a:#?}");
    assert!(!a.may_approve.values().flatten().any(|n| n == "alice"), "the author may not approve: {a:#?}");
    assert_eq!(check(&g, Gate::BreakGlass).why, format!("no approved, open break-glass session of dev covers release {}", &r[..12]));
    let resolve = check(&g, Gate::Approvals).resolve.clone().unwrap();
    assert!(resolve.contains("cargo xtask approve --release ") && resolve.contains("--env dev --as ") && resolve.contains("--key"), "{resolve}");
    let text = g.render_text(true);
    assert!(text.contains("approvals") && text.contains("UNMET") && text.contains("may approve: ") && text.contains("resolve: cargo xtask approve"), "{text}");
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["gates"].as_array().unwrap().len(), 9, "{json:#}");
    assert_eq!(json["gates"][4]["gate"], "approvals");
    assert_eq!(json["gates"][4]["status"], "unmet");

    // One approval from security: present by group, one missing.
    sb.approve("bob", &r, "dev", &now).unwrap();
    let g = dry_then_real(&sb, &r, "dev", "deployer-bot", &now);
    let a = g.approvals.as_ref().unwrap();
    assert_eq!(a.present["security"].iter().map(|x| x.identity.as_str()).collect::<Vec<_>>(), ["bob"]);
    assert!(!a.may_approve.values().flatten().any(|n| n == "bob"));

    // The approver as deployer: refused under segregation of duties, in both.
    let g = dry_then_real(&sb, &r, "dev", "bob", &now);
    assert!(g.refusal.as_deref().unwrap().contains("bob approved release"), "{:?}", g.refusal);

    // Approved: admitted at tier high, then promoted.
    sb.approve("erin", &r, "dev", &now).unwrap();
    let g = dry_then_real(&sb, &r, "dev", "deployer-bot", &now);
    assert!(g.admitted);
    assert_eq!(status(&g, Gate::BreakGlass), Status::NotNeeded);
    assert_eq!(status(&g, Gate::Facts), Status::Met);

    // test: dev not drift-checked and no approvals, both at once; the resolving command names
    // the drift check of dev with its flags.
    sb.bootstrap("test", &r).unwrap();
    let g = dry_then_real(&sb, &r, "test", "deployer-bot", &now);
    assert_eq!(status(&g, Gate::PreviousEnvironment), Status::Unmet);
    assert_eq!(status(&g, Gate::Approvals), Status::Unmet);
    let resolve = check(&g, Gate::PreviousEnvironment).resolve.clone().unwrap();
    assert_eq!(resolve, "cargo xtask drift --env dev --as IDENTITY --key FILE");

    // prod on a Thursday at 09:00 UTC: not deployed to preprod, no approvals, window closed.
    let thursday = Clock::Fixed(OffsetDateTime::parse("2026-12-03T09:00:00Z", &Rfc3339).unwrap());
    sb.bootstrap("prod", &r).unwrap();
    let g = dry_then_real(&sb, &r, "prod", "deployer-bot", &thursday);
    assert_eq!(status(&g, Gate::PreviousEnvironment), Status::Unmet);
    assert_eq!(status(&g, Gate::Approvals), Status::Unmet);
    assert_eq!(status(&g, Gate::Window), Status::Unmet);
    assert!(check(&g, Gate::Window).why.contains("market hours"), "{}", check(&g, Gate::Window).why);
    let a = g.approvals.as_ref().unwrap();
    assert_eq!(a.required_groups, ["security", "business"]);

    // An open, approved break-glass session waives approvals and window, never the previous
    // environment: still refused, for that reason only.
    let t = OffsetDateTime::parse("2026-12-03T09:00:00Z", &Rfc3339).unwrap();
    let ledger = sb.ledger().unwrap();
    let bg = breakglass::open(&ledger, sb.signer("oscar"), "prod", "555555555555", Some(&r), "INC-7", "exchange outage", 30, t).unwrap();
    breakglass::approve(&ledger, sb.signer("frank"), bg.sequence, "outage confirmed", t).unwrap();
    let g = dry_then_real(&sb, &r, "prod", "deployer-bot", &thursday);
    assert_eq!(status(&g, Gate::Approvals), Status::Waived);
    assert_eq!(status(&g, Gate::Window), Status::Waived);
    assert_eq!(status(&g, Gate::BreakGlass), Status::Met);
    assert_eq!(status(&g, Gate::PreviousEnvironment), Status::Unmet);
    assert!(g.refusal.as_deref().unwrap().contains("it has not been deployed to preprod"), "{:?}", g.refusal);
}
