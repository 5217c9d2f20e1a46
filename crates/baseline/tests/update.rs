//! `cargo xtask baseline update` in process: the snapshot files it writes are byte for byte
//! what insta writes, it rewrites only what differs, and it creates what is missing.
use std::path::{Path, PathBuf};

use lz_baseline::update::{snapshot_file_text, update, Outcome};
use lz_baseline::{baseline_text, subjects, SNAPSHOT_DIR};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_snapshot_files_are_written_as_insta_writes_them() {
    let root = root();
    for s in subjects(&root).unwrap() {
        let text = baseline_text(&root, &s).unwrap();
        let header = s.header(&root).unwrap();
        let approved = std::fs::read_to_string(s.snapshot_file(&root)).unwrap();
        assert_eq!(snapshot_file_text(&header, &text), approved, "{s}: the written file would differ from insta's");
    }
}

#[test]
fn update_creates_the_missing_rewrites_the_stale_and_leaves_the_rest() {
    let root = root();
    let scratch = tempfile::tempdir().unwrap();
    for dir in ["environments", "modules", "schema", SNAPSHOT_DIR] {
        copy_dir(&root.join(dir), &scratch.path().join(dir));
    }
    let snaps = scratch.path().join(SNAPSHOT_DIR);
    let original_dev = std::fs::read_to_string(snaps.join("env-dev.snap")).unwrap();
    let original_network = std::fs::read_to_string(snaps.join("module-network.snap")).unwrap();
    std::fs::remove_file(snaps.join("env-dev.snap")).unwrap();
    let tampered = original_network.replacen("cidr_block = ", "cidr_block_was = ", 1);
    assert_ne!(tampered, original_network, "the network baseline names a cidr_block");
    std::fs::write(snaps.join("module-network.snap"), &tampered).unwrap();
    let untouched = snaps.join("env-prod.snap");
    let mtime = std::fs::metadata(&untouched).unwrap().modified().unwrap();

    let seen = std::sync::Mutex::new(Vec::new());
    let results = update(scratch.path(), &|s| seen.lock().unwrap().push(s.to_string())).unwrap();
    assert_eq!(seen.lock().unwrap().len(), results.len(), "progress once per subject");
    assert_eq!(results.len(), subjects(&root).unwrap().len());
    for r in &results {
        let expected = match r.subject.snapshot_name().as_str() {
            "env-dev" => "created",
            "module-network" => "updated",
            _ => "unchanged",
        };
        let got = match &r.outcome {
            Outcome::Created => "created",
            Outcome::Updated(summary) => {
                assert!(summary.contains("cidr_block"), "{summary}");
                "updated"
            }
            Outcome::Unchanged => "unchanged",
        };
        assert_eq!(got, expected, "{}", r.subject);
    }
    assert_eq!(std::fs::read_to_string(snaps.join("env-dev.snap")).unwrap(), original_dev);
    assert_eq!(std::fs::read_to_string(snaps.join("module-network.snap")).unwrap(), original_network);
    assert_eq!(std::fs::metadata(&untouched).unwrap().modified().unwrap(), mtime, "an unchanged snapshot is not rewritten");
}
