//! Release archives opened once per replay or look-up. The replay of every deployment's
//! admission ([`crate::replay`]) and the provenance answer ([`crate::provenance`]) read the same
//! few releases again and again: each deployment's own, the one governing it (the environment's
//! previous deployment, whose plan is the baseline) and the answer's. [`Opened::shared`] opens each
//! digest once for the whole pass, and each opened release renders each environment's plan once
//! ([`crate::release::VerifiedRelease::plan`]).
//!
//! Nothing here is persisted, and nothing outlives the pass that made it: every archive is read
//! from the release store and hashed to its digest when first asked for, exactly as
//! [`crate::Paths::open_release`] does, so an archive altered in the store between two commands
//! (or two look-ups of one process) is refused as before. Sharing a release whose bytes hash to its
//! digest changes no fact: the digest names its content.

use std::cell::RefCell;
use std::sync::Arc;

use anyhow::Result;

use crate::release::VerifiedRelease;
use crate::Paths;

/// How many opened releases a pass keeps at most (the least recently used one is let go): a
/// deployment's replay reads its own release and its environment's previous one, so a few per
/// environment are enough, and a chain of many deployments does not hold every release unpacked.
const KEPT: usize = 16;

/// The releases opened during one pass, most recently used last.
pub struct Opened {
    shared: bool,
    memo: RefCell<Vec<Arc<VerifiedRelease>>>,
    opens: std::cell::Cell<usize>,
}

impl Opened {
    /// Each digest opened (fetched, hashed, unpacked) once for the pass.
    pub fn shared() -> Opened {
        Opened { shared: true, memo: RefCell::default(), opens: Default::default() }
    }

    /// Every use opens the archive afresh (the behaviour before sharing: the reference the
    /// shared pass is compared with).
    pub fn each_time() -> Opened {
        Opened { shared: false, memo: RefCell::default(), opens: Default::default() }
    }

    /// The release `digest` (or unique prefix), verified and unpacked.
    pub fn open(&self, paths: &Paths, digest: &str) -> Result<Arc<VerifiedRelease>> {
        if self.shared {
            let mut memo = self.memo.borrow_mut();
            if let Some(i) = memo.iter().position(|r| r.digest == digest) {
                let r = memo.remove(i);
                memo.push(r.clone());
                return Ok(r);
            }
        }
        let r = Arc::new(paths.open_release(digest)?);
        self.opens.set(self.opens.get() + 1);
        if self.shared {
            let mut memo = self.memo.borrow_mut();
            if memo.len() >= KEPT {
                memo.remove(0);
            }
            memo.push(r.clone());
        }
        Ok(r)
    }

    /// How many archives this pass read from the release store.
    pub fn opens(&self) -> usize {
        self.opens.get()
    }
}
