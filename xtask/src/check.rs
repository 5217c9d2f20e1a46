//! `cargo xtask check`: the PR gate, offline, no services. Exit 0 clean, 1 findings, 2 tool or
//! input error (with file:line).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_platform::{catalog, docs, fmt, layout, overlays, references, tools, workflows, Findings};

#[derive(clap::Args)]
pub struct Args {
    /// Git revision whose catalog is the base for version-bump checks (default: origin/main
    /// when it exists and differs from HEAD)
    #[arg(long)]
    base: Option<String>,
    /// Fail (rather than report "not checked") when the landing zone's evidence store does not
    /// answer: the overdue-rotation and break-glass-retrospective checks read it, never a local
    /// cache. Pipelines that gate the landing zone pass it
    #[arg(long)]
    require_evidence: bool,
}

/// A step the gate could not run, and why.
pub type NotChecked = (&'static str, String);

/// Every step of the gate in order; each returns findings or a tool/input error.
pub fn gate(root: &Path, base: Option<&str>, require_evidence: bool) -> Result<(Vec<(&'static str, Findings)>, Vec<NotChecked>)> {
    let tf = tools::terraform(root)?;
    let base_catalog = base_catalog(root, base)?;
    let mut steps = vec![
        ("terraform fmt", fmt::check(root, &tf)?),
        ("module layout", layout::check(root)?),
        ("generated docs", docs::check(root)?),
        ("catalog", catalog::check(root, base_catalog.as_ref())?),
        ("overlay allow-list", overlays::check(root)?),
    ];
    steps.push(("governance", lz_promote::gate::findings(root)?));
    steps.push(("provider schema", provider_schema(root)?));
    let mut refs = Findings::default();
    for dir in reference_dirs(root)? {
        refs.extend(references::check_module(&dir)?);
    }
    for f in refs.0.iter_mut() {
        if let Some(p) = &f.file {
            f.file = Some(p.strip_prefix(root).unwrap_or(p).to_path_buf());
        }
    }
    steps.push(("references", refs));
    steps.push(("workflows (actionlint)", workflows::check(root)?));
    steps.push(("policies", policies(root)?));
    let mut baselines = Findings::default();
    for b in lz_baseline::snapshot::stale_baselines(root)? {
        baselines.push("baseline", Some(b.file.clone()), None, format!("approved baseline of {} is stale: {}", b.subject, b.message));
    }
    steps.push(("approved baselines", baselines));
    steps.push(("secret rotation", secret_rotation(root)?));
    let not_checked = crate::check_evidence::steps(root, require_evidence, &mut steps)?;
    Ok((steps, not_checked))
}

/// Every aws_* type used is in the vendored schema (a finding names the import command), and
/// every module, example and the environments root validate against it: a schema error is an
/// input error (exit 2) listing each with file:line:col and Terraform's wording.
fn provider_schema(root: &Path) -> Result<Findings> {
    let mut out = Findings::default();
    for u in lz_schema::missing_types(root)? {
        out.push(
            "provider schema",
            Some(u.file.clone()),
            Some(u.line),
            format!("{} is not in the vendored provider schema {}: run {}", u.ty, lz_schema::VENDORED, lz_schema::IMPORT_COMMAND),
        );
    }
    let errors = lz_schema::validate_dirs(root, &reference_dirs(root)?)?;
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::bail!("the configuration does not validate against the AWS provider schema:\n{}", lines.join("\n"));
    }
    Ok(out)
}

/// Every environment's rendered plan through every policy, honouring the exceptions register,
/// plus the secret scan of overlays and module sources.
fn policies(root: &Path) -> Result<Findings> {
    let opts = lz_policy::Options::for_root(root);
    let policies = lz_policy::Policies::load(&opts.policies, &opts.settings)?;
    let mut out = Findings::default();
    let mut push = |env: Option<&str>, report: lz_policy::Report| {
        for (file, line, message) in crate::policy::gate_lines(root, env, report) {
            out.push("policy", file, line, message);
        }
    };
    let plans = lz_platform::ENVIRONMENTS.iter().map(|env| crate::plan::render_env(root, env)).collect::<Result<Vec<_>>>()?;
    let each = policies.findings_each(&plans.iter().collect::<Vec<_>>())?;
    for (env, findings) in lz_platform::ENVIRONMENTS.iter().zip(each) {
        push(Some(env), lz_policy::finish(&policies, findings, env, &opts)?);
    }
    let secrets = lz_policy::scan_secrets(root)?;
    push(None, lz_policy::finish(&policies, secrets, "", &opts)?);
    Ok(out)
}

/// Every secret of every environment's plan has a rotation policy entry and a schedule within its
/// maximum age (whether one is overdue: [`crate::check_evidence`]).
fn secret_rotation(root: &Path) -> Result<Findings> {
    let mut plans = Vec::new();
    for env in lz_platform::ENVIRONMENTS {
        plans.push((env.to_string(), crate::plan::render_env(root, env)?));
    }
    lz_promote::rotation::gate_findings(root, &plans, time::OffsetDateTime::now_utc())
}

/// Every module, every module example, and the environments root.
pub fn reference_dirs(root: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut dirs = vec![root.join("environments")];
    for dir in catalog::module_dirs(root)?.into_values() {
        let example = dir.join("examples/basic");
        dirs.push(dir);
        if example.is_dir() {
            dirs.push(example);
        }
    }
    Ok(dirs)
}

fn base_catalog(root: &Path, base: Option<&str>) -> Result<Option<catalog::Catalog>> {
    let rev = match base {
        Some(b) => b.to_string(),
        None => {
            let head = git(root, &["rev-parse", "HEAD"]);
            let main = git(root, &["rev-parse", "--verify", "--quiet", "origin/main"]);
            match (head, main) {
                (Some(h), Some(m)) if h != m => m,
                _ => return Ok(None),
            }
        }
    };
    let Some(text) = git(root, &["show", &format!("{rev}:{}", catalog::CATALOG)]) else {
        return Ok(None);
    };
    let path = std::path::PathBuf::from(format!("{rev}:{}", catalog::CATALOG));
    Ok(Some(catalog::parse(&path, &text)?))
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let sh = crate::sh::at(root).ok()?;
    xshell::cmd!(sh, "git {args...}").quiet().ignore_stderr().read().ok().map(|s| s.trim().to_string())
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let (steps, not_checked) = gate(root, args.base.as_deref(), args.require_evidence)?;
    let mut total = 0;
    for (name, findings) in &steps {
        if findings.is_empty() {
            println!("ok   {name}");
        } else {
            println!("FAIL {name} ({} finding{})", findings.len(), if findings.len() == 1 { "" } else { "s" });
            for f in findings.iter() {
                println!("     {f}");
            }
        }
        total += findings.len();
    }
    for (name, why) in &not_checked {
        println!("SKIP {name}: not checked: no evidence store ({why}); `--require-evidence` fails on this");
    }
    if total == 0 && !not_checked.is_empty() {
        println!("check: clean, {} evidence-backed check(s) not checked (no evidence store)", not_checked.len());
        Ok(ExitCode::SUCCESS)
    } else if total == 0 {
        println!("check: clean");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("check: {total} finding{}", if total == 1 { "" } else { "s" });
        Ok(ExitCode::from(1))
    }
}
