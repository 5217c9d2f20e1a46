//! Witnessed checkpoints against chains in memory: a chain shorter than the note fails naming
//! the missing records, a chain that holds another hash at the note's head fails as rewritten,
//! and a note of another chain or not signed by a registered witness is refused.

use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::DriftEvidence;
use lz_evidence::witness::{origin_of, sign, WitnessCheckpoint, Witnessed};
use lz_evidence::{verify_chain_with, Anchors, EvidenceArchive, Identities, LocalStore, Signer, Store, StoredRecord, TrustRoot};

struct World {
    ids: Identities,
    deployer: Signer,
    witness: Signer,
}

fn world() -> World {
    let (d, w) = (generate_key(), generate_key());
    let text = format!(
        "[identity.deploy-bot]\nname = \"D\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n\n\
         [identity.audit-witness]\nname = \"W\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{}\"\n",
        encode_public_key(&d.verifying_key()),
        encode_public_key(&w.verifying_key())
    );
    World { ids: Identities::parse(&text, "ids.toml").unwrap(), deployer: Signer::new("deploy-bot", d), witness: Signer::new("audit-witness", w) }
}

fn chain(w: &World, dir: &std::path::Path, name: &str, n: usize) -> Vec<StoredRecord> {
    let mut a = EvidenceArchive::open(LocalStore::new(dir.join(name)), w.ids.clone()).unwrap();
    for i in 0..n {
        a.record(DriftEvidence::new(&"ab".repeat(32), "prod", "5", vec![format!("aws_s3_bucket.{name}{i}")]), &w.deployer).unwrap();
    }
    a.into_store().load().unwrap()
}

fn hash(r: &StoredRecord) -> String {
    lz_evidence::dsse::sha256_hex(&r.bytes)
}

fn note(records: &[StoredRecord], size: u64, head_hash: String, signer: &Signer) -> Witnessed {
    let cp = WitnessCheckpoint { origin: origin_of(&hash(&records[0])), size, hash: head_hash, time: "2026-12-06T18:00:00Z".into(), listing: None, state: None };
    Witnessed { note: sign(&cp, signer).unwrap(), source: "witnessed checkpoint (test)".into() }
}

fn code(records: &[StoredRecord], ids: &Identities, witnessed: Witnessed) -> Result<(), (String, String)> {
    let anchors = Anchors { witnessed: vec![witnessed], ..Default::default() };
    match verify_chain_with(records, &TrustRoot::register(ids.clone(), "ids.toml"), &anchors) {
        Ok(_) => Ok(()),
        Err(e) => {
            let f = lz_evidence::failure_of(&e).unwrap_or_else(|| panic!("not a verification failure: {e:#}"));
            Err((f.reason.code().to_string(), f.to_string()))
        }
    }
}

#[test]
fn a_chain_is_checked_against_its_witnessed_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let w = world();
    let records = chain(&w, dir.path(), "main", 6);
    let good = note(&records, 6, hash(&records[5]), &w.witness);
    assert_eq!(code(&records, &w.ids, good.clone()), Ok(()));
    // A chain longer than the note is fine: the witness vouches for a prefix.
    assert_eq!(code(&records, &w.ids, note(&records, 4, hash(&records[3]), &w.witness)), Ok(()));

    // Shorter: the missing records are named.
    let (c, text) = code(&records[..3], &w.ids, good.clone()).unwrap_err();
    assert_eq!(c, "behind-witness");
    assert!(text.contains("records 3..5 are missing") && text.contains("vouches for 6 records"), "{text}");
    let (c, text) = code(&[], &w.ids, good.clone()).unwrap_err();
    assert!(c == "behind-witness" && text.contains("records 0..5 are missing") && text.contains("the chain is empty"), "{text}");

    // Disagreeing: the record at the note's head has another hash.
    let (c, text) = code(&records, &w.ids, note(&records, 6, hash(&records[4]), &w.witness)).unwrap_err();
    assert_eq!(c, "witness-mismatch", "{text}");
    assert!(text.contains("record 5 differs"), "{text}");

    // Another chain's note, and notes no registered witness signed, are refused.
    let other = chain(&w, dir.path(), "other", 6);
    let (c, text) = code(&records, &w.ids, note(&other, 6, hash(&other[5]), &w.witness)).unwrap_err();
    assert!(c == "witness" && text.contains("is not this chain's"), "{text}");
    let (c, text) = code(&records, &w.ids, note(&records, 6, hash(&records[5]), &w.deployer)).unwrap_err();
    assert!(c == "witness" && text.contains("no registered witness"), "{text}");
    let forged = Signer::new("audit-witness", generate_key());
    let (c, _) = code(&records, &w.ids, note(&records, 6, hash(&records[5]), &forged)).unwrap_err();
    assert_eq!(c, "witness");
    let mut garbage = good;
    garbage.note = b"not a note".to_vec();
    assert_eq!(code(&records, &w.ids, garbage).unwrap_err().0, "witness");
}
