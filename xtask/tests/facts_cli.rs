//! `evidence verify` through the shipped binary checks facts at their source (issue 23, item
//! 2): after an honest promotion it reports every fact checked; a `succeeded` record appended
//! with the deployer key alone, naming the honest run's admission but a state version the state
//! bucket does not hold, is reported CONTRADICTED (exit 1), naming the record.

mod common;

use common::{checkout, key, ok, ready_to_promote, xtask};
use serde_json::Value;

/// The in-toto statements of the verified cache `evidence pull` writes.
fn statements(dir: &std::path::Path) -> Vec<Value> {
    use base64::Engine as _;
    ok(dir, &["evidence", "pull"]);
    let raw = std::fs::read_to_string(dir.join(".tools/evidence/main.jsonl")).unwrap();
    raw.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let env = v.get("envelope").unwrap_or(&v);
            let bytes = base64::engine::general_purpose::STANDARD.decode(env["payload"].as_str().unwrap()).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect()
}

#[test]
fn evidence_verify_reports_a_deployment_its_state_bucket_contradicts() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let digest = ready_to_promote(d.path(), keys.path());
    let bot = key(keys.path(), "deployer-bot");
    ok(d.path(), &["promote", "--release", &digest, "--to", "dev", "--as", "deployer-bot", "--key", &bot, "--policy-key", &key(keys.path(), "change-policy-dev")]);
    let out = ok(d.path(), &["evidence", "verify"]);
    assert!(out.contains("checked against its source: ok"), "{out}");

    // The honest run's in-progress record: its sequence, run and plan.
    let all = statements(d.path());
    let (seq, ip) = all
        .iter()
        .enumerate()
        .rfind(|(_, s)| s["predicateType"].as_str().is_some_and(|t| t.contains("deployment")) && s["predicate"]["outcome"] == "in-progress")
        .expect("an in-progress deployment record");
    let p = &ip["predicate"];
    let run = format!("run={}", p["run"].as_str().unwrap());
    let plan = p["plan_digest"].as_str().unwrap();
    let ip_detail = format!("in_progress_record={seq}");
    ok(
        d.path(),
        &[
            "evidence", "append", "--kind", "deployment", "--identity", "deployer-bot", "--key", &bot, "--release", &digest, "--env", "dev",
            "--account", "111111111111", "--plan-digest", plan, "--detail", "outcome=succeeded", "--detail", &run, "--detail", &ip_detail,
            "--detail", "state_version=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", "--detail", "state_serial=99", "--detail", "state_lineage=made-up",
        ],
    );
    let forged = all.len();
    let (code, out, err) = xtask(d.path(), &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("every deployment's admission replayed: ok"), "the forged record has a valid admission: {out}");
    assert!(
        out.contains(&format!("CONTRADICTED: deployment record {forged}: deployment record {forged} of release {}", &digest[..12]))
            && out.contains("which the state bucket does not hold"),
        "{out}"
    );
}
