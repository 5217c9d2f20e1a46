//! The plan corpus (`policies/corpus/`, expectations in `cases.toml`): every case gives
//! exactly its expected findings, or is refused with its expected error.
use std::path::PathBuf;

use lz_policy::{Options, Policies};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn corpus_cases_give_their_expected_findings() {
    let opts = Options::for_root(&root());
    let policies = Policies::load(&opts.policies, &opts.settings).unwrap();
    let outcomes = lz_policy::corpus::run(&root().join("policies/corpus"), &policies).unwrap();
    assert!(outcomes.len() >= 15, "{} cases", outcomes.len());
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| format!("{}: {}", o.file, o.problems.join("; ")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn corpus_covers_every_plan_format_and_encoding() {
    let cases = lz_policy::corpus::load(&root().join("policies/corpus")).unwrap();
    let files: Vec<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    for shape in [
        "format-0.1",
        "format-0.2",
        "format-1.0",
        "format-1.1",
        "format-1.2",
        "utf8-bom",
        "utf16le",
        "utf16be",
        "tfstate",
    ] {
        assert!(
            files.iter().any(|f| f.contains(shape)),
            "no corpus plan of shape {shape}"
        );
    }
}

/// The corpus runs through the reader `policy --plan` ships (`engine_plan`): a corpus file
/// naming a key twice, which `policy --plan` refuses, is refused by `policy test` too, and a
/// case may expect that refusal.
#[test]
fn corpus_runs_through_the_shipped_reader() {
    let opts = Options::for_root(&root());
    let policies = Policies::load(&opts.policies, &opts.settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"{"format_version":"1.2","resource_changes":[],"variables":{"environment":{"value":"dev"},"environment":{"value":"prod"}}}"#;
    std::fs::write(dir.path().join("twice.json"), plan).unwrap();
    std::fs::write(dir.path().join("cases.toml"), "[[case]]\nfile = \"twice.json\"\nwhat = \"a key twice\"\n").unwrap();
    let out = lz_policy::corpus::run(dir.path(), &policies).unwrap();
    assert!(!out[0].passed() && out[0].problems[0].contains("key variables.environment is named twice"), "{:?}", out[0].problems);
    std::fs::write(
        dir.path().join("cases.toml"),
        "[[case]]\nfile = \"twice.json\"\nwhat = \"a key twice\"\nerror = \"variables.environment is named twice\"\n",
    )
    .unwrap();
    assert!(lz_policy::corpus::run(dir.path(), &policies).unwrap()[0].passed());
}
