//! The PR gate, `cargo xtask check`: offline, no services, in a fixed order of steps. Each step
//! returns findings (exit 1) or a tool or input error (exit 2, with file:line). The
//! evidence-backed steps ([`evidence`]) read the landing zone's verified store; where none
//! answers they are NOT CHECKED, never a silent ok. xtask only parses the arguments and prints
//! the [`Outcome`].

pub mod evidence;
pub mod findings;
pub mod governance;
pub mod hygiene;

use std::path::{Path, PathBuf};

use anyhow::Result;
use lz_platform::{catalog, docs, fmt, layout, overlays, references, tools, workflows, Findings};

/// A step the gate could not run, and why.
pub struct NotChecked {
    pub step: &'static str,
    pub why: String,
    /// An evidence-backed step (no evidence store answered): `--require-evidence` turns it into
    /// a finding. The others (module tags in a checkout without tags) say their own reason.
    pub evidence: bool,
}

/// The gate's result: every step run with its findings, in order, and the steps not checked
/// (evidence-backed ones only when evidence is not required).
pub struct Outcome {
    pub steps: Vec<(&'static str, Findings)>,
    pub not_checked: Vec<NotChecked>,
}

impl Outcome {
    /// The number of findings of all steps.
    pub fn findings(&self) -> usize {
        self.steps.iter().map(|(_, f)| f.len()).sum()
    }
}

/// Every step of the gate in order; each returns findings or a tool/input error. `base` is the
/// git revision whose catalog the version-bump checks compare with (default: origin/main when it
/// exists and differs from HEAD); `require_evidence` turns a NOT CHECKED evidence step into a
/// finding.
pub fn gate(root: &Path, base: Option<&str>, require_evidence: bool) -> Result<Outcome> {
    let tf = tools::terraform(root)?;
    let base_catalog = base_catalog(root, base)?;
    let (tag_findings, tags_not_checked) = match lz_platform::module_tags::check_tags(root)? {
        Ok(f) => (f, None),
        Err(why) => (Findings::default(), Some(why)),
    };
    let mut steps = vec![
        ("terraform fmt", fmt::check(root, &tf)?),
        ("module layout", layout::check(root)?),
        ("generated docs", docs::check(root)?),
        ("catalog", catalog::check(root, base_catalog.as_ref())?),
        ("module refs", lz_platform::module_tags::check_refs(root)?),
        ("module tags", tag_findings),
        ("overlay allow-list", overlays::check(root)?),
        ("service owners", lz_platform::services::check(root)?),
        ("module pins", lz_platform::pins::check(root)?.0),
        ("terraform overrides", lz_platform::tf_overrides::check(root)?),
    ];
    steps.push(("governance", governance::findings(root)?));
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
    // One render of each environment serves the policies and the rotation schedule.
    let cache = tfrender::RenderCache::new();
    let plans = lz_platform::ENVIRONMENTS
        .iter()
        .map(|env| lz_baseline::snapshot::render_env_cached(&cache, root, env).map(|p| (env.to_string(), p)))
        .collect::<Result<Vec<_>>>()?;
    steps.push(("policies", policies(root, &plans)?));
    let mut baselines = Findings::default();
    for b in lz_baseline::snapshot::stale_baselines(root)? {
        baselines.push("baseline", Some(b.file.clone()), None, format!("approved baseline of {} is stale: {}", b.subject, b.message));
    }
    steps.push(("approved baselines", baselines));
    steps.push(("secret rotation", lz_promote::rotation::gate_findings(root, &plans, time::OffsetDateTime::now_utc())?));
    let mut not_checked = evidence_steps(root, require_evidence, &mut steps)?;
    if let Some(why) = tags_not_checked {
        not_checked.push(NotChecked { step: "module tags", why, evidence: false });
    }
    Ok(Outcome { steps, not_checked })
}

/// Appends the evidence-backed steps ([`evidence::checks`]) to `steps`: read from the landing
/// zone's evidence store when it answers. Where none does, the step is NOT CHECKED: when
/// `require` that is a finding, else it is returned (for a SKIP line and a summary that says so).
fn evidence_steps(root: &Path, require: bool, steps: &mut Vec<(&'static str, Findings)>) -> Result<Vec<NotChecked>> {
    let mut skipped = Vec::new();
    for (name, checked) in evidence::checks(root)? {
        match checked {
            evidence::Checked::Findings(f) => steps.push((name, f)),
            evidence::Checked::NotChecked(why) if require => {
                let mut f = Findings::default();
                f.push("evidence", None, None, format!("not checked: no evidence store ({why})"));
                steps.push((name, f));
            }
            evidence::Checked::NotChecked(why) => skipped.push(NotChecked { step: name, why, evidence: true }),
        }
    }
    Ok(skipped)
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
fn policies(root: &Path, plans: &[(String, serde_json::Value)]) -> Result<Findings> {
    let opts = lz_policy::Options::for_root(root);
    let policies = lz_policy::Policies::load(&opts.policies, &opts.settings)?;
    let mut out = Findings::default();
    let mut push = |env: Option<&str>, report: lz_policy::Report| {
        for (file, line, message) in findings::gate_lines(root, env, report) {
            out.push("policy", file, line, message);
        }
    };
    let each = policies.findings_each(&plans.iter().map(|(_, p)| p).collect::<Vec<_>>())?;
    for ((env, _), findings) in plans.iter().zip(each) {
        push(Some(env), lz_policy::finish(&policies, findings, env, &opts)?);
    }
    let secrets = lz_policy::scan_secrets(root)?;
    push(None, lz_policy::finish(&policies, secrets, "", &opts)?);
    Ok(out)
}

/// Every module, every module example, and the environments root.
pub fn reference_dirs(root: &Path) -> Result<Vec<PathBuf>> {
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
    let path = PathBuf::from(format!("{rev}:{}", catalog::CATALOG));
    Ok(Some(catalog::parse(&path, &text)?))
}

/// A short git command's trimmed output, or None when it fails.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = duct::cmd("git", args).dir(root).stdout_capture().stderr_null().unchecked().run().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
