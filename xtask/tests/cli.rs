//! The command line's contract: `cargo xtask check` exits 0 on the repository, 1 with findings
//! naming the module, variable and file, 2 on malformed input with file:line.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A copy of the repository without build output, tools or git metadata.
fn copy_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root();
    for entry in walkdir(&src) {
        let rel = entry.strip_prefix(&src).unwrap();
        let dst = dir.path().join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &dst).unwrap();
    }
    dir
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if [".git", "target", ".tools", ".terraform", "fuzz", ".cache"].contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn xtask(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("LZ_ROOT", root)
        .env("CI", "true")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn check_is_clean_on_the_repository() {
    let (code, out, err) = xtask(&root(), &["check"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("check: clean"), "{out}");
}

#[test]
fn misspelt_aws_argument_exits_2_with_terraforms_wording_and_place() {
    let copy = copy_repo();
    let f = copy.path().join("modules/kms-key/main.tf");
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.matches("  enable_key_rotation                = true").count(), 1);
    std::fs::write(&f, text.replace("  enable_key_rotation                = true", "  enable_key_rotaton                 = true")).unwrap();
    let (code, out, err) = xtask(copy.path(), &["check"]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("modules/kms-key/main.tf:145:3: Unsupported argument: An argument named \"enable_key_rotaton\" is not expected here. Did you mean \"enable_key_rotation\"?"),
        "{err}"
    );
}

#[test]
fn module_edit_without_bump_exits_1_naming_the_module() {
    let copy = copy_repo();
    let f = copy.path().join("modules/network/main.tf");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{text}\nlocals {{\n  unreviewed = true\n}}\n")).unwrap();
    let (code, out, err) = xtask(copy.path(), &["check"]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("module network changed without a version bump"), "{out}");
    assert!(out.contains("cargo xtask catalog bump network"), "{out}");
}

#[test]
fn overlay_with_unlisted_variable_exits_1_naming_variable_and_file() {
    let copy = copy_repo();
    let f = copy.path().join("environments/prod/terraform.tfvars");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{text}\ngithub_repository = \"someone-else/fork\"\n")).unwrap();
    let (code, out, err) = xtask(copy.path(), &["check"]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("environments/prod/terraform.tfvars:"), "{out}");
    assert!(out.contains("variable github_repository may not be set by an overlay"), "{out}");
}

#[test]
fn malformed_tfvars_exits_2_with_file_and_line() {
    let copy = copy_repo();
    let f = copy.path().join("environments/dev/terraform.tfvars");
    std::fs::write(&f, "environment = \"dev\"\naccount_id = \"111111111111\n").unwrap();
    let (code, out, err) = xtask(copy.path(), &["check"]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("environments/dev/terraform.tfvars:2:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn catalog_bump_fixes_the_finding() {
    let copy = copy_repo();
    let f = copy.path().join("modules/kms-key/main.tf");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{text}\n# Rotation is reviewed yearly.\n")).unwrap();
    let (code, out, err) = xtask(copy.path(), &["catalog", "bump", "kms-key", "patch", "-m", "Document the rotation review"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("kms-key -> 1.0.1"), "{out}");
    let (code, out, err) = xtask(copy.path(), &["catalog", "show"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.lines().any(|l| l.starts_with("kms-key") && l.contains("1.0.1") && l.ends_with("ok")), "{out}");
}

#[test]
fn docs_check_exits_1_when_stale() {
    let copy = copy_repo();
    let f = copy.path().join("modules/secrets/README.md");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("| kms_key_arn |", "| kms_key |")).unwrap();
    let (code, out, _) = xtask(copy.path(), &["docs", "--check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("modules/secrets/README.md"), "{out}");
    let (code, _, _) = xtask(copy.path(), &["docs"]);
    assert_eq!(code, 0);
    let (code, out, _) = xtask(copy.path(), &["docs", "--check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn setup_print_reports_every_tool() {
    let (code, out, err) = xtask(&root(), &["setup", "--print"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tf = json["terraform"]["version"].as_str().unwrap();
    assert!(tf.starts_with("1."), "{tf}");
    assert_eq!(json["localstack"]["version"], "4.14.0");
    assert!(Path::new(json["localstack"]["python"].as_str().unwrap()).exists());
}
