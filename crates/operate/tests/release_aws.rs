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
