//! Signers other than an ed25519 key file: ECDSA P-256 keys (a local key, and an AWS KMS key
//! in LocalStack), registered with `algorithm = "ecdsa-p256-sha256"` next to ed25519
//! identities, and the insider's attempts around them: a high-S twin of a valid signature, a
//! signature by a key of the other algorithm under an identity's key id, a register entry whose
//! key is of another algorithm than it says.

mod common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use lz_evidence::identity::encode_public_key;
use lz_evidence::keys::{Algorithm, PublicKey};
use lz_evidence::record::*;
use lz_evidence::signer::{KmsSigner, P256Local};
use lz_evidence::{EvidenceArchive, Identities, LocalStore, Signer, Store, TrustRoot};

/// A register with an ed25519 approver and a P-256 deployer.
fn mixed(deployer: &PublicKey, kms_key: Option<&str>) -> (Identities, Signer) {
    let approver = lz_evidence::identity::generate_key();
    // A KMS workload names the environments it signs for (issue 26).
    let kms = kms_key.map(|k| format!("kms_key = \"{k}\"\nenvironments = [\"dev\", \"test\", \"uat\", \"preprod\", \"prod\"]\n")).unwrap_or_default();
    let text = format!(
        "[identity.deploy-bot]\nname = \"Deployment pipeline\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\n\
         algorithm = \"ecdsa-p256-sha256\"\npublic_key = \"{}\"\n{kms}\n\
         [identity.alice]\nname = \"Alice\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = \"{}\"\n",
        deployer.encode(),
        encode_public_key(&approver.verifying_key())
    );
    (Identities::parse(&text, "identities.toml").unwrap(), Signer::new("alice", approver))
}

/// Records by both signers into a local store; the records' bytes.
fn chain(dir: &std::path::Path, ids: &Identities, deployer: &Signer, approver: &Signer) -> Vec<lz_evidence::StoredRecord> {
    let mut a = EvidenceArchive::open(LocalStore::new(dir.join("chain.jsonl")), ids.clone()).unwrap();
    let release = digest("release-ecdsa");
    let plan = plan_json(&["aws_s3_bucket.logs"]);
    let pd = lz_evidence::dsse::sha256_hex(&plan);
    a.record(PlanEvidence::from_bytes(&release, "dev", "111111111111", &plan).unwrap(), deployer).unwrap();
    a.record(ApprovalEvidence::new(&release, "dev", &pd, "CHG-1"), approver).unwrap();
    a.record(DeploymentEvidence::new(&release, "dev", "111111111111", &pd, true, vec!["aws_s3_bucket.logs".into()]), deployer).unwrap();
    a.into_store().load().unwrap()
}

fn verifies(records: &[lz_evidence::StoredRecord], ids: &Identities) -> Result<(), String> {
    let root = TrustRoot::register(ids.clone(), "test");
    let batch = lz_evidence::verify_chain(records, &root).map(|_| ()).map_err(|e| format!("{e:#}"));
    let seq = lz_evidence::verify::report_with(records, &root, &Default::default(), lz_evidence::verify::Strategy::sequential()).unwrap();
    assert_eq!(batch.is_ok(), seq.ok(), "batched and sequential verification agree");
    batch
}

fn with_signature(bytes: &[u8], sig: [u8; 64]) -> Vec<u8> {
    edit_envelope(bytes, |e| e.signatures[0].sig = B64.encode(sig))
}

fn signature_of(bytes: &[u8]) -> [u8; 64] {
    let env: lz_evidence::dsse::Envelope = serde_json::from_slice(bytes).unwrap();
    B64.decode(&env.signatures[0].sig).unwrap().try_into().unwrap()
}

#[test]
fn a_p256_workload_and_an_ed25519_person_sign_one_chain_and_a_high_s_twin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
    let deployer = Signer::with_backend("deploy-bot", P256Local(key.clone()));
    let (ids, approver) = mixed(&deployer.public_key(), None);
    assert_eq!(ids.get("deploy-bot").unwrap().public_key.algorithm(), Algorithm::EcdsaP256Sha256);
    assert_eq!(ids.get("alice").unwrap().public_key.algorithm(), Algorithm::Ed25519);
    let records = chain(dir.path(), &ids, &deployer, &approver);
    verifies(&records, &ids).unwrap();

    // The insider with the deployer's valid signature makes its high-S twin: the same ECDSA
    // equation holds, the record's bytes differ. Refused.
    let low = p256::ecdsa::Signature::from_slice(&signature_of(&records[0].bytes)).unwrap();
    assert!(low.normalize_s().is_none(), "signers write low-S");
    let (r, s) = low.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    let mut forged = records.clone();
    forged[0].bytes = with_signature(&records[0].bytes, high.to_bytes().into()).into();
    let err = verifies(&forged, &ids).unwrap_err();
    assert!(err.contains("signature"), "{err}");
}

#[test]
fn a_key_of_the_other_algorithm_under_an_identity_proves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = p256::ecdsa::SigningKey::from_slice(&[11u8; 32]).unwrap();
    let deployer = Signer::with_backend("deploy-bot", P256Local(key));
    let (ids, approver) = mixed(&deployer.public_key(), None);
    let records = chain(dir.path(), &ids, &deployer, &approver);
    // The approver (ed25519) signs the deployer's record body and puts it under the deployer's
    // key id: the P-256 rule checks it, and refuses it.
    let body = lz_evidence::dsse::Envelope::sign(
        &serde_json::from_slice::<lz_evidence::dsse::Envelope>(&records[0].bytes).unwrap().payload_bytes().unwrap(),
        lz_evidence::dsse::PAYLOAD_TYPE,
        &approver,
    )
    .unwrap();
    let mut forged = records.clone();
    forged[0].bytes = edit_envelope(&records[0].bytes, |e| e.signatures[0].sig = body.signatures[0].sig.clone()).into();
    assert!(verifies(&forged, &ids).is_err());
    // A P-256 signature under the approver's (ed25519) key id: the ed25519 rule refuses it.
    let st: serde_json::Value = payload_of(&records[1].bytes);
    let payload = serde_json::to_vec(&st).unwrap();
    let p256_sig = deployer.sign(&lz_evidence::dsse::pae(lz_evidence::dsse::PAYLOAD_TYPE, &payload)).unwrap();
    let mut forged = records.clone();
    forged[1].bytes = with_signature(&records[1].bytes, p256_sig).into();
    assert!(verifies(&forged, &ids).is_err());

    // A register entry whose key is of another algorithm than it names does not parse, and
    // the error names the file and line.
    let ed = lz_evidence::identity::generate_key();
    let text = format!(
        "[identity.deploy-bot]\nname = \"D\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\n\
         algorithm = \"ecdsa-p256-sha256\"\npublic_key = \"{}\"\n",
        encode_public_key(&ed.verifying_key())
    );
    let err = format!("{:#}", Identities::parse(&text, "identities.toml").unwrap_err());
    assert!(err.contains("identities.toml:7") && err.contains("ecdsa-p256-sha256"), "{err}");
    let text = format!(
        "[identity.deploy-bot]\nname = \"D\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n",
        deployer.public_key().encode()
    );
    assert!(Identities::parse(&text, "identities.toml").is_err(), "a P-256 key without its algorithm is not an ed25519 key");
    let text = text.replace("roles = [\"deployer\"]\n", "roles = [\"deployer\"]\nalgorithm = \"rsa\"\n");
    let err = format!("{:#}", Identities::parse(&text, "identities.toml").unwrap_err());
    assert!(err.contains("unknown algorithm") && err.contains("identities.toml:6"), "{err}");
    // kms_key only with a KMS algorithm.
    let text = format!(
        "[identity.deploy-bot]\nname = \"D\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\nkms_key = \"alias/x\"\n",
        encode_public_key(&ed.verifying_key())
    );
    assert!(Identities::parse(&text, "identities.toml").is_err());
}

#[test]
fn a_re_key_from_ed25519_to_kms_is_named_in_the_register_change() {
    let ed = lz_evidence::identity::generate_key();
    let p = p256::ecdsa::SigningKey::from_slice(&[12u8; 32]).unwrap();
    let base = "[identity.deploy-bot]\nname = \"D\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\n";
    let old = Identities::parse(&format!("{base}public_key = \"{}\"\n", encode_public_key(&ed.verifying_key())), "a").unwrap();
    let new = Identities::parse(
        &format!(
            "{base}algorithm = \"ecdsa-p256-sha256\"\npublic_key = \"{}\"\nkms_key = \"alias/lz-deployer\"\nenvironments = [\"prod\"]\n",
            PublicKey::from(*p.verifying_key()).encode()
        ),
        "b",
    )
    .unwrap();
    let what = &old.changes_to(&new)["deploy-bot"];
    assert!(what.contains("re-keyed") && what.contains("algorithm ed25519 -> ecdsa-p256-sha256") && what.contains("alias/lz-deployer"), "{what}");
    // Its binding to prod is named too (issue 26).
    assert!(what.contains("environments every environment -> [prod]"), "{what}");
}

/// The pipeline identity's key in KMS (LocalStack): created as ECC_NIST_P256 / SIGN_VERIFY,
/// registered by its public key, signing records that verify like any other; a key of another
/// spec is refused by the signer before it signs anything.
#[test]
fn a_kms_key_signs_records_that_verify() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    lz_platform::localstack::require(&root).expect("LocalStack is required");
    let profiles = lz_platform::aws_setup::Profiles::load(&root).unwrap();
    let profile = profiles.get("localstack").unwrap().clone();
    let account = "121212121212";
    let load = || {
        let rt = lz_platform::aws::runtime().unwrap();
        let creds = aws_credential_types::Credentials::new(account, "test", None, None, "test");
        rt.block_on(lz_platform::aws_setup::Aws::load(&profile, "eu-west-2", lz_platform::aws_setup::Base::Static(creds))).unwrap()
    };
    let (key_id, key_arn, rsa_id) = {
        let rt = lz_platform::aws::runtime().unwrap();
        let kms = load().kms();
        rt.block_on(async {
            use aws_sdk_kms::types::{KeySpec, KeyUsageType};
            let k = kms.create_key().key_spec(KeySpec::EccNistP256).key_usage(KeyUsageType::SignVerify).send().await.unwrap();
            let m = k.key_metadata().unwrap();
            let rsa = kms.create_key().key_spec(KeySpec::Rsa2048).key_usage(KeyUsageType::SignVerify).send().await.unwrap();
            (m.key_id().to_string(), m.arn().unwrap().to_string(), rsa.key_metadata().unwrap().key_id().to_string())
        })
    };
    let err = KmsSigner::connect(load().kms(), &rsa_id).err().expect("an RSA key is refused");
    assert!(format!("{err:#}").contains("ECC_NIST_P256"), "{err:#}");
    let kms = KmsSigner::connect(load().kms(), &key_arn).unwrap();
    assert!(kms.key_id().contains(&key_id));
    let deployer = Signer::with_backend("deploy-bot", kms);
    assert!(deployer.describe().contains("KMS"));
    let (ids, approver) = mixed(&deployer.public_key(), Some(&key_arn));
    assert_eq!(ids.get("deploy-bot").unwrap().kms_key.as_deref(), Some(key_arn.as_str()));
    let dir = tempfile::tempdir().unwrap();
    let records = chain(dir.path(), &ids, &deployer, &approver);
    verifies(&records, &ids).unwrap();
    // KMS signatures are randomised: signing the same message twice gives two signatures, both
    // low-S, both valid (an append retried after a lost answer finds its own record by
    // verifying, not by re-signing: archive `find_own`).
    let m = b"the same message";
    let (a, b) = (deployer.sign(m).unwrap(), deployer.sign(m).unwrap());
    assert!(deployer.public_key().verify(&a, &[m]) && deployer.public_key().verify(&b, &[m]));
    // A tampered record signed by KMS fails like any other.
    let mut forged = records.clone();
    forged[2].bytes = edit_envelope(&records[2].bytes, |e| {
        let mut p: serde_json::Value = serde_json::from_slice(&e.payload_bytes().unwrap()).unwrap();
        p["predicate"]["environment"] = "prod".into();
        e.payload = B64.encode(serde_json::to_vec(&p).unwrap());
    })
    .into();
    assert!(verifies(&forged, &ids).is_err());
}

/// A person's ed25519 key held by a real OpenSSH agent (`ssh-agent`, `ssh-add`): the agent signs,
/// the register names the key as an ordinary ed25519 key, and the chain verifies. The key is
/// picked by comment when the agent holds several; a key the agent no longer holds signs nothing.
#[test]
fn a_person_signs_through_the_ssh_agent_and_the_chain_verifies() {
    use lz_evidence::ssh_agent::SshAgent;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent").arg("-D").arg("-a").arg(&sock).stdout(Stdio::null()).spawn().expect("ssh-agent (openssh-client) is installed");
    let started = std::time::Instant::now();
    while !sock.exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "ssh-agent did not open {}", sock.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let run = |cmd: &mut Command| {
        let out = cmd.env("SSH_AUTH_SOCK", &sock).output().unwrap();
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    for who in ["alice", "bob"] {
        let key = dir.path().join(who);
        run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", &format!("{who}@agent"), "-f"]).arg(&key));
        run(Command::new("ssh-add").arg("-q").arg(&key));
    }

    let e = SshAgent::connect(&sock, None).err().expect("two keys and no comment");
    assert!(format!("{e:#}").contains("several ed25519 keys") && format!("{e:#}").contains("alice@agent"), "{e:#}");
    let e = SshAgent::connect(&sock, Some("carol@agent")).err().expect("no such key");
    assert!(format!("{e:#}").contains("no ed25519 key with comment \"carol@agent\""), "{e:#}");
    let agent_key = SshAgent::connect(&sock, Some("alice@agent")).unwrap();
    // The agent's key is the one in alice.pub.
    let pub_line = std::fs::read_to_string(dir.path().join("alice.pub")).unwrap();
    let blob = B64.decode(pub_line.split_whitespace().nth(1).unwrap()).unwrap();
    let raw: [u8; 32] = blob[blob.len() - 32..].try_into().unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    let alice = Signer::with_backend("alice", agent_key);
    assert_eq!(alice.public_key(), PublicKey::Ed25519(key));

    // A register naming alice's agent key as an ordinary ed25519 key; the deployer a key file.
    let deployer = lz_evidence::identity::generate_key();
    let text = format!(
        "[identity.deploy-bot]\nname = \"Deployment pipeline\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n\n\
         [identity.alice]\nname = \"Alice\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = \"{}\"\n",
        encode_public_key(&deployer.verifying_key()),
        encode_public_key(&key)
    );
    let ids = Identities::parse(&text, "identities.toml").unwrap();
    let records = chain(dir.path(), &ids, &Signer::new("deploy-bot", deployer), &alice);
    verifies(&records, &ids).expect("a chain with an approval signed by the ssh-agent verifies");

    // Removed from the agent, the key signs nothing (and nothing falls back to another key).
    run(Command::new("ssh-add").arg("-q").arg("-d").arg(dir.path().join("alice.pub")));
    let e = lz_evidence::signer::SignerBackend::sign(&SshAgent::connect(&sock, Some("bob@agent")).unwrap(), b"x").map(|_| ());
    assert!(e.is_ok(), "bob's key still signs");
    let dir2 = tempfile::tempdir().unwrap();
    let mut a = EvidenceArchive::open(LocalStore::new(dir2.path().join("chain.jsonl")), ids.clone()).unwrap();
    let e = a.record(ApprovalEvidence::new(&digest("r"), "dev", &digest("p"), "CHG-2"), &alice).err().expect("alice's key is gone from the agent");
    assert!(format!("{e:#}").contains("refused to sign"), "{e:#}");
    agent.kill().unwrap();
    agent.wait().unwrap();
}
