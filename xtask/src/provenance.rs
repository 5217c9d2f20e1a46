//! `cargo xtask evidence query --resource ADDRESS --env E [--at TIME] [--format json]`: the
//! provenance of any resource of the environment's deployed plan (see `lz_promote::provenance`),
//! answered from the chain verified now and the verified release archive. Exit 1 for an address
//! the deployed plan does not declare, for nothing deployed, and for a re-rendered plan whose
//! digest is not the recorded one.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_evidence::query::RecordSummary;
use lz_evidence::verify::{KnownCheckpoint, VerifiedCache};
use lz_evidence::record::format_time;
use lz_promote::provenance::ResourceAnswer;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::store_args::{StoreArgs, TrustArgs};

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Text,
    Json,
}

fn line(r: &RecordSummary) -> String {
    format!("#{} {} {}", r.sequence, r.time, r.identity)
}

pub fn run(root: &Path, store: &StoreArgs, trust: &TrustArgs, env: &str, address: &str, at: Option<OffsetDateTime>, json: bool) -> Result<ExitCode> {
    // Without the replay a deployment record is only a claim: no answer rather than one that may
    // name a deployment whose admission does not hold.
    let Some(evidence) = store.evidence_at(root)? else {
        println!("REFUSED: admissions can only be replayed on a store change control names (the landing zone's); ask that store, not --store s3");
        return Ok(ExitCode::from(1));
    };
    let crate::context::LandingZone { mut paths, .. } = crate::context::LandingZone::open(root)?;
    paths.evidence = evidence;
    // One verification for the whole command (the replay and the lookup read it), against the
    // landing zone's pinned register, with the verifier's cached checkpoint and the witnessed one;
    // a trust root given besides must hold too.
    let opened = store.open(root)?;
    let cache = VerifiedCache::new(&crate::store_args::cache_dir(root), &opened.describe());
    let known: Vec<KnownCheckpoint> = cache.load()?.into_iter().collect();
    let witnessed = store.witnessed(root)?;
    if let Some(given) = trust.given(root)?.filter(|g| g.identity() != paths.trust.identity()) {
        if let Err(e) = lz_promote::verified::current_with(&paths.evidence, &given, &known, &witnessed, Some(&paths.mirror_dir())) {
            match lz_evidence::failure_of(&e) {
                Some(f) => {
                    println!("TAMPERED: {f} [{}]; not answering from an unverified chain", f.reason.code());
                    return Ok(ExitCode::from(1));
                }
                None => return Err(e),
            }
        }
    }
    let looked = match lz_promote::provenance::look_up(&paths, &known, &witnessed, env, address, at) {
        Ok(l) => l,
        Err(e) if lz_promote::is_refusal(&e) => {
            println!("TAMPERED: {e:#}; not answering from an unverified chain");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e),
    };
    if let Some(head) = &looked.head {
        cache.save(head)?;
    }
    for q in &looked.quarantined {
        println!("FOREIGN: {q}");
    }
    let when = at.map(format_time).unwrap_or_else(|| "now".into());
    let Some(a) = looked.answer else {
        let msg = format!("nothing admitted was deployed in {env} at {when}: no release governs {address} there");
        if json {
            println!("{}", serde_json::to_string_pretty(&json!({"resource": address, "environment": env, "at": at.map(format_time), "found": false, "error": msg}))?);
        } else {
            println!("{msg}");
        }
        return Ok(ExitCode::from(1));
    };
    if a.resource.is_none() {
        let msg = format!(
            "unknown address: {address} is not a resource of the plan deployed in {env} at {when} (release {}, plan {}, {} resources)",
            a.release, a.plan_digest, a.resources_in_plan
        );
        if json {
            println!("{}", serde_json::to_string_pretty(&json!({"resource": address, "environment": env, "at": a.at, "found": false, "release": a.release, "error": msg}))?);
        } else {
            println!("{msg}");
        }
        return Ok(ExitCode::from(1));
    }
    if json {
        let mut v = serde_json::to_value(&a)?;
        v["found"] = Value::Bool(true);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_text(&a, &when);
    }
    if !a.plan_matches {
        if !json {
            println!("FINDING: the plan re-rendered from release {} is {}, not the recorded {}", a.release, a.rendered_plan_digest, a.plan_digest);
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(a: &ResourceAnswer, when: &str) {
    let d = &a.deployed;
    let r = a.resource.as_ref().expect("checked by the caller");
    println!("{} {} (at {when})", a.environment, a.address);
    println!("  type:        {}{}", r.resource_type, r.module.as_deref().map(|m| format!(" in {m}")).unwrap_or_default());
    println!("  release:     {}", a.release);
    println!("  deployed by: {} (deployment record {})", line(&d.deployment), d.deployment.sequence);
    let verdict = if a.plan_matches { "matches the recorded digest".to_string() } else { format!("DOES NOT MATCH: re-rendered {}", a.rendered_plan_digest) };
    println!("  plan:        {} (re-rendered from the release archive: {verdict})", a.plan_digest);
    if let Some(p) = &d.plan {
        println!("  plan record: {}", line(p));
    }
    println!("  tier:        {}", d.tier.as_deref().unwrap_or("unknown"));
    println!("  applied:     {}", a.applied_under);
    match &d.policy_evaluation {
        Some(p) => {
            let evaluation = p.typed.policy_evaluation();
            let passed = evaluation.and_then(|x| x.passed).unwrap_or(false);
            let findings = evaluation.and_then(|x| x.findings.as_ref()).map_or(0, Vec::len);
            println!("  policy:      {} {} ({findings} finding(s))", line(p), if passed { "passed" } else { "FAILED" });
        }
        None => println!("  policy:      no policy evaluation named"),
    }
    if d.approvals.is_empty() {
        println!("  approvals:   none counted");
    }
    for ap in &d.approvals {
        println!("  approval:    {}", line(ap));
    }
    let used: Vec<&Value> =
        d.policy_evaluation.iter().flat_map(|p| p.typed.policy_evaluation().and_then(|x| x.exceptions.as_ref()).into_iter().flatten()).collect();
    if used.is_empty() {
        println!("  exceptions:  none in force");
    }
    for u in used {
        let id = u.get("id").and_then(Value::as_str).unwrap_or("?");
        let by = u.get("approval").and_then(Value::as_u64).and_then(|s| d.exception_approvals.iter().find(|x| x.sequence == s));
        println!("  exception:   {id}{}", by.map(|x| format!(" approved by {}", line(x))).unwrap_or_else(|| " (no signed approval named)".into()));
    }
    for (s, why) in &a.rejected {
        println!("  passed over: deployment record {s} has no valid admission: {why}");
    }
    let values = serde_json::to_string_pretty(&r.values).unwrap_or_default();
    println!("  planned values:");
    for l in values.lines() {
        println!("    {l}");
    }
}
