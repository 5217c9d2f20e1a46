//! `cargo xtask evidence` under attack: exit 1 for a refused or tampered chain, exit 2 for
//! malformed input, never a panic (101). Each case runs against a throwaway repository whose
//! register holds keys this test generated.

use std::path::{Path, PathBuf};
use std::process::Command;

use lz_evidence::bundle::{write_bundle, BundleHeader, BUNDLE_FORMAT};
use lz_evidence::dsse::sha256_hex;
use lz_evidence::identity::{encode_public_key, generate_key, write_private_key};
use lz_evidence::record::*;
use lz_evidence::store::sign_checkpoint;
use lz_evidence::{Checkpoint, EvidenceArchive, Identities, LocalStore, Signer, Store};

struct Repo {
    dir: tempfile::TempDir,
    ids: Identities,
}

const PEOPLE: &[(&str, &str, &str, &str)] = &[
    ("deploy-bot", "workload", "platform", "\"deployer\""),
    ("grace", "person", "security", "\"approver\", \"reviewer\""),
    ("priya", "person", "platform", "\"author\", \"reviewer\""),
    ("sam", "person", "operations", "\"break-glass\""),
];

impl Repo {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn key(&self, name: &str) -> PathBuf {
        self.root().join(format!("keys/{name}.key"))
    }

    fn signer(&self, name: &str) -> Signer {
        Signer::from_file(name, &self.key(name)).unwrap()
    }

    fn store(&self) -> LocalStore {
        LocalStore::default_for(self.root(), "main")
    }

    /// Runs the CLI on this repository's local chain (`--store local`: these cases are about
    /// verification itself; the landing zone's S3 store has tests of its own).
    fn run(&self, args: &[&str]) -> (i32, String) {
        let mut args: Vec<&str> = args.to_vec();
        if args.first() == Some(&"evidence") && matches!(args.get(1), Some(&("verify" | "query" | "export" | "append"))) {
            args.splice(2..2, ["--store", "local"]);
            // These chains start from the throwaway repository's register, which the verifier
            // names as its trust root (no landing zone, no pinned genesis here).
            if !args.iter().any(|a| *a == "--trust-root" || *a == "--pin" || *a == "--bundle") {
                args.extend(["--trust-root", "governance/identities.toml"]);
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(&args)
            .env("LZ_ROOT", self.root())
            .current_dir(self.root())
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    fn expect(&self, args: &[&str], code: i32, want: &str) -> String {
        let (got, text) = self.run(args);
        assert_eq!(got, code, "{args:?}: exit {got}, want {code}\n{text}");
        assert!(text.contains(want), "{args:?}: want {want:?} in\n{text}");
        text
    }
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("governance")).unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let mut text = String::new();
    for (name, kind, group, roles) in PEOPLE {
        let key = generate_key();
        write_private_key(&dir.path().join(format!("keys/{name}.key")), &key).unwrap();
        text.push_str(&format!(
            "[identity.{name}]\nname = \"{name}\"\nkind = \"{kind}\"\ngroup = \"{group}\"\nroles = [{roles}]\npublic_key = \"{}\"\n\n",
            encode_public_key(&key.verifying_key())
        ));
    }
    std::fs::write(dir.path().join("governance/identities.toml"), &text).unwrap();
    let ids = Identities::parse(&text, "identities.toml").unwrap();
    Repo { dir, ids }
}

fn release() -> String {
    sha256_hex(b"cli release")
}

/// Three drift records and an approval on the repository's main chain.
fn chain(r: &Repo) {
    let mut a = EvidenceArchive::open(r.store(), r.ids.clone()).unwrap();
    for i in 0..3 {
        a.record(DriftEvidence::new(&release(), "prod", "5", vec![format!("aws_s3_bucket.b{i}")]), &r.signer("deploy-bot")).unwrap();
    }
    a.record(ApprovalEvidence::new(&release(), "prod", &sha256_hex(b"plan"), "CHG-1"), &r.signer("grace")).unwrap();
}

#[test]
fn an_intact_chain_verifies_and_answers_queries() {
    let r = repo();
    chain(&r);
    r.expect(&["evidence", "verify"], 0, "ok: 4 records verified");
    r.expect(&["evidence", "query", "--identity", "deploy-bot"], 0, "3 record(s)");
    r.expect(&["evidence", "query", "--release", &release()[..10]], 0, "environment prod");
}

#[test]
fn editing_the_sidecar_index_hides_nothing() {
    let r = repo();
    chain(&r);
    let store = r.store();
    let mut idx = lz_evidence::query::Index::for_local(&store).unwrap();
    idx.entries.retain(|e| e.identity != "grace");
    for e in &mut idx.entries {
        e.identity = "someone-else".into();
    }
    std::fs::write(store.index_path(), serde_json::to_vec(&idx).unwrap()).unwrap();
    r.expect(&["evidence", "query", "--identity", "grace"], 0, "1 record(s)");
    r.expect(&["evidence", "query", "--identity", "deploy-bot"], 0, "3 record(s)");
}

#[test]
fn a_non_ascii_release_is_tampering_not_a_panic() {
    let r = repo();
    chain(&r);
    // The insider appends a record whose release field is not a digest (bypassing the checks).
    let raw = EvidenceArchive::open_unchecked(r.store()).unwrap();
    let st = lz_evidence::archive::statement(Kind::Drift, DriftEvidence::new(&release(), "prod", "5", vec![]).0, "deploy-bot", raw.next_sequence(), raw.head_hash()).unwrap();
    let mut v = serde_json::to_value(&st).unwrap();
    v["predicate"]["release"] = "é".repeat(20).into();
    v["subject"][0]["digest"]["sha256"] = "é".repeat(20).into();
    let st: Statement = serde_json::from_value(v).unwrap();
    let bytes = lz_evidence::archive::seal(&st, &r.signer("deploy-bot")).unwrap();
    let head = sign_checkpoint(&Checkpoint { sequence: 4, hash: sha256_hex(&bytes), time: now_rfc3339() }, &r.signer("deploy-bot")).unwrap();
    let mut store = raw.into_store();
    store.append(4, &lz_evidence::dsse::sha256_hex(&store.last().unwrap().unwrap().bytes), &[bytes], &head).unwrap();
    r.expect(&["evidence", "query", "--identity", "deploy-bot"], 1, "TAMPERED");
    r.expect(&["evidence", "verify"], 1, "subject-digest");
}

#[test]
fn truncation_under_a_re_signed_head_is_caught_by_the_remembered_checkpoint() {
    let r = repo();
    chain(&r);
    r.expect(&["evidence", "verify"], 0, "ok: 4 records");
    let store = r.store();
    let records = store.load().unwrap();
    std::fs::write(store.path(), [records[0].bytes.to_vec(), b"\n".to_vec()].concat()).unwrap();
    let cp = Checkpoint { sequence: 0, hash: sha256_hex(&records[0].bytes), time: now_rfc3339() };
    // Unsigned head: not trusted.
    std::fs::write(store.checkpoint_path(), serde_json::to_vec(&cp).unwrap()).unwrap();
    r.expect(&["evidence", "verify"], 1, "unsigned-head");
    // Head re-signed with the insider's registered key: the cache of the last verification
    // still names sequence 3.
    std::fs::write(store.checkpoint_path(), sign_checkpoint(&cp, &r.signer("deploy-bot")).unwrap()).unwrap();
    r.expect(&["evidence", "verify"], 1, "[truncated]");
    // A checkpoint given on the command line works the same way.
    std::fs::remove_dir_all(r.root().join(".tools/evidence/verified")).unwrap();
    r.expect(&["evidence", "verify"], 0, "ok: 1 records");
    let cp3 = format!("3:{}", sha256_hex(&records[3].bytes));
    r.expect(&["evidence", "verify", "--checkpoint", &cp3], 1, "[truncated]");
}

#[test]
fn a_deleted_chain_does_not_verify_as_empty() {
    let r = repo();
    chain(&r);
    r.expect(&["evidence", "verify"], 0, "ok: 4 records");
    let store = r.store();
    std::fs::remove_file(store.path()).unwrap();
    std::fs::remove_file(store.checkpoint_path()).unwrap();
    r.expect(&["evidence", "verify"], 1, "the chain was deleted");
}

#[test]
fn bundles_need_a_trust_root_from_the_verifier() {
    let r = repo();
    chain(&r);
    let bundle = r.root().join("release.bundle");
    let b = bundle.to_str().unwrap();
    let grace = r.key("grace");
    let out = r.expect(&["evidence", "export", "--release", &release(), "--out", b, "--as", "grace", "--key", grace.to_str().unwrap()], 0, "exported 4 records");
    let pin = out.split("--pin ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(pin, r.ids.fingerprint());
    r.expect(&["evidence", "verify", "--bundle", b], 1, "no trust root");
    r.expect(&["evidence", "verify", "--bundle", b, "--trust-root", "governance/identities.toml"], 0, "ok: 4 records");
    r.expect(&["evidence", "verify", "--bundle", b, "--pin", &pin], 0, "ok: 4 records");
    r.expect(&["evidence", "verify", "--bundle", b, "--pin", &sha256_hex(b"other")], 1, "no trust root");

    // A bundle carrying its own forged register, records signed by the forger's keys.
    let forger = repo();
    let mut a = EvidenceArchive::open(LocalStore::new(forger.root().join("f.jsonl")), forger.ids.clone()).unwrap();
    a.record(ApprovalEvidence::new(&release(), "prod", &sha256_hex(b"plan"), "CHG-1"), &forger.signer("grace")).unwrap();
    let store = a.into_store();
    let records = store.load().unwrap();
    let header = BundleHeader {
        format: BUNDLE_FORMAT.into(),
        release: release(),
        exported: now_rfc3339(),
        checkpoint: store.checkpoint().unwrap().unwrap(),
        identities_sha256: forger.ids.fingerprint(),
        identities: forger.ids.source().to_string(),
        records: 1,
        focus: vec![0],
        exporter: "grace".into(),
        witnessed: None,
    };
    let forged = r.root().join("forged.bundle");
    write_bundle(&forged, &header, &records, &forger.signer("grace")).unwrap();
    let f = forged.to_str().unwrap();
    r.expect(&["evidence", "verify", "--bundle", f], 1, "no trust root");
    r.expect(&["evidence", "verify", "--bundle", f, "--trust-root", "governance/identities.toml"], 1, "[unknown-key]");
    r.expect(&["evidence", "verify", "--bundle", f, "--pin", &pin], 1, "no trust root");
}

#[test]
fn the_trust_root_can_be_read_at_a_git_revision() {
    let r = repo();
    chain(&r);
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(r.root())
            .output()
            .unwrap();
        assert!(ok.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&ok.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "governance/identities.toml"]);
    git(&["commit", "-q", "-m", "register"]);
    // The working tree's register is edited afterwards (a key swapped); the committed one decides.
    let text = std::fs::read_to_string(r.root().join("governance/identities.toml")).unwrap();
    let other = encode_public_key(&generate_key().verifying_key());
    let grace_key = encode_public_key(&r.ids.get("grace").unwrap().public_key);
    std::fs::write(r.root().join("governance/identities.toml"), text.replace(&grace_key, &other)).unwrap();
    r.expect(&["evidence", "verify"], 1, "[unknown-key]");
    r.expect(&["evidence", "verify", "--trust-root", "governance/identities.toml@HEAD"], 0, "ok: 4 records");
    r.expect(&["evidence", "verify", "--trust-root", "governance/identities.toml@no-such-rev"], 2, "cannot read governance/identities.toml at revision no-such-rev");
}

struct Cli {
    name: &'static str,
    args: fn(&Repo) -> Vec<String>,
    code: i32,
    want: &'static str,
}

fn append_args(r: &Repo, kind: &str, who: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["evidence", "append", "--kind", kind, "--identity", who, "--key"].iter().map(|s| s.to_string()).collect();
    v.push(r.key(who).display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

const CLI_CASES: &[Cli] = &[
    Cli {
        name: "a deployer appends an approval",
        args: |r| append_args(r, "approval", "deploy-bot", &["--release", &release(), "--env", "prod", "--plan-digest", &release(), "--ticket", "CHG-1"]),
        code: 1,
        want: "REFUSED: identity deploy-bot may not sign approval records",
    },
    Cli {
        name: "a workload claims release authorship",
        args: |r| append_args(r, "release", "deploy-bot", &["--release", &release(), "--detail", "manifest_sha256=x"]),
        code: 1,
        want: "may not sign release records",
    },
    Cli {
        name: "break-glass until 2099",
        args: |r| {
            let extra = ["--release", &release(), "--env", "prod", "--ticket", "INC-1", "--reason", "x", "--detail", "expires=2099-01-01T00:00:00Z"];
            append_args(r, "break-glass", "sam", &extra)
        },
        code: 1,
        want: "at most 240 are allowed",
    },
    Cli {
        name: "a deployer appends a drift record (control)",
        args: |r| append_args(r, "drift", "deploy-bot", &["--release", &release(), "--env", "prod", "--detail", "drifted=false"]),
        code: 0,
        want: "appended drift record",
    },
    Cli {
        name: "a malformed release digest",
        args: |r| append_args(r, "drift", "deploy-bot", &["--release", "é-not-a-digest", "--env", "prod"]),
        code: 2,
        want: "is not 64 lowercase hex digits",
    },
    Cli { name: "a malformed checkpoint", args: |_| vec!["evidence".into(), "verify".into(), "--checkpoint".into(), "seven".into()], code: 2, want: "is not SEQUENCE:HASH" },
    Cli { name: "a malformed pin", args: |_| vec!["evidence".into(), "verify".into(), "--pin".into(), "abc".into()], code: 2, want: "is not 64 hex digits" },
    Cli {
        name: "a register that is not TOML",
        args: |_| vec!["evidence".into(), "verify".into(), "--trust-root".into(), "keys/grace.key".into()],
        code: 2,
        want: "keys/grace.key:1",
    },
];

#[test]
fn command_line_cases_exit_with_their_codes() {
    let r = repo();
    chain(&r);
    for case in CLI_CASES {
        let args = (case.args)(&r);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, text) = r.run(&args);
        assert_ne!(code, 101, "{}: panicked\n{text}", case.name);
        assert_eq!(code, case.code, "{}: exit {code}\n{text}", case.name);
        assert!(text.contains(case.want), "{}: want {:?} in\n{text}", case.name, case.want);
    }
}

/// Issue 23's bricking appends through the command line: records the verifier would reject
/// because of earlier records (a deployment naming break-glass 9999, an approval of no
/// break-glass, a checkpoint naming a wrong hash) are refused with exit 1 and the verifier's
/// reason before anything is written; the store still verifies and an honest append follows.
#[test]
fn appends_that_would_brick_the_store_are_refused() {
    let r = repo();
    chain(&r);
    let expires = time::OffsetDateTime::now_utc() + time::Duration::minutes(60);
    let expires = expires.format(&time::format_description::well_known::Rfc3339).unwrap();
    let bg = ["--release", &release(), "--env", "prod", "--ticket", "INC-1", "--reason", "outage", "--detail", &format!("expires={expires}")];
    let args = append_args(&r, "break-glass", "sam", &bg);
    r.expect(&args.iter().map(String::as_str).collect::<Vec<_>>(), 0, "appended break-glass record sequence 4");
    let rel = release();
    let hash = "ab".repeat(32);
    let cases: [(&str, Vec<String>, &str); 3] = [
        (
            "break_glass=9999",
            append_args(&r, "deployment", "deploy-bot", &["--release", &rel, "--env", "prod", "--plan-digest", &rel, "--detail", "outcome=succeeded", "--detail", "break_glass=9999"]),
            "the deployment names break-glass 9999, which is no earlier break-glass record",
        ),
        (
            "approval of no break-glass",
            append_args(&r, "break-glass-approval", "grace", &["--release", &rel, "--env", "prod", "--reason", "ok", "--detail", "break_glass_sequence=9999"]),
            "sequence 9999 is not an earlier break-glass record",
        ),
        (
            "checkpoint naming a wrong hash",
            append_args(&r, "checkpoint", "deploy-bot", &["--release", &rel, "--detail", "checkpoint_sequence=1", "--detail", &format!("checkpoint_hash={hash}")]),
            "the hash it records for sequence 1 is not that record's hash",
        ),
    ];
    for (case, args, want) in cases {
        let text = r.expect(&args.iter().map(String::as_str).collect::<Vec<_>>(), 1, want);
        assert!(text.contains("REFUSED: refusing a") && text.contains("that verification would reject"), "{case}: {text}");
        r.expect(&["evidence", "verify"], 0, "ok: 5 records verified");
    }
    let control = append_args(&r, "drift", "deploy-bot", &["--release", &rel, "--env", "prod", "--detail", "drifted=false"]);
    r.expect(&control.iter().map(String::as_str).collect::<Vec<_>>(), 0, "appended drift record sequence 5");
    r.expect(&["evidence", "verify"], 0, "ok: 6 records verified");
}

/// Approval classes (issue 31): "who approved changes to keys in prod in Q4, and on what
/// basis" answered from the verified chain: the approval's class, control and basis, and only
/// those in the range and environment asked for.
#[test]
fn query_by_class_names_who_approved_with_control_and_basis() {
    let r = repo();
    let mut a = EvidenceArchive::open(r.store(), r.ids.clone()).unwrap();
    let approval = |env: &str, at: &str| {
        lz_evidence::Fields::new(release())
            .environment(env)
            .plan_digest(sha256_hex(b"plan"))
            .at(lz_evidence::record::parse_time(at).unwrap())
            .details(lz_evidence::details::ApprovalDetails {
                decision: Some("approved".into()),
                classes: Some(vec![lz_evidence::details::ClassApproval {
                    class: "keys".into(),
                    control: "LZ-APR-KEYS".into(),
                    basis: "in-person".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            })
    };
    for (env, at) in [("prod", "2026-09-30T10:00:00Z"), ("prod", "2026-11-02T10:00:00Z"), ("preprod", "2026-11-03T10:00:00Z")] {
        a.append(lz_evidence::record::Kind::Approval, approval(env, at), &r.signer("grace")).unwrap();
    }
    let out = r.expect(&["evidence", "query", "--class", "keys", "--env", "prod", "--since", "2026-10-01", "--until", "2026-12-31"], 0, "1 approval(s) for class keys");
    assert!(out.contains("#1") && out.contains("grace") && out.contains("control=\"LZ-APR-KEYS\" in-person"), "{out}");
    r.expect(&["evidence", "query", "--class", "secrets"], 0, "0 approval(s) for class secrets");
}
