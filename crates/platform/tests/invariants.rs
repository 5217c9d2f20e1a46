//! The Architecture Invariants of `modules/` and `environments/` that a test can check by
//! parsing the Terraform (ARCHITECTURE.md, "modules/" and "environments/"). Each guard names the
//! `file:line` that breaks it, and each has a test feeding it a bad snippet, so a guard that can
//! no longer fail is caught too.
use std::path::{Path, PathBuf};

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};
use lz_platform::hcl::{self, HclFile};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// Every module's own `.tf` files (not its examples).
fn module_files(root: &Path) -> Vec<HclFile> {
    let mut out = Vec::new();
    for (_, dir) in lz_platform::catalog::module_dirs(root).unwrap() {
        out.extend(hcl::parse_module_dir(&dir).unwrap());
    }
    assert!(out.len() >= 20, "found only {} module files", out.len());
    out
}

fn parse(name: &str, text: &str) -> HclFile {
    hcl::parse_text(Path::new(name), text.to_string()).unwrap()
}

fn report(what: &str, offenders: Vec<String>) {
    assert!(offenders.is_empty(), "{what}:\n{}", offenders.join("\n"));
}

// ---- guards ----

/// "Modules use no data sources": every `data` block of a module file.
fn data_sources(root: &Path, files: &[HclFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        for b in hcl::blocks(&f.body, "data") {
            out.push(format!("{}:{}: data {}: a module reads nothing at plan time (pass the value in)", rel(root, &f.path), f.line_of_span(b), hcl::labels(b).join(".")));
        }
    }
    out
}

/// The attributes that hold an IAM or resource policy document.
const POLICY_ATTRIBUTES: [&str; 3] = ["policy", "assume_role_policy", "key_policy"];

/// "Modules build policy documents with `jsonencode`": a policy attribute written as a string
/// or heredoc (anywhere in a module, nested blocks included).
fn literal_policies(root: &Path, files: &[HclFile]) -> Vec<String> {
    fn walk(f: &HclFile, body: &Body, root: &Path, out: &mut Vec<String>) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) if POLICY_ATTRIBUTES.contains(&a.key.as_str()) => {
                    if matches!(a.value, Expression::String(_) | Expression::StringTemplate(_) | Expression::HeredocTemplate(_)) {
                        out.push(format!("{}:{}: {} is a literal document: build it with jsonencode", rel(root, &f.path), f.line_of_span(a), a.key.as_str()));
                    }
                }
                Structure::Block(b) => walk(f, &b.body, root, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for f in files {
        walk(f, &f.body, root, &mut out);
    }
    out
}

/// "Every resource carries the mandatory tags explicitly, never through provider
/// `default_tags`": a `default_tags` block in any provider block.
fn default_tags(root: &Path, files: &[HclFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        for p in hcl::blocks(&f.body, "provider") {
            for d in hcl::blocks(&p.body, "default_tags") {
                out.push(format!("{}:{}: provider default_tags: tag each resource explicitly (default_tags do not count)", rel(root, &f.path), f.line_of_span(d)));
            }
        }
    }
    out
}

/// "environments/ contain only overlays; all resources live in modules/": a `resource` or
/// `data` block in the root module of `environments/`.
fn root_module_resources(root: &Path, files: &[HclFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        for kind in ["resource", "data"] {
            for b in hcl::blocks(&f.body, kind) {
                out.push(format!("{}:{}: {kind} {} in the root module: resources live in modules/", rel(root, &f.path), f.line_of_span(b), hcl::labels(b).join(".")));
            }
        }
    }
    out
}

/// The files an environment's folder holds: its overlay, its partial backend, its settings and
/// its services' module pins (`lz_repo::rollout::PINS_FILE`).
const OVERLAY_FILES: [&str; 4] = ["terraform.tfvars", "backend.hcl", "env.toml", "pins.toml"];

/// "environments/ contain only overlays": any other file or folder in an environment's folder.
fn foreign_overlay_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for env in lz_repo::ENVIRONMENTS {
        let dir = root.join("environments").join(env);
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            // Terraform's own working files (git-ignored) are no part of the overlay.
            if name.starts_with(".terraform") {
                continue;
            }
            if !OVERLAY_FILES.contains(&name.as_str()) {
                out.push(format!("{}: not an overlay file ({}): resources and code live in modules/", rel(root, &e.path()), OVERLAY_FILES.join(", ")));
            }
        }
    }
    out
}

/// "Every environment is its own account": two `env.toml` files naming one `account_id`.
fn shared_accounts(root: &Path) -> Vec<String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for env in lz_repo::ENVIRONMENTS {
        let account = lz_repo::env::env_file(root, env).unwrap().account_id;
        let at = format!("environments/{env}/env.toml");
        if let Some((other, _)) = seen.iter().find(|(_, a)| *a == account) {
            out.push(format!("{at}: account_id {account} is {other}'s too: every environment is its own account"));
        }
        seen.push((at, account));
    }
    out
}

/// "The LocalStack override is generated into a working copy and never committed; `.tools/` is
/// git-ignored": an override file anywhere in the tree outside `.tools/` and `target/`, or a
/// `.gitignore` that does not ignore `/.tools`.
fn committed_overrides(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                if ![".tools", "target", ".git", ".terraform"].contains(&name.as_str()) {
                    walk(&p, root, out);
                }
            } else if name == lz_platform::localstack_override::FILE_NAME || name.ends_with("_override.tf") || name == "override.tf" {
                out.push(format!("{}: a Terraform override in the tree: the LocalStack override is generated into a working copy", rel(root, &p)));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    let ignore = std::fs::read_to_string(root.join(".gitignore")).unwrap_or_default();
    if !ignore.lines().any(|l| matches!(l.trim(), "/.tools" | "/.tools/" | ".tools" | ".tools/")) {
        out.push(".gitignore: does not ignore /.tools".to_string());
    }
    out
}

/// The home of every S3 bucket and its hardening.
const BUCKET_MODULE: &str = "modules/s3-bucket/";

/// S3 bucket resources a module other than the bucket module may declare, with why.
const BUCKET_RESOURCES_ELSEWHERE: [(&str, &str); 1] =
    [("aws_s3_bucket_replication_configuration", "the log archive replicates between two instances of the bucket module; it switches no control off")];

/// "Every S3 bucket of the landing zone is an instance of `modules/s3-bucket`; its hardening is
/// written there once": an `aws_s3_bucket*` resource declared in any other module or in the root.
fn buckets_outside_the_bucket_module(root: &Path, files: &[HclFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let at = rel(root, &f.path);
        if at.starts_with(BUCKET_MODULE) {
            continue;
        }
        for b in hcl::blocks(&f.body, "resource") {
            let labels = hcl::labels(b);
            let Some(kind) = labels.first() else { continue };
            if kind.starts_with("aws_s3_bucket") && !BUCKET_RESOURCES_ELSEWHERE.iter().any(|(k, _)| k == kind) {
                out.push(format!("{at}:{}: resource {}: S3 buckets and their hardening live in modules/s3-bucket (call it)", f.line_of_span(b), labels.join(".")));
            }
        }
    }
    out
}

// ---- the guards on the repository ----

#[test]
fn modules_use_no_data_sources_and_build_policies_with_jsonencode() {
    let root = root();
    let files = module_files(&root);
    report("modules use no data sources (ARCHITECTURE.md, modules/)", data_sources(&root, &files));
    report("modules build policy documents with jsonencode (ARCHITECTURE.md, modules/)", literal_policies(&root, &files));
}

#[test]
fn no_provider_sets_default_tags() {
    let root = root();
    let mut files = module_files(&root);
    files.extend(hcl::parse_module_dir(&root.join("environments")).unwrap());
    report("every resource carries the mandatory tags explicitly (ARCHITECTURE.md, modules/)", default_tags(&root, &files));
}

#[test]
fn environments_hold_only_overlays() {
    let root = root();
    let files = hcl::parse_module_dir(&root.join("environments")).unwrap();
    assert!(files.iter().any(|f| hcl::blocks(&f.body, "module").next().is_some()), "the root module calls no module");
    report("environments/ contain only overlays (ARCHITECTURE.md, environments/)", root_module_resources(&root, &files));
    report("environments/ contain only overlays (ARCHITECTURE.md, environments/)", foreign_overlay_files(&root));
}

#[test]
fn every_environment_is_its_own_account() {
    report("every environment is its own account (ARCHITECTURE.md, environments/)", shared_accounts(&root()));
}

#[test]
fn no_localstack_override_is_committed() {
    report("the LocalStack override is never committed (ARCHITECTURE.md, crates/platform)", committed_overrides(&root()));
}

#[test]
fn every_bucket_is_an_instance_of_the_bucket_module() {
    let root = root();
    let mut files = module_files(&root);
    assert!(files.iter().any(|f| rel(&root, &f.path).starts_with(BUCKET_MODULE)), "modules/s3-bucket moved: update BUCKET_MODULE");
    files.extend(hcl::parse_module_dir(&root.join("environments")).unwrap());
    report("every S3 bucket is an instance of modules/s3-bucket (ARCHITECTURE.md, modules/)", buckets_outside_the_bucket_module(&root, &files));
}

// ---- each guard can fail ----

#[test]
fn a_data_source_and_a_literal_policy_are_named() {
    let root = Path::new("/r");
    let f = parse(
        "/r/modules/m/main.tf",
        "data \"aws_caller_identity\" \"me\" {}\n\nresource \"aws_iam_role\" \"r\" {\n  assume_role_policy = <<EOF\n{\"Version\": \"2012-10-17\"}\nEOF\n  inline_policy {\n    policy = \"{}\"\n  }\n}\n\nresource \"aws_s3_bucket_policy\" \"p\" {\n  policy = jsonencode({ Version = \"2012-10-17\" })\n}\n\nresource \"aws_kms_key\" \"k\" {\n  policy = local.key_policy\n}\n",
    );
    let files = [f];
    assert_eq!(data_sources(root, &files), ["modules/m/main.tf:1: data aws_caller_identity.me: a module reads nothing at plan time (pass the value in)"]);
    let found = literal_policies(root, &files);
    let lines: Vec<&str> = found.iter().map(|l| l.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["modules/m/main.tf:4", "modules/m/main.tf:8"], "{found:?}");
}

#[test]
fn default_tags_and_root_module_resources_are_named() {
    let root = Path::new("/r");
    let f = parse(
        "/r/environments/providers.tf",
        "provider \"aws\" {\n  region = var.region\n\n  default_tags {\n    tags = { Owner = \"x\" }\n  }\n}\n\nresource \"aws_s3_bucket\" \"stray\" {\n  bucket = \"x\"\n}\n\nmodule \"m\" {\n  source = \"../modules/m\"\n}\n",
    );
    let files = [f];
    let bucket = parse("/r/modules/log-archive/main.tf", "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = \"b\"\n}\n\nresource \"aws_s3_bucket_replication_configuration\" \"r\" {\n  bucket = \"b\"\n}\n");
    let inside = parse("/r/modules/s3-bucket/main.tf", "resource \"aws_s3_bucket\" \"this\" {\n  bucket = var.name\n}\n");
    let found = buckets_outside_the_bucket_module(root, &[bucket, inside]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("modules/log-archive/main.tf:1: resource aws_s3_bucket_versioning.v"), "{found:?}");
    assert_eq!(default_tags(root, &files).len(), 1);
    assert!(default_tags(root, &files)[0].starts_with("environments/providers.tf:4: "), "{:?}", default_tags(root, &files));
    let found = root_module_resources(root, &files);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("environments/providers.tf:9: resource aws_s3_bucket.stray"), "{found:?}");
}

#[test]
fn a_stray_overlay_file_a_shared_account_and_a_committed_override_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (n, env) in lz_repo::ENVIRONMENTS.iter().enumerate() {
        let d = root.join("environments").join(env);
        std::fs::create_dir_all(&d).unwrap();
        let src = self::root().join("environments").join(env);
        for f in OVERLAY_FILES.iter().filter(|f| src.join(f).exists()) {
            std::fs::copy(src.join(f), d.join(f)).unwrap();
        }
        if n == 1 {
            // test takes dev's account
            let dev = std::fs::read_to_string(self::root().join("environments/dev/env.toml")).unwrap();
            std::fs::write(d.join("env.toml"), dev.replace("name = \"dev\"", "name = \"test\"")).unwrap();
        }
    }
    std::fs::write(root.join("environments/prod/extra.tf"), "").unwrap();
    std::fs::write(root.join("environments/localstack_override.tf"), "").unwrap();
    std::fs::write(root.join(".gitignore"), "/target\n").unwrap();
    assert_eq!(foreign_overlay_files(root), ["environments/prod/extra.tf: not an overlay file (terraform.tfvars, backend.hcl, env.toml, pins.toml): resources and code live in modules/"]);
    let shared = shared_accounts(root);
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert!(shared[0].starts_with("environments/test/env.toml: account_id"), "{shared:?}");
    let o = committed_overrides(root);
    assert_eq!(o.len(), 2, "{o:?}");
    assert!(o[0].starts_with("environments/localstack_override.tf: ") && o[1] == ".gitignore: does not ignore /.tools", "{o:?}");
}

#[test]
fn architecture_md_names_these_guards() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let missing: Vec<&str> = [
        "modules_use_no_data_sources_and_build_policies_with_jsonencode",
        "no_provider_sets_default_tags",
        "environments_hold_only_overlays",
        "every_environment_is_its_own_account",
        "no_localstack_override_is_committed",
        "every_bucket_is_an_instance_of_the_bucket_module",
    ]
    .into_iter()
    .filter(|g| !text.contains(g))
    .collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name the guards {missing:?} next to their invariants");
}
