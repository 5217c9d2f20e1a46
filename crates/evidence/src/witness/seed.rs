//! Mirror seeds: after co-signing a checkpoint, the witness publishes the chain's record
//! objects it verified in segments of [`SEGMENT`] records into its own store
//! (`seed/records/<first sequence:020>-<count:06>.jsonl`, one object per line, written once
//! under COMPLIANCE Object Lock like the notes). A verifier with no mirror of its own (a fresh
//! CI runner) plants its mirror ([`crate::mirror::Mirror`]) from the segments with one GET per
//! segment instead of one GET per record, then reads from the evidence store only the records
//! after them.
//!
//! A seed is a performance aid and never a trust root, for the reasons the mirror is not one:
//! every seeded record is verified again (signatures, roles, the hash chain, the kind rules),
//! the record the seed ends with must be the store's record at that sequence byte for byte, the
//! store's signed head, its versions and its object count are read as without a seed, and any
//! mismatch means a full verification from the evidence store, whose verdict is the one given.
//! Whoever can write the witness store can only make a verifier read more.

use anyhow::{Context, Result};

use super::WitnessStore;
use crate::mirror::Mirror;
use crate::store::StoredRecord;

/// Records per segment the witness job publishes.
pub const SEGMENT: u64 = 1000;

const PREFIX: &str = "seed/records/";

fn key(first: u64, count: u64) -> String {
    format!("{PREFIX}{first:020}-{count:06}.jsonl")
}

/// The largest segment object read (a segment of larger records is left, and its records are
/// read from the evidence store): whoever can write the witness store cannot make a verifier
/// read gigabytes.
pub const MAX_SEGMENT_BYTES: u64 = 64 << 20;

/// The segments under the store's seed prefix, in order: (first sequence, count, key, bytes).
/// Only keys of the exact shape (20 and 6 ASCII digits) count; others are ignored.
fn segments(ws: &WitnessStore) -> Result<Vec<(u64, u64, String, u64)>> {
    let mut out: Vec<(u64, u64, String, u64)> = ws
        .keys_under(PREFIX)?
        .into_iter()
        .filter_map(|(k, size)| {
            let name = k.strip_prefix(PREFIX)?.strip_suffix(".jsonl")?;
            let (first, count) = name.split_once('-')?;
            if !WitnessStore::key_digits(first, 20) || !WitnessStore::key_digits(count, 6) {
                return None;
            }
            let parsed = (first.parse::<u64>().ok()?, count.parse::<u64>().ok()?);
            (parsed.1 > 0).then_some((parsed.0, parsed.1, k, size))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Publishes the segments of `records` (the objects at the chain's record keys, from sequence
/// 0, as the witness verified them) that are whole below `upto` (the witnessed size) and not
/// published yet, `segment` records each. Returns how many it wrote. Objects not at
/// consecutive record keys (a foreign object between records) end what can be published.
pub fn publish(ws: &WitnessStore, records: &[StoredRecord], upto: u64, segment: u64) -> Result<usize> {
    let Some(keys) = records.first().and_then(|r| r.location.strip_suffix(&format!("{:012}.json", 0))) else { return Ok(0) };
    let consecutive = records.iter().enumerate().take_while(|(i, r)| r.location == format!("{keys}{i:012}.json")).count();
    publish_objects(ws, records[..consecutive].iter().map(|r| Ok(&r.bytes[..])), consecutive as u64, upto, segment)
}

/// `objects` (the chain's objects from sequence 0) each held to `hash_at(sequence)`, the hash a
/// verification holds for it: an object whose SHA-256 differs, or one past what the
/// verification holds, ends the iteration with an error, so no segment holding it is written.
pub(crate) fn as_verified<T: AsRef<[u8]>>(
    objects: impl Iterator<Item = Result<T>>,
    hash_at: impl Fn(u64) -> Option<String>,
) -> impl Iterator<Item = Result<T>> {
    objects.zip(0u64..).map(move |(o, seq)| {
        let o = o?;
        let held = hash_at(seq).with_context(|| format!("record {seq}: beyond the verified chain"))?;
        let got = crate::dsse::sha256_hex(o.as_ref());
        anyhow::ensure!(got == held, "record {seq}: the object to seed ({}) is not the one verified ({})", &got[..12], &held[..held.len().min(12)]);
        Ok(o)
    })
}

/// [`publish`] from `count` objects at consecutive record keys from sequence 0, given one at a
/// time (the witness's kept state, [`super::cosign_kept`]): only the segments to write are held.
pub(crate) fn publish_objects<T: AsRef<[u8]>>(
    ws: &WitnessStore,
    mut objects: impl Iterator<Item = Result<T>>,
    count: u64,
    upto: u64,
    segment: u64,
) -> Result<usize> {
    anyhow::ensure!(segment > 0, "a seed segment holds at least one record");
    let consecutive = count;
    let have = segments(ws)?;
    // Segments continue the run published so far (a run that does not start at 0, or has a
    // gap, is left as it is: fetching stops at the gap).
    let mut next = 0u64;
    for (first, count, _, _) in &have {
        if *first == next && *count == segment {
            next += count;
        }
    }
    let mut written = 0;
    let mut at = 0u64;
    while next + segment <= upto.min(consecutive) {
        while at < next {
            objects.next().context("fewer objects than counted")??;
            at += 1;
        }
        let mut body = Vec::new();
        for _ in 0..segment {
            let r = objects.next().context("fewer objects than counted")??;
            let r = r.as_ref();
            anyhow::ensure!(!r.contains(&b'\n'), "record {at}: a record object holds a newline");
            body.extend_from_slice(r);
            body.push(b'\n');
            at += 1;
        }
        if ws.put(&key(next, segment), &body)? {
            written += 1;
        }
        next += segment;
    }
    Ok(written)
}

/// Plants `mirror` from the published segments when it holds nothing yet: the consecutive run
/// of segments of `segment` records from sequence 0, up to `upto` records (the size the latest
/// usable witness note vouches for), one GET per segment. `keys` is where the evidence store
/// keeps the object of sequence N (this, then `N:012` and `.json`). Returns the number of
/// records planted (0: nothing published, or the mirror already held records). Keys of another
/// count or that overlap the run are skipped; a segment larger than [`MAX_SEGMENT_BYTES`], or
/// that is not what its key says (another line count), ends the run there.
pub fn plant(ws: &WitnessStore, mirror: &Mirror, keys: &str, segment: u64, upto: u64) -> Result<u64> {
    if mirror.holds_records() {
        return Ok(0);
    }
    let mut lines: Vec<u8> = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    let mut next = 0u64;
    for (first, count, key, size) in segments(ws)? {
        if count != segment || first < next {
            continue;
        }
        if first != next || next + count > upto || size > MAX_SEGMENT_BYTES {
            break;
        }
        let body = ws.get_at_most(&key, MAX_SEGMENT_BYTES)?.with_context(|| format!("{} was listed and then not found", ws.location(&key)))?;
        let objects: Vec<&[u8]> = body.strip_suffix(b"\n").unwrap_or(&body).split(|b| *b == b'\n').collect();
        if objects.len() as u64 != count || objects.iter().any(|o| o.is_empty()) {
            break;
        }
        last = objects.last().map(|o| o.to_vec());
        lines.extend_from_slice(&body);
        if !body.ends_with(b"\n") {
            lines.push(b'\n');
        }
        next += count;
    }
    let Some(last) = last else { return Ok(0) };
    mirror.plant(keys, &lines, next, &crate::dsse::sha256_hex(&last))?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    #[test]
    fn an_object_other_than_the_verified_one_is_never_seeded() {
        let objects = [b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec(), b"{\"c\":3}".to_vec()];
        let verified: Vec<String> = objects.iter().map(|o| hex::encode(sha2::Sha256::digest(o))).collect();
        let hash_at = |v: Vec<String>| move |seq: u64| v.get(seq as usize).cloned();
        let read = |objs: &[Vec<u8>], v: Vec<String>| super::as_verified(objs.iter().cloned().map(Ok), hash_at(v)).collect::<anyhow::Result<Vec<_>>>();
        assert_eq!(read(&objects, verified.clone()).unwrap(), objects);
        // The state file changed after the verification: its record 1 is not the verified one.
        let mut edited = objects.clone();
        edited[1] = b"{\"b\":3}".to_vec();
        let e = read(&edited, verified.clone()).unwrap_err().to_string();
        assert!(e.starts_with("record 1: the object to seed"), "{e}");
        // A line past what the verification holds.
        let mut longer = objects.to_vec();
        longer.push(b"{\"d\":4}".to_vec());
        let e = read(&longer, verified).unwrap_err().to_string();
        assert!(e.contains("record 3: beyond the verified chain"), "{e}");
    }
}
