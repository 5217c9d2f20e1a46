//! A checkpoint of the verifier's derived state (issue 36, `Mirror::verify_vouched`): the witness
//! puts the sha256 of the state it derived on its note (`state <seq> <digest>`); a verifier that
//! derived the same state keeps it beside its mirror and, in a new process, resumes from it
//! without decoding the records before it. Insider tests: a state file edited after the witness
//! signed (an extra release author, a register with one more key), a digest signed by a key that
//! is not a registered witness, a state of another trust root, and a note whose witness was
//! removed from the register are not used (the mirror is read as without them, same verdict); a
//! rewrite behind the checkpoint is still reported; a record decoded on demand from the mirror
//! is held to the state's hash.

mod common;

use common::world::*;
use common::*;
use lz_evidence::mirror::{Mirror, Read};
use lz_evidence::record::*;
use lz_evidence::witness::{parse, sign, Witnessed};
use lz_evidence::{verify_store, Identities, TrustRoot, VerifiedChain, VerifiedRecord};

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn state_file(m: &Mirror) -> std::path::PathBuf {
    m.path().with_extension("state.json")
}

fn note_file(m: &Mirror) -> std::path::PathBuf {
    m.path().with_extension("state.note")
}

fn hashes<'a>(records: impl IntoIterator<Item = &'a VerifiedRecord>) -> Vec<String> {
    records.into_iter().map(|r| r.hash.clone()).collect()
}

/// A world of `n` records (with `security` more approvers), witnessed with a state line, and a
/// verifier's mirror that verified it and kept the state the witness signed; then `after`
/// records more. The verifier's own derivation and the witness's hash the same: the state is kept.
fn kept(name: &str, n: usize, after: usize, security: usize) -> (World, tempfile::TempDir, Witnessed) {
    let mut w = world_with(name, security);
    w.append(n);
    let dir = tempfile::tempdir().unwrap();
    let m = Mirror::new(dir.path(), &w.store, &w.root);
    assert_eq!(m.verify(&w.store, &w.root, &[], &[]).unwrap().2, Read::Store);
    assert!(!state_file(&m).exists(), "no note, no state");
    w.witness().unwrap();
    let note = w.latest();
    let line = parse(&note.note).unwrap().checkpoint.state.expect("the witness signs its state's digest");
    assert_eq!(line.seq, n as u64 - 1);
    m.verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    let bytes = std::fs::read(state_file(&m)).expect("the verifier derived the state the witness signed, and kept it");
    assert_eq!(lz_evidence::verify::state_digest(&bytes), line.digest);
    w.append(after);
    (w, dir, note)
}

/// A verifier in a new process with the mirror in `dir`: what it read, and the chain (with
/// [`Read::Checkpoint`], only the records after the kept state).
fn verify_new(w: &World, dir: &tempfile::TempDir, root: &TrustRoot, note: &Witnessed) -> (Mirror, VerifiedChain, lz_evidence::Resumable, Read) {
    let m = Mirror::new(dir.path(), &w.store, root);
    let (chain, resumable, read) = m.verify_vouched_suffix(&w.store, root, &[], &[], Some(note)).unwrap();
    (m, chain, resumable, read)
}

#[test]
fn a_new_process_resumes_from_its_kept_state_and_decodes_earlier_records_only_on_demand() {
    let _alone = alone();
    let (w, dir, note) = kept("resume", 6, 2, 0);
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    let (m, chain, resumable, read) = verify_new(&w, &dir, &w.root, &note);
    assert_eq!(read, Read::Checkpoint { state_at: 6, mirrored: 6 }, "{}", m.state_unused());
    // Only the records after the state were decoded; the rest of the verdict is a full one's.
    assert_eq!((chain.records.len(), chain.head.clone(), chain.register.fingerprint()), (2, full.head.clone(), full.register.fingerprint()));
    assert_eq!(hashes(&chain.records), hashes(&full.records[6..]));
    // The records before it, decoded from the mirror on demand: the full verification's.
    let earlier = m.earlier(&resumable, 6).unwrap();
    assert_eq!(hashes(&earlier), hashes(&full.records[..6]));
    let who = |rs: &[VerifiedRecord]| rs.iter().map(|r| (r.sequence, r.kind, r.signer.name.clone(), r.time)).collect::<Vec<_>>();
    assert_eq!(who(&earlier), who(&full.records[..6]));

    // A mirrored record rewritten behind the state after the verification: decoding it on
    // demand refuses it (the state's hash), it is never handed out as a record.
    let text = std::fs::read_to_string(m.path()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].replacen("\"sig\":\"", "\"sig\":\"A", 1);
    let tampered = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    std::fs::write(m.path(), &tampered).unwrap();
    let err = m.earlier(&resumable, 6).unwrap_err();
    assert!(format!("{err:#}").contains("not the record the verifier's state holds for key 2"), "{err:#}");
    assert!(!state_file(&m).exists(), "the state is let go: the next verification reads the mirror in full");
    // So the next verification reads the mirror, whose hash chain breaks there: the store's
    // verdict, the mirror rebuilt from it, and the state derived again kept.
    let (chain, _, read) = Mirror::new(dir.path(), &w.store, &w.root).verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    assert_eq!((read, hashes(&chain.records)), (Read::Store, hashes(&full.records)));
    assert!(state_file(&m).exists());
    // Tampered again with the state kept: `verify_vouched` resumes from the state (the line is
    // not read), decoding the records before it for its caller refuses the line, and the
    // mirror is read as without the state: the same verdict, never the changed record.
    std::fs::write(m.path(), &tampered).unwrap();
    let (chain, _, read) = Mirror::new(dir.path(), &w.store, &w.root).verify_vouched(&w.store, &w.root, &[], &[], Some(&note)).unwrap();
    assert_eq!((read, hashes(&chain.records)), (Read::Store, hashes(&full.records)));

    // A raw version written over record 2 in the store, behind the checkpoint: the pass from
    // the state still lists every version and reports it as a full verification does.
    w.overwrite(2);
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    let later = |c: &VerifiedChain| c.quarantined.iter().filter(|q| q.version.is_some()).map(|q| q.location.clone()).collect::<Vec<_>>();
    assert_eq!(later(&full).len(), 1, "{:?}", full.quarantined);
    let (m, chain, _, read) = verify_new(&w, &dir, &w.root, &note);
    assert_eq!(read, Read::Checkpoint { state_at: 6, mirrored: 8 }, "{}", m.state_unused());
    assert_eq!(later(&chain), later(&full));
}

/// `original`'s state (its canonical JSON) with `mallory` registered in `group` with `role` by a
/// register in force from record 6 on, every part consistent (the register, its fingerprint, the
/// history, the registers): only the digest tells it from a derived one.
fn with_mallory(original: &[u8], ids: &Identities, key: &lz_evidence::keys::PublicKey, group: &str, role: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(original).unwrap();
    let kind = if role == "witness" { "workload" } else { "person" };
    let more = format!(
        "{}[identity.mallory]\nname = \"mallory\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [\"{role}\"]\npublic_key = \"{}\"\n",
        ids.source(),
        lz_evidence::identity::encode_public_key(key)
    );
    let fp = lz_evidence::dsse::sha256_hex(more.as_bytes());
    let s = &mut v["state"];
    s["register"] = more.clone().into();
    s["register_fp"] = fp.clone().into();
    s["history"].as_array_mut().unwrap().push(fp.into());
    s["registers"].as_array_mut().unwrap().push(serde_json::json!([6, more]));
    v
}

#[test]
fn a_kept_state_edited_or_signed_by_no_witness_or_of_another_trust_root_is_not_used() {
    let _alone = alone();
    let (w, dir, note) = kept("tamper", 6, 1, 0);
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    let m = Mirror::new(dir.path(), &w.store, &w.root);
    let original = (std::fs::read(state_file(&m)).unwrap(), std::fs::read(note_file(&m)).unwrap());
    let restore = || {
        std::fs::write(state_file(&m), &original.0).unwrap();
        std::fs::write(note_file(&m), &original.1).unwrap();
    };
    // Not used, and why; the verdict is the full verification's.
    let refused = |root: &TrustRoot, why: &str| {
        let (m, chain, _, read) = verify_new(&w, &dir, root, &note);
        assert!(matches!(read, Read::Mirror { .. }), "{read:?}");
        assert!(m.state_unused().contains(why), "{why}: {}", m.state_unused());
        assert_eq!(hashes(&chain.records), hashes(&full.records));
    };
    let used = || assert!(matches!(verify_new(&w, &dir, &w.root, &note).3, Read::Checkpoint { state_at: 6, .. }));
    used();

    // Edited after the witness signed: a release author more (segregation of duties reads it).
    let mut v: serde_json::Value = serde_json::from_slice(&original.0).unwrap();
    v["state"]["authors"].as_array_mut().unwrap().push(serde_json::json!([digest("forged release"), "alice"]));
    std::fs::write(state_file(&m), serde_json::to_vec(&v).unwrap()).unwrap();
    refused(&w.root, "hashes to");
    restore();
    used();

    // Edited: a register with one more key in force from the state on, every part consistent
    // (the register, its fingerprint, the history): only the digest tells.
    let v = with_mallory(&original.0, &w.ids, &w.t.intruder.public_key(), "security", "approver");
    std::fs::write(state_file(&m), serde_json::to_vec(&v).unwrap()).unwrap();
    refused(&w.root, "hashes to");
    restore();

    // The digest of the edited state, signed by a key that is not a registered witness: under
    // the witness's name with another key, and by a registered deployer (not a witness).
    let edited = serde_json::to_vec(&v).unwrap();
    let mut cp = parse(&note.note).unwrap().checkpoint;
    cp.state = Some(lz_evidence::witness::StateLine { seq: 5, digest: lz_evidence::verify::state_digest(&edited) });
    let other_key = lz_evidence::Signer::new("audit-witness", lz_evidence::identity::generate_key());
    for signer in [&other_key, &w.t.deployer] {
        std::fs::write(state_file(&m), &edited).unwrap();
        std::fs::write(note_file(&m), sign(&cp, signer).unwrap()).unwrap();
        refused(&w.root, "not the note this command took from the witness store");
    }
    restore();
    used();

    // The digest of the edited state signed by the witness's own key, kept beside the mirror but
    // never published to the witness store: not the note this command took from there. Without
    // that check the forged register was used (`Read::Checkpoint`).
    std::fs::write(state_file(&m), &edited).unwrap();
    std::fs::write(note_file(&m), sign(&cp, &w.witness).unwrap()).unwrap();
    refused(&w.root, "not the note this command took from the witness store");
    restore();
    used();

    // A state whose invented register change (from record 6 on) makes mallory a witness, its
    // digest on a note mallory signed and published to the witness store (a writer of that store
    // without the witness's key): mallory is no witness of the register the trust root starts
    // from. Without that check every witness test read the state's own registers and it was used.
    let mallory = lz_evidence::Signer::new("mallory", lz_evidence::identity::generate_key());
    let forged = serde_json::to_vec(&with_mallory(&original.0, &w.ids, &mallory.public_key(), "security", "witness")).unwrap();
    let mut cp = parse(&note.note).unwrap().checkpoint;
    cp.state = Some(lz_evidence::witness::StateLine { seq: 5, digest: lz_evidence::verify::state_digest(&forged) });
    cp.time = "2099-01-01T00:00:00Z".into();
    let published = sign(&cp, &mallory).unwrap();
    assert!(w.ws.put(&lz_evidence::witness::WitnessStore::key(cp.size, 4_070_908_800), &published).unwrap());
    let voucher = w.latest();
    assert_eq!(voucher.note, published, "mallory's note is the witness store's latest");
    std::fs::write(state_file(&m), &forged).unwrap();
    std::fs::write(note_file(&m), &published).unwrap();
    let (m2, _, _, read) = verify_new(&w, &dir, &w.root, &voucher);
    assert!(!matches!(read, Read::Checkpoint { .. }), "{read:?}");
    assert!(m2.state_unused().contains("not a witness of the register the trust root starts from"), "{}", m2.state_unused());
    restore();

    // A state of another trust root: a register that also verifies this chain (one identity
    // more) has its own mirror; this root's state and note copied into its place start from
    // another register.
    let other_ids = Identities::parse(&format!("{}[identity.zed]\nname = \"zed\"\nkind = \"person\"\ngroup = \"platform\"\nroles = [\"reviewer\"]\npublic_key = \"{}\"\n", w.ids.source(), lz_evidence::identity::encode_public_key(&w.t.intruder.public_key())), "other.toml").unwrap();
    let other = TrustRoot::register(other_ids, "another register");
    let om = Mirror::new(dir.path(), &w.store, &other);
    om.verify_vouched(&w.store, &other, &[], &[], Some(&note)).unwrap();
    assert!(!state_file(&om).exists(), "the witness signed another register's state");
    std::fs::copy(state_file(&m), state_file(&om)).unwrap();
    std::fs::copy(note_file(&m), note_file(&om)).unwrap();
    refused(&other, "another trust root");
}

#[test]
fn a_witness_removed_from_the_register_vouches_for_no_state() {
    let _alone = alone();
    let (mut w, dir, note) = kept("removed", 6, 1, 2);
    assert!(matches!(verify_new(&w, &dir, &w.root, &note).3, Read::Checkpoint { state_at: 6, .. }));
    // The security group removes the witness: proposed by alice, approved by two others.
    let text = w.ids.source().to_string();
    let without = text[..text.find("[identity.audit-witness]").unwrap()].to_string();
    w.archive(|a, w| {
        let proposal = a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&digest("rel"), &without, &w.ids.fingerprint()).0, &w.t.approver).unwrap();
        for s in &w.security {
            a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&digest("rel"), proposal.sequence, &lz_evidence::dsse::sha256_hex(without.as_bytes())).0, s).unwrap();
        }
    });
    let full = verify_store(&w.store, &w.root, &[]).unwrap();
    assert!(full.register.get("audit-witness").is_none());
    let (m, chain, _, read) = verify_new(&w, &dir, &w.root, &note);
    assert!(matches!(read, Read::Mirror { .. }), "{read:?}");
    assert!(m.state_unused().contains("not a witness of the register in force"), "{}", m.state_unused());
    assert_eq!(hashes(&chain.records), hashes(&full.records));
}

/// Under a witnessed listing (`vouch::verified_with`, as every decision command reads an S3
/// chain), the kept state is used too.
#[test]
fn the_kept_state_is_used_under_a_witnessed_listing() {
    let _alone = alone();
    let (w, dir, note) = kept("vouched", 6, 1, 0);
    let m = Mirror::new(dir.path(), &w.store, &w.root);
    let ((chain, _, read), listed) =
        lz_evidence::vouch::verified_with(&w.store, &[], Some(&note), |s, witnessed, vouching| m.verify_vouched_suffix(s, &w.root, &[], witnessed, vouching)).unwrap();
    assert_eq!((read, listed, chain.records.len()), (Read::Checkpoint { state_at: 6, mirrored: 6 }, lz_evidence::vouch::Listed::Vouched, 1), "{}", m.state_unused());
}
