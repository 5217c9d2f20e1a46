//! Witnessed checkpoints: a second party (the audit function's witness identity) co-signs the
//! head of the evidence chain and keeps what it signed in a store of its own, so that no single
//! writer of the evidence store can shorten it.
//!
//! The format is a C2SP signed note (c2sp.org/signed-note) whose text is a transparency-log
//! checkpoint (c2sp.org/tlog-checkpoint):
//!
//! ```text
//! landing-zone.example/evidence/<sha256 of record 0, hex>
//! <size: the number of records>
//! <base64 of the sha256 of record size-1, the head record>
//! time <RFC 3339, the witness's time of signing>
//! listing <head version id> <record versions> <delete markers> <digest, hex>   (optional)
//! state <seq> <sha256 of the verifier state after record seq, hex>              (optional)
//!
//! — <witness name> <base64(key id || Ed25519 signature)>
//! ```
//!
//! The evidence chain is a hash chain, not a Merkle tree: the hash line carries the hash of the
//! head record (sha256 of its canonical envelope), which commits to every record before it
//! through the previous-hash links. The key id is the first 4 bytes of
//! `SHA-256(name || 0x0A || 0x01 || public key)` (0x01: the Ed25519 signature type); the
//! signature is over the note text, from the origin line through the newline that ends the last
//! extension line. Signatures of names a verifier does not know are skipped, as the signed-note
//! format says; at least one must be by a registered identity with the `witness` role, and
//! every line naming a registered witness must verify.
//!
//! The `listing` extension line (notes without it still verify) says what the witness found by
//! a full listing of the store's object versions when it signed: the version id of the head
//! object (`head.json`) naming this checkpoint, and the record versions and delete markers listed
//! at the record keys up to `size - 1` (with the sha256 of their `key version` lines, in listing
//! order). The witness writes it only when that listing held exactly one version per record key
//! and no delete marker, and the head version is the head its verification checked; a verifier
//! holding such a note ([`crate::vouch`]) lists only the keys after it. A witness whose
//! verification fails signs the latest note's checkpoint again without the line ([`cosign`]).
//!
//! The `state` extension line (issue 36; notes without it still verify) carries the sha256 of the
//! witness's own derived verifier state after record `seq` (`size - 1`), in the canonical form of
//! [`crate::verify::STATE_FORMAT`]: a verifier that derived the same state keeps it and, in a new
//! process, resumes from it without decoding the records before it ([`crate::mirror`]).
//!
//! The witness store is an S3 bucket with COMPLIANCE Object Lock, one object per witnessed
//! checkpoint: `checkpoints/<size:020>/<unix time:012>.note`, written with `If-None-Match: *`;
//! the latest is the last key in listing order. Beside them, under `seed/records/`, the witness
//! publishes the records it verified in segments a verifier without a mirror plants its mirror
//! from ([`seed`]).

use anyhow::{bail, Context, Result};
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::ObjectLockMode;
use aws_sdk_s3::Client;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::identity::{Identities, Role, Signer};
use crate::s3::aws_error;

mod job;
pub mod seed;
pub use job::{cosign, cosign_kept, state_dir, Cosigned, Kept};

/// The origin line's prefix; the chain's record 0 hash follows.
pub const ORIGIN_PREFIX: &str = "landing-zone.example/evidence/";
/// The signature line's mark (U+2014 EM DASH, then a space).
const DASH: &str = "\u{2014} ";
/// The Ed25519 signature type of the signed-note key id.
const ED25519_TYPE: u8 = 0x01;
/// The signature type this project gives an ECDSA P-256 / SHA-256 key (no signed-note standard
/// names one; the key id only has to differ from any ed25519 key's).
const ECDSA_P256_TYPE: u8 = 0x02;
/// Longest note accepted (a checkpoint with a handful of co-signatures is a few hundred bytes).
pub const MAX_NOTE: usize = 16 * 1024;

/// The origin of the chain whose record 0 hashes to `record0` (hex).
pub fn origin_of(record0: &str) -> String {
    format!("{ORIGIN_PREFIX}{record0}")
}

/// The signed-note key id of `name`'s key (Ed25519 as the signed-note format defines it).
pub fn note_keyid(name: &str, key: &crate::keys::PublicKey) -> [u8; 4] {
    let kind = match key.algorithm() {
        crate::keys::Algorithm::Ed25519 => ED25519_TYPE,
        crate::keys::Algorithm::EcdsaP256Sha256 => ECDSA_P256_TYPE,
    };
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, kind]);
    h.update(key.to_bytes());
    h.finalize()[..4].try_into().expect("4 bytes")
}

/// The checkpoint a note carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessCheckpoint {
    pub origin: String,
    /// Records in the chain: the head record is `size - 1`.
    pub size: u64,
    /// sha256 of the head record's canonical envelope, hex.
    pub hash: String,
    /// The witness's time of signing (RFC 3339), from the `time` extension line.
    pub time: String,
    /// What the witness's full listing of the store found up to the checkpoint (the `listing`
    /// extension line; `None` in older notes and when the store holds no versions to list).
    pub listing: Option<Listing>,
    /// The digest of the witness's derived verifier state at the checkpoint (the `state`
    /// extension line; `None` in older notes).
    pub state: Option<StateLine>,
}

/// The `state` extension line: `state <seq> <sha256>`, the digest of the verifier state after
/// record `seq` ([`crate::verify::Resumable::checkpoint`]); `seq` is the checkpoint's `size - 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateLine {
    pub seq: u64,
    /// sha256 (hex) of the state's canonical bytes.
    pub digest: String,
}

impl StateLine {
    fn line(&self) -> String {
        format!("state {} {}", self.seq, self.digest)
    }

    fn parse(text: &str) -> Result<StateLine> {
        let parts: Vec<&str> = text.split(' ').collect();
        let [seq, digest] = parts[..] else { bail!("the state line {text:?} is not \"state SEQ DIGEST\"") };
        let seq = seq.parse::<u64>().ok().filter(|_| seq == "0" || !seq.starts_with('0'));
        match seq {
            Some(seq) if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
                Ok(StateLine { seq, digest: digest.to_string() })
            }
            _ => bail!("the state line {text:?} names no decimal sequence or no lowercase sha256 digest"),
        }
    }
}

/// The `listing` extension line: what a full listing of the store's object versions showed the
/// witness when it signed (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The version id of the head object (`head.json`) that names this checkpoint's record.
    pub head_version: String,
    /// Record versions listed at the keys of records `0 ..= size - 1`.
    pub versions: u64,
    /// Delete markers listed at those keys.
    pub markers: u64,
    /// sha256 (hex) of the `key version` lines of those versions and markers, in listing order.
    pub digest: String,
}

impl Listing {
    fn line(&self) -> String {
        format!("listing {} {} {} {}", self.head_version, self.versions, self.markers, self.digest)
    }

    fn parse(text: &str) -> Result<Listing> {
        let parts: Vec<&str> = text.split(' ').collect();
        let [head_version, versions, markers, digest] = parts[..] else {
            bail!("the listing line {text:?} is not \"listing HEAD-VERSION VERSIONS MARKERS DIGEST\"")
        };
        let number = |s: &str| s.parse::<u64>().ok().filter(|_| s == "0" || !s.starts_with('0'));
        let (Some(versions), Some(markers)) = (number(versions), number(markers)) else {
            bail!("the listing line {text:?} does not count in decimal numbers")
        };
        if head_version.is_empty() || digest.len() != 64 || hex::decode(digest).is_err() {
            bail!("the listing line {text:?} names no head version or no sha256 digest")
        }
        Ok(Listing { head_version: head_version.to_string(), versions, markers, digest: digest.to_string() })
    }
}

impl WitnessCheckpoint {
    /// The note text (signed-note body): origin, size, base64 hash, the `time` extension line,
    /// then the `listing` line when there is one.
    pub fn text(&self) -> String {
        let hash = hex::decode(&self.hash).expect("a checkpoint hash is hex");
        let listing = self.listing.as_ref().map(|l| format!("{}\n", l.line())).unwrap_or_default();
        let state = self.state.as_ref().map(|l| format!("{}\n", l.line())).unwrap_or_default();
        format!("{}\n{}\n{}\ntime {}\n{listing}{state}", self.origin, self.size, B64.encode(hash), self.time)
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub keyid: [u8; 4],
    pub signature: [u8; 64],
}

/// A parsed signed note: its text and signature lines (not checked yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub checkpoint: WitnessCheckpoint,
    pub signatures: Vec<NoteSignature>,
}

/// Signs `checkpoint` as the witness `signer`: the note's bytes.
pub fn sign(checkpoint: &WitnessCheckpoint, signer: &Signer) -> Result<Vec<u8>> {
    let text = checkpoint.text();
    let keyid = note_keyid(signer.identity(), &signer.public_key());
    let mut blob = keyid.to_vec();
    blob.extend_from_slice(&signer.sign(text.as_bytes())?);
    Ok(format!("{text}\n{DASH}{} {}\n", signer.identity(), B64.encode(blob)).into_bytes())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Parses a note (no signature is checked here); the error says what is malformed.
pub fn parse(bytes: &[u8]) -> Result<Note> {
    if bytes.len() > MAX_NOTE {
        bail!("the note is {} bytes, more than the {MAX_NOTE} a checkpoint note may have", bytes.len());
    }
    let all = std::str::from_utf8(bytes).context("the note is not UTF-8")?;
    let (text, sigs) = all.split_once("\n\n").context("the note has no blank line between its text and its signatures")?;
    let text = format!("{text}\n");
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 3 {
        bail!("the checkpoint has {} lines; it needs an origin, a size and a hash", lines.len());
    }
    if lines.iter().any(|l| l.is_empty()) {
        bail!("the checkpoint text has an empty line");
    }
    let origin = lines[0].to_string();
    let size: u64 = lines[1]
        .parse()
        .ok()
        .filter(|_| lines[1] == "0" || !lines[1].starts_with('0'))
        .with_context(|| format!("the size line {:?} is not a decimal number", lines[1]))?;
    let hash = B64
        .decode(lines[2])
        .ok()
        .filter(|h| h.len() == 32 && B64.encode(h) == lines[2])
        .with_context(|| format!("the hash line {:?} is not the base64 of 32 bytes", lines[2]))?;
    let mut time = None;
    let mut listing = None;
    let mut state = None;
    for ext in &lines[3..] {
        if let Some(l) = ext.strip_prefix("state ") {
            let line = StateLine::parse(l)?;
            if line.seq.checked_add(1) != Some(size) {
                bail!("the state line {ext:?} names record {}, not the checkpoint's last ({})", line.seq, size.saturating_sub(1));
            }
            if state.replace(line).is_some() {
                bail!("the checkpoint has two state lines");
            }
        }
        if let Some(l) = ext.strip_prefix("listing ") {
            if listing.replace(Listing::parse(l)?).is_some() {
                bail!("the checkpoint has two listing lines");
            }
        }
        if let Some(t) = ext.strip_prefix("time ") {
            if time.replace(t.to_string()).is_some() {
                bail!("the checkpoint has two time lines");
            }
            crate::record::parse_time(t).with_context(|| format!("the time line {ext:?} is not an RFC 3339 time"))?;
        }
    }
    let time = time.context("the checkpoint has no `time` extension line (the witness's time of signing)")?;
    if !sigs.ends_with('\n') {
        bail!("the last signature line does not end with a newline");
    }
    let mut signatures = Vec::new();
    for line in sigs.lines() {
        let rest = line.strip_prefix(DASH).with_context(|| format!("signature line {line:?} does not start with \"\u{2014} \""))?;
        let (name, blob) = rest.rsplit_once(' ').with_context(|| format!("signature line {line:?} is not \"\u{2014} NAME SIGNATURE\""))?;
        if !valid_name(name) {
            bail!("signature line {line:?}: {name:?} is not a key name");
        }
        let blob = B64.decode(blob).with_context(|| format!("signature line {line:?}: the signature is not base64"))?;
        if blob.len() < 4 {
            bail!("signature line {line:?}: the signature is shorter than its key id");
        }
        // Signatures of other types (other lengths) are kept out: only Ed25519 ones are read.
        if blob.len() == 68 {
            signatures.push(NoteSignature {
                name: name.to_string(),
                keyid: blob[..4].try_into().expect("4 bytes"),
                signature: blob[4..].try_into().expect("64 bytes"),
            });
        }
    }
    if sigs.lines().next().is_none() {
        bail!("the note has no signature line");
    }
    Ok(Note { checkpoint: WitnessCheckpoint { origin, size, hash: hex::encode(hash), time, listing, state }, text, signatures })
}

impl Note {
    /// The registered witnesses (role `witness` in `register`) whose signatures hold; an error
    /// when a line naming a registered witness does not verify, or when none is by one.
    pub fn witnesses(&self, register: &Identities) -> Result<Vec<String>, String> {
        let mut ok = Vec::new();
        for s in &self.signatures {
            let Some(id) = register.get(&s.name) else { continue };
            if !id.has_role(Role::Witness) {
                continue;
            }
            if note_keyid(&id.name, &id.public_key) != s.keyid {
                // Another key under the same name (a key the register does not hold).
                continue;
            }
            if !id.public_key.verify(&s.signature, &[self.text.as_bytes()]) {
                return Err(format!("the signature of witness {} does not verify", s.name));
            }
            ok.push(id.name.clone());
        }
        if ok.is_empty() {
            let names: Vec<&str> = self.signatures.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "it is signed by no registered witness (signature lines: {}; a witness needs the `witness` role and its registered key)",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ));
        }
        Ok(ok)
    }
}

/// A witnessed checkpoint as a verifier receives it: the note's bytes and where they came from.
#[derive(Clone, Debug)]
pub struct Witnessed {
    pub note: Vec<u8>,
    pub source: String,
}

// ---------------------------------------------------------------------------------------------
// The witness store

/// The witness's own store: an S3 bucket with COMPLIANCE Object Lock holding one note per
/// witnessed checkpoint.
pub struct WitnessStore {
    client: Client,
    bucket: String,
    retention_days: u32,
    rt: tokio::runtime::Runtime,
}

impl WitnessStore {
    /// The store of `bucket`, which must have COMPLIANCE Object Lock with a default retention.
    pub fn open(client: Client, bucket: &str) -> Result<WitnessStore> {
        let days = crate::s3::S3Store::open_worm(client.clone(), bucket, "")
            .with_context(|| format!("s3://{bucket} is not a witness store (COMPLIANCE Object Lock): run `cargo xtask bootstrap --stores`"))?
            .retention_days();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a tokio runtime")?;
        Ok(WitnessStore { client, bucket: bucket.to_string(), retention_days: days, rt })
    }

    /// Creates the bucket with COMPLIANCE Object Lock for `days` (an existing bucket's retention
    /// is left as it is), then opens it.
    pub fn create(client: Client, bucket: &str, days: u32) -> Result<WitnessStore> {
        crate::s3::S3Store::new(client.clone(), bucket, "", days)?.ensure_bucket()?;
        WitnessStore::open(client, bucket)
    }

    pub fn describe(&self) -> String {
        format!("s3://{}/checkpoints/", self.bucket)
    }

    /// Where `key` is: `s3://<bucket>/<key>`.
    pub fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    /// Whether `part` of a key is exactly `n` ASCII digits (the zero-padded numbers of the
    /// store's keys: a `+` or a shorter number is another key).
    pub fn key_digits(part: &str, n: usize) -> bool {
        part.len() == n && part.bytes().all(|b| b.is_ascii_digit())
    }

    pub fn key(size: u64, unix: i64) -> String {
        format!("checkpoints/{size:020}/{unix:012}.note")
    }

    /// The latest witnessed checkpoint (the last key), if any. A note whose size and time are
    /// not those its key names is an error: the key order is what makes it the latest (review of
    /// issue 36, finding 7: a note copied under a later key).
    pub fn latest(&self) -> Result<Option<Witnessed>> {
        self.rt.block_on(async {
            let mut keys = crate::s3::list_keys(&self.client, &self.bucket, "checkpoints/").await?;
            keys.sort();
            let Some(key) = keys.pop() else { return Ok(None) };
            let note = crate::s3::get_object(&self.client, &self.bucket, &key)
                .await?
                .with_context(|| format!("s3://{}/{key} was listed and then not found", self.bucket))?;
            if let Ok(n) = parse(&note) {
                let signed = crate::record::parse_time(&n.checkpoint.time).map(|t| t.unix_timestamp()).unwrap_or(-1);
                if key != WitnessStore::key(n.checkpoint.size, signed) {
                    bail!(
                        "s3://{}/{key}: the note witnesses {} records at {}, which is not what its key names (a note copied under another key)",
                        self.bucket,
                        n.checkpoint.size,
                        n.checkpoint.time
                    );
                }
            }
            Ok(Some(Witnessed { note, source: format!("witnessed checkpoint s3://{}/{key}", self.bucket) }))
        })
    }

    /// Every key under `prefix` with its object's size in bytes (the mirror seeds, [`seed`]; the
    /// replay verdicts): a reader refuses an object larger than it expects before reading it.
    pub fn keys_under(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        let listed = self.rt.block_on(crate::s3::list_keys_sized(&self.client, &self.bucket, prefix))?;
        // An object the listing gives no size for is not read.
        Ok(listed.into_iter().filter_map(|(k, size)| Some((k, size?))).collect())
    }

    /// The object at `key`, `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.rt.block_on(crate::s3::get_object(&self.client, &self.bucket, key))
    }

    /// [`WitnessStore::get`] of an object of at most `max` bytes (a larger one is an error, its
    /// body never read).
    pub fn get_at_most(&self, key: &str, max: u64) -> Result<Option<Vec<u8>>> {
        self.rt.block_on(crate::s3::get_object_at_most(&self.client, &self.bucket, key, Some(max)))
    }

    /// Writes `note` under `key` once (`If-None-Match: *`, retained COMPLIANCE). `Ok(false)`
    /// when the same bytes are already there (a rerun, or a retry after a lost answer); a
    /// different object under the key is an error.
    pub fn put(&self, key: &str, note: &[u8]) -> Result<bool> {
        let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
            + u64::from(self.retention_days) * 86_400;
        self.rt.block_on(async {
            let res = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .if_none_match("*")
                .object_lock_mode(ObjectLockMode::Compliance)
                .object_lock_retain_until_date(DateTime::from_secs(until as i64))
                .content_type("text/plain; charset=utf-8")
                .body(ByteStream::from(note.to_vec()))
                .send()
                .await;
            match res {
                Ok(_) => Ok(true),
                Err(e) if crate::s3::conflict(&e) => {
                    let stored = crate::s3::get_object(&self.client, &self.bucket, key).await?.unwrap_or_default();
                    if stored == note {
                        Ok(false)
                    } else {
                        bail!("s3://{}/{key} already holds another note", self.bucket)
                    }
                }
                Err(e) => Err(aws_error(e)).with_context(|| format!("cannot write s3://{}/{key}", self.bucket)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{encode_public_key, Signer};
    use ed25519_dalek::SigningKey;

    fn register(witness_key: &SigningKey) -> Identities {
        let text = format!(
            "[identity.audit-witness]\nname = \"Audit witness\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{}\"\n\n\
             [identity.deployer-bot]\nname = \"Deployer\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n",
            encode_public_key(&witness_key.verifying_key()),
            encode_public_key(&SigningKey::from_bytes(&[2; 32]).verifying_key())
        );
        Identities::parse(&text, "test register").unwrap()
    }

    fn checkpoint() -> WitnessCheckpoint {
        WitnessCheckpoint { origin: origin_of(&"ab".repeat(32)), size: 7, hash: "cd".repeat(32), time: "2026-12-06T18:00:00Z".into(), listing: None, state: None }
    }

    #[test]
    fn a_listing_line_is_signed_and_read_back_and_an_old_note_still_reads() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let listing = Listing { head_version: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY".into(), versions: 7, markers: 0, digest: "ef".repeat(32) };
        let cp = WitnessCheckpoint { listing: Some(listing.clone()), ..checkpoint() };
        let note = sign(&cp, &Signer::new("audit-witness", key.clone())).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert_eq!(text.lines().nth(4), Some(format!("listing 3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY 7 0 {}", "ef".repeat(32)).as_str()));
        let parsed = parse(&note).unwrap();
        assert_eq!(parsed.checkpoint.listing, Some(listing));
        assert!(parsed.witnesses(&register(&key)).is_ok());
        // The line is signed: a count changed breaks the witness's signature.
        let moved = text.replacen(" 7 0 ", " 6 0 ", 1);
        assert!(parse(moved.as_bytes()).unwrap().witnesses(&register(&key)).is_err());
        // A note without it (older witnesses) reads as before.
        assert_eq!(parse(&sign(&checkpoint(), &Signer::new("audit-witness", key)).unwrap()).unwrap().checkpoint.listing, None);
        for bad in ["listing v1 7 0", "listing v1 07 0 ab", &format!("listing v1 7 x {}", "ef".repeat(32))] {
            assert!(parse(text.replacen(text.lines().nth(4).unwrap(), bad, 1).as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_signed_note_has_the_c2sp_layout_and_verifies() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let note = sign(&checkpoint(), &Signer::new("audit-witness", key.clone())).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], format!("landing-zone.example/evidence/{}", "ab".repeat(32)));
        assert_eq!(lines[1], "7");
        assert_eq!(lines[2], B64.encode([0xcd; 32]));
        assert_eq!(lines[3], "time 2026-12-06T18:00:00Z");
        assert_eq!(lines[4], "");
        assert!(lines[5].starts_with("\u{2014} audit-witness "), "{text}");
        assert_eq!(lines[6], "", "the note ends with a newline");
        // Key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || key), computed here by hand.
        let mut pre = b"audit-witness\n\x01".to_vec();
        pre.extend_from_slice(key.verifying_key().as_bytes());
        let blob = B64.decode(lines[5].rsplit(' ').next().unwrap()).unwrap();
        assert_eq!(blob[..4], Sha256::digest(&pre)[..4]);
        // The signature is over the text through the newline of the last extension line.
        let text_part = format!("{}\n{}\n{}\n{}\n", lines[0], lines[1], lines[2], lines[3]);
        assert!(crate::sig::verify(&key.verifying_key(), blob[4..].try_into().unwrap(), &[text_part.as_bytes()]));
        let parsed = parse(&note).unwrap();
        assert_eq!(parsed.checkpoint, checkpoint());
        assert_eq!(parsed.witnesses(&register(&key)).unwrap(), vec!["audit-witness".to_string()]);
    }

    #[test]
    fn a_note_is_refused_when_altered_or_signed_by_no_registered_witness() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let reg = register(&key);
        let note = String::from_utf8(sign(&checkpoint(), &Signer::new("audit-witness", key.clone())).unwrap()).unwrap();
        // A size moved back: the witness's signature no longer holds.
        let moved = note.replacen("\n7\n", "\n5\n", 1);
        let err = parse(moved.as_bytes()).unwrap().witnesses(&reg).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
        // Signed by the deployer's key, under the deployer's name: not a witness.
        let by_deployer = sign(&checkpoint(), &Signer::new("deployer-bot", SigningKey::from_bytes(&[2; 32]))).unwrap();
        let err = parse(&by_deployer).unwrap().witnesses(&reg).unwrap_err();
        assert!(err.contains("no registered witness"), "{err}");
        // Under the witness's name with another key: the key id differs, so no witness signed.
        let forged = sign(&checkpoint(), &Signer::new("audit-witness", SigningKey::from_bytes(&[3; 32]))).unwrap();
        assert!(parse(&forged).unwrap().witnesses(&reg).is_err());
        // A co-signature by an unknown name is skipped; the witness's still counts.
        let other = String::from_utf8(sign(&checkpoint(), &Signer::new("someone-else", SigningKey::from_bytes(&[4; 32]))).unwrap()).unwrap();
        let both = format!("{note}{}", other.lines().last().unwrap().to_owned() + "\n");
        assert_eq!(parse(both.as_bytes()).unwrap().witnesses(&reg).unwrap(), vec!["audit-witness".to_string()]);
        // Malformed notes are refused naming what is wrong.
        for (bad, says) in [
            (note.replacen("\n\n", "\n", 1), "no blank line"),
            (note.replacen("\n7\n", "\n07\n", 1), "size line"),
            (note.replacen("time ", "tim ", 1), "no `time`"),
            (note.trim_end().to_string(), "newline"),
        ] {
            let err = format!("{:#}", parse(bad.as_bytes()).unwrap_err());
            assert!(err.contains(says), "{says}: {err}");
        }
    }
}
