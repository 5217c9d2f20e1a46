//! Tidy: the Architecture Invariants of ARCHITECTURE.md that a test can check by reading the
//! sources, in the manner of rust-analyzer's `tidy.rs`. Each guard fails naming every
//! `file:line` that breaks it, and each has a unit test below feeding it a bad snippet, so a
//! guard that can no longer fail is caught too.
//!
//! Guards elsewhere: `crates/platform/tests/repository.rs` (`no_ad_hoc_process_commands_outside_tests`,
//! `no_chain_is_judged_by_a_working_tree_register`).
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `(path relative to the root, text)` of every `.rs` file under `dirs`, sorted.
fn sources(root: &Path, dirs: &[&str]) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = dirs.iter().flat_map(|d| common::rs_files(&root.join(d))).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// The library and binary sources of the workspace (not tests, benches or fixtures).
fn product_sources(root: &Path) -> Vec<(String, String)> {
    let mut dirs: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .flatten()
        .map(|e| format!("crates/{}/src", e.file_name().to_string_lossy()))
        .collect();
    dirs.push("xtask/src".into());
    dirs.sort();
    sources(root, &dirs.iter().map(String::as_str).collect::<Vec<_>>())
}

fn code(line: &str) -> Option<&str> {
    let l = line.trim_start();
    (!l.starts_with("//")).then_some(l)
}

fn report(what: &str, offenders: Vec<String>) {
    assert!(offenders.is_empty(), "{what}:\n{}", offenders.join("\n"));
}

// ---- guards ----

/// "Every check takes the repository root": no control input (`governance/`, `policies/`) is
/// compiled into a binary with `include_str!`/`include_bytes!`.
fn included_control_inputs(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        for (i, line) in text.lines().enumerate() {
            let Some(l) = code(line) else { continue };
            if (l.contains("include_str!") || l.contains("include_bytes!")) && (l.contains("governance/") || l.contains("policies/")) {
                out.push(format!("{rel}:{}: {l}", i + 1));
            }
        }
    }
    out
}

/// Where each repository helper is defined: only in `lz-repo` (and the environment list in
/// `lz-input`, which `lz-repo` re-exports).
const HELPER_HOME: &str = "crates/repo/src/";

/// "The repository model has one home": no second `line_of`, TOML-error helper, environment
/// list, catalog reader or system-clock date outside `lz-repo`.
fn repository_model_copies(files: &[(String, String)]) -> Vec<String> {
    let env_list = r#""dev", "test", "uat", "preprod", "prod""#;
    let mut out = Vec::new();
    for (rel, text) in files {
        if rel.starts_with(HELPER_HOME) {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(l) = code(line) else { continue };
            let mut why = None;
            for f in ["fn line_of(", "fn toml_error(", "fn parse_toml", "fn read_toml"] {
                // A method delegating to the helper (`HclFile::line_of(&self, ..)`) is no copy.
                if l.contains(f) && !l.contains("(&self") {
                    why = Some(format!("defines {}: use lz_repo", f.trim_end_matches('(')));
                }
            }
            if l.contains(env_list) && rel != "crates/input/src/lib.rs" {
                why = Some("writes the environment list: use lz_repo::ENVIRONMENTS".into());
            }
            if l.contains("now_utc().date()") {
                why = Some("takes today's date: use lz_repo::date::today".into());
            }
            if l.contains("\"modules/catalog.toml\"") {
                why = Some("reads the catalog: use lz_repo::catalog".into());
            }
            // A TOML error put together by hand: `toml::from_str` whose error is mapped
            // through its span within the next lines.
            if l.contains("toml::from_str") && lines[i..(i + 4).min(lines.len())].iter().any(|w| w.contains(".span()")) {
                why = Some("maps a TOML error by hand: use lz_repo::parse_toml / read_toml".into());
            }
            if let Some(why) = why {
                out.push(format!("{rel}:{}: {why}: {l}", i + 1));
            }
        }
    }
    out
}

/// The workspace crates' normal dependencies on each other, from each manifest:
/// `crate -> [(dependency, line)]`, with the manifest path.
fn workspace_graph(manifests: &[(String, String)]) -> BTreeMap<String, (String, Vec<(String, usize)>)> {
    let name_of = |text: &str| {
        text.lines()
            .skip_while(|l| l.trim() != "[package]")
            .find_map(|l| l.trim().strip_prefix("name = ").map(|n| n.trim_matches('"').to_string()))
    };
    let names: BTreeSet<String> = manifests.iter().filter_map(|(_, t)| name_of(t)).collect();
    let mut out = BTreeMap::new();
    for (rel, text) in manifests {
        let Some(name) = name_of(text) else { continue };
        let mut deps = Vec::new();
        let mut section = String::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.starts_with('[') {
                section = l.to_string();
                continue;
            }
            if section != "[dependencies]" {
                continue;
            }
            let dep = l.split(['=', '.', ' ']).next().unwrap_or("").trim();
            if names.contains(dep) {
                deps.push((dep.to_string(), i + 1));
            }
        }
        out.insert(name, (rel.clone(), deps));
    }
    out
}

/// "The crate graph is a DAG with the repository model at the bottom": `lz-input` depends on no
/// workspace crate, `lz-repo` on `lz-input` only, nothing depends on `xtask`, and no cycle.
fn dag_violations(manifests: &[(String, String)]) -> Vec<String> {
    let graph = workspace_graph(manifests);
    let mut out = Vec::new();
    for (name, (rel, deps)) in &graph {
        for (d, line) in deps {
            let bad = match name.as_str() {
                "lz-input" => Some("lz-input depends on no workspace crate"),
                "lz-repo" if d != "lz-input" => Some("lz-repo depends on lz-input only"),
                _ if d == "xtask" => Some("nothing depends on xtask"),
                _ => None,
            };
            if let Some(why) = bad {
                out.push(format!("{rel}:{line}: {name} -> {d}: {why}"));
            }
        }
    }
    // Cycles: depth-first search from every crate.
    fn visit<'a>(
        n: &'a str,
        graph: &'a BTreeMap<String, (String, Vec<(String, usize)>)>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        out: &mut Vec<String>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(at) = stack.iter().position(|x| *x == n) {
            let (rel, deps) = &graph[stack[stack.len() - 1]];
            let line = deps.iter().find(|(d, _)| d == n).map_or(0, |(_, l)| *l);
            out.push(format!("{rel}:{line}: dependency cycle {} -> {n}", stack[at..].join(" -> ")));
            return;
        }
        stack.push(n);
        if let Some((_, deps)) = graph.get(n) {
            for (d, _) in deps {
                visit(d, graph, stack, done, out);
            }
        }
        stack.pop();
        done.insert(n);
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

/// Change-control crates: their decisions read no environment variable.
const CHANGE_CONTROL: [&str; 6] =
    ["crates/promote/src/", "crates/operate/src/", "crates/report/src/", "crates/gate/src/", "crates/evidence/src/", "crates/policy/src/"];

/// The one read a change-control crate may make, with why: the signer's private key, which
/// must still match the signer's registered key (ARCHITECTURE.md, "No side doors").
const ALLOWED_ENV_READS: [(&str, &str); 1] = [("crates/evidence/src/identity.rs", "std::env::var(SIGNING_KEY_ENV)")];

/// "No decision reads an environment variable": no `env::var`/`var_os`/`vars` in
/// change-control code outside items behind `#[cfg(test)]` or `#[cfg(feature = ...)]`.
fn env_reads(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        if !CHANGE_CONTROL.iter().any(|d| rel.starts_with(d)) {
            continue;
        }
        let mut gated_depth: Option<i64> = None;
        let mut pending_gate = false;
        let mut depth: i64 = 0;
        for (i, line) in text.lines().enumerate() {
            let Some(l) = code(line) else { continue };
            if l.starts_with("#[cfg(") && (l.contains("test") || l.contains("feature")) && !l.starts_with("#[cfg(not(") {
                pending_gate = true;
                continue;
            }
            let gated = gated_depth.is_some() || pending_gate;
            // Every reader of the environment, called through its path or imported by name.
            let reads = ["env::var(", "env::var_os(", "env::vars(", "env::vars_os(", "use std::env::var", "use std::env::{", "use std::env;"]
                .iter()
                .any(|p| l.contains(p));
            if reads && !gated && !ALLOWED_ENV_READS.iter().any(|(f, s)| rel == f && l.contains(s)) {
                out.push(format!("{rel}:{}: reads an environment variable in change-control code: {l}", i + 1));
            }
            let opens = l.matches('{').count() as i64;
            let closes = l.matches('}').count() as i64;
            if pending_gate && !l.starts_with("#[") {
                pending_gate = false;
                if opens > closes {
                    gated_depth = Some(depth);
                }
            }
            depth += opens - closes;
            if gated_depth.is_some_and(|d| depth <= d) {
                gated_depth = None;
            }
        }
    }
    out
}

/// What marks logic (rather than parsing and printing) in an xtask module: building gate
/// findings, verifying or exporting a chain, hashing, rendering, timing a benchmark, and the
/// checks of `evidence verify` (`lz_operate::evidence_verify`: reports, replay, facts, cache).
const XTASK_LOGIC: [&str; 17] = [
    "Findings::default()",
    "fn gate(",
    "verify_chain",
    "report_of",
    "Anchors::of_store",
    "write_bundle",
    "Index::from_records",
    "sha256_hex(",
    "Sha256",
    "RenderCache::new",
    "render_dir(",
    "Instant::now()",
    "store_report(",
    "bundle_report(",
    "replay::rejected(",
    "facts::verify(",
    "compare_cache(",
];

/// The logic still in xtask, counted per file and marker, with why: a ratchet. A new
/// occurrence fails naming its file:line; one that went away fails until its count here is
/// lowered, so the debt only shrinks.
const XTASK_LOGIC_DEBT: [(&str, &str, usize, &str); 0] = [];

/// Files whose timing is printing only (a command's own elapsed time or a child's usage).
const XTASK_TIMING_ONLY: [&str; 4] = ["xtask/src/baseline.rs", "xtask/src/measure.rs", "xtask/src/promote.rs", "xtask/src/test.rs"];

/// "xtask modules hold argument parsing and printing only": every logic marker in `xtask/src`
/// beyond its file's allowance in `debt` is named with its file:line; an allowance larger
/// than what is left is named too (lower it).
fn xtask_logic(files: &[(String, String)], debt: &[(&str, &str, usize, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, &str), Vec<String>> = BTreeMap::new();
    for (rel, text) in files {
        if !rel.starts_with("xtask/src/") {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let Some(l) = code(line) else { continue };
            if l.starts_with("use ") {
                continue;
            }
            for m in XTASK_LOGIC {
                if m == "Instant::now()" && XTASK_TIMING_ONLY.contains(&rel.as_str()) {
                    continue;
                }
                if l.contains(m) {
                    seen.entry((rel.clone(), m)).or_default().push(format!("{rel}:{}: {l}", i + 1));
                }
            }
        }
    }
    for ((rel, m), lines) in &seen {
        let allowed = debt.iter().find(|(f, dm, _, _)| f == rel && dm == m).map_or(0, |d| d.2);
        if lines.len() > allowed {
            for l in lines {
                out.push(format!("{l}: logic in xtask ({m}): move it into a library crate"));
            }
        }
    }
    for (f, m, n, why) in debt {
        let found = seen.get(&(f.to_string(), *m)).map_or(0, Vec::len);
        if found < *n {
            out.push(format!("{f}: {found} of {n} allowed `{m}` left ({why}): lower XTASK_LOGIC_DEBT in crates/repo/tests/tidy.rs"));
        }
    }
    out.sort();
    out
}

/// "The code map lists every crate and module as it is": every `crates/<dir>` is named in
/// ARCHITECTURE.md as `` `crates/<dir>` ``, and every source file by its name (`` `x.rs` ``), or,
/// inside a folder of a crate's `src` (`functions/`, `bin/`), by its stem beside the folder's
/// name (`` `functions/` `` ... collection, ...).
fn code_map_gaps(doc: &str, crates: &[String], files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for c in crates {
        if !doc.contains(&format!("`{c}`")) && !doc.contains(&format!("`{c}` ")) {
            out.push(format!("ARCHITECTURE.md: the code map does not name the crate `{c}`"));
        }
    }
    for (rel, _) in files {
        let path = Path::new(rel);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if ["lib.rs", "main.rs", "mod.rs"].contains(&name.as_str()) {
            continue;
        }
        if doc.contains(&format!("`{name}`")) {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let folder = path.parent().and_then(|p| p.file_name()).map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
        let in_folder = folder != "src" && doc.contains(&format!("`{folder}/`")) && doc.contains(stem.as_str());
        if !in_folder {
            out.push(format!("{rel}: not in ARCHITECTURE.md's code map (name it `{name}` in its crate's section)"));
        }
    }
    out
}

/// Where AWS SDK clients are built, with their one wait-and-retry policy (`ClientPolicy`).
const AWS_CLIENT_HOME: [&str; 2] = ["crates/platform/src/aws.rs", "crates/platform/src/aws_setup.rs"];

/// "Every AWS SDK client is built in `aws.rs` or `aws_setup.rs` with one wait-and-retry policy;
/// nothing else builds a client or sets a timeout": a client built, or a timeout or retry
/// configuration set, anywhere else.
fn aws_clients_elsewhere(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        if AWS_CLIENT_HOME.contains(&rel.as_str()) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let Some(l) = code(line) else { continue };
            let builds = ["Client::from_conf(", "TimeoutConfig::", "RetryConfig::", ".timeout_config(", ".retry_config("].iter().any(|m| l.contains(m))
                || (l.contains("aws_sdk_") && l.contains("Client::new("));
            if builds {
                out.push(format!("{rel}:{}: builds an AWS client or sets its timeouts: use lz_platform::aws (ClientPolicy): {l}", i + 1));
            }
        }
    }
    out
}

/// Renders of configurations the renderer and the schema crate do not own, with why: the
/// render benchmark's synthetic fixtures (provider-free, written by the bench), which are not
/// this repository's configurations.
const RENDERS_WITHOUT_SCHEMA: [(&str, &str); 1] = [("crates/baseline/src/bench.rs", "synthetic provider-free fixtures of bench render")];

/// "Every render of this repository's configurations goes through `lz_schema::render_options`":
/// render options built by hand (a `RenderOptions` literal or default) outside `tfrender` and
/// `lz-schema`.
fn renders_without_the_schema(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        if rel.starts_with("crates/tfrender/src/") || rel.starts_with("crates/schema/src/") || RENDERS_WITHOUT_SCHEMA.iter().any(|(f, _)| f == rel) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let Some(l) = code(line) else { continue };
            let by_hand = l.contains("RenderOptions {")
                || l.contains("RenderOptions::default()")
                || ((l.contains("render_dir(") || l.contains(".render(")) && l.contains("Default::default()"));
            if by_hand {
                out.push(format!("{rel}:{}: render options built by hand: use lz_schema::render_options (the vendored schema): {l}", i + 1));
            }
        }
    }
    out
}

/// "One command context": the landing zone's stores are opened (`Paths::landing_zone`) in
/// `xtask/src/context.rs` only; a command takes `LandingZone::open` (or `::at` an endpoint it
/// already found answering).
fn landing_zone_opened_by_hand(files: &[(String, String)]) -> Vec<String> {
    let outside = |rel: &str| rel.starts_with("xtask/src/") && rel != "xtask/src/context.rs";
    used_outside(files, &outside, "Paths::landing_zone(", "opens the landing zone by hand: use crate::context::LandingZone")
}

/// Every code line of the files `outside` its home that contains `needle`, named by file:line
/// with `why`.
fn used_outside(files: &[(String, String)], outside: &dyn Fn(&str) -> bool, needle: &str, why: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files.iter().filter(|(rel, _)| outside(rel)) {
        for (i, line) in text.lines().enumerate() {
            let Some(l) = code(line) else { continue };
            if l.contains(needle) {
                out.push(format!("{rel}:{}: {why}: {l}", i + 1));
            }
        }
    }
    out
}

// ---- the guards on the repository ----

#[test]
fn no_control_input_is_compiled_in() {
    report(
        "read governance/ and policies/ from the repository root at run time (Architecture Invariant: every check takes the repository root)",
        included_control_inputs(&product_sources(&root())),
    );
}

#[test]
fn the_repository_model_has_one_home() {
    report("the repository model lives in lz-repo (ARCHITECTURE.md, crates/repo)", repository_model_copies(&product_sources(&root())));
}

#[test]
fn the_crate_graph_runs_down_to_lz_repo() {
    let root = root();
    let mut manifests = vec![("xtask/Cargo.toml".to_string(), std::fs::read_to_string(root.join("xtask/Cargo.toml")).unwrap())];
    for e in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let rel = format!("crates/{}/Cargo.toml", e.file_name().to_string_lossy());
        if let Ok(text) = std::fs::read_to_string(root.join(&rel)) {
            manifests.push((rel, text));
        }
    }
    let graph = workspace_graph(&manifests);
    assert!(graph.contains_key("lz-repo") && graph.contains_key("lz-promote") && graph.len() >= 9, "{:?}", graph.keys());
    report("the crate graph (ARCHITECTURE.md, Code map)", dag_violations(&manifests));
}

#[test]
fn change_control_reads_no_environment_variable() {
    let files = product_sources(&root());
    assert!(files.iter().any(|(r, _)| r == ALLOWED_ENV_READS[0].0), "the allowed read's file moved: update ALLOWED_ENV_READS");
    report("no decision reads an environment variable (ARCHITECTURE.md, No side doors)", env_reads(&files));
}

#[test]
fn xtask_holds_parsing_and_printing_only() {
    report(
        "xtask modules hold argument parsing and printing only (ARCHITECTURE.md, xtask/)",
        xtask_logic(&product_sources(&root()), &XTASK_LOGIC_DEBT),
    );
}

#[test]
fn the_code_map_lists_every_crate_and_module() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut crates: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| format!("crates/{}", e.file_name().to_string_lossy()))
        .collect();
    crates.sort();
    report("ARCHITECTURE.md's code map lists every crate and module as it is", code_map_gaps(&doc, &crates, &product_sources(&root)));
}

#[test]
fn aws_clients_are_built_in_one_place() {
    let files = product_sources(&root());
    assert!(files.iter().filter(|(r, _)| AWS_CLIENT_HOME.contains(&r.as_str())).count() == 2, "the AWS client home moved: update AWS_CLIENT_HOME");
    report("every AWS SDK client is built in lz_platform::aws with ClientPolicy (ARCHITECTURE.md, crates/platform)", aws_clients_elsewhere(&files));
}

#[test]
fn every_render_goes_through_render_options() {
    let files = product_sources(&root());
    for (f, _) in RENDERS_WITHOUT_SCHEMA {
        assert!(files.iter().any(|(r, _)| r == f), "{f} is gone: drop it from RENDERS_WITHOUT_SCHEMA");
    }
    report("every render of the repository's configurations goes through lz_schema::render_options (ARCHITECTURE.md, crates/tfrender)", renders_without_the_schema(&files));
}

#[test]
fn xtask_opens_the_landing_zone_through_its_context() {
    let files = product_sources(&root());
    assert!(files.iter().any(|(r, t)| r == "xtask/src/context.rs" && t.contains("Paths::landing_zone(")), "the command context moved");
    report("one command context (ARCHITECTURE.md, xtask/)", landing_zone_opened_by_hand(&files));
}

#[test]
fn every_architecture_invariant_names_its_guard() {
    // Each guard above is named in ARCHITECTURE.md next to the invariant it checks.
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for guard in [
        "no_control_input_is_compiled_in",
        "the_repository_model_has_one_home",
        "the_crate_graph_runs_down_to_lz_repo",
        "change_control_reads_no_environment_variable",
        "xtask_holds_parsing_and_printing_only",
        "the_code_map_lists_every_crate_and_module",
        "aws_clients_are_built_in_one_place",
        "every_render_goes_through_render_options",
        "xtask_opens_the_landing_zone_through_its_context",
    ] {
        if !text.contains(guard) {
            missing.push(guard);
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name the guards {missing:?}");
}

/// "The admission and its dry run are one evaluation": the module adoptions a release moves are
/// judged by the `adoption` gate only (`crates/promote/src/gates.rs`), which carries them in the
/// `Admission`; a call of `adoption::admit(` anywhere else in the product judges them again.
fn adoptions_judged_outside_the_gate(files: &[(String, String)]) -> Vec<String> {
    let outside = |rel: &str| rel != "crates/promote/src/gates.rs";
    let why = "judges the adoptions again: read them from the Admission (`admission.adoptions`)";
    let mut out = used_outside(files, &outside, "adoption::admit(", why);
    // The judgement's own entry point (with the rules and records handed in) is `admit`'s alone.
    out.extend(used_outside(files, &|rel: &str| outside(rel) && rel != "crates/promote/src/adoption.rs", "admit_with(", why));
    out
}

#[test]
fn adoption_moves_are_judged_by_the_gate_only() {
    let files = product_sources(&root());
    assert!(files.iter().any(|(r, t)| r == "crates/promote/src/gates.rs" && t.contains("adoption::admit(")), "the adoption gate moved");
    report("the adoptions are judged once (ARCHITECTURE.md, the promotion)", adoptions_judged_outside_the_gate(&files));
}

/// "Every Architecture Invariant names its guard": each `**Architecture Invariant:**` paragraph
/// of ARCHITECTURE.md names, in backticks, a test that exists: a function some source defines as
/// `fn NAME()` (`tests`), or a test file (`crates/*/tests/*.rs`, `xtask/tests/*.rs`) that `exists`.
/// A paragraph that names none is named with its ARCHITECTURE.md line.
fn invariants_without_a_guard(architecture: &str, tests: &BTreeSet<String>, exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    let lines: Vec<&str> = architecture.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.contains("**Architecture Invariant:**") {
            continue;
        }
        let paragraph = lines[i..].iter().take_while(|l| !l.trim().is_empty()).copied().collect::<Vec<_>>().join(" ");
        let guarded = paragraph.split('`').skip(1).step_by(2).any(|t| {
            tests.contains(t) || (t.ends_with(".rs") && (t.starts_with("xtask/tests/") || (t.starts_with("crates/") && t.contains("/tests/"))) && exists(t))
        });
        if !guarded {
            out.push(format!("ARCHITECTURE.md:{}: the invariant names no test that guards it: {}", i + 1, line.trim()));
        }
    }
    out
}

/// The names of the functions without parameters (tests among them) in `files`.
fn test_names(files: &[(String, String)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, text) in files {
        for l in text.lines() {
            let l = l.trim_start();
            if let Some(name) = l.strip_prefix("fn ").and_then(|r| r.strip_suffix("() {")) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

#[test]
fn every_architecture_invariant_names_a_test_that_exists() {
    let root = root();
    let mut dirs: Vec<String> = std::fs::read_dir(root.join("crates")).unwrap().flatten().map(|e| format!("crates/{}", e.file_name().to_string_lossy())).collect();
    dirs.push("xtask".into());
    let tests = test_names(&sources(&root, &dirs.iter().map(String::as_str).collect::<Vec<_>>()));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    report("every Architecture Invariant names its guard (ARCHITECTURE.md)", invariants_without_a_guard(&text, &tests, &|t| root.join(t).is_file()));
}

// ---- each guard can fail ----

fn one(rel: &str, text: &str) -> Vec<(String, String)> {
    vec![(rel.to_string(), text.to_string())]
}

#[test]
fn an_included_control_input_is_named() {
    let bad = one("crates/x/src/lib.rs", "// include_str!(\"../../governance/policy.toml\") in a comment\nconst T: &str = include_str!(\"../../../policies/controls.toml\");\n");
    assert_eq!(included_control_inputs(&bad), ["crates/x/src/lib.rs:2: const T: &str = include_str!(\"../../../policies/controls.toml\");"]);
    assert!(included_control_inputs(&one("crates/x/src/html.rs", "const S: &str = include_str!(\"style.css\");\n")).is_empty());
}

#[test]
fn repository_model_copies_are_named() {
    let bad = one(
        "crates/x/src/lib.rs",
        "fn line_of(text: &str, offset: usize) -> usize {\n    0\n}\nconst ENVS: [&str; 5] = [\"dev\", \"test\", \"uat\", \"preprod\", \"prod\"];\nlet t: T = toml::from_str(text).map_err(|e| {\n    let line = e.span();\n});\nlet d = time::OffsetDateTime::now_utc().date();\nlet p = root.join(\"modules/catalog.toml\");\n",
    );
    let found = repository_model_copies(&bad);
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["crates/x/src/lib.rs:1", "crates/x/src/lib.rs:4", "crates/x/src/lib.rs:5", "crates/x/src/lib.rs:8", "crates/x/src/lib.rs:9"], "{found:?}");
    // Their home may define them, and a method may delegate to them.
    assert!(repository_model_copies(&one("crates/x/src/hcl.rs", "    pub fn line_of(&self, offset: usize) -> usize {\n")).is_empty());
    assert!(repository_model_copies(&one("crates/repo/src/diag.rs", "pub fn line_of(text: &str, offset: usize) -> usize {\n")).is_empty());
}

#[test]
fn an_upward_dependency_and_a_cycle_are_named() {
    let m = |name: &str, deps: &[&str]| {
        let mut t = format!("[package]\nname = \"{name}\"\n\n[dependencies]\nanyhow.workspace = true\n");
        for d in deps {
            t.push_str(&format!("{d}.workspace = true\n"));
        }
        t.push_str("\n[dev-dependencies]\nxtask.workspace = true\n");
        (format!("crates/{name}/Cargo.toml"), t)
    };
    let clean = [m("lz-input", &[]), m("lz-repo", &["lz-input"]), m("lz-policy", &["lz-repo", "lz-input"]), m("xtask", &["lz-policy"])];
    assert!(dag_violations(&clean).is_empty(), "{:?}", dag_violations(&clean));
    let bad = [m("lz-input", &[]), m("lz-repo", &["lz-input", "lz-policy"]), m("lz-policy", &["lz-repo"]), m("xtask", &["lz-policy"])];
    let found = dag_violations(&bad);
    assert!(found.iter().any(|f| f.starts_with("crates/lz-repo/Cargo.toml:7: lz-repo -> lz-policy")), "{found:?}");
    assert!(found.iter().any(|f| f.contains("dependency cycle lz-policy -> lz-repo -> lz-policy") || f.contains("dependency cycle lz-repo -> lz-policy -> lz-repo")), "{found:?}");
}

#[test]
fn an_environment_read_in_change_control_is_named() {
    let text = "pub fn now() -> String {\n    std::env::var(\"LZ_NOW\").unwrap()\n}\n\n#[cfg(feature = \"test-clock\")]\nfn fixed() -> String {\n    std::env::var(\"LZ_FIXED\").unwrap()\n}\n\n#[cfg(test)]\nmod tests {\n    fn f() {\n        let _ = std::env::var_os(\"HOME\");\n    }\n}\nfn late() {\n    let _ = std::env::vars();\n}\n";
    let found = env_reads(&one("crates/promote/src/clock.rs", text));
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["crates/promote/src/clock.rs:2", "crates/promote/src/clock.rs:17"], "{found:?}");
    assert!(env_reads(&one("crates/platform/src/tools.rs", text)).is_empty(), "only change-control crates are held to it");
    // Imported by name, or the OS-string iterator.
    let text = "use std::env::var;\nfn a() {\n    let _ = var(\"X\");\n}\nfn b() {\n    let _ = std::env::vars_os();\n}\n";
    let found = env_reads(&one("crates/evidence/src/s3.rs", text));
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["crates/evidence/src/s3.rs:1", "crates/evidence/src/s3.rs:6"], "{found:?}");
}

#[test]
fn logic_in_xtask_is_named_and_the_debt_only_shrinks() {
    let text = "use lz_evidence::verify_chain_with;\n// verify_chain in a comment\nfn export() {\n    let c = verify_chain_with(&r, &t, &a)?;\n    let d = lz_evidence::dsse::sha256_hex(&b);\n}\n";
    let files = one("xtask/src/evidence.rs", text);
    let found = xtask_logic(&files, &[]);
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["xtask/src/evidence.rs:4", "xtask/src/evidence.rs:5"], "{found:?}");
    // Within its allowance it passes; an allowance larger than what is left fails.
    assert!(xtask_logic(&files, &[("xtask/src/evidence.rs", "verify_chain", 1, ""), ("xtask/src/evidence.rs", "sha256_hex(", 1, "")]).is_empty());
    let stale = xtask_logic(&files, &[("xtask/src/evidence.rs", "verify_chain", 2, "why"), ("xtask/src/evidence.rs", "sha256_hex(", 1, "")]);
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(stale[0].contains("1 of 2 allowed `verify_chain`"), "{stale:?}");
    // Library crates are not held to it.
    assert!(xtask_logic(&one("crates/evidence/src/export.rs", text), &[]).is_empty());
}

#[test]
fn a_crate_or_module_missing_from_the_code_map_is_named() {
    let doc = "### `crates/a`\nModules: `x.rs`, `functions/` (collection, string).\n";
    let files = [("crates/a/src/x.rs", ""), ("crates/a/src/y.rs", ""), ("crates/a/src/lib.rs", ""), ("crates/a/src/functions/string.rs", ""), ("crates/a/src/functions/path.rs", "")]
        .map(|(r, t)| (r.to_string(), t.to_string()));
    let found = code_map_gaps(doc, &["crates/a".into(), "crates/b".into()], &files);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("`crates/b`"), "{found:?}");
    assert!(found[1].starts_with("crates/a/src/y.rs:"), "{found:?}");
    assert!(found[2].starts_with("crates/a/src/functions/path.rs:"), "{found:?}");
}

#[test]
fn an_aws_client_built_elsewhere_is_named() {
    let text = "use aws_sdk_s3::config::timeout::TimeoutConfig;\nfn c() {\n    let c = aws_sdk_s3::Client::from_conf(conf);\n    let t = TimeoutConfig::builder().build();\n    let k = aws_sdk_kms::Client::new(&shared);\n    // aws_sdk_s3::Client::new(&c) in a comment\n}\n";
    let found = aws_clients_elsewhere(&one("crates/evidence/src/s3.rs", text));
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["crates/evidence/src/s3.rs:3", "crates/evidence/src/s3.rs:4", "crates/evidence/src/s3.rs:5"], "{found:?}");
    assert!(aws_clients_elsewhere(&one("crates/platform/src/aws.rs", text)).is_empty(), "its home may build them");
}

#[test]
fn a_render_without_the_schema_is_named() {
    let text = "fn r() {\n    let o = tfrender::RenderOptions { var_files, vars: Vec::new(), schema: None };\n    let p = tfrender::render_dir(&dir, &Default::default())?;\n    let q = cache.render_dir(&dir, &lz_schema::render_options(root, v)?)?;\n}\n";
    let found = renders_without_the_schema(&one("crates/gate/src/lib.rs", text));
    let lines: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    assert_eq!(lines, ["crates/gate/src/lib.rs:2", "crates/gate/src/lib.rs:3"], "{found:?}");
    assert!(renders_without_the_schema(&one("crates/schema/src/lib.rs", text)).is_empty(), "the schema crate builds them");
}

#[test]
fn a_landing_zone_opened_by_hand_is_named() {
    let text = "fn run() {\n    // Paths::landing_zone(root, &e) in a comment\n    let p = lz_promote::Paths::landing_zone(root, &endpoint)?;\n}\n";
    let found = landing_zone_opened_by_hand(&one("xtask/src/drift.rs", text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("xtask/src/drift.rs:3: "), "{found:?}");
    assert!(landing_zone_opened_by_hand(&one("xtask/src/context.rs", text)).is_empty());
    assert!(landing_zone_opened_by_hand(&one("crates/operate/src/lib.rs", text)).is_empty(), "only xtask is held to it");
}

#[test]
fn an_invariant_naming_no_existing_test_is_named() {
    let tests: BTreeSet<String> = ["a_guard_that_exists".to_string()].into();
    let exists = |t: &str| t == "crates/x/tests/y.rs";
    let doc = "# Map\n\n**Architecture Invariant:** one, guarded by `a_guard_that_exists`.\n\n**Architecture Invariant:** two,\nby `crates/x/tests/y.rs`.\n\n**Architecture Invariant:** three, by `a_guard_that_is_gone` and `crates/x/tests/gone.rs`;\n`crates/x/src/y.rs` is no test.\n";
    let found = invariants_without_a_guard(doc, &tests, &exists);
    assert_eq!(found, vec!["ARCHITECTURE.md:8: the invariant names no test that guards it: **Architecture Invariant:** three, by `a_guard_that_is_gone` and `crates/x/tests/gone.rs`;"]);
}

#[test]
fn adoptions_judged_outside_the_gate_are_named() {
    let text = "fn decide() {\n    // adoption::admit(session) in a comment\n    let moves = lz_promote::adoption::admit(session, now)?;\n}\n";
    let found = adoptions_judged_outside_the_gate(&one("crates/operate/src/promote.rs", text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("crates/operate/src/promote.rs:3: judges the adoptions again"), "{found:?}");
    assert!(adoptions_judged_outside_the_gate(&one("crates/promote/src/gates.rs", text)).is_empty());
    let with = "fn decide() {\n    let moves = lz_promote::adoption::admit_with(&mut releases, rules, env, &records, now)?;\n}\n";
    let found = adoptions_judged_outside_the_gate(&one("crates/operate/src/promote.rs", with));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("crates/operate/src/promote.rs:2: judges the adoptions again"), "{found:?}");
    assert!(adoptions_judged_outside_the_gate(&one("crates/promote/src/adoption.rs", with)).is_empty());
}
