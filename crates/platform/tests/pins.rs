//! Module pins (issue 32): a pin must name a version the module was released at. A release
//! author who pins a service to a version no catalog or CHANGELOG knows (to slip it in as a
//! first "adoption" outside any rollout) gets a gate finding naming pins.toml and the line.

mod common;

use common::mini_repo;
use lz_platform::pins;

#[test]
fn a_pin_of_a_version_nobody_released_is_a_finding_with_its_line() {
    let (_d, root) = mini_repo();
    let path = root.join("environments/prod").join(lz_repo::rollout::PINS_FILE);
    // The CHANGELOG's 1.0.0 is known.
    std::fs::write(&path, "[pins.bucket]\nledger = \"1.0.0\"\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.is_empty(), "{f:?}");
    // 9.9.9: semver, not revoked, but released nowhere.
    std::fs::write(&path, "# staged\n[pins.bucket]\nledger = \"9.9.9\"\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    let text = f.0[0].to_string();
    assert!(text.starts_with("environments/prod/pins.toml:3: "), "{text}");
    assert!(text.contains("ledger in prod pins bucket@9.9.9, a version neither the catalog nor modules/bucket/CHANGELOG.md knows"), "{text}");
}

/// A release's own file of the name the terraform engine writes its version calls to is a gate
/// finding (the engine refuses it at promotion).
#[test]
fn a_file_of_the_generated_version_calls_name_is_a_finding() {
    let (_d, root) = mini_repo();
    assert!(pins::check(&root).unwrap().0.is_empty());
    std::fs::write(root.join("environments").join(lz_platform::mixed_root::FILE), "# the author's\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    let text = f.0[0].to_string();
    assert!(text.starts_with("environments/lz_module_versions.tf") && text.contains("rename it"), "{text}");
}

fn git(root: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Mixed versions (issue 32, item 2): a service pinned to an older version renders from its
/// released copy, which `catalog vendor` makes from the version's tag. The gate finds a pin to
/// an older version without a copy (naming the line), a copy edited after it was recorded, a
/// copy re-recorded after an edit (it no longer matches its tag), and a copy nobody recorded.
#[test]
fn an_older_version_renders_from_a_released_copy_the_gate_holds_to_its_tag() {
    let (_d, root) = mini_repo();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "bucket 1.0.0"]);
    git(&root, &["tag", "-a", "bucket-v1.0.0", "-m", "bucket 1.0.0"]);
    // 1.1.0 changes the module; prod's ledger stays on 1.0.0.
    let main = root.join("modules/bucket/main.tf");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("tags   = var.tags", "tags   = merge(var.tags, { Version = \"1.1.0\" })")).unwrap();
    lz_platform::catalog::bump(&root, "bucket", lz_platform::catalog::Level::Minor, "tag the version", "2026-12-07").unwrap();
    let pins_file = root.join("environments/prod").join(lz_repo::rollout::PINS_FILE);
    std::fs::write(&pins_file, "# held\n[pins.bucket]\nledger = \"1.0.0\"\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    let text = f.0[0].to_string();
    assert!(text.starts_with("environments/prod/pins.toml:3: ") && text.contains("no released copy") && text.contains("catalog vendor bucket@1.0.0"), "{text}");
    let e = format!("{:#}", lz_repo::released::pinned(&root, "prod").unwrap_err());
    assert!(e.contains("does not record"), "{e}");

    // The current version needs no copy; an older one is copied from its tag.
    let e = lz_platform::released::vendor(&root, "bucket", "1.1.0").unwrap_err().to_string();
    assert!(e.contains("current version"), "{e}");
    let (dir, sha) = lz_platform::released::vendor(&root, "bucket", "1.0.0").unwrap();
    assert_eq!(dir, root.join("released/bucket/1.0.0"));
    let old = std::fs::read_to_string(dir.join("main.tf")).unwrap();
    assert!(old.contains("tags   = var.tags") && !old.contains("Version"), "{old}");
    assert_eq!(lz_platform::catalog::load(&root).unwrap().modules["bucket"].released["1.0.0"], sha);
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.is_empty(), "{f:?}");
    let p = lz_repo::released::pinned(&root, "prod").unwrap();
    assert_eq!((p.len(), p[0].source().as_str(), p[0].call_source().as_str()), (1, "../released/bucket/1.0.0", "../modules/bucket"));

    // An edit to the copy is a finding; re-recording its hash does not hide it from the tag.
    std::fs::write(dir.join("main.tf"), old.replace("var.name", "\"fixed-name\"")).unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.0.iter().any(|x| x.to_string().contains("the copy was edited")), "{f:?}");
    let mut c = lz_platform::catalog::load(&root).unwrap();
    c.modules.get_mut("bucket").unwrap().released.insert("1.0.0".into(), lz_platform::catalog::module_hash(&dir).unwrap());
    lz_platform::catalog::save(&root, &c).unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f.0[0].to_string().contains("its tag bucket-v1.0.0 holds") && f.0[0].to_string().contains("not the tagged code"), "{f:?}");

    // A copy the catalog does not record.
    lz_platform::released::vendor(&root, "bucket", "1.0.0").unwrap();
    std::fs::create_dir_all(root.join("released/bucket/0.9.0")).unwrap();
    std::fs::write(root.join("released/bucket/0.9.0/main.tf"), "# stray\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    let text = f.0[0].to_string();
    assert!(text.starts_with("released/bucket/0.9.0") && text.contains("a released copy the catalog does not record"), "{text}");

    // A checkout with tags but not the copy's: a finding, not a silent pass.
    std::fs::remove_dir_all(root.join("released/bucket/0.9.0")).unwrap();
    assert!(pins::check(&root).unwrap().0.is_empty());
    git(&root, &["tag", "unrelated"]);
    git(&root, &["tag", "-d", "bucket-v1.0.0"]);
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f.0[0].to_string().contains("there is no tag bucket-v1.0.0 to check it against"), "{f:?}");
    // A tag of that name on a commit without the module: a finding naming the path.
    git(&root, &["hash-object", "-w", "-t", "tree", "/dev/null"]);
    git(&root, &["tag", "-f", "bucket-v1.0.0", "4b825dc642cb6eb9a060e54bf8d69288fbee4904"]);
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.0.iter().any(|x| x.to_string().contains("the tag bucket-v1.0.0 of the released copy bucket@1.0.0 holds no modules/bucket")), "{f:?}");
}
