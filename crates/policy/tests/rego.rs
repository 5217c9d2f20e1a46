//! The Rego unit tests of `policies/` run through regorus, with line coverage.
use std::path::PathBuf;

fn policies_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

#[test]
fn rego_unit_tests_pass_with_coverage() {
    let tree = lz_policy::PolicyTree::load(&policies_dir()).unwrap();
    let run = lz_policy::run_tests(&tree).unwrap();
    let failed: Vec<_> = run.tests.iter().filter(|t| !t.passed).collect();
    for t in &failed {
        eprintln!(
            "FAIL {} ({}) {}",
            t.name,
            t.file,
            t.error.clone().unwrap_or_default()
        );
    }
    for c in &run.coverage {
        eprintln!(
            "{:6.1}% {} uncovered {:?}",
            c.percent(),
            c.file,
            c.uncovered_lines
        );
    }
    assert!(!run.tests.is_empty(), "no Rego test ran");
    assert!(
        failed.is_empty(),
        "{} of {} Rego tests failed",
        failed.len(),
        run.tests.len()
    );
    let low: Vec<_> = run
        .coverage
        .iter()
        .filter(|c| c.percent() < 90.0)
        .map(|c| c.file.clone())
        .collect();
    assert!(low.is_empty(), "coverage below 90%: {low:?}");
}
