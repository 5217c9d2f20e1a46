//! `cargo xtask policy --env`: every finding names the overlay entry (file:line:col and the
//! line) that produced it and the declaration it comes from, carries its rule's remediation, and
//! findings of one root cause are one group; `--severity` filters what is reported (and the
//! exit code follows it). On a copy of the repository whose trading-service module lost its
//! permissions boundary: one declaration, one finding per service of the overlay.

mod common;

use std::path::Path;
use std::process::Command;

use common::copy_repository as copy;

fn xtask(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("LZ_ROOT", dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn findings_name_the_overlay_entry_the_declaration_and_the_fix_grouped_by_root_cause() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    copy(dir);
    let main = dir.join("modules/trading-service/main.tf");
    let text = std::fs::read_to_string(&main).unwrap();
    let line = "  permissions_boundary = var.permissions_boundary_arn\n";
    assert!(text.contains(line));
    std::fs::write(&main, text.replacen(line, "", 1)).unwrap();
    let declared = text.lines().position(|l| l.starts_with("resource \"aws_iam_role\" \"task\"")).unwrap() + 1;
    let overlay = std::fs::read_to_string(dir.join("environments/dev/terraform.tfvars")).unwrap();
    let entry = overlay.lines().position(|l| l.trim_start().starts_with("market-data = {")).unwrap() + 1;

    let (code, out, err) = xtask(dir, &["policy", "--env", "dev"]);
    assert_eq!(code, 1, "{out}{err}");
    let services = overlay.lines().filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.trim_end().ends_with("= {")).count();
    assert!(services >= 2, "{overlay}");
    for want in [
        format!("HIGH     LZ-IAM-002 Every IAM role has a permissions boundary ({services} findings, one root cause)"),
        format!("  declared at modules/trading-service/main.tf:{declared}:1\n    resource \"aws_iam_role\" \"task\" {{"),
        format!("  - module.service[\"market-data\"].aws_iam_role.task: role has no permissions boundary\n      from the overlay entry services[\"market-data\"] at environments/dev/terraform.tfvars:{entry}:3\n        market-data = {{"),
        "  fix: Set permissions_boundary on the role to the landing zone's boundary".to_string(),
        format!("{services} finding(s) failing (0 critical, {services} high, 0 medium, 0 low) in 1 root cause(s)"),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
    assert!(!out.contains("\x1b["), "colour without a terminal: {out}");

    // JSON: the same place and the fix, per finding.
    let (code, out, _) = xtask(dir, &["policy", "--env", "dev", "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["address"] == "module.service[\"market-data\"].aws_iam_role.task").unwrap();
    assert_eq!(f["location"]["file"], "environments/dev/terraform.tfvars");
    assert_eq!(f["location"]["line"].as_u64(), Some(entry as u64));
    assert_eq!(f["declaration"]["line"].as_u64(), Some(declared as u64));
    assert_eq!(f["entry"], "services[\"market-data\"]");
    assert!(f["remediation"].as_str().unwrap().starts_with("Set permissions_boundary"));

    // SARIF: the entry's region with its snippet, never line 1 of the overlay.
    let (_, out, _) = xtask(dir, &["policy", "--env", "dev", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = v["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "module.service[\"market-data\"].aws_iam_role.task").unwrap();
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64(), Some(entry as u64));
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["snippet"]["text"], "market-data = {");

    // The gate: one line per root cause and environment, at the declaration, naming each
    // service's overlay entry and the fix.
    let (code, out, err) = xtask(dir, &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    let both = format!("{out}{err}");
    let gate = both
        .lines()
        .find(|l| l.contains(&format!("modules/trading-service/main.tf:{declared}: [policy] high LZ-IAM-002")) && l.contains("environments/dev/"))
        .unwrap_or_else(|| panic!("no policy line at the declaration:\n{both}"));
    assert!(gate.contains(&format!("({services} findings, one root cause)")), "{gate}");
    assert!(gate.contains(&format!("(services[\"market-data\"] at environments/dev/terraform.tfvars:{entry}:3)")), "{gate}");
    assert!(gate.contains("; fix: Set permissions_boundary on the role"), "{gate}");

    // --severity: the high findings are below a critical floor; nothing reported, exit 0.
    let (code, out, err) = xtask(dir, &["policy", "--env", "dev", "--severity", "critical"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{services} below --severity not shown")), "{out}");
    let (code, out, _) = xtask(dir, &["policy", "--env", "dev", "--severity", "high"]);
    assert_eq!(code, 1, "{out}");
    let (code, _, err) = xtask(dir, &["policy", "--env", "dev", "--severity", "severe"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("\"severe\" is not a severity (low, medium, high, critical)"), "{err}");
}

/// `exceptions list` and the policy evaluation (`policy`, `check`) judge an entry alike: an
/// owner who is not a registered identity makes it invalid in both.
#[test]
fn exceptions_list_and_policy_judge_an_unregistered_owner_alike() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    copy(dir);
    let today = time::OffsetDateTime::now_utc().date();
    let entry = format!(
        "[[exception]]\nid = \"EXC-0900\"\nrule_id = \"LZ-S3-003\"\nscope = {{ environment = \"dev\", address = \"module.nothing.*\" }}\njustification = \"j\"\ncompensating_control = \"c\"\nowner = \"trading-desk\"\napprover = \"grace-lindqvist\"\nticket = \"CHG-1\"\ncreated = {today}\nexpires = {}\n",
        today + time::Duration::days(30)
    );
    let reg = dir.join("governance/exceptions.toml");
    let text = std::fs::read_to_string(&reg).unwrap();
    std::fs::write(&reg, format!("{text}\n{entry}")).unwrap();
    let why = "exception EXC-0900 names owner \"trading-desk\", who is not a registered identity";
    let (code, out, err) = xtask(dir, &["exceptions", "list"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("names owner \"trading-desk\", who is not a registered identity"), "{out}");
    assert!(out.contains("1 invalid"), "{out}");
    let (code, out, err) = xtask(dir, &["policy", "--env", "dev"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(why), "{out}");
}
