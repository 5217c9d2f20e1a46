//! Replay verdicts the witness signs. Replaying a deployment's admission opens its release,
//! renders its plan and evaluates its policies (about 0.2 s each), so a process that replays
//! every deployment of a long chain pays that for each one, on every command. The audit
//! function's witness, on its schedule, replays the chain it co-signed and signs the verdicts
//! (`replays/<size:020>/<unix time:012>-<witness>.json` in its store: a DSSE envelope of
//! [`Verdicts`], written once under COMPLIANCE Object Lock); a command takes the verdicts of the
//! deployments below the signed size from the newest of them that holds (of the last
//! [`CANDIDATES`]) and replays only the deployments after it.
//!
//! What a command believes of them, and why:
//! - only verdicts signed with the registered key of an identity holding the `witness` role in
//!   the register in force (a deployer's, an author's or a retired witness's signature counts
//!   for nothing), whose `hash` is the hash of record `size - 1` of the chain the command
//!   verified (so they speak of this chain and no other);
//! - anything else (no verdicts, unreadable, forged, another chain) means replaying every
//!   deployment, as without them: whoever can write the witness store can only make a command
//!   replay more;
//! - a deployment admitted by them still needed its deployer's key to be written: admitting a
//!   deployment that fails its replay takes two keys (the deployer's and the witness's), and
//!   `evidence verify --full` (or any run with them turned off) replays every one again.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use base64::Engine as _;
use lz_evidence::dsse::{pae, Envelope};
use lz_evidence::witness::WitnessStore;
use lz_evidence::{Identities, Role, Signer};
use serde::{Deserialize, Serialize};

/// The payload type of a verdicts envelope.
pub const PAYLOAD_TYPE: &str = "application/vnd.lz.replay-verdicts+json";

const PREFIX: &str = "replays/";

/// What the witness signs: every successful deployment below sequence `size` was replayed,
/// and those in `rejected` have no valid admission (sequence -> why).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdicts {
    /// The witness's register name.
    pub witness: String,
    /// The records judged: sequences `0..size`.
    pub size: u64,
    /// The hash of record `size - 1` (sha256 of its canonical envelope).
    pub hash: String,
    /// When the witness signed (RFC 3339, its own clock: informative, no decision reads it).
    pub time: String,
    pub rejected: BTreeMap<u64, String>,
}

/// Where the verdicts of the first `size` records, signed by `witness` at `unix` (seconds),
/// are kept: the key orders by size, then by time.
pub fn key(size: u64, unix: i64, witness: &str) -> String {
    format!("{PREFIX}{size:020}/{unix:012}-{witness}.json")
}

/// Verdicts objects a command reads, newest first, before it gives up and replays everything:
/// objects written under later keys by someone who is not a witness cost a read each.
pub const CANDIDATES: usize = 8;

/// The signed envelope of `v` (canonical bytes).
pub fn sign(v: &Verdicts, signer: &Signer) -> Result<Vec<u8>> {
    Ok(Envelope::sign(&serde_json::to_vec(v)?, PAYLOAD_TYPE, signer)?.to_canonical())
}

/// Writes `v` signed by `signer` into `ws` once (its key names the signing time, whole seconds
/// of `v.time`); `Ok(false)` when the same bytes are there. Returns where, too.
pub fn put(ws: &WitnessStore, v: &Verdicts, signer: &Signer) -> Result<(String, bool)> {
    let unix = lz_evidence::record::parse_time(&v.time).map(|t| t.unix_timestamp()).with_context(|| format!("verdicts time {:?}", v.time))?;
    let key = key(v.size, unix, signer.identity());
    let new = ws.put(&key, &sign(v, signer)?)?;
    Ok((ws.location(&key), new))
}

/// [`put`], moving the signing time on a second (up to 5 times) when someone else's object
/// already holds the key (whoever can write the witness store can take a key first; they cannot
/// stop the witness from signing).
pub fn put_retrying(ws: &WitnessStore, mut v: Verdicts, signer: &Signer) -> Result<(Verdicts, String, bool)> {
    let mut last = None;
    for _ in 0..5 {
        match put(ws, &v, signer) {
            Ok((location, new)) => return Ok((v, location, new)),
            Err(e) => {
                let t = lz_evidence::record::parse_time(&v.time).with_context(|| format!("verdicts time {:?}", v.time))?;
                v.time = lz_evidence::record::format_time(t + time::Duration::seconds(1));
                last = Some(e);
            }
        }
    }
    Err(last.expect("five attempts were made"))
}

/// The largest verdicts object read: whoever can write the witness store cannot make a command
/// read more (the listing leaves larger ones out, and the GET refuses a larger version written
/// since before reading its body).
pub const MAX_BYTES: u64 = 8 << 20;

/// The keys of the latest [`CANDIDATES`] verdicts objects of `ws` signed under the name of one
/// of `witnesses` (the register's witnesses), newest (last key) first. Keys of another shape, of
/// another signer, naming more records than the verified chain holds (`records`: junk keys
/// that sort newest would otherwise crowd out the real verdicts for good), or objects larger
/// than [`MAX_BYTES`] are left out. Their objects are read one by one ([`read`]), newest first,
/// until one holds: a command that takes the newest reads one.
pub fn newest(ws: &WitnessStore, witnesses: &[&str], records: u64) -> Result<Vec<String>> {
    let shaped = |k: &str| -> bool {
        let Some(rest) = k.strip_prefix(PREFIX).and_then(|r| r.strip_suffix(".json")) else { return false };
        let Some((size, rest)) = rest.split_once('/') else { return false };
        let Some((unix, witness)) = rest.split_once('-') else { return false };
        WitnessStore::key_digits(size, 20)
            && size.parse::<u64>().is_ok_and(|n| n <= records)
            && WitnessStore::key_digits(unix, 12)
            && witnesses.contains(&witness)
    };
    let mut keys: Vec<String> = ws.keys_under(PREFIX)?.into_iter().filter(|(k, size)| *size <= MAX_BYTES && shaped(k)).map(|(k, _)| k).collect();
    keys.sort();
    keys.reverse();
    keys.truncate(CANDIDATES);
    Ok(keys)
}

/// The bytes of the verdicts object `key` of `ws` (a key [`newest`] listed).
pub fn read(ws: &WitnessStore, key: &str) -> Result<Vec<u8>> {
    ws.get_at_most(key, MAX_BYTES)?.with_context(|| format!("{} was listed and then not found", ws.location(key)))
}

/// The newest verdicts `signer` itself signed for the chain whose record hashes `hash_at` gives
/// (`records` of them): signed with `signer`'s registered key in `register` (a witness of it),
/// naming `signer`, and holding the chain's hash at their size. What the witness's next run
/// starts from ([`crate::replay::rejected_after_own`]); `None` when none holds (every
/// deployment is replayed). A verdicts object that cannot be read or opened is passed over.
pub fn own_latest(ws: &WitnessStore, register: &Identities, signer: &Signer, records: u64, hash_at: impl Fn(u64) -> Option<String>) -> Result<Option<Verdicts>> {
    let Some(me) = register.get(signer.identity()).filter(|id| id.keyid == signer.keyid()) else { return Ok(None) };
    for key in newest(ws, &[me.name.as_str()], records)? {
        let Ok(bytes) = read(ws, &key) else { continue };
        let Ok(v) = open(&bytes, register) else { continue };
        // `open` took one signature, by the registered key of the identity it names.
        let holds = v.size > 0 && hash_at(v.size - 1).as_deref() == Some(v.hash.as_str());
        if v.witness == me.name && holds {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// The verdicts of `bytes` when one signature by the registered key of a witness of `register`
/// signed them; otherwise why not.
pub fn open(bytes: &[u8], register: &Identities) -> std::result::Result<Verdicts, String> {
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| format!("not a DSSE envelope: {e}"))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(format!("payload type {:?}, not {PAYLOAD_TYPE}", env.payload_type));
    }
    let [sig] = &env.signatures[..] else { return Err(format!("{} signatures, not one", env.signatures.len())) };
    let id = register.by_keyid(&sig.keyid).ok_or_else(|| format!("signed by key {}, which no identity of the register in force holds", sig.keyid))?;
    if !id.has_role(Role::Witness) {
        return Err(format!("signed by {}, who does not hold the witness role", id.name));
    }
    // A witness who also appends records (a deployer, an approver...) would admit its own
    // deployment with one key.
    if Role::APPENDERS.iter().any(|r| id.has_role(*r)) {
        return Err(format!("signed by {}, who also holds a role that appends records: a witness's verdicts take a key of its own", id.name));
    }
    let payload = env.payload_bytes().map_err(|e| format!("payload: {e}"))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(&sig.sig).map_err(|e| format!("signature: {e}"))?;
    let raw = <[u8; 64]>::try_from(raw.as_slice()).map_err(|_| "the signature is not 64 bytes".to_string())?;
    if !id.public_key.verify(&raw, &[&pae(PAYLOAD_TYPE, &payload)]) {
        return Err(format!("the signature does not verify with {}'s registered key", id.name));
    }
    let v: Verdicts = serde_json::from_slice(&payload).map_err(|e| format!("payload: {e}"))?;
    if v.witness != id.name {
        return Err(format!("names witness {}, but {} signed it", v.witness, id.name));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use lz_evidence::identity::encode_public_key;

    fn register() -> Identities {
        let text = format!(
            "[identity.audit-witness]\nname = \"Audit witness\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{}\"\n\n\
             [identity.deployer-bot]\nname = \"Deployer\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n",
            encode_public_key(&SigningKey::from_bytes(&[1; 32]).verifying_key()),
            encode_public_key(&SigningKey::from_bytes(&[2; 32]).verifying_key())
        );
        Identities::parse(&text, "test register").unwrap()
    }

    fn verdicts(witness: &str) -> Verdicts {
        let rejected = BTreeMap::from([(7, "no valid admission".to_string())]);
        Verdicts { witness: witness.into(), size: 9, hash: "ab".repeat(32), time: "2026-12-07T12:00:00Z".into(), rejected }
    }

    #[test]
    fn only_a_witness_of_the_register_in_force_signs_verdicts_a_command_takes() {
        let register = register();
        let witness = Signer::new("audit-witness", SigningKey::from_bytes(&[1; 32]));
        let v = verdicts("audit-witness");
        assert_eq!(open(&sign(&v, &witness).unwrap(), &register), Ok(v.clone()));

        // The deployer's key (registered, but no witness) signs nothing a command takes.
        let deployer = Signer::new("deployer-bot", SigningKey::from_bytes(&[2; 32]));
        let why = open(&sign(&verdicts("deployer-bot"), &deployer).unwrap(), &register).unwrap_err();
        assert!(why.contains("does not hold the witness role"), "{why}");
        // A key no identity holds (a retired witness's, a stranger's).
        let stranger = Signer::new("audit-witness", SigningKey::from_bytes(&[3; 32]));
        let why = open(&sign(&v, &stranger).unwrap(), &register).unwrap_err();
        assert!(why.contains("no identity of the register in force holds"), "{why}");

        // A verdict changed after signing: the signature no longer holds.
        let signed = String::from_utf8(sign(&v, &witness).unwrap()).unwrap();
        let env: Envelope = serde_json::from_str(&signed).unwrap();
        let mut payload: Verdicts = serde_json::from_slice(&env.payload_bytes().unwrap()).unwrap();
        payload.rejected.clear();
        let forged = Envelope { payload: base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&payload).unwrap()), ..env };
        let why = open(&forged.to_canonical(), &register).unwrap_err();
        assert!(why.contains("does not verify"), "{why}");
        // Garbage is refused with a reason, never a panic.
        assert!(open(b"{", &register).is_err());

        // A witness who also appends records would admit its own deployment with one key.
        let both = format!(
            "[identity.audit-witness]\nname = \"Audit witness\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"witness\", \"deployer\"]\npublic_key = \"{}\"\n",
            encode_public_key(&SigningKey::from_bytes(&[1; 32]).verifying_key())
        );
        let both = Identities::parse(&both, "test register").unwrap();
        let why = open(&sign(&v, &witness).unwrap(), &both).unwrap_err();
        assert!(why.contains("also holds a role that appends records"), "{why}");
    }
}
