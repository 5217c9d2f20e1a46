//! Ed25519 signature checks as evidence defines them, one rule for a single record and for a
//! batch.
//!
//! The rule is RFC 8032 §5.1.7 with its cofactored group equation `[8][S]B = [8]R + [8][k]A`
//! (`k = SHA-512(R || A || M)`), and strict encodings: `S` below the group order, `R` the
//! canonical encoding of a point that is not of small order, `A` a registered key that is not
//! of small order (the register refuses weak keys).
//!
//! Why cofactored: a batch checks `[8] Σ zᵢ (SᵢB − Rᵢ − kᵢAᵢ) = 0` with random 128-bit weights
//! `zᵢ`, which holds exactly when every term holds on its own (but for a 2⁻¹²⁸ chance). The
//! cofactorless equation has no such batch: a signer who adds a point of small order to `R`
//! makes a signature that single verification refuses and a cofactorless batch accepts or
//! refuses depending on the weights (with deterministic weights, as the signer chooses).
//! `tests/sig.rs` builds such a signature and shows both checks agree on it.
//!
//! A batch groups its terms by key (`Σ (Σ zᵢkᵢ) A` per key instead of one `A` per record),
//! so a batch of n records signed by a few identities costs one multiscalar multiplication of
//! about n + 2 points.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::VerifyingKey;
use rand::RngCore;
use sha2::{Digest, Sha512};

/// A signature decoded for the group equation: `R`, `S` and the challenge `k`.
#[derive(Clone, Copy, Debug)]
pub struct Prepared {
    key: [u8; 32],
    a: EdwardsPoint,
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

/// Decodes `signature` by `key` over the message `parts` (concatenated); `None` when an
/// encoding is refused (`R` or the key not a canonical encoding, or a point of small order; `S`
/// not below the group order).
pub fn prepare(key: &VerifyingKey, signature: &[u8; 64], parts: &[&[u8]]) -> Option<Prepared> {
    let r_bytes: [u8; 32] = signature[..32].try_into().expect("32 bytes");
    let s_bytes: [u8; 32] = signature[32..].try_into().expect("32 bytes");
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    if !strict_encoding(&r_bytes) || !strict_encoding(key.as_bytes()) {
        return None;
    }
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.as_bytes());
    for p in parts {
        h.update(p);
    }
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    Some(Prepared { key: *key.as_bytes(), a: key.to_edwards(), r, s, k })
}

/// The encodings of the eight points of small order, and the two with x = 0 and the sign bit
/// set ("negative zero"), which decode to points of small order too.
pub(crate) const SMALL_ORDER: [[u8; 32]; 10] = {
    const fn nibble(c: u8) -> u8 {
        if c <= b'9' {
            c - b'0'
        } else {
            c - b'a' + 10
        }
    }
    const fn hex32(s: &[u8; 64]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            out[i] = (nibble(s[2 * i]) << 4) | nibble(s[2 * i + 1]);
            i += 1;
        }
        out
    }
    [
        hex32(b"0100000000000000000000000000000000000000000000000000000000000000"),
        hex32(b"0100000000000000000000000000000000000000000000000000000000000080"),
        hex32(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex32(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        hex32(b"0000000000000000000000000000000000000000000000000000000000000000"),
        hex32(b"0000000000000000000000000000000000000000000000000000000000000080"),
        hex32(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        hex32(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
        hex32(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex32(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    ]
};

/// Whether a public key's encoding is of a point of small order (a weak key: signatures by it
/// prove nothing). Registers refuse such keys when parsed; this re-check costs no arithmetic.
pub fn is_weak_encoding(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER.contains(bytes) || (y_too_big(bytes) && CompressedEdwardsY(*bytes).decompress().is_none_or(|p| p.is_small_order()))
}

/// Whether the y coordinate an encoding names is at or above p = 2²⁵⁵ − 19 (not canonical).
fn y_too_big(bytes: &[u8; 32]) -> bool {
    bytes[0] >= 0xed && bytes[1..31].iter().all(|b| *b == 0xff) && (bytes[31] & 0x7f) == 0x7f
}

/// Whether a point encoding is canonical (y below p = 2²⁵⁵ − 19) and not one of
/// [`SMALL_ORDER`]: checked on the bytes, without the field inversion that testing the decoded
/// point would cost.
fn strict_encoding(bytes: &[u8; 32]) -> bool {
    !y_too_big(bytes) && !SMALL_ORDER.contains(bytes)
}

/// The group equation of one signature.
pub fn check(p: &Prepared) -> bool {
    // [S]B − [k]A − R, times the cofactor.
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-p.k, &p.a, &p.s);
    (sb_minus_ka - p.r).mul_by_cofactor().is_identity()
}

/// One signature, decoded and checked.
pub fn verify(key: &VerifyingKey, signature: &[u8; 64], parts: &[&[u8]]) -> bool {
    prepare(key, signature, parts).is_some_and(|p| check(&p))
}

/// The group equations of all `items` at once, with weights from the thread's CSPRNG. `true`
/// means each of them holds (but for a 2⁻¹²⁸ chance); `false` means at least one does not
/// (callers then [`check`] them one by one to name it).
pub fn check_batch(items: &[&Prepared]) -> bool {
    match items {
        [] => true,
        [one] => check(one),
        _ => {
            let mut rng = rand::thread_rng();
            let mut b = Scalar::ZERO;
            // (key bytes, point, Σ zᵢkᵢ) per distinct key.
            let mut keys: Vec<([u8; 32], EdwardsPoint, Scalar)> = Vec::with_capacity(4);
            let mut scalars = Vec::with_capacity(items.len() + 5);
            let mut points = Vec::with_capacity(items.len() + 5);
            for p in items {
                let mut z = [0u8; 16];
                rng.fill_bytes(&mut z);
                let z = Scalar::from(u128::from_le_bytes(z));
                b += z * p.s;
                // zᵢ itself (128 bits) rather than −zᵢ (a full-size scalar mod ℓ): the
                // multiplication then costs about half for these points.
                scalars.push(z);
                points.push(p.r);
                let zk = z * p.k;
                match keys.iter_mut().find(|(k, _, _)| *k == p.key) {
                    Some((_, _, c)) => *c += zk,
                    None => keys.push((p.key, p.a, zk)),
                }
            }
            for (_, a, c) in keys {
                scalars.push(c);
                points.push(a);
            }
            // Σ zᵢRᵢ + Σ cₖAₖ − bB = −Σ zᵢ(SᵢB − Rᵢ − kᵢAᵢ)
            scalars.push(-b);
            points.push(ED25519_BASEPOINT_POINT);
            EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    #[test]
    fn signatures_of_the_signer_verify_and_a_changed_message_does_not() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let sig = key.sign(b"hello world").to_bytes();
        let vk = key.verifying_key();
        assert!(verify(&vk, &sig, &[b"hello", b" world"]));
        assert!(!verify(&vk, &sig, &[b"hello", b" World"]));
        let mut s_plus_l = sig;
        s_plus_l[63] |= 0x10; // S no longer below the group order
        assert!(!verify(&vk, &s_plus_l, &[b"hello world"]));
    }

    #[test]
    fn a_batch_fails_when_any_member_fails() {
        let keys: Vec<SigningKey> = (1..4u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
        let mut items: Vec<Prepared> = (0..40)
            .map(|i| {
                let k = &keys[i % 3];
                let m = format!("message {i}");
                prepare(&k.verifying_key(), &k.sign(m.as_bytes()).to_bytes(), &[m.as_bytes()]).unwrap()
            })
            .collect();
        assert!(check_batch(&items.iter().collect::<Vec<_>>()));
        // Member 17 with another member's challenge.
        items[17].k = items[18].k;
        assert!(!check_batch(&items.iter().collect::<Vec<_>>()));
        assert!(!check(&items[17]) && check(&items[18]));
    }

    /// A signer who adds a point of small order T to R: S·B = (R − T) + k·A. Strict
    /// cofactorless verification refuses it; a cofactorless batch accepts it or not depending
    /// on the weights (with deterministic weights, as the signer chooses). The rule here
    /// accepts it, alone and in any batch, the same way each time: whoever holds the key made it.
    #[test]
    fn a_torsioned_signature_gets_one_answer_alone_and_in_every_batch() {
        use curve25519_dalek::scalar::clamp_integer;
        use ed25519_dalek::Verifier as _;
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let vk = key.verifying_key();
        let expanded = Sha512::digest(key.to_bytes());
        let a = Scalar::from_bytes_mod_order(clamp_integer(expanded[..32].try_into().unwrap()));
        assert_eq!(EdwardsPoint::mul_base(&a), vk.to_edwards());
        let msg: &[u8] = b"approval of release 7f3a";
        let torsion = CompressedEdwardsY(SMALL_ORDER[6]).decompress().unwrap();
        let r = Scalar::from_bytes_mod_order([11u8; 32]);
        let r_point = (EdwardsPoint::mul_base(&r) + torsion).compress().to_bytes();
        let k = Scalar::from_bytes_mod_order_wide(
            &Sha512::new().chain_update(r_point).chain_update(vk.as_bytes()).chain_update(msg).finalize().into(),
        );
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r_point);
        sig[32..].copy_from_slice((r + k * a).as_bytes());
        assert!(vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig)).is_err(), "cofactorless strict refuses it");
        assert!(vk.verify(msg, &ed25519_dalek::Signature::from_bytes(&sig)).is_err(), "so does ed25519-dalek's default check");
        let odd = prepare(&vk, &sig, &[msg]).unwrap();
        assert!(check(&odd));
        let others: Vec<Prepared> = (0..15)
            .map(|i| {
                let m = format!("record {i}");
                prepare(&vk, &key.sign(m.as_bytes()).to_bytes(), &[m.as_bytes()]).unwrap()
            })
            .collect();
        for _ in 0..32 {
            let mut batch: Vec<&Prepared> = others.iter().collect();
            batch.push(&odd);
            assert!(check_batch(&batch));
        }
        // Nobody else can move R by a point of small order: the challenge hashes R.
        let honest = key.sign(msg).to_bytes();
        assert!(verify(&vk, &honest, &[msg]));
        let r_honest = CompressedEdwardsY(honest[..32].try_into().unwrap()).decompress().unwrap();
        let mut mauled = honest;
        mauled[..32].copy_from_slice(&(r_honest + torsion).compress().to_bytes());
        assert!(!verify(&vk, &mauled, &[msg]));
        let mut batch: Vec<&Prepared> = others.iter().collect();
        let mauled = prepare(&vk, &mauled, &[msg]).unwrap();
        batch.push(&mauled);
        assert!(!check_batch(&batch));
    }

    #[test]
    fn the_small_order_encodings_are_exactly_the_refused_points() {
        use curve25519_dalek::traits::IsIdentity as _;
        // Each listed encoding decodes to a point of small order (or is not a point at all).
        for enc in SMALL_ORDER {
            if let Some(p) = CompressedEdwardsY(enc).decompress() {
                assert!(p.mul_by_cofactor().is_identity(), "{}", hex::encode(enc));
            }
        }
        // And every point of small order is listed: the multiples of one of order 8.
        let eight = CompressedEdwardsY(SMALL_ORDER[6]).decompress().unwrap();
        let mut p = eight;
        for _ in 0..8 {
            assert!(SMALL_ORDER.contains(&p.compress().to_bytes()), "{}", hex::encode(p.compress().to_bytes()));
            p += eight;
        }
        // The weak-key check on the encoding agrees with the one on the point, also for the
        // non-canonical encodings (y = p and y = p + 1, both signs).
        let mut encodings: Vec<[u8; 32]> = SMALL_ORDER.to_vec();
        for (first, sign) in [(0xed, 0x7f), (0xed, 0xff), (0xee, 0x7f), (0xee, 0xff)] {
            let mut e = [0xffu8; 32];
            e[0] = first;
            e[31] = sign;
            encodings.push(e);
        }
        encodings.push(*SigningKey::from_bytes(&[3u8; 32]).verifying_key().as_bytes());
        for enc in &encodings {
            if let Ok(k) = VerifyingKey::from_bytes(enc) {
                assert_eq!(is_weak_encoding(enc), k.is_weak(), "{}", hex::encode(enc));
            }
        }
        // An R of small order is refused before any arithmetic.
        let key = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        let mut sig = [0u8; 64];
        for enc in SMALL_ORDER {
            sig[..32].copy_from_slice(&enc);
            assert!(prepare(&key, &sig, &[b"m"]).is_none());
        }
    }
}
