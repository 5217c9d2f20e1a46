//! Release archives opened once per replay or look-up. The replay of every deployment's
//! admission ([`crate::replay`]) and the provenance answer ([`crate::provenance`]) read the same
//! few releases again and again: each deployment's own, the one governing it (the environment's
//! previous deployment, whose plan is the baseline) and the answer's. [`Opened::shared`] opens each
//! digest once for the whole pass, and each opened release renders each environment's plan once
//! ([`crate::release::VerifiedRelease::plan`]). A session keeps the pass it was built in
//! (`Session::opened`), so its copy check and adoption judgement read other releases through it,
//! and releases whose policy files hash the same share one parsed policy engine
//! ([`Opened::policies`]).
//!
//! Nothing here is persisted, and nothing outlives the pass that made it: every archive is read
//! from the release store and hashed to its digest when first asked for, exactly as
//! [`crate::Paths::open_release`] does, so an archive altered in the store between two commands
//! (or two look-ups of one process) is refused as before. Sharing a release whose bytes hash to its
//! digest changes no fact: the digest names its content.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::release::VerifiedRelease;
use crate::Paths;

/// How many opened releases a pass keeps at most (the least recently used one is let go): a
/// deployment's replay reads its own release and its environment's previous one, so a few per
/// environment are enough, and a chain of many deployments does not hold every release unpacked.
const KEPT: usize = 16;

/// The releases opened during one pass, most recently used last. A handle: its clones share the
/// pass (a session keeps one, so the adoption and copy checks read the releases it opened).
#[derive(Clone)]
pub struct Opened(Arc<Pass>);

struct Pass {
    shared: bool,
    memo: Mutex<Vec<Arc<VerifiedRelease>>>,
    opens: AtomicUsize,
    /// Policies parsed (engine prepared) in this pass, by the digest of what they are loaded from.
    policies: Mutex<Vec<(String, lz_policy::Policies)>>,
}

impl Opened {
    fn new(shared: bool) -> Opened {
        Opened(Arc::new(Pass { shared, memo: Mutex::default(), opens: AtomicUsize::new(0), policies: Mutex::default() }))
    }

    /// Each digest opened (fetched, hashed, unpacked) once for the pass.
    pub fn shared() -> Opened {
        Opened::new(true)
    }

    /// Every use opens the archive afresh (the behaviour before sharing: the reference the
    /// shared pass is compared with).
    pub fn each_time() -> Opened {
        Opened::new(false)
    }

    /// The release `digest` (or unique prefix), verified and unpacked.
    pub fn open(&self, paths: &Paths, digest: &str) -> Result<Arc<VerifiedRelease>> {
        let pass = &self.0;
        if pass.shared {
            let mut memo = pass.memo.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = memo.iter().position(|r| r.digest == digest) {
                let r = memo.remove(i);
                memo.push(r.clone());
                return Ok(r);
            }
        }
        let r = Arc::new(paths.open_release(digest)?);
        pass.opens.fetch_add(1, Ordering::Relaxed);
        if pass.shared {
            let mut memo = pass.memo.lock().unwrap_or_else(|e| e.into_inner());
            if memo.len() >= KEPT {
                memo.remove(0);
            }
            memo.push(r.clone());
        }
        Ok(r)
    }

    /// How many archives this pass read from the release store.
    pub fn opens(&self) -> usize {
        self.0.opens.load(Ordering::Relaxed)
    }

    /// The policies of `release` (its `policies/` and `governance/policy.toml`), parsed and their
    /// engine prepared once per pass for each content: releases whose policy files are byte for
    /// byte the same (their sha256, taken from the verified archive's files) evaluate with one
    /// prepared engine. Like the releases, nothing of it outlives the pass.
    pub fn policies(&self, release: &VerifiedRelease) -> Result<lz_policy::Policies> {
        let root = release.root();
        let load = || lz_policy::Policies::load(&root.join("policies"), &root.join(crate::release::POLICY_SETTINGS));
        if !self.0.shared {
            return load();
        }
        let settings = release.files.get(crate::release::POLICY_SETTINGS).map(|b| lz_evidence::dsse::sha256_hex(b)).unwrap_or_default();
        let key = format!("{} {settings}", release.policy_bundle()?);
        if let Some((_, p)) = self.0.policies.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(k, _)| *k == key) {
            return Ok(p.clone());
        }
        let p = load()?;
        let mut kept = self.0.policies.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT {
            kept.remove(0);
        }
        kept.push((key, p.clone()));
        Ok(p)
    }
}
