//! Release artifacts are content-addressed and deterministic.

use std::path::Path;
use std::time::{Duration, SystemTime};

use lz_evidence::release::{self, BuildOptions};

const CATALOG: &str = "[modules.network]\nversion = \"1.2.0\"\nowner = \"platform\"\nrisk = \"high\"\ndescription = \"VPC\"\nsha256 = \"aa\"\n\n[modules.kms-key]\nversion = \"1.0.0\"\nowner = \"security\"\nrisk = \"high\"\nsha256 = \"bb\"\n";

const LOCK: &str = "version = 4\n\n[[package]]\nname = \"regorus\"\nversion = \"0.14.1\"\n";

fn files() -> Vec<(&'static str, String)> {
    let long = format!("modules/network/examples/{}/main.tf", "deeply-nested-example-directory-name/".repeat(3));
    vec![
        ("modules/catalog.toml", CATALOG.into()),
        (
            "modules/network/versions.tf",
            "terraform {\n  required_version = \">= 1.10\"\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 6.0, < 7.0\"\n    }\n  }\n}\n".into(),
        ),
        ("modules/network/main.tf", "resource \"aws_vpc\" \"this\" {}\n".into()),
        ("modules/kms-key/versions.tf", "terraform {\n  required_providers {\n    aws = \">= 6.1\"\n  }\n}\n".into()),
        ("environments/main.tf", "module \"network\" { source = \"../modules/network\" }\n".into()),
        ("environments/prod/terraform.tfvars", "region = \"eu-west-2\"\n".into()),
        ("policies/s3.rego", "package s3\n".into()),
        ("governance/identities.toml", "# none\n".into()),
        // The other control inputs a release must carry (lz_input::CONTROL_INPUTS).
        ("policies/controls.toml", "# none\n".into()),
        ("governance/policy.toml", "# none\n".into()),
        ("governance/exceptions.toml", "# none\n".into()),
        ("governance/change-windows.toml", "# none\n".into()),
        ("governance/risk-tiers.toml", "# none\n".into()),
        ("governance/approval-policy.toml", "# none\n".into()),
        ("governance/stores.toml", "# none\n".into()),
        ("governance/rotation.toml", "# none\n".into()),
        ("governance/drift-classes.toml", "# none\n".into()),
        ("Cargo.lock", LOCK.into()),
        ("README.md", "not part of the release\n".into()),
        ("environments/prod/.terraform/providers/x", "cache\n".into()),
        ("environments/prod/terraform.tfstate", "state\n".into()),
        (Box::leak(long.into_boxed_str()), "# long path\n".into()),
    ]
}

fn write_tree(root: &Path, order: impl Iterator<Item = usize>, mtime_base: u64) {
    let fs = files();
    for i in order {
        let (rel, text) = &fs[i];
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime_base + i as u64 * 7919)).unwrap();
    }
}

fn opts(dir: &Path) -> BuildOptions {
    BuildOptions { releases_dir: dir.to_path_buf(), terraform_version: Some("1.11.4".into()), terraform_bin: "terraform".into(), author: None, ticket: None, reason: None }
}

#[test]
fn same_tree_same_digest_whatever_the_order_and_times() {
    let (a, b, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let n = files().len();
    write_tree(a.path(), 0..n, 1_000_000);
    write_tree(b.path(), (0..n).rev(), 1_700_000_000);
    let ra = release::build(a.path(), &opts(out.path())).unwrap();
    let rb = release::build(b.path(), &opts(out.path())).unwrap();
    assert_eq!(ra.manifest.digest, rb.manifest.digest);
    assert!(!ra.existed && rb.existed);
    let archive = std::fs::read(ra.dir.join("release.tar")).unwrap();
    assert_eq!(lz_evidence::dsse::sha256_hex(&archive), ra.manifest.digest);

    // One changed byte changes the digest.
    std::fs::write(b.path().join("policies/s3.rego"), "package s4\n").unwrap();
    let rc = release::build(b.path(), &opts(out.path())).unwrap();
    assert_ne!(rc.manifest.digest, ra.manifest.digest);
    assert_ne!(rc.manifest.policy_bundle, ra.manifest.policy_bundle);
}

#[test]
fn the_manifest_describes_the_release() {
    let (a, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_tree(a.path(), 0..files().len(), 0);
    let m = release::build(a.path(), &opts(out.path())).unwrap().manifest;
    let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert!(paths.contains(&"governance/identities.toml"));
    assert!(!paths.iter().any(|p| p.contains(".terraform") || p.ends_with(".tfstate") || *p == "README.md"));
    assert_eq!(m.modules["network"]["version"], "1.2.0");
    assert_eq!(m.modules["kms-key"]["sha256"], "bb");
    assert_eq!(m.tools.regorus, "0.14.1");
    assert_eq!(m.tools.terraform, "1.11.4");
    let aws = &m.tools.providers["hashicorp/aws"];
    assert_eq!(aws.constraints, [">= 6.1", ">= 6.0, < 7.0"]);
    assert_eq!(aws.declared_by, ["modules/kms-key", "modules/network"]);
    assert_eq!(m.tools.terraform_required_version["modules/network"], ">= 1.10");
    assert_eq!(m.git.commit, "uncommitted");
    assert!(m.git.dirty);
    let (dir, shown) = release::show(out.path(), &m.digest[..12]).unwrap();
    assert_eq!(shown.digest, m.digest);
    assert!(dir.ends_with(&m.digest));
}

#[test]
fn the_archive_is_a_plain_ustar_file() {
    let (a, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_tree(a.path(), 0..files().len(), 0);
    let built = release::build(a.path(), &opts(out.path())).unwrap();
    let listing = std::process::Command::new("tar").arg("-tvf").arg(built.dir.join("release.tar")).output().unwrap();
    assert!(listing.status.success(), "{}", String::from_utf8_lossy(&listing.stderr));
    let text = String::from_utf8(listing.stdout).unwrap();
    assert_eq!(text.lines().count(), built.manifest.files.len());
    assert!(text.lines().all(|l| l.starts_with("-rw-r--r-- 0/0") && l.contains("1970-01-01")), "{text}");
    assert!(text.contains("deeply-nested-example-directory-name/deeply-nested-example-directory-name/deeply-nested-example-directory-name/main.tf"));
}

#[test]
fn a_tampered_stored_release_is_reported() {
    let (a, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_tree(a.path(), 0..files().len(), 0);
    let built = release::build(a.path(), &opts(out.path())).unwrap();
    let tar = built.dir.join("release.tar");
    let mut bytes = std::fs::read(&tar).unwrap();
    bytes[600] ^= 1;
    std::fs::write(&tar, bytes).unwrap();
    let err = format!("{:#}", release::show(out.path(), &built.manifest.digest).unwrap_err());
    assert!(err.contains("does not match the release digest"), "{err}");
    assert!(release::build(a.path(), &opts(out.path())).is_err(), "rebuild refuses a corrupt stored archive");
}

struct BadTree {
    name: &'static str,
    edit: fn(&Path),
    want: &'static str,
}

const BAD_TREES: &[BadTree] = &[
    BadTree {
        name: "a control input missing",
        edit: |r| std::fs::remove_file(r.join("governance/change-windows.toml")).unwrap(),
        want: "governance/change-windows.toml: the change windows",
    },
    BadTree { name: "no catalog", edit: |r| std::fs::remove_file(r.join("modules/catalog.toml")).unwrap(), want: "modules/catalog.toml: the module catalog" },
    BadTree {
        name: "catalog not TOML",
        edit: |r| std::fs::write(r.join("modules/catalog.toml"), "[modules.x\n").unwrap(),
        want: "catalog.toml:1:",
    },
    BadTree {
        name: "catalog entry without sha256",
        edit: |r| std::fs::write(r.join("modules/catalog.toml"), "[modules.x]\nversion = \"1.0.0\"\n").unwrap(),
        want: "modules.x has no sha256",
    },
    BadTree {
        name: "malformed versions.tf",
        edit: |r| std::fs::write(r.join("modules/network/versions.tf"), "terraform {\n  required_providers {\n").unwrap(),
        want: "modules/network/versions.tf",
    },
    BadTree {
        name: "symlink in the tree",
        edit: |r| std::os::unix::fs::symlink("/etc/passwd", r.join("policies/link.rego")).unwrap(),
        want: "policies/link.rego: symbolic links are not allowed",
    },
];

#[test]
fn bad_trees_are_clear_errors() {
    for b in BAD_TREES {
        let (a, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_tree(a.path(), 0..files().len(), 0);
        (b.edit)(a.path());
        let err = format!("{:#}", release::build(a.path(), &opts(out.path())).err().expect(b.name));
        assert!(err.contains(b.want), "{}: {err}", b.name);
    }
}
