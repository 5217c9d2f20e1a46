//! Tidy (issue 23.6, "one record type per kind"): record details are written and read through
//! the typed `lz_evidence::details` only. A string-keyed detail writer call (`.detail` with a
//! key) anywhere else in the workspace's Rust sources fails this test, naming file:line; so does
//! a string-keyed detail read (`details.get` or `details[` with a literal key) in shipped code
//! (tests may look at the JSON an auditor sees).

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// Lines of `text` that call a string-keyed detail writer.
fn offending(text: &str) -> Vec<usize> {
    // Spelled in two pieces so this file does not name itself.
    let needles = [concat!(".detail", "(\""), concat!(".detail", "(")];
    text.lines().enumerate().filter(|(_, l)| needles.iter().any(|n| l.contains(n))).map(|(i, _)| i + 1).collect()
}

#[test]
fn no_string_keyed_detail_writer_outside_the_details_module() {
    let root = workspace();
    let allowed = root.join("crates/evidence/src/details.rs");
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the scan found the workspace's sources ({} files under {})", files.len(), root.display());
    let mut found = Vec::new();
    for f in files.iter().filter(|f| **f != allowed) {
        let text = std::fs::read_to_string(f).unwrap();
        for line in offending(&text) {
            found.push(format!("{}:{line}", f.strip_prefix(&root).unwrap_or(f).display()));
        }
    }
    assert!(
        found.is_empty(),
        "string-keyed detail writes outside crates/evidence/src/details.rs (use Fields::details with the kind's typed details):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_tidy_check_finds_a_string_keyed_write() {
    let sample = format!("let f = Fields::new(r)\n    {}outcome\", \"succeeded\");\n", concat!(".detail", "(\""));
    assert_eq!(offending(&sample), vec![2]);
    assert!(offending("let f = Fields::new(r).details(DeploymentDetails::default());").is_empty());
}

/// Lines of `text` that read a detail by a literal key.
fn reading(text: &str) -> Vec<usize> {
    let needles = [concat!("details.get", "(\""), concat!("details", "[\"")];
    text.lines().enumerate().filter(|(_, l)| needles.iter().any(|n| l.contains(n))).map(|(i, _)| i + 1).collect()
}

/// Shipped code writes raw details only where an operator types them (`evidence append --detail`).
#[test]
fn raw_details_are_written_only_by_the_cli_append() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    let allowed = [root.join("xtask/src/evidence.rs"), root.join("crates/evidence/src/record.rs")];
    let shipped = |f: &Path| !f.components().any(|c| c.as_os_str() == "tests" || c.as_os_str() == "benches");
    let needle = concat!("raw_details", "_mut(");
    let mut found = Vec::new();
    for f in files.iter().filter(|f| shipped(f) && !allowed.contains(f)) {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, _) in text.lines().enumerate().filter(|(_, l)| l.contains(needle)) {
            found.push(format!("{}:{}", f.strip_prefix(&root).unwrap_or(f).display(), i + 1));
        }
    }
    assert!(found.is_empty(), "raw detail writes in shipped code (write Fields::details with the kind's typed details):\n{}", found.join("\n"));
}

#[test]
fn no_string_keyed_detail_reader_in_shipped_code() {
    let root = workspace();
    let allowed = root.join("crates/evidence/src/details.rs");
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    let shipped = |f: &Path| !f.components().any(|c| c.as_os_str() == "tests" || c.as_os_str() == "benches");
    let mut found = Vec::new();
    for f in files.iter().filter(|f| **f != allowed && shipped(f)) {
        let text = std::fs::read_to_string(f).unwrap();
        for line in reading(&text) {
            found.push(format!("{}:{line}", f.strip_prefix(&root).unwrap_or(f).display()));
        }
    }
    assert!(
        found.is_empty(),
        "string-keyed detail reads in shipped code (read the kind's typed details: VerifiedRecord::details, RecordSummary::typed):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_tidy_check_finds_a_string_keyed_read() {
    let sample = format!("let ok = r.{}outcome\").and_then(Value::as_str);\nlet t = p.{}tier\"];\n", concat!("details.get", "(\""), concat!("details", "[\""));
    assert_eq!(reading(&sample), vec![1, 2]);
    assert!(reading("let ok = r.typed.outcome() == Some(\"succeeded\");").is_empty());
}

/// The field names a struct declares in `text` (`name:` lines between `struct NAME {` and its `}`).
fn struct_fields(text: &str, name: &str) -> Vec<String> {
    let start = format!("struct {name} {{");
    let body = text.split_once(&start).map(|(_, rest)| rest.split_once("\n}").map_or(rest, |(b, _)| b)).unwrap_or_default();
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with("#["))
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().rsplit(' ').next().unwrap_or_default().to_string()))
        .filter(|n| !n.is_empty())
        .collect()
}

/// The verifier's light statement (decoded for every record before the chain pass) holds only
/// the fields every record has (`record::Predicate`'s own, without its flattened details) and
/// the archive's own `quarantined`: its register pre-passes read the typed details
/// (`Decoded::register_change`), never a detail by name.
#[test]
fn the_verifiers_light_predicate_reads_no_kind_details() {
    let root = workspace();
    let record = std::fs::read_to_string(root.join("crates/evidence/src/record.rs")).unwrap();
    let decode = std::fs::read_to_string(root.join("crates/evidence/src/verify/decode.rs")).unwrap();
    let mut allowed = struct_fields(&record, "Predicate");
    assert!(allowed.iter().any(|f| f == "chain") && allowed.iter().any(|f| f == "details"), "record::Predicate read: {allowed:?}");
    allowed.retain(|f| f != "details");
    allowed.push("quarantined".into());
    let light = struct_fields(&decode, "LightPredicate");
    assert!(light.iter().any(|f| f == "chain"), "the LightPredicate of verify/decode.rs was read: {light:?}");
    let extra: Vec<&String> = light.iter().filter(|f| !allowed.contains(f)).collect();
    assert!(extra.is_empty(), "verify/decode.rs LightPredicate reads details by name: {extra:?} (read Decoded::details, the kind's typed details)");
}

#[test]
fn the_light_predicate_check_reads_field_names() {
    let sample = "struct LightPredicate {\n    pub(super) chain: ChainLink,\n    // a: note\n    #[serde(default)]\n    pub(super) register: Option<Value>,\n}\n";
    assert_eq!(struct_fields(sample, "LightPredicate"), vec!["chain".to_string(), "register".to_string()]);
}
