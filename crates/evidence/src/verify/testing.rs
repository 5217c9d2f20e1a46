//! A small signed chain for the unit tests of each concern of the verifier: one deployer and one
//! approver (`crate::bench::team`), six records per release, in a local store with its head.

use super::*;
use crate::archive::EvidenceArchive;
use crate::store::LocalStore;

pub(super) struct Chain {
    pub(super) store: LocalStore,
    pub(super) records: Vec<StoredRecord>,
    pub(super) root: TrustRoot,
    pub(super) team: crate::bench::Team,
    _dir: tempfile::TempDir,
}

/// A verified-good chain of `releases` releases.
pub(super) fn chain(releases: usize) -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let team = crate::bench::team().unwrap();
    let mut archive = EvidenceArchive::open(LocalStore::new(dir.path().join("chain.jsonl")), team.identities.clone()).unwrap();
    crate::bench::fill(&mut archive, &team, 0..releases).unwrap();
    let store = archive.into_store();
    let records = store.load().unwrap();
    let root = TrustRoot::register(team.identities.clone(), "unit-test identities");
    Chain { store, records, root, team, _dir: dir }
}

/// `records` with record `i`'s bytes replaced by `f` of them.
pub(super) fn edited(records: &[StoredRecord], i: usize, f: impl FnOnce(&str) -> String) -> Vec<StoredRecord> {
    let mut out = records.to_vec();
    let text = String::from_utf8(out[i].bytes.to_vec()).unwrap();
    out[i].bytes = f(&text).into_bytes().into();
    out
}

/// The code of the failure a verification error carries.
pub(super) fn code_of(r: Result<VerifiedChain>) -> (Option<u64>, &'static str) {
    let e = r.err().expect("the chain fails verification");
    let f = failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
    (f.sequence, f.reason.code())
}
