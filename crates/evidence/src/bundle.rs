//! Self-contained evidence bundles for offline verification.
//!
//! A bundle is a JSON Lines file: line 1 is a header (format, release, checkpoint, the
//! identities register as text, the sequences that concern the release), then every envelope
//! of the chain from sequence 0 to the checkpoint. The whole prefix is included because the
//! absence of deletions can only be shown with every link.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::dsse::sha256_hex;
use crate::identity::Identities;
use crate::store::{Checkpoint, StoredRecord};

pub const BUNDLE_FORMAT: &str = "lz-evidence-bundle/v1";

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
}

pub struct Bundle {
    pub header: BundleHeader,
    pub identities: Identities,
    pub records: Vec<StoredRecord>,
}

pub fn write_bundle(out: &Path, header: &BundleHeader, records: &[StoredRecord]) -> Result<()> {
    let mut buf = serde_json::to_vec(header)?;
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
    let header: BundleHeader =
        serde_json::from_slice(first).map_err(|e| anyhow::anyhow!("{shown}:1: not a bundle header: {e}"))?;
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
    Ok(Bundle { header, identities, records })
}
