//! The public keys a register names: ed25519 (people, rehearsals, today's records) and ECDSA
//! P-256 with SHA-256 (workload keys held in AWS KMS, `ECC_NIST_P256` / `ECDSA_SHA_256`).
//!
//! A signature is 64 bytes in both algorithms (ECDSA as the fixed `r || s` form), so a record's
//! envelope is the same for both: the register entry of the record's key id says which rule
//! checks it. A record carries no algorithm of its own, so no record can choose how it is
//! verified (no algorithm confusion).
//!
//! The rules have the same strictness:
//! - ed25519: [`crate::sig`] (canonical `S` and `R`, no key or `R` of small order);
//! - ECDSA P-256: `r` and `s` in `[1, n)`, and `s` at most `n/2` (low-S: the other of the two
//!   valid `s` values of a signature is refused, so a signature has one encoding and a record one
//!   set of bytes); the key a point on the curve other than the identity (SEC1, checked when
//!   parsed). A signer normalises to low-S before it returns a signature ([`ecdsa_from_der`]).

use std::fmt;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::{Digest, Sha256};

/// A register's signing algorithm (`algorithm = "..."` of an identity; ed25519 when absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Ed25519,
    EcdsaP256Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        }
    }

    pub fn parse(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    /// Kept as its SEC1 compressed encoding (33 bytes), the bytes its key id hashes.
    P256(p256::ecdsa::VerifyingKey),
}

impl From<ed25519_dalek::VerifyingKey> for PublicKey {
    fn from(k: ed25519_dalek::VerifyingKey) -> PublicKey {
        PublicKey::Ed25519(k)
    }
}

impl From<p256::ecdsa::VerifyingKey> for PublicKey {
    fn from(k: p256::ecdsa::VerifyingKey) -> PublicKey {
        PublicKey::P256(k)
    }
}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::P256(_) => Algorithm::EcdsaP256Sha256,
        }
    }

    /// The key's bytes: ed25519's 32, P-256's SEC1 compressed 33.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Ed25519(k) => k.as_bytes().to_vec(),
            PublicKey::P256(k) => k.to_encoded_point(true).as_bytes().to_vec(),
        }
    }

    /// Key id: hex sha256 of [`PublicKey::to_bytes`] (for ed25519 the id records have always had).
    pub fn keyid(&self) -> String {
        hex::encode(Sha256::digest(self.to_bytes()))
    }

    /// The register form: base64 of [`PublicKey::to_bytes`].
    pub fn encode(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// The ed25519 key, if this is one.
    pub fn ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match self {
            PublicKey::Ed25519(k) => Some(k),
            PublicKey::P256(_) => None,
        }
    }

    /// Whether the key is weak (signatures by it prove nothing). Registers refuse such keys when
    /// parsed; verification checks again on every record. A P-256 key cannot be the identity
    /// or off the curve once parsed, and the curve has no small subgroup.
    pub fn is_weak(&self) -> bool {
        match self {
            PublicKey::Ed25519(k) => crate::sig::is_weak_encoding(k.as_bytes()),
            PublicKey::P256(_) => false,
        }
    }

    /// Whether `signature` by this key covers the message `parts` (concatenated), under the
    /// key's algorithm and its strict rule (see the module documentation).
    pub fn verify(&self, signature: &[u8; 64], parts: &[&[u8]]) -> bool {
        match self {
            PublicKey::Ed25519(k) => crate::sig::verify(k, signature, parts),
            PublicKey::P256(k) => verify_p256(k, signature, parts),
        }
    }

    /// Parses a register's `public_key` text for `algorithm`; weak and malformed keys are refused.
    pub fn parse(algorithm: Algorithm, text: &str) -> Result<PublicKey> {
        match algorithm {
            Algorithm::Ed25519 => parse_public_key(text).map(PublicKey::Ed25519),
            Algorithm::EcdsaP256Sha256 => parse_p256(text).map(PublicKey::P256),
        }
    }
}

/// A P-256 key from base64 (or hex) of its SEC1 encoding (compressed or not), or of a DER
/// SubjectPublicKeyInfo as KMS `GetPublicKey` returns it. The identity point and points off
/// the curve are refused.
pub fn parse_p256(text: &str) -> Result<p256::ecdsa::VerifyingKey> {
    use p256::pkcs8::DecodePublicKey as _;
    let t = text.trim();
    let bytes = if t.len() % 2 == 0 && t.len() >= 66 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t)?
    } else {
        B64.decode(t).context("neither hex nor base64")?
    };
    match bytes.first() {
        Some(0x30) => p256::ecdsa::VerifyingKey::from_public_key_der(&bytes)
            .map_err(|e| anyhow::anyhow!("not a P-256 SubjectPublicKeyInfo: {e}")),
        Some(0x02 | 0x03) if bytes.len() == 33 => {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| anyhow::anyhow!("not a point of P-256"))
        }
        Some(0x04) if bytes.len() == 65 => {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| anyhow::anyhow!("not a point of P-256"))
        }
        _ => bail!(
            "{} bytes: expected a SEC1 P-256 point (33 bytes compressed, 65 uncompressed) or a DER SubjectPublicKeyInfo \
             (an ed25519 key under algorithm ecdsa-p256-sha256?)",
            bytes.len()
        ),
    }
}

/// ECDSA P-256 / SHA-256 over `parts`: `r`, `s` in range, `s` low, the equation holds.
pub fn verify_p256(key: &p256::ecdsa::VerifyingKey, signature: &[u8; 64], parts: &[&[u8]]) -> bool {
    let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else { return false };
    if sig.normalize_s().is_some() {
        return false; // high S: the low-S twin is the only encoding accepted
    }
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    key.verify_prehash(&h.finalize(), &sig).is_ok()
}

/// The fixed 64-byte low-S form of a DER ECDSA P-256 signature (what KMS `Sign` returns).
pub fn ecdsa_from_der(der: &[u8]) -> Result<[u8; 64]> {
    let sig = p256::ecdsa::Signature::from_der(der).map_err(|e| anyhow::anyhow!("not a DER ECDSA P-256 signature: {e}"))?;
    let sig = sig.normalize_s().unwrap_or(sig);
    Ok(sig.to_bytes().into())
}

pub(crate) fn decode_32(text: &str) -> Result<[u8; 32]> {
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t)?
    } else {
        B64.decode(t).context("neither 64 hex digits nor base64")?
    };
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("expected 32 bytes, found {}", b.len()))
}

/// Parses a public key; weak (small-order) points such as the identity are refused: they let a
/// signature verify without any private key.
pub fn parse_public_key(text: &str) -> Result<ed25519_dalek::VerifyingKey> {
    let bytes = decode_32(text)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).context("not a valid ed25519 public key")?;
    if key.is_weak() {
        bail!("weak ed25519 public key (a point of small order): it would accept forged signatures");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashSigner as _;

    fn p256_key() -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn sign_p256(k: &p256::ecdsa::SigningKey, msg: &[u8]) -> p256::ecdsa::Signature {
        k.sign_prehash(&Sha256::digest(msg)).unwrap()
    }

    /// The negation of `s` (mod n): the other valid signature of the same message.
    fn high_s_twin(sig: &p256::ecdsa::Signature) -> [u8; 64] {
        let (r, s) = sig.split_scalars();
        let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        twin.to_bytes().into()
    }

    #[test]
    fn a_p256_signature_verifies_in_low_s_form_only() {
        let k = p256_key();
        let vk = PublicKey::P256(*k.verifying_key());
        let sig = sign_p256(&k, b"hello world");
        let low = sig.normalize_s().unwrap_or(sig);
        let low_bytes: [u8; 64] = low.to_bytes().into();
        assert!(vk.verify(&low_bytes, &[b"hello", b" world"]));
        assert!(!vk.verify(&low_bytes, &[b"hello", b" World"]));
        // The high-S twin satisfies the ECDSA equation; the rule refuses it.
        let high = high_s_twin(&low);
        assert_ne!(high, low_bytes);
        assert!(p256::ecdsa::Signature::from_slice(&high).unwrap().normalize_s().is_some(), "the twin is high-S");
        assert!(!vk.verify(&high, &[b"hello world"]));
        // A signer normalises: the DER of the high-S twin comes back low.
        let der = p256::ecdsa::Signature::from_slice(&high).unwrap().to_der();
        assert_eq!(ecdsa_from_der(der.as_bytes()).unwrap(), low_bytes);
        // Zero r or s, or s at n, never verify.
        let mut zero = low_bytes;
        zero[32..].fill(0);
        assert!(!vk.verify(&zero, &[b"hello world"]));
        let mut all_ff = low_bytes;
        all_ff[32..].fill(0xff);
        assert!(!vk.verify(&all_ff, &[b"hello world"]));
    }

    #[test]
    fn keys_of_one_algorithm_never_verify_under_the_other() {
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        use ed25519_dalek::Signer as _;
        let ed_sig = ed.sign(b"m").to_bytes();
        let p = p256_key();
        let p_sig: [u8; 64] = sign_p256(&p, b"m").normalize_s().unwrap_or_else(|| sign_p256(&p, b"m")).to_bytes().into();
        assert!(PublicKey::Ed25519(ed.verifying_key()).verify(&ed_sig, &[b"m"]));
        assert!(!PublicKey::P256(*p.verifying_key()).verify(&ed_sig, &[b"m"]));
        assert!(!PublicKey::Ed25519(ed.verifying_key()).verify(&p_sig, &[b"m"]));
        // An ed25519 key registered as P-256 (or the reverse) does not parse.
        let ed_text = PublicKey::Ed25519(ed.verifying_key()).encode();
        let p_text = PublicKey::P256(*p.verifying_key()).encode();
        assert!(PublicKey::parse(Algorithm::EcdsaP256Sha256, &ed_text).is_err());
        assert!(PublicKey::parse(Algorithm::Ed25519, &p_text).is_err());
        assert_eq!(PublicKey::parse(Algorithm::EcdsaP256Sha256, &p_text).unwrap(), PublicKey::P256(*p.verifying_key()));
    }

    #[test]
    fn p256_keys_off_the_curve_or_the_identity_are_refused() {
        // The SEC1 identity encoding, and a compressed x that is no point's.
        assert!(parse_p256(&B64.encode([0u8])).is_err());
        let mut off = [0u8; 33];
        off[0] = 0x02;
        off[32] = 5;
        let on_curve = (0u8..=255).any(|b| {
            off[32] = b;
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&off).is_err()
        });
        assert!(on_curve, "some x is not on the curve");
        assert!(parse_p256(&B64.encode(off)).is_err());
        let mut unc = [0u8; 65];
        unc[0] = 0x04;
        assert!(parse_p256(&B64.encode(unc)).is_err());
        // The DER form KMS returns parses to the same key as its SEC1 forms.
        // SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, the uncompressed point.
        let vk = *p256_key().verifying_key();
        let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        der.extend_from_slice(vk.to_encoded_point(false).as_bytes());
        assert_eq!(parse_p256(&B64.encode(&der)).unwrap(), vk);
        der[30] ^= 1; // another x: no longer the key (or no point at all)
        assert!(parse_p256(&B64.encode(&der)).map_or(true, |k| k != vk));
        assert_eq!(parse_p256(&B64.encode(vk.to_encoded_point(false).as_bytes())).unwrap(), vk);
    }
}
