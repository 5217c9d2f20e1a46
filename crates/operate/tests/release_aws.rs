//! The AWS settings a promotion acts under come from the release it promotes, never from the
//! checkout the command runs in (issue 26 review).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A landing zone tree with the repository's `dev` environment and `aws_toml` as its
/// `governance/aws.toml`.
fn tree(aws_toml: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let dev = t.path().join("environments/dev");
    std::fs::create_dir_all(&dev).unwrap();
    for f in ["env.toml", "backend.hcl"] {
        std::fs::copy(root().join("environments/dev").join(f), dev.join(f)).unwrap();
    }
    std::fs::create_dir_all(t.path().join("governance")).unwrap();
    std::fs::write(t.path().join("governance/aws.toml"), aws_toml).unwrap();
    t
}

/// Insider: the person running the command edits the checkout's `governance/aws.toml` (which
/// `cargo xtask` installs for the process) to name a role of their choosing. The release's
/// target (promotion, facts checks, drift, evidence verification) still assumes the role the
/// release's own `governance/aws.toml` names; a release without the file, the default.
#[test]
fn the_environment_role_is_the_releases_not_the_checkouts() {
    let checkout = tree("environment_role = \"mine-{env}-admin\"\n[profile.aws]\n");
    lz_platform::reach::configure(checkout.path()).unwrap();
    assert_eq!(lz_platform::reach::deployer_role("dev"), "mine-dev-admin", "the checkout's setting is installed for the process");

    let release = tree("environment_role = \"lz-{env}-release-deployer\"\n[profile.aws]\n");
    let t = lz_operate::promote::Target::from_tree(release.path(), "dev", "aws").unwrap();
    assert_eq!(t.deployer_role, "lz-dev-release-deployer");

    std::fs::remove_file(release.path().join("governance/aws.toml")).unwrap();
    let t = lz_operate::promote::Target::from_tree(release.path(), "dev", "aws").unwrap();
    assert_eq!(t.deployer_role, "lz-dev-deployer", "a release without governance/aws.toml assumes the default role");

    std::fs::write(release.path().join("governance/aws.toml"), "environment_role = [\n").unwrap();
    let e = lz_operate::promote::Target::from_tree(release.path(), "dev", "aws").unwrap_err();
    assert!(format!("{e:#}").contains("aws.toml"), "a malformed release copy is an error naming it: {e:#}");
}

/// Insider: a release ships `backend_override.tf` (or its own `localstack_override.tf`) next to
/// the reviewed stack. On real AWS the harness writes no override of its own, so nothing would
/// overwrite it and Terraform would merge it over the backend and provider: the working copy is
/// refused before `terraform init`; the harness's own file name is removed, never applied.
#[test]
fn a_release_shipping_a_terraform_override_is_refused_before_init() {
    let stack = tempfile::tempdir().unwrap();
    std::fs::write(stack.path().join("main.tf"), "terraform {\n  backend \"s3\" {}\n}\n").unwrap();
    std::fs::write(stack.path().join("backend_override.tf"), "terraform {\n  backend \"s3\" {\n    endpoint = \"https://evil.example\"\n  }\n}\n")
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let backend = lz_operate::deploy::Backend { bucket: "b".into(), key: "k".into(), region: "eu-west-2".into() };
    let run_as = lz_operate::deploy::RunAs { access_key_id: "AKIA".into(), secret_access_key: "s".into(), session_token: None };
    let e = match lz_operate::deploy::Workspace::init(&root(), stack.path(), work.path(), "aws", &backend, run_as) {
        Ok(_) => panic!("a stack with an override file was initialised"),
        Err(e) => e,
    };
    let msg = format!("{e:#}");
    assert!(msg.contains("backend_override.tf") && msg.contains("override"), "{msg}");
    assert!(!work.path().join(".terraform").exists(), "refused before terraform init");

    // The harness's own file name, shipped by the release, is removed (written again only for an
    // endpoint profile); any other override under the working copy, modules included, is named.
    let w = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(w.path().join("root")).unwrap();
    std::fs::create_dir_all(w.path().join("modules/vpc")).unwrap();
    std::fs::write(w.path().join("root").join(lz_platform::localstack_override::FILE_NAME), "provider \"aws\" {}\n").unwrap();
    std::fs::write(w.path().join("modules/vpc/override.tf.json"), "{}").unwrap();
    let stray = lz_platform::tf_overrides::stray(w.path(), &w.path().join("root")).unwrap();
    assert!(!w.path().join("root").join(lz_platform::localstack_override::FILE_NAME).exists());
    assert_eq!(stray, vec![w.path().join("modules/vpc/override.tf.json")]);
}

/// The gate refuses an override file in the landing zone's Terraform, and finds none in this
/// repository.
#[test]
fn the_gate_refuses_terraform_overrides_in_stacks_and_modules() {
    assert!(lz_platform::tf_overrides::check(&root()).unwrap().0.is_empty(), "the repository ships no override file");
    let t = tempfile::tempdir().unwrap();
    for (dir, name) in [("stacks/canary", "provider_override.tf"), ("modules/vpc", "override.tf"), ("environments/dev", "x_override.tf.json")] {
        std::fs::create_dir_all(t.path().join(dir)).unwrap();
        std::fs::write(t.path().join(dir).join(name), "").unwrap();
    }
    let found: Vec<String> = lz_platform::tf_overrides::check(t.path()).unwrap().0.iter().map(|f| f.to_string()).collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().any(|f| f.contains("modules/vpc/override.tf")), "{found:?}");
}
