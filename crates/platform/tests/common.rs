//! A small but complete landing-zone repository in a temp dir, for mutation tests of the gate.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

pub const ENVS: [&str; 5] = ["dev", "test", "uat", "preprod", "prod"];

/// A repository with one module `bucket` and the five overlays; the catalog is recorded so the
/// gate starts clean.
pub fn mini_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write(&root, "modules/bucket/main.tf", "resource \"aws_s3_bucket\" \"this\" {\n  bucket = var.name\n  tags   = var.tags\n}\n");
    write(
        &root,
        "modules/bucket/variables.tf",
        "variable \"name\" {\n  description = \"Bucket name\"\n  type        = string\n}\n\nvariable \"tags\" {\n  description = \"Tags\"\n  type        = map(string)\n}\n",
    );
    write(&root, "modules/bucket/outputs.tf", "output \"arn\" {\n  description = \"Bucket ARN\"\n  value       = aws_s3_bucket.this.arn\n}\n");
    write(
        &root,
        "modules/bucket/versions.tf",
        "terraform {\n  required_version = \">= 1.10\"\n\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 6.0, < 7.0\"\n    }\n  }\n}\n",
    );
    write(&root, "modules/bucket/README.md", "# bucket\n\n<!-- BEGIN_TF_DOCS -->\n<!-- END_TF_DOCS -->\n");
    write(&root, "modules/bucket/CHANGELOG.md", "# Changelog\n\n## [1.0.0] - 2026-11-01\n\n### Added\n\n- First release\n");
    write(&root, "modules/bucket/examples/basic/main.tf", "module \"bucket\" {\n  source = \"../..\"\n  name   = \"example\"\n  tags   = {}\n}\n");
    write(
        &root,
        "environments/main.tf",
        "module \"bucket\" {\n  source = \"../modules/bucket\"\n  name   = \"lz-${var.environment}\"\n  tags   = { Environment = var.environment }\n}\n\noutput \"arn\" {\n  description = \"ARN\"\n  value       = module.bucket.arn\n}\n",
    );
    write(
        &root,
        "environments/variables.tf",
        "variable \"environment\" {\n  description = \"Environment\"\n  type        = string\n}\n\nvariable \"retention_days\" {\n  description = \"Retention\"\n  type        = number\n  default     = 365\n}\n\nvariable \"enable_encryption\" {\n  description = \"A control that must never vary\"\n  type        = bool\n  default     = true\n}\n",
    );
    write(
        &root,
        "environments/overlay-allowlist.toml",
        "[variables.environment]\nclass = \"account\"\nreason = \"the environment's name\"\n\n[variables.retention_days]\nclass = \"retention\"\nreason = \"retention grows towards prod\"\n",
    );
    for (i, env) in ENVS.iter().enumerate() {
        write(&root, &format!("environments/{env}/terraform.tfvars"), &format!("environment    = \"{env}\"\nretention_days = {}\n", 365 * (i + 1)));
        write(
            &root,
            &format!("environments/{env}/backend.hcl"),
            &format!("bucket       = \"lz-{env}-tfstate\"\nkey          = \"{env}/landing-zone.tfstate\"\nregion       = \"eu-west-2\"\nuse_lockfile = true\nencrypt      = true\n"),
        );
        write(
            &root,
            &format!("environments/{env}/env.toml"),
            &format!("name = \"{env}\"\naccount_id = \"{}\"\nregion = \"eu-west-2\"\napprover_groups = [\"platform\"]\n", format!("{}", i + 1).repeat(12)),
        );
    }
    lz_platform::docs::generate(&root).unwrap();
    lz_platform::catalog::add(&root, "bucket", "platform", lz_platform::catalog::Risk::High, "A bucket").unwrap();
    (dir, root)
}
