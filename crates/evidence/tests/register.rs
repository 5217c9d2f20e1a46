//! The identities register lives in the chain (issue 22): a genesis register the verifier pins,
//! then register changes that come into force only with a quorum of the security group. Each
//! test is an insider's attempt with one key, a raw store write or a revocation, and what
//! verification and append make of it.

use std::collections::BTreeMap;

use lz_evidence::dsse::sha256_hex;
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::*;
use lz_evidence::store::sign_checkpoint;
use lz_evidence::{
    failure_of, verify_chain, verify_chain_with, verify_store, Anchors, Checkpoint, EvidenceArchive, Identities, LocalStore, Signer,
    Store, StoredRecord, TrustRoot,
};

/// name, kind, group, roles
const PEOPLE: &[(&str, &str, &str, &[&str])] = &[
    ("deploy-bot", "workload", "platform", &["deployer"]),
    ("priya", "person", "platform", &["author", "reviewer"]),
    ("lena", "person", "operations", &["approver"]),
    ("grace", "person", "security", &["approver"]),
    ("hugo", "person", "security", &["approver"]),
    ("ines", "person", "security", &["approver"]),
    ("jonas", "person", "security", &["approver"]),
    ("omar", "person", "security", &["auditor"]),
];

struct Zone {
    text: String,
    ids: Identities,
    signers: BTreeMap<String, Signer>,
    keys: BTreeMap<String, String>,
}

fn entry(name: &str, kind: &str, group: &str, roles: &[&str], key: &str) -> String {
    let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
    format!(
        "[identity.{name}]\nname = \"{name}\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [{}]\npublic_key = \"{key}\"\n\n",
        roles.join(", ")
    )
}

fn zone(quorum: usize) -> Zone {
    let mut signers = BTreeMap::new();
    let mut keys = BTreeMap::new();
    let mut text = format!("register_quorum = {quorum}\n\n");
    for (name, kind, group, roles) in PEOPLE {
        let key = generate_key();
        let public = encode_public_key(&key.verifying_key());
        text.push_str(&entry(name, kind, group, roles, &public));
        keys.insert(name.to_string(), public);
        signers.insert(name.to_string(), Signer::new(*name, key));
    }
    Zone { ids: Identities::parse(&text, "identities.toml").unwrap(), text, signers, keys }
}

impl Zone {
    fn s(&self, name: &str) -> &Signer {
        &self.signers[name]
    }

    /// The pinned trust root: the genesis register's fingerprint, nothing from a checkout.
    fn pin(&self) -> TrustRoot {
        TrustRoot::pinned([self.ids.fingerprint()]).unwrap()
    }

    /// A chain that starts with this register as its genesis, signed by grace.
    fn chain(&self, dir: &std::path::Path) -> EvidenceArchive<LocalStore> {
        let mut a = EvidenceArchive::open(LocalStore::new(dir.join("chain.jsonl")), Identities::default()).unwrap();
        a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &self.text, GENESIS).0, self.s("grace")).unwrap();
        a
    }

    /// The register text with `extra` identities added (name, group, roles, signer).
    fn with_added(&self, added: &[(&str, &str, &[&str], &Signer)]) -> String {
        let mut text = self.text.clone();
        for (name, group, roles, s) in added {
            text.push_str(&entry(name, "person", group, roles, &encode_public_key(&s.public_key())));
        }
        text
    }

    /// The register text with `name`'s key replaced.
    fn rekeyed(&self, name: &str, new: &Signer) -> String {
        self.text.replace(&self.keys[name], &encode_public_key(&new.public_key()))
    }

    /// The register text without `name`.
    fn without(&self, name: &str) -> String {
        self.text.split_inclusive("\n\n").filter(|b| !b.starts_with(&format!("[identity.{name}]"))).collect()
    }
}

fn rel() -> String {
    sha256_hex(b"release")
}

fn plan_digest() -> String {
    sha256_hex(b"plan")
}

fn approval() -> Fields {
    ApprovalEvidence::new(&rel(), "prod", &plan_digest(), "CHG-7").0
}

fn propose(a: &mut EvidenceArchive<LocalStore>, text: &str, previous: &str, by: &Signer) -> u64 {
    a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), text, previous).0, by).unwrap().sequence
}

fn approve(a: &mut EvidenceArchive<LocalStore>, at: u64, text: &str, by: &Signer) -> anyhow::Result<u64> {
    a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), at, &sha256_hex(text.as_bytes())).0, by).map(|r| r.sequence)
}

/// A raw write: what an insider with store access and a key appends without the archive's checks.
fn raw(store: LocalStore) -> EvidenceArchive<LocalStore> {
    EvidenceArchive::open_unchecked(store).unwrap()
}

fn failure(store: &LocalStore, root: &TrustRoot) -> (String, Option<u64>, String) {
    let err = verify_store(store, root, &[]).unwrap_err();
    let f = failure_of(&err).unwrap_or_else(|| panic!("not a verification failure: {err:#}"));
    (f.reason.code().to_string(), f.sequence, f.to_string())
}

#[test]
fn one_key_cannot_add_people_or_rekey_anyone() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    // grace alone proposes a new security approver she controls.
    let sock = Signer::new("sock-puppet", generate_key());
    let text = z.with_added(&[("sock-puppet", "security", &["approver"], &sock)]);
    let at = propose(&mut a, &text, &z.ids.fingerprint(), z.s("grace"));
    // The proposal is not in force: the archive refuses the puppet's approval...
    let err = a.append(Kind::Approval, approval(), &sock).unwrap_err();
    assert!(format!("{err:#}").contains("sock-puppet is not in the identities register"), "{err:#}");
    // ...and a raw write of it is rejected by verification, naming its place.
    let store = a.into_store();
    let mut r = raw(store);
    r.append(Kind::Approval, approval(), &sock).unwrap();
    let store = r.into_store();
    let (code, seq, msg) = failure(&store, &z.pin());
    assert_eq!((code.as_str(), seq), ("unknown-key", None), "{msg}");
    assert!(msg.contains("chain.jsonl:3"), "{msg}");

    // Re-keying someone else with one key: grace proposes a key she holds for hugo.
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    let stolen = Signer::new("hugo", generate_key());
    let text = z.rekeyed("hugo", &stolen);
    propose(&mut a, &text, &z.ids.fingerprint(), z.s("grace"));
    let err = a.append(Kind::RegisterApproval, RegisterApprovalEvidence::new(&rel(), at, &sha256_hex(text.as_bytes())).0, &stolen).unwrap_err();
    assert!(format!("{err:#}").contains("the signing key is not the registered key of identity hugo"), "{err:#}");
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert_eq!(chain.register.fingerprint(), z.ids.fingerprint(), "one key changed nothing");
}

#[test]
fn the_proposer_and_the_people_a_change_alters_never_count_toward_its_quorum() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    let new_hugo = Signer::new("hugo", generate_key());
    let text = z.rekeyed("hugo", &new_hugo);
    let at = propose(&mut a, &text, &z.ids.fingerprint(), z.s("grace"));
    let store = a.into_store();
    for (who, code, said) in [("grace", "segregation-of-duties", "proposed the register change"), ("hugo", "segregation-of-duties", "alters hugo's own entry")]
    {
        let copy = LocalStore::new(dir.path().join(format!("{who}.jsonl")));
        std::fs::copy(store.path(), copy.path()).unwrap();
        std::fs::copy(store.checkpoint_path(), copy.checkpoint_path()).unwrap();
        let mut r = raw(copy);
        approve(&mut r, at, &text, z.s(who)).unwrap();
        let (c, seq, msg) = failure(r.store(), &z.pin());
        assert_eq!((c.as_str(), seq), (code, Some(2)), "{who}: {msg}");
        assert!(msg.contains(said), "{msg}");
    }
    // Nor does a second approval by the same person, or a workload, or an auditor.
    let mut r = raw(store);
    approve(&mut r, at, &text, z.s("ines")).unwrap();
    approve(&mut r, at, &text, z.s("ines")).unwrap();
    let (c, seq, msg) = failure(r.store(), &z.pin());
    assert_eq!((c.as_str(), seq), ("register-change", Some(3)), "{msg}");
    assert!(msg.contains("ines already approved"), "{msg}");
    for who in ["deploy-bot", "omar", "lena"] {
        let dir = tempfile::tempdir().unwrap();
        let mut a = z.chain(dir.path());
        let at = propose(&mut a, &text, &z.ids.fingerprint(), z.s("grace"));
        let err = approve(&mut a, at, &text, z.s(who)).unwrap_err();
        assert!(format!("{err:#}").contains("may not sign register-approval records"), "{who}: {err:#}");
    }
}

#[test]
fn a_change_comes_into_force_at_the_approval_that_reaches_the_quorum() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    let kai = Signer::new("kai", generate_key());
    let text = z.with_added(&[("kai", "operations", &["approver"], &kai)]);
    let at = propose(&mut a, &text, &z.ids.fingerprint(), z.s("grace"));
    approve(&mut a, at, &text, z.s("hugo")).unwrap();
    // One approval of two: kai is not registered yet.
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert!(chain.register.get("kai").is_none());
    approve(&mut a, at, &text, z.s("ines")).unwrap();
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert_eq!(chain.register.fingerprint(), sha256_hex(text.as_bytes()));
    // Reopened with the register in force, kai signs; the chain records who was registered when.
    let mut a = EvidenceArchive::open(a.into_store(), chain.register).unwrap();
    a.append(Kind::Approval, approval(), &kai).unwrap();
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert_eq!(chain.records.len(), 5);
    assert_eq!(chain.records[4].signer.name, "kai");
}

#[test]
fn lowering_the_quorum_needs_the_current_quorum() {
    let z = zone(3);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    let lower = z.text.replacen("register_quorum = 3", "register_quorum = 2", 1);
    let at = propose(&mut a, &lower, &z.ids.fingerprint(), z.s("grace"));
    approve(&mut a, at, &lower, z.s("hugo")).unwrap();
    approve(&mut a, at, &lower, z.s("ines")).unwrap();
    // Two approvals would be the new quorum, not the one in force.
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert_eq!(chain.register.quorum(), 3);
    approve(&mut a, at, &lower, z.s("jonas")).unwrap();
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert_eq!(chain.register.quorum(), 2);
    // A register that asks for fewer than two approvals is refused outright.
    let one = z.text.replacen("register_quorum = 3", "register_quorum = 1", 1);
    let err = Identities::parse(&one, "identities.toml").unwrap_err();
    assert!(format!("{err:#}").contains("identities.toml:1: register_quorum = 1 must be between 2 and 64"), "{err:#}");
}

#[test]
fn a_grant_never_validates_a_record_signed_before_it() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let a = z.chain(dir.path());
    // An approval by a key nobody registered yet, written raw...
    let kai = Signer::new("kai", generate_key());
    let mut r = raw(a.into_store());
    r.append(Kind::Approval, approval(), &kai).unwrap();
    // ...then a legitimate, quorum-approved grant of kai.
    let text = z.with_added(&[("kai", "operations", &["approver"], &kai)]);
    let at = propose(&mut r, &text, &z.ids.fingerprint(), z.s("grace"));
    approve(&mut r, at, &text, z.s("hugo")).unwrap();
    approve(&mut r, at, &text, z.s("ines")).unwrap();
    // The earlier approval stays invalid: it is judged by the register of its place.
    let (code, _, msg) = failure(r.store(), &z.pin());
    assert_eq!(code, "unknown-key", "{msg}");
    assert!(msg.contains("chain.jsonl:2"), "{msg}");
    // Supplying the later register as the trust root does not help either.
    let later = TrustRoot::pinned([sha256_hex(text.as_bytes())]).unwrap();
    let (code, _, msg) = failure(r.store(), &later);
    assert_eq!(code, "untrusted", "{msg}");
}

#[test]
fn a_proposal_overtaken_by_another_change_cannot_come_into_force() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    let (k1, k2) = (Signer::new("kai", generate_key()), Signer::new("kim", generate_key()));
    let first = z.with_added(&[("kai", "operations", &["approver"], &k1)]);
    let second = z.with_added(&[("kim", "operations", &["approver"], &k2)]);
    let p1 = propose(&mut a, &first, &z.ids.fingerprint(), z.s("grace"));
    let p2 = propose(&mut a, &second, &z.ids.fingerprint(), z.s("hugo"));
    approve(&mut a, p1, &first, z.s("hugo")).unwrap();
    approve(&mut a, p1, &first, z.s("ines")).unwrap();
    let mut r = raw(a.into_store());
    approve(&mut r, p2, &second, z.s("ines")).unwrap();
    let (code, seq, msg) = failure(r.store(), &z.pin());
    assert_eq!((code.as_str(), seq), ("register-change", Some(5)), "{msg}");
    assert!(msg.contains("no register change awaiting approval"), "{msg}");
}

/// Revoking a key that once signed the store's head leaves the store verifiable: each head
/// version is judged by the register of its place, and the revoked key signs nothing after.
#[test]
fn revoking_a_key_that_signed_an_earlier_head_does_not_brick_the_store() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    a.append(Kind::Approval, approval(), z.s("grace")).unwrap();
    let graces_head = head(a.store(), z.s("grace"), 1);
    let revoked = z.without("grace");
    let at = propose(&mut a, &revoked, &z.ids.fingerprint(), z.s("hugo"));
    approve(&mut a, at, &revoked, z.s("ines")).unwrap();
    approve(&mut a, at, &revoked, z.s("jonas")).unwrap();
    let register = verify_store(a.store(), &z.pin(), &[]).unwrap().register;
    assert!(register.get("grace").is_none());
    let mut a = EvidenceArchive::open(a.into_store(), register).unwrap();
    a.append(Kind::Approval, approval(), z.s("lena")).unwrap();
    let records = a.store().load().unwrap();
    let last = records.len() as u64 - 1;
    let anchors = Anchors { head: Some(head(a.store(), z.s("lena"), last)), earlier_heads: vec![graces_head.clone()], ..Default::default() };
    let chain = verify_chain_with(&records, &z.pin(), &anchors).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(chain.records.len(), 6);

    // The revoked key signs nothing after its revocation: neither a record...
    let err = a.append(Kind::Approval, approval(), z.s("grace")).unwrap_err();
    assert!(format!("{err:#}").contains("grace is not in the identities register"), "{err:#}");
    // ...nor the current head.
    let forged = Anchors { head: Some(head(a.store(), z.s("grace"), last)), earlier_heads: vec![graces_head], ..Default::default() };
    let err = verify_chain_with(&records, &z.pin(), &forged).unwrap_err();
    assert_eq!(failure_of(&err).unwrap().reason.code(), "head-signature", "{err:#}");
}

/// A head naming record `sequence` of `store`, signed by `by`.
fn head(store: &LocalStore, by: &Signer, sequence: u64) -> StoredRecord {
    let records = store.load().unwrap();
    let cp = Checkpoint { sequence, hash: sha256_hex(&records[sequence as usize].bytes), time: format_time(time::OffsetDateTime::now_utc()) };
    StoredRecord { location: format!("head.json@{sequence}"), bytes: sign_checkpoint(&cp, by).unwrap().into() }
}

#[test]
fn a_pinned_genesis_is_the_only_trust_root_a_landing_zone_chain_needs() {
    let z = zone(2);
    let dir = tempfile::tempdir().unwrap();
    let mut a = z.chain(dir.path());
    a.append(Kind::Approval, approval(), z.s("lena")).unwrap();
    let chain = verify_store(a.store(), &z.pin(), &[]).unwrap();
    assert_eq!(chain.records.len(), 2);
    // Another landing zone's genesis (a side store with a register of its own) is untrusted.
    let other = zone(2);
    let dir2 = tempfile::tempdir().unwrap();
    let side = other.chain(dir2.path());
    let (code, seq, msg) = failure(side.store(), &z.pin());
    assert_eq!((code.as_str(), seq), ("untrusted", Some(0)), "{msg}");
    // A chain that does not start with a genesis register has nothing a pin can anchor.
    let mut plain = EvidenceArchive::open(LocalStore::new(dir.path().join("plain.jsonl")), z.ids.clone()).unwrap();
    plain.append(Kind::Approval, approval(), z.s("lena")).unwrap();
    let err = verify_chain(&plain.store().load().unwrap(), &z.pin()).unwrap_err();
    assert_eq!(failure_of(&err).unwrap().reason.code(), "no-trust-root", "{err:#}");
    // The genesis itself must be signed by a person of its own security group.
    let dir3 = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir3.path().join("g.jsonl")), Identities::default()).unwrap();
    let err = a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &z.text, GENESIS).0, z.s("lena")).unwrap_err();
    assert!(format!("{err:#}").contains("may not sign register-change records"), "{err:#}");
}

/// Issue 26 (review 2): a register valid before the environment binding (a workload whose key
/// is in KMS, no `environments`) is the genesis of a chain under Object Lock: it still verifies,
/// and appends continue. Only a new register (proposed, a store's genesis, the gate's) must
/// bind such a workload (`binding::check_new_register`).
#[test]
fn a_chain_whose_genesis_register_predates_the_binding_still_verifies() {
    let z = zone(2);
    let p256 = *p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap().verifying_key();
    let text = format!(
        "{}[identity.kms-bot]\nname = \"KMS bot\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\nalgorithm = \"ecdsa-p256-sha256\"\npublic_key = \"{}\"\nkms_key = \"arn:aws:kms:eu-west-2:999999999999:key/k\"\n",
        z.text,
        encode_public_key(&p256)
    );
    let ids = Identities::parse(&text, "genesis register").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir.path().join("chain.jsonl")), Identities::default()).unwrap();
    a.append(Kind::RegisterChange, RegisterChangeEvidence::new(&rel(), &text, GENESIS).0, z.s("grace")).unwrap();
    a.append(Kind::Drift, DriftEvidence::new(&rel(), "prod", "5", vec![]).into_fields().unwrap(), z.s("deploy-bot")).unwrap();
    let store = LocalStore::new(dir.path().join("chain.jsonl"));
    let chain = verify_store(&store, &TrustRoot::pinned([ids.fingerprint()]).unwrap(), &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(chain.records.len(), 2);
    assert!(chain.register.get("kms-bot").is_some_and(|k| k.environments.is_none()));
    // As a new register, it is refused, naming the entry's line.
    let e = format!("{:#}", lz_evidence::binding::check_new_register(&ids, "identities.toml", lz_evidence::binding::NewRegister::Genesis).unwrap_err());
    let line = text.lines().position(|l| l == "[identity.kms-bot]").unwrap() + 1;
    assert!(e.contains(&format!("identities.toml:{line}: identity kms-bot: a workload whose key is in KMS")), "{e}");
}
