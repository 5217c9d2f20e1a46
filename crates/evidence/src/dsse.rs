//! DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1).
//!
//! Canonical serialization of an envelope, which is what is stored and what the chain hashes:
//! compact JSON, keys in the order `payload`, `payloadType`, `signatures`, each signature as
//! `{"keyid":..,"sig":..}`, standard padded base64, no whitespace, no trailing newline.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::identity::Signer;

pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = pae_prefix(payload_type, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The part of [`pae`] before the body (verification hashes it and the body without joining them).
pub fn pae_prefix(payload_type: &str, payload_len: usize) -> Vec<u8> {
    format!("DSSEv1 {} {payload_type} {payload_len} ", payload_type.len()).into_bytes()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

impl Envelope {
    pub fn sign(payload: &[u8], payload_type: &str, signer: &Signer) -> anyhow::Result<Envelope> {
        let sig = signer.sign(&pae(payload_type, payload))?;
        Ok(Envelope {
            payload: B64.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![Signature { keyid: signer.keyid().to_string(), sig: B64.encode(sig) }],
        })
    }

    /// The canonical bytes (see the module documentation).
    pub fn to_canonical(&self) -> Vec<u8> {
        // Field order of the struct is the canonical order; serde_json writes compact JSON.
        serde_json::to_vec(self).expect("an envelope always serializes")
    }

    pub fn payload_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        B64.decode(&self.payload)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
