//! The terratest-style run (`cargo xtask provider-e2e [--root DIR]... [--mirror]`) of real roots
//! against LocalStack with the real hashicorp/aws provider: for each root, a private working
//! copy (the root at its own path with `modules/` beside it), the generated LocalStack override
//! (every aliased provider included), an S3 backend in LocalStack, then `init`, `apply`,
//! `assert_idempotent`, and `destroy` (attempted after any failure). The report names, per
//! root, the step that failed and the lines where LocalStack said it does not support a call.
//!
//! Default roots: every module example (`modules/*/examples/*`) and the dev environment
//! (`environments` with `environments/dev/terraform.tfvars`); the provider is Terraform's own
//! (the registry, as on a CI runner). `--mirror` installs the pinned hashicorp/aws 3.39.0 from
//! `.tools/aws-provider` instead (`crate::provider`; roots written for it, such as
//! `tests/provider/fixture`). Exit 0 when every root passed, 1 when one failed, 2 on a tool or
//! input error.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::tfrun::TfDir;

/// LocalStack's ways of saying a call is not implemented.
const UNSUPPORTED: &[&str] = &["not yet implemented", "NotImplemented", "not implemented", "is not supported", "UnsupportedOperation", "StatusCode: 501"];

/// What happened to one root: the step that failed and Terraform's words, the destroy's error,
/// the lines where LocalStack said it does not support a call.
#[derive(Debug)]
pub struct RootRun {
    pub root: String,
    pub failed: Option<(String, String)>,
    pub destroyed: Result<(), String>,
    pub unsupported: Vec<String>,
}

impl RootRun {
    pub fn ok(&self) -> bool {
        self.failed.is_none() && self.destroyed.is_ok()
    }
}

/// Every module example and the environments root.
pub fn default_roots(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for m in std::fs::read_dir(root.join("modules")).context("cannot read modules/")? {
        let examples = m?.path().join("examples");
        if let Ok(entries) = std::fs::read_dir(&examples) {
            let mut ex: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
            ex.sort();
            out.extend(ex.into_iter().filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf)));
        }
    }
    out.sort();
    out.push(PathBuf::from("environments"));
    Ok(out)
}

fn slug(rel: &Path) -> String {
    rel.to_string_lossy().replace(['/', '.'], "-")
}

/// Runs every root in `roots` (paths relative to `root`); with `provider`, hashicorp/aws from
/// its mirror, otherwise Terraform's own installation. An error is a tool or input error; a
/// root that fails is a [`RootRun`] that says where.
pub fn run(root: &Path, endpoint: &str, roots: &[PathBuf], provider: Option<&crate::provider::AwsProvider>) -> Result<Vec<RootRun>> {
    let env = lz_repo::Environment::load(root, "dev")?;
    let (account, region) = (env.file.account_id.clone(), env.file.region.clone());
    let state_bucket = format!("lz-provider-e2e-{account}-{}", std::process::id());
    // Out of band by design: the provider e2e applies the checkout's own module examples and dev
    // root (the code under test, never a release) to LocalStack and records no decision, so
    // the role it acts as is the checkout's (`reach::deployer_role`, the configured aws.toml).
    let s3 = crate::reach::account(endpoint, &account, &region, &crate::reach::deployer_role("dev"), &crate::reach::session("dev"))?.s3();
    let rt = crate::aws::runtime()?;
    rt.block_on(
        s3.create_bucket()
            .bucket(&state_bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str()))
                    .build(),
            )
            .send(),
    )
    .map_err(|e| anyhow::anyhow!("{}", aws_sdk_s3::error::DisplayErrorContext(e)))
    .with_context(|| format!("cannot create the state bucket {state_bucket}"))?;
    let scratch = crate::tools::tools_dir(root).join("provider-e2e").join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&scratch);
    let mut runs = Vec::new();
    for rel in roots {
        let rel = rel.strip_prefix(root).unwrap_or(rel).to_path_buf();
        if !root.join(&rel).is_dir() {
            bail!("{}: no such root module", root.join(&rel).display());
        }
        eprintln!("provider-e2e: {}", rel.display());
        runs.push(run_root(root, &rel, &scratch, endpoint, &account, &region, &state_bucket, provider)?);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(runs)
}

/// The report: one line per root, what failed where, what LocalStack does not support.
pub fn render(runs: &[RootRun], provider: Option<&crate::provider::AwsProvider>) -> String {
    let first_error = |text: &str| text.lines().find(|l| l.contains("Error")).or(text.lines().next()).unwrap_or("").trim().to_string();
    let mut s = format!(
        "provider-e2e: {} root(s), provider {}\n",
        runs.len(),
        provider.map(|p| format!("hashicorp/aws {} (mirror)", p.version)).unwrap_or_else(|| "from the registry".into())
    );
    for r in runs {
        match &r.failed {
            None => s.push_str(&format!("  ok      {} (apply, idempotent, destroy)\n", r.root)),
            Some((step, why)) => s.push_str(&format!("  FAILED  {} at {step}: {}\n", r.root, first_error(why))),
        }
        if let Err(e) = &r.destroyed {
            s.push_str(&format!("          destroy failed: {}\n", first_error(e)));
        }
        for u in &r.unsupported {
            s.push_str(&format!("          LocalStack does not support: {u}\n"));
        }
    }
    s
}

#[allow(clippy::too_many_arguments)]
fn run_root(
    root: &Path,
    rel: &Path,
    scratch: &Path,
    endpoint: &str,
    account: &str,
    region: &str,
    state_bucket: &str,
    provider: Option<&crate::provider::AwsProvider>,
) -> Result<RootRun> {
    let work = scratch.join(slug(rel));
    copy_tree(&root.join("modules"), &work.join("modules"))?;
    let dir = work.join(rel);
    copy_tree(&root.join(rel), &dir)?;
    let major = provider.map(|p| p.major()).unwrap_or(crate::localstack_override::CURRENT_MAJOR);
    let text = crate::localstack_override::render_for(&dir, endpoint, account, region, major)?;
    std::fs::write(dir.join(crate::localstack_override::FILE_NAME), text).context("cannot write the override")?;
    let mut tf = crate::tools::terraform(root)?;
    if let Some(p) = provider {
        tf = p.terraform(&tf);
    }
    let tf = TfDir::new(&tf, &dir)
        .env("TF_DATA_DIR", dir.join(".terraform"))
        .env("AWS_ACCESS_KEY_ID", account)
        .env("AWS_SECRET_ACCESS_KEY", crate::aws::TEST_SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    let vars: Vec<String> = if rel == Path::new("environments") {
        vec![format!("-var-file={}", root.join("environments/dev/terraform.tfvars").display())]
    } else {
        Vec::new()
    };
    let mut run = RootRun { root: rel.display().to_string(), failed: None, destroyed: Ok(()), unsupported: Vec::new() };
    fn note(run: &mut RootRun, text: &str) {
        for l in text.lines().filter(|l| UNSUPPORTED.iter().any(|u| l.contains(u))) {
            let l = l.trim_start_matches(|c: char| c == '│' || c.is_whitespace()).trim().to_string();
            if !run.unsupported.contains(&l) {
                run.unsupported.push(l);
            }
        }
    }
    let init = tf.init(&[
        format!("-backend-config=bucket={state_bucket}"),
        format!("-backend-config=key={}.tfstate", slug(rel)),
        format!("-backend-config=region={region}"),
    ]);
    if let Err(e) = init {
        run.failed = Some(("init".into(), format!("{e:#}")));
        return Ok(run);
    }
    let applied = tf.apply(&[vars.clone(), vec!["-auto-approve".into()]].concat())?;
    note(&mut run, &applied.text());
    if !applied.success() {
        run.failed = Some(("apply".into(), applied.stderr.clone()));
    } else if let Err(e) = tf.assert_idempotent(&vars) {
        run.failed = Some(("assert_idempotent".into(), format!("{e:#}")));
    }
    if let Err(e) = tf.destroy(&vars) {
        let text = format!("{e:#}");
        note(&mut run, &text);
        run.destroyed = Err(text);
    }
    Ok(run)
}

/// Copies a directory tree (Terraform's own `.terraform` directories left out).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for e in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let e = e?;
        let name = e.file_name();
        if name == ".terraform" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| format!("cannot copy {}", src.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_example_and_the_environments_are_default_roots() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
        let roots = default_roots(&root).unwrap();
        assert!(roots.contains(&PathBuf::from("modules/kms-key/examples/basic")), "{roots:?}");
        assert_eq!(roots.last(), Some(&PathBuf::from("environments")));
        let examples = std::fs::read_dir(root.join("modules")).unwrap().filter(|e| e.as_ref().unwrap().path().join("examples").is_dir()).count();
        assert!(roots.len() > examples, "at least one example per module with examples: {roots:?}");
    }

    #[test]
    fn the_report_names_the_failed_step_and_what_localstack_does_not_support() {
        let runs = vec![
            RootRun { root: "a".into(), failed: None, destroyed: Ok(()), unsupported: vec![] },
            RootRun {
                root: "b".into(),
                failed: Some(("apply".into(), "\nError: creating CloudTrail: 501 not yet implemented\n".into())),
                destroyed: Err("Error: deleting bucket".into()),
                unsupported: vec!["creating CloudTrail: 501 not yet implemented".into()],
            },
        ];
        assert!(runs[0].ok() && !runs[1].ok());
        let text = render(&runs, None);
        assert!(text.contains("  ok      a (apply, idempotent, destroy)"), "{text}");
        assert!(text.contains("  FAILED  b at apply: Error: creating CloudTrail"), "{text}");
        assert!(text.contains("destroy failed: Error: deleting bucket"), "{text}");
        assert!(text.contains("LocalStack does not support: creating CloudTrail: 501 not yet implemented"), "{text}");
    }
}
