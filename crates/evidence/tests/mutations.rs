//! Every way of tampering with a chain is detected, with the right reason at the right record.

mod common;

use common::*;
use lz_evidence::dsse::{pae, sha256_hex, Envelope, Signature};
use lz_evidence::record::Kind;
use lz_evidence::verify::{report_of_store, report_with, Anchors, KnownCheckpoint, Strategy};
use lz_evidence::{verify, Checkpoint, LocalStore, Store, TrustRoot};
use serde_json::{json, Value};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

struct Ctx {
    team: Team,
    lines: Vec<Vec<u8>>,
    checkpoint: Option<Checkpoint>,
}

impl Ctx {
    fn hash(&self, i: usize) -> String {
        sha256_hex(&self.lines[i])
    }
}

struct Case {
    name: &'static str,
    mutate: fn(&mut Ctx),
    code: &'static str,
    /// Line of the records file reported, or 0 for the checkpoint.
    line: usize,
}

fn flip_payload_char(bytes: &[u8]) -> Vec<u8> {
    edit_envelope(bytes, |e| {
        let mid = e.payload.len() / 2;
        let c = e.payload.as_bytes()[mid];
        let r = if c == b'A' { "B" } else { "A" };
        e.payload.replace_range(mid..mid + 1, r);
    })
}

const CASES: &[Case] = &[
    Case { name: "modify a byte of a payload", mutate: |c| c.lines[3] = flip_payload_char(&c.lines[3]), code: "signature", line: 4 },
    Case { name: "delete a record in the middle", mutate: |c| drop(c.lines.remove(5)), code: "gap", line: 6 },
    Case { name: "delete the last record", mutate: |c| drop(c.lines.pop()), code: "truncated", line: 0 },
    Case { name: "reorder two records", mutate: |c| c.lines.swap(4, 5), code: "reordered", line: 5 },
    Case { name: "truncate the tail", mutate: |c| c.lines.truncate(9), code: "truncated", line: 0 },
    Case {
        name: "insert a record forged with an unregistered key",
        mutate: |c| {
            let forged = resign(&c.lines[5], &c.team.intruder, |st| st["predicate"]["identity"] = json!("deploy-bot"));
            c.lines.insert(6, forged);
        },
        code: "unknown-key",
        line: 7,
    },
    Case {
        name: "insert a record signed with a valid key",
        mutate: |c| {
            let prev = c.hash(5);
            let forged = resign(&c.lines[7], &c.team.deployer, |st| {
                st["predicate"]["chain"] = json!({"sequence": 6, "previous": prev});
            });
            c.lines.insert(6, forged);
        },
        code: "duplicate",
        line: 8,
    },
    Case { name: "replay a record", mutate: |c| c.lines.insert(4, c.lines[3].clone()), code: "duplicate", line: 5 },
    Case {
        name: "sign with the key of another identity",
        mutate: |c| c.lines[2] = resign(&c.lines[2], &c.team.deployer, |_| {}),
        code: "wrong-identity",
        line: 3,
    },
    Case {
        name: "signature by another key under the right key id",
        mutate: |c| {
            let other = &c.team.approver;
            c.lines[0] = edit_envelope(&c.lines[0], |e| {
                let payload = B64.decode(&e.payload).unwrap();
                e.signatures[0].sig = B64.encode(other.sign(&pae(&e.payload_type, &payload)).unwrap());
            });
        },
        code: "signature",
        line: 1,
    },
    Case {
        name: "approval signed by a deployer (wrong role)",
        mutate: |c| c.lines[2] = resign(&c.lines[2], &c.team.deployer, |st| st["predicate"]["identity"] = json!("deploy-bot")),
        code: "role",
        line: 3,
    },
    Case {
        name: "break-glass signed by an approver (wrong role)",
        mutate: |c| c.lines[10] = resign(&c.lines[10], &c.team.approver, |st| st["predicate"]["identity"] = json!("alice")),
        code: "role",
        line: 11,
    },
    Case {
        name: "deployment signed by a reviewer (wrong role)",
        mutate: |c| c.lines[7] = resign(&c.lines[7], &c.team.reviewer, |st| st["predicate"]["identity"] = json!("bob")),
        code: "role",
        line: 8,
    },
    Case {
        name: "swap the payload type",
        mutate: |c| c.lines[0] = edit_envelope(&c.lines[0], |e| e.payload_type = "application/json".into()),
        code: "payload-type",
        line: 1,
    },
    Case {
        name: "change a subject digest without re-signing",
        mutate: |c| {
            let mut st = payload_of(&c.lines[4]);
            st["subject"][0]["digest"]["sha256"] = json!(digest("other release"));
            c.lines[4] = edit_envelope(&c.lines[4], |e| e.payload = B64.encode(serde_json::to_vec(&st).unwrap()));
        },
        code: "signature",
        line: 5,
    },
    Case {
        name: "change the release subject digest and re-sign",
        mutate: |c| {
            c.lines[4] = resign(&c.lines[4], &c.team.deployer, |st| st["subject"][0]["digest"]["sha256"] = json!(digest("other")))
        },
        code: "subject-digest",
        line: 5,
    },
    Case {
        name: "change the plan subject digest and re-sign",
        mutate: |c| {
            c.lines[6] = resign(&c.lines[6], &c.team.approver, |st| st["subject"][1]["digest"]["sha256"] = json!(digest("other")))
        },
        code: "subject-digest",
        line: 7,
    },
    Case {
        name: "drop the plan subject and re-sign",
        mutate: |c| {
            c.lines[7] = resign(&c.lines[7], &c.team.deployer, |st| {
                st["subject"].as_array_mut().unwrap().pop();
                st["predicate"].as_object_mut().unwrap().remove("plan_digest");
            })
        },
        code: "subject-digest",
        line: 8,
    },
    Case {
        name: "alter a record and re-sign it with its own key",
        mutate: |c| c.lines[7] = resign(&c.lines[7], &c.team.deployer, |st| st["predicate"]["outcome"] = json!("failed")),
        code: "previous-hash",
        line: 9,
    },
    Case {
        name: "renumber a record and re-sign",
        mutate: |c| c.lines[4] = resign(&c.lines[4], &c.team.deployer, |st| st["predicate"]["chain"]["sequence"] = json!(40)),
        code: "gap",
        line: 5,
    },
    Case {
        name: "unknown predicate type",
        mutate: |c| {
            c.lines[9] = resign(&c.lines[9], &c.team.deployer, |st| {
                st["predicateType"] = json!("https://landing-zone.example/evidence/teleport/v1")
            })
        },
        code: "predicate-type",
        line: 10,
    },
    Case {
        name: "time that is not RFC 3339",
        mutate: |c| c.lines[9] = resign(&c.lines[9], &c.team.deployer, |st| st["predicate"]["time"] = json!("yesterday")),
        code: "statement",
        line: 10,
    },
    Case {
        name: "add a second signature",
        mutate: |c| {
            c.lines[1] = edit_envelope(&c.lines[1], |e| {
                let extra = Signature { keyid: "x".into(), sig: e.signatures[0].sig.clone() };
                e.signatures.push(extra)
            })
        },
        code: "signature-count",
        line: 2,
    },
    Case {
        name: "re-serialize an envelope",
        mutate: |c| {
            let v: Value = serde_json::from_slice(&c.lines[2]).unwrap();
            c.lines[2] = serde_json::to_vec_pretty(&v).unwrap().into_iter().filter(|b| *b != b'\n').collect();
        },
        code: "not-canonical",
        line: 3,
    },
    Case {
        name: "checkpoint hash altered",
        mutate: |c| c.checkpoint.as_mut().unwrap().hash = digest("nope"),
        code: "checkpoint-mismatch",
        line: SAMPLE_LEN,
    },
    Case { name: "checkpoint removed", mutate: |c| c.checkpoint = None, code: "checkpoint-missing", line: 0 },
];

/// Writes the records (the checkpoint is passed to verification as a known checkpoint).
fn write(dir: &std::path::Path, lines: &[Vec<u8>]) -> LocalStore {
    let store = LocalStore::new(dir.join("mutated.jsonl"));
    let mut buf = Vec::new();
    for l in lines {
        buf.extend_from_slice(l);
        buf.push(b'\n');
    }
    std::fs::write(store.path(), buf).unwrap();
    store
}

#[test]
fn intact_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = sample_chain(dir.path(), &t);
    let records = store.load().unwrap();
    assert_eq!(records.len(), SAMPLE_LEN);
    let report = verify(&records, store.checkpoint().unwrap().as_ref(), &t.identities).unwrap();
    assert!(report.ok(), "{:?}", report.failure);
    assert_eq!(report.head.as_ref().unwrap().0, SAMPLE_LEN as u64 - 1);
    // Every kind is present, each under its predicate type.
    let kinds: std::collections::BTreeSet<String> =
        records.iter().map(|r| payload_of(&r.bytes)["predicateType"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.len(), Kind::ALL.len());
}

#[test]
fn every_mutation_is_detected_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = sample_chain(dir.path(), &t);
    let lines: Vec<Vec<u8>> = store.load().unwrap().into_iter().map(|r| r.bytes.to_vec()).collect();
    let checkpoint = store.checkpoint().unwrap();
    let mut failures = Vec::new();
    for case in CASES {
        let mut ctx = Ctx { team: team_clone(&t), lines: lines.clone(), checkpoint: checkpoint.clone() };
        (case.mutate)(&mut ctx);
        let mstore = write(dir.path(), &ctx.lines);
        let report = verify(&mstore.load().unwrap(), ctx.checkpoint.as_ref(), &t.identities).unwrap();
        // Batched, parallel verification reports exactly what one-by-one strict verification does.
        let sequential = report_with(&mstore.load().unwrap(), &root_of(&t), &anchors_of(ctx.checkpoint.as_ref()), Strategy::sequential()).unwrap();
        let key = |r: &lz_evidence::Report| r.failure.as_ref().map(|f| (f.location.clone(), f.sequence, f.reason.clone()));
        if key(&sequential) != key(&report) {
            failures.push(format!("{}: batched {:?} but sequential {:?}", case.name, key(&report), key(&sequential)));
        }
        // And so does the streaming pass over the store, read a window at a time.
        let anchors = anchors_of(ctx.checkpoint.as_ref());
        for strategy in [Strategy::default(), Strategy::sequential(), Strategy { batch: true, parallel: false, ..Strategy::default() }] {
            let streamed = report_of_store(&mstore, &root_of(&t), &anchors, strategy).unwrap();
            if key(&streamed) != key(&sequential) {
                failures.push(format!("{}: streamed ({strategy:?}) {:?} but sequential {:?}", case.name, key(&streamed), key(&sequential)));
            }
        }
        let Some(f) = report.failure else {
            failures.push(format!("{}: not detected", case.name));
            continue;
        };
        let want_loc = if case.line == 0 { "checkpoint".to_string() } else { format!("mutated.jsonl:{}", case.line) };
        if f.reason.code() != case.code || !f.location.ends_with(&want_loc) {
            failures.push(format!("{}: got [{}] at {} ({}), want [{}] at {want_loc}", case.name, f.reason.code(), f.location, f.reason, case.code));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn team_clone(t: &Team) -> Team {
    Team {
        identities: t.identities.clone(),
        text: t.text.clone(),
        deployer: t.deployer.clone(),
        approver: t.approver.clone(),
        reviewer: t.reviewer.clone(),
        breakglass: t.breakglass.clone(),
        approver2: t.approver2.clone(),
        intruder: t.intruder.clone(),
    }
}

#[test]
fn records_signed_under_another_register_fail() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = sample_chain(dir.path(), &t);
    let other = team();
    let report = verify(&store.load().unwrap(), store.checkpoint().unwrap().as_ref(), &other.identities).unwrap();
    assert_eq!(report.failure.unwrap().reason.code(), "unknown-key");
}

struct Unreadable {
    name: &'static str,
    content: fn(&[Vec<u8>]) -> Vec<u8>,
    want: &'static str,
}

const UNREADABLE: &[Unreadable] = &[
    Unreadable {
        name: "garbage line",
        content: |l| [l[0].as_slice(), b"\n", l[1].as_slice(), b"\nnot json\n"].concat(),
        want: "unreadable.jsonl:3: not a DSSE envelope",
    },
    Unreadable { name: "empty line", content: |l| [l[0].as_slice(), b"\n\n"].concat(), want: "unreadable.jsonl:2: empty line" },
    Unreadable { name: "torn write", content: |l| [l[0].as_slice(), b"\n", &l[1][..40]].concat(), want: "unreadable.jsonl:2: incomplete last line" },
    Unreadable {
        name: "unknown envelope field",
        content: |l| {
            let mut v: Value = serde_json::from_slice(&l[0]).unwrap();
            v["extra"] = json!(1);
            [serde_json::to_vec(&v).unwrap(), b"\n".to_vec()].concat()
        },
        want: "unreadable.jsonl:1: not a DSSE envelope",
    },
];

#[test]
fn unreadable_input_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = sample_chain(dir.path(), &t);
    let lines: Vec<Vec<u8>> = store.load().unwrap().into_iter().map(|r| r.bytes.to_vec()).collect();
    for case in UNREADABLE {
        let s = LocalStore::new(dir.path().join("unreadable.jsonl"));
        std::fs::write(s.path(), (case.content)(&lines)).unwrap();
        let err = s.load().and_then(|recs| verify(&recs, None, &t.identities)).map(|r| r.failure.map(|f| f.to_string()));
        let msg = format!("{:#}", err.expect_err(case.name));
        assert!(msg.contains(case.want), "{}: {msg}", case.name);
        // The streaming pass stops at the same place with the same words.
        let streamed =
            report_of_store(&s, &root_of(&t), &Anchors::default(), Strategy::default()).map(|r| r.failure.map(|f| f.to_string()));
        let msg = format!("{:#}", streamed.expect_err(case.name));
        assert!(msg.contains(case.want), "{} (streamed): {msg}", case.name);
    }
}

#[test]
fn envelope_serialization_is_canonical_and_pae_matches_the_spec() {
    assert_eq!(pae("application/vnd.in-toto+json", b"hello"), b"DSSEv1 28 application/vnd.in-toto+json 5 hello".to_vec());
    assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    let t = team();
    let env = Envelope::sign(b"{}", "application/vnd.in-toto+json", &t.deployer).unwrap();
    let text = String::from_utf8(env.to_canonical()).unwrap();
    assert!(text.starts_with("{\"payload\":\"e30=\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"keyid\":\""), "{text}");
    assert!(!text.contains(' ') && !text.contains('\n'));
}

fn root_of(t: &Team) -> TrustRoot {
    TrustRoot::register(t.identities.clone(), "identities.toml")
}

fn anchors_of(cp: Option<&Checkpoint>) -> Anchors {
    Anchors {
        require_head: cp.is_none(),
        known: cp.map(|c| KnownCheckpoint { checkpoint: c.clone(), source: "checkpoint".into() }).into_iter().collect(),
        ..Default::default()
    }
}

/// On a 100,000-record chain, batched parallel verification (of the records in memory, and
/// streamed from a file) reports the same first bad record as sequential verification, for a
/// reordering across windows, a bad signature deep in the chain (inside a batch whose other
/// members are valid) and a record signed by another registered key.
#[test]
fn a_tampered_100k_chain_reports_the_same_first_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let t = team();
    let store = LocalStore::new(dir.path().join("big.jsonl"));
    let mut a = lz_evidence::EvidenceArchive::open(store, t.identities.clone()).unwrap();
    let release = digest("big");
    let items: Vec<_> = (0..100_000)
        .map(|i| (lz_evidence::record::Kind::Drift, lz_evidence::record::DriftEvidence::new(&release, "prod", "5", vec![format!("x.y{i}")]).0, &t.deployer))
        .collect();
    a.append_many(items).unwrap();
    let store = a.into_store();
    let records = store.load().unwrap();
    let cp = store.checkpoint().unwrap().unwrap();
    let root = root_of(&t);
    let anchors = anchors_of(Some(&cp));
    let intact = report_with(&records, &root, &anchors, Strategy::default()).unwrap();
    assert!(intact.ok(), "{:?}", intact.failure);
    type Tamper = fn(&mut Vec<lz_evidence::StoredRecord>, &Team);
    let tampers: [(&str, Tamper); 3] = [
        // Telling a reordering from a gap reads ahead, across windows.
        ("two records swapped 10,000 apart", |r, _| r.swap(50_000, 60_000)),
        ("a flipped payload byte at 77,777 and 90,000", |r, _| {
            r[77_777].bytes = flip_payload_char(&r[77_777].bytes).into();
            r[90_000].bytes = flip_payload_char(&r[90_000].bytes).into();
        }),
        ("a record re-signed by another registered key at 64,001", |r, t| {
            r[64_001].bytes = resign(&r[64_001].bytes, &t.approver, |_| {}).into();
        }),
    ];
    for (name, tamper) in tampers {
        let mut bad = records.clone();
        tamper(&mut bad, &t);
        let batched = report_with(&bad, &root, &anchors, Strategy::default()).unwrap().failure.expect(name);
        let sequential = report_with(&bad, &root, &anchors, Strategy::sequential()).unwrap().failure.expect(name);
        assert_eq!((&batched.location, batched.sequence, &batched.reason), (&sequential.location, sequential.sequence, &sequential.reason), "{name}");
        // The streaming pass over the same records in a file names the same record.
        let file = LocalStore::new(dir.path().join("tampered.jsonl"));
        std::fs::write(file.path(), bad.iter().flat_map(|r| [&r.bytes[..], b"\n"].concat()).collect::<Vec<u8>>()).unwrap();
        let streamed = report_of_store(&file, &root, &anchors, Strategy::default()).unwrap().failure.expect(name);
        let loaded = report_with(&file.load().unwrap(), &root, &anchors, Strategy::sequential()).unwrap().failure.expect(name);
        assert_eq!((&streamed.location, streamed.sequence, &streamed.reason), (&loaded.location, loaded.sequence, &loaded.reason), "{name}");
        assert_eq!((streamed.sequence, &streamed.reason), (sequential.sequence, &sequential.reason), "{name}");
    }
}
