//! Every hostile input of issue 34 through the shipped binary, as data (`hostile.toml`): a
//! missing control input is exit 2 naming the file and what it is for, never "0 findings"; ids
//! are refused at the edge naming the argument; invalid UTF-8 names file:line:col; inputs over
//! a stated limit are refused naming the limit. Each case runs on its own copy of the
//! repository (hard links to one copy; a mutated file is replaced, never written through).
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    remove: Vec<String>,
    invalid_utf8: Option<Corrupt>,
    generate: Option<Generate>,
    args: Vec<String>,
    code: i32,
    want: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corrupt {
    path: String,
    line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    path: String,
    kind: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

const SKIP: [&str; 6] = [".git", "target", ".tools", ".terraform", "fuzz", ".cache"];

/// Copies (`link == false`) or hard-links (`link == true`) the tree `from` into `to`.
fn mirror(from: &Path, to: &Path, link: bool) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if SKIP.contains(&name.as_str()) || name.starts_with(".target") {
            continue;
        }
        let dst = to.join(&name);
        let ft = std::fs::symlink_metadata(&path).unwrap().file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            mirror(&path, &dst, link);
        } else if ft.is_file() {
            if link {
                std::fs::hard_link(&path, &dst).unwrap();
            } else {
                std::fs::copy(&path, &dst).unwrap();
            }
        }
    }
}

/// Replaces `rel` in `dir` by a new file (never writing through a hard link).
fn replace(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    if p.exists() {
        std::fs::remove_file(&p).unwrap();
    }
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
}

fn generate(dir: &Path, g: &Generate) {
    let p = dir.join(&g.path);
    match g.kind.as_str() {
        // A plan whose one attribute nests 100,000 arrays deep.
        "deep-json" => {
            let n = 100_000;
            let text = format!("{{\"format_version\":\"1.2\",\"resource_changes\":[],\"x\":{}{}}}", "[".repeat(n), "]".repeat(n));
            replace(dir, &g.path, text.as_bytes());
        }
        // A plan with one resource change over the limit.
        "many-resources" => {
            let n = lz_input::limits::MAX_RESOURCES + 1;
            let mut text = String::from("{\"format_version\":\"1.2\",\"resource_changes\":[");
            text.push_str(&vec!["{}"; n].join(","));
            text.push_str("]}");
            replace(dir, &g.path, text.as_bytes());
        }
        // Sparse files one byte over the limit: the size alone refuses them.
        "over-plan-limit" | "over-config-limit" => {
            let limit = if g.kind == "over-plan-limit" {
                lz_input::limits::MAX_PLAN_BYTES
            } else {
                lz_input::limits::MAX_CONFIG_BYTES
            };
            replace(dir, &g.path, b"");
            std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(limit + 1).unwrap();
        }
        // An overlay assigning a value nested 100,000 lists deep.
        "deep-hcl" => {
            let n = 100_000;
            replace(dir, &g.path, format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)).as_bytes());
        }
        other => panic!("unknown generator {other}"),
    }
}

/// Puts the byte 0xFF at the start of line `line` of `rel`.
fn corrupt(dir: &Path, c: &Corrupt) {
    let bytes = std::fs::read(dir.join(&c.path)).unwrap();
    let mut at = 0;
    for _ in 1..c.line {
        at += bytes[at..].iter().position(|b| *b == b'\n').expect("the file has the line") + 1;
    }
    let mut out = bytes[..at].to_vec();
    out.push(0xFF);
    out.extend_from_slice(&bytes[at..]);
    replace(dir, &c.path, &out);
}

fn table() -> Table {
    let file = root().join("xtask/tests/hostile.toml");
    toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn every_control_input_has_a_removal_case() {
    let t = table();
    for (rel, _) in lz_input::CONTROL_INPUTS {
        assert!(
            t.case.iter().any(|c| c.remove.iter().any(|r| r == rel) && c.code == 2),
            "no case of hostile.toml deletes {rel} and expects exit 2"
        );
    }
}

#[test]
fn hostile_inputs_fail_closed_with_their_codes_and_words() {
    let t = table();
    assert!(t.case.len() >= 40, "the table lost cases: {}", t.case.len());
    let base = tempfile::tempdir().unwrap();
    mirror(&root(), base.path(), false);
    let mut failures = Vec::new();
    for case in &t.case {
        let dir = tempfile::tempdir().unwrap();
        mirror(base.path(), dir.path(), true);
        for rel in &case.remove {
            std::fs::remove_file(dir.path().join(rel)).unwrap_or_else(|e| panic!("{}: removing {rel}: {e}", case.name));
        }
        if let Some(c) = &case.invalid_utf8 {
            corrupt(dir.path(), c);
        }
        if let Some(g) = &case.generate {
            generate(dir.path(), g);
        }
        let copy = dir.path().display().to_string();
        let args: Vec<String> = case.args.iter().map(|a| a.replace("{copy}", &copy)).collect();
        let start = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(&args)
            .env("LZ_ROOT", dir.path())
            .env("CI", "true")
            .env_remove("LZ_SIGNING_KEY")
            .env_remove("LZ_POLICY_KEY")
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        eprintln!("{:>6} ms  exit {code}  {}", start.elapsed().as_millis(), case.name);
        let missing: Vec<&String> = case.want.iter().filter(|w| !text.contains(w.as_str())).collect();
        if code != case.code || !missing.is_empty() || text.contains("panicked") {
            failures.push(format!("{}: exit {code} (want {}), missing words {missing:?}:\n{text}", case.name, case.code));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
