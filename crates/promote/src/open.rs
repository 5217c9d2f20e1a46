//! Opening a [`Session`] on the chain a decision reads: the verified evidence chain with every
//! deployment whose admission does not replay left out ([`crate::replay`]), and re-reading it
//! after an append, behind the baseline's fence ([`crate::fence`]). The session itself
//! ([`crate::session`]) is built from records as given and names neither.

use anyhow::Result;

use crate::session::{previous_environment, Session};
use crate::Paths;

impl Session {
    /// Loads everything a decision about `release` in `environment` reads.
    pub fn open(paths: &Paths, release: &str, environment: &str) -> Result<Session> {
        Session::open_before(paths, release, environment, None)
    }

    /// [`Session::open`] on the verified chain as it was before record `before` (all of it for
    /// `None`): what a decision taken then saw. Reports use it to show the change a deployment
    /// made against the state it was approved against.
    pub fn open_before(
        paths: &Paths,
        release: &str,
        environment: &str,
        before: Option<u64>,
    ) -> Result<Session> {
        previous_environment(environment)?;
        let ledger = paths.ledger()?;
        let mut records = ledger.records()?;
        if let Some(b) = before {
            records.retain(|r| r.sequence < b);
        }
        // Only admitted deployments count: every deployment's admission is replayed, and the
        // session reads the releases the replay opened (each archive opened once per command).
        let opened = crate::opened::Opened::shared();
        let rejected = crate::replay::rejected_in(&opened, paths, &ledger, &records)?;
        records.retain(|r| !rejected.contains_key(&r.sequence));
        Session::from_records_in(&opened, paths, &ledger, records, release, environment)
    }

    /// Re-reads the evidence chain (after appending), admitted deployments only. Refuses when
    /// the environment's baseline moved since the session opened ([`crate::fence`]): what was
    /// classified against it no longer holds.
    pub fn reload(&mut self) -> Result<()> {
        let mut records = self.ledger.records()?;
        let rejected = crate::replay::rejected_in(&self.opened, &self.paths, &self.ledger, &records)?;
        records.retain(|r| !rejected.contains_key(&r.sequence));
        self.records = records;
        crate::fence::Fence::of(self).check_admitted(&self.records)
    }
}
