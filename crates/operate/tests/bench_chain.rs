//! `cargo xtask bench chain` run by the tests on short chains, so that a change that breaks a
//! step it times fails here instead of at the next measurement. A binary of its own: the two
//! runs take minutes each and run beside `reuse`'s tests (whose S3 request counts they would
//! disturb in one process), one at a time here (a run resets the process's verification caches).

mod common;

use common::{endpoint, root};

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// `cargo xtask bench chain` itself, on a short chain: the benchmark runs every step it times
/// (padding, witness, seeds, verdicts, verify, provenance, approve, promote), so that a change
/// that breaks it fails here instead of at the next measurement.
#[test]
fn the_chain_benchmark_runs_on_a_short_chain() {
    let _alone = alone();
    lz_operate::bench_chain::run(&root(), &endpoint(), &[40]).unwrap();
}

/// `cargo xtask bench chain --releases N` on a few releases: the template release promoted for
/// real, the others copies of its archive with their own digests, one in ten deployed to dev
/// with its own admission records. The benchmark itself refuses a chain where the witness's
/// replay rejects any deployment or the look-up's re-rendered plan is not the recorded one, so
/// this shows that the deployments it writes are admissions the replay accepts.
#[test]
fn the_chain_benchmark_builds_many_releases_the_replay_admits() {
    let _alone = alone();
    lz_operate::bench_chain::run_with(&root(), &endpoint(), &[], &[12, 25], None, &lz_operate::bench_chain::Steps::default()).unwrap();
}
