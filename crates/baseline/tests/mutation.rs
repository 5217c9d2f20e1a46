//! A control changed in a module or in one environment's overlay fails both an approved
//! baseline and a property, each naming the environment and the attribute path. Each case
//! mutates a copy of the repository's modules, environments and baselines.
mod common;
use common::copy_dir;

use std::path::PathBuf;

use lz_baseline::props::{self, Property, RunConfig};
use lz_baseline::{stale_baselines, SNAPSHOT_DIR};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}


enum Check {
    /// A property over generated overlays.
    Generated(Property),
    /// The invariants over the repository's own environments.
    Environments,
}

struct Mutation {
    file: &'static str,
    from: &'static str,
    to: &'static str,
    /// The environment whose baseline must go stale.
    env: &'static str,
    /// Address and attribute path the stale baseline must name.
    baseline: &'static str,
    /// Address (or type) and attribute path the property failure must name.
    path: &'static str,
    /// What the property failure must name besides the path.
    names: &'static str,
    check: Check,
}

const MUTATIONS: &[Mutation] = &[
    // One edit of the shared bucket module reaches every bucket: the stale baseline names the
    // first (access_logs), the property the state bucket.
    Mutation {
        file: "modules/s3-bucket/main.tf",
        from: "versioning_configuration {\n    status = \"Enabled\"",
        to: "versioning_configuration {\n    status = \"Suspended\"",
        env: "dev",
        baseline: "module.access_logs.module.bucket.aws_s3_bucket_versioning.this versioning_configuration[0].status",
        path: "module.state_backend.module.bucket.aws_s3_bucket_versioning.this versioning_configuration[0].status",
        names: "(generated overlay)",
        check: Check::Generated(Property::Renders),
    },
    Mutation {
        file: "modules/log-archive/main.tf",
        from: "mode = \"COMPLIANCE\"",
        to: "mode = \"GOVERNANCE\"",
        env: "prod",
        baseline: "module.log_archive.module.bucket.aws_s3_bucket_object_lock_configuration.this[0] rule[0].default_retention[0].mode",
        path: "module.log_archive.module.bucket.aws_s3_bucket_object_lock_configuration.this[0] rule[0].default_retention[0].mode",
        names: "(generated overlay)",
        check: Check::Generated(Property::Renders),
    },
    Mutation {
        file: "environments/prod/terraform.tfvars",
        from: "log_retention_days          = 2192",
        to: "log_retention_days          = 365",
        env: "prod",
        baseline: "module.audit_trail.aws_cloudwatch_log_group.this retention_in_days",
        path: "aws_cloudwatch_log_group retention_in_days",
        names: "in preprod to 365 in prod",
        check: Check::Environments,
    },
];

#[test]
fn a_changed_control_fails_a_baseline_and_a_property() {
    let root = root();
    for m in MUTATIONS {
        let tmp = tempfile::tempdir().unwrap();
        for dir in ["environments", "modules", "schema", "policies", "governance", SNAPSHOT_DIR] {
            copy_dir(&root.join(dir), &tmp.path().join(dir));
        }
        let target = tmp.path().join(m.file);
        let text = std::fs::read_to_string(&target).unwrap();
        assert_eq!(
            text.matches(m.from).count(),
            1,
            "{}: {:?} must occur once",
            m.file,
            m.from
        );
        std::fs::write(&target, text.replace(m.from, m.to)).unwrap();

        let stale = stale_baselines(tmp.path()).expect("stale check");
        let subject = format!("environment {}", m.env);
        let hit = stale.iter().find(|s| s.subject == subject);
        assert!(
            hit.is_some_and(|s| s.to_string().contains(&subject) && s.message.contains(m.baseline)),
            "{}: no stale baseline of {subject} naming {}; got:\n{}",
            m.file,
            m.baseline,
            stale.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        );

        let failure = match m.check {
            Check::Generated(p) => props::run(
                tmp.path(),
                p,
                &RunConfig {
                    cases: 16,
                    regressions: None,
                },
            )
            .expect_err("the property must fail"),
            Check::Environments => props::check_environments(tmp.path()).expect("rendering").join("\n"),
        };
        assert!(
            failure.contains(m.path) && failure.contains(m.names),
            "{}: the property failure does not name {:?} and {:?}:\n{failure}",
            m.file,
            m.path,
            m.names
        );
    }
}
