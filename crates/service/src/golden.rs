//! The golden path, driven end to end through the shipped binary: a fresh checkout, a new
//! service, `check`, a release, and its promotion to dev in a rehearsal (test identities and
//! stores of its own, against LocalStack). `cargo xtask bench golden-path` times it; the test
//! `xtask/tests/golden_path.rs` runs it and checks what it left in the evidence.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// The service the path adds.
pub const SERVICE: &str = "fx-pricing";
/// Goal for the whole path from a built binary, in seconds.
pub const GOAL_SECONDS: f64 = 120.0;

/// One command of the path.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub name: String,
    pub args: Vec<String>,
    pub code: i32,
    pub seconds: f64,
    /// stdout then stderr.
    pub output: String,
}

/// A run of the path.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub checkout: PathBuf,
    /// Rehearsal set-up (identities, keys, stores): not part of a service team's path.
    pub setup: Vec<Step>,
    /// What a service team runs: service new, check, release, approvals, promote.
    pub path: Vec<Step>,
    pub digest: Option<String>,
    pub path_seconds: f64,
    /// The checkout's files (those copied from the repository) that the path changed: what a
    /// reviewer sees in the change, all written by the commands.
    pub changed: Vec<String>,
}

impl Run {
    pub fn failed(&self) -> Option<&Step> {
        self.setup.iter().chain(&self.path).find(|s| s.code != 0)
    }
}

/// A fresh checkout: the repository's files as git lists them (tracked, and untracked but not
/// ignored), with the bootstrapped tools of `.tools/` linked rather than copied.
pub fn checkout(root: &Path, dir: &Path) -> Result<()> {
    copy_files(root, dir)?;
    std::fs::create_dir_all(dir.join(".tools"))?;
    for tool in ["bin", "terraform-venv", "localstack-venv", "terraformrc", "plugin-cache"] {
        let from = root.join(".tools").join(tool);
        if from.exists() {
            std::os::unix::fs::symlink(&from, dir.join(".tools").join(tool)).with_context(|| format!("linking .tools/{tool}"))?;
        }
    }
    Ok(())
}

/// The repository's files as git lists them, copied into `dir` (no tools).
pub fn copy_files(root: &Path, dir: &Path) -> Result<()> {
    for rel in files(root)? {
        let rel = rel.as_str();
        let (from, to) = (root.join(rel), dir.join(rel));
        if from.is_file() {
            std::fs::create_dir_all(to.parent().context("a file has a parent")?)?;
            std::fs::copy(&from, &to).with_context(|| format!("copying {rel}"))?;
        }
    }
    Ok(())
}

/// The repository's files as git lists them (tracked, and untracked but not ignored).
fn files(root: &Path) -> Result<Vec<String>> {
    let out = duct::cmd!("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        .stdout_capture()
        .read()
        .with_context(|| format!("listing the files of {}", root.display()))?;
    Ok(out.split('\0').filter(|s| !s.is_empty()).map(str::to_string).collect())
}

fn contents(dir: &Path, files: &[String]) -> Vec<Option<Vec<u8>>> {
    files.iter().map(|f| std::fs::read(dir.join(f)).ok()).collect()
}

fn step(bin: &Path, dir: &Path, name: &str, args: &[String]) -> Result<Step> {
    let started = Instant::now();
    let out = duct::cmd(bin, args)
        .env("LZ_ROOT", dir)
        .env("CI", "true")
        .env_remove("LZ_SIGNING_KEY")
        .env_remove("LZ_POLICY_KEY")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .with_context(|| format!("running {} {}", bin.display(), args.join(" ")))?;
    Ok(Step {
        name: name.to_string(),
        args: args.to_vec(),
        code: out.status.code().unwrap_or(-1),
        seconds: started.elapsed().as_secs_f64(),
        output: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    })
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Runs the path with the binary `bin` in a fresh checkout of `root` made in `dir`, keys in
/// `keys` (outside the checkout). Stops at the first command that fails; [`Run::failed`] names it.
pub fn run(root: &Path, bin: &Path, dir: &Path, keys: &Path) -> Result<Run> {
    if keys.starts_with(dir) {
        bail!("the keys directory must be outside the checkout");
    }
    checkout(root, dir)?;
    let key = |who: &str| keys.join(format!("{who}.key")).display().to_string();
    let mut run =
        Run { checkout: dir.to_path_buf(), setup: Vec::new(), path: Vec::new(), digest: None, path_seconds: 0.0, changed: Vec::new() };
    let setup: Vec<(&str, Vec<String>)> = vec![
        ("rehearsal setup", s(&["rehearsal", "setup", "--keys", &keys.display().to_string()])),
        ("evidence stores", s(&["bootstrap", "--stores", "--as", "bob", "--key", &key("bob")])),
    ];
    for (name, args) in setup {
        let st = step(bin, dir, name, &args)?;
        let failed = st.code != 0;
        run.setup.push(st);
        if failed {
            return Ok(run);
        }
    }
    let tracked = files(root)?;
    let before = contents(dir, &tracked);
    let started = Instant::now();
    let gh = dir.join(".golden-path-output");
    let mut plan: Vec<(&str, Vec<String>)> = vec![
        (
            "service new",
            s(&[
                "service",
                "new",
                SERVICE,
                "--env",
                "dev",
                "--tier",
                "trading",
                "--owner",
                "trading-technology",
                "--secret",
                "fx-api-key=feed-api-key",
            ]),
        ),
        ("check", s(&["check"])),
        (
            "release build",
            s(&[
                "release",
                "build",
                "--author",
                "alice",
                "--ticket",
                "CHG-2042",
                "--reason",
                "new service fx-pricing",
                // The checkout is a copy, not a git clone, and the change is not committed:
                // the manifest records that the release was built with --allow-dirty.
                "--allow-dirty",
                "--github-output",
                &gh.display().to_string(),
            ]),
        ),
    ];
    let mut i = 0;
    while i < plan.len() {
        let (name, args) = plan[i].clone();
        let st = step(bin, dir, name, &args)?;
        let failed = st.code != 0;
        run.path.push(st);
        if failed {
            break;
        }
        if name == "release build" {
            let text = std::fs::read_to_string(&gh).with_context(|| format!("reading {}", gh.display()))?;
            let digest = text.lines().find_map(|l| l.strip_prefix("digest=")).context("release build wrote no digest")?.trim().to_string();
            let d = digest.as_str();
            let approve = |who: &str| s(&["approve", "--release", d, "--env", "dev", "--as", who, "--key", &key(who), "--reason", "new service reviewed"]);
            plan.extend([
                ("release publish", s(&["release", "publish", "--release", d, "--as", "alice", "--key", &key("alice")])),
                ("exceptions approve", s(&["exceptions", "approve", "--release", d, "--as", "bob", "--key", &key("bob")])),
                ("pin dev", s(&["bootstrap", "--env", "dev", "--pin", d, "--as", "bob", "--key", &key("bob")])),
                ("approve (bob)", approve("bob")),
                ("approve (erin)", approve("erin")),
                (
                    "promote dev",
                    s(&[
                        "promote",
                        "--release",
                        d,
                        "--to",
                        "dev",
                        "--as",
                        "deployer-bot",
                        "--key",
                        &key("deployer-bot"),
                        "--policy-key",
                        &key("change-policy-dev"),
                    ]),
                ),
            ]);
            run.digest = Some(digest);
        }
        i += 1;
    }
    run.path_seconds = started.elapsed().as_secs_f64();
    let after = contents(dir, &tracked);
    run.changed = tracked.into_iter().zip(before.iter().zip(&after)).filter(|(_, (b, a))| b != a).map(|(f, _)| f).collect();
    Ok(run)
}
