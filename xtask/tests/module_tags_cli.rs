//! Module versions as git tags (issue 28, item 1): `catalog bump` commits the module and the
//! catalog and tags the commit `<module>-v<version>`; a scratch stack consumes the module at that
//! tag through Terraform's own git source; `catalog tags --create` tags the versions of the
//! history; every `?ref=` the READMEs and examples show names a tag or a catalog version.

mod common;

use std::path::Path;
use std::process::Command;

use common::{root, xtask};

const GIT_ID: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "Module Releaser"),
    ("GIT_AUTHOR_EMAIL", "releaser@example.invalid"),
    ("GIT_COMMITTER_NAME", "Module Releaser"),
    ("GIT_COMMITTER_EMAIL", "releaser@example.invalid"),
];

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).envs(GIT_ID).output().unwrap();
    assert!(out.status.success(), "git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The shipped binary with a git identity (a commit needs one).
fn xtask_git(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("LZ_ROOT", dir).envs(GIT_ID).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// A git checkout of the repository's files, one commit.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_repository(dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "the landing zone"]);
    dir
}

#[test]
fn catalog_bump_tags_the_release_and_a_stack_consumes_the_module_at_that_tag() {
    let repo = checkout();
    let dir = repo.path();
    let main_tf = dir.join("modules/kms-key/main.tf");
    std::fs::write(&main_tf, format!("{}\n# Rotation is reviewed yearly.\n", std::fs::read_to_string(&main_tf).unwrap())).unwrap();
    // Another change in progress, staged: the release commit leaves it alone.
    let readme = dir.join("README.md");
    std::fs::write(&readme, format!("{}\nwork in progress\n", std::fs::read_to_string(&readme).unwrap())).unwrap();
    git(dir, &["add", "README.md"]);

    let (code, out, err) = xtask_git(dir, &["catalog", "bump", "kms-key", "patch", "-m", "Document the rotation review"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("kms-key -> 1.0.1") && out.contains("tagged it kms-key-v1.0.1"), "{out}");
    assert_eq!(git(dir, &["cat-file", "-t", "kms-key-v1.0.1"]).trim(), "tag", "an annotated tag");
    assert_eq!(git(dir, &["rev-parse", "kms-key-v1.0.1^{commit}"]), git(dir, &["rev-parse", "HEAD"]));
    let committed = git(dir, &["show", "--name-only", "--format=%s", "HEAD"]);
    assert!(committed.starts_with("kms-key 1.0.1: Document the rotation review"), "{committed}");
    assert!(committed.contains("modules/kms-key/main.tf") && committed.contains("modules/kms-key/CHANGELOG.md"), "{committed}");
    assert!(committed.contains("modules/catalog.toml") && !committed.contains("README.md"), "{committed}");
    assert_eq!(git(dir, &["diff", "--cached", "--name-only"]).trim(), "README.md", "the other change stays staged");
    let catalog = lz_platform::catalog::load(dir).unwrap();
    let entry = &catalog.modules["kms-key"];
    assert_eq!(entry.version, "1.0.1");
    assert!(git(dir, &["cat-file", "-p", "kms-key-v1.0.1"]).contains(&entry.sha256), "the tag names the module's hash");

    // A released version is never re-tagged.
    let e = lz_platform::module_tags::release(dir, "kms-key", "1.0.1", "again").unwrap_err();
    assert!(format!("{e:#}").contains("tag kms-key-v1.0.1 already exists"), "{e:#}");

    // The README's consumption path: a scratch stack pins the module at the tag through
    // Terraform's git source, and gets exactly the released files.
    let stack = tempfile::tempdir().unwrap();
    let source = format!("git::file://{}//modules/kms-key?ref=kms-key-v1.0.1", dir.display());
    std::fs::write(stack.path().join("main.tf"), format!("module \"logs_key\" {{\n  source = \"{source}\"\n}}\n")).unwrap();
    let rc = stack.path().join("terraformrc");
    std::fs::write(&rc, "").unwrap();
    let tf = lz_platform::tools::terraform(&root()).expect("terraform");
    let out = Command::new(&tf.path).args(["get", "-no-color"]).current_dir(stack.path()).env("TF_CLI_CONFIG_FILE", &rc).output().unwrap();
    assert!(out.status.success(), "terraform get: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let fetched = stack.path().join(".terraform/modules/logs_key/modules/kms-key");
    assert!(std::fs::read_to_string(fetched.join("main.tf")).unwrap().contains("# Rotation is reviewed yearly."));
    assert_eq!(lz_platform::catalog::module_hash(&fetched).unwrap(), entry.sha256, "the tag holds the catalogued files");

    // `--no-tag` writes the files only, and says so.
    std::fs::write(&main_tf, format!("{}\n# Reviewed again.\n", std::fs::read_to_string(&main_tf).unwrap())).unwrap();
    let (code, out, err) = xtask_git(dir, &["catalog", "bump", "kms-key", "patch", "-m", "Review", "--no-tag"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("tag kms-key-v1.0.2 NOT created (--no-tag)") && out.contains("catalog tags --create"), "{out}");
    assert!(!git(dir, &["tag", "--list"]).contains("kms-key-v1.0.2"));
}

#[test]
fn catalog_add_commits_the_new_module_and_tags_its_first_version() {
    let repo = checkout();
    let dir = repo.path();
    // A new module, untracked: a copy of kms-key under another name.
    let (from, to) = (dir.join("modules/kms-key"), dir.join("modules/kms-key-eu"));
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    copy(&from, &to);
    let (code, out, err) =
        xtask_git(dir, &["catalog", "add", "kms-key-eu", "--owner", "platform-security", "--risk", "high", "--description", "EU keys"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("tagged it kms-key-eu-v1.0.0"), "{out}");
    let files = git(dir, &["show", "--name-only", "--format=%s", "kms-key-eu-v1.0.0^{commit}"]);
    assert!(files.starts_with("kms-key-eu 1.0.0: EU keys") && files.contains("modules/kms-key-eu/main.tf") && files.contains("modules/catalog.toml"), "{files}");
    assert_eq!(git(dir, &["status", "--porcelain"]).trim(), "", "the new module is committed whole");
}

#[test]
fn catalog_tags_lists_the_missing_and_creates_them_where_the_catalog_had_the_version() {
    let repo = checkout();
    let dir = repo.path();
    let (code, out, err) = xtask(dir, &["catalog", "tags"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("missing trading-service-v1.1.0") && out.contains("run `cargo xtask catalog tags --create`"), "{out}");

    let (code, out, err) = xtask_git(dir, &["catalog", "tags", "--create"]);
    // One commit: the catalog's current versions are tagged at it; older CHANGELOG versions,
    // which no commit of this history catalogued, are named with why.
    assert_eq!(code, 1, "{out}{err}");
    let head = git(dir, &["rev-parse", "HEAD"]);
    let catalog = lz_platform::catalog::load(dir).unwrap();
    let tags = git(dir, &["tag", "--list"]);
    for (name, entry) in &catalog.modules {
        let t = format!("{name}-v{}", entry.version);
        assert!(tags.lines().any(|l| l == t), "{t} not in {tags}");
        assert_eq!(git(dir, &["rev-parse", &format!("{t}^{{commit}}")]), head);
    }
    assert!(out.contains("NOT tagged trading-service-v1.0.0: no commit's modules/catalog.toml lists trading-service at 1.0.0"), "{out}");
}

#[test]
fn every_ref_the_docs_show_names_a_tag_or_a_catalog_version() {
    // The repository as it is: every `?ref=` in the READMEs and examples.
    let findings = lz_platform::module_tags::check_refs(&root()).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert!(std::fs::read_to_string(root().join("README.md")).unwrap().contains("?ref=trading-service-v1.0.0"));

    // A ref to a version that was never released is a finding with file and line.
    let dir = tempfile::tempdir().unwrap();
    common::copy_repository(dir.path());
    let readme = dir.path().join("modules/trading-service/README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(&readme, format!("{text}\n```hcl\nsource = \"git::https://example.internal/landing-zone.git//modules/trading-service?ref=trading-service-v9.9.9\"\n```\n")).unwrap();
    let line = text.lines().count() + 3;
    let findings = lz_platform::module_tags::check_refs(dir.path()).unwrap();
    let shown: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains(&format!("modules/trading-service/README.md:{line}")) && shown[0].contains("?ref=trading-service-v9.9.9"), "{shown:?}");
}

/// The gate's `module tags` step: not checked (and said so) in a checkout without tags; once
/// tags exist, a missing one is a finding, and so is a tag moved to other module files.
#[test]
fn the_gate_checks_every_version_has_its_tag_and_the_tag_holds_the_catalogs_files() {
    let repo = checkout();
    let dir = repo.path();
    let judged = || lz_platform::module_tags::check_tags(dir).unwrap();
    let why = judged().expect_err("no tags: not checked");
    assert!(why.contains("no tags"), "{why}");

    // One commit of history: the current versions are tagged, the older ones cannot be
    // (their catalog is in no commit), and stay findings.
    let (code, out, err) = xtask_git(dir, &["catalog", "tags", "--create"]);
    assert_eq!(code, 1, "older versions cannot be placed: {out}{err}");
    assert!(out.contains("tagged kms-key-v1.0.0"), "{out}");
    let kms = |f: &lz_platform::Findings| f.0.iter().filter(|x| x.message.contains("kms-key")).map(|x| x.message.clone()).collect::<Vec<_>>();
    let base = judged().expect("tags exist");
    assert!(!base.0.is_empty() && kms(&base).is_empty(), "{:?}", base.0);

    // A missing tag is a finding naming the fix.
    git(dir, &["tag", "-d", "kms-key-v1.0.0"]);
    let f = kms(&judged().unwrap());
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("kms-key 1.0.0 has no tag kms-key-v1.0.0") && f[0].contains("catalog tags --create"), "{f:?}");

    // A tag made from other files (at a commit where the module differs) is a finding.
    let main_tf = dir.join("modules/kms-key/main.tf");
    std::fs::write(&main_tf, format!("{}\n# not the released module\n", std::fs::read_to_string(&main_tf).unwrap())).unwrap();
    git(dir, &["commit", "-q", "-am", "an unreleased edit"]);
    git(dir, &["tag", "-a", "-m", "forged", "kms-key-v1.0.0"]);
    let f = kms(&judged().unwrap());
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("tag kms-key-v1.0.0 holds modules/kms-key with sha256") && f[0].contains("moved"), "{f:?}");
}
