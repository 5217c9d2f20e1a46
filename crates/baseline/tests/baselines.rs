//! The approved baselines: one insta snapshot per environment and per module example.
//! A mismatch fails and names the subject; accept intended changes with
//! `cargo xtask baseline review` (or `cargo xtask baseline update`).
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use lz_baseline::{baseline_text, stale_baselines, subjects, SNAPSHOT_DIR, UPDATE_HINT};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

#[test]
fn approved_baselines_match_the_working_tree() {
    let root = root();
    let subjects = subjects(&root).expect("listing environments and module examples");
    assert!(
        subjects.len() >= 2,
        "no environments or module examples found under {}",
        root.display()
    );
    let mut stale = Vec::new();
    for subject in &subjects {
        let text = match baseline_text(&root, subject) {
            Ok(t) => t,
            Err(e) => {
                stale.push(format!("{subject}: does not render: {e:#}"));
                continue;
            }
        };
        let header = subject.header(&root).expect("header");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join(SNAPSHOT_DIR));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(header[..2].join("; "));
        let name = subject.snapshot_name();
        let r = catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.as_str(), text))
        }));
        if r.is_err() {
            stale.push(format!("{subject} ({}/{name}.snap)", SNAPSHOT_DIR));
        }
    }
    assert!(
        stale.is_empty(),
        "stale approved baselines:\n  {}\nupdate with {UPDATE_HINT}",
        stale.join("\n  ")
    );
}

#[test]
fn stale_check_agrees_with_the_snapshots() {
    let stale = stale_baselines(&root()).expect("stale check");
    let lines: Vec<String> = stale.iter().map(ToString::to_string).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
}
