//! Delegations of approval classes (issue 31) as the archive and the verifier judge them: only
//! the delegator signs a delegation; the delegate is another registered person with the
//! approver role; the period is bounded; no cycle and no re-delegation; a revocation is the
//! delegator's record; an approval that claims a delegation names one that holds. Each rule
//! is tried both through the archive (refused at append) and as an insider's raw store write
//! (rejected by verification, naming the record).

mod common;

use common::digest;
use lz_evidence::archive::{seal, statement};
use lz_evidence::details::{ApprovalDetails, ClassApproval, DelegationDetails, DelegationRevocationDetails};
use lz_evidence::dsse::sha256_hex;
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::{Fields, Kind, GENESIS};
use lz_evidence::store::sign_checkpoint;
use lz_evidence::{failure_of, verify_store, Checkpoint, EvidenceArchive, Identities, LocalStore, Signer, Store, TrustRoot};
use proptest::prelude::*;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-02 12:00 UTC);

struct People {
    register: Identities,
    signers: Vec<Signer>,
}

/// p0..p3: persons of the security group with the approver role; author: an author only.
fn people() -> People {
    let mut text = String::new();
    let mut signers = Vec::new();
    for (name, roles) in [("p0", "\"approver\""), ("p1", "\"approver\""), ("p2", "\"approver\""), ("p3", "\"approver\""), ("author", "\"author\"")] {
        let k = generate_key();
        text.push_str(&format!(
            "[identity.{name}]\nname = \"{name}\"\nkind = \"person\"\ngroup = \"security\"\nroles = [{roles}]\npublic_key = \"{}\"\n\n",
            encode_public_key(&k.verifying_key())
        ));
        signers.push(Signer::new(name, k));
    }
    People { register: Identities::parse(&text, "identities.toml").unwrap(), signers }
}

fn delegation(from: &str, to: &str, class: &str, start: OffsetDateTime, days: i64) -> Fields {
    let t = |x: OffsetDateTime| lz_evidence::record::format_time(x);
    Fields::new(GENESIS).at(NOW).details(DelegationDetails {
        delegator: from.into(),
        delegate: to.into(),
        class: class.into(),
        from: t(start),
        until: t(start + time::Duration::days(days)),
        ..Default::default()
    })
}

fn approval(claim: ClassApproval, at: OffsetDateTime) -> Fields {
    Fields::new(digest("r")).environment("prod").plan_digest(digest("plan")).at(at).details(ApprovalDetails {
        decision: Some("approved".into()),
        classes: Some(vec![claim]),
        ..Default::default()
    })
}

fn claim(class: &str, delegator: &str, record: u64) -> ClassApproval {
    ClassApproval {
        class: class.into(),
        control: "keys".into(),
        basis: "delegation".into(),
        delegator: Some(delegator.into()),
        delegation: Some(record),
        shift_until: None,
    }
}

/// The chain of `dir`, opened for appending as every decision command opens it: after
/// verifying it, so that each append is judged by the verifier's rules.
struct Chain<'a> {
    p: &'a People,
    path: std::path::PathBuf,
}

impl Chain<'_> {
    fn append(&mut self, kind: Kind, fields: Fields, signer: &Signer) -> anyhow::Result<lz_evidence::RecordRef> {
        let store = LocalStore::new(&self.path);
        let mut a = if self.path.exists() {
            let chain = verify_store(&store, &TrustRoot::register(self.p.register.clone(), "test register"), &[])?;
            EvidenceArchive::open_verified(store, &chain)?
        } else {
            EvidenceArchive::open(store, self.p.register.clone())?
        };
        a.append(kind, fields, signer)
    }
}

/// A chain whose first record (a delegation of an unrelated class) is in place, so that every
/// later append is judged on the verified chain.
fn archive<'a>(p: &'a People, dir: &tempfile::TempDir) -> Chain<'a> {
    let mut c = Chain { p, path: dir.path().join("c.jsonl") };
    c.append(Kind::Delegation, delegation("p3", "p2", "unrelated", NOW, 1), &p.signers[3]).unwrap();
    c
}

fn refused(r: anyhow::Result<lz_evidence::RecordRef>, says: &str) {
    let e = r.map(|x| x.sequence).expect_err(says);
    assert!(format!("{e:#}").contains(says), "wanted {says:?}, got: {e:#}");
}

/// Appends `kind` with `fields` signed by `signer` raw (no archive check), as the next record
/// after `last` (sequence, hash), with a signed head: what an insider with that key can write.
fn raw(path: &std::path::Path, kind: Kind, fields: Fields, signer: &Signer, last: (u64, &str)) {
    let st = statement(kind, fields, signer.identity(), last.0 + 1, last.1).unwrap();
    let bytes = seal(&st, signer).unwrap();
    let head = sign_checkpoint(&Checkpoint { sequence: last.0 + 1, hash: sha256_hex(&bytes), time: st.predicate.time.clone() }, signer).unwrap();
    LocalStore::new(path).append(last.0 + 1, last.1, &[bytes], &head).unwrap();
}

fn rejected(p: &People, path: &std::path::Path, sequence: u64, says: &str) {
    let root = TrustRoot::register(p.register.clone(), "test register");
    let err = verify_store(&LocalStore::new(path), &root, &[]).expect_err(says);
    let f = failure_of(&err).unwrap_or_else(|| panic!("not a verification failure: {err:#}"));
    assert_eq!((f.reason.code(), f.sequence), ("delegation", Some(sequence)), "{f}");
    assert!(f.to_string().contains(says), "wanted {says:?}, got {f}");
}

#[test]
fn a_delegation_written_by_another_key_than_the_delegator_is_refused_and_rejected_raw() {
    let p = people();
    let dir = tempfile::tempdir().unwrap();
    let mut a = archive(&p, &dir);
    // p1 writes a delegation in p0's name to themselves.
    refused(a.append(Kind::Delegation, delegation("p0", "p1", "keys", NOW, 7), &p.signers[1]), "only the delegator signs a delegation");
    let first = a.append(Kind::Delegation, delegation("p2", "p3", "secrets", NOW, 7), &p.signers[2]).unwrap();
    let path = dir.path().join("c.jsonl");
    raw(&path, Kind::Delegation, delegation("p0", "p1", "keys", NOW, 7), &p.signers[1], (first.sequence, &first.hash));
    rejected(&p, &path, first.sequence + 1, "only the delegator signs a delegation");
}

#[test]
fn delegations_are_bounded_to_registered_approvers_other_than_the_delegator() {
    let p = people();
    let dir = tempfile::tempdir().unwrap();
    let mut a = archive(&p, &dir);
    let s0 = &p.signers[0];
    refused(a.append(Kind::Delegation, delegation("p0", "p1", "keys", NOW, 91), s0), "more than 90 days");
    refused(a.append(Kind::Delegation, delegation("p0", "p0", "keys", NOW, 7), s0), "delegates to themselves");
    refused(a.append(Kind::Delegation, delegation("p0", "ghost", "keys", NOW, 7), s0), "not a registered identity");
    refused(a.append(Kind::Delegation, delegation("p0", "author", "keys", NOW, 7), s0), "not a person with the approver role");
    refused(a.append(Kind::Delegation, delegation("p0", "p1", "keys", NOW - time::Duration::days(9), 7), s0), "before it was signed");
    a.append(Kind::Delegation, delegation("p0", "p1", "keys", NOW, 90), s0).unwrap();
}

#[test]
fn cycles_and_re_delegation_are_refused_and_a_raw_cycle_is_rejected() {
    let p = people();
    let dir = tempfile::tempdir().unwrap();
    let mut a = archive(&p, &dir);
    a.append(Kind::Delegation, delegation("p0", "p1", "keys", NOW, 7), &p.signers[0]).unwrap();
    refused(a.append(Kind::Delegation, delegation("p1", "p0", "keys", NOW, 7), &p.signers[1]), "closes a cycle");
    refused(a.append(Kind::Delegation, delegation("p1", "p2", "keys", NOW, 7), &p.signers[1]), "no re-delegation");
    // Another class, or a period that does not overlap, is another matter.
    a.append(Kind::Delegation, delegation("p1", "p2", "secrets", NOW, 7), &p.signers[1]).unwrap();
    let later = a.append(Kind::Delegation, delegation("p1", "p2", "keys", NOW + time::Duration::days(8), 7), &p.signers[1]).unwrap();
    let path = dir.path().join("c.jsonl");
    raw(&path, Kind::Delegation, delegation("p1", "p0", "keys", NOW, 7), &p.signers[1], (later.sequence, &later.hash));
    rejected(&p, &path, later.sequence + 1, "closes a cycle");
}

#[test]
fn revocation_is_the_delegators_and_an_approval_claiming_a_revoked_delegation_is_refused() {
    let p = people();
    let dir = tempfile::tempdir().unwrap();
    let mut a = archive(&p, &dir);
    let d = a.append(Kind::Delegation, delegation("p0", "p1", "keys", NOW, 7), &p.signers[0]).unwrap();
    let at = NOW + time::Duration::hours(1);
    // While it holds, p1's approval may claim it; not for another class, nor from another delegator.
    refused(a.append(Kind::Approval, approval(claim("secrets", "p0", d.sequence), at), &p.signers[1]), "not class secrets");
    refused(a.append(Kind::Approval, approval(claim("keys", "p2", d.sequence), at), &p.signers[1]), "from p2");
    refused(a.append(Kind::Approval, approval(claim("keys", "p0", d.sequence), at), &p.signers[2]), "to p2");
    refused(a.append(Kind::Approval, approval(claim("keys", "p0", d.sequence), NOW + time::Duration::days(8)), &p.signers[1]), "outside the period");
    a.append(Kind::Approval, approval(claim("keys", "p0", d.sequence), at), &p.signers[1]).unwrap();
    let rev = |s| Fields::new(GENESIS).at(at).details(DelegationRevocationDetails { delegation_sequence: s, ..Default::default() });
    refused(a.append(Kind::DelegationRevocation, rev(d.sequence), &p.signers[1]), "cannot revoke it");
    refused(a.append(Kind::DelegationRevocation, rev(99), &p.signers[0]), "no earlier delegation record");
    let r = a.append(Kind::DelegationRevocation, rev(d.sequence), &p.signers[0]).unwrap();
    refused(a.append(Kind::DelegationRevocation, rev(d.sequence), &p.signers[0]), "revoked already");
    refused(a.append(Kind::Approval, approval(claim("keys", "p0", d.sequence), at), &p.signers[1]), "was revoked");
    // Written raw, the approval on a revoked delegation is rejected by verification.
    let path = dir.path().join("c.jsonl");
    raw(&path, Kind::Approval, approval(claim("keys", "p0", d.sequence), at), &p.signers[1], (r.sequence, &r.hash));
    rejected(&p, &path, r.sequence + 1, "was revoked");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever delegations people try, among one class and overlapping periods, the ones the
    /// archive accepts never form a cycle nor a chain longer than one hop.
    #[test]
    fn accepted_delegations_form_no_cycle_and_no_chain(tries in proptest::collection::vec((0usize..4, 0usize..4, 0i64..3), 1..12)) {
        let p = people();
        let dir = tempfile::tempdir().unwrap();
        let mut a = archive(&p, &dir);
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (from, to, offset) in tries {
            let start = NOW + time::Duration::hours(offset);
            let name = |i: usize| format!("p{i}");
            if a.append(Kind::Delegation, delegation(&name(from), &name(to), "keys", start, 7), &p.signers[from]).is_ok() {
                edges.push((from, to));
            }
        }
        for (f, t) in &edges {
            prop_assert!(f != t);
            // A delegate never delegates the class, nor a delegator receives it (periods here
            // all overlap): chains are one hop.
            prop_assert!(!edges.iter().any(|(f2, _)| f2 == t), "{edges:?}");
        }
            let root = TrustRoot::register(p.register.clone(), "test register");
        prop_assert!(verify_store(&LocalStore::new(dir.path().join("c.jsonl")), &root, &[]).is_ok());
    }
}
