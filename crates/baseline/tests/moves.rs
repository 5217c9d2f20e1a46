//! State moves: the buckets of access-logs, log-archive and state-backend moved into the shared
//! s3-bucket module (module.X.module.bucket / module.replica). Terraform plans a destroy for
//! every address in state that the configuration no longer has, unless a `moved` block carries
//! it to one it has; a log archive bucket with Object Lock COMPLIANCE can never be recreated.
//! These tests take every address of those modules in the approved baselines before the move
//! (tests/data/addresses-before-s3-bucket.txt), follow the `moved` blocks of the module each
//! sits in as Terraform does, and require an address of the same resource type in today's
//! rendered plan. The last test lets real Terraform (from PATH, no provider needed) plan the
//! moved modules, reduced to `terraform_data`, against state from before the move.
mod common;
use common::copy_dir;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lz_baseline::{baseline_text, subjects, Subject, SNAPSHOT_DIR};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn before() -> Vec<(String, String)> {
    let path = root().join("crates/baseline/tests/data/addresses-before-s3-bucket.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (snap, addr) = l.split_once(' ').unwrap_or_else(|| panic!("{}: malformed line {l:?}", path.display()));
            (snap.to_string(), addr.to_string())
        })
        .collect()
}

fn tf_texts(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tf") {
            out.push(std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

/// Module calls (name -> directory) of the root module in `dir`.
fn calls(dir: &Path) -> BTreeMap<String, PathBuf> {
    let re = regex::Regex::new(r#"(?s)module\s+"([A-Za-z0-9_-]+)"\s*\{\s*source\s*=\s*"([^"]+)""#).unwrap();
    let mut out = BTreeMap::new();
    for text in tf_texts(dir) {
        for c in re.captures_iter(&text) {
            out.insert(c[1].to_string(), dir.join(&c[2]));
        }
    }
    out
}

/// `moved` blocks (from -> to) of the module in `dir`.
fn moves(dir: &Path) -> BTreeMap<String, String> {
    let re = regex::Regex::new(r#"moved\s*\{\s*from\s*=\s*(\S+)\s*to\s*=\s*(\S+)\s*\}"#).unwrap();
    let mut out = BTreeMap::new();
    for text in tf_texts(dir) {
        for c in re.captures_iter(&text) {
            assert!(out.insert(c[1].to_string(), c[2].to_string()).is_none(), "{}: two moved blocks from {}", dir.display(), &c[1]);
        }
    }
    out
}

/// Where Terraform finds `address` (in the state of a configuration rooted at `root_dir`) after
/// the `moved` blocks of the module it sits in: `module.NAME.REST` follows NAME's moves,
/// chained.
fn follow(root_dir: &Path, address: &str) -> String {
    let Some(rest) = address.strip_prefix("module.") else { return address.to_string() };
    let end = rest.find(['.', '[']).expect("module address");
    let (name, tail) = rest.split_at(end);
    let (key, local) = match tail.strip_prefix('.') {
        Some(local) => ("", local),
        None => {
            let close = tail.find("].").expect("module key");
            (&tail[..=close], &tail[close + 2..])
        }
    };
    let dir = calls(root_dir).remove(name).unwrap_or_else(|| panic!("{}: no module call {name}", root_dir.display()));
    let moved = moves(&dir);
    let mut to = local.to_string();
    let mut seen = BTreeSet::new();
    while let Some(next) = moved.get(&to) {
        assert!(seen.insert(to.clone()), "{}: moved blocks loop at {to}", dir.display());
        to = next.clone();
    }
    format!("module.{name}{key}.{to}")
}

fn resource_type(address: &str) -> &str {
    let mut rest = address;
    while let Some(r) = rest.strip_prefix("module.") {
        let end = r.find(['.', '[']).expect("module address");
        rest = match r[end..].strip_prefix('.') {
            Some(after) => after,
            None => &r[end..][r[end..].find("].").expect("module key") + 2..],
        };
    }
    rest.split('.').next().unwrap()
}

/// For each address before the move that today's plan of `root` would destroy: (snapshot,
/// old address, where the moves lead).
fn destroyed(root: &Path) -> Vec<String> {
    let mut now: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut subject_dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for s in subjects(root).unwrap() {
        let text = baseline_text(root, &s).unwrap_or_else(|e| panic!("{s}: {e:#}"));
        let addrs = text
            .lines()
            .filter(|l| !l.starts_with([' ', '#']))
            .filter_map(|l| l.rsplit_once(": ").map(|(a, _)| a.to_string()))
            .collect();
        let dir = match &s {
            Subject::Environment(_) => root.join("environments"),
            Subject::ModuleExample(m) => root.join("modules").join(m).join("examples/basic"),
        };
        subject_dirs.insert(s.snapshot_name(), dir);
        now.insert(s.snapshot_name(), addrs);
    }
    let mut out = Vec::new();
    for (snap, old) in before() {
        let dir = subject_dirs.get(&snap).unwrap_or_else(|| panic!("no subject {snap} under {SNAPSHOT_DIR}"));
        let new = follow(dir, &old);
        let exists = now[&snap].contains(&new);
        if !exists || resource_type(&new) != resource_type(&old) {
            out.push(format!("{snap}: {old} -> {new}"));
        }
    }
    out
}

#[test]
fn resource_type_of_nested_addresses() {
    assert_eq!(resource_type("module.a.module.bucket.aws_s3_bucket.this[0]"), "aws_s3_bucket");
    assert_eq!(resource_type("module.a[\"x.y\"].aws_kms_key.replica"), "aws_kms_key");
    assert_eq!(resource_type("aws_s3_bucket_logging.this"), "aws_s3_bucket_logging");
}

#[test]
fn every_bucket_resource_from_before_the_move_is_kept() {
    let before = before();
    assert!(before.len() > 200, "the address list lost its content: {} lines", before.len());
    let lost = destroyed(&root());
    assert!(lost.is_empty(), "addresses an existing environment would destroy (no moved block carries them):\n  {}", lost.join("\n  "));
}


/// The check has teeth: without the moved block of the log archive's locked bucket, every
/// subject that has it reports the address that would be destroyed.
#[test]
fn a_dropped_moved_block_is_a_destroyed_bucket() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["environments", "modules", "schema", SNAPSHOT_DIR, "crates/baseline/tests/data"] {
        copy_dir(&root().join(dir), &tmp.path().join(dir));
    }
    let main = tmp.path().join("modules/log-archive/main.tf");
    let text = std::fs::read_to_string(&main).unwrap();
    let block = "moved {\n  from = aws_s3_bucket.this\n  to   = module.bucket.aws_s3_bucket.this\n}\n";
    assert_eq!(text.matches(block).count(), 1, "the archive bucket's moved block is not where this test expects it");
    std::fs::write(&main, text.replace(block, "")).unwrap();
    let lost = destroyed(tmp.path());
    let expected: Vec<String> = ["env-dev", "env-test", "env-uat", "env-preprod", "env-prod", "module-log-archive"]
        .iter()
        .map(|s| format!("{s}: module.log_archive.aws_s3_bucket.this -> module.log_archive.aws_s3_bucket.this"))
        .collect();
    let mut lost_sorted = lost.clone();
    lost_sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(lost_sorted, expected_sorted);
}

// ---- real Terraform ----------------------------------------------------------------------
// The moved blocks as Terraform itself applies them, without the AWS provider: every `aws_*`
// resource of the wrapper modules and of s3-bucket becomes a `terraform_data` named after its
// type (counts kept), references and moved blocks rewritten alike. State holding the addresses
// of the module example before the move is planned against the moved modules: every resource
// must be a no-op that names its previous address; nothing is created or destroyed.

/// `aws_x.name` -> `terraform_data.aws_x__name`, and `aws_x.name.attr` -> its `output` (null,
/// which every optional input accepts).
fn rename_refs(text: &str) -> String {
    let re = regex::Regex::new(r"\b(aws_[a-z0-9_]+)\.([a-z_][a-z0-9_]*)(\.[a-z_]+)?").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        let attr = if c.get(3).is_some() { ".output" } else { "" };
        format!("terraform_data.{}__{}{attr}", &c[1], &c[2])
    })
    .into_owned()
}

/// Each top-level `resource "aws_x" "name" { ... }` -> `terraform_data` with only its count;
/// `provider` blocks dropped.
fn data_only(text: &str) -> String {
    let head = regex::Regex::new(r#"(?m)^(resource "(aws_[a-z0-9_]+)" "([a-z_][a-z0-9_]*)"|provider "aws") \{"#).unwrap();
    let count = regex::Regex::new(r"(?m)^  count\s*=.*$").unwrap();
    let mut out = String::new();
    let mut rest = text;
    while let Some(m) = head.find(rest) {
        out.push_str(&rest[..m.start()]);
        let from_open = &rest[m.end() - 1..];
        let mut depth = 0usize;
        let mut end = 0;
        for (i, ch) in from_open.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        assert!(end > 0, "unbalanced block at {:?}", m.as_str());
        let body = &from_open[..end];
        let caps = head.captures(m.as_str()).unwrap();
        if let (Some(t), Some(n)) = (caps.get(2), caps.get(3)) {
            let c = count.find(body).map(|c| format!("{}\n", c.as_str())).unwrap_or_default();
            out.push_str(&format!("resource \"terraform_data\" \"{}__{}\" {{\n{c}}}", t.as_str(), n.as_str()));
        }
        rest = &from_open[end..];
    }
    out.push_str(rest);
    rename_refs(&out)
}

fn terraform(dir: &Path, args: &[&str], cli_config: &Path) -> std::process::Output {
    let out = std::process::Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .expect("terraform must be on PATH for this test (the harness puts it there)");
    assert!(out.status.success() || args[0] == "plan", "terraform {args:?} in {} failed:\n{}", dir.display(), String::from_utf8_lossy(&out.stderr));
    out
}

fn transform_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            transform_tree(&p, &to.join(&name));
        } else if name == "versions.tf" {
            // Without aws_* resources no provider is needed: nothing to download.
        } else if p.extension().is_some_and(|x| x == "tf") {
            std::fs::write(to.join(&name), data_only(&std::fs::read_to_string(&p).unwrap())).unwrap();
        }
    }
}

#[test]
fn terraform_plans_no_create_or_destroy_for_state_from_before_the_move() {
    let root = root();
    let before = before();
    for (module, call) in [("access-logs", "access_logs"), ("log-archive", "log_archive"), ("state-backend", "state_backend")] {
        let tmp = tempfile::tempdir().unwrap();
        let cli_config = tmp.path().join("empty.tfrc");
        std::fs::write(&cli_config, "").unwrap();
        // Before: the example's addresses, in a module of the same call name.
        let old = tmp.path().join("old");
        std::fs::create_dir_all(old.join("wrapper")).unwrap();
        std::fs::write(old.join("main.tf"), format!("module \"{call}\" {{\n  source = \"./wrapper\"\n}}\n")).unwrap();
        let prefix = format!("module.{call}.");
        let mut old_resources = String::new();
        let mut old_addresses = BTreeSet::new();
        for (_, addr) in before.iter().filter(|(s, _)| *s == format!("module-{module}")) {
            let local = addr.strip_prefix(&prefix).unwrap_or_else(|| panic!("{addr} is not in {prefix}"));
            let (t, n) = local.split_once('.').unwrap();
            old_resources.push_str(&format!("resource \"terraform_data\" \"{t}__{n}\" {{}}\n"));
            old_addresses.insert(format!("{prefix}terraform_data.{t}__{n}"));
        }
        assert!(old_addresses.len() >= 7, "{module}: too few addresses before the move");
        std::fs::write(old.join("wrapper/main.tf"), old_resources).unwrap();
        terraform(&old, &["init", "-input=false", "-no-color"], &cli_config);
        terraform(&old, &["apply", "-auto-approve", "-input=false", "-no-color"], &cli_config);

        // After: the modules as they are, reduced to terraform_data, planned on that state.
        let new = tmp.path().join("new");
        for m in [module, "s3-bucket"] {
            transform_tree(&root.join("modules").join(m), &new.join("modules").join(m));
        }
        let example = new.join("modules").join(module).join("examples/basic");
        std::fs::copy(old.join("terraform.tfstate"), example.join("terraform.tfstate")).unwrap();
        terraform(&example, &["init", "-input=false", "-no-color"], &cli_config);
        let plan = terraform(&example, &["plan", "-input=false", "-no-color", "-out=tfplan"], &cli_config);
        assert!(plan.status.success(), "{module}: terraform plan failed:\n{}", String::from_utf8_lossy(&plan.stderr));
        let shown = terraform(&example, &["show", "-json", "tfplan"], &cli_config);
        let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        let mut kept = BTreeSet::new();
        let mut moved = 0;
        for rc in json["resource_changes"].as_array().unwrap() {
            let actions = &rc["change"]["actions"];
            assert_eq!(actions, &serde_json::json!(["no-op"]), "{module}: {} plans {actions}", rc["address"]);
            let prev = rc["previous_address"].as_str();
            moved += usize::from(prev.is_some());
            kept.insert(prev.or(rc["address"].as_str()).unwrap().to_string());
        }
        assert_eq!(kept, old_addresses, "{module}: the plan does not keep exactly the resources from before the move");
        assert!(moved >= 7, "{module}: only {moved} resources moved");
    }
}
