//! One plan, one answer: `policy --plan F` on the file `plan --env E --out F` wrote reports
//! exactly the findings of `policy --env E` (the secret scan of sources, which only `--env`
//! runs, aside), for every environment.
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn xtask(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("LZ_ROOT", root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn findings(args: &[&str]) -> Vec<serde_json::Value> {
    let (code, out, err) = xtask(args);
    assert!(code == 0 || code == 1, "{args:?} exited {code}: {err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["rule_id"].as_str().unwrap().starts_with("LZ-SCAN-"))
        .cloned()
        .collect()
}

#[test]
fn policy_on_the_written_plan_equals_policy_on_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let envs = lz_repo::env::present(&root()).unwrap();
    assert_eq!(envs.len(), 5, "{envs:?}");
    for env in envs {
        let file = dir.path().join(format!("{env}.json"));
        let f = file.to_str().unwrap();
        let (code, _, err) = xtask(&["plan", "--env", &env, "--out", f]);
        assert_eq!(code, 0, "plan --env {env}: {err}");
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for key in [
            "terraform_version",
            "configuration",
            "resource_changes",
            "variables",
        ] {
            assert!(
                written.get(key).is_some(),
                "{env}: plan --out dropped {key}"
            );
        }
        let by_env = findings(&["policy", "--env", &env, "--format", "json"]);
        let by_plan = findings(&["policy", "--plan", f, "--format", "json"]);
        assert_eq!(
            by_plan, by_env,
            "{env}: policy --plan differs from policy --env"
        );
        // The register waives nothing any more (EXC-0001..0005 retired with LZ-SEC-002's
        // schedule tag): every environment passes every policy on its own.
        assert!(by_env.is_empty(), "{env}: findings without a waiver: {by_env:?}");
    }
}

/// A plan-shaped file with a wrong type is an input error: exit 2, naming the file, the line
/// and column of the wrong value and its JSON path, never a policy evaluator error.
#[test]
fn malformed_plan_exits_2_naming_file_line_and_path() {
    let file = root().join("policies/corpus/malformed-change-type.format-1.2.json");
    let (code, out, err) = xtask(&["policy", "--plan", file.to_str().unwrap()]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("malformed-change-type.format-1.2.json:34:14: the plan is malformed: resource_changes[1].change is a string, expected an object"),
        "{err}"
    );
    assert!(!err.contains(".rego"), "{err}");
}

/// A plan naming a key twice in one object is an input error (serde_json would keep the last
/// value, another reader the first): exit 2, naming the file, the line and the key's path.
#[test]
fn a_plan_naming_a_key_twice_exits_2_naming_file_line_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("twice.json");
    let text = std::fs::read_to_string(root().join("crates/policy/tests/data/plans/compliant.json")).unwrap();
    let at = text.find("\"format_version\"").expect("a plan names its format version");
    std::fs::write(&file, format!("{}\"format_version\": \"9.9\",\n{}", &text[..at], &text[at..])).unwrap();
    let (code, out, err) = xtask(&["policy", "--plan", file.to_str().unwrap()]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains(&format!("{}:", file.display())) && err.contains("key format_version is named twice"), "{err}");
}

/// Review of lane policymem, item 5: only the `policy` command asks the kernel for ordinary
/// pages. The flag is inherited across fork and exec, so a command that runs terraform (here a
/// stand-in on PATH that records its own flag) must leave its children the kernel's default.
#[test]
fn programs_run_by_xtask_keep_the_kernels_page_default() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let seen = dir.path().join("thp");
    let script = bin.join("terraform");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ngrep THP_enabled /proc/self/status >> '{}'\n[ \"$1\" = version ] && echo '{{\"terraform_version\":\"1.11.4\"}}' && exit 0\nexit 1\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["plan", "--env", "dev", "--engine", "terraform"])
        .env("LZ_ROOT", root())
        .env("PATH", path)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&seen)
        .unwrap_or_else(|e| panic!("the stand-in terraform never ran ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert!(!text.is_empty() && text.lines().all(|l| l.split_whitespace().eq(["THP_enabled:", "1"])), "{text}");
}
