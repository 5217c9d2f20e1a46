//! The reference side: real Terraform on a temporary copy of a fixture.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::fixture::Fixture;

/// An error diagnostic Terraform reported.
#[derive(Clone, Debug)]
pub struct TfDiagnostic {
    pub summary: String,
    pub detail: String,
    /// Filename as Terraform prints it (relative to the fixture) and start line, if any.
    pub range: Option<(String, usize)>,
}

#[derive(Debug)]
pub enum TfOutcome {
    /// `terraform show -json` of the saved plan.
    Plan(Value),
    /// The plan failed with these errors (at least one), in Terraform's order.
    Failed(Vec<TfDiagnostic>),
}

/// Runs `init -json`, `plan -json -out` and `show -json` in a temporary copy of the fixture.
/// `Err` means the harness itself could not produce a result.
pub fn run(tf: &lz_platform::tools::Terraform, fixture: &Fixture) -> Result<TfOutcome, String> {
    let temp = tempfile::tempdir().map_err(|e| format!("creating a temporary directory: {e}"))?;
    let work = temp.path();
    copy_tree(&fixture.dir, work)?;
    let chdir = format!("-chdir={}", work.display());

    // Errors Terraform finds while loading the configuration (every missing argument of
    // every module call...) fail `init` already: they are the reference then.
    let init = execute(tf, &[chdir.as_str(), "init", "-input=false", "-no-color", "-json"])?;
    if !init.status.success() {
        let errors = all_errors(&String::from_utf8_lossy(&init.stdout));
        return (!errors.is_empty()).then_some(TfOutcome::Failed(errors)).ok_or_else(|| {
            format!(
                "terraform init failed without an error diagnostic: {}",
                String::from_utf8_lossy(&init.stderr).trim()
            )
        });
    }

    let mut plan_args: Vec<String> = vec![
        chdir.clone(),
        "plan".into(),
        "-input=false".into(),
        "-json".into(),
        "-out=differential.tfplan".into(),
    ];
    plan_args.extend(fixture.var_files.iter().map(|f| format!("-var-file={f}")));
    plan_args.extend(fixture.vars.iter().map(|(k, v)| format!("-var={k}={v}")));
    let plan = execute(tf, &plan_args)?;
    if !plan.status.success() {
        let stdout = String::from_utf8_lossy(&plan.stdout);
        let errors = all_errors(&stdout);
        return (!errors.is_empty()).then_some(TfOutcome::Failed(errors)).ok_or_else(|| {
            format!(
                "terraform plan failed without an error diagnostic: {}",
                String::from_utf8_lossy(&plan.stderr).trim()
            )
        });
    }

    let show = execute(
        tf,
        &[chdir.as_str(), "show", "-json", "differential.tfplan"],
    )?;
    if !show.status.success() {
        return Err(format!(
            "terraform show failed: {}",
            String::from_utf8_lossy(&show.stderr).trim()
        ));
    }
    let text = String::from_utf8(show.stdout)
        .map_err(|e| format!("terraform show -json printed invalid UTF-8: {e}"))?;
    let json = parse_with_exact_numbers(&text)
        .map_err(|e| format!("parsing terraform show -json: {e}"))?;
    Ok(TfOutcome::Plan(json))
}

fn execute<S: AsRef<str>>(
    tf: &lz_platform::tools::Terraform,
    args: &[S],
) -> Result<std::process::Output, String> {
    let display: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let mut expression = tf.command(args);
    // The fixture alone decides the inputs: nothing from the caller's environment.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("TF_VAR_") || key.starts_with("TF_CLI_ARGS") || key == "TF_WORKSPACE" {
            expression = expression.env_remove(key.into_owned());
        }
    }
    expression
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("running {} {}: {e}", tf.path.display(), display.join(" ")))
}

/// Marks a number token that was carried through parsing as a string.
const NUMBER_MARK: &str = "\u{0}differential-number\u{0}";

/// Terraform prints numbers with up to 512 bits of precision (`1/3` has 155 digits). The
/// renderer returns a `serde_json::Value`, which holds at most an `f64`, and serde_json's own
/// parser does not round long decimals correctly. So every number that is not an `i64`/`u64`
/// integer is parsed here to the nearest `f64` (Rust's parser rounds correctly); integers stay
/// exact.
pub fn parse_with_exact_numbers(text: &str) -> Result<Value, String> {
    let mut marked = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((start, c)) = chars.next() {
        if in_string {
            marked.push(c);
            if c == '\\' {
                if let Some((_, escaped)) = chars.next() {
                    marked.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            marked.push(c);
            continue;
        }
        if c == '-' || c.is_ascii_digit() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, n)) = chars.peek() {
                if n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-') {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let token = &text[start..end];
            if token.parse::<i64>().is_ok() || token.parse::<u64>().is_ok() {
                marked.push_str(token);
            } else {
                marked.push('"');
                marked.push_str(&NUMBER_MARK.replace('\u{0}', "\\u0000"));
                marked.push_str(token);
                marked.push('"');
            }
            continue;
        }
        marked.push(c);
    }
    let mut value: Value = serde_json::from_str(&marked).map_err(|e| e.to_string())?;
    unmark_numbers(&mut value)?;
    Ok(value)
}

fn unmark_numbers(value: &mut Value) -> Result<(), String> {
    match value {
        Value::String(s) => {
            if let Some(token) = s.strip_prefix(NUMBER_MARK) {
                let number: f64 = token.parse().map_err(|e| format!("number {token}: {e}"))?;
                *value = serde_json::Number::from_f64(number)
                    .map(Value::Number)
                    .ok_or_else(|| format!("number {token} is not finite"))?;
            }
        }
        Value::Array(items) => items.iter_mut().try_for_each(unmark_numbers)?,
        Value::Object(map) => map.values_mut().try_for_each(unmark_numbers)?,
        _ => {}
    }
    Ok(())
}

fn all_errors(json_lines: &str) -> Vec<TfDiagnostic> {
    let mut out = Vec::new();
    for line in json_lines.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["type"] != "diagnostic" || message["diagnostic"]["severity"] != "error" {
            continue;
        }
        let diag = &message["diagnostic"];
        let range = diag["range"]["filename"].as_str().and_then(|file| {
            let line = diag["range"]["start"]["line"].as_u64()?;
            Some((file.to_string(), line as usize))
        });
        out.push(TfDiagnostic {
            summary: diag["summary"].as_str().unwrap_or_default().to_string(),
            detail: diag["detail"].as_str().unwrap_or_default().to_string(),
            range,
        });
    }
    out
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let source = entry.path();
        let name = entry.file_name();
        if name == ".terraform.lock.hcl" {
            continue;
        }
        if name == ".terraform" {
            // Only the modules a fixture carries as if `terraform init` had installed them.
            let modules = source.join("modules");
            if modules.is_dir() {
                let target = to.join(".terraform").join("modules");
                fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
                copy_tree(&modules, &target)?;
            }
            continue;
        }
        let target = to.join(&name);
        if source.is_dir() {
            fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
            copy_tree(&source, &target)?;
        } else {
            fs::copy(&source, &target).map_err(|e| format!("copying {}: {e}", source.display()))?;
        }
    }
    Ok(())
}
