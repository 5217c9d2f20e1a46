//! Witnessed checkpoints through the shipped binary, against each test's own rehearsal stores
//! (LocalStack): the audit function's witness co-signs the evidence store's head into its own
//! COMPLIANCE store, and a copy of the chain that is shorter than, or disagrees with, the latest
//! witnessed checkpoint fails verification naming the missing records. The insider's two attacks
//! of issue 24 (a pulled copy with its last records dropped under a head re-signed by the
//! deployer key; an exported bundle cut before a DRIFT with its header moved back and re-signed)
//! fail closed.

mod common;

use std::path::Path;

use common::{checkout, key, ok, xtask};
use lz_evidence::bundle::{read_bundle, write_bundle};
use lz_evidence::dsse::sha256_hex;
use lz_evidence::store::{sign_checkpoint, write_copy};
use lz_evidence::{Checkpoint, Signer};

fn release() -> String {
    sha256_hex(b"witness cli release")
}

/// Appends a drift record naming `resource` to the landing zone's evidence store.
fn drift(d: &Path, keys: &Path, resource: &str) {
    let k = key(keys, "deployer-bot");
    let rel = release();
    let detail = format!("resources=[\"{resource}\"]");
    ok(d, &["evidence", "append", "--kind", "drift", "--identity", "deployer-bot", "--key", &k, "--release", &rel, "--env", "dev", "--detail", &detail]);
}

fn witness(d: &Path, keys: &Path) -> String {
    ok(d, &["evidence", "witness", "--as", "wendy", "--key", &key(keys, "wendy")])
}

/// A rehearsal with its stores (the witness store included) and genesis + 3 drift records.
fn rehearsal(d: &Path, keys: &Path) {
    checkout(d, keys);
    let out = ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys, "bob")]);
    assert!(out.contains("lz-witness-"), "bootstrap --stores creates the witness store:\n{out}");
    for i in 0..3 {
        drift(d, keys, &format!("aws_s3_bucket.b{i}"));
    }
}

fn pin(d: &Path) -> String {
    let text = std::fs::read_to_string(d.join("governance/stores.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("genesis_register_sha256")).unwrap();
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn the_witness_cosigns_the_head_only_as_a_registered_witness_and_a_rerun_is_safe() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    // Not a witness: the deployer's key (registered, another role) and a stranger's.
    let (code, out, err) = xtask(d.path(), &["evidence", "witness", "--as", "deployer-bot", "--key", &key(keys.path(), "deployer-bot")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("REFUSED") && out.contains("does not hold the witness role"), "{out}");
    let (code, out, err) = xtask(d.path(), &["evidence", "witness", "--as", "wendy", "--key", &key(keys.path(), "bob")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not the registered key of wendy"), "{out}");

    let out = witness(d.path(), keys.path());
    assert!(out.contains("witnessed checkpoint") && out.contains(": 4 records, head 3"), "{out}");
    // A rerun verifies again and writes a fresh note for the same head (or finds its own).
    let out = witness(d.path(), keys.path());
    assert!(out.contains(": 4 records, head 3"), "{out}");
    drift(d.path(), keys.path(), "aws_s3_bucket.late");
    let out = ok(d.path(), &["evidence", "verify"]);
    assert!(out.contains("ok: 5 records"), "a store ahead of its witness verifies:\n{out}");
    assert!(out.contains("witnessed: the chain holds the witnessed checkpoint s3://") && out.contains("(4 records, head 3"), "{out}");
    let out = witness(d.path(), keys.path());
    assert!(out.contains(": 5 records, head 4"), "{out}");
    // From its own state (`.tools/evidence/witness-state/`): only the new record read from the
    // store, the deployments after its own last verdicts replayed; `--full` takes neither.
    assert!(out.contains("read: 4 records from the witness's state"), "{out}");
    assert!(out.contains("those before record 4 taken from the witness's own last verdicts"), "{out}");
    let out = ok(d.path(), &["evidence", "witness", "--as", "wendy", "--key", &key(keys.path(), "wendy"), "--full"]);
    assert!(out.contains(": 5 records, head 4") && out.contains("read: every record from the store (no state"), "{out}");
    assert!(out.contains("replay verdicts: the 5 records' deployments replayed,"), "{out}");

    // The note in the witness store: C2SP signed-note layout, signed by wendy.
    let stores = lz_promote::stores::Stores::load(d.path(), &lz_platform::localstack::require(&common::root()).unwrap()).unwrap();
    let latest = stores.witness().unwrap().latest().unwrap().expect("a witnessed checkpoint");
    let text = String::from_utf8(latest.note.clone()).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(lines[0].starts_with("landing-zone.example/evidence/") && lines[1] == "5" && lines[3].starts_with("time "), "{text}");
    // The witness's full listing found one version per record key and no delete marker: the
    // `listing` line vouches for it (5 record versions, no marker).
    assert!(lines[4].starts_with("listing ") && lines[4].split(' ').nth(2) == Some("5") && lines[4].split(' ').nth(3) == Some("0"), "{text}");
    // The `state` line: the digest of the state the witness derived after record 4.
    assert!(lines[5].starts_with("state 4 ") && lines[5].len() == "state 4 ".len() + 64, "{text}");
    assert!(lines[6].is_empty() && lines[7].starts_with("\u{2014} wendy "), "{text}");
    assert!(latest.source.contains(&stores.witness_bucket), "{}", latest.source);
}

#[test]
fn a_pulled_copy_with_its_last_records_dropped_under_a_re_signed_head_fails_naming_them() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    witness(d.path(), keys.path());
    ok(d.path(), &["evidence", "pull"]);
    let out = ok(d.path(), &["evidence", "verify", "--store", "local"]);
    assert!(out.contains("ok: 4 records"), "{out}");

    // The insider drops the last two records of the pulled copy and re-signs its head with the
    // deployer key (registered, allowed to sign heads), and clears this machine's cache of
    // verified heads.
    let cache = d.path().join(".tools/evidence/main.jsonl");
    let text = std::fs::read_to_string(&cache).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    let records: Vec<lz_evidence::StoredRecord> = kept
        .iter()
        .enumerate()
        .map(|(i, l)| lz_evidence::StoredRecord { location: format!("line {}", i + 1), bytes: lz_evidence::store::Bytes::copy_from_slice(l.as_bytes()) })
        .collect();
    let head = Checkpoint { sequence: 1, hash: sha256_hex(kept[1].as_bytes()), time: lz_evidence::record::now_rfc3339() };
    let deployer = Signer::from_file("deployer-bot", Path::new(&key(keys.path(), "deployer-bot"))).unwrap();
    write_copy(&cache, &records, Some(&sign_checkpoint(&head, &deployer).unwrap())).unwrap();
    let _ = std::fs::remove_dir_all(d.path().join(".tools/evidence/verified"));

    let (code, out, err) = xtask(d.path(), &["evidence", "verify", "--store", "local"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("TAMPERED") && out.contains("records 2..3 are missing") && out.contains("[behind-witness]"), "{out}");
    // The landing zone's store itself still verifies.
    assert!(ok(d.path(), &["evidence", "verify"]).contains("ok: 4 records"));
}

#[test]
fn an_exported_bundle_cut_before_a_drift_with_its_header_moved_back_fails_naming_the_cut() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    let b = d.path().join("release.bundle");
    let bs = b.display().to_string();
    // Before anything was witnessed, export refuses: the bundle must carry a witnessed checkpoint.
    let (code, out, err) = xtask(d.path(), &["evidence", "export", "--release", &release(), "--out", &bs, "--as", "audrey", "--key", &key(keys.path(), "audrey")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("no witnessed checkpoint yet"), "{out}");
    // The unwelcome DRIFT is record 4; the witness saw it.
    drift(d.path(), keys.path(), "aws_s3_bucket.unwelcome");
    witness(d.path(), keys.path());
    let out = ok(d.path(), &["evidence", "export", "--release", &release(), "--out", &bs, "--as", "audrey", "--key", &key(keys.path(), "audrey")]);
    assert!(out.contains("exported 5 records") && out.contains("signed by audrey"), "{out}");
    let pin = pin(d.path());
    let out = ok(d.path(), &["evidence", "verify", "--bundle", &bs, "--pin", &pin]);
    assert!(out.contains("ok: 5 records") && out.contains("exported by audrey"), "{out}");

    let original = read_bundle(&b).unwrap();
    let deployer = Signer::from_file("deployer-bot", Path::new(&key(keys.path(), "deployer-bot"))).unwrap();
    let cut_records = &original.records[..4];
    let moved_back = Checkpoint { sequence: 3, hash: sha256_hex(&cut_records[3].bytes), time: original.header.checkpoint.time.clone() };
    let cut = d.path().join("cut.bundle");
    let cs = cut.display().to_string();

    // 1. The header re-signed with another registered key while naming audrey as its exporter.
    write_bundle(&cut, &original.header, &original.records, &deployer).unwrap();
    let (code, out, _) = xtask(d.path(), &["evidence", "verify", "--bundle", &cs, "--pin", &pin]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED") && out.contains("signed by deployer-bot but names audrey"), "{out}");
    let mut header = original.header.clone();
    header.checkpoint = moved_back.clone();
    header.records = 4;
    header.focus.retain(|s| *s < 4);

    // 2. The insider re-signs the moved-back header as its exporter with the deployer key: the
    //    witnessed checkpoint it carries still vouches for 5 records.
    header.exporter = "deployer-bot".into();
    write_bundle(&cut, &header, cut_records, &deployer).unwrap();
    let (code, out, _) = xtask(d.path(), &["evidence", "verify", "--bundle", &cs, "--pin", &pin]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("records 4..4 are missing") && out.contains("[behind-witness]"), "{out}");

    // 3. ... and with the witnessed checkpoint removed from the header: refused, not ok.
    header.witnessed = None;
    write_bundle(&cut, &header, cut_records, &deployer).unwrap();
    let (code, out, _) = xtask(d.path(), &["evidence", "verify", "--bundle", &cs, "--pin", &pin]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("carries no witnessed checkpoint"), "{out}");

    // 4. With a forged note (the witness's name, the deployer's key): no registered witness signed it.
    let witnessed = lz_evidence::witness::parse(original.header.witnessed.as_ref().unwrap().as_bytes()).unwrap().checkpoint;
    let forged_note = lz_evidence::witness::sign(
        &lz_evidence::witness::WitnessCheckpoint { size: 4, hash: moved_back.hash.clone(), state: None, ..witnessed },
        &Signer::new("wendy", lz_evidence::identity::parse_private_key(&std::fs::read_to_string(key(keys.path(), "deployer-bot")).unwrap()).unwrap()),
    ).unwrap();
    header.witnessed = Some(String::from_utf8(forged_note).unwrap());
    write_bundle(&cut, &header, cut_records, &deployer).unwrap();
    let (code, out, _) = xtask(d.path(), &["evidence", "verify", "--bundle", &cs, "--pin", &pin]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no registered witness") && out.contains("[witness]"), "{out}");

    // The untouched bundle still verifies.
    assert!(ok(d.path(), &["evidence", "verify", "--bundle", &bs, "--pin", &pin]).contains("ok: 5 records"));
}

/// A raw version written over record 1 after the witness ran (an insider with write access to
/// the evidence bucket): a command that lists only what follows the witnessed checkpoint does not
/// see it and its verdict is unchanged (the record it reads is the one the witness vouched for);
/// `evidence verify --full` reports it, and so does the next witness run, whose note then vouches
/// for no listing, so every later verification lists the whole store and reports it.
#[test]
fn an_overwrite_behind_the_witness_is_reported_by_verify_full_and_by_the_next_witness_run() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    witness(d.path(), keys.path());
    assert!(ok(d.path(), &["evidence", "verify"]).contains("ok: 4 records"));
    let stores = lz_promote::stores::Stores::load(d.path(), &lz_platform::localstack::require(&common::root()).unwrap()).unwrap();
    let record_1 = stores.evidence().unwrap().record_key(1);
    let rt = lz_platform::aws::runtime().unwrap();
    let s3 = stores.s3().unwrap();
    let body = lz_evidence::aws_sdk_s3::primitives::ByteStream::from(b"{}".to_vec());
    rt.block_on(s3.put_object().bucket(&stores.evidence_bucket).key(&record_1).body(body).send()).unwrap();

    let out = ok(d.path(), &["evidence", "verify"]);
    assert!(out.contains("ok: 4 records") && !out.contains("FOREIGN"), "behind the witnessed listing:\n{out}");
    assert!(out.contains("listing: only the record keys after the 4 records witnessed by"), "it says its listing was vouched:\n{out}");
    // A new process with its mirror resumes from the state it kept at the witnessed point, whose
    // digest the witness signed (`lz_evidence::mirror::Mirror::verify_vouched`), and says so.
    assert!(out.contains("state: resumed from this verifier's kept state, whose digest the witness signed"), "it says it resumed from its kept state:\n{out}");
    let (code, out, err) = xtask(d.path(), &["evidence", "verify", "--full"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FOREIGN") && out.contains("000000000001.json"), "{out}");
    assert!(out.contains("listing: every object version (--full)"), "{out}");
    assert!(out.contains("signatures: every record's checked"), "--full carries no signature:\n{out}");
    let (code, out, err) = xtask(d.path(), &["evidence", "witness", "--as", "wendy", "--key", &key(keys.path(), "wendy")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FINDING:") && out.contains("000000000001.json") && out.contains("vouches for no listing"), "{out}");
    let (code, out, err) = xtask(d.path(), &["evidence", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FOREIGN") && out.contains("000000000001.json"), "{out}");
    assert!(out.contains("listing: every object version") && out.contains("vouches for no listing"), "{out}");
}

/// A witness note older than `max_voucher_age_hours` (`governance/stores.toml`), by the evidence
/// store's server clock, shortens no listing: `evidence verify` lists every object version and
/// says the note is too old. The same note is taken under a maximum that covers its age, so it is
/// the age alone that turns it away; a maximum beyond a week is refused naming file and line.
#[test]
fn a_witness_note_older_than_the_maximum_age_shortens_no_listing() {
    use lz_evidence::witness::{origin_of, sign, WitnessCheckpoint, WitnessStore};
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rehearsal(d.path(), keys.path());
    let stores = lz_promote::stores::Stores::load(d.path(), &lz_platform::localstack::require(&common::root()).unwrap()).unwrap();
    assert_eq!(stores.max_voucher_age_hours, 24, "the shipped governance sets a day");
    let evidence = stores.evidence().unwrap();
    let records = lz_evidence::Store::load(&evidence).unwrap();
    let size = records.len() as u64;
    let hash = sha256_hex(&records.last().unwrap().bytes);
    let head = lz_evidence::Store::head(&evidence).unwrap().expect("a signed head");
    let (listing, findings) = lz_evidence::Store::listing_upto(&evidence, size, &hash, Some(&head.bytes)).unwrap();
    assert!(listing.is_some() && findings.is_empty(), "{findings:?}");
    // A note the registered witness signed 30 hours ago (its key, the store's own listing).
    let wendy = Signer::new("wendy", lz_evidence::identity::parse_private_key(&std::fs::read_to_string(key(keys.path(), "wendy")).unwrap()).unwrap());
    let signed = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::hours(30);
    let checkpoint = WitnessCheckpoint {
        origin: origin_of(&sha256_hex(&records[0].bytes)),
        size,
        hash,
        time: signed.format(&time::format_description::well_known::Rfc3339).unwrap(),
        listing,
        state: None,
    };
    stores.witness().unwrap().put(&WitnessStore::key(size, signed.unix_timestamp()), &sign(&checkpoint, &wendy).unwrap()).unwrap();

    let out = ok(d.path(), &["evidence", "verify"]);
    assert!(out.contains(&format!("ok: {size} records")), "{out}");
    assert!(
        out.contains("listing: every object version (the witness's latest note is too old to vouch")
            && out.contains("30 h 00 min before the trusted clock's")
            && out.contains("server time of s3://")
            && out.contains("older than the 24 hours max_voucher_age_hours allows"),
        "a 30-hour-old note under a 24-hour maximum:\n{out}"
    );

    // Without the bound (a maximum that covers its age) the same note shortens the listing.
    let path = d.path().join("governance/stores.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("max_voucher_age_hours = 24", "max_voucher_age_hours = 48")).unwrap();
    let out = ok(d.path(), &["evidence", "verify"]);
    assert!(out.contains(&format!("listing: only the record keys after the {size} records witnessed by")), "{out}");

    // A maximum beyond a week is bad governance: exit 2, file and line.
    std::fs::write(&path, text.replace("max_voucher_age_hours = 24", "max_voucher_age_hours = 169")).unwrap();
    let (code, out, err) = xtask(d.path(), &["evidence", "verify"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(format!("{out}{err}").contains("governance/stores.toml:38: max_voucher_age_hours = 169 is not between 1 and 168 hours"), "{out}{err}");
}
