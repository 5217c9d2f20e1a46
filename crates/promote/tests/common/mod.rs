//! Helpers the promotion tests share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lz_promote::stores::Stores;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// LocalStack, started through the harness (a test that needs it fails loudly without it).
pub fn endpoint() -> String {
    lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"))
}

/// A short name part unique to this moment, for buckets, secrets and roles of one test.
pub fn nonce() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}", n % 0xff_ffff_ffff)
}

/// The repository's stores under names of their own, created as `bootstrap --stores` does.
pub fn own_stores() -> Stores {
    let mut s = Stores::load(&root(), &endpoint()).unwrap();
    let n = nonce();
    s.release_bucket = format!("{}-{n}", s.release_bucket);
    s.evidence_bucket = format!("{}-{n}", s.evidence_bucket);
    let plan = lz_promote::release::render_env(&root(), &s.environment).unwrap();
    lz_promote::bootstrap::bootstrap_stores(&s, &plan).unwrap();
    s
}
