//! `release build` refuses a dirty tree and a tree whose gate fails, unless `--allow-dirty`, which
//! the manifest records (issue 28, item 10). Runs the shipped binary on a git checkout of the
//! repository's files.

mod common;

use std::path::Path;

use common::{root, xtask};

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Release Tester", "-c", "user.email=release@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

fn build(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["release", "build", "--author", "alice", "--ticket", "CHG-10", "--reason", "hygiene", "--json"];
    args.extend(extra);
    xtask(dir, &args)
}

/// The releases staged under `.tools/releases`.
fn staged(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(".tools/releases")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_dirty_or_failing_tree_is_refused_unless_allow_dirty_which_the_manifest_records() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    lz_service::golden::checkout(&root(), dir).unwrap_or_else(|e| panic!("{e:#}"));
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "the landing zone"]);

    // 1. An uncommitted overlay change: refused (exit 1), naming the file and the way out.
    let tfvars = dir.join("environments/dev/terraform.tfvars");
    let clean = std::fs::read_to_string(&tfvars).unwrap();
    std::fs::write(&tfvars, format!("{clean}# work in progress\n")).unwrap();
    let (code, out, err) = build(dir, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not a clean git checkout (environments/dev/terraform.tfvars changed)"), "{err}");
    assert!(err.contains("--allow-dirty"), "{err}");
    assert_eq!(staged(dir), 0, "a refused build stages nothing");

    // 2. The same tree with --allow-dirty: built, and the manifest says so.
    let (code, out, err) = build(dir, &["--allow-dirty"]);
    assert_eq!(code, 0, "{out}{err}");
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["git"]["dirty"], true, "{out}");
    assert_eq!(m["hygiene"]["allow_dirty"], true, "{out}");
    assert_eq!(m["hygiene"]["check"], "not run: built with --allow-dirty", "{out}");
    let digest = m["digest"].as_str().unwrap().to_string();
    let (code, shown, err) = xtask(dir, &["release", "show", &digest, "--dir", &dir.join(".tools/releases").display().to_string()]);
    assert_eq!(code, 0, "{shown}{err}");
    assert!(shown.contains("hygiene     BUILT WITH --allow-dirty"), "{shown}");

    // 3. Committed, but the gate fails (a module changed without a catalog bump): refused.
    std::fs::write(&tfvars, &clean).unwrap();
    let main_tf = dir.join("modules/s3-bucket/main.tf");
    let module = std::fs::read_to_string(&main_tf).unwrap();
    std::fs::write(&main_tf, format!("{module}\n# an unreleased edit\n")).unwrap();
    git(dir, &["commit", "-q", "-am", "an unreleased module edit"]);
    let (code, out, err) = build(dir, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("`cargo xtask check` has") && err.contains("catalog: ") && err.contains("s3-bucket"), "{err}");
    assert_eq!(staged(dir), 1, "only the --allow-dirty release is staged");

    // 4. Clean and passing: built, with the check recorded as passed.
    std::fs::write(&main_tf, &module).unwrap();
    git(dir, &["commit", "-q", "-am", "revert the edit"]);
    let (code, out, err) = build(dir, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["git"]["dirty"], false, "{out}");
    assert_eq!(m["hygiene"]["allow_dirty"], false, "{out}");
    // This checkout has no evidence store: the check says which steps it could not run, never a bare "passed".
    let check = m["hygiene"]["check"].as_str().unwrap();
    assert!(check.starts_with("passed; ") && check.contains("not checked"), "{out}");
    let staged_now = staged(dir);

    // 5. What `git status` does not show is still not a clean tree: an ignored file under a
    //    release directory, and an edit hidden with assume-unchanged. Both refused, nothing staged.
    let ignored = dir.join("governance/.cache/notes.txt");
    std::fs::create_dir_all(ignored.parent().unwrap()).unwrap();
    std::fs::write(&ignored, "ignored by .gitignore, archived all the same\n").unwrap();
    let (code, out, err) = build(dir, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not the committed ones (governance/.cache/notes.txt)"), "{err}");
    assert_eq!(staged(dir), staged_now, "a refused build stages nothing");
    std::fs::remove_dir_all(ignored.parent().unwrap()).unwrap();
    git(dir, &["update-index", "--assume-unchanged", "environments/dev/terraform.tfvars"]);
    std::fs::write(&tfvars, format!("{clean}# hidden from git status\n")).unwrap();
    let (code, out, err) = build(dir, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("(environments/dev/terraform.tfvars)"), "{err}");
    assert_eq!(staged(dir), staged_now, "a refused build stages nothing");
}
