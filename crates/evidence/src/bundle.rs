//! Self-contained evidence bundles for offline verification.
//!
//! A bundle is a JSON Lines file: line 1 is the header (format, release, checkpoint, the
//! identities register as text, the sequences that concern the release, the exporter, and the
//! latest witnessed checkpoint, a C2SP signed note, see [`crate::witness`]) in a DSSE envelope
//! signed by the exporter, then every envelope of the chain from sequence 0 to the checkpoint.
//! The whole prefix is included because the absence of deletions can only be shown with every
//! link; the witnessed checkpoint shows how long the chain was, whoever cut the bundle.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::dsse::{pae, sha256_hex, Envelope};
use crate::identity::{Identities, Signer};
use crate::store::{Checkpoint, StoredRecord};

pub const BUNDLE_FORMAT: &str = "lz-evidence-bundle/v2";
/// DSSE payload type of a bundle's signed header.
pub const HEADER_PAYLOAD_TYPE: &str = "application/vnd.landing-zone.bundle-header+json";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleHeader {
    pub format: String,
    pub release: String,
    pub exported: String,
    pub checkpoint: Checkpoint,
    /// sha256 of `identities`.
    pub identities_sha256: String,
    pub identities: String,
    pub records: usize,
    pub focus: Vec<u64>,
    /// The registered identity that exported the bundle and signed this header.
    pub exporter: String,
    /// The latest witnessed checkpoint of the chain when it was exported (the note's text).
    pub witnessed: Option<String>,
}

pub struct Bundle {
    pub header: BundleHeader,
    /// The header as signed by the exporter.
    pub signed_header: Envelope,
    pub identities: Identities,
    pub records: Vec<StoredRecord>,
}

/// Writes a bundle whose header `signer` (the exporter, `header.exporter`) signs.
pub fn write_bundle(out: &Path, header: &BundleHeader, records: &[StoredRecord], signer: &Signer) -> Result<()> {
    let mut buf = Envelope::sign(&serde_json::to_vec(header)?, HEADER_PAYLOAD_TYPE, signer)?.to_canonical();
    buf.push(b'\n');
    for r in records {
        buf.extend_from_slice(&r.bytes);
        buf.push(b'\n');
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut f = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    f.write_all(&buf)?;
    f.sync_all()?;
    Ok(())
}

pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let data = std::fs::read(path).with_context(|| format!("cannot read bundle {}", path.display()))?;
    let shown = path.display().to_string();
    let mut lines = data.split(|b| *b == b'\n').enumerate();
    let (_, first) = lines.next().context("empty bundle")?;
    let signed_header: Envelope = serde_json::from_slice(first)
        .map_err(|e| anyhow::anyhow!("{shown}:1: not a signed bundle header (a DSSE envelope; bundles before {BUNDLE_FORMAT} carry an unsigned header: export again): {e}"))?;
    if signed_header.payload_type != HEADER_PAYLOAD_TYPE {
        bail!("{shown}:1: the header's payloadType is {:?}, expected {HEADER_PAYLOAD_TYPE:?}", signed_header.payload_type);
    }
    let payload = signed_header.payload_bytes().map_err(|e| anyhow::anyhow!("{shown}:1: the header's payload is not base64: {e}"))?;
    let header: BundleHeader =
        serde_json::from_slice(&payload).map_err(|e| anyhow::anyhow!("{shown}:1: not a bundle header: {e}"))?;
    if header.format != BUNDLE_FORMAT {
        bail!("{shown}:1: bundle format {:?}, expected {BUNDLE_FORMAT:?}", header.format);
    }
    if sha256_hex(header.identities.as_bytes()) != header.identities_sha256 {
        bail!("{shown}:1: the identities snapshot does not match its recorded sha256");
    }
    let identities = Identities::parse(&header.identities, &format!("{shown} (identities snapshot)"))?;
    let mut records = Vec::new();
    let mut saw_end = false;
    for (i, line) in lines {
        if saw_end {
            bail!("{shown}:{}: empty line inside the bundle", i);
        }
        if line.is_empty() {
            saw_end = true;
            continue;
        }
        records.push(StoredRecord { location: format!("{shown}:{}", i + 1), bytes: crate::store::Bytes::copy_from_slice(line) });
    }
    if !saw_end {
        bail!("{shown}: incomplete last line (no newline)");
    }
    Ok(Bundle { header, signed_header, identities, records })
}

impl Bundle {
    /// Checks the exporter's signature of the header against `register` (the register in force
    /// at the end of the bundle's verified chain): the signing key is registered, the signature
    /// holds, and it is the key of the identity the header names as exporter.
    pub fn check_exporter(&self, register: &Identities) -> Result<String, String> {
        let env = &self.signed_header;
        if env.signatures.len() != 1 {
            return Err(format!("the header has {} signatures, expected exactly 1 (the exporter's)", env.signatures.len()));
        }
        let s = &env.signatures[0];
        let id = register.by_keyid(&s.keyid).ok_or_else(|| format!("the header is signed with key {} which belongs to no registered identity", s.keyid))?;
        let sig = B64
            .decode(&s.sig)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| "the header's signature is not 64 bytes of base64".to_string())?;
        let payload = env.payload_bytes().map_err(|e| e.to_string())?;
        if !id.public_key.verify(&sig, &[&pae(HEADER_PAYLOAD_TYPE, &payload)]) {
            return Err(format!("the header's signature does not verify with the key of {}", id.name));
        }
        if id.name != self.header.exporter {
            return Err(format!("the header is signed by {} but names {} as its exporter", id.name, self.header.exporter));
        }
        Ok(id.name.clone())
    }
}
