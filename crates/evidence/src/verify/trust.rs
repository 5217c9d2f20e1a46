//! The trust root: what the verifier supplies (a register, pins) and never reads from the data verified.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::identity::{Identities, Identity};
use crate::record::is_digest;
use super::reason::Reason;

// Trust root

/// What the verifier trusts, supplied by the verifier and never by the data verified: an
/// identities register (a file, optionally read at a git revision), and/or pinned sha256
/// fingerprints of public keys (key ids) or of register texts.
///
/// The register in force at the start of a chain is:
/// - when record 0 is a `register-change` with previous [`GENESIS`] (a chain that carries its
///   own register from the start): that register, provided the trust root vouches for it (the
///   trust root's register is one of the registers the chain establishes, or a pinned
///   fingerprint is the register's or its signer's key, or the trust root's register has the
///   genesis signer's key in the security group);
/// - otherwise the trust root's register, or an untrusted snapshot (a bundle's) whose
///   fingerprint is pinned.
///
/// Without either, verification fails with "no trust root".
#[derive(Clone, Debug, Default)]
pub struct TrustRoot {
    pub(super) register: Option<Identities>,
    pub(super) origin: String,
    pub(super) pins: BTreeSet<String>,
    pub(super) snapshot: Option<Identities>,
}

impl TrustRoot {
    /// A register the verifier trusts; `origin` names it in messages.
    pub fn register(identities: Identities, origin: impl Into<String>) -> TrustRoot {
        TrustRoot { register: Some(identities), origin: origin.into(), ..Default::default() }
    }

    /// The register file at `path`.
    pub fn load(path: &Path) -> Result<TrustRoot> {
        Ok(TrustRoot::register(Identities::load(path)?, path.display().to_string()))
    }

    /// `path` (relative to the repository `repo`) as committed at git revision `rev`.
    pub fn load_at_revision(repo: &Path, path: &str, rev: &str) -> Result<TrustRoot> {
        if rev.starts_with('-') || rev.is_empty() {
            bail!("{rev:?} is not a git revision");
        }
        let out = duct::cmd!("git", "-C", repo, "show", format!("{rev}:{path}"))
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .with_context(|| format!("cannot run git to read {path} at {rev}"))?;
        if !out.status.success() {
            bail!("cannot read {path} at revision {rev}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let text = String::from_utf8(out.stdout).with_context(|| format!("{path}@{rev} is not UTF-8"))?;
        let origin = format!("{path}@{rev}");
        Ok(TrustRoot::register(Identities::parse(&text, &origin)?, origin))
    }

    /// `FILE` or `FILE@REV` (a register file, read at a git revision of the repository `repo`
    /// when `@REV` is given; FILE is then relative to the repository).
    pub fn from_spec(repo: &Path, spec: &str) -> Result<TrustRoot> {
        match spec.rsplit_once('@') {
            Some((file, rev)) if !file.is_empty() => {
                let rel = Path::new(file);
                let rel = rel.strip_prefix(repo).unwrap_or(rel);
                let rel = rel.to_str().with_context(|| format!("{file} is not UTF-8"))?;
                TrustRoot::load_at_revision(repo, rel, rev)
            }
            _ => TrustRoot::load(Path::new(spec)),
        }
    }

    /// Pinned fingerprints (64 lowercase hex digits each): key ids or register fingerprints.
    pub fn pinned<I: IntoIterator<Item = S>, S: AsRef<str>>(fingerprints: I) -> Result<TrustRoot> {
        let mut pins = BTreeSet::new();
        for f in fingerprints {
            let f = f.as_ref().trim().to_ascii_lowercase();
            if !is_digest(&f) {
                bail!("pinned fingerprint {f:?} is not 64 hex digits (a key id or a register sha256)");
            }
            pins.insert(f);
        }
        if pins.is_empty() {
            bail!("no fingerprint pinned");
        }
        Ok(TrustRoot { origin: "pinned fingerprints".into(), pins, ..Default::default() })
    }

    /// The register the verifier supplied, if any.
    pub fn supplied_register(&self) -> Option<&Identities> {
        self.register.as_ref()
    }

    /// Adds pins to this root.
    pub fn with_pins(mut self, other: TrustRoot) -> TrustRoot {
        self.pins.extend(other.pins);
        if self.origin.is_empty() {
            self.origin = other.origin;
        }
        self
    }

    /// An untrusted register (a bundle's snapshot): used only when its fingerprint is pinned.
    pub fn with_snapshot(mut self, snapshot: Identities) -> TrustRoot {
        self.snapshot = Some(snapshot);
        self
    }

    /// What this root trusts, in full (the register's whole fingerprint, every pin, the
    /// snapshot's fingerprint): the key of anything cached per trust root (the verifier's mirror,
    /// resumed verification), so that two roots never share one.
    pub fn identity(&self) -> String {
        let register = self.register.as_ref().map(|r| r.fingerprint()).unwrap_or_default();
        let snapshot = self.snapshot.as_ref().map(|r| r.fingerprint()).unwrap_or_default();
        let pins: Vec<&str> = self.pins.iter().map(String::as_str).collect();
        format!("register={register};pins={};snapshot={snapshot}", pins.join(","))
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.register {
            parts.push(format!("register {} ({})", self.origin, crate::record::short(&r.fingerprint())));
        }
        if !self.pins.is_empty() {
            parts.push(format!("{} pinned fingerprint(s)", self.pins.len()));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(" and ")
        }
    }

    /// Trusts pinned fingerprints only (no register, no bundle snapshot).
    pub(crate) fn pins_only(&self) -> bool {
        self.register.is_none() && self.snapshot.is_none() && !self.pins.is_empty()
    }

    pub(crate) fn vouches_for_genesis(&self, register: &Identities, signer: Option<&Identity>, history: &[String]) -> bool {
        if let Some(r) = &self.register {
            if history.contains(&r.fingerprint()) {
                return true;
            }
            if let Some(s) = signer {
                if r.by_keyid(&s.keyid).is_some_and(|i| i.group == crate::identity::SECURITY_GROUP && i.is_person()) {
                    return true;
                }
            }
        }
        self.pins.contains(&register.fingerprint()) || signer.is_some_and(|s| self.pins.contains(&s.keyid))
    }

    pub(super) fn start_register(&self) -> Result<Identities, Reason> {
        if let Some(r) = &self.register {
            return Ok(r.clone());
        }
        if let Some(s) = &self.snapshot {
            if self.pins.contains(&s.fingerprint()) {
                return Ok(s.clone());
            }
            return Err(Reason::NoTrustRoot(format!(
                "the bundle's register snapshot ({}) is not pinned; pass --trust-root FILE[@REV] or --pin with its fingerprint",
                s.fingerprint()
            )));
        }
        if self.pins.is_empty() {
            return Err(Reason::NoTrustRoot("pass --trust-root FILE[@REV] or --pin FINGERPRINT".into()));
        }
        Err(Reason::NoTrustRoot(
            "the pinned fingerprints anchor only a chain that starts with its own register (a genesis register-change)".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    #[test]
    fn a_chain_verifies_only_against_the_register_or_pin_that_vouches_for_it() {
        let c = testing::chain(1);
        assert_eq!(verify_chain(&c.records, &c.root).unwrap().records.len(), c.records.len());
        // Another register (fresh keys, same names) does not vouch for the chain.
        let other = crate::bench::team().unwrap();
        let stranger = TrustRoot::register(other.identities, "another register");
        let (_, code) = testing::code_of(verify_chain(&c.records, &stranger));
        assert_eq!(code, "unknown-key");
        // Pins must be fingerprints; a pin of nothing in the chain is refused.
        assert!(TrustRoot::pinned(["not-hex"]).is_err());
        assert!(TrustRoot::pinned(Vec::<String>::new()).is_err());
        let unrelated = TrustRoot::pinned([crate::bench::digest_of("pin", 0)]).unwrap();
        assert!(verify_chain(&c.records, &unrelated).is_err());
        // A trust root's identity tells roots apart (mirrors are keyed by it).
        assert_ne!(c.root.identity(), unrelated.identity());
    }
}
