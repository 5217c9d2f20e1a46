//! Per-environment signing identities on the shipped binary (issue 26), against a rehearsal's own
//! stores in LocalStack: dev's pipeline deployer (`deployer-bot-dev`, bound to dev in the
//! register) cannot append a prod record through `evidence append` (exit 1, refused), and the same
//! record written raw to the evidence store (a writer that checks nothing) makes `evidence verify`
//! exit 1 naming it.

mod common;

use common::{checkout, key, ok, xtask};
use lz_evidence::record::{Fields, Kind};

#[test]
fn a_dev_key_on_a_prod_record_is_refused_by_append_and_by_evidence_verify() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    ok(d.path(), &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys.path(), "bob")]);
    let release = lz_evidence::dsse::sha256_hex(b"signing identity cli release");
    let append = |who: &str, env: &str| {
        xtask(
            d.path(),
            &["evidence", "append", "--kind", "drift", "--identity", who, "--key", &key(keys.path(), who), "--release", &release, "--env", env, "--detail", "resources=[]"],
        )
    };
    let (code, out, err) = append("deployer-bot-dev", "prod");
    assert_eq!(code, 1, "{out}{err}");
    assert!(format!("{out}{err}").contains("deployer-bot-dev is bound to dev and may not sign a record of prod"), "{out}{err}");
    // Its own environment's record, and prod's deployer on prod's, are appended.
    for (who, env) in [("deployer-bot-dev", "dev"), ("deployer-bot-prod", "prod")] {
        let (code, out, err) = append(who, env);
        assert_eq!(code, 0, "{who} in {env}: {out}{err}");
    }
    ok(d.path(), &["evidence", "verify"]);

    // The insider writes the refused record raw into the store: the sealed envelope PUT at the
    // next record key, as any holder of the store's write permission could.
    let stores = lz_promote::stores::Stores::load(d.path(), lz_platform::localstack::ENDPOINT).unwrap();
    let raw = lz_evidence::EvidenceArchive::open_unchecked(stores.evidence().unwrap()).unwrap();
    let dev = lz_evidence::Signer::from_file("deployer-bot-dev", std::path::Path::new(&key(keys.path(), "deployer-bot-dev"))).unwrap();
    let fields = Fields::new(&release).environment("prod").at(time::OffsetDateTime::now_utc()).details(lz_evidence::details::DriftDetails {
        drifted: Some(false),
        resources: Some(vec![]),
        ..Default::default()
    });
    let sequence = raw.next_sequence();
    let st = lz_evidence::archive::statement(Kind::Drift, fields, "deployer-bot-dev", sequence, raw.head_hash()).unwrap();
    let bytes = lz_evidence::archive::seal(&st, &dev).unwrap();
    let object = format!("records/{sequence:012}.json");
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(stores.s3().unwrap().put_object().bucket(&stores.evidence_bucket).key(&object).body(bytes.into()).send()).unwrap();
    let (code, out, err) = xtask(d.path(), &["evidence", "verify"]);
    let both = format!("{out}{err}");
    assert_eq!(code, 1, "{both}");
    // The verifier sets the object aside as no valid record, and says why.
    let line = both.lines().find(|l| l.starts_with("FOREIGN:") && l.contains(&object)).unwrap_or_else(|| panic!("no FOREIGN line for {object}:\n{both}"));
    assert!(line.contains("deployer-bot-dev is bound to dev and may not sign a record of prod"), "{line}");
}
