//! The release files the adoption gate and the copy check read: one release's files
//! ([`Tree`]: its catalog, pins and services) and the releases a decision opens by digest, each
//! verified and unpacked once ([`Releases`]).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use lz_repo::catalog::Catalog;
use lz_repo::rollout::{self, Target};

/// The release's files as the decision reads them.
pub struct Tree<'a>(pub &'a BTreeMap<String, Vec<u8>>);

impl Tree<'_> {
    pub(super) fn text(&self, path: &str) -> Option<Result<&str>> {
        self.0.get(path).map(|b| std::str::from_utf8(b).with_context(|| format!("{path} in the release is not UTF-8")))
    }

    pub fn catalog(&self) -> Result<Catalog> {
        let path = lz_repo::catalog::CATALOG;
        let text = self.text(path).with_context(|| format!("the release has no {path}"))??;
        lz_repo::catalog::parse(std::path::Path::new(path), text)
    }

    /// The per-service pins of `env` (module -> service -> version), each a semver version.
    pub fn pins(&self, env: &str) -> Result<rollout::Pins> {
        let path = format!("environments/{env}/{}", rollout::PINS_FILE);
        let Some(text) = self.text(&path) else { return Ok(BTreeMap::new()) };
        let pins = rollout::parse_pins(text?, &path)?;
        for (module, services) in &pins {
            for (service, v) in services {
                anyhow::ensure!(rollout::semver(v).is_some(), "{path}: pins.{module}.{service} = {v:?} is not a semver version x.y.z");
            }
        }
        Ok(pins)
    }

    /// The services of `env` (the keys of `services` in its `terraform.tfvars`).
    pub fn services(&self, env: &str) -> Result<Vec<String>> {
        let path = format!("environments/{env}/terraform.tfvars");
        let Some(text) = self.text(&path) else { return Ok(Vec::new()) };
        lz_platform::pins::service_names(&path, text?)
    }

    /// Every (environment, service) of the release.
    pub fn targets(&self) -> Result<Vec<Target>> {
        let mut out = Vec::new();
        for env in lz_repo::ENVIRONMENTS {
            for s in self.services(env)? {
                out.push((env.to_string(), s));
            }
        }
        Ok(out)
    }
}

/// Release files by digest, each verified and unpacked once per decision; the promoted
/// release's are at hand.
pub struct Releases<'a> {
    pub(super) promoted: (&'a str, &'a BTreeMap<String, Vec<u8>>),
    open: Box<dyn FnMut(&str) -> Result<BTreeMap<String, Vec<u8>>> + 'a>,
    opened: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
}

impl<'a> Releases<'a> {
    pub fn new(promoted: &'a str, files: &'a BTreeMap<String, Vec<u8>>, open: impl FnMut(&str) -> Result<BTreeMap<String, Vec<u8>>> + 'a) -> Self {
        Releases { promoted: (promoted, files), open: Box::new(open), opened: BTreeMap::new() }
    }

    /// The session's release, and the others of its release store (opened and verified by
    /// digest through the session's pass: a release the session or its replay opened is read
    /// once).
    pub fn of_session(s: &'a crate::Session) -> Self {
        Releases::new(&s.release.digest, &s.release.files, move |d| Ok(s.opened.open(&s.paths, d)?.files.clone()))
    }

    pub(crate) fn files(&mut self, digest: &str) -> Result<&BTreeMap<String, Vec<u8>>> {
        if digest == self.promoted.0 {
            return Ok(self.promoted.1);
        }
        if !self.opened.contains_key(digest) {
            let files = (self.open)(digest).with_context(|| format!("opening release {}", lz_evidence::record::short(digest)))?;
            self.opened.insert(digest.to_string(), files);
        }
        Ok(&self.opened[digest])
    }

    pub(crate) fn catalog(&mut self, digest: &str) -> Result<Catalog> {
        Tree(self.files(digest)?).catalog().with_context(|| format!("the catalog of release {}", lz_evidence::record::short(digest)))
    }
}
